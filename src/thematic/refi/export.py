"""REFI-QDA export: a study as a ``.qdpx`` project archive, its codebook as a ``.qdc``.

What goes where (:func:`write_qdpx`, :func:`write_qdc`):

* responses -> ``TextSource`` elements named by ``response_id``, text in
  ``sources/<guid>.txt`` (UTF-8, no BOM, LF line ends, NFC); other response columns ->
  text ``Variables`` (``text_raw`` is never exported: it may hold identifying text);
* codebook -> nested ``Code`` elements: sections are non-codable parents of their
  themes; themes, subthemes and codes are codable (codings point at themes), except
  a theme or subtheme that has children and is never coded, which is exported as a
  non-codable parent; descriptions carry definitions;
* codings -> ``PlainTextSelection`` + ``Coding``/``CodeRef``, one selection per coded
  segment, ``creatingUser`` = the coder; memo -> the selection's ``Description``;
* coders, memo authors and :data:`EXPORT_USER` (who creates the sources) ->
  ``Users``; every source, selection, coding and note has a ``creatingUser`` and
  dates (the codebook's ``date``; a memo's own date); memos -> ``Notes`` (whole
  Markdown file) written both inline (``PlainTextContent``) and as a text file in
  the archive (``plainTextPath="internal://<guid>.txt"``, the one form QualCoder
  reads), with ``NoteRef`` from the codes or sources they are about (project
  ``NoteRef`` otherwise); a note about responses also holds a selection of the
  response, which QualCoder needs to keep it as an annotation;
* the thematic map -> a ``Graph``: a vertex per section and theme, edges from each
  section to its themes (``contains``) and one per codebook relation;
* what REFI-QDA has no place for (stable ids, kinds, statuses, notes, inclusion /
  exclusion criteria, relation notes, map version) -> a code ``Set`` named
  :data:`~thematic.refi.METADATA_SET` whose description is YAML; other tools show it as an empty
  set and keep it; the import uses it when present.

GUIDs are UUID5 of stable ids in a fixed namespace, dates come from the codebook
(``date``) and memo files, never the clock, and the zip has fixed timestamps and
entry order: exporting twice gives byte-identical files. Both writers return a
:class:`RefiExport`: the file written, what it holds, and what a receiving tool may not
read (graphs, code sets; :func:`qdpx_caveats`).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from lxml import etree

from .. import __version__
from ..codebook import Code, Codebook, Theme
from ..coding import Memo, _typed
from ..errors import InputError
from ..io import atomic_open
from ._text import _normalise
from ._xml import _C, _DEFAULT_DATE, _P, METADATA_SET, _el, _xml_bytes, _xml_text, guid_for

__all__ = [
    "EXPORT_USER",
    "RefiExport",
    "qdc_bytes",
    "qdpx_bytes",
    "write_qdc",
    "write_qdpx",
    "qdpx_caveats",
]

#: Name of the REFI-QDA ``User`` that creates the sources of an export (its GUID is
#: ``guid_for("user", EXPORT_USER)``); coders and memo authors are users of their own.
EXPORT_USER: str = "thematic"

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class RefiExport:
    """What :func:`write_qdpx` or :func:`write_qdc` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The file written.
    n_sources, n_codings, n_codes, n_memos : int
        Sources (responses), coded segments, themes/subthemes/codes and memos in it
        (a ``.qdc`` holds codes only).
    caveats : list of str
        What a receiving tool may not read (code sets, graphs, ...), one sentence each.
    """

    path: Path
    n_sources: int
    n_codings: int
    n_codes: int
    n_memos: int
    caveats: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = (f"wrote {self.path.name}: {self.n_sources} sources, {self.n_codings} codings, "
                f"{self.n_codes} themes/subthemes/codes, {self.n_memos} memos")
        return "\n".join([head, *(f"note: {c}" for c in self.caveats)])
_SYMMETRIC = {"interconnected", "related", "tension", "associated"}


def _iso(date: str | None) -> str:
    d = (date or _DEFAULT_DATE).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
        return f"{d}T00:00:00Z"
    return d


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
    for c in _loose_parts(codebook)[1]:
        cd: dict[str, Any] = {"id": c.id, "kind": "code"}
        if c.inclusion is not None:
            cd["inclusion"] = c.inclusion
        if c.exclusion is not None:
            cd["exclusion"] = c.exclusion
        codes[guid_for("code", c.id)] = cd
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
    loose_themes, loose_codes = _loose_parts(codebook)
    for t in loose_themes:  # themes without a section: top-level codes
        theme_el(codes_el, t)
    for c in loose_codes:  # codes without a theme: top-level codable codes
        ce = _el(codes_el, "Code", ns, {"guid": guid_for("code", c.id), "name": c.name,
                                        "isCodable": "true"})
        if c.definition:
            _el(ce, "Description", ns, text=c.definition)
        add_refs(ce, c.id)


def _loose_parts(codebook: Codebook) -> tuple[list[Theme], list[Code]]:
    """Themes without a section and codes without a theme (if the codebook has them)."""
    return (list(getattr(codebook, "themes_without_section", []) or []),
            list(getattr(codebook, "codes_without_theme", []) or []))


def _loose(codebook: Codebook) -> bool:
    a, b = _loose_parts(codebook)
    return bool(a or b)


def _metadata_set(parent: etree._Element, ns: str, codebook: Codebook,
                  columns: Sequence[str] | None = None) -> None:
    sets = _el(parent, "Sets", ns)
    st = _el(sets, "Set", ns, {"guid": guid_for("set", METADATA_SET), "name": METADATA_SET})
    _el(st, "Description", ns, text=_metadata(codebook, columns))



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
    if not codebook.sections and not _loose(codebook):
        raise InputError("a .qdc needs at least one code; the codebook has no sections")
    root = _el(None, "CodeBook", _C, {"origin": f"thematic {__version__}"})
    _codes_xml(root, _C, codebook, _codable_ids(codebook, None), {})
    _metadata_set(root, _C, codebook)
    return _xml_bytes(root)


def write_qdc(codebook: Codebook, path: str | os.PathLike[str]) -> RefiExport:
    """Write ``codebook`` as a REFI-QDA codebook file (``.qdc``), atomically.

    Parameters
    ----------
    codebook : Codebook
    path : str or os.PathLike

    Returns
    -------
    RefiExport
        The path written, the number of codes, and what a receiving tool may not read.

    Raises
    ------
    InputError
        If the codebook has no code (REFI-QDA requires at least one).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> exported = thematic.write_qdc(study.codebook, study.root / "codebook.qdc")
    >>> exported.path.name, exported.n_codes
    ('codebook.qdc', 17)
    """
    data = qdc_bytes(codebook)
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    caveats = [f"Stable ids, kinds, statuses, inclusion/exclusion criteria and notes are in "
               f"the code set {METADATA_SET!r}; tools without code sets drop it."]
    return RefiExport(Path(path), 0, 0, len(codebook.to_frame()), 0, caveats)


def _prepare_sources(responses: pd.DataFrame, codings: pd.DataFrame
                     ) -> tuple[dict[str, str], pd.DataFrame]:
    """Normalised text per response, and codings with offsets mapped onto it."""
    texts: dict[str, str] = {}
    maps: dict[str, Sequence[int]] = {}
    for rid, t in zip(responses["response_id"], responses["text"], strict=True):
        text, m = _normalise("" if pd.isna(t) else str(t))
        texts[str(rid)] = text
        maps[str(rid)] = m
    c = _typed(codings).copy()
    starts, ends = [], []
    for rid, s, e in zip(c["response_id"], c["start"], c["end"], strict=True):
        m = maps.get(str(rid))
        if m is None or pd.isna(s) or pd.isna(e) or not (0 <= int(s) <= int(e) < len(m)):
            raise InputError(f"coding of {rid}[{s}:{e}] does not fit the responses; run "
                             "`thematic check` first")
        starts.append(int(m[int(s)]))
        ends.append(int(m[int(e)]))
    c["start"], c["end"] = starts, ends
    return texts, c



def _about_responses(m: Memo, rids: set[str]) -> list[str]:
    return [a for a in m.about if a in rids]


def qdpx_bytes(
    codebook: Codebook,
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    memos: Sequence[Memo] = (),
    *,
    project_name: str | None = None,
) -> bytes:
    """Return the REFI-QDA project archive (``.qdpx``) as bytes. See :func:`write_qdpx`.

    The ``Project`` element is built in the order the schema wants: users, codebook,
    variables, sources (with their selections and codings), notes, the metadata set,
    the graph, the project description and its note references; then it is zipped
    with the source and note texts.
    """
    date = _iso(codebook.date)
    texts, cod = _prepare_sources(responses, codings)
    cod = cod.sort_values(["response_id", "start", "end", "code", "coder"], kind="stable")
    known = codebook.ids()
    root = _project_xml(codebook, cod, memos, project_name, date)
    code_refs, source_refs, project_refs = _note_refs(memos, known, set(texts))
    if codebook.sections or _loose(codebook):  # the schema wants at least one Code
        cb = _el(root, "CodeBook", _P)
        _codes_xml(cb, _P, codebook, _codable_ids(codebook, cod), code_refs)
    var_cols = _variables_xml(root, responses)
    files: dict[str, bytes] = {}
    _sources_xml(root, responses, texts, cod, files, var_cols=var_cols,
                 source_refs=source_refs, date=date)
    if memos:
        _notes_xml(root, memos, texts, files)
    _metadata_set(root, _P, codebook,
                  [c for c in responses.columns if c != "text_raw"])
    _graph(root, codebook)
    if codebook.note:
        _el(root, "Description", _P, text=codebook.note)
    for g in project_refs:
        _el(root, "NoteRef", _P, {"targetGUID": g})
    return _zip_bytes(_xml_bytes(root), files)


def _project_xml(codebook: Codebook, cod: pd.DataFrame, memos: Sequence[Memo],
                 project_name: str | None, date: str) -> etree._Element:
    """Make the ``Project`` root and its ``Users``: the exporter, coders, memo authors."""
    owner = guid_for("user", EXPORT_USER)
    users = sorted(set(cod["coder"].dropna().astype(str)) | {m.author for m in memos}
                   | {EXPORT_USER})
    root = _el(None, "Project", _P, {
        "name": project_name or codebook.title or "thematic project",
        "origin": f"thematic {__version__}",
        "creatingUserGUID": owner,
        "creationDateTime": date,
        "modifyingUserGUID": owner,
        "modifiedDateTime": date,
    })
    ue = _el(root, "Users", _P)
    for u in users:
        _el(ue, "User", _P, {"guid": guid_for("user", u), "name": u})
    return root


def _note_refs(memos: Sequence[Memo], known: set[str], rids: set[str]
               ) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """Return the note GUIDs each code and source refers to, and the project's.

    A memo about codes or responses is referred to from them; a memo about nothing
    the export holds, from the project.
    """
    code_refs: dict[str, list[str]] = defaultdict(list)
    source_refs: dict[str, list[str]] = defaultdict(list)
    project_refs: list[str] = []
    for m in memos:
        g = guid_for("note", m.name)
        targets = [a for a in m.about if a in known or a in rids]
        for a in targets:
            (code_refs if a in known else source_refs)[a].append(g)
        if not targets:
            project_refs.append(g)
    return code_refs, source_refs, project_refs


def _variables_xml(root: etree._Element, responses: pd.DataFrame) -> list[str]:
    """Declare a text ``Variable`` per response column but text and id; return those."""
    var_cols = [c for c in responses.columns if c not in {"response_id", "text", "text_raw"}]
    if var_cols:
        ve = _el(root, "Variables", _P)
        for col in var_cols:
            _el(ve, "Variable", _P, {"guid": guid_for("variable", col), "name": col,
                                     "typeOfVariable": "Text"})
    return var_cols


def _sources_xml(root: etree._Element, responses: pd.DataFrame, texts: dict[str, str],
                 cod: pd.DataFrame, files: dict[str, bytes], *, var_cols: list[str],
                 source_refs: dict[str, list[str]], date: str) -> None:
    """Add a ``TextSource`` per response (text into ``files``), with codings and values."""
    owner = guid_for("user", EXPORT_USER)
    src_el = _el(root, "Sources", _P)
    by_resp = {rid: d for rid, d in cod.groupby("response_id", sort=False)}
    for _, row in responses.iterrows():
        rid = str(row["response_id"])
        g = guid_for("source", rid)
        fname = f"{g}.txt"
        files[f"sources/{fname}"] = texts[rid].encode("utf-8")
        ts = _el(src_el, "TextSource", _P, {"guid": g, "name": rid,
                                           "plainTextPath": f"internal://{fname}",
                                           "creatingUser": owner,
                                           "creationDateTime": date,
                                           "modifyingUser": owner,
                                           "modifiedDateTime": date})
        d = by_resp.get(rid)
        if d is not None:
            _selections_xml(ts, rid, texts[rid], d, date)
        for ng in source_refs.get(rid, []):
            _el(ts, "NoteRef", _P, {"targetGUID": ng})
        _variable_values_xml(ts, row, var_cols)
    if not len(src_el):
        root.remove(src_el)


def _selections_xml(ts: etree._Element, rid: str, text: str, codings: pd.DataFrame,
                    date: str) -> None:
    """Add a ``PlainTextSelection`` and its ``Coding`` per coding of a response."""
    for r in codings.itertuples(index=False):
        key = f"{rid}:{r.start}:{r.end}:{r.code}:{r.coder}"
        coder = guid_for("user", str(r.coder))
        sel = _el(ts, "PlainTextSelection", _P, {
            "guid": guid_for("selection", key),
            "name": _short_name(text[int(r.start):int(r.end)]),
            "startPosition": str(int(r.start)), "endPosition": str(int(r.end)),
            "creatingUser": coder, "creationDateTime": date,
            "modifyingUser": coder, "modifiedDateTime": date,
        })
        if not pd.isna(r.memo) and str(r.memo) != "":
            _el(sel, "Description", _P, text=str(r.memo))
        cd = _el(sel, "Coding", _P, {"guid": guid_for("coding", key),
                                     "creatingUser": coder,
                                     "creationDateTime": date})
        _el(cd, "CodeRef", _P, {"targetGUID": guid_for("code", str(r.code))})


def _variable_values_xml(ts: etree._Element, row: pd.Series, var_cols: list[str]) -> None:
    """Add a ``VariableValue`` to a source per non-missing value of its response."""
    for col in var_cols:
        v = row[col]
        if pd.isna(v):
            continue
        vv = _el(ts, "VariableValue", _P)
        _el(vv, "VariableRef", _P, {"targetGUID": guid_for("variable", col)})
        _el(vv, "TextValue", _P, text=str(v))


def _notes_xml(root: etree._Element, memos: Sequence[Memo], texts: dict[str, str],
               files: dict[str, bytes]) -> None:
    """Add a ``Note`` per memo, its text both inline and as a file (into ``files``).

    Both forms, so that every reader keeps the memo: inline text (thematic, NVivo,
    ATLAS.ti) and a text file in the archive (QualCoder reads only that).
    """
    rids = set(texts)
    ne = _el(root, "Notes", _P)
    for m in memos:
        g = guid_for("note", m.name)
        author, mdate = guid_for("user", m.author), _iso(m.date)
        text = _xml_text(m.to_text())
        files[f"sources/{g}.txt"] = text.encode("utf-8")
        note = _el(ne, "Note", _P, {"guid": g, "name": m.name,
                                    "plainTextPath": f"internal://{g}.txt",
                                    "creatingUser": author, "creationDateTime": mdate,
                                    "modifyingUser": author, "modifiedDateTime": mdate})
        _el(note, "PlainTextContent", _P, text=text)
        about = _about_responses(m, rids)
        if about:
            # QualCoder reads a note referred to by a source as an annotation of the
            # selection it holds (positions in the source): the whole response
            end = min(len(texts[a]) for a in about)
            _el(note, "PlainTextSelection", _P, {
                "guid": guid_for("selection", f"note:{m.name}"), "name": m.name,
                "startPosition": "0", "endPosition": str(end),
                "creatingUser": author, "creationDateTime": mdate,
                "modifyingUser": author, "modifiedDateTime": mdate})


def _zip_bytes(qde: bytes, files: dict[str, bytes]) -> bytes:
    """Zip the ``.qdpx``: ``project.qde`` first, then the files by name, fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("project.qde", qde), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def qdpx_caveats(codebook: Codebook, memos: Sequence[Memo] = (),
                   responses: pd.DataFrame | None = None) -> list[str]:
    """Say what a receiving tool may not read from an export of this project.

    REFI-QDA tools differ in what they import: QualCoder (4.0) reads no graphs and no
    code sets and reads notes as journals or annotations; other tools may drop graphs
    or sets too. Each line names what is written where, and what is lost if a tool
    ignores it.

    Parameters
    ----------
    codebook : Codebook
    memos : sequence of Memo
        The memos exported as notes.
    responses : pandas.DataFrame, optional
        The responses exported as sources (their metadata columns become variables).

    Returns
    -------
    list of str
        One sentence per caveat.
    """
    out = []
    if codebook.sections:
        out.append("The thematic map (sections, themes and their relations) is written as a "
                   "REFI-QDA Graph; tools that do not import graphs (QualCoder, for one) keep "
                   "the code hierarchy but not the relations between themes.")
    out.append(f"Stable ids, kinds, statuses, inclusion/exclusion criteria, notes and "
               f"relations are in the code set {METADATA_SET!r}; tools without code sets "
               f"(QualCoder, for one) drop it, and a project they export again imports "
               f"into thematic with ids made from GUIDs and every status 'candidate'.")
    if memos:
        out.append(f"{len(memos)} memo(s) are written as Notes with inline text and a text "
                   f"file in sources/; QualCoder reads a note about a response as an "
                   f"annotation of that response and the others as journal entries (the "
                   f"link from a code or theme to its memo is not kept there).")
    if responses is not None:
        cols = [c for c in responses.columns if c not in {"response_id", "text", "text_raw"}]
        if cols:
            out.append(f"Response columns {', '.join(map(repr, cols))} are written as text "
                       f"Variables of each source; tools that read variables only from "
                       f"cases may not show them.")
    return out


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


def write_qdpx(
    path: str | os.PathLike[str],
    codebook: Codebook,
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    memos: Sequence[Memo] = (),
    *,
    project_name: str | None = None,
) -> RefiExport:
    """Write the project as a REFI-QDA project archive (``.qdpx``), atomically.

    Every source has a ``creatingUser`` (:data:`EXPORT_USER`) and creation and
    modification dates (the codebook's ``date``); selections and codings are created by
    their coder on that date; each memo is a ``Note`` by its author on its date, with
    its text both inline (``PlainTextContent``) and as ``sources/<guid>.txt``
    (``plainTextPath``), referred to (``NoteRef``) from the codes and sources it is about,
    or from the project. The output is byte-identical for the same input.

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
    RefiExport
        The path written, what it holds, and what a receiving tool may not read
        (:func:`qdpx_caveats`).

    Raises
    ------
    InputError
        If a coding does not fit its response.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> exported = thematic.write_qdpx(study.root / "staff-survey.qdpx", study.codebook,
    ...                                study.codings(analysable=True), study.analysable())
    >>> exported.n_sources, exported.n_codings, exported.n_codes
    (402, 598, 17)
    """
    data = qdpx_bytes(codebook, codings, responses, memos, project_name=project_name)
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return RefiExport(Path(path), len(responses), len(codings), len(codebook.to_frame()),
                      len(memos), qdpx_caveats(codebook, memos, responses))
