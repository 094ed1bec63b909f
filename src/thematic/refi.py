"""Exchange with other qualitative analysis software: REFI-QDA (.qdpx, .qdc) and Taguette.

REFI-QDA (https://www.qdasoftware.org) is the exchange standard read and written by
NVivo, ATLAS.ti, MAXQDA, QualCoder and others. A ``.qdpx`` project is a zip archive with
``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``) and a ``sources/`` folder;
a ``.qdc`` holds a codebook alone (namespace ``urn:QDA-XML:codebook:1.0``).

Export (:func:`export_qdpx`, :func:`export_qdc`)
    * responses -> ``TextSource`` elements named by ``response_id``, text in
      ``sources/<guid>.txt`` (UTF-8, no BOM, LF line ends, NFC); other response columns ->
      text ``Variables`` (``text_raw`` is never exported: it may hold identifying text);
    * codebook -> nested ``Code`` elements: sections are non-codable parents of their
      themes; themes, subthemes and codes are codable (codings point at themes), except
      a theme or subtheme that has children and is never coded, which is exported as a
      non-codable parent; descriptions carry definitions;
    * codings -> ``PlainTextSelection`` + ``Coding``/``CodeRef``, one selection per coded
      segment, ``creatingUser`` = the coder; memo -> the selection's ``Description``;
    * coders and memo authors -> ``Users``; memos -> ``Notes`` (whole Markdown file)
      with ``NoteRef`` from the codes or sources they are about (project ``NoteRef``
      otherwise);
    * the thematic map -> a ``Graph``: a vertex per section and theme, edges from each
      section to its themes (``contains``) and one per codebook relation;
    * what REFI-QDA has no place for (stable ids, kinds, statuses, notes, inclusion /
      exclusion criteria, relation notes, map version) -> a code ``Set`` named
      :data:`METADATA_SET` whose description is YAML; other tools show it as an empty
      set and keep it; the import uses it when present.

    GUIDs are UUID5 of stable ids in a fixed namespace, dates come from the codebook
    (``date``) and memo files, never the clock, and the zip has fixed timestamps and
    entry order: exporting twice gives byte-identical files.

Import (:func:`read_qdpx`, :func:`read_qde`, :func:`read_qdc`, :func:`import_refi`)
    Accepts files written by other tools: a ``.qdpx`` or a bare ``project.qde`` with
    its ``sources/`` folder next to it (an unzipped project, as MAXQDA projects are often
    shared), ``Sources/`` or ``sources/`` (any case), any ``.qde`` name, GUIDs in braces
    or any case, ``internal://``, ``relative://`` (under ``basePath``, next to the
    project, or in ATLAS.ti's ``"<project> Media"`` folder), ``absolute://`` and plain
    paths, ``PlainTextContent``, codes nested to any depth, codebooks in the
    ``urn:QDA-XML:codebook:0:4`` namespace, XML and text files with a BOM, CRLF line
    ends. A source whose text cannot be found is named in a ValidationError (all of
    them at once), or skipped with a warning (``missing_sources="skip"``).

    Beyond codes and codings: variables of a source (``VariableValue``, or a nameless
    ``Case`` with one ``SourceRef`` as MAXQDA and Quirkos write them), the names of the
    cases holding it (column ``case``) and of its document sets (``Set`` /
    ``MemberSource``, column ``sets``); a ``PDFSource``'s text ``Representation``;
    notes (linked by ``NoteRef`` or NVivo's ``Links``) and uncoded selections with a
    description (MAXQDA annotations) become memos; code sets and non-text sources are
    reported as warnings. Source names used twice get a suffix (``-2``).

    **Offsets.** REFI-QDA positions count characters (code points) of the source text as
    stored. The import decodes it as UTF-8, drops a leading BOM (not counted, by default;
    ``bom_counts=True`` if the tool counted it), then normalises the text to LF
    line ends and NFC; every position is shifted accordingly (a CRLF counts as two
    characters before and one after), so ``text[start:end]`` is the same passage.
    ATLAS.ti and QualCoder count a CRLF as one character: ``crlf_counts`` defaults to
    what the project's ``origin`` says, and a warning tells when an unknown tool's
    coded text had CRLF line ends.

    Without the metadata set, ids are made from GUIDs (``S-``, ``T-``, ``C-`` + the
    first 8 hex digits of the SHA-1 of the GUID: stable across renames); non-codable top-level codes with children become
    sections, other top-level codes themes of a section ``UNSORTED`` (MAXQDA marks
    every code codable, so its whole code system lands there); below a theme,
    codes with children become subthemes and leaves codes.

Taguette
    Column names and order are Taguette's own (``taguette/export.py``):
    :func:`export_taguette_codebook` writes ``tag, parent, description, number of
    highlights`` (:data:`TAGUETTE_CODEBOOK_COLUMNS`); :func:`read_taguette_codebook`
    reads it, and older exports without ``parent``, with Taguette's rules (the tag
    column is ``tag``, ``name`` or ``path``; hierarchy only through ``parent``, names
    with ``.`` are not split); :func:`read_taguette_highlights` turns Taguette's
    highlights CSV (``id, document, tag, content``, :data:`TAGUETTE_HIGHLIGHTS_COLUMNS`)
    into codings by locating each highlight's content in its response.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
import posixpath
import re
import unicodedata
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from lxml import etree

from . import __version__
from .codebook import (
    Code,
    Codebook,
    Relation,
    Section,
    Theme,
    codebook_from_dict,
    save_codebook,
)
from .coding import (
    CODINGS_COLUMNS,
    Memo,
    _typed,
    parse_memo,
    save_codings,
    save_memo,
)
from .errors import InputError, Problem, ValidationError
from .io import atomic_open, read_utf8, write_csv

__all__ = [
    "NAMESPACE",
    "METADATA_SET",
    "RefiProject",
    "guid_for",
    "normalise_text",
    "export_qdpx",
    "export_qdc",
    "read_qdpx",
    "read_qdc",
    "read_qde",
    "import_refi",
    "validate_refi",
    "TAGUETTE_CODEBOOK_COLUMNS",
    "TAGUETTE_HIGHLIGHTS_COLUMNS",
    "export_taguette_codebook",
    "read_taguette_codebook",
    "read_taguette_highlights",
]

#: Namespace of every GUID this module makes (uuid5 over ``"<kind>:<stable id>"``).
NAMESPACE: uuid.UUID = uuid.UUID("0b7e2a56-3c1d-5f5e-9a57-7468656d6174")

#: Name of the code set that carries what REFI-QDA has no element for.
METADATA_SET: str = "thematic metadata"

_P = "urn:QDA-XML:project:1.0"
_C = "urn:QDA-XML:codebook:1.0"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_DEFAULT_DATE = "1980-01-01"
_UNSORTED = ("UNSORTED", "Imported codes (no section)")
_SYMMETRIC = {"interconnected", "related", "tension", "associated"}


def guid_for(kind: str, key: str) -> str:
    """Return the deterministic GUID of a thing: UUID5 of ``"<kind>:<key>"``, upper case.

    Parameters
    ----------
    kind : str
        ``code``, ``source``, ``selection``, ``coding``, ``user``, ``note``, ``variable``,
        ``graph``, ``vertex``, ``edge``, ``set``.
    key : str
        Stable id.

    Returns
    -------
    str
    """
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}")).upper()


def _norm_guid(g: str | None) -> str:
    return (g or "").strip().strip("{}").lower()


# --------------------------------------------------------------------------- text & offsets


def _nfc_with_map(s: str) -> tuple[str, list[int]]:
    """NFC-normalise ``s`` chunk by chunk (a starter and its combining marks)."""
    if unicodedata.is_normalized("NFC", s):
        return s, list(range(len(s) + 1))
    out: list[str] = []
    m: list[int] = []
    n = 0
    i = 0
    while i < len(s):
        j = i + 1
        while j < len(s) and unicodedata.combining(s[j]):
            j += 1
        chunk = unicodedata.normalize("NFC", s[i:j])
        if len(chunk) == j - i:
            m.extend(range(n, n + len(chunk)))
        else:
            m.extend([n] * (j - i))
        out.append(chunk)
        n += len(chunk)
        i = j
    m.append(n)
    return "".join(out), m


def normalise_text(raw: str, *, bom_counts: bool = False,
                   crlf_counts: bool = True) -> tuple[str, list[int]]:
    """Normalise a source text (no BOM, LF line ends, NFC) and map offsets onto it.

    Parameters
    ----------
    raw : str
        Text as decoded from the stored file (a BOM, if any, still at the start).
    bom_counts : bool
        Whether offsets into ``raw`` count a leading BOM as a character.
    crlf_counts : bool
        Whether offsets into ``raw`` count a CRLF line end as two characters (the
        standard: code points as stored). ATLAS.ti and QualCoder count it as one.

    Returns
    -------
    text : str
        The normalised text.
    offsets : list of int
        ``offsets[i]`` is the position in ``text`` of position ``i`` of the stored text
        (``len(offsets) == number of counted characters + 1``).
    """
    m0: list[int]
    s = raw[1:] if raw.startswith("\ufeff") else raw
    if not crlf_counts:
        s = s.replace("\r\n", "\n")  # offsets index the text with one-character line ends
    if raw.startswith("\ufeff"):
        m0 = [0, *range(len(s) + 1)] if bom_counts else list(range(len(s) + 1))
    else:
        m0 = list(range(len(s) + 1))
    # line ends
    out: list[str] = []
    m1: list[int] = []
    i = 0
    while i < len(s):
        ch = s[i]
        m1.append(len(out))
        if ch == "\r":
            if i + 1 < len(s) and s[i + 1] == "\n":
                i += 1
                continue
            out.append("\n")
        else:
            out.append(ch)
        i += 1
    m1.append(len(out))
    text, m2 = _nfc_with_map("".join(out))
    return text, [m2[m1[k]] for k in m0]


# --------------------------------------------------------------------------- export helpers


def _iso(date: str | None) -> str:
    d = (date or _DEFAULT_DATE).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
        return f"{d}T00:00:00Z"
    return d


def _el(parent: etree._Element | None, tag: str, ns: str, attrib: dict | None = None,
        text: str | None = None) -> etree._Element:
    attrs = {k: v for k, v in (attrib or {}).items() if v is not None}
    e = (etree.SubElement(parent, f"{{{ns}}}{tag}", attrs) if parent is not None
         else etree.Element(f"{{{ns}}}{tag}", attrs, nsmap={None: ns}))
    if text is not None:
        e.text = _xml_text(text)
    return e


def _xml_text(s: str) -> str:
    # XML 1.0 cannot carry most control characters; they never belong in survey text
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s)


def _codable_ids(codebook: Codebook, codings: pd.DataFrame | None) -> set[str]:
    coded = set() if codings is None else set(codings["code"].dropna().astype(str))
    out = set()
    for t in codebook.all_themes():
        if not (t.subthemes or t.codes) or t.id in coded:
            out.add(t.id)
    out |= {c.id for c in codebook.codes()}
    return out


def _metadata(codebook: Codebook, columns: Sequence[str] | None = None) -> str:
    codes: dict[str, dict] = {}
    for s in codebook.sections:
        codes[guid_for("code", s.id)] = {"id": s.id, "kind": "section"}

    def theme(t: Theme, kind: str) -> None:
        d: dict[str, Any] = {"id": t.id, "kind": kind, "status": t.status}
        if t.note is not None:
            d["note"] = t.note
        if t.merged_from:
            d["merged_from"] = list(t.merged_from)
        if t.split_from is not None:
            d["split_from"] = t.split_from
        codes[guid_for("code", t.id)] = d
        for c in t.codes:
            cd: dict[str, Any] = {"id": c.id, "kind": "code"}
            if c.inclusion is not None:
                cd["inclusion"] = c.inclusion
            if c.exclusion is not None:
                cd["exclusion"] = c.exclusion
            codes[guid_for("code", c.id)] = cd
        for sub in t.subthemes:
            theme(sub, "subtheme")

    for t in codebook.themes():
        theme(t, "theme")
    meta = {
        "thematic_refi_metadata": 1,
        "codebook": {k: v for k, v in {"version": codebook.version, "status": codebook.status,
                                       "title": codebook.title, "date": codebook.date,
                                       "note": codebook.note}.items() if v is not None},
        "codes": codes,
        "relations": [{k: v for k, v in {"source": r.source, "target": r.target,
                                         "kind": r.kind, "note": r.note}.items()
                       if v is not None} for r in codebook.relations],
    }
    if columns is not None:
        meta["response_columns"] = list(columns)
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000_000)


def _codes_xml(parent: etree._Element, ns: str, codebook: Codebook, codable: set[str],
               note_refs: dict[str, list[str]]) -> None:
    codes_el = _el(parent, "Codes", ns)

    def add_refs(el: etree._Element, id_: str) -> None:
        if ns == _P:
            for g in note_refs.get(id_, []):
                _el(el, "NoteRef", ns, {"targetGUID": g})

    def theme_el(p: etree._Element, t: Theme) -> None:
        e = _el(p, "Code", ns, {"guid": guid_for("code", t.id), "name": t.name,
                                "isCodable": "true" if t.id in codable else "false"})
        if t.definition:
            _el(e, "Description", ns, text=t.definition)
        add_refs(e, t.id)
        for c in t.codes:
            ce = _el(e, "Code", ns, {"guid": guid_for("code", c.id), "name": c.name,
                                     "isCodable": "true"})
            if c.definition:
                _el(ce, "Description", ns, text=c.definition)
            add_refs(ce, c.id)
        for sub in t.subthemes:
            theme_el(e, sub)

    for s in codebook.sections:
        se = _el(codes_el, "Code", ns, {"guid": guid_for("code", s.id), "name": s.name,
                                        "isCodable": "false"})
        if s.description:
            _el(se, "Description", ns, text=s.description)
        add_refs(se, s.id)
        for t in s.themes:
            theme_el(se, t)


def _metadata_set(parent: etree._Element, ns: str, codebook: Codebook,
                  columns: Sequence[str] | None = None) -> None:
    sets = _el(parent, "Sets", ns)
    st = _el(sets, "Set", ns, {"guid": guid_for("set", METADATA_SET), "name": METADATA_SET})
    _el(st, "Description", ns, text=_metadata(codebook, columns))


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def qdc_bytes(codebook: Codebook) -> bytes:
    """Return the REFI-QDA codebook (``.qdc``) XML of ``codebook``.

    Parameters
    ----------
    codebook : Codebook

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        If the codebook has no sections (REFI-QDA requires at least one code).
    """
    if not codebook.sections:
        raise InputError("a .qdc needs at least one code; the codebook has no sections")
    root = _el(None, "CodeBook", _C, {"origin": f"thematic {__version__}"})
    _codes_xml(root, _C, codebook, _codable_ids(codebook, None), {})
    _metadata_set(root, _C, codebook)
    return _xml_bytes(root)


def export_qdc(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write ``codebook`` as a REFI-QDA codebook file (``.qdc``), atomically.

    Parameters
    ----------
    codebook : Codebook
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    with atomic_open(path, "wb") as fh:
        fh.write(qdc_bytes(codebook))
    return Path(path)


def _prepare_sources(responses: pd.DataFrame, codings: pd.DataFrame
                     ) -> tuple[dict[str, str], pd.DataFrame]:
    """Normalised text per response, and codings with offsets mapped onto it."""
    texts: dict[str, str] = {}
    maps: dict[str, list[int]] = {}
    for rid, t in zip(responses["response_id"], responses["text"], strict=True):
        text, m = normalise_text("" if pd.isna(t) else str(t))
        texts[str(rid)] = text
        maps[str(rid)] = m
    c = _typed(codings).copy()
    starts, ends = [], []
    for rid, s, e in zip(c["response_id"], c["start"], c["end"], strict=True):
        m = maps.get(str(rid))
        if m is None or pd.isna(s) or pd.isna(e) or not (0 <= int(s) <= int(e) < len(m)):
            raise InputError(f"coding of {rid}[{s}:{e}] does not fit the responses; run "
                             "`thematic check` first")
        starts.append(m[int(s)])
        ends.append(m[int(e)])
    c["start"], c["end"] = starts, ends
    return texts, c


def qdpx_bytes(
    codebook: Codebook,
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    memos: Sequence[Memo] = (),
    *,
    project_name: str | None = None,
) -> bytes:
    """Return the REFI-QDA project archive (``.qdpx``) as bytes. See :func:`export_qdpx`."""
    date = _iso(codebook.date)
    texts, cod = _prepare_sources(responses, codings)
    cod = cod.sort_values(["response_id", "start", "end", "code", "coder"], kind="stable")
    known = codebook.ids()
    # users: coders and memo authors, sorted
    users = sorted(set(cod["coder"].dropna().astype(str)) | {m.author for m in memos})
    root = _el(None, "Project", _P, {
        "name": project_name or codebook.title or "thematic project",
        "origin": f"thematic {__version__}",
        "creationDateTime": date,
        "modifiedDateTime": date,
    })
    if users:
        ue = _el(root, "Users", _P)
        for u in users:
            _el(ue, "User", _P, {"guid": guid_for("user", u), "name": u})
    # memos: which codes / sources / project refer to each
    code_refs: dict[str, list[str]] = defaultdict(list)
    source_refs: dict[str, list[str]] = defaultdict(list)
    project_refs: list[str] = []
    rids = set(texts)
    for m in memos:
        g = guid_for("note", m.name)
        targets = [a for a in m.about if a in known or a in rids]
        for a in targets:
            (code_refs if a in known else source_refs)[a].append(g)
        if not targets:
            project_refs.append(g)
    if codebook.sections:  # the schema wants at least one Code in a CodeBook
        cb = _el(root, "CodeBook", _P)
        _codes_xml(cb, _P, codebook, _codable_ids(codebook, cod), code_refs)
    # variables: every response column but text/text_raw/response_id
    var_cols = [c for c in responses.columns if c not in {"response_id", "text", "text_raw"}]
    if var_cols:
        ve = _el(root, "Variables", _P)
        for col in var_cols:
            _el(ve, "Variable", _P, {"guid": guid_for("variable", col), "name": col,
                                     "typeOfVariable": "Text"})
    files: dict[str, bytes] = {}
    src_el = _el(root, "Sources", _P)
    by_resp = {rid: d for rid, d in cod.groupby("response_id", sort=False)}
    for _, row in responses.iterrows():
        rid = str(row["response_id"])
        g = guid_for("source", rid)
        fname = f"{g}.txt"
        files[f"sources/{fname}"] = texts[rid].encode("utf-8")
        ts = _el(src_el, "TextSource", _P, {"guid": g, "name": rid,
                                           "plainTextPath": f"internal://{fname}",
                                           "creationDateTime": date})
        d = by_resp.get(rid)
        if d is not None:
            for r in d.itertuples(index=False):
                key = f"{rid}:{r.start}:{r.end}:{r.code}:{r.coder}"
                sel = _el(ts, "PlainTextSelection", _P, {
                    "guid": guid_for("selection", key),
                    "name": _short_name(texts[rid][int(r.start):int(r.end)]),
                    "startPosition": str(int(r.start)), "endPosition": str(int(r.end)),
                    "creatingUser": guid_for("user", str(r.coder)),
                    "creationDateTime": date,
                })
                if not pd.isna(r.memo) and str(r.memo) != "":
                    _el(sel, "Description", _P, text=str(r.memo))
                cd = _el(sel, "Coding", _P, {"guid": guid_for("coding", key),
                                             "creatingUser": guid_for("user", str(r.coder)),
                                             "creationDateTime": date})
                _el(cd, "CodeRef", _P, {"targetGUID": guid_for("code", str(r.code))})
        for ng in source_refs.get(rid, []):
            _el(ts, "NoteRef", _P, {"targetGUID": ng})
        for col in var_cols:
            v = row[col]
            if pd.isna(v):
                continue
            vv = _el(ts, "VariableValue", _P)
            _el(vv, "VariableRef", _P, {"targetGUID": guid_for("variable", col)})
            _el(vv, "TextValue", _P, text=str(v))
    if not len(src_el):
        root.remove(src_el)
    if memos:
        ne = _el(root, "Notes", _P)
        for m in memos:
            note = _el(ne, "Note", _P, {"guid": guid_for("note", m.name), "name": m.name,
                                        "creatingUser": guid_for("user", m.author),
                                        "creationDateTime": _iso(m.date)})
            _el(note, "PlainTextContent", _P, text=m.to_text())
    _metadata_set(root, _P, codebook,
                  [c for c in responses.columns if c != "text_raw"])
    _graph(root, codebook)
    if codebook.note:
        _el(root, "Description", _P, text=codebook.note)
    for g in project_refs:
        _el(root, "NoteRef", _P, {"targetGUID": g})
    qde = _xml_bytes(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("project.qde", qde), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def _short_name(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _graph(root: etree._Element, codebook: Codebook) -> None:
    graphs = _el(root, "Graphs", _P)
    g = _el(graphs, "Graph", _P, {"guid": guid_for("graph", "thematic-map"),
                                  "name": f"Thematic map ({codebook.version})"})
    vert: dict[str, str] = {}
    for i, s in enumerate(codebook.sections):
        x = 40 + 360 * i
        vert[s.id] = guid_for("vertex", s.id)
        _el(g, "Vertex", _P, {"guid": vert[s.id], "representedGUID": guid_for("code", s.id),
                              "name": s.name, "firstX": str(x), "firstY": "40",
                              "secondX": str(x + 320), "secondY": "100",
                              "shape": "Rectangle"})
        for j, t in enumerate(s.themes):
            y = 160 + 100 * j
            vert[t.id] = guid_for("vertex", t.id)
            _el(g, "Vertex", _P, {"guid": vert[t.id], "representedGUID": guid_for("code", t.id),
                                  "name": t.name, "firstX": str(x), "firstY": str(y),
                                  "secondX": str(x + 320), "secondY": str(y + 70),
                                  "shape": "RoundedRectangle"})
    for s in codebook.sections:
        for t in s.themes:
            _el(g, "Edge", _P, {"guid": guid_for("edge", f"{s.id}>{t.id}"), "name": "contains",
                                "sourceVertex": vert[s.id], "targetVertex": vert[t.id],
                                "direction": "OneWay"})
    for r in codebook.relations:
        if r.source not in vert or r.target not in vert:
            continue  # relations between subthemes are kept in the metadata set only
        _el(g, "Edge", _P, {"guid": guid_for("edge", f"{r.source}~{r.kind}~{r.target}"),
                            "name": r.kind, "sourceVertex": vert[r.source],
                            "targetVertex": vert[r.target],
                            "direction": "Associative" if r.kind in _SYMMETRIC else "OneWay"})


def export_qdpx(
    path: str | os.PathLike[str],
    codebook: Codebook,
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    memos: Sequence[Memo] = (),
    *,
    project_name: str | None = None,
) -> Path:
    """Write the project as a REFI-QDA project archive (``.qdpx``), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination ``.qdpx``.
    codebook : Codebook
    codings : pandas.DataFrame
        Codings (checked: every segment must fit its response).
    responses : pandas.DataFrame
        Responses (``response_id``, ``text`` and metadata columns).
    memos : sequence of Memo
        Memos to include as notes.
    project_name : str, optional
        Project name (default: the codebook title).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        If a coding does not fit its response.
    """
    data = qdpx_bytes(codebook, codings, responses, memos, project_name=project_name)
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


# --------------------------------------------------------------------------- validation


@functools.lru_cache(maxsize=2)
def _schema(name: str):
    import xmlschema

    ref = resources.files("thematic").joinpath("data", "refi_qda", name)
    with resources.as_file(ref) as p:
        return xmlschema.XMLSchema(str(p))


def validate_refi(path_or_bytes: str | os.PathLike[str] | bytes) -> list[str]:
    """Validate a ``.qdpx`` (its ``.qde``), a bare ``.qde`` or a ``.qdc`` against the XSDs.

    The schema is chosen by the root element (``Project`` or ``CodeBook``), so a bare
    ``project.qde`` (an unzipped ``.qdpx``) is checked against the project schema.

    Parameters
    ----------
    path_or_bytes : path or bytes
        A ``.qdpx`` / ``.qde`` / ``.qdc`` file, or the bytes of one.

    Returns
    -------
    list of str
        Every schema violation (empty when valid).

    Raises
    ------
    InputError
        If the file is not a zip archive or XML.
    """
    where = None if isinstance(path_or_bytes, bytes) else Path(path_or_bytes)
    data = path_or_bytes if where is None else where.read_bytes()
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                data = zf.read(_find_qde(zf))
        except zipfile.BadZipFile:
            raise InputError("not a valid zip archive", path=where) from None
    doc = _parse_xml(data, where)
    schema = _schema("Project-mrt2019.xsd" if _local(doc) == "Project" else "Codebook.xsd")
    return [str(e.reason or e) + f" (at {e.path})" for e in schema.iter_errors(doc)]


# --------------------------------------------------------------------------- import


@dataclass
class RefiProject:
    """What an import read: codebook, codings, responses, memos, and notes on the way.

    Attributes
    ----------
    codebook : Codebook
    codings : pandas.DataFrame
    responses : pandas.DataFrame
    memos : list of Memo
    warnings : list of Problem
        Things the import adapted (ids made from GUIDs, unknown references skipped...).
    """

    codebook: Codebook
    codings: pd.DataFrame
    responses: pd.DataFrame
    memos: list[Memo] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                           remove_blank_text=False)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _kid(el: etree._Element, name: str) -> etree._Element | None:
    k = _kids(el, name)
    return k[0] if k else None


def _kid_text(el: etree._Element, name: str) -> str | None:
    k = _kid(el, name)
    return None if k is None else (k.text or "")


def _find_qde(zf: zipfile.ZipFile) -> str:
    names = [n for n in zf.namelist() if n.lower().endswith(".qde") and "/" not in n.strip("/")]
    if not names:
        names = [n for n in zf.namelist() if n.lower().endswith(".qde")]
    if not names:
        raise InputError("no .qde project file in the archive")
    names.sort(key=lambda n: (n.lower() != "project.qde", n))
    return names[0]


def _read_metadata(root: etree._Element) -> dict | None:
    sets = _kid(root, "Sets")
    if sets is None:
        return None
    for st in _kids(sets, "Set"):
        if st.get("name") == METADATA_SET:
            try:
                meta = yaml.safe_load(_kid_text(st, "Description") or "")
            except yaml.YAMLError:
                return None
            if isinstance(meta, dict) and meta.get("thematic_refi_metadata") == 1:
                return meta
    return None


def _codebook_from_xml(root: etree._Element, meta: dict | None, source: str,
                       warnings: list[Problem]) -> tuple[Codebook, dict[str, str]]:
    """Codebook from a ``CodeBook`` (project) or the ``.qdc`` root; guid -> id map."""
    codes_el = _kid(root, "Codes")
    if codes_el is None:
        raise InputError("no Codes in the codebook", path=source)
    mcodes = {_norm_guid(k): v for k, v in ((meta or {}).get("codes") or {}).items()}
    gid: dict[str, str] = {}
    used: set[str] = set()

    def info(el: etree._Element) -> dict:
        return mcodes.get(_norm_guid(el.get("guid")), {})

    def make_id(el: etree._Element, prefix: str) -> str:
        m = info(el)
        if m.get("id"):
            i = str(m["id"])
        else:
            digest = hashlib.sha1(_norm_guid(el.get("guid")).encode("ascii", "replace"))
            i = f"{prefix}-{digest.hexdigest()[:8].upper()}"
        base, n = i, 2
        while i in used:
            i, n = f"{base}-{n}", n + 1
        used.add(i)
        gid[_norm_guid(el.get("guid"))] = i
        return i

    def make_code(el: etree._Element) -> Code:
        m = info(el)
        return Code(id=make_id(el, "C"), name=el.get("name", ""),
                    definition=_kid_text(el, "Description") or "",
                    inclusion=m.get("inclusion"), exclusion=m.get("exclusion"))

    def make_theme(el: etree._Element) -> Theme:
        m = info(el)
        t = Theme(id=make_id(el, "T"), name=el.get("name", ""),
                  definition=_kid_text(el, "Description") or "",
                  status=str(m.get("status", "candidate")), note=m.get("note"),
                  merged_from=[str(x) for x in m.get("merged_from", [])],
                  split_from=m.get("split_from"))
        for ch in _kids(el, "Code"):
            kind = info(ch).get("kind")
            if kind == "code" or (kind is None and not _kids(ch, "Code")):
                t.codes.append(make_code(ch))
            else:
                t.subthemes.append(make_theme(ch))
        return t

    sections: list[Section] = []
    unsorted: list[Theme] = []
    for el in _kids(codes_el, "Code"):
        kind = info(el).get("kind")
        is_section = kind == "section" or (
            kind is None and el.get("isCodable", "true").lower() == "false" and _kids(el, "Code"))
        if is_section:
            s = Section(id=make_id(el, "S"), name=el.get("name", ""),
                        description=_kid_text(el, "Description") or "")
            s.themes = [make_theme(ch) for ch in _kids(el, "Code")]
            sections.append(s)
        else:
            unsorted.append(make_theme(el))
    if unsorted:
        sections.append(Section(id=_UNSORTED[0], name=_UNSORTED[1],
                                description="Top-level codes of the imported file that were "
                                "not under a non-codable parent.", themes=unsorted))
        warnings.append(Problem("unsorted", f"{len(unsorted)} top-level code(s) put under "
                                f"section {_UNSORTED[0]}", source))
    if meta is None:
        warnings.append(Problem("ids_from_guids", "no thematic metadata set: ids made from "
                                "GUIDs, statuses set to 'candidate'", source))
    mc = (meta or {}).get("codebook") or {}
    relations = [Relation(source=str(r["source"]), target=str(r["target"]),
                          kind=str(r.get("kind", "related")), note=r.get("note"))
                 for r in (meta or {}).get("relations") or []]
    cb = Codebook(version=str(mc.get("version", "imported")),
                  status=str(mc.get("status", "candidate")), sections=sections,
                  relations=relations, title=str(mc.get("title", "")), note=mc.get("note"),
                  date=None if mc.get("date") is None else str(mc.get("date")))
    return cb, gid


def _graph_relations(root: etree._Element, gid: dict[str, str]) -> list[Relation]:
    rels = []
    graphs = _kid(root, "Graphs")
    if graphs is None:
        return rels
    for g in _kids(graphs, "Graph"):
        vmap = {_norm_guid(v.get("guid")): gid.get(_norm_guid(v.get("representedGUID")))
                for v in _kids(g, "Vertex")}
        for e in _kids(g, "Edge"):
            a, b = vmap.get(_norm_guid(e.get("sourceVertex"))), vmap.get(
                _norm_guid(e.get("targetVertex")))
            if a and b and (e.get("name") or "") != "contains":
                rels.append(Relation(a, b, e.get("name") or "related"))
    return rels


def _parse_xml(data: bytes, where: str | os.PathLike[str] | None) -> etree._Element:
    """Parse REFI-QDA XML (a UTF-8 BOM before ``<?xml``, as QualCoder writes, is fine)."""
    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not XML: {exc}", path=where) from None


def _code_sets_warning(root: etree._Element, source: str, warnings: list[Problem]) -> None:
    sets = _kid(root, "Sets")
    names = [st.get("name") or _norm_guid(st.get("guid"))
             for st in (_kids(sets, "Set") if sets is not None else [])
             if st.get("name") != METADATA_SET and _kids(st, "MemberCode")]
    if names:
        warnings.append(Problem("code_sets_ignored", f"code set(s) {', '.join(map(repr, names))} "
                                "not imported (thematic has no code sets)", source))


def read_qdc(path: str | os.PathLike[str], *,
             warnings: list[Problem] | None = None) -> Codebook:
    """Read a REFI-QDA codebook file (``.qdc``) written by any tool.

    Accepts any codebook namespace (``urn:QDA-XML:codebook:1.0``, or ``...:0:4`` as
    MAXQDA writes) and a UTF-8 BOM before the XML declaration (QualCoder).

    Parameters
    ----------
    path : str or os.PathLike
    warnings : list, optional
        If given, what the import adapted is appended (ids made from GUIDs, code sets
        not imported...).

    Returns
    -------
    Codebook
        Checked like :func:`thematic.codebook.load_codebook`.

    Raises
    ------
    InputError
        If the file is missing, not XML, or a project rather than a codebook.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    root = _parse_xml(path.read_bytes(), path)
    if _local(root) == "Project":
        raise InputError("this is a REFI-QDA project (.qde), not a codebook: use read_qde "
                         "or import_refi", path=path)
    found: list[Problem] = []
    cb, _ = _codebook_from_xml(root, _read_metadata(root), str(path), found)
    _code_sets_warning(root, str(path), found)
    if warnings is not None:
        warnings.extend(found)
    return _checked(cb, str(path))


def _checked(cb: Codebook, source: str) -> Codebook:
    from .codebook import codebook_to_dict

    return codebook_from_dict(codebook_to_dict(cb), source=source)


def _ci_file(root: Path, rel: str) -> Path | None:
    """Return the file ``root/rel``, matching path parts case-insensitively if need be."""
    p = root
    parts = [x for x in rel.replace("\\", "/").split("/") if x not in ("", ".")]
    if not parts:
        return None
    for part in parts:
        if part == "..":
            p = p.parent
            continue
        if (p / part).exists():
            p = p / part
            continue
        if not p.is_dir():
            return None
        low = part.lower()
        match = next((c for c in sorted(p.iterdir()) if c.name.lower() == low), None)
        if match is None:
            return None
        p = match
    return p if p.is_file() else None


class _Files:
    """Look up source files in the archive (``.qdpx``) or next to a bare ``.qde``."""

    def __init__(self, zf: zipfile.ZipFile | None, base: Path, base_path: str | None,
                 media: Path | None = None) -> None:
        self.zf = zf
        self.base = base
        self.base_path = base_path
        # ATLAS.ti writes relative:// sources without a basePath; they are in a folder
        # "<project name> Media" next to the project (as QualCoder's importer assumes)
        self.media = media
        self.lower = {n.lower(): n for n in zf.namelist()} if zf is not None else {}
        places = ["in the archive" if zf is not None else f"in {base / 'sources'}",
                  f"in {base}"]
        if base_path:
            places.append(f"under basePath {base_path}")
        if media is not None:
            places.append(f"in {media}")
        self.places = ", ".join(places)

    def _internal(self, rest: str) -> bytes | None:
        for cand in (f"sources/{rest.lstrip('/')}", rest.lstrip("/")):
            if self.zf is not None:
                name = self.lower.get(posixpath.normpath(cand).lower())
                if name is not None:
                    return self.zf.read(name)
            else:  # an unzipped project: sources/ (any case) next to the .qde
                p = _ci_file(self.base, cand)
                if p is not None:
                    return p.read_bytes()
        return None

    def read(self, ref: str) -> bytes | None:
        ref = ref.strip()
        m = re.match(r"^(internal|relative|absolute|file)://(.*)$", ref, flags=re.I)
        scheme, rest = (m.group(1).lower(), m.group(2)) if m else ("", ref)
        rest = rest.replace("\\", "/")
        if not rest.strip("/"):
            return None
        if scheme in ("internal", ""):
            data = self._internal(rest)
            if data is not None:
                return data
        if scheme in ("relative", ""):
            roots = [Path(self.base_path)] if self.base_path else []
            roots.append(self.base)
            if self.media is not None:
                roots.append(self.media)
            for r in roots:
                p = _ci_file(r, rest)
                if p is not None:
                    return p.read_bytes()
            data = self._internal(rest)
            if data is not None:
                return data
        if scheme in ("absolute", "file"):
            p = Path(rest if not rest.startswith("/") or os.name != "nt" else rest[1:])
            if p.is_file():
                return p.read_bytes()
        return None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"source text is not UTF-8 at byte {exc.start}", path=where) from None


#: Values of ``missing_sources``.
_MISSING = ("error", "skip")


def _crlf_counts_for(origin: str) -> bool:
    """Whether the writing tool counts a CRLF as two characters in selection positions.

    ATLAS.ti stores CRLF in its text files but counts a line end as one character
    (QualCoder's importer works around this); QualCoder's positions always index its
    LF-only text, also when it writes CRLF files ("MAXQDA line endings" export option).
    """
    o = origin.strip().lower()
    return not (o.startswith("atlas.ti") or "qualcoder" in o)


def _user_of(el: etree._Element, users: dict[str, str]) -> str | None:
    g = el.get("creatingUser") or el.get("modifyingUser")
    return (users.get(_norm_guid(g)) or g) if g else None


def _date_of(el: etree._Element) -> str:
    d = (el.get("creationDateTime") or el.get("modifiedDateTime") or _DEFAULT_DATE)[:10]
    return d if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) else _DEFAULT_DATE


def _values(el: etree._Element, variables: dict[str, str]) -> dict[str, str | None]:
    """``VariableValue`` children of a source or case: variable name -> value text."""
    out: dict[str, str | None] = {}
    for vv in _kids(el, "VariableValue"):
        ref = _kid(vv, "VariableRef")
        name = variables.get(_norm_guid(ref.get("targetGUID") if ref is not None else ""))
        if name is not None:
            out[name] = next((c.text for c in vv if _local(c) not in {"VariableRef", ""}), None)
    return out


def _source_elements(se: etree._Element | None, source: str,
                     warnings: list[Problem]) -> list[tuple[etree._Element, etree._Element]]:
    """``(text element, source element)`` of every source with text; others reported.

    A ``TextSource`` is its own text element; a ``PDFSource`` has its text (and text
    selections) in a ``Representation`` (QualCoder, ATLAS.ti and MAXQDA write them).
    """
    out = []
    for el in (se if se is not None else []):
        kind = _local(el)
        if not kind:
            continue
        text_el = el if kind == "TextSource" else (
            _kid(el, "Representation") if kind == "PDFSource" else None)
        if text_el is not None:
            out.append((text_el, el))
            continue
        n = sum(1 for c in el.iter() if _local(c) == "Coding")
        why = "has no plain-text Representation" if kind == "PDFSource" else "is not text"
        warnings.append(Problem("non_text_source", f"{kind} {el.get('name') or el.get('guid')!r} "
                                f"{why}; skipped with its {n} coding(s)", source))
    return out


def _read_project(root: etree._Element, files: _Files, path: Path, *, bom_counts: bool,
                  crlf_counts: bool | None, missing_sources: str) -> RefiProject:
    """Read a parsed REFI-QDA ``Project`` whose source files ``files`` finds."""
    if missing_sources not in _MISSING:
        raise ValueError(f"missing_sources must be one of {_MISSING}, not {missing_sources!r}")
    warnings: list[Problem] = []
    origin = root.get("origin") or ""
    crlf = _crlf_counts_for(origin) if crlf_counts is None else crlf_counts
    meta = _read_metadata(root)
    cb_el = _kid(root, "CodeBook")
    if cb_el is None:
        mc = (meta or {}).get("codebook") or {}
        codebook = Codebook(version=str(mc.get("version", "imported")),
                            status=str(mc.get("status", "candidate")), sections=[],
                            title=str(mc.get("title", "")), note=mc.get("note"),
                            date=None if mc.get("date") is None else str(mc["date"]))
        gid: dict[str, str] = {}
    else:
        codebook, gid = _codebook_from_xml(cb_el, meta, str(path), warnings)
    if meta is None:
        codebook.relations = _graph_relations(root, gid)
        desc = (_kid_text(root, "Description") or "").strip()
        if desc and codebook.note is None:  # the project memo (QualCoder, NVivo)
            codebook.note = desc
    users: dict[str, str] = {}
    ue = _kid(root, "Users")
    for u in (_kids(ue, "User") if ue is not None else []):
        users[_norm_guid(u.get("guid"))] = u.get("name") or u.get("id") or u.get("guid")
    variables: dict[str, str] = {}
    ve = _kid(root, "Variables")
    for v in (_kids(ve, "Variable") if ve is not None else []):
        if v.get("name"):
            variables[_norm_guid(v.get("guid"))] = v.get("name")
    # cases: MAXQDA and Quirkos keep a document's variables in a nameless Case with one
    # SourceRef; named cases (QualCoder, NVivo) give the documents they hold a "case"
    case_values: dict[str, dict[str, str | None]] = defaultdict(dict)
    case_names: dict[str, list[str]] = defaultdict(list)
    ce = _kid(root, "Cases")
    for case in (_kids(ce, "Case") if ce is not None else []):
        vals = _values(case, variables)
        for ref in _kids(case, "SourceRef"):
            g = _norm_guid(ref.get("targetGUID"))
            if case.get("name"):
                case_names[g].append(case.get("name"))
            for k, v in vals.items():
                case_values[g].setdefault(k, v)
    # document sets (MAXQDA document sets, ATLAS.ti document groups) -> a "sets" column
    source_sets: dict[str, list[str]] = defaultdict(list)
    sets_el = _kid(root, "Sets")
    for st in (_kids(sets_el, "Set") if sets_el is not None else []):
        for ms in _kids(st, "MemberSource"):
            source_sets[_norm_guid(ms.get("targetGUID"))].append(st.get("name") or "")
    _code_sets_warning(root, str(path), warnings)
    links_el = _kid(root, "Links")  # NVivo links notes to selections this way
    linked = {_norm_guid(ln.get(a)) for ln in (_kids(links_el, "Link") if links_el is not None
                                               else []) for a in ("originGUID", "targetGUID")}

    resp_rows: list[dict] = []
    cod_rows: list[dict] = []
    memos: list[Memo] = []
    missing: list[Problem] = []
    source_ids: dict[str, str] = {}  # source / representation / selection guid -> id
    used_ids: set[str] = set()
    crlf_sources: list[str] = []
    for tel, sel_src in _source_elements(_kid(root, "Sources"), str(path), warnings):
        name = sel_src.get("name") or _norm_guid(sel_src.get("guid"))
        rid, n = name, 2
        while rid in used_ids:  # MAXQDA allows two documents with one name
            rid, n = f"{name}-{n}", n + 1
        if rid != name:
            warnings.append(Problem("duplicate_source_name", f"a second source is named "
                                    f"{name!r}; imported as {rid!r}", str(path)))
        used_ids.add(rid)
        where = f"{path} source {rid}"
        selections = _kids(tel, "PlainTextSelection")
        n_codings = sum(len(_kids(s, "Coding")) for s in selections) + len(_kids(tel, "Coding"))
        content = _kid_text(tel, "PlainTextContent")
        ref = tel.get("plainTextPath")
        if content is not None and not ref:
            raw = content
        else:
            data = files.read(ref or "")
            if data is not None:
                raw = _decode(data, where)
            elif content is not None:
                raw = content
            else:
                missing.append(Problem(
                    "missing_source", f"text of source {name!r} not found "
                    f"({ref or 'no plainTextPath'}; looked {files.places}); {n_codings} "
                    f"coding(s) depend on it", str(path)))
                continue
        for g in {_norm_guid(tel.get("guid")), _norm_guid(sel_src.get("guid"))} - {""}:
            source_ids[g] = rid
        if "\r\n" in raw.lstrip("\ufeff") and n_codings:
            crlf_sources.append(rid)
        text, omap = normalise_text(raw, bom_counts=bom_counts, crlf_counts=crlf)
        src_guid = _norm_guid(sel_src.get("guid"))
        row: dict[str, Any] = {"response_id": rid, **_values(sel_src, variables)}
        if tel is not sel_src:
            row.update({k: v for k, v in _values(tel, variables).items() if k not in row})
        for k, v in case_values.get(src_guid, {}).items():
            row.setdefault(k, v)
        if case_names.get(src_guid):
            row.setdefault("case", "; ".join(case_names[src_guid]))
        if source_sets.get(src_guid):
            row.setdefault("sets", "; ".join(source_sets[src_guid]))
        row["text"] = text
        resp_rows.append(row)

        def add(code_guid: str, s: int, e: int, user: str | None, memo: str | None,
                _rid: str = rid, _omap: list[int] = omap, _text: str = text) -> None:
            code = gid.get(_norm_guid(code_guid))
            if code is None:
                warnings.append(Problem("unknown_code_ref", f"coding refers to unknown "
                                        f"code {code_guid}; skipped", f"{path} {_rid}"))
                return
            if not (0 <= s <= e < len(_omap)):
                warnings.append(Problem("selection_out_of_range", f"selection {s}:{e} "
                                        f"outside the source; skipped", f"{path} {_rid}"))
                return
            ns, ne = _omap[s], _omap[e]
            cod_rows.append({"response_id": _rid, "code": code, "start": ns, "end": ne,
                             "excerpt": _text[ns:ne], "coder": user or "unknown",
                             "memo": memo})

        for sel in selections:
            try:
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                warnings.append(Problem("bad_selection", "selection without integer "
                                        "start/end positions; skipped", where))
                continue
            source_ids[_norm_guid(sel.get("guid"))] = rid
            memo = (_kid_text(sel, "Description") or "").strip() or None  # <Description/>
            codings = _kids(sel, "Coding")
            for cd in codings:
                ref_el = _kid(cd, "CodeRef")
                add(ref_el.get("targetGUID") if ref_el is not None else "", s, e,
                    _user_of(cd, users) or _user_of(sel, users), memo)
            if not codings:
                # an annotation: MAXQDA writes a selection with a Description and no
                # Coding; NVivo a bare selection that a Link ties to a Note (read below)
                if memo is None and _norm_guid(sel.get("guid")) in linked:
                    continue
                if memo is None or not (0 <= s <= e < len(omap)):
                    warnings.append(Problem("selection_without_coding", f"selection {s}:{e} "
                                            "has neither a coding nor a memo; skipped", where))
                    continue
                ns, ne = omap[s], omap[e]
                memos.append(Memo(
                    name=_slug(f"annotation-{rid}-{ns}-{ne}"), date=_date_of(sel),
                    author=_user_of(sel, users) or "unknown", about=[rid],
                    body=f"Annotation of {rid} [{ns}:{ne}]: \u201c{text[ns:ne]}\u201d\n\n"
                         f"{memo}\n"))
        for cd in _kids(tel, "Coding"):  # the whole source coded
            ref_el = _kid(cd, "CodeRef")
            add(ref_el.get("targetGUID") if ref_el is not None else "", 0, len(omap) - 1,
                _user_of(cd, users) or _user_of(tel, users), None)
    if missing:
        if missing_sources == "error":
            raise ValidationError(f"{path} (pass missing_sources='skip' to import the rest)",
                                  missing)
        warnings.extend(missing)
    if crlf_sources and crlf_counts is None and crlf:
        warnings.append(Problem(
            "crlf_offsets", f"{len(crlf_sources)} coded source(s) have CRLF line ends "
            f"(first: {crlf_sources[0]!r}); positions were read counting a CRLF as two "
            f"characters, as the standard says; if excerpts look shifted by one per line, "
            f"import again with crlf_counts=False", str(path)))
    # notes -> memos
    notes_el = _kid(root, "Notes")
    refs = _note_targets(root, gid, source_ids)
    for n in (_kids(notes_el, "Note") if notes_el is not None else []):
        content = _kid_text(n, "PlainTextContent")
        if content is None and n.get("plainTextPath"):
            data = files.read(n.get("plainTextPath"))
            if data is None:
                warnings.append(Problem("missing_note", f"text of note {n.get('name')!r} not "
                                        f"found ({n.get('plainTextPath')}); imported empty",
                                        str(path)))
            content = _decode(data, f"{path} note") if data is not None else ""
        content = normalise_text(content or "")[0]
        if content and not content.endswith("\n"):
            content += "\n"  # as the memo file written by import_refi reads back
        name = _slug(n.get("name") or _norm_guid(n.get("guid")))
        try:
            memos.append(parse_memo(content, name))
        except ValidationError:
            memos.append(Memo(name=name, date=_date_of(n), author=_user_of(n, users) or "unknown",
                              about=refs.get(_norm_guid(n.get("guid")), []), body=content))
    # memo names become file names: make them unique
    seen: set[str] = set()
    for m in memos:
        base, k = m.name, 2
        while m.name in seen:
            m.name, k = f"{base}-{k}", k + 1
        seen.add(m.name)

    var_names = [v for v in dict.fromkeys(variables.values()) if v not in {"response_id", "text"}]
    extra = [c for r in resp_rows for c in r if c not in {"response_id", "text", *var_names}]
    columns = ["response_id", *var_names, *dict.fromkeys(extra), "text"]
    responses = pd.DataFrame(resp_rows, columns=columns)
    for col in ("respondent_id", "question"):
        if col not in responses:
            responses[col] = pd.NA
    order = [c for c in (meta or {}).get("response_columns") or [] if c in responses.columns]
    if not order:
        order = ["response_id", "respondent_id", "question"]
    responses = responses[order + [c for c in responses.columns if c not in order]]
    responses = responses.astype("string")
    codings = _typed(pd.DataFrame(cod_rows, columns=CODINGS_COLUMNS))
    codings = codings.sort_values(["response_id", "start", "end", "code", "coder"],
                                  kind="stable").reset_index(drop=True)
    return RefiProject(codebook=_checked(codebook, str(path)), codings=codings,
                       responses=responses, memos=memos, warnings=warnings)


def read_qdpx(path: str | os.PathLike[str], *, bom_counts: bool = False,
              crlf_counts: bool | None = None, missing_sources: str = "error") -> RefiProject:
    """Read a REFI-QDA project archive (``.qdpx``) written by thematic or another tool.

    Parameters
    ----------
    path : str or os.PathLike
    bom_counts : bool
        Whether the writing tool counted a leading BOM in selection positions
        (default: no). See the module docstring on offsets.
    crlf_counts : bool, optional
        Whether the writing tool counted a CRLF line end as two characters. Default:
        from the project's ``origin`` (no for ATLAS.ti and QualCoder, yes otherwise, as
        the standard says); a warning ``crlf_offsets`` tells when it mattered.
    missing_sources : {"error", "skip"}
        A source whose text is neither in the archive, nor inline, nor at its
        ``relative://`` / ``absolute://`` path: ``"error"`` raises a ValidationError
        naming every such source; ``"skip"`` leaves them (and their codings) out with a
        warning ``missing_source`` each.

    Returns
    -------
    RefiProject
        ``codebook``, ``codings`` (coder = user name), ``responses`` (``response_id`` =
        source name; variables, ``case`` and ``sets`` as columns), ``memos`` (notes and
        annotations), ``warnings``.

    Raises
    ------
    InputError
        If the archive, its ``.qde`` or a source text cannot be read.
    ValidationError
        If source texts are missing (``missing_sources="error"``) or the codebook read
        is not valid.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError("not a .qdpx (zip) archive", path=path) from None
    with zf:
        qde = _find_qde(zf)
        try:
            root = etree.fromstring(zf.read(qde), parser=_parser())
        except etree.XMLSyntaxError as exc:
            raise InputError(f"{qde} is not XML: {exc}", path=path) from None
        files = _Files(zf, path.parent, root.get("basePath"), path.parent / f"{path.stem} Media")
        return _read_project(root, files, path,
                             bom_counts=bom_counts, crlf_counts=crlf_counts,
                             missing_sources=missing_sources)


def read_qde(path: str | os.PathLike[str], *, bom_counts: bool = False,
             crlf_counts: bool | None = None, missing_sources: str = "error") -> RefiProject:
    """Read a bare REFI-QDA project file (``project.qde``, an unzipped ``.qdpx``).

    Source texts are looked for as in the archive: ``internal://x.txt`` in a
    ``sources/`` folder (any case) next to the ``.qde``, ``relative://`` under the
    project's ``basePath`` or next to the ``.qde``, ``absolute://`` as given.

    Parameters
    ----------
    path : str or os.PathLike
    bom_counts, crlf_counts, missing_sources
        See :func:`read_qdpx`.

    Returns
    -------
    RefiProject

    Raises
    ------
    InputError
        If the file is missing, not XML, or a codebook rather than a project.
    ValidationError
        If source texts are missing (``missing_sources="error"``), naming every one.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    root = _parse_xml(path.read_bytes(), path)
    if _local(root) != "Project":
        hint = " (a codebook: use read_qdc)" if _local(root) == "CodeBook" else ""
        raise InputError(f"not a REFI-QDA project: root element is {_local(root)!r}{hint}",
                         path=path)
    files = _Files(None, path.parent, root.get("basePath"), path.parent / f"{path.stem} Media")
    return _read_project(root, files, path,
                         bom_counts=bom_counts, crlf_counts=crlf_counts,
                         missing_sources=missing_sources)


def _note_targets(root: etree._Element, gid: dict[str, str],
                  source_ids: dict[str, str]) -> dict[str, list[str]]:
    """Note guid -> ids it is about: from ``NoteRef`` and NVivo's ``Links``."""
    out: dict[str, list[str]] = defaultdict(list)

    def target(g: str) -> str | None:
        return gid.get(g) or source_ids.get(g)

    for el in root.iter():
        if _local(el) == "NoteRef":
            parent = el.getparent()
            t = target(_norm_guid(parent.get("guid"))) if parent is not None else None
            if t:
                out[_norm_guid(el.get("targetGUID"))].append(t)
    notes = _kid(root, "Notes")
    note_guids = {_norm_guid(n.get("guid")) for n in (_kids(notes, "Note")
                                                       if notes is not None else [])}
    links = _kid(root, "Links")
    for ln in (_kids(links, "Link") if links is not None else []):
        a, b = _norm_guid(ln.get("originGUID")), _norm_guid(ln.get("targetGUID"))
        for note, other in ((a, b), (b, a)):
            t = target(other)
            if note in note_guids and t and t not in out[note]:
                out[note].append(t)
    return out


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s.strip()).strip("-.") or "note"


def import_refi(path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                bom_counts: bool = False, crlf_counts: bool | None = None,
                missing_sources: str = "error",
                warnings: list[Problem] | None = None) -> dict[str, Path]:
    """Import a ``.qdpx``, bare ``.qde`` or ``.qdc`` into ``codebook.yaml``, ``codings.csv``...

    Parameters
    ----------
    path : str or os.PathLike
        A zip is a ``.qdpx``; otherwise the XML root decides: ``Project`` (a bare
        ``.qde``, :func:`read_qde`) or ``CodeBook`` (a ``.qdc``), whatever the extension.
    out_dir : str or os.PathLike
        Folder to write into (created); memos go to ``out_dir/memos/``.
    bom_counts, crlf_counts, missing_sources
        See :func:`read_qdpx`.
    warnings : list, optional
        If given, the import's warnings (:attr:`RefiProject.warnings`) are appended.

    Returns
    -------
    dict of str to pathlib.Path
        The files written (``codebook``, and for a project ``codings``, ``responses``,
        ``memos``).

    Raises
    ------
    InputError
        If the file is missing, neither a zip nor XML, or XML of another kind.
    ValidationError
        See :func:`read_qdpx`.
    """
    path, out = Path(path), Path(out_dir)
    if not path.is_file():
        raise InputError("file not found", path=path)
    with open(path, "rb") as fh:
        is_zip = fh.read(2) == b"PK"
    written: dict[str, Path] = {}
    opts = {"bom_counts": bom_counts, "crlf_counts": crlf_counts,
            "missing_sources": missing_sources}
    if is_zip:
        proj = read_qdpx(path, **opts)
    else:
        kind = _local(_parse_xml(path.read_bytes(), path))
        if kind == "CodeBook":
            written["codebook"] = save_codebook(read_qdc(path, warnings=warnings),
                                                out / "codebook.yaml")
            return written
        if kind != "Project":
            raise InputError(f"neither a REFI-QDA project nor a codebook: root element "
                             f"is {kind!r}", path=path)
        proj = read_qde(path, **opts)
    if warnings is not None:
        warnings.extend(proj.warnings)
    written["codebook"] = save_codebook(proj.codebook, out / "codebook.yaml")
    written["codings"] = save_codings(proj.codings, out / "codings.csv")
    written["responses"] = write_csv(proj.responses, out / "responses.csv")
    if proj.memos:
        for m in proj.memos:
            save_memo(m, out / "memos")
        written["memos"] = out / "memos"
    return written



# --------------------------------------------------------------------------- Taguette

#: Taguette's codebook CSV header (``taguette/export.py``, ``codebook_csv``), in order.
TAGUETTE_CODEBOOK_COLUMNS: list[str] = ["tag", "parent", "description", "number of highlights"]
#: Taguette's highlights CSV header (``taguette/export.py``, ``highlights_csv``), in order.
TAGUETTE_HIGHLIGHTS_COLUMNS: list[str] = ["id", "document", "tag", "content"]


def export_taguette_codebook(codebook: Codebook, path: str | os.PathLike[str], *,
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
    """
    if tag not in {"name", "id"}:
        raise ValueError(f"tag must be 'name' or 'id', not {tag!r}")
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
                           section_name: str = "Taguette tags",
                           warnings: list[Problem] | None = None) -> Codebook:
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
    warnings : list, optional
        If given, a ``unknown_parent`` problem is appended for each tag whose parent is
        not in the file (the tag is kept as a theme).

    Returns
    -------
    Codebook

    Raises
    ------
    InputError
        If no (or more than one) tag column, or a row has an empty tag.
    """
    path = Path(path)
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

    themes = [theme(n) for n in order if not parent_of[n]]
    if warnings is not None:
        warnings.extend(found)
    cb = Codebook(version="imported", status="candidate",
                  sections=[Section(section_id, section_name, "Tags imported from Taguette.",
                                    themes)],
                  title=f"Imported from {path.name}")
    return _checked(cb, str(path))


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
