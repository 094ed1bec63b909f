"""``thematic clean``: survey export -> cleaned, de-identified tidy CSV (+ audit)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import click
import pandas as pd

from ..clean import FLAG_COLUMNS, clean_responses
from ..deidentify import ENGINES, deidentify, drop_identifying_columns, read_term_list
from ..errors import InputError
from ..ingest import FORMATS, ingest_audit, read_exports
from ..io import write_csv
from ..schemas import validate

__all__ = ["clean_cmd", "OUTPUT_FIRST_COLUMNS"]

#: Leading columns of the output CSV (flags, exclusion and kept metadata follow).
OUTPUT_FIRST_COLUMNS: tuple[str, ...] = (
    "response_id",
    "respondent_id",
    "question",
    "question_id",
    "group",
    "session",
    "text",
)

_SALT_ENV = "THEMATIC_SALT"


def _read(
    exports: tuple[Path, ...], text_columns: list[str] | None, **kwargs: object
) -> pd.DataFrame:
    """Read the exports; a comma-separated --text-columns value is split if not a column."""
    try:
        return read_exports(exports, text_columns=text_columns, **kwargs)
    except InputError as exc:
        if text_columns and exc.column in text_columns and "," in (exc.column or ""):
            split = [
                p.strip() for c in text_columns for p in (c.split(",") if c == exc.column else [c])
            ]
            return _read(exports, [p for p in split if p], **kwargs)
        raise


@click.command("clean")
@click.argument("exports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cleaned, de-identified CSV to write (only when every step succeeded).",
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
@click.option("--group-column", help="Column holding the caucus/group.")
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
    "--engine",
    type=click.Choice(ENGINES),
    default="regex",
    show_default=True,
    help="How names/organisations are matched: regex (fast) or spacy (a cross-check).",
)
@click.option(
    "--include-unfinished",
    is_flag=True,
    help="Keep unfinished (Qualtrics) responses in the analysis (still flagged).",
)
def clean_cmd(
    exports: tuple[Path, ...],
    output: Path,
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
    engine: str,
    include_unfinished: bool,
) -> None:
    """Read survey EXPORT(s), clean and de-identify them, and write a tidy CSV.

    The output keeps every response (flagged rows have exclude=True and a reason), holds
    only de-identified text in `text`, and has neither `text_raw` nor identifying
    metadata (e-mail, name, IP address, location, precise timestamps). Audit digests
    use the secret in $THEMATIC_SALT if set, else a random salt.
    """
    for p in exports:
        if output.resolve() == p.resolve():
            raise InputError(
                "the output would overwrite the export; choose another -o path", path=output
            )
    names = read_term_list(names_file) if names_file else []
    orgs = read_term_list(orgs_file) if orgs_file else []
    sheet_arg: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    df = _read(
        exports,
        list(text_columns) or None,
        format=fmt,
        group_column=group_column,
        id_column=id_column,
        session_column=session_column,
        sheet=sheet_arg,
        encoding=encoding,
    )
    info = df.attrs.get("thematic_ingest", {})
    audits = [ingest_audit(df)]
    cleaned, a_clean = clean_responses(df, exclude_unfinished=not include_unfinished)
    salt = os.environ.get(_SALT_ENV) or None
    deid, a_mask = deidentify(cleaned, names, orgs, pseudonyms=pseudonyms, salt=salt, engine=engine)
    public, a_drop = drop_identifying_columns(deid)
    audits += [a_clean, a_drop, a_mask]
    first = [c for c in OUTPUT_FIRST_COLUMNS if c in public.columns]
    order = {
        c: i for i, c in enumerate((*FLAG_COLUMNS, "flag_preview", "flag_spam", "flag_unfinished"))
    }
    flags = sorted(
        (c for c in public.columns if c.startswith("flag_")), key=lambda c: (order.get(c, 99), c)
    )
    tail = [c for c in ("exclude", "exclude_reason") if c in public.columns]
    rest = [c for c in public.columns if c not in {*first, *flags, *tail}]
    public = validate(public[first + flags + tail + rest], "responses", source=str(output))
    audit = validate(
        pd.concat([a for a in audits if len(a)], ignore_index=True)
        if any(len(a) for a in audits)
        else audits[0],
        "audit",
        source="audit",
    )
    if audit_path is not None:
        write_csv(audit, audit_path)
    write_csv(public, output)

    n_resp = public["respondent_id"].nunique()
    excluded = Counter(
        r
        for reasons in public.loc[public["exclude"], "exclude_reason"]
        for r in reasons.split("; ")
    )
    masked = Counter(a_mask["kind"].tolist()) if "kind" in a_mask.columns else Counter()
    n_ok = int((~public["exclude"]).sum())
    click.echo(
        f"read {len(exports)} export{'s' if len(exports) > 1 else ''} ({info.get('format', '?')}): "
        f"{n_resp} respondents, {len(public)} responses"
    )
    click.echo(
        f"analysable: {n_ok}; excluded: {len(public) - n_ok}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(excluded.items()))})" if excluded else "")
    )
    click.echo(
        f"masked: {sum(masked.values())} identifier{'s' if sum(masked.values()) != 1 else ''}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(masked.items()))})" if masked else "")
        + f"; dropped columns: {', '.join(a_drop['detail'].tolist()) or 'none'}"
    )
    click.echo(
        f"wrote {output} ({len(public)} rows)"
        + (f" and {audit_path} ({len(audit)} audit rows)" if audit_path is not None else "")
    )
    if n_ok == 0:
        click.echo(
            "warning: no analysable responses (all empty, non-answers or excluded)", err=True
        )
