"""Peak memory of a study job against its number of runs: flat, since tables stream.

Runs ``alignment-sim replications=N`` for N = 10,000 and 200,000 (default settings,
40 ticks, one worker), each in its own child process, and reads the child's peak
resident set size from ``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh parent per
measurement. Prints a table and, last, a JSON line with ``peak_rss_mib_10000``,
``peak_rss_mib_200000`` and ``ratio`` (the second over the first).

    .venv/bin/python benchmarks/study_memory.py            # about 3-4 minutes
    .venv/bin/python benchmarks/study_memory.py --runs 2000 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("alignment-sim"))


def measure(runs: int, ticks: int) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time (s) of one study job of ``runs`` runs."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        subprocess.run(
            [
                CLI,
                f"replications={runs}",
                f"ticks={ticks}",
                "engine.progress=false",
                "output.quiet=true",
                f"hydra.run.dir={folder}/job",
            ],
            check=True,
            cwd=folder,
        )
        elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return peak_kib / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs=2, default=[10_000, 200_000])
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a fresh parent, so RUSAGE_CHILDREN sees this one job only
        print(json.dumps(measure(args.one, args.ticks)))
        return
    results = {}
    for runs in args.runs:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(runs), "--ticks", str(args.ticks)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[runs] = json.loads(out.strip().splitlines()[-1])
    print(f"{'runs':>9} {'peak RSS (MiB)':>15} {'time (s)':>9}")
    for runs, (peak, elapsed) in results.items():
        print(f"{runs:>9,} {peak:>15.0f} {elapsed:>9.1f}")
    small, large = args.runs
    summary = {
        f"peak_rss_mib_{small}": round(results[small][0], 1),
        f"peak_rss_mib_{large}": round(results[large][0], 1),
        "ratio": round(results[large][0] / results[small][0], 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
