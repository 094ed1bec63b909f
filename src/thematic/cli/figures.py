"""``thematic figures``: regenerate every figure that depends only on committed data."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["figures_cmd"]

@click.command("figures")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: found from the working directory).")
def figures_cmd(root: Path | None) -> None:
    """Regenerate every figure in figures/ that depends only on committed data.

    Writes SVG, PNG (300 dpi) and PDF of the thematic map, one map per section,
    extracts per theme by caucus, the WRES indicators and the Talking Therapies
    recovery rates; re-runs give byte-identical files. The theme x topic heatmap needs
    the topic model: notebook 04 draws it (run `thematic reproduce`).
    """
    from ..config import project_paths
    from ..figures import write_figures

    base = project_paths(root).root
    for p in write_figures(base):
        click.echo(str(p.relative_to(base)) if p.is_relative_to(base) else str(p))
