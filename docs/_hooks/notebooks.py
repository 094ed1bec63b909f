"""MkDocs hook: publish the repository's notebooks (``notebooks/*.ipynb``) under ``notebooks/``.

The notebooks live outside ``docs/``; this hook adds them to the site's files so that
mkdocs-jupyter renders them from their STORED outputs (``execute: false`` in ``mkdocs.yml``).
Nothing is executed and nothing is copied into ``docs/``. It runs before mkdocs-jupyter's own
``on_files`` (higher priority) so the plugin sees the notebooks.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

#: Folder of the notebooks, relative to the folder holding mkdocs.yml.
NOTEBOOKS = "notebooks"


@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every ``notebooks/*.ipynb`` of the repository to the site's files."""
    root = Path(config.config_file_path).resolve().parent
    for path in sorted((root / NOTEBOOKS).glob("*.ipynb")):
        uri = f"{NOTEBOOKS}/{path.name}"
        if files.get_file_from_path(uri) is None:
            files.append(File(uri, src_dir=str(root), dest_dir=config.site_dir,
                              use_directory_urls=config.use_directory_urls))
    return files
