"""De-identify survey responses: mask identifiers, keep an audit without plaintext.

Free text about racism at work is UK GDPR special-category data. :func:`deidentify`
replaces identifiers in ``text`` (and in ``question``) with typed placeholders and
returns an audit that says *what kind* of identifier was masked *where*, with a salted
HMAC-SHA256 digest of the original instead of the original.

What is masked
--------------
``[EMAIL]``
    E-mail addresses, including ``name[at]nhs[dot]net`` spellings.
``[URL]``
    ``http(s)://``, ``ftp://`` and ``www.`` addresses, and bare domains with a common
    top-level domain (``example.org/path``, ``nhs.uk``).
``[HANDLE]``
    Social-media handles (``@sam_t``).
``[NHS_NUMBER]``
    Ten digits (``9434765919``, ``943 476 5919``, ``943-476-5919``) whose modulus-11
    check digit is valid.
``[PHONE]``
    UK numbers (``07700 900123``, ``(0191) 498 0000``, ``+44 (0)20 7946 0958``) and
    international numbers written with ``+`` or ``00`` (8-15 digits).
``[POSTCODE]``
    Full UK postcodes (``LS1 4AP``, ``ne1 4lp``).
``[DATE]``
    **Every full date** (day, month and year: ``14/03/1985``, ``1985-03-14``,
    ``14th March 1985``, ``March 14, 1985``), whatever the context, and partial dates
    (month and year, a year, a day and month) after a date-of-birth cue (``DOB``,
    ``date of birth``, ``born``, ``birthday``). Years on their own and days without a
    year elsewhere are kept (they rarely identify and often carry meaning, e.g. "since
    2020").
``[NAME]``
    Names from the research team's list (case-insensitive; possessives keep their
    ``'s`` outside the placeholder; titles and initials are masked with the name:
    ``Dr Khan``, ``Dr. A. Khan``). Each listed full name also matches its parts
    (``Sam Taylor`` masks ``Sam`` and ``Taylor``) unless the part is a common English
    word that is also a name (``White``, ``Will``, ``Hope``...), which is masked only
    after a title or within the full name; a listed single word that is a common word
    is masked only when capitalised. Capitalised words after a title (``Dr Okafor``)
    are masked even when not on the list. With ``ner=True`` a trained spaCy pipeline
    adds PERSON entities.
``[ORGANISATION]``
    Organisations from the research team's list (case-insensitive); with ``ner=True``
    also ORG entities.

With ``pseudonyms=True`` names and organisations become ``[NAME_1]``,
``[ORGANISATION_2]``...: the same person or organisation gets the same number
everywhere in the table (numbered in order of first appearance; a name part shared by
two listed people gets its own number).

Masking is idempotent: placeholders are never masked again, and text that masking
exposes is searched again before the result is returned.

Engines
-------
``engine`` chooses how the name and organisation lists, and names after a title, are
matched. Every other kind is matched by the same regular expressions in both engines,
and both feed their matches through the same rules (common-word names, titles and
initials, overlaps, pseudonym and digest keys), so they give the same placeholders and
the same audit rows (kind, span, salted digest) except at the token boundaries listed
below.

``"regex"`` (default)
    The lists become one trie-shaped alternation matched case- and accent-insensitively
    on characters; a name ends wherever a letter is not followed by another letter.
    Fast enough for >10,000 responses/s on one core: use it for real runs.
``"spacy"``
    A blank English spaCy pipeline (``spacy.blank("en")``: no trained model needed;
    spaCy is imported only when this engine is built) tokenizes the text; a
    ``PhraseMatcher`` on the ``LOWER`` attribute finds every listed form (labels
    ``NAME`` and ``ORGANISATION``), and token ``Matcher`` patterns find title and
    initial prefixes (``Dr``, ``Dr. A.``, ``A. K.``) and capitalised words after a
    title. Several times slower. Use it to cross-check the regex engine on a new
    export or list (the two should agree), or as the starting point for further spaCy
    patterns. The optional NER (``ner=True``) works with either engine.

Where the engines differ (the spaCy tokenizer is extended so that letters next to
digits, Unicode hyphens, glued initials ``A.Khan`` and leading or trailing hyphens are
boundaries, as in the regex engine):

* The spaCy engine matches whole tokens. A listed name glued to other letters by
  punctuation that spaCy keeps inside one token is masked only by the regex engine: a
  full stop without a space (``sam.taylor`` outside an e-mail address, ``Ms.nct``), a
  possessive run into the next word (``Sam'sWhite``), an apostrophe inside a word
  (``O'Neill`` when only ``Neill`` is listed).
* Both engines read a whitespace run between two words after a title as one gap
  (``Dr Ama  Owusu`` is one ``[NAME]``), and a title never counts as the second word
  of a name (``Dr Khan Dr Okafor`` is two names).
* The spaCy engine counts initials by token, up to three (``A.K.`` is one), the regex
  engine by letter: ``A.K. B. C. Khan`` is ``[NAME]`` with spaCy and ``A.K. [NAME]``
  with the regex engine.
* Runs of titles (``Ms. Ms.``, ``Dr. Dr``) and initials with no name after them are
  handled differently (the regex engine reads an undotted title or a lone initial as
  a name word).

Limits
------
Pattern matching finds what it is told to find. Names that are neither listed nor
after a title, nicknames, places, job titles that identify one person ("the only
Black consultant on the ward"), and addresses or e-mails spelled out in words are not
masked (``ner=True`` helps with names when a trained pipeline is installed). Read the
de-identified text before it is shared.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .errors import InputError
from .ingest import identifying_column_names, looks_like_free_text
from .schemas import is_missing as _isna
from .schemas import validate

__all__ = [
    "KINDS",
    "ENGINES",
    "COMMON_WORD_NAMES",
    "Deidentified",
    "Deidentifier",
    "deidentify",
    "deidentify_text",
    "drop_identifying_columns",
    "read_term_list",
    "nhs_number_is_valid",
]

#: Placeholder kinds, in the order they win when two detections overlap equally.
KINDS: tuple[str, ...] = (
    "EMAIL",
    "URL",
    "HANDLE",
    "NHS_NUMBER",
    "PHONE",
    "POSTCODE",
    "DATE",
    "ORGANISATION",
    "NAME",
)
_PRIORITY = {k: i for i, k in enumerate(KINDS)}

_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS) + r")(?:_\d+)?\]")


class Deidentified(NamedTuple):
    """Result of :func:`deidentify`; unpacks as ``responses, audit``."""

    responses: pd.DataFrame
    audit: pd.DataFrame


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    key: str  # canonical identity for pseudonyms and digests


# --------------------------------------------------------------------------- patterns

# Patterns marked "low" run on the lower-cased text (same offsets): case-sensitive
# patterns on lower-cased text are much faster in `re` than IGNORECASE ones. Most
# patterns start with the characters they consume (no leading look-behind, so `re` can
# skip ahead quickly); what must not precede a match is checked by `_starts`.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_EMAIL_OBFUSCATED = re.compile(  # low
    r"(?<![\w.+-])[\w.+-]+\s*[\[(]at[\])]\s*[\w-]+(?:\s*(?:[\[(]dot[\])]|\.)\s*[\w-]+)+"
)
# bare domains only with top-level domains that are not English words ("end.in the")
_TLD = "com|org|net|uk|io|gov|edu|info|biz|app|dev|nhs|scot|wales|ly|nz|au|za|ng|pk|eu"
_URL_SCHEME = re.compile(r"(?:https?|ftp)://[^\s<>\"'`]+|www\.[^\s<>\"'`]+")  # low
_URL_BARE = re.compile(  # low
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    rf"\.(?:{_TLD})(?![\w-])(?:/[^\s<>\"'`]*)?"
)
_TLD_HINT = re.compile(rf"\.(?:{_TLD})(?![\w-])")  # low
_URL_TRAIL = ".,;:!?'\"\u2019\u201d"
_HANDLE = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")
_NHS = re.compile(r"\d(?<![\w+]\d)\d\d([ -]?)\d{3}\1\d{4}(?!\w)")
_PHONE_INTL = re.compile(
    r"(?:\+|00)[1-9]\d{0,2}(?:[\s.-]?\(0\))?(?:[\s.-]?\(?\d{1,5}\)?){1,6}(?!\d)"
)
_PHONE_UK = re.compile(r"(?:\(0\d{2,5}\)|0\d{2,5})(?:[\s.-]?\d{2,4}){1,4}(?!\d)")
_POSTCODE = re.compile(  # low
    r"(?:gir ?0aa|[a-pr-uwyz][a-hk-y]?\d[a-z\d]? ?\d[abd-hjlnp-uw-z]{2})(?!\w)"
)
# month names; only abbreviations take a dot ("Mar." but not the full stop after "May")
_MONTHS = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|jun(?:e|\.)?|"
    r"jul(?:y|\.)?|aug(?:ust|\.)?|sep(?:tember|t\.?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|"
    r"dec(?:ember|\.)?"
)
_DATE_NUMERIC = re.compile(
    r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|\.\d)"
    r"|(\d{4})([/.-])(\d{1,2})\6(\d{1,2})(?![\w/-]|\.\d)"
)
_DATE_HINT = re.compile(r"\d[/.-]\d")
_POSTCODE_HINT = re.compile(r"\d[a-z]{2}(?!\w)")  # low
_YEARISH = re.compile(r"\d{4}|'\d\d")
_DATE_NAMED = re.compile(  # low
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS}),?\s+(?:\d{{4}}|'\d{{2}})\b"
    rf"|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
)
_DOB = re.compile(  # low
    r"\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+(?:on|in))?|birthday(?:\s+is)?)\s*[:\-]?\s*"
    rf"(?P<date>\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+(?:\d{{4}}|'\d{{2}}))?"
    rf"|(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    r"|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|\d{1,2}[/.-]\d{4}|(?:19|20)\d{2})(?![\w/])"
)
_DOB_HINTS = ("born", "dob", "d.o.b", "birth")
_DIGIT = re.compile(r"\d")


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _letter(c: str) -> bool:
    return c.isalpha() or c == "_"


def _starts(
    rx: re.Pattern[str], text: str, bad: str = "", word: bool = True, letters: bool = False
) -> Iterator[re.Match[str]]:
    """Yield matches of ``rx`` not preceded by a word character (if ``word``) or by ``bad``.

    With ``letters`` only a preceding letter blocks a match (names glued to digits, as in
    ``07700900123Sam``, are still names).
    """
    pos = 0
    n = len(text)
    blocked = _letter if letters else _word
    while pos <= n:
        m = rx.search(text, pos)
        if m is None:
            return
        st = m.start()
        if st > 0 and ((word and blocked(text[st - 1])) or text[st - 1] in bad):
            pos = st + 1
            continue
        yield m
        pos = m.end() if m.end() > st else st + 1


def _lower(text: str) -> str:
    """Lower-case with the same length (offsets stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_TITLES = (
    "Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sir|Dame|Lord|Lady|Rev|Revd|Reverend|Cllr|"
    "Councillor|Sister|Matron"
)
# a title and/or initials just before a listed name ("Dr ", "Dr. A. ", "A. K. ")
_INITIALS = r"(?-i:[A-Z])"
_TITLE_PREFIX = re.compile(
    rf"(?:(?<![\w])(?:{_TITLES})\.?\s+(?:{_INITIALS}\.?\s*){{0,3}}"
    rf"|(?<![\w.])(?:{_INITIALS}\.\s*){{1,3}})$",
    re.IGNORECASE,
)
_TITLE_ONLY = re.compile(
    rf"(?<![\w])(?:{_TITLES})\.?\s+(?:{_INITIALS}\.?\s*){{0,3}}$", re.IGNORECASE
)
_LOWER = "a-z\u00df-\u00f6\u00f8-\u00ff"
_NAME_WORD = rf"[A-Z][{_LOWER}]*(?:[A-Z][{_LOWER}]+)*(?:['\u2019-][A-Z][{_LOWER}]+)*"
_TITLED_NAME = re.compile(
    rf"(?:{_TITLES})\.?\s+(?:[A-Z]\.\s*){{0,3}}(?:{_NAME_WORD}|[A-Z]{{2,}})"
    # a second name word, after any run of spaces or a hyphen, that is not itself a title
    # ("Dr Khan Dr Okafor" is two titled names, not "Dr Khan Dr" + a visible "Okafor")
    rf"(?:(?:\s+|-)(?!(?:{_TITLES})\b){_NAME_WORD})?"
    r"(?=['\u2019]s\b|\b)"
)

#: Words that are also names: masked as a name part only after a title or within the
#: full name, and as a listed single name only when capitalised.
COMMON_WORD_NAMES: frozenset[str] = frozenset(
    """
    white black brown green grey gray young long rich will hope grace joy faith rose may
    mark bill pat sue guy dawn summer amber ivy iris ruby april june august frank grant
    ray max rob sky storm hunter cook baker mason carter bishop king page wood hill field
    lane moore ward bell chance love hall head price sharp strong wise best little short
    free frost stone snow north south west east english french new power care hardy
    fair gay hale hope rich sterling golden silver gold good goodman bird fox lamb hunt
    church chapel bush park street wall well wells marsh bank banks rivers waters
    holly heather daisy poppy violet jasmine hazel willow autumn river sunny honey
    patience constance prudence charity mercy glory precious bliss victory
    ben don jack jean nick art sandy cliff dean earl glen gene miles norman victor
    """.split()
)
_PARTICLES = frozenset(
    {
        "de",
        "da",
        "del",
        "der",
        "di",
        "du",
        "la",
        "le",
        "van",
        "von",
        "bin",
        "binti",
        "al",
        "el",
        "st",
    }
)


def nhs_number_is_valid(number: str) -> bool:
    """Check an NHS number's modulus-11 check digit.

    Parameters
    ----------
    number : str
        Ten digits, spaces and hyphens ignored.

    Returns
    -------
    bool
        True when the tenth digit equals ``11 - (sum of digit_i * (11 - i)) mod 11``
        (11 read as 0; a result of 10 is never valid).
    """
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


def _canon(term: str) -> str:
    t = unicodedata.normalize("NFC", term).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(t.split())


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _trie_pattern(forms: Iterable[str]) -> str:
    trie: dict[str, Any] = {}
    for f in forms:
        node = trie
        for ch in f:
            node = node.setdefault(ch, {})
        node[""] = {}

    def char(ch: str) -> str:
        if ch == "'":
            return "['\u2019]"
        if ch == " ":
            return r"\s+"
        if ch == "-":
            return r"[-\u2010\u2011]"
        return re.escape(ch)

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [char(ch) + build(sub) for ch, sub in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + body + ")?"
        return body

    return build(trie)


class _TermMatcher:
    """Case-insensitive whole-word matcher for a list of names or organisations.

    ``forms`` (lower-cased full names, name parts and their accent-folded spellings) is
    shared by both engines; ``compile=False`` skips the regular expression (the spaCy
    engine matches the forms with a ``PhraseMatcher`` instead).
    """

    def __init__(
        self, terms: Sequence[str], *, kind: str, parts: bool, compile: bool = True
    ) -> None:
        self.kind = kind
        self.forms: dict[str, tuple[frozenset[int], bool]] = {}  # form -> (entries, part-only)
        entries: list[str] = []
        for t in terms:
            c = _canon(t)
            if len(c) < 2:
                continue
            entries.append(c)
        self.entries = entries
        full: dict[str, set[int]] = {}
        part: dict[str, set[int]] = {}
        for i, e in enumerate(entries):
            full.setdefault(e.lower(), set()).add(i)
            if parts:
                for tok in e.split():
                    tok = tok.strip(".,")
                    if len(tok) >= 2 and tok.lower() not in _PARTICLES and tok.lower() != e.lower():
                        part.setdefault(tok.lower(), set()).add(i)
        for f, ids in full.items():
            self.forms[f] = (frozenset(ids), False)
        for f, ids in part.items():
            if f not in self.forms:
                self.forms[f] = (frozenset(ids), True)
        # respondents often drop accents: "Siobhan" for "Siobhán"
        for f, info in list(self.forms.items()):
            folded = _fold(f)
            if folded != f and folded not in self.forms:
                self.forms[folded] = info
        # matched against the lower-cased text
        self.regex = (
            re.compile("(?:" + _trie_pattern(self.forms) + r")(?![^\W\d])")
            if self.forms and compile
            else None
        )

    def find(self, text: str, low: str | None = None) -> list[_Hit]:
        if self.regex is None:
            return []
        low = _lower(text) if low is None else low
        hits = []
        for m in _starts(self.regex, low, letters=True):
            start = m.start()
            prefix = None
            if self.kind == "NAME":
                pre = _TITLE_PREFIX.search(text, max(0, start - 40), start)
                if pre:
                    titled = bool(_TITLE_ONLY.search(text, max(0, start - 40), start))
                    prefix = (pre.start(), titled)
            hit = self.hit(text, m.group(0), start, m.end(), prefix)
            if hit is not None:
                hits.append(hit)
        return hits

    def hit(
        self, text: str, matched: str, start: int, end: int, prefix: tuple[int, bool] | None
    ) -> _Hit | None:
        """Turn one match of a listed form into a hit (or ``None`` if a rule drops it).

        ``matched`` is the lower-cased matched text; ``prefix`` the start of a title
        and/or initials just before the match and whether it holds a title.
        """
        form = _canon(matched).lower()
        info = self.forms.get(form)
        if info is None:  # e.g. different whitespace inside a multi-word name
            info = self.forms.get(" ".join(form.split()), (frozenset(), False))
        entries, part_only = info
        titled = False
        if prefix is not None:
            titled = prefix[1]
            hit_start = prefix[0]
        else:
            hit_start = start
        if self.kind == "NAME" and form in COMMON_WORD_NAMES and not titled:
            if part_only or not text[start].isupper():
                return None
        key = f"{self.kind}:{min(entries)}" if len(entries) == 1 else f"{self.kind}:form:{form}"
        return _Hit(hit_start, end, self.kind, key)


# --------------------------------------------------------------------------- spaCy engine

#: Engines that match the name and organisation lists (see the module docstring).
ENGINES: tuple[str, ...] = ("regex", "spacy")

# Rules added to spaCy's English tokenizer so that token boundaries fall where the
# regex engine sees word boundaries: between letters and digits ("07700900123Sam",
# "Sam2"), at Unicode hyphens between letters ("Smith\u2010Jones"), after a glued
# initial ("A.Khan") and at a hyphen that starts or ends a word ("-Sarah", "Sam-").
_SPACY_INFIXES = (
    r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])",
    r"(?<=[^\W\d_])[\u2010\u2011](?=[^\W\d_])",
    r"(?<=\b[A-Z])\.(?=[A-Z][a-z])",
)
_SPACY_PREFIXES = (r"[-\u2010\u2011](?=[^\W\d_])",)
_SPACY_SUFFIXES = (r"(?<=[^\W\d_])[-\u2010\u2011]",)
_WS_IRREGULAR = re.compile(r"\s{2,}|[^\S ]")
_WS_RUN = re.compile(r"\s+")
_TITLE_WORDS = _TITLES.split("|")
# token shapes of initials: "A", "A.", "AK", "A.K.", "A.K", "." (the dot of "A.K.Khan")
_INITIAL_SHAPES = sorted(
    {"".join(p) for n in (1, 2, 3) for p in itertools.product(("X", "X."), repeat=n)} | {"."}
)
_DOTTED_INITIAL_SHAPES = ["X.", "X.X.", "X.X.X."]
# token versions of _NAME_WORD (hyphens are tokens of their own) and of [A-Z]{2,}
_NAME_PART_TOKEN = rf"^[A-Z][{_LOWER}]*(?:[A-Z][{_LOWER}]+)*(?:['\u2019][A-Z][{_LOWER}]+)*$"
_NAME_TOKEN = rf"{_NAME_PART_TOKEN}|^[A-Z]{{2,}}$"


def _squeeze(text: str) -> tuple[str, list[int] | None]:
    r"""Collapse whitespace runs to one space; also return new -> old offsets if changed.

    The regex engine lets any whitespace run separate the words of a listed name or
    follow a title (``\s+``); spaCy makes extra whitespace a token of its own.
    """
    if not _WS_IRREGULAR.search(text):
        return text, None
    parts: list[str] = []
    pos: list[int] = []
    last = 0
    for m in _WS_RUN.finditer(text):
        parts.append(text[last : m.start()])
        pos.extend(range(last, m.start()))
        parts.append(" ")
        pos.append(m.start())
        last = m.end()
    parts.append(text[last:])
    pos.extend(range(last, len(text)))
    return "".join(parts), pos


def _spellings(form: str) -> set[str]:
    """Spell a listed form with each apostrophe and hyphen in every way the regex accepts."""
    alts = {"'": ("'", "\u2019"), "-": ("-", "\u2010", "\u2011")}
    slots = [alts.get(c, (c,)) for c in form]
    n = 1
    for s in slots:
        n *= len(s)
    if n > 64:  # pathological list entry: the plain spelling and uniform variants only
        return {form, form.replace("'", "\u2019")} | {form.replace("-", h) for h in alts["-"]}
    return {"".join(p) for p in itertools.product(*slots)}


def _leftmost_longest(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans scanning left to right, longest first at each start.

    This is the order in which a regular expression finds matches, so both engines
    choose between overlapping listed forms in the same way.
    """
    out: list[tuple[int, int]] = []
    end = -1
    for s, e in sorted(set(spans), key=lambda x: (x[0], -x[1])):
        if s >= end:
            out.append((s, e))
            end = e
    return out


def _title_patterns(attr: str, titles: list[str]) -> list[list[dict[str, Any]]]:
    """Token patterns of a title followed by whitespace: ``Dr``, ``Dr.``, ``dr .``."""
    dotted = [t + "." for t in titles]
    return [
        [{attr: {"IN": titles}, "SPACY": True}],
        [{attr: {"IN": titles}, "SPACY": False}, {"ORTH": ".", "SPACY": True}],
        [{attr: {"IN": dotted}, "SPACY": True}],
    ]


class _SpacyTerms:
    """Match the listed names and organisations with spaCy (the ``"spacy"`` engine).

    A blank English pipeline (``spacy.blank("en")``, no trained model) tokenizes the
    text; a ``PhraseMatcher`` on the ``LOWER`` attribute finds every spelling of every
    listed form (labels ``NAME`` and ``ORGANISATION``) and a token ``Matcher`` finds the
    title and initials prefixes (``Dr``, ``Dr. A.``, ``A. K.``) and, with
    ``titled_names``, capitalised words after a title. The matches go through the same
    rules as the regex engine's (:meth:`_TermMatcher.hit`), so both produce the same
    hits wherever spaCy's token boundaries agree with the regex engine's word
    boundaries.
    """

    def __init__(self, names: _TermMatcher, orgs: _TermMatcher, *, titled_names: bool) -> None:
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        nlp = _blank_english()
        self.nlp = nlp
        self.terms = {"ORGANISATION": orgs, "NAME": names}  # the regex engine's order
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for kind, terms in self.terms.items():
            spellings = sorted({v for f in terms.forms for v in _spellings(f)})
            if spellings:
                self.phrases.add(kind, list(nlp.tokenizer.pipe(spellings)))
        self.tokens = Matcher(nlp.vocab)
        # The token Matcher is slow compared with the PhraseMatcher; it runs only on docs
        # holding a token that can start one of its patterns (a title or initials).
        self.gate = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.gate.add(
            "TITLE",
            [Doc(nlp.vocab, words=[t.lower() + d]) for t in _TITLE_WORDS for d in ("", ".")],
        )
        self.gate_shape = PhraseMatcher(nlp.vocab, attr="SHAPE")
        self.gate_shape.add(
            "INITIALS",
            [Doc(nlp.vocab, words=[w]) for w in ("A.", "A.B.", "A.B.C.")]
            + [Doc(nlp.vocab, words=[w, "."]) for w in ("A", "A.B", "A.B.C")],
        )
        initials = {"SHAPE": {"IN": _INITIAL_SHAPES}, "IS_ASCII": True, "OP": "{0,3}"}
        if names.forms:
            lower_titles = [t.lower() for t in _TITLE_WORDS]
            self.tokens.add(
                "TITLE_PREFIX", [[*t, initials] for t in _title_patterns("LOWER", lower_titles)]
            )
            dotted = {"SHAPE": {"IN": _DOTTED_INITIAL_SHAPES}, "IS_ASCII": True}
            self.tokens.add(
                "INITIALS_PREFIX",
                [
                    [{**dotted, "OP": "{1,3}"}],
                    [  # "A.Khan", "A.K.Khan": the tokenizer splits "A.K", ".", "Khan"
                        {"SHAPE": {"IN": ["X", "X.X", "X.X.X"]}, "IS_ASCII": True, "SPACY": False},
                        {"ORTH": ".", "SPACY": False},
                    ],
                ],
            )
        if titled_names:
            dotted_initials = {
                "SHAPE": {"IN": _DOTTED_INITIAL_SHAPES},
                "IS_ASCII": True,
                "OP": "{0,3}",
            }
            self.tokens.add(
                "TITLED_NAME",
                [
                    [*t, dotted_initials, *body]
                    for t in _title_patterns("ORTH", _TITLE_WORDS)
                    for body in _titled_bodies()
                ],
            )

    def find(self, text: str, low: str) -> list[_Hit]:
        """Candidate NAME and ORGANISATION hits in ``text`` (``low``: its lower case)."""
        squeezed, pos = _squeeze(text)
        doc = self.nlp.make_doc(squeezed)

        def chars(start: int, end: int) -> tuple[int, int]:
            s, e = doc[start].idx, doc[end - 1].idx + len(doc[end - 1])
            return (s, e) if pos is None else (pos[s], pos[e - 1] + 1)

        strings = self.nlp.vocab.strings
        found: dict[str, list[tuple[int, int]]] = {"ORGANISATION": [], "NAME": [], "TITLED": []}
        for match_id, start, end in self.phrases(doc):
            found[strings[match_id]].append((start, end))
        prefix: dict[int, int] = {}  # a name's first token -> first token of its prefix
        titled: set[int] = set()  # first tokens of names after a title (+ initials)
        run = len(self.tokens) > 0 and (self.gate(doc) or self.gate_shape(doc))
        for match_id, start, end in self.tokens(doc) if run else ():
            label = strings[match_id]
            if label == "TITLED_NAME":
                found["TITLED"].append((start, end))
                continue
            prefix[end] = min(start, prefix.get(end, start))
            if label == "TITLE_PREFIX":
                titled.add(end)
        hits: list[_Hit] = []
        for kind, terms in self.terms.items():
            for start, end in _leftmost_longest(found[kind]):
                s, e = chars(start, end)
                pre = None
                if kind == "NAME" and start in prefix:
                    pre = (chars(prefix[start], start)[0], start in titled)
                hit = terms.hit(text, low[s:e], s, e, pre)
                if hit is not None:
                    hits.append(hit)
        for start, end in _leftmost_longest(found["TITLED"]):
            s, e = chars(start, end)
            hits.append(_Hit(s, e, "NAME", "NAME:titled:" + text[s:e].split()[-1].lower()))
        return hits


@functools.lru_cache(maxsize=1)
def _blank_english() -> Any:
    """``spacy.blank("en")`` with the tokenizer rules of the spaCy engine (built once)."""
    import spacy
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

    nlp = spacy.blank("en")
    tok, d = nlp.tokenizer, nlp.Defaults
    tok.infix_finditer = compile_infix_regex([*(d.infixes or ()), *_SPACY_INFIXES]).finditer
    tok.prefix_search = compile_prefix_regex([*(d.prefixes or ()), *_SPACY_PREFIXES]).search
    tok.suffix_search = compile_suffix_regex([*(d.suffixes or ()), *_SPACY_SUFFIXES]).search
    return nlp


def _titled_bodies() -> list[list[dict[str, Any]]]:
    """Token patterns of the name after a title: ``Okafor``, ``Smith-Jones``, ``Ama Owusu``.

    A word is a capitalised token (or an all-capitals one first), optionally joined to
    up to two more by hyphens without spaces; a second word may follow after a space.
    """

    def word(first: bool, joins: int, last_space: bool | None) -> list[dict[str, Any]]:
        rx = _NAME_TOKEN if first else _NAME_PART_TOKEN
        toks: list[dict[str, Any]] = [{"TEXT": {"REGEX": rx}}]
        for _ in range(joins):
            toks[-1]["SPACY"] = False
            toks += [{"ORTH": "-", "SPACY": False}, {"TEXT": {"REGEX": _NAME_PART_TOKEN}}]
        if last_space is not None:
            toks[-1]["SPACY"] = last_space
        return toks

    not_title = [t.lower() + d for t in _TITLE_WORDS for d in ("", ".")]
    bodies = []
    for j1 in range(3):
        bodies.append(word(True, j1, None))
        for j2 in range(3):
            second = word(False, j2, None)
            second[0]["LOWER"] = {"NOT_IN": not_title}  # "Dr Khan Dr Okafor": two names
            bodies.append([*word(True, j1, True), *second])
    return bodies


# --------------------------------------------------------------------------- detector


def _digit_span(s: str, offset: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Longest prefix of ``s`` (cut after a digit group) holding lo..hi digits."""
    count, best = 0, None
    for m in re.finditer(r"\d+", s):
        count += len(m.group(0))
        if count > hi:
            break
        if count >= lo:
            best = m.end()
    return (offset, offset + best) if best else None


class Deidentifier:
    """Find and mask identifiers in text.

    Parameters
    ----------
    names : sequence of str, optional
        People's names supplied by the research team.
    organisations : sequence of str, optional
        Organisation names (trusts, teams, services) supplied by the research team.
    titled_names : bool, default True
        Also mask capitalised words after a title (``Dr Okafor``) that are not listed.
    ner : bool or str, default False
        Add PERSON/ORG entities from a trained spaCy pipeline: ``True`` uses the first
        installed ``en_core_web_*``; a string names the pipeline. Raises
        :class:`InputError` if none is installed. Slow (hundreds of texts/s).
    engine : {"regex", "spacy"}, default "regex"
        How the name and organisation lists (and titled names) are matched: one
        compiled regular expression, or spaCy's ``PhraseMatcher`` and token ``Matcher``
        on a blank English pipeline (imported only here). The other kinds are matched
        by regular expressions with either engine. See the module docstring.

    Raises
    ------
    InputError
        If ``engine`` is not one of :data:`ENGINES` (also a ``ValueError``).
    """

    def __init__(
        self,
        names: Sequence[str] = (),
        organisations: Sequence[str] = (),
        *,
        titled_names: bool = True,
        ner: bool | str = False,
        engine: str = "regex",
    ) -> None:
        if engine not in ENGINES:
            raise InputError(
                f"unknown de-identification engine {engine!r}; choose one of "
                + ", ".join(repr(e) for e in ENGINES)
            )
        self.engine = engine
        regex = engine == "regex"
        self.names = _TermMatcher(list(names), kind="NAME", parts=True, compile=regex)
        self.organisations = _TermMatcher(
            list(organisations), kind="ORGANISATION", parts=False, compile=regex
        )
        self.titled_names = titled_names
        self._spacy = (
            None
            if regex
            else _SpacyTerms(self.names, self.organisations, titled_names=titled_names)
        )
        self.nlp = _load_ner(ner) if ner else None

    def find(self, text: str, extra: Iterable[_Hit] = ()) -> list[_Hit]:
        """Return the non-overlapping identifier spans in ``text``, in order.

        Parameters
        ----------
        text : str
            The text to search.
        extra : iterable, optional
            Further candidate hits (e.g. from NER).

        Returns
        -------
        list
            Hits with ``start``, ``end``, ``kind`` and ``key`` attributes.

        Notes
        -----
        Masking can expose an identifier that its context hid (``born1985O'Neill``: once
        the name is masked, ``1985`` ends a word and reads as a birth year). The text is
        searched again with the placeholders in place until nothing new is found, and
        the new spans are mapped back, so masking the result again changes nothing.
        """
        hits = self._resolve(text, [*self._candidates(text), *extra])
        for _ in range(5):
            if not hits:
                break
            masked, segments = _apply_mapped(text, hits)
            more = self._resolve(masked, self._candidates(masked))
            more = [h for h in more if not _PLACEHOLDER.fullmatch(masked[h.start : h.end])]
            if not more:
                break
            hits = sorted(
                [*hits, *(_to_original(h, segments) for h in more)], key=lambda h: h.start
            )
        return hits

    def _candidates(self, text: str) -> list[_Hit]:
        c: list[_Hit] = []
        add = c.append
        low = _lower(text)
        if "@" in text:
            for m in _EMAIL.finditer(text):
                add(_Hit(m.start(), m.end(), "EMAIL", "EMAIL:" + m.group(0).lower()))
            for m in _HANDLE.finditer(text):
                add(_Hit(m.start(), m.end(), "HANDLE", "HANDLE:" + m.group(0).lower()))
        if "at]" in low or "at)" in low:
            for m in _EMAIL_OBFUSCATED.finditer(low):
                add(_Hit(m.start(), m.end(), "EMAIL", "EMAIL:" + "".join(m.group(0).split())))
        urls = []
        if "://" in low or "www." in low:
            urls.extend(_starts(_URL_SCHEME, low, bad=".@-"))
        if _TLD_HINT.search(low):
            urls.extend(_starts(_URL_BARE, low, bad=".@/-"))
        for m in urls:
            u, end = m.group(0), m.end()
            while u and (u[-1] in _URL_TRAIL or (u[-1] == ")" and u.count("(") < u.count(")"))):
                u, end = u[:-1], end - 1
            if "." in u:
                add(_Hit(m.start(), end, "URL", "URL:" + u))
        if _DIGIT.search(text):
            for m in _NHS.finditer(text):
                if nhs_number_is_valid(m.group(0)):
                    add(
                        _Hit(
                            m.start(),
                            m.end(),
                            "NHS_NUMBER",
                            "NHS_NUMBER:" + re.sub(r"\D", "", m.group(0)),
                        )
                    )
            for rx, lo, hi in ((_PHONE_INTL, 8, 15), (_PHONE_UK, 10, 11)):
                for m in _starts(rx, text, bad="+"):
                    span = _digit_span(m.group(0), m.start(), lo, hi)
                    if span:
                        digits = re.sub(r"\D", "", text[span[0] : span[1]])
                        add(_Hit(span[0], span[1], "PHONE", "PHONE:" + digits))
            for m in _starts(_POSTCODE, low) if _POSTCODE_HINT.search(low) else ():
                orig = text[m.start() : m.end()]
                if re.search(r"\d(?:st|nd|rd|th)$", orig):  # "No1 2nd", not a postcode
                    continue
                add(
                    _Hit(
                        m.start(), m.end(), "POSTCODE", "POSTCODE:" + orig.replace(" ", "").upper()
                    )
                )
            for m in _starts(_DATE_NUMERIC, text, bad="/.-") if _DATE_HINT.search(text) else ():
                if m.group(1):
                    a, b = int(m.group(1)), int(m.group(3))
                    ok = (1 <= a <= 31 and 1 <= b <= 12) or (1 <= b <= 31 and 1 <= a <= 12)
                    if m.group(2) == "." and len(m.group(4)) != 4:
                        ok = False
                else:
                    mo, d = int(m.group(7)), int(m.group(8))
                    ok = 1 <= mo <= 12 and 1 <= d <= 31
                if ok:
                    add(_Hit(m.start(), m.end(), "DATE", "DATE:" + m.group(0)))
            if _YEARISH.search(text):
                for m in _starts(_DATE_NAMED, low):
                    add(_Hit(m.start(), m.end(), "DATE", "DATE:" + m.group(0)))
            if any(h in low for h in _DOB_HINTS):
                for m in _DOB.finditer(low):
                    add(_Hit(m.start("date"), m.end("date"), "DATE", "DATE:" + m.group("date")))
        if self._spacy is not None:
            c.extend(self._spacy.find(text, low))
            return c
        c.extend(self.organisations.find(text, low))
        c.extend(self.names.find(text, low))
        if self.titled_names:
            for m in _starts(_TITLED_NAME, text, letters=True):
                surname = m.group(0).split()[-1].lower()
                add(_Hit(m.start(), m.end(), "NAME", "NAME:titled:" + surname))
        return c

    @staticmethod
    def _resolve(text: str, cands: list[_Hit]) -> list[_Hit]:
        if not cands:
            return []
        taken: list[tuple[int, int]] = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
        chosen: list[_Hit] = []
        for h in sorted(cands, key=lambda h: (-(h.end - h.start), _PRIORITY[h.kind], h.start)):
            if h.end <= h.start:
                continue
            if any(h.start < e and s < h.end for s, e in taken):
                continue
            taken.append((h.start, h.end))
            chosen.append(h)
        chosen.sort(key=lambda h: h.start)
        return chosen

    def mask(self, text: str, numbering: dict[str, int] | None = None) -> tuple[str, list[_Hit]]:
        """Replace the identifiers in ``text`` with placeholders.

        Parameters
        ----------
        text : str
            The text.
        numbering : dict, optional
            Pseudonym numbers by identity key, updated in place; when given, names and
            organisations become ``[NAME_n]`` / ``[ORGANISATION_n]``.

        Returns
        -------
        tuple
            The masked text and the hits (spans in the *input* text).
        """
        hits = self.find(text)
        return _apply(text, hits, numbering), hits


def _apply_mapped(text: str, hits: list[_Hit]) -> tuple[str, list[tuple[int, int, int]]]:
    """Mask ``text``; also return its unmasked stretches as (masked start, start, length)."""
    parts, segments, pos, out_len = [], [], 0, 0
    for h in hits:
        segments.append((out_len, pos, h.start - pos))
        parts.append(text[pos : h.start])
        out_len += h.start - pos
        label = f"[{h.kind}]"
        parts.append(label)
        out_len += len(label)
        pos = h.end
    segments.append((out_len, pos, len(text) - pos))
    parts.append(text[pos:])
    return "".join(parts), segments


def _to_original(h: _Hit, segments: list[tuple[int, int, int]]) -> _Hit:
    for mstart, ostart, length in segments:
        if mstart <= h.start and h.end <= mstart + length:
            return _Hit(ostart + h.start - mstart, ostart + h.end - mstart, h.kind, h.key)
    raise AssertionError("a new hit spans a placeholder")  # pragma: no cover - _resolve prevents it


def _apply(text: str, hits: list[_Hit], numbering: dict[str, int] | None) -> str:
    if not hits:
        return text
    parts, pos = [], 0
    for h in hits:
        parts.append(text[pos : h.start])
        label = h.kind
        if numbering is not None and h.kind in ("NAME", "ORGANISATION"):
            n = numbering.get(h.key)
            if n is None:
                n = sum(1 for k in numbering if k.startswith(h.kind + ":")) + 1
                numbering[h.key] = n
            label = f"{h.kind}_{n}"
        parts.append(f"[{label}]")
        pos = h.end
    parts.append(text[pos:])
    return "".join(parts)


def _load_ner(ner: bool | str) -> Any:
    import spacy

    names = (
        [ner]
        if isinstance(ner, str)
        else ["en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf"]
    )
    for name in names:
        if spacy.util.is_package(name):
            return spacy.load(name, disable=["lemmatizer"])
    raise InputError(
        "ner=True needs a trained spaCy pipeline (e.g. en_core_web_sm), which is not installed; "
        "rely on the name and organisation lists instead"
    )


# --------------------------------------------------------------------------- table API


def _digest(salt: bytes, key: str) -> str:
    return hmac.new(salt, key.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def deidentify(
    df: pd.DataFrame,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    *,
    pseudonyms: bool = False,
    salt: str | bytes | None = None,
    ner: bool | str = False,
    titled_names: bool = True,
    columns: Sequence[str] = ("text", "question"),
    engine: str = "regex",
) -> Deidentified:
    """Mask identifiers in the responses and audit every mask without plaintext.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table, normally cleaned by :func:`thematic.clean.clean_responses`.
    names, organisations : sequence of str
        Names and organisations supplied by the research team
        (:func:`read_term_list` reads them from a file).
    pseudonyms : bool, default False
        Number names and organisations consistently (``[NAME_1]``) instead of
        ``[NAME]``.
    salt : str or bytes, optional
        Secret key of the HMAC-SHA256 digests in the audit. Default: a random salt per
        call, so digests cannot be compared across runs. Pass the same secret (never
        committed) to make them comparable; anyone with the salt can test guesses.
    ner : bool or str, default False
        Also mask PERSON/ORG entities found by a trained spaCy pipeline (see
        :class:`Deidentifier`).
    titled_names : bool, default True
        Mask capitalised words after a title even when not listed.
    columns : sequence of str, default ("text", "question")
        Columns to de-identify (those present). ``text_raw`` is never touched: it is
        the raw export and must not be published (see :func:`drop_identifying_columns`).
    engine : {"regex", "spacy"}, default "regex"
        How names, organisations and titled names are matched (see the module
        docstring). Both engines give the same placeholders, keys and audit rows
        except at the token-boundary cases listed there.

    Returns
    -------
    Deidentified
        ``(responses, audit)``. ``audit`` (schema ``audit``, ``stage == "deidentify"``,
        ``action == "mask"``, ``reason`` = kind) has one row per masked span with
        extra columns ``column``, ``kind``, ``start``, ``end`` (span in the text before
        masking) and ``digest`` (first 16 hex digits of the HMAC-SHA256 of the kind and
        the normalised original). Rows of other columns than ``text`` are audited once
        per distinct value (``response_id`` missing).

    Raises
    ------
    InputError
        If ``engine`` is unknown, or ``columns`` includes ``text_raw``.
    """
    df = validate(df, "responses")
    key = (
        secrets.token_bytes(32)
        if salt is None
        else (salt.encode("utf-8") if isinstance(salt, str) else salt)
    )
    det = Deidentifier(names, organisations, titled_names=titled_names, ner=ner, engine=engine)
    numbering: dict[str, int] | None = {} if pseudonyms else None
    out = df.copy()
    audit: list[dict[str, Any]] = []
    for col in columns:
        if col not in out.columns:
            continue
        if col == "text_raw":
            raise InputError(
                "text_raw is the raw export and is never de-identified in place; drop it instead"
            )
        values = out[col].tolist()
        per_row = col == "text"
        ner_hits = _ner_hits(det, values) if det.nlp is not None else None
        ids = out["response_id"].tolist()
        masked: list[Any] = []
        done: dict[str, str] = {}
        for i, v in enumerate(values):
            if v is None or _isna(v):
                masked.append(None)
                continue
            if not per_row and v in done:
                masked.append(done[v])
                continue
            hits = det.find(v, ner_hits[i] if ner_hits is not None else ())
            new = _apply(v, hits, numbering)
            masked.append(new)
            if not per_row:
                done[v] = new
            for h in hits:
                audit.append(
                    {
                        "response_id": ids[i] if per_row else None,
                        "stage": "deidentify",
                        "action": "mask",
                        "reason": h.kind,
                        "detail": f"{col}[{h.start}:{h.end}] hmac-sha256 {_digest(key, h.key)}",
                        "column": col,
                        "kind": h.kind,
                        "start": h.start,
                        "end": h.end,
                        "digest": _digest(key, h.key),
                    }
                )
        out[col] = pd.array(masked, dtype="str")
    attrs = dict(df.attrs)
    out = validate(out, "responses")
    out.attrs = attrs
    return Deidentified(out, _mask_audit(audit))


def _ner_hits(det: Deidentifier, values: list[Any]) -> list[list[_Hit]]:
    texts = ["" if v is None or _isna(v) else str(v) for v in values]
    out: list[list[_Hit]] = []
    for doc in det.nlp.pipe(texts):
        hits = []
        for ent in doc.ents:
            kind = {"PERSON": "NAME", "ORG": "ORGANISATION"}.get(ent.label_)
            if kind:
                hits.append(
                    _Hit(ent.start_char, ent.end_char, kind, f"{kind}:ner:{ent.text.casefold()}")
                )
        out.append(hits)
    return out


def deidentify_text(
    text: str,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    *,
    titled_names: bool = True,
    engine: str = "regex",
) -> str:
    """Mask identifiers in one string (convenience wrapper of :class:`Deidentifier`).

    Parameters
    ----------
    text : str
        The text.
    names, organisations : sequence of str
        Names and organisations to mask.
    titled_names : bool, default True
        Mask capitalised words after a title.
    engine : {"regex", "spacy"}, default "regex"
        How names and organisations are matched (see :class:`Deidentifier`).

    Returns
    -------
    str
        The text with typed placeholders.

    Raises
    ------
    InputError
        If ``engine`` is unknown.

    Examples
    --------
    >>> deidentify_text("Email sam@example.org or call 07700 900123", names=["Sam"])
    'Email [EMAIL] or call [PHONE]'
    """
    det = _cached_deidentifier(tuple(names), tuple(organisations), titled_names, engine)
    return det.mask(text)[0]


@functools.lru_cache(maxsize=8)
def _cached_deidentifier(
    names: tuple[str, ...], orgs: tuple[str, ...], titled: bool, engine: str
) -> Deidentifier:
    return Deidentifier(names, orgs, titled_names=titled, engine=engine)


def read_term_list(path: str | os.PathLike[str]) -> list[str]:
    """Read a names or organisations file: one term per line, ``#`` starts a comment.

    Parameters
    ----------
    path : str or os.PathLike
        UTF-8 text file (a BOM is accepted). Blank lines are skipped; a ``#`` at the
        start of a line or after whitespace starts a comment.

    Returns
    -------
    list of str
        The terms, in file order, without duplicates.

    Raises
    ------
    InputError
        If the file is missing or not UTF-8 (naming the line).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("term list not found", path=p)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 (byte offset {exc.start}); save the list as UTF-8", path=p, row=line
        ) from None
    out: list[str] = []
    seen = set()
    for line in text.splitlines():
        term = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            out.append(term)
    return out


def drop_identifying_columns(
    df: pd.DataFrame, *, keep: Iterable[str] = (), drop: Iterable[str] = ()
) -> Deidentified:
    """Drop columns that identify respondents before a table is shared.

    Dropped: ``text_raw`` (the raw, not de-identified export); metadata columns named
    like e-mail, name, IP address, location, phone, address, recipient fields or
    precise timestamps (:func:`thematic.ingest.identifying_column_names`, plus those
    ingest recorded); metadata columns holding free text that was not de-identified
    (:func:`thematic.ingest.looks_like_free_text`); and ``drop``.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table.
    keep : iterable of str
        Columns to keep even if they match.
    drop : iterable of str
        Further columns to drop.

    Returns
    -------
    Deidentified
        ``(responses, audit)``; one ``drop_column`` audit row per column (detail: the
        column name and why).
    """
    keep_set = set(keep)
    core = {
        "response_id", "respondent_id", "question", "question_id", "group", "session", "text",
        "exclude", "exclude_reason", "source_file", "source_row", "source_format",
    }  # fmt: skip
    reasons: dict[str, str] = {}
    if "text_raw" in df.columns:
        reasons["text_raw"] = "raw export text (not de-identified)"
    recorded = df.attrs.get("thematic_ingest", {}).get("identifying_columns", [])
    for c in [*recorded, *identifying_column_names(df.columns)]:
        if c in df.columns:
            reasons.setdefault(c, "identifying metadata")
    for c in df.columns:
        if c in core or c in reasons or c.startswith("flag_") or c == "text_raw":
            continue
        if df[c].dtype == bool:
            continue
        sub = (
            df[[c, "respondent_id"]].drop_duplicates() if "respondent_id" in df.columns else df[[c]]
        )
        if looks_like_free_text(sub[c].tolist()):
            reasons[c] = "free text that was not de-identified"
    for c in drop:
        if c not in df.columns:
            raise InputError(f"cannot drop column {c!r}: no such column", column=c)
        reasons.setdefault(c, "dropped on request")
    cols = [c for c in df.columns if c in reasons and c not in keep_set]
    audit = [
        {
            "response_id": None,
            "stage": "deidentify",
            "action": "drop_column",
            "reason": reasons[c],
            "detail": c,
        }
        for c in cols
    ]
    out = df.drop(columns=cols)
    out.attrs = dict(df.attrs)
    return Deidentified(out, _mask_audit(audit))


def _mask_audit(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["response_id", "stage", "action", "reason", "detail"]
    data: dict[str, Any] = {c: pd.array([r.get(c) for r in rows], dtype="str") for c in cols}
    if any("kind" in r for r in rows) or not rows:
        data["column"] = pd.array([r.get("column") for r in rows], dtype="str")
        data["kind"] = pd.array([r.get("kind") for r in rows], dtype="str")
        data["start"] = pd.array([r.get("start") for r in rows], dtype="Int64")
        data["end"] = pd.array([r.get("end") for r in rows], dtype="Int64")
        data["digest"] = pd.array([r.get("digest") for r in rows], dtype="str")
    return validate(pd.DataFrame(data), "audit")
