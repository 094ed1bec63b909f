"""Benchmark: the topic check at survey scale (static embeddings, linear-memory statistics).

Run from the project root::

    .venv/bin/python benchmarks/bench_scale.py                 # 10k and 100k responses
    .venv/bin/python benchmarks/bench_scale.py --n 10000       # one size
    .venv/bin/python benchmarks/bench_scale.py --million       # also 1M (long)

Then, in a process of its own, the ingest part (``benchmarks/bench_scale_ingest.py``: read
-> clean -> de-identify -> segment, one process and a Dask LocalCluster of ``--dask``
workers, with the single / Dask ratio) for the same sizes; ``--no-ingest`` skips it.

For each size it builds SYNTHETIC coded responses (templates below; each response is coded
to the theme of its first subject, one in twenty to a second theme as well), embeds them
with the static backend (a model2vec model distilled from the packaged all-MiniLM-L6-v2 on
first use; ``--cache`` keeps it between runs) and runs :func:`thematic.compare.topic_check`
with 10 seeds and 1,000 permutations (``--seeds``, ``--permutations``). It prints, per step,
the wall time, the peak resident memory during the step (sampled every 20 ms) and
responses/s:

- ``distil``: the static model, distilled on first use (or loaded from the cache);
- ``embed``: static encoding of all responses;
- inside the topic check: ``topic fits`` (all seeds), ``agreement`` (per seed),
  ``permutations``, ``consistency``, ``neighbours``, ``keywords`` (BERTopic manual mode),
  ``zero-shot``, and ``topic check total``;

and the MiniLM / static encoding ratio on a sample (``--encode-sample`` texts, both on the
same number of threads), with MiniLM's time extrapolated to the full size.

Above 20,000 responses the topic model uses PCA and mini-batch k-means (linear time and
memory), which the output states. The topic check runs with ``cache_dir=None``, so every
fit is measured (the fit cache would make a re-run nearly free). The last line gives the
process's peak resident memory from the kernel (``ru_maxrss``), which also catches spikes
shorter than the 20 ms sampling. Nothing here is survey data.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _phrases import OPENERS, TAILS, VERDICTS  # noqa: E402  (benchmarks/ is on sys.path)

THEMES = {
    "PARK": ["the car park", "parking at the clinic", "staff parking permits", "parking charges"],
    "FOOD": ["the canteen food", "lunch in the staff canteen", "the canteen menu",
             "hot meals on night shift"],
    "SUP": ["supervision with my manager", "clinical supervision", "reflective supervision",
            "group supervision"],
    "CAU": ["our caucus meetings", "the caucus space", "talking in the caucus",
            "the inter-group dialogue"],
    "TRN": ["the anti-racism training", "the training sessions", "the online modules",
            "the workshop on allyship"],
    "WRK": ["my caseload", "the waiting list", "the workload this month", "the admin burden"],
}


def synthetic_study(n: int, seed: int = 20230701) -> tuple[Any, Any, Any]:
    """``n`` SYNTHETIC responses, their codings and the theme table."""
    import pandas as pd

    rng = random.Random(seed)
    ids = list(THEMES)
    texts, rows = [], []
    for i in range(n):
        first = rng.choice(ids)
        second = rng.choice(ids) if rng.random() < 0.05 else None
        parts = []
        for theme in [first] + ([second] if second and second != first else []):
            parts.append(" ".join(w for w in (rng.choice(OPENERS), rng.choice(THEMES[theme]),
                                              rng.choice(VERDICTS), rng.choice(TAILS)) if w))
        text = ". ".join(parts) + "."
        rid = f"R{i:07d}"
        texts.append(text)
        start = 0
        for theme, part in zip([first] + ([second] if second and second != first else []),
                               parts, strict=True):
            rows.append({"response_id": rid, "code": theme, "start": start,
                         "end": start + len(part)})
            start += len(part) + 2
    responses = pd.DataFrame({"response_id": [f"R{i:07d}" for i in range(n)], "text": texts})
    codings = pd.DataFrame(rows)
    themes = pd.DataFrame({"theme": ids, "name": ids,
                           "definition": [f"Responses about {v[0]}" for v in THEMES.values()]})
    return responses, codings, themes


class Monitor:
    """Wall time and peak RSS of named steps (RSS sampled by a background thread)."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.rows: list[tuple[str, float, float, int | None]] = []
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    @contextlib.contextmanager
    def step(self, name: str, n: int | None = None) -> Iterator[None]:
        """Time one step and record the peak RSS while it ran."""
        self._peak = self.proc.memory_info().rss
        t = time.perf_counter()
        try:
            yield
        finally:
            sec = time.perf_counter() - t
            peak = max(self._peak, self.proc.memory_info().rss)
            self.add(name, sec, peak / 2**20, n)

    def add(self, name: str, sec: float, peak_mb: float, n: int | None) -> None:
        """Record a step measured elsewhere (accumulating repeated steps)."""
        for i, (nm, s, p, nn) in enumerate(self.rows):
            if nm == name:
                self.rows[i] = (nm, s + sec, max(p, peak_mb), nn)
                return
        self.rows.append((name, sec, peak_mb, n))

    def wrap(self, owner: Any, attr: str, name: str, n: int | None = None) -> Callable[[], None]:
        """Time every call of ``owner.attr`` as step ``name``; return an undo function."""
        real = getattr(owner, attr)
        monitor = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            monitor._peak = monitor.proc.memory_info().rss
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                peak = max(monitor._peak, monitor.proc.memory_info().rss)
                monitor.add(name, time.perf_counter() - t, peak / 2**20, n)

        setattr(owner, attr, timed)
        return lambda: setattr(owner, attr, real)

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def print(self, title: str) -> None:
        """Print the table of steps."""
        print(f"\n{title}")
        print(f"  {'step':<26}{'wall s':>10}{'peak RSS MB':>14}{'responses/s':>14}")
        for name, sec, peak, n in self.rows:
            rate = f"{n / sec:>14,.0f}" if n and sec > 0 else f"{'':>14}"
            print(f"  {name:<26}{sec:>10.2f}{peak:>14,.0f}{rate}")


def run_size(n: int, args: argparse.Namespace, cache: str) -> None:
    """Benchmark the topic check on ``n`` synthetic responses."""
    import thematic.compare as cmp
    import thematic.topics as topics
    from thematic.embeddings import StaticEmbedder, embed

    mon = Monitor()
    with mon.step("generate synthetic data", n):
        responses, codings, themes = synthetic_study(n)
    with mon.step("distil (or load) static", None):
        static = StaticEmbedder(cache_dir=cache).fit()
    distilled = static.distilled_
    with mon.step("embed (static)", n):
        emb = embed(responses["text"].tolist(), backend="static", cache_dir=cache)
    undo = [
        mon.wrap(topics.TopicModel, "fit", "topic fits (all seeds)", n * args.seeds),
        mon.wrap(cmp, "agreement_statistics", "agreement (per seed)", None),
        mon.wrap(cmp, "permutation_test", "permutations", None),
        mon.wrap(cmp, "extract_consistency", "consistency", n),
        mon.wrap(cmp, "neighbour_agreement", "neighbours", n),
        mon.wrap(topics, "theme_keywords", "keywords (manual mode)", n),
        mon.wrap(topics, "zero_shot_themes", "zero-shot", n),
    ]
    try:
        with mon.step("topic check total", n):
            # cache_dir=None: every fit is fitted (the fit cache would make a re-run free)
            check = cmp.topic_check(responses, codings, themes, embeddings=emb,
                                    n_seeds=args.seeds, n_permutations=args.permutations,
                                    cache_dir=None)
    finally:
        for u in undo:
            u()
        mon.close()
    mon.print(f"{n:,} SYNTHETIC coded responses - static backend, {args.seeds} seeds, "
              f"{args.permutations:,} permutations "
              f"({'distilled now' if distilled else 'static model from the cache'})")
    print(f"  topic model: {check.model} (reduction {check.reduction}, clustering "
          f"{check.clustering}); device {check.device}")
    ari = check.statistics.set_index("statistic").loc["adjusted_rand"]
    mc = check.monte_carlo.set_index("statistic").loc["adjusted_rand"]
    print(f"  adjusted Rand {ari['observed']:.4f} (chance mean {ari['null_mean']:.2e} "
          f"± Monte-Carlo s.e. {mc['null_mean_mc_se']:.1e}; p {ari['p_value']:.4f} "
          f"± {mc['p_value_mc_se']:.1e}); warnings: {check.warnings or 'none'}")
    import resource

    print(f"  process peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}"
          " MB")


def encode_ratio(sample: int, cache: str, threads: int) -> tuple[float, float]:
    """texts/s of MiniLM (no cache) and of the static model on ``sample`` texts."""
    from thematic.embeddings import SentenceEmbedder, StaticEmbedder

    responses, _, _ = synthetic_study(sample, seed=99)
    texts = responses["text"].tolist()
    st = SentenceEmbedder(cache_dir=None, num_threads=threads, device="cpu").fit()
    st.transform(texts[:32])  # load the model and warm up
    t = time.perf_counter()
    st.transform(texts)
    minilm = sample / (time.perf_counter() - t)
    static = StaticEmbedder(cache_dir=cache, num_threads=threads).fit()
    static.transform(texts[:32])
    t = time.perf_counter()
    static.transform(texts)
    fast = sample / (time.perf_counter() - t)
    return minilm, fast


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", default=None,
                    help="a size (repeatable; default 10,000 and 100,000)")
    ap.add_argument("--million", action="store_true", help="also run 1,000,000 responses")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--encode-sample", type=int, default=1000,
                    help="texts for the MiniLM / static encoding ratio (0: skip)")
    ap.add_argument("--cache", default=None,
                    help="embedding cache directory (default: a temporary one, so the first "
                         "size includes the distillation)")
    ap.add_argument("--no-ingest", action="store_true",
                    help="skip the ingest part (read -> clean -> de-identify -> segment, "
                         "single process and Dask: benchmarks/bench_scale_ingest.py)")
    ap.add_argument("--dask", type=int, default=2,
                    help="workers of the LocalCluster of the ingest part (0: no Dask)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for MiniLM and the distillation (default min(4, CPUs))")
    args = ap.parse_args(argv)
    sizes = args.n or [10_000, 100_000]
    if args.million:
        sizes.append(1_000_000)

    from thematic.embeddings import _default_threads

    threads = int(args.threads or _default_threads())
    print(f"{os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"torch threads {threads}")
    with contextlib.ExitStack() as stack:
        cache = args.cache or stack.enter_context(tempfile.TemporaryDirectory())
        for n in sizes:
            run_size(n, args, cache)
        if args.encode_sample:
            minilm, static = encode_ratio(args.encode_sample, cache, threads)
            print(f"\nEncoding {args.encode_sample:,} texts ({threads} threads): MiniLM "
                  f"{minilm:,.0f} texts/s, static {static:,.0f} texts/s; "
                  f"MiniLM / static time ratio {static / minilm:.1f}x")
            for n in sizes:
                print(f"  at {n:,} responses MiniLM would take ~{n / minilm / 60:,.1f} min, "
                      f"static {n / static:,.1f} s")
    if not args.no_ingest:
        # in a process of its own, so that its peak memory is its own
        import subprocess

        print("\nIngest: read -> clean -> de-identify -> segment "
              "(benchmarks/bench_scale_ingest.py)", flush=True)
        cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "bench_scale_ingest.py"), "--one-file"]
        for n in sizes:
            cmd += ["--n", str(n)]
        if args.dask:
            cmd += ["--dask", str(args.dask)]
        subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
