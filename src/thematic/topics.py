"""Topic models of the responses (BERTopic), for a reflexive check of the manual themes.

A topic model groups responses whose embeddings are close and summarises each group by
the words that distinguish it (c-TF-IDF). A topic is a *topic summary* - what responses
are about - not a theme in reflexive thematic analysis, which is a pattern of shared
meaning organised around a central concept that the researcher constructs (Braun &
Clarke 2019, 2021). This module therefore offers the topic model as a prompt for
re-reading, and :mod:`thematic.compare` puts every agreement figure next to a chance
baseline and a seed-stability estimate.

- :class:`TopicModel`: BERTopic with defaults that work on small corpora - UMAP with a
  fixed ``random_state`` and ``n_neighbors = min(15, n - 1)``, then k-means with
  ``k`` topics (default) or HDBSCAN with ``min_cluster_size`` scaled to the corpus; a
  ``CountVectorizer`` with English stop words for the topic words.
- :func:`sweep_k`: the same model over several ``k`` and seeds.
- :func:`theme_keywords`: BERTopic's manual mode (no dimensionality reduction, no
  clustering, ``fit(docs, y=theme)``): the c-TF-IDF words of each *manual* theme.
- :func:`zero_shot_themes`: BERTopic's zero-shot mode with the theme definitions as
  ``zeroshot_topic_list``: which theme each response is most similar to, if any.

BERTopic, UMAP and HDBSCAN are imported inside the functions; known noisy warnings of
those libraries are silenced here (only while they run) so notebook output is stable.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .config import RANDOM_STATE
from .embeddings import Embeddings, embed
from .errors import InputError
from .schemas import validate

__all__ = [
    "TopicModel",
    "sweep_k",
    "theme_keywords",
    "zero_shot_themes",
    "default_n_neighbors",
    "default_min_cluster_size",
]

CLUSTERINGS: tuple[str, ...] = ("kmeans", "hdbscan")

_NOISY_MODULES = ("umap", "pynndescent", "bertopic", "hdbscan", "sklearn", "numba", "pandas",
                  "sentence_transformers", "transformers", "torch", "scipy")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence known noisy warnings of the topic-model libraries while the block runs.

    UMAP warns that a fixed ``random_state`` disables parallelism and, on small corpora,
    that the neighbour graph is not fully connected; ``tqdm.auto`` (imported by UMAP) warns
    in Jupyter kernels without ipywidgets; numba, BERTopic and scikit-learn emit deprecation
    notices; BERTopic logs through its own logger. None of these change a
    result; they are silenced only inside :mod:`thematic` calls.
    """
    import logging

    loggers = [logging.getLogger(n) for n in ("BERTopic", "umap", "numba", "hdbscan")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for module in _NOISY_MODULES:
            for cat in (UserWarning, FutureWarning, DeprecationWarning, RuntimeWarning,
                        ImportWarning, PendingDeprecationWarning):
                warnings.filterwarnings("ignore", category=cat, module=module)
        # tqdm.auto (imported by UMAP) warns in Jupyter kernels without ipywidgets
        warnings.filterwarnings("ignore", category=Warning, module=r"tqdm(\..*)?$")
        warnings.filterwarnings("ignore", message=r".*n_jobs value .* overridden.*")
        warnings.filterwarnings("ignore", message=r".*Graph is not fully connected.*")
        warnings.filterwarnings("ignore", message=r".*n_neighbors is larger than the dataset.*")
        with contextlib.suppress(ImportError):
            from numba.core.errors import NumbaWarning

            warnings.simplefilter("ignore", NumbaWarning)
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, lvl in zip(loggers, levels, strict=True):
                lg.setLevel(lvl)


def default_n_neighbors(n: int) -> int:
    """UMAP neighbours for ``n`` documents: ``min(15, n - 1)`` (at least 2)."""
    return max(2, min(15, n - 1))


def default_min_cluster_size(n: int) -> int:
    """HDBSCAN minimum cluster size for ``n`` documents: 1 % of ``n``, at least 5."""
    return max(5, n // 100)


def _docs(docs: Iterable[str]) -> list[str]:
    if isinstance(docs, str):
        raise InputError("docs must be a sequence of strings, not one string")
    out = list(docs)
    bad = [i for i, d in enumerate(out) if not isinstance(d, str) or not d.strip()]
    if bad:
        raise InputError(
            f"{len(bad)} document(s) are empty or not text (first at position {bad[0]})"
        )
    return out


def _vectors(emb: Embeddings | np.ndarray, n: int) -> np.ndarray:
    vec = emb.vectors if isinstance(emb, Embeddings) else np.asarray(emb)
    if vec.ndim != 2 or vec.shape[0] != n:
        raise InputError(f"embeddings have shape {vec.shape}; expected ({n}, dim)")
    return np.asarray(vec, dtype=np.float32)


_ADAPTER: type | None = None


def _bertopic_embedder(embedder: Any) -> Any:
    """Return the object BERTopic should use to embed extra texts (zero-shot topics).

    The tfidf backend's fitted sklearn pipeline is passed as is (BERTopic wraps it in its
    ``SklearnEmbedder``); a :class:`~thematic.embeddings.SentenceEmbedder` is wrapped so
    that BERTopic's calls go through thematic's cached, deterministic ``transform``.
    """
    global _ADAPTER
    from .embeddings import SentenceEmbedder

    if not isinstance(embedder, SentenceEmbedder):
        return embedder.bertopic_backend()
    if _ADAPTER is None:
        with quiet():
            from bertopic.backend import BaseEmbedder

        class _ThematicBackend(BaseEmbedder):
            def __init__(self, inner: SentenceEmbedder) -> None:
                super().__init__()
                self.inner = inner

            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return self.inner.transform(list(documents))

        _ADAPTER = _ThematicBackend
    return _ADAPTER(embedder)


class TopicModel(BaseEstimator):
    """BERTopic with small-corpus defaults, sklearn conventions and fixed seeds.

    Parameters
    ----------
    n_topics : int, optional
        Number of k-means clusters (``clustering="kmeans"``). Default: the number of
        themes when called through :func:`thematic.compare.topic_check`, otherwise
        ``round(sqrt(n / 2))`` clipped to ``[2, n - 1]``.
    clustering : {"kmeans", "hdbscan"}
        k-means (every document gets a topic) or HDBSCAN (density-based; outliers get
        topic ``-1``; better for large corpora).
    min_cluster_size : int, optional
        HDBSCAN only; default :func:`default_min_cluster_size` (1 % of n, at least 5).
    n_neighbors : int, optional
        UMAP neighbours; default :func:`default_n_neighbors` (``min(15, n - 1)``).
    n_components : int
        UMAP output dimension (capped at ``n - 2``).
    reduce : {"umap", "none"}
        Reduce embeddings with UMAP before clustering (BERTopic's default) or not.
    top_n_words : int
        Words kept per topic.
    stop_words : str or None
        Stop words of the ``CountVectorizer`` that builds topic words.
    min_df : int
        Minimum document frequency of a topic word.
    embedding_backend : {"sentence-transformers", "tfidf"}
        Backend used when ``fit`` is called without embeddings.
    embedding_model : str or os.PathLike, optional
        Local sentence-transformers model (see :mod:`thematic.embeddings`).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache.
    random_state : int
        Seed of UMAP, k-means and the tfidf backend's SVD.

    Attributes
    ----------
    labels_ : numpy.ndarray
        Topic of each training document (``-1``: HDBSCAN outlier).
    probabilities_ : numpy.ndarray or None
        HDBSCAN membership strength of each document; ``None`` for k-means, which has no
        probabilities.
    topic_words_ : pandas.DataFrame
        ``topic, rank, word, weight``: the c-TF-IDF words of each topic.
    topic_sizes_ : pandas.DataFrame
        ``topic, size``.
    n_topics_ : int
        Topics found (outlier topic excluded).
    backend_ : str
        Embedding backend label (``"precomputed"`` for a bare array).
    model_name_ : str
        Short description used in the ``model`` column of :meth:`topics_frame`.
    bertopic_ : bertopic.BERTopic
        The fitted BERTopic model.
    """

    def __init__(
        self,
        n_topics: int | None = None,
        *,
        clustering: str = "kmeans",
        min_cluster_size: int | None = None,
        n_neighbors: int | None = None,
        n_components: int = 5,
        reduce: str = "umap",
        top_n_words: int = 10,
        stop_words: str | None = "english",
        min_df: int = 1,
        embedding_backend: str = "sentence-transformers",
        embedding_model: str | None = None,
        cache_dir: str | None = "auto",
        random_state: int = RANDOM_STATE,
    ) -> None:
        self.n_topics = n_topics
        self.clustering = clustering
        self.min_cluster_size = min_cluster_size
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.reduce = reduce
        self.top_n_words = top_n_words
        self.stop_words = stop_words
        self.min_df = min_df
        self.embedding_backend = embedding_backend
        self.embedding_model = embedding_model
        self.cache_dir = cache_dir
        self.random_state = random_state

    # ---------------------------------------------------------------- building blocks
    def _k(self, n: int) -> int:
        k = self.n_topics if self.n_topics is not None else round(np.sqrt(n / 2))
        k = int(k)
        if not 2 <= k <= n - 1:
            raise InputError(f"n_topics must be between 2 and n - 1 = {n - 1}, not {k}")
        return k

    def _reducer(self, n: int) -> Any:
        if self.reduce == "none":
            from bertopic.dimensionality import BaseDimensionalityReduction

            return BaseDimensionalityReduction()
        if self.reduce != "umap":
            raise InputError(f"reduce must be 'umap' or 'none', not {self.reduce!r}")
        from umap import UMAP

        return UMAP(
            n_neighbors=int(self.n_neighbors or default_n_neighbors(n)),
            n_components=int(max(2, min(self.n_components, n - 2))),
            min_dist=0.0,
            metric="cosine",
            random_state=int(self.random_state),
            low_memory=False,
        )

    def _clusterer(self, n: int) -> Any:
        if self.clustering == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=self._k(n), n_init=10, random_state=int(self.random_state))
        if self.clustering == "hdbscan":
            from hdbscan import HDBSCAN

            return HDBSCAN(
                min_cluster_size=int(self.min_cluster_size or default_min_cluster_size(n)),
                metric="euclidean",
                cluster_selection_method="eom",
                prediction_data=True,
            )
        raise InputError(f"clustering must be one of {list(CLUSTERINGS)}, not {self.clustering!r}")

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(stop_words=self.stop_words, min_df=self.min_df)

    # ---------------------------------------------------------------- fit / transform
    def fit(
        self,
        docs: Iterable[str],
        embeddings: Embeddings | np.ndarray | None = None,
        y: Sequence[int] | None = None,
    ) -> TopicModel:
        """Fit the topic model.

        Parameters
        ----------
        docs : sequence of str
            The responses.
        embeddings : Embeddings or numpy.ndarray, optional
            Precomputed embeddings (reuse them across seeds); computed with
            ``embedding_backend`` if omitted.
        y : ignored
            Present for the sklearn API (see :func:`theme_keywords` for manual mode).

        Returns
        -------
        TopicModel
            ``self``.
        """
        docs = _docs(docs)
        n = len(docs)
        if n < 4:
            raise InputError(f"a topic model needs at least 4 documents, got {n}")
        if embeddings is None:
            embeddings = embed(docs, backend=self.embedding_backend, model=self.embedding_model,
                               cache_dir=self.cache_dir, random_state=self.random_state)
        vectors = _vectors(embeddings, n)
        self.embedder_ = embeddings.embedder if isinstance(embeddings, Embeddings) else None
        self.backend_ = embeddings.backend if isinstance(embeddings, Embeddings) else "precomputed"
        with quiet():
            from bertopic import BERTopic

            model = BERTopic(
                umap_model=self._reducer(n),
                hdbscan_model=self._clusterer(n),
                vectorizer_model=self._vectorizer(),
                top_n_words=int(self.top_n_words),
                calculate_probabilities=False,
                verbose=False,
            )
            topics, probs = model.fit_transform(docs, embeddings=vectors)
        self.bertopic_ = model
        self.labels_ = np.asarray(topics, dtype=np.int64)
        self.probabilities_ = (
            None if self.clustering == "kmeans" or probs is None
            else np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
        )
        self.n_topics_ = int(len(set(self.labels_.tolist()) - {-1}))
        self.n_documents_ = n
        self.topic_words_ = self._topic_words(model)
        sizes = pd.Series(self.labels_).value_counts().sort_index()
        self.topic_sizes_ = pd.DataFrame({"topic": sizes.index.astype("int64"),
                                          "size": sizes.to_numpy(dtype="int64")})
        k = f"k={self._k(n)}" if self.clustering == "kmeans" else (
            f"mcs={int(self.min_cluster_size or default_min_cluster_size(n))}")
        self.model_name_ = f"bertopic[{self.clustering},{k},{self.reduce}]:{self.backend_}"
        return self

    @staticmethod
    def _topic_words(model: Any) -> pd.DataFrame:
        rows = []
        for topic, words in sorted(model.get_topics().items()):
            for rank, (word, weight) in enumerate(words, start=1):
                if word:
                    rows.append({"topic": int(topic), "rank": rank, "word": str(word),
                                 "weight": float(weight)})
        return pd.DataFrame(rows, columns=["topic", "rank", "word", "weight"])

    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise InputError("TopicModel is not fitted: call fit(docs) first")

    def transform(
        self, docs: Iterable[str], embeddings: Embeddings | np.ndarray | None = None
    ) -> np.ndarray:
        """Assign new documents to the fitted topics.

        Parameters
        ----------
        docs : sequence of str
            Documents.
        embeddings : Embeddings or numpy.ndarray, optional
            Their embeddings; computed with the fitted embedder if omitted.

        Returns
        -------
        numpy.ndarray
            Topic of each document.
        """
        self._check_fitted()
        docs = _docs(docs)
        if embeddings is None:
            if self.embedder_ is None:
                raise InputError("pass embeddings: the model was fitted on precomputed vectors")
            embeddings = self.embedder_.transform(docs)
        vectors = _vectors(embeddings, len(docs))
        with quiet():
            topics, _ = self.bertopic_.transform(docs, embeddings=vectors)
        return np.asarray(topics, dtype=np.int64)

    def fit_transform(
        self, docs: Iterable[str], embeddings: Embeddings | np.ndarray | None = None,
        y: Any = None,
    ) -> np.ndarray:
        """``fit`` then return ``labels_``."""
        return self.fit(docs, embeddings).labels_

    def topics_frame(self, response_ids: Sequence[str]) -> pd.DataFrame:
        """Return the assignments as a tidy ``topics`` table.

        Parameters
        ----------
        response_ids : sequence of str
            Id of each training document, in order.

        Returns
        -------
        pandas.DataFrame
            Schema ``topics``: ``response_id, model, seed, topic, probability``
            (``probability`` missing for k-means).
        """
        self._check_fitted()
        ids = list(response_ids)
        if len(ids) != len(self.labels_):
            raise InputError(f"{len(ids)} response ids for {len(self.labels_)} documents")
        prob = (pd.array([pd.NA] * len(ids), dtype="Float64") if self.probabilities_ is None
                else pd.array(self.probabilities_, dtype="Float64"))
        df = pd.DataFrame(
            {
                "response_id": pd.array(ids, dtype="string"),
                "model": self.model_name_,
                "seed": np.int64(self.random_state),
                "topic": self.labels_.astype("int64"),
                "probability": prob,
            }
        )
        return validate(df, "topics")


def sweep_k(
    docs: Iterable[str],
    ks: Iterable[int],
    *,
    embeddings: Embeddings | np.ndarray | None = None,
    seeds: Iterable[int] = (RANDOM_STATE,),
    **params: Any,
) -> pd.DataFrame:
    """Fit :class:`TopicModel` (k-means) for every ``k`` and seed.

    Parameters
    ----------
    docs : sequence of str
        Documents.
    ks : iterable of int
        Numbers of topics.
    embeddings : Embeddings or numpy.ndarray, optional
        Embeddings computed once and reused (computed with the default backend if omitted).
    seeds : iterable of int
        ``random_state`` values.
    **params
        Further :class:`TopicModel` parameters.

    Returns
    -------
    pandas.DataFrame
        ``k, seed, position, topic``: one row per k x seed x document (``position`` is
        the 0-based index of the document).
    """
    docs = _docs(docs)
    if embeddings is None:
        embeddings = embed(docs, backend=params.get("embedding_backend", "sentence-transformers"),
                           cache_dir=params.get("cache_dir", "auto"))
    frames = []
    for k in ks:
        for seed in seeds:
            tm = TopicModel(int(k), clustering="kmeans", random_state=int(seed), **params)
            labels = tm.fit(docs, embeddings).labels_
            frames.append(pd.DataFrame({"k": int(k), "seed": int(seed),
                                        "position": np.arange(len(docs), dtype=np.int64),
                                        "topic": labels}))
    return pd.concat(frames, ignore_index=True)


def _label_lists(labels: Sequence[Any]) -> list[list[str]]:
    out = []
    for lab in labels:
        if isinstance(lab, str):
            out.append([lab])
        elif lab is None or (not isinstance(lab, Iterable) and pd.isna(lab)):
            out.append([])
        else:
            out.append([str(x) for x in lab])
    return out


def theme_keywords(
    docs: Iterable[str],
    labels: Sequence[str | Sequence[str]],
    *,
    top_n: int = 10,
    stop_words: str | None = "english",
    min_df: int = 1,
    embeddings: Embeddings | np.ndarray | None = None,
) -> pd.DataFrame:
    """c-TF-IDF keywords of each manual theme (BERTopic manual mode).

    BERTopic is fitted with no dimensionality reduction and no clustering
    (``BaseDimensionalityReduction``, ``BaseCluster``) and the themes given as ``y``, so
    the "topics" are exactly the themes and c-TF-IDF gives the words that distinguish the
    responses of each theme. A response carrying several themes contributes to each
    (document-theme pairs); responses with no theme are left out.

    Parameters
    ----------
    docs : sequence of str
        Responses.
    labels : sequence of str or of sequences of str
        Theme id(s) of each response.
    top_n : int
        Words per theme.
    stop_words : str or None
        Stop words of the ``CountVectorizer``.
    min_df : int
        Minimum document frequency of a word.
    embeddings : Embeddings or numpy.ndarray, optional
        Only used for BERTopic's topic vectors, not for the keywords; zeros if omitted
        (nothing is embedded or downloaded).

    Returns
    -------
    pandas.DataFrame
        ``theme, rank, word, weight``, themes in order of first appearance.
    """
    docs = _docs(docs)
    lists = _label_lists(labels)
    if len(lists) != len(docs):
        raise InputError(f"{len(lists)} labels for {len(docs)} documents")
    pair_docs, pair_theme, pair_pos = [], [], []
    for i, (d, labs) in enumerate(zip(docs, lists, strict=True)):
        for t in dict.fromkeys(labs):
            pair_docs.append(d)
            pair_theme.append(t)
            pair_pos.append(i)
    themes = list(dict.fromkeys(pair_theme))
    if len(themes) < 2:
        raise InputError("theme_keywords needs documents of at least 2 themes")
    y = np.array([themes.index(t) for t in pair_theme], dtype=np.int64)
    if embeddings is None:
        vectors = np.zeros((len(pair_docs), 1), dtype=np.float32)
    else:
        vectors = _vectors(embeddings, len(docs))[pair_pos]
    with quiet():
        from bertopic import BERTopic
        from bertopic.cluster import BaseCluster
        from bertopic.dimensionality import BaseDimensionalityReduction
        from sklearn.feature_extraction.text import CountVectorizer

        model = BERTopic(
            umap_model=BaseDimensionalityReduction(),
            hdbscan_model=BaseCluster(),
            vectorizer_model=CountVectorizer(stop_words=stop_words, min_df=min_df),
            top_n_words=int(top_n),
            verbose=False,
        )
        model.fit(pair_docs, embeddings=vectors, y=y)
    # BERTopic renumbers topics by size: map back through the documents
    topic_of: dict[int, int] = {}
    for lab, topic in zip(y.tolist(), model.topics_, strict=True):
        topic_of.setdefault(lab, int(topic))
    rows = []
    for lab, theme in enumerate(themes):
        for rank, (word, weight) in enumerate(model.get_topic(topic_of[lab]) or [], start=1):
            if word:
                rows.append({"theme": theme, "rank": rank, "word": str(word),
                             "weight": float(weight)})
    return pd.DataFrame(rows, columns=["theme", "rank", "word", "weight"])


def zero_shot_themes(
    docs: Iterable[str],
    themes: Mapping[str, str],
    embeddings: Embeddings,
    *,
    min_similarity: float = 0.3,
    response_ids: Sequence[str] | None = None,
    own_themes: Sequence[str | Sequence[str]] | None = None,
    stop_words: str | None = "english",
) -> pd.DataFrame:
    """Zero-shot assignment of responses to themes (BERTopic ``zeroshot_topic_list``).

    Each theme's text (its definition) is embedded with the same embedder as the
    responses; BERTopic assigns a response to the theme of highest cosine similarity if
    that similarity is at least ``min_similarity`` and leaves it unassigned otherwise
    (remaining responses are not clustered here).

    Parameters
    ----------
    docs : sequence of str
        Responses.
    themes : mapping of str to str
        Theme id -> text describing it (name and definition).
    embeddings : Embeddings
        Embeddings of ``docs`` from :func:`thematic.embeddings.embed` (its ``embedder``
        embeds the theme texts).
    min_similarity : float
        BERTopic's ``zeroshot_min_similarity``.
    response_ids : sequence of str, optional
        Ids of the responses (default ``"0", "1", ...``).
    own_themes : sequence, optional
        The manual theme(s) of each response, to report whether it lands on its own.
    stop_words : str or None
        Stop words of BERTopic's vectoriser (topic words are not reported).

    Returns
    -------
    pandas.DataFrame
        ``response_id, assigned_theme`` (missing if below ``min_similarity``),
        ``similarity`` (to the assigned theme), ``nearest_theme, nearest_similarity``
        (regardless of the threshold), ``own_themes`` (``"; "``-joined),
        ``on_own_theme``, ``nearest_is_own``.
    """
    docs = _docs(docs)
    n = len(docs)
    if not isinstance(embeddings, Embeddings) or embeddings.embedder is None:
        raise InputError("zero_shot_themes needs an Embeddings object from thematic.embed")
    vectors = _vectors(embeddings, n)
    ids = list(themes)
    texts = [str(themes[t]) for t in ids]
    if len(ids) < 2 or len(set(texts)) != len(texts):
        raise InputError("zero_shot_themes needs at least 2 themes with distinct texts")
    rids = [str(i) for i in range(n)] if response_ids is None else [str(r) for r in response_ids]
    with quiet():
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from sklearn.cluster import DBSCAN
        from sklearn.feature_extraction.text import CountVectorizer

        model = BERTopic(
            embedding_model=_bertopic_embedder(embeddings.embedder),
            umap_model=BaseDimensionalityReduction(),
            # documents below the threshold are left unclustered (all noise, topic -1)
            hdbscan_model=DBSCAN(eps=1e-12, min_samples=n + 1),
            vectorizer_model=CountVectorizer(stop_words=stop_words),
            zeroshot_topic_list=texts,
            zeroshot_min_similarity=float(min_similarity),
            verbose=False,
        )
        topics, _ = model.fit_transform(docs, embeddings=vectors)
    topics = [int(t) for t in topics]
    # map BERTopic's topic ids back to themes
    label_of = model.topic_labels_
    text_index = {t: i for i, t in enumerate(texts)}
    theme_of: dict[int, str] = {}
    for topic in set(topics) - {-1}:
        lab = label_of.get(topic)
        if lab in text_index:
            theme_of[topic] = ids[text_index[lab]]
    if len(theme_of) < len(set(topics) - {-1}):
        # every response matched a theme: BERTopic skipped clustering and kept the
        # zero-shot indices, renumbered by size (original -> current in topic_mapper_)
        mapping = model.topic_mapper_.get_mappings(original_topics=True)
        theme_of = {cur: ids[orig] for orig, cur in mapping.items() if cur != -1 and orig >= 0}
    theme_vecs = np.asarray(embeddings.embedder.transform(texts), dtype=np.float64)
    docs64 = vectors.astype(np.float64)
    sim = _cosine(docs64, theme_vecs)
    nearest = sim.argmax(axis=1)
    own = _label_lists(own_themes) if own_themes is not None else [[] for _ in range(n)]
    rows = []
    for i in range(n):
        assigned = theme_of.get(topics[i]) if topics[i] != -1 else None
        near = ids[int(nearest[i])]
        rows.append(
            {
                "response_id": rids[i],
                "assigned_theme": assigned,
                "similarity": float(sim[i, ids.index(assigned)]) if assigned else np.nan,
                "nearest_theme": near,
                "nearest_similarity": float(sim[i, nearest[i]]),
                "own_themes": "; ".join(own[i]),
                "on_own_theme": bool(assigned is not None and assigned in own[i]),
                "nearest_is_own": bool(near in own[i]),
            }
        )
    out = pd.DataFrame(rows)
    out["response_id"] = out["response_id"].astype("string")
    out["assigned_theme"] = out["assigned_theme"].astype("string")
    out["nearest_theme"] = out["nearest_theme"].astype("string")
    out["own_themes"] = out["own_themes"].astype("string")
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    return (a / na) @ (b / nb).T
