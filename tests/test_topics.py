"""thematic.topics: BERTopic wrapper, manual mode, zero-shot; seeded and quiet."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from thematic.embeddings import embed
from thematic.errors import InputError
from thematic.schemas import validate
from thematic.topics import (
    TopicModel,
    default_min_cluster_size,
    default_n_neighbors,
    sweep_k,
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
    a = TopicModel(3, random_state=11).fit(docs, emb).labels_
    b = TopicModel(3, random_state=11).fit(docs, emb).labels_
    np.testing.assert_array_equal(a, b)


def test_planted_structure_is_recovered_with_sentence_embeddings(corpus, st):
    tm = TopicModel(3).fit(corpus["text"].tolist(), st)
    assert tm.n_topics_ == 3
    assert adjusted_rand_score(corpus["code"], tm.labels_) > 0.8
    assert tm.backend_ == "sentence-transformers:all-MiniLM-L6-v2"
    assert tm.model_name_ == "bertopic[kmeans,k=3,umap]:sentence-transformers:all-MiniLM-L6-v2"
    # transform puts the training documents back in their own topics
    np.testing.assert_array_equal(tm.transform(corpus["text"].tolist()[:6]), tm.labels_[:6])


def test_topic_words_and_sizes_are_tidy(corpus, st):
    tm = TopicModel(3).fit(corpus["text"].tolist(), st)
    tw = tm.topic_words_
    assert list(tw.columns) == ["topic", "rank", "word", "weight"]
    assert set(tw["topic"]) == {0, 1, 2} and tw.groupby("topic")["rank"].min().eq(1).all()
    words = set(tw["word"])
    assert {"parking", "canteen", "supervision"} <= words
    assert "the" not in words  # English stop words removed
    assert tm.topic_sizes_["size"].sum() == len(corpus)


def test_topics_frame_fits_the_schema(corpus, st):
    tm = TopicModel(3, random_state=5).fit(corpus["text"].tolist(), st)
    df = tm.topics_frame(corpus["response_id"])
    validate(df, "topics")
    assert list(df.columns) == ["response_id", "model", "seed", "topic", "probability"]
    assert (df["seed"] == 5).all() and df["probability"].isna().all()  # k-means: no probability
    with pytest.raises(InputError, match="response ids"):
        tm.topics_frame(["a"])


def test_hdbscan_for_larger_corpora(corpus, st):
    docs = corpus["text"].tolist()
    tm = TopicModel(clustering="hdbscan", min_cluster_size=5).fit(docs, st)
    assert tm.labels_.shape == (len(docs),)
    assert tm.n_topics_ >= 2
    df = tm.topics_frame(corpus["response_id"])
    assert df["probability"].between(0, 1).all()
    assert tm.model_name_.startswith("bertopic[hdbscan,mcs=5,umap]")


def test_fit_without_embeddings_uses_the_backend(corpus):
    docs = corpus["text"].tolist()
    tm = TopicModel(3, embedding_backend="tfidf").fit(docs)
    assert tm.backend_ == "tfidf-svd"
    # and transform embeds new text with the same fitted embedder
    assert tm.transform(["the car park was full again"]).shape == (1,)


def test_bad_parameters_are_input_errors(corpus, st):
    docs = corpus["text"].tolist()
    with pytest.raises(InputError, match="clustering"):
        TopicModel(3, clustering="lda").fit(docs, st)
    with pytest.raises(InputError, match="n_topics"):
        TopicModel(len(docs)).fit(docs, st)
    with pytest.raises(InputError, match="shape"):
        TopicModel(3).fit(docs, st.vectors[:5])
    with pytest.raises(InputError, match="empty"):
        TopicModel(3).fit([*docs[:5], "  "], st.vectors[:6])
    with pytest.raises(InputError, match="not fitted"):
        TopicModel(3).topics_frame(["a"])


def test_sklearn_conventions():
    tm = TopicModel(4, random_state=9)
    assert clone(tm).get_params()["random_state"] == 9
    assert not [k for k in vars(tm) if k.endswith("_")]


def test_fits_emit_no_warnings(corpus, st, themes):
    docs = corpus["text"].tolist()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TopicModel(3).fit(docs, st)
        TopicModel(clustering="hdbscan").fit(docs, st)
        theme_keywords(docs, corpus["code"].tolist())
        zero_shot_themes(docs, themes, st, min_similarity=0.3)
    assert [str(w.message) for w in caught] == []


def test_sweep_k(corpus, tfidf):
    df = sweep_k(corpus["text"].tolist(), [2, 3], embeddings=tfidf, seeds=[1, 2])
    assert list(df.columns) == ["k", "seed", "position", "topic"]
    assert len(df) == 2 * 2 * len(corpus)
    assert df.groupby(["k", "seed"])["topic"].nunique().to_dict() == {
        (2, 1): 2, (2, 2): 2, (3, 1): 3, (3, 2): 3}


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
