"""Tests of thematic.codebook: the published map, the YAML format, versions and diffs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from thematic.codebook import (
    Code,
    Codebook,
    Relation,
    Section,
    Theme,
    codebook_from_dict,
    codebook_to_dict,
    diff_codebooks,
    dump_codebook,
    list_versions,
    read_codebook,
    read_version,
    write_codebook,
    write_version,
)
from thematic.coding import read_codings, read_responses
from thematic.errors import InputError, ValidationError
from thematic.sources import extract_quotes, read_source

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "coding"
CORPUS_CODEBOOK = ROOT / "corpus" / "coding" / "codebook.yaml"

SECTIONS = {
    "RMC": "Racially Minoritised Caucus",
    "WC": "White Caucus",
    "FAC": "Facilitators",
    "IC": "Inter-caucus",
}


@pytest.fixture(scope="module")
def quotes():
    return extract_quotes(read_source(ROOT / "corpus" / "raw" / "anti-racism-cop-slides.txt"))


@pytest.fixture(scope="module")
def corpus_cb() -> Codebook:
    return read_codebook(CORPUS_CODEBOOK)


@pytest.fixture()
def small() -> Codebook:
    return read_codebook(DATA / "codebook_small.yaml")


# --------------------------------------------------------------------------- published map


def test_corpus_sections_and_theme_ids(corpus_cb):
    assert [(s.id, s.name) for s in corpus_cb.sections] == list(SECTIONS.items())
    assert [t.id for t in corpus_cb.themes()] == [
        "RMC-T1", "RMC-T2", "RMC-T3", "WC-T1", "WC-T2", "WC-T3", "FAC-T1", "FAC-T2",
        "IC-T1", "IC-T2", "IC-T3",
    ]


def test_corpus_theme_names_exactly_as_on_the_slides(corpus_cb, quotes):
    ids = {v: k for k, v in SECTIONS.items()}
    printed = {
        f"{ids[s]}-T{n}": name
        for s, n, name in zip(quotes["section"], quotes["theme_number"], quotes["theme"],
                              strict=True)
    }
    assert {t.id: t.name for t in corpus_cb.themes()} == printed
    # the typed quotation marks survive the YAML round trip
    assert corpus_cb.find("RMC-T3").name == "“Offering us something different”"
    assert corpus_cb.find("WC-T2").name == "'More white fragility left than I thought'"
    assert corpus_cb.find("IC-T1").name == "'Aha' and 'oh right' moments"


def test_corpus_definitions_are_marked_as_working_definitions(corpus_cb):
    for t in corpus_cb.themes():
        assert t.definition.startswith("Working definition derived from the published extracts: ")
        assert len(t.definition) > 120, t.id
        assert t.status == "final"
    assert corpus_cb.status == "final"
    assert "not the initial codes" in corpus_cb.note


def test_corpus_has_no_invented_codes_or_theme_relations(corpus_cb):
    assert corpus_cb.codes() == []
    assert all(not t.subthemes for t in corpus_cb.themes())
    sections = set(SECTIONS)
    assert corpus_cb.relations, "the caption's 'interconnected' sections are encoded"
    for r in corpus_cb.relations:
        assert r.source in sections and r.target in sections
        assert r.kind == "interconnected"
        assert "four interconnected sections" in r.note
    pairs = {frozenset((r.source, r.target)) for r in corpus_cb.relations}
    assert len(pairs) == 6


def test_corpus_codebook_byte_identical_round_trip(tmp_path, corpus_cb):
    text = CORPUS_CODEBOOK.read_text(encoding="utf-8")
    assert dump_codebook(corpus_cb) == text
    out = write_codebook(corpus_cb, tmp_path / "cb.yaml")
    assert out.read_bytes() == CORPUS_CODEBOOK.read_bytes()


def test_published_version_is_the_codebook():
    versions = list_versions(ROOT / "corpus" / "coding" / "versions")
    assert list(versions["label"]) == ["published"]
    assert (ROOT / "corpus/coding/versions/published.yaml").read_bytes() == \
        CORPUS_CODEBOOK.read_bytes()


# --------------------------------------------------------------------------- API


def test_traversal_on_nested_fixture(small):
    assert [t.id for t in small.themes()] == ["A-T1", "A-T2", "B-T1", "B-T2"]
    assert [t.id for t in small.all_themes()] == ["A-T1", "A-T1a", "A-T2", "B-T1", "B-T2"]
    assert [c.id for c in small.codes()] == ["A-C1", "B-C1"]
    assert small.section_of("A-T1a").id == "A"
    assert small.section_of("B-C1").id == "B"
    assert small.theme_of("A-T1a").id == "A-T1"
    assert small.theme_of("A-C1").id == "A-T1"
    assert isinstance(small.find("A-C1"), Code)
    assert small.find("A-C1").exclusion == "Connection to the facilitators"
    assert isinstance(small.find("B"), Section)
    assert small.ids() == {"A", "B", "A-T1", "A-T1a", "A-C1", "A-T2", "B-T1", "B-C1", "B-T2"}
    with pytest.raises(KeyError, match="ZZZ"):
        small.find("ZZZ")
    with pytest.raises(KeyError, match="A"):
        small.section_of("A")  # a section is not in a section


def test_to_frame_is_tidy(small):
    df = small.to_frame()
    assert list(df.columns) == ["section_id", "section", "kind", "id", "name", "parent_id",
                                "definition", "status", "depth"]
    rows = {r.id: r for r in df.itertuples(index=False)}
    assert (rows["A-T1"].kind, rows["A-T1"].parent_id, rows["A-T1"].depth) == ("theme", "A", 1)
    assert (rows["A-T1a"].kind, rows["A-T1a"].parent_id, rows["A-T1a"].depth) == \
        ("subtheme", "A-T1", 2)
    assert (rows["B-C1"].kind, rows["B-C1"].parent_id, rows["B-C1"].depth) == ("code", "B-T1", 2)
    assert rows["B-C1"].status is None or str(rows["B-C1"].status) == "<NA>"
    assert len(df) == 7


def test_fixture_round_trips_through_dict(small):
    assert codebook_from_dict(codebook_to_dict(small)) == small


# --------------------------------------------------------------------------- validation


def test_load_lists_every_problem_in_one_error():
    path = DATA / "codebook_bad.yaml"
    with pytest.raises(ValidationError) as exc:
        read_codebook(path)
    kinds = sorted(p.kind for p in exc.value.problems)
    assert kinds == sorted(["bad_status", "unknown_key", "missing", "bad_status", "missing",
                            "duplicate_id", "unknown_relation_end"])
    text = " | ".join(str(p) for p in exc.value.problems)
    for needle in ("drafty", "maybe", "A-T1", "A-T3", "NOPE", "defintion", "section B"):
        assert needle in text
    assert str(path) in str(exc.value)
    assert "7 problems" in str(exc.value)


def test_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text("version: 1\nsections:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_codebook(p)
    assert exc.value.row is not None and str(p) in str(exc.value)


def test_missing_file():
    with pytest.raises(InputError, match="not found"):
        read_codebook(DATA / "nope.yaml")


def test_save_refuses_an_invalid_codebook_and_keeps_the_old_file(tmp_path, small):
    target = tmp_path / "cb.yaml"
    write_codebook(small, target)
    before = target.read_bytes()
    small.sections[1].themes[0].id = "A-T1"  # duplicate id
    with pytest.raises(ValidationError, match="A-T1"):
        write_codebook(small, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cb.yaml"]


_chars = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                           blacklist_characters="\x85\u2028\u2029")
    | st.sampled_from(["'", '"', "“", "”", ":", "#", "-", " ", "\n"]),
    max_size=30,
)
# words YAML would read as something other than text if written plain
_text = _chars | st.sampled_from(["yes", "null", "1.0", "~", "- x", "a: b", "'q'", "@x"])


@settings(max_examples=60, deadline=None)
@given(name=_text.filter(lambda s: s.strip() != ""), definition=_text, note=st.none() | _text)
def test_any_text_round_trips_byte_identically(name, definition, note):
    cb = Codebook(version="1", status="candidate",
                  sections=[Section("S", "Section", definition,
                                    [Theme("S-T1", name, definition, note=note,
                                           codes=[Code("S-C1", name, definition, note)])])],
                  relations=[Relation("S", "S-T1", "informs", note)], note=note)
    text = dump_codebook(cb)
    again = codebook_from_dict(yaml.safe_load(text))
    assert again == cb
    assert dump_codebook(again) == text


# --------------------------------------------------------------------------- versions


def test_versions_are_kept_and_listed_in_date_order(tmp_path, small):
    later = codebook_from_dict(codebook_to_dict(small))
    later.status, later.version, later.date = "reviewed", "0.2", "2024-06-01"
    write_version(later, tmp_path, "b reviewed")
    write_version(small, tmp_path, "a candidate")
    df = list_versions(tmp_path)
    assert list(df["label"]) == ["a-candidate", "b-reviewed"]
    assert list(df["status"]) == ["candidate", "reviewed"]
    assert list(df["n_themes"]) == [4, 4] and list(df["n_codes"]) == [2, 2]
    assert read_version(tmp_path, "b reviewed") == later


# --------------------------------------------------------------------------- diff


def test_diff_identical_is_empty(corpus_cb):
    codings = read_codings(ROOT / "corpus" / "coding" / "codings.csv")
    assert diff_codebooks(corpus_cb, corpus_cb).empty
    assert diff_codebooks(corpus_cb, corpus_cb, codings, codings).empty


def test_diff_structural_changes(small):
    new = codebook_from_dict(codebook_to_dict(small))
    new.find("A-T2").name = "Voicing"
    new.find("B-C1").definition = "changed"
    moved = new.sections[0].themes[0].subthemes.pop()
    new.sections[1].themes[1].subthemes.append(moved)  # A-T1a moves under B-T2
    new.sections[0].themes.append(Theme("A-T9", "New theme"))
    new.sections[1].themes[0].codes = []  # B-C1 removed
    df = diff_codebooks(small, new)
    got = {(r.change, r.id) for r in df.itertuples(index=False)}
    assert ("renamed", "A-T2") in got
    assert ("added", "A-T9") in got
    assert ("removed", "B-C1") in got
    assert ("moved", "A-T1a") in got
    row = df[(df["change"] == "renamed")].iloc[0]
    assert (row["old"], row["new"]) == ("Voice", "Voicing")


def test_diff_merge_split_and_moves_from_fixtures():
    responses = read_responses(DATA / "responses_small.csv")
    old = read_version(DATA / "versions", "candidate")
    new = read_version(DATA / "versions", "reviewed")
    oc = read_codings(DATA / "codings_candidate.csv", responses, old)
    nc = read_codings(DATA / "codings_reviewed.csv", responses, new)
    df = diff_codebooks(old, new, oc, nc)
    by = {(r.change, r.id): r for r in df.itertuples(index=False)}
    assert by[("renamed", "X-T1")].new == "Connection"
    assert by[("status", "")].new == "reviewed"
    merged = by[("merged", "X-T6")]
    assert merged.old == "X-T3; X-T5" and merged.detail == "declared"
    split = by[("split", "X-T2")]  # not declared: inferred from where the extracts went
    assert split.new == "X-T2; X-T4" and split.detail.startswith("inferred from codings")
    moved = df[df["change"] == "extract_moved"]
    assert sorted(moved["id"]) == ["R1[45:84]", "R2[0:22]", "R2[23:47]", "R3[28:64]"]
    assert list(df.loc[df["change"] == "extract_added", "id"]) == ["R5[0:45]"]
    # without the declaration the merge is inferred from the codings
    new.find("X-T6").merged_from = []
    df2 = diff_codebooks(old, new, oc, nc)
    row = df2[(df2["change"] == "merged")].iloc[0]
    assert row["id"] == "X-T6" and row["detail"].startswith("inferred")


def test_diff_declared_split_without_codings():
    old = read_version(DATA / "versions", "candidate")
    new = codebook_from_dict(codebook_to_dict(old))
    new.sections[0].themes.append(Theme("X-T7", "Part of voice", split_from="X-T2"))
    new.sections[0].themes.append(Theme("X-T8", "Other part", split_from="X-T2"))
    df = diff_codebooks(old, new)
    row = df[df["change"] == "split"].iloc[0]
    assert (row["id"], row["new"], row["detail"]) == ("X-T2", "X-T7; X-T8", "declared")


def test_versions_dir_fixture_copy_lists_both(tmp_path):
    shutil.copytree(DATA / "versions", tmp_path / "v")
    df = list_versions(tmp_path / "v")
    assert list(df["version"]) == ["candidate-1", "reviewed-1"]
