"""The classroom map as one self-contained SVG, drawn by the browser.

Country shapes come from ``geo/region.geojson`` (Natural Earth, see ``geo/NOTICE.md``).
Each chooser is filled in its record label's colour (``drawing.label_colors``, the one
colour definition). A **split** state (``explain.is_split``: its security and economy
not with the same pole) keeps its label's colour with broad stripes in the colour of
its other choice (grey: ``none``/``open``). A **hedging** state is white, crossed by thin
lines in the colours of its security choice (\\) and its economic choice (/). The
selected state gets a thick black outline with a white rim; ``highlight`` states a
dashed one. Russia and China are tinted in their colours; a pole without a shape in the
region (the West) is a marker at the map's edge on its capital's side. Below the map:
the key, and each pole's offers in force (US$ bn a year, ``PoleAgent.spending_bn_usd``;
before the first quarter, when nothing is offered yet, its budget: ``PoleOffer``) and its
credibility.

For pages: ``path[data-state]`` is a state's shape (one each) and ``text[data-state]``
its name, both clickable, with hover text (``<title>``) in plain words; poles carry
``data-pole``. The SVG is 100% wide with a ``viewBox``, so it scales to its container.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from alignment_sim.classroom.drawing import (
    BORDER,
    INK,
    LAND,
    SEA,
    STATE_BORDER,
    PoleOffer,
    choice_colors,
    label_colors,
    map_labels,
    marker_text,
    off_map_poles,
    pole_offers,
    tint,
)
from alignment_sim.classroom.explain import (
    is_split,
    label_words,
    option_words,
    pole_words,
)
from alignment_sim.classroom.geo import (
    MAP_WIDTH,
    STATE_SIZE,
    Box,
    Label,
    geography,
)
from alignment_sim.model.alignment import HEDGE
from alignment_sim.model.kernels import ECONOMY, SECURITY
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import World, quarter

FONT = "system-ui, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
LARGE = 1.6
"""``large=True``: the header, key, pole names and markers this much bigger (a
projector); state names as big as fit, up to this much."""
STRIPE = 9.0
"""Width of a split state's stripe period, map units (stripes take 40%)."""
LEGEND_EM = 0.52
"""Estimated width of a legend character, in font sizes."""


def state_title(world: World, profile: int, i: int) -> str:
    """A state's hover text: its name, record label and both choices in plain words."""
    space = world.space
    label = world.labelling.label(i, profile)
    security = space.security_options[space.profile_security[profile]]
    economy = space.economic_options[space.profile_economy[profile]]
    return (
        f"{world.state_labels[i]}: {label_words(label)}. "
        f"Security: {option_words(SECURITY, security)}; "
        f"economy: {option_words(ECONOMY, economy)}."
    )


def _fill(world: World, i: int, profile: int, ids: str) -> tuple[str, tuple[str, str, str] | None]:
    """Chooser ``i``'s fill and the pattern it needs (kind, colour 1, colour 2), if any."""
    space = world.space
    label = world.labelling.label(i, profile)
    security = space.security_options[space.profile_security[profile]]
    economy = space.economic_options[space.profile_economy[profile]]
    security_colors, economy_colors = choice_colors(world, SECURITY), choice_colors(world, ECONOMY)
    if label == HEDGE:
        pattern = ("hedge", security_colors[security], economy_colors[economy])
    elif is_split(space, profile):
        other = economy_colors[economy] if economy != label else security_colors[security]
        pattern = ("split", label_colors(world)[label], other)
    else:
        return label_colors(world)[label], None
    return f"url(#{_pattern_id(ids, pattern)})", pattern


def _pattern_id(ids: str, pattern: tuple[str, str, str]) -> str:
    kind, first, second = pattern
    return f"{ids}-{kind}-{first[1:]}-{second[1:]}"


def _pattern(ids: str, pattern: tuple[str, str, str]) -> str:
    """An SVG pattern: ``split`` is colour 1 with broad stripes of colour 2; ``hedge`` is
    white with thin lines of colour 1 (\\) and colour 2 (/)."""
    kind, first, second = pattern
    head = f'<pattern id="{_pattern_id(ids, pattern)}" patternUnits="userSpaceOnUse" '
    if kind == "split":
        return (
            head + f'width="{STRIPE}" height="{STRIPE}" patternTransform="rotate(45)">'
            f'<rect width="{STRIPE}" height="{STRIPE}" fill="{first}"/>'
            f'<rect width="{0.4 * STRIPE:.1f}" height="{STRIPE}" fill="{second}"/></pattern>'
        )
    return (
        head + 'width="8" height="8"><rect width="8" height="8" fill="#ffffff"/>'
        f'<path d="M-1,-1L9,9" stroke="{first}" stroke-width="1.6"/>'
        f'<path d="M-1,9L9,-1" stroke="{second}" stroke-width="1.6"/></pattern>'
    )


def _text(x: float, y: float, text: str, **attributes: str) -> str:
    """A ``<text>``; attribute names with ``_`` for ``-`` (``font_size``)."""
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _label_svg(label: Label, color: str, data: tuple[str, str], bold: bool) -> str:
    """A name, with its leader line and anchor dot if it sits away from its shape."""
    leader = ""
    if label.leader:
        (ax, ay), (ex, ey) = label.anchor, label.leader_end()
        leader = (
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="{INK}" '
            f'stroke-width="1.2" pointer-events="none"/>'
            f'<circle cx="{ax:.1f}" cy="{ay:.1f}" r="2.2" fill="{INK}" stroke="none" '
            f'pointer-events="none"/>'
        )
    attributes = {"font_size": f"{label.size:.1f}", "fill": color, f"data_{data[0]}": data[1]}
    if bold:
        attributes["font_weight"] = "700"
    return leader + _text(label.at[0], label.at[1], label.text, **attributes)


def _rows(items: list[tuple[float, str]], width: float, gap: float) -> list[str]:
    """Items (width, svg drawn from x = 0, centred on y = 0) wrapped into rows no wider
    than ``width``: each row as svg from x = 0."""
    rows: list[list[tuple[float, str]]] = [[]]
    used = 0.0
    for w, svg in items:
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((used, svg))
        used += w + gap
    return [
        "".join(f'<g transform="translate({x:.1f} 0)">{svg}</g>' for x, svg in row) for row in rows
    ]


def _circle_path(x: float, y: float, r: float) -> str:
    arc = f"a{r:.1f},{r:.1f} 0 1,0"
    return f"M{x - r:.1f},{y:.1f}{arc} {2 * r:.1f},0{arc} {-2 * r:.1f},0Z"


def map_svg(
    model: AlignmentModel,
    *,
    selected: str = "",
    large: bool = False,
    highlight: Iterable[str] = (),
    ids: str = "map",
) -> str:
    """The map now, as one ``<svg>`` string (see the module's docstring).

    ``selected``: a state's name, outlined; ``highlight``: states outlined dashed;
    ``large``: bigger type for a projector or a phone; ``ids``: prefix of the SVG's
    pattern ids (give each map on one page its own).
    """
    world = model.world
    geo = geography()
    size = STATE_SIZE * (LARGE if large else 1.0)
    off_map = off_map_poles(world)
    labels, markers = map_labels(world, LARGE if large else 1.0)
    offers = pole_offers(model)
    choosers = sorted(model.choosers, key=lambda c: c.index)
    highlighted = set(highlight)

    shapes, outlines, names = [], [], []
    patterns: dict[tuple[str, str, str], None] = dict.fromkeys(_legend_patterns(world))
    for b, name in enumerate(world.poles):
        shape = geo.shape(name)
        if b not in off_map and shape is not None:
            shapes.append(
                f'<path data-pole="{escape(name)}" d="{shape.path}" '
                f'fill="{tint(world.pole_colors[b])}" stroke="{BORDER}" stroke-width="0.8">'
                f"<title>{escape(_pole_words(world, b, offers[b]))}</title></path>"
            )
    for chooser in choosers:
        i, profile, name = chooser.index, chooser.profile, world.states[chooser.index]
        fill, pattern = _fill(world, i, profile, ids)
        if pattern:
            patterns[pattern] = None
        shape = geo.shape(name)
        if shape is not None and shape.role == "chooser":
            d = shape.path
        else:  # a state the region's shapes do not have: a disc at its capital
            x, y = geo.project(float(world.state_lon[i]), float(world.state_lat[i]))
            d = _circle_path(float(x), float(y), 0.6 * size)
        shapes.append(
            f'<path data-state="{escape(name)}" d="{d}" fill="{fill}" stroke="{STATE_BORDER}" '
            f'stroke-width="0.8" stroke-linejoin="round" cursor="pointer">'
            f"<title>{escape(state_title(world, profile, i))}</title></path>"
        )
        if name == selected:
            outlines.append(
                f'<g data-selected="{escape(name)}" fill="none" stroke-linejoin="round" '
                f'pointer-events="none"><path d="{d}" stroke="#ffffff" stroke-width="7"/>'
                f'<path d="{d}" stroke="#000000" stroke-width="3.5"/></g>'
            )
        elif name in highlighted:
            outlines.append(
                f'<path data-highlight="{escape(name)}" d="{d}" fill="none" stroke="{INK}" '
                f'stroke-width="2.5" stroke-dasharray="8 4" pointer-events="none"/>'
            )
        if name in labels:
            names.append(_label_svg(labels[name], INK, ("state", name), bold=name == selected))
        else:
            x, y = geo.project(float(world.state_lon[i]), float(world.state_lat[i]))
            names.append(
                _text(
                    float(x),
                    float(y) - 1.4 * size,
                    world.state_labels[i],
                    font_size=f"{size:.1f}",
                    fill=INK,
                    data_state=name,
                )
            )
    for b, name in enumerate(world.poles):
        if name in labels:
            names.append(_label_svg(labels[name], world.pole_colors[b], ("pole", name), True))
    markers_svg = "".join(_marker(world, b, box, size, offers[b]) for b, box in markers.items())

    header = 2.0 * size
    legend, legend_height = _legend(world, offers, size, ids)
    height = header + geo.height + legend_height
    when, summary = _summary(model)
    definitions = "".join(_pattern(ids, p) for p in patterns)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {geo.width:.0f} {height:.1f}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" '
        f'style="display:block;height:auto;max-height:100vh" font-family="{FONT}">'
        f"<title>{escape(f'Alignment map, {when}: {summary}')}</title>"
        f"<defs>{definitions}</defs>"
        f'<rect width="{geo.width:.0f}" height="{height:.1f}" fill="#ffffff"/>'
        + _text(
            8,
            header / 2,
            when,
            font_size=f"{size:.1f}",
            font_weight="700",
            fill=INK,
            dominant_baseline="central",
        )
        + _text(
            geo.width - 8,
            header / 2,
            summary,
            font_size=f"{0.9 * size:.1f}",
            fill=INK,
            text_anchor="end",
            dominant_baseline="central",
        )
        + f'<g transform="translate(0 {header:.1f})">'
        f'<rect width="{geo.width:.0f}" height="{geo.height:.1f}" fill="{SEA}"/>'
        + _context()
        + "".join(shapes)
        + "".join(outlines)
        + f'<g text-anchor="middle" dominant-baseline="central" paint-order="stroke" '
        f'stroke="#ffffff" stroke-width="{0.28 * size:.1f}" stroke-linejoin="round" '
        f'cursor="pointer">{"".join(names)}</g>'
        + markers_svg
        + f'</g><g transform="translate(0 {header + geo.height:.1f})">{legend}</g></svg>'
    )


def _summary(model: AlignmentModel) -> tuple[str, str]:
    """The quarter shown, and how many states have each record label."""
    world = model.world
    counts = dict.fromkeys(world.labels, 0)
    for chooser in model.choosers:
        counts[chooser.label] += 1
    when = (
        f"{quarter(world.year_of_tick(model.tick))} ({model.tick} of {model.config.ticks} "
        "quarters played)"
    )
    summary = " · ".join(f"{_label_short(k)} {n}" for k, n in counts.items() if n)
    return when, summary


def _label_short(label: str) -> str:
    return "hedging" if label == HEDGE else f"with {pole_words(label)}"


def _pole_words(world: World, b: int, offer: PoleOffer) -> str:
    return f"{pole_words(world.poles[b])} (a pole): {offer.words()}."


@functools.cache
def _context() -> str:
    """The grey countries around the region (the same on every map)."""
    return (
        f'<g fill="{LAND}" stroke="{BORDER}" stroke-width="0.7">'
        + "".join(
            f'<path d="{s.path}"><title>{escape(s.name)}</title></path>'
            for s in geography().of_role("context")
        )
        + "</g>"
    )


def _marker(world: World, b: int, box: Box, size: float, offer: PoleOffer) -> str:
    """An off-map pole: a box in its colour at the edge, its arrow pointing off the map."""
    x0, y0, x1, y1 = box
    west = x0 <= 0.0
    return (
        f'<g data-pole="{escape(world.poles[b])}">'
        f"<title>{escape(_pole_words(world, b, offer))} Off the map, to the "
        f"{'west' if west else 'east'}.</title>"
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="4" '
        f'fill="{world.pole_colors[b]}" stroke="#ffffff" stroke-width="1.5"/>'
        + _text(
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            marker_text(world, b),
            font_size=f"{size:.1f}",
            font_weight="700",
            fill="#ffffff",
            text_anchor="middle",
            dominant_baseline="central",
        )
        + "</g>"
    )


def _legend_patterns(world: World) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The key's samples: a hedger (grey lines) and a split state (first pole's colour,
    second pole's stripes)."""
    colors = label_colors(world)
    other = world.poles[1] if world.n_poles > 1 else HEDGE
    return ("hedge", colors[HEDGE], colors[HEDGE]), ("split", colors[world.poles[0]], colors[other])


def _legend(world: World, offers: list[PoleOffer], size: float, ids: str) -> tuple[str, float]:
    """The key and the poles' offers under the map, and their height (map units): in the
    state names' size (a smaller key read at 10-11 px on a laptop's screen)."""
    small = size
    swatch, gap, line = 1.1 * small, 1.1 * small, 1.75 * small
    colors = label_colors(world)
    hedge, split = _legend_patterns(world)

    def item(
        fill: str, text: str, stroke: str = "none", width: float = 0.0, **bold: str
    ) -> tuple[float, str]:
        return swatch + 0.4 * small + LEGEND_EM * small * len(text), (
            f'<rect x="0" y="{-swatch / 2:.1f}" width="{swatch:.1f}" height="{swatch:.1f}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
            + _text(
                swatch + 0.4 * small,
                0,
                text,
                font_size=f"{small:.1f}",
                fill=INK,
                dominant_baseline="central",
                **bold,
            )
        )

    key = [item(colors[p], _label_short(p)) for p in world.poles]
    key += [
        item(
            f"url(#{_pattern_id(ids, hedge)})",
            "hedging (lines: its two choices)",
            colors[HEDGE],
            0.8,
        ),
        item(
            f"url(#{_pattern_id(ids, split)})", "stripes: security and economy with different poles"
        ),
        item("#ffffff", "selected", "#000000", 2.5),
    ]
    poles = []
    for b, name in enumerate(world.poles):
        w, svg = item(
            world.pole_colors[b],
            f"{pole_words(name)}: {offers[b].words()}",
            font_weight="600",
        )
        poles.append((w, f'<g data-pole-offers="{escape(name)}">{svg}</g>'))
    rows = _rows(key, MAP_WIDTH - 16, gap) + _rows(poles, MAP_WIDTH - 16, 2 * gap)
    body = "".join(
        f'<g transform="translate(8 {(k + 0.5) * line + 0.4 * small:.1f})">{row}</g>'
        for k, row in enumerate(rows)
    )
    return body, len(rows) * line + 0.8 * small
