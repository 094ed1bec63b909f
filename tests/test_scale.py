"""Scale: linear-memory statistics at 200k documents, the permutation baseline and the
large-n topic check (issue 12). The data are SYNTHETIC, generated in the tests."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from thematic.compare import (
    STATISTICS,
    extract_consistency,
    neighbour_agreement,
    permutation_test,
    topic_check,
)

N = 200_000  # an n x n float64 matrix would need 200k^2 x 8 bytes = 320 GB


@pytest.fixture(scope="module")
def planted():
    """200k documents of 6 themes; 5 fits put each in its theme's topic 80% of the time."""
    rng = np.random.default_rng(5)
    themes = rng.integers(0, 6, N)
    ind = np.zeros((N, 6), dtype=bool)
    ind[np.arange(N), themes] = True
    ind[rng.choice(N, 2000, replace=False), 0] = True  # some multi-theme documents
    parts = np.stack([np.where(rng.random(N) < 0.8, themes, rng.integers(0, 6, N))
                      for _ in range(5)])
    return themes, ind, parts


def test_consistency_and_neighbours_at_200k_in_seconds(planted):
    themes, ind, parts = planted
    tracemalloc.start()
    t = time.perf_counter()
    cons = extract_consistency(parts)
    nb = neighbour_agreement(parts, ind)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 30
    assert peak < 400e6  # one n x n bool matrix alone would be 40 GB
    assert cons.shape == (N,) and np.isfinite(cons).all()
    assert cons.min() >= 0 and cons.max() <= 1
    # a single-theme document's neighbours: ~ (0.8 * 0.8 + 0.2 / 6 ...) carry its theme
    single = ind.sum(axis=1) == 1
    assert 0.6 < nb.loc[single, "same_theme_share"].mean() < 0.75
    # the weight is the mean topic size minus one, from label counts alone
    sizes = np.mean([np.bincount(p, minlength=6)[p] - 1 for p in parts], axis=0)
    np.testing.assert_allclose(nb["neighbour_weight"], sizes)
    # main other theme: never the document's own
    other = nb["main_other_theme_index"].to_numpy()
    assert not ind[np.arange(N), np.maximum(other, 0)][other >= 0].any()


def test_permutation_baseline_at_200k_is_chunked_and_states_its_error(planted):
    themes, ind, parts = planted
    first = np.array(themes)
    tracemalloc.start()
    t = time.perf_counter()
    summary, null = permutation_test(ind, first, parts[0], n_permutations=60, random_state=3)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 120
    assert peak < 1.5e9  # 60 permutations x 200k documents, in chunks
    s = summary.set_index("statistic")
    assert (s["p_value"] == 1 / 61).all()  # planted agreement beats every permutation
    assert abs(s.loc["adjusted_rand", "null_mean"]) < 0.01
    np.testing.assert_allclose(s["p_value_mc_se"], np.sqrt(s["p_value"] * (1 - s["p_value"]) / 60))
    assert len(null) == 60 * len(STATISTICS)


@pytest.mark.slow
def test_topic_check_above_the_large_n_threshold():
    # 24,000 short SYNTHETIC responses with the torch-free backend: the topic model switches
    # to PCA + mini-batch k-means and the result says so, with the Monte-Carlo error
    rng = np.random.default_rng(8)
    words = {"PARK": ["car park", "parking permit", "parking space"],
             "FOOD": ["canteen food", "lunch menu", "hot meals"],
             "SUP": ["supervision", "my manager", "reflective practice"]}
    ids = list(words)
    n = 24_000
    theme = rng.integers(0, 3, n)
    texts = [f"{words[ids[t]][int(rng.integers(0, 3))]} is {'good' if i % 2 else 'poor'} {i}"
             for i, t in enumerate(theme)]
    responses = pd.DataFrame({"response_id": [f"R{i:06d}" for i in range(n)], "text": texts})
    codings = pd.DataFrame({"response_id": responses["response_id"],
                            "code": [ids[t] for t in theme]})
    themes = pd.DataFrame({"theme": ids, "name": ["Parking", "Canteen", "Supervision"],
                           "definition": ["car parking", "canteen food", "supervision"]})
    res = topic_check(responses, codings, themes, backend="tfidf", n_seeds=2,
                      n_permutations=100, cache_dir=None)
    assert res.reduction == "pca" and res.clustering == "minibatch-kmeans"
    assert res.model.startswith("bertopic[minibatch-kmeans,k=3,pca]")
    d = res.to_dict()
    assert d["reduction"] == "pca" and d["params"]["large_n"] == 20_000
    mc = d["chance"]["monte_carlo_se"]
    assert set(mc) == {"p_value", "mean"} and set(mc["mean"]) == set(STATISTICS)
    assert mc["mean"]["adjusted_rand"] == pytest.approx(
        res.statistic("adjusted_rand", "null_sd") / 10, abs=1e-6)
    assert "Monte-Carlo error" in res.summary()
    # the planted themes show above chance (word-overlap embeddings, 5 PCA dimensions)
    assert res.statistic("adjusted_rand") > 0.1
    assert res.statistic("adjusted_rand", "p_value") == pytest.approx(1 / 101)
