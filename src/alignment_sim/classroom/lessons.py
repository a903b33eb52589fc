"""Lesson figures and numbers, made headless from each lesson's comparison.

Each lesson's ``preset.yaml`` lists variants to compare (``compare``). This module runs
every variant over many seeds with the batched engine (the same kernels as the app's
model), then writes next to the lesson ``figure.png`` (mean record-label shares and the
shares of each security and economic choice over time, and where each state ends) and
``numbers.md`` (the numbers the lesson's text quotes)::

    python -m alignment_sim.classroom.lessons --figures            # every lesson, 50 seeds
    python -m alignment_sim.classroom.lessons --figures --only buffer_states --seeds 10
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
from alignment_sim.classroom.drawing import choice_colors, label_colors
from alignment_sim.classroom.explain import quarter
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.alignment import HEDGE, NONE, OPEN
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMY, SECURITY
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

    alignment: (R, T+1, N) profile index per run, tick and state (``World.options``);
    offers: (R, B, N) mean offer over the run, US$ bn a year; credibility: (R, T, B) each
    pole's credibility in force at each tick (0-1), if recorded. Shares and distributions
    are over the record labels (``World.labels``) unless they name a dimension
    (``security``: ``space.security_options``; ``economy``: ``space.economic_options``).
    """

    label: str
    world: World
    alignment: np.ndarray
    offers: np.ndarray
    credibility: np.ndarray | None = None

    @property
    def n_runs(self) -> int:
        return int(self.alignment.shape[0])

    def labels(self) -> np.ndarray:
        """(R, T+1, N) each state's record label, an index into ``World.labels``."""
        return np.asarray(self.world.space.label_codes[self.alignment.astype(np.int64)])

    def choices(self, dimension: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """(R, T+1, N) each state's option in ``dimension`` and that dimension's options."""
        space = self.world.space
        profiles = self.alignment.astype(np.int64)
        if dimension == SECURITY:
            return np.asarray(space.profile_security[profiles]), space.security_options
        if dimension == ECONOMY:
            return np.asarray(space.profile_economy[profiles]), space.economic_options
        raise ValueError(f"dimension {dimension!r}: expected {SECURITY!r} or {ECONOMY!r}")

    def shares(self) -> np.ndarray:
        """Mean share of states with each record label over the runs, (T+1, L)."""
        return shares_over_runs(self.labels(), len(self.world.labels))

    def dimension_shares(self, dimension: str) -> np.ndarray:
        """Mean share of states in each option of ``dimension`` over the runs, (T+1, D)."""
        chosen, options = self.choices(dimension)
        return shares_over_runs(chosen, len(options))

    def final_distribution(self) -> np.ndarray:
        """Share of runs in which each state ends with each record label, (N, L)."""
        return final_distribution(self.labels(), len(self.world.labels))

    def final_profiles(self) -> np.ndarray:
        """Share of runs in which each state ends in each profile, (N, K)."""
        return final_distribution(self.alignment, len(self.world.options))

    def final_dimension_distribution(self, dimension: str) -> np.ndarray:
        """Share of runs in which each state ends in each option of ``dimension``, (N, D)."""
        chosen, options = self.choices(dimension)
        return final_distribution(chosen, len(options))

    def share(self, label: str) -> float:
        """Mean share of states with record label ``label`` at the end."""
        return float(self.shares()[-1, self.world.labels.index(label)])

    def ends(self, state: str, label: str) -> float:
        """Share of runs in which ``state`` ends with record label ``label``."""
        world = self.world
        return float(
            self.final_distribution()[world.states.index(state), world.labels.index(label)]
        )

    def ends_in(self, state: str, dimension: str, option: str) -> float:
        """Share of runs in which ``state`` ends in ``option`` of ``dimension``."""
        _, options = self.choices(dimension)
        distribution = self.final_dimension_distribution(dimension)
        return float(distribution[self.world.states.index(state), options.index(option)])

    def group_share(
        self,
        states: tuple[str, ...],
        security: str | None = None,
        economy: str | None = None,
    ) -> float:
        """Mean share, over runs, of ``states`` that end with security ``security`` and
        economy ``economy`` (None: any), e.g. Central Asia with security ``russia`` and
        economy ``china``."""
        rows = [self.world.states.index(state) for state in states]
        held = np.ones((self.n_runs, len(rows)), dtype=bool)
        for dimension, option in ((SECURITY, security), (ECONOMY, economy)):
            if option is not None:
                chosen, options = self.choices(dimension)
                held &= chosen[:, -1, rows] == options.index(option)
        return float(held.mean())

    def switches_per_run(self) -> float:
        """Changes of profile (in either choice) per run, over all states."""
        return float(switches(self.alignment).mean())

    def hedging_share(self) -> float:
        """Share of state-ticks (after the start) whose profile is labelled hedge."""
        return time_share(self.labels(), self.world.labels.index(HEDGE))

    def offers_pct_gdp(self) -> np.ndarray:
        """Mean offer from each pole to each state as % of its GDP, (B, N)."""
        return np.asarray(100.0 * self.offers.mean(axis=0) / self.world.state.gdp_bn)

    def spending(self) -> np.ndarray:
        """Each pole's offers to all states together, US$ bn a year, mean over runs, (B,)."""
        return np.asarray(self.offers.sum(axis=-1).mean(axis=0))

    def credibility_path(self, pole: str) -> np.ndarray:
        """(R, T) ``pole``'s credibility in force at ticks 1..T of each run."""
        if self.credibility is None:
            raise ValueError(f"{self.label}: no credibility recorded")
        return np.asarray(self.credibility[..., self.world.poles.index(pole)])


def run_variant(lesson: Lesson, variant: Variant, seeds: int, ticks: int = TICKS) -> Outcome:
    """Run a lesson's variant for seeds 0..seeds-1 with the batched engine."""
    config = build_config(
        Setup(lesson=lesson.name, ticks=ticks, lessons_dir=str(lesson.folder.parent)), variant
    )
    inputs = RunInputs.from_config(config, compile_world(config))
    result = run_batch(inputs, range(seeds), record="summary")
    assert result.mean_offers is not None
    return Outcome(
        variant.label, inputs.world, result.alignment, result.mean_offers, result.credibility
    )


def variants(lesson: Lesson) -> list[Variant]:
    """The lesson's comparison, or the preset alone if it has none."""
    return lesson.compare or [Variant(label=lesson.title)]


def lesson_figure(lesson: Lesson, outcomes: list[Outcome]) -> Figure:
    """Per variant, from the top: mean record-label shares over time; mean shares of each
    security choice and of each economic choice over time (what a record label hides:
    a state may leave a security bloc and keep its union, or take China as its economic
    partner, and keep its label); where each state ends, its security choice (upper bar)
    and its economic choice (lower bar)."""
    world = outcomes[0].world
    space = world.space
    colors = label_colors(world)
    dimensions = (
        (SECURITY, space.security_options, choice_colors(world, SECURITY)),
        (ECONOMY, space.economic_options, choice_colors(world, ECONOMY)),
    )
    fig = Figure(figsize=(3.6 * len(outcomes) + 1.8, 10.4), dpi=110, layout="constrained")
    axes = fig.subplots(
        4, len(outcomes), squeeze=False, gridspec_kw={"height_ratios": [1, 0.7, 0.7, 1.5]}
    )
    years = np.array([world.year_of_tick(t) for t in range(outcomes[0].alignment.shape[1])])
    rows = np.arange(world.n_states)[::-1]
    for column, outcome in enumerate(outcomes):
        top, *middle, bottom = axes[:, column]
        top.stackplot(
            years, outcome.shares().T, colors=[colors[o] for o in world.labels], alpha=0.9
        )
        for panel, (dimension, options, option_colors) in zip(middle, dimensions, strict=True):
            panel.stackplot(
                years,
                outcome.dimension_shares(dimension).T,
                colors=[option_colors[o] for o in options],
                alpha=0.9,
            )
        for panel in (top, *middle):
            panel.set_xlim(years[0], years[-1])
            panel.set_ylim(0, 1)
            panel.tick_params(labelsize=7)
        top.set_title(outcome.label, fontsize=9)
        for offset, (dimension, options, option_colors) in zip(
            (0.2, -0.2), dimensions, strict=True
        ):
            distribution = outcome.final_dimension_distribution(dimension)
            left = np.zeros(world.n_states)
            for k, option in enumerate(options):
                bottom.barh(
                    rows + offset,
                    distribution[:, k],
                    left=left,
                    color=option_colors[option],
                    height=0.38,
                )
                left += distribution[:, k]
        bottom.set_xlim(0, 1)
        bottom.set_yticks(rows, list(world.state_labels) if column == 0 else [], fontsize=7)
        bottom.tick_params(axis="x", labelsize=7)
        bottom.set_xlabel(f"share of {outcome.n_runs} runs, {quarter(years[-1])}", fontsize=7)
    axes[0, 0].set_ylabel("record label\n(mean share of states)", fontsize=8)
    axes[1, 0].set_ylabel("security choice\n(mean share)", fontsize=8)
    axes[2, 0].set_ylabel("economic choice\n(mean share)", fontsize=8)
    axes[3, 0].set_ylabel(
        "where each state ends\n(upper bar: security,\nlower bar: economy)", fontsize=8
    )
    fig.legend(
        handles=[Patch(color=colors[p], label=p) for p in world.poles]
        + [Patch(color=colors[HEDGE], label=f"{HEDGE}; security {NONE}; economy {OPEN}")],
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
    space = world.space
    runs = outcomes[0].n_runs
    end = quarter(world.year_of_tick(outcomes[0].alignment.shape[1] - 1))
    dimensions = (
        (SECURITY, space.security_options),
        (ECONOMY, space.economic_options),
    )
    choice_names = [f"{d} {o}" for d, options in dimensions for o in options]
    lines = [
        f"# Numbers: {lesson.title}",
        "",
        f"Generated by `python -m alignment_sim.classroom.lessons --figures` from `preset.yaml`: "
        f"{runs} runs (seeds 0-{runs - 1}) of each variant, {quarter(world.year)} to {end}. "
        "Regenerate after changing the model; the lesson's text quotes these numbers.",
        "",
        "## Record labels at the end (mean over runs)",
        "",
        "| variant | " + " | ".join(world.labels) + " | switches per run | time hedging |",
        "|---|" + "---:|" * (len(world.labels) + 2),
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
        "## Each choice at the end (mean share of states)",
        "",
        "| variant | " + " | ".join(choice_names) + " |",
        "|---|" + "---:|" * len(choice_names),
    ]
    for outcome in outcomes:
        cells = [
            _percent(share)
            for dimension, _ in dimensions
            for share in outcome.dimension_shares(dimension)[-1]
        ]
        lines.append(f"| {outcome.label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Where each state ends (share of runs; profile security/economy, record label)",
        "",
        "| state | " + " | ".join(o.label for o in outcomes) + " |",
        "|---|" + "---|" * len(outcomes),
    ]
    for i, label in enumerate(world.state_labels):
        cells = []
        for outcome in outcomes:
            distribution = outcome.final_profiles()[i]
            cells.append(
                ", ".join(
                    f"{world.options[k]} ({space.profile_labels[k]}) {_percent(distribution[k])}"
                    for k in np.argsort(-distribution, kind="stable")
                    if distribution[k] > 0
                )
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Each pole's offers to all states together, US$ bn a year (mean over ticks and runs)",
        "",
        "| variant | " + " | ".join(world.poles) + " |",
        "|---|" + "---:|" * world.n_poles,
    ]
    for outcome in outcomes:
        lines.append(
            f"| {outcome.label} | " + " | ".join(f"{x:.1f}" for x in outcome.spending()) + " |"
        )
    if all(o.credibility is not None for o in outcomes):
        lines += [
            "",
            "## Credibility of each pole: first tick, lowest, last tick (mean over runs)",
            "",
            "| variant | " + " | ".join(world.poles) + " |",
            "|---|" + "---|" * world.n_poles,
        ]
        for outcome in outcomes:
            cells = []
            for pole in world.poles:
                path = outcome.credibility_path(pole)
                first, lowest, last = path[:, 0].mean(), path.min(axis=1).mean(), path[:, -1].mean()
                cells.append(f"{first:.2f}, {lowest:.2f}, {last:.2f}")
            lines.append(f"| {outcome.label} | " + " | ".join(cells) + " |")
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
