"""Tests of thematic.refi: REFI-QDA export/import and Taguette CSVs."""

from __future__ import annotations

import io
import unicodedata
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from thematic.codebook import Theme, load_codebook
from thematic.coding import Memo, load_codings, load_memos, load_responses, validate_codings
from thematic.errors import InputError, ValidationError
from thematic.refi import (
    NAMESPACE,
    export_qdc,
    export_qdpx,
    export_taguette_codebook,
    guid_for,
    import_refi,
    normalise_text,
    qdc_bytes,
    qdpx_bytes,
    read_qdc,
    read_qdpx,
    read_taguette_codebook,
    read_taguette_highlights,
    validate_refi,
)

ROOT = Path(__file__).resolve().parents[1]
CODING = Path(__file__).parent / "data" / "coding"
REFI = Path(__file__).parent / "data" / "refi"
XSD = ROOT / "src" / "thematic" / "data" / "refi_qda"
P = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def corpus():
    cb = load_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")
    resp = load_responses(ROOT / "corpus" / "processed" / "responses.csv")
    cod = load_codings(ROOT / "corpus" / "coding" / "codings.csv")
    memos = load_memos(ROOT / "corpus" / "memos")
    return cb, cod, resp, memos


@pytest.fixture(scope="module")
def corpus_qdpx(corpus, tmp_path_factory) -> Path:
    cb, cod, resp, memos = corpus
    return export_qdpx(tmp_path_factory.mktemp("x") / "project.qdpx", cb, cod, resp, memos)


@pytest.fixture(scope="module")
def project_schema():
    return xmlschema.XMLSchema(str(XSD / "Project-mrt2019.xsd"))


@pytest.fixture(scope="module")
def codebook_schema():
    return xmlschema.XMLSchema(str(XSD / "Codebook.xsd"))


def _qde(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde"))


# --------------------------------------------------------------------------- export


def test_qdpx_validates_against_the_xsd(corpus_qdpx, project_schema):
    with zipfile.ZipFile(corpus_qdpx) as zf:
        project_schema.validate(io.BytesIO(zf.read("project.qde")))
    assert validate_refi(corpus_qdpx) == []


def test_qdc_validates_against_the_xsd(corpus, tmp_path, codebook_schema):
    out = export_qdc(corpus[0], tmp_path / "cb.qdc")
    codebook_schema.validate(str(out))
    assert validate_refi(out) == []


def test_validator_reports_schema_violations():
    bad = b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="x"/></Codes></CodeBook>'
    errors = validate_refi(bad)
    assert errors and any("guid" in e or "isCodable" in e for e in errors)


def test_export_is_byte_identical_and_zip_is_fixed(corpus, corpus_qdpx, tmp_path):
    cb, cod, resp, memos = corpus
    again = export_qdpx(tmp_path / "again.qdpx", cb, cod.sample(frac=1, random_state=5),
                        resp, memos)
    assert again.read_bytes() == corpus_qdpx.read_bytes()
    assert qdc_bytes(cb) == qdc_bytes(cb)
    with zipfile.ZipFile(corpus_qdpx) as zf:
        names = zf.namelist()
        assert names[0] == "project.qde"
        assert names[1:] == sorted(names[1:]) and all(n.startswith("sources/") for n in names[1:])
        assert len(names) == 1 + len(resp)
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        for n in names[1:]:
            data = zf.read(n)
            assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
            text = data.decode("utf-8")
            assert unicodedata.is_normalized("NFC", text)


def test_guids_are_uuid5_of_stable_ids():
    assert guid_for("code", "RMC-T1") == str(uuid.uuid5(NAMESPACE, "code:RMC-T1")).upper()
    assert guid_for("code", "RMC-T1") != guid_for("code", "RMC-T2")


def test_qdpx_content(corpus, corpus_qdpx):
    cb, cod, resp, memos = corpus
    root = _qde(corpus_qdpx)
    codes = root.find(f"{P}CodeBook/{P}Codes")
    sections = codes.findall(f"{P}Code")
    assert [s.get("name") for s in sections] == [s.name for s in cb.sections]
    assert {s.get("isCodable") for s in sections} == {"false"}
    themes = [t for s in sections for t in s.findall(f"{P}Code")]
    assert [t.get("name") for t in themes] == [t.name for t in cb.themes()]
    assert {t.get("isCodable") for t in themes} == {"true"}
    assert themes[0].findtext(f"{P}Description") == cb.themes()[0].definition
    sels = root.findall(f".//{P}PlainTextSelection")
    assert len(sels) == 49
    users = [u.get("name") for u in root.findall(f"{P}Users/{P}User")]
    assert "published" in users and all(m.author in users for m in memos)
    # every selection's code is a theme GUID, and every source text is the response text
    theme_guids = {t.get("guid") for t in themes}
    assert {s.find(f"{P}Coding/{P}CodeRef").get("targetGUID") for s in sels} == theme_guids
    graph = root.find(f"{P}Graphs/{P}Graph")
    assert len(graph.findall(f"{P}Vertex")) == 4 + 11
    edges = [e.get("name") for e in graph.findall(f"{P}Edge")]
    assert edges.count("contains") == 11 and edges.count("interconnected") == 6
    notes = root.findall(f"{P}Notes/{P}Note")
    assert len(notes) == len(memos)
    # memos about the sections are referenced from the section codes
    assert all(s.find(f"{P}NoteRef") is not None for s in sections)


def test_text_raw_is_never_exported(corpus, tmp_path):
    cb, cod, resp, _ = corpus
    secret = resp.assign(text_raw="SECRET NAME " + resp["text"])
    data = qdpx_bytes(cb, cod, secret)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert b"SECRET NAME" not in blob


# --------------------------------------------------------------------------- round trip


def test_round_trip_of_the_corpus_is_lossless(corpus, corpus_qdpx):
    cb, cod, resp, memos = corpus
    proj = read_qdpx(corpus_qdpx)
    assert proj.warnings == []
    assert proj.codebook == cb
    pd.testing.assert_frame_equal(proj.codings, cod)
    assert list(proj.responses.columns) == list(resp.columns)
    pd.testing.assert_series_equal(proj.responses["text"], resp["text"])
    pd.testing.assert_frame_equal(proj.responses.astype("string"), resp.astype("string"),
                                  check_dtype=False)
    assert proj.memos == memos


def test_round_trip_with_codes_subthemes_coders_and_memos(tmp_path):
    cb = load_codebook(CODING / "codebook_small.yaml")
    cb.sections[0].themes[0].subthemes[0].subthemes.append(
        Theme("A-T1a-i", "Deeper", "third level", status="candidate"))
    resp = load_responses(CODING / "responses_small.csv")
    from thematic.coding import merge_codings

    cod = merge_codings([CODING / "coder_a.csv", CODING / "coder_b.csv",
                         CODING / "codings_small.csv"]).drop(columns="source")
    cod.loc[0, "memo"] = "a memo, with “quotes” and\nnewline"
    memos = [Memo("2024-01-02-on-r2", "2024-01-02", "ana", ["R2", "B-T2"], "About R2.\n"),
             Memo("2024-01-03-general", "2024-01-03", "ben", [], "General.\n")]
    out = export_qdpx(tmp_path / "p.qdpx", cb, cod, resp, memos)
    assert validate_refi(out) == []
    proj = read_qdpx(out)
    assert proj.codebook == cb
    expected = cod.sort_values(["response_id", "start", "end", "code", "coder"],
                               kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(proj.codings, expected)
    assert proj.memos == memos
    assert list(proj.responses["text"]) == list(resp["text"])
    assert list(proj.responses["respondent_id"]) == list(resp["respondent_id"])
    # a theme with children that nobody coded is a non-codable parent
    root = _qde(out)
    by_name = {c.get("name"): c.get("isCodable") for c in root.iter(f"{P}Code")}
    assert by_name["Connection"] == "false"  # has children, never coded itself
    assert by_name["Shared experience"] == "true" and by_name["Deeper"] == "true"


def test_export_normalises_text_and_shifts_offsets(tmp_path):
    text = "Line one\r\nCafe\u0301 line two"  # CRLF and a decomposed é
    resp = pd.DataFrame({"response_id": ["R1"], "respondent_id": [pd.NA], "question": ["q"],
                         "text": [text]})
    start = text.index("line two")
    cod = pd.DataFrame({"response_id": ["R1"], "code": ["A-T2"], "start": [start],
                        "end": [len(text)], "excerpt": ["line two"], "coder": ["ana"],
                        "memo": [pd.NA]})
    cb = load_codebook(CODING / "codebook_small.yaml")
    out = export_qdpx(tmp_path / "n.qdpx", cb, cod, resp)
    with zipfile.ZipFile(out) as zf:
        stored = zf.read([n for n in zf.namelist() if n.startswith("sources/")][0])
    assert stored.decode("utf-8") == "Line one\nCafé line two"
    assert start == 16  # in the text as given (CRLF = 2, e + combining accent = 2)
    proj = read_qdpx(out)
    r = proj.codings.iloc[0]
    assert (r["start"], r["end"], r["excerpt"]) == (14, 22, "line two")


# --------------------------------------------------------------------------- other tools


def test_fixture_archive_matches_its_readable_source():
    with zipfile.ZipFile(REFI / "other_tool.qdpx") as zf:
        for name in zf.namelist():
            assert zf.read(name) == (REFI / "other_tool_src" / name).read_bytes(), name


def test_import_other_tool_project():
    assert validate_refi(REFI / "other_tool.qdpx") == []
    proj = read_qdpx(REFI / "other_tool.qdpx")
    cb = proj.codebook
    assert [s.name for s in cb.sections] == ["Experiences", "Imported codes (no section)"]
    belonging = cb.sections[0].themes[0]
    assert belonging.name == "Belonging" and belonging.definition == "Feeling part of the group"
    peer = belonging.subthemes[0]
    practical = peer.subthemes[0]
    assert (peer.name, practical.name, practical.codes[0].name) == \
        ("Peer support", "Practical help", "Lending notes")
    assert [t.name for t in cb.sections[1].themes] == ["Loose code"]
    kinds = {p.kind for p in proj.warnings}
    assert kinds == {"unsorted", "ids_from_guids"}
    texts = dict(zip(proj.responses["response_id"], proj.responses["text"], strict=True))
    # BOM removed, CRLF -> LF, NFD -> NFC
    assert texts["R1"] == "We sat in silence.\nThen the café group spoke.\nIt felt like belonging."
    assert texts["R3"] == "Loose remark about the meeting.\n"  # relative:// outside the zip
    assert list(proj.responses["group"].fillna("-")) == ["A", "B", "-"]
    rows = {(r.response_id, r.excerpt): r for r in proj.codings.itertuples(index=False)}
    r = rows[("R1", "Then the café group spoke.")]
    assert (r.code, r.coder, r.memo) == (peer.id, "Ana", "Ana's selection memo")
    assert rows[("R1", "belonging")].coder == "Ben"  # lower-case GUID in braces
    assert rows[("R1", "belonging")].code == belonging.id
    assert rows[("R2", "A colleague lent me notes")].code == practical.codes[0].id
    assert rows[("R3", "Loose remark about the meeting.\n")].code == cb.sections[1].themes[0].id
    assert len(proj.codings) == 5
    (memo,) = proj.memos
    assert (memo.author, memo.date, memo.about) == ("Ana", "2024-03-06", [belonging.id])
    assert memo.body == "Belonging came up twice today."
    # the import is consistent: every coding fits its response
    report = validate_codings(proj.codings, proj.responses, cb)
    assert report.errors == []


def test_import_ids_are_stable():
    a = read_qdpx(REFI / "other_tool.qdpx").codebook
    b = read_qdpx(REFI / "other_tool.qdpx").codebook
    assert a == b and len(a.ids()) == 8


def test_bom_counting_tools_shift_offsets_by_one():
    proj = read_qdpx(REFI / "other_tool.qdpx", bom_counts=True)
    r1 = proj.codings[proj.codings["response_id"] == "R1"]
    assert "Then the café group spoke." not in set(r1["excerpt"])
    assert "\nThen the café group spoke" in set(r1["excerpt"])


def test_import_other_tool_codebook(codebook_schema):
    codebook_schema.validate(str(REFI / "other_tool.qdc"))
    cb = read_qdc(REFI / "other_tool.qdc")
    (trust,) = cb.sections[0].themes
    assert trust.name == "Trust" and trust.definition == "Trust between members"
    assert [s.name for s in trust.subthemes] == ["Building trust"]
    assert [c.name for c in trust.subthemes[0].codes] == ["Small disclosures"]
    assert [c.name for c in trust.codes] == ["Broken trust"]
    assert [t.name for t in cb.sections[1].themes] == ["Logistics"]


def test_qdc_round_trip_keeps_ids_via_metadata(corpus, tmp_path):
    cb = corpus[0]
    assert read_qdc(export_qdc(cb, tmp_path / "c.qdc")) == cb


def test_import_refi_writes_checked_files(corpus_qdpx, corpus, tmp_path):
    written = import_refi(corpus_qdpx, tmp_path / "imp")
    assert set(written) == {"codebook", "codings", "responses", "memos"}
    assert written["codebook"].read_bytes() == \
        (ROOT / "corpus" / "coding" / "codebook.yaml").read_bytes()
    assert written["codings"].read_bytes() == \
        (ROOT / "corpus" / "coding" / "codings.csv").read_bytes()
    for m in (ROOT / "corpus" / "memos").glob("2*.md"):
        assert (tmp_path / "imp" / "memos" / m.name).read_bytes() == m.read_bytes()
    resp = load_responses(written["responses"])
    assert list(resp["text"]) == list(corpus[2]["text"])


def test_import_errors():
    with pytest.raises(InputError, match="not found"):
        read_qdpx(REFI / "nope.qdpx")
    with pytest.raises(InputError, match="zip"):
        read_qdpx(REFI / "taguette_codebook.csv")


# --------------------------------------------------------------------------- offsets


def test_normalise_text_maps_offsets():
    raw = "\ufeffa\r\nb\rc\u0301d"
    text, m = normalise_text(raw)
    assert text == unicodedata.normalize("NFC", "a\nb\nc\u0301d")
    assert len(m) == len(raw) - 1 + 1  # BOM not counted
    assert m[0] == 0 and m[3] == 2  # after CRLF
    assert m[-1] == len(text)
    text2, m2 = normalise_text(raw, bom_counts=True)
    assert text2 == text and len(m2) == len(raw) + 1 and m2[4] == 2


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["ab", "\r\n", "\n", "\r", "é", "e\u0301", " ", "x"]),
                max_size=20), st.booleans())
def test_normalise_text_maps_piece_boundaries(pieces, bom):
    raw = ("\ufeff" if bom else "") + "".join(pieces)
    text, m = normalise_text(raw)
    assert "\r" not in text and not text.startswith("\ufeff")
    assert unicodedata.is_normalized("NFC", text)
    assert m == sorted(m) and m[-1] == len(text)
    # the passage between two piece boundaries maps onto its normalised form
    bounds = [0]
    for p in pieces:
        bounds.append(bounds[-1] + len(p))
    for i in range(len(pieces)):
        seg = pieces[i].replace("\r\n", "\n").replace("\r", "\n")
        if pieces[i] == "\r" and i + 1 < len(pieces) and pieces[i + 1].startswith("\n"):
            seg = ""  # a CR that, with the next piece's LF, is one CRLF line end
        assert text[m[bounds[i]]:m[bounds[i + 1]]] == unicodedata.normalize("NFC", seg)


# --------------------------------------------------------------------------- Taguette


def test_taguette_codebook_export_and_read_back(corpus, tmp_path):
    cb = corpus[0]
    out = export_taguette_codebook(cb, tmp_path / "codebook.csv")
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["tag", "description"]
    assert list(df["tag"]) == [t.name for t in cb.themes()]
    back = read_taguette_codebook(out)
    assert [(t.name, t.definition) for t in back.themes()] == \
        [(t.name, t.definition) for t in cb.themes()]


def test_taguette_codebook_exports():
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv")
    assert [(t.name, t.definition) for t in cb.themes()] == [
        ("Belonging", "Feeling part of the group"),
        ("Silence", "Not speaking, or being silenced"),
        ("Lending notes", ""),
    ]
    cb2 = read_taguette_codebook(REFI / "taguette_codebook_parent.csv")
    assert [t.name for t in cb2.themes()] == ["Belonging", "Silence"]
    assert [c.name for c in cb2.find("Belonging").codes] == ["Lending notes"]


def test_taguette_highlights_become_codings():
    proj = read_qdpx(REFI / "other_tool.qdpx")
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv")
    cod = read_taguette_highlights(REFI / "taguette_highlights.csv", proj.responses, cb)
    got = [(r.response_id, r.code, r.excerpt) for r in cod.itertuples(index=False)]
    assert got == [
        ("R1", "Belonging", "belonging"),
        ("R2", "Silence", "Nobody said anything."),
        ("R2", "Lending_notes", "A colleague lent me notes"),
    ]
    assert validate_codings(cod, proj.responses, cb).errors == []


def test_taguette_highlights_list_every_problem():
    proj = read_qdpx(REFI / "other_tool.qdpx")
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv")
    with pytest.raises(ValidationError) as exc:
        read_taguette_highlights(REFI / "taguette_highlights_bad.csv", proj.responses, cb)
    assert [p.kind for p in exc.value.problems] == ["unknown_document", "unknown_tag",
                                                     "content_not_found"]


def test_sources_only_project_round_trips(tmp_path):
    from thematic.codebook import Codebook
    from thematic.coding import empty_codings

    resp = load_responses(CODING / "responses_small.csv")
    empty = Codebook(version="0", status="candidate", sections=[])
    out = export_qdpx(tmp_path / "s.qdpx", empty, empty_codings(), resp)
    assert validate_refi(out) == []
    proj = read_qdpx(out)
    assert proj.codebook == empty and proj.codings.empty
    assert list(proj.responses["text"]) == list(resp["text"])
    with pytest.raises(InputError, match="at least one code"):
        export_qdc(empty, tmp_path / "e.qdc")
