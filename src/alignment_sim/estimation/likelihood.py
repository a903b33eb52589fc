"""The likelihood of an observed alignment history under the logit rule.

Under the logit rule a chooser's option in each dimension is drawn from
softmax(rationality * U) every tick (``kernels.choose``), so the probability of what a
state did next can be computed instead of simulated. The likelihood here conditions on
the observed history (a *conditional* or pseudo-likelihood, as in fitting a discrete
choice model to panel data):

- the world runs its calendar years with every chooser held on its observed path: in
  year y every state holds the profile it had at the end of year y - 1
  (``Histories.profiles``); poles plan, spend and update credibility from that path, with
  the model's own kernels (``engine.tick.tick_batch``);
- each state's year is its own Markov chain over the year's ticks, one per dimension:
  from option a the next tick's option is softmax(rationality * (V - cost * [b != a])),
  V the tick's utility without the switching term. The product of a year's tick
  matrices gives P(option at year end | option at the start) for each dimension; the two
  dimensions are independent given the path (U = U_sec + U_econ), so a profile's
  probability is the product and a label's the sum over the profiles carrying it, with
  the memberships the record holds for the state at the end of that year
  (``alignment.Labelling``: bases, GUAM, the CIS, observer seats, the SCO, which no
  choice of the model stands for; like the year's shocks, they are the observed world
  the likelihood conditions on);
- the log-likelihood is the sum over histories, states and years first + 1 .. last of
  log P(recorded label at year end | recorded profile at the start).

The same chains give log P(recorded profile at year end | recorded profile at the start)
(``profile_contributions``): a diagnostic of a fit to the labels, or what a fit maximises
instead (``OBJECTIVES``). A label can be reached through either choice (``west`` through
NATO or through the EU's union), and the profile score says whether the model reaches the
record's labels through the record's memberships (docs/ESTIMATION.md).

Approximation, stated: within a year the other states (and the offers a state gets, which
follow its own membership) stay on the observed path while the focal state's chain moves;
the model moves them tick by tick. With one tick a year the likelihood is exact (the tests
check it equals the engine's own choice probabilities); with quarterly ticks it overstates
staying put a little, and fits of 200 histories simulated by the model recover
rationality about 3% low and the switching cost about 3% high (tests/test_estimation.py),
a bias a twelfth of the width of the record's intervals.

Many parameter points are evaluated in one batch (``studies.points.with_point_values``):
a point's runs are rows of the batch, so a finite-difference gradient or Hessian is one
pass over the years.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_sim.engine.tick import ALL, BatchState, TickParameters, tick_batch
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.histories import Histories
from alignment_sim.model import kernels
from alignment_sim.model.alignment import Labelling
from alignment_sim.model.inputs import RunInputs, RunStreams
from alignment_sim.model.params import OBJECTIVES, SimulationConfig
from alignment_sim.studies.points import with_point_values

LOG_FLOOR = float(np.log(np.finfo(np.float64).tiny))
"""The log-probability (about -708) an impossible state-year counts in ``log_likelihood``."""
MAX_ROWS = 4096
"""Rows (points x histories) evaluated together; more are split into chunks."""
NOISE = 0.5
"""The uniform fed to the decision rule while the path is forced (its draw is unused)."""


def year_config(config: SimulationConfig, histories: Histories) -> SimulationConfig:
    """The run that covers the window's transitions: the calendar world from 1 January
    of its second year to the end of its last."""
    if config.decision.rule != "logit":
        raise ConfigError(
            "decision.rule",
            config.decision.rule,
            "logit",
            "Only the logit rule gives choice probabilities; the other rules are "
            "deterministic and have no likelihood.",
        )
    tick_months = config.region.tick_months
    if 12 % tick_months:
        raise ConfigError("region.tick_months", tick_months, "a divisor of 12 (whole years)")
    region = dataclasses.replace(config.region, year=int(histories.years[1]), calendar=True)
    scenario = dataclasses.replace(config.scenario, start_year=None)
    ticks = (len(histories.years) - 1) * 12 // tick_months
    return dataclasses.replace(config, region=region, scenario=scenario, ticks=ticks)


@dataclass
class ConditionalLikelihood:
    """log P(histories | parameters), for batches of parameter points (module docstring).

    Build with ``ConditionalLikelihood.build(config, histories)``; ``config`` holds every
    parameter not being estimated (and the scenario whose events the years carry).
    """

    inputs: RunInputs
    histories: Histories
    ticks_per_year: int
    hazards: np.ndarray
    label_of_profile: np.ndarray

    @classmethod
    def build(cls, config: SimulationConfig, histories: Histories) -> ConditionalLikelihood:
        run = year_config(config, histories)
        inputs = RunInputs.from_config(run)
        world = inputs.world
        streams = RunStreams(run.seed, run.ticks, world.n_states, 1, inputs.program.n_events)
        record_states = [state.attribute_state for state in config.region.states]
        space = world.space
        label_of_profile = np.stack(
            [
                np.eye(len(space.labels))[
                    Labelling.of_record(space, record_states, int(year)).codes
                ]
                for year in histories.labelling_years[1:]
            ]
        )
        return cls(
            inputs, histories, 12 // run.region.tick_months, streams.hazards, label_of_profile
        )

    @property
    def n_observations(self) -> int:
        """State-years scored: every labelled chooser in every year after the first."""
        return int((self.histories.labels[:, 1:] >= 0).sum())

    def log_likelihood(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P,) log-likelihood of the histories at each of P points (``values``: path ->
        (P,) values; an empty mapping is the one point of the configuration). A
        state-year the point makes impossible (its probability underflows to 0, e.g. a
        rationality x switching cost near the prior box's edge) counts ``LOG_FLOOR``, not
        -inf: an optimiser's trial step there sees a very low, finite value and backs off
        (with -inf its finite differences were NaN and L-BFGS-B stopped where it began)."""
        return floored_sum(self.contributions(values))

    def contributions(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P, H, Y - 1, N) log P(recorded label | start-of-year profile) per point,
        history, year after the first and chooser; NaN where a state-year is not scored."""
        return self._label_scores(self.label_probabilities(values))

    def profile_contributions(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P, H, Y - 1, N) log P(recorded profile at year end | start-of-year profile), per
        point, history, year after the first and chooser; NaN where a state-year is not
        scored. Never above the label's contribution: a profile is one way to its label."""
        return self._profile_scores(self.profile_probabilities(values))

    def label_and_profile_contributions(
        self, values: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``contributions`` and ``profile_contributions`` from one pass over the years."""
        p_profile = self.profile_probabilities(values)
        p_label = self._labels_of(p_profile)
        return self._label_scores(p_label), self._profile_scores(p_profile)

    def objective(self, name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
        """The log-likelihood a fit with objective ``name`` (``OBJECTIVES``) maximises:
        ``log_likelihood`` (labels) or ``profile_log_likelihood`` (profiles)."""
        scores = (self.log_likelihood, self.profile_log_likelihood)
        return dict(zip(OBJECTIVES, scores, strict=True))[name]

    def profile_log_likelihood(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P,) the sum of ``profile_contributions`` (an impossible state-year counts
        ``LOG_FLOOR``, as in ``log_likelihood``)."""
        return floored_sum(self.profile_contributions(values))

    def _label_scores(self, p_label: np.ndarray) -> np.ndarray:
        labels = self.histories.labels[None, :, 1:]
        return _log_of_observed(p_label, labels, labels >= 0)

    def _profile_scores(self, p_profile: np.ndarray) -> np.ndarray:
        profiles = self.histories.profiles[None, :, 1:]
        scored = (self.histories.labels[None, :, 1:] >= 0) & (profiles >= 0)
        return _log_of_observed(p_profile, profiles, scored)

    def _labels_of(self, p_profile: np.ndarray) -> np.ndarray:
        """(P, H, Y - 1, N, L) label probabilities from profile probabilities: each
        state-year's profiles summed by the label each carries that year
        (``label_of_profile``, (Y - 1, N, K, L))."""
        return np.einsum("phynk,ynkl->phynl", p_profile, self.label_of_profile)

    def label_probabilities(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P, H, Y - 1, N, L) P(each label at the end of each year after the first |
        the recorded profile at its start), per point, history and chooser: the profile
        probabilities summed over the profiles carrying each label."""
        return self._labels_of(self.profile_probabilities(values))

    def profile_probabilities(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """(P, H, Y - 1, N, K) P(each profile at the end of each year after the first |
        the recorded profile at its start), per point, history and chooser."""
        columns = {
            path: np.atleast_1d(np.asarray(v, dtype=np.float64)) for path, v in values.items()
        }
        n_points = max((len(c) for c in columns.values()), default=1)
        H = self.histories.n_histories
        per_chunk = max(1, MAX_ROWS // H)
        parts = []
        for start in range(0, n_points, per_chunk):
            chunk = {path: c[start : start + per_chunk] for path, c in columns.items()}
            size = min(per_chunk, n_points - start)
            parts.append(self._chunk(chunk, size))
        return np.concatenate(parts)

    def _chunk(self, columns: Mapping[str, np.ndarray], n_points: int) -> np.ndarray:
        hist = self.histories
        H, Y, N = hist.labels.shape
        R = n_points * H
        inputs = self.inputs
        if columns:
            inputs = with_point_values(inputs, {p: np.repeat(c, H) for p, c in columns.items()})
        space = inputs.world.space
        security_path = np.tile(space.profile_security[hist.profiles], (n_points, 1, 1))
        economy_path = np.tile(space.profile_economy[hist.profiles], (n_points, 1, 1))
        rationality = _per_row(inputs.rationality, R)
        security_cost = _per_row(inputs.dynamics.switching_cost, R)
        economy_cost = _per_row(inputs.dynamics.economic_switching_cost, R)
        n_options = space.n_security + space.n_economy
        noise = np.full((R, N, n_options), NOISE, dtype=np.float32)
        state = BatchState.initial(inputs, R)
        parameters = TickParameters(inputs)  # parameter terms reused while unchanged
        out = np.empty((R, Y - 1, N, len(space.profiles)))
        tick = 0
        for year in range(1, Y):
            forced_security = np.asfortranarray(security_path[:, year - 1])
            forced_economy = np.asfortranarray(economy_path[:, year - 1])
            chain_security = np.eye(space.n_security)
            chain_economy = np.eye(space.n_economy)
            for _ in range(self.ticks_per_year):
                tick += 1
                state.security, state.economy = forced_security, forced_economy
                uniforms = np.broadcast_to(self.hazards[tick - 1], (R, self.hazards.shape[1]))
                state, output = tick_batch(inputs, state, tick, noise, uniforms, parameters)
                terms = output.terms
                v_sec = output.security_utility - terms.security["switching"]
                v_econ = output.economy_utility - terms.economy["switching"]
                (_, _, pair), _, _ = parameters.at(tick, output.active)
                exits = kernels.exit_factors(pair, ALL, inputs.world.security_poles)
                cost = security_cost if exits is None else security_cost * exit_rows(exits, R)
                chain_security = chain_security @ tick_matrix(v_sec, rationality, cost)
                chain_economy = chain_economy @ tick_matrix(v_econ, rationality, economy_cost)
            p_sec = _row_of(chain_security, forced_security)  # (R, N, S)
            p_econ = _row_of(chain_economy, forced_economy)  # (R, N, E)
            out[:, year - 1] = (p_sec[..., :, None] * p_econ[..., None, :]).reshape(R, N, -1)
        return out.reshape(n_points, H, Y - 1, N, -1)


def floored_sum(contributions: np.ndarray, axis: tuple[int, ...] = (1, 2, 3)) -> np.ndarray:
    """(P,) the sum of (P, H, Y - 1, N) contributions over the scored state-years, an
    impossible one (-inf) counting ``LOG_FLOOR``; ``axis`` (1, 2) keeps the states, (P, N)."""
    return np.nansum(np.maximum(contributions, LOG_FLOOR), axis=axis)


def _log_of_observed(p: np.ndarray, observed: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """log of ``p`` (..., C) at each state-year's observed code, NaN where not ``scored``.
    A probability is at most 1: a certain outcome whose chained rows sum a rounding error
    above it (a permanent neutrality's stay) scores 0, not +4e-16."""
    observed = np.broadcast_to(observed, p.shape[:-1])
    picked = np.take_along_axis(p, np.maximum(observed, 0)[..., None], -1)[..., 0]
    with np.errstate(divide="ignore"):
        logged = np.log(np.minimum(picked, 1.0))
    return np.where(np.broadcast_to(scored, picked.shape), logged, np.nan)


def tick_matrix(utility: np.ndarray, rationality: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(R, n, D, D): row a is the logit choice distribution of a chooser now on option a,
    from utilities without the switching term (R, n, D): softmax(rationality * (V - cost *
    [b != a])), in double precision."""
    v = np.asarray(utility, dtype=np.float64)
    D = v.shape[-1]
    leave = 1.0 - np.eye(D)
    scaled = rationality * (v[..., None, :] - cost * leave)
    scaled -= scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def exit_rows(factors: np.ndarray, rows: int) -> np.ndarray:
    """(R, n, S, 1) the factor on leaving each security option (``kernels.exit_factors``,
    (..., S, n)), laid out as ``tick_matrix``'s cost of leaving the row's option."""
    per_option = np.broadcast_to(factors, (rows, *factors.shape[-2:]))
    return np.swapaxes(per_option, -1, -2)[..., None].astype(np.float64)


def _row_of(matrix: np.ndarray, start: np.ndarray) -> np.ndarray:
    """matrix[r, n, start[r, n], :]."""
    return np.take_along_axis(matrix, start[..., None, None], axis=-2)[..., 0, :]


def _per_row(value: Any, rows: int) -> np.ndarray:
    """A parameter (a float, or a column over rows) as (R, 1, 1, 1) float64."""
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    return (
        np.broadcast_to(array, (rows,)).reshape(rows, 1, 1, 1)
        if array.size > 1
        else array.reshape(1, 1, 1, 1)
    )
