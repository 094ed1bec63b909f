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
    :func:`thematic.deidentify.deidentify_responses` masks identifiers in it; ``text_raw`` is never
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

The read audit
--------------
:func:`read_export` returns ``(responses, audit)``, like every later stage
(:func:`thematic.clean.clean_responses`,
:func:`thematic.deidentify.deidentify_responses`). The audit (schema ``audit``,
``stage == "ingest"``, ``response_id`` missing) says what happened while reading, one
row per decision, in order:

``read`` / ``container`` and ``read`` / ``delimiter``
    An XLSX workbook, or the field delimiter of a text export (``detail``: ``,``,
    ``;``, ``TAB``...).
``decode`` / ``encoding``
    The encoding and how it was decided (``detail``: ``utf-8 (byte-order mark)``...).
``detect_format`` / ``layout``
    The layout (``detail``: ``qualtrics (3 header rows)``; the first word is the value
    of ``source_format``). One row per export read.
``rename_column``, ``drop_column``, ``skip_row``, ``select_column``, ``derive_column``, ``assign_id``, ``pseudonymise``, ``flag``
    Headers renamed or dropped, blank rows skipped, the id, group and session columns
    chosen, ids assigned or pseudonymised, repeated respondent ids.
``take_column`` / ``leave_column``
    One row per column of the export (``detail``: its header, any e-mail address in it
    masked) saying why it was *taken* (reason starting ``open text``, ``group``,
    ``id``, ``session`` or ``metadata``) or *left* (reason starting ``rating scale``,
    ``choice``, ``HTML``, ``numeric``, ``date``, ``links or files``, ``codes``,
    ``non-answers``, ``short answers``, ``empty`` or ``identifying``). A left column is
    not read as answers but stays in the table as a metadata column; the identifying
    ones are dropped by :func:`thematic.deidentify.drop_identifying_columns` and
    :func:`thematic.deidentify.safe_table` when given this audit
    (:func:`identifying_column_names`).

Nothing is kept in ``DataFrame.attrs``: the table and its audit are all there is.

Reading rules
-------------
* Encoding: a byte-order mark (UTF-8/16/32) wins; else UTF-16 without BOM (NUL bytes at
  nearly all odd, or nearly all even, byte positions; ASCII text in UTF-16 is also valid
  UTF-8, so this is checked first); else strict UTF-8; else Windows-1252 when the decoded
  text reads like a Western European language (Excel's "CSV" on Windows, e.g. a
  Microsoft Forms export re-saved). Anything else (another code page, UTF-8 mixed with
  stray single bytes, binary data) raises :class:`InputError` naming the byte offset and
  row; pass ``encoding=`` to read it. Nothing is decoded with replacement characters.
* Dialect: Excel's ``sep=;`` hint line, else :class:`csv.Sniffer` checked against
  the column counts of the first records (``,`` ``;`` TAB ``|``); quoted embedded
  newlines and CRLF are read as they are. A row with more values than the header is an
  error (a delimiter or quote is out of place); shorter rows are padded; blank rows are
  skipped and audited.
* Columns: trailing columns without header and data are dropped, blank headers are
  named ``column C``, duplicate headers become ``name (2)``.
* Layout: Qualtrics (3 header rows with ``ImportId``, 2 header rows, and the legacy
  ``V1``... ``V10`` row over the question row), Microsoft Forms (``ID``, start and
  completion time, e-mail, name; English headers or the same layout in other
  languages), Google Forms (first column ``Timestamp`` or its translation: ``Marca
  temporal``, ``Horodateur``, ``Zeitstempel``, ``Stamp amser``...), SurveyMonkey (2 header
  rows). An explicit ``format=`` that does not fit the header is refused rather than
  misread.
* Columns are typed before any is taken as open text: HTML-only cells (``<img>``),
  links and uploaded file names, numbers, rating scales (integers 0-10, numbered labels
  such as ``4 - Very good``, agreement/frequency/quality labels), dates and times,
  id-like codes, columns holding only non-answers, multiple choice (few distinct values,
  even with long option labels; or ``;``/``,``-joined lists of a small option set) and
  layout metadata are not open text. Open text is a column the layout marks as text
  entry (Qualtrics ``..._TEXT``, SurveyMonkey "Open-Ended Response") or whose answers
  are sentence-length; when an export has no such column, short typed answers (many
  distinct values, e.g. "What is your major?") are taken instead. The group is a short
  categorical answer (at most 20 distinct values of at most 8 words -- 20 for the options
  of a closed question --, at least half the rows filled, never a number or a rating) in
  a column named like *caucus*/*group*;
  explicit ``text_columns=``/``group_column=``... always win.

Limits
------
Every reader works in bounded time and memory; past a limit it raises
:class:`InputError` naming the file (and the row or column): :data:`MAX_FILE_BYTES`
(size of the export on disk), :data:`MAX_XLSX_UNCOMPRESSED_BYTES`,
:data:`MAX_XLSX_RATIO` and :data:`MAX_XLSX_MEMBERS` (checked on the zip directory
*before* the workbook is opened, so a zip bomb is never expanded; a member whose data
do not match its declared size fails its CRC check and is refused),
:data:`MAX_ROWS` and :data:`MAX_CELLS` (rows and rows x columns of a workbook),
:data:`MAX_CSV_ROWS` and :data:`MAX_CSV_CELLS` (the same for a text export),
:data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS` (one cell; also the CSV field size limit)
and :data:`MAX_RESPONSE_CELLS` (cells of the long table built).

Memory
------
A text export is never held whole. It is checked as a stream of bytes (size,
encoding, NUL bytes; only the first 64 KiB of text are kept, to sniff the delimiter),
then its records are parsed twice from the file: the first pass takes every
whole-column decision from accumulators that give exactly the decisions of the whole
columns (the first :data:`_PROFILE_SAMPLE` values of each column and its fill count;
per candidate id column two 16-byte digests per row for uniqueness, repeated ids and
``respondent-N`` numbers; counters for session-like columns and the day/month order
of timestamps), the second builds the long table, in blocks for
:class:`ExportChunks`. Memory is therefore flat in the number of rows of a text export
(about 40 bytes per row of numpy arrays), and :data:`MAX_CSV_ROWS` bounds time, not
memory. Encodings other than the first guess (Windows-1252, and every decoding error)
are decided by reading the file whole once, as before (at most :data:`MAX_FILE_BYTES`).
An XLSX workbook is read whole into its cells (``openpyxl`` read-only, streamed row by
row from the zip without the padding to the sheet's declared dimension), hence its
lower row limit.
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
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .errors import InputError, check_option
from .schemas import audit_frame as _audit_frame
from .schemas import conform
from .schemas import is_missing as _isna

__all__ = [
    "FORMATS",
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_RESPONSE_CELLS",
    "MAX_ROWS",
    "MAX_CSV_ROWS",
    "MAX_CSV_CELLS",
    "MAX_XLSX_MEMBERS",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNCOMPRESSED_BYTES",
    "read_export",
    "read_exports",
    "Ingested",
    "ExportChunks",
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

#: Largest export read, in bytes on disk (CSV/text or XLSX).
MAX_FILE_BYTES: int = 256 * 2**20
#: Largest total uncompressed size of the members of an XLSX workbook (a zip archive),
#: read from the zip directory before anything is expanded.
MAX_XLSX_UNCOMPRESSED_BYTES: int = 256 * 2**20
#: Largest compression ratio (uncompressed / compressed size) of one XLSX member larger
#: than 1 MiB; real worksheets compress 5-30 times, zip bombs a thousand times.
MAX_XLSX_RATIO: int = 200
#: Most members an XLSX workbook may hold.
MAX_XLSX_MEMBERS: int = 10_000
#: Most spreadsheet rows (header rows and blank rows included) read from one XLSX
#: workbook (its cells are held whole while it is read).
MAX_ROWS: int = 200_000
#: Most records (header rows and blank rows included) read from one text export. Text
#: exports are streamed (never held whole), so this bounds time, not memory: at most
#: three passes over at most :data:`MAX_FILE_BYTES` bytes. Two million rows hold a
#: million respondents' answers to several questions.
MAX_CSV_ROWS: int = 2_000_000
#: Most columns read from one export.
MAX_COLUMNS: int = 5_000
#: Most cells (fields of every row read, blank ones included) read from one XLSX workbook.
MAX_CELLS: int = 25_000_000
#: Most cells (fields of every record, blank ones included) read from one text export
#: (streamed: a bound on time).
MAX_CSV_CELLS: int = 200_000_000
#: Most characters in one cell; also the CSV field size limit. Excel itself stops at
#: 32,767.
MAX_CELL_CHARS: int = 1_000_000
#: Most cells of the long table :func:`read_export` builds (responses x columns).
MAX_RESPONSE_CELLS: int = 60_000_000

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

#: Column names that identify a person (dropped from public outputs), in the languages
#: of the layouts read (English, Spanish, French, German, Welsh).
_IDENTIFYING_NAME_RE = re.compile(
    r"e-?mail|(?<![a-z])name(?![a-z])|first ?name|last ?name|surname|full ?name|ip ?address|"
    r"ipaddress|latitude|longitude|recipient|external ?(?:data ?)?ref|phone|mobile|"
    r"post ?code|zip ?code|(?<![a-z])address|date of birth|(?<![a-z])dob(?![a-z])|"
    r"nhs ?(?:no|number)|user ?name|custom data|contact ?(?:info|information|details)|"
    r"prolific|(?<![a-z])mturk|worker ?id|staff ?(?:no|number|id)|payroll|employee ?(?:no|number|id)|"
    r"line ?manager|correo|courriel|(?<![a-z])e-?(?:bost|post)(?:adresse)?(?![a-z])|"
    r"adresse de messagerie|"
    r"^(?:nombre|nombre completo|apellidos?|nom|nom complet|pr[eé]nom|vorname|nachname|"
    r"enw|cyfenw|naam)$|nombre de usuario|nom d.utilisateur|nutzername|"
    r"direcci[oó]n ip|adresse ip|ip-adresse|cyfeiriad ip",
    re.IGNORECASE,
)
#: First header of a Google Forms export ("Timestamp"), in the languages Google uses.
_GOOGLE_TIMESTAMPS = {
    "timestamp",
    "marca temporal",
    "horodateur",
    "zeitstempel",
    "stamp amser",
    "carimbo de data/hora",
    "informazioni cronologiche",
    "tijdstempel",
    "sygnatura czasowa",
    "tidsstempel",
    "tidsstämpel",
    "aikaleima",
    "časová značka",
    "zaman damgası",
}
#: Column names of precise timestamps (quasi-identifiers: dropped from public outputs).
_TIMESTAMP_NAME_RE = re.compile(
    r"^(?:start ?date|end ?date|recorded ?date|start ?time|completion ?time|end ?time|"
    r"last modified ?time|submitted ?(?:at|time)?|submission ?(?:date|time)|timestamp|"
    r"date ?time|created ?(?:at|time)|"
    + "|".join(re.escape(t) for t in sorted(_GOOGLE_TIMESTAMPS))
    + ")$",
    re.IGNORECASE,
)
_GROUP_NAME_RE = re.compile(r"caucus|(?<![a-z])group|affinity", re.IGNORECASE)
#: A question that asks *which* group: "Which caucus did you join today?".
_GROUP_QUESTION_RE = re.compile(
    r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?:caucus|group|affinity)", re.IGNORECASE
)
_SESSION_NAME_RE = re.compile(r"(?<![a-z])(?:session|meeting|cohort|wave)(?![a-z])", re.IGNORECASE)
#: Words of a rating question ("How useful was today's session?"): never the session or
#: the group however its answers look.
_RATING_QUESTION_RE = re.compile(
    r"\b(?:how|rate|rating|score|scale|satisf\w*|agree|useful|likely|recommend)\b", re.IGNORECASE
)

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
_GOOGLE_META = {
    "email address",
    "email",
    "username",
    "score",
    "total score",
    # Spanish, French, German, Welsh
    "dirección de correo electrónico",
    "correo electrónico",
    "puntuación",
    "adresse e-mail",
    "adresse e-mail de l'utilisateur",
    "e-mail-adresse",
    "punktzahl",
    "cyfeiriad e-bost",
    "sgôr",
} | _GOOGLE_TIMESTAMPS
#: Header words of the fixed leading columns of a Microsoft Forms export in any language
#: ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time").
_MSFORMS_ID_RE = re.compile(r"^(?:id|id\.|nr\.?)$", re.IGNORECASE)
_MSFORMS_MAIL_RE = re.compile(
    r"mail|correo|courriel|messagerie|e-?post|e-?bost|posta|почта", re.IGNORECASE
)
_MSFORMS_NAME_RE = re.compile(r"name|nom|naam|nome|navn|namn|nazwa|nimi|enw|имя|név", re.IGNORECASE)
_MSFORMS_TIME_RE = re.compile(
    r"time|zeit|heure|hora|tijd|(?<![a-z])ora(?![a-z])|tid|czas|aika|amser|tempo|время|時間|时间",
    re.IGNORECASE,
)
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
    #: what the layout says about the column: "text" (open-text entry), "closed" (a
    #: closed question: choice, matrix, slider), "embedded" (set by the survey flow),
    #: "files" (uploads) or None (nothing: the values decide)
    signal: str | None = None
    role: str | None = None  # "meta" for layout metadata
    why: str = ""  # the layout's reason for signal/role, for the audit
    identifying: bool = False  # the layout knows this column identifies a person


@dataclass
class _Table:
    """An export scanned once: its layout, columns, and what deciding them needs.

    No data row is held: ``source`` gives the records again (:func:`_blocks`), and the
    statistics of the scan (per column: the values typing looks at and a count; per
    candidate column: id digests, session-like counts, day/month evidence) stand for
    the whole columns.
    """

    path: Path
    layout: str
    columns: list[_Column]
    header_rows: int
    notes: list[dict[str, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    id_hint: int | None = None  # the layout's respondent-id column
    timestamp_hint: int | None = None  # the layout's completion-time column
    source: Any = None  # the records (_GridRecords or _CsvRecords)
    n: int = 0  # data rows (blank rows excluded)
    width: int = 0  # columns
    data_start: int = 0  # row number of the first data row
    skipped: set[int] = field(default_factory=set)  # row numbers of blank data rows
    totals: list[int] = field(default_factory=list)  # filled cells per column
    samples: list[list[str]] = field(default_factory=list)  # first values per column
    id_stats: dict[int, Any] = field(default_factory=dict)  # candidate id columns
    session_stats: dict[int, Any] = field(default_factory=dict)  # session-like columns
    date_stats: Any = None  # day/month evidence of the completion-time column


# --------------------------------------------------------------------------- public API


class Ingested(NamedTuple):
    """Result of :func:`read_export` and :func:`read_exports`; unpacks as ``responses, audit``."""

    responses: pd.DataFrame
    audit: pd.DataFrame


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
) -> Ingested:
    """Read one survey export into a long table of responses, and audit the reading.

    Parameters
    ----------
    path : str or os.PathLike
        The export: CSV/TSV/"Unicode text" or XLSX.
    format : {"auto", "qualtrics", "msforms", "googleforms", "surveymonkey", "csv", "xlsx"}
        Layout. ``auto`` detects it from the header; ``csv`` and ``xlsx`` mean a plain
        table whose columns are named by the caller (or found heuristically).
    text_columns : sequence of str or str, optional
        Columns holding open-text answers (header names or question texts, compared
        case-insensitively). Default: the columns the layout marks as text entry and
        those holding sentence-length answers (:func:`looks_like_free_text`), else those
        holding short typed answers; choice, rating, numeric, date, HTML, link and id
        columns never (see "Reading rules" in the module docstring).
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
    Ingested
        ``(responses, audit)``: the ``responses`` table described in the module
        docstring (validated with :func:`thematic.schemas.conform`), and the read audit
        (schema ``audit``, ``stage == "ingest"``; see "The read audit" in the module
        docstring): layout, encoding and delimiter detected, columns renamed or
        dropped, blank rows skipped, ids pseudonymised, and why each column was taken
        or left.

    Raises
    ------
    InputError
        An unknown ``format``; empty, binary, truncated or undecodable files, damaged
        workbooks and zip bombs, files past a limit (:data:`MAX_FILE_BYTES`,
        :data:`MAX_ROWS`, :data:`MAX_CSV_ROWS`, :data:`MAX_COLUMNS`,
        :data:`MAX_CELL_CHARS`...), ragged rows, an export where no column holds typed
        answers and ``text_columns`` is not given, or a named column that does not
        exist, naming the file and the row/column at fault.

    Examples
    --------
    >>> import thematic
    >>> files = thematic.examples.load("staff-survey-export")
    >>> responses, read_audit = thematic.read_export(files.export)
    >>> len(responses), responses["question_id"].unique().tolist()
    (456, ['Q2', 'Q3', 'Q4'])
    >>> read_audit.loc[read_audit["action"] == "detect_format", "detail"].tolist()
    ['qualtrics (3 header rows)']
    """
    path = Path(path)
    check_option("format", format, FORMATS)
    if isinstance(text_columns, str):
        text_columns = [text_columns]
    table = _scan_export(
        path, format, sheet=sheet, encoding=encoding, delimiter=delimiter, id_column=id_column
    )
    plan = _plan(
        table,
        text_columns=list(text_columns) if text_columns else None,
        group_column=group_column,
        id_column=id_column,
        session_column=session_column,
    )
    df = next(_blocks(table, plan, None))
    return Ingested(df, _notes_audit(table.notes))


class _UniqueIds:
    """Response ids already used by earlier exports, as 16-byte digests in numpy arrays.

    :meth:`take` gives a block's ids ``~2``, ``~3``... where an earlier id (of this
    export or an earlier one) is the same, in order, exactly as a set of the ids
    themselves would (BLAKE2b-128 digests: a collision is astronomically unlikely). It
    holds 16 bytes per id, in one sorted array, plus the ids of the block being taken.
    """

    def __init__(self) -> None:
        import numpy as np

        self._np = np
        self.seen = np.empty(0, dtype="S16")

    @staticmethod
    def _digest(s: str) -> bytes:
        return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def _known(self, d: bytes) -> bool:
        np = self._np
        i = int(np.searchsorted(self.seen, d))
        # numpy bytes scalars drop trailing NUL bytes: pad back before comparing
        return i < len(self.seen) and bytes(self.seen[i]).ljust(16, b"\0") == d

    def take(self, ids: list[str]) -> list[str]:
        """Return ``ids`` made unique against every id taken before, and remember them."""
        np = self._np
        digests = [self._digest(r) for r in ids]
        arr = np.array(digests, dtype="S16")
        if len(self.seen):
            pos = np.searchsorted(self.seen, arr)
            pos[pos == len(self.seen)] = 0
            clash = (self.seen[pos] == arr).tolist() if len(arr) else []
        else:
            clash = [False] * len(ids)
        out: list[str] = []
        block: set[bytes] = set()
        new_digests: list[bytes] = []
        for rid, d, hit in zip(ids, digests, clash, strict=True):
            new, k = rid, 1
            while hit or d in block:
                k += 1
                new = f"{rid}~{k}"
                d = self._digest(new)
                hit = self._known(d)
            block.add(d)
            new_digests.append(d)
            out.append(new)
        if new_digests:
            self.seen = np.sort(np.concatenate([self.seen, np.array(new_digests, dtype="S16")]))
        return out


def read_exports(paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> Ingested:
    """Read several exports (e.g. one per session) into one table.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        The exports, read in the order given with :func:`read_export`.
    **kwargs
        Passed to :func:`read_export` for every file.

    Returns
    -------
    Ingested
        ``(responses, audit)``: the concatenated ``responses`` table, and the read
        audits of the files one after the other (each starts its own
        ``detect_format`` row). Response ids already used by an earlier file get
        ``~2``, ``~3``... so they stay unique; the same export passed twice therefore
        yields every response twice, and :func:`thematic.clean.clean_responses` flags
        the second copies as duplicates.
    """
    read = [read_export(p, **kwargs) for p in paths]
    if not read:
        raise InputError("no export given")
    if len(read) == 1:
        return read[0]
    frames = [r.responses for r in read]
    used = _UniqueIds()
    for f in frames:
        f["response_id"] = pd.array(used.take(f["response_id"].tolist()), dtype="str")
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c.startswith("flag_"):
            out[c] = out[c].fillna(False).astype(bool)
    out = conform(out, "responses", source="combined exports")
    return Ingested(out, pd.concat([r.audit for r in read], ignore_index=True))


class ExportChunks:
    """Blocks of the long ``responses`` table of one or more exports, read in order.

    Iterating yields DataFrames of at most ``chunksize`` responses (whole respondents:
    a block ends at a respondent's last response), in respondent order; concatenated,
    they are :func:`read_exports` (the same rows, ids, values, dtypes and audit).

    What is held in memory: a text export (CSV, TSV, "Unicode text", in any of the
    layouts) is never held whole. It is read twice as a stream of records: the first
    pass checks it (encoding, NUL bytes, ragged rows, limits) and keeps per column
    only what typing needs (the first :data:`_PROFILE_SAMPLE` values and a count),
    per candidate id column two 16-byte digests per row (uniqueness, repeated ids,
    ``respondent-N`` numbering) and a few counters (session-like values, day/month
    order of timestamps); the second pass builds each block from the records. Per
    row, what survives between the passes is numpy arrays of a few bytes (the
    respondent number and occurrence of each row) plus the row numbers of blank rows.
    An XLSX workbook is read whole into its cells (streamed from the zip by
    ``openpyxl``, bounded by :data:`MAX_ROWS` and :data:`MAX_CELLS`) and its cells
    released as its blocks are yielded. Response ids repeated across exports get
    ``~2``, ``~3``... from one global index of 16-byte digests (:class:`_UniqueIds`),
    as in :func:`read_exports`.

    After the iteration, :attr:`audit` holds the read audit :func:`read_exports`
    returns and :attr:`columns` the columns of the combined table.

    Parameters
    ----------
    paths : sequence of path
        The exports.
    chunksize : int
        Most responses per block.
    **kwargs
        Passed to :func:`read_export`.
    """

    def __init__(
        self, paths: Sequence[str | os.PathLike[str]], chunksize: int = 50_000, **kwargs: Any
    ) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise InputError("no export given")
        if chunksize < 1:
            raise InputError(f"chunksize must be at least 1, not {chunksize}")
        self.chunksize = int(chunksize)
        self.kwargs = kwargs
        self.audit: pd.DataFrame = _notes_audit([])
        self.columns: list[str] = []
        self.n_rows = 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        check_option("format", self.kwargs.get("format", "auto"), FORMATS)
        used = _UniqueIds()
        several = len(self.paths) > 1
        notes_read: list[dict[str, str]] = []
        columns: dict[str, None] = {}
        self.n_rows = 0
        for path in self.paths:
            kw = dict(self.kwargs)
            text_columns = kw.pop("text_columns", None)
            if isinstance(text_columns, str):
                text_columns = [text_columns]
            table = _scan_export(
                path,
                kw.get("format", "auto"),
                sheet=kw.get("sheet"),
                encoding=kw.get("encoding"),
                delimiter=kw.get("delimiter"),
                id_column=kw.get("id_column"),
            )
            plan = _plan(
                table,
                text_columns=list(text_columns) if text_columns else None,
                group_column=kw.get("group_column"),
                id_column=kw.get("id_column"),
                session_column=kw.get("session_column"),
            )
            notes_read.extend(table.notes)
            per_file_rows = max(1, len(plan.roles.text_js))
            step = max(1, self.chunksize // per_file_rows)
            first = True
            for block in _blocks(table, plan, step):
                if first:
                    first = False
                    columns.update(dict.fromkeys(block.columns))
                if several:
                    block["response_id"] = pd.array(
                        used.take(block["response_id"].tolist()), dtype="str"
                    )
                self.n_rows += len(block)
                yield block
            del table, plan
        self.columns = list(columns)
        self.audit = _notes_audit(notes_read)
def _notes_audit(notes: list[dict[str, str]]) -> pd.DataFrame:
    """Turn the notes taken while reading into ``audit`` rows (``stage == "ingest"``)."""
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


def identifying_column_names(
    columns: Iterable[str], audit: pd.DataFrame | None = None
) -> list[str]:
    """Return the column names that hold identifying or quasi-identifying metadata.

    Parameters
    ----------
    columns : iterable of str
        Column names (e.g. ``df.columns``).
    audit : pandas.DataFrame, optional
        A read audit (from :func:`read_export`, or any audit holding its rows): the
        columns it left as identifying (``leave_column`` rows whose reason starts
        ``identifying``, e.g. a column of e-mail addresses whatever its header) are
        listed too.

    Returns
    -------
    list of str
        Names that look like e-mail, name, IP address, location, phone, address,
        recipient fields, or precise timestamps (start/end/completion times), and those
        the audit records as identifying, in the order given. Core response columns
        are never listed.

    Examples
    --------
    >>> from thematic.ingest import identifying_column_names
    >>> identifying_column_names(["text", "Email Address", "Ward", "StartDate"])
    ['Email Address', 'StartDate']
    """
    recorded: set[str] = set()
    if audit is not None and len(audit):
        left = audit[(audit["stage"] == "ingest") & (audit["action"] == "leave_column")]
        recorded = {
            d for d, r in zip(left["detail"].tolist(), left["reason"].tolist(), strict=True)
            if isinstance(d, str) and isinstance(r, str) and r.startswith("identifying")
        }
    out = []
    for c in columns:
        if c in _CORE:
            continue
        bare = c[5:] if c.startswith("meta:") else c
        if (
            _IDENTIFYING_NAME_RE.search(bare)
            or _TIMESTAMP_NAME_RE.match(bare.strip())
            or _mask(c) in recorded
            or _mask(bare) in recorded
        ):
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
        True when the answers that are not non-answers ("n/a", "none"...) are mostly
        sentences: on average at least four words, or some of at least eight words,
        with at least half of them distinct. Choice questions (few distinct values, long
        option labels repeated verbatim, ``;``/``,``-joined lists of a small option set),
        rating scales (``1``-``10``, ``4 - Very good``, "Strongly agree"...), numbers,
        dates, ids, HTML-only cells, links and file names give False; so does a column
        with no values.
    """
    return _profile(values).kind == "text"


# --------------------------------------------------------------------------- column types

#: Values examined per column when typing it (the first ones, so typing is deterministic
#: and its time bounded).
_PROFILE_SAMPLE = 5_000


@dataclass(frozen=True)
class _Profile:
    """What a column's values are, and why (for the audit)."""

    #: "empty", "html", "identifying", "links", "nonanswer", "numeric", "rating", "date",
    #: "codes", "multichoice", "choice", "text" (sentence answers) or "short" (short,
    #: mostly distinct answers)
    kind: str
    why: str
    n: int = 0  # non-blank values examined
    distinct: int = 0  # distinct values among the answers
    max_words: int = 0
    filled: float = 0.0  # share of rows with a value


_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,20})\b[^<>]{0,4000}>|<![^<>]{0,4000}>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,10});")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_FILE_RE = re.compile(
    r"[^/\\<>:|?*\n]{1,250}\.(?:jpe?g|png|gif|bmp|tiff?|webp|heic|svg|pdf|docx?|xlsx?|pptx?|"
    r"odt|txt|csv|zip|mp3|mp4|m4a|wav|mov|avi)",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"[-+]?[£$€]?\s?(?:\d{1,3}(?:[, ]\d{3})+|\d+)(?:[.,]\d+)?\s?%?")
_SCALE_LABEL_RE = re.compile(r"(\d{1,2})\s*(?:[-–—=:.)]|\()\s*[^\W\d_]")
_DATE_TIME_RE = re.compile(
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2}))"
    r"(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?"
    r"(?:\s?(?:Z|[+-]\d{2}:?\d{2}|[A-Z]{2,5}))?)?"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
)
#: Words of agreement, frequency, likelihood and quality scales (English, Spanish,
#: French, German, Welsh). A column whose values are made of these only is a rating.
_SCALE_WORDS = frozenset(
    """
    strongly somewhat slightly moderately fairly very extremely completely totally quite
    rather mostly a an little bit lot not at all neither nor or agree disagree agreed
    satisfied dissatisfied unsatisfied likely unlikely important unimportant useful useless
    helpful unhelpful good poor fair excellent bad average neutral okay ok always often
    usually frequently sometimes occasionally rarely seldom never more less than the same
    about much better worse definitely probably maybe possibly sure unsure no opinion
    applicable don't dont know confident comfortable uncomfortable relevant irrelevant
    effective ineffective valuable impressive unimpressive safe unsafe supported easy
    difficult hard acceptable unacceptable of to some extent great deal moderate high low
    medium outstanding satisfactory unsatisfactory adequate inadequate superb terrible
    muy bastante poco nada totalmente de acuerdo desacuerdo ni en bueno buena malo mala
    regular excelente nunca siempre veces casi algo tout fait plutôt pas du d'accord
    accord bien assez très jamais souvent parfois toujours mauvais moyen stimme voll und
    ganz zu eher nicht gar teils sehr gut schlecht nie selten manchmal oft immer
    cytuno anghytuno yn gryf ddim
    """.split()
)
_SCALE_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_MULTI_SPLIT = {";": re.compile(r"\s*;\s*"), ",": re.compile(r"\s*,\s*")}


def _profile(values: Iterable[Any], n_rows: int | None = None) -> _Profile:
    """Type a column from its values: what it holds, and why (one line, for the audit).

    Only the first :data:`_PROFILE_SAMPLE` non-blank values are examined. Markup, e-mail
    addresses, links and non-answers are told apart here; :func:`_type_answers` types
    the answers left.
    """
    vals: list[str] = []
    total = 0
    for v in values:
        if v is None or _isna(v):
            continue
        t = " ".join(str(v).split())
        if not t:
            continue
        total += 1
        if len(vals) < _PROFILE_SAMPLE:
            vals.append(t)
    return _profile_of(vals, total, n_rows)


def _profile_of(vals: list[str], total: int, n_rows: int | None) -> _Profile:
    """Type a column from its first non-blank values (``vals``, whitespace normalised).

    ``total`` is the number of non-blank cells of the column and ``n_rows`` its rows
    (the fill rate); a stream of records gives the same profile as the whole column.
    """
    from .clean import is_non_answer

    filled = total / n_rows if n_rows else (1.0 if total else 0.0)
    n = len(vals)
    if not n:
        return _Profile("empty", "no answers in any row", filled=filled)

    def prof(kind: str, why: str, distinct: int = 0, max_words: int = 0) -> _Profile:
        return _Profile(kind, why, n, distinct or len(set(vals)), max_words, filled)

    # HTML: markup only (<img>, <br>, <a>...), or answers wrapped in markup
    tagged = [v for v in vals if _TAG_RE.search(v)]
    if len(tagged) >= 0.8 * n:
        stripped = [" ".join(_ENTITY_RE.sub(" ", _TAG_RE.sub(" ", v)).split()) for v in vals]
        empty = sum(1 for v in stripped if not _HAS_ALNUM.search(v))
        if empty >= 0.8 * n:
            tags = Counter(
                m.group(2).lower() for v in tagged for m in _TAG_RE.finditer(v) if m.group(2)
            )
            names = ", ".join(f"<{t}>" for t, _ in tags.most_common(3))
            return prof("html", f"markup without answer text ({names or 'comments'})")
        vals = [v for v in stripped if v] or vals
        n = len(vals)
    if sum(1 for v in vals if _EMAIL_RE.fullmatch(v)) >= 0.8 * n:
        return prof("identifying", "e-mail addresses")
    links = sum(1 for v in vals if _URL_RE.fullmatch(v) or _FILE_RE.fullmatch(v))
    if links >= 0.8 * n:
        return prof("links", "URLs or uploaded file names, not typed answers")

    answers = [v for v in vals if not is_non_answer(v)]
    if not answers:
        return prof("nonanswer", "only n/a, none, - and the like")
    return _type_answers(vals, answers, filled)


def _type_answers(vals: list[str], answers: list[str], filled: float) -> _Profile:
    """Type a column from its values (``vals``) and those that are not non-answers."""
    n, m = len(vals), len(answers)
    counts = Counter(answers)
    k = len(counts)
    words = [len(v.split()) for v in answers]
    max_words = max(words)

    def kind(name: str, why: str) -> _Profile:
        return _Profile(name, why, n, k, max_words, filled)

    numbers = [v for v in answers if _NUMBER_RE.fullmatch(v)]
    if len(numbers) > 0.5 * m:
        ints = [int(v) for v in numbers if v.isascii() and v.isdigit() and len(v) <= 3]
        if len(ints) == len(numbers) and max(ints) <= 10:
            return kind("rating", f"integers {min(ints)}-{max(ints)} (a rating scale or a count)")
        return kind("numeric", f"{len(set(numbers))} distinct numbers")
    scale = [_SCALE_LABEL_RE.match(v) for v in answers]
    if k <= 11 and all(scale):
        lo = min(int(x.group(1)) for x in scale if x)
        hi = max(int(x.group(1)) for x in scale if x)
        return kind("rating", f"numbered labels {lo}-{hi} ({k} distinct)")
    if sum(1 for v in answers if _DATE_TIME_RE.fullmatch(v)) >= 0.8 * m:
        return kind("date", "dates or times")
    if k <= 12 and sum(1 for v in answers if _scale_words(v)) >= 0.9 * m:
        return kind("rating", f"{k} agreement, frequency or quality labels")
    if (
        m >= 3
        and k == m
        and max_words == 1
        and sum(1 for v in answers if any(ch.isdigit() for ch in v)) >= 0.9 * m
    ):
        return kind("codes", "one token with digits in every row, all distinct (id-like)")
    multi = _multi_choice(answers)
    if multi:
        return kind("multichoice", multi)
    k_all = len(set(vals))
    # typed answers differ in case and punctuation ("Computer science", "computer Science");
    # the options of a choice question are few and spelt one way
    typed = k_all - len({_LOOSE.sub("", v.casefold()) for v in vals}) >= max(2, 0.1 * k_all)
    if (
        n >= 4
        and k_all <= n / 2
        and (m < 4 or k <= m / 2)
        and (k_all <= 30 or k_all <= n / 10)
        and not typed
    ):
        return kind("choice", f"{k_all} distinct values in {n} answers")
    long_vals = [v for v, w in zip(answers, words, strict=True) if w >= 4]
    if m >= 3 and len(long_vals) >= 0.5 * m:
        repeated = sum(1 for v in long_vals if counts[v] > 1)
        if repeated >= 0.5 * len(long_vals):
            return kind("choice", f"long options repeated verbatim ({k} distinct in {m} answers)")
    mean_words = sum(words) / m
    if mean_words >= 4 or (max_words >= 8 and k / m >= 0.6):
        return kind("text", f"sentence-length answers (mean {mean_words:.1f} words)")
    return kind("short", f"{k} distinct in {m}, mean {mean_words:.1f} words")


_HAS_ALNUM = re.compile(r"[^\W_]")
_LOOSE = re.compile(r"[\W_]+")


def _scale_words(v: str) -> bool:
    """Tell whether a value is made only of rating-scale words ("Strongly agree")."""
    w = _SCALE_WORD_RE.findall(v.casefold())
    return bool(w) and len(w) <= 6 and all(x in _SCALE_WORDS for x in w)


def _multi_choice(answers: list[str]) -> str | None:
    """Explain why ``answers`` are lists of options picked from a small set, or return None.

    Google Forms joins the options ticked in a checkbox question with ", ", Microsoft
    Forms with ";", Qualtrics with ",".
    """
    if len(answers) < 4:
        return None
    for sep, split in _MULTI_SPLIT.items():
        if sum(1 for v in answers if sep in v) < 0.2 * len(answers):
            continue
        parts = [p for v in answers for p in split.split(v) if p]
        options = Counter(parts)
        if (
            len(options) <= 25
            and len(parts) >= 2 * len(options)
            and sum(len(p.split()) for p in parts) / len(parts) <= 6
        ):
            return (
                f"multiple answers joined by {sep!r} from {len(options)} options "
                f"({len(set(answers))} distinct combinations)"
            )
    return None


# --------------------------------------------------------------------------- reading bytes

#: Bytes read at a time from a text export.
_BYTES_CHUNK = 1 << 20
#: Records parsed at a time (the CSV field size limit is set around each batch).
_RECORD_BATCH = 4096


class _GridRecords:
    """The records of a workbook read whole: ``(row number, cells)``, re-iterable."""

    def __init__(self, grid: list[list[str | None]]) -> None:
        self.grid = grid

    def __iter__(self) -> Iterator[tuple[int, list[str | None]]]:
        for i, r in enumerate(self.grid):
            yield i + 1, r

    def filled_width(self) -> int:
        """One past the last column any row fills."""
        width = 0
        for r in self.grid:
            for k in range(len(r) - 1, width - 1, -1):
                if _filled(r[k]):
                    width = k + 1
                    break
        return width

    def release(self, num: int) -> None:
        """Forget the cells of row ``num`` (its block was built)."""
        self.grid[num - 1] = []


class _CsvRecords:
    """The records of a text export, parsed from the file each time they are iterated.

    The file is decoded incrementally (:class:`io.TextIOWrapper` with the encoding
    detected) and parsed with :mod:`csv` as when read whole (quoted newlines, CRLF, a
    leading byte-order mark and Excel's ``sep=`` line); the limits
    (:data:`MAX_CSV_ROWS`, :data:`MAX_COLUMNS`, :data:`MAX_CSV_CELLS`,
    :data:`MAX_CELL_CHARS`) are checked as records come, and a record that breaks one,
    or malformed CSV, raises :class:`InputError` naming the file and row.
    """

    def __init__(self, path: Path, encoding: str, delimiter: str, hint: bool) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.hint = hint

    def filled_width(self) -> int:  # pragma: no cover - text exports are strict
        raise NotImplementedError

    def release(self, num: int) -> None:
        """Nothing to release: records are parsed again from the file."""

    def _lines(self, fh: io.TextIOWrapper) -> Iterator[str]:
        first = True
        for line in fh:
            if first:
                first = False
                if line.startswith("\ufeff"):
                    line = line[1:]
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str | None]]]:
        path = self.path
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror or exc})", path=path) from None
        with raw, io.TextIOWrapper(raw, encoding=self.encoding, newline="") as fh:
            reader = csv.reader(
                self._lines(fh),
                delimiter=self.delimiter,
                quotechar='"',
                doublequote=True,
                strict=True,
            )
            n = 0
            cells = 0
            while True:
                batch: list[list[str]] = []
                try:
                    with _field_limit():
                        for rec in reader:
                            batch.append(rec)
                            if len(batch) == _RECORD_BATCH:
                                break
                except csv.Error as exc:
                    row = n + len(batch) + 1
                    if "field larger than field limit" in str(exc):
                        raise InputError(
                            f"a cell longer than {MAX_CELL_CHARS:,} characters "
                            "(thematic.ingest.MAX_CELL_CHARS); an unclosed quote can make one",
                            path=path,
                            row=row,
                        ) from None
                    raise InputError(
                        f"malformed CSV ({exc}): check for an unclosed quote; the file may be "
                        "truncated",
                        path=path,
                        row=row,
                    ) from None
                except UnicodeDecodeError as exc:  # the file changed since it was checked
                    raise InputError(
                        f"not valid {self.encoding}: {exc.reason}", path=path, row=n + len(batch) + 1
                    ) from None
                for rec in batch:
                    n += 1
                    if n > MAX_CSV_ROWS:
                        raise InputError(
                            f"more than the {MAX_CSV_ROWS:,} rows read "
                            "(thematic.ingest.MAX_CSV_ROWS); split the export",
                            path=path,
                            row=n,
                        )
                    if len(rec) > MAX_COLUMNS:
                        raise InputError(
                            f"{len(rec):,} fields, more than the {MAX_COLUMNS:,} columns read "
                            "(thematic.ingest.MAX_COLUMNS)",
                            path=path,
                            row=n,
                        )
                    cells += len(rec)
                    if cells > MAX_CSV_CELLS:
                        raise InputError(
                            f"more than {MAX_CSV_CELLS:,} cells (thematic.ingest.MAX_CSV_CELLS); "
                            "split the export",
                            path=path,
                            row=n,
                        )
                    if n == 1 and self.hint:
                        yield n, []  # Excel's sep= line: skipped like a blank line
                    else:
                        yield n, [c if c != "" else None for c in rec]
                if len(batch) < _RECORD_BATCH:
                    return


def _open_source(
    path: Path, *, sheet: str | int | None, encoding: str | None, delimiter: str | None
) -> tuple[_GridRecords | _CsvRecords, list[dict[str, str]], dict[str, Any]]:
    """Check an export and return its records, the read notes and what was detected.

    A workbook is read whole (:func:`_read_xlsx`). A text export is checked as a stream
    of bytes (size, emptiness, encoding, NUL bytes) holding at most
    :data:`_BYTES_CHUNK` bytes and the first 64 KiB of text (to sniff the delimiter);
    its records are parsed when they are iterated (:class:`_CsvRecords`).
    """
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not an export file", path=path)
    if not path.is_file():
        raise InputError("not a regular file (a device, pipe or socket)", path=path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            start = fh.read(_BYTES_CHUNK)
            if size > MAX_FILE_BYTES or len(start) > MAX_FILE_BYTES:
                raise InputError(
                    f"the file is larger than the {MAX_FILE_BYTES:,} bytes read "
                    "(thematic.ingest.MAX_FILE_BYTES); split the export",
                    path=path,
                )
            # empty: nothing but blanks, NULs and byte-order-mark bytes
            blank = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
            chunk = start
            while chunk and not chunk.translate(None, blank):
                chunk = fh.read(_BYTES_CHUNK)
            if not chunk:
                raise InputError("the file is empty", path=path)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=path) from None
    notes: list[dict[str, str]] = []
    info: dict[str, Any] = {}
    suffix = path.suffix.lower()
    if start[:4] == b"PK\x03\x04":
        info["container"] = "xlsx"
        rows = _read_xlsx(path, sheet)
        notes.append({"action": "read", "reason": "container", "detail": "xlsx workbook"})
        return _GridRecords(rows), notes, info
    if start[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "this is a legacy .xls or a password-protected workbook; save it from Excel as "
            ".xlsx (without a password) or as CSV UTF-8",
            path=path,
        )
    if suffix in {".xlsx", ".xlsm"}:
        raise InputError(
            "not an XLSX workbook (the file is truncated, damaged or not from Excel)", path=path
        )
    enc, how, head = _detect_encoding(path, start, size, encoding)
    info["container"] = "text"
    info["encoding"] = enc
    notes.append({"action": "decode", "reason": "encoding", "detail": f"{enc} ({how})"})
    # Excel's "sep=;" hint line names the delimiter
    hint = re.match(r"\ufeff?sep=(.)\r?\n", head)
    delim = delimiter or (hint.group(1) if hint else _sniff_delimiter(head))
    info["delimiter"] = delim
    notes.append(
        {"action": "read", "reason": "delimiter", "detail": {"\t": "TAB"}.get(delim, delim)}
    )
    return _CsvRecords(path, enc, delim, bool(hint)), notes, info


#: Characters of text kept for sniffing the delimiter (one more than it looks at, so it
#: can tell whether the text goes on).
_SNIFF_CHARS = 65537


def _detect_encoding(
    path: Path, start: bytes, size: int, encoding: str | None
) -> tuple[str, str, str]:
    """Return the encoding of a text export, how it was decided and its first characters.

    The file is decoded as a stream with the encoding the byte-order mark, the NUL-byte
    pattern or the caller names, else strict UTF-8; a NUL character in the text is an
    error naming its row. When that decoding fails the file is read whole once (at
    most :data:`MAX_FILE_BYTES`) and :func:`_decode` decides -- Windows-1252 when the
    text reads like a Western European language -- or raises the error naming the
    byte offset and row.
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", path=path) from None
        enc, how = encoding, "as requested"
    else:
        enc, how = "", ""
        for bom, name in _BOMS:
            if start.startswith(bom):
                enc, how = name, "byte-order mark"
                break
        if not enc:
            utf16 = _utf16_without_bom(start)
            if utf16 is not None:
                if size % 2:
                    raise InputError(
                        f"this looks like {utf16.upper()} text without a byte-order mark, but "
                        "it has an odd number of bytes: the file is truncated; re-save the export",
                        path=path,
                    )
                enc, how = utf16, "UTF-16 without BOM (NUL-byte pattern)"
            else:
                enc, how = "utf-8", "valid UTF-8"
    head: list[str] = []
    kept = 0
    lines = 0  # line feeds before the current chunk
    nul_row = None
    decoder = codecs.getincrementaldecoder(enc)("strict")
    try:
        with path.open("rb") as fh:
            read = 0
            while True:
                chunk = fh.read(_BYTES_CHUNK)
                read += len(chunk)
                if read > MAX_FILE_BYTES:
                    raise InputError(
                        f"the file is larger than the {MAX_FILE_BYTES:,} bytes read "
                        "(thematic.ingest.MAX_FILE_BYTES); split the export",
                        path=path,
                    )
                text = decoder.decode(chunk, final=not chunk)
                if kept < _SNIFF_CHARS and text:
                    head.append(text[: _SNIFF_CHARS - kept])
                    kept += len(head[-1])
                if nul_row is None and "\x00" in text:
                    nul_row = lines + text[: text.index("\x00")].count("\n") + 1
                lines += text.count("\n")
                if not chunk:
                    break
    except UnicodeDecodeError:
        return _detect_whole(path, encoding)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=path) from None
    if nul_row is not None:
        raise InputError(
            "the file holds NUL bytes: it is binary, not a CSV/text export", path=path, row=nul_row
        )
    return enc, how, "".join(head)


def _detect_whole(path: Path, encoding: str | None) -> tuple[str, str, str]:
    """Decide the encoding of an export that is not valid as first guessed, reading it whole."""
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    text, enc, how = _decode(data, path, encoding)
    del data
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        raise InputError(
            "the file holds NUL bytes: it is binary, not a CSV/text export", path=path, row=row
        )
    return enc, how, text[:_SNIFF_CHARS]
#: Zip archives that are not Excel workbooks, told apart by a member they always hold.
_OTHER_ZIPS = (
    ("Index/Document.iwa", "an Apple Numbers document; export it from Numbers as CSV or Excel"),
    ("content.xml", "an OpenDocument file (LibreOffice); save it as .xlsx or CSV"),
    ("word/document.xml", "a Word document, not a workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation, not a workbook"),
)


def _check_zip(path: Path) -> None:
    """Refuse damaged zips, other zip formats and zip bombs before openpyxl opens them.

    Only the zip directory is read: declared sizes are checked against
    :data:`MAX_XLSX_UNCOMPRESSED_BYTES`, :data:`MAX_XLSX_RATIO` and
    :data:`MAX_XLSX_MEMBERS`. A member whose data expand beyond its declared size is
    cut there by :mod:`zipfile` and then fails its CRC check.
    """
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(
            f"not a readable XLSX workbook: the zip archive is damaged or truncated ({exc})",
            path=path,
        ) from None
    if len(infos) > MAX_XLSX_MEMBERS:
        raise InputError(
            f"the workbook holds {len(infos):,} zip members, more than the "
            f"{MAX_XLSX_MEMBERS:,} allowed (thematic.ingest.MAX_XLSX_MEMBERS)",
            path=path,
        )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        for member, what in _OTHER_ZIPS:
            if member in names:
                raise InputError(f"not an XLSX workbook: this is {what}", path=path)
    total = 0
    for i in infos:
        total += i.file_size
        if total > MAX_XLSX_UNCOMPRESSED_BYTES:
            raise InputError(
                f"the workbook expands to more than {MAX_XLSX_UNCOMPRESSED_BYTES:,} bytes "
                "(thematic.ingest.MAX_XLSX_UNCOMPRESSED_BYTES): a zip bomb or an export too "
                "large to read; split it or save it as CSV",
                path=path,
            )
        if i.file_size > 2**20 and i.file_size > MAX_XLSX_RATIO * max(1, i.compress_size):
            raise InputError(
                f"zip member {i.filename!r} expands {i.file_size // max(1, i.compress_size):,} "
                f"times, more than {MAX_XLSX_RATIO} (thematic.ingest.MAX_XLSX_RATIO): "
                "this looks like a zip bomb",
                path=path,
            )


def _read_xlsx(path: Path, sheet: str | int | None) -> list[list[str | None]]:
    _check_zip(path)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files
        raise InputError(
            f"cannot open the XLSX workbook ({type(exc).__name__}): the file is truncated, "
            "damaged, password-protected or not from Excel",
            path=path,
        ) from None
    try:
        if sheet is None:
            if not wb.worksheets:
                raise InputError("the workbook has no worksheet", path=path)
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
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = _xlsx_rows(wb, ws, path)
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


def _xlsx_rows(wb: Any, ws: Any, path: Path) -> list[list[str | None]]:
    """Stream a read-only worksheet into rows of strings, within the limits.

    openpyxl's ``iter_rows`` pads every row to the dimension the sheet *declares* and
    yields an empty row for every missing row number: a few bytes declaring
    ``A1:XFD1048576`` would cost billions of cells. The sheet's own parser yields only
    the cells present, with their row and column numbers.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    rows: list[list[str | None]] = []
    cells_read = 0
    with ws._get_source() as src:
        parser = WorkSheetParser(
            src,
            ws._shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for idx, cells in parser.parse():
            values: dict[int, str] = {}
            for c in cells:
                v = _cell_to_str(c["value"])
                if v is None:
                    continue
                col = c["column"]
                if col > MAX_COLUMNS:
                    raise InputError(
                        f"a value in column {_col_letter(col - 1)}, beyond the {MAX_COLUMNS:,} "
                        "columns read (thematic.ingest.MAX_COLUMNS)",
                        path=path,
                        row=idx,
                    )
                if len(v) > MAX_CELL_CHARS:
                    raise InputError(
                        f"a cell of {len(v):,} characters in column {_col_letter(col - 1)}, "
                        f"more than the {MAX_CELL_CHARS:,} allowed (thematic.ingest.MAX_CELL_CHARS)",
                        path=path,
                        row=idx,
                    )
                values[col] = v
            if not values:
                continue
            if idx > MAX_ROWS:
                raise InputError(
                    f"more than the {MAX_ROWS:,} rows read (thematic.ingest.MAX_ROWS); "
                    "split the export",
                    path=path,
                    row=idx,
                )
            if idx <= len(rows):
                raise InputError(
                    "damaged worksheet: this row number appears twice or out of order",
                    path=path,
                    row=idx,
                )
            width = max(values)
            cells_read += width
            if cells_read > MAX_CELLS:
                raise InputError(
                    f"more than {MAX_CELLS:,} cells (thematic.ingest.MAX_CELLS); split the export",
                    path=path,
                    row=idx,
                )
            while len(rows) < idx - 1:
                rows.append([])  # a blank row: numbering stays the spreadsheet's
            row: list[str | None] = [None] * width
            for col, v in values.items():
                row[col - 1] = v
            rows.append(row)
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
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        how = "UTF-16 without BOM (NUL-byte pattern)"
        if len(data) % 2:
            raise InputError(
                f"this looks like {utf16.upper()} text without a byte-order mark, but it has an "
                "odd number of bytes: the file is truncated; re-save the export",
                path=path,
            )
        return _strict(data, utf16, path, how), utf16, how
    try:
        return data.decode("utf-8"), "utf-8", "valid UTF-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    sample = data[:4096]
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


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when the NUL bytes say so, else None.

    UTF-16 text (without byte-order mark) of any script has its ASCII characters --
    at least the delimiters and line ends of a CSV -- as a NUL byte next to the
    character: NULs fall at odd positions (little-endian) or even positions
    (big-endian), almost never at both. Binary data has NULs at both.
    """
    sample = data[: 1 << 16]
    sample = sample[: len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    odd = sample[1::2].count(0)
    even = sample[0::2].count(0)
    major, minor = max(odd, even), min(odd, even)
    if major < max(2, 0.05 * pairs) or minor > 0.1 * major:
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


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
    """Set the :mod:`csv` field size limit to :data:`MAX_CELL_CHARS` while reading."""
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, MAX_CELL_CHARS))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    candidates = [",", ";", "\t", "|"]
    # csv.Sniffer's regular expressions take time quadratic in the sample: give it the
    # first whole lines of at most 8 KB only
    head = sample[:8192]
    if len(head) < len(text) and "\n" in head:
        head = head[: head.rindex("\n") + 1]
    try:
        sniffed: str | None = csv.Sniffer().sniff(head, delimiters="".join(candidates)).delimiter
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


# --------------------------------------------------------------------------- layouts


def _norm(s: str | None) -> str:
    return " ".join((s or "").replace("\ufeff", "").split())


def _key(s: str | None) -> str:
    return _norm(s).casefold()


def _filled(c: str | None) -> bool:
    """Tell whether a cell holds anything (``_norm(c) != ""``), fast."""
    if c is None or not c or c.isspace():
        return False
    return "\ufeff" not in c or bool(_norm(c))


@dataclass
class _IdStats:
    """What choosing, checking and numbering a respondent-id column needs of its rows."""

    first_empty: int | None = None  # spreadsheet row of the first empty id
    any_email: bool = False
    exact: bytearray = field(default_factory=bytearray)  # 16-byte digest of each id
    folded: bytearray = field(default_factory=bytearray)  # ... of each casefolded id


@dataclass
class _SessionStats:
    """What telling a session-like column needs: a sample, a count and the hits."""

    sample: list[str] = field(default_factory=list)
    n: int = 0
    hits: int = 0


@dataclass
class _DateStats:
    """What deriving session dates from timestamps needs: the day/month evidence."""

    first_gt12: bool = False
    second_gt12: bool = False
    any_slash: bool = False  # a d/m/y date written with "/"


_EMPTY_DIGEST = bytes(16)


def _digest16(s: str) -> bytes:
    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _scan_export(
    path: Path,
    fmt: str,
    *,
    sheet: str | int | None,
    encoding: str | None,
    delimiter: str | None,
    id_column: str | None = None,
) -> _Table:
    """Read an export's records once: its layout, columns and what typing them needs."""
    source, notes, info = _open_source(path, sheet=sheet, encoding=encoding, delimiter=delimiter)
    return _scan(path, source, fmt, notes, info, id_column)


def _header_rows(layout: str, head: list[tuple[int, list[str | None]]]) -> tuple[int, int]:
    """Return ``(header rows of the table, rows used as headers)`` of a layout."""
    if layout == "qualtrics":
        third = head[2][1] if len(head) > 2 else []
        import_ids = bool(third) and any(_norm(c).startswith('{"ImportId"') for c in third if c)
        n = min(3 if import_ids else 2, len(head))
        return n, n
    if layout == "surveymonkey":
        return 2, min(2, len(head))
    return 1, 1


def _header_columns(
    path: Path,
    layout: str,
    head: list[tuple[int, list[str | None]]],
    width: int,
    notes: list[dict[str, str]],
) -> tuple[list[_Column], list[str]]:
    """Name and describe the columns of a layout from its header rows.

    Returns the columns and, for SurveyMonkey, the sub-header (option) of each column
    (empty strings elsewhere). Column ``j`` depends only on the columns before it, so
    the columns of a narrower ``width`` are a prefix of these.
    """
    options = [""] * width
    if layout == "qualtrics":
        hr, _ = _header_rows(layout, head)
        third = head[2][1] if len(head) > 2 else []
        import_ids = hr == 3
        r1 = _cells(head[0][1], width)
        r2 = _cells(head[1][1], width) if hr > 1 else [None] * width
        legacy_v = sum(1 for c in r1 if re.fullmatch(r"V\d+", _norm(c))) >= 3
        names = []
        for a, b in zip(r1, r2, strict=True):
            names.append(_norm(b) if legacy_v and re.fullmatch(r"V\d+", _norm(a)) else _norm(a))
        names = _dedupe(names, notes, path)
        cols = []
        for j, n in enumerate(names):
            q = _norm(r2[j]) or n
            imp = _norm(third[j]) if import_ids and j < len(third) else ""
            m = re.search(r'"ImportId"\s*:\s*"([^"]*)"', imp)
            col = _Column(n, q)
            if n.casefold() in _QUALTRICS_META or n.casefold().startswith("q_"):
                col.role, col.why = "meta", "Qualtrics survey field"
            elif m:
                col.signal, col.why = _qualtrics_signal(m.group(1))
            cols.append(col)
        return cols, options
    if layout == "surveymonkey":
        r1 = _cells(head[0][1], width)
        r2 = _cells(head[1][1], width) if len(head) > 1 else [None] * width
        names, cols_info = [], []
        current_q = ""
        for a, b in zip(r1, r2, strict=True):
            a, b = _norm(a), _norm(b)
            if a:
                current_q = a
            if a and a.casefold() in _SURVEYMONKEY_META and not b:
                names.append(a)
                cols_info.append((a, None, "", "meta", ""))
                current_q = ""
                continue
            q = current_q or a
            if b and b.casefold() not in _SURVEYMONKEY_GENERIC:
                name = f"{q} - {b}" if q else b
            else:
                name = q
            if b.casefold() in _SURVEYMONKEY_OPEN:
                signal, why = "text", f"SurveyMonkey {b!r} column"
            elif b.casefold() == "response":
                signal, why = "closed", "SurveyMonkey closed question ('Response' column)"
            else:
                signal, why = None, ""
            names.append(name)
            cols_info.append((name, signal, why, None, b))
        names = _dedupe(names, notes, path)
        cols = []
        for j, (n, (_, signal, why, role, option)) in enumerate(
            zip(names, cols_info, strict=True)
        ):
            cols.append(
                _Column(n, n, signal, role, why if role is None else "SurveyMonkey respondent field")
            )
            if signal is None and role is None and option:
                options[j] = option
        return cols, options
    names = _dedupe([_norm(c) for c in _cells(head[0][1], width)], notes, path)
    cols = []
    for j, n in enumerate(names):
        base = re.sub(r" \(\d+\)$", "", n).casefold()
        col = _Column(n, n)
        if layout == "msforms":
            fixed = (
                (j == 0 and _MSFORMS_ID_RE.match(base))
                or (j in (1, 2, 5) and _MSFORMS_TIME_RE.search(base))
                or (j == 3 and _MSFORMS_MAIL_RE.search(base))
                or (j == 4 and _MSFORMS_NAME_RE.search(base))
            )
            if fixed or base in _MSFORMS_META or re.match(r"^(points|feedback) - ", base):
                what = (
                    "id",
                    "start time",
                    "completion time",
                    "e-mail",
                    "name",
                    "last modified time",
                )
                col.role = "meta"
                col.why = f"Microsoft Forms {what[j] if fixed else 'quiz or form'} field"
                col.identifying = j != 0 and bool(fixed)
        elif layout == "googleforms" and base in _GOOGLE_META:
            col.role, col.why = "meta", "Google Forms field"
            col.identifying = j == 0 or bool(_IDENTIFYING_NAME_RE.search(base))
        cols.append(col)
    return cols, options


def _hints(table: _Table) -> None:
    """Set the layout's id and completion-time columns."""
    cols = table.columns
    if table.layout == "msforms":
        table.id_hint = 0 if cols and _MSFORMS_ID_RE.match(cols[0].name) else None
        table.timestamp_hint = 2 if len(cols) > 2 and _MSFORMS_TIME_RE.search(cols[2].name) else None
    elif table.layout == "googleforms":
        table.timestamp_hint = 0


def _scan(
    path: Path,
    source: _GridRecords | _CsvRecords,
    fmt: str,
    read_notes: list[dict[str, str]],
    info: dict[str, Any],
    id_column: str | None = None,
) -> _Table:
    """Read every record once: layout, header, columns, and the statistics of the data rows.

    Leading blank rows are skipped; the first filled row and the two after it decide the
    layout and its header rows. Errors in the records themselves (malformed CSV, limits)
    come first, as when the file was read whole; the layout's errors (an explicit
    ``format`` that does not fit, a ragged row) are raised after the last record.
    """
    strict = info.get("container") == "text"
    it = iter(source)
    head: list[tuple[int, list[str | None]]] = []
    for num, rec in it:
        if head or any(_filled(c) for c in rec):
            head.append((num, rec))
            if len(head) == 3:
                break
    if not head:
        raise InputError("the file has no header row (it holds only blank cells)", path=path)
    try:
        layout = _detect(head, fmt, path)
    except InputError:
        for _ in it:  # errors in later records come first
            pass
        raise
    info["layout"] = layout
    header_rows, used_rows = _header_rows(layout, head)
    headers = [r for _, r in head[:used_rows]]
    width = max(len(h) for h in headers)
    if not strict:
        width = max(width, source.filled_width())
    cols_full, options = _header_columns(path, layout, head, width, [])
    table = _Table(path, layout, cols_full, header_rows, [])
    _hints(table)
    # candidate columns (by header): respondent id, session, completion time
    id_cands = _id_candidates(table, id_column)
    session_cands = [
        j
        for j, c in enumerate(cols_full)
        if c.signal not in {"text", "files"}
        and _SESSION_NAME_RE.search(c.name)
        and not _RATING_QUESTION_RE.search(c.name)
    ]
    ts_j = _timestamp_column(table)
    id_stats = {j: _IdStats() for j in id_cands}
    session_stats = {j: _SessionStats() for j in session_cands}
    date_stats = _DateStats()
    option_keys: dict[int, set[str]] = {j: set() for j, o in enumerate(options) if o}
    totals = [0] * width
    samples: list[list[str]] = [[] for _ in range(width)]
    used = 0
    for h in headers:
        for k in range(min(len(h), width) - 1, used - 1, -1):
            if _filled(h[k]):
                used = k + 1
                break
    data_start = head[0][0] + used_rows
    skipped: list[int] = []
    n = 0
    ragged: InputError | None = None

    def data_rows() -> Iterator[tuple[int, list[str | None]]]:
        yield from head[used_rows:]
        yield from it

    for num, r in data_rows():
        if ragged is not None:
            continue  # errors in later records come first
        if len(r) > width and any(_filled(c) for c in r[width:]):
            ragged = InputError(
                f"ragged row: {len(r)} fields but the header has {width}; a delimiter or quote "
                "is probably out of place",
                path=path,
                row=num,
            )
            continue
        m = min(len(r), width)
        last = -1
        for k in range(m - 1, -1, -1):
            if _filled(r[k]):
                last = k
                break
        if last < 0:
            skipped.append(num)
            continue
        if last >= used:
            used = last + 1
        n += 1
        for j in range(m):
            v = r[j]
            if v is None:
                continue
            t = " ".join(v.split())
            if t:
                totals[j] += 1
                s = samples[j]
                if len(s) < _PROFILE_SAMPLE:
                    s.append(t)
        for j, keys in option_keys.items():
            v = r[j] if j < m else None
            if len(keys) < 2 and _filled(v):
                keys.add(_key(v))
        for j, st in id_stats.items():
            v = _norm(r[j]) if j < m else ""
            if not v:
                if st.first_empty is None:
                    st.first_empty = num
                st.exact += _EMPTY_DIGEST
                st.folded += _EMPTY_DIGEST
                continue
            if not st.any_email and _EMAIL_RE.search(v):
                st.any_email = True
            st.exact += _digest16(v)
            st.folded += _digest16(v.casefold())
        for j, ss in session_stats.items():
            v = _norm(r[j]) if j < m else ""
            if v:
                ss.n += 1
                if len(ss.sample) < _PROFILE_SAMPLE:
                    ss.sample.append(v)
                if _SESSION_VALUE.search(v):
                    ss.hits += 1
        if ts_j is not None:
            _date_evidence(r[ts_j] if ts_j < m else None, date_stats)
    if ragged is not None:
        raise ragged
    # the notes in the order of the whole-file reader: trailing columns, headers, blank rows
    notes: list[dict[str, str]] = []
    if width > used:
        notes.append(
            {
                "action": "drop_column",
                "reason": "trailing empty column",
                "detail": f"{_plural(width - used, 'trailing column')} without header or data",
            }
        )
    cols, options = _header_columns(path, layout, head, used, notes)
    notes.extend({"action": "skip_row", "reason": "blank row", "detail": f"row {k}"} for k in skipped)
    for j, keys in option_keys.items():
        if j < used and keys and keys <= {options[j].casefold()}:
            # a column of a multi-choice question: it holds its option label or nothing
            cols[j].signal = "closed"
            cols[j].why = f"SurveyMonkey multiple-choice option {options[j]!r}"
    table = _Table(path, layout, cols, header_rows, notes)
    _hints(table)
    table.notes[:0] = read_notes
    table.info.update(info)
    table.notes.append(
        {
            "action": "detect_format",
            "reason": "layout",
            "detail": f"{layout} ({_plural(table.header_rows, 'header row')})",
        }
    )
    table.source = source
    table.n = n
    table.width = used
    table.data_start = data_start
    table.skipped = set(skipped)
    table.totals = totals[:used]
    table.samples = samples[:used]
    table.id_stats = {j: s for j, s in id_stats.items() if j < used}
    table.session_stats = {j: s for j, s in session_stats.items() if j < used}
    table.date_stats = date_stats
    return table


def _id_candidates(table: _Table, id_column: str | None) -> list[int]:
    """Return the columns that may become the respondent-id column, by header alone."""
    out = set()
    if id_column:
        k = _key(id_column)
        out.update(
            j for j, c in enumerate(table.columns) if k in (_key(c.name), _key(c.question))
        )
    j = _layout_id_by_name(table)
    if j is not None:
        out.add(j)
    if table.layout == "plain":
        out.update(j for j, c in enumerate(table.columns) if _PLAIN_ID.match(c.name))
    return sorted(out)


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
    if {"id", "start time", "completion time"} <= h1 or _msforms_other_language(rows[0][1]):
        return "msforms"
    first = _key(rows[0][1][0]) if rows[0][1] else ""
    if first in _GOOGLE_TIMESTAMPS:
        return "googleforms"
    return "plain"


def _msforms_other_language(header: list[str | None]) -> bool:
    """Microsoft Forms' fixed columns in any language: ``ID``, start and completion time."""
    h = [_norm(c) for c in header[:3]]
    return (
        len(h) == 3
        and bool(_MSFORMS_ID_RE.match(h[0]))
        and all(_MSFORMS_TIME_RE.search(x) for x in h[1:])
    )


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


def _cells(row: list[str | None], width: int) -> list[str | None]:
    return (row + [None] * (width - len(row)))[:width]


_QID_CLOSED = re.compile(r"QID\d+(?:#\d+)?")
_QID_TEXT = re.compile(r"QID\d+(?:#\d+)?(?:_\d+)*_TEXT")
_QID_FILES = re.compile(r"QID\d+_FILE_(?:ID|NAME|SIZE|TYPE)")
_QID_TIMING = re.compile(r"QID\d+_(?:FIRST_CLICK|LAST_CLICK|PAGE_SUBMIT|CLICK_COUNT)")


def _qualtrics_signal(import_id: str) -> tuple[str | None, str]:
    """Read a Qualtrics ``ImportId``: what it says about its column (signal, reason)."""
    if _QID_TEXT.fullmatch(import_id):
        return "text", f"Qualtrics text entry ({import_id})"
    if _QID_CLOSED.fullmatch(import_id):
        return "closed", f"Qualtrics closed question {import_id}, not text entry"
    if _QID_FILES.fullmatch(import_id):
        return "files", f"Qualtrics file upload ({import_id})"
    if _QID_TIMING.fullmatch(import_id):
        return "embedded", f"Qualtrics timing ({import_id})"
    if import_id.startswith("QID") and re.search(r"Topics|Sentiment|_DO$", import_id):
        return "embedded", f"Qualtrics analysis or display order ({import_id})"
    if not import_id.startswith("QID"):
        return "embedded", f"Qualtrics embedded data or survey flow field ({import_id})"
    return None, ""  # matrix row, slider, form field: the values decide


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


_PLAIN_ID = re.compile(
    r"^(?:(?:respondent|participant|response|record)[ _-]?)?id$|^pid$", re.IGNORECASE
)


def _layout_id_by_name(table: _Table) -> int | None:
    """Return the layout's respondent-id column, told by its header alone."""
    if table.id_hint is not None:
        return table.id_hint
    want = {
        "qualtrics": ("responseid", "response id", "_recordid"),
        "msforms": ("id",),
        "surveymonkey": ("respondent id",),
    }.get(table.layout, ())
    for w in want:
        for j, c in enumerate(table.columns):
            if c.name.casefold() == w:
                return j
    return None


def _unique_digests(digests: bytearray) -> bool:
    import numpy as np

    arr = np.frombuffer(bytes(digests), dtype="S16")
    return len(np.unique(arr)) == len(arr)


def _layout_id_column(table: _Table) -> int | None:
    j = _layout_id_by_name(table)
    if j is not None:
        return j
    if table.layout == "plain":
        # a column named like an id whose values are all present and unique
        for j, c in enumerate(table.columns):
            if _PLAIN_ID.match(c.name):
                st = table.id_stats[j]
                if st.first_empty is None and _unique_digests(st.exact):
                    table.notes.append(
                        {"action": "select_column", "reason": "id column", "detail": c.name}
                    )
                    return j
    return None


def _timestamp_column(table: _Table) -> int | None:
    if table.timestamp_hint is not None:
        return table.timestamp_hint
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


def _date_evidence(v: str | None, st: _DateStats) -> None:
    """Note what a timestamp says about the day/month order of the column."""
    s = (v or "").strip()
    if _ISO_DATE.match(s):
        return
    m = _SLASH_DATE.match(s)
    if m:
        st.first_gt12 |= int(m.group(1)) > 12
        st.second_gt12 |= int(m.group(2)) > 12
        st.any_slash |= "/" in m.group(0)


def _date_order(st: _DateStats) -> str:
    if st.first_gt12 and not st.second_gt12:
        return "dmy"
    if st.second_gt12 and not st.first_gt12:
        return "mdy"
    return "ambiguous"


def _session_date(v: str | None, order: str) -> str | None:
    """Date part (YYYY-MM-DD) of a timestamp; an ambiguous d/m order keeps it as written."""
    s = (v or "").strip()
    m = _ISO_DATE.match(s)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = _SLASH_DATE.match(s)
    if m is None:
        return None
    if order == "ambiguous":
        return m.group(0).strip(" ,T")
    a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
    d, mo = (a, b) if order == "dmy" else (b, a)
    yy = int(y) + (2000 if len(y) == 2 else 0)
    return f"{yy:04d}-{mo:02d}-{d:02d}"


_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_SESSION_VALUE = re.compile(rf"\d|\b(?:{_MONTH}|session|meeting|week|cohort|wave)\b", re.IGNORECASE)


def _session_like(st: _SessionStats) -> bool:
    """Values that name sessions: mostly holding a number, a date or a month name."""
    if not st.n or looks_like_free_text(st.sample):
        return False
    return st.hits / st.n >= 0.8


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


@dataclass
class _Roles:
    """The columns chosen for each role, and why every column was taken or left."""

    id_j: int | None = None
    group_j: int | None = None
    session_j: int | None = None
    timestamp_j: int | None = None
    text_js: list[int] = field(default_factory=list)
    text_named: bool = False
    short_only: bool = False  # short answers were taken because no sentence answers exist
    reasons: dict[int, str] = field(default_factory=dict)  # taken columns: reason
    remarks: dict[int, str] = field(default_factory=dict)  # extra words for the audit

    @property
    def used(self) -> set[int]:
        return {j for j in (self.id_j, self.group_j, self.session_j) if j is not None}


@dataclass
class _Plan:
    """Every whole-column decision of an export; each row's values follow from it alone.

    ``numbers`` (the ``respondent-N`` of each data row, when ids are pseudonymised) and
    ``occurrences`` (how many times the row's id was seen so far) are numpy arrays, one
    small integer per row, or None when not needed.
    """

    roles: _Roles
    meta_js: list[int]
    identifying: set[int]
    pseudonymised: bool = False
    numbers: Any = None
    occurrences: Any = None
    date_order: str | None = None
    status_j: int | None = None
    finished_j: int | None = None
    progress_j: int | None = None


def _plan(
    table: _Table,
    *,
    text_columns: list[str] | None,
    group_column: str | None,
    id_column: str | None,
    session_column: str | None,
) -> _Plan:
    """Take every whole-column decision (types, roles, ids) from the statistics of the scan."""
    if not table.n:
        raise InputError(
            f"no responses: the file has {_plural(table.header_rows, 'header row')} "
            "but no data rows",
            path=table.path,
        )
    n = table.n
    profiles = [
        _profile_of(table.samples[j], table.totals[j], n) for j in range(len(table.columns))
    ]
    roles = _Roles()
    plan = _Plan(roles, [], set())
    _respondent_ids(table, id_column, plan)
    _choose_group(table, profiles, group_column, roles)
    _choose_session(table, session_column, plan)
    _choose_text(table, profiles, text_columns, roles)
    _response_flags(table, plan)
    plan.meta_js = [
        j for j in range(len(table.columns)) if j not in roles.used | set(roles.text_js)
    ]
    plan.identifying = _identifying_columns(table, profiles, plan.meta_js)
    _audit_columns(table, profiles, roles, plan.identifying)
    _occurrences(plan, table.notes)
    size = n * len(roles.text_js) * (len(_CORE) + len(plan.meta_js))
    if size > MAX_RESPONSE_CELLS:
        raise InputError(
            f"the table of responses would hold {size:,} cells ({n:,} rows x "
            f"{len(roles.text_js):,} text columns x {len(_CORE) + len(plan.meta_js):,} columns), "
            f"more than {MAX_RESPONSE_CELLS:,} (thematic.ingest.MAX_RESPONSE_CELLS); name fewer "
            "columns with text_columns=[...] or split the export",
            path=table.path,
        )
    return plan


def _first_appearance(digests: bytearray) -> tuple[Any, Any]:
    """Return, per row, the rank of its key by first appearance and its occurrence so far.

    Both 1-based, as ``int32`` numpy arrays: ``respondent-N`` numbers and the ``~2``,
    ``~3``... of repeated ids, computed from 16-byte digests of the keys.
    """
    import numpy as np

    arr = np.frombuffer(bytes(digests), dtype="S16")
    n = len(arr)
    _, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rank = np.empty(len(first), dtype=np.int32)
    rank[np.argsort(first, kind="stable")] = np.arange(1, len(first) + 1, dtype=np.int32)
    order = np.argsort(inverse, kind="stable")
    grouped = inverse[order]
    idx = np.arange(n)
    starts = np.ones(n, dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    group_start = np.maximum.accumulate(np.where(starts, idx, 0))
    occ = np.empty(n, dtype=np.int32)
    occ[order] = (idx - group_start + 1).astype(np.int32)
    return rank[inverse], occ


def _respondent_ids(table: _Table, id_column: str | None, plan: _Plan) -> None:
    """Choose the respondent-id column (pseudonymised when identifying), or row-N."""
    path, cols, notes, roles = table.path, table.columns, table.notes, plan.roles
    id_j = _find_column(table, id_column, "id column") if id_column else _layout_id_column(table)
    if id_j is None:
        notes.append(
            {
                "action": "assign_id",
                "reason": "no respondent id column",
                "detail": "respondent_id = row-N (spreadsheet row)",
            }
        )
        return
    roles.id_j = id_j
    st = table.id_stats[id_j]
    if st.first_empty is not None:
        raise InputError(
            "empty respondent id", path=path, row=st.first_empty, column=cols[id_j].name
        )
    how = "named by the caller" if id_column else f"the {table.layout} respondent id"
    if st.any_email or _IDENTIFYING_NAME_RE.search(cols[id_j].name):
        plan.pseudonymised = True
        plan.numbers, plan.occurrences = _first_appearance(st.folded)
        notes.append(
            {
                "action": "pseudonymise",
                "reason": "identifying respondent id",
                "detail": f"ids in column {cols[id_j].name!r} replaced by respondent-N "
                "(first-appearance order)",
            }
        )
        how += ", pseudonymised as respondent-N"
    else:
        _, plan.occurrences = _first_appearance(st.exact)
    st.exact = st.folded = bytearray()
    roles.reasons[id_j] = f"id: {how}"


def _group_candidate(c: _Column, p: _Profile) -> tuple[bool, str]:
    """Tell whether a column named like a group holds a group, and if not why not."""
    label = f"{c.name} {c.question}"
    strong = bool(_GROUP_QUESTION_RE.search(label)) or (
        len(c.name.split()) <= 3 and bool(_GROUP_NAME_RE.search(c.name))
    )
    if p.kind in {"rating", "numeric"}:
        return False, "a rating or number is never the group"
    if p.kind not in {"choice", "short"} and not (
        p.kind == "text" and (strong or c.signal == "closed")
    ):
        return False, "its answers are not a short categorical answer"
    # options of a closed question may be long ("White caucus (for colleagues who...)")
    words = 20 if c.signal == "closed" or (strong and p.kind == "choice") else 8
    if p.distinct > 20 or p.max_words > words:
        return False, f"{p.distinct} distinct answers of up to {p.max_words} words"
    if p.filled < 0.5:
        return False, f"only {p.filled:.0%} of the rows answered"
    if not strong and _RATING_QUESTION_RE.search(label):
        return False, "the question asks for a rating"
    return True, ""


def _choose_group(
    table: _Table, profiles: list[_Profile], group_column: str | None, roles: _Roles
) -> None:
    """Choose the group: the named column, else a short categorical answer named like a group."""
    cols = table.columns
    if group_column:
        j = _find_column(table, group_column, "group column")
        if j == roles.id_j:
            raise InputError(
                f"column {group_column!r} is already used as the id column",
                path=table.path,
                column=group_column,
            )
        roles.group_j, roles.reasons[j] = j, "group: named by the caller"
        return
    cands = []
    for j, c in enumerate(cols):
        if j in roles.used or c.role == "meta" or c.signal in {"text", "files"}:
            continue
        label = f"{c.name} {c.question}"
        if not _GROUP_NAME_RE.search(label):
            continue
        ok, why_not = _group_candidate(c, profiles[j])
        if not ok:
            roles.remarks[j] = f"named like a group, but {why_not}"
            continue
        strong = bool(_GROUP_QUESTION_RE.search(label))
        caucus = re.search("caucus", label, re.IGNORECASE) is None
        cands.append((caucus, not strong, -profiles[j].filled, j))
    if not cands:
        return
    j = min(cands)[3]
    p = profiles[j]
    roles.group_j = j
    roles.reasons[j] = (
        f"group: short categorical answer ({p.distinct} distinct values, "
        f"{p.filled:.0%} of rows filled)"
    )
    table.notes.append(
        {"action": "select_column", "reason": "group column", "detail": cols[j].name}
    )


def _choose_session(table: _Table, session_column: str | None, plan: _Plan) -> None:
    """Give each row its session: the named column, a session-like one, or the completion date."""
    cols, notes, roles = table.columns, table.notes, plan.roles
    session_j = None
    if session_column:
        session_j = _find_column(table, session_column, "session column")
        if session_j in roles.used:
            raise InputError(
                f"column {session_column!r} is already used as the id or group column",
                path=table.path,
                column=session_column,
            )
        roles.reasons[session_j] = "session: named by the caller"
    else:
        for j, c in enumerate(cols):
            if (
                j not in roles.used
                and c.signal not in {"text", "files"}
                and _SESSION_NAME_RE.search(c.name)
                and not _RATING_QUESTION_RE.search(c.name)
                and _session_like(table.session_stats[j])
            ):
                session_j = j
                roles.reasons[j] = "session: named like a session, values name sessions"
                notes.append(
                    {"action": "select_column", "reason": "session column", "detail": c.name}
                )
                break
    if session_j is not None:
        roles.session_j = session_j
        return
    ts_j = _timestamp_column(table)
    if ts_j is None:
        return
    roles.timestamp_j = ts_j
    plan.date_order = order = _date_order(table.date_stats)
    detail = f"date part of {cols[ts_j].name!r}"
    if order == "ambiguous" and table.date_stats.any_slash:
        detail += " (day/month order ambiguous: kept as written)"
    notes.append(
        {"action": "derive_column", "reason": "session from completion date", "detail": detail}
    )
    roles.remarks[ts_j] = "the session is its date part"
#: Kinds of values never taken as open text, even where the layout marks text entry.
_NEVER_TEXT = {
    "empty",
    "html",
    "links",
    "nonanswer",
    "numeric",
    "rating",
    "date",
    "codes",
    "identifying",
}


def _identifying_header(c: _Column) -> bool:
    """Tell whether a header names a personal identifier ("Email", "Contact info - Phone")."""
    if c.identifying or _TIMESTAMP_NAME_RE.match(c.name):
        return True
    if not _IDENTIFYING_NAME_RE.search(c.name):
        return False
    return len(c.name.split()) <= 4 or bool(re.search(r"contact", c.name, re.IGNORECASE))


def _choose_text(
    table: _Table, profiles: list[_Profile], text_columns: list[str] | None, roles: _Roles
) -> None:
    """Choose open-text columns: named ones, else text entry and sentences, else short answers."""
    cols = table.columns
    if text_columns:
        roles.text_named = True
        for name in text_columns:
            j = _find_column(table, name, "text column")
            if j in roles.used:
                raise InputError(
                    f"column {name!r} is already used as the id, group or session column",
                    path=table.path,
                    column=name,
                )
            if j not in roles.text_js:
                roles.text_js.append(j)
                roles.reasons[j] = "open text: named by the caller"
    else:
        sentences, short = [], []
        for j, c in enumerate(cols):
            if j in roles.used or c.role == "meta" or _identifying_header(c):
                continue
            p = profiles[j]
            if c.signal == "text" and p.kind not in _NEVER_TEXT:
                sentences.append(j)
                roles.reasons[j] = f"open text: {c.why}"
            elif c.signal is None and p.kind == "text":
                sentences.append(j)
                roles.reasons[j] = f"open text: {p.why}"
            elif c.signal is None and p.kind == "short":
                short.append(j)
        if not sentences:
            roles.short_only = True
            for j in short:
                roles.reasons[j] = (
                    f"open text: {profiles[j].why}; taken because no column holds "
                    "sentence-length answers"
                )
        roles.text_js = sentences or short
        if not roles.text_js:
            left = [
                f"{_mask(cols[j].name)[:40]!r} ({_left_reason(cols[j], profiles[j]).split(':')[0]})"
                for j in range(len(cols))
                if j not in roles.used and cols[j].role != "meta"
            ]
            shown = ", ".join(left[:6]) + (", ..." if len(left) > 6 else "")
            raise InputError(
                f"cannot tell which columns hold open-text answers in this {table.layout} export "
                f"(none holds typed answers: {shown or 'only layout fields'}); "
                "name them with text_columns=[...] (CLI: --text-columns)",
                path=table.path,
            )
    table.notes.append(
        {
            "action": "select_column",
            "reason": "text columns",
            "detail": "; ".join(cols[j].name for j in roles.text_js),
        }
    )


def _response_flags(table: _Table, plan: _Plan) -> None:
    """Find the Qualtrics fields that flag a row preview, spam or unfinished."""
    if table.layout != "qualtrics":
        return
    by = {c.name.casefold(): j for j, c in enumerate(table.columns)}
    plan.status_j = by.get("status")
    plan.finished_j = by.get("finished")
    plan.progress_j = by.get("progress")


def _row_flags(plan: _Plan, row: list[str | None]) -> tuple[bool, bool, bool]:
    """Flag a row preview, spam or unfinished (Qualtrics fields; else False)."""
    preview = spam = unfinished = False
    if plan.status_j is not None:
        k = _key(row[plan.status_j])
        preview = k in _QUALTRICS_STATUS_PREVIEW
        spam = k in _QUALTRICS_STATUS_SPAM
    if plan.finished_j is not None:
        unfinished = _truthy(row[plan.finished_j]) is False
    if plan.progress_j is not None:
        with contextlib.suppress(TypeError, ValueError):
            unfinished = unfinished or float(_norm(row[plan.progress_j])) < 100
    return preview, spam, unfinished
_QUALTRICS_IDENTIFYING = {
    "locationlatitude",
    "locationlongitude",
    "ipaddress",
    "recipientemail",
    "recipientfirstname",
    "recipientlastname",
    "externalreference",
    "externaldatareference",
    "emailaddress",
    "name",
}


def _identifying_columns(table: _Table, profiles: list[_Profile], meta_js: list[int]) -> set[int]:
    """Find metadata columns that identify a person: by name, by layout, or holding e-mails."""
    out = set()
    for j in meta_js:
        c = table.columns[j]
        if (
            identifying_column_names([c.name])
            or c.identifying
            or profiles[j].kind == "identifying"
            or (table.layout == "qualtrics" and c.name.casefold() in _QUALTRICS_IDENTIFYING)
        ):
            out.add(j)
    return out


_KIND_LABEL = {
    "empty": "empty",
    "html": "HTML",
    "links": "links or files",
    "nonanswer": "non-answers",
    "numeric": "numeric",
    "rating": "rating scale",
    "date": "date",
    "codes": "codes",
    "multichoice": "choice",
    "choice": "choice",
    "identifying": "identifying",
    "short": "short answers",
    "text": "not named",
}


def _left_reason(c: _Column, p: _Profile) -> str:
    """Say why a column is not open text, group, id or session: ``"label: explanation"``."""
    if c.role == "meta":
        return f"metadata: {c.why or 'layout field'}"
    if c.signal == "embedded":
        if p.kind in {"html", "links", "empty"}:
            return f"{_KIND_LABEL[p.kind]}: {p.why} ({c.why})"
        return f"metadata: {c.why}"
    if c.signal == "files":
        return f"links or files: {c.why}"
    if _identifying_header(c):
        return "identifying: column named like a personal identifier"
    if c.signal == "closed":
        label = (
            _KIND_LABEL[p.kind] if p.kind in {"empty", "html", "rating", "numeric"} else "choice"
        )
        return f"{label}: {p.why} ({c.why})"
    return f"{_KIND_LABEL[p.kind]}: {p.why}"


def _audit_columns(
    table: _Table, profiles: list[_Profile], roles: _Roles, identifying: set[int]
) -> None:
    """Add one audit note per column: why it was taken (id/group/session/text/metadata) or left."""
    for j, c in enumerate(table.columns):
        p = profiles[j]
        if j in roles.reasons:
            action, reason = "take_column", roles.reasons[j]
        elif j in identifying:
            if c.role == "meta" or c.identifying:
                why = c.why
            elif p.kind == "identifying":
                why = p.why
            else:
                why = "named like a personal identifier or a precise timestamp"
            action = "leave_column"
            reason = f"identifying: {why}; kept as metadata, dropped from public outputs"
        else:
            reason = _left_reason(c, p)
            if reason.startswith("not named"):
                reason += "; text_columns names other columns"
            elif reason.startswith("short answers"):
                reason += (
                    "; not taken (text_columns names other columns)"
                    if roles.text_named
                    else "; not taken because other columns hold sentence-length answers"
                )
            action = "take_column" if reason.startswith("metadata") else "leave_column"
        if j in roles.remarks and j not in roles.reasons:
            reason += f" ({roles.remarks[j]})"
        table.notes.append({"action": action, "reason": reason, "detail": _mask(c.name)})


def _mask(text: str) -> str:
    """Mask e-mail addresses in a header, for audit rows and messages."""
    return _EMAIL_RE.sub("[EMAIL]", text)


def _occurrences(plan: _Plan, notes: list[dict[str, str]]) -> None:
    """Note how many rows repeat an earlier respondent id."""
    occ = plan.occurrences
    repeated = 0 if occ is None else int((occ > 1).sum())
    if repeated:
        notes.append(
            {
                "action": "flag",
                "reason": "repeated respondent id",
                "detail": f"{repeated} rows repeat an earlier respondent id",
            }
        )
    else:
        plan.occurrences = None


def _blocks(table: _Table, plan: _Plan, step: int | None) -> Iterator[pd.DataFrame]:
    """Read the export's records again and yield its long table in blocks.

    ``step`` data rows (all of them when None) make one block; the cells of a block's
    rows are released (workbooks) or never held beyond it (text exports).
    """
    rows: list[list[str | None]] = []
    nums: list[int] = []
    width, start, skipped = table.width, table.data_start, table.skipped
    lo = 0
    limit = step or table.n
    for num, r in table.source:
        if num < start or num in skipped:
            continue
        rows.append(_cells(r, width))
        nums.append(num)
        table.source.release(num)
        if len(rows) == limit:
            yield _assemble(table, plan, rows, nums, lo)
            lo += len(rows)
            rows, nums = [], []
            if lo >= table.n:
                break
    if rows:
        yield _assemble(table, plan, rows, nums, lo)


def _assemble(
    table: _Table,
    plan: _Plan,
    rows: list[list[str | None]],
    nums: list[int],
    lo: int,
) -> pd.DataFrame:
    """Build and validate a block of the long table: one row per respondent x open-text column.

    ``rows`` are the cells of consecutive data rows of the export (the first is data
    row ``lo``), ``nums`` their spreadsheet row numbers.
    """
    path, cols, roles = table.path, table.columns, plan.roles
    text_js, meta_js = roles.text_js, plan.meta_js
    meta_names = {
        j: f"meta:{cols[j].name}" if cols[j].name in _CORE else cols[j].name for j in meta_js
    }
    used_slugs: set[str] = set()
    slugs = {j: _slug(cols[j].name, used_slugs) for j in text_js}
    gj, id_j = roles.group_j, roles.id_j
    numbers = None if plan.numbers is None else plan.numbers[lo : lo + len(rows)].tolist()
    occs = None if plan.occurrences is None else plan.occurrences[lo : lo + len(rows)].tolist()
    out: dict[str, list[Any]] = {k: [] for k in _CORE}
    for k in meta_js:
        out[meta_names[k]] = []
    fname = path.name
    for i, (row, num) in enumerate(zip(rows, nums, strict=True)):
        if id_j is None:
            rid = f"row-{num}"
        elif numbers is not None:
            rid = f"respondent-{numbers[i]}"
        else:
            rid = _norm(row[id_j])
        occ = 1 if occs is None else occs[i]
        g = (_norm(row[gj]) or None) if gj is not None else None
        if roles.session_j is not None:
            session = _norm(row[roles.session_j]) or None
        elif roles.timestamp_j is not None:
            session = _session_date(row[roles.timestamp_j], plan.date_order or "ambiguous")
        else:
            session = None
        preview, spam, unfinished = _row_flags(plan, row)
        for j in text_js:
            out["response_id"].append(f"{rid}:{slugs[j]}" + (f"~{occ}" if occ > 1 else ""))
            out["respondent_id"].append(rid)
            out["question"].append(cols[j].question)
            out["question_id"].append(cols[j].name)
            out["group"].append(g)
            out["session"].append(session)
            out["text_raw"].append(row[j])
            out["text"].append(row[j])
            out["flag_preview"].append(preview)
            out["flag_spam"].append(spam)
            out["flag_unfinished"].append(unfinished)
            out["source_file"].append(fname)
            out["source_row"].append(num)
            out["source_format"].append(table.layout)
            for k in meta_js:
                out[meta_names[k]].append(row[k])
    df = pd.DataFrame({k: pd.array(v, dtype=_dtype(k)) for k, v in out.items()})
    return conform(df, "responses", source=str(path.name))


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _dtype(col: str) -> str:
    if col.startswith("flag_"):
        return "bool"
    if col == "source_row":
        return "int64"
    return "str"
