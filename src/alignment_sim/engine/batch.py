"""The batched engine: many replications at once over the same kernels as the Mesa model.

Runs R seeds of one configuration as arrays over (replication, state, option), in chunks
so memory stays bounded, on one or several processes. Every run's trajectory equals the
Mesa model's for the same (config, seed), whatever the chunk size or number of workers:
both call ``tick_batch``'s kernels and draw each run's random numbers from
``RunStreams(seed)`` in the same order.

    result = run_batch(RunInputs.from_config(config), range(1000), config.engine)
    result.alignment        # (R, T + 1, N) profile index per run, tick and state

How it runs (chunk size, workers, local or Dask) is one ``EngineParams``, passed whole.
"""

from __future__ import annotations

import dataclasses
import resource
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from alignment_sim.engine.tick import BatchState, TickParameters, tick_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs, RunStreams
from alignment_sim.model.kernels import TERMS, Terms
from alignment_sim.model.params import MAX_SEED, EngineParams, check_seeds
from alignment_sim.model.trajectory import RECORDED_ARRAYS, Trajectory, option_shares
from alignment_sim.model.world import FloatArray, World
from alignment_sim.progress import progress_bar

Record = Literal["minimal", "summary", "full"]
RECORDS: tuple[str, ...] = get_args(Record)


def seed_list(seeds: Iterable[int]) -> np.ndarray:
    """``seeds`` as an int64 array, each checked before any run (``params.check_seeds``):
    a whole number (not a float, a bool or the characters of a string) from 0 to
    2**63 - 1; at least one."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ConfigError("seeds", seeds, "whole numbers >= 0 (a list or a range)")
    listed = list(seeds)
    if not listed:
        raise ConfigError("seeds", listed, "at least one seed")
    array = np.asarray(listed)
    if array.dtype.kind in "iu" and array.ndim == 1:  # whole numbers: their bounds alone
        low, high = int(array.min()), int(array.max())
        if low >= 0 and high <= MAX_SEED:
            return array.astype(np.int64)
    for seed in listed:  # the first bad one, named
        check_seeds(int(seed) if isinstance(seed, np.integer) else seed, 1, "seeds")
    return np.asarray(listed, dtype=np.int64)


T = TypeVar("T")


@dataclass
class BatchResult:
    """What a batch of runs produced. Arrays are over runs first.

    alignment: (R, T+1, N) int8 profile index (``World.options``; tick 0 is the start).
    credibility: (R, T, B) float32 credibility in force at each tick.
    mean_offers: (R, B, N) float32 mean offer over the ticks, US$ bn a year ("summary").
    mean_terms: (R, N, K, n_terms) float32 mean of each weighted term on the profile
        axis, in ``kernels.TERMS`` order ("summary").
    trajectory: the complete record of every run ("full" only).
    """

    inputs: RunInputs
    seeds: np.ndarray
    alignment: np.ndarray
    credibility: np.ndarray
    mean_offers: np.ndarray | None = None
    mean_terms: np.ndarray | None = None
    trajectory: Trajectory | None = None

    @property
    def n_runs(self) -> int:
        return len(self.seeds)

    def labels(self) -> np.ndarray:
        """(R, T+1, N) each state's record label, an index into ``World.labels``."""
        return self.inputs.world.labelling.of_profiles(self.alignment)

    def shares(self) -> FloatArray:
        """Share of choosers with each record label, (R, T+1, L)."""
        return option_shares(self.labels(), len(self.inputs.world.labels))

    def take(self, rows: slice | np.ndarray) -> BatchResult:
        """The runs ``rows`` (a slice, or indices, repeats allowed: a resample) as a batch of
        their own; the inputs stay the whole batch's. Summary records only: a ValueError
        for a batch that kept its trajectories ("full")."""
        if self.trajectory is not None:
            raise ValueError("take: a batch recorded in full keeps its runs together")
        return dataclasses.replace(
            self,
            seeds=self.seeds[rows],
            alignment=self.alignment[rows],
            credibility=self.credibility[rows],
            mean_offers=None if self.mean_offers is None else self.mean_offers[rows],
            mean_terms=None if self.mean_terms is None else self.mean_terms[rows],
        )

    @staticmethod
    def concatenate(parts: Sequence[BatchResult]) -> BatchResult:
        first = parts[0]

        def cat(name: str) -> np.ndarray | None:
            values = [getattr(p, name) for p in parts]
            return None if values[0] is None else np.concatenate(values)

        trajectory = None
        if first.trajectory is not None:
            trajectory = Trajectory(
                first.inputs.world,
                first.inputs.ticks,
                np.concatenate([p.seeds for p in parts]),
                first.inputs.program.names,
            )
            for attr in RECORDED_ARRAYS:
                setattr(
                    trajectory, attr, np.concatenate([getattr(p.trajectory, attr) for p in parts])
                )
        return BatchResult(
            inputs=first.inputs,
            seeds=np.concatenate([p.seeds for p in parts]),
            alignment=np.concatenate([p.alignment for p in parts]),
            credibility=np.concatenate([p.credibility for p in parts]),
            mean_offers=cat("mean_offers"),
            mean_terms=cat("mean_terms"),
            trajectory=trajectory,
        )


DRAW_BLOCK = 16
"""Runs drawn at a time into a small buffer, from which their noise is laid out: 16 runs
of 100 ticks fill half a MiB, so the buffer stays in a core's L2 cache while it is copied."""


def draw_streams(inputs: RunInputs, seeds: np.ndarray) -> tuple[np.ndarray, FloatArray]:
    """Each run's uniforms, as the Mesa model draws them: (R, T, N, S + E) and (R, T, E).

    Both paths take them from ``RunStreams.draw``, so they are the same numbers. The noise
    is laid out with the run axis fastest, tick by tick (a tick's (R, N, S + E) is one
    Fortran-ordered block, as the tick's arrays are): each run draws into its own rows of a
    small buffer of ``DRAW_BLOCK`` runs, copied into place while it is in cache.
    """
    world, T, R = inputs.world, inputs.ticks, len(seeds)
    N, E = world.n_states, inputs.program.n_events
    K = world.space.n_security + world.space.n_economy
    noise = np.empty((T, K, N, R), dtype=np.float32).transpose(3, 0, 2, 1)
    hazards = np.empty((R, T, E))
    drawn = np.empty((min(R, DRAW_BLOCK), T, N, K), dtype=np.float32)
    for start in range(0, R, DRAW_BLOCK):
        block = seeds[start : start + DRAW_BLOCK]
        for row, seed in enumerate(block):
            RunStreams.draw(int(seed), drawn[row], hazards[start + row])
        noise[start : start + len(block)] = drawn[: len(block)]
    return noise, hazards


def tick_uniforms(
    noise: np.ndarray, hazards: FloatArray, tick: int
) -> tuple[FloatArray, FloatArray]:
    """The uniforms of tick ``tick`` (from 1) out of ``draw_streams``' arrays: noise
    (R, N, S + E) and the hazards (R, E), as views."""
    return noise[:, tick - 1], hazards[:, tick - 1]


def run_chunk(inputs: RunInputs, seeds: np.ndarray, record: Record = "summary") -> BatchResult:
    """Run the seeds of one chunk together, all ticks, in this process.

    BLAS is held to one thread: its only use here (the peer product) is a small matrix
    product that threads slow down, and workers must not oversubscribe the cores.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_chunk(inputs, seeds, record)


def _run_chunk(inputs: RunInputs, seeds: np.ndarray, record: Record) -> BatchResult:
    seeds = np.asarray(seeds, dtype=np.int64)
    world, T, R = inputs.world, inputs.ticks, len(seeds)
    noise, hazards = draw_streams(inputs, seeds)
    state = BatchState.initial(inputs, R)
    alignment = np.empty((R, T + 1, world.n_states), dtype=np.int8)
    alignment[:, 0] = world.initial_alignment
    credibility = np.empty((R, T, world.n_poles), dtype=np.float32)
    trajectory = Trajectory(world, T, seeds, inputs.program.names) if record == "full" else None
    offers_sum = np.zeros((R, world.n_poles, world.n_states), order="F")
    term_sums = TermSums()
    parameters = TickParameters(inputs)
    for tick in range(1, T + 1):
        state, out = tick_batch(
            inputs, state, tick, *tick_uniforms(noise, hazards, tick), parameters
        )
        alignment[:, tick] = out.choice
        credibility[:, tick - 1] = out.credibility
        if record != "minimal":
            offers_sum += out.offers
            term_sums.add(out.terms)
        if trajectory is not None:
            trajectory.add(tick, out)
    summary = record != "minimal"
    return BatchResult(
        inputs=inputs,
        seeds=seeds,
        alignment=alignment,
        credibility=credibility,
        mean_offers=(offers_sum / T).astype(np.float32) if summary else None,
        mean_terms=term_sums.means(world, R, T) if summary else None,
        trajectory=trajectory,
    )


class TermSums:
    """Each term's running sum over the ticks, for every run, in each dimension.

    A tick's terms are float32; they are added in single precision for at most
    ``FLUSH_TICKS`` ticks and each such partial sum is then added to a double-precision
    total (adding float32 into float64 every tick costs five times a float32 add; the
    partial sum's rounding, about 1e-7 of each term, stays below the float32 the means are
    reported in). A term with no run axis (parameters only, no event in force) is summed
    at its own small shape: every run adds the same numbers in the same order, so this is
    the per-run sum without a pass over the batch. It takes the batch shape when an event
    gives it one.
    """

    FLUSH_TICKS = 16

    def __init__(self) -> None:
        self.totals: dict[str, dict[str, FloatArray]] = {"security": {}, "economy": {}}
        self.partials: dict[str, dict[str, FloatArray]] = {"security": {}, "economy": {}}
        self.pending = 0

    def add(self, terms: Terms) -> None:
        for part in ("security", "economy"):
            partials = self.partials[part]
            for name, value in getattr(terms, part).items():
                partial = partials.get(name)
                if partial is None:
                    partials[name] = np.array(value, dtype=np.float32)
                elif partial.shape == np.broadcast_shapes(partial.shape, np.shape(value)):
                    np.add(partial, value, out=partial)
                else:
                    partials[name] = partial + value
        self.pending += 1
        if self.pending == self.FLUSH_TICKS:
            self.flush()

    def flush(self) -> None:
        """Add the partial sums to the double-precision totals and start them afresh."""
        for part in ("security", "economy"):
            totals = self.totals[part]
            for name, partial in self.partials[part].items():
                total = totals.get(name)
                totals[name] = (
                    partial.astype(np.float64)
                    if total is None
                    else np.add(total, partial, dtype=np.float64)
                )
            self.partials[part] = {}
        self.pending = 0

    def means(self, world: World, runs: int, ticks: int) -> np.ndarray:
        """Per-run means of each term on the profile axis, (R, N, K, n_terms) float32."""
        self.flush()
        means = Terms(
            {name: total / ticks for name, total in self.totals["security"].items()},
            {name: total / ticks for name, total in self.totals["economy"].items()},
        )
        space = world.space
        on_profiles = means.on_profiles(space.profile_security, space.profile_economy)
        # written term by term into contiguous blocks, returned with the term axis last
        means_by_term = np.empty((len(TERMS), runs, world.n_states, len(world.options)), np.float32)
        for block, name in zip(means_by_term, TERMS, strict=True):
            block[...] = on_profiles[name]
        return np.moveaxis(means_by_term, 0, -1)


def _chunks(seeds: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    return [seeds[i : i + chunk_size] for i in range(0, len(seeds), chunk_size)]


LIBRARY_ENGINE = EngineParams(progress=False)
"""The engine settings when a caller gives none: one process, chunks of 2,000, no bar."""


def execute(
    function: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    engine: EngineParams | None = None,
) -> Iterator[T]:
    """Run ``function(*task)`` for every task and yield the results in task order.

    ``engine.backend`` "local": in this process (``engine.workers`` = 1) or a pool of loky
    processes; "dask": on the Dask scheduler at ``engine.dask_address``, or a local cluster
    of ``engine.workers`` processes.
    """
    engine = engine or LIBRARY_ENGINE
    if engine.backend == "dask":
        from alignment_sim.engine.distributed import connect, map_ordered

        with connect(engine.dask_address, engine.workers) as client:
            yield from map_ordered(client, function, tasks)
    elif engine.workers == 1 or len(tasks) <= 1:
        for task in tasks:
            yield function(*task)
    else:
        parallel = Parallel(n_jobs=engine.workers, backend="loky", return_as="generator")
        yield from parallel(delayed(function)(*task) for task in tasks)


def iter_batches(
    inputs: RunInputs,
    seeds: Iterable[int],
    engine: EngineParams | None = None,
    *,
    record: Record = "summary",
    progress: bool | None = None,
) -> Iterator[BatchResult]:
    """Yield chunk results in seed order; memory stays bounded by chunk_size x workers.

    ``engine`` says how (chunk size, workers, backend; see ``execute``); ``progress``
    (default: ``engine.progress``) shows a bar over the runs when there is more than one
    chunk. Refuses up front (ConfigError) a batch whose chunks cannot fit in memory.
    """
    engine = _checked_engine(inputs, engine, record)
    seed_array = seed_list(seeds)
    check_memory(inputs, len(seed_array), engine, record)
    chunks = _chunks(seed_array, engine.chunk_size)
    tasks = [(inputs, chunk, record) for chunk in chunks]
    show = engine.progress if progress is None else progress
    with progress_bar(len(seed_array), "run", disable=not show or len(chunks) < 2) as bar:
        for part in execute(run_chunk, tasks, engine):
            bar.update(part.n_runs)
            yield part


def run_batch(
    inputs: RunInputs,
    seeds: Iterable[int],
    engine: EngineParams | None = None,
    *,
    record: Record = "summary",
    progress: bool | None = None,
) -> BatchResult:
    """Run every seed of one configuration and gather the results (see ``iter_batches``).

    Gathering holds every run (``kept_bytes_per_run``); a study of many runs streams
    ``iter_batches`` instead. Refuses up front (ConfigError) runs whose gathered results
    cannot fit in memory.
    """
    engine = _checked_engine(inputs, engine, record)
    # a range is counted before its seeds are listed (a billion of them fill the memory);
    # iter_batches lists and checks them
    counted = seeds if isinstance(seeds, range) else seed_list(seeds)
    check_memory(inputs, len(counted), engine, record, gathered=True)
    parts = iter_batches(inputs, counted, engine, record=record, progress=progress)
    return BatchResult.concatenate(list(parts))


def _checked_engine(inputs: RunInputs, engine: EngineParams | None, record: str) -> EngineParams:
    """The engine settings to use (``LIBRARY_ENGINE`` if none), validated, with the
    inputs' and ``record``'s types."""
    if not isinstance(inputs, RunInputs):
        raise ConfigError(
            "inputs",
            type(inputs).__name__,
            "RunInputs, compiled from a configuration: RunInputs.from_config(config)",
        )
    engine = engine or LIBRARY_ENGINE
    if not isinstance(engine, EngineParams):
        raise ConfigError("engine", engine, "an EngineParams (EngineParams(workers=2)) or None")
    engine.validate("engine")
    if record not in RECORDS:
        raise ConfigError("record", record, f"one of {', '.join(RECORDS)}")
    return engine


def kept_bytes_per_run(inputs: RunInputs, record: Record) -> int:
    """What a gathered ``BatchResult`` keeps of each run, in bytes: its alignment and
    credibility; with "summary" its mean offers and terms; with "full" its trajectory."""
    world, T = inputs.world, inputs.ticks
    kept = (T + 1) * world.n_states + T * world.n_poles * 4  # int8 profiles, float32
    if record != "minimal":
        kept += (world.n_poles + len(world.options) * len(TERMS)) * world.n_states * 4
    if record == "full":
        one = Trajectory(world, T, np.zeros(1, dtype=np.int64), inputs.program.names)
        kept += sum(getattr(one, name).nbytes for name in RECORDED_ARRAYS)
    return kept


# Memory estimates, in bytes. The arrays are exact; the table and interpreter terms are
# measured (benchmarks/study_memory.py) and rounded up.
TABLE_BYTES_PER_TERM_ROW = 160
"""terms.parquet rows of one chunk while they are built and converted to Arrow."""
TABLE_BYTES_PER_TICK_ROW_AND_COLUMN = 24
RUNS_ROW_BYTES_PER_COLUMN = 16
"""runs.parquet read back for the aggregate: a number or a shared string per cell."""
MESA_FRAME_BYTES_PER_CELL = 24
"""A single run's trajectory table (state x tick rows) while it is built and written."""


def chunk_bytes(inputs: RunInputs, runs: int, record: Record) -> int:
    """Memory one chunk of ``runs`` runs needs while it runs and is tabulated, in bytes."""
    world, T = inputs.world, inputs.ticks
    N, B, E = world.n_states, world.n_poles, inputs.program.n_events
    K, n_terms = len(world.options), len(TERMS)  # profiles: the axis of recorded terms
    D = world.space.n_security + world.space.n_economy  # options of the two choices
    drawn = T * (runs + min(runs, DRAW_BLOCK)) * N * D * 4  # float32 noise and its buffer
    streams = drawn + T * runs * E * 8  # and float64 hazards
    record_arrays = runs * (T + 1) * N + runs * T * B * 4  # alignment, credibility
    per_tick = runs * N * D * (n_terms + 8) * 8  # one tick's terms and utilities
    if record == "full":
        record_arrays += runs * T * (N * K * (n_terms + 1) + B * N + 2 * B + E) * 8
        frame_cells = runs * (T + 1) * N * (K * (n_terms + 2) + 8)
        return streams + record_arrays + per_tick + frame_cells * MESA_FRAME_BYTES_PER_CELL
    if record == "summary":
        term_cells = runs * N * K * n_terms
        record_arrays += term_cells * 12 + runs * B * N * 12  # double sums, float32 means
        record_arrays += term_cells * TABLE_BYTES_PER_TERM_ROW
        tick_cells = runs * (T + 1) * (3 + K + N)
        record_arrays += tick_cells * TABLE_BYTES_PER_TICK_ROW_AND_COLUMN
    return streams + record_arrays + per_tick


def estimate_memory_bytes(
    inputs: RunInputs,
    runs: int,
    engine: EngineParams,
    record: Record = "summary",
    gathered: bool = False,
) -> int:
    """Peak memory of ``runs`` runs through the engine, in bytes (beyond the interpreter).

    Each worker holds one chunk at a time and this process one more, as it writes it;
    a study job then reads its runs table back for the aggregate. ``gathered``: the runs
    are kept instead (``run_batch``), twice over while the chunks are joined.
    """
    chunk = min(runs, engine.chunk_size)
    in_flight = 1 if engine.workers == 1 and engine.backend == "local" else engine.workers + 1
    if gathered:
        return in_flight * chunk_bytes(inputs, chunk, record) + 2 * runs * kept_bytes_per_run(
            inputs, record
        )
    world = inputs.world
    runs_columns = 4 + 2 * (world.n_poles + 1) + world.n_states
    return in_flight * chunk_bytes(inputs, chunk, record) + (
        runs * runs_columns * RUNS_ROW_BYTES_PER_COLUMN if record != "full" else 0
    )


def available_memory_bytes() -> int:
    """What this process may still allocate: free memory, under any cgroup or ulimit cap."""
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if cap.isdigit() and used.isdigit():
            limits.append(int(cap) - int(used))
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft - _address_space_bytes())
    return max(min(limits), 0) if limits else 2**62


def _address_space_bytes() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_memory(
    inputs: RunInputs,
    runs: int,
    engine: EngineParams,
    record: Record = "summary",
    gathered: bool = False,
    runs_setting: tuple[str, Any] | None = None,
) -> None:
    """Refuse up front (ConfigError) what cannot fit in memory, naming the setting to lower:
    the run's length, the number of runs (``runs_setting``, the key and value that set it:
    ``replications`` by default) or the chunk size. ``gathered``: as in
    ``estimate_memory_bytes`` (``run_batch``; its runs are its seeds)."""
    need = estimate_memory_bytes(inputs, runs, engine, record, gathered)
    free = available_memory_bytes()
    if need <= free:
        return
    sizes = f"needs about {gib(need)}, about {gib(free)} available"
    one_run = estimate_memory_bytes(inputs, 1, EngineParams(chunk_size=1), record, gathered)
    if one_run > free:
        raise ConfigError("ticks", inputs.ticks, "a run that fits in memory", f"It {sizes}.")
    fits = dataclasses.replace(engine, chunk_size=1)
    if estimate_memory_bytes(inputs, runs, fits, record, gathered) > free:
        if gathered:
            raise ConfigError(
                "seeds",
                f"{runs:,} runs",
                "runs whose gathered results fit in memory (run_batch keeps every run)",
                f"It {sizes}. iter_batches yields the runs a chunk at a time"
                + (", and record='summary' keeps less of each." if record == "full" else "."),
            )
        key, value = runs_setting or ("replications", runs)
        hint = f"It {sizes} for {runs:,} runs."
        raise ConfigError(key, value, "a number of runs whose results fit in memory", hint)
    chunk = engine.chunk_size
    while (
        chunk > 1
        and estimate_memory_bytes(
            inputs, runs, dataclasses.replace(engine, chunk_size=chunk), record
        )
        > free
    ):
        chunk //= 2
    raise ConfigError(
        "engine.chunk_size",
        engine.chunk_size,
        "chunks that fit in memory (runs held at once per worker)",
        f"It {sizes}; engine.chunk_size={chunk} would fit.",
    )


def gib(size: int) -> str:
    """A size in bytes as GiB with one decimal, for the memory refusals."""
    return f"{size / 2**30:.1f} GiB"
