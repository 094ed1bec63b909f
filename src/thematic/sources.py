"""Read attributed extracts and context tables out of a source document.

A report or slide deck that publishes a thematic analysis typically prints, under a
section heading and a ``Theme N: Name`` heading, bulleted extracts each followed by an
attribution (``*White Caucus Member*``, or the attribution on its own line).
:func:`extract_quotes` turns such text into one tidy row per extract, keeping the
extract exactly as published next to a cleaned ``text``.

:func:`extract_context_tables` reads the tab-separated tables of the seed document (the
WRES indicators 2016-2021 and the NHS Talking Therapies recovery tables for North East
and Yorkshire) into tidy long tables. :func:`build_corpus` writes every derived table
under ``corpus/`` from ``corpus/raw/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .config import project_paths
from .errors import InputError
from .io import atomic_write_text, read_utf8, write_csv
from .schemas import conform

__all__ = [
    "DEFAULT_GROUPS",
    "extract_quotes",
    "extract_context_tables",
    "build_corpus",
    "read_source",
    "summarise_quotes",
]

#: Attribution stem (lower case) -> group name used in the corpus.
DEFAULT_GROUPS: dict[str, str] = {
    "racially minoritised caucus": "Racially Minoritised Caucus",
    "racially minoritized caucus": "Racially Minoritised Caucus",
    "white caucus": "White Caucus",
}

_THEME_RE = re.compile(r"^\s*Theme\s+(\d+)\s*:\s*(?P<name>\S.*?)\s*$")
_BULLET_RE = re.compile(r"^\s*[-•–]\s+(?P<body>\S.*?)\s*$")
# an attribution in markdown emphasis at the end of a bullet: ... *White Caucus Member*
_INLINE_ATTR_RE = re.compile(r"\s*\*(?P<attr>[^*]+?)\*\s*$")
_OPEN_QUOTES = "“\"‘"
_CLOSE_QUOTES = "”\"’"
_TRAILING_PUNCT = ".,;:!? \t"


def read_source(path: str | os.PathLike[str]) -> str:
    r"""Read a source document as UTF-8 text with ``\n`` newlines.

    Raises
    ------
    InputError
        If the file is missing, empty or not UTF-8.
    """
    p = Path(path)
    text = read_utf8(p, what="source document")
    if not text.strip():
        raise InputError("source document is empty", path=p)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _group_of(attribution: str, groups: Mapping[str, str]) -> str | None:
    key = re.sub(r"\s+", " ", attribution.strip().strip(".:").lower())
    key = re.sub(r"\s+members?$", "", key)
    return groups.get(key)


def _clean_extract(published: str) -> str:
    """Return the respondent's words: the extract without quotation marks or emphasis.

    The result is always a contiguous substring of ``published`` (after removing ``**``),
    so it can be traced back to the source.
    """
    s = published.replace("**", "").strip()
    if s and s[0] in _OPEN_QUOTES:
        s = s[1:]
    # closing quotation mark followed only by the slide's sentence punctuation
    m = re.search(rf"[{_CLOSE_QUOTES}][{re.escape(_TRAILING_PUNCT)}]*$", s)
    if m:
        s = s[: m.start()]
    return s.strip()


def extract_quotes(
    text: str,
    *,
    groups: Mapping[str, str] | None = None,
    source: str = "",
    id_prefix: str = "E",
) -> pd.DataFrame:
    """Read attributed extracts out of report or slide text.

    A quote is a bulleted line under a ``Theme N: Name`` heading that carries an
    attribution, either in emphasis at the end of the line (``*White Caucus Member*``)
    or alone on the next non-blank line. The section is the last non-blank line above
    the ``Theme`` heading (trailing ``:`` removed). Other text (diagram labels, notes)
    is ignored.

    Parameters
    ----------
    text : str
        The document text.
    groups : mapping, optional
        Lower-case attribution stem -> group name (``"white caucus"`` ->
        ``"White Caucus"``); a trailing "Member(s)" is ignored. Defaults to
        :data:`DEFAULT_GROUPS`.
    source : str
        Name of the document, used in error messages.
    id_prefix : str
        Prefix of the response ids, which number the extracts in order of appearance
        (``E01``, ``E02``, ...).

    Returns
    -------
    pandas.DataFrame
        Schema ``quotes``: ``response_id``, ``section``, ``theme_number``, ``theme``
        (exactly as printed), ``position`` (1-based within the theme),
        ``group`` (the author's group from the attribution), ``attribution_as_published``,
        ``text_as_published`` (the extract as printed, without bullet and attribution),
        ``text`` (without surrounding quotation marks and markdown emphasis; editorial
        marks such as ``[...]`` kept), ``line`` (1-based line in the document),
        ``text_sha256``.

    Raises
    ------
    InputError
        If an attribution names no known group, or no extract is found.
    """
    groups = dict(DEFAULT_GROUPS if groups is None else groups)
    lines = text.replace("\r\n", "\n").split("\n")
    rows: list[dict] = []
    section: str | None = None
    theme: tuple[int, str] | None = None
    last_nonblank = ""
    position = 0
    consumed: set[int] = set()  # attribution lines that belong to the quote above them

    def next_nonblank(i: int) -> tuple[int, str]:
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        return j, (lines[j].strip() if j < len(lines) else "")

    for i, line in enumerate(lines):
        stripped = line.strip()
        m_theme = _THEME_RE.match(line)
        if m_theme:
            section = last_nonblank.rstrip(":").strip() or section
            theme = (int(m_theme.group(1)), m_theme.group("name"))
            position = 0
        elif theme is not None and (m_b := _BULLET_RE.match(line)):
            body = m_b.group("body")
            attribution = None
            m_attr = _INLINE_ATTR_RE.search(body)
            if m_attr and _group_of(m_attr.group("attr"), groups):
                attribution = m_attr.group("attr").strip()
                body = body[: m_attr.start()].rstrip()
            else:
                j, nxt = next_nonblank(i)
                if nxt and not _BULLET_RE.match(nxt) and _group_of(nxt.strip("*"), groups):
                    attribution = nxt.strip("*").strip()
                    consumed.add(j)
            if attribution is not None:
                position += 1
                cleaned = _clean_extract(body)
                if not cleaned:
                    raise InputError("empty extract", path=source or None, row=i + 1)
                rows.append(
                    {
                        "section": section,
                        "theme_number": theme[0],
                        "theme": theme[1],
                        "position": position,
                        "group": _group_of(attribution, groups),
                        "attribution_as_published": attribution,
                        "text_as_published": body,
                        "text": cleaned,
                        "line": i + 1,
                    }
                )
        if stripped and i not in consumed and not m_theme and not _BULLET_RE.match(line):
            last_nonblank = stripped
    if not rows:
        raise InputError("no attributed extracts found under 'Theme N:' headings", path=source or None)
    df = pd.DataFrame(rows)
    width = max(2, len(str(len(df))))
    df.insert(0, "response_id", [f"{id_prefix}{i:0{width}d}" for i in range(1, len(df) + 1)])
    df["text_sha256"] = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in df["text"]]
    return conform(df, "quotes", source=source or None)


def summarise_quotes(quotes: pd.DataFrame) -> pd.DataFrame:
    """Count extracts per slide section and theme, and by the author's group.

    Counts describe what the source prints; in reflexive TA they are not a measure of a
    theme's importance.

    Returns
    -------
    pandas.DataFrame
        One row per section x theme in document order: ``section``, ``theme_number``,
        ``theme``, ``n_extracts`` and one ``n_<group>`` column per group.
    """
    keys = ["section", "theme_number", "theme"]
    table = (
        pd.crosstab([quotes[k] for k in keys], quotes["group"])
        .reindex(pd.MultiIndex.from_frame(quotes[keys].drop_duplicates()))
        .fillna(0)
        .astype(int)
    )
    table.columns = [f"n_{c.lower().replace(' ', '_')}" for c in table.columns]
    table.insert(0, "n_extracts", table.sum(axis=1))
    return table.reset_index()


# --------------------------------------------------------------------------- context tables


def _block_after(lines: list[str], start_pattern: str, source: str) -> tuple[int, list[str]]:
    """Lines following the first line matching ``start_pattern`` until a blank line."""
    rx = re.compile(start_pattern)
    for i, line in enumerate(lines):
        if rx.search(line):
            block, j = [], i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            while j < len(lines) and lines[j].strip():
                block.append(lines[j])
                j += 1
            return i + 1, block
    raise InputError(f"table heading matching {start_pattern!r} not found", path=source or None)


def _number(cell: str, *, where: str, row: int, column: str) -> tuple[float, str]:
    """Parse ``'17.7% *'`` -> (17.7, '*'); ``'1.57'`` -> (1.57, '')."""
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*(\*?)\s*", cell)
    if not m:
        raise InputError(f"not a number: {cell!r}", path=where or None, row=row, column=column)
    return float(m.group(1)), m.group(2)


def _wres(lines: list[str], source: str) -> pd.DataFrame:
    head, block = _block_after(lines, r"^Table 1: WRES indicators", source)
    # block[0]: 'WRES indicator  Year', block[1]: years
    years = [int(y) for y in block[1].split("\t") if y.strip()]
    rows = []
    indicator, label = None, None
    for k, line in enumerate(block[2:], start=head + 3):
        cells = line.split("\t")
        if cells[0].strip():
            indicator, label = int(cells[0]), cells[1].strip()
        subgroup = cells[2].strip() or "All"
        values = [c for c in cells[3:] if c.strip()]
        if len(values) != len(years):
            raise InputError(
                f"WRES row has {len(values)} values for {len(years)} years", path=source or None, row=k
            )
        for year, cell in zip(years, values, strict=True):
            value, marker = _number(cell, where=source, row=k, column=str(year))
            rows.append(
                {
                    "indicator": indicator,
                    "indicator_label": label,
                    "subgroup": subgroup,
                    "year": year,
                    "value": value,
                    "unit": "percent" if "%" in cell else "ratio",
                    "marker": marker,
                    "value_as_published": cell.strip(),
                }
            )
    return pd.DataFrame(rows)


def _tab_table(lines: list[str], heading: str, source: str) -> tuple[int, list[str], list[list[str]]]:
    for i, line in enumerate(lines):
        if line.startswith(heading):
            header = [c.strip() for c in line.split("\t")]
            body, j = [], i + 1
            while j < len(lines) and lines[j].strip() and "\t" in lines[j]:
                body.append([c.strip() for c in lines[j].split("\t")])
                j += 1
            return i + 1, header, body
    raise InputError(f"table with header starting {heading!r} not found", path=source or None)


def _recovery(lines: list[str], source: str) -> pd.DataFrame:
    out = []
    tables = [
        ("outcomes_by_ethnic_group", "Organisation Name\tVariable Type"),
        ("recovery_by_ethnic_subgroup", "Variable Type\tVariable A\tVariable B\tRecovery Rate"),
    ]
    for table_id, heading in tables:
        head, header, body = _tab_table(lines, heading, source)
        measures = [h for h in header if h.endswith("Rate")]
        for k, cells in enumerate(body, start=head + 1):
            if len(cells) != len(header):
                raise InputError(
                    f"{len(cells)} cells for {len(header)} columns", path=source or None, row=k
                )
            rec = dict(zip(header, cells, strict=True))
            for measure in measures:
                value, _ = _number(rec[measure], where=source, row=k, column=measure)
                out.append(
                    {
                        "table": table_id,
                        "organisation": rec.get("Organisation Name", ""),
                        "variable_type": rec["Variable Type"],
                        "ethnic_group": rec["Variable A"],
                        "ethnic_subgroup": rec["Variable B"],
                        "measure": measure,
                        "value": value,
                        "unit": "percent",
                        "value_as_published": rec[measure],
                    }
                )
    return pd.DataFrame(out)


def extract_context_tables(text: str, *, source: str = "") -> dict[str, pd.DataFrame]:
    """Read the context tables of the seed document into tidy long tables.

    Parameters
    ----------
    text : str
        The document text (tab-separated tables as exported from the slides).
    source : str
        Name of the document, used in error messages.

    Returns
    -------
    dict of pandas.DataFrame
        ``"wres_indicators"``: one row per indicator x subgroup x year
        (``indicator, indicator_label, subgroup, year, value, unit, marker,
        value_as_published``); ``"talking_therapies_recovery"``: one row per table x
        ethnic group x measure (``table, organisation, variable_type, ethnic_group,
        ethnic_subgroup, measure, value, unit, value_as_published``). Labels are kept
        exactly as published, truncations ("...") included.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    return {
        "wres_indicators": _wres(lines, source),
        "talking_therapies_recovery": _recovery(lines, source),
    }


# --------------------------------------------------------------------------- corpus

RESPONSES_COLUMNS = [
    "response_id",
    "respondent_id",
    "question",
    "group",
    "session",
    "text",
    "text_as_published",
    "attribution_as_published",
    "source_line",
    "text_sha256",
]

#: Question label of the published extracts: the slides do not print the survey questions.
PUBLISHED_QUESTION = "post-meeting feedback (question wording not published)"


def quotes_to_responses(quotes: pd.DataFrame) -> pd.DataFrame:
    """Turn extracted quotes into the ``responses`` table of the corpus.

    Respondents and sessions are not identified in the published slides, so
    ``respondent_id`` and ``session`` are left missing rather than invented. The slide
    section and theme are coding, not response data: see ``corpus/coding/``.
    """
    df = pd.DataFrame(
        {
            "response_id": quotes["response_id"],
            "respondent_id": pd.array([pd.NA] * len(quotes), dtype="string"),
            "question": PUBLISHED_QUESTION,
            "group": quotes["group"],
            "session": pd.array([pd.NA] * len(quotes), dtype="string"),
            "text": quotes["text"],
            "text_as_published": quotes["text_as_published"],
            "attribution_as_published": quotes["attribution_as_published"],
            "source_line": quotes["line"].astype(int),
            "text_sha256": quotes["text_sha256"],
        }
    )
    return conform(df, "responses")


_DICTIONARY: dict[str, dict[str, str]] = {
    "responses": {
        "response_id": "Stable id: E + 2-digit order of appearance of the extract in the source document.",
        "respondent_id": "Not published (anonymous survey); always empty.",
        "question": "The survey question; its wording is not published in the source.",
        "group": "The author's caucus as the slide attributes it: 'Racially Minoritised Caucus' or 'White Caucus'.",
        "session": "CoP meeting; not published per extract; always empty.",
        "text": "The extract without surrounding quotation marks, markdown emphasis and attribution; editorial marks ([...], [I]) kept as published.",
        "text_as_published": "The extract exactly as printed in the source (quotation marks and emphasis included).",
        "attribution_as_published": "The attribution exactly as printed (e.g. 'White Caucus Members').",
        "source_line": "1-based line of the extract in corpus/raw/anti-racism-cop-slides.txt.",
        "text_sha256": "SHA-256 of text (UTF-8), to detect any change.",
    },
    "wres_indicators": {
        "indicator": "WRES indicator number (1-9).",
        "indicator_label": "Indicator wording as published.",
        "subgroup": "Overall / VSM (very senior managers) for indicator 1; BME / White for 5-8; All otherwise.",
        "year": "Year (2016-2021).",
        "value": "Value as a number: a percentage (0-100) or a relative likelihood ratio; see unit.",
        "unit": "'percent' or 'ratio'.",
        "marker": "'*' where the slide marks the value with an asterisk (the footnote is not in the source); empty otherwise.",
        "value_as_published": "Cell text as printed.",
    },
    "talking_therapies_recovery": {
        "table": "'outcomes_by_ethnic_group' (first slide table, 5 measures) or 'recovery_by_ethnic_subgroup' (second, 2 measures).",
        "organisation": "Organisation as printed (truncated in the source); empty in the second table, which the slide places under the same region.",
        "variable_type": "Always 'Ethnic Group'.",
        "ethnic_group": "Variable A: broad ethnic group as published.",
        "ethnic_subgroup": "Variable B: ethnic subgroup or 'All', as published (truncations kept).",
        "measure": "Recovery Rate, Reliable Recovery Rate, Reliable Improvement Rate, No Reliable Change Rate or Reliable Deterioration Rate.",
        "value": "Rate in percent.",
        "unit": "Always 'percent'.",
        "value_as_published": "Cell text as printed.",
    },
}

_TYPES = {"int64": "integer", "float64": "number", "bool": "boolean"}


def _datapackage(tables: dict[str, tuple[str, pd.DataFrame]]) -> str:
    resources = []
    for name, (relpath, df) in tables.items():
        fields = [
            {
                "name": col,
                "type": _TYPES.get(str(df[col].dtype), "string"),
                "description": _DICTIONARY[name][col],
            }
            for col in df.columns
        ]
        resources.append(
            {
                "name": name.replace("_", "-"),
                "path": relpath,
                "format": "csv",
                "encoding": "utf-8",
                "schema": {"fields": fields},
            }
        )
    package = {
        "name": "thematic-anti-racism-cop",
        "title": "Anti-Racism Community of Practice (NE & Yorkshire): published extracts and context tables",
        "description": "Derived by thematic.sources.build_corpus from corpus/raw/anti-racism-cop-slides.txt. Do not edit by hand.",
        "sources": [{"title": "Development of an Anti-Racism Community of Practice in the North-East & Yorkshire (PPN North East & Yorkshire), slide text", "path": "raw/anti-racism-cop-slides.txt"}],
        "resources": resources,
    }
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def build_corpus(root: str | os.PathLike[str] | None = None) -> dict[str, pd.DataFrame]:
    """Derive ``corpus/processed/responses.csv`` and ``corpus/context/*`` from ``corpus/raw/``.

    Also writes ``corpus/datapackage.json`` (a Frictionless data package describing every
    column). Files are written atomically and byte-identically on every run.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Project root; found from the working directory if omitted.

    Returns
    -------
    dict of pandas.DataFrame
        ``quotes``, ``responses``, ``wres_indicators``, ``talking_therapies_recovery``.
    """
    paths = project_paths(root)
    src = paths.source_document
    text = read_source(src)
    rel = str(src.relative_to(paths.root))
    quotes = extract_quotes(text, source=rel)
    responses = quotes_to_responses(quotes)
    context = extract_context_tables(text, source=rel)
    write_csv(responses, paths.responses)
    files = {"responses": ("processed/responses.csv", responses)}
    for name, df in context.items():
        write_csv(df, paths.context / f"{name}.csv")
        files[name] = (f"context/{name}.csv", df)
    atomic_write_text(paths.corpus / "datapackage.json", _datapackage(files))
    return {"quotes": quotes, "responses": responses, **context}
