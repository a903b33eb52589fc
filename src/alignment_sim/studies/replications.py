"""Studies: many runs per job through the engine, written as tidy tables.

A Hydra job with ``replications=N`` runs seeds ``seed .. seed+N-1`` of its configuration
(the same seeds in every job of a sweep: common random numbers) and writes

- ``runs.parquet``: one row per run: seed, the job's parameters, every outcome;
- ``ticks.parquet``: one row per run x tick: shares of each option and each state's option;
- ``terms.parquet``: one row per run x state x option x term: the term's mean over the run
  (the explanation data the comparison report uses);
- ``aggregate.json``: outcome means with 95% intervals over runs;
- ``manifest.json``: written last; a job folder without it is unfinished.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignment_sim.engine.batch import BatchResult
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import SimulationConfig
from alignment_sim.outputs.files import write_json, write_parquet
from alignment_sim.outputs.provenance import manifest

STUDY_FILES = ("runs.parquet", "ticks.parquet", "terms.parquet", "aggregate.json", "manifest.json")


def outcome_table(result: BatchResult) -> pd.DataFrame:
    """One row per run: final and mean shares, switches, stability, each state's end."""
    world = result.inputs.world
    align = result.alignment.astype(np.int16)
    shares = result.shares()
    moves = np.diff(align, axis=1) != 0
    any_move = moves.any(axis=2)
    last_switch = np.where(
        any_move.any(axis=1), any_move.shape[1] - np.argmax(any_move[:, ::-1], axis=1), 0
    )
    table: dict[str, Any] = {"seed": result.seeds.astype(np.int64)}
    for k, option in enumerate(world.options):
        table[f"final_share_{option}"] = shares[:, -1, k]
        table[f"mean_share_{option}"] = shares[:, 1:, k].mean(axis=1)
    table["switches"] = moves.sum(axis=(1, 2))
    table["time_to_stability"] = last_switch
    table["states_switched"] = moves.any(axis=1).sum(axis=1)
    options = np.array(world.options)
    for i, state in enumerate(world.states):
        table[f"final_{state}"] = options[align[:, -1, i]]
    return pd.DataFrame(table)


def tick_table(result: BatchResult) -> pd.DataFrame:
    """One row per run x tick: option shares and each state's option (as names)."""
    world = result.inputs.world
    R, T1, _ = result.alignment.shape
    shares = result.shares()
    table: dict[str, Any] = {
        "seed": np.repeat(result.seeds.astype(np.int64), T1),
        "tick": np.tile(np.arange(T1), R),
        "year": np.tile([world.year_of_tick(t) for t in range(T1)], R),
    }
    for k, option in enumerate(world.options):
        table[f"share_{option}"] = shares[..., k].reshape(-1)
    for i, state in enumerate(world.states):
        codes = result.alignment[:, :, i].reshape(-1).astype(np.int64)
        options = pd.Categorical.from_codes(codes, categories=pd.Index(list(world.options)))
        table[state] = options
    return pd.DataFrame(table)


def terms_table(result: BatchResult) -> pd.DataFrame:
    """One row per run x state x option x term: the term's mean over the run."""
    if result.mean_terms is None:
        raise ValueError("terms_table needs a 'summary' or 'full' record")
    world = result.inputs.world
    index = pd.MultiIndex.from_product(
        [result.seeds.astype(np.int64), list(world.states), list(world.options), list(TERMS)],
        names=["seed", "state", "option", "term"],
    )
    frame = pd.DataFrame(
        {"value": result.mean_terms.reshape(-1).astype(np.float64)}, index=index
    ).reset_index()
    for column in ("state", "option", "term"):
        frame[column] = frame[column].astype("category")
    return frame


def aggregate(runs: pd.DataFrame) -> dict[str, Any]:
    """Means with normal 95% intervals over runs for every numeric outcome."""
    out: dict[str, Any] = {"runs": len(runs)}
    for column in runs.columns:
        if column == "seed" or not pd.api.types.is_numeric_dtype(runs[column]):
            continue
        values = runs[column].to_numpy(dtype=float)
        half = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        out[column] = {
            "mean": float(values.mean()),
            "ci95": [float(values.mean() - half), float(values.mean() + half)],
        }
    finals = {
        c[len("final_") :]: runs[c].value_counts(normalize=True).to_dict()
        for c in runs.columns
        if c.startswith("final_") and not pd.api.types.is_numeric_dtype(runs[c])
    }
    out["final_alignment_probability"] = finals
    return out


def config_digest(config: SimulationConfig) -> str:
    """A stable hash of the resolved configuration (to recognise a finished job)."""
    import dataclasses

    payload = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def job_is_complete(folder: Path, digest: str, files: tuple[str, ...] = STUDY_FILES) -> bool:
    """True when the folder holds a finished job of exactly this configuration."""
    path = folder / "manifest.json"
    if not path.is_file():
        return False
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError:
        return False
    return bool(
        meta.get("config_digest") == digest and all((folder / name).is_file() for name in files)
    )


def write_study_job(
    result: BatchResult,
    config: SimulationConfig,
    folder: Path,
    parameters: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a job's tables, aggregate and (last) manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = config_digest(config)
    meta = manifest(
        config,
        int(config.seed),
        {
            "config_digest": digest,
            "replications": result.n_runs,
            "seeds": [int(result.seeds[0]), int(result.seeds[-1])],
            "parameters": parameters,
            **(extra or {}),
        },
    )
    runs = outcome_table(result)
    for name, value in reversed(list(parameters.items())):
        runs.insert(1, name, value)
    write_parquet(folder / "runs.parquet", runs, meta)
    write_parquet(folder / "ticks.parquet", tick_table(result), meta)
    write_parquet(folder / "terms.parquet", terms_table(result), meta)
    write_json(folder / "aggregate.json", {"parameters": parameters, **aggregate(runs)})
    write_json(folder / "manifest.json", meta)
    return folder
