"""Design studies: grids, Latin hypercubes, Sobol and Morris designs through the engine.

A design job samples points over named parameters, runs every point with the same
``replications`` seeds (common random numbers) in chunks of runs through the batched
engine, and writes:

- ``design.parquet``: one row per point (its parameter values);
- ``runs/part-NNNNN.parquet``: one row per run (point, seed, parameters, outcomes), a part
  per chunk, each written atomically, so an interrupted job resumes where it stopped, and
  a design re-run with other outcomes or resamples (``ANALYSIS_SETTINGS``) re-analyses
  its finished runs;
- ``sensitivity.csv`` and ``sensitivity.png``: SALib indices on the chosen outcomes,
  computed on the per-point means over replicates (Sobol S1/ST, and with
  ``design.second_order`` the pairwise S2 as rows ``a:b``; Morris mu*/sigma; delta
  and S1 for Latin hypercubes), with confidence intervals; a full grid gets each
  parameter's main effect (the variance of its level means over the total variance, no
  SALib method fits a grid); and the share of the outcome's variance that is replicate
  noise rather than parameter effect;
- ``manifest.json`` last, listing every file with its size and checksum, and the
  analysis's warnings (too few points for an index, say) under ``warnings``.

An outcome is a numeric column of the runs (``studies.outcomes.OUTCOMES``) or an
indicator of a categorical one, ``<column>=<value>`` (``final_label_uzbekistan=hedge``: 1
when Uzbekistan ends hedging, so its point mean is the probability); every outcome is
checked before any run.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from alignment_sim.engine.batch import BatchResult, check_memory, run_chunk
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import DesignSpec, SimulationConfig
from alignment_sim.outputs.files import (
    DESIGN_FILES,
    atomic_write,
    finish_job,
    read_manifest,
    write_parquet,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies import outcomes
from alignment_sim.studies.points import check_paths, run_points
from alignment_sim.studies.replications import config_digest, outcome_table

MORRIS_LEVELS = 4
"""Grid levels of the Morris trajectories: the sampler and the analysis must agree."""
ANALYSES = {
    "grid": "main effects: variance of each parameter's level means over the total variance",
    "lhs": "SALib delta (moment-independent) and S1 (Plischke et al. 2013)",
    "sobol": "SALib Sobol S1 and ST (Saltelli et al. 2010)",
    "morris": "SALib Morris elementary effects mu* and sigma (Campolongo et al. 2007)",
}
"""What each design's sensitivity.csv holds (``analysis``: with Sobol's S2 when asked)."""


def _to_stderr(line: str) -> None:
    """A progress line on stderr, at once (stdout is the command's result)."""
    print(line, file=sys.stderr, flush=True)


def second_order(spec: DesignSpec) -> bool:
    """Whether a design estimates Sobol's pairwise S2 (``design.second_order``)."""
    return spec.method == "sobol" and spec.second_order


def analysis(spec: DesignSpec) -> str:
    """What this design's sensitivity.csv holds; also in its manifest."""
    return ANALYSES[spec.method] + (", and the pairwise S2" if second_order(spec) else "")


def problem(spec: DesignSpec) -> dict[str, Any]:
    """The SALib problem dictionary for a design."""
    names = list(spec.parameters)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(map(float, spec.parameters[n])) for n in names],
    }


def sample_points(spec: DesignSpec) -> pd.DataFrame:
    """The design's points, one row per point, columns = parameter paths."""
    prob = problem(spec)
    names, bounds = prob["names"], np.array(prob["bounds"])
    if spec.method == "grid":
        axes = [np.linspace(lo, hi, spec.levels) for lo, hi in bounds]
        points = np.array(list(itertools.product(*axes)))
    elif spec.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=spec.sampler_seed).random(spec.samples)
        points = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    elif spec.method == "sobol":
        from SALib.sample import sobol

        points = sobol.sample(
            prob, spec.samples, calc_second_order=second_order(spec), seed=spec.sampler_seed
        )
    elif spec.method == "morris":
        from SALib.sample import morris

        points = morris.sample(prob, spec.samples, num_levels=MORRIS_LEVELS, seed=spec.sampler_seed)
    else:
        raise ValueError(f"design.method = {spec.method!r}: nothing to sample")
    return pd.DataFrame(points, columns=names)


def check_design(config: SimulationConfig) -> tuple[pd.DataFrame, RunInputs]:
    """Everything a design's runs could refuse, checked before anything is written (a
    ConfigError): the paths, each range's ends against the parameter's domain, the
    outcomes, and memory. Returns the design's points and the runs' inputs."""
    spec = config.design
    check_paths(config, list(spec.parameters), "design.parameters")
    points = sample_points(spec)
    inputs = RunInputs.from_config(config)
    check_outcomes(spec, inputs, config.seed)
    runs = len(points) * config.replications
    setting = ("replications", config.replications)  # of each of the design's points
    check_memory(inputs, runs, config.engine, "minimal", runs_setting=setting)
    return points, inputs


def run_design(
    config: SimulationConfig,
    folder: Path,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Run (or resume) a design study into ``folder``; returns it. Everything a run could
    refuse is checked first (``check_design``). ``extra``: more for its manifest (the
    command line's overrides)."""
    spec = config.design
    points, inputs = check_design(config)
    n_runs = len(points) * config.replications
    folder.mkdir(parents=True, exist_ok=True)
    digest, runs_key = config_digest(config), design_runs_digest(config)
    meta = manifest(
        config,
        config.seed,
        {
            **(extra or {}),
            "config_digest": digest,
            "design_runs_digest": runs_key,
            "design": spec.method,
            "second_order": second_order(spec),
            "analysis": analysis(spec),
        },
    )
    write_parquet(folder / "design.parquet", points.rename_axis("point").reset_index(), meta)
    seeds = np.arange(config.seed, config.seed + config.replications)
    point_of_run = np.repeat(np.arange(len(points)), len(seeds))
    seed_of_run = np.tile(seeds, len(points))
    parts = folder / "runs"
    parts.mkdir(exist_ok=True)
    keys = {part: _part_key(part) for part in sorted(parts.glob("part-*.parquet"))}
    chunk = resumed_chunk_size(keys.values(), (runs_key, second_order(spec)), config)
    for part, key in keys.items():
        if key != (runs_key, second_order(spec), chunk):
            part.unlink()  # another configuration's runs, or unreadable: not this study's
    n_chunks = -(-n_runs // chunk)
    done = {c for c in range(n_chunks) if (parts / f"part-{c:05d}.parquet").is_file()}
    values = {name: points[name].to_numpy()[point_of_run] for name in points.columns}
    chunks = run_points(
        inputs,
        values,
        seed_of_run,
        dataclasses.replace(config.engine, chunk_size=chunk),
        then=points_table,
        tags=point_of_run,
        done=done,
        progress=progress,
    )
    for c, table in chunks:
        write_parquet(parts / f"part-{c:05d}.parquet", table, meta)
    runs_table = pq.read_table(parts).to_pandas()
    if progress:  # the runs' bar is full; SALib's bootstrap can take as long again, silent
        resamples = (
            ""
            if spec.method == "grid"
            else f", {spec.bootstrap} bootstrap resamples (design.bootstrap)"
        )
        _to_stderr(
            f"analysing {len(spec.outcomes)} outcome(s) over {len(points)} points{resamples}: "
            f"{analysis(spec)} ..."
        )
    choices = outcomes.categorical_choices(inputs.world)
    with warnings.catch_warnings(record=True) as caught:  # kept in the manifest too
        warnings.simplefilter("always")
        sensitivity = analyse(spec, points, runs_table, _to_stderr if progress else None, choices)
    for warning in caught:  # as they were: the command line logs them (main.log)
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    with atomic_write(folder / "sensitivity.csv", "w") as handle:
        sensitivity.to_csv(handle, index=False)
    plot_sensitivity(sensitivity, folder / "sensitivity.png", spec.method)
    part_files = [f"runs/part-{c:05d}.parquet" for c in range(n_chunks)]
    finish_job(
        folder,
        {
            **meta,
            "points": len(points),
            "runs": len(runs_table),
            "warnings": list(
                dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning))
            ),
        },
        [*DESIGN_FILES, *part_files],
    )
    return folder


ANALYSIS_SETTINGS = ("outcomes", "bootstrap")
"""The design settings only its analysis reads: changing them re-analyses the finished
runs (``design_runs_digest``) instead of running them again."""


def design_runs_digest(config: SimulationConfig) -> str:
    """What a design's runs compute: the configuration's digest without the analysis's
    settings (``ANALYSIS_SETTINGS``), so other outcomes or resamples keep the runs (its
    manifest's ``design_runs_digest``; not ``replications.runs_digest``, what each run of a
    job computes whatever its seeds)."""
    neutral = dataclasses.replace(
        config.design, **{name: getattr(DesignSpec(), name) for name in ANALYSIS_SETTINGS}
    )
    return config_digest(dataclasses.replace(config, design=neutral))


def _part_key(part: Path) -> tuple[str | None, bool, int | None]:
    """The runs digest (``design_runs_digest``), sample (second order or not) and chunk size a
    finished part was written with ((None, False, None) when unreadable)."""
    try:
        meta = read_manifest(part)
    except (OSError, ValueError, KeyError):  # pyarrow's errors are OSError or ValueError
        return None, False, None
    engine = (meta.get("config") or {}).get("engine") or {}
    size = engine.get("chunk_size")
    return (
        meta.get("design_runs_digest"),
        bool(meta.get("second_order", False)),
        size if isinstance(size, int) else None,
    )


def resumed_chunk_size(
    keys: Iterable[tuple[str | None, bool, int | None]],
    study: tuple[str, bool],
    config: SimulationConfig,
) -> int:
    """The chunk size a (resumed) design runs in: its finished parts' own, whatever
    ``engine.chunk_size`` says now (a part is a chunk by its number, so the study keeps
    the cut it began with; the numbers do not depend on it), else the configured one."""
    sizes = {size for digest, order, size in keys if (digest, order) == study and size}
    if len(sizes) == 1:
        (size,) = sizes
        if size != config.engine.chunk_size:
            _to_stderr(
                f"resuming a design cut in chunks of {size} runs (engine.chunk_size="
                f"{config.engine.chunk_size} applies to a new design)"
            )
        return size
    return config.engine.chunk_size


def check_outcomes(spec: DesignSpec, inputs: RunInputs, seed: int) -> None:
    """Refuse outcomes the runs do not produce, before any run (one run names them): a
    numeric column, or ``<column>=<value>`` with a categorical column and one of its
    values (``outcomes.outcome_values``, ``outcomes.categorical_choices``)."""
    table = outcome_table(run_chunk(inputs, np.array([seed]), record="minimal"))
    choices = outcomes.categorical_choices(inputs.world)
    for outcome in spec.outcomes:
        outcomes.outcome_values(
            table.drop(columns="seed", errors="ignore"), str(outcome), "design.outcomes", choices
        )


Choices = Mapping[str, Sequence[str]]
"""The values each categorical outcome can take (``outcomes.categorical_choices``)."""


def outcome_columns(
    spec: DesignSpec, runs: pd.DataFrame, choices: Choices | None = None
) -> pd.DataFrame:
    """The design's outcomes per run, by name, with ``point`` (``outcomes.outcome_values``:
    a numeric column as it is, ``<column>=<value>`` as 1.0 where it holds, else 0.0, also
    for a value of ``choices`` no run took)."""
    columns: dict[str, Any] = {"point": runs["point"]}
    for outcome in spec.outcomes:
        columns[outcome] = outcomes.outcome_values(runs, outcome, "design.outcomes", choices)
    return pd.DataFrame(columns)


def points_table(
    result: BatchResult, values: dict[str, np.ndarray], points: np.ndarray
) -> pd.DataFrame:
    """A chunk of a design's runs (``points.run_points``) as an outcome table, with each
    run's point and parameter values."""
    table = outcome_table(result)
    table.insert(0, "point", points)
    for offset, name in enumerate(values, start=2):
        table.insert(offset, name, values[name])
    return table


def point_means(
    spec: DesignSpec, runs: pd.DataFrame, n_points: int, choices: Choices | None = None
) -> pd.DataFrame:
    """Each outcome's mean over the replicates of each point, in point order."""
    values = outcome_columns(spec, runs, choices)
    return values.groupby("point")[spec.outcomes].mean().reindex(range(n_points))


def noise_share(values: pd.Series, point: pd.Series, seed: pd.Series) -> float:
    """The share of the variance of an outcome's point means that is replicate noise, in
    [0, 1] (NaN with one seed per point, one point, or means that do not vary).

    Every point runs the same seeds (common random numbers), so a run's outcome is its
    point's effect plus its seed's plus the rest, and the seed's effect, common to every
    point, moves no point mean against another: only the rest is noise in their
    differences. Its variance is the residual mean square of the point x seed table (the
    two-way analysis of variance without replication); divided by the seeds per point it
    is the noise variance of a point mean, and over the variance of the means, the share.
    An estimate: where the means differ by noise alone it scatters around 1, and is shown
    as 1 (no effect of the parameters told from the noise).
    """
    table = pd.DataFrame({"y": values.to_numpy(float), "point": point, "seed": seed})
    grid = table.pivot_table(index="point", columns="seed", values="y", aggfunc="mean")
    n_points, n_seeds = grid.shape
    if n_points < 2 or n_seeds < 2 or grid.isna().to_numpy().any():
        return float("nan")
    y = grid.to_numpy()
    means = y.mean(axis=1)
    spread = means.var(ddof=1)
    if not spread > 0:
        return float("nan")
    rest = y - means[:, None] - y.mean(axis=0)[None, :] + y.mean()
    residual = float((rest**2).sum() / ((n_points - 1) * (n_seeds - 1)))
    return min(residual / n_seeds / spread, 1.0)


def analyse(
    spec: DesignSpec,
    points: pd.DataFrame,
    runs: pd.DataFrame,
    say: Callable[[str], None] | None = None,
    choices: Choices | None = None,
) -> pd.DataFrame:
    """Sensitivity indices per outcome and parameter, long format, with intervals.

    Replicates are averaged per point first (the indices describe the expected outcome);
    ``noise_share`` says how much of the variance of the point means is replicate noise
    (``noise_share``). ``say`` hears each outcome as its analysis starts (SALib's
    bootstrap can take as long as the runs). ``choices``: the values a categorical outcome
    can take; one no run took is an outcome of 0 at every point, constant.
    """
    prob = problem(spec)
    means = point_means(spec, runs, len(points), choices)
    values = outcome_columns(spec, runs, choices)
    rows: list[dict[str, Any]] = []
    for n, outcome in enumerate(spec.outcomes, start=1):
        if say is not None:
            say(f"  {outcome} ({n} of {len(spec.outcomes)})")
        y = means[outcome].to_numpy(dtype=float)
        constant = bool(np.allclose(y, y[0]))
        noise = np.nan if constant else noise_share(values[outcome], runs["point"], runs["seed"])
        base = {"outcome": outcome, "noise_share": noise}
        if constant:
            for name in prob["names"]:
                rows.append(
                    {**base, "parameter": name, "index": "constant", "value": 0.0, "conf": 0.0}
                )
            continue
        rows.extend({**base, **row} for row in _indices(spec, prob, points, y, outcome))
    for row in rows:
        row["unit"] = index_unit(str(row["index"]), str(row["outcome"]))
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


SENSITIVITY_COLUMNS = ["outcome", "parameter", "index", "value", "conf", "noise_share", "unit"]
"""``sensitivity.csv``'s columns, in the README's order."""
SHARE_OF_VARIANCE = "share of the point means' variance"
INDEX_UNITS = {
    "S1": SHARE_OF_VARIANCE,
    "ST": SHARE_OF_VARIANCE,
    "S2": SHARE_OF_VARIANCE,
    "main_effect": SHARE_OF_VARIANCE,
    "delta": "0 to 1 (moment-independent)",
    "constant": "",
}
"""The unit of each index that has its own; Morris's mu* and sigma are in the outcome's
(``index_unit``)."""


def index_unit(index: str, outcome: str) -> str:
    """What an index's value is measured in: a share, or (Morris's mu* and sigma) the
    outcome's own unit (``collect.describe``; an indicator ``x=v``: a probability)."""
    from alignment_sim.studies.collect import describe

    if index in INDEX_UNITS:
        return INDEX_UNITS[index]
    if "=" in outcome:
        return "probability (share of a point's runs)"
    return describe(outcome)[0]


def analysis_seed(spec: DesignSpec) -> int:
    """A non-zero seed for SALib's bootstrap, derived from the design's seed.

    SALib 1.6 tests ``if seed:``, so a seed of 0 silently falls back to numpy's global
    random state and the intervals change from run to run.
    """
    return int(np.random.SeedSequence(spec.sampler_seed).generate_state(1)[0]) | 1


def _indices(
    spec: DesignSpec, prob: dict[str, Any], points: pd.DataFrame, y: np.ndarray, outcome: str
) -> list[dict[str, Any]]:
    """Each parameter's indices of one outcome's point means ``y``; a warning, naming the
    outcome, where the points are too few for an estimate."""
    if spec.method == "grid":
        return main_effects(points, y)
    seed = analysis_seed(spec)
    x = points.to_numpy()
    # each method's indices: (index name, result key, key of its interval or None)
    keys: list[tuple[str, str, str | None]]
    if spec.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            prob, y, calc_second_order=second_order(spec), num_resamples=spec.bootstrap, seed=seed
        )
        keys = [("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")]
        if second_order(spec):
            return [*_rows(prob, res, keys), *_pairs(prob, res)]
    elif spec.method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(
            prob, x, y, num_resamples=spec.bootstrap, num_levels=MORRIS_LEVELS, seed=seed
        )
        keys = [("mu_star", "mu_star", "mu_star_conf"), ("sigma", "sigma", None)]
    elif spec.method == "lhs":
        from SALib.analyze import delta

        # SALib's delta resets the process's warning filters to "once"; keep that inside,
        # and turn its "Highly biased input" (too few points per bin) into our warning.
        keys = [("delta", "delta_raw", "delta_raw_conf"), ("S1", "S1", "S1_conf")]
        failed = ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = delta.analyze(prob, x, y, num_resamples=spec.bootstrap, seed=seed)
            except ValueError as exc:  # SALib's density estimate fails on degenerate data
                failed = " ".join(str(exc).split())
        if failed:
            warnings.warn(
                f"design.samples = {spec.samples}: the delta analysis of {outcome} failed on "
                f"these points ({failed}); its delta and S1 are left empty. Use more samples, or "
                "an outcome that varies more between points.",
                UserWarning,
                stacklevel=2,
            )
            nothing = [math.nan] * len(prob["names"])
            return _rows(prob, {name: nothing for _, k, c in keys for name in (k, c) if name}, keys)
        empty = [
            name
            for n, name in enumerate(prob["names"])
            if not all(np.isfinite(res[key][n]) for _, key, _ in keys)
        ]
        if empty:  # SALib returns NaN where its bins are too few for the points
            warnings.warn(
                f"design.samples = {spec.samples}: SALib's delta analysis of {outcome} gave no "
                f"estimate for {', '.join(empty)} (too few points for its bins); their "
                "delta and S1 are left empty. Use more samples.",
                UserWarning,
                stacklevel=2,
            )
        biased = sorted(
            {
                match.group(1)
                for w in caught
                if (match := re.match(r"\[([^\]]+)\]", str(w.message)))
                and "Highly biased" in str(w.message)
                and match.group(1) not in empty
            }
        )
        if biased:
            warnings.warn(
                f"design.samples = {spec.samples}: too few points for the delta analysis of "
                f"{outcome} on {', '.join(biased)} (SALib: 'Highly biased input'); their "
                "delta and S1 estimates are unreliable. Use more samples.",
                UserWarning,
                stacklevel=2,
            )
    else:
        raise ValueError(f"design.method = {spec.method!r}: no analysis")
    return _rows(prob, res, keys)


def _rows(
    prob: dict[str, Any], res: Any, keys: list[tuple[str, str, str | None]]
) -> list[dict[str, Any]]:
    """Each parameter's indices from a SALib result: (index name, key, interval key)."""
    return [
        {
            "parameter": name,
            "index": index,
            "value": res[value][i],
            "conf": res[conf][i] if conf else np.nan,
        }
        for i, name in enumerate(prob["names"])
        for index, value, conf in keys
    ]


def _pairs(prob: dict[str, Any], res: Any) -> list[dict[str, Any]]:
    """Sobol's second-order indices S2 of each pair of parameters, as rows ``a:b``."""
    names = prob["names"]
    return [
        {
            "parameter": f"{names[i]}:{names[j]}",
            "index": "S2",
            "value": res["S2"][i, j],
            "conf": res["S2_conf"][i, j],
        }
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]


def main_effects(points: pd.DataFrame, y: np.ndarray) -> list[dict[str, Any]]:
    """A full grid's first-order indices: for each parameter, the variance of the mean
    outcome at each of its levels over the variance of the outcome across points.

    On a full factorial grid every level of a parameter meets every combination of the
    others equally often, so this is the first-order (main effect) share of variance
    for parameters uniform on their levels; no interval (the grid is not a sample).
    """
    total = float(np.var(y))
    return [
        {
            "parameter": name,
            "index": "main_effect",
            "value": float(np.var(pd.Series(y).groupby(points[name].to_numpy()).mean())) / total,
            "conf": np.nan,
        }
        for name in points.columns
    ]


INDEX_AXES = {
    "grid": "main effect: share of the point means' variance",
    "sobol": "S1, ST: share of the point means' variance",
    "lhs": "delta (0 to 1); S1: share of the point means' variance",
    "morris": "mu*, sigma: change of {outcome} over a parameter's range",
}
"""What each design's indices measure, the x axis of its sensitivity.png."""


def _noise_words(sub: pd.DataFrame) -> str:
    """The panel's note on the replicate noise of one outcome's rows of ``sensitivity``."""
    if (sub["index"] == "constant").all():
        return "the same at every point"
    noise = sub["noise_share"].iloc[0]
    if not np.isfinite(noise):
        return "replicate noise not measured: one seed per point"
    return f"replicate noise {noise:.0%} of the point means' variance"


def plot_sensitivity(table: pd.DataFrame, path: Path, method: str) -> None:
    """One panel per outcome: each parameter's indices with their intervals (pairs'
    S2 are in the table only).

    Drawn with matplotlib's object API (no pyplot, no backend switch).
    """
    from matplotlib.figure import Figure

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig = Figure(figsize=(5.0 * len(outcomes), 4.2), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = table[(table["outcome"] == outcome) & (table["index"] != "S2")]
        indices = [i for i in dict.fromkeys(sub["index"]) if i != "constant"]
        params = list(dict.fromkeys(sub["parameter"]))
        width = 0.8 / max(len(indices), 1)
        for j, index in enumerate(indices):
            part = sub[sub["index"] == index].set_index("parameter").reindex(params)
            conf = part["conf"].to_numpy(dtype=float)
            ax.barh(
                np.arange(len(params)) + j * width,
                part["value"],
                height=width,
                xerr=conf if np.isfinite(conf).any() else None,
                label=index,
                capsize=2,
            )
        ax.set_yticks(np.arange(len(params)) + width * (len(indices) - 1) / 2, params, fontsize=8)
        ax.set_title("\n".join(textwrap.wrap(f"{outcome} ({_noise_words(sub)})", 40)), fontsize=9)
        axis = INDEX_AXES[method].format(outcome=outcome)
        ax.set_xlabel("\n".join(textwrap.wrap(axis, 44)), fontsize=8)
        if indices:
            ax.legend(fontsize=8)
    fig.suptitle(f"Sensitivity ({method} design; bars: 95% intervals where the method has them)")
    with atomic_write(path) as handle:
        fig.savefig(handle, dpi=110, format="png")
