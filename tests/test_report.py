"""Appendix: every extract with its attribution, correct LaTeX, deterministic DOCX."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thematic import report as R
from thematic.codebook import read_codebook
from thematic.coding import read_codings, read_responses
from thematic.config import RANDOM_STATE
from thematic.errors import InputError
from thematic.settings import StudySettings

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "figures"
STUDY = DATA / "synthetic_study"
PUBLISHED = StudySettings(
    title="Evaluation of the Anti-Racism Community of Practice", group_label="caucus",
    groups=("Racially Minoritised Caucus", "White Caucus"), unit="extract", published=True,
    attribution="{group} Member", coder="published",
    context_figures=("wres_indicators", "talking_therapies_recovery"))
STAFF = StudySettings(title="Synthetic staff survey", group_column="staff_group",
                      group_label="staff group", groups=("Senior leadership", "Nursing"))
STAFF_GROUPS = ["Nursing", "Medical and dental staff including trainees",
                "Administrative and clerical", "Allied health professionals",
                "Estates and facilities", "Healthcare support workers", "Senior leadership"]


@pytest.fixture(scope="module")
def codebook():
    return read_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")


@pytest.fixture(scope="module")
def responses():
    return read_responses(ROOT / "corpus" / "processed" / "responses.csv")


@pytest.fixture(scope="module")
def codings(responses, codebook):
    return read_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)


@pytest.fixture(scope="module")
def extracts(codings, responses, codebook):
    return R.theme_extracts(codings, responses, codebook, settings=PUBLISHED)


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the project's committed data (the appendix is written into it)."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    return tmp_path


# ----------------------------------------------------------------------------- latex


@pytest.mark.parametrize(("raw", "tex"), [
    ("50% & $5 #1 a_b", r"50\% \& \$5 \#1 a\_b"),
    ("{x} ~ ^ \\", r"\{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"),
    ("[I will] start", "{[}I will{]} start"),
    ("played out [...] the main", "played out {[}...{]} the main"),
    ("\u201cOffering us something different\u201d", "``Offering us something different''"),
    ("'Aha' and 'oh right' moments", "`Aha' and `oh right' moments"),
    ("I haven't HAD to", "I haven't HAD to"),
    ('he said "no"', "he said ``no''"),
    ("\u2018\u201cnested\u201d\u2019", "`{}``nested''{}'"),
    ("a--b <c> |d|", r"a-{}-b \textless{}c\textgreater{} \textbar{}d\textbar{}"),
    ("line\nbreak", "line break"),
    (None, ""),
])
def test_latex_escape(raw, tex):
    assert R.latex_escape(raw) == tex


def _unescaped_specials(tex: str) -> list[str]:
    """Specials not part of an escape sequence produced by latex_escape."""
    s = re.sub(r"\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|"
               r"textbar|ldots)\{\}", "", tex)
    s = re.sub(r"\\[&%$#_{}]", "", s)
    s = s.replace("{[}", "").replace("{]}", "").replace("{}", "")
    return re.findall(r"[\\&%$#_{}~^\[\]]", s)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab '\"\\&%$#_{}~^[]<>|-\u201c\u201d\u2018\u2019"
                                             "\u2013\u2026\n")), max_size=40))
def test_latex_escape_leaves_no_special_unescaped(text):
    tex = R.latex_escape(text)
    assert _unescaped_specials(tex) == []
    if "\u2013" not in text:
        assert "--" not in tex  # hyphens never merge into a dash ligature
    assert "``'" not in tex and "'''" not in tex and "```" not in tex


def test_markdown_escape_keeps_tables_intact():
    assert R.markdown_escape("a | b *c* [x]_y_\nz") == r"a \| b \*c\* \[x\]\_y\_ z"


# ----------------------------------------------------------------------------- extracts


def test_every_extract_once_under_its_theme_with_published_attribution(extracts, responses,
                                                                        codings, codebook):
    assert len(extracts) == 49
    assert sorted(extracts["response_id"]) == sorted(responses["response_id"])
    published = dict(zip(responses["response_id"], responses["attribution_as_published"],
                         strict=True))
    for r in extracts.itertuples():
        assert r.attribution == published[r.response_id]
    coded = dict(zip(codings["response_id"], codings["code"], strict=True))
    assert all(coded[r.response_id] == r.theme_id for r in extracts.itertuples())
    text = dict(zip(responses["response_id"], responses["text"], strict=True))
    assert all(r.excerpt == text[r.response_id] for r in extracts.itertuples())
    # codebook order, then source order within a theme
    order = [t.id for t in codebook.themes()]
    keys = [(order.index(t), rid) for t, rid in zip(extracts["theme_id"],
                                                    extracts["response_id"], strict=True)]
    assert keys == sorted(keys)
    # attributions are kept exactly as printed, including the irregular ones
    att = dict(zip(extracts["response_id"], extracts["attribution"], strict=True))
    assert att["E38"] == "White Caucus Members"
    assert att["E49"] == "Racially Minoritised caucus"


def test_attribution_falls_back_to_group(codings, responses, codebook):
    r = responses.drop(columns="attribution_as_published")
    ex = R.theme_extracts(codings, r, codebook, settings=PUBLISHED)
    assert set(ex["attribution"]) == {"Racially Minoritised Caucus Member", "White Caucus Member"}


def test_segments_of_a_code_roll_up_and_join(responses):
    cb = read_codebook(DATA / "synthetic_codebook.yaml")
    text = responses.loc[0, "text"]
    codings = pd.DataFrame({
        "response_id": ["E01", "E01", "E02"],
        "code": ["C1", "C2", "S1-T1-S1"],
        "start": [0, 20, 0], "end": [6, 30, 5],
        "coder": ["x", "x", "x"],
    })
    ex = R.theme_extracts(codings, responses, cb, settings=PUBLISHED)
    assert ex["theme_id"].tolist() == ["S1-T1", "S1-T2"]
    assert ex.loc[ex["theme_id"] == "S1-T2", "excerpt"].item() \
        == f"{text[0:6]} [...] {text[20:30].strip()}"


def test_unknown_response_or_code_is_an_input_error(codings, responses, codebook):
    bad = codings.copy()
    bad.loc[0, "response_id"] = "E99"
    bad.loc[1, "code"] = "NOPE"
    with pytest.raises(InputError, match=r"E99.*NOPE"):
        R.theme_extracts(bad, responses, codebook, settings=PUBLISHED)


# ----------------------------------------------------------------------------- outputs


def test_markdown_has_every_extract_and_attribution(extracts, codebook):
    md = R.quotes_markdown(extracts, codebook, settings=PUBLISHED)
    rows = [ln for ln in md.splitlines() if re.match(r"\| E\d\d \|", ln)]
    assert len(rows) == 49
    for r in extracts.itertuples():
        row = next(ln for ln in rows if ln.startswith(f"| {r.response_id} |"))
        assert row.endswith(f"| {R.markdown_escape(r.attribution)} |")
        assert R.markdown_escape(r.excerpt) in row
    for _sec, n, th in R._themes_in_order(codebook):
        assert f"### Theme {n}: {R.markdown_escape(th.name)}" in md
    assert all(ln.count(" | ") == 2 for ln in rows)  # no cell broke the table


def test_latex_quotes_table(extracts, codebook):
    tex = R.quotes_latex(extracts, codebook, settings=PUBLISHED)
    assert tex.count("\\begin{longtable}") == tex.count("\\end{longtable}") == 11
    assert tex.count("\\toprule") == 22
    body = [ln for ln in tex.splitlines() if not ln.startswith("%")]
    assert not [ln for ln in body if "\\usepackage" in ln or "\\documentclass" in ln]
    rows = re.findall(r"^E\d\d & .* \\\\$", tex, flags=re.M)
    assert len(rows) == 49
    assert "{[}I will{]} start" in tex and "{[}...{]}" in tex
    assert not re.search(r"\\\\\s*\[", tex)  # nothing after \\ is an optional argument
    assert "\u201c" not in tex and "\u201d" not in tex
    assert "\\subsection*{Theme 2: `More white fragility left than I thought'}" in tex
    assert tex.count("{") == tex.count("}") + tex.count("\\{") - tex.count("\\}")


def test_docx_tables_and_fixed_properties(extracts, codebook):
    data = R.quotes_docx(extracts, codebook, settings=PUBLISHED)
    d = docx.Document(io.BytesIO(data))
    assert len(d.tables) == 11
    rows = [[c.text for c in row.cells] for t in d.tables for row in t.rows[1:]]
    assert len(rows) == 49
    by_id = {r[0]: r for r in rows}
    for r in extracts.itertuples():
        assert by_id[r.response_id][2] == r.attribution
        assert by_id[r.response_id][1] == f"\u201c{r.excerpt}\u201d"
    cp = d.core_properties
    when = dt.datetime.fromisoformat(codebook.date).replace(tzinfo=dt.UTC)
    assert cp.created == cp.modified == cp.last_printed == when
    assert cp.revision == 1 and cp.author == "thematic" and cp.last_modified_by == "thematic"
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist()[0] == "[Content_Types].xml"
    assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_docx_is_byte_identical_and_deterministic_docx_is_idempotent(extracts, codebook):
    a = R.quotes_docx(extracts, codebook, settings=PUBLISHED)
    assert a == R.quotes_docx(extracts, codebook, settings=PUBLISHED)
    assert R.deterministic_docx(a) == a
    assert R.codebook_docx(codebook, extracts, settings=PUBLISHED) == R.codebook_docx(
        codebook, extracts, settings=PUBLISHED)


def test_codebook_table_outputs(extracts, codebook):
    t = R.codebook_table(codebook, extracts)
    assert t["id"].tolist() == [th.id for th in codebook.themes()]
    assert int(t["n_extracts"].sum()) == 49
    md = R.codebook_markdown(codebook, extracts, settings=PUBLISHED)
    assert md.count("\n| ") == 1 + 11
    tex = R.codebook_latex(codebook, extracts, settings=PUBLISHED)
    assert len(re.findall(r"^(RMC|WC|FAC|IC)-T\d & ", tex, flags=re.M)) == 11
    assert tex.count("\\multicolumn{4}") == 4
    d = docx.Document(io.BytesIO(R.codebook_docx(codebook, extracts, settings=PUBLISHED)))
    cells = [[c.text for c in row.cells] for row in d.tables[0].rows]
    assert [c[0] for c in cells if c[0].endswith(("T1", "T2", "T3"))] == t["id"].tolist()


def test_codebook_table_with_subthemes_and_codes():
    cb = read_codebook(DATA / "synthetic_codebook.yaml")
    t = R.codebook_table(cb)
    assert t.loc[t["id"] == "C1", "kind"].item() == "code"
    assert t.loc[t["id"] == "S1-T1-S2", "depth"].item() == 2
    tex = R.codebook_latex(cb, settings=PUBLISHED)
    assert "\\quad another" not in tex and "\\quad a code" in tex
    assert "100\\% made up, with \\$pecial\\_chars \\#1 \\{braces\\}" in tex
    assert "{[}brackets{]}" in tex


def test_methods_text_states_facts(responses, codings, codebook):
    text = R.methods_text(responses, codings, codebook, settings=PUBLISHED,
                          versions={"thematic": "0.1.0", "python": "3.11.7", "pandas": "3.1.1",
                                    "bertopic": "0.17.4"})
    assert "49 free-text extracts (24 from the Racially Minoritised Caucus and 25 from the " \
           "White Caucus)" in text
    assert "11 themes in 4 sections" in text and "Inter-caucus (3)" in text
    assert f"seed {RANDOM_STATE}" in text and "thematic 0.1.0" in text
    assert "bertopic" not in text  # no topic check reported unless it ran
    assert "emerge" not in text.lower()
    with_tm = R.methods_text(responses, codings, codebook, settings=PUBLISHED,
                             versions={"bertopic": "0.17.4"},
                             topic_check={"seeds": [1, 2, 3], "backend": "all-MiniLM-L6-v2",
                                          "permutation_seed": 7})
    assert "seeds 1, 2 and 3" in with_tm and "all-MiniLM-L6-v2 embeddings" in with_tm
    assert "bertopic 0.17.4" in with_tm and "not a validation" in with_tm
    assert "permutation baseline the seed 7" in with_tm


def thematic_codebook_empty():
    from thematic.codebook import Codebook

    return Codebook(version="1", status="candidate")


def test_read_topic_check_reads_compare_json(tmp_path):
    import json

    assert R.read_topic_check(tmp_path / "missing.json") is None
    path = tmp_path / "tc.json"
    path.write_text(json.dumps({"backend": "tfidf", "model": "BERTopic(k=11)",
                                "seed_stability": {"seeds": [5, 6]},
                                "chance": {"random_state": 5}}), encoding="utf-8")
    assert R.read_topic_check(path) == {"seeds": [5, 6], "permutation_seed": 5,
                                        "model": "BERTopic(k=11)", "backend": "tfidf",
                                        "model_sha256": None, "device": None,
                                        "reduction": None, "clustering": None,
                                        "static_distillation": None}
    path.write_text(json.dumps({"backend": "static:model2vec-all-MiniLM-L6-v2-pca256",
                                "device": "cuda", "reduction": "pca",
                                "clustering": "minibatch-kmeans",
                                "params": {"static_distillation": {
                                    "source_model": "all-MiniLM-L6-v2",
                                    "source_sha256": "ab" * 32, "pca_dims": 256}}}),
                    encoding="utf-8")
    tc = R.read_topic_check(path)
    assert (tc["device"], tc["reduction"], tc["static_distillation"]["pca_dims"]) == (
        "cuda", "pca", 256)
    from thematic.settings import StudySettings

    text = R.methods_text(pd.DataFrame({"response_id": ["a"], "text": ["x"]}),
                          pd.DataFrame(columns=["response_id", "code", "start", "end"]),
                          thematic_codebook_empty(), settings=StudySettings(title="T"),
                          topic_check=tc, versions={})
    assert "computed on cuda" in text and "reduction pca" in text
    assert "distilled with model2vec from all-MiniLM-L6-v2" in text
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="JSON object"):
        R.read_topic_check(path)


# ----------------------------------------------------------------------------- write


def _write_published(directory: Path) -> list[Path]:
    responses = read_responses(ROOT / "corpus" / "processed" / "responses.csv")
    codebook = read_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")
    codings = read_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)
    return R.write_appendix(directory, responses, codings, codebook, settings=PUBLISHED,
                            topic_check=R.read_topic_check(ROOT / R.TOPIC_CHECK_JSON))


def test_write_appendix_twice_is_byte_identical(tmp_path):
    first = _write_published(tmp_path / "appendix")
    assert [p.name for p in first] == list(R.APPENDIX_FILES)
    before = {p.name: p.read_bytes() for p in first}
    second = _write_published(tmp_path / "appendix")
    assert {p.name: p.read_bytes() for p in second} == before
    assert not [p for p in (tmp_path / "appendix").iterdir() if p.name not in R.APPENDIX_FILES]
    assert "49 free-text extracts" in before["methods.md"].decode()


def test_published_appendix_files_match_the_committed_ones(tmp_path):
    written = {p.name: p for p in _write_published(tmp_path)}
    for name in R.APPENDIX_FILES:  # Markdown, LaTeX and DOCX (fixed dates and zip times)
        new, old = written[name].read_bytes(), (ROOT / "appendix" / name).read_bytes()
        if name == "methods.md":  # names the software versions of the run: the rest must match
            new, old = (re.sub(rb", with [^;]*;", b";", re.sub(
                rb"Tables, figures and this appendix were generated with .*?\. (?=The |Random)",
                b"", x)) for x in (new, old))
        assert new == old, name
    # the DOCX tables read back: one row per extract (section rows span the codebook table)
    quotes = docx.Document(written["quotes.docx"])
    assert sum(len(t.rows) - 1 for t in quotes.tables) == 49


# ----------------------------------------------------------------------------- docx widths


def _assert_widths(table, fractions, text_width):
    assert table.autofit is False
    twip = 635  # Word stores widths in twentieths of a point (635 EMU)
    expected = [text_width * f for f in fractions]
    assert all(abs(c.width - w) <= twip for c, w in zip(table.columns, expected, strict=True))
    spans = 0
    for row in table.rows:
        cells = _distinct_cells(row)
        if len(cells) == 1:  # a heading row: one cell across the table
            assert abs(cells[0].width - sum(expected)) <= twip * len(expected)
            spans += 1
            continue
        assert all(abs(c.width - w) <= twip for c, w in zip(cells, expected, strict=True))
    return spans


def _distinct_cells(row) -> list:
    out = []
    for c in row.cells:  # a merged cell is listed once per grid column it spans
        if not out or c._tc is not out[-1]._tc:
            out.append(c)
    return out


def test_docx_tables_have_the_latex_column_widths(extracts, codebook):
    d = docx.Document(io.BytesIO(R.quotes_docx(extracts, codebook, settings=PUBLISHED)))
    sec = d.sections[0]
    text_width = sec.page_width - sec.left_margin - sec.right_margin
    assert R.QUOTES_WIDTHS == (0.07, 0.62, 0.25)
    for t in d.tables:
        _assert_widths(t, R.QUOTES_WIDTHS, text_width)
    # the LaTeX columns are the same fractions of the line width
    tex = R.quotes_latex(extracts, codebook, settings=PUBLISHED)
    assert "p{0.07\\linewidth}" in tex and "p{0.62\\linewidth}" in tex \
        and "p{0.25\\linewidth}" in tex
    c = docx.Document(io.BytesIO(R.codebook_docx(codebook, extracts, settings=PUBLISHED)))
    assert _assert_widths(c.tables[0], R.CODEBOOK_WIDTHS, text_width) == 4  # section rows
    assert sum(R.CODEBOOK_WIDTHS) <= 1.0 and sum(R.QUOTES_WIDTHS) <= 1.0


# ----------------------------------------------------------------------------- any study


@pytest.fixture()
def study():
    from thematic.clean import analysable

    cb = read_codebook(STUDY / "codebook.yaml")
    responses = read_responses(STUDY / "responses.csv").rename(columns={"group": "staff_group"})
    codings = pd.read_csv(STUDY / "codings.csv", dtype={"memo": "string"})
    return cb, codings, responses, analysable(responses)


def _docx_text(path: Path) -> str:
    d = docx.Document(path)
    return "\n".join([p.text for p in d.paragraphs]
                     + [c.text for t in d.tables for r in t.rows for c in r.cells])


def test_appendix_of_a_study_with_seven_groups(study, tmp_path):
    cb, codings, responses, kept = study
    written = R.write_appendix(tmp_path, responses, codings, cb, settings=STAFF)
    assert [p.name for p in written] == list(R.APPENDIX_FILES)
    texts = {p.name: (_docx_text(p) if p.suffix == ".docx" else p.read_text(encoding="utf-8"))
             for p in written}
    for name, text in texts.items():
        low = text.lower()
        assert "caucus" not in low and "as published" not in low and "member" not in low, name
        assert "EXCLUDED ROW TEXT" not in text, name  # excluded rows are never quoted
    for g in STAFF_GROUPS:
        assert f"Staff group: {g}" in texts["quotes.md"], g
        assert f"Staff group: {g}" in texts["quotes.docx"], g
        assert g in texts["methods.md"], g
    # counts are of analysable responses; excluded rows are said to be left out
    n_kept, n_excluded = len(kept), len(responses) - len(kept)
    assert (n_kept, n_excluded) == (28, 4)
    methods = " ".join(texts["methods.md"].split())
    assert f"The corpus holds {n_kept} analysable responses (by staff group: " in methods
    assert f"Senior leadership {int((kept['staff_group'] == 'Senior leadership').sum())}, " \
        f"Nursing {int((kept['staff_group'] == 'Nursing').sum())}," in methods  # study order
    assert f"A further {n_excluded} rows were excluded in cleaning" in methods
    coded_kept = codings[codings["response_id"].isin(kept["response_id"])]
    assert f"The codings table holds {len(coded_kept)} coded segments" in methods
    assert f"of the {n_kept} analysable responses are coded" in methods
    assert "holds 4 themes, 2 in 1 section (Workload and time (2)) and 2 not in a section; " \
        "it defines 4 codes (2 of them not yet collated under a theme)." in methods
    assert "(2 of them not yet collated under a theme)" in methods
    # themes without a section under their own heading; loose codes in their own table
    assert f"## {R.UNSECTIONED_HEADING}" in texts["quotes.md"]
    assert f"\\section*{{{R.UNSECTIONED_HEADING}}}" in texts["quotes.tex"]
    md = texts["codebook.md"]
    assert f"## {R.LOOSE_CODES_HEADING}" in md
    parking = sum(1 for r in coded_kept.itertuples() if r.code == "c-parking")
    assert f"| c-parking | car parking | Initial code, not collated under a theme. | " \
        f"{parking} |" in md
    assert "| c-canteen | canteen hours | Initial code, not collated under a theme. | 0 |" in md
    assert R.LOOSE_CODES_HEADING in texts["codebook.tex"]
    assert R.LOOSE_CODES_HEADING in texts["codebook.docx"]
    assert "analysable responses" in md
    # deterministic
    again = R.write_appendix(tmp_path / "again", responses, codings, cb, settings=STAFF)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]


def test_extract_counts_leave_out_excluded_rows(study):
    cb, codings, responses, kept = study
    ex = R.theme_extracts(codings, responses, cb, settings=STAFF)
    assert set(ex["response_id"]) <= set(kept["response_id"])
    # same extracts whether or not the caller dropped the excluded rows first
    ex2 = R.theme_extracts(codings[codings["response_id"].isin(kept["response_id"])], kept, cb,
                           settings=STAFF)
    pd.testing.assert_frame_equal(ex, ex2)
    # codes not collated under a theme are nobody's extract; codes roll up to their theme
    assert "c-parking" not in set(ex["theme_id"])
    overtime = set(codings.loc[codings["code"] == "c-overtime", "response_id"]) \
        & set(kept["response_id"])
    assert overtime <= set(ex.loc[ex["theme_id"] == "WL-T1", "response_id"])
    loose = ex[ex["theme_id"] == "T-BELONG"]
    assert loose["section_id"].isna().all() and (loose["theme_number"] == 2).all()


def test_attribution_as_published_only_for_a_published_study(codings, responses, codebook):
    mine = StudySettings(title="x", group_label="caucus")
    ex = R.theme_extracts(codings, responses, codebook, settings=mine)
    assert set(ex["attribution"]) == {"Caucus: Racially Minoritised Caucus",
                                      "Caucus: White Caucus"}
    md = R.quotes_markdown(ex, codebook, settings=mine)
    assert "as published" not in md and "attributed by caucus" in md
    no_group = responses.drop(columns="group")
    ex = R.theme_extracts(codings, no_group, codebook, settings=mine)
    assert set(ex["attribution"]) == {"Not attributed"}
