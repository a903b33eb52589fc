"""Forecasts from any origin: the history world run forward over a fit's uncertainty.

``alignment-sim experiment=forecast origin=2010 to=2024`` starts the calendar world on
1 January of ``origin + 1`` from the record at the end of ``origin``, the last year known
(``calendar.starting_alignment``), and runs it to the end of ``to``. It takes
``estimation.draws`` parameter points from the fitted set ``fit`` names
(``FittedSet.draws``: the Laplace posterior, seeded by ``seed`` alone) and runs each with
the same ``replications`` seeds (``seed .. seed + replications - 1``: common random
numbers), every (draw, seed) one run of one batch through the engine
(``studies.points.with_point_values``, as a design runs its points). A parameter set on
the command line beside ``fit`` stays at that value in every draw (an explicit override
wins over the fit, as everywhere). Without a fit (``fit=null``) there is one draw: the
configuration's own values.

Writes into the run folder, each file whole:

- ``labels.parquet``: one row per run, state and calendar year ``origin + 1 .. to``: draw,
  then a study job's columns (``studies.outcomes.LABEL_COLUMNS``); ``alignment-sim-score``
  scores it as an ensemble of draws x seeds runs;
- ``draws.csv``: each draw's parameter values (draw, then one column per drawn path);
- ``forecast.json``: origin, where the runs start (``start_words``) and the events they
  take as given (``conditional_on``), years, draws, seeds, the fitted set (name, source,
  provenance, what was drawn and what was held), and each state's probability of each
  label in the last year;
- ``bands.png``: per state, the share of runs in each label by year, the record up to
  min(origin, 2010) as markers, the origin as a vertical line;
- ``manifest.json`` last.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from alignment_sim import paths
from alignment_sim.engine.batch import BatchResult, check_memory
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fit import Progress
from alignment_sim.estimation.fitted import FittedSet, canonical, locate_fitted, override_paths
from alignment_sim.estimation.jobs import record_path
from alignment_sim.model.calendar import RECORD_LAST_YEAR
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import RegionSpec, SimulationConfig
from alignment_sim.outputs.files import (
    LABELS_FILE,
    MANIFEST,
    atomic_write_bytes,
    figure_png,
    finish_job,
    sha256,
    write_json,
    write_parquet,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.report.record import Record, read_record
from alignment_sim.studies import outcomes
from alignment_sim.studies.points import check_paths, run_points
from alignment_sim.studies.replications import config_digest

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn
    from matplotlib.figure import Figure

FORECAST_FILES = (LABELS_FILE, "draws.csv", "forecast.json", "bands.png")


@dataclass(frozen=True)
class Forecast:
    """What a forecast wrote: the runs' yearly labels (``labels.parquet``), the draws
    (``draws.csv``) and the summary (``forecast.json``)."""

    labels: pd.DataFrame
    draws: pd.DataFrame
    summary: dict[str, Any]


def run_forecast(
    config: SimulationConfig,
    folder: Path,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    *,
    held: Sequence[str] | None = None,
) -> Forecast:
    """Run the forecast ``config`` describes and write its folder (module docstring).

    ``extra`` goes into the manifest. ``held``: the parameter paths kept at the
    configuration's value in every draw; by default those its ``overrides`` (the command
    line) set.
    """
    say = progress or (lambda _: None)
    extra = dict(extra or {})
    origin = check_origin(config)
    fitted = FittedSet.load(config.fit) if config.fit is not None else None
    if held is None:
        held = override_paths(config, extra.get("overrides", []))
    draws = draw_table(config, fitted, held)
    values = (  # without a fit, nothing varies per run
        {str(c): draws[c].to_numpy() for c in draws.columns if c != "draw"} if fitted else {}
    )
    record = markers_record(config)
    inputs = RunInputs.from_config(config)
    seeds = np.arange(config.seed, config.seed + config.replications, dtype=np.int64)
    n_runs = len(draws) * len(seeds)
    check_memory(inputs, n_runs, config.engine, "minimal")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # the folder is unfinished from here
    source = f"the fitted set {fitted.label}" if fitted else "the configuration's values"
    say(
        f"forecast: {len(draws)} draw(s) of {source} x {len(seeds)} seed(s) = {n_runs} runs "
        f"of {config.scenario.name}, from the end of {origin} to the end of {last_year(config)}"
    )
    if origin > RECORD_LAST_YEAR:
        say(f"forecast: {start_words(origin)}")
    labels = simulate(config, inputs, values, len(draws), seeds)
    summary = forecast_summary(config, fitted, draws, seeds, labels, held)
    meta = manifest(
        config,
        config.seed,
        {
            **extra,
            "task": "forecast",
            "config_digest": config_digest(config),
            "draws": len(draws),
            "replications": len(seeds),
            "fit": fitted.name if fitted else None,
            "fit_sha256": sha256(locate_fitted(fitted.source or fitted.name)) if fitted else None,
        },
    )
    write_parquet(folder / LABELS_FILE, labels, meta)
    atomic_write_bytes(folder / "draws.csv", draws.to_csv(index=False).encode())
    write_json(folder / "forecast.json", summary)
    figure = bands_figure(labels, inputs, record, origin, summary)
    atomic_write_bytes(folder / "bands.png", figure_png(figure, 100))
    finish_job(folder, meta, list(FORECAST_FILES))
    say(f"forecast: done, {n_runs} runs: {', '.join(FORECAST_FILES)} in {folder}")
    return Forecast(labels, draws, summary)


def check_origin(config: SimulationConfig) -> int:
    """The forecast's origin: set (``origin=YEAR``; that every chooser has a start at its
    end the configuration checks when it is built)."""
    origin = config.origin
    if origin is None:
        raise ConfigError(
            "origin",
            None,
            "the forecast's origin (origin=YEAR): it starts the year after, from the record "
            "at the end of that year",
        )
    return origin


def start_words(origin: int) -> str:
    """Where a forecast from ``origin`` starts, in words: from the record at the end of the
    origin, or, past the record's end, from the region's configuration for that year (the
    packaged region's is the record's of its last year: no alignment after it is used) with
    the shocks between them not played."""
    if origin <= RECORD_LAST_YEAR:
        return f"the record's configuration at the end of {origin}"
    return (
        f"the region's configuration for {origin} (the record ends in {RECORD_LAST_YEAR}: "
        f"the packaged region gives its {RECORD_LAST_YEAR} configuration); the shocks of "
        f"{RECORD_LAST_YEAR + 1}-{origin} are not played"
    )


def last_year(config: SimulationConfig) -> int:
    """The last calendar year the run covers."""
    years, _ = outcomes.year_end_ticks(config.region.year, config.region.tick_months, config.ticks)
    return int(years[-1]) if len(years) else config.region.year


def draw_table(
    config: SimulationConfig, fitted: FittedSet | None, held: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per draw: ``draw`` and each drawn parameter's value.

    From a fitted set: ``estimation.draws`` points of its posterior (seeded by ``seed``),
    without the ``held`` paths. Without one: a single draw, the configuration's values of
    ``estimation.parameters``.
    """
    if fitted is None:
        row = {path: float(paths.get_value(config, path)) for path in config.estimation.parameters}
        return pd.DataFrame([{"draw": 0, **row}])
    names = [p.path for p in fitted.parameters]
    check_paths(config, names, key=f"fit {fitted.name}")
    drawn = fitted.draws(config.estimation.draws, seed=config.seed)
    kept = set(held)
    table = {"draw": np.arange(config.estimation.draws)}
    table.update({p: v for p, v in drawn.items() if canonical(config, p) not in kept})
    return pd.DataFrame(table)


def simulate(
    config: SimulationConfig,
    inputs: RunInputs,
    values: Mapping[str, np.ndarray],
    n_draws: int,
    seeds: np.ndarray,
) -> pd.DataFrame:
    """Every (draw, seed) run through the engine in chunks of ``engine.chunk_size`` runs,
    draw-major (``points.run_points``); their yearly labels (``LABEL_COLUMNS`` after
    ``draw``)."""
    draw_of_run = np.repeat(np.arange(n_draws), len(seeds))
    per_run = {path: np.asarray(v)[draw_of_run] for path, v in values.items()}
    labels = functools.partial(draws_labels, region=config.region)
    chunks = run_points(
        inputs,
        per_run,
        np.tile(seeds, n_draws),
        config.engine,
        then=labels,
        tags=draw_of_run,
        progress=config.engine.progress,
    )
    return pd.concat([table for _, table in chunks], ignore_index=True)


def draws_labels(
    result: BatchResult, values: dict[str, np.ndarray], draws: np.ndarray, region: RegionSpec
) -> pd.DataFrame:
    """A chunk of a forecast's runs (``points.run_points``) as their yearly labels, with
    each run's ``draw``."""
    seeds = result.seeds
    table = outcomes.world_labels(result.alignment, seeds, result.inputs.world, region)
    table.insert(0, "draw", np.repeat(np.asarray(draws, dtype=np.int64), len(table) // len(seeds)))
    return table


def last_year_probabilities(labels: pd.DataFrame, space_labels: Sequence[str]) -> pd.DataFrame:
    """(state x label): the share of runs giving each label in the last year."""
    last = labels[labels["year"] == labels["year"].max()]
    table = pd.crosstab(last["state"], last["label"], normalize="index")
    states = list(dict.fromkeys(labels["state"]))
    return table.reindex(index=states, columns=list(space_labels), fill_value=0.0)


def forecast_summary(
    config: SimulationConfig,
    fitted: FittedSet | None,
    draws: pd.DataFrame,
    seeds: np.ndarray,
    labels: pd.DataFrame,
    held: Sequence[str],
) -> dict[str, Any]:
    """``forecast.json`` (no time stamp: the same configuration writes the same file)."""
    space_labels = config.region.option_space.labels
    last = last_year_probabilities(labels, space_labels)
    drawn = [c for c in draws.columns if c != "draw"] if fitted else []
    fit: dict[str, Any] | None = None
    if fitted is not None:
        fit = {
            "name": fitted.name,
            "source": str(config.fit),
            "provenance": fitted.provenance,
            "drawn": drawn,
            "held": {path: paths.get_value(config, path) for path in held},
        }
    years = sorted(set(labels["year"].astype(int)))
    origin = check_origin(config)
    return {
        "origin": config.origin,
        "start": start_words(origin),
        "conditional_on": (
            f"the events scenario {config.scenario.name} dates in {years[0]}-{years[-1]} "
            "(for history: the shocks that happened), taken as given"
        ),
        "to": years[-1],
        "years": [years[0], years[-1]],
        "scenario": config.scenario.name,
        "draws": len(draws),
        "draw_seed": config.seed,
        "seeds": [int(s) for s in seeds],
        "runs": len(draws) * len(seeds),
        "fit": fit,
        "last_year": {
            state: {label: float(last.loc[state, label]) for label in space_labels}
            for state in last.index
        },
    }


def markers_record(config: SimulationConfig) -> Record | None:
    """The record drawn as markers: the one a fit reads (``estimation.record``) when it is
    a record file; none for a table of runs."""
    path = record_path(config)
    return read_record(path) if is_record_file(path) else None


def is_record_file(path: Path) -> bool:
    """Whether ``path`` is a CSV in the record's shared format (a ``primary_alignment``
    column), not a table of runs' labels."""
    if path.suffix == ".parquet":
        return False
    try:
        return "primary_alignment" in pd.read_csv(path, nrows=0).columns
    except (OSError, ValueError):
        return False


def bands_figure(
    labels: pd.DataFrame,
    inputs: RunInputs,
    record: Record | None,
    origin: int,
    summary: dict[str, Any],
) -> Figure:
    """One panel per state: the share of runs in each label by year (lines), the record
    up to min(origin, ``RECORD_LAST_YEAR``) as markers at 1 in its label's colour, and a
    dashed line at the origin."""
    from matplotlib.figure import Figure

    from alignment_sim.outputs.plots import label_colors

    world = inputs.world
    space_labels = list(world.labels)
    colours = dict(zip(space_labels, label_colors(world), strict=True))
    shares = pd.crosstab([labels["state"], labels["year"]], labels["label"], normalize="index")
    shares = shares.reindex(columns=space_labels, fill_value=0.0)
    states = list(dict.fromkeys(labels["state"]))
    columns = 4
    rows = -(-len(states) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.3 * rows + 0.9))
    figure.subplots_adjust(left=0.04, right=0.99, top=0.93, bottom=0.1, hspace=0.3, wspace=0.08)
    axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    seen = min(origin, RECORD_LAST_YEAR)
    for ax, state in zip(axes, states, strict=False):
        table = shares.loc[state]
        for label in space_labels:
            ax.plot(table.index, table[label], color=colours[label], lw=1.6, label=label)
        if record is not None:
            recorded = [
                (year, colours[label])
                for year, label in sorted(record.labels.get(state, {}).items())
                if year <= seen and label in colours
            ]
            if recorded:
                years, marks = zip(*recorded, strict=True)
                ax.scatter(years, [1.0] * len(years), c=marks, marker="s", s=9, clip_on=False)
        ax.axvline(origin, color="0.4", ls="--", lw=0.9)
        ax.set_title(state, fontsize=9)
        ax.set_ylim(-0.02, 1.05)
        ax.grid(alpha=0.25)
    for ax in axes[len(states) :]:
        ax.set_axis_off()
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncols=len(space_labels), frameon=False)
    fit = summary["fit"]
    source = f"fit {fit['name']}" if fit else "the configuration's values"
    figure.suptitle(
        f"Share of runs in each label, {summary['years'][0]}-{summary['years'][1]}: "
        f"{summary['draws']} draw(s) of {source} x {len(summary['seeds'])} seed(s); "
        f"squares: the record to {seen}; dashed: the origin {origin}",
        fontsize=10,
    )
    return figure
