"""Fitted parameter sets: a fit's values, uncertainty and provenance, usable by every command.

A fit writes ``fitted.yaml`` in its run folder; the package ships fitted sets in
``alignment_sim/fits/<name>.yaml``. Either is selected by name or path: ``fit=NAME`` on
the command line, ``FittedSet.load(NAME).apply(config)`` in a notebook. The file holds:

- ``values``: each estimated parameter path -> its posterior mode, in its units;
- ``free``: per parameter its scale (log, logit, identity), domain and prior (centre
  ``default``, ``prior_sd``) and ``mode`` on the free scale; ``covariance``: the Laplace
  covariance on the free scale (forecasts draw from it);
- ``provenance``: the record file and its SHA-256, the window, the method, the seed,
  package version, git revision and time, the log-likelihoods.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from alignment_sim import paths
from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.estimation.parameters import FreeParameter, to_values
from alignment_sim.model.calendar import RECORD_LAST_YEAR
from alignment_sim.model.params import SimulationConfig

FITS_DIR = Path(__file__).resolve().parent.parent / "fits"
"""The fitted sets that ship with the package."""
FITTED_FILE = "fitted.yaml"
"""The fitted set a fit writes in its run folder."""
FREE_FIELDS = ("path", "default", "low", "high", "transform", "prior_sd")


def available() -> list[str]:
    """The names of the packaged fitted sets."""
    return sorted(p.stem for p in FITS_DIR.glob("*.yaml"))


@dataclass(frozen=True)
class FittedSet:
    """A fit's posterior (mode and covariance on the free scale) and where it came from."""

    name: str
    parameters: list[FreeParameter]
    mode: np.ndarray
    covariance: np.ndarray
    provenance: dict[str, Any]
    source: str = ""
    """What it was loaded from: a packaged name, or a path (``fit`` records it)."""

    @property
    def label(self) -> str:
        """The set as messages and reports name it: a packaged set by its name; one of
        one's own by its name and file, since every fit of a window is named alike
        (``post_soviet_1991_2010``, the packaged set's name too)."""
        if not self.source or is_packaged(self.source):
            return self.name
        return f"{self.name} ({self.source})"

    @property
    def values(self) -> dict[str, float]:
        """Each estimated path -> its posterior mode, in its units."""
        return {k: float(v[0]) for k, v in to_values(self.parameters, self.mode).items()}

    def draws(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """``n`` parameter points from the (Laplace) posterior, path -> (n,) values; the
        draws depend only on ``seed``. Each is the mode plus the covariance's Cholesky
        factor times the seed's standard normals, a continuous function of the two, so a
        refit that moves the mode and the covariance a little moves every draw a little:
        the same draws, not a new sample (an eigendecomposition's axes can swap or flip
        sign under a tiny change). The Laplace covariance is positive definite (its
        priors' precision is added to a positive semi-definite record part)."""
        rng = np.random.Generator(np.random.PCG64(seed))
        z = rng.multivariate_normal(self.mode, self.covariance, size=n, method="cholesky")
        return to_values(self.parameters, z)

    def apply(self, config: SimulationConfig, keep: Collection[str] = ()) -> SimulationConfig:
        """A new configuration holding this set's values (``fit`` = its name), except the
        paths in ``keep`` (a user's explicit overrides, by any spelling of the path)."""
        kept = {canonical(config, p) for p in keep}
        values = {}
        for path, value in self.values.items():
            try:
                if canonical(config, path) not in kept:
                    values[path] = value
            except ConfigError as exc:
                raise ConfigError(
                    f"fit {self.source or self.name}: {path}",
                    value,
                    "a parameter of this configuration",
                    f"The fitted set was made for another region or version ({exc}).",
                ) from None
        changed = paths.with_values(config, values)
        changed.fit = self.source or self.name
        return changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": self.values,
            "free": [
                {**{f: getattr(p, f) for f in FREE_FIELDS}, "mode": float(self.mode[j])}
                for j, p in enumerate(self.parameters)
            ],
            "covariance": [[float(x) for x in row] for row in self.covariance],
            "provenance": self.provenance,
        }

    def write(self, path: Path) -> None:
        from alignment_sim.outputs.files import atomic_write

        header = (
            f"# Fitted parameter set '{self.name}' (alignment-sim experiment=fit).\n"
            "# Select it with fit=<name or path of this file>; values are posterior modes,\n"
            "# covariance is on the free scale of each parameter (docs/ESTIMATION.md).\n"
        )
        with atomic_write(path, "w") as handle:
            handle.write(header + yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def load(cls, name_or_path: str | Path) -> FittedSet:
        """A packaged set by name, a ``fitted.yaml``, or a fit's run folder."""
        path = locate_fitted(name_or_path)
        check_finished_fit(path.parent)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            reason = " ".join(str(exc).split())
            raise ConfigError("fit", str(path), "a readable fitted-set YAML file", reason) from None
        packaged = path.parent == FITS_DIR and str(name_or_path) == path.stem
        return cls.from_dict(data, str(path), str(name_or_path) if packaged else str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str, source: str = "") -> FittedSet:
        if not isinstance(data, dict) or not {"name", "free", "covariance"} <= set(data):
            raise ConfigError(
                "fit", where, "a fitted set with name, free, covariance (written by a fit)"
            )
        parameters, mode = [], []
        for i, entry in enumerate(data["free"]):
            try:
                parameter = FreeParameter(**{f: entry[f] for f in FREE_FIELDS})
                mode.append(float(entry["mode"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{where}: free[{i}]", entry, f"fields {FREE_FIELDS} and mode", str(exc)
                ) from None
            try:
                numeric = paths.domain(parameter.path) is not None
            except ConfigError as exc:
                numeric, hint = False, str(exc)
            else:
                hint = ""
            if not numeric:
                raise ConfigError(
                    f"{where}: free[{i}].path", parameter.path, "a numeric parameter path", hint
                )
            parameters.append(parameter)
        covariance = np.asarray(data["covariance"], dtype=np.float64)
        d = len(parameters)
        if covariance.shape != (d, d) or not np.isfinite(covariance).all():
            raise ConfigError(
                f"{where}: covariance", covariance.shape, f"a finite {d} x {d} matrix"
            )
        if not all(math.isfinite(m) for m in mode):
            raise ConfigError(f"{where}: free.mode", mode, "finite numbers")
        provenance = dict(data.get("provenance") or {})
        window = provenance.get("window")
        if isinstance(window, list) and window and _after_the_record(window[-1]):
            raise ConfigError(
                f"{where}: provenance.window",
                window,
                f"a window that ends by {RECORD_LAST_YEAR}",
                "The alignment record after it is the test period: no fitted set may use it.",
            )
        return cls(
            str(data["name"]),
            parameters,
            np.array(mode),
            covariance,
            provenance,
            source or where,
        )


def _after_the_record(year: Any) -> bool:
    """Whether a fitted set's last year lies after the alignment record's (a year that is
    no number is left to the rest of the checks)."""
    try:
        return int(year) > RECORD_LAST_YEAR
    except (TypeError, ValueError):
        return False


FIT_REPORT = "fit.json"
"""The file that marks a fit's run folder (``estimation.jobs.FIT_FILES``)."""


def check_finished_fit(folder: Path) -> None:
    """Refuse the fitted set of a fit's run folder (one holding ``fit.json``) that did not
    finish (``files.job_status``: no manifest, a failure, a damaged file): its
    ``fitted.yaml`` may be of a fit that stopped part way. A ``fitted.yaml`` of one's own,
    alone in its folder, is read as it is."""
    from alignment_sim.outputs.files import job_status

    if not (folder / FIT_REPORT).is_file():
        return
    status = job_status(folder)
    if not status.complete:
        raise ConfigError(
            "fit",
            str(folder),
            "a fit that finished",
            f"It is {status.state} ({status.reason}): run the fit again (the same command "
            "starts it over).",
        )


def set_name(name_or_path: str | Path) -> str:
    """How a fitted set is named in an output folder's name: a packaged set by its name, a
    set from a file by its fit's folder (``fitted.yaml``'s) or the file's stem."""
    path = Path(name_or_path)
    return path.parent.name if path.name == FITTED_FILE else path.stem


def is_packaged(name_or_path: str | Path) -> bool:
    """Whether ``name_or_path`` names a packaged set (as ``locate_fitted`` reads it)."""
    text = str(name_or_path)
    return "/" not in text and (FITS_DIR / f"{text}.yaml").is_file()


def locate_fitted(name_or_path: str | Path) -> Path:
    """The file of a fitted set: a packaged name, a YAML file, or a folder holding one."""
    text = str(name_or_path)
    packaged = FITS_DIR / f"{text}.yaml"
    if is_packaged(text):
        return packaged
    path = Path(text)
    if path.is_dir() and (path / FITTED_FILE).is_file():
        return path / FITTED_FILE
    if path.is_file():
        return path
    raise ConfigError(
        "fit",
        text,
        f"a packaged fitted set ({', '.join(available()) or 'none'}), a fitted.yaml file "
        "or a fit's run folder",
        did_you_mean(text, available()),
    )


def override_paths(config: SimulationConfig, overrides: Iterable[str]) -> list[str]:
    """The parameter paths that overrides (``dynamics.switching_cost=3``, ``+x=1``, or a
    bare key) set, canonical: what stays at its given value over a fit. Keys that are not
    a numeric parameter (a group, a setting) are skipped."""
    out = []
    for item in overrides:
        key = str(item).lstrip("+~").partition("=")[0]
        try:
            if paths.domain(key) is not None:
                out.append(canonical(config, key))
        except ConfigError:
            continue
    return out


def canonical(config: SimulationConfig, path: str) -> str:
    """A parameter path with any pole or state index spelled as its name."""
    parsed = paths.parse(path)
    if parsed.item is None or parsed.section not in ("region.poles", "region.states"):
        return str(parsed)
    names = (
        config.region.pole_names if parsed.section == "region.poles" else config.region.state_names
    )
    index = paths.item_index(path, parsed.item, names, parsed.section.split(".")[1])
    return str(dataclasses.replace(parsed, item=names[index]))
