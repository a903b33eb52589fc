"""The free parameters of a fit: which, on what scale, and their priors.

Each free parameter is a config path (``paths``) that ``studies.points`` can vary per
run. It is estimated on an unbounded scale (``z``): the log of a parameter bounded below
by 0, the logit of one bounded on both sides (mapped onto its domain), the value itself
otherwise. The prior is normal on that scale, centred on the configuration's value (the
default, which cites its text or its data: docs/MODEL.md, conf/region/post_soviet.yaml)
with standard deviation ``estimation.prior_sd`` (``estimation.priors`` per path). On the
log scale 0.5 reads "the texts' value, within a factor 1.65 at one standard deviation and
2.7 at two": the texts say which way each term pulls, not how much (docs/ESTIMATION.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alignment_sim import paths
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import LARGE, SimulationConfig
from alignment_sim.studies.points import check_paths

LOG, LOGIT, IDENTITY = "log", "logit", "identity"
EDGE = 0.01
"""A default on a bounded parameter's edge is centred this share of the range inside it
(the logit of the edge is infinite)."""


@dataclass(frozen=True)
class FreeParameter:
    """One estimated parameter: its path, scale, domain and normal prior on that scale."""

    path: str
    default: float
    low: float
    high: float
    transform: str
    prior_sd: float

    @property
    def prior_mean(self) -> float:
        """The prior's centre on the free scale: the default's image."""
        value = self.default
        if self.transform == LOGIT:
            span = self.high - self.low
            value = min(max(value, self.low + EDGE * span), self.high - EDGE * span)
        return float(self.to_free(np.asarray(value)))

    def to_free(self, value: np.ndarray) -> np.ndarray:
        x = np.asarray(value, dtype=np.float64)
        if self.transform == LOG:
            return np.log(x)
        if self.transform == LOGIT:
            u = (x - self.low) / (self.high - self.low)
            return np.log(u) - np.log1p(-u)
        return x

    def from_free(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        if self.transform == LOG:
            return np.exp(z)
        if self.transform == LOGIT:
            return self.low + (self.high - self.low) / (1.0 + np.exp(-z))
        return z


def free_parameters(
    config: SimulationConfig, names: list[str], prior_sd: float, priors: dict[str, float]
) -> list[FreeParameter]:
    """The free parameters named by ``names`` (``estimation.parameters``), checked: each a
    path a batch can vary, once, with a default its scale can take."""
    check_paths(config, names, key="estimation.parameters")
    seen: set[str] = set()
    out = []
    for path in names:
        if path in seen:
            raise ConfigError("estimation.parameters", path, "each parameter once")
        seen.add(path)
        unknown = [p for p in priors if p not in names]
        if unknown:
            raise ConfigError(
                f"estimation.priors.{unknown[0]}",
                priors[unknown[0]],
                "a prior for a parameter in estimation.parameters",
            )
        allowed = paths.domain(path)
        assert allowed is not None  # check_paths passed
        default = float(paths.get_value(config, path))
        low, high = allowed.low, allowed.high
        if low >= 0.0 and high >= LARGE:
            transform = LOG
            if default <= 0.0:
                raise ConfigError(
                    f"estimation.parameters.{path}",
                    default,
                    "a default above 0 (the parameter is estimated on the log scale)",
                    "A term the configuration switches off cannot be estimated; give it a "
                    "small positive value first, or leave it out of estimation.parameters.",
                )
        elif math.isfinite(low) and high < LARGE:
            transform = LOGIT
        else:
            transform = IDENTITY
        sd = float(priors.get(path, prior_sd))
        if not (math.isfinite(sd) and sd > 0.0):
            raise ConfigError(f"estimation.priors.{path}", sd, "a standard deviation > 0")
        out.append(FreeParameter(path, default, low, high, transform, sd))
    return out


def to_values(parameters: list[FreeParameter], z: np.ndarray) -> dict[str, np.ndarray]:
    """Points on the free scale (P, d) as config values, path -> (P,)."""
    z = np.atleast_2d(z)
    return {p.path: p.from_free(z[:, j]) for j, p in enumerate(parameters)}


def log_prior(parameters: list[FreeParameter], z: np.ndarray) -> np.ndarray:
    """(P,) log density of the normal priors on the free scale (up to a constant)."""
    z = np.atleast_2d(z)
    mean = np.array([p.prior_mean for p in parameters])
    sd = np.array([p.prior_sd for p in parameters])
    return -0.5 * (((z - mean) / sd) ** 2).sum(axis=1)
