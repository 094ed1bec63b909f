"""The corpus carries the source document's extracts and tables exactly."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from thematic.errors import InputError
from thematic.io import read_csv
from thematic.sources import build_corpus, extract_context_tables, extract_quotes

QUOTE_MARKS = "“”\"‘’"


@pytest.fixture(scope="module")
def quotes(source_text):
    return extract_quotes(source_text)


def test_49_extracts_with_slide_counts_per_theme(quotes):
    assert len(quotes) == 49
    counts = quotes.groupby(["section", "theme_number"], sort=False).size().tolist()
    assert counts == [4, 4, 4, 5, 4, 5, 4, 4, 5, 5, 5]
    assert quotes["section"].unique().tolist() == [
        "Racially Minoritised Caucus",
        "White Caucus",
        "Facilitators",
        "Inter-caucus",
    ]


def test_theme_names_exactly_as_on_slides(quotes, source_text):
    names = quotes.drop_duplicates(["section", "theme_number"])["theme"].tolist()
    headings = re.findall(r"^Theme (\d+): (.+?)\s*$", source_text, flags=re.M)
    assert names == [h[1] for h in headings]
    assert "“Offering us something different”" in names
    assert "'More white fragility left than I thought'" in names


def test_every_extract_is_verbatim_in_the_source_at_its_line(quotes, source_text):
    lines = source_text.split("\n")
    for row in quotes.itertuples():
        assert row.text_as_published in lines[row.line - 1], row.response_id
        # the cleaned text is a contiguous piece of what was published
        assert row.text in row.text_as_published.replace("**", ""), row.response_id


def test_cleaned_text_has_no_quotes_emphasis_or_attribution(quotes):
    for row in quotes.itertuples():
        assert row.text[0] not in QUOTE_MARKS and row.text[-1] not in QUOTE_MARKS, row.text
        assert "*" not in row.text
        assert "Caucus Member" not in row.text
        assert row.text == row.text.strip()


def test_editorial_marks_kept_as_written(quotes):
    texts = quotes.set_index("response_id")["text"]
    assert texts.str.startswith("[I will]").sum() == 1
    assert texts.str.startswith("[I] thought").sum() == 1
    assert texts.str.contains("[...]", regex=False).sum() == 3  # as many as in the source
    assert any(t.startswith("The CoP is a forum") for t in texts)  # was bold on the slide


def test_groups_match_the_attributions_in_the_source(quotes, source_text):
    evaluation = source_text[source_text.index("Evaluation of the Anti-Racism Community") :]
    attributions = re.findall(
        r"(?im)^\s*(racially minoritised|white) caucus members?\s*$"
        r"|\*(racially minoritised|white) caucus(?: members?)?\*\s*$",
        evaluation,
    )
    stems = [a or b for a, b in attributions]
    assert len(stems) == 49
    assert sum(s.lower().startswith("racially") for s in stems) == 24
    assert quotes["group"].value_counts().to_dict() == {
        "White Caucus": 25,
        "Racially Minoritised Caucus": 24,
    }
    # facilitator themes quote both caucuses: the group is the author's, not the section
    fac = quotes[quotes["section"] == "Facilitators"]
    assert set(fac["group"]) == {"Racially Minoritised Caucus", "White Caucus"}


def test_ids_are_stable_and_unique(quotes, source_text):
    again = extract_quotes(source_text)
    assert quotes["response_id"].tolist() == again["response_id"].tolist()
    assert quotes["response_id"].is_unique
    assert quotes["response_id"].iloc[0] == "E01" and quotes["response_id"].iloc[-1] == "E49"


def test_wres_table_matches_source_rows(source_text):
    wres = extract_context_tables(source_text)["wres_indicators"]
    assert sorted(wres["indicator"].unique()) == list(range(1, 10))
    assert sorted(wres["year"].unique()) == list(range(2016, 2022))
    assert len(wres) == 14 * 6
    for (ind, sub), grp in wres.groupby(["indicator", "subgroup"]):
        cells = "\t".join(grp.sort_values("year")["value_as_published"])
        prefix = "" if sub == "All" else f"{sub}\t"
        assert f"{prefix}{cells}" in source_text, (ind, sub)
    v = wres.set_index(["indicator", "subgroup", "year"])["value"]
    assert v[(8, "BME", 2021)] == 16.7 and v[(8, "White", 2021)] == 6.2
    assert v[(2, "All", 2016)] == 1.57 and v[(9, "All", 2021)] == 12.6
    assert set(wres.loc[wres["marker"] == "*", "year"]) == {2016, 2017}
    assert (wres.loc[wres["indicator"].isin([2, 3, 4]), "unit"] == "ratio").all()


def test_recovery_tables_match_source(source_text):
    rec = extract_context_tables(source_text)["talking_therapies_recovery"]
    first = rec[rec["table"] == "outcomes_by_ethnic_group"]
    second = rec[rec["table"] == "recovery_by_ethnic_subgroup"]
    assert len(first) == 6 * 5 and len(second) == 22 * 2
    for (grp, sub), g in second.groupby(["ethnic_group", "ethnic_subgroup"], sort=False):
        values = "\t".join(g["value_as_published"])
        assert f"{grp}\t{sub}\t{values}" in source_text
    for grp, g in first.groupby("ethnic_group", sort=False):
        assert f"{grp}\tAll\t" + "\t".join(g["value_as_published"]) in source_text
    white = first[(first["ethnic_group"] == "White") & (first["measure"] == "Recovery Rate")]
    assert white["value"].item() == 53


def test_processed_files_are_regenerated_byte_identically(root, tmp_path):
    (tmp_path / "corpus" / "raw").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copy(root / "corpus/raw/anti-racism-cop-slides.txt", tmp_path / "corpus/raw/")
    build_corpus(tmp_path)
    for rel in [
        "corpus/processed/responses.csv",
        "corpus/context/wres_indicators.csv",
        "corpus/context/talking_therapies_recovery.csv",
        "corpus/datapackage.json",
    ]:
        assert (tmp_path / rel).read_bytes() == (root / rel).read_bytes(), rel


def test_responses_csv_schema(root):
    df = read_csv(root / "corpus/processed/responses.csv")
    assert df.columns[:6].tolist() == [
        "response_id", "respondent_id", "question", "group", "session", "text"
    ]
    assert df["respondent_id"].isna().all()  # not published: left missing, not invented
    assert df["text"].notna().all() and len(df) == 49


def test_general_report_with_custom_groups_and_next_line_attribution():
    text = "\n".join(
        [
            "Findings",
            "Nurses:",
            "Theme 1: Time pressure",
            "- “We never have enough time”. *Nurse*",
            "- “Handovers are rushed”",
            "",
            "Ward Nurse",
            "Theme 2: Support",
            "- Colleagues help me”. *Nurse*",
        ]
    )
    groups = {"nurse": "Nurses", "ward nurse": "Nurses"}
    q = extract_quotes(text, groups=groups, id_prefix="N")
    assert q["text"].tolist() == [
        "We never have enough time",
        "Handovers are rushed",
        "Colleagues help me",
    ]
    assert q["response_id"].tolist() == ["N01", "N02", "N03"]
    assert q["section"].unique().tolist() == ["Nurses"]
    assert q["position"].tolist() == [1, 2, 1]


def test_no_extracts_is_a_clear_error():
    with pytest.raises(InputError, match="no attributed extracts"):
        extract_quotes("just some text\n- a bullet *White Caucus Member*", source="x.txt")


def test_missing_table_names_the_file():
    with pytest.raises(InputError, match="doc.txt.*WRES"):
        extract_context_tables("nothing here", source="doc.txt")


def test_context_csv_round_trip(root):
    wres = pd.read_csv(root / "corpus/context/wres_indicators.csv")
    assert wres["value"].dtype.kind == "f"
    assert len(wres) == 84


def test_raw_source_is_the_unchanged_seed(root):
    import hashlib

    data = (root / "corpus/raw/anti-racism-cop-slides.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "422b1a47a40658ef14d720f6ed19b5b1218f01ed7879a7f1bbf719838ab2b699"
    )
