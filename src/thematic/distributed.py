"""Run the data preparation and the embedding step on a Dask cluster.

``thematic clean EXPORT -o OUT.csv --workers N`` (a :class:`dask.distributed.LocalCluster`
of N worker processes) or ``--scheduler ADDRESS`` (an existing cluster) partitions the
responses by rows. Each partition is cleaned, its duplicate keys computed and its
identifiers found on a worker (:func:`thematic.survey.iter_prepared`); the steps that need
the whole table run once, in this process, between the two passes:

* duplicate and resubmission detection (the compact global index of
  :func:`thematic.survey.iter_prepared`, deciding as :class:`thematic.clean.DuplicateIndex`:
  the keys of every partition, in row order, as digests, then one decision per row);
* the pseudonym numbering of names and organisations (``[NAME_1]``: one counter, numbers
  given in row order as the partitions' results arrive in order);
* the numbering of question slugs in the id pseudonyms, and their uniqueness check.

Each partition is then flagged, masked and reviewed on a worker with the global results,
and written here in row order. The output is byte-identical to the single-process run
(tests compare them). Mapping today's functions over partitions without these global
steps flags far fewer duplicates and numbers pseudonyms per partition.

:func:`embed_on_dask` does the same for :func:`thematic.embeddings.embed`: the tfidf
backend is fitted once on all texts here (its vocabulary and SVD are global) and only the
row-local transform is mapped over partitions; the static and sentence-transformers
backends are row-local and are loaded once per worker.

``dask[distributed]`` is an optional dependency: nothing here is imported by
``import thematic``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["dask_client", "embed_on_dask"]


@contextlib.contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, *, threads_per_worker: int = 1
) -> Iterator[Any]:
    """Connect to a Dask cluster, or start a local one, for the duration of a block.

    Parameters
    ----------
    workers : int, optional
        Start a :class:`~dask.distributed.LocalCluster` of this many worker processes
        (``threads_per_worker`` threads each), closed on exit.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``) instead. The salt of the
        pseudonyms is sent to its workers: use a cluster the research team controls.
    threads_per_worker : int, default 1
        Threads of each local worker.

    Yields
    ------
    dask.distributed.Client
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - optional dependency
        raise InputError(
            "--workers/--scheduler need dask[distributed]: pip install 'dask[distributed]'"
        ) from None
    if scheduler and workers:
        raise InputError("give either a number of workers or a scheduler address, not both")
    if scheduler:
        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = int(workers or 1)
    if n < 1:
        raise InputError(f"the number of workers must be at least 1, not {n}")
    with (
        LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=True,
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


# --------------------------------------------------------------------------- clean


@dataclass
class _Keys:
    """What the global step needs of a partition (its text stays on the worker)."""

    part: Any
    hits: list[Any]
    mask_rows: list[dict[str, Any]]
    frame_cols: dict[str, list[Any]]


def _pass1_keys(p1: Any) -> _Keys:
    """Return the duplicate keys, identifiers and audit rows of a first-pass result."""
    part = p1.part._replace(cleaned=[], empty=[], non_answer=[])
    cols = {c: p1.frame[c].tolist() for c in ("question", "question_id")
            if c in p1.frame.columns}
    return _Keys(part, p1.hits, p1.mask_rows, cols)


def _pass2_remote(p1: Any, block: tuple[list[bool], list[bool], dict[int, str], list[str]],
                  shared: tuple[Any, Any], cfg: Any, include_unfinished: bool) -> Any:
    """Run :func:`thematic.survey._pass2` on a worker with the scattered global results.

    ``block`` holds the block's duplicate and resubmission flags, their details and its
    new ids; ``shared`` the numbering and question masks (broadcast once).
    """
    from .survey import _pass2

    duplicate, resubmission, detail, new_ids = block
    numbering, question_masks = shared
    return _pass2(p1, duplicate, resubmission, detail, numbering, question_masks, new_ids,
                  cfg, include_unfinished)


# --------------------------------------------------------------------------- embed

_EMBEDDERS: dict[tuple[Any, ...], Any] = {}


def _transform(embedder: Any, texts: list[str]) -> np.ndarray:
    return embedder.transform(texts)


def _transform_loaded(settings: tuple[Any, ...], texts: list[str]) -> np.ndarray:
    """Embed on a worker with a row-local backend, loaded once per worker process."""
    from .embeddings import make_embedder

    embedder = _EMBEDDERS.get(settings)
    if embedder is None:
        backend, model, cache_dir, random_state = settings
        embedder = make_embedder(backend, model=model, cache_dir=cache_dir,
                                 random_state=random_state).fit()
        _EMBEDDERS[settings] = embedder
    return embedder.transform(texts)


def embed_on_dask(
    texts: Iterable[str],
    client: Any,
    *,
    npartitions: int | None = None,
    backend: str = "sentence-transformers",
    model: str | None = None,
    cache_dir: str | None = "auto",
    random_state: int | None = None,
) -> Any:
    """Embed texts on a Dask cluster, partitioned by rows, as :func:`thematic.embeddings.embed`.

    Parameters
    ----------
    texts : iterable of str
        The texts, in order.
    client : dask.distributed.Client
        The cluster (:func:`dask_client`).
    npartitions : int, optional
        Partitions (default: two per worker).
    backend, model, cache_dir, random_state
        As for :func:`thematic.embeddings.embed`.

    Returns
    -------
    thematic.embeddings.Embeddings
        The vectors in the order of the texts. With the tfidf backend the model is fitted
        here on all texts and only the transform runs on the workers: the vectors are
        byte-identical to ``embed(texts, backend="tfidf")``.
    """
    from .config import RANDOM_STATE
    from .embeddings import Embeddings, TfidfSvdEmbedder, make_embedder

    texts = [str(t) for t in texts]
    rs = RANDOM_STATE if random_state is None else random_state
    if npartitions is None:
        npartitions = max(1, 2 * len(client.scheduler_info().get("workers", {})))
    size = max(1, -(-len(texts) // npartitions))
    parts = [texts[i:i + size] for i in range(0, len(texts), size)]
    embedder = make_embedder(backend, model=model, cache_dir=cache_dir, random_state=rs)
    if isinstance(embedder, TfidfSvdEmbedder):
        embedder.fit(texts)  # global: vocabulary, idf and SVD from every text
        shared = client.scatter(embedder, broadcast=True, hash=False)
        data = client.scatter(parts, hash=False)  # as data, not in the task graph
        futures = [client.submit(_transform, shared, p, pure=False) for p in data]
        label, sha, device = embedder.backend_, None, "cpu"
    else:
        settings = (backend, model, cache_dir, rs)
        data = client.scatter(parts, hash=False)
        futures = [client.submit(_transform_loaded, settings, p, pure=False) for p in data]
        embedder = embedder.fit()
        label = embedder.backend_
        sha = getattr(embedder, "weights_sha256_", None)
        device = getattr(embedder, "device_", "cpu")
    blocks = [f.result() for f in futures]
    dim = blocks[0].shape[1] if blocks else 0
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
    return Embeddings(vectors, label, sha, 0, embedder, device)
