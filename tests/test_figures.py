"""Figures: map structure, no overlapping labels, text kept as text, byte-identical files."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from thematic import figures as F
from thematic.codebook import Code, Codebook, Relation, Section, Theme, load_codebook
from thematic.coding import load_codings, load_responses, theme_by_group
from thematic.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "figures"
SVG = "{http://www.w3.org/2000/svg}"

SECTION_NAMES = ["Racially Minoritised Caucus", "White Caucus", "Facilitators", "Inter-caucus"]
# theme names as printed on the slides, typed quotation marks included
THEME_NAMES = [
    "Solidarity and Connection", "Voicing the Unvoiced", "\u201cOffering us something different\u201d",
    "Evading Discomfort", "'More white fragility left than I thought'",
    "Working through discomfort", "Modelling authentic communication",
    "Unshielded Spokesperson", "'Aha' and 'oh right' moments",
    "Differing Perceptions of Safety", "\u201cShift in power and accountability\u201d",
]


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")


@pytest.fixture(scope="module")
def synthetic() -> Codebook:
    return load_codebook(DATA / "synthetic_codebook.yaml")


@pytest.fixture(scope="module")
def wres() -> pd.DataFrame:
    return pd.read_csv(ROOT / "corpus" / "context" / "wres_indicators.csv",
                       dtype={"marker": "string"})


@pytest.fixture(scope="module")
def recovery() -> pd.DataFrame:
    return pd.read_csv(ROOT / "corpus" / "context" / "talking_therapies_recovery.csv")


@pytest.fixture(scope="module")
def by_group(codebook) -> pd.DataFrame:
    responses = load_responses(ROOT / "corpus" / "processed" / "responses.csv")
    codings = load_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)
    return theme_by_group(codings, responses, codebook)


# ----------------------------------------------------------------------------- helpers


def _drawn_texts(fig) -> list[Text]:
    """Every text matplotlib draws for ``fig``: figure texts, legends, titles, labels, ticks."""
    out = list(fig.texts)
    legends = list(fig.legends)
    for ax in fig.axes:
        out += list(ax.texts) + [ax.title, ax._left_title, ax._right_title]
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                out.append(axis.label)
                for tick in axis._update_ticks():
                    out += [tick.label1, tick.label2]
    for leg in legends:
        out += list(leg.get_texts()) + [leg.get_title()]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _boxes(fig):
    """Window extents of every drawn, non-empty text of ``fig`` (as the figure draws it)."""
    fig.canvas.draw()
    with F.figure_style():
        r = fig.canvas.get_renderer()
        return [(t.get_text(), t.get_window_extent(r)) for t in _drawn_texts(fig)]


def _overlaps(a, b, tol: float = 0.0) -> bool:
    return (a.x0 < b.x1 - tol and b.x0 < a.x1 - tol and a.y0 < b.y1 - tol and b.y0 < a.y1 - tol)


def assert_no_overlap(fig):
    boxes = _boxes(fig)
    assert boxes, "no text found"
    w, h = fig.canvas.get_width_height()
    for text, bb in boxes:
        assert bb.x0 >= -0.5 and bb.y0 >= -0.5 and bb.x1 <= w + 0.5 and bb.y1 <= h + 0.5, \
            f"label {text!r} is clipped by the figure edge ({bb} vs {w}x{h})"
    clashes = [(a[0], b[0]) for a, b in itertools.combinations(boxes, 2) if _overlaps(a[1], b[1])]
    assert not clashes, f"overlapping labels: {clashes[:5]}"


def _svg_labels(path: Path) -> dict[str, str]:
    """``{gid: text}`` of every ``label-*`` group of an SVG (lines joined by spaces)."""
    root = ET.parse(path).getroot()
    out = {}
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id", "")
        if gid.startswith("label-"):
            out[gid[len("label-"):]] = " ".join(
                (t.text or "").strip() for t in g.iter(f"{SVG}text"))
    return out


# ----------------------------------------------------------------------------- graph


def test_map_graph_has_every_section_theme_and_link(codebook):
    g = F.thematic_map_graph(codebook)
    sections = [n for n, d in g.nodes(data=True) if d["kind"] == "section"]
    themes = [n for n, d in g.nodes(data=True) if d["kind"] == "theme"]
    assert sections == ["RMC", "WC", "FAC", "IC"]
    assert themes == ["RMC-T1", "RMC-T2", "RMC-T3", "WC-T1", "WC-T2", "WC-T3", "FAC-T1",
                      "FAC-T2", "IC-T1", "IC-T2", "IC-T3"]
    assert [g.nodes[s]["label"] for s in sections] == SECTION_NAMES
    assert [g.nodes[t]["label"] for t in themes] == THEME_NAMES
    for t in themes:
        sec = g.nodes[t]["section"]
        assert t.startswith(sec + "-") and g.nodes[t]["parent"] == sec
        assert g.edges[sec, t]["kind"] == "contains"
    links = {frozenset((a, b)): d["kind"] for a, b, d in g.edges(data=True)
             if d["kind"] != "contains"}
    # the codebook declares every pair of sections "interconnected"
    assert links == {frozenset(p): "interconnected" for p in itertools.combinations(sections, 2)}
    assert g.number_of_edges() == 11 + 6


def test_map_graph_subthemes_codes_relations_and_default_links(synthetic):
    g = F.thematic_map_graph(synthetic)
    kinds = nx.get_node_attributes(g, "kind")
    assert kinds["S1-T1-S1"] == "subtheme" and kinds["C1"] == "code"
    assert g.nodes["C2"]["parent"] == "S1-T2" and g.nodes["C2"]["section"] == "S1"
    assert g.edges["S1-T2", "S2-T1"]["kind"] == "tension"
    # no section-to-section relation declared -> every pair linked as interconnected
    for a, b in itertools.combinations(["S1", "S2", "S3"], 2):
        assert g.edges[a, b]["kind"] == "interconnected"
    assert not F.thematic_map_graph(synthetic, connect_sections=False).has_edge("S1", "S2")


def test_map_graph_rejects_relation_to_unknown_id(synthetic):
    bad = Codebook(version="x", status="candidate", sections=synthetic.sections,
                   relations=[Relation("S1", "NOPE")])
    with pytest.raises(InputError, match="NOPE"):
        F.thematic_map_graph(bad)


# ----------------------------------------------------------------------------- layout


def test_layout_is_deterministic_2x2_and_themes_face_outwards(codebook):
    pos = F.thematic_map_layout(codebook)
    assert pos == F.thematic_map_layout(codebook)
    (rx, ry), (wx, wy), (fx, fy), (ix, iy) = (pos[s] for s in ("RMC", "WC", "FAC", "IC"))
    assert rx < wx and fx < ix and ry > fy and wy > iy  # 2 x 2 in reading order
    assert math.isclose(rx, fx) and math.isclose(wx, ix)
    assert math.isclose(ry, wy) and math.isclose(fy, iy)
    cx, cy = np.mean([rx, wx, fx, ix]), np.mean([ry, wy, fy, iy])
    for sec in codebook.sections:
        hx, hy = pos[sec.id]
        for th in sec.themes:
            tx, ty = pos[th.id]
            # on the side of the hub away from the centre of the map
            assert (tx - hx) * (hx - cx) + (ty - hy) * (hy - cy) > 0, th.id


# ----------------------------------------------------------------------------- drawing


def test_thematic_map_readable_at_page_width_without_overlap(codebook):
    fig = F.plot_thematic_map(codebook)
    w, h = fig.get_size_inches()
    assert 6.3 <= w <= 7.0 and h <= 9.0
    assert_no_overlap(fig)
    r = fig.canvas.get_renderer()
    boxes = [p.get_window_extent(r) for p in fig.findobj()
             if (getattr(p, "get_gid", lambda: None)() or "").startswith(("box-", "hub-"))]
    assert len(boxes) == 4 + 11
    assert not any(_overlaps(a, b) for a, b in itertools.combinations(boxes, 2))


def test_section_maps_have_no_overlap(codebook):
    for sec in codebook.sections:
        fig = F.plot_section_map(codebook, sec.id)
        texts = [t for _, t in _boxes(fig)]
        assert len(texts) >= 1 + len(sec.themes)
        assert_no_overlap(fig)


def test_section_map_unknown_section(codebook):
    with pytest.raises(InputError, match="unknown section"):
        F.plot_section_map(codebook, "XX")


def test_synthetic_map_with_subthemes_codes_relation_has_no_overlap(synthetic):
    fig = F.plot_thematic_map(synthetic)
    assert_no_overlap(fig)
    texts = " ".join(t for t, _ in _boxes(fig))
    assert "A subtheme" in texts and "a code" in texts and "tension" in texts
    assert any(p.get_gid() == "relation-S1-T2-S2-T1" for p in fig.findobj()
               if hasattr(p, "get_gid"))


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14)
_names = st.lists(_words, min_size=1, max_size=7).map(" ".join)


@st.composite
def _codebooks(draw):
    n_sections = draw(st.integers(1, 6))
    sections = []
    for i in range(n_sections):
        n_themes = draw(st.integers(0, 5))
        themes = []
        for j in range(n_themes):
            codes = [Code(f"c{i}-{j}-{k}", draw(_names)) for k in range(draw(st.integers(0, 2)))]
            themes.append(Theme(f"T{i}-{j}", draw(_names), codes=codes))
        sections.append(Section(f"S{i}", draw(_names), themes=themes))
    return Codebook(version="synthetic", status="candidate", sections=sections)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_codebooks())
def test_any_codebook_map_has_no_overlapping_labels(cb):
    assert_no_overlap(F.plot_thematic_map(cb))


def test_empty_codebook_is_an_input_error():
    with pytest.raises(InputError, match="no sections"):
        F.plot_thematic_map(Codebook(version="x", status="candidate", sections=[]))


def test_plots_do_not_touch_pyplot_state(codebook):
    before = plt.get_fignums()
    F.plot_thematic_map(codebook)
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- svg / files


def test_svg_keeps_every_section_and_theme_name_as_text(codebook, tmp_path):
    svg, png, pdf = F.save_figure(F.plot_thematic_map(codebook), "thematic_map", tmp_path)
    assert [p.name for p in (svg, png, pdf)] == ["thematic_map.svg", "thematic_map.png",
                                                 "thematic_map.pdf"]
    labels = _svg_labels(svg)
    for sec in codebook.sections:
        assert labels[sec.id] == sec.name
    for th in codebook.themes():
        assert labels[th.id] == th.name  # typed quotes intact after XML parsing
    found = set(labels.values())
    assert set(SECTION_NAMES) <= found and set(THEME_NAMES) <= found
    raw = svg.read_text(encoding="utf-8")
    assert "DejaVuSans-" not in raw  # no glyph outlines: svg.fonttype none
    assert "<dc:date>" not in raw
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"CreationDate" not in pdf.read_bytes()


def test_svg_escapes_ampersand_and_angle_brackets(synthetic, tmp_path):
    (svg, *_), = [F.save_figure(F.plot_thematic_map(synthetic), "m", tmp_path, formats=["svg"])]
    labels = _svg_labels(svg)  # parses: & and < are escaped
    assert labels["S2-T1"] == "'Single quotes' & ampersand"
    assert labels["S1-T1-S2"] == "\u25b8 Another subtheme with <angle> brackets"
    assert "&amp;" in svg.read_text(encoding="utf-8")


def test_png_is_300_dpi(codebook, tmp_path):
    (png,) = F.save_figure(F.plot_section_map(codebook, "WC"), "wc", tmp_path, formats=["png"])
    from PIL import Image

    with Image.open(png) as im:
        w_in = F.plot_section_map(codebook, "WC").get_size_inches()[0]
        assert abs(im.size[0] - round(w_in * 300)) <= 1
        assert "Software" in im.info and "thematic" in im.info["Software"]


def test_save_twice_is_byte_identical(codebook, wres, tmp_path):
    for name, draw in [("thematic_map", lambda: F.plot_thematic_map(codebook)),
                       ("wres_indicators", lambda: F.plot_wres_indicators(wres))]:
        a = F.save_figure(draw(), name, tmp_path / "a")
        b = F.save_figure(draw(), name, tmp_path / "b")
        for pa, pb in zip(a, b, strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert not list((tmp_path / "a").glob("*.tmp")) and not list((tmp_path / "a").glob(".*"))


@pytest.mark.parametrize("name", ["", "../x", "a b", "fig.png", ".hidden"])
def test_save_figure_rejects_bad_names(codebook, tmp_path, name):
    with pytest.raises(InputError):
        F.save_figure(F.plot_section_map(codebook, "WC"), name, tmp_path)


def test_save_figure_rejects_unknown_format(codebook, tmp_path):
    with pytest.raises(InputError, match="format"):
        F.save_figure(F.plot_section_map(codebook, "WC"), "x", tmp_path, formats=["jpg"])


def test_figure_style_sets_editable_text():
    import matplotlib as mpl

    before = mpl.rcParams["svg.fonttype"]
    with F.figure_style():
        assert mpl.rcParams["svg.fonttype"] == "none"
        assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"
        assert mpl.rcParams["svg.hashsalt"]
    assert mpl.rcParams["svg.fonttype"] == before


def test_map_colours_are_okabe_ito(codebook):
    import matplotlib.colors as mcolors

    fig = F.plot_thematic_map(codebook)
    palette = {mcolors.to_hex(c) for c in F.OKABE_ITO.values()}
    edges = {mcolors.to_hex(p.get_edgecolor()) for p in fig.findobj()
             if (getattr(p, "get_gid", lambda: None)() or "").startswith(("box-", "hub-"))}
    assert len(edges) == 4 and edges <= palette


def test_section_map_names_say_what_they_show(codebook):
    assert [F.section_map_name(s) for s in codebook.sections] == [
        "section_map_racially_minoritised_caucus", "section_map_white_caucus",
        "section_map_facilitators", "section_map_inter_caucus"]


# ----------------------------------------------------------------------------- counts


def test_theme_by_group_bars_are_the_counts(by_group, codebook):
    fig = F.plot_theme_by_group(by_group, codebook=codebook)
    ax = fig.axes[0]
    bars = sorted(int(round(p.get_width())) for p in ax.patches if isinstance(p, Rectangle))
    assert bars == sorted(int(v) for v in by_group["n_extracts"])
    assert sum(bars) == 49
    assert "not a measure of importance" in ax.get_xlabel()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "Racially Minoritised Caucus"
    assert [" ".join(t.split()) for t in ticks if t not in SECTION_NAMES] == THEME_NAMES
    assert_no_overlap(fig)


def test_theme_by_group_bar_colour_follows_the_caucus(by_group, codebook):
    ax = F.plot_theme_by_group(by_group, codebook=codebook).axes[0]
    legend = {t.get_text(): h.get_facecolor() for t, h in
              zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)}
    assert set(legend) == {"Racially Minoritised Caucus", "White Caucus"}
    assert legend["Racially Minoritised Caucus"] != legend["White Caucus"]


def test_theme_by_group_rejects_bad_tables(by_group):
    with pytest.raises(InputError, match="n_extracts"):
        F.plot_theme_by_group(by_group.drop(columns="n_extracts"))
    with pytest.raises(InputError, match="empty"):
        F.plot_theme_by_group(by_group.iloc[:0])


def test_heatmap_annotates_every_cell(codebook):
    ids = [t.id for t in codebook.themes()]
    values = np.arange(len(ids) * 4).reshape(len(ids), 4) % 5
    table = pd.DataFrame(values, index=ids, columns=["0_caucus_white", "1_space", "2_safe",
                                                     "3_power"])
    fig = F.plot_theme_topic_heatmap(table, codebook=codebook)
    ax = fig.axes[0]
    cells = [t for t in ax.texts]
    assert len(cells) == values.size
    assert sorted(int(t.get_text()) for t in cells) == sorted(values.ravel().tolist())
    assert [" ".join(t.get_text().split()) for t in ax.get_yticklabels()] == THEME_NAMES
    assert_no_overlap(fig)


def test_heatmap_rejects_negative_or_text():
    with pytest.raises(InputError, match="negative"):
        F.plot_theme_topic_heatmap(pd.DataFrame({"a": [1, -1]}, index=["x", "y"]))
    with pytest.raises(InputError, match="non-numeric"):
        F.plot_theme_topic_heatmap(pd.DataFrame({"a": ["one", "2"]}, index=["x", "y"]))


# ----------------------------------------------------------------------------- context


def test_wres_panels_plot_the_published_values(wres):
    fig = F.plot_wres_indicators(wres)
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(axes) == wres["indicator"].nunique() == 9
    by_title = {ax.get_title(loc="left").split(".")[0]: ax for ax in axes}
    for ind in (5, 6, 7, 8):
        ax = by_title[str(ind)]
        lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert set(lines) == {"BME", "White"}
        for sg, ln in lines.items():
            expect = wres[(wres["indicator"] == ind) & (wres["subgroup"] == sg)] \
                .sort_values("year")["value"].to_list()
            assert ln.get_ydata().tolist() == expect
    # relative likelihood panels carry the parity line at 1
    for ind in (2, 3, 4):
        ys = [ln.get_ydata() for ln in by_title[str(ind)].get_lines()]
        assert any(len(set(np.ravel(y))) == 1 and float(np.ravel(y)[0]) == 1.0 for y in ys)
    assert "marked * in the source" in " ".join(t.get_text() for t in fig.texts)
    assert_no_overlap(fig)


def test_wres_hollow_markers_for_starred_values(wres):
    fig = F.plot_wres_indicators(wres)
    hollow = 0
    for ax in fig.axes:
        for coll in ax.collections:
            fc = coll.get_facecolor()
            if len(fc) and np.allclose(fc[0][:3], 1.0):
                hollow += len(coll.get_offsets())
    assert hollow == int(wres["marker"].fillna("").eq("*").sum()) == 4


def test_recovery_plots_both_rates_for_every_group(recovery):
    fig = F.plot_recovery_by_ethnic_group(recovery)
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(axes) == 2
    plotted = sorted(float(x) for ax in axes for c in ax.collections
                     for x, _ in c.get_offsets())
    expect = recovery[recovery["measure"].isin(["Recovery Rate", "Reliable Recovery Rate"])]
    assert plotted == sorted(expect["value"].astype(float).tolist())
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert labels == list(dict.fromkeys(
        recovery[recovery["table"] == "outcomes_by_ethnic_group"]["ethnic_group"]))
    assert_no_overlap(fig)


def test_read_context_tables_gives_the_same_figures(wres, recovery, tmp_path):
    w, r = F.read_context_tables(ROOT)
    assert w["year"].dtype == "int64" and r["value"].dtype == "float64"
    a = F.save_figure(F.plot_wres_indicators(w), "a", tmp_path, formats=["svg"])[0]
    b = F.save_figure(F.plot_wres_indicators(wres), "b", tmp_path, formats=["svg"])[0]
    assert a.read_bytes() == b.read_bytes()
    assert len(F.plot_recovery_by_ethnic_group(r).axes) == 2


def test_context_figures_reject_missing_columns(wres, recovery):
    with pytest.raises(InputError, match="subgroup"):
        F.plot_wres_indicators(wres.drop(columns="subgroup"))
    with pytest.raises(InputError, match="no rows"):
        F.plot_recovery_by_ethnic_group(recovery.assign(measure="Other"))
