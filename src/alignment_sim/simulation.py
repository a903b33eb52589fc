"""What one tick does, over a batch of replications, built from the kernels.

``RunInputs`` is a run's compiled configuration (world, events, parameters);
``RunStreams`` its random numbers, which depend only on the seed; ``tick_batch`` one
synchronous tick for R replications at once. The Mesa model (``model.py``) performs the
same sequence agent by agent on the same kernels; the engine (``engine.py``) calls
``tick_batch`` directly. Order within a tick: events start and apply; poles plan (threat
and offers) from last tick's state; every chooser scores every option from that one
snapshot and chooses; then choosers commit and poles update credibility and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignment_sim import kernels as K
from alignment_sim.events import (
    EventProgram,
    active_events,
    apply_events,
    compile_scenario,
    initial_starts,
    update_starts,
)
from alignment_sim.params import Dynamics, SimulationConfig, UtilityWeights
from alignment_sim.world import FLOAT, FloatArray, IntArray, World, build_world

ALL = slice(None)


@dataclass(frozen=True)
class RunInputs:
    """A run's compiled configuration: everything but the seed."""

    world: World
    program: EventProgram
    weights: UtilityWeights
    dynamics: Dynamics
    rule: str
    rationality: float
    ticks: int
    cost_matrix: FloatArray = field(repr=False)

    @classmethod
    def from_config(cls, config: SimulationConfig, world: World | None = None) -> RunInputs:
        """Compile a validated configuration (builds the world unless given)."""
        world = world if world is not None else build_world(config.region)
        program = compile_scenario(config.scenario, world, config.ticks)
        return cls(
            world=world,
            program=program,
            weights=config.weights,
            dynamics=config.dynamics,
            rule=config.decision.rule,
            rationality=config.decision.rationality,
            ticks=config.ticks,
            cost_matrix=K.switching_cost_matrix(
                len(world.options), config.dynamics.hedge_switch_fraction
            ),
        )

    @property
    def stance(self) -> float:
        """The stance in force: the realist rules force pure balancing or bandwagoning."""
        if self.rule == "balancing":
            return 1.0
        if self.rule == "bandwagoning":
            return -1.0
        return self.dynamics.stance

    def gumbel(self, noise: FloatArray) -> FloatArray:
        """Gumbel noise from the tick's uniforms; only the logit rule uses it."""
        return K.gumbel_from_uniform(noise) if self.rule == "logit" else noise

    def security_score(self, terms: dict[str, K.Part], utility: FloatArray) -> FloatArray:
        """What the realist rules maximise: the security terms alone (else the utility)."""
        if self.rule in ("balancing", "bandwagoning"):
            return K.total_utility(terms, K.SECURITY_TERMS)
        return utility

    def years_elapsed(self, tick: int) -> float:
        return tick * self.world.tick_months / 12.0


class RunStreams:
    """The random numbers of one run, from its seed alone, drawn up front.

    One generator, ``Generator(PCG64(seed))`` (what ``default_rng(seed)`` builds), draws
    every choice uniform (ticks x choosers x options, float32) and then every event-hazard
    uniform (ticks x events, float64). All
    are drawn whatever the rule, so the Mesa model and the engine consume them alike.
    """

    def __init__(self, seed: int, ticks: int, n_states: int, n_options: int, n_events: int) -> None:
        generator = np.random.Generator(np.random.PCG64(seed))
        self.noise = generator.random((ticks, n_states, n_options), dtype=np.float32)
        self.hazards = generator.random((ticks, n_events))

    @classmethod
    def for_run(cls, inputs: RunInputs, seed: int) -> RunStreams:
        world = inputs.world
        return cls(seed, inputs.ticks, world.n_states, len(world.options), inputs.program.n_events)


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


@dataclass
class TickOutput:
    """What a tick produced, for recording and explanation."""

    choice: IntArray  # (R, N)
    utility: FloatArray  # (R, N, K)
    terms: dict[str, K.Part]  # name -> weighted term (blocs, hedge)
    offers: FloatArray  # (R, B, N) US$ bn a year
    credibility: FloatArray  # (R, B) in force this tick
    threat: FloatArray  # (R, B, N)
    power: FloatArray  # (R, B)
    active: Any  # (R, E) bool


def tick_batch(
    inputs: RunInputs, state: BatchState, tick: int, noise: FloatArray, event_uniforms: FloatArray
) -> tuple[BatchState, TickOutput]:
    """One synchronous tick for every replication: noise (R, N, K), event_uniforms (R, E)."""
    world, dyn = inputs.world, inputs.dynamics
    B = world.n_poles
    starts = update_starts(state.starts, inputs.program, tick, event_uniforms)
    active = active_events(starts, inputs.program, tick)
    s_par, p_par, q_par = apply_events(world, inputs.program, active)

    threat = K.menace(p_par, q_par, state.defection, ALL)
    margins = K.bloc_margins(state.utility, B)
    offers = K.spending_offers(p_par, q_par, s_par, margins, dyn.margin_scale, ALL)
    members = K.membership(state.alignment, B + 1)
    snap = K.Snapshot(
        alignment=state.alignment,
        members=members,
        power=K.bloc_power(p_par, s_par, members),
        threat=threat,
        offers=offers,
        credibility=state.credibility,
        years=inputs.years_elapsed(tick),
    )
    terms = K.utility_terms(
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
    utility = K.total_utility(terms)
    security = inputs.security_score(terms, utility)
    choice = K.choose(
        utility, security, state.alignment, inputs.gumbel(noise), inputs.rule, inputs.rationality
    )

    defection = K.next_defection(
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
        credibility=K.next_credibility(
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
