"""Shared fixtures: the project root and its source document."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    """The project root (a fresh clone's working tree)."""
    return ROOT


@pytest.fixture(scope="session")
def source_text() -> str:
    """The seed slide text, as committed in corpus/raw/."""
    return (ROOT / "corpus" / "raw" / "anti-racism-cop-slides.txt").read_text(encoding="utf-8")
