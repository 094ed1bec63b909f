"""``thematic reproduce``: execute every notebook, then regenerate figures and appendix."""

from __future__ import annotations

from pathlib import Path

import click

from .study import project_option

__all__ = ["reproduce_cmd"]


@click.command("reproduce")
@click.argument("notebooks", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@project_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Notebooks run at the same time (default 2, or 1 on one CPU); the "
                   "numbered ones always run in order.")
def reproduce_cmd(notebooks: tuple[Path, ...], project: Path | None, jobs: int | None) -> None:
    """Execute every notebook of the study (or only NOTEBOOKS), then redraw its outputs.

    Numbered notebooks run in order, in place, with the how-tos beside them; then the
    figures and the appendix are regenerated. Stored outputs are rewritten; a fresh
    clone's run leaves `git status` clean. Embeddings and topic-model fits are cached
    in the study's `.cache/thematic` and reused while their inputs are unchanged.
    """
    from ..reproduce import reproduce

    reproduce(project, notebooks=notebooks or None, echo=lambda s: click.echo(s, err=True),
              jobs=jobs)
