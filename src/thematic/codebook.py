"""The codebook: sections, themes, subthemes and codes of a reflexive thematic analysis.

A codebook is kept as a human-editable, git-friendly YAML file
(``corpus/coding/codebook.yaml``)::

    version: "1.0"
    status: final            # candidate | reviewed | final: stage of theme development
    title: ...
    date: "2023-07-01"       # optional, ISO date; used as the fixed date of exports
    note: ...
    sections:
      - id: RMC
        name: Racially Minoritised Caucus
        description: ...
        themes:
          - id: RMC-T1
            name: Solidarity and Connection
            definition: ...  # the central organising concept
            status: final
            note: ...        # optional
            merged_from: []  # optional: ids (of an earlier version) merged into this theme
            split_from: ...  # optional: id (of an earlier version) this theme was split from
            subthemes: []    # optional, same shape as themes
            codes:           # optional
              - id: ...
                name: ...
                definition: ...
                inclusion: ...   # optional
                exclusion: ...   # optional
    themes: []               # optional: themes not (yet) placed in a section
    codes: []                # optional: codes not (yet) collated under a theme
    relations:               # optional
      - source: RMC
        target: WC
        kind: interconnected
        note: ...

Every key but ``version`` is optional: a codebook of initial codes alone (Braun &
Clarke's phase 2, no themes yet) is just ``version`` and ``codes``; candidate themes may
exist before any section does. ``status`` defaults to ``candidate``.

Which theme a coded segment counts for is decided in one place, :meth:`Codebook.theme_id_of`
(and :func:`roll_up` for a codings table): a code or subtheme counts for the top-level
theme holding it, a theme for itself; a section id or a code outside every theme counts
for no theme.

Ids are stable: codings refer to them, and exports derive their GUIDs from them.
:func:`read_codebook` reports every problem of a file in one
:class:`~thematic.errors.ValidationError`; :func:`write_codebook` writes the file
deterministically, so that ``write(read(f))`` reproduces a saved file byte for byte.

Theme development (Braun & Clarke's phases 3-5) is supported by keeping successive
versions of the map (:func:`write_version`, :func:`list_versions`, :func:`read_version`)
and comparing them with :func:`diff_codebooks`.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import InputError, Problem, ValidationError, check_option
from .io import atomic_write_text, read_utf8

__all__ = [
    "STATUSES",
    "Code",
    "Theme",
    "Section",
    "Relation",
    "Codebook",
    "codebook_from_dict",
    "codebook_to_dict",
    "read_codebook",
    "write_codebook",
    "dump_codebook",
    "diff_codebooks",
    "write_version",
    "list_versions",
    "read_version",
    "roll_up",
]

#: Stages of theme development a map or theme can be in.
STATUSES: tuple[str, ...] = ("candidate", "reviewed", "final")

_ID_RE = re.compile(r"^[^\s]+$")


# --------------------------------------------------------------------------- data model


@dataclass
class Code:
    """A code: a label for a feature of the data relevant to the research question.

    Attributes
    ----------
    id, name : str
        Stable id and label.
    definition : str
        What the code captures.
    inclusion, exclusion : str, optional
        When to apply / not apply it (for users who want explicit criteria).
    """

    id: str
    name: str
    definition: str = ""
    inclusion: str | None = None
    exclusion: str | None = None


@dataclass
class Theme:
    """A theme (or subtheme): a pattern of shared meaning around a central organising concept.

    Attributes
    ----------
    id, name : str
        Stable id and name (the name as it is reported).
    definition : str
        The central organising concept.
    status : str
        ``candidate``, ``reviewed`` or ``final``.
    subthemes : list of Theme
        Subthemes (same shape).
    codes : list of Code
        Codes collated under this theme.
    note : str, optional
        Free note (provenance of the definition, for example).
    merged_from : list of str
        Ids, in an earlier version of the map, of themes merged into this one.
    split_from : str, optional
        Id, in an earlier version of the map, of the theme this one was split from.
    """

    id: str
    name: str
    definition: str = ""
    status: str = "candidate"
    subthemes: list[Theme] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    note: str | None = None
    merged_from: list[str] = field(default_factory=list)
    split_from: str | None = None


@dataclass
class Section:
    """A section of the thematic map (e.g. one caucus), grouping themes."""

    id: str
    name: str
    description: str = ""
    themes: list[Theme] = field(default_factory=list)


@dataclass
class Relation:
    """A link between two sections or themes of the map (an edge of the thematic map)."""

    source: str
    target: str
    kind: str = "related"
    note: str | None = None


@dataclass
class Codebook:
    """A thematic map / codebook.

    Attributes
    ----------
    version : str
        Version label of the map.
    status : str
        Stage of theme development of the whole map: ``candidate``, ``reviewed``, ``final``.
    sections : list of Section
        Sections in document order.
    relations : list of Relation
        Links between sections or themes.
    title : str
        Title of the analysis.
    note : str, optional
        Free note.
    date : str, optional
        ISO date of this version; used as the fixed creation date of exports.
    themes_without_section : list of Theme
        Top-level themes not placed in any section (YAML key ``themes``).
    codes_without_theme : list of Code
        Codes not collated under any theme yet (YAML key ``codes``).
    """

    version: str
    status: str
    sections: list[Section] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    title: str = ""
    note: str | None = None
    date: str | None = None
    themes_without_section: list[Theme] = field(default_factory=list)
    codes_without_theme: list[Code] = field(default_factory=list)

    # ---------------------------------------------------------------- traversal
    def _walk(self) -> Iterator[tuple[Section | None, Theme | Code, str, str | None, int]]:
        """Yield ``(section, node, kind, parent_id, depth)`` depth-first in document order.

        Themes without a section come after the sections (``section`` and ``parent_id``
        are ``None``), then codes without a theme (``kind == "code"``, depth 1).
        """

        def walk_theme(sec: Section | None, th: Theme, parent: str | None, depth: int):
            yield sec, th, "theme" if depth == 1 else "subtheme", parent, depth
            for c in th.codes:
                yield sec, c, "code", th.id, depth + 1
            for sub in th.subthemes:
                yield from walk_theme(sec, sub, th.id, depth + 1)

        for sec in self.sections:
            for th in sec.themes:
                yield from walk_theme(sec, th, sec.id, 1)
        for th in self.themes_without_section:
            yield from walk_theme(None, th, None, 1)
        for c in self.codes_without_theme:
            yield None, c, "code", None, 1

    def themes(self) -> list[Theme]:
        """Top-level themes: those of each section in order, then those without a section."""
        return [th for sec in self.sections for th in sec.themes] + list(
            self.themes_without_section)

    def all_themes(self) -> list[Theme]:
        """Themes and subthemes, depth-first in document order."""
        return [n for _, n, kind, _, _ in self._walk() if kind != "code"]

    def codes(self) -> list[Code]:
        """Every code, at any depth (and those without a theme), in document order."""
        return [n for _, n, kind, _, _ in self._walk() if kind == "code"]

    def ids(self) -> set[str]:
        """Every section, theme, subtheme and code id."""
        return {s.id for s in self.sections} | {n.id for _, n, _, _, _ in self._walk()}

    def theme_map(self) -> dict[str, tuple[str | None, str | None]]:
        """Every id -> ``(top-level theme id, section id)`` it counts for.

        The single roll-up rule of the package: a theme counts for itself, a subtheme or
        code for the top-level theme holding it; a section id, and a code outside every
        theme, for no theme (``None``). The section is ``None`` for themes without a
        section.
        """
        out: dict[str, tuple[str | None, str | None]] = {
            s.id: (None, s.id) for s in self.sections}
        top: str | None = None
        for sec, node, kind, _, depth in self._walk():
            if kind == "theme":
                top = node.id
            sid = sec.id if sec is not None else None
            out[node.id] = (top if depth > 1 or kind == "theme" else None, sid)
        return out

    def theme_id_of(self, id_: str) -> str | None:
        """Id of the top-level theme a segment coded ``id_`` counts for (see :meth:`theme_map`).

        Returns ``None`` for a section id or a code not collated under a theme.

        Raises
        ------
        KeyError
            If the codebook has no such id.
        """
        m = self.theme_map()
        if id_ not in m:
            raise KeyError(f"no section, theme or code with id {id_!r} in codebook "
                           f"{self.version!r}")
        return m[id_][0]

    def find(self, id_: str) -> Section | Theme | Code:
        """Return the section, theme, subtheme or code with id ``id_``.

        Raises
        ------
        KeyError
            Naming the id, if the codebook has no such id.
        """
        for sec in self.sections:
            if sec.id == id_:
                return sec
        for _, node, _, _, _ in self._walk():
            if node.id == id_:
                return node
        raise KeyError(f"no section, theme or code with id {id_!r} in codebook {self.version!r}")

    def section_of(self, theme_id: str) -> Section | None:
        """Return the section holding the theme, subtheme or code ``theme_id``.

        Returns ``None`` for a theme without a section and a code without a theme.

        Raises
        ------
        KeyError
            If the id is not a theme, subtheme or code of the codebook.
        """
        for sec, node, _, _, _ in self._walk():
            if node.id == theme_id:
                return sec
        raise KeyError(f"no theme or code with id {theme_id!r} in codebook {self.version!r}")

    def theme_of(self, id_: str) -> Theme:
        """Return the top-level theme holding ``id_`` (itself if ``id_`` is a theme).

        Raises
        ------
        KeyError
            If the id is not a theme, subtheme or code of the codebook.
        """
        for th in self.themes():
            stack: list[Theme] = [th]
            while stack:
                t = stack.pop()
                if t.id == id_ or any(c.id == id_ for c in t.codes):
                    return th
                stack.extend(t.subthemes)
        raise KeyError(f"no theme or code with id {id_!r} in codebook {self.version!r}")

    def kind_of(self, id_: str) -> str:
        """``"section"``, ``"theme"``, ``"subtheme"`` or ``"code"``.

        Raises
        ------
        KeyError
            If the codebook has no such id.
        """
        if any(s.id == id_ for s in self.sections):
            return "section"
        for _, node, kind, _, _ in self._walk():
            if node.id == id_:
                return kind
        raise KeyError(f"no section, theme or code with id {id_!r} in codebook {self.version!r}")

    def parent_of(self, id_: str) -> str | None:
        """Id of the parent of a theme, subtheme or code (a section id for themes).

        Returns ``None`` for a section.

        Raises
        ------
        KeyError
            If the codebook has no such id.
        """
        if any(s.id == id_ for s in self.sections):
            return None
        for _, node, _, parent, _ in self._walk():
            if node.id == id_:
                return parent
        raise KeyError(f"no section, theme or code with id {id_!r} in codebook {self.version!r}")

    def to_frame(self) -> pd.DataFrame:
        """Return the codebook as a tidy table: one row per theme, subtheme and code.

        Returns
        -------
        pandas.DataFrame
            Columns ``section_id, section, kind`` (theme | subtheme | code), ``id, name,
            parent_id`` (the section id for a theme), ``definition, status`` (missing for
            codes), ``depth`` (1 for a theme, 2 for its subthemes and codes, ...), in
            document order.
        """
        rows = [
            {
                "section_id": sec.id if sec is not None else None,
                "section": sec.name if sec is not None else None,
                "kind": kind,
                "id": node.id,
                "name": node.name,
                "parent_id": parent,
                "definition": node.definition,
                "status": node.status if isinstance(node, Theme) else None,
                "depth": depth,
            }
            for sec, node, kind, parent, depth in self._walk()
        ]
        cols = ["section_id", "section", "kind", "id", "name", "parent_id", "definition",
                "status", "depth"]
        df = pd.DataFrame(rows, columns=cols)
        for c in cols[:-1]:
            df[c] = df[c].astype("string")
        df["depth"] = df["depth"].astype("int64")
        return df


# --------------------------------------------------------------------------- dict <-> model

_TOP_KEYS = ("version", "status", "title", "date", "note", "sections", "themes", "codes",
             "relations")
_SECTION_KEYS = ("id", "name", "description", "themes")
_THEME_KEYS = ("id", "name", "definition", "status", "note", "merged_from", "split_from",
               "subthemes", "codes")
_CODE_KEYS = ("id", "name", "definition", "inclusion", "exclusion")
_RELATION_KEYS = ("source", "target", "kind", "note")


class _Collector:
    """Accumulates problems while a codebook is read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, kind: str, message: str, where: str) -> None:
        loc = f"{self.source}: {where}" if self.source else where
        self.problems.append(Problem(kind, message, loc))


def _text(value: Any, where: str, key: str, col: _Collector, *, required: bool = False,
          default: str | None = "") -> str | None:
    if value is None:
        if required:
            col.add("missing", f"missing {key!r}", where)
        return default
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        col.add("type", f"{key!r} must be text, not {type(value).__name__}", where)
        return default
    s = str(value)
    if required and not s.strip():
        col.add("missing", f"empty {key!r}", where)
    return s


def _mapping(value: Any, where: str, col: _Collector, allowed: tuple[str, ...]) -> dict:
    if not isinstance(value, Mapping):
        col.add("type", f"expected a mapping, got {type(value).__name__}", where)
        return {}
    for k in value:
        if k not in allowed:
            col.add("unknown_key", f"unknown key {k!r} (allowed: {', '.join(allowed)})", where)
    return dict(value)


def _list(value: Any, where: str, key: str, col: _Collector) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        col.add("type", f"{key!r} must be a list, got {type(value).__name__}", where)
        return []
    return value


def _id_of(d: dict, where: str, col: _Collector) -> str:
    raw = d.get("id")
    id_ = _text(raw, where, "id", col, required=True) or ""
    if id_ and not _ID_RE.match(id_):
        col.add("bad_id", f"id {id_!r} must not contain spaces", where)
    return id_


def _status(value: Any, where: str, col: _Collector, default: str | None) -> str:
    if value is None and default is not None:
        return default
    s = _text(value, where, "status", col, required=True) or ""
    if s and s not in STATUSES:
        col.add("bad_status", f"status {s!r} is not one of {', '.join(STATUSES)}", where)
    return s


def _code(raw: Any, where: str, col: _Collector) -> Code:
    d = _mapping(raw, where, col, _CODE_KEYS)
    id_ = _id_of(d, where, col)
    w = f"code {id_}" if id_ else where
    return Code(
        id=id_,
        name=_text(d.get("name"), w, "name", col, required=True) or "",
        definition=_text(d.get("definition"), w, "definition", col) or "",
        inclusion=_text(d.get("inclusion"), w, "inclusion", col, default=None),
        exclusion=_text(d.get("exclusion"), w, "exclusion", col, default=None),
    )


def _theme(raw: Any, where: str, col: _Collector) -> Theme:
    d = _mapping(raw, where, col, _THEME_KEYS)
    id_ = _id_of(d, where, col)
    w = f"theme {id_}" if id_ else where
    merged = [
        _text(m, w, "merged_from", col) or ""
        for m in _list(d.get("merged_from"), w, "merged_from", col)
    ]
    return Theme(
        id=id_,
        name=_text(d.get("name"), w, "name", col, required=True) or "",
        definition=_text(d.get("definition"), w, "definition", col) or "",
        status=_status(d.get("status"), w, col, default="candidate"),
        subthemes=[
            _theme(s, f"{w} subtheme {i}", col)
            for i, s in enumerate(_list(d.get("subthemes"), w, "subthemes", col), 1)
        ],
        codes=[
            _code(c, f"{w} code {i}", col)
            for i, c in enumerate(_list(d.get("codes"), w, "codes", col), 1)
        ],
        note=_text(d.get("note"), w, "note", col, default=None),
        merged_from=merged,
        split_from=_text(d.get("split_from"), w, "split_from", col, default=None),
    )


def codebook_from_dict(data: Any, *, source: str = "") -> Codebook:
    """Build a :class:`Codebook` from its YAML structure, checking it.

    Parameters
    ----------
    data : mapping
        The parsed YAML document.
    source : str
        File name used in problem locations.

    Returns
    -------
    Codebook

    Raises
    ------
    ValidationError
        Listing every problem found: missing or empty ids and names, duplicate ids,
        statuses outside ``candidate | reviewed | final``, relation ends that are not
        section or theme ids, unknown keys, values of the wrong type.
    """
    col = _Collector(source)
    d = _mapping(data, "top level", col, _TOP_KEYS)
    version = _text(d.get("version"), "top level", "version", col, required=True) or ""
    status = _status(d.get("status"), "top level", col, default="candidate")
    sections = []
    for i, raw in enumerate(_list(d.get("sections"), "top level", "sections", col), 1):
        sd = _mapping(raw, f"section {i}", col, _SECTION_KEYS)
        sid = _id_of(sd, f"section {i}", col)
        w = f"section {sid}" if sid else f"section {i}"
        sections.append(
            Section(
                id=sid,
                name=_text(sd.get("name"), w, "name", col, required=True) or "",
                description=_text(sd.get("description"), w, "description", col) or "",
                themes=[
                    _theme(t, f"{w} theme {j}", col)
                    for j, t in enumerate(_list(sd.get("themes"), w, "themes", col), 1)
                ],
            )
        )
    loose_themes = [
        _theme(t, f"top-level theme {j}", col)
        for j, t in enumerate(_list(d.get("themes"), "top level", "themes", col), 1)
    ]
    loose_codes = [
        _code(c, f"top-level code {j}", col)
        for j, c in enumerate(_list(d.get("codes"), "top level", "codes", col), 1)
    ]
    relations = []
    for i, raw in enumerate(_list(d.get("relations"), "top level", "relations", col), 1):
        rd = _mapping(raw, f"relation {i}", col, _RELATION_KEYS)
        relations.append(
            Relation(
                source=_text(rd.get("source"), f"relation {i}", "source", col, required=True) or "",
                target=_text(rd.get("target"), f"relation {i}", "target", col, required=True) or "",
                kind=_text(rd.get("kind"), f"relation {i}", "kind", col, default="related")
                or "related",
                note=_text(rd.get("note"), f"relation {i}", "note", col, default=None),
            )
        )
    cb = Codebook(
        version=version,
        status=status,
        sections=sections,
        relations=relations,
        title=_text(d.get("title"), "top level", "title", col) or "",
        note=_text(d.get("note"), "top level", "note", col, default=None),
        date=_text(d.get("date"), "top level", "date", col, default=None),
        themes_without_section=loose_themes,
        codes_without_theme=loose_codes,
    )
    # duplicate ids (across sections, themes, subthemes and codes)
    all_ids = [s.id for s in cb.sections] + [n.id for _, n, _, _, _ in cb._walk()]
    for id_, n in sorted(Counter(i for i in all_ids if i).items()):
        if n > 1:
            col.add("duplicate_id", f"id {id_!r} is used {n} times", f"id {id_}")
    linkable = {s.id for s in cb.sections} | {t.id for t in cb.all_themes()}
    for i, r in enumerate(cb.relations, 1):
        for end in ("source", "target"):
            v = getattr(r, end)
            if v and v not in linkable:
                col.add("unknown_relation_end",
                        f"{end} {v!r} is not a section or theme id", f"relation {i}")
    if col.problems:
        raise ValidationError(source or "codebook", col.problems)
    return cb


def _drop_empty(d: dict, keep: Iterable[str]) -> dict:
    """Drop unset optional keys (``None``, empty lists; an empty ``title``)."""
    keep = set(keep)
    return {k: v for k, v in d.items()
            if k in keep or not (v is None or v == [] or (k == "title" and v == ""))}


def _code_dict(c: Code) -> dict:
    return _drop_empty(
        {"id": c.id, "name": c.name, "definition": c.definition,
         "inclusion": c.inclusion, "exclusion": c.exclusion},
        ("id", "name", "definition"),
    )


def _theme_dict(t: Theme) -> dict:
    d = {
        "id": t.id,
        "name": t.name,
        "definition": t.definition,
        "status": t.status,
        "note": t.note,
        "merged_from": list(t.merged_from),
        "split_from": t.split_from,
        "subthemes": [_theme_dict(s) for s in t.subthemes],
        "codes": [_code_dict(c) for c in t.codes],
    }
    return _drop_empty(d, ("id", "name", "definition", "status"))


def codebook_to_dict(codebook: Codebook) -> dict:
    """Return the YAML structure of ``codebook`` (document order, empty optionals omitted).

    Parameters
    ----------
    codebook : Codebook

    Returns
    -------
    dict
    """
    d = {
        "version": codebook.version,
        "status": codebook.status,
        "title": codebook.title,
        "date": codebook.date,
        "note": codebook.note,
        "sections": [
            {"id": s.id, "name": s.name, "description": s.description,
             "themes": [_theme_dict(t) for t in s.themes]}
            for s in codebook.sections
        ],
        "themes": [_theme_dict(t) for t in codebook.themes_without_section],
        "codes": [_code_dict(c) for c in codebook.codes_without_theme],
        "relations": [
            _drop_empty({"source": r.source, "target": r.target, "kind": r.kind, "note": r.note},
                        ("source", "target", "kind"))
            for r in codebook.relations
        ],
    }
    keep = ("version", "status") + (("sections",) if not (
        codebook.themes_without_section or codebook.codes_without_theme) else ())
    return _drop_empty(d, keep)


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as literal blocks, lists indented under keys."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):  # noqa: D102
        return super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str):
    # multi-line text as a literal block; text with apostrophes double-quoted (easier to
    # edit than YAML's doubled single quotes); otherwise plain where YAML allows it
    if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value:
        style = "|"
    elif "'" in value:
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_codebook(codebook: Codebook) -> str:
    """Return the YAML text of ``codebook`` exactly as :func:`write_codebook` writes it.

    Parameters
    ----------
    codebook : Codebook

    Returns
    -------
    str
    """
    text = yaml.dump(
        codebook_to_dict(codebook),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
        indent=2,
    )
    return text


def _read_yaml(path: Path) -> Any:
    # limits (thematic.io): file size, nesting depth, values after alias expansion, so
    # an alias bomb or 20,000-deep nesting ends at once in an InputError naming the line
    from .io import MAX_YAML_BYTES, parse_yaml

    size = path.stat().st_size if path.is_file() else 0
    if size > MAX_YAML_BYTES:
        raise InputError(f"codebook is {size:,} bytes, more than the limit of "
                         f"{MAX_YAML_BYTES:,} (thematic.io.MAX_YAML_BYTES)", path=path)
    text = read_utf8(path, what="codebook", with_line=True)
    return parse_yaml(text, path=path)


def read_codebook(path: str | os.PathLike[str]) -> Codebook:
    """Read and check a codebook YAML file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``codebook.yaml``.

    Returns
    -------
    Codebook

    Raises
    ------
    InputError
        If the file is missing, not UTF-8 or not YAML.
    ValidationError
        Naming the file and listing every problem at once (duplicate ids, missing names,
        unknown relation ends, bad statuses, unknown keys).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> codebook = thematic.read_codebook(study.paths.codebook)
    >>> [theme.id for theme in codebook.themes()], len(codebook.codes())
    (['T1', 'T2', 'T3', 'T4', 'T5'], 12)
    >>> codebook.find("T3").name
    'Racism treated as normal'
    """
    path = Path(path)
    return codebook_from_dict(_read_yaml(path), source=str(path))


def write_codebook(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write ``codebook`` to ``path`` atomically and deterministically.

    Keys keep document order, Unicode is written as is, lines are not wrapped; a file
    written by this function is reproduced byte for byte by ``write(read(path))``.

    Parameters
    ----------
    codebook : Codebook
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValidationError
        If the codebook is not valid (nothing is written).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> codebook = study.codebook
    >>> codebook.find("T5").name = "Leaders far from the work"
    >>> path = thematic.write_codebook(codebook, study.root / "draft-codebook.yaml")
    >>> thematic.read_codebook(path).find("T5").name
    'Leaders far from the work'
    """
    text = dump_codebook(codebook)
    codebook_from_dict(yaml.safe_load(text), source=str(path))  # never save an invalid file
    return atomic_write_text(path, text)


# --------------------------------------------------------------------------- versions


def _slug(label: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", label.strip()).strip("-.")
    if not s:
        raise InputError(f"version label {label!r} gives an empty file name")
    return s


def write_version(codebook: Codebook, directory: str | os.PathLike[str], label: str) -> Path:
    """Keep a version of the thematic map as ``<directory>/<label>.yaml``.

    Parameters
    ----------
    codebook : Codebook
        The map at this stage of theme development.
    directory : str or os.PathLike
        Folder of versions (``corpus/coding/versions/``).
    label : str
        Name of the version (e.g. ``"candidate-1"``); characters other than letters,
        digits, ``.``, ``_`` and ``-`` become ``-``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return write_codebook(codebook, Path(directory) / f"{_slug(label)}.yaml")


def read_version(directory: str | os.PathLike[str], label: str) -> Codebook:
    """Load the version ``label`` kept by :func:`write_version`.

    Parameters
    ----------
    directory : str or os.PathLike
    label : str

    Returns
    -------
    Codebook
    """
    return read_codebook(Path(directory) / f"{_slug(label)}.yaml")


def list_versions(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """List the versions kept in ``directory``, oldest first.

    Versions are ordered by ``date`` (undated first), then by version label, then by
    file name.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    pandas.DataFrame
        Columns ``label`` (file name without ``.yaml``), ``file``, ``version``, ``status``,
        ``date``, ``n_sections``, ``n_themes`` (top-level), ``n_subthemes``, ``n_codes``.
    """
    rows = []
    for p in sorted(Path(directory).glob("*.yaml")):
        cb = read_codebook(p)
        n_all = len(cb.all_themes())
        rows.append({
            "label": p.stem, "file": p.name, "version": cb.version, "status": cb.status,
            "date": cb.date, "n_sections": len(cb.sections), "n_themes": len(cb.themes()),
            "n_subthemes": n_all - len(cb.themes()), "n_codes": len(cb.codes()),
        })
    cols = ["label", "file", "version", "status", "date", "n_sections", "n_themes",
            "n_subthemes", "n_codes"]
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    df["_undated"] = df["date"].isna()
    df = df.sort_values(["_undated", "date", "version", "file"],
                        ascending=[False, True, True, True], na_position="first",
                        kind="stable").drop(columns="_undated")
    for c in ["label", "file", "version", "status", "date"]:
        df[c] = df[c].astype("string")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- diff

_CHANGE_ORDER = {c: i for i, c in enumerate(
    ["status", "added", "removed", "renamed", "redefined", "moved", "theme_status", "merged",
     "split", "extract_moved", "extract_added", "extract_removed"])}
_DIFF_COLUMNS = ["change", "kind", "id", "old", "new", "detail"]


def _nodes(cb: Codebook) -> dict[str, dict]:
    out = {s.id: {"kind": "section", "name": s.name, "definition": s.description,
                  "parent": None, "status": None} for s in cb.sections}
    for _, node, kind, parent, _ in cb._walk():
        out[node.id] = {"kind": kind, "name": node.name, "definition": node.definition,
                        "parent": parent,
                        "status": node.status if isinstance(node, Theme) else None}
    return out


def roll_up(codings: pd.DataFrame, codebook: Codebook, *,
            unknown: str = "error") -> pd.DataFrame:
    """Add the theme and section each coded segment counts for.

    The one roll-up rule of the package (:meth:`Codebook.theme_map`): a code or subtheme
    counts for the top-level theme holding it, a theme for itself; a section id, and a
    code not collated under a theme, count for no theme.

    Parameters
    ----------
    codings : pandas.DataFrame
        Codings with a ``code`` column.
    codebook : Codebook
    unknown : {"error", "keep", "drop"}
        What to do with codes the codebook does not hold: raise a
        :class:`~thematic.errors.ValidationError` naming every row, keep the row (with
        missing ``theme_id`` and ``section_id``), or drop it.

    Returns
    -------
    pandas.DataFrame
        ``codings`` with two more string columns, ``theme_id`` and ``section_id`` (missing
        where the segment counts for no theme / no section).

    Raises
    ------
    ValidationError
        With ``unknown="error"``, if a code is not in the codebook.
    """
    check_option("unknown", unknown, ("error", "keep", "drop"))
    if "code" not in codings.columns:
        raise InputError("codings: missing column 'code'")
    m = codebook.theme_map()
    codes = [str(c) for c in codings["code"]]
    bad = [i for i, c in enumerate(codes) if c not in m]
    if bad and unknown == "error":
        raise ValidationError("codings", [
            Problem("unknown_code", f"code {codes[i]!r} is not in codebook "
                    f"{codebook.version!r}", f"row {i + 1}") for i in bad])
    out = codings.assign(
        theme_id=pd.array([m.get(c, (None, None))[0] for c in codes], dtype="string"),
        section_id=pd.array([m.get(c, (None, None))[1] for c in codes], dtype="string"),
    )
    if bad and unknown == "drop":
        keep = np.ones(len(out), dtype=bool)
        keep[bad] = False
        out = out[keep]
    return out


def _segments_by_theme(codings: pd.DataFrame, cb: Codebook) -> dict[tuple, set[str]]:
    """Segment key -> set of top-level theme ids its codes count for (see :func:`roll_up`)."""
    out: dict[tuple, set[str]] = defaultdict(set)
    rolled = roll_up(codings, cb, unknown="keep")
    for rid, start, end, theme in zip(rolled["response_id"], rolled["start"], rolled["end"],
                                      rolled["theme_id"], strict=True):
        if pd.isna(theme):
            continue
        out[(str(rid), int(start), int(end))].add(str(theme))
    return out


def diff_codebooks(
    old: Codebook,
    new: Codebook,
    old_codings: pd.DataFrame | None = None,
    new_codings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compare two versions of a thematic map (theme development, phases 3-5).

    Structural changes are found by id: a section, theme, subtheme or code is *added*,
    *removed*, *renamed* (same id, new name), *redefined* (same id, new definition or
    description), *moved* (same id, new parent) or changes ``status`` (``theme_status``;
    ``status`` for the whole map).

    Merges and splits are reported when declared (a theme's ``merged_from`` /
    ``split_from`` in ``new``) and, when both versions' codings are given, inferred from
    where the coded segments went, at the level of top-level themes (a code counts for
    its theme):

    * *merged*: a theme of ``new`` holds segments from two or more themes of ``old``,
      and at least one of them no longer exists (or the theme itself is new);
    * *split*: segments of one theme of ``old`` are now under two or more themes, and
      the old theme no longer exists or one of them is new.

    Each segment (response, start, end) whose themes differ between the versions is
    listed as *extract_moved* (or *extract_added* / *extract_removed*).

    Parameters
    ----------
    old, new : Codebook
        The earlier and the later version.
    old_codings, new_codings : pandas.DataFrame, optional
        Codings (``response_id, code, start, end``) made with each version.

    Returns
    -------
    pandas.DataFrame
        Columns ``change, kind, id, old, new, detail``; one row per change, ordered by
        kind of change, then document order. Empty when the versions are identical.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> old = thematic.read_version(study.versions_dir, "candidate-1")
    >>> new = study.codebook
    >>> new.find("T5").name = "Leaders far from the work"
    >>> thematic.diff_codebooks(old, new)[["change", "kind", "id", "old", "new"]]
        change   kind  id                       old                        new
    0  renamed  theme  T5  Distance from leadership  Leaders far from the work
    """
    rows: list[dict] = []
    if old.status != new.status:
        rows.append({"change": "status", "kind": "codebook", "id": "", "old": old.status,
                     "new": new.status, "detail": f"map {old.version} -> {new.version}"})
    a, b = _nodes(old), _nodes(new)
    for id_, n in b.items():
        if id_ not in a:
            rows.append({"change": "added", "kind": n["kind"], "id": id_, "old": None,
                         "new": n["name"], "detail": f"under {n['parent']}" if n["parent"] else ""})
    for id_, n in a.items():
        if id_ not in b:
            rows.append({"change": "removed", "kind": n["kind"], "id": id_, "old": n["name"],
                         "new": None, "detail": f"was under {n['parent']}" if n["parent"] else ""})
    for id_, n in b.items():
        if id_ not in a:
            continue
        o = a[id_]
        if o["name"] != n["name"]:
            rows.append({"change": "renamed", "kind": n["kind"], "id": id_, "old": o["name"],
                         "new": n["name"], "detail": ""})
        if o["definition"] != n["definition"]:
            rows.append({"change": "redefined", "kind": n["kind"], "id": id_,
                         "old": o["definition"], "new": n["definition"], "detail": ""})
        if o["parent"] != n["parent"]:
            rows.append({"change": "moved", "kind": n["kind"], "id": id_, "old": o["parent"],
                         "new": n["parent"], "detail": f"{o['kind']} -> {n['kind']}"
                         if o["kind"] != n["kind"] else ""})
        if o["status"] != n["status"] and n["status"] is not None and o["status"] is not None:
            rows.append({"change": "theme_status", "kind": n["kind"], "id": id_,
                         "old": o["status"], "new": n["status"], "detail": ""})
    # declared merges / splits
    reported: set[tuple[str, str]] = set()
    split_groups: dict[str, list[str]] = defaultdict(list)
    for t in new.all_themes():
        if t.merged_from:
            rows.append({"change": "merged", "kind": "theme", "id": t.id,
                         "old": "; ".join(t.merged_from), "new": t.id, "detail": "declared"})
            reported.add(("merged", t.id))
        if t.split_from:
            split_groups[t.split_from].append(t.id)
    for src, targets in split_groups.items():
        rows.append({"change": "split", "kind": "theme", "id": src, "old": src,
                     "new": "; ".join(targets), "detail": "declared"})
        reported.add(("split", src))
    # inferred from codings
    if old_codings is not None and new_codings is not None:
        sa, sb = _segments_by_theme(old_codings, old), _segments_by_theme(new_codings, new)
        flow: Counter[tuple[str, str]] = Counter()
        for key in sa.keys() & sb.keys():
            for x in sa[key]:
                for y in sb[key]:
                    flow[(x, y)] += 1
        old_themes = {t.id for t in old.themes()}
        new_themes = {t.id for t in new.themes()}
        order_new = [t.id for t in new.themes()]
        order_old = [t.id for t in old.themes()]
        rank_new = {t: i for i, t in enumerate(order_new)}
        rank_old = {t: i for i, t in enumerate(order_old)}
        for y in sorted({y for _, y in flow}, key=lambda t: (rank_new.get(t, 10**6), t)):
            srcs = sorted({x for (x, yy) in flow if yy == y},
                          key=lambda t: (rank_old.get(t, 10**6), t))
            if len(srcs) >= 2 and (y not in old_themes or any(s not in new_themes for s in srcs)):
                if ("merged", y) not in reported:
                    counts = ", ".join(f"{s} ({flow[(s, y)]})" for s in srcs)
                    rows.append({"change": "merged", "kind": "theme", "id": y,
                                 "old": "; ".join(srcs), "new": y,
                                 "detail": f"inferred from codings: segments from {counts}"})
                    reported.add(("merged", y))
        for x in sorted({x for x, _ in flow}, key=lambda t: (rank_old.get(t, 10**6), t)):
            dsts = sorted({y for (xx, y) in flow if xx == x},
                          key=lambda t: (rank_new.get(t, 10**6), t))
            if len(dsts) >= 2 and (x not in new_themes or any(d not in old_themes for d in dsts)):
                if ("split", x) not in reported:
                    counts = ", ".join(f"{d} ({flow[(x, d)]})" for d in dsts)
                    rows.append({"change": "split", "kind": "theme", "id": x, "old": x,
                                 "new": "; ".join(dsts),
                                 "detail": f"inferred from codings: segments now under {counts}"})
                    reported.add(("split", x))
        for key in sorted(sa.keys() | sb.keys()):
            x, y = sa.get(key), sb.get(key)
            seg = f"{key[0]}[{key[1]}:{key[2]}]"
            if x is not None and y is not None and x != y:
                rows.append({"change": "extract_moved", "kind": "extract", "id": seg,
                             "old": "; ".join(sorted(x)), "new": "; ".join(sorted(y)),
                             "detail": ""})
            elif x is None:
                rows.append({"change": "extract_added", "kind": "extract", "id": seg,
                             "old": None, "new": "; ".join(sorted(y)), "detail": ""})
            elif y is None:
                rows.append({"change": "extract_removed", "kind": "extract", "id": seg,
                             "old": "; ".join(sorted(x)), "new": None, "detail": ""})
    df = pd.DataFrame(rows, columns=_DIFF_COLUMNS)
    if not df.empty:
        df["_o"] = df["change"].map(_CHANGE_ORDER)
        df = df.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return df.astype("string")
