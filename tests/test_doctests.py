"""Run every ``Examples`` section of the package as a doctest (one test per docstring).

The examples start from :func:`thematic.examples.load` (SYNTHETIC data), so each is a few
lines and runs anywhere. Modules whose examples need an extra carry its marker: the
``topics`` ones are deselected by the Python 3.13 core run (``-m "not topics"``), and the
``scale`` one (Dask) runs where Dask is installed, like ``test_distributed.py``.

Options: ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE`` (as numpy and scipy run theirs); each
docstring runs in a fresh working directory with its module's globals, and the figures it
draws are closed afterwards.
"""

from __future__ import annotations

import copy
import doctest
import importlib
import importlib.util
import pkgutil
import sys
from functools import cache

import pandas as pd
import pytest

import thematic

#: Modules whose examples need an extra: the marker (and the module it must import).
EXTRAS: dict[str, tuple[str, str]] = {
    "thematic.topics": ("topics", "bertopic"),
    "thematic.embeddings": ("topics", "sentence_transformers"),
    "thematic.compare": ("topics", "bertopic"),
    "thematic.distributed": ("scale", "dask.distributed"),
}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    names = ["thematic"]
    for info in pkgutil.walk_packages(thematic.__path__, "thematic."):
        if info.name.rpartition(".")[2] != "__main__":  # importing it runs the command
            names.append(info.name)
    return sorted(set(names))


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@cache
def _tests(module_name: str) -> dict[str, doctest.DocTest]:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return {t.name: t for t in finder.find(module, module_name) if t.examples}


def _params() -> list:
    params = []
    for name in _module_names():
        marks = []
        extra = EXTRAS.get(name)
        if extra is not None:
            # every optional extra (topics, scale) is deselected by the core's 3.13 run
            # with -m "not topics"; on 3.11 (`make test`) every extra is installed
            marks.append(pytest.mark.topics)
            if not _available(extra[1]):
                # the extra is not installed here: its examples cannot be collected
                params.append(pytest.param(name, None, marks=marks, id=name))
                continue
        for test_name in sorted(_tests(name)):
            params.append(pytest.param(name, test_name, marks=marks, id=test_name))
    return params


@pytest.mark.parametrize(("module_name", "test_name"), _params())
def test_docstring_example(module_name, test_name, tmp_path, monkeypatch):
    if test_name is None:
        marker, needs = EXTRAS[module_name]
        pytest.fail(f"{module_name}'s examples need the {marker!r} extra ({needs} is not "
                    "installed): install thematic[all] or deselect with -m 'not topics'")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    found = _tests(module_name)[test_name]
    test = copy.copy(found)
    test.globs = dict(found.globs)  # a fresh namespace each run
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    try:
        # pandas' defaults outside a terminal, whatever the width of the one running the tests
        with pd.option_context("display.width", 80, "display.max_columns", 20):
            result = runner.run(test, out=report.append, clear_globs=True)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    if result.failed:
        pytest.fail("".join(report), pytrace=False)


def test_every_listed_call_has_an_example():
    """The calls a researcher uses first each carry a runnable example."""
    wanted = [
        ("thematic.project", "thematic.project.Project.create"),
        ("thematic.project", "thematic.project.Project.open"),
        ("thematic.project", "thematic.project.Project.search"),
        ("thematic.project", "thematic.project.Project.code"),
        ("thematic.project", "thematic.project.Project.code_matches"),
        ("thematic.project", "thematic.project.Project.retrieve"),
        ("thematic.project", "thematic.project.Project.add_theme"),
        ("thematic.project", "thematic.project.Project.move_code"),
        ("thematic.project", "thematic.project.Project.merge_codes"),
        ("thematic.project", "thematic.project.Project.rename_code"),
        ("thematic.project", "thematic.project.Project.save_version"),
        ("thematic.project", "thematic.project.Project.diff"),
        ("thematic.project", "thematic.project.Project.undo"),
        ("thematic.project", "thematic.project.Project.check"),
        ("thematic.project", "thematic.project.Project.summary"),
        ("thematic.project", "thematic.project.Project.codes"),
        ("thematic.project", "thematic.project.Project.themes"),
        ("thematic.project", "thematic.project.Project.write_figures"),
        ("thematic.project", "thematic.project.Project.write_appendix"),
        ("thematic.project", "thematic.project.Project.write_refi"),
        ("thematic.codebook", "thematic.codebook.read_codebook"),
        ("thematic.coding", "thematic.coding.read_codings"),
        ("thematic.coding", "thematic.coding.validate_codings"),
        ("thematic.ingest", "thematic.ingest.read_export"),
        ("thematic.clean", "thematic.clean.clean_responses"),
        ("thematic.clean", "thematic.clean.analysable"),
        ("thematic.clean", "thematic.clean.segment"),
        ("thematic.deidentify", "thematic.deidentify.deidentify_responses"),
        ("thematic.deidentify", "thematic.deidentify.deidentify_text"),
        ("thematic.deidentify", "thematic.deidentify.name_candidates"),
        ("thematic.deidentify", "thematic.deidentify.safe_table"),
        ("thematic.survey", "thematic.survey.prepare_export"),
        ("thematic.figures", "thematic.figures.plot_thematic_map"),
        ("thematic.figures", "thematic.figures.plot_theme_by_group"),
        ("thematic.figures", "thematic.figures.write_figure"),
        ("thematic.refi.read", "thematic.refi.read.read_qdpx"),
        ("thematic.examples", "thematic.examples.load"),
    ]
    missing = [name for module, name in wanted if name not in _tests(module)]
    assert not missing, f"no runnable Examples section: {missing}"
