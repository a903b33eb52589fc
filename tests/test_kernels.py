"""Every utility term and rule against values computed by hand on the tiny world.

The tiny world (tests/helpers.py): choosers a, b, c on the equator at longitudes 0, 10, 5;
pole p at longitude 0, pole q at longitude 10; reach 1000 km, so proximity is
exp(-d / 1000) with d = 0, 555.97 or 1111.95 km.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from helpers import KM_PER_10_DEGREES

from alignment_sim.model import kernels
from alignment_sim.model.world import World

A = slice(0, 1)
C = slice(2, 3)
FAR = math.exp(-KM_PER_10_DEGREES / 1000)
MID = math.exp(-KM_PER_10_DEGREES / 2000)
ACCESS = 0.45


def assert_close(actual, desired, **options) -> None:
    """Hand-computed (double) values against the model's single precision (FLOAT)."""
    np.testing.assert_allclose(actual, desired, **{"rtol": 1e-6, "atol": 1e-7, **options})


def row(x: np.ndarray | kernels.OptionValues) -> np.ndarray:
    values = x.joined() if isinstance(x, kernels.OptionValues) else x
    return np.asarray(values).reshape(-1)[-3:]


def test_world_arrays_follow_the_data(tiny_world: World) -> None:
    assert_close(tiny_world.state.autocracy, [1.0, 0.0, 0.5])
    assert_close(tiny_world.state.remittances, [0.2, 0.0, 0.1])
    assert_close(tiny_world.pair.proximity[0], [1.0, FAR, MID], rtol=1e-4)
    assert_close(tiny_world.pair.proximity[1], [FAR, 1.0, MID], rtol=1e-4)
    assert_close(tiny_world.pair.trade_share, [[0.4, 0.1, 0.25], [0.1, 0.5, 0.25]])
    assert tiny_world.options == ("p", "q", "hedge")
    assert list(tiny_world.initial_alignment) == [0, 1, 2]


def test_protection(tiny_world: World) -> None:
    cred = np.array([[0.5, 1.0]])
    got = kernels.protection_term(
        tiny_world.state, tiny_world.pole, tiny_world.pair, cred, A, ACCESS
    )
    p = 1.0 * 0.5 * 1.0 * 1.0  # exposure * credibility * military_weight * min(1, 1 + 0.5)
    q = 1.0 * 1.0 * 0.5 * FAR
    assert_close(row(got), [p, q, ACCESS * (p + q)], rtol=1e-4)


def test_coercion_and_escalation(tiny_world: World) -> None:
    calm = kernels.threat_from_poles(
        tiny_world.pole, tiny_world.pair, np.zeros((1, 2, 3)), slice(None)
    )
    assert_close(calm[0, 0], [0.5, 0.5 * FAR, 0.5 * MID], rtol=1e-4)
    assert_close(calm[0, 1], 0.0)  # q has no coercion
    assert_close(row(kernels.coercion_term(kernels.pair_rows(calm, A), 0.4)), [0.0, -0.5, -0.2])
    defected = np.zeros((1, 2, 3))
    defected[0, 0, 0] = 1.0  # a left p's bloc: p's pressure on it doubles (escalation 1)
    angry = kernels.threat_from_poles(tiny_world.pole, tiny_world.pair, defected, slice(None))
    assert_close(row(kernels.coercion_term(kernels.pair_rows(angry, A), 0.4)), [0.0, -1.0, -0.4])


def test_stance_bandwagoning_and_balancing(tiny_world: World) -> None:
    members = kernels.membership(np.array([[0, 1, 2]]), 3)  # a in p, b in q, c hedging
    power = kernels.bloc_power(tiny_world.pole, tiny_world.state, members)
    assert_close(power[0], [0.5 + 0.01, 0.125 + 0.02])
    share_p, share_q = 0.51 / 0.655, 0.145 / 0.655
    threat = kernels.threat_from_poles(
        tiny_world.pole, tiny_world.pair, np.zeros((1, 2, 3)), slice(None)
    )
    # For a, all the threat comes from p: balancing gives p nothing, q its full share.
    assert_close(
        row(kernels.stance_term(power, kernels.pair_rows(threat, A), -1.0)), [share_p, share_q, 0.0]
    )
    assert_close(
        row(kernels.stance_term(power, kernels.pair_rows(threat, A), 1.0)),
        [0.0, share_q, 0.0],
        atol=1e-12,
    )
    assert_close(
        row(kernels.stance_term(power, kernels.pair_rows(threat, A), 0.0)),
        [share_p / 2, share_q, 0.0],
        rtol=1e-9,
    )


def test_economic_terms(tiny_world: World) -> None:
    w = tiny_world
    assert_close(row(kernels.trade_term(w.pole, w.pair, A, ACCESS)), [0.4, 0.1, ACCESS * 0.5])
    offers = np.zeros((1, 2, 3))
    offers[0, 0, 0], offers[0, 1, 0] = 1.0, 0.5  # US$ bn to a (GDP 10bn): 10% and 5%
    cred = np.array([[0.5, 1.0]])
    p, q = 0.5 * math.log(11.0), 1.0 * math.log(6.0)
    assert_close(
        row(kernels.inducement_term(w.state, offers, cred, A, ACCESS)), [p, q, ACCESS * (p + q)]
    )
    assert_close(row(kernels.remittance_term(w.state, w.pair, A, ACCESS)), [0.2, 0.0, ACCESS * 0.2])
    assert_close(
        row(kernels.remittance_term(w.state, w.pair, C, ACCESS)), [0.05, 0.05, ACCESS * 0.1]
    )
    assert_close(row(kernels.transit_term(w.pair, A, ACCESS)), [0.5, 0.0, ACCESS * 0.5])


def test_regime_terms(tiny_world: World) -> None:
    w = tiny_world
    assert_close(row(kernels.conditionality_term(w.state, w.pair, A, ACCESS)), [0.0, -1.0, -ACCESS])
    assert_close(
        row(kernels.conditionality_term(w.state, w.pair, C, ACCESS)), [0.0, -0.5, -ACCESS * 0.5]
    )
    assert_close(
        row(kernels.regime_security_term(w.state, w.pole, A, ACCESS)), [0.5, 0.0, ACCESS * 0.5]
    )
    assert_close(row(kernels.autonomy_term(w.state, C, 2)), [0.0, 0.0, 1.0])
    assert_close(row(kernels.autonomy_term(w.state, A, 2)), [0.0, 0.0, 0.0])
    assert np.all(kernels.grievance_term(w.pair, A, ACCESS).joined() == 0.0)


def test_soft_power_fades(tiny_world: World) -> None:
    w = tiny_world
    assert_close(
        row(kernels.soft_power_term(w.pole, w.pair, 0.0, A, ACCESS)), [0.5, 0.0, ACCESS * 0.5]
    )
    from dataclasses import replace

    fading = replace(w.pole, soft_power_fade=np.array([0.1, 0.0]))
    assert_close(
        row(kernels.soft_power_term(fading, w.pair, 10.0, A, ACCESS)),
        [0.5 / math.e, 0.0, ACCESS * 0.5 / math.e],
    )


def test_peer_and_switching(tiny_world: World) -> None:
    members = kernels.membership(np.array([[0, 1, 2]]), 3)  # a in p, b in q, c hedging
    # a: rival b is in q (-1), friend c hedges (+0.5)
    assert_close(row(kernels.peer_term(tiny_world.affinity, members, A)), [0.0, -1.0, 0.5])
    cost = kernels.switching_cost_matrix(3, 0.5)
    np.testing.assert_array_equal(cost, [[0, 1, 0.5], [1, 0, 0.5], [0.5, 0.5, 0]])
    assert_close(row(kernels.switching_term(np.array([[0]]), cost)), [0, -1, -0.5])


def test_spending_follows_leverage(tiny_world: World) -> None:
    w = tiny_world
    flat = kernels.spending_offers(w.pole, w.pair, w.state, np.zeros((1, 2, 3)), 0.5, slice(None))
    prox_p = np.array([1.0, FAR, MID])
    assert_close(flat[0, 0], prox_p / prox_p.sum())
    assert_close(flat[0, 1], 2.0 * np.array([FAR, 1.0, MID]) / (1 + FAR + MID))
    margins = np.zeros((1, 2, 3))
    margins[0, 0, 1] = 1.0  # b is far from tipping for p: swing 1 / (1 + 1 / 0.5) = 1/3
    weights = np.array([2.0, FAR * (1 + 1 / 3), MID * 2.0])
    lever = kernels.spending_offers(w.pole, w.pair, w.state, margins, 0.5, slice(None))
    assert_close(lever[0, 0], weights / weights.sum())
    assert_close(lever.sum(axis=-1), [[1.0, 2.0]])  # budgets are spent


def test_bloc_margins() -> None:
    utility = np.array([[[1.0, 3.0, 2.0]]])
    np.testing.assert_array_equal(kernels.bloc_margins(utility, 2)[0, :, 0], [1.0 - 3.0, 3.0 - 2.0])
    # three poles and the hedge: each bloc against the best of the other three options
    rng = np.random.default_rng(3)
    utility = rng.normal(size=(50, 4, 4))
    utility[0, 0] = [2.0, 2.0, 1.0, 0.0]  # a tie at the top: both margins are 0
    expected = np.stack(
        [utility[..., b] - np.delete(utility, b, axis=-1).max(axis=-1) for b in range(3)], axis=1
    )
    np.testing.assert_array_equal(kernels.bloc_margins(utility, 3), expected)
    assert kernels.bloc_margins(utility, 3)[0, 0, 0] == 0.0


def test_credibility_and_defection_memory() -> None:
    assert_close(kernels.next_credibility(np.array([0.5]), np.array([1.0]), 0.1), 0.55)
    before, after = np.array([[0, 1, 2]]), np.array([[1, 1, 0]])
    start = np.array([[[0.5, 0.0, 0.0], [0.0, 0.2, 0.0]]])  # (R, poles p and q, choosers)
    memory = kernels.next_defection(start, before, after, slice(None), 2, 0.1, 0.5)
    # a left p for q (+1 for p); b stayed in q; c left the hedge (no pole's memory moves)
    assert_close(memory, [[[0.45 + 1.0, 0.0, 0.0], [0.0, 0.18, 0.0]]])
    to_hedge = kernels.next_defection(
        np.zeros((1, 1, 3)), before, np.array([[2, 2, 2]]), slice(1, 2), 2, 0.1, 0.5
    )
    assert_close(to_hedge, [[[0.0, 0.5, 0.0]]])  # only q's row: b left q to hedge
    per_run = kernels.next_defection(
        np.ones((2, 2, 3)),
        np.zeros((2, 3), int),
        np.zeros((2, 3), int),
        slice(None),
        2,
        np.array([[0.1], [0.5]]),
        0.5,
    )
    assert_close(per_run[:, 0, 0], [0.9, 0.5])  # one decay per run


def test_weights_fold_into_the_moving_terms(tiny_world: World) -> None:
    """A term's weight scales its value for every option, whether a number or per run."""
    w = tiny_world
    cred = np.array([[0.8, 0.6]])
    threat = kernels.pair_rows(
        kernels.threat_from_poles(w.pole, w.pair, np.zeros((1, 2, 3)), slice(None)), A
    )
    members = kernels.membership(np.array([[0, 1, 2]]), 3)
    power = kernels.bloc_power(w.pole, w.state, members)
    offers = np.array([[[1.0, 0.5, 0.2], [0.4, 0.3, 0.1]]])
    cost = kernels.switching_cost_matrix(3, 0.5)
    current = np.array([[2]])
    terms = {
        "protection": lambda g: kernels.protection_term(
            w.state, w.pole, w.pair, cred, A, ACCESS, g
        ),
        "coercion": lambda g: kernels.coercion_term(threat, 0.4, g),
        "stance": lambda g: kernels.stance_term(power, threat, 0.3, g),
        "inducements": lambda g: kernels.inducement_term(w.state, offers, cred, A, ACCESS, g),
        "peer": lambda g: kernels.peer_term(w.affinity, members, A, g),
        "switching": lambda g: kernels.switching_term(current, cost, g),
    }
    for name, term in terms.items():
        plain = term(1.0).joined()
        assert_close(term(2.5).joined(), 2.5 * plain, err_msg=name)
    # the same weight as a number or as a per-run array gives the same bits
    per_run = np.array([2.5]).reshape(1, 1, 1)
    np.testing.assert_array_equal(
        kernels.switching_term(current, cost, per_run).joined(),
        kernels.switching_term(current, cost, 2.5).joined(),
    )


def test_bloc_power_does_not_depend_on_the_batch(default_world: World) -> None:
    """Members' CINC add up to the same bits for one run alone or inside a batch."""
    rng = np.random.default_rng(5)
    pole, state = default_world.pole, default_world.state
    alignment = rng.integers(0, 4, (500, default_world.n_states))
    batch = kernels.bloc_power(pole, state, kernels.membership(alignment, 4))
    for r in (0, 7, 499):
        alone = kernels.bloc_power(pole, state, kernels.membership(alignment[r : r + 1], 4))
        np.testing.assert_array_equal(alone[0], batch[r])
    exact = pole.capability * pole.military_weight + np.array(
        [state.capability[alignment[0] == b].sum() for b in range(3)]
    )
    assert_close(batch[0], exact)
    # with an event's per-run capabilities (R, N) the same rule applies
    caps = state.capability * rng.uniform(0.5, 2.0, (500, 1))
    by_run = kernels.bloc_power(
        pole, replace(state, capability=caps), kernels.membership(alignment, 4)
    )
    one = kernels.bloc_power(
        pole, replace(state, capability=caps[7:8]), kernels.membership(alignment[7:8], 4)
    )
    np.testing.assert_array_equal(one[0], by_run[7])


@pytest.mark.parametrize(
    ("utility", "current", "expected"),
    [([1.0, 2.0, 2.0], 2, 2), ([1.0, 2.0, 2.0], 0, 1), ([3.0, 2.0, 1.0], 2, 0)],
)
def test_best_response_stays_on_ties(utility: list[float], current: int, expected: int) -> None:
    u = np.array([[utility]])
    zero = np.zeros_like(u)
    got = kernels.choose(u, u, np.array([[current]]), zero, "best_response", 1.0)
    assert got[0, 0] == expected


def test_logit_is_gumbel_argmax_and_matches_probabilities() -> None:
    u = np.zeros((1, 1, 3))
    gumbel = np.array([[[0.1, 0.5, 0.2]]])
    assert kernels.choose(u, u, np.array([[0]]), gumbel, "logit", 1.0)[0, 0] == 1
    utility = np.array([0.0, 0.5, 1.0])
    rng = np.random.default_rng(0)
    draws = kernels.gumbel_from_uniform(rng.random((200_000, 1, 3)))
    picks = kernels.choose(
        np.broadcast_to(utility, (200_000, 1, 3)),
        draws,
        np.zeros((200_000, 1), dtype=np.int64),
        draws,
        "logit",
        2.0,
    )
    freq = np.bincount(picks[:, 0], minlength=3) / 200_000
    expected = np.exp(2 * utility) / np.exp(2 * utility).sum()
    assert_close(freq, expected, atol=0.005)
    assert_close(kernels.choice_probabilities(utility, 2.0), expected)


def test_realist_rules_use_security_only() -> None:
    utility = np.array([[[5.0, 0.0, 0.0]]])
    security = np.array([[[0.0, 1.0, 0.0]]])
    zero = np.zeros_like(utility)
    for rule in ("balancing", "bandwagoning"):
        assert kernels.choose(utility, security, np.array([[0]]), zero, rule, 1.0)[0, 0] == 1


def test_sum_last_axis_is_order_fixed() -> None:
    x = np.array([[1e16, 1.0, -1e16]])
    assert kernels.sum_last_axis(x)[0] == (1e16 + 1.0) - 1e16
