"""Tests of thematic.clean: text normalisation, flags, audit, segmentation (SYNTHETIC data)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # noqa: F401
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thematic.clean as clean_mod
from thematic.clean import (
    DEFAULT_NON_ANSWERS,
    analysable,
    clean_responses,
    clean_text,
    is_non_answer,
    make_segmenter,
    segment,
)
from thematic.errors import InputError
from thematic.ingest import read_export
from thematic.schemas import conform

EXPORTS = Path(__file__).parent / "data" / "exports"


def _table(rows: list[tuple[str | None, str | None]], question: str = "q1") -> pd.DataFrame:
    """responses table from (respondent_id, text) pairs."""
    ids, seen = [], {}
    for r, _ in rows:
        seen[r] = seen.get(r, 0) + 1
        ids.append(f"{r}:{question}" + (f"~{seen[r]}" if seen[r] > 1 else ""))
    df = pd.DataFrame(
        {
            "response_id": ids,
            "respondent_id": pd.array([r for r, _ in rows], dtype="str"),
            "question": question,
            "text_raw": pd.array([t for _, t in rows], dtype="str"),
            "text": pd.array([t for _, t in rows], dtype="str"),
        }
    )
    return conform(df, "responses")


# --------------------------------------------------------------------------- clean_text


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("It\u00e2\u20ac\u2122s been helpful", "It\u2019s been helpful"),  # mojibake repaired
        ("caf\u00c3\u00a9 chat", "caf\u00e9 chat"),
        (
            "\u201cseen\u201d and \u2018heard\u2019",
            "\u201cseen\u201d and \u2018heard\u2019",
        ),  # quotes kept
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("zero\u200bwidth\ufeff and soft\u00adhyphen", "zerowidth and softhyphen"),
        ("bidi \u202eoverride\u202c", "bidi override"),
        ("bell\x07 and \x1b[31mred\x1b[0m", "bell and red"),
        ("  lots   of\t\tspace \u00a0here  ", "lots of space here"),
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("para one\n\n\n\n  para two", "para one\n\npara two"),
        (
            "nurse \U0001f469\u200d\u2695\ufe0f emoji",
            "nurse \U0001f469\u200d\u2695\ufe0f emoji",
        ),  # ZWJ kept
        ("a\u200db", "ab"),  # ZWJ between ASCII letters removed
        ("A&amp;E was busy", "A&E was busy"),
        ("\ufb01ne", "fine"),
        ("   ", ""),
    ],
)
def test_clean_text(raw, want):
    assert clean_text(raw) == want


def test_clean_text_missing():
    assert clean_text(None) is None
    assert clean_text(pd.NA) is None


_ALPHABET = st.sampled_from(
    list("aZ .,'\"-\n\t\r&;#")
    + ["\u2019", "\u201c", "\u201d", "\u2013", "\u00e9", "e\u0301", "\u00c3", "\u00a9", "\u00e2", "\u20ac",
       "\u2122", "\u200b", "\u200d", "\u202e", "\u00a0", "\u0085", "\u2028", "\x07", "\x1b", "\ufeff",
       "\ufb01", "\uff21", "\U0001f469", "\u0645", "\u00ad", "&amp;", "&lt;", "\x9d", "\ufffd"]
)  # fmt: skip
_TEXTS = st.one_of(st.text(max_size=60), st.lists(_ALPHABET, max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_clean_text_is_idempotent(s):
    once = clean_text(s)
    assert clean_text(once) == once
    assert once == unicodedata.normalize("NFC", once)
    assert once == once.strip()
    assert "\u200b" not in once and "  " not in once and "\r" not in once


_ENCODINGS = [
    "sloppy-windows-1252",
    "latin-1",
    "macroman",
    "sloppy-windows-1251",
    "cp437",
    "iso-8859-2",
]


def _mojibake(s: str, enc: str) -> str:
    return s.encode("utf-8").decode(enc, errors="replace")


_MOJIBAKE = st.builds(_mojibake, st.text(min_size=1, max_size=20), st.sampled_from(_ENCODINGS))


@settings(max_examples=600, deadline=None)
@given(st.one_of(_TEXTS, _MOJIBAKE, st.tuples(_TEXTS, _MOJIBAKE).map("".join)))
def test_skipping_ftfy_never_changes_the_result(s):
    # the cheap pre-test may skip ftfy only where ftfy would change nothing
    if not clean_mod._needs_ftfy(s):
        assert ftfy.fix_text(s, config=clean_mod._ftfy_config()) == s


@pytest.mark.parametrize(
    "text", ["n/a", "N/A.", "NA", "none", "None!", "nothing", "No", "-", ".", "...", "no comment",
             "Nothing to add", "don\u2019t know", "Don't know", "\U0001f44d", "?"],
)  # fmt: skip
def test_non_answers(text):
    assert is_non_answer(text)


@pytest.mark.parametrize(
    "text",
    ["No, it was not helpful at all.", "Nothing changed for me, which says a lot.", "Not yet", ""],
)
def test_answers_that_are_not_non_answers(text):
    assert not is_non_answer(text)


def test_non_answers_are_configurable():
    assert is_non_answer("same again", non_answers=DEFAULT_NON_ANSWERS | {"Same again"})
    assert not is_non_answer("same again")
    assert not is_non_answer("no", non_answers=["n/a"])


# --------------------------------------------------------------------------- clean_responses


def test_clean_responses_on_a_qualtrics_export():
    df, _ = read_export(EXPORTS / "qualtrics-3row.csv")
    cleaned, audit = clean_responses(df)
    assert len(cleaned) == len(df)  # every row kept
    assert cleaned["text_raw"].equals(df["text_raw"])  # raw text untouched
    by_text = dict(
        zip(df["text_raw"].fillna(""), cleaned["exclude_reason"].fillna(""), strict=True)
    )
    assert by_text["n/a"] == "non_answer"
    assert by_text["Nothing to add"] == "non_answer"
    assert "preview" in by_text["testing testing - please ignore this preview response"]
    unfinished = cleaned.loc[cleaned["flag_unfinished"]]
    assert (
        unfinished["exclude"].all()
        and unfinished["exclude_reason"].str.contains("unfinished").all()
    )
    # every excluded row is in the audit exactly once, and nothing else is excluded
    excl = audit.loc[audit["action"] == "exclude", "response_id"]
    assert sorted(excl) == sorted(cleaned.loc[cleaned["exclude"], "response_id"])
    assert excl.is_unique
    assert len(analysable(cleaned)) == int((~cleaned["exclude"]).sum())


def test_unfinished_can_be_kept():
    df, _ = read_export(EXPORTS / "qualtrics-3row.csv")
    cleaned, _ = clean_responses(df, exclude_unfinished=False)
    unfinished = cleaned.loc[cleaned["flag_unfinished"]]
    assert not unfinished["exclude_reason"].fillna("").str.contains("unfinished").any()
    assert unfinished["flag_unfinished"].all()


def test_audit_has_kinds_and_counts_not_text():
    df, _ = read_export(EXPORTS / "mojibake.csv")
    cleaned, audit = clean_responses(df)
    assert (
        cleaned["text"].tolist()[0]
        == "It\u2019s been really helpful \u2013 I feel \u201cseen\u201d"
    )
    norm = audit.loc[audit["action"] == "normalise"]
    assert set(norm["reason"]) == {"encoding_repaired"}
    assert sorted(norm["response_id"]) == ["P01:comment", "P03:comment"]
    for detail in audit["detail"].dropna():
        for text in list(df["text_raw"].dropna()) + list(cleaned["text"].dropna()):
            words = text.split()
            for i in range(len(words) - 2):  # no run of three words of any answer
                assert " ".join(words[i : i + 3]) not in detail


def test_flags_duplicates_and_resubmissions():
    long = "The caucus gave me a place to say things I have never said at work before."
    df = _table(
        [
            ("r1", "First go at answering, which I then thought better of."),
            ("r2", long),
            ("r1", "Second, considered answer that replaces my first one."),
            ("r3", long),  # same long answer from another respondent
            ("r4", "Very helpful"),
            ("r5", "Very helpful"),  # short answers are legitimately repeated
            ("r2", long.upper()),  # same respondent, same text (case aside)
            ("r6", ""),
            ("r7", "n/a"),
        ]
    )
    cleaned, audit = clean_responses(df)
    f = cleaned.set_index("response_id")
    assert f.loc["r1:q1", "flag_resubmission"] and not f.loc["r1:q1~2", "flag_resubmission"]
    assert f.loc["r3:q1", "flag_duplicate"] and not f.loc["r2:q1", "flag_duplicate"]
    assert f.loc["r2:q1~2", "flag_duplicate"]
    assert not f.loc["r5:q1", "flag_duplicate"] and not f.loc["r5:q1", "exclude"]
    assert f.loc["r6:q1", "flag_empty"] and f.loc["r7:q1", "flag_non_answer"]
    assert pd.isna(f.loc["r6:q1", "text"])
    details = audit.set_index("response_id")["detail"]
    assert details["r1:q1"] == "superseded by r1:q1~2"
    assert details["r3:q1"] == "duplicate of r2:q1"
    assert set(cleaned.loc[cleaned["exclude"], "response_id"]) == {
        "r1:q1",
        "r3:q1",
        "r2:q1~2",
        "r6:q1",
        "r7:q1",
    }


def test_whole_submission_duplicate():
    rows = []
    for rid in ("a", "b"):  # two ids, identical short answers to three questions
        for q, t in (
            ("q1", "Helpful and honest."),
            ("q2", "Felt connected."),
            ("q3", "Keep going please."),
        ):
            rows.append(
                {"response_id": f"{rid}:{q}", "respondent_id": rid, "question": q, "text": t}
            )
    df = conform(pd.DataFrame(rows).astype("str"), "responses")
    cleaned, _ = clean_responses(df)
    assert cleaned.loc[cleaned["respondent_id"] == "b", "flag_duplicate"].all()
    assert not cleaned.loc[cleaned["respondent_id"] == "a", "flag_duplicate"].any()


def test_clean_responses_is_idempotent():
    df, _ = read_export(EXPORTS / "qualtrics-3row.csv")
    once, _ = clean_responses(df)
    twice, audit2 = clean_responses(once)
    pd.testing.assert_frame_equal(once, twice)
    assert set(audit2["action"]) == {"exclude"}  # no text changed the second time


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TEXTS, min_size=1, max_size=6))
def test_clean_responses_idempotent_on_any_text(texts):
    df = _table([(f"r{i}", t) for i, t in enumerate(texts)])
    once, _ = clean_responses(df)
    twice, _ = clean_responses(once)
    pd.testing.assert_frame_equal(once, twice)


def test_analysable_needs_cleaning():
    with pytest.raises(InputError, match="clean_responses"):
        analysable(_table([("r1", "text")]))


# --------------------------------------------------------------------------- segment


def test_segment_offsets_and_lemmas():
    df = _table(
        [
            (
                "r1",
                "I was feeling better.\n\nThe caucuses were helpful!  We spoke about Dr. Khan\u2019s ideas.",
            ),
            ("r2", "n/a"),
            ("r3", None),
        ]
    )
    cleaned, _ = clean_responses(df)
    seg = segment(cleaned)
    text = cleaned.set_index("response_id").loc["r1:q1", "text"]
    assert seg["response_id"].unique().tolist() == ["r1:q1"]  # excluded rows are not segmented
    assert [text[s:e] for s, e in zip(seg["start"], seg["end"], strict=True)] == seg[
        "text"
    ].tolist()
    assert seg["segment_id"].tolist() == [f"r1:q1#s{i}" for i in range(1, len(seg) + 1)]
    assert len(seg) == 3 and seg["text"].iloc[1] == "The caucuses were helpful!"
    assert "caucus" in seg["lemma"].iloc[1].split() and "be" in seg["lemma"].iloc[1].split()
    conform(seg, "segments")


_SENTENCES = st.lists(
    st.sampled_from(
        ["I felt heard.", "It was hard!", "Why now?", "Dr. Khan spoke.", "e.g. this one", "\n", "  ", "\u2026",
         "We\u2019ll see", "\U0001f44d", "Mr. A. B. Smith left.", "(aside)", "\u00e9t\u00e9"]
    ),
    min_size=1,
    max_size=12,
).map(" ".join)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_SENTENCES, _TEXTS), min_size=1, max_size=4))
def test_segment_offsets_map_back_into_text(texts):
    df = _table([(f"r{i}", t) for i, t in enumerate(texts)])
    cleaned, _ = clean_responses(df)
    seg = segment(cleaned, include_excluded=True)
    by_id = cleaned.set_index("response_id")["text"]
    for rid, grp in seg.groupby("response_id", sort=False):
        text = by_id[rid]
        ends = 0
        for s, e, t in zip(grp["start"], grp["end"], grp["text"], strict=True):
            assert text[s:e] == t and t == t.strip() and t
            assert s >= ends  # in order, not overlapping
            ends = e
        # together the segments hold every non-space character of the text
        assert "".join(grp["text"]).replace(" ", "").replace("\n", "") == "".join(text.split())
    covered = set(seg["response_id"])
    for rid, text in by_id.items():
        if isinstance(text, str) and text.strip():
            assert rid in covered


def test_segment_long_text():
    big = "This is one sentence of a very long answer. " * 25_000  # ~1.1 MB, over spaCy's default
    cleaned, _ = clean_responses(_table([("r1", big)]))
    seg = segment(cleaned)
    assert len(seg) == 25_000 and seg["end"].iloc[-1] == len(cleaned["text"].iloc[0])


def test_make_segmenter_auto_uses_a_trained_pipeline_if_installed(monkeypatch):
    import spacy

    calls = []
    fake = spacy.blank("en")
    fake.add_pipe("sentencizer")
    monkeypatch.setattr(spacy.util, "is_package", lambda name: name == "en_core_web_sm")
    monkeypatch.setattr(spacy, "load", lambda name, **kw: calls.append(name) or fake)
    make_segmenter.cache_clear()
    try:
        assert make_segmenter("auto") is fake
        assert calls == ["en_core_web_sm"]
    finally:
        make_segmenter.cache_clear()


def test_make_segmenter_auto_falls_back_to_blank(monkeypatch):
    import spacy

    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    make_segmenter.cache_clear()
    try:
        nlp = make_segmenter("auto")
        assert nlp.pipe_names == ["sentencizer", "lemmatizer"]
    finally:
        make_segmenter.cache_clear()


def test_make_segmenter_unknown_model():
    with pytest.raises(InputError, match="not installed"):
        make_segmenter("xx_no_such_pipeline")


# --------------------------------------------------------------------------- fast segment


def _segment_oracle(df):
    """The spaCy implementation ``segment`` had before the cached fast path (the oracle)."""
    from thematic.clean import make_segmenter

    nlp = make_segmenter("blank")
    rows = df.loc[~df["exclude"].astype(bool)] if "exclude" in df.columns else df
    rows = rows.loc[rows["text"].notna()]
    out = []
    for rid, text, doc in zip(rows["response_id"], rows["text"], nlp.pipe(list(rows["text"])),
                              strict=True):
        pos = 0
        for sent in doc.sents:
            toks = [t for t in sent if not t.is_space]
            if not toks:
                continue
            pos += 1
            start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
            lemma = " ".join(t.lemma_.lower() if t.lemma_ else t.lower_
                             for t in toks if not t.is_punct)
            out.append((rid, f"{rid}#s{pos}", pos, start, end, text[start:end], lemma,
                        len(toks)))
    return out


def _as_tuples(seg):
    return list(seg[["response_id", "segment_id", "position", "start", "end", "text", "lemma",
                     "n_tokens"]].itertuples(index=False, name=None))


HARD_TEXTS = [
    "Dr. Smith said hi. Then left!", "e.g. this.  And that?!", "Wait... what?",
    "“Quoted.” Next one.", "(Aside.) Then more", "Line one.\nLine two\n\nPara.",
    "  leading and trailing  ", "Tabs\there.\tNew", "U.S.A. is big. Ok.", ": ) smile :) ok.",
    "Mr.Smith went.Home", "3.5 percent. 4 p.m. today.", "No-stop text", "...", "!!", "a",
    "Numbers 1. 2. 3.", "Email me at a.b@example.org. Thanks", "It\u2019s fine.\u00a0Really.",
    "Emoji 😀. Next.", "don't can't won't. Y'all.", "\u2028sep\u2029para. x", "end.\r\nCRLF",
]


def test_segment_matches_spacy_on_fixtures_and_hard_cases():
    from thematic.clean import segment

    texts = HARD_TEXTS + [str(t) for t in _fixture_texts()]
    df = conform(pd.DataFrame({
        "response_id": [f"r{i}" for i in range(len(texts))],
        "respondent_id": [f"r{i}" for i in range(len(texts))],
        "question": "q", "text": texts}).astype("str"), "responses")
    assert _as_tuples(segment(df)) == _segment_oracle(df)


def _fixture_texts():
    from pathlib import Path

    from thematic.ingest import read_export

    out = []
    for p in sorted((Path(__file__).parent / "data").rglob("*.csv"))[:40]:
        try:
            df, _ = read_export(p)
        except Exception:  # noqa: BLE001 - fixtures of refused inputs
            continue
        out += [t for t in df["text"].dropna().tolist()]
    assert out, "no fixture texts found"
    return out


def test_segment_matches_spacy_on_synthetic_responses():
    """30,000 synthetic responses here (100,000 in benchmarks/bench_scale_ingest.py --check)."""
    import random

    from thematic.clean import segment

    rng = random.Random(7)
    words = ["care", "Dr.", "e.g.", "team", "didn't", "(really)", "3.5", "U.K.", "said:",
             "“yes”", "—", "well...", "ok!", "why?", "NHS", "it’s", "a.m.", "x", "etc."]
    ends = [".", "!", "?", "", "...", ".)", ".\u201d", "?!"]
    texts = []
    for _ in range(30_000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
                         + rng.choice(ends))
        sep = rng.choice([" ", "  ", "\n", " \n", "\n\n"])
        texts.append(sep.join(parts))
    df = conform(pd.DataFrame({
        "response_id": [f"r{i}" for i in range(len(texts))],
        "respondent_id": [f"r{i}" for i in range(len(texts))],
        "question": "q", "text": texts}).astype("str"), "responses")
    assert _as_tuples(segment(df)) == _segment_oracle(df)


def test_duplicate_index_in_blocks_equals_whole_table():
    from thematic.clean import (
        DuplicateIndex,
        _clean_part,
        _non_answer_keys,
    )

    long = "this is a long answer with more than eight words in it"
    df = conform(pd.DataFrame({
        "response_id": [f"r{i}:q" for i in range(8)],
        "respondent_id": ["a", "a", "b", "c", "c", "d", "e", "f"],
        "question": "q",
        "text": [long, long, long, "first", "second", long.upper(), "short", "later"],
    }).astype("str"), "responses")
    whole = DuplicateIndex()
    whole.add(_clean_part(df, _non_answer_keys(None)))
    blocks = DuplicateIndex()
    for lo in range(0, 8, 3):
        blocks.add(_clean_part(df.iloc[lo:lo + 3], _non_answer_keys(None), row_offset=lo,
                               digest=True))
    assert whole.flags() == blocks.flags()
    dup, resub, _ = whole.flags()
    assert dup[1] and dup[2] and dup[5] and not dup[0]  # same/other respondent, long
    assert resub[3] and not resub[4]  # c answered again: the last answer is kept
    assert not any(dup[6:]) and not resub[0]
