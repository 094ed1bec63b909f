"""Tests of ``thematic check``, ``thematic export-refi`` and ``thematic import-refi``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thematic.cli import main as _main
from thematic.refi import read_qdc, read_qdpx, validate_refi

ROOT = Path(__file__).resolve().parents[1]
CODING = Path(__file__).parent / "data" / "coding"
REFI = Path(__file__).parent / "data" / "refi"


def main(argv: list[str]) -> int:
    """Run the CLI; ``check`` signals failure with ``SystemExit(1)``."""
    try:
        return _main(argv)
    except SystemExit as exc:
        return int(exc.code)


@pytest.fixture()
def at_root(monkeypatch):
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    monkeypatch.chdir(ROOT)


def _study(tmp_path: Path, codings: str = "codings_small.csv",
           codebook: str = "codebook_small.yaml", memos: Path | None = None) -> Path:
    """A study folder holding the given fixture files (``thematic init`` layout)."""
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Fixture study"]) == 0
    shutil.copy(CODING / codebook, root / "corpus" / "coding" / "codebook.yaml")
    shutil.copy(CODING / codings, root / "corpus" / "coding" / "codings.csv")
    shutil.copy(CODING / "responses_small.csv", root / "corpus" / "processed" / "responses.csv")
    if memos is not None:
        shutil.rmtree(root / "corpus" / "memos")
        shutil.copytree(memos, root / "corpus" / "memos")
    return root


def test_check_passes_on_the_project_corpus(at_root, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["0 error(s), 0 warning(s)"]
    assert main(["check", "--project", str(ROOT)]) == 0


def test_check_prints_every_problem_on_its_own_line_and_fails(tmp_path, capsys):
    root = _study(tmp_path, "codings_bad.csv")
    capsys.readouterr()
    assert main(["check", "--project", str(root)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    errors = [line for line in out if line.startswith("error: ")]
    warnings = [line for line in out if line.startswith("warning: ")]
    assert len(errors) == 8 and len(warnings) == 3
    assert any("[unknown_code]" in e and "NOPE" in e for e in errors)
    assert any("[duplicate_segment]" in e and "rows 9, 10" in e for e in errors)
    assert out[-1] == "8 error(s), 3 warning(s)"


def test_check_warnings_alone_do_not_fail(tmp_path, capsys):
    root = _study(tmp_path)
    assert main(["check", "--project", str(root)]) == 0
    out = capsys.readouterr().out
    assert "[uncoded_response]" in out and "R6" in out


def test_check_finds_the_study_from_the_working_directory(tmp_path, monkeypatch, capsys):
    root = _study(tmp_path)
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert main(["check"]) == 0
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert "no thematic study" in capsys.readouterr().err


def test_check_lists_codebook_and_memo_problems(tmp_path, capsys):
    memos = tmp_path / "memos"
    memos.mkdir()
    (memos / "2024-01-01-a.md").write_text("---\ndate: '2024-01-01'\nauthor: Ana\n"
                                           "about: [A-T1, NOT-AN-ID]\n---\n\nText\n",
                                           encoding="utf-8")
    (memos / "2024-01-02-b.md").write_text("no front matter\n", encoding="utf-8")
    root = _study(tmp_path, memos=memos)
    capsys.readouterr()
    assert main(["check", "--project", str(root)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert any("NOT-AN-ID" in line and line.startswith("warning") for line in out)
    assert any("front matter" in line and line.startswith("error") for line in out)
    shutil.copy(CODING / "codebook_bad.yaml", root / "corpus" / "coding" / "codebook.yaml")
    assert main(["check", "--project", str(root)]) == 1
    err = capsys.readouterr().err
    assert "codebook.yaml" in err and "Traceback" not in err


def test_check_missing_file_is_one_line(tmp_path, capsys):
    root = _study(tmp_path)
    (root / "corpus" / "coding" / "codebook.yaml").unlink()
    capsys.readouterr()
    assert main(["check", "--project", str(root)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "not found" in captured.err


def test_export_by_extension(at_root, tmp_path, capsys):
    assert main(["export-refi", str(tmp_path / "p.qdpx")]) == 0
    assert main(["export-refi", str(tmp_path / "c.qdc")]) == 0
    out = capsys.readouterr().out
    assert "49 sources, 49 codings" in out
    assert validate_refi(tmp_path / "p.qdpx").problems == []
    assert validate_refi(tmp_path / "c.qdc").problems == []
    assert len(read_qdpx(tmp_path / "p.qdpx").codings) == 49
    assert len(read_qdc(tmp_path / "c.qdc").codebook.themes()) == 11
    assert "note: Stable ids" in out  # the .qdc's caveat: the metadata code set


def test_export_rejects_other_extensions(at_root, tmp_path, capsys):
    assert main(["export-refi", str(tmp_path / "p.zip")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".qdpx" in err[0]


def test_export_refuses_codings_with_errors(tmp_path, capsys):
    root = _study(tmp_path, "codings_bad.csv")
    args = ["export-refi", str(tmp_path / "p.qdpx"), "--project", str(root)]
    assert main(args) == 1
    assert "problems" in capsys.readouterr().err
    assert not (tmp_path / "p.qdpx").exists()


def test_export_leaves_excluded_responses_out_unless_asked(tmp_path, capsys):
    from thematic.project import Project

    study = Project.create(tmp_path / "s", title="Excluded rows")
    import pandas as pd

    study.import_responses(pd.DataFrame({
        "response_id": ["A", "B"], "respondent_id": ["1", "2"], "question": ["q", "q"],
        "group": ["x", "y"], "text": ["Kind colleagues.", "n/a"], "exclude": [False, True]}))
    study.code("A", "kindness", excerpt="Kind colleagues")
    assert main(["export-refi", str(tmp_path / "a.qdpx"), "--project", str(study.root)]) == 0
    assert len(read_qdpx(tmp_path / "a.qdpx").responses) == 1
    assert main(["export-refi", str(tmp_path / "b.qdpx"), "--project", str(study.root),
                 "--include-excluded"]) == 0
    assert len(read_qdpx(tmp_path / "b.qdpx").responses) == 2


def test_import_then_check(tmp_path, capsys):
    shutil.copy(REFI / "other_tool.qdpx", tmp_path / "other_tool.qdpx")
    shutil.copytree(REFI / "external", tmp_path / "external")
    assert main(["import-refi", str(tmp_path / "other_tool.qdpx"), "-o",
                 str(tmp_path / "out"), "--sources-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[ids_from_guids]" in out
    for name in ("codebook.yaml", "codings.csv", "responses.csv"):
        assert (tmp_path / "out" / name).is_file()
    study = tmp_path / "study"
    assert main(["init", str(study), "--title", "Imported"]) == 0
    shutil.copy(tmp_path / "out" / "codebook.yaml", study / "corpus" / "coding" / "codebook.yaml")
    shutil.copy(tmp_path / "out" / "codings.csv", study / "corpus" / "coding" / "codings.csv")
    shutil.copy(tmp_path / "out" / "responses.csv",
                study / "corpus" / "processed" / "responses.csv")
    capsys.readouterr()
    code = main(["check", "--project", str(study)])
    assert code == 0, capsys.readouterr().out


def test_import_round_trips_the_project(at_root, tmp_path):
    assert main(["export-refi", str(tmp_path / "p.qdpx")]) == 0
    assert main(["import-refi", str(tmp_path / "p.qdpx"), "-o", str(tmp_path / "in")]) == 0
    for rel in ("codebook.yaml", "codings.csv"):
        assert (tmp_path / "in" / rel).read_bytes() == \
            (ROOT / "corpus" / "coding" / rel).read_bytes()


def test_import_refi_cli_options_reach_the_importer(tmp_path, monkeypatch):
    import thematic.refi as refi
    from thematic.cli import main

    seen = {}

    def fake_import(src, out_dir, **kw):
        seen.update(kw)
        return refi.RefiImport({}, [])

    monkeypatch.setattr(refi, "import_refi", fake_import)
    src = tmp_path / "x.qde"
    src.write_text("<Project/>")
    assert main(["import-refi", str(src), "-o", str(tmp_path / "o"), "--crlf-counts", "one",
                 "--missing-sources", "skip"]) == 0
    assert seen["crlf_counts"] is False and seen["missing_sources"] == "skip"
    assert main(["import-refi", str(src), "-o", str(tmp_path / "o")]) == 0
    assert seen["crlf_counts"] is None and seen["missing_sources"] == "error"
