"""Tests of thematic.coding: the published codings, validation, summaries, several coders."""

from __future__ import annotations

import math
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from thematic.codebook import read_codebook
from thematic.coding import (
    AGREEMENT_NOTE,
    Memo,
    check_against_source,
    coder_agreement,
    cooccurrence,
    disagreements,
    illustrative_extracts,
    merge_codings,
    parse_memo,
    published_codings,
    read_codings,
    read_memos,
    read_responses,
    response_summary,
    theme_by_group,
    theme_counts,
    validate_codings,
    write_codings,
)
from thematic.errors import InputError, ValidationError
from thematic.sources import extract_quotes, read_source

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "coding"
SECTION_IDS = {"Racially Minoritised Caucus": "RMC", "White Caucus": "WC",
               "Facilitators": "FAC", "Inter-caucus": "IC"}


@pytest.fixture(scope="module")
def quotes():
    return extract_quotes(read_source(ROOT / "corpus" / "raw" / "anti-racism-cop-slides.txt"))


@pytest.fixture(scope="module")
def corpus():
    cb = read_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")
    resp = read_responses(ROOT / "corpus" / "processed" / "responses.csv")
    cod = read_codings(ROOT / "corpus" / "coding" / "codings.csv")
    return cb, resp, cod


@pytest.fixture()
def small():
    cb = read_codebook(DATA / "codebook_small.yaml")
    resp = read_responses(DATA / "responses_small.csv")
    cod = read_codings(DATA / "codings_small.csv")
    return cb, resp, cod


# --------------------------------------------------------------------------- published codings


def test_corpus_codings_encode_the_slides(corpus, quotes):
    cb, resp, cod = corpus
    assert list(cod["response_id"]) == [f"E{i:02d}" for i in range(1, 50)]
    assert set(cod["coder"]) == {"published"}
    texts = dict(zip(resp["response_id"], resp["text"], strict=True))
    for r in cod.itertuples(index=False):
        assert r.start == 0 and r.end == len(texts[r.response_id])
        assert r.excerpt == texts[r.response_id]
    expected = {f"{SECTION_IDS[s]}-T{n}" for s, n in zip(quotes["section"], quotes["theme_number"],
                                                         strict=True)}
    assert set(cod["code"]) == expected
    report = check_against_source(cod, quotes, cb)
    assert report.ok and report.problems == []


def test_slide_counts_per_theme(corpus):
    _, _, cod = corpus
    counts = cod["code"].value_counts().to_dict()
    assert counts == {"RMC-T1": 4, "RMC-T2": 4, "RMC-T3": 4, "WC-T1": 5, "WC-T2": 4, "WC-T3": 5,
                      "FAC-T1": 4, "FAC-T2": 4, "IC-T1": 5, "IC-T2": 5, "IC-T3": 5}


def test_published_codings_rebuild_the_committed_file(corpus, quotes, tmp_path):
    out = write_codings(published_codings(quotes), tmp_path / "c.csv")
    assert out.read_bytes() == (ROOT / "corpus" / "coding" / "codings.csv").read_bytes()


def test_check_against_source_catches_a_moved_extract(corpus, quotes):
    cb, _, cod = corpus
    bad = cod.copy()
    bad.loc[bad["response_id"] == "E01", "code"] = "RMC-T2"
    bad.loc[bad["response_id"] == "E02", "end"] = 10
    bad = bad[bad["response_id"] != "E49"]
    report = check_against_source(bad, quotes, cb)
    kinds = sorted((p.kind, p.location.split(" ")[0]) for p in report.errors)
    assert kinds == [("not_coded", "E49"), ("partial", "E02"), ("wrong_theme", "E01")]


def test_corpus_codings_validate(corpus):
    cb, resp, cod = corpus
    report = validate_codings(cod, resp, cb)
    assert report.problems == []


# --------------------------------------------------------------------------- validation


def test_validate_lists_every_problem_at_once(small):
    cb, resp, _ = small
    cod = read_codings(DATA / "codings_bad.csv")
    report = validate_codings(cod, resp, cb, what="codings_bad.csv")
    errors = sorted((p.kind, p.location) for p in report.errors)
    assert errors == sorted([
        ("unknown_code", "codings_bad.csv row 3"),
        ("offset_out_of_range", "codings_bad.csv row 5"),
        ("excerpt_not_found", "codings_bad.csv row 7"),
        ("not_codable", "codings_bad.csv row 8"),
        ("unknown_response", "codings_bad.csv row 11"),
        ("empty_segment", "codings_bad.csv row 12"),
        ("missing_value", "codings_bad.csv row 13"),
        ("duplicate_segment", "codings_bad.csv"),
    ])
    warns = sorted((p.kind, p.location) for p in report.warnings)
    assert warns == [("reanchored", "codings_bad.csv row 4"),
                     ("reanchored", "codings_bad.csv row 6"),
                     ("uncoded_response", "response R6")]
    fixed = report.table
    assert (fixed.loc[2, "start"], fixed.loc[2, "end"]) == (0, 22)
    assert (fixed.loc[4, "start"], fixed.loc[4, "end"]) == (0, 27)
    with pytest.raises(ValidationError) as exc:
        report.raise_for_errors()
    assert len(exc.value.problems) == 8


def test_reanchor_picks_the_occurrence_nearest_the_old_offset():
    resp = pd.DataFrame({"response_id": ["R"], "respondent_id": [pd.NA], "question": ["q"],
                         "text": ["safe. not safe. safe."]})
    cod = pd.DataFrame({"response_id": ["R"], "code": ["X"], "start": [14], "end": [18],
                        "excerpt": ["safe"], "coder": ["a"], "memo": [pd.NA]})
    report = validate_codings(cod, resp, None)
    assert [p.kind for p in report.problems] == ["reanchored"]
    assert (report.table.loc[0, "start"], report.table.loc[0, "end"]) == (16, 20)


def test_missing_excerpt_is_filled(small):
    cb, resp, cod = small
    cod = cod.copy()
    cod.loc[0, "excerpt"] = pd.NA
    report = validate_codings(cod, resp, cb)
    assert report.ok and [p.kind for p in report.warnings][0] == "excerpt_filled"
    assert report.table.loc[0, "excerpt"] == "I felt connected to the others in my caucus."


def test_load_codings_bad_offsets_lists_rows(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("response_id,code,start,end,excerpt,coder,memo\n"
                 "R1,A,x,3,abc,a,\nR1,A,0,-2,abc,a,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        read_codings(p)
    assert [p.location.rsplit(" ", 1)[-1] for p in exc.value.problems] == ["2", "3"]


def test_load_with_responses_and_codebook_raises_on_errors(small):
    cb, resp, _ = small
    with pytest.raises(ValidationError, match="unknown_code|NOPE"):
        read_codings(DATA / "codings_bad.csv", resp, cb)


# --------------------------------------------------------------------------- saving


def test_save_is_sorted_and_deterministic(small, tmp_path):
    _, _, cod = small
    a = write_codings(cod, tmp_path / "a.csv").read_bytes()
    b = write_codings(cod.sample(frac=1, random_state=3), tmp_path / "b.csv").read_bytes()
    assert a == b
    back = read_codings(tmp_path / "a.csv")
    assert list(back["response_id"]) == sorted(back["response_id"])
    assert back.drop(columns=[]).equals(read_codings(tmp_path / "b.csv"))


def test_failing_write_leaves_the_old_file_intact(small, tmp_path, monkeypatch):
    _, _, cod = small
    target = write_codings(cod, tmp_path / "codings.csv")
    before = target.read_bytes()
    real = pd.DataFrame.to_csv

    def crash(self, buf, *args, **kwargs):
        real(self.head(2), buf, *args, **kwargs)  # part of the file is written...
        raise OSError("disk full")  # ...then the write fails

    monkeypatch.setattr(pd.DataFrame, "to_csv", crash)
    with pytest.raises(OSError, match="disk full"):
        write_codings(cod.iloc[:3], target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["codings.csv"]


def test_save_refuses_invalid_table(tmp_path, small):
    _, _, cod = small
    bad = cod.copy()
    bad.loc[0, "coder"] = pd.NA
    with pytest.raises(ValidationError):
        write_codings(bad, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


# --------------------------------------------------------------------------- summaries


def test_theme_by_group_on_corpus(corpus, quotes):
    cb, resp, cod = corpus
    df = theme_by_group(cod, resp, cb)
    assert list(df.columns) == ["section_id", "theme_id", "theme", "group", "n_extracts",
                                "n_respondents"]
    assert len(df) == 11 * 2
    # respondents are not identified: unknown wherever there is an extract
    assert df.loc[df["n_extracts"] > 0, "n_respondents"].isna().all()
    assert (df.loc[df["n_extracts"] == 0, "n_respondents"] == 0).all()
    # independent count from the slides: extracts per (theme, attributed group)
    q = quotes.assign(theme_id=[f"{SECTION_IDS[s]}-T{n}" for s, n in
                                zip(quotes["section"], quotes["theme_number"], strict=True)])
    expected = q.groupby(["theme_id", "group"]).size().to_dict()
    got = {(r.theme_id, r.group): int(r.n_extracts) for r in df.itertuples(index=False)}
    assert {k: v for k, v in got.items() if v} == expected
    assert got[("FAC-T1", "White Caucus")] == 0
    assert int(df["n_extracts"].sum()) == 49


def test_theme_counts_roll_codes_up_and_count_respondents(small):
    cb, resp, cod = small
    df = theme_counts(cod, resp, cb)
    rows = {r.theme_id: r for r in df.itertuples(index=False)}
    # A-T1: code A-C1 in R1 and subtheme A-T1a in R2
    assert (rows["A-T1"].n_segments, rows["A-T1"].n_extracts, rows["A-T1"].n_respondents) == \
        (2, 2, 2)
    # B-T2: R2 (P2), R4 (P4), R5 (P3)
    assert (rows["B-T2"].n_extracts, rows["B-T2"].n_respondents) == (3, 3)
    by_session = theme_counts(cod, resp, cb, by="session")
    r = by_session[(by_session["theme_id"] == "B-T2") & (by_session["session"] == "S2")]
    assert int(r["n_extracts"].iloc[0]) == 2
    sec = theme_counts(cod, resp, cb, level="section", by="group")
    assert set(sec.columns) >= {"section_id", "group", "n_extracts"}
    assert "theme_id" not in sec.columns
    assert "not" in theme_counts.__doc__ and "importance" in theme_counts.__doc__


def test_response_summary(corpus):
    _, resp, _ = corpus
    df = response_summary(resp)
    assert list(df["group"]) == ["Racially Minoritised Caucus", "White Caucus", "All"]
    assert list(df["n_responses"]) == [
        int((resp["group"] == "Racially Minoritised Caucus").sum()),
        int((resp["group"] == "White Caucus").sum()), 49]
    assert df["n_respondents"].isna().all()


def test_cooccurrence(corpus, small):
    cb, _, cod = corpus
    df = cooccurrence(cod, cb)
    assert len(df) == 11 * 12 // 2
    off = df[df["id_a"] != df["id_b"]]
    assert (off["n_responses"] == 0).all()  # the slides print each extract under one theme
    diag = df[df["id_a"] == df["id_b"]].set_index("id_a")["n_responses"].to_dict()
    assert diag == cod["code"].value_counts().to_dict()
    cb2, _, cod2 = small
    d2 = cooccurrence(cod2, cb2).set_index(["id_a", "id_b"])["n_responses"]
    assert d2[("A-T1", "A-T2")] == 1  # R1
    assert d2[("A-T2", "B-T1")] == 1  # R3
    assert d2[("A-T1", "B-T2")] == 1  # R2


def test_illustrative_extracts_spread_across_groups(corpus, quotes):
    cb, resp, cod = corpus
    df = illustrative_extracts(cod, resp, cb, per_theme=3)
    assert (df.groupby("theme_id").size() == 3).all()
    fac2 = df[df["theme_id"] == "FAC-T2"]
    assert list(fac2["group"]) == ["Racially Minoritised Caucus", "White Caucus",
                                   "Racially Minoritised Caucus"]
    q = quotes[(quotes["section"] == "Facilitators") & (quotes["theme_number"] == 2)]
    rmc = list(q.loc[q["group"] == "Racially Minoritised Caucus", "response_id"])
    wc = list(q.loc[q["group"] == "White Caucus", "response_id"])
    assert list(fac2["response_id"]) == [rmc[0], wc[0], rmc[1]]
    again = illustrative_extracts(cod.sample(frac=1, random_state=1), resp, cb, per_theme=3)
    pd.testing.assert_frame_equal(df, again)
    short = illustrative_extracts(cod, resp, cb, per_theme=1, order="length")
    wc1 = short[short["theme_id"] == "WC-T1"].iloc[0]
    wc1_lengths = [len(t) for t in resp.loc[cod[cod["code"] == "WC-T1"].index, "text"]]
    assert wc1["n_chars"] == min(wc1_lengths)


# --------------------------------------------------------------------------- several coders


def test_merge_keeps_every_segment_with_provenance(tmp_path):
    a, b = DATA / "coder_a.csv", DATA / "coder_b.csv"
    merged = merge_codings([a, b])
    key = ["response_id", "code", "start", "end", "coder"]
    for f in (a, b):
        for r in read_codings(f)[key].itertuples(index=False):
            assert (merged[key] == pd.Series(r._asdict())).all(axis=1).any(), r
    assert len(merged) == 12
    assert set(merged["source"]) == {"coder_a.csv", "coder_b.csv"}
    # the same segments in two files: kept once, both files named
    copy = tmp_path / "copy.csv"
    copy.write_bytes(a.read_bytes())
    twice = merge_codings([a, copy])
    assert len(twice) == 6 and set(twice["source"]) == {"coder_a.csv; copy.csv"}


def test_merge_fills_coder_names():
    df = read_codings(DATA / "coder_a.csv").drop(columns="coder")
    merged = merge_codings([df], coders=["zoe"])
    assert set(merged["coder"]) == {"zoe"} and set(merged["source"]) == {"input 1"}


def test_disagreement_table():
    merged = merge_codings([DATA / "coder_a.csv", DATA / "coder_b.csv"])
    df = disagreements(merged)
    got = sorted((r.response_id, r.kind, r.coder, r.code) for r in df.itertuples(index=False))
    assert got == [
        ("R1", "only_one_coder", "ana", "A-T2"),
        ("R2", "only_one_coder", "ben", "A-T1a"),
        ("R3", "different_codes", "ana", "B-C1"),
        ("R4", "different_span", "ana", "B-T2"),
    ]
    r3 = df[df["kind"] == "different_codes"].iloc[0]
    assert (r3["other_coder"], r3["other_code"]) == ("ben", "A-T2")


def test_agreement_matches_krippendorff_and_carries_the_note():
    cb = read_codebook(DATA / "codebook_small.yaml")
    merged = merge_codings([DATA / "coder_a.csv", DATA / "coder_b.csv"])
    res = coder_agreement(merged, cb)
    assert res.note == AGREEMENT_NOTE and "does not treat agreement" in res.note
    assert "does not treat agreement" in str(res)
    # independent reliability matrix: responses R1-R5 x 7 codes, both coders coded all five
    codes = ["A-T1", "A-T1a", "A-T2", "B-T1", "B-T2", "A-C1", "B-C1"]
    applied = {
        "ana": {("R1", "A-C1"), ("R1", "A-T2"), ("R2", "B-T2"), ("R3", "B-C1"), ("R4", "B-T2"),
                ("R5", "B-T2")},
        "ben": {("R1", "A-C1"), ("R2", "B-T2"), ("R2", "A-T1a"), ("R3", "A-T2"), ("R4", "B-T2"),
                ("R5", "B-T2")},
    }
    units = [(r, c) for r in ["R1", "R2", "R3", "R4", "R5"] for c in codes]
    mat = np.array([[1.0 if u in applied[c] else 0.0 for u in units] for c in ("ana", "ben")])
    expected = krippendorff.alpha(reliability_data=mat, level_of_measurement="nominal")
    assert math.isclose(res.alpha, expected)
    assert res.n_coders == 2 and res.n_units == 35


def test_agreement_perfect_and_undefined():
    a = read_codings(DATA / "coder_a.csv")
    same = merge_codings([a, a.assign(coder="ben")])
    assert coder_agreement(same).alpha == pytest.approx(1.0)
    one = coder_agreement(a)
    assert math.isnan(one.alpha) and one.note == AGREEMENT_NOTE
    assert "undefined" in str(one)


def test_bad_options_raise_input_error_naming_option_and_choices():
    cb = read_codebook(DATA / "codebook_small.yaml")
    a = read_codings(DATA / "coder_a.csv")
    with pytest.raises(InputError, match="level must be one of 'code', 'theme', not 'topic'"):
        coder_agreement(a, cb, level="topic")
    with pytest.raises(InputError, match="level='theme' needs the codebook"):
        coder_agreement(a, level="theme")
    with pytest.raises(InputError, match="coders must give one name .* 1 name.* 2 source"):
        merge_codings([a, a], coders=["ana"])


# --------------------------------------------------------------------------- memos


def test_corpus_memos_are_valid_and_about_known_ids(corpus):
    cb, _, _ = corpus
    memos = read_memos(ROOT / "corpus" / "memos")
    assert 1 <= len(memos) <= 2
    for m in memos:
        assert set(m.about) <= cb.ids()
        assert m.date == m.name[:10]


def test_memo_round_trip_and_problems():
    m = Memo(name="2024-01-01-x", date="2024-01-01", author="Ana", about=["A-T1", "R2"],
             body="# Title\n\nText: with 'quotes'.\n")
    assert parse_memo(m.to_text(), m.name) == m
    with pytest.raises(ValidationError) as exc:
        parse_memo("---\ndate: 2024-1-1\nabout: 3\n---\nbody\n", "bad")
    assert sorted(p.kind for p in exc.value.problems) == ["about", "author", "date"]


def test_merging_a_merged_table_keeps_original_provenance(tmp_path):
    import pandas as pd

    from thematic.coding import merge_codings

    a = pd.DataFrame({"response_id": ["r1"], "code": ["C1"], "start": [0], "end": [3],
                      "excerpt": ["abc"], "coder": ["ana"], "memo": [pd.NA]})
    b = a.assign(coder="ben")
    c = a.assign(coder="cai", code="C2")
    a.to_csv(tmp_path / "codings-ana.csv", index=False)
    b.to_csv(tmp_path / "codings-ben.csv", index=False)
    first = merge_codings([tmp_path / "codings-ana.csv", tmp_path / "codings-ben.csv"])
    again = merge_codings([first, c])
    src = dict(zip(again["coder"], again["source"], strict=True))
    assert src == {"ana": "codings-ana.csv", "ben": "codings-ben.csv", "cai": "input 2"}
