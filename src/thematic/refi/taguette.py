"""Taguette exchange: its codebook CSV (both ways) and its highlights CSV (read).

Column names and order are Taguette's own (``taguette/export.py``):
:func:`write_taguette_codebook` writes ``tag, parent, description, number of
highlights`` (:data:`TAGUETTE_CODEBOOK_COLUMNS`); :func:`read_taguette_codebook`
reads it, and older exports without ``parent``, with Taguette's rules (the tag
column is ``tag``, ``name`` or ``path``; hierarchy only through ``parent``, names
with ``.`` are not split); :func:`read_taguette_highlights` turns Taguette's
highlights CSV (``id, document, tag, content``, :data:`TAGUETTE_HIGHLIGHTS_COLUMNS`)
into codings by locating each highlight's content in its response.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pandas as pd

from ..codebook import Code, Codebook, Section, Theme
from ..coding import CODINGS_COLUMNS, _typed
from ..errors import InputError, Problem, ValidationError, check_option
from ..io import read_utf8, write_csv
from ._codebook import _checked
from .read import RefiProject, _codebook_only

__all__ = [
    "TAGUETTE_CODEBOOK_COLUMNS",
    "TAGUETTE_HIGHLIGHTS_COLUMNS",
    "write_taguette_codebook",
    "read_taguette_codebook",
    "read_taguette_highlights",
]

#: Taguette's codebook CSV header (``taguette/export.py``, ``codebook_csv``), in order.
TAGUETTE_CODEBOOK_COLUMNS: list[str] = ["tag", "parent", "description", "number of highlights"]
#: Taguette's highlights CSV header (``taguette/export.py``, ``highlights_csv``), in order.
TAGUETTE_HIGHLIGHTS_COLUMNS: list[str] = ["id", "document", "tag", "content"]


def write_taguette_codebook(codebook: Codebook, path: str | os.PathLike[str], *,
                             tag: str = "name",
                             codings: pd.DataFrame | None = None) -> Path:
    """Write the codebook as a Taguette codebook CSV, with Taguette's own columns.

    The columns are those Taguette writes, in its order: ``tag, parent, description,
    number of highlights``. Every theme, subtheme and code becomes a tag (sections are
    not codable); ``parent`` is the tag of the parent theme or subtheme (empty for a
    theme), ``description`` its definition. Taguette imports this file with *Import
    codebook* (it reads ``tag``, ``parent`` and ``description``).

    Parameters
    ----------
    codebook : Codebook
    path : str or os.PathLike
    tag : {"name", "id"}
        Use names (readable; must be unique) or ids as tags.
    codings : pandas.DataFrame, optional
        If given, ``number of highlights`` counts the distinct coded segments of each
        tag; otherwise it is left empty.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        If two tags would have the same name.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> path = thematic.write_taguette_codebook(study.codebook, study.root / "taguette.csv")
    >>> print(path.read_text(encoding="utf-8").splitlines()[0])
    tag,parent,description,number of highlights
    """
    check_option("tag", tag, ("name", "id"))
    frame = codebook.to_frame()  # themes, subthemes and codes in document order
    label = dict(zip(frame["id"], frame["name"] if tag == "name" else frame["id"],
                     strict=True))
    counts: dict[str, int] = {}
    if codings is not None:
        c = _typed(codings)
        counts = c.drop_duplicates(["response_id", "start", "end", "code"]) \
            .groupby("code").size().to_dict()
    rows = [{"tag": label[id_], "parent": label.get(parent, ""), "description": definition,
             "number of highlights": counts.get(id_, 0) if codings is not None else ""}
            for id_, parent, definition in zip(frame["id"], frame["parent_id"],
                                               frame["definition"], strict=True)]
    names = [r["tag"] for r in rows]
    dups = sorted({x for x in names if names.count(x) > 1})
    if dups:
        raise InputError(f"tags would not be unique: {', '.join(dups)}; use tag='id'")
    return write_csv(pd.DataFrame(rows, columns=TAGUETTE_CODEBOOK_COLUMNS), path)


def _read_csv_any(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (lower case) and ``(file row number, cells)`` of every non-blank row."""
    text = read_utf8(path, what="CSV file")
    try:
        rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n"))))
    except csv.Error as exc:
        raise InputError(f"not a valid CSV: {exc}", path=path) from None
    if not rows:
        raise InputError("empty CSV", path=path)
    header = [h.strip().lower() for h in rows[0]]
    body = [(i, r + [""] * (len(header) - len(r))) for i, r in enumerate(rows[1:], 2)
            if any(x.strip() for x in r)]
    return header, body


def read_taguette_codebook(path: str | os.PathLike[str], *, section_id: str = "TAGUETTE",
                           section_name: str = "Taguette tags") -> RefiProject:
    """Read a Taguette codebook CSV export into a codebook.

    Column rules are Taguette's own (``taguette/import_codebook.py``): the tag is in the
    one column named ``tag``, ``name`` or ``path``; ``description`` and ``parent``
    (Taguette 1.5+, the parent's tag) are optional; other columns (``number of
    highlights``) are ignored; blank rows are skipped. Tags keep their names as they are
    (Taguette does not split names on ``.``; hierarchy is only ``parent``).

    Tags without a parent become themes of one section; below them, tags that have
    children become subthemes and the others codes, to any depth. Ids are the tags
    (white space replaced by ``_``).

    Parameters
    ----------
    path : str or os.PathLike
    section_id, section_name : str
        The section holding the tags.

    Returns
    -------
    RefiProject
        ``codebook``, and ``warnings``: an ``unknown_parent`` problem for each tag whose
        parent is not in the file (the tag is kept as a theme). No codings, responses
        or memos.

    Raises
    ------
    InputError
        If no (or more than one) tag column, or a row has an empty tag.
    """
    path = Path(path)
    order, desc, parent_of = _read_tags(path)
    found = _drop_bad_parents(order, parent_of, path)
    themes = _tag_themes(order, desc, parent_of)
    cb = Codebook(version="imported", status="candidate",
                  sections=[Section(section_id, section_name, "Tags imported from Taguette.",
                                    themes)],
                  title=f"Imported from {path.name}")
    return _codebook_only(_checked(cb, str(path)), found)


def _read_tags(path: Path) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Read the tags of a codebook CSV in order, and each one's description and parent."""
    header, body = _read_csv_any(path)
    tag_cols = [c for c in ("tag", "name", "path") if c in header]
    if len(tag_cols) != 1:
        why = "no 'tag', 'name' or 'path' column" if not tag_cols else \
            f"more than one tag column ({', '.join(tag_cols)})"
        raise InputError(f"{why} (columns: {', '.join(header)})", path=path)
    i_tag = header.index(tag_cols[0])
    i_desc = header.index("description") if "description" in header else None
    i_parent = header.index("parent") if "parent" in header else None
    order: list[str] = []
    desc: dict[str, str] = {}
    parent_of: dict[str, str] = {}
    for rownum, r in body:
        name = r[i_tag].strip()
        if not name:
            raise InputError("empty tag", path=path, row=rownum)
        order.append(name)
        desc[name] = r[i_desc].strip() if i_desc is not None else ""
        parent_of[name] = r[i_parent].strip() if i_parent is not None else ""
    return order, desc, parent_of


def _drop_bad_parents(order: list[str], parent_of: dict[str, str], path: Path
                      ) -> list[Problem]:
    """Make a tag whose parent is unknown, or its own ancestor, a theme; say which."""
    found: list[Problem] = []
    for name in order:
        p, seen = parent_of[name], {name}
        while p and p in parent_of and p not in seen:
            seen.add(p)
            p = parent_of[p]
        if parent_of[name] and parent_of[name] not in parent_of:
            found.append(Problem("unknown_parent", f"parent {parent_of[name]!r} of tag "
                                 f"{name!r} is not in the file; the tag is kept as a theme",
                                 str(path)))
            parent_of[name] = ""
        elif p and p in seen:
            found.append(Problem("parent_cycle", f"tag {name!r} is its own ancestor; kept "
                                 "as a theme", str(path)))
            parent_of[name] = ""
    return found


def _tag_themes(order: list[str], desc: dict[str, str], parent_of: dict[str, str]
                ) -> list[Theme]:
    """Make a theme of each tag without a parent; below, subthemes and codes."""
    children: dict[str, list[str]] = defaultdict(list)
    for name in order:
        if parent_of[name]:
            children[parent_of[name]].append(name)

    def ident(name: str) -> str:
        return re.sub(r"\s+", "_", name)

    def theme(name: str) -> Theme:
        t = Theme(id=ident(name), name=name, definition=desc[name])
        for ch in children[name]:
            if children[ch]:
                t.subthemes.append(theme(ch))
            else:
                t.codes.append(Code(id=ident(ch), name=ch, definition=desc[ch]))
        return t

    return [theme(n) for n in order if not parent_of[n]]


def read_taguette_highlights(
    path: str | os.PathLike[str],
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    coder: str = "taguette",
) -> pd.DataFrame:
    """Turn a Taguette highlights CSV export (``id, document, tag, content``) into codings.

    Taguette's export gives the highlighted text, not its offsets, so each highlight is
    located in its response: the document name must be a ``response_id`` (a file
    extension is ignored), the tag a code/theme name or id of ``codebook``, and the
    content (white space may differ: Taguette converts HTML to text) must occur in the
    response text. Taguette writes one row per tag of a highlight (same ``id``) and
    orders highlights by document and position, so a highlight whose text occurs
    several times is placed after the previous highlight with the same text. Rows
    without a tag (untagged highlights) are skipped.

    Parameters
    ----------
    path : str or os.PathLike
    responses : pandas.DataFrame
    codebook : Codebook
    coder : str
        Coder name for every row.

    Returns
    -------
    pandas.DataFrame
        Codings.

    Raises
    ------
    InputError
        If the ``document``, ``tag`` or ``content`` column is missing.
    ValidationError
        Listing every highlight that could not be placed (unknown document, unknown tag,
        content not found).
    """
    path = Path(path)
    header, body = _read_csv_any(path)
    missing = [c for c in ("document", "tag", "content") if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path)
    col = {c: header.index(c) for c in ("id", "document", "tag", "content") if c in header}
    texts = {str(r): str(t) for r, t in zip(responses["response_id"], responses["text"],
                                            strict=True)}
    by_name: dict[str, str] = {}
    for n in [*codebook.all_themes(), *codebook.codes()]:
        by_name[n.name] = n.id
        by_name[n.id] = n.id
    placed: dict[tuple[str, str], dict[str, tuple[int, int]]] = defaultdict(dict)
    rows, problems = [], []
    for rownum, r in body:
        loc = f"{path} row {rownum}"
        tag = r[col["tag"]].strip()
        if not tag:
            continue
        doc = r[col["document"]].strip()
        rid = doc if doc in texts else re.sub(r"\.[A-Za-z0-9]{1,5}$", "", doc)
        if rid not in texts:
            problems.append(Problem("unknown_document", f"document {doc!r} is not a response "
                                    "id", loc))
            continue
        code = by_name.get(tag)
        if code is None:
            problems.append(Problem("unknown_tag", f"tag {tag!r} is not in the codebook", loc))
            continue
        content = unicodedata.normalize("NFC", r[col["content"]])
        hid = r[col["id"]].strip() if "id" in col else f"row {rownum}"
        seen = placed[(rid, " ".join(content.split()))]
        span = seen.get(hid)
        if span is None:
            after = max((e for _, e in seen.values()), default=0)
            span = _locate(texts[rid], content, after) or _locate(texts[rid], content)
            if span is not None and hid:
                seen[hid] = span
        if span is None:
            problems.append(Problem("content_not_found", f"highlight not found in {rid}", loc))
            continue
        s, e = span
        rows.append({"response_id": rid, "code": code, "start": s, "end": e,
                     "excerpt": texts[rid][s:e], "coder": coder, "memo": pd.NA})
    if problems:
        raise ValidationError(str(path), problems)
    out = _typed(pd.DataFrame(rows, columns=CODINGS_COLUMNS))
    return out.sort_values(["response_id", "start", "end", "code", "coder"],
                           kind="stable").reset_index(drop=True)


def _locate(text: str, content: str, start: int = 0) -> tuple[int, int] | None:
    content = content.strip()
    if not content:
        return None
    pos = text.find(content, start)
    if pos >= 0:
        return pos, pos + len(content)
    # white space may differ (HTML to plain text): match word by word
    words = content.split()
    rx = re.compile(r"\s+".join(re.escape(w) for w in words))
    m = rx.search(text, start)
    return (m.start(), m.end()) if m else None
