"""Typed parameters of the model: the library's contract, and Hydra's schema.

Everything the model needs is in these dataclasses. A notebook user builds them
directly; the command line composes them from YAML (``conf/``) and converts once with
``OmegaConf.to_object``. ``SimulationConfig.__post_init__`` validates the whole tree, so
a bad value fails before anything runs with an error naming its key.

Defaults that come from the texts cite them by file name (``../shared/seeds/``):
000_f1573ee38e2fd976.txt (Lukyanov), 001_3ff178c6375d3acf.txt (Molchanov),
002_357a3cbfc3d1d9f7.txt (Bolgova), 003_8e9a560dc416a86b.txt (Sutyrin),
004_f43a145551096780.txt (Rashidov).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from alignment_sim.errors import ConfigError

HEDGE = "hedge"
"""Name of the non-bloc option: a multi-vector policy balancing between poles."""

DECISION_RULES = ("best_response", "logit", "balancing", "bandwagoning")
SPENDING_POLICIES = ("leverage", "proportional")
SOFT_POWER_BASES = ("none", "ethnic_russian_share", "democracy")
ATTRIBUTE_YEARS = (2000, 2010, 2015)


def _check_number(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    what: str = "a number",
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(key, value, what)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"in [{low}, {high}]"
            if low is not None and high is not None
            else f">= {low}"
            if low is not None
            else f"<= {high}"
        )
        raise ConfigError(key, value, f"{what} {bounds}")


def _check_unit_interval(key: str, value: Any, what: str = "a probability or share") -> None:
    _check_number(key, value, 0.0, 1.0, what)


@dataclass
class PoleSpec:
    """A bloc leader (Russia, China, the West, ...): its means and its policy.

    Scales: ``capability`` is a CINC share; ``budget_bn_usd`` is US$ bn of inducements
    a year for the whole region; 0-1 parameters are shares or intensities.
    """

    name: str = ""
    label: str = ""
    attribute_state: str | None = None
    capital_lat: float | None = None
    capital_lon: float | None = None
    capability: float | None = None
    trade_field: str | None = None
    grievance_field: str | None = None
    military_weight: float = 1.0
    reach_km: float = 3000.0
    budget_bn_usd: float = 0.0
    credibility: float = 1.0
    conditionality: float = 0.0
    regime_support: float = 0.0
    soft_power: float = 0.0
    soft_power_basis: str = "none"
    soft_power_floor: float = 0.0
    soft_power_fade_per_year: float = 0.0
    coercion: float = 0.0
    escalation: float = 0.0
    leverage: float = 0.0
    spending: str = "leverage"
    color: str = "#888888"
    source: str = ""

    def validate(self, path: str) -> None:
        if not self.name or not self.name.isidentifier() or self.name == HEDGE:
            raise ConfigError(
                f"{path}.name", self.name, f"a lower-case identifier other than '{HEDGE}'"
            )
        if self.attribute_state is None and (
            self.capital_lat is None or self.capital_lon is None or self.capability is None
        ):
            raise ConfigError(
                f"{path}.attribute_state",
                None,
                "a state name in the attributes file, or capital_lat, "
                "capital_lon and capability given directly",
            )
        if self.grievance_field is not None and not self.grievance_field:
            raise ConfigError(
                f"{path}.grievance_field", self.grievance_field, "an attributes field name or null"
            )
        if self.capability is not None:
            _check_unit_interval(f"{path}.capability", self.capability, "a CINC share")
        for name in (
            "military_weight",
            "credibility",
            "conditionality",
            "regime_support",
            "soft_power",
            "soft_power_floor",
            "coercion",
        ):
            _check_unit_interval(f"{path}.{name}", getattr(self, name), "a number")
        _check_number(f"{path}.reach_km", self.reach_km, 1.0, None, "a distance in km")
        _check_number(
            f"{path}.budget_bn_usd", self.budget_bn_usd, 0.0, None, "a budget in US$ bn a year"
        )
        for name in ("soft_power_fade_per_year", "escalation", "leverage"):
            _check_number(f"{path}.{name}", getattr(self, name), 0.0, None)
        if self.soft_power_basis not in SOFT_POWER_BASES:
            raise ConfigError(
                f"{path}.soft_power_basis",
                self.soft_power_basis,
                f"one of {', '.join(SOFT_POWER_BASES)}",
            )
        if self.spending not in SPENDING_POLICIES:
            raise ConfigError(
                f"{path}.spending", self.spending, f"one of {', '.join(SPENDING_POLICIES)}"
            )


@dataclass
class StateSpec:
    """A chooser: a state that picks an alignment each tick.

    Most attributes come from the attributes file (row ``attribute_state``); the rest
    are judgements given here with their reasons in ``source``. Per-pole maps are keyed
    by pole name: ``remittance_origin`` (share of remittances sent from that bloc),
    ``transit`` (0-1 dependence on its pipelines and routes), ``presence`` (0-1 military
    presence, bases); ``autonomy`` (0-1) is the value the state puts on belonging to no
    bloc (neutrality, a multi-vector credo); ``initial`` maps an attributes year to the
    starting option.
    """

    name: str = ""
    attribute_state: str = ""
    label: str = ""
    threat_exposure: float = 0.0
    autonomy: float = 0.0
    remittance_origin: dict[str, float] = field(default_factory=dict)
    transit: dict[str, float] = field(default_factory=dict)
    presence: dict[str, float] = field(default_factory=dict)
    initial: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def validate(self, path: str, poles: list[str], year: int) -> None:
        if not self.name or not self.name.isidentifier():
            raise ConfigError(f"{path}.name", self.name, "a lower-case identifier")
        if not self.attribute_state:
            raise ConfigError(
                f"{path}.attribute_state",
                self.attribute_state,
                "the state's name in the attributes file",
            )
        _check_unit_interval(f"{path}.threat_exposure", self.threat_exposure, "a number")
        _check_unit_interval(f"{path}.autonomy", self.autonomy, "a number")
        for map_name in ("remittance_origin", "transit", "presence"):
            mapping: dict[str, float] = getattr(self, map_name)
            for pole, value in mapping.items():
                if pole not in poles:
                    raise ConfigError(
                        f"{path}.{map_name}.{pole}",
                        value,
                        f"a key naming a pole ({', '.join(poles)})",
                    )
                _check_unit_interval(f"{path}.{map_name}.{pole}", value, "a share")
        total = sum(self.remittance_origin.values())
        if total > 1.0 + 1e-9:
            raise ConfigError(
                f"{path}.remittance_origin",
                dict(self.remittance_origin),
                "shares that sum to at most 1",
            )
        options = [*poles, HEDGE]
        for key, option in self.initial.items():
            if option not in options:
                raise ConfigError(
                    f"{path}.initial.{key}", option, f"an option ({', '.join(options)})"
                )
        if str(year) not in self.initial:
            raise ConfigError(
                f"{path}.initial", dict(self.initial), f"an entry for the attributes year {year}"
            )


@dataclass
class AffinitySpec:
    """A pairwise affinity (+) or enmity (-) between two choosers, with its reason.

    Values lie in [-1, 1] on a grid of 1/16, so that peer sums are exact in floating
    point and identical in every engine (see ``kernels.peer_term``).
    """

    a: str = ""
    b: str = ""
    value: float = 0.0
    reason: str = ""
    source: str = ""

    def validate(self, path: str, states: list[str]) -> None:
        for key in ("a", "b"):
            name = getattr(self, key)
            if name not in states:
                raise ConfigError(f"{path}.{key}", name, f"a chooser ({', '.join(states)})")
        if self.a == self.b:
            raise ConfigError(f"{path}.b", self.b, "a state other than a")
        _check_number(f"{path}.value", self.value, -1.0, 1.0, "an affinity")
        if abs(self.value * 16 - round(self.value * 16)) > 1e-12:
            raise ConfigError(
                f"{path}.value", self.value, "a multiple of 1/16 (e.g. -1, -0.5, 0.25, 0.0625)"
            )


@dataclass
class RegionSpec:
    """The world: choosers, poles, affinities, the data year and the calendar.

    ``year`` picks the attribute snapshot (2000, 2010 or 2015) and the starting
    alignment; tick 0 is 1 January of ``year`` and each tick lasts ``tick_months``.
    """

    name: str = ""
    description: str = ""
    attributes_file: str | None = None
    year: int = 2015
    tick_months: int = 3
    poles: list[PoleSpec] = field(default_factory=list)
    states: list[StateSpec] = field(default_factory=list)
    affinities: list[AffinitySpec] = field(default_factory=list)

    def validate(self, path: str = "region") -> None:
        if self.year not in ATTRIBUTE_YEARS:
            raise ConfigError(
                f"{path}.year", self.year, f"one of the attribute years {ATTRIBUTE_YEARS}"
            )
        _check_number(f"{path}.tick_months", self.tick_months, 1, 12, "a whole number of months")
        if len(self.poles) < 2:
            raise ConfigError(f"{path}.poles", [p.name for p in self.poles], "at least two poles")
        if len(self.states) < 1:
            raise ConfigError(f"{path}.states", [], "at least one chooser")
        for i, pole in enumerate(self.poles):
            pole.validate(f"{path}.poles[{i}]")
        pole_names = [p.name for p in self.poles]
        _check_unique(f"{path}.poles", pole_names)
        for i, state in enumerate(self.states):
            state.validate(f"{path}.states[{i}]", pole_names, self.year)
        state_names = [s.name for s in self.states]
        _check_unique(f"{path}.states", state_names)
        for i, affinity in enumerate(self.affinities):
            affinity.validate(f"{path}.affinities[{i}]", state_names)

    @property
    def pole_names(self) -> list[str]:
        return [p.name for p in self.poles]

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]


def _check_unique(key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(key, name, "names that appear once")
        seen.add(name)


@dataclass
class UtilityWeights:
    """Weights of the named utility terms (utility units per unit of each term).

    Each term is scaled to roughly [0, 1] for a typical state (see docs/MODEL.md), so the
    weights say how much each family counts. Defaults were set so that the 2015 world
    keeps its observed alignments under the baseline (docs/MODEL.md, "Calibration").
    """

    protection: float = 2.0
    coercion: float = 1.5
    grievance: float = 1.5
    stance: float = 1.0
    trade: float = 2.0
    inducements: float = 1.5
    remittances: float = 4.0
    transit: float = 1.0
    conditionality: float = 1.5
    regime_security: float = 1.0
    autonomy: float = 1.0
    soft_power: float = 1.0
    peer: float = 0.5

    def validate(self, path: str = "weights") -> None:
        for f in fields(self):
            _check_number(f"{path}.{f.name}", getattr(self, f.name), 0.0, None, "a weight")


@dataclass
class Dynamics:
    """Parameters of the dynamics: inertia, hedging, credibility, leverage, stance.

    ``stance`` is the balancing-vs-bandwagoning parameter in [-1, 1]: -1 joins the
    strongest side (bandwagoning), +1 the side that offsets the biggest threat
    (balancing) -- Morgenthau in 004_f43a145551096780.txt; Hurrell and Soderbaum in
    001_3ff178c6375d3acf.txt.
    """

    stance: float = 0.0
    switching_cost: float = 1.0
    hedge_access: float = 0.45
    hedge_provocation: float = 0.4
    hedge_switch_fraction: float = 0.5
    margin_scale: float = 0.5
    credibility_recovery: float = 0.1
    defection_decay: float = 0.1

    def validate(self, path: str = "dynamics") -> None:
        _check_number(f"{path}.stance", self.stance, -1.0, 1.0)
        _check_number(f"{path}.switching_cost", self.switching_cost, 0.0, None)
        for name in (
            "hedge_access",
            "hedge_provocation",
            "hedge_switch_fraction",
            "credibility_recovery",
            "defection_decay",
        ):
            _check_unit_interval(f"{path}.{name}", getattr(self, name), "a share")
        _check_number(
            f"{path}.margin_scale", self.margin_scale, 1e-9, None, "a positive utility scale"
        )


@dataclass
class DecisionParams:
    """How a state turns utilities into a choice.

    ``best_response``: the option with the highest utility (staying put on ties).
    ``logit``: quantal response, P(k) proportional to exp(rationality * U_k).
    ``balancing`` / ``bandwagoning``: the realist rules -- the best response to the
    security terms alone with the stance forced to +1 / -1 (004, 001).
    """

    rule: str = "logit"
    rationality: float = 8.0

    def validate(self, path: str = "decision") -> None:
        if self.rule not in DECISION_RULES:
            raise ConfigError(f"{path}.rule", self.rule, f"one of {', '.join(DECISION_RULES)}")
        _check_number(
            f"{path}.rationality",
            self.rationality,
            0.0,
            None,
            "a rationality >= 0 (utility units^-1)",
        )


@dataclass
class EventSpec:
    """A shock in a scenario: an event kind from the library, when and to whom.

    Exactly one of ``at`` (the tick it starts) and ``hazard`` (probability per tick
    that it starts, once) is set. ``duration`` is in ticks; ``None`` means for good.
    ``targets`` names the states or poles the kind acts on; ``magnitude`` scales it.
    """

    kind: str = ""
    at: int | None = None
    hazard: float | None = None
    duration: int | None = None
    targets: list[str] = field(default_factory=list)
    magnitude: float = 1.0
    label: str = ""


@dataclass
class ScenarioSpec:
    """A named list of events on top of a start year, with the passages it draws on.

    ``start_year`` (2000, 2010 or 2015), when set, replaces the region's data year, so a
    scenario about 2004 starts from the 2000 world.
    """

    name: str = "baseline"
    description: str = ""
    sources: str = ""
    start_year: int | None = None
    events: list[EventSpec] = field(default_factory=list)


@dataclass
class OutputParams:
    """What a command-line run writes besides the Parquet files."""

    plots: bool = True
    quiet: bool = False


DESIGN_METHODS = ("none", "grid", "lhs", "sobol", "morris")


@dataclass
class DesignSpec:
    """An experimental design over named parameters, run through the engine.

    ``parameters`` maps a parameter path (``weights.trade``, ``dynamics.stance``,
    ``region.poles.russia.budget_bn_usd``...) to its range ``[low, high]``. ``samples``
    is the number of points (lhs), base samples (sobol: samples x (d + 2) points) or
    trajectories (morris: samples x (d + 1) points); grid takes ``levels`` per parameter.
    Every point runs ``replications`` seeds (the same seeds at every point).
    """

    method: str = "none"
    parameters: dict[str, list[float]] = field(default_factory=dict)
    samples: int = 64
    levels: int = 3
    outcomes: list[str] = field(
        default_factory=lambda: ["mean_share_hedge", "switches", "final_share_russia"]
    )
    sampler_seed: int = 0
    bootstrap: int = 200

    def validate(self, path: str = "design") -> None:
        if self.method not in DESIGN_METHODS:
            raise ConfigError(f"{path}.method", self.method, f"one of {', '.join(DESIGN_METHODS)}")
        if self.method == "none":
            return
        if not self.parameters:
            raise ConfigError(f"{path}.parameters", {}, "at least one parameter with a range")
        for name, bounds in self.parameters.items():
            if (
                len(bounds) != 2
                or not all(isinstance(b, int | float) for b in bounds)
                or not bounds[0] < bounds[1]
            ):
                raise ConfigError(
                    f"{path}.parameters.{name}", list(bounds), "a range [low, high] with low < high"
                )
        for name in ("samples", "levels", "bootstrap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ConfigError(f"{path}.{name}", value, "a whole number >= 2")
        if not self.outcomes:
            raise ConfigError(f"{path}.outcomes", [], "at least one outcome column")


@dataclass
class EngineParams:
    """How a job with replications runs its runs (never what they compute).

    ``backend`` "local" runs chunks in this process (``workers`` = 1) or in a pool of
    ``workers`` processes; "dask" runs them on a Dask cluster: the scheduler at
    ``dask_address``, or a local cluster of ``workers`` processes when it is null.
    """

    chunk_size: int = 2000
    workers: int = 1
    progress: bool = True
    backend: str = "local"
    dask_address: str | None = None

    def validate(self, path: str = "engine") -> None:
        for name in ("chunk_size", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{path}.{name}", value, "a whole number >= 1")
        if self.backend not in ("local", "dask"):
            raise ConfigError(f"{path}.backend", self.backend, "local or dask")


@dataclass
class SimulationConfig:
    """Everything a run depends on, with ``seed``: the run is a function of the two.

    With ``replications`` > 1 a job runs seeds ``seed .. seed + replications - 1``
    through the batched engine; ``study`` names the sweep folder (results/sweeps/<study>),
    so re-running the same sweep resumes it.
    """

    region: RegionSpec = field(default_factory=RegionSpec)
    weights: UtilityWeights = field(default_factory=UtilityWeights)
    dynamics: Dynamics = field(default_factory=Dynamics)
    decision: DecisionParams = field(default_factory=DecisionParams)
    scenario: ScenarioSpec = field(default_factory=ScenarioSpec)
    ticks: int = 40
    seed: int = 0
    replications: int = 1
    study: str = "default"
    engine: EngineParams = field(default_factory=EngineParams)
    design: DesignSpec = field(default_factory=DesignSpec)
    output: OutputParams = field(default_factory=OutputParams)

    def __post_init__(self) -> None:
        if self.scenario.start_year is not None:
            if self.scenario.start_year not in ATTRIBUTE_YEARS:
                raise ConfigError(
                    "scenario.start_year",
                    self.scenario.start_year,
                    f"one of the attribute years {ATTRIBUTE_YEARS} or null",
                )
            self.region.year = self.scenario.start_year
        self.validate()

    def validate(self) -> None:
        if isinstance(self.ticks, bool) or not isinstance(self.ticks, int) or self.ticks <= 0:
            raise ConfigError("ticks", self.ticks, "a whole number of ticks > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "a whole number >= 0")
        if (
            isinstance(self.replications, bool)
            or not isinstance(self.replications, int)
            or self.replications < 1
        ):
            raise ConfigError("replications", self.replications, "a whole number of runs >= 1")
        if not self.study or not all(c.isalnum() or c in "-_." for c in self.study):
            raise ConfigError("study", self.study, "a folder name (letters, digits, - _ .)")
        self.engine.validate("engine")
        self.design.validate("design")
        self.region.validate("region")
        self.weights.validate("weights")
        self.dynamics.validate("dynamics")
        self.decision.validate("decision")
