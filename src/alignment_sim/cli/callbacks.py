"""Hydra callbacks: progress of a sweep, job by job, and its summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig


def sweep_status(sweep_dir: Path) -> dict[str, list[str]]:
    """Jobs of a sweep folder by status: complete (manifest), failed (error), unfinished."""
    status: dict[str, list[str]] = {"complete": [], "failed": [], "unfinished": []}
    if not sweep_dir.is_dir():
        return status
    for job in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name != ".hydra"):
        if (job / "manifest.json").is_file():
            status["complete"].append(job.name)
        elif (job / "error.json").is_file():
            status["failed"].append(job.name)
        else:
            status["unfinished"].append(job.name)
    return status


class SweepProgress(Callback):
    """Prints a line as each job ends and a summary when the sweep ends."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.started = time.monotonic()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        folder = Path(config.hydra.runtime.output_dir)
        state = (
            "done"
            if (folder / "manifest.json").is_file()
            else "FAILED"
            if (folder / "error.json").is_file()
            else "ended"
        )
        status = sweep_status(Path(config.hydra.sweep.dir))
        finished = len(status["complete"]) + len(status["failed"])
        print(
            f"[alignment-sim] job {config.hydra.job.num}: {state} "
            f"({config.hydra.job.override_dirname or 'defaults'}); "
            f"{finished} jobs of this sweep finished so far",
            flush=True,
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        status = sweep_status(Path(config.hydra.sweep.dir))
        elapsed = time.monotonic() - self.started
        print(
            f"[alignment-sim] sweep {config.hydra.sweep.dir}: "
            f"{len(status['complete'])} complete, {len(status['failed'])} failed, "
            f"{len(status['unfinished'])} unfinished, {elapsed:.1f} s",
            flush=True,
        )
        for name in status["failed"]:
            print(f"[alignment-sim]   failed: {name} (see its error.json)", flush=True)
