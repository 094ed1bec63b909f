"""Schema validation lists every problem at once."""

from __future__ import annotations

import pandas as pd
import pytest

from thematic.errors import ValidationError
from thematic.schemas import SCHEMAS, validate


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
        validate(df, "codings", source="codings.csv")
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
    out = validate(df, "codings")
    assert out["start"].dtype.kind == "i"


def test_unknown_table():
    with pytest.raises(KeyError, match="unknown table"):
        validate(pd.DataFrame(), "nope")


def test_documented_tables_exist():
    assert {"responses", "segments", "codings", "audit", "topics", "quotes"} <= set(SCHEMAS)


def test_duplicate_ids_rejected():
    df = pd.DataFrame({"response_id": ["a", "a"], "respondent_id": [None, None],
                       "question": ["q", "q"], "text": ["x", "y"]})
    with pytest.raises(ValidationError, match="response_id"):
        validate(df, "responses")
