"""Source and note texts a REFI-QDA project refers to, found without leaving the archive.

A project names each text by a path (``plainTextPath``): ``internal://`` (inside the
archive), ``relative://`` (under the project's ``basePath``), ``absolute://``,
``file://`` or a bare path. ``_Files`` reads only what lies inside the archive (for a
bare ``.qde``: its ``sources/`` folder, any case); anything else is reported missing,
with the reason, unless the user names a folder (``sources_dir``) holding it.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ._xml import _Budget, _is_symlink, _read_file, _read_member


def _ci_file(root: Path, parts: Sequence[str]) -> Path | None:
    """``root/<parts>``, matching each part case-insensitively if need be (no ``..``)."""
    p = root
    if not parts:
        return None
    for part in parts:
        if part in ("", ".", ".."):
            return None
        try:
            if (p / part).exists():
                p = p / part
                continue
            if not p.is_dir():
                return None
            low = part.lower()
            match = next((c for c in sorted(p.iterdir()) if c.name.lower() == low), None)
        except OSError:
            return None
        if match is None:
            return None
        p = match
    return p


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://(.*)$", flags=re.S)


def _is_absolute(rest: str) -> bool:
    return rest.startswith("/") or bool(re.match(r"^[A-Za-z]:(/|$)", rest))


class _Files:
    """Find the text files a project refers to, never outside the archive.

    A ``.qdpx`` is read only from its zip members. For a bare ``.qde`` (an unzipped
    archive) only its ``sources/`` folder (any case) next to it plays the archive's part.
    Paths that leave the archive (``absolute://``, ``file://``, absolute paths,
    ``..``, a ``basePath`` outside) are never opened. The one exception is the folder
    the user names (``sources_dir``): a missing file is looked for there, by its path
    inside the folder and by its file name, and read only if its real path (links and
    ``..`` resolved) is inside that folder.
    """

    def __init__(self, *, path: Path, zf: zipfile.ZipFile | None, base_path: str | None,
                 sources_dir: str | os.PathLike[str] | None, budget: _Budget) -> None:
        self.path = path
        self.zf = zf
        self.budget = budget
        self.folder = path.parent.resolve() if zf is None else None
        self.members = ({i.filename.lower(): i for i in zf.infolist() if not i.is_dir()}
                        if zf is not None else {})
        self.base_path = (base_path or "").replace("\\", "/").strip()
        if sources_dir is not None:
            sd = Path(sources_dir)
            if not sd.is_dir():
                raise InputError("the folder named for missing sources does not exist",
                                 path=sd)
            self.sources_dir: Path | None = sd.resolve()
        else:
            self.sources_dir = None
        self.from_dir: list[str] = []
        media = path.parent / f"{path.stem} Media"  # where ATLAS.ti keeps linked files
        self.media = media if media.is_dir() else None

    def _archive(self, rel: str) -> bytes | None:
        if self.zf is not None:
            info = self.members.get(rel.lower())
            if info is None or _is_symlink(info):
                return None
            return _read_member(self.zf, info, self.path, self.budget)
        parts = rel.split("/")
        if parts[0].lower() != "sources":
            return None
        return self._disk(_ci_file(self.folder, parts), self.folder)

    def _disk(self, p: Path | None, root: Path) -> bytes | None:
        if p is None:
            return None
        try:
            real = p.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(root) or not real.is_file():
            return None
        return _read_file(real, self.budget, what=f"file {p.name!r}")

    def read(self, ref: str) -> tuple[bytes | None, str]:
        """Return ``(data, "")``, or ``(None, why it was not read)``."""
        ref = (ref or "").strip()
        m = _SCHEME_RE.match(ref)
        scheme, rest = (m.group(1).lower(), m.group(2)) if m else ("", ref)
        rest = rest.replace("\\", "/")
        if not rest.strip("/"):
            return None, "no path"
        outside = ""
        rel = None
        if scheme in ("absolute", "file") or (scheme == "" and _is_absolute(rest)):
            outside = "an absolute path, outside the archive"
        elif scheme not in ("", "internal", "relative"):
            outside = f"a {scheme}:// address, outside the archive"
        else:
            rel = posixpath.normpath(rest.lstrip("/"))
            if rel in (".", "..") or rel.startswith("../"):
                outside, rel = "a path leading out of the archive", None
        if rel is not None:
            cands = [f"sources/{rel}", rel] if scheme == "internal" else [rel, f"sources/{rel}"]
            if scheme in ("relative", ""):
                bp = posixpath.normpath(self.base_path.lstrip("./")) if self.base_path else ""
                if bp and not _is_absolute(self.base_path) and bp != "." \
                        and not bp.startswith(".."):
                    cands.insert(0, posixpath.normpath(f"{bp}/{rel}"))
                elif bp and bp != ".":
                    outside = f"under basePath {self.base_path!r}, outside the archive"
            for c in cands:
                data = self._archive(c)
                if data is not None:
                    return data, ""
        if self.sources_dir is not None:
            base = rest.rstrip("/").rsplit("/", 1)[-1]
            tries = ([rel.split("/")] if rel is not None else []) + [[base]]
            for parts in tries:
                data = self._disk(_ci_file(self.sources_dir, parts), self.sources_dir)
                if data is not None:
                    self.from_dir.append(ref)
                    return data, ""
            where = f"not found in {self.sources_dir} either"
        else:
            where = "name a folder holding it with sources_dir (--sources-dir)"
            if self.media is not None:
                where += f", such as {str(self.media)!r} next to the project"
        if outside:
            return None, f"{ref} is {outside} and was not read; {where}"
        return None, f"{ref} is not in the archive; {where}"


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"source text is not UTF-8 at byte {exc.start}", path=where) from None

