"""The app's pictures as matplotlib figures: the map, shares over time, the why chart.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so each browser
session draws its own without locks or leaks. The same functions draw the lessons' PNGs.

The map (``map_figure``, for PNG exports) draws the same country shapes, fills and
labels as the browser's SVG map (``mapview.map_svg``; shapes and label places from
``geo``): a state in the colour of its record label (russia, china, west); a **split**
profile (its security and its economy not with the same pole, ``explain.is_split``:
e.g. ``russia/china``) hatched in its other choice's colour (grey: ``none``/``open``);
a hedger white, hatched in its two choices' colours. The map's colours are defined here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FixedLocator, FuncFormatter

from alignment_sim.classroom.explain import (
    FAMILIES,
    Choice,
    Explanation,
    family_of,
    is_split,
    pole_words,
    term_name,
)
from alignment_sim.classroom.geo import (
    POLE_SIZE,
    STATE_SIZE,
    Box,
    Label,
    edge_marker,
    geography,
    region_labels,
)
from alignment_sim.model.alignment import HEDGE
from alignment_sim.model.kernels import ECONOMY, SECURITY
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import World, quarter
from alignment_sim.outputs.plots import HEDGE_COLOR

FAMILY_COLORS = {
    "security": "#8e44ad",
    "economic": "#27ae60",
    "regime": "#e67e22",
    "soft_power": "#16a085",
    "dynamics": "#7f8c8d",
}
SEA = "#dbe8f3"
LAND = "#e4e4df"
"""The map's countries outside the model."""
BORDER = "#ffffff"
STATE_BORDER = "#3d4a52"
"""Borders of the choosers (dark, so two hedgers side by side stay apart)."""
INK = "#1f2a30"
POLE_TINT = 0.3
"""Share of a pole's colour in its country's tint on the map (the rest white)."""
MAP_STRIP_IN = 0.75
"""Height of the key and the poles' offers under the PNG map, inches."""
DIMENSION_TITLES = {SECURITY: "Security choice", ECONOMY: "Economic choice"}


def label_colors(world: World) -> dict[str, str]:
    """Colour of every record label: the poles' own colours, grey for hedging."""
    return {**dict(zip(world.poles, world.pole_colors, strict=True)), HEDGE: HEDGE_COLOR}


def choice_colors(world: World, dimension: str) -> dict[str, str]:
    """Colour of every option of one dimension: its pole's colour, grey for ``none`` and
    ``open``."""
    space = world.space
    options = space.security_options if dimension == SECURITY else space.economic_options
    poles = dict(zip(world.poles, world.pole_colors, strict=True))
    return {option: poles.get(option, HEDGE_COLOR) for option in options}


def tint(color: str, share: float = POLE_TINT) -> str:
    """A '#rrggbb' colour mixed with white (``share`` of the colour)."""
    rgb = [int(color[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - share * (255 - c)):02x}" for c in rgb)


class PoleOffer(NamedTuple):
    """What the map says of a pole: ``amount`` (US$ bn a year over all choosers) of
    ``what`` (its offers in force; before the first quarter, when it has offered nothing
    yet, its budget) and its credibility now."""

    amount: float
    credibility: float
    what: str

    def words(self) -> str:
        """'offers US$ 1.6bn/yr, credibility 0.60' (or 'budget ...' before the first
        quarter: the offers come after it, and are a part of the budget)."""
        return f"{self.what} US$ {self.amount:.1f}bn/yr, credibility {self.credibility:.2f}"


def pole_offers(model: AlignmentModel) -> list[PoleOffer]:
    """Each pole's offers in force (before the first tick, its budget) and credibility."""
    offers = []
    for b, agent in enumerate(model.pole_agents):
        spec = next(p for p in model.config.region.poles if p.name == model.world.poles[b])
        if model.tick > 0:
            offers.append(PoleOffer(float(agent.spending_bn_usd), agent.credibility, "offers"))
        else:
            offers.append(PoleOffer(float(spec.budget_bn_usd), agent.credibility, "budget"))
    return offers


def off_map_poles(world: World) -> list[int]:
    """Poles without a country on the map (drawn as markers at its edge: the West)."""
    geo = geography()
    return [
        b
        for b, name in enumerate(world.poles)
        if (shape := geo.shape(name)) is None or shape.role != "pole"
    ]


def marker_text(world: World, b: int) -> str:
    """An off-map pole's marker text, its arrow pointing off the map."""
    geo = geography()
    x = float(geo.project(float(world.pole_lon[b]), float(world.pole_lat[b]))[0])
    name = pole_words(world.poles[b])
    return f"◀ {name}" if x < geo.width / 2 else f"{name} ▶"


def map_labels(world: World, scale: float = 1.0) -> tuple[dict[str, Label], dict[int, Box]]:
    """Where the states' and poles' names go on the map (``geo.place_labels``, names up
    to ``scale`` times their size, as big as fit) and the off-map poles' markers (font
    ``scale`` times the state names')."""
    geo = geography()
    off_map = off_map_poles(world)
    markers = {
        b: edge_marker(
            geo,
            float(world.pole_lon[b]),
            float(world.pole_lat[b]),
            marker_text(world, b),
            STATE_SIZE * scale,
        )
        for b in off_map
    }
    texts = tuple(
        (name, world.state_labels[i], STATE_SIZE * scale) for i, name in enumerate(world.states)
    )
    texts += tuple(
        (name, pole_words(name), POLE_SIZE * scale)
        for b, name in enumerate(world.poles)
        if b not in off_map
    )
    return region_labels(texts, tuple(markers.values()), 1 / scale), markers


def map_legend_handles(world: World) -> list[Patch]:
    """The map's key: label colours, hedging, split stripes and the selected outline."""
    colors = label_colors(world)
    handles = [Patch(facecolor=colors[p], label=p) for p in world.poles]
    handles.append(Patch(facecolor="white", hatch="xx", hatchcolor=HEDGE_COLOR, label=HEDGE))
    other = world.poles[1] if world.n_poles > 1 else HEDGE
    handles.append(
        Patch(
            facecolor=colors[world.poles[0]],
            hatch="///",
            hatchcolor=colors[other],
            label="stripes: security and economy with different poles",
        )
    )
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=2.0, label="selected"))
    return handles


def _state_patches(world: World, i: int, profile: int, path: MplPath) -> list[PathPatch]:
    """Chooser ``i``'s shape in its label's colour; a split profile hatched in its other
    choice's colour; a hedger white, hatched in its two choices' colours."""
    space = world.space
    label = world.labelling.label(i, profile)
    security = choice_colors(world, SECURITY)[
        space.security_options[space.profile_security[profile]]
    ]
    economy_option = space.economic_options[space.profile_economy[profile]]
    economy = choice_colors(world, ECONOMY)[economy_option]
    common = {"edgecolor": STATE_BORDER, "linewidth": 0.5, "zorder": 2}
    if label == HEDGE:
        return [
            PathPatch(path, facecolor="white", hatch="\\\\", hatchcolor=security, **common),
            PathPatch(path, facecolor="none", hatch="////", hatchcolor=economy, **common),
        ]
    color = label_colors(world)[label]
    if is_split(space, profile):
        other = economy if economy_option != label else security
        return [PathPatch(path, facecolor=color, hatch="///", hatchcolor=other, **common)]
    return [PathPatch(path, facecolor=color, **common)]


def map_figure(model: AlignmentModel, selected: str = "") -> Figure:
    """The map as a matplotlib figure (for PNGs): the same shapes, fills, labels and
    key as ``mapview.map_svg``, with hatching for its patterns."""
    world = model.world
    geo = geography()
    labels, markers = map_labels(world)
    offers = pole_offers(model)
    map_height = geo.height / geo.width * 9.8
    height = map_height + MAP_STRIP_IN + 0.4
    fig = Figure(figsize=(10, height), dpi=100)
    ax = fig.add_axes((0.01, MAP_STRIP_IN / height, 0.98, map_height / height))
    points = 9.8 * 72 / geo.width
    """Points per map unit."""
    ax.set_xlim(0, geo.width)
    ax.set_ylim(geo.height, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor(SEA)
    for context in geo.of_role("context"):
        ax.add_patch(PathPatch(context.outline, facecolor=LAND, edgecolor=BORDER, lw=0.5))
    for b in range(world.n_poles):
        pole = geo.shape(world.poles[b])
        if b not in markers and pole is not None:
            ax.add_patch(
                PathPatch(
                    pole.outline,
                    facecolor=tint(world.pole_colors[b]),
                    edgecolor=BORDER,
                    lw=0.5,
                )
            )
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for chooser in sorted(model.choosers, key=lambda c: c.index):
        name = world.states[chooser.index]
        shape = geo.shape(name)
        if shape is None or shape.role != "chooser":
            x, y = geo.project(
                float(world.state_lon[chooser.index]), float(world.state_lat[chooser.index])
            )
            path = MplPath.circle((float(x), float(y)), 0.6 * STATE_SIZE)
        else:
            path = shape.outline
        for patch in _state_patches(world, chooser.index, chooser.profile, path):
            ax.add_patch(patch)
        if name == selected:
            ax.add_patch(PathPatch(path, facecolor="none", edgecolor="white", lw=4.0, zorder=3))
            ax.add_patch(PathPatch(path, facecolor="none", edgecolor="black", lw=2.0, zorder=3))
    for i, name in enumerate(world.states):
        label = labels.get(name)
        if label is None:
            x, y = geo.project(float(world.state_lon[i]), float(world.state_lat[i]))
            label = Label(
                name,
                world.state_labels[i],
                (float(x), float(y) - 1.4 * STATE_SIZE),
                (float(x), float(y)),
                STATE_SIZE,
                False,
            )
        _draw_label(ax, label, INK, points, halo, bold=name == selected)
    for b, name in enumerate(world.poles):
        if name in labels:
            _draw_label(ax, labels[name], world.pole_colors[b], points, halo, bold=True)
    for b, (x0, y0, x1, y1) in markers.items():
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                facecolor=world.pole_colors[b],
                edgecolor="white",
                zorder=5,
            )
        )
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            marker_text(world, b),
            ha="center",
            va="center",
            color="white",
            fontweight="bold",
            fontsize=STATE_SIZE * points,
            zorder=6,
        )
    counts = dict.fromkeys(world.labels, 0)
    for chooser in model.choosers:
        counts[chooser.label] += 1
    ax.set_title(
        f"{quarter(world.year_of_tick(model.tick))} (tick {model.tick} of {model.config.ticks})"
        + "  ·  "
        + ", ".join(f"{label} {counts[label]}" for label in world.labels),
        fontsize=10,
    )
    strip = fig.add_axes((0.01, 0.0, 0.98, MAP_STRIP_IN / height))
    strip.set_axis_off()
    strip.legend(
        handles=map_legend_handles(world), loc="upper left", ncol=7, fontsize=8, frameon=False
    )
    for b, name in enumerate(world.poles):
        strip.text(
            0.01 + b / world.n_poles,
            0.15,
            f"{pole_words(name)}: {offers[b].words()}",
            color=world.pole_colors[b],
            fontweight="bold",
            fontsize=8.5,
            transform=strip.transAxes,
        )
    return fig


def _draw_label(ax: Axes, label: Label, color: str, points: float, halo: list, bold: bool) -> None:
    """A name where ``geo.place_labels`` put it, with its leader line if any."""
    if label.leader:
        end = label.leader_end()
        ax.plot([label.anchor[0], end[0]], [label.anchor[1], end[1]], color=INK, lw=0.8, zorder=4)
        ax.plot([label.anchor[0]], [label.anchor[1]], "o", color=INK, markersize=2.5, zorder=4)
    ax.text(
        label.at[0],
        label.at[1],
        label.text,
        ha="center",
        va="center",
        fontsize=label.size * points,
        fontweight="bold" if bold else "normal",
        color=color,
        path_effects=halo,
        zorder=4,
    )


def shares_figure(model: AlignmentModel, lever_marks: bool = True) -> Figure:
    """Top: share of states with each record label from the start to now, with events
    shaded from the start of their first tick to the end of their last, and the lever
    moves marked (``lever_marks``; the debrief marks them itself). Bottom: share of
    states in each option of each choice (security dashed, economy solid), where a pole's
    economic pull shows though its label may not."""
    world, trajectory = model.world, model.trajectory
    space = world.space
    colors = label_colors(world)
    tick = min(model.tick, trajectory.ticks)
    years = np.array([world.year_of_tick(t) for t in range(trajectory.ticks + 1)])
    shares = trajectory.shares()[0, : tick + 1]
    fig = Figure(figsize=(6.4, 4.6), dpi=100)
    ax = fig.add_axes((0.09, 0.44, 0.7, 0.5))
    choices = fig.add_axes((0.09, 0.08, 0.7, 0.26), sharex=ax)
    label_color_list = [colors[label] for label in world.labels]
    if tick == 0:
        bottom = 0.0
        for k, label in enumerate(world.labels):
            ax.bar(
                years[0],
                shares[0, k],
                width=0.25,
                bottom=bottom,
                align="edge",
                color=label_color_list[k],
                label=label,
            )
            bottom += shares[0, k]
    else:
        ax.stackplot(
            years[: tick + 1],
            shares.T,
            colors=label_color_list,
            labels=list(world.labels),
            alpha=0.9,
        )
    for e, name in enumerate(trajectory.event_names):
        active = np.flatnonzero(trajectory.active[0, :tick, e])
        if active.size:
            start, end = years[active[0]], years[active[-1] + 1]  # tick t: t-1 to t
            level = 1.03 + 0.05 * (e % 3)
            ax.plot([start, max(end, start + 0.1)], [level, level], color="black", linewidth=3)
            ax.annotate(name, (start, level), xytext=(0, 3), textcoords="offset points", fontsize=7)
    profiles = trajectory.alignment[0, : tick + 1].astype(np.int64)
    marker = "o" if tick == 0 else None
    for dimension, parts, options, style in (
        (SECURITY, space.profile_security, space.security_options, "--"),
        (ECONOMY, space.profile_economy, space.economic_options, "-"),
    ):
        chosen = parts[profiles]
        line_colors = choice_colors(world, dimension)
        for k, option in enumerate(options):
            choices.plot(
                years[: tick + 1],
                (chosen == k).mean(axis=1),
                color=line_colors[option],
                linestyle=style,
                marker=marker,
                linewidth=1.4,
                label=f"{dimension} {option}",
            )
    for change in getattr(model, "lever_changes", ()) if lever_marks else ():
        if change.tick <= tick:
            when = years[change.tick]
            for axis in (ax, choices):
                axis.axvline(when, color="#555555", linewidth=0.9, linestyle=":")
            ax.annotate(
                f"{change.lever.replace('_', ' ')} {change.value:g}",
                (when, 0.02),
                xytext=(2, 0),
                textcoords="offset points",
                rotation=90,
                fontsize=6.5,
                va="bottom",
                color="#222222",
            )
    for axis in (ax, choices):
        axis.axvline(years[tick], color="black", linewidth=1)
        axis.spines[["top", "right"]].set_visible(False)
        axis.tick_params(labelsize=7)
    _year_axis(choices, float(years[0]), float(years[-1]))
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, 1.2)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("share of states", fontsize=8)
    ax.set_title(f"Record labels, {quarter(years[0])} to {quarter(years[tick])}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    choices.set_ylim(0, 1.02)
    choices.set_yticks([0, 0.5, 1.0])
    choices.set_title("Each choice: security (dashed), economy (solid)", fontsize=8)
    choices.legend(loc="upper left", bbox_to_anchor=(1.0, 1.15), fontsize=6, frameon=False, ncol=1)
    return fig


def _year_axis(ax: Axes, first: float, last: float) -> None:
    """Ticks on whole years ('2017'), or on quarters ('2015 Q2') for a run of three years
    or less, never on fractions of a year."""
    if last - first <= 3.0:
        step = 0.25 if last - first <= 1.5 else 0.5
        ticks = np.arange(np.ceil(first / step) * step, last + 1e-9, step)
        ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: quarter(v)))
    else:
        every = max(1, int(np.ceil((last - first) / 10)))
        ticks = np.arange(np.ceil(first), np.floor(last) + 1e-9, every)
        ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))


TERM_FONT_PT = 6.5
CHAR_WIDTH_EM = 0.62
"""A bar is labelled with its term only if the name fits inside it: about this many ems
a character, at TERM_FONT_PT (the rest are named in the legend and the table)."""


def _why_axis(ax: Axes, choice: Choice, colors: dict[str, str], width_in: float) -> None:
    """One choice's options as stacked term contributions (right: for, left: against),
    coloured by family, with the total score marked; the chosen option is drawn bold. A
    bar names its term only where the name fits inside it (``width_in``: the axes' width,
    inches)."""
    n_options = len(choice.options)
    bars = []  # (row, left, width, term)
    low, high = 0.0, 0.0
    for k in range(n_options):
        y = n_options - 1 - k
        positive, negative = 0.0, 0.0
        for n, term in enumerate(choice.terms):
            value = float(choice.now[n, k])
            if abs(value) < 1e-9:
                continue
            left = positive if value > 0 else negative + value
            bars.append((y, left, abs(value), term))
            if value > 0:
                positive += value
            else:
                negative += value
        total = float(choice.utility[k])
        low, high = min(low, negative, total), max(high, positive, total)
    span = (high - low) * 1.08 or 1.0
    ax.set_xlim(low - 0.04 * span, high + 0.04 * span)
    name_width = CHAR_WIDTH_EM * TERM_FONT_PT / 72.0  # inches a character
    for y, left, width, term in bars:
        ax.barh(
            y,
            width,
            left=left,
            height=0.6,
            color=FAMILY_COLORS[family_of(term)],
            edgecolor="white",
            linewidth=0.8,
        )
        name = term_name(term)
        if width / span * width_in > name_width * (len(name) + 1):
            ax.text(
                left + width / 2,
                y,
                name,
                ha="center",
                va="center",
                fontsize=TERM_FONT_PT,
                color="white",
                clip_on=True,
            )
    for k in range(n_options):
        y = n_options - 1 - k
        total = float(choice.utility[k])
        ax.plot([total], [y], marker="D", color="black", markersize=5, zorder=5)
        ax.annotate(
            f"{total:+.2f}",
            (total, y),
            xytext=(0, 9),
            textcoords="offset points",
            fontsize=7,
            ha="center",
        )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_ylim(-0.6, n_options - 0.25)
    options = list(reversed(choice.options))
    ax.set_yticks(
        range(n_options), [("▶ " if o == choice.option else "") + o for o in options], fontsize=8
    )
    for label, option in zip(ax.get_yticklabels(), options, strict=True):
        label.set_color(colors.get(option, "black"))
        if option == choice.option:
            label.set_fontweight("bold")
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(DIMENSION_TITLES[choice.dimension], fontsize=8, loc="left")


WHY_WIDTH_IN = 6.0
WHY_AXES_SHARE = 0.74
"""The why chart's width (inches) and the share of it its bars get (the rest: option
names on the left, margins)."""


def why_figure(explanation: Explanation, world: World) -> Figure:
    """Both choices of a state, one panel each (security above, economy below): each
    option's score as stacked term contributions, coloured by family. Everything stays
    inside the figure (constrained layout; the family key in three columns below)."""
    rows = [len(choice.options) for choice in explanation.choices]
    height = 2.3 + 0.42 * sum(rows)
    fig = Figure(figsize=(WHY_WIDTH_IN, height), dpi=100, layout="constrained")
    axes = fig.subplots(2, 1, gridspec_kw={"height_ratios": rows})
    for ax, choice in zip(axes, explanation.choices, strict=True):
        _why_axis(
            ax,
            choice,
            choice_colors(world, choice.dimension),
            WHY_WIDTH_IN * WHY_AXES_SHARE,
        )
    axes[-1].set_xlabel("score: for (right), against (left); ◆ total", fontsize=8)
    fig.legend(
        handles=[Patch(color=FAMILY_COLORS[f], label=f.replace("_", " ")) for f in FAMILIES],
        loc="outside lower center",
        ncol=3,
        fontsize=7,
        frameon=False,
    )
    return fig
