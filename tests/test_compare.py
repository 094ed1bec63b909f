"""thematic.compare: contingency, matching, chance baseline, stability, reading list."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thematic.compare import (
    STATISTICS,
    agreement_statistics,
    contingency,
    extract_consistency,
    hungarian_match,
    k_sweep,
    neighbour_agreement,
    permutation_test,
    seed_stability,
    theme_indicator,
    theme_table,
    topic_check,
)
from thematic.errors import InputError, ValidationError

DATA = Path(__file__).parent / "data" / "topics"


@pytest.fixture(scope="module")
def synthetic():
    responses = pd.read_csv(DATA / "responses.csv")
    codings = pd.read_csv(DATA / "codings.csv")
    themes = pd.read_csv(DATA / "themes.csv")
    return responses, codings, themes


def _onehot(labels, k):
    ind = np.zeros((len(labels), k), dtype=bool)
    ind[np.arange(len(labels)), labels] = True
    return ind, np.asarray(labels)


# --------------------------------------------------------------------------- inputs


def test_theme_indicator_counts_every_theme_and_orders_by_start(synthetic):
    responses, codings, themes = synthetic
    ids, ind, first = theme_indicator(responses["response_id"].tolist(), codings, themes)
    assert ids == ["PARK", "FOOD", "SUP"]
    assert ind.shape == (36, 3) and ind.sum() == 37
    assert ind[35].tolist() == [False, True, True]  # S36: supervision and canteen
    assert first[35] == ids.index("SUP")  # the segment starting first
    # reversed segment order: the start offset still decides
    flipped = pd.concat([codings.iloc[[-1]], codings.iloc[:-1]])
    assert theme_indicator(responses["response_id"].tolist(), flipped, themes)[2][35] == 2


def test_theme_indicator_lists_every_problem(synthetic):
    responses, codings, themes = synthetic
    bad = pd.concat([codings, pd.DataFrame({"response_id": ["S01", "X99"],
                                            "code": ["NOPE", "PARK"]})])
    with pytest.raises(ValidationError) as err:
        theme_indicator(responses["response_id"].tolist(), bad, themes)
    kinds = sorted(p.kind for p in err.value.problems)
    assert kinds == ["unknown_code", "unknown_response"]
    assert "NOPE" in str(err.value) and "X99" in str(err.value)


def test_theme_table_from_the_project_codebook(root):
    from thematic.codebook import load_codebook

    t = theme_table(load_codebook(root / "corpus" / "coding" / "codebook.yaml"))
    assert len(t) == 11 and t["theme"].iloc[0] == "RMC-T1"
    assert set(t["section"]) == {"Racially Minoritised Caucus", "White Caucus", "Facilitators",
                                 "Inter-caucus"}
    with pytest.raises(InputError, match="duplicate"):
        theme_table(pd.DataFrame({"theme": ["A", "A"], "name": ["a", "b"]}))


# --------------------------------------------------------------------------- statistics


def test_contingency_counts_document_theme_pairs():
    ind = np.array([[1, 0], [1, 1], [0, 1], [0, 1]], dtype=bool)
    table, topics = contingency(ind, np.array([5, 5, 7, -1]))
    assert topics.tolist() == [-1, 5, 7]
    assert table.tolist() == [[0, 2, 0], [1, 1, 1]]
    assert table.sum() == ind.sum()


def test_hungarian_matching_on_a_hand_built_case():
    # themes x topics; the greedy choice (theme 0 -> topic 0, 5 pairs) is not optimal:
    # the best one-to-one matching is 0->1 (4) + 1->0 (4) + 2->2 (3) = 11 > 5 + 1 + 3
    table = np.array([[5, 4, 0],
                      [4, 1, 0],
                      [0, 0, 3]])
    m = hungarian_match(table)
    assert m["topic_index"].tolist() == [1, 0, 2]
    assert m["n_both"].tolist() == [4, 4, 3]
    sizes = table.sum(axis=0)  # 9, 5, 3
    p0, r0 = 4 / sizes[1], 4 / 9
    assert m.loc[0, "precision"] == pytest.approx(p0) and m.loc[0, "recall"] == pytest.approx(r0)
    assert m.loc[0, "f1"] == pytest.approx(2 * p0 * r0 / (p0 + r0))
    assert m.loc[2, "f1"] == pytest.approx(1.0)


def test_hungarian_unmatched_theme_has_zero_f1():
    m = hungarian_match(np.array([[3], [2]]))  # two themes, one topic
    assert m["topic_index"].tolist() == [0, -1]
    assert m.loc[1, "f1"] == 0.0 and m.loc[1, "n_topic"] == 0


def test_agreement_statistics_perfect_and_multi_label_rules():
    ind, lab = _onehot([0, 0, 1, 1, 2, 2], 3)
    s = agreement_statistics(ind, lab, np.array([9, 9, 4, 4, 1, 1]))
    assert list(s) == list(STATISTICS)
    assert all(v == pytest.approx(1.0) for v in s.values())
    # a document with two themes: first / drop / duplicate differ as documented
    ind2 = ind.copy()
    ind2[0, 1] = True
    topics = np.array([9, 9, 4, 4, 1, 1])
    first = agreement_statistics(ind2, lab, topics, multi_label="first")
    drop = agreement_statistics(ind2, lab, topics, multi_label="drop")
    dup = agreement_statistics(ind2, lab, topics, multi_label="duplicate")
    assert first["adjusted_rand"] == pytest.approx(1.0)
    assert drop["adjusted_rand"] == pytest.approx(1.0)
    assert dup["adjusted_rand"] < 1.0
    with pytest.raises(InputError, match="multi_label"):
        agreement_statistics(ind, lab, topics, multi_label="any")


def test_permutation_planted_clusters_give_small_p():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 10)
    topics = labels.copy()
    topics[rng.choice(40, 6, replace=False)] = rng.integers(0, 4, 6)  # a little noise
    ind, first = _onehot(labels, 4)
    summary, null = permutation_test(ind, first, topics, n_permutations=499, random_state=1)
    s = summary.set_index("statistic")
    assert (s["p_value"] == 1 / 500).all()  # no permutation reaches the planted agreement
    assert abs(s.loc["adjusted_rand", "null_mean"]) < 0.02  # ARI is ~0 by chance
    assert s.loc["adjusted_rand", "observed"] > 0.5
    assert len(null) == 499 * len(STATISTICS)
    assert set(null.columns) == {"permutation", "statistic", "value"}


def test_permutation_unrelated_labels_give_large_p():
    # topics unrelated to the themes: p-values spread over (0, 1] - large on the whole and
    # below .05 about 5% of the time (calibration)
    labels = np.repeat(np.arange(4), 10)
    ind, first = _onehot(labels, 4)
    ps = {"adjusted_rand": [], "adjusted_mutual_info": []}
    for seed in range(40):
        topics = np.random.default_rng(100 + seed).permutation(labels)
        sm, _ = permutation_test(ind, first, topics, n_permutations=49, random_state=seed)
        for k in ps:
            ps[k].append(sm.set_index("statistic").loc[k, "p_value"])
    for k, v in ps.items():
        v = np.array(v)
        assert np.median(v) > 0.25, k
        assert np.mean(v <= 0.05) <= 0.15, k


def test_permutation_is_seeded():
    ind, first = _onehot(np.repeat(np.arange(3), 5), 3)
    topics = np.array([0, 0, 1, 1, 1, 1, 2, 2, 0, 0, 2, 2, 2, 1, 0])
    a, _ = permutation_test(ind, first, topics, n_permutations=50, random_state=7)
    b, _ = permutation_test(ind, first, topics, n_permutations=50, random_state=7)
    c, _ = permutation_test(ind, first, topics, n_permutations=50, random_state=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["null_mean"].equals(c["null_mean"])
    with pytest.raises(InputError):
        permutation_test(ind, first, topics, n_permutations=0)


def test_extract_consistency_hand_cases():
    same = np.array([[0, 0, 1, 1], [5, 5, 2, 2]])  # same partition, other numbers
    np.testing.assert_allclose(extract_consistency(same), 1.0)
    parts = np.array([[0, 0, 1, 1], [0, 1, 1, 1]])
    # doc 0: {1} vs {} -> 0; doc 1: {0} vs {2,3} -> 0; doc 2: {3} vs {1,3} -> 1/2; doc 3 same
    np.testing.assert_allclose(extract_consistency(parts), [0, 0, 0.5, 0.5])
    singletons = np.array([[0, 1, 2], [3, 4, 5]])
    np.testing.assert_allclose(extract_consistency(singletons), 1.0)  # always alone
    assert np.isnan(extract_consistency(parts[:1])).all()


def test_neighbour_agreement_hand_case():
    ind, _ = _onehot([0, 0, 1, 1], 2)
    parts = np.array([[0, 0, 1, 1], [0, 1, 0, 1]])
    nb = neighbour_agreement(parts, ind)
    # doc 0: partner 1 (same theme) in fit 1, partner 2 (other theme) in fit 2 -> 0.5
    np.testing.assert_allclose(nb["same_theme_share"], [0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(nb["neighbour_weight"], [1, 1, 1, 1])
    assert nb["main_other_theme_index"].tolist() == [1, 1, 0, 0]


def test_seed_stability_summary():
    v = pd.DataFrame({"seed": [1, 2, 3, 1, 2, 3], "statistic": ["v_measure"] * 3
                      + ["adjusted_rand"] * 3, "value": [0.5, 0.7, 0.6, 0.1, 0.3, 0.2]})
    s = seed_stability(v).set_index("statistic")
    assert list(s.index) == ["adjusted_rand", "v_measure"]  # report order
    assert s.loc["adjusted_rand", "seed_mean"] == pytest.approx(0.2)
    assert s.loc["adjusted_rand", "seed_sd"] == pytest.approx(0.1)


# --------------------------------------------------------------------------- topic_check


@pytest.fixture(scope="module")
def check(synthetic):
    responses, codings, themes = synthetic
    return topic_check(responses, codings, themes, n_seeds=3, n_permutations=199,
                       cache_dir=None)


def test_topic_check_on_planted_themes(check):
    assert check.n_documents == 36 and check.n_multi_theme == 1 and check.k == 3
    assert check.backend == "sentence-transformers:all-MiniLM-L6-v2"
    assert check.seeds == [20230701, 20230702, 20230703]
    assert check.statistic("adjusted_rand") > 0.7
    assert check.statistic("adjusted_rand", "p_value") == pytest.approx(1 / 200)
    assert check.statistic("adjusted_rand", "n_seeds") == 3
    assert check.partition_agreement["n_pairs"] == 3
    assert check.extracts["consistency"].between(0, 1).all()
    assert check.theme_recovery["recovered"].all()
    assert check.topics["covered"].all()


def test_topic_check_tables(check):
    validate_cols = {"response_id", "model", "seed", "topic", "probability"}
    assert set(check.assignments.columns) == validate_cols
    assert len(check.assignments) == 36 * 3
    assert check.contingency["n"].sum() == 37  # document-theme pairs
    wide = check.contingency_table()
    assert list(wide.index) == ["Car parking", "Canteen food", "Supervision"]
    assert wide.to_numpy().sum() == 37
    assert np.all(np.diag(wide.to_numpy()) >= 10)  # columns ordered by the matched theme
    assert list(check.contingency_table(labels="id", words=0).columns) == [
        str(t) for t in check.matching["topic"]]
    assert set(check.theme_keywords["theme"]) == {"PARK", "FOOD", "SUP"}
    assert check.zero_shot_summary["n_nearest_is_own"] >= 30
    assert check.zero_shot_summary["expected_nearest_is_own_by_chance"] == pytest.approx(37 / 3)
    assert set(check.disagreements["kind"]) <= {"extract_neighbours_other_themes",
                                                "topic_without_majority_theme",
                                                "theme_not_recovered"}


def test_reading_list_names_misplaced_extracts():
    # one planted response is worded like the other theme: its neighbours carry that theme
    responses = pd.read_csv(DATA / "responses.csv")
    codings = pd.read_csv(DATA / "codings.csv")
    themes = pd.read_csv(DATA / "themes.csv")
    codings.loc[codings["response_id"] == "S01", "code"] = "FOOD"
    res = topic_check(responses, codings, themes, n_seeds=2, n_permutations=20,
                      cache_dir=None)
    ex = res.disagreements[res.disagreements["kind"] == "extract_neighbours_other_themes"]
    assert "S01" in ex["response_id"].tolist()
    row = res.extracts.set_index("response_id").loc["S01"]
    assert row["main_other_theme"] == "PARK" and row["same_theme_share"] < 0.5
    assert "park" in ex.set_index("response_id").loc["S01", "text"]


def test_to_dict_is_json_ready_rounded_and_deterministic(check, synthetic):
    d = check.to_dict()
    for key in ("n_documents", "backend", "adjusted_rand", "adjusted_mutual_info", "chance",
                "seed_stability", "disagreements"):
        assert key in d
    assert set(d["chance"]) >= {"mean", "p_value", "n_permutations"}
    assert d["chance"]["n_permutations"] == 199
    assert d["seed_stability"]["n_seeds"] == 3
    assert set(d["seed_stability"]["mean"]) == set(STATISTICS)
    text = json.dumps(d, sort_keys=True)
    assert "NaN" not in text
    assert all(len(repr(v).split(".")[-1]) <= 6 for v in d["statistics"].values())
    responses, codings, themes = synthetic
    again = topic_check(responses, codings, themes, n_seeds=3, n_permutations=199,
                        cache_dir=None)
    assert again.to_json() == check.to_json()


def test_summary_is_short_and_says_what_it_is(check):
    text = check.summary()
    assert "not a validation" in text and "adjusted_rand" in text
    assert len(text.splitlines()) <= 14


def test_topic_check_with_the_torch_free_backend(synthetic):
    responses, codings, themes = synthetic
    res = topic_check(responses, codings, themes, backend="tfidf", n_seeds=2,
                      n_permutations=50)
    assert res.backend == "tfidf-svd" and res.to_dict()["backend"] == "tfidf-svd"
    assert res.model.endswith(":tfidf-svd")


def test_topic_check_input_errors(synthetic):
    responses, codings, themes = synthetic
    with pytest.raises(InputError, match="n_seeds"):
        topic_check(responses, codings, themes, n_seeds=0, cache_dir=None)
    with pytest.raises(InputError, match="at least 4"):
        topic_check(responses, codings.head(3), themes, cache_dir=None)
    with pytest.raises(InputError, match=r"lack column"):
        topic_check(responses.drop(columns="text"), codings, themes, cache_dir=None)


def test_k_sweep(synthetic):
    responses, codings, themes = synthetic
    df = k_sweep(responses, codings, themes, [2, 3, 6], backend="tfidf", n_seeds=2)
    assert list(df.columns) == ["k", "statistic", "mean", "sd", "n_seeds"]
    assert df["k"].unique().tolist() == [2, 3, 6]
    assert (df["n_seeds"] == 2).all()
    ari = df[df["statistic"] == "adjusted_rand"].set_index("k")["mean"]
    assert ari.idxmax() == 3  # the planted number of themes
