"""An independent spaCy oracle for the name and organisation matching of thematic.deidentify.

The library matches the research team's lists, and names after a title, with one
trie-shaped regular expression (:meth:`thematic.deidentify.Deidentifier._listed`). This
module does the same with spaCy instead -- a blank English pipeline
(``spacy.blank("en")``, no trained model) whose tokenizer is extended so that letters
next to digits, Unicode hyphens, glued initials ``A.Khan`` and leading or trailing
hyphens are boundaries; a ``PhraseMatcher`` on the ``LOWER`` attribute for every listed
form (labels ``NAME`` and ``ORGANISATION``); token ``Matcher`` patterns for title and
initial prefixes (``Dr``, ``Dr. A.``, ``A. K.``) and capitalised words after a title --
and feeds its matches through the library's own rules (common-word names, titles and
initials, overlaps, pseudonym and digest keys). Every other kind of identifier is found
by the library's regular expressions in both. The tests use it as an oracle: both must
give the same placeholders and the same audit rows (kind, span, salted digest), except
at the token boundaries below. It lived in the library as ``engine="spacy"`` until its
only use, this cross-check, moved here.

Where the two differ:

* The oracle matches whole tokens. A listed name glued to other letters by punctuation
  that spaCy keeps inside one token is masked only by the library: a full stop without a
  space (``sam.taylor`` outside an e-mail address, ``Ms.nct``), a possessive run into the
  next word (``Sam'sWhite``), an apostrophe inside a word (``O'Neill`` when only
  ``Neill`` is listed).
* Both read a whitespace run between two words after a title as one gap
  (``Dr Ama  Owusu`` is one ``[NAME]``), and a title never counts as the second word of
  a name (``Dr Khan Dr Okafor`` is two names).
* The oracle counts initials by token, up to three (``A.K.`` is one), the library by
  letter: ``A.K. B. C. Khan`` is ``[NAME]`` for the oracle and ``A.K. [NAME]`` for the
  library.
* Runs of titles (``Ms. Ms.``, ``Dr. Dr``) and initials with no name after them are
  handled differently (the library reads an undotted title or a lone initial as a name
  word).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any
from unittest import mock

import pandas as pd

import thematic.deidentify as deid
from thematic.deidentify import (
    _ABBREV_TITLES,
    _LOWER,
    _LOWER_TITLES,
    _TITLES,
    _UPPER,
    _WORD_TITLES,
    NOT_NAMES_AFTER_TITLE,
    Deidentified,
    Deidentifier,
    _Hit,
    _TermMatcher,
)

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
_NAME_PART_TOKEN = (
    rf"^[{_UPPER}][{_LOWER}]*(?:[{_UPPER}][{_LOWER}]+)*(?:['\u2019][{_UPPER}][{_LOWER}]+)*$"
)
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
    """Match the listed names and organisations with spaCy.

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
                    for t in [
                        *_title_patterns("ORTH", list(_ABBREV_TITLES)),
                        [{"ORTH": {"IN": [*_WORD_TITLES, *_LOWER_TITLES]}, "SPACY": True}],
                    ]
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
    """``spacy.blank("en")`` with the tokenizer rules of the oracle (built once)."""
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
    up to two more by hyphens without spaces; a second and a third word may follow after
    a space.
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

    # "Dr Khan Dr Okafor" is two names; "Nurse Practitioner" is no name
    not_name = sorted(
        {t.lower() + d for t in _TITLE_WORDS for d in ("", ".")} | NOT_NAMES_AFTER_TITLE
    )
    bodies = []
    for j1 in range(3):
        first = word(True, j1, None)
        first[0]["LOWER"] = {"NOT_IN": not_name}
        bodies.append(first)
        for j2 in range(3):
            second = word(False, j2, None)
            second[0]["LOWER"] = {"NOT_IN": not_name}
            first = word(True, j1, True)
            first[0]["LOWER"] = {"NOT_IN": not_name}
            bodies.append([*first, *second])
            for j3 in range(3):  # a third word ("Sister Chiamaka Ó Briain")
                second = word(False, j2, True)
                second[0]["LOWER"] = {"NOT_IN": not_name}
                third = word(False, j3, None)
                third[0]["LOWER"] = {"NOT_IN": not_name}
                bodies.append([*first, *second, *third])
    return bodies


class SpacyDeidentifier(Deidentifier):
    """:class:`thematic.deidentify.Deidentifier` with the lists matched by spaCy."""

    def __init__(
        self,
        names: Sequence[str] = (),
        organisations: Sequence[str] = (),
        *,
        titled_names: bool = True,
        ner: bool | str = False,
    ) -> None:
        super().__init__(names, organisations, titled_names=titled_names, ner=ner)
        self._spacy = _SpacyTerms(self.names, self.organisations, titled_names=titled_names)

    def _listed(self, text: str, low: str) -> list[_Hit]:
        return self._spacy.find(text, low)


@functools.lru_cache(maxsize=8)
def _cached(names: tuple[str, ...], orgs: tuple[str, ...], titled: bool) -> SpacyDeidentifier:
    return SpacyDeidentifier(names, orgs, titled_names=titled)


def deidentify_text(
    text: str,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
    *,
    titled_names: bool = True,
) -> str:
    """:func:`thematic.deidentify.deidentify_text` with the oracle."""
    return _cached(tuple(names), tuple(organisations), titled_names).mask(text)[0]


def deidentify_responses(df: pd.DataFrame, names: Sequence[str] = (),
                         organisations: Sequence[str] = (), **kwargs: Any) -> Deidentified:
    """:func:`thematic.deidentify.deidentify_responses` with the oracle."""
    with mock.patch.object(deid, "Deidentifier", SpacyDeidentifier):
        return deid.deidentify_responses(df, names, organisations, **kwargs)
