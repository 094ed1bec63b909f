"""A new study end to end through the command line: init, clean, code, check, figures, appendix.

The data are SYNTHETIC (thematic.examples.staff_survey): a Qualtrics export of a staff
survey with seven staff groups, names and e-mail addresses.
"""

from __future__ import annotations

import json
import re
import zipfile

import pandas as pd
import pytest

from thematic.cli import main
from thematic.examples import CANDIDATE_THEMES, STAFF_GROUPS, staff_survey
from thematic.project import Project

PUBLISHED_WORDS = re.compile(r"\bcaucus|\bas published\b|\bMember\b|Anti-Racism", re.IGNORECASE)


@pytest.fixture(scope="module")
def flow(tmp_path_factory) -> dict:
    """init -> clean --project -> code every planned excerpt -> add candidate themes."""
    base = tmp_path_factory.mktemp("flow")
    inbox = staff_survey(base / "inbox", n=60)
    root = base / "study"
    assert main(["init", str(root), "--title", "Staff survey (SYNTHETIC)",
                 "--group-label", "staff group"]) == 0
    assert main(["clean", str(inbox.export), "--project", str(root), "--names",
                 str(inbox.names), "--organisations", str(inbox.organisations)]) == 0
    study = Project.open(root)
    plan = pd.read_csv(inbox.coding_plan)
    for phrase, code in plan[["excerpt", "code"]].drop_duplicates().itertuples(index=False):
        study.code_matches(phrase, code, case=False)
    for theme_id, name, codes, definition in CANDIDATE_THEMES:
        study.add_theme(theme_id, name, codes=list(codes), definition=definition)
    return {"root": root, "inbox": inbox, "study": study}


def test_init_refuses_an_existing_study(tmp_path, capsys):
    assert main(["init", str(tmp_path / "s")]) == 0
    assert main(["init", str(tmp_path / "s")]) == 1
    assert "already exists" in capsys.readouterr().err


def test_clean_into_the_study_keeps_no_identifier(flow):
    root, inbox = flow["root"], flow["inbox"]
    responses = (root / "corpus" / "processed" / "responses.csv").read_text(encoding="utf-8")
    audit = (root / "corpus" / "processed" / "audit.csv").read_text(encoding="utf-8")
    raw = pd.read_csv(inbox.export, skiprows=[1, 2], dtype=str)
    for col in ("RecipientEmail", "RecipientLastName", "ResponseId", "IPAddress"):
        for value in raw[col].dropna().unique():
            assert value not in responses, (col, value)
            assert value not in audit, (col, value)
    for name in inbox.names.read_text(encoding="utf-8").splitlines()[1:]:
        assert name not in responses


def test_check_passes_and_counts_only_analysable_responses(flow, capsys):
    assert main(["check", "--project", str(flow["root"])]) == 0
    out = capsys.readouterr().out
    study = flow["study"]
    n_excluded = int(study.responses["exclude"].sum())
    assert n_excluded > 0
    excluded = set(study.responses.loc[study.responses["exclude"], "response_id"])
    assert not any(rid in out for rid in excluded)


def test_figures_and_appendix_name_every_group_and_nothing_of_the_published_study(flow, capsys):
    root = flow["root"]
    assert main(["figures", "--project", str(root)]) == 0
    assert main(["appendix", "--project", str(root)]) == 0
    svg = (root / "figures" / "theme_by_group.svg").read_text(encoding="utf-8")
    methods = (root / "appendix" / "methods.md").read_text(encoding="utf-8")
    present = set(flow["study"].analysable()["group"].dropna())
    assert present == set(STAFF_GROUPS)
    for group in STAFF_GROUPS:
        assert group in svg.replace("&amp;", "&") or group.replace(" ", "") in svg
        assert group in methods
    outputs = [p for p in (root / "figures").glob("*.svg")]
    outputs += [p for p in (root / "appendix").glob("*") if p.suffix in {".md", ".tex"}]
    for p in outputs:
        assert not PUBLISHED_WORDS.search(p.read_text(encoding="utf-8")), p.name
    for p in (root / "appendix").glob("*.docx"):
        with zipfile.ZipFile(p) as zf:
            assert not PUBLISHED_WORDS.search(zf.read("word/document.xml").decode()), p.name
    n = len(flow["study"].analysable())
    assert f"{n} analysable responses" in methods


def test_export_refi_of_the_study(flow, tmp_path, capsys):
    out = tmp_path / "study.qdpx"
    assert main(["export-refi", str(out), "--project", str(flow["root"])]) == 0
    from thematic.refi import read_qdpx, validate_refi

    assert validate_refi(out).problems == []
    assert len(read_qdpx(out).responses) == len(flow["study"].analysable())


def test_topic_check_of_the_study(flow, tmp_path, capsys):
    out = tmp_path / "check.json"
    code = main(["compare", "--project", str(flow["root"]), "--json", str(out),
                 "--backend", "tfidf", "--seeds", "2", "--permutations", "50"])
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["n_documents"] == len(flow["study"].codings(analysable=True)["response_id"]
                                      .unique())
    assert not PUBLISHED_WORDS.search(out.read_text(encoding="utf-8"))
