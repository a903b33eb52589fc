"""Pure kernels: every utility term, the spending rule and the decision rules.

All functions work on arrays with a leading batch axis R (replications or parameter
points) and are elementwise in it, so the Mesa model (R = 1, one agent's row at a time)
and the batched engine (R in the thousands, all rows at once) run the same code and get
bit-identical numbers. Shapes: N choosers, B poles, K = B + 1 options (the blocs, then
``hedge``); ``n`` is the number of chooser rows being evaluated (N, or 1 for an agent).

Sums over choosers are written as loops in a fixed order (``sum_last_axis``), and the
peer sum is exact (affinities sit on a 1/16 grid), so results never depend on the batch
size or on how numpy blocks a reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from alignment_sim.world import PairParams, PoleParams, StateParams

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Scalar = Any  # float, or an array broadcasting as (R, 1, 1) for per-point parameters

TERM_FAMILIES: dict[str, str] = {
    # terms that depend on parameters only (events change them) come first ...
    "trade": "economic",
    "remittances": "economic",
    "transit": "economic",
    "grievance": "security",
    "conditionality": "regime",
    "regime_security": "regime",
    "autonomy": "regime",
    "soft_power": "soft_power",
    # ... then the terms that move with the state of the world every tick
    "protection": "security",
    "coercion": "security",
    "stance": "security",
    "inducements": "economic",
    "peer": "dynamics",
    "switching": "dynamics",
}
TERMS: tuple[str, ...] = tuple(TERM_FAMILIES)
SECURITY_TERMS: tuple[str, ...] = ("protection", "coercion", "grievance", "stance", "switching")
EPS = 1e-12


def sum_last_axis(x: FloatArray) -> FloatArray:
    """Sum over the last axis in a fixed left-to-right order (bit-stable for any batch)."""
    total = x[..., 0].copy()
    for j in range(1, x.shape[-1]):
        total += x[..., j]
    return total


def pair_rows(pair: FloatArray, rows: slice) -> FloatArray:
    """A (..., B, N) pair table as (..., n, B) for the chooser rows ``rows``."""
    return np.ascontiguousarray(np.swapaxes(pair[..., rows], -1, -2))


def state_rows(values: FloatArray, rows: slice) -> FloatArray:
    """A (..., N) state table as (..., n, 1), ready to broadcast against blocs."""
    return np.ascontiguousarray(values[..., rows])[..., None]


def with_hedge(bloc_values: FloatArray, hedge_value: FloatArray) -> FloatArray:
    """Append the hedge option: (..., n, B) and (..., n) -> (..., n, K)."""
    shape = bloc_values.shape[:-1]
    if hedge_value.shape != shape:
        shape = np.broadcast_shapes(shape, hedge_value.shape)
    out = np.empty((*shape, bloc_values.shape[-1] + 1))
    out[..., :-1] = bloc_values
    out[..., -1] = hedge_value
    return out


class Part(NamedTuple):
    """A term's value for each bloc, (..., n, B), and for hedging, (..., n).

    Kept apart because joining them into (..., n, K) costs more than the arithmetic;
    ``joined`` does it where a term is shown (explanations, full records).
    """

    blocs: FloatArray
    hedge: FloatArray

    def joined(self) -> FloatArray:
        """The term for every option, (..., n, K)."""
        return with_hedge(self.blocs, self.hedge)

    def scaled(self, weight: Scalar) -> Part:
        return Part(weight * self.blocs, hedge_weight(weight) * self.hedge)


def hedge_weight(weight: Scalar) -> Scalar:
    """A weight shaped (R, 1, 1) for (..., n, B) arrays, reshaped for (..., n) ones."""
    return weight[..., 0] if isinstance(weight, np.ndarray) and weight.ndim == 3 else weight


def hedge_share_of(bloc_values: FloatArray, hedge_access: Scalar) -> Part:
    """A hedger's value: ``hedge_access`` times the sum of what each bloc offers.

    Hedging (the multi-vector policy of Belarus, 003; Uzbekistan, 000; Central Asia,
    001) gives partial access to every bloc's benefits without full membership.
    """
    return Part(bloc_values, hedge_access * sum_last_axis(bloc_values))


# --- security -------------------------------------------------------------------------


def menace(pole: PoleParams, pair: PairParams, defection: FloatArray, poles: slice) -> FloatArray:
    """Coercive threat each pole poses to each chooser, (R, B, N), in [0, ~2].

    coercion_p * military_weight_p * proximity_pi * pressure_pi * (1 + escalation_p *
    defection_pi): power and proximity ("a most rigid response", 003; GUAM intimidated
    by Russia's military machine, 001), raised against states that left the pole's bloc.
    """
    scale = (pole.coercion * pole.military_weight)[..., poles, None]
    escalation = pole.escalation[..., poles, None]
    return (
        scale
        * pair.proximity[..., poles, :]
        * pair.pressure[..., poles, :]
        * (1.0 + escalation * defection[..., poles, :])
    )


def protection_term(
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    credibility: FloatArray,
    rows: slice,
    hedge_access: Scalar,
) -> Part:
    """Protection a bloc offers against the threats a chooser faces, (R, n, K), >= 0.

    In [0, 1] for configured exposures; events such as a terror surge can push the
    exposure, and so the protection sought, above 1.

    threat_exposure_i * credibility_b * military_weight_b * min(1, proximity + presence):
    the CSTO rapid reaction forces and Russian bases against terrorism from Afghanistan
    and frozen conflicts (000, 001, 004).
    """
    reach = np.minimum(1.0, pair_rows(pair.proximity, rows) + pair_rows(pair.presence, rows))
    value = (
        state_rows(state.threat_exposure, rows)
        * (credibility * pole.military_weight)[..., None, :]
        * reach
    )
    return hedge_share_of(value, hedge_access)


def coercion_term(threat_rows: FloatArray, hedge_provocation: Scalar) -> Part:
    """Minus the threat from the other poles if the chooser aligns with each option.

    Aligning with bloc b provokes every other pole: -(sum_p menace_p - menace_b). A
    hedger provokes all of them a little: -hedge_provocation * sum_p menace_p.
    ``threat_rows`` is the menace as (R, n, B) (``pair_rows(threat, rows)``).
    """
    per_pole = threat_rows
    total = sum_last_axis(per_pole)
    return Part(per_pole - total[..., None], -hedge_provocation * total)


def grievance_term(pair: PairParams, rows: slice, hedge_access: Scalar) -> Part:
    """Minus the grievance against a pole whose forces hold the chooser's territory
    without consent, (R, n, K) in [-1, 0]: Transnistria, Abkhazia and South Ossetia,
    Crimea (001 on CIS "peacekeeping" in these zones; data field
    russian_troops_without_host_consent). A hedger carries ``hedge_access`` of it.
    """
    return hedge_share_of(-pair_rows(pair.grievance, rows), hedge_access)


def bloc_power(pole: PoleParams, state: StateParams, onehot: FloatArray) -> FloatArray:
    """Regional power of each bloc, (R, B): its leader's committed capability
    (CINC * military_weight) plus the CINC of its current members."""
    power = np.broadcast_to(
        pole.capability * pole.military_weight, (*onehot.shape[:-2], pole.capability.shape[-1])
    ).copy()
    n_poles = power.shape[-1]
    for j in range(onehot.shape[-2]):
        power += state.capability[..., j, None] * onehot[..., j, :n_poles]
    return power


def stance_term(power: FloatArray, threat_rows: FloatArray, stance: Scalar) -> Part:
    """Balancing vs bandwagoning, (R, n, K) in [0, 1].

    With s = stance in [-1, 1]: (1 - s)/2 * power_share_b (bandwagoning: join the
    strongest side) + (1 + s)/2 * (1 - threat_share_b) * power_share_b (balancing: join
    the side that can offset the biggest threat). Morgenthau (004), Hurrell and
    Soderbaum (001). A hedger joins no side: 0.
    """
    share = power / sum_last_axis(power)[..., None]
    per_pole = threat_rows
    threat_share = per_pole / np.maximum(sum_last_axis(per_pole), EPS)[..., None]
    bandwagon = (1.0 - stance) / 2.0
    balance = (1.0 + stance) / 2.0
    value = share[..., None, :] * (bandwagon + balance * (1.0 - threat_share))
    return Part(value, np.zeros(value.shape[:-1]))


# --- economic -------------------------------------------------------------------------


def trade_term(pole: PoleParams, pair: PairParams, rows: slice, hedge_access: Scalar) -> Part:
    """Trade dependence on each bloc, (R, n, K) in [0, 1]: trade_share * trade_factor.

    Russia is 45-50% of Belarus's trade (003); EAEU trade fell 25% in 2015 (002), which
    events represent as a trade_factor of 0.75.
    """
    value = pair_rows(pair.trade_share, rows) * pole.trade_factor[..., None, :]
    return hedge_share_of(value, hedge_access)


def inducement_term(
    state: StateParams,
    offers: FloatArray,
    credibility: FloatArray,
    rows: slice,
    hedge_access: Scalar,
) -> Part:
    """Inducements on offer, credibility-discounted, (R, n, K): credibility_b *
    log(1 + offer as % of GDP).

    Loans, subsidies and debt swaps (China's US$10bn and 12bn loans, 001; the US$10bn
    plant loan, 003; the IMF's up to US$3bn, 003; debt-for-assets, 004) matter relative
    to the economy that receives them; the log saturates large offers. It is taken in
    single precision (SIMD, several times faster than double; ample for a utility).
    """
    percent = 100.0 * pair_rows(offers, rows) / state_rows(state.gdp_bn, rows)
    saturated = np.log(1.0 + percent.astype(np.float32)).astype(np.float64)
    value = credibility[..., None, :] * saturated
    return hedge_share_of(value, hedge_access)


def remittance_term(
    state: StateParams, pair: PairParams, rows: slice, hedge_access: Scalar
) -> Part:
    """Remittances from each bloc as a fraction of GDP, (R, n, K): labour migration to
    Russia (004, lever 11) ties Central Asia's households to it."""
    value = state_rows(state.remittances, rows) * pair_rows(pair.remittance_origin, rows)
    return hedge_share_of(value, hedge_access)


def transit_term(pair: PairParams, rows: slice, hedge_access: Scalar) -> Part:
    """Dependence on each bloc's pipelines and transit routes, (R, n, K) in [0, 1]
    (pipelines in Belarus, 003; gas routes of Central Asia, 001)."""
    return hedge_share_of(pair_rows(pair.transit, rows), hedge_access)


# --- regime stability -----------------------------------------------------------------


def conditionality_term(
    state: StateParams, pair: PairParams, rows: slice, hedge_access: Scalar
) -> Part:
    """Minus the pole's conditionality times the chooser's autocracy, (R, n, K) in [-1, 0].

    Western aid conditional on reform threatens incumbents (Powell's message to
    Uzbekistan, 004; sanctions as a "down payment", 003); Russia and China ask nothing.
    """
    value = -pair_rows(pair.conditionality, rows) * state_rows(state.autocracy, rows)
    return hedge_share_of(value, hedge_access)


def regime_security_term(
    state: StateParams, pole: PoleParams, rows: slice, hedge_access: Scalar
) -> Part:
    """Regime self-preservation and status, (R, n, K) in [0, ~2]: regime_support_b *
    autocracy_i * (1 + regime_insecurity_i).

    Regionalism helps "self-preservation of the otherwise vulnerable regimes" (001);
    "the key value for their elites is the stability of their regimes" (002). Colour
    revolutions and successions raise the insecurity that makes this term bite.
    """
    insecure = state_rows(state.autocracy, rows) * (1.0 + state_rows(state.regime_insecurity, rows))
    value = insecure * pole.regime_support[..., None, :]
    return hedge_share_of(value, hedge_access)


def autonomy_term(state: StateParams, rows: slice, n_poles: int) -> Part:
    """The value of belonging to no bloc, for the hedge option only, (R, n, K) in [0, 1].

    Turkmenistan's permanent neutrality (data), Uzbekistan's "political maneuvering"
    (000), the "multi-vector" credo of Minsk (003): status and sovereignty (001).
    """
    value = state_rows(state.autonomy, rows)
    return Part(np.zeros((*value.shape[:-1], n_poles)), value[..., 0])


# --- soft power -----------------------------------------------------------------------


def soft_power_term(
    pole: PoleParams, pair: PairParams, years: float, rows: slice, hedge_access: Scalar
) -> Part:
    """Soft power, (R, n, K) in [0, 1]: soft_power_b * ties_bi * exp(-fade_b * years).

    Common information space, the Russian diaspora and pro-Russian elites that fade as
    generations change ("the new generation is looking to the West", 004).
    """
    fade = np.exp(-pole.soft_power_fade * years)
    value = (pole.soft_power * fade)[..., None, :] * pair_rows(pair.ties, rows)
    return hedge_share_of(value, hedge_access)


# --- dynamics -------------------------------------------------------------------------


def peer_term(affinity: FloatArray, onehot: FloatArray, rows: slice) -> Part:
    """Peer effects, (R, n, K): sum_j affinity_ij * [j chose option k].

    Enmity between Armenia and Azerbaijan (002) and Central Asian rivalries (000) push a
    state away from its rival's choice; friendships pull together (domino effects, 002).
    Exact in floating point because affinities are multiples of 1/16, so one matrix
    product over the whole batch gives the same numbers as an agent's own row.
    """
    R, N, K = onehot.shape
    by_option = np.swapaxes(onehot, -1, -2).reshape(R * K, N)
    peers = by_option @ affinity[rows].T
    joined = np.swapaxes(peers.reshape(R, K, -1), -1, -2)
    return Part(joined[..., :-1], joined[..., -1])


def switching_cost_matrix(n_options: int, hedge_fraction: float) -> FloatArray:
    """Cost of moving from option a (row) to b (column), in units of switching_cost.

    Bloc to bloc costs 1 ("a dramatic change of foreign policy orientation is fraught
    with serious potential crises", 002); to or from hedging costs ``hedge_fraction``.
    """
    cost = np.ones((n_options, n_options))
    cost[-1, :] = hedge_fraction
    cost[:, -1] = hedge_fraction
    np.fill_diagonal(cost, 0.0)
    return cost


def switching_term(current: IntArray, cost_matrix: FloatArray) -> Part:
    """Minus the cost of moving from the current option to each option, (R, n, K)."""
    joined = -np.take(cost_matrix, current, axis=0)
    return Part(joined[..., :-1], joined[..., -1])


# --- composition ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What every chooser sees at the start of a tick (all decide from the same one).

    alignment: (R, N) option index; onehot: (R, N, K); power: (R, B) bloc power;
    threat: (R, B, N) menace; offers: (R, B, N) US$ bn a year; credibility: (R, B).
    """

    alignment: IntArray
    onehot: FloatArray
    power: FloatArray
    threat: FloatArray
    offers: FloatArray
    credibility: FloatArray
    years: float


def utility_terms(
    snap: Snapshot,
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    affinity: FloatArray,
    weights: Any,
    dynamics: Any,
    stance: Scalar,
    cost_matrix: FloatArray,
    rows: slice,
) -> dict[str, Part]:
    """Every named utility term, weighted, for the chooser rows ``rows``.

    Each term is a ``Part``: its value for each bloc and for hedging; ``Part.joined``
    gives it for every option, (R, n, K). Terms that depend on parameters only keep their
    natural shape (no batch axis unless the parameters have one) and broadcast against
    the others. The terms add up to the utility of each option. ``weights`` is a
    UtilityWeights and ``dynamics`` a Dynamics (floats, or arrays over runs in a batch of
    parameter points, see ``points.py``).
    """
    access = dynamics.hedge_access
    current = snap.alignment[..., rows]
    threat_rows = pair_rows(snap.threat, rows)
    n_poles = pole.budget_bn.shape[-1]
    return {
        "protection": protection_term(state, pole, pair, snap.credibility, rows, access).scaled(
            weights.protection
        ),
        "coercion": coercion_term(threat_rows, dynamics.hedge_provocation).scaled(weights.coercion),
        "grievance": grievance_term(pair, rows, access).scaled(weights.grievance),
        "stance": stance_term(snap.power, threat_rows, stance).scaled(weights.stance),
        "trade": trade_term(pole, pair, rows, access).scaled(weights.trade),
        "inducements": inducement_term(state, snap.offers, snap.credibility, rows, access).scaled(
            weights.inducements
        ),
        "remittances": remittance_term(state, pair, rows, access).scaled(weights.remittances),
        "transit": transit_term(pair, rows, access).scaled(weights.transit),
        "conditionality": conditionality_term(state, pair, rows, access).scaled(
            weights.conditionality
        ),
        "regime_security": regime_security_term(state, pole, rows, access).scaled(
            weights.regime_security
        ),
        "autonomy": autonomy_term(state, rows, n_poles).scaled(weights.autonomy),
        "soft_power": soft_power_term(pole, pair, snap.years, rows, access).scaled(
            weights.soft_power
        ),
        "peer": peer_term(affinity, snap.onehot, rows).scaled(weights.peer),
        "switching": switching_term(current, cost_matrix).scaled(dynamics.switching_cost),
    }


def total_utility(terms: dict[str, Part], names: tuple[str, ...] = TERMS) -> FloatArray:
    """Sum of the named terms for every option, (R, n, K), left to right in ``TERMS`` order.

    Each element gets the same additions in the same order whatever the batch size:
    terms are added at their own shape (parameter-only terms first, before anything has a
    batch axis), blocs and hedging apart, and joined once at the end.
    """
    blocs = np.asarray(terms[names[0]].blocs)
    hedge = np.asarray(terms[names[0]].hedge)
    for name in names[1:]:
        blocs = blocs + terms[name].blocs
        hedge = hedge + terms[name].hedge
    return with_hedge(blocs, hedge)


# --- poles ----------------------------------------------------------------------------


def bloc_margins(utility: FloatArray, n_poles: int) -> FloatArray:
    """Margin of each bloc over the chooser's best alternative, (R, B, N).

    U_b - max_{k != b} U_k from last tick's utilities (R, N, K): near zero, the chooser
    is pivotal or wavering for that bloc (``spending_offers`` turns it into leverage).
    """
    n_options = utility.shape[-1]
    margins = np.empty((*utility.shape[:-2], n_poles, utility.shape[-2]))
    for b in range(n_poles):
        others = [k for k in range(n_options) if k != b]
        best_other = utility[..., others[0]].copy()
        for k in others[1:]:
            np.maximum(best_other, utility[..., k], out=best_other)
        margins[..., b, :] = utility[..., b] - best_other
    return margins


def spending_offers(
    pole: PoleParams,
    pair: PairParams,
    state: StateParams,
    margins: FloatArray,
    margin_scale: Scalar,
    poles: slice,
) -> FloatArray:
    """Each pole's offer to each chooser, US$ bn a year, (R, b, N) for pole rows ``poles``.

    A pole splits its budget in proportion to focus * proximity * (1 + leverage *
    wavering), wavering = 1 / (1 + |margin| / margin_scale): the leverage of the weak
    -- pivotal or wavering states extract larger inducements (Belarus and Armenia, 000,
    002). A pole with proportional spending ignores wavering.
    """
    leverage = (pole.leverage * (1.0 - pole.proportional_spending))[..., poles, None]
    swing = 1.0 / (1.0 + np.abs(margins[..., poles, :]) / margin_scale)
    weight = pair.focus[..., poles, :] * pair.proximity[..., poles, :] * (1.0 + leverage * swing)
    share = weight / np.maximum(sum_last_axis(weight), EPS)[..., None]
    return pole.budget_bn[..., poles, None] * share


def next_credibility(credibility: FloatArray, target: FloatArray, recovery: Scalar) -> FloatArray:
    """Credibility moves toward its (event-adjusted) target by ``recovery`` per tick:
    trust lost to inconsistency returns slowly (000, 003)."""
    return credibility + recovery * (target - credibility)


def next_defection(
    defection: FloatArray,
    before: IntArray,
    after: IntArray,
    pole: int,
    hedge_option: int,
    decay: Scalar,
    hedge_fraction: Scalar,
) -> FloatArray:
    """One pole's memory, (R, N), of choosers leaving its bloc: +1 for a move to a rival
    bloc, +hedge_fraction for a move to hedging, decaying by ``decay`` per tick."""
    left = (before == pole) & (after != pole)
    jump = np.where(after == hedge_option, hedge_fraction, 1.0)
    return (1.0 - decay) * defection + np.where(left, jump, 0.0)


# --- decisions ------------------------------------------------------------------------


def gumbel_from_uniform(u: Any) -> FloatArray:
    """Standard Gumbel noise, float32, from float32 uniforms in [0, 1): -log(-log(u)).

    Single precision is ample for noise and several times faster; the tail is cut at
    about 16.6 (u = 1 - 2**-24), and u = 0 gives -inf (that option is not picked).
    """
    with np.errstate(divide="ignore"):
        return np.asarray(-np.log(-np.log(np.ascontiguousarray(u, dtype=np.float32))))


def choose(
    utility: FloatArray,
    security: FloatArray,
    current: IntArray,
    gumbel: FloatArray,
    rule: str,
    rationality: Scalar,
) -> IntArray:
    """The option each chooser picks, (R, n), from utilities (R, n, K).

    best_response: argmax of utility, staying put on ties. logit: argmax of
    rationality * U + Gumbel noise, i.e. P(k) = softmax(rationality * U)_k (quantal
    response). balancing / bandwagoning: the best response to the security terms alone
    (the caller computes them with the stance forced to +1 / -1).
    """
    if rule == "logit":
        return np.asarray(np.argmax(rationality * utility + gumbel, axis=-1), dtype=np.int64)
    score = security if rule in ("balancing", "bandwagoning") else utility
    best = np.argmax(score, axis=-1)
    stay = np.take_along_axis(score, current[..., None], axis=-1)[..., 0] >= score.max(axis=-1)
    return np.asarray(np.where(stay, current, best), dtype=np.int64)


def choice_probabilities(utility: FloatArray, rationality: float) -> FloatArray:
    """Logit (quantal response) probabilities of each option, (..., K); sums to one."""
    scaled = rationality * utility
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return np.asarray(weights / weights.sum(axis=-1, keepdims=True))
