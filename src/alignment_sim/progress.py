"""One progress bar for long work (runs, points): tqdm's, and quiet in a log file."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

LOG_INTERVAL_S = 30.0
"""Seconds between a bar's updates written to a file or a pipe (a batch job's log): one
line every half minute, where a terminal's bar redraws ten times a second."""


def progress_bar(total: int, unit: str, disable: bool = False, initial: int = 0) -> tqdm:
    """A bar over ``total`` items of ``unit``: tqdm's own in a terminal or a notebook; on
    a standard error that is neither (SLURM's log, ``2> log``), updated at most every
    ``LOG_INTERVAL_S`` seconds, so the log holds a few lines, not hundreds of redraws."""
    drawn = sys.stderr.isatty() or tqdm.__module__ == "tqdm.notebook"
    return tqdm(
        total=total,
        unit=unit,
        disable=disable,
        initial=initial,
        mininterval=0.1 if drawn else LOG_INTERVAL_S,
    )
