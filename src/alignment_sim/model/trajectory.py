"""Recording a batch of runs tick by tick, and turning one run into tidy tables.

The same ``Trajectory`` records the Mesa model (R = 1) and the batched engine (R runs),
so equivalence is checked array against array and every output is written one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alignment_sim.model.inputs import TickOutput
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.world import FloatArray, World
from alignment_sim.studies import outcomes
from alignment_sim.studies.outcomes import option_shares

__all__ = ["Trajectory", "option_shares"]


@dataclass
class Trajectory:
    """Arrays over (run, tick, ...) for R runs of T ticks; tick 0 is the start."""

    world: World
    ticks: int
    seeds: np.ndarray
    event_names: tuple[str, ...]
    alignment: np.ndarray = field(init=False)  # (R, T+1, N) int8
    utility: FloatArray = field(init=False)  # (R, T, N, K)
    terms: FloatArray = field(init=False)  # (R, T, N, K, n_terms)
    offers: FloatArray = field(init=False)  # (R, T, B, N)
    credibility: FloatArray = field(init=False)  # (R, T, B)
    power: FloatArray = field(init=False)  # (R, T, B)
    active: np.ndarray = field(init=False)  # (R, T, E) bool

    def __post_init__(self) -> None:
        R, T = len(self.seeds), self.ticks
        N, B = self.world.n_states, self.world.n_poles
        K = B + 1
        self.alignment = np.zeros((R, T + 1, N), dtype=np.int8)
        self.alignment[:, 0] = self.world.initial_alignment
        self.utility = np.full((R, T, N, K), np.nan)
        self.terms = np.full((R, T, N, K, len(TERMS)), np.nan)
        self.offers = np.full((R, T, B, N), np.nan)
        self.credibility = np.full((R, T, B), np.nan)
        self.power = np.full((R, T, B), np.nan)
        self.active = np.zeros((R, T, len(self.event_names)), dtype=bool)

    def add(self, tick: int, out: TickOutput, runs: slice = slice(None)) -> None:
        """Store tick ``tick`` (1..T) of the runs ``runs``."""
        t = tick - 1
        self.alignment[runs, tick] = out.choice
        self.utility[runs, t] = out.utility
        for n, name in enumerate(TERMS):
            self.terms[runs, t, :, :, n] = out.terms[name].joined()
        self.offers[runs, t] = out.offers
        self.credibility[runs, t] = out.credibility
        self.power[runs, t] = np.broadcast_to(out.power, self.power[runs, t].shape)
        self.active[runs, t] = out.active

    @property
    def n_runs(self) -> int:
        return len(self.seeds)

    def trajectory_frame(self, run: int = 0) -> pd.DataFrame:
        """One row per tick x state: the option chosen, hedging, and every utility term."""
        world = self.world
        options, N, T = world.options, world.n_states, self.ticks
        ticks = np.repeat(np.arange(T + 1), N)
        align = self.alignment[run].astype(int)
        chosen = align.reshape(-1)
        previous = np.vstack([align[:1], align[:-1]]).reshape(-1)
        utility = np.vstack([np.full((1, N, len(options)), np.nan), self.utility[run]])
        lean = np.argmax(np.nan_to_num(utility[..., : world.n_poles], nan=-np.inf), axis=-1)
        frame: dict[str, Any] = {
            "seed": np.full(len(ticks), int(self.seeds[run])),
            "tick": ticks,
            "year": np.array([world.year_of_tick(t) for t in range(T + 1)]).repeat(N),
            "state": np.tile(np.array(world.states), T + 1),
            "alignment": np.array(options)[chosen],
            "lean": np.where(
                ticks == 0, np.array(options)[chosen], np.array(world.poles)[lean.reshape(-1)]
            ),
            "hedging": chosen == world.hedge_index,
            "switched": chosen != previous,
        }
        for k, option in enumerate(options):
            frame[f"utility_{option}"] = utility[..., k].reshape(-1)
        terms = np.vstack([np.full((1, N, len(options), len(TERMS)), np.nan), self.terms[run]])
        for n, name in enumerate(TERMS):
            for k, option in enumerate(options):
                frame[f"{name}_{option}"] = terms[..., k, n].reshape(-1)
        offers = np.vstack([np.full((1, world.n_poles, N), np.nan), self.offers[run]])
        for b, pole in enumerate(world.poles):
            frame[f"offer_{pole}_bn_usd"] = offers[:, b, :].reshape(-1)
        return pd.DataFrame(frame)

    def shares(self) -> FloatArray:
        """Share of choosers in each option, (R, T+1, K); sums to one over K."""
        return option_shares(self.alignment, len(self.world.options))

    def blocs_frame(self, run: int = 0) -> pd.DataFrame:
        """One row per tick x option: members, shares, pole spending and credibility."""
        world = self.world
        options, T = world.options, self.ticks
        rows = []
        for t in range(T + 1):
            cinc = world.params_for_tick(t)[0].capability  # the tick's year in a calendar run
            align = self.alignment[run, t]
            for k, option in enumerate(options):
                member = align == k
                is_bloc = k < world.n_poles
                rows.append(
                    {
                        "seed": int(self.seeds[run]),
                        "tick": t,
                        "year": world.year_of_tick(t),
                        "option": option,
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
        """Every change of option: tick, year, state, from, to."""
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
        """Final alignment, switches, time to stability and final shares of one run."""
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
            "final_shares": {o: float(shares[k]) for k, o in enumerate(world.options)},
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
