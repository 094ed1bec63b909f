r"""Clean survey responses: normalise text, flag what cannot be analysed, segment.

The pipeline is ``read_export -> clean_responses -> deidentify -> segment``. ``text_raw``
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
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from .errors import InputError
from .schemas import audit_frame as _audit_frame
from .schemas import is_missing as _isna
from .schemas import validate

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = [
    "DEFAULT_NON_ANSWERS",
    "FLAG_COLUMNS",
    "Cleaned",
    "clean_text",
    "is_non_answer",
    "clean_responses",
    "analysable",
    "load_pipeline",
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
    """
    df = validate(df, "responses")
    keys = (
        DEFAULT_NON_ANSWERS
        if non_answers is None
        else frozenset(_answer_key(n) for n in non_answers)
    )
    out = df.copy()
    ids = out["response_id"].tolist()
    texts = out["text"].tolist()
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
    n = len(out)
    empty = [c is None for c in cleaned]
    non_answer = [not e and _is_non_answer(c, keys) for e, c in zip(empty, cleaned, strict=True)]  # type: ignore[arg-type]
    substantive = [not e and not na for e, na in zip(empty, non_answer, strict=True)]
    duplicate = [False] * n
    resubmission = [False] * n
    detail: dict[int, str] = {}
    qcol = "question_id" if "question_id" in out.columns else "question"
    questions = [q if isinstance(q, str) else "" for q in out[qcol].tolist()]
    respondents = [r if isinstance(r, str) else None for r in out["respondent_id"].tolist()]
    dkeys = [_dup_key(c) if s else "" for c, s in zip(cleaned, substantive, strict=True)]  # type: ignore[arg-type]
    nwords = [len(c.split()) if s else 0 for c, s in zip(cleaned, substantive, strict=True)]  # type: ignore[union-attr]

    # same respondent, same question
    by_rq: dict[tuple[str, str], list[int]] = {}
    for i in range(n):
        if substantive[i] and respondents[i] is not None:
            by_rq.setdefault((respondents[i], questions[i]), []).append(i)
    for rows in by_rq.values():
        if len(rows) < 2:
            continue
        first_of: dict[str, int] = {}
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
    # different respondents, same long answer to the same question
    first_long: dict[tuple[str, str], int] = {}
    for i in range(n):
        if not substantive[i] or duplicate[i] or resubmission[i]:
            continue
        if nwords[i] < duplicate_min_words:
            continue
        k = (questions[i], dkeys[i])
        if k in first_long:
            duplicate[i] = True
            detail[i] = f"duplicate of {ids[first_long[k]]}"
        else:
            first_long[k] = i
    # whole submissions identical to an earlier one
    if {"source_file", "source_row"} <= set(out.columns):
        subs = list(zip(out["source_file"].tolist(), out["source_row"].tolist(), strict=True))
    else:
        subs = [(r, None) if r is not None else (None, i) for i, r in enumerate(respondents)]
    rows_of: dict[Any, list[int]] = {}
    for i, s in enumerate(subs):
        rows_of.setdefault(s, []).append(i)
    seen_sig: dict[tuple[Any, ...], int] = {}
    for rows in rows_of.values():
        if sum(nwords[i] for i in rows) < duplicate_min_words:
            continue
        sig = tuple(sorted((questions[i], dkeys[i]) for i in rows))
        if sig in seen_sig:
            for i in rows:
                if substantive[i] and not duplicate[i] and not resubmission[i]:
                    duplicate[i] = True
                    detail[i] = f"same submission as {ids[seen_sig[sig]]}"
        else:
            seen_sig[sig] = rows[0]

    out["text"] = pd.array(cleaned, dtype="str")
    out["flag_empty"] = empty
    out["flag_non_answer"] = non_answer
    out["flag_duplicate"] = duplicate
    out["flag_resubmission"] = resubmission
    flag_cols = [c for c in out.columns if c.startswith("flag_")]
    if not exclude_unfinished:
        flag_cols = [c for c in flag_cols if c != "flag_unfinished"]
    order = {f"flag_{r}": k for k, r in enumerate(_REASON_ORDER)}
    flag_cols.sort(key=lambda c: (order.get(c, len(order)), c))
    flags = {c: out[c].fillna(False).astype(bool).tolist() for c in flag_cols}
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
                    "detail": detail.get(i),
                }
            )
    out["exclude"] = exclude
    out["exclude_reason"] = pd.array(reasons, dtype="str")
    attrs = dict(df.attrs)
    out = validate(out, "responses")
    out.attrs = attrs
    return Cleaned(out, _audit_frame(audit))


def analysable(df: pd.DataFrame) -> pd.DataFrame:
    """Return the rows left for analysis (``exclude`` false), in order.

    Parameters
    ----------
    df : pandas.DataFrame
        A table returned by :func:`clean_responses` (or a later stage).

    Raises
    ------
    InputError
        If ``df`` has no ``exclude`` column (it was not cleaned).
    """
    if "exclude" not in df.columns:
        raise InputError(
            "the table has no 'exclude' column: run thematic.clean.clean_responses first"
        )
    return df.loc[~df["exclude"].astype(bool)].reset_index(drop=True)


# --------------------------------------------------------------------------- segmentation

_TRAINED = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


@functools.lru_cache(maxsize=4)
def load_pipeline(model: str = "blank") -> Language:
    """Return the spaCy pipeline used for segmentation.

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


def segment(
    df: pd.DataFrame,
    *,
    model: str = "blank",
    nlp: Language | None = None,
    include_excluded: bool = False,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Split responses into sentences with character offsets into ``text``.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table; rows excluded by :func:`clean_responses` are skipped
        unless ``include_excluded``. Rows without text give no segments.
    model : str, default "blank"
        Passed to :func:`load_pipeline` when ``nlp`` is not given.
    nlp : spacy.language.Language, optional
        A pipeline to use instead (it must set sentence boundaries).
    include_excluded : bool, default False
        Segment excluded rows too.
    batch_size : int, default 256
        Passed to ``nlp.pipe``.

    Returns
    -------
    pandas.DataFrame
        Schema ``segments``: ``response_id, segment_id`` (``f"{response_id}#s{n}"``),
        ``position`` (1-based), ``start, end`` with ``text[start:end] == segment text``
        (leading and trailing whitespace excluded), ``text``, ``lemma`` (lower-cased
        lemmas of the word tokens, space-separated) and ``n_tokens``.
    """
    df = validate(df, "responses")
    rows = (
        df
        if include_excluded or "exclude" not in df.columns
        else df.loc[~df["exclude"].astype(bool)]
    )
    rows = rows.loc[rows["text"].notna()]
    ids = rows["response_id"].tolist()
    texts = [str(t) for t in rows["text"].tolist()]
    if nlp is None:
        nlp = load_pipeline(model)
    longest = max((len(t) for t in texts), default=0)
    if longest >= nlp.max_length:
        nlp.max_length = longest + 1
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "response_id",
            "segment_id",
            "position",
            "start",
            "end",
            "text",
            "lemma",
            "n_tokens",
        )
    }
    for rid, text, doc in zip(ids, texts, nlp.pipe(texts, batch_size=batch_size), strict=True):
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
                " ".join(t.lemma_.lower() if t.lemma_ else t.lower_ for t in toks if not t.is_punct)
            )
            out["n_tokens"].append(len(toks))
    seg = pd.DataFrame(
        {
            k: pd.array(
                v, dtype="int64" if k in ("position", "start", "end", "n_tokens") else "str"
            )
            for k, v in out.items()
        }
    )
    return validate(seg, "segments")


# --------------------------------------------------------------------------- helpers


