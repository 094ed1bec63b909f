"""Griffe extension for the API reference: Sphinx-isms in thematic's numpydoc docstrings.

thematic's docstrings are numpydoc, read by mkdocstrings' ``numpy`` parser; they also use a
few reStructuredText habits that Markdown would print literally. After the package is
loaded, this extension rewrites, in memory only (the source is never touched):

- cross-reference roles, ``:func:`name```, ``:class:`~thematic.x.Y```, ``:meth:`Y.f```,
  ``:mod:``, ``:data:``, ``:attr:``, ``:exc:``, ``:obj:`` (and ``:py:`` forms): into an
  autorefs link ``[`name`][thematic.module.name]`` when the target is an object the site
  documents, otherwise into plain code ``` `name` ``` (so nothing is left unresolved);
- a paragraph ending in ``::`` (a reST literal block follows) into one ending in ``:``;
- a reST definition list (a term line, its definition indented under it) outside the
  structured numpydoc sections (Parameters, Returns, ...) into a Markdown one (``def_list``: the definition's first line starts
  with ``:   ``), so that it is not shown as a code block;
- ``#:`` comments just above a module or class attribute (Sphinx's attribute docs) into
  the attribute's docstring, when it has none.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: Roles rewritten.
_ROLE = re.compile(
    r":(?:py:)?(?P<role>func|meth|class|mod|data|attr|exc|obj|const|type)"
    r":`(?P<body>[^`]+)`"
)
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^>]+)>$")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_NOT_TERM = re.compile(r"^(?:[*+-]\s|\d+[.)]\s|>>>|\.\.\s)|.*::\s*$")
#: numpydoc sections whose items are parsed (``name : type`` + indented text): left alone.
_STRUCTURED = frozenset({
    "parameters", "params", "other parameters", "returns", "yields", "receives", "raises",
    "warns", "attributes", "methods", "functions", "classes", "modules", "see also",
    "examples", "type aliases", "type parameters",
})
_LITERAL = re.compile(r"(?<=\S)::[ \t]*$", re.MULTILINE)


class SphinxRoles(griffe.Extension):
    """Rewrite reST roles and literal-block markers in every docstring of a package."""

    def __init__(self, documented: list[str] | None = None) -> None:
        super().__init__()
        #: Modules the site renders, each on its own (empty: every module).
        self.documented = tuple(documented or ())

    # ------------------------------------------------------------------ events

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite every docstring in ``pkg`` once the whole tree is loaded."""
        objects = list(_walk(pkg))
        for obj in objects:  # first every docstring, so that links see all of them
            if obj.is_attribute and obj.docstring is None:
                comment = _comment_doc(obj)
                if comment:
                    obj.docstring = griffe.Docstring(comment, parent=obj, lineno=obj.lineno)
        for obj in objects:
            if obj.docstring is not None:
                obj.docstring.value = self._rewrite(obj, obj.docstring.value)

    # ------------------------------------------------------------------ rewriting

    def _rewrite(self, obj: griffe.Object, text: str) -> str:
        def role(m: re.Match[str]) -> str:
            body = m.group("body").strip()
            titled = _TITLED.match(body)
            if titled:
                title, target = titled.group("title"), titled.group("target").strip()
            else:
                target = body.lstrip("~.")
                title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
            path = self._documented_path(obj, target.lstrip("~."))
            code = f"`{title}`"
            return f"[{code}][{path}]" if path else code

        text = _definition_lists(_ROLE.sub(role, text))
        return _LITERAL.sub(":", text)

    def _documented_path(self, obj: griffe.Object, target: str) -> str | None:
        """Return the site path of ``target`` seen from ``obj``, or None if not on the site."""
        first, _, rest = target.partition(".")
        try:
            base = obj.resolve(first)
        except Exception:  # noqa: BLE001 - any failure means: not linkable
            base = target if first == obj.package.name else None
            rest = "" if base else rest
        if base is None:
            return None
        path = f"{base}.{rest}" if rest else base
        try:
            found = _get(obj, path)
        except Exception:  # noqa: BLE001
            return None
        if found is None:
            return None
        return found.path if self._on_site(found) else None

    def _on_site(self, obj: griffe.Object) -> bool:
        module = obj.module.path
        if self.documented and module not in self.documented:
            return False
        if any(part.startswith("_") for part in module.split(".")):
            return False
        if not obj.is_module and obj.docstring is None:
            return False  # not rendered: the site shows only documented objects
        node: griffe.Object | None = obj
        while node is not None and not node.is_module:
            if node.name.startswith("_") and not (node.name.startswith("__")
                                                   and node.name.endswith("__")):
                return False
            if node.parent is not None and node.parent.is_module and not node.is_public:
                return False
            node = node.parent
        return True


def _get(obj: griffe.Object, path: str) -> griffe.Object | None:
    """Look ``path`` up from the package root; follow aliases to their target."""
    root = obj.package
    parts = path.split(".")
    if parts[0] != root.name:
        return None
    node: Any = root
    for part in parts[1:]:
        node = node.members.get(part)
        if node is None:
            return None
        if node.is_alias:
            try:
                node = node.final_target
            except Exception:  # noqa: BLE001 - external or cyclic: not on the site
                return None
    return node


def _definition_lists(text: str) -> str:
    """Turn reST definition lists outside structured numpydoc sections into Markdown ones.

    A term is an unindented line after a blank line, a section underline or the end of the
    previous definition, followed by a line indented by four spaces; Markdown needs the
    definition to start with ``:   `` and a blank line between items.
    """
    lines = text.split("\n")
    out: list[str] = []
    free = True  # in free text (summary, description, Notes, unknown sections)
    in_list = False
    for i, term in enumerate(lines):
        first = lines[i + 1] if i + 1 < len(lines) else ""
        previous = lines[i - 1] if i else ""
        if term.strip() and _UNDERLINE.match(first):
            free = term.strip().lower() not in _STRUCTURED
            in_list = False
        elif (free and term.strip() and not term[0].isspace() and not _NOT_TERM.match(term)
                and first.startswith("    ") and first.strip()
                and (not previous.strip() or _UNDERLINE.match(previous)
                     or (in_list and (previous[:1].isspace() or previous.startswith(":   "))))):
            if previous.strip() and not _UNDERLINE.match(previous):
                out.append("")
            out.append(term)
            lines[i + 1] = ":   " + first[4:]
            in_list = True
            continue
        elif term.strip() and not term[0].isspace() and not term.startswith(":   "):
            in_list = False
        out.append(term)
    return "\n".join(out)


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _walk(member)


def _comment_doc(attr: griffe.Object) -> str:
    """Return the ``#:`` comment lines just above ``attr`` (Sphinx attribute docs)."""
    try:
        lines = attr.lines_collection[attr.filepath]
    except Exception:  # noqa: BLE001 - no source (compiled or inspected): no comment
        return ""
    if not lines or attr.lineno is None:
        return ""
    doc: list[str] = []
    i = attr.lineno - 2
    while i >= 0 and lines[i].strip().startswith("#:"):
        doc.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    return "\n".join(doc)
