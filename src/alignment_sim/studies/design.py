"""Design studies: grids, Latin hypercubes, Sobol and Morris designs through the engine.

A design job samples points over named parameters, runs every point with the same
``replications`` seeds (common random numbers) in chunks of runs through the batched
engine, and writes:

- ``design.parquet``: one row per point (its parameter values);
- ``runs/part-NNNNN.parquet``: one row per run (point, seed, parameters, outcomes), a part
  per chunk, each written atomically, so an interrupted job resumes where it stopped;
- ``sensitivity.csv`` and ``sensitivity.png``: SALib indices on the chosen outcomes,
  computed on the per-point means over replicates (Sobol S1/ST, Morris mu*/sigma, delta
  and S1 for Latin hypercubes), with confidence intervals, and the share of the outcome's
  variance that is replicate noise rather than parameter effect;
- ``manifest.json`` last.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from alignment_sim.engine.batch import execute, run_chunk
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import DesignSpec, SimulationConfig
from alignment_sim.outputs.files import read_manifest, write_json, write_parquet
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies.points import check_paths, with_point_values
from alignment_sim.studies.replications import config_digest, outcome_table

DESIGN_FILES = ("design.parquet", "sensitivity.csv", "sensitivity.png", "manifest.json")


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

        points = sobol.sample(prob, spec.samples, calc_second_order=False, seed=spec.sampler_seed)
    elif spec.method == "morris":
        from SALib.sample import morris

        points = morris.sample(prob, spec.samples, num_levels=4, seed=spec.sampler_seed)
    else:
        raise ValueError(f"design.method = {spec.method!r}: nothing to sample")
    return pd.DataFrame(points, columns=names)


def run_design(config: SimulationConfig, folder: Path, progress: bool = True) -> Path:
    """Run (or resume) a design study into ``folder``; returns it."""
    spec = config.design
    check_paths(config, list(spec.parameters), "design.parameters")
    folder.mkdir(parents=True, exist_ok=True)
    digest = config_digest(config)
    meta = manifest(config, config.seed, {"config_digest": digest, "design": spec.method})
    points = sample_points(spec)
    write_parquet(folder / "design.parquet", points.rename_axis("point").reset_index(), meta)
    inputs = RunInputs.from_config(config)
    seeds = np.arange(config.seed, config.seed + config.replications)
    point_of_run = np.repeat(np.arange(len(points)), len(seeds))
    seed_of_run = np.tile(seeds, len(points))
    chunk = config.engine.chunk_size
    parts = folder / "runs"
    parts.mkdir(exist_ok=True)
    for part in parts.glob("part-*.parquet"):
        if read_manifest(part).get("config_digest") != digest:
            part.unlink()  # written by another configuration: not this study's runs
    n_chunks = -(-len(point_of_run) // chunk)
    todo = [c for c in range(n_chunks) if not (parts / f"part-{c:05d}.parquet").is_file()]
    tasks = []
    for c in todo:
        runs = slice(c * chunk, (c + 1) * chunk)
        chosen = point_of_run[runs]
        values = {name: points[name].to_numpy()[chosen] for name in points.columns}
        tasks.append((inputs, values, chosen, seed_of_run[runs]))
    engine = config.engine
    with tqdm(
        total=len(point_of_run),
        unit="run",
        disable=not progress,
        initial=len(point_of_run) - sum(len(t[2]) for t in tasks),
    ) as bar:
        results = execute(
            run_points_chunk,
            tasks,
            workers=engine.workers,
            backend=engine.backend,
            address=engine.dask_address,
        )
        for c, table in zip(todo, results, strict=True):
            write_parquet(parts / f"part-{c:05d}.parquet", table, meta)
            bar.update(len(table))
    runs_table = pq.read_table(parts).to_pandas()
    sensitivity = analyse(spec, points, runs_table)
    tmp = folder / ".sensitivity.csv.tmp"
    sensitivity.to_csv(tmp, index=False)
    tmp.replace(folder / "sensitivity.csv")
    plot_sensitivity(sensitivity, folder / "sensitivity.png", spec.method)
    write_json(folder / "manifest.json", {**meta, "points": len(points), "runs": len(runs_table)})
    return folder


def run_points_chunk(
    inputs: RunInputs, values: dict[str, np.ndarray], points: np.ndarray, seeds: np.ndarray
) -> pd.DataFrame:
    """One chunk of a design: runs with per-run parameter values, as an outcome table."""
    result = run_chunk(with_point_values(inputs, values), seeds, record="minimal")
    table = outcome_table(result)
    table.insert(0, "point", points)
    for offset, name in enumerate(values, start=2):
        table.insert(offset, name, values[name])
    return table


def point_means(spec: DesignSpec, runs: pd.DataFrame, n_points: int) -> pd.DataFrame:
    """Each outcome's mean over the replicates of each point, in point order."""
    missing = [o for o in spec.outcomes if o not in runs.columns]
    if missing:
        from alignment_sim.errors import ConfigError

        numeric = [c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c])]
        raise ConfigError("design.outcomes", missing, f"outcome columns ({', '.join(numeric)})")
    means = runs.groupby("point")[spec.outcomes].mean().reindex(range(n_points))
    return means


def analyse(spec: DesignSpec, points: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices per outcome and parameter, long format, with intervals.

    Replicates are averaged per point first (the indices describe the expected outcome);
    ``noise_share`` says how much of the variance of the point means is replicate noise
    (within-point variance / replicates, over the variance of the means).
    """
    prob = problem(spec)
    means = point_means(spec, runs, len(points))
    within = runs.groupby("point")[spec.outcomes].var(ddof=1).mean()
    per_point = runs.groupby("point").size().mean()
    rows: list[dict[str, Any]] = []
    for outcome in spec.outcomes:
        y = means[outcome].to_numpy(dtype=float)
        noise = float(within[outcome] / per_point / y.var(ddof=1)) if y.var() > 0 else np.nan
        base = {"outcome": outcome, "noise_share": noise}
        if np.allclose(y, y[0]):
            for name in prob["names"]:
                rows.append(
                    {**base, "parameter": name, "index": "constant", "value": 0.0, "conf": 0.0}
                )
            continue
        rows.extend({**base, **row} for row in _indices(spec, prob, points, y))
    return pd.DataFrame(rows)


def analysis_seed(spec: DesignSpec) -> int:
    """A non-zero seed for SALib's bootstrap, derived from the design's seed.

    SALib 1.6 tests ``if seed:``, so a seed of 0 silently falls back to numpy's global
    random state and the intervals change from run to run.
    """
    return int(np.random.SeedSequence(spec.sampler_seed).generate_state(1)[0]) | 1


def _indices(
    spec: DesignSpec, prob: dict[str, Any], points: pd.DataFrame, y: np.ndarray
) -> list[dict[str, Any]]:
    seed = analysis_seed(spec)
    x = points.to_numpy()
    # each method's indices: (index name, result key, key of its interval or None)
    keys: list[tuple[str, str, str | None]]
    if spec.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            prob, y, calc_second_order=False, num_resamples=spec.bootstrap, seed=seed
        )
        keys = [("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")]
    elif spec.method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(prob, x, y, num_resamples=spec.bootstrap, num_levels=4, seed=seed)
        keys = [("mu_star", "mu_star", "mu_star_conf"), ("sigma", "sigma", None)]
    else:
        from SALib.analyze import delta

        res = delta.analyze(prob, x, y, num_resamples=spec.bootstrap, seed=seed)
        keys = [("delta", "delta_raw", "delta_raw_conf"), ("S1", "S1", "S1_conf")]
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


def plot_sensitivity(table: pd.DataFrame, path: Path, method: str) -> None:
    """One panel per outcome: each parameter's indices with their intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(
        1, len(outcomes), figsize=(4.5 * len(outcomes), 3.8), squeeze=False, constrained_layout=True
    )
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = table[table["outcome"] == outcome]
        indices = [i for i in dict.fromkeys(sub["index"]) if i != "constant"]
        params = list(dict.fromkeys(sub["parameter"]))
        width = 0.8 / max(len(indices), 1)
        for j, index in enumerate(indices):
            part = sub[sub["index"] == index].set_index("parameter").reindex(params)
            ax.barh(
                np.arange(len(params)) + j * width,
                part["value"],
                height=width,
                xerr=part["conf"].fillna(0).to_numpy(),
                label=index,
                capsize=2,
            )
        ax.set_yticks(np.arange(len(params)) + width * (len(indices) - 1) / 2, params, fontsize=8)
        noise = sub["noise_share"].iloc[0]
        ax.set_title(f"{outcome}\n(replicate noise {noise:.0%} of variance)", fontsize=9)
        if indices:
            ax.legend(fontsize=8)
    fig.suptitle(f"Sensitivity ({method} design)")
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
