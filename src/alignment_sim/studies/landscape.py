"""The alignment landscape of a year's world: every stable configuration, its basin, and
where the recorded configuration sits (``alignment-sim-landscape --year Y``).

In the manner of Axelrod and Bennett (1993), for the world of year Y (the calendar
world's data for Y, no events; 2015 may also be the static world; with ``--events``, the
``history`` scenario's dated events in force at the year's first tick, as a history run
from Y has them, ``model.events``) the model's own
utilities are evaluated for every configuration of the choosers' options, vectorised
(``studies.landscape_core``), without switching costs: the utility landscape itself, not
the inertia that holds a state where it is.

Model 2's two choices make two games (``model.kernels``):

- the **security game**: each chooser picks a security option; its utilities depend on
  the others through peer effects and the regional power of each bloc (members' CINC);
- the **economic game**, given a security configuration: each chooser picks an economic
  option; its utilities depend on the others only through the poles' offers (members in
  either dimension, ``kernels.spending``, at the poles' target credibility and at
  the margins of no offer on the table, which do not depend on the configuration).

A configuration is stable when no chooser gains by moving alone in either game. The
economic game is pruned first by dominance (an option whose best case, with the largest
offer the pole could make, is below another option's worst case, with no offer, is never
played), so its enumeration stays small. Basins are under sequential best response, the
security game first; a joint basin is the security basin times the economic basin given
that security configuration.

The recorded configuration of year Y (the record's labels through
``model.calendar.starting_alignment``, as a calendar run starting in Y uses them) is
scored by its regret: each chooser's gain from its best unilateral move, in each game.
Beside it, whether that gain exceeds the game's switching cost: a configuration where no
gain does is a rest point of the model's own best response, which pays the cost to move
(inertia holds it), though not a stable point of the landscape.

``--configuration-year S`` scores year S's recorded configuration in year Y's world
instead: the configuration of 2005 in the world of 2010 shows which moves the world of
2010 gives the states that stood where they stood in 2005. The 2015 world's own
configuration is the record's 2010 one (its start: the record after 2010 is the test
period, docs/ODD.md, 1.4).

Each gain is set beside the first later year, to 2010, whose recorded configuration has
the state on that move (``YearLandscape.moves_recorded_later``); ``--year A --through B``
does so year by year (``studies.landscape_series``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet, is_packaged, set_name
from alignment_sim.model import kernels
from alignment_sim.model.calendar import RECORD_LAST_YEAR, starting_alignment
from alignment_sim.model.events import (
    EventProgram,
    active_events,
    apply_events,
    compile_scenario,
    initial_starts,
)
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import (
    ATTRIBUTE_YEARS,
    CALENDAR_FIRST_YEAR,
    CALENDAR_LAST_YEAR,
    RegionSpec,
    ScenarioSpec,
    SimulationConfig,
    check_whole,
)
from alignment_sim.model.world import (
    FLOAT,
    BaseParams,
    PairParams,
    PoleParams,
    StateParams,
    World,
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
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.presets import default_config, load_region, load_scenario
from alignment_sim.studies import landscape_core as core
from alignment_sim.studies.patterns import counterfactual

TOLERANCE = 1e-4
"""Utility units: a gain below this is no gain (single precision, utilities of order 1)."""
BASIN_SEED = 0
"""The seed of the best-response starts that measure the basins (``landscape_core``)."""
DEFAULT_STARTS = 20_000
"""Best-response starts per game for the basins (``--starts``)."""
PROG = "alignment-sim-landscape"
FILES = ("stable.csv", "regret.csv", "regret.png", "summary.json")
"""What a landscape folder holds, besides ``manifest.json`` (``write``)."""
EVENTS_SCENARIO = "history"
"""The scenario whose dated events ``--events`` puts in force (conf/scenario/history.yaml)."""


@dataclass(frozen=True)
class YearWorld:
    """What the games of one year need: the compiled inputs and the recorded configuration."""

    year: int
    inputs: RunInputs
    recorded: np.ndarray  # (N,) profile indices
    config: SimulationConfig
    configuration_year: int  # the year whose recorded configuration is scored
    params: BaseParams  # (state, pole, pair) at the year's first tick, events applied
    events_in_force: tuple[str, ...]  # the events' labels (none without ``events``)
    events_left_out: tuple[str, ...] = ()  # those ``without`` named that are in force

    @property
    def world(self) -> World:
        return self.inputs.world


def year_world(
    year: int,
    static: bool = False,
    fit: str | None = None,
    configuration_year: int | None = None,
    events: bool = False,
    without: Sequence[str] = (),
) -> YearWorld:
    """The default region's world of ``year`` (calendar data; ``static`` for the 2015
    snapshot world) with no events, and its recorded configuration (that of
    ``configuration_year`` if given: the starting profiles a run from that year uses,
    ``calendar.starting_alignment``); with ``fit`` (a fitted set's name or path,
    ``estimation.fitted``) at that set's parameter values instead of the defaults; with
    ``events`` (calendar world only), the ``history`` scenario's dated events in force at
    the year's first tick: those dated in it and those dated before that still last (as a
    history run from ``year`` has them, ``events.compile_scenario``), but those whose
    labels ``without`` names (a counterfactual: the year without the Orange Revolution;
    ``events_left_out`` lists those of them in force that year). In the calendar world
    the record ends in 2010: a configuration year after it is the record's 2010
    configuration, and a later year whose states the region file gives no start starts
    there (``region.configuration_year`` 2010), reading no record after it; a later
    static world whose own start is that configuration (the 2015 world's, as the region
    file gives it) says so too."""
    if events and static:
        raise ValueError("the history's events are dated: they need the calendar world")
    if without and not events:
        raise ValueError("without: events are left out only of the history's (events=True)")
    check_year(year, static)
    region = load_region()
    region = replace(region, year=year, calendar=not static)
    if not static:
        if year > RECORD_LAST_YEAR and not has_own_start(region):
            region = replace(region, configuration_year=RECORD_LAST_YEAR)
        configuration_year = min(configuration_year or year, RECORD_LAST_YEAR)
    history = load_scenario(EVENTS_SCENARIO) if events else None
    scenario = "baseline" if history is None else without_events(history, without)
    config = default_config(region=region, scenario=scenario, ticks=1)
    if fit is not None:
        config = FittedSet.load(fit).apply(config)
    inputs = RunInputs.from_config(config)
    recorded = inputs.world.initial_alignment.copy()
    if configuration_year is not None and (
        configuration_year != config.region.start_configuration_year  # the world's own
    ):
        then = replace(config.region, configuration_year=configuration_year)
        recorded = starting_alignment(then, inputs.world.space)
    elif static and year > RECORD_LAST_YEAR:
        record_end = replace(config.region, year=RECORD_LAST_YEAR)
        if np.array_equal(recorded, starting_alignment(record_end, inputs.world.space)):
            configuration_year = RECORD_LAST_YEAR
    program = inputs.program
    active = _first_tick(program)
    params = _one_run(apply_events(inputs.world, program, active, 1), inputs.world)
    in_force = _in_force(program, active)
    left_out: tuple[str, ...] = ()
    if history is not None and without:
        whole = compile_scenario(history, inputs.world, config.ticks)
        would_be = _in_force(whole, _first_tick(whole))
        left_out = tuple(label for label in without if label in would_be)
    return YearWorld(
        year, inputs, recorded, config, configuration_year or year, params, in_force, left_out
    )


def check_year(year: object, static: bool) -> None:
    """A year a world exists for (ConfigError, key ``year``): a static world's snapshot
    year, or a calendar year."""
    if static:
        if year not in ATTRIBUTE_YEARS or isinstance(year, bool):
            raise ConfigError("year", year, f"a static world's year: one of {ATTRIBUTE_YEARS}")
    else:
        span = f"a calendar year {CALENDAR_FIRST_YEAR}-{CALENDAR_LAST_YEAR} (a whole number)"
        check_whole("year", year, CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, span)


def _first_tick(program: EventProgram) -> np.ndarray:
    """(1, E) which of ``program``'s events are in force at tick 1 (the dated ones; a
    hazard event has not started)."""
    return active_events(initial_starts(program, 1), program, 1)


def _in_force(program: EventProgram, active: np.ndarray) -> tuple[str, ...]:
    """The labels of the events ``active`` (1, E) holds in force."""
    return tuple(name for name, on in zip(program.names, active[0], strict=True) if on)


def has_own_start(region: RegionSpec) -> bool:
    """Whether every state of ``region`` has an ``initial`` entry for the region's year."""
    return all(str(region.year) in state.initial for state in region.states)


def without_events(scenario: ScenarioSpec, labels: Sequence[str]) -> ScenarioSpec:
    """``scenario`` without the events ``labels`` names (an event's label, or its kind
    where it has none); a ConfigError names a label no event has."""
    if not labels:
        return scenario
    known = [event.label or event.kind for event in scenario.events]
    by_lower = {name.lower(): name for name in known}
    for label in labels:
        if label not in known:
            close = difflib.get_close_matches(label.lower(), list(by_lower), n=3, cutoff=0.5)
            hint = (
                "Closest: " + ", ".join(repr(by_lower[name]) for name in close) + "."
                if close
                else f"Every event's label is in conf/scenario/{scenario.name}.yaml."
            )
            raise ConfigError(
                "without",
                label,
                f"the label of an event of scenario '{scenario.name}' (as written there)",
                hint,
            )
    return counterfactual(scenario, lambda event: (event.label or event.kind) in labels)


def _one_run(params: BaseParams, world: World) -> BaseParams:
    """``apply_events``'s parameters for one run without its leading run axis (the
    fields an event edits carry one; the others are the world's own)."""
    state, pole, pair = params
    base_state, base_pole, base_pair = world.params_for_tick(1)
    return (
        _without_run_axis(state, base_state),
        _without_run_axis(pole, base_pole),
        _without_run_axis(pair, base_pair),
    )


Table = TypeVar("Table", StateParams, PoleParams, PairParams)


def _without_run_axis(table: Table, base: Table) -> Table:
    """``table`` with each field that has one more axis than in ``base`` taken at run 0;
    ``base`` itself where no event edits the table."""
    edited = {
        f.name: getattr(table, f.name)[0]
        for f in fields(table)
        if np.ndim(getattr(table, f.name)) > np.ndim(getattr(base, f.name))
    }
    return replace(table, **edited) if edited else base


def _base_snapshot(yw: YearWorld, security: np.ndarray, economy: np.ndarray) -> kernels.Snapshot:
    """A snapshot of M configurations at tick 1, offers computed from the configuration."""
    world = yw.world
    state, pole, pair = yw.params
    sec = world.security_poles
    M = security.shape[0]
    credibility = np.broadcast_to(pole_credibility(yw), (M, world.n_poles)).astype(FLOAT)
    members = kernels.pole_members(security, economy, sec, world.n_poles)
    in_bloc = kernels.security_membership(security, len(sec))
    margins = np.broadcast_to(_margins(yw), (M, world.n_poles, world.n_states))
    offers, premiums = kernels.spending(
        pole, pair, members, margins, yw.inputs.rationality, slice(None)
    )
    return kernels.Snapshot(
        security=security,
        economy=economy,
        power=kernels.regional_power(pole, state, pair, in_bloc, sec),
        threat=kernels.threat_from_poles(pole, pair, slice(None)),
        offers=offers,
        credibility=credibility,
        years=yw.inputs.years_since_independence(1),
        premiums=premiums,
    )


def pole_credibility(yw: YearWorld) -> np.ndarray:
    """(B,) each pole's target credibility (``kernels.credibility_target``): its
    configured credibility updated by the record of its protection the events in force
    hold (the value a history run's credibility moves toward while the pole keeps its
    promises, ``kernels.next_credibility``); without events, the
    configured value to the last bit."""
    _, pole, _ = yw.params
    return kernels.credibility_target(pole, yw.inputs.dynamics.credibility_prior_tests)


def _terms(yw: YearWorld, snap: kernels.Snapshot) -> kernels.Terms:
    """Every term for every chooser, switching costs set to zero (the landscape itself)."""
    world = yw.world
    state, pole, pair = yw.params
    dynamics = replace(yw.inputs.dynamics, switching_cost=0.0, economic_switching_cost=0.0)
    return kernels.utility_terms(
        snap,
        state,
        pole,
        pair,
        world.affinity,
        world.rivalry,
        world.security_poles,
        yw.inputs.weights,
        dynamics,
        yw.inputs.stance,
        slice(None),
    )


def _margins(yw: YearWorld) -> np.ndarray:
    """(B, N) the economic margins with no offer on the table (the poles' view before any
    bidding): they do not depend on the configuration, so every configuration's offers
    are computed from the same margins."""
    world = yw.world
    N = world.n_states
    outside = np.full((1, N), world.space.n_security - 1)
    open_economy = np.full((1, N), world.space.n_economy - 1)
    snap = _base_snapshot_without_offers(yw, outside, open_economy)
    terms = _terms(yw, snap)
    _, economy = terms.utilities()
    return kernels.economic_margins(economy, terms.economy["inducements"])[0]


def _base_snapshot_without_offers(
    yw: YearWorld, security: np.ndarray, economy: np.ndarray
) -> kernels.Snapshot:
    world = yw.world
    state, pole, pair = yw.params
    sec = world.security_poles
    return kernels.Snapshot(
        security=security,
        economy=economy,
        power=kernels.regional_power(
            pole, state, pair, kernels.security_membership(security, len(sec)), sec
        ),
        threat=kernels.threat_from_poles(pole, pair, slice(None)),
        offers=np.zeros((1, world.n_poles, world.n_states), dtype=FLOAT),
        credibility=np.broadcast_to(pole_credibility(yw), (1, world.n_poles)).astype(FLOAT),
        years=yw.inputs.years_since_independence(1),
        premiums=np.zeros((1, world.n_poles, world.n_states), dtype=FLOAT),
    )


def security_utility_fn(yw: YearWorld, economy: np.ndarray | None = None) -> core.UtilityFn:
    """Configurations of security options (M, N) -> U_sec (M, N, S), with the choosers'
    economic options held at ``economy`` (N,) (default: every economy ``open``): a pole's
    offer counts in the security choice of a chooser outside its union
    (``kernels.inducement_terms``)."""
    held = np.full(yw.world.n_states, yw.world.space.n_economy - 1) if economy is None else economy

    def utility(configs: np.ndarray) -> np.ndarray:
        economies = np.broadcast_to(held, configs.shape)
        security_utility, _ = _terms(yw, _base_snapshot(yw, configs, economies)).utilities()
        return np.asarray(security_utility, dtype=np.float64)

    return utility


def economy_utility_fn(yw: YearWorld, security: np.ndarray) -> core.UtilityFn:
    """Configurations of economic options (M, N), given the security configuration
    ``security`` (N,) -> U_econ (M, N, E)."""

    def utility(configs: np.ndarray) -> np.ndarray:
        held = np.broadcast_to(security, configs.shape)
        _, economy_utility = _terms(yw, _base_snapshot(yw, held, configs)).utilities()
        return np.asarray(economy_utility, dtype=np.float64)

    return utility


def economy_bounds(yw: YearWorld, security: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper), each (N, E): U_econ with no offer at all, and with the largest
    offer each pole can make each chooser (its whole envelope with the full leverage
    premium, scaled to the budget): the only terms of the economic game that depend on the
    others' choices are the inducements."""
    world = yw.world
    N = world.n_states
    _, pole, pair = yw.params
    none = np.full((1, N), world.space.n_economy - 1)
    snap = _base_snapshot_without_offers(yw, security[None], none)
    terms = _terms(yw, snap)
    _, low = terms.utilities()
    base = np.asarray(pair.focus * pair.proximity, dtype=np.float64)  # (B, N)
    leverage = np.asarray(pole.leverage * (1.0 - pole.proportional_spending), dtype=np.float64)
    budget = np.asarray(pole.budget_bn, dtype=np.float64)
    largest = budget[:, None] * base * (1.0 + leverage[:, None]) / base.sum(axis=1)[:, None]
    most = largest[None].astype(FLOAT)
    rich = replace(snap, offers=most, premiums=most)  # every bn a bid for the union: the most
    _, high = _terms(yw, rich).utilities()
    return np.asarray(low[0], dtype=np.float64), np.asarray(high[0], dtype=np.float64)


def later_configurations(yw: YearWorld) -> list[tuple[int, np.ndarray]]:
    """(year, (N,) profiles) of every year after ``yw``'s configuration year to the
    record's end (``RECORD_LAST_YEAR``): the record's configurations, as a calendar run
    from each year starts (``calendar.starting_alignment``); none after 2010."""
    space = yw.world.space
    return [
        (year, starting_alignment(replace(yw.config.region, year=year), space))
        for year in range(yw.configuration_year + 1, RECORD_LAST_YEAR + 1)
    ]


@dataclass(frozen=True)
class Game:
    """One game at the recorded configuration: ``option_of`` (K,) each profile's option
    in the game; ``best`` and ``regret`` (N,) each chooser's best option and its gain."""

    option_of: np.ndarray
    best: np.ndarray
    regret: np.ndarray

    def on_best_move(self, profiles: np.ndarray) -> np.ndarray:
        """(N,) True where a gaining chooser holds its best option in ``profiles``."""
        return (self.regret > 0) & (self.option_of[profiles] == self.best)


@dataclass(frozen=True)
class YearLandscape:
    """Both games of one year: the security landscape, and per stable security
    configuration its economic landscape; the recorded configuration's regrets."""

    year_world: YearWorld
    security: core.Landscape
    economy: list[core.Landscape]
    recorded_security_regret: np.ndarray  # (N,)
    recorded_economy_regret: np.ndarray  # (N,)
    recorded_security_best: np.ndarray  # (N,) the best security option at the record
    recorded_economy_best: np.ndarray  # (N,) the best economic option at the record

    def stable_profiles(self) -> pd.DataFrame:
        """One row per stable configuration: each chooser's profile and label, the joint
        basin, and how many choosers differ from the record (by label)."""
        world = self.year_world.world
        space = world.space
        labelling = world.labelling
        recorded_labels = labelling.of_profiles(self.year_world.recorded)
        rows = []
        for s, security in enumerate(self.security.stable):
            econ = self.economy[s]
            for e, economy in enumerate(econ.stable):
                profiles = security * space.n_economy + economy
                row: dict[str, object] = {
                    state: world.options[k] for state, k in zip(world.states, profiles, strict=True)
                }
                row["basin"] = float(self.security.basins[s] * econ.basins[e])
                row["labels_differing_from_record"] = int(
                    np.sum(labelling.of_profiles(profiles) != recorded_labels)
                )
                row["profiles_differing_from_record"] = int(
                    np.sum(profiles != self.year_world.recorded)
                )
                rows.append(row)
        frame = pd.DataFrame(rows)
        return frame.sort_values("basin", ascending=False, kind="stable").reset_index(drop=True)

    def switching_costs(self) -> tuple[float, float]:
        """The cost of moving in each game (utility units): the configuration's security
        and economic switching costs (``Dynamics``)."""
        dynamics = self.year_world.inputs.dynamics
        return float(dynamics.switching_cost), float(dynamics.economic_switching_cost)

    def security_costs(self) -> np.ndarray:
        """(N,) each chooser's cost of leaving its recorded security option: the security
        switching cost times the option's exit factor (``kernels.exit_factors``: 0 while
        an event lapses a treaty's term, else 1)."""
        yw = self.year_world
        cost, _ = self.switching_costs()
        recorded = yw.world.space.profile_security[yw.recorded]
        factors = kernels.exit_factors(yw.params[2], slice(None), yw.world.security_poles)
        if factors is None:
            return np.full(recorded.shape, cost)
        return cost * kernels.held_exit_factor(factors, recorded).astype(np.float64)

    def games(self) -> tuple[Game, Game]:
        """The security and economic games at the recorded configuration: each
        profile's option in the game, each chooser's best option and its gain."""
        space = self.year_world.world.space
        return (
            Game(
                space.profile_security, self.recorded_security_best, self.recorded_security_regret
            ),
            Game(space.profile_economy, self.recorded_economy_best, self.recorded_economy_regret),
        )

    def moves_recorded_later(self) -> tuple[np.ndarray, np.ndarray]:
        """(security, economy), each (N,): the first year after the configuration's, to
        the record's end, whose recorded configuration (``later_configurations``) has the
        chooser on its best move in that game, where it gains by one; 0 otherwise (and
        for every chooser from a configuration of 2010 on: the record after 2010 is the
        test period)."""
        games = self.games()
        found = [np.zeros(self.year_world.world.n_states, dtype=np.int64) for _ in games]
        for year, then in later_configurations(self.year_world):
            for first, game in zip(found, games, strict=True):
                first[(first == 0) & game.on_best_move(then)] = year
        return found[0], found[1]

    def regret_table(self) -> pd.DataFrame:
        """One row per chooser: its recorded profile and label, its gain from the best
        unilateral move in each game (0: it has no better move) and that move; whether
        that gain exceeds the game's switching cost, so that the model's own best response,
        which pays the cost to move, would move it (``moves_despite_cost``); and the first
        later year, to 2010, whose recorded configuration has it on that move
        (``*_move_recorded_in``; ``move_recorded``: in either game)."""
        world = self.year_world.world
        space = world.space
        recorded = self.year_world.recorded
        _, economy_cost = self.switching_costs()
        beyond_cost = (self.recorded_security_regret > self.security_costs() + TOLERANCE) | (
            self.recorded_economy_regret > economy_cost + TOLERANCE
        )
        security_later, economy_later = self.moves_recorded_later()
        return pd.DataFrame(
            {
                "state": world.states,
                "recorded_profile": [world.options[k] for k in recorded],
                "recorded_label": [world.labelling.label(i, k) for i, k in enumerate(recorded)],
                "security_regret": self.recorded_security_regret,
                "security_best_move": [
                    space.security_options[k] if r > 0 else ""
                    for k, r in zip(
                        self.recorded_security_best, self.recorded_security_regret, strict=True
                    )
                ],
                "economy_regret": self.recorded_economy_regret,
                "economy_best_move": [
                    space.economic_options[k] if r > 0 else ""
                    for k, r in zip(
                        self.recorded_economy_best, self.recorded_economy_regret, strict=True
                    )
                ],
                "gains_by_moving": (self.recorded_security_regret > 0)
                | (self.recorded_economy_regret > 0),
                "moves_despite_cost": beyond_cost,
                "security_move_recorded_in": _years_or_missing(security_later),
                "economy_move_recorded_in": _years_or_missing(economy_later),
                "move_recorded": (security_later > 0) | (economy_later > 0),
            }
        )

    def summary(self) -> dict[str, object]:
        table = self.regret_table()
        return {
            "year": self.year_world.year,
            "configuration_year": self.year_world.configuration_year,
            "fit": self.year_world.config.fit,
            "events_in_force": list(self.year_world.events_in_force),
            "events_left_out": list(self.year_world.events_left_out),
            "stable_configurations": len(self.stable_profiles()),
            "states_gaining_by_moving": int(table["gains_by_moving"].sum()),
            "gainers_making_the_move_in_the_record": int(table["move_recorded"].sum()),
            "states_moving_despite_switching_cost": int(table["moves_despite_cost"].sum()),
            "switching_costs": list(self.switching_costs()),
            "states": len(table),
            "max_regret": float(max(table["security_regret"].max(), table["economy_regret"].max())),
            "security_configurations": self.security.n_configurations,
            "cycling_share_security": self.security.cycling_share,
        }


def _years_or_missing(years: np.ndarray) -> pd.Series:
    """Years as a nullable integer column, missing where 0 (no year)."""
    return pd.Series(years, dtype="Int64").where(years > 0)


def landscape(
    yw: YearWorld, *, basin_starts: int = DEFAULT_STARTS, progress: core.ProgressFn | None = None
) -> YearLandscape:
    """Both games of ``yw``'s world, enumerated; the recorded configuration's regrets
    (a ConfigError for ``basin_starts`` not a whole number >= 1)."""
    check_whole("basin_starts", basin_starts, 1, None, "a whole number of starts >= 1")
    world = yw.world
    N, space = world.n_states, world.space
    security_fn = security_utility_fn(yw)
    security = core.enumerate_landscape(
        security_fn,
        N,
        space.n_security,
        tol=TOLERANCE,
        basin_starts=basin_starts,
        rng_seed=BASIN_SEED,
        progress=progress,
    )
    economies = []
    for held in security.stable:
        economies.append(
            core.enumerate_landscape(
                economy_utility_fn(yw, held),
                N,
                space.n_economy,
                tol=TOLERANCE,
                bounds=economy_bounds(yw, held),
                basin_starts=basin_starts,
                rng_seed=BASIN_SEED,
            )
        )
    recorded_security = space.profile_security[yw.recorded]
    recorded_economy = space.profile_economy[yw.recorded]
    economy_fn = economy_utility_fn(yw, recorded_security)
    recorded_fn = security_utility_fn(yw, recorded_economy)
    return YearLandscape(
        year_world=yw,
        security=security,
        economy=economies,
        recorded_security_regret=core.regret(recorded_fn, recorded_security, TOLERANCE),
        recorded_economy_regret=core.regret(economy_fn, recorded_economy, TOLERANCE),
        recorded_security_best=np.argmax(recorded_fn(recorded_security[None])[0], axis=-1),
        recorded_economy_best=np.argmax(economy_fn(recorded_economy[None])[0], axis=-1),
    )


def regret_figure(result: YearLandscape) -> Figure:
    """Each chooser's regret at the recorded configuration, by game."""
    table = result.regret_table()
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.subplots()
    x = np.arange(len(table))
    axes.bar(x - 0.2, table["security_regret"], width=0.4, label="security", color="#c0392b")
    axes.bar(x + 0.2, table["economy_regret"], width=0.4, label="economy", color="#2e86c1")
    axes.set_xticks(
        x,
        [f"{s} ({p})" for s, p in zip(table["state"], table["recorded_profile"], strict=True)],
        rotation=35,
        ha="right",
        rotation_mode="anchor",
    )
    axes.tick_params(axis="x", labelsize=7)
    security_cost, economy_cost = result.switching_costs()
    if security_cost == economy_cost:  # one line, not one hidden under the other
        axes.axhline(
            security_cost,
            color="#555555",
            linestyle="--",
            linewidth=0.8,
            label="switching cost (both games)",
        )
    else:
        for cost, color, game in (
            (security_cost, "#c0392b", "security"),
            (economy_cost, "#2e86c1", "economy"),
        ):
            axes.axhline(
                cost, color=color, linestyle="--", linewidth=0.8, label=f"{game} switching cost"
            )
    axes.set_ylabel("gain from the best move alone (utility units)")
    yw = result.year_world
    which = "" if yw.configuration_year == yw.year else f" of {yw.configuration_year}"
    events = f", {len(yw.events_in_force)} events in force" if yw.events_in_force else ""
    axes.set_title(
        f"{yw.year}{events}: regret at the recorded configuration{which}\n"
        f"({int(table['gains_by_moving'].sum())} of {len(table)} states gain by moving, "
        f"{int(table['moves_despite_cost'].sum())} by more than the switching cost)",
        fontsize=10,
    )
    axes.legend()
    return figure


def write(result: YearLandscape, out: Path, *, command: str, basin_starts: int) -> None:
    """stable.csv, regret.csv, regret.png, summary.json and, last, manifest.json (the
    config, version and git revision, ``seed`` the basins' sampling seed, the command as
    typed and the best-response starts behind the basins, and each file's size and
    SHA-256: ``files.finish_job``), written whole."""
    with atomic_folder(out) as staging:
        result.stable_profiles().to_csv(staging / "stable.csv", index=False)
        result.regret_table().to_csv(staging / "regret.csv", index=False)
        regret_figure(result).savefig(staging / "regret.png", dpi=120)
        (staging / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
        extra = {"command": command, "basin_starts": basin_starts}
        meta = manifest(result.year_world.config, BASIN_SEED, extra)
        finish_job(staging, meta, FILES)


def parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog=PROG,
        description="Stable configurations of a year's world, their basins, and the "
        "recorded configuration's regret (docs/MODEL.md, 'Landscape').",
    )
    p.add_argument(
        "--year",
        type=int,
        required=True,
        help=f"a calendar year {CALENDAR_FIRST_YEAR}-{CALENDAR_LAST_YEAR} (after "
        f"{RECORD_LAST_YEAR}, the record's {RECORD_LAST_YEAR} configuration is scored), or "
        "with --static 2000, 2010, 2015",
    )
    p.add_argument(
        "--static", action="store_true", help="the static snapshot world (2000, 2010, 2015)"
    )
    p.add_argument(
        "--events",
        action="store_true",
        help="the history scenario's dated events in force at the year's start, as a "
        "history run from that year has them (calendar world only)",
    )
    p.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="LABEL",
        help="with --events, leave out the history's event of this label (repeatable), "
        "e.g. --without 'Orange Revolution'",
    )
    p.add_argument(
        "--fit",
        default=None,
        help="a fitted set (a packaged name such as post_soviet_1991_2010, or a fit's "
        "fitted.yaml or folder): its parameter values instead of the defaults",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: results/landscape/<year>[-static][-events][-without-<label>][-fit[-<fit>]]"
        "[-starts<N>]",
    )
    p.add_argument(
        "--starts",
        type=int,
        default=DEFAULT_STARTS,
        help=f"best-response starts per game, for the basins (default {DEFAULT_STARTS})",
    )
    p.add_argument(
        "--configuration-year",
        type=int,
        default=None,
        help="score this year's recorded configuration in --year's world (default: "
        f"--year's own, {RECORD_LAST_YEAR}'s after {RECORD_LAST_YEAR}; e.g. --year 2010 "
        "--configuration-year 2005)",
    )
    p.add_argument(
        "--through",
        type=int,
        default=None,
        help=f"every year from --year to this one (to {CALENDAR_LAST_YEAR}), each scored "
        f"against the record's later moves to {RECORD_LAST_YEAR} (after it the record's "
        f"{RECORD_LAST_YEAR} configuration in each year's world): series.csv, series.png, "
        "summary.json (docs/MODEL.md, 'Landscape')",
    )
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """Bad arguments exit 2 with argparse's usage line; a bad fit or output folder exits
    2 and an OS error 1, each as one line on stderr (``files.command_errors``)."""
    cli = parser()
    args = cli.parse_args(argv)
    command = command_line(PROG, argv)
    static = args.static
    if static and args.events:
        cli.error("--events with --static: the history's events are dated (calendar world)")
    if args.without and not args.events:
        cli.error("--without needs --events: it leaves events out of the history's")
    try:
        check_year(args.year, static)
    except ConfigError as exc:
        cli.error(as_typed(exc, cli))
    if args.starts < 1:
        cli.error(f"--starts {args.starts}: expected a whole number >= 1")
    then = args.configuration_year
    if args.through is not None:
        _series_main(cli, args, command)
        return
    if then is not None and not CALENDAR_FIRST_YEAR <= then <= RECORD_LAST_YEAR:
        cli.error(
            f"--configuration-year {then}: expected a year {CALENDAR_FIRST_YEAR}-"
            f"{RECORD_LAST_YEAR} with a recorded configuration (the record ends in "
            f"{RECORD_LAST_YEAR})"
        )
    out = args.out or default_folder(
        f"{args.year}" + ("-static" if static else ""),
        args,
        f"-from{then}" if then is not None and then != args.year else "",
    )
    with command_errors(PROG, "nothing was written", parser=cli):
        check_replaceable(out, (*FILES, MANIFEST), "landscape")
        yw = year_world(
            args.year,
            static=static,
            fit=args.fit,
            configuration_year=then,
            events=args.events,
            without=args.without,
        )
        for label in args.without:
            if label not in yw.events_left_out:
                raise ConfigError(
                    "without",
                    label,
                    f"an event in force at the start of {args.year}: "
                    + ", ".join(repr(name) for name in yw.events_in_force),
                )
        print(f"landscape of {args.year}: enumerating ...", file=sys.stderr, flush=True)
        for name in yw.events_in_force:
            print(f"  in force: {name}", file=sys.stderr)
        result = landscape(yw, basin_starts=args.starts)
        write(result, out, command=command, basin_starts=args.starts)
    print(result.regret_table().to_string(index=False))
    print(f"wrote {out}")
    print(json.dumps(result.summary()))


def _series_main(cli: argparse.ArgumentParser, args: argparse.Namespace, command: str) -> None:
    """``--year A --through B``: the landscape of every year A..B against the record."""
    from alignment_sim.studies import landscape_series  # it builds on this module

    first, last = args.year, args.through
    if args.static or args.configuration_year is not None:
        cli.error(
            "--through takes the calendar world's own configurations: not with "
            "--static or --configuration-year"
        )
    if not first <= last <= CALENDAR_LAST_YEAR:
        cli.error(
            f"--through {last}: expected a year from --year ({first}) to "
            f"{CALENDAR_LAST_YEAR}, the calendar's last"
        )
    out = args.out or default_folder(f"{first}-{last}", args)
    with command_errors(PROG, "nothing was written", parser=cli):
        check_replaceable(out, (*landscape_series.FILES, MANIFEST), "landscape series")
        result = landscape_series.series(
            first,
            last,
            fit=args.fit,
            events=args.events,
            without=args.without,
            basin_starts=args.starts,
            progress=landscape_series.print_progress,
        )
        landscape_series.write(result, out, command=command, basin_starts=args.starts)
    print(pd.DataFrame(result.year_rows()).convert_dtypes().to_string(index=False))
    print(f"wrote {out}")
    print(json.dumps(result.summary()))


def default_folder(years: str, args: argparse.Namespace, suffix: str = "") -> Path:
    """results/landscape/<years>[-events][-without-<label>...][-fit[-<fit>]][-starts<N>]
    <suffix>: each variant its own folder (a label in lower case, words joined by
    hyphens; a fit not packaged by its name or folder, ``fitted.set_name``; starts other than
    the default), so that a run of other settings never replaces another's folder."""

    def slug(text: str) -> str:
        return "-".join(re.findall(r"[a-z0-9]+", text.lower()))

    fit = ""
    if args.fit:
        fit = "-fit" if is_packaged(args.fit) else f"-fit-{slug(set_name(args.fit))}"
    name = (
        years
        + ("-events" if args.events else "")
        + "".join(f"-without-{slug(label)}" for label in args.without)
        + fit
        + (f"-starts{args.starts}" if args.starts != DEFAULT_STARTS else "")
        + suffix
    )
    return Path("results") / "landscape" / name
