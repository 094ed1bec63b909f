"""thematic.embeddings: offline verified model, content-keyed cache, bit-stable, fallback."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from thematic import embeddings as E
from thematic.errors import InputError

DATA = Path(__file__).parent / "data" / "topics"
HEAVY = ("torch", "sentence_transformers", "bertopic", "umap", "hdbscan", "spacy", "transformers")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return pd.read_csv(DATA / "responses.csv")["text"].tolist()


@pytest.fixture
def counting(monkeypatch):
    """Count the texts the sentence-transformer model is asked to encode."""
    calls: list[int] = []
    real = E.SentenceEmbedder._encode

    def wrapped(self, batch):
        calls.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(E.SentenceEmbedder, "_encode", wrapped)
    return calls


def _fake_model(directory: Path, weights: bytes) -> Path:
    """A model directory whose files are the packaged model's, except the weights."""
    directory.mkdir(parents=True)
    src = E.packaged_model_path()
    for item in src.iterdir():
        if item.name != "model.safetensors":
            target = directory / item.name
            target.symlink_to(item, target_is_directory=item.is_dir())
    (directory / "model.safetensors").write_bytes(weights)
    return directory


# --------------------------------------------------------------------------- verification


def test_packaged_weights_match_the_constant():
    weights, digest = E.verify_model_weights(E.packaged_model_path(), E.DEFAULT_MODEL_SHA256)
    assert weights.name == "model.safetensors"
    assert digest == E.DEFAULT_MODEL_SHA256


def test_tampered_copy_of_the_weights_is_rejected(tmp_path, monkeypatch):
    data = bytearray((E.packaged_model_path() / "model.safetensors").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    fake = _fake_model(tmp_path / "tampered", bytes(data))
    # the default model is verified against the constant ...
    monkeypatch.setattr(E, "packaged_model_path", lambda: fake)
    monkeypatch.delenv(E.MODEL_ENV_VAR, raising=False)
    with pytest.raises(InputError, match="SHA-256") as err:
        E.SentenceEmbedder(cache_dir=None).fit()
    assert E.MODEL_ENV_VAR in str(err.value)  # the message says how to point elsewhere
    # ... and so is any model given a sha256
    with pytest.raises(InputError, match="expected " + E.DEFAULT_MODEL_SHA256):
        E.SentenceEmbedder(fake, sha256=E.DEFAULT_MODEL_SHA256, cache_dir=None).fit()


def test_other_weights_file_is_rejected_before_loading(tmp_path, monkeypatch):
    fake = _fake_model(tmp_path / "other", b"not the model weights")
    monkeypatch.setattr(E, "packaged_model_path", lambda: fake)
    monkeypatch.delenv(E.MODEL_ENV_VAR, raising=False)
    with pytest.raises(InputError, match="refusing to use it"):
        E.embed(["a text"], cache_dir=None)


def test_missing_model_directory_names_the_ways_to_point_at_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv(E.MODEL_ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(InputError) as err:
        E.SentenceEmbedder(cache_dir=None).fit()
    msg = str(err.value)
    assert "nowhere" in msg and E.MODEL_ENV_VAR in msg and "model=" in msg and "tfidf" in msg


def test_local_model_by_environment_variable(tmp_path, monkeypatch, texts):
    weights = (E.packaged_model_path() / "model.safetensors")
    local = tmp_path / "my-local-model"
    local.mkdir()
    for item in E.packaged_model_path().iterdir():
        (local / item.name).symlink_to(item, target_is_directory=item.is_dir())
    monkeypatch.setenv(E.MODEL_ENV_VAR, str(local))
    emb = E.SentenceEmbedder(cache_dir=None).fit()
    assert emb.model_id_ == "my-local-model"
    assert emb.backend_ == "sentence-transformers:my-local-model"
    assert emb.weights_sha256_ == E.file_sha256(weights)
    ref = E.embed(texts[:3], model=E.packaged_model_path(), cache_dir=None)
    assert ref.backend == "sentence-transformers:all-MiniLM-L6-v2"
    np.testing.assert_array_equal(emb.transform(texts[:3]), ref.vectors)


def test_model_argument_must_be_a_directory(tmp_path):
    with pytest.raises(InputError, match="local sentence-transformers model directory"):
        E.SentenceEmbedder(tmp_path / "missing", cache_dir=None).fit()
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a sentence-transformers model directory"):
        E.SentenceEmbedder(tmp_path / "empty", cache_dir=None).fit()


# --------------------------------------------------------------------------- encoding


def test_packaged_model_embeds_offline(texts, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    res = E.embed(texts, cache_dir=None)
    assert res.backend == "sentence-transformers:all-MiniLM-L6-v2"
    assert res.model_sha256 == E.DEFAULT_MODEL_SHA256
    assert res.vectors.shape == (len(texts), 384) and res.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(res.vectors, axis=1), 1.0, atol=1e-5)
    # meaning, not just shape: two parking responses are closer than parking vs canteen
    v = res.vectors
    assert v[0] @ v[1] > v[0] @ v[12]


def test_embeddings_are_bit_stable_and_order_independent(texts):
    a = E.SentenceEmbedder(cache_dir=None).fit().transform(texts)
    b = E.SentenceEmbedder(cache_dir=None).fit().transform(texts)
    np.testing.assert_array_equal(a, b)
    rev = E.SentenceEmbedder(cache_dir=None).fit().transform(texts[::-1])
    np.testing.assert_array_equal(rev[::-1], a)


def test_duplicates_are_encoded_once(counting, texts):
    out = E.SentenceEmbedder(cache_dir=None).fit().transform([texts[0], texts[1], texts[0]])
    assert counting == [2]
    np.testing.assert_array_equal(out[0], out[2])


def test_torch_threads_are_restored():
    import torch

    before = torch.get_num_threads()
    E.SentenceEmbedder(cache_dir=None, num_threads=1).fit().transform(["a short text"])
    assert torch.get_num_threads() == before
    assert not torch.are_deterministic_algorithms_enabled()


def test_no_progress_output_by_default(capfd):
    E.SentenceEmbedder(cache_dir=None).fit().transform(["quiet please", "no bars"])
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_fresh_process_loads_the_model_silently():
    # the weight-loading progress bar and import-time warnings stay off stdout/stderr
    res = _run("from thematic.embeddings import embed\n"
               "v = embed(['a response', 'another'], cache_dir=None).vectors\n",
               PYTHONWARNINGS="default")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""


def test_bad_texts_are_rejected():
    with pytest.raises(InputError, match="sequence of strings"):
        E.embed("one string", backend="tfidf")
    with pytest.raises(InputError, match="must be strings"):
        E.embed(["ok", None, "fine"], backend="tfidf")
    with pytest.raises(InputError, match="unknown embedding backend"):
        E.embed(["a"], backend="word2vec")


# --------------------------------------------------------------------------- cache


def test_cache_hit_avoids_re_encoding(tmp_path, counting, texts):
    first = E.embed(texts, cache_dir=tmp_path)
    assert sum(counting) == len(texts) and first.n_cached == 0
    second = E.embed(texts, cache_dir=tmp_path)
    assert sum(counting) == len(texts), "a cached re-run must not encode again"
    assert second.n_cached == len(texts)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    # only the new text is encoded
    third = E.embed([*texts[:5], "a brand new response about the car park"], cache_dir=tmp_path)
    assert counting[-1] == 1 and third.n_cached == 5
    np.testing.assert_array_equal(third.vectors[:5], first.vectors[:5])
    # a fresh embedder (a new process, in effect) reuses the cache without loading the model
    emb = E.SentenceEmbedder(cache_dir=tmp_path).fit()
    np.testing.assert_array_equal(emb.transform(texts), first.vectors)
    assert emb.n_encoded_ == 0 and emb.n_cached_ == len(texts)


def test_cache_is_keyed_by_model_and_written_atomically(tmp_path, texts):
    E.embed(texts[:4], cache_dir=tmp_path)
    dirs = list((tmp_path / "embeddings").iterdir())
    assert len(dirs) == 1 and dirs[0].name.startswith("all-MiniLM-L6-v2-")
    files = sorted(p.name for p in dirs[0].iterdir())
    assert "model.json" in files and any(f.endswith(".npz") for f in files)
    assert not any(f.endswith(".tmp") or f.startswith(".") for f in files)
    # another batch size is another key (padding can change the last bits)
    E.SentenceEmbedder(batch_size=8, cache_dir=tmp_path).fit().transform(texts[:2])
    assert len(list((tmp_path / "embeddings").iterdir())) == 2


def test_unreadable_shard_is_a_miss_not_an_error(tmp_path, counting, texts):
    E.embed(texts[:3], cache_dir=tmp_path)
    d = next((tmp_path / "embeddings").iterdir())
    (d / "garbage.npz").write_bytes(b"not a numpy file")
    again = E.embed(texts[:3], cache_dir=tmp_path)
    assert again.n_cached == 3 and sum(counting) == 3


def test_many_shards_are_merged(tmp_path, monkeypatch, texts):
    monkeypatch.setattr(E, "_MAX_SHARDS", 2)
    parts = [E.embed([t], cache_dir=tmp_path).vectors for t in texts[:5]]
    d = next((tmp_path / "embeddings").iterdir())
    assert len(list(d.glob("*.npz"))) <= 2
    again = E.embed(texts[:5], cache_dir=tmp_path)
    assert again.n_cached == 5
    np.testing.assert_array_equal(again.vectors, np.vstack(parts))


def test_cache_disabled_with_none(tmp_path, counting, texts, monkeypatch):
    monkeypatch.setenv("THEMATIC_CACHE_DIR", str(tmp_path / "should-not-exist"))
    E.embed(texts[:2], cache_dir=None)
    E.embed(texts[:2], cache_dir=None)
    assert sum(counting) == 4
    assert not (tmp_path / "should-not-exist").exists()


def test_auto_cache_dir_honours_the_environment(tmp_path, monkeypatch, texts):
    monkeypatch.setenv("THEMATIC_CACHE_DIR", str(tmp_path / "c"))
    E.embed(texts[:2])
    assert (tmp_path / "c" / "embeddings").is_dir()


# --------------------------------------------------------------------------- fallback & API


def test_tfidf_backend(texts):
    a = E.embed(texts, backend="tfidf", random_state=1)
    b = E.embed(texts, backend="tfidf", random_state=1)
    assert a.backend == "tfidf-svd" and a.model_sha256 is None
    assert a.vectors.shape[0] == len(texts) and a.vectors.shape[1] <= len(texts) - 1
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_allclose(np.linalg.norm(a.vectors, axis=1), 1.0, atol=1e-5)
    # the fitted pipeline is what BERTopic takes as embedding_model
    from sklearn.pipeline import Pipeline

    pipe = a.embedder.bertopic_backend()
    assert isinstance(pipe, Pipeline)
    np.testing.assert_allclose(pipe.transform(texts[:2]), a.vectors[:2], rtol=1e-5, atol=1e-6)


def test_tfidf_needs_some_texts():
    with pytest.raises(InputError, match="at least 3"):
        E.TfidfSvdEmbedder().fit(["one", "two"])
    with pytest.raises(InputError, match="not fitted"):
        E.TfidfSvdEmbedder().transform(["one"])


def test_sklearn_conventions():
    st = E.SentenceEmbedder(batch_size=16, cache_dir=None)
    assert clone(st).get_params()["batch_size"] == 16
    assert not [k for k in vars(st) if k.endswith("_")], "no learned attributes before fit"
    assert st.fit() is st and st.backend_.startswith("sentence-transformers:")
    tf = E.TfidfSvdEmbedder(n_components=5, random_state=3)
    assert clone(tf).get_params()["random_state"] == 3
    assert tf.fit(["alpha beta", "gamma delta", "beta gamma", "delta alpha"]) is tf
    assert tf.n_components_ <= 3


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_import_thematic_does_not_import_heavy_dependencies():
    code = (
        "import sys, thematic, thematic.embeddings, thematic.topics, thematic.compare\n"
        "import thematic.cli.compare\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        "print(','.join(sorted(heavy)))\n"
    )
    res = _run(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def test_tfidf_backend_and_topic_model_work_without_torch():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'sentence_transformers', 'transformers'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pandas as pd\n"
        "from thematic.embeddings import embed\n"
        "from thematic.topics import TopicModel\n"
        f"texts = pd.read_csv({str(DATA / 'responses.csv')!r})['text'].tolist()\n"
        "e = embed(texts, backend='tfidf')\n"
        "print(e.backend, len(set(TopicModel(3).fit(texts, embeddings=e).labels_)))\n"
        "try:\n"
        "    embed(texts[:2], cache_dir=None)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, 'tfidf' in str(exc))\n"
    )
    res = _run(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["tfidf-svd", "3", "InputError", "True"]


def test_weights_copy_is_hashed_not_trusted_by_name(tmp_path):
    # a verbatim copy under another name is accepted when its sha256 is given
    copy = tmp_path / "copy"
    shutil.copytree(E.packaged_model_path(), copy)
    emb = E.SentenceEmbedder(copy, sha256=E.DEFAULT_MODEL_SHA256, cache_dir=None).fit()
    assert emb.weights_sha256_ == E.DEFAULT_MODEL_SHA256 and emb.model_id_ == "copy"


# --------------------------------------------------------------------------- device


def test_select_device_prefers_cuda_then_mps(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)
    assert E.select_device() == "cpu" and E.select_device("auto") == "cpu"
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: True)
        assert E.select_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert E.select_device() == "cuda"
    assert E.select_device("cpu") == "cpu" and E.select_device("cuda:1") == "cuda:1"


def test_gpu_is_used_without_code_changes_and_recorded(tmp_path, monkeypatch, texts):
    # no GPU here: pretend torch sees one and check that the model is put on it, that the
    # result says so, and that a cached re-run reports the device that computed the vectors
    import sentence_transformers
    import torch

    placed = []

    class FakeModel:
        def __init__(self, path, device, local_files_only):
            placed.append(device)

        def encode(self, batch, **kw):
            return np.stack([np.full(4, (len(t) % 7) + 1.0, dtype=np.float32) / 2.0
                             for t in batch])

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", FakeModel)
    monkeypatch.setattr(E, "_model_memo", {})
    monkeypatch.setattr(E, "_deterministic_torch", lambda n: contextlib.nullcontext())
    emb = E.embed(texts[:5], cache_dir=tmp_path)
    assert placed == ["cuda"] and emb.device == "cuda"
    again = E.embed(texts[:5], cache_dir=tmp_path)  # from the cache
    assert again.n_cached == 5 and again.device == "cuda" and placed == ["cuda"]
    cpu = E.embed(texts[:5], cache_dir=None, backend="sentence-transformers")
    assert cpu.device == "cuda"  # torch "sees" a GPU: auto picks it
    explicit = E.SentenceEmbedder(cache_dir=None, device="cpu").fit()
    explicit.transform(texts[:2])
    assert explicit.device_ == "cpu" and placed[-1] == "cpu"


def test_default_device_on_this_machine_is_recorded(texts):
    emb = E.embed(texts[:3], cache_dir=None)
    assert emb.device == E.select_device() == "cpu"
    assert E.embed(texts[:3], backend="tfidf").device == "cpu"


# --------------------------------------------------------------------------- static backend


# Distilling reads every vocabulary token through MiniLM once (about a minute on 4 free
# cores, several under load), whatever the PCA size: the tests below distil twice in all,
# once into the module's cache (reused by every test) and once more to show that an
# independent distillation gives the same bytes. Both use the default settings, which are
# what users get and what the topic check is tested with.


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """One distillation with the default settings, cached in a module-wide cache."""
    cache = tmp_path_factory.mktemp("static-cache")
    est = E.StaticEmbedder(cache_dir=cache).fit()
    assert est.distilled_
    return est, cache


@pytest.mark.slow
def test_static_distillation_is_deterministic_cached_and_labelled(distilled, tmp_path, texts):
    a, cache = distilled
    # an independent distillation (separate cache) gives byte-identical weights
    b = E.StaticEmbedder(cache_dir=tmp_path / "b").fit()
    assert b.distilled_ and b.model_dir_ != a.model_dir_
    assert a.weights_sha256_ == b.weights_sha256_
    assert (a.model_dir_ / "model.safetensors").read_bytes() == \
        (b.model_dir_ / "model.safetensors").read_bytes()
    va, vb = a.transform(texts), b.transform(texts)
    np.testing.assert_array_equal(va, vb)
    assert va.shape == (len(texts), E.STATIC_PCA_DIMS) and va.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(va, axis=1), 1.0, rtol=1e-5)
    # cached with its SHA-256 and the settings beside it
    meta = json.loads((a.model_dir_ / "distillation.json").read_text(encoding="utf-8"))
    assert meta["sha256"] == a.weights_sha256_ == E.file_sha256(a.model_dir_ / "model.safetensors")
    assert meta["pca_dims"] == E.STATIC_PCA_DIMS
    assert meta["source_sha256"] == E.DEFAULT_MODEL_SHA256
    assert meta["source_model"] == "all-MiniLM-L6-v2" and meta["model2vec"] != "not installed"
    assert a.model_dir_.parent == cache / "embeddings" / "static"
    # labelled with its settings and its own hash (not the source model's)
    assert a.backend_ == "static:model2vec-all-MiniLM-L6-v2-pca256" and a.device_ == "cpu"
    assert a.weights_sha256_ != E.DEFAULT_MODEL_SHA256 and len(a.weights_sha256_) == 64


@pytest.mark.slow
def test_static_model_is_read_from_the_cache_and_a_damaged_copy_replaced(
        distilled, tmp_path, monkeypatch):
    a, cache = distilled
    # a second fit reads the cached model: no distillation
    calls = []

    def no_distilling(*args, **kwargs):
        calls.append(args)
        raise AssertionError("distilled again")

    monkeypatch.setattr(E, "_distill_static", no_distilling)
    c = E.StaticEmbedder(cache_dir=cache).fit()
    assert not c.distilled_ and c.weights_sha256_ == a.weights_sha256_ and not calls
    # a damaged cached copy is detected by its hash and distilled again; the
    # distillation itself is proven deterministic above, so here it is stood in for by a
    # copy of the good model (the code path that finds, replaces and checks it is real)
    copy = tmp_path / "embeddings" / "static" / a.model_dir_.name
    shutil.copytree(a.model_dir_, copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"damaged!")

    def stand_in(source, target, settings, threads, progress):
        calls.append(settings)
        assert settings == a.settings_
        shutil.copytree(a.model_dir_, target)
        (target / "distillation.json").unlink()  # written afresh by the caller

    monkeypatch.setattr(E, "_distill_static", stand_in)
    d = E.StaticEmbedder(cache_dir=tmp_path).fit()
    assert len(calls) == 1 and d.distilled_ and d.model_dir_ == copy
    assert d.weights_sha256_ == a.weights_sha256_ == E.file_sha256(weights)
    meta = json.loads((copy / "distillation.json").read_text(encoding="utf-8"))
    assert meta["sha256"] == a.weights_sha256_


@pytest.mark.slow
def test_static_backend_offline_and_in_topic_check(distilled, monkeypatch):
    from thematic.compare import topic_check

    _, cache = distilled
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(E, "_distill_static", lambda *a, **k: pytest.fail("distilled again"))
    responses = pd.read_csv(DATA / "responses.csv")
    codings = pd.read_csv(DATA / "codings.csv")
    themes = pd.read_csv(DATA / "themes.csv")
    res = topic_check(responses, codings, themes, backend="static", n_seeds=2,
                      n_permutations=50, cache_dir=cache)
    d = res.to_dict()
    assert d["backend"] == "static:model2vec-all-MiniLM-L6-v2-pca256"
    assert d["device"] == "cpu" and len(d["model_sha256"]) == 64
    settings = d["params"]["static_distillation"]
    assert settings["pca_dims"] == 256 and settings["source_sha256"] == E.DEFAULT_MODEL_SHA256
    assert res.statistic("adjusted_rand") > 0.5  # the planted themes, as with MiniLM


def test_static_backend_names_and_bad_settings():
    assert isinstance(E.make_embedder("static", cache_dir=None), E.StaticEmbedder)
    assert isinstance(E.make_embedder("model2vec", cache_dir=None), E.StaticEmbedder)
    with pytest.raises(InputError, match="pca_dims"):
        E.StaticEmbedder(pca_dims=1, cache_dir=None).fit()
    with pytest.raises(InputError, match="sif_coefficient"):
        E.StaticEmbedder(sif_coefficient=2.0, cache_dir=None).fit()
    with pytest.raises(InputError, match="unknown embedding backend"):
        E.make_embedder("word2vec")
