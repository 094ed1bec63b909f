"""``thematic export-refi`` (a study, or its codebook) and ``thematic import-refi``."""

from __future__ import annotations

from pathlib import Path

import click

from .study import open_project, project_option

__all__ = ["write_refi_cmd", "import_refi_cmd"]

_PATH = click.Path(dir_okay=False, path_type=Path)
_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("export-refi")
@click.argument("out", type=_PATH)
@project_option
@click.option("--include-excluded", is_flag=True, default=False,
              help="Also export responses excluded in cleaning (default: analysable only).")
@click.option("--project-name", default=None,
              help="Name of the project in the receiving tool (default: the study's title).")
def write_refi_cmd(out: Path, project: Path | None, include_excluded: bool,
                   project_name: str | None) -> None:
    """Export the study as OUT.qdpx, or its codebook alone as OUT.qdc (by extension).

    NVivo, ATLAS.ti, MAXQDA, QualCoder and Taguette read REFI-QDA; the lines starting
    with 'note:' say what a receiving tool may not read. Codings with errors are not
    exported (run `thematic check`).
    """
    result = open_project(project).write_refi(out, include_excluded=include_excluded,
                                              project_name=project_name)
    click.echo(str(result))


@click.command("import-refi")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=_DIR, required=True,
              help="Folder to write codebook.yaml, codings.csv, responses.csv (and memos/) into.")
@click.option("--bom-counts", is_flag=True, default=False,
              help="The writing tool counted a leading BOM in selection positions.")
@click.option("--crlf-counts", type=click.Choice(["auto", "one", "two"]), default="auto",
              show_default=True,
              help="How many characters the writing tool counted for a CRLF line end: 'one' "
                   "(ATLAS.ti, QualCoder), 'two', or 'auto' (from the file's origin).")
@click.option("--missing-sources", type=click.Choice(["error", "skip"]), default="error",
              show_default=True,
              help="Source texts missing from the project: stop listing them all, or skip them "
                   "with a warning counting the codings lost.")
@click.option("--sources-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None,
              help="Folder holding source texts the project refers to outside the archive "
                   "(absolute:// or relative:// paths, ATLAS.ti's '<project> Media'). Nothing "
                   "outside the archive is read otherwise; files are read only from inside "
                   "this folder.")
def import_refi_cmd(src: Path, out_dir: Path, bom_counts: bool, crlf_counts: str,
                    missing_sources: str, sources_dir: Path | None) -> None:
    """Import a REFI-QDA .qdpx, bare .qde project or .qdc written by thematic or another tool.

    The files are written together or not at all; nothing outside the archive is read
    unless --sources-dir names a folder.
    """
    from ..errors import InputError
    from ..refi import import_refi

    crlf = {"auto": None, "one": False, "two": True}[crlf_counts]  # True: CRLF = 2 code points
    kw = {"sources_dir": sources_dir} if sources_dir is not None else {}
    try:
        result = import_refi(src, out_dir, bom_counts=bom_counts, crlf_counts=crlf,
                             missing_sources=missing_sources, **kw)
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise InputError(f"could not write the import: {exc.strerror or exc}",
                         path=exc.filename or out_dir) from None
    for what, p in result.written.items():
        click.echo(f"{what}: {p}")
    for w in result.warnings:
        click.echo(f"warning: [{w.kind}] {w}")
