"""Schemas of the tidy tables passed between stages.

Every public function that takes or returns one of these tables validates it with
:func:`validate`, which raises :class:`thematic.errors.ValidationError` listing every
failing column and row at once.

Tables (one row per thing, stable ids):

``responses``
    One row per respondent x open-text question. ``response_id`` (unique, stable),
    ``respondent_id`` (may be missing: the published extracts do not identify
    respondents), ``question``, ``group`` (e.g. caucus), ``session``, ``text_raw``
    (as exported, never modified), ``text`` (cleaned and de-identified), plus
    boolean ``flag_*`` columns from cleaning and any metadata the export carried.
``segments``
    ``response_id, segment_id, start, end, text``: character offsets into the
    response ``text`` (``text[start:end] == segment text``).
``codings``
    ``response_id, code, start, end, excerpt, coder, memo``: one row per coded segment;
    ``code`` is a code or theme id of the codebook.
``audit``
    ``response_id, stage, action, reason, detail``: one row per change or exclusion.
    ``detail`` never holds identifying plaintext.
``topics``
    ``response_id, model, seed, topic, probability``.
``quotes``
    Extracts read out of a source document by :func:`thematic.sources.extract_quotes`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from .errors import Problem, ValidationError

__all__ = ["SCHEMAS", "validate", "audit_frame", "is_missing"]

_str = pa.Column(str, nullable=False)
_opt_str = pa.Column(str, nullable=True, required=False)
_nonneg = pa.Column(int, pa.Check.ge(0), nullable=False, coerce=True)


def _id(name: str) -> pa.Column:
    return pa.Column(str, pa.Check.str_length(min_value=1), nullable=False, unique=True, title=name)


RESPONSES = pa.DataFrameSchema(
    {
        "response_id": _id("response_id"),
        "respondent_id": pa.Column(str, nullable=True),
        "question": pa.Column(str, nullable=True),
        "group": pa.Column(str, nullable=True, required=False),
        "session": pa.Column(str, nullable=True, required=False),
        "text_raw": pa.Column(str, nullable=True, required=False),
        "text": pa.Column(str, nullable=True),
    },
    strict=False,
    name="responses",
)

SEGMENTS = pa.DataFrameSchema(
    {
        "response_id": _str,
        "segment_id": _id("segment_id"),
        "start": _nonneg,
        "end": _nonneg,
        "text": _str,
    },
    checks=[pa.Check(lambda d: d["end"] >= d["start"], error="end must be >= start")],
    strict=False,
    name="segments",
)

CODINGS = pa.DataFrameSchema(
    {
        "response_id": _str,
        "code": _str,
        "start": _nonneg,
        "end": _nonneg,
        "excerpt": pa.Column(str, nullable=True),
        "coder": _str,
        "memo": pa.Column(str, nullable=True, required=False),
    },
    checks=[pa.Check(lambda d: d["end"] >= d["start"], error="end must be >= start")],
    strict=False,
    name="codings",
)

AUDIT = pa.DataFrameSchema(
    {
        "response_id": pa.Column(str, nullable=True),
        "stage": _str,
        "action": _str,
        "reason": _str,
        "detail": pa.Column(str, nullable=True),
    },
    strict=False,
    name="audit",
)

TOPICS = pa.DataFrameSchema(
    {
        "response_id": _str,
        "model": _str,
        "seed": pa.Column(int, nullable=False, coerce=True),
        "topic": pa.Column(int, nullable=False, coerce=True),
        "probability": pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True),
    },
    strict=False,
    name="topics",
)

QUOTES = pa.DataFrameSchema(
    {
        "response_id": _id("response_id"),
        "section": _str,
        "theme_number": pa.Column(int, pa.Check.ge(1), coerce=True),
        "theme": _str,
        "position": pa.Column(int, pa.Check.ge(1), coerce=True),
        "group": _str,
        "attribution_as_published": _str,
        "text_as_published": _str,
        "text": _str,
        "line": pa.Column(int, pa.Check.ge(1), coerce=True),
    },
    strict=False,
    name="quotes",
)

#: Every schema by table name.
SCHEMAS: dict[str, pa.DataFrameSchema] = {
    s.name: s for s in (RESPONSES, SEGMENTS, CODINGS, AUDIT, TOPICS, QUOTES)
}


def validate(df: pd.DataFrame, table: str, *, source: str | None = None) -> pd.DataFrame:
    """Validate ``df`` against the schema of ``table`` and return it (dtypes coerced).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    table : str
        One of ``SCHEMAS``: ``responses``, ``segments``, ``codings``, ``audit``,
        ``topics``, ``quotes``.
    source : str, optional
        File name or description used in the error message.

    Raises
    ------
    ValidationError
        Listing every failing column/check and the first failing rows of each.
    """
    try:
        schema = SCHEMAS[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {sorted(SCHEMAS)}") from None
    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        problems = []
        cases = exc.failure_cases.copy()
        table_level = cases["schema_context"] == "DataFrameSchema"
        cases["column"] = cases["column"].astype(object).where(~table_level, None)
        for (col, check), grp in cases.groupby(["column", "check"], dropna=False, sort=True):
            idx = sorted({int(i) for i in grp["index"].tolist() if i is not None and not pd.isna(i)})
            rows = f" (rows {', '.join(str(i) for i in idx[:5])}{', ...' if len(idx) > 5 else ''})"
            col_txt = "table" if col is None or pd.isna(col) else f"column {col!r}"
            problems.append(
                Problem("schema", f"{col_txt} fails {check}{rows if idx else ''}", source or table)
            )
        raise ValidationError(source or table, problems) from None
    except SchemaError as exc:  # pragma: no cover - lazy=True collects errors
        raise ValidationError(source or table, [Problem("schema", str(exc))]) from None


AUDIT_COLUMNS = ["response_id", "stage", "action", "reason", "detail"]


def is_missing(value: Any) -> bool:
    """Return True for ``None``, ``NaN`` and ``pd.NA`` (and False for lists or other objects)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def audit_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a validated ``audit`` table from row dicts (missing keys become NA)."""
    data = {c: pd.array([r.get(c) for r in rows], dtype="str") for c in AUDIT_COLUMNS}
    return validate(pd.DataFrame(data), "audit")
