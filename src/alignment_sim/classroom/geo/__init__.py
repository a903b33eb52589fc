"""The region's country shapes, projected for drawing, and where each name goes.

``region.geojson`` (built by ``scripts/build_region_map.py`` from Natural Earth through
npm ``world-atlas``; see ``NOTICE.md``) holds every country in the region box: the
model's choosers and poles (with a label point inside their largest polygon) and grey
context. Shapes are projected once (equirectangular, x scaled by cos of the box's middle
latitude) into map units: the map is ``MAP_WIDTH`` units wide, y grows downwards, as in
SVG. The SVG map (``mapview``) and the PNG map (``drawing.map_figure``) both draw these.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
from matplotlib.path import Path as MplPath

from alignment_sim.model.world import FloatArray

MAP_WIDTH = 1000.0
"""Width of the map in map units (SVG user units; about pixels at 1000 px)."""
STATE_SIZE = 13.0
"""Font size of state names, map units."""
POLE_SIZE = 16.25
"""Font size of pole names, map units."""
TEXT_EM = 0.6
"""Estimated width of one character of a sans-serif label, in font sizes (DejaVu Sans,
one of the widest, averages 0.46-0.59 over the choosers' names)."""
TEXT_HEIGHT = 1.1
"""Height of a one-line label box, in font sizes (capitals and descenders)."""
FRAME_MARGIN = 3.0
"""Labels keep this far (map units) from the map's edge."""
LABEL_GAP = 2.0
"""Labels keep this far (map units) from each other and from obstacles."""
INSIDE_RADIUS = 3.0
"""A label that does not fit at its point may move this many font sizes within its shape
before it goes outside with a leader line."""
OFF_SHAPE = 2
"""Most labels that may sit off their shapes before all labels are drawn smaller."""
CALLOUT_RADIUS = 14.0
"""Furthest a label goes from its point, in font sizes."""
ON_SHAPE = 0.6
"""Share of a label's box that must lie on its own shape for it to sit there without a
leader line (the rest may cover sea or grey countries, never another labelled shape)."""
CELL = 2.0
"""Side of the cells (map units) in which labels are kept off other shapes."""

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in map units (y0 < y1)."""


@dataclass(frozen=True)
class Shape:
    """One country: ``role`` is chooser, pole or context; ``rings`` every ring (outer
    and holes) in map units; ``anchor`` its label point (None for context)."""

    id: str
    name: str
    role: str
    rings: tuple[FloatArray, ...]
    anchor: tuple[float, float] | None
    path: str
    outline: MplPath

    def contains(self, points: FloatArray) -> np.ndarray:
        """Which of the points (k, 2) lie inside the shape (even-odd rule)."""
        return np.asarray(self.outline.contains_points(points), dtype=bool)


@dataclass(frozen=True)
class Geography:
    """The projected region: ``box`` (west, south, east, north) in degrees, the map's
    ``width`` and ``height`` in map units, and its shapes."""

    box: tuple[float, float, float, float]
    width: float
    height: float
    shapes: tuple[Shape, ...]

    @property
    def scale(self) -> float:
        """Map units per degree of latitude."""
        return self.width / ((self.box[2] - self.box[0]) * self.cos_lat)

    @property
    def cos_lat(self) -> float:
        return math.cos(math.radians((self.box[1] + self.box[3]) / 2))

    def project(self, lon: FloatArray | float, lat: FloatArray | float) -> FloatArray:
        """Degrees to map units: (..., 2) array of x (east) and y (down)."""
        west, _, _, north = self.box
        x = (np.asarray(lon, dtype=float) - west) * self.cos_lat * self.scale
        y = (north - np.asarray(lat, dtype=float)) * self.scale
        return np.stack([x, y], axis=-1)

    def shape(self, id: str) -> Shape | None:
        return next((s for s in self.shapes if s.id == id), None)

    def of_role(self, role: str) -> tuple[Shape, ...]:
        return tuple(s for s in self.shapes if s.role == role)


def _polygons(geometry: dict) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"region.geojson: {geometry['type']} is not a polygon")


def _path_data(rings: tuple[FloatArray, ...]) -> str:
    """SVG path data of closed rings, 0.1 map units."""
    return "".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring[:-1]) + "Z" for ring in rings)


def _outline(rings: tuple[FloatArray, ...]) -> MplPath:
    vertices = np.concatenate(rings)
    codes = np.concatenate(
        [
            [MplPath.MOVETO, *([MplPath.LINETO] * (len(ring) - 2)), MplPath.CLOSEPOLY]
            for ring in rings
        ]
    )
    return MplPath(vertices, codes)


def read_geography(text: str) -> Geography:
    """Project a region GeoJSON (the format ``build_region_map.py`` writes)."""
    data = json.loads(text)
    west, south, east, north = (float(v) for v in data["bbox"])
    cos_lat = math.cos(math.radians((south + north) / 2))
    frame = Geography(
        (west, south, east, north),
        MAP_WIDTH,
        MAP_WIDTH * (north - south) / ((east - west) * cos_lat),
        (),
    )
    shapes = []
    for feature in data["features"]:
        properties = feature["properties"]
        rings = tuple(
            frame.project(*np.asarray(ring, dtype=float).T)
            for polygon in _polygons(feature["geometry"])
            for ring in polygon
        )
        label = properties.get("label")
        anchor = None if label is None else tuple(float(v) for v in frame.project(*label))
        shapes.append(
            Shape(
                id=properties["id"],
                name=properties["name"],
                role=properties["role"],
                rings=rings,
                anchor=anchor,  # type: ignore[arg-type]
                path=_path_data(rings),
                outline=_outline(rings),
            )
        )
    return Geography(frame.box, frame.width, frame.height, tuple(shapes))


@functools.cache
def geography() -> Geography:
    """The packaged region (read and projected once per process)."""
    text = resources.files(__package__).joinpath("region.geojson").read_text(encoding="utf-8")
    return read_geography(text)


# --- labels ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A name on the map: its text centred at ``at`` (map units) in font ``size``;
    ``anchor`` is the shape's label point; ``leader`` when the text sits away from the
    anchor and a line joins them."""

    id: str
    text: str
    at: tuple[float, float]
    anchor: tuple[float, float]
    size: float
    leader: bool

    @property
    def box(self) -> Box:
        return text_box(self.text, self.size, self.at)

    def leader_end(self) -> tuple[float, float]:
        """The point of the text's box nearest the anchor (where the leader line ends)."""
        x0, y0, x1, y1 = self.box
        return (min(max(self.anchor[0], x0), x1), min(max(self.anchor[1], y0), y1))


def text_box(text: str, size: float, at: tuple[float, float]) -> Box:
    """Estimated box of a one-line label centred at ``at`` (map units)."""
    half_w = TEXT_EM * size * len(text) / 2
    half_h = TEXT_HEIGHT * size / 2
    return (at[0] - half_w, at[1] - half_h, at[0] + half_w, at[1] + half_h)


class Occupancy:
    """Which labelled shape (chooser or pole) covers each ``CELL``-unit cell of the map,
    as summed-area tables, so that a box's overlap with a shape is four look-ups."""

    def __init__(self, geo: Geography) -> None:
        nx, ny = math.ceil(geo.width / CELL), math.ceil(geo.height / CELL)
        self.shape = (ny, nx)
        self.tables: dict[str, np.ndarray] = {}
        covered = np.zeros((ny, nx), dtype=np.int32)
        for shape in geo.shapes:
            if shape.anchor is not None:
                inside = raster(shape.rings, nx, ny)
                covered += inside
                self.tables[shape.id] = _summed(inside)
        self.everything = _summed(covered)
        self.cells = _summed(np.ones((ny, nx), dtype=np.int32))

    def count(self, table: np.ndarray, boxes: FloatArray) -> np.ndarray:
        """Cells of ``table`` with their centre in each box (n, 4)."""
        ny, nx = self.shape
        i0 = np.clip(np.ceil(boxes[:, 0] / CELL - 0.5).astype(int), 0, nx)
        i1 = np.clip(np.floor(boxes[:, 2] / CELL - 0.5).astype(int) + 1, 0, nx)
        j0 = np.clip(np.ceil(boxes[:, 1] / CELL - 0.5).astype(int), 0, ny)
        j1 = np.clip(np.floor(boxes[:, 3] / CELL - 0.5).astype(int) + 1, 0, ny)
        return np.asarray(table[j1, i1] - table[j0, i1] - table[j1, i0] + table[j0, i0])


def raster(rings: tuple[FloatArray, ...], nx: int, ny: int) -> np.ndarray:
    """Which ``CELL``-unit cells (ny, nx) have their centre inside the rings (even-odd
    rule): a centre is inside if an odd number of edges cross its row to its left."""
    start = np.concatenate([ring[:-1] for ring in rings]) / CELL - 0.5
    end = np.concatenate([ring[1:] for ring in rings]) / CELL - 0.5
    low = np.minimum(start[:, 1], end[:, 1])
    high = np.maximum(start[:, 1], end[:, 1])
    first, stop = np.ceil(low).astype(int), np.ceil(high).astype(int)  # rows low <= j < high
    edge = np.repeat(np.arange(len(start)), np.maximum(stop - first, 0))
    rows = (
        first[edge]
        + np.arange(len(edge))
        - np.repeat(
            np.cumsum(np.maximum(stop - first, 0)) - np.maximum(stop - first, 0),
            np.maximum(stop - first, 0),
        )
    )
    a, b = start[edge], end[edge]
    xs = a[:, 0] + (rows - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    keep = (rows >= 0) & (rows < ny)
    toggles = np.zeros((ny, nx + 1), dtype=np.int32)
    np.add.at(toggles, (rows[keep], np.clip(np.floor(xs[keep]).astype(int) + 1, 0, nx)), 1)
    return np.cumsum(toggles, axis=1)[:, :nx] % 2


def _summed(mask: np.ndarray) -> np.ndarray:
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    table[1:, 1:] = mask.cumsum(0).cumsum(1)
    return table


@functools.cache
def occupancy() -> Occupancy:
    """The packaged region's occupancy (built once per process)."""
    return Occupancy(geography())


def _candidates(anchor: tuple[float, float], size: float) -> tuple[FloatArray, FloatArray]:
    """Text centres on rings around the anchor, nearest first (wider than tall, as text
    is), and each one's ring radius in font sizes."""
    centres, radii = [np.asarray([anchor])], [np.zeros(1)]
    for radius in np.arange(0.25, CALLOUT_RADIUS + 1e-9, 0.25):
        angles = np.linspace(0.0, 2 * np.pi, max(8, int(8 * radius)), endpoint=False)
        r = radius * size
        ring = np.column_stack(
            [anchor[0] + r * np.cos(angles), anchor[1] + 0.6 * r * np.sin(angles)]
        )
        centres.append(ring)
        radii.append(np.full(len(ring), radius))
    return np.concatenate(centres), np.concatenate(radii)


def place_labels(
    geo: Geography,
    texts: tuple[tuple[str, str, float], ...],
    obstacles: tuple[Box, ...] = (),
    shrink: float = 1.0,
    cells: Occupancy | None = None,
) -> dict[str, Label]:
    """Where each named shape's label goes: ``texts`` are (shape id, text, font size).

    A label's box never touches another labelled shape (chooser or pole), another label,
    an obstacle or the map's edge. It sits on its shape's label point if at least
    ``ON_SHAPE`` of its box is on the shape; else at the nearest such place within
    ``INSIDE_RADIUS`` font sizes; else at the nearest free place, with a leader line
    from the label point that crosses no other label (if there is none, on its point
    regardless). Every label is scaled alike: by the largest factor from 1 down to
    ``shrink`` at which every label finds a place and at most ``OFF_SHAPE`` of them sit
    off their shapes. Ids without a shape or a label point get no label. ``cells``: the
    geography's ``Occupancy`` (default: the packaged region's).
    """
    cells = cells or occupancy()
    named = []
    for id, text, size in texts:
        shape = geo.shape(id)
        if shape is not None and shape.anchor is not None:
            named.append((id, text, size, shape.anchor))
    factors = np.unique(np.geomspace(1.0, shrink, 8).round(3))[::-1] if shrink < 1 else [1.0]
    for factor in factors:
        placed, off_shape = _layout(geo, cells, named, obstacles, float(factor))
        if off_shape <= OFF_SHAPE:
            break
    return placed


def _layout(
    geo: Geography,
    cells: Occupancy,
    named: list[tuple[str, str, float, tuple[float, float]]],
    obstacles: tuple[Box, ...],
    factor: float,
) -> tuple[dict[str, Label], int]:
    """``place_labels`` at one scale: the labels and how many sit off their shapes (a
    label with no place at all counts as many)."""
    frame = (FRAME_MARGIN, FRAME_MARGIN, geo.width - FRAME_MARGIN, geo.height - FRAME_MARGIN)
    taken: list[Box] = list(obstacles)
    placed: dict[str, Label] = {}
    off_shape = 0

    def hits(boxes: FloatArray) -> np.ndarray:
        """Which boxes (..., 4) overlap a label placed before or an obstacle."""
        hit = np.zeros(boxes.shape[:-1], dtype=bool)
        for x0, y0, x1, y1 in taken:
            hit |= (
                (boxes[..., 0] < x1 + LABEL_GAP)
                & (x0 < boxes[..., 2] + LABEL_GAP)
                & (boxes[..., 1] < y1 + LABEL_GAP)
                & (y0 < boxes[..., 3] + LABEL_GAP)
            )
        return hit

    def place(id: str, text: str, font: float, anchor: tuple[float, float], mode: str) -> bool:
        """Place a label at its anchor (mode "anchor"), near it on its shape ("on") or
        anywhere free ("off")."""
        centres: FloatArray
        radii: FloatArray
        if mode == "anchor":
            centres, radii = np.asarray([anchor], dtype=float), np.zeros(1)
        else:
            centres, radii = _candidates(anchor, font)
        half = np.array([TEXT_EM * font * len(text) / 2, TEXT_HEIGHT * font / 2])
        boxes = np.hstack([centres - half, centres + half])
        ok = (boxes[:, 0] >= frame[0]) & (boxes[:, 2] <= frame[2])
        ok &= (boxes[:, 1] >= frame[1]) & (boxes[:, 3] <= frame[3]) & ~hits(boxes)
        own = cells.count(cells.tables[id], boxes)
        ok &= cells.count(cells.everything, boxes) == own
        if mode == "off":
            t = np.linspace(0.05, 0.95, 12)[None, :, None]
            line = anchor + t * (centres[:, None, :] - np.asarray(anchor))  # (n, 12, 2)
            ok &= ~hits(np.concatenate([line, line], axis=-1)).any(axis=1)
        else:
            ok &= (own >= ON_SHAPE * cells.count(cells.cells, boxes)) & (radii <= INSIDE_RADIUS)
        found = np.flatnonzero(ok)
        if not found.size:
            return False
        x0, y0, x1, y1 = boxes[found[0]]
        away = mode == "off" and not (x0 <= anchor[0] <= x1 and y0 <= anchor[1] <= y1)
        at = (float(centres[found[0], 0]), float(centres[found[0], 1]))
        placed[id] = Label(id, text, at, anchor, font, leader=away)
        taken.append(placed[id].box)
        return True

    scaled = [(id, text, size * factor, anchor) for id, text, size, anchor in named]
    late = [entry for entry in scaled if not place(*entry, mode="anchor")]
    for id, text, font, anchor in late:
        if place(id, text, font, anchor, "on"):
            continue
        off_shape += 1
        if not place(id, text, font, anchor, "off"):
            placed[id] = Label(id, text, anchor, anchor, font, leader=False)
            taken.append(placed[id].box)
            off_shape += len(named)
    return {id: placed[id] for id, _, _, _ in named}, off_shape


@functools.lru_cache(maxsize=32)
def region_labels(
    texts: tuple[tuple[str, str, float], ...], obstacles: tuple[Box, ...] = (), shrink: float = 1.0
) -> dict[str, Label]:
    """``place_labels`` on the packaged region, remembered (the same names every tick)."""
    return place_labels(geography(), texts, obstacles, shrink)


def edge_marker(geo: Geography, lon: float, lat: float, text: str, size: float) -> Box:
    """Where a marker for a place off the map goes: a box for ``text`` at the map's
    edge on the place's side, at its latitude (kept on the map)."""
    x, y = geo.project(lon, lat)
    width, height = TEXT_EM * size * len(text) + 1.2 * size, 2.0 * size
    y = min(max(float(y), height), geo.height - height)
    x0 = 0.0 if x < geo.width / 2 else geo.width - width
    return (x0, y - height / 2, x0 + width, y + height / 2)
