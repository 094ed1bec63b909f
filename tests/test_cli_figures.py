"""``thematic figures --project``: every data-only figure of a study, byte-identical on re-run,
one-line errors; the published study's figures as committed, another study's without its
context figures or wording."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from thematic.cli import main

ROOT = Path(__file__).resolve().parents[1]
STUDY = Path(__file__).parent / "data" / "figures" / "synthetic_study"
SVG = "{http://www.w3.org/2000/svg}"

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
STAFF_GROUPS = ["Nursing", "Medical and dental staff including trainees",
                "Administrative and clerical", "Allied health professionals",
                "Estates and facilities", "Healthcare support workers", "Senior leadership"]


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the published study (settings and corpus)."""
    root = tmp_path / "published"
    root.mkdir()
    shutil.copy(ROOT / "thematic.yaml", root / "thematic.yaml")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    return root


@pytest.fixture()
def staff_study(tmp_path) -> Path:
    """A SYNTHETIC study with seven staff groups, written as a study folder."""
    from thematic.settings import StudySettings, write_settings

    root = tmp_path / "staff"
    for sub in ("corpus/processed", "corpus/coding", "corpus/raw", "corpus/memos"):
        (root / sub).mkdir(parents=True)
    write_settings(StudySettings(title="Synthetic staff survey", group_label="staff group",
                                 groups=("Nursing",), unit="response", coder="researcher"),
                   root)
    shutil.copy(STUDY / "responses.csv", root / "corpus/processed/responses.csv")
    shutil.copy(STUDY / "codebook.yaml", root / "corpus/coding/codebook.yaml")
    shutil.copy(STUDY / "codings.csv", root / "corpus/coding/codings.csv")
    return root


def _svg_text(path: Path) -> str:
    return " ".join((t.text or "") for t in ET.parse(path).getroot().iter(f"{SVG}text"))


def test_cli_writes_every_figure_as_committed_and_rerun_is_byte_identical(project, capsys):
    assert main(["figures", "--project", str(project)]) == 0
    printed = capsys.readouterr().out.split()
    expected = [f"figures/{n}.{ext}" for n in EXPECTED for ext in ("svg", "png", "pdf")]
    assert printed == expected
    first = {p: (project / p).read_bytes() for p in printed}
    for p in printed:  # the published study's figures are the committed ones
        if p.endswith(".svg"):
            assert first[p] == (ROOT / p).read_bytes(), p
    assert main(["figures", "--project", str(project)]) == 0
    assert {p: (project / p).read_bytes() for p in printed} == first
    assert sorted(p.name for p in (project / "figures").iterdir()) == sorted(
        Path(p).name for p in expected)


def test_cli_figures_of_another_study_name_its_groups_and_nothing_of_the_published(
        staff_study, capsys):
    assert main(["figures", "--project", str(staff_study)]) == 0
    printed = capsys.readouterr().out.split()
    stems = list(dict.fromkeys(Path(p).stem for p in printed))
    assert stems == ["thematic_map", "section_map_workload_and_time", "theme_by_group"]
    text = " ".join(_svg_text(staff_study / "figures" / "theme_by_group.svg").split())
    for g in STAFF_GROUPS:
        assert all(w in text for w in g.split()), g
    assert "Staff group of the respondent:" in text
    for svg in (staff_study / "figures").glob("*.svg"):
        t = _svg_text(svg)
        assert "caucus" not in t.lower() and "as published" not in t and "Member" not in t


def test_cli_missing_codebook_is_one_line_error(project, capsys):
    (project / "corpus" / "coding" / "codebook.yaml").unlink()
    assert main(["figures", "--project", str(project)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("thematic: error:") and "codebook" in err and "\n" not in err
    assert not (project / "figures").exists()


def test_cli_missing_context_table_is_one_line_error_and_writes_nothing(project, capsys):
    (project / "corpus" / "context" / "wres_indicators.csv").unlink()
    assert main(["figures", "--project", str(project)]) == 1
    err = capsys.readouterr().err.strip()
    assert "wres_indicators.csv" in err and "\n" not in err
    assert not (project / "figures").exists()
