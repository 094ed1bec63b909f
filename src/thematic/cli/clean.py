"""``thematic clean``: survey export -> cleaned, de-identified tidy CSV (+ audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from ..deidentify import read_salt, read_term_list
from ..errors import InputError
from ..ingest import FORMATS
from ..io import atomic_write_many, write_csv
from ..survey import OUTPUT_FIRST_COLUMNS

__all__ = ["clean_cmd", "OUTPUT_FIRST_COLUMNS"]


def _run(run: Any, exports: tuple[Path, ...], text_columns: list[str] | None,
         **kwargs: Any) -> Any:
    """Run ``run(exports, ...)``, splitting a comma-separated --text-columns value.

    The value is split and tried again only if it is not itself a column (a header that
    holds a comma wins).
    """
    try:
        return run(exports, text_columns=text_columns, **kwargs)
    except InputError as exc:
        if text_columns and exc.column in text_columns and "," in (exc.column or ""):
            split = [p.strip() for c in text_columns
                     for p in (c.split(",") if c == exc.column else [c])]
            return _run(run, exports, [p for p in split if p], **kwargs)
        raise


@click.command("clean")
@click.argument("exports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cleaned, de-identified CSV to write (only when every step succeeded).",
)
@click.option(
    "--project",
    "project",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Import into this study instead: corpus/processed/responses.csv and audit.csv "
    "(written together; undo with Project.undo()).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Export layout; csv/xlsx mean a plain table with columns named below.",
)
@click.option(
    "--text-columns",
    multiple=True,
    help="Open-text column (header or question text); repeat, or separate with commas.",
)
@click.option("--group-column", help="Column holding the group (e.g. staff group).")
@click.option("--id-column", help="Column holding the respondent id.")
@click.option("--session-column", help="Column holding the session.")
@click.option("--sheet", help="Worksheet of an XLSX export (name or 0-based number).")
@click.option("--encoding", help="Text encoding of a CSV export (default: detected).")
@click.option(
    "--names",
    "names_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Names to mask: one per line, # comments.",
)
@click.option(
    "--organisations",
    "orgs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Organisations to mask: one per line, # comments.",
)
@click.option(
    "--audit",
    "audit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the audit of every change and exclusion here (no plaintext).",
)
@click.option(
    "--pseudonyms", is_flag=True, help="Number names/organisations consistently ([NAME_1])."
)
@click.option(
    "--keep-column",
    "keep_columns",
    multiple=True,
    help="Keep this export column in the output (de-identified if text); repeat. "
    "By default only the tidy columns are kept.",
)
@click.option(
    "--salt-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Secret salt of the id pseudonyms and audit digests, kept OUTSIDE the repository "
    "(created if missing). Default: $THEMATIC_SALT, else a one-off random salt.",
)
@click.option(
    "--review",
    "review_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review list of possible unlisted names here (holds plaintext: keep "
    "it with the raw exports); confirm names into --names and run again.",
)
@click.option(
    "--include-unfinished",
    is_flag=True,
    help="Keep unfinished (Qualtrics) responses in the analysis (still flagged).",
)
@click.option(
    "--chunksize",
    type=click.IntRange(min=1),
    default=None,
    help="Stream the exports in blocks of this many responses (bounded memory; the "
    "output is identical). Implied by --workers/--scheduler/--parquet.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run on a local Dask cluster of N worker processes (dask[distributed]); the "
    "output is identical to a single-process run.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Run on the Dask cluster at this scheduler address (tcp://host:8786).",
)
@click.option(
    "--parquet",
    "parquet_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the table as Parquet (pyarrow) here.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars (default: on when the error stream is a terminal).",
)
def clean_cmd(
    exports: tuple[Path, ...],
    output: Path | None,
    project: Path | None,
    fmt: str,
    text_columns: tuple[str, ...],
    group_column: str | None,
    id_column: str | None,
    session_column: str | None,
    sheet: str | None,
    encoding: str | None,
    names_file: Path | None,
    orgs_file: Path | None,
    audit_path: Path | None,
    pseudonyms: bool,
    keep_columns: tuple[str, ...],
    salt_file: Path | None,
    review_path: Path | None,
    include_unfinished: bool,
    chunksize: int | None,
    workers: int | None,
    scheduler: str | None,
    parquet_path: Path | None,
    progress: bool | None,
) -> None:
    """Read survey EXPORT(s), clean and de-identify them, and write a tidy CSV.

    The output keeps every response (flagged rows have exclude=True and a reason), holds
    only de-identified text in `text` (and in question labels), and keeps only the tidy
    columns and those named with --keep-column: every other export column (names, staff
    numbers, wards, contact fields, panel ids...) is dropped and audited. Respondent and
    response ids become salted HMAC pseudonyms; id pseudonyms and audit digests use the
    salt in --salt-file, else $THEMATIC_SALT, else a one-off random salt.
    """
    import contextlib
    import sys

    from ..survey import DEFAULT_CHUNKSIZE, iter_prepared, prepare_export, write_prepared

    if progress is None:
        progress = sys.stderr.isatty()
    streaming = any(x is not None for x in (chunksize, workers, scheduler, parquet_path))
    if output is None and project is None:
        raise click.UsageError("give -o OUT.csv, or --project DIR to import into a study")
    if output is not None:
        for p in exports:
            if output.resolve() == p.resolve():
                raise InputError(
                    "the output would overwrite the export; choose another -o path", path=output
                )
    names = read_term_list(names_file) if names_file else []
    orgs = read_term_list(orgs_file) if orgs_file else []
    sheet_arg: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    salt = read_salt(salt_file, create=True) if salt_file else None
    kwargs = dict(
        names=names, organisations=orgs, format=fmt,
        group_column=group_column, id_column=id_column, session_column=session_column,
        sheet=sheet_arg, encoding=encoding, keep_columns=keep_columns, pseudonyms=pseudonyms,
        salt=salt, include_unfinished=include_unfinished,
    )
    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")
    if parquet_path is not None and project is not None:
        raise click.UsageError("--parquet needs -o OUT.csv")
    if streaming and project is None:
        from ..distributed import dask_client

        ctx = (dask_client(workers=workers, scheduler=scheduler)
               if workers is not None or scheduler is not None else contextlib.nullcontext())
        with ctx as client:
            def run_stream(exports: Any, **kw: Any) -> Any:
                stream = iter_prepared(exports, **kw)
                return stream, write_prepared(stream, output, audit=audit_path,
                                              parquet=parquet_path, review=review_path)

            stream, written = _run(run_stream, exports, list(text_columns) or None,
                                   chunksize=chunksize or DEFAULT_CHUNKSIZE, client=client,
                                   progress=progress, **kwargs)
        for line in stream.summary().splitlines():
            click.echo(line, err=line.startswith("note: "))
        click.echo(f"wrote {output} ({stream.n_rows} rows)"
                   + "".join(f", {p}" for p in written[1:]))
        if review_path is None and stream.n_review:
            click.echo("write the review list with --review FILE")
        return
    if project is not None:
        from .study import open_project

        study = open_project(project)
        prepared = _run(study.import_export, exports, list(text_columns) or None, **kwargs)
        written = [study.paths.responses, study.audit_file]
    else:
        prepared = _run(prepare_export, exports, list(text_columns) or None, **kwargs)
        files: dict[Path, pd.DataFrame] = {output: prepared.table}
        if audit_path is not None:
            files[audit_path] = prepared.audit
        atomic_write_many(files)  # the table and its audit together, or neither
        written = list(files)
    if review_path is not None:
        review = prepared.review
        write_csv(review.assign(confirm=pd.array([None] * len(review), dtype="str")),
                  review_path)
    for line in prepared.summary().splitlines():
        if line.startswith("note: "):
            click.echo(line, err=True)
        else:
            click.echo(line)
    click.echo("wrote " + ", ".join(f"{p} ({len(d)} rows)" for p, d in zip(
        written, (prepared.table, prepared.audit), strict=False)))
    if review_path is not None:
        click.echo(f"wrote {review_path}: confirm names into --names and run again")
    elif len(prepared.review):
        click.echo("write the review list with --review FILE")
