"""Read survey exports into one tidy table of responses.

:func:`read_export` detects the layout of an export (Qualtrics, Microsoft Forms, Google
Forms, SurveyMonkey, or a plain CSV/XLSX whose columns the caller names), its container
(CSV-like text or an XLSX workbook), encoding and delimiter, and returns a *long* table:
one row per respondent x open-text question.

Columns of the returned table
-----------------------------
``response_id``
    ``f"{respondent_id}:{question_slug}"``; unique and stable (reading the same export
    twice gives the same ids). A respondent id seen twice in one read (e.g. the same
    export appended to itself) gets ``~2``, ``~3``... on the later copies.
``respondent_id``
    The export's own id (Qualtrics ``ResponseId``, MS Forms ``ID``, SurveyMonkey
    ``Respondent ID``, ``id_column``, or in a plain table a column named ``id``,
    ``pid``, ``participant id``... whose values are all present and unique). Exports
    without one (Google Forms, other plain tables) use ``row-N``, N being the
    spreadsheet row, which is stable for the same export and for re-exports that only
    append rows. Ids that are e-mail addresses or come from a name/e-mail column are
    replaced by ``respondent-N`` (order of first appearance) so that no identifier
    reaches later stages.
``question``, ``question_id``
    The question text (Qualtrics second header row, SurveyMonkey question + sub-header,
    else the column header) and the column name it came from.
``group``, ``session``
    The caucus/group (``group_column``, else a column named like *caucus*/*group* with
    few distinct values) and the session (``session_column``, else a column named like
    *session*/*meeting*/*cohort*/*wave*, else the date part of the completion
    timestamp). Missing when not identifiable.
``text_raw``
    The cell exactly as exported (missing when the cell is empty).
``text``
    A copy of ``text_raw``. Each later stage transforms ``text`` in place:
    :func:`thematic.clean.clean_responses` normalises it and
    :func:`thematic.deidentify.deidentify` masks identifiers in it; ``text_raw`` is never
    modified and never written to public outputs.
``flag_preview``, ``flag_spam``, ``flag_unfinished``
    Qualtrics preview/test responses, responses marked spam, and unfinished responses
    (``Finished`` false or ``Progress`` < 100). Always present (false for layouts
    without such fields); :func:`thematic.clean.clean_responses` excludes flagged rows
    and lists them in its audit.
``source_file``, ``source_row``, ``source_format``
    File name (no directory), 1-based spreadsheet row of the respondent (header rows
    included) and the detected layout.
other columns
    Every other column of the export, kept as metadata under its header name
    (prefixed ``meta:`` if it clashes with a name above).

What happened while reading (layout, encoding, delimiter, renamed or dropped columns,
skipped blank rows, pseudonymised ids) is kept in ``df.attrs["thematic_ingest"]``;
:func:`ingest_audit` turns it into ``audit`` rows.

Reading rules
-------------
* Encoding: a byte-order mark (UTF-8/16/32) wins; else strict UTF-8; else UTF-16
  without BOM (NUL-byte pattern); else Windows-1252 when the decoded text reads like a
  Western European language (Excel's "CSV" on Windows). Anything else (another code
  page, UTF-8 mixed with stray single bytes, binary data) raises :class:`InputError`
  naming the byte offset and row; pass ``encoding=`` to read it. Nothing is decoded
  with replacement characters.
* Dialect: Excel's ``sep=;`` hint line, else :class:`csv.Sniffer` checked against
  the column counts of the first records (``,`` ``;`` TAB ``|``); quoted embedded
  newlines, CRLF and cells of any size are read as they are. A row with more values
  than the header is an error (a delimiter or quote is out of place); shorter rows are
  padded; blank rows are skipped and audited.
* Columns: trailing columns without header and data are dropped, blank headers are
  named ``column C``, duplicate headers become ``name (2)``.
* Layout: an explicit ``format=`` that does not fit the header is refused rather than
  misread.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as _dt
import hashlib
import io
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .schemas import audit_frame as _audit_frame
from .schemas import is_missing as _isna
from .schemas import validate

__all__ = [
    "FORMATS",
    "read_export",
    "read_exports",
    "ingest_audit",
    "looks_like_free_text",
    "identifying_column_names",
]

#: Values accepted by ``format=``. ``csv`` and ``xlsx`` both mean "plain layout": the
#: container (text or workbook) is always detected from the file's bytes.
FORMATS: tuple[str, ...] = (
    "auto",
    "qualtrics",
    "msforms",
    "googleforms",
    "surveymonkey",
    "csv",
    "xlsx",
)

_CORE = (
    "response_id",
    "respondent_id",
    "question",
    "question_id",
    "group",
    "session",
    "text_raw",
    "text",
    "flag_preview",
    "flag_spam",
    "flag_unfinished",
    "source_file",
    "source_row",
    "source_format",
)

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

#: Column names that identify a person (dropped from public outputs).
_IDENTIFYING_NAME_RE = re.compile(
    r"e-?mail|(?<![a-z])name(?![a-z])|first ?name|last ?name|surname|full ?name|ip ?address|"
    r"ipaddress|latitude|longitude|recipient|external ?(?:data ?)?ref|phone|mobile|"
    r"post ?code|zip ?code|(?<![a-z])address|date of birth|(?<![a-z])dob(?![a-z])|"
    r"nhs ?(?:no|number)|user ?name|custom data",
    re.IGNORECASE,
)
#: Column names of precise timestamps (quasi-identifiers: dropped from public outputs).
_TIMESTAMP_NAME_RE = re.compile(
    r"^(?:start ?date|end ?date|recorded ?date|start ?time|completion ?time|end ?time|"
    r"last modified ?time|submitted ?(?:at|time)?|submission ?(?:date|time)|timestamp|"
    r"date ?time|created ?(?:at|time))$",
    re.IGNORECASE,
)
_GROUP_NAME_RE = re.compile(r"caucus|(?<![a-z])group|affinity", re.IGNORECASE)
_SESSION_NAME_RE = re.compile(r"(?<![a-z])(?:session|meeting|cohort|wave)(?![a-z])", re.IGNORECASE)

# --------------------------------------------------------------------------- layouts

_QUALTRICS_META = {
    "startdate",
    "enddate",
    "status",
    "ipaddress",
    "progress",
    "duration (in seconds)",
    "finished",
    "recordeddate",
    "responseid",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "locationlatitude",
    "locationlongitude",
    "distributionchannel",
    "userlanguage",
    "responseset",
    "name",
    "emailaddress",
    "q_recaptchascore",
    "q_relevantidduplicate",
    "q_relevantidduplicatescore",
    "q_relevantidfraudscore",
    "q_relevantidlaststartdate",
    "q_ballotboxstuffing",
    "q_url",
    "_recordid",
    "locationaccuracy",
}
_MSFORMS_META = {
    "id",
    "start time",
    "completion time",
    "email",
    "name",
    "last modified time",
    "total points",
    "quiz feedback",
    "grade posted to learners",
    "language",
}
_GOOGLE_META = {"timestamp", "email address", "email", "username", "score", "total score"}
_SURVEYMONKEY_META = {
    "respondent id",
    "collector id",
    "start date",
    "end date",
    "ip address",
    "email address",
    "first name",
    "last name",
    "custom data 1",
    "custom data 2",
    "custom data",
}
_SURVEYMONKEY_OPEN = {"open-ended response", "other (please specify)", "other (please specify):"}
_SURVEYMONKEY_GENERIC = {"response", "open-ended response"}

_QUALTRICS_STATUS_PREVIEW = {
    "survey preview",
    "survey test",
    "1",
    "2",
    "offline survey preview",
    "17",
}
_QUALTRICS_STATUS_SPAM = {"spam", "preview spam", "imported spam", "8", "9", "12"}


@dataclass
class _Column:
    name: str  # unique header name
    question: str  # human question text
    signal: str | None = None  # "text" when the layout marks the column as open text
    role: str | None = None  # "meta" for layout metadata


@dataclass
class _Table:
    path: Path
    layout: str
    columns: list[_Column]
    data: list[list[str | None]]
    rows: list[int]  # spreadsheet row number of each data row
    header_rows: int
    notes: list[dict[str, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- public API


def read_export(
    path: str | os.PathLike[str],
    format: str = "auto",  # noqa: A002 - the documented keyword
    text_columns: Sequence[str] | str | None = None,
    group_column: str | None = None,
    id_column: str | None = None,
    *,
    session_column: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read one survey export into a long table of responses.

    Parameters
    ----------
    path : str or os.PathLike
        The export: CSV/TSV/"Unicode text" or XLSX.
    format : {"auto", "qualtrics", "msforms", "googleforms", "surveymonkey", "csv", "xlsx"}
        Layout. ``auto`` detects it from the header; ``csv`` and ``xlsx`` mean a plain
        table whose columns are named by the caller (or found heuristically).
    text_columns : sequence of str or str, optional
        Columns holding open-text answers (header names or question texts, compared
        case-insensitively). Default: layout-specific markers plus a heuristic
        (:func:`looks_like_free_text`).
    group_column, id_column, session_column : str, optional
        Columns holding the caucus/group, the respondent id and the session.
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).
    encoding : str, optional
        Text encoding; default: byte-order mark, else strict UTF-8, else UTF-16 without
        BOM, else Windows-1252 when a detector agrees. Anything else is refused.
    delimiter : str, optional
        Field delimiter of a text export; default: sniffed among ``, ; TAB |``.

    Returns
    -------
    pandas.DataFrame
        The ``responses`` table described in the module docstring, validated with
        :func:`thematic.schemas.validate`.

    Raises
    ------
    InputError
        Empty, binary, truncated or undecodable files, ragged rows, unknown layout
        without ``text_columns``, or a named column that does not exist, naming the file
        and the row/column at fault.
    """
    path = Path(path)
    if format not in FORMATS:
        raise InputError(
            f"unknown format {format!r}; choose one of {', '.join(FORMATS)}", path=path
        )
    if isinstance(text_columns, str):
        text_columns = [text_columns]
    grid, notes, info = _read_grid(path, sheet=sheet, encoding=encoding, delimiter=delimiter)
    table = _parse_layout(path, grid, format, notes, info)
    return _to_long(
        table,
        text_columns=list(text_columns) if text_columns else None,
        group_column=group_column,
        id_column=id_column,
        session_column=session_column,
    )


def read_exports(paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> pd.DataFrame:
    """Read several exports (e.g. one per session) into one table.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        The exports, read in the order given with :func:`read_export`.
    **kwargs
        Passed to :func:`read_export` for every file.

    Returns
    -------
    pandas.DataFrame
        The concatenated ``responses`` table. Response ids already used by an earlier
        file get ``~2``, ``~3``... so they stay unique; the same export passed twice
        therefore yields every response twice, and
        :func:`thematic.clean.clean_responses` flags the second copies as duplicates.
    """
    frames = [read_export(p, **kwargs) for p in paths]
    if not frames:
        raise InputError("no export given")
    if len(frames) == 1:
        return frames[0]
    used: set[str] = set()
    for f in frames:
        ids = []
        for rid in f["response_id"].tolist():
            new, k = rid, 1
            while new in used:
                k += 1
                new = f"{rid}~{k}"
            used.add(new)
            ids.append(new)
        f["response_id"] = pd.array(ids, dtype="str")
    notes = [n for f in frames for n in f.attrs.get("thematic_ingest", {}).get("notes", [])]
    idcols = sorted(
        {
            c
            for f in frames
            for c in f.attrs.get("thematic_ingest", {}).get("identifying_columns", [])
        }
    )
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c.startswith("flag_"):
            out[c] = out[c].fillna(False).astype(bool)
    out.attrs = {
        "thematic_ingest": {
            "notes": notes,
            "identifying_columns": idcols,
            "format": ",".join(
                f.attrs.get("thematic_ingest", {}).get("format", "") for f in frames
            ),
        }
    }
    attrs = out.attrs
    out = validate(out, "responses", source="combined exports")
    out.attrs = attrs
    return out


def ingest_audit(df: pd.DataFrame) -> pd.DataFrame:
    """Return the ``audit`` rows describing how ``df`` was read.

    Parameters
    ----------
    df : pandas.DataFrame
        A table returned by :func:`read_export` or :func:`read_exports`.

    Returns
    -------
    pandas.DataFrame
        Columns ``response_id, stage, action, reason, detail`` with ``stage == "ingest"``:
        layout and encoding detected, columns renamed or dropped, blank rows skipped,
        respondent ids pseudonymised. Empty if ``df`` carries no ingest record.
    """
    notes = df.attrs.get("thematic_ingest", {}).get("notes", [])
    rows = [
        {
            "response_id": None,
            "stage": "ingest",
            "action": n["action"],
            "reason": n["reason"],
            "detail": n.get("detail"),
        }
        for n in notes
    ]
    return _audit_frame(rows)


def identifying_column_names(columns: Iterable[str]) -> list[str]:
    """Return the column names that hold identifying or quasi-identifying metadata.

    Parameters
    ----------
    columns : iterable of str
        Column names (e.g. ``df.columns``).

    Returns
    -------
    list of str
        Names that look like e-mail, name, IP address, location, phone, address,
        recipient fields, or precise timestamps (start/end/completion times), in the
        order given. Core response columns are never listed.
    """
    out = []
    for c in columns:
        if c in _CORE:
            continue
        bare = c[5:] if c.startswith("meta:") else c
        if _IDENTIFYING_NAME_RE.search(bare) or _TIMESTAMP_NAME_RE.match(bare.strip()):
            out.append(c)
    return out


def looks_like_free_text(values: Iterable[Any]) -> bool:
    """Tell whether a column's values look like open-text answers.

    Parameters
    ----------
    values : iterable
        The column's cells (missing and blank cells are ignored).

    Returns
    -------
    bool
        True when the non-blank values are mostly sentences: on average at least four
        words, or some of at least eight words, with at least half of them distinct, and
        not mostly numbers or dates. Choice questions (few distinct short values),
        ids, numbers and timestamps give False; so does a column with no values.
    """
    vals = [str(v).strip() for v in values if v is not None and not _isna(v) and str(v).strip()]
    if not vals:
        return False
    n = len(vals)
    numeric = sum(1 for v in vals if _NUMERIC_LIKE.match(v))
    if numeric / n > 0.5:
        return False
    distinct = len(set(vals)) / n
    words = [len(v.split()) for v in vals]
    mean_words = sum(words) / n
    if distinct < 0.5 and n >= 4:
        return False
    return mean_words >= 4 or (max(words) >= 8 and distinct >= 0.6)


_NUMERIC_LIKE = re.compile(r"^[\d\s.,:;/+\-()TZ%£$€]+$")


# --------------------------------------------------------------------------- reading bytes


def _read_grid(
    path: Path, *, sheet: str | int | None, encoding: str | None, delimiter: str | None
) -> tuple[list[list[str | None]], list[dict[str, str]], dict[str, Any]]:
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not an export file", path=path)
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError("the file is empty", path=path)
    notes: list[dict[str, str]] = []
    info: dict[str, Any] = {}
    suffix = path.suffix.lower()
    if data[:4] == b"PK\x03\x04":
        info["container"] = "xlsx"
        rows = _read_xlsx(path, sheet)
        notes.append({"action": "read", "reason": "container", "detail": "xlsx workbook"})
        return rows, notes, info
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "this is a legacy .xls or a password-protected workbook; save it from Excel as "
            ".xlsx (without a password) or as CSV UTF-8",
            path=path,
        )
    if suffix in {".xlsx", ".xlsm"}:
        raise InputError(
            "not an XLSX workbook (the file is truncated, damaged or not from Excel)", path=path
        )
    text, enc, how = _decode(data, path, encoding)
    info["container"] = "text"
    info["encoding"] = enc
    notes.append({"action": "decode", "reason": "encoding", "detail": f"{enc} ({how})"})
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        raise InputError(
            "the file holds NUL bytes: it is binary, not a CSV/text export", path=path, row=row
        )
    # Excel's "sep=;" hint line names the delimiter
    hint = re.match(r"\ufeff?sep=(.)\r?\n", text)
    delim = delimiter or (hint.group(1) if hint else _sniff_delimiter(text))
    info["delimiter"] = delim
    notes.append(
        {"action": "read", "reason": "delimiter", "detail": {"\t": "TAB"}.get(delim, delim)}
    )
    rows = _parse_csv(text, delim, path)
    if hint and rows:
        rows[0] = []  # skipped like a blank line; row numbers stay those of the file
    return rows, notes, info


def _read_xlsx(path: Path, sheet: str | int | None) -> list[list[str | None]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files
        raise InputError(
            f"cannot open the XLSX workbook ({type(exc).__name__}): the file is truncated, "
            "damaged, password-protected or not from Excel",
            path=path,
        ) from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            try:
                ws = wb.worksheets[sheet]
            except IndexError:
                raise InputError(
                    f"no worksheet number {sheet}; the workbook has {len(wb.worksheets)}", path=path
                ) from None
        else:
            if sheet not in wb.sheetnames:
                raise InputError(
                    f"no worksheet named {sheet!r}; sheets are {wb.sheetnames}", path=path
                )
            ws = wb[sheet]
        try:
            rows = [[_cell_to_str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                f"cannot read the XLSX worksheet ({type(exc).__name__}): "
                "the file is truncated or damaged",
                path=path,
            ) from None
    finally:
        wb.close()
    return rows


def _cell_to_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, _dt.datetime):
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, _dt.date | _dt.time):
        return v.isoformat()
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return repr(v)
    return str(v)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", path=path) from None
        return _strict(data, encoding, path, "as requested"), encoding, "as requested"
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return _strict(data, enc, path, "byte-order mark"), enc, "byte-order mark"
    try:
        return data.decode("utf-8"), "utf-8", "valid UTF-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    sample = data[:4096]
    zeros_even = sum(1 for i in range(0, len(sample), 2) if sample[i] == 0)
    zeros_odd = sum(1 for i in range(1, len(sample), 2) if sample[i] == 0)
    half = max(1, len(sample) // 2)
    if zeros_odd / half > 0.3 and zeros_even / half < 0.05:
        return (
            _strict(data, "utf-16-le", path, "UTF-16 without BOM"),
            "utf-16-le",
            "UTF-16 without BOM",
        )
    if zeros_even / half > 0.3 and zeros_odd / half < 0.05:
        return (
            _strict(data, "utf-16-be", path, "UTF-16 without BOM"),
            "utf-16-be",
            "UTF-16 without BOM",
        )
    offset = utf8_error.start
    if b"\x00" in sample:
        raise InputError(
            f"binary data (NUL bytes) and not valid UTF-8 at byte offset {offset}: "
            "this is not a CSV/text export",
            path=path,
            row=_row_of_offset(data, offset, "utf-8"),
        )
    if _UTF8_MULTIBYTE.search(data):
        raise InputError(
            f"mixed encodings: the file holds valid UTF-8 characters but byte "
            f"0x{data[offset]:02X} at offset {offset} is not UTF-8; re-save the export as UTF-8 "
            "(or pass encoding=)",
            path=path,
            row=_row_of_offset(data, offset, "utf-8"),
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plausible_western(text):
        return (
            text,
            "cp1252",
            f"not UTF-8 (first non-UTF-8 byte at offset {offset}); decoded as Windows-1252",
        )
    from charset_normalizer import from_bytes

    best = from_bytes(data[:262144]).best()
    guess = f"; it may be {best.encoding}, but that is a guess" if best is not None else ""
    raise InputError(
        f"not valid UTF-8: byte 0x{data[offset]:02X} at offset {offset}{guess}; "
        "re-save the export as UTF-8 or pass encoding= (CLI: --encoding)",
        path=path,
        row=_row_of_offset(data, offset, "utf-8"),
    )


_WORD = re.compile(r"[^\W\d_]+")


def _plausible_western(text: str) -> bool:
    """Whether text decoded as Windows-1252 reads like a Western European language.

    Bytes of another 8-bit code page (Cyrillic, Greek...) decoded as Windows-1252 give
    words made mostly of accented letters ("Ïðèâåò"); real Western text has at most a
    few accented letters per word ("café", "naïve", "Siobhán").
    """
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    if not words:
        return True
    odd = sum(1 for w in words if sum(1 for ch in w if ord(ch) > 127) / len(w) > 0.5 and len(w) > 2)
    return odd / len(words) <= 0.1


def _strict(data: bytes, enc: str, path: Path, how: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid {enc} ({how}): byte 0x{data[exc.start]:02X} at offset {exc.start} "
            "cannot be decoded; re-save the export as UTF-8 or pass the right encoding=",
            path=path,
            row=_row_of_offset(data, exc.start, enc),
        ) from None


def _row_of_offset(data: bytes, offset: int, enc: str) -> int:
    """1-based CSV record (spreadsheet row) holding byte ``offset``."""
    prefix = data[:offset].decode(enc, errors="replace")
    if prefix.startswith("\ufeff"):
        prefix = prefix[1:]
    n = 0
    try:
        with _field_limit():
            for _ in csv.reader(io.StringIO(prefix, newline="")):
                n += 1
    except csv.Error:
        return prefix.count("\n") + 1
    if prefix.endswith(("\n", "\r")) or n == 0:
        n += 1
    return n


@contextlib.contextmanager
def _field_limit() -> Iterator[None]:
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    candidates = [",", ";", "\t", "|"]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters="".join(candidates)).delimiter
    except csv.Error:
        sniffed = None
    scores: dict[str, tuple[float, int]] = {}
    for d in candidates:
        recs: list[list[str]] = []
        try:
            with _field_limit():
                for rec in csv.reader(io.StringIO(sample, newline=""), delimiter=d):
                    recs.append(rec)
                    if len(recs) > 50:
                        break
        except csv.Error:
            continue
        if len(sample) < len(text) and len(recs) > 2:
            recs = recs[:-1]  # the last record of a sample may be cut short
        recs = [r for r in recs if any(c.strip() for c in r)]
        if not recs or len(recs[0]) < 2:
            scores[d] = (0.0, 1)
            continue
        width = len(recs[0])
        consistent = sum(1 for r in recs if len(r) == width) / len(recs)
        scores[d] = (consistent, width)
    if not scores or max(scores.values())[1] < 2:
        return ","
    best = max(scores, key=lambda d: scores[d])
    if sniffed in scores and scores[sniffed][1] >= 2 and scores[sniffed][0] >= scores[best][0]:
        return sniffed
    return best


def _parse_csv(text: str, delim: str, path: Path) -> list[list[str | None]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delim, quotechar='"', doublequote=True, strict=True
    )
    rows: list[list[str | None]] = []
    try:
        with _field_limit():
            for rec in reader:
                rows.append([c if c != "" else None for c in rec])
    except csv.Error as exc:
        raise InputError(
            f"malformed CSV ({exc}): check for an unclosed quote; the file may be truncated",
            path=path,
            row=len(rows) + 1,
        ) from None
    return rows


# --------------------------------------------------------------------------- layouts


def _norm(s: str | None) -> str:
    return " ".join((s or "").replace("\ufeff", "").split())


def _key(s: str | None) -> str:
    return _norm(s).casefold()


def _parse_layout(
    path: Path,
    grid: list[list[str | None]],
    fmt: str,
    notes: list[dict[str, str]],
    info: dict[str, Any],
) -> _Table:
    rows_numbered = [(i + 1, r) for i, r in enumerate(grid)]
    # drop leading blank rows (some tools emit them) but remember the numbering
    while rows_numbered and not any(_norm(c) for c in rows_numbered[0][1]):
        rows_numbered.pop(0)
    if not rows_numbered:
        raise InputError("the file has no header row (it holds only blank cells)", path=path)
    layout = _detect(rows_numbered, fmt, path)
    strict = info.get("container") == "text"
    info["layout"] = layout
    if layout == "qualtrics":
        table = _qualtrics(path, rows_numbered, strict)
    elif layout == "surveymonkey":
        table = _surveymonkey(path, rows_numbered, strict)
    else:
        table = _single_header(path, rows_numbered, layout, strict)
    table.notes[:0] = notes
    table.info.update(info)
    table.notes.append(
        {
            "action": "detect_format",
            "reason": "layout",
            "detail": f"{layout} ({_plural(table.header_rows, 'header row')})",
        }
    )
    return table


_LAYOUT_NAMES = {
    "qualtrics": "Qualtrics",
    "surveymonkey": "SurveyMonkey",
    "msforms": "Microsoft Forms",
    "googleforms": "Google Forms",
}


def _sniff_layout(rows: list[tuple[int, list[str | None]]]) -> str:
    h1 = {_key(c) for c in rows[0][1]}
    h2 = {_key(c) for c in rows[1][1]} if len(rows) > 1 else set()
    if ({"responseid", "response id", "_recordid"} & (h1 | h2)) and (
        {"startdate", "start date"} & (h1 | h2)
    ):
        return "qualtrics"
    if "respondent id" in h1 and ("collector id" in h1 or {"response", "open-ended response"} & h2):
        return "surveymonkey"
    if {"id", "start time", "completion time"} <= h1:
        return "msforms"
    first = _key(rows[0][1][0]) if rows[0][1] else ""
    if first == "timestamp":
        return "googleforms"
    return "plain"


def _detect(rows: list[tuple[int, list[str | None]]], fmt: str, path: Path) -> str:
    if fmt in {"csv", "xlsx"}:
        return "plain"
    found = _sniff_layout(rows)
    if fmt == "auto" or fmt == found:
        return found
    # an explicit layout must fit: reading another layout as this one would misplace rows
    raise InputError(
        f"this does not look like a {_LAYOUT_NAMES[fmt]} export (its header "
        + (
            f"looks like {_LAYOUT_NAMES[found]}"
            if found != "plain"
            else "lacks that layout's columns"
        )
        + "); use --format auto, or csv/xlsx with --text-columns",
        path=path,
        row=rows[0][0],
    )


def _dedupe(names: list[str], notes: list[dict[str, str]], path: Path) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    used = set()
    for i, n in enumerate(names):
        base = n or f"column {_col_letter(i)}"
        if not n:
            notes.append(
                {
                    "action": "rename_column",
                    "reason": "blank header",
                    "detail": f"column {_col_letter(i)} named {base!r}",
                }
            )
        name = base
        k = base.casefold()
        if k in used:
            c = seen.get(k, 1)
            while True:
                c += 1
                name = f"{base} ({c})"
                if name.casefold() not in used:
                    break
            seen[k] = c
            notes.append(
                {
                    "action": "rename_column",
                    "reason": "duplicate header",
                    "detail": f"column {_col_letter(i)} {base!r} renamed {name!r}",
                }
            )
        used.add(name.casefold())
        out.append(name)
    return out


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _split(
    rows: list[tuple[int, list[str | None]]],
    header_rows: int,
    path: Path,
    notes: list[dict[str, str]],
    strict: bool,
) -> tuple[list[list[str | None]], int, list[tuple[int, list[str | None]]]]:
    """Header rows, number of columns, and numbered data rows.

    A data row with values beyond the header is an error in a text export (a delimiter
    or quote out of place: the values would be misaligned) and a column without header
    in a workbook. Trailing columns without header and data are dropped.
    """
    headers = [r for _, r in rows[:header_rows]]
    width = max(len(h) for h in headers)
    data = rows[header_rows:]
    for num, r in data:
        if len(r) > width and any(_norm(c) for c in r[width:]):
            if strict:
                raise InputError(
                    f"ragged row: {len(r)} fields but the header has {width}; a delimiter or quote "
                    "is probably out of place",
                    path=path,
                    row=num,
                )
            last = max(k for k in range(len(r)) if _norm(r[k]))
            width = max(width, last + 1)

    def col_blank(j: int) -> bool:
        return all(not _norm(h[j] if j < len(h) else None) for h in headers) and all(
            not _norm(r[j] if j < len(r) else None) for _, r in data
        )

    trimmed = 0
    while width > 0 and col_blank(width - 1):
        width -= 1
        trimmed += 1
    if trimmed:
        notes.append(
            {
                "action": "drop_column",
                "reason": "trailing empty column",
                "detail": f"{_plural(trimmed, 'trailing column')} without header or data",
            }
        )
    return headers, width, data


def _cells(row: list[str | None], width: int) -> list[str | None]:
    return (row + [None] * (width - len(row)))[:width]


def _finish_data(
    data: list[tuple[int, list[str | None]]], width: int, notes: list[dict[str, str]]
) -> tuple[list[list[str | None]], list[int]]:
    out, nums = [], []
    for num, r in data:
        if not any(_norm(c) for c in r):
            notes.append({"action": "skip_row", "reason": "blank row", "detail": f"row {num}"})
            continue
        out.append(_cells(r, width))
        nums.append(num)
    return out, nums


def _qualtrics(path: Path, rows: list[tuple[int, list[str | None]]], strict: bool) -> _Table:
    notes: list[dict[str, str]] = []
    third = rows[2][1] if len(rows) > 2 else []
    import_ids = bool(third) and any(_norm(c).startswith('{"ImportId"') for c in third if c)
    header_rows = 3 if import_ids else 2
    if len(rows) < header_rows:
        header_rows = len(rows)
    headers, width, data = _split(rows, header_rows, path, notes, strict)
    r1 = _cells(headers[0], width)
    r2 = _cells(headers[1], width) if header_rows > 1 else [None] * width
    legacy_v = sum(1 for c in r1 if re.fullmatch(r"V\d+", _norm(c))) >= 3
    names = []
    for a, b in zip(r1, r2, strict=True):
        names.append(_norm(b) if legacy_v and re.fullmatch(r"V\d+", _norm(a)) else _norm(a))
    names = _dedupe(names, notes, path)
    cols = []
    for j, n in enumerate(names):
        q = _norm(r2[j]) or n
        imp = _norm(third[j]) if import_ids and j < len(third) else ""
        signal = "text" if re.search(r'"ImportId"\s*:\s*"[^"]*_TEXT"', imp) else None
        role = "meta" if n.casefold() in _QUALTRICS_META else None
        cols.append(_Column(n, q, signal, role))
    d, nums = _finish_data(data, width, notes)
    t = _Table(path, "qualtrics", cols, d, nums, header_rows, notes)
    return t


def _surveymonkey(path: Path, rows: list[tuple[int, list[str | None]]], strict: bool) -> _Table:
    notes: list[dict[str, str]] = []
    headers, width, data = _split(rows, 2, path, notes, strict)
    r1 = _cells(headers[0], width)
    r2 = _cells(headers[1], width) if len(headers) > 1 else [None] * width
    names, cols_info = [], []
    current_q = ""
    for a, b in zip(r1, r2, strict=True):
        a, b = _norm(a), _norm(b)
        if a:
            current_q = a
        if a and a.casefold() in _SURVEYMONKEY_META and not b:
            names.append(a)
            cols_info.append((a, None, "meta"))
            current_q = ""
            continue
        q = current_q or a
        if b and b.casefold() not in _SURVEYMONKEY_GENERIC:
            name = f"{q} - {b}" if q else b
        else:
            name = q
        signal = "text" if b.casefold() in _SURVEYMONKEY_OPEN else None
        names.append(name)
        cols_info.append((name, signal, None))
    names = _dedupe(names, notes, path)
    cols = [_Column(n, n, s, r) for n, (_, s, r) in zip(names, cols_info, strict=True)]
    d, nums = _finish_data(data, width, notes)
    t = _Table(path, "surveymonkey", cols, d, nums, 2, notes)
    return t


def _single_header(
    path: Path, rows: list[tuple[int, list[str | None]]], layout: str, strict: bool
) -> _Table:
    notes: list[dict[str, str]] = []
    headers, width, data = _split(rows, 1, path, notes, strict)
    names = _dedupe([_norm(c) for c in _cells(headers[0], width)], notes, path)
    meta = {"msforms": _MSFORMS_META, "googleforms": _GOOGLE_META}.get(layout, set())
    cols = []
    for n in names:
        base = re.sub(r" \(\d+\)$", "", n).casefold()
        role = (
            "meta"
            if base in meta or (layout == "msforms" and re.match(r"^(points|feedback) - ", base))
            else None
        )
        cols.append(_Column(n, n, None, role))
    d, nums = _finish_data(data, width, notes)
    t = _Table(path, layout, cols, d, nums, 1, notes)
    return t


# --------------------------------------------------------------------------- to long


def _find_column(table: _Table, name: str, what: str) -> int:
    k = _key(name)
    for how in (lambda c: _key(c.name) == k, lambda c: _key(c.question) == k):
        hits = [j for j, c in enumerate(table.columns) if how(c)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(
                f"{what} {name!r} matches {len(hits)} columns; use the unique column header",
                path=table.path,
                column=name,
            )
    available = ", ".join(repr(c.name) for c in table.columns[:12])
    more = ", ..." if len(table.columns) > 12 else ""
    raise InputError(
        f"no {what} named {name!r}; the columns are {available}{more}", path=table.path, column=name
    )


def _column_values(table: _Table, j: int) -> list[str | None]:
    return [r[j] for r in table.data]


_PLAIN_ID = re.compile(
    r"^(?:(?:respondent|participant|response|record)[ _-]?)?id$|^pid$", re.IGNORECASE
)


def _layout_id_column(table: _Table) -> int | None:
    want = {
        "qualtrics": ("responseid", "response id", "_recordid"),
        "msforms": ("id",),
        "surveymonkey": ("respondent id",),
    }.get(table.layout, ())
    for w in want:
        for j, c in enumerate(table.columns):
            if c.name.casefold() == w:
                return j
    if table.layout == "plain":
        # a column named like an id whose values are all present and unique
        for j, c in enumerate(table.columns):
            if _PLAIN_ID.match(c.name):
                vals = [_norm(v) for v in _column_values(table, j)]
                if all(vals) and len(set(vals)) == len(vals):
                    table.notes.append(
                        {"action": "select_column", "reason": "id column", "detail": c.name}
                    )
                    return j
    return None


def _timestamp_column(table: _Table) -> int | None:
    want = {
        "qualtrics": ("recordeddate", "enddate"),
        "msforms": ("completion time",),
        "googleforms": ("timestamp",),
        "surveymonkey": ("end date",),
    }.get(table.layout, ())
    for w in want:
        for j, c in enumerate(table.columns):
            if c.name.casefold() == w:
                return j
    return None


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]|$)")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?:[ ,T]|$)")


def _session_dates(values: list[str | None]) -> tuple[list[str | None], str]:
    """Date part (YYYY-MM-DD) of timestamps; ambiguous d/m order keeps the date as written."""
    parts: list[tuple[str, re.Match[str] | None]] = []
    first_gt12 = second_gt12 = False
    for v in values:
        s = (v or "").strip()
        m = _ISO_DATE.match(s)
        if m:
            parts.append(("iso", m))
            continue
        m = _SLASH_DATE.match(s)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            first_gt12 |= a > 12
            second_gt12 |= b > 12
        parts.append(("slash" if m else "none", m))
    if first_gt12 and not second_gt12:
        order = "dmy"
    elif second_gt12 and not first_gt12:
        order = "mdy"
    else:
        order = "ambiguous"
    out: list[str | None] = []
    for kind, m in parts:
        if m is None:
            out.append(None)
        elif kind == "iso":
            out.append(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")
        elif order == "ambiguous":
            out.append(m.group(0).strip(" ,T"))
        else:
            a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
            d, mo = (a, b) if order == "dmy" else (b, a)
            yy = int(y) + (2000 if len(y) == 2 else 0)
            out.append(f"{yy:04d}-{mo:02d}-{d:02d}")
    return out, order


_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_SESSION_VALUE = re.compile(rf"\d|\b(?:{_MONTH}|session|meeting|week|cohort|wave)\b", re.IGNORECASE)


def _session_like(values: list[str | None]) -> bool:
    """Values that name sessions: mostly holding a number, a date or a month name."""
    vals = [_norm(v) for v in values if _norm(v)]
    if not vals or looks_like_free_text(vals):
        return False
    return sum(1 for v in vals if _SESSION_VALUE.search(v)) / len(vals) >= 0.8


def _slug(text: str, used: set[str]) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    s = "-".join(words[:6]) or "q"
    if len(words) > 6:
        s += "-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    base, n = s, 1
    while s in used:
        n += 1
        s = f"{base}-{n}"
    used.add(s)
    return s


def _truthy(v: str | None) -> bool | None:
    k = _key(v)
    if k in {"true", "1", "yes", "y"}:
        return True
    if k in {"false", "0", "no", "n"}:
        return False
    return None


def _to_long(
    table: _Table,
    *,
    text_columns: list[str] | None,
    group_column: str | None,
    id_column: str | None,
    session_column: str | None,
) -> pd.DataFrame:
    path, notes = table.path, table.notes
    if not table.data:
        raise InputError(
            f"no responses: the file has {_plural(table.header_rows, 'header row')} "
            "but no data rows",
            path=path,
        )
    cols = table.columns
    used_cols: set[int] = set()

    # respondent id
    id_j = _find_column(table, id_column, "id column") if id_column else _layout_id_column(table)
    if id_j is not None:
        used_cols.add(id_j)
        raw_ids = _column_values(table, id_j)
        for v, num in zip(raw_ids, table.rows, strict=True):
            if not _norm(v):
                raise InputError("empty respondent id", path=path, row=num, column=cols[id_j].name)
        ids = [_norm(v) for v in raw_ids]
        if any(_EMAIL_RE.search(v) for v in ids) or _IDENTIFYING_NAME_RE.search(cols[id_j].name):
            mapping: dict[str, str] = {}
            for v in ids:
                mapping.setdefault(v.casefold(), f"respondent-{len(mapping) + 1}")
            ids = [mapping[v.casefold()] for v in ids]
            notes.append(
                {
                    "action": "pseudonymise",
                    "reason": "identifying respondent id",
                    "detail": f"ids in column {cols[id_j].name!r} replaced by respondent-N "
                    "(first-appearance order)",
                }
            )
    else:
        ids = [f"row-{n}" for n in table.rows]
        notes.append(
            {
                "action": "assign_id",
                "reason": "no respondent id column",
                "detail": "respondent_id = row-N (spreadsheet row)",
            }
        )

    # group
    group_j = None
    if group_column:
        group_j = _find_column(table, group_column, "group column")
    else:
        cands = []
        for j, c in enumerate(cols):
            if j in used_cols or c.role == "meta" or c.signal == "text":
                continue
            if _GROUP_NAME_RE.search(c.name) or _GROUP_NAME_RE.search(c.question):
                vals = {_norm(v) for v in _column_values(table, j) if _norm(v)}
                if vals and len(vals) <= 20 and not looks_like_free_text(_column_values(table, j)):
                    cands.append((0 if re.search("caucus", c.name + c.question, re.I) else 1, j))
        if cands:
            group_j = min(cands)[1]
            notes.append(
                {"action": "select_column", "reason": "group column", "detail": cols[group_j].name}
            )
    if group_j is not None:
        used_cols.add(group_j)

    # session
    session_j = None
    session_vals: list[str | None]
    if session_column:
        session_j = _find_column(table, session_column, "session column")
    else:
        for j, c in enumerate(cols):
            if (
                j not in used_cols
                and c.signal != "text"
                and _SESSION_NAME_RE.search(c.name)
                and _session_like(_column_values(table, j))
            ):
                session_j = j
                notes.append(
                    {"action": "select_column", "reason": "session column", "detail": c.name}
                )
                break
    if session_j is not None:
        used_cols.add(session_j)
        session_vals = [_norm(v) or None for v in _column_values(table, session_j)]
    else:
        ts_j = _timestamp_column(table)
        if ts_j is not None:
            session_vals, order = _session_dates(_column_values(table, ts_j))
            detail = f"date part of {cols[ts_j].name!r}"
            if order == "ambiguous" and any(v and "/" in v for v in session_vals):
                detail += " (day/month order ambiguous: kept as written)"
            notes.append(
                {
                    "action": "derive_column",
                    "reason": "session from completion date",
                    "detail": detail,
                }
            )
        else:
            session_vals = [None] * len(table.data)

    # text columns
    if text_columns:
        text_js = []
        for name in text_columns:
            j = _find_column(table, name, "text column")
            if j in used_cols:
                raise InputError(
                    f"column {name!r} is already used as the id, group or session column",
                    path=path,
                    column=name,
                )
            if j not in text_js:
                text_js.append(j)
    else:
        text_js = []
        for j, c in enumerate(cols):
            if j in used_cols or c.role == "meta":
                continue
            vals = _column_values(table, j)
            if (
                c.signal == "text"
                and any(_norm(v) for v in vals)
                or c.signal is None
                and looks_like_free_text(vals)
            ):
                text_js.append(j)
        if not text_js:
            raise InputError(
                f"cannot tell which columns hold open-text answers in this {table.layout} export; "
                "name them with text_columns=[...] (CLI: --text-columns)",
                path=path,
            )
    notes.append(
        {
            "action": "select_column",
            "reason": "text columns",
            "detail": "; ".join(cols[j].name for j in text_js),
        }
    )

    # flags (Qualtrics)
    n = len(table.data)
    preview = [False] * n
    spam = [False] * n
    unfinished = [False] * n
    if table.layout == "qualtrics":
        by = {c.name.casefold(): j for j, c in enumerate(cols)}
        if "status" in by:
            for i, v in enumerate(_column_values(table, by["status"])):
                k = _key(v)
                preview[i] = k in _QUALTRICS_STATUS_PREVIEW
                spam[i] = k in _QUALTRICS_STATUS_SPAM
        if "finished" in by:
            for i, v in enumerate(_column_values(table, by["finished"])):
                unfinished[i] = _truthy(v) is False
        if "progress" in by:
            for i, v in enumerate(_column_values(table, by["progress"])):
                with contextlib.suppress(TypeError, ValueError):
                    unfinished[i] = unfinished[i] or float(_norm(v)) < 100
    # metadata columns: everything not used as id/group/session/text
    meta_js = [j for j in range(len(cols)) if j not in used_cols and j not in text_js]
    identifying = [cols[j].name for j in meta_js if identifying_column_names([cols[j].name])]
    if table.layout == "qualtrics":
        identifying += [
            cols[j].name
            for j in meta_js
            if cols[j].name.casefold()
            in {
                "locationlatitude",
                "locationlongitude",
                "ipaddress",
                "recipientemail",
                "recipientfirstname",
                "recipientlastname",
                "externalreference",
                "externaldatareference",
            }
            and cols[j].name not in identifying
        ]
    meta_names = {}
    for j in meta_js:
        nm = cols[j].name
        meta_names[j] = f"meta:{nm}" if nm in _CORE else nm

    # respondent ids seen twice in one file: later copies get ~k on the response id
    occurrence: dict[str, int] = {}
    occ = []
    for rid in ids:
        occurrence[rid] = occurrence.get(rid, 0) + 1
        occ.append(occurrence[rid])
    if any(o > 1 for o in occ):
        notes.append(
            {
                "action": "flag",
                "reason": "repeated respondent id",
                "detail": f"{sum(1 for o in occ if o > 1)} rows repeat an earlier respondent id",
            }
        )

    used_slugs: set[str] = set()
    slugs = {j: _slug(cols[j].name, used_slugs) for j in text_js}
    groups = _column_values(table, group_j) if group_j is not None else [None] * n
    out: dict[str, list[Any]] = {k: [] for k in _CORE}
    for k in meta_js:
        out[meta_names[k]] = []
    fname = path.name
    for i, row in enumerate(table.data):
        rid = ids[i]
        g = _norm(groups[i]) or None
        for j in text_js:
            resp = f"{rid}:{slugs[j]}" + (f"~{occ[i]}" if occ[i] > 1 else "")
            out["response_id"].append(resp)
            out["respondent_id"].append(rid)
            out["question"].append(cols[j].question)
            out["question_id"].append(cols[j].name)
            out["group"].append(g)
            out["session"].append(session_vals[i])
            out["text_raw"].append(row[j])
            out["text"].append(row[j])
            out["flag_preview"].append(preview[i])
            out["flag_spam"].append(spam[i])
            out["flag_unfinished"].append(unfinished[i])
            out["source_file"].append(fname)
            out["source_row"].append(table.rows[i])
            out["source_format"].append(table.layout)
            for k in meta_js:
                out[meta_names[k]].append(row[k])
    df = pd.DataFrame({k: pd.array(v, dtype=_dtype(k)) for k, v in out.items()})
    df.attrs["thematic_ingest"] = {
        "format": table.layout,
        "encoding": table.info.get("encoding"),
        "delimiter": table.info.get("delimiter"),
        "header_rows": table.header_rows,
        "text_columns": [cols[j].name for j in text_js],
        "identifying_columns": [meta_names[j] for j in meta_js if cols[j].name in identifying],
        "notes": notes,
    }
    attrs = df.attrs
    df = validate(df, "responses", source=str(path.name))
    df.attrs = attrs
    return df


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _dtype(col: str) -> str:
    if col.startswith("flag_"):
        return "bool"
    if col == "source_row":
        return "int64"
    return "str"


