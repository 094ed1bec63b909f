"""``thematic build-corpus``: derive the corpus tables from the source document."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["build_corpus_cmd"]


@click.command("build-corpus")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: found from the working directory).")
def build_corpus_cmd(root: Path | None) -> None:
    """Derive corpus/processed/responses.csv and corpus/context/*.csv from corpus/raw/."""
    from ..sources import build_corpus

    tables = build_corpus(root)
    for name, df in tables.items():
        click.echo(f"{name}: {len(df)} rows")
