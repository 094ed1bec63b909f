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
from thematic.codebook import load_codebook
from thematic.coding import load_codings, load_responses
from thematic.config import RANDOM_STATE
from thematic.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "figures"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")


@pytest.fixture(scope="module")
def responses():
    return load_responses(ROOT / "corpus" / "processed" / "responses.csv")


@pytest.fixture(scope="module")
def codings(responses, codebook):
    return load_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)


@pytest.fixture(scope="module")
def extracts(codings, responses, codebook):
    return R.theme_extracts(codings, responses, codebook)


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
    ex = R.theme_extracts(codings, r, codebook)
    assert set(ex["attribution"]) == {"Racially Minoritised Caucus Member", "White Caucus Member"}


def test_segments_of_a_code_roll_up_and_join(responses):
    cb = load_codebook(DATA / "synthetic_codebook.yaml")
    text = responses.loc[0, "text"]
    codings = pd.DataFrame({
        "response_id": ["E01", "E01", "E02"],
        "code": ["C1", "C2", "S1-T1-S1"],
        "start": [0, 20, 0], "end": [6, 30, 5],
        "coder": ["x", "x", "x"],
    })
    ex = R.theme_extracts(codings, responses, cb)
    assert ex["theme_id"].tolist() == ["S1-T1", "S1-T2"]
    assert ex.loc[ex["theme_id"] == "S1-T2", "excerpt"].item() \
        == f"{text[0:6]} [...] {text[20:30].strip()}"


def test_unknown_response_or_code_is_an_input_error(codings, responses, codebook):
    bad = codings.copy()
    bad.loc[0, "response_id"] = "E99"
    bad.loc[1, "code"] = "NOPE"
    with pytest.raises(InputError, match=r"E99.*NOPE"):
        R.theme_extracts(bad, responses, codebook)


# ----------------------------------------------------------------------------- outputs


def test_markdown_has_every_extract_and_attribution(extracts, codebook):
    md = R.quotes_markdown(extracts, codebook)
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
    tex = R.quotes_latex(extracts, codebook)
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
    data = R.quotes_docx(extracts, codebook)
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
    a = R.quotes_docx(extracts, codebook)
    assert a == R.quotes_docx(extracts, codebook)
    assert R.deterministic_docx(a) == a
    assert R.codebook_docx(codebook, extracts) == R.codebook_docx(codebook, extracts)


def test_codebook_table_outputs(extracts, codebook):
    t = R.codebook_table(codebook, extracts)
    assert t["id"].tolist() == [th.id for th in codebook.themes()]
    assert int(t["n_extracts"].sum()) == 49
    md = R.codebook_markdown(codebook, extracts)
    assert md.count("\n| ") == 1 + 11
    tex = R.codebook_latex(codebook, extracts)
    assert len(re.findall(r"^(RMC|WC|FAC|IC)-T\d & ", tex, flags=re.M)) == 11
    assert tex.count("\\multicolumn{4}") == 4
    d = docx.Document(io.BytesIO(R.codebook_docx(codebook, extracts)))
    cells = [[c.text for c in row.cells] for row in d.tables[0].rows]
    assert [c[0] for c in cells if c[0].endswith(("T1", "T2", "T3"))] == t["id"].tolist()


def test_codebook_table_with_subthemes_and_codes():
    cb = load_codebook(DATA / "synthetic_codebook.yaml")
    t = R.codebook_table(cb)
    assert t.loc[t["id"] == "C1", "kind"].item() == "code"
    assert t.loc[t["id"] == "S1-T1-S2", "depth"].item() == 2
    tex = R.codebook_latex(cb)
    assert "\\quad another" not in tex and "\\quad a code" in tex
    assert "100\\% made up, with \\$pecial\\_chars \\#1 \\{braces\\}" in tex
    assert "{[}brackets{]}" in tex


def test_methods_text_states_facts(responses, codings, codebook):
    text = R.methods_text(responses, codings, codebook,
                          versions={"thematic": "0.1.0", "python": "3.11.7", "pandas": "3.1.1",
                                    "bertopic": "0.17.4"})
    assert "49 free-text extracts (24 from the Racially Minoritised Caucus and 25 from the " \
           "White Caucus)" in text
    assert "11 themes in 4 sections" in text and "Inter-caucus (3)" in text
    assert f"seed {RANDOM_STATE}" in text and "thematic 0.1.0" in text
    assert "bertopic" not in text  # no topic check reported unless it ran
    assert "emerge" not in text.lower()
    with_tm = R.methods_text(responses, codings, codebook, versions={"bertopic": "0.17.4"},
                             topic_check={"seeds": [1, 2, 3], "backend": "all-MiniLM-L6-v2",
                                          "permutation_seed": 7})
    assert "seeds 1, 2 and 3" in with_tm and "all-MiniLM-L6-v2 embeddings" in with_tm
    assert "bertopic 0.17.4" in with_tm and "not a validation" in with_tm
    assert "permutation baseline the seed 7" in with_tm


def test_read_topic_check_reads_compare_json(tmp_path):
    import json

    assert R.read_topic_check(tmp_path / "missing.json") is None
    path = tmp_path / "tc.json"
    path.write_text(json.dumps({"backend": "tfidf", "model": "BERTopic(k=11)",
                                "seed_stability": {"seeds": [5, 6]},
                                "chance": {"random_state": 5}}), encoding="utf-8")
    assert R.read_topic_check(path) == {"seeds": [5, 6], "permutation_seed": 5,
                                        "model": "BERTopic(k=11)", "backend": "tfidf",
                                        "model_sha256": None}
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="JSON object"):
        R.read_topic_check(path)


# ----------------------------------------------------------------------------- write


def test_write_appendix_twice_is_byte_identical(project):
    first = R.write_appendix(project)
    assert [p.name for p in first] == list(R.APPENDIX_FILES)
    before = {p.name: p.read_bytes() for p in first}
    second = R.write_appendix(project)
    assert {p.name: p.read_bytes() for p in second} == before
    assert not [p for p in (project / "appendix").iterdir() if p.name not in R.APPENDIX_FILES]
    assert "49 free-text extracts" in before["methods.md"].decode()
