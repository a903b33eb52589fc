"""Lesson figures and numbers, made headless from each lesson's comparison.

Each lesson's ``preset.yaml`` lists variants to compare (``compare``). This module runs
every variant over many seeds with the batched engine (the same kernels as the app's
model), then writes next to the lesson ``figure.png`` (mean record-label shares and the
shares of each security and economic choice over time, and where each state ends) and
``numbers.md`` (the numbers the lesson's text quotes). Each claim of the preset
(``claims``; see ``alignment_sim.classroom.claims``) is counted over the same runs, its
count written into ``numbers.md`` and into the README where the text quotes it: a count
``41 of 50<!-- claim:ID -->``, a median ``5 quarters<!-- claim:ID median -->`` and a
spread ``[36 to 44]<!-- claim:ID spread -->`` are rewritten with the measured numbers, so
the text cannot drift from the model::

    python -m alignment_sim.classroom.lessons --figures            # every lesson, 50 seeds
    python -m alignment_sim.classroom.lessons --figures --only buffer_states --seeds 10
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from threadpoolctl import threadpool_limits

from alignment_sim.classroom.claims import END, Claim, LeverMove
from alignment_sim.classroom.classroom import (
    Lesson,
    Setup,
    Variant,
    add_lessons_option,
    available_lessons,
    build_config,
    compile_world,
    lessons_option,
    load_lesson,
    set_levers,
)
from alignment_sim.classroom.drawing import choice_colors, label_colors
from alignment_sim.engine.batch import draw_streams, run_batch, tick_uniforms
from alignment_sim.engine.tick import BatchState, tick_batch
from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.model.alignment import HEDGE, NONE, OPEN
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMY, SECURITY
from alignment_sim.model.world import World, quarter
from alignment_sim.outputs.files import (
    CommandParser,
    atomic_write,
    command_line,
    finish_job,
    os_error_text,
)
from alignment_sim.outputs.provenance import stamp
from alignment_sim.studies.outcomes import (
    final_distribution,
    shares_over_runs,
    switches,
    time_share,
)

DEFAULT_SEEDS = 50
PROG = "alignment-sim-lessons"
DEFAULT_BLOCKS = 120
"""Blocks of DEFAULT_SEEDS seeds over which a claim's spread is counted (seeds 0-5999): the
ranges the lessons' texts quote ("the range over 120 sets of 50 runs")."""
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
        return self.world.labelling.of_profiles(self.alignment)

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
        return float(self.shares()[-1, named("label", label, self.world.labels)])

    def ends(self, state: str, label: str) -> float:
        """Share of runs in which ``state`` ends with record label ``label``."""
        world = self.world
        return float(
            self.final_distribution()[
                named("state", state, world.states), named("label", label, world.labels)
            ]
        )

    def ends_in(self, state: str, dimension: str, option: str) -> float:
        """Share of runs in which ``state`` ends in ``option`` of ``dimension``."""
        _, options = self.choices(dimension)
        distribution = self.final_dimension_distribution(dimension)
        return float(
            distribution[
                named("state", state, self.world.states), named(dimension, option, options)
            ]
        )

    def group_share(
        self,
        states: tuple[str, ...],
        security: str | None = None,
        economy: str | None = None,
    ) -> float:
        """Mean share, over runs, of ``states`` that end with security ``security`` and
        economy ``economy`` (None: any), e.g. Central Asia with security ``russia`` and
        economy ``china``."""
        rows = [named("state", state, self.world.states) for state in states]
        held = np.ones((self.n_runs, len(rows)), dtype=bool)
        for dimension, option in ((SECURITY, security), (ECONOMY, economy)):
            if option is not None:
                chosen, options = self.choices(dimension)
                held &= chosen[:, -1, rows] == named(dimension, option, options)
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
        return np.asarray(self.credibility[..., named("pole", pole, self.world.poles)])


def named(what: str, name: str, names: tuple[str, ...]) -> int:
    """The position of ``name`` among ``names`` (a state, label, pole or option), or a
    ConfigError naming them (it was tuple.index's bare ValueError)."""
    if name in names:
        return names.index(name)
    raise ConfigError(what, name, f"one of {', '.join(names)}", did_you_mean(name, names, 0.8))


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


# --- claims ---------------------------------------------------------------------------------


def run_moved(
    lesson: Lesson, variant: Variant, move: LeverMove, seeds: int, ticks: int = TICKS
) -> tuple[World, np.ndarray]:
    """A variant run for seeds 0..seeds-1 with levers moved after ``move.tick`` ticks, as
    ``ClassroomModel.apply_levers`` does it: the state of each run (choices, credibility,
    expectations, events, random numbers) carries over and the new inputs hold from the
    next tick. Returns the world and the (R, T+1, N) profile indices."""
    setup = Setup(lesson=lesson.name, ticks=ticks, lessons_dir=str(lesson.folder.parent))
    config = build_config(setup, variant)
    if not 0 <= move.tick < ticks:
        raise ConfigError("move.tick", move.tick, f"a tick from 0 to {ticks - 1}")
    before = RunInputs.from_config(config, compile_world(config))
    config = copy.deepcopy(config)  # the inputs hold parts of the config, not copies
    set_levers(config, move.levers, "move.levers")
    config.validate()
    after = RunInputs.from_config(config, compile_world(config))
    world, seed_array = before.world, np.arange(seeds)
    noise, hazards = draw_streams(before, seed_array)
    alignment = np.empty((seeds, ticks + 1, world.n_states), dtype=np.int8)
    alignment[:, 0] = world.initial_alignment
    with threadpool_limits(limits=1, user_api="blas"):
        state = BatchState.initial(before, seeds)
        for tick in range(1, ticks + 1):
            inputs = before if tick <= move.tick else after
            state, out = tick_batch(inputs, state, tick, *tick_uniforms(noise, hazards, tick))
            alignment[:, tick] = out.choice
    return world, alignment


@dataclass(frozen=True)
class ClaimCount:
    """How often a claim held: ``count`` of ``total`` (variant, run, state) cases over the
    lesson's runs (seeds 0..R-1); ``spread``: the least and most counts over blocks of R
    seeds (seeds 0..blocks x R - 1), if counted; for a claim within some ticks of a move
    (or the start), ``median`` ticks (quarters) until it first held, over the cases where
    it did in the lesson's runs (None if none did)."""

    claim: Claim
    count: int
    total: int
    median: float | None = None
    spread: tuple[int, int] | None = None

    @property
    def share(self) -> float:
        return self.count / self.total

    @property
    def holds(self) -> bool:
        return self.claim.holds(self.share)

    @property
    def spread_holds(self) -> bool:
        """Whether the bounds hold in every block too."""
        if self.spread is None:
            return self.holds
        return all(self.claim.holds(count / self.total) for count in self.spread)


def claim_variants(lesson: Lesson, claim: Claim) -> list[Variant]:
    """The variants a claim is counted over: its compare labels (none: the preset), with
    the claim's own levers and ``set`` on top."""
    by_label = {variant.label: variant for variant in lesson.compare}
    bases = [by_label[label] for label in claim.variants] or [Variant(label=lesson.title)]
    return [
        Variant(
            label=base.label,
            scenario=base.scenario,
            decision=base.decision,
            levers={**base.levers, **claim.levers},
            set={**base.set, **claim.set},
        )
        for base in bases
    ]


def claim_tick(world: World, at: str | int, ticks: int, key: str) -> int:
    """The tick a claim's ``at`` names: the last, a tick, or the tick whose quarter (as the
    app shows it, ``explain.quarter``) is the date."""
    if at == END:
        return ticks
    if isinstance(at, int):
        if at > ticks:
            raise ConfigError(key, at, f"a tick from 0 to {ticks}")
        return at
    for tick in range(ticks + 1):
        if quarter(world.year_of_tick(tick)) == at:
            return tick
    first, last = quarter(world.year), quarter(world.year_of_tick(ticks))
    raise ConfigError(key, at, f"a date from {first} to {last}")


def check_claim(world: World, claim: Claim, ticks: int, where: str) -> None:
    """ConfigError for an option, label or date the world does not have (before any run)."""
    space = world.space
    for part, allowed in (
        ("label", world.labels),
        ("security", space.security_options),
        ("economy", space.economic_options),
    ):
        for option in getattr(claim, part):
            if option not in allowed:
                raise ConfigError(f"{where}.{part}", option, f"one of {', '.join(allowed)}")
    claim_tick(world, claim.at, ticks, f"{where}.at")
    start = claim.move.tick if claim.move is not None else 0
    if claim.within is not None and start + claim.within > ticks:
        raise ConfigError(f"{where}.within", claim.within, f"at most {ticks - start} ticks")


def claim_holds(world: World, alignment: np.ndarray, claim: Claim) -> np.ndarray:
    """(R, T+1, S) whether each of the claim's states has the claim's outcome at each tick."""
    space = world.space
    rows = [world.states.index(state) for state in claim.states]
    profiles = alignment[:, :, rows].astype(np.int64)
    labels = world.labelling.of_profiles(alignment)[:, :, rows]
    held = np.ones(profiles.shape, dtype=bool)
    for codes, options, accepted in (
        (labels, world.labels, claim.label),
        (space.profile_security[profiles], space.security_options, claim.security),
        (space.profile_economy[profiles], space.economic_options, claim.economy),
    ):
        if accepted:
            held &= np.isin(codes, [options.index(o) for o in accepted])
    return held


class ClaimRunner:
    """Counts a lesson's claims over seeds 0..seeds-1 (and, for their spread, over
    ``blocks`` blocks of as many seeds), running each world once."""

    def __init__(self, lesson: Lesson, seeds: int, blocks: int = 1, ticks: int = TICKS) -> None:
        self.lesson, self.seeds, self.blocks, self.ticks = lesson, seeds, blocks, ticks
        self._runs: dict[str, tuple[World, np.ndarray]] = {}

    def alignment(self, variant: Variant, move: LeverMove | None) -> tuple[World, np.ndarray]:
        """The world and (R, T+1, N) profiles of every seed of a variant (with a move)."""
        key = repr((variant, move))
        if key not in self._runs:
            runs = self.seeds * self.blocks
            if move is None:
                outcome = run_variant(self.lesson, variant, runs, self.ticks)
                self._runs[key] = (outcome.world, outcome.alignment)
            else:
                self._runs[key] = run_moved(self.lesson, variant, move, runs, self.ticks)
        return self._runs[key]

    def check(self) -> None:
        """ConfigError for any claim the world cannot measure, before anything runs."""
        for claim in self.lesson.claims:
            config = build_config(
                Setup(lesson=self.lesson.name, lessons_dir=str(self.lesson.folder.parent)),
                claim_variants(self.lesson, claim)[0],
            )
            where = f"lesson {self.lesson.name}: claims[{claim.id}]"
            check_claim(compile_world(config), claim, self.ticks, where)

    def count(self, claim: Claim) -> ClaimCount:
        """How often ``claim`` holds over the runs of its variants."""
        cases: list[np.ndarray] = []
        waits: list[np.ndarray] = []
        for variant in claim_variants(self.lesson, claim):
            world, alignment = self.alignment(variant, claim.move)
            held = claim_holds(world, alignment, claim)
            if claim.within is None:
                where = f"claims[{claim.id}].at"
                cases.append(held[:, claim_tick(world, claim.at, self.ticks, where)])
                continue
            start = claim.move.tick if claim.move is not None else 0
            window = held[: self.seeds, start + 1 : start + claim.within + 1]
            waits.append(window.argmax(axis=1)[window.any(axis=1)] + 1)
            cases.append(np.asarray(held[:, start + 1 : start + claim.within + 1].any(axis=1)))
        by_block = np.stack([c.reshape(self.blocks, self.seeds, -1) for c in cases], axis=1)
        counts = by_block.sum(axis=(1, 2, 3))
        wait = np.concatenate(waits) if waits else np.array([])
        return ClaimCount(
            claim,
            int(counts[0]),
            int(by_block[0].size),
            float(np.median(wait)) if wait.size else None,
            (int(counts.min()), int(counts.max())) if self.blocks > 1 else None,
        )

    def counts(self) -> list[ClaimCount]:
        self.check()
        return [self.count(claim) for claim in self.lesson.claims]


def claim_statement(lesson: Lesson, claim: Claim) -> str:
    """A claim in words, for numbers.md (e.g. 'belarus: security none, economy russia at
    the end; balancing (stance +1)')."""
    outcome = "; ".join(
        f"{part} {' or '.join(options)}"
        for part, options in (
            ("label", claim.label),
            ("security", claim.security),
            ("economy", claim.economy),
        )
        if options
    )
    if claim.within is not None:
        when = f"within {claim.within} ticks of " + ("the move" if claim.move else "the start")
    else:
        when = "at the end" if claim.at == END else f"at {claim.at}"
    world = ", ".join(claim.variants) or "the preset"
    changes = {**claim.levers, **claim.set}
    if changes:
        world += " with " + ", ".join(f"{k} {v}" for k, v in changes.items())
    if claim.move is not None:
        moved = ", ".join(f"{k} {v}" for k, v in claim.move.levers.items())
        world += f"; {moved} after tick {claim.move.tick}"
    return f"{', '.join(claim.states)}: {outcome} {when} ({world})"


def claims_table(lesson: Lesson, counts: Sequence[ClaimCount], seeds: int) -> list[str]:
    """The claims section of numbers.md: one row per claim."""
    blocks = next((c.spread for c in counts if c.spread is not None), None)
    lines = [
        "",
        "## Claims the text makes",
        "",
        "Each claim counted over its (variant, run, state) cases; the README quotes these",
        "counts (`N of M<!-- claim:ID -->`), medians and spreads, and the tests check each",
        "count against its bound. The median is the number of quarters after the move (or",
        "the start) until the claim first held, in the runs where it did within its window.",
    ]
    if blocks is not None:
        lines.append(
            f"The spread is the least and most count over blocks of {seeds} seeds "
            "(`alignment-sim-lessons --blocks`)."
        )
    lines += [
        "",
        "| claim | statement | holds in | median quarters | spread | bound | within bound |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for result in counts:
        claim = result.claim
        median = "" if result.median is None else f"{result.median:g}"
        spread = "" if result.spread is None else f"{result.spread[0]} to {result.spread[1]}"
        lines.append(
            f"| {claim.id} | {claim_statement(lesson, claim)} | "
            f"{result.count} of {result.total} | {median} | {spread} | {claim.bounds_text()} | "
            f"{'yes' if result.spread_holds else 'NO'} |"
        )
    return lines


COUNT_TAG = re.compile(r"(\d+) of (\d+)<!-- claim:([a-z0-9_]+) -->")
MEDIAN_TAG = re.compile(r"(\S+) quarters?<!-- claim:([a-z0-9_]+) median -->")
SPREAD_TAG = re.compile(r"\[(\d+) to (\d+)\]<!-- claim:([a-z0-9_]+) spread -->")


def quote_counts(text: str, counts: Sequence[ClaimCount], where: str = "README.md") -> str:
    """``text`` with every tagged count and median replaced by the measured one
    (ConfigError for a tag naming no claim, or a median of a claim that has none)."""
    by_id = {result.claim.id: result for result in counts}

    def count(match: re.Match[str]) -> str:
        result = by_id.get(match.group(3))
        if result is None:
            raise ConfigError(f"{where}: claim tag", match.group(3), "a claim id of the preset")
        return f"{result.count} of {result.total}<!-- claim:{result.claim.id} -->"

    def median(match: re.Match[str]) -> str:
        result = by_id.get(match.group(2))
        if result is None or result.median is None:
            raise ConfigError(
                f"{where}: median tag", match.group(2), "a claim with 'within' that holds"
            )
        unit = "quarter" if result.median == 1 else "quarters"
        return f"{result.median:g} {unit}<!-- claim:{result.claim.id} median -->"

    def spread(match: re.Match[str]) -> str:
        result = by_id.get(match.group(3))
        if result is None:
            raise ConfigError(f"{where}: spread tag", match.group(3), "a claim id of the preset")
        if result.spread is None:  # counted without blocks: keep the text's spread
            return match.group(0)
        low, high = result.spread
        return f"[{low} to {high}]<!-- claim:{result.claim.id} spread -->"

    text = COUNT_TAG.sub(count, text)
    return SPREAD_TAG.sub(spread, MEDIAN_TAG.sub(median, text))


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


def lesson_numbers(
    lesson: Lesson, outcomes: list[Outcome], counts: Sequence[ClaimCount] = ()
) -> str:
    """The numbers behind a lesson's text, as markdown tables (its claims first)."""
    world = outcomes[0].world
    space = world.space
    runs = outcomes[0].n_runs
    dimensions = (
        (SECURITY, space.security_options),
        (ECONOMY, space.economic_options),
    )
    choice_names = [f"{d} {o}" for d, options in dimensions for o in options]
    lines = [
        f"# Numbers: {lesson.title}",
        "",
        f"Generated by `python -m alignment_sim.classroom.lessons --figures` from `preset.yaml`: "
        f"{runs} runs (seeds 0-{runs - 1}) of each variant, "
        f"{world.quarters_covered(outcomes[0].alignment.shape[1] - 1)}. "
        "Regenerate after changing the model; the lesson's text quotes these numbers.",
        *(claims_table(lesson, counts, runs) if counts else []),
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
                    f"{world.options[k]} ({world.labelling.label(i, k)}) "
                    f"{_percent(distribution[k])}"
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


def make_lesson(
    lesson: Lesson, seeds: int, blocks: int = 1, out: Path | None = None, command: str = ""
) -> tuple[Path, Path, list[ClaimCount]]:
    """Run a lesson's comparison and count its claims (their spread over ``blocks`` blocks
    of ``seeds`` seeds); write its figure.png and numbers.md and the counts its README
    quotes (all, or none when something fails). With ``out``, figure.png and numbers.md go
    to ``out / lesson.name``, with a ``manifest.json`` (the package's stamp, the command,
    the lesson, its seeds and blocks, checksums), and the lesson's folder, its README
    included, is left as it is: its text speaks of its own runs. The published lessons
    get no manifest: they are regenerated byte for byte, so another size than their own
    needs ``out`` (a ConfigError: it would rewrite a published lesson's numbers)."""
    if out is None and (seeds, blocks) != (DEFAULT_SEEDS, DEFAULT_BLOCKS):
        raise ConfigError(
            "seeds",
            seeds,
            f"{DEFAULT_SEEDS} seeds in {DEFAULT_BLOCKS} blocks, the published lessons' own, "
            "without out",
            f"A lesson's own files quote {DEFAULT_SEEDS} runs and ranges over "
            f"{DEFAULT_BLOCKS} blocks; give out=DIR to write another size there.",
        )
    runner = ClaimRunner(lesson, seeds, blocks)
    runner.check()
    results = [run_variant(lesson, variant, seeds) for variant in variants(lesson)]
    counts = runner.counts()
    folder = lesson.folder if out is None else out / lesson.name
    folder.mkdir(parents=True, exist_ok=True)
    figure_path = folder / "figure.png"
    numbers_path = folder / "numbers.md"
    readme_path = lesson.folder / "README.md"
    readme = readme_path.read_text() if out is None and readme_path.exists() else None
    quoted = quote_counts(readme, counts, str(readme_path)) if readme is not None else None
    with (
        atomic_write(figure_path) as figure,
        atomic_write(numbers_path, "w") as numbers,
    ):
        lesson_figure(lesson, results).savefig(figure, format="png")
        numbers.write(lesson_numbers(lesson, results, counts))
    if quoted is not None and quoted != readme:
        with atomic_write(readme_path, "w") as text:
            text.write(quoted)
    if out is not None:
        made = {**stamp(), "study": "lesson", "lesson": lesson.name, "seeds": seeds}
        made.update(blocks=blocks, command=command or f"{PROG} --figures --out {out}")
        finish_job(folder, made, [figure_path.name, numbers_path.name])
    return figure_path, numbers_path, counts


def main(argv: list[str] | None = None) -> int:
    """Regenerate the lessons' figures and numbers (``--figures``)."""
    parser = CommandParser(
        prog=PROG,
        description="List the lessons, or (--figures) regenerate each lesson's figure.png, "
        "numbers.md and the counts its README quotes, headless.",
        epilog="Exit status: 0 done; 2 bad input; 3 a claim of a lesson outside the bounds "
        "its preset gives (each named on stderr; the files are written all the same).",
    )
    parser.add_argument(
        "--figures", action="store_true", help="write figures and numbers (without: list)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        help=f"runs per variant (default {DEFAULT_SEEDS}, the lessons' own; another needs --out)",
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=DEFAULT_BLOCKS,
        help="blocks of --seeds seeds over which each claim's spread is counted (default "
        f"{DEFAULT_BLOCKS}, the lessons' own; 1: none; another needs --out)",
    )
    parser.add_argument("--only", action="append", default=None, help="a lesson name (repeat)")
    add_lessons_option(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write each lesson's figure.png and numbers.md to OUT/<lesson> and leave the "
        "lessons as they are (needed with another --seeds or --blocks)",
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: expected a whole number >= 1")
    if args.blocks < 1:
        parser.error(f"--blocks {args.blocks}: expected a whole number >= 1")
    own = (args.seeds, args.blocks) == (DEFAULT_SEEDS, DEFAULT_BLOCKS)
    if args.figures and args.out is None and not own:
        parser.error(
            f"--seeds {args.seeds} --blocks {args.blocks}: a lesson's own files quote "
            f"{DEFAULT_SEEDS} runs and ranges over {DEFAULT_BLOCKS} blocks; give --out DIR to "
            "write another size there, leaving the lessons as they are"
        )
    folder = lessons_option(parser, args.lessons)
    if folder is None:
        parser.error("no lessons folder found: give --lessons DIR")
    names = args.only or available_lessons(folder)
    outside = []
    try:
        lessons = [load_lesson(name, folder) for name in names]
        if not args.figures:
            for lesson in lessons:
                print(f"{lesson.name}: {lesson.title}")
            return 0
        for lesson in lessons:
            figure, numbers, counts = make_lesson(
                lesson, args.seeds, args.blocks, args.out, command_line(PROG, argv)
            )
            print(f"{lesson.name}: wrote {figure} and {numbers}")
            outside += [
                f"{lesson.name}: claim {c.claim.id} holds in {c.count} of {c.total}, "
                f"expected {c.claim.bounds_text()}"
                for c in counts
                if not c.holds
            ]
    except ConfigError as exc:
        print(f"alignment-sim-lessons: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"alignment-sim-lessons: {os_error_text(exc)}", file=sys.stderr)
        return 1
    for line in outside:
        print(f"alignment-sim-lessons: {line}", file=sys.stderr)
    return 3 if outside else 0


if __name__ == "__main__":
    raise SystemExit(main())
