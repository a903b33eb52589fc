"""Every kernel of Model 2 against values computed by hand on the tiny world.

The tiny world (tests/helpers.py): choosers a, b, c on the equator at longitudes 0, 10, 5;
pole p (security bloc, rivalry with q 1.0) at longitude 0, pole q (no security bloc) at
longitude 10; reach 1000 km, so proximity is exp(-d / 1000) with d = 0, 555.97 or
1111.95 km. Security options (p, none); economic options (p, q, open). At the start a is
p/p, b none/q and c none/open. ``two_bloc_world`` is the same world with q offering
security too (security options p, q, none), for the terms that weigh one bloc against
another.

Data of the choosers (a, b, c): GDP 10, 20, 5 US$ bn; CINC 0.01, 0.02, 0.01; autocracy
1, 0, 0.5; remittances 20%, 0, 10% of GDP; trade with p 40%, 10%, 25% and with q 10%,
50%, 25%; threat exposure 1, 0, 0.5; autonomy 0, 0, 1. Pole p: capability 0.5, military
weight 1, budget US$ 1 bn, credibility 0.5, regime support 0.5, soft power 0.5 (ties 1),
coercion 0.5, leverage 1. Pole q: capability 0.25, military weight 0.5, budget US$ 2 bn,
credibility 1, conditionality 1, nothing else.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np
import pytest
from helpers import KM_PER_10_DEGREES, swing_by_hand, tiny_attributes, tiny_region
from scipy.special import expit

from alignment_sim.model import kernels
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import Dynamics, ScenarioSpec, SimulationConfig, UtilityWeights
from alignment_sim.model.world import FLOAT, PairParams, World, build_world

ALL = slice(None)
A, B, C = slice(0, 1), slice(1, 2), slice(2, 3)
FAR = math.exp(-KM_PER_10_DEGREES / 1000)  # 10 degrees of longitude apart
MID = math.exp(-KM_PER_10_DEGREES / 2000)  # 5 degrees apart
BASE_SUM = 1.0 + FAR + MID  # each pole's sum of focus * proximity over the choosers
START_SECURITY = np.array([[0, 1, 1]])  # a in p's bloc, b and c in none
START_ECONOMY = np.array([[0, 1, 2]])  # a in p's union, b in q's, c open
CREDIBILITY = np.array([[0.5, 1.0]], dtype=FLOAT)  # the poles' starting credibility


def assert_close(actual, desired, **options) -> None:
    """Hand-computed (double) values against the model's single precision (FLOAT)."""
    np.testing.assert_allclose(actual, desired, **{"rtol": 1e-6, "atol": 1e-7, **options})


def table(values) -> np.ndarray:
    """One run's term as (choosers, options): a term of parameters alone has no run axis."""
    values = np.asarray(values)
    return values.reshape(-1, values.shape[-1])


@pytest.fixture
def two_bloc_world() -> World:
    """The tiny world with q offering security: security options (p, q, none)."""
    region = tiny_region()
    region.poles[1].security = True
    return build_world(region, tiny_attributes())


def unit_weights() -> UtilityWeights:
    """Every weight 1, so a weighted term is the kernel's value."""
    return UtilityWeights(**{f.name: 1.0 for f in fields(UtilityWeights)})


def start_snapshot(world: World) -> kernels.Snapshot:
    """What the choosers of the tiny world see at tick 1 (3 months in)."""
    sec = world.security_poles
    members = kernels.pole_members(START_SECURITY, START_ECONOMY, sec, world.n_poles)
    margins = np.full((1, world.n_poles, world.n_states), kernels.NO_MARGIN, dtype=FLOAT)
    in_bloc = kernels.security_membership(START_SECURITY, len(sec))
    offers, premiums = kernels.spending(world.pole, world.pair, members, margins, 4.0, ALL)
    return kernels.Snapshot(
        security=START_SECURITY,
        economy=START_ECONOMY,
        power=kernels.regional_power(world.pole, world.state, world.pair, in_bloc, sec),
        threat=kernels.threat_from_poles(world.pole, world.pair, ALL),
        offers=offers,
        credibility=CREDIBILITY,
        years=0.25,
        premiums=premiums,
    )


def test_the_tiny_world_is_what_the_hand_computations_assume(tiny_world: World) -> None:
    w = tiny_world
    assert w.space.security_options == ("p", "none")
    assert w.space.economic_options == ("p", "q", "open")
    assert w.options == ("p/p", "p/q", "p/open", "none/p", "none/q", "none/open")
    assert [w.options[k] for k in w.initial_alignment] == ["p/p", "none/q", "none/open"]
    assert list(w.security_poles) == [0]
    assert_close(w.pair.proximity, [[1.0, FAR, MID], [FAR, 1.0, MID]])
    assert_close(w.state.autocracy, [1.0, 0.0, 0.5])
    assert_close(w.pair.ties, [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(w.rivalry, [[0.0, 1.0], [0.0, 0.0]])


def test_term_lists_agree() -> None:
    both = set(kernels.SECURITY_TERMS) & set(kernels.ECONOMIC_TERMS)
    assert both == {"inducements", "regime_security", "conditionality", "autonomy", "switching"}
    assert set(kernels.TERMS) == set(kernels.SECURITY_TERMS) | set(kernels.ECONOMIC_TERMS)
    assert len(set(kernels.TERMS)) == len(kernels.TERMS)
    assert tuple(kernels.TERM_FAMILIES) == kernels.TERMS
    assert set(kernels.REALIST_TERMS) <= set(kernels.SECURITY_TERMS)


# --- poles: threat, regional power, members, offers, credibility -------------------------


def test_threat_is_coercion_times_power_times_proximity(tiny_world: World) -> None:
    threat = kernels.threat_from_poles(tiny_world.pole, tiny_world.pair, ALL)
    assert_close(threat, [[0.5, 0.5 * FAR, 0.5 * MID], [0.0, 0.0, 0.0]])  # q has no coercion
    pressed = replace(tiny_world.pair, pressure=np.array([[1.0, 2.0, 1.0], [1.0, 1.0, 1.0]]))
    assert_close(kernels.threat_from_poles(tiny_world.pole, pressed, A)[0], [0.5, FAR, 0.5 * MID])


def test_regional_power_is_distance_discounted(tiny_world: World, two_bloc_world: World) -> None:
    w = tiny_world
    in_bloc = kernels.security_membership(START_SECURITY, 1)
    np.testing.assert_array_equal(in_bloc, [[[1.0, 0.0, 0.0]]])
    power = kernels.regional_power(w.pole, w.state, w.pair, in_bloc, w.security_poles)
    # p's CINC * military weight (0.5 * 1) plus its member a's CINC (0.01), seen from afar
    assert_close(power, [[0.51 * np.array([1.0, FAR, MID])]])
    two = two_bloc_world
    security = np.array([[0, 1, 2]])  # a in p's bloc, b in q's, c in none
    power = kernels.regional_power(
        two.pole, two.state, two.pair, kernels.security_membership(security, 2), two.security_poles
    )
    p, q = 0.5 + 0.01, 0.25 * 0.5 + 0.02
    assert_close(power[0], [p * np.array([1.0, FAR, MID]), q * np.array([FAR, 1.0, MID])])


def test_members_cinc_is_exact_in_any_batch(default_world: World) -> None:
    """Members' CINC add up to the same bits for one run alone or inside a batch."""
    rng = np.random.default_rng(5)
    w = default_world
    sec, P = w.security_poles, len(w.security_poles)
    security = rng.integers(0, P + 1, (500, w.n_states))
    batch = kernels.regional_power(
        w.pole, w.state, w.pair, kernels.security_membership(security, P), sec
    )
    for r in (0, 7, 499):
        alone = kernels.regional_power(
            w.pole, w.state, w.pair, kernels.security_membership(security[r : r + 1], P), sec
        )
        np.testing.assert_array_equal(alone[0], batch[r])
    for p, b in enumerate(sec):
        bloc = w.pole.capability[b] * w.pole.military_weight[b]
        counted = w.state.capability.astype(float)[security[0] == p].sum()
        assert_close(batch[0, p], (bloc + counted) * w.pair.proximity[b], rtol=1e-5)
    # with an event's per-run capabilities (R, N) the same holds
    caps = (w.state.capability * rng.uniform(0.5, 2.0, (500, 1))).astype(FLOAT)
    by_run = kernels.regional_power(
        w.pole,
        replace(w.state, capability=caps),
        w.pair,
        kernels.security_membership(security, P),
        sec,
    )
    one = kernels.regional_power(
        w.pole,
        replace(w.state, capability=caps[7:8]),
        w.pair,
        kernels.security_membership(security[7:8], P),
        sec,
    )
    np.testing.assert_array_equal(one[0], by_run[7])


def test_pole_members_count_either_dimension() -> None:
    sec = np.array([0])
    security = np.array([[0, 1, 1]])  # a in p's bloc; b, c in none
    economy = np.array([[1, 2, 0]])  # a in q's union, b open, c in p's union
    members = kernels.pole_members(security, economy, sec, 2)
    np.testing.assert_array_equal(members, [[[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])


def test_spending_envelope_pays_members_their_share(tiny_world: World) -> None:
    w = tiny_world
    members = kernels.pole_members(START_SECURITY, START_ECONOMY, w.security_poles, 2)
    margins = np.full((1, 2, 3), kernels.NO_MARGIN, dtype=FLOAT)
    offers = kernels.spending(w.pole, w.pair, members, margins, 4.0, ALL)[0]
    # p's only member is a, q's only member b: each gets base / sum of bases of its budget
    assert_close(offers[0], [[1.0 / BASE_SUM, 0.0, 0.0], [0.0, 2.0 / BASE_SUM, 0.0]])
    assert (offers.sum(axis=-1) < w.pole.budget_bn).all()  # the rest stays unspent
    nobody = kernels.spending(w.pole, w.pair, np.zeros((1, 2, 3)), margins, 4.0, ALL)[0]
    np.testing.assert_array_equal(nobody, 0.0)  # nobody to pay: the whole budget unspent
    only_q = kernels.spending(w.pole, w.pair, members, margins, 4.0, B)[0]
    np.testing.assert_array_equal(only_q[0, 0], offers[0, 1])


def test_spending_pays_candidates_by_swing_and_never_beyond_the_budget(
    tiny_world: World,
) -> None:
    w = tiny_world
    members = kernels.pole_members(START_SECURITY, START_ECONOMY, w.security_poles, 2)
    margins = np.full((1, 2, 3), kernels.NO_MARGIN, dtype=FLOAT)
    # at rationality 4, exp(-4 |margin|) = 1/3 and 1/9: swings 4e / (1 + e)^2 = 0.75, 0.36
    margins[0, 0] = [kernels.NO_MARGIN, math.log(3) / 4, -math.log(9) / 4]
    offers = kernels.spending(w.pole, w.pair, members, margins, 4.0, ALL)[0]
    # weights: a 1 * (1 + 0), b FAR * (0 + 1 * 0.75), c MID * 0.36: below the envelope
    assert_close(offers[0, 0], [1.0 / BASE_SUM, 0.75 * FAR / BASE_SUM, 0.36 * MID / BASE_SUM])
    margins[0, 0] = [0.0, math.log(3) / 4, -3.0]  # a wavering member, c far from p
    offers = kernels.spending(w.pole, w.pair, members, margins, 4.0, ALL)[0]
    # weights 2 + 0.24 + a trace > BASE_SUM: p's premiums scaled down to its budget
    weights = np.array([1.0 * (1 + 1), FAR * 0.75, MID * swing_by_hand(4.0, -3.0)])
    assert_close(offers[0, 0], weights / weights.sum())
    assert offers[0, 0, 2] < 1e-4 * offers[0, 0, 1]  # next to nothing where money moves nothing
    assert_close(offers[0].sum(axis=-1), [1.0, 2.0 / BASE_SUM])  # p's premiums scaled down
    assert (offers[0].sum(axis=-1) <= w.pole.budget_bn * (1 + 1e-6)).all()
    # q has no leverage: its margins do not matter
    margins[0, 1] = 0.0
    again = kernels.spending(w.pole, w.pair, members, margins, 4.0, ALL)[0]
    np.testing.assert_array_equal(again[0, 1], offers[0, 1])


def test_bid_sensitivity_is_the_logits_response_to_money() -> None:
    """The swing is d p / d margin of the logit p = 1 / (1 + exp(-r margin)), relative to
    its peak r / 4 at the edge: 1 there, the same on either side, falling with distance,
    none for a margin not yet known; per-run rationalities broadcast."""
    margins = np.array([[[-2.0, -0.5, 0.0, 0.25, 0.5, 2.0, kernels.NO_MARGIN]]], dtype=FLOAT)
    rationality = np.array([4.0, 1.0]).reshape(2, 1, 1)
    swing = kernels.bid_sensitivity(margins, rationality)
    assert swing.shape == (2, 1, 7)
    step = 1e-4
    for run, r in enumerate((4.0, 1.0)):
        m = margins[0, 0, :-1].astype(float)
        slope = (expit(r * (m + step)) - expit(r * (m - step))) / (2 * step)
        np.testing.assert_allclose(swing[run, 0, :-1], slope / (r / 4), rtol=1e-5)
    assert_close(swing[0, 0, [1, 2, 4]], [0.41997434, 1.0, 0.41997434])
    assert swing[0, 0, 5] < 0.002 and swing[0, 0, -1] == 0.0
    assert (swing[1, 0, :-1] > swing[0, 0, :-1] - 1e-7).all()  # noisier choosers: wider bids


def test_offers_never_exceed_the_budget(default_world: World) -> None:
    w, runs = default_world, 300
    rng = np.random.default_rng(11)
    members = (rng.random((runs, w.n_poles, w.n_states)) < 0.4).astype(FLOAT)
    margins = rng.normal(0.0, 0.5, (runs, w.n_poles, w.n_states)).astype(FLOAT)
    offers = kernels.spending(w.pole, w.pair, members, margins, 4.0, ALL)[0]
    assert (offers >= 0).all()
    assert (offers.sum(axis=-1) <= w.pole.budget_bn * (1 + 1e-6)).all()
    assert offers.sum() > 0  # not vacuous


def test_proportional_spending_pays_members_only(tiny_world: World) -> None:
    w = tiny_world
    members = kernels.pole_members(START_SECURITY, START_ECONOMY, w.security_poles, 2)
    margins = np.zeros((1, 2, 3), dtype=FLOAT)  # everyone wavering
    plain = replace(w.pole, proportional_spending=np.array([1.0, 0.0], dtype=FLOAT))
    offers = kernels.spending(plain, w.pair, members, margins, 4.0, ALL)[0]
    assert_close(offers[0, 0], [1.0 / BASE_SUM, 0.0, 0.0])


def test_economic_margins_against_the_best_alternative() -> None:
    utility = np.array([[[1.0, 3.0, 2.0], [2.0, 2.0, 1.0]]])  # (R, N = 2, E = p, q, open)
    zero = np.zeros_like(utility)
    margins = kernels.economic_margins(utility, zero)
    np.testing.assert_array_equal(margins[0], [[1.0 - 3.0, 0.0], [3.0 - 2.0, 0.0]])
    rng = np.random.default_rng(3)
    utility = rng.normal(size=(50, 4, 4)).astype(FLOAT)
    expected = np.stack(
        [utility[..., b] - np.delete(utility, b, axis=-1).max(axis=-1) for b in range(3)], axis=1
    )
    np.testing.assert_array_equal(
        kernels.economic_margins(utility, np.zeros_like(utility)), expected
    )


def test_a_pole_discounts_its_own_offer_but_sees_its_rivals() -> None:
    utility = np.array([[[1.0, 3.0, 2.0], [2.0, 2.0, 1.0]]])
    inducements = np.array([[[0.5, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # p bids for 0, q for 1
    margins = kernels.economic_margins(utility, inducements)
    # chooser 0: p (1 - 0.5) - 3, q 3 - 2; chooser 1: p 2 - 2 (q's bid counts), q (2 - 1) - 2
    np.testing.assert_array_equal(margins[0], [[-2.5, 0.0], [1.0, -1.0]])


def test_kept_promises() -> None:
    expected = np.array([[[1.0, 1.0, 5.0]]])  # (R, one pole, N): what a, b and c expect
    members = np.array([[[1.0, 1.0, 0.0]]])  # c is no longer a member: not counted
    full = kernels.kept_promises(np.array([[[1.0, 3.0, 0.0]]]), expected, members)
    partial = kernels.kept_promises(np.array([[[0.5, 2.0, 0.0]]]), expected, members)
    nothing = kernels.kept_promises(np.array([[[0.5, 2.0, 0.0]]]), np.zeros((1, 1, 3)), members)
    assert_close(full, [[1.0]])
    assert_close(partial, [[(0.5 + 1.0) / 2.0]])  # min(offer, expected) over members
    assert_close(nothing, [[1.0]])  # nothing promised: nothing broken


def test_expectations_start_from_the_envelope_and_adjust(tiny_world: World) -> None:
    config = SimulationConfig(region=tiny_region(), scenario=ScenarioSpec(), ticks=2)
    start = kernels.starting_expectations(RunInputs.from_config(config, world=tiny_world))
    # the starting members' envelope shares, no candidate premium: a from p, b from q
    assert_close(start, [[[1.0 / BASE_SUM, 0.0, 0.0], [0.0, 2.0 / BASE_SUM, 0.0]]])
    expected = np.array([[[1.0, 0.0, 2.0]]], dtype=FLOAT)
    offers = np.array([[[0.5, 0.8, 0.0]]], dtype=FLOAT)
    got = kernels.next_expectations(expected, offers, 0.1)
    # toward the offer by 0.1 a tick; a first offer (b) is expected in full
    assert_close(got, [[[1.0 - 0.1 * 0.5, 0.8, 2.0 - 0.1 * 2.0]]])


def test_next_credibility_moves_toward_target_times_kept() -> None:
    got = kernels.next_credibility(
        np.array([[0.5, 1.0]]), np.array([[1.0, 1.0]]), np.array([[0.75, 1.0]]), 0.1
    )
    assert_close(got, [[0.5 + 0.1 * (0.75 - 0.5), 1.0]])
    per_run = kernels.next_credibility(
        np.array([[0.5], [0.5]]), np.ones((2, 1)), np.ones((2, 1)), np.array([[0.1], [0.5]])
    )
    assert_close(per_run, [[0.55], [0.75]])


def test_credibility_target_is_the_share_of_protection_kept_with_the_configured_prior(
    tiny_world: World,
) -> None:
    pole = replace(
        tiny_world.pole,
        credibility=np.array([0.6, 0.8], dtype=FLOAT),
        protection_tests=np.array([2.0, 1.0], dtype=FLOAT),
        protection_given=np.array([1.0, 0.0], dtype=FLOAT),
    )
    # p: (4 x 0.6 + 1 kept) / (4 + 2 tests); q: one refusal, (4 x 0.8 + 0) / (4 + 1)
    assert_close(kernels.credibility_target(pole, 4.0), [3.4 / 6.0, 3.2 / 5.0], rtol=1e-6)
    per_run = kernels.credibility_target(pole, np.array([[1.0], [1e6]]))
    assert_close(per_run, [[1.6 / 3.0, 0.4], [0.6, 0.8]], rtol=1e-5)  # a heavy prior: no move
    untested = replace(pole, protection_tests=np.zeros(2, FLOAT), protection_given=np.zeros(2))
    odd = np.array([0.6123457, 0.1], dtype=FLOAT)
    untested = replace(untested, credibility=odd)
    assert np.array_equal(kernels.credibility_target(untested, 3.7), odd)  # to the last bit


# --- security terms (options p, none; or p, q, none) --------------------------------------


def test_protection_for_members_only(tiny_world: World, two_bloc_world: World) -> None:
    w = tiny_world
    threat = kernels.pair_rows(kernels.threat_from_poles(w.pole, w.pair, ALL), ALL)
    got = kernels.protection_term(
        w.state, w.pole, w.pair, CREDIBILITY, threat, w.rivalry, ALL, w.security_poles
    )
    # exposure * credibility_p (0.5) * military weight (1) * min(1, proximity + presence);
    # p is rival to q, but q threatens nobody (coercion 0)
    assert_close(table(got), [[0.5 * 1.0, 0.0], [0.0, 0.0], [0.5 * 0.5 * MID, 0.0]])
    two = two_bloc_world
    threat = kernels.pair_rows(kernels.threat_from_poles(two.pole, two.pair, ALL), A)
    got = kernels.protection_term(
        two.state, two.pole, two.pair, CREDIBILITY, threat, two.rivalry, A, two.security_poles
    )
    assert_close(table(got), [[0.5, 1.0 * 0.5 * FAR, 0.0]])


def test_protection_guards_against_the_blocs_rivals() -> None:
    """A bloc also shields its members from the poles it is rival to (balance of threat):
    chooser a (exposure 1, at p's capital) with q threatening too and each pole rival to
    the other."""
    region = tiny_region()
    region.poles[1].security = True
    region.poles[1].coercion = 0.5
    region.poles[1].rivalry = {"p": 0.5}
    w = build_world(region, tiny_attributes())
    threat = kernels.pair_rows(kernels.threat_from_poles(w.pole, w.pair, ALL), A)
    # threats to a: p 0.5 * 1 * proximity 1 = 0.5; q 0.5 * 0.5 * FAR = 0.25 * FAR
    assert_close(threat, [[0.5, 0.25 * FAR]])
    got = kernels.protection_term(
        w.state, w.pole, w.pair, CREDIBILITY, threat, w.rivalry, A, w.security_poles
    )
    # p (credibility 0.5, weight 1, reach 1): (1 + rivalry_pq 1.0 * 0.25 FAR) * 0.5
    # q (credibility 1, weight 0.5, reach FAR): (1 + rivalry_qp 0.5 * 0.5) * 0.5 * FAR
    expected = [[0.5 * (1.0 + 0.25 * FAR), 0.5 * FAR * 1.25, 0.0]]
    assert_close(table(got), expected)
    # a bloc never guards against its own leader's threat: with no rivalry, exposure only
    calm = kernels.protection_term(
        w.state, w.pole, w.pair, CREDIBILITY, threat, np.zeros((2, 2)), A, w.security_poles
    )
    assert_close(table(calm), [[0.5, 0.5 * FAR, 0.0]])


def test_coercion_is_rivalry_weighted_threat(tiny_world: World, two_bloc_world: World) -> None:
    threat = kernels.threat_from_poles(tiny_world.pole, tiny_world.pair, ALL)
    rows = kernels.pair_rows(threat, ALL)
    # p's rivalry is with q, which has no security bloc: joining p provokes nobody
    np.testing.assert_array_equal(
        kernels.coercion_term(rows, tiny_world.rivalry, tiny_world.security_poles), 0.0
    )
    two = two_bloc_world
    rows = kernels.pair_rows(kernels.threat_from_poles(two.pole, two.pair, ALL), ALL)
    got = kernels.coercion_term(rows, two.rivalry, two.security_poles)
    assert_close(table(got), [[0.0, -0.5, 0.0], [0.0, -0.5 * FAR, 0.0], [0.0, -0.5 * MID, 0.0]])
    threat_rows = np.array([[[0.2, 0.4]]])  # one chooser threatened by p (0.2) and q (0.4)
    rivalry = np.array([[0.0, 1.0], [0.25, 0.0]])
    got = kernels.coercion_term(threat_rows, rivalry, np.array([0, 1]))
    assert_close(table(got), [[-0.4 * 0.25, -0.2 * 1.0, 0.0]])
    threat_rows = np.array([[[0.2, 0.4, 0.1]]])  # three poles; blocs are the first and last
    rivalry = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.25], [0.5, 0.0, 0.0]])
    got = kernels.coercion_term(threat_rows, rivalry, np.array([0, 2]))
    assert_close(table(got), [[-0.1 * 0.5, -(0.2 * 1.0 + 0.4 * 0.25), 0.0]])


def test_stance_one_bloc_has_nothing_to_weigh(tiny_world: World) -> None:
    snap = start_snapshot(tiny_world)
    for stance in (-1.0, 0.0, 1.0):
        got = kernels.stance_term(
            kernels.pair_rows(snap.power, ALL),
            kernels.pair_rows(snap.threat, ALL),
            stance,
            tiny_world.security_poles,
        )
        np.testing.assert_array_equal(got, 0.0)


def test_stance_bandwagoning_and_balancing() -> None:
    power = np.array([[[3.0, 1.0]]])  # bloc p has 3/4 of the power the chooser sees
    threat = np.array([[[1.0, 0.0]]])  # and all of the threat
    sec = np.array([0, 1])
    bandwagon = kernels.stance_term(power, threat, -1.0, sec)
    balance = kernels.stance_term(power, threat, 1.0, sec)
    middle = kernels.stance_term(power, threat, 0.0, sec)
    # pulls: bandwagoning (0.75, 0.25); balancing (0.75 * 0, 0.25 * 1); halfway the mean
    assert_close(bandwagon[0, 0], [0.25, -0.25, 0.0])
    assert_close(balance[0, 0], [-0.125, 0.125, 0.0])
    assert_close(middle[0, 0], [0.375 - 0.3125, 0.25 - 0.3125, 0.0])
    for got in (bandwagon, balance, middle):
        assert_close(got[..., :-1].sum(axis=-1), 0.0)  # centred over the blocs
    # three poles, the middle one without a bloc (as China): its threat counts in the
    # total the blocs' threat shares are taken of (1/6 for p, 0 for the third pole)
    threat = np.array([[[1.0, 5.0, 0.0]]])
    balance = kernels.stance_term(power, threat, 1.0, np.array([0, 2]))
    pull = np.array([0.75 * 5 / 6, 0.25])
    assert_close(balance[0, 0], [*(pull - pull.mean()), 0.0])


def test_stance_on_the_two_bloc_world(two_bloc_world: World) -> None:
    w = two_bloc_world
    security = np.array([[0, 1, 2]])  # a in p, b in q, c in none
    power = kernels.regional_power(
        w.pole, w.state, w.pair, kernels.security_membership(security, 2), w.security_poles
    )
    threat = kernels.threat_from_poles(w.pole, w.pair, ALL)
    p, q = 0.51, 0.145 * FAR  # what a sees; all the threat a faces is p's
    share_p, share_q = p / (p + q), q / (p + q)
    power_a, threat_a = kernels.pair_rows(power, A), kernels.pair_rows(threat, A)
    bandwagon = kernels.stance_term(power_a, threat_a, -1.0, w.security_poles)
    balance = kernels.stance_term(power_a, threat_a, 1.0, w.security_poles)
    assert_close(bandwagon[0, 0], [(share_p - share_q) / 2, (share_q - share_p) / 2, 0.0])
    assert_close(balance[0, 0], [-share_q / 2, share_q / 2, 0.0])


def test_a_balancer_is_not_deterred_and_a_bandwagoner_twice(two_bloc_world: World) -> None:
    """``coercion`` is scaled by the deterrence 1 - stance: 1 at 0 (the term as it was),
    0 for a pure balancer, 2 for a pure bandwagoner, per run in a batch of points."""
    assert kernels.deterrence(0.0) == 1.0 and kernels.deterrence(1.0) == 0.0
    assert kernels.deterrence(-1.0) == 2.0
    per_run = kernels.deterrence(np.array([-1.0, 0.0, 0.5])[:, None, None])
    assert_close(per_run[:, 0, 0], [2.0, 1.0, 0.5])
    two = two_bloc_world
    threat = kernels.threat_from_poles(two.pole, two.pair, ALL)

    def coercion(stance: float) -> np.ndarray:
        fixed = kernels.parameter_terms(
            two.state,
            two.pole,
            two.pair,
            threat,
            two.rivalry,
            two.security_poles,
            unit_weights(),
            stance,
            ALL,
        )
        return table(fixed.security["coercion"])

    neutral = coercion(0.0)
    assert_close(neutral, [[0.0, -0.5, 0.0], [0.0, -0.5 * FAR, 0.0], [0.0, -0.5 * MID, 0.0]])
    assert_close(coercion(-1.0), 2.0 * neutral)
    assert_close(coercion(0.5), 0.5 * neutral)
    np.testing.assert_array_equal(coercion(1.0), 0.0)


def test_an_occupiers_threat_no_longer_deters(two_bloc_world: World) -> None:
    """``deterring_threat``: where pole 0's forces hold a state's territory without consent
    (grievance 1), its threat no longer deters that state from joining its rival's bloc;
    half a grievance, half the deterrent; the threat itself, and the rival's protection
    against it, stay as they were."""
    two = two_bloc_world
    threat = kernels.threat_from_poles(two.pole, two.pair, ALL)
    grievance = np.zeros_like(two.pair.grievance)
    grievance[0, 0], grievance[0, 2] = 1.0, 0.5  # pole 0 holds all of state 0, half of state 2
    held = replace(two.pair, grievance=grievance)
    assert_close(kernels.deterring_threat(threat, held.grievance), threat * (1 - grievance))

    def coercion(pair: PairParams) -> np.ndarray:
        fixed = kernels.parameter_terms(
            two.state,
            two.pole,
            pair,
            threat,
            two.rivalry,
            two.security_poles,
            unit_weights(),
            0.0,
            ALL,
        )
        return table(fixed.security["coercion"])

    assert_close(
        coercion(two.pair), [[0.0, -0.5, 0.0], [0.0, -0.5 * FAR, 0.0], [0.0, -0.5 * MID, 0.0]]
    )
    assert_close(coercion(held), [[0.0, 0.0, 0.0], [0.0, -0.5 * FAR, 0.0], [0.0, -0.25 * MID, 0.0]])


def test_grievance(tiny_world: World) -> None:
    w = tiny_world
    np.testing.assert_array_equal(kernels.grievance_term(w.pair, ALL, w.security_poles), 0.0)
    held = replace(w.pair, grievance=np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.0]], dtype=FLOAT))
    got = kernels.grievance_term(held, ALL, w.security_poles)
    assert_close(table(got)[:, 0], [-1.0, 0.0, -0.5])
    np.testing.assert_array_equal(table(got)[:, 1], 0.0)


def test_regime_security(tiny_world: World) -> None:
    w = tiny_world
    secure = kernels.regime_security_term(w.state, w.pole, ALL, w.security_poles)
    np.testing.assert_array_equal(secure, 0.0)  # no regime is insecure at the start
    shaken = replace(w.state, regime_insecurity=np.array([1.0, 1.0, 2.0], dtype=FLOAT))
    got = kernels.regime_security_term(shaken, w.pole, ALL, w.security_poles)
    # support_p (0.5) * autocracy (1, 0, 0.5) * insecurity (1, 1, 2)
    assert_close(table(got), [[0.5, 0.0], [0.0, 0.0], [0.5, 0.0]])


def test_a_union_props_up_an_insecure_regime_as_its_bloc_does(tiny_world: World) -> None:
    """001's regionalism "helps self-preservation of the otherwise vulnerable and
    potentially unstable regimes": the economic choice holds the same term over every
    pole's union (q props up no regime), and the weighted economy of ``utility_terms``
    carries it."""
    w = tiny_world
    shaken = replace(w.state, regime_insecurity=np.array([1.0, 1.0, 2.0], dtype=FLOAT))
    got = kernels.regime_security_term(shaken, w.pole, ALL, np.arange(w.n_poles))
    # options p, q, open: support (0.5, 0) * autocracy (1, 0, 0.5) * insecurity (1, 1, 2)
    assert_close(table(got), [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    weights = replace(unit_weights(), regime_security=2.0)
    terms = kernels.parameter_terms(
        shaken,
        w.pole,
        w.pair,
        np.zeros((1, w.n_poles, w.n_states)),
        w.rivalry,
        w.security_poles,
        weights,
        0.0,
        ALL,
    )
    assert_close(table(terms.economy["regime_security"]), 2.0 * table(got))
    assert_close(table(terms.security["regime_security"]), [[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])


def test_a_pole_that_props_up_democracies_protects_the_insecure_democrat(
    tiny_world: World,
) -> None:
    """The West's kind of regime support (001: the colour revolutions "much helped by
    western advice, encouragement, and cash handouts"): the same insecurity now pulls the
    democrat to p's bloc and leaves the autocrat with nothing."""
    w = tiny_world
    shaken = replace(w.state, regime_insecurity=np.array([1.0, 1.0, 2.0], dtype=FLOAT))
    democrats = replace(w.pole, supports_democracy=np.array([1.0, 0.0], dtype=FLOAT))
    got = kernels.regime_security_term(shaken, democrats, ALL, w.security_poles)
    # support_p (0.5) * democracy (0, 1, 0.5) * insecurity (1, 1, 2)
    assert_close(table(got), [[0.0, 0.0], [0.5, 0.0], [0.5, 0.0]])


def test_soft_power_fades(tiny_world: World) -> None:
    w = tiny_world
    now = kernels.soft_power_term(w.pole, w.pair, 0.0, A, w.security_poles)
    assert_close(table(now)[0], [0.5, 0.0])
    fading = replace(w.pole, soft_power_fade=np.array([0.1, 0.0], dtype=FLOAT))
    later = kernels.soft_power_term(fading, w.pair, 10.0, A, w.security_poles)
    assert_close(table(later)[0], [0.5 / math.e, 0.0])


def test_conditionality_in_both_dimensions(tiny_world: World) -> None:
    w = tiny_world
    security = kernels.conditionality_term(w.state, w.pair, ALL, w.security_poles)
    np.testing.assert_array_equal(security, 0.0)  # p asks nothing
    economy = kernels.conditionality_term(w.state, w.pair, ALL, np.arange(2))
    # q's conditionality (1) times autocracy (1, 0, 0.5); nothing for p or open
    assert_close(table(economy)[:, 1], [-1.0, 0.0, -0.5])
    np.testing.assert_array_equal(table(economy)[:, [0, 2]], 0.0)


def test_autonomy_values_the_outside_options_only(tiny_world: World) -> None:
    w = tiny_world
    assert_close(table(kernels.autonomy_term(w.state, C, 1)), [[0.0, 1.0]])  # p, none
    assert_close(table(kernels.autonomy_term(w.state, C, 2)), [[0.0, 0.0, 1.0]])  # p, q, open
    np.testing.assert_array_equal(kernels.autonomy_term(w.state, A, 2), 0.0)


def test_a_permanent_neutrality_closes_every_bloc_and_nothing_else(tiny_world: World) -> None:
    w = tiny_world
    neutral = replace(w.state, neutral=np.array([0.0, 0.0, 1.0], dtype=FLOAT))  # c only
    security = table(kernels.neutrality_term(neutral, ALL, 2))  # p, q, none
    assert_close(security, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [-10.0, -10.0, 0.0]])
    assert kernels.NEUTRALITY_PRICE == 10.0
    np.testing.assert_array_equal(kernels.neutrality_term(w.state, ALL, 2), 0.0)  # nobody


def test_a_union_not_yet_founded_is_closed_and_nothing_else(tiny_world: World) -> None:
    w = tiny_world
    assert w.pair.union_open.min() == 1.0  # the tiny world's unions are undated
    np.testing.assert_array_equal(kernels.founding_term(w.pair, ALL), 0.0)
    union_open = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=FLOAT)  # p's not yet
    economy = table(kernels.founding_term(replace(w.pair, union_open=union_open), ALL))
    assert_close(economy, [[-10.0, 0.0, 0.0]] * 3)  # p, q, open for each chooser
    assert kernels.UNFOUNDED_PRICE == kernels.NEUTRALITY_PRICE == 10.0


@pytest.mark.parametrize("rule", ["logit", "best_response", "balancing", "bandwagoning"])
def test_a_neutral_state_leaves_any_alliance_at_once_under_every_rule(rule: str) -> None:
    from alignment_sim.engine.batch import run_batch
    from alignment_sim.presets import default_config

    # both start in Russia's alliance, with the largest exposure there is: without the
    # status the switching cost and protection would keep them there under every rule
    config = default_config(decision=rule, ticks=20)
    for state in config.region.states:
        if state.name in ("moldova", "turkmenistan"):
            state.initial["2015"] = "russia/open"
            state.threat_exposure = 1.0
    inputs = RunInputs.from_config(config)
    world = inputs.world
    profiles = run_batch(inputs, range(50)).alignment.astype(np.int64)  # (R, T + 1, N)
    security = world.space.profile_security[profiles]
    russia, none = (world.space.security_options.index(o) for o in ("russia", "none"))
    for name in ("moldova", "turkmenistan"):
        assert (security[:, 0, world.states.index(name)] == russia).all()
        assert (security[:, 1:, world.states.index(name)] == none).all(), (rule, name)


def test_moldova_and_turkmenistan_are_neutral_in_the_2015_world(default_world: World) -> None:
    neutral = dict(zip(default_world.states, default_world.state.neutral.tolist(), strict=True))
    assert {name for name, value in neutral.items() if value} == {"moldova", "turkmenistan"}


def test_peer_is_exact(tiny_world: World, default_world: World) -> None:
    members = kernels.security_membership(START_SECURITY, 2)
    np.testing.assert_array_equal(members, [[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]])
    got = kernels.peer_term(tiny_world.affinity, members, ALL)
    # a: rival b (-1) and friend c (+0.5) are both in none; b: rival a in p; c: friend a in p
    np.testing.assert_array_equal(table(got), [[0.0, -0.5], [-1.0, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(kernels.peer_term(tiny_world.affinity, members, C), got[:, C])
    # a row alone equals its row of the whole batch, bit for bit
    rng = np.random.default_rng(1)
    S = default_world.space.n_security
    security = rng.integers(0, S, (64, default_world.n_states))
    members = kernels.security_membership(security, S)
    batch = kernels.peer_term(default_world.affinity, members, ALL)
    for i in range(default_world.n_states):
        alone = kernels.peer_term(default_world.affinity, members[5:6], slice(i, i + 1))
        np.testing.assert_array_equal(alone[0], batch[5, i : i + 1])
    expected = np.einsum("ij,rsj->ris", default_world.affinity.astype(float), members)
    np.testing.assert_array_equal(batch, expected)


def test_switching_costs_leaving_only() -> None:
    got = kernels.switching_term(np.array([[0, 1, 2]]), 3, 0.75)
    assert_close(got, [[[0.0, -0.75, -0.75], [-0.75, 0.0, -0.75], [-0.75, -0.75, 0.0]]])
    per_run = kernels.switching_term(np.array([[0], [0]]), 2, np.array([[[0.5]], [[2.0]]]))
    assert_close(per_run, [[[0.0, -0.5]], [[0.0, -2.0]]])


def test_leaving_a_bloc_whose_treaty_lapses_costs_nothing(tiny_world: World) -> None:
    """While p's treaty lapses for chooser a (p's exit_cost 0 for a), a leaves p's bloc for
    free; b, in p's bloc too, and c, outside every bloc, pay the full cost. Joining is
    never cheaper. With every exit_cost 1 there are no factors (the fast path)."""
    w = tiny_world
    sec = w.security_poles  # p only: options p, none
    assert kernels.exit_factors(w.pair, ALL, sec) is None
    exit_cost = np.ones_like(w.pair.exit_cost)
    exit_cost[0, 0] = 0.0  # p, chooser a
    factors = kernels.exit_factors(replace(w.pair, exit_cost=exit_cost), ALL, sec)
    assert factors is not None
    assert_close(factors, [[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])  # (option, chooser)
    held = np.array([[0, 0, 1]])  # a and b in p's bloc, c outside
    held_factor = kernels.held_exit_factor(factors, held)
    assert_close(held_factor, [[0.0, 1.0, 1.0]])
    got = kernels.switching_term(held, 2, 1.5, held_factor)
    assert_close(got, [[[0.0, 0.0], [0.0, -1.5], [-1.5, 0.0]]])


def test_security_columns_are_the_security_poles(default_world: World) -> None:
    """In the default world the blocs are poles 0 and 2 (russia, west), not 0 and 1."""
    w = default_world
    sec = w.security_poles
    assert list(sec) == [0, 2]
    state = replace(w.state, regime_insecurity=np.full(w.n_states, 0.5, dtype=FLOAT))
    pair = replace(
        w.pair,
        grievance=(np.arange(w.n_poles * w.n_states) % 2)
        .reshape(w.n_poles, w.n_states)
        .astype(FLOAT),
    )
    credibility = np.array([[0.9, 0.7, 0.6]], dtype=FLOAT)
    threat_rows = kernels.pair_rows(kernels.threat_from_poles(w.pole, pair, ALL), ALL)
    terms = {
        "protection": kernels.protection_term(
            state, w.pole, pair, credibility, threat_rows, w.rivalry, ALL, sec
        ),
        "grievance": kernels.grievance_term(pair, ALL, sec),
        "regime_security": kernels.regime_security_term(state, w.pole, ALL, sec),
        "soft_power": kernels.soft_power_term(w.pole, pair, 2.0, ALL, sec),
        "conditionality": kernels.conditionality_term(state, pair, ALL, sec),
    }
    for i in range(w.n_states):
        for s, b in enumerate(sec):
            reach = min(1.0, pair.proximity[b, i] + pair.presence[b, i])
            strength = credibility[0, b] * w.pole.military_weight[b]
            rivals = sum(
                w.rivalry[b, p] * threat_rows[..., i, p] for p in range(w.n_poles) if p != b
            )
            expected = {
                "protection": (state.threat_exposure[i] + rivals) * strength * reach,
                "grievance": -pair.grievance[b, i],
                "regime_security": w.pole.regime_support[b]
                * (1.0 - state.autocracy[i] if b == w.poles.index("west") else state.autocracy[i])
                * 0.5,
                "soft_power": w.pole.soft_power[b]
                * math.exp(-w.pole.soft_power_fade[b] * 2.0)
                * pair.ties[b, i],
                "conditionality": -pair.conditionality[b, i] * state.autocracy[i],
            }
            for name, value in expected.items():
                assert table(terms[name])[i, s] == pytest.approx(value, rel=1e-5, abs=1e-7), name
        for name, term in terms.items():
            assert table(term)[i, -1] == 0.0, name  # none


# --- economic terms (options p, q, open) ---------------------------------------------------


def test_trade_is_trusted_creation_minus_diversion(tiny_world: World) -> None:
    w = tiny_world
    trusted = np.ones((1, 2), dtype=FLOAT)
    got = kernels.trade_term(w.pole, w.pair, trusted, ALL)
    # a: 0.4 - 0.1 with p, 0.1 - 0.4 with q; b: 0.1 - 0.5, 0.5 - 0.1; c: 0.25 - 0.25
    assert_close(table(got), [[0.3, -0.3, 0.0], [-0.4, 0.4, 0.0], [0.0, 0.0, 0.0]])
    slump = replace(w.pole, trade_factor=np.array([0.75, 1.0], dtype=FLOAT))
    assert_close(
        table(kernels.trade_term(slump, w.pair, trusted, A)), [[0.3 - 0.1, 0.1 - 0.3, 0.0]]
    )
    # p trusted half: a gains 0.5 * 0.4 on its trade with p and still loses 0.1 with q
    got = kernels.trade_term(w.pole, w.pair, CREDIBILITY, ALL)
    assert_close(table(got), [[0.1, -0.3, 0.0], [-0.45, 0.4, 0.0], [-0.125, 0.0, 0.0]])


OUTSIDE = np.array([[-1, -1, -1]])  # no chooser in a security bloc
OPEN = np.array([[2, 2, 2]])  # every economy open (options p, q, open)


def test_inducements_are_log_of_gdp_share_discounted_by_credibility(tiny_world: World) -> None:
    offers = np.zeros((1, 2, 3), dtype=FLOAT)
    offers[0, 0, 0], offers[0, 1, 0] = 1.0, 0.5  # to a (GDP 10bn): 10% and 5% of GDP
    offers[0, 0, 2] = 0.5  # to c (GDP 5bn): 10% of its GDP
    w = tiny_world
    sec = w.security_poles
    bloc, union = kernels.inducement_terms(
        w.state, w.pair, offers, np.zeros_like(offers), CREDIBILITY, OUTSIDE, OPEN, ALL, sec
    )
    assert kernels.INDUCEMENT_SCALE_PCT == 10.0
    expected_a = [0.5 * math.log(2.0), 1.0 * math.log1p(0.5), 0.0]
    assert_close(table(union), [expected_a, [0.0, 0.0, 0.0], [0.5 * math.log(2.0), 0.0, 0.0]])
    # outside p's union, a and c also count p's offer for joining p's bloc (options p, none)
    assert_close(table(bloc), [[0.5 * math.log(2.0), 0.0], [0.0, 0.0], [0.5 * math.log(2.0), 0.0]])


def test_an_offer_the_other_choice_keeps_counts_in_neither(tiny_world: World) -> None:
    """p pays its members in either dimension: a chooser in p's bloc keeps p's offer
    whatever its economy (so the economic choice does not count it), and one in p's union
    keeps it whatever its security (so the security choice does not count it)."""
    offers = np.zeros((1, 2, 3), dtype=FLOAT)
    offers[0, 0, :] = 1.0, 1.0, 0.5  # p's offers: 10% of a's and c's GDP, 5% of b's
    offers[0, 1, 1] = 2.0  # q's to b: 10% of its GDP
    w = tiny_world
    sec = w.security_poles
    # a in p's bloc with an open economy; b outside with q's economy; c in p's union only
    held_security = np.array([[0, -1, -1]])
    held_economy = np.array([[2, 1, 0]])
    bloc, union = kernels.inducement_terms(
        w.state,
        w.pair,
        offers,
        np.zeros_like(offers),
        CREDIBILITY,
        held_security,
        held_economy,
        ALL,
        sec,
    )
    ten = 0.5 * math.log(2.0)  # p's credibility 0.5, an offer of 10% of GDP
    # economy (p, q, open): a keeps p's offer through its bloc; b counts p's for p's union
    # and q's for q's; c counts p's for p's union (it is outside p's bloc)
    assert_close(
        table(union),
        [[0.0, 0.0, 0.0], [0.5 * math.log1p(0.5), 1.0 * math.log(2.0), 0.0], [ten, 0.0, 0.0]],
    )
    # security (p, none): a (in p's bloc, outside its union) counts it for p's bloc; b too;
    # c keeps it through p's union
    assert_close(table(bloc), [[ten, 0.0], [0.5 * math.log1p(0.5), 0.0], [0.0, 0.0]])


def test_a_premium_is_paid_for_the_union_whatever_the_alliance(tiny_world: World) -> None:
    """The premium part of an offer (a bid on the economic margin) counts in the economic
    choice for the pole's union even for a chooser in the pole's bloc, and never in the
    security choice; the base share follows the held choices as before."""
    offers = np.zeros((1, 2, 3), dtype=FLOAT)
    offers[0, 0, 0] = 1.0  # p to a (GDP 10bn): 0.6bn base share and 0.4bn premium
    premiums = np.zeros_like(offers)
    premiums[0, 0, 0] = 0.4
    w = tiny_world
    sec = w.security_poles
    in_bloc = np.array([[0, -1, -1]])
    bloc, union = kernels.inducement_terms(
        w.state, w.pair, offers, premiums, CREDIBILITY, in_bloc, OPEN, ALL, sec
    )
    # a keeps the base share through p's bloc: its economic choice counts the premium only
    assert_close(table(union)[0], [0.5 * math.log1p(0.4), 0.0, 0.0])
    # its security choice (outside p's union) counts the base share only
    assert_close(table(bloc)[0], [0.5 * math.log1p(0.6), 0.0])
    # outside p's bloc the economic choice counts the whole offer
    _, union_out = kernels.inducement_terms(
        w.state, w.pair, offers, premiums, CREDIBILITY, OUTSIDE, OPEN, ALL, sec
    )
    assert_close(table(union_out)[0], [0.5 * math.log(2.0), 0.0, 0.0])


def test_spending_premiums_are_the_leverage_part_of_the_offers(tiny_world: World) -> None:
    """Offers are base * (member + leverage * swing) at one scale; the premiums are the
    base * leverage * swing part of them, and no more."""
    w = tiny_world
    _, pole, pair = w.params_for_tick(1)
    members = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=FLOAT)
    margins = np.array([[[math.log(3), 20.0, -math.log(9)], [5.0, 5.0, 5.0]]], dtype=FLOAT)
    offers, premiums = kernels.spending(pole, pair, members, margins, 1.0, ALL)
    assert (premiums >= 0).all() and (premiums <= offers + 1e-7).all()
    # p (leverage 1): a is a member at swing 0.75, c an outsider at 0.36, b far out
    swing = np.array([0.75, swing_by_hand(1.0, 20.0), 0.36])
    base = pair.focus[0] * pair.proximity[0]
    weight = base * (members[0, 0] + swing)
    scale = pole.budget_bn[0] / max(base.sum(), weight.sum())
    assert_close(offers[0, 0], scale * weight)
    assert_close(premiums[0, 0], scale * base * swing)
    np.testing.assert_array_equal(premiums[0, 1], 0.0)  # q has no leverage


def test_a_pledge_pays_for_the_poles_union_and_for_staying_out(tiny_world: World) -> None:
    # q pledges 0.5bn to a (GDP 10bn, 5% of GDP) on top of its 0.5bn offer; p offers 1bn
    offers = np.zeros((1, 2, 3), dtype=FLOAT)
    offers[0, 0, 0], offers[0, 1, 0] = 1.0, 0.5
    pledge = np.zeros((2, 3))
    pledge[1, 0] = 0.5
    pair = replace(tiny_world.pair, pledge_bn=pledge.astype(FLOAT))
    sec = tiny_world.security_poles
    bloc, union = kernels.inducement_terms(
        tiny_world.state, pair, offers, np.zeros_like(offers), CREDIBILITY, OUTSIDE, OPEN, ALL, sec
    )
    got = table(union)
    # q's union: offer and pledge, 10% of GDP, at q's credibility 1.0; open: the pledge alone
    assert_close(got[0], [0.5 * math.log(2.0), 1.0 * math.log(2.0), 1.0 * math.log1p(0.5)])
    np.testing.assert_array_equal(got[1:], 0.0)  # nobody pledged b or c anything
    # the pledge is economic only: p's bloc counts p's offer, and nothing of q's
    assert_close(table(bloc)[0], [0.5 * math.log(2.0), 0.0])


def test_remittances_and_transit(tiny_world: World) -> None:
    w = tiny_world
    remit = kernels.remittance_term(w.state, w.pair, ALL)
    assert_close(table(remit), [[0.2, 0.0, 0.0], [0.0, 0.0, 0.0], [0.05, 0.05, 0.0]])
    transit = kernels.transit_term(w.pair, ALL)
    assert_close(table(transit), [[0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])


def test_a_union_secures_remittances_only_once_its_labour_market_is_open(
    tiny_world: World,
) -> None:
    """Before p's labour market opens, no union is worth any remittances to a or c (their
    migrants work in p either way), q's still is; economic coercion still reads the
    remittances as dependence (a gain would be lost, not a door closed)."""
    w = tiny_world
    assert w.pair.labour_open.min() == 1.0  # the tiny world's labour markets are open
    labour_open = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=FLOAT)  # p's not yet
    closed = replace(w.pair, labour_open=labour_open)
    remit = kernels.remittance_term(w.state, closed, ALL)
    assert_close(table(remit), [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.05, 0.0]])
    np.testing.assert_array_equal(
        kernels.dependence(w.state, closed, ALL), kernels.dependence(w.state, w.pair, ALL)
    )


def test_dependence_and_economic_coercion(tiny_world: World) -> None:
    w = tiny_world
    exposure = kernels.dependence(w.state, w.pair, ALL)
    # min(1, trade + transit + remittances from the pole): a on p 0.4 + 0.5 + 0.2
    assert_close(exposure, [[1.0, 0.1], [0.1, 1.0], [0.25 + 0.05, 0.25 + 0.05]])
    got = kernels.economic_coercion_term(w.pole, w.pair, exposure, w.rivalry, ALL)
    # joining q's union provokes p (rivalry 1, coercion 0.5); joining p provokes nobody
    assert_close(table(got)[:, 1], [-0.5, -0.05, -0.15])
    np.testing.assert_array_equal(table(got)[:, [0, 2]], 0.0)


def test_an_economic_punishment_raises_the_economic_threat_not_the_military(
    tiny_world: World,
) -> None:
    w = tiny_world
    exposure = kernels.dependence(w.state, w.pair, ALL)
    doubled = np.array([[1.0, 2.0, 1.0], [1.0, 1.0, 1.0]])  # p's on b
    punished = replace(w.pair, economic_pressure=doubled)
    escalated = replace(w.pair, pressure=doubled)
    base = table(kernels.economic_coercion_term(w.pole, w.pair, exposure, w.rivalry, ALL))
    # b joining q's union: p's coercion 0.5 x pressure x b's dependence on p 0.1
    for pair in (punished, escalated):
        got = table(kernels.economic_coercion_term(w.pole, pair, exposure, w.rivalry, ALL))
        assert_close(got[:, 1], [-0.5, -0.1, -0.15])
        np.testing.assert_array_equal(got[[0, 2]], base[[0, 2]])
    threat = kernels.threat_from_poles(w.pole, w.pair, ALL)
    np.testing.assert_array_equal(kernels.threat_from_poles(w.pole, punished, ALL), threat)
    assert_close(kernels.threat_from_poles(w.pole, escalated, A)[0], [0.5, FAR, 0.5 * MID])


# --- composition -----------------------------------------------------------------------


def test_utility_terms_of_a_by_hand(tiny_world: World) -> None:
    w = tiny_world
    snap = start_snapshot(w)
    dynamics = Dynamics(switching_cost=0.5, economic_switching_cost=0.25)
    terms = kernels.utility_terms(
        snap,
        w.state,
        w.pole,
        w.pair,
        w.affinity,
        w.rivalry,
        w.security_poles,
        unit_weights(),
        dynamics,
        0.0,
        A,
    )
    assert tuple(terms.security) == kernels.SECURITY_TERMS
    assert tuple(terms.economy) == kernels.ECONOMIC_TERMS
    security = {  # options p, none
        "protection": [0.5, 0.0],
        "coercion": [0.0, 0.0],
        "stance": [0.0, 0.0],
        "grievance": [0.0, 0.0],
        "regime_security": [0.0, 0.0],
        "soft_power": [0.5, 0.0],
        "inducements": [0.0, 0.0],  # a is in p's union: it keeps p's offer in any bloc
        "conditionality": [0.0, 0.0],
        "autonomy": [0.0, 0.0],
        "peer": [0.0, -0.5],
        "switching": [0.0, -0.5],
    }
    # p offers a (its only member) its envelope share, and a keeps it through its bloc
    # whatever its economy: no economic option gains or loses it
    economy = {  # options p, q, open
        "trade": [0.1, -0.3, 0.0],  # p's credibility 0.5 halves a's gain on its trade with p
        "inducements": [0.0, 0.0, 0.0],
        "remittances": [0.2, 0.0, 0.0],
        "transit": [0.5, 0.0, 0.0],
        "economic_coercion": [0.0, -0.5, 0.0],
        "regime_security": [0.0, 0.0, 0.0],  # no regime is insecure
        "conditionality": [0.0, -1.0, 0.0],
        "autonomy": [0.0, 0.0, 0.0],
        "switching": [0.0, -0.25, -0.25],
    }
    for name, values in security.items():
        assert_close(table(terms.security[name]), [values], err_msg=name)
    for name, values in economy.items():
        assert_close(table(terms.economy[name]), [values], err_msg=name)
    u_sec, u_econ = terms.utilities()
    assert_close(u_sec.reshape(-1), [1.0, -1.0])
    assert_close(u_econ.reshape(-1), [0.8, -2.05, -0.25])


def test_weights_scale_their_terms(tiny_world: World) -> None:
    w = tiny_world
    snap = start_snapshot(w)

    def terms(weights: UtilityWeights) -> kernels.Terms:
        return kernels.utility_terms(
            snap,
            w.state,
            w.pole,
            w.pair,
            w.affinity,
            w.rivalry,
            w.security_poles,
            weights,
            Dynamics(),
            0.0,
            ALL,
        )

    one = terms(unit_weights())
    more = terms(UtilityWeights(**{f.name: 2.5 for f in fields(UtilityWeights)}))
    for part in ("security", "economy"):
        for name, value in getattr(one, part).items():
            factor = 1.0 if name == "switching" else 2.5  # switching has its cost, no weight
            assert_close(getattr(more, part)[name], factor * value, err_msg=f"{part} {name}")


def full_terms(security: dict, economy: dict) -> kernels.Terms:
    """A Terms with every named term: the given ones, zeros for the rest."""
    zero_s, zero_e = np.zeros((1, 1, 2)), np.zeros((1, 1, 3))
    return kernels.Terms(
        {name: np.asarray(security.get(name, zero_s)) for name in kernels.SECURITY_TERMS},
        {name: np.asarray(economy.get(name, zero_e)) for name in kernels.ECONOMIC_TERMS},
    )


def test_terms_utilities_and_on_profiles(tiny_world: World) -> None:
    terms = full_terms(
        {
            "protection": [[[1.0, 0.0]]],
            "conditionality": [[[-0.5, 0.0]]],
            "autonomy": [[[0.0, 0.25]]],
        },
        {
            "trade": [[[0.3, -0.3, 0.0]]],
            "conditionality": [[[0.0, -1.0, 0.0]]],
            "autonomy": [[[0.0, 0.0, 0.5]]],
        },
    )
    u_sec, u_econ = terms.utilities()
    assert_close(u_sec, [[[0.5, 0.25]]])
    assert_close(u_econ, [[[0.3, -1.3, 0.5]]])
    space = tiny_world.space  # profiles p/p, p/q, p/open, none/p, none/q, none/open
    on = terms.on_profiles(space.profile_security, space.profile_economy)
    assert tuple(on) == kernels.TERMS
    assert_close(on["protection"], [[[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]])
    assert_close(on["trade"], [[[0.3, -0.3, 0.0, 0.3, -0.3, 0.0]]])
    # a term of both dimensions: its security part plus its economic part
    assert_close(on["conditionality"], [[[-0.5, -1.5, -0.5, 0.0, -1.0, 0.0]]])
    assert_close(on["autonomy"], [[[0.0, 0.0, 0.5, 0.25, 0.25, 0.75]]])
    np.testing.assert_array_equal(on["peer"], 0.0)
    total = sum(on[name] for name in kernels.TERMS)
    utility = kernels.profile_utility(u_sec, u_econ, space.profile_security, space.profile_economy)
    assert_close(total, utility)


def test_on_profiles_of_the_model_terms(tiny_world: World) -> None:
    w = tiny_world
    terms = kernels.utility_terms(
        start_snapshot(w),
        w.state,
        w.pole,
        w.pair,
        w.affinity,
        w.rivalry,
        w.security_poles,
        UtilityWeights(),
        Dynamics(),
        0.0,
        ALL,
    )
    space = w.space
    on = terms.on_profiles(space.profile_security, space.profile_economy)
    for k in range(len(space.profiles)):
        s, e = space.profile_security[k], space.profile_economy[k]
        for name in kernels.TERMS:
            parts = [
                part[name][..., j]
                for part, j in ((terms.security, s), (terms.economy, e))
                if name in part
            ]
            expected = parts[0] if len(parts) == 1 else parts[0] + parts[1]
            np.testing.assert_array_equal(on[name][..., k], expected, err_msg=name)


def test_profile_utility_adds_the_two_choices() -> None:
    security = np.array([[[0.5, 0.25]]])
    economy = np.array([[[0.3, -1.3, 0.5]]])
    got = kernels.profile_utility(
        security, economy, np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 2, 0, 1, 2])
    )
    assert_close(got, [[[0.8, -0.8, 1.0, 0.55, -1.05, 0.75]]])


# --- decisions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utility", "current", "expected"),
    [([1.0, 2.0, 2.0], 2, 2), ([1.0, 2.0, 2.0], 0, 1), ([3.0, 2.0, 1.0], 2, 0)],
)
def test_best_response_stays_on_ties(utility: list[float], current: int, expected: int) -> None:
    u = np.array([[utility]])
    got = kernels.choose(u, np.array([[current]]), np.zeros_like(u), "best_response", 1.0)
    assert got[0, 0] == expected


def test_logit_is_gumbel_argmax_and_matches_probabilities() -> None:
    u = np.zeros((1, 1, 3))
    gumbel = np.array([[[0.1, 0.5, 0.2]]])
    assert kernels.choose(u, np.array([[0]]), gumbel, "logit", 1.0)[0, 0] == 1
    utility = np.array([0.0, 0.5, 1.0])
    rng = np.random.default_rng(0)
    runs = 200_000
    draws = kernels.gumbel_from_uniform(rng.random((runs, 1, 3), dtype=np.float32))
    picks = kernels.choose(
        np.broadcast_to(utility, (runs, 1, 3)),
        np.zeros((runs, 1), dtype=np.int64),
        draws,
        "logit",
        2.0,
    )
    freq = np.bincount(picks[:, 0], minlength=3) / runs
    expected = np.exp(2 * utility) / np.exp(2 * utility).sum()
    assert_close(freq, expected, atol=0.005)
    assert_close(kernels.choice_probabilities(utility, 2.0), expected)
    assert_close(kernels.choice_probabilities(utility, 2.0).sum(), 1.0)


def test_gumbel_from_uniform() -> None:
    got = kernels.gumbel_from_uniform(np.array([math.exp(-1.0), 0.5], dtype=np.float32))
    assert got.dtype == np.float32
    assert_close(got, [0.0, -math.log(math.log(2.0))])


def test_sum_last_axis_is_order_fixed() -> None:
    x = np.array([[1e16, 1.0, -1e16]])
    assert kernels.sum_last_axis(x)[0] == (1e16 + 1.0) - 1e16
