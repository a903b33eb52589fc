"""The app's pictures as matplotlib figures: the map, shares over time, the why chart.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so each browser
session draws its own without locks or leaks. The same functions draw the lessons' PNGs.

A state is drawn in the colour of its record label (russia, china, west; hedge: white,
hatched grey). A **split** profile (its security and its economy not with the same pole,
``explain.is_split``: e.g. ``russia/china``) gets a ring in the colour of its economic
choice (grey: ``open``) and its profile next to its name; a solid line joins a state to
its security bloc's leader, a dotted one to its economic partner.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from alignment_sim.classroom.explain import (
    FAMILIES,
    Choice,
    Explanation,
    family_of,
    is_split,
    quarter,
)
from alignment_sim.model.alignment import HEDGE
from alignment_sim.model.kernels import ECONOMY, SECURITY
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import World
from alignment_sim.outputs.plots import HEDGE_COLOR

FAMILY_COLORS = {
    "security": "#8e44ad",
    "economic": "#27ae60",
    "regime": "#e67e22",
    "soft_power": "#16a085",
    "dynamics": "#7f8c8d",
}
MAP_MARGIN_DEG = 5.0
EDGE_STRIP_DEG = 8.0
HEDGE_HATCH = "////"
RING_GAP_PT = 4.0
"""Gap between a state's disc and its split-profile ring, in points."""
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


def pole_title(world: World, b: int) -> str:
    """A short name for a pole ('Russia', 'China', 'West')."""
    return world.poles[b].replace("_", " ").title()


def map_extent(world: World) -> tuple[float, float, float, float]:
    """Longitude and latitude limits around the choosers' capitals, with a strip on each
    side where a pole beyond them is drawn at the edge (Brussels, Beijing)."""
    west = float(world.state_lon.min()) - MAP_MARGIN_DEG
    east = float(world.state_lon.max()) + MAP_MARGIN_DEG
    if (world.pole_lon < west).any():
        west -= EDGE_STRIP_DEG
    if (world.pole_lon > east).any():
        east += EDGE_STRIP_DEG
    return (
        west,
        east,
        float(world.state_lat.min()) - MAP_MARGIN_DEG,
        float(world.state_lat.max()) + MAP_MARGIN_DEG + 2.0,
    )


def map_legend_handles(world: World) -> list[Line2D | Patch]:
    """The map's key: label colours, hedging, the split ring and the two kinds of line."""
    colors = label_colors(world)
    handles: list[Line2D | Patch] = [
        Line2D([], [], marker="o", linestyle="", color=colors[p], label=p) for p in world.poles
    ]
    handles.append(
        Patch(facecolor="white", edgecolor=HEDGE_COLOR, hatch=HEDGE_HATCH, label="hedge")
    )
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor="black",
            markersize=9,
            markeredgewidth=1.8,
            label="ring: split profile, in its economy's colour (grey: open)",
        )
    )
    handles.append(Line2D([], [], color="black", linewidth=1.2, label="security bloc"))
    handles.append(
        Line2D([], [], color="black", linewidth=1.2, linestyle=":", label="economic partner")
    )
    return handles


def map_figure(model: AlignmentModel, selected: str = "") -> Figure:
    """States at their capitals in their record label's colour (hedgers hatched grey),
    split profiles ringed in their economy's colour, lines to their security bloc's
    leader (solid) and their economic partner (dotted), and the poles with their budgets
    and credibility."""
    world = model.world
    space = world.space
    colors = label_colors(world)
    economy_colors = choice_colors(world, ECONOMY)
    west, east, south, north = map_extent(world)
    fig = Figure(figsize=(6.4, 4.4), dpi=100)
    ax = fig.add_axes((0.08, 0.06, 0.9, 0.86))
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1.0 / math.cos(math.radians((south + north) / 2)))
    ax.apply_aspect()
    ax.set_facecolor("#f4f6f7")
    ax.grid(color="white", linewidth=1.0)
    ax.tick_params(labelsize=7, colors="#777777")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0f}°E")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}°N")

    pole_xy = []
    for b in range(world.n_poles):
        x = min(max(float(world.pole_lon[b]), west + 3.0), east - 3.0)
        y = min(max(float(world.pole_lat[b]), south + 1.5), north - 2.5)
        pole_xy.append((x, y))

    profiles = [c.profile for c in sorted(model.choosers, key=lambda c: c.index)]
    for i, k in enumerate(profiles):
        security = space.security_options[space.profile_security[k]]
        economy = space.economic_options[space.profile_economy[k]]
        for partner, style in ((security, "-"), (economy, ":")):
            if partner not in world.poles or (style == ":" and partner == security):
                continue
            px, py = pole_xy[world.poles.index(partner)]
            ax.plot(
                [world.state_lon[i], px],
                [world.state_lat[i], py],
                color=colors[partner],
                alpha=0.4,
                linewidth=1.2,
                linestyle=style,
                zorder=1,
            )
    size = 60 + 220 * np.sqrt(world.state.gdp_bn / world.state.gdp_bn.max())
    for i, k in enumerate(profiles):
        label = space.profile_labels[k]
        hedging = label == HEDGE
        chosen = world.states[i] == selected
        ax.scatter(
            world.state_lon[i],
            world.state_lat[i],
            s=size[i],
            color="white" if hedging else colors[label],
            edgecolor="black" if chosen else colors[label],
            hatch=HEDGE_HATCH if hedging else None,
            linewidth=2.5 if chosen else 1.5,
            zorder=3,
        )
        if is_split(space, k):
            economy = space.economic_options[space.profile_economy[k]]
            ring = (math.sqrt(size[i]) + 2 * RING_GAP_PT) ** 2
            ax.scatter(
                world.state_lon[i],
                world.state_lat[i],
                s=ring,
                facecolors="none",
                edgecolors=economy_colors[economy],
                linewidths=2.2,
                zorder=3,
            )
    labels = [
        (
            world.state_labels[i] + (f" ({space.profiles[k]})" if is_split(space, k) else ""),
            world.state_lon[i],
            world.state_lat[i],
            world.states[i] == selected,
        )
        for i, k in enumerate(profiles)
    ]
    for b, (x, y) in enumerate(pole_xy):
        spec = next(p for p in model.config.region.poles if p.name == world.poles[b])
        agent = model.pole_agents[b]
        budget = agent.spending_bn_usd if model.tick > 0 else spec.budget_bn_usd
        ax.scatter(
            x,
            y,
            marker="s",
            s=80 + 25 * budget,
            color=world.pole_colors[b],
            edgecolor="black",
            zorder=5,
        )
        outside = (x, y) != (float(world.pole_lon[b]), float(world.pole_lat[b]))
        east_side = x > (west + east) / 2
        arrow = (" →" if east_side else " ←") if outside else ""
        ax.annotate(
            f"{pole_title(world, b)}{arrow}\nUS$ {budget:.1f}bn/yr\n"
            f"credibility {agent.credibility:.2f}",
            (x, y),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center" if not outside else ("right" if east_side else "left"),
            fontsize=7.5,
            color=world.pole_colors[b],
            fontweight="bold",
            zorder=6,
        )
    _place_labels(fig, ax, labels)

    counts = {label: 0 for label in world.labels}
    for k in profiles:
        counts[space.profile_labels[k]] += 1
    ax.set_title(
        f"{quarter(world.year_of_tick(model.tick))} (tick {model.tick} of {model.config.ticks})"
        + "  ·  "
        + ", ".join(f"{label} {counts[label]}" for label in world.labels),
        fontsize=9,
    )
    ax.legend(
        handles=map_legend_handles(world),
        loc="lower left",
        fontsize=6.5,
        ncol=3,
        framealpha=0.85,
    )
    return fig


LABEL_OFFSETS = ((7, 4), (7, -12), (-7, 4), (-7, -12), (0, 9), (0, -16))


def _place_labels(fig: Figure, ax: Axes, labels: list[tuple[str, float, float, bool]]) -> None:
    """Label points where the text stays inside the axes and overlaps no label drawn
    before (else up-right)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [t.get_window_extent(renderer) for t in ax.texts]
    for text, x, y, bold in labels:
        placed = None
        for dx, dy in LABEL_OFFSETS:
            candidate = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx >= 0 else "right",
                fontsize=8,
                fontweight="bold" if bold else "normal",
                zorder=4,
            )
            box = candidate.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                placed = candidate
                break
            candidate.remove()
        if placed is None:
            placed = ax.annotate(
                text,
                (x, y),
                xytext=LABEL_OFFSETS[0],
                textcoords="offset points",
                fontsize=8,
                zorder=4,
            )
        taken.append(placed.get_window_extent(renderer))


def shares_figure(model: AlignmentModel) -> Figure:
    """Top: share of states with each record label from the start to now, with events
    shaded. Bottom: share of states in each option of each choice (security dashed,
    economy solid), where a pole's economic pull shows though its label may not."""
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
            start, end = years[active[0] + 1], years[active[-1] + 1]
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
    for axis in (ax, choices):
        axis.axvline(years[tick], color="black", linewidth=1)
        axis.spines[["top", "right"]].set_visible(False)
        axis.tick_params(labelsize=7)
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


def _why_axis(ax: Axes, choice: Choice, colors: dict[str, str]) -> None:
    """One choice's options as stacked term contributions (right: for, left: against),
    coloured by family, with the total marked; the chosen option is drawn bold."""
    n_options = len(choice.options)
    for k in range(n_options):
        y = n_options - 1 - k
        positive, negative = 0.0, 0.0
        for n, term in enumerate(choice.terms):
            value = float(choice.now[n, k])
            if abs(value) < 1e-9:
                continue
            left = positive if value > 0 else negative + value
            ax.barh(
                y,
                abs(value),
                left=left,
                height=0.6,
                color=FAMILY_COLORS[family_of(term)],
                edgecolor="white",
                linewidth=0.8,
            )
            if abs(value) > 0.35:
                ax.text(
                    left + abs(value) / 2,
                    y,
                    term,
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white",
                )
            if value > 0:
                positive += value
            else:
                negative += value
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
    ax.margins(x=0.04, y=0.12)
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


def why_figure(explanation: Explanation, world: World) -> Figure:
    """Both choices of a state, one panel each (security above, economy below): each
    option's utility as stacked term contributions, coloured by family."""
    rows = [len(choice.options) for choice in explanation.choices]
    height = 1.9 + 0.42 * sum(rows)
    fig = Figure(figsize=(6.0, height), dpi=100, layout="constrained")
    axes = fig.subplots(2, 1, gridspec_kw={"height_ratios": rows})
    for ax, choice in zip(axes, explanation.choices, strict=True):
        _why_axis(ax, choice, choice_colors(world, choice.dimension))
    axes[-1].set_xlabel("utility (◆ total)", fontsize=8)
    fig.legend(
        handles=[Patch(color=FAMILY_COLORS[f], label=f.replace("_", " ")) for f in FAMILIES],
        loc="outside lower center",
        ncol=len(FAMILIES),
        fontsize=7,
        frameon=False,
    )
    return fig
