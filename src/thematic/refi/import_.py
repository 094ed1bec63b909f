"""REFI-QDA import into a study's files: ``codebook.yaml``, ``codings.csv``, memos...

:func:`import_refi` reads a ``.qdpx``, a bare ``.qde`` or a ``.qdc`` (the zip signature,
then the XML root decides which) with :mod:`thematic.refi.read`, and writes what it
holds all together or not at all (``_write_together``): the files are written into a
temporary folder next to the output folder and moved in only when all are complete; if
a move fails, the files moved are taken back and the previous versions restored. It
returns a :class:`RefiImport`: the files written and what the import adapted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codebook import write_codebook
from ..coding import write_codings, write_memo
from ..errors import InputError, Problem
from ..io import write_csv
from ._codebook import _qdc_from_root
from ._xml import _Budget, _parse_xml, _read_file, _refi_root
from .read import _qde_from_root, read_qdpx

__all__ = ["RefiImport", "import_refi"]


@dataclass(frozen=True)
class RefiImport:
    """What :func:`import_refi` wrote.

    Attributes
    ----------
    written : dict of str to pathlib.Path
        The files written: ``codebook``, and for a project ``codings``, ``responses``
        and (if there are memos) ``memos`` (a folder).
    warnings : list of Problem
        What the import adapted (ids made from GUIDs, code sets not imported, sources
        skipped...), as :attr:`~thematic.refi.RefiProject.warnings`.
    """

    written: dict[str, Path]
    warnings: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        head = "wrote " + ", ".join(f"{k}: {p}" for k, p in self.written.items())
        return "\n".join([head, *(f"warning: {w}" for w in self.warnings)])

_STAGE_RE = re.compile(r"^\.(?P<name>.+)\.import-(?P<pid>\d+)-[^.]+\.tmp$")


def _remove_stale_stages(out: Path) -> None:
    """Remove staging folders left by an import into ``out`` whose process has died."""
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return
    for p in entries:
        m = _STAGE_RE.match(p.name)
        if not m or m.group("name") != out.name or not p.is_dir() or p.is_symlink():
            continue
        try:
            os.kill(int(m.group("pid")), 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (PermissionError, OverflowError, ValueError):
            continue


def _write_together(out: Path, write: Callable[[Path], dict[str, Path]]) -> dict[str, Path]:
    """Write files that belong together into ``out``: all of them, or none.

    ``write`` writes everything into a temporary folder next to ``out``; only when it
    has finished are the files moved into ``out`` (the folder itself is renamed when
    ``out`` does not exist yet). If a move fails, the files already moved are taken back
    and the previous versions restored. The temporary folder is always removed, and
    those left by a crashed import are removed by the next one.
    """
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_stages(out)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.import-{os.getpid()}-", suffix=".tmp",
                                  dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)
        staged = write(stage)
        rel = {k: p.relative_to(stage) for k, p in staged.items()}
        files = sorted(p for p in stage.rglob("*") if p.is_file())
        if not out.exists() and not out.is_symlink():
            os.rename(stage, out)
        else:
            if not out.is_dir():
                raise InputError("output folder is a file", path=out)
            _move_into(stage, out, files)
        return {k: out / r for k, r in rel.items()}
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_into(stage: Path, out: Path, files: list[Path]) -> None:
    """Move staged files into ``out``, all or none: on failure, put the old files back."""
    backup = stage / ".previous"
    moved: list[tuple[Path, Path | None]] = []
    try:
        for src in files:
            rel = src.relative_to(stage)
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            bk = None
            if dest.exists() or dest.is_symlink():
                bk = backup / rel
                bk.parent.mkdir(parents=True, exist_ok=True)
                os.replace(dest, bk)
            moved.append((dest, bk))
            os.replace(src, dest)
    except BaseException:
        for dest, bk in reversed(moved):
            with contextlib.suppress(OSError):
                if bk is not None:
                    os.replace(bk, dest)
                else:
                    dest.unlink(missing_ok=True)
        raise


def import_refi(path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                bom_counts: bool = False, crlf_counts: bool | None = None,
                missing_sources: str = "error",
                sources_dir: str | os.PathLike[str] | None = None) -> RefiImport:
    """Import a ``.qdpx``, bare ``.qde`` or ``.qdc`` into ``codebook.yaml``, ``codings.csv``...

    Nothing outside the archive is read unless the user names ``sources_dir``, nothing
    read is evaluated (no entities resolved, YAML read as data without aliases), and
    the files are written all together or not at all.

    Parameters
    ----------
    path : str or os.PathLike
        A zip is a ``.qdpx``; otherwise the XML root decides: ``Project`` (a bare
        ``.qde``, :func:`~thematic.refi.read_qde`) or ``CodeBook`` (a ``.qdc``), whatever
        the extension.
    out_dir : str or os.PathLike
        Folder to write into (created); memos go to ``out_dir/memos/``. The files are
        first written to a temporary folder next to it and moved in only when all are
        complete, so a failure leaves ``out_dir`` as it was (no codebook without its
        codings).
    bom_counts, crlf_counts, missing_sources
        See :func:`~thematic.refi.read_qdpx`.
    sources_dir : str or os.PathLike, optional
        A folder holding source or note texts the project refers to outside the archive
        (``absolute://``, ``relative://`` under a ``basePath``, ATLAS.ti's
        ``"<project> Media"`` folder...). Without it nothing outside the archive is ever
        read: such sources are missing (see ``missing_sources``). With it, a missing
        file is looked for in this folder (by its path, then by its file name) and read
        only if its real path (links and ``..`` resolved) is inside the folder.

    Returns
    -------
    RefiImport
        ``written``: the files written (``codebook``, and for a project ``codings``,
        ``responses``, ``memos``); ``warnings``: what the import adapted.

    Raises
    ------
    InputError
        If the file is missing, neither a zip nor XML, XML of another kind, or exceeds a
        limit (:mod:`thematic.refi.limits`: ``MAX_MEMBER_BYTES``, ``MAX_TOTAL_BYTES``,
        ``MAX_COMPRESSION_RATIO``, ``MAX_ARCHIVE_MEMBERS``, ``MAX_XML_DEPTH``,
        ``MAX_XML_ELEMENTS``, ``MAX_CODE_DEPTH``).
    ValidationError
        See :func:`~thematic.refi.read_qdpx`.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> exported = study.write_refi(study.root / "staff-survey.qdpx")
    >>> imported = thematic.import_refi(exported.path, study.root / "imported")
    >>> sorted(p.name for p in (study.root / "imported").iterdir())
    ['codebook.yaml', 'codings.csv', 'responses.csv']
    """
    path, out = Path(path), Path(out_dir)
    if not path.is_file():
        raise InputError("file not found", path=path)
    with open(path, "rb") as fh:
        is_zip = fh.read(2) == b"PK"
    opts: dict[str, Any] = {"bom_counts": bom_counts, "crlf_counts": crlf_counts,
                            "missing_sources": missing_sources, "sources_dir": sources_dir}
    if is_zip:
        proj = read_qdpx(path, **opts)
    else:
        budget = _Budget()
        root = _parse_xml(_read_file(path, budget, what="file"), path)
        if _refi_root(root, path) == "CodeBook":
            cb, found = _qdc_from_root(root, path)
            return RefiImport(_write_together(out, lambda d: {
                "codebook": write_codebook(cb, d / "codebook.yaml")}), found)
        proj = _qde_from_root(root, path, budget=budget, **opts)

    def write(d: Path) -> dict[str, Path]:
        written = {"codebook": write_codebook(proj.codebook, d / "codebook.yaml"),
                   "codings": write_codings(proj.codings, d / "codings.csv"),
                   "responses": write_csv(proj.responses, d / "responses.csv")}
        if proj.memos:
            for m in proj.memos:
                write_memo(m, d / "memos")
            written["memos"] = d / "memos"
        return written

    return RefiImport(_write_together(out, write), list(proj.warnings))


