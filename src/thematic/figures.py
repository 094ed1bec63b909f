"""Figures of the analysis: the thematic map, per-section maps, counts and context.

Every ``plot_<content>`` function returns a :class:`matplotlib.figure.Figure` drawn under
:func:`figure_style` (DejaVu Sans, sizes readable at A4 page width, text kept as text in
SVG so journals can edit it, the Okabe-Ito colour-blind-safe palette). Figures are made
with the object-oriented API (no pyplot state): display them explicitly in a notebook.
:func:`save_figure` writes ``figures/<name>.svg``, ``.png`` (300 dpi) and ``.pdf``
atomically and byte-identically on every run.

The thematic map is built from the codebook as a :mod:`networkx` graph
(:func:`thematic_map_graph`) and drawn with a fixed geometric layout
(:func:`thematic_map_layout`): four section hubs in a 2 x 2 arrangement (any other number
of sections on a circle), each section's themes arranged radially on its outer side.
Label sizes are measured with the renderer and the layout pushes elements apart until no
two labels overlap; no random numbers are involved.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
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
from .config import GROUPS, project_paths
from .errors import InputError
from .io import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

__all__ = [
    "OKABE_ITO",
    "FIGURE_FORMATS",
    "figure_style",
    "save_figure",
    "thematic_map_graph",
    "thematic_map_layout",
    "plot_thematic_map",
    "plot_section_map",
    "plot_theme_by_group",
    "plot_theme_topic_heatmap",
    "plot_wres_indicators",
    "plot_recovery_by_ethnic_group",
    "section_map_name",
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

#: Colours given to sections (and to the caucus of the same name) in codebook order.
_SECTION_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
)

#: Formats :func:`save_figure` writes, in order.
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


def _new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot (no global state, no auto-display)."""
    fig = Figure(figsize=(width, height), dpi=STYLE["figure.dpi"])
    FigureCanvasAgg(fig)
    return fig


def save_figure(
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
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name or ""):
        raise InputError(f"figure name {name!r} must be a plain file stem ([A-Za-z0-9_-])")
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise InputError(f"unknown figure format(s) {unknown}; use {list(FIGURE_FORMATS)}")
    out = Path(directory) if directory is not None else project_paths().figures
    written = []
    with figure_style():
        for fmt in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=_METADATA[fmt])
            written.append(atomic_write_bytes(out / f"{name}.{fmt}", buf.getvalue()))
    return written


# --------------------------------------------------------------------------- helpers


def _wrap(text: str, width: int) -> str:
    """Wrap ``text`` at ``width`` characters without breaking words or hyphenated words."""
    text = " ".join(str(text).split())
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


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
    return {
        s.id: _SECTION_COLOURS[i % len(_SECTION_COLOURS)] for i, s in enumerate(codebook.sections)
    }


def _group_colours(groups: Iterable[str], codebook: Codebook | None = None) -> dict[str, str]:
    """A caucus takes the colour of the codebook section of the same name, if any."""
    named: dict[str, str] = {}
    if codebook is not None:
        cols = _section_colours(codebook)
        named = {s.name.lower(): cols[s.id] for s in codebook.sections}
    else:
        named = {g.lower(): _SECTION_COLOURS[i] for i, g in enumerate(GROUPS)}
    spare = [c for c in _SECTION_COLOURS if c not in named.values()]
    out = {}
    for g in groups:
        out[g] = named.get(str(g).lower()) or spare.pop(0) if spare or str(g).lower() in named \
            else OKABE_ITO["black"]
    return out


# --------------------------------------------------------------------------- the map graph


def _walk_theme(theme: Any) -> Iterator[tuple[Any, Any]]:
    """(parent, child) pairs below ``theme``: subthemes and codes, depth first."""
    for sub in getattr(theme, "subthemes", None) or []:
        yield theme, sub
        yield from _walk_theme(sub)
    for code in getattr(theme, "codes", None) or []:
        yield theme, code


def thematic_map_graph(codebook: Codebook, *, connect_sections: bool = True) -> nx.Graph:
    """The thematic map as a graph: sections, themes, subthemes, codes and their links.

    Parameters
    ----------
    codebook : Codebook
        The codebook (:func:`thematic.codebook.load_codebook`).
    connect_sections : bool
        Link every pair of sections (``kind="interconnected"``), as the source's Figure 1
        describes "four interconnected sections". Relations the codebook declares are
        always added.

    Returns
    -------
    networkx.Graph
        Nodes are codebook ids with attributes ``kind`` (``"section"``, ``"theme"``,
        ``"subtheme"`` or ``"code"``), ``label`` (the name as written in the codebook),
        ``section`` (id of the section it belongs to), ``parent`` (id of the node it
        belongs to; ``None`` for sections) and ``order`` (position in the codebook).
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
    for section in codebook.sections:
        g.add_node(section.id, kind="section", label=section.name, section=section.id,
                   parent=None, order=order)
        order += 1
        for theme in section.themes:
            g.add_node(theme.id, kind="theme", label=theme.name, section=section.id,
                       parent=section.id, order=order)
            order += 1
            g.add_edge(section.id, theme.id, kind="contains", note=None)
            for parent, child in _walk_theme(theme):
                kind = "code" if not hasattr(child, "subthemes") else "subtheme"
                if child.id not in g:
                    g.add_node(child.id, kind=kind, label=child.name, section=section.id,
                               parent=parent.id, order=order)
                    order += 1
                g.add_edge(parent.id, child.id, kind="contains", note=None)
    if connect_sections:
        ids = [s.id for s in codebook.sections]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                g.add_edge(a, b, kind="interconnected", note=None)
    problems = []
    for rel in getattr(codebook, "relations", None) or []:
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
            blocks.append((_wrap("\u25b8 " + g.nodes[s]["label"], style.sub_wrap),
                           {"fontsize": style.sub_size, "fontstyle": "italic",
                            "linespacing": 1.1, "_node": s}))
    if show_codes and codes:
        text = "\n".join(_wrap("\u2022 " + g.nodes[c]["label"], style.sub_wrap) for c in codes)
        blocks.append((text, {"fontsize": style.code_size, "color": "#333333",
                              "linespacing": 1.1, "_node": f"{node}:codes"}))
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
            angles = [90.0, -90.0]
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
    """Unit directions of the section hubs from the map centre."""
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
        t = ax.text(card.x, y - h / 2, text, ha="center", va="center", multialignment="center",
                    zorder=4, **{k: v for k, v in kw.items() if not k.startswith("_")})
        t.set_gid(f"label-{gid}")
        y -= h + 0.04
        if i == 0 and len(card.blocks) > 1:
            ax.add_line(Line2D([x0 + style.pad, x1 - style.pad], [y + 0.02, y + 0.02],
                               color=_tint(colour, 0.5), linewidth=0.6, zorder=4))


def _draw_hub(ax: Any, hub: _Hub, colour: str) -> None:
    circle = Circle((hub.x, hub.y), hub.radius, facecolor=_tint(colour, 0.3),
                    edgecolor=colour, linewidth=1.8, zorder=3)
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
    rel_edges = [(a, b, d) for a, b, d in g.edges(data=True)
                 if d["kind"] not in {"contains", "interconnected"}]
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
    for a, b, d in g.edges(data=True):
        if d["kind"] == "interconnected" and a in hubs and b in hubs:
            ax.add_line(Line2D(*zip(centre(a), centre(b), strict=True), color="#9a9a9a",
                               linewidth=2.2, solid_capstyle="round", zorder=1))
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
    if legend:
        handles = [Line2D([], [], color="#9a9a9a", linewidth=2.2,
                          label="link between sections")]
        handles.append(Line2D([], [], color="#555555", linewidth=1.3,
                              label="theme of a section"))
        kinds = sorted({d["kind"] for _, _, d in rel_edges})
        for k in kinds:
            handles.append(Line2D([], [], color="black", linewidth=0.9, linestyle=(0, (4, 2)),
                                  label=f"relation: {k}"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7,
                   handlelength=2.2, columnspacing=1.5, borderaxespad=0.3)
    return fig


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
    connect_sections: bool = True,
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
    connect_sections : bool
        Draw a link between every pair of sections (the source's "interconnected
        sections").
    width : float
        Minimum figure width in inches (A4 text width is about 6.3-7 in); the map is
        centred in it.
    legend : bool
        Explain the line styles below the map.

    Returns
    -------
    matplotlib.figure.Figure
        SVG output holds every label as ``<text>``; each label's group has the id
        ``label-<codebook id>``.
    """
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
