"""Tests of thematic.refi: REFI-QDA export/import and Taguette CSVs."""

from __future__ import annotations

import io
import shutil
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

from thematic.codebook import Theme, read_codebook
from thematic.coding import Memo, read_codings, read_memos, read_responses, validate_codings
from thematic.errors import InputError, ValidationError
from thematic.refi import (
    NAMESPACE,
    TAGUETTE_CODEBOOK_COLUMNS,
    TAGUETTE_HIGHLIGHTS_COLUMNS,
    guid_for,
    import_refi,
    normalise_text,
    qdc_bytes,
    qdpx_bytes,
    read_qdc,
    read_qde,
    read_qdpx,
    read_taguette_codebook,
    read_taguette_highlights,
    validate_refi,
    write_qdc,
    write_qdpx,
    write_taguette_codebook,
)

ROOT = Path(__file__).resolve().parents[1]
CODING = Path(__file__).parent / "data" / "coding"
REFI = Path(__file__).parent / "data" / "refi"
XSD = ROOT / "src" / "thematic" / "data" / "refi_qda"
P = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def corpus():
    cb = read_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")
    resp = read_responses(ROOT / "corpus" / "processed" / "responses.csv")
    cod = read_codings(ROOT / "corpus" / "coding" / "codings.csv")
    memos = read_memos(ROOT / "corpus" / "memos")
    return cb, cod, resp, memos


@pytest.fixture(scope="module")
def corpus_qdpx(corpus, tmp_path_factory) -> Path:
    cb, cod, resp, memos = corpus
    result = write_qdpx(tmp_path_factory.mktemp("x") / "project.qdpx", cb, cod, resp, memos)
    assert (result.n_sources, result.n_codings, result.n_memos) == (len(resp), len(cod),
                                                                    len(memos))
    assert result.n_codes == len(cb.to_frame()) and result.caveats
    return result.path


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
    assert validate_refi(corpus_qdpx).problems == []


def test_qdc_validates_against_the_xsd(corpus, tmp_path, codebook_schema):
    result = write_qdc(corpus[0], tmp_path / "cb.qdc")
    out = result.path
    assert (result.n_sources, result.n_codes) == (0, len(corpus[0].to_frame()))
    assert any("code set" in c for c in result.caveats)
    codebook_schema.validate(str(out))
    assert validate_refi(out).problems == []


def test_validator_reports_schema_violations():
    bad = b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="x"/></Codes></CodeBook>'
    report = validate_refi(bad)
    assert not report.ok and report.what == "REFI-QDA bytes" and report.table is None
    assert {p.kind for p in report.problems} == {"schema"}
    assert any("guid" in str(p) or "isCodable" in str(p) for p in report.errors)
    with pytest.raises(ValidationError, match="REFI-QDA bytes"):
        report.raise_for_errors()


def test_export_is_byte_identical_and_zip_is_fixed(corpus, corpus_qdpx, tmp_path):
    cb, cod, resp, memos = corpus
    again = write_qdpx(tmp_path / "again.qdpx", cb, cod.sample(frac=1, random_state=5),
                       resp, memos).path
    assert again.read_bytes() == corpus_qdpx.read_bytes()
    assert qdc_bytes(cb) == qdc_bytes(cb)
    with zipfile.ZipFile(corpus_qdpx) as zf:
        names = zf.namelist()
        assert names[0] == "project.qde"
        assert names[1:] == sorted(names[1:]) and all(n.startswith("sources/") for n in names[1:])
        assert len(names) == 1 + len(resp) + len(memos)  # a text file per note too
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
    cb = read_codebook(CODING / "codebook_small.yaml")
    cb.sections[0].themes[0].subthemes[0].subthemes.append(
        Theme("A-T1a-i", "Deeper", "third level", status="candidate"))
    resp = read_responses(CODING / "responses_small.csv")
    from thematic.coding import merge_codings

    cod = merge_codings([CODING / "coder_a.csv", CODING / "coder_b.csv",
                         CODING / "codings_small.csv"]).drop(columns="source")
    cod.loc[0, "memo"] = "a memo, with “quotes” and\nnewline"
    memos = [Memo("2024-01-02-on-r2", "2024-01-02", "ana", ["R2", "B-T2"], "About R2.\n"),
             Memo("2024-01-03-general", "2024-01-03", "ben", [], "General.\n")]
    out = write_qdpx(tmp_path / "p.qdpx", cb, cod, resp, memos).path
    assert validate_refi(out).problems == []
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
    cb = read_codebook(CODING / "codebook_small.yaml")
    out = write_qdpx(tmp_path / "n.qdpx", cb, cod, resp).path
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
    assert validate_refi(REFI / "other_tool.qdpx").problems == []
    proj = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI)
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
    # R1 has CRLF line ends and selections; the origin is unknown, so the reader says
    # which CRLF convention it used; R3 was read from the folder the caller named
    assert kinds == {"unsorted", "ids_from_guids", "crlf_offsets", "read_from_sources_dir"}
    texts = dict(zip(proj.responses["response_id"], proj.responses["text"], strict=True))
    # BOM removed, CRLF -> LF, NFD -> NFC
    assert texts["R1"] == "We sat in silence.\nThen the café group spoke.\nIt felt like belonging."
    # relative:// outside the zip: read only from the folder the caller named
    assert texts["R3"] == "Loose remark about the meeting.\n"
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
    assert memo.body == "Belonging came up twice today.\n"
    # the import is consistent: every coding fits its response
    report = validate_codings(proj.codings, proj.responses, cb)
    assert report.errors == []


def test_import_ids_are_stable():
    a = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI).codebook
    b = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI).codebook
    assert a == b and len(a.ids()) == 8


def test_bom_counting_tools_shift_offsets_by_one():
    proj = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI, bom_counts=True)
    r1 = proj.codings[proj.codings["response_id"] == "R1"]
    assert "Then the café group spoke." not in set(r1["excerpt"])
    assert "\nThen the café group spoke" in set(r1["excerpt"])


def test_import_other_tool_codebook(codebook_schema):
    codebook_schema.validate(str(REFI / "other_tool.qdc"))
    cb = read_qdc(REFI / "other_tool.qdc").codebook
    (trust,) = cb.sections[0].themes
    assert trust.name == "Trust" and trust.definition == "Trust between members"
    assert [s.name for s in trust.subthemes] == ["Building trust"]
    assert [c.name for c in trust.subthemes[0].codes] == ["Small disclosures"]
    assert [c.name for c in trust.codes] == ["Broken trust"]
    assert [t.name for t in cb.sections[1].themes] == ["Logistics"]


def test_qdc_round_trip_keeps_ids_via_metadata(corpus, tmp_path):
    cb = corpus[0]
    back = read_qdc(write_qdc(cb, tmp_path / "c.qdc").path)
    assert back.codebook == cb and back.warnings == []
    assert back.codings.empty and back.responses.empty and back.memos == []


def test_import_refi_writes_checked_files(corpus_qdpx, corpus, tmp_path):
    result = import_refi(corpus_qdpx, tmp_path / "imp")
    assert result.warnings == []
    written = result.written
    assert set(written) == {"codebook", "codings", "responses", "memos"}
    assert written["codebook"].read_bytes() == \
        (ROOT / "corpus" / "coding" / "codebook.yaml").read_bytes()
    assert written["codings"].read_bytes() == \
        (ROOT / "corpus" / "coding" / "codings.csv").read_bytes()
    for m in (ROOT / "corpus" / "memos").glob("2*.md"):
        assert (tmp_path / "imp" / "memos" / m.name).read_bytes() == m.read_bytes()
    resp = read_responses(written["responses"])
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
    out = write_taguette_codebook(cb, tmp_path / "codebook.csv")
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    # Taguette's own header and order (taguette/export.py, codebook_csv)
    assert list(df.columns) == ["tag", "parent", "description", "number of highlights"]
    assert list(df.columns) == TAGUETTE_CODEBOOK_COLUMNS
    frame = cb.to_frame()
    assert list(df["tag"]) == list(frame["name"])
    assert set(df["number of highlights"]) == {""}  # unknown without codings
    back = read_taguette_codebook(out).codebook
    assert [(t.name, t.definition) for t in back.themes()] == \
        [(t.name, t.definition) for t in cb.themes()]


def test_taguette_codebook_exports():
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv").codebook
    assert [(t.name, t.definition) for t in cb.themes()] == [
        ("Belonging", "Feeling part of the group"),
        ("Silence", "Not speaking, or being silenced"),
        ("Lending notes", ""),
    ]
    cb2 = read_taguette_codebook(REFI / "taguette_codebook_parent.csv").codebook
    assert [t.name for t in cb2.themes()] == ["Belonging", "Silence"]
    assert [c.name for c in cb2.find("Belonging").codes] == ["Lending notes"]


def test_taguette_highlights_become_codings():
    proj = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI)
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv").codebook
    cod = read_taguette_highlights(REFI / "taguette_highlights.csv", proj.responses, cb)
    got = [(r.response_id, r.code, r.excerpt) for r in cod.itertuples(index=False)]
    assert got == [
        ("R1", "Belonging", "belonging"),
        ("R2", "Silence", "Nobody said anything."),
        ("R2", "Lending_notes", "A colleague lent me notes"),
    ]
    assert validate_codings(cod, proj.responses, cb).errors == []


def test_taguette_highlights_list_every_problem():
    proj = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI)
    cb = read_taguette_codebook(REFI / "taguette_codebook.csv").codebook
    with pytest.raises(ValidationError) as exc:
        read_taguette_highlights(REFI / "taguette_highlights_bad.csv", proj.responses, cb)
    assert [p.kind for p in exc.value.problems] == ["unknown_document", "unknown_tag",
                                                     "content_not_found"]


def test_sources_only_project_round_trips(tmp_path):
    from thematic.codebook import Codebook
    from thematic.coding import empty_codings

    resp = read_responses(CODING / "responses_small.csv")
    empty = Codebook(version="0", status="candidate", sections=[])
    out = write_qdpx(tmp_path / "s.qdpx", empty, empty_codings(), resp).path
    assert validate_refi(out).problems == []
    proj = read_qdpx(out)
    assert proj.codebook == empty and proj.codings.empty
    assert list(proj.responses["text"]) == list(resp["text"])
    with pytest.raises(InputError, match="at least one code"):
        write_qdc(empty, tmp_path / "e.qdc")


# --------------------------------------------------------------------------- real-tool quirks
# Each fixture below is SYNTHETIC (invented content) but laid out the way a named tool
# writes its files: a real MAXQDA 24 project.qde (read for reference, not committed),
# and the REFI-QDA / CSV writer and reader code of QualCoder and Taguette.


def _zip_dir(src: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for f in sorted(src.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(src).as_posix())
    return dest


def test_bare_qde_is_read_and_validated_as_a_project():
    # MAXQDA 24: an unzipped project (project.qde + sources/) is what gets shared
    qde = REFI / "maxqda24_bare" / "project.qde"
    assert validate_refi(qde).problems == []  # the project schema, chosen by the root element
    with pytest.raises(InputError, match="project .* not a codebook"):
        read_qdc(qde)
    with pytest.raises(InputError, match="not a REFI-QDA project.*use read_qdc"):
        read_qde(REFI / "other_tool.qdc")


def test_maxqda24_missing_source_is_named_not_a_traceback(tmp_path):
    # MAXQDA 24 layout; the text of "Doc 2025 6-9" is not next to the .qde
    qde = REFI / "maxqda24_bare" / "project.qde"
    with pytest.raises(ValidationError) as exc:
        read_qde(qde)
    (problem,) = exc.value.problems
    assert problem.kind == "missing_source"
    assert "'Doc 2025 6-9'" in problem.message
    assert "internal://5A1B0000-0000-4000-8000-000000000002.txt" in problem.message
    assert "missing_sources='skip'" in str(exc.value)
    with pytest.raises(ValidationError, match="Doc 2025 6-9"):
        import_refi(qde, tmp_path / "strict")
    assert not (tmp_path / "strict" / "codebook.yaml").exists()
    proj = read_qde(qde, missing_sources="skip")
    assert [p.kind for p in proj.warnings if p.kind == "missing_source"] == ["missing_source"]
    assert list(proj.responses["response_id"]) == ["Doc 2024 1-5"]


def test_imported_foreign_projects_re_export_valid_and_stable(tmp_path):
    projects = [read_qde(REFI / "maxqda24_bare" / "project.qde", missing_sources="skip"),
                read_qde(REFI / "maxqda_quirks" / "project.qde"),
                read_qde(REFI / "qualcoder_project" / "project.qde"),
                read_qde(REFI / "atlasti_project" / "project.qde",
                         sources_dir=REFI / "atlasti_project" / "project Media"),
                read_qde(REFI / "nvivo_links" / "project.qde"),
                read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI)]
    for i, p in enumerate(projects):
        out = write_qdpx(tmp_path / f"{i}.qdpx", p.codebook, p.codings, p.responses,
                         p.memos).path
        assert validate_refi(out).problems == [], i
        assert qdpx_bytes(p.codebook, p.codings, p.responses, p.memos) == out.read_bytes()
        back = read_qdpx(out)
        assert back.warnings == [] and back.codebook == p.codebook and back.memos == p.memos
        pd.testing.assert_frame_equal(back.codings, p.codings)
        pd.testing.assert_frame_equal(back.responses, p.responses.astype("string"))
        written = import_refi(out, tmp_path / f"in{i}").written
        if p.memos:
            assert read_memos(written["memos"]) == sorted(p.memos, key=lambda m: m.name)


def test_maxqda24_codebook_users_and_document_sets(tmp_path):
    qde = REFI / "maxqda24_bare" / "project.qde"
    proj = read_qde(qde, missing_sources="skip")
    cb = proj.codebook
    # MAXQDA marks parent categories isCodable="true": they are themes of UNSORTED
    (section,) = cb.sections
    assert section.id == "UNSORTED"
    assert [(t.name, [c.name for c in t.codes]) for t in section.themes] == [
        ("Category A", ["A - Code one", "A - Code two"]),
        ("Category B", ["B - Code one"]),
    ]
    # upper-case GUIDs without braces give the same ids as braces / lower case would
    a = section.themes[0]
    assert a.id.startswith("T-") and a.codes[0].id.startswith("C-")
    assert a.codes[0].definition == "First code of category A.\n"  # kept as written
    # document sets (Set/MemberSource) become a column
    assert proj.responses.loc[0, "sets"] == "Year 2024"
    assert proj.responses.loc[0, "text"] == \
        "Synthetic paper text, first source.\nIt has two lines.\n"
    # the files written load again
    written = import_refi(qde, tmp_path / "out", missing_sources="skip").written
    assert read_codebook(written["codebook"]) == cb
    assert list(read_responses(written["responses"])["sets"]) == ["Year 2024"]


def test_maxqda24_zipped_and_bare_read_the_same(tmp_path):
    folder = tmp_path / "proj"
    shutil.copytree(REFI / "maxqda24_bare", folder)
    (folder / "sources" / "5A1B0000-0000-4000-8000-000000000002.txt").write_text(
        "Second synthetic source.\n", encoding="utf-8")
    bare = read_qde(folder / "project.qde")
    zipped = read_qdpx(_zip_dir(folder, tmp_path / "p.qdpx"))
    assert bare.codebook == zipped.codebook
    pd.testing.assert_frame_equal(bare.responses, zipped.responses)
    assert list(bare.responses["sets"]) == ["Year 2024", "Year 2025"]


def test_cli_imports_a_bare_qde_and_reports_missing_sources_in_one_line(tmp_path, capsys):
    from thematic.cli import main

    assert main(["import-refi", str(REFI / "maxqda24_bare" / "project.qde"), "-o",
                 str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Doc 2025 6-9" in err and "Traceback" not in err
    folder = tmp_path / "proj"
    shutil.copytree(REFI / "maxqda24_bare", folder)
    (folder / "sources" / "5A1B0000-0000-4000-8000-000000000002.txt").write_text(
        "x\n", encoding="utf-8")
    assert main(["import-refi", str(folder / "project.qde"), "-o", str(tmp_path / "ok")]) == 0
    assert "[unsorted]" in capsys.readouterr().out


def test_maxqda_duplicate_names_annotations_and_case_variables():
    # MAXQDA behaviours QualCoder's importer works around (see the fixture's comment)
    proj = read_qde(REFI / "maxqda_quirks" / "project.qde")
    assert list(proj.responses["response_id"]) == ["Interview", "Interview-2"]
    assert "duplicate_source_name" in {p.kind for p in proj.warnings}
    # document variables from a nameless Case with one SourceRef
    assert list(proj.responses["Age"].fillna("-")) == ["41", "-"]
    (coding,) = proj.codings.itertuples(index=False)
    assert (coding.excerpt, coding.coder) == ("The nurse was kind.", "coder1")
    assert pd.isna(coding.memo)
    # a selection with a Description and no Coding is an annotation: a memo, not lost
    (memo,) = proj.memos
    assert memo.about == ["Interview"] and memo.author == "coder1"  # modifyingUser
    assert memo.date == "2024-02-03"  # modifiedDateTime
    assert "I waited two hours." in memo.body and "compare with the second" in memo.body


def test_qualcoder_codebook_with_bom_and_nested_categories(tmp_path):
    qdc = REFI / "qualcoder_codebook.qdc"
    assert qdc.read_bytes().startswith(b"\xef\xbb\xbf<?xml")  # as QualCoder writes it
    assert validate_refi(qdc).problems == []
    cb = read_qdc(qdc).codebook
    x, unsorted = cb.sections
    assert (x.name, x.description) == ("Category X", "A category")
    assert [(t.name, [c.name for c in t.codes]) for t in x.themes] == \
        [("Code in X", []), ("Sub-category Y", ["Code in Y"])]
    assert [(t.name, [c.name for c in t.codes]) for t in unsorted.themes] == \
        [("Loose code", []), ("Parent code", ["Sub code"])]
    written = import_refi(qdc, tmp_path / "o").written
    assert read_codebook(written["codebook"]) == cb


def test_codebook_in_the_0_4_namespace_with_empty_descriptions():
    # a MAXQDA CodeBook in urn:QDA-XML:codebook:0:4; QualCoder's importer notes both
    qdc = REFI / "maxqda_codebook_ns04.qdc"
    assert any("codebook:0:4" in str(p) for p in validate_refi(qdc).errors)  # our XSD is 1.0
    cb = read_qdc(qdc).codebook
    (theme,) = cb.themes()
    assert theme.name == "Category Q" and theme.definition == "Parent category Q."
    assert [(c.name, c.definition) for c in theme.codes] == \
        [("Q - first", ""), ("Q - none of these", "")]


def test_atlasti_code_groups_are_reported(tmp_path):
    qdc = REFI / "atlasti_codebook.qdc"
    assert validate_refi(qdc).problems == []
    read = read_qdc(qdc)
    cb, warnings = read.codebook, read.warnings
    assert [t.name for t in cb.themes()] == ["alpha", "beta"]
    assert [p.kind for p in warnings if p.kind == "code_sets_ignored"] == ["code_sets_ignored"]
    assert "'group one'" in str(warnings[-1])
    via_import = import_refi(qdc, tmp_path / "o").warnings
    assert [p.kind for p in via_import] == [p.kind for p in warnings]
    # the hand-made fixture has a code set too
    other = read_qdc(REFI / "other_tool.qdc").warnings
    assert any("'Favourites'" in str(p) for p in other)


def test_qualcoder_project_layout():
    qde = REFI / "qualcoder_project" / "project.qde"
    # QualCoder writes creatingUser="" for an owner without a user: not schema-valid,
    # read anyway (coder "unknown")
    errors = validate_refi(qde).errors
    assert errors and all("creatingUser=''" in str(e) for e in errors)
    proj = read_qde(qde)
    texts = dict(zip(proj.responses["response_id"], proj.responses["text"], strict=True))
    # BOM dropped, CRLF -> LF; the PDF's text comes from its Representation
    assert texts == {"interview1.txt": "Line one about care.\nWe waited in the hall.\n"
                                       "Staff were kind.\n",
                     "report.pdf": "Report title\nWaiting lists are long.\n"}
    # positions index QualCoder's LF text although the files have CRLF: the origin
    # tells, so no crlf_offsets warning
    rows = [(r.response_id, r.excerpt, r.coder, r.memo)
            for r in proj.codings.fillna("-").itertuples(index=False)]
    assert rows == [("interview1.txt", "We waited in the hall.", "anna", "long wait"),
                    ("interview1.txt", "Staff were kind.", "unknown", "-"),
                    ("report.pdf", "Waiting lists are long.", "anna", "-")]
    assert "crlf_offsets" not in {p.kind for p in proj.warnings}
    shifted = read_qde(qde, crlf_counts=True)
    assert shifted.codings["excerpt"].iloc[0] == "\nWe waited in the hall"
    # a named Case -> "case" column and its variables
    r = proj.responses.set_index("response_id")
    assert (r.loc["interview1.txt", "case"], r.loc["interview1.txt", "age group"]) == \
        ("Participant 1", "30-39")
    assert pd.isna(r.loc["report.pdf", "case"])
    # journal note (plainTextPath, BOM) and annotation note (NoteRef from the source)
    journal, annotation = proj.memos
    assert (journal.name, journal.date, journal.author, journal.about, journal.body) == \
        ("Journal-one", "2024-05-03", "anna", [], "Journal entry: waiting came up again.\n")
    assert annotation.about == ["interview1.txt"]
    assert annotation.body == "Annotation on line one\n"
    assert proj.codebook.note == "Synthetic project memo"
    waiting = proj.codebook.sections[0].themes[0]
    assert (waiting.name, waiting.definition) == ("Waiting", "Time spent waiting")


def test_atlasti_counts_crlf_as_one_and_reads_media_only_when_named(tmp_path):
    qde = REFI / "atlasti_project" / "project.qde"
    media = REFI / "atlasti_project" / "project Media"
    # relative:// without basePath: ATLAS.ti keeps the file in "<project name> Media"
    # next to the project; that is outside the project, read only when the user names it
    with pytest.raises(ValidationError) as exc:
        read_qde(qde)
    (problem,) = exc.value.problems
    assert "'doc two'" in problem.message and "project Media" in problem.message
    assert "--sources-dir" in problem.message
    proj = read_qde(qde, sources_dir=media)
    assert list(proj.codings["excerpt"]) == ["Second line is coded."]
    assert "crlf_offsets" not in {p.kind for p in proj.warnings}
    assert read_qde(qde, crlf_counts=True, sources_dir=media).codings["excerpt"].iloc[0] == \
        "\nSecond line is coded"
    texts = dict(zip(proj.responses["response_id"], proj.responses["text"], strict=True))
    assert texts["doc two"] == "A note kept outside the project.\n"
    # same when zipped as project.qdpx next to "project Media"
    folder = tmp_path / "z"
    shutil.copytree(REFI / "atlasti_project" / "sources", folder / "src" / "sources")
    shutil.copy(qde, folder / "src" / "project.qde")
    shutil.copytree(media, folder / "project Media")
    zipped = read_qdpx(_zip_dir(folder / "src", folder / "project.qdpx"),
                       sources_dir=folder / "project Media")
    assert zipped.codebook == proj.codebook
    pd.testing.assert_frame_equal(zipped.responses, proj.responses)


def test_unknown_tool_with_crlf_says_which_convention_was_used():
    proj = read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI)
    (w,) = [p for p in proj.warnings if p.kind == "crlf_offsets"]
    assert "'R1'" in w.message and "crlf_counts=False" in w.message
    assert not any(p.kind == "crlf_offsets"
                   for p in read_qdpx(REFI / "other_tool.qdpx", sources_dir=REFI, crlf_counts=True).warnings)


def test_nvivo_linked_annotation_becomes_a_memo_about_the_source():
    proj = read_qde(REFI / "nvivo_links" / "project.qde")
    assert proj.warnings == []  # the bare selection is carried by the Link, not lost
    assert proj.codings.empty
    (memo,) = proj.memos
    assert (memo.name, memo.date, memo.author, memo.about, memo.body) == \
        ("Annotation-1", "2023-11-05", "Nora", ["Meeting notes"],
         "Annotation: check the winter rota.\n")


def test_taguette_qdc_layout():
    qdc = REFI / "taguette_codebook.qdc"
    assert any("Sets" in str(p) for p in validate_refi(qdc).errors)  # an empty <Sets/>
    cb = read_qdc(qdc).codebook
    # flat: a dotted tag name is one code, not a hierarchy
    assert [t.name for t in cb.themes()] == ["interesting", "interesting.funny", "sad"]
    assert cb.codes() == []


def test_non_refi_xml_is_refused_clearly(tmp_path):
    other = tmp_path / "x.qde"
    other.write_text('<?xml version="1.0"?><Something/>', encoding="utf-8")
    with pytest.raises(InputError, match="root element is 'Something'"):
        import_refi(other, tmp_path / "o")
    with pytest.raises(InputError, match="not XML"):
        import_refi(REFI / "taguette_codebook.csv", tmp_path / "o")


def test_normalise_text_crlf_counted_as_one():
    raw = "\ufeffab\r\ncd\re"
    text, m = normalise_text(raw, crlf_counts=False)
    assert text == "ab\ncd\ne"
    assert len(m) == len("ab\ncd\re") + 1  # the CRLF is one counted character
    assert text[m[3]:m[5]] == "cd"
    assert normalise_text(raw, crlf_counts=True)[1][4] == 3  # after the CRLF: 2 counted


# --------------------------------------------------------------------------- Taguette layouts


def test_taguette_codebook_export_has_parents_and_counts(tmp_path):
    cb = read_codebook(CODING / "codebook_small.yaml")
    frame = cb.to_frame()
    cod = pd.DataFrame({"response_id": ["R1", "R1", "R2"], "code": [frame["id"][0]] * 3,
                        "start": [0, 0, 1], "end": [3, 3, 4], "excerpt": ["a", "a", "b"],
                        "coder": ["x", "y", "x"], "memo": [pd.NA] * 3})
    out = write_taguette_codebook(cb, tmp_path / "cb.csv", codings=cod)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "tag,parent,description,number of highlights"
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    names = dict(zip(frame["id"], frame["name"], strict=True))
    expected_parents = [names.get(p, "") for p in frame["parent_id"]]
    assert list(df["parent"]) == expected_parents
    assert any(expected_parents)  # the small codebook has nesting
    counts = dict(zip(df["tag"], df["number of highlights"], strict=True))
    assert counts[frame["name"][0]] == "2"  # two segments (two coders on one segment)
    assert set(counts.values()) == {"0", "2"}
    # Taguette's importer reads it back with the same tree
    back = read_taguette_codebook(out).codebook
    back_frame = back.to_frame()
    assert list(back_frame["name"]) == list(frame["name"])
    back_names = dict(zip(back_frame["id"], back_frame["name"], strict=True))
    assert [back_names.get(p, "") for p in back_frame["parent_id"]] == expected_parents
    assert write_taguette_codebook(cb, tmp_path / "again.csv", codings=cod).read_bytes() \
        == out.read_bytes()


def test_taguette_codebook_tree_dotted_names_and_unknown_parent():
    # Taguette 1.5+ layout: parent = the parent's tag; CRLF line ends (csv.writer)
    read = read_taguette_codebook(REFI / "taguette_codebook_tree.csv")
    cb, warnings = read.codebook, read.warnings
    interesting, sad, orphan = cb.themes()
    assert (interesting.name, interesting.definition) == ("interesting", "Things of interest")
    (funny,) = interesting.subthemes  # has a child: a subtheme; its name is not split
    assert funny.name == "interesting.funny"
    assert [(c.name, c.definition) for c in funny.codes] == [("laughs", "Laughter, out loud")]
    assert (sad.name, orphan.name) == ("sad", "orphan")
    assert [p.kind for p in warnings] == ["unknown_parent"]
    assert "'missing parent'" in warnings[0].message


def test_taguette_codebook_tag_column_rules(tmp_path):
    # Taguette's importer takes the one column named tag, name or path
    f = tmp_path / "c.csv"
    f.write_text("Path,Description\nalpha,first\n\nbeta,\n", encoding="utf-8")
    assert [(t.name, t.definition) for t in read_taguette_codebook(f).codebook.themes()] == \
        [("alpha", "first"), ("beta", "")]
    f.write_text("tag,name\nalpha,beta\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than one tag column"):
        read_taguette_codebook(f)
    f.write_text("label\nalpha\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'tag', 'name' or 'path' column"):
        read_taguette_codebook(f)
    f.write_text("tag,description\nalpha,x\n ,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3.*empty tag"):
        read_taguette_codebook(f)


def test_taguette_highlights_layout_repeats_multi_tags_and_untagged():
    # Taguette's highlights CSV: id, document, tag, content; one row per tag of a
    # highlight; "" for an untagged one; ordered by document and position
    assert TAGUETTE_HIGHLIGHTS_COLUMNS == ["id", "document", "tag", "content"]
    header = (REFI / "taguette_highlights_repeat.csv").read_text(encoding="utf-8")
    assert header.splitlines()[0].split(",") == TAGUETTE_HIGHLIGHTS_COLUMNS
    cb = read_taguette_codebook(REFI / "taguette_codebook_tree.csv").codebook
    r1 = "Honestly, it was funny. Then it was funny again. No tag here."
    r2 = "Some sad\nnews today."
    resp = pd.DataFrame({"response_id": ["R1", "R2"], "text": [r1, r2]})
    cod = read_taguette_highlights(REFI / "taguette_highlights_repeat.csv", resp, cb)
    first = r1.index("it was funny")
    second = r1.index("it was funny", first + 1)
    got = [(r.response_id, r.code, r.start, r.excerpt) for r in cod.itertuples(index=False)]
    assert got == [
        ("R1", "interesting", first, "it was funny"),
        ("R1", "laughs", first, "it was funny"),  # highlight 7, second tag
        ("R1", "laughs", second, "it was funny"),  # highlight 8: the next occurrence
        ("R2", "sad", r2.index("sad"), "sad\nnews"),  # line break in the export
    ]


def test_bad_options_name_the_option_and_its_choices(corpus, tmp_path):
    with pytest.raises(InputError, match="tag must be one of 'name', 'id', not 'label'"):
        write_taguette_codebook(corpus[0], tmp_path / "t.csv", tag="label")
    assert not (tmp_path / "t.csv").exists()
    with pytest.raises(InputError, match="missing_sources must be one of 'error', 'skip', "
                                         "not 'ignore'"):
        read_qdpx(REFI / "other_tool.qdpx", missing_sources="ignore")


def test_import_result_carries_what_was_adapted(tmp_path):
    result = import_refi(REFI / "atlasti_codebook.qdc", tmp_path / "o")
    assert set(result.written) == {"codebook"} and result.written["codebook"].is_file()
    assert [w.kind for w in result.warnings] == \
        [w.kind for w in read_qdc(REFI / "atlasti_codebook.qdc").warnings]
    assert "code_sets_ignored" in {w.kind for w in result.warnings}
    assert "warning: " in str(result) and "codebook: " in str(result)
