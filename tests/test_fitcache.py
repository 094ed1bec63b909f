"""The fit cache: a warm topic check reads its fits and gives exactly the cold result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from thematic._fitcache import FitCache, digest_array, digest_texts, plain_params
from thematic.compare import k_sweep, topic_check
from thematic.errors import InputError
from thematic.topics import TopicModel

DATA = Path(__file__).parent / "data" / "topics"
FRAMES = ("themes", "statistics", "seed_statistics", "null", "assignments", "contingency",
          "matching", "topic_words", "theme_keywords", "zero_shot", "extracts", "topics",
          "theme_recovery", "disagreements", "monte_carlo")


@pytest.fixture(scope="module")
def synthetic():
    return (pd.read_csv(DATA / "responses.csv"), pd.read_csv(DATA / "codings.csv"),
            pd.read_csv(DATA / "themes.csv"))


def _check(synthetic, cache, **kw):
    responses, codings, themes = synthetic
    kw = {"backend": "tfidf", "n_seeds": 3, "n_permutations": 50, **kw}
    return topic_check(responses, codings, themes, cache_dir=cache, **kw)


def _assert_same(a, b):
    assert a.to_json() == b.to_json()
    assert a.summary() == b.summary()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_a_warm_topic_check_reads_every_fit_and_gives_the_cold_result(synthetic, tmp_path):
    cold = _check(synthetic, tmp_path)
    assert cold.fits_from_cache == 0
    entries = sorted(p.name.split("-")[0] for p in (tmp_path / "fits").iterdir())
    assert entries.count("fit") == 3 and "keywords" in entries and "zero" in entries
    warm = _check(synthetic, tmp_path)
    assert warm.fits_from_cache == 3
    _assert_same(cold, warm)
    # and both are the uncached result
    _assert_same(cold, _check(synthetic, None))


def test_a_warm_check_with_umap_and_the_default_model(synthetic, tmp_path):
    responses, codings, themes = synthetic
    cold = topic_check(responses, codings, themes, backend="tfidf", n_seeds=2,
                       n_permutations=20, cache_dir=tmp_path, model=TopicModel(reduce="umap"))
    warm = topic_check(responses, codings, themes, backend="tfidf", n_seeds=2,
                       n_permutations=20, cache_dir=tmp_path, model=TopicModel(reduce="umap"))
    assert warm.fits_from_cache == 2
    _assert_same(cold, warm)


def test_any_changed_input_misses(synthetic, tmp_path):
    responses, codings, themes = synthetic
    _check(synthetic, tmp_path)
    edited = responses.copy()
    edited.loc[0, "text"] = edited.loc[0, "text"] + " and the bus"
    assert _check((edited, codings, themes), tmp_path).fits_from_cache == 0
    assert _check(synthetic, tmp_path, k=4).fits_from_cache == 0            # parameter
    assert _check(synthetic, tmp_path, random_state=7).fits_from_cache == 0  # seeds
    themes2 = themes.copy()
    themes2.loc[0, "definition"] = "Something else entirely."
    again = _check((responses, codings, themes2), tmp_path)
    assert again.fits_from_cache == 3  # the fits do not depend on the definitions...
    fresh = _check((responses, codings, themes2), None)
    _assert_same(again, fresh)          # ...but the zero-shot table does, and is redone


def test_thread_settings_are_part_of_the_key(synthetic, tmp_path, monkeypatch):
    _check(synthetic, tmp_path)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "7")
    assert _check(synthetic, tmp_path).fits_from_cache == 0


def test_a_model_with_an_estimator_parameter_is_never_cached(synthetic, tmp_path):
    mine = KMeans(n_clusters=3, n_init=2)
    _check(synthetic, tmp_path, model=mine)
    assert _check(synthetic, tmp_path, model=mine).fits_from_cache == 0


def test_a_damaged_entry_is_a_miss_and_is_written_again(synthetic, tmp_path):
    cold = _check(synthetic, tmp_path)
    fits = sorted((tmp_path / "fits").glob("fit-*.npz"))
    fits[0].write_bytes(b"not a zip")
    (next((tmp_path / "fits").glob("zero-shot-*.parquet"))).write_bytes(b"PAR1 broken")
    warm = _check(synthetic, tmp_path)
    assert warm.fits_from_cache == 2
    _assert_same(cold, warm)
    assert _check(synthetic, tmp_path).fits_from_cache == 3  # repaired


def test_an_entry_of_another_layout_is_refitted(synthetic, tmp_path):
    cold = _check(synthetic, tmp_path)
    for p in (tmp_path / "fits").glob("fit-*.npz"):
        np.savez(p, labels=np.zeros(3))  # readable, but not a fit of this layout
    warm = _check(synthetic, tmp_path)
    assert warm.fits_from_cache == 0
    _assert_same(cold, warm)


def test_no_cache_writes_nothing(synthetic, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THEMATIC_CACHE_DIR", raising=False)
    _check(synthetic, None)
    assert not any(tmp_path.iterdir())


def test_a_cached_fit_cannot_predict_and_says_why(synthetic, tmp_path):
    responses, codings, themes = synthetic
    from thematic.compare import _fit_one
    from thematic.embeddings import embed

    docs = responses["text"].tolist()
    emb = embed(docs, backend="tfidf", cache_dir=None)
    cache = FitCache(tmp_path)
    key = f"{digest_texts(docs)}:{digest_array(emb.vectors)}:{emb.backend}"
    cold = _fit_one(TopicModel(3, reduce="none"), 1, docs, emb, cache, key)
    warm = _fit_one(TopicModel(3, reduce="none"), 1, docs, emb, cache, key)
    assert cold.bertopic_ is not None and warm.bertopic_ is None
    np.testing.assert_array_equal(cold.labels_, warm.labels_)
    pd.testing.assert_frame_equal(cold.topic_words_, warm.topic_words_)
    pd.testing.assert_frame_equal(cold.topic_sizes_, warm.topic_sizes_)
    assert (cold.model_name_, cold.n_topics_, cold.seed_) == (warm.model_name_, warm.n_topics_,
                                                              warm.seed_)
    assert cold.predict(docs[:2], embeddings=emb.vectors[:2]).shape == (2,)
    with pytest.raises(InputError, match="fit cache"):
        warm.predict(docs[:2], embeddings=emb.vectors[:2])


def test_k_sweep_reads_cached_fits(synthetic, tmp_path):
    responses, codings, themes = synthetic
    kw = {"backend": "tfidf", "n_seeds": 2, "model": TopicModel(reduce="none")}
    cold = k_sweep(responses, codings, themes, [2, 3, 4], cache_dir=tmp_path, **kw)
    n = len(list((tmp_path / "fits").glob("fit-*.npz")))
    assert n == 6
    warm = k_sweep(responses, codings, themes, [2, 3, 4], cache_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(cold, warm, check_exact=True)
    assert len(list((tmp_path / "fits").glob("fit-*.npz"))) == n


def test_digests_and_plain_params():
    assert digest_texts(["ab", "c"]) != digest_texts(["a", "bc"])  # length-prefixed
    a = np.arange(6, dtype=np.float32)
    assert digest_array(a) != digest_array(a.reshape(2, 3))
    assert digest_array(a) != digest_array(a.astype(np.float64))
    assert plain_params({"k": np.int64(3), "w": ("a", "b"), "p": Path("x")}) == {
        "k": 3, "w": ["a", "b"], "p": "x"}
    assert plain_params({"clustering": KMeans()}) is None
