"""``thematic figures``: regenerate every figure that depends only on committed data."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["FIGURE_NAMES", "write_figures", "figures_cmd"]

#: Figures regenerated from committed data (section maps are added per section).
FIGURE_NAMES: tuple[str, ...] = (
    "thematic_map",
    "theme_by_group",
    "wres_indicators",
    "talking_therapies_recovery",
)


def write_figures(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Draw and save every figure that depends only on committed data.

    The thematic map and one map per section (from ``corpus/coding/codebook.yaml``),
    extracts per theme by caucus (codebook, ``codings.csv``, ``responses.csv``) and the
    two context figures (``corpus/context/``), each as SVG, PNG and PDF in ``figures/``.
    The theme x topic heatmap needs the topic model and is drawn by notebook 04.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Project root (found from the working directory if omitted).

    Returns
    -------
    list of pathlib.Path
        Every file written.
    """
    from ..codebook import load_codebook
    from ..coding import load_codings, load_responses, theme_by_group
    from ..config import project_paths
    from ..figures import (
        plot_recovery_by_ethnic_group,
        plot_section_map,
        plot_thematic_map,
        plot_theme_by_group,
        plot_wres_indicators,
        read_context_tables,
        save_figure,
        section_map_name,
    )

    paths = project_paths(root)
    out = paths.figures
    codebook = load_codebook(paths.codebook)
    responses = load_responses(paths.responses)
    codings = load_codings(paths.codings, responses, codebook)
    wres, recovery = read_context_tables(paths.root)

    written: list[Path] = []
    figures = [("thematic_map", lambda: plot_thematic_map(codebook))]
    figures += [(section_map_name(s), lambda s=s: plot_section_map(codebook, s.id))
                for s in codebook.sections]
    figures += [
        ("theme_by_group",
         lambda: plot_theme_by_group(theme_by_group(codings, responses, codebook),
                                     codebook=codebook)),
        ("wres_indicators", lambda: plot_wres_indicators(wres)),
        ("talking_therapies_recovery", lambda: plot_recovery_by_ethnic_group(recovery)),
    ]
    for name, draw in figures:
        written += save_figure(draw(), name, out)
    return written


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

    base = project_paths(root).root
    for p in write_figures(base):
        click.echo(str(p.relative_to(base)) if p.is_relative_to(base) else str(p))
