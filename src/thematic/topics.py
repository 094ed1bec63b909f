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
  Above ``large_n`` documents (default :data:`LARGE_N`, 20,000) the reduction and the
  clustering switch to steps that fit in linear time and memory, through BERTopic's
  pluggable ``umap_model`` / ``hdbscan_model``: PCA (scikit-learn, randomised SVD,
  seeded) instead of UMAP, whose neighbour graph is superlinear, and mini-batch k-means
  instead of k-means (HDBSCAN keeps HDBSCAN, with ``min_samples=10`` so core distances stay
  cheap). The fitted model states the choice (``reduction_``, ``clustering_``). At or
  below the threshold nothing changes.
  :class:`TopicModel` is a scikit-learn clusterer whose ``X`` is the documents:
  ``fit(X, y=None, *, embeddings=None)``, ``fit_predict``, ``predict``; parameters
  declared in ``_parameter_constraints`` and checked by ``fit``; learned attributes end
  in ``_``. The sweep over ``k`` is :func:`thematic.compare.k_sweep`.
- :func:`theme_keywords`: BERTopic's manual mode (no dimensionality reduction, no
  clustering, ``fit(docs, y=theme)``): the c-TF-IDF words of each *manual* theme.
- :func:`zero_shot_themes`: BERTopic's zero-shot mode with the theme definitions as
  ``zeroshot_topic_list``: which theme each response is most similar to, if any.

BERTopic, UMAP and HDBSCAN are imported inside the functions; known noisy warnings of
those libraries are silenced here (only while they run) so notebook output is stable.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted, check_random_state

from .config import RANDOM_STATE
from .embeddings import BACKENDS, Embeddings, embed
from .errors import InputError
from .schemas import conform

__all__ = [
    "TopicModel",
    "ParameterError",
    "theme_keywords",
    "zero_shot_themes",
    "default_n_neighbors",
    "default_min_cluster_size",
    "LARGE_N",
]

CLUSTERINGS: tuple[str, ...] = ("kmeans", "hdbscan")

#: Default number of documents above which :class:`TopicModel` reduces with PCA and
#: clusters with mini-batch k-means (linear time and memory).
LARGE_N: int = 20_000

#: Mini-batch k-means settings used above the threshold.
MINIBATCH_KMEANS: dict[str, int] = {"batch_size": 4096, "n_init": 3, "max_iter": 100}

#: Responses per run of BERTopic's zero-shot mode in :func:`zero_shot_themes` (each is
#: assigned from its own vector, so blocks give the same result with bounded memory).
ZERO_SHOT_BLOCK: int = 100_000

#: HDBSCAN ``min_samples`` above the threshold.
LARGE_N_HDBSCAN_MIN_SAMPLES: int = 10

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
    from .embeddings import TfidfSvdEmbedder

    if isinstance(embedder, TfidfSvdEmbedder):
        return embedder.bertopic_backend()
    if _ADAPTER is None:
        with quiet():
            from bertopic.backend import BaseEmbedder

        class _ThematicBackend(BaseEmbedder):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return self.inner.transform(list(documents))

        _ADAPTER = _ThematicBackend
    return _ADAPTER(embedder)


class ParameterError(InputError, InvalidParameterError):
    """A :class:`TopicModel` parameter outside its declared constraints.

    Raised by ``fit`` (never by ``__init__`` or ``set_params``, as in scikit-learn). It is
    both thematic's :class:`~thematic.errors.InputError` (so the command line prints it
    on one line, like every other bad option) and scikit-learn's
    ``InvalidParameterError`` (so code written for scikit-learn estimators, which catches
    ``ValueError`` or ``TypeError``, catches it too). The message is scikit-learn's: it
    names the parameter, the values allowed and the value given.
    """


def _check_seed(random_state: Any) -> int:
    """Return the integer seed of a fit, from ``random_state`` as scikit-learn takes it.

    An int is used as is (the same fit every time); ``None`` or a
    :class:`numpy.random.RandomState` draws one (from :func:`check_random_state`), so that
    the seed actually used can be reported (``seed_``) and given to UMAP, k-means and the
    tfidf backend alike.
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class TopicModel(ClusterMixin, BaseEstimator):
    """BERTopic as a scikit-learn clusterer of documents, with small-corpus defaults.

    ``X`` is the documents (a sequence of str), not a numeric array; embeddings,
    computed once and reused across seeds, are passed as the keyword ``embeddings=``
    (computed with ``embedding_backend`` when omitted). ``fit`` learns the topics,
    ``fit_predict`` returns the topic of each training document, ``predict`` assigns
    new documents to the fitted topics. There is no ``transform``: k-means, the default
    clustering, gives no document-topic probabilities (HDBSCAN's membership strength
    of the training documents is in ``probabilities_``).

    Parameters are checked when ``fit`` runs, against the declared
    ``_parameter_constraints`` (scikit-learn's parameter validation); a value outside
    them raises :class:`ParameterError`, which is both a thematic
    :class:`~thematic.errors.InputError` and scikit-learn's ``InvalidParameterError``.
    Problems that depend on the documents (``n_topics`` not below their number, fewer
    than 4 documents, embeddings of the wrong shape) raise
    :class:`~thematic.errors.InputError`. Using a model before ``fit`` raises
    :class:`sklearn.exceptions.NotFittedError` (:func:`~sklearn.utils.validation.check_is_fitted`).

    Parameters
    ----------
    n_topics : int, optional
        Number of k-means clusters (``clustering="kmeans"``), at least 2 and below the
        number of documents. Default: the number of themes when called through
        :func:`thematic.compare.topic_check`, otherwise ``round(sqrt(n / 2))``.
    clustering : {"kmeans", "hdbscan"} or estimator
        k-means (every document gets a topic) or HDBSCAN (density-based; outliers get
        topic ``-1``; better for large corpora); or any scikit-learn style clusterer
        (``fit`` setting ``labels_``, e.g. ``sklearn.cluster.AgglomerativeClustering``),
        which is cloned for each fit and given this model's seed if it takes a
        ``random_state``.
    min_cluster_size : int, optional
        HDBSCAN only; default :func:`default_min_cluster_size` (1 % of n, at least 5).
    n_neighbors : int, optional
        UMAP neighbours; default :func:`default_n_neighbors` (``min(15, n - 1)``).
    n_components : int
        Output dimension of the reduction (at least 2; capped at ``n - 2``).
    reduce : {"umap", "pca", "none"}
        Reduce embeddings with UMAP before clustering (BERTopic's default), with PCA, or
        not at all.
    top_n_words : int
        Words kept per topic.
    stop_words : "english", list of str or None
        Stop words of the ``CountVectorizer`` that builds topic words.
    min_df : int or float
        Minimum document frequency of a topic word (a float in ``[0, 1]`` is a
        proportion of documents), as for ``CountVectorizer``.
    embedding_backend : {"sentence-transformers", "static", "tfidf"}
        Backend used when ``fit`` is called without embeddings
        (:func:`thematic.embeddings.embed`).
    embedding_model : str or os.PathLike, optional
        Local sentence-transformers model (see :mod:`thematic.embeddings`).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache.
    random_state : int, numpy.random.RandomState or None
        Seed of UMAP, PCA, k-means and the tfidf backend's SVD, as in scikit-learn: an
        int gives the same fit every time; ``None`` or a ``RandomState`` draws a seed
        (reported in ``seed_``).
    large_n : int or None
        Above this many documents, ``"umap"`` becomes PCA and ``"kmeans"`` mini-batch
        k-means (see the module docstring); ``None`` never switches.

    Attributes
    ----------
    labels_ : numpy.ndarray of int64
        Topic of each training document (``-1``: HDBSCAN outlier).
    probabilities_ : numpy.ndarray or None
        HDBSCAN membership strength of each training document; ``None`` for k-means and
        other clusterers, which give none.
    n_topics_ : int
        Topics formed (outlier topic excluded); may be fewer than asked for.
    n_topics_requested_ : int or None
        Topics asked for (k-means, or an estimator's ``n_clusters``), else ``None``.
    n_documents_ : int
        Number of training documents.
    topic_words_ : pandas.DataFrame
        ``topic, rank, word, weight``: the c-TF-IDF words of each topic.
    topic_sizes_ : pandas.DataFrame
        ``topic, size``.
    seed_ : int
        The seed the fit used (``random_state`` itself when it is an int).
    backend_ : str
        Embedding backend label (``"precomputed"`` for a bare array).
    embedder_ : object or None
        The fitted embedder that ``predict`` uses for new documents; ``None`` when the
        model was fitted on a bare array (``predict`` then needs ``embeddings=``).
    reduction_ : str
        The reduction used: ``"umap"``, ``"pca"`` or ``"none"``.
    clustering_ : str
        The clustering used: ``"kmeans"``, ``"minibatch-kmeans"``, ``"hdbscan"`` or the
        class name of a given estimator.
    model_name_ : str
        Short description used in the ``model`` column of :meth:`topics_frame`.
    bertopic_ : bertopic.BERTopic
        The fitted BERTopic model.

    Examples
    --------
    >>> from thematic.topics import TopicModel
    >>> docs = ["parking is hard", "no parking spaces", "the car park is full",
    ...         "canteen food is cold", "the canteen closes early", "food is good"]
    >>> tm = TopicModel(2, embedding_backend="tfidf", reduce="none", random_state=0)
    >>> labels = tm.fit_predict(docs)        # the topic of each document
    >>> tm.n_topics_, labels.shape
    (2, (6,))
    >>> tm.predict(["the car park was full again"]).shape
    (1,)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_topics": [Interval(Integral, 2, None, closed="left"), None],
        "clustering": [StrOptions(set(CLUSTERINGS)), HasMethods(["fit"])],
        "min_cluster_size": [Interval(Integral, 2, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 2, None, closed="left"), None],
        "n_components": [Interval(Integral, 2, None, closed="left")],
        "reduce": [StrOptions({"umap", "pca", "none"})],
        "top_n_words": [Interval(Integral, 1, None, closed="left")],
        "stop_words": [StrOptions({"english"}), list, None],
        "min_df": [Interval(RealNotInt, 0, 1, closed="both"),
                   Interval(Integral, 1, None, closed="left")],
        "embedding_backend": [StrOptions(set(BACKENDS))],
        "embedding_model": [str, os.PathLike, None],
        "cache_dir": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "large_n": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        n_topics: int | None = None,
        *,
        clustering: str | Any = "kmeans",
        min_cluster_size: int | None = None,
        n_neighbors: int | None = None,
        n_components: int = 5,
        reduce: str = "umap",
        top_n_words: int = 10,
        stop_words: str | list[str] | None = "english",
        min_df: int | float = 1,
        embedding_backend: str = "sentence-transformers",
        embedding_model: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = "auto",
        random_state: int | np.random.RandomState | None = RANDOM_STATE,
        large_n: int | None = LARGE_N,
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
        self.large_n = large_n

    def __sklearn_tags__(self) -> Any:
        """Declare what the estimator takes: text documents, not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _validate_params(self) -> None:
        """Check the parameters against ``_parameter_constraints`` (see :class:`ParameterError`)."""
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            raise ParameterError(str(exc)) from None

    # ---------------------------------------------------------------- building blocks
    def _k(self, n: int) -> int:
        k = self.n_topics if self.n_topics is not None else round(np.sqrt(n / 2))
        k = int(k)
        if not 2 <= k <= n - 1:
            raise InputError(f"n_topics must be between 2 and n - 1 = {n - 1} for {n} "
                             f"documents, not {k}")
        return k

    def _large(self, n: int) -> bool:
        return self.large_n is not None and n > int(self.large_n)

    def _reduction(self, n: int) -> str:
        return "pca" if self.reduce == "umap" and self._large(n) else str(self.reduce)

    def _clustering(self, n: int) -> str:
        if not isinstance(self.clustering, str):
            return type(self.clustering).__name__
        if self.clustering == "kmeans" and self._large(n):
            return "minibatch-kmeans"
        return self.clustering

    def _n_components(self, n: int) -> int:
        return int(max(2, min(self.n_components, n - 2)))

    def _reducer(self, n: int, seed: int) -> Any:
        reduction = self._reduction(n)
        if reduction == "none":
            from bertopic.dimensionality import BaseDimensionalityReduction

            return BaseDimensionalityReduction()
        if reduction == "pca":
            from sklearn.decomposition import PCA

            return PCA(n_components=self._n_components(n), svd_solver="randomized",
                       random_state=seed)
        from umap import UMAP

        return UMAP(
            n_neighbors=int(self.n_neighbors or default_n_neighbors(n)),
            n_components=self._n_components(n),
            min_dist=0.0,
            metric="cosine",
            random_state=seed,
            low_memory=False,
        )

    def _clusterer(self, n: int, seed: int) -> Any:
        clustering = self._clustering(n)
        if not isinstance(self.clustering, str):
            from sklearn.base import clone

            est = clone(self.clustering)
            if "random_state" in est.get_params(deep=False):
                est.set_params(random_state=seed)
            return est
        if clustering == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=self._k(n), n_init=10, random_state=seed)
        if clustering == "minibatch-kmeans":
            from sklearn.cluster import MiniBatchKMeans

            return MiniBatchKMeans(n_clusters=self._k(n), random_state=seed,
                                   **MINIBATCH_KMEANS)
        from hdbscan import HDBSCAN

        extra = {"min_samples": LARGE_N_HDBSCAN_MIN_SAMPLES} if self._large(n) else {}
        return HDBSCAN(
            min_cluster_size=int(self.min_cluster_size or default_min_cluster_size(n)),
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
            **extra,
        )

    def _requested(self, n: int) -> int | None:
        if isinstance(self.clustering, str):
            return self._k(n) if self.clustering == "kmeans" else None
        k = self.clustering.get_params(deep=False).get("n_clusters") \
            if hasattr(self.clustering, "get_params") else None
        return int(k) if isinstance(k, (int, np.integer)) else None

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(stop_words=self.stop_words, min_df=self.min_df)

    # ---------------------------------------------------------------- fit / predict
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: Iterable[str],
        y: Any = None,
        *,
        embeddings: Embeddings | np.ndarray | None = None,
    ) -> TopicModel:
        """Fit the topic model to documents.

        Parameters
        ----------
        X : sequence of str
            The documents (responses), at least 4, none empty.
        y : None
            Ignored (present for the scikit-learn API; see :func:`theme_keywords` for
            BERTopic's manual mode with the themes as labels).
        embeddings : Embeddings or numpy.ndarray, optional
            Precomputed embeddings of ``X``, one row per document (reuse them across
            seeds); computed with ``embedding_backend`` if omitted.

        Returns
        -------
        TopicModel
            ``self``, fitted.

        Raises
        ------
        ParameterError
            If a parameter is outside its constraints.
        InputError
            If the documents, their embeddings or ``n_topics`` do not fit together.
        """
        docs = _docs(X)
        if isinstance(y, Embeddings) or np.ndim(y) == 2:
            raise InputError("y is ignored by TopicModel.fit: pass the embeddings as "
                             "embeddings=...")
        n = len(docs)
        if n < 4:
            raise InputError(f"a topic model needs at least 4 documents, got {n}")
        seed = _check_seed(self.random_state)
        if embeddings is None:
            embeddings = embed(docs, backend=self.embedding_backend, model=self.embedding_model,
                               cache_dir=self.cache_dir, random_state=seed)
        vectors = _vectors(embeddings, n)
        k = self._requested(n)  # checks n_topics against n before anything is fitted
        with quiet():
            from bertopic import BERTopic

            model = BERTopic(
                umap_model=self._reducer(n, seed),
                hdbscan_model=self._clusterer(n, seed),
                vectorizer_model=self._vectorizer(),
                top_n_words=int(self.top_n_words),
                calculate_probabilities=False,
                verbose=False,
            )
            topics, probs = model.fit_transform(docs, embeddings=vectors)
        self.seed_ = seed
        self.embedder_ = embeddings.embedder if isinstance(embeddings, Embeddings) else None
        self.backend_ = embeddings.backend if isinstance(embeddings, Embeddings) else "precomputed"
        self.bertopic_ = model
        self.labels_ = np.asarray(topics, dtype=np.int64)
        self.reduction_ = self._reduction(n)
        self.clustering_ = self._clustering(n)
        self.n_topics_requested_ = k
        self.probabilities_ = (
            None if self.clustering_ != "hdbscan" or probs is None
            else np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
        )
        self.n_topics_ = int(len(set(self.labels_.tolist()) - {-1}))
        self.n_documents_ = n
        self.topic_words_ = self._topic_words(model)
        sizes = pd.Series(self.labels_).value_counts().sort_index()
        self.topic_sizes_ = pd.DataFrame({"topic": sizes.index.astype("int64"),
                                          "size": sizes.to_numpy(dtype="int64")})
        if self.clustering_ in ("kmeans", "minibatch-kmeans"):
            tag = f",k={self._k(n)}"
        elif self.clustering_ == "hdbscan":
            tag = f",mcs={int(self.min_cluster_size or default_min_cluster_size(n))}"
        else:
            tag = f",k={k}" if k else ""
        self.model_name_ = (f"bertopic[{self.clustering_}{tag},{self.reduction_}]:"
                            f"{self.backend_}")
        return self

    # ---------------------------------------------------------------- fit cache
    def _cache_params(self) -> dict[str, Any] | None:
        """Return the parameters deciding a fit on given vectors (``None``: not cacheable)."""
        from ._fitcache import plain_params

        params = self.get_params(deep=False)
        for name in ("cache_dir", "embedding_backend", "embedding_model"):
            params.pop(name, None)  # the vectors are keyed themselves
        return plain_params(params)

    def _fit_state(self) -> dict[str, np.ndarray]:
        """Return what the fit produced, as arrays (for the fit cache)."""
        meta = {
            "seed": int(self.seed_), "backend": self.backend_, "reduction": self.reduction_,
            "clustering": self.clustering_, "n_topics_requested": self.n_topics_requested_,
            "n_documents": int(self.n_documents_), "model_name": self.model_name_,
        }
        words = self.topic_words_
        return {
            "meta": np.array(json.dumps(meta, sort_keys=True)),
            "labels": self.labels_.astype(np.int64),
            "probabilities": (np.empty(0) if self.probabilities_ is None
                              else self.probabilities_.astype(np.float64)),
            "has_probabilities": np.array(self.probabilities_ is not None),
            "word_topic": words["topic"].to_numpy(dtype=np.int64),
            "word_rank": words["rank"].to_numpy(dtype=np.int64),
            "word": words["word"].to_numpy(dtype=str),
            "word_weight": words["weight"].to_numpy(dtype=np.float64),
        }

    def _restore_fit(self, state: Mapping[str, np.ndarray],
                     embeddings: Embeddings | np.ndarray) -> TopicModel:
        """Set the learned attributes from a cached :meth:`_fit_state` (no BERTopic model)."""
        meta = json.loads(str(state["meta"]))
        self.seed_ = int(meta["seed"])
        self.embedder_ = embeddings.embedder if isinstance(embeddings, Embeddings) else None
        self.backend_ = meta["backend"]
        self.bertopic_ = None
        self.labels_ = np.asarray(state["labels"], dtype=np.int64)
        self.reduction_ = meta["reduction"]
        self.clustering_ = meta["clustering"]
        self.n_topics_requested_ = meta["n_topics_requested"]
        self.probabilities_ = (np.asarray(state["probabilities"], dtype=float)
                               if bool(state["has_probabilities"]) else None)
        self.n_topics_ = int(len(set(self.labels_.tolist()) - {-1}))
        self.n_documents_ = int(meta["n_documents"])
        self.topic_words_ = pd.DataFrame({
            "topic": state["word_topic"].astype(int).tolist(),
            "rank": state["word_rank"].astype(int).tolist(),
            "word": [str(w) for w in state["word"]],
            "weight": state["word_weight"].astype(float).tolist(),
        }, columns=["topic", "rank", "word", "weight"])
        sizes = pd.Series(self.labels_).value_counts().sort_index()
        self.topic_sizes_ = pd.DataFrame({"topic": sizes.index.astype("int64"),
                                          "size": sizes.to_numpy(dtype="int64")})
        self.model_name_ = meta["model_name"]
        return self

    def fit_predict(
        self,
        X: Iterable[str],
        y: Any = None,
        *,
        embeddings: Embeddings | np.ndarray | None = None,
    ) -> np.ndarray:
        """Fit, then return the topic of each training document (``labels_``).

        Parameters
        ----------
        X, y, embeddings
            As for :meth:`fit`.

        Returns
        -------
        numpy.ndarray of int64
            ``labels_``.
        """
        return self.fit(X, y, embeddings=embeddings).labels_

    def predict(
        self, X: Iterable[str], *, embeddings: Embeddings | np.ndarray | None = None
    ) -> np.ndarray:
        """Assign documents to the fitted topics.

        Parameters
        ----------
        X : sequence of str
            Documents.
        embeddings : Embeddings or numpy.ndarray, optional
            Their embeddings; computed with the fitted embedder (``embedder_``) if
            omitted.

        Returns
        -------
        numpy.ndarray of int64
            Topic of each document.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.
        InputError
            If the model was fitted on a bare array and ``embeddings`` is omitted.
        """
        check_is_fitted(self)
        if self.bertopic_ is None:
            raise InputError("this fit was read from the fit cache, which keeps what the fit "
                             "produced but not the BERTopic model: fit it again to predict "
                             "(or run the topic check with cache_dir=None)")
        docs = _docs(X)
        if embeddings is None:
            if self.embedder_ is None:
                raise InputError("pass embeddings=: the model was fitted on precomputed "
                                 "vectors, so it cannot embed new documents itself")
            embeddings = self.embedder_.transform(docs)
        vectors = _vectors(embeddings, len(docs))
        with quiet():
            topics, _ = self.bertopic_.transform(docs, embeddings=vectors)
        return np.asarray(topics, dtype=np.int64)

    @staticmethod
    def _topic_words(model: Any) -> pd.DataFrame:
        rows = []
        for topic, words in sorted(model.get_topics().items()):
            for rank, (word, weight) in enumerate(words, start=1):
                if word:
                    rows.append({"topic": int(topic), "rank": rank, "word": str(word),
                                 "weight": float(weight)})
        return pd.DataFrame(rows, columns=["topic", "rank", "word", "weight"])

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
            (``seed`` is ``seed_``; ``probability`` missing for k-means).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.
        """
        check_is_fitted(self)
        ids = list(response_ids)
        if len(ids) != len(self.labels_):
            raise InputError(f"{len(ids)} response ids for {len(self.labels_)} documents")
        prob = (pd.array([pd.NA] * len(ids), dtype="Float64") if self.probabilities_ is None
                else pd.array(self.probabilities_, dtype="Float64"))
        df = pd.DataFrame(
            {
                "response_id": pd.array(ids, dtype="string"),
                "model": self.model_name_,
                "seed": np.int64(self.seed_),
                "topic": self.labels_.astype("int64"),
                "probability": prob,
            }
        )
        return conform(df, "topics")


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
    # BERTopic's zero-shot rule decides each response from its own vector and the theme
    # vectors alone, so running it on blocks of responses assigns exactly as one run does,
    # with the memory of one block (a million responses in one run took gigabytes)
    n_blocks = max(1, -(-n // ZERO_SHOT_BLOCK))
    bounds = np.linspace(0, n, n_blocks + 1).round().astype(int)
    assigned: list[str | None] = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        assigned += _zero_shot_block(docs[lo:hi], vectors[lo:hi], texts, ids, embeddings,
                                     float(min_similarity), stop_words)
    theme_vecs = np.asarray(embeddings.embedder.transform(texts), dtype=np.float64)
    sim = _cosine_blocks(vectors, theme_vecs)
    nearest = sim.argmax(axis=1)
    own = _label_lists(own_themes) if own_themes is not None else [[] for _ in range(n)]
    index = {t: k for k, t in enumerate(ids)}
    a_idx = np.array([index[a] if a is not None else -1 for a in assigned], dtype=np.int64)
    rows = np.arange(n)
    similarity = np.where(a_idx >= 0, sim[rows, np.maximum(a_idx, 0)], np.nan)
    return pd.DataFrame({
        "response_id": pd.array(rids, dtype="string"),
        "assigned_theme": pd.array(assigned, dtype="string"),
        "similarity": similarity.astype(np.float64),
        "nearest_theme": pd.array([ids[k] for k in nearest], dtype="string"),
        "nearest_similarity": sim[rows, nearest].astype(np.float64),
        "own_themes": pd.array(["; ".join(o) for o in own], dtype="string"),
        "on_own_theme": np.array([a is not None and a in o for a, o in zip(assigned, own,
                                                                          strict=True)],
                                 dtype=bool),
        "nearest_is_own": np.array([ids[k] in o for k, o in zip(nearest, own, strict=True)],
                                   dtype=bool),
    })


def _zero_shot_block(docs: list[str], vectors: np.ndarray, texts: list[str], ids: list[str],
                     embeddings: Embeddings, min_similarity: float,
                     stop_words: str | None) -> list[str | None]:
    """Return the theme BERTopic's zero-shot mode assigns to each document (or ``None``)."""
    with quiet():
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from sklearn.feature_extraction.text import CountVectorizer

        model = BERTopic(
            embedding_model=_bertopic_embedder(embeddings.embedder),
            umap_model=BaseDimensionalityReduction(),
            # documents below the threshold are left unclustered (all noise, topic -1), in
            # linear time (a DBSCAN that finds no core point would still search neighbours)
            hdbscan_model=_AllOutliers(),
            vectorizer_model=CountVectorizer(stop_words=stop_words),
            zeroshot_topic_list=texts,
            zeroshot_min_similarity=min_similarity,
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
    return [theme_of.get(t) if t != -1 else None for t in topics]


class _AllOutliers(BaseEstimator):
    """A clusterer that leaves every document an outlier (``labels_`` all ``-1``)."""

    def fit(self, X: Any, y: Any = None) -> _AllOutliers:
        """Label every row ``-1``."""
        self.labels_ = np.full(len(X), -1, dtype=np.int64)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit`` then return ``labels_``."""
        return self.fit(X).labels_


def _cosine_blocks(a: np.ndarray, b: np.ndarray, block: int = 65_536) -> np.ndarray:
    """Return :func:`_cosine` of ``a`` (any float dtype) and ``b`` in float64, in row blocks.

    Only one block of ``a`` is converted to float64 at a time, so memory beyond the
    ``(n, k)`` result stays bounded for a million documents.
    """
    out = np.empty((len(a), len(b)), dtype=np.float64)
    for lo in range(0, len(a), block):
        out[lo:lo + block] = _cosine(a[lo:lo + block].astype(np.float64), b)
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    return (a / na) @ (b / nb).T
