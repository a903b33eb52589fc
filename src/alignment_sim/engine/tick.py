"""One synchronous tick over a batch of replications, built from the kernels.

The Mesa model (``model.mesa_model``) performs the same sequence agent by agent on the
same kernels; the two must change together (the bit-identity tests enforce it). Order
within a tick: the base parameters of the tick's calendar year (``World.params_for_tick``),
events start and apply on them; poles plan (threat and offers) from last tick's
state; every chooser scores every option from that one snapshot and chooses; then
choosers commit and poles update credibility and memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignment_sim.model import kernels
from alignment_sim.model.events import active_events, apply_events, initial_starts, update_starts
from alignment_sim.model.inputs import RunInputs, TickOutput
from alignment_sim.model.world import FLOAT, FloatArray, IntArray

ALL = slice(None)


@dataclass
class BatchState:
    """The dynamic state of R replications between ticks, in Fortran order (the run
    axis varies fastest; see ``kernels``)."""

    alignment: IntArray  # (R, N) option index
    utility: FloatArray  # (R, N, K) last tick's utilities (zeros before the first)
    credibility: FloatArray  # (R, B)
    defection: FloatArray  # (R, B, N)
    starts: IntArray  # (R, E) event start ticks, -1 before

    @classmethod
    def initial(cls, inputs: RunInputs, batch: int) -> BatchState:
        world = inputs.world
        N, B = world.n_states, world.n_poles
        return cls(
            alignment=np.broadcast_to(world.initial_alignment, (batch, N)).copy(order="F"),
            utility=np.zeros((batch, N, B + 1), dtype=FLOAT, order="F"),
            credibility=np.broadcast_to(world.pole.credibility, (batch, B)).copy(order="F"),
            defection=np.zeros((batch, B, N), dtype=FLOAT, order="F"),
            starts=initial_starts(inputs.program, batch),
        )


def tick_batch(
    inputs: RunInputs, state: BatchState, tick: int, noise: FloatArray, event_uniforms: FloatArray
) -> tuple[BatchState, TickOutput]:
    """One synchronous tick for every replication: noise (R, N, K), event_uniforms (R, E)."""
    world, dyn = inputs.world, inputs.dynamics
    B = world.n_poles
    starts = update_starts(state.starts, inputs.program, tick, event_uniforms)
    active = active_events(starts, inputs.program, tick)
    s_par, p_par, q_par = apply_events(world, inputs.program, active, tick)

    threat = kernels.threat_from_poles(p_par, q_par, state.defection, ALL)
    margins = kernels.bloc_margins(state.utility, B)
    offers = kernels.spending_offers(p_par, q_par, s_par, margins, dyn.margin_scale, ALL)
    members = kernels.membership(state.alignment, B + 1)
    snap = kernels.Snapshot(
        alignment=state.alignment,
        members=members,
        power=kernels.bloc_power(p_par, s_par, members),
        threat=threat,
        offers=offers,
        credibility=state.credibility,
        years=inputs.years_elapsed(tick),
    )
    terms = kernels.utility_terms(
        snap,
        s_par,
        p_par,
        q_par,
        world.affinity,
        inputs.weights,
        dyn,
        inputs.stance,
        inputs.cost_matrix,
        ALL,
    )
    utility = kernels.total_utility(terms)
    security = inputs.security_score(terms, utility)
    choice = kernels.choose(
        utility, security, state.alignment, inputs.gumbel(noise), inputs.rule, inputs.rationality
    )

    defection = kernels.next_defection(
        state.defection,
        state.alignment,
        choice,
        ALL,
        B,
        dyn.defection_decay,
        dyn.hedge_switch_fraction,
    )
    new_state = BatchState(
        alignment=choice,
        utility=utility,
        credibility=kernels.next_credibility(
            state.credibility, p_par.credibility, dyn.credibility_recovery
        ),
        defection=defection,
        starts=starts,
    )
    output = TickOutput(
        choice=choice,
        utility=utility,
        terms=terms,
        offers=offers,
        credibility=state.credibility,
        threat=threat,
        power=snap.power,
        active=active,
    )
    return new_state, output
