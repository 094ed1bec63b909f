"""From survey export(s) to one tidy, de-identified responses table and its audit.

:func:`prepare_export` runs the stages in order: read the export(s)
(:mod:`thematic.ingest`), clean and flag (:mod:`thematic.clean`: nothing is dropped),
de-identify the text (:mod:`thematic.deidentify`), keep only the columns known to be
safe with pseudonymised ids, and list possible names nobody listed for review. It is what
``thematic clean`` and :meth:`thematic.Project.import_export` both call.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

__all__ = [
    "PreparedExport",
    "PreparedStream",
    "prepare_export",
    "iter_prepared",
    "write_prepared",
    "OUTPUT_FIRST_COLUMNS",
    "SALT_ENV",
    "DEFAULT_CHUNKSIZE",
]

#: Leading columns of a prepared table (flags, exclusion and kept columns follow).
OUTPUT_FIRST_COLUMNS: tuple[str, ...] = (
    "response_id",
    "respondent_id",
    "question",
    "question_id",
    "group",
    "session",
    "text",
)

#: Environment variable holding the secret salt, when no salt is passed.
SALT_ENV = "THEMATIC_SALT"


@dataclass
class PreparedExport:
    """The result of :func:`prepare_export`.

    Attributes
    ----------
    table : pandas.DataFrame
        The public responses table (``responses`` schema; flags and ``exclude`` kept).
    audit : pandas.DataFrame
        Every read decision, change, exclusion, mask and dropped column (no plaintext).
    review : pandas.DataFrame
        Possible names nobody listed (plaintext: keep it with the raw exports).
    info : dict
        What the reader found: ``"format"``, the layouts detected, one per export in
        the order read, comma-separated (from the read audit's ``detect_format`` rows;
        each row of ``table`` had it as ``source_format``, a column the public table
        does not keep).
    notes : list of str
        Things the researcher should know (e.g. a one-off salt was used).
    """

    table: pd.DataFrame
    audit: pd.DataFrame
    review: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return a few lines: respondents, analysable and excluded rows, masks, review."""
        t, a = self.table, self.audit
        n_ok = int((~t["exclude"]).sum()) if "exclude" in t else len(t)
        excluded = Counter(r for reasons in t.loc[t["exclude"], "exclude_reason"].dropna()
                           for r in str(reasons).split("; ")) if "exclude_reason" in t else {}
        masked = Counter(a.loc[a["action"] == "mask", "kind"].dropna().tolist()) \
            if "kind" in a else Counter()
        return _summary(
            n_respondents=t["respondent_id"].nunique(), n_rows=len(t),
            fmt=self.info.get("format", "?"), n_excluded=len(t) - n_ok, excluded=excluded,
            masked=masked, dropped=a.loc[a["action"] == "drop_column", "detail"].dropna().tolist(),
            n_review=len(self.review),
            n_review_distinct=self.review["candidate"].str.casefold().nunique()
            if len(self.review) else 0,
            notes=self.notes)


def _summary(*, n_respondents: int, n_rows: int, fmt: str, n_excluded: int,
             excluded: Any, masked: Any, dropped: Sequence[str], n_review: int,
             n_review_distinct: int | None, notes: Sequence[str]) -> str:
    """Return the lines of a prepared export's summary (one wording for both ways)."""
    n_mask = sum(masked.values())
    lines = [
        f"{n_respondents} respondents, {n_rows} responses ({fmt} export)",
        f"analysable: {n_rows - n_excluded}; excluded: {n_excluded}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(excluded.items()))})"
           if excluded else ""),
        f"masked: {n_mask} identifier{'s' if n_mask != 1 else ''}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(masked.items()))})" if masked else "")
        + f"; dropped columns: {', '.join(dropped) or 'none'}",
        f"review: {n_review} possible unlisted name{'s' if n_review != 1 else ''}"
        + (f" ({n_review_distinct} distinct)" if n_review and n_review_distinct else "")
        + " await review",
    ]
    return "\n".join(lines + [f"note: {n}" for n in notes])


def prepare_export(
    exports: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    format: str = "auto",  # noqa: A002 - the option's public name
    text_columns: Sequence[str] | None = None,
    group_column: str | None = None,
    id_column: str | None = None,
    session_column: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    keep_columns: Sequence[str] = (),
    pseudonyms: bool = False,
    salt: str | bytes | None = None,
    include_unfinished: bool = False,
    chunksize: int | None = None,
    client: Any = None,
    progress: bool = False,
) -> PreparedExport:
    """Read, clean and de-identify survey export(s) into one public table with its audit.

    Parameters
    ----------
    exports : path or sequence of paths
        Qualtrics, Microsoft Forms, Google Forms, SurveyMonkey, CSV or XLSX exports of
        the same survey.
    names, organisations : sequence of str
        The research team's lists of names and organisations to mask.
    format, text_columns, group_column, id_column, session_column, sheet, encoding
        See :func:`thematic.ingest.read_export`.
    keep_columns : sequence of str
        Export columns to keep in the public table (de-identified if text); by default
        only the tidy columns are kept.
    pseudonyms : bool
        Number names and organisations consistently (``[NAME_1]``).
    salt : str or bytes, optional
        Secret of the id pseudonyms and audit digests (default ``$THEMATIC_SALT``, else a
        one-off random salt: the ids then differ from run to run, and ``notes`` says so).
    include_unfinished : bool
        Keep unfinished (Qualtrics) responses in the analysis (still flagged).
    chunksize : int, optional
        Run in blocks of this many responses (:func:`iter_prepared`); the result is
        identical. Implied by ``client``.
    client : dask.distributed.Client, optional
        Run the row-local work of each block on this Dask cluster
        (:func:`thematic.distributed.dask_client`); the result is identical.
    progress : bool, default False
        Show progress bars (tqdm) in block mode.

    Returns
    -------
    PreparedExport
        The public table, its audit (read, clean, mask and column decisions, ids
        pseudonymised), the review list of possible unlisted names, what the reader
        found and notes.

    Examples
    --------
    >>> import thematic
    >>> files = thematic.examples.load("staff-survey-export")
    >>> names = thematic.read_term_list(files.names)
    >>> prepared = thematic.prepare_export(files.export, names=names, salt="example")
    >>> print(prepared.summary())
    152 respondents, 456 responses (qualtrics export)
    analysable: 402; excluded: 54 (duplicate 17, empty 25, non_answer 12, preview 3)
    masked: 56 identifiers (EMAIL 14, NAME 42); dropped columns: text_raw, ...
    review: 5 possible unlisted names (1 distinct) await review
    """
    if chunksize is not None or client is not None:
        stream = iter_prepared(
            exports, names=names, organisations=organisations, format=format,
            text_columns=text_columns, group_column=group_column, id_column=id_column,
            session_column=session_column, sheet=sheet, encoding=encoding,
            keep_columns=keep_columns, pseudonyms=pseudonyms, salt=salt,
            include_unfinished=include_unfinished,
            chunksize=chunksize or DEFAULT_CHUNKSIZE, client=client, progress=progress)
        tables, reviews = [], []
        for t, r in stream:
            tables.append(t)
            reviews.append(r)
        from .schemas import conform

        table = conform(pd.concat(tables, ignore_index=True), "responses",
                          source="responses")
        review = pd.concat(reviews, ignore_index=True)
        assert stream.audit is not None
        return PreparedExport(table, stream.audit, review, stream.info, stream.notes)
    from .clean import FLAG_COLUMNS, clean_responses
    from .deidentify import deidentify_responses, name_candidates, safe_table
    from .ingest import read_exports
    from .schemas import conform

    paths = [Path(exports)] if isinstance(exports, (str, os.PathLike)) else [
        Path(p) for p in exports]
    if not paths:
        raise InputError("no export given")
    df, a_read = read_exports(paths, text_columns=list(text_columns) if text_columns else None,
                              format=format, group_column=group_column, id_column=id_column,
                              session_column=session_column, sheet=sheet, encoding=encoding)
    info = _read_info(a_read)
    notes: list[str] = []
    cleaned, a_clean = clean_responses(df, exclude_unfinished=not include_unfinished)
    if salt is None:
        salt = os.environ.get(SALT_ENV) or None
    if salt is None:
        salt = secrets.token_bytes(32)
        notes.append("ids pseudonymised with a one-off random salt; pass a salt (kept outside "
                     "the repository) to keep them stable between runs")
    deid, a_mask = deidentify_responses(cleaned, names, organisations, pseudonyms=pseudonyms,
                                        salt=salt)
    public, audit = safe_table(deid, keep_columns=keep_columns, salt=salt, names=names,
                               organisations=organisations, audits=[a_read, a_clean, a_mask])
    review = name_candidates(public, names, organisations)
    first = [c for c in OUTPUT_FIRST_COLUMNS if c in public.columns]
    order = {c: i for i, c in enumerate((*FLAG_COLUMNS, "flag_preview", "flag_spam",
                                         "flag_unfinished"))}
    flags = sorted((c for c in public.columns if c.startswith("flag_")),
                   key=lambda c: (order.get(c, 99), c))
    tail = [c for c in ("exclude", "exclude_reason") if c in public.columns]
    rest = [c for c in public.columns if c not in {*first, *flags, *tail}]
    public = conform(public[first + flags + tail + rest], "responses", source="responses")
    audit = conform(audit, "audit", source="audit")
    if int((~public["exclude"]).sum()) == 0:
        notes.append("no analysable responses (all empty, non-answers or excluded)")
    return PreparedExport(public, audit, review, info, notes)


# --------------------------------------------------------------------------- streaming

#: Responses per block when a pipeline runs in blocks (streaming or on Dask).
DEFAULT_CHUNKSIZE = 50_000


@dataclass
class _Config:
    """Everything a block needs to be prepared, in any process."""

    names: tuple[str, ...]
    organisations: tuple[str, ...]
    salt: bytes
    non_answers: Any = None


@dataclass
class _Pass1:
    """Row-local results of one block: cleaned text, duplicate keys, identifiers found."""

    frame: pd.DataFrame
    part: Any  # thematic.clean._CleanPart
    hits: list[Any]  # identifiers found in each cleaned text (None when missing)
    mask_rows: list[dict[str, Any]]  # audit rows of the text masks
    row_offset: int = 0


def _pass1(frame: pd.DataFrame, row_offset: int, cfg: _Config) -> _Pass1:
    """Clean a block, compute its duplicate keys and find its identifiers (row-local)."""
    from .clean import _clean_part, _non_answer_keys
    from .deidentify import _cached_deidentifier, _digest

    part = _clean_part(frame, _non_answer_keys(cfg.non_answers), row_offset=row_offset,
                       digest=True)
    det = _cached_deidentifier(cfg.names, cfg.organisations, True)
    hits: list[Any] = []
    rows: list[dict[str, Any]] = []
    for rid, v in zip(part.ids, part.cleaned, strict=True):
        if v is None:
            hits.append(None)
            continue
        hs = det.find(v)
        hits.append(hs)
        for h in hs:
            d = _digest(cfg.salt, h.key)
            rows.append({
                "response_id": rid, "stage": "deidentify", "action": "mask", "reason": h.kind,
                "detail": f"text[{h.start}:{h.end}] hmac-sha256 {d}"
                + (" (check digit not valid)" if h.note == "unchecked" else ""),
                "column": "text", "kind": h.kind, "start": h.start, "end": h.end, "digest": d,
            })
    return _Pass1(frame, part, hits, rows, row_offset)


@dataclass
class _Global:
    """The steps that need the whole table, done once (see :func:`iter_prepared`)."""

    duplicate: list[bool]
    resubmission: list[bool]
    detail: dict[int, str]
    numbering: Any
    question_masks: dict[str, dict[str, str]]
    question_rows: list[dict[str, Any]]
    new_ids: list[str]
    persons: dict[Any, str | None]
    n_respondents: int


def _number_hits(numbering: Any, hits: list[Any]) -> None:
    """Give numbers to the names and organisations of a block's text, in row order."""
    if numbering is None:
        return
    for hs in hits:
        for h in hs or ():
            if h.kind in ("NAME", "ORGANISATION"):
                numbering.number(h.key, h.kind)


def _global_step(index: Any, cfg: _Config, numbering: Any,
                 question_values: dict[str, dict[str, None]]) -> _Global:
    """Duplicate and resubmission flags, question masks and id pseudonyms, once.

    ``numbering`` already holds the numbers of the names in the text (given block by
    block, in row order); the question columns are numbered after them, as
    :func:`thematic.deidentify.deidentify_responses` does.
    """
    import hashlib
    import hmac

    from .deidentify import _apply, _cached_deidentifier, _digest

    duplicate, resubmission, detail = index.flags()
    det = _cached_deidentifier(cfg.names, cfg.organisations, True)
    masks: dict[str, dict[str, str]] = {}
    rows: list[dict[str, Any]] = []
    for col in ("question", "question_id"):
        done: dict[str, str] = {}
        for v in question_values.get(col, {}):
            hits = det.find(v)
            done[v] = _apply(v, hits, numbering)
            for h in hits:
                d = _digest(cfg.salt, h.key)
                rows.append({
                    "response_id": None, "stage": "deidentify", "action": "mask",
                    "reason": h.kind,
                    "detail": f"{col}[{h.start}:{h.end}] hmac-sha256 {d}"
                    + (" (check digit not valid)" if h.note == "unchecked" else ""),
                    "column": col, "kind": h.kind, "start": h.start, "end": h.end, "digest": d,
                })
        masks[col] = done
    # id pseudonyms, as thematic.deidentify.pseudonymise_ids numbers them
    key = cfg.salt
    people: dict[Any, str | None] = {}
    slugs: dict[str, str] = {}
    new_ids: list[str] = []
    for r, x in zip(index.respondents, index.ids, strict=True):
        p = people.get(r, "")
        if p == "":
            p = people[r] = None if r is None else "P-" + hmac.new(
                key, f"respondent:{r}".encode(), hashlib.sha256).hexdigest()[:12]
        if p is not None and isinstance(r, str) and x.startswith(r + ":"):
            slug, sep, rest = x[len(r) + 1:].partition("~")
            q = slugs.setdefault(slug, f"q{len(slugs) + 1}")
            new_ids.append(f"{p}:{q}{sep}{rest}")
        else:
            new_ids.append(
                "X-" + hmac.new(key, f"response:{x}".encode(), hashlib.sha256).hexdigest()[:16])
    if len(set(new_ids)) != len(new_ids):
        new_ids = ["X-" + hmac.new(key, f"response:{x}".encode(), hashlib.sha256).hexdigest()[:16]
                   for x in index.ids]
    n_resp = len({p for p in people.values() if p is not None})
    return _Global(duplicate, resubmission, detail, numbering, masks, rows, new_ids, people,
                   n_resp)


@dataclass
class _Shape:
    """Column decisions of the public table, taken on the first block."""

    columns: list[str]  # columns of the de-identified table (all exports)
    kept: list[str]
    masked_text_columns: list[str]  # kept extra text columns to de-identify
    order: list[str]  # columns of the public table


def _pass2(p1: _Pass1, duplicate: list[bool], resubmission: list[bool],
           detail: dict[int, str], numbering: Any, question_masks: dict[str, dict[str, str]],
           new_ids: list[str], cfg: _Config, include_unfinished: bool
           ) -> tuple[pd.DataFrame, list[dict[str, Any]], pd.DataFrame]:
    """Flag, mask and review one block (row-local given the global step).

    Returns the de-identified block (all its columns), its ``exclude`` audit rows and
    its review list (with the pseudonymised ids ``new_ids``).
    """
    from .clean import _finish_clean
    from .deidentify import _apply, name_candidates
    from .schemas import conform

    frame = p1.frame
    cleaned, excluded = _finish_clean(frame, p1.part, duplicate, resubmission, detail,
                                      exclude_unfinished=not include_unfinished,
                                      row_offset=p1.row_offset)
    out = cleaned.copy()
    out["text"] = pd.array([None if hs is None else _apply(v, hs, numbering)
                            for v, hs in zip(p1.part.cleaned, p1.hits, strict=True)],
                           dtype="str")
    for col, done in question_masks.items():
        if col in out.columns:
            out[col] = pd.array([None if not isinstance(v, str) else done[v]
                                 for v in out[col].tolist()], dtype="str")
    out = conform(out, "responses")
    review = name_candidates(
        pd.DataFrame({"response_id": pd.array(new_ids, dtype="str"), "text": out["text"]}),
        cfg.names, cfg.organisations)
    return out, excluded, review


def _public_block(deid: pd.DataFrame, shape: _Shape, g: _Global, lo: int, cfg: _Config,
                  keep_done: dict[str, dict[str, str]], keep_rows: list[dict[str, Any]]
                  ) -> pd.DataFrame:
    """Return the public block: safe columns, kept columns masked, pseudonymised ids."""
    from .deidentify import _cached_deidentifier, mask_kept_column
    from .schemas import conform

    det = _cached_deidentifier(cfg.names, cfg.organisations, True)
    out = deid[shape.kept].copy()
    for c in shape.masked_text_columns:
        out[c] = mask_kept_column(det, cfg.salt, c, out[c].tolist(),
                                  keep_done.setdefault(c, {}), keep_rows)
    n = len(out)
    out["response_id"] = pd.array(g.new_ids[lo:lo + n], dtype="str")
    if "respondent_id" in out.columns:
        out["respondent_id"] = pd.array(
            [g.persons.get(r if isinstance(r, str) else None)
             for r in out["respondent_id"].tolist()], dtype="str")
    out = conform(out, "responses")
    return conform(out[shape.order], "responses", source="responses")


def _shape_of(deid: pd.DataFrame, keep_columns: Sequence[str]) -> _Shape:
    from .clean import FLAG_COLUMNS
    from .deidentify import SAFE_COLUMNS

    keep = list(dict.fromkeys(keep_columns))
    for c in keep:
        if c == "text_raw":
            raise InputError(
                "text_raw is the raw export and is never kept in a public table", column=c)
        if c not in deid.columns:
            raise InputError(f"cannot keep column {c!r}: no such column", column=c)
    kept = [c for c in deid.columns if c in SAFE_COLUMNS or c in keep
            or (c.startswith("flag_") and deid[c].dtype == bool)]
    masked = [c for c in keep if not (c in SAFE_COLUMNS or deid[c].dtype == bool
                                      or not pd.api.types.is_string_dtype(deid[c]))]
    first = [c for c in OUTPUT_FIRST_COLUMNS if c in kept]
    order_of = {c: i for i, c in enumerate((*FLAG_COLUMNS, "flag_preview", "flag_spam",
                                            "flag_unfinished"))}
    flags = sorted((c for c in kept if c.startswith("flag_")),
                   key=lambda c: (order_of.get(c, 99), c))
    tail = [c for c in ("exclude", "exclude_reason") if c in kept]
    rest = [c for c in kept if c not in {*first, *flags, *tail}]
    return _Shape(list(deid.columns), kept, masked, first + flags + tail + rest)


@dataclass
class _FirstPass:
    """What the first pass keeps of the blocks, in row order, for the global step and after."""

    index: Any  # thematic.clean.DuplicateIndex
    numbering: Any  # thematic.deidentify.PseudonymNumbering, or None
    bar: Any
    qvalues: dict[str, dict[str, None]] = field(
        default_factory=lambda: {"question": {}, "question_id": {}})
    normalise: list[pd.DataFrame] = field(default_factory=list)
    masks: list[pd.DataFrame] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)  # spill files, or Dask futures


@dataclass
class _SecondPass:
    """What the second pass accumulates over the blocks, for the audit at the end."""

    union: list[str]
    shape: _Shape | None = None
    empty_deid: pd.DataFrame | None = None
    keep_done: dict[str, dict[str, str]] = field(default_factory=dict)
    keep_rows: list[dict[str, Any]] = field(default_factory=list)
    excluded_rows: list[pd.DataFrame] = field(default_factory=list)
    lo: int = 0
    n_ok: int = 0


def _salt_bytes(salt: str | bytes | None) -> tuple[bytes, list[str]]:
    """Return the salt as bytes (``$THEMATIC_SALT``, else a one-off one) and any note."""
    if salt is None:
        salt = os.environ.get(SALT_ENV) or None
    notes: list[str] = []
    if salt is None:
        salt = secrets.token_bytes(32)
        notes.append("ids pseudonymised with a one-off random salt; pass a salt (kept "
                     "outside the repository) to keep them stable between runs")
    return (salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)), notes


class PreparedStream:
    """:func:`prepare_export` in blocks: iterate for ``(table, review)`` blocks in order.

    Built by :func:`iter_prepared`. The first pass reads the exports block by block,
    cleans each block, computes its duplicate keys (added to one global
    :class:`thematic.clean.DuplicateIndex`) and finds its identifiers, numbering names
    and organisations as they come (one global pseudonym counter); blocks are spilled
    to a temporary folder (or kept on the Dask workers). The global step then flags
    duplicates and resubmissions over the whole table, masks the questions and makes
    the id pseudonyms. The second pass, during the iteration, writes each block's
    flags, masks, public columns and review list. After the iteration :attr:`audit`,
    :attr:`info` and :attr:`notes` are those of :func:`prepare_export`, and the blocks
    concatenated are its ``table`` and ``review``, byte for byte.
    """

    def __init__(self, exports: Any, kwargs: dict[str, Any], chunksize: int,
                 client: Any = None, progress: bool = False) -> None:
        self.exports = exports
        self.kwargs = kwargs
        self.chunksize = chunksize
        self.client = client
        self.progress = progress
        self.audit: pd.DataFrame | None = None
        self.info: dict[str, Any] = {}
        self.notes: list[str] = []
        self.n_rows = 0
        self.n_respondents = 0
        self.n_review = 0
        self.excluded: Counter[str] = Counter()
        self.n_excluded = 0
        self.masked: Counter[str] = Counter()
        self.dropped: list[str] = []
        self._settle: Callable[[], None] = lambda: None

    def summary(self) -> str:
        """Return the lines of :meth:`PreparedExport.summary` (after the iteration)."""
        return _summary(
            n_respondents=self.n_respondents, n_rows=self.n_rows,
            fmt=self.info.get("format", "?"), n_excluded=self.n_excluded,
            excluded=self.excluded, masked=self.masked, dropped=self.dropped,
            n_review=self.n_review, n_review_distinct=None, notes=self.notes)

    def __iter__(self) -> Any:
        with _settled_gc() as settle:
            self._settle = settle
            yield from self._blocks()

    def _blocks(self) -> Any:
        """Yield the ``(table, review)`` blocks: first pass, global step, second pass."""
        import tempfile

        from .clean import DuplicateIndex
        from .deidentify import PseudonymNumbering

        cfg, chunks, notes = self._open_chunks()
        fp = _FirstPass(DuplicateIndex(),
                        PseudonymNumbering() if self.kwargs["pseudonyms"] else None,
                        _bar(self.progress, "clean + find identifiers"))
        with tempfile.TemporaryDirectory(prefix="thematic-spill-") as spill:
            if self.client is None:
                self._first_pass_local(chunks, cfg, fp, spill)
            else:
                self._first_pass_dask(chunks, cfg, fp)
            if fp.bar is not None:
                fp.bar.close()
            a_read = chunks.audit
            self.info = _read_info(a_read)
            g = _global_step(fp.index, cfg, fp.numbering, fp.qvalues)
            # only the old ids are needed from now on (to rewrite the audit)
            index = fp.index
            index.respondents, index.questions, index.dkeys = [], [], []
            index.nwords, index.subs = [], []
            self._settle()
            union = list(chunks.columns)
            yield from self._second_pass(fp.held, g, cfg, union, index, fp.normalise,
                                         fp.masks, a_read, notes)

    def _open_chunks(self) -> tuple[_Config, Any, list[str]]:
        """Return the blocks' settings, the reader of the exports in blocks and any note."""
        from .ingest import ExportChunks

        kw = self.kwargs
        paths = [Path(self.exports)] if isinstance(self.exports, (str, os.PathLike)) else [
            Path(p) for p in self.exports]
        if not paths:
            raise InputError("no export given")
        salt_b, notes = _salt_bytes(kw["salt"])
        cfg = _Config(tuple(kw["names"]), tuple(kw["organisations"]), salt_b)
        text_columns = kw["text_columns"]
        chunks = ExportChunks(
            paths, self.chunksize,
            text_columns=list(text_columns) if text_columns else None, format=kw["format"],
            group_column=kw["group_column"], id_column=kw["id_column"],
            session_column=kw["session_column"], sheet=kw["sheet"], encoding=kw["encoding"])
        return cfg, chunks, notes

    def _take(self, fp: _FirstPass, p1: Any, frame_cols: dict[str, list[str]]) -> None:
        """Add a block's duplicate keys, names, question values and audit rows, in row order."""
        from .deidentify import _mask_audit
        from .schemas import audit_frame

        fp.index.add(p1.part)
        _number_hits(fp.numbering, p1.hits)
        for col in fp.qvalues:
            if col in frame_cols:
                fp.qvalues[col].update(dict.fromkeys(
                    v for v in frame_cols[col] if isinstance(v, str)))
        fp.normalise.append(audit_frame(p1.part.audit))
        fp.masks.append(_mask_audit(p1.mask_rows))
        if fp.bar is not None:
            fp.bar.update(len(p1.part.ids))
        self._settle()

    def _first_pass_local(self, chunks: Any, cfg: _Config, fp: _FirstPass, spill: str) -> None:
        """Run the first pass of every block here, spilling each block to ``spill``."""
        import pickle

        offset = 0
        for k, block in enumerate(chunks):
            p1 = _pass1(block, offset, cfg)
            offset += len(block)
            self._take(fp, p1, {c: block[c].tolist() for c in fp.qvalues if c in block.columns})
            path = Path(spill) / f"block-{k}.pickle"
            with path.open("wb") as fh:
                pickle.dump(_spilled(p1), fh, protocol=pickle.HIGHEST_PROTOCOL)
            fp.held.append(path)
            del p1, block

    def _first_pass_dask(self, chunks: Any, cfg: _Config, fp: _FirstPass) -> None:
        """Run the first pass of every block on the Dask workers (results kept there)."""
        from .distributed import _pass1_keys

        client = self.client
        offset = 0
        # unique keys (hash=False): a hashed key shared with an earlier run could be
        # released by that run's clean-up while this one needs it
        cfg_f = client.scatter(cfg, broadcast=True, hash=False)
        pending = []
        for block in chunks:
            # the block goes to a worker as data, not inside the task graph
            # (no "large graph" warning; the scheduler holds only a key). Its
            # future is kept until the task is done: scattered data released
            # early cannot be recomputed and cancels the task.
            [block_f] = client.scatter([block], hash=False)
            fut = client.submit(_pass1, block_f, offset, cfg_f, pure=False)
            offset += len(block)
            fp.held.append(fut)
            pending.append((client.submit(_pass1_keys, fut, pure=False), block_f))
            del block, block_f
        for fut, block_f in pending:  # in row order
            keys = fut.result()
            self._take(fp, keys, keys.frame_cols)
            fut.release()
            block_f.release()
        del pending

    def _second_pass(self, held: list[Any], g: _Global, cfg: _Config, union: list[str],
                     index: Any, normalise: list[pd.DataFrame], masks: list[pd.DataFrame],
                     a_read: pd.DataFrame, notes: list[str]) -> Any:
        """Yield each block's public table and review list, then assemble the audit."""
        from .deidentify import _mask_audit

        sp = _SecondPass(union)
        bar = _bar(self.progress, "mask + write")
        if self.client is not None:
            results = self._second_pass_dask(held, g, cfg)
        else:
            results = self._second_pass_local(held, g, cfg)
        for deid, excluded, review in results:
            public = self._public_of(sp, g, cfg, deid, excluded, review)
            if bar is not None:
                bar.update(len(public))
            self._settle()
            yield public, review
        if bar is not None:
            bar.close()
        # the audit, as prepare_export assembles it
        a_clean = pd.concat([*normalise, *sp.excluded_rows], ignore_index=True)
        a_mask = pd.concat([*masks, _mask_audit(g.question_rows)], ignore_index=True)
        earlier = _remapped_audits((a_read, a_clean, a_mask), index.ids, g.new_ids)
        self._finish(sp, g, cfg, earlier, notes)

    def _second_pass_dask(self, held: list[Any], g: _Global, cfg: _Config) -> Any:
        """Submit every block's second pass to the worker holding it; return its results."""
        from .distributed import _pass2_remote

        client = self.client
        include_unfinished = self.kwargs["include_unfinished"]
        g_f = client.scatter((g.numbering, g.question_masks), broadcast=True, hash=False)
        futures = []
        scattered = []  # kept until the results are in (see the first pass)
        lo = 0
        for fut in held:
            n = client.submit(_len_of, fut, pure=False).result()
            sl = slice(lo, lo + n)
            detail = {i: g.detail[i] for i in range(lo, lo + n) if i in g.detail}
            # the block's global results go as data too, to the worker holding it
            [args_f] = client.scatter(
                [(g.duplicate[sl], g.resubmission[sl], detail, g.new_ids[sl])],
                hash=False, workers=list(client.who_has([fut]).get(fut.key, ())) or None)
            futures.append(client.submit(
                _pass2_remote, fut, args_f, g_f, cfg, include_unfinished, pure=False))
            scattered.append(args_f)
            lo += n

        def remote() -> Any:
            for f, a in zip(futures, scattered, strict=True):
                yield f.result()
                f.release()
                a.release()
        return remote()

    def _second_pass_local(self, held: list[Any], g: _Global, cfg: _Config) -> Any:
        """Yield every spilled block's second pass, done here (its spill file removed)."""
        import pickle

        include_unfinished = self.kwargs["include_unfinished"]
        for path in held:
            with Path(path).open("rb") as fh:
                p1 = _unspilled(pickle.load(fh))
            Path(path).unlink()
            lo, n = p1.row_offset, len(p1.frame)
            sl = slice(lo, lo + n)
            yield _pass2(p1, g.duplicate[sl], g.resubmission[sl], g.detail,
                         g.numbering, g.question_masks, g.new_ids[sl], cfg,
                         include_unfinished)

    def _public_of(self, sp: _SecondPass, g: _Global, cfg: _Config, deid: pd.DataFrame,
                   excluded: Any, review: pd.DataFrame) -> pd.DataFrame:
        """Return a block's public table, counting its rows, exclusions and review entries."""
        from .schemas import audit_frame

        if sp.shape is None:
            cols = sp.union + [c for c in deid.columns if c not in sp.union]
            deid0 = _with_columns(deid.iloc[:0], cols)
            sp.shape = _shape_of(deid0, self.kwargs["keep_columns"])
            sp.empty_deid = deid0
        deid = _with_columns(deid, sp.shape.columns)
        public = _public_block(deid, sp.shape, g, sp.lo, cfg, sp.keep_done, sp.keep_rows)
        sp.lo += len(public)
        sp.excluded_rows.append(audit_frame(excluded))
        self.n_rows += len(public)
        ex = public["exclude"].to_numpy(dtype=bool)
        self.n_excluded += int(ex.sum())
        sp.n_ok += int((~ex).sum())
        self.excluded.update(r for reasons in public.loc[ex, "exclude_reason"].dropna()
                             for r in str(reasons).split("; "))
        self.n_review += len(review)
        return public

    def _finish(self, sp: _SecondPass, g: _Global, cfg: _Config,
                earlier: list[pd.DataFrame], notes: list[str]) -> None:
        """Set the stream's audit, counts and notes, as :func:`prepare_export` has them."""
        from .deidentify import _mask_audit, safe_table
        from .schemas import conform

        kw = self.kwargs
        assert sp.empty_deid is not None
        _, audit = safe_table(sp.empty_deid, keep_columns=kw["keep_columns"], salt=cfg.salt,
                              names=cfg.names, organisations=cfg.organisations,
                              pseudonymise=False, audits=earlier)
        own = [*sp.keep_rows, {
            "response_id": None, "stage": "deidentify", "action": "pseudonymise",
            "reason": "ids that link back to the raw export",
            "detail": f"respondent_id ({g.n_respondents} respondents) and response_id "
            "replaced by HMAC-SHA256 pseudonyms with the user's salt"}]
        audit = pd.concat([audit, _mask_audit(own)], ignore_index=True)
        audit = conform(conform(audit, "audit"), "audit", source="audit")
        self.audit = audit
        self.n_respondents = g.n_respondents
        self.masked = Counter(audit.loc[audit["action"] == "mask", "kind"].dropna().tolist())
        self.dropped = audit.loc[audit["action"] == "drop_column", "detail"].dropna().tolist()
        if sp.n_ok == 0:
            notes.append("no analysable responses (all empty, non-answers or excluded)")
        self.notes = notes


def _audit_ids(audits: Sequence[pd.DataFrame]) -> set[str]:
    """Return every string the audits' ids could be looked up as by ``_remap_detail``."""
    # every response id and every word-boundary suffix of a detail, not one entry per
    # response
    needed: set[str] = set()
    for a in audits:
        needed.update(r for r in a["response_id"].tolist() if isinstance(r, str))
        for d in a["detail"].tolist():
            if isinstance(d, str) and d:
                needed.add(d)
                i = d.find(" ")
                while i >= 0:
                    needed.add(d[i + 1:])
                    i = d.find(" ", i + 1)
    return needed


def _remapped_audits(audits: Sequence[pd.DataFrame], old_ids: list[str],
                     new_ids: list[str]) -> list[pd.DataFrame]:
    """Return the audits with the old response ids (also in details) pseudonymised."""
    from .deidentify import _remap_detail

    needed = _audit_ids(audits)
    mapping = {old: new for old, new in zip(old_ids, new_ids, strict=True) if old in needed}
    del needed
    earlier = []
    for a in audits:
        if not len(a):
            earlier.append(a)
            continue
        a = a.copy()
        a["response_id"] = pd.array(
            [mapping.get(r, r) if isinstance(r, str) else r for r in a["response_id"]],
            dtype="str")
        a["detail"] = pd.array([_remap_detail(d, mapping) for d in a["detail"]],
                               dtype="str")
        earlier.append(a)
    return earlier


def _spilled(p1: _Pass1) -> _Pass1:
    """Return what the second pass needs of a first-pass result, compact to pickle.

    The keys, audit rows and question values went to the global step already; the
    identifiers found become plain tuples (:func:`_unspilled` makes them hits again).
    """
    part = p1.part._replace(audit=[], respondents=[], questions=[], dkeys=[], nwords=[],
                            subs=[])
    hits = [None if hs is None else [(h.start, h.end, h.kind, h.key, h.note) for h in hs]
            for hs in p1.hits]
    return _Pass1(p1.frame, part, hits, [], p1.row_offset)


def _unspilled(p1: _Pass1) -> _Pass1:
    """Undo :func:`_spilled`'s packing of the identifiers found."""
    from .deidentify import _Hit

    p1.hits = [None if hs is None else [_Hit(*h) for h in hs] if hs else [] for hs in p1.hits]
    return p1


@contextlib.contextmanager
def _settled_gc() -> Iterator[Callable[[], None]]:
    """Keep the cyclic garbage collector off the long-lived state of a stream.

    The global index and its results hold millions of small objects that live until
    the end; every full collection of Python's garbage collector walked all of them
    (21 s of the 98 s of a million responses). The function yielded, called after each
    block, collects the young generations and freezes what survives
    (:func:`gc.freeze`): later collections skip it, reference counting still frees
    it. The first generation is also collected less often (every 50,000 allocations
    instead of 700: a block allocates millions of objects, few in cycles). Thresholds
    are restored and everything unfrozen at the end. Nothing is done if the collector
    is off or the caller froze objects. (0.7 s of collection left at 300,000.)
    """
    import gc

    if not gc.isenabled() or gc.get_freeze_count():
        yield lambda: None
        return

    def settle() -> None:
        gc.collect(1)
        gc.freeze()

    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield settle
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _len_of(p1: _Pass1) -> int:
    return len(p1.frame)


def _read_info(read_audit: pd.DataFrame) -> dict[str, Any]:
    """Return what the reader found, from its audit: the layouts detected, in order."""
    rows = read_audit[(read_audit["stage"] == "ingest")
                      & (read_audit["action"] == "detect_format")]
    return {"format": ",".join(str(d).split(" ")[0] for d in rows["detail"].tolist())}


def _with_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with ``columns`` in that order (missing ones added, empty)."""
    if list(df.columns) == columns:
        return df
    missing = {c: pd.array([None] * len(df), dtype="str") for c in columns
               if c not in df.columns}
    out = df.assign(**missing) if missing else df
    return out[columns]


def _bar(show: bool, desc: str) -> Any:
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=desc, unit="resp", unit_scale=True, leave=False)


def iter_prepared(
    exports: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    format: str = "auto",  # noqa: A002 - the option's public name
    text_columns: Sequence[str] | None = None,
    group_column: str | None = None,
    id_column: str | None = None,
    session_column: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    keep_columns: Sequence[str] = (),
    pseudonyms: bool = False,
    salt: str | bytes | None = None,
    include_unfinished: bool = False,
    chunksize: int = DEFAULT_CHUNKSIZE,
    client: Any = None,
    progress: bool = False,
) -> PreparedStream:
    """Prepare export(s) in blocks of ``chunksize`` responses, with bounded memory.

    The parameters are those of :func:`prepare_export`. Iterating the returned
    :class:`PreparedStream` yields ``(table, review)`` blocks in respondent order;
    concatenated they equal :func:`prepare_export`'s ``table`` and ``review`` byte for
    byte, and after the iteration the stream's ``audit``, ``info``, ``notes`` and
    ``summary()`` are its own. The global steps -- duplicate and resubmission detection
    (:class:`thematic.clean.DuplicateIndex`), the pseudonym numbering of names and
    organisations, the numbering of question slugs in id pseudonyms -- run once over
    the whole table between the two passes; nothing global is decided per block.

    Parameters
    ----------
    chunksize : int
        Most responses per block (whole respondents).
    client : dask.distributed.Client, optional
        Clean, find identifiers, mask and review each block on this Dask cluster; the
        global steps run here. Results are identical to a single-process run.
    progress : bool, default False
        Show tqdm progress bars.

    Returns
    -------
    PreparedStream
    """
    kwargs = dict(names=names, organisations=organisations, format=format,
                  text_columns=text_columns, group_column=group_column, id_column=id_column,
                  session_column=session_column, sheet=sheet, encoding=encoding,
                  keep_columns=tuple(keep_columns), pseudonyms=pseudonyms, salt=salt,
                  include_unfinished=include_unfinished)
    if chunksize < 1:
        raise InputError(f"chunksize must be at least 1, not {chunksize}")
    return PreparedStream(exports, kwargs, int(chunksize), client=client, progress=progress)


def write_prepared(
    stream: PreparedStream,
    output: str | os.PathLike[str],
    *,
    audit: str | os.PathLike[str] | None = None,
    parquet: str | os.PathLike[str] | None = None,
    review: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write a :class:`PreparedStream` block by block: CSV, Parquet, audit, review.

    Every file is written to a temporary file beside it and renamed into place only
    when the whole stream succeeded (:func:`thematic.io.atomic_open`): an error leaves
    no partial file and the old files untouched. The CSV is byte-identical to
    :func:`thematic.io.write_csv` of :func:`prepare_export`'s table; the Parquet file
    (pyarrow) holds the same table, one row group per block.

    Parameters
    ----------
    stream : PreparedStream
        From :func:`iter_prepared` (not yet iterated).
    output : path
        The table's CSV.
    audit, parquet, review : path, optional
        The audit CSV, the table as Parquet and the review list CSV (plaintext: keep it
        with the raw exports; it gets an empty ``confirm`` column).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import contextlib

    from .io import atomic_open, csv_text

    files = [Path(output)]
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(atomic_open(output, "w"))
        pq_writer = None
        pq_fh = None
        if parquet is not None:
            pq_fh = stack.enter_context(atomic_open(parquet, "wb"))
            files.append(Path(parquet))
        rv_fh = None
        if review is not None:
            rv_fh = stack.enter_context(atomic_open(review, "w"))
        first = True
        schema = None
        for table, rev in stream:
            text = csv_text(table)
            if not first:
                text = text[len(csv_text(table.iloc[:0])):]
            fh.write(text)
            if pq_fh is not None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                if schema is None:
                    schema = pa.Schema.from_pandas(table, preserve_index=False)
                    pq_writer = pq.ParquetWriter(pq_fh, schema)
                assert pq_writer is not None
                pq_writer.write_table(pa.Table.from_pandas(table, schema=schema,
                                                           preserve_index=False))
            if rv_fh is not None:
                r = rev.assign(confirm=pd.array([None] * len(rev), dtype="str"))
                rtext = csv_text(r)
                if not first:
                    rtext = rtext[len(csv_text(r.iloc[:0])):]
                rv_fh.write(rtext)
            first = False
        if first:
            raise InputError("no responses to write")
        if pq_writer is not None:
            pq_writer.close()
        if audit is not None:
            assert stream.audit is not None
            afh = stack.enter_context(atomic_open(audit, "w"))
            afh.write(csv_text(stream.audit))
            files.append(Path(audit))
    if review is not None:
        files.append(Path(review))
    return files
