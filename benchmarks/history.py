"""How fast the engine runs the calendar world: the `history` scenario, 1992 to 2024.

Runs 1,000 seeds of `scenario=history region.year=1992 ticks=132` (every quarter from
January 1992 to December 2024, the yearly data and the 60 dated shocks) through the
batched engine, on 1 core and on the machine's workers (the pool started first, as in
throughput.py), and checks the engine against the Mesa model on a few seeds, every array.

    python benchmarks/history.py            # about 20 s

Prints a table and a JSON last line: `runs`, `ticks`, `build_s` (compiling the world and
the scenario), `seconds_1_core`, `seconds_workers`, `workers`, `identical`.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams
from alignment_sim.model.trajectory import RECORDED_ARRAYS
from alignment_sim.paths import with_values

TICKS = 132  # 1992 Q1 to 2024 Q4
RECORDED = RECORDED_ARRAYS
"""The trajectory arrays compared between the Mesa model and the engine."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    config = with_values(default_config(scenario="history"), {"region.year": 1992, "ticks": TICKS})
    start = time.perf_counter()
    inputs = RunInputs.from_config(config)
    build_s = time.perf_counter() - start

    run_batch(inputs, range(50), record="minimal")  # warm this process
    start = time.perf_counter()
    run_batch(inputs, range(args.runs), record="summary")
    one_core = time.perf_counter() - start

    pool = EngineParams(workers=args.workers)
    run_batch(
        inputs,
        range(2 * args.workers),
        EngineParams(workers=args.workers, chunk_size=1),
        progress=False,
    )
    start = time.perf_counter()
    run_batch(inputs, range(args.runs), pool, record="summary")
    workers_s = time.perf_counter() - start

    seeds = [0, 1, 2]
    full = run_batch(inputs, seeds, record="full")
    assert full.trajectory is not None
    identical = True
    for k, seed in enumerate(seeds):
        mesa = AlignmentModel(config, seed=seed).run()
        identical &= all(
            np.array_equal(
                getattr(mesa, name)[0], getattr(full.trajectory, name)[k], equal_nan=True
            )
            for name in RECORDED
        )

    print(f"history 1992-2024: {args.runs} runs x {TICKS} ticks")
    print(f"  build world and scenario   {build_s:6.2f} s")
    print(f"  engine, 1 core             {one_core:6.2f} s")
    print(f"  engine, {args.workers} workers          {workers_s:6.2f} s")
    print(f"  Mesa = engine (3 seeds)    {identical}")
    print(
        json.dumps(
            {
                "runs": args.runs,
                "ticks": TICKS,
                "build_s": round(build_s, 3),
                "seconds_1_core": round(one_core, 3),
                "seconds_workers": round(workers_s, 3),
                "workers": args.workers,
                "identical": identical,
            }
        )
    )


if __name__ == "__main__":
    main()
