"""The study layer: create/open a study, code, develop themes, versions, undo, check."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pandas as pd
import pytest
import yaml

from thematic.codebook import read_codebook
from thematic.errors import InputError
from thematic.project import Project, find_study_root
from thematic.settings import SETTINGS_FILE, read_settings

TEXTS = {
    "R1": "I felt unheard by my manager and unheard again in the team meeting.",
    "R2": "Training was useful and my colleagues were kind.",
    "R3": "n/a",
    "R4": "Rotas come out late so I cannot plan childcare.",
}


def _responses() -> pd.DataFrame:
    return pd.DataFrame({
        "response_id": list(TEXTS),
        "respondent_id": ["a", "b", "c", "d"],
        "question": ["q"] * 4,
        "group": ["Nursing", "Admin", "Nursing", "Estates"],
        "text": list(TEXTS.values()),
        "exclude": [False, False, True, False],
    })


@pytest.fixture
def study(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "study", title="Synthetic study", group_label="staff group",
                       groups=["Nursing", "Admin"])
    p.import_responses(_responses())
    return p


def test_create_lays_out_a_study_and_refuses_to_overwrite(tmp_path: Path) -> None:
    root = tmp_path / "s"
    p = Project.create(root, title="T")
    for rel in ("corpus/raw", "corpus/processed", "corpus/coding/codebook.yaml",
                "corpus/coding/codings.csv", "corpus/memos", "figures", "appendix",
                SETTINGS_FILE, "notebooks/01-familiarise.ipynb"):
        assert (root / rel).exists(), rel
    assert read_settings(root).title == "T"
    assert p.codebook.codes() == [] and p.codebook.sections == []
    with pytest.raises(InputError, match="already exists"):
        Project.create(root, title="again")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        Project.create(tmp_path / "busy", title="T")
    assert (tmp_path / "busy" / "x.txt").read_text() == "keep me"


def test_starter_notebooks_are_what_nbformat_writes(tmp_path: Path) -> None:
    import nbformat

    p = Project.create(tmp_path / "s", title="Études « T » 💬", group_label="staff group")
    written = sorted((p.root / "notebooks").glob("*.ipynb"))
    assert len(written) == 4
    for path in written:
        raw = path.read_text(encoding="utf-8")
        nb = nbformat.reads(raw, as_version=4)
        nbformat.validate(nb)
        assert nbformat.writes(nb) + "\n" == raw  # the layout nbformat itself writes
        assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert "Études « T » 💬" in (p.root / "notebooks" / "01-familiarise.ipynb").read_text(
        encoding="utf-8")


def test_open_finds_the_study_from_a_subfolder(study: Project, monkeypatch) -> None:
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    assert find_study_root(study.root / "notebooks") == study.root
    monkeypatch.chdir(study.root / "notebooks")
    assert Project.open().root == study.root
    with pytest.raises(InputError, match="no thematic study"):
        find_study_root(study.root.parent)


def test_code_anchors_the_excerpt_and_adds_a_new_code(study: Project) -> None:
    row = study.code("R1", "feeling unheard", excerpt="felt unheard")
    text = TEXTS["R1"]
    assert text[row["start"]:row["end"]] == "felt unheard"
    assert [c.name for c in study.codebook.codes_without_theme] == ["feeling unheard"]
    on_disk = pd.read_csv(study.paths.codings, dtype=str)
    assert on_disk.loc[0, "excerpt"] == "felt unheard"
    assert int(on_disk.loc[0, "start"]) == text.index("felt unheard")
    # same code by name, case-insensitive: no second code
    study.code("R2", "Feeling Unheard", start=0, end=8)
    assert len(study.codebook.codes()) == 1
    assert len(study.codings()) == 2


def test_code_errors_name_the_problem(study: Project) -> None:
    with pytest.raises(InputError, match="occurs 2 times"):
        study.code("R1", "x", excerpt="unheard")
    row = study.code("R1", "x", excerpt="unheard", occurrence=2)
    assert row["start"] == TEXTS["R1"].rindex("unheard")
    with pytest.raises(InputError, match="not in response"):
        study.code("R1", "x", excerpt="absent words")
    with pytest.warns(UserWarning, match="excluded"):
        study.code("R3", "x", excerpt="n/a")  # kept, but never counted
    assert "R3" not in set(study.codings(analysable=True)["response_id"])
    assert any(p.kind == "excluded_response" for p in study.check().warnings)
    assert study.check().ok
    with pytest.raises(InputError, match="not in the study"):
        study.code("R9", "x", excerpt="a")
    with pytest.raises(InputError, match="not a non-empty span"):
        study.code("R1", "x", start=5, end=5)
    with pytest.raises(InputError, match="not a non-empty span"):
        study.code("R1", "x", start=0, end=10_000)


def test_codings_with_blank_offsets_are_anchored_or_named(study: Project) -> None:
    study.paths.codings.write_text(
        "response_id,code,start,end,excerpt,coder,memo\n"
        "R2,kindness,,,my colleagues were kind,researcher,\n", encoding="utf-8")
    study.add_code("kindness")
    c = study.codings()
    assert (int(c.loc[0, "start"]), int(c.loc[0, "end"])) == (
        TEXTS["R2"].index("my colleagues"), len(TEXTS["R2"]) - 1)
    study.paths.codings.write_text(
        "response_id,code,start,end,excerpt,coder,memo\n"
        "R1,kindness,,,unheard,researcher,\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"row 2.*found 2 times"):
        study.codings()


def test_theme_development_and_versions(study: Project) -> None:
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    study.code("R2", "useful training", excerpt="Training was useful")
    study.code("R4", "late rotas", excerpt="Rotas come out late")
    study.add_theme("T1", "Voice", codes=["feeling unheard"], definition="Being heard.")
    study.add_theme("T2", "Work", codes=["late rotas", "useful training"])
    cb = study.codebook
    assert cb.theme_id_of("feeling-unheard") == "T1"
    assert cb.theme_id_of("late-rotas") == "T2"
    study.save_version("candidate-1")
    study.rename_code("useful-training", "Learning helps")
    study.merge_codes(["late rotas"], into="useful-training")
    study.move_code("useful-training", "T1")
    study.set_status("T1", "reviewed")
    assert study.codebook.find("T1").status == "reviewed"
    assert set(study.codings()["code"]) == {"feeling-unheard", "useful-training"}
    diff = study.diff("candidate-1")
    assert {"removed", "renamed", "moved", "theme_status"} <= set(diff["change"])
    moved = diff[diff["change"] == "extract_moved"]
    assert len(moved) == 2  # R2 and R4 went from T2 to T1
    versions = study.versions()
    assert versions["label"].tolist() == ["candidate-1"]
    study.restore_version("candidate-1")
    assert study.codebook.theme_id_of("late-rotas") == "T2"
    with pytest.raises(InputError, match="exists"):
        study.save_version("candidate-1")


def test_retrieve_and_search(study: Project) -> None:
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    study.code("R1", "feeling unheard", excerpt="unheard again")
    study.add_theme("T1", "Voice", codes=["feeling unheard"])
    got = study.retrieve("T1")
    assert got["excerpt"].tolist() == ["felt unheard", "unheard again"]
    assert got["before"].iloc[0] == "I "
    assert got["group"].iloc[0] == "Nursing"
    hits = study.search("UNHEARD")
    assert len(hits) == 2 and set(hits["codes"]) == {"feeling-unheard"}
    assert study.search("n/a").empty  # the excluded response is not searched
    assert len(study.search("n/a", include_excluded=True)) == 1
    with pytest.raises(InputError, match="regular expression"):
        study.search("(", regex=True)


def test_undo_takes_back_the_last_change(study: Project) -> None:
    before = study.paths.codebook.read_bytes()
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    assert len(study.codings()) == 1
    assert "code R1" in study.undo()
    assert study.codings().empty
    assert study.paths.codebook.read_bytes() == before


def test_a_failed_change_leaves_every_file_as_it_was(study: Project, monkeypatch) -> None:
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    cb_before = study.paths.codebook.read_bytes()
    codings_before = study.paths.codings.read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Project, "_write_codings", boom)
    with pytest.raises(OSError):
        study.rename_code("feeling-unheard", new_id="unheard")
    assert study.paths.codebook.read_bytes() == cb_before
    assert study.paths.codings.read_bytes() == codings_before


def test_each_coder_codes_in_their_own_file(study: Project) -> None:
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    study.code("R1", "feeling unheard", excerpt="felt unheard", coder="ana")
    assert (study.paths.coding / "codings-ana.csv").is_file()
    assert set(study.codings()["coder"]) == {"researcher", "ana"}
    assert len(study.codings("ana")) == 1
    with pytest.raises(InputError, match="coder"):
        study.code("R1", "x", excerpt="felt", coder="../evil")


def _add_many(root: str, coder: str, n: int) -> None:
    p = Project.open(root)
    for i in range(n):
        p.code("R1", f"code {coder} {i}", start=i % 10, end=(i % 10) + 5 + i // 10)


def test_two_processes_lose_no_update(study: Project) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_add_many, args=(str(study.root), w, 12)) for w in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(study.codings()) == 24
    assert len(study.codebook.codes()) == 24


def test_check_ignores_excluded_rows_and_accepts_memos_about_old_versions(study: Project) -> None:
    study.code("R1", "feeling unheard", excerpt="felt unheard")
    study.add_theme("T1", "Voice", codes=["feeling unheard"])
    study.save_version("v1")
    study.rename_code("feeling-unheard", new_id="unheard")
    study.add_memo("Why I renamed it.", about=["feeling-unheard", "R1"], date="2026-11-30")
    rep = study.check()
    assert rep.ok
    uncoded = {p.location for p in rep.warnings if p.kind == "uncoded_response"}
    assert uncoded == {"response R2", "response R4"}  # R3 is excluded
    study.add_memo("About nothing.", about=["nope"], date="2026-11-30")
    assert any(p.kind == "memo_about_unknown" for p in study.check().warnings)


def test_exclude_read_back_from_csv_is_boolean(study: Project) -> None:
    r = study.responses
    assert r["exclude"].dtype == bool
    assert study.analysable()["response_id"].tolist() == ["R1", "R2", "R4"]


def test_codebook_of_codes_only_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\ncodes:\n  - id: a\n    name: A\n", encoding="utf-8")
    cb = read_codebook(path)
    assert [c.id for c in cb.codes()] == ["a"] and cb.theme_id_of("a") is None
    data = yaml.safe_load(path.read_text())
    assert "sections" not in data


def test_settings_reject_unknown_keys(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "s", title="T")
    text = (p.root / SETTINGS_FILE).read_text().replace("random_state", "random_stat")
    (p.root / SETTINGS_FILE).write_text(text)
    with pytest.raises(InputError, match="unknown key 'random_stat'"):
        Project.open(p.root)


def test_code_many_checks_every_row_before_writing(study: Project) -> None:
    plan = pd.DataFrame({"response_id": ["R1", "R2", "R4", "R2"],
                         "code": ["unheard", "training", "rotas", "training"],
                         "excerpt": ["felt unheard", "Training was useful", "Rotas", "Training"]})
    added = study.code_many(plan)
    assert len(added) == 4 and len(study.codebook.codes()) == 3
    before = study.paths.codings.read_bytes()
    bad = pd.DataFrame({"response_id": ["R1", "R9", "R1"], "code": ["x", "x", "x"],
                        "excerpt": ["unheard", "n/a", "felt"]})
    with pytest.raises(Exception) as err:
        study.code_many(bad)
    msg = str(err.value)
    assert "row 1" in msg and "row 2" in msg and "row 3" not in msg
    assert study.paths.codings.read_bytes() == before
    assert study.code_many(plan).empty  # nothing is coded twice


def test_code_matches_codes_every_occurrence_in_analysable_responses(study: Project) -> None:
    added = study.code_matches("unheard", "feeling unheard")
    assert len(added) == 2
    assert study.retrieve("feeling unheard")["excerpt"].tolist() == ["unheard", "unheard"]
    with pytest.raises(InputError, match="not found"):
        study.code_matches("n/a", "x")  # only in the excluded response


def test_a_theme_may_share_its_name_with_the_code_it_collates(study: Project) -> None:
    study.add_theme("T6", "Nights are different", codes=["nights are different"])
    cb = study.codebook
    assert [c.id for c in cb.find("T6").codes] == ["nights-are-different"]
    # coding by that name applies the code, not the theme
    row = study.code("R1", "Nights are different", excerpt="felt unheard")
    assert row["code"] == "nights-are-different"
