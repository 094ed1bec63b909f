"""Streaming preparation: blocks give exactly the single-pass result (SYNTHETIC exports)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pytest

from thematic.errors import InputError
from thematic.io import csv_text
from thematic.survey import iter_prepared, prepare_export, write_prepared

FIRST = ["Sam", "Amir", "Priya", "Tomasz", "Aisha", "Kwame"]
LAST = ["Taylor", "Khan", "Patel", "Nowak", "Begum", "Mensah"]
PHRASES = ["the sessions helped me listen", "I felt heard in the caucus",
           "it was hard to name what happened", "my manager checked in on me",
           "we need action not words", "silence in the room is not neutral"]


def make_export(path: Path, n: int, seed: int, extra: str | None = None) -> None:
    """A SYNTHETIC plain export: duplicates, resubmissions, names, blanks and non-answers."""
    rng = random.Random(seed)
    header = ["pid", "group", "experience", "learning"] + ([extra] if extra else [])
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            pid = f"P{rng.randrange(n * 9 // 10):05d}"  # some respondents submit twice
            row = [pid, rng.choice(["A", "B"])]
            for _ in range(2):
                r = rng.random()
                if r < 0.08:
                    row.append(rng.choice(["", "n/a", "none", "-"]))
                elif r < 0.2:
                    row.append("I think " + ", ".join(PHRASES[:4]) + ".")  # a long copy
                else:
                    text = ". ".join(rng.sample(PHRASES, 2)).capitalize() + "."
                    if rng.random() < 0.3:
                        text += f" Dr {rng.choice(LAST)} and {rng.choice(FIRST)} " \
                                f"{rng.choice(LAST)} were kind."
                    if rng.random() < 0.1:
                        text = "  " + text.replace(". ", ".\n") + "\u200b"
                    row.append(text)
            if extra:
                row.append(f"ward {i % 7}")
            w.writerow(row)


KW = dict(names=[f"{f} {last}" for f in FIRST[:3] for last in LAST[:3]],
          organisations=["Northshire Trust"], text_columns=["experience", "learning"],
          id_column="pid", group_column="group", salt="test-salt", pseudonyms=True)


def _same(a, b) -> None:
    for part in ("table", "audit", "review"):
        assert csv_text(getattr(a, part)) == csv_text(getattr(b, part)), part
    assert a.summary() == b.summary()


@pytest.mark.parametrize("chunksize", [31, 97, 10**6])
def test_blocks_equal_single_pass(tmp_path, chunksize):
    path = tmp_path / "export.csv"
    make_export(path, 400, seed=1)
    whole = prepare_export(path, **KW)
    assert whole.table["flag_duplicate"].sum() > 10
    assert whole.table["flag_resubmission"].sum() > 5
    assert whole.table["text"].str.contains(r"\[NAME_\d+\]").sum() > 10
    assert len(whole.review) > 0
    _same(whole, prepare_export(path, chunksize=chunksize, **KW))


def test_several_exports_with_different_columns(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    make_export(a, 150, seed=2)
    make_export(b, 150, seed=3, extra="ward")
    kw = dict(KW, keep_columns=[])
    whole = prepare_export([a, b, a], **kw)
    _same(whole, prepare_export([a, b, a], chunksize=64, **kw))
    # the third file repeats the first: ids get ~2 and its rows are duplicates
    assert whole.table["response_id"].str.contains("~2").any()


def test_write_prepared_streams_csv_parquet_audit_review(tmp_path):
    path = tmp_path / "export.csv"
    make_export(path, 300, seed=4)
    whole = prepare_export(path, **KW)
    out = tmp_path / "out" / "responses.csv"
    files = write_prepared(iter_prepared(path, chunksize=50, **KW), out,
                           audit=tmp_path / "audit.csv", parquet=tmp_path / "r.parquet",
                           review=tmp_path / "review.csv")
    assert out.read_text(encoding="utf-8") == csv_text(whole.table)
    assert (tmp_path / "audit.csv").read_text(encoding="utf-8") == csv_text(whole.audit)
    review = whole.review.assign(confirm=pd.array([None] * len(whole.review), dtype="str"))
    assert (tmp_path / "review.csv").read_text(encoding="utf-8") == csv_text(review)
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.shape == whole.table.shape
    assert back["response_id"].tolist() == whole.table["response_id"].tolist()
    assert back["text"].fillna("").tolist() == whole.table["text"].fillna("").tolist()
    assert len(files) == 4


def test_write_prepared_leaves_nothing_on_error(tmp_path):
    good = tmp_path / "export.csv"
    make_export(good, 50, seed=5)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"pid,experience\n1,ok\n2,\xff\xfe broken \x00\n")
    out = tmp_path / "out.csv"
    with pytest.raises(InputError):
        write_prepared(iter_prepared([good, bad], chunksize=10, **KW), out,
                       parquet=tmp_path / "o.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "export.csv"]


def test_chunksize_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="chunksize"):
        iter_prepared(tmp_path / "x.csv", chunksize=0)


def test_streamed_review_equals_name_candidates_of_the_table(tmp_path):
    from thematic.deidentify import name_candidates

    path = tmp_path / "export.csv"
    make_export(path, 300, seed=6)
    stream = iter_prepared(path, chunksize=40, **KW)
    tables, reviews = zip(*stream, strict=True)
    table = pd.concat(tables, ignore_index=True)
    review = pd.concat(reviews, ignore_index=True)
    oracle = name_candidates(table, KW["names"], KW["organisations"], ner=False)
    assert len(oracle) > 20
    assert csv_text(review) == csv_text(oracle)
