"""The app's pictures as matplotlib figures: the map, bloc shares over time, the why chart.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so each browser
session draws its own without locks or leaks. The same functions draw the lessons' PNGs.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from alignment_sim.classroom.explain import FAMILIES, Explanation, family_of, quarter
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


def option_colors(world: World) -> dict[str, str]:
    """Colour of every option: the poles' own colours, grey for hedging."""
    return {**dict(zip(world.poles, world.pole_colors, strict=True)), "hedge": HEDGE_COLOR}


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


def map_figure(model: AlignmentModel, selected: str = "") -> Figure:
    """States at their capitals coloured by bloc (hedgers hatched grey), lines to their
    bloc's leader, and the poles with their budgets and credibility."""
    world = model.world
    colors = option_colors(world)
    west, east, south, north = map_extent(world)
    fig = Figure(figsize=(6.4, 4.2), dpi=100)
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

    options = [chooser.option for chooser in sorted(model.choosers, key=lambda c: c.index)]
    for i, option in enumerate(options):
        if option in world.poles:
            px, py = pole_xy[world.poles.index(option)]
            ax.plot(
                [world.state_lon[i], px],
                [world.state_lat[i], py],
                color=colors[option],
                alpha=0.35,
                linewidth=1.2,
                zorder=1,
            )
    size = 60 + 220 * np.sqrt(world.state.gdp_bn / world.state.gdp_bn.max())
    for i, option in enumerate(options):
        hedging = option == "hedge"
        ax.scatter(
            world.state_lon[i],
            world.state_lat[i],
            s=size[i],
            color="white" if hedging else colors[option],
            edgecolor="black" if world.states[i] == selected else colors[option],
            hatch="////" if hedging else None,
            linewidth=2.5 if world.states[i] == selected else 1.5,
            zorder=3,
        )
    labels = [
        (world.state_labels[i], world.state_lon[i], world.state_lat[i], world.states[i] == selected)
        for i in range(world.n_states)
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

    counts = {o: options.count(o) for o in world.options}
    ax.set_title(
        f"{quarter(world.year_of_tick(model.tick))} (tick {model.tick} of {model.config.ticks})"
        + "  ·  "
        + ", ".join(f"{o} {counts[o]}" for o in world.options),
        fontsize=9,
    )
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colors[p], label=p) for p in world.poles
    ] + [Patch(facecolor="white", edgecolor=HEDGE_COLOR, hatch="////", label="hedging")]
    ax.legend(handles=handles, loc="lower left", fontsize=7, ncol=4, framealpha=0.8)
    return fig


LABEL_OFFSETS = ((7, 4), (7, -12), (-7, 4), (-7, -12), (0, 9), (0, -16))


def _place_labels(fig: Figure, ax: Axes, labels: list[tuple[str, float, float, bool]]) -> None:
    """Label points where the text overlaps no label drawn before (else up-right)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
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
            if not any(box.overlaps(other) for other in taken):
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
    """Share of states in each option from the start to now, with events shaded."""
    world, trajectory = model.world, model.trajectory
    colors = option_colors(world)
    tick = min(model.tick, trajectory.ticks)
    years = np.array([world.year_of_tick(t) for t in range(trajectory.ticks + 1)])
    shares = trajectory.shares()[0, : tick + 1]
    fig = Figure(figsize=(6.4, 3.4), dpi=100)
    ax = fig.add_axes((0.09, 0.1, 0.76, 0.8))
    option_colors_list = [colors[o] for o in world.options]
    if tick == 0:
        bottom = 0.0
        for k, option in enumerate(world.options):
            ax.bar(
                years[0],
                shares[0, k],
                width=0.25,
                bottom=bottom,
                align="edge",
                color=option_colors_list[k],
                label=option,
            )
            bottom += shares[0, k]
    else:
        ax.stackplot(
            years[: tick + 1],
            shares.T,
            colors=option_colors_list,
            labels=list(world.options),
            alpha=0.9,
        )
    for e, name in enumerate(trajectory.event_names):
        active = np.flatnonzero(trajectory.active[0, :tick, e])
        if active.size:
            start, end = years[active[0] + 1], years[active[-1] + 1]
            level = 1.03 + 0.05 * (e % 3)
            ax.plot([start, max(end, start + 0.1)], [level, level], color="black", linewidth=3)
            ax.annotate(name, (start, level), xytext=(0, 3), textcoords="offset points", fontsize=7)
    ax.axvline(years[tick], color="black", linewidth=1)
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, 1.2)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("share of states", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"Bloc shares, {quarter(years[0])} to {quarter(years[tick])}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


def why_figure(explanation: Explanation, colors: dict[str, str]) -> Figure:
    """Each option's utility as stacked term contributions (right: for, left: against),
    coloured by family, with the total marked; the chosen option is drawn bold."""
    n_options = len(explanation.options)
    height = 1.3 + 0.5 * n_options
    fig = Figure(figsize=(6.0, height), dpi=100)
    ax = fig.add_axes((0.13, 0.95 / height, 0.84, 1 - 1.2 / height))
    for k in range(n_options):
        y = n_options - 1 - k
        positive, negative = 0.0, 0.0
        for n, term in enumerate(explanation.terms):
            value = float(explanation.now[n, k])
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
        total = float(explanation.utility[k])
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
    ax.margins(x=0.04)
    ax.set_yticks(
        range(n_options),
        [("▶ " if o == explanation.option else "") + o for o in reversed(explanation.options)],
        fontsize=8,
    )
    for label, option in zip(ax.get_yticklabels(), reversed(explanation.options), strict=True):
        label.set_color(colors.get(option, "black"))
        if option == explanation.option:
            label.set_fontweight("bold")
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("utility (◆ total)", fontsize=8)
    fig.legend(
        handles=[Patch(color=FAMILY_COLORS[f], label=f.replace("_", " ")) for f in FAMILIES],
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(FAMILIES),
        fontsize=7,
        frameon=False,
    )
    return fig
