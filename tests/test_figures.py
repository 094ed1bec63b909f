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
from thematic.codebook import Code, Codebook, Relation, Section, Theme, read_codebook
from thematic.coding import read_codings, read_responses, theme_by_group
from thematic.errors import InputError
from thematic.settings import StudySettings

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "figures"
SVG = "{http://www.w3.org/2000/svg}"

STUDY = DATA / "synthetic_study"
PUBLISHED = StudySettings(
    title="Evaluation of the Anti-Racism Community of Practice", group_label="caucus",
    groups=("Racially Minoritised Caucus", "White Caucus"), unit="extract", published=True,
    attribution="{group} Member", coder="published",
    context_figures=("wres_indicators", "talking_therapies_recovery"))
STAFF = StudySettings(title="Synthetic staff survey", group_column="staff_group",
                      group_label="staff group", groups=("Senior leadership", "Nursing"))
#: the seven staff groups of the synthetic study, as its responses.csv spells them
STAFF_GROUPS = ["Nursing", "Medical and dental staff including trainees",
                "Administrative and clerical", "Allied health professionals",
                "Estates and facilities", "Healthcare support workers", "Senior leadership"]
#: which top-level theme each code of the synthetic codebook counts for (read off its YAML)
STAFF_THEME_OF = {"WL-T1": "WL-T1", "c-overtime": "WL-T1", "WL-T2": "WL-T2",
                  "T-VOICE": "T-VOICE", "c-ignored": "T-VOICE", "T-BELONG": "T-BELONG",
                  "c-parking": None, "c-canteen": None}

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
    return read_codebook(ROOT / "corpus" / "coding" / "codebook.yaml")


@pytest.fixture(scope="module")
def synthetic() -> Codebook:
    return read_codebook(DATA / "synthetic_codebook.yaml")


@pytest.fixture(scope="module")
def wres() -> pd.DataFrame:
    return pd.read_csv(ROOT / "corpus" / "context" / "wres_indicators.csv",
                       dtype={"marker": "string"})


@pytest.fixture(scope="module")
def recovery() -> pd.DataFrame:
    return pd.read_csv(ROOT / "corpus" / "context" / "talking_therapies_recovery.csv")


@pytest.fixture(scope="module")
def by_group(codebook) -> pd.DataFrame:
    responses = read_responses(ROOT / "corpus" / "processed" / "responses.csv")
    codings = read_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)
    return theme_by_group(codings, responses, codebook, groups=PUBLISHED.groups)


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
    with pytest.raises(InputError, match="no themes to draw yet"):
        F.plot_thematic_map(Codebook(version="x", status="candidate", sections=[]))


def test_codes_only_codebook_is_a_clear_input_error():
    cb = Codebook(version="phase2", status="candidate",
                  codes_without_theme=[Code("c1", "a code"), Code("c2", "another")])
    with pytest.raises(InputError, match=r"no themes to draw yet.*2 codes"):
        F.plot_thematic_map(cb)


def test_plots_do_not_touch_pyplot_state(codebook):
    before = plt.get_fignums()
    F.plot_thematic_map(codebook)
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- svg / files


def test_svg_keeps_every_section_and_theme_name_as_text(codebook, tmp_path):
    svg, png, pdf = F.write_figure(F.plot_thematic_map(codebook), "thematic_map", tmp_path)
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
    (svg, *_), = [F.write_figure(F.plot_thematic_map(synthetic), "m", tmp_path, formats=["svg"])]
    labels = _svg_labels(svg)  # parses: & and < are escaped
    assert labels["S2-T1"] == "'Single quotes' & ampersand"
    assert labels["S1-T1-S2"] == "\u25b8 Another subtheme with <angle> brackets"
    assert "&amp;" in svg.read_text(encoding="utf-8")


def test_png_is_300_dpi(codebook, tmp_path):
    (png,) = F.write_figure(F.plot_section_map(codebook, "WC"), "wc", tmp_path, formats=["png"])
    from PIL import Image

    with Image.open(png) as im:
        w_in = F.plot_section_map(codebook, "WC").get_size_inches()[0]
        assert abs(im.size[0] - round(w_in * 300)) <= 1
        assert "Software" in im.info and "thematic" in im.info["Software"]


def test_save_twice_is_byte_identical(codebook, wres, tmp_path):
    for name, draw in [("thematic_map", lambda: F.plot_thematic_map(codebook)),
                       ("wres_indicators", lambda: F.plot_wres_indicators(wres))]:
        a = F.write_figure(draw(), name, tmp_path / "a")
        b = F.write_figure(draw(), name, tmp_path / "b")
        for pa, pb in zip(a, b, strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert not list((tmp_path / "a").glob("*.tmp")) and not list((tmp_path / "a").glob(".*"))


@pytest.mark.parametrize("name", ["", "../x", "a b", "fig.png", ".hidden"])
def test_save_figure_rejects_bad_names(codebook, tmp_path, name):
    with pytest.raises(InputError):
        F.write_figure(F.plot_section_map(codebook, "WC"), name, tmp_path)


def test_save_figure_rejects_unknown_format(codebook, tmp_path):
    with pytest.raises(InputError, match="format"):
        F.write_figure(F.plot_section_map(codebook, "WC"), "x", tmp_path, formats=["jpg"])


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
    fig = F.plot_theme_by_group(by_group, codebook=codebook, settings=PUBLISHED)
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
    import matplotlib.colors as mcolors

    ax = F.plot_theme_by_group(by_group, codebook=codebook, settings=PUBLISHED).axes[0]
    legend = {t.get_text(): mcolors.to_hex(h.get_facecolor()) for t, h in
              zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)}
    assert list(legend) == ["Racially Minoritised Caucus", "White Caucus"]  # the study's order
    # each caucus is drawn in the colour of the map section of the same name
    map_colours = {mcolors.to_hex(p.get_edgecolor()) for p in F.plot_section_map(
        codebook, "RMC").findobj() if (getattr(p, "get_gid", lambda: None)() or "") == "hub-RMC"}
    assert map_colours == {legend["Racially Minoritised Caucus"]}
    assert legend["Racially Minoritised Caucus"] != legend["White Caucus"]
    assert ax.get_legend().get_title().get_text() == "Caucus of the respondent:"


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
    a = F.write_figure(F.plot_wres_indicators(w), "a", tmp_path, formats=["svg"])[0]
    b = F.write_figure(F.plot_wres_indicators(wres), "b", tmp_path, formats=["svg"])[0]
    assert a.read_bytes() == b.read_bytes()
    assert len(F.plot_recovery_by_ethnic_group(r).axes) == 2


def test_context_figures_reject_missing_columns(wres, recovery):
    with pytest.raises(InputError, match="subgroup"):
        F.plot_wres_indicators(wres.drop(columns="subgroup"))
    with pytest.raises(InputError, match="no rows"):
        F.plot_recovery_by_ethnic_group(recovery.assign(measure="Other"))


# ----------------------------------------------------------------------------- any study

_LONG_GROUPS = [
    "Nursing", "Medical and dental staff including trainees and locums", "Admin",
    "Allied health professionals working across community and acute services",
    "Estates", "Healthcare assistants", "Senior leadership team and board members",
    "Pharmacy", "Psychology", "Social work", "Students on placement", "Volunteers"]


def _group_table(n_groups: int, n_themes: int = 4) -> pd.DataFrame:
    """A theme x group table: half the themes in a section, half without one."""
    rows = []
    for i in range(n_themes):
        name = ("Feeling unheard when raising concerns about racism with line managers and "
                f"senior leaders {i}" if i % 2 else f"Theme {i}")
        for j, g in enumerate(_LONG_GROUPS[:n_groups]):
            rows.append({"section_id": "S1" if i < n_themes // 2 else pd.NA, "theme_id": f"T{i}",
                         "theme": name, "group": g, "n_extracts": (3 * i + j) % 6})
    return pd.DataFrame(rows)


def _bar_colours(fig) -> list[str]:
    import matplotlib.colors as mcolors

    return [mcolors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches
            if isinstance(p, Rectangle)]


@pytest.mark.parametrize("n", range(1, F.MAX_GROUPS + 1))
def test_group_colours_are_distinct_for_up_to_12_groups(n):
    colours = F.group_colours(_LONG_GROUPS[:n])
    assert list(colours) == _LONG_GROUPS[:n]
    assert len(set(colours.values())) == n
    if n <= 8:
        assert set(colours.values()) <= set(F.OKABE_ITO.values())


def test_group_colours_refuse_more_than_12_groups():
    with pytest.raises(InputError, match="13 groups"):
        F.group_colours([f"g{i}" for i in range(13)])


def test_group_named_like_a_section_never_shares_a_colour(codebook):
    # 8 groups, two named like sections: still 8 different colours
    groups = ["White Caucus", "Racially Minoritised Caucus", *_LONG_GROUPS[:6]]
    colours = F.group_colours(groups, codebook)
    assert len(set(colours.values())) == 8


@pytest.mark.parametrize("n_groups", [2, 3, 7, 9, 12])
def test_theme_by_group_any_number_of_groups(n_groups):
    settings = StudySettings(title="x", group_label="staff group")
    fig = F.plot_theme_by_group(_group_table(n_groups), settings=settings)
    ax = fig.axes[0]
    leg = ax.get_legend()
    assert leg.get_title().get_text() == "Staff group of the respondent:"
    assert "caucus" not in leg.get_title().get_text().lower()
    shown = [" ".join(t.get_text().split()) for t in leg.get_texts()]
    assert shown == sorted(_LONG_GROUPS[:n_groups])  # no settings order: alphabetical
    # one colour per group, never repeated; every bar of a group in its colour
    handles = [tuple(h.get_facecolor()) for h in leg.legend_handles]
    assert len(set(handles)) == n_groups
    assert len(set(_bar_colours(fig))) == n_groups
    assert_no_overlap(fig)  # includes: every text lies inside the figure


def test_theme_by_group_grows_with_themes_and_groups():
    def height(g, t):
        return F.plot_theme_by_group(_group_table(g, t)).get_size_inches()[1]

    assert height(2, 4) < height(7, 4) < height(12, 4)
    assert height(7, 4) < height(7, 10)


def test_theme_by_group_follows_the_study_order_and_label():
    settings = StudySettings(title="x", group_label="team",
                             groups=("Volunteers", "Admin"))
    fig = F.plot_theme_by_group(_group_table(12), settings=settings)
    leg = fig.axes[0].get_legend()
    shown = [" ".join(t.get_text().split()) for t in leg.get_texts()]
    assert shown[:2] == ["Volunteers", "Admin"]
    assert shown[2:] == sorted(set(_LONG_GROUPS) - {"Volunteers", "Admin"})
    assert leg.get_title().get_text() == "Team of the respondent:"
    # explicit arguments win over settings
    leg2 = F.plot_theme_by_group(_group_table(3), settings=settings, group_label="ward",
                                 groups=["Nursing"]).axes[0].get_legend()
    assert leg2.get_title().get_text() == "Ward of the respondent:"
    assert leg2.get_texts()[0].get_text() == "Nursing"


def test_theme_by_group_lists_themes_without_section_under_their_own_header():
    fig = F.plot_theme_by_group(_group_table(3, 4))
    ticks = [" ".join(t.get_text().split()) for t in fig.axes[0].get_yticklabels()]
    assert ticks[0] == "S1" and F.UNSECTIONED_LABEL in ticks
    assert ticks.index(F.UNSECTIONED_LABEL) == 3  # after the section's two themes
    # no theme has a section: no headers at all
    table = _group_table(3, 4).assign(section_id=pd.NA)
    ticks = [t.get_text() for t in F.plot_theme_by_group(table).axes[0].get_yticklabels()]
    assert len(ticks) == 4 and F.UNSECTIONED_LABEL not in ticks


def _codebook_with(n_themes: int, shape: str) -> Codebook:
    names = ["Working through discomfort together", "Voice",
             "A much longer theme name about staffing and workload pressures on the ward",
             "Trust", "\u201cShift in power and accountability\u201d", "Belonging at work"]
    themes = [Theme(f"T{i}", f"{names[i % len(names)]} {i}",
                    codes=[Code(f"c{i}", f"code {i}")] if i % 4 == 0 else [])
              for i in range(n_themes)]
    if shape == "one_section":
        return Codebook(version="x", status="candidate",
                        sections=[Section("S", "The only section", themes=themes)])
    if shape == "no_section":
        return Codebook(version="x", status="candidate", themes_without_section=themes)
    half = n_themes // 2
    sections = [Section(f"S{j}", f"Section {j}", themes=themes[j:half:3]) for j in range(3)]
    return Codebook(version="x", status="candidate", sections=sections,
                    themes_without_section=themes[half:],
                    codes_without_theme=[Code("loose", "a loose code")])


@pytest.mark.parametrize("shape", ["one_section", "no_section", "mixed"])
@pytest.mark.parametrize("n_themes", [1, 2, 7, 13, 30])
def test_thematic_map_any_number_of_themes(n_themes, shape, tmp_path):
    cb = _codebook_with(n_themes, shape)
    fig = F.plot_thematic_map(cb)
    assert_no_overlap(fig)
    (svg,) = F.write_figure(fig, "m", tmp_path, formats=["svg"])
    labels = _svg_labels(svg)
    for th in cb.themes():
        assert labels[th.id] == " ".join(th.name.split())
    if cb.themes_without_section:
        assert labels[F.UNSECTIONED] == F.UNSECTIONED_LABEL
    assert "loose" not in labels  # codes without a theme are not on the map


def test_map_graph_themes_without_section_form_a_group_of_their_own():
    cb = _codebook_with(7, "mixed")
    g = F.thematic_map_graph(cb)
    assert g.nodes[F.UNSECTIONED]["virtual"] is True
    assert not any(g.nodes[s.id]["virtual"] for s in cb.sections)
    for th in cb.themes_without_section:
        assert g.nodes[th.id]["parent"] == F.UNSECTIONED and g.nodes[th.id]["section"] is None
    assert not [b for b in g.neighbors(F.UNSECTIONED) if g.nodes[b]["kind"] == "section"]
    with pytest.raises(InputError, match="unknown section"):
        F.plot_section_map(cb, F.UNSECTIONED)


# ----------------------------------------------------------------------------- write_figures


@pytest.fixture()
def study():
    from thematic.clean import analysable

    cb = read_codebook(STUDY / "codebook.yaml")
    responses = read_responses(STUDY / "responses.csv").rename(columns={"group": "staff_group"})
    codings = pd.read_csv(STUDY / "codings.csv", dtype={"memo": "string"})
    return cb, codings, responses, analysable(responses)


def _svg_texts(path: Path) -> str:
    root = ET.parse(path).getroot()
    return " ".join((t.text or "") for t in root.iter(f"{SVG}text"))


def test_write_figures_for_a_study_with_seven_groups(study, tmp_path, monkeypatch):
    cb, codings, responses, kept = study
    drawn = {}
    original = F.plot_theme_by_group

    def spy(table, **kwargs):
        drawn["table"] = table
        fig = original(table, **kwargs)
        drawn["bars"] = sum(int(round(p.get_width())) for p in fig.axes[0].patches
                            if isinstance(p, Rectangle))
        return fig

    monkeypatch.setattr(F, "plot_theme_by_group", spy)
    written = F.write_figures(cb, codings, responses, tmp_path / "figures", settings=STAFF)
    stems = list(dict.fromkeys(p.stem for p in written))
    assert stems == ["thematic_map", "section_map_workload_and_time", "theme_by_group"]
    assert [p.suffix for p in written] == [".svg", ".png", ".pdf"] * 3
    flat = " ".join(_svg_texts(tmp_path / "figures" / "theme_by_group.svg").split())
    for g in STAFF_GROUPS:
        assert all(w in flat for w in g.split()), g  # every group named (long names wrap)
    assert "Staff group of the respondent:" in flat and F.UNSECTIONED_LABEL in flat
    assert "Analysable responses coded to the theme" in flat
    for p in written:
        if p.suffix == ".svg":
            t = _svg_texts(p)
            assert "caucus" not in t.lower() and "as published" not in t and "Member" not in t
    # counts are of analysable responses only: the excluded rows' codings are not counted
    group_of = dict(zip(kept["response_id"], kept["staff_group"], strict=True))
    expected: dict[tuple[str, str], set] = {}
    for r in codings.itertuples():
        theme = STAFF_THEME_OF[r.code]
        if theme and r.response_id in group_of:
            expected.setdefault((theme, group_of[r.response_id]), set()).add(r.response_id)
    got = {(r.theme_id, r.group): int(r.n_extracts) for r in drawn["table"].itertuples()
           if int(r.n_extracts)}
    assert got == {k: len(v) for k, v in expected.items()}
    assert drawn["bars"] == sum(len(v) for v in expected.values())
    assert set(drawn["table"]["group"]) == set(STAFF_GROUPS)


def test_write_figures_drops_excluded_rows_even_if_the_caller_did_not(study, tmp_path):
    cb, codings, responses, kept = study
    a = F.write_figures(cb, codings, responses, tmp_path / "a", settings=STAFF,
                        )
    b = F.write_figures(cb, codings[codings["response_id"].isin(kept["response_id"])], kept,
                        tmp_path / "b", settings=STAFF)
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_write_figures_without_groups_draws_one_series(study, tmp_path):
    cb, codings, responses, kept = study
    settings = StudySettings(title="x", group_column="no_such_column")
    written = F.write_figures(cb, codings, kept, tmp_path, settings=settings)
    assert (tmp_path / "theme_by_group.svg") in written
    assert "of the respondent" not in _svg_texts(tmp_path / "theme_by_group.svg")


def test_write_figures_codes_only_codebook_warns_and_draws_no_map(tmp_path):
    cb = Codebook(version="phase2", status="candidate", codes_without_theme=[Code("c1", "a")])
    responses = pd.DataFrame({"response_id": ["R1"], "text": ["hello"], "group": ["A"]})
    codings = pd.DataFrame({"response_id": ["R1"], "code": ["c1"], "start": [0], "end": [5],
                            "coder": ["me"]})
    with pytest.warns(UserWarning, match="no themes yet"):
        written = F.write_figures(cb, codings, responses, tmp_path / "f",
                                  settings=StudySettings(title="x"))
    assert written == [] and not (tmp_path / "f").exists()


def test_context_figures_are_registered_and_drawn_only_when_declared(study, tmp_path):
    assert set(F.CONTEXT_FIGURES) == {"wres_indicators", "talking_therapies_recovery"}
    cb, codings, responses, kept = study
    # a study declaring a context figure without its table: one error naming the file,
    # and nothing written
    settings = STAFF.with_(context_figures=("wres_indicators",))
    with pytest.raises(InputError, match=r"wres_indicators\.csv"):
        F.write_figures(cb, codings, kept, tmp_path / "figs", settings=settings,
                        root=tmp_path)
    assert not (tmp_path / "figs").exists()
    with pytest.raises(InputError, match="pass the study root"):
        F.write_figures(cb, codings, kept, tmp_path / "figs", settings=settings)
    with pytest.raises(InputError, match="unknown context figure"):
        F.write_figures(cb, codings, kept, tmp_path / "figs",
                        settings=STAFF.with_(context_figures=("nope",)), root=tmp_path)
    # the published study's context figure, from its root, is the plotting function's
    a = F.write_figure(F.CONTEXT_FIGURES["wres_indicators"](ROOT), "a", tmp_path,
                      formats=["svg"])[0]
    w, _ = F.read_context_tables(ROOT)
    b = F.write_figure(F.plot_wres_indicators(w), "b", tmp_path, formats=["svg"])[0]
    assert a.read_bytes() == b.read_bytes()


def test_published_study_figures_are_byte_identical_to_the_committed_ones(codebook, tmp_path):
    responses = read_responses(ROOT / "corpus" / "processed" / "responses.csv")
    codings = read_codings(ROOT / "corpus" / "coding" / "codings.csv", responses, codebook)
    written = F.write_figures(codebook, codings, responses, tmp_path, settings=PUBLISHED,
                              root=ROOT)
    stems = list(dict.fromkeys(p.stem for p in written))
    assert stems == ["thematic_map", "section_map_racially_minoritised_caucus",
                     "section_map_white_caucus", "section_map_facilitators",
                     "section_map_inter_caucus", "theme_by_group", "wres_indicators",
                     "talking_therapies_recovery"]
    for p in written:
        if p.suffix == ".svg":
            assert p.read_bytes() == (ROOT / "figures" / p.name).read_bytes(), p.name


def test_an_unchanged_figure_is_not_drawn_again_and_a_changed_one_is(codebook, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("THEMATIC_CACHE_DIR", str(tmp_path / "cache"))
    drawn = []
    real = F._render
    monkeypatch.setattr(F, "_render", lambda fig, fmt: drawn.append(fmt) or real(fig, fmt))
    out = tmp_path / "figures"
    first = [p.read_bytes() for p in F.write_figure(F.plot_thematic_map(codebook), "m", out)]
    assert drawn == ["svg", "png", "pdf"]
    drawn.clear()
    again = F.write_figure(F.plot_thematic_map(codebook), "m", out)
    assert drawn == ["svg"]  # the SVG is the fingerprint; PNG and PDF are kept
    assert [p.read_bytes() for p in again] == first
    # a file changed or removed on disk is written again
    (out / "m.png").write_bytes(b"edited")
    (out / "m.pdf").unlink()
    drawn.clear()
    F.write_figure(F.plot_thematic_map(codebook), "m", out)
    assert drawn == ["svg", "png", "pdf"]
    assert [p.read_bytes() for p in sorted(out.iterdir(), key=lambda p: ["svg", "png", "pdf"]
                                           .index(p.suffix[1:]))] == first
    # a different figure under the same name is drawn in full
    drawn.clear()
    F.write_figure(F.plot_section_map(codebook, "WC"), "m", out)
    assert drawn == ["svg", "png", "pdf"]
    assert (out / "m.svg").read_bytes() != first[0]
    # without a cache every format is drawn every time
    monkeypatch.setenv("THEMATIC_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    drawn.clear()
    F.write_figure(F.plot_thematic_map(codebook), "m", out)
    F.write_figure(F.plot_thematic_map(codebook), "m", out)
    assert drawn == ["svg", "png", "pdf"] * 2
