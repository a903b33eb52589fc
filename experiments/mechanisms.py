"""Every mechanism knocked out, one at a time: what each changes, and by how much.

"Nothing inert" (issue 11): a mechanism either changes a measured outcome or leaves the
model. For each mechanism this script sets it to zero (a term's weight, the poles'
leverage, their rivalries, credibility's movement, the record of protection given and
refused: a prior of a million tests) and measures, against the defaults,
over the same seeds:

- the hindcast from 2000 (the `history` scenario, 2001-2010 against the record): Brier
  score and the probability of the recorded label (alignment-sim-score's measures);
- the 2015 baseline after 10 years: share of states labelled russia, west and hedge,
  profile switches per run, and the share of Central Asian state-ticks whose economy is
  with China;
- a Russian recession (russia_recession, 10 years from 2015): Russia's mean credibility,
  the share of state-ticks in Russia's security bloc, and among them the share also in
  its economic union (full commitment).

The stance lever is reported the same way (stance -1 and +1 against the default 0).

    python experiments/mechanisms.py                    # 100 runs per case, about 10 s
    python experiments/mechanisms.py --replications 20  # quick

Prints a markdown table (the one in docs/MODEL.md, "What each mechanism does") and, last, a
JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import SimulationConfig
from alignment_sim.presets import default_config, load_region
from alignment_sim.report.record import LABELS, PACKAGED_RECORD, read_record
from alignment_sim.report.score import score_arrays
from alignment_sim.studies import patterns
from alignment_sim.studies.outcomes import yearly_labels

CENTRAL_ASIA = ("kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan", "turkmenistan")
ORIGIN, LAST = 2000, 2010
FLOOR = 1e-3
Edit = Callable[[SimulationConfig], None]


def weight_off(name: str) -> Edit:
    def edit(config: SimulationConfig) -> None:
        if name == "switching":
            config.dynamics.switching_cost = 0.0
            config.dynamics.economic_switching_cost = 0.0
        elif name == "neutrality":  # not weighted: no state's neutrality in force
            for state in config.region.states:
                state.neutral_from = None
        elif name == "founding":  # not weighted: every union open in every year
            for pole in config.region.poles:
                pole.union_from = None
        else:
            setattr(config.weights, name, 0.0)

    return edit


def poles_off(field: str, value: object) -> Edit:
    def edit(config: SimulationConfig) -> None:
        for pole in config.region.poles:
            setattr(pole, field, value() if callable(value) else value)

    return edit


def set_dynamics(field: str, value: float) -> Edit:
    def edit(config: SimulationConfig) -> None:
        setattr(config.dynamics, field, value)

    return edit


CASES: dict[str, Edit | None] = {
    "defaults": None,
    **{f"{term} off": weight_off(term) for term in TERMS},
    "leverage of the weak off": poles_off("leverage", 0.0),
    "rivalry off": poles_off("rivalry", dict),
    "credibility fixed": set_dynamics("credibility_recovery", 0.0),
    "protection record off": set_dynamics("credibility_prior_tests", 1e6),
    "stance -1 (bandwagoning)": set_dynamics("stance", -1.0),
    "stance +1 (balancing)": set_dynamics("stance", 1.0),
}


def compiled(config: SimulationConfig, edit: Edit | None) -> RunInputs:
    """``config`` with the knock-out ``edit`` applied (and checked again), compiled."""
    if edit is not None:
        edit(config)
        config.validate()
    return RunInputs.from_config(config)


def hindcast(edit: Edit | None, seeds: range) -> dict[str, float]:
    """Brier score and mean p(recorded label) of the history run from 2000, 2001-2010."""
    region = replace(load_region(), year=ORIGIN, calendar=True)
    config = default_config(
        scenario="history", region=region, ticks=(LAST - ORIGIN + 1) * 4, seed=0
    )
    inputs = compiled(config, edit)
    world = inputs.world
    result = run_batch(inputs, seeds, record="minimal")
    years, labels = yearly_labels(result.alignment, world.labelling, world.year, world.tick_months)
    record = read_record(PACKAGED_RECORD)
    probabilities, observed = [], []
    for i, spec in enumerate(config.region.states):
        for y, year in enumerate(years):
            label = record.label(spec.attribute_state, int(year))
            if year <= ORIGIN or year > LAST or label is None:
                continue
            codes = labels[:, y, i]
            probabilities.append([np.mean(codes == world.labels.index(name)) for name in LABELS])
            observed.append(LABELS.index(label))
    scores = score_arrays(np.array(probabilities), np.array(observed), FLOOR)
    p = np.array(probabilities)[np.arange(len(observed)), observed]
    return {"brier_2000": float(scores["brier"].mean()), "p_record_2000": float(p.mean())}


def baseline(edit: Edit | None, seeds: range) -> dict[str, float]:
    """Label shares at the end of 10 years from 2015, switches, Central Asia's China economy."""
    config = default_config(ticks=40, seed=0)
    inputs = compiled(config, edit)
    world = inputs.world
    result = run_batch(inputs, seeds, record="minimal")
    final = result.shares()[:, -1].mean(axis=0)
    alignment = result.alignment.astype(np.int64)
    switches = float((alignment[:, 1:] != alignment[:, :-1]).sum(axis=(1, 2)).mean())
    economy = world.space.profile_economy[alignment[:, 1:]]
    asia = [world.states.index(s) for s in CENTRAL_ASIA]
    china = world.space.economic_options.index("china")
    return {
        **{f"final_{label}": float(final[k]) for k, label in enumerate(world.labels)},
        "switches": switches,
        "asia_economy_china": float(np.mean(economy[..., asia] == china)),
    }


def markdown(frame: pd.DataFrame) -> str:
    """A plain markdown table of ``frame`` (index first)."""
    header = ["", *frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in frame.iterrows():
        lines.append("| " + " | ".join([str(name), *(f"{v:+.3f}" for v in row)]) + " |")
    return "\n".join(lines)


def recession(edit: Edit | None, seeds: range) -> dict[str, float]:
    """Under russia_recession (10 years from 2015): Russia's mean credibility, and among
    the state-ticks in Russia's security bloc, the share also in its economic union
    (full commitment, 000: an inconsistent patron is not fully committed to)."""
    config = default_config(scenario="russia_recession", ticks=40, seed=0)
    inputs = compiled(config, edit)
    result = run_batch(inputs, seeds, record="minimal")
    russia = inputs.world.poles.index("russia")
    security = patterns.options_of(result, "security")[:, 1:]
    in_security = security == inputs.world.space.security_options.index("russia")
    return {
        "recession_credibility": float(result.credibility[..., russia].mean()),
        "recession_full_commitment": patterns.full_commitment(result, "russia"),
        "recession_security_russia": float(in_security.mean()),
    }


SHOWN = [
    "brier_2000",
    "p_record_2000",
    "final_russia",
    "final_west",
    "final_hedge",
    "switches",
    "asia_economy_china",
    "recession_credibility",
    "recession_full_commitment",
    "recession_security_russia",
]
"""The measures of the table in docs/MODEL.md, "What each mechanism does", in its order."""


def measure(replications: int, progress: bool = True) -> pd.DataFrame:
    """Every case's measures over seeds 0 .. replications - 1, one row a case."""
    seeds = range(replications)
    rows = {}
    for name, edit in CASES.items():
        if progress:
            print(f"{name} ...", flush=True)
        rows[name] = {
            **hindcast(edit, seeds),
            **baseline(edit, seeds),
            **recession(edit, seeds),
        }
    return pd.DataFrame(rows).T


def changes(table: pd.DataFrame) -> pd.DataFrame:
    """The table docs/MODEL.md shows: each case's measures minus the defaults', the
    defaults' row as measured."""
    change = table[SHOWN] - table.loc["defaults", SHOWN]
    change.loc["defaults"] = table.loc["defaults", SHOWN]
    return change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    if args.replications < 1:
        parser.error(f"--replications {args.replications}: expected a whole number >= 1")
    table = measure(args.replications)
    print()
    print(markdown(changes(table).round(3)))
    print(
        json.dumps(
            {name: {k: round(v, 4) for k, v in row.items()} for name, row in table.iterrows()}
        )
    )


if __name__ == "__main__":
    main()
