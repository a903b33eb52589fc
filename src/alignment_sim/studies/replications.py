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
- ``draws.parquet``: with ``estimation.sample_parameters``, one row per run: seed, ``draw``
  (the index of the run's posterior draw) and each drawn parameter's value (a column per
  path);
- ``aggregate.json``: outcome means with 95% intervals over runs;
- ``manifest.json``: written last; a job folder without it is unfinished.

Parameter uncertainty: a job with ``fit`` set and ``estimation.sample_parameters=true``
runs run r (seed ``seed + r``) on draw r mod ``estimation.draws`` of
``FittedSet.draws(estimation.draws, seed=seed)``. The draws depend on the fitted set and
``seed`` alone, so scenarios run with the same seed, replications and fitted set share
them run for run, and their differences include the parameters' uncertainty. A parameter
the command line sets itself (a job parameter) keeps its value and is not drawn. The
manifest's ``parameter_draws`` records the fitted set, its digest and the drawn paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.engine.batch import BatchResult, check_memory, iter_batches
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet, canonical, override_paths
from alignment_sim.model.calendar import DRIVERS_FILE, RECORD_FILE
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import EngineParams, SimulationConfig
from alignment_sim.model.world import (
    ATTRIBUTES_FILE,
    TRANSIT_ROUTES_FILE,
    World,
    packaged_data_path,
)
from alignment_sim.outputs.files import (
    STUDY_FILES,
    atomic_write,
    finish_job,
    sha256,
    write_imputed,
    write_json,
    write_parquet,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies import outcomes
from alignment_sim.studies.points import run_points

DRAWS_FILE = "draws.parquet"
DRAWS_KEY = "parameter_draws"
"""The manifest's record of the draws a job's runs take (``ParameterDraws.describe``)."""
SAMPLING = "estimation.sample_parameters"


def outcome_table(result: BatchResult) -> pd.DataFrame:
    """One row per run: seed and every outcome (``outcomes.run_outcomes``)."""
    world = result.inputs.world
    table: dict[str, Any] = {"seed": result.seeds.astype(np.int64)}
    table.update(outcomes.run_outcomes(result.alignment, world.labelling, world.states))
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
    for name, shares in outcomes.share_series(result.alignment, world.labelling).items():
        table[f"share_{name}"] = shares.reshape(-1)
    profiles = pd.Index(list(world.options))
    for i, state in enumerate(world.states):
        codes = result.alignment[:, :, i].reshape(-1).astype(np.int64)
        table[state] = pd.Categorical.from_codes(codes, categories=profiles)
    return pd.DataFrame(table)


def terms_table(result: BatchResult) -> pd.DataFrame:
    """One row per run x state x profile (``option``) x term (``kernels.TERMS``): the
    term's mean over the run, in utility units. Built column by column (the rows run
    through the terms fastest, then profiles, states and runs); state, option and term
    are categoricals with their names in sorted order."""
    if result.mean_terms is None:
        raise ValueError("terms_table needs a 'summary' or 'full' record")
    world = result.inputs.world
    R, N, K, T = result.mean_terms.shape
    frame: dict[str, Any] = {"seed": np.repeat(result.seeds.astype(np.int64), N * K * T)}
    for column, names, inner, outer in (
        ("state", world.states, K * T, R),
        ("option", world.options, T, R * N),
        ("term", TERMS, 1, R * N * K),
    ):
        categories = sorted(names)
        sorted_code = np.array([categories.index(name) for name in names], dtype=np.int8)
        codes = np.tile(np.repeat(sorted_code, inner), outer)
        frame[column] = pd.Categorical.from_codes(codes, categories=pd.Index(categories))
    frame["value"] = result.mean_terms.reshape(-1).astype(np.float64)
    return pd.DataFrame(frame, copy=False)


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


REPLICATE_KEYS = ("seed", "replications")
"""Settings that choose which replicates a job runs (the first seed, how many), not what a
run computes."""


def run_sections(config: Mapping[str, Any]) -> dict[str, Any]:
    """The sections of a job's configuration, as its manifest holds it
    (``manifest["config"]``), that decide what each run computes: all but
    ``EXECUTION_SECTIONS`` and the seeds' start and number (``REPLICATE_KEYS``)."""
    return {
        key: value
        for key, value in config.items()
        if key not in EXECUTION_SECTIONS and key not in REPLICATE_KEYS
    }


def runs_digest(config: Mapping[str, Any]) -> str:
    """A stable hash of ``run_sections``: what each run of a job computes. A run depends
    only on its config and seed, so two jobs of one runs digest give the same run for the
    same seed."""
    payload = json.dumps(run_sections(config), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Repeat:
    """Runs of unit ``index`` already counted (``repeats``): ``runs`` (seeds; a design's
    (point, seed)), the first of them held by unit ``owner`` (None: runs that appear twice
    in the unit itself). ``whole``: the unit is left out (every run of it is counted
    already, or it repeats a run of its own); otherwise only ``runs`` are, and its other
    runs count."""

    index: int
    runs: tuple[Hashable, ...]
    owner: int | None
    whole: bool

    @property
    def run(self) -> Hashable:
        """The first repeated run."""
        return self.runs[0]

    @property
    def count(self) -> int:
        return len(self.runs)


def repeats(units: Sequence[tuple[str, Sequence[Hashable]]], partial: bool = True) -> list[Repeat]:
    """The runs to leave out so that no run counts twice, unit by unit in the order found.

    A unit is (key, runs) and a run is known by its key and its seed (a design's by its
    point and seed): two units of one key give the same run for the same seed (a study
    run twice, re-run with other ``replications``, a run copied). Units are taken largest
    first, then in order: a unit that repeats a run of its own, or whose every run a unit
    taken before already has, is left out whole; one with some runs already counted keeps
    its others (``partial``) or, where a unit can only be taken whole (a comparison pools
    whole folders: ``partial=False``), is left out whole.
    """
    owners: dict[str, dict[Hashable, int]] = {}
    found = []
    for i in sorted(range(len(units)), key=lambda i: -len(units[i][1])):
        key, runs = units[i]
        kept = owners.setdefault(key, {})
        twice = tuple(run for run, n in Counter(runs).items() if n > 1)
        if twice:
            found.append(Repeat(i, twice, None, True))
            continue
        repeated = tuple(run for run in runs if run in kept)
        whole = len(repeated) == len(runs) or not partial
        if repeated:
            found.append(Repeat(i, repeated, kept[repeated[0]], whole))
        if not (repeated and whole):
            kept.update({run: i for run in runs if run not in kept})
    return found


def config_digest(config: SimulationConfig) -> str:
    """A stable hash of what a job computes (to recognise a finished job): the
    configuration and the contents of the data files it reads (``data_files``), so an
    edited attributes, drivers or record file makes a finished job stale.

    ``EXECUTION_SECTIONS`` (workers, chunk size, backend, progress, plots, quiet, the
    study's name) are left out, so changing them never forces a recompute.
    """
    computed = {
        key: value
        for key, value in dataclasses.asdict(config).items()
        if key not in EXECUTION_SECTIONS
    }
    computed["data_files"] = {name: _file_digest(path) for name, path in data_files(config).items()}
    payload = json.dumps(computed, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def data_files(config: SimulationConfig) -> dict[str, Path]:
    """The data files a job reads, by the setting that names them (the package's own
    where it names none): the states' attributes, the yearly drivers, the transit routes
    and the alignment record (a calendar world's starting profiles; a fit's record)."""
    region = config.region
    record = config.estimation.record
    return {
        "region.attributes_file": Path(
            region.attributes_file or packaged_data_path(ATTRIBUTES_FILE)
        ),
        "region.drivers_file": Path(region.drivers_file or packaged_data_path(DRIVERS_FILE)),
        "region.transit_routes_file": Path(
            region.transit_routes_file or packaged_data_path(TRANSIT_ROUTES_FILE)
        ),
        "estimation.record": Path(record or packaged_data_path(RECORD_FILE)),
    }


_DIGESTS: dict[tuple[str, int, int], str] = {}
"""File digests by (path, size, modification time): a sweep hashes each file once."""


def _file_digest(path: Path) -> str:
    """The SHA-256 of a data file, or "missing" (the job's own checks name it)."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256(path)
    return _DIGESTS[key]


@dataclass(frozen=True)
class ParameterDraws:
    """The posterior draws a study job's runs take: ``values`` path -> (n,) values of the
    drawn paths; run r (seed ``seed`` + r) takes draw r mod n."""

    fit: str
    source: str
    digest: str
    seed: int
    values: dict[str, np.ndarray]
    held: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(next(iter(self.values.values())))

    def index(self, seeds: np.ndarray) -> np.ndarray:
        """Each run's draw: (seed - ``seed``) mod n."""
        return (np.asarray(seeds, dtype=np.int64) - self.seed) % self.n

    def per_run(self, seeds: np.ndarray) -> dict[str, np.ndarray]:
        """Each drawn path's value in each run of ``seeds``."""
        index = self.index(seeds)
        return {path: values[index] for path, values in self.values.items()}

    def table(self, seeds: np.ndarray) -> pd.DataFrame:
        """``draws.parquet``: seed, draw, each drawn path's value, one row per run."""
        frame = pd.DataFrame({"seed": np.asarray(seeds, dtype=np.int64)})
        frame["draw"] = self.index(seeds)
        for path, values in self.per_run(seeds).items():
            frame[path] = values
        return frame

    def describe(self) -> dict[str, Any]:
        """The manifest's ``parameter_draws``."""
        return {
            "fit": self.fit,
            "source": self.source,
            "digest": self.digest,
            "draws": self.n,
            "seed": self.seed,
            "paths": list(self.values),
            "held": list(self.held),
        }


def fitted_digest(fitted: FittedSet) -> str:
    """A hash of what a fitted set's draws come from: its parameters, mode and covariance."""
    data = fitted.to_dict()
    payload = json.dumps({k: data[k] for k in ("free", "covariance")}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def parameter_draws(config: SimulationConfig, parameters: dict[str, Any]) -> ParameterDraws | None:
    """The draws of a job with ``estimation.sample_parameters`` (None without it):
    ``estimation.draws`` draws of ``fit``'s posterior, seeded by ``seed``, less the paths
    set among the job's ``parameters`` (the command line's values stand)."""
    if not config.estimation.sample_parameters:
        return None
    assert config.fit is not None
    fitted = FittedSet.load(config.fit)
    given = set(override_paths(config, parameters))
    drawn = fitted.draws(config.estimation.draws, seed=config.seed)
    values = {p: v for p, v in drawn.items() if canonical(config, p) not in given}
    held = tuple(p for p in drawn if p not in values)
    if not values:
        raise ConfigError(
            SAMPLING, True, f"a parameter of fit {fitted.name} left to draw", f"All are set: {held}"
        )
    return ParameterDraws(fitted.name, config.fit, fitted_digest(fitted), config.seed, values, held)


def sampled_batches(
    inputs: RunInputs, seeds: np.ndarray, draws: ParameterDraws, engine: EngineParams
) -> Iterator[BatchResult]:
    """``iter_batches`` with each run on its draw: chunk results in seed order, each
    run on its drawn values (``points.run_points``)."""
    progress = engine.progress and len(seeds) > engine.chunk_size
    chunks = run_points(inputs, draws.per_run(seeds), seeds, engine, "summary", progress=progress)
    for _, part in chunks:
        yield part


def run_study(
    config: SimulationConfig,
    folder: Path,
    parameters: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a study job's ``replications`` seeds through the engine (``config.engine``:
    local or Dask) and stream its tables into ``folder``; returns the aggregate. With
    ``estimation.sample_parameters`` each run takes its posterior draw (``ParameterDraws``).

    Refuses up front (ConfigError) a job that cannot fit in memory; memory stays flat
    in the number of runs, since each chunk is written as soon as it is done.
    """
    inputs = RunInputs.from_config(config)  # validates the configuration first
    draws = parameter_draws(config, parameters)
    seeds = np.arange(config.seed, config.seed + config.replications, dtype=np.int64)
    check_memory(inputs, len(seeds), config.engine, "summary")
    if draws is None:
        parts = iter_batches(inputs, seeds, config.engine, record="summary")
    else:
        parts = sampled_batches(inputs, seeds, draws, config.engine)
        extra = {**(extra or {}), DRAWS_KEY: draws.describe()}
    return _write_tables(parts, seeds, config, folder, parameters, extra, draws)


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
    draws: ParameterDraws | None = None,
) -> dict[str, Any]:
    """Stream chunk results into runs/ticks/terms/labels.parquet (and imputed.parquet
    when the world has imputed values, draws.parquet when the runs take ``draws``), then
    the aggregate, then the manifest (``finish_job``). Each file is complete or absent:
    written under a temporary name, renamed when every chunk is in."""
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
        runs, ticks, terms, labels = streams = [
            _ParquetStream(stack.enter_context(atomic_write(folder / name)), metadata)
            for name in ("runs.parquet", "ticks.parquet", "terms.parquet", "labels.parquet")
        ]
        # an interrupt or failure: each writer closed while its file is still open (the
        # files are then discarded), never later by the garbage collector on a closed file
        for stream in streams:
            stack.callback(stream.close, quietly=True)
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
    if draws is not None:
        write_parquet(folder / DRAWS_FILE, draws.table(seeds), meta)
        files.append(DRAWS_FILE)
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

    def close(self, quietly: bool = False) -> None:
        """Write the footer (once); ``quietly``: on the way out of a failure, whose file
        is discarded, an error in it is nobody's concern."""
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            writer.close()
        except Exception:
            if not quietly:
                raise
