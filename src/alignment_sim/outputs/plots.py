"""Pictures of a run: bloc shares over time and a state x tick alignment chart.

Drawn with matplotlib's object API (``Figure``, no pyplot), so importing or calling this
never switches the user's backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from alignment_sim.model.trajectory import Trajectory
from alignment_sim.outputs.files import atomic_write

HEDGE_COLOR = "#9b9b9b"


def option_colors(trajectory: Trajectory) -> list[str]:
    return [*trajectory.world.pole_colors, HEDGE_COLOR]


def plot_run(trajectory: Trajectory, run: int, path: str | Path, title: str = "") -> Path:
    """Two panels: shares of choosers per option over time, and who was where when."""
    world = trajectory.world
    colors = option_colors(trajectory)
    years = np.array([world.year_of_tick(t) for t in range(trajectory.ticks + 1)])
    shares = trajectory.shares()[run]
    fig = Figure(figsize=(10, 8), layout="constrained")
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.3]})
    top.stackplot(years, shares.T, colors=colors, labels=list(world.options), alpha=0.9)
    top.set_ylim(0, 1)
    top.set_xlim(years[0], years[-1])
    top.set_ylabel("share of states")
    top.set_title(title or "Bloc shares over time")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    chart = trajectory.alignment[run].T
    bottom.imshow(
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
    bottom.set_yticks(range(len(world.states)), list(world.state_labels))
    bottom.set_xlabel("year")
    bottom.set_title("Alignment of each state (tick by tick)")
    bottom.legend(
        handles=[Patch(color=c, label=o) for c, o in zip(colors, world.options, strict=True)],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    out = Path(path)
    with atomic_write(out) as handle:
        fig.savefig(handle, format="png", dpi=110)
    return out
