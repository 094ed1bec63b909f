"""Benchmark: read -> clean -> de-identify -> segment at 10k, 100k (and 1M) SYNTHETIC responses.

Run from the project root (the machine is shared: numbers are noisy)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale_ingest.py            # 10k, 100k
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale_ingest.py --full     # also 1M
    .venv/bin/python benchmarks/bench_scale_ingest.py --n 100000 --dask 2 --check

Responses come from a fast deterministic bulk generator (two open-text questions per
respondent; non-answers, long copied answers, resubmissions, titled and listed names), in
exports of at most 100,000 rows, or with ``--one-file`` in ONE CSV export (500,000 rows
for a million responses: text exports are streamed, ``thematic.ingest.MAX_CSV_ROWS``). For
each size it prints, per step, the wall time, the peak RSS of the process during the step
(sampled every 20 ms) and responses/s:

- ``read``, ``clean + de-identify + review`` (streaming, :func:`thematic.survey.iter_prepared`,
  blocks of ``--chunksize``; ``read`` is timed alone by :class:`thematic.ingest.ExportChunks`),
  with the time and peak RSS until the first block is ready (pass 1 -- read, clean, find
  identifiers, spill -- and the global step),
- ``segment`` on the prepared blocks, as they come;

the peak RSS of the whole streaming run, the load average (the machine is shared), and with ``--dask N`` the same preparation on a LocalCluster of N workers and the ratio.
``--check`` also compares the streamed (and Dask) output with the single-pass one, and the
fast ``segment`` with spaCy's pipeline, and says whether they are identical.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

FIRST = ["Sam", "Amir", "Priya", "Tomasz", "Aisha", "Kwame", "Chen", "Fatima"]
LAST = ["Taylor", "Khan", "Patel", "Nowak", "Begum", "Mensah", "Wei", "Okafor"]
PHRASES = [
    "the sessions helped me listen", "I felt heard in the caucus", "it was hard to name it",
    "my manager checked in on me", "we need action not words", "silence is not neutral",
    "the facilitators held the space with care", "I notice I question every contribution",
    "it keeps me going between sessions", "I found it uncomfortable and that is the point",
]
ROWS_PER_EXPORT = 100_000


class Peak:
    """Peak RSS of this process during a block (sampled every 20 ms)."""

    def __enter__(self) -> Peak:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        return self

    def _run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.stop = True
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def generate(folder: Path, n_responses: int, seed: int = 42, one_file: bool = False) -> list[Path]:
    """Write SYNTHETIC exports holding ``n_responses`` responses (2 per respondent)."""
    rng = random.Random(seed)
    n_resp = n_responses // 2
    per_export = max(1, n_resp) if one_file else ROWS_PER_EXPORT
    paths = []
    for k, lo in enumerate(range(0, n_resp, per_export)):
        path = folder / f"export-{k}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["pid", "group", "experience", "learning"])
            for i in range(lo, min(lo + per_export, n_resp)):
                pid = f"P{i if rng.random() > 0.02 else max(0, i - 1):07d}"
                row = [pid, "A" if i % 3 else "B"]
                for _ in range(2):
                    r = rng.random()
                    if r < 0.06:
                        row.append(rng.choice(["", "n/a", "none", "-"]))
                    elif r < 0.1:
                        row.append("I think " + ", ".join(PHRASES[:5]) + ".")
                    else:
                        a, b = rng.sample(PHRASES, 2)
                        text = f"{a.capitalize()}. {b.capitalize()} in session {i % 97}."
                        if r < 0.25:
                            text += f" Dr {rng.choice(LAST)}{i % 50} and " \
                                    f"{rng.choice(FIRST)} {rng.choice(LAST)} were kind."
                        row.append(text)
                w.writerow(row)
        paths.append(path)
    return paths


KW = dict(names=[f"{f} {last}" for f in FIRST for last in LAST], organisations=["Northshire"],
          text_columns=["experience", "learning"], id_column="pid", group_column="group",
          salt="benchmark", pseudonyms=True)


def run(paths: list[Path], chunksize: int, client=None, segment_too: bool = True) -> dict:
    from thematic.clean import segment
    from thematic.survey import iter_prepared

    out: dict = {}
    t_seg = 0.0
    n_seg = 0
    first = None
    with Peak() as total:
        stream = iter_prepared(paths, chunksize=chunksize, client=client, **KW)
        t0 = time.perf_counter()
        for table, _ in stream:
            if first is None:  # pass 1 (read, clean, find identifiers) + global step done
                first = (time.perf_counter() - t0, total.peak)
            if segment_too:
                s0 = time.perf_counter()
                n_seg += len(segment(table))
                t_seg += time.perf_counter() - s0
        t_prep = time.perf_counter() - t0 - t_seg
    out.update(prepare=t_prep, segment=t_seg, segments=n_seg, total=total.seconds,
               peak=total.peak, n=stream.n_rows, stream=stream, first=first)
    return out


def time_read(paths: list[Path], chunksize: int) -> tuple[float, int, int]:
    from thematic.ingest import ExportChunks

    with Peak() as p:
        n = sum(len(b) for b in ExportChunks(paths, chunksize, text_columns=KW["text_columns"],
                                              id_column="pid", group_column="group"))
    return p.seconds, p.peak, n


def check(paths: list[Path], chunksize: int, client) -> None:
    from thematic.clean import make_segmenter, segment
    from thematic.io import csv_text
    from thematic.survey import prepare_export

    single = prepare_export(paths, **KW)
    streamed = prepare_export(paths, chunksize=chunksize, **KW)
    same = all(csv_text(getattr(single, p)) == csv_text(getattr(streamed, p))
               for p in ("table", "audit", "review"))
    print(f"  streamed == single pass (table, audit, review): {same}")
    if client is not None:
        d = prepare_export(paths, chunksize=chunksize, client=client, **KW)
        same = all(csv_text(getattr(single, p)) == csv_text(getattr(d, p))
                   for p in ("table", "audit", "review"))
        print(f"  Dask == single pass (table, audit, review): {same}")
    fast = segment(single.table)
    slow = segment(single.table, nlp=make_segmenter("blank"))
    print(f"  fast segment == spaCy pipeline on {len(single.table):,} responses: "
          f"{fast.equals(slow)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", help="sizes (default 10k and 100k)")
    ap.add_argument("--full", action="store_true", help="also 1,000,000 responses")
    ap.add_argument("--chunksize", type=int, default=50_000)
    ap.add_argument("--dask", type=int, default=0, help="also on a LocalCluster of N workers")
    ap.add_argument("--check", action="store_true", help="compare with the single-pass run")
    ap.add_argument("--one-file", action="store_true",
                    help="write each size as ONE CSV export (the single-export streaming path)")
    args = ap.parse_args(argv)
    sizes = args.n or [10_000, 100_000]
    if args.full:
        sizes.append(1_000_000)
    print(f"Python {sys.version.split()[0]}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
          f", {os.cpu_count()} cores (shared: noisy); SYNTHETIC responses")
    from thematic.clean import _fast_sentences

    _fast_sentences()  # load spaCy once, outside the timings
    client_cm = None
    client = None
    if args.dask:
        from thematic.distributed import dask_client

        client_cm = dask_client(workers=args.dask)
        client = client_cm.__enter__()
    try:
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                paths = generate(Path(tmp), n, one_file=args.one_file)
                t_read, peak_read, n_read = time_read(paths, args.chunksize)
                r = run(paths, args.chunksize)
                load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"\n{n:,} responses ({len(paths)} export(s), blocks of {args.chunksize:,})"
                      f"; load average before: {load}")
                print(f"  {'step':<40}{'seconds':>9}{'resp/s':>10}{'peak RSS MiB':>14}")
                rows = [("read (alone)", t_read, n_read, peak_read),
                        ("  pass 1 + global step (to 1st block)", r["first"][0], r["n"],
                         r["first"][1]),
                        ("read + clean + de-identify + review", r["prepare"], r["n"], None),
                        (f"segment ({r['segments']:,} sentences)", r["segment"], r["n"], None),
                        ("total, streaming", r["total"], r["n"], r["peak"])]
                for label, t, k, peak in rows:
                    mib = f"{peak / 2**20:,.0f}" if peak else ""
                    print(f"  {label:<40}{t:>9.2f}{k / t:>10,.0f}{mib:>14}")
                if client is not None:
                    d = run(paths, args.chunksize, client=client, segment_too=False)
                    print(f"  prepare on Dask ({args.dask} workers): {d['total']:.2f} s; "
                          f"single / Dask = {r['prepare'] / d['total']:.2f}x")
                if args.check:
                    check(paths, args.chunksize, client)
        print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"\nprocess peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}"
              " MiB")
    finally:
        if client_cm is not None:
            client_cm.__exit__(None, None, None)


if __name__ == "__main__":
    main()
