"""``alignment-sim-compare``'s entry point: the figure worker starts before the heavy imports.

Importing the comparison (pandas, pyarrow, scipy) takes about 1.1 s of one core, and the
figures (matplotlib) 0.5 s more. A comparison large enough to draw its figures in a worker
process as well (``command.Drawer``: at least ``PARALLEL_RUNS`` runs and a core to spare)
starts that worker here, first, so that its imports overlap this process's. The figures
are drawn by name (``draw_figure``), so this process imports matplotlib only when it draws
one itself. This module imports nothing heavy; the worker's decision reads only the runs
tables' metadata.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

PARALLEL_RUNS = 20_000
"""Runs from which ``command.Drawer`` draws in a worker process too: starting one takes
about two seconds of another core, which pays when drawing takes longer."""


def quick_run_count(inputs: Sequence[Path | str]) -> int:
    """The rows of every runs.parquet below the inputs, from the files' metadata alone: how
    large a comparison will be before anything is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for root in inputs:
        for path in Path(root).rglob("runs.parquet"):
            try:
                total += pq.read_metadata(path).num_rows
            except (OSError, pa.ArrowException):
                continue
    return total


IDLE_SAMPLE_S = 0.1
"""How long ``idle_cores`` watches the machine, seconds."""
SPARE_CORES = 1.25
"""Idle cores a worker needs beside this process: one each, less slack for the coarse
sample (10 ms ticks over ``IDLE_SAMPLE_S``); a machine with one other busy process shows
about 1."""


def idle_cores(sample: float = IDLE_SAMPLE_S) -> float | None:
    """Cores' worth of CPU idle over the next ``sample`` seconds, from ``/proc/stat``
    (Linux; None elsewhere). Unlike the load average, which trails the last minute, it does
    not count a comparison that has just finished."""

    def read() -> tuple[float, float]:
        with open("/proc/stat") as stat:
            fields = [float(x) for x in stat.readline().split()[1:9]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, of user .. steal

    try:
        idle_before, total_before = read()
        time.sleep(sample)
        idle_after, total_after = read()
    except (OSError, ValueError, IndexError):
        return None
    total = total_after - total_before
    if total <= 0:
        return None
    return (idle_after - idle_before) / total * (os.cpu_count() or 1)


def spare_core() -> bool:
    """Whether a core is likely free for a worker beside this process: at least
    ``SPARE_CORES`` idle now (``idle_cores``), or, without ``/proc/stat``, a load average
    over the last minute below the cores less a half. A worker on a busy machine
    only takes time from this process (about two seconds to start, then the figures)."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return False
    idle = idle_cores()
    if idle is not None:
        return idle >= SPARE_CORES
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this system
        load = 0.0
    return load < cores - 0.5


def warm_up() -> bool:
    """Import the figures module (and matplotlib) in the worker before it gets a figure."""
    import alignment_sim.report.figures  # noqa: F401

    return True


def draw_figure(name: str, args: tuple[Any, ...]) -> bytes:
    """The PNG of the figure function ``name`` of ``report.figures`` on ``args``. The
    figures module (and matplotlib) is imported on first use, so a process that draws no
    figure never imports it; the worker and this process draw the same bytes."""
    from alignment_sim.report import figures

    png: bytes = getattr(figures, name)(*args)
    return png


def start_worker(inputs: Sequence[Path | str]) -> ProcessPoolExecutor | None:
    """A figure worker (spawned: nothing of this process's threads is copied), already
    importing, when a core is spare (``spare_core``) and the inputs hold at least
    ``PARALLEL_RUNS`` runs; else None."""
    if quick_run_count(inputs) < PARALLEL_RUNS or not spare_core():  # the count costs no wait
        return None
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(warm_up)
    return pool


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``alignment-sim-compare``: the worker first (the existing folders
    among the arguments are the likely inputs; a wrong guess only starts or skips a worker),
    then the command (``command.main``), which uses it."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    folders = [a for a in arguments if not a.startswith("-") and Path(a).is_dir()]
    pool = start_worker(folders) if folders else None
    try:
        from alignment_sim.report.command import main as compare

        compare(argv, pool, parallel=False)  # decided here: no second look at the machine
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
