"""Studies: many runs per job through the engine, written as tidy tables.

A Hydra job with ``replications=N`` runs seeds ``seed .. seed+N-1`` of its configuration
(the same seeds in every job of a sweep: common random numbers) and writes

- ``runs.parquet``: one row per run: seed, the job's parameters, every outcome
  (``outcomes.OUTCOMES``);
- ``ticks.parquet``: one row per run x tick: every share (``share_<label>``,
  ``share_security_<option>``, ``share_economy_<option>``) and each state's profile;
- ``terms.parquet``: one row per run x state x profile (column ``option``) x term: the
  term's mean over the run (``kernels.TERMS``; the explanation data of the comparison
  report); a profile's terms add up to its utility;
- ``labels.parquet``: one row per run x state x calendar year the run covers: the yearly
  record label and its profile (``outcomes.label_table``), states spelled as the
  alignment record spells them;
- ``imputed.parquet``: the world's imputed values (``World.imputed``), when it has any;
- ``aggregate.json``: outcome means with 95% intervals over runs;
- ``manifest.json``: written last; a job folder without it is unfinished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.engine.batch import BatchResult, check_memory, iter_batches
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import SimulationConfig
from alignment_sim.model.world import World
from alignment_sim.outputs.files import (
    STUDY_FILES,
    atomic_write,
    finish_job,
    write_imputed,
    write_json,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies import outcomes


def outcome_table(result: BatchResult) -> pd.DataFrame:
    """One row per run: seed and every outcome (``outcomes.run_outcomes``)."""
    world = result.inputs.world
    table: dict[str, Any] = {"seed": result.seeds.astype(np.int64)}
    table.update(outcomes.run_outcomes(result.alignment, world.space, world.states))
    return pd.DataFrame(table)


def tick_table(result: BatchResult) -> pd.DataFrame:
    """One row per run x tick: every share (``outcomes.share_series``, as
    ``share_<name>``) and each state's profile (a categorical of ``World.options``)."""
    world = result.inputs.world
    R, T1, _ = result.alignment.shape
    table: dict[str, Any] = {
        "seed": np.repeat(result.seeds.astype(np.int64), T1),
        "tick": np.tile(np.arange(T1), R),
        "year": np.tile([world.year_of_tick(t) for t in range(T1)], R),
    }
    for name, shares in outcomes.share_series(result.alignment, world.space).items():
        table[f"share_{name}"] = shares.reshape(-1)
    profiles = pd.Index(list(world.options))
    for i, state in enumerate(world.states):
        codes = result.alignment[:, :, i].reshape(-1).astype(np.int64)
        table[state] = pd.Categorical.from_codes(codes, categories=profiles)
    return pd.DataFrame(table)


def terms_table(result: BatchResult) -> pd.DataFrame:
    """One row per run x state x profile (``option``) x term (``kernels.TERMS``): the
    term's mean over the run, in utility units."""
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


def aggregate(runs: pd.DataFrame, states: Sequence[str]) -> dict[str, Any]:
    """Means with normal 95% intervals over runs for every numeric outcome, and each
    state's probability of ending in each profile and with each label."""
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
    for key, prefix in (
        ("final_alignment_probability", "final_"),
        ("final_label_probability", "final_label_"),
    ):
        out[key] = {
            state: runs[f"{prefix}{state}"].value_counts(normalize=True).to_dict()
            for state in states
        }
    return out


NOT_PARAMETERS = frozenset(
    {
        "study",
        "engine.workers",
        "engine.chunk_size",
        "engine.progress",
        "engine.backend",
        "engine.dask_address",
        "output.quiet",
        "output.plots",
    }
)
"""Settings that change how a job runs or reports, never what it computes: not parameter
columns, not part of the config digest. Keep in step with ``exclude_keys`` of
``hydra.job.config.override_dirname`` in conf/config.yaml (tests/test_config.py checks)."""
EXECUTION_SECTIONS = frozenset(key.split(".")[0] for key in NOT_PARAMETERS)
"""Config sections made only of ``NOT_PARAMETERS`` (engine, output, study)."""


def job_parameters(overrides: list[str]) -> dict[str, Any]:
    """A job's command-line overrides as columns: ``scenario=x`` -> {"scenario": "x"}.

    Execution-only settings (``NOT_PARAMETERS``) and Hydra's own are not parameters; nor
    is ``seed``: it starts the job's block of seeds, which the ``seed`` column already
    holds run by run (``-m seed=0,1000`` gives two blocks of one study).
    """
    out: dict[str, Any] = {}
    for item in overrides:
        key, _, value = item.lstrip("+~").partition("=")
        if key.startswith("hydra.") or key in NOT_PARAMETERS or key == "seed":
            continue
        out[key] = value
    return out


def config_digest(config: SimulationConfig) -> str:
    """A stable hash of what a job computes (to recognise a finished job).

    ``EXECUTION_SECTIONS`` (workers, chunk size, backend, progress, plots, quiet, the
    study's name) are left out, so changing them never forces a recompute.
    """
    computed = {
        key: value
        for key, value in dataclasses.asdict(config).items()
        if key not in EXECUTION_SECTIONS
    }
    payload = json.dumps(computed, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run_study(
    config: SimulationConfig,
    folder: Path,
    parameters: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a study job's ``replications`` seeds through the engine (``config.engine``:
    local or Dask) and stream its tables into ``folder``; returns the aggregate.

    Refuses up front (ConfigError) a job that cannot fit in memory; memory stays flat
    in the number of runs, since each chunk is written as soon as it is done.
    """
    inputs = RunInputs.from_config(config)
    seeds = np.arange(config.seed, config.seed + config.replications, dtype=np.int64)
    check_memory(inputs, len(seeds), config.engine, "summary")
    parts = iter_batches(inputs, seeds, config.engine, record="summary")
    return _write_tables(parts, seeds, config, folder, parameters, extra)


def write_study_job(
    result: BatchResult,
    config: SimulationConfig,
    folder: Path,
    parameters: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a gathered batch as a study job's tables, aggregate and (last) manifest."""
    _write_tables([result], result.seeds, config, folder, parameters, extra)
    return folder


def _write_tables(
    parts: Iterable[BatchResult],
    seeds: np.ndarray,
    config: SimulationConfig,
    folder: Path,
    parameters: dict[str, Any],
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    """Stream chunk results into runs/ticks/terms/labels.parquet (and imputed.parquet
    when the world has imputed values), then the aggregate, then the manifest
    (``finish_job``). Each file is complete or absent: written under a temporary name,
    renamed when every chunk is in."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = manifest(
        config,
        int(config.seed),
        {
            "config_digest": config_digest(config),
            "replications": len(seeds),
            "seeds": [int(seeds[0]), int(seeds[-1])],
            "parameters": parameters,
            **(extra or {}),
        },
    )
    metadata = {b"alignment_sim": json.dumps(meta, default=str).encode()}
    world: World | None = None  # the last chunk's: its imputed values go in imputed.parquet
    with ExitStack() as stack:
        runs, ticks, terms, labels = (
            _ParquetStream(stack.enter_context(atomic_write(folder / name)), metadata)
            for name in ("runs.parquet", "ticks.parquet", "terms.parquet", "labels.parquet")
        )
        for part in parts:
            table = outcome_table(part)
            for name, value in reversed(list(parameters.items())):
                table.insert(1, name, value)
            runs.write(table)
            ticks.write(tick_table(part))
            terms.write(terms_table(part))
            labels.write(
                outcomes.world_labels(part.alignment, part.seeds, part.inputs.world, config.region)
            )
            world = part.inputs.world
        for stream in (runs, ticks, terms, labels):
            stream.close()
    assert world is not None, "a study job has at least one run"
    files = [*STUDY_FILES, *write_imputed(folder, world, meta)]
    runs_table = pd.read_parquet(folder / "runs.parquet")
    summary = {"parameters": parameters, **aggregate(runs_table, world.states)}
    write_json(folder / "aggregate.json", summary)
    finish_job(folder, meta, files)
    return summary


class _ParquetStream:
    """One Parquet file written a table at a time, with the job's manifest in its schema
    metadata (key ``alignment_sim``, as ``write_parquet`` writes it)."""

    def __init__(self, handle: IO[bytes], metadata: dict[bytes, bytes]) -> None:
        self.handle = handle
        self.metadata = metadata
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **self.metadata})
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.handle, table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
