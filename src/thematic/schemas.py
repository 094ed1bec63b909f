"""Schemas of the tidy tables passed between stages.

Every public function that takes or returns one of these tables passes it through
:func:`conform`, which coerces the dtypes and raises
:class:`thematic.errors.ValidationError` listing every failing column and row at once.
:func:`validate_table` runs the same checks and *returns* a
:class:`~thematic.errors.Report` instead (the validation contract of every
``validate_*``).

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

from .errors import Problem, Report, ValidationError, check_option

__all__ = ["SCHEMAS", "conform", "validate_table", "one_string_dtype", "audit_frame",
           "is_missing", "coerce_flags"]

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


def _schema_problems(df: pd.DataFrame, table: str, source: str | None
                     ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """``(coerced table, [])`` if ``df`` fits the schema of ``table``, else ``(None, problems)``."""
    schema = SCHEMAS[check_option("table", table, sorted(SCHEMAS))]
    try:
        return schema.validate(df, lazy=True), []
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
        return None, problems
    except SchemaError as exc:  # pragma: no cover - lazy=True collects errors
        return None, [Problem("schema", str(exc), source or table)]


def conform(df: pd.DataFrame, table: str, *, source: str | None = None) -> pd.DataFrame:
    """Coerce ``df`` to the schema of ``table`` and return it, or raise.

    The checks are those of :func:`validate_table`; this is the form used at public
    boundaries, where a table that does not fit must stop the call.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    table : str
        One of ``SCHEMAS``: ``responses``, ``segments``, ``codings``, ``audit``,
        ``topics``, ``quotes``.
    source : str, optional
        File name or description used in the error message.

    Returns
    -------
    pandas.DataFrame
        The table with its dtypes coerced.

    Raises
    ------
    InputError
        If ``table`` is not a known table name.
    ValidationError
        Listing every failing column/check and the first failing rows of each.
    """
    out, problems = _schema_problems(df, table, source)
    if problems:
        raise ValidationError(source or table, problems)
    assert out is not None
    return one_string_dtype(out)


def one_string_dtype(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every text column as pandas' ``"string"`` dtype (missing = ``pd.NA``).

    pandas 3 gives text columns built in memory the ``"str"`` dtype (missing = NaN) while
    the project's CSV reader gives ``"string"``; every table that crosses a public
    boundary (:func:`conform`) comes out with the one dtype, whatever made it.
    """
    cols = [c for c in df.columns if isinstance(df[c].dtype, pd.StringDtype)
            and df[c].dtype.na_value is not pd.NA]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].astype("string")
    return out


def validate_table(df: pd.DataFrame, table: str, *, source: str | None = None) -> Report:
    """Check ``df`` against the schema of ``table``, listing every problem at once.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    table : str
        One of ``SCHEMAS``: ``responses``, ``segments``, ``codings``, ``audit``,
        ``topics``, ``quotes``.
    source : str, optional
        File name or description used in problem locations.

    Returns
    -------
    thematic.errors.Report
        ``problems`` (every failing column/check and the first failing rows of each)
        and ``table``: the table with its dtypes coerced when it fits, else ``None``.

    Raises
    ------
    InputError
        If ``table`` is not a known table name.

    Examples
    --------
    >>> import pandas as pd
    >>> from thematic.schemas import validate_table
    >>> report = validate_table(pd.DataFrame({"response_id": ["R1", "R1"],
    ...                                       "respondent_id": [None, None],
    ...                                       "question": ["Q1", "Q1"],
    ...                                       "text": ["yes", "no"]}), "responses")
    >>> report.ok
    False
    >>> report.problems[0].message
    "column 'response_id' fails field_uniqueness (rows 0, 1)"
    """
    out, problems = _schema_problems(df, table, source)
    return Report(problems=problems, what=source or table, table=out)


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
    return conform(pd.DataFrame(data), "audit")


_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


def coerce_flags(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Return ``df`` with ``exclude`` and every ``flag_*`` column as booleans.

    A table read back from CSV holds these columns as text (``"True"``/``"False"``),
    and ``bool("False")`` is true: every reader of a cleaned table passes it through
    here. Accepted spellings (any case): true/1/yes/y/t and false/0/no/n/f; an empty
    cell is false.

    Parameters
    ----------
    df : pandas.DataFrame
    source : str, optional
        File name for error messages.

    Returns
    -------
    pandas.DataFrame
        A copy with those columns of dtype ``bool``.

    Raises
    ------
    ValidationError
        Naming every row and column holding another value.
    """
    cols = [c for c in df.columns if c == "exclude" or str(c).startswith("flag_")]
    if not cols:
        return df
    out = df.copy()
    problems: list[Problem] = []
    for c in cols:
        s = out[c]
        if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
            out[c] = s.astype(bool)
            continue
        vals = []
        for i, v in enumerate(s.tolist()):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                vals.append(False)
            elif isinstance(v, bool):
                vals.append(v)
            else:
                key = str(v).strip().lower()
                if key in _TRUE:
                    vals.append(True)
                elif key in _FALSE:
                    vals.append(False)
                else:
                    problems.append(Problem("not_boolean", f"{v!r} is not true/false",
                                            f"row {i + 2}, column {c!r}"))
                    vals.append(False)
        out[c] = pd.Series(vals, index=out.index, dtype=bool)
    if problems:
        raise ValidationError(source or "responses", problems)
    return out
