"""Tests of thematic.ingest on the SYNTHETIC export fixtures in tests/data/exports/.

Expected values come from the fixture generator (make_fixtures.py), not from the output.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _read_info import read_info
from thematic.clean import clean_responses
from thematic.errors import InputError
from thematic.ingest import (
    identifying_column_names,
    looks_like_free_text,
    read_export,
    read_exports,
)
from thematic.schemas import conform

EXPORTS = Path(__file__).parent / "data" / "exports"

_spec = importlib.util.spec_from_file_location("make_fixtures", EXPORTS / "make_fixtures.py")
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)  # type: ignore[union-attr]

EXPERIENCE = [a[1] for a in fx.ANSWERS]
LEARNING = [a[2] for a in fx.ANSWERS]
GROUPS = [a[0] for a in fx.ANSWERS]


def _texts(df: pd.DataFrame, question_id: str) -> list[str | None]:
    sub = df.loc[df["question_id"] == question_id, "text_raw"]
    return [None if pd.isna(v) else v for v in sub.tolist()]


def _expected(values: list[str]) -> list[str | None]:
    return [v if v else None for v in values]


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("name", ["qualtrics-3row.csv", "qualtrics-3row.xlsx"])
def test_qualtrics_three_header_rows(name):
    df, audit = read_export(EXPORTS / name)
    info = read_info(audit)
    assert info["format"] == "qualtrics" and info["header_rows"] == 3
    assert info["text_columns"] == ["Q2", "Q3"]  # the _TEXT ImportIds; Q1/Q4 are choices
    real = df.loc[~df["flag_preview"]]
    assert _texts(real, "Q2") == _expected(EXPERIENCE)
    assert _texts(real, "Q3") == _expected(LEARNING)
    assert real.drop_duplicates("respondent_id")["group"].tolist() == GROUPS
    assert set(df["question"]) == {fx.Q_EXPERIENCE, fx.Q_LEARNING}
    assert df["response_id"].iloc[0] == "R_3synth0000AbCd:q2"
    # the preview row is flagged, not dropped
    preview = df.loc[df["flag_preview"]]
    assert set(preview["respondent_id"]) == {"R_3preview0000Zz"}
    # the last respondent did not finish (Finished False, Progress 60)
    unfinished = df.loc[df["flag_unfinished"], "respondent_id"].unique().tolist()
    assert unfinished == ["R_3synth0005AbCd"]
    # session: the date part of RecordedDate
    assert set(real["session"]) == {"2023-03-14", "2023-03-15"}
    # identifying metadata is recorded for dropping
    assert {"IPAddress", "RecipientEmail", "LocationLatitude"} <= set(info["identifying_columns"])


def test_qualtrics_csv_and_xlsx_agree():
    a, _ = read_export(EXPORTS / "qualtrics-3row.csv")
    b, _ = read_export(EXPORTS / "qualtrics-3row.xlsx")
    cols = [
        "response_id",
        "respondent_id",
        "question",
        "group",
        "session",
        "text_raw",
        "flag_preview",
    ]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_qualtrics_legacy_two_header_rows():
    df, audit = read_export(EXPORTS / "qualtrics-legacy-2row.csv")
    info = read_info(audit)
    assert info["format"] == "qualtrics" and info["header_rows"] == 2
    assert _texts(df, "Q2") == _expected(EXPERIENCE)
    # legacy V1.. names are replaced by the names in the second row
    assert "ResponseID" not in df.columns and "StartDate" in df.columns
    assert df.loc[df["flag_unfinished"], "respondent_id"].unique().tolist() == ["R_3synth0005AbCd"]


def test_msforms_xlsx():
    df, audit = read_export(EXPORTS / "msforms.xlsx")
    info = read_info(audit)
    assert info["format"] == "msforms"
    assert info["text_columns"] == [fx.Q_EXPERIENCE, fx.Q_LEARNING]  # not the rating
    assert _texts(df, fx.Q_EXPERIENCE) == _expected(EXPERIENCE)
    assert df["respondent_id"].unique().tolist() == [str(i + 1) for i in range(len(fx.ANSWERS))]
    assert df.drop_duplicates("respondent_id")["group"].tolist() == GROUPS
    assert set(df["session"]) == {"2023-03-14"}  # from Completion time
    assert {"Email", "Name"} <= set(info["identifying_columns"])
    assert fx.Q_RATING in df.columns  # the closed question is kept as metadata


def test_googleforms_csv_uk_dates():
    df, audit = read_export(EXPORTS / "googleforms.csv")
    assert read_info(audit)["format"] == "googleforms"
    assert _texts(df, fx.Q_LEARNING) == _expected(LEARNING)
    # no id column: the spreadsheet row
    assert df["respondent_id"].unique().tolist() == [f"row-{i + 2}" for i in range(len(fx.ANSWERS))]
    # "15/03/2023": day first, so every date is read day/month
    assert df.drop_duplicates("respondent_id")["session"].tolist() == [
        f"2023-03-{14 + i // 3}" for i in range(len(fx.ANSWERS))
    ]


@pytest.mark.parametrize("name", ["surveymonkey.csv", "surveymonkey.xlsx"])
def test_surveymonkey_two_header_rows_and_merged_cells(name):
    df, audit = read_export(EXPORTS / name)
    info = read_info(audit)
    assert info["format"] == "surveymonkey" and info["header_rows"] == 2
    assert info["text_columns"] == [
        fx.Q_EXPERIENCE,
        "Which topics were most useful? - Other (please specify)",
        "Any other comments?",
    ]
    # option columns of the merged multi-choice header carry the question text
    assert "Which topics were most useful? - Accountability" in df.columns
    assert _texts(df, fx.Q_EXPERIENCE) == _expected(EXPERIENCE)
    assert df["respondent_id"].iloc[0] == "11400000000"
    assert df.drop_duplicates("respondent_id")["group"].tolist() == GROUPS
    assert {"IP Address", "Email Address", "First Name"} <= set(info["identifying_columns"])


def test_surveymonkey_csv_and_xlsx_agree():
    a, _ = read_export(EXPORTS / "surveymonkey.csv")
    b, _ = read_export(EXPORTS / "surveymonkey.xlsx")
    cols = ["response_id", "question", "group", "session", "text_raw"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("plain.csv", "utf-8", ","),
        ("plain.tsv", "utf-8", "\t"),
        ("excel-cp1252-semicolon.csv", "cp1252", ";"),
        ("excel-unicode-text.txt", "utf-16", "\t"),
        ("plain.xlsx", None, None),
    ],
)
def test_plain_exports_in_every_encoding_and_dialect(name, encoding, delimiter):
    df, audit = read_export(
        EXPORTS / name, text_columns=["comment"], group_column="caucus", id_column="pid"
    )
    info = read_info(audit)
    assert info["encoding"] == encoding and info["delimiter"] == delimiter
    # curly quotes, en dashes and embedded newlines survive every encoding unchanged
    got = [None if pd.isna(v) else v.replace("\r\n", "\n") for v in df["text_raw"]]
    assert got == _expected(EXPERIENCE)
    assert df["respondent_id"].tolist() == [f"P{i + 1:02d}" for i in range(len(fx.ANSWERS))]
    assert df["session"].tolist() == [f"Session {1 + i % 2}" for i in range(len(fx.ANSWERS))]


def test_plain_auto_detects_columns():
    df, audit = read_export(EXPORTS / "plain.csv")
    info = read_info(audit)
    assert info["format"] == "plain" and info["text_columns"] == ["comment"]
    assert df["respondent_id"].tolist()[0] == "P01"  # "pid" is an id column
    assert df["group"].tolist() == GROUPS


def test_crlf_embedded_newlines_trailing_and_duplicate_columns():
    df, audit = read_export(
        EXPORTS / "crlf-embedded-newlines.csv", text_columns=["comment", "comment (2)"]
    )
    # the embedded CRLF inside quotes is kept as exported
    first = df.loc[df["question_id"] == "comment", "text_raw"].iloc[0]
    assert first == "First line of my answer.\r\nSecond line, after a break."
    # the two trailing blank columns are gone; the duplicate header is renamed
    notes = audit
    assert ((notes["action"] == "drop_column") & notes["detail"].str.contains("2 trailing")).any()
    assert (
        (notes["action"] == "rename_column")
        & notes["detail"].str.contains("comment (2)", regex=False)
    ).any()
    assert df["response_id"].is_unique


@pytest.mark.parametrize(
    "name",
    ["qualtrics-3row.csv", "msforms.xlsx", "googleforms.csv", "surveymonkey.csv", "plain.csv"],
)
def test_same_export_read_twice_gives_identical_ids(name):
    a, audit_a = read_export(EXPORTS / name)
    b, audit_b = read_export(EXPORTS / name)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(audit_a, audit_b)
    assert not a.attrs  # the audit is returned, never hidden in DataFrame.attrs
    conform(audit_a, "audit")
    assert set(audit_a["stage"]) == {"ingest"} and audit_a["response_id"].isna().all()
    assert a["response_id"].is_unique
    conform(a, "responses")


def test_same_export_twice_is_flagged_not_dropped():
    one, one_audit = read_export(EXPORTS / "msforms.xlsx")
    both, both_audit = read_exports([EXPORTS / "msforms.xlsx", EXPORTS / "msforms.xlsx"])
    assert len(both) == 2 * len(one) and both["response_id"].is_unique
    # the read audits of the files, one after the other
    pd.testing.assert_frame_equal(
        both_audit, pd.concat([one_audit, one_audit], ignore_index=True))
    assert read_info(both_audit)["format"] == "msforms,msforms"
    second = both.iloc[len(one) :]
    assert all(r.endswith("~2") for r in second["response_id"])
    cleaned, audit = clean_responses(both)
    substantive = cleaned.iloc[: len(one)]
    substantive = substantive.loc[~substantive["exclude"]]
    copies = cleaned.iloc[len(one) :]
    # every substantive answer's copy is a duplicate; nothing was dropped
    dup_ids = set(copies.loc[copies["flag_duplicate"], "response_id"])
    assert dup_ids == {f"{r}~2" for r in substantive["response_id"]}
    assert dup_ids <= set(audit["response_id"])


def test_repeated_respondent_id_within_one_file(tmp_path):
    p = tmp_path / "repeat.csv"
    p.write_text(
        "pid,comment\nP1,First answer from this person about the sessions.\n"
        "P1,A changed answer from the same person on a second try.\n",
        encoding="utf-8",
    )
    df, audit = read_export(p, text_columns=["comment"], id_column="pid")
    assert df["response_id"].tolist() == ["P1:comment", "P1:comment~2"]
    cleaned, _ = clean_responses(df)
    assert cleaned["flag_resubmission"].tolist() == [True, False]


def test_email_ids_are_pseudonymised(tmp_path):
    p = tmp_path / "emails.csv"
    p.write_text(
        "email,comment\nsam@example.org,One thing I noticed in the caucus was the quiet.\n"
        "amir@example.org,I felt heard for the first time in a work space.\n"
        'SAM@example.org,"Second thoughts: it was more than quiet, it was careful."\n',
        encoding="utf-8",
    )
    df, audit = read_export(p, text_columns=["comment"], id_column="email")
    assert df["respondent_id"].tolist() == ["respondent-1", "respondent-2", "respondent-1"]
    assert not df["response_id"].str.contains("@").any()
    assert (audit["action"] == "pseudonymise").any()


def test_short_rows_are_padded_and_blank_rows_skipped(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text(
        "pid,caucus,comment,extra\nP1,White Caucus,An answer that is long enough to count\n\n"
        "P2,White Caucus,Another answer that is long enough to count,x\n",
        encoding="utf-8",
    )
    df, audit = read_export(p, text_columns=["comment"])
    assert df["respondent_id"].tolist() == ["P1", "P2"]
    assert df["extra"].isna().tolist() == [True, False]
    assert (
        (audit["action"] == "skip_row") & (audit["detail"] == "row 3")
    ).any()


def test_xlsx_column_without_header_is_named(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["pid", "comment"])
    wb.active.append(["P1", "A real answer about the caucus and the space it gives.", "stray note"])
    p = tmp_path / "stray.xlsx"
    wb.save(p)
    df, audit = read_export(p, text_columns=["comment"])
    assert "column C" in df.columns and df["column C"].tolist() == ["stray note"]


def test_big_text_cell_is_read_whole(tmp_path):
    big = ("I have a lot to say about this. " * 40_000)[:1_000_000]
    p = tmp_path / "big.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["pid", "comment"],
                ["P1", big],
                ["P2", "A shorter answer here, but still a sentence."],
            ]
        )
    df, audit = read_export(p)
    assert df["text_raw"].iloc[0] == big
    assert read_info(audit)["text_columns"] == ["comment"]


# --------------------------------------------------------------------------- bad input


def test_empty_file():
    with pytest.raises(InputError, match="empty") as exc:
        read_export(EXPORTS / "empty.csv")
    assert exc.value.path.endswith("empty.csv")


def test_header_only():
    with pytest.raises(InputError, match="no data rows"):
        read_export(EXPORTS / "header-only.csv")


def test_unknown_layout_without_text_columns():
    with pytest.raises(InputError, match="text_columns") as exc:
        read_export(EXPORTS / "unknown-layout.csv")
    assert "--text-columns" in str(exc.value)


def test_unknown_layout_with_text_columns_works():
    df, audit = read_export(EXPORTS / "unknown-layout.csv", text_columns=["answer"], id_column="ref")
    assert df["text_raw"].tolist() == ["Yes", "No", "Yes", "Yes"]


@pytest.mark.parametrize("kw", ["text_columns", "group_column", "id_column", "session_column"])
def test_missing_named_column(kw):
    value = ["no such column"] if kw == "text_columns" else "no such column"
    with pytest.raises(InputError, match="no such column") as exc:
        read_export(EXPORTS / "plain.csv", **{kw: value})
    assert exc.value.column == "no such column"
    assert "'comment'" in str(exc.value)  # lists the available columns


@pytest.mark.parametrize("name", ["binary.xlsx", "truncated.xlsx"])
def test_binary_or_truncated_xlsx(name):
    with pytest.raises(InputError, match="XLSX") as exc:
        read_export(EXPORTS / name)
    assert exc.value.path.endswith(name)


def test_zip_that_is_not_a_workbook(tmp_path):
    p = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputError, match="XLSX"):
        read_export(p)


def test_legacy_xls_or_encrypted_workbook(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(InputError, match="password-protected|legacy"):
        read_export(p)


def _first_row_with_non_ascii(data: bytes) -> tuple[int, int]:
    offset = next(i for i, b in enumerate(data) if b > 127)
    return offset, data[:offset].count(b"\n") + 1


def test_wrong_encoding_named_by_the_user_reports_offset_and_row():
    path = EXPORTS / "excel-cp1252-semicolon.csv"
    offset, row = _first_row_with_non_ascii(path.read_bytes())
    with pytest.raises(InputError) as exc:
        read_export(path, encoding="utf-8")
    assert f"offset {offset}" in str(exc.value) and exc.value.row == row


def test_mixed_encodings_refused_with_offset_and_row():
    data = (EXPORTS / "mixed-encoding.csv").read_bytes()
    bad = data.index(b"caf\xe9") + 3
    with pytest.raises(InputError, match="mixed encodings") as exc:
        read_export(EXPORTS / "mixed-encoding.csv")
    assert f"offset {bad}" in str(exc.value)
    assert exc.value.row == data[:bad].count(b"\n") + 1


def test_other_code_page_is_not_silently_read_as_cp1252(tmp_path):
    p = tmp_path / "cyrillic.csv"
    text = "pid,comment\nP1,Мне было очень полезно говорить об этом в группе\n"
    p.write_bytes(text.encode("cp1251"))
    with pytest.raises(InputError, match="not valid UTF-8") as exc:
        read_export(p)
    assert exc.value.row == 2
    # ... and reads correctly when the encoding is given
    df, audit = read_export(p, encoding="cp1251", text_columns=["comment"])
    assert df["text_raw"].iloc[0] == "Мне было очень полезно говорить об этом в группе"


def test_utf8_with_and_without_bom_agree(tmp_path):
    body = "pid,comment\nP1,It’s a space where I feel less alone – really.\n"
    a, b = tmp_path / "bom.csv", tmp_path / "nobom.csv"
    a.write_bytes(b"\xef\xbb\xbf" + body.encode())
    b.write_bytes(body.encode())
    ra, _ = read_export(a, text_columns=["comment"])
    rb, _ = read_export(b, text_columns=["comment"])
    assert (
        ra["text_raw"].tolist()
        == rb["text_raw"].tolist()
        == ["It’s a space where I feel less alone – really."]
    )
    assert ra["response_id"].tolist() == rb["response_id"].tolist() == ["P1:comment"]


def test_ragged_rows():
    data = (EXPORTS / "ragged.csv").read_bytes().decode()
    bad_row = next(i + 1 for i, r in enumerate(csv.reader(io.StringIO(data))) if len(r) > 3)
    with pytest.raises(InputError, match="ragged row") as exc:
        read_export(EXPORTS / "ragged.csv")
    assert exc.value.row == bad_row


def test_unclosed_quote(tmp_path):
    p = tmp_path / "unclosed.csv"
    p.write_text(
        'pid,comment\nP1,"An answer that never closes its quote\nP2,next\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match="unclosed quote"):
        read_export(p, text_columns=["comment"])


def test_only_non_answers():
    with pytest.raises(InputError, match="text_columns"):
        read_export(EXPORTS / "only-non-answers.csv")
    df, audit = read_export(EXPORTS / "only-non-answers.csv", text_columns=["comment"])
    cleaned, _ = clean_responses(df)
    assert cleaned["exclude"].all()
    assert cleaned["flag_empty"].sum() == 1 and cleaned["flag_non_answer"].sum() == 4


def test_explicit_format_that_does_not_fit():
    with pytest.raises(InputError, match="Qualtrics") as exc:
        read_export(EXPORTS / "msforms.xlsx", format="qualtrics")
    assert "Microsoft Forms" in str(exc.value)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_export(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="format must be one of 'auto', .*, not 'spss'"):
        read_export(EXPORTS / "plain.csv", format="spss")


# --------------------------------------------------------------------------- helpers


def test_looks_like_free_text():
    assert looks_like_free_text(EXPERIENCE)
    assert not looks_like_free_text(["Very good", "Good", "Good", "Fair", "Very good"])
    assert not looks_like_free_text(GROUPS)
    assert not looks_like_free_text(["2023-03-14 10:00:00", "2023-03-15 11:00:00"])
    assert not looks_like_free_text([None, "", "  "])


def test_identifying_column_names():
    cols = [
        "response_id",
        "Email",
        "Name",
        "IP Address",
        "Start time",
        "StartDate",
        "RecipientFirstName",
        "LocationLatitude",
        "How would you rate today's session?",
        "group",
        "Timestamp",
    ]
    assert identifying_column_names(cols) == [
        "Email", "Name", "IP Address", "Start time", "StartDate", "RecipientFirstName", "LocationLatitude",
        "Timestamp",
    ]  # fmt: skip


def test_excel_sep_hint_line(tmp_path):
    p = tmp_path / "hint.csv"
    p.write_text(
        "sep=;\npid;comment\nP1;Short, but a real answer with commas, in it.\nP2;x;\n",
        encoding="utf-8",
    )
    df, audit = read_export(p, text_columns=["comment"])
    assert read_info(audit)["delimiter"] == ";"
    assert df["text_raw"].iloc[0] == "Short, but a real answer with commas, in it."
    assert df["source_row"].tolist() == [3, 4]  # file rows, the hint line counted


def test_single_column_export(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text(
        "comment\nThe caucus felt like a place to breathe.\nI want more time together next session.\n",
        encoding="utf-8",
    )
    df, audit = read_export(p)
    assert df["text_raw"].tolist() == [
        "The caucus felt like a place to breathe.",
        "I want more time together next session.",
    ]


def test_ambiguous_day_month_dates_are_kept_as_written(tmp_path):
    p = tmp_path / "gf.csv"
    p.write_text(
        "Timestamp,What has been your experience so far of the sessions?\n"
        "03/01/2023 10:00:00,It has been a helpful and honest space for me.\n"
        "04/02/2023 10:00:00,I found the joint group harder than the caucus itself.\n",
        encoding="utf-8",
    )
    df, audit = read_export(p)
    assert df["session"].tolist() == ["03/01/2023", "04/02/2023"]  # not guessed
    assert audit["detail"].str.contains("ambiguous").any()


_PIECES = [b"pid", b",", b";", b"\t", b"\n", b"\r\n", b'"', b"caucus", b"comment", b"White Caucus",
           b"I felt heard in the caucus today and want more.", b"\xef\xbb\xbf", b"\xe2\x80\x99", b"\x92",
           b"\x00", b"ResponseId", b"StartDate", b"Respondent ID", b"Collector ID", b"Timestamp", b"ID",
           b"Start time", b"Completion time", b"Response", b"Open-Ended Response",
           b'{"ImportId":"QID1_TEXT"}', b" ", b"sep=;"]  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
    st.sampled_from(
        [{}, {"text_columns": ["comment"]}, {"format": "qualtrics"}, {"format": "surveymonkey"}]
    ),
)
def test_any_bytes_give_a_valid_table_or_an_input_error(tmp_path, data, kwargs):
    p = tmp_path / "fuzz.csv"
    p.write_bytes(data)
    try:
        df, audit = read_export(p, **kwargs)
    except InputError as exc:
        assert exc.path is not None and str(exc)
    else:
        conform(df, "responses")
        assert df["response_id"].is_unique and len(df) > 0
