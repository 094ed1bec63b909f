"""``thematic figures``: every data-only figure, byte-identical on re-run, one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thematic.cli import main
from thematic.figures import write_figures

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = [
    "thematic_map",
    "section_map_racially_minoritised_caucus",
    "section_map_white_caucus",
    "section_map_facilitators",
    "section_map_inter_caucus",
    "theme_by_group",
    "wres_indicators",
    "talking_therapies_recovery",
]


@pytest.fixture()
def project(tmp_path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    return tmp_path


def test_cli_writes_every_figure_and_rerun_is_byte_identical(project, capsys):
    assert main(["figures", "--root", str(project)]) == 0
    printed = capsys.readouterr().out.split()
    expected = [f"figures/{n}.{ext}" for n in EXPECTED for ext in ("svg", "png", "pdf")]
    assert printed == expected
    first = {p: (project / p).read_bytes() for p in printed}
    again = write_figures(project)
    assert [str(p.relative_to(project)) for p in again] == expected
    assert {p: (project / p).read_bytes() for p in printed} == first
    assert sorted(p.name for p in (project / "figures").iterdir()) == sorted(
        Path(p).name for p in expected)


def test_cli_help_says_where_the_heatmap_comes_from(capsys):
    assert main(["figures", "--help"]) == 0
    out = capsys.readouterr().out
    assert "heatmap" in out and "notebook" in out


def test_cli_missing_codebook_is_one_line_error(project, capsys):
    (project / "corpus" / "coding" / "codebook.yaml").unlink()
    assert main(["figures", "--root", str(project)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("thematic: error:") and "codebook" in err and "\n" not in err
    assert not (project / "figures").exists()
