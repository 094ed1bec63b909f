r"""Atomic, deterministic file writing shared by every stage.

Coding data and regenerated outputs are written to a temporary file in the target
directory and moved into place with :func:`os.replace`, so a crash or an error in the
middle of a write never leaves a partial or truncated file, and the previous version
survives until the new one is complete.

CSV files are written the same way every time: UTF-8 without BOM, ``\n`` line endings,
no index, ``NA`` as an empty cell, floats with a fixed representation.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

__all__ = [
    "atomic_open",
    "atomic_write_text",
    "atomic_write_bytes",
    "write_csv",
    "read_csv",
    "read_utf8",
]


def _file_mode(target: Path) -> int:
    """Mode for the new file: the existing file's, else 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path`` and move it over ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its parent directory is created if missing.
    mode : {"w", "wb"}
        Text or binary mode.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        Write to it; on normal exit it is flushed, fsynced and renamed into place.
        If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    if mode not in {"w", "wb"}:
        raise ValueError(f"atomic_open supports modes 'w' and 'wb', not {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically as UTF-8 with the newlines given.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to ``path`` atomically and byte-deterministically.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write; the index is not written.
    path : str or os.PathLike
        Destination.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with atomic_open(path, "w") as fh:
        df.to_csv(fh, index=False, lineterminator="\n", float_format="%.10g")
    return Path(path)


def read_csv(path: str | os.PathLike[str], **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv` with every column as text.

    Empty cells become missing values (``pd.NA``). Pass ``dtype=`` to override.
    """
    kwargs.setdefault("dtype", "string")
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    return pd.read_csv(path, encoding="utf-8", **kwargs)


def read_utf8(
    path: str | os.PathLike[str], *, what: str = "file", with_line: bool = False
) -> str:
    """Read a UTF-8 text file (a leading BOM is dropped), with errors that name the file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for the "not found" message (``"codebook"``, ...).
    with_line : bool
        Also name the line of an undecodable byte.

    Raises
    ------
    thematic.errors.InputError
        If the file is missing or not UTF-8 (naming the byte offset).
    """
    from .errors import InputError

    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=p) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1 if with_line else None
        hint = "; save it as UTF-8" if with_line else ""
        raise InputError(f"not UTF-8 at byte {exc.start}{hint}", path=p, row=row) from None
