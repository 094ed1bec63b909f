"""Opening the coding workspace on a large SYNTHETIC study, and what one page costs.

Builds, in a temporary directory, a SYNTHETIC study of 10,000 responses (3 questions,
7 groups, a few excluded rows) and 50,000 coded segments under 40 codes in 8 candidate
themes, then times, in a fresh process state (no cache):

* ``Project.open`` + ``CodingWorkspace(project)``: everything the view needs before it is
  shown (responses, codings, codebook, the first page, the code and theme lists), in a
  fresh process (imports timed apart) and in a process that has imported thematic;
* paging to the next response and to the next page of the list view;
* coding one segment through the widget's message handler (a real write of the
  50,000-row codings file, under the study's lock).

and prints the bytes of the state sent to the front end for one page (the JSON of the
widget's synced ``state``): the front end receives a page, never the corpus.

The target is an open time under 2 s on one core.

Run::

    .venv/bin/python benchmarks/bench_workspace.py [--responses 10000] [--segments 50000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = ("staff", "shift", "manager", "rota", "break", "support", "team", "ward", "night",
         "patients", "concern", "listened", "training", "colleagues", "pressure", "time",
         "leave", "care", "change", "meeting", "voice", "respect", "workload", "safe")
GROUPS = ("Nursing", "Medical", "Allied health", "Scientists", "Admin", "Estates",
          "Management")
QUESTIONS = ("What has helped you feel supported?", "What gets in the way of speaking up?",
             "What one change would help most?")


COLD = '''
import time
t0 = time.perf_counter()
import thematic
from thematic.project import Project
from thematic.workspace import CodingWorkspace
t1 = time.perf_counter()
CodingWorkspace(Project.open({root!r}))
print(t1 - t0, time.perf_counter() - t1)
'''


def build_study(root: Path, n_responses: int = 10_000, n_segments: int = 50_000, *,
                n_codes: int = 40, n_themes: int = 8, random_state: int = 7):
    """Write a SYNTHETIC study with ``n_responses`` responses and ``n_segments`` segments.

    The responses are imported and the codes and themes added through ``Project``; the
    segments are written with :func:`thematic.coding.write_codings` in one go (a fixture:
    coding 50,000 segments one call at a time would time the builder, not the view).
    """
    from thematic.coding import write_codings
    from thematic.project import Project

    rng = np.random.default_rng(random_state)
    p = Project.create(root, title="SYNTHETIC large study", group_label="staff group",
                       groups=GROUPS, notebooks=False)
    texts = []
    for _ in range(n_responses):
        k = int(rng.integers(25, 70))
        words = [str(w) for w in rng.choice(WORDS, size=k)]
        sent = []
        for j in range(0, k, 9):
            chunk = words[j:j + 9]
            sent.append(" ".join(chunk).capitalize() + ".")
        texts.append(" ".join(sent))
    ids = [f"R{i:05d}" for i in range(n_responses)]
    excl = rng.random(n_responses) < 0.03
    table = pd.DataFrame({
        "response_id": ids,
        "respondent_id": [f"P{i // 3:05d}" for i in range(n_responses)],
        "question": [QUESTIONS[i % 3] for i in range(n_responses)],
        "group": [GROUPS[int(g)] for g in rng.integers(0, len(GROUPS), n_responses)],
        "text": texts,
        "exclude": excl,
    })
    p.import_responses(table)
    codes = [f"code {c:02d}" for c in range(n_codes)]
    per = n_codes // n_themes
    for t in range(n_themes):
        p.add_theme(f"T{t + 1}", f"Candidate theme {t + 1}",
                    codes=codes[t * per:(t + 1) * per])
    code_ids = [p._existing_id(c) for c in codes]
    keep = np.flatnonzero(~excl)
    rows = []
    rid_pick = rng.choice(keep, size=n_segments)
    for i in rid_pick:
        text = texts[int(i)]
        s = int(rng.integers(0, max(1, len(text) - 30)))
        e = min(len(text), s + int(rng.integers(10, 80)))
        rows.append((ids[int(i)], code_ids[int(rng.integers(0, n_codes))], s, e, text[s:e]))
    df = pd.DataFrame(rows, columns=["response_id", "code", "start", "end", "excerpt"])
    df["coder"] = p.settings.coder
    df = df.drop_duplicates(["response_id", "code", "start", "end"])
    write_codings(df, p.codings_file())
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=10_000)
    ap.add_argument("--segments", type=int, default=50_000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p0 = build_study(Path(tmp) / "study", args.responses, args.segments)
        n_seg = len(p0.codings())
        print(f"built SYNTHETIC study: {args.responses:,} responses, {n_seg:,} segments "
              f"({time.perf_counter() - t0:.1f} s)")
        del p0

        cold = subprocess.run(
            [sys.executable, "-c", COLD.format(root=str(Path(tmp) / "study"))],
            capture_output=True, text=True, check=True).stdout.split()
        print(f"first open in a fresh process: imports {float(cold[0]):.2f} s "
              f"+ open {float(cold[1]):.2f} s")

        import thematic.workspace  # noqa: F401  (import cost is not part of opening a study)
        from thematic.project import Project
        from thematic.workspace import CodingWorkspace

        t0 = time.perf_counter()
        p = Project.open(Path(tmp) / "study")
        w = CodingWorkspace(p)
        t_open = time.perf_counter() - t0
        one = len(json.dumps(w.state).encode("utf-8"))
        print(f"open (Project.open + CodingWorkspace): {t_open:.2f} s "
              f"(target < 2 s: {'met' if t_open < 2 else 'NOT met'})")
        print(f"state sent for one response: {one:,} bytes "
              f"({len(w.state['page']['responses'])} response(s))")

        t0 = time.perf_counter()
        w.dispatch({"action": "view", "mode": "list"})
        t_list = time.perf_counter() - t0
        size = len(json.dumps(w.state).encode("utf-8"))
        print(f"list view, one page: {size:,} bytes ({len(w.state['page']['responses'])} "
              f"responses of {w.state['page']['total']:,}) in {t_list:.2f} s")
        t0 = time.perf_counter()
        w.dispatch({"action": "page", "delta": 1})
        print(f"next page: {time.perf_counter() - t0:.2f} s")

        first = w.state["page"]["responses"][0]
        n_chars = len(first["text"])
        t0 = time.perf_counter()
        reply = w.dispatch({"action": "code", "response_id": first["id"], "start": 0,
                            "end": min(12, n_chars), "excerpt": first["text"][:min(12, n_chars)],
                            "code": "benchmark code"})
        print(f"code one segment (write {n_seg + 1:,} rows + refresh): "
              f"{time.perf_counter() - t0:.2f} s ({'ok' if reply['ok'] else reply['error']})")
        corpus = sum(len(str(t).encode("utf-8")) for t in p.responses["text"])
        print(f"for scale: the corpus text alone is {corpus:,} bytes")


if __name__ == "__main__":
    main()
