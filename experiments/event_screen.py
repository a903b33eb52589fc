"""What the 1991-2010 record says about each change the history's events make.

The `history` scenario's events apply kinds from the event library
(`src/alignment_sim/data/event_kinds.yaml`), each a list of parameter changes whose sizes
are mostly judgements. This script takes each change of each kind the scenario uses out
alone (the kind keeps its other changes, every event keeps its date and targets) and
scores the record under it at the default parameters: the labels' and the recorded
profiles' log-likelihood (`estimation.likelihood.ConditionalLikelihood`), and the change
from the model as built. A change the record rejects scores better without it; one it
cannot tell scores the same. docs/MODEL.md ("Limits", "What the record says about each
event's changes") reads the table; `tests/test_event_screen.py` (slow) checks that it is
what this script measures.

    python experiments/event_screen.py            # about 15 s; a table and a JSON last line
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
from typing import Any

import pandas as pd

from alignment_sim.estimation.jobs import load_histories
from alignment_sim.estimation.likelihood import ConditionalLikelihood, floored_sum, year_config
from alignment_sim.model.events import compile_scenario, event_library
from alignment_sim.presets import default_config

AS_BUILT = "as built"


def scores(likelihood: ConditionalLikelihood) -> tuple[float, float]:
    """The labels' and the profiles' log-likelihood of the record at the defaults (as
    ``log_likelihood`` and ``profile_log_likelihood`` sum them, from one pass)."""
    labels, profiles = likelihood.label_and_profile_contributions({})
    return float(floored_sum(labels)[0]), float(floored_sum(profiles)[0])


def change_name(kind: str, change: dict[str, Any]) -> str:
    """A change in words: 'trade_embargo: russia economic_pressure scale 1.5'."""
    pole = change.get("pole")
    where = f"{pole} " if isinstance(pole, str) and pole not in ("$targets", "*") else ""
    return f"{kind}: {where}{change['param']} {change['op']} {change['value']:g}"


def screen() -> pd.DataFrame:
    """One row per change of every kind the history uses, after the model as built: the
    labels' and profiles' log-likelihood without that change, and the differences."""
    config = default_config(scenario="history")
    histories = load_histories(config)
    built = ConditionalLikelihood.build(config, histories)
    run = year_config(config, histories)
    library = event_library()
    rows = [(AS_BUILT, *scores(built))]
    for kind in sorted({event.kind for event in run.scenario.events}):
        for index, change in enumerate(library[kind]["changes"]):
            variant = copy.deepcopy(library)
            del variant[kind]["changes"][index]
            program = compile_scenario(run.scenario, built.inputs.world, run.ticks, variant)
            without = dataclasses.replace(
                built, inputs=dataclasses.replace(built.inputs, program=program)
            )
            rows.append((f"without {change_name(kind, change)}", *scores(without)))
    table = pd.DataFrame(rows, columns=["case", "labels", "profiles"]).set_index("case")
    table["labels_change"] = table["labels"] - table.loc[AS_BUILT, "labels"]
    table["profiles_change"] = table["profiles"] - table.loc[AS_BUILT, "profiles"]
    return table


def markdown(table: pd.DataFrame) -> str:
    """The table as docs/MODEL.md shows it (two decimals)."""
    lines = [
        "| case | labels | profiles | labels, change | profiles, change |",
        "|---|---|---|---|---|",
    ]
    for case, row in table.iterrows():
        lines.append(
            f"| {case} | {row['labels']:.2f} | {row['profiles']:.2f} | "
            f"{row['labels_change']:+.2f} | {row['profiles_change']:+.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    table = screen()
    print(markdown(table))
    print(json.dumps({case: round(float(row["labels"]), 4) for case, row in table.iterrows()}))


if __name__ == "__main__":
    main()
