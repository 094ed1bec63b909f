"""thematic.examples.load: the SYNTHETIC examples behind one call (fresh, deterministic copies)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import thematic
from thematic.coding import read_codings
from thematic.errors import InputError
from thematic.examples import CANDIDATE_THEMES, load, names

STUDY_FILES = ("thematic.yaml", "corpus/processed/responses.csv", "corpus/processed/audit.csv",
               "corpus/coding/codebook.yaml", "corpus/coding/codings.csv",
               "corpus/coding/versions/candidate-1.yaml",
               "corpus/coding/versions/candidate-1.codings.csv")


def _digests(root) -> dict[str, str]:
    return {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in STUDY_FILES}


def test_names_and_unknown_name():
    assert names() == ["staff-survey", "staff-survey-export", "several-coders"]
    with pytest.raises(InputError) as err:
        load("published")
    for name in names():
        assert name in str(err.value)


def test_every_call_gives_a_fresh_copy():
    a, b = load("staff-survey"), load("staff-survey")
    assert isinstance(a, thematic.Project)
    assert a.root != b.root
    assert _digests(a.root) == _digests(b.root)
    a.merge_codes(["staff networks"], into="peer support")
    assert "staff-networks" not in set(a.codings()["code"])
    assert "staff-networks" in set(b.codings()["code"])
    assert "staff-networks" in set(load("staff-survey").codings()["code"])


def test_staff_survey_is_the_coding_plan_and_the_candidate_themes():
    study = load("staff-survey")
    assert study.settings.group_label == "staff group"
    assert study.history().empty  # the example starts with nothing to undo
    with pytest.raises(InputError, match="nothing to undo"):
        study.undo()
    assert [t.id for t in study.codebook.themes()] == [t[0] for t in CANDIDATE_THEMES]
    for theme_id, _, codes, _ in CANDIDATE_THEMES:
        theme = study.codebook.find(theme_id)
        assert [c.name for c in theme.codes] == list(codes)
    # every phrase of the coding plan is coded wherever it occurs in an analysable response
    files = load("staff-survey-export")
    plan = pd.read_csv(files.coding_plan)[["excerpt", "code"]].drop_duplicates()
    texts = [str(t).lower() for t in study.analysable()["text"]]
    expected: dict[str, int] = {}
    for excerpt, code in plan.itertuples(index=False):
        slug = code.replace(" ", "-")
        expected[slug] = expected.get(slug, 0) + sum(t.count(excerpt.lower()) for t in texts)
    coded = study.codings()["code"].value_counts().to_dict()
    assert coded == expected
    assert set(study.codings()["coder"]) == {"researcher"}
    assert study.check().errors == []
    assert study.versions()["label"].tolist() == ["candidate-1"]


def test_several_coders_differ_on_purpose():
    study = load("several-coders")
    assert [p.name for p in study.codings_files()] == ["codings.csv", "codings-amina.csv"]
    amina = read_codings(study.codings_file("amina"))
    first_40 = study.analysable()["respondent_id"].drop_duplicates().iloc[:40]
    r = study.responses.set_index("response_id")
    assert set(r.loc[amina["response_id"], "respondent_id"]) <= set(first_40)
    assert "staff-networks" not in set(amina["code"])  # amina codes the network as peer support
    kinds = set(thematic.disagreements(study.codings())["kind"])
    assert kinds == {"different_codes", "only_one_coder", "different_span"}
    assert study.check().errors == []


def test_staff_survey_export_is_uncoded_files(tmp_path):
    files = load("staff-survey-export", directory=tmp_path / "inbox")
    assert files.export.parent == tmp_path / "inbox"
    for path in (files.export, files.names, files.organisations, files.coding_plan):
        assert path.is_file()
    assert not (tmp_path / "inbox" / "thematic.yaml").exists()


def test_directory_must_be_new_or_empty(tmp_path):
    study = load("staff-survey", directory=tmp_path / "mine")
    assert study.root == (tmp_path / "mine").resolve()
    (tmp_path / "empty").mkdir()
    assert load("several-coders", directory=tmp_path / "empty").root.name == "empty"
    with pytest.raises(InputError, match="not empty") as err:
        load("staff-survey", directory=tmp_path / "mine")
    assert str(tmp_path / "mine") in str(err.value)


def test_the_example_is_the_same_in_another_process():
    here = _digests(load("staff-survey").root)
    code = ("import hashlib, json, sys, thematic\n"
            "root = thematic.examples.load('staff-survey').root\n"
            f"files = {list(STUDY_FILES)!r}\n"
            "print(json.dumps({f: hashlib.sha256((root / f).read_bytes()).hexdigest() "
            "for f in files}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert json.loads(out.stdout) == here
