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


def _fixture_args(codings: str = "codings_small.csv", codebook: str = "codebook_small.yaml",
                  memos: Path | None = None) -> list[str]:
    return ["--codebook", str(CODING / codebook), "--codings", str(CODING / codings),
            "--responses", str(CODING / "responses_small.csv"),
            "--memos", str(memos or CODING / "no-memos")]


def test_check_passes_on_the_project_corpus(at_root, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["0 error(s), 0 warning(s)"]


def test_check_prints_every_problem_on_its_own_line_and_fails(capsys):
    assert main(["check", *_fixture_args("codings_bad.csv")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    errors = [line for line in out if line.startswith("error: ")]
    warnings = [line for line in out if line.startswith("warning: ")]
    assert len(errors) == 8 and len(warnings) == 3
    assert any("[unknown_code]" in e and "NOPE" in e for e in errors)
    assert any("[duplicate_segment]" in e and "rows 9, 10" in e for e in errors)
    assert out[-1] == "8 error(s), 3 warning(s)"


def test_check_warnings_alone_do_not_fail(capsys):
    assert main(["check", *_fixture_args()]) == 0
    out = capsys.readouterr().out
    assert "[uncoded_response]" in out and "R6" in out


def test_check_lists_codebook_and_memo_problems(tmp_path, capsys):
    memos = tmp_path / "memos"
    memos.mkdir()
    (memos / "2024-01-01-a.md").write_text("---\ndate: '2024-01-01'\nauthor: Ana\n"
                                           "about: [A-T1, NOT-AN-ID]\n---\n\nText\n",
                                           encoding="utf-8")
    (memos / "2024-01-02-b.md").write_text("no front matter\n", encoding="utf-8")
    code = main(["check", *_fixture_args(codebook="codebook_bad.yaml", memos=memos)])
    assert code == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert sum("codebook_bad.yaml" in line for line in out) == 7
    assert any("NOT-AN-ID" in line for line in out)
    assert any("front matter" in line for line in out)


def test_check_missing_file_is_one_line(capsys):
    code = main(["check", "--codebook", str(CODING / "missing.yaml"),
                 *_fixture_args()[2:]])
    # the codebook problem is reported, nothing crashes
    assert code == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "not found" in captured.err


def test_export_by_extension(at_root, tmp_path, capsys):
    assert main(["export-refi", str(tmp_path / "p.qdpx")]) == 0
    assert main(["export-refi", str(tmp_path / "c.qdc")]) == 0
    out = capsys.readouterr().out
    assert "49 sources, 49 codings" in out
    assert validate_refi(tmp_path / "p.qdpx") == [] and validate_refi(tmp_path / "c.qdc") == []
    assert len(read_qdpx(tmp_path / "p.qdpx").codings) == 49
    assert len(read_qdc(tmp_path / "c.qdc").themes()) == 11


def test_export_rejects_other_extensions(at_root, tmp_path, capsys):
    assert main(["export-refi", str(tmp_path / "p.zip")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".qdpx" in err[0]


def test_export_refuses_codings_with_errors(tmp_path, capsys):
    args = ["export-refi", str(tmp_path / "p.qdpx"), *_fixture_args("codings_bad.csv")]
    assert main(args) == 1
    assert "problems" in capsys.readouterr().err
    assert not (tmp_path / "p.qdpx").exists()


def test_import_then_check(tmp_path, capsys):
    shutil.copy(REFI / "other_tool.qdpx", tmp_path / "other_tool.qdpx")
    shutil.copytree(REFI / "external", tmp_path / "external")
    assert main(["import-refi", str(tmp_path / "other_tool.qdpx"), "-o",
                 str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "[ids_from_guids]" in out
    for name in ("codebook.yaml", "codings.csv", "responses.csv"):
        assert (tmp_path / "out" / name).is_file()
    code = main(["check", "--codebook", str(tmp_path / "out" / "codebook.yaml"),
                 "--codings", str(tmp_path / "out" / "codings.csv"),
                 "--responses", str(tmp_path / "out" / "responses.csv"),
                 "--memos", str(tmp_path / "out" / "memos")])
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
        return {}

    monkeypatch.setattr(refi, "import_refi", fake_import)
    src = tmp_path / "x.qde"
    src.write_text("<Project/>")
    assert main(["import-refi", str(src), "-o", str(tmp_path / "o"), "--crlf-counts", "one",
                 "--missing-sources", "skip"]) == 0
    assert seen["crlf_counts"] is False and seen["missing_sources"] == "skip"
    assert main(["import-refi", str(src), "-o", str(tmp_path / "o")]) == 0
    assert seen["crlf_counts"] is None and seen["missing_sources"] == "error"
