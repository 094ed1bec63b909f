"""Project paths and fixed seeds.

The project (study) root is found by walking up from the current directory to the first
directory holding the study settings file ``thematic.yaml`` (so notebooks, run from
``notebooks/``, and the command line, run from the root, see the same files), or taken
from the ``THEMATIC_PROJECT_ROOT`` environment variable. See :mod:`thematic.project`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RANDOM_STATE", "ProjectPaths", "find_project_root", "project_paths", "resolve_cache_dir"]

#: The seed every random step uses unless the caller passes another ``random_state``.
RANDOM_STATE: int = 20230701

def find_project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the thematic project root.

    Parameters
    ----------
    start : str or os.PathLike, optional
        Directory to start from; defaults to the current working directory.

    Raises
    ------
    FileNotFoundError
        If no directory up the tree holds ``thematic.yaml``.
    """
    env = os.environ.get("THEMATIC_PROJECT_ROOT")
    if env and start is None:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "thematic.yaml").is_file():
            return d
    raise FileNotFoundError(
        f"no thematic study found at or above {here} (looked for thematic.yaml); "
        "pass --project DIR, set THEMATIC_PROJECT_ROOT, or create one with `thematic init`"
    )


@dataclass(frozen=True)
class ProjectPaths:
    """Well-known locations inside a project root."""

    root: Path

    @property
    def corpus(self) -> Path:
        """``corpus/``."""
        return self.root / "corpus"

    @property
    def raw(self) -> Path:
        """``corpus/raw/``: read-only source material."""
        return self.corpus / "raw"

    @property
    def source_document(self) -> Path:
        """The seed slide text in ``corpus/raw/``."""
        return self.raw / "anti-racism-cop-slides.txt"

    @property
    def processed(self) -> Path:
        """``corpus/processed/``: written by code only."""
        return self.corpus / "processed"

    @property
    def responses(self) -> Path:
        """``corpus/processed/responses.csv``."""
        return self.processed / "responses.csv"

    @property
    def context(self) -> Path:
        """``corpus/context/``: context tables."""
        return self.corpus / "context"

    @property
    def coding(self) -> Path:
        """``corpus/coding/``."""
        return self.corpus / "coding"

    @property
    def codebook(self) -> Path:
        """``corpus/coding/codebook.yaml``."""
        return self.coding / "codebook.yaml"

    @property
    def codings(self) -> Path:
        """``corpus/coding/codings.csv``."""
        return self.coding / "codings.csv"

    @property
    def memos(self) -> Path:
        """``corpus/memos/``."""
        return self.corpus / "memos"

    @property
    def figures(self) -> Path:
        """``figures/``."""
        return self.root / "figures"

    @property
    def appendix(self) -> Path:
        """``appendix/``."""
        return self.root / "appendix"

    @property
    def notebooks(self) -> Path:
        """``notebooks/``."""
        return self.root / "notebooks"

    @property
    def cache(self) -> Path:
        """Content-keyed cache (embeddings); ``THEMATIC_CACHE_DIR`` overrides, git-ignored."""
        env = os.environ.get("THEMATIC_CACHE_DIR")
        return Path(env) if env else self.root / ".cache" / "thematic"


def project_paths(root: str | os.PathLike[str] | None = None) -> ProjectPaths:
    """Paths of the project at ``root`` (found with :func:`find_project_root` if omitted)."""
    return ProjectPaths(Path(root).resolve() if root else find_project_root())


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = "auto") -> Path | None:
    """Return the cache directory meant by ``cache_dir``.

    Parameters
    ----------
    cache_dir : str, os.PathLike, "auto" or None
        ``"auto"``: ``THEMATIC_CACHE_DIR`` if set, else the study's ``.cache/thematic``
        (found from the working directory), else ``None`` outside a study. ``None``: no
        cache. A path: that directory.

    Returns
    -------
    pathlib.Path or None
    """
    if cache_dir is None:
        return None
    if isinstance(cache_dir, str) and cache_dir == "auto":
        env = os.environ.get("THEMATIC_CACHE_DIR")
        if env:
            return Path(env)
        try:
            return project_paths(find_project_root()).cache
        except FileNotFoundError:
            return None
    return Path(cache_dir)
