"""REFI-QDA import: read a ``.qdpx``, a bare ``.qde`` or a ``.qdc`` written by any tool.

:func:`read_qdpx`, :func:`read_qde` and :func:`read_qdc` return what a file holds, with
what the import adapted on the way (:class:`RefiProject`, ``.warnings``);
:func:`thematic.refi.import_refi` writes it into a study's files.

Accepts files written by other tools: a ``.qdpx`` or a bare ``project.qde`` with
its ``sources/`` folder next to it (an unzipped project, as MAXQDA projects are often
shared), ``Sources/`` or ``sources/`` (any case), any ``.qde`` name, GUIDs in braces
or any case, ``internal://`` and ``relative://`` paths inside the archive,
``PlainTextContent``, codes nested up to ``MAX_CODE_DEPTH`` levels, codebooks in the
``urn:QDA-XML:codebook:0:4`` namespace, XML and text files with a BOM, CRLF line
ends. A source whose text cannot be found is named in a ValidationError (all of
them at once, with the codings that depend on each), or skipped with a warning
(``missing_sources="skip"``).

**Hostile files.** The import reads nothing outside the archive (for a bare ``.qde``:
outside its ``sources/`` folder): ``absolute://``, ``file://``, absolute paths, ``..``,
a ``basePath`` outside and symbolic links are never opened; such sources are missing.
The one exception is a folder the user names (``sources_dir``, ``--sources-dir``), read
only inside it after resolving links and ``..``. Reading stops with a clear
:class:`~thematic.errors.InputError` at the limits of :mod:`thematic.refi.limits`:
``MAX_ARCHIVE_MEMBERS``, ``MAX_MEMBER_BYTES``, ``MAX_TOTAL_BYTES``,
``MAX_COMPRESSION_RATIO`` (zip bombs; members are read in chunks and counted),
``MAX_XML_DEPTH``, ``MAX_XML_ELEMENTS``, ``MAX_CODE_DEPTH``, ``MAX_SOURCE_CHARS``,
``MAX_POSITION``. Offsets are mapped in linear time and about 25 bytes a character.
Nothing read is evaluated: XML entities are not resolved (a reference is kept as
written, ``&name;``), no DTD or network resource is loaded, YAML (the metadata set, memo
front matter) is read as plain data without aliases. A corrupt archive (bad CRC), a root
that is not ``Project``/``CodeBook``, a code without a GUID or a GUID used twice, and a
selection whose positions are not whole numbers are errors; a coding without a code
reference or to an unknown code is skipped with a warning. The files of
:func:`~thematic.refi.import_refi` are written together or not at all.

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

Without the metadata set, ids are made from GUIDs (``S-``, ``T-``, ``C-`` + the first 8
hex digits of the SHA-1 of the GUID: stable across renames); non-codable top-level
codes with children become sections, other top-level codes themes of a section
``UNSORTED`` (MAXQDA marks every code codable, so its whole code system lands there);
below a theme, codes with children become subthemes and leaves codes.

A project is read in steps (``_read_project``): its codebook (``_codebook``); what it
says of its sources (users, variables, cases, document sets, links); each source, its
selections and codings (``_SourceReader``, texts found by ``_sources._Files``); its
notes; then the tables.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from lxml import etree

from ..codebook import Codebook
from ..coding import CODINGS_COLUMNS, Memo, _typed, empty_codings, parse_memo
from ..errors import InputError, Problem, ValidationError, check_option
from . import limits
from ._codebook import (
    _checked,
    _code_sets_warning,
    _codebook_from_xml,
    _graph_relations,
    _qdc_from_root,
    _read_metadata,
)
from ._sources import _decode, _Files
from ._text import _normalise
from ._xml import (
    _DEFAULT_DATE,
    _Budget,
    _find_qde,
    _kid,
    _kid_text,
    _kids,
    _local,
    _norm_guid,
    _open_zip,
    _parse_xml,
    _read_file,
    _read_member,
    _refi_root,
    _safe_yaml,
    _text_of,
)

__all__ = ["RefiProject", "read_qdpx", "read_qde", "read_qdc"]


@dataclass
class RefiProject:
    """What an import read: codebook, codings, responses, memos, and notes on the way.

    Every reader of another tool's file returns one: :func:`read_qdpx`,
    :func:`read_qde`, and for a codebook alone (:func:`read_qdc`,
    :func:`~thematic.refi.read_taguette_codebook`) with no codings, responses or memos.

    Attributes
    ----------
    codebook : Codebook
    codings : pandas.DataFrame
        Empty for a codebook file.
    responses : pandas.DataFrame
        Empty for a codebook file.
    memos : list of Memo
    warnings : list of Problem
        Things the import adapted (ids made from GUIDs, unknown references skipped...).
    """

    codebook: Codebook
    codings: pd.DataFrame
    responses: pd.DataFrame
    memos: list[Memo] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


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
        if name is not None and name not in {"response_id", "text"}:
            val = next((c for c in vv if _local(c) not in {"VariableRef", ""}), None)
            out[name] = None if val is None else _text_of(val)
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


_POSITION_RE = re.compile(r"\s*\+?(\d{1,13})\s*")


def _position(v: str | None) -> int | None:
    """Return a selection position (0 to ``MAX_POSITION``), or None if it is not one."""
    m = _POSITION_RE.fullmatch(v or "")
    if m is None:
        return None
    x = int(m.group(1))
    return x if x <= limits.MAX_POSITION else None


def _shown(v: str | None, n: int = 24) -> str:
    if v is None:
        return "missing"
    return repr(v) if len(v) <= n else repr(v[:n]) + f"... ({len(v)} characters)"


def _note_memo(content: str, name: str, n: etree._Element, users: dict[str, str],
               about: list[str]) -> Memo:
    """Make a memo of a note: its front matter if thematic wrote it, else its attributes."""
    fm = re.match(r"^---\n(.*?)\n---", content, flags=re.S)
    if fm:
        try:
            _safe_yaml(fm.group(1))  # no aliases, no deep nesting: safe to parse
            return parse_memo(content, name)
        except (yaml.YAMLError, ValidationError):
            pass
    return Memo(name=name, date=_date_of(n), author=_user_of(n, users) or "unknown",
                about=about, body=content)


def _read_project(root: etree._Element, files: _Files, path: Path, *, bom_counts: bool,
                  crlf_counts: bool | None, missing_sources: str) -> RefiProject:
    """Read a parsed REFI-QDA ``Project`` whose source files ``files`` finds.

    The steps: the codebook (with the metadata set, if any); what the project says of
    its sources (users, variables, cases, document sets, links); every source, its
    selections and codings (:class:`_SourceReader`); the notes, as memos; the tables.
    """
    check_option("missing_sources", missing_sources, _MISSING)
    warnings: list[Problem] = []
    crlf = _crlf_counts_for(root.get("origin") or "") if crlf_counts is None else crlf_counts
    meta = _read_metadata(root, str(path), warnings)
    codebook, gid = _project_codebook(root, meta, path, warnings)
    about = _read_about_sources(root)
    _code_sets_warning(root, str(path), warnings)
    reader = _SourceReader(path, files, gid, about, warnings,
                           bom_counts=bom_counts, crlf_counts=crlf)
    for text_el, source_el in _source_elements(_kid(root, "Sources"), str(path), warnings):
        reader.read_source(text_el, source_el)
    reader.finish(missing_sources, tell_crlf=crlf_counts is None and crlf)
    memos = reader.memos
    memos.extend(_read_notes(root, files, path, gid, reader.source_ids, about.users,
                             warnings))
    if files.from_dir:
        warnings.append(Problem("read_from_sources_dir", f"{len(files.from_dir)} file(s) read "
                                f"from the folder named for missing sources "
                                f"({files.sources_dir}); first: {files.from_dir[0]}", str(path)))
    _unique_names(memos)
    responses = _responses_frame(reader.rows, about.variables, meta)
    codings = _typed(pd.DataFrame(reader.codings, columns=CODINGS_COLUMNS))
    codings = codings.sort_values(["response_id", "start", "end", "code", "coder"],
                                  kind="stable").reset_index(drop=True)
    return RefiProject(codebook=_checked(codebook, str(path)), codings=codings,
                       responses=responses, memos=memos, warnings=warnings)


def _project_codebook(root: etree._Element, meta: dict | None, path: Path,
                      warnings: list[Problem]) -> tuple[Codebook, dict[str, str]]:
    """Read the project's codebook (empty if it has none) and its guid -> id map.

    Without the metadata set, relations come from the project's graphs and the
    codebook note from the project's description (its memo in QualCoder and NVivo).
    """
    cb_el = _kid(root, "CodeBook")
    if cb_el is None:
        mc = (meta or {}).get("codebook") or {}
        codebook = Codebook(version=str(mc.get("version", "imported")),
                            status=str(mc.get("status", "candidate")), sections=[],
                            title=str(mc.get("title", "")),
                            note=None if mc.get("note") is None else str(mc["note"]),
                            date=None if mc.get("date") is None else str(mc["date"]))
        gid: dict[str, str] = {}
    else:
        codebook, gid = _codebook_from_xml(cb_el, meta, str(path), warnings)
    if meta is None:
        codebook.relations = _graph_relations(root, gid)
        desc = (_kid_text(root, "Description") or "").strip()
        if desc and codebook.note is None:  # the project memo (QualCoder, NVivo)
            codebook.note = desc
    return codebook, gid


@dataclass
class _AboutSources:
    """What a project says of its sources outside them; keys are normalised GUIDs.

    Attributes
    ----------
    users : dict
        User GUID -> name.
    variables : dict
        Variable GUID -> name.
    case_values : dict
        Source GUID -> variable values of the cases holding it.
    case_names : dict
        Source GUID -> names of the (named) cases holding it.
    source_sets : dict
        Source GUID -> names of the document sets holding it.
    linked : set
        GUIDs a ``Link`` ties to something (NVivo ties notes to selections so).
    """

    users: dict[str, str]
    variables: dict[str, str]
    case_values: dict[str, dict[str, str | None]]
    case_names: dict[str, list[str]]
    source_sets: dict[str, list[str]]
    linked: set[str]


def _read_about_sources(root: etree._Element) -> _AboutSources:
    """Read users, variables, cases, document sets and links of a project."""
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
    links_el = _kid(root, "Links")  # NVivo links notes to selections this way
    linked = {_norm_guid(ln.get(a)) for ln in (_kids(links_el, "Link") if links_el is not None
                                               else []) for a in ("originGUID", "targetGUID")}
    return _AboutSources(users, variables, case_values, case_names, source_sets, linked)


@dataclass
class _Source:
    """A source being read: its id, normalised text, offset map and place for messages."""

    rid: str
    text: str
    omap: Sequence[int]
    where: str


class _SourceReader:
    """Read the sources of a project one by one: responses, codings, annotations.

    What is found is collected: ``rows`` (responses), ``codings``, ``memos``
    (annotations), ``source_ids`` (source, representation and selection GUID -> id);
    sources whose text is missing and selections with bad positions are collected
    too and reported together by ``finish``.
    """

    def __init__(self, path: Path, files: _Files, gid: dict[str, str], about: _AboutSources,
                 warnings: list[Problem], *, bom_counts: bool, crlf_counts: bool) -> None:
        self.path, self.files, self.gid, self.about = path, files, gid, about
        self.warnings = warnings
        self.bom_counts, self.crlf_counts = bom_counts, crlf_counts
        self.rows: list[dict] = []
        self.codings: list[dict] = []
        self.memos: list[Memo] = []
        self.missing: list[Problem] = []
        self.bad: list[Problem] = []
        self.source_ids: dict[str, str] = {}
        self.used_ids: set[str] = set()
        self.crlf_sources: list[str] = []

    def read_source(self, tel: etree._Element, src_el: etree._Element) -> None:
        """Read one source: ``tel`` holds its text and selections, ``src_el`` is the source."""
        name = src_el.get("name") or _norm_guid(src_el.get("guid"))
        rid = self._unique_id(name)
        selections = _kids(tel, "PlainTextSelection")
        n_codings = sum(len(_kids(s, "Coding")) for s in selections) + len(_kids(tel, "Coding"))
        raw = self._raw_text(tel, name, rid, n_codings)
        if raw is None:
            return
        if len(raw) > limits.MAX_SOURCE_CHARS:
            raise InputError(f"source {name[:80]!r} has {len(raw):,} characters, more than "
                             f"{limits.MAX_SOURCE_CHARS:,} (limit MAX_SOURCE_CHARS)",
                             path=self.path)
        for g in {_norm_guid(tel.get("guid")), _norm_guid(src_el.get("guid"))} - {""}:
            self.source_ids[g] = rid
        if "\r\n" in raw.lstrip("\ufeff") and n_codings:
            self.crlf_sources.append(rid)
        text, omap = _normalise(raw, bom_counts=self.bom_counts, crlf_counts=self.crlf_counts)
        self.rows.append(self._response_row(tel, src_el, rid, text))
        src = _Source(rid, text, omap, f"{self.path} source {rid}")
        users = self.about.users
        for sel in selections:
            self._read_selection(sel, src)
        for cd in _kids(tel, "Coding"):  # the whole source coded
            self._add_coding(cd, 0, len(omap) - 1, _user_of(cd, users) or _user_of(tel, users),
                             None, "the whole source", src)

    def _unique_id(self, name: str) -> str:
        """Return the source's name, with a suffix if a source before had it."""
        rid, n = name, 2
        while rid in self.used_ids:  # MAXQDA allows two documents with one name
            rid, n = f"{name}-{n}", n + 1
        if rid != name:
            self.warnings.append(Problem("duplicate_source_name", f"a second source is named "
                                         f"{name!r}; imported as {rid!r}", str(self.path)))
        self.used_ids.add(rid)
        return rid

    def _raw_text(self, tel: etree._Element, name: str, rid: str, n_codings: int
                  ) -> str | None:
        """Return the source's text as stored (inline or in a file), or None if missing."""
        content = _kid_text(tel, "PlainTextContent")
        ref = tel.get("plainTextPath")
        if content is not None and not ref:
            return content
        data, why = self.files.read(ref or "")
        if data is not None:
            return _decode(data, f"{self.path} source {rid}")
        if content is not None:
            return content
        self.missing.append(Problem(
            "missing_source", f"text of source {name!r} not read "
            f"({why if ref else 'no plainTextPath'}); {n_codings} coding(s) depend "
            f"on it", str(self.path)))
        return None

    def _response_row(self, tel: etree._Element, src_el: etree._Element, rid: str,
                      text: str) -> dict[str, Any]:
        """Make the response of a source: its variables, case, sets and text."""
        about = self.about
        src_guid = _norm_guid(src_el.get("guid"))
        row: dict[str, Any] = {"response_id": rid, **_values(src_el, about.variables)}
        if tel is not src_el:
            row.update({k: v for k, v in _values(tel, about.variables).items() if k not in row})
        for k, v in about.case_values.get(src_guid, {}).items():
            row.setdefault(k, v)
        if about.case_names.get(src_guid):
            row.setdefault("case", "; ".join(about.case_names[src_guid]))
        if about.source_sets.get(src_guid):
            row.setdefault("sets", "; ".join(about.source_sets[src_guid]))
        row["text"] = text
        return row

    def _read_selection(self, sel: etree._Element, src: _Source) -> None:
        """Read a ``PlainTextSelection``: its codings, or the annotation it is."""
        users = self.about.users
        sg = (sel.get("guid") or "").strip()
        what = f"selection {sg or '(no guid)'}"
        s_raw, e_raw = sel.get("startPosition"), sel.get("endPosition")
        s, e = _position(s_raw), _position(e_raw)
        if s is None or e is None:
            self.bad.append(Problem("bad_selection", f"{what} has positions {_shown(s_raw)}:"
                                    f"{_shown(e_raw)}; positions must be whole numbers from 0 "
                                    f"to {limits.MAX_POSITION:,}", src.where))
            return
        self.source_ids[_norm_guid(sg)] = src.rid
        memo = (_kid_text(sel, "Description") or "").strip() or None  # <Description/>
        codings = _kids(sel, "Coding")
        for cd in codings:
            self._add_coding(cd, s, e, _user_of(cd, users) or _user_of(sel, users), memo, what,
                             src)
        if not codings:
            # an annotation: MAXQDA writes a selection with a Description and no
            # Coding; NVivo a bare selection that a Link ties to a Note (read later)
            if memo is None and _norm_guid(sg) in self.about.linked:
                return
            if memo is None or not (0 <= s <= e < len(src.omap)):
                self.warnings.append(Problem("selection_without_coding", f"{what} {s}:{e} "
                                             "has neither a coding nor a memo; skipped",
                                             src.where))
                return
            self.memos.append(_annotation(sel, src, s, e, memo, users))

    def _add_coding(self, cd: etree._Element, s: int, e: int, user: str | None,
                    memo: str | None, what: str, src: _Source) -> None:
        """Add a coding of positions ``s:e`` of the stored text, or warn why not."""
        ref_el = _kid(cd, "CodeRef")
        code_guid = (ref_el.get("targetGUID") if ref_el is not None else None) or ""
        where = f"{self.path} {src.rid}"
        if not _norm_guid(code_guid):
            self.warnings.append(Problem("coding_without_code", f"a coding of {what} has no "
                                         f"CodeRef targetGUID; skipped", where))
            return
        code = self.gid.get(_norm_guid(code_guid))
        if code is None:
            self.warnings.append(Problem("unknown_code_ref", f"a coding of {what} refers to "
                                         f"unknown code {code_guid}; skipped", where))
            return
        if not (0 <= s <= e < len(src.omap)):
            self.warnings.append(Problem("selection_out_of_range", f"{what}: positions {s}:{e} "
                                         f"outside the source ({len(src.omap) - 1} characters); "
                                         f"skipped", where))
            return
        ns, ne = int(src.omap[s]), int(src.omap[e])
        self.codings.append({"response_id": src.rid, "code": code, "start": ns, "end": ne,
                             "excerpt": src.text[ns:ne], "coder": user or "unknown",
                             "memo": memo})

    def finish(self, missing_sources: str, *, tell_crlf: bool) -> None:
        """Raise for bad selections and (``"error"``) missing sources; warn of the rest."""
        if self.bad:
            raise ValidationError(str(self.path), self.bad)
        if self.missing:
            if missing_sources == "error":
                raise ValidationError(f"{self.path} (pass missing_sources='skip' / "
                                      f"--missing-sources skip to import the rest)", self.missing)
            self.warnings.extend(self.missing)
        if self.crlf_sources and tell_crlf:
            self.warnings.append(Problem(
                "crlf_offsets", f"{len(self.crlf_sources)} coded source(s) have CRLF line ends "
                f"(first: {self.crlf_sources[0]!r}); positions were read counting a CRLF as two "
                f"characters, as the standard says; if excerpts look shifted by one per line, "
                f"import again with crlf_counts=False", str(self.path)))


def _annotation(sel: etree._Element, src: _Source, s: int, e: int, memo: str,
                users: dict[str, str]) -> Memo:
    """Make a memo of an uncoded selection with a description (a MAXQDA annotation)."""
    ns, ne = int(src.omap[s]), int(src.omap[e])
    return Memo(name=_slug(f"annotation-{src.rid}-{ns}-{ne}"), date=_date_of(sel),
                author=_user_of(sel, users) or "unknown", about=[src.rid],
                body=f"Annotation of {src.rid} [{ns}:{ne}]: \u201c{src.text[ns:ne]}\u201d\n\n"
                     f"{memo}\n")


def _read_notes(root: etree._Element, files: _Files, path: Path, gid: dict[str, str],
                source_ids: dict[str, str], users: dict[str, str],
                warnings: list[Problem]) -> list[Memo]:
    """Make a memo of every ``Note``, about the codes and sources that refer to it."""
    memos: list[Memo] = []
    notes_el = _kid(root, "Notes")
    refs = _note_targets(root, gid, source_ids)
    for n in (_kids(notes_el, "Note") if notes_el is not None else []):
        content = _kid_text(n, "PlainTextContent")
        if content is None and n.get("plainTextPath"):
            data, why = files.read(n.get("plainTextPath"))
            if data is None:
                warnings.append(Problem("missing_note", f"text of note {n.get('name')!r} not "
                                        f"read ({why}); imported empty", str(path)))
            content = _decode(data, f"{path} note {n.get('name')!r}") if data is not None else ""
        content = _normalise(content or "")[0]
        if content and not content.endswith("\n"):
            content += "\n"  # as the memo file written by import_refi reads back
        name = _slug(n.get("name") or _norm_guid(n.get("guid")))
        memos.append(_note_memo(content, name, n, users, refs.get(_norm_guid(n.get("guid")), [])))
    return memos


def _unique_names(memos: list[Memo]) -> None:
    """Make memo names (file names, once written) unique: ``-2``, ``-3``... appended."""
    seen: set[str] = set()
    for m in memos:
        base, k = m.name, 2
        while m.name in seen:
            m.name, k = f"{base}-{k}", k + 1
        seen.add(m.name)


def _responses_frame(rows: list[dict], variables: dict[str, str],
                     meta: dict | None) -> pd.DataFrame:
    """Make the responses table: columns in the exported order if the metadata says it."""
    var_names = [v for v in dict.fromkeys(variables.values()) if v not in {"response_id", "text"}]
    extra = [c for r in rows for c in r if c not in {"response_id", "text", *var_names}]
    columns = ["response_id", *var_names, *dict.fromkeys(extra), "text"]
    responses = pd.DataFrame(rows, columns=columns)
    for col in ("respondent_id", "question"):
        if col not in responses:
            responses[col] = pd.NA
    order = [c for c in (meta or {}).get("response_columns") or [] if c in responses.columns]
    if not order:
        order = ["response_id", "respondent_id", "question"]
    responses = responses[order + [c for c in responses.columns if c not in order]]
    return responses.astype("string")


def read_qdpx(path: str | os.PathLike[str], *, bom_counts: bool = False,
              crlf_counts: bool | None = None, missing_sources: str = "error",
              sources_dir: str | os.PathLike[str] | None = None) -> RefiProject:
    """Read a REFI-QDA project archive (``.qdpx``) written by thematic or another tool.

    Only the archive's members are read (within the limits of
    :mod:`thematic.refi.limits`: ``MAX_MEMBER_BYTES``, ``MAX_TOTAL_BYTES``,
    ``MAX_COMPRESSION_RATIO``, ``MAX_ARCHIVE_MEMBERS``), and the folder ``sources_dir``
    if the user names one.

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
        A source whose text is neither in the archive, nor inline, nor in
        ``sources_dir``: ``"error"`` raises a ValidationError naming every such source
        and the codings that depend on it; ``"skip"`` leaves them (and their codings)
        out with a warning ``missing_source`` each.
    sources_dir : str or os.PathLike, optional
        See :func:`~thematic.refi.import_refi`.

    Returns
    -------
    RefiProject
        ``codebook``, ``codings`` (coder = user name), ``responses`` (``response_id`` =
        source name; variables, ``case`` and ``sets`` as columns), ``memos`` (notes and
        annotations), ``warnings``.

    Raises
    ------
    InputError
        If the file is not a zip archive, a member cannot be read (bad CRC...), a limit
        is exceeded, the ``.qde`` is not a REFI-QDA project, or its codes are
        inconsistent (a GUID missing or used twice).
    ValidationError
        If source texts are missing (``missing_sources="error"``), selections have
        positions that are not whole numbers, or the codebook read is not valid.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> exported = study.write_refi(study.root / "staff-survey.qdpx")  # or NVivo's, MAXQDA's...
    >>> project = thematic.read_qdpx(exported.path)
    >>> len(project.responses), len(project.codings), [t.id for t in project.codebook.themes()]
    (402, 598, ['T1', 'T2', 'T3', 'T4', 'T5'])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    budget = _Budget()
    with _open_zip(path, path) as zf:
        info = _find_qde(zf, path)
        what = f"archive member {info.filename!r}"
        root = _parse_xml(_read_member(zf, info, path, budget), path, what)
        kind = _refi_root(root, path, what)
        if kind != "Project":
            raise InputError(f"{what} is a codebook, not a project", path=path)
        files = _Files(path=path, zf=zf, base_path=root.get("basePath"),
                       sources_dir=sources_dir, budget=budget)
        return _read_project(root, files, path,
                             bom_counts=bom_counts, crlf_counts=crlf_counts,
                             missing_sources=missing_sources)


def _qde_from_root(root: etree._Element, path: Path, *, bom_counts: bool,
                   crlf_counts: bool | None, missing_sources: str,
                   sources_dir: str | os.PathLike[str] | None,
                   budget: _Budget) -> RefiProject:
    kind = _refi_root(root, path)
    if kind != "Project":
        raise InputError(f"not a REFI-QDA project: root element is {kind!r} (a codebook: use "
                         f"read_qdc)", path=path)
    files = _Files(path=path, zf=None, base_path=root.get("basePath"),
                   sources_dir=sources_dir, budget=budget)
    return _read_project(root, files, path, bom_counts=bom_counts, crlf_counts=crlf_counts,
                         missing_sources=missing_sources)


def read_qde(path: str | os.PathLike[str], *, bom_counts: bool = False,
             crlf_counts: bool | None = None, missing_sources: str = "error",
             sources_dir: str | os.PathLike[str] | None = None) -> RefiProject:
    """Read a bare REFI-QDA project file (``project.qde``, an unzipped ``.qdpx``).

    The unzipped archive is the ``.qde`` and the ``sources/`` folder (any case) next to
    it: source texts are looked for there only (``internal://x.txt`` as
    ``sources/x.txt``), and in ``sources_dir`` if the user names one; nothing else on
    disk is read, whatever the paths in the project say.

    Parameters
    ----------
    path : str or os.PathLike
    bom_counts, crlf_counts, missing_sources
        See :func:`read_qdpx`.
    sources_dir : str or os.PathLike, optional
        See :func:`~thematic.refi.import_refi`.

    Returns
    -------
    RefiProject

    Raises
    ------
    InputError
        If the file is missing, not XML, a codebook rather than a project, or exceeds
        a limit.
    ValidationError
        If source texts are missing (``missing_sources="error"``), naming every one.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    budget = _Budget()
    root = _parse_xml(_read_file(path, budget, what="project"), path)
    return _qde_from_root(root, path, bom_counts=bom_counts, crlf_counts=crlf_counts,
                          missing_sources=missing_sources, sources_dir=sources_dir,
                          budget=budget)


def read_qdc(path: str | os.PathLike[str]) -> RefiProject:
    """Read a REFI-QDA codebook file (``.qdc``) written by any tool.

    Accepts any codebook namespace (``urn:QDA-XML:codebook:1.0``, or ``...:0:4`` as
    MAXQDA writes) and a UTF-8 BOM before the XML declaration (QualCoder).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    RefiProject
        ``codebook`` (checked like :func:`thematic.codebook.read_codebook`) and
        ``warnings``: what the import adapted (ids made from GUIDs, code sets not
        imported...); no codings, responses or memos.

    Raises
    ------
    InputError
        If the file is missing, not XML, a project rather than a codebook, has codes
        without GUIDs or a GUID used twice, or exceeds a limit (``MAX_CODE_DEPTH``...).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    root = _parse_xml(_read_file(path, _Budget(), what="codebook"), path)
    return _codebook_only(*_qdc_from_root(root, path))


def _codebook_only(codebook: Codebook, warnings: list[Problem]) -> RefiProject:
    """Return a :class:`RefiProject` of a codebook file: no codings, responses or memos."""
    responses = pd.DataFrame({"response_id": pd.Series([], dtype="string"),
                              "text": pd.Series([], dtype="string")})
    return RefiProject(codebook=codebook, codings=empty_codings(), responses=responses,
                       warnings=list(warnings))



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
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s.strip()).strip("-.")[:120] or "note"

