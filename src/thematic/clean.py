r"""Clean survey responses: normalise text, flag what cannot be analysed, segment.

The pipeline is ``read_export -> clean_responses -> deidentify_responses -> segment``. ``text_raw``
(the cell as exported) is never modified; ``text`` starts as a copy of it at ingest and
each stage transforms ``text``. Every row is kept: rows that cannot be analysed are
*flagged* and *excluded* (``exclude`` is true, ``exclude_reason`` says why) and each
exclusion is listed in the audit; :func:`analysable` returns the rows that are left.

Text normalisation (:func:`clean_text`)
---------------------------------------
1. mojibake and other encoding damage repaired with ftfy (curly quotes are kept as typed:
   ftfy's ``uncurl_quotes`` is off), HTML entities unescaped when the text holds no
   markup, ligatures and full-width forms folded;
2. Unicode NFC;
3. zero-width, bidirectional and control characters removed (U+200B, U+2060, U+FEFF,
   soft hyphen, bidi embeddings/isolates, C0/C1 controls; zero-width (non-)joiners are
   kept between two non-ASCII characters, where they shape emoji and scripts);
4. line breaks unified to ``\n``; whitespace runs collapsed to one space, runs holding
   line breaks to one line break (two for a blank line); leading and trailing
   whitespace removed.

The result is a fixed point: ``clean_text(clean_text(x)) == clean_text(x)``.

Flags (all boolean)
-------------------
``flag_empty``
    No text after cleaning.
``flag_non_answer``
    A non-answer: ``"n/a"``, ``"none"``, ``"no comment"``, ``"don't know"``... (see
    :data:`DEFAULT_NON_ANSWERS`; compared case-insensitively, ignoring punctuation), or
    text with no letters or digits at all (``"-"``, ``"..."``, an emoji alone).
``flag_duplicate``
    An exact copy (case and spacing aside) of an earlier row for the same question from
    the same respondent, or from another respondent when the answer has at least
    ``duplicate_min_words`` words (short answers such as "Very helpful" are legitimately
    repeated), or a whole submission identical to an earlier one. The first copy is
    kept.
``flag_resubmission``
    The same respondent answered the same question again with different text: the
    last answer is kept and the earlier ones are flagged.
``flag_preview``, ``flag_spam``, ``flag_unfinished``
    From ingest (Qualtrics). Unfinished responses are excluded unless
    ``exclude_unfinished=False``.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from .errors import InputError
from .schemas import audit_frame as _audit_frame
from .schemas import conform
from .schemas import is_missing as _isna

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = [
    "DEFAULT_NON_ANSWERS",
    "FLAG_COLUMNS",
    "Cleaned",
    "DuplicateIndex",
    "clean_text",
    "is_non_answer",
    "clean_responses",
    "analysable",
    "make_segmenter",
    "segment",
]

#: Non-answers, as compared: case-folded, curly apostrophes straightened, punctuation
#: other than ``/`` and ``'`` removed, whitespace collapsed.
DEFAULT_NON_ANSWERS: frozenset[str] = frozenset(
    {
        "n/a", "na", "n a", "nil", "null", "none", "nothing", "no", "nope", "x", "xx", "xxx",
        "no comment", "no comments", "no comment thanks", "no further comment",
        "no further comments", "no other comments", "no thanks", "no thank you",
        "none thanks", "none thank you", "nothing to add", "nothing further",
        "nothing further to add", "nothing else", "nothing else to add", "nothing more",
        "nothing more to add", "nothing to say", "not applicable", "not sure", "unsure",
        "don't know", "dont know", "do not know", "idk", "dk", "test", "same as above",
        "as above", "see above",
    }
)  # fmt: skip

#: Flag columns :func:`clean_responses` sets (ingest adds preview/spam/unfinished).
FLAG_COLUMNS: tuple[str, ...] = (
    "flag_empty",
    "flag_non_answer",
    "flag_duplicate",
    "flag_resubmission",
)

_REASON_ORDER = (
    "empty",
    "non_answer",
    "duplicate",
    "resubmission",
    "preview",
    "spam",
    "unfinished",
)


class Cleaned(NamedTuple):
    """Result of :func:`clean_responses`; unpacks as ``responses, audit``."""

    responses: pd.DataFrame
    audit: pd.DataFrame


# --------------------------------------------------------------------------- text

_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# controls and invisible formatting characters (tab, LF handled as whitespace); zero-width
# (non-)joiners only next to ASCII or at the ends (between non-ASCII they shape emoji/scripts)
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_JOINER = re.compile("(?<![^\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f])")
_ASCII_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_WS_RUN = re.compile(r"\s{2,}|[^\S ]")  # runs that are not a single space


@functools.lru_cache(maxsize=1)
def _mojibake_tables() -> tuple[
    re.Pattern[str], re.Pattern[str], list[tuple[frozenset[str], frozenset[str]]]
]:
    """Characters that can start mojibake, for a cheap test before calling ftfy.

    ftfy only changes text that holds (a) a character some single-byte encoding it
    knows maps to a UTF-8 lead byte (0xC0-0xF4) followed by one that maps to a
    continuation byte (0x80-0xBF, or a space standing for 0xA0), (b) C1 controls,
    replacement characters, ligatures, full-width forms or surrogates, or (c) HTML
    entities or terminal escapes. Text with none of these is returned unchanged by
    ftfy, so calling it is skipped (tests check this against ftfy itself).
    """
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-* codecs)
    from ftfy import chardata

    pairs = []
    for enc in chardata.CHARMAP_ENCODINGS:
        lead = frozenset(bytes([b]).decode(enc) for b in range(0xC0, 0xF5))
        cont = {bytes([b]).decode(enc) for b in [*range(0x80, 0xC0), 0x1A]}
        if enc != "macroman":  # ftfy's restore_byte_a0 skips MacRoman
            cont.add(" ")
        pairs.append((lead, frozenset(cont)))
    all_lead = "".join(sorted(set().union(*(p[0] for p in pairs))))
    all_cont = "".join(sorted(set().union(*(p[1] for p in pairs))))
    singles = set(chardata.LIGATURES) | set(chardata.WIDTH_MAP)
    singles_cls = "".join(re.escape(chr(c)) for c in sorted(singles))
    single = re.compile(f"[&\x1b\x1a\x80-\x9f\ufffd\ud800-\udfff{singles_cls}]")
    pair = re.compile(f"[{re.escape(all_lead)}](?=[{re.escape(all_cont)}])")
    return single, pair, pairs


def _needs_ftfy(s: str) -> bool:
    if s.isascii():
        return "&" in s or "\x1b" in s
    single, pair, pairs = _mojibake_tables()
    if single.search(s):
        return True
    for m in pair.finditer(s):
        a, b = s[m.start()], s[m.start() + 1]
        if any(a in lead and b in cont for lead, cont in pairs):
            return True
    return False


@functools.lru_cache(maxsize=1)
def _ftfy_config() -> Any:
    import ftfy

    return ftfy.TextFixerConfig(
        uncurl_quotes=False,
        normalization=None,
        fix_line_breaks=False,
        remove_control_chars=False,
        explain=True,
    )


def _ws_sub(m: re.Match[str]) -> str:
    n = m.group(0).count("\n")
    return " " if n == 0 else ("\n" if n == 1 else "\n\n")


def _clean_once(text: str, changes: dict[str, list[str]]) -> str:
    s = text
    if _needs_ftfy(s):
        import ftfy

        fixed, steps = ftfy.fix_and_explain(s, config=_ftfy_config())
        if fixed != s:
            names = ", ".join(f"{a}:{b}" if a != "apply" else b for a, b in (steps or []))
            changes.setdefault("encoding_repaired", []).append(
                f"ftfy {names or 'fix'}; {len(s)} -> {len(fixed)} chars"
            )
            s = fixed
    s2 = _LINE_BREAKS.sub("\n", s)
    if s2 != s:
        changes.setdefault("line_breaks_unified", []).append(
            f"{len(_LINE_BREAKS.findall(s))} line break(s) made \\n"
        )
        s = s2
    if not s.isascii():
        s2 = unicodedata.normalize("NFC", s)
        if s2 != s:
            changes.setdefault("unicode_nfc", []).append(f"NFC; {len(s)} -> {len(s2)} chars")
            s = s2
    if s.isascii():
        found = _ASCII_CONTROL.findall(s)
        rx = _ASCII_CONTROL
    else:
        found = _INVISIBLE.findall(s)
        rx = _INVISIBLE
        if "\u200c" in s or "\u200d" in s:
            found += _JOINER.findall(s)
    if found:
        counts = Counter(found)
        desc = ", ".join(f"U+{ord(c):04X}x{n}" for c, n in sorted(counts.items()))
        changes.setdefault("invisible_removed", []).append(f"removed {len(found)}: {desc}")
        s = rx.sub("", s)
        if "\u200c" in s or "\u200d" in s:
            s = _JOINER.sub("", s)
    s2 = (
        _WS_RUN.sub(_ws_sub, s).strip()
        if _WS_RUN.search(s) or s[:1].isspace() or s[-1:].isspace()
        else s
    )
    if s2 != s:
        runs = sum(1 for m in _WS_RUN.finditer(s) if m.group(0) not in (" ", "\n", "\n\n"))
        trimmed = len(s) - len(s.strip())
        changes.setdefault("whitespace_collapsed", []).append(
            f"{runs} run(s) collapsed, {trimmed} char(s) trimmed"
        )
        s = s2
    return s


def _clean_with_changes(text: str) -> tuple[str, list[tuple[str, str]]]:
    changes: dict[str, list[str]] = {}
    s = text
    for _ in range(20):  # fixed point (ftfy may need a second pass, e.g. &amp;lt;)
        s2 = _clean_once(s, changes)
        if s2 == s:
            break
        s = s2
    return s, [(k, "; ".join(v)) for k, v in changes.items()]


def clean_text(text: str | None) -> str | None:
    """Normalise one response (see the module docstring for the steps).

    Parameters
    ----------
    text : str or None
        The text as exported.

    Returns
    -------
    str or None
        The normalised text (``None`` for a missing value). Idempotent:
        ``clean_text(clean_text(x)) == clean_text(x)``.

    Examples
    --------
    >>> clean_text("  It\u00e2\u20ac\u2122s   fine\u200b  ")
    'It\u2019s fine'
    """
    if text is None or _isna(text):
        return None
    return _clean_with_changes(str(text))[0]


_PUNCT = re.compile(r"[^\w\s/']")
_HAS_WORD = re.compile(r"[^\W_]")


def _answer_key(text: str) -> str:
    k = text.casefold().replace("\u2019", "'").replace("\u2018", "'")
    k = _PUNCT.sub("", k)
    return " ".join(k.split()).strip("'/ ")


def is_non_answer(text: str | None, non_answers: Iterable[str] | None = None) -> bool:
    """Tell whether a response is a non-answer.

    Parameters
    ----------
    text : str or None
        The (cleaned) response.
    non_answers : iterable of str, optional
        Non-answers to recognise; default :data:`DEFAULT_NON_ANSWERS`. Compared after
        case-folding, removing punctuation other than ``/`` and ``'`` and collapsing
        whitespace, so ``"N/A."`` matches ``"n/a"``.

    Returns
    -------
    bool
        True for a listed non-answer or a text with no letters or digits; False for
        missing or empty text (that is "empty", not a non-answer).
    """
    if text is None or _isna(text) or not str(text).strip():
        return False
    keys = (
        DEFAULT_NON_ANSWERS
        if non_answers is None
        else frozenset(_answer_key(n) for n in non_answers)
    )
    return _is_non_answer(str(text), keys)


def _is_non_answer(text: str, keys: frozenset[str]) -> bool:
    if not _HAS_WORD.search(text):
        return True
    return len(text) < 60 and _answer_key(text) in keys


def _dup_key(text: str) -> str:
    k = text.casefold().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(k.split()).strip(" .!?,;:")


# --------------------------------------------------------------------------- table


def clean_responses(
    df: pd.DataFrame,
    non_answers: Iterable[str] | None = None,
    *,
    exclude_unfinished: bool = True,
    duplicate_min_words: int = 8,
) -> Cleaned:
    """Normalise ``text``, flag rows that cannot be analysed, and audit every change.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table (from :func:`thematic.ingest.read_export`). ``text`` is
        cleaned (``text_raw`` is left untouched).
    non_answers : iterable of str, optional
        Replaces :data:`DEFAULT_NON_ANSWERS` (extend it with
        ``DEFAULT_NON_ANSWERS | {"same again"}``).
    exclude_unfinished : bool, default True
        Exclude rows ingest flagged ``flag_unfinished`` (participants who left before
        the end may have withdrawn). They stay flagged either way.
    duplicate_min_words : int, default 8
        Identical answers from *different* respondents count as duplicates only from
        this many words (same-respondent copies always do).

    Returns
    -------
    Cleaned
        ``(responses, audit)``. ``responses`` has every input row, the cleaned ``text``,
        the flags of :data:`FLAG_COLUMNS`, ``exclude`` and ``exclude_reason``; ``audit``
        (schema ``audit``, ``stage == "clean"``) has one ``normalise`` row per response
        and kind of change (detail: what changed and counts, never the text) and one
        ``exclude`` row per excluded response.

    Notes
    -----
    Cleaning is idempotent: running it on its own output changes no text and gives the
    same flags (the audit then lists only the exclusions again).

    Examples
    --------
    >>> import thematic
    >>> files = thematic.examples.load("staff-survey-export")
    >>> responses, _ = thematic.read_export(files.export)
    >>> cleaned, clean_audit = thematic.clean_responses(responses)
    >>> cleaned["exclude_reason"].value_counts().to_dict()
    {'empty': 25, 'duplicate': 15, 'non_answer': 11, 'duplicate; preview': 2, \
'non_answer; preview': 1}
    """
    df = conform(df, "responses")
    keys = _non_answer_keys(non_answers)
    part = _clean_part(df, keys)
    index = DuplicateIndex(duplicate_min_words)
    index.add(part)
    duplicate, resubmission, detail = index.flags()
    out, excluded = _finish_clean(
        df, part, duplicate, resubmission, detail, exclude_unfinished=exclude_unfinished
    )
    return Cleaned(out, _audit_frame(part.audit + excluded))


def _non_answer_keys(non_answers: Iterable[str] | None) -> frozenset[str]:
    return (
        DEFAULT_NON_ANSWERS
        if non_answers is None
        else frozenset(_answer_key(n) for n in non_answers)
    )


class _CleanPart(NamedTuple):
    """Row-local result of cleaning a block of rows (see :func:`_clean_part`)."""

    cleaned: list[str | None]
    empty: list[bool]
    non_answer: list[bool]
    audit: list[dict[str, Any]]  # the "normalise" rows, in row order
    ids: list[str]
    respondents: list[str | None]
    questions: list[str]
    dkeys: list[Any]  # duplicate keys ("" when not substantive)
    nwords: list[int]
    subs: list[Any]  # submission of each row


def _digest_key(key: str) -> bytes:
    """Return a 16-byte BLAKE2b digest standing for a duplicate key (streaming index)."""
    import hashlib

    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _clean_part(
    df: pd.DataFrame, keys: frozenset[str], *, row_offset: int = 0, digest: bool = False
) -> _CleanPart:
    """Clean the text of a block of rows and compute their duplicate keys.

    Everything here depends on the row alone, so blocks can be cleaned separately (in
    any process) and their results joined in row order. ``row_offset`` is the index of
    the block's first row in the whole table (it names submissions of rows without a
    respondent); ``digest`` replaces the duplicate keys by 16-byte digests to keep a
    global index of millions of rows small.
    """
    ids = df["response_id"].tolist()
    texts = df["text"].tolist()
    audit: list[dict[str, Any]] = []
    cache: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    cleaned: list[str | None] = []
    for rid, t in zip(ids, texts, strict=True):
        if not isinstance(t, str):  # missing (NA/None)
            cleaned.append(None)
            continue
        r = cache.get(t)
        if r is None:
            r = _clean_with_changes(t)
            cache[t] = r
        cleaned.append(r[0] if r[0] else None)
        for reason, detail in r[1]:
            audit.append(
                {
                    "response_id": rid,
                    "stage": "clean",
                    "action": "normalise",
                    "reason": reason,
                    "detail": detail,
                }
            )
    empty = [c is None for c in cleaned]
    non_answer = [not e and _is_non_answer(c, keys) for e, c in zip(empty, cleaned, strict=True)]  # type: ignore[arg-type]
    substantive = [not e and not na for e, na in zip(empty, non_answer, strict=True)]
    qcol = "question_id" if "question_id" in df.columns else "question"
    questions = [q if isinstance(q, str) else "" for q in df[qcol].tolist()]
    respondents = [r if isinstance(r, str) else None for r in df["respondent_id"].tolist()]
    key_of = (lambda c: _digest_key(_dup_key(c))) if digest else _dup_key
    dkeys = [key_of(c) if s else "" for c, s in zip(cleaned, substantive, strict=True)]
    nwords = [len(c.split()) if s else 0 for c, s in zip(cleaned, substantive, strict=True)]  # type: ignore[union-attr]
    if {"source_file", "source_row"} <= set(df.columns):
        subs = list(zip(df["source_file"].tolist(), df["source_row"].tolist(), strict=True))
    else:
        subs = [
            (r, None) if r is not None else (None, row_offset + i)
            for i, r in enumerate(respondents)
        ]
    return _CleanPart(
        cleaned, empty, non_answer, audit, ids, respondents, questions, dkeys, nwords, subs
    )


class DuplicateIndex:
    """The global index of duplicate keys behind ``flag_duplicate`` and ``flag_resubmission``.

    Duplicates and resubmissions are decided over the whole table, never within a
    block of rows: a resubmission is flagged because a *later* answer supersedes it,
    and a duplicate may copy a row read long before. Cleaning in blocks (streaming,
    or on a Dask cluster) therefore runs in two passes: the first cleans each block
    and :meth:`add` s its keys (respondent, question, a digest of the normalised text,
    its word count and its submission) in row order; :meth:`flags` then decides every
    row once, exactly as :func:`clean_responses` does on the whole table, and the
    second pass writes the flags.

    Parameters
    ----------
    duplicate_min_words : int, default 8
        See :func:`clean_responses`.
    """

    def __init__(self, duplicate_min_words: int = 8) -> None:
        self.duplicate_min_words = duplicate_min_words
        self.ids: list[str] = []
        self.respondents: list[str | None] = []
        self.questions: list[str] = []
        self.dkeys: list[Any] = []
        self.nwords: list[int] = []
        self.subs: list[Any] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, part: Any) -> None:
        """Append the keys of the next block of rows (a :class:`_CleanPart`)."""
        self.ids.extend(part.ids)
        self.respondents.extend(part.respondents)
        self.questions.extend(sys.intern(q) for q in part.questions)
        self.dkeys.extend(part.dkeys)
        self.nwords.extend(part.nwords)
        self.subs.extend(part.subs)

    def flags(self) -> tuple[list[bool], list[bool], dict[int, str]]:
        """Decide every row: ``(duplicate, resubmission, detail by row)``."""
        ids, respondents, questions = self.ids, self.respondents, self.questions
        dkeys, nwords, subs = self.dkeys, self.nwords, self.subs
        min_words = self.duplicate_min_words
        n = len(ids)
        substantive = [k != "" for k in dkeys]
        duplicate = [False] * n
        resubmission = [False] * n
        detail: dict[int, str] = {}
        # same respondent, same question
        by_rq: dict[tuple[str, str], list[int]] = {}
        for i in range(n):
            if substantive[i] and respondents[i] is not None:
                by_rq.setdefault((respondents[i], questions[i]), []).append(i)  # type: ignore[arg-type]
        for rows in by_rq.values():
            if len(rows) < 2:
                continue
            first_of: dict[Any, int] = {}
            distinct: list[int] = []
            for i in rows:
                if dkeys[i] in first_of:
                    duplicate[i] = True
                    detail[i] = f"duplicate of {ids[first_of[dkeys[i]]]}"
                else:
                    first_of[dkeys[i]] = i
                    distinct.append(i)
            for i in distinct[:-1]:
                resubmission[i] = True
                detail[i] = f"superseded by {ids[distinct[-1]]}"
        del by_rq
        # different respondents, same long answer to the same question
        first_long: dict[tuple[str, Any], int] = {}
        for i in range(n):
            if not substantive[i] or duplicate[i] or resubmission[i]:
                continue
            if nwords[i] < min_words:
                continue
            k = (questions[i], dkeys[i])
            if k in first_long:
                duplicate[i] = True
                detail[i] = f"duplicate of {ids[first_long[k]]}"
            else:
                first_long[k] = i
        del first_long
        # whole submissions identical to an earlier one
        rows_of: dict[Any, list[int]] = {}
        for i, s in enumerate(subs):
            rows_of.setdefault(s, []).append(i)
        seen_sig: dict[tuple[Any, ...], int] = {}
        for rows in rows_of.values():
            if sum(nwords[i] for i in rows) < min_words:
                continue
            sig = tuple(sorted((questions[i], dkeys[i]) for i in rows))
            if sig in seen_sig:
                for i in rows:
                    if substantive[i] and not duplicate[i] and not resubmission[i]:
                        duplicate[i] = True
                        detail[i] = f"same submission as {ids[seen_sig[sig]]}"
            else:
                seen_sig[sig] = rows[0]
        return duplicate, resubmission, detail


def _finish_clean(
    df: pd.DataFrame,
    part: _CleanPart,
    duplicate: list[bool],
    resubmission: list[bool],
    detail: dict[int, str],
    *,
    exclude_unfinished: bool,
    row_offset: int = 0,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Write the cleaned text and the flags of a block; return it with its exclusions.

    ``duplicate`` and ``resubmission`` are the block's rows; ``detail`` is keyed by row
    in the whole table (``row_offset`` is the block's first row).
    """
    out = df.copy()
    n = len(out)
    out["text"] = pd.array(part.cleaned, dtype="str")
    out["flag_empty"] = part.empty
    out["flag_non_answer"] = part.non_answer
    out["flag_duplicate"] = duplicate
    out["flag_resubmission"] = resubmission
    flag_cols = [c for c in out.columns if c.startswith("flag_")]
    if not exclude_unfinished:
        flag_cols = [c for c in flag_cols if c != "flag_unfinished"]
    order = {f"flag_{r}": k for k, r in enumerate(_REASON_ORDER)}
    flag_cols.sort(key=lambda c: (order.get(c, len(order)), c))
    flags = {c: out[c].fillna(False).astype(bool).tolist() for c in flag_cols}
    ids = part.ids
    audit: list[dict[str, Any]] = []
    exclude, reasons = [], []
    for i in range(n):
        why = [c[5:] for c in flag_cols if flags[c][i]]
        exclude.append(bool(why))
        reasons.append("; ".join(why) if why else None)
        if why:
            audit.append(
                {
                    "response_id": ids[i],
                    "stage": "clean",
                    "action": "exclude",
                    "reason": "; ".join(why),
                    "detail": detail.get(row_offset + i),
                }
            )
    out["exclude"] = exclude
    out["exclude_reason"] = pd.array(reasons, dtype="str")
    return conform(out, "responses"), audit


def analysable(df: pd.DataFrame) -> pd.DataFrame:
    """Return the rows left for analysis (``exclude`` false), in order.

    Parameters
    ----------
    df : pandas.DataFrame
        A table returned by :func:`clean_responses` (or a later stage).

    Returns
    -------
    pandas.DataFrame
        The rows of ``df`` whose ``exclude`` is false, with a fresh index.

    Raises
    ------
    InputError
        If ``df`` has no ``exclude`` column (it was not cleaned).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> len(study.responses), len(thematic.analysable(study.responses))
    (456, 402)
    """
    if "exclude" not in df.columns:
        raise InputError(
            "the table has no 'exclude' column: run thematic.clean.clean_responses first"
        )
    from .schemas import coerce_flags

    keep = ~coerce_flags(df[["exclude"]])["exclude"].to_numpy(dtype=bool)
    return df.loc[keep].reset_index(drop=True)


# --------------------------------------------------------------------------- segmentation

_TRAINED = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


@functools.lru_cache(maxsize=4)
def make_segmenter(model: str = "blank") -> Language:
    """Make the spaCy pipeline :func:`segment` splits sentences with.

    It builds a pipeline (or loads an installed one by name), as
    :func:`thematic.embeddings.make_embedder` builds what :func:`thematic.embeddings.embed`
    uses; nothing is read from a file of the study. Pass the result to
    :func:`segment` as ``nlp``.

    Parameters
    ----------
    model : str, default "blank"
        ``"blank"``: ``spacy.blank("en")`` with the rule-based sentencizer and the
        lookup lemmatizer (spacy-lookups-data); reproducible everywhere, no model
        download. ``"auto"``: the first installed trained English pipeline
        (``en_core_web_sm``, ``_md``, ``_lg``, ``_trf``), else ``"blank"``. Any other
        value is loaded with :func:`spacy.load` (it must be installed).

    Returns
    -------
    spacy.language.Language
        The pipeline (cached per ``model``).

    Raises
    ------
    InputError
        If ``model`` names a pipeline that is not installed.

    Examples
    --------
    >>> from thematic.clean import make_segmenter
    >>> nlp = make_segmenter()
    >>> nlp.pipe_names
    ['sentencizer', 'lemmatizer']
    """
    import spacy

    if model == "auto":
        for name in _TRAINED:
            if spacy.util.is_package(name):
                return spacy.load(name, exclude=["ner"])
        model = "blank"
    if model != "blank":
        try:
            return spacy.load(model)
        except OSError:
            raise InputError(
                f"spaCy pipeline {model!r} is not installed; use model='blank'"
            ) from None
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


_SEGMENT_COLUMNS = (
    "response_id",
    "segment_id",
    "position",
    "start",
    "end",
    "text",
    "lemma",
    "n_tokens",
)
_RUN = re.compile(r"(\S+)|\s+")


class _FastSentences:
    """Sentence spans of the blank pipeline without building spaCy documents.

    spaCy's tokenizer cuts a text into runs of non-space and of space characters (a run
    that is exactly one ``" "`` after a token is that token's trailing space) and
    tokenizes every run on its own. The tokens of each distinct run are therefore
    cached here, computed once by the pipeline's own tokenizer and lookup lemmatizer
    (the cached word-form table: offset, length, space/punctuation attributes and
    lower-cased lemma of each token); the sentencizer's rule is then applied to the
    cached tokens. The spans, lemmas and token counts are those of the spaCy pipeline
    (tests compare them on fixtures and 100,000 synthetic responses).
    """

    def __init__(self, nlp: Language, max_cache: int = 2_000_000) -> None:
        self.nlp = nlp
        self.tokenizer = nlp.tokenizer
        sentencizer = nlp.get_pipe("sentencizer")
        self.punct_chars = frozenset(sentencizer.punct_chars)
        self.lemmatizer = nlp.get_pipe("lemmatizer")
        self.cache: dict[str, tuple[Any, Any]] = {}
        self.max_cache = max_cache

    def _run_tokens(self, run: str) -> tuple[tuple[int, int, int, str], ...]:
        """Tokens of one run: ``(offset, length, kind, lemma)``.

        ``kind`` bits: 1 space, 2 punctuation (``is_punct``), 4 a sentencizer
        punctuation character.
        """
        doc = self.tokenizer(run)
        if self.lemmatizer is not None:
            doc = self.lemmatizer(doc)
        out = []
        for t in doc:
            kind = (1 if t.is_space else 0) | (2 if t.is_punct else 0) | (
                4 if t.text in self.punct_chars else 0
            )
            lemma = t.lemma_.lower() if t.lemma_ else t.lower_
            out.append((t.idx, len(t.text), kind, lemma))
        return tuple(out)

    def _run_info(self, run: str) -> tuple[Any, Any]:
        """Pieces of one run for each sentencizer state on entry (see :meth:`sentences`).

        Returns ``((pieces, seen_out), (pieces, seen_out))`` for ``seen_in`` false and
        true. A piece is ``(new, start, end, n_tokens, lemma)``: ``new`` when a sentence
        starts at it, offsets of its first and last non-space token in the run
        (``start`` -1 when it has none), its non-space tokens and the lemmas of its
        word tokens joined by spaces (``None`` when none).
        """
        toks = self._run_tokens(run)
        res = []
        for seen_in in (False, True):
            seen = seen_in
            groups: list[tuple[bool, list[tuple[int, int, int, str]]]] = [(False, [])]
            for t in toks:
                kind = t[2]
                if kind & 4:
                    seen = True
                elif seen and not kind & 2:
                    groups.append((True, []))
                    seen = False
                groups[-1][1].append(t)
            pieces = []
            for new, group in groups:
                if not new and not group:
                    continue
                words = [t for t in group if not t[2] & 1]
                lemmas = [t[3] for t in words if not t[2] & 2]
                pieces.append(
                    (
                        new,
                        words[0][0] if words else -1,
                        words[-1][0] + words[-1][1] if words else -1,
                        len(words),
                        " ".join(lemmas) if lemmas else None,
                    )
                )
            res.append((tuple(pieces), seen))
        return res[0], res[1]

    def sentences(self, text: str) -> list[tuple[int, int, int, str]]:
        """Return ``(start, end, n_tokens, lemma)`` of each sentence holding a token.

        The text is cut into runs as spaCy's tokenizer cuts it; each run's tokens,
        grouped into pieces by the sentencizer's rule (a sentence starts at the first
        token that is not punctuation after one of its punctuation characters), are
        cached for both states of the rule on entry.
        """
        cache = self.cache
        if len(cache) > self.max_cache:
            cache.clear()
        if text.isprintable() and "  " not in text and text[:1] != " ":
            # only single ASCII spaces: every space is the trailing space of a token
            runs: Iterable[tuple[int, str]] = []
            pos = 0
            spans = []
            for run in text.split(" "):
                if run:
                    spans.append((pos, run))
                pos += len(run) + 1
            runs = spans
        else:
            runs = self._runs(text)
        out: list[tuple[int, int, int, str]] = []
        seen = False
        cur_start = cur_end = -1
        cur_n = 0
        cur_lem: list[str] = []
        for base, run in runs:
            info = cache.get(run)
            if info is None:
                info = cache[run] = self._run_info(run)
            pieces, seen = info[seen]
            for new, ps, pe, n, lem in pieces:
                if new:
                    if cur_n:
                        out.append((cur_start, cur_end, cur_n, " ".join(cur_lem)))
                    cur_start, cur_n, cur_lem = -1, 0, []
                if n:
                    if cur_start < 0:
                        cur_start = base + ps
                    cur_end = base + pe
                    cur_n += n
                    if lem is not None:
                        cur_lem.append(lem)
        if cur_n:
            out.append((cur_start, cur_end, cur_n, " ".join(cur_lem)))
        return out

    @staticmethod
    def _runs(text: str) -> list[tuple[int, str]]:
        """Cut ``text`` into the runs spaCy's tokenizer tokenizes one by one."""
        runs = []
        first = True
        for m in _RUN.finditer(text):
            start = m.start()
            run = m.group()
            if m.lastindex is None and not first and run[0] == " ":
                run = run[1:]  # the trailing space of the token before
                start += 1
                if not run:
                    continue
            first = False
            runs.append((start, run))
        return runs


@functools.lru_cache(maxsize=1)
def _fast_sentences() -> _FastSentences:
    return _FastSentences(make_segmenter("blank"))


def segment(
    df: pd.DataFrame,
    *,
    model: str = "blank",
    nlp: Language | None = None,
    include_excluded: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> pd.DataFrame:
    """Split responses into sentences with character offsets into ``text``.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table; rows excluded by :func:`clean_responses` are skipped
        unless ``include_excluded``. Rows without text give no segments.
    model : str, default "blank"
        Passed to :func:`make_segmenter` when ``nlp`` is not given.
    nlp : spacy.language.Language, optional
        A pipeline to use instead (it must set sentence boundaries).
    include_excluded : bool, default False
        Segment excluded rows too.
    batch_size : int, default 256
        Passed to ``nlp.pipe`` (trained pipelines and ``nlp``).
    progress : bool, default False
        Show a progress bar (tqdm).

    Returns
    -------
    pandas.DataFrame
        Schema ``segments``: ``response_id, segment_id`` (``f"{response_id}#s{n}"``),
        ``position`` (1-based), ``start, end`` with ``text[start:end] == segment text``
        (leading and trailing whitespace excluded), ``text``, ``lemma`` (lower-cased
        lemmas of the word tokens, space-separated) and ``n_tokens``.

    Notes
    -----
    With the default blank pipeline, spaCy documents are not built: the tokens of each
    distinct whitespace-separated run are computed once by spaCy's tokenizer and lookup
    lemmatizer and cached, and the sentencizer's rule (a sentence starts at the first
    token that is not punctuation after one of its punctuation characters) is applied
    to them. The result is the pipeline's, at several times its speed.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> segments = thematic.segment(study.analysable())
    >>> len(segments)
    549
    >>> print(segments.loc[0, "text"])
    This year the wellbeing hub is there but hard to reach on nights in my experience.
    """
    df = conform(df, "responses")
    rows = (
        df
        if include_excluded or "exclude" not in df.columns
        else df.loc[~df["exclude"].astype(bool)]
    )
    rows = rows.loc[rows["text"].notna()]
    ids = rows["response_id"].tolist()
    texts = [str(t) for t in rows["text"].tolist()]
    out: dict[str, list[Any]] = {k: [] for k in _SEGMENT_COLUMNS}
    bar = _progress(len(texts), "segment", progress)
    if nlp is None and model == "blank":
        fast = _fast_sentences()
        rid_out, sid_out, pos_out = out["response_id"], out["segment_id"], out["position"]
        st_out, en_out, tx_out = out["start"], out["end"], out["text"]
        le_out, nt_out = out["lemma"], out["n_tokens"]
        for k, (rid, text) in enumerate(zip(ids, texts, strict=True)):
            for pos, (start, end, ntok, lemma) in enumerate(fast.sentences(text), 1):
                rid_out.append(rid)
                sid_out.append(f"{rid}#s{pos}")
                pos_out.append(pos)
                st_out.append(start)
                en_out.append(end)
                tx_out.append(text[start:end])
                le_out.append(lemma)
                nt_out.append(ntok)
            if bar is not None and k % 1000 == 999:
                bar.update(1000)
    else:
        if nlp is None:
            nlp = make_segmenter(model)
        longest = max((len(t) for t in texts), default=0)
        if longest >= nlp.max_length:
            nlp.max_length = longest + 1
        docs = nlp.pipe(texts, batch_size=batch_size)
        for k, (rid, text, doc) in enumerate(zip(ids, texts, docs, strict=True)):
            pos = 0
            for sent in doc.sents:
                toks = [t for t in sent if not t.is_space]
                if not toks:
                    continue
                start = toks[0].idx
                end = toks[-1].idx + len(toks[-1].text)
                pos += 1
                out["response_id"].append(rid)
                out["segment_id"].append(f"{rid}#s{pos}")
                out["position"].append(pos)
                out["start"].append(start)
                out["end"].append(end)
                out["text"].append(text[start:end])
                out["lemma"].append(
                    " ".join(
                        t.lemma_.lower() if t.lemma_ else t.lower_ for t in toks if not t.is_punct
                    )
                )
                out["n_tokens"].append(len(toks))
            if bar is not None and k % 1000 == 999:
                bar.update(1000)
    if bar is not None:
        bar.update(len(texts) - bar.n)
        bar.close()
    seg = pd.DataFrame(
        {
            k: pd.array(
                v, dtype="int64" if k in ("position", "start", "end", "n_tokens") else "str"
            )
            for k, v in out.items()
        }
    )
    return conform(seg, "segments")


def _progress(total: int, desc: str, show: bool) -> Any:
    """Return a tqdm bar (``tqdm.auto``) when ``show``, else ``None``."""
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="resp", unit_scale=True, leave=False)


# --------------------------------------------------------------------------- helpers


