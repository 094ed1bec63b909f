"""``thematic reproduce``: execute every notebook, then regenerate figures and appendix."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["reproduce_cmd"]


@click.command("reproduce")
@click.argument("notebooks", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: found from the working directory).")
def reproduce_cmd(notebooks: tuple[Path, ...], root: Path | None) -> None:
    """Execute every notebook in order (or only NOTEBOOKS), in place, then regenerate the appendix.

    Stored outputs are rewritten; a fresh clone's run leaves `git status` clean.
    """
    from ..reproduce import reproduce

    reproduce(root, notebooks=notebooks or None, echo=lambda s: click.echo(s, err=True))
