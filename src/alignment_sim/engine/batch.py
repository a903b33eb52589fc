"""The batched engine: many replications at once over the same kernels as the Mesa model.

Runs R seeds of one configuration as arrays over (replication, state, option), in chunks
so memory stays bounded, on one or several processes. Every run's trajectory equals the
Mesa model's for the same (config, seed), whatever the chunk size or number of workers:
both call ``simulation.tick_batch``'s kernels and draw each run's random numbers from
``RunStreams(seed)`` in the same order.

    result = run_batch(RunInputs.from_config(config), seeds=range(1000))
    result.alignment        # (R, T + 1, N) option index per run, tick and state
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from alignment_sim.engine.tick import BatchState, tick_batch
from alignment_sim.model.inputs import RunInputs, RunStreams
from alignment_sim.model.kernels import TERMS, Part, add_into
from alignment_sim.model.trajectory import Trajectory, option_shares
from alignment_sim.model.world import FloatArray

Record = Literal["minimal", "summary", "full"]
T = TypeVar("T")


@dataclass
class BatchResult:
    """What a batch of runs produced. Arrays are over runs first.

    alignment: (R, T+1, N) int8 option index (tick 0 is the start).
    credibility: (R, T, B) float32 credibility in force at each tick.
    mean_offers: (R, B, N) float32 mean offer over the ticks, US$ bn a year ("summary").
    mean_terms: (R, N, K, n_terms) float32 mean of each weighted term ("summary").
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

    def shares(self) -> FloatArray:
        """Share of choosers in each option, (R, T+1, K)."""
        return option_shares(self.alignment, len(self.inputs.world.options))

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
            for attr in (
                "alignment",
                "utility",
                "terms",
                "offers",
                "credibility",
                "power",
                "active",
            ):
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


def draw_streams(inputs: RunInputs, seeds: np.ndarray) -> tuple[np.ndarray, FloatArray]:
    """Each run's uniforms, as the Mesa model draws them: (T, R, N, K) and (T, R, E).

    Both paths take them from ``RunStreams``, so they are the same numbers.
    """
    world, T = inputs.world, inputs.ticks
    N, K, E = world.n_states, len(world.options), inputs.program.n_events
    noise = np.empty((T, len(seeds), N, K), dtype=np.float32)
    hazards = np.empty((T, len(seeds), E))
    for r, seed in enumerate(seeds):
        streams = RunStreams(int(seed), T, N, K, E)
        noise[:, r] = streams.noise
        hazards[:, r] = streams.hazards
    return noise, hazards


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
    for tick in range(1, T + 1):
        tick_noise = np.asfortranarray(noise[tick - 1])  # the batch layout (see kernels)
        state, out = tick_batch(inputs, state, tick, tick_noise, hazards[tick - 1])
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
        mean_terms=term_sums.means(R, T) if summary else None,
        trajectory=trajectory,
    )


class TermSums:
    """Each term's running sum over the ticks, for every run.

    A term with no run axis (parameters only, no event in force) is summed at its own
    small shape: every run adds the same numbers in the same order, so this is the
    per-run sum without a pass over the batch. It takes the batch shape when an event
    gives it one.
    """

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str], FloatArray] = {}

    def add(self, terms: dict[str, Part]) -> None:
        for name, part in terms.items():
            for side, value in (("blocs", part.blocs), ("hedge", part.hedge)):
                total = self.sums.get((name, side))
                if total is None:  # summed in double precision
                    self.sums[name, side] = np.array(value, dtype=np.float64, order="F")
                else:
                    self.sums[name, side] = add_into(total, value)

    def means(self, runs: int, ticks: int) -> np.ndarray:
        """Per-run means of each term, (R, N, K, n_terms) float32."""
        columns = []
        for name in TERMS:
            blocs, hedge = self.sums[name, "blocs"], self.sums[name, "hedge"]
            shape = (runs, *blocs.shape[-2:])
            joined = np.concatenate(
                [np.broadcast_to(blocs, shape), np.broadcast_to(hedge, shape[:-1])[..., None]],
                axis=-1,
            )
            columns.append((joined / ticks).astype(np.float32))
        return np.stack(columns, axis=-1)


def _chunks(seeds: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    return [seeds[i : i + chunk_size] for i in range(0, len(seeds), chunk_size)]


def execute(
    function: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
) -> Iterator[T]:
    """Run ``function(*task)`` for every task and yield the results in task order.

    backend "local": in this process (workers = 1) or a pool of loky processes;
    "dask": on the Dask scheduler at ``address`` or a local cluster of ``workers``.
    """
    if backend == "dask":
        from alignment_sim.engine.distributed import connect, map_ordered

        with connect(address, workers) as client:
            yield from map_ordered(client, function, tasks)
    elif workers == 1 or len(tasks) <= 1:
        for task in tasks:
            yield function(*task)
    else:
        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator")
        yield from parallel(delayed(function)(*task) for task in tasks)


def iter_batches(
    inputs: RunInputs,
    seeds: Iterable[int],
    *,
    record: Record = "summary",
    chunk_size: int = 2000,
    workers: int = 1,
    progress: bool = False,
    backend: str = "local",
    address: str | None = None,
) -> Iterator[BatchResult]:
    """Yield chunk results in seed order; memory stays bounded by chunk_size x workers.

    ``progress`` shows a bar over the runs when there is more than one chunk; see
    ``execute`` for ``workers``, ``backend`` and ``address``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size = {chunk_size!r}: expected a whole number >= 1")
    chunks = _chunks(np.asarray(list(seeds), dtype=np.int64), chunk_size)
    tasks = [(inputs, chunk, record) for chunk in chunks]
    total = sum(len(c) for c in chunks)
    with tqdm(total=total, unit="run", disable=not progress or len(chunks) < 2) as bar:
        for part in execute(run_chunk, tasks, workers=workers, backend=backend, address=address):
            bar.update(part.n_runs)
            yield part


def run_batch(
    inputs: RunInputs,
    seeds: Iterable[int],
    *,
    record: Record = "summary",
    chunk_size: int = 2000,
    workers: int = 1,
    progress: bool = False,
    backend: str = "local",
    address: str | None = None,
) -> BatchResult:
    """Run every seed of one configuration and gather the results (see ``iter_batches``)."""
    parts = iter_batches(
        inputs,
        seeds,
        record=record,
        chunk_size=chunk_size,
        workers=workers,
        progress=progress,
        backend=backend,
        address=address,
    )
    return BatchResult.concatenate(list(parts))
