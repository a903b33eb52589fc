"""Pure kernels: every utility term, the spending rule and the decision rule.

Model 2 (docs/MODEL.md): each chooser makes two choices every tick,

- a **security** alignment: the bloc of a pole that offers protection (Russia's CSTO,
  the West's NATO partnership), or ``none``;
- an **economic** alignment: the union or partnership of any pole (the EAEU, China's
  loans and trade, the EU's association), or ``open`` (no preferential bloc).

So "security with Russia, economy with China" (001, 000) and multi-vector policy inside
a bloc (Belarus, Kazakhstan, 003, 002) are alignments of their own, and hedging is what
the utilities make of them (``none``/``open``, or a foot in two blocs), not a fifth
option with a fixed share of every bloc's value. Each term belongs to one dimension (or
to both, as two parts: conditionality, autonomy, switching), and a chooser's utility for
a profile (s, e) is U_sec(s) + U_econ(e): the two choices are separable, linked through
the poles (offers follow membership in either dimension, regional power counts the
security bloc's members).

All functions work on arrays with a leading batch axis R (replications or parameter
points) and are elementwise in it, so the Mesa model (R = 1, one agent's row at a time)
and the batched engine (all rows at once) run the same code and get bit-identical
numbers. Shapes: N choosers, B poles, P security poles (``sec``: their pole indices),
S = P + 1 security options (the last is ``none``), E = B + 1 economic options (the last
is ``open``); ``n`` is the number of chooser rows being evaluated (N, or 1 for an agent).
Sums over poles and choosers are loops in a fixed order, and the peer and bloc-power sums
are exact (affinities on a 1/16 grid, capabilities on a 2**-48 grid), so no result
depends on the batch size. The model's numbers are single precision (``world.FLOAT``).

Docstrings cite the source texts by number: 000 Lukyanov (2009), 001 Molchanov (2012),
002 Bolgova (2016), 003 Sutyrin (2015), 004 Rashidov (c. 2004); full references in
docs/REFERENCES.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alignment_sim.model.world import FLOAT, PairParams, PoleParams, StateParams

FloatArray = NDArray[np.floating[Any]]
IntArray = NDArray[np.int64]
Scalar = Any  # float, or an array broadcasting as (R, 1, 1) for per-point parameters

SECURITY = "security"
ECONOMY = "economy"
DIMENSIONS = (SECURITY, ECONOMY)

SECURITY_TERMS: tuple[str, ...] = (
    "protection",
    "coercion",
    "stance",
    "grievance",
    "regime_security",
    "soft_power",
    "inducements",
    "conditionality",
    "autonomy",
    "neutrality",
    "peer",
    "switching",
)
"""The terms of the security choice, in the order they are added."""
ECONOMIC_TERMS: tuple[str, ...] = (
    "trade",
    "inducements",
    "remittances",
    "transit",
    "economic_coercion",
    "regime_security",
    "conditionality",
    "autonomy",
    "founding",
    "switching",
)
"""The terms of the economic choice, in the order they are added."""
TERM_FAMILIES: dict[str, str] = {
    "protection": "security",
    "coercion": "security",
    "stance": "security",
    "grievance": "security",
    "regime_security": "regime",
    "soft_power": "soft_power",
    "trade": "economic",
    "inducements": "economic",
    "remittances": "economic",
    "transit": "economic",
    "economic_coercion": "economic",
    "conditionality": "regime",
    "autonomy": "regime",
    "neutrality": "regime",
    "founding": "economic",
    "peer": "dynamics",
    "switching": "dynamics",
}
TERMS: tuple[str, ...] = tuple(TERM_FAMILIES)
"""Every term once, as recorded on the profile axis (a term of both dimensions adds its
two parts)."""
REALIST_TERMS: tuple[str, ...] = (
    "protection",
    "coercion",
    "stance",
    "grievance",
    "neutrality",
    "switching",
)
"""What the realist rules (balancing, bandwagoning) weigh in the security choice: power and
threat, and the law (a permanent neutrality binds under every rule)."""
EPS = 1e-12
NO_MARGIN = 1e6
"""The margin a pole assumes before it has seen a chooser's utilities (tick 1): far from
wavering, so no candidate premium is paid on a guess."""


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
    """A (..., N) state table as (..., n, 1), ready to broadcast against options (a view)."""
    return values[..., rows, None]


def with_outside(values: FloatArray, outside: Any = 0.0) -> FloatArray:
    """Append the outside option (``none`` or ``open``): (..., n, P) -> (..., n, P + 1).

    ``outside`` is a scalar or (..., n) array: the value of staying out of every bloc.
    """
    outside = np.asarray(outside, dtype=FLOAT)
    shape = values.shape[:-1]
    if outside.ndim:
        shape = np.broadcast_shapes(shape, outside.shape)
    out = np.empty((*shape, values.shape[-1] + 1), np.result_type(values, FLOAT), order="F")
    out[..., :-1] = values
    out[..., -1] = outside
    return out


def outside_only(values: FloatArray, n_blocs: int) -> FloatArray:
    """A term worth ``values`` (..., n, 1) for the outside option and 0 for every bloc."""
    zeros = np.zeros((*values.shape[:-1], n_blocs), dtype=values.dtype)
    return with_outside(zeros, values[..., 0])


@dataclass(frozen=True)
class Terms:
    """The weighted terms of both choices: name -> (..., n, S) and name -> (..., n, E)."""

    security: dict[str, FloatArray]
    economy: dict[str, FloatArray]

    def utilities(self) -> tuple[FloatArray, FloatArray]:
        """U_sec (..., n, S) and U_econ (..., n, E): each dimension's terms added in order."""
        return running_sum(list(self.security.values())), running_sum(list(self.economy.values()))

    def on_profiles(self, profile_security: IntArray, profile_economy: IntArray) -> dict:
        """Every term on the profile axis, name -> (..., n, K) in ``TERMS`` order: a
        profile (s, e) gets the term's security value at s plus its economic value at e."""
        out = {}
        for name in TERMS:
            parts = []
            if name in self.security:
                parts.append(np.take(self.security[name], profile_security, axis=-1))
            if name in self.economy:
                parts.append(np.take(self.economy[name], profile_economy, axis=-1))
            out[name] = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        return out


def profile_utility(
    security: FloatArray, economy: FloatArray, profile_security: IntArray, profile_economy: IntArray
) -> FloatArray:
    """U(s, e) = U_sec(s) + U_econ(e) for every profile, (..., n, K)."""
    return np.take(security, profile_security, axis=-1) + np.take(economy, profile_economy, axis=-1)


def running_sum(values: list[FloatArray]) -> FloatArray:
    """values[0] + values[1] + ... left to right, as a new array of the broadcast shape."""
    shape = np.broadcast_shapes(*(np.shape(value) for value in values))
    total = np.add(values[0], values[1]) if len(values) > 1 else np.array(values[0])
    for value in values[2:]:
        if total.shape == shape:
            np.add(total, value, out=total)
        else:
            total = total + value
    return total


# --- poles: threat, regional power, offers ---------------------------------------------


def threat_from_poles(pole: PoleParams, pair: PairParams, poles: slice) -> FloatArray:
    """The threat m_pi each pole p in ``poles`` poses to each chooser i, (R, b, N), >= 0.

    coercion_p * military_weight_p * proximity_pi * pressure_pi: power and proximity
    ("a most rigid response", 003; GUAM intimidated by Russia's military machine, 001).
    Military events raise ``pressure`` (a colour revolution, a war) or ``coercion``; an
    economic punishment raises only the economic pressure (``economic_coercion_term``).
    """
    scale = (pole.coercion * pole.military_weight)[..., poles, None]
    return scale * pair.proximity[..., poles, :] * pair.pressure[..., poles, :]


CAPABILITY_GRID = 2.0**-48  # CINC shares are summed as whole multiples of this


def regional_power(
    pole: PoleParams,
    state: StateParams,
    pair: PairParams,
    members: FloatArray,
    sec: IntArray,
) -> FloatArray:
    """Each security bloc's power as seen from each chooser, (R, P, N): (its leader's
    CINC * military_weight + its members' CINC) * proximity_pi.

    Power is discounted by distance (Boulding's loss-of-strength gradient; Walt's balance
    of threat): Russia is the strongest bloc next to most choosers though the West is
    stronger in the world. Members' CINC are rounded to multiples of 2**-48 (far below
    the data's precision) so their sum is exact in any order. ``members`` from
    ``security_membership(security, P)``.
    """
    units = np.round(state.capability.astype(np.float64) / CAPABILITY_GRID)
    counted = np.sum(members * units[..., None, :], axis=-1) * CAPABILITY_GRID  # (R, P)
    leader = (pole.capability * pole.military_weight)[..., sec]
    bloc = (leader + counted.astype(FLOAT))[..., :, None]
    return np.multiply(bloc, pair.proximity[..., sec, :], order="F")  # run axis fastest


def economic_margins(economy_utility: FloatArray, inducements: FloatArray) -> FloatArray:
    """How far each pole is from winning (or losing) each chooser's economic choice,
    (R, B, N), from last tick's U_econ and its inducement term, both (R, N, E):
    (U_b - inducement_b) - max_{k != b} U_k. Near zero the chooser is wavering or pivotal
    for pole b (``spending``). A pole discounts its own offer (so it never feeds
    its own premium) but sees its rivals' bids, pledges included: the West's pledge to
    Belarus narrows Russia's margin there, and the nearer the edge the more Russia pays
    (000, 003; ``bid_sensitivity``)."""
    n_poles = inducements.shape[-1] - 1
    n_options = economy_utility.shape[-1]
    shape = (*economy_utility.shape[:-2], n_poles, economy_utility.shape[-2])
    margins = np.empty(shape, FLOAT, order="F")
    for b in range(n_poles):
        others = [k for k in range(n_options) if k != b]
        best = economy_utility[..., others[0]]
        for k in others[1:]:
            best = np.maximum(best, economy_utility[..., k])
        margins[..., b, :] = economy_utility[..., b] - inducements[..., b] - best
    return margins


def pole_members(
    security_choice: IntArray, economy_choice: IntArray, sec: IntArray, n_poles: int
) -> FloatArray:
    """(R, B, N): 1 where chooser j is aligned with pole b in either dimension."""
    bloc_option = {int(pole): option for option, pole in enumerate(sec)}  # pole -> its bloc
    shape = (*security_choice.shape[:-1], n_poles, security_choice.shape[-1])
    members = np.empty(shape, FLOAT, order="F")
    for b in range(n_poles):
        in_union = economy_choice == b
        if b in bloc_option:
            np.logical_or(in_union, security_choice == bloc_option[b], out=members[..., b, :])
        else:
            members[..., b, :] = in_union
    return members


def bid_sensitivity(margins: FloatArray, rationality: Scalar) -> FloatArray:
    """How much money can move each chooser's economic choice for or against each pole,
    in [0, 1], the shape of ``margins`` (utility units; ``economic_margins``).

    Under the logit rule the chance that pole b wins (or keeps) chooser i against its best
    rival is p = 1 / (1 + exp(-rationality * margin)), and a little more money moves it by
    rationality * p * (1 - p) per utility unit: the swing is that sensitivity relative to
    its peak at the edge, 4 p (1 - p) = 4 e / (1 + e)**2 with e = exp(-rationality *
    |margin|). It is 1 at the edge, 0.42 half a unit away at the default rationality (4)
    and below 0.002 two units away, so the patrons bid where their money buys a choice:
    the targeting of swing voters in probabilistic voting (Lindbeck and Weibull 1987,
    Dixit and Londregan 1996). A margin not yet known (``NO_MARGIN``, before the first
    tick) has none. ``rationality``: a float or (R, 1, 1) per run."""
    distance = np.abs(margins)
    e = np.exp(-rationality * distance)
    swing = 4.0 * e
    swing /= np.square(1.0 + e)
    known = distance < NO_MARGIN
    if not known.all():  # tick 1 only; a product with True changes no bit
        swing *= known
    return np.asarray(swing, dtype=FLOAT)


def spending(
    pole: PoleParams,
    pair: PairParams,
    members: FloatArray,
    margins: FloatArray,
    rationality: Scalar,
    poles: slice,
) -> tuple[FloatArray, FloatArray]:
    """Each pole's offer to each chooser and the premium part of it, US$ bn a year, both
    (R, b, N) for pole rows ``poles``.

    The budget is an envelope over the region: state i's share of it is in proportion to
    base_i = focus_i * proximity_i (what the pole would pay if every state were a plain
    member). A pole pays base_i * (member + leverage * swing), swing the
    ``bid_sensitivity`` of i's economic choice to money at its margin: the leverage of the
    weak -- members and outsiders close to the edge extract more (Belarus and Armenia,
    000, 002) -- and next to nothing to a chooser whose economic choice money cannot move
    ("to put an end to unlimited subsidizing ... if it does not produce immediate
    political results", 002). What nobody can claim stays unspent; premiums beyond the
    budget are scaled down to it. A pole with proportional spending pays members only.

    The premium is base_i * leverage * swing at the same scale: a bid on the economic
    margin, paid to keep or win the chooser's union (``inducement_terms``); the rest of an
    offer is the member's base share, paid for membership in either dimension.
    ``members`` from ``pole_members``; ``margins`` from ``economic_margins``.
    """
    leverage = (pole.leverage * (1.0 - pole.proportional_spending))[..., poles, None]
    swing = bid_sensitivity(margins[..., poles, :], rationality)
    base = pair.focus[..., poles, :] * pair.proximity[..., poles, :]
    premium = leverage * swing
    # Products with the (b, N) parameters are written run axis fastest, as the batch is.
    weight = np.multiply(base, members[..., poles, :] + premium, order="F")
    total = np.maximum(sum_last_axis(base), sum_last_axis(weight))
    per_weight = (pole.budget_bn[..., poles] / np.maximum(total, EPS))[..., None]
    return (
        np.multiply(per_weight, weight, order="F").astype(FLOAT, copy=False),
        np.multiply(per_weight, np.multiply(base, premium, order="F"), order="F").astype(
            FLOAT, copy=False
        ),
    )


def kept_promises(offers: FloatArray, expected: FloatArray, members: FloatArray) -> FloatArray:
    """The share of its promises each pole keeps this tick, (R, b) in [0, 1].

    A pole's promise to a member is the offer the member has come to expect
    (``next_expectations``); it keeps it in full when this tick's offer is as large:
    kept = sum_i member_i * min(offer_i, expected_i) / sum_i member_i * expected_i, over
    the members of this tick (1 when it promised nothing). Subsidies cut in a recession,
    or shifted from loyal members to waverers, are promises broken until expectations
    adjust. ``offers``, ``expected``, ``members``: (R, b, N).
    """
    promised = sum_last_axis(members * expected)
    delivered = sum_last_axis(members * np.minimum(offers, expected))
    ratio = delivered / np.maximum(promised, EPS)
    return np.where(promised > EPS, np.minimum(ratio, 1.0), 1.0).astype(FLOAT, copy=False)


def starting_expectations(inputs: Any) -> FloatArray:
    """What the choosers expect at the start, (1, B, N): the offers the poles make their
    starting members out of the start year's budgets before any event (no candidate
    premium), so a cut in the first tick is a promise broken. ``inputs``: a RunInputs."""
    world = inputs.world
    _, pole, pair = world.params_for_tick(0)
    space = world.space
    profiles = world.initial_alignment[None]
    members = pole_members(
        space.profile_security[profiles],
        space.profile_economy[profiles],
        world.security_poles,
        world.n_poles,
    )
    margins = np.full(members.shape, NO_MARGIN, dtype=FLOAT)
    return spending(pole, pair, members, margins, inputs.rationality, slice(None))[0]


def next_expectations(expected: FloatArray, offers: FloatArray, rate: Scalar) -> FloatArray:
    """What each chooser expects from each pole next tick, (R, b, N): expectations move
    toward the offer by ``rate`` per tick (the pace at which trust adjusts,
    ``dynamics.credibility_recovery``, a float or (R, 1) per run); a first offer is
    expected in full."""
    if isinstance(rate, np.ndarray) and rate.ndim:
        rate = rate[..., None]
    moved = expected + rate * (offers - expected)
    np.copyto(moved, offers, where=~(expected > 0.0))  # np.where, without its branches
    return moved.astype(FLOAT, order="F", copy=False)


def credibility_target(pole: PoleParams, prior_tests: Scalar) -> FloatArray:
    """What a pole's credibility moves toward, (..., B): its configured credibility (as the
    tick's events leave it) updated by the record of its protection, as a share of kept
    promises with the configured value as the prior,
    (prior_tests * credibility + given) / (prior_tests + tests). A pole whose protection
    was never tested keeps its configured value; each time it protects a member when a
    threat materialises the target rises toward 1, each time it does not it falls toward 0
    (001: the CSTO "failed to intervene decisively to stop, or contain local conflicts",
    "a theoretical proposition of collective security but devoid of any real content").
    ``prior_tests`` (``dynamics.credibility_prior_tests``, a float or (R, 1) per run): how
    many tests the configured value counts for, a judgement."""
    credibility, tests = pole.credibility, pole.protection_tests
    # written so that an untested pole's target is its credibility to the last bit
    return credibility + (pole.protection_given - tests * credibility) / (prior_tests + tests)


def next_credibility(
    credibility: FloatArray, target: FloatArray, kept: FloatArray, recovery: Scalar
) -> FloatArray:
    """Credibility moves by ``recovery`` per tick toward target * kept: the (event-
    adjusted) trust the pole's standing commands, times the share of promises it kept
    (``kept_promises``). An inconsistent patron has its promises discounted (000: "unclear
    about its intentions and inconsistent in its actions"); no text says how fast trust
    returns, so ``recovery`` is a judgement. (R, b)."""
    return credibility + recovery * (target * kept - credibility)


# --- security terms: (..., n, S), the last option ``none`` --------------------------------


def protection_term(
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    credibility: FloatArray,
    threat_rows: FloatArray,
    rivalry: FloatArray,
    rows: slice,
    sec: IntArray,
) -> FloatArray:
    """Protection a security bloc gives its members against the threats they face:
    credibility_b * military_weight_b * min(1, proximity + presence) * guarded_bi, with
    guarded_bi = threat_exposure_i + sum over poles p != b of rivalry_bp * threat_pi.

    Two kinds of threat. The exposure: terrorism from Afghanistan, frozen conflicts, a
    neighbour (the CSTO rapid reaction forces and Russian bases, 000, 001, 004). And the
    threat of the poles bloc b is rival to (``threat_from_poles``): an alliance shields its
    members from its rival, so a state the rival threatens has a reason to join it (Walt's
    balance of threat; GUAM's four "felt intimidated by Russia's military machine and
    therefore" sought to "counterbalance", 001; Belarus's "military presence along the
    perimeter", 003). An excludable guarantee (CSTO Art. 4): only members get it; ``none``
    gets 0. >= 0; ``threat_rows`` is (R, n, B), ``rivalry`` (B, B).
    """
    reach = np.minimum(1.0, pair_rows(pair.proximity + pair.presence, rows))[..., sec]
    strength = (credibility * pole.military_weight)[..., None, sec]
    exposure = state.threat_exposure[..., rows]  # (..., n)
    columns = []
    for b in sec:
        guarded = exposure
        for p in range(threat_rows.shape[-1]):
            if p != b:
                guarded = guarded + rivalry[b, p] * threat_rows[..., p]
        columns.append(guarded)
    return with_outside(np.stack(columns, axis=-1) * reach * strength)


def deterring_threat(threat: FloatArray, grievance: FloatArray) -> FloatArray:
    """The part of each pole's threat (``threat_from_poles``, (R, B, N)) that still deters
    a chooser from joining its rivals: ``threat * (1 - grievance)``. A pole whose forces
    already hold the chooser's territory without consent (grievance 1) has spent its
    deterrent: a threat deters only while compliance avoids the punishment (Schelling),
    and demonstrated aggression provokes balancing rather than compliance (Walt; 001:
    the GUAM states "felt intimidated by Russia's military machine and therefore" sought
    to "counterbalance"). The threat itself stays: the rivals' ``protection`` still
    shields against it."""
    return threat * (1.0 - grievance)


def coercion_term(threat_rows: FloatArray, rivalry: FloatArray, sec: IntArray) -> FloatArray:
    """Minus the threat from the poles that a security alignment provokes.

    Joining bloc b provokes pole p in proportion to p's rivalry with b: -sum_p rivalry_pb
    * threat_p (``threat_from_poles``; Russia against a NATO partnership, "a most rigid
    response" to interference, 003); ``none`` provokes nobody. ``threat_rows`` is
    (R, n, B); ``rivalry`` (B, B).
    """
    columns = []
    for b in sec:
        total = -threat_rows[..., 0] * rivalry[0, b]
        for p in range(1, threat_rows.shape[-1]):
            total = total - threat_rows[..., p] * rivalry[p, b]
        columns.append(total)
    return with_outside(np.stack(columns, axis=-1))


def deterrence(stance: Scalar) -> FloatArray:
    """How far a pole's threat deters a chooser from joining its rivals, the factor on
    ``coercion``: 1 - stance, in [0, 2]. A balancer (stance +1) is not deterred: it meets
    a threat by allying against it (GUAM's four "felt intimidated by Russia's military
    machine and therefore" sought to "counterbalance", 001), and ``protection`` values
    that ally's shield. A bandwagoner (-1) yields to it twice over (Morgenthau's weak
    neighbour of a great power, 004). 1 at the default stance, 0: the term as it was.
    A float, or an array over runs (``studies.points``), as for ``stance_term``."""
    return (1.0 - np.asarray(stance, dtype=np.float64)).astype(FLOAT)


def stance_term(
    power_rows: FloatArray, threat_rows: FloatArray, stance: Scalar, sec: IntArray
) -> FloatArray:
    """Balancing vs bandwagoning on regional power: which side to join, in [-1, 1].

    With s = stance in [-1, 1] and share_b the bloc's share of the regional power the
    chooser sees (``regional_power``), the pull of bloc b is (1 - s)/2 * share_b
    (bandwagoning: join the strongest side near you) + (1 + s)/2 * (1 - threat_share_b) *
    share_b (balancing: join the side that can offset the biggest threat, not the threat
    itself). Morgenthau (004), Hurrell and Soderbaum (001). The rules say which side to
    join, not whether to join one: each bloc gets its pull minus the mean pull over the
    blocs, and ``none`` 0. ``power_rows`` is (R, n, P), ``threat_rows`` (R, n, B).
    """
    share = power_rows / np.maximum(sum_last_axis(power_rows), EPS)[..., None]
    threat_share = threat_rows[..., sec] / np.maximum(sum_last_axis(threat_rows), EPS)[..., None]
    stance64 = np.asarray(stance, dtype=np.float64)  # the same rounding for a float or per run
    bandwagon = ((1.0 - stance64) / 2.0).astype(FLOAT)
    balance = ((1.0 + stance64) / 2.0).astype(FLOAT)
    pull = share * (bandwagon + balance * (1.0 - threat_share))
    mean = sum_last_axis(pull)[..., None] / pull.shape[-1]
    return with_outside(pull - mean)


def grievance_term(pair: PairParams, rows: slice, sec: IntArray) -> FloatArray:
    """Minus the grievance against a pole whose forces hold the chooser's territory
    without consent, in [-1, 0]: Transnistria, Abkhazia and South Ossetia, Crimea (001;
    data field russian_troops_without_host_consent)."""
    return with_outside(-pair_rows(pair.grievance, rows)[..., sec])


def regime_security_term(
    state: StateParams, pole: PoleParams, rows: slice, options: IntArray
) -> FloatArray:
    """Regime protection a pole's bloc or union offers an insecure regime of the kind the
    pole props up: regime_support_b * kind_bi * regime_insecurity_i, >= 0 (0 for a secure
    regime), with kind_bi the chooser's autocracy for a pole that props up autocracies
    and its democracy (1 - autocracy) for one that props up democracies
    (``supports_democracy``). ``options`` are the poles of the choice: the security blocs
    (``sec``) or every pole's union (the economic choice).

    Regionalism "helps self-preservation of the otherwise vulnerable and potentially
    unstable regimes" (001, of the Eurasian regional projects, the unions as much as the
    alliance: Uzbekistan joined EurAsEC and the CSTO in 2006, after Andijan, data);
    "the key value for their elites is the stability of their regimes" (002): Russia
    supports "the ruling Central Asian regimes" (004). The West backs the regimes the
    colour revolutions brought, "much helped by western advice, encouragement, and cash
    handouts" (001; 004: "accelerated liberalization and democratization campaigns").
    The term bites when colour revolutions, unrest or a succession make the regime
    insecure (events raise ``regime_insecurity``): protective integration answers a threat.
    """
    support = pole.regime_support[..., None, options]
    democrat = pole.supports_democracy[..., None, options]
    autocracy = state_rows(state.autocracy, rows)
    kind = autocracy + democrat * (1.0 - 2.0 * autocracy)
    return with_outside(kind * state_rows(state.regime_insecurity, rows) * support)


def soft_power_term(
    pole: PoleParams, pair: PairParams, years: float, rows: slice, sec: IntArray
) -> FloatArray:
    """Soft power: soft_power_b * ties_bi * exp(-fade_b * years), in [0, 1]: common
    information space, diaspora and elites that fade as generations change ("the new
    generation is looking to the West", 004)."""
    fade = np.exp(-pole.soft_power_fade * years)
    pull = (pole.soft_power * fade)[..., None, :] * pair_rows(pair.ties, rows)
    return with_outside(pull[..., sec])


def conditionality_term(
    state: StateParams, pair: PairParams, rows: slice, columns: IntArray
) -> FloatArray:
    """Minus the pole's conditionality times the chooser's autocracy, in [-1, 0], for
    alignment with each pole in ``columns`` (security poles or all poles): NATO's and
    the EU's conditions on reform threaten incumbents (Powell's message to Uzbekistan,
    004; sanctions as a "down payment", 003); Russia and China ask nothing."""
    value = -pair_rows(pair.conditionality, rows) * state_rows(state.autocracy, rows)
    return with_outside(value[..., columns])


def autonomy_term(state: StateParams, rows: slice, n_blocs: int) -> FloatArray:
    """The value of staying out of every bloc in this dimension, for the outside option
    only, in [0, 1]: Turkmenistan's permanent neutrality (data), Moldova's constitutional
    neutrality; GUAM's four "saw reintegration efforts in Eurasia as a threat to their
    national independence" (001). The values are judgements (conf/region/post_soviet.yaml)."""
    return outside_only(state_rows(state.autonomy, rows), n_blocs)


NEUTRALITY_PRICE = 10.0
"""What a permanently neutral state would give up by joining a security bloc, in utility
units: several times the range of all its other security terms together (a few units),
so the status closes the blocs under any decision rule and any parameter the robustness
box varies. Structure, not a judgement of size: a permanent neutrality is renounced only
by a constitutional change or a UN act, which no event represents."""


def neutrality_term(state: StateParams, rows: slice, n_blocs: int) -> FloatArray:
    """Minus ``NEUTRALITY_PRICE`` for every security bloc of a state whose permanent
    neutrality is in force (``neutral`` 1), 0 for ``none`` and for every other state:
    Turkmenistan's neutrality recognised by the UN General Assembly on 12 December 1995
    (data/alignment_events_1991_2010.csv), Moldova's in its Constitution of 29 July 1994
    (art. 11). A military status: the economic choice is not bound."""
    closed = -NEUTRALITY_PRICE * state_rows(state.neutral, rows)
    blocs = np.broadcast_to(closed, (*closed.shape[:-1], n_blocs))
    return with_outside(blocs)


UNFOUNDED_PRICE = NEUTRALITY_PRICE
"""What joining a union before it exists would cost, in utility units: the same structural
price as a permanent neutrality's, for the same reason (an option no treaty makes
available is closed under every rule and every parameter the robustness box varies)."""


def founding_term(pair: PairParams, rows: slice) -> FloatArray:
    """Minus ``UNFOUNDED_PRICE`` for each pole's union before its first full year
    (``union_open`` 0, from ``PoleSpec.union_from``), 0 once it exists and for ``open``:
    Russia's union from 2000, the Union State (treaty of 8 December 1999) and EurAsEC
    (treaty of 10 October 2000, data/alignment_events_1991_2010.csv); the 1995 Customs
    Union had no common external tariff, and the record codes no Russian union before
    2000."""
    return with_outside(-UNFOUNDED_PRICE * (1.0 - pair_rows(pair.union_open, rows)))


def security_membership(security_choice: IntArray, n_options: int) -> FloatArray:
    """(R, N) security options as (R, n_options, N) indicators: [chooser j holds option s].
    With ``n_options`` = S (``none`` included) for peers; with P, the security blocs'
    members (``regional_power``)."""
    options = np.arange(n_options)[:, None]
    return np.equal(security_choice[..., None, :], options).astype(FLOAT, order="F")


def peer_term(affinity: FloatArray, members: FloatArray, rows: slice) -> FloatArray:
    """Peer effects, (R, n, S): sum_j affinity_ij * [j chose security option s].

    Enmity between Armenia and Azerbaijan (002) and Central Asian rivalries (000) push a
    state away from its rival's camp; friendships pull together (domino effects, 002).
    Exact in floating point (affinities are multiples of 1/16), so one matrix product
    over the batch gives the same numbers as an agent's own row. ``members`` is (R, S, N)
    (run axis fastest, as ``security_membership`` writes it, its transpose needs no copy).
    """
    R, S, N = members.shape
    by_chooser = np.reshape(members.T, (N, S * R))
    peers = (affinity[rows] @ by_chooser).reshape(-1, S, R)
    return np.asfortranarray(peers.transpose(2, 0, 1))


def switching_term(
    current: IntArray, n_options: int, cost: Scalar, exit_factor: FloatArray | None = None
) -> FloatArray:
    """Minus the cost of leaving the current option: -cost for every other option, 0 to
    stay, (R, n, D). "A dramatic change of foreign policy orientation is fraught with
    serious potential crises" (002).

    Each option's column is written on its own, run axis fastest (as ``current`` runs);
    ``cost`` is a float or (R, 1, 1) per run. ``exit_factor`` (R, n), if given, scales
    each chooser's cost by a factor of the option it holds (``exit_factors``)."""
    price = -np.asarray(cost)
    if price.ndim:
        price = price[..., 0]  # (R, 1): one cost per run, for every chooser
    if exit_factor is not None:
        price = price * exit_factor
    out = np.empty((*current.shape, n_options), FLOAT, order="F")
    for k in range(n_options):
        np.multiply(np.not_equal(current, k), price, out=out[..., k], dtype=FLOAT)
    return out


def exit_factors(pair: PairParams, rows: slice, sec: IntArray) -> FloatArray | None:
    """(..., S + 1, n) the factor on the cost of leaving each security option: a bloc's
    ``exit_cost`` (1 unless an event sets it: 0 while a treaty's term lapses, when leaving
    takes only not signing its renewal), 1 for ``none``; None when every factor is 1."""
    exit_cost = pair.exit_cost[..., rows]
    if not np.any(exit_cost != 1.0):
        return None
    blocs = exit_cost[..., sec, :]
    return np.concatenate([blocs, np.ones_like(blocs[..., :1, :])], axis=-2)


def held_exit_factor(factors: FloatArray, held: IntArray) -> FloatArray:
    """(R, n) each chooser's factor on leaving the option it holds (``exit_factors``)."""
    per_option = np.broadcast_to(factors, (*held.shape[:-1], *factors.shape[-2:]))
    return np.take_along_axis(per_option, held[..., None, :], axis=-2)[..., 0, :]


# --- economic terms: (..., n, E), the last option ``open`` --------------------------------


def trade_term(
    pole: PoleParams, pair: PairParams, credibility: FloatArray, rows: slice
) -> FloatArray:
    """Trade created, as far as the pole is trusted, minus trade diverted by joining a
    pole's union, in [-1, 1]: credibility_b * f_bi - sum_{p != b} f_pi, with
    f_pi = trade_share_pi * trade_factor_p.

    A customs union's common external tariff makes trade with its members cheaper and
    trade with everyone else dearer (Viner's trade creation and diversion): union with
    Russia pays for Belarus, 45-50% of whose trade is with Russia (003), and costs a state
    that trades as much with the EU or China. The diversion is certain, the tariff binds;
    the gain rests on the leader keeping the union's rules, so it is discounted by the
    leader's credibility, as its other promises are. Russia is "unclear about its
    intentions and inconsistent in its actions" (its WTO U-turn for a customs union), so
    "those countries that see the potential to join other international alliances will
    make every effort to avoid fully committing to Moscow, even if they would enjoy certain
    benefits by doing so" (000). EAEU trade fell 25% in 2015 (002), which events represent
    as a trade_factor of 0.75. ``open`` is 0. ``credibility`` is (R, B).
    """
    flows = pair_rows(pair.trade_share, rows) * pole.trade_factor[..., None, :]
    total = sum_last_axis(flows)[..., None]
    created = np.multiply(1.0 + credibility[..., None, :], flows, order="F")  # run axis fastest
    return with_outside(created - total)


INDUCEMENT_SCALE_PCT = 10.0
"""An offer of this many percent of the receiver's GDP a year is worth log(2) (judgement,
in no text: set when the model review measured inducements as the dominant term at 1%;
docs/MODEL.md, "Calibration"), so a yearly offer of 1% of GDP counts about as much as 5%
of a state's trade."""


def inducement_terms(
    state: StateParams,
    pair: PairParams,
    offers: FloatArray,
    premiums: FloatArray,
    credibility: FloatArray,
    held_security_pole: IntArray,
    held_economy: IntArray,
    rows: slice,
    sec: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Inducements on offer, credibility-discounted, in each choice: (security (..., n,
    S + 1), economy (..., n, P + 1)). An offer's worth is credibility_b * log(1 + offer as %
    of GDP / ``INDUCEMENT_SCALE_PCT``): loans, subsidies and debt swaps (China's US$10bn and
    12bn loans, 001; the US$10bn plant loan, 003; the IMF's up to US$3bn, 003) matter
    relative to the economy that receives them; the log saturates large offers.

    A pole's spending-rule offer (``offers``, (R, B, N)) has two parts. Its base share is
    paid to members in either dimension (``pole_members``), so each choice values it given
    the other choice as held (``held_security_pole``, (R, n): the pole of each chooser's
    security option, -1 for ``none``; ``held_economy``, (R, n)): the economic choice counts
    pole b's base share for b's union only while the chooser is outside b's security bloc,
    and the security choice counts it for b's bloc only while the chooser is outside b's
    union; where the other choice already keeps it, no option of this one gains or loses
    it. Its premium (``premiums``, the bid the spending rule makes on the economic margin)
    is paid for the union, and counts in the economic choice only: the texts tie such money
    to the union's politics (002: an end to "unlimited subsidizing ... if it does not
    produce immediate political results"; 000: Lukashenko's "old trick of demanding new
    concessions"). Its pledge
    (``pair.pledge_bn``, an offer an event puts on the table outside the spending rule) is
    economic only and pays for any economic choice but a rival's union: for its own union
    (with the offer at stake there) and for ``open`` (the sum over the poles' pledges).
    The West's carrots for Belarus are "attempts to push Belarus towards neutrality",
    negotiated "with Minsk separately from the EEU" (003), not an invitation to join.
    """
    scale = 100.0 / INDUCEMENT_SCALE_PCT
    per_gdp = scale / state.gdp_bn[..., None, rows]
    offered = offers[..., rows]  # (R, B, n)
    n_poles = offered.shape[-2]
    premium = premiums[..., rows]
    # The base share is >= 0 (the premium is part of the offer): its product with a mask
    # is np.where(mask, base_share, 0) to the bit, and several times faster.
    base_share = offered - premium
    pledged = pair.pledge_bn[..., rows]
    poles = np.arange(n_poles)[:, None]
    outside_bloc = held_security_pole[..., None, :] != poles  # (R, B, n)
    at_stake = base_share * outside_bloc + premium
    value = credibility[..., :, None] * np.log1p(
        ((at_stake + pledged) * per_gdp).astype(FLOAT, copy=False)
    )
    outside: Any = 0.0
    if np.any(pledged):
        pledge_value = credibility[..., :, None] * np.log1p((pledged * per_gdp).astype(FLOAT))
        outside = sum_last_axis(np.swapaxes(pledge_value, -1, -2))
    outside_union = held_economy[..., None, :] != np.asarray(sec)[:, None]  # (R, S, n)
    for_bloc = base_share[..., sec, :] * outside_union
    bloc_value = credibility[..., sec, None] * np.log1p(
        (for_bloc * per_gdp).astype(FLOAT, copy=False)
    )
    return (
        with_outside(np.swapaxes(bloc_value, -1, -2)),
        with_outside(np.swapaxes(value, -1, -2), outside),
    )


def remittance_term(state: StateParams, pair: PairParams, rows: slice) -> FloatArray:
    """Remittances from the union's labour market as a fraction of GDP, once the union has
    one (``labour_open``): free movement of labour in the union secures what migrants
    send home (004: "Encouragement of labor migration to Russia"; 001: regional
    cooperation "enables some form of a privileged access to the credit, labor, and trade
    markets of the participant states"; Kyrgyzstan's accession to the EAEU in 2015, data:
    eaeu_member). Before it a union secures nothing that staying out would lose: the CIS
    "allowed institutionalization of the relatively unrestricted movement of labor" (001)
    whatever a member's union."""
    return with_outside(
        state_rows(state.remittances, rows)
        * pair_rows(pair.remittance_origin, rows)
        * pair_rows(pair.labour_open, rows)
    )


def transit_term(pair: PairParams, rows: slice) -> FloatArray:
    """Dependence on the union's pipelines and transit routes, in [0, 1] (pipelines in
    Belarus, 003; gas routes of Central Asia, 001)."""
    return with_outside(pair_rows(pair.transit, rows))


def dependence(state: StateParams, pair: PairParams, rows: slice) -> FloatArray:
    """How exposed a chooser is to each pole's economic pressure, (R, n, B) in [0, 1]:
    min(1, trade share + transit dependence + remittances from it as a share of GDP)."""
    remitted = state_rows(state.remittances, rows) * pair_rows(pair.remittance_origin, rows)
    exposed = pair_rows(pair.trade_share, rows) + pair_rows(pair.transit, rows) + remitted
    return np.minimum(1.0, exposed)


def economic_coercion_term(
    pole: PoleParams,
    pair: PairParams,
    exposure: FloatArray,
    rivalry: FloatArray,
    rows: slice,
) -> FloatArray:
    """Minus the economic pressure an economic alignment provokes: joining pole b's union
    costs sum_p rivalry_pb * coercion_p * pressure_pi * economic_pressure_pi *
    dependence_pi -- gas cut-offs, import bans and migrant expulsions, which bite in
    proportion to what the chooser depends on (001, 003; Hirschman's dependence as
    vulnerability). ``open`` provokes nobody. ``exposure`` from ``dependence``, (R, n, B).
    A military escalation (``pressure``) raises this threat and the military one
    (``threat_from_poles``); an economic punishment (``economic_pressure``: an embargo, a
    gas cut-off) raises this one only."""
    pressure = pair_rows(pair.pressure, rows) * pair_rows(pair.economic_pressure, rows)
    leverage = pole.coercion[..., None, :] * pressure * exposure
    n_poles = exposure.shape[-1]
    columns = []
    for b in range(n_poles):
        total = -leverage[..., 0] * rivalry[0, b]
        for p in range(1, n_poles):
            total = total - leverage[..., p] * rivalry[p, b]
        columns.append(total)
    return with_outside(np.stack(columns, axis=-1))


# --- composition ------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What every chooser sees at the start of a tick (all decide from the same one).

    security, economy: (R, N) option indices; power: (R, P, N) regional power of each
    security bloc; threat: (R, B, N); offers: (R, B, N) US$ bn a year, of which premiums
    (R, B, N) (``spending``); credibility: (R, B); years: years since the start of 1991
    (``RunInputs.years_since_independence``).
    """

    security: IntArray
    economy: IntArray
    power: FloatArray
    threat: FloatArray
    offers: FloatArray
    credibility: FloatArray
    years: float
    premiums: FloatArray


def parameter_terms(
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    threat: FloatArray,
    rivalry: FloatArray,
    sec: IntArray,
    weights: Any,
    stance: Scalar,
    rows: slice,
) -> Terms:
    """The weighted terms that read nothing but parameters, for the chooser rows ``rows``
    (the threat, (R, B, N) from ``threat_from_poles``, is parameters too; the stance
    scales ``coercion`` by ``deterrence``): the same in every tick the parameters are, so
    the engine computes them once for such ticks. ``utility_terms`` puts them in their
    places."""
    n_sec = len(sec)
    n_poles = pole.budget_bn.shape[-1]
    security = {
        "coercion": weights.coercion
        * deterrence(stance)
        * coercion_term(pair_rows(deterring_threat(threat, pair.grievance), rows), rivalry, sec),
        "grievance": weights.grievance * grievance_term(pair, rows, sec),
        "regime_security": weights.regime_security * regime_security_term(state, pole, rows, sec),
        "conditionality": weights.conditionality * conditionality_term(state, pair, rows, sec),
        "autonomy": weights.autonomy * autonomy_term(state, rows, n_sec),
        "neutrality": neutrality_term(state, rows, n_sec),
    }
    exposure = dependence(state, pair, rows)
    economy = {
        "remittances": weights.remittances * remittance_term(state, pair, rows),
        "transit": weights.transit * transit_term(pair, rows),
        "economic_coercion": weights.economic_coercion
        * economic_coercion_term(pole, pair, exposure, rivalry, rows),
        "regime_security": weights.regime_security
        * regime_security_term(state, pole, rows, np.arange(n_poles)),
        "conditionality": weights.conditionality
        * conditionality_term(state, pair, rows, np.arange(n_poles)),
        "autonomy": weights.autonomy * autonomy_term(state, rows, n_poles),
        "founding": founding_term(pair, rows),
    }
    return Terms(security, economy)


def utility_terms(
    snap: Snapshot,
    state: StateParams,
    pole: PoleParams,
    pair: PairParams,
    affinity: FloatArray,
    rivalry: FloatArray,
    sec: IntArray,
    weights: Any,
    dynamics: Any,
    stance: Scalar,
    rows: slice,
    fixed: Terms | None = None,
) -> Terms:
    """Every named term, weighted, for the chooser rows ``rows``, in both dimensions.

    ``weights`` is a UtilityWeights and ``dynamics`` a Dynamics (floats, or arrays over
    runs in a batch of parameter points, see ``studies/points.py``). ``fixed``: the
    ``parameter_terms`` of these parameters and rows when already computed.
    """
    n_sec = len(sec)
    n_poles = pole.budget_bn.shape[-1]
    if fixed is None:
        fixed = parameter_terms(state, pole, pair, snap.threat, rivalry, sec, weights, stance, rows)
    members = security_membership(snap.security, n_sec + 1)
    held_security_pole = np.append(np.asarray(sec), -1)[snap.security[..., rows]]
    exits = exit_factors(pair, rows, sec)
    for_bloc, for_union = inducement_terms(
        state,
        pair,
        snap.offers,
        snap.premiums,
        snap.credibility,
        held_security_pole,
        snap.economy[..., rows],
        rows,
        sec,
    )
    security = {
        "protection": weights.protection
        * protection_term(
            state, pole, pair, snap.credibility, pair_rows(snap.threat, rows), rivalry, rows, sec
        ),
        "coercion": fixed.security["coercion"],
        "stance": weights.stance
        * stance_term(pair_rows(snap.power, rows), pair_rows(snap.threat, rows), stance, sec),
        "grievance": fixed.security["grievance"],
        "regime_security": fixed.security["regime_security"],
        "soft_power": weights.soft_power * soft_power_term(pole, pair, snap.years, rows, sec),
        "inducements": weights.inducements * for_bloc,
        "conditionality": fixed.security["conditionality"],
        "autonomy": fixed.security["autonomy"],
        "neutrality": fixed.security["neutrality"],
        "peer": weights.peer * peer_term(affinity, members, rows),
        "switching": switching_term(
            snap.security[..., rows],
            n_sec + 1,
            dynamics.switching_cost,
            None if exits is None else held_exit_factor(exits, snap.security[..., rows]),
        ),
    }
    economy = {
        "trade": weights.trade * trade_term(pole, pair, snap.credibility, rows),
        "inducements": weights.inducements * for_union,
        "remittances": fixed.economy["remittances"],
        "transit": fixed.economy["transit"],
        "economic_coercion": fixed.economy["economic_coercion"],
        "regime_security": fixed.economy["regime_security"],
        "conditionality": fixed.economy["conditionality"],
        "autonomy": fixed.economy["autonomy"],
        "founding": fixed.economy["founding"],
        "switching": switching_term(
            snap.economy[..., rows], n_poles + 1, dynamics.economic_switching_cost
        ),
    }
    return Terms(security, economy)


# --- decisions --------------------------------------------------------------------------


def gumbel_from_uniform(u: Any) -> FloatArray:
    """Standard Gumbel noise, float32, from float32 uniforms in [0, 1): -log(-log(u)).

    Single precision is ample for noise; the tail is cut at about 16.6 (u = 1 - 2**-24),
    and u = 0 gives -inf (that option is not picked). Written in one new array with the
    first (run) axis fastest in memory, as the engine lays out a tick's draws.
    """
    gumbel = np.empty(np.shape(u), dtype=np.float32, order="F")
    with np.errstate(divide="ignore"):
        np.log(np.asarray(u, dtype=np.float32), out=gumbel)
        np.negative(gumbel, out=gumbel)
        np.log(gumbel, out=gumbel)
        np.negative(gumbel, out=gumbel)
    return gumbel


def choose(
    utility: FloatArray, current: IntArray, gumbel: FloatArray, rule: str, rationality: Scalar
) -> IntArray:
    """The option each chooser picks in one dimension, (R, n), from utilities (R, n, D).

    logit: argmax of rationality * U + Gumbel noise, i.e. P(k) = softmax(rationality *
    U)_k (quantal response). Any other rule: the argmax of U, staying put on ties (the
    realist rules pass the security utility of ``REALIST_TERMS``).
    """
    if rule == "logit":
        return first_argmax(rationality * utility + gumbel)[0]
    best, top = first_argmax(utility)
    stay = np.take_along_axis(utility, current[..., None], axis=-1)[..., 0] >= top
    return np.asarray(np.where(stay, current, best), dtype=np.int64)


def first_argmax(score: FloatArray) -> tuple[IntArray, FloatArray]:
    """Index of the first maximum over the last axis (as ``np.argmax``) and the maximum.

    The index is kept in the smallest integer type that holds it (one byte for a few
    options, a fraction of the memory traffic) and returned as int64."""
    top = score[..., 0]
    best = np.zeros_like(top, dtype=np.min_scalar_type(score.shape[-1]))
    for k in range(1, score.shape[-1]):
        column = score[..., k]
        better = column > top
        top = np.maximum(top, column)
        best += better * (k - best)
    return best.astype(np.int64), top


def choice_probabilities(utility: FloatArray, rationality: float) -> FloatArray:
    """Logit (quantal response) probabilities of each option, (..., D); sums to one."""
    scaled = rationality * utility
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return np.asarray(weights / weights.sum(axis=-1, keepdims=True))
