"""thematic.topics: BERTopic as a scikit-learn clusterer, manual mode, zero-shot; seeded, quiet."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from thematic.embeddings import embed
from thematic.errors import InputError
from thematic.schemas import conform
from thematic.topics import (
    ParameterError,
    TopicModel,
    default_min_cluster_size,
    default_n_neighbors,
    theme_keywords,
    zero_shot_themes,
)

DATA = Path(__file__).parent / "data" / "topics"


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    """Synthetic responses with their planted theme (the first coding of each)."""
    r = pd.read_csv(DATA / "responses.csv")
    c = pd.read_csv(DATA / "codings.csv").drop_duplicates("response_id")
    return r.merge(c[["response_id", "code"]], on="response_id")


@pytest.fixture(scope="module")
def st(corpus):
    return embed(corpus["text"].tolist(), cache_dir=None)


@pytest.fixture(scope="module")
def tfidf(corpus):
    return embed(corpus["text"].tolist(), backend="tfidf")


@pytest.fixture(scope="module")
def themes() -> dict[str, str]:
    t = pd.read_csv(DATA / "themes.csv")
    return {r.theme: f"{r.name}. {r.definition}" for r in t.itertuples()}


def test_defaults_scale_with_n():
    assert default_n_neighbors(49) == 15 and default_n_neighbors(8) == 7
    assert default_n_neighbors(2) == 2
    assert default_min_cluster_size(49) == 5 and default_min_cluster_size(10_000) == 100


@pytest.mark.parametrize("backend", ["st", "tfidf"])
def test_same_seed_same_assignments(corpus, backend, request):
    emb = request.getfixturevalue(backend)
    docs = corpus["text"].tolist()
    a = TopicModel(3, random_state=11).fit(docs, embeddings=emb).labels_
    b = TopicModel(3, random_state=11).fit(docs, embeddings=emb).labels_
    np.testing.assert_array_equal(a, b)


def test_planted_structure_is_recovered_with_sentence_embeddings(corpus, st):
    tm = TopicModel(3).fit(corpus["text"].tolist(), embeddings=st)
    assert tm.n_topics_ == 3
    assert adjusted_rand_score(corpus["code"], tm.labels_) > 0.8
    assert tm.backend_ == "sentence-transformers:all-MiniLM-L6-v2"
    assert tm.model_name_ == "bertopic[kmeans,k=3,umap]:sentence-transformers:all-MiniLM-L6-v2"
    # predict puts the training documents back in their own topics
    np.testing.assert_array_equal(tm.predict(corpus["text"].tolist()[:6]), tm.labels_[:6])


def test_topic_words_and_sizes_are_tidy(corpus, st):
    tm = TopicModel(3).fit(corpus["text"].tolist(), embeddings=st)
    tw = tm.topic_words_
    assert list(tw.columns) == ["topic", "rank", "word", "weight"]
    assert set(tw["topic"]) == {0, 1, 2} and tw.groupby("topic")["rank"].min().eq(1).all()
    words = set(tw["word"])
    assert {"parking", "canteen", "supervision"} <= words
    assert "the" not in words  # English stop words removed
    assert tm.topic_sizes_["size"].sum() == len(corpus)


def test_topics_frame_fits_the_schema(corpus, st):
    tm = TopicModel(3, random_state=5).fit(corpus["text"].tolist(), embeddings=st)
    df = tm.topics_frame(corpus["response_id"])
    conform(df, "topics")
    assert list(df.columns) == ["response_id", "model", "seed", "topic", "probability"]
    assert (df["seed"] == 5).all() and df["probability"].isna().all()  # k-means: no probability
    with pytest.raises(InputError, match="response ids"):
        tm.topics_frame(["a"])


def test_hdbscan_for_larger_corpora(corpus, st):
    docs = corpus["text"].tolist()
    tm = TopicModel(clustering="hdbscan", min_cluster_size=5).fit(docs, embeddings=st)
    assert tm.labels_.shape == (len(docs),)
    assert tm.n_topics_ >= 2
    df = tm.topics_frame(corpus["response_id"])
    assert df["probability"].between(0, 1).all()
    assert tm.model_name_.startswith("bertopic[hdbscan,mcs=5,umap]")


def test_fit_without_embeddings_uses_the_backend(corpus):
    docs = corpus["text"].tolist()
    tm = TopicModel(3, embedding_backend="tfidf").fit(docs)
    assert tm.backend_ == "tfidf-svd"
    # and predict embeds new text with the same fitted embedder
    assert tm.predict(["the car park was full again"]).shape == (1,)


def test_bad_parameters_raise_at_fit_naming_the_parameter(corpus, st):
    docs = corpus["text"].tolist()
    cases = [({"clustering": "lda"}, "clustering"), ({"reduce": "tsne"}, "reduce"),
             ({"n_topics": 1}, "n_topics"), ({"n_topics": 2.5}, "n_topics"),
             ({"min_df": -1}, "min_df"), ({"embedding_backend": "word2vec"}, "embedding_backend"),
             ({"random_state": "seed"}, "random_state"), ({"clustering": 42}, "clustering"),
             ({"stop_words": "french"}, "stop_words"), ({"large_n": 0}, "large_n")]
    for params, name in cases:
        tm = TopicModel(**params)  # __init__ and set_params never validate (scikit-learn)
        assert tm.set_params(**params) is tm
        with pytest.raises(ParameterError, match=f"'{name}' parameter of TopicModel") as err:
            tm.fit(docs, embeddings=st)
        # one error, two conventions: thematic's InputError and scikit-learn's
        assert isinstance(err.value, InputError) and isinstance(err.value, InvalidParameterError)
        assert isinstance(err.value, ValueError) and isinstance(err.value, TypeError)
        assert not hasattr(tm, "labels_")
    # what depends on the documents is an InputError from fit too
    with pytest.raises(InputError, match="n_topics must be between 2 and n - 1 = 35"):
        TopicModel(len(docs)).fit(docs, embeddings=st)
    with pytest.raises(InputError, match="shape"):
        TopicModel(3).fit(docs, embeddings=st.vectors[:5])
    with pytest.raises(InputError, match="empty"):
        TopicModel(3).fit([*docs[:5], "  "], embeddings=st.vectors[:6])
    with pytest.raises(InputError, match="at least 4 documents, got 0"):
        TopicModel(3).fit([], embeddings=st.vectors[:0])
    with pytest.raises(InputError, match="one string"):
        TopicModel(3).fit("one long document", embeddings=st)
    # embeddings passed where scikit-learn puts y are refused, not silently ignored
    with pytest.raises(InputError, match="embeddings="):
        TopicModel(3).fit(docs, st)
    with pytest.raises(InputError, match="embeddings="):
        TopicModel(3).fit(docs, st.vectors)


def test_not_fitted_is_sklearns_not_fitted_error(corpus, tfidf):
    docs = corpus["text"].tolist()
    tm = TopicModel(3)
    for call in (lambda: tm.predict(docs), lambda: tm.topics_frame(["a"]),
                 lambda: check_is_fitted(tm)):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()
    tm.fit(docs, embeddings=tfidf.vectors)
    check_is_fitted(tm)
    # fitted on a bare array: new documents need their embeddings
    with pytest.raises(InputError, match="pass embeddings="):
        tm.predict(docs[:2])
    np.testing.assert_array_equal(tm.predict(docs[:4], embeddings=tfidf.vectors[:4]),
                                  tm.labels_[:4])


def test_random_state_is_handled_like_scikit_learn(corpus, tfidf):
    docs = corpus["text"].tolist()
    fixed = TopicModel(3, reduce="pca", random_state=np.int64(7)).fit(docs, embeddings=tfidf)
    assert fixed.seed_ == 7 and isinstance(fixed.seed_, int)
    assert fixed.topics_frame(corpus["response_id"])["seed"].eq(7).all()
    # a RandomState draws the seed (reported); the same RandomState state, the same seed
    a = TopicModel(3, reduce="pca", random_state=np.random.RandomState(1)).fit(
        docs, embeddings=tfidf)
    b = TopicModel(3, reduce="pca", random_state=np.random.RandomState(1)).fit(
        docs, embeddings=tfidf)
    assert a.seed_ == b.seed_ == np.random.RandomState(1).randint(np.iinfo(np.int32).max)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.bertopic_.hdbscan_model.random_state == a.seed_  # k-means got the drawn seed
    drawn = TopicModel(3, reduce="pca", random_state=None).fit(docs, embeddings=tfidf)
    assert isinstance(drawn.seed_, int) and drawn.get_params()["random_state"] is None


def test_fits_emit_no_warnings(corpus, st, themes):
    docs = corpus["text"].tolist()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TopicModel(3).fit(docs, embeddings=st)
        TopicModel(clustering="hdbscan").fit(docs, embeddings=st)
        theme_keywords(docs, corpus["code"].tolist())
        zero_shot_themes(docs, themes, st, min_similarity=0.3)
    assert [str(w.message) for w in caught] == []


def test_theme_keywords_do_not_depend_on_the_embeddings(corpus, st):
    docs, labels = corpus["text"].tolist(), corpus["code"].tolist()
    pd.testing.assert_frame_equal(theme_keywords(docs, labels),
                                  theme_keywords(docs, labels, embeddings=st), check_exact=True)


def test_zero_shot_similarities_in_blocks_equal_one_pass(corpus, st, themes):
    from thematic.topics import _cosine, _cosine_blocks

    theme_vecs = np.asarray(st.embedder.transform(list(themes.values())), dtype=np.float64)
    whole = _cosine(st.vectors.astype(np.float64), theme_vecs)
    np.testing.assert_allclose(_cosine_blocks(st.vectors, theme_vecs, block=7), whole,
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(_cosine_blocks(st.vectors, theme_vecs), whole)


@pytest.mark.parametrize("block", [5, 13])
def test_zero_shot_in_blocks_assigns_as_one_run(corpus, st, themes, monkeypatch, block):
    import thematic.topics as T

    docs = corpus["text"].tolist()
    # a threshold that leaves some responses unassigned, so blocks meet both cases
    cut = float(zero_shot_themes(docs, themes, st)["nearest_similarity"].median())
    whole = zero_shot_themes(docs, themes, st, min_similarity=cut,
                             own_themes=corpus["code"].tolist())
    assert whole["assigned_theme"].notna().any() and whole["assigned_theme"].isna().any()
    monkeypatch.setattr(T, "ZERO_SHOT_BLOCK", block)
    blocks = zero_shot_themes(docs, themes, st, min_similarity=cut,
                              own_themes=corpus["code"].tolist())
    pd.testing.assert_frame_equal(whole, blocks, check_exact=True)


def test_theme_keywords_manual_mode(corpus):
    kw = theme_keywords(corpus["text"].tolist(), corpus["code"].tolist(), top_n=5)
    assert list(kw.columns) == ["theme", "rank", "word", "weight"]
    assert list(dict.fromkeys(kw["theme"])) == ["PARK", "FOOD", "SUP"]
    top = kw[kw["rank"] <= 2].groupby("theme")["word"].apply(set).to_dict()
    assert "parking" in top["PARK"] or "park" in top["PARK"]
    assert "canteen" in top["FOOD"]
    assert "supervision" in top["SUP"]


def test_theme_keywords_multi_theme_documents_count_for_each_theme():
    docs = ["apples and pears", "apples again", "pears only", "bananas here", "bananas there"]
    labels = [["FRUIT_A", "FRUIT_P"], "FRUIT_A", "FRUIT_P", "BANANA", "BANANA"]
    kw = theme_keywords(docs, labels, top_n=3)
    assert set(kw["theme"]) == {"FRUIT_A", "FRUIT_P", "BANANA"}
    assert kw[kw["theme"] == "BANANA"]["word"].iloc[0] == "bananas"
    with pytest.raises(InputError, match="labels for"):
        theme_keywords(docs, ["A"])


def _direct(emb, themes, threshold):
    """The zero-shot rule written out: argmax cosine, kept if >= threshold."""
    t = emb.embedder.transform(list(themes.values())).astype(float)
    v = emb.vectors.astype(float)
    sim = (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (
        t / np.linalg.norm(t, axis=1, keepdims=True)).T
    best = sim.argmax(axis=1)
    ids = list(themes)
    return [ids[j] if sim[i, j] >= threshold else None for i, j in enumerate(best)]


@pytest.mark.parametrize("threshold", [-1.0, 0.3, 0.5, 1.01])
def test_zero_shot_matches_the_documented_rule(corpus, st, themes, threshold):
    zs = zero_shot_themes(corpus["text"].tolist(), themes, st, min_similarity=threshold,
                          response_ids=corpus["response_id"], own_themes=corpus["code"])
    got = [None if pd.isna(x) else x for x in zs["assigned_theme"]]
    assert got == _direct(st, themes, threshold)
    assert zs["on_own_theme"].sum() == sum(
        g == own for g, own in zip(got, corpus["code"], strict=True))


def test_zero_shot_on_planted_themes(corpus, st, tfidf, themes):
    for emb in (st, tfidf):
        zs = zero_shot_themes(corpus["text"].tolist(), themes, emb, min_similarity=0.0,
                              own_themes=corpus["code"])
        assert zs["nearest_is_own"].mean() > 0.8
        assert zs["nearest_similarity"].between(-1, 1).all()
    assert list(zs.columns) == ["response_id", "assigned_theme", "similarity", "nearest_theme",
                                "nearest_similarity", "own_themes", "on_own_theme",
                                "nearest_is_own"]


def test_zero_shot_needs_embeddings_object_and_distinct_themes(corpus, st):
    docs = corpus["text"].tolist()
    with pytest.raises(InputError, match="Embeddings"):
        zero_shot_themes(docs, {"A": "a", "B": "b"}, st.vectors)
    with pytest.raises(InputError, match="distinct"):
        zero_shot_themes(docs, {"A": "same", "B": "same"}, st)


# --------------------------------------------------------------------------- large n


def test_small_n_keeps_umap_and_kmeans(corpus, tfidf):
    tm = TopicModel(3).fit(corpus["text"].tolist(), embeddings=tfidf)
    assert (tm.reduction_, tm.clustering_) == ("umap", "kmeans")
    assert tm.model_name_ == "bertopic[kmeans,k=3,umap]:tfidf-svd"
    assert type(tm.bertopic_.umap_model).__name__ == "UMAP"
    assert type(tm.bertopic_.hdbscan_model).__name__ == "KMeans"


def test_above_the_threshold_pca_and_minibatch_kmeans(corpus, tfidf):
    docs = corpus["text"].tolist()
    tm = TopicModel(3, large_n=20, random_state=4).fit(docs, embeddings=tfidf)
    assert (tm.reduction_, tm.clustering_) == ("pca", "minibatch-kmeans")
    assert tm.model_name_ == "bertopic[minibatch-kmeans,k=3,pca]:tfidf-svd"
    assert type(tm.bertopic_.umap_model).__name__ == "PCA"
    assert type(tm.bertopic_.hdbscan_model).__name__ == "MiniBatchKMeans"
    again = TopicModel(3, large_n=20, random_state=4).fit(docs, embeddings=tfidf)
    np.testing.assert_array_equal(tm.labels_, again.labels_)  # seeded
    assert tm.n_topics_ == 3 and tm.probabilities_ is None
    hd = TopicModel(clustering="hdbscan", min_cluster_size=5, large_n=20).fit(docs, embeddings=tfidf)
    assert (hd.reduction_, hd.clustering_) == ("pca", "hdbscan")
    assert hd.bertopic_.hdbscan_model.min_samples == 10
    none = TopicModel(3, large_n=None).fit(docs, embeddings=tfidf)
    assert none.reduction_ == "umap"


def test_large_n_topic_model_is_linear_in_memory():
    # 60,000 synthetic 16-dimensional points in 4 planted groups: PCA + mini-batch k-means
    # fit in seconds and well under the memory an n x n matrix would need (28.8 GB)
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 60_000
    centres = rng.normal(size=(4, 16)) * 5
    group = rng.integers(0, 4, n)
    vectors = (centres[group] + rng.normal(size=(n, 16))).astype(np.float32)
    words = np.array(["parking", "canteen", "supervision", "training"])
    docs = [f"{words[g]} comment {i % 97}" for i, g in enumerate(group)]
    tracemalloc.start()
    t = time.perf_counter()
    tm = TopicModel(4, random_state=1).fit(docs, embeddings=vectors)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (tm.reduction_, tm.clustering_) == ("pca", "minibatch-kmeans")
    assert adjusted_rand_score(group, tm.labels_) > 0.95
    assert seconds < 120 and peak < 1.5e9


def test_clustering_can_be_any_sklearn_clusterer(corpus, tfidf):
    from sklearn.cluster import AgglomerativeClustering, KMeans

    docs = corpus["text"].tolist()
    est = KMeans(n_clusters=3, n_init=3)
    tm = TopicModel(clustering=est, random_state=9).fit(docs, embeddings=tfidf)
    assert tm.clustering_ == "KMeans" and tm.n_topics_requested_ == 3
    assert tm.bertopic_.hdbscan_model.random_state == 9  # the clone got the seed
    assert est.random_state is None  # the template is untouched
    assert tm.model_name_ == "bertopic[KMeans,k=3,umap]:tfidf-svd"
    agg = TopicModel(clustering=AgglomerativeClustering(n_clusters=3)).fit(docs, embeddings=tfidf)
    assert agg.n_topics_ == 3
    with pytest.raises(InputError, match="clustering"):
        TopicModel(clustering=42).fit(docs, embeddings=tfidf)
    with pytest.raises(InputError, match="reduce"):
        TopicModel(3, reduce="tsne").fit(docs, embeddings=tfidf)


def test_zero_shot_outliers_match_the_dbscan_it_replaced(corpus, st, themes, monkeypatch):
    # the linear-time "everything is an outlier" clusterer gives what
    # DBSCAN(eps=1e-12, min_samples=n + 1) gave, which searched neighbours (n^2 time)
    from sklearn.cluster import DBSCAN

    import thematic.topics as topics

    docs = corpus["text"].tolist()
    for threshold in (0.3, 0.45):
        new = zero_shot_themes(docs, themes, st, min_similarity=threshold)
        with monkeypatch.context() as m:
            m.setattr(topics, "_AllOutliers", lambda: DBSCAN(eps=1e-12, min_samples=len(docs) + 1))
            old = zero_shot_themes(docs, themes, st, min_similarity=threshold)
        pd.testing.assert_frame_equal(new, old)
    assert new["assigned_theme"].isna().any() and new["assigned_theme"].notna().any()


# --------------------------------------------------------------------------- scikit-learn
#
# TopicModel is a scikit-learn clusterer whose X is a sequence of documents (text), and it
# says so in its tags (input_tags.string, not two_d_array): check_estimator therefore
# skips it as a whole, like CountVectorizer. The checks are run one by one instead: those
# of sklearn.utils.estimator_checks that never give fit a numeric array run as they are;
# every other one is listed below with the reason it does not apply and, where the
# property it checks holds for documents, the test here that checks it on documents.

SKLEARN_CHECKS_RUN = (
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_estimators_unfitted",  # predict raises NotFittedError before it reads X
)

_ARRAY = "fits on a generated numeric array; X is documents (text)"
_DOCS = "; checked on documents in "
SKLEARN_CHECKS_NOT_APPLICABLE = {
    # properties that hold for documents: checked below on documents
    "check_estimators_fit_returns_self": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_fit_check_is_fitted": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_estimators_overwrite_params": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_dont_overwrite_parameters": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_dict_unchanged": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_fit_idempotent": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_clusterer_compute_labels_predict": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_clustering": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_fit_score_takes_y": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_estimators_pickle": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_methods_sample_order_invariance": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_methods_subset_invariance": _ARRAY + _DOCS + "test_sklearn_api_on_documents",
    "check_estimators_empty_data_messages":
        _ARRAY + _DOCS + "test_bad_parameters_raise_at_fit_naming_the_parameter",
    # properties of numeric arrays that documents do not have
    "check_estimators_dtypes": "float32/int64 arrays: documents have no numeric dtype",
    "check_dtype_object": "object arrays of numbers: X is already a sequence of str",
    "check_complex_data": "complex numbers: documents are text",
    "check_estimators_nan_inf": "NaN/inf: documents are text (empty ones are rejected)",
    "check_estimator_sparse_tag": "sparse input: documents are not a matrix",
    "check_estimator_sparse_array": "sparse input: documents are not a matrix",
    "check_estimator_sparse_matrix": "sparse input: documents are not a matrix",
    "check_array_api_input": "array API namespaces: documents are not an array",
    "check_f_contiguous_array_estimator": "memory layout of arrays: documents are not an array",
    "check_readonly_memmap_input": "memory-mapped arrays: documents are not an array",
    "check_n_features_in": "n_features_in_ counts array columns; documents have none "
                           "(CountVectorizer has none either)",
    "check_n_features_in_after_fitting": "n_features_in_ counts array columns; documents "
                                         "have none",
    "check_fit1d": "1-D numeric X: a 1-D X is exactly what TopicModel takes (documents)",
    "check_fit2d_1sample": "2-D numeric X; fewer than 4 documents are rejected (tested)",
    "check_fit2d_1feature": "2-D numeric X with one column: documents have no columns",
    "check_fit2d_predict1d": "1-D X at predict is a valid sequence of documents here",
    "check_positive_only_tag_during_fit": "positive_only concerns numeric input",
    "check_estimators_partial_fit_n_features": "no partial_fit (BERTopic's needs online "
                                               "models throughout)",
    "check_non_transformer_estimators_n_iter": "TopicModel has no max_iter parameter",
    "check_pipeline_consistency": "builds a Pipeline on a numeric array; a TopicModel is "
                                  "the last step on documents",
}


class _AsIfArrays(TopicModel):
    """TopicModel claiming array input, only to list the checks scikit-learn would run."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array, tags.input_tags.string = True, False
        return tags


def test_every_sklearn_check_is_run_or_has_a_reason():
    from sklearn.utils import get_tags
    from sklearn.utils.estimator_checks import _yield_all_checks

    tags = get_tags(TopicModel())
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "clusterer" and tags.requires_fit
    names = {getattr(c, "func", c).__name__
             for c in _yield_all_checks(_AsIfArrays(), legacy=True)}
    names.add("check_estimator_cloneable")  # run first by check_estimator itself
    # a check added by a new scikit-learn fails here until it is run or given a reason
    assert names == set(SKLEARN_CHECKS_RUN) | set(SKLEARN_CHECKS_NOT_APPLICABLE)
    assert not set(SKLEARN_CHECKS_RUN) & set(SKLEARN_CHECKS_NOT_APPLICABLE)
    # check_estimator itself skips a text estimator rather than failing on it
    with pytest.warns(estimator_checks.SkipTestWarning, match="requires input"):
        estimator_checks.check_estimator(TopicModel())


@pytest.mark.parametrize("check", SKLEARN_CHECKS_RUN)
def test_sklearn_estimator_check(check):
    with warnings.catch_warnings():
        # check_set_params warns (by design) when a value is refused: none should be
        warnings.simplefilter("error")
        getattr(estimator_checks, check)("TopicModel", TopicModel(4, random_state=9))


def test_clone_and_params_round_trip():
    from sklearn.cluster import AgglomerativeClustering

    tm = TopicModel(4, clustering=AgglomerativeClustering(n_clusters=4), reduce="pca",
                    stop_words=["staff"], min_df=0.1, random_state=9, large_n=None)
    params = tm.get_params(deep=False)
    twin = clone(tm)
    assert twin is not tm and twin.get_params(deep=False).keys() == params.keys()
    for key, value in params.items():
        if key == "clustering":  # cloned, not shared
            assert twin.clustering is not value
            assert twin.clustering.get_params() == value.get_params()
        else:
            assert twin.get_params(deep=False)[key] == value
    # nested parameters of a given clusterer are reachable, as in a Pipeline
    assert tm.get_params(deep=True)["clustering__n_clusters"] == 4
    other = TopicModel().set_params(**params)
    assert other.get_params(deep=False) == params
    assert other.set_params(clustering__n_clusters=6).clustering.n_clusters == 6
    assert repr(TopicModel(3)) == "TopicModel(n_topics=3)"
    with pytest.raises(ValueError, match="Invalid parameter 'k'"):
        TopicModel().set_params(k=3)


def _state(est):
    import joblib

    return {k: joblib.hash(v) for k, v in vars(est).items()}


def test_sklearn_api_on_documents(corpus, tfidf):
    import inspect
    import pickle

    docs = corpus["text"].tolist()
    tm = TopicModel(3, embedding_backend="tfidf", random_state=2)
    params = _state(tm)
    # fit(X, y=None, *, embeddings=None) returns self (check_fit_score_takes_y,
    # check_estimators_fit_returns_self)
    for method in ("fit", "fit_predict"):
        sig = list(inspect.signature(getattr(tm, method)).parameters.values())
        assert [p.name for p in sig] == ["X", "y", "embeddings"]
        assert sig[1].default is None and sig[2].kind is inspect.Parameter.KEYWORD_ONLY
    assert [p.name for p in inspect.signature(tm.predict).parameters.values()] == [
        "X", "embeddings"]
    assert not hasattr(tm, "transform") and not hasattr(tm, "fit_transform")
    assert tm.fit(docs, y=corpus["code"].tolist()) is tm  # y is accepted and ignored
    check_is_fitted(tm)  # check_fit_check_is_fitted
    # fit changes no parameter and sets only attributes ending in "_"
    # (check_estimators_overwrite_params, check_dont_overwrite_parameters)
    after = _state(tm)
    assert {k: after[k] for k in params} == params
    assert all(k.endswith("_") for k in set(after) - set(params))
    # predict changes nothing (check_dict_unchanged)
    labels = tm.predict(docs)
    assert _state(tm) == after
    # a clusterer's labels: fit_predict equals fit().labels_ and the training documents
    # are predicted into their own topics (check_clusterer_compute_labels_predict,
    # check_clustering)
    np.testing.assert_array_equal(labels, tm.labels_)
    again = clone(tm).fit_predict(docs)
    np.testing.assert_array_equal(again, tm.labels_)  # check_fit_idempotent (seeded)
    assert tm.labels_.dtype == np.int64 and set(tm.labels_) == {0, 1, 2} == set(range(3))
    assert adjusted_rand_score(corpus["code"], tm.labels_) > 0.8
    # predict does not depend on the order or the batch of documents
    # (check_methods_sample_order_invariance, check_methods_subset_invariance)
    order = np.random.default_rng(0).permutation(len(docs))
    np.testing.assert_array_equal(tm.predict([docs[i] for i in order]), labels[order])
    for lo in range(0, len(docs), 7):
        np.testing.assert_array_equal(tm.predict(docs[lo:lo + 7]), labels[lo:lo + 7])
    # a pickled model predicts the same (check_estimators_pickle)
    new = ["the car park was full again", "lunch in the canteen was cold",
           "my supervisor listens to me"]
    back = pickle.loads(pickle.dumps(tm))
    np.testing.assert_array_equal(back.predict(new), tm.predict(new))
