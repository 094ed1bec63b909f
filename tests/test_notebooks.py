"""Notebooks are thin, complete, and their stored outputs are safe to publish.

nbval (``make test``) re-executes every notebook and compares outputs; these tests check
the conventions nbval cannot see.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "00-context.ipynb",
    "01-corpus.ipynb",
    "02-coding.ipynb",
    "03-themes.ipynb",
    "04-topic-check.ipynb",
    "05-figures-and-appendix.ipynb",
    "howto-code-in-the-notebook.ipynb",
    "howto-import-a-survey.ipynb",
    "howto-several-coders.ipynb",
    "howto-your-own-study.ipynb",
]


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_every_expected_notebook_exists():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_prints_versions_under_ignore(path):
    first = _code_cells(path)[0].source
    assert first.splitlines()[0].strip() == "# NBVAL_IGNORE_OUTPUT"
    assert "show_versions()" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path):
    for i, cell in enumerate(_code_cells(path), 1):
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef
                                                        | ast.AsyncFunctionDef | ast.Lambda)]
        assert not defs, f"{path.name} cell {i} defines {type(defs[0]).__name__}"
        assert len(cell.source.splitlines()) <= 15, f"{path.name} cell {i} is long"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_was_executed_in_order(path):
    counts = [c.execution_count for c in _code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: run `thematic reproduce`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_hold_nothing_volatile_or_local(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"0x[0-9a-f]{6,}", text), "memory address in outputs"
    for local in ("/work/", "/home/", "/root/", "/tmp/", "site-packages"):
        assert local not in text, f"{path.name} stores a local path ({local})"
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        assert "execution" not in cell.metadata
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{path.name} stores an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_claims_the_method_does_not_support(path):
    prose = " ".join(c.source for c in nbformat.read(path, as_version=4).cells).lower()
    assert "themes emerged" not in prose and "themes emerge " not in prose
    assert not re.search(r"\bvalidat(es|ed) (the|our) (themes|coding|analysis)", prose)
