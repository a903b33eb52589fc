"""Recording a batch of runs tick by tick, and turning one run into tidy tables.

The same ``Trajectory`` records the Mesa model (R = 1) and the batched engine (R runs),
so equivalence is checked array against array and every output is written one way.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import TickOutput
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS
from alignment_sim.model.world import FloatArray, World
from alignment_sim.studies import outcomes
from alignment_sim.studies.outcomes import option_shares

__all__ = ["RECORDED_ARRAYS", "Trajectory", "option_shares"]


RECORDED_ARRAYS = (
    "alignment",
    "security_utility",
    "economy_utility",
    "security_terms",
    "economy_terms",
    "offers",
    "credibility",
    "power",
    "active",
)
"""Every array a ``Trajectory`` records, over (run, tick, ...): what is concatenated,
compared between the Mesa model and the engine, and checked for identity."""


@dataclass
class Trajectory:
    """Arrays over (run, tick, ...) for R runs of T ticks; tick 0 is the start.

    ``alignment`` holds profile indices (``World.options``); each dimension's utilities
    and terms are kept on that dimension's options (S security, E economic).
    """

    world: World
    ticks: int
    seeds: np.ndarray
    event_names: tuple[str, ...]
    alignment: np.ndarray = field(init=False)  # (R, T+1, N) int8 profile index
    security_utility: FloatArray = field(init=False)  # (R, T, N, S)
    economy_utility: FloatArray = field(init=False)  # (R, T, N, E)
    security_terms: FloatArray = field(init=False)  # (R, T, N, S, len(SECURITY_TERMS))
    economy_terms: FloatArray = field(init=False)  # (R, T, N, E, len(ECONOMIC_TERMS))
    offers: FloatArray = field(init=False)  # (R, T, B, N)
    credibility: FloatArray = field(init=False)  # (R, T, B)
    power: FloatArray = field(init=False)  # (R, T, P, N)
    active: np.ndarray = field(init=False)  # (R, T, E) bool
    played: int = field(init=False)  # ticks recorded: T, or fewer while a model steps

    def __post_init__(self) -> None:
        R, T = len(self.seeds), self.ticks
        N, B = self.world.n_states, self.world.n_poles
        S, E = self.world.space.n_security, self.world.space.n_economy
        self.alignment = np.zeros((R, T + 1, N), dtype=np.int8)
        self.alignment[:, 0] = self.world.initial_alignment
        self.security_utility = np.full((R, T, N, S), np.nan)
        self.economy_utility = np.full((R, T, N, E), np.nan)
        self.security_terms = np.full((R, T, N, S, len(SECURITY_TERMS)), np.nan)
        self.economy_terms = np.full((R, T, N, E, len(ECONOMIC_TERMS)), np.nan)
        self.offers = np.full((R, T, B, N), np.nan)
        self.credibility = np.full((R, T, B), np.nan)
        self.power = np.full((R, T, S - 1, N), np.nan)
        self.active = np.zeros((R, T, len(self.event_names)), dtype=bool)
        self.played = T

    def add(self, tick: int, out: TickOutput, runs: slice = slice(None)) -> None:
        """Store tick ``tick`` (1..T) of the runs ``runs``."""
        t = tick - 1
        self.played = max(self.played, tick)
        self.alignment[runs, tick] = out.choice
        self.security_utility[runs, t] = out.security_utility
        self.economy_utility[runs, t] = out.economy_utility
        for n, name in enumerate(SECURITY_TERMS):
            self.security_terms[runs, t, ..., n] = out.terms.security[name]
        for n, name in enumerate(ECONOMIC_TERMS):
            self.economy_terms[runs, t, ..., n] = out.terms.economy[name]
        self.offers[runs, t] = out.offers
        self.credibility[runs, t] = out.credibility
        self.power[runs, t] = out.power
        self.active[runs, t] = out.active

    @property
    def n_runs(self) -> int:
        return len(self.seeds)

    def checked_run(self, run: int) -> int:
        """``run`` if it numbers one of the runs recorded (0 to R - 1), else a ConfigError
        saying how many there are (numpy would index from the end, or fail unnamed)."""
        if isinstance(run, bool) or not isinstance(run, int | np.integer):
            raise ConfigError("run", run, f"a run's number, 0 to {self.n_runs - 1}")
        if not 0 <= run < self.n_runs:
            raise ConfigError(
                "run", run, f"a run's number, 0 to {self.n_runs - 1} ({self.n_runs} recorded)"
            )
        return int(run)

    def played_part(self) -> Trajectory:
        """The ticks recorded so far (``played``) as a trajectory of their own, its arrays
        views of these: what a model stepped part way has to show. Itself when all are."""
        if self.played >= self.ticks:
            return self
        part = copy.copy(self)
        part.ticks = self.played
        part.alignment = self.alignment[:, : self.played + 1]
        for name in RECORDED_ARRAYS:
            if name != "alignment":
                setattr(part, name, getattr(self, name)[:, : self.played])
        return part

    def profile_utility(self) -> FloatArray:
        """U(s, e) of every profile, (R, T, N, K) (the ticks played so far)."""
        if self.played < self.ticks:  # a model stepped part way: its ticks so far
            return self.played_part().profile_utility()
        space = self.world.space
        return np.take(self.security_utility, space.profile_security, axis=-1) + np.take(
            self.economy_utility, space.profile_economy, axis=-1
        )

    def labels(self) -> np.ndarray:
        """(R, T+1, N) each state's record label as an index into ``World.labels`` (the
        ticks played so far: ticks not played would read as the first profile)."""
        return self.world.labelling.of_profiles(self.played_part().alignment)

    def trajectory_frame(self, run: int = 0) -> pd.DataFrame:
        """One row per tick x state: the profile, its two parts and its label, whether
        the state switched, and each dimension's utilities and terms by option (the
        ticks played so far)."""
        run = self.checked_run(run)
        if self.played < self.ticks:  # a model stepped part way: its ticks so far
            return self.played_part().trajectory_frame(run)
        world, space = self.world, self.world.space
        N, T = world.n_states, self.ticks
        ticks = np.repeat(np.arange(T + 1), N)
        align = self.alignment[run].astype(int)
        chosen = align.reshape(-1)
        previous = np.vstack([align[:1], align[:-1]]).reshape(-1)
        frame: dict[str, Any] = {
            "seed": np.full(len(ticks), int(self.seeds[run])),
            "tick": ticks,
            "year": np.array([world.year_of_tick(t) for t in range(T + 1)]).repeat(N),
            "state": np.tile(np.array(world.states), T + 1),
            "alignment": np.array(world.options)[chosen],
            "security": np.array(space.security_options)[space.profile_security[chosen]],
            "economy": np.array(space.economic_options)[space.profile_economy[chosen]],
            "label": np.array(world.labels)[world.labelling.of_profiles(align).reshape(-1)],
            "switched": chosen != previous,
        }
        for dimension, options, utility, terms, names in (
            (
                "security",
                space.security_options,
                self.security_utility,
                self.security_terms,
                SECURITY_TERMS,
            ),
            (
                "economy",
                space.economic_options,
                self.economy_utility,
                self.economy_terms,
                ECONOMIC_TERMS,
            ),
        ):
            u = np.vstack([np.full((1, N, len(options)), np.nan), utility[run]])
            t_all = np.vstack([np.full((1, N, len(options), len(names)), np.nan), terms[run]])
            for k, option in enumerate(options):
                frame[f"utility_{dimension}_{option}"] = u[..., k].reshape(-1)
            for n, name in enumerate(names):
                for k, option in enumerate(options):
                    frame[f"{name}_{dimension}_{option}"] = t_all[..., k, n].reshape(-1)
        offers = np.vstack([np.full((1, world.n_poles, N), np.nan), self.offers[run]])
        for b, pole in enumerate(world.poles):
            frame[f"offer_{pole}_bn_usd"] = offers[:, b, :].reshape(-1)
        return pd.DataFrame(frame)

    def shares(self) -> FloatArray:
        """Share of choosers with each record label, (R, T+1, L); sums to one over L (the
        ticks played so far)."""
        return option_shares(self.labels(), len(self.world.labels))

    def blocs_frame(self, run: int = 0) -> pd.DataFrame:
        """One row per tick x label (each pole, hedge): members, shares, capability
        share, and the pole's spending and credibility (the ticks played so far)."""
        run = self.checked_run(run)
        if self.played < self.ticks:  # a model stepped part way: its ticks so far
            return self.played_part().blocs_frame(run)
        world = self.world
        labels, T = self.labels()[run], self.ticks
        rows = []
        for t in range(T + 1):
            cinc = world.params_for_tick(t)[0].capability  # the tick's year in a calendar run
            for k, label in enumerate(world.labels):
                member = labels[t] == k
                is_bloc = k < world.n_poles
                rows.append(
                    {
                        "seed": int(self.seeds[run]),
                        "tick": t,
                        "year": world.year_of_tick(t),
                        "label": label,
                        "is_bloc": is_bloc,
                        "members": int(member.sum()),
                        "member_states": ",".join(np.array(world.states)[member]),
                        "share": float(member.mean()),
                        "capability_share": float(cinc[member].sum() / cinc.sum()),
                        "spending_bn_usd": (
                            float(self.offers[run, t - 1, k].sum()) if is_bloc and t > 0 else np.nan
                        ),
                        "credibility": (
                            float(self.credibility[run, t - 1, k]) if is_bloc and t > 0 else np.nan
                        ),
                    }
                )
        return pd.DataFrame(rows)

    def switches(self, run: int = 0) -> list[dict[str, Any]]:
        """Every change of option: tick, year, state, from, to (the ticks played so far)."""
        run = self.checked_run(run)
        if self.played < self.ticks:  # a model stepped part way: its ticks so far
            return self.played_part().switches(run)
        world, align = self.world, self.alignment[run]
        return [
            {
                "tick": t,
                "year": world.year_of_tick(t),
                "state": world.states[i],
                "from": world.options[align[t - 1, i]],
                "to": world.options[align[t, i]],
            }
            for t, i in outcomes.switch_events(self.alignment, run)
        ]

    def summary(self, run: int = 0) -> dict[str, Any]:
        """Final alignment, switches, time to stability and final shares of one run (at
        the last tick played)."""
        run = self.checked_run(run)
        if self.played < self.ticks:  # a model stepped part way: its ticks so far
            return self.played_part().summary(run)
        world = self.world
        switches = self.switches(run)
        last_switch = int(outcomes.time_to_stability(self.alignment[run : run + 1])[0])
        final = outcomes.final_options(self.alignment)[run]
        shares = self.shares()[run, -1]
        return {
            "seed": int(self.seeds[run]),
            "ticks": self.ticks,
            "start_year": world.year,
            "end_year": world.year_of_tick(self.ticks),
            "final_alignment": {s: world.options[final[i]] for i, s in enumerate(world.states)},
            "initial_alignment": {
                s: world.options[world.initial_alignment[i]] for i, s in enumerate(world.states)
            },
            "final_labels": {
                s: world.labelling.label(i, final[i]) for i, s in enumerate(world.states)
            },
            "final_shares": {label: float(shares[k]) for k, label in enumerate(world.labels)},
            "n_switches": len(switches),
            "switches": switches,
            "time_to_stability": last_switch,
            "stable_for_ticks": self.ticks - last_switch,
            "events": [
                {"event": name, "first_active_tick": int(np.flatnonzero(col)[0]) + 1}
                for name, col in zip(self.event_names, self.active[run].T, strict=True)
                if col.any()
            ],
        }
