"""Typed parameters of the model: the library's contract, and Hydra's schema.

Everything the model needs is in these dataclasses. A notebook user builds them
directly; the command line composes them from YAML (``conf/``) and converts once with
``OmegaConf.to_object``. ``SimulationConfig.__post_init__`` validates the whole tree, so
a bad value fails before anything runs with an error naming its key.

Defaults that come from the texts cite them by file name (full references in docs/REFERENCES.md):
000_f1573ee38e2fd976.txt (Lukyanov), 001_3ff178c6375d3acf.txt (Molchanov),
002_357a3cbfc3d1d9f7.txt (Bolgova), 003_8e9a560dc416a86b.txt (Sutyrin),
004_f43a145551096780.txt (Rashidov).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.model.alignment import HEDGE, OptionSpace

RESERVED_POLE_NAMES = ("none", "open", "hedge")
"""Names a pole may not take: the outside options and the record's non-bloc label
(``model.alignment``)."""
SECURITY_ONLY_POLE_FIELDS = (
    "soft_power",
    "soft_power_floor",
    "soft_power_fade_per_year",
)
"""Pole fields that enter only the security choice (kernels.soft_power_term and the ties
and fade it scales): a pole without a security option must leave them at 0."""

DECISION_RULES = ("best_response", "logit", "balancing", "bandwagoning")
SPENDING_POLICIES = ("leverage", "proportional")
SOFT_POWER_BASES = ("none", "ethnic_russian_share", "democracy")
REGIME_SUPPORT_BASES = ("autocracy", "democracy")
"""Which regimes a pole props up when they are insecure (``kernels.regime_security_term``):
autocracies in proportion to their autocracy, democracies in proportion to their democracy."""
ATTRIBUTE_YEARS = (2000, 2010, 2015)
CALENDAR_FIRST_YEAR = 1992
"""First start year of a calendar run (the drivers begin in 1991-93; ``model.calendar``)."""
CALENDAR_LAST_YEAR = 2024
"""Last calendar year a run may reach: no tick of a calendar run starts after it."""
RECORD_FIRST_YEAR = 1991
"""First year of the alignment record (``data/alignment_by_year_1991_2010.csv``): the
earliest configuration a calendar run can start from."""
RECORD_LAST_YEAR = 2010
"""Record years after 2010 are the out-of-sample period: never read for a start."""
BUDGET_RULES = ("constant", "gdp", "chinese_lending")
"""How a pole's budget follows the calendar (``RegionSpec.budget_rules``, docs/MODEL.md)."""


FLOAT32_MAX = 3.4028234663852886e38
"""Largest single-precision number: the model computes in float32 (``world.FLOAT``)."""
LARGE = 1e6
"""Upper bound of every open-ended scale (weights, costs, US$ bn budgets, rates, km).

Far above any meaningful value (a US$ 1e6 bn budget is ten times the world's GDP), and
low enough that no sum or product of the model's terms leaves single precision.
"""
MAX_RATIONALITY = 1e6
"""Upper bound of ``decision.rationality`` (utility units^-1).

The logit rule scores rationality * U + Gumbel noise in float32. With every scale at most
``LARGE``, |U| stays far below FLOAT32_MAX / 1e6, so the product cannot overflow (1e39
did, and inf * 0 gave NaN). At 1e6 the rule already picks the best option whenever
utilities differ by more than about 2e-5; ``decision.rule=best_response`` is the exact limit.
"""
MAX_SEED = 2**63 - 1
"""Seeds are stored as Parquet int64: ``seed + replications - 1`` may not exceed this."""


def format_bound(x: float) -> str:
    """A range's end for messages: 1e6, not 1e+06."""
    return f"{x:g}".replace("e+0", "e").replace("e+", "e")


def _check_number(key: str, value: Any, low: float, high: float, what: str) -> None:
    """A finite number in [low, high], within single precision."""
    ends = f"in [{format_bound(low)}, {format_bound(high)}]"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > FLOAT32_MAX
    ):
        kind = "a finite number" if what == "a number" else f"a finite number: {what}"
        raise ConfigError(key, value, f"{kind} {ends}")
    if not low <= value <= high:
        raise ConfigError(key, value, f"{what} {ends}")


def check_whole(key: str, value: Any, low: int, high: int | None, what: str) -> None:
    """A whole number (not a bool, not a float) in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise ConfigError(key, value, what)


def check_seeds(seed: Any, runs: int = 1, key: str = "seed") -> None:
    """Seeds ``seed .. seed + runs - 1``: whole, >= 0, and all within Parquet's int64."""
    check_whole(key, seed, 0, MAX_SEED, "a whole number in [0, 2**63 - 1]")
    last = seed + runs - 1
    if last > MAX_SEED:
        raise ConfigError(
            key,
            seed,
            f"seed + replications - 1 <= 2**63 - 1 (seeds are stored as int64; "
            f"{runs} replications would reach {last})",
        )


@dataclass(frozen=True)
class Domain:
    """The values a numeric parameter accepts: finite, in [low, high], with units."""

    low: float
    high: float
    what: str = "a number"

    def check(self, key: str, value: Any) -> None:
        _check_number(key, value, self.low, self.high, self.what)

    def __str__(self) -> str:
        return f"{self.what} in [{format_bound(self.low)}, {format_bound(self.high)}]"


UNIT = Domain(0.0, 1.0)
SHARE = Domain(0.0, 1.0, "a share")
SCALE = Domain(0.0, LARGE)
POLE_DOMAINS = {
    "capital_lat": Domain(-90.0, 90.0, "a latitude in degrees"),
    "capital_lon": Domain(-180.0, 180.0, "a longitude in degrees"),
    "capability": Domain(0.0, 1.0, "a CINC share"),
    "military_weight": UNIT,
    "reach_km": Domain(1.0, LARGE, "a distance in km"),
    "budget_bn_usd": Domain(0.0, LARGE, "a budget in US$ bn a year"),
    "credibility": UNIT,
    "conditionality": UNIT,
    "regime_support": UNIT,
    "soft_power": UNIT,
    "soft_power_floor": UNIT,
    "soft_power_fade_per_year": Domain(0.0, LARGE, "a rate per year"),
    "coercion": UNIT,
    "leverage": SCALE,
    "union_from": Domain(1991.0, 2100.0, "a year (the first full year of the pole's union)"),
    "labour_market_from": Domain(
        1991.0, 2100.0, "a year (the first full year of free movement of labour in the union)"
    ),
    "bloc_points": Domain(0.0, 10.0, "score_v1 points (a CST/CSTO member scores 2)"),
    "union_points": Domain(0.0, 10.0, "score_v1 points (a Customs Union member scores 2)"),
}
STATE_DOMAINS = {
    "threat_exposure": UNIT,
    "autonomy": UNIT,
    "neutral_from": Domain(1991.0, 2100.0, "a year (a permanent neutrality's first full year)"),
}
STATE_MAP_DOMAIN = SHARE
AFFINITY_DOMAIN = Domain(-1.0, 1.0, "an affinity")
WEIGHT_DOMAIN = Domain(0.0, LARGE, "a weight")
DYNAMICS_DOMAINS = {
    "stance": Domain(-1.0, 1.0),
    "switching_cost": Domain(0.0, LARGE, "a cost in utility units"),
    "economic_switching_cost": Domain(0.0, LARGE, "a cost in utility units"),
    "credibility_recovery": SHARE,
    "credibility_prior_tests": Domain(0.01, LARGE, "a number of tests"),
}
RATIONALITY_DOMAIN = Domain(0.0, MAX_RATIONALITY, "a rationality (utility units^-1)")
OPTIONAL_POLE_FIELDS = (
    "capital_lat",
    "capital_lon",
    "capability",
    "union_from",
    "labour_market_from",
    "bloc_points",
    "union_points",
)
"""Pole fields that may be null (then read from the attributes file; ``union_from``: no
date, a union open in every year; ``labour_market_from``: a union without free movement
of labour; ``bloc_points`` and ``union_points``: score_v1's usual points,
``alignment.BLOC_POINTS``, ``UNION_POINTS``, ``UNION_POINTS_WITHOUT_SECURITY``)."""
PERCENT = Domain(0.0, 100.0, "a percentage")
FLAG = Domain(0.0, 1.0, "a 0/1 flag")
FLAG_FIELDS = (
    "landlocked",
    "doubly_landlocked",
    "land_border_russia",
    "land_border_china",
    "russian_base_hosted_with_consent",
    "russian_troops_without_host_consent",
)
ATTRIBUTE_DOMAINS = {
    "gdp_current_usd": Domain(1.0, 1e15, "a GDP in current US$"),
    "population": Domain(1.0, 1e10, "a population in persons"),
    "polity2": Domain(-10.0, 10.0, "a Polity2 score"),
    "vdem_polyarchy": Domain(0.0, 1.0, "a V-Dem polyarchy index"),
    "cinc": Domain(0.0, 1.0, "a CINC share"),
    "capital_lat": POLE_DOMAINS["capital_lat"],
    "capital_lon": POLE_DOMAINS["capital_lon"],
    "milex_nmc_thousand_usd": Domain(0.0, 1e12, "a military spending in thousands of US$"),
    "milper_nmc_thousand": Domain(0.0, 1e6, "military personnel in thousands"),
}
"""Ranges of the attributes-file fields (data/SOURCES.md, STATE_ATTRIBUTES.md); besides
these, every ``*_pct*`` field is a percentage, every ``*_usd_mn`` field US$ mn >= 0 and
every membership or border field a 0/1 flag."""
ANY_FINITE = Domain(-FLOAT32_MAX, FLOAT32_MAX)


def attribute_domain(name: str) -> Domain:
    """The range of an attributes-file field (any finite float32 for unknown fields)."""
    if name in ATTRIBUTE_DOMAINS:
        return ATTRIBUTE_DOMAINS[name]
    if "_pct" in name:
        return PERCENT
    if name.endswith("_usd_mn"):
        return Domain(0.0, 1e9, "an amount in US$ mn")
    if name in FLAG_FIELDS or name.endswith("_member"):
        return FLAG
    return ANY_FINITE


def is_lower_identifier(name: Any) -> bool:
    """A name made of a-z, 0-9 and _, not starting with a digit (``russia``, ``west_2``)."""
    return isinstance(name, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None


def item_path(section: str, position: int, name: Any) -> str:
    """The path of a region's pole or state in a message, as a user types it in an
    override: by its name (``region.states.uzbekistan``), or by its position while its
    name is not one (``region.states.9``)."""
    return f"{section}.{name if is_lower_identifier(name) else position}"


def named_item_key(key: str, names: Mapping[str, Sequence[str]]) -> str:
    """A dotted key with a pole's or state's position replaced by its name
    (``region.states.9.autonomy`` -> ``region.states.uzbekistan.autonomy``; ``names``:
    the region's pole and state names, "poles" and "states"); a key that names no listed
    item by position, or an item whose name is not one (``item_path``), stays as given."""
    parts = key.split(".")
    if len(parts) < 3 or parts[0] != "region" or parts[1] not in ("poles", "states"):
        return key
    listed = names.get(parts[1], ())
    if not parts[2].isdecimal() or int(parts[2]) >= len(listed):
        return key
    name = listed[int(parts[2])]
    if is_lower_identifier(name):
        parts[2] = name
    return ".".join(parts)


def unknown_field(key: str, value: Any, kind: type) -> ConfigError:
    """The error for ``key``, whose last part is no field of the dataclass ``kind``: its
    fields, and the closest."""
    names = [f.name for f in fields(kind)]
    close = did_you_mean(key.rpartition(".")[2], names)
    return ConfigError(key, value, f"a field of {kind.__name__} ({', '.join(names)})", close)


class FieldsOnly:
    """A configuration dataclass that refuses an attribute it has no field for: an edit
    misspelt in a notebook (``config.dynamics.stanse = 1``) would otherwise be kept and
    never read. Names starting with ``_`` are Python's own. A numpy number is kept as the
    Python number it holds (``seed=np.int64(3)``, typical of a loop over ``np.arange``,
    was refused as not a whole number)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self.__dataclass_fields__ and not name.startswith("_"):
            raise unknown_field(f"{type(self).__name__}.{name}", value, type(self))
        object.__setattr__(self, name, value.item() if isinstance(value, np.generic) else value)


@dataclass
class PoleSpec(FieldsOnly):
    """A bloc leader (Russia, China, the West, ...): its means and its policy.

    Scales: ``capability`` is a CINC share; ``budget_bn_usd`` is US$ bn of inducements
    a year for the whole region; 0-1 parameters are shares or intensities.
    ``union_from`` is the first full year of the pole's union (before it, no chooser can
    join it: ``kernels.founding_term``); null, open in every year.
    ``labour_market_from`` is the first full year of free movement of labour in the union
    (from it, the union secures what its migrants send home: ``kernels.remittance_term``);
    null, a union that never opens its labour market to members' workers.
    ``regime_support_basis`` is the kind of regime the pole props up when it is insecure:
    ``autocracy`` (Russia) or ``democracy`` (the West; ``kernels.regime_security_term``).
    ``bloc_points`` and ``union_points`` are the points the record's rule (score_v1) gives
    the memberships the pole's security bloc and union stand for; they set the record
    label of a profile (``alignment.Labelling``), never a utility. Null: score_v1's
    usual points (2 for a bloc; 2 for a union, 1 for a pole without security).
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
    regime_support_basis: str = "autocracy"
    soft_power: float = 0.0
    soft_power_basis: str = "none"
    soft_power_floor: float = 0.0
    soft_power_fade_per_year: float = 0.0
    coercion: float = 0.0
    leverage: float = 0.0
    spending: str = "leverage"
    security: bool = True
    rivalry: dict[str, float] = field(default_factory=dict)
    union_from: int | None = None
    labour_market_from: int | None = None
    bloc_points: float | None = None
    union_points: float | None = None
    color: str = "#888888"
    source: str = ""

    def validate(self, path: str) -> None:
        if not is_lower_identifier(self.name) or self.name in RESERVED_POLE_NAMES:
            raise ConfigError(
                f"{path}.name",
                self.name,
                f"a lower-case identifier other than {', '.join(RESERVED_POLE_NAMES)}",
            )
        if not isinstance(self.rivalry, dict):
            raise ConfigError(f"{path}.rivalry", self.rivalry, "a mapping (or {})")
        if not isinstance(self.security, bool):
            raise ConfigError(f"{path}.security", self.security, "true or false")
        if not self.security:
            for name in SECURITY_ONLY_POLE_FIELDS:
                if getattr(self, name) not in (0, 0.0):
                    raise ConfigError(
                        f"{path}.{name}",
                        getattr(self, name),
                        "0 for a pole that offers no security (security: false)",
                        f"{name} enters only the security choice, where this pole is no option.",
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
        for name, domain in POLE_DOMAINS.items():
            value = getattr(self, name)
            if value is not None or name not in OPTIONAL_POLE_FIELDS:
                domain.check(f"{path}.{name}", value)
        if self.soft_power_basis not in SOFT_POWER_BASES:
            raise ConfigError(
                f"{path}.soft_power_basis",
                self.soft_power_basis,
                f"one of {', '.join(SOFT_POWER_BASES)}",
            )
        if self.regime_support_basis not in REGIME_SUPPORT_BASES:
            raise ConfigError(
                f"{path}.regime_support_basis",
                self.regime_support_basis,
                f"one of {', '.join(REGIME_SUPPORT_BASES)}",
            )
        if self.spending not in SPENDING_POLICIES:
            raise ConfigError(
                f"{path}.spending", self.spending, f"one of {', '.join(SPENDING_POLICIES)}"
            )


@dataclass
class StateSpec(FieldsOnly):
    """A chooser: a state that picks an alignment each tick.

    Most attributes come from the attributes file (row ``attribute_state``); the rest
    are judgements given here with their reasons in ``source``. Per-pole maps are keyed
    by pole name: ``remittance_origin`` (share of remittances sent from that bloc),
    ``transit`` (0-1 dependence on its pipelines and routes), ``presence`` (0-1 military
    presence, bases); ``autonomy`` (0-1) is the value the state puts on belonging to no
    bloc (neutrality, a multi-vector credo); ``neutral_from`` is the first full year of a
    permanent neutrality, a legal status (constitutional or recognised by the UN) that
    closes every security bloc (``kernels.neutrality_term``); ``initial`` maps an
    attributes year to the starting option.
    """

    name: str = ""
    attribute_state: str = ""
    label: str = ""
    threat_exposure: float = 0.0
    autonomy: float = 0.0
    neutral_from: int | None = None
    remittance_origin: dict[str, float] = field(default_factory=dict)
    transit: dict[str, float] = field(default_factory=dict)
    presence: dict[str, float] = field(default_factory=dict)
    initial: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def check_mappings(self, path: str) -> None:
        """Each mapping field a mapping (None read as one failed with an AttributeError)."""
        for name in ("remittance_origin", "transit", "presence", "initial", "overrides"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(f"{path}.{name}", getattr(self, name), "a mapping (or {})")

    def validate(self, path: str, space: OptionSpace, year: int) -> None:
        poles = list(space.poles)
        if not is_lower_identifier(self.name):
            raise ConfigError(f"{path}.name", self.name, "a lower-case identifier")
        if not self.attribute_state:
            raise ConfigError(
                f"{path}.attribute_state",
                self.attribute_state,
                "the state's name in the attributes file",
            )
        for name, domain in STATE_DOMAINS.items():
            if name != "neutral_from" or self.neutral_from is not None:  # None: not neutral
                domain.check(f"{path}.{name}", getattr(self, name))
        self.check_mappings(path)
        for map_name in ("remittance_origin", "transit", "presence"):
            mapping: dict[str, float] = getattr(self, map_name)
            for pole, value in mapping.items():
                if pole not in poles:
                    raise ConfigError(
                        f"{path}.{map_name}.{pole}",
                        value,
                        f"a key naming a pole ({', '.join(poles)})",
                    )
                STATE_MAP_DOMAIN.check(f"{path}.{map_name}.{pole}", value)
        total = sum(self.remittance_origin.values())
        if total > 1.0 + 1e-9:
            raise ConfigError(
                f"{path}.remittance_origin",
                dict(self.remittance_origin),
                "shares that sum to at most 1",
            )
        for name, value in self.overrides.items():
            attribute_domain(name).check(f"{path}.overrides.{name}", value)
        for key, option in self.initial.items():
            space.resolve(f"{path}.initial.{key}", option)
        if str(year) not in self.initial:
            raise ConfigError(
                f"{path}.initial", dict(self.initial), f"an entry for the attributes year {year}"
            )


@dataclass
class AffinitySpec(FieldsOnly):
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
        AFFINITY_DOMAIN.check(f"{path}.value", self.value)
        if abs(self.value * 16 - round(self.value * 16)) > 1e-12:
            raise ConfigError(
                f"{path}.value", self.value, "a multiple of 1/16 (e.g. -1, -0.5, 0.25, 0.0625)"
            )


def last_calendar_tick(year: int, tick_months: int) -> int:
    """The last tick a calendar run from 1 January of ``year`` may have: the last whose
    months (tick t runs from ``World.year_of_tick(t - 1)`` to ``year_of_tick(t)``) end by
    the end of ``CALENDAR_LAST_YEAR`` (132 quarterly ticks from 1992)."""
    return 12 * (CALENDAR_LAST_YEAR + 1 - year) // tick_months


@dataclass
class RegionSpec(FieldsOnly):
    """The world: choosers, poles, affinities, the data year and the calendar.

    Static world (``calendar`` false): ``year`` picks the attribute snapshot (2000, 2010
    or 2015) and the starting alignment, and the parameters stay those of that year.
    Calendar world (``calendar`` true): ``year`` is any start year 1992-2024 with a
    starting alignment (the state's ``initial`` or the record, ``model.calendar``), and
    every parameter that comes from data takes each calendar year's value, from
    ``drivers_file`` (default: the packaged ``data/drivers_by_year.csv``) and the
    attributes file; ``budget_rules`` maps a pole's name to how its budget follows the
    calendar (one of ``BUDGET_RULES``; a pole not listed keeps its constant budget).
    Tick 0 is 1 January of ``year`` and each tick lasts ``tick_months``. A calendar run
    starts from the configuration at the end of ``configuration_year`` (default ``year``
    itself, as the history runs do; ``origin=Y`` starts the world of Y + 1 from the end of
    Y, the year the record is known to). Either way a state's transit towards a pole
    leaves out the routes not yet open in the year (``transit_routes_file``, default: the
    packaged ``data/transit_routes.csv``).
    """

    name: str = ""
    description: str = ""
    attributes_file: str | None = None
    drivers_file: str | None = None
    transit_routes_file: str | None = None
    year: int = 2015
    calendar: bool = False
    configuration_year: int | None = None
    tick_months: int = 3
    poles: list[PoleSpec] = field(default_factory=list)
    states: list[StateSpec] = field(default_factory=list)
    affinities: list[AffinitySpec] = field(default_factory=list)
    budget_rules: dict[str, str] = field(default_factory=dict)

    def validate(self, path: str = "region") -> None:
        if not isinstance(self.calendar, bool):
            raise ConfigError(f"{path}.calendar", self.calendar, "true or false")
        if self.calendar:
            check_whole(
                f"{path}.year",
                self.year,
                CALENDAR_FIRST_YEAR,
                CALENDAR_LAST_YEAR,
                f"a start year in [{CALENDAR_FIRST_YEAR}, {CALENDAR_LAST_YEAR}] (calendar run)",
            )
        elif self.year not in ATTRIBUTE_YEARS:
            raise ConfigError(
                f"{path}.year",
                self.year,
                f"one of the attribute years {ATTRIBUTE_YEARS}",
                f"Any year {CALENDAR_FIRST_YEAR}-{CALENDAR_LAST_YEAR} needs the calendar "
                "(region.calendar=true or scenario=history).",
            )
        if self.configuration_year is not None:
            if not self.calendar:
                raise ConfigError(
                    f"{path}.configuration_year",
                    self.configuration_year,
                    "null in a static world (its year's 'initial' entries are its start)",
                )
            check_whole(
                f"{path}.configuration_year",
                self.configuration_year,
                RECORD_FIRST_YEAR,
                self.year,
                f"a year from {RECORD_FIRST_YEAR} to the start year ({self.year}) or null",
            )
        check_whole(
            f"{path}.tick_months", self.tick_months, 1, 12, "a whole number of months in [1, 12]"
        )
        for name, kind in (
            ("poles", PoleSpec),
            ("states", StateSpec),
            ("affinities", AffinitySpec),
        ):
            items = getattr(self, name)
            if not isinstance(items, list) or not all(isinstance(i, kind) for i in items):
                raise ConfigError(f"{path}.{name}", items, f"a list of {kind.__name__}")
        if len(self.poles) < 2:
            empty = not self.poles and not self.states  # SimulationConfig() with no region
            raise ConfigError(
                f"{path}.poles",
                [p.name for p in self.poles],
                "at least two poles",
                "default_config() builds a configuration from the packaged presets."
                if empty
                else "",
            )
        if len(self.states) < 1:
            raise ConfigError(f"{path}.states", [], "at least one chooser")
        for i, pole in enumerate(self.poles):
            pole.validate(item_path(f"{path}.poles", i, pole.name))
        pole_names = [p.name for p in self.poles]
        _check_unique(f"{path}.poles", pole_names)
        for i, pole in enumerate(self.poles):
            for other, value in pole.rivalry.items():
                key = f"{item_path(f'{path}.poles', i, pole.name)}.rivalry.{other}"
                if other not in pole_names or other == pole.name:
                    others = [name for name in pole_names if name != pole.name]
                    raise ConfigError(
                        key, value, f"a key naming another pole ({', '.join(others)})"
                    )
                SHARE.check(key, value)
        if not any(pole.security for pole in self.poles):
            raise ConfigError(
                f"{path}.poles",
                pole_names,
                "at least one pole that offers security (security: true)",
            )
        start = self.start_configuration_year
        for i, state in enumerate(self.states):
            state.check_mappings(item_path(f"{path}.states", i, state.name))
            checked = state
            if self.calendar and str(start) not in state.initial:
                # the start may come from the record: build_world resolves it (or refuses)
                checked = replace(state, initial={**state.initial, str(start): HEDGE})
            checked.validate(item_path(f"{path}.states", i, state.name), self.option_space, start)
        calendar_rules = self.budget_rules if self.calendar else {}  # read by calendar runs only
        for pole_name, rule in calendar_rules.items():
            key = f"{path}.budget_rules.{pole_name}"
            if pole_name not in pole_names:
                raise ConfigError(key, rule, f"a key naming a pole ({', '.join(pole_names)})")
            if rule not in BUDGET_RULES:
                raise ConfigError(key, rule, f"one of {', '.join(BUDGET_RULES)}")
            pole = self.poles[pole_names.index(pole_name)]
            if rule != "constant" and pole.attribute_state is None:
                raise ConfigError(
                    key,
                    rule,
                    f"a pole with an attribute_state (its GDP series) for rule {rule}",
                )
        state_names = [s.name for s in self.states]
        _check_unique(f"{path}.states", state_names)
        listed: dict[frozenset[str], int] = {}
        for i, affinity in enumerate(self.affinities):
            affinity.validate(f"{path}.affinities[{i}]", state_names)
            pair = frozenset((affinity.a, affinity.b))
            if pair in listed:
                first = self.affinities[listed[pair]]
                raise ConfigError(
                    f"{path}.affinities[{i}]",
                    f"{affinity.a}-{affinity.b} = {affinity.value}",
                    "each pair of states listed once (an affinity is symmetric)",
                    f"{path}.affinities[{listed[pair]}] already gives "
                    f"{first.a}-{first.b} = {first.value}.",
                )
            listed[pair] = i

    @property
    def start_configuration_year(self) -> int:
        """The year whose year-end configuration the run starts from: ``configuration_year``
        if set, else ``year``."""
        return self.year if self.configuration_year is None else self.configuration_year

    @property
    def pole_names(self) -> list[str]:
        return [p.name for p in self.poles]

    @property
    def option_space(self) -> OptionSpace:
        """The profiles this region's choosers choose among (``model.alignment``)."""
        return OptionSpace(
            tuple(self.pole_names),
            tuple(p.security for p in self.poles),
            tuple(p.bloc_points for p in self.poles),
            tuple(p.union_points for p in self.poles),
        )

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
class UtilityWeights(FieldsOnly):
    """Weights of the named utility terms (utility units per unit of each term).

    Each term is scaled to roughly [0, 1] for a typical state (see docs/MODEL.md), so the
    weights say how much each family counts. They are judgements, no text weighs one
    family against another. Model 1 set them by hand with the 2015 alignments in view, a
    use of the test period the out-of-sample rule now forbids; Model 2 measured each later
    calibration step against the 1991-2010 record and kept only those it prefers
    (docs/MODEL.md, "Calibration"), and the fit estimates them all on that record alone.
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
    economic_coercion: float = 1.0
    peer: float = 0.5

    def validate(self, path: str = "weights") -> None:
        for f in fields(self):
            WEIGHT_DOMAIN.check(f"{path}.{f.name}", getattr(self, f.name))


@dataclass
class Dynamics(FieldsOnly):
    """Parameters of the dynamics: inertia, hedging, credibility, leverage, stance.

    ``stance`` is the balancing-vs-bandwagoning parameter in [-1, 1]: -1 joins the
    strongest side (bandwagoning), +1 the side that offsets the biggest threat
    (balancing) -- Morgenthau in 004_f43a145551096780.txt; Hurrell and Soderbaum in
    001_3ff178c6375d3acf.txt.

    ``credibility_prior_tests``: how many tests of its protection a pole's configured
    credibility counts as (``kernels.credibility_target``). A judgement, 4: one refusal
    then costs an untested pole a fifth of its credibility, the cost the event library
    gives turmoil inside Russia (``russian_domestic_crisis``, x 0.8, 004).
    """

    stance: float = 0.0
    switching_cost: float = 1.0
    economic_switching_cost: float = 1.0
    credibility_recovery: float = 0.1
    credibility_prior_tests: float = 4.0

    def validate(self, path: str = "dynamics") -> None:
        for name, domain in DYNAMICS_DOMAINS.items():
            domain.check(f"{path}.{name}", getattr(self, name))


@dataclass
class DecisionParams(FieldsOnly):
    """How a state turns utilities into a choice.

    ``best_response``: the option with the highest utility (staying put on ties).
    ``logit``: quantal response, P(k) proportional to exp(rationality * U_k).
    ``balancing`` / ``bandwagoning``: the realist rules -- the best response to the
    security terms alone with the stance forced to +1 / -1 (004, 001).
    Under every rule ``rationality`` also sets how far the poles' premiums reach: they bid
    where the logit at that rationality makes money move a choice
    (``kernels.bid_sensitivity``).
    """

    rule: str = "logit"
    rationality: float = 4.0

    def validate(self, path: str = "decision") -> None:
        if self.rule not in DECISION_RULES:
            raise ConfigError(f"{path}.rule", self.rule, f"one of {', '.join(DECISION_RULES)}")
        RATIONALITY_DOMAIN.check(f"{path}.rationality", self.rationality)


EVENT_DATE_FORMATS = "a calendar date YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2008-08-07)"
EVENT_PLACEMENTS = "exactly one of 'at' (a tick), 'hazard' (a rate per tick) and 'date'"


def parse_event_date(key: str, value: Any) -> datetime.date:
    """A date "YYYY-MM-DD", "YYYY-MM" or "YYYY"; a month alone is its first day, a year
    alone 1 January. A day that does not exist (2009-02-30) is refused."""
    text = value if isinstance(value, str) else ""
    found = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text.strip())
    if found is None:
        raise ConfigError(key, value, EVENT_DATE_FORMATS)
    year, month, day = (int(part) if part else 1 for part in found.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ConfigError(key, value, EVENT_DATE_FORMATS, f"Not a calendar date: {exc}.") from None


@dataclass
class EventSpec(FieldsOnly):
    """A shock in a scenario: an event kind from the library, when and to whom.

    Exactly one of ``at`` (the tick it starts), ``hazard`` (probability per tick that it
    starts, once) and ``date`` (a calendar date "YYYY-MM-DD", "YYYY-MM" or "YYYY": it
    starts in the tick that contains it, ``events.tick_of_date``) is set. ``duration`` is
    in ticks; ``None`` means for good. A dated event may give ``until`` instead: the last
    date it is in force (it ends with the tick that contains that date). ``targets`` names
    the states or poles the kind acts on; ``magnitude`` scales it. ``source`` says where
    the event comes from (a history event names its row of ``data/shocks_1991_2024.csv``).
    """

    kind: str = ""
    at: int | None = None
    hazard: float | None = None
    date: str | None = None
    until: str | None = None
    duration: int | None = None
    targets: list[str] = field(default_factory=list)
    magnitude: float = 1.0
    label: str = ""
    source: str = ""

    def check_placement(self, path: str) -> None:
        """Targets a list of names; exactly one of at/hazard/date; a well-formed date, and
        ``until`` only with a date, not with ``duration`` and not before the date."""
        if not isinstance(self.targets, list | tuple) or not all(
            isinstance(target, str) for target in self.targets
        ):
            raise ConfigError(
                f"{path}.targets", self.targets, "a list of names, e.g. [ukraine, moldova]"
            )
        placed = [name for name in ("at", "hazard", "date") if getattr(self, name) is not None]
        if len(placed) != 1:
            name = "date" if self.date is not None else "at"
            raise ConfigError(f"{path}.{name}", getattr(self, name), EVENT_PLACEMENTS)
        start = parse_event_date(f"{path}.date", self.date) if self.date is not None else None
        if self.until is None:
            return
        if start is None or self.duration is not None:
            raise ConfigError(
                f"{path}.until",
                self.until,
                "'until' only on an event placed by 'date', and without 'duration'",
            )
        if parse_event_date(f"{path}.until", self.until) < start:
            raise ConfigError(f"{path}.until", self.until, f"a date not before date {self.date}")


@dataclass
class ScenarioSpec(FieldsOnly):
    """A named list of events on top of a start year, with the passages it draws on.

    ``start_year`` (2000, 2010 or 2015), when set, replaces the region's data year, so a
    scenario about 2004 starts from the 2000 world.
    """

    name: str = "baseline"
    description: str = ""
    sources: str = ""
    start_year: int | None = None
    calendar: bool = False
    events: list[EventSpec] = field(default_factory=list)


@dataclass
class OutputParams(FieldsOnly):
    """What a command-line run writes besides the Parquet files."""

    plots: bool = True
    quiet: bool = False


DESIGN_METHODS = ("none", "grid", "lhs", "sobol", "morris")
RANGE_EXPECTED = "a range [low, high] of finite numbers with low < high"
"""What a design's (or an EMA model's) range of a parameter must be."""
MAX_SAMPLER_SEED = 2**32 - 1
"""The largest seed every sampler accepts (Morris seeds NumPy's legacy generator)."""


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class DesignSpec(FieldsOnly):
    """An experimental design over named parameters, run through the engine.

    ``parameters`` maps a parameter path (``weights.trade``, ``dynamics.stance``,
    ``region.poles.russia.budget_bn_usd``...) to its range ``[low, high]``. ``samples``
    is the number of points (lhs), base samples (sobol: samples x (d + 2) points) or
    trajectories (morris: samples x (d + 1) points); grid takes ``levels`` per parameter.
    Every point runs ``replications`` seeds (the same seeds at every point).
    ``second_order`` (sobol only) also samples and estimates the pairwise indices S2
    (samples x (2d + 2) points).
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
    second_order: bool = False

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
                or not all(_is_finite_number(b) for b in bounds)
                or not bounds[0] < bounds[1]
            ):
                raise ConfigError(f"{path}.parameters.{name}", list(bounds), RANGE_EXPECTED)
        check_whole(
            f"{path}.sampler_seed",
            self.sampler_seed,
            0,
            MAX_SAMPLER_SEED,
            f"a whole number in [0, {MAX_SAMPLER_SEED}]",
        )
        for name in ("samples", "levels", "bootstrap"):
            check_whole(f"{path}.{name}", getattr(self, name), 2, None, "a whole number >= 2")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            below = 1 << (self.samples.bit_length() - 1)
            raise ConfigError(
                f"{path}.samples",
                self.samples,
                "a power of 2 for a Sobol design (its sequence keeps its balance only there)",
                f"e.g. {below} or {below * 2}.",
            )
        if not self.outcomes:
            raise ConfigError(f"{path}.outcomes", [], "at least one outcome column")
        twice = sorted({str(o) for o in self.outcomes if self.outcomes.count(o) > 1})
        if twice:
            raise ConfigError(f"{path}.outcomes", twice, "each outcome named once")
        if not isinstance(self.second_order, bool):
            raise ConfigError(f"{path}.second_order", self.second_order, "true or false")
        if self.second_order and self.method != "sobol":
            raise ConfigError(
                f"{path}.second_order",
                True,
                "false unless design.method=sobol (second-order indices are Sobol's)",
            )


TASKS = ("simulate", "fit", "forecast", "validate")
FREE_PARAMETERS = (
    *(f"weights.{f.name}" for f in fields(UtilityWeights)),
    "decision.rationality",
    "dynamics.switching_cost",
    "dynamics.economic_switching_cost",
    "dynamics.credibility_recovery",
    "dynamics.stance",
    "region.poles.russia.credibility",
    "region.poles.west.credibility",
)
"""What a fit estimates by default: every utility weight, the decision noise, the
dynamics and the security poles' starting credibility -- the judgements no text gives a
number for (conf/robustness/judgements.yaml) that enter every state's choice. China's
credibility is left out: it discounts only China's offers, which its pre-2010 lending
leaves too small to move any choice, so the 1991-2010 record's likelihood is the same
at any value (docs/ESTIMATION.md)."""


OBJECTIVES = ("labels", "profiles")
"""What a fit maximises (``EstimationSpec.objective``): the log-likelihood of the recorded
labels (what the scorer reads) or of the recorded profiles (the memberships the labels
come from; ``estimation.likelihood.ConditionalLikelihood.objective``, docs/ESTIMATION.md)."""


@dataclass
class EstimationSpec(FieldsOnly):
    """What a fit (``task: fit``, ``alignment-sim experiment=fit``) estimates, from which
    record, and how a forecast draws from it (docs/ESTIMATION.md).

    ``record``: a record file in the shared format (state, year, primary_alignment), or a
    table of runs' labels (seed, state, year, label, profile), "" for the package's
    1991-2010 record; ``window``: [first, last] years, the transitions into first + 1 ..
    last are fitted; ``parameters``: the config paths estimated; ``prior_sd``: the normal
    prior's standard deviation on each parameter's free scale (log or logit), ``priors``
    per path; ``objective``: what the fit maximises, the log-likelihood of the recorded
    ``labels`` (what the scorer reads) or of the recorded ``profiles`` (the memberships the
    labels come from); ``level``: the intervals' probability; ``min_switches``: fewer switches of
    label in the window are refused (they cannot identify a switching cost);
    ``draws``: parameter draws a forecast takes from the fit; ``sample_parameters``: a
    study job with ``fit`` set runs run r on draw r mod ``draws`` of the fit's posterior
    (the draws depend on the fitted set and ``seed`` alone, so scenarios run with the same
    seeds share them: their differences include parameter uncertainty).
    """

    record: str = ""
    window: list[int] = field(default_factory=lambda: [1991, 2010])
    parameters: list[str] = field(default_factory=lambda: list(FREE_PARAMETERS))
    prior_sd: float = 0.5
    priors: dict[str, float] = field(default_factory=dict)
    objective: str = "labels"
    level: float = 0.9
    min_switches: int = 3
    draws: int = 50
    sample_parameters: bool = False

    def validate(self, path: str = "estimation") -> None:
        if len(self.window) != 2:
            raise ConfigError(f"{path}.window", self.window, "two years [first, last]")
        for i, year in enumerate(self.window):
            check_whole(
                f"{path}.window[{i}]",
                year,
                1900,
                2100,
                "a calendar year, 1900-2100 (the packaged record holds 1991-2010)",
            )
        if not self.parameters:
            raise ConfigError(f"{path}.parameters", [], "at least one parameter path")
        _check_number(f"{path}.prior_sd", self.prior_sd, 1e-6, 100.0, "a standard deviation")
        if self.objective not in OBJECTIVES:
            raise ConfigError(
                f"{path}.objective",
                self.objective,
                f"one of {', '.join(OBJECTIVES)} (the recorded labels' log-likelihood, or "
                "the profiles')",
            )
        _check_number(f"{path}.level", self.level, 0.01, 0.999, "a probability")
        check_whole(f"{path}.min_switches", self.min_switches, 0, None, "a whole number >= 0")
        check_whole(f"{path}.draws", self.draws, 1, None, "a whole number >= 1")
        if not isinstance(self.sample_parameters, bool):
            raise ConfigError(f"{path}.sample_parameters", self.sample_parameters, "true or false")

    def check_sampling(self, config: SimulationConfig, path: str = "estimation") -> None:
        """Refuse ``sample_parameters`` where it cannot apply: without a fitted set, in a
        design, in a single run, or in a task other than simulate."""
        if not self.sample_parameters:
            return
        key = f"{path}.sample_parameters"
        if config.task != "simulate":
            raise ConfigError(
                key, True, f"false for task={config.task}", "Only study jobs sample parameters."
            )
        if config.fit is None:
            raise ConfigError(
                key,
                True,
                "a fitted set to draw from: set fit=NAME (e.g. fit=post_soviet_1991_2010)",
            )
        if config.design.method != "none":
            raise ConfigError(
                key,
                True,
                f"false in a design (design.method={config.design.method}): a design sets the "
                "parameters' values itself",
            )
        if config.replications < 2:
            raise ConfigError(
                key, True, "a study job (replications > 1): a single run takes the fit's mode"
            )


@dataclass
class EngineParams(FieldsOnly):
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
            check_whole(f"{path}.{name}", getattr(self, name), 1, None, "a whole number >= 1")
        if self.backend not in ("local", "dask"):
            raise ConfigError(f"{path}.backend", self.backend, "local or dask")


@dataclass
class SimulationConfig(FieldsOnly):
    """Everything a run depends on, with ``seed``: the run is a function of the two.

    With ``replications`` > 1 a job runs seeds ``seed .. seed + replications - 1``
    through the batched engine; ``study`` names the sweep folder (results/sweeps/<study>),
    so re-running the same sweep resumes it.

    ``task``: simulate (a run, a study or a design), fit, forecast or validate
    (docs/ESTIMATION.md). ``fit`` names the fitted parameter set whose values the
    configuration holds (``estimation.fitted.FittedSet.apply`` sets them; on the command
    line ``fit=NAME`` does). ``origin`` and ``to`` give a forecast's window in years:
    ``origin`` is the last year known, so the run starts on 1 January of ``origin + 1``
    from the configuration at the end of ``origin`` (``region.year`` and
    ``region.configuration_year``, the calendar on), as the likelihood conditions each
    year on the one before, and ends with ``to`` (``ticks``); they take precedence over
    those keys.
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
    task: str = "simulate"
    estimation: EstimationSpec = field(default_factory=EstimationSpec)
    fit: str | None = None
    origin: int | None = None
    to: int | None = None

    def __post_init__(self) -> None:
        self._check_sections()
        self._name_design_items()
        start = self.scenario.start_year
        if start is not None and start in ATTRIBUTE_YEARS and start != self.region.year:
            # a copy: the caller's RegionSpec keeps its own year
            self.region = replace(self.region, year=start)
        if self.scenario.calendar is True and not self.region.calendar:
            self.region = replace(self.region, calendar=True)  # a copy, as above
        if isinstance(self.origin, int) and not isinstance(self.origin, bool):
            self.region = replace(
                self.region, year=self.origin + 1, configuration_year=self.origin, calendar=True
            )
        through = self._ticks_through()
        if through is not None:
            self.ticks = through
        self.validate()

    def _ticks_through(self) -> int | None:
        """The ticks from the region's start to the end of ``to`` (None without a ``to``,
        or with a tick length that does not divide a year, refused by its own check)."""
        months = self.region.tick_months
        if not isinstance(self.to, int) or isinstance(self.to, bool):
            return None
        if not isinstance(months, int) or months <= 0 or 12 % months:
            return None
        return (self.to - self.region.year + 1) * 12 // months

    def _name_design_items(self) -> None:
        """A design's parameter paths with a pole or state by its name, as the region names
        it (``region.states.9.autonomy`` -> ``region.states.uzbekistan.autonomy``), so one
        design given either way is one study, with one column. Left as given when two
        paths would then be one (``studies.points.check_paths`` refuses that by name)."""
        names = {
            "poles": [str(getattr(p, "name", "")) for p in self.region.poles],
            "states": [str(getattr(s, "name", "")) for s in self.region.states],
        }
        named = {
            named_item_key(str(path), names): bounds
            for path, bounds in self.design.parameters.items()
        }
        if len(named) == len(self.design.parameters):
            self.design.parameters = named

    def _check_sections(self) -> None:
        """Each section an object of its class (a dict or a name there failed later with an
        AttributeError); ``presets.default_config`` builds them from names and mappings."""
        for section in fields(self):
            kind = SECTION_TYPES.get(section.name)
            value = getattr(self, section.name)
            if kind is not None and not isinstance(value, kind):
                raise ConfigError(
                    section.name,
                    value,
                    f"an instance of {kind.__name__}",
                    "default_config builds one from a preset's name or a YAML file's path "
                    "(region, scenario, decision) or a mapping of its fields (the others).",
                )

    def _check_origin_has_a_start(self) -> None:
        """Refuse (by ``origin``) an origin at whose end some state has no start: neither
        the record's label (none after ``RECORD_LAST_YEAR``) nor an ``initial`` entry."""
        from alignment_sim.model.calendar import record_labels  # calendar imports params

        assert self.origin is not None
        recorded = record_labels(self.origin)
        missing = [
            s.attribute_state
            for s in self.region.states
            if isinstance(s.initial, dict)  # else refused by the region's own check
            and str(self.origin) not in s.initial
            and s.attribute_state not in recorded
        ]
        if not missing:
            return
        everyones = set.intersection(*(set(s.initial) for s in self.region.states))
        given = sorted(int(k) for k in everyones if k.isdigit() and int(k) > RECORD_LAST_YEAR)
        also = f", or {', '.join(map(str, given))} (the region's own starts)" if given else ""
        raise ConfigError(
            "origin",
            self.origin,
            f"a year of the alignment record ({RECORD_FIRST_YEAR}-{RECORD_LAST_YEAR}){also}",
            "A run from an origin starts from each state's configuration at its end; "
            f"{', '.join(missing)} have none in {self.origin} (an 'initial' entry in the region "
            f"file gives one); the record after {RECORD_LAST_YEAR} is the out-of-sample test "
            "period and is never read.",
        )

    @property
    def calendar(self) -> bool:
        """Whether the world follows the calendar (the region's or the scenario's flag)."""
        return bool(self.region.calendar or self.scenario.calendar)

    def validate(self) -> None:
        """Check every value; call it again after changing a field in place (models and
        batches do, where they are built)."""
        self._check_sections()
        if self.task not in TASKS:
            raise ConfigError("task", self.task, f"one of {', '.join(TASKS)}")
        if self.fit is not None and (not isinstance(self.fit, str) or not self.fit):
            raise ConfigError(
                "fit", self.fit, "the name or path of a fitted parameter set, or null"
            )
        if self.origin is not None:
            check_whole(
                "origin",
                self.origin,
                RECORD_FIRST_YEAR,
                CALENDAR_LAST_YEAR - 1,
                f"a year from {RECORD_FIRST_YEAR} to {CALENDAR_LAST_YEAR - 1} (the run starts "
                "the year after)",
            )
            self._check_origin_has_a_start()
            if (
                self.region.year != self.origin + 1
                or self.region.configuration_year != self.origin
                or not self.region.calendar
            ):
                raise ConfigError(
                    "origin",
                    self.origin,
                    f"the year before the region's start ({self.region.year}), its "
                    f"configuration_year ({self.region.configuration_year}), in a calendar run",
                    "origin sets region.year, region.configuration_year and the calendar when "
                    "the configuration is built; build a new SimulationConfig to change it.",
                )
        if self.to is not None:
            check_whole(
                "to",
                self.to,
                self.region.year,
                CALENDAR_LAST_YEAR,
                f"a year from the start ({self.region.year}) to {CALENDAR_LAST_YEAR}",
            )
            if not self.calendar:
                raise ConfigError(
                    "to", self.to, "a calendar run (set origin, or region.calendar=true)"
                )
            through = self._ticks_through()
            if through is not None and self.ticks != through:
                raise ConfigError(
                    "ticks",
                    self.ticks,
                    f"{through}, the ticks to={self.to} sets from {self.region.year} (give one "
                    "of to and ticks)",
                )
        check_whole("ticks", self.ticks, 1, None, "a whole number of ticks > 0")
        check_whole("replications", self.replications, 1, None, "a whole number of runs >= 1")
        check_seeds(self.seed, self.replications)
        start = self.scenario.start_year
        if start is not None:
            if start not in ATTRIBUTE_YEARS:
                raise ConfigError(
                    "scenario.start_year",
                    start,
                    f"one of the attribute years {ATTRIBUTE_YEARS} or null",
                )
            if self.region.year != start:
                raise ConfigError(
                    "region.year",
                    self.region.year,
                    f"the scenario's start_year {start}",
                    "The scenario replaces the data year; change both, or build a new "
                    "SimulationConfig.",
                )
        if not isinstance(self.scenario.calendar, bool):
            raise ConfigError("scenario.calendar", self.scenario.calendar, "true or false")
        events = self.scenario.events
        if not isinstance(events, list):
            raise ConfigError("scenario.events", events, "a list of EventSpec")
        for n, event in enumerate(events):  # a dict was taken here and refused at the build
            if not isinstance(event, EventSpec):
                raise ConfigError(
                    f"scenario.events[{n}]",
                    event,
                    "an EventSpec",
                    "EventSpec(kind=..., at=...) in Python (a YAML file's mapping is read as one).",
                )
        if self.scenario.calendar and not self.region.calendar:
            raise ConfigError(
                "region.calendar",
                self.region.calendar,
                "true when scenario.calendar is true",
                "The scenario turns the calendar on when the configuration is built; "
                "set region.calendar=true too, or build a new SimulationConfig.",
            )
        if not self.study or not all(c.isalnum() or c in "-_." for c in self.study):
            raise ConfigError("study", self.study, "a folder name (letters, digits, - _ .)")
        self.engine.validate("engine")
        self.design.validate("design")
        self.estimation.validate("estimation")
        self.estimation.check_sampling(self)
        self.region.validate("region")
        self.weights.validate("weights")
        self.dynamics.validate("dynamics")
        self.decision.validate("decision")
        if self.calendar:
            last = last_calendar_tick(self.region.year, self.region.tick_months)
            if self.ticks > last:
                raise ConfigError(
                    "ticks",
                    self.ticks,
                    f"at most {last} ticks for a calendar run from {self.region.year} "
                    f"(tick {last} ends by the end of {CALENDAR_LAST_YEAR}; a calendar run "
                    f"may not pass it)",
                )


DOMAINS: dict[str, dict[str, Domain]] = {
    "weights": {f.name: WEIGHT_DOMAIN for f in fields(UtilityWeights)},
    "dynamics": DYNAMICS_DOMAINS,
    "decision": {"rationality": RATIONALITY_DOMAIN},
    "region.poles": POLE_DOMAINS,
    "region.states": STATE_DOMAINS,
}
"""The domain of each numeric field, by section as ``paths.ParamPath`` names them."""


SECTION_TYPES: dict[str, type] = {
    "region": RegionSpec,
    "weights": UtilityWeights,
    "dynamics": Dynamics,
    "decision": DecisionParams,
    "scenario": ScenarioSpec,
    "engine": EngineParams,
    "design": DesignSpec,
    "output": OutputParams,
    "estimation": EstimationSpec,
}
"""The class of each section of a ``SimulationConfig``."""
