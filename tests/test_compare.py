"""thematic.compare: contingency, matching, chance baseline, stability, reading list."""

from __future__ import annotations

import json
import math
import re
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thematic.compare import (
    MULTI_LABEL_RULES,
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
    from thematic.codebook import read_codebook

    t = theme_table(read_codebook(root / "corpus" / "coding" / "codebook.yaml"))
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


def test_summary_names_the_studys_unit_and_the_json_does_not_depend_on_it(check):
    import dataclasses

    assert check.unit == "document"
    assert "36 coded documents" in check.summary() and "extract" not in check.summary()
    responses = dataclasses.replace(check, unit="response")
    text = responses.summary()
    assert "36 coded responses, 3 themes" in text
    assert re.search(r"Reading list: \d+ responses whose topic neighbours", text)
    assert "extract" not in text and "document" not in text
    published = dataclasses.replace(check, unit="extract")
    assert "36 coded extracts" in published.summary()
    assert published.to_json() == responses.to_json() == check.to_json()
    assert dataclasses.replace(check, unit="study").units == "studies"


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
    with pytest.raises(InputError, match="multi_label must be one of 'first', 'drop', "
                                         "'duplicate', not 'all'"):
        topic_check(responses, codings, themes, multi_label="all", cache_dir=None)
    with pytest.raises(InputError, match="embedding_model="):  # the old meaning of model=
        topic_check(responses, codings, themes, model="/models/mine", cache_dir=None)
    with pytest.raises(InputError, match="unit"):
        topic_check(responses, codings, themes, unit="", cache_dir=None)
    with pytest.raises(InputError, match="multi_label must be one of"):
        agreement_statistics(*_onehot([0, 1, 0, 1], 2), np.array([0, 1, 0, 1]),
                             multi_label="last")


def test_k_sweep(synthetic):
    responses, codings, themes = synthetic
    df = k_sweep(responses, codings, themes, [2, 3, 6], backend="tfidf", n_seeds=2)
    assert list(df.columns) == ["k", "statistic", "mean", "sd", "n_seeds", "n_topics_min"]
    assert df["k"].unique().tolist() == [2, 3, 6]
    assert (df["n_seeds"] == 2).all()
    assert (df["n_topics_min"] == df["k"]).all()  # 36 distinct texts hold 6 groups
    ari = df[df["statistic"] == "adjusted_rand"].set_index("k")["mean"]
    assert ari.idxmax() == 3  # the planted number of themes


# --------------------------------------------------------------------------- linear memory


def _old_extract_consistency(parts):
    """The n x n definition the linear implementation replaced (test oracle only)."""
    n_fits, n = parts.shape
    co = [(p[:, None] == p[None, :]) & ~np.eye(n, dtype=bool) for p in parts]
    total = np.zeros(n)
    for a, b in combinations(range(n_fits), 2):
        inter = (co[a] & co[b]).sum(axis=1)
        union = (co[a] | co[b]).sum(axis=1)
        total += np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return total / math.comb(n_fits, 2)


def _old_neighbour_agreement(parts, indicator):
    """The n x n co-assignment definition (test oracle only)."""
    n = parts.shape[1]
    co = np.mean([(p[:, None] == p[None, :]) for p in parts], axis=0)
    co[np.eye(n, dtype=bool)] = 0.0
    ind = indicator.astype(float)
    shares = (ind @ ind.T) > 0
    weight = co.sum(axis=1)
    safe = np.where(weight > 0, weight, 1)
    same = np.where(weight > 0, (co * shares).sum(axis=1) / safe, np.nan)
    mass = co @ ind
    mass[indicator] = -1.0
    other = mass.argmax(axis=1)
    share = np.where(weight > 0, mass[np.arange(n), other] / safe, np.nan)
    other = np.where(mass.max(axis=1) > 0, other, -1)
    exact = np.stack([sum(((p == p[i]) & (np.arange(n) != i)) @ indicator.astype(int)
                          for p in parts) for i in range(n)])
    return pd.DataFrame({"neighbour_weight": weight, "same_theme_share": same,
                         "main_other_theme_index": other,
                         "main_other_theme_share": np.where(other >= 0, share, np.nan)}), exact


def _old_null(ind, first, topics, n_permutations, random_state, rule):
    """The permutation loop the vectorised baseline replaced (test oracle only)."""
    rng = np.random.default_rng(random_state)
    null = np.empty((n_permutations, len(STATISTICS)))
    for b in range(n_permutations):
        perm = rng.permutation(len(first))
        s = agreement_statistics(ind[perm], first[perm], topics, multi_label=rule)
        null[b] = [s[k] for k in STATISTICS]
    return null


def test_extract_consistency_equals_the_pairwise_definition():
    rng = np.random.default_rng(11)
    for _ in range(150):
        n, fits, k = int(rng.integers(2, 70)), int(rng.integers(2, 9)), int(rng.integers(1, 8))
        parts = rng.integers(-1, k, (fits, n))
        np.testing.assert_array_equal(extract_consistency(parts), _old_extract_consistency(parts))
    # many distinct labels: the sparse (np.unique) contingency path
    parts = rng.integers(0, 5000, (3, 300))
    np.testing.assert_array_equal(extract_consistency(parts), _old_extract_consistency(parts))


def test_neighbour_agreement_equals_the_co_assignment_definition():
    rng = np.random.default_rng(12)
    ties = 0
    for _ in range(150):
        n, fits = int(rng.integers(2, 70)), int(rng.integers(1, 11))
        k, t = int(rng.integers(1, 8)), int(rng.integers(1, 6))
        parts = rng.integers(-1, k, (fits, n))
        ind = rng.random((n, t)) < 0.3
        new = neighbour_agreement(parts, ind)
        old, exact = _old_neighbour_agreement(parts, ind)
        for col in ("neighbour_weight", "same_theme_share", "main_other_theme_share"):
            np.testing.assert_allclose(new[col], old[col], rtol=1e-12, atol=1e-14)
        # the main other theme is the same, except on exact ties of the integer theme
        # mass, which the float co-assignment sums broke by rounding; the linear version
        # takes the first tied theme (codebook order)
        a, b = old["main_other_theme_index"].to_numpy(), new["main_other_theme_index"].to_numpy()
        for i in np.flatnonzero(a != b):
            mass = np.where(ind[i], -1, exact[i])
            assert mass[a[i]] == mass[b[i]] == mass.max()
            assert b[i] == int(np.flatnonzero(mass == mass.max())[0])
            ties += 1
    assert ties < 150 * 5


@pytest.mark.parametrize("rule", list(MULTI_LABEL_RULES))
def test_vectorised_permutations_equal_the_permutation_loop(rule, monkeypatch):
    import thematic.compare as cmp

    rng = np.random.default_rng(21)
    checked = 0
    for trial in range(40):
        n, t, k = int(rng.integers(6, 60)), int(rng.integers(2, 6)), int(rng.integers(2, 7))
        ind = rng.random((n, t)) < (0.3 if trial % 4 else 0.0)  # every 4th: one theme each
        ind[np.arange(n), rng.integers(0, t, n)] = True
        first = np.array([np.flatnonzero(r)[int(rng.integers(0, r.sum()))] for r in ind])
        topics = rng.integers(-1, k, n)
        if trial % 3 == 0:  # force several chunks of permutations
            monkeypatch.setattr(cmp, "_PERMUTATION_CHUNK_ELEMENTS", 7 * n)
        else:
            monkeypatch.setattr(cmp, "_PERMUTATION_CHUNK_ELEMENTS", 1 << 23)
        try:
            old = _old_null(ind, first, topics, 25, trial, rule)
        except InputError:
            continue
        new = cmp._null_statistics(ind, first, topics, 25, trial, rule)
        np.testing.assert_array_equal(new, old)  # bit for bit
        checked += 1
    assert checked >= 30


def test_permutation_summary_states_monte_carlo_error():
    ind, first = _onehot(np.repeat(np.arange(3), 8), 3)
    topics = np.random.default_rng(3).integers(0, 3, 24)
    s, null = permutation_test(ind, first, topics, n_permutations=400, random_state=2)
    s = s.set_index("statistic")
    p = s["p_value"]
    np.testing.assert_allclose(s["p_value_mc_se"], np.sqrt(p * (1 - p) / 400))
    sd = null.groupby("statistic")["value"].std(ddof=1)
    np.testing.assert_allclose(s["null_mean_mc_se"], sd[s.index] / 20)


def test_no_n_by_n_allocation_left_in_compare_and_topics(root):
    # the n x n patterns the linear rewrite removed must not come back
    for name in ("compare.py", "topics.py"):
        src = (root / "src" / "thematic" / name).read_text(encoding="utf-8")
        for pattern in ("[:, None] == p[None, :]", "np.eye(n", "ind @ ind.T", "pairwise_dist",
                        "DBSCAN(eps"):
            assert pattern not in src, (name, pattern)


# --------------------------------------------------------------------------- issue 9


def test_topic_check_fits_only_analysable_responses(synthetic):
    responses, codings, themes = synthetic
    resp = responses.copy()
    # a cleaned table read back from CSV: exclude is text
    resp["exclude"] = ["True" if i in (0, 13) else "False" for i in range(len(resp))]
    res = topic_check(resp, codings, themes, backend="tfidf", n_seeds=2, n_permutations=20,
                      cache_dir=None)
    assert res.n_responses == 34 and res.n_excluded == 2
    assert res.n_documents == 34
    assert not res.assignments["response_id"].isin(["S01", "S14"]).any()
    assert any("excluded" in w for w in res.warnings)
    d = res.to_dict()
    assert d["n_excluded"] == 2 and d["warnings"] == res.warnings
    assert "Warning:" in res.summary()
    resp["exclude"] = ["maybe" if i == 3 else "False" for i in range(len(resp))]
    with pytest.raises(ValidationError, match="row 5"):
        topic_check(resp, codings, themes, backend="tfidf", n_seeds=1, cache_dir=None)


def test_topic_check_warns_when_fewer_topics_than_k_form():
    # only two distinct texts: k-means cannot form four topics
    texts = ["the car park is full every morning"] * 6 + ["the canteen food is cold"] * 6
    responses = pd.DataFrame({"response_id": [f"R{i:02d}" for i in range(12)], "text": texts})
    codings = pd.DataFrame({"response_id": responses["response_id"],
                            "code": ["PARK"] * 6 + ["FOOD"] * 6})
    themes = pd.DataFrame({"theme": ["PARK", "FOOD"], "name": ["Parking", "Food"]})
    from thematic.topics import TopicModel

    res = topic_check(responses, codings, themes, backend="tfidf", k=4, n_seeds=2,
                      model=TopicModel(reduce="none"), n_permutations=10, cache_dir=None)
    assert len(res.warnings) == 1
    assert "fewer topics than k = 4 formed in 2 of 2 seeds" in res.warnings[0]
    assert "2 (seed 20230701)" in res.warnings[0]
    assert res.to_dict()["warnings"] == res.warnings
    assert "Warning: fewer topics than k = 4" in res.summary()


def test_topic_check_with_your_own_model_cloned_per_seed(synthetic):
    from sklearn.cluster import KMeans

    from thematic.topics import TopicModel

    responses, codings, themes = synthetic
    mine = TopicModel(clustering="kmeans", reduce="none", n_topics=None)
    res = topic_check(responses, codings, themes, backend="tfidf", model=mine, n_seeds=3,
                      n_permutations=20, cache_dir=None)
    assert mine.get_params()["n_topics"] is None and not hasattr(mine, "labels_")  # untouched
    assert res.k == 3 and res.reduction == "none" and res.model.startswith("bertopic[kmeans")
    assert res.assignments.groupby("seed").size().to_dict() == {20230701: 36, 20230702: 36,
                                                                20230703: 36}
    est = KMeans(n_clusters=3, n_init=2)
    res2 = topic_check(responses, codings, themes, backend="tfidf", model=est, n_seeds=2,
                       n_permutations=20, cache_dir=None)
    assert res2.clustering == "KMeans" and res2.k == 3
    assert "KMeans" in res2.params["cluster_model"]
    assert est.get_params()["random_state"] is None  # the user's estimator is not modified
    with pytest.raises(InputError, match="TopicModel or a scikit-learn"):
        topic_check(responses, codings, themes, backend="tfidf", model=object(), n_seeds=1,
                    cache_dir=None)


def test_k_sweep_with_your_own_model(synthetic):
    from sklearn.cluster import AgglomerativeClustering

    responses, codings, themes = synthetic
    df = k_sweep(responses, codings, themes, [2, 3], backend="tfidf", n_seeds=1,
                 model=AgglomerativeClustering())
    assert df["k"].unique().tolist() == [2, 3]
    ari = df[df["statistic"] == "adjusted_rand"].set_index("k")["mean"]
    assert ari.idxmax() == 3


def test_k_sweep_embeds_with_the_model_it_is_given(synthetic, monkeypatch):
    import thematic.embeddings as embeddings

    responses, codings, themes = synthetic
    seen = {}
    real = embeddings.embed

    def spy(docs, **kw):
        seen.update(kw)
        return real(docs, backend="tfidf")

    monkeypatch.setattr(embeddings, "embed", spy)
    k_sweep(responses, codings, themes, [3], backend="static", embedding_model="/models/mine",
            cache_dir=None, n_seeds=1, random_state=5)
    assert seen == {"backend": "static", "model": "/models/mine", "cache_dir": None,
                    "random_state": 5}


def test_k_sweep_with_a_template_topic_model_equals_fitting_it_by_hand(synthetic):
    from thematic.embeddings import embed
    from thematic.topics import TopicModel

    responses, codings, themes = synthetic
    emb = embed(responses["text"].tolist(), backend="tfidf")
    template = TopicModel(reduce="none", top_n_words=3)
    df = k_sweep(responses, codings, themes, [2, 4], embeddings=emb, model=template,
                 n_seeds=2, random_state=11)
    assert template.get_params()["n_topics"] is None and not hasattr(template, "labels_")
    assert df["n_topics_min"].tolist() == [2] * 6 + [4] * 6
    # the oracle: each fit by hand, its statistics, their mean and sd over the seeds
    ids, ind, first = theme_indicator(responses["response_id"].tolist(), codings, themes)
    for k in (2, 4):
        values = []
        for seed in (11, 12):
            labels = TopicModel(k, reduce="none", top_n_words=3, random_state=seed).fit(
                responses["text"].tolist(), embeddings=emb).labels_
            values.append(agreement_statistics(ind, first, labels)["adjusted_rand"])
        row = df[(df["k"] == k) & (df["statistic"] == "adjusted_rand")].iloc[0]
        assert row["mean"] == pytest.approx(np.mean(values))
        assert row["sd"] == pytest.approx(np.std(values, ddof=1))
    # a TopicModel whose clustering is an estimator: the estimator gets n_clusters=k
    from sklearn.cluster import KMeans

    est = TopicModel(clustering=KMeans(n_clusters=9, n_init=2), reduce="none")
    df2 = k_sweep(responses, codings, themes, [3], embeddings=emb, model=est, n_seeds=1)
    assert df2["n_topics_min"].eq(3).all() and est.clustering.n_clusters == 9


def test_k_sweep_says_when_fewer_topics_formed_and_rejects_what_it_cannot_sweep(synthetic):
    from sklearn.cluster import DBSCAN

    from thematic.topics import TopicModel

    texts = ["the car park is full every morning"] * 6 + ["the canteen food is cold"] * 6
    responses = pd.DataFrame({"response_id": [f"R{i:02d}" for i in range(12)], "text": texts})
    codings = pd.DataFrame({"response_id": responses["response_id"],
                            "code": ["PARK"] * 6 + ["FOOD"] * 6})
    themes = pd.DataFrame({"theme": ["PARK", "FOOD"], "name": ["Parking", "Food"]})
    df = k_sweep(responses, codings, themes, [2, 4], backend="tfidf", n_seeds=2,
                 model=TopicModel(reduce="none"), cache_dir=None)
    formed = df.groupby("k")["n_topics_min"].first().to_dict()
    assert formed == {2: 2, 4: 2}  # two distinct texts cannot form four topics
    with pytest.raises(InputError, match="number of clusters"):
        k_sweep(responses, codings, themes, [2], backend="tfidf",
                model=TopicModel(clustering="hdbscan"))
    with pytest.raises(InputError, match="n_clusters"):
        k_sweep(responses, codings, themes, [2], backend="tfidf", model=DBSCAN())
    with pytest.raises(InputError, match=r"between 2 and n - 1 = 11 .* not \[12\]"):
        k_sweep(responses, codings, themes, [3, 12], backend="tfidf")
    with pytest.raises(InputError, match="ks is empty"):
        k_sweep(responses, codings, themes, [], backend="tfidf")
    with pytest.raises(InputError, match="multi_label"):
        k_sweep(responses, codings, themes, [2], backend="tfidf", multi_label="any")


def test_one_sweep_and_one_loader():
    import thematic.compare as compare
    import thematic.topics as topics

    assert not hasattr(topics, "sweep_k") and not hasattr(compare, "load_project")
    assert "k_sweep" in compare.__all__
