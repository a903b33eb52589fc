"""Fit the free parameters to an alignment record: posterior mode and its uncertainty.

Method (docs/ESTIMATION.md): maximum a posteriori on the free scale
(``estimation.parameters``), the conditional likelihood of ``estimation.likelihood`` times
the normal priors of ``estimation.parameters``, by L-BFGS-B (scipy.optimize) with
central-difference gradients, every difference point a row of one batch; where its line
search fails (the spending rule's thresholds make the posterior kinked, so a
finite-difference gradient can point nowhere better), Powell's derivative-free search
(scipy.optimize) goes on from where it stopped, and the fit converges when that does.
Uncertainty is
the Laplace approximation: a normal posterior on the free scale with the inverse Hessian
of the negative log posterior at the mode as covariance (second differences, one batch);
intervals are its quantiles mapped back to each parameter's units, so they stay inside
the domain. The likelihood exists in closed form for the logit rule, so no
simulation-based method (ABC) is needed: it would approximate what is computed exactly.

``identifiability``: for each parameter the ratio of its posterior to its prior standard
deviation (near 1: the record says nothing the prior did not), and its strongest
posterior correlation; a ratio above ``PRIOR_DOMINATED`` flags it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_sim.estimation.likelihood import ConditionalLikelihood
from alignment_sim.estimation.parameters import FreeParameter, log_prior, to_values

STEP = 1e-2
"""Finite-difference step on the free scale for the gradient."""
HESSIAN_STEP = 5e-2
"""Second-difference step on the free scale (larger: the model's numbers are float32)."""
FTOL = 1e-7
"""Stop when an iteration improves the log posterior by less than this share: finer than
the float32 model can resolve (the default 2e-9 spends 40% of a fit on failing line
searches, for estimates within 0.1%)."""
PRIOR_BOX = 6.0
"""The search stays within this many prior standard deviations of each prior centre."""
PRIOR_DOMINATED = 0.8
"""A posterior standard deviation above this share of the prior's: the record barely
informs the parameter."""
METHOD = "map-laplace"


@dataclass
class FitResult:
    """What a fit found, on the free scale and in each parameter's units; its
    log-likelihoods are of its ``objective`` (``likelihood.OBJECTIVES``)."""

    parameters: list[FreeParameter]
    mode: np.ndarray  # (d,) free scale
    covariance: np.ndarray  # (d, d) free scale
    log_likelihood: float
    log_posterior: float
    log_likelihood_at_defaults: float
    n_observations: int
    n_switches: int
    iterations: int
    seconds: float
    converged: bool
    message: str
    level: float
    objective: str
    likelihood: ConditionalLikelihood

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.parameters]

    @property
    def estimates(self) -> dict[str, float]:
        return {k: float(v[0]) for k, v in to_values(self.parameters, self.mode).items()}

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def intervals(self) -> dict[str, tuple[float, float]]:
        """Each parameter's central ``level`` interval, in its units."""
        from scipy import stats  # imported when used, as matplotlib is

        q = stats.norm.ppf(0.5 + self.level / 2.0)
        out = {}
        for j, p in enumerate(self.parameters):
            low, high = (
                p.from_free(self.mode[j] - q * self.sd[j]),
                p.from_free(self.mode[j] + q * self.sd[j]),
            )
            out[p.path] = (float(low), float(high))
        return out

    def correlation(self) -> np.ndarray:
        sd = self.sd
        return self.covariance / np.outer(sd, sd)

    def identifiability(self) -> list[dict[str, Any]]:
        """One row per parameter: estimate, interval, prior and posterior spread, the
        ratio of the two, its strongest correlation, and a verdict."""
        corr = self.correlation()
        intervals = self.intervals()
        rows = []
        for j, p in enumerate(self.parameters):
            others = np.abs(corr[j]).copy()
            others[j] = -1.0
            k = int(np.argmax(others)) if len(others) > 1 else j
            ratio = float(self.sd[j] / p.prior_sd)
            rows.append(
                {
                    "parameter": p.path,
                    "default": p.default,
                    "estimate": self.estimates[p.path],
                    "low": intervals[p.path][0],
                    "high": intervals[p.path][1],
                    "scale": p.transform,
                    "prior_sd": p.prior_sd,
                    "posterior_sd": float(self.sd[j]),
                    "sd_ratio": ratio,
                    "strongest_correlation_with": self.parameters[k].path if k != j else "",
                    "correlation": float(corr[j, k]) if k != j else 0.0,
                    "verdict": "prior-dominated" if ratio > PRIOR_DOMINATED else "informed",
                }
            )
        return rows


Progress = Callable[[str], None]


def fit(
    likelihood: ConditionalLikelihood,
    parameters: list[FreeParameter],
    level: float = 0.9,
    progress: Progress | None = None,
    objective: str = "labels",
) -> FitResult:
    """The posterior mode and Laplace covariance of ``parameters`` given the histories,
    the likelihood being that of the recorded labels or profiles (``objective``)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    d = len(parameters)
    centre = np.array([p.prior_mean for p in parameters])
    spread = np.array([p.prior_sd for p in parameters])

    score = likelihood.objective(objective)

    def posterior(z: np.ndarray) -> np.ndarray:
        return score(to_values(parameters, z)) + log_prior(parameters, z)

    evaluations = [0]
    best = [-np.inf]

    def negative_posterior(z: np.ndarray) -> tuple[float, np.ndarray]:
        steps = np.vstack([z, z + STEP * np.eye(d), z - STEP * np.eye(d)])
        values = posterior(steps)
        evaluations[0] += 1
        gradient = (values[1 : d + 1] - values[d + 1 :]) / (2 * STEP)
        if np.isfinite(values[0]) and values[0] > best[0]:
            best[0] = float(values[0])
        return float(-values[0]), -gradient

    def report(_: Any) -> None:
        say(f"fit: step {evaluations[0]}, log posterior {best[0]:.3f}")

    at_defaults = float(score(to_values(parameters, centre))[0])
    say(
        f"fit: {d} parameters, {likelihood.n_observations} state-years; "
        f"log likelihood of the {objective} at the defaults {at_defaults:.3f}"
    )
    from scipy import optimize  # imported when a fit runs: a bad input is refused sooner

    bounds = list(zip(centre - PRIOR_BOX * spread, centre + PRIOR_BOX * spread, strict=True))
    found = optimize.minimize(
        negative_posterior,
        centre,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        callback=report,
        options={"ftol": FTOL},
    )
    mode = np.asarray(found.x, dtype=np.float64)
    converged, message = bool(found.success), f"L-BFGS-B: {found.message}"
    if not found.success:
        why = str(found.message).strip().rstrip(":") or "no reason given"
        say(
            f"fit: the gradient search stopped short ({why}), as it can at the likelihood's "
            "kinks (docs/ESTIMATION.md, Convergence); Powell's search goes on from there ..."
        )
        polished = optimize.minimize(
            lambda z: -float(posterior(np.asarray(z)[None])[0]),
            mode,
            method="Powell",
            bounds=bounds,
            options={"ftol": FTOL},
        )
        if polished.fun < found.fun:  # a better point; else the gradient search's stop stands
            mode = np.asarray(polished.x, dtype=np.float64)
        converged = bool(polished.success)
        message += f"; Powell from its stop: {polished.message}"
    say("fit: the Laplace covariance (second differences at the mode) ...")
    covariance = laplace_covariance(posterior, mode, spread)
    log_posterior = float(posterior(mode)[0])
    log_likelihood = float(score(to_values(parameters, mode))[0])
    return FitResult(
        likelihood=likelihood,
        parameters=parameters,
        mode=mode,
        covariance=covariance,
        log_likelihood=log_likelihood,
        log_posterior=log_posterior,
        log_likelihood_at_defaults=at_defaults,
        n_observations=likelihood.n_observations,
        n_switches=likelihood.histories.switches(),
        iterations=int(found.nit),
        seconds=time.perf_counter() - started,
        converged=converged,
        message=message,
        level=level,
        objective=objective,
    )


def laplace_covariance(
    posterior: Callable[[np.ndarray], np.ndarray], mode: np.ndarray, prior_sd: np.ndarray
) -> np.ndarray:
    """The Laplace covariance at ``mode``: the inverse of the negative log posterior's
    Hessian, by second differences of step ``HESSIAN_STEP`` evaluated in one batch.

    The record's part of that Hessian (the whole minus the priors' 1 / sd**2) is
    projected onto the positive semi-definite matrices first: where the likelihood is
    flat or kinked (the spending rule has thresholds) the record adds no information,
    and never takes away what the prior gives, so no posterior spread exceeds its
    prior's.
    """
    d, h = len(mode), HESSIAN_STEP
    eye = np.eye(d)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    points = [mode] + [mode + h * eye[i] for i in range(d)] + [mode - h * eye[i] for i in range(d)]
    for i, j in pairs:
        points += [
            mode + h * (eye[i] + eye[j]),
            mode + h * (eye[i] - eye[j]),
            mode - h * (eye[i] - eye[j]),
            mode - h * (eye[i] + eye[j]),
        ]
    values = posterior(np.array(points))
    centre, plus, minus = values[0], values[1 : d + 1], values[d + 1 : 2 * d + 1]
    hessian = np.diag((plus - 2 * centre + minus) / h**2)
    cross = values[2 * d + 1 :].reshape(-1, 4)
    for (i, j), (pp, pm, mp, mm) in zip(pairs, cross, strict=True):
        hessian[i, j] = hessian[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    prior_precision = np.diag(1.0 / prior_sd**2)
    record = -hessian - prior_precision
    vals, vecs = np.linalg.eigh((record + record.T) / 2)
    record = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    return np.linalg.inv(record + prior_precision)
