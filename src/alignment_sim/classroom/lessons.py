"""Lesson figures and numbers, made headless from each lesson's comparison.

Each lesson's ``preset.yaml`` lists variants to compare (``compare``). This module runs
every variant over many seeds with the batched engine (the same kernels as the app's
model), then writes next to the lesson ``figure.png`` (mean bloc shares over time, and
where each state ends) and ``numbers.md`` (the numbers the lesson's text quotes)::

    python -m alignment_sim.classroom.lessons --figures            # every lesson, 50 seeds
    python -m alignment_sim.classroom.lessons --figures --only hedging --seeds 10
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from alignment_sim.classroom.classroom import (
    Lesson,
    Setup,
    Variant,
    available_lessons,
    build_config,
    compile_world,
    lessons_dir,
    load_lesson,
)
from alignment_sim.classroom.drawing import option_colors
from alignment_sim.classroom.explain import quarter
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.world import World
from alignment_sim.outputs.files import atomic_write, os_error_text
from alignment_sim.studies.outcomes import (
    final_distribution,
    shares_over_runs,
    switches,
    time_share,
)

DEFAULT_SEEDS = 50
TICKS = 40


@dataclass(frozen=True)
class Outcome:
    """One variant run over many seeds: what the lesson's numbers are computed from.

    alignment: (R, T+1, N) option per run, tick and state; offers: (R, B, N) mean offer
    over the run, US$ bn a year.
    """

    label: str
    world: World
    alignment: np.ndarray
    offers: np.ndarray

    @property
    def n_runs(self) -> int:
        return int(self.alignment.shape[0])

    def shares(self) -> np.ndarray:
        """Mean share of states in each option over the runs, (T+1, K)."""
        return shares_over_runs(self.alignment, len(self.world.options))

    def final_distribution(self) -> np.ndarray:
        """Share of runs in which each state ends in each option, (N, K)."""
        return final_distribution(self.alignment, len(self.world.options))

    def switches_per_run(self) -> float:
        return float(switches(self.alignment).mean())

    def hedging_share(self) -> float:
        """Share of state-ticks (after the start) spent hedging."""
        return time_share(self.alignment, self.world.hedge_index)

    def offers_pct_gdp(self) -> np.ndarray:
        """Mean offer from each pole to each state as % of its GDP, (B, N)."""
        return np.asarray(100.0 * self.offers.mean(axis=0) / self.world.state.gdp_bn)


def run_variant(lesson: Lesson, variant: Variant, seeds: int, ticks: int = TICKS) -> Outcome:
    """Run a lesson's variant for seeds 0..seeds-1 with the batched engine."""
    config = build_config(
        Setup(lesson=lesson.name, ticks=ticks, lessons_dir=str(lesson.folder.parent)), variant
    )
    inputs = RunInputs.from_config(config, compile_world(config))
    result = run_batch(inputs, range(seeds), record="summary")
    assert result.mean_offers is not None
    return Outcome(variant.label, inputs.world, result.alignment, result.mean_offers)


def variants(lesson: Lesson) -> list[Variant]:
    """The lesson's comparison, or the preset alone if it has none."""
    return lesson.compare or [Variant(label=lesson.title)]


def lesson_figure(lesson: Lesson, outcomes: list[Outcome]) -> Figure:
    """Top: mean bloc shares over time per variant. Bottom: where each state ends."""
    world = outcomes[0].world
    colors = option_colors(world)
    fig = Figure(figsize=(3.6 * len(outcomes) + 1.4, 6.2), dpi=110, layout="constrained")
    axes = fig.subplots(2, len(outcomes), squeeze=False, gridspec_kw={"height_ratios": [1, 1.3]})
    years = np.array([world.year_of_tick(t) for t in range(outcomes[0].alignment.shape[1])])
    for column, outcome in enumerate(outcomes):
        top, bottom = axes[0, column], axes[1, column]
        top.stackplot(
            years,
            outcome.shares().T,
            colors=[colors[o] for o in world.options],
            alpha=0.9,
        )
        top.set_xlim(years[0], years[-1])
        top.set_ylim(0, 1)
        top.set_title(outcome.label, fontsize=9)
        top.tick_params(labelsize=7)
        distribution = outcome.final_distribution()
        left = np.zeros(world.n_states)
        rows = np.arange(world.n_states)[::-1]
        for k, option in enumerate(world.options):
            bottom.barh(rows, distribution[:, k], left=left, color=colors[option], height=0.8)
            left += distribution[:, k]
        bottom.set_xlim(0, 1)
        bottom.set_yticks(rows, list(world.state_labels) if column == 0 else [], fontsize=7)
        bottom.tick_params(axis="x", labelsize=7)
        bottom.set_xlabel(f"share of {outcome.n_runs} runs, {quarter(years[-1])}", fontsize=7)
    axes[0, 0].set_ylabel("mean share of states", fontsize=8)
    axes[1, 0].set_ylabel("where each state ends", fontsize=8)
    fig.legend(
        handles=[Patch(color=colors[o], label=o) for o in world.options],
        loc="outside right center",
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(lesson.title, fontsize=11)
    return fig


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def lesson_numbers(lesson: Lesson, outcomes: list[Outcome]) -> str:
    """The numbers behind a lesson's text, as markdown tables."""
    world = outcomes[0].world
    runs = outcomes[0].n_runs
    end = quarter(world.year_of_tick(outcomes[0].alignment.shape[1] - 1))
    lines = [
        f"# Numbers: {lesson.title}",
        "",
        f"Generated by `python -m alignment_sim.classroom.lessons --figures` from `preset.yaml`: "
        f"{runs} runs (seeds 0-{runs - 1}) of each variant, {quarter(world.year)} to {end}. "
        "Regenerate after changing the model; the lesson's text quotes these numbers.",
        "",
        "## Bloc shares at the end (mean over runs)",
        "",
        "| variant | " + " | ".join(world.options) + " | switches per run | time hedging |",
        "|---|" + "---:|" * (len(world.options) + 2),
    ]
    for outcome in outcomes:
        shares = outcome.shares()[-1]
        lines.append(
            f"| {outcome.label} | "
            + " | ".join(_percent(s) for s in shares)
            + f" | {outcome.switches_per_run():.1f} | {_percent(outcome.hedging_share())} |"
        )
    lines += [
        "",
        "## Where each state ends (share of runs)",
        "",
        "| state | " + " | ".join(o.label for o in outcomes) + " |",
        "|---|" + "---|" * len(outcomes),
    ]
    for i, label in enumerate(world.state_labels):
        cells = []
        for outcome in outcomes:
            distribution = outcome.final_distribution()[i]
            cells.append(
                ", ".join(
                    f"{world.options[k]} {_percent(distribution[k])}"
                    for k in np.argsort(-distribution)
                    if distribution[k] > 0
                )
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for b, pole in enumerate(world.poles):
        lines += [
            "",
            f"## Offers from {pole}, % of the receiver's GDP a year (mean over ticks and runs)",
            "",
            "| state | " + " | ".join(o.label for o in outcomes) + " |",
            "|---|" + "---:|" * len(outcomes),
        ]
        for i, label in enumerate(world.state_labels):
            cells = [f"{o.offers_pct_gdp()[b, i]:.1f}" for o in outcomes]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def make_lesson(lesson: Lesson, seeds: int) -> tuple[Path, Path]:
    """Run a lesson's comparison and write its figure.png and numbers.md (both, or neither
    when something fails)."""
    results = [run_variant(lesson, variant, seeds) for variant in variants(lesson)]
    figure_path = lesson.folder / "figure.png"
    numbers_path = lesson.folder / "numbers.md"
    with atomic_write(figure_path) as figure, atomic_write(numbers_path, "w") as numbers:
        lesson_figure(lesson, results).savefig(figure, format="png")
        numbers.write(lesson_numbers(lesson, results))
    return figure_path, numbers_path


def main(argv: list[str] | None = None) -> int:
    """Regenerate the lessons' figures and numbers (``--figures``)."""
    parser = argparse.ArgumentParser(
        prog="alignment-sim-lessons",
        description="Regenerate each lesson's figure.png and numbers.md, headless.",
    )
    parser.add_argument("--figures", action="store_true", help="write figures and numbers")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="runs per variant")
    parser.add_argument("--only", action="append", default=None, help="a lesson name (repeat)")
    parser.add_argument("--lessons", type=Path, default=None, help="the lessons folder")
    args = parser.parse_args(argv)
    folder = lessons_dir(args.lessons)
    if folder is None:
        parser.error("no lessons folder found: give --lessons DIR")
    names = args.only or available_lessons(folder)
    if not args.figures:
        for name in names:
            print(f"{name}: {load_lesson(name, folder).title}")
        return 0
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: expected a whole number >= 1")
    try:
        for name in names:
            figure, numbers = make_lesson(load_lesson(name, folder), args.seeds)
            print(f"{name}: wrote {figure} and {numbers}")
    except ConfigError as exc:
        print(f"alignment-sim-lessons: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"alignment-sim-lessons: {os_error_text(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
