"""Atomic, deterministic writes."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pandas as pd
import pytest

from thematic.errors import InputError
from thematic.io import (
    STALE_TEMP_SECONDS,
    atomic_open,
    atomic_write_many,
    atomic_write_text,
    read_csv,
    remove_stale_temps,
    write_csv,
)


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "codings.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("new partial")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["codings.csv"]


def test_new_file_gets_normal_permissions(tmp_path):
    p = atomic_write_text(tmp_path / "sub" / "x.txt", "hi")
    assert p.read_text() == "hi"
    mode = stat.S_IMODE(p.stat().st_mode)
    assert mode & 0o044 == 0o044  # readable by group and others, like a normal write


def test_existing_mode_is_kept(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("a")
    p.chmod(0o600)
    atomic_write_text(p, "b")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_write_csv_is_deterministic_and_round_trips(tmp_path):
    df = pd.DataFrame({"a": ["x", None, "é\nz"], "b": [1.0, 2.5, 1 / 3]})
    write_csv(df, tmp_path / "one.csv")
    write_csv(df, tmp_path / "two.csv")
    data = (tmp_path / "one.csv").read_bytes()
    assert data == (tmp_path / "two.csv").read_bytes()
    assert b"\r\n" not in data and not data.startswith(b"\xef\xbb\xbf")
    back = read_csv(tmp_path / "one.csv")
    assert back["a"].tolist()[0] == "x" and pd.isna(back["a"][1]) and back["a"][2] == "é\nz"


def test_bad_mode_rejected(tmp_path):
    with pytest.raises(InputError, match="mode must be one of .w., .wb., not .a."), atomic_open(tmp_path / "x", "a"):
        pass


# --------------------------------------------------------------------------- errors name the file


def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_names_the_target_and_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "codings.csv"
    target.write_text("old\n")
    monkeypatch.setattr(os, "fsync", _no_space)
    with pytest.raises(OSError) as exc:
        atomic_write_text(target, "new")
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(target)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["codings.csv"]


def test_read_only_file_system_names_the_target(tmp_path, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as exc:
        write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv")
    assert exc.value.errno == errno.EROFS and exc.value.filename == str(tmp_path / "out.csv")


# --------------------------------------------------------------------------- leftovers


def test_temp_file_name_holds_the_writer_pid(tmp_path):
    with atomic_open(tmp_path / "x.csv") as fh:
        fh.write("a")
        (tmp,) = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert tmp.startswith(f".x.csv.{os.getpid()}.")


def test_leftover_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "codings.csv"
    target.write_text("response_id\nR1\n")
    code = (
        "import os, signal, sys\n"
        "from thematic.io import atomic_open\n"
        "with atomic_open(sys.argv[1]) as fh:\n"
        "    fh.write('response_id\\nR1\\nR2 partial'); fh.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)])
    assert proc.wait(timeout=60) == -signal.SIGKILL
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".codings.csv.{proc.pid}.")
    assert target.read_text() == "response_id\nR1\n"  # the old file survived
    write_csv(pd.DataFrame({"response_id": ["R1", "R2"]}), target)
    assert os.listdir(tmp_path) == ["codings.csv"]


def _touch(path, age: float = 0.0) -> None:
    path.write_text("partial")
    t = time.time() - age
    os.utime(path, (t, t))


def test_stale_temp_rules(tmp_path):
    target = tmp_path / "c.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    live_pid = os.getppid()  # our parent is running
    files = {
        "dead": tmp_path / f".c.csv.{dead_pid}.abcd1234.tmp",
        "legacy": tmp_path / ".c.csv.k3j4h5g6.tmp",  # no pid (older versions)
        "live_fresh": tmp_path / f".c.csv.{live_pid}.abcd1234.tmp",
        "live_old": tmp_path / f".c.csv.{live_pid}.zzzz9999.tmp",
        "other_target": tmp_path / f".c.csv.bak.{dead_pid}.abcd1234.tmp",
        "not_a_temp": tmp_path / ".c.csv.lock",
    }
    for name, p in files.items():
        _touch(p, age=STALE_TEMP_SECONDS * 3 if name == "live_old" else 0.0)
    removed = {p.name for p in remove_stale_temps(target)}
    assert removed == {files[k].name for k in ("dead", "legacy", "live_old")}
    left = set(os.listdir(tmp_path))
    assert left == {files[k].name for k in ("live_fresh", "other_target", "not_a_temp")}


def test_write_in_progress_in_this_process_is_not_removed(tmp_path):
    target = tmp_path / "c.csv"
    with atomic_open(target) as fh:
        fh.write("a")
        assert remove_stale_temps(target) == []
        atomic_write_text(target, "other writer")  # a second write of the same target
    assert target.read_text() == "a"
    assert os.listdir(tmp_path) == ["c.csv"]


# --------------------------------------------------------------------------- all or nothing


def test_atomic_write_many_writes_everything(tmp_path):
    df = pd.DataFrame({"text": ["=1+1"], "n": [1]})
    paths = atomic_write_many({tmp_path / "a.txt": "alpha", tmp_path / "sub" / "b.bin": b"\x00\x01",
                               tmp_path / "t.csv": df})
    assert [p.name for p in paths] == ["a.txt", "b.bin", "t.csv"]
    assert (tmp_path / "a.txt").read_text() == "alpha"
    assert (tmp_path / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "t.csv").read_text() == "text,n\n'=1+1,1\n"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "sub", "t.csv"]


def test_atomic_write_many_fails_while_writing_leaves_everything(tmp_path, monkeypatch):
    a, b = tmp_path / "audit.csv", tmp_path / "clean.csv"
    a.write_text("old audit")
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            _no_space()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError) as exc:
        atomic_write_many({a: "new audit", b: "new table"})
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(b)
    assert a.read_text() == "old audit" and not b.exists()
    assert os.listdir(tmp_path) == ["audit.csv"]


def test_atomic_write_many_failed_rename_restores_the_first_files(tmp_path, monkeypatch):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    a.write_text("old a")
    c.write_text("old c")
    real_replace = os.replace

    def replace(src, dst):
        if os.fspath(dst) == str(c):  # the third rename fails
            raise OSError(errno.EXDEV, "Invalid cross-device link", os.fspath(src), os.fspath(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="cross-device") as exc:
        atomic_write_many({a: "new a", b: "new b", c: "new c"})
    assert exc.value.filename == str(c)
    assert a.read_text() == "old a" and not b.exists() and c.read_text() == "old c"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "c.txt"]


def test_atomic_write_many_rejects_a_file_given_twice(tmp_path):
    with pytest.raises(InputError, match="twice"):
        atomic_write_many({str(tmp_path / "a"): "1", f"{tmp_path}/sub/../a": "2"})
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- reading


def test_read_csv_in_windows_1252_names_byte_and_line(tmp_path):
    p = tmp_path / "codings.csv"
    p.write_bytes("a,b\nx,y\n“quoted”,z\n".encode("cp1252"))
    with pytest.raises(InputError) as exc:
        read_csv(p)
    msg = str(exc.value)
    assert str(p) in msg and "byte 8" in msg and exc.value.row == 3 and "Windows-1252" in msg


def test_read_csv_utf16_is_named(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        read_csv(p)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_read_csv_empty_file_is_an_input_error(tmp_path, data):
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    with pytest.raises(InputError, match="empty file") as exc:
        read_csv(p)
    assert exc.value.path == str(p)


def test_read_csv_bom_is_dropped(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert list(read_csv(p).columns) == ["a", "b"]
