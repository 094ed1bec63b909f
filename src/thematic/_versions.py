"""Versions of the software an analysis ran with (for notebooks and the methods text)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["versions", "show_versions"]

_PACKAGES = (
    "thematic",
    "pandas",
    "numpy",
    "spacy",
    "scikit-learn",
    "bertopic",
    "sentence-transformers",
    "torch",
    "umap-learn",
    "hdbscan",
    "matplotlib",
    "networkx",
)


def versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Return ``{name: version}`` for Python and the given packages (``"not installed"``)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def show_versions() -> None:
    """Print Python and package versions, one per line (first cell of every notebook)."""
    for name, version in versions().items():
        print(f"{name:>22}: {version}")
    print(f"{'platform':>22}: {sys.platform}")
