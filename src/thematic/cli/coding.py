"""``thematic check``, ``thematic export-refi``, ``thematic import-refi``.

Run from the project root: paths default to the project's own codebook
(``corpus/coding/codebook.yaml``), codings (``corpus/coding/codings.csv``), responses
(``corpus/processed/responses.csv``) and memos (``corpus/memos/``).
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["check_cmd", "export_refi_cmd", "import_refi_cmd"]

_PATH = click.Path(dir_okay=False, path_type=Path)
_DIR = click.Path(file_okay=False, path_type=Path)


def _defaults(codebook: Path | None, codings: Path | None, responses: Path | None,
              memos: Path | None = None) -> tuple[Path, Path, Path, Path]:
    from ..config import project_paths

    if codebook and codings and responses and memos:
        return codebook, codings, responses, memos
    paths = project_paths()
    return (codebook or paths.codebook, codings or paths.codings,
            responses or paths.responses, memos or paths.memos)


@click.command("check")
@click.option("--codebook", type=_PATH, default=None, help="Codebook YAML (default: project's).")
@click.option("--codings", type=_PATH, default=None, help="Codings CSV (default: project's).")
@click.option("--responses", type=_PATH, default=None,
              help="Responses CSV (default: corpus/processed/responses.csv).")
@click.option("--memos", type=_DIR, default=None, help="Memos folder (default: corpus/memos).")
def check_cmd(codebook: Path | None, codings: Path | None,
              responses: Path | None, memos: Path | None) -> None:
    """Validate the codebook, codings and memos; print every problem; exit 1 on any error.

    Warnings (re-anchorable excerpts, uncoded responses) are printed but do not fail.
    Exits with status 1 (``SystemExit``) when there is any error.
    """
    from ..codebook import load_codebook
    from ..coding import load_codings, load_responses, parse_memo, validate_codings
    from ..errors import ValidationError

    codebook, codings, responses, memos = _defaults(codebook, codings, responses, memos)
    n_errors = 0

    def fail(exc: ValidationError) -> int:
        for p in exc.problems:
            click.echo(f"error: [{p.kind}] {p}")
        return len(exc.problems)

    cb = None
    try:
        cb = load_codebook(codebook)
    except ValidationError as exc:
        n_errors += fail(exc)
    resp = load_responses(responses)
    try:
        cod = load_codings(codings)
    except ValidationError as exc:
        n_errors += fail(exc)
        cod = None
    if cod is not None:
        report = validate_codings(cod, resp, cb, what=str(codings))
        for line in report.lines():
            click.echo(line)
        n_errors += len(report.errors)
        n_warn = len(report.warnings)
    else:
        n_warn = 0
    if memos.is_dir():
        known = (cb.ids() if cb else set()) | set(resp["response_id"])
        for f in sorted(memos.glob("*.md")):
            if f.name.lower() == "readme.md":
                continue
            try:
                m = parse_memo(f.read_text(encoding="utf-8"), f.stem, source=str(f))
            except ValidationError as exc:
                n_errors += fail(exc)
                continue
            for a in m.about:
                if a not in known:
                    click.echo(f"error: [unknown_memo_target] {f}: about {a!r} is not a "
                               "codebook or response id")
                    n_errors += 1
    click.echo(f"{n_errors} error(s), {n_warn} warning(s)")
    if n_errors:
        raise SystemExit(1)


@click.command("export-refi")
@click.argument("out", type=_PATH)
@click.option("--codebook", type=_PATH, default=None, help="Codebook YAML (default: project's).")
@click.option("--codings", type=_PATH, default=None, help="Codings CSV (default: project's).")
@click.option("--responses", type=_PATH, default=None, help="Responses CSV (default: project's).")
@click.option("--memos", type=_DIR, default=None, help="Memos folder (default: corpus/memos).")
@click.option("--name", "project_name", default=None, help="Project name (default: title).")
def export_refi_cmd(out: Path, codebook: Path | None, codings: Path | None,
                    responses: Path | None, memos: Path | None,
                    project_name: str | None) -> None:
    """Export the project as OUT.qdpx, or the codebook alone as OUT.qdc (by extension)."""
    from ..codebook import load_codebook
    from ..coding import load_codings, load_memos, load_responses
    from ..errors import InputError
    from ..refi import export_qdc, export_qdpx

    ext = out.suffix.lower()
    if ext not in {".qdpx", ".qdc"}:
        raise InputError("output must end in .qdpx (project) or .qdc (codebook)", path=out)
    codebook, codings, responses, memos = _defaults(codebook, codings, responses, memos)
    cb = load_codebook(codebook)
    if ext == ".qdc":
        export_qdc(cb, out)
        n = len(cb.to_frame())
        click.echo(f"wrote {out}: {len(cb.sections)} sections, {n} themes/subthemes/codes")
        return
    resp = load_responses(responses)
    cod = load_codings(codings, resp, cb)
    ms = load_memos(memos) if memos.is_dir() else []
    export_qdpx(out, cb, cod, resp, ms, project_name=project_name)
    click.echo(f"wrote {out}: {len(resp)} sources, {len(cod)} codings, "
               f"{len(cb.to_frame()) + len(cb.sections)} codes, {len(ms)} memos")


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
def import_refi_cmd(src: Path, out_dir: Path, bom_counts: bool, crlf_counts: str,
                    missing_sources: str) -> None:
    """Import a REFI-QDA .qdpx, bare .qde project or .qdc written by thematic or another tool."""
    from ..refi import import_refi

    warnings: list = []
    crlf = {"auto": None, "one": False, "two": True}[crlf_counts]  # True: CRLF = 2 code points
    written = import_refi(src, out_dir, bom_counts=bom_counts, crlf_counts=crlf,
                          missing_sources=missing_sources, warnings=warnings)
    for what, p in written.items():
        click.echo(f"{what}: {p}")
    for w in warnings:
        click.echo(f"warning: [{w.kind}] {w}")
