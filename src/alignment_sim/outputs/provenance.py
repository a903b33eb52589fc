"""Provenance stamped on every output: resolved config, seed, versions, git revision."""

from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from alignment_sim.model.params import SimulationConfig


def package_version() -> str:
    try:
        return metadata.version("alignment-sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(*args: str) -> str:
    """A git command's output, run in the package's source folder (raises on failure)."""
    return subprocess.run(
        ["git", *args],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    ).stdout.strip()


@cache
def git_revision() -> str:
    """The git revision of the source tree the package runs from, or 'unknown'.

    A '+dirty' suffix marks uncommitted changes, so a result can be traced exactly. Only
    the project's own checkout counts (its ``src/alignment_sim`` is this package): a copy
    installed inside another repository (a virtualenv in a user's project) is 'unknown',
    not that repository's revision.
    """
    package = Path(__file__).resolve().parents[1]
    try:
        top = Path(_git("rev-parse", "--show-toplevel")).resolve()
        if top / "src" / "alignment_sim" != package:
            return "unknown"
        rev = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    """The versions of Python and of the libraries an output's numbers depend on: the
    model's (numpy, mesa), the tables' (pandas, pyarrow), the configuration's (hydra-core),
    the fits' and statistics' (scipy), the sensitivity indices' (SALib) and scenario
    discovery's (ema-workbench); "missing" for one not installed."""
    out = {"python": platform.python_version()}
    libraries = ("numpy", "mesa", "pandas", "pyarrow", "hydra-core", "scipy", "SALib")
    for name in (*libraries, "ema-workbench"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def stamp() -> dict[str, Any]:
    """What made an output and when: the package, its version, the git revision and the
    time (UTC), the fields every output leads with."""
    return {
        "package": "alignment-sim",
        "version": package_version(),
        "git_revision": git_revision(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def manifest(
    config: SimulationConfig, seed: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The manifest of one run: everything needed to reproduce it."""
    return {
        **stamp(),
        "seed": seed,
        "libraries": library_versions(),
        "config": dataclasses.asdict(config),
        **(extra or {}),
    }
