"""Hydra callbacks: progress of a sweep, job by job, and its summary.

Whether a job finished is ``outputs.files.job_status``'s call. The summary counts the
jobs of this sweep only (those Hydra started since the sweep began: their ``.hydra``
folder is new), and leaves the ones that did not finish in ``SWEEP_FAILURES``, from
which the command sets its exit status. A sweep folder that also holds jobs of earlier
sweeps (every sweep without ``study=`` shares ``results/sweeps/default``) is said so.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from alignment_sim.outputs.files import job_status

log = logging.getLogger("alignment_sim")

SWEEP_FAILURES: list[str] = []
"""Jobs of the last sweep in this process that failed or did not finish."""
LABELS = {"complete": "done", "failed": "FAILED"}


def job_folders(sweep_dir: Path, since_ns: int = 0) -> list[Path]:
    """The job folders of a sweep, or those Hydra (re)started at or after ``since_ns``."""
    if not sweep_dir.is_dir():
        return []
    jobs = []
    for folder in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name != ".hydra"):
        stamp = folder / ".hydra" / "overrides.yaml"
        if since_ns == 0 or (stamp.is_file() and stamp.stat().st_mtime_ns >= since_ns):
            jobs.append(folder)
    return jobs


def sweep_status(sweep_dir: Path, since_ns: int = 0) -> dict[str, list[str]]:
    """Jobs of a sweep folder by state (complete, failed, unfinished, stale, corrupt)."""
    status: dict[str, list[str]] = {}
    for folder in job_folders(sweep_dir, since_ns):
        status.setdefault(job_status(folder).state, []).append(folder.name)
    return status


class SweepProgress(Callback):
    """Reports each job as it ends and a summary when the sweep ends."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_ns = time.time_ns()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.started = time.monotonic()
        # a second of slack for file systems that store coarse times
        self.started_ns = time.time_ns() - 1_000_000_000
        SWEEP_FAILURES.clear()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        state = job_status(Path(config.hydra.runtime.output_dir)).state
        log.info(
            f"[alignment-sim] job {config.hydra.job.num}: {LABELS.get(state, state)} "
            f"({config.hydra.job.override_dirname or 'defaults'})"
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        status = sweep_status(sweep, self.started_ns)
        elapsed = time.monotonic() - self.started
        counts = ", ".join(
            f"{len(status.get(state, []))} {state}" for state in ("complete", "failed")
        )
        others = [
            f"{len(names)} {state}"
            for state, names in status.items()
            if state not in ("complete", "failed")
        ]
        print(
            f"[alignment-sim] sweep {sweep}: {', '.join([counts, *others])}, {elapsed:.1f} s",
            flush=True,
        )
        for state, names in sorted(status.items()):
            if state == "complete":
                continue
            for name in names:
                SWEEP_FAILURES.append(name)
                reason = job_status(sweep / name).reason
                print(f"[alignment-sim]   {state}: {name} ({reason})", flush=True)
        earlier = len(job_folders(sweep)) - sum(len(names) for names in status.values())
        if earlier > 0:
            print(
                f"[alignment-sim] {sweep} also holds {earlier} job(s) of earlier sweeps, which "
                "a comparison or collection of the folder reads too; give a sweep a folder "
                "of its own with study=NAME",
                flush=True,
            )
