"""Hostile inputs and concurrent writers at the file boundary (SYNTHETIC files only).

Formula-safe CSV/XLSX, no lost update under concurrent read-modify-write, limits of the
YAML reader, non-UTF-8 and degenerate codings/memos, and one-line CLI errors for
system errors (full disk, read-only file system).
"""

from __future__ import annotations

import csv
import errno
import io
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thematic.cli import main
from thematic.codebook import read_codebook
from thematic.coding import CODINGS_COLUMNS, empty_codings, read_codings, read_memos, write_codings
from thematic.errors import InputError, ValidationError
from thematic.io import (
    FORMULA_TRIGGERS,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    LockTimeout,
    csv_text,
    lock_path,
    locked,
    neutralise_cell,
    parse_yaml,
    read_csv,
    read_modify_write,
    restore_cell,
    update_csv,
    write_csv,
    write_xlsx,
)

EXAMPLES = Path(__file__).parents[1] / "corpus" / "examples"


def _cells(text: str) -> list[str]:
    """Every cell (header included) of a CSV text, as a spreadsheet would split it."""
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


# --------------------------------------------------------------------------- formula injection

HOSTILE = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1", "=HYPERLINK(\"http://x\")",
           "'=1+1", "''=1+1", "'quoted'", "it's", "'", "-", "", "plain", "a=b", "'\t"]


def test_every_trigger_is_guarded_and_restored():
    for s in HOSTILE:
        guarded = neutralise_cell(s)
        assert not guarded[:1] or guarded[0] not in FORMULA_TRIGGERS
        assert restore_cell(guarded) == s
    assert neutralise_cell("=1+1") == "'=1+1"
    assert neutralise_cell("'=1+1") == "''=1+1"  # an apostrophe the text really has
    assert neutralise_cell("it's") == "it's" and neutralise_cell("'quoted'") == "'quoted'"


def test_write_csv_guards_text_but_keeps_numbers(tmp_path):
    df = pd.DataFrame({"=cmd": HOSTILE, "n": range(-1, len(HOSTILE) - 1),
                       "x": [-0.5] * len(HOSTILE)})
    p = write_csv(df, tmp_path / "t.csv")
    raw = p.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == ["'=cmd", "n", "x"]
    assert [r[0] for r in rows[1:5]] == ["'=1+1", "'+1", "'-1+2", "'@SUM(A1)"]
    assert [r[1] for r in rows[1:3]] == ["-1", "0"] and rows[1][2] == "-0.5"  # numbers stay
    back = read_csv(p)
    assert list(back.columns) == ["=cmd", "n", "x"]
    assert back["=cmd"].fillna("").tolist() == HOSTILE
    assert pd.to_numeric(back["n"]).tolist() == df["n"].tolist()


def test_write_csv_does_not_change_the_callers_frame(tmp_path):
    df = pd.DataFrame({"text": ["=1+1"]})
    write_csv(df, tmp_path / "t.csv")
    assert df["text"].tolist() == ["=1+1"]


def test_object_and_categorical_columns_are_guarded(tmp_path):
    df = pd.DataFrame({"o": pd.Series([-3, "=x", None], dtype=object),
                       "c": pd.Categorical(["@a", "b", "@a"])})
    text = csv_text(df)
    assert text == "o,c\n-3,'@a\n'=x,b\n,'@a\n"
    assert write_csv(df, tmp_path / "t.csv").read_text(encoding="utf-8") == text
    back = read_csv(tmp_path / "t.csv")
    assert back["o"].tolist()[:2] == ["-3", "=x"] and back["c"].tolist() == ["@a", "b", "@a"]


_text = st.text(alphabet=st.sampled_from(list("=+-@\t\r'a ,\"\n;é")), max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_text, _text), min_size=1, max_size=6), _text)
def test_round_trip_is_identity_and_no_cell_can_run(rows, header):
    df = pd.DataFrame(rows, columns=["a", "b" + header])
    with tempfile.TemporaryDirectory() as d:
        p = write_csv(df, Path(d) / "t.csv")
        raw = p.read_text(encoding="utf-8")
        back = read_csv(p)
    for cell in _cells(raw):
        assert not cell or cell[0] not in FORMULA_TRIGGERS, cell
    assert list(back.columns) == list(df.columns)
    # an empty cell is read as missing (documented); everything else comes back exactly
    assert back.fillna("").astype(str).values.tolist() == df.values.tolist()


def test_write_xlsx_stores_text_never_formulas(tmp_path):
    import openpyxl

    df = pd.DataFrame({"text": ["=1+1", "@SUM(A1)", "plain", None], "n": [-1, 2, 3, 4]})
    p = write_xlsx(df, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(p).active
    assert [c.value for c in ws[1]] == ["text", "n"]
    assert [ws.cell(row=i, column=1).value for i in range(2, 5)] == ["=1+1", "@SUM(A1)", "plain"]
    assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(2, 5))
    assert ws.cell(row=5, column=1).value is None
    assert ws.cell(row=2, column=2).value == -1 and ws.cell(row=2, column=2).data_type == "n"


def test_write_xlsx_control_character_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="control character") as exc:
        write_xlsx(pd.DataFrame({"text": ["ok", "bad\x01"]}), tmp_path / "t.xlsx")
    assert exc.value.row == 3 and exc.value.column == "text"
    assert list(tmp_path.iterdir()) == []


def test_clean_cli_output_has_no_formula_cell(tmp_path, capsys, monkeypatch):
    """Cleaning strips the tab of "\\t=1+1"; the writer must still guard the result."""
    monkeypatch.setenv("THEMATIC_SALT", "test-salt")
    export = tmp_path / "export.csv"
    answers = ["\t=1+1", "=SUM(1,2)*cmd|' /C calc'!A0", "+ a plus first",
               "-2+3 is how it felt", "\r\r=1", "an ordinary answer about the caucus"]
    pd.DataFrame({"pid": [f"P{i}" for i in range(len(answers))],
                  "caucus": ["White Caucus"] * len(answers),
                  "comment": answers}).pipe(write_csv, export, formula_safe=False)
    out, audit = tmp_path / "out.csv", tmp_path / "audit.csv"
    code = main(["clean", str(export), "-o", str(out), "--audit", str(audit),
                 "--text-columns", "comment", "--group-column", "caucus"])
    err = capsys.readouterr().err
    assert code == 0, err
    for path in (out, audit):
        for cell in _cells(path.read_text(encoding="utf-8")):
            assert not cell or cell[0] not in FORMULA_TRIGGERS, (path.name, cell)
    texts = read_csv(out)["text"].fillna("").tolist()
    assert texts[0] == "=1+1"  # the tab was stripped by cleaning; read back as the text
    assert texts[1:4] == answers[1:4] and texts[4] == "=1"


# --------------------------------------------------------------------------- lost updates


def _segment(i: int, worker: int) -> pd.DataFrame:
    return pd.DataFrame({"response_id": [f"R{worker}"], "code": [f"C{worker}-{i}"],
                         "start": [i], "end": [i + 1], "excerpt": ["x"],
                         "coder": [f"coder{worker}"], "memo": [pd.NA]})


def _add_segments(path: str, worker: int, n: int) -> None:
    for i in range(n):
        read_modify_write(path, read_codings, write_codings,
                          lambda df, i=i: pd.concat([df, _segment(i, worker)], ignore_index=True),
                          default=empty_codings, timeout=120)


def test_concurrent_load_add_save_loses_no_update(tmp_path):
    path = tmp_path / "codings.csv"
    write_codings(empty_codings(), path)
    workers, n = 4, 25
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    procs = [ctx.Process(target=_add_segments, args=(str(path), w, n)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * workers
    df = read_codings(path)
    assert len(df) == workers * n
    assert set(df["code"]) == {f"C{w}-{i}" for w in range(workers) for i in range(n)}
    assert sorted(os.listdir(tmp_path)) == ["codings.csv"]  # no lock or temp file left


def test_lock_times_out_while_another_holder_has_it(tmp_path):
    target = tmp_path / "codings.csv"
    held, release = threading.Event(), threading.Event()

    def holder():
        with locked(target):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        assert lock_path(target).exists()
        t0 = time.monotonic()
        with pytest.raises(LockTimeout, match="codings.csv"), locked(target, timeout=0.2):
            pass
        assert time.monotonic() - t0 < 5
    finally:
        release.set()
        t.join()
    with locked(target, timeout=1), locked(target, timeout=1):  # re-entrant in one thread
        assert lock_path(target).exists()
    assert not lock_path(target).exists()


def test_read_modify_write_refuses_fn_returning_none(tmp_path):
    p = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": ["1"]}), p)
    before = p.read_bytes()
    with pytest.raises(TypeError, match="None"):
        update_csv(p, lambda df: None)
    assert p.read_bytes() == before


def test_update_csv_creates_and_changes(tmp_path):
    p = tmp_path / "t.csv"
    update_csv(p, lambda df: pd.DataFrame({"a": ["=x"]}))
    update_csv(p, lambda df: pd.concat([df, pd.DataFrame({"a": ["y"]})], ignore_index=True))
    assert read_csv(p)["a"].tolist() == ["=x", "y"]


# --------------------------------------------------------------------------- YAML limits


def _codebook(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "codebook.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_yaml_alias_bomb_ends_fast(tmp_path):
    lines = ['a0: ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    lines[0] = "a0: &a0 " + lines[0][4:]
    p = _codebook(tmp_path, "version: x\n" + "\n".join(lines) + "\n")
    t0 = time.monotonic()
    with pytest.raises(InputError, match="alias") as exc:
        read_codebook(p)
    assert time.monotonic() - t0 < 2
    assert exc.value.path == str(p) and exc.value.row is not None


@pytest.mark.parametrize("kind", ["flow", "block"])
def test_yaml_20000_deep_is_an_input_error(tmp_path, kind):
    depth = 20_000
    if kind == "flow":
        text = "sections: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "sections:\n" + "- " * depth + "x\n"  # compact block sequences
    p = _codebook(tmp_path, text)
    t0 = time.monotonic()
    with pytest.raises(InputError, match=f"deeper than {MAX_YAML_DEPTH}") as exc:
        read_codebook(p)
    assert time.monotonic() - t0 < 5
    assert exc.value.row is not None


def test_yaml_recursive_alias_is_an_input_error():
    with pytest.raises(InputError, match="contains it"):
        parse_yaml("a: &x [1, *x]\n")


def test_yaml_within_limits_keeps_aliases():
    assert parse_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    deep = "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1)
    assert parse_yaml(deep) is not None


def test_codebook_larger_than_the_limit(tmp_path):
    p = tmp_path / "codebook.yaml"
    with p.open("w", encoding="utf-8") as fh:
        fh.write("# padding\n" * (MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(InputError, match="limit") as exc:
        read_codebook(p)
    assert exc.value.path == str(p)


def test_memo_front_matter_alias_bomb(tmp_path):
    bomb = ["x0: &x0 [a,a,a,a,a,a,a,a,a,a]"]
    bomb += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 10)]
    (tmp_path / "2026-01-01-m.md").write_text(
        "---\ndate: '2026-01-01'\nauthor: A\n" + "\n".join(bomb) + "\n---\nbody\n",
        encoding="utf-8")
    t0 = time.monotonic()
    with pytest.raises(ValidationError, match="2026-01-01-m.md"):
        read_memos(tmp_path)
    assert time.monotonic() - t0 < 2


# --------------------------------------------------------------------------- codings and memos


HEADER = ",".join(CODINGS_COLUMNS)


def test_codings_in_windows_1252_name_file_byte_and_line(tmp_path):
    p = tmp_path / "codings.csv"
    p.write_bytes(f"{HEADER}\nR1,A,0,3,abc,ana,\nR2,A,0,3,café,ana,\n".encode("cp1252"))
    with pytest.raises(InputError) as exc:
        read_codings(p)
    msg = str(exc.value)
    offset = p.read_bytes().index(b"\xe9")
    assert str(p) in msg and f"byte {offset}" in msg and "row 3" in msg and "UTF-8" in msg


def test_memo_in_windows_1252_is_named(tmp_path):
    p = tmp_path / "2026-01-01-memo.md"
    p.write_bytes("---\ndate: '2026-01-01'\nauthor: Ana\n---\n\nA caf\u00e9 note.\n"
                  .encode("cp1252"))
    with pytest.raises(ValidationError) as exc:
        read_memos(tmp_path)
    assert str(p) in str(exc.value) and "row 6" in str(exc.value)
    assert "not UTF-8" in str(exc.value)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n"])
def test_empty_codings_file_is_an_empty_table(tmp_path, data):
    p = tmp_path / "codings.csv"
    p.write_bytes(data)
    df = read_codings(p)
    assert len(df) == 0 and list(df.columns) == CODINGS_COLUMNS
    assert str(df["start"].dtype) == "Int64"


def test_400_digit_offset_names_row_and_column(tmp_path):
    p = tmp_path / "codings.csv"
    p.write_text(f"{HEADER}\nR1,A,0,3,abc,ana,\nR1,B,{'9' * 400},3,abc,ana,\n"
                 f"R1,C,1,{'0' * 30}12,abc,ana,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        read_codings(p)
    msg = str(exc.value)
    assert "-9223372036854775808" not in msg and len(msg) < 1000
    assert "row 3" in msg and "'start'" in msg and "too large" in msg
    assert len(exc.value.problems) == 1  # leading zeros are fine: 12 is a small offset


def test_non_ascii_digits_are_not_offsets(tmp_path):
    p = tmp_path / "codings.csv"
    p.write_text(f"{HEADER}\nR1,A,\u0663,5,abc,ana,\n", encoding="utf-8")  # Arabic-Indic 3
    with pytest.raises(ValidationError, match="row 2"):
        read_codings(p)


# --------------------------------------------------------------------------- CLI system errors


def _clean_args(tmp_path: Path) -> list[str]:
    return ["clean", str(EXAMPLES / "synthetic-msforms-export.xlsx"), "-o",
            str(tmp_path / "out.csv"), "--audit", str(tmp_path / "audit.csv")]


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "No space left on device"),
                                             (errno.EROFS, "Read-only file system")])
def test_full_or_read_only_disk_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch,
                                                            code, words):
    monkeypatch.setenv("THEMATIC_SALT", "test-salt")

    def fail(*_args, **_kwargs):
        raise OSError(code, words)  # as the system raises it: no file name

    monkeypatch.setattr(os, "fsync", fail)
    status = main(_clean_args(tmp_path))
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("thematic: error: ")
    assert words in err and ("out.csv" in err or "audit.csv" in err)
    assert not any(n.endswith(".tmp") for n in os.listdir(tmp_path))


@pytest.mark.parametrize("exc", [
    OSError(errno.EACCES, "Permission denied", "/data/codings.csv"),
    UnicodeDecodeError("utf-8", b"\x93", 0, 1, "invalid start byte"),
    MemoryError(),
    RecursionError("maximum recursion depth exceeded"),
])
def test_main_turns_system_errors_into_one_line(tmp_path, capsys, monkeypatch, exc):
    import thematic.clean as clean_mod

    def boom(*_args, **_kwargs):
        raise exc

    monkeypatch.setattr(clean_mod, "clean_responses", boom)
    status = main(_clean_args(tmp_path))
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and err.startswith("thematic: error: ")
    if isinstance(exc, OSError):
        assert "/data/codings.csv: Permission denied" in err
    if isinstance(exc, UnicodeDecodeError):
        assert "UTF-8" in err
    if isinstance(exc, MemoryError):
        assert "memory" in err


def test_yaml_limits_hold_with_the_pure_python_parser(monkeypatch):
    import yaml

    import thematic.io as tio

    monkeypatch.setattr(tio, "_yaml_loader", lambda: yaml.SafeLoader)
    bomb = ["a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
    bomb += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    t0 = time.monotonic()
    with pytest.raises(InputError, match="alias"):
        parse_yaml("\n".join(bomb))
    with pytest.raises(InputError, match="deeper"):
        parse_yaml("[" * 20_000 + "]" * 20_000)
    assert time.monotonic() - t0 < 5
    assert parse_yaml("a: &x {b: 1}\nc: *x\n") == {"a": {"b": 1}, "c": {"b": 1}}
