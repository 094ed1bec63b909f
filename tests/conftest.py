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


#: Test modules that need an optional extra: topics (torch, sentence-transformers, BERTopic,
#: model2vec) or scale (dask). They run in `make test` (Python 3.11, every extra); the light-core run on
#: Python 3.13 (`make test-py313`) deselects them with `-m "not topics"`.
_TOPIC_MODULES = frozenset({
    "test_topics.py", "test_embeddings.py", "test_compare.py", "test_cli_compare.py",
    "test_scale.py", "test_distributed.py", "test_fitcache.py",
})
#: Single tests elsewhere that fit a topic model.
_TOPIC_TESTS = frozenset({"test_topic_check_of_the_study"})
_BROWSER_MODULES = frozenset({"test_workspace_browser.py"})


def pytest_collection_modifyitems(config, items):
    """Mark tests that need the topic-model extra (``topics``) or a browser (``browser``)."""
    for item in items:
        name = Path(str(item.fspath)).name
        if name in _TOPIC_MODULES or getattr(item, "originalname", item.name) in _TOPIC_TESTS:
            item.add_marker(pytest.mark.topics)
        if name in _BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)
