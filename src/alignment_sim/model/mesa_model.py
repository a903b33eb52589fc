"""The reference Mesa model: one agent per chooser and per pole, one tick per step.

Build it from typed parameters (no config system needed)::

    from alignment_sim import AlignmentModel, default_config
    model = AlignmentModel(default_config(ticks=20, seed=7))
    model.run()                       # or model.step() in a loop
    model.trajectory.trajectory_frame()

Or from keywords, as ``mesa.batch_run`` builds it (presets, a seed, config paths)::

    model = AlignmentModel(scenario="russia_recession", stance=0.5, weights__trade=2.0)

Its trajectory equals the batched engine's for the same (config, seed), bit for bit.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import secrets
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from alignment_sim import paths
from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.model import kernels
from alignment_sim.model.agents import ChooserAgent, PoleAgent
from alignment_sim.model.events import active_events, apply_events, initial_starts, update_starts
from alignment_sim.model.inputs import RunInputs, RunStreams, TickOutput
from alignment_sim.model.params import (
    DecisionParams,
    RegionSpec,
    ScenarioSpec,
    SimulationConfig,
    check_seeds,
)
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import FLOAT, FloatArray, IntArray, World
from alignment_sim.studies.outcomes import option_shares, run_outcomes

PRESET_KEYWORDS = ("region", "scenario", "decision")
"""Keywords naming a packaged preset (or a YAML file, or a spec object)."""
WINDOW_KEYWORDS = ("origin", "to")
"""A calendar run's window in years (``SimulationConfig.origin`` and ``to``), which set
the region's start and the run's length when the configuration is built."""
BARE_KEYWORDS = {
    **{name: f"dynamics.{name}" for name in paths.FIELDS["dynamics"]},
    **{name: f"decision.{name}" for name in paths.FIELDS["decision"]},
}
"""Fields that may be given by their bare name (``stance`` is ``dynamics.stance``)."""
KEYWORD_HELP = (
    "a keyword of AlignmentModel: region, scenario or decision (a preset name), seed, "
    "origin and to (a calendar run's window, in years), "
    f"a dynamics or decision field by name ({', '.join(BARE_KEYWORDS)}), or a config "
    "path, dotted as a dictionary key ('weights.trade') or with '__' for each dot "
    "(weights__trade, region__poles__russia__credibility)"
)


def label_share(label: str) -> Any:
    """A model reporter: share of choosers whose profile has the record label ``label``
    (russia, china, west, hedge; for DataCollector)."""

    def reporter(model: AlignmentModel) -> float:
        labels = model.world.labelling.of_profiles(model.alignment_vector())
        labelled = option_shares(labels, len(model.world.labels))
        return float(labelled[0, model.world.labels.index(label)])

    reporter.__name__ = f"share_{label}"
    return reporter


class AlignmentModel(mesa.Model):
    """Regional alignment: states choose a security and an economic alignment each tick.

    Args:
        config: the full typed configuration (``default_config()`` gives the default).
        seed: overrides ``config.seed``; the trajectory depends only on (config, seed).
        world: a pre-built ``World`` for ``config.region`` (saves rebuilding it).
        **parameters: ``region``, ``scenario``, ``decision`` (preset names), then any
            config path, dotted (``**{"weights.trade": 2.0}``) or with ``__`` for each
            dot (``weights__trade=2.0``); dynamics and decision fields also by their bare
            name (``stance``, ``rationality``); a calendar run's window in years
            (``origin``, ``to``). With a ``config`` they change a copy of it.

    Built WITHOUT a config (as ``mesa.batch_run`` builds it), the model draws a fresh seed
    when none is given (so batch_run's ``iterations`` are replicates); built from a config,
    the seed is ``config.seed`` unless given. Either way the DataCollector records, at the
    end of each ``step`` (Mesa's convention), ticks 1..T: ``tick``, ``seed``, the label
    shares and the run's outcomes up to that tick (``studies.outcomes.OUTCOMES``; at the
    last tick, the row ``runs.parquet`` holds for the same config and seed). The state
    at tick 0 is in ``trajectory``. With no tick-0 record, Mesa 3.3's batch_run, which
    reads the record at index ``steps - 1`` (mesa#2514), reports the last tick.
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        seed: int | None = None,
        world: World | None = None,
        **parameters: Any,
    ) -> None:
        batch_layout = config is None
        config = config_from_keywords(config, parameters)
        config.validate()  # again: fields may have changed since the config was built
        run_seed = config.seed if seed is None and not batch_layout else seed
        if run_seed is None:
            run_seed = secrets.randbits(63)  # a fresh replicate, recorded as ``seed``
        if isinstance(run_seed, np.integer):
            run_seed = int(run_seed)
        check_seeds(run_seed)
        super().__init__(seed=run_seed)
        # the model's own copy: a later edit of the caller's config reaches no run (it would
        # reach some fields and not others, unchecked); a new model takes it
        self.config = config = copy.deepcopy(config)
        config.seed = run_seed  # the copy names the run: AlignmentModel(model.config) repeats it
        self.run_seed = run_seed
        self.inputs = RunInputs.from_config(config, world)
        self.world = self.inputs.world
        self.streams = RunStreams.for_run(self.inputs, run_seed)
        self.choosers = [
            ChooserAgent(self, i, name, int(self.world.initial_alignment[i]))
            for i, name in enumerate(self.world.states)
        ]
        self.pole_agents = [
            PoleAgent(self, b, name, float(self.world.pole.credibility[b]))
            for b, name in enumerate(self.world.poles)
        ]
        self.starts = initial_starts(self.inputs.program, 1)
        self.params = self.world.params_for_tick(0)
        self.tick = 0
        self.trajectory = Trajectory(
            self.world, config.ticks, np.array([run_seed]), self.inputs.program.names
        )
        self.trajectory.played = 0  # filled tick by tick as the model steps
        shares = {f"share_{label}": label_share(label) for label in self.world.labels}
        self._outcomes: tuple[int, dict[str, Any]] = (-1, {})
        reporters = {"tick": tick_of, "seed": seed_of, **shares}
        reporters.update({name: run_outcome(name) for name in self._outcome_names()})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.snapshot: kernels.Snapshot
        self.gumbel: FloatArray
        self.margins: FloatArray = np.full(
            (1, self.world.n_poles, self.world.n_states), kernels.NO_MARGIN, dtype=FLOAT
        )

    # --- outcomes so far (the batch layout's reporters) ----------------------------

    def _outcome_names(self) -> list[str]:
        start = np.repeat(self.trajectory.alignment[:, :1], 2, axis=1)
        return list(run_outcomes(start, self.world.labelling, self.world.states))

    def outcomes_so_far(self) -> dict[str, Any]:
        """The run's outcomes over ticks 0..tick (``studies.outcomes.run_outcomes``), as
        Python values; computed once per tick. Before the first tick: RuntimeError (they
        average over the ticks played)."""
        if self.tick == 0:
            raise RuntimeError(
                "no tick played yet: the outcomes average over the ticks played; step the "
                "model first"
            )
        if self._outcomes[0] != self.tick:
            table = run_outcomes(
                self.trajectory.alignment[:, : self.tick + 1],
                self.world.labelling,
                self.world.states,
            )
            self._outcomes = (self.tick, {k: v[:1].tolist()[0] for k, v in table.items()})
        return self._outcomes[1]

    # --- views of the agents' state, as batch arrays with R = 1 ---------------------

    def _by_index(self, agents: list[Any], attribute: str) -> np.ndarray:
        """Stack an attribute of agents in the order of their rows, as a batch of one."""
        ordered = sorted(agents, key=lambda agent: agent.index)
        return np.stack([np.asarray(getattr(agent, attribute)) for agent in ordered])[None]

    def alignment_vector(self) -> IntArray:
        """(1, N) profile indices."""
        return self._by_index(self.choosers, "profile").astype(np.int64)

    def security_vector(self) -> IntArray:
        return self._by_index(self.choosers, "security").astype(np.int64)

    def economy_vector(self) -> IntArray:
        return self._by_index(self.choosers, "economy").astype(np.int64)

    def credibility_vector(self) -> FloatArray:
        return self._by_index(self.pole_agents, "credibility").astype(FLOAT)

    def _pole_rows(self, attribute: str) -> FloatArray:
        ordered = sorted(self.pole_agents, key=lambda agent: agent.index)
        return np.concatenate([getattr(agent, attribute) for agent in ordered], axis=1)

    # --- the tick ---------------------------------------------------------------------

    def step(self) -> None:
        """One tick: events, poles plan, every chooser decides, then all commit."""
        if self.tick >= self.trajectory.ticks:  # the length it was built with
            raise RuntimeError(
                f"the run is {self.trajectory.ticks} ticks long and has ended; build the "
                "model with a larger config.ticks to step further"
            )
        self.tick += 1
        tick, world = self.tick, self.world
        noise = self.streams.noise[tick - 1][None]
        event_uniforms = self.streams.hazards[tick - 1][None]
        self.starts = update_starts(self.starts, self.inputs.program, tick, event_uniforms)
        active = active_events(self.starts, self.inputs.program, tick)
        self.params = apply_events(world, self.inputs.program, active, tick)

        security, economy = self.security_vector(), self.economy_vector()
        sec = world.security_poles
        credibility = self.credibility_vector()
        members = kernels.pole_members(security, economy, sec, world.n_poles)
        for pole in self.pole_agents:
            pole.plan(members)
        in_bloc = kernels.security_membership(security, len(sec))
        self.snapshot = kernels.Snapshot(
            security=security,
            economy=economy,
            power=kernels.regional_power(
                self.params[1], self.params[0], self.params[2], in_bloc, sec
            ),
            threat=self._pole_rows("threat"),
            offers=self._pole_rows("offers"),
            credibility=credibility,
            years=self.inputs.years_since_independence(tick),
            premiums=self._pole_rows("premiums"),
        )
        self.gumbel = self.inputs.gumbel(noise)

        for chooser in self.choosers:
            chooser.decide()
        for chooser in self.choosers:
            chooser.advance()
        for pole in self.pole_agents:
            pole.advance()

        ordered = sorted(self.choosers, key=lambda agent: agent.index)
        u_sec = np.stack([a.security_utility for a in ordered])[None]
        u_econ = np.stack([a.economy_utility for a in ordered])[None]
        terms = stack_rows([a.terms for a in ordered if a.terms is not None])
        self.margins = kernels.economic_margins(u_econ, terms.economy["inducements"])
        self.trajectory.add(
            tick,
            TickOutput(
                choice=self.alignment_vector(),
                security_utility=u_sec,
                economy_utility=u_econ,
                terms=terms,
                offers=self.snapshot.offers,
                credibility=credibility,
                threat=self.snapshot.threat,
                power=self.snapshot.power,
                active=active,
            ),
        )
        self.datacollector.collect(self)
        if tick >= self.trajectory.ticks:
            self.running = False

    def run(self) -> Trajectory:
        """Step until the run's last tick (``config.ticks`` as built) and return the
        trajectory."""
        while self.running and self.tick < self.trajectory.ticks:
            self.step()
        return self.trajectory


def tick_of(model: AlignmentModel) -> int:
    """A model reporter: the tick just played."""
    return model.tick


def seed_of(model: AlignmentModel) -> int:
    """A model reporter: the run's seed."""
    return model.run_seed


def run_outcome(name: str) -> Any:
    """A model reporter: one outcome of the run so far (``outcomes_so_far``)."""

    def reporter(model: AlignmentModel) -> Any:
        return model.outcomes_so_far()[name]

    reporter.__name__ = name
    return reporter


def preset_kinds() -> dict[str, tuple[type, Any]]:
    """Each preset keyword's spec type and loader."""
    from alignment_sim import presets

    return {
        "region": (RegionSpec, presets.load_region),
        "scenario": (ScenarioSpec, presets.load_scenario),
        "decision": (DecisionParams, presets.load_decision),
    }


@functools.lru_cache(maxsize=16)
def _preset_config(**names: Any) -> SimulationConfig:
    """``default_config`` of presets given by name, read once per process (callers copy it)."""
    from alignment_sim.presets import default_config

    return default_config(**names)


def config_from_keywords(
    config: SimulationConfig | None, parameters: dict[str, Any]
) -> SimulationConfig:
    """``config`` (or the presets' default) with ``AlignmentModel``'s keyword
    ``parameters`` applied: presets first, then paths. ``config`` itself is never
    changed. A keyword that is neither a preset nor a path is a ConfigError naming it."""
    if config is not None and not isinstance(config, SimulationConfig):
        raise ConfigError(
            "config", config, "a SimulationConfig (default_config(...)), or keywords alone"
        )
    values: dict[str, Any] = {}
    for key, value in parameters.items():
        if key in PRESET_KEYWORDS or key in WINDOW_KEYWORDS:
            continue
        path = BARE_KEYWORDS.get(key, paths.from_keyword(key))
        try:
            paths.parse(path)
        except ConfigError as exc:
            if "." in path:  # a path, dotted or with "__": what the path lacks
                raise ConfigError(key, value, exc.expected, exc.hint) from None
            known = [*PRESET_KEYWORDS, *WINDOW_KEYWORDS, "seed", "ticks", *BARE_KEYWORDS]
            raise ConfigError(key, value, KEYWORD_HELP, did_you_mean(key, known)) from None
        values[path] = value
    chosen: dict[str, Any] = {}
    for key, (spec_type, load) in preset_kinds().items():
        value = parameters.get(key)
        if isinstance(value, Path):
            chosen[key] = load(value)
        elif isinstance(value, str):
            chosen[key] = value if config is None else load(value)
        elif isinstance(value, spec_type):
            chosen[key] = value
        elif key in parameters:
            raise ConfigError(key, value, f"a preset name, a YAML file or a {spec_type.__name__}")
    if config is None:
        named = {k: v for k, v in chosen.items() if isinstance(v, str)}
        config = copy.deepcopy(_preset_config(**named))
        chosen = {k: v for k, v in chosen.items() if k not in named}
    window = {key: parameters[key] for key in WINDOW_KEYWORDS if key in parameters}
    if chosen or window:  # a new configuration: the window sets the start and length
        config = dataclasses.replace(config, **chosen, **window)
    return paths.with_values(config, values) if values else config


def stack_rows(rows: list[kernels.Terms]) -> kernels.Terms:
    """The agents' rows of the terms, (..., 1, D) each, as one ``Terms`` over choosers."""

    def stacked(part: str) -> dict[str, FloatArray]:
        names = getattr(rows[0], part)
        return {
            name: np.concatenate([getattr(row, part)[name] for row in rows], axis=-2)
            for name in names
        }

    return kernels.Terms(stacked("security"), stacked("economy"))
