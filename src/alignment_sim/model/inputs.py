"""What one tick does, over a batch of replications, built from the kernels.

``RunInputs`` is a run's compiled configuration (world, events, parameters);
``RunStreams`` its random numbers, which depend only on the seed; ``tick_batch`` one
synchronous tick for R replications at once (``engine.tick``). The Mesa model
(``model.mesa_model``) performs the same sequence agent by agent on the same kernels.
Order within a tick: the base parameters of the tick's calendar year
(``World.params_for_tick``), events start and apply on them; poles plan (threat and
offers) from last tick's state; every chooser scores every option from that one snapshot
and chooses; then choosers commit and poles update credibility and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignment_sim.model import kernels
from alignment_sim.model.events import (
    EventProgram,
    compile_scenario,
)
from alignment_sim.model.params import Dynamics, SimulationConfig, UtilityWeights
from alignment_sim.model.world import FloatArray, IntArray, World, build_world

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
        """Compile a configuration (builds the world unless given).

        The configuration is validated again here: a field changed after construction
        (``config.dynamics.stance = 5``) is refused before anything runs.
        """
        config.validate()
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
            cost_matrix=kernels.switching_cost_matrix(
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
        return kernels.gumbel_from_uniform(noise) if self.rule == "logit" else noise

    def security_score(
        self, terms: dict[str, kernels.OptionValues], utility: FloatArray
    ) -> FloatArray:
        """What the realist rules maximise: the security terms alone (else the utility)."""
        if self.rule in ("balancing", "bandwagoning"):
            return kernels.total_utility(terms, kernels.SECURITY_TERMS)
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
class TickOutput:
    """What a tick produced, for recording and explanation."""

    choice: IntArray  # (R, N)
    utility: FloatArray  # (R, N, K)
    terms: dict[str, kernels.OptionValues]  # name -> weighted term (blocs, hedge)
    offers: FloatArray  # (R, B, N) US$ bn a year
    credibility: FloatArray  # (R, B) in force this tick
    threat: FloatArray  # (R, B, N)
    power: FloatArray  # (R, B)
    active: Any  # (R, E) bool
