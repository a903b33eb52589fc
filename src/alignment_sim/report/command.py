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
import datetime as dt
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignment_sim.outputs.files import atomic_folder, atomic_write, os_error_text
from alignment_sim.report import figures
from alignment_sim.report.inputs import (
    COUNT_METRICS,
    CompareError,
    FolderNote,
    Group,
    collect,
    group_units,
    ordered_union,
)
from alignment_sim.report.page import Section, document
from alignment_sim.report.stats import (
    bootstrap_bytes,
    effects,
    outcome_summary,
    t_interval,
    term_drivers,
    wilson_interval,
)
from alignment_sim.studies.outcomes import OUTCOMES

PROG = "alignment-sim-compare"
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


def choose_baseline(labels: list[str], wanted: str | None) -> str:
    """The label given (or the one whose value matches it), else one with 'baseline', else
    the first."""
    if wanted is None:
        return next((label for label in labels if "baseline" in label), labels[0])
    if wanted in labels:
        return wanted
    by_value = [
        label for label in labels if wanted in (part.partition("=")[2] for part in label.split(","))
    ]
    if len(by_value) == 1:
        return by_value[0]
    raise CompareError(
        f"--baseline {wanted!r} is not one of the labels of these inputs: "
        + ", ".join(repr(label) for label in labels)
        + ". Pass one of them (or the value part of one, e.g. 'baseline' for "
        "'scenario=baseline')."
    )


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


def shares_table(
    groups: dict[str, Group], labels: list[str], shares: list[tuple[str, str]]
) -> pd.DataFrame:
    """Mean of each share (kind: label, security or economy; option) per scenario and
    tick, with a 95% t-interval over runs (clipped to [0, 1], the range of a share); the
    options of one kind sum to one at every tick."""
    parts = []
    for label in labels:
        sums = groups[label].ticks
        ci = t_interval(sums["n"].to_numpy(), sums["sum"].to_numpy(), sums["sumsq"].to_numpy())
        parts.append(
            pd.DataFrame(
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
        )
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
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _unique(values: list[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def provenance_table(groups: dict[str, Group], labels: list[str]) -> pd.DataFrame:
    """Per scenario: runs, folders, seeds, scenario, package versions and git revisions."""
    rows = []
    for label in labels:
        group = groups[label]
        seeds = group.runs["seed"]
        rows.append(
            {
                "label": label,
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


def _at_a_glance(
    effect: pd.DataFrame, drivers: pd.DataFrame, labels: list[str]
) -> dict[str, list[str]]:
    """Per scenario: the clearest outcome differences and the largest term changes."""
    out: dict[str, list[str]] = {}
    for label in labels[1:]:
        rows = effect[(effect["label"] == label) & effect["ci_excludes_zero"]]
        rows = rows.iloc[np.argsort(-rows["cohens_d"].abs().to_numpy(), kind="stable")].head(4)
        points = [
            f"{r.metric}: {r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}], "
            f"d = {r.cohens_d:+.2f} ({'paired' if r.paired else 'unpaired'})"
            for r in rows.itertuples()
        ] or ["no outcome differs clearly from the baseline"]
        top = distinct_changes(drivers[drivers["label"] == label]).head(3)["description"].tolist()
        if top:
            points.append("largest term changes: " + "; ".join(top))
        out[label] = points
    return out


def _last_tick_table(table: pd.DataFrame, labels: list[str], kinds: list[str]) -> pd.DataFrame:
    """The shares of ``kinds`` at each scenario's last tick: mean [95% interval]."""
    last = table[table["tick"] == table.groupby("label")["tick"].transform("max")]
    last = last[last["kind"].isin(kinds)]
    names = [figures.panel_title(k, o) for k, o in zip(last["kind"], last["option"], strict=True)]
    wide = last.assign(
        name=names,
        value=[
            _fmt_interval(m, lo, hi)
            for m, lo, hi in zip(last["mean"], last["ci_low"], last["ci_high"], strict=True)
        ],
    ).pivot(index="label", columns="name", values="value")
    return wide.reindex(index=labels, columns=list(dict.fromkeys(names))).reset_index()


def _section_shares(
    table: pd.DataFrame, labels: list[str], shares: list[tuple[str, str]]
) -> Section:
    section = Section(
        "shares",
        "Bloc shares over time",
        "The share of states with each record label (a bloc, or hedge: the record's rule "
        "applied to a state's security and economic alignment), and the share in each "
        "option of each dimension (security: a bloc or none; economy: a bloc or open), "
        "averaged over each scenario's runs, with a 95% confidence band for the mean "
        "(t-interval over runs). Bands that do not overlap mark periods where the "
        "scenarios clearly differ.",
    )
    by_label = [s for s in shares if s[0] == "label"]
    by_dimension = [s for s in shares if s[0] != "label"]
    section.add_image(figures.shares_over_time(table, labels, by_label), "record-label shares")
    section.add_image(
        figures.shares_over_time(table, labels, by_dimension), "shares of each dimension"
    )
    section.add_heading("Shares at the last tick: mean [95% interval]")
    section.add_table(_last_tick_table(table, labels, ["label"]))
    section.add_table(_last_tick_table(table, labels, ["security", "economy"]))
    section.add_text("Every tick is in shares_over_time.csv.")
    return section


def _section_alignment(
    table: pd.DataFrame,
    profile_table: pd.DataFrame,
    labels: list[str],
    states: list[str],
    options: list[str],
    profiles: list[str],
    base: str,
) -> Section:
    section = Section(
        "alignment",
        "Where each state ends",
        "The probability that each state ends the run with each record label: the "
        "fraction of a scenario's runs that ended so (each row sums to 100%). The second "
        "figure shows the change against the baseline (red: more likely, blue: less); the "
        "last, the probability of each profile (security/economy) the labels come from.",
    )
    section.add_image(figures.alignment_heatmaps(table, labels, states, options), "final alignment")
    if len(labels) > 1:
        base_rows = table[table["label"] == base].set_index(["state", "option"])["probability"]
        change = table[table["label"] != base].copy()
        keys = pd.MultiIndex.from_frame(change[["state", "option"]])
        change["change"] = change["probability"].to_numpy() - base_rows.reindex(keys).to_numpy()
        section.add_image(
            figures.alignment_heatmaps(
                change, labels[1:], states, options, value="change", diverging=True
            ),
            "change of final alignment vs baseline",
        )
    section.add_image(
        figures.alignment_heatmaps(profile_table, labels, states, profiles),
        "final profile",
    )
    section.add_text(
        "With 95% Wilson intervals in alignment_probability.csv (labels) and "
        "profile_probability.csv (profiles)."
    )
    return section


def _section_outcomes(outcomes: pd.DataFrame, labels: list[str], n_boot: int) -> Section:
    section = Section(
        "outcomes",
        "Outcome metrics",
        f"Per scenario, the mean over runs with a bootstrap 95% interval ({n_boot} resamples "
        "of the runs, percentile method).",
    )
    section.add_list(
        f"{name}: {what}" for name, what in OUTCOMES.items() if not name.endswith("<state>")
    )
    wide = outcomes.assign(
        value=[
            _fmt_interval(m, lo, hi)
            for m, lo, hi in zip(
                outcomes["mean"], outcomes["ci_low"], outcomes["ci_high"], strict=True
            )
        ]
    ).pivot(index="metric", columns="label", values="value")
    metrics = list(dict.fromkeys(outcomes["metric"]))
    section.add_table(wide.reindex(index=metrics, columns=labels).reset_index())
    return section


def _section_effects(
    effect: pd.DataFrame, labels: list[str], base: str, uncertainty: str
) -> Section:
    section = Section(
        "effects",
        f"Effects against the baseline ({base})",
        "Difference in means (scenario minus baseline) with a bootstrap 95% interval, and "
        "Cohen's d: the difference over the pooled standard deviation of the two scenarios, "
        "comparable across metrics. Scenarios run with the same seeds share their random "
        "numbers (common random numbers); they are compared run by run ('paired'), which "
        "removes the shared noise and narrows the interval. Otherwise the scenarios are "
        "resampled independently ('unpaired').",
    )
    if uncertainty:
        section.add_text(uncertainty, "note")
    if effect.empty:
        section.add_text("Only one scenario: there is nothing to compare.", "note")
        return section
    section.add_image(figures.effect_sizes(effect, labels), "effect sizes")
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
                }
            )
        )
    return section


def distinct_changes(drivers: pd.DataFrame) -> pd.DataFrame:
    """One row per change (``stats.term_drivers``' rank) of each scenario."""
    return drivers.drop_duplicates(["label", "rank"])


def _section_drivers(drivers: pd.DataFrame, labels: list[str], notes: list[str]) -> Section:
    section = Section(
        "drivers",
        "Which utility terms drove the differences",
        "Each state's utility of a profile (security/economy) is a sum of weighted terms "
        "(protection, trade, inducements, ...): the terms of its security option plus those "
        "of its economic option. For each scenario, the change of every term's mean "
        "contribution against the baseline, per state and profile, ranked by size, with a "
        "bootstrap 95% interval (paired by seed when possible). A term of one choice is the "
        "same on every profile with that option ('west/*': security west, any economy; "
        "'*/china': economy china, any security) and is listed once. 'utility change' is "
        "the change of the whole utility of that state and profile (term_drivers.csv). "
        "Choices depend on utility differences between options, so a term that moves "
        "every option of a state alike changes no choice.",
    )
    for note in notes:
        section.add_text(note, "note")
    if drivers.empty:
        section.add_text("No term changes to show (one scenario, or no term tables).", "note")
        return section
    section.add_image(figures.term_drivers(distinct_changes(drivers), labels), "term drivers")
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
    """Bytes a report may use: half of this machine's memory (8 GiB when unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def check_bootstrap_memory(n_boot: int, groups: list[Group], metrics: list[str]) -> None:
    """Refuse a bootstrap that would not fit in memory, naming the largest that would."""
    terms = [g.terms.shape[1] for g in groups if g.terms is not None]
    columns = max([len(metrics), *terms])
    need, budget = bootstrap_bytes(n_boot, columns), memory_budget()
    if need > budget:
        most = budget // bootstrap_bytes(1, columns)
        raise CompareError(
            f"--bootstrap {n_boot}: would need about {need / 2**30:,.1f} GiB of memory "
            f"({columns} columns); expected at most {most:,} resamples, which fit in half "
            f"of this machine's {2 * budget / 2**30:,.1f} GiB."
        )


REPORT_NAMES = ("report.html", "*.csv", "figure_*.png")
"""The files a report folder holds: the only ones ``--out`` may replace."""


def check_out(out: Path) -> None:
    """Refuse a report folder that is a file, lies under a file, or holds anything but an
    earlier report (which a new report replaces whole)."""
    if out.is_file():
        raise CompareError(f"--out {out} is a file; pass a folder for the report.")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CompareError(f"--out {out}: {parent} is a file, not a folder.")
            break
    if out.is_dir():
        others = [p for p in out.iterdir() if not any(p.match(n) for n in REPORT_NAMES)]
        if others:
            raise CompareError(
                f"--out {out} holds files that are not part of a report (e.g. "
                f"{others[0].name}); pass a new folder or an earlier report's."
            )


def default_out_dir() -> Path:
    """``results/compare/<timestamp>/``, with a suffix if that folder exists."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out = Path("results") / "compare" / stamp
    n = 2
    while out.exists():
        out = Path("results") / "compare" / f"{stamp}_{n}"
        n += 1
    return out


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


def compare(
    inputs: Sequence[Path | str],
    baseline: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    skip_corrupt: bool = False,
) -> Comparison:
    """Read the inputs and compute every table of the report (``skip_corrupt``: leave
    damaged folders out, listed, instead of refusing)."""
    if n_boot < MIN_BOOTSTRAP:
        raise CompareError(f"--bootstrap {n_boot}: expected at least {MIN_BOOTSTRAP} resamples.")
    if seed < 0:
        raise CompareError(f"--seed {seed}: expected a whole number >= 0.")
    units, notes = collect([Path(p) for p in inputs], skip_corrupt)
    groups, duplicates = group_units(units)
    notes = [*notes, *duplicates]
    if not groups:
        raise CompareError(
            "every finished folder was left out: "
            + "; ".join(f"{n.path} ({n.reason})" for n in duplicates[:3])
        )
    base = choose_baseline(list(groups), baseline)
    labels = [base, *(label for label in groups if label != base)]
    uncertainty = parameter_uncertainty(groups, labels)
    group_list = [groups[label] for label in labels]
    options = ordered_union(g.options for g in group_list)
    profiles = ordered_union(g.profiles for g in group_list)
    shares = ordered_union(g.shares for g in group_list)
    states = ordered_union(g.states for g in group_list)
    metrics = outcome_metrics(group_list)
    check_bootstrap_memory(n_boot, group_list, metrics)
    runs = {label: groups[label].runs for label in labels}

    draws = {label: groups[label].draws for label in labels}
    outcomes = pd.concat(
        [
            outcome_summary(label, runs[label], metrics, n_boot, seed, draws[label])
            for label in labels
        ],
        ignore_index=True,
    )
    effect_parts = [
        effects(
            label, runs[label], base, runs[base], metrics, n_boot, seed, draws[label], draws[base]
        )
        for label in labels[1:]
    ]
    driver_notes: list[str] = []
    driver_parts = []
    base_terms = groups[base].terms
    for label in labels[1:]:
        terms = groups[label].terms
        if terms is None or base_terms is None:
            missing = label if terms is None else base
            driver_notes.append(
                f"{missing}: some of its folders have no term table, so {label} is not in the "
                "term drivers."
            )
            continue
        driver_parts.append(
            term_drivers(label, terms, base, base_terms, n_boot, seed, draws[label], draws[base])
        )
    tables = {
        "shares_over_time": shares_table(groups, labels, shares),
        "alignment_probability": probability_table(groups, labels, states, options),
        "profile_probability": probability_table(groups, labels, states, profiles, True),
        "outcomes": outcomes,
        "effects": (
            pd.concat(effect_parts, ignore_index=True) if effect_parts else _empty_effects()
        ),
        "term_drivers": (
            pd.concat(driver_parts, ignore_index=True) if driver_parts else _empty_drivers()
        ),
        "inputs": inputs_table(groups, notes),
    }
    return Comparison(
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
    )


def write_report(
    comparison: Comparison, out: Path | str | None = None, command: str = ""
) -> Report:
    """Write the CSV tables, the figures and the self-contained ``report.html`` into a
    temporary folder beside ``out`` and rename it into place when all are written, so a
    report folder is always whole: never truncated, never a mix of two runs. An OS error
    is raised with ``out`` as its file name."""
    folder = Path(out) if out is not None else default_out_dir()
    check_out(folder)
    try:
        with atomic_folder(folder) as staging:
            figure_names = _write_files(comparison, staging, command)
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


def _write_files(comparison: Comparison, folder: Path, command: str) -> list[str]:
    """Every file of the report into ``folder``; returns the figures' names."""
    c = comparison
    tables, labels, base = c.tables, c.labels, c.baseline
    for name, table in tables.items():
        with atomic_write(folder / f"{name}.csv", "w") as handle:
            table.to_csv(handle, index=False)

    effect, drivers = tables["effects"], tables["term_drivers"]
    sections = [
        _section_shares(tables["shares_over_time"], labels, c.shares),
        _section_alignment(
            tables["alignment_probability"],
            tables["profile_probability"],
            labels,
            c.states,
            c.options,
            c.profiles,
            base,
        ),
        _section_outcomes(tables["outcomes"], labels, c.n_boot),
        _section_effects(effect, labels, base, c.uncertainty),
        _section_drivers(drivers, labels, c.driver_notes),
        _section_provenance(
            provenance_table(c.groups, labels),
            tables["inputs"],
            c.notes,
            command or PROG,
            c.n_boot,
            c.seed,
        ),
    ]
    glance = _at_a_glance(effect, drivers, labels)
    if glance:
        summary = Section(
            "glance",
            "At a glance",
            "For each scenario, the outcomes whose 95% interval of the difference against the "
            "baseline excludes zero (largest standardised effects first), and the largest "
            "changes of utility terms.",
        )
        summary.add_nested_list(glance)
        sections.insert(0, summary)
    total = sum(c.groups[label].n_runs for label in labels)
    intro = [
        f"{len(labels)} scenario(s), {total} runs; baseline: {base}. Scenarios are labelled "
        "by the parameters that differ between the inputs; runs with the same label are "
        "replicates of one scenario.",
        "; ".join(f"{label}: {c.groups[label].n_runs} runs" for label in labels) + ".",
    ]
    if c.uncertainty:
        intro.append(c.uncertainty)
    if c.notes:
        intro.append(
            f"{len(c.notes)} folder(s) left out (unfinished, failed, unreadable or duplicate); "
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
    return figure_names


def build_report(
    inputs: Sequence[Path | str],
    out: Path | str | None = None,
    baseline: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    command: str = "",
    skip_corrupt: bool = False,
) -> Report:
    """``compare`` then ``write_report``: the whole command without its argument parsing."""
    return write_report(compare(inputs, baseline, n_boot, seed, skip_corrupt), out, command)


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
    p = argparse.ArgumentParser(
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
        help="label to compare against (default: the label containing 'baseline', else the first)",
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
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``alignment-sim-compare``."""
    args = parser().parse_args(argv)
    command = shlex.join([PROG, *(sys.argv[1:] if argv is None else argv)])
    try:
        if args.out is not None:
            check_out(args.out)
        report = build_report(
            args.inputs,
            args.out,
            args.baseline,
            args.bootstrap,
            args.seed,
            command,
            args.skip_corrupt,
        )
    except CompareError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        print(f"{PROG}: {os_error_text(exc)} (no report was written).", file=sys.stderr)
        sys.exit(1)
    runs = ", ".join(
        f"{label} ({n} runs)"
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
