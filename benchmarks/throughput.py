"""Throughput: the Mesa model, mesa.batch_run and the batched engine, side by side.

Runs the same (config, seed) runs through (a) the Mesa model stepped as Mesa users do,
(b) ``mesa.batch_run`` on the same model on all cores, and (c) the batched engine on one
core and on all cores; checks the results are identical; prints a table and, as its last
line, one JSON object. ``--quick`` finishes in under a minute on a 2-core machine.

    python benchmarks/throughput.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from typing import Any

import mesa
import numpy as np

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams
from alignment_sim.model.trajectory import RECORDED_ARRAYS

RECORDED = RECORDED_ARRAYS
"""The trajectory arrays compared between the Mesa model and the engine."""


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_memory_mib() -> float:
    """Peak resident memory of this process and its finished children, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, under a minute")
    parser.add_argument("--ticks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine-runs", type=int, default=None)
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args(argv)

    mesa_runs = 6 if args.quick else 50
    batch_runs = 12 if args.quick else 100
    engine_runs = args.engine_runs or (32_000 if args.quick else 128_000)
    config = default_config(ticks=args.ticks, seed=0)
    inputs = RunInputs.from_config(config)

    models, mesa_s = timed(lambda: [AlignmentModel(config, seed=s).run() for s in range(mesa_runs)])
    batch, batch_s = timed(
        lambda: mesa.batch_run(
            AlignmentModel,
            {"config": [config], "seed": list(range(batch_runs))},
            number_processes=args.workers,
            iterations=1,
            max_steps=args.ticks,
            display_progress=False,
        )
    )
    # Both engine figures are steady-state: this process runs one small chunk first, and
    # the worker pool is started first (joblib reuses it); start-up is reported apart.
    _, warmup_s = timed(lambda: run_batch(inputs, range(100), record="minimal"))
    single, single_s = timed(
        lambda: run_batch(
            inputs,
            range(engine_runs // 4),
            EngineParams(chunk_size=args.chunk_size),
            record="minimal",
        )
    )
    _, startup_s = timed(
        lambda: run_batch(
            inputs, range(2 * args.workers), EngineParams(chunk_size=1, workers=args.workers)
        )
    )
    multi, multi_s = timed(
        lambda: run_batch(
            inputs,
            range(engine_runs),
            EngineParams(chunk_size=args.chunk_size, workers=args.workers),
            record="minimal",
        )
    )

    full = run_batch(inputs, range(mesa_runs), EngineParams(chunk_size=3), record="full")
    assert full.trajectory is not None
    identical_mesa = all(
        np.array_equal(getattr(m, name)[0], getattr(full.trajectory, name)[s], equal_nan=True)
        for s, m in enumerate(models)
        for name in RECORDED
    )
    identical_engines = bool(np.array_equal(single.alignment, multi.alignment[: len(single.seeds)]))
    final_shares = multi.shares()[:, -1]
    identical_batch_run = len(batch) == batch_runs and all(
        [row[f"share_{label}"] for label in inputs.world.labels]
        == list(final_shares[int(row["seed"])])
        for row in batch
    )
    identical = identical_mesa and identical_engines and identical_batch_run

    figures = {
        "mesa_runs_per_s": mesa_runs / mesa_s,
        "batch_run_runs_per_s": batch_runs / batch_s,
        "engine_runs_per_s": len(single.seeds) / single_s,
        "engine_all_cores_runs_per_s": engine_runs / multi_s,
    }
    result: dict[str, Any] = {
        **{k: round(v, 1) for k, v in figures.items()},
        "speedup": round(
            figures["engine_all_cores_runs_per_s"] / figures["batch_run_runs_per_s"], 1
        ),
        "engine_vs_mesa": round(figures["engine_runs_per_s"] / figures["mesa_runs_per_s"], 1),
        "identical": identical,
        "ticks": args.ticks,
        "states": inputs.world.n_states,
        "poles": inputs.world.n_poles,
        "workers": args.workers,
        "engine_runs": engine_runs,
        "peak_memory_mib": round(peak_memory_mib(), 1),
        "pool_startup_s": round(startup_s, 2),
        "engine_warmup_s": round(warmup_s, 2),
        "chunk_size": args.chunk_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }
    print(f"{'path':<34}{'runs':>9}{'seconds':>10}{'runs/s':>12}")
    for label, runs, seconds in [
        ("(a) Mesa model, stepped", mesa_runs, mesa_s),
        (f"(b) mesa.batch_run, {args.workers} processes", batch_runs, batch_s),
        ("(c) engine, 1 core", len(single.seeds), single_s),
        (f"(c) engine, {args.workers} workers", engine_runs, multi_s),
    ]:
        print(f"{label:<34}{runs:>9}{seconds:>10.2f}{runs / seconds:>12.1f}")
    print(f"speedup (engine all cores / batch_run all cores): {result['speedup']}x")
    print(
        f"identical: {str(identical).lower()} (Mesa vs engine: {identical_mesa}, "
        f"batch_run vs engine: {identical_batch_run}, 1 vs {args.workers} workers: "
        f"{identical_engines})"
    )
    print(
        f"peak memory: {result['peak_memory_mib']} MiB; worker pool start-up (once per "
        f"process, not in the figures): {result['pool_startup_s']} s"
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["identical"] else 1)
