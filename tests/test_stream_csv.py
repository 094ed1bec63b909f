"""Streaming ingest: text exports read in two passes give the whole-file result (SYNTHETIC)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from thematic import ingest
from thematic.errors import InputError
from thematic.ingest import ExportChunks, read_export, read_exports
from thematic.io import csv_text

SENT = [
    "The facilitators held the silence well and nobody was rushed.",
    "I felt listened to which does not often happen at work.",
    "Hearing other people's stories made it easier to say mine.",
    "It was uncomfortable at first and then it was useful.",
]


@pytest.fixture
def tiny_buffers(monkeypatch):
    """Force chunk and batch boundaries everywhere: 7-byte reads, 3-record batches."""
    monkeypatch.setattr(ingest, "_BYTES_CHUNK", 7)
    monkeypatch.setattr(ingest, "_RECORD_BATCH", 3)


def _blocks_equal_whole(path, chunksizes=(1, 2, 3, 5, 1000), **kw) -> pd.DataFrame:
    whole = read_exports([path], **kw)
    for cs in chunksizes:
        chunks = ExportChunks([path], cs, **kw)
        df = pd.concat(list(chunks), ignore_index=True)
        assert csv_text(df) == csv_text(whole.responses), cs
        assert list(df.dtypes) == list(whole.responses.dtypes)
        assert csv_text(chunks.audit) == csv_text(whole.audit)
    return whole.responses


def _write(path, text: str, encoding: str = "utf-8") -> None:
    path.write_bytes(text.encode(encoding))


def test_quoted_newlines_crlf_and_repeated_ids_across_blocks(tmp_path, tiny_buffers):
    rows = ["pid,group,comment,learning"]
    for i in range(12):
        pid = f"P{i % 5}"  # P0..P4 repeat: ~2, ~3 across block boundaries
        rows.append(f'{pid},A,"{SENT[i % 4]}\r\nsecond line {i}","{SENT[(i + 1) % 4]}"')
    path = tmp_path / "multi.csv"
    _write(path, "\r\n".join(rows) + "\r\n")
    df = _blocks_equal_whole(path, id_column="pid", text_columns=["comment", "learning"])
    assert len(df) == 24
    assert df["response_id"].is_unique
    # P0 answers in rows 2, 7 and 12 of the file: its third copy is ~3
    assert df.loc[df["source_row"] == 12, "response_id"].tolist() == [
        "P0:comment~3",
        "P0:learning~3",
    ]
    comments = df.loc[df["question_id"] == "comment", "text_raw"]
    assert comments.str.contains("\r\nsecond line").all() and len(comments) == 12


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8-sig", "utf-8-sig (byte-order mark)"),
        ("utf-16", "utf-16 (byte-order mark)"),
        ("utf-16-le", "utf-16-le (UTF-16 without BOM (NUL-byte pattern))"),
        ("cp1252", "cp1252"),
    ],
)
def test_encodings_stream_as_read_whole(tmp_path, tiny_buffers, encoding, expected):
    rows = ["pid;comment"] + [f"P{i};Caf\u00e9 r\u00e9sum\u00e9 na\u00efve: {SENT[i % 4]}"
                              for i in range(9)]
    path = tmp_path / f"{encoding}.csv"
    _write(path, "\n".join(rows) + "\n", encoding)
    df = _blocks_equal_whole(path, text_columns=["comment"])
    assert df["text_raw"].str.startswith("Caf\u00e9 r\u00e9sum\u00e9").all()
    _, audit = read_export(path, text_columns=["comment"])
    decode = audit.loc[audit["action"] == "decode", "detail"].tolist()
    assert len(decode) == 1 and decode[0].startswith(expected)
    assert audit.loc[audit["reason"] == "delimiter", "detail"].tolist() == [";"]


def test_pseudonymised_ids_numbered_over_the_whole_export(tmp_path, tiny_buffers):
    mails = ["a@x.org", "B@x.org", "b@x.org", "c@x.org", "A@X.org", "d@x.org"]
    rows = ["email id,comment"] + [f"{m},{SENT[i % 4]}" for i, m in enumerate(mails)]
    path = tmp_path / "mail.csv"
    _write(path, "\n".join(rows) + "\n")
    df = _blocks_equal_whole(path, id_column="email id", text_columns=["comment"])
    # first-appearance order, case-insensitive: a, b, c, d
    assert df["respondent_id"].tolist() == [
        "respondent-1", "respondent-2", "respondent-2", "respondent-3", "respondent-1",
        "respondent-4",
    ]
    assert df["response_id"].tolist()[2] == "respondent-2:comment~2"
    assert df["response_id"].tolist()[4] == "respondent-1:comment~2"


def test_plain_id_column_must_be_unique_over_all_rows(tmp_path, tiny_buffers):
    rows = ["id,comment"] + [f"R{i},{SENT[i % 4]}" for i in range(8)] + [f"R3,{SENT[0]}"]
    path = tmp_path / "ids.csv"
    _write(path, "\n".join(rows) + "\n")
    df = _blocks_equal_whole(path, text_columns=["comment"])
    # R3 repeats in the last row: "id" is not an id column, rows are numbered
    assert df["respondent_id"].tolist()[:2] == ["row-2", "row-3"]
    rows[-1] = f"R9,{SENT[0]}"
    _write(path, "\n".join(rows) + "\n")
    df = _blocks_equal_whole(path, text_columns=["comment"])
    assert df["respondent_id"].tolist()[:2] == ["R0", "R1"]


def test_blank_rows_sessions_and_dates_decided_over_all_rows(tmp_path, tiny_buffers):
    rows = ["Timestamp,What did you learn?"]
    for i in range(10):
        # only the last timestamp has a day above 12: the order is day/month throughout
        day = 25 if i == 9 else 3
        rows.append(f"{day:02d}/04/2024 10:00:00,{SENT[i % 4]}")
        if i % 4 == 0:
            rows.append(",")
    path = tmp_path / "google.csv"
    _write(path, "\n".join(rows) + "\n")
    df = _blocks_equal_whole(path, text_columns=["What did you learn?"])
    assert df["session"].tolist()[0] == "2024-04-03"
    assert df["session"].tolist()[-1] == "2024-04-25"
    _, audit = read_export(path, text_columns=["What did you learn?"])
    assert (audit["action"] == "skip_row").sum() == 3


def test_malformed_csv_after_the_first_blocks_names_file_and_row(tmp_path, tiny_buffers):
    rows = ["pid,comment"] + [f"P{i},{SENT[i % 4]}" for i in range(20)]
    rows.append('P99,"never closed')
    path = tmp_path / "late.csv"
    _write(path, "\n".join(rows) + "\n")
    for read in (lambda: read_export(path, text_columns=["comment"]),
                 lambda: list(ExportChunks([path], 2, text_columns=["comment"]))):
        with pytest.raises(InputError, match="malformed CSV|unclosed") as exc:
            read()
        assert exc.value.row == 22
        assert exc.value.path.endswith("late.csv")


def test_ragged_row_late_in_the_file_names_its_row(tmp_path, tiny_buffers):
    rows = ["pid,comment"] + [f"P{i},{SENT[i % 4]}" for i in range(30)]
    rows[25] = "P24,one,two"
    path = tmp_path / "ragged.csv"
    _write(path, "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="ragged row") as exc:
        list(ExportChunks([path], 4, text_columns=["comment"]))
    assert exc.value.row == 26


def test_invalid_utf8_past_the_first_chunk_names_offset_and_row(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "_BYTES_CHUNK", 64)
    body = "pid,comment\n" + "".join(f"P{i},caf\u00e9 {SENT[i % 4]}\n" for i in range(10))
    data = body.encode("utf-8") + b"P10,bad \xff byte\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match="mixed encodings") as exc:
        list(ExportChunks([path], 3, text_columns=["comment"]))
    assert exc.value.row == 12
    assert f"offset {len(body.encode('utf-8')) + 8}" in str(exc.value)


def test_nul_byte_late_in_a_text_export_names_its_row(tmp_path, tiny_buffers):
    body = "pid,comment\n" + "".join(f"P{i},{SENT[i % 4]}\n" for i in range(10))
    path = tmp_path / "nul.csv"
    path.write_bytes(body.encode() + b"P10,a\x00b\n")
    with pytest.raises(InputError, match="NUL") as exc:
        read_export(path, text_columns=["comment"])
    assert exc.value.row == 12


def test_csv_row_limit_is_its_own(tmp_path, monkeypatch):
    rows = ["pid,comment"] + [f"P{i},{SENT[i % 4]}" for i in range(40)]
    path = tmp_path / "long.csv"
    _write(path, "\n".join(rows) + "\n")
    monkeypatch.setattr(ingest, "MAX_ROWS", 10)  # the workbook limit: not for text exports
    assert len(read_export(path, text_columns=["comment"]).responses) == 40
    monkeypatch.setattr(ingest, "MAX_CSV_ROWS", 30)
    with pytest.raises(InputError, match="MAX_CSV_ROWS") as exc:
        list(ExportChunks([path], 5, text_columns=["comment"]))
    assert exc.value.row == 31


def test_unique_ids_across_exports_match_a_set(tmp_path):
    rng = random.Random(3)
    used = ingest._UniqueIds()
    seen: set[str] = set()
    for _ in range(6):
        ids = [f"R{rng.randrange(30)}:q" + rng.choice(["", "~2", "~3"]) for _ in range(25)]
        ids = list(dict.fromkeys(ids))  # unique within one export, as read_export makes them
        expected = []
        for rid in ids:
            new, k = rid, 1
            while new in seen:
                k += 1
                new = f"{rid}~{k}"
            seen.add(new)
            expected.append(new)
        assert used.take(ids) == expected
    assert len(seen) > 60


def test_compact_index_decides_as_the_duplicate_index():
    from thematic.clean import DuplicateIndex, _CleanPart, _digest_key
    from thematic.survey import _CompactIndex

    rng = random.Random(7)
    kinds: set[int] = set()
    for trial in range(30):
        respondents, questions, subs = [], [], []
        for k in range(rng.randrange(1, 50)):  # submissions: one row per question answered
            r = rng.choice([None, "P1", "P2", "P3", f"P{rng.randrange(40)}"])
            sub = (rng.choice(["a.csv", "b.csv"]), k)
            for q in rng.sample(["q1", "q2", "q3"], rng.randrange(1, 4)):
                respondents.append(r)
                questions.append(q)
                subs.append(sub)
        n = len(respondents)
        texts = [rng.choice(["", "", "a b c d e f g h i", "short one", "x y z w v u t s r q",
                             "same words here for eight or more", "n"]) for _ in range(n)]
        ids = [f"{r}:{q}~{i}" for i, (r, q) in enumerate(zip(respondents, questions, strict=True))]
        dkeys = [_digest_key(t) if t else "" for t in texts]
        nwords = [len(t.split()) for t in texts]
        parts = []
        cut = rng.randrange(n + 1)
        for lo, hi in ((0, cut), (cut, n)):
            sl = slice(lo, hi)
            parts.append(_CleanPart([], [], [], [], ids[sl], respondents[sl], questions[sl],
                                    dkeys[sl], nwords[sl], subs[sl]))
        ref = DuplicateIndex()
        compact = _CompactIndex(b"salt")
        for p in parts:
            ref.add(p)
            compact.add(p)
        dup, resub, detail = ref.flags()
        c_dup, c_resub, c_ref, c_kind = compact.flags()
        assert c_dup.tolist() == dup, trial
        assert c_resub.tolist() == resub, trial
        assert compact.detail(c_ref, c_kind, 0, n) == detail, trial
        kinds.update(c_kind.tolist())
    assert kinds == {0, 1, 2, 3}  # duplicates, resubmissions and whole submissions were met


def test_compact_strings_round_trip():
    from thematic.survey import _Strings

    items = ["", "P-1:q1", "caf\u00e9", "\U0001f600 emoji", "x" * 300]
    s = _Strings(items)
    assert len(s) == 5
    assert list(s) == items
    assert s[1:4] == items[1:4]
    assert s[-1] == items[-1]
