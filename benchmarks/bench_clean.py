"""Throughput of ingest, cleaning and de-identification on a SYNTHETIC 100k-response export.

Generates a plain CSV export (50,000 respondents x 2 open-text questions = 100,000
responses) in a temporary directory, then times:

* ``read_export`` (decode, sniff, parse, long table),
* ``clean_responses`` (ftfy repair, NFC, invisible characters, whitespace, flags),
* ``deidentify_responses`` with a 200-name / 20-organisation list,
* with ``--oracle``, the test suite's spaCy oracle of the list matching
  (``tests/_spacy_oracle.py``) on the same cleaned table (``--oracle-n``: its first N
  responses only),
* ``segment`` on a 5,000-response sample (spaCy; not part of the throughput target).

Prints responses/s per stage and for clean + de-identify together (the target is
>= 10,000 responses/s on one core), with ``--oracle`` whether the library and the oracle
produced the same masked text and audit and the oracle's one-off set-up (import spaCy,
build the pipeline and patterns; not in its responses/s), and the peak
traced Python memory of each stage (tracemalloc, measured in a second pass so tracing
does not slow the timed pass) plus the process's peak RSS.

It also prints how de-identification time scales on hostile single answers (dotted
words, digit runs, ``@`` runs, whitespace runs, capitalised and titled words...): the
time for n and 4n characters and their ratio (about 4 for linear patterns, 16 for
quadratic ones), and the time to number 16,000 distinct titled names with
``pseudonyms=True`` (the numbering is linear in the number of identities).

Run::

    .venv/bin/python benchmarks/bench_clean.py [--n 100000] [--oracle [--oracle-n N]]
        [--scaling-n 50000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from thematic.clean import clean_responses, segment
from thematic.config import RANDOM_STATE
from thematic.deidentify import Deidentifier, deidentify_responses
from thematic.ingest import read_export

FRAGMENTS = [
    "I value how honest people are in our caucus",
    "it helps me feel connected to the others",
    "I notice I question every contribution I make",
    "especially when we feed back to the big group",
    "I tend to intellectualise and stay detached",
    "it was useful to have that reflected back to me",
    "it\u2019s a space where our experiences are validated",
    "that keeps me going between sessions",
    "I feel irritated at the slow pace of change",
    "I\u2019d like to see a move towards action",
    "silence in the room is not neutral",
    "I will try to notice it and name it in supervision",
    "the facilitators held the space with real care",
    "I was saddened to hear what colleagues have been through",
    "separate spaces made the joint discussion feel less risky",
    "I am starting to acknowledge experiences I used to minimise",
    "we talked about \u201cprofessional\u201d distance and what it protects",
    "I found it uncomfortable \u2013 and that is probably the point",
]
IDENTIFIERS = [
    "you can reach me at {first}.{last}@example.org",
    "Dr {last} said something that stayed with me",
    "{first}'s comment about accountability",
    "call me on 07700 900{n:03d}",
    "my team at {org} is starting something similar",
    "see https://example.org/resources/{n}",
    "I live near LS{d} 4AP",
    "born on {d}/0{m}/1985",
]
# every closing varies ({n}: one of 400 numbers or words) so answers are mostly unique
CLOSINGS = [
    "after {n} minutes it felt different",
    "that was true in session {n} too",
    "it took me {n} days to process it",
    "I keep coming back to the word {w}",
    "the {w} conversation was the hardest part",
    "what I will take away is {w}",
]
WORDS = [f"{a}{b}" for a in ("re", "un", "over", "inter", "counter") for b in (
    "framing", "learning", "naming", "listening", "holding", "noticing", "voicing", "checking",
    "speaking", "seeing", "making", "telling", "working", "thinking", "feeling", "trusting",
)]  # fmt: skip
NON_ANSWERS = ["n/a", "N/A", "none", "-", "Nothing to add", "no comment", "", "."]
FIRST = [
    "Sam",
    "Amir",
    "Priya",
    "Sarah",
    "Tomasz",
    "Aisha",
    "Kwame",
    "Siobh\u00e1n",
    "Chen",
    "Fatima",
]
LAST = [
    "Taylor",
    "Khan",
    "Patel",
    "Okafor",
    "Nowak",
    "Begum",
    "Mensah",
    "O'Neill",
    "Wei",
    "Hussain",
]


def make_export(path: Path, n_respondents: int, rng: random.Random) -> None:
    """Write a plain CSV export with two open-text questions per respondent."""
    orgs = [f"Northshire Community Trust {i}" for i in range(20)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pid", "caucus", "session", "experience", "learning"])
        for i in range(n_respondents):
            row = [
                f"P{i:06d}",
                rng.choice(["Racially Minoritised Caucus", "White Caucus"]),
                f"Session {1 + i % 5}",
            ]
            for _ in range(2):
                r = rng.random()
                if r < 0.08:
                    text = rng.choice(NON_ANSWERS)
                else:
                    k = rng.randint(2, 4)
                    parts = rng.sample(FRAGMENTS, k)
                    parts.append(
                        rng.choice(CLOSINGS).format(n=rng.randint(1, 400), w=rng.choice(WORDS))
                    )
                    if rng.random() < 0.15:
                        parts.insert(
                            rng.randrange(k + 1),
                            rng.choice(IDENTIFIERS).format(
                                first=rng.choice(FIRST),
                                last=rng.choice(LAST),
                                org=rng.choice(orgs),
                                n=rng.randrange(1000),
                                d=rng.randint(1, 28),
                                m=rng.randint(1, 9),
                            ),
                        )
                    text = ". ".join(p[0].upper() + p[1:] for p in parts) + "."
                    if rng.random() < 0.02:  # mojibake from a cp1252 round trip
                        text = text.replace("\u2019", "\u00e2\u20ac\u2122")
                    if rng.random() < 0.05:
                        text = "  " + text.replace(". ", ".  \n") + "\u200b "
                row.append(text)
            w.writerow(row)


def names_list() -> list[str]:
    """200 synthetic full names (the 10x10 grid of FIRST x LAST plus numbered extras)."""
    out = [f"{f} {last}" for f in FIRST for last in LAST]
    out += [f"Person{i} Surname{i}" for i in range(200 - len(out))]
    return out


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def traced_peak(fn, *args, **kwargs) -> float:
    tracemalloc.start()
    fn(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


HOSTILE = {
    "dotted words": "ab.",
    "dotted words + TLD": "word.uk.",
    "digit run": "1",
    "digit groups": "12 ",
    "+44 runs": "+44 ",
    "@ run": "@",
    "whitespace run": " ",
    "capitalised words": "Ab ",
    "titled words": "Dr Ab ",
    "non-ASCII titled": "Sister \u0141ukasz ",
    "spelled-out at": "a [at] ",
    "born in": "born in ",
}


def scaling(n: int) -> None:
    """Print de-identification time of hostile answers of n and 4n characters."""
    det = Deidentifier(names_list(), ["Northshire Community Trust"])
    print(f"hostile single answers: n = {n:,} and 4n characters (ratio ~4 = linear)")
    for label, unit in HOSTILE.items():
        times = []
        for size in (n, 4 * n):
            text = (unit * (size // len(unit) + 1))[:size]
            _, t = timed(det.find, text + " x.uk")
            times.append(t)
        print(
            f"  {label:<22}{times[0]:>8.3f} s{times[1]:>8.3f} s   x{times[1] / max(times[0], 1e-6):.1f}"
        )


def pseudonym_numbering(k: int = 16_000) -> None:
    """Print the time to number ``k`` distinct titled names with pseudonyms=True."""
    import pandas as pd

    from thematic.schemas import conform

    surnames = ["Ab" + "".join(chr(97 + (i // 26**j) % 26) for j in range(4)) for i in range(k)]
    df = conform(
        pd.DataFrame(
            {
                "response_id": [f"r{i}:q" for i in range(k)],
                "respondent_id": [f"r{i}" for i in range(k)],
                "question": "q",
                "text": [f"Dr {s} listened." for s in surnames],
            }
        ).astype("str"),
        "responses",
    )
    (out, _), t = timed(deidentify_responses, df, salt="benchmark", pseudonyms=True)
    _, t0 = timed(deidentify_responses, df, salt="benchmark")
    assert out["text"].iloc[-1] == f"[NAME_{k}] listened."
    print(f"{k:,} distinct titled names: {t:.2f} s with pseudonyms=True, {t0:.2f} s without")


def _spacy_oracle() -> Any:
    """Import the test suite's spaCy oracle (``tests/_spacy_oracle.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import _spacy_oracle

    return _spacy_oracle


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of responses (default 100000)")
    ap.add_argument(
        "--oracle",
        action="store_true",
        help="also time the tests' spaCy oracle (tests/_spacy_oracle.py) and compare",
    )
    ap.add_argument(
        "--oracle-n", type=int, default=None, help="time the oracle on the first N responses"
    )
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    ap.add_argument(
        "--scaling-n",
        type=int,
        default=50_000,
        help="characters of the hostile answers (and 4x that); 0 skips the scaling check",
    )
    args = ap.parse_args(argv)
    engines = ["library", "oracle"] if args.oracle else ["library"]
    rng = random.Random(RANDOM_STATE)
    names = names_list()
    orgs = [f"Northshire Community Trust {i}" for i in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic-export.csv"
        make_export(path, args.n // 2, rng)
        size = path.stat().st_size / 2**20
        (df, _), t_read = timed(
            read_export, path, text_columns=["experience", "learning"], id_column="pid"
        )
        n = len(df)
        (cleaned, _), t_clean = timed(clean_responses, df)
        deid: dict[str, tuple] = {}
        t_deid: dict[str, float] = {}
        n_deid: dict[str, int] = {}
        t_setup = None
        calls = {"library": deidentify_responses}
        if args.oracle:
            oracle = _spacy_oracle()
            calls["oracle"] = oracle.deidentify_responses
            # one-off: import spaCy and build the tokenizer (cached for the process)
            _, t_setup = timed(oracle.SpacyDeidentifier, names, orgs)
        for engine in engines:
            table = cleaned
            if engine == "oracle" and args.oracle_n is not None:
                table = cleaned.head(args.oracle_n)
            deid[engine], t_deid[engine] = timed(
                calls[engine], table, names, orgs, salt="benchmark", pseudonyms=True
            )
            n_deid[engine] = len(table)
        first = deid[engines[0]][0]
        sample = first.head(5000)
        _, t_seg = timed(segment, sample)
        print(
            f"SYNTHETIC export: {n:,} responses, {size:.1f} MiB CSV; Python {sys.version.split()[0]}"
        )
        print(f"{'stage':<34}{'responses':>10}{'seconds':>9}{'responses/s':>14}")
        rows = [("read_export", t_read, n), ("clean_responses", t_clean, n)]
        for engine in engines:
            rows.append((f"deidentify ({engine})", t_deid[engine], n_deid[engine]))
        rows.append(("clean + deidentify", t_clean + t_deid["library"], n))
        rows.append(("segment (5k sample)", t_seg, len(sample)))
        for label, t, k in rows:
            print(f"{label:<34}{k:>10,}{t:>9.2f}{k / t:>14,.0f}")
        if t_setup is not None:
            print(f"spaCy oracle one-off set-up (import spaCy, build patterns): {t_setup:.2f} s")
        for engine in engines:
            print(f"identifiers masked ({engine}): {len(deid[engine][1]):,}")
        print(f"rows excluded: {int(cleaned['exclude'].sum()):,}")
        if len(engines) == 2:
            (a_out, a_audit), (b_out, b_audit) = deid["library"], deid["oracle"]
            k = len(b_out)
            a_text, b_text = a_out["text"].head(k).fillna(""), b_out["text"].fillna("")
            differ = int((a_text != b_text).sum())
            same_audit = (
                a_audit[a_audit["response_id"].isin(b_out["response_id"])]
                .reset_index(drop=True)
                .equals(b_audit[b_audit["response_id"].notna()].reset_index(drop=True))
            )
            print(
                f"library and oracle agree on {k:,} responses: masked text "
                f"{'identical' if differ == 0 else f'differs in {differ:,}'}; "
                f"audit {'identical' if same_audit else 'differs'}"
            )
        if not args.no_memory:
            peaks = [
                f"read {traced_peak(read_export, path, text_columns=['experience', 'learning'], id_column='pid'):.0f}",
                f"clean {traced_peak(clean_responses, df):.0f}",
            ]
            for engine in engines:
                table = cleaned.head(n_deid[engine])
                peak = traced_peak(calls[engine], table, names, orgs, salt="benchmark")
                peaks.append(f"deidentify[{engine}] {peak:.0f}")
            print("peak traced memory (MiB): " + ", ".join(peaks))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the process: {rss:.0f} MiB")
        if args.scaling_n:
            scaling(args.scaling_n)
            pseudonym_numbering()
        target = n / (t_clean + t_deid["library"])
        print(
            f"clean + deidentify: {target:,.0f} responses/s "
            f"({'meets' if target >= 10_000 else 'BELOW'} the 10,000/s target)"
        )


if __name__ == "__main__":
    main()
