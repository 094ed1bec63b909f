"""``thematic compare``: the published study, another study (``--project``), broken ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from thematic.cli import main
from thematic.project import Project

DATA = Path(__file__).parent / "data" / "topics"
PUBLISHED_WORDS = re.compile(r"\bcaucus|\bas published\b|\bMember\b|Anti-Racism|extract",
                             re.IGNORECASE)


@pytest.fixture
def in_root(root, monkeypatch, tmp_path):
    monkeypatch.chdir(root)
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    monkeypatch.setenv("THEMATIC_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_compare_on_the_project_corpus(in_root, tmp_path, capsys):
    out = tmp_path / "compare.json"
    rc = main(["compare", "--json", str(out), "--seeds", "2", "--permutations", "100"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert "not a validation" in printed.out and "adjusted_rand" in printed.out
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["n_documents"] == 49 and d["n_themes"] == 11 and d["k"] == 11
    assert d["backend"] == "sentence-transformers:all-MiniLM-L6-v2"
    assert d["chance"]["n_permutations"] == 100
    assert set(d["chance"]) >= {"mean", "sd", "p_value"}
    assert d["seed_stability"]["n_seeds"] == 2
    assert set(d["seed_stability"]["mean"]) >= {"adjusted_rand", "adjusted_mutual_info"}
    assert -1 <= d["adjusted_rand"] <= 1 and 0 < d["chance"]["p_value"]["adjusted_rand"] <= 1
    assert set(d["disagreements"]) == {"extracts_neighbours_other_themes",
                                       "topics_without_majority_theme", "themes_not_recovered"}
    assert [m["theme"] for m in d["matching"]][:3] == ["RMC-T1", "RMC-T2", "RMC-T3"]
    # a second run (now from the embedding cache) writes the same bytes
    first = out.read_bytes()
    assert main(["compare", "--json", str(out), "--seeds", "2", "--permutations", "100"]) == 0
    assert out.read_bytes() == first
    assert not list(tmp_path.glob(".compare.json.*"))  # no temporary file left


def test_compare_with_the_tfidf_backend(in_root, tmp_path, capsys):
    out = tmp_path / "tfidf.json"
    rc = main(["compare", "--backend", "tfidf", "--json", str(out), "--seeds", "2",
               "--permutations", "50"])
    assert rc == 0, capsys.readouterr().err
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["backend"] == "tfidf-svd" and d["n_documents"] == 49


def _responses(exclude=()) -> pd.DataFrame:
    """The synthetic responses as a cleaned table (one question, respondent = response)."""
    r = pd.read_csv(DATA / "responses.csv", dtype=str)
    return r.assign(respondent_id=r["response_id"], question="q1",
                    exclude=r["response_id"].isin(list(exclude)))


@pytest.fixture(scope="module")
def staff_study(tmp_path_factory) -> Project:
    """A SYNTHETIC study of 36 staff responses (two excluded), coded under three themes."""
    root = tmp_path_factory.mktemp("compare") / "staff"
    study = Project.create(root, title="Car park and canteen (SYNTHETIC)",
                           group_label="staff group", notebooks=False)
    study.import_responses(_responses(exclude=["S05", "S20"]))
    codings = pd.read_csv(DATA / "codings.csv", dtype=str)
    codings = codings[~codings["response_id"].isin(["S05", "S20"])]  # not coded: excluded
    study.code_many(codings[["response_id", "code", "excerpt"]])
    themes = pd.read_csv(DATA / "themes.csv", dtype=str)
    for i, t in enumerate(themes.itertuples(), start=1):
        study.add_theme(f"T{i}", t.name, codes=[t.theme], definition=t.definition)
    return study


def test_compare_another_study_by_project(staff_study, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not inside any study: --project says which
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    monkeypatch.setenv("THEMATIC_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "check.json"
    rc = main(["compare", "--project", str(staff_study.root), "--json", str(out),
               "--backend", "tfidf", "--seeds", "2", "--permutations", "50"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    d = json.loads(out.read_text(encoding="utf-8"))
    # fitted on the analysable responses only; the excluded ones are counted, not modelled
    assert d["n_responses"] == 34 and d["n_excluded"] == 2 and d["n_documents"] == 34
    assert d["warnings"] == []
    assert d["seed_stability"]["seeds"] == [staff_study.settings.random_state,
                                            staff_study.settings.random_state + 1]
    assert d["backend"] == "tfidf-svd" and d["k"] == 3
    # the summary says "responses", and nothing of the published study is in either
    assert "34 coded responses, 3 themes" in printed.out
    assert re.search(r"Reading list: \d+ responses whose", printed.out)
    assert not PUBLISHED_WORDS.search(printed.out)
    assert not PUBLISHED_WORDS.search(json.dumps(list(_values(d))))
    # nothing written into the study: the JSON goes where --json says
    assert not staff_study.topic_check_file.exists()


def _values(x):
    """Every string value of a JSON document (keys are its fixed format)."""
    if isinstance(x, dict):
        for v in x.values():
            yield from _values(v)
    elif isinstance(x, list):
        for v in x:
            yield from _values(v)
    elif isinstance(x, str):
        yield x


def test_missing_codings_is_one_line_error(tmp_path, capsys, monkeypatch):
    study = Project.create(tmp_path / "proj", title="No codings yet", notebooks=False)
    study.import_responses(_responses())
    study.paths.codings.unlink()
    monkeypatch.chdir(study.root)
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    rc = main(["compare", "--seeds", "1", "--permutations", "1"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("thematic: error:") and "codings" in err
    assert str(study.paths.codings) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_responses_and_no_study_are_one_line_errors(tmp_path, capsys):
    study = Project.create(tmp_path / "empty", title="Nothing imported", notebooks=False)
    assert main(["compare", "--project", str(study.root), "--seeds", "1"]) == 1
    err = capsys.readouterr().err
    assert "no responses in the study yet" in err and len(err.strip().splitlines()) == 1
    assert main(["compare", "--project", str(tmp_path / "nowhere"), "--seeds", "1"]) == 1
    err = capsys.readouterr().err
    assert "no thematic study" in err and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(in_root, capsys):
    assert main(["compare", "--backend", "word2vec"]) == 2
    assert main(["compare", "--seeds", "0"]) == 2
    assert main(["compare", "--root", "."]) == 2  # --project replaced it
    capsys.readouterr()


def test_help_documents_the_options(capsys):
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--project", "--json", "--backend", "--seeds", "--permutations", "--model"):
        assert opt in text
    assert "--root" not in text


@pytest.mark.slow
def test_compare_with_the_static_backend(in_root, tmp_path, capsys):
    out = tmp_path / "static.json"
    rc = main(["compare", "--backend", "static", "--json", str(out), "--seeds", "2",
               "--permutations", "50"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["backend"] == "static:model2vec-all-MiniLM-L6-v2-pca256" and d["n_documents"] == 49
    assert d["device"] == "cpu" and d["warnings"] == [] and d["n_excluded"] == 0
    assert d["params"]["static_distillation"]["pca_dims"] == 256
    # the distilled model is cached under the embedding cache, with its hash beside it
    meta = list((tmp_path / "cache" / "embeddings" / "static").glob("*/distillation.json"))
    assert len(meta) == 1
    assert json.loads(meta[0].read_text(encoding="utf-8"))["sha256"] == d["model_sha256"]
    assert "static:model2vec" in printed.out


def test_help_names_the_static_backend(capsys):
    assert main(["compare", "--help"]) == 0
    assert "static" in capsys.readouterr().out
