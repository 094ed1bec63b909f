"""Figures of the analysis: the thematic map, per-section maps, counts and context.

Every ``plot_<content>`` function returns a :class:`matplotlib.figure.Figure` drawn under
:func:`figure_style` (DejaVu Sans, sizes readable at A4 page width, text kept as text in
SVG so journals can edit it, the Okabe-Ito colour-blind-safe palette). Figures are made
with the object-oriented API (no pyplot state): display them explicitly in a notebook.
:func:`write_figure` writes ``figures/<name>.svg``, ``.png`` (300 dpi) and ``.pdf``
atomically and byte-identically on every run.

The thematic map is built from the codebook as a :mod:`networkx` graph
(:func:`thematic_map_graph`) and drawn with a fixed geometric layout
(:func:`thematic_map_layout`): four section hubs in a 2 x 2 arrangement (any other number
of sections on a circle), each section's themes arranged radially on its outer side.
Themes not (yet) placed in a section form a group of their own, drawn like a section
around a hub labelled :data:`UNSECTIONED_LABEL`. Label sizes are measured with the
renderer and the layout pushes elements apart until no two labels overlap; no random
numbers are involved.

Nothing here belongs to one study: group names, their order and what a group is called
come from the study's :class:`~thematic.settings.StudySettings`. Context figures of a
particular study (the published study's WRES indicators and Talking Therapies recovery
rates) are registered in :data:`CONTEXT_FIGURES` and drawn only for studies whose
settings list them (``context.figures``).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.text import Text

from . import __version__
from .config import project_paths
from .errors import InputError
from .io import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook
    from .settings import StudySettings

__all__ = [
    "OKABE_ITO",
    "TOL_MUTED",
    "MAX_GROUPS",
    "UNSECTIONED",
    "UNSECTIONED_LABEL",
    "group_colours",
    "CONTEXT_FIGURES",
    "FIGURE_FORMATS",
    "figure_style",
    "write_figure",
    "thematic_map_graph",
    "thematic_map_layout",
    "plot_thematic_map",
    "plot_section_map",
    "plot_theme_by_group",
    "plot_theme_topic_heatmap",
    "plot_wres_indicators",
    "plot_recovery_by_ethnic_group",
    "section_map_name",
    "read_context_tables",
    "write_figures",
    "FIGURE_NAMES",
]

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), by colour name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Paul Tol's "muted" qualitative scheme (colour-blind safe; Tol 2021, *Colour schemes*,
#: SRON/EPS/TN/09-002), used when a chart has more groups than Okabe-Ito has colours.
TOL_MUTED: dict[str, str] = {
    "indigo": "#332288",
    "cyan": "#88CCEE",
    "teal": "#44AA99",
    "green": "#117733",
    "olive": "#999933",
    "sand": "#DDCC77",
    "rose": "#CC6677",
    "wine": "#882255",
    "purple": "#AA4499",
    "pale_grey": "#DDDDDD",
}

#: Most groups :func:`plot_theme_by_group` tells apart by colour.
MAX_GROUPS = 12

#: Order in which groups not named like a section take Okabe-Ito colours (yellow last:
#: it has the least contrast on white).
_GROUP_COLOURS_8: tuple[str, ...] = tuple(OKABE_ITO[c] for c in (
    "blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black",
    "yellow"))

#: Colours of 9-12 groups: Tol's muted scheme (9 colours and its pale grey), then black
#: and Okabe-Ito orange, which differ from all of them in lightness or hue.
_GROUP_COLOURS_12: tuple[str, ...] = tuple(TOL_MUTED.values()) + (
    OKABE_ITO["black"], OKABE_ITO["orange"])

#: Node id of the group of themes without a section in :func:`thematic_map_graph`.
UNSECTIONED = "__themes_without_section__"

#: Label of that group on the map and in the theme-by-group chart.
UNSECTIONED_LABEL = "Themes not in a section"

#: Colours given to sections (and to the group of the same name) in codebook order.
_SECTION_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
)

#: Formats :func:`write_figure` writes, in order.
FIGURE_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")

#: Resolution of the PNG files.
PNG_DPI = 300

#: What the files say made them (fixed, so re-runs are byte-identical).
_SOFTWARE = f"thematic {__version__} (matplotlib {mpl.__version__})"

_METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": _SOFTWARE},
    "png": {"Software": _SOFTWARE},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": _SOFTWARE, "Producer": _SOFTWARE},
}

#: rc settings of every figure of the project.
STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "axes.prop_cycle": mpl.cycler(
        color=[OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple",
                                       "orange", "sky_blue", "yellow", "black")]
    ),
    "image.cmap": "cividis",
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "svg.fonttype": "none",
    "svg.hashsalt": "thematic",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "path.simplify": True,
    # unhinted glyph metrics: text has the same size at every dpi and in SVG/PDF, so a
    # layout measured once holds for the 300-dpi PNG, the vector files and the screen
    "text.hinting": "no_hinting",
}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Apply the project's figure style (a :func:`matplotlib.rc_context`).

    DejaVu Sans at 7.5-9 pt (legible at A4 page width), the Okabe-Ito colour cycle,
    ``svg.fonttype: none`` (text stays text in SVG), TrueType fonts in PDF and a fixed
    ``svg.hashsalt`` so SVG ids are the same on every run.

    Yields
    ------
    None
    """
    with mpl.rc_context(STYLE):
        yield


def _freeze_layout(fig: Figure, digits: int = 6) -> None:
    """Run the layout engine once, round every axes position and switch the engine off.

    Constrained layout (kiwisolver) can differ in the last bits between runs; rounding
    the positions it finds makes saved files byte-identical.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    for ax in fig.axes:
        ax.set_position([round(float(v), digits) for v in ax.get_position().bounds])
    fig.set_layout_engine("none")


class _StyledCanvas(FigureCanvasAgg):
    """Agg canvas that draws and prints under :func:`figure_style`.

    A figure made here looks the same wherever it is drawn (a notebook's inline display,
    :func:`write_figure`, a test), whatever the caller's rcParams.
    """

    def draw(self) -> None:
        with figure_style():
            super().draw()

    def print_figure(self, *args: Any, **kwargs: Any) -> Any:
        with figure_style():
            return super().print_figure(*args, **kwargs)


class _DisplayFigure(Figure):
    """A figure that shows itself in Jupyter without pyplot (``_repr_png_``)."""

    def __repr__(self) -> str:
        w, h = self.get_size_inches() * self.dpi
        return f"<Figure size {w:.0f}x{h:.0f} with {len(self.axes)} Axes>"

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.canvas.print_figure(buf, format="png", dpi=self.dpi, metadata=_METADATA["png"])
        return buf.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    """Make a figure not registered with pyplot (no global state, no auto-display)."""
    fig = _DisplayFigure(figsize=(width, height), dpi=STYLE["figure.dpi"])
    _StyledCanvas(fig)
    return fig


def write_figure(
    fig: Figure,
    name: str,
    directory: str | os.PathLike[str] | None = None,
    *,
    formats: Sequence[str] = FIGURE_FORMATS,
) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.svg``, ``.png`` (300 dpi) and ``.pdf``.

    Files are written atomically (:mod:`thematic.io`) and are byte-identical when the
    same figure is saved again: no dates in the metadata, a fixed ``Software``/``Creator``
    and a fixed ``svg.hashsalt``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        File stem saying what the figure shows (``thematic_map``), letters, digits,
        ``_`` and ``-`` only.
    directory : str or os.PathLike, optional
        Output directory; defaults to the project's ``figures/``.
    formats : sequence of str
        Subset of ``("svg", "png", "pdf")``.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``formats`` order.

    Raises
    ------
    InputError
        If ``name`` is not a plain file stem or a format is unknown.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> fig = thematic.plot_thematic_map(study.codebook)
    >>> [p.name for p in thematic.write_figure(fig, "thematic_map", study.paths.figures)]
    ['thematic_map.svg', 'thematic_map.png', 'thematic_map.pdf']
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name or ""):
        raise InputError(f"figure name {name!r} must be a plain file stem ([A-Za-z0-9_-])")
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise InputError(f"unknown figure format(s) {unknown}; use {list(FIGURE_FORMATS)}")
    out = Path(directory) if directory is not None else project_paths().figures
    stamps = _FigureStamps.at(out / name)
    written = []
    with figure_style():
        svg = _render(fig, "svg")
        same = stamps is not None and stamps.unchanged(svg, formats)
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            if same:
                written.append(path)
                continue
            data = svg if fmt == "svg" else _render(fig, fmt)
            written.append(atomic_write_bytes(path, data))
    if stamps is not None and not same:
        stamps.record(svg, formats)
    return written


def _render(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=_METADATA[fmt])
    return buf.getvalue()


class _FigureStamps:
    """What :func:`write_figure` last wrote for one figure, kept in the study's cache.

    The SVG is drawn every time (it is the cheapest format, and holds every mark and
    every piece of text of the figure); when it is byte-identical to the one written
    last, under the same matplotlib version, resolution and style, and the files on
    disk are still exactly those written then (SHA-256), the PNG and PDF - which take
    most of the time - are not drawn again. Anything else redraws every format.
    """

    def __init__(self, stamp: Path, stem: Path) -> None:
        self.stamp = stamp
        self.stem = stem

    @classmethod
    def at(cls, stem: Path) -> _FigureStamps | None:
        from .config import resolve_cache_dir

        root = resolve_cache_dir("auto")
        if root is None:
            return None
        import hashlib

        key = hashlib.sha256(str(stem.resolve()).encode("utf-8")).hexdigest()[:32]
        return cls(root / "figures" / f"{key}.json", stem)

    def _spec(self, svg: bytes, formats: Sequence[str]) -> str:
        import hashlib

        h = hashlib.sha256(svg)
        h.update(repr((mpl.__version__, PNG_DPI, sorted(STYLE.items()), _METADATA,
                       list(formats))).encode("utf-8"))
        return h.hexdigest()

    def _files(self, formats: Sequence[str]) -> dict[str, str | None]:
        import hashlib

        out: dict[str, str | None] = {}
        for fmt in formats:
            try:
                out[fmt] = hashlib.sha256(self.stem.with_name(
                    f"{self.stem.name}.{fmt}").read_bytes()).hexdigest()
            except OSError:
                out[fmt] = None
        return out

    def unchanged(self, svg: bytes, formats: Sequence[str]) -> bool:
        """Return whether the files on disk are what drawing this figure would write."""
        import json

        try:
            last = json.loads(self.stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        files = self._files(formats)
        return (isinstance(last, dict) and last.get("spec") == self._spec(svg, formats)
                and last.get("files") == files and None not in files.values())

    def record(self, svg: bytes, formats: Sequence[str]) -> None:
        """Remember what was written (a cache that cannot be written is only slower)."""
        import json

        from .io import atomic_write_text

        with contextlib.suppress(OSError):
            atomic_write_text(self.stamp, json.dumps(
                {"spec": self._spec(svg, formats), "files": self._files(formats)},
                sort_keys=True))


# --------------------------------------------------------------------------- helpers


def _wrap(text: str, width: int, indent: str = "") -> str:
    """Wrap ``text`` at ``width`` characters without breaking words or hyphenated words."""
    text = " ".join(str(text).split())
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False,
                         subsequent_indent=indent)


def _tint(colour: str, amount: float) -> tuple[float, float, float]:
    """Mix ``colour`` with white (``amount`` of the colour, 0..1)."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def section_map_name(section: Any) -> str:
    """File stem of a section map, e.g. ``section_map_white_caucus``.

    Parameters
    ----------
    section : Section
        A codebook section (its ``name`` is used).

    Returns
    -------
    str
    """
    return f"section_map_{_slug(section.name) or _slug(section.id)}"


def _section_colours(codebook: Codebook) -> dict[str, str]:
    out = {
        s.id: _SECTION_COLOURS[i % len(_SECTION_COLOURS)] for i, s in enumerate(codebook.sections)
    }
    out[UNSECTIONED] = OKABE_ITO["black"]
    return out


# --------------------------------------------------------------------------- the map graph


def _walk_theme(theme: Any) -> Iterator[tuple[Any, Any]]:
    """(parent, child) pairs below ``theme``: subthemes and codes, depth first."""
    for sub in getattr(theme, "subthemes", None) or []:
        yield theme, sub
        yield from _walk_theme(sub)
    for code in getattr(theme, "codes", None) or []:
        yield theme, code


def thematic_map_graph(codebook: Codebook, *, connect_sections: bool | None = None) -> nx.Graph:
    """Build the thematic map as a graph: sections, themes, subthemes, codes, links.

    Parameters
    ----------
    codebook : Codebook
        The codebook (:func:`thematic.codebook.read_codebook`).
    connect_sections : bool, optional
        Link every pair of sections (``kind="interconnected"``), as the source's Figure 1
        describes "four interconnected sections". Default: only when the codebook
        declares no relation between two sections. Relations the codebook declares are
        always added.

    Returns
    -------
    networkx.Graph
        Nodes are codebook ids with attributes ``kind`` (``"section"``, ``"theme"``,
        ``"subtheme"`` or ``"code"``), ``label`` (the name as written in the codebook),
        ``section`` (id of the section it belongs to; ``None`` for themes without a
        section), ``parent`` (id of the node it belongs to; ``None`` for sections) and
        ``order`` (position in the codebook). Themes without a section hang from one
        more ``"section"`` node, :data:`UNSECTIONED` (label :data:`UNSECTIONED_LABEL`,
        attribute ``virtual=True``; real sections have ``virtual=False``), which is never
        linked to the sections. Codes not collated under a theme are not drawn.
        Edges have ``kind``: ``"contains"`` (section-theme, theme-subtheme, theme-code),
        ``"interconnected"`` (section-section) or the ``kind`` of a declared relation,
        whose ``note`` is kept.

    Raises
    ------
    InputError
        If a relation names an id that is not a section or theme of the codebook.
    """
    g = nx.Graph(title=getattr(codebook, "title", "") or "")
    order = 0
    groups: list[tuple[str, str, str | None, list[Any], bool]] = [
        (s.id, s.name, s.id, list(s.themes), False) for s in codebook.sections]
    loose = list(getattr(codebook, "themes_without_section", None) or [])
    if loose:
        groups.append((UNSECTIONED, UNSECTIONED_LABEL, None, loose, True))
    for hub, label, section_id, themes, virtual in groups:
        g.add_node(hub, kind="section", label=label, section=section_id, parent=None,
                   order=order, virtual=virtual)
        order += 1
        for theme in themes:
            g.add_node(theme.id, kind="theme", label=theme.name, section=section_id,
                       parent=hub, order=order)
            order += 1
            g.add_edge(hub, theme.id, kind="contains", note=None)
            for parent, child in _walk_theme(theme):
                kind = "code" if not hasattr(child, "subthemes") else "subtheme"
                if child.id not in g:
                    g.add_node(child.id, kind=kind, label=child.name, section=section_id,
                               parent=parent.id, order=order)
                    order += 1
                g.add_edge(parent.id, child.id, kind="contains", note=None)
    relations = list(getattr(codebook, "relations", None) or [])
    section_ids = {s.id for s in codebook.sections}
    if connect_sections is None:
        connect_sections = not any(r.source in section_ids and r.target in section_ids
                                   for r in relations)
    if connect_sections:
        ids = [s.id for s in codebook.sections]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                g.add_edge(a, b, kind="interconnected", note=None)
    problems = []
    for rel in relations:
        missing = [end for end in (rel.source, rel.target) if end not in g]
        if missing:
            problems.append(f"relation {rel.source}->{rel.target}: unknown id(s) {missing}")
            continue
        g.add_edge(rel.source, rel.target, kind=rel.kind or "related",
                   note=getattr(rel, "note", None))
    if problems:
        raise InputError("; ".join(problems))
    return g


# --------------------------------------------------------------------------- map layout


@dataclass
class _Card:
    """A theme label: a name block plus optional smaller blocks, in a rounded box."""

    node: str
    blocks: list[tuple[str, dict[str, Any]]]  # (text, text kwargs)
    sizes: list[tuple[float, float]] = field(default_factory=list)  # inches
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0

    def rect(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        return (self.x - self.width / 2 - pad, self.y - self.height / 2 - pad,
                self.x + self.width / 2 + pad, self.y + self.height / 2 + pad)


@dataclass
class _Hub:
    node: str
    text: str
    kwargs: dict[str, Any]
    radius: float = 0.0
    x: float = 0.0
    y: float = 0.0

    def rect(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        r = self.radius + pad
        return (self.x - r, self.y - r, self.x + r, self.y + r)


@dataclass
class _SectionLayout:
    hub: _Hub
    cards: list[_Card]
    offsets: list[tuple[float, float]]  # card centre relative to hub

    def place(self, x: float, y: float) -> None:
        self.hub.x, self.hub.y = x, y
        for card, (dx, dy) in zip(self.cards, self.offsets, strict=True):
            card.x, card.y = x + dx, y + dy

    def rects(self, pad: float) -> list[tuple[float, float, float, float]]:
        return [self.hub.rect(pad)] + [c.rect(pad) for c in self.cards]


@dataclass(frozen=True)
class _MapStyle:
    hub_size: float = 8.5
    theme_size: float = 7.5
    sub_size: float = 6.5
    code_size: float = 6.0
    hub_wrap: int = 12
    theme_wrap: int = 20
    sub_wrap: int = 26
    pad: float = 0.06  # inches of padding inside a card
    gap: float = 0.10  # inches between any two elements
    spread: float = 62.0  # degrees between neighbouring themes of a section


_MAP_STYLE = _MapStyle()
_SECTION_STYLE = _MapStyle(hub_size=11.0, theme_size=9.5, sub_size=8.0, code_size=7.5,
                           hub_wrap=14, theme_wrap=20, sub_wrap=26, pad=0.08, gap=0.16)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Measurer:
    """Measure text extents (inches) with the Agg renderer."""

    def __init__(self) -> None:
        self.fig = _new_figure(4, 4)
        self.renderer = self.fig.canvas.get_renderer()

    def size(self, text: str, **kwargs: Any) -> tuple[float, float]:
        t = Text(0, 0, text, **kwargs)
        t.set_figure(self.fig)
        bb = t.get_window_extent(self.renderer)
        return bb.width / self.fig.dpi, bb.height / self.fig.dpi


def _theme_card(g: nx.Graph, node: str, style: _MapStyle, m: _Measurer,
                show_subthemes: bool, show_codes: bool) -> _Card:
    blocks: list[tuple[str, dict[str, Any]]] = [
        (_wrap(g.nodes[node]["label"], style.theme_wrap),
         {"fontsize": style.theme_size, "fontweight": "bold", "linespacing": 1.15}),
    ]
    children = sorted((c for c in g.neighbors(node) if g.nodes[c].get("parent") == node),
                      key=lambda c: g.nodes[c]["order"])
    subs = [c for c in children if g.nodes[c]["kind"] == "subtheme"]
    codes = [c for c in children if g.nodes[c]["kind"] == "code"]
    if show_subthemes:
        for s in subs:
            blocks.append((_wrap("\u25b8 " + g.nodes[s]["label"], style.sub_wrap, "  "),
                           {"fontsize": style.sub_size, "fontstyle": "italic",
                            "linespacing": 1.1, "multialignment": "left", "_node": s}))
    if show_codes and codes:
        text = "\n".join(_wrap("\u2022 " + g.nodes[c]["label"], style.sub_wrap, "  ")
                         for c in codes)
        blocks.append((text, {"fontsize": style.code_size, "color": "#333333",
                              "linespacing": 1.1, "multialignment": "left",
                              "_node": f"{node}:codes"}))
    card = _Card(node, blocks)
    for text, kw in blocks:
        card.sizes.append(m.size(text, **{k: v for k, v in kw.items() if not k.startswith("_")}))
    card.width = max(w for w, _ in card.sizes) + 2 * style.pad
    card.height = sum(h for _, h in card.sizes) + 2 * style.pad + 0.04 * (len(blocks) - 1)
    return card


def _section_layout(g: nx.Graph, section: str, style: _MapStyle, m: _Measurer,
                    outward: float | None, show_subthemes: bool,
                    show_codes: bool) -> _SectionLayout:
    """Hub at the origin, themes on rays around it (outward-facing arc or full circle)."""
    hub_kw = {"fontsize": style.hub_size, "fontweight": "bold", "linespacing": 1.1}
    hub_text = _wrap(g.nodes[section]["label"], style.hub_wrap)
    w, h = m.size(hub_text, **hub_kw)
    hub = _Hub(section, hub_text, hub_kw, radius=math.hypot(w / 2, h / 2) + 0.06)
    themes = sorted((n for n in g.neighbors(section) if g.nodes[n]["kind"] == "theme"
                     and g.nodes[n]["parent"] == section), key=lambda n: g.nodes[n]["order"])
    cards = [_theme_card(g, t, style, m, show_subthemes, show_codes) for t in themes]
    n = len(cards)
    if outward is None:  # full circle, first theme at the top, clockwise
        angles = [90.0 - 360.0 * i / max(n, 1) for i in range(n)]
        if n == 2:
            angles = [180.0, 0.0]
    else:
        step = min(style.spread, 240.0 / max(n, 1))
        # clockwise from the counter-clockwise end so reading order follows the codebook
        angles = [outward + (((n - 1) / 2) - i) * step for i in range(n)]
    offsets = []
    for card, ang in zip(cards, angles, strict=True):
        th = math.radians(ang)
        support = card.width / 2 * abs(math.cos(th)) + card.height / 2 * abs(math.sin(th))
        t = hub.radius + 2.5 * style.gap + support
        offsets.append([t * math.cos(th), t * math.sin(th)])
    # push siblings outwards until no two cards overlap
    for _ in range(200):
        clash = False
        for i in range(n):
            for j in range(i + 1, n):
                a = cards[i].width, cards[i].height, offsets[i]
                b = cards[j].width, cards[j].height, offsets[j]
                ra = (a[2][0] - a[0] / 2, a[2][1] - a[1] / 2, a[2][0] + a[0] / 2, a[2][1] + a[1] / 2)
                rb = (b[2][0] - b[0] / 2, b[2][1] - b[1] / 2, b[2][0] + b[0] / 2, b[2][1] + b[1] / 2)
                ra = (ra[0] - style.gap, ra[1] - style.gap, ra[2] + style.gap, ra[3] + style.gap)
                if _overlap(ra, rb):
                    clash = True
                    for k in (i, j):
                        offsets[k][0] *= 1.04
                        offsets[k][1] *= 1.04
        if not clash:
            break
    layout = _SectionLayout(hub, cards, [(round(x, 4), round(y, 4)) for x, y in offsets])
    layout.place(0.0, 0.0)
    return layout


def _section_directions(n: int) -> list[tuple[float, float]]:
    """Return unit directions of the section hubs from the map centre."""
    if n == 4:  # 2 x 2: reading order top-left, top-right, bottom-left, bottom-right
        return [(-1.0, 1.0), (1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
    if n == 1:
        return [(0.0, 0.0)]
    return [(math.cos(math.radians(90 - 360 * i / n)), math.sin(math.radians(90 - 360 * i / n)))
            for i in range(n)]


def _map_layout(g: nx.Graph, style: _MapStyle, show_subthemes: bool,
                show_codes: bool) -> list[_SectionLayout]:
    m = _Measurer()
    sections = sorted((n for n, d in g.nodes(data=True) if d["kind"] == "section"),
                      key=lambda n: g.nodes[n]["order"])
    dirs = _section_directions(len(sections))
    layouts = []
    for sec, (ux, uy) in zip(sections, dirs, strict=True):
        outward = math.degrees(math.atan2(uy, ux)) if (ux or uy) else None
        layouts.append(_section_layout(g, sec, style, m, outward, show_subthemes, show_codes))
    # start hubs just apart and move them out (x and y separately) until nothing overlaps
    span_x = max((lay.hub.radius for lay in layouts), default=0.0) + style.gap
    span_y = span_x
    for _ in range(2000):
        for lay, (ux, uy) in zip(layouts, dirs, strict=True):
            lay.place(span_x * ux, span_y * uy)
        grow_x = grow_y = False
        for i in range(len(layouts)):
            for j in range(i + 1, len(layouts)):
                ri, rj = layouts[i].rects(style.gap), layouts[j].rects(0.0)
                if any(_overlap(a, b) for a in ri for b in rj):
                    if abs(dirs[i][0] - dirs[j][0]) > 1e-9:
                        grow_x = True
                    if abs(dirs[i][1] - dirs[j][1]) > 1e-9:
                        grow_y = True
        if not (grow_x or grow_y):
            break
        span_x += 0.03 if grow_x else 0.0
        span_y += 0.03 if grow_y else 0.0
    return layouts


def thematic_map_layout(codebook: Codebook) -> dict[str, tuple[float, float]]:
    """Positions (inches, map centre at the origin) of the sections and themes of the map.

    The layout is geometric and deterministic: section hubs in a 2 x 2 arrangement (on
    a circle for other numbers of sections), themes on rays on the outer side of their
    hub, pushed apart by measured label sizes until no two labels overlap.

    Parameters
    ----------
    codebook : Codebook
        The codebook.

    Returns
    -------
    dict
        ``{node id: (x, y)}`` for every section and top-level theme.
    """
    g = thematic_map_graph(codebook)
    with figure_style():
        layouts = _map_layout(g, _MAP_STYLE, True, True)
    pos = {}
    for lay in layouts:
        pos[lay.hub.node] = (round(lay.hub.x, 4), round(lay.hub.y, 4))
        for c in lay.cards:
            pos[c.node] = (round(c.x, 4), round(c.y, 4))
    return pos


# --------------------------------------------------------------------------- map drawing


def _draw_card(ax: Any, card: _Card, colour: str, style: _MapStyle) -> None:
    x0, y0, x1, y1 = card.rect()
    box = FancyBboxPatch((x0, y0), x1 - x0, y1 - y0,
                         boxstyle="round,pad=0,rounding_size=0.05", facecolor="white",
                         edgecolor=colour, linewidth=1.3, zorder=3)
    box.set_gid(f"box-{card.node}")
    ax.add_patch(box)
    y = y1 - style.pad
    for i, ((text, kw), (_, h)) in enumerate(zip(card.blocks, card.sizes, strict=True)):
        gid = kw.get("_node", card.node)
        kwargs = {"multialignment": "center", **{k: v for k, v in kw.items()
                                                 if not k.startswith("_")}}
        t = ax.text(card.x, y - h / 2, text, ha="center", va="center", zorder=4, **kwargs)
        t.set_gid(f"label-{gid}")
        y -= h + 0.04
        if i == 0 and len(card.blocks) > 1:
            ax.add_line(Line2D([x0 + style.pad, x1 - style.pad], [y + 0.02, y + 0.02],
                               color=_tint(colour, 0.5), linewidth=0.6, zorder=4))


def _draw_hub(ax: Any, hub: _Hub, colour: str) -> None:
    virtual = hub.node == UNSECTIONED  # not a section: a dashed, pale hub
    circle = Circle((hub.x, hub.y), hub.radius, facecolor=_tint(colour, 0.1 if virtual else 0.3),
                    edgecolor=colour, linewidth=1.8, zorder=3,
                    linestyle=(0, (4, 2)) if virtual else "solid")
    circle.set_gid(f"hub-{hub.node}")
    ax.add_patch(circle)
    t = ax.text(hub.x, hub.y, hub.text, ha="center", va="center", multialignment="center",
                zorder=4, **hub.kwargs)
    t.set_gid(f"label-{hub.node}")


def _frame(layouts: list[_SectionLayout], margin: float) -> tuple[float, float, float, float]:
    rects = [r for lay in layouts for r in lay.rects(0.0)]
    return (min(r[0] for r in rects) - margin, min(r[1] for r in rects) - margin,
            max(r[2] for r in rects) + margin, max(r[3] for r in rects) + margin)


def _map_figure(g: nx.Graph, layouts: list[_SectionLayout], colours: dict[str, str],
                style: _MapStyle, *, width: float | None, legend: bool) -> Figure:
    margin = 0.08
    x0, y0, x1, y1 = _frame(layouts, margin)
    kind_of = nx.get_node_attributes(g, "kind")
    links = [(a, b, d) for a, b, d in g.edges(data=True) if d["kind"] != "contains"]
    sec_edges = [e for e in links if kind_of[e[0]] == kind_of[e[1]] == "section"]
    rel_edges = [e for e in links if e not in sec_edges]
    legend_h = 0.32 if legend else 0.0
    content_w = x1 - x0
    fig_w = max(content_w, width or 0.0)
    fig_h = (y1 - y0) + legend_h
    fig = _new_figure(fig_w, fig_h)
    ax = fig.add_axes((0, legend_h / fig_h, 1, (y1 - y0) / fig_h))
    extra = (fig_w - content_w) / 2
    ax.set_xlim(x0 - extra, x1 + extra)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    hubs = {lay.hub.node: lay.hub for lay in layouts}
    cards = {c.node: c for lay in layouts for c in lay.cards}

    def centre(n: str) -> tuple[float, float]:
        obj = hubs.get(n) or cards.get(n)
        return (obj.x, obj.y) if obj is not None else (0.0, 0.0)

    # section links (under everything)
    for a, b, _d in sec_edges:
        if a in hubs and b in hubs:
            line = Line2D(*zip(centre(a), centre(b), strict=True), color="#9a9a9a",
                          linewidth=2.2, solid_capstyle="round", zorder=1)
            line.set_gid(f"link-{a}-{b}")
            ax.add_line(line)
    # hub -> theme spokes
    for lay in layouts:
        for c in lay.cards:
            ax.add_line(Line2D([lay.hub.x, c.x], [lay.hub.y, c.y],
                               color=colours[lay.hub.node], linewidth=1.3, zorder=2))
    # declared relations: dashed curves
    for a, b, _d in rel_edges:
        if (a in hubs or a in cards) and (b in hubs or b in cards):
            arrow = FancyArrowPatch(centre(a), centre(b), arrowstyle="-",
                                    connectionstyle="arc3,rad=0.18", linestyle=(0, (4, 2)),
                                    color=OKABE_ITO["black"], linewidth=0.9, zorder=2.5)
            arrow.set_gid(f"relation-{a}-{b}")
            ax.add_patch(arrow)
    for lay in layouts:
        colour = colours[lay.hub.node]
        _draw_hub(ax, lay.hub, colour)
        for c in lay.cards:
            _draw_card(ax, c, colour, style)
    shown = [e for e in sec_edges if e[0] in hubs and e[1] in hubs]
    shown_rel = [e for e in rel_edges
                 if (e[0] in hubs or e[0] in cards) and (e[1] in hubs or e[1] in cards)]
    if legend and (shown or shown_rel):
        handles = [Line2D([], [], color="#9a9a9a", linewidth=2.2,
                          label=f"link between sections ({k})")
                   for k in sorted({d["kind"] for _, _, d in shown})]
        for k in sorted({d["kind"] for _, _, d in shown_rel}):
            handles.append(Line2D([], [], color="black", linewidth=0.9, linestyle=(0, (4, 2)),
                                  label=f"relation between themes ({k})"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7,
                   handlelength=2.2, columnspacing=1.5, borderaxespad=0.3)
    return fig


def _require_themes(codebook: Codebook) -> None:
    if not codebook.themes() and not codebook.sections:
        n_codes = len(codebook.codes())
        held = (f"it holds {n_codes} code{'s' if n_codes != 1 else ''} and no themes: "
                "collate codes into candidate themes first (Project.add_theme)"
                if n_codes else "it is empty")
        raise InputError(f"codebook {codebook.version!r}: no themes to draw yet ({held})")


def _resolve_detail(codebook: Codebook, show_subthemes: bool | None,
                    show_codes: bool | None) -> tuple[bool, bool]:
    has_sub = any(getattr(t, "subthemes", None) for t in codebook.themes())
    has_codes = any(getattr(t, "codes", None) for t in codebook.all_themes())
    return (has_sub if show_subthemes is None else show_subthemes,
            has_codes if show_codes is None else show_codes)


def plot_thematic_map(
    codebook: Codebook,
    *,
    show_subthemes: bool | None = None,
    show_codes: bool | None = None,
    connect_sections: bool | None = None,
    width: float = 6.8,
    legend: bool = True,
) -> Figure:
    """Draw the thematic map: every section with its themes around it, and their links.

    Parameters
    ----------
    codebook : Codebook
        The codebook; its sections, themes (with subthemes and codes) and relations.
    show_subthemes, show_codes : bool, optional
        List subthemes / codes under each theme name; default: when the codebook has any.
    connect_sections : bool, optional
        Draw a link between every pair of sections (the source's "interconnected
        sections"); default: when the codebook declares no section-to-section relation.
    width : float
        Minimum figure width in inches (A4 text width is about 6.3-7 in); the map is
        centred in it.
    legend : bool
        Explain the line styles below the map.

    Returns
    -------
    matplotlib.figure.Figure
        SVG output holds every label as ``<text>``; each label's group has the id
        ``label-<codebook id>`` (``label-`` + :data:`UNSECTIONED` for the group of
        themes without a section).

    Raises
    ------
    InputError
        If the codebook has no themes and no sections yet (a codebook of initial codes
        alone has no map to draw: collate codes into candidate themes first), or a
        relation names an unknown id.

    Notes
    -----
    Themes without a section are drawn around a hub of their own labelled
    :data:`UNSECTIONED_LABEL`, in black, never linked to the sections. Codes not
    collated under a theme are not part of the map. Any number of themes can be drawn;
    with many themes in one section the map grows beyond ``width`` (labels keep their
    size and never overlap).

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> fig = thematic.plot_thematic_map(study.codebook)
    >>> len(fig.axes)
    1
    """
    _require_themes(codebook)
    subs, codes = _resolve_detail(codebook, show_subthemes, show_codes)
    g = thematic_map_graph(codebook, connect_sections=connect_sections)
    with figure_style():
        layouts = _map_layout(g, _MAP_STYLE, subs, codes)
        return _map_figure(g, layouts, _section_colours(codebook), _MAP_STYLE, width=width,
                           legend=legend)


def plot_section_map(
    codebook: Codebook,
    section_id: str,
    *,
    show_subthemes: bool | None = None,
    show_codes: bool | None = None,
    width: float = 5.0,
) -> Figure:
    """Draw one section: its name in the centre and its themes around it.

    Parameters
    ----------
    codebook : Codebook
        The codebook.
    section_id : str
        Id of the section (e.g. ``"WC"``).
    show_subthemes, show_codes : bool, optional
        List subthemes / codes under each theme; default: when the codebook has any.
    width : float
        Minimum figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If ``section_id`` is not a section of the codebook.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> study.add_section("WORK", "The work itself", themes=["T4", "T5"])
    'WORK'
    >>> fig = thematic.plot_section_map(study.codebook, "WORK")
    >>> len(fig.axes)
    1
    """
    ids = [s.id for s in codebook.sections]
    if section_id not in ids:
        raise InputError(f"unknown section {section_id!r}; sections are {ids}")
    subs, codes = _resolve_detail(codebook, show_subthemes, show_codes)
    g = thematic_map_graph(codebook, connect_sections=False)
    with figure_style():
        lay = _section_layout(g, section_id, _SECTION_STYLE, _Measurer(), None, subs, codes)
        return _map_figure(g, [lay], _section_colours(codebook), _SECTION_STYLE, width=width,
                           legend=False)


# --------------------------------------------------------------------------- counts


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {missing}; has {list(df.columns)}")
    if df.empty:
        raise InputError(f"{what}: the table is empty")


def group_colours(
    groups: Sequence[str],
    codebook: Codebook | None = None,
) -> dict[str, str]:
    """Give every group its own colour-blind-safe colour (never one colour twice).

    Up to 8 groups take Okabe-Ito colours; a group named like a section of ``codebook``
    (case-insensitive) takes that section's map colour, the others the free colours in a
    fixed order. 9-12 groups take Paul Tol's muted scheme with its pale grey, black and
    Okabe-Ito orange, in the order of ``groups``.

    Parameters
    ----------
    groups : sequence of str
        The groups, in the order they are drawn.
    codebook : Codebook, optional
        Sections whose names match groups lend them their colours.

    Returns
    -------
    dict
        ``{group: hex colour}``.

    Raises
    ------
    InputError
        If there are more than :data:`MAX_GROUPS` groups (no palette tells more apart).
    """
    groups = list(dict.fromkeys(str(g) for g in groups))
    if len(groups) > MAX_GROUPS:
        raise InputError(
            f"{len(groups)} groups are more than the {MAX_GROUPS} a chart can tell apart by "
            "colour; merge groups (or draw a subset of them) first")
    if len(groups) > len(_GROUP_COLOURS_8):
        return dict(zip(groups, _GROUP_COLOURS_12, strict=False))
    by_name: dict[str, str] = {}
    if codebook is not None:
        cols = _section_colours(codebook)
        by_name = {s.name.strip().lower(): cols[s.id] for s in codebook.sections}
    out: dict[str, str] = {}
    for g in groups:
        colour = by_name.get(g.strip().lower())
        if colour is not None and colour not in out.values():
            out[g] = colour
    free = [c for c in _GROUP_COLOURS_8 if c not in out.values()]
    for g in groups:
        if g not in out:
            out[g] = free.pop(0)
    return {g: out[g] for g in groups}


def _luminance(colour: str) -> float:
    r, g, b = mpl.colors.to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _legend_columns(labels: Sequence[str], available: float, m: _Measurer,
                    fontsize: float) -> int:
    """Most legend columns (filled like matplotlib fills them) that fit ``available`` inches."""
    em = fontsize / 72.0
    widths = [m.size(lab, fontsize=fontsize)[0] + (2.0 + 0.8) * em for lab in labels]
    for ncol in range(len(labels), 1, -1):
        cols = np.array_split(np.asarray(widths), ncol)
        total = sum(float(c.max()) for c in cols if len(c)) + (ncol - 1) * 2.0 * em + 0.8 * em
        if total <= available:
            return ncol
    return 1


def plot_theme_by_group(
    table: pd.DataFrame,
    *,
    codebook: Codebook | None = None,
    settings: StudySettings | None = None,
    group_label: str | None = None,
    groups: Sequence[str] | None = None,
    wrap: int = 44,
    group_wrap: int = 30,
    legend: bool = True,
) -> Figure:
    """Horizontal grouped bars: number of coded extracts per theme, by group.

    The bars count extracts; they say how often a theme was illustrated by extracts of
    each group in the material, not how important a theme is. Works for 1 to
    :data:`MAX_GROUPS` groups, each with its own colour-blind-safe colour
    (:func:`group_colours`); bars of a theme are drawn top to bottom in legend order.
    Long theme, section and group names wrap; the figure grows with the number of themes
    and groups.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table with ``section_id, theme_id, theme, group, n_extracts`` (as returned by
        :func:`thematic.coding.theme_by_group`), in codebook order. Themes with a missing
        ``section_id`` are listed under :data:`UNSECTIONED_LABEL` (without a heading when
        no theme has a section).
    codebook : Codebook, optional
        Used for section names (otherwise section ids are shown) and colours (a group
        named like a section takes its colour).
    settings : StudySettings, optional
        The study's settings: ``group_label`` (legend title, "<Label> of the
        respondent:"), ``groups`` (order of groups) and ``unit`` (the axis counts
        "Analysable <units>" unless the study is ``published``, whose rows are extracts).
    group_label : str, optional
        What a group is called (overrides ``settings``); default ``"group"``.
    groups : sequence of str, optional
        Order of the groups (overrides ``settings``); groups not listed follow
        alphabetically.
    wrap : int
        Wrap theme and section names at this many characters.
    group_wrap : int
        Wrap group names in the legend at this many characters.
    legend : bool
        Draw the legend (off for a single, unnamed group).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If a column is missing, the table is empty, or it has more than
        :data:`MAX_GROUPS` groups.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> table = thematic.theme_by_group(study.codings(analysable=True), study.analysable(),
    ...                                 study.codebook)
    >>> fig = thematic.plot_theme_by_group(table, codebook=study.codebook, settings=study.settings)
    >>> len(fig.axes)
    1
    """
    from .coding import group_order

    _require(table, ["section_id", "theme_id", "theme", "group", "n_extracts"], "theme_by_group")
    label = group_label or (settings.group_label if settings is not None else None) or "group"
    order = list(groups) if groups is not None else (
        list(settings.groups) if settings is not None else [])
    df = table.copy()
    df["n_extracts"] = pd.to_numeric(df["n_extracts"], errors="raise").fillna(0).astype(int)
    df = df[df["group"].notna()]
    df["group"] = df["group"].astype(str)
    if df.empty:
        raise InputError("theme_by_group: no row has a group")
    group_names = [str(g) for g in group_order(df["group"], order)]
    colours = group_colours(group_names, codebook)
    themes = df[["section_id", "theme_id", "theme"]].drop_duplicates("theme_id")
    names = {s.id: s.name for s in codebook.sections} if codebook is not None else {}
    counts = df.pivot_table(index="theme_id", columns="group", values="n_extracts",
                            aggfunc="sum", fill_value=0)
    any_section = bool(themes["section_id"].notna().any())
    # rows top to bottom: a bold header per section, then its themes
    rows: list[tuple[str, str | None]] = []  # (label, theme_id or None for a header)
    for sec, grp in themes.groupby("section_id", sort=False, dropna=False):
        if pd.isna(sec):
            if any_section:
                rows.append((_wrap(UNSECTIONED_LABEL, wrap), None))
        else:
            rows.append((_wrap(str(names.get(sec, sec)), wrap), None))
        rows.extend((_wrap(str(r.theme), wrap), str(r.theme_id)) for r in grp.itertuples())
    n_themes = sum(1 for _, tid in rows if tid is not None)
    n_groups = max(len(group_names), 1)
    legend_title = f"{label[:1].upper()}{label[1:]} of the respondent:"
    legend_labels = [_wrap(g, group_wrap) for g in group_names]
    with figure_style():
        m = _Measurer()
        fig_w = 6.8
        lines = max((lab.count("\n") + 1 for lab, tid in rows if tid is not None), default=1)
        # inches per theme: room for every group's bar and count, and the wrapped name
        row_h = max((0.135 if n_groups <= 2 else 0.15) * n_groups, 0.125 * lines + 0.06)
        # headers keep their height in inches however tall a theme's row is
        k = 0.27 / row_h
        # the legend sits above the axes, from the axes' left edge (right of the labels)
        label_w = max(m.size(lab, fontsize=7.5, fontweight="bold" if tid is None else "normal",
                             linespacing=1.2)[0] for lab, tid in rows)
        available = fig_w - label_w - 0.45
        ncol = _legend_columns(legend_labels, available, m, 7.0) if legend else 1
        extra_legend = 0.0
        if legend:  # matplotlib fills legend columns like np.array_split
            cols = [c for c in np.array_split(np.arange(len(legend_labels)), ncol) if len(c)]
            per_row = [max(legend_labels[c[r]].count("\n") + 1 for c in cols if len(c) > r)
                       for r in range(len(cols[0]))]
            extra_legend = 0.13 * (sum(per_row) - 1)
        height = (0.95 + row_h * n_themes + 0.2 * (len(rows) - n_themes) + extra_legend)
        fig = _new_figure(fig_w, height)
        fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.04)
        ax = fig.add_subplot()
        # top-down positions: a header sits close to its themes, with space above it
        ys, y = [], 0.0
        for i, (_, tid) in enumerate(rows):
            if i:
                y -= 0.5 + 0.3 * k if rows[i - 1][1] is None else (
                    0.5 + 0.8 * k if tid is None else 1.0)
            ys.append(y)
        ys = [v - y for v in ys]
        bar_h = 0.8 / n_groups
        xmax = int(counts.to_numpy().max()) if counts.size else 0
        for i, (_, tid) in enumerate(rows):
            y = ys[i]
            if tid is None:
                continue
            for j, gname in enumerate(group_names):
                n = int(counts.loc[tid, gname]) if (tid in counts.index and gname in counts) else 0
                yy = y + 0.4 - bar_h * (j + 0.5)
                light = _luminance(colours[gname]) > 0.75
                ax.barh(yy, n, height=bar_h * 0.92, color=colours[gname],
                        edgecolor="#555555" if light else "none",
                        linewidth=0.5 if light else None)
                ax.text(n + 0.06, yy, str(n), va="center", ha="left", fontsize=6.5)
        ax.set_yticks(ys)
        ax.set_yticklabels([lab for lab, _ in rows])
        for tick, (_, tid) in zip(ax.get_yticklabels(), rows, strict=True):
            if tid is None:
                tick.set_fontweight("bold")
            else:
                tick.set_fontsize(7)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.55, ys[0] + (0.45 if rows[0][1] is not None else 0.45 * k))
        ax.set_xlim(0, max(xmax, 1) * 1.12 + 0.5)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        counted = ("Extracts" if settings is None or settings.published
                   else f"Analysable {settings.units}")
        ax.set_xlabel(f"{counted} coded to the theme (count; not a measure of importance)")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if legend:
            handles = [Patch(facecolor=colours[g], label=lab,
                             edgecolor="#555555" if _luminance(colours[g]) > 0.75 else None)
                       for g, lab in zip(group_names, legend_labels, strict=True)]
            ax.legend(handles=handles, title=legend_title, loc="lower left",
                      bbox_to_anchor=(0.0, 1.0), ncol=ncol, fontsize=7, title_fontsize=7,
                      alignment="left", borderaxespad=0.2)
        _freeze_layout(fig)
        return fig


def plot_theme_topic_heatmap(
    table: pd.DataFrame,
    *,
    codebook: Codebook | None = None,
    wrap: int = 44,
    cmap: str = "cividis",
) -> Figure:
    """Heatmap of a theme x topic contingency table, every cell annotated with its count.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows are themes (theme ids or names), columns topic labels, values counts of
        extracts (as returned by :mod:`thematic.compare`).
    codebook : Codebook, optional
        If given, row labels that are theme ids are shown as theme names.
    wrap : int
        Wrap row labels at this many characters (column labels at half of it).
    cmap : str
        A sequential, colour-blind-safe colormap.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If the table is empty or holds non-numeric or negative values.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise InputError("theme x topic table: expected a non-empty DataFrame")
    try:
        values = table.apply(pd.to_numeric, errors="raise").fillna(0).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"theme x topic table: non-numeric cell ({exc})") from None
    if (values < 0).any():
        raise InputError("theme x topic table: counts must not be negative")
    row_labels = []
    for r in table.index:
        label = str(r)
        if codebook is not None:
            try:
                label = codebook.find(label).name
            except KeyError:
                pass
        row_labels.append(_wrap(label, wrap))
    col_labels = [_wrap(str(c).replace("_", " "), max(wrap // 2, 8)) for c in table.columns]
    nr, nc = values.shape
    row_lines = sum(lab.count("\n") + 1 for lab in row_labels)
    col_lines = max(lab.count("\n") + 1 for lab in col_labels)
    with figure_style():
        cell_w = min(0.6, 4.2 / max(nc, 1))
        cell_h = max(0.24, 0.115 * row_lines / max(nr, 1) + 0.08)
        width = min(7.0, 2.6 + cell_w * nc + 0.8)
        height = 0.5 + cell_h * nr + 0.12 * col_lines + 0.5
        fig = _new_figure(width, height)
        fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.04)
        ax = fig.add_subplot()
        vmax = max(values.max(), 1.0)
        im = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax, aspect="auto",
                       interpolation="nearest")
        cm = mpl.colormaps[cmap]
        for i in range(nr):
            for j in range(nc):
                r, g, b, _ = cm(values[i, j] / vmax)
                lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
                v = values[i, j]
                txt = f"{int(v)}" if float(v).is_integer() else f"{v:.2f}"
                ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                        color="black" if lum > 0.5 else "white")
        ax.set_xticks(range(nc))
        ax.set_xticklabels(col_labels, rotation=45, ha="right", rotation_mode="anchor",
                           fontsize=6.5)
        ax.set_yticks(range(nr))
        ax.set_yticklabels(row_labels, fontsize=7)
        ax.set_xlabel("Topic (topic-model check)")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(-0.5, nc, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, nr, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.0)
        ax.tick_params(which="minor", length=0)
        cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02, aspect=max(nr * 2, 10))
        cb.set_label("Extracts (count)", fontsize=7)
        cb.ax.tick_params(labelsize=6.5)
        cb.ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        _freeze_layout(fig)
        return fig


# --------------------------------------------------------------------------- context figures


def _read_context_table(root: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read ``<root>/corpus/context/<name>.csv`` with numbers as numbers."""
    from .io import read_csv

    path = Path(root) / "corpus" / "context" / f"{name}.csv"
    if not path.is_file():
        raise InputError(f"context table not found (the study's settings list the context "
                         f"figure {name!r})", path=path)
    df = read_csv(path)
    typed = {"wres_indicators": (("indicator", "int64"), ("year", "int64"),
                                 ("value", "float64")),
             "talking_therapies_recovery": (("value", "float64"),
                                            ("value_as_published", "float64"))}
    for col, dtype in typed.get(name, ()):
        if col in df:
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError) as exc:
                raise InputError(f"column {col!r} must hold numbers ({exc})", path=path,
                                 column=col) from None
    return df


def read_context_tables(
    root: str | os.PathLike[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the published study's ``wres_indicators.csv`` and ``talking_therapies_recovery.csv``.

    Both live in ``corpus/context/`` of that study (see :data:`CONTEXT_FIGURES`).

    Parameters
    ----------
    root : str or os.PathLike, optional
        Study root (found from the working directory if omitted).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The WRES indicators and the Talking Therapies recovery table, with numbers as
        numbers and every other column as text.

    Raises
    ------
    InputError
        If a table is missing or a number column holds text.
    """
    base = project_paths(root).root if root is None else Path(root)
    return (_read_context_table(base, "wres_indicators"),
            _read_context_table(base, "talking_therapies_recovery"))


#: WRES panels: (indicator, kind) in drawing order.
_WRES_PANELS: tuple[int, ...] = (5, 6, 7, 8, 1, 9, 2, 3, 4)
_SUBGROUP_COLOURS = {
    "BME": OKABE_ITO["blue"],
    "White": OKABE_ITO["vermillion"],
    "Overall": OKABE_ITO["bluish_green"],
    "VSM": OKABE_ITO["reddish_purple"],
    "All": OKABE_ITO["black"],
}
_SUBGROUP_MARKERS = {"BME": "o", "White": "s", "Overall": "D", "VSM": "^", "All": "o"}


def plot_wres_indicators(wres: pd.DataFrame, *, wrap: int = 32) -> Figure:
    """Small multiples of the WRES indicators 2016-2021, values as published.

    Indicators 5-8 compare BME and White staff; 2-4 are relative likelihoods (a dashed
    line marks 1, equal likelihood); 1 (BME staff overall and very senior managers) and 9
    (BME board membership) are percentages. Every point is a published value; the last
    year's value is printed next to each line. Open markers show values the source marks
    with an asterisk (its footnote is not in the source).

    Parameters
    ----------
    wres : pandas.DataFrame
        ``corpus/context/wres_indicators.csv``: ``indicator, indicator_label, subgroup,
        year, value, unit, marker``.
    wrap : int
        Wrap panel titles (the indicator wording) at this many characters.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If a column is missing or the table is empty.
    """
    _require(wres, ["indicator", "indicator_label", "subgroup", "year", "value", "unit"],
             "wres_indicators")
    df = wres.copy()
    df["indicator"] = df["indicator"].astype(int)
    df["year"] = df["year"].astype(int)
    df["value"] = df["value"].astype(float)
    marked = (df["marker"].fillna("").astype(str).str.strip() != "") if "marker" in df \
        else pd.Series(False, index=df.index)
    df["_marked"] = marked
    present = [i for i in _WRES_PANELS if i in set(df["indicator"])]
    present += sorted(set(df["indicator"]) - set(present))
    ncols = 3
    nrows = math.ceil(len(present) / ncols)
    years = sorted(df["year"].unique())
    with figure_style():
        fig = _new_figure(6.9, 2.55 * nrows + 0.35)
        fig.set_layout_engine("constrained", h_pad=0.06, w_pad=0.06, hspace=0.06, wspace=0.04)
        gs = fig.add_gridspec(nrows, ncols)
        any_marked = False
        for k, ind in enumerate(present):
            ax = fig.add_subplot(gs[k // ncols, k % ncols])
            sub = df[df["indicator"] == ind].sort_values("year")
            label = str(sub["indicator_label"].iloc[0])
            unit = str(sub["unit"].iloc[0])
            ax.set_title(_wrap(f"{ind}. {label}", wrap), fontsize=6.5, fontweight="bold",
                         loc="left", linespacing=1.1)
            subgroups = list(dict.fromkeys(sub["subgroup"].astype(str)))
            lo, hi = sub["value"].min(), sub["value"].max()
            span = max(hi - lo, 0.2 if unit == "ratio" else 2.0)
            for sg in subgroups:
                s = sub[sub["subgroup"].astype(str) == sg]
                colour = _SUBGROUP_COLOURS.get(sg, OKABE_ITO["black"])
                marker = _SUBGROUP_MARKERS.get(sg, "o")
                ax.plot(s["year"], s["value"], color=colour, linewidth=1.3, zorder=2,
                        label=sg if sg != "All" else None)
                filled = s[~s["_marked"]]
                hollow = s[s["_marked"]]
                ax.scatter(filled["year"], filled["value"], color=colour, marker=marker, s=16,
                           zorder=3)
                if len(hollow):
                    any_marked = True
                    ax.scatter(hollow["year"], hollow["value"], facecolor="white",
                               edgecolor=colour, marker=marker, s=16, linewidth=1.0, zorder=3)
                last = s.iloc[-1]
                txt = str(last.get("value_as_published", "")).replace("*", "").strip() \
                    if "value_as_published" in s else ""
                txt = txt or (f"{last['value']:.2f}" if unit == "ratio" else f"{last['value']:.1f}%")
                ax.annotate(txt, (last["year"], last["value"]), xytext=(4, 0),
                            textcoords="offset points", va="center", ha="left", fontsize=6,
                            color=colour)
            if unit == "ratio":
                ax.axhline(1.0, color="#777777", linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
                ax.set_ylim(min(lo, 1.0) - 0.05 * span - 0.02, hi + 0.12 * span)
                ax.set_ylabel("Relative likelihood", fontsize=6.8)
            else:
                ax.set_ylim(lo - 0.25 * span, hi + 0.25 * span)
                ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _p: f"{v:g}%"))
                ax.set_ylabel("Staff (%)" if ind != 9 else "Board members (%)", fontsize=6.8)
            ax.set_xticks(years)
            ax.set_xticklabels([f"'{str(y)[-2:]}" for y in years])
            ax.set_xlim(years[0] - 0.4, years[-1] + 1.3)
            ax.tick_params(labelsize=6.5)
            ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
            ax.set_axisbelow(True)
            if any(sg != "All" for sg in subgroups):
                ax.legend(fontsize=6, loc="best", handlelength=1.5, borderaxespad=0.2,
                          labelspacing=0.2)
        notes = ["NHS trusts in England, WRES data 2016\u20132021, values as published in the "
                 "source slide. Dashed line: relative likelihood 1 (equal)."]
        if any_marked:
            notes.append("Open markers: values marked * in the source (footnote not published).")
        fig.supxlabel(_wrap(" ".join(notes), 135), x=0.01, ha="left", fontsize=6.3,
                      color="#333333", multialignment="left")
        _freeze_layout(fig)
        return fig


def plot_recovery_by_ethnic_group(recovery: pd.DataFrame) -> Figure:
    """Recovery and reliable-recovery rates by ethnic group, NHS Talking Therapies, NE & Yorkshire.

    A dot plot with one row per ethnic group (left panel: the first slide table, broad
    groups) and per ethnic subgroup (right panel: the second slide table), values as
    published. The two tables print different values for the same broad groups (their
    periods are not stated in the source); both are shown as printed.

    Parameters
    ----------
    recovery : pandas.DataFrame
        ``corpus/context/talking_therapies_recovery.csv``: ``table, ethnic_group,
        ethnic_subgroup, measure, value``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If a column is missing, the table is empty, or it has no recovery rates.
    """
    _require(recovery, ["table", "ethnic_group", "ethnic_subgroup", "measure", "value"],
             "talking_therapies_recovery")
    measures = ("Recovery Rate", "Reliable Recovery Rate")
    df = recovery[recovery["measure"].isin(measures)].copy()
    if df.empty:
        raise InputError(f"talking_therapies_recovery: no rows with measure in {measures}")
    df["value"] = df["value"].astype(float)
    tables = list(dict.fromkeys(df["table"].astype(str)))
    titles = {
        "outcomes_by_ethnic_group": "By ethnic group (slide table 1)",
        "recovery_by_ethnic_subgroup": "By ethnic group and subgroup (slide table 2)",
    }
    style = {measures[0]: ("o", OKABE_ITO["blue"]), measures[1]: ("D", OKABE_ITO["vermillion"])}
    panels = []
    for t in tables:
        sub = df[df["table"].astype(str) == t]
        rows = list(dict.fromkeys(zip(sub["ethnic_group"].astype(str),
                                      sub["ethnic_subgroup"].astype(str), strict=True)))
        panels.append((t, sub, rows))
    lo = math.floor(df["value"].min() / 5) * 5 - 2
    hi = math.ceil(df["value"].max() / 5) * 5 + 2
    n_total = sum(len(r) for _, _, r in panels)
    with figure_style():
        height = 0.9 + 0.15 * n_total + 0.35 * len(panels)
        fig = _new_figure(6.9, height)
        fig.set_layout_engine("constrained", h_pad=0.05, hspace=0.04)
        gs = fig.add_gridspec(len(panels), 1, height_ratios=[len(r) + 0.6 for _, _, r in panels])
        for k, (t, sub, rows) in enumerate(panels):
            ax = fig.add_subplot(gs[k, 0])
            integers = bool((sub["value"] % 1 == 0).all())
            labels = []
            for i, (grp, sg) in enumerate(rows):
                y = len(rows) - 1 - i
                labels.append(grp if sg == "All" else sg)
                sel = sub[(sub["ethnic_group"].astype(str) == grp)
                          & (sub["ethnic_subgroup"].astype(str) == sg)]
                if len(sel) > 1:
                    ax.plot([sel["value"].min(), sel["value"].max()], [y, y], color="#bbbbbb",
                            linewidth=0.8, zorder=2)
                for meas in measures:
                    v = sel[sel["measure"] == meas]["value"]
                    if len(v):
                        marker, colour = style[meas]
                        ax.scatter(float(v.iloc[0]), y, marker=marker, color=colour, s=16,
                                   zorder=3)
                        val = float(v.iloc[0])
                        ax.annotate(f"{val:.0f}" if integers else f"{val:.1f}", (val, y),
                                    xytext=(5 if meas == measures[0] else -5, 0),
                                    textcoords="offset points", va="center",
                                    ha="left" if meas == measures[0] else "right", fontsize=5.8,
                                    color=colour)
            ax.set_yticks(range(len(rows) - 1, -1, -1))
            ax.set_yticklabels(labels, fontsize=6.8)
            for tick, (_grp, sg) in zip(ax.get_yticklabels(), rows, strict=True):
                if sg == "All":
                    tick.set_fontweight("bold")
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.set_xlim(lo, hi)
            ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _p: f"{v:g}%"))
            ax.tick_params(axis="y", length=0)
            ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
            ax.set_axisbelow(True)
            ax.set_title(titles.get(t, t.replace("_", " ")), fontsize=7.5, loc="left")
            if k == len(panels) - 1:
                ax.set_xlabel("Rate (%)", fontsize=7)
            if k == 0:
                handles = [Line2D([], [], linestyle="none", marker=style[m][0],
                                  color=style[m][1], label=m[:1] + m[1:].lower())
                           for m in measures]
                ax.legend(handles=handles, loc="lower right", ncol=2, fontsize=7,
                          bbox_to_anchor=(1.0, 1.0), borderaxespad=0.1)
        note = ("NHS Talking Therapies, North East and Yorkshire; values as published in the "
                "source slides (bold: the whole ethnic group, followed by its subgroups; "
                "truncated names as printed). The two tables print different values for the "
                "same groups; their periods are not stated in the source.")
        fig.supxlabel(_wrap(note, 135), x=0.01, ha="left", fontsize=6.0, color="#333333",
                      multialignment="left")
        _freeze_layout(fig)
        return fig


# --------------------------------------------------------------------------- all figures


def _wres_figure(root: str | os.PathLike[str]) -> Figure:
    return plot_wres_indicators(_read_context_table(root, "wres_indicators"))


def _recovery_figure(root: str | os.PathLike[str]) -> Figure:
    return plot_recovery_by_ethnic_group(_read_context_table(root, "talking_therapies_recovery"))


#: Context figures a study may declare in its settings (``context.figures``): name (also
#: the file stem) -> function of the study root returning the figure. Each reads its table
#: from ``<root>/corpus/context/<name>.csv``. Both belong to the published Anti-Racism CoP
#: study (context tables built from its source slides by ``thematic build-corpus``).
CONTEXT_FIGURES: dict[str, Any] = {
    "wres_indicators": _wres_figure,
    "talking_therapies_recovery": _recovery_figure,
}

#: Figures :func:`write_figures` draws, in order (section maps after the thematic map,
#: one per section; context figures last, for studies that declare them).
FIGURE_NAMES: tuple[str, ...] = (
    "thematic_map",
    "theme_by_group",
    "wres_indicators",
    "talking_therapies_recovery",
)


def _restrict_to_analysable(codings: pd.DataFrame,
                            responses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop excluded responses (if ``responses`` has ``exclude``) and their codings."""
    if "exclude" not in responses.columns:
        return codings, responses
    from .clean import analysable

    kept = analysable(responses)
    ids = set(kept["response_id"].astype(str))
    dropped = set(responses["response_id"].astype(str)) - ids
    if dropped and "response_id" in codings.columns:
        codings = codings[~codings["response_id"].astype(str).isin(dropped)]
    return codings, kept


def _group_table(codings: pd.DataFrame, responses: pd.DataFrame, codebook: Codebook,
                 settings: StudySettings) -> tuple[pd.DataFrame, bool]:
    """Theme x group counts for the study's group column; one pseudo-group if it has none."""
    from .coding import theme_by_group

    col = settings.group_column
    has_groups = col in responses.columns and bool(responses[col].notna().any()) and bool(
        responses[col].astype("string").str.strip().fillna("").ne("").any())
    if has_groups:
        values = responses[col].astype("string").str.strip()
        resp = responses.assign(group=values.where(values != "", pd.NA))
    else:
        resp = responses.assign(group=f"All {settings.units}")
    return theme_by_group(codings, resp, codebook, groups=settings.groups), has_groups


def write_figures(
    codebook: Codebook,
    codings: pd.DataFrame,
    responses: pd.DataFrame,
    directory: str | os.PathLike[str],
    *,
    settings: StudySettings,
    root: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Draw and save every figure of a study that depends only on its data.

    In order: ``thematic_map``, one ``section_map_<slug>`` per section
    (:func:`section_map_name`), ``theme_by_group`` (extracts per theme by the study's
    group, labelled and ordered by ``settings``), then the context figures the settings
    declare (:data:`CONTEXT_FIGURES`, read from ``<root>/corpus/context/``); each as SVG,
    PNG and PDF. Every figure is drawn before any file is written, so a bad input leaves
    no partial set. The theme x topic heatmap needs the topic model and is drawn by the
    topic check (notebook 04 for the published study).

    A codebook with no themes yet (initial codes only) has no map and no theme counts:
    those figures are left out with a :class:`UserWarning`, and the context figures are
    still drawn.

    Parameters
    ----------
    codebook : Codebook
    codings, responses : pandas.DataFrame
        The study's codings and responses, restricted by the caller to analysable
        responses; if ``responses`` still has an ``exclude`` column, excluded rows (and
        their codings) are dropped here too (:func:`thematic.clean.analysable`).
    directory : str or os.PathLike
        Where to write (the study's ``figures/``).
    settings : StudySettings
        The study's settings: group column, label and order; context figures.
    root : str or os.PathLike, optional
        Study root; needed only when the settings declare context figures.

    Returns
    -------
    list of pathlib.Path
        Every file written, in order.

    Raises
    ------
    InputError
        If the settings name an unknown context figure, or one is declared without
        ``root`` or its table is missing; or a table is malformed.

    Examples
    --------
    >>> import thematic
    >>> from thematic.figures import write_figures
    >>> study = thematic.examples.load("staff-survey")
    >>> written = write_figures(study.codebook, study.codings(analysable=True), study.analysable(),
    ...                         study.paths.figures, settings=study.settings)
    >>> sorted({p.stem for p in written})
    ['thematic_map', 'theme_by_group']
    """
    import warnings

    unknown = [n for n in settings.context_figures if n not in CONTEXT_FIGURES]
    if unknown:
        raise InputError(f"unknown context figure(s) {unknown} in the study's settings "
                         f"(context.figures); known: {sorted(CONTEXT_FIGURES)}")
    if settings.context_figures and root is None:
        raise InputError("the study's settings declare context figures "
                         f"{list(settings.context_figures)}: pass the study root")
    codings, responses = _restrict_to_analysable(codings, responses)
    drawn: list[tuple[str, Figure]] = []
    if codebook.themes():
        drawn.append(("thematic_map", plot_thematic_map(codebook)))
        drawn += [(section_map_name(s), plot_section_map(codebook, s.id))
                  for s in codebook.sections]
        table, has_groups = _group_table(codings, responses, codebook, settings)
        drawn.append(("theme_by_group", plot_theme_by_group(
            table, codebook=codebook, settings=settings, legend=has_groups)))
    else:
        warnings.warn(f"codebook {codebook.version!r} has no themes yet: the thematic map, "
                      "section maps and theme-by-group chart are not drawn", UserWarning,
                      stacklevel=2)
    drawn += [(name, CONTEXT_FIGURES[name](root)) for name in settings.context_figures]
    written: list[Path] = []
    for name, fig in drawn:
        written += write_figure(fig, name, directory)
    return written
