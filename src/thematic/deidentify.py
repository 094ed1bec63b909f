"""De-identify survey responses: mask identifiers, keep an audit without plaintext.

Free text about racism at work is UK GDPR special-category data. :func:`deidentify_responses`
replaces identifiers in ``text`` (and in ``question``) with typed placeholders and
returns an audit that says *what kind* of identifier was masked *where*, with a salted
HMAC-SHA256 digest of the original instead of the original.

What is masked
--------------
``[EMAIL]``
    E-mail addresses, including spelled-out ones: ``name[at]nhs[dot]net``,
    ``joy(at)example(dot)co(dot)uk``, ``joy at example dot org`` (bare "at"/"dot"
    words only when the last word is a known top-level domain).
``[URL]``
    ``http(s)://``, ``ftp://`` and ``www.`` addresses, and bare domains with a common
    top-level domain (``example.org/path``, ``nhs.uk``).
``[HANDLE]``
    Social-media handles (``@sam_t``).
``[NHS_NUMBER]``
    Ten digits (``9434765919``, ``943 476 5919``, ``943-476-5919``) whose modulus-11
    check digit is valid, and NHS-shaped numbers whose check digit fails when a cue
    precedes them ("NHS number", "no.", "patient"...): audited "check digit not valid".
``[NI_NUMBER]``
    National Insurance numbers (``QQ 12 34 56 C``, ``QQ123456C``; lower case after
    an "NI"/"national insurance" cue).
``[PHONE]``
    UK numbers (``07700 900123``, ``(0191) 498 0000``, ``+44 (0)20 7946 0958``),
    international numbers written with ``+`` or ``00`` (8-15 digits), and the number
    of an extension, bleep or pager (``ext. [PHONE]``, ``bleep [PHONE]``).
``[STAFF_ID]``
    The number after a staff, payroll, employee, assignment, ESR, badge or user cue
    (``staff no. [STAFF_ID]``, ``employee ID [STAFF_ID]`` for ``E123456``).
``[POSTCODE]``
    Full UK postcodes (``LS1 4AP``, ``ne1 4lp``, ``LS1  4AP``).
``[DATE]``
    **Every full date** (day, month and year: ``14/03/1985``, ``1985-03-14``,
    ``14th March 1985``, ``March 14, 1985``), whatever the context, and partial dates
    (month and year, a year, a day and month) after a date-of-birth cue (``DOB``,
    ``date of birth``, ``year of birth``, ``born``, ``born back in``, ``b.``,
    ``birthday``). Years on their own and days without a
    year elsewhere are kept (they rarely identify and often carry meaning, e.g. "since
    2020").
``[NAME]``
    Names from the research team's list (case-insensitive; possessives keep their
    ``'s`` outside the placeholder; titles and initials are masked with the name:
    ``Dr Khan``, ``Dr. A. Khan``). Each listed full name also matches its parts
    (``Sam Taylor`` masks ``Sam`` and ``Taylor``) unless the part is a common English
    word that is also a name (``White``, ``Will``, ``Hope``...), which is masked only
    after a title or within the full name, or (for words that are mostly given names:
    ``Joy``, ``Grace``) when capitalised in mid-sentence or before ``'s``; a listed
    single word that is a common word is masked only when capitalised. Up to three
    capitalised words after a title are masked even when not on the list, in any script
    (``Sister Marek Zieliński``, ``Dr Okafor``): titles are ``Dr Mr Mrs Ms Mx Prof Rev
    Revd Cllr Fr`` (with or without a full stop), ``Miss Sir Dame Lord Lady Professor
    Reverend Councillor Sister Matron Nurse Doctor Father Imam Rabbi Pastor`` (no full
    stop: "the Lord. We" is no name), and ``nurse sister matron doctor professor`` in
    lower case; words in :data:`NOT_NAMES_AFTER_TITLE` ("Nurse Practitioner") are not
    names. "Consultant" is a grade, not a title. With ``ner=True`` a trained spaCy
    pipeline adds PERSON entities.
``[ORGANISATION]``
    Organisations from the research team's list (case-insensitive); with ``ner=True``
    also ORG entities.

With ``pseudonyms=True`` names and organisations become ``[NAME_1]``,
``[ORGANISATION_2]``...: the same person or organisation gets the same number
everywhere in the table (numbered in order of first appearance; a name part shared by
two listed people gets its own number).

Masking is idempotent: placeholders are never masked again, and text that masking
exposes is searched again before the result is returned.

How the lists are matched
-------------------------
The name and organisation lists become one trie-shaped alternation matched case- and
accent-insensitively on characters; a name ends wherever a letter is not followed by
another letter, and any whitespace run may separate the words of a listed name or follow
a title (``Dr Ama  Owusu`` is one ``[NAME]``); a title never counts as the second word
of a name (``Dr Khan Dr Okafor`` is two names). It runs at more than 10,000
responses/s on one core. The test suite cross-checks it against an independent spaCy
``PhraseMatcher``/``Matcher`` oracle (``tests/_spacy_oracle.py``), which must give the
same placeholders and audit rows except at the token boundaries that oracle documents.

Not masked (not identifiers on their own, and often meaningful): pay bands
(``Band 6``), ward and room numbers (``ward 12``), percentages, counts, scores, times,
meeting dates without a year, and years without a birth cue (``since 2019``).

Public tables and names nobody listed
-------------------------------------
:func:`safe_table` keeps only known-safe columns (:data:`SAFE_COLUMNS`, cleaning's
flags and the columns the user names), drops and audits every other one, and replaces
respondent and response ids by salted HMAC-SHA256 pseudonyms (:func:`read_salt` keeps
the salt in a file outside the repository). :func:`name_candidates` lists the words
that may be names nobody listed, with their context, for the team to confirm into the
names list (:func:`confirm_names`, :func:`write_term_list`) before anything is shared.

Every pattern runs in time linear in the length of the text (possessive quantifiers,
no restarts inside a consumed run; see the comment above the patterns), and pseudonym
numbering is linear in the number of identities (:class:`PseudonymNumbering`).

Limits
------
Pattern matching finds what it is told to find. Names that are neither listed nor
after a title, nicknames, places, job titles that identify one person ("the only
Black consultant on the ward"), and addresses written out in words are not masked:
the review list (:func:`name_candidates`) and ``ner=True`` (when a trained pipeline is
installed) help with names. Read the de-identified text before it is shared.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import hmac
import itertools
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .errors import InputError
from .ingest import identifying_column_names, looks_like_free_text
from .schemas import conform
from .schemas import is_missing as _isna

__all__ = [
    "KINDS",
    "COMMON_WORD_NAMES",
    "Deidentified",
    "Deidentifier",
    "deidentify_responses",
    "deidentify_text",
    "drop_identifying_columns",
    "read_term_list",
    "write_term_list",
    "nhs_number_is_valid",
    "NOT_NAMES_AFTER_TITLE",
    "PseudonymNumbering",
    "SAFE_COLUMNS",
    "safe_table",
    "pseudonymise_ids",
    "read_salt",
    "name_candidates",
    "confirm_names",
]

#: Placeholder kinds, in the order they win when two detections overlap equally.
KINDS: tuple[str, ...] = (
    "EMAIL",
    "URL",
    "HANDLE",
    "NHS_NUMBER",
    "NI_NUMBER",
    "PHONE",
    "STAFF_ID",
    "POSTCODE",
    "DATE",
    "ORGANISATION",
    "NAME",
)
_PRIORITY = {k: i for i, k in enumerate(KINDS)}

_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS) + r")(?:_\d+)?\]")


class Deidentified(NamedTuple):
    """Result of :func:`deidentify_responses`; unpacks as ``responses, audit``."""

    responses: pd.DataFrame
    audit: pd.DataFrame


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    key: str  # canonical identity for pseudonyms and digests
    note: str = ""  # e.g. "unchecked": an NHS-shaped number whose check digit fails


# --------------------------------------------------------------------------- patterns

# Patterns marked "low" run on the lower-cased text (same offsets): case-sensitive
# patterns on lower-cased text are much faster in `re` than IGNORECASE ones. Most
# patterns start with the characters they consume (no leading look-behind, so `re` can
# skip ahead quickly); what must not precede a match is checked by `_starts`.
#
# Every pattern runs in time linear in the length of the text: runs of characters that
# could be read in several ways (dotted labels, whitespace, digits) are consumed with
# possessive quantifiers (``*+``, ``++``) or atomic groups, so a failed match never
# retries every split of a long run, and no pattern can restart inside a run it has
# already consumed. ``tests/test_deidentify.py`` runs 200,000-character hostile strings
# of each shape; ``benchmarks/bench_clean.py`` prints how the time scales from n to 4n.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]++@[A-Za-z0-9](?>[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?>\.[A-Za-z0-9](?>[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
# e-mail addresses spelled out: name[at]nhs[dot]net, joy (at) example (dot) co (dot) uk,
# joy at example dot org (bare words only with at least one " dot " and a known
# top-level domain: see _obfuscated_email_ok)
_OBF_AT = r"(?:\s*+[\[({<]\s*+at\s*+[\])}>]\s*+|\s++at\s++)"
_OBF_DOT = r"(?:\s*+[\[({<]\s*+dot\s*+[\])}>]\s*+|\s++dot\s++|\.)"
_EMAIL_OBFUSCATED = re.compile(  # low
    rf"(?<![\w.+-])[\w.+-]++{_OBF_AT}[a-z0-9-]++(?:{_OBF_DOT}[a-z0-9-]++)++"
)
_OBF_HINTS = ("at]", "at)", "at}", "at>", " dot ")
# bare domains only with top-level domains that are not English words ("end.in the")
_TLD = "com|org|net|uk|io|gov|edu|info|biz|app|dev|nhs|scot|wales|ly|nz|au|za|ng|pk|eu"
_TLDS = frozenset(_TLD.split("|"))
_URL_SCHEME = re.compile(r"(?<![\w.@-])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]++")  # low
# a maximal run of dot-separated labels; which prefix is a domain is decided in Python
# (the old single pattern retried every start inside a long dotted run: quadratic)
_DOTTED_RUN = re.compile(r"(?<![\w.@/-])[a-z0-9][a-z0-9-]*+(?:\.[a-z0-9][a-z0-9-]*+)++")  # low
_URL_PATH = re.compile(r"/[^\s<>\"'`]*+")
_TLD_HINT = re.compile(rf"\.(?:{_TLD})(?![\w-])")  # low
_URL_TRAIL = ".,;:!?'\"\u2019\u201d"
_HANDLE = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")
_NHS = re.compile(r"\d(?<![\w+]\d)\d\d([ -]?)\d{3}\1\d{4}(?!\w)")
# an NHS-shaped number whose check digit fails is still masked when the words before it
# say what it is ("NHS number 123 456 7890", "NHS no: 1234567890")
_NHS_CUE = re.compile(r"(?<![a-z])(?:nhs|number|num|no|id|patient|hospital|chi)(?![a-z])")
_PHONE_INTL = re.compile(
    r"(?:\+(?<![\w+]\+)|0(?<![\w+]0)0)[1-9]\d{0,2}(?:[\s.-]?\(0\))?(?:[\s.-]?\(?\d{1,5}\)?){1,6}(?!\d)"
)
_PHONE_UK = re.compile(
    r"(?:\((?<![\w+]\()0\d{2,5}\)|0(?<![\w+]0)\d{2,5})(?:[\s.-]?\d{2,4}){1,4}(?!\d)"
)
# extensions and bleeps: only the number is masked ("ext. [PHONE]", "bleep [PHONE]")
_EXTENSION = re.compile(  # low
    r"(?<![a-z])(?:ext(?:ension|n)?|bleep|blp|pager)\.?"
    r"(?:\s*+(?:no\.?|number|num|#))?(?:\s*+(?:on|is|:|-|#))?\s*+(\d{3,6})(?![\d/.:,]\d)(?!\w)"
)
_EXTENSION_HINTS = ("ext", "bleep", "blp", "pager")
# National Insurance numbers: two letters, three pairs of digits, optional suffix A-D
_NI_NUMBER = re.compile(
    r"[A-Z](?<!\w[A-Z])[A-Z][ \t]?+\d\d[ \t]?+\d\d[ \t]?+\d\d(?:[ \t]?+[A-D])?(?![\w])"
)
_NI_NUMBER_LOW = re.compile(  # low; only after an NI cue
    r"(?<![a-z])(?:ni|nino|national\s++insurance)(?:\s*+(?:no\.?|number|num|#))?"
    r"(?:\s*+(?:is|:|-))?\s*+([a-z]{2}[ \t]?+\d\d[ \t]?+\d\d[ \t]?+\d\d(?:[ \t]?+[a-d])?)(?![\w])"
)
# staff, payroll, employee, assignment numbers: the number after the cue is masked
_STAFF_ID = re.compile(  # low
    r"(?<![a-z])(?:staff|payroll|employee|employees|personnel|assignment|esr|badge|smartcard|"
    r"smart\s++card|user|login|my|their|his|her)"
    r"(?:\s*+(?:id|no\.?|number|num|#|ref\.?|reference|code|identifier))++"
    r"(?:\s*+(?:is|was|:|=|-))?\s*+([a-z]{0,3}-?\d{4,12})(?![\w])"
    r"|(?<![a-z])(?:staff|payroll|employee|assignment|esr)\s*+(?:is|:|-)?\s*+"
    r"([a-z]{0,3}\d{5,12})(?![\w])"
)
_STAFF_HINTS = ("staff", "payroll", "employee", "personnel", "assignment", "esr", "badge",
                "smart", " id", "login", "user", "no", "number")  # fmt: skip
_POSTCODE = re.compile(  # low; any run of spaces between the two halves ("LS1  4AP")
    r"(?:g(?<!\wg)ir[ \t\u00a0]*+0aa|[a-pr-uwyz](?<!\w[a-pr-uwyz])[a-hk-y]?\d[a-z\d]?[ \t\u00a0]*+\d[abd-hjlnp-uw-z]{2})"
    r"(?!\w)"
)
# month names; only abbreviations take a dot ("Mar." but not the full stop after "May")
_MONTHS = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|jun(?:e|\.)?|"
    r"jul(?:y|\.)?|aug(?:ust|\.)?|sep(?:tember|t\.?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|"
    r"dec(?:ember|\.)?"
)
_DATE_NUMERIC = re.compile(
    r"(\d(?<![\w/.-]\d)\d?)([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|\.\d)"
    r"|(\d(?<![\w/.-]\d)\d{3})([/.-])(\d{1,2})\6(\d{1,2})(?![\w/-]|\.\d)"
)
_DATE_HINT = re.compile(r"\d[/.-]\d")
_POSTCODE_HINT = re.compile(r"\d[a-z]{2}(?!\w)")  # low
_YEARISH = re.compile(r"\d{4}|'\d\d")
_DATE_NAMED = re.compile(  # low
    rf"\d(?<!\w\d)\d?(?:st|nd|rd|th)?\s++(?:of\s++)?(?:{_MONTHS}),?\s++(?:\d{{4}}|'\d{{2}})\b"
    rf"|(?<!\w)(?:{_MONTHS})\s++\d{{1,2}}(?:st|nd|rd|th)?,?\s++\d{{4}}\b"
)
# a date-of-birth cue, up to three filler words ("born back in the year 1984"), the date
_DOB = re.compile(  # low
    r"(?<![a-z])(?:d\.?o\.?b\.?|date\s++of\s++birth|year\s++of\s++birth|birth\s*+year|"
    r"y\.?o\.?b\.?|born|b\.(?=\s)|birthday(?:\s++is)?)"
    r"(?:\s++(?:in|on|back|around|about|circa|c\.|the|year|of|early|late|mid))?+"
    r"(?:\s++(?:in|on|back|around|about|circa|c\.|the|year|of|early|late|mid))?+"
    r"(?:\s++(?:in|on|the|year|of))?+"
    r"\s*+[:\-]?\s*+"
    rf"(?P<date>\d{{1,2}}(?:st|nd|rd|th)?\s++(?:of\s++)?(?:{_MONTHS})(?:,?\s++(?:\d{{4}}|'\d{{2}}))?"
    rf"|(?:{_MONTHS})(?:\s++\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s++\d{{4}})?"
    r"|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|\d{1,2}[/.-]\d{4}|(?:19|20)\d{2}|'\d{2})(?![\w/])"
)
_DOB_HINTS = ("born", "dob", "d.o.b", "birth", "b. ", "yob", "y.o.b")
_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"\d++")


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _letter(c: str) -> bool:
    return c.isalpha() or c == "_"


def _lower(text: str) -> str:
    """Lower-case with the same length (offsets stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _char_class(pred: Any) -> str:
    """Return the body of a character class of the BMP characters ``pred`` accepts."""
    out: list[str] = []
    start = prev = -1
    for cp in range(0x10000):
        if not (0xD800 <= cp < 0xE000) and pred(chr(cp)):
            if start < 0:
                start = cp
            prev = cp
        elif start >= 0:
            out.append(f"\\u{start:04x}" + (f"-\\u{prev:04x}" if prev != start else ""))
            start = -1
    if start >= 0:
        out.append(f"\\u{start:04x}" + (f"-\\u{prev:04x}" if prev != start else ""))
    return "".join(out)


#: Upper-case (and title-case) and lower-case letters of every script, so that names
#: written with letters outside ASCII ("Zieliński", "Łukasz", "Ólafur") are read as one
#: word. Built once at import (a few milliseconds).
_UPPER = _char_class(lambda c: c.isupper() or c.istitle())
_LOWER = _char_class(lambda c: c.islower())

# Titles. Abbreviations may take a full stop ("Dr. Khan"); whole words may not ("Thank
# the Lord. We" is not a name). Professional titles also count in lower case ("the
# nurse Priya", "ward sister Anna"). "Consultant" is not a title: it is a grade that
# precedes other roles ("Consultant Psychiatrist"); a consultant's name is found by the
# list or the review list.
_ABBREV_TITLES = ("Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "Rev", "Revd", "Cllr", "Fr")
_WORD_TITLES = ("Miss", "Sir", "Dame", "Lord", "Lady", "Professor", "Reverend", "Councillor",
                "Sister", "Matron", "Nurse", "Doctor", "Father", "Imam", "Rabbi", "Pastor")  # fmt: skip
_LOWER_TITLES = ("nurse", "sister", "matron", "doctor", "professor")
_TITLES = "|".join(sorted({*_ABBREV_TITLES, *_WORD_TITLES}, key=lambda t: (-len(t), t)))
_TITLE_RX = (
    "(?:(?:" + "|".join(sorted(_ABBREV_TITLES, key=lambda t: (-len(t), t))) + r")\.?"
    "|"
    + "|".join(sorted(_WORD_TITLES, key=lambda t: (-len(t), t)))
    + "|"
    + "|".join(_LOWER_TITLES)
    + ")"
)
#: Capitalised words that follow a title without being a name ("Nurse Practitioner",
#: "Sister In charge", "Doctor Who"...): never masked as the name after a title.
NOT_NAMES_AFTER_TITLE: frozenset[str] = frozenset(
    """
    a an and or but nor so the this that these those it its i we you he she they me us him
    her them my our your his their in on at of to for from with by about as into over after
    before than then is was are were be been has have had do did does will would can could
    should may might must not no yes who whom which what when where why how said says told
    asked practitioner consultant manager lead specialist associate assistant director
    educator tutor advisor adviser band ward team unit bank agency staff nurse nurses sister
    matron midwife doctor doctors registrar partner student students apprentice support
    clinical senior junior charge deputy head chief executive officer practice community
    mental health services service group caucus network day night shift training
    development education council committee nhs trust hospital hospitals surgery clinic
    theatre theatres department office care act
    """.split()
) | frozenset(t.lower() for t in (*_ABBREV_TITLES, *_WORD_TITLES))
_NOT_NAME_RX = (
    "(?i:(?:"
    + "|".join(sorted(NOT_NAMES_AFTER_TITLE, key=lambda w: (-len(w), w)))
    + r")(?![^\W\d_]))"
)
#: Common words that are mostly given names: a listed name's part among them is masked
#: when capitalised in mid-sentence ("thanks to Joy"), unlike other common-word parts
#: ("the White Caucus" when "Sarah White" is listed).
_GIVEN_NAME_WORDS = frozenset(
    """
    joy grace hope faith rose ivy iris ruby amber dawn holly heather daisy poppy violet
    jasmine hazel willow patience constance prudence charity mercy precious ben don jack
    jean nick sandy cliff dean earl glen gene miles norman victor frank ray max rob sue
    pat guy bill mark will
    """.split()
)
_SENTENCE_END = frozenset(".!?:;\n\r\u2022*\u2013\u2014-")
_OPENERS = frozenset("\"'\u201c\u2018([ \t")


def _sentence_start(text: str, start: int) -> bool:
    """Tell whether only opening quotes or brackets separate ``start`` from a sentence end."""
    j = start - 1
    while j >= 0 and text[j] in _OPENERS:
        j -= 1
    return j < 0 or text[j] in _SENTENCE_END


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
_NAME_WORD = (
    rf"[{_UPPER}][{_LOWER}]*+(?:[{_UPPER}][{_LOWER}]++)*+(?:['\u2019-][{_UPPER}][{_LOWER}]++)*+"
)
# the full titled-name pattern (whose leading look-behind makes `re` try every
# position) runs only on texts holding one of these strings
_TITLE_HINTS = tuple(sorted({*_ABBREV_TITLES, *_WORD_TITLES, *_LOWER_TITLES}))
_TITLE_HINT = re.compile("|".join(re.escape(t) for t in _TITLE_HINTS))  # any of them
_TITLED_NAME = re.compile(
    rf"(?<![^\W\d]){_TITLE_RX}\s++(?:[A-Z]\.\s*+){{0,3}}(?!{_NOT_NAME_RX})(?:{_NAME_WORD}|[A-Z]{{2,}}+)"
    # a second name word, after any run of spaces or a hyphen, that is not itself a title
    # ("Dr Khan Dr Okafor" is two titled names, not "Dr Khan Dr" + a visible "Okafor")
    rf"(?:(?:\s++|-)(?!{_NOT_NAME_RX}){_NAME_WORD}(?:(?:\s++|-)(?!{_NOT_NAME_RX}){_NAME_WORD})?)?"
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


_TITLE_WORDS_LOWER = frozenset(t.lower() for t in (*_ABBREV_TITLES, *_WORD_TITLES))
_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _may_end_prefix(text: str, start: int) -> bool:
    """Tell cheaply whether a title or initials could end just before ``start``.

    A necessary condition for :data:`_TITLE_PREFIX` to match up to ``start``: once the
    whitespace and one full stop before ``start`` are skipped, the letters before them
    are a title (any case) or end with an initial (``A``-``Z``). Letters outside ASCII
    always pass (``re``'s case-insensitive matching lets "K" (Kelvin) match "k"). The
    two searches of up to 40 characters it saves are most of the cost of a listed name.
    """
    j = start
    while j > 0 and text[j - 1].isspace():
        j -= 1
    if j > 0 and text[j - 1] == ".":
        j -= 1
    k = j
    while k > 0 and text[k - 1].isalpha():
        k -= 1
    if k == j:
        return False
    word = text[k:j]
    return word[-1] in _ASCII_UPPER or not word.isascii() or word.lower() in _TITLE_WORDS_LOWER


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
            return r"\s++"
        if ch == "-":
            return r"[-\u2010\u2011]"
        return re.escape(ch)

    def build(node: dict[str, Any], root: bool = False) -> str:
        end = "" in node
        # at the root, each first character is followed by a check that no letter
        # precedes it: the pattern still starts with a set of characters, which `re`
        # scans for quickly, and a match never starts inside a word
        branches = [
            char(ch) + (rf"(?<![^\W\d]{char(ch)})" if root and ch != " " else "") + build(sub)
            for ch, sub in sorted(node.items())
            if ch != ""
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + body + ")?"
        return body

    return build(trie, root=True)


class _TermMatcher:
    """Case-insensitive whole-word matcher for a list of names or organisations.

    ``forms`` maps the lower-cased full names, name parts and their accent-folded
    spellings to the list entries they stand for; :meth:`hit` applies the rules of a
    match (common-word names, titles and initials, pseudonym keys).
    """

    def __init__(self, terms: Sequence[str], *, kind: str, parts: bool) -> None:
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
            if self.forms
            else None
        )

    def find(self, text: str, low: str | None = None) -> list[_Hit]:
        if self.regex is None:
            return []
        low = _lower(text) if low is None else low
        hits = []
        for m in self.regex.finditer(low):  # the pattern checks what precedes
            start = m.start()
            prefix = None
            if self.kind == "NAME" and _may_end_prefix(text, start):
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
            if not text[start].isupper():
                return None
            # a capitalised part that is mostly a given name ("Joy" of "Joy Williams")
            # counts in mid-sentence or before a possessive; "White" never does alone
            if part_only and not (
                form in _GIVEN_NAME_WORDS
                and (not _sentence_start(text, start) or text[end : end + 2] in ("'s", "\u2019s"))
            ):
                return None
        key = f"{self.kind}:{min(entries)}" if len(entries) == 1 else f"{self.kind}:form:{form}"
        return _Hit(hit_start, end, self.kind, key)


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

    Examples
    --------
    >>> det = Deidentifier(names=["Sam Taylor"])
    >>> det.mask("Sam said Dr Okafor helped")[0]
    '[NAME] said [NAME] helped'
    """

    def __init__(
        self,
        names: Sequence[str] = (),
        organisations: Sequence[str] = (),
        *,
        titled_names: bool = True,
        ner: bool | str = False,
    ) -> None:
        self.names = _TermMatcher(list(names), kind="NAME", parts=True)
        self.organisations = _TermMatcher(list(organisations), kind="ORGANISATION", parts=False)
        self.titled_names = titled_names
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
        searched again with the placeholders in place until nothing new is found (at
        most five times), and the new spans are mapped back, so masking the result again
        changes nothing. Every step is linear (or n log n) in the length of the text
        and the number of hits.
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
            starts = [seg[0] for seg in segments]
            hits = sorted(
                [*hits, *(_to_original(h, segments, starts) for h in more)], key=lambda h: h.start
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
        if any(h in low for h in _OBF_HINTS):
            for m in _EMAIL_OBFUSCATED.finditer(low):
                if _obfuscated_email_ok(m.group(0)):
                    key = "EMAIL:" + _unobfuscate(m.group(0))
                    add(_Hit(m.start(), m.end(), "EMAIL", key))
        urls: list[tuple[int, int]] = []
        if "://" in low or "www." in low:
            urls.extend((m.start(), m.end()) for m in _URL_SCHEME.finditer(low))
        if _TLD_HINT.search(low):
            for m in _DOTTED_RUN.finditer(low):
                span = _bare_domain(low, m)
                if span is not None:
                    urls.append(span)
        for start, end in urls:
            u = low[start:end]
            while u and (u[-1] in _URL_TRAIL or (u[-1] == ")" and u.count("(") < u.count(")"))):
                u, end = u[:-1], end - 1
            if "." in u:
                add(_Hit(start, end, "URL", "URL:" + u))
        if _DIGIT.search(text):
            self._numbers(text, low, add)
        c.extend(self._listed(text, low))
        return c

    def _listed(self, text: str, low: str) -> list[_Hit]:
        """Candidate hits of the listed organisations and names, and of titled names.

        ``low`` is ``text`` lower-cased (:func:`_lower`). The test suite's spaCy oracle
        replaces this one step to cross-check it.
        """
        hits = [*self.organisations.find(text, low), *self.names.find(text, low)]
        if self.titled_names and _TITLE_HINT.search(text):
            for m in _TITLED_NAME.finditer(text):
                surname = m.group(0).split()[-1].lower()
                hits.append(_Hit(m.start(), m.end(), "NAME", "NAME:titled:" + surname))
        return hits

    @staticmethod
    def _numbers(text: str, low: str, add: Any) -> None:
        """Candidates that hold digits: NHS, NI, staff and phone numbers, postcodes, dates.

        The digit runs are read once; each pattern runs only if the runs could hold
        what it looks for (most answers hold no identifier, and skipping a pattern is
        much cheaper than running it).
        """
        runs = _DIGIT_RUN.findall(text)
        lengths = [len(r) for r in runs]
        longest = max(lengths)
        n_digits = sum(lengths)
        if longest >= 3 and n_digits >= 10:
            for m in _NHS.finditer(text):
                digits = re.sub(r"\D", "", m.group(0))
                if nhs_number_is_valid(digits):
                    add(_Hit(m.start(), m.end(), "NHS_NUMBER", "NHS_NUMBER:" + digits))
                elif _NHS_CUE.search(low, max(0, m.start() - 30), m.start()):
                    key = "NHS_NUMBER:" + digits
                    add(_Hit(m.start(), m.end(), "NHS_NUMBER", key, "unchecked"))
        if n_digits >= 8 and ("+" in text or any(r[0] == "0" for r in runs)):
            for rx, lo, hi in ((_PHONE_INTL, 8, 15), (_PHONE_UK, 10, 11)):
                for m in rx.finditer(text):
                    span = _digit_span(m.group(0), m.start(), lo, hi)
                    if span:
                        digits = re.sub(r"\D", "", text[span[0] : span[1]])
                        add(_Hit(span[0], span[1], "PHONE", "PHONE:" + digits))
        if longest >= 3 and any(h in low for h in _EXTENSION_HINTS):
            for m in _EXTENSION.finditer(low):
                add(_Hit(m.start(1), m.end(1), "PHONE", "PHONE:ext:" + m.group(1)))
        if n_digits >= 6:
            for m in _NI_NUMBER.finditer(text):
                add(_Hit(m.start(), m.end(), "NI_NUMBER", "NI_NUMBER:" + _squash(m.group(0))))
            if "insurance" in low or "ni" in low:
                for m in _NI_NUMBER_LOW.finditer(low):
                    key = "NI_NUMBER:" + _squash(m.group(1)).upper()
                    add(_Hit(m.start(1), m.end(1), "NI_NUMBER", key))
        if longest >= 4 and any(h in low for h in _STAFF_HINTS):
            for m in _STAFF_ID.finditer(low):
                g = 1 if m.group(1) else 2
                add(_Hit(m.start(g), m.end(g), "STAFF_ID", "STAFF_ID:" + m.group(g)))
        if _POSTCODE_HINT.search(low):
            for m in _POSTCODE.finditer(low):
                orig = text[m.start() : m.end()]
                if re.search(r"\d(?:st|nd|rd|th)$", orig):  # "No1 2nd", not a postcode
                    continue
                add(_Hit(m.start(), m.end(), "POSTCODE", "POSTCODE:" + _squash(orig).upper()))
        if len(runs) >= 2 and _DATE_HINT.search(text):
            for m in _DATE_NUMERIC.finditer(text):
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
        if longest >= 4 or ("'" in text and _YEARISH.search(text)):
            for m in _DATE_NAMED.finditer(low):
                add(_Hit(m.start(), m.end(), "DATE", "DATE:" + m.group(0)))
        if any(h in low for h in _DOB_HINTS):
            for m in _DOB.finditer(low):
                add(_Hit(m.start("date"), m.end("date"), "DATE", "DATE:" + m.group("date")))

    @staticmethod
    def _resolve(text: str, cands: list[_Hit]) -> list[_Hit]:
        """Keep the longest of overlapping candidates (then by kind priority, then start).

        Taken characters are marked in a byte array, so checking and marking a candidate
        costs its length in C: linear overall, since the matches of one pattern do not
        overlap each other.
        """
        if not cands:
            return []
        taken = bytearray(len(text))
        for m in _PLACEHOLDER.finditer(text):
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        chosen: list[_Hit] = []
        for h in sorted(cands, key=lambda h: (-(h.end - h.start), _PRIORITY[h.kind], h.start)):
            if h.end <= h.start or taken.find(1, h.start, h.end) >= 0:
                continue
            taken[h.start : h.end] = b"\x01" * (h.end - h.start)
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
            organisations become ``[NAME_n]`` / ``[ORGANISATION_n]``. Pass the same
            :class:`PseudonymNumbering` to every call to number a whole table in time
            linear in the number of identities.

        Returns
        -------
        tuple
            The masked text and the hits (spans in the *input* text).
        """
        hits = self.find(text)
        return _apply(text, hits, numbering), hits


def _squash(s: str) -> str:
    return "".join(s.split())


def _obfuscated_email_ok(match: str) -> bool:
    """Accept a spelled-out e-mail: "at" in brackets, or words ending in a known TLD."""
    if re.search(r"[\[({<]\s*at\s*[\])}>]", match):
        return True
    last = re.split(r"\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.", match)[-1].strip()
    return bool(re.search(r"\sdot\s", match)) and last in _TLDS | {"ac", "co"}


def _unobfuscate(match: str) -> str:
    s = re.sub(r"\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+", "@", match, count=1)
    s = re.sub(r"\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+", ".", s)
    return _squash(s)


def _bare_domain(low: str, m: re.Match[str]) -> tuple[int, int] | None:
    """Return the span of the domain (and path) a dotted run starts with, or ``None``.

    The domain is the longest prefix of the run's labels that ends with a known
    top-level domain, every label being 1-63 characters and not ending with a hyphen
    (the rules of the former single pattern, decided here in one pass over the run).
    """
    labels = m.group(0).split(".")
    valid = 0
    for lab in labels:
        if len(lab) > 63 or lab.endswith("-"):
            break
        valid += 1
    ends = list(itertools.accumulate(len(lab) + 1 for lab in labels))
    for j in range(valid - 1, 0, -1):
        if labels[j] not in _TLDS:
            continue
        end = m.start() + ends[j] - 1
        nxt = low[end] if end < len(low) else ""
        if nxt and (nxt.isalnum() or nxt in "_-"):
            continue
        if nxt == "/":
            end = _URL_PATH.match(low, end).end()  # type: ignore[union-attr]
        return m.start(), end
    return None


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


def _to_original(h: _Hit, segments: list[tuple[int, int, int]], starts: list[int]) -> _Hit:
    i = bisect.bisect_right(starts, h.start) - 1
    while i >= 0:
        mstart, ostart, length = segments[i]
        if mstart <= h.start and h.end <= mstart + length:
            return _Hit(ostart + h.start - mstart, ostart + h.end - mstart, h.kind, h.key, h.note)
        i -= 1  # zero-length stretches share a start
    raise AssertionError("a new hit spans a placeholder")  # pragma: no cover - _resolve prevents it


class PseudonymNumbering(dict[str, int]):
    """Pseudonym numbers by identity key, with one counter per kind.

    ``numbering[key]`` is the number given to an identity; :meth:`number` gives the
    next free number of the key's kind in constant time (the former implementation
    counted the existing numbers of the kind for every new identity: quadratic).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts: dict[str, int] = {}
        for k in dict.keys(self):
            kind = k.split(":", 1)[0]
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def number(self, key: str, kind: str) -> int:
        """Return the number of ``key``, giving it the next number of ``kind`` if new."""
        n = self.get(key)
        if n is None:
            n = self.counts.get(kind, 0) + 1
            self.counts[kind] = n
            self[key] = n
        return n


def _apply(text: str, hits: list[_Hit], numbering: dict[str, int] | None) -> str:
    if not hits:
        return text
    if numbering is not None and not isinstance(numbering, PseudonymNumbering):
        numbering = _PlainNumbering(numbering)  # type: ignore[assignment]
    parts, pos = [], 0
    for h in hits:
        parts.append(text[pos : h.start])
        label = h.kind
        if numbering is not None and h.kind in ("NAME", "ORGANISATION"):
            label = f"{h.kind}_{numbering.number(h.key, h.kind)}"  # type: ignore[attr-defined]
        parts.append(f"[{label}]")
        pos = h.end
    parts.append(text[pos:])
    return "".join(parts)


class _PlainNumbering:
    """Adapter numbering a caller's plain dict in place (counts taken once per call)."""

    def __init__(self, d: dict[str, int]) -> None:
        self.d = d
        self.counts: dict[str, int] = {}
        for k in d:
            kind = k.split(":", 1)[0]
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def number(self, key: str, kind: str) -> int:
        n = self.d.get(key)
        if n is None:
            n = self.counts.get(kind, 0) + 1
            self.counts[kind] = n
            self.d[key] = n
        return n


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


def _salt_bytes(salt: str | bytes | None) -> bytes:
    """Return the HMAC key: the salt given, or a random one (digests differ every run)."""
    if salt is None:
        return secrets.token_bytes(32)
    return salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)


def deidentify_responses(
    df: pd.DataFrame,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    *,
    pseudonyms: bool = False,
    salt: str | bytes | None = None,
    ner: bool | str = False,
    titled_names: bool = True,
    columns: Sequence[str] = ("text", "question", "question_id"),
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
    columns : sequence of str, default ("text", "question", "question_id")
        Columns to de-identify (those present); ``question_id`` is the export's raw
        header, which can hold an e-mail address or a name. ``text_raw`` is never touched: it is
        the raw export and must not be published (see :func:`drop_identifying_columns`).

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
        If ``columns`` includes ``text_raw``.

    See Also
    --------
    deidentify_text : the same masks on one string.
    safe_table : then keep only the columns safe to share, with pseudonymised ids.

    Examples
    --------
    >>> import thematic
    >>> files = thematic.examples.load("staff-survey-export")
    >>> responses, _ = thematic.read_export(files.export)
    >>> cleaned, _ = thematic.clean_responses(responses)
    >>> names = thematic.read_term_list(files.names)
    >>> safe, mask_audit = thematic.deidentify_responses(cleaned, names, pseudonyms=True)
    >>> mask_audit["kind"].value_counts().to_dict()
    {'NAME': 42, 'EMAIL': 14}
    """
    df = conform(df, "responses")
    key = _salt_bytes(salt)
    det = Deidentifier(names, organisations, titled_names=titled_names, ner=ner)
    numbering: PseudonymNumbering | None = PseudonymNumbering() if pseudonyms else None
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
                        "detail": f"{col}[{h.start}:{h.end}] hmac-sha256 {_digest(key, h.key)}"
                        + (" (check digit not valid)" if h.note == "unchecked" else ""),
                        "column": col,
                        "kind": h.kind,
                        "start": h.start,
                        "end": h.end,
                        "digest": _digest(key, h.key),
                    }
                )
        out[col] = pd.array(masked, dtype="str")
    return Deidentified(conform(out, "responses"), _mask_audit(audit))


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

    Returns
    -------
    str
        The text with typed placeholders.

    Examples
    --------
    >>> import thematic
    >>> thematic.deidentify_text("Email sam@example.org or call 07700 900123", names=["Sam"])
    'Email [EMAIL] or call [PHONE]'
    >>> files = thematic.examples.load("staff-survey-export")
    >>> names = thematic.read_term_list(files.names)
    >>> thematic.deidentify_text("Thanks to Priya, and to Sister Adaeze", names)
    'Thanks to [NAME], and to [NAME]'
    """
    det = _cached_deidentifier(tuple(names), tuple(organisations), titled_names)
    return det.mask(text)[0]


@functools.lru_cache(maxsize=8)
def _cached_deidentifier(
    names: tuple[str, ...], orgs: tuple[str, ...], titled: bool
) -> Deidentifier:
    return Deidentifier(names, orgs, titled_names=titled)


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
    df: pd.DataFrame,
    *,
    keep: Iterable[str] = (),
    drop: Iterable[str] = (),
    salt: str | bytes | None = None,
    audit: pd.DataFrame | None = None,
) -> Deidentified:
    """Drop columns that identify respondents before a table is shared.

    Dropped: ``text_raw`` (the raw, not de-identified export); metadata columns named
    like e-mail, name, IP address, location, phone, address, recipient fields or
    precise timestamps (:func:`thematic.ingest.identifying_column_names`, plus those
    the read ``audit`` records as identifying); metadata columns holding free text that was not de-identified
    (:func:`thematic.ingest.looks_like_free_text`); and ``drop``.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table.
    keep : iterable of str
        Columns to keep even if they match.
    drop : iterable of str
        Further columns to drop.
    salt : str or bytes, optional
        Secret of the header digests in the audit (default random).
    audit : pandas.DataFrame, optional
        The audit :func:`thematic.ingest.read_export` returned with the table: the
        columns it left as identifying (also by their values, e.g. a column of e-mail
        addresses under any header) are dropped too.

    Returns
    -------
    Deidentified
        ``(responses, audit)``; one ``drop_column`` audit row per column: ``reason``
        says why, ``detail`` holds the header de-identified (an e-mail address in a
        header becomes ``[EMAIL]``) and ``digest`` its salted HMAC-SHA256.

    See Also
    --------
    safe_table : keeps only known-safe columns (the default of ``thematic clean``).
    """
    keep_set = set(keep)
    core = {
        "response_id", "respondent_id", "question", "question_id", "group", "session", "text",
        "exclude", "exclude_reason", "source_file", "source_row", "source_format",
    }  # fmt: skip
    reasons: dict[str, str] = {}
    if "text_raw" in df.columns:
        reasons["text_raw"] = "raw export text (not de-identified)"
    for c in identifying_column_names(df.columns, audit=audit):
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
    det = _cached_deidentifier((), (), True)
    key = _salt_bytes(salt)
    rows = [_column_row(det, key, c, "drop_column", reasons[c]) for c in cols]
    return Deidentified(df.drop(columns=cols), _mask_audit(rows))


# --------------------------------------------------------------------------- safe table

#: Columns of a de-identified ``responses`` table that are safe to share: the tidy
#: schema columns (``text_raw`` excepted) and cleaning's exclusion columns. Boolean
#: ``flag_*`` columns from cleaning are kept too. Everything else is dropped by
#: :func:`safe_table` unless named in ``keep_columns``.
SAFE_COLUMNS: tuple[str, ...] = (
    "response_id",
    "respondent_id",
    "question",
    "question_id",
    "group",
    "session",
    "text",
    "exclude",
    "exclude_reason",
)


def read_salt(path: str | os.PathLike[str], *, create: bool = False) -> bytes:
    """Read (or create) the secret salt of the pseudonyms and audit digests.

    The salt makes pseudonymised ids and audit digests stable from run to run; anyone
    holding it can test guesses ("was this respondent's id R_123?"), so it is kept
    like the raw exports: outside the repository, readable only by the research team.

    Parameters
    ----------
    path : str or os.PathLike
        The salt file: 64 hexadecimal digits (32 random bytes) on one line.
    create : bool, default False
        Create the file (mode 0600, 32 bytes from :mod:`secrets`) if it does not exist.

    Returns
    -------
    bytes
        The salt.

    Raises
    ------
    InputError
        If the file lies inside a git working tree, is missing (and ``create`` is
        false), or does not hold at least 32 hexadecimal digits.
    """
    p = Path(path).expanduser()
    parent = p.resolve().parent
    for d in (parent, *parent.parents):
        if (d / ".git").exists():
            raise InputError(
                f"keep the salt file outside the repository (it is inside {d}); "
                "anyone with the salt can test guesses against the pseudonyms",
                path=p,
            )
    if not p.exists():
        if not create:
            raise InputError("salt file not found (create it with create=True)", path=p)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    text = p.read_text(encoding="ascii", errors="replace").strip()
    if not re.fullmatch(r"[0-9a-fA-F]{32,}", text) or len(text) % 2:
        raise InputError("a salt file holds 64 hexadecimal digits on one line", path=p)
    return bytes.fromhex(text)


def pseudonymise_ids(
    df: pd.DataFrame, salt: str | bytes | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Replace respondent and response ids by salted HMAC-SHA256 pseudonyms.

    ``respondent_id`` becomes ``P-`` and 12 hexadecimal digits of
    ``HMAC-SHA256(salt, "respondent:" + id)``; a response id of the usual form
    ``respondent:question-slug~k`` becomes ``P-…:qN~k`` (``qN`` numbers the question
    slugs in order of first appearance, since a slug is made from the export's raw
    header), any other response id ``X-`` and 16 hexadecimal digits. The same salt
    gives the same pseudonyms, so tables de-identified on different days can be joined;
    without the salt they cannot be linked back to the raw export.

    Parameters
    ----------
    df : pandas.DataFrame
        A ``responses`` table.
    salt : str or bytes, optional
        The secret (see :func:`read_salt`). Default: a random salt (pseudonyms then
        differ every run).

    Returns
    -------
    tuple
        The table with new ids, and the mapping old response id -> new response id
        (keep it private: it links the pseudonyms back; use it to rewrite audits).
    """
    key = _salt_bytes(salt)
    out = df.copy()
    people: dict[Any, str | None] = {}

    def person(r: Any) -> str | None:
        if r not in people:
            people[r] = (
                None
                if r is None or _isna(r)
                else "P-"
                + hmac.new(key, f"respondent:{r}".encode(), hashlib.sha256).hexdigest()[:12]
            )
        return people[r]

    slugs: dict[str, str] = {}
    old_ids = df["response_id"].tolist()
    rids = df["respondent_id"].tolist() if "respondent_id" in df.columns else [None] * len(df)
    new_ids = []
    for r, x in zip(rids, old_ids, strict=True):
        p = person(r)
        if p is not None and isinstance(r, str) and x.startswith(r + ":"):
            slug, sep, rest = x[len(r) + 1 :].partition("~")
            q = slugs.setdefault(slug, f"q{len(slugs) + 1}")
            new_ids.append(f"{p}:{q}{sep}{rest}")
        else:
            new_ids.append(
                "X-" + hmac.new(key, f"response:{x}".encode(), hashlib.sha256).hexdigest()[:16]
            )
    if len(set(new_ids)) != len(new_ids):  # e.g. "a:b" + "~2" made twice: hash them all
        new_ids = [
            "X-" + hmac.new(key, f"response:{x}".encode(), hashlib.sha256).hexdigest()[:16]
            for x in old_ids
        ]
    out["response_id"] = pd.array(new_ids, dtype="str")
    if "respondent_id" in out.columns:
        out["respondent_id"] = pd.array([person(r) for r in rids], dtype="str")
    return out, dict(zip(old_ids, new_ids, strict=True))


def _remap_detail(detail: Any, mapping: dict[str, str]) -> Any:
    """Rewrite a response id that ends an audit detail ("duplicate of R_1:q")."""
    if not isinstance(detail, str) or not detail:
        return detail
    if detail in mapping:
        return mapping[detail]
    i = detail.find(" ")
    while i >= 0:
        if detail[i + 1 :] in mapping:
            return detail[: i + 1] + mapping[detail[i + 1 :]]
        i = detail.find(" ", i + 1)
    return detail


def mask_kept_column(det: Deidentifier, key: bytes, column: Any, values: list[Any],
                     done: dict[str, str], rows: list[dict[str, Any]]) -> Any:
    """Mask the values of a kept text column, auditing each identifier once per value.

    ``done`` maps a value already masked to its masked text (shared across the blocks of
    a stream, so a value is audited once); audit rows are appended to ``rows``.

    Returns
    -------
    pandas.arrays.ArrowStringArray or pandas.array
        The masked values (``"str"`` dtype; missing stay missing).
    """
    masked_header = det.mask(str(column))[0]
    out = []
    for v in values:
        if v is None or _isna(v):
            out.append(None)
            continue
        if v not in done:
            hits = det.find(v)
            done[v] = _apply(v, hits, None)
            for h in hits:
                rows.append({
                    "response_id": None, "stage": "deidentify", "action": "mask",
                    "reason": h.kind,
                    "detail": f"kept column [{h.start}:{h.end}] hmac-sha256 "
                    + _digest(key, h.key),
                    "column": masked_header, "kind": h.kind, "start": h.start,
                    "end": h.end, "digest": _digest(key, h.key),
                })
        out.append(done[v])
    return pd.array(out, dtype="str")


def safe_table(
    df: pd.DataFrame,
    *,
    keep_columns: Iterable[str] = (),
    salt: str | bytes | None = None,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    pseudonymise: bool = True,
    audits: Iterable[pd.DataFrame] = (),
) -> Deidentified:
    """Keep only the columns known to be safe, with pseudonymised ids.

    The public table keeps :data:`SAFE_COLUMNS` (the tidy ``responses`` columns and
    cleaning's exclusion columns), cleaning's boolean ``flag_*`` columns, and the
    columns named in ``keep_columns``. Every other column (``text_raw``, the export's
    metadata: respondent names, staff numbers, wards, line managers, contact fields,
    panel ids such as ``PROLIFIC_PID``, "Other (please specify)" text...) is dropped
    and each drop is audited. Kept extra columns holding text are de-identified like
    open text. ``respondent_id`` and ``response_id``, which link back to the raw
    export, are replaced by salted HMAC-SHA256 pseudonyms (:func:`pseudonymise_ids`).
    Use this rather than :func:`drop_identifying_columns` (which drops what *looks*
    identifying and keeps the rest) for anything that leaves the research team.

    Parameters
    ----------
    df : pandas.DataFrame
        A de-identified ``responses`` table (see :func:`deidentify_responses`).
    keep_columns : iterable of str
        Further columns to keep (de-identified if they hold text). ``text_raw`` cannot
        be kept.
    salt : str or bytes, optional
        Secret of the pseudonyms and digests (see :func:`read_salt`); default random.
    names, organisations : sequence of str
        Lists used to de-identify kept extra columns and the headers written to the
        audit.
    pseudonymise : bool, default True
        Replace respondent and response ids by pseudonyms.
    audits : iterable of pandas.DataFrame
        Audits of earlier stages (read, clean, mask): returned with their response ids
        (also those at the end of a ``detail``, "duplicate of …") rewritten to the
        pseudonyms and their ``ingest`` details (which name the export's columns)
        de-identified. The columns the read audit records as identifying are audited as
        such when dropped.

    Returns
    -------
    Deidentified
        ``(responses, audit)``: the earlier audits, then one ``drop_column`` row per
        dropped column, the ``mask`` rows of kept extra columns and one
        ``pseudonymise`` row. No audit row holds a raw header or value: headers are
        de-identified (``detail``) and digested (``digest``, HMAC-SHA256 with the salt).

    Raises
    ------
    InputError
        If a ``keep_columns`` entry is not a column, or is ``text_raw``.

    Examples
    --------
    >>> import thematic
    >>> files = thematic.examples.load("staff-survey-export")
    >>> responses, read_audit = thematic.read_export(files.export)
    >>> masked, mask_audit = thematic.deidentify_responses(responses)
    >>> public, audit = thematic.safe_table(masked, salt="example", audits=[read_audit, mask_audit])
    >>> public.columns.tolist()
    ['response_id', 'respondent_id', 'question', 'question_id', 'group', 'session', 'text', \
'flag_preview', 'flag_spam', 'flag_unfinished']
    >>> public.loc[0, "respondent_id"]  # a salted pseudonym
    'P-7e6c930c0e2e'
    >>> int((audit["reason"] == "identifying metadata").sum())  # e-mail, IP address...
    10
    """
    df = conform(df, "responses")
    audits = list(audits)
    key = _salt_bytes(salt)
    keep = list(dict.fromkeys(keep_columns))
    for c in keep:
        if c == "text_raw":
            raise InputError(
                "text_raw is the raw export and is never kept in a public table", column=c
            )
        if c not in df.columns:
            raise InputError(f"cannot keep column {c!r}: no such column", column=c)
    det = _cached_deidentifier(tuple(names), tuple(organisations), True)
    read = [a for a in audits if len(a)]
    idents = set(identifying_column_names(
        df.columns, audit=pd.concat(read, ignore_index=True) if read else None))
    kept, rows = [], []
    for c in df.columns:
        if c in SAFE_COLUMNS or c in keep or (c.startswith("flag_") and df[c].dtype == bool):
            kept.append(c)
            continue
        reason = (
            "raw export text (not de-identified)"
            if c == "text_raw"
            else "identifying metadata"
            if c in idents
            else "not a known-safe column (name it in keep_columns to keep it)"
        )
        rows.append(_column_row(det, key, c, "drop_column", reason))
    out = df[kept].copy()
    for c in keep:
        if c in SAFE_COLUMNS or out[c].dtype == bool or not pd.api.types.is_string_dtype(out[c]):
            continue
        out[c] = mask_kept_column(det, key, c, out[c].tolist(), {}, rows)
    mapping: dict[str, str] = {}
    if pseudonymise:
        out, mapping = pseudonymise_ids(out, key)
        n = out["respondent_id"].nunique() if "respondent_id" in out.columns else 0
        rows.append(
            {
                "response_id": None,
                "stage": "deidentify",
                "action": "pseudonymise",
                "reason": "ids that link back to the raw export",
                "detail": f"respondent_id ({n} respondents) and response_id replaced by "
                "HMAC-SHA256 pseudonyms with the user's salt",
            }
        )
    earlier = []
    for a in audits:
        if not len(a):
            continue
        a = a.copy()
        if mapping:
            a["response_id"] = pd.array(
                [mapping.get(r, r) if isinstance(r, str) else r for r in a["response_id"]],
                dtype="str",
            )
            a["detail"] = pd.array([_remap_detail(d, mapping) for d in a["detail"]], dtype="str")
        ingest = (a["stage"] == "ingest").to_numpy()
        if ingest.any():
            details = a["detail"].tolist()
            a["detail"] = pd.array(
                [
                    det.mask(d)[0] if flag and isinstance(d, str) else d
                    for d, flag in zip(details, ingest, strict=True)
                ],
                dtype="str",
            )
        earlier.append(a)
    own = _mask_audit(rows)
    audit = pd.concat([*earlier, own], ignore_index=True) if earlier else own
    return Deidentified(conform(out, "responses"), conform(audit, "audit"))


def _column_row(
    det: Deidentifier, key: bytes, column: str, action: str, reason: str
) -> dict[str, Any]:
    """Build an audit row about a column: its header de-identified, and digested."""
    return {
        "response_id": None,
        "stage": "deidentify",
        "action": action,
        "reason": reason,
        "detail": det.mask(str(column))[0],
        "digest": _digest(key, "COLUMN:" + str(column)),
    }


# --------------------------------------------------------------------------- review list

_CANDIDATE = re.compile(
    rf"[{_UPPER}](?<![^\W_][{_UPPER}])[{_LOWER}]*+(?:[{_UPPER}][{_LOWER}]++)*+"
    rf"(?:['\u2019-][{_UPPER}][{_LOWER}]++)*+(?![^\W_])"
)
_CALENDAR = frozenset(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday
    friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    """.split()
)


#: Words never worth reviewing although no dictionary lists them in lower case.
_REVIEW_STOP = frozenset(
    """
    covid coronavirus nhs bame bme wres wdes edi hr ok okay thanks thank hi hello yes no
    minoritised minoritized racialised racialized
    zoom teams whatsapp microsoft google facebook twitter linkedin youtube
    """.split()
)


@functools.lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """Return English words that are mostly written in lower case.

    From spaCy's lookup tables (``spacy-lookups-data``): the word forms of the lemma
    table, and the words of the lexeme probability table whose lower-case form is
    about as frequent as their capitalised form or more (within a factor of e^1.2,
    since ordinary words often start sentences: "thanks", "however") and not rare
    (log probability at least -17.5: rarer words have too few uses to tell). "hope", "trust",
    "caucus" are dictionary words; "john", "khan", "chen", "leeds" (much more often
    capitalised) and unlisted words ("okafor") are not.
    """
    import gzip
    import json

    try:
        import spacy_lookups_data
    except ImportError:  # pragma: no cover - a pinned dependency
        return _REVIEW_STOP
    folder = Path(spacy_lookups_data.__file__).parent / "data"
    lemmas: dict[str, str] = json.loads(
        gzip.decompress((folder / "en_lemma_lookup.json.gz").read_bytes())
    )
    words = {w for pair in lemmas.items() for w in pair if w.isalpha() and w.islower()}
    probs: dict[str, float] = json.loads(
        gzip.decompress((folder / "en_lexeme_prob.json.gz").read_bytes())
    )
    for w, p in probs.items():
        if w.isalpha() and w.islower() and p >= -17.5:  # rarer: too few uses to tell
            cap = probs.get(w.capitalize())
            if cap is None or p >= cap - 1.2:
                words.add(w)
    # British spellings of words the tables hold in American spelling ("minoritised")
    for w in list(words):
        if "iz" in w:
            words.add(w.replace("iz", "is"))
    return frozenset(words | _REVIEW_STOP)


def _ner_pipeline() -> Any:
    """``en_core_web_sm`` when installed (found without importing spaCy), else ``None``."""
    import importlib.util

    if importlib.util.find_spec("en_core_web_sm") is None:
        return None
    import spacy

    if not spacy.util.is_package("en_core_web_sm"):
        return None
    return spacy.load("en_core_web_sm", disable=["lemmatizer"])


def name_candidates(
    data: pd.DataFrame | Iterable[str],
    known_names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    *,
    column: str = "text",
    ner: bool | None = None,
) -> pd.DataFrame:
    """List the words that may be names nobody listed, for a person to review.

    Pattern matching masks listed names and names after a title; other names stay
    visible. This lists every candidate with its context so that the research team can
    confirm real names into the names list (:func:`confirm_names`) and run
    :func:`deidentify_responses` again before anything is shared. Candidates:

    * capitalised words (any script) that are not dictionary words (spaCy's English
      lexeme table: words mostly written in lower case), at a sentence start or not;
    * capitalised words in mid-sentence that are common words and also names
      (:data:`COMMON_WORD_NAMES`: "Grace", "Hope", "Joy");
    * PERSON entities of a trained spaCy pipeline (``en_core_web_sm``) when installed.

    Adjacent candidates ("Marek Zieliński") make one row. Not listed: words inside
    masked spans or placeholders (listed names, organisations, titled names, e-mails...),
    titles, month and day names, words in capitals ("NHS").

    Parameters
    ----------
    data : pandas.DataFrame or iterable of str
        A ``responses`` table (its ``response_id`` and ``column``) or texts (ids are
        their positions, as strings).
    known_names, organisations : sequence of str
        The lists already used: their matches are masked, not candidates.
    column : str, default "text"
        The text column of a table.
    ner : bool, optional
        Use ``en_core_web_sm``'s PERSON entities: ``None`` (default) when installed,
        ``True`` to require it (:class:`InputError` if missing), ``False`` never.

    Returns
    -------
    pandas.DataFrame
        Columns ``response_id, start, end, candidate, context, reason``: one row per
        occurrence, offsets into the given text; ``context`` is up to 40 characters
        either side with every identifier already found masked.

    Raises
    ------
    InputError
        If ``column`` is missing, or ``ner=True`` and no trained pipeline is installed.

    Examples
    --------
    >>> import thematic
    >>> review = thematic.name_candidates(["Ask Marek Zielinski or Dr Okafor"], ner=False)
    >>> review[["candidate", "context"]].to_dict("records")
    [{'candidate': 'Marek Zielinski', 'context': 'Ask Marek Zielinski or [NAME]'}]
    >>> files = thematic.examples.load("staff-survey-export")
    >>> responses, _ = thematic.read_export(files.export)
    >>> names = thematic.read_term_list(files.names)
    >>> review = thematic.name_candidates(responses, names, ner=False)
    >>> review["candidate"].value_counts().to_dict()  # an organisation nobody listed
    {'Northfield': 5}
    """
    if isinstance(data, pd.DataFrame):
        if column not in data.columns:
            raise InputError(f"no column {column!r} to review", column=column)
        ids = [
            str(i) for i in (data["response_id"] if "response_id" in data.columns else data.index)
        ]
        texts = data[column].tolist()
    else:
        texts = list(data)
        ids = [str(i) for i in range(len(texts))]
    nlp = None
    if ner is not False:
        nlp = _ner_pipeline()
        if nlp is None and ner:
            raise InputError(
                "ner=True needs the trained spaCy pipeline en_core_web_sm, not installed"
            )
    det = _cached_deidentifier(tuple(known_names), tuple(organisations), True)
    words = _dictionary()
    titles = {t.lower() for t in (*_ABBREV_TITLES, *_WORD_TITLES)}
    rows: dict[str, list[Any]] = {
        k: [] for k in ("response_id", "start", "end", "candidate", "context", "reason")
    }
    docs = iter(nlp.pipe(["" if not isinstance(t, str) else t for t in texts])) if nlp else None
    for rid, text in zip(ids, texts, strict=True):
        doc = next(docs) if docs is not None else None
        if not isinstance(text, str) or not text:
            continue
        for s, e, reason, context in _review_text(text, det, words, titles, doc):
            rows["response_id"].append(rid)
            rows["start"].append(s)
            rows["end"].append(e)
            rows["candidate"].append(text[s:e])
            rows["context"].append(context)
            rows["reason"].append(reason)
    out = pd.DataFrame(
        {
            "response_id": pd.array(rows["response_id"], dtype="str"),
            "start": pd.array(rows["start"], dtype="int64"),
            "end": pd.array(rows["end"], dtype="int64"),
            "candidate": pd.array(rows["candidate"], dtype="str"),
            "context": pd.array(rows["context"], dtype="str"),
            "reason": pd.array(rows["reason"], dtype="str"),
        }
    )
    return out


def _review_text(
    text: str,
    det: Deidentifier,
    words: frozenset[str],
    titles: set[str],
    doc: Any = None,
    *,
    eager: bool = False,
) -> list[tuple[int, int, str, str]]:
    """Return the review rows of one text: ``(start, end, reason, context)``.

    The identifiers of the text matter only through the candidates they hide and the
    contexts they mask. Unless ``eager``, the candidates are listed first with only the
    placeholders masked, and the text is searched for identifiers (``det.find``, the
    costly step) only when a candidate that could make a row is left -- most texts have
    none. Hiding more spans can only remove candidates (every other test on a candidate
    reads the text alone), so the rows are those of searching every text first
    (``eager=True``; ``tests/test_deidentify.py`` compares both).
    """
    masked = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    hits: list[_Hit] = []
    if eager:
        hits = det.find(text)
        masked = sorted([*masked, *((h.start, h.end) for h in hits)])
    found = _review_found(text, masked, words, titles, doc)
    if not eager:
        # weak candidates merge into weak rows only: no row without a strong one
        if all(weak for *_, weak in found):
            return []
        hits = det.find(text)
        if hits:
            masked = sorted([*masked, *((h.start, h.end) for h in hits)])
            found = _review_found(text, masked, words, titles, doc)
    merged: list[list[Any]] = []
    for s, e, reason, weak in found:
        if merged and (s <= merged[-1][1] or _NAME_GAP.fullmatch(text, merged[-1][1], s)):
            last = merged[-1]
            last[1] = max(last[1], e)
            last[3] = last[3] and weak
            if reason not in last[2]:
                last[2] = f"{last[2]}; {reason}"
            continue
        merged.append([s, e, reason, weak])
    return [(s, e, reason, _context(text, s, e, hits)) for s, e, reason, weak in merged
            if not weak]


def _review_found(
    text: str, masked: list[tuple[int, int]], words: frozenset[str], titles: set[str], doc: Any
) -> list[tuple[int, int, str, bool]]:
    """Return the review candidates of ``text`` outside the ``masked`` spans, by start.

    Each is ``(start, end, reason, weak)``; weak candidates are kept only next to another.
    """
    masked.sort()
    mstarts = [s for s, _ in masked]

    def inside(s: int, e: int) -> bool:
        if not masked:
            return False
        i = bisect.bisect_right(mstarts, s) - 1
        return (i >= 0 and masked[i][1] > s) or (i + 1 < len(masked) and masked[i + 1][0] < e)

    found: list[tuple[int, int, str, bool]] = []
    for m in _CANDIDATE.finditer(text):
        s, e = m.span()
        w = m.group(0)
        if e - s < 2 or inside(s, e):
            continue
        low = w.lower().replace("\u2019", "'")
        parts = [p for p in re.split(r"['-]", low) if p] if "'" in low or "-" in low else [low]
        if low in titles or low in _CALENDAR:
            continue
        start_of_sentence = _sentence_start(text, s)
        if not all(p in words for p in parts):
            reason = "not a dictionary word" + (
                " (sentence start)" if start_of_sentence else ""
            )
        elif (
            not start_of_sentence
            and low in COMMON_WORD_NAMES
            and not _names_a_thing(text, e, words)
        ):
            reason = "capitalised mid-sentence; a common word that is also a name"
        else:
            continue
        # "Black", "White", "Green" alone are far more often not names
        found.append((s, e, reason, reason[0] == "c" and low not in _GIVEN_NAME_WORDS))
    if doc is not None:
        for ent in doc.ents:
            if ent.label_ == "PERSON" and not inside(ent.start_char, ent.end_char):
                found.append(
                    (ent.start_char, ent.end_char, "PERSON entity (en_core_web_sm)", False)
                )
    found.sort()
    return found


# what may separate two words of one name: a space, a hyphen, an initial ("Ó", "J.")
_NAME_GAP = re.compile(rf"[ \u00a0](?:[{_UPPER}]\.?[ \u00a0])?|-")


def _names_a_thing(text: str, end: int, words: frozenset[str]) -> bool:
    """Tell whether a capitalised dictionary word follows ("White Caucus", "Green Party")."""
    m = _CANDIDATE.match(text, end + 1) if text[end : end + 1] == " " else None
    if m is None:
        return False
    nxt = m.group(0).lower()
    return nxt in words and nxt not in COMMON_WORD_NAMES


def _context(text: str, s: int, e: int, hits: list[_Hit], width: int = 40) -> str:
    """``text`` around ``[s, e)`` with the other identifiers found masked."""
    lo, hi = max(0, s - width), min(len(text), e + width)
    parts, pos = [], lo
    for h in hits:
        if h.end <= lo or h.start >= hi:
            continue
        parts.append(text[pos : max(pos, h.start)])
        parts.append(f"[{h.kind}]")
        pos = max(pos, h.end)
    parts.append(text[pos:hi])
    return (
        ("\u2026" if lo > 0 else "")
        + " ".join("".join(parts).split())
        + ("\u2026" if hi < len(text) else "")
    )


_YES = frozenset({"y", "yes", "x", "1", "true", "\u2713", "confirm", "confirmed", "name"})


def write_term_list(path: str | os.PathLike[str], terms: Iterable[str]) -> Path:
    """Write a names or organisations list that :func:`read_term_list` reads back.

    Parameters
    ----------
    path : str or os.PathLike
        Destination (written atomically, UTF-8, one term per line). Keep names lists
        outside the repository.
    terms : iterable of str
        The terms; duplicates (ignoring case) are written once, in first order.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If a term is empty, spans lines or holds a ``#`` (which starts a comment).
    """
    from .io import atomic_write_text

    out: list[str] = []
    seen: set[str] = set()
    for t in terms:
        term = " ".join(str(t).split())
        if not term or "\n" in str(t) or "\r" in str(t) or "#" in term:
            raise InputError(
                f"cannot write term {t!r}: empty, several lines or '#'", path=Path(path)
            )
        if term.casefold() not in seen:
            seen.add(term.casefold())
            out.append(term)
    return atomic_write_text(path, "".join(f"{t}\n" for t in out))


def confirm_names(
    review: pd.DataFrame | str | os.PathLike[str],
    names_file: str | os.PathLike[str],
    *,
    confirm_column: str = "confirm",
) -> list[str]:
    """Add the review-list candidates a person confirmed to the names list.

    Parameters
    ----------
    review : pandas.DataFrame or path
        The review list (:func:`name_candidates`, or the CSV written by
        ``thematic clean --review``) with a ``confirm`` column filled in: ``y``,
        ``yes``, ``x``, ``1`` or ``true`` marks a real name; anything else (or blank)
        leaves the candidate out.
    names_file : str or os.PathLike
        The names list (:func:`read_term_list` format). Created if missing; existing
        names and comments are kept (the file is rewritten atomically).
    confirm_column : str, default "confirm"
        The column holding the decisions.

    Returns
    -------
    list of str
        The names list after the update.

    Raises
    ------
    InputError
        If the review list has no ``candidate`` or ``confirm`` column.
    """
    from .io import atomic_write_text, read_csv

    src = None
    if not isinstance(review, pd.DataFrame):
        src = Path(review)
        if not src.is_file():
            raise InputError("review list not found", path=src)
        review = read_csv(src)
    for c in ("candidate", confirm_column):
        if c not in review.columns:
            raise InputError(
                f"the review list has no {c!r} column (mark real names with y in {confirm_column!r})",
                path=src,
                column=c,
            )
    chosen = [
        " ".join(str(c).split())
        for c, ok in zip(review["candidate"], review[confirm_column], strict=True)
        if isinstance(c, str) and isinstance(ok, str) and ok.strip().casefold() in _YES
    ]
    p = Path(names_file)
    existing = read_term_list(p) if p.exists() else []
    seen = {t.casefold() for t in existing}
    added = []
    for c in chosen:
        if c and "#" not in c and c.casefold() not in seen:
            seen.add(c.casefold())
            added.append(c)
    if added or not p.exists():
        old = p.read_text(encoding="utf-8-sig") if p.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        atomic_write_text(p, old + "".join(f"{t}\n" for t in added))
    return [*existing, *added]


def _mask_audit(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["response_id", "stage", "action", "reason", "detail"]
    data: dict[str, Any] = {c: pd.array([r.get(c) for r in rows], dtype="str") for c in cols}
    data["column"] = pd.array([r.get("column") for r in rows], dtype="str")
    data["kind"] = pd.array([r.get("kind") for r in rows], dtype="str")
    data["start"] = pd.array([r.get("start") for r in rows], dtype="Int64")
    data["end"] = pd.array([r.get("end") for r in rows], dtype="Int64")
    data["digest"] = pd.array([r.get("digest") for r in rows], dtype="str")
    return conform(pd.DataFrame(data), "audit")
