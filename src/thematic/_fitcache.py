"""A content-addressed cache of topic-model fits and of the tables derived from them.

A topic check fits BERTopic once per seed, then BERTopic's manual and zero-shot modes.
On a study whose responses, codings and settings have not changed, every one of those
fits gives the same result again; re-running a notebook should not spend half a minute
compiling UMAP and fitting models to print the numbers it printed before. This cache
stores what a fit *produced* (topic labels, topic words, the derived keyword and
zero-shot tables) under a key that names everything the result depends on:

- the documents (SHA-256 of their UTF-8 text) and the embedding vectors (SHA-256 of their
  bytes, dtype and shape);
- the model's parameters and the seed (only parameters that are plain values: a model
  with an estimator as a parameter is never cached, since its settings cannot be keyed
  reliably);
- the source code of :mod:`thematic.topics` (a change to how a model is fitted makes new
  keys), and the versions of numpy, scipy, scikit-learn, pandas, BERTopic, UMAP, HDBSCAN,
  pynndescent and numba;
- the machine's architecture and the thread settings that can change floating-point
  results (``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ...).

A hit therefore returns exactly what the fit would return. Entries are plain NumPy
archives (read with ``allow_pickle=False``) and Parquet files, written atomically; an
unreadable entry is a miss and is written again. Nothing in the cache is needed: delete
the ``fits`` folder of the cache directory (``.cache/thematic/fits`` in a study) at any
time. ``cache_dir=None`` in :func:`thematic.compare.topic_check` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import zipfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .io import atomic_open

#: Bumped when the layout of an entry changes.
CACHE_VERSION = 1

_PACKAGES = ("numpy", "scipy", "scikit-learn", "pandas", "pyarrow", "bertopic", "umap-learn",
             "hdbscan", "pynndescent", "numba")
_THREAD_ENV = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _code_digest() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("topics.py", "_fitcache.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


def digest_texts(texts: Iterable[str]) -> str:
    """Return the SHA-256 of a sequence of texts (each length-prefixed, UTF-8)."""
    h = hashlib.sha256()
    for t in texts:
        b = str(t).encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def digest_array(a: np.ndarray) -> str:
    """Return the SHA-256 of an array's dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def plain_params(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return ``params`` if every value is a plain JSON value, else ``None``."""

    def plain(v: Any) -> bool:
        if v is None or isinstance(v, (bool, int, float, str)):
            return True
        if isinstance(v, (list, tuple)):
            return all(plain(x) for x in v)
        return False

    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, os.PathLike):
            v = os.fspath(v)
        if isinstance(v, np.integer):
            v = int(v)
        if not plain(v):
            return None
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


class FitCache:
    """Entries of fitted results under ``<directory>/fits``.

    Parameters
    ----------
    directory : str or os.PathLike
        The cache root (a study's ``.cache/thematic``).

    Attributes
    ----------
    hits, misses : int
        Entries found and not found since this object was made.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory) / "fits"
        self.hits = 0
        self.misses = 0
        self._context: str | None = None

    @classmethod
    def at(cls, cache_dir: str | os.PathLike[str] | None) -> FitCache | None:
        """Return the cache of ``cache_dir`` (``"auto"`` as in :mod:`thematic.embeddings`)."""
        from .config import resolve_cache_dir

        root = resolve_cache_dir(cache_dir)
        return None if root is None else cls(root)

    def _environment(self) -> str:
        if self._context is None:
            self._context = json.dumps(
                {
                    "cache_version": CACHE_VERSION,
                    "code": _code_digest(),
                    "packages": {p: _version(p) for p in _PACKAGES},
                    "machine": platform.machine(),
                    "threads": {e: os.environ.get(e) for e in _THREAD_ENV},
                },
                sort_keys=True,
            )
        return self._context

    def key(self, kind: str, **parts: Any) -> str:
        """Return the key of an entry of ``kind`` computed from ``parts`` (JSON values)."""
        spec = json.dumps({"kind": kind, "parts": parts}, sort_keys=True, default=str)
        h = hashlib.sha256(self._environment().encode())
        h.update(spec.encode())
        return f"{kind}-{h.hexdigest()[:32]}"

    # ------------------------------------------------------------------ arrays
    def load_arrays(self, key: str) -> dict[str, np.ndarray] | None:
        """Return the arrays stored under ``key``, or ``None`` (a miss)."""
        path = self.directory / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                out = {name: z[name] for name in z.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def save_arrays(self, key: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Store ``arrays`` under ``key`` (atomically; a failure leaves no entry)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_open(self.directory / f"{key}.npz", "wb") as fh:
                np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
        except OSError:
            pass  # a cache that cannot be written is only slower

    # ------------------------------------------------------------------ tables
    def load_table(self, key: str) -> pd.DataFrame | None:
        """Return the table stored under ``key``, or ``None`` (a miss)."""
        path = self.directory / f"{key}.parquet"
        if not path.is_file():
            self.misses += 1
            return None
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError, ImportError):
            self.misses += 1
            return None
        self.hits += 1
        return df

    def save_table(self, key: str, table: pd.DataFrame) -> None:
        """Store ``table`` under ``key`` (atomically)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_open(self.directory / f"{key}.parquet", "wb") as fh:
                table.to_parquet(fh, index=False)
        except (OSError, ValueError, ImportError):
            pass
