r"""Safe file reading and writing shared by every stage.

Atomic writes
    Files are written to a hidden temporary file ``.NAME.<pid>.<random>.tmp`` in the
    target directory, flushed, fsynced and moved into place with :func:`os.replace`, so a
    crash or an error in the middle of a write never leaves a partial or truncated file
    and the previous version survives until the new one is complete
    (:func:`atomic_open`, :func:`atomic_write_text`, :func:`atomic_write_bytes`).
    Outputs that belong together (a table and its audit, a codebook and its codings) are
    written all or nothing with :func:`atomic_write_many`.

Leftovers of a crashed write
    A process killed in the middle of a write leaves its temporary file behind. Every
    atomic write of ``NAME`` first removes the leftovers of earlier writes of ``NAME``
    (:func:`remove_stale_temps`): those whose writer (the pid in the file name) is no
    longer running, those without a pid (older versions), and any not modified for
    :data:`STALE_TEMP_SECONDS`. Temporary files of writes still running in this
    process are never touched.

Errors name the file
    An :class:`OSError` raised while writing (full disk, read-only file system, ...)
    without a file name is re-raised with the *target's* name, so the command line can
    say which file could not be written.

Formula-safe CSV
    Every CSV written by :func:`write_csv` (and every sheet written by
    :func:`write_xlsx`) can be opened in a spreadsheet without running anything: a text
    cell (or column name) that a spreadsheet would evaluate — one starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return — is written with a leading
    apostrophe ``'``. To keep round trips exact, a text cell that *already* starts with
    one or more apostrophes followed by one of those characters gets one more
    apostrophe. :func:`read_csv` undoes exactly this: a cell starting with one or more
    apostrophes followed by a trigger character loses its first apostrophe. Any other
    cell, and every number in a numeric column (``-3.5`` stays a number), is written and
    read as is. See :func:`neutralise_cell` / :func:`restore_cell`.

CSV format
    UTF-8 without BOM, ``\n`` line endings, no index, ``NA`` as an empty cell, floats
    with a fixed representation: the same table always gives the same bytes. A cell
    holding a line break or a carriage return is quoted, so it reads back unchanged.

Locks and read-modify-write
    Study data (codings, codebook, memos) edited by several processes (two notebooks, a
    notebook and the command line, two coders on a shared drive) must be changed with
    :func:`read_modify_write` (or :func:`update_csv`): it holds an exclusive
    cross-process lock (:func:`locked`) from the read to the atomic write, so no update
    is lost. The lock is taken on a hidden sibling file ``.NAME.lock`` (not on ``NAME``
    itself, which every atomic write replaces with a new file) and the lock file is
    removed on release. POSIX uses :func:`fcntl.flock`, Windows :func:`msvcrt.locking`.
    Locks are advisory: only writers that take them are kept apart.

Limited YAML
    :func:`read_yaml` / :func:`parse_yaml` read YAML written by people with limits that
    end in a clear :class:`~thematic.errors.InputError`: file size
    (:data:`MAX_YAML_BYTES`), nesting depth (:data:`MAX_YAML_DEPTH`, so a 20,000-deep
    document is not a ``RecursionError``) and number of values once aliases are expanded
    (:data:`MAX_YAML_NODES`, so an alias bomb ends at once instead of filling memory).

UTF-8 only
    Text files are read as UTF-8 (a leading BOM is dropped). A file in another encoding
    (Windows-1252 from Excel, UTF-16) is *not* guessed: offsets in ``codings.csv`` count
    characters of the text, and a wrong guess would silently move them. It ends in an
    :class:`~thematic.errors.InputError` naming the file, the byte offset and the line,
    with a hint when the bytes look like Windows-1252 or UTF-16 (:func:`read_utf8`,
    :func:`read_csv`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import pandas as pd

from .errors import InputError, ThematicError, check_option

__all__ = [
    "atomic_open",
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_many",
    "remove_stale_temps",
    "STALE_TEMP_SECONDS",
    "write_csv",
    "write_xlsx",
    "csv_text",
    "read_csv",
    "read_utf8",
    "FORMULA_TRIGGERS",
    "neutralise_cell",
    "restore_cell",
    "neutralise_formulas",
    "restore_formulas",
    "LockTimeout",
    "lock_path",
    "locked",
    "read_modify_write",
    "update_csv",
    "read_yaml",
    "parse_yaml",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
]

T = TypeVar("T")
PathLike = str | os.PathLike[str]

# =========================================================================== atomic writes

#: A temporary file of an atomic write not modified for this many seconds is a leftover
#: even if the pid in its name belongs to a running process (pids are reused).
STALE_TEMP_SECONDS: float = 10.0

# temporary files this process is writing right now (absolute paths): never removed
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def _file_mode(target: Path) -> int:
    """Mode for the new file: the existing file's, else 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_regex(name: str) -> re.Pattern[str]:
    # .NAME.<pid>.<random>.tmp (this version) or .NAME.<random>.tmp (older versions)
    return re.compile(rf"\.{re.escape(name)}\.(?:(\d+)\.)?[A-Za-z0-9_]+\.tmp")


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (on Windows: unknown, taken as running)."""
    if pid == os.getpid():
        return True
    if pid <= 0 or sys.platform == "win32":  # os.kill(pid, 0) would terminate it on Windows
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_temps(path: PathLike) -> list[Path]:
    """Remove leftovers of interrupted atomic writes of ``path``.

    A hidden file ``.NAME.<pid>.<random>.tmp`` next to ``path`` is a leftover when the
    process ``pid`` is not running, when it belongs to this process but no write of
    this process is using it, or when it has not been modified for
    :data:`STALE_TEMP_SECONDS`. A temporary file without a pid (``.NAME.<random>.tmp``,
    written by older versions) is always a leftover. Called by every atomic write.

    Parameters
    ----------
    path : str or os.PathLike
        The target whose leftovers are removed (other files' leftovers are kept).

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    target = Path(path)
    rx = _temp_regex(target.name)
    parent = target.parent
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    now = time.time()
    me = os.getpid()
    for entry in entries:
        m = rx.fullmatch(entry.name)
        if m is None:
            continue
        full = os.path.abspath(os.path.join(parent, entry.name))
        with _ACTIVE_LOCK:
            if full in _ACTIVE:
                continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        pid = None if m.group(1) is None else int(m.group(1))
        stale = (
            pid is None
            or pid == me  # not in _ACTIVE: left by an earlier failed write of this process
            or not _pid_alive(pid)
            or now - st.st_mtime > STALE_TEMP_SECONDS
        )
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(full)
                removed.append(Path(full))
    return removed


def _make_temp(target: Path) -> tuple[int, str]:
    """Create ``.NAME.<pid>.<random>.tmp`` next to ``target``; registered as active."""
    with _ACTIVE_LOCK:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
        _ACTIVE.add(os.path.abspath(tmp))
    return fd, tmp


def _release_temp(tmp: str, *, remove: bool) -> None:
    if remove:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    with _ACTIVE_LOCK:
        _ACTIVE.discard(os.path.abspath(tmp))


def _named(exc: OSError, target: Path, *temps: str) -> OSError:
    """``exc`` with the target's name when it names no file or only a temporary file."""
    if exc.errno is None:
        return exc
    if exc.filename is not None and os.fspath(exc.filename) not in {*temps}:
        return exc
    named = OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(target))
    named.__cause__ = exc
    return named


def _fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable (best effort; not possible on Windows)."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
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

    Raises
    ------
    OSError
        If the file cannot be written (full disk, read-only file system, no
        permission); an error that names no file is re-raised naming ``path``.

    Notes
    -----
    Leftovers of earlier interrupted writes of ``path`` are removed first
    (:func:`remove_stale_temps`).
    """
    check_option("mode", mode, ("w", "wb"))
    target = Path(path)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        fd, tmp = _make_temp(target)
    except OSError as exc:
        raise _named(exc, target) from exc
    done = False
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
        done = True
    except OSError as exc:
        named = _named(exc, target, tmp)
        if named is exc:
            raise
        raise named from exc
    finally:
        _release_temp(tmp, remove=not done)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically as UTF-8 with the newlines given.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def _as_bytes(data: str | bytes | pd.DataFrame) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, pd.DataFrame):
        return csv_text(data).encode("utf-8")
    raise TypeError(f"cannot write {type(data).__name__}: give str, bytes or a DataFrame")


def _backup(target: Path) -> str:
    """Make a hidden hard link (or copy) of ``target`` to restore it from; registered active."""
    while True:
        name = f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        backup = os.path.join(target.parent, name)
        with _ACTIVE_LOCK:
            try:
                os.link(target, backup)
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system: copy
                shutil.copy2(target, backup)
            _ACTIVE.add(os.path.abspath(backup))
        return backup


def atomic_write_many(contents: Mapping[PathLike, str | bytes | pd.DataFrame]) -> list[Path]:
    """Write several files that belong together: all of them, or none.

    Every file is first written completely to a temporary file next to its target
    (flushed and fsynced); only then are the temporary files moved into place, one by
    one. If anything fails (a full disk while writing the third file, a rename refused),
    every temporary file is removed and every target already replaced gets its
    previous content back (from a hard link kept until the end), or is removed if it
    did not exist before. Use it for outputs read together: a cleaned table and its
    audit, a codebook and its codings.

    Parameters
    ----------
    contents : mapping of path to str, bytes or pandas.DataFrame
        What to write where: text (written as UTF-8), bytes, or a table (written like
        :func:`write_csv`, formula-safe).

    Returns
    -------
    list of pathlib.Path
        The paths written, in the order given.

    Raises
    ------
    ValueError
        If the same file is given twice.
    OSError
        If a file cannot be written, naming it; no target is left changed.

    Notes
    -----
    Each rename is atomic, but the group is not: a reader that looks between two
    renames, or a crash of the machine between them, sees some new and some old files.
    Hold :func:`locked` on the paths if other writers may run at the same time.
    """
    items = [(Path(p), _as_bytes(d)) for p, d in contents.items()]
    seen: set[str] = set()
    for target, _ in items:
        key = os.path.abspath(target)
        if key in seen:
            raise InputError("given twice in one atomic_write_many", path=target)
        seen.add(key)
    temps: list[tuple[Path, str]] = []
    done: list[tuple[Path, str | None]] = []
    current = items[0][0] if items else Path()
    try:
        for target, data in items:
            current = target
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(target)
            fd, tmp = _make_temp(target)
            temps.append((target, tmp))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _file_mode(target))
        for target, tmp in temps:
            current = target
            backup = _backup(target) if os.path.lexists(target) else None
            try:
                os.replace(tmp, target)
            except BaseException:
                if backup is not None:
                    _release_temp(backup, remove=True)
                raise
            done.append((target, backup))
    except BaseException as exc:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is None:
                    os.unlink(target)
                else:
                    os.replace(backup, target)
            if backup is not None:
                _release_temp(backup, remove=True)
        for _, tmp in temps:
            _release_temp(tmp, remove=True)
        if isinstance(exc, OSError):
            named = _named(exc, current, *(t for _, t in temps))
            if named is not exc:
                raise named from exc
        raise
    for _, backup in done:
        if backup is not None:
            _release_temp(backup, remove=True)
    for directory in {t.parent for t, _ in items}:
        _fsync_dir(directory)
    return [t for t, _ in items]


# =========================================================================== formula-safe CSV

#: First characters that make a spreadsheet evaluate a cell (OWASP "CSV injection").
FORMULA_TRIGGERS: str = "=+-@\t\r"
_NEEDS_GUARD = re.compile(r"'*[=+\-@\t\r]")
_GUARDED = re.compile(r"'+[=+\-@\t\r]")
_FIRST = frozenset("'" + FORMULA_TRIGGERS)


def neutralise_cell(value: str) -> str:
    """Text safe to put in a spreadsheet cell: ``'`` before a formula trigger.

    ``value`` gets one leading apostrophe when it starts with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return, or with one or more apostrophes followed by one
    of those (so that :func:`restore_cell` can tell the two apart). Any other text is
    returned unchanged. ``restore_cell(neutralise_cell(s)) == s`` for every string.

    Examples
    --------
    >>> neutralise_cell("=1+1"), neutralise_cell("'=1+1"), neutralise_cell("it's")
    ("'=1+1", "''=1+1", "it's")
    """
    if value[:1] in _FIRST and _NEEDS_GUARD.match(value):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """Undo :func:`neutralise_cell`: drop the first of leading ``'`` before a trigger.

    Examples
    --------
    >>> restore_cell("'=1+1"), restore_cell("''=1+1"), restore_cell("'quoted'")
    ('=1+1', "'=1+1", "'quoted'")
    """
    if value[:1] == "'" and _GUARDED.match(value):
        return value[1:]
    return value


def _is_text_dtype(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _map_text(col: pd.Series, fn: Callable[[str], str]) -> pd.Series | None:
    """``col`` with ``fn`` applied to its string cells, or None if nothing changes."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = list(dtype.categories)
        new = [fn(c) if isinstance(c, str) else c for c in cats]
        return None if new == cats else col.cat.rename_categories(new)
    if not _is_text_dtype(dtype):
        return None
    values = col.tolist()
    changed = False
    out = []
    for v in values:
        if isinstance(v, str) and v[:1] in _FIRST:
            w = fn(v)
            changed = changed or w is not v
            out.append(w)
        else:
            out.append(v)
    if not changed:
        return None
    return pd.Series(out, index=col.index, name=col.name, dtype=dtype)


def _map_frame(df: pd.DataFrame, fn: Callable[[str], str]) -> pd.DataFrame:
    columns = [fn(c) if isinstance(c, str) else c for c in df.columns]
    new_cols = {i: s for i in range(df.shape[1]) if (s := _map_text(df.iloc[:, i], fn)) is not None}
    if not new_cols and columns == list(df.columns):
        return df
    out = df.copy(deep=False)
    for i, s in new_cols.items():
        out.isetitem(i, s)
    if columns != list(df.columns):
        out.columns = pd.Index(columns)
    return out


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name passed through :func:`neutralise_cell`.

    Only text (object, string or categorical) columns change; numbers, booleans, dates
    and missing values are kept as they are. ``df`` itself is not modified (it is
    returned as is if nothing needs a guard).
    """
    return _map_frame(df, neutralise_cell)


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` (text cells and column names)."""
    return _map_frame(df, restore_cell)


def csv_text(df: pd.DataFrame, *, formula_safe: bool = True) -> str:
    """Return the exact text :func:`write_csv` writes for ``df`` (for :func:`atomic_write_many`)."""
    table = neutralise_formulas(df) if formula_safe else df
    buf = io.StringIO()
    # Python's csv writer quotes a field holding a character of the line terminator: with
    # "\n" alone a bare CR in a cell would be left unquoted and read back as a line break.
    # Write with "\r\n" (every CR or LF in a cell quoted), then end records with "\n":
    # outside quotes (even pieces between '"'), "\r\n" can only end a record.
    table.to_csv(buf, index=False, lineterminator="\r\n", float_format="%.10g")
    pieces = buf.getvalue().split('"')
    pieces[0::2] = [p.replace("\r\n", "\n") for p in pieces[0::2]]
    return '"'.join(pieces)


def write_csv(df: pd.DataFrame, path: PathLike, *, formula_safe: bool = True) -> Path:
    """Write ``df`` to ``path`` atomically, byte-deterministically and formula-safe.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write; the index is not written.
    path : str or os.PathLike
        Destination.
    formula_safe : bool
        Guard text cells and column names a spreadsheet would evaluate with a leading
        ``'`` (:func:`neutralise_cell`; undone by :func:`read_csv`). Turn off only for a
        file read by a program that does not undo the guard, never for a file people
        open.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write_text(path, csv_text(df, formula_safe=formula_safe))


def write_xlsx(df: pd.DataFrame, path: PathLike, *, sheet_name: str = "Sheet1") -> Path:
    """Write ``df`` as one sheet of an ``.xlsx`` workbook, atomically, with no formula.

    Every text cell is stored as a string cell (``data_type="s"``), so Excel or
    LibreOffice shows ``=1+1`` as text instead of computing it; numbers stay numbers.
    Missing values are empty cells. Nothing is written if a cell holds a control
    character the format cannot hold (an :class:`~thematic.errors.InputError`).

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write (header row, then one row per table row; no index).
    path : str or os.PathLike
        Destination.
    sheet_name : str
        Name of the sheet.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_name

    def put(row: int, col: int, value: Any) -> None:
        if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                             and pd.isna(value)):
            return
        if isinstance(value, str):
            cell = ws.cell(row=row, column=col)
            cell.value = value
            cell.data_type = "s"  # text, never a formula
        elif isinstance(value, (bool, int, float)):
            ws.cell(row=row, column=col, value=value)
        elif hasattr(value, "item"):  # numpy scalar
            ws.cell(row=row, column=col, value=value.item())
        else:
            cell = ws.cell(row=row, column=col)
            cell.value = str(value)
            cell.data_type = "s"

    from openpyxl.utils.exceptions import IllegalCharacterError

    columns = [str(c) for c in df.columns]
    try:
        for j, name in enumerate(columns, start=1):
            put(1, j, name)
        for i, row in enumerate(df.itertuples(index=False, name=None), start=2):
            for j, value in enumerate(row, start=1):
                put(i, j, value)
    except IllegalCharacterError:
        raise InputError("a cell holds a control character an XLSX file cannot hold "
                         "(write a CSV instead)", path=path, row=ws.max_row,
                         column=columns[ws.max_column - 1] if columns else None) from None
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


# =========================================================================== reading


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _encoding_hint(data: bytes) -> str:
    if data.startswith(_UTF16_BOMS) or (len(data) > 3 and data[1:4:2] == b"\x00\x00"):
        return " (it looks like UTF-16)"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return " (it looks like Windows-1252, e.g. a CSV saved by Excel)"


def _not_utf8(p: Path, data: bytes, start: int, *, with_line: bool = True) -> InputError:
    row = data[:start].count(b"\n") + 1 if with_line else None
    hint = _encoding_hint(data) + "; save it as UTF-8" if with_line else ""
    return InputError(f"not UTF-8 at byte {start}{hint}", path=p, row=row)


def read_utf8(path: PathLike, *, what: str = "file", with_line: bool = False) -> str:
    """Read a UTF-8 text file (a leading BOM is dropped), with errors that name the file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for the "not found" message (``"codebook"``, ...).
    with_line : bool
        Also name the line of an undecodable byte, and what the encoding looks like.

    Raises
    ------
    thematic.errors.InputError
        If the file is missing or not UTF-8 (naming the byte offset).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=p) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(p, data, exc.start, with_line=with_line) from None


def read_csv(path: PathLike, *, formula_safe: bool = True, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv` with every column as text.

    Empty cells become missing values (``pd.NA``). Pass ``dtype=`` to override.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8; a BOM is dropped).
    formula_safe : bool
        Undo the formula guard of :func:`write_csv` in text cells and column names
        (:func:`restore_cell`).
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    thematic.errors.InputError
        If the file is not UTF-8 (naming the byte offset and line), is empty (no header
        row) or is not a well-formed CSV.
    """
    kwargs.setdefault("dtype", "string")
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    p = Path(path)
    try:
        df = pd.read_csv(p, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        data = p.read_bytes()
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _not_utf8(p, data, exc.start) from None
        raise  # pragma: no cover - pandas failed on a file Python decodes
    except pd.errors.EmptyDataError:
        raise InputError("empty file: no header row", path=p) from None
    except pd.errors.ParserError as exc:
        msg = " ".join(str(exc).split())
        raise InputError(f"not a well-formed CSV: {msg}", path=p) from None
    return restore_formulas(df) if formula_safe else df


# =========================================================================== locks


class LockTimeout(ThematicError):
    """Another process held the lock on a file for longer than the timeout."""


_HELD = threading.local()


def lock_path(path: PathLike) -> Path:
    """Return the hidden lock file of ``path``: ``.NAME.lock`` in the same directory."""
    p = Path(path)
    return p.parent / f".{p.name}.lock"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - POSIX test machines
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, InterruptedError):
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _acquire(lp: Path, target: Path, timeout: float | None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.001
    while True:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            while not _try_lock(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{target}: another process has held its lock ({lp.name}) for more than "
                        f"{timeout:g} s; try again when it has finished"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
            if sys.platform == "win32":  # pragma: no cover - lock files are kept there
                return fd
            # the previous holder removes the lock file on release: make sure we hold
            # the lock on the file that is there now, else start again
            try:
                st = os.stat(lp)
            except FileNotFoundError:
                same = False
            else:
                fst = os.fstat(fd)
                same = (st.st_ino, st.st_dev) == (fst.st_ino, fst.st_dev)
            if same:
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


@contextlib.contextmanager
def locked(path: PathLike, timeout: float | None = 60.0) -> Iterator[Path]:
    """Hold an exclusive cross-process lock on ``path`` for the ``with`` block.

    Use it around every read-modify-write of a file other processes may change
    (:func:`read_modify_write` does). The lock is re-entrant within a thread; other
    threads and processes wait for it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to protect (it need not exist). The lock is taken on its hidden sibling
        ``.NAME.lock`` (:func:`lock_path`), created if missing and removed on release
        (on POSIX), because atomic writes replace ``path`` itself with a new file.
    timeout : float or None
        Seconds to wait for another holder before giving up; ``None`` waits for ever.

    Yields
    ------
    pathlib.Path
        ``path``.

    Raises
    ------
    LockTimeout
        If the lock is still held by someone else after ``timeout`` seconds.
    OSError
        If the lock file cannot be created (read-only directory, ...).

    Notes
    -----
    POSIX uses :func:`fcntl.flock` and Windows :func:`msvcrt.locking`. The lock is
    advisory: it keeps apart the writers that take it, not an editor or a spreadsheet
    saving the file. ``flock`` is not reliable on every network file system (NFS
    before Linux 2.6.12, some SMB mounts).

    Examples
    --------
    >>> import thematic
    >>> from thematic.coding import read_codings, write_codings
    >>> study = thematic.examples.load("staff-survey")
    >>> with locked(study.paths.codings) as path:  # no other process changes it meanwhile
    ...     codings = read_codings(path)
    ...     path = write_codings(codings[codings["code"] != "staff-networks"], path)
    >>> len(codings), len(read_codings(study.paths.codings))
    (598, 563)
    """
    target = Path(path)
    lp = lock_path(target)
    key = os.path.abspath(lp)
    counts: dict[str, int] = _HELD.__dict__.setdefault("counts", {})
    if key in counts:
        counts[key] += 1
        try:
            yield target
        finally:
            counts[key] -= 1
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _named(exc, target) from exc
    fd = _acquire(lp, target, timeout)
    counts[key] = 1
    try:
        yield target
    finally:
        del counts[key]
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.unlink(lp)  # still held: waiters notice the file is gone and retry
        try:
            _unlock(fd)
        finally:
            os.close(fd)


def read_modify_write(
    path: PathLike,
    read: Callable[[Path], T],
    write: Callable[[T, Path], object],
    fn: Callable[[T], T],
    *,
    default: Callable[[], T] | None = None,
    timeout: float | None = 60.0,
) -> T:
    """Change a file with no lost update: lock, read, change, write atomically, unlock.

    Two processes that each load ``codings.csv``, add a segment and save it would
    otherwise both read the old file, and the second save would drop the first one's
    segment. Here the lock (:func:`locked`) is held from the read to the end of the
    write, so the second process reads the first one's result.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    read : callable
        ``read(path) -> value`` (e.g. :func:`thematic.coding.read_codings`).
    write : callable
        ``write(value, path)``; must write atomically (every writer of
        :mod:`thematic` does, e.g. :func:`thematic.coding.write_codings`).
    fn : callable
        ``fn(value) -> new value``; must return the new value (not change it in place
        and return ``None``). It runs while the lock is held: keep it short.
    default : callable, optional
        ``default() -> value`` used instead of ``read`` when ``path`` does not exist
        (e.g. :func:`thematic.coding.empty_codings`). Without it, ``read`` is called
        and reports the missing file.
    timeout : float or None
        Seconds to wait for the lock (:func:`locked`).

    Returns
    -------
    object
        The value written.

    Raises
    ------
    LockTimeout
        If another process holds the lock for longer than ``timeout``.
    TypeError
        If ``fn`` returns ``None`` (nothing is written).

    Examples
    --------
    >>> import thematic
    >>> from thematic.coding import empty_codings, read_codings, write_codings
    >>> study = thematic.examples.load("staff-survey")
    >>> kept = read_modify_write(study.paths.codings, read_codings, write_codings,
    ...                          lambda df: df[df["code"] != "staff-networks"],
    ...                          default=empty_codings)
    >>> len(kept), len(read_codings(study.paths.codings))
    (563, 563)
    """
    target = Path(path)
    with locked(target, timeout=timeout):
        value = default() if default is not None and not target.exists() else read(target)
        new = fn(value)
        if new is None:
            raise TypeError("fn returned None: return the changed value (nothing was written)")
        write(new, target)
    return new


def update_csv(
    path: PathLike,
    fn: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    timeout: float | None = 60.0,
) -> pd.DataFrame:
    """:func:`read_modify_write` for a plain CSV (:func:`read_csv` / :func:`write_csv`).

    A missing file is read as an empty table (no columns).

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    return read_modify_write(path, read_csv, write_csv, fn, default=pd.DataFrame,
                             timeout=timeout)


# =========================================================================== limited YAML

#: Largest YAML file :func:`read_yaml` reads (bytes). A codebook is a few dozen KB (the
#: study's is 11 KB; 2,000 codes with long definitions stay under 1 MB). It also bounds
#: the time spent reading (about 1 s with libyaml, several without).
MAX_YAML_BYTES: int = 2_000_000
#: Deepest nesting of lists and mappings accepted (a codebook needs fewer than 20).
MAX_YAML_DEPTH: int = 100
#: Most values (scalars, lists, mappings) in a document once aliases are expanded.
MAX_YAML_NODES: int = 500_000


def _yaml_loader() -> type:
    """Return the fastest safe loader available (libyaml's when PyYAML has it)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_yaml_limits(text: str, max_depth: int, max_nodes: int, path: PathLike | None) -> None:
    """Walk the parser's events (no objects built) and stop at the first limit exceeded.

    Counts the nesting depth of collections, and the number of values each collection
    holds once aliases are expanded (an alias counts as the whole value it names).
    """
    import yaml

    stack: list[list[int]] = []  # one [expanded size] per open collection
    anchors: list[str | None] = []
    sizes: dict[str, int] = {}  # anchor -> expanded size of the finished value
    total = 0

    def fail(problem: str, mark: Any) -> InputError:
        row = mark.line + 1 if mark is not None else None
        return InputError(f"not valid YAML: {problem}", path=path, row=row)

    def add(n: int, mark: Any) -> None:
        nonlocal total
        if stack:
            stack[-1][0] += n
            big = stack[-1][0] > max_nodes
        else:
            total += n
            big = total > max_nodes
        if big:
            raise fail(f"more than {max_nodes:,} values once aliases are expanded (limit "
                       "thematic.io.MAX_YAML_NODES; an alias bomb?)", mark)

    for ev in yaml.parse(text, Loader=_yaml_loader()):
        if isinstance(ev, yaml.CollectionStartEvent):
            if len(stack) >= max_depth:
                raise fail(f"nested deeper than {max_depth} levels (limit "
                           "thematic.io.MAX_YAML_DEPTH)", ev.start_mark)
            stack.append([1])
            anchors.append(ev.anchor)
        elif isinstance(ev, yaml.CollectionEndEvent):
            (size,) = stack.pop()
            anchor = anchors.pop()
            if anchor is not None:
                sizes[anchor] = size
            add(size, ev.start_mark)
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
            add(1, ev.start_mark)
        elif isinstance(ev, yaml.AliasEvent):
            if ev.anchor in anchors:
                raise fail(f"alias *{ev.anchor} refers to a collection that contains it",
                           ev.start_mark)
            add(sizes.get(ev.anchor, 1), ev.start_mark)  # an unknown alias: the loader says
        elif isinstance(ev, yaml.DocumentStartEvent):
            sizes.clear()
            total = 0


def parse_yaml(
    text: str,
    *,
    path: PathLike | None = None,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> Any:
    """Parse YAML text safely (plain data only) within limits.

    The parser's events are checked first (depth, values after alias expansion), so a
    hostile document is refused before any object is built; then the document is loaded
    with PyYAML's safe loader (libyaml's when available).

    Parameters
    ----------
    text : str
        The YAML document.
    path : str or os.PathLike, optional
        The file it comes from, for error messages.
    max_depth : int
        Deepest nesting of lists and mappings (:data:`MAX_YAML_DEPTH`).
    max_nodes : int
        Most values once aliases are expanded (:data:`MAX_YAML_NODES`).

    Returns
    -------
    object
        The data (``None`` for an empty document).

    Raises
    ------
    thematic.errors.InputError
        If the text is not YAML or exceeds a limit, naming the file and line.
    """
    import yaml

    try:
        _check_yaml_limits(text, max_depth, max_nodes, path)
        return yaml.load(text, Loader=_yaml_loader())  # a safe loader: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", path=path, row=row) from None
    except RecursionError:  # e.g. a long chain of merge keys (<<: *a) in the constructor
        raise InputError(f"not valid YAML: nested too deeply (limit {max_depth})",
                         path=path) from None


def read_yaml(
    path: PathLike,
    *,
    what: str = "YAML file",
    max_bytes: int = MAX_YAML_BYTES,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> Any:
    """Read a UTF-8 YAML file safely within limits (see :func:`parse_yaml`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages (``"codebook"``).
    max_bytes : int
        Largest file accepted (:data:`MAX_YAML_BYTES`).
    max_depth, max_nodes : int
        See :func:`parse_yaml`.

    Returns
    -------
    object

    Raises
    ------
    thematic.errors.InputError
        If the file is missing, too large, not UTF-8, not YAML, or exceeds a limit.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=p) from None
    if size > max_bytes:
        raise InputError(f"{what} is {size:,} bytes, more than the limit of {max_bytes:,} "
                         "(thematic.io.MAX_YAML_BYTES)", path=p)
    text = read_utf8(p, what=what, with_line=True)
    return parse_yaml(text, path=p, max_depth=max_depth, max_nodes=max_nodes)
