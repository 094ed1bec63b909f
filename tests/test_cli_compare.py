"""``thematic compare`` on the project corpus and on a broken project."""

from __future__ import annotations

import json
import shutil

import pytest

from thematic.cli import main


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


def test_missing_codings_is_one_line_error(root, tmp_path, capsys, monkeypatch):
    proj = tmp_path / "proj"
    (proj / "corpus" / "coding").mkdir(parents=True)
    (proj / "corpus" / "processed").mkdir()
    shutil.copy(root / "pyproject.toml", proj)
    shutil.copy(root / "corpus" / "processed" / "responses.csv", proj / "corpus" / "processed")
    shutil.copy(root / "corpus" / "coding" / "codebook.yaml", proj / "corpus" / "coding")
    monkeypatch.chdir(proj)
    monkeypatch.delenv("THEMATIC_PROJECT_ROOT", raising=False)
    rc = main(["compare", "--seeds", "1", "--permutations", "1"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("thematic: error:") and "codings" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_usage_errors_exit_2(in_root, capsys):
    assert main(["compare", "--backend", "word2vec"]) == 2
    assert main(["compare", "--seeds", "0"]) == 2
    capsys.readouterr()


def test_help_documents_the_options(capsys):
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--json", "--backend", "--seeds", "--permutations", "--model"):
        assert opt in text
