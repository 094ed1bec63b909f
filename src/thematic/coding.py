"""Coded segments: reading, checking, summarising, several coders, the published codings.

Codings are kept in ``corpus/coding/codings.csv``, one row per coded segment::

    response_id, code, start, end, excerpt, coder, memo

``code`` is a code, theme or subtheme id of the codebook; ``start``/``end`` are
character offsets (Unicode code points, as Python counts them) into the response
``text``; ``excerpt`` is ``text[start:end]`` as it was when the segment was coded, used
to re-anchor the segment if the text changes; ``coder`` names who coded it
(``published`` for the slide authors' analysis).

:func:`validate_codings` lists every problem of a codings table at once in a
:class:`~thematic.errors.Report`, whose ``table`` holds the corrected (re-anchored)
codings. Summaries are tidy frames of *counts*: in reflexive
thematic analysis how often something was coded is not a measure of its importance.
Agreement between coders (:func:`coder_agreement`) is available for users of
coding-reliability or codebook approaches, and always comes with a note that reflexive
thematic analysis does not treat agreement as a quality criterion.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import Codebook, roll_up
from .errors import InputError, Problem, Report, ValidationError, check_option
from .io import read_csv, write_csv
from .schemas import coerce_flags, conform

__all__ = [
    "CODINGS_COLUMNS",
    "PUBLISHED_CODER",
    "SECTION_IDS",
    "AGREEMENT_NOTE",
    "Agreement",
    "empty_codings",
    "read_codings",
    "write_codings",
    "read_responses",
    "validate_codings",
    "response_summary",
    "theme_counts",
    "theme_by_group",
    "cooccurrence",
    "illustrative_extracts",
    "merge_codings",
    "disagreements",
    "coder_agreement",
    "published_codings",
    "check_against_source",
    "Memo",
    "parse_memo",
    "read_memos",
    "write_memo",
]

#: Columns of a codings table, in file order.
CODINGS_COLUMNS: list[str] = ["response_id", "code", "start", "end", "excerpt", "coder", "memo"]

#: Coder name of the codings that encode the published analysis (the slide authors').
PUBLISHED_CODER: str = "published"

#: Section heading on the slides -> stable section id.
SECTION_IDS: dict[str, str] = {
    "Racially Minoritised Caucus": "RMC",
    "White Caucus": "WC",
    "Facilitators": "FAC",
    "Inter-caucus": "IC",
}

#: Printed with every agreement statistic.
AGREEMENT_NOTE: str = (
    "Reflexive thematic analysis (Braun & Clarke 2019, 2021) does not treat agreement "
    "between coders as a quality criterion: coding is interpretative and themes are "
    "developed by the researcher, so a high or low alpha says nothing about the quality "
    "of the analysis. Krippendorff's alpha is offered for coding-reliability and codebook "
    "approaches; in reflexive TA use the disagreement table to prompt reflexive "
    "discussion, not to converge on a 'correct' coding."
)

# --------------------------------------------------------------------------- reading / writing


def empty_codings() -> pd.DataFrame:
    """Return an empty codings table with the right columns and dtypes."""
    return _typed(pd.DataFrame({c: [] for c in CODINGS_COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in CODINGS_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    for c in ("response_id", "code", "excerpt", "coder", "memo"):
        df[c] = df[c].astype("string")
    for c in ("start", "end"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    extra = [c for c in df.columns if c not in CODINGS_COLUMNS]
    return df[CODINGS_COLUMNS + extra]


def read_responses(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a responses table (``corpus/processed/responses.csv``) with text columns as text.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pandas.DataFrame
        Validated against the ``responses`` schema.

    Raises
    ------
    InputError
        If the file is missing.
    ValidationError
        If it does not fit the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("responses file not found", path=path)
    df = read_csv(path)
    # keep text exactly: an empty text is an empty string, not missing
    df = coerce_flags(df, source=str(path))
    return conform(df, "responses", source=str(path))


def read_codings(
    path: str | os.PathLike[str],
    responses: pd.DataFrame | None = None,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Read a codings CSV.

    Parameters
    ----------
    path : str or os.PathLike
        The ``codings.csv``.
    responses : pandas.DataFrame, optional
        If given (with ``codebook``), the codings are checked with
        :func:`validate_codings`; re-anchored segments are returned corrected and
        reported with :func:`warnings.warn`.
    codebook : Codebook, optional
        See ``responses``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CODINGS_COLUMNS` (``start``/``end`` as ``Int64``) plus any extra
        columns of the file. An empty (0-byte or blank) file gives an empty table.

    Raises
    ------
    InputError
        If the file is missing, not UTF-8 (naming the byte offset and line: the file is
        never decoded by guessing, as offsets count characters of the text), not a
        well-formed CSV, or lacks required columns.
    ValidationError
        If offsets are not whole numbers (ASCII digits) or are too large (more than 18
        digits), naming row and column, or (with ``responses``/``codebook``) listing
        every error of :func:`validate_codings`.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> codings = thematic.read_codings(study.paths.codings)
    >>> len(codings), list(codings.columns)
    (598, ['response_id', 'code', 'start', 'end', 'excerpt', 'coder', 'memo'])
    >>> codings[["response_id", "code", "start", "end"]].head(2)
             response_id               code  start  end
    0  P-010ea680ebdd:q1  manager-check-ins      0   44
    1  P-010ea680ebdd:q1       peer-support     59  110
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("codings file not found", path=path)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if len(head) < 4096 and not head.removeprefix(b"\xef\xbb\xbf").strip():
        return empty_codings()  # a 0-byte (or blank) file: no codings yet
    raw = read_csv(path)  # UTF-8 only: another encoding is an InputError naming byte and line
    missing = [c for c in CODINGS_COLUMNS if c not in raw.columns and c != "memo"]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(CODINGS_COLUMNS)}", path=path)
    problems = []
    for c in ("start", "end"):
        vals = raw[c]
        bad = vals.notna() & ~vals.fillna("0").str.fullmatch(r"\s*[0-9]+\s*")
        for i in np.flatnonzero(bad.to_numpy()):
            v = str(vals.iloc[i])
            shown = repr(v) if len(v) <= 40 else f"{v[:20]!r}... ({len(v)} characters)"
            problems.append(Problem("bad_offset", f"column {c!r}: {shown} is not a whole "
                                    "number >= 0", f"{path} row {i + 2}"))
        # offsets are int64: more than 18 significant digits would wrap round
        big = vals.notna() & ~bad & (vals.fillna("0").str.strip().str.lstrip("0").str.len() > 18)
        for i in np.flatnonzero(big.to_numpy()):
            v = str(vals.iloc[i]).strip()
            shown = repr(v) if len(v) <= 40 else f"{v[:20]!r}... ({len(v)} digits)"
            problems.append(Problem("bad_offset", f"column {c!r}: {shown} is too large for a "
                                    "character offset", f"{path} row {i + 2}"))
    if problems:
        raise ValidationError(str(path), problems)
    df = _typed(raw)
    if responses is not None or codebook is not None:
        report = validate_codings(df, responses, codebook, what=str(path))
        report.raise_for_errors()
        for p in report.warnings:
            if p.kind != "uncoded_response":
                warnings.warn(str(p), stacklevel=2)
        df = report.table
    return df


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["response_id", "start", "end", "code", "coder"], kind="stable",
                          na_position="last").reset_index(drop=True)


def write_codings(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write codings atomically and deterministically.

    Rows are sorted by ``response_id, start, end, code, coder``; columns are
    :data:`CODINGS_COLUMNS` followed by any extra columns. The file is written to a
    temporary file and renamed into place, so a failure leaves the previous file intact.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValidationError
        If the table does not fit the ``codings`` schema (nothing is written).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> mine = study.codings()
    >>> path = thematic.write_codings(mine[mine["code"] == "peer-support"], study.root / "peer.csv")
    >>> len(thematic.read_codings(path))
    62
    """
    out = _sorted(_typed(df))
    conform(out, "codings", source=str(path))  # missing values or end < start: nothing written
    return write_csv(out, path)


# --------------------------------------------------------------------------- validation


def _warning(kind: str, message: str, location: str = "") -> Problem:
    """Return a problem that was corrected, or that calls for attention (not an error)."""
    return Problem(kind, message, location, "warning")


def _row_loc(what: str, i: int) -> str:
    return f"{what} row {i + 2}"


def validate_codings(
    codings: pd.DataFrame,
    responses: pd.DataFrame | None,
    codebook: Codebook | None,
    *,
    what: str = "codings",
) -> Report:
    """Check codings against the responses and the codebook, listing every problem at once.

    Errors: missing values in required columns, unknown response ids, codes that are not
    in the codebook (or are section ids: sections are not codable), offsets out of range
    or reversed, empty segments, excerpts not found in their response, duplicate
    segments (same response, code, span and coder).

    Corrections (warnings): an excerpt that is no longer at its offsets but occurs
    elsewhere in the same response is re-anchored to the occurrence nearest its old
    start; a missing excerpt is filled from the text.

    Reminders (warnings): responses nobody has coded (phase 2 of reflexive TA gives every
    item equal attention; an uncoded response may be a deliberate decision, but should
    be one).

    Parameters
    ----------
    codings : pandas.DataFrame
        Codings table.
    responses : pandas.DataFrame or None
        ``response_id`` and ``text``; ``None`` skips the checks that need the text.
    codebook : Codebook or None
        ``None`` skips the code checks.
    what : str
        Name used in problem locations (the file name); row numbers are CSV rows
        (header = row 1).

    Returns
    -------
    thematic.errors.Report
        ``problems`` (errors then warnings) and ``table``: the codings corrected
        (re-anchored offsets, filled excerpts).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> codings = study.codings()
    >>> report = thematic.validate_codings(codings, study.analysable(), study.codebook)
    >>> report.ok, len(report.problems)
    (True, 0)
    >>> codings.loc[0, "code"] = "peer suport"          # a typing error
    >>> codings.loc[1, "start"] += 1                     # offsets one character off
    >>> print(thematic.validate_codings(codings, study.analysable(), study.codebook,
    ...                                 what="codings.csv"))  # doctest: +NORMALIZE_WHITESPACE
    codings.csv: 1 error(s), 1 warning(s)
    error: [unknown_code] codings.csv row 2: code 'peer suport' is not in the codebook
    warning: [reanchored] codings.csv row 3: excerpt no longer at 60:110 in
    P-010ea680ebdd:q1; re-anchored to 59:110
    """
    df = _typed(codings).reset_index(drop=True)
    errors: list[Problem] = []
    warns: list[Problem] = []
    texts: dict[str, str] = {}
    if responses is not None:
        texts = {str(r): ("" if pd.isna(t) else str(t))
                 for r, t in zip(responses["response_id"], responses["text"], strict=True)}
    codable: set[str] = set()
    sections: set[str] = set()
    if codebook is not None:
        sections = {s.id for s in codebook.sections}
        codable = codebook.ids() - sections
    starts = df["start"].to_numpy(dtype=object)
    ends = df["end"].to_numpy(dtype=object)
    excerpts = df["excerpt"].to_numpy(dtype=object)
    for i, row in enumerate(df.itertuples(index=False)):
        loc = _row_loc(what, i)
        for col in ("response_id", "code", "coder", "start", "end"):
            v = getattr(row, col)
            if pd.isna(v) or (isinstance(v, str) and not v.strip()):
                errors.append(Problem("missing_value", f"missing {col}", loc))
        rid, code = row.response_id, row.code
        if codebook is not None and not pd.isna(code):
            if code in sections:
                errors.append(Problem("not_codable", f"{code!r} is a section id; sections are "
                                      "not codable, code to a theme or code", loc))
            elif code not in codable:
                errors.append(Problem("unknown_code", f"code {code!r} is not in the codebook",
                                      loc))
        if responses is None or pd.isna(rid):
            continue
        if rid not in texts:
            errors.append(Problem("unknown_response", f"response {rid!r} is not in the responses",
                                  loc))
            continue
        text = texts[rid]
        s, e = row.start, row.end
        if pd.isna(s) or pd.isna(e):
            continue
        s, e = int(s), int(e)
        exc = None if pd.isna(row.excerpt) else str(row.excerpt)
        if s < 0 or e > len(text) or e < s:
            if exc and exc in text:
                s2 = _nearest(text, exc, s)
                starts[i], ends[i] = s2, s2 + len(exc)
                warns.append(_warning("reanchored", f"offsets {s}:{e} out of range for {rid} "
                                     f"(length {len(text)}); excerpt found at {s2}:{s2 + len(exc)}",
                                     loc))
            else:
                errors.append(Problem("offset_out_of_range", f"offsets {s}:{e} outside {rid} "
                                      f"(length {len(text)})", loc))
            continue
        if e == s:
            errors.append(Problem("empty_segment", f"empty segment {s}:{e} in {rid}", loc))
            continue
        if exc is None:
            excerpts[i] = text[s:e]
            warns.append(_warning("excerpt_filled", f"missing excerpt filled from {rid}[{s}:{e}]",
                                 loc))
        elif text[s:e] != exc:
            if exc and exc in text:
                s2 = _nearest(text, exc, s)
                starts[i], ends[i] = s2, s2 + len(exc)
                warns.append(_warning("reanchored", f"excerpt no longer at {s}:{e} in {rid}; "
                                     f"re-anchored to {s2}:{s2 + len(exc)}", loc))
            else:
                errors.append(Problem("excerpt_not_found", f"excerpt {_short(exc)!r} is neither "
                                      f"at {s}:{e} nor anywhere else in {rid}", loc))
    fixed = df.copy()
    fixed["start"] = pd.array(starts, dtype="Int64")
    fixed["end"] = pd.array(ends, dtype="Int64")
    fixed["excerpt"] = pd.array(excerpts, dtype="string")
    # duplicates, judged on the corrected offsets
    key = ["response_id", "code", "start", "end", "coder"]
    dup = fixed.duplicated(key, keep=False) & fixed[key].notna().all(axis=1)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i in np.flatnonzero(dup.to_numpy()):
        groups[tuple(fixed.loc[i, key])].append(i)
    for (rid, code, s, e, coder), idx in groups.items():
        errors.append(Problem("duplicate_segment", f"{rid}[{s}:{e}] coded {code!r} by {coder!r} "
                              f"{len(idx)} times (rows {', '.join(str(i + 2) for i in idx)})",
                              what))
    if responses is not None:
        coded = set(fixed["response_id"].dropna())
        for rid in responses["response_id"]:
            if rid not in coded:
                warns.append(_warning("uncoded_response", "no segment of this response is coded "
                                     "(phase 2 gives every item equal attention)",
                                     f"response {rid}"))
    return Report(problems=errors + warns, what=what, table=fixed)


def _nearest(text: str, excerpt: str, start: int) -> int:
    best, pos = None, text.find(excerpt)
    while pos != -1:
        if best is None or abs(pos - start) < abs(best - start):
            best = pos
        pos = text.find(excerpt, pos + 1)
    assert best is not None
    return best


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------------------- summaries


def group_order(values: Iterable, groups: Sequence[str] | None = None) -> list:
    """Order the groups present in ``values``: the study's order first, then alphabetical.

    Groups listed in ``groups`` come first, in its order; the others follow
    alphabetically; missing values are left out.

    Parameters
    ----------
    values : iterable
        Group labels (e.g. a responses table's ``group`` column).
    groups : sequence of str, optional
        The study's order of groups (its settings' ``group.order``).

    Returns
    -------
    list
    """
    vals = {v for v in values if not pd.isna(v)}
    known = [g for g in (groups or ()) if g in vals]
    return known + sorted(vals - set(known), key=str)


_group_order = group_order


def _roll_up(codings: pd.DataFrame, codebook: Codebook, level: str) -> pd.DataFrame:
    """Add ``unit_id`` (theme or section id of each coding, by :func:`~thematic.codebook.roll_up`).

    Segments that count for no theme (or no section) and unknown codes are left out.
    """
    check_option("level", level, ("theme", "section"))
    rolled = roll_up(codings, codebook, unknown="drop")
    out = rolled.assign(unit_id=rolled["theme_id" if level == "theme" else "section_id"])
    return out[out["unit_id"].notna()].drop(columns=["theme_id", "section_id"])


def response_summary(responses: pd.DataFrame, by: str | Sequence[str] = "group") -> pd.DataFrame:
    """Count responses and their length per group (familiarisation, phase 1).

    Parameters
    ----------
    responses : pandas.DataFrame
        Responses table (``response_id``, ``respondent_id``, ``text`` and the ``by`` columns).
    by : str or sequence of str
        Column(s) to group by.

    Returns
    -------
    pandas.DataFrame
        ``*by, n_responses, n_respondents`` (missing when any respondent is not
        identified), ``words_median, words_min, words_max``, and a final ``All`` row.
    """
    by = [by] if isinstance(by, str) else list(by)
    r = responses.copy()
    r["_words"] = r["text"].fillna("").str.split().str.len().astype("int64")

    def agg(d: pd.DataFrame) -> dict:
        ids = d["respondent_id"] if "respondent_id" in d else pd.Series([pd.NA] * len(d))
        return {
            "n_responses": len(d),
            "n_respondents": pd.NA if ids.isna().any() else ids.nunique(),
            "words_median": float(d["_words"].median()) if len(d) else np.nan,
            "words_min": int(d["_words"].min()) if len(d) else 0,
            "words_max": int(d["_words"].max()) if len(d) else 0,
        }

    rows = []
    order = _group_order(r[by[0]]) if len(by) == 1 else None
    for keys, d in r.groupby(by, sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        rows.append({**dict(zip(by, keys, strict=True)), **agg(d)})
    rows.append({**{b: "All" for b in by}, **agg(r)})
    out = pd.DataFrame(rows)
    if order is not None:
        rank = {g: i for i, g in enumerate([*order, "All"])}
        out = out.sort_values(by[0], key=lambda s: s.map(rank).fillna(len(rank)),
                              kind="stable").reset_index(drop=True)
    out["n_respondents"] = out["n_respondents"].astype("Int64")
    for b in by:
        out[b] = out[b].astype("string")
    return out


def theme_counts(
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str | Sequence[str] = (),
    level: str = "theme",
    coder: str | None = None,
    groups: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Count extracts, segments and respondents per theme (or section), optionally per group.

    These are counts, not prevalence-as-importance: in reflexive thematic analysis a
    theme matters because of what it captures about the research question, not because
    of how many extracts it holds (Braun & Clarke 2006, p. 82; 2021).

    Segments coded to a code or subtheme count for the top-level theme that holds it.
    Every theme (or section) of the codebook gets a row for every value of ``by``, with
    zero counts where nothing is coded.

    Parameters
    ----------
    codings, responses : pandas.DataFrame
        Codings and responses tables.
    codebook : Codebook
    by : str or sequence of str
        Response columns to break the counts down by (``"group"``, ``"session"``).
    level : {"theme", "section"}
        Count per top-level theme or per section.
    coder : str, optional
        Only this coder's segments (default: every coder's, a response counted once).
    groups : sequence of str, optional
        Order of the values of ``by`` (the study's group order); others follow
        alphabetically.

    Returns
    -------
    pandas.DataFrame
        ``section_id, section, [theme_id, theme,] *by, n_segments, n_extracts,
        n_respondents``: ``n_extracts`` is the number of responses with at least one
        segment coded; ``n_respondents`` the number of distinct respondents, missing
        (``<NA>``) when any of those responses has no respondent id (the published
        extracts do not identify respondents).
    """
    by = [by] if isinstance(by, str) else list(by)
    c = _typed(codings)
    if coder is not None:
        c = c[c["coder"] == coder]
    c = _roll_up(c, codebook, level)
    meta_cols = ["response_id", "respondent_id", *by]
    resp = responses.copy()
    if "respondent_id" not in resp:
        resp["respondent_id"] = pd.NA
    c = c.merge(resp[meta_cols], on="response_id", how="left")
    if level == "theme":
        units = [(codebook.section_of(t.id), t) for t in codebook.themes()]
    else:
        units = [(s, None) for s in codebook.sections]
    combos: list[tuple] = [()]
    for b in by:
        combos = [(*k, v) for k in combos for v in group_order(resp[b], groups)]
    rows = []
    for sec, th in units:
        uid = th.id if th is not None else sec.id
        sub = c[c["unit_id"] == uid]
        for combo in combos:
            d = sub
            for b, v in zip(by, combo, strict=True):
                d = d[d[b] == v]
            resp_ids = d.drop_duplicates("response_id")
            row = {"section_id": sec.id if sec is not None else pd.NA,
                   "section": sec.name if sec is not None else pd.NA}
            if th is not None:
                row |= {"theme_id": th.id, "theme": th.name}
            row |= dict(zip(by, combo, strict=True))
            row |= {
                "n_segments": len(d.drop_duplicates(["response_id", "start", "end"])),
                "n_extracts": len(resp_ids),
                "n_respondents": pd.NA if resp_ids["respondent_id"].isna().any()
                else resp_ids["respondent_id"].nunique(),
            }
            rows.append(row)
    out = pd.DataFrame(rows)
    for col in out.columns:
        if col.startswith("n_"):
            out[col] = out[col].astype("Int64")
        else:
            out[col] = out[col].astype("string")
    return out


def theme_by_group(codings: pd.DataFrame, responses: pd.DataFrame,
                   codebook: Codebook, *, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Count extracts and respondents per theme and group, as a long tidy table.

    Counts, not importance (see :func:`theme_counts`). The group is the responses'
    ``group`` column (what it means, e.g. a caucus or a staff group, is the study's
    setting ``group.label``).

    Parameters
    ----------
    codings, responses : pandas.DataFrame
    codebook : Codebook
    groups : sequence of str, optional
        The study's order of groups (others follow alphabetically).

    Returns
    -------
    pandas.DataFrame
        ``section_id, theme_id, theme, group, n_extracts, n_respondents`` (one row per
        theme x group, zeros included; ``n_respondents`` is ``<NA>`` where respondents are
        not identified, as in the published data).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> table = thematic.theme_by_group(study.codings(analysable=True), study.analysable(),
    ...                                 study.codebook, groups=study.settings.groups)
    >>> table[["theme_id", "group", "n_extracts"]].head(3)
      theme_id                        group  n_extracts
    0       T1        Nursing and midwifery          22
    1       T1           Medical and dental          14
    2       T1  Allied health professionals          10
    """
    t = theme_counts(codings, responses, codebook, by="group", groups=groups)
    return t[["section_id", "theme_id", "theme", "group", "n_extracts", "n_respondents"]]


def cooccurrence(codings: pd.DataFrame, codebook: Codebook, *,
                 level: str = "theme") -> pd.DataFrame:
    """Count responses coded with both of two themes (co-occurrence within a response).

    Parameters
    ----------
    codings : pandas.DataFrame
    codebook : Codebook
    level : {"theme", "section"}
        Top-level themes (codes and subthemes roll up) or sections.

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair ``a <= b`` in codebook order: ``id_a, name_a, id_b,
        name_b, n_responses``; the diagonal (``a == b``) counts responses coded with ``a``.
    """
    c = _roll_up(_typed(codings), codebook, level)
    if level == "theme":
        units = [(t.id, t.name) for t in codebook.themes()]
    else:
        units = [(s.id, s.name) for s in codebook.sections]
    sets: dict[str, set[str]] = {u: set() for u, _ in units}
    for rid, uid in zip(c["response_id"], c["unit_id"], strict=True):
        sets[uid].add(rid)
    rows = []
    for i, (a, na) in enumerate(units):
        for b, nb in units[i:]:
            rows.append({"id_a": a, "name_a": na, "id_b": b, "name_b": nb,
                         "n_responses": len(sets[a] & sets[b])})
    out = pd.DataFrame(rows, columns=["id_a", "name_a", "id_b", "name_b", "n_responses"])
    out["n_responses"] = out["n_responses"].astype("int64")
    return out


def illustrative_extracts(
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    codebook: Codebook,
    per_theme: int = 3,
    *,
    order: str = "position",
    group_col: str = "group",
    max_chars: int | None = None,
    groups: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Choose illustrative extracts per theme for the write-up, deterministically.

    Rule: for each top-level theme, take the coded segments (codes and subthemes count
    for their theme; one segment per response, the earliest), group them by
    ``group_col``, order each group (``order="position"``: order of the
    responses table, i.e. order in the source; ``order="length"``: shortest first, then
    position), and take one from each group in turn (groups in the order of ``groups``,
    then alphabetical) until ``per_theme`` are chosen.
    This spreads the extracts across groups; it does not judge which extract is most
    vivid, which remains the researcher's choice.

    Parameters
    ----------
    codings, responses : pandas.DataFrame
    codebook : Codebook
    per_theme : int
        Extracts per theme (fewer when a theme has fewer).
    order : {"position", "length"}
        Order within a group.
    group_col : str
        Response column to spread over.
    max_chars : int, optional
        Skip segments longer than this.
    groups : sequence of str, optional
        The study's order of groups (others follow alphabetically).

    Returns
    -------
    pandas.DataFrame
        ``section_id, theme_id, theme, rank, response_id, group, start, end, excerpt,
        n_chars``.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> chosen = thematic.illustrative_extracts(study.codings(analysable=True), study.analysable(),
    ...                                         study.codebook, per_theme=2,
    ...                                         groups=study.settings.groups)
    >>> chosen[["theme_id", "rank", "group"]].head(2)
      theme_id  rank                  group
    0       T1     1  Nursing and midwifery
    1       T1     2     Medical and dental
    >>> chosen.loc[0, "excerpt"]
    'my line manager checks in with me every week'
    """
    check_option("order", order, ("position", "length"))
    c = _roll_up(_typed(codings), codebook, "theme")
    pos = {r: i for i, r in enumerate(responses["response_id"])}
    grp = dict(zip(responses["response_id"], responses[group_col], strict=True)) \
        if group_col in responses else {}
    texts = dict(zip(responses["response_id"], responses["text"], strict=True))
    c = c[c["response_id"].isin(pos)]
    rows = []
    for th in codebook.themes():
        d = c[c["unit_id"] == th.id].copy()
        d["_pos"] = d["response_id"].map(pos)
        d = d.sort_values(["_pos", "start", "end"], kind="stable").drop_duplicates("response_id")
        d["excerpt"] = [texts[r][int(s):int(e)] for r, s, e in
                        zip(d["response_id"], d["start"], d["end"], strict=True)]
        d["n_chars"] = d["excerpt"].str.len()
        if max_chars is not None:
            d = d[d["n_chars"] <= max_chars]
        if order == "length":
            d = d.sort_values(["n_chars", "_pos", "start"], kind="stable")
        d["grp_"] = [grp.get(r, pd.NA) for r in d["response_id"]]
        queues = {g: list(d[d["grp_"] == g].itertuples(index=False))
                  for g in group_order(d["grp_"], groups)}
        nogroup = list(d[d["grp_"].isna()].itertuples(index=False))
        if nogroup:
            queues["\0"] = nogroup
        chosen = []
        while len(chosen) < per_theme and any(queues.values()):
            for g in list(queues):
                if queues[g] and len(chosen) < per_theme:
                    chosen.append(queues[g].pop(0))
        for rank, r in enumerate(chosen, 1):
            sec = codebook.section_of(th.id)
            rows.append({"section_id": sec.id if sec is not None else None,
                         "theme_id": th.id,
                         "theme": th.name, "rank": rank, "response_id": r.response_id,
                         "group": r.grp_, "start": int(r.start), "end": int(r.end),
                         "excerpt": r.excerpt, "n_chars": int(r.n_chars)})
    cols = ["section_id", "theme_id", "theme", "rank", "response_id", "group", "start", "end",
            "excerpt", "n_chars"]
    out = pd.DataFrame(rows, columns=cols)
    for col in ("section_id", "theme_id", "theme", "response_id", "group", "excerpt"):
        out[col] = out[col].astype("string")
    for col in ("rank", "start", "end", "n_chars"):
        out[col] = out[col].astype("int64")
    return out


# --------------------------------------------------------------------------- several coders


def merge_codings(
    sources: Sequence[pd.DataFrame | str | os.PathLike[str]],
    *,
    coders: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """Merge per-coder codings into one table without losing any segment.

    Every row of every input is kept. Rows identical in ``response_id, code, start,
    end, coder`` coming from several inputs are kept once, with every input named in
    ``source`` (``"a.csv; b.csv"``) and differing memos joined with `` | ``.

    Parameters
    ----------
    sources : sequence of DataFrame or path
        Codings tables or CSV files (one per coder, typically).
    coders : sequence of str or None, optional
        Coder name for each input, used where its ``coder`` column is empty (an input
        without coder column gets this name on every row).

    Returns
    -------
    pandas.DataFrame
        :data:`CODINGS_COLUMNS` + ``source`` (provenance: file name, or ``input N``),
        sorted like :func:`write_codings`.

    Raises
    ------
    InputError
        If a segment ends up without a coder.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("several-coders")
    >>> merged = thematic.merge_codings(study.codings_files())
    >>> merged["coder"].value_counts().to_dict(), merged["source"].unique().tolist()
    ({'researcher': 598, 'amina': 136}, ['codings.csv', 'codings-amina.csv'])
    """
    if coders is not None and len(coders) != len(sources):
        raise InputError(f"coders must give one name (or None) per source: {len(coders)} "
                         f"name(s) for {len(sources)} source(s)")
    frames = []
    for i, src in enumerate(sources):
        if isinstance(src, pd.DataFrame):
            df, name = src.copy(), f"input {i + 1}"
        else:
            p = Path(src)
            raw = read_csv(p)
            if "coder" not in raw.columns:
                raw["coder"] = pd.NA
            df, name = raw, p.name
        prior = df["source"].astype("string") if "source" in df.columns else None
        df = _typed(df)
        if coders is not None and coders[i] is not None:
            df["coder"] = df["coder"].fillna(coders[i])
        if df["coder"].isna().any():
            raise InputError(f"segments without coder in {name}; pass coders=[...]")
        # an already merged table keeps its provenance (e.g. when a third coder joins)
        df["source"] = name if prior is None else prior.fillna(name).to_numpy()
        frames.append(df[[*CODINGS_COLUMNS, "source"]])
    if not frames:
        return _typed(pd.DataFrame(columns=[*CODINGS_COLUMNS, "source"]))
    allc = pd.concat(frames, ignore_index=True)
    key = ["response_id", "code", "start", "end", "coder"]

    def join(vals: pd.Series, sep: str) -> object:
        seen = list(dict.fromkeys(v for v in vals if not pd.isna(v) and v != ""))
        return sep.join(seen) if seen else pd.NA

    merged = (
        allc.groupby(key, sort=False, dropna=False)
        .agg(excerpt=("excerpt", "first"), memo=("memo", lambda s: join(s, " | ")),
             source=("source", lambda s: join(s, "; ")))
        .reset_index()
    )
    return _sorted(_typed(merged)[[*CODINGS_COLUMNS, "source"]])


def disagreements(codings: pd.DataFrame, coders: Sequence[str] | None = None) -> pd.DataFrame:
    """List where coders differ, for the team to discuss.

    For each pair of coders and each response both coded (at least one segment):

    * ``different_codes``: overlapping spans coded with different codes, where neither
      coder applied the other's code there (reported once per pair);
    * ``only_one_coder``: a segment one coder coded with a code the other did not apply
      to any overlapping span (and that is not a ``different_codes`` case);
    * ``different_span``: the same code on overlapping but not identical spans.

    Parameters
    ----------
    codings : pandas.DataFrame
        Codings of several coders (e.g. from :func:`merge_codings`).
    coders : sequence of str, optional
        Coders to compare (default: every coder, in alphabetical order).

    Returns
    -------
    pandas.DataFrame
        ``response_id, kind, coder, code, start, end, other_coder, other_code,
        other_start, other_end, excerpt``, sorted by response, kind and span.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("several-coders")
    >>> table = thematic.disagreements(study.codings())
    >>> table["kind"].value_counts().to_dict()
    {'only_one_coder': 17, 'different_span': 9, 'different_codes': 8}
    >>> table.loc[0, ["coder", "code", "other_coder", "other_code", "excerpt"]].tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    ['amina', 'peer-support', 'researcher', 'staff-networks',
     'the staff network gave me people who understand']
    """
    c = _typed(codings)
    coders = sorted(c["coder"].dropna().unique()) if coders is None else list(coders)
    segs: dict[tuple[str, str], list[tuple[str, int, int, str]]] = defaultdict(list)
    for r in c.itertuples(index=False):
        segs[(r.coder, r.response_id)].append((r.code, int(r.start), int(r.end),
                                               "" if pd.isna(r.excerpt) else r.excerpt))
    rows = []

    def overl(a: tuple, b: tuple) -> bool:
        return a[1] < b[2] and b[1] < a[2]

    for ca in coders:
        for cb in coders:
            if ca == cb:
                continue
            for rid in sorted({r for (cc, r) in segs if cc == ca} & {r for (cc, r) in segs
                                                                      if cc == cb}):
                mine, theirs = segs[(ca, rid)], segs[(cb, rid)]
                first = coders.index(ca) < coders.index(cb)
                for m in mine:
                    ov = [t for t in theirs if overl(m, t)]
                    same = [t for t in ov if t[0] == m[0]]
                    if same:
                        if first:
                            rows.extend(_dis(rid, "different_span", ca, m, cb, t) for t in same
                                        if (t[1], t[2]) != (m[1], m[2]))
                        continue
                    subs = [t for t in ov
                            if t[0] not in {x[0] for x in mine if overl(x, t)}]
                    if not subs:
                        rows.append(_dis(rid, "only_one_coder", ca, m, cb, None))
                    elif first:
                        rows.extend(_dis(rid, "different_codes", ca, m, cb, t) for t in subs)
    cols = ["response_id", "kind", "coder", "code", "start", "end", "other_coder",
            "other_code", "other_start", "other_end", "excerpt"]
    out = pd.DataFrame(rows, columns=cols)
    kind_rank = {"different_codes": 0, "only_one_coder": 1, "different_span": 2}
    out = out.sort_values(["response_id", "kind", "start", "end", "coder", "code", "other_coder"],
                          key=lambda s: s.map(kind_rank) if s.name == "kind" else s,
                          kind="stable").reset_index(drop=True)
    for col in ("start", "end", "other_start", "other_end"):
        out[col] = out[col].astype("Int64")
    for col in ("response_id", "kind", "coder", "code", "other_coder", "other_code", "excerpt"):
        out[col] = out[col].astype("string")
    return out


def _dis(rid: str, kind: str, coder: str, m: tuple, other: str, t: tuple | None) -> dict:
    return {"response_id": rid, "kind": kind, "coder": coder, "code": m[0], "start": m[1],
            "end": m[2], "other_coder": other, "other_code": t[0] if t else pd.NA,
            "other_start": t[1] if t else pd.NA, "other_end": t[2] if t else pd.NA,
            "excerpt": m[3]}


@dataclass
class Agreement:
    """Krippendorff's alpha between coders, with the note that must accompany it.

    Attributes
    ----------
    alpha : float
        Nominal alpha over all (response, code) units; ``nan`` when undefined (fewer than
        two coders, or no variation).
    note : str
        :data:`AGREEMENT_NOTE`: reflexive TA does not treat agreement as quality.
    n_coders, n_units : int
        Coders compared; (response, code) units with at least two coders' values.
    by_code : pandas.DataFrame
        ``code, alpha, n_units`` per code.
    """

    alpha: float
    note: str
    n_coders: int
    n_units: int
    by_code: pd.DataFrame

    def __str__(self) -> str:
        a = "undefined" if np.isnan(self.alpha) else f"{self.alpha:.3f}"
        return (f"Krippendorff's alpha (nominal, response x code presence): {a} "
                f"({self.n_coders} coders, {self.n_units} units)\nNote: {self.note}")

    def _repr_pretty_(self, p, cycle) -> None:  # noqa: D401 - IPython hook
        p.text(str(self))


def _alpha(matrix: np.ndarray) -> float:
    import krippendorff

    usable = (~np.isnan(matrix)).sum(axis=0) >= 2
    m = matrix[:, usable]
    vals = np.unique(m[~np.isnan(m)])
    if m.shape[0] < 2 or m.shape[1] == 0 or len(vals) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=m, level_of_measurement="nominal"))


def coder_agreement(
    codings: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders: Sequence[str] | None = None,
    level: str = "code",
) -> Agreement:
    """Krippendorff's alpha (nominal) between coders, by response x code presence.

    Units are (response, code) pairs; a coder's value is 1 if they applied the code
    anywhere in the response, 0 if they coded the response but not with that code, and
    missing if they coded nothing in it. The result always carries
    :data:`AGREEMENT_NOTE`: reflexive thematic analysis does not treat agreement as a
    quality criterion.

    Parameters
    ----------
    codings : pandas.DataFrame
        Codings of two or more coders.
    codebook : Codebook, optional
        With ``level="theme"``, used to roll codes up to top-level themes; also fixes
        the code list (codes nobody applied count as agreed absences).
    coders : sequence of str, optional
        Coders to compare (default: all).
    level : {"code", "theme"}
        Compare codes as coded, or top-level themes.

    Returns
    -------
    Agreement
        ``.alpha``, ``.note``, ``.n_coders``, ``.n_units``, ``.by_code``.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("several-coders")
    >>> agreement = thematic.coder_agreement(study.codings(), study.codebook)
    >>> round(agreement.alpha, 2), agreement.n_coders
    (0.88, 2)
    >>> print(agreement.note)  # doctest: +ELLIPSIS
    Reflexive thematic analysis (Braun & Clarke 2019, 2021) does not treat agreement ...
    """
    check_option("level", level, ("code", "theme"))
    c = _typed(codings)
    if level == "theme":
        if codebook is None:
            raise InputError("level='theme' needs the codebook")
        c = _roll_up(c, codebook, "theme").assign(code=lambda d: d["unit_id"])
    coders = sorted(c["coder"].dropna().unique()) if coders is None else list(coders)
    c = c[c["coder"].isin(coders)]
    if codebook is not None:
        codes = [t.id for t in codebook.themes()] if level == "theme" else \
            [i for i in [*(t.id for t in codebook.all_themes()), *(k.id for k in codebook.codes())]]
        codes += sorted(set(c["code"]) - set(codes))
    else:
        codes = sorted(c["code"].dropna().unique())
    responses = sorted(c["response_id"].dropna().unique())
    applied = {(r.coder, r.response_id, r.code) for r in c.itertuples(index=False)}
    covered = {(r.coder, r.response_id) for r in c.itertuples(index=False)}
    units = [(rid, code) for rid in responses for code in codes]
    mat = np.full((len(coders), len(units)), np.nan)
    for i, coder in enumerate(coders):
        for j, (rid, code) in enumerate(units):
            if (coder, rid) in covered:
                mat[i, j] = 1.0 if (coder, rid, code) in applied else 0.0
    n_units = int(((~np.isnan(mat)).sum(axis=0) >= 2).sum()) if len(coders) else 0
    per = []
    for code in codes:
        idx = [j for j, u in enumerate(units) if u[1] == code]
        sub = mat[:, idx] if idx else np.empty((len(coders), 0))
        per.append({"code": code, "alpha": _alpha(sub) if len(coders) >= 2 else float("nan"),
                    "n_units": int(((~np.isnan(sub)).sum(axis=0) >= 2).sum()) if idx else 0})
    by_code = pd.DataFrame(per, columns=["code", "alpha", "n_units"])
    by_code["code"] = by_code["code"].astype("string")
    alpha = _alpha(mat) if len(coders) >= 2 else float("nan")
    return Agreement(alpha=alpha, note=AGREEMENT_NOTE, n_coders=len(coders), n_units=n_units,
                     by_code=by_code)


# --------------------------------------------------------------------------- published analysis


def _theme_id(section: str, number: int, section_ids: Mapping[str, str]) -> str:
    try:
        return f"{section_ids[section]}-T{int(number)}"
    except KeyError:
        raise InputError(f"section {section!r} has no id; known: "
                         f"{', '.join(section_ids)}") from None


def published_codings(
    quotes: pd.DataFrame,
    *,
    section_ids: Mapping[str, str] | None = None,
    coder: str = PUBLISHED_CODER,
) -> pd.DataFrame:
    """Encode the published analysis as codings: each extract coded, whole, to its theme.

    Parameters
    ----------
    quotes : pandas.DataFrame
        Output of :func:`thematic.sources.extract_quotes` (``response_id, section,
        theme_number, text``).
    section_ids : mapping, optional
        Section heading -> section id (default :data:`SECTION_IDS`); the theme id is
        ``<section id>-T<theme number>``.
    coder : str
        Coder name (default ``"published"``: the slide authors' analysis).

    Returns
    -------
    pandas.DataFrame
        Codings table: one row per extract, ``start = 0``, ``end = len(text)``,
        ``excerpt = text``, sorted like :func:`write_codings`.

    Raises
    ------
    InputError
        If a section has no id.
    """
    ids = dict(SECTION_IDS if section_ids is None else section_ids)
    df = pd.DataFrame({
        "response_id": quotes["response_id"],
        "code": [_theme_id(s, n, ids) for s, n in zip(quotes["section"], quotes["theme_number"],
                                                       strict=True)],
        "start": 0,
        "end": quotes["text"].str.len(),
        "excerpt": quotes["text"],
        "coder": coder,
        "memo": pd.NA,
    })
    return _sorted(_typed(df))


def check_against_source(
    codings: pd.DataFrame,
    quotes: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    section_ids: Mapping[str, str] | None = None,
    coder: str = PUBLISHED_CODER,
) -> Report:
    """Check that each extract is coded to the theme under which the source prints it.

    Parameters
    ----------
    codings : pandas.DataFrame
        Codings (only ``coder``'s rows are checked).
    quotes : pandas.DataFrame
        :func:`thematic.sources.extract_quotes` output.
    codebook : Codebook, optional
        If given, also checks that each theme's name and section name are exactly as
        printed.
    section_ids : mapping, optional
        Section heading -> id (default :data:`SECTION_IDS`).
    coder : str
        The coder whose codings encode the source.

    Returns
    -------
    Report
        Errors: an extract not coded, coded to another theme, not coded whole, or coded
        to an extra theme; a theme or section name differing from the source.
    """
    ids = dict(SECTION_IDS if section_ids is None else section_ids)
    c = _typed(codings)
    c = c[c["coder"] == coder]
    problems: list[Problem] = []
    by_resp: dict[str, list] = defaultdict(list)
    for r in c.itertuples(index=False):
        by_resp[r.response_id].append(r)
    for q in quotes.itertuples(index=False):
        expected = _theme_id(q.section, q.theme_number, ids)
        loc = f"{q.response_id} (source line {q.line})"
        got = by_resp.pop(q.response_id, [])
        codes = sorted({r.code for r in got})
        if not got:
            problems.append(Problem("not_coded", f"not coded by {coder!r}; the source prints it "
                                    f"under {expected} {q.theme!r}", loc))
            continue
        if expected not in codes:
            problems.append(Problem("wrong_theme", f"coded {', '.join(codes)}; the source prints "
                                    f"it under {expected} {q.theme!r}", loc))
        for extra in (x for x in codes if x != expected):
            if expected in codes:
                problems.append(Problem("extra_code", f"also coded {extra}; the source prints it "
                                        f"only under {expected}", loc))
        for r in got:
            if r.code == expected and (int(r.start), int(r.end)) != (0, len(q.text)):
                problems.append(Problem("partial", f"coded {r.start}:{r.end}, the whole extract "
                                        f"is 0:{len(q.text)}", loc))
        if codebook is not None:
            try:
                th = codebook.find(expected)
            except KeyError:
                problems.append(Problem("missing_theme", f"codebook has no theme {expected}",
                                        loc))
            else:
                if th.name != q.theme:
                    problems.append(Problem("theme_name", f"codebook names {expected} "
                                            f"{th.name!r}; the source prints {q.theme!r}", loc))
                sec = codebook.section_of(expected)
                if sec is None or sec.name != q.section:
                    problems.append(Problem("section_name", f"codebook puts {expected} in "
                                            f"{sec.name if sec else None!r}; the source in "
                                            f"{q.section!r}", loc))
    for rid in sorted(by_resp):
        problems.append(Problem("not_in_source", f"coded by {coder!r} but not an extract of the "
                                "source", rid))
    return Report(problems=problems, what="codings vs source", table=_typed(codings))


# --------------------------------------------------------------------------- memos


@dataclass
class Memo:
    """A reflexive journal entry or memo: a dated Markdown file with front matter.

    Attributes
    ----------
    name : str
        File name without ``.md`` (e.g. ``2026-11-26-encoding-the-published-map``).
    date : str
        ISO date (``YYYY-MM-DD``).
    author : str
        Who wrote it.
    about : list of str
        Ids (sections, themes, codes, responses) the memo is about.
    body : str
        Markdown text after the front matter.
    """

    name: str
    date: str
    author: str
    about: list[str] = field(default_factory=list)
    body: str = ""

    def to_text(self) -> str:
        """Return the file text: YAML front matter (date, author, about) then the body."""
        import yaml

        front = yaml.safe_dump({"date": self.date, "author": self.author,
                                "about": list(self.about)},
                               sort_keys=False, allow_unicode=True, width=1_000_000,
                               default_flow_style=None)
        body = self.body if self.body.endswith("\n") else self.body + "\n"
        return f"---\n{front}---\n\n{body.lstrip(chr(10))}"


def parse_memo(text: str, name: str, *, source: str = "") -> Memo:
    """Parse a memo file's text (front matter with ``date``, ``author``, ``about``).

    Parameters
    ----------
    text : str
        File text.
    name : str
        Memo name (file name without ``.md``).
    source : str
        File name for error messages.

    Returns
    -------
    Memo

    Raises
    ------
    ValidationError
        Listing every problem: missing front matter, missing or non-ISO ``date``,
        missing ``author``, ``about`` not a list of ids.
    """
    import re

    where = source or name
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    m = re.match(r"^---\n(.*?)\n---\n?(.*)$", text, flags=re.S)
    if not m:
        raise ValidationError(where, [Problem("front_matter", "no YAML front matter "
                                              "(--- date/author/about ---)", where)])
    from .io import parse_yaml

    try:  # limited: no alias bomb, no 20,000-deep nesting
        meta = parse_yaml(m.group(1)) or {}
    except InputError as exc:
        raise ValidationError(where, [Problem("front_matter", f"front matter is not YAML: "
                                              f"{exc}", where)]) from None
    problems = []
    if not isinstance(meta, dict):
        meta = {}
        problems.append(Problem("front_matter", "front matter is not a mapping", where))
    date = str(meta.get("date", "") or "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        problems.append(Problem("date", f"date {date!r} is not YYYY-MM-DD", where))
    author = str(meta.get("author", "") or "")
    if not author.strip():
        problems.append(Problem("author", "missing author", where))
    about = meta.get("about") or []
    if isinstance(about, str):
        about = [about]
    if not isinstance(about, list):
        problems.append(Problem("about", "about must be a list of ids", where))
        about = []
    if problems:
        raise ValidationError(where, problems)
    return Memo(name=name, date=date, author=author, about=[str(a) for a in about],
                body=m.group(2).lstrip("\n"))


def read_memos(directory: str | os.PathLike[str]) -> list[Memo]:
    """Read every memo ``*.md`` in ``directory`` (``README.md`` excepted), by name.

    Parameters
    ----------
    directory : str or os.PathLike
        ``corpus/memos/``.

    Returns
    -------
    list of Memo
        Sorted by file name (dated names sort by date).

    Raises
    ------
    ValidationError
        Listing every problem of every memo.
    """
    from .io import read_utf8

    memos, problems = [], []
    for p in sorted(Path(directory).glob("*.md")):
        if p.name.lower() == "readme.md":
            continue
        try:  # UTF-8 only: another encoding is reported with its byte offset and line
            memos.append(parse_memo(read_utf8(p, what="memo", with_line=True), p.stem,
                                    source=str(p)))
        except ValidationError as exc:
            problems.extend(exc.problems)
        except InputError as exc:
            problems.append(Problem("encoding", exc.message,
                                    f"{p} row {exc.row}" if exc.row else str(p)))
    if problems:
        raise ValidationError(str(directory), problems)
    return memos


def write_memo(memo: Memo, directory: str | os.PathLike[str]) -> Path:
    """Write ``memo`` to ``<directory>/<memo.name>.md`` atomically.

    Parameters
    ----------
    memo : Memo
    directory : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    from .io import atomic_write_text

    return atomic_write_text(Path(directory) / f"{memo.name}.md", memo.to_text())
