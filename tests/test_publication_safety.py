"""What the repository publishes holds no identifiers.

Stored notebook outputs, the appendix and the text of every figure are run through the
project's own de-identifier (patterns + the synthetic example's name and organisation
lists). Dates are allowed (the codebook date, synthetic session dates); URLs are allowed
in the appendix (references). Anything else it would mask is a leak.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from lxml import etree

from thematic.deidentify import deidentify_responses, read_term_list

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"DATE", "URL"}
SVG_NS = "{http://www.w3.org/2000/svg}"


def _published_texts() -> pd.DataFrame:
    rows = []
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for j, out in enumerate(cell.get("outputs", [])):
                data = out.get("data", {})
                text = out.get("text", "") or data.get("text/plain", "") + data.get("text/html", "")
                rows.append((f"{nb_path.name}:cell{i}:out{j}", text))
    for md in sorted((ROOT / "appendix").glob("*.md")):
        rows.append((f"appendix/{md.name}", md.read_text(encoding="utf-8")))
    for svg in sorted((ROOT / "figures").glob("*.svg")):
        tree = etree.parse(str(svg))
        text = "\n".join("".join(t.itertext()) for t in tree.iter(f"{SVG_NS}text"))
        rows.append((f"figures/{svg.name}", text))
    return pd.DataFrame(
        {
            "response_id": [r[0] for r in rows],
            "respondent_id": None,
            "question": "published output",
            "text": [r[1] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def published():
    df = _published_texts()
    assert len(df) > 50  # notebooks, appendix and figures were all read
    return df


def test_no_identifier_in_published_outputs(published):
    names = read_term_list(ROOT / "corpus/examples/synthetic-names.txt")
    organisations = read_term_list(ROOT / "corpus/examples/synthetic-organisations.txt")
    _, audit = deidentify_responses(published, names, organisations, salt="publication-check")
    leaks = audit[~audit["kind"].isin(ALLOWED)]
    assert leaks.empty, leaks[["response_id", "kind", "start", "end"]].to_string()


def test_the_check_can_fail(published):
    planted = published.head(1).copy()
    planted["text"] = "contact jo.bloggs@example.org or 07700 900123"
    _, audit = deidentify_responses(planted, (), (), salt="publication-check")
    assert {"EMAIL", "PHONE"} <= set(audit["kind"])


def test_figures_svg_text_is_read(published):
    svg = published[published["response_id"] == "figures/thematic_map.svg"]["text"].item()
    assert "White Caucus" in svg and "Inter-caucus" in svg
