"""One synchronous tick over a batch of replications, built from the kernels.

The Mesa model (``model.mesa_model``) performs the same sequence agent by agent on the
same kernels; the two must change together (the bit-identity tests enforce it). Order
within a tick: the base parameters of the tick's calendar year (``World.params_for_tick``),
events start and apply on them; poles plan (threat and offers) from last tick's
state; every chooser scores every option from that one snapshot and chooses; then
choosers commit and poles update credibility from the promises they kept.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alignment_sim.model import kernels
from alignment_sim.model.events import active_events, apply_events, initial_starts, update_starts
from alignment_sim.model.inputs import RunInputs, TickOutput
from alignment_sim.model.world import FLOAT, BaseParams, FloatArray, IntArray

ALL = slice(None)
TickParams = tuple[BaseParams, FloatArray, kernels.Terms]
"""A tick's (state, pole, pair) parameters, the threat and the parameter terms."""


@dataclass
class BatchState:
    """The dynamic state of R replications between ticks."""

    security: IntArray  # (R, N) security option index
    economy: IntArray  # (R, N) economic option index
    margins: FloatArray  # (R, B, N) economic margins from last tick (kernels.economic_margins)
    expected: FloatArray  # (R, B, N) offers the choosers expect: the poles' promises
    credibility: FloatArray  # (R, B)
    starts: IntArray  # (R, E) event start ticks, -1 before

    @classmethod
    def initial(cls, inputs: RunInputs, batch: int) -> BatchState:
        world = inputs.world
        N, B = world.n_states, world.n_poles
        profiles, space = world.initial_alignment, world.space
        return cls(
            security=np.asfortranarray(
                np.broadcast_to(space.profile_security[profiles], (batch, N))
            ),
            economy=np.asfortranarray(np.broadcast_to(space.profile_economy[profiles], (batch, N))),
            margins=np.full((batch, B, N), kernels.NO_MARGIN, dtype=FLOAT, order="F"),
            expected=np.asfortranarray(
                np.broadcast_to(kernels.starting_expectations(inputs), (batch, B, N))
            ),
            credibility=np.asfortranarray(
                np.broadcast_to(world.pole.credibility, (batch, B)).astype(FLOAT)
            ),
            starts=initial_starts(inputs.program, batch),
        )


class TickParameters:
    """The parameters in force at a tick, the threat and the ``kernels.parameter_terms``
    they give, for one RunInputs: kept from the last tick and reused while the base
    parameters (``World.params_for_tick``: the same objects within a calendar year) and
    the events active in each run are the same, since they are then the same numbers.
    """

    def __init__(self, inputs: RunInputs) -> None:
        self.inputs = inputs
        self.last: tuple[BaseParams, NDArray[np.bool_], TickParams] | None = None

    def at(self, tick: int, active: NDArray[np.bool_]) -> TickParams:
        """(state, pole, pair) parameters, threat (R, B, N) and parameter terms at ``tick``
        with the events ``active`` (R, E)."""
        inputs, world = self.inputs, self.inputs.world
        base = world.params_for_tick(tick)
        if self.last is not None:
            last_base, last_active, last = self.last
            if all(map(operator.is_, base, last_base)) and np.array_equal(active, last_active):
                return last
        state, pole, pair = params = apply_events(world, inputs.program, active, tick)
        threat = kernels.threat_from_poles(pole, pair, ALL)
        fixed = kernels.parameter_terms(
            state,
            pole,
            pair,
            threat,
            world.rivalry,
            world.security_poles,
            inputs.weights,
            inputs.stance,
            ALL,
        )
        self.last = (base, active, (params, threat, fixed))
        return params, threat, fixed


def tick_batch(
    inputs: RunInputs,
    state: BatchState,
    tick: int,
    noise: FloatArray,
    event_uniforms: FloatArray,
    parameters: TickParameters | None = None,
) -> tuple[BatchState, TickOutput]:
    """One synchronous tick for every replication: noise (R, N, S + E), event_uniforms (R, E).

    ``parameters``: a ``TickParameters(inputs)`` carried from tick to tick (a run of ticks
    reuses what is unchanged), or None to compute this tick's afresh.
    """
    world, dyn = inputs.world, inputs.dynamics
    sec = world.security_poles
    starts = update_starts(state.starts, inputs.program, tick, event_uniforms)
    active = active_events(starts, inputs.program, tick)
    if parameters is None:
        parameters = TickParameters(inputs)
    (s_par, p_par, q_par), threat, fixed = parameters.at(tick, active)

    members = kernels.pole_members(state.security, state.economy, sec, world.n_poles)
    offers, premiums = kernels.spending(
        p_par, q_par, members, state.margins, inputs.rationality, ALL
    )
    in_bloc = kernels.security_membership(state.security, len(sec))
    snap = kernels.Snapshot(
        security=state.security,
        economy=state.economy,
        power=kernels.regional_power(p_par, s_par, q_par, in_bloc, sec),
        threat=threat,
        offers=offers,
        credibility=state.credibility,
        years=inputs.years_since_independence(tick),
        premiums=premiums,
    )
    terms = kernels.utility_terms(
        snap,
        s_par,
        p_par,
        q_par,
        world.affinity,
        world.rivalry,
        sec,
        inputs.weights,
        dyn,
        inputs.stance,
        ALL,
        fixed,
    )
    security, economy, u_sec, u_econ = inputs.choose(terms, snap, inputs.gumbel(noise), ALL)
    new_state = BatchState(
        security=security,
        economy=economy,
        margins=kernels.economic_margins(u_econ, terms.economy["inducements"]),
        expected=kernels.next_expectations(state.expected, offers, dyn.credibility_recovery),
        credibility=kernels.next_credibility(
            state.credibility,
            kernels.credibility_target(p_par, dyn.credibility_prior_tests),
            kernels.kept_promises(offers, state.expected, members),
            dyn.credibility_recovery,
        ),
        starts=starts,
    )
    output = TickOutput(
        choice=security * world.space.n_economy + economy,
        security_utility=u_sec,
        economy_utility=u_econ,
        terms=terms,
        offers=offers,
        credibility=state.credibility,
        threat=threat,
        power=snap.power,
        active=active,
    )
    return new_state, output
