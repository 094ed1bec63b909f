"""Atomic, deterministic writes."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from thematic.io import atomic_open, atomic_write_text, read_csv, write_csv


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
    with pytest.raises(ValueError), atomic_open(tmp_path / "x", "a"):
        pass
