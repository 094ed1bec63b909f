"""Codes read from REFI-QDA XML: the codebook of a project or ``.qdc``, and its metadata.

The metadata set (a code ``Set`` named :data:`~thematic.refi.METADATA_SET`, written by
the export) gives back ids, kinds, statuses, criteria, notes and relations when it is
present and has the form thematic writes; otherwise ids are made from GUIDs, top-level
non-codable codes with children become sections and other top-level codes themes of a
section ``UNSORTED``; below a theme, codes with children become subthemes and leaves
codes. Codes without a GUID, GUIDs used twice and codes nested deeper than
:data:`~thematic.refi.limits.MAX_CODE_DEPTH` are refused. Every codebook read is
checked like :func:`thematic.codebook.read_codebook` (``_checked``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from ..codebook import (
    Code,
    Codebook,
    Relation,
    Section,
    Theme,
    codebook_from_dict,
    codebook_to_dict,
)
from ..errors import InputError, Problem
from . import limits
from ._xml import (
    METADATA_SET,
    _first_line,
    _kid,
    _kid_text,
    _kids,
    _norm_guid,
    _refi_root,
    _safe_yaml,
)

_UNSORTED = ("UNSORTED", "Imported codes (no section)")


def _valid_metadata(meta: Any) -> bool:
    """Whether the metadata set has the shape thematic writes (else it is ignored)."""
    if not isinstance(meta, dict) or meta.get("thematic_refi_metadata") != 1:
        return False
    codes, cb = meta.get("codes") or {}, meta.get("codebook") or {}
    rels, cols = meta.get("relations") or [], meta.get("response_columns") or []
    if not (isinstance(codes, dict) and isinstance(cb, dict) and isinstance(rels, list)
            and isinstance(cols, list)):
        return False
    for v in codes.values():
        if not isinstance(v, dict) or not isinstance(v.get("merged_from", []), list):
            return False
        if any(isinstance(x, (dict, list)) for k, x in v.items() if k != "merged_from"):
            return False
    if not all(isinstance(r, dict) and "source" in r and "target" in r for r in rels):
        return False
    if any(isinstance(x, (dict, list)) for x in cb.values()):
        return False
    return all(isinstance(c, str) for c in cols)


def _read_metadata(root: etree._Element, source: str = "",
                   warnings: list[Problem] | None = None) -> dict | None:
    sets = _kid(root, "Sets")
    if sets is None:
        return None
    for st in _kids(sets, "Set"):
        if st.get("name") == METADATA_SET:
            try:
                meta = _safe_yaml(_kid_text(st, "Description") or "")
            except yaml.YAMLError as exc:
                if warnings is not None:
                    warnings.append(Problem("metadata_ignored", f"the {METADATA_SET!r} set "
                                            f"could not be read ({_first_line(exc)}); ignored",
                                            source))
                return None
            if _valid_metadata(meta):
                return meta
            if warnings is not None:
                warnings.append(Problem("metadata_ignored", f"the {METADATA_SET!r} set is not "
                                        "in the form thematic writes; ignored", source))
            return None
    return None


def _check_codes(codes_el: etree._Element, source: str) -> None:
    """Refuse codes without a GUID, GUIDs used twice and nesting beyond MAX_CODE_DEPTH.

    Walks the code tree iteratively (no recursion, whatever the depth).
    """
    seen: dict[str, str] = {}
    stack = [(c, 1) for c in reversed(_kids(codes_el, "Code"))]
    while stack:
        el, depth = stack.pop()
        name = el.get("name", "")
        if depth > limits.MAX_CODE_DEPTH:
            raise InputError(f"codes nested deeper than {limits.MAX_CODE_DEPTH} levels (limit "
                             f"MAX_CODE_DEPTH), at code {name[:80]!r}", path=source)
        raw = (el.get("guid") or "").strip()
        g = _norm_guid(raw)
        if not g:
            raise InputError(f"code {name[:80]!r} has no guid", path=source)
        if g in seen:
            raise InputError(f"code GUID {raw} is used by two codes ({seen[g][:80]!r} and "
                             f"{name[:80]!r}): codings could not tell them apart", path=source)
        seen[g] = name
        stack.extend((c, depth + 1) for c in reversed(_kids(el, "Code")))


def _opt(v: Any) -> str | None:
    return None if v is None else str(v)


class _CodeTree:
    """Make sections, themes and codes of ``Code`` elements, with unique ids.

    An id comes from the metadata set when it names the code, else from the code's
    GUID (``S-``, ``T-``, ``C-`` + 8 hex digits of its SHA-1); ``gid`` maps every
    normalised GUID to the id given.
    """

    def __init__(self, meta: dict | None) -> None:
        self.mcodes = {_norm_guid(str(k)): v
                       for k, v in ((meta or {}).get("codes") or {}).items()}
        self.gid: dict[str, str] = {}
        self.used: set[str] = set()

    def info(self, el: etree._Element) -> dict:
        """Return what the metadata set says of a code (empty if nothing)."""
        return self.mcodes.get(_norm_guid(el.get("guid")), {})

    def make_id(self, el: etree._Element, prefix: str) -> str:
        """Return a new id for a code, unique (``-2``, ``-3``... appended if need be)."""
        m = self.info(el)
        if m.get("id"):
            i = str(m["id"])
        else:
            digest = hashlib.sha1(_norm_guid(el.get("guid")).encode("utf-8", "replace"))
            i = f"{prefix}-{digest.hexdigest()[:8].upper()}"
        base, n = i, 2
        while i in self.used:
            i, n = f"{base}-{n}", n + 1
        self.used.add(i)
        self.gid[_norm_guid(el.get("guid"))] = i
        return i

    def code(self, el: etree._Element) -> Code:
        """Make a code of a ``Code`` element."""
        m = self.info(el)
        return Code(id=self.make_id(el, "C"), name=el.get("name", ""),
                    definition=_kid_text(el, "Description") or "",
                    inclusion=_opt(m.get("inclusion")), exclusion=_opt(m.get("exclusion")))

    def theme(self, el: etree._Element) -> Theme:
        """Make a theme of a ``Code`` element: children with children are subthemes."""
        m = self.info(el)
        t = Theme(id=self.make_id(el, "T"), name=el.get("name", ""),
                  definition=_kid_text(el, "Description") or "",
                  status=str(m.get("status", "candidate")), note=_opt(m.get("note")),
                  merged_from=[str(x) for x in m.get("merged_from", [])],
                  split_from=_opt(m.get("split_from")))
        for ch in _kids(el, "Code"):
            kind = self.info(ch).get("kind")
            if kind == "code" or (kind is None and not _kids(ch, "Code")):
                t.codes.append(self.code(ch))
            else:
                t.subthemes.append(self.theme(ch))
        return t

    def section(self, el: etree._Element) -> Section:
        """Make a section of a ``Code`` element; its children are themes."""
        s = Section(id=self.make_id(el, "S"), name=el.get("name", ""),
                    description=_kid_text(el, "Description") or "")
        s.themes = [self.theme(ch) for ch in _kids(el, "Code")]
        return s


def _codebook_from_xml(root: etree._Element, meta: dict | None, source: str,
                       warnings: list[Problem]) -> tuple[Codebook, dict[str, str]]:
    """Codebook from a ``CodeBook`` (project) or the ``.qdc`` root; guid -> id map."""
    codes_el = _kid(root, "Codes")
    if codes_el is None:
        raise InputError("no Codes in the codebook", path=source)
    _check_codes(codes_el, source)  # depth bounded below: the recursion is safe
    tree = _CodeTree(meta)
    sections: list[Section] = []
    unsorted: list[Theme] = []
    loose_themes: list[Theme] = []
    loose_codes: list[Code] = []
    has_loose = hasattr(Codebook, "__dataclass_fields__") and \
        "codes_without_theme" in Codebook.__dataclass_fields__
    for el in _kids(codes_el, "Code"):
        kind = tree.info(el).get("kind")
        is_section = kind == "section" or (
            kind is None and el.get("isCodable", "true").lower() == "false" and _kids(el, "Code"))
        if is_section:
            sections.append(tree.section(el))
        elif has_loose and kind == "theme":  # thematic: a theme without a section
            loose_themes.append(tree.theme(el))
        elif has_loose and kind == "code":  # thematic: a code without a theme
            loose_codes.append(tree.code(el))
        else:
            unsorted.append(tree.theme(el))
    if unsorted:
        sections.append(Section(id=_UNSORTED[0], name=_UNSORTED[1],
                                description="Top-level codes of the imported file that were "
                                "not under a non-codable parent.", themes=unsorted))
        warnings.append(Problem("unsorted", f"{len(unsorted)} top-level code(s) put under "
                                f"section {_UNSORTED[0]}", source))
    if meta is None:
        warnings.append(Problem("ids_from_guids", "no thematic metadata set: ids made from "
                                "GUIDs, statuses set to 'candidate'", source))
    return _assemble(meta, sections, loose_themes, loose_codes), tree.gid


def _assemble(meta: dict | None, sections: list[Section], loose_themes: list[Theme],
              loose_codes: list[Code]) -> Codebook:
    """Make the codebook: version, title, relations... from the metadata set, if any."""
    mc = (meta or {}).get("codebook") or {}
    relations = [Relation(source=str(r["source"]), target=str(r["target"]),
                          kind=str(r.get("kind", "related")), note=_opt(r.get("note")))
                 for r in (meta or {}).get("relations") or []]
    extra: dict[str, Any] = {}
    if loose_themes:
        extra["themes_without_section"] = loose_themes
    if loose_codes:
        extra["codes_without_theme"] = loose_codes
    return Codebook(version=str(mc.get("version", "imported")),
                    status=str(mc.get("status", "candidate")), sections=sections,
                    relations=relations, title=str(mc.get("title", "")),
                    note=_opt(mc.get("note")), date=_opt(mc.get("date")), **extra)


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


def _code_sets_warning(root: etree._Element, source: str, warnings: list[Problem]) -> None:
    sets = _kid(root, "Sets")
    names = [st.get("name") or _norm_guid(st.get("guid"))
             for st in (_kids(sets, "Set") if sets is not None else [])
             if st.get("name") != METADATA_SET and _kids(st, "MemberCode")]
    if names:
        warnings.append(Problem("code_sets_ignored", f"code set(s) {', '.join(map(repr, names))} "
                                "not imported (thematic has no code sets)", source))


def _qdc_from_root(root: etree._Element, path: Path) -> tuple[Codebook, list[Problem]]:
    """Return the codebook of a parsed ``.qdc``, and what the import adapted on the way."""
    if _refi_root(root, path) == "Project":
        raise InputError("this is a REFI-QDA project (.qde), not a codebook: use read_qde "
                         "or import_refi", path=path)
    found: list[Problem] = []
    cb, _ = _codebook_from_xml(root, _read_metadata(root, str(path), found), str(path), found)
    _code_sets_warning(root, str(path), found)
    return _checked(cb, str(path)), found



def _checked(cb: Codebook, source: str) -> Codebook:
    """Check a codebook read as :func:`thematic.codebook.read_codebook` checks a file."""
    return codebook_from_dict(codebook_to_dict(cb), source=source)
