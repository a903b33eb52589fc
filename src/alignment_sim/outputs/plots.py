"""Pictures of a run: record-label shares over time, and a state x tick chart of each
dimension of the states' profiles (security option, economic option).

Drawn with matplotlib's object API (``Figure``, no pyplot), so importing or calling this
never switches the user's backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import World
from alignment_sim.outputs.files import atomic_write
from alignment_sim.studies import outcomes

HEDGE_COLOR = "#9b9b9b"
OUTSIDE_COLOR = "#e5e5e5"
"""The colour of ``none`` (no security bloc) and ``open`` (no economic bloc)."""
TITLES = {"security": "Security", "economy": "Economic"}


def label_colors(world: World) -> list[str]:
    """A colour per record label: each pole's, then hedge's."""
    return [*world.pole_colors, HEDGE_COLOR]


def dimension_colors(world: World, dimension: str) -> list[str]:
    """A colour per option of one dimension: its poles' colours, then the outside option's."""
    options = outcomes.dimension_options(world.space, dimension)
    return [*(world.pole_colors[world.poles.index(o)] for o in options[:-1]), OUTSIDE_COLOR]


def plot_run(trajectory: Trajectory, run: int, path: str | Path, title: str = "") -> Path:
    """Three panels: the share of states with each record label over time, and where each
    state was, tick by tick, in the security and in the economic dimension."""
    world = trajectory.world
    years = np.array([world.year_of_tick(t) for t in range(trajectory.ticks + 1)])
    shares = trajectory.shares()[run]
    fig = Figure(figsize=(10, 11), layout="constrained")
    top, *charts = fig.subplots(3, 1, gridspec_kw={"height_ratios": [1, 1.2, 1.2]})
    colors = label_colors(world)
    top.stackplot(years, shares.T, colors=colors, labels=list(world.labels), alpha=0.9)
    top.set_ylim(0, 1)
    top.set_xlim(years[0], years[-1])
    top.set_ylabel("share of states")
    top.set_title(title or "Record-label shares over time")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    for ax, dimension in zip(charts, outcomes.DIMENSIONS, strict=True):
        codes = outcomes.dimension_codes(trajectory.alignment[run], world.space, dimension)
        _state_chart(ax, world, years, codes.T, dimension)
    out = Path(path)
    with atomic_write(out) as handle:
        fig.savefig(handle, format="png", dpi=110)
    return out


def _state_chart(
    ax: Axes, world: World, years: np.ndarray, chart: np.ndarray, dimension: str
) -> None:
    """Each state's option of ``dimension`` (rows) at each tick (columns)."""
    colors = dimension_colors(world, dimension)
    options = outcomes.dimension_options(world.space, dimension)
    ax.imshow(
        chart,
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=len(colors) - 0.5,
        extent=(
            years[0],
            years[-1] + (years[1] - years[0] if len(years) > 1 else 1),
            len(world.states) - 0.5,
            -0.5,
        ),
    )
    ax.set_yticks(range(len(world.states)), list(world.state_labels))
    ax.set_xlabel("year")
    ax.set_title(f"{TITLES[dimension]} alignment of each state (tick by tick)")
    ax.legend(
        handles=[Patch(color=c, label=o) for c, o in zip(colors, options, strict=True)],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
