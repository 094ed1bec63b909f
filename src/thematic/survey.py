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


# --------------------------------------------------------------------------- compact global state


class _Strings:
    """A list of strings held as one UTF-8 buffer and an array of end offsets.

    About ``len(s) + 8`` bytes per string instead of a Python object and a pointer
    (some 60-80 bytes): the global state of a stream of millions of responses.
    Supports ``len``, iteration, ``s[i]`` and ``s[lo:hi]`` (a list).
    """

    def __init__(self, items: Any = ()) -> None:
        from array import array

        self.blob = bytearray()
        self.ends = array("q")
        self.extend(items)

    def extend(self, items: Any) -> None:
        blob, ends = self.blob, self.ends
        for s in items:
            blob += s.encode("utf-8", "surrogatepass")
            ends.append(len(blob))

    def __len__(self) -> int:
        return len(self.ends)

    def _get(self, i: int) -> str:
        lo = self.ends[i - 1] if i else 0
        return self.blob[lo:self.ends[i]].decode("utf-8", "surrogatepass")

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._get(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        return self._get(i)

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self._get(i)


def _d16(s: str) -> bytes:
    """Return a 16-byte BLAKE2b digest of a string (keys of the compact global index)."""
    import hashlib

    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_NO_DIGEST = bytes(16)


def _person(key: bytes, r: str) -> str:
    """Return the pseudonym of a respondent id (as :func:`thematic.deidentify.pseudonymise_ids`)."""
    import hashlib
    import hmac

    return "P-" + hmac.new(key, f"respondent:{r}".encode(), hashlib.sha256).hexdigest()[:12]


def _x_id(key: bytes, x: str) -> str:
    import hashlib
    import hmac

    return "X-" + hmac.new(key, f"response:{x}".encode(), hashlib.sha256).hexdigest()[:16]


class _CompactIndex:
    """The global duplicate index of a stream, in a few bytes per row.

    It decides exactly what :class:`thematic.clean.DuplicateIndex` decides (tests
    compare them), from the same keys, held compactly: response ids in a
    :class:`_Strings` buffer, respondents, duplicate keys and submissions as 16-byte
    digests, questions as small codes, word counts as integers; the decisions are made
    with numpy sorts instead of dictionaries of Python objects. It also makes the
    pseudonymised response ids as rows are added (``P-...:qN``, in row order, as
    :func:`thematic.deidentify.pseudonymise_ids` numbers question slugs), so neither
    the respondent ids nor a dictionary of people are kept.
    """

    _KINDS = ("", "duplicate of", "superseded by", "same submission as")

    def __init__(self, key: bytes, duplicate_min_words: int = 8) -> None:
        from array import array

        self.key = key
        self.duplicate_min_words = duplicate_min_words
        self.ids = _Strings()
        self.new_ids = _Strings()
        self.resp = bytearray()  # digest of each respondent (zeros: none)
        self.has_resp = array("b")
        self.qcodes = array("i")
        self.qnames: dict[str, int] = {}
        self.dkeys = bytearray()
        self.subst = array("b")
        self.nwords = array("i")
        self.subs = bytearray()
        self.slugs: dict[str, str] = {}
        self._people: dict[str, str] = {}  # pseudonyms of the current block's respondents

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, part: Any) -> None:
        """Append the keys of the next block of rows (a ``thematic.clean._CleanPart``)."""
        self.ids.extend(part.ids)
        people: dict[str, str] = {}
        new_ids = []
        for r, x in zip(part.respondents, part.ids, strict=True):
            if r is None:
                self.resp += _NO_DIGEST
                self.has_resp.append(0)
                new_ids.append(_x_id(self.key, x))
                continue
            self.resp += _d16(r)
            self.has_resp.append(1)
            p = people.get(r)
            if p is None:
                p = people[r] = _person(self.key, r)
            if isinstance(r, str) and x.startswith(r + ":"):
                slug, sep, rest = x[len(r) + 1:].partition("~")
                q = self.slugs.setdefault(slug, f"q{len(self.slugs) + 1}")
                new_ids.append(f"{p}:{q}{sep}{rest}")
            else:
                new_ids.append(_x_id(self.key, x))
        self.new_ids.extend(new_ids)
        for q in part.questions:
            self.qcodes.append(self.qnames.setdefault(q, len(self.qnames)))
        for k in part.dkeys:
            if k == "":
                self.dkeys += _NO_DIGEST
                self.subst.append(0)
            else:
                self.dkeys += k if isinstance(k, bytes) and len(k) == 16 else _d16(repr(k))
                self.subst.append(1)
        self.nwords.extend(part.nwords)
        for s in part.subs:
            self.subs += _d16(repr(s))

    def finish_ids(self) -> int:
        """Check the pseudonymised ids are unique (else all become ``X-``); return respondents."""
        import numpy as np

        new = np.frombuffer(bytes(b"".join(_d16(x) for x in self.new_ids)), dtype="S16")
        if len(np.unique(new)) != len(new):
            self.new_ids = _Strings(_x_id(self.key, x) for x in self.ids)
        resp = np.frombuffer(bytes(self.resp), dtype="S16")
        has = np.frombuffer(self.has_resp, dtype=np.int8).astype(bool)
        return int(len(np.unique(resp[has])))

    @staticmethod
    def _codes(buf: bytearray) -> Any:
        import numpy as np

        _, inv = np.unique(np.frombuffer(bytes(buf), dtype="S16"), return_inverse=True)
        return inv.reshape(-1).astype(np.int64)

    def flags(self) -> tuple[Any, Any, Any, Any]:
        """Decide every row: ``(duplicate, resubmission, ref, kind)`` as numpy arrays.

        ``kind`` (1: duplicate of, 2: superseded by, 3: same submission as; 0: none) and
        ``ref`` (the row named) make the detail :meth:`detail` writes.
        """
        import numpy as np

        n = len(self.ids)
        idx = np.arange(n, dtype=np.int64)
        subst = np.frombuffer(self.subst, dtype=np.int8).astype(bool)
        has_r = np.frombuffer(self.has_resp, dtype=np.int8).astype(bool)
        q = np.frombuffer(self.qcodes, dtype=np.int32).astype(np.int64)
        nwords = np.frombuffer(self.nwords, dtype=np.int32).astype(np.int64)
        dk = self._codes(self.dkeys)
        resp = self._codes(self.resp)
        duplicate = np.zeros(n, dtype=bool)
        resubmission = np.zeros(n, dtype=bool)
        ref = np.full(n, -1, dtype=np.int64)
        kind = np.zeros(n, dtype=np.int8)

        def heads(*keys: Any) -> Any:
            """Mark where each run of equal keys starts (keys already sorted)."""
            m = len(keys[0])
            start = np.zeros(m, dtype=bool)
            if m:
                start[0] = True
            for k in keys:
                start[1:] |= k[1:] != k[:-1]
            return start

        # same respondent, same question: repeats are duplicates, earlier answers resubmissions
        rows = idx[subst & has_r]
        order = np.lexsort((rows, dk[rows], q[rows], resp[rows]))
        rows = rows[order]
        r_, q_, d_ = resp[rows], q[rows], dk[rows]
        first = heads(r_, q_, d_)
        first_row = rows[np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))] \
            if len(rows) else rows
        dup = ~first
        duplicate[rows[dup]] = True
        ref[rows[dup]] = first_row[dup]
        kind[rows[dup]] = 1
        hr, hq, hrows = r_[first], q_[first], rows[first]
        group = heads(hr, hq)
        if len(hrows):
            gid = np.cumsum(group) - 1
            last = np.maximum.reduceat(hrows, np.flatnonzero(group))[gid]
            sup = hrows != last
            resubmission[hrows[sup]] = True
            ref[hrows[sup]] = last[sup]
            kind[hrows[sup]] = 2
        # different respondents, same long answer to the same question
        rows = idx[subst & ~duplicate & ~resubmission & (nwords >= self.duplicate_min_words)]
        order = np.lexsort((rows, dk[rows], q[rows]))
        rows = rows[order]
        first = heads(q[rows], dk[rows])
        if len(rows):
            first_row = rows[np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))]
            dup = ~first
            duplicate[rows[dup]] = True
            ref[rows[dup]] = first_row[dup]
            kind[rows[dup]] = 1
        # whole submissions identical to an earlier one (same questions and keys): the
        # sorted (question, key) codes of each submission, compared exactly by length
        sub = self._codes(self.subs)
        pair = q * (int(dk.max(initial=0)) + 2) + np.where(subst, dk + 1, 0)
        order = np.lexsort((pair, sub))
        s_sorted = sub[order]
        starts = np.flatnonzero(heads(s_sorted))
        if n:
            lengths = np.diff(np.append(starts, n))
            words = np.add.reduceat(nwords[order], starts)
            firsts = np.minimum.reduceat(order, starts)
            ok = words >= self.duplicate_min_words
            for length in np.unique(lengths[ok]).tolist():
                sel = np.flatnonzero(ok & (lengths == length))
                sel = sel[np.argsort(firsts[sel], kind="stable")]  # first-appearance order
                members = order[starts[sel][:, None] + np.arange(length)]
                _, first_pos, inv = np.unique(pair[members], axis=0, return_index=True,
                                              return_inverse=True)
                earlier = first_pos[inv.reshape(-1)]
                later = earlier != np.arange(len(sel))
                rows = members[later].ravel()
                refs = np.repeat(firsts[sel][earlier[later]], length)
                hit = subst[rows] & ~duplicate[rows] & ~resubmission[rows]
                duplicate[rows[hit]] = True
                ref[rows[hit]] = refs[hit]
                kind[rows[hit]] = 3
        return duplicate, resubmission, ref, kind

    def detail(self, ref: Any, kind: Any, lo: int, hi: int) -> dict[int, str]:
        """Return the details of rows ``lo``..``hi`` (keyed by row of the whole table)."""
        import numpy as np

        out = {}
        for i in (lo + np.flatnonzero(kind[lo:hi])).tolist():
            out[i] = f"{self._KINDS[kind[i]]} {self.ids[int(ref[i])]}"
        return out


class _IdMap:
    """Old response ids -> pseudonymised ones, looked up by 16-byte digest (no dict of ids)."""

    def __init__(self, old: _Strings, new: _Strings) -> None:
        import numpy as np

        d = np.frombuffer(b"".join(_d16(x) for x in old), dtype="S16")
        # a 16 MiB filter of Python hashes: most strings that are not ids stop here
        self.filter = bytearray(1 << 24)
        for x in old:
            self.filter[hash(x) & 0xFFFFFF] = 1
        self.order = np.argsort(d, kind="stable")
        self.sorted = d[self.order]
        self.new = new
        self.old = old

    def _find(self, s: str) -> int:
        import numpy as np

        if not self.filter[hash(s) & 0xFFFFFF]:
            return -1
        d = _d16(s)
        i = int(np.searchsorted(self.sorted, d))
        if i < len(self.sorted) and bytes(self.sorted[i]).ljust(16, b"\0") == d:
            return int(self.order[i])
        return -1

    def __contains__(self, s: object) -> bool:
        return isinstance(s, str) and self._find(s) >= 0

    def __getitem__(self, s: str) -> str:
        i = self._find(s)
        if i < 0:
            raise KeyError(s)
        return self.new[i]

    def get(self, s: Any, default: Any = None) -> Any:
        i = self._find(s) if isinstance(s, str) else -1
        return self.new[i] if i >= 0 else default


@dataclass
class _Global:
    """The steps that need the whole table, done once (see :func:`iter_prepared`).

    Per row only numpy arrays (flags, the row a detail names and its kind) and the
    pseudonymised ids (a :class:`_Strings` buffer) are kept; details are written and
    respondent pseudonyms recomputed block by block.
    """

    duplicate: Any  # numpy bool array
    resubmission: Any  # numpy bool array
    ref: Any  # numpy int64 array: the row a detail names (-1: none)
    kind: Any  # numpy int8 array: which detail (see _CompactIndex)
    numbering: Any
    question_masks: dict[str, dict[str, str]]
    question_rows: list[dict[str, Any]]
    new_ids: Any  # _Strings
    n_respondents: int
    index: Any = None  # the _CompactIndex (its response ids name the rows of details)

    def detail(self, lo: int, hi: int) -> dict[int, str]:
        """Return the duplicate/resubmission details of rows ``lo``..``hi``."""
        return self.index.detail(self.ref, self.kind, lo, hi)


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
    from .deidentify import _apply, _cached_deidentifier, _digest

    duplicate, resubmission, ref, kind = index.flags()
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
    # id pseudonyms, as thematic.deidentify.pseudonymise_ids numbers them (made as the
    # rows were added; all become X-... if two collide)
    n_resp = index.finish_ids()
    return _Global(duplicate, resubmission, ref, kind, numbering, masks, rows, index.new_ids,
                   n_resp, index)


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
        people: dict[str, str] = {}
        out["respondent_id"] = pd.array(
            [None if not isinstance(r, str) else people.get(r) or people.setdefault(
                r, _person(cfg.salt, r)) for r in out["respondent_id"].tolist()], dtype="str")
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

    index: Any  # _CompactIndex
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
    :class:`_CompactIndex`, deciding as :class:`thematic.clean.DuplicateIndex`) and
    finds its identifiers, numbering names and organisations as they come (one global pseudonym counter); blocks are spilled
    to a temporary folder (or kept on the Dask workers). The global step then flags
    duplicates and resubmissions over the whole table, masks the questions and makes
    the id pseudonyms. The second pass, during the iteration, writes each block's
    flags, masks, public columns and review list. After the iteration :attr:`audit`,
    :attr:`info` and :attr:`notes` are those of :func:`prepare_export`, and the blocks
    concatenated are its ``table`` and ``review``, byte for byte.

    What is held in memory: one block at a time (the exports are read in blocks by
    :class:`thematic.ingest.ExportChunks`, text exports streamed from the file), the
    spilled blocks on disk, and a global state of some 100 bytes per response
    (:class:`_CompactIndex`: response ids and their pseudonyms in UTF-8 buffers,
    respondents, duplicate keys and submissions as 16-byte digests, flags and detail
    references as numpy arrays; pseudonyms of respondents are recomputed per block and
    the audit's old ids looked up by digest, :class:`_IdMap`). The audit rows
    themselves (one per change, exclusion or mask) are kept as DataFrames: the audit
    is part of the result.
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

        from .deidentify import PseudonymNumbering

        cfg, chunks, notes = self._open_chunks()
        fp = _FirstPass(_CompactIndex(cfg.salt),
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
            index.resp, index.dkeys, index.subs = bytearray(), bytearray(), bytearray()
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
        # (each part is released as soon as its copy is made: the audit is the largest
        # thing left, and its copies set the peak memory of the end of the stream)
        a_clean = pd.concat([*normalise, *sp.excluded_rows], ignore_index=True)
        normalise.clear()
        sp.excluded_rows.clear()
        a_mask = pd.concat([*masks, _mask_audit(g.question_rows)], ignore_index=True)
        masks.clear()
        parts = [a_read, a_clean, a_mask]
        del a_clean, a_mask
        earlier = _remapped_audits(parts, index.ids, g.new_ids)
        index.ids = index.new_ids = g.new_ids = _Strings()
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
            detail = g.detail(lo, lo + n)
            # the block's global results go as data too, to the worker holding it
            [args_f] = client.scatter(
                [(g.duplicate[sl].tolist(), g.resubmission[sl].tolist(), detail,
                  g.new_ids[sl])],
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
            yield _pass2(p1, g.duplicate[sl].tolist(), g.resubmission[sl].tolist(),
                         g.detail(lo, lo + n), g.numbering, g.question_masks, g.new_ids[sl],
                         cfg, include_unfinished)

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
        earlier.clear()
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


def _remapped_audits(audits: Sequence[pd.DataFrame], old_ids: Any,
                     new_ids: Any) -> list[pd.DataFrame]:
    """Return the audits with the old response ids (also in details) pseudonymised.

    The old ids are looked up by digest (:class:`_IdMap`): no dictionary of every id.
    """
    from .deidentify import _remap_detail

    mapping = _IdMap(old_ids, new_ids)
    earlier = []
    if not isinstance(audits, list):
        audits = list(audits)
    for k, a in enumerate(audits):  # a list given is emptied as it is remapped
        audits[k] = None  # type: ignore[call-overload]  # released once remapped
        if not len(a):
            earlier.append(a)
            continue
        a = a.assign(
            response_id=pd.array(
                [mapping.get(r, r) if isinstance(r, str) else r for r in a["response_id"]],
                dtype="str"),
            detail=pd.array([_remap_detail(d, mapping) for d in a["detail"]],  # type: ignore[arg-type]
                            dtype="str"))
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
