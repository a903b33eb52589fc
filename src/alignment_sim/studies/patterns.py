"""The eight patterns (docs/ODD.md, section 1) as statements about BEHAVIOUR: who aligns where,
and how often.

A pattern is measured on what the choosers (and, for pattern 1, the poles' spending rule)
do -- record labels (russia, china, west, hedge), security and economic options, switches
-- never on the parameter the scenario's events edit (the old circular checks of protection
and threat terms are mechanism unit tests in tests/test_patterns.py). Every scenario runs
against its baseline over the same seeds (common random numbers) through the batched
engine. Patterns 4 and 5 and the Ukraine check are measured at their historical dates: the
``history`` scenario from 2000 in the calendar world, against the same scenario with the
events in question dropped (``counterfactual``). The runs' own labels are measured, at the
end of each calendar year (``outcomes.yearly_labels``); the alignment record is read for one
thing only, pattern 6's yardstick (``record_stability``: how stable the record's own decades
were, 1993-2010, never after 2010).

Each ``pattern_*`` takes ``runs`` (variant name -> ``BatchResult``, ``VARIANTS``) and returns
``PatternResult`` records. ``alignment-sim-patterns`` prints the table and
a JSON summary line; ``studies/robustness.py`` evaluates the same functions at many
parameter points.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from alignment_sim import paths
from alignment_sim.engine.batch import BatchResult, Record, run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model import kernels
from alignment_sim.model.calendar import RECORD_LAST_YEAR, record_labels
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import (
    EventSpec,
    ScenarioSpec,
    SimulationConfig,
    check_seeds,
    check_whole,
    parse_event_date,
)
from alignment_sim.outputs.files import (
    MANIFEST,
    CommandParser,
    as_typed,
    atomic_folder,
    check_replaceable,
    command_errors,
    command_line,
    finish_job,
    timestamped_folder,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.presets import default_config, load_region, load_scenario
from alignment_sim.studies import outcomes

PROG = "alignment-sim-patterns"
FILES = ("patterns.csv", "patterns.md")
"""What the command writes into its folder, besides ``manifest.json``."""
SEEDS = 200
TICKS = 40
"""Ticks of the static (2015) runs: ten years of quarters."""
FIRST_SEED = 0
CENTRAL_ASIA = ("kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan", "turkmenistan")
HISTORY_FIRST_YEAR = 2000
HISTORY_LAST_YEAR = 2013
"""The history runs cover 2000-2013 (the issue's span for Ukraine's non-bloc course); the
model's own labels are measured, never the record (which ends in 2010)."""
HISTORY_WINDOW = (2006, 2010)
"""Years in which patterns 4 and 5 read the outcome of the 2003-2005 events."""
CRISIS_KINDS = ("war", "war_with_russia", "regime_change")
"""Event kinds of a crisis window (pattern 6): wars and revolutions."""

# Criteria, stated before measuring (units: shares of runs or of state-ticks).
STAYS = 0.9
"""Share of runs a state must keep a label or a security option to 'stay' (1, 3)."""
ARMENIA_STAYS = 0.95
OFFER_RISE = 1.05
"""Russia's offer to Belarus must rise by at least 5% (1)."""
COMMITMENT_FALL = 0.05
"""Full commitment among Russia's security partners down by >= 0.05: one of its five
partners for a quarter of the run (2)."""
ALLIANCE_FALL = 0.05
"""Russia's partners' state-ticks in its alliance down by < 0.05 (2): they stay in the
formats ("within multilateral formats", 002); less than full commitment must fall."""
WEST_DRIFT = 0.02
"""West-labelled state-ticks up by < 0.02: no wholesale Western drift (2)."""
CHINA_ECONOMY_RISE = 0.10
"""Central Asian state-ticks with economy china up by >= 0.10: half the run of one of five (3)."""
HISTORY_EFFECT = 0.10
"""P(label) in 2006-2010 with the events minus without them, >= 0.10 (4, 5)."""
RECORD_SETTLED = 1993
"""The first year-end by which every chooser had taken up the alignment it held into the
2000s (the record: Belarus joined the CST, Georgia and Azerbaijan the CIS, in 1993; in
1991-1992 the record's labels are independence settling, not reorientation). Pattern 6's
yardstick is the record's decades from here to ``RECORD_LAST_YEAR``."""
CRISIS_RATIO = 1.5
"""Label changes per state-year (year-ends) in crisis state-years >= 1.5 x the rest (6)."""
SECURITY_RISE = 0.02
"""Central Asian state-ticks with security russia up by >= 0.02: one of five states for a
tenth of the run (8)."""
MOST_RUNS = 0.5
"""'Most runs' (Ukraine)."""


@dataclass(frozen=True)
class PatternResult:
    """One check of one pattern: what was measured, in the baseline and the scenario.

    ``direction``: the sign the text gives the effect (scenario minus baseline) for a
    check that asks an effect of a size: +1 (the scenario raises the measure), -1 (lowers
    it); 0 for a level or a bound. The size asked is a judgement; the direction is the
    text's (docs/ODD.md, 1.5). ``relative``: the size is asked of the ratio (scenario over
    baseline, minus 1), not of the difference."""

    pattern: str
    scenario: str
    measure: str
    baseline: float | None
    value: float
    criterion: str
    passed: bool
    direction: int = 0
    relative: bool = False

    @property
    def effect(self) -> float | None:
        """Scenario minus baseline; None for a check with no baseline."""
        return None if self.baseline is None else self.value - self.baseline


@dataclass(frozen=True)
class SeedBlock:
    """The runs that measure each scenario: ``seeds`` seeds from ``first``; static runs are
    ``ticks`` long, history runs cover ``HISTORY_FIRST_YEAR``-``HISTORY_LAST_YEAR``."""

    first: int = FIRST_SEED
    seeds: int = SEEDS
    ticks: int = TICKS

    def __post_init__(self) -> None:
        """Refuse a block no study can run (ConfigError naming the field): at least one
        seed and one tick, seeds whole, >= 0 and within int64."""
        for name in ("seeds", "ticks"):
            check_whole(name, getattr(self, name), 1, None, "a whole number >= 1")
        check_seeds(self.first, self.seeds, "first_seed")


DEFAULT_BLOCK = SeedBlock()


@dataclass(frozen=True)
class ParameterPoint:
    """The parameter values every variant runs at: (path, value) pairs set on each
    variant's configuration (``paths.with_values``, validated); none: the defaults. The
    robustness study varies many points per run (``studies/points.py``); this is one point
    for the pattern table (``--set``)."""

    values: tuple[tuple[str, float], ...] = ()


DEFAULTS = ParameterPoint()
Runs = Callable[[str], BatchResult]
"""The runs of a variant, by name (``VARIANTS``), all over the same seeds."""


# --- the runs ---------------------------------------------------------------------------


def _dated_in(event: EventSpec, first: int, last: int) -> bool:
    return event.date is not None and first <= parse_event_date("date", event.date).year <= last


def drops_uzbek_conditionality(event: EventSpec) -> bool:
    """The Western conditionality and base events on Uzbekistan dated 2004-2005 (004)."""
    return (
        event.kind.startswith("western")
        and "uzbekistan" in event.targets
        and _dated_in(event, 2004, 2005)
    )


def drops_rose_revolution(event: EventSpec) -> bool:
    """The Rose Revolution: Georgia's 2003 regime change (001)."""
    return (
        event.kind == "regime_change"
        and "georgia" in event.targets
        and _dated_in(event, 2003, 2003)
    )


@dataclass(frozen=True)
class Variant:
    """One set of runs: a scenario preset, in the static 2015 world or (``history``) the
    calendar world from 2000 with the events ``drop`` selects removed; ``record`` is
    what the engine keeps (pattern 1 needs the mean offers of "summary")."""

    scenario: str
    history: bool = False
    drop: Callable[[EventSpec], bool] | None = None
    record: Record = "minimal"


VARIANTS: dict[str, Variant] = {
    "baseline": Variant("baseline", record="summary"),
    "western_engagement": Variant("western_engagement", record="summary"),
    "russia_recession": Variant("russia_recession"),
    "china_expansion": Variant("china_expansion"),
    "afghan_spillover": Variant("afghan_spillover"),
    "history": Variant("history", history=True),
    "history_without_uzbek_conditionality": Variant(
        "history", history=True, drop=drops_uzbek_conditionality
    ),
    "history_without_rose_revolution": Variant("history", history=True, drop=drops_rose_revolution),
}


def counterfactual(scenario: ScenarioSpec, drop: Callable[[EventSpec], bool]) -> ScenarioSpec:
    """``scenario`` without the events ``drop`` selects (ValueError if it selects none)."""
    kept = [event for event in scenario.events if not drop(event)]
    if len(kept) == len(scenario.events):
        raise ValueError(f"no event of scenario {scenario.name!r} is selected by {drop.__name__}")
    return dataclasses.replace(scenario, events=kept)


@cache
def dropped_labels(name: str) -> tuple[str, ...]:
    """The labels of the events variant ``name`` drops from its scenario."""
    variant = VARIANTS[name]
    assert variant.drop is not None, name
    events = load_scenario(variant.scenario).events
    return tuple(e.label or e.kind for e in events if variant.drop(e))


def history_ticks(tick_months: int) -> int:
    """Ticks from 1 January ``HISTORY_FIRST_YEAR`` to the end of ``HISTORY_LAST_YEAR``."""
    return (HISTORY_LAST_YEAR - HISTORY_FIRST_YEAR + 1) * 12 // tick_months


def variant_config(
    name: str, block: SeedBlock, point: ParameterPoint = DEFAULTS
) -> SimulationConfig:
    """The configuration variant ``name`` runs (the seeds are the block's) at ``point``
    (a ConfigError names an unknown variant and lists the variants)."""
    if name not in VARIANTS:
        raise ConfigError("variant", name, f"a variant of the patterns: {', '.join(VARIANTS)}")
    variant = VARIANTS[name]
    if not variant.history:
        config = default_config(scenario=variant.scenario, ticks=block.ticks)
    else:
        scenario = load_scenario(variant.scenario)
        if variant.drop is not None:
            scenario = counterfactual(scenario, variant.drop)
        region = load_region()
        region.year, region.calendar = HISTORY_FIRST_YEAR, True
        ticks = history_ticks(region.tick_months)
        config = default_config(region=region, scenario=scenario, ticks=ticks)
    return paths.with_values(config, dict(point.values)) if point.values else config


def variant_inputs(name: str, block: SeedBlock, point: ParameterPoint = DEFAULTS) -> RunInputs:
    return RunInputs.from_config(variant_config(name, block, point))


def simulate(
    name: str, block: SeedBlock = DEFAULT_BLOCK, point: ParameterPoint = DEFAULTS
) -> BatchResult:
    """The runs of variant ``name`` over the seeds of ``block`` at ``point``, simulated
    once and kept: each call returns a copy of the kept runs, so a caller's edit of one
    reaches no other (a ConfigError names an unknown variant: ``variant_config``)."""
    kept = _simulate(name, block, point)
    shared = {id(kept.inputs): kept.inputs, id(kept.inputs.world): kept.inputs.world}
    return copy.deepcopy(kept, shared)  # the arrays copied, the inputs and world shared


@cache
def _simulate(name: str, block: SeedBlock, point: ParameterPoint) -> BatchResult:
    seeds = range(block.first, block.first + block.seeds)
    return run_batch(variant_inputs(name, block, point), seeds, record=VARIANTS[name].record)


def simulated(block: SeedBlock = DEFAULT_BLOCK, point: ParameterPoint = DEFAULTS) -> Runs:
    """Runs of every variant over ``block`` at ``point``, simulated when first asked for."""
    return lambda name: simulate(name, block, point)


SET_PATHS = (
    "PATH=NUMBER with PATH a parameter of the model: weights.<term>, dynamics.<name>, "
    "decision.rationality, region.poles.<pole>.<field> or region.states.<state>.<field> "
    "(the table sets its own seeds, ticks, years and scenarios)"
)


def is_model_parameter(path: str) -> bool:
    """Whether ``path`` names a parameter of the model (``SET_PATHS``), not a setting of the
    runs (seed, ticks, the region's year) that the pattern table makes itself."""
    try:
        section = paths.parse(path).section
    except ConfigError:
        return False
    sections = ("weights", "dynamics", "region.poles", "region.states")
    return section in sections or path == "decision.rationality"


def parse_point(assignments: Sequence[str]) -> ParameterPoint:
    """``PATH=NUMBER`` strings (``--set``) as a point, each path checked on every variant's
    configuration before anything runs: a ConfigError names the path and the value."""
    values = []
    for assignment in assignments:
        path, equals, text = assignment.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not equals or not path or not math.isfinite(value):
            raise ConfigError(
                "--set", assignment, "PATH=NUMBER, e.g. decision.rationality=3 (a finite number)"
            )
        path = path.strip()
        if not is_model_parameter(path):
            try:
                paths.parse(path)
                hint = ""
            except ConfigError as exc:
                hint = exc.hint  # a misspelled field: the closest one
            raise ConfigError("--set", assignment, SET_PATHS, hint)
        values.append((path, value))
    point = ParameterPoint(tuple(values))
    for name in VARIANTS:
        variant_config(name, SeedBlock(seeds=1), point)
    return point


# --- measures on code arrays (R, T+1, N): labels or one dimension's options --------------


def options_of(result: BatchResult, dimension: str) -> np.ndarray:
    """(R, T+1, N) option codes of one dimension ("security" or "economy")."""
    return outcomes.dimension_codes(result.alignment, result.inputs.world.space, dimension)


def state_tick_share(codes: np.ndarray, code: int, columns: Sequence[int] | None = None) -> float:
    """Share of state-ticks after the start (ticks 1..T of every run) holding ``code``, over
    the state columns ``columns`` (every state when None)."""
    after = codes[:, 1:]
    if columns is not None:
        after = after[..., list(columns)]
    return float((after == code).mean())


def final_share(codes: np.ndarray, column: int, code: int) -> float:
    """Share of runs in which state ``column`` holds ``code`` at the last tick."""
    return float((codes[:, -1, column] == code).mean())


def year_end_changes(
    codes: np.ndarray, start_year: int, tick_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """Changes as a yearly record sees them: (years (Y,), changes (R, Y, N)), whether each
    state's code at the end of each covered year differs from the one before (the start
    for the first year). A change and its reversal within a year are not seen."""
    years, yearly = outcomes.yearly_options(codes, start_year, tick_months)
    ends = np.concatenate([codes[:, :1], yearly], axis=1)
    return years, np.asarray(ends[:, 1:] != ends[:, :-1])


@dataclass(frozen=True)
class Stability:
    """How rare reorientations are, as a yearly record shows them: label changes per
    state-year, and the share of states whose label never changes."""

    rate: float
    never: float

    @staticmethod
    def of(changes: np.ndarray) -> Stability:
        """From (..., Y, N) yearly changes; ``never`` is over the states (and runs)."""
        return Stability(float(changes.mean()), float((~changes.any(axis=-2)).mean()))


@cache
def record_stability(states: tuple[str, ...], years: int) -> tuple[Stability, ...]:
    """Each window of ``years`` years of the alignment record (``states`` by their record
    names) from the year-end ``RECORD_SETTLED`` to ``RECORD_LAST_YEAR``: the record's own
    decades, pattern 6's yardstick (1993-2003 ... 2000-2010: 0.036 to 0.064 changes per
    state-year, 8 or 9 of the 11 choosers never changing). ValueError when the record's
    years hold no such window."""
    if years > RECORD_LAST_YEAR - RECORD_SETTLED:
        raise ValueError(
            f"pattern 6 compares a run's years with the record's: {years} years is longer "
            f"than the record from {RECORD_SETTLED} to {RECORD_LAST_YEAR}"
        )
    labels = np.array(
        [
            [record_labels(year)[state] for state in states]
            for year in range(RECORD_SETTLED, RECORD_LAST_YEAR + 1)
        ]
    )
    changes = labels[1:] != labels[:-1]  # (Y, N)
    return tuple(
        Stability.of(changes[first : first + years]) for first in range(len(changes) - years + 1)
    )


def year_end_codes(
    codes: np.ndarray, start_year: int, tick_months: int, first: int, last: int
) -> np.ndarray:
    """(R, last - first + 1, N) codes at the end of each year ``first``..``last``
    (``outcomes.yearly_options``); ValueError when the run does not cover them."""
    years, yearly = outcomes.yearly_options(codes, start_year, tick_months)
    wanted = np.arange(first, last + 1)
    if not np.isin(wanted, years).all():
        raise ValueError(f"the runs cover {years.min()}-{years.max()}, not {first}-{last}")
    return np.asarray(yearly[:, np.searchsorted(years, wanted)])


def yearly_share(
    codes: np.ndarray, start_year: int, tick_months: int, column: int, code: int, years: tuple
) -> float:
    """P(state ``column`` holds ``code`` at a year's end), averaged over ``years`` (first,
    last) and runs."""
    ends = year_end_codes(codes, start_year, tick_months, *years)
    return float((ends[..., column] == code).mean())


def always_share(
    codes: np.ndarray, start_year: int, tick_months: int, column: int, code: int, years: tuple
) -> float:
    """Share of runs in which state ``column`` holds ``code`` at the end of every year of
    ``years`` (first, last)."""
    ends = year_end_codes(codes, start_year, tick_months, *years)
    return float((ends[..., column] == code).all(axis=1).mean())


def crisis_cells(
    events: Sequence[EventSpec], states: Sequence[str], years: np.ndarray, kinds: Sequence[str]
) -> np.ndarray:
    """(Y, N): True where state n is the target of a dated event of one of ``kinds`` in
    force in year y (from its date's year to its ``until`` year; for good without one)."""
    cells = np.zeros((len(years), len(states)), dtype=bool)
    for event in events:
        if event.kind not in kinds or event.date is None:
            continue
        first = parse_event_date("date", event.date).year
        last = parse_event_date("until", event.until).year if event.until else int(years.max())
        in_force = (years >= first) & (years <= last)
        for target in event.targets:
            if target in states:
                cells[in_force, list(states).index(target)] = True
    return cells


def rates_in_and_out(changes: np.ndarray, cells: np.ndarray) -> tuple[float, float]:
    """Mean changes per state-year (over runs) inside the ``cells`` (Y, N) and outside;
    ``changes`` (R, Y, N), as ``year_end_changes`` gives them."""
    per_cell = changes.mean(axis=0)  # (Y, N)
    inside = float(per_cell[cells].mean()) if cells.any() else float("nan")
    outside = float(per_cell[~cells].mean()) if (~cells).any() else float("nan")
    return inside, outside


def editing_changes(result: BatchResult, pole: str, state: str) -> list[str]:
    """The scenario's changes to what sets ``pole``'s offer to ``state`` (its budget and
    leverage, its focus on the state, a pledge to it), as "param" names: none means the
    offer is the pole's behaviour under the spending rule, not the scenario's input."""
    world = result.inputs.world
    b, i = world.poles.index(pole), world.states.index(state)
    found = []
    for change in result.inputs.program.changes:
        on_pole = change.table == "pole" and change.param in ("budget_bn", "leverage")
        on_pair = change.table == "pair" and change.param in ("focus", "pledge_bn")
        on_pair = on_pair and i in change.state_index
        if b in change.pole_index and (on_pole or on_pair):
            found.append(change.param)
    return found


def _check(
    pattern: str,
    scenario: str,
    measure: str,
    base: float | None,
    value: float,
    criterion: str,
    ok: bool,
    direction: int = 0,
    relative: bool = False,
) -> PatternResult:
    rounded = None if base is None else round(base, 4)
    value = round(value, 4)
    return PatternResult(
        pattern, scenario, measure, rounded, value, criterion, bool(ok), direction, relative
    )


def _columns(result: BatchResult, states: Sequence[str]) -> list[int]:
    return [result.inputs.world.states.index(s) for s in states]


# --- the patterns -----------------------------------------------------------------------


def pattern_1(runs: Runs) -> list[PatternResult]:
    """Belarus stays in the Russia-led bloc but extracts more once a Western offer appears
    (000, 003): its label, and Russia's offer from the spending rule."""
    base, offer = runs("baseline"), runs("western_engagement")
    world = base.inputs.world
    belarus, russia = world.states.index("belarus"), world.poles.index("russia")
    label = world.labels.index("russia")
    stay_b, stay_s = (
        final_share(base.labels(), belarus, label),
        final_share(offer.labels(), belarus, label),
    )
    assert base.mean_offers is not None and offer.mean_offers is not None
    offer_b = float(base.mean_offers[:, russia, belarus].mean())
    offer_s = float(offer.mean_offers[:, russia, belarus].mean())
    edits = editing_changes(offer, "russia", "belarus")
    return [
        _check(
            "1",
            "western_engagement",
            "P(Belarus Russia-labelled at the end)",
            stay_b,
            stay_s,
            f">= {STAYS} in both",
            stay_b >= STAYS and stay_s >= STAYS,
        ),
        _check(
            "1",
            "western_engagement",
            "Russia's offer to Belarus (spending rule), US$ bn a year",
            offer_b,
            offer_s,
            f"up by >= {OFFER_RISE - 1:.0%}",
            offer_s >= OFFER_RISE * offer_b,
            direction=1,
            relative=True,
        ),
        _check(
            "1",
            "western_engagement",
            "scenario edits of Russia's budget, leverage, focus or pledge on Belarus"
            + (f" ({', '.join(edits)})" if edits else ""),
            None,
            float(len(edits)),
            "none: the offer is Russia's behaviour",
            not edits,
        ),
    ]


def full_commitment(result: BatchResult, pole: str) -> float:
    """Among the state-ticks (after the start) in ``pole``'s security bloc, the share also
    in its economic union: full commitment, as against independence within the formats."""
    space = result.inputs.world.space
    b = result.inputs.world.poles.index(pole)
    security, economy = options_of(result, "security")[:, 1:], options_of(result, "economy")[:, 1:]
    in_bloc = security == space.security_options.index(pole)
    return float((in_bloc & (economy == b)).sum() / max(int(in_bloc.sum()), 1))


def starting_partners(result: BatchResult, pole: str) -> list[int]:
    """The state columns aligned with ``pole`` in either dimension at the start (tick 0 of
    the first run; every run of a variant starts from the same profiles), by the
    membership the poles' offers follow (``kernels.pole_members``)."""
    world = result.inputs.world
    start = result.alignment[:1, 0].astype(np.int64)
    members = kernels.pole_members(
        world.space.profile_security[start],
        world.space.profile_economy[start],
        world.security_poles,
        world.n_poles,
    )
    return [int(i) for i in np.flatnonzero(members[0, world.poles.index(pole)])]


def pattern_2(runs: Runs) -> list[PatternResult]:
    """A Russian recession makes partners more independent "within multilateral formats"
    (002: Russia's shrinking means to subsidise "prompts greater independence of the
    partner states within multilateral formats ... and encourages them to pursue their own
    agendas"): less full commitment among Russia's security partners, while the partners
    it had at the start stay in its alliance, and no wholesale Western drift ("global
    political and economic conditions diminish the chances of relying on players outside
    the region", 002). The alliance is measured over the states aligned with Russia at the
    start, the text's subject."""
    base, rec = runs("baseline"), runs("russia_recession")
    world = base.inputs.world
    west = world.labels.index("west")
    lb, lr = base.labels(), rec.labels()
    full_b, full_r = full_commitment(base, "russia"), full_commitment(rec, "russia")
    west_b, west_r = state_tick_share(lb, west), state_tick_share(lr, west)
    partners = starting_partners(base, "russia")
    alliance = world.space.security_options.index("russia")
    ally_b, ally_r = (
        state_tick_share(options_of(run, "security"), alliance, partners) for run in (base, rec)
    )
    return [
        _check(
            "2",
            "russia_recession",
            "Russia's security partners also in its union (share of their state-ticks)",
            full_b,
            full_r,
            f"down by >= {COMMITMENT_FALL}",
            full_b - full_r >= COMMITMENT_FALL,
            direction=-1,
        ),
        _check(
            "2",
            "russia_recession",
            "Russia's partners at the start in its alliance (share of their state-ticks; "
            + ", ".join(world.states[i] for i in partners)
            + ")",
            ally_b,
            ally_r,
            f"down by < {ALLIANCE_FALL}",
            ally_b - ally_r < ALLIANCE_FALL,
        ),
        _check(
            "2",
            "russia_recession",
            "share of state-ticks West-labelled",
            west_b,
            west_r,
            f"up by < {WEST_DRIFT}",
            west_r - west_b < WEST_DRIFT,
        ),
    ]


def pattern_3(runs: Runs) -> list[PatternResult]:
    """Central Asia balances: a bigger Chinese offer moves its ECONOMIC alignment while
    Russia keeps the SECURITY role (001, 000)."""
    base, china = runs("baseline"), runs("china_expansion")
    space = base.inputs.world.space
    region = _columns(base, CENTRAL_ASIA)
    to_china = space.economic_options.index("china")
    with_russia = space.security_options.index("russia")
    eco_b = state_tick_share(options_of(base, "economy"), to_china, region)
    eco_c = state_tick_share(options_of(china, "economy"), to_china, region)
    security = options_of(china, "security")
    security_b = options_of(base, "security")
    checks = [
        _check(
            "3",
            "china_expansion",
            "Central Asian state-ticks with economy china",
            eco_b,
            eco_c,
            f"up by >= {CHINA_ECONOMY_RISE}",
            eco_c - eco_b >= CHINA_ECONOMY_RISE,
            direction=1,
        )
    ]
    for state in ("kyrgyzstan", "tajikistan"):
        i = base.inputs.world.states.index(state)
        stay_b, stay_c = (
            final_share(security_b, i, with_russia),
            final_share(security, i, with_russia),
        )
        checks.append(
            _check(
                "3",
                "china_expansion",
                f"P({state.capitalize()} security russia at the end)",
                stay_b,
                stay_c,
                f">= {STAYS}",
                stay_c >= STAYS,
            )
        )
    return checks


def _history_effect(
    pattern: str, runs: Runs, without: str, state: str, label: str, what: str
) -> PatternResult:
    """P(``state`` labelled ``label``) at the year-ends of ``HISTORY_WINDOW``, in the
    history run against the same run without the events of variant ``without``."""
    with_events, counter = runs("history"), runs(without)
    world = with_events.inputs.world
    column, code = world.states.index(state), world.labels.index(label)
    measured = [
        yearly_share(r.labels(), world.year, world.tick_months, column, code, HISTORY_WINDOW)
        for r in (counter, with_events)
    ]
    first, last = HISTORY_WINDOW
    return _check(
        pattern,
        "history",
        f"P({state.capitalize()} {label}-labelled), year-ends {first}-{last}: "
        f"without vs with {what} ({'; '.join(dropped_labels(without))})",
        measured[0],
        measured[1],
        f"up by >= {HISTORY_EFFECT}",
        measured[1] - measured[0] >= HISTORY_EFFECT,
        direction=1,
    )


def pattern_4(runs: Runs) -> list[PatternResult]:
    """Western conditionality with little aid pushes autocracies away from the West, as in
    Uzbekistan's 2004-2005 turn (004): measured at its date."""
    return [
        _history_effect(
            "4",
            runs,
            "history_without_uzbek_conditionality",
            "uzbekistan",
            "russia",
            "the 2004-05 Western conditionality and base events",
        )
    ]


def pattern_5(runs: Runs) -> list[PatternResult]:
    """A colour revolution moves that state West (001): Georgia after the Rose Revolution.
    (That it raises Russian pressure is an input of the event: a mechanism unit test.)"""
    return [
        _history_effect(
            "5", runs, "history_without_rose_revolution", "georgia", "west", "the Rose Revolution"
        )
    ]


@cache
def history_events() -> tuple[EventSpec, ...]:
    return tuple(load_scenario(VARIANTS["history"].scenario).events)


@cache
def record_names() -> tuple[str, ...]:
    """The choosers' names in the alignment record (``attribute_state``), read once."""
    return tuple(s.attribute_state for s in load_region().states)


def pattern_6(runs: Runs) -> list[PatternResult]:
    """Reorientations are rare: long stable spells, broken in crisis windows (002)."""
    base, history = runs("baseline"), runs("history")
    world = base.inputs.world
    _, changes = year_end_changes(base.labels(), world.year, world.tick_months)
    run = Stability.of(changes)
    years = changes.shape[1]
    record = record_stability(record_names(), years)
    most_changes = max(r.rate for r in record)
    fewest_never = min(r.never for r in record)
    span = f"the record's {years}-year windows {RECORD_SETTLED}-{RECORD_LAST_YEAR}"
    hw = history.inputs.world
    covered, moved = year_end_changes(history.labels(), hw.year, hw.tick_months)
    cells = crisis_cells(history_events(), hw.states, covered, CRISIS_KINDS)
    crisis, rest = rates_in_and_out(moved, cells)
    return [
        _check(
            "6",
            "baseline",
            "label changes per state-year (year-ends)",
            None,
            run.rate,
            f"<= {most_changes:.3f}, the most in {span}",
            run.rate <= most_changes,
        ),
        _check(
            "6",
            "baseline",
            f"share of states whose year-end label never changes in {years} years",
            None,
            run.never,
            f">= {fewest_never:.3f}, the least in {span}",
            run.never >= fewest_never,
        ),
        _check(
            "6",
            "history",
            "label changes per state-year (year-ends): other vs crisis state-years "
            f"({', '.join(CRISIS_KINDS)}; {int(cells.sum())} of {cells.size}, "
            f"{covered[0]}-{covered[-1]})",
            rest,
            crisis,
            f">= {CRISIS_RATIO} x the other state-years",
            crisis > rest and crisis >= CRISIS_RATIO * rest,
            direction=1,
            relative=True,
        ),
    ]


def pattern_7(runs: Runs) -> list[PatternResult]:
    """Armenia stays with Russia for security while the conflict with Azerbaijan is hot (002)."""
    base = runs("baseline")
    world = base.inputs.world
    stay = final_share(
        options_of(base, "security"),
        world.states.index("armenia"),
        world.space.security_options.index("russia"),
    )
    return [
        _check(
            "7",
            "baseline",
            "P(Armenia security russia at the end)",
            None,
            stay,
            f">= {ARMENIA_STAYS}",
            stay >= ARMENIA_STAYS,
        )
    ]


def pattern_8(runs: Runs) -> list[PatternResult]:
    """A terror surge from Afghanistan raises Central Asian demand for Russia-led security
    (000, 001, 004): their security alignment, not the protection term."""
    base, surge = runs("baseline"), runs("afghan_spillover")
    region = _columns(base, CENTRAL_ASIA)
    russia = base.inputs.world.space.security_options.index("russia")
    share_b = state_tick_share(options_of(base, "security"), russia, region)
    share_s = state_tick_share(options_of(surge, "security"), russia, region)
    return [
        _check(
            "8",
            "afghan_spillover",
            "Central Asian state-ticks with security russia",
            share_b,
            share_s,
            f"up by >= {SECURITY_RISE}",
            share_s - share_b >= SECURITY_RISE,
            direction=1,
        )
    ]


def ukraine_non_bloc(runs: Runs) -> list[PatternResult]:
    """Ukraine stays non-bloc (hedge-labelled) 2000-2013 in the history run, in most runs."""
    history = runs("history")
    world = history.inputs.world
    years = (HISTORY_FIRST_YEAR, HISTORY_LAST_YEAR)
    share = always_share(
        history.labels(),
        world.year,
        world.tick_months,
        world.states.index("ukraine"),
        world.labels.index("hedge"),
        years,
    )
    return [
        _check(
            "ukraine",
            "history",
            f"P(Ukraine hedge-labelled at every year-end {years[0]}-{years[1]})",
            None,
            share,
            f"> {MOST_RUNS} (most runs)",
            share > MOST_RUNS,
        )
    ]


PATTERNS: dict[str, Callable[[Runs], list[PatternResult]]] = {
    "1": pattern_1,
    "2": pattern_2,
    "3": pattern_3,
    "4": pattern_4,
    "5": pattern_5,
    "6": pattern_6,
    "7": pattern_7,
    "8": pattern_8,
    "ukraine": ukraine_non_bloc,
}
"""Every pattern (the eight of docs/ODD.md, and Ukraine's non-bloc course), by id."""


def measure_all(runs: Runs) -> list[PatternResult]:
    return [result for check in PATTERNS.values() for result in check(runs)]


def markdown_table(results: list[PatternResult]) -> str:
    lines = [
        "| pattern | scenario | measure | baseline | scenario | effect | criterion | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = "-" if r.baseline is None else f"{r.baseline:.3f}"
        effect = "-" if r.effect is None else f"{r.effect:+.3f}"
        lines.append(
            f"| {r.pattern} | `{r.scenario}` | {r.measure} | {base} | {r.value:.3f} | "
            f"{effect} | {r.criterion} | {'yes' if r.passed else 'NO'} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class SeedSpread:
    """How far the seeds settle one check: its estimate (the effect, scenario minus
    baseline; the value for a check without a baseline) with the 90% interval of that
    estimate over resamples of the seeds, and the share of the resamples in which the
    check is met. A check met in nearly every resample holds on other seeds too; one met
    in about half sits at its criterion's edge."""

    key: str
    measure: str
    estimate: float
    low: float
    high: float
    met_share: float
    is_effect: bool = True


RESAMPLES = 200
"""Resamples of the seeds behind ``seed_spread`` (the command's ``--resamples``)."""


def check_resamples(resamples: object, expected: str = "a whole number >= 2") -> None:
    """A number of resamples: whole and >= 2 (ConfigError saying ``expected``: the command,
    where 0 means none, says so)."""
    check_whole("resamples", resamples, 2, None, expected)


def seed_spread(runs: Runs, resamples: int = RESAMPLES, seed: int = 0) -> list[SeedSpread]:
    """Each check's spread over ``resamples`` bootstrap resamples of the runs.

    A resample draws R run indices with replacement (generator seed ``seed``) and takes
    the same indices in every variant: run i of every variant has the same seed, so the
    common random numbers that pair a scenario with its baseline stay paired. Every check
    is measured again on the resample (``measure_all``)."""
    check_resamples(resamples)
    results = {name: runs(name) for name in VARIANTS}
    n_runs = min(result.n_runs for result in results.values())
    generator = np.random.Generator(np.random.PCG64(seed))
    point = measure_all(results.__getitem__)
    measured = np.empty((resamples, len(point)))
    met = np.empty((resamples, len(point)), dtype=bool)
    for k in range(resamples):
        rows = generator.integers(0, n_runs, n_runs)
        taken = {name: result.take(rows) for name, result in results.items()}
        for j, r in enumerate(measure_all(taken.__getitem__)):
            measured[k, j] = r.value if r.effect is None else r.effect
            met[k, j] = r.passed
    low, high = np.percentile(measured, [5, 95], axis=0)
    return [
        SeedSpread(
            key,
            r.measure,
            r.value if r.effect is None else r.effect,
            float(low[j]),
            float(high[j]),
            float(met[:, j].mean()),
            r.effect is not None,
        )
        for j, (key, r) in enumerate(zip(check_keys(point), point, strict=True))
    ]


def spread_table(spreads: Sequence[SeedSpread]) -> str:
    """``seed_spread`` as a markdown table, a row a check."""
    lines = [
        "| check | measure | effect (value) | 90% interval over resampled seeds | met in |",
        "|---|---|---|---|---|",
    ]
    for s in spreads:
        form = "+.3f" if s.is_effect else ".3f"
        lines.append(
            f"| {s.key} | {s.measure} | {s.estimate:{form}} | "
            f"[{s.low:{form}}, {s.high:{form}}] | {s.met_share:.2f} |"
        )
    return "\n".join(lines)


def check_keys(results: Sequence[PatternResult]) -> list[str]:
    """``<id>_<k>``: the k-th check (from 1) of each pattern, in order."""
    counts: dict[str, int] = {}
    keys = []
    for r in results:
        counts[r.pattern] = counts.get(r.pattern, 0) + 1
        keys.append(f"{r.pattern}_{counts[r.pattern]}")
    return keys


def held(results: list[PatternResult]) -> dict[str, bool]:
    """Per pattern id: whether every one of its checks passed."""
    out: dict[str, bool] = {}
    for r in results:
        out[r.pattern] = out.get(r.pattern, True) and r.passed
    return out


def checks_frame(
    results: Sequence[PatternResult], spreads: Sequence[SeedSpread] | None = None
) -> pd.DataFrame:
    """The pattern table, a row a check (``check_keys``): what was measured, in the
    baseline and the scenario, the effect, the criterion, whether it is met and the text's
    direction; with ``spreads`` (``seed_spread``), each check's 90% interval over the
    resamples and the share of them in which it is met."""
    frame = pd.DataFrame(
        {
            "check": check_keys(results),
            "pattern": [r.pattern for r in results],
            "scenario": [r.scenario for r in results],
            "measure": [r.measure for r in results],
            "baseline": [r.baseline for r in results],
            "value": [r.value for r in results],
            "effect": [r.effect for r in results],
            "criterion": [r.criterion for r in results],
            "met": [r.passed for r in results],
            "direction": [r.direction for r in results],
        }
    )
    if spreads is not None:
        frame["low"] = [s.low for s in spreads]
        frame["high"] = [s.high for s in spreads]
        frame["met_share"] = [s.met_share for s in spreads]
    return frame


def write_table(
    out: Path,
    frame: pd.DataFrame,
    report: str,
    config: SimulationConfig,
    block: SeedBlock,
    study: dict[str, object],
) -> None:
    """``patterns.csv`` (``checks_frame``), ``patterns.md`` (the printed tables) and, last,
    ``manifest.json``: the baseline variant's configuration at the point, the seeds,
    version and git revision, and ``study`` (marked ``study: patterns``). Written whole:
    an earlier table in ``out`` is replaced, and a failure leaves it as it was."""
    with atomic_folder(out) as staging:
        frame.to_csv(staging / FILES[0], index=False)
        (staging / FILES[1]).write_text(report, encoding="utf-8")
        extra = {"study": "patterns", "seeds": block.seeds, "ticks": block.ticks, **study}
        finish_job(staging, manifest(config, block.first, extra), FILES)


def main(argv: list[str] | None = None) -> None:
    parser = CommandParser(prog=PROG, description="Measure the eight patterns (and Ukraine's).")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=FIRST_SEED,
        help=f"the first seed of every variant (default {FIRST_SEED})",
    )
    parser.add_argument(
        "--seeds", type=int, default=SEEDS, help=f"seeds per variant (default {SEEDS})"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=NUMBER",
        help="run every variant with this parameter value (repeat for more), e.g. "
        "--set decision.rationality=3",
    )
    parser.add_argument(
        "--resamples",
        type=int,
        default=RESAMPLES,
        help="bootstrap resamples of the seeds for each check's interval and the share of "
        f"resamples in which it is met (default {RESAMPLES}; 0: none)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for patterns.csv, patterns.md and manifest.json (default "
        "results/patterns/<time>; an earlier table there is replaced whole)",
    )
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else timestamped_folder("patterns")
    try:
        block = SeedBlock(first=args.first_seed, seeds=args.seeds)
        point = parse_point(args.set)
        if args.resamples != 0:
            check_resamples(args.resamples, "0 (none) or a whole number >= 2")
        check_replaceable(out, (*FILES, MANIFEST), "pattern table")
    except ConfigError as exc:
        parser.error(as_typed(exc, parser))
    with command_errors(PROG, "nothing was written", parser=parser):  # a size, a Ctrl+C
        results = measure_all(simulated(block, point))
    where = ", ".join(f"{path}={value:g}" for path, value in point.values) or "the defaults"
    report = (
        f"{block.seeds} seeds per variant from seed {block.first} (common random numbers); "
        f"static runs {block.ticks} ticks from 2015, history runs "
        f"{HISTORY_FIRST_YEAR}-{HISTORY_LAST_YEAR} (calendar world); at {where}\n\n"
        + markdown_table(results)
        + "\n"
    )
    by_pattern = held(results)
    summary: dict[str, object] = {
        "first_seed": block.first,
        "seeds": block.seeds,
        "set": dict(point.values),
        "patterns": by_pattern,
        "held": sum(by_pattern.values()),
        "of": len(by_pattern),
    }
    spreads = None
    if args.resamples:
        with command_errors(PROG, "nothing was written", parser=parser):
            spreads = seed_spread(simulated(block, point), args.resamples)
        report += (
            f"\nHow far the seeds settle each check ({args.resamples} bootstrap resamples of "
            "the runs, paired across variants):\n\n" + spread_table(spreads) + "\n"
        )
        summary["met_share"] = {s.key: s.met_share for s in spreads}
    print(report, end="")
    command = command_line(PROG, argv)
    study = {"command": command, "resamples": args.resamples, **summary}
    with command_errors(PROG, "the table was printed, not written", parser=parser):
        write_table(
            out,
            checks_frame(results, spreads),
            report,
            variant_config("baseline", block, point),
            block,
            study,
        )
    print(f"wrote {out}")
    print(json.dumps({**summary, "files": [str(out / name) for name in (*FILES, MANIFEST)]}))


if __name__ == "__main__":
    main()
