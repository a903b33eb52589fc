"""Wall time and peak memory of ``alignment-sim-compare`` on a large sweep.

Builds (once, through the engine and the command line) a sweep of three scenarios x N
runs, ``alignment-sim -m scenario=baseline,russia_recession,western_conditionality
replications=N``, 40 ticks, then times ``alignment-sim-compare`` on it in a child process
(default bootstrap, 2,000 resamples) and reads that child's peak resident set size from
``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh parent (the largest of the compare and
the worker process it draws figures in), with the CPU time (user + system) of both. The
compare is timed ``--repeat`` times (3 by default; the first shows its progress) and the
median is reported, since a shared machine's load moves single timings by a second or
more. Prints a line per compare, a summary and, last, a JSON line with ``runs``,
``compare_s`` (the median), ``peak_rss_mib`` (the largest) and ``cpu_s`` (the median).

    .venv/bin/python benchmarks/compare.py               # 3 x 20,000 runs; the sweep takes
                                                         # about 1-2 minutes to build
    .venv/bin/python benchmarks/compare.py --quick       # 3 x 2,000 runs
    .venv/bin/python benchmarks/compare.py --keep /tmp/cmp   # build once, time again later
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SCENARIOS = ("baseline", "russia_recession", "western_conditionality")
STUDY = "compare_benchmark"


def build_sweep(folder: Path, runs: int) -> Path:
    """The sweep folder of three scenarios x ``runs`` runs (resumed if already built)."""
    started = time.monotonic()
    subprocess.run(
        [
            str(BIN / "alignment-sim"),
            "-m",
            f"scenario={','.join(SCENARIOS)}",
            f"replications={runs}",
            f"study={STUDY}",
            "hydra.launcher.n_jobs=1",
            "engine.progress=false",
            "output.quiet=true",
        ],
        check=True,
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    print(f"sweep of 3 x {runs:,} runs ready in {time.monotonic() - started:.1f} s", flush=True)
    return folder / "results" / "sweeps" / STUDY


def measure(sweep: Path, out: Path, progress: bool) -> tuple[float, float, float]:
    """Wall time (s), peak RSS (MiB) and CPU time (s, user + system, of the compare and
    its worker) of one compare of ``sweep`` into ``out``."""
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "alignment-sim-compare"), str(sweep), "--out", str(out)]
        + (["--progress"] if progress else []),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # ru_maxrss in KiB on Linux
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000, help="runs per scenario")
    parser.add_argument("--quick", action="store_true", help="2,000 runs per scenario")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the sweep in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="compares timed (median)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a fresh parent, so RUSAGE_CHILDREN sees the compare only
        sweep, out, progress = args.one
        print(json.dumps(measure(Path(sweep), Path(out), progress == "progress")))
        return
    runs = 2_000 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        sweep = build_sweep(folder, runs)
        timings, peaks, cpus = [], [], []
        for n in range(max(1, args.repeat)):
            out = Path(scratch) / f"report_{n}"
            shown = "progress" if n == 0 else "quiet"
            done = subprocess.run(
                [sys.executable, __file__, "--one", str(sweep), str(out), shown],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            elapsed, peak, cpu = json.loads(done.stdout.strip().splitlines()[-1])
            timings.append(elapsed)
            peaks.append(peak)
            cpus.append(cpu)
            print(
                f"compare {n + 1}: {elapsed:.1f} s, {cpu:.1f} s CPU, peak {peak:.0f} MiB",
                flush=True,
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    median, cpu = statistics.median(timings), statistics.median(cpus)
    print(f"{'runs':>8} {'compare (s)':>12} {'CPU (s)':>8} {'peak RSS (MiB)':>15} {'load avg':>9}")
    print(f"{3 * runs:>8,} {median:>12.1f} {cpu:>8.1f} {max(peaks):>15.0f} {load:>9.1f}")
    print(
        json.dumps(
            {
                "runs": 3 * runs,
                "compare_s": round(median, 2),
                "peak_rss_mib": round(max(peaks)),
                "cpu_s": round(cpu, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
