"""Schema validation lists every problem at once; the one validation contract (Report)."""

from __future__ import annotations

import pandas as pd
import pytest

from thematic.errors import InputError, Problem, Report, ValidationError, check_option
from thematic.schemas import SCHEMAS, conform, validate_table


def test_all_problems_listed_with_rows():
    df = pd.DataFrame(
        {
            "response_id": ["r1", "r2"],
            "code": ["x", None],
            "start": [0, 9],
            "end": [3, 2],
            "excerpt": ["abc", "?"],
            "coder": ["a", "b"],
        }
    )
    with pytest.raises(ValidationError) as info:
        conform(df, "codings", source="codings.csv")
    err = info.value
    assert len(err.problems) == 2
    text = str(err)
    assert "codings.csv" in text and "'code'" in text and "end must be >= start" in text
    assert "rows 1" in text


def test_valid_table_is_coerced():
    df = pd.DataFrame(
        {"response_id": ["r1"], "code": ["x"], "start": ["0"], "end": [3], "excerpt": ["abc"],
         "coder": ["a"]}
    )
    out = conform(df, "codings")
    assert out["start"].dtype.kind == "i"


def test_unknown_table():
    with pytest.raises(InputError, match="table must be one of .*'codings'.*not 'nope'"):
        conform(pd.DataFrame(), "nope")
    with pytest.raises(InputError, match="not 'nope'"):
        validate_table(pd.DataFrame(), "nope")


def test_documented_tables_exist():
    assert {"responses", "segments", "codings", "audit", "topics", "quotes"} <= set(SCHEMAS)


def test_duplicate_ids_rejected():
    df = pd.DataFrame({"response_id": ["a", "a"], "respondent_id": [None, None],
                       "question": ["q", "q"], "text": ["x", "y"]})
    with pytest.raises(ValidationError, match="response_id"):
        conform(df, "responses")


def test_validate_table_returns_a_report_and_never_raises():
    df = pd.DataFrame({"response_id": ["r1", "r2"], "code": ["x", None], "start": [0, 9],
                       "end": [3, 2], "excerpt": ["abc", "?"], "coder": ["a", "b"]})
    report = validate_table(df, "codings", source="codings.csv")
    assert isinstance(report, Report) and not report.ok and report.table is None
    assert report.what == "codings.csv"
    assert len(report.errors) == 2 and report.warnings == []
    assert {p.kind for p in report.problems} == {"schema"}
    assert any("end must be >= start" in line for line in report.lines())
    frame = report.to_frame()
    assert list(frame.columns) == ["severity", "kind", "location", "message"]
    assert set(frame["severity"]) == {"error"}
    with pytest.raises(ValidationError, match="codings.csv: 2 problems"):
        report.raise_for_errors()


def test_validate_table_gives_the_coerced_table_when_it_fits():
    df = pd.DataFrame({"response_id": ["r1"], "code": ["x"], "start": ["0"], "end": [3],
                       "excerpt": ["abc"], "coder": ["a"]})
    report = validate_table(df, "codings")
    assert report.ok and report.problems == []
    assert report.table["start"].dtype.kind == "i"
    report.raise_for_errors()  # nothing to raise


def test_report_sorts_errors_before_warnings_by_severity():
    warn = Problem("reanchored", "moved", "row 3", "warning")
    err = Problem("unknown_code", "no such code", "row 2")
    report = Report([warn, err], what="codings.csv")
    assert report.errors == [err] and report.warnings == [warn]
    assert report.lines() == ["error: [unknown_code] row 2: no such code",
                              "warning: [reanchored] row 3: moved"]
    assert Report([warn]).ok
    assert str(report).startswith("codings.csv: 1 error(s), 1 warning(s)")


def test_check_option_names_option_value_and_choices():
    assert check_option("level", "code", ("code", "theme")) == "code"
    with pytest.raises(InputError) as info:
        check_option("level", "topic", ("code", "theme"))
    assert str(info.value) == "level must be one of 'code', 'theme', not 'topic'"
    with pytest.raises(InputError, match="not \\[1\\]"):
        check_option("level", [1], {"code"})  # unhashable: still a clear InputError
