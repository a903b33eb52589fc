"""What one tick does, over a batch of replications, built from the kernels.

``RunInputs`` is a run's compiled configuration (world, events, parameters);
``RunStreams`` its random numbers, which depend only on the seed; ``tick_batch`` one
synchronous tick for R replications at once (``engine.tick``). The Mesa model
(``model.mesa_model``) performs the same sequence agent by agent on the same kernels.
Order within a tick: the base parameters of the tick's calendar year
(``World.params_for_tick``), events start and apply on them; poles plan (threat and
offers) from last tick's state; every chooser scores every option from that one snapshot
and chooses; then choosers commit and poles update credibility and expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from alignment_sim.errors import ConfigError
from alignment_sim.model import kernels
from alignment_sim.model.alignment import OptionSpace
from alignment_sim.model.events import (
    EventProgram,
    compile_scenario,
)
from alignment_sim.model.params import Dynamics, SimulationConfig, UtilityWeights
from alignment_sim.model.world import FloatArray, IntArray, World, build_world

ALL = slice(None)
INDEPENDENCE_YEAR = 1991
"""The end of the Soviet Union: the generations whose turn fades soft power ("the new
generation is looking to the West", 004) are counted from it."""


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

    @classmethod
    def from_config(cls, config: SimulationConfig, world: World | None = None) -> RunInputs:
        """Compile a configuration (builds the world unless given).

        The configuration is validated again here: a field changed after construction
        (``config.dynamics.stance = 5``) is refused before anything runs; so is a world
        built from another region than the configuration's (an edit of the region after
        the world was built, another region's world), which would run as it is.
        """
        if not isinstance(config, SimulationConfig):
            raise ConfigError(
                "config", type(config).__name__, "a SimulationConfig (default_config(...))"
            )
        config.validate()
        if world is not None and not isinstance(world, World):
            raise ConfigError("world", world, "a World (build_world(config.region)) or None")
        if world is not None and world.built_from and world.built_from != repr(config.region):
            raise ConfigError(
                "world",
                f"a world of region {world.region} ({world.year}, {len(world.states)} states)",
                "the world of the configuration's region, as it is now",
                "Build it again from the region (build_world(config.region)) after editing "
                "the region, or give no world.",
            )
        world = world if world is not None else build_world(config.region)
        program = compile_scenario(config.scenario, world, config.ticks)
        return cls(
            world=world,
            program=program,
            weights=replace(config.weights),  # copies: a later edit of config reaches no run
            dynamics=replace(config.dynamics),
            rule=config.decision.rule,
            rationality=config.decision.rationality,
            ticks=config.ticks,
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

    def security_score(self, terms: kernels.Terms, utility: FloatArray) -> FloatArray:
        """What the security choice maximises: the realist rules weigh the realist terms
        alone (``kernels.REALIST_TERMS``), the others the whole security utility."""
        if self.rule in ("balancing", "bandwagoning"):
            return kernels.running_sum([terms.security[name] for name in kernels.REALIST_TERMS])
        return utility

    def choose(
        self, terms: kernels.Terms, snap: kernels.Snapshot, gumbel: FloatArray, rows: slice
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Both choices of the chooser rows ``rows``: (security (R, n), economy (R, n),
        U_sec (R, n, S), U_econ (R, n, E)). ``gumbel`` is (R, n, S + E): the security
        choice takes the first S columns."""
        security_utility, economy_utility = terms.utilities()
        S = security_utility.shape[-1]
        security = kernels.choose(
            self.security_score(terms, security_utility),
            snap.security[..., rows],
            gumbel[..., :S],
            self.rule,
            self.rationality,
        )
        economy = kernels.choose(
            economy_utility, snap.economy[..., rows], gumbel[..., S:], self.rule, self.rationality
        )
        return security, economy, security_utility, economy_utility

    def years_since_independence(self, tick: int) -> float:
        """Years from the start of ``INDEPENDENCE_YEAR`` to tick ``tick`` of a run whose
        world is dated ``world.year`` (static or calendar alike): the clock of soft
        power's fade (``kernels.soft_power_term``), so that a 2015 world starts as faded as
        a run from 1991 is when it reaches 2015. 0 before 1991."""
        return max(0.0, self.world.year - INDEPENDENCE_YEAR + tick * self.world.tick_months / 12.0)


class RunStreams:
    """The random numbers of one run, from its seed alone, drawn up front.

    One generator, ``Generator(PCG64(seed))`` (what ``default_rng(seed)`` builds), draws
    every choice uniform (ticks x choosers x (S + E) options of the two choices, float32)
    and then every event-hazard
    uniform (ticks x events, float64). All
    are drawn whatever the rule, so the Mesa model and the engine consume them alike.
    """

    def __init__(self, seed: int, ticks: int, n_states: int, n_options: int, n_events: int) -> None:
        self.noise = np.empty((ticks, n_states, n_options), dtype=np.float32)
        self.hazards = np.empty((ticks, n_events))
        self.draw(seed, self.noise, self.hazards)

    @staticmethod
    def draw(seed: int, noise: np.ndarray, hazards: np.ndarray) -> None:
        """Fill one run's ``noise`` (T, N, S + E) float32 and ``hazards`` (T, E) float64
        from its seed, in that order; both contiguous (the engine's rows of a batch)."""
        generator = np.random.Generator(np.random.PCG64(seed))
        generator.random(out=noise, dtype=np.float32)
        generator.random(out=hazards)

    @classmethod
    def for_run(cls, inputs: RunInputs, seed: int) -> RunStreams:
        world = inputs.world
        n_options = world.space.n_security + world.space.n_economy
        return cls(seed, inputs.ticks, world.n_states, n_options, inputs.program.n_events)


@dataclass
class TickOutput:
    """What a tick produced, for recording and explanation."""

    choice: IntArray  # (R, N) profile index
    security_utility: FloatArray  # (R, N, S)
    economy_utility: FloatArray  # (R, N, E)
    terms: kernels.Terms  # weighted terms of both choices
    offers: FloatArray  # (R, B, N) US$ bn a year
    credibility: FloatArray  # (R, B) in force this tick
    threat: FloatArray  # (R, B, N)
    power: FloatArray  # (R, P, N) regional power of each security bloc
    active: Any  # (R, E) bool

    def profile_utility(self, space: OptionSpace) -> FloatArray:
        """U(s, e) for every profile, (R, N, K)."""
        return kernels.profile_utility(
            self.security_utility,
            self.economy_utility,
            space.profile_security,
            space.profile_economy,
        )
