"""The classroom map: the packaged shapes, where names go, the SVG the browser draws and
the PNG the exports use. Alignments are set by hand, so every fill is a known answer."""

from __future__ import annotations

import dataclasses
import io
import json
import statistics
import time
import xml.etree.ElementTree as ET
from importlib import resources

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import PathPatch

from alignment_sim import AlignmentModel, default_config
from alignment_sim.classroom.drawing import (
    HEDGE_COLOR,
    choice_colors,
    label_colors,
    map_figure,
    map_labels,
    pole_offers,
)
from alignment_sim.classroom.explain import label_words
from alignment_sim.classroom.geo import (
    CELL,
    MAP_WIDTH,
    OFF_SHAPE,
    geography,
    occupancy,
    raster,
)
from alignment_sim.classroom.mapview import LARGE, map_svg

SVG = "{http://www.w3.org/2000/svg}"


def set_profile(model: AlignmentModel, state: str, security: str, economy: str) -> None:
    space = model.world.space
    chooser = next(c for c in model.choosers if c.name == state)
    chooser.security = space.security_options.index(security)
    chooser.economy = space.economic_options.index(economy)


@pytest.fixture(scope="module")
def model() -> AlignmentModel:
    """The default world with five alignments set by hand: pure, split and hedging."""
    model = AlignmentModel(default_config())
    set_profile(model, "belarus", "russia", "russia")  # russia, pure
    set_profile(model, "ukraine", "west", "west")  # west, pure
    set_profile(model, "kyrgyzstan", "russia", "china")  # russia, split (economy China)
    set_profile(model, "moldova", "none", "open")  # hedge
    set_profile(model, "azerbaijan", "russia", "west")  # hedge, its choices with two poles
    return model


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def state_paths(root: ET.Element) -> dict[str, list[ET.Element]]:
    found: dict[str, list[ET.Element]] = {}
    for path in root.iter(f"{SVG}path"):
        if "data-state" in path.attrib:
            found.setdefault(path.attrib["data-state"], []).append(path)
    return found


def pattern(root: ET.Element, fill: str) -> ET.Element:
    assert fill.startswith("url(#") and fill.endswith(")"), fill
    target = fill[5:-1]
    return next(p for p in root.iter(f"{SVG}pattern") if p.attrib["id"] == target)


# --- the packaged shapes ---------------------------------------------------------------


def test_the_region_file_is_small_and_holds_every_chooser_and_pole() -> None:
    resource = resources.files("alignment_sim.classroom.geo").joinpath("region.geojson")
    text = resource.read_text(encoding="utf-8")
    assert len(text.encode()) < 300_000
    data = json.loads(text)
    roles = {f["properties"]["id"]: f["properties"]["role"] for f in data["features"]}
    world = AlignmentModel(default_config()).world
    assert all(roles[state] == "chooser" for state in world.states)
    assert roles["russia"] == roles["china"] == "pole"
    assert {"poland", "romania", "turkey", "iran", "afghanistan", "mongolia"} <= set(roles)
    assert sum(role == "chooser" for role in roles.values()) == world.n_states
    assert resources.files("alignment_sim.classroom.geo").joinpath("NOTICE.md").is_file()


def test_crimea_is_drawn_inside_ukraine() -> None:
    geo = geography()
    simferopol = geo.project(34.1, 44.95)[None, :]
    assert geo.shape("ukraine").contains(simferopol)[0]  # type: ignore[union-attr]
    assert not geo.shape("russia").contains(simferopol)[0]  # type: ignore[union-attr]


def test_the_cell_raster_agrees_with_point_in_polygon() -> None:
    geo = geography()
    ny, nx = occupancy().shape
    xs, ys = np.meshgrid((np.arange(nx) + 0.5) * CELL, (np.arange(ny) + 0.5) * CELL)
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    for name in ("armenia", "azerbaijan", "russia"):  # small, with an exclave, large
        shape = geo.shape(name)
        assert shape is not None
        expected = shape.contains(centres).reshape(ny, nx)
        assert expected.any()
        np.testing.assert_array_equal(raster(shape.rings, nx, ny), expected)


# --- where names go --------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, LARGE])
def test_every_name_sits_on_its_own_shape_and_on_no_other(scale: float) -> None:
    """The label point is inside its own shape and outside every other chooser's; the
    text's box (less the raster's cell) touches no other chooser or pole, no other label
    and stays on the map; at most ``OFF_SHAPE`` names need to sit off their shapes."""
    world = AlignmentModel(default_config()).world
    geo = geography()
    labels, markers = map_labels(world, scale)
    assert set(labels) == set(world.states) | {"russia", "china"}
    assert list(markers) == [world.poles.index("west")]
    labelled = [s for s in geo.shapes if s.role in ("chooser", "pole")]
    boxes = [label.box for label in labels.values()] + list(markers.values())
    for name, label in labels.items():
        own = geo.shape(name)
        assert own is not None
        anchor = np.asarray([label.anchor])
        assert own.contains(anchor)[0], name
        x0, y0, x1, y1 = label.box
        assert x0 >= 0 and x1 <= MAP_WIDTH and y0 >= 0 and y1 <= geo.height, name
        xs, ys = np.meshgrid(
            np.linspace(x0 + CELL, x1 - CELL, 15), np.linspace(y0 + CELL, y1 - CELL, 4)
        )
        points = np.column_stack([xs.ravel(), ys.ravel()])
        for other in labelled:
            if other.id != name:
                assert not other.contains(anchor)[0], (name, other.id)
                assert not other.contains(points).any(), (name, "text on", other.id)
        for box in boxes:
            if box != label.box:
                assert x1 <= box[0] or box[2] <= x0 or y1 <= box[1] or box[3] <= y0, name
    off = [n for n, label in labels.items() if not geo.shape(n).contains(np.asarray([label.at]))[0]]  # type: ignore[union-attr]
    assert len(off) <= OFF_SHAPE + 1, off
    sizes = {round(label.size, 3) for n, label in labels.items() if n in world.states}
    assert len(sizes) == 1, "every state's name in one size"


# --- the SVG -----------------------------------------------------------------------------


def test_each_chooser_is_one_clickable_shape_with_hover_words(model: AlignmentModel) -> None:
    root = parse(map_svg(model))
    assert root.tag == f"{SVG}svg"
    assert root.attrib["width"] == "100%" and root.attrib["viewBox"].startswith("0 0 1000 ")
    paths = state_paths(root)
    assert sorted(paths) == sorted(model.world.states)
    assert all(len(found) == 1 for found in paths.values())
    belarus = paths["belarus"][0].find(f"{SVG}title")
    assert belarus is not None
    assert belarus.text == (f"Belarus: {label_words('russia')}. Security: Russia; economy: Russia.")
    moldova = paths["moldova"][0].find(f"{SVG}title")
    assert moldova is not None and moldova.text is not None
    assert moldova.text.startswith("Moldova: hedging") and "no security bloc" in moldova.text
    names = {
        t.attrib["data-state"]: t.text for t in root.iter(f"{SVG}text") if "data-state" in t.attrib
    }
    assert names == dict(zip(model.world.states, model.world.state_labels, strict=True))


def test_fills_follow_the_alignments_set_by_hand(model: AlignmentModel) -> None:
    world = model.world
    colors = label_colors(world)
    economy = choice_colors(world, "economy")
    root = parse(map_svg(model))
    fill = {name: found[0].attrib["fill"] for name, found in state_paths(root).items()}
    assert fill["belarus"] == colors["russia"]
    assert fill["ukraine"] == colors["west"]
    split = pattern(root, fill["kyrgyzstan"])  # Russia's colour, China's stripes
    assert [r.attrib["fill"] for r in split.iter(f"{SVG}rect")] == [
        colors["russia"],
        economy["china"],
    ]
    hedging = pattern(root, fill["moldova"])  # white, lines in both choices' grey
    assert [r.attrib["fill"] for r in hedging.iter(f"{SVG}rect")] == ["#ffffff"]
    assert [p.attrib["stroke"] for p in hedging.iter(f"{SVG}path")] == [HEDGE_COLOR, HEDGE_COLOR]
    two_poles = pattern(root, fill["azerbaijan"])  # lines: security Russia, economy West
    assert [p.attrib["stroke"] for p in two_poles.iter(f"{SVG}path")] == [
        colors["russia"],
        colors["west"],
    ]
    assert fill["azerbaijan"] != fill["moldova"] != fill["kyrgyzstan"]


def test_the_selected_state_is_outlined_not_hatched(model: AlignmentModel) -> None:
    root = parse(map_svg(model, selected="moldova", highlight=["georgia"]))
    outlines = [g for g in root.iter(f"{SVG}g") if "data-selected" in g.attrib]
    assert [g.attrib["data-selected"] for g in outlines] == ["moldova"]
    strokes = [p.attrib["stroke"] for p in outlines[0].iter(f"{SVG}path")]
    assert strokes == ["#ffffff", "#000000"]
    assert all(p.attrib.get("fill", "none") == "none" for p in outlines[0].iter(f"{SVG}path"))
    moldova = state_paths(root)["moldova"][0]
    assert moldova.attrib["fill"] == state_paths(parse(map_svg(model)))["moldova"][0].attrib["fill"]
    dashed = [p for p in root.iter(f"{SVG}path") if "data-highlight" in p.attrib]
    assert [p.attrib["data-highlight"] for p in dashed] == ["georgia"]
    assert "stroke-dasharray" in dashed[0].attrib
    assert not [g for g in parse(map_svg(model)).iter(f"{SVG}g") if "data-selected" in g.attrib]


def test_poles_their_shapes_the_west_marker_and_offers_in_force() -> None:
    model = AlignmentModel(default_config())
    root = parse(map_svg(model))
    poles = {
        e.attrib["data-pole"]: e
        for e in root.iter()
        if "data-pole" in e.attrib and e.tag != f"{SVG}text"
    }
    assert poles["russia"].tag == poles["china"].tag == f"{SVG}path"
    west = poles["west"]
    assert west.tag == f"{SVG}g" and west.find(f"{SVG}rect") is not None
    assert "the West" in "".join(west.itertext())
    offers = {
        e.attrib["data-pole-offers"]: "".join(e.itertext())
        for e in root.iter()
        if "data-pole-offers" in e.attrib
    }
    assert list(offers) == list(model.world.poles)
    for b, name in enumerate(model.world.poles):
        budget, credibility, _ = pole_offers(model)[b]
        assert (
            f"US$ {budget:.1f}bn/yr" in offers[name]
            and f"credibility {credibility:.2f}" in offers[name]
        )
    # before the first tick nothing is offered yet: the budget, called so
    assert "budget US$ 8.0bn/yr" in offers["russia"]
    model.step()
    spent = model.pole_agents[0].spending_bn_usd
    assert f"offers US$ {spent:.1f}bn/yr" in "".join(parse(map_svg(model)).itertext())


def test_text_is_escaped_and_large_type_is_bigger() -> None:
    config = default_config()
    config.region.states[7] = dataclasses.replace(config.region.states[7], label="Kyrgyz & <Rep>")
    model = AlignmentModel(config)
    normal, large = map_svg(model), map_svg(model, large=True)
    root = parse(normal)
    names = {
        t.attrib["data-state"]: t.text for t in root.iter(f"{SVG}text") if "data-state" in t.attrib
    }
    assert names["kyrgyzstan"] == "Kyrgyz & <Rep>"

    def header_size(svg: str) -> float:
        return float(next(parse(svg).iter(f"{SVG}text")).attrib["font-size"])

    assert header_size(large) == pytest.approx(LARGE * header_size(normal))
    assert float(parse(large).attrib["viewBox"].split()[3]) > float(
        root.attrib["viewBox"].split()[3]
    )


def test_a_map_takes_well_under_50_ms(model: AlignmentModel) -> None:
    map_svg(model, large=True)
    map_svg(model)  # shapes, cells and names are computed once
    times = []
    for _ in range(7):
        start = time.perf_counter()
        map_svg(model, selected="belarus")
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.05


# --- the PNG -----------------------------------------------------------------------------


def test_the_png_map_draws_the_same_shapes_and_words(model: AlignmentModel) -> None:
    world = model.world
    figure = map_figure(model, selected="belarus")
    ax = figure.axes[0]
    shown = " ".join(t.get_text() for axis in figure.axes for t in axis.texts)
    for label in world.state_labels:
        assert label in shown
    for b, name in enumerate(world.poles):
        assert f"US$ {pole_offers(model)[b][0]:.1f}bn/yr" in shown, name
    assert ax.get_title().startswith("2015 Q1 (tick 0 of 40)")
    colors = label_colors(world)
    patches = [p for p in ax.patches if isinstance(p, PathPatch)]
    kyrgyzstan = geography().shape("kyrgyzstan")
    assert kyrgyzstan is not None
    on_kyrgyzstan = [
        p for p in patches if len(p.get_path().vertices) == sum(len(r) for r in kyrgyzstan.rings)
    ]
    hatched = [p for p in on_kyrgyzstan if p.get_hatch()]
    assert [to_rgba(p.get_facecolor()) for p in hatched] == [to_rgba(colors["russia"])]
    assert hatched[0].get_hatchcolor() == to_rgba(colors["china"])
    outlined = [
        p for p in patches if p.get_facecolor()[3] == 0 and p.get_edgecolor() == to_rgba("black")
    ]
    assert len(outlined) == 1
    legend = [t.get_text() for t in figure.axes[1].get_legend().get_texts()]
    assert legend[: len(world.labels)] == list(world.labels)
    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue().startswith(b"\x89PNG")
