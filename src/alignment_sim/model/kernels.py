"""Pure kernels: every utility term, the spending rule and the decision rules.

All functions work on arrays with a leading batch axis R (replications or parameter
points) and are elementwise in it, so the Mesa model (R = 1, one agent's row at a time)
and the batched engine (R in the thousands, all rows at once) run the same code and get
bit-identical numbers. Shapes: N choosers, B poles, K = B + 1 options (the blocs, then
``hedge``); ``n`` is the number of chooser rows being evaluated (N, or 1 for an agent).

Sums over choosers are written as loops in a fixed order (``sum_last_axis``), and the
peer and bloc-power sums are exact (affinities sit on a 1/16 grid; capabilities are
summed in double precision on a 2**-48 grid), so results never depend on the batch size
or on how numpy blocks a reduction. The model's numbers are single precision
(``world.FLOAT``).

Memory layout: the engine keeps its batch arrays in Fortran order (the run axis varies
fastest), so every elementwise operation, broadcasts over a run's poles or choosers
included, runs as long loops over runs rather than loops of 3 or 4 elements. The kernels
preserve the layout of their inputs (``order="K"``, views instead of C copies) and
allocate batch arrays in Fortran order (``batch_empty``, ``order="F"`` where a broadcast
leaves numpy a choice); for one run (the Mesa model) the two layouts are the same.
Layout never changes a number.

The terms that move every tick take their weight and fold it into their smallest factor
(a per-run or per-pole array), which saves a pass over the (run, state, option) arrays;
``OptionValues.scaled`` weights the others.

Docstrings cite the source texts by number: 000 Lukyanov (2009), 001 Molchanov (2012),
002 Bolgova (2016), 003 Sutyrin (2015), 004 Rashidov (c. 2004); full references in
docs/REFERENCES.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from alignment_sim.model.world import FLOAT, PairParams, PoleParams, StateParams

FloatArray = NDArray[np.floating[Any]]
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
    total = np.array(x[..., 0], order="K")
    for j in range(1, x.shape[-1]):
        total += x[..., j]
    return total


def pair_rows(pair: FloatArray, rows: slice) -> FloatArray:
    """A (..., B, N) pair table as (..., n, B) for the chooser rows ``rows`` (a view)."""
    return np.swapaxes(pair[..., rows], -1, -2)


def state_rows(values: FloatArray, rows: slice) -> FloatArray:
    """A (..., N) state table as (..., n, 1), ready to broadcast against blocs (a view)."""
    return values[..., rows, None]


def batch_empty(shape: tuple[int, ...], dtype: Any = FLOAT) -> FloatArray:
    """An empty array of ``shape`` in Fortran order (the run axis fastest)."""
    return np.empty(shape, dtype=dtype, order="F")


def product(*factors: Any) -> FloatArray:
    """factors[0] * factors[1] * ..., left to right, in Fortran order: for broadcasts
    of a per-run factor against a per-state one, where numpy would pick C order."""
    result = np.asarray(factors[0])
    for factor in factors[1:]:
        result = np.multiply(result, factor, order="F")
    return result


def with_hedge(bloc_values: FloatArray, hedge_value: FloatArray) -> FloatArray:
    """Append the hedge option: (..., n, B) and (..., n) -> (..., n, K)."""
    shape = bloc_values.shape[:-1]
    if hedge_value.shape != shape:
        shape = np.broadcast_shapes(shape, hedge_value.shape)
    dtype = np.result_type(bloc_values, hedge_value)
    out = batch_empty((*shape, bloc_values.shape[-1] + 1), dtype)
    out[..., :-1] = bloc_values
    out[..., -1] = hedge_value
    return out


class OptionValues(NamedTuple):
    """A term's value for each bloc, (..., n, B), and for hedging, (..., n).

    Kept apart because joining them into (..., n, K) costs more than the arithmetic;
    ``joined`` does it where a term is shown (explanations, full records).
    """

    blocs: FloatArray
    hedge: FloatArray

    def joined(self) -> FloatArray:
        """The term for every option, (..., n, K)."""
        return with_hedge(self.blocs, self.hedge)

    def scaled(self, weight: Scalar) -> OptionValues:
        """The term times ``weight`` (a float, or (R, 1, 1) per run)."""
        return OptionValues(weight * self.blocs, hedge_weight(weight) * self.hedge)


def hedge_weight(weight: Scalar) -> Scalar:
    """A weight shaped (R, 1, 1) for (..., n, B) arrays, reshaped for (..., n) ones."""
    return weight[..., 0] if isinstance(weight, np.ndarray) and weight.ndim == 3 else weight


def hedge_share_of(bloc_values: FloatArray, hedge_access: Scalar) -> OptionValues:
    """A hedger's value: ``hedge_access`` times the sum of what each bloc offers.

    Hedging (the multi-vector policy of Belarus, 003; Uzbekistan, 000; Central Asia,
    001) gives partial access to every bloc's benefits without full membership.
    """
    return OptionValues(bloc_values, hedge_access * sum_last_axis(bloc_values))


# --- security -------------------------------------------------------------------------


def threat_from_poles(
    pole: PoleParams, pair: PairParams, defection: FloatArray, poles: slice
) -> FloatArray:
    """The threat m_pi each pole p in ``poles`` poses to each chooser i, (R, B, N), in [0, ~2].

    coercion_p * military_weight_p * proximity_pi * pressure_pi * (1 + escalation_p *
    defection_pi): power and proximity ("a most rigid response", 003; GUAM intimidated
    by Russia's military machine, 001), raised against states that left the pole's bloc.
    """
    scale = (pole.coercion * pole.military_weight)[..., poles, None]
    calm = product(scale, pair.proximity[..., poles, :], pair.pressure[..., poles, :])
    escalated = product(calm, pole.escalation[..., poles, None], defection[..., poles, :])
    return np.add(calm, escalated, order="F")


def protection_term(
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    credibility: FloatArray,
    rows: slice,
    hedge_access: Scalar,
    weight: Scalar = 1.0,
) -> OptionValues:
    """Protection a bloc offers against the threats a chooser faces, (R, n, K), >= 0.

    In [0, 1] for configured exposures; events such as a terror surge can push the
    exposure, and so the protection sought, above 1.

    threat_exposure_i * credibility_b * military_weight_b * min(1, proximity + presence):
    the CSTO rapid reaction forces and Russian bases against terrorism from Afghanistan
    and frozen conflicts (000, 001, 004).
    """
    reach = np.minimum(1.0, pair_rows(pair.proximity, rows) + pair_rows(pair.presence, rows))
    cover = state_rows(state.threat_exposure, rows) * reach
    strength = weight * (credibility * pole.military_weight)[..., None, :]
    return hedge_share_of(np.multiply(strength, cover, order="F"), hedge_access)


def coercion_term(
    threat_rows: FloatArray, hedge_provocation: Scalar, weight: Scalar = 1.0
) -> OptionValues:
    """Minus the threat from the other poles if the chooser aligns with each option.

    Aligning with bloc b provokes every other pole: -(sum_p threat_p - threat_b). A
    hedger provokes all of them a little: -hedge_provocation * sum_p threat_p.
    ``threat_rows`` is the threat as (R, n, B) (``pair_rows(threat, rows)``).
    """
    total = sum_last_axis(threat_rows)
    provoked = -hedge_provocation * hedge_weight(weight)
    return OptionValues(weight * (threat_rows - total[..., None]), provoked * total)


def grievance_term(pair: PairParams, rows: slice, hedge_access: Scalar) -> OptionValues:
    """Minus the grievance against a pole whose forces hold the chooser's territory
    without consent, (R, n, K) in [-1, 0]: Transnistria, Abkhazia and South Ossetia,
    Crimea (001 on CIS "peacekeeping" in these zones; data field
    russian_troops_without_host_consent). A hedger carries ``hedge_access`` of it.
    """
    return hedge_share_of(-pair_rows(pair.grievance, rows), hedge_access)


CAPABILITY_GRID = 2.0**-48  # CINC shares are summed as whole multiples of this


def bloc_power(pole: PoleParams, state: StateParams, members: FloatArray) -> FloatArray:
    """Regional power of each bloc, (R, B): its leader's committed capability
    (CINC * military_weight) plus the CINC of its current members.

    ``members`` is the (R, K, N) membership indicator (``membership``). Members' CINC are
    rounded to multiples of 2**-48 (far below the data's precision), so their sum is
    exact in any order and one matrix product serves any batch.
    """
    n_poles = pole.capability.shape[-1]
    units = np.round(state.capability.astype(np.float64) / CAPABILITY_GRID)
    in_bloc = members[..., :n_poles, :]
    counted = np.sum(in_bloc * units[..., None, :], axis=-1)
    return pole.capability * pole.military_weight + (counted * CAPABILITY_GRID).astype(FLOAT)


def stance_term(
    power: FloatArray, threat_rows: FloatArray, stance: Scalar, weight: Scalar = 1.0
) -> OptionValues:
    """Balancing vs bandwagoning, (R, n, K) in [0, 1].

    With s = stance in [-1, 1]: (1 - s)/2 * power_share_b (bandwagoning: join the
    strongest side) + (1 + s)/2 * (1 - threat_share_b) * power_share_b (balancing: join
    the side that can offset the biggest threat). Morgenthau (004), Hurrell and
    Soderbaum (001). A hedger joins no side: 0.
    """
    share = weight * (power / sum_last_axis(power)[..., None])[..., None, :]
    bandwagon = (1.0 - stance) / 2.0
    balance = (1.0 + stance) / 2.0
    pull = share * (bandwagon + balance)  # what the bloc offers with no threat share
    push = share * balance  # lost per unit of threat share
    inverse_threat = 1.0 / np.maximum(sum_last_axis(threat_rows), EPS)
    value = pull - push * (threat_rows * inverse_threat[..., None])
    return OptionValues(value, np.zeros_like(value[..., 0]))


# --- economic -------------------------------------------------------------------------


def trade_term(
    pole: PoleParams, pair: PairParams, rows: slice, hedge_access: Scalar
) -> OptionValues:
    """Trade dependence on each bloc, (R, n, K) in [0, 1]: trade_share * trade_factor.

    Russia is 45-50% of Belarus's trade (003); EAEU trade fell 25% in 2015 (002), which
    events represent as a trade_factor of 0.75.
    """
    value = product(pair_rows(pair.trade_share, rows), pole.trade_factor[..., None, :])
    return hedge_share_of(value, hedge_access)


def inducement_term(
    state: StateParams,
    offers: FloatArray,
    credibility: FloatArray,
    rows: slice,
    hedge_access: Scalar,
    weight: Scalar = 1.0,
) -> OptionValues:
    """Inducements on offer, credibility-discounted, (R, n, K): credibility_b *
    log(1 + offer as % of GDP).

    Loans, subsidies and debt swaps (China's US$10bn and 12bn loans, 001; the US$10bn
    plant loan, 003; the IMF's up to US$3bn, 003; debt-for-assets, 004) matter relative
    to the economy that receives them; the log saturates large offers. Worked in the
    offers' own (R, B, n) layout and turned to (R, n, B) once at the end; the log is
    taken in single precision whatever the inputs.
    """
    percent_per_bn = 100.0 / state.gdp_bn[..., None, rows]
    saturated = (offers[..., rows] * percent_per_bn).astype(np.float32)
    np.log(np.add(saturated, 1.0, out=saturated), out=saturated)
    value = (weight * credibility[..., :, None]) * saturated
    return hedge_share_of(np.swapaxes(value, -1, -2), hedge_access)


def remittance_term(
    state: StateParams, pair: PairParams, rows: slice, hedge_access: Scalar
) -> OptionValues:
    """Remittances from each bloc as a fraction of GDP, (R, n, K): labour migration to
    Russia (004, lever 11) ties Central Asia's households to it."""
    value = product(state_rows(state.remittances, rows), pair_rows(pair.remittance_origin, rows))
    return hedge_share_of(value, hedge_access)


def transit_term(pair: PairParams, rows: slice, hedge_access: Scalar) -> OptionValues:
    """Dependence on each bloc's pipelines and transit routes, (R, n, K) in [0, 1]
    (pipelines in Belarus, 003; gas routes of Central Asia, 001)."""
    return hedge_share_of(pair_rows(pair.transit, rows), hedge_access)


# --- regime stability -----------------------------------------------------------------


def conditionality_term(
    state: StateParams, pair: PairParams, rows: slice, hedge_access: Scalar
) -> OptionValues:
    """Minus the pole's conditionality times the chooser's autocracy, (R, n, K) in [-1, 0].

    Western aid conditional on reform threatens incumbents (Powell's message to
    Uzbekistan, 004; sanctions as a "down payment", 003); Russia and China ask nothing.
    """
    value = product(-pair_rows(pair.conditionality, rows), state_rows(state.autocracy, rows))
    return hedge_share_of(value, hedge_access)


def regime_security_term(
    state: StateParams, pole: PoleParams, rows: slice, hedge_access: Scalar
) -> OptionValues:
    """Regime self-preservation and status, (R, n, K) in [0, ~2]: regime_support_b *
    autocracy_i * (1 + regime_insecurity_i).

    Regionalism helps "self-preservation of the otherwise vulnerable regimes" (001);
    "the key value for their elites is the stability of their regimes" (002). Colour
    revolutions and successions raise the insecurity that makes this term bite.
    """
    insecurity = 1.0 + state_rows(state.regime_insecurity, rows)
    value = product(
        state_rows(state.autocracy, rows), insecurity, pole.regime_support[..., None, :]
    )
    return hedge_share_of(value, hedge_access)


def autonomy_term(state: StateParams, rows: slice, n_poles: int) -> OptionValues:
    """The value of belonging to no bloc, for the hedge option only, (R, n, K) in [0, 1].

    Turkmenistan's permanent neutrality (data), Uzbekistan's "political maneuvering"
    (000), the "multi-vector" credo of Minsk (003): status and sovereignty (001).
    """
    value = state_rows(state.autonomy, rows)
    return OptionValues(
        np.zeros((*value.shape[:-1], n_poles), dtype=value.dtype, order="F"), value[..., 0]
    )


# --- soft power -----------------------------------------------------------------------


def soft_power_term(
    pole: PoleParams, pair: PairParams, years: float, rows: slice, hedge_access: Scalar
) -> OptionValues:
    """Soft power, (R, n, K) in [0, 1]: soft_power_b * ties_bi * exp(-fade_b * years).

    Common information space, the Russian diaspora and pro-Russian elites that fade as
    generations change ("the new generation is looking to the West", 004).
    """
    fade = np.exp(-pole.soft_power_fade * years)
    value = product((pole.soft_power * fade)[..., None, :], pair_rows(pair.ties, rows))
    return hedge_share_of(value, hedge_access)


# --- dynamics -------------------------------------------------------------------------


def membership(alignment: IntArray, n_options: int) -> FloatArray:
    """(R, N) option indices as (R, K, N) indicators: [chooser j is in option k], in the
    memory order of ``alignment``."""
    options = np.arange(n_options)[:, None]
    return np.equal(alignment[..., None, :], options).astype(FLOAT)


def peer_term(
    affinity: FloatArray, members: FloatArray, rows: slice, weight: Scalar = 1.0
) -> OptionValues:
    """Peer effects, (R, n, K): sum_j affinity_ij * [j chose option k].

    Enmity between Armenia and Azerbaijan (002) and Central Asian rivalries (000) push a
    state away from its rival's choice; friendships pull together (domino effects, 002).
    Exact in floating point because affinities are multiples of 1/16, so one matrix
    product over the whole batch gives the same numbers as an agent's own row.
    ``members`` is the (R, K, N) membership indicator (``membership``).
    """
    R, K, N = members.shape
    by_chooser = members.T.reshape(N, K * R)  # a view for the engine's Fortran order
    peers = (affinity[rows] @ by_chooser).reshape(-1, K, R).T
    blocs = weight * np.swapaxes(peers[:, :-1, :], -1, -2)
    return OptionValues(blocs, hedge_weight(weight) * peers[:, -1, :])


def switching_cost_matrix(n_options: int, hedge_fraction: float) -> FloatArray:
    """Cost of moving from option a (row) to b (column), in units of switching_cost.

    Bloc to bloc costs 1 ("a dramatic change of foreign policy orientation is fraught
    with serious potential crises", 002); to or from hedging costs ``hedge_fraction``.
    """
    cost = np.ones((n_options, n_options), dtype=FLOAT)
    cost[-1, :] = hedge_fraction
    cost[:, -1] = hedge_fraction
    np.fill_diagonal(cost, 0.0)
    return cost


def switching_term(
    current: IntArray, cost_matrix: FloatArray, weight: Scalar = 1.0
) -> OptionValues:
    """Minus the cost of moving from the current option to each option, (R, n, K).

    A plain weight is folded into the (K, K) cost table before the look-up; a weight
    per run, (R, 1, 1), scales the looked-up rows (the same numbers either way).
    """
    per_run = isinstance(weight, np.ndarray) and weight.ndim > 0
    table = -cost_matrix if per_run else -(weight * cost_matrix)
    n_options = table.shape[-1]
    joined = batch_empty((*current.shape, n_options), table.dtype)
    for k in range(n_options):
        joined[..., k] = table[:, k][current]
    if per_run:
        joined = weight * joined
    return OptionValues(joined[..., :-1], joined[..., -1])


# --- composition ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What every chooser sees at the start of a tick (all decide from the same one).

    alignment: (R, N) option index; members: (R, K, N) indicators; power: (R, B);
    threat: (R, B, N) (``threat_from_poles``); offers: (R, B, N) US$ bn a year; credibility: (R, B).
    """

    alignment: IntArray
    members: FloatArray
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
) -> dict[str, OptionValues]:
    """Every named utility term, weighted, for the chooser rows ``rows``.

    Each term is an ``OptionValues``: its value for each bloc and for hedging;
    ``OptionValues.joined`` gives it for every option, (R, n, K). Terms that depend on
    parameters only keep their natural shape (no batch axis unless the parameters have
    one) and broadcast against the others. The terms add up to the utility of each option.
    ``weights`` is a UtilityWeights and ``dynamics`` a Dynamics (floats, or arrays over
    runs in a batch of parameter points, see ``studies/points.py``).
    """
    access = dynamics.hedge_access
    current = snap.alignment[..., rows]
    threat_rows = pair_rows(snap.threat, rows)
    n_poles = pole.budget_bn.shape[-1]
    return {
        "protection": protection_term(
            state, pole, pair, snap.credibility, rows, access, weights.protection
        ),
        "coercion": coercion_term(threat_rows, dynamics.hedge_provocation, weights.coercion),
        "grievance": grievance_term(pair, rows, access).scaled(weights.grievance),
        "stance": stance_term(snap.power, threat_rows, stance, weights.stance),
        "trade": trade_term(pole, pair, rows, access).scaled(weights.trade),
        "inducements": inducement_term(
            state, snap.offers, snap.credibility, rows, access, weights.inducements
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
        "peer": peer_term(affinity, snap.members, rows, weights.peer),
        "switching": switching_term(current, cost_matrix, dynamics.switching_cost),
    }


def total_utility(terms: dict[str, OptionValues], names: tuple[str, ...] = TERMS) -> FloatArray:
    """Sum of the named terms for every option, (R, n, K), left to right in ``TERMS`` order.

    Each element gets the same additions in the same order whatever the batch size:
    terms are added at their own shape (parameter-only terms first, before anything has a
    batch axis), blocs and hedging apart, and joined once at the end.
    """
    blocs = _running_sum([terms[name].blocs for name in names])
    hedge = _running_sum([terms[name].hedge for name in names])
    return with_hedge(blocs, hedge)


def _running_sum(values: list[FloatArray]) -> FloatArray:
    """values[0] + values[1] + ... left to right (the same numbers as the plain
    expression, without a new array per addition)."""
    if len(values) == 1:
        return np.asarray(values[0])
    total = np.add(values[0], values[1], order="F")
    for value in values[2:]:
        total = add_into(total, value)
    return total


def add_into(total: FloatArray, value: Any) -> FloatArray:
    """total + value: in place when ``total`` (an array the caller owns) already has the
    result's shape, else a new array in Fortran order (a batch axis appeared)."""
    shape = np.shape(value)
    if shape == total.shape or total.shape == np.broadcast_shapes(total.shape, shape):
        return np.add(total, value, out=total)
    return np.add(total, value, order="F")


# --- poles ----------------------------------------------------------------------------


def bloc_margins(utility: FloatArray, n_poles: int) -> FloatArray:
    """Margin of each bloc over the chooser's best alternative, (R, B, N).

    U_b - max_{k != b} U_k from last tick's utilities (R, N, K): near zero, the chooser
    is pivotal or wavering for that bloc (``spending_offers`` turns it into leverage).
    """
    n_options = utility.shape[-1]
    columns = [utility[..., k] for k in range(n_options)]
    # the best option before k and the best after k (max is exact): the best
    # alternative to bloc b is the larger of the two, with no re-scan per bloc
    best_before = {1: columns[0]}
    for k in range(2, n_options):
        best_before[k] = np.maximum(best_before[k - 1], columns[k - 1])
    best_after = {n_options - 2: columns[n_options - 1]}
    for k in range(n_options - 3, -1, -1):
        best_after[k] = np.maximum(columns[k + 1], best_after[k + 1])
    margins = batch_empty((*utility.shape[:-2], n_poles, utility.shape[-2]), utility.dtype)
    for b in range(n_poles):  # blocs come before the hedge, so best_after[b] exists
        best_other = best_after[b] if b == 0 else np.maximum(best_before[b], best_after[b])
        np.subtract(columns[b], best_other, out=margins[..., b, :])
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
    base = pair.focus[..., poles, :] * pair.proximity[..., poles, :]
    swing = margin_scale / (margin_scale + np.abs(margins[..., poles, :]))
    weight = base + (base * leverage) * swing
    per_weight = pole.budget_bn[..., poles] / np.maximum(sum_last_axis(weight), EPS)
    return per_weight[..., None] * weight


def next_credibility(credibility: FloatArray, target: FloatArray, recovery: Scalar) -> FloatArray:
    """Credibility moves toward its (event-adjusted) target by ``recovery`` per tick:
    trust lost to inconsistency returns slowly (000, 003)."""
    return credibility + recovery * (target - credibility)


def next_defection(
    defection: FloatArray,
    before: IntArray,
    after: IntArray,
    poles: slice,
    hedge_option: int,
    decay: Scalar,
    hedge_fraction: float,
) -> FloatArray:
    """The poles' memory, (R, b, N) for pole rows ``poles``, of choosers leaving their
    bloc: +1 for a move to a rival bloc, +hedge_fraction for a move to hedging,
    decaying by ``decay`` per tick (a float or one value per run, (R, 1))."""
    pole_ids = np.arange(hedge_option)[poles, None]
    left = (before[..., None, :] == pole_ids) & (after[..., None, :] != pole_ids)
    jump = np.where(after == hedge_option, FLOAT(hedge_fraction), FLOAT(1.0))[..., None, :]
    keep = 1.0 - decay
    if isinstance(keep, np.ndarray) and keep.ndim:
        keep = keep[..., None]
    return keep * defection + np.where(left, jump, FLOAT(0.0))


# --- decisions ------------------------------------------------------------------------


def gumbel_from_uniform(u: Any) -> FloatArray:
    """Standard Gumbel noise, float32, from float32 uniforms in [0, 1): -log(-log(u)).

    Single precision is ample for noise and several times faster; the tail is cut at
    about 16.6 (u = 1 - 2**-24), and u = 0 gives -inf (that option is not picked).
    """
    with np.errstate(divide="ignore"):
        return np.asarray(-np.log(-np.log(np.asarray(u, dtype=np.float32))))


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
        return first_argmax(rationality * utility + gumbel)[0]
    score = security if rule in ("balancing", "bandwagoning") else utility
    best, top = first_argmax(score)
    stay = np.take_along_axis(score, current[..., None], axis=-1)[..., 0] >= top
    return np.asarray(np.where(stay, current, best), dtype=np.int64)


def first_argmax(score: FloatArray) -> tuple[IntArray, FloatArray]:
    """Index of the first maximum over the last axis (as ``np.argmax``) and the maximum.

    A scan over the K options: it keeps the memory order of ``score``, where
    ``np.argmax`` on a short last axis runs one tiny loop per chooser.
    """
    top = score[..., 0]
    best = np.zeros_like(top, dtype=np.int64)
    for k in range(1, score.shape[-1]):
        column = score[..., k]
        better = column > top
        top = np.maximum(top, column)
        best += better * (k - best)
    return best, top


def choice_probabilities(utility: FloatArray, rationality: float) -> FloatArray:
    """Logit (quantal response) probabilities of each option, (..., K); sums to one."""
    scaled = rationality * utility
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return np.asarray(weights / weights.sum(axis=-1, keepdims=True))
