"""Tests of the ``thematic clean`` command (SYNTHETIC exports)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thematic.cli import main
from thematic.io import read_csv

EXPORTS = Path(__file__).parent / "data" / "exports"
EXAMPLES = Path(__file__).parents[1] / "corpus" / "examples"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["clean", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_example_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THEMATIC_SALT", "test-salt")
    out, audit = tmp_path / "clean.csv", tmp_path / "audit.csv"
    code, stdout, err = _run(
        capsys,
        EXAMPLES / "synthetic-msforms-export.xlsx",
        "-o", out,
        "--names", EXAMPLES / "synthetic-names.txt",
        "--organisations", EXAMPLES / "synthetic-organisations.txt",
        "--audit", audit,
        "--pseudonyms",
    )  # fmt: skip
    assert code == 0, err
    df = read_csv(out)
    for col in ["response_id", "respondent_id", "question", "group", "session", "text", "flag_empty",
                "flag_non_answer", "flag_duplicate", "flag_resubmission", "exclude", "exclude_reason"]:  # fmt: skip
        assert col in df.columns
    for col in ["text_raw", "Email", "Name", "Start time", "Completion time"]:
        assert col not in df.columns
    text = " ".join(df["text"].dropna())
    planted = ["s.taylor@example.org", "07700 900461", "999 123 4519", "Sam Taylor", "Amir Khan", "Priya",
               "Okafor", "Northshire Community NHS Trust", "Riverside Talking Therapies"]  # fmt: skip
    for p in planted:
        assert p not in text
    assert "[NAME_1]" in text and "[EMAIL]" in text and "[NHS_NUMBER]" in text
    a = read_csv(audit)
    raw = audit.read_text(encoding="utf-8")
    for p in planted:
        assert p not in raw
    assert {"ingest", "clean", "deidentify"} <= set(a["stage"])
    assert set(a.loc[a["action"] == "drop_column", "detail"]) >= {"text_raw", "Email", "Name"}
    # every excluded row is listed in the audit
    assert set(df.loc[df["exclude"] == "True", "response_id"]) <= set(a["response_id"].dropna())
    assert "masked: 10 identifiers" in stdout


def test_output_is_deterministic(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THEMATIC_SALT", "test-salt")
    outs = []
    for i in range(2):
        out, audit = tmp_path / f"o{i}.csv", tmp_path / f"a{i}.csv"
        assert _run(capsys, EXPORTS / "qualtrics-3row.csv", "-o", out, "--audit", audit)[0] == 0
        outs.append((out.read_bytes(), audit.read_bytes()))
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("name", "extra", "needle"),
    [
        ("ragged.csv", [], "row 3"),
        ("empty.csv", [], "empty"),
        ("header-only.csv", [], "no data rows"),
        ("unknown-layout.csv", [], "--text-columns"),
        ("plain.csv", ["--text-columns", "nope"], "column 'nope'"),
        ("plain.csv", ["--group-column", "nope"], "column 'nope'"),
        ("truncated.xlsx", [], "XLSX"),
        ("binary.xlsx", [], "XLSX"),
        ("mixed-encoding.csv", [], "offset"),
        ("excel-cp1252-semicolon.csv", ["--encoding", "utf-8"], "row 4"),
        ("msforms.xlsx", ["--format", "qualtrics"], "Qualtrics"),
    ],
)
def test_bad_input_one_line_error_and_no_output(tmp_path, capsys, name, extra, needle):
    out = tmp_path / "out.csv"
    out.write_text("previous good output\n", encoding="utf-8")
    code, _, err = _run(capsys, EXPORTS / name, "-o", out, *extra)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("thematic: error: ")
    assert name in err and needle in err
    assert out.read_text(encoding="utf-8") == "previous good output\n"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no partial files


def test_missing_export(tmp_path, capsys):
    code, _, err = _run(capsys, tmp_path / "nope.csv", "-o", tmp_path / "out.csv")
    assert code == 1 and "not found" in err
    assert not (tmp_path / "out.csv").exists()


def test_refuses_to_overwrite_the_export(tmp_path, capsys):
    export = tmp_path / "plain.csv"
    shutil.copy(EXPORTS / "plain.csv", export)
    before = export.read_bytes()
    code, _, err = _run(capsys, export, "-o", export)
    assert code == 1 and "overwrite" in err
    assert export.read_bytes() == before


def test_comma_separated_text_columns(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = _run(
        capsys,
        EXPORTS / "crlf-embedded-newlines.csv",
        "-o",
        out,
        "--text-columns",
        "comment,comment (2)",
    )
    assert code == 0, err
    assert set(read_csv(out)["question_id"]) == {"comment", "comment (2)"}


def test_only_non_answers_warns(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = _run(
        capsys, EXPORTS / "only-non-answers.csv", "-o", out, "--text-columns", "comment"
    )
    assert code == 0
    assert "no analysable responses" in err
    assert (read_csv(out)["exclude"] == "True").all()


def test_same_export_twice(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = _run(capsys, EXPORTS / "plain.csv", EXPORTS / "plain.csv", "-o", out)
    assert code == 0, err
    df = read_csv(out)
    assert df["response_id"].is_unique and len(df) == 12
    copies = df.iloc[6:]
    substantive = df.iloc[:6].loc[lambda d: d["exclude"] == "False"]
    assert (
        copies.loc[copies["response_id"].isin(substantive["response_id"] + "~2"), "flag_duplicate"]
        == "True"
    ).all()
    assert (copies["flag_duplicate"] == "True").sum() == len(substantive)


def test_unfinished_included_on_request(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _run(capsys, EXPORTS / "qualtrics-3row.csv", "-o", a)[0] == 0
    assert _run(capsys, EXPORTS / "qualtrics-3row.csv", "-o", b, "--include-unfinished")[0] == 0
    da, db = read_csv(a), read_csv(b)
    unfinished = da["flag_unfinished"] == "True"
    assert da.loc[unfinished, "exclude_reason"].str.contains("unfinished").all()
    assert not db.loc[unfinished, "exclude_reason"].fillna("").str.contains("unfinished").any()


def test_output_agrees_with_the_spacy_oracle(tmp_path, capsys, monkeypatch):
    """The library's matching and the spaCy oracle (tests/_spacy_oracle.py) write the same files."""
    import _spacy_oracle
    import thematic.deidentify as deid

    monkeypatch.setenv("THEMATIC_SALT", "test-salt")
    outputs = {}
    for engine in ("library", "oracle"):
        if engine == "oracle":
            monkeypatch.setattr(deid, "Deidentifier", _spacy_oracle.SpacyDeidentifier)
        deid._cached_deidentifier.cache_clear()
        out, audit = tmp_path / f"{engine}.csv", tmp_path / f"{engine}-audit.csv"
        code, stdout, err = _run(
            capsys,
            EXAMPLES / "synthetic-msforms-export.xlsx",
            "-o", out,
            "--names", EXAMPLES / "synthetic-names.txt",
            "--organisations", EXAMPLES / "synthetic-organisations.txt",
            "--audit", audit,
            "--pseudonyms",
        )  # fmt: skip
        assert code == 0, err
        assert "masked: 10 identifiers" in stdout
        outputs[engine] = (out.read_bytes(), audit.read_bytes())
        assert isinstance(deid._cached_deidentifier((), (), True),
                          _spacy_oracle.SpacyDeidentifier) == (engine == "oracle")
    deid._cached_deidentifier.cache_clear()
    assert outputs["oracle"] == outputs["library"]
    # the library has one engine: the old option is a usage error
    code, _, err = _run(capsys, EXPORTS / "plain.csv", "-o", tmp_path / "x.csv",
                        "--engine", "spacy")
    assert code == 2 and "--engine" in err
    assert not (tmp_path / "x.csv").exists()
