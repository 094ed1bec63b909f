"""``thematic reproduce``: execute every notebook, then regenerate figures and appendix."""

from __future__ import annotations

from pathlib import Path

import click

from .study import project_option

__all__ = ["reproduce_cmd"]


@click.command("reproduce")
@click.argument("notebooks", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@project_option
def reproduce_cmd(notebooks: tuple[Path, ...], project: Path | None) -> None:
    """Execute every notebook of the study (or only NOTEBOOKS), then redraw its outputs.

    Notebooks run in order, in place; then the figures and the appendix are regenerated.
    Stored outputs are rewritten; a fresh clone's run leaves `git status` clean.
    """
    from ..reproduce import reproduce

    reproduce(project, notebooks=notebooks or None, echo=lambda s: click.echo(s, err=True))
