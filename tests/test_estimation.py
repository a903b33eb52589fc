"""The estimator (issue 12): likelihood, free parameters, fitted sets, histories, the fit.

Known answers by hand (tick matrices, transforms, the record's switches), invariants
(probabilities sum to one, points independent of their batch, a repeated history scales
the log-likelihood), agreement with the simulator (with one tick a year the likelihood's
probabilities are the engine's own choice probabilities), recovery of known parameters
from histories the model simulated, and the command line: ``experiment=fit``, ``fit=``
and its bad inputs (exit 2, one line naming the key).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli

from alignment_sim import default_config
from alignment_sim.engine.batch import BatchResult, Record, run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.estimation import likelihood as likelihood_module
from alignment_sim.estimation.fit import FitResult, fit
from alignment_sim.estimation.fitted import FITTED_FILE, FittedSet
from alignment_sim.estimation.histories import Histories, read_histories
from alignment_sim.estimation.jobs import load_histories, record_path
from alignment_sim.estimation.likelihood import OBJECTIVES, ConditionalLikelihood, tick_matrix
from alignment_sim.estimation.parameters import (
    IDENTITY,
    LOG,
    LOGIT,
    FreeParameter,
    free_parameters,
    log_prior,
    to_values,
)
from alignment_sim.model.alignment import Labelling, held_points
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import choice_probabilities
from alignment_sim.model.params import SimulationConfig
from alignment_sim.paths import with_values
from alignment_sim.presets import load_region
from alignment_sim.report.record import PACKAGED_RECORD
from alignment_sim.studies.outcomes import world_labels, yearly_options

TRUE = {"decision.rationality": 3.0, "dynamics.switching_cost": 1.5, "weights.trade": 3.0}
"""The known parameters the recovery tests simulate from (defaults: 4.0, 1.0, 2.0)."""


def calendar_config(tick_months: int, **values: float) -> SimulationConfig:
    """The history scenario from 1 January 1992 to the end of 2010 (19 years)."""
    base = {"region.year": 1992, "region.tick_months": tick_months, "ticks": 19 * 12 // tick_months}
    return with_values(default_config(scenario="history"), {**base, **values})


def simulated_histories(
    config: SimulationConfig, seeds: range, record: Record = "minimal"
) -> tuple[Histories, BatchResult]:
    """The engine's runs of ``config`` as histories over 1991-2010: year 1991 is the
    tick-0 profile (the start of 1992), then each year's end (``yearly_options``)."""
    inputs = RunInputs.from_config(config)
    result = run_batch(inputs, seeds, record=record, progress=False)
    years, year_end = yearly_options(
        result.alignment, config.region.year, config.region.tick_months
    )
    assert list(years) == list(range(1992, 2011))
    profiles = np.concatenate([result.alignment[:, :1], year_end], axis=1).astype(np.int64)
    labels = inputs.world.labelling.of_profiles(profiles)  # held as of the start, 1992
    held = np.full(20, config.region.year)
    return Histories(np.arange(1991, 2011), labels, profiles, "simulated", held), result


@pytest.fixture(scope="module")
def record_config() -> SimulationConfig:
    return default_config(scenario="history", task="fit")


@pytest.fixture(scope="module")
def record_histories(record_config: SimulationConfig) -> Histories:
    return load_histories(record_config)


@pytest.fixture(scope="module")
def record_likelihood(
    record_config: SimulationConfig, record_histories: Histories
) -> ConditionalLikelihood:
    return ConditionalLikelihood.build(record_config, record_histories)


# --- tick matrices ------------------------------------------------------------------------


def test_tick_matrix_rows_are_distributions() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5, 3, 4))
    rationality = rng.uniform(0.5, 5.0, size=(5, 1, 1, 1))
    cost = rng.uniform(0.0, 3.0, size=(5, 1, 1, 1))
    m = tick_matrix(v, rationality, cost)
    assert m.shape == (5, 3, 4, 4)
    assert (m > 0).all()
    np.testing.assert_allclose(m.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_tick_matrix_without_cost_is_the_logit_rule_from_every_row() -> None:
    v = np.random.default_rng(1).normal(size=(2, 3, 5))
    m = tick_matrix(v, np.full((1, 1, 1, 1), 2.5), np.zeros((1, 1, 1, 1)))
    logit = choice_probabilities(v, 2.5)
    for a in range(5):
        np.testing.assert_allclose(m[..., a, :], logit, rtol=1e-12)


def test_tick_matrix_with_a_huge_cost_never_moves() -> None:
    v = np.random.default_rng(2).normal(size=(1, 2, 3))
    m = tick_matrix(v, np.ones((1, 1, 1, 1)), np.full((1, 1, 1, 1), 1e3))
    np.testing.assert_allclose(m, np.broadcast_to(np.eye(3), m.shape), atol=1e-12)


def test_tick_matrix_two_options_by_hand() -> None:
    # V = (1, 0), rationality 2, cost 0.5. From option 0 the scores are 2 * (1, -0.5):
    # stay with 1 / (1 + e^-3). From option 1 they are 2 * (0.5, 0): move with 1 / (1 + e^-1).
    m = tick_matrix(
        np.array([[[1.0, 0.0]]]), np.full((1, 1, 1, 1), 2.0), np.full((1, 1, 1, 1), 0.5)
    )
    stay_0 = 1.0 / (1.0 + np.exp(-3.0))
    move_1 = 1.0 / (1.0 + np.exp(-1.0))
    np.testing.assert_allclose(
        m[0, 0], [[stay_0, 1.0 - stay_0], [move_1, 1.0 - move_1]], rtol=1e-14
    )


# --- the likelihood -----------------------------------------------------------------------


def test_label_probabilities_sum_to_one(record_likelihood: ConditionalLikelihood) -> None:
    points = {
        "decision.rationality": np.array([4.0, 1.0, 8.0]),
        "dynamics.switching_cost": np.array([1.0, 0.2, 3.0]),
    }
    p = record_likelihood.label_probabilities(points)
    assert p.shape == (3, 1, 19, 11, 4)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-9)


def test_profile_probabilities_sum_to_one_and_make_the_labels(
    record_likelihood: ConditionalLikelihood,
) -> None:
    """Each year's end profile is a distribution over the 12 profiles, and a label's
    probability is the sum over the profiles that carry it."""
    points = {"decision.rationality": np.array([4.0, 2.0])}
    profiles = record_likelihood.profile_probabilities(points)
    assert profiles.shape == (2, 1, 19, 11, 12)
    assert (profiles >= 0).all()
    np.testing.assert_allclose(profiles.sum(axis=-1), 1.0, atol=1e-9)
    world = record_likelihood.inputs.world
    labels = record_likelihood.label_probabilities(points)
    record_states = [s.attribute_state for s in load_region("post_soviet").states]
    for y, year in enumerate(range(1992, 2011)):  # each year's labels: its held memberships
        held = Labelling.of(world.space, held_points(record_states, year, world.poles))
        for i in range(world.n_states):
            for code, label in enumerate(world.labels):
                carrying = held.codes[i] == code
                np.testing.assert_allclose(
                    labels[:, 0, y, i, code],
                    profiles[:, 0, y, i][:, carrying].sum(axis=-1),
                    atol=1e-12,
                    err_msg=f"{label} {year}",
                )
    # Uzbekistan 2001: none/open is west with its bases and GUUAM, hedge in 2000
    uzbekistan, none_open = world.states.index("uzbekistan"), world.options.index("none/open")
    west = world.labels.index("west")
    assert record_likelihood.label_of_profile[9, uzbekistan, none_open, west] == 1
    assert record_likelihood.label_of_profile[8, uzbekistan, none_open, west] == 0


def test_a_profile_scores_no_better_than_its_label(
    record_likelihood: ConditionalLikelihood,
) -> None:
    """The recorded profile is one way to the recorded label: its log-probability is never
    above the label's, and equal where the model puts no weight on the label's other
    profiles. Not-scored state-years are NaN in both."""
    from alignment_sim.estimation.likelihood import LOG_FLOOR

    points = {"weights.trade": np.array([2.0, 1.5])}
    label = record_likelihood.contributions(points)
    profile = record_likelihood.profile_contributions(points)
    assert profile.shape == label.shape
    np.testing.assert_array_equal(np.isnan(profile), np.isnan(label))
    assert (profile <= label + 1e-12).all()
    # Georgia's record is west/open for 2006-2010 (a NATO aspirant in no EU association).
    # With the West's union not on offer before 2010 the model reaches that label through
    # its security, as the record does: through 2009 label and profile are nearly as
    # likely (-13.69 against -13.73 here; -8.2 against -28.9 in all years at the defaults
    # while the union was open in every year, when the label came mostly through it). In
    # 2010, the union's first year, the union props up Georgia's regime, insecure since
    # the 2008 war, and the profile scores -2.5 against the label's -0.01
    georgia = record_likelihood.inputs.world.states.index("georgia")
    before_the_union = record_likelihood.histories.years[1:] < 2010
    gap = label[0, 0, before_the_union, georgia] - profile[0, 0, before_the_union, georgia]
    assert np.nansum(gap) < 0.5
    total = np.nansum(np.maximum(profile, LOG_FLOOR), axis=(1, 2, 3))
    np.testing.assert_allclose(record_likelihood.profile_log_likelihood(points), total)
    assert (
        record_likelihood.profile_log_likelihood(points) < record_likelihood.log_likelihood(points)
    ).all()


def test_log_likelihood_is_the_sum_of_contributions(
    record_likelihood: ConditionalLikelihood,
) -> None:
    points = {"weights.trade": np.array([2.0, 3.0])}
    contributions = record_likelihood.contributions(points)
    assert contributions.shape == (2, 1, 19, 11)
    assert np.isfinite(contributions).all() and (contributions <= 0).all()
    assert record_likelihood.n_observations == 11 * 19
    np.testing.assert_allclose(
        record_likelihood.log_likelihood(points), contributions.sum(axis=(1, 2, 3)), rtol=1e-12
    )
    # an empty mapping is the configuration's own point: the default trade weight, 2.0
    np.testing.assert_allclose(
        record_likelihood.log_likelihood({}), record_likelihood.log_likelihood(points)[:1]
    )


def test_an_impossible_state_year_counts_the_floor_not_minus_infinity(
    record_likelihood: ConditionalLikelihood,
) -> None:
    """Near the prior box's edge (rationality x switching cost in the thousands) a recorded
    switch underflows to probability 0: its contribution is -inf, and the log-likelihood
    counts it as LOG_FLOOR, so an optimiser's finite differences stay finite."""
    from alignment_sim.estimation.likelihood import LOG_FLOOR

    points = {"decision.rationality": np.array([80.0]), "dynamics.switching_cost": np.array([20.0])}
    contributions = record_likelihood.contributions(points)
    impossible = np.isneginf(contributions)
    assert impossible.any(), "a switch at rationality 80 and cost 20 is impossible"
    total = record_likelihood.log_likelihood(points)
    assert np.isfinite(total).all()
    expected = np.where(impossible, LOG_FLOOR, contributions)
    np.testing.assert_allclose(total, np.nansum(expected, axis=(1, 2, 3)), rtol=1e-12)


def test_points_do_not_depend_on_their_batch(
    record_likelihood: ConditionalLikelihood, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = {
        "decision.rationality": np.array([4.0, 2.0, 6.0, 3.0, 5.0]),
        "dynamics.credibility_recovery": np.array([0.1, 0.3, 0.05, 0.2, 0.15]),
        "region.poles.west.credibility": np.array([0.8, 0.5, 0.9, 0.3, 0.7]),
    }
    together = record_likelihood.label_probabilities(points)
    for k in range(5):
        alone = record_likelihood.label_probabilities({p: v[k : k + 1] for p, v in points.items()})
        np.testing.assert_allclose(together[k], alone[0], rtol=1e-9, atol=1e-12)
    # split into chunks of two points: the same numbers
    monkeypatch.setattr(likelihood_module, "MAX_ROWS", 2)
    np.testing.assert_allclose(
        record_likelihood.label_probabilities(points), together, rtol=1e-9, atol=1e-12
    )


def test_a_repeated_history_scales_the_log_likelihood(
    record_config: SimulationConfig,
    record_histories: Histories,
    record_likelihood: ConditionalLikelihood,
) -> None:
    points = {"decision.rationality": np.array([4.0, 2.0, 7.0])}
    once = record_likelihood.log_likelihood(points)
    thrice = record_histories.select(histories=np.array([0, 0, 0]))
    assert thrice.n_histories == 3 and thrice.switches() == 3 * record_histories.switches()
    repeated = ConditionalLikelihood.build(record_config, thrice)
    np.testing.assert_allclose(repeated.log_likelihood(points), 3 * once, rtol=1e-9)


def test_states_left_out_are_not_scored(
    record_config: SimulationConfig,
    record_histories: Histories,
    record_likelihood: ConditionalLikelihood,
) -> None:
    # left-out states still follow their path, so the others' numbers do not change
    scored = np.zeros(11, dtype=bool)
    scored[[1, 3, 9]] = True  # ukraine, georgia, uzbekistan
    part = ConditionalLikelihood.build(record_config, record_histories.select(states=scored))
    assert part.n_observations == 3 * 19
    contributions = part.contributions({})
    assert np.isnan(contributions[..., ~scored]).all()
    full = record_likelihood.contributions({})
    np.testing.assert_allclose(contributions[..., scored], full[..., scored], rtol=1e-12)
    np.testing.assert_allclose(part.log_likelihood({}), full[..., scored].sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "point",
    [{}, {"decision.rationality": 2.5, "dynamics.switching_cost": 2.0, "weights.peer": 1.0}],
)
def test_the_likelihood_gives_the_simulators_choice_probabilities(
    point: dict[str, float],
) -> None:
    """With one tick a year the year's chain is one tick: the likelihood's probability of
    each label at the end of each year must be the engine's logit probabilities of that
    tick (``kernels.choice_probabilities`` of the utilities it recorded), summed over the
    profiles carrying the label, for every run, year and state."""
    config = calendar_config(12)
    histories, result = simulated_histories(with_values(config, point), range(3), "full")
    trajectory = result.trajectory
    assert trajectory is not None
    space = result.inputs.world.space
    rationality = point.get("decision.rationality", config.decision.rationality)
    p_security = choice_probabilities(trajectory.security_utility, rationality)
    p_economy = choice_probabilities(trajectory.economy_utility, rationality)
    joint = p_security[..., space.profile_security] * p_economy[..., space.profile_economy]
    by_state = np.eye(len(space.labels))[result.inputs.world.labelling.codes]  # (N, K, L)
    expected = np.einsum("rtnk,nkl->rtnl", joint, by_state)  # (R, T, N, L)
    likelihood = ConditionalLikelihood.build(config, histories)
    got = likelihood.label_probabilities({p: np.array([v]) for p, v in point.items()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    profiles = likelihood.profile_probabilities({p: np.array([v]) for p, v in point.items()})
    np.testing.assert_allclose(profiles[0], joint, rtol=1e-9, atol=1e-12)
    # and the log-likelihood scores the labels the runs ended each year with
    observed = np.take_along_axis(expected, histories.labels[:, 1:, :, None], -1)
    np.testing.assert_allclose(
        likelihood.log_likelihood({p: np.array([v]) for p, v in point.items()}),
        np.log(observed).sum(),
        rtol=1e-9,
    )


def rough_record(ripple: float) -> SimpleNamespace:
    """A stand-in for a likelihood: a smooth peak at rationality 3 and trade weight 2.5,
    with a ripple in the rationality of the given height, as the spending rule's
    thresholds kink the real one."""

    def score(values: dict[str, np.ndarray]) -> np.ndarray:
        r, t = values["decision.rationality"], values["weights.trade"]
        return -20 * ((r - 3.0) ** 2 + (t - 2.5) ** 2) - ripple * np.abs(np.sin(400 * r))

    return SimpleNamespace(
        objective=lambda name: score,
        n_observations=10,
        histories=SimpleNamespace(switches=lambda: 3),
    )


def test_a_fit_goes_on_where_the_gradient_search_stops(record_config: SimulationConfig) -> None:
    """Where the posterior is kinked a central-difference gradient misleads L-BFGS-B's line
    search, which ends abnormally; the fit goes on with Powell's search from there and
    converges near the peak (the ripple's 0.05 can shift it by about sqrt(0.05 / 20)). On
    a smooth posterior L-BFGS-B converges and Powell never runs."""
    parameters = free_parameters(record_config, ["decision.rationality", "weights.trade"], 0.5, {})
    rough = fit(rough_record(0.05), parameters)  # type: ignore[arg-type]
    assert rough.message.startswith("L-BFGS-B: ABNORMAL") and "Powell" in rough.message
    assert rough.converged, rough.message
    assert rough.estimates["decision.rationality"] == pytest.approx(3.0, abs=0.06)
    assert rough.estimates["weights.trade"] == pytest.approx(2.5, abs=0.06)
    smooth = fit(rough_record(0.0), parameters)  # type: ignore[arg-type]
    assert smooth.converged and "Powell" not in smooth.message, smooth.message
    assert smooth.estimates["decision.rationality"] == pytest.approx(3.0, abs=0.01)


def test_the_likelihood_refuses_rules_without_probabilities(
    record_config: SimulationConfig, record_histories: Histories
) -> None:
    rule = with_values(record_config, {})
    rule.decision.rule = "best_response"
    with pytest.raises(ConfigError, match=r"decision\.rule"):
        ConditionalLikelihood.build(rule, record_histories)
    months = with_values(record_config, {"region.tick_months": 5, "ticks": 20})
    with pytest.raises(ConfigError, match=r"region\.tick_months"):
        ConditionalLikelihood.build(months, record_histories)


# --- free parameters ----------------------------------------------------------------------


def test_scales_and_round_trips(record_config: SimulationConfig) -> None:
    names = [
        "weights.trade",
        "decision.rationality",
        "region.poles.russia.credibility",
        "dynamics.stance",
    ]
    params = free_parameters(record_config, names, 0.5, {})
    assert [p.transform for p in params] == [LOG, LOG, LOGIT, LOGIT]
    assert (params[2].low, params[2].high) == (0.0, 1.0)
    assert (params[3].low, params[3].high) == (-1.0, 1.0)
    by_hand = {
        "weights.trade": (2.0, np.log(2.0)),
        "region.poles.russia.credibility": (0.75, np.log(3.0)),
        "dynamics.stance": (0.5, np.log(3.0)),  # (0.5 + 1) / 2 = 0.75
    }
    for p in params:
        if p.path in by_hand:
            value, free = by_hand[p.path]
            np.testing.assert_allclose(p.to_free(np.array(value)), free, rtol=1e-12)
        inside = np.linspace(p.low, min(p.high, 50.0), 9)[1:-1]
        np.testing.assert_allclose(p.from_free(p.to_free(inside)), inside, rtol=1e-10)
        z = np.linspace(-8.0, 8.0, 17)
        np.testing.assert_allclose(p.to_free(p.from_free(z)), z, rtol=1e-8, atol=1e-8)
        assert ((p.from_free(z) > p.low) & (p.from_free(z) < p.high)).all()
    identity = FreeParameter("x", 1.0, -np.inf, np.inf, IDENTITY, 1.0)
    assert identity.from_free(np.array(-3.0)) == identity.to_free(np.array(-3.0)) == -3.0
    z = np.array([[p.prior_mean for p in params], [p.prior_mean + p.prior_sd for p in params]])
    np.testing.assert_allclose(log_prior(params, z), [0.0, -0.5 * len(params)])
    values = to_values(params, z)
    assert values["weights.trade"][0] == pytest.approx(2.0)
    assert values["region.poles.russia.credibility"][0] == pytest.approx(0.6)


def test_a_default_on_a_bound_gets_a_finite_prior_centre(record_config: SimulationConfig) -> None:
    config = with_values(
        record_config, {"region.poles.china.credibility": 1.0, "dynamics.stance": -1.0}
    )
    china, stance = free_parameters(
        config, ["region.poles.china.credibility", "dynamics.stance"], 0.5, {}
    )
    # 1% of the range inside the bound: logit(0.99) and logit(0.01)
    assert china.prior_mean == pytest.approx(np.log(99.0))
    assert stance.prior_mean == pytest.approx(-np.log(99.0))


def test_a_log_scale_default_of_zero_is_refused(record_config: SimulationConfig) -> None:
    config = with_values(record_config, {"weights.peer": 0.0})
    with pytest.raises(ConfigError, match=r"estimation\.parameters\.weights\.peer") as info:
        free_parameters(config, ["weights.trade", "weights.peer"], 0.5, {})
    assert "log scale" in str(info.value)


@pytest.mark.parametrize(
    ("names", "priors", "needle"),
    [
        (["weights.nope"], {}, "nope"),
        (["region.poles.narnia.credibility"], {}, "narnia"),
        (["decision.rule"], {}, "decision.rule"),
        (["weights.trade", "weights.trade"], {}, "each parameter once"),
        (["weights.trade"], {"weights.peer": 0.3}, r"estimation\.priors\.weights\.peer"),
        (["weights.trade"], {"weights.trade": 0.0}, r"estimation\.priors\.weights\.trade"),
    ],
)
def test_bad_free_parameters_are_refused(
    record_config: SimulationConfig, names: list[str], priors: dict[str, float], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        free_parameters(record_config, names, 0.5, priors)


# --- fitted sets ---------------------------------------------------------------------------


def small_set(config: SimulationConfig) -> FittedSet:
    params = free_parameters(
        config, ["decision.rationality", "region.poles.russia.credibility"], 0.5, {}
    )
    mode = np.array([np.log(3.0), np.log(0.7 / 0.3)])  # rationality 3, credibility 0.7
    covariance = np.array([[0.04, -0.01], [-0.01, 0.09]])
    return FittedSet("test_set", params, mode, covariance, {"window": [1991, 2010]})


def test_a_fitted_set_survives_writing_and_loading(
    record_config: SimulationConfig, tmp_path: Path
) -> None:
    fitted = small_set(record_config)
    fitted.write(tmp_path / FITTED_FILE)
    for where in (tmp_path, tmp_path / FITTED_FILE, str(tmp_path / FITTED_FILE)):
        loaded = FittedSet.load(where)
        assert loaded.name == "test_set"
        assert loaded.parameters == fitted.parameters
        np.testing.assert_array_equal(loaded.mode, fitted.mode)
        np.testing.assert_array_equal(loaded.covariance, fitted.covariance)
        assert loaded.provenance == {"window": [1991, 2010]}
    assert loaded.values == pytest.approx(
        {"decision.rationality": 3.0, "region.poles.russia.credibility": 0.7}
    )


def test_applying_a_fitted_set_sets_its_values_but_keeps_explicit_ones(
    record_config: SimulationConfig,
) -> None:
    fitted = small_set(record_config)
    applied = fitted.apply(record_config)
    assert applied.fit == "test_set"
    assert applied.decision.rationality == pytest.approx(3.0)
    assert applied.region.poles[0].credibility == pytest.approx(0.7)
    assert record_config.decision.rationality == 4.0 and record_config.fit is None
    for spelling in ("region.poles.0.credibility", "region.poles.russia.credibility"):
        kept = fitted.apply(record_config, keep=[spelling])
        assert kept.region.poles[0].credibility == record_config.region.poles[0].credibility
        assert kept.decision.rationality == pytest.approx(3.0)


def test_draws_are_reproducible_and_follow_the_posterior(record_config: SimulationConfig) -> None:
    fitted = small_set(record_config)
    a, b, c = fitted.draws(20_000, seed=5), fitted.draws(20_000, seed=5), fitted.draws(50, seed=6)
    assert set(a) == {"decision.rationality", "region.poles.russia.credibility"}
    for path in a:
        np.testing.assert_array_equal(a[path], b[path])
        assert not np.array_equal(a[path][:50], c[path])
    z = np.column_stack([p.to_free(a[p.path]) for p in fitted.parameters])
    np.testing.assert_allclose(z.mean(axis=0), fitted.mode, atol=0.01)
    np.testing.assert_allclose(np.cov(z.T), fitted.covariance, atol=0.004)
    assert (
        (a["region.poles.russia.credibility"] > 0) & (a["region.poles.russia.credibility"] < 1)
    ).all()


def test_a_tiny_change_of_the_covariance_moves_each_draw_a_little(
    record_config: SimulationConfig,
) -> None:
    """Two covariances a billionth apart whose eigenvalues trade places: an
    eigendecomposition would swap the draws' axes (a new sample), the Cholesky factor
    keeps each draw where it was, so a refit's draws are comparable with the last fit's."""
    fitted = small_set(record_config)
    near = dataclasses.replace(fitted, covariance=np.diag([0.04, 0.04 + 1e-11]))
    swapped = dataclasses.replace(fitted, covariance=np.diag([0.04 + 2e-11, 0.04]))
    a, b = near.draws(200, seed=3), swapped.draws(200, seed=3)
    for path in a:
        np.testing.assert_allclose(a[path], b[path], rtol=1e-6)


def test_the_packaged_fitted_set_loads_and_applies(record_config: SimulationConfig) -> None:
    packaged = FittedSet.load("post_soviet_1991_2010")
    assert packaged.provenance["window"] == [1991, 2010]
    applied = packaged.apply(record_config)
    assert applied.fit == "post_soviet_1991_2010"
    assert applied.decision.rationality == pytest.approx(packaged.values["decision.rationality"])


def test_a_misspelt_packaged_set_is_named_with_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Did you mean post_soviet_1991_2010\?"):
        FittedSet.load("post_soviet_1991_201")
    with pytest.raises(ConfigError, match=r"a fitted.yaml file or a fit's run folder\.$"):
        FittedSet.load(tmp_path / "nothing.yaml")


def _write_set(tmp_path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    """A fitted set written by ``small_set``, edited in one way."""
    data = small_set(default_config()).to_dict()
    edit(data)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _write_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    return path


BAD_SETS: dict[str, tuple[Callable[[Path], str | Path], str]] = {
    "unknown name": (lambda tmp: "no_such_set", "no_such_set"),
    "missing file": (lambda tmp: str(tmp / "missing" / "fitted.yaml"), "missing"),
    "not YAML": (lambda tmp: _write_text(tmp, "{{{ not yaml"), "YAML"),
    "a list": (lambda tmp: _write_text(tmp, "- a\n- b\n"), "covariance"),
    "unknown path": (
        lambda tmp: _write_set(tmp, lambda d: d["free"][0].update(path="weights.nope")),
        "nope",
    ),
    "not numeric": (
        lambda tmp: _write_set(tmp, lambda d: d["free"][0].update(path="decision.rule")),
        "decision.rule",
    ),
    "covariance shape": (
        lambda tmp: _write_set(tmp, lambda d: d.update(covariance=[[1.0]])),
        "covariance",
    ),
    "no mode": (lambda tmp: _write_set(tmp, lambda d: d["free"][1].pop("mode")), "mode"),
    "fitted after the record": (  # the out-of-sample rule, on a set edited by hand too
        lambda tmp: _write_set(tmp, lambda d: d["provenance"].update(window=[1991, 2015])),
        r"provenance.window = \[1991, 2015\]: expected a window that ends by 2010",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SETS))
def test_bad_fitted_sets_are_refused(tmp_path: Path, case: str) -> None:
    make, needle = BAD_SETS[case]
    with pytest.raises(ConfigError, match=needle):
        FittedSet.load(make(tmp_path))


def test_a_fitted_set_for_another_region_is_refused(tmp_path: Path) -> None:
    path = _write_set(
        tmp_path, lambda d: d["free"][1].update(path="region.poles.narnia.credibility")
    )
    fitted = FittedSet.load(path)  # the path's form is valid; the pole is not this region's
    with pytest.raises(ConfigError, match="narnia"):
        fitted.apply(default_config())


# --- histories ------------------------------------------------------------------------------


def test_runs_from_an_origin_hold_the_memberships_of_its_year(tmp_path: Path) -> None:
    """Runs from origin=2000 start on 1 January 2001 from the record's end of 2000, so
    their first labelled year is 2001 and they hold 2000's memberships, as their manifest
    records (a run's labels, ``world.labelling``); the same table without its manifest
    (a CSV) can only say its first year."""
    from alignment_sim.studies.replications import write_study_job

    config = default_config(scenario="history", origin=2000, to=2003, replications=2)
    result = run_batch(RunInputs.from_config(config), range(2))
    job = write_study_job(result, config, tmp_path / "job", {"scenario": "history"})
    region = dataclasses.replace(config.region, year=2001, configuration_year=None)
    runs = read_histories(job / "labels.parquet", region, (2001, 2003))
    assert list(runs.years) == [2001, 2002, 2003]
    assert list(runs.labelling_years) == [2000, 2000, 2000]
    pd.read_parquet(job / "labels.parquet").to_csv(tmp_path / "labels.csv", index=False)
    plain = read_histories(tmp_path / "labels.csv", region, (2001, 2003))
    assert list(plain.labelling_years) == [2001, 2001, 2001]


def test_the_packaged_record_over_1991_2010(
    record_config: SimulationConfig, record_histories: Histories
) -> None:
    h = record_histories
    assert h.labels.shape == h.profiles.shape == (1, 20, 11)
    assert list(h.years) == list(range(1991, 2011))
    # switches by hand from the CSV: the 11 choosers' labels, year to year
    names = [s.attribute_state for s in record_config.region.states]
    frame = pd.read_csv(PACKAGED_RECORD)
    table = frame[frame.state.isin(names)].pivot(
        index="year", columns="state", values="primary_alignment"
    )[names]
    by_hand = int((table.values[1:] != table.values[:-1]).sum())
    assert by_hand == 15 and h.switches() == by_hand
    labels = np.array(record_config.region.option_space.labels)[h.labels[0]]
    np.testing.assert_array_equal(labels, table.loc[1991:2010].values)
    # each year's profile carries its label with the memberships the record holds that year
    space = record_config.region.option_space
    assert h.held_years is None and list(h.labelling_years) == list(h.years)
    for y, year in enumerate(h.years):
        held = Labelling.of(space, held_points(names, int(year), space.poles))
        np.testing.assert_array_equal(held.of_profiles(h.profiles[:, y]), h.labels[:, y])


@pytest.mark.parametrize(
    ("window", "needles"),
    [
        ((1991, 2011), ("estimation.window", "out-of-sample", "2010")),
        ((2005, 2015), ("estimation.window", "out-of-sample")),
        ((1980, 1990), ("estimation.window", "1991-2010")),
        ((1985, 2000), ("estimation.window", "1991-2010")),
        ((2000, 2000), ("estimation.window", "first < last")),
        ((2004, 2001), ("estimation.window", "first < last")),
    ],
)
def test_windows_outside_the_record_are_refused(
    record_config: SimulationConfig, window: tuple[int, int], needles: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as info:
        read_histories(PACKAGED_RECORD, record_config.region, window)
    for needle in needles:
        assert needle in str(info.value)


def test_a_window_without_enough_switches_is_refused(record_config: SimulationConfig) -> None:
    quiet = with_values(record_config, {})
    quiet.estimation.window = [1993, 1997]  # no chooser changed label in these years
    with pytest.raises(ConfigError, match="min_switches") as info:
        load_histories(quiet)
    assert "has 0 in it" in str(info.value)
    quiet.estimation.window = [1997, 1999]  # the three switches into 1999
    assert load_histories(quiet).switches() == 3
    quiet.estimation.min_switches = 4
    with pytest.raises(ConfigError, match="at least 4 switches"):
        load_histories(quiet)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_table_of_runs_is_read_as_several_histories(suffix: str, tmp_path: Path) -> None:
    config = with_values(default_config(scenario="history"), {"region.year": 1992, "ticks": 16})
    inputs = RunInputs.from_config(config)
    result = run_batch(inputs, [7, 8, 9], record="minimal", progress=False)
    table = world_labels(result.alignment, result.seeds, inputs.world, config.region)
    path = tmp_path / f"labels{suffix}"
    if suffix == ".parquet":
        table.to_parquet(path)
    else:
        table.to_csv(path, index=False)
    h = read_histories(path, config.region, (1992, 1995))
    assert h.n_histories == 3 and list(h.years) == [1992, 1993, 1994, 1995]
    years, year_end = yearly_options(result.alignment, 1992, 3)
    assert list(years) == [1992, 1993, 1994, 1995]
    np.testing.assert_array_equal(h.profiles, year_end)
    np.testing.assert_array_equal(h.labels, inputs.world.labelling.of_profiles(year_end))
    assert list(h.labelling_years) == [1992] * 4  # as the runs labelled themselves
    with pytest.raises(ConfigError, match="out-of-sample"):
        read_histories(path, config.region, (1992, 2011))


# --- recovery: fit histories the model simulated from known parameters -------------------


def recover(tick_months: int, seeds: range, progress: list[str] | None = None) -> FitResult:
    """Fit TRUE's parameters to the engine's runs at TRUE, from a wide prior (sd 1.0 on
    the log scale) centred on the defaults, away from the truth."""
    base = calendar_config(tick_months)
    histories, _ = simulated_histories(with_values(base, TRUE), seeds)
    parameters = free_parameters(base, list(TRUE), 1.0, {})
    likelihood = ConditionalLikelihood.build(base, histories)
    say = None if progress is None else progress.append
    return fit(likelihood, parameters, level=0.95, progress=say)


def test_a_fit_maximises_the_objective_it_is_given(
    record_config: SimulationConfig, record_likelihood: ConditionalLikelihood
) -> None:
    """Two parameters fitted to the packaged record twice, to the labels and to the
    profiles: each mode is at least as good as the other on its own objective's posterior
    (the optimiser's tolerance aside), each result's log-likelihoods are of its objective,
    and the profile fit is the better one on the profiles. At the labels' mode (rationality
    4.02, trade weight 2.50) labels -21.11 and profiles -53.15; at the profiles' (3.97,
    1.37) -21.83 and -38.91: the memberships want less trade diversion (docs/ESTIMATION.md)."""
    parameters = free_parameters(record_config, ["decision.rationality", "weights.trade"], 0.5, {})
    results = {goal: fit(record_likelihood, parameters, objective=goal) for goal in OBJECTIVES}
    for goal, result in results.items():
        score = record_likelihood.objective(goal)
        assert result.objective == goal
        assert result.log_likelihood == pytest.approx(
            float(score(to_values(parameters, result.mode))[0]), abs=1e-9
        )
        other = next(r for g, r in results.items() if g != goal)

        def posterior(mode: np.ndarray, score: Any = score) -> float:
            values = to_values(parameters, mode[None])
            return float(score(values)[0] + log_prior(parameters, mode[None])[0])

        assert posterior(result.mode) >= posterior(other.mode) - 1e-3, goal
    profiles = record_likelihood.profile_log_likelihood
    by_profiles = [float(profiles(to_values(parameters, r.mode))[0]) for r in results.values()]
    assert by_profiles[1] > by_profiles[0]


RECOVERY_SETS = 12
"""Sets of 40 histories (seeds 40k to 40k + 39) over which the recovery's coverage is
measured (``test_the_fit_recovers_known_parameters_set_after_set``)."""


@pytest.fixture(scope="module")
def recovered_40() -> tuple[FitResult, list[str]]:
    messages: list[str] = []
    return recover(12, range(80, 120), messages), messages


def test_the_fit_recovers_known_parameters(recovered_40: tuple[FitResult, list[str]]) -> None:
    """One tick a year: the conditional likelihood is exact (see the test above), so the
    truth must lie in the 95% intervals (at 90% all three cover together in only about
    73% of sets of histories), and the data must move each off its default. One set of 40
    histories (seeds 80-119); how the intervals cover over twelve sets is the slow test
    below. The trade weight's interval excludes its default in 6 of the 12 sets (40
    histories are little data for it). Seeds 0-39, the set pinned here until the West came
    to prop up democratic regimes, put the trade weight 2.74 sd below its truth, one of
    the two misses in the twelve sets."""
    result, messages = recovered_40
    assert result.converged
    intervals = result.intervals()
    for path, truth in TRUE.items():
        low, high = intervals[path]
        assert low < truth < high, (path, result.estimates[path], (low, high))
        default = free_parameters(calendar_config(12), [path], 1.0, {})[0].default
        assert not low < default < high, f"{path}: the data must move it off the default"
    assert messages[0].startswith("fit: 3 parameters, 8360 state-years")
    assert any("log posterior" in m for m in messages)
    assert result.n_observations == 40 * 19 * 11


def test_intervals_shrink_with_more_histories(recovered_40: tuple[FitResult, list[str]]) -> None:
    """Four times the histories: about half the spread (1 / sqrt(4)) where the likelihood
    is smooth. Not for weights.trade: it also sets the margins the spending rule bids on,
    and its spread shrinks less (sd 0.114, 0.102 and 0.092 for seeds 100-109, 110-119 and
    120-129, against 0.071 with 40)."""
    few = recover(12, range(100, 110))
    many, _ = recovered_40
    smooth = ["decision.rationality", "dynamics.switching_cost"]
    index = [list(TRUE).index(path) for path in smooth]
    assert (many.sd[index] < 0.7 * few.sd[index]).all(), (few.sd, many.sd)
    for path in smooth:
        assert np.diff(many.intervals()[path]) < 0.7 * np.diff(few.intervals()[path])


@pytest.mark.slow
def test_the_fit_recovers_known_parameters_set_after_set() -> None:
    """Over twelve sets of 40 histories each 95% interval holds its truth in at least ten
    (three misses or more in twelve has probability 0.02 at 95% coverage), and the
    estimates are not biased: the mean of (truth - estimate) / sd is within 1. Measured on
    3 December 2026: misses 0, 0, 2 of 12; mean z -0.06, -0.15, +0.58 (the trade weight's
    prior, centred on the default 2.0, pulls it down from 3.0)."""
    z = np.zeros((RECOVERY_SETS, len(TRUE)))
    missed = np.zeros(len(TRUE), dtype=int)
    for k in range(RECOVERY_SETS):
        result = recover(12, range(40 * k, 40 * k + 40))
        for j, (path, truth) in enumerate(TRUE.items()):
            low, high = result.intervals()[path]
            missed[j] += not low < truth < high
            parameter = result.parameters[j]
            z[k, j] = (parameter.to_free(truth) - result.mode[j]) / result.sd[j]
    assert (missed <= 2).all(), dict(zip(TRUE, missed, strict=True))
    assert (np.abs(z.mean(axis=0)) < 1.0).all(), dict(zip(TRUE, z.mean(axis=0), strict=True))


@pytest.mark.slow
def test_the_fit_recovers_known_parameters_from_many_histories() -> None:
    """160 histories: the truth in every 95% interval, and the intervals narrow: within 13%
    for the rationality, 16% for the switching cost, 30% for the trade weight (1.106, 1.139
    and 1.217 of their low ends since the label counts the memberships the record holds, 4
    December 2026: the labels hide some moves; from 1992 Georgia holds 2 Western
    points for staying out of the CIS, so its moves between the West's alliance and no bloc
    do not change its label; 1.103, 1.125 and 1.215 before). The trade weight also sets the
    margins the spending rule bids on, so part of its effect on the choices is offset by the
    premiums it moves. The prior's 90% interval spans a factor of 5.2."""
    result = recover(12, range(1000, 1160))
    width = {"decision.rationality": 1.13, "dynamics.switching_cost": 1.16, "weights.trade": 1.3}
    for path, truth in TRUE.items():
        low, high = result.intervals()[path]
        assert low < truth < high, (path, result.estimates[path], (low, high))
        assert high / low < width[path], (path, low, high)


@pytest.mark.slow
def test_the_fit_on_the_quarterly_calendar_is_close_to_the_truth() -> None:
    """Quarterly ticks (the model's calendar): the likelihood computes a year's utilities
    with every state, the focal one included, held on its start-of-year profile, which
    the model does not. That approximation overstates staying put (in 1992, at TRUE,
    Armenia stays with probability 0.888 where the engine stays in 0.833 of 20,000 runs;
    0.910 against 0.896 with half-yearly ticks; equal with yearly ticks), so the fit lowers
    the rationality to make up for it. Measured bias at these 200 histories (3 December
    2026): rationality -2.4%, switching cost +2.1%, trade weight +0.7% (-3.3%, +3.0% and
    +2.2% before); one set of 40 histories adds noise of the bias's size (the trade weight
    -7.9% on seeds 0-39, -5.7% on 40-79), so the test fits all 200 (about 20 s). It bounds
    the bias at 6% (the 90% interval of the rationality fitted to the record, 2.2-4.5, is
    far wider)."""
    result = recover(3, range(200))
    for path, truth in TRUE.items():
        assert abs(np.log(result.estimates[path] / truth)) < 0.06, (path, result.estimates)


# --- the command line -----------------------------------------------------------------------

REQUIRED = {"parameters", "log_likelihood", "method", "record", "window", "provenance"}


def check_fit_folder(out: Path, window: list[int]) -> dict[str, Any]:
    payload = json.loads((out / "fit.json").read_text())
    assert payload.keys() >= REQUIRED
    assert set(payload["parameters"]) == {"decision.rationality", "dynamics.switching_cost"}
    for entry in payload["parameters"].values():
        assert entry.keys() >= {"estimate", "low", "high", "level", "method"}
        assert entry["low"] < entry["estimate"] < entry["high"] and entry["level"] == 0.9
    assert payload["window"] == window and payload["method"] == "map-laplace"
    assert payload["record"]["path"] == str(PACKAGED_RECORD)
    assert payload["provenance"]["record_sha256"] == payload["record"]["sha256"]
    assert np.isfinite(payload["log_likelihood"])
    profiles = payload["profile_log_likelihood"]
    assert profiles["fit"] < payload["log_likelihood"]
    assert profiles["at_defaults"] < payload["log_likelihood_at_defaults"]
    rows = pd.read_csv(out / "contributions.csv")
    assert {"from_profile", "to_profile", "profile_log_likelihood_fit"} <= set(rows.columns)
    assert (rows["profile_log_likelihood_fit"] <= rows["log_likelihood_fit"] + 1e-12).all()
    assert rows["profile_log_likelihood_fit"].clip(lower=-708).sum() == pytest.approx(
        profiles["fit"]
    )
    fitted = FittedSet.load(out)
    assert fitted.values == pytest.approx(
        {p: e["estimate"] for p, e in payload["parameters"].items()}
    )
    assert (out / "manifest.json").is_file()
    return payload


def test_the_fit_command_writes_a_usable_fitted_set(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    result = run_cli(
        [
            "experiment=fit",
            "estimation.parameters=[decision.rationality,dynamics.switching_cost]",
            "estimation.window=[1997,2002]",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "fit: 2 parameters, 55 state-years" in result.stdout + result.stderr  # progress
    payload = check_fit_folder(out, [1997, 2002])
    assert payload["n_switches"] == 5  # three into 1999, one into 2001, one into 2002
    estimates = {p: e["estimate"] for p, e in payload["parameters"].items()}

    run = tmp_path / "run"
    done = run_cli(
        [f"fit={out}", "ticks=2", "output.plots=false", f"hydra.run.dir={run}"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "manifest.json").read_text())["config"]
    assert config["decision"]["rationality"] == pytest.approx(estimates["decision.rationality"])
    assert config["dynamics"]["switching_cost"] == pytest.approx(
        estimates["dynamics.switching_cost"]
    )
    assert config["fit"]

    # a fit of other settings into the finished fit's folder is refused, the set kept
    kept = (out / FITTED_FILE).read_bytes()
    other = run_cli(
        [
            "experiment=fit",
            "estimation.parameters=[decision.rationality]",
            "estimation.window=[1997,2002]",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
    assert other.returncode == 2
    assert f"hydra.run.dir = '{out}': expected a folder of its own for a fit" in other.stderr
    assert "estimation.parameters=[decision.rationality,dynamics.switching_cost]" in other.stderr
    assert (out / FITTED_FILE).read_bytes() == kept

    explicit = tmp_path / "explicit"
    done = run_cli(
        [
            f"fit={out}",
            "decision.rationality=2",
            "ticks=2",
            "output.plots=false",
            f"hydra.run.dir={explicit}",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((explicit / "manifest.json").read_text())["config"]
    assert config["decision"]["rationality"] == 2.0
    assert config["dynamics"]["switching_cost"] == pytest.approx(
        estimates["dynamics.switching_cost"]
    )


@pytest.mark.slow
def test_the_fit_command_over_the_whole_record(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    result = run_cli(
        [
            "experiment=fit",
            "estimation.parameters=[decision.rationality,dynamics.switching_cost]",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    payload = check_fit_folder(out, [1991, 2010])
    assert payload["n_observations"] == 209 and payload["n_switches"] == 15
    assert payload["log_likelihood"] > payload["log_likelihood_at_defaults"]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["experiment=fit", "estimation.window=[1991,2015]"], ("estimation.window", "2010")),
        (["experiment=fit", "estimation.window=[1980,1990]"], ("estimation.window", "1991-2010")),
        (["experiment=fit", "estimation.window=[1993,1997]"], ("estimation.window", "switches")),
        (["experiment=fit", "estimation.parameters=[weights.nope]"], ("weights.nope",)),
        (
            ["experiment=fit", "estimation.parameters=[weights.trad]"],
            ("estimation.parameters.weights.trad", "Did you mean 'weights.trade'?"),
        ),
        (["experiment=fit", "fit=does_not_exist"], ("fit", "does_not_exist")),
        (["fit=does_not_exist", "ticks=2"], ("fit", "does_not_exist")),
        (["experiment=fit", "decision=best_response"], ("decision.rule", "logit")),
        (["experiment=fit", "estimation.objective=members"], ("estimation.objective", "members")),
    ],
)
def test_bad_fit_input_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], needles: tuple[str, ...]
) -> None:
    out = tmp_path / "bad"
    result = run_cli([*args, f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("alignment-sim: invalid configuration."), lines
    for needle in needles:
        assert needle in lines[0]
    assert not (out / "manifest.json").exists() and not (out / "fit.json").exists()


def test_a_record_file_that_does_not_exist_is_named_by_its_key(tmp_path: Path) -> None:
    config = default_config()
    config.estimation.record = str(tmp_path / "nonexist.csv")
    with pytest.raises(ConfigError, match=r"estimation\.record = '.*nonexist\.csv': expected"):
        record_path(config)
    config.estimation.record = ""
    assert record_path(config).name == "alignment_by_year_1991_2010.csv"
