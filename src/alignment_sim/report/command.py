"""The ``alignment-sim-compare`` command: a scenario-comparison report from finished runs.

    alignment-sim-compare results/sweeps/<study> [more folders] [--out DIR]
        [--baseline LABEL] [--bootstrap N] [--seed S]

Inputs are study jobs (``runs.parquet`` ...), single runs (``trajectory.parquet`` ...) or
any folder above them; only finished folders (with ``manifest.json``) are read. Runs are
grouped by a label made of the parameters that differ between inputs, and each group is
compared with the baseline group: the shares of the record labels and of each dimension's
options over time, each state's final label and profile, outcome metrics
(``studies.outcomes.OUTCOMES``) with bootstrap intervals and effect sizes (paired by seed
when the scenarios share seeds: common random numbers), and the utility terms that changed
most. Runs that draw their parameters from a fit (``estimation.sample_parameters``) are
resampled a draw at a time, so the intervals include parameter uncertainty; the baseline
and every scenario must draw from the same fitted set, or none.
The report is ``report.html`` (self-contained) plus the CSV tables behind it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError
from alignment_sim.model.events import NEVER, dated_window
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import EventSpec
from alignment_sim.model.world import quarter
from alignment_sim.outputs.files import (
    MANIFEST,
    CommandParser,
    atomic_folder,
    atomic_write,
    check_replaceable,
    command_errors,
    command_line,
    counted,
    finish_job,
    timestamped_folder,
)
from alignment_sim.outputs.provenance import library_versions, stamp
from alignment_sim.report.entry import draw_figure, start_worker
from alignment_sim.report.inputs import (
    COUNT_METRICS,
    CompareError,
    FolderNote,
    Group,
    Unit,
    collect,
    flatten,
    group_units,
    ordered_union,
)
from alignment_sim.report.page import Section, document, leading_causes, panel_title
from alignment_sim.report.stats import (
    DEFAULT_THRESHOLD,
    MARGIN_COLUMNS,
    MIN_VERDICT_RUNS,
    NO_INTERVAL,
    TOO_FEW,
    ResamplePool,
    bootstrap_bytes,
    effects_later,
    margin_drivers_later,
    moves,
    outcome_summary_later,
    practical,
    t_interval,
    term_drivers,
    threshold_of,
    wilson_interval,
)
from alignment_sim.studies.outcomes import OUTCOMES

PROG = "alignment-sim-compare"
EVENT_FIELDS = {f.name for f in dataclasses.fields(EventSpec)}
DEFAULT_BOOTSTRAP = 2000
MIN_BOOTSTRAP = 100
TOP_DRIVERS = 15


@dataclass
class Report:
    """Where a report was written, and the tables it holds (for callers and tests)."""

    out: Path
    html: Path
    baseline: str
    labels: list[str]
    notes: list[FolderNote]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)


def label_parts(label: str) -> dict[str, str]:
    """The key=value parts of a label ({} for a label that is a scenario's name)."""
    parts = [part.partition("=") for part in label.split(",")]
    return {key: value for key, sep, value in parts if sep}


def match_labels(
    labels: list[str], wanted: str, attributes: dict[str, dict[str, str]]
) -> list[str]:
    """The labels ``wanted`` names: the label itself, or every label whose attributes
    (``label_parts`` and its scenario) hold each comma-separated part of ``wanted``, a
    ``key=value`` or a bare value."""
    if wanted in labels:
        return [wanted]
    parts = [part.strip() for part in wanted.split(",") if part.strip()]

    def holds(label: str, part: str) -> bool:
        found = attributes.get(label) or label_parts(label)
        key, sep, value = part.partition("=")
        return found.get(key) == value if sep else part in found.values()

    return [label for label in labels if parts and all(holds(label, p) for p in parts)]


def choose_baseline(
    labels: list[str], wanted: str | None, attributes: dict[str, dict[str, str]] | None = None
) -> str:
    """The label ``wanted`` names (``match_labels``: the label, a value of it, or key=value
    parts, e.g. 'scenario=baseline'); without one, the label containing 'baseline', else
    the first. Refuses (CompareError) a name that matches no label or several, listing
    them."""
    if wanted is None:
        return next((label for label in labels if "baseline" in label), labels[0])
    found = match_labels(labels, wanted, attributes or {})
    if len(found) == 1:
        return found[0]
    if found:
        raise CompareError(
            f"--baseline {wanted!r} matches {len(found)} labels: "
            + ", ".join(repr(label) for label in found)
            + ". Pass one of them whole, or add key=value parts that pick one (e.g. "
            f"--baseline {found[0]!r})."
        )
    raise CompareError(
        f"--baseline {wanted!r} is not one of the labels of these inputs: "
        + ", ".join(repr(label) for label in labels)
        + ". Pass one of them, a value of one (e.g. 'baseline' for 'scenario=baseline') "
        "or key=value parts of one (e.g. 'scenario=baseline')."
    )


def parse_names(pairs: Sequence[str]) -> dict[str, str]:
    """``--label KEY=TEXT`` options as {KEY: TEXT} (split at the last '=', since labels
    hold '='); CompareError for one without '=' or with an empty side."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.rpartition("=")
        if not sep or not key.strip() or not text.strip():
            raise CompareError(
                f"--label {pair!r}: expected KEY=TEXT, KEY a label (or key=value parts or a "
                "value of one) and TEXT its short name, e.g. --label "
                "scenario=russia_recession=recession."
            )
        out[key.strip()] = text.strip()
    return out


def rename_groups(
    groups: dict[str, Group], names: dict[str, str], attributes: dict[str, dict[str, str]]
) -> dict[str, Group]:
    """The groups under the short names of ``--label`` (each KEY must name exactly one
    label, as ``--baseline`` does; names must stay distinct)."""
    labels = list(groups)
    new = {label: label for label in labels}
    for key, text in names.items():
        found = match_labels(labels, key, attributes)
        if len(found) != 1:
            listed = ", ".join(repr(label) for label in (found or labels))
            what = f"matches {len(found)} labels" if found else "matches no label"
            raise CompareError(f"--label {key}={text}: {key!r} {what}: {listed}.")
        new[found[0]] = text
    if len(set(new.values())) < len(new):
        raise CompareError(
            "--label: two scenarios would share a name: " + ", ".join(sorted(new.values())) + "."
        )
    out = {}
    for label, group in groups.items():
        group.label = new[label]
        out[new[label]] = group
    return out


def _source(sampling: tuple[str, str] | None) -> str:
    if sampling is None:
        return "its configuration's own parameter values"
    return f"draws of the fitted set {sampling[0]} (estimation.sample_parameters)"


def parameter_uncertainty(groups: dict[str, Group], labels: list[str]) -> str:
    """The page's note when runs draw their parameters from a fit ('' when none do).

    Refuses (CompareError) a label whose folders differ in whether or from which fitted
    set their runs draw, and a scenario that differs so from the baseline (``labels[0]``):
    its effects would count parameter uncertainty on one side only, or compare two fits.
    """
    sources: dict[str, tuple[str, str] | None] = {}
    for label in labels:
        found = list(dict.fromkeys(u.sampling for u in groups[label].units))
        if len(found) > 1:
            raise CompareError(
                f"the folders of {label!r} mix runs on "
                + " and runs on ".join(_source(f) for f in found)
                + ": run them all alike, or compare them apart."
            )
        sources[label] = found[0]
    base = sources[labels[0]]
    for label in labels[1:]:
        other = sources[label]
        if other == base:
            continue
        same_name = base is not None and other is not None and base[0] == other[0]
        theirs = (
            "another version of that set (their digests differ)" if same_name else _source(base)
        )
        raise CompareError(
            f"scenario {label!r} runs on {_source(other)} but the baseline {labels[0]!r} on "
            f"{theirs}: the effects would mix parameter uncertainty into one side or compare "
            "two fits. Run both with the same fit=NAME and estimation.sample_parameters=true "
            "(and the same seed and replications: they then share their draws), or both "
            "without."
        )
    if base is None:
        return ""
    draws = sorted({u.n_draws for g in groups.values() for u in g.units})
    return (
        f"Runs draw their parameters from the fit {base[0]} ({' or '.join(map(str, draws))} "
        "draws): intervals include parameter uncertainty (the bootstrap resamples the draws, "
        "each with all its runs)."
    )


def comparability_warnings(groups: dict[str, Group], labels: list[str]) -> list[str]:
    """What the user should hear about what the scenarios share: a scenario whose runs end
    at another tick than the baseline's (its final shares are read at another date), or
    whose world has other states (its shares are of another set), and a comparison of one
    scenario alone (its outcomes described, no effect estimated)."""
    if len(labels) == 1:
        return [f"only {labels[0]!r}: its outcomes are described, no effect is estimated"]

    def horizon(label: str) -> str:
        ticks = sorted(
            {int(u.manifest.get("config", {}).get("ticks", -1)) for u in groups[label].units}
        )
        return " or ".join(map(str, ticks))

    base = horizon(labels[0])
    said = [
        f"{label!r} runs {horizon(label)} ticks and the baseline {labels[0]!r} {base}: its "
        "final shares and effects are read at another date than the baseline's"
        for label in labels[1:]
        if horizon(label) != base
    ]

    def states(label: str) -> list[str]:
        return ordered_union(u.states for u in groups[label].units)

    for label in labels[1:]:
        missing = [s for s in states(labels[0]) if s not in states(label)]
        added = [s for s in states(label) if s not in states(labels[0])]
        if missing or added:
            parts = [f"without {', '.join(missing)}"] if missing else []
            parts += [f"with {', '.join(added)}"] if added else []
            said.append(
                f"{label!r} has other states than the baseline ({'; '.join(parts)}): its "
                "shares are of another set of states, so part of each effect on a share is "
                "the set's, not the scenario's"
            )
    return said


NOT_COMPARED = ("seed", "replications", "study", "engine", "output", "design", "task", "scenario")
"""Config sections that say how runs were made, not what was simulated (the scenario is
described apart): never listed as differences."""
MOST_DIFFERENCES = 12


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)


def differences(config: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """The parameters of ``config`` that differ from the baseline's, in words, with their
    resolved values ('decision.rule: logit in the baseline, best_response here')."""
    mine = flatten({k: v for k, v in config.items() if k not in NOT_COMPARED})
    theirs = flatten({k: v for k, v in base.items() if k not in NOT_COMPARED})
    lines = [
        f"{key}: {_value_text(theirs.get(key))} in the baseline, {_value_text(mine.get(key))} here"
        for key in ordered_union([mine, theirs])
        if mine.get(key) != theirs.get(key)
    ]
    if len(lines) > MOST_DIFFERENCES:
        more = len(lines) - MOST_DIFFERENCES
        lines = [*lines[:MOST_DIFFERENCES], f"and {more} more (the inputs' manifest.json)"]
    return lines


@dataclass(frozen=True)
class EventMark:
    """When an event of a scenario is in force, for the time plots: ``start`` and ``end``
    in years (``end`` None: a hazard, whose start differs from run to run)."""

    label: str
    event: str
    timing: str
    start: float | None
    end: float | None
    what: str = ""
    """The event's kind, its targets and its magnitude when not 1."""
    source: str = ""


def event_marks(unit: Unit) -> list[EventMark]:
    """A unit's events with their timing in ticks and the quarters they cover (a tick t
    covers the years from ``year_of_tick(t - 1)`` to ``year_of_tick(t)``, the quarter
    that starts at the first; dated events placed as the engine places them,
    ``events.dated_window``)."""
    config = unit.config
    region = config.get("region") or {}
    year, months = int(region.get("year", 0)), int(region.get("tick_months", 3))
    ticks = int(config.get("ticks", 0))

    def at(tick: int) -> float:
        return year + tick * months / 12

    marks = []
    for raw in unit.events:
        event = EventSpec(**{k: v for k, v in raw.items() if k in EVENT_FIELDS})
        name = event.label or event.kind
        what = event.kind + (f" on {', '.join(event.targets)}" if event.targets else "")
        if event.magnitude != 1:
            what += f", magnitude {event.magnitude:g}"
        if event.hazard is not None:
            lasting = f"{event.duration} ticks" if event.duration else "for good"
            timing = f"starts with probability {event.hazard:g} per tick (once), {lasting}"
            marks.append(EventMark(unit.scenario, name, timing, None, None, what, event.source))
            continue
        if event.date is not None:
            placed = dated_window(event, event.date, year, months, ticks)
            if placed is None:
                continue
            start, duration = placed
        else:
            start, duration = int(event.at or 1), event.duration or NEVER
        last = min(start + duration - 1, ticks)
        lasting = "the end of the run" if start + duration - 1 >= ticks else str(last)
        timing = f"ticks {start} to {lasting} ({quarter(at(start - 1))} to {quarter(at(last - 1))})"
        marks.append(
            EventMark(unit.scenario, name, timing, at(start - 1), at(last), what, event.source)
        )
    return marks


def scenario_table(groups: dict[str, Group], labels: list[str]) -> pd.DataFrame:
    """Per scenario: its name, description, events with their timing, and the parameters
    that differ from the baseline's (``labels[0]``), resolved."""
    base = groups[labels[0]].units[0].config
    rows = []
    for label in labels:
        unit = groups[label].units[0]
        rows.append(
            {
                "label": label,
                "scenario": unit.scenario,
                "description": unit.description,
                "events": "; ".join(f"{m.event} ({m.what}): {m.timing}" for m in event_marks(unit))
                or "none",
                "differences": (
                    "; ".join(differences(unit.config, base)) or "none besides the scenario"
                )
                if label != labels[0]
                else "(the baseline)",
            }
        )
    return pd.DataFrame(rows)


def event_table(groups: dict[str, Group], labels: list[str]) -> pd.DataFrame:
    """Every event of every scenario with its years, for the markers of the time plots."""
    columns = ["label", "event", "what", "timing", "start", "end", "source"]
    rows = [
        {**dataclasses.asdict(m), "label": label}  # the group's label, not the scenario's
        for label in labels
        for m in event_marks(groups[label].units[0])
    ]
    return pd.DataFrame(rows, columns=columns)


def outcome_metrics(groups: list[Group]) -> list[str]:
    """The outcome columns every group has: counts, then final shares, then mean shares
    (record labels, then each dimension's options)."""
    present = set.intersection(*(set(g.runs.columns) for g in groups))
    columns = [c for c in ordered_union(g.runs.columns for g in groups) if c in present]
    return [
        *(m for m in COUNT_METRICS if m in present),
        *(c for c in columns if c.startswith("final_share_")),
        *(c for c in columns if c.startswith("mean_share_")),
    ]


ENVELOPE = (0.1, 0.5, 0.9)
"""The quantiles over runs drawn around each mean share: a 10-90% band and the median."""


def envelopes(levels: pd.DataFrame, n_states: int) -> pd.DataFrame:
    """Per tick and share: the 10%, 50% and 90% points of the share over runs (the
    smallest share at least that fraction of runs have at or below it), from the counts of
    runs at each level (``Group.levels``)."""
    keys = ["tick", "kind", "option"]
    frame = levels.sort_values([*keys, "level"], kind="stable")
    grouped = frame.groupby(keys, sort=False, dropna=False)
    group = grouped.ngroup().to_numpy()  # 0, 1, ... in the order of ``out``'s rows
    cumulative = grouped["count"].cumsum().to_numpy()
    total = grouped["count"].transform("sum").to_numpy()
    level = frame["level"].to_numpy()
    out = frame[keys].drop_duplicates().reset_index(drop=True)
    for q in ENVELOPE:
        reached = np.flatnonzero(cumulative >= q * total)  # a group's last row always is
        first = reached[np.r_[True, np.diff(group[reached]) != 0]]
        out[f"p{round(q * 100)}"] = level[first] / n_states
    return out


def shares_table(
    groups: dict[str, Group], labels: list[str], shares: list[tuple[str, str]]
) -> pd.DataFrame:
    """Mean of each share (kind: label, security or economy; option) per scenario and
    tick, with a 95% t-interval of the mean over runs (clipped to [0, 1], the range of a
    share) and the spread of the runs (p10, p50, p90: ``envelopes``); the options of one
    kind sum to one at every tick."""
    parts = []
    for label in labels:
        sums = groups[label].ticks
        ci = t_interval(sums["n"].to_numpy(), sums["sum"].to_numpy(), sums["sumsq"].to_numpy())
        part = pd.DataFrame(
            {
                "label": label,
                "tick": sums["tick"].to_numpy(),
                "year": (sums["year_sum"] / sums["n"]).to_numpy(),
                "kind": sums["kind"].to_numpy(),
                "option": sums["option"].to_numpy(),
                "runs": sums["n"].to_numpy(),
                "mean": ci["mean"].to_numpy(),
                "ci_low": ci["ci_low"].clip(0, 1).to_numpy(),
                "ci_high": ci["ci_high"].clip(0, 1).to_numpy(),
            }
        )
        spread = envelopes(groups[label].levels, len(groups[label].states))
        parts.append(part.merge(spread, on=["tick", "kind", "option"], how="left"))
    table = pd.concat(parts, ignore_index=True)
    order = {share: n for n, share in enumerate(shares)}
    table["position"] = [order[s] for s in zip(table["kind"], table["option"], strict=True)]
    table["label"] = pd.Categorical(table["label"], categories=labels, ordered=True)
    table = table.sort_values(["label", "position", "tick"], kind="stable")
    table["label"] = table["label"].astype(str)
    return table.drop(columns="position").reset_index(drop=True)


def probability_table(
    groups: dict[str, Group],
    labels: list[str],
    states: list[str],
    options: list[str],
    profiles: bool = False,
) -> pd.DataFrame:
    """Each state's probability of ending with each record label (``options``), or in
    each profile (``profiles``), per scenario (Wilson intervals)."""
    parts = []
    for label in labels:
        group = groups[label]
        finals = group.profile_finals if profiles else group.finals
        counts = finals.pivot(index="state", columns="option", values="count")
        values = counts.reindex(index=states, columns=options).fillna(0).to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "label": label,
                    "state": np.repeat(states, len(options)),
                    "option": np.tile(options, len(states)),
                    "count": values.reshape(-1),
                    "runs": group.n_runs,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    table["count"] = table["count"].astype(np.int64)
    table["probability"] = table["count"] / table["runs"]
    low, high = wilson_interval(table["count"].to_numpy(), table["runs"].to_numpy())
    table["ci_low"], table["ci_high"] = low, high
    return table


def _fmt_interval(mean: float, low: float, high: float) -> str:
    if np.isnan(low):
        return f"{mean:.3g} ({NO_INTERVAL})"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _unique(values: list[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def provenance_table(
    groups: dict[str, Group], labels: list[str], parameters: dict[str, str] | None = None
) -> pd.DataFrame:
    """Per scenario: its parameters (when --label renamed it), runs, folders, seeds,
    scenario, package versions and git revisions."""
    rows = []
    for label in labels:
        group = groups[label]
        seeds = group.runs["seed"]
        rows.append(
            {
                "label": label,
                **(
                    {"parameters": parameters.get(label, label)}
                    if parameters and any(k != v for k, v in parameters.items())
                    else {}
                ),
                "runs": group.n_runs,
                "folders": len(group.units),
                "kind": _unique([u.kind for u in group.units]),
                "scenario": _unique([u.scenario for u in group.units]),
                "seeds": f"{seeds.min()}-{seeds.max()}",
                "version": _unique([str(u.manifest.get("version", "?")) for u in group.units]),
                "git_revision": _unique(
                    [str(u.manifest.get("git_revision", "?")) for u in group.units]
                ),
            }
        )
    return pd.DataFrame(rows)


def inputs_table(groups: dict[str, Group], notes: list[FolderNote]) -> pd.DataFrame:
    """Every folder found: used (with its label and runs) or left out (with the reason)."""
    rows = [
        {
            "folder": _relative(u.path),
            "status": "used",
            "label": label,
            "kind": u.kind,
            "runs": u.n_runs,
            "version": str(u.manifest.get("version", "")),
            "git_revision": str(u.manifest.get("git_revision", "")),
            "created_utc": str(u.manifest.get("created_utc", "")),
            "reason": "",
        }
        for label, g in groups.items()
        for u in g.units
    ]
    rows += [
        {"folder": _relative(n.path), "status": n.status, "runs": 0, "reason": n.reason}
        for n in notes
    ]
    return pd.DataFrame(rows).fillna({"label": "", "kind": "", "version": "", "git_revision": ""})


GLANCE_STATES = 3
"""States per scenario in the at-a-glance list: those whose final profile moves most."""
GLANCE_EFFECTS = 4
"""Outcomes beyond the threshold listed per scenario at a glance (the rest named after)."""


def _pp(change: float) -> str:
    """A change of probability in percentage points."""
    return f"{100 * change:+.1f} pp"


def _moved(heads: pd.DataFrame, side: str) -> list[str]:
    """Each state's profile on one side of its move (leaves or joins) with its change."""
    changes = heads[f"{side}_change"].to_numpy(dtype=float)
    return [f"{p} ({_pp(c)})" for p, c in zip(heads[side], changes, strict=True)]


def largest_causes(margins: pd.DataFrame, most: int = 3) -> dict[str, str]:
    """Per state of one scenario's margin drivers, the largest non-zero causes of its
    margin change, as 'term +x, ...' ('none' for a state without one)."""
    causes = margins[leading_causes(margins, most)]
    found: dict[str, list[str]] = {state: [] for state in margins["state"]}
    for state, term, change in zip(causes["state"], causes["term"], causes["change"], strict=True):
        found[state].append(f"{term} {change:+.3g}")
    return {state: ", ".join(texts) or "none" for state, texts in found.items()}


def state_stories(margins: pd.DataFrame, label: str, states: int, threshold: float) -> list[str]:
    """The largest state-level changes of a scenario (those whose final distribution moves
    by at least ``threshold`` percentage points and whose margin's change has an interval
    that excludes 0: a move of two runs in thirty, with a margin that did not move, is
    noise), each with the change of its margin and that change's largest causes
    (``stats.margin_drivers_later``)."""
    part = margins[(margins["label"] == label) & (margins["shift"] >= threshold / 100)]
    whole_rows = part[part["term"] == "all causes"]
    moved = whole_rows[(whole_rows["ci_low"] > 0) | (whole_rows["ci_high"] < 0)]["state"]
    part = part[part["state"].isin(set(moved))]
    causes = largest_causes(part)
    lines = []
    for state in list(dict.fromkeys(part["state"]))[:states]:
        rows = part[part["state"] == state]
        first = rows.iloc[0]
        whole = rows[rows["term"] == "all causes"].iloc[0]
        consequence = rows[rows["role"] == "consequence"]
        text = (
            f"{state}: ends in {first.joins} {_pp(first.joins_change)}, in {first.leaves} "
            f"{_pp(first.leaves_change)}; the margin of {first.joins} over {first.leaves} "
            f"changes by {whole.change:+.3g} [{whole.ci_low:+.3g}, {whole.ci_high:+.3g}] "
            f"(utility units): {causes[state]}"
        )
        if len(consequence):
            text += "; " + ", ".join(
                f"{r.term} {r.change:+.3g} (a consequence of moving)"
                for r in consequence.itertuples()
            )
        lines.append(text)
    return lines


def _at_a_glance(
    effect: pd.DataFrame, margins: pd.DataFrame, labels: list[str], threshold: float
) -> dict[str, list[str]]:
    """Per scenario: the outcome differences beyond the practical threshold (largest
    standardised effects first), how many more are real but negligible, and the states
    that move most, with why."""
    out: dict[str, list[str]] = {}
    for label in labels[1:]:
        mine = effect[effect["label"] == label]
        if len(mine) and (mine["practical"] == TOO_FEW).all():
            runs = int(mine["n_compared"].min())
            out[label] = [
                f"{counted(runs, 'run')} compared: too few for a verdict (at least "
                f"{MIN_VERDICT_RUNS}); effects.csv has the differences and intervals"
            ]
            continue
        beyond = mine[mine["practical"] == "beyond"]
        ranked = beyond.iloc[np.argsort(-beyond["cohens_d"].abs().to_numpy(), kind="stable")]
        rows = ranked.head(GLANCE_EFFECTS)
        points = [
            f"{r.metric}: {r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}], "
            f"d = {r.cohens_d:+.2f} ({'paired' if r.paired else 'unpaired'})"
            for r in rows.itertuples()
        ] or [f"no outcome differs from the baseline by more than the threshold ({threshold:g})"]
        if len(ranked) > len(rows):
            rest = ranked.iloc[len(rows) :]
            points.append(
                f"{len(rest)} more beyond the threshold (effects.csv): {', '.join(rest['metric'])}"
            )
        sign = mine[mine["ci_excludes_zero"] & (mine["practical"] == "unclear")]
        if len(sign):
            points.append(
                f"{len(sign)} more differ from the baseline (interval excludes 0) by an amount "
                f"the interval leaves unclear against the threshold: {', '.join(sign['metric'])}"
            )
        small = mine[mine["ci_excludes_zero"] & (mine["practical"] == "negligible")]
        if len(small):
            points.append(
                f"{len(small)} more differ from the baseline (interval excludes 0) but by less "
                f"than the threshold: {', '.join(small['metric'])}"
            )
        if (mine["practical"] == "no interval").all() and len(mine):
            points.append(f"{NO_INTERVAL}: a single run on one side")
        points += state_stories(margins, label, GLANCE_STATES, threshold) or [
            f"no state's final profile moves by {threshold:g} percentage points or more with "
            "its margin's change clear of 0"
        ]
        out[label] = points
    return out


def _last_tick_table(table: pd.DataFrame, labels: list[str], kinds: list[str]) -> pd.DataFrame:
    """The shares of ``kinds`` at each scenario's last tick, in per cent: mean [95%
    interval of the mean] and the runs' 10-90% range."""
    last = table[table["tick"] == table.groupby("label")["tick"].transform("max")]
    last = last[last["kind"].isin(kinds)]
    names = [panel_title(k, o) for k, o in zip(last["kind"], last["option"], strict=True)]
    cells = zip(
        last["mean"], last["ci_low"], last["ci_high"], last["p10"], last["p90"], strict=True
    )
    wide = last.assign(
        name=names,
        value=[
            (
                f"{m:.1%} ({NO_INTERVAL})"
                if np.isnan(lo)
                else f"{m:.1%} [{lo:.1%}, {hi:.1%}]; runs {p10:.0%}-{p90:.0%}"
            )
            for m, lo, hi, p10, p90 in cells
        ],
    ).pivot(index="label", columns="name", values="value")
    return wide.reindex(index=labels, columns=list(dict.fromkeys(names))).reset_index()


def _section_scenarios(
    scenarios: pd.DataFrame, events: pd.DataFrame, parameters: dict[str, str]
) -> Section:
    section = Section(
        "scenarios",
        "The scenarios",
        "What each scenario is: its description, its events and when they are in force (a "
        "tick is a quarter; an event in force from tick t covers the quarters from t on), "
        "and the parameters that differ from the baseline, with their resolved values. The "
        "time plots mark each event: a dashed line where it starts and a band while it is "
        "in force, in its scenario's colour.",
    )
    rows = scenarios.assign(parameters=[parameters.get(x, x) for x in scenarios["label"]])
    renamed = rows["parameters"] != rows["label"]
    columns = ["label", "parameters", "scenario", "description", "events", "differences"]
    section.add_table(
        rows[columns] if renamed.any() else rows[[c for c in columns if c != "parameters"]]
    )
    hazards = events[events["start"].isna()]
    if len(hazards):
        section.add_text(
            "Events that start by chance (a hazard) start at a different tick in each run, so "
            "the time plots do not mark them: "
            + "; ".join(f"{r.label}: {r.event}" for r in hazards.itertuples())
            + ".",
            "note",
        )
    section.add_text("Also in scenarios.csv and events.csv.")
    return section


def _section_shares(table: pd.DataFrame, labels: list[str], pngs: Mapping[str, bytes]) -> Section:
    section = Section(
        "shares",
        "Bloc shares over time",
        "The share of states with each record label (a bloc, or hedge: the record's rule "
        "applied to a state's security and economic alignment), and the share in each "
        "option of each dimension (security: a bloc or none; economy: a bloc or open). "
        "Lines are the mean over each scenario's runs; the dark band is the 95% confidence "
        "interval of that mean (t-interval over runs: how sure the average is), the light "
        "band the spread of the runs themselves, from their 10th to their 90th percentile "
        "(what single histories do). All panels share one y-axis, 0 to 1 (a share of 1 is "
        "every state). Dashed lines and bands mark the scenarios' events.",
    )
    section.add_image(pngs["shares_1"], "record-label shares")
    section.add_image(pngs["shares_2"], "shares of each dimension")
    section.add_heading("Shares at the last tick: mean [95% interval of the mean]; runs 10-90%")
    section.add_table(_last_tick_table(table, labels, ["label"]))
    section.add_table(_last_tick_table(table, labels, ["security", "economy"]))
    section.add_text("Every tick, with p10, p50 and p90 over runs, is in shares_over_time.csv.")
    return section


def _section_alignment(labels: list[str], pngs: Mapping[str, bytes]) -> Section:
    section = Section(
        "alignment",
        "Where each state ends",
        "The probability that each state ends the run with each record label: the "
        "fraction of a scenario's runs that ended so (each row sums to 100%). The second "
        "figure shows the change against the baseline (red: more likely, blue: less); the "
        "last, the probability of each profile (security/economy) the labels come from.",
    )
    section.add_image(pngs["alignment_1"], "final alignment")
    if len(labels) > 1:
        section.add_image(pngs["alignment_2"], "change of final alignment vs baseline")
    section.add_image(pngs[f"alignment_{min(len(labels), 2) + 1}"], "final profile")
    section.add_text(
        "With 95% Wilson intervals in alignment_probability.csv (labels) and "
        "profile_probability.csv (profiles)."
    )
    return section


DISTRIBUTION_METRICS = ("switches", "label_switches", "time_to_stability", "states_switched")


def _section_outcomes(
    outcomes: pd.DataFrame, labels: list[str], n_boot: int, ticks: int, pngs: Mapping[str, bytes]
) -> Section:
    section = Section(
        "outcomes",
        "Outcome metrics",
        f"Per scenario, the mean over runs with a bootstrap 95% interval of that mean ({n_boot} "
        "resamples of the runs, percentile method), and the spread of the runs: their 10th, "
        "50th and 90th percentiles. Shares are fractions of the region's states (0.25 is a "
        "quarter of them); counts are summed over every state and tick.",
    )
    section.add_list(
        f"{name}: {what}" for name, what in OUTCOMES.items() if not name.endswith("<state>")
    )
    section.add_text(
        f"time_to_stability is in ticks (quarters) and censored at the run's end: a run whose "
        f"states still switch at its last tick ({ticks}) has time_to_stability = {ticks}, "
        "which means 'not settled', not 'settled then'.",
        "note",
    )
    metrics = list(dict.fromkeys(outcomes["metric"]))
    section.add_image(pngs["outcomes_1"], "distributions of outcomes over runs")
    wide = outcomes.assign(
        value=[
            _fmt_interval(m, lo, hi) + (f"; runs {p10:.3g}-{p90:.3g}" if n > 1 else "")
            for m, lo, hi, p10, p90, n in zip(
                outcomes["mean"], outcomes["ci_low"], outcomes["ci_high"], outcomes["p10"],
                outcomes["p90"], outcomes["runs"], strict=True,
            )
        ]
    ).pivot(index="metric", columns="label", values="value")  # fmt: skip
    section.add_heading("Mean [95% interval of the mean]; runs 10-90%")
    section.add_table(wide.reindex(index=metrics, columns=labels).reset_index())
    return section


def _section_effects(
    effect: pd.DataFrame,
    labels: list[str],
    base: str,
    uncertainty: str,
    threshold: float,
    pngs: Mapping[str, bytes],
) -> Section:
    section = Section(
        "effects",
        f"Effects against the baseline ({base})",
        "Difference in means (scenario minus baseline) with a bootstrap 95% interval, and "
        "Cohen's d: the difference over the pooled standard deviation of the two scenarios, "
        "comparable across metrics. Scenarios run with the same seeds share their random "
        "numbers (common random numbers); they are compared run by run ('paired'), which "
        "removes the shared noise and narrows the interval. Otherwise the scenarios are "
        "resampled independently ('unpaired'). With many runs a tiny difference gets a "
        "narrow interval that excludes zero, so each difference is also judged against a "
        f"smallest effect of interest (--threshold {threshold:g}): {threshold:g} percentage "
        f"points for a share, {threshold:g}% of the baseline's mean for a count. 'beyond': "
        "the whole 95% interval lies outside that band; 'negligible': wholly inside it (the "
        "scenarios are practically the same, an equivalence test); 'unclear': neither; "
        f"'{TOO_FEW}': fewer than {MIN_VERDICT_RUNS} runs compared, whose bootstrap interval "
        "(of width 0 when they all agree) supports no verdict.",
    )
    if uncertainty:
        section.add_text(uncertainty, "note")
    if effect.empty:
        section.add_text("Only one scenario: there is nothing to compare.", "note")
        return section
    judged = int((effect["practical"] != "no interval").sum())
    section.add_text(
        f"Multiple comparisons: this section holds {judged} intervals at 95% each, so about "
        f"{0.05 * judged:.1f} would exclude zero by chance alone if nothing differed. The "
        "intervals are not adjusted (a Bonferroni level of "
        f"{100 * (1 - 0.05 / max(judged, 1)):.2f}% would need far more resamples); read a "
        "single marginal result with care, and prefer differences beyond the threshold.",
        "note",
    )
    section.add_image(pngs["effects_1"], "effect sizes")
    for label in [label for label in labels if label in set(effect["label"])]:
        rows = effect[effect["label"] == label]
        section.add_heading(f"{label}: {rows['pairing'].iloc[0]}")
        section.add_table(
            pd.DataFrame(
                {
                    "metric": rows["metric"],
                    "baseline": rows["mean_baseline"],
                    "scenario": rows["mean_scenario"],
                    "difference [95%]": [
                        _fmt_interval(m, lo, hi)
                        for m, lo, hi in zip(
                            rows["difference"], rows["ci_low"], rows["ci_high"], strict=True
                        )
                    ],
                    "Cohen's d [95%]": [
                        _fmt_interval(m, lo, hi)
                        for m, lo, hi in zip(
                            rows["cohens_d"], rows["d_ci_low"], rows["d_ci_high"], strict=True
                        )
                    ],
                    "interval excludes 0": rows["ci_excludes_zero"],
                    "vs threshold": rows["practical"],
                }
            )
        )
    return section


def distinct_changes(drivers: pd.DataFrame) -> pd.DataFrame:
    """One row per change (``stats.term_drivers``' rank) of each scenario."""
    return drivers.drop_duplicates(["label", "rank"])


def _section_margins(
    margins: pd.DataFrame, labels: list[str], notes: list[str], pngs: Mapping[str, bytes]
) -> Section:
    section = Section(
        "margins",
        "What drove the differences",
        "For each state whose final profile changes, the two profiles it moves between, "
        "from the runs: the one it leaves (whose probability of ending the run falls most) "
        "and the one it joins (rises most). A state chooses by the margin between its "
        "options (logit: the odds of two profiles are exp(rationality x margin)), so what "
        "explains the move is the change of the margin U(joins) - U(leaves), averaged over "
        "the run, split into the utility terms it is made of, ranked by size, with "
        "bootstrap 95% intervals (paired by seed when possible). The switching cost is "
        "shown apart as a consequence: it is paid on every profile but the one a state "
        "holds, so it changes because the state moved, and explains nothing. States are "
        "ranked by how much of their final distribution moves (shift: the share of runs "
        "that end elsewhere).",
    )
    empty = "No state's final profile changes (or there are no term tables)."
    if not _opened(section, notes, margins, empty):
        return section
    section.add_image(pngs["margins_1"], "margin drivers")
    for label in [label for label in labels if label in set(margins["label"])]:
        part = margins[margins["label"] == label]
        heads = part.drop_duplicates("state")
        whole = part[part["term"] == "all causes"].set_index("state")
        consequence = part[part["role"] == "consequence"].groupby("state")["change"].sum()
        causes = largest_causes(part)
        section.add_heading(f"{label}: states by how much they move")
        section.add_table(
            pd.DataFrame(
                {
                    "state": heads["state"],
                    "leaves": _moved(heads, "leaves"),
                    "joins": _moved(heads, "joins"),
                    "shift": heads["shift"],
                    "margin change [95%] (all causes)": [
                        _fmt_interval(*values)
                        for values in whole.reindex(heads["state"])[
                            ["change", "ci_low", "ci_high"]
                        ].to_numpy(dtype=float)
                    ],
                    "largest causes": [causes[state] for state in heads["state"]],
                    "switching (a consequence)": consequence.reindex(heads["state"]).to_numpy(),
                }
            )
        )
    section.add_text("Every state and term, with intervals, is in margin_drivers.csv.")
    return section


def _opened(section: Section, notes: list[str], table: pd.DataFrame, empty: str) -> bool:
    """A drivers section's opening: its notes, then, when ``table`` is empty, ``empty``
    (False: nothing more to show)."""
    for note in notes:
        section.add_text(note, "note")
    if table.empty:
        section.add_text(empty, "note")
    return not table.empty


def _section_drivers(
    drivers: pd.DataFrame, labels: list[str], notes: list[str], pngs: Mapping[str, bytes]
) -> Section:
    section = Section(
        "drivers",
        "Which utility terms changed",
        "Each state's utility of a profile (security/economy) is a sum of weighted terms "
        "(protection, trade, inducements, ...): the terms of its security option plus those "
        "of its economic option. For each scenario, the change of every term's mean "
        "contribution against the baseline, per state and profile, ranked by size, with a "
        "95% t-interval (paired by seed when possible). A term of one choice is the "
        "same on every profile with that option ('west/*': security west, any economy; "
        "'*/china': economy china, any security) and is listed once. 'utility change' is "
        "the change of the whole utility of that state and profile (term_drivers.csv). "
        "Intervals here are normal-theory 95% t-intervals (thousands of cells). "
        "Choices depend on utility differences between options, so a term that moves "
        "every option of a state alike changes no choice: the section above gives the "
        "margins that explain the moves; this one is the detail, and is dominated by the "
        "scenario's own inputs.",
    )
    empty = "No term changes to show (one scenario, or no term tables)."
    if not _opened(section, notes, drivers, empty):
        return section
    section.add_image(pngs["drivers_1"], "term drivers")
    for label in [label for label in labels if label in set(drivers["label"])]:
        top = distinct_changes(drivers[drivers["label"] == label]).head(TOP_DRIVERS)
        section.add_heading(f"{label}: the {len(top)} largest changes")
        section.add_table(
            pd.DataFrame(
                {
                    "rank": top["rank"],
                    "state": top["state"],
                    "profiles": top["applies_to"],
                    "term": top["term"],
                    "baseline": top["mean_baseline"],
                    "scenario": top["mean_scenario"],
                    "change [95%]": [
                        _fmt_interval(m, lo, hi)
                        for m, lo, hi in zip(
                            top["change"], top["ci_low"], top["ci_high"], strict=True
                        )
                    ],
                }
            )
        )
    section.add_text("Every state, profile and term is in term_drivers.csv.")
    return section


def _section_provenance(
    provenance: pd.DataFrame,
    folders: pd.DataFrame,
    notes: list[FolderNote],
    command: str,
    n_boot: int,
    seed: int,
) -> Section:
    section = Section(
        "provenance",
        "Provenance",
        "What went into this report: the runs per scenario, the package versions and git "
        "revisions that produced them (a '+dirty' revision had uncommitted changes), and "
        "every folder found, including those left out. The same inputs, bootstrap size and "
        "seed give the same report.",
    )
    section.add_list(
        [
            f"Command: {command}",
            f"Bootstrap: {n_boot} resamples, seed {seed}",
            f"Created: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        ]
    )
    section.add_table(provenance)
    if notes:
        section.add_heading(f"Folders left out ({len(notes)})")
        section.add_list(f"{_relative(n.path)}: {n.status}, {n.reason}" for n in notes)
    else:
        section.add_text("No folder was left out.")
    section.add_heading("Input folders")
    section.add_table(folders[["folder", "status", "label", "kind", "runs"]])
    return section


def memory_budget() -> int:
    """Bytes a report may use: half of what this process may still allocate (free memory
    under any cgroup or ulimit cap, ``batch.available_memory_bytes``, as the engine's
    check reads it; half of the machine's physical memory counted memory others hold)."""
    from alignment_sim.engine.batch import available_memory_bytes

    return available_memory_bytes() // 2


def check_bootstrap_memory(n_boot: int, groups: list[Group], metrics: list[str]) -> None:
    """Refuse a bootstrap that would not fit in memory, naming the largest that would: the
    outcomes resample an array of the metrics per scenario, the effects four per scenario
    but the baseline (``groups[0]``), the margins one per state and term; all are held at
    once (``bootstrap_bytes``)."""
    margins = [len(g.states) * (len(TERMS) + 2) for g in groups[1:] if g.terms is not None]
    columns = max([4 * len(metrics), *margins])
    held = len(metrics) * (len(groups) + 4 * (len(groups) - 1)) + sum(margins)
    need, budget = bootstrap_bytes(n_boot, columns, held), memory_budget()
    if need > budget:
        most = budget // bootstrap_bytes(1, columns, held)
        raise CompareError(
            f"--bootstrap {n_boot}: would need about {need / 2**30:,.1f} GiB of memory "
            f"({held} columns resampled, {columns} in the largest table); expected at most "
            f"{most:,} resamples, which fit in half of the "
            f"{2 * budget / 2**30:,.1f} GiB this process may still allocate."
        )


REPORT_NAMES = ("report.html", "*.csv", "figure_*.png", MANIFEST)
"""The files a report folder holds: the only ones ``--out`` may replace
(``files.check_replaceable``)."""


@dataclass
class Comparison:
    """Every table of a report, before anything is drawn or written."""

    baseline: str
    labels: list[str]
    options: list[str]
    """The record labels."""
    profiles: list[str]
    shares: list[tuple[str, str]]
    """Every share: (kind, option), ``studies.outcomes.share_kinds``."""
    states: list[str]
    groups: dict[str, Group]
    notes: list[FolderNote]
    tables: dict[str, pd.DataFrame]
    driver_notes: list[str]
    n_boot: int
    seed: int
    uncertainty: str = ""
    """The note on parameter uncertainty ('' when no run draws its parameters)."""
    threshold: float = DEFAULT_THRESHOLD
    """The practical-significance threshold, percentage points (``stats.threshold_of``)."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Each label's parameters (the label it had before ``--label`` renamed it)."""

    def same_states(self, label: str) -> bool:
        """Whether ``label``'s runs are of the baseline's states: only then does a seed
        draw the same numbers in both, so that runs pair by seed (``stats.pair_by_seed``)."""
        return self.groups[label].states == self.groups[self.baseline].states


Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """A log that says nothing."""


def _unheard(_: Comparison) -> None:
    """An ``early`` hand-off that nobody listens to."""


def judged_effects(effect: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The effects with each metric's smallest effect of interest (``threshold`` column,
    in the metric's units, ``stats.threshold_of``) and the verdict of its interval against
    it (``practical``: beyond, negligible, unclear or no interval)."""
    limit = [
        threshold_of(m, b, threshold)
        for m, b in zip(effect["metric"], effect["mean_baseline"], strict=True)
    ]
    return effect.assign(
        threshold=limit,
        practical=practical(
            effect["ci_low"].to_numpy(dtype=float),
            effect["ci_high"].to_numpy(dtype=float),
            np.asarray(limit, dtype=float),
            effect["n_compared"].to_numpy(),
        ),
    )


def compare(
    inputs: Sequence[Path | str],
    baseline: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    skip_corrupt: bool = False,
    names: dict[str, str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    log: Log = _quiet,
    warn: Log = _quiet,
    early: Callable[[Comparison], None] = _unheard,
) -> Comparison:
    """Read the inputs and compute every table of the report (``skip_corrupt``: leave
    damaged folders out, listed, instead of refusing; ``names``: short names of labels,
    ``--label``; ``threshold``: percentage points, ``--threshold``). ``log`` hears each
    step as it starts; ``warn`` each folder left out as a duplicate; ``early`` gets the
    comparison once the tables that need no statistics are in it (scenarios, events,
    shares over time, final alignments and profiles), and again after each table of
    statistics with a figure (effects, margin drivers, term drivers)."""
    if n_boot < MIN_BOOTSTRAP:
        raise CompareError(f"--bootstrap {n_boot}: expected at least {MIN_BOOTSTRAP} resamples.")
    if seed < 0:
        raise CompareError(f"--seed {seed}: expected a whole number >= 0.")
    if not (np.isfinite(threshold) and 0 <= threshold <= 100):
        raise CompareError(
            f"--threshold {threshold}: expected percentage points in [0, 100] (default "
            f"{DEFAULT_THRESHOLD:g})."
        )
    units, notes = collect([Path(p) for p in inputs], skip_corrupt, log)
    groups, duplicates = group_units(units)
    for note in duplicates:
        warn(f"left out {note.path} (never pooled as replicates): {note.reason}")
    notes = [*notes, *duplicates]
    if not groups:
        raise CompareError(
            "every finished folder was left out: "
            + "; ".join(f"{n.path} ({n.reason})" for n in duplicates[:3])
        )
    attributes = {
        label: {**label_parts(label), "scenario": g.units[0].scenario}
        for label, g in groups.items()
    }
    original = list(groups)
    renamed = rename_groups(groups, names or {}, attributes)
    parameters = dict(zip(renamed, original, strict=True))
    if baseline is not None and baseline in parameters and baseline not in original:
        base = parameters[baseline]  # --baseline by the short name --label gave it
    else:
        base = choose_baseline(original, baseline, attributes)
    groups = renamed
    base = list(groups)[original.index(base)]
    labels = [base, *(label for label in groups if label != base)]
    uncertainty = parameter_uncertainty(groups, labels)
    for text in comparability_warnings(groups, labels):
        warn(text)
    group_list = [groups[label] for label in labels]
    options = ordered_union(g.options for g in group_list)
    profiles = ordered_union(g.profiles for g in group_list)
    shares = ordered_union(g.shares for g in group_list)
    states = ordered_union(g.states for g in group_list)
    metrics = outcome_metrics(group_list)
    check_bootstrap_memory(n_boot, group_list, metrics)
    runs = {label: groups[label].runs for label in labels}
    draws = {label: groups[label].draws for label in labels}
    pool = ResamplePool(seed, n_boot)

    log("shares over time and final alignments")
    profile_probability = probability_table(groups, labels, states, profiles, True)
    tables = {
        "scenarios": scenario_table(groups, labels),
        "events": event_table(groups, labels),
        "shares_over_time": shares_table(groups, labels, shares),
        "alignment_probability": probability_table(groups, labels, states, options),
        "profile_probability": profile_probability,
    }
    driver_notes: list[str] = []
    comparison = Comparison(
        baseline=base,
        labels=labels,
        options=options,
        profiles=profiles,
        shares=shares,
        states=states,
        groups=groups,
        notes=notes,
        tables=tables,
        driver_notes=driver_notes,
        n_boot=n_boot,
        seed=seed,
        uncertainty=uncertainty,
        threshold=threshold,
        parameters=parameters,
    )
    early(comparison)
    with ThreadPoolExecutor(1) as background:  # t-intervals beside the bootstrap
        term_jobs = start_term_drivers(comparison, draws, background)
        _bootstraps(comparison, runs, draws, metrics, pool, log, early)
        driver_parts = [job.result() for job in term_jobs]
    tables["term_drivers"] = (
        pd.concat(driver_parts, ignore_index=True) if driver_parts else _empty_drivers()
    )
    early(comparison)
    tables["inputs"] = inputs_table(groups, notes)
    return comparison


def start_term_drivers(
    c: Comparison, draws: dict[str, pd.Series | None], background: ThreadPoolExecutor
) -> list[Future[pd.DataFrame]]:
    """The term drivers of every scenario with term tables (its and the baseline's), begun
    on ``background``: t-intervals, no resampling, so the tables do not depend on when
    they are computed."""
    base = c.baseline
    base_terms = c.groups[base].terms
    return [
        background.submit(
            term_drivers,
            label,
            terms,
            base,
            base_terms,
            draws[label],
            draws[base],
            c.same_states(label),
        )
        for label in c.labels[1:]
        if (terms := c.groups[label].terms) is not None and base_terms is not None
    ]


def _bootstraps(
    comparison: Comparison,
    runs: dict[str, pd.DataFrame],
    draws: dict[str, pd.Series | None],
    metrics: list[str],
    pool: ResamplePool,
    log: Log,
    early: Callable[[Comparison], None] = _unheard,
) -> None:
    """The outcomes, effects and margin drivers tables into ``comparison`` (every
    resample drawn in this thread, in one order). Every table asks for its resamples
    first, so that the arrays of all of them that resample the same runs go through one
    product; ``early`` gets the comparison after each table with a figure, so that figure
    can be drawn while the next is made."""
    c = comparison
    tables, labels, base, groups = c.tables, c.labels, c.baseline, c.groups
    n_boot, seed = c.n_boot, c.seed
    base_terms = groups[base].terms
    log(f"bootstrap ({n_boot} resamples): outcomes of {len(labels)} scenario(s)")
    outcome_parts = [
        outcome_summary_later(label, runs[label], metrics, n_boot, seed, draws[label], pool)
        for label in labels
    ]
    log(f"bootstrap: effects of {len(labels) - 1} scenario(s) against {base}")
    effect_parts = [
        effects_later(
            label,
            runs[label],
            base,
            runs[base],
            metrics,
            n_boot,
            seed,
            draws[label],
            draws[base],
            pool,
            c.same_states(label),
        )
        for label in labels[1:]
    ]
    log("term drivers: margins of the profiles each state moves between")
    margin_parts = []
    for label in labels[1:]:
        terms = groups[label].terms
        if terms is None or base_terms is None:
            missing = label if terms is None else base
            c.driver_notes.append(
                f"{missing}: some of its folders have no term table, so {label} is not in the "
                "term drivers."
            )
            continue
        moved = moves(tables["profile_probability"], label, base)
        margin_parts.append(
            margin_drivers_later(
                label,
                terms,
                base,
                base_terms,
                moved,
                pool,
                draws[label],
                draws[base],
                c.same_states(label),
            )
        )
    parts = len(outcome_parts) + len(effect_parts) + len(margin_parts)
    log(f"bootstrap: resampling the arrays of {parts} tables at once")
    tables["outcomes"] = pd.concat([part() for part in outcome_parts], ignore_index=True)
    tables["effects"] = (
        judged_effects(pd.concat([part() for part in effect_parts], ignore_index=True), c.threshold)
        if effect_parts
        else _empty_effects()
    )
    early(c)
    tables["margin_drivers"] = (
        pd.concat([part() for part in margin_parts], ignore_index=True)
        if margin_parts
        else pd.DataFrame(columns=MARGIN_COLUMNS)
    )
    early(c)


FigureJob = tuple[str, tuple[Any, ...]]
"""A figure to draw: the name of a function of ``report.figures`` and its arguments
(``entry.draw_figure``; by name, so that this module does not import matplotlib)."""


def distribution_metrics(metrics: list[str]) -> list[str]:
    """The outcomes whose distributions over runs are drawn: the final record-label
    shares, then the counts of ``DISTRIBUTION_METRICS``."""
    shown = [
        m
        for m in metrics
        if m.startswith("final_share_") and "_security_" not in m and "_economy_" not in m
    ]
    return shown + [m for m in DISTRIBUTION_METRICS if m in metrics]


def alignment_change(table: pd.DataFrame, base: str) -> pd.DataFrame:
    """The final-alignment table of every scenario but the baseline, with ``change``: its
    probability minus the baseline's."""
    base_rows = table[table["label"] == base].set_index(["state", "option"])["probability"]
    change = table[table["label"] != base].copy()
    keys = pd.MultiIndex.from_frame(change[["state", "option"]])
    change["change"] = change["probability"].to_numpy() - base_rows.reindex(keys).to_numpy()
    return change


def figure_jobs(c: Comparison, known: Collection[str] = ()) -> dict[str, FigureJob]:
    """Every figure of the report that ``c``'s tables allow so far, by name (the file is
    figure_<name>.png), but those named in ``known`` (handed on already: their arguments
    are not made again): the time plots, heat-maps and distributions need only what was
    read; the effects, margins and term drivers need the statistics."""
    tables, labels = c.tables, c.labels
    jobs: dict[str, FigureJob] = {}

    def add(name: str, function: str, args: Callable[[], tuple[Any, ...]]) -> None:
        if name not in known:
            jobs[name] = (function, args())

    if "shares_over_time" in tables:
        shares, events = tables["shares_over_time"], tables["events"]
        of_labels = [s for s in c.shares if s[0] == "label"]
        of_choices = [s for s in c.shares if s[0] != "label"]
        add("shares_1", "shares_over_time", lambda: (shares, labels, of_labels, events))
        add("shares_2", "shares_over_time", lambda: (shares, labels, of_choices, events))
    if "alignment_probability" in tables:
        final = tables["alignment_probability"]
        heatmaps: list[Callable[[], tuple[Any, ...]]] = [
            lambda: (final, labels, c.states, c.options)
        ]
        if len(labels) > 1:
            heatmaps.append(
                lambda: (
                    alignment_change(final, c.baseline),
                    labels[1:],
                    c.states,
                    c.options,
                    "change",
                    True,
                )
            )
        heatmaps.append(lambda: (tables["profile_probability"], labels, c.states, c.profiles))
        for n, args in enumerate(heatmaps, start=1):
            add(f"alignment_{n}", "alignment_heatmaps", args)
    shown = distribution_metrics(outcome_metrics([c.groups[label] for label in labels]))
    add(
        "outcomes_1",
        "outcome_distributions",
        lambda: ({label: c.groups[label].runs[shown] for label in labels}, labels, shown),
    )
    effect = tables.get("effects")
    if effect is not None and not effect.empty:
        add("effects_1", "effect_sizes", lambda: (effect, labels))
    margins = tables.get("margin_drivers")
    if margins is not None and not margins.empty:
        add("margins_1", "margin_drivers", lambda: (margins, labels))
    drivers = tables.get("term_drivers")
    if drivers is not None and not drivers.empty:
        add("drivers_1", "term_drivers", lambda: (distinct_changes(drivers), labels))
    return jobs


class Drawer:
    """Draws the report's figures, in this process or, for a large comparison with a core
    to spare, in a worker process too. ``prepare`` starts the worker (spawned, so
    nothing of this process's threads is copied) while the inputs are read, unless one was
    given (``entry.main`` starts it before this module is imported); ``start``
    hands it every figure the comparison allows so far, as each table is computed;
    ``draw`` queues the rest and draws here, from the end of the queue, whatever the
    worker has not begun. Figures are the same bytes wherever they are drawn."""

    def __init__(self, parallel: bool = False, pool: ProcessPoolExecutor | None = None) -> None:
        self.parallel = parallel
        self.pool = pool
        self.owned = pool is None
        self.pending: dict[str, Future[bytes]] = {}

    def prepare(self, inputs: Sequence[Path | str]) -> None:
        """Start the worker (importing matplotlib) when parallel and none was given, with a
        core to spare, for inputs of at least ``PARALLEL_RUNS`` runs (``entry.start_worker``)."""
        if self.parallel and self.pool is None:
            self.pool = start_worker(inputs)

    def start(self, comparison: Comparison) -> None:
        """Hand the worker, when there is one, every figure ``figure_jobs`` gives for
        ``comparison`` so far that it does not have yet."""
        if self.pool is not None:
            self._queue(figure_jobs(comparison, self.pending))

    def _queue(self, jobs: dict[str, FigureJob]) -> None:
        if self.pool is None:
            return
        try:
            for name, (function, args) in jobs.items():
                if name not in self.pending:
                    self.pending[name] = self.pool.submit(draw_figure, function, args)
        except BrokenProcessPool:  # the worker died: what it has not drawn is drawn here
            self.pool = None

    def draw(self, jobs: dict[str, FigureJob]) -> dict[str, bytes]:
        """Each job's PNG, in the order of ``jobs``. With a worker, the jobs it does not
        have yet are queued after its own; this process then takes jobs from the end of
        the queue that the worker has not begun (cancelling them there) and draws them,
        while the worker works from the front; the rest come from the worker (or are
        drawn here after all if it died)."""
        self._queue(jobs)
        pngs: dict[str, bytes] = {}
        for name in reversed([name for name in self.pending if name in jobs]):
            if not self.pending[name].cancel():
                break  # the worker has begun it (or holds it next), and those before it
            del self.pending[name]
            pngs[name] = draw_figure(*jobs[name])
        for name, job in jobs.items():
            future = self.pending.pop(name, None)
            if name in pngs:
                continue
            if future is None:
                pngs[name] = draw_figure(*job)
                continue
            try:
                pngs[name] = future.result()
            except BrokenProcessPool:
                pngs[name] = draw_figure(*job)
        return {name: pngs[name] for name in jobs}

    def close(self) -> None:
        """Stop the worker it started (cancelling what it has not begun); one it was given
        is its giver's to stop."""
        if self.pool is not None and self.owned:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
        self.pending.clear()

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_report(
    comparison: Comparison,
    out: Path | str | None = None,
    command: str = "",
    log: Log = _quiet,
    drawer: Drawer | None = None,
) -> Report:
    """Write the CSV tables, the figures and the self-contained ``report.html`` into a
    temporary folder beside ``out`` and rename it into place when all are written, so a
    report folder is always whole: never truncated, never a mix of two runs. An OS error
    is raised with ``out`` as its file name; an ``out`` that is a file, lies under one or
    holds anything but an earlier report is refused (ConfigError) before anything is
    written. ``drawer``: one that may already be drawing some figures (``build_report``)."""
    folder = Path(out) if out is not None else timestamped_folder("compare")
    check_replaceable(folder, REPORT_NAMES, "report")
    try:
        with atomic_folder(folder) as staging:
            figure_names = _write_files(comparison, staging, command, log, drawer)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None
    c = comparison
    return Report(
        out=folder,
        html=folder / "report.html",
        baseline=c.baseline,
        labels=c.labels,
        notes=c.notes,
        tables=c.tables,
        figures={name: folder / f"{name}.png" for name in figure_names},
    )


def _write_files(
    comparison: Comparison,
    folder: Path,
    command: str,
    log: Log = _quiet,
    drawer: Drawer | None = None,
) -> list[str]:
    """Every file of the report into ``folder``; returns the figures' names."""
    c = comparison
    tables, labels, base = c.tables, c.labels, c.baseline
    log(f"writing {len(tables)} tables")
    for name, table in tables.items():
        with atomic_write(folder / f"{name}.csv", "w") as handle:
            table.to_csv(handle, index=False)

    effect, drivers, margins = tables["effects"], tables["term_drivers"], tables["margin_drivers"]
    log("drawing the figures")
    pngs = (drawer or Drawer()).draw(figure_jobs(c))
    ticks = max(int(c.groups[label].units[0].config.get("ticks", 0)) for label in labels)
    sections = [
        _section_scenarios(tables["scenarios"], tables["events"], c.parameters),
        _section_shares(tables["shares_over_time"], labels, pngs),
        _section_alignment(labels, pngs),
        _section_outcomes(tables["outcomes"], labels, c.n_boot, ticks, pngs),
        _section_effects(effect, labels, base, c.uncertainty, c.threshold, pngs),
        _section_margins(margins, labels, c.driver_notes, pngs),
        _section_drivers(drivers, labels, c.driver_notes, pngs),
        _section_provenance(
            provenance_table(c.groups, labels, c.parameters),
            tables["inputs"],
            c.notes,
            command or PROG,
            c.n_boot,
            c.seed,
        ),
    ]
    glance = _at_a_glance(effect, margins, labels, c.threshold)
    if glance:
        summary = Section(
            "glance",
            "At a glance",
            "For each scenario, the outcomes whose 95% interval of the difference against the "
            f"baseline lies wholly beyond the practical threshold ({c.threshold:g} percentage "
            "points of a share; largest standardised effects first), and the states whose "
            "final profile moves most, with the change of the margin between the profiles "
            "they move between and its largest causes.",
        )
        summary.add_nested_list(glance)
        sections.insert(0, summary)
    total = sum(c.groups[label].n_runs for label in labels)
    intro = [
        f"{len(labels)} scenario(s), {total} runs; baseline: {base}. Scenarios are labelled "
        "by the parameters that differ between the inputs (or by --label); runs with the "
        "same label are replicates of one scenario, each seed counted once.",
        "; ".join(f"{label}: {c.groups[label].n_runs} runs" for label in labels) + ".",
    ]
    if c.uncertainty:
        intro.append(c.uncertainty)
    if c.notes:
        intro.append(
            f"{len(c.notes)} folder(s) left out (unfinished, failed, unreadable, duplicate or "
            "not runs); "
            "see Provenance."
        )
    figure_names: list[str] = []
    for section in sections:
        for n, png in enumerate(section.images, start=1):
            name = f"figure_{section.anchor}_{n}"
            with atomic_write(folder / f"{name}.png") as handle:
                handle.write(png)
            figure_names.append(name)
    with atomic_write(folder / "report.html", "w") as handle:
        handle.write(document("alignment-sim: scenario comparison", intro, sections))
    files = [f"{name}.csv" for name in tables] + [f"{n}.png" for n in figure_names]
    finish_job(folder, report_manifest(c, command), [*files, "report.html"])
    return figure_names


def report_manifest(comparison: Comparison, command: str) -> dict[str, Any]:
    """What made a report (``provenance.stamp``, the command) and from what: each
    scenario's runs and folders, the baseline, the bootstrap's size and seed, the
    threshold and the folders left out; ``finish_job`` adds its files."""
    c = comparison
    return {
        **stamp(),
        "study": "compare",
        "command": command or PROG,
        "baseline": c.baseline,
        "libraries": library_versions(),
        "working_directory": str(Path.cwd()),
        "scenarios": {
            label: {
                "runs": c.groups[label].n_runs,
                "folders": [str(unit.path) for unit in c.groups[label].units],
                "inputs": [_input_of(unit) for unit in c.groups[label].units],
            }
            for label in c.labels
        },
        "bootstrap": c.n_boot,
        "seed": c.seed,
        "threshold": c.threshold,
        "left_out": [
            {"folder": str(n.path), "status": n.status, "reason": n.reason} for n in c.notes
        ],
    }


def _input_of(unit: Unit) -> dict[str, Any]:
    """One input folder as the report's manifest names it: where it is (absolute), its
    configuration's digest, its runs' seeds (first, last, count) and the checksums of the
    files its own manifest lists, so the report is tied to the exact runs it read (the runs
    digest always; the configuration's digest where the command line recorded one)."""
    seeds = unit.runs["seed"].to_numpy()
    listed = unit.manifest.get("files")
    return {
        "folder": str(unit.path.resolve()),
        "runs_digest": unit.runs_digest,
        "config_digest": unit.manifest.get("config_digest"),
        "git_revision": unit.manifest.get("git_revision"),
        "seeds": [int(seeds.min()), int(seeds.max()), len(seeds)] if len(seeds) else [],
        "files": (
            {name: entry.get("sha256") for name, entry in listed.items()}
            if isinstance(listed, dict)
            else {}
        ),
    }


def build_report(
    inputs: Sequence[Path | str],
    out: Path | str | None = None,
    baseline: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    command: str = "",
    skip_corrupt: bool = False,
    names: dict[str, str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    log: Log = _quiet,
    warn: Log = _quiet,
    parallel: bool = False,
    pool: ProcessPoolExecutor | None = None,
) -> Report:
    """``compare`` then ``write_report``: the whole command without its argument parsing.
    ``parallel``: with many runs, draw the figures that need no statistics in a worker
    process while the statistics are computed (``Drawer``; the worker is spawned, so the
    calling program's main module must run nothing on import: the command's does not)."""
    with Drawer(parallel, pool) as drawer:
        drawer.prepare(inputs)
        comparison = compare(
            inputs,
            baseline,
            n_boot,
            seed,
            skip_corrupt,
            names,
            threshold,
            log=log,
            warn=warn,
            early=drawer.start,
        )
        return write_report(comparison, out, command, log, drawer)


def _empty_effects() -> pd.DataFrame:
    columns = [
        "label", "baseline", "metric", "paired", "pairing", "n_scenario", "n_baseline",
        "n_compared", "mean_scenario", "mean_baseline", "difference", "ci_low", "ci_high",
        "cohens_d", "d_ci_low", "d_ci_high", "ci_excludes_zero",
    ]  # fmt: skip
    return pd.DataFrame(columns=columns)


def _empty_drivers() -> pd.DataFrame:
    columns = [
        "label", "baseline", "rank", "state", "option", "term", "applies_to", "family",
        "mean_scenario",
        "mean_baseline", "change", "ci_low", "ci_high", "ci_excludes_zero", "utility_change",
        "paired", "n_compared", "description",
    ]  # fmt: skip
    return pd.DataFrame(columns=columns)


def parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog=PROG,
        description="Compare scenarios from finished alignment-sim runs, studies or sweeps: "
        "writes report.html and CSV tables.",
    )
    p.add_argument(
        "inputs",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="run, study job or sweep folders (searched recursively for finished runs)",
    )
    p.add_argument("--out", type=Path, help="report folder (default results/compare/<time>/)")
    p.add_argument(
        "--baseline",
        help="label to compare against: the label, a value of it or key=value parts "
        "(e.g. scenario=baseline); default: the label containing 'baseline', else the first",
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=TEXT",
        help="a short name for a label (KEY as for --baseline), e.g. "
        "--label scenario=russia_recession=recession; repeatable",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="PP",
        help=f"smallest effect of interest: percentage points of a share, per cent of a "
        f"count's baseline mean (default {DEFAULT_THRESHOLD:g}: one of 11 states in about "
        "one run in five)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_BOOTSTRAP,
        metavar="N",
        help=f"bootstrap resamples (default {DEFAULT_BOOTSTRAP})",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="leave out (and list) finished folders whose files are damaged, instead of stopping",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print each step with its time to stderr (default: when stderr is a terminal)",
    )
    return p


def stderr_log(started: float) -> Log:
    """Print a step to stderr with the seconds since ``started``."""

    def log(step: str) -> None:
        print(f"{PROG}: [{time.monotonic() - started:5.1f} s] {step}", file=sys.stderr, flush=True)

    return log


def main(
    argv: Sequence[str] | None = None,
    pool: ProcessPoolExecutor | None = None,
    parallel: bool = True,
) -> None:
    """The command ``alignment-sim-compare``. ``entry.main`` calls it with the figure
    worker it started as ``pool`` (or None) and ``parallel`` False, having decided; called
    alone, it decides itself (``Drawer.prepare``)."""
    cli = parser()
    args = cli.parse_args(argv)
    command = command_line(PROG, argv)
    started = time.monotonic()
    show = sys.stderr.isatty() if args.progress is None else args.progress
    log = stderr_log(started) if show else _quiet

    def warn(text: str) -> None:
        print(f"{PROG}: warning: {text}", file=sys.stderr, flush=True)

    with command_errors(PROG, "no report was written", (CompareError, ConfigError), cli):
        if args.out is not None:
            check_replaceable(args.out, REPORT_NAMES, "report")
        report = build_report(
            args.inputs,
            args.out,
            args.baseline,
            args.bootstrap,
            args.seed,
            command,
            args.skip_corrupt,
            parse_names(args.label),
            args.threshold,
            log,
            warn,
            parallel=parallel,
            pool=pool,
        )
    log("done")
    runs = ", ".join(
        f"{label} ({counted(int(n), 'run')})"
        for label, n in zip(
            report.labels,
            report.tables["outcomes"].groupby("label", sort=False)["runs"].first(),
            strict=True,
        )
    )
    print(f"{PROG}: compared {runs} against {report.baseline}.")
    if report.notes:
        print(f"{PROG}: left out {len(report.notes)} folder(s), listed in the report:")
        for note in report.notes:
            print(f"  {note.path}: {note.status}, {note.reason}")
    tables = ", ".join(f"{name}.csv" for name in report.tables)
    print(f"{PROG}: wrote {report.html} and {tables} in {report.out}")
