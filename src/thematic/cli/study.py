"""Study commands: ``thematic init``, ``check``, ``figures``, ``appendix``.

Every command that reads a study takes ``--project DIR``; by default the study is the
one holding the working directory (or ``THEMATIC_PROJECT_ROOT``).
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["init_cmd", "check_cmd", "figures_cmd", "appendix_cmd", "project_option",
           "open_project"]

_DIR = click.Path(file_okay=False, path_type=Path)


def project_option(f):  # noqa: ANN001, ANN201 - click decorator
    """Add the ``--project DIR`` option every study command shares."""
    return click.option(
        "--project", "project", type=_DIR, default=None,
        help="The study folder (default: the study holding the working directory, or "
             "THEMATIC_PROJECT_ROOT).")(f)


def open_project(project: Path | None):  # noqa: ANN201
    """Open the study named by ``--project`` (or found from the working directory)."""
    from ..project import Project

    return Project.open(project)


def _rel(p: Path, base: Path) -> str:
    try:
        return str(p.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(p)


@click.command("init")
@click.argument("directory", type=_DIR)
@click.option("--title", default=None, help="Title of the study (default: the folder name).")
@click.option("--group-label", default="group", show_default=True,
              help='What the group variable is called ("staff group", "caucus").')
@click.option("--group", "groups", multiple=True,
              help="A group, in the order figures and tables show them (repeat).")
@click.option("--coder", default="researcher", show_default=True,
              help="The study's own coder (writes corpus/coding/codings.csv).")
def init_cmd(directory: Path, title: str | None, group_label: str, groups: tuple[str, ...],
             coder: str) -> None:
    """Create a new study folder DIRECTORY: layout, settings and starter notebooks.

    Refuses to write into an existing study or a folder that is not empty.
    """
    from ..project import Project

    p = Project.create(directory, title=title or directory.resolve().name,
                       group_label=group_label, groups=groups, coder=coder)
    click.echo(f"created study {p.settings.title!r} in {p.root}")
    click.echo("next: thematic clean EXPORT --project " + str(directory))


@click.command("check")
@project_option
def check_cmd(project: Path | None) -> None:
    """Check the codebook, every coder's codings and the memos; exit 1 on any error.

    Every problem is listed. Warnings (re-anchored excerpts, analysable responses not
    yet coded, memos about ids of no version) are printed but do not fail.
    """
    p = open_project(project)
    report = p.check()
    for line in report.lines():
        click.echo(line)
    click.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if report.errors:
        raise click.exceptions.Exit(1)


@click.command("figures")
@project_option
def figures_cmd(project: Path | None) -> None:
    """Redraw the study's figures in figures/ (SVG, PNG at 300 dpi, PDF).

    The thematic map, one map per section, coded responses per theme by group, and the
    context figures the study's settings declare; re-runs give byte-identical files.
    """
    p = open_project(project)
    for f in p.write_figures():
        click.echo(_rel(f, p.root))


@click.command("appendix")
@project_option
def appendix_cmd(project: Path | None) -> None:
    """Write the paper appendix (quotes, codebook, methods) in appendix/."""
    p = open_project(project)
    for f in p.write_appendix():
        click.echo(_rel(f, p.root))
