"""Robustness of the patterns: the share of the judgements' plausible range in which each
holds.

The judgements -- every parameter no source number sets -- are listed, each with its
reason, in ``conf/robustness/judgements.yaml``. A Latin hypercube (``scipy.stats.qmc``,
seeded) samples points in the box of each judgement's default +- 20% (clipped to the
parameter's domain). Every point runs every variant the patterns need
(``patterns.VARIANTS``) over the same seeds (common random numbers across variants and
points), in batches of points whose parameters are per-run arrays
(``points.with_point_values``); each point is then measured by the same functions as the
pattern table (``patterns.PATTERNS``). A pattern that holds in fewer than 80% of the points
holds only near a tuned point (docs/ODD.md, section 1; the model review's section 3).

A point's values are set in every variant, the history variants' calendar world included:
there a budget sets every year's budget by its pole's rule (the West's ``constant``,
Russia's ``gdp``; ``calendar.yearly_budget``). One exception: a budget the calendar takes
from data alone (China's, rule ``chinese_lending``: every year's budget is its lending)
cannot vary there (``points.calendar_ignores``; ``points.with_point_values`` refuses it).
It varies in the static variants, and the history variants keep its configured value
(the default; under a fit, the mode), which their calendar reads no more than any other
(``per_variant``); the report and the JSON summary (``calendar_fixed``: path -> those
variants) name it. So the study still measures how the static patterns depend on China's
budget, and says that the history runs do not vary it.

    alignment-sim-robustness --points 200 --out results/robustness/box

writes ``points.csv`` (one row per point: its values, each pattern's and each check's
result), ``robustness.md`` (the share of points where each pattern holds),
``robustness.png`` (those shares with their intervals and the goal, and each check's share
met beside the share where its effect has the text's sign) and, last, ``manifest.json``
(the configuration the box is drawn around, the seeds, what was varied, version and git
revision, each file's size and SHA-256), the folder written whole (an earlier study there
is replaced; a failure leaves it as it was); prints the table, and a JSON summary as its
last line. ``alignment-sim-discover FOLDER --outcome pattern_1
--above 0.5`` then finds the judgements' ranges where a pattern holds (PRIM, CART).
``--box 0.5`` draws from a wider box (each default +- 50%; ``widened``): whether the
patterns can hold together anywhere near the defaults, not only how robust they are there.

Under a fit (docs/ESTIMATION.md) the points are draws of a fitted set's posterior instead:

    alignment-sim-robustness --fit post_soviet_1991_2010 --points 200

draws ``--points`` parameter points from the set's Laplace posterior
(``FittedSet.draws``, seed ``--sampler-seed``), runs every variant with the set's mode
applied to its configuration (``FittedSet.apply``; the parameters the fit does not
estimate keep their hand-set values) and each draw's values per run; the share of draws in
which a pattern holds is its probability of holding under the fitted uncertainty. The
same seeds also measure the fitted mode alone and the hand-set point (the pattern table's
runs). ``--fit`` takes a packaged set's name, a ``fitted.yaml`` or a fit's run folder; the
files (``points.csv``: one row per draw; ``reference.csv``: the hand-set point and the
mode; ``robustness.md``; ``robustness.png``; ``manifest.json``) go to
``results/robustness/fit_<name>`` (a packaged set's name; a set loaded from a file goes by
its fit's folder or the file, ``fit_folder``) unless ``--out`` says.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from alignment_sim import paths
from alignment_sim.engine.batch import (
    available_memory_bytes,
    estimate_memory_bytes,
    execute,
    gib,
    run_chunk,
)
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet, set_name
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams, SimulationConfig, check_seeds, check_whole
from alignment_sim.outputs.files import (
    MANIFEST,
    CommandParser,
    atomic_folder,
    check_replaceable,
    command_errors,
    command_line,
    finish_job,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.presets import conf_dir, default_config, yaml_error
from alignment_sim.progress import progress_bar
from alignment_sim.studies import patterns
from alignment_sim.studies.points import DESIGNABLE, calendar_ignores, with_point_values

if TYPE_CHECKING:  # matplotlib is imported where the figure is drawn
    from matplotlib.figure import Figure

JUDGEMENTS_FILE = conf_dir() / "robustness" / "judgements.yaml"
POINTS = 200
SEEDS = patterns.SEEDS
"""Seeds per point of the box and per draw under a fit: the pattern table's 200, so that
a point's pass or fail carries the table's noise, and under a fit the hand-set column is
the pattern table (seeds 0-199) and the mode's column as precise. With 50 seeds per point
of the box, a pattern whose effect sits near its criterion passed or failed by chance at
many points (pattern 3 held at 0.52 of them, at 0.45 with 200); 200 points take about
45 s on 2 workers."""
GOAL = 0.8
"""A pattern should hold in at least this share of the box (issue 11)."""
INTERVAL = 0.9
"""Confidence of the interval reported beside each share (``share_interval``)."""
RUNS_PER_GROUP = 1000
"""Runs of one variant evaluated together: points are batched to about this many runs."""
QUICK = {"points": 4, "seeds": 4}
TOP_PARAMETERS = 10
TOP_CHECK_DRIVERS = 3
"""Parameters listed beside each check (``check_drivers``)."""
OUT = Path("results/robustness")
"""Where the studies write: the box's into ``OUT / "box"``, one under a fit into
``OUT / fit_<name>``."""
PROG = "alignment-sim-robustness"
STUDY = "robustness"
"""``manifest.json``'s ``study``: what marks a folder as this study's
(``alignment-sim-discover`` reads it as a design)."""
FIGURE = "robustness.png"
BOX_FILES = ("points.csv", "robustness.md", FIGURE)
FIT_FILES = ("points.csv", "reference.csv", "robustness.md", FIGURE)


@dataclass(frozen=True)
class Judgement:
    """A parameter no source number sets: its path, why, and (for a default of 0) the
    half-width of its box in the parameter's units."""

    path: str
    reason: str
    half_width: float | None = None


@dataclass(frozen=True)
class JudgementList:
    """The judgements file: the box (a share of each default) and the parameters;
    ``source``: the file as reports name it (the packaged one by its package path)."""

    box: float
    judgements: tuple[Judgement, ...]
    sourced: tuple[str, ...]
    source: str = "conf/robustness/judgements.yaml"


def _sourced_path(entry: dict[str, Any]) -> str:
    """A ``sourced`` entry's path; its ``source`` must name the text or data behind the
    value (an entry with only a reason is a judgement listed in the wrong place)."""
    if not str(entry["source"]).strip():
        raise KeyError("source")
    return str(entry["path"])


BOX_EXPECTED = "a number above 0 and at most 1: each judgement's default +- that share"


def check_box(key: str, box: Any) -> None:
    """Refuse (by ``key``) a box that is not a number in (0, 1]."""
    if isinstance(box, bool) or not isinstance(box, (int, float)) or not 0.0 < box <= 1.0:
        raise ConfigError(key, box, BOX_EXPECTED)


def load_judgements(path: Path | None = None) -> JudgementList:
    """Read the judgements file (a ConfigError, key ``judgements``, for one that is
    missing, malformed or lists a path twice)."""
    file = Path(path) if path is not None else JUDGEMENTS_FILE
    if not file.is_file():
        raise ConfigError("judgements", str(file), "a judgements YAML file that exists")
    try:
        raw = yaml.safe_load(file.read_text())
        box = float(raw["box"])
        judgements = tuple(
            Judgement(str(j["path"]), str(j["reason"]), j.get("half_width"))
            for j in raw["judgements"]
        )
        sourced = tuple(_sourced_path(s) for s in raw.get("sourced", []))
    except yaml.YAMLError as exc:  # where in the file, as a preset's YAML error says
        unreadable = yaml_error(exc, "judgements", file)
        raise ConfigError("judgements", str(file), unreadable.expected, unreadable.hint) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            "judgements",
            str(file),
            "a judgements file: box, judgements (path, reason) and sourced (path, source)",
            f"Not one: {exc!r}.",
        ) from None
    where = f"judgements ({file.name})"
    check_box(f"{where}: box", box)  # box: 0 reported every point at the default as "+- 0%"
    if not judgements:
        raise ConfigError(f"{where}: judgements", [], "at least one judgement to vary")
    for j in judgements:
        width = j.half_width
        if width is not None and (
            isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0
        ):
            raise ConfigError(
                f"{where}: {j.path}.half_width", width, "a number above 0 (or no half_width)"
            )
        try:
            paths.parse(j.path)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {j.path}", j.path, exc.expected, exc.hint) from None
    listed = [j.path for j in judgements] + list(sourced)
    twice = sorted({p for p in listed if listed.count(p) > 1})
    if twice:
        raise ConfigError("judgements", str(file), "each path listed once", f"Twice: {twice}.")
    source = str(JUDGEMENTS_FILE.relative_to(conf_dir().parent)) if path is None else str(file)
    return JudgementList(box, judgements, sourced, source)


def widened(judgements: JudgementList, box: float) -> JudgementList:
    """The same judgements over another box (``--box``): each default +- ``box`` of it, and
    a zero default's ``half_width`` scaled with it (the file gives that half-width for its
    own box). ConfigError (key ``box``) for a box not in (0, 1]."""
    check_box("box", box)
    scale = box / judgements.box
    return dataclasses.replace(
        judgements,
        box=float(box),
        judgements=tuple(
            j if j.half_width is None else dataclasses.replace(j, half_width=j.half_width * scale)
            for j in judgements.judgements
        ),
    )


def can_vary(path: str) -> bool:
    """Whether ``points.with_point_values`` can give ``path`` a value per run."""
    parsed = paths.parse(path)
    return parsed.field in DESIGNABLE.get(parsed.section, ())


CalendarFixed = dict[str, tuple[str, tuple[str, ...]]]
"""Varied paths some variant's calendar world takes from data alone: path -> (the budget
rule, those variants)."""


def calendar_fixed(inputs: Mapping[str, RunInputs], varied: Sequence[str]) -> CalendarFixed:
    """The ``varied`` paths some variants' calendar worlds take from data alone
    (``points.calendar_ignores``), with the rule and those variants: they keep such a
    path at its configured value (``per_variant``), the other variants vary it."""
    fixed: CalendarFixed = {}
    for path in varied:
        rules = {name: calendar_ignores(v.world, path) for name, v in inputs.items()}
        held = tuple(name for name, rule in rules.items() if rule is not None)
        if held:
            fixed[path] = (str(rules[held[0]]), held)
    return fixed


def per_variant(variant: RunInputs, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The point values ``variant`` runs: all but those its calendar world takes from data
    alone (``points.calendar_ignores``), which keep their configured value."""
    return {p: c for p, c in values.items() if calendar_ignores(variant.world, p) is None}


def fixed_lines(fixed: CalendarFixed) -> list[str]:
    """The report's lines on the paths some variants could not vary (``calendar_fixed``)."""
    lines = []
    for path, (rule, names) in fixed.items():
        lines += [
            "",
            f"`{path}` is varied in the other variants but keeps its configured value in "
            f"{', '.join(names)}: their calendar world takes every year's budget from data "
            f"alone (budget rule `{rule}`, model/calendar.py), so a value per run would "
            "change none of their runs.",
        ]
    return lines


def bounds(config: SimulationConfig, judgement: Judgement, box: float) -> tuple[float, float]:
    """The judgement's range: default +- ``box`` x |default| (+- ``half_width`` for a
    default of 0), clipped to the parameter's domain (ValueError for a default of 0
    without a half-width)."""
    default = float(paths.get_value(config, judgement.path))
    if default == 0.0:
        if judgement.half_width is None:
            raise ValueError(f"{judgement.path}: default 0 needs a half_width")
        half = float(judgement.half_width)
    else:
        half = box * abs(default)
    domain = paths.domain(judgement.path)
    low, high = default - half, default + half
    if domain is not None:
        low, high = max(low, domain.low), min(high, domain.high)
    return low, high


def sample_points(
    judgements: JudgementList, config: SimulationConfig, points: int, sampler_seed: int
) -> pd.DataFrame:
    """``points`` Latin hypercube points over the judgements that can vary per run, one
    column per path."""
    from scipy.stats import qmc

    varied = [j for j in judgements.judgements if can_vary(j.path)]
    ranges = np.array([bounds(config, j, judgements.box) for j in varied])
    unit = qmc.LatinHypercube(d=len(varied), seed=sampler_seed).random(points)
    values = ranges[:, 0] + unit * (ranges[:, 1] - ranges[:, 0])
    return pd.DataFrame(values, columns=[j.path for j in varied])


def evaluate_group(
    inputs: dict[str, RunInputs], values: dict[str, np.ndarray], seeds: np.ndarray
) -> list[list[patterns.PatternResult]]:
    """The pattern checks at each of a group of points: ``values`` path -> (G,) values,
    every point run over ``seeds`` in every variant of ``inputs`` (``per_variant``: a
    value a variant's calendar world takes from data alone stays at its default)."""
    n_points, n_seeds = len(next(iter(values.values()))), len(seeds)
    per_run = {path: np.repeat(column, n_seeds) for path, column in values.items()}
    run_seeds = np.tile(seeds, n_points)
    results = {
        name: run_chunk(
            with_point_values(variant, per_variant(variant, per_run)),
            run_seeds,
            patterns.VARIANTS[name].record,
        )
        for name, variant in inputs.items()
    }
    checks = []
    for p in range(n_points):
        rows = slice(p * n_seeds, (p + 1) * n_seeds)
        at_point = {name: result.take(rows) for name, result in results.items()}
        checks.append(patterns.measure_all(at_point.__getitem__))
    return checks


def fitted_inputs(block: patterns.SeedBlock, fitted: FittedSet) -> dict[str, RunInputs]:
    """Every variant's inputs, from its configuration with ``fitted``'s mode applied."""
    return {
        name: RunInputs.from_config(fitted.apply(patterns.variant_config(name, block)))
        for name in patterns.VARIANTS
    }


def check_group_memory(
    inputs: Mapping[str, RunInputs], runs: int, workers: int, seeds: int
) -> None:
    """Refuse (by ``seeds``) a group of points whose runs, every variant's held at once
    (``evaluate_group``), cannot fit in memory on ``workers`` workers: ``--seeds
    1000000000`` took the machine's memory before the kernel stopped it."""
    one = EngineParams(chunk_size=max(runs, 1))
    need = (workers + 1) * sum(
        estimate_memory_bytes(v, runs, one, patterns.VARIANTS[n].record, gathered=True)
        for n, v in inputs.items()
    )
    free = available_memory_bytes()
    if need > free:
        raise ConfigError(
            "seeds",
            seeds,
            "seeds whose runs at a point fit in memory, every variant's at once",
            f"They need about {gib(need)}, about {gib(free)} available.",
        )


def evaluate(
    points: pd.DataFrame,
    block: patterns.SeedBlock,
    workers: int = 1,
    progress: bool = True,
    inputs: Mapping[str, RunInputs] | None = None,
) -> list[list[patterns.PatternResult]]:
    """The pattern checks at every point (in point order), the points' values set per run
    on ``inputs`` (variant name -> inputs; default: each variant's hand-set inputs)."""
    if inputs is None:
        inputs = {name: patterns.variant_inputs(name, block) for name in patterns.VARIANTS}
    group = max(1, RUNS_PER_GROUP // block.seeds)
    check_group_memory(inputs, group * block.seeds, workers, block.seeds)
    seeds = np.arange(block.first, block.first + block.seeds)
    variants = dict(inputs)
    tasks = [
        (variants, {c: points[c].to_numpy()[start : start + group] for c in points}, seeds)
        for start in range(0, len(points), group)
    ]
    engine = EngineParams(workers=workers, progress=False)
    checks: list[list[patterns.PatternResult]] = []
    with progress_bar(len(points), "point", disable=not progress) as bar:
        for part in execute(evaluate_group, tasks, engine):
            checks.extend(part)
            bar.update(len(part))
    return checks


def point_table(
    points: pd.DataFrame, checks: Sequence[list[patterns.PatternResult]]
) -> pd.DataFrame:
    """One row per point: its values, ``pattern_<id>`` (every check of it met),
    ``patterns_held`` and, per check k of pattern id, ``check_<id>_<k>`` (met),
    ``value_<id>_<k>`` and ``baseline_<id>_<k>``."""
    rows = []
    for results in checks:
        row: dict[str, Any] = {f"pattern_{i}": ok for i, ok in patterns.held(results).items()}
        row["patterns_held"] = sum(patterns.held(results).values())
        for key, r in zip(patterns.check_keys(results), results, strict=True):
            row[f"check_{key}"] = r.passed
            row[f"value_{key}"] = r.value
            row[f"baseline_{key}"] = r.baseline
        rows.append(row)
    table = pd.concat([points.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    table.insert(0, "point", np.arange(len(points)))
    return table


def direction_share(table: pd.DataFrame, key: str, direction: int) -> float | None:
    """Share of the rows (points or draws) where check ``key``'s effect (value minus
    baseline) has the text's sign ``direction`` (``PatternResult.direction``), whatever its
    size; None for a check without one."""
    if direction == 0:
        return None
    effect = table[f"value_{key}"].astype(float) - table[f"baseline_{key}"].astype(float)
    return float((direction * effect > 0).mean())


def size_at_goal(table: pd.DataFrame, check: patterns.PatternResult, key: str) -> float | None:
    """The effect check ``key`` reaches, in the text's direction, at ``GOAL`` of the rows
    (points or draws): the size a criterion could ask and be met there (the rows' 1 - GOAL
    quantile of the effect times its sign, signed back); a ratio minus 1 for a
    ``relative`` check. None for a check without a direction."""
    if check.direction == 0:
        return None
    value = table[f"value_{key}"].astype(float)
    baseline = table[f"baseline_{key}"].astype(float)
    effect = value / baseline - 1 if check.relative else value - baseline
    signed = check.direction * effect
    return check.direction * float(signed.quantile(1 - GOAL))


def size_cell(table: pd.DataFrame, check: patterns.PatternResult, key: str) -> str:
    size = size_at_goal(table, check, key)
    if size is None:
        return "-"
    return f"{size:+.1%}" if check.relative else f"{size:+.3f}"


def direction_cell(table: pd.DataFrame, key: str, direction: int) -> str:
    share = direction_share(table, key, direction)
    return "-" if share is None else f"{share:.2f}"


def rank_correlations(
    table: pd.DataFrame, parameters: Sequence[str], target: pd.Series | None = None
) -> pd.Series:
    """Spearman's rank correlation of each parameter with ``target`` (one value per point;
    the number of patterns held when None), NaN when either is constant, largest in size
    first."""
    held = (table["patterns_held"] if target is None else target).rank()
    rho = {}
    for path in parameters:
        ranks = table[path].rank()
        ok = ranks.std() > 0 and held.std() > 0
        rho[path] = float(np.corrcoef(ranks, held)[0, 1]) if ok else math.nan
    series = pd.Series(rho, dtype=float)
    return series.reindex(series.abs().sort_values(ascending=False).index)


def check_effect(table: pd.DataFrame, key: str) -> pd.Series:
    """Per point, what check ``key`` measures: the scenario's value minus the baseline's
    (the effect), or the value alone for a check without a baseline."""
    value = table[f"value_{key}"].astype(float)
    baseline = pd.to_numeric(table[f"baseline_{key}"], errors="coerce")
    return value - baseline.fillna(0.0)


def check_drivers(table: pd.DataFrame, key: str, varied: Sequence[str]) -> str:
    """The ``TOP_CHECK_DRIVERS`` parameters most tied to check ``key``'s measure over the
    points (``check_effect``; Spearman rho, signed), for the report's checks table: where
    in the box a check fails. "-" when its measure does not move."""
    rho = rank_correlations(table, varied, check_effect(table, key)).dropna()
    top = rho.head(TOP_CHECK_DRIVERS)
    return ", ".join(f"`{path}` {value:+.2f}" for path, value in top.items()) or "-"


@dataclass(frozen=True)
class Summary:
    """What a robustness study found: each pattern's share of points, and the files."""

    holds: dict[str, float]
    all_hold: float
    table: pd.DataFrame
    markdown: str
    not_varied: tuple[str, ...]
    calendar_fixed: CalendarFixed = dataclasses.field(default_factory=dict)


DIRECTION_NOTE = (
    "A check that asks an effect of a size (scenario minus baseline, up or down by at least "
    "a judged amount) also gets the share where the effect has the text's sign, whatever "
    "its size: where the two shares part, the pattern's direction holds and the size the "
    "criterion asks does not. 'Effect reached' is the size the effect has, in the text's "
    f"direction, at {GOAL} of the rows (a ratio's change for a criterion in %): the largest "
    "size a criterion could ask and be met as widely as the goal asks."
)


def chance_note(n: int, rows_are: str) -> str:
    """How large a rank correlation over ``n`` rows chance alone gives (95%, two-sided:
    1.96 / sqrt(n - 1), the large-sample spread of Spearman's rho under independence), so
    that a small study's "parameters most tied" read as leads below it."""
    bound = 1.96 / math.sqrt(max(n - 1, 1))
    if bound >= 1:
        return (
            f"With {n} {rows_are}, chance alone can give any rank correlation (95%): the "
            "parameters most tied are leads, not findings."
        )
    return (
        f"With {n} {rows_are}, a rank correlation of absolute size below {bound:.2f} is within "
        "what chance alone gives (95%); below it the parameters most tied are leads, not "
        "findings."
    )


def share_interval(held: pd.Series) -> tuple[float, float]:
    """The ``INTERVAL`` Wilson score interval of the share of True in ``held`` (one row per
    point or draw): the points are a sample of the box (the draws of the posterior), so the
    share over the whole box is known to about this much. Conservative for a Latin
    hypercube, whose stratified points vary less than independent ones."""
    from scipy.stats import binomtest

    n = len(held)
    ci = binomtest(int(held.sum()), n).proportion_ci(confidence_level=INTERVAL, method="wilson")
    return float(ci.low), float(ci.high)


def share_cells(held: pd.Series) -> str:
    """A pattern's share of points (or draws), its interval, the goal and whether the
    share meets it: the last four cells of a row of either report's pattern table."""
    share = float(held.mean())
    low, high = share_interval(held)
    return f"{share:.3f} | [{low:.2f}, {high:.2f}] | >= {GOAL} | {_yes(share >= GOAL)}"


def pattern_shares(table: pd.DataFrame) -> dict[str, float]:
    """Each pattern's share of the rows of ``table`` (points or draws) where it holds."""
    return {i: float(table[f"pattern_{i}"].mean()) for i in patterns.PATTERNS}


def all_hold_share(table: pd.DataFrame) -> float:
    """The share of the rows of ``table`` where every pattern holds."""
    return float((table["patterns_held"] == len(patterns.PATTERNS)).mean())


def share_intervals(table: pd.DataFrame) -> dict[str, list[float]]:
    """Each pattern's ``share_interval`` over the rows of ``table``, for the JSON line."""
    return {i: list(share_interval(table[f"pattern_{i}"])) for i in patterns.PATTERNS}


def rank_lines(table: pd.DataFrame, varied: Sequence[str]) -> list[str]:
    """The report's section on the parameters most tied to the number of patterns held."""
    rho = rank_correlations(table, varied).dropna().head(TOP_PARAMETERS)
    lines = ["", "## Parameters most tied to the number of patterns held", ""]
    lines += ["| parameter | Spearman rho |", "|---|---|"]
    return lines + [f"| `{path}` | {value:+.2f} |" for path, value in rho.items()]


def markdown(
    table: pd.DataFrame,
    checks: Sequence[patterns.PatternResult],
    judgements: JudgementList,
    varied: Sequence[str],
    not_varied: Sequence[str],
    block: patterns.SeedBlock,
    sampler_seed: int,
    fixed: CalendarFixed | None = None,
) -> str:
    """The study's report: each pattern's share of points, each check's with the
    parameters most tied to its measure (``check_drivers``), those most tied to the count
    of patterns held, the judgements not varied and those some
    variants could not vary (``fixed``, ``calendar_fixed``)."""
    n = len(table)
    ids = list(patterns.PATTERNS)
    lines = [
        "# Robustness of the patterns",
        "",
        f"{n} points of a Latin hypercube (sampler seed {sampler_seed}) over {len(varied)} "
        f"judgements, each its default +- {judgements.box:.0%} clipped to its domain "
        f"({judgements.source}); {block.seeds} seeds per point from seed "
        f"{block.first}, the same at every point and in every variant.",
        "",
        f"| pattern | holds at (share of points) | {INTERVAL:.0%} interval | goal | met |",
        "|---|---|---|---|---|",
    ]
    for i in ids:
        lines.append(f"| {i} | {share_cells(table[f'pattern_{i}'])} |")
    lines += [f"| all {len(ids)} | {all_hold_share(table):.3f} | | | |", "", "## Checks", ""]
    lines += [
        "| check | measure | criterion | met at | effect in the text's direction at | "
        f"effect reached at {GOAL} of the points | "
        "parameters most tied to its measure (Spearman rho) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, r in zip(patterns.check_keys(checks), checks, strict=True):
        lines.append(
            f"| {key} | {r.measure} | {r.criterion} | {table[f'check_{key}'].mean():.2f} | "
            f"{direction_cell(table, key, r.direction)} | {size_cell(table, r, key)} | "
            f"{check_drivers(table, key, varied)} |"
        )
    lines += ["", DIRECTION_NOTE, "", chance_note(n, "points")]
    lines += rank_lines(table, varied)
    if not_varied:
        lines += [
            "",
            "Judgements not varied (studies/points.py cannot give them per-run values): "
            + ", ".join(f"`{p}`" for p in not_varied)
            + ".",
        ]
    lines += fixed_lines(fixed or {})
    return "\n".join(lines) + "\n"


def robustness_figure(
    table: pd.DataFrame, checks: Sequence[patterns.PatternResult], rows_are: str
) -> Figure:
    """Left: each pattern's share of the rows of ``table`` (points of the box, or draws of
    a fit: ``rows_are``) where it holds, its ``INTERVAL`` interval and the goal; right: each
    check's share of the rows where it is met and, for a check of an effect's size, the
    share where the effect has the text's sign (``direction_share``)."""
    from matplotlib.figure import Figure

    ids, keys = list(patterns.PATTERNS), patterns.check_keys(checks)
    figure = Figure(figsize=(11, 1.2 + 0.26 * len(keys)), layout="constrained")
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    shares = np.array(list(pattern_shares(table).values()))
    bounds = np.array(list(share_intervals(table).values()))
    at = np.arange(len(ids))[::-1]
    left.barh(
        at,
        shares,
        color=["tab:green" if share >= GOAL else "tab:orange" for share in shares],
        xerr=[shares - bounds[:, 0], bounds[:, 1] - shares],
        capsize=3,
    )
    left.set_yticks(at, [f"pattern {i}" for i in ids])
    left.set_title(f"Share of the {len(table)} {rows_are} where each pattern holds", fontsize=10)
    left.set_xlabel(f"share, with its {INTERVAL:.0%} interval (green: the goal is met)")
    met = np.array([table[f"check_{key}"].mean() for key in keys])
    at = np.arange(len(keys))[::-1]
    right.barh(at, met, color="tab:blue", alpha=0.55, label="criterion met")
    signed = [
        (row, share)
        for row, key, r in zip(at, keys, checks, strict=True)
        if (share := direction_share(table, key, r.direction)) is not None
    ]
    if signed:
        rows, values = zip(*signed, strict=True)
        right.plot(values, rows, "o", mfc="none", mec="k", label="effect has the text's sign")
    names = [f"{key}: {shorten(r.measure, 64)}" for key, r in zip(keys, checks, strict=True)]
    right.set_yticks(at, names)
    right.tick_params(axis="y", labelsize=7)
    right.set_title("Each check", fontsize=10)
    right.set_xlabel(f"share of the {rows_are}")
    for axes in (left, right):
        axes.axvline(GOAL, ls="--", color="0.3", lw=1, label=f"goal {GOAL}")
        axes.set_xlim(0, 1.02)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=7)
    return figure


def write_study(
    out: Path,
    tables: Mapping[str, pd.DataFrame],
    report: str,
    config: SimulationConfig,
    first_seed: int,
    study: Mapping[str, Any],
    command: str = "",
    figure: Figure | None = None,
) -> None:
    """A study's tables (CSV), ``robustness.md``, ``figure`` as ``robustness.png`` (when
    given) and, last, ``manifest.json``: the
    configuration the points vary around (``config``; under a fit, the mode's), the first
    seed, version and git revision, ``study`` (sizes, seeds, what was varied, the shares)
    marked ``study: robustness``, and each file's size and SHA-256 (``files.finish_job``).
    Written whole: an earlier study in ``out`` is replaced, and a failure leaves it as it
    was (``files.atomic_folder``)."""
    with atomic_folder(out) as staging:
        for name, table in tables.items():
            table.to_csv(staging / name, index=False)
        (staging / "robustness.md").write_text(report, encoding="utf-8")
        written = [*tables, "robustness.md"]
        if figure is not None:
            figure.savefig(staging / FIGURE, dpi=110)
            written.append(FIGURE)
        extra = {"study": STUDY, "command": command or PROG, **study}
        finish_job(staging, manifest(config, first_seed, extra), written)


def check_study(
    points: int, seeds: int, first_seed: int, sampler_seed: int, workers: int, what: str
) -> None:
    """A study's size, seeds and workers, refused (ConfigError) before anything runs:
    at least 2 ``what`` (points of the box, draws of a fit), a seed block the pattern
    table can run (``patterns.SeedBlock``), a sampler seed, at least one worker."""
    check_whole("points", points, 2, None, f"at least 2 {what} (a whole number)")
    patterns.SeedBlock(first=first_seed, seeds=seeds)
    check_seeds(sampler_seed, 1, "sampler_seed")
    check_whole("workers", workers, 1, None, "a whole number >= 1")


def run_robustness(
    points: int = POINTS,
    seeds: int = SEEDS,
    first_seed: int = 0,
    sampler_seed: int = 0,
    out: Path | None = None,
    workers: int = 1,
    progress: bool = True,
    judgements_file: Path | None = None,
    command: str = "",
    box: float | None = None,
) -> Summary:
    """Sample, run and measure every point; write the study into ``out`` when given
    (``write_study``; ``command``, the command line, goes into its manifest). ``box``, when
    given, replaces the judgements file's (``widened``). A bad size, box or output folder
    is refused before anything runs."""
    check_study(points, seeds, first_seed, sampler_seed, workers, "points")
    judgements = load_judgements(judgements_file)
    if box is not None:
        judgements = widened(judgements, box)
    if out is not None:
        check_replaceable(out, (*BOX_FILES, MANIFEST), "robustness study")
    config = default_config()
    frame = sample_points(judgements, config, points, sampler_seed)
    not_varied = tuple(j.path for j in judgements.judgements if not can_vary(j.path))
    block = patterns.SeedBlock(first=first_seed, seeds=seeds)
    inputs = {name: patterns.variant_inputs(name, block) for name in patterns.VARIANTS}
    fixed = calendar_fixed(inputs, list(frame.columns))
    checks = evaluate(frame, block, workers, progress, inputs)
    table = point_table(frame, checks)
    report = markdown(
        table, checks[0], judgements, list(frame.columns), not_varied, block, sampler_seed, fixed
    )
    holds = pattern_shares(table)
    if out is not None:
        study = {
            "points": points,
            "seeds": seeds,
            "sampler_seed": sampler_seed,
            "box": judgements.box,
            "judgements_file": str(judgements_file) if judgements_file else "packaged",
            "varied": list(frame.columns),
            "not_varied": list(not_varied),
            "holds": holds,
        }
        figure = robustness_figure(table, checks[0], "points of the box")
        write_study(out, {"points.csv": table}, report, config, first_seed, study, command, figure)
    return Summary(holds, all_hold_share(table), table, report, not_varied, fixed)


@dataclass(frozen=True)
class FitSummary:
    """What the patterns do under a fit: each pattern's probability of holding (the
    share of posterior draws where it holds), and whether it holds at the fitted mode and
    at the hand-set point."""

    fit: str
    holds: dict[str, float]
    all_hold: float
    at_mode: dict[str, bool]
    hand_set: dict[str, bool]
    table: pd.DataFrame
    reference: pd.DataFrame
    markdown: str
    not_varied: tuple[str, ...]
    calendar_fixed: CalendarFixed = dataclasses.field(default_factory=dict)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def fit_markdown(
    fitted: FittedSet,
    table: pd.DataFrame,
    reference: pd.DataFrame,
    checks: Sequence[patterns.PatternResult],
    not_varied: Sequence[str],
    block: patterns.SeedBlock,
    draw_seed: int,
    fixed: CalendarFixed | None = None,
) -> str:
    """The report under a fit: per pattern, whether it holds at the hand-set point and at
    the fitted mode, and the share of draws where it holds; the same per check; the
    parameters most tied to the number of patterns held; what the comparison says."""
    n, ids = len(table), list(patterns.PATTERNS)
    varied = [c for c in table.columns if c in fitted.values]
    hand, mode = reference.iloc[0], reference.iloc[1]
    lines = [
        "# Patterns under the fitted uncertainty",
        "",
        f"{n} draws from the Laplace posterior of the fitted set `{fitted.label}` "
        f"(FittedSet.draws, seed {draw_seed}) over the {len(varied)} parameters it "
        "estimates; every variant runs with the set's mode applied to its configuration "
        "(the parameters the fit does not estimate keep their hand-set values) and each "
        f"draw's values per run. {block.seeds} seeds per draw from seed {block.first}, the "
        "same for every draw, the fitted mode and the hand-set point, in every variant. "
        "'P(holds)' is the share of draws in which every check of the pattern is met: the "
        "pattern's probability of holding under the fitted uncertainty.",
        "",
        "| pattern | hand-set point | fitted mode | P(holds) under the fit (share of draws) "
        f"| {INTERVAL:.0%} interval | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in ids:
        lines.append(
            f"| {i} | {_yes(hand[f'pattern_{i}'])} | {_yes(mode[f'pattern_{i}'])} | "
            f"{share_cells(table[f'pattern_{i}'])} |"
        )
    lines.append(
        f"| all {len(ids)} | {hand['patterns_held']} of {len(ids)} | "
        f"{mode['patterns_held']} of {len(ids)} | {all_hold_share(table):.3f} | | | |"
    )
    shares = pattern_shares(table)
    lost = [i for i in ids if hand[f"pattern_{i}"] and shares[i] < GOAL]
    gained = [i for i in ids if not hand[f"pattern_{i}"] and shares[i] >= GOAL]
    lines += [
        "",
        "Held at the hand-set point but not under the fit (P(holds) < "
        f"{GOAL}): {', '.join(lost) or 'none'}. Held under the fit but not at the hand-set "
        f"point: {', '.join(gained) or 'none'}.",
        "",
        "## Checks",
        "",
        "| check | measure | criterion | hand-set value | fitted-mode value | met in (share "
        "of draws) | effect in the text's direction in | effect reached in "
        f"{GOAL} of the draws | parameters most tied to its measure (Spearman rho) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in zip(patterns.check_keys(checks), checks, strict=True):
        lines.append(
            f"| {key} | {r.measure} | {r.criterion} | {hand[f'value_{key}']:.3f} | "
            f"{mode[f'value_{key}']:.3f} | {table[f'check_{key}'].mean():.2f} | "
            f"{direction_cell(table, key, r.direction)} | {size_cell(table, r, key)} | "
            f"{check_drivers(table, key, varied)} |"
        )
    lines += ["", DIRECTION_NOTE, "", chance_note(n, "draws")]
    lines += rank_lines(table, varied)
    if not_varied:
        lines += [
            "",
            "Fitted parameters held at their mode (studies/points.py cannot give them "
            "per-run values): " + ", ".join(f"`{p}`" for p in not_varied) + ".",
        ]
    lines += fixed_lines(fixed or {})
    return "\n".join(lines) + "\n"


def fit_folder(fitted: FittedSet) -> Path:
    """``OUT / fit_<name>`` for a packaged set; for a set loaded from a file, its fit's
    folder's name (``fitted.yaml``'s folder) or the file's stem, so that a study of one's own
    fit never replaces the packaged set's (every fit of 1991-2010 is named alike); kept to
    letters, digits, '-', '_' and '.'."""
    source = Path(fitted.source) if fitted.source and fitted.source != fitted.name else None
    name = fitted.name if source is None else set_name(source)
    return OUT / f"fit_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}"


def run_under_fit(
    fit: str | Path,
    points: int = POINTS,
    seeds: int = SEEDS,
    first_seed: int = 0,
    draw_seed: int = 0,
    out: Path | None = None,
    workers: int = 1,
    progress: bool = True,
    command: str = "",
) -> FitSummary:
    """Measure every pattern at ``points`` posterior draws of the fitted set ``fit`` (a
    name, a ``fitted.yaml`` or a fit's run folder), at its mode and at the hand-set point
    (the fitted parameters at their defaults: the pattern table's runs), all on the same
    seeds; write ``points.csv``, ``reference.csv`` and ``robustness.md`` into ``out`` when
    given (``write_study``)."""
    check_study(points, seeds, first_seed, draw_seed, workers, "draws")
    if out is not None:
        check_replaceable(out, (*FIT_FILES, MANIFEST), "robustness study")
    fitted = FittedSet.load(fit)
    drawn = fitted.draws(points, seed=draw_seed)
    varied = [path for path in drawn if can_vary(path)]
    not_varied = tuple(path for path in drawn if not can_vary(path))
    if not varied:
        raise ConfigError("fit", str(fit), "a fitted set with a parameter that varies per run")
    frame = pd.DataFrame({path: drawn[path] for path in varied})
    defaults = default_config()
    hand_set = {path: float(paths.get_value(defaults, path)) for path in varied}
    mode = {path: fitted.values[path] for path in varied}
    at = pd.DataFrame([hand_set, mode])
    block = patterns.SeedBlock(first=first_seed, seeds=seeds)
    inputs = fitted_inputs(block, fitted)
    fixed = calendar_fixed(inputs, varied)
    checks = evaluate(pd.concat([frame, at], ignore_index=True), block, workers, progress, inputs)
    table = point_table(frame, checks[:points])
    reference = point_table(at, checks[points:]).drop(columns="point")
    reference.insert(0, "at", ["hand-set point", "fitted mode"])
    report = fit_markdown(fitted, table, reference, checks[0], not_varied, block, draw_seed, fixed)
    holds = pattern_shares(table)
    if out is not None:
        study = {
            "points": points,
            "seeds": seeds,
            "draw_seed": draw_seed,
            "fit": fitted.name,
            "fit_source": str(fit),
            "varied": varied,
            "not_varied": list(not_varied),
            "holds": holds,
        }
        tables = {"points.csv": table, "reference.csv": reference}
        figure = robustness_figure(table, checks[0], f"draws of {fitted.name}")
        write_study(out, tables, report, fitted.apply(defaults), first_seed, study, command, figure)
    return FitSummary(
        fit=fitted.name,
        holds=holds,
        all_hold=all_hold_share(table),
        at_mode=patterns.held(checks[-1]),
        hand_set=patterns.held(checks[-2]),
        table=table,
        reference=reference,
        markdown=report,
        not_varied=not_varied,
        calendar_fixed=fixed,
    )


def main(argv: list[str] | None = None) -> None:
    parser = CommandParser(
        prog=PROG,
        description="Share of the judgements' box (or, with --fit, of a fitted set's "
        "posterior draws) where each pattern holds.",
    )
    parser.add_argument(
        "--points", type=int, default=None, help=f"points (draws with --fit; default {POINTS})"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=f"seeds per point, or per draw with --fit (default {SEEDS})",
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="the first seed of every point (default 0)"
    )
    parser.add_argument(
        "--sampler-seed", type=int, default=0, help="seeds the hypercube, or the draws (default 0)"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"default {OUT / 'box'} ({OUT}/fit_<name> with --fit: the packaged set's name, "
        "or the fit's folder); replaced whole",
    )
    parser.add_argument("--judgements", type=Path, default=None, help="a judgements YAML file")
    parser.add_argument(
        "--box",
        type=float,
        default=None,
        help="each judgement's default +- this share (default: the judgements file's, 0.2)",
    )
    parser.add_argument(
        "--fit",
        default=None,
        help="draw the points from this fitted set's posterior (a packaged name, a "
        "fitted.yaml or a fit's run folder) instead of the judgements' box",
    )
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK}")
    args = parser.parse_args(argv)
    if args.fit is not None and (args.judgements is not None or args.box is not None):
        parser.error(
            "--judgements or --box with --fit: the judgements' box is not used under a fit"
        )
    if args.quick and (args.points is not None or args.seeds is not None):
        parser.error(f"--quick runs {QUICK}: not with --points or --seeds")
    size = (
        QUICK
        if args.quick
        else {
            "points": POINTS if args.points is None else args.points,
            "seeds": SEEDS if args.seeds is None else args.seeds,
        }
    )
    seeds = {"first_seed": args.first_seed, "sampler_seed": args.sampler_seed}
    command = command_line(PROG, argv)
    with command_errors(PROG, "nothing was written", parser=parser):
        summary, out = _run(args, size, command)
    holds = summary["holds"]
    met = [i for i, share in holds.items() if share >= GOAL]
    short = [i for i in holds if i not in met]
    if short:
        print(
            f"Where pattern {short[0]} holds (PRIM, CART): alignment-sim-discover "
            f"{shlex.quote(str(out))} --outcome pattern_{short[0]} --above 0.5 "
            "--max-restricted 3"
        )
    print(json.dumps({**size, **seeds, **summary, "goal": GOAL, "met": met}))


def _run(
    args: argparse.Namespace, size: dict[str, int], command: str
) -> tuple[dict[str, Any], Path]:
    """The study ``main`` asked for, its report printed: its JSON summary's fields and the
    folder it wrote."""
    if args.fit is not None:
        out = args.out if args.out is not None else fit_folder(FittedSet.load(args.fit))
        under_fit = run_under_fit(
            args.fit,
            first_seed=args.first_seed,
            draw_seed=args.sampler_seed,
            out=out,
            workers=args.workers,
            command=command,
            points=size["points"],
            seeds=size["seeds"],
        )
        print(under_fit.markdown)
        fit = {"at_mode": under_fit.at_mode, "hand_set": under_fit.hand_set}
        return {"fit": under_fit.fit, **_summary(under_fit, out, FIT_FILES), **fit}, out
    out = args.out if args.out is not None else OUT / "box"
    box = run_robustness(
        first_seed=args.first_seed,
        sampler_seed=args.sampler_seed,
        out=out,
        workers=args.workers,
        judgements_file=args.judgements,
        command=command,
        box=args.box,
        points=size["points"],
        seeds=size["seeds"],
    )
    print(box.markdown)
    return _summary(box, out, BOX_FILES), out


def _summary(study: Summary | FitSummary, out: Path, files: Sequence[str]) -> dict[str, Any]:
    """The JSON summary's fields every study has: the shares with their intervals, what
    was not varied, and the files written."""
    return {
        "holds": study.holds,
        "holds_interval": share_intervals(study.table),
        "all": study.all_hold,
        "not_varied": list(study.not_varied),
        "calendar_fixed": {p: list(v) for p, (_, v) in study.calendar_fixed.items()},
        "files": [str(out / n) for n in (*files, MANIFEST)],
    }


if __name__ == "__main__":
    main()
