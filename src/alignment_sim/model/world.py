"""The compiled world: the region's data turned into arrays the kernels work on.

``build_world`` reads the attributes file (``data/state_attributes.csv``, copied from
the project's shared data with its ``source`` column), picks each field's value for the
region's year, and combines it with the judgements in the region config. A calendar
world (``region.calendar``) also holds the data-driven parameters of every year from the
start to 2024 (``model.calendar``); ``World.params_for_tick`` gives a tick's base
parameters. The result is immutable; events produce modified copies of its parameter
tables (``events.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alignment_sim.errors import ConfigError, DataError
from alignment_sim.model.alignment import Labelling, OptionSpace
from alignment_sim.model.params import (
    ANY_FINITE,
    LARGE,
    Domain,
    RegionSpec,
    attribute_domain,
    item_path,
)

if TYPE_CHECKING:
    from alignment_sim.model.calendar import Calendar

FloatArray = NDArray[np.floating[Any]]
IntArray = NDArray[np.int64]
FLOAT = np.float32
"""The model's floating-point type: parameters, utilities and all batch arrays.

Single precision (7 significant digits) is ample for utilities whose differences matter
at the scale of 1 / rationality, and it halves the memory traffic of the batched engine
and doubles its vector width (about a quarter faster). Outputs are written as float64.
"""

Table = TypeVar("Table", "StateParams", "PoleParams", "PairParams")
EARTH_RADIUS_KM = 6371.0
ATTRIBUTE_COLUMNS = ("state", "year", "field", "value", "unit", "source")
IMPUTED_COLUMNS = ("year", "state", "field", "value", "rule")
Getter = Callable[[str, str, "dict[str, float] | None"], float]
"""Reads a data field for a state: (attribute_state, field, the state's overrides) -> value."""
BaseParams = tuple["StateParams", "PoleParams", "PairParams"]


ATTRIBUTES_FILE = "state_attributes.csv"
"""The package's states' attributes (``region.attributes_file`` when it names none)."""


def packaged_data_path(name: str) -> Path:
    """Path of a data file shipped inside the package (``alignment_sim/data``)."""
    return Path(str(resources.files("alignment_sim") / "data" / name))


@dataclass(frozen=True)
class StateParams:
    """Per-chooser parameters, arrays of shape (..., N).

    gdp_bn: GDP, current US$ bn. capability: CINC share. autocracy: (10 - polity2) / 20,
    in [0, 1]. threat_exposure: 0-1 exposure to terrorism, extremism and frozen
    conflicts. regime_insecurity: >= 0, raised by colour revolutions and successions.
    remittances: remittances received as a fraction of GDP. autonomy: 0-1 value of staying
    out of every bloc. neutral: 1 while a permanent neutrality is in force
    (``StateSpec.neutral_from``), else 0.
    """

    gdp_bn: FloatArray
    capability: FloatArray
    autocracy: FloatArray
    threat_exposure: FloatArray
    regime_insecurity: FloatArray
    remittances: FloatArray
    autonomy: FloatArray
    neutral: FloatArray


@dataclass(frozen=True)
class PoleParams:
    """Per-pole parameters, arrays of shape (..., B); see ``params.PoleSpec``.

    protection_tests, protection_given: how many times the pole's protection has been
    tested (a threat materialised against a member of its security bloc) and how many
    times it gave it, as of this tick (0; events add them: ``kernels.credibility_target``).
    """

    capability: FloatArray
    military_weight: FloatArray
    budget_bn: FloatArray
    credibility: FloatArray
    regime_support: FloatArray
    soft_power: FloatArray
    soft_power_fade: FloatArray
    coercion: FloatArray
    leverage: FloatArray
    trade_factor: FloatArray
    proportional_spending: FloatArray
    supports_democracy: FloatArray
    protection_tests: FloatArray
    protection_given: FloatArray


@dataclass(frozen=True)
class PairParams:
    """Per (pole, chooser) parameters, arrays of shape (..., B, N).

    proximity: exp(-distance / reach_km) between capitals. presence: 0-1 military
    presence. trade_share: share of the chooser's trade with the bloc (0-1).
    remittance_origin: share of its remittances sent from the bloc. transit: 0-1
    dependence on the bloc's pipelines. ties: 0-1 cultural ties (soft-power basis).
    conditionality: 0-1 strictness of the pole's conditions on this chooser. pressure:
    multiplier on the pole's coercion of this chooser, its military threat and its
    economic pressure alike (1; military escalations raise it). economic_pressure:
    multiplier on its economic pressure alone (1; economic punishments, an embargo or a
    gas cut-off, raise it: ``kernels.economic_coercion_term``). focus: multiplier on the pole's
    spending on it (1; in a calendar world, a lending pole's recorded weights,
    ``calendar.lending_focus``). grievance: 0-1, the pole's forces hold the chooser's territory
    without its consent. pledge_bn: US$ bn a year the pole has put on the table for the
    chooser outside its spending rule (events only; ``kernels.inducement_terms``).
    union_open: 1 from the first full year of the pole's union (``PoleSpec.union_from``),
    else 0: before it no chooser can join the union (``kernels.founding_term``).
    labour_open: 1 from the first full year of free movement of labour in the pole's union
    (``PoleSpec.labour_market_from``), else 0: before it the union secures no remittances
    (``kernels.remittance_term``). exit_cost: multiplier on the cost of leaving the pole's
    security bloc (1; events set it, e.g. 0 while a treaty's term lapses:
    ``kernels.switching_term``).
    """

    proximity: FloatArray
    presence: FloatArray
    trade_share: FloatArray
    remittance_origin: FloatArray
    transit: FloatArray
    ties: FloatArray
    conditionality: FloatArray
    pressure: FloatArray
    economic_pressure: FloatArray
    focus: FloatArray
    grievance: FloatArray
    pledge_bn: FloatArray
    union_open: FloatArray
    labour_open: FloatArray
    exit_cost: FloatArray


PARAM_TABLES: dict[str, type] = {"state": StateParams, "pole": PoleParams, "pair": PairParams}
_UNIT = Domain(0.0, 1.0, "a number")
_OPEN = Domain(0.0, LARGE, "a number")
PARAM_DOMAINS: dict[str, dict[str, Domain]] = {
    "state": {
        "gdp_bn": Domain(1e-9, 1e6, "a GDP in US$ bn"),
        "capability": _UNIT,
        "autocracy": _UNIT,
        "threat_exposure": _OPEN,  # events may push exposure above 1 (protection_term)
        "regime_insecurity": _OPEN,
        "remittances": _UNIT,
        "autonomy": _UNIT,
        "neutral": _UNIT,
    },
    "pole": {
        "capability": _UNIT,
        "military_weight": _UNIT,
        "budget_bn": _OPEN,
        "credibility": _UNIT,
        "regime_support": _UNIT,
        "soft_power": _UNIT,
        "soft_power_fade": _OPEN,
        "coercion": _OPEN,  # the threat is in [0, ~2]: events may raise coercion above 1
        "leverage": _OPEN,
        "trade_factor": _OPEN,
        "proportional_spending": _UNIT,
        "supports_democracy": _UNIT,
        "protection_tests": _OPEN,
        "protection_given": _OPEN,
    },
    "pair": {
        "proximity": _UNIT,
        "presence": _OPEN,  # its effect is capped: min(1, proximity + presence)
        "trade_share": _UNIT,
        "remittance_origin": _UNIT,
        "transit": _UNIT,
        "ties": _OPEN,
        "conditionality": _UNIT,
        "pressure": _OPEN,
        "economic_pressure": _OPEN,
        "focus": _OPEN,
        "grievance": _UNIT,
        "pledge_bn": _OPEN,
        "union_open": _UNIT,
        "labour_open": _UNIT,
        "exit_cost": _OPEN,
    },
}
"""Where each compiled parameter must stay, events included (``events.magnitude_range``)."""


def table_fields(table: str) -> list[str]:
    """Names of the parameters an event may change in ``table`` (state, pole, pair)."""
    return [f.name for f in fields(PARAM_TABLES[table])]


def empty_imputed() -> pd.DataFrame:
    """An imputation table with no rows (``World.imputed`` of a static world)."""
    return pd.DataFrame({name: [] for name in IMPUTED_COLUMNS}).astype(
        {"year": "int64", "value": "float64", "state": object, "field": object, "rule": object}
    )


@dataclass(frozen=True)
class World:
    """Arrays for one region at one data year. N choosers, B poles, K profiles
    (``space``: S security options x E economic options, ``model.alignment``).

    ``state``, ``pole`` and ``pair`` hold the start year's parameters, float32;
    ``distance_km`` (B, N) the distances between capitals and ``soft_power_basis`` (B, N)
    the start year's basis of the ties, float64: what ``proximity`` and ``soft_power_ties``
    turn a pole's reach and floor into (per run in ``studies.points``). A calendar world
    (``calendar`` set) also holds each later year's data-driven values; ``imputed`` lists
    every value it uses that was not observed in its year (columns ``IMPUTED_COLUMNS``;
    ``rule`` says how it was filled, docs/MODEL.md "Calendar"). Empty for a static world.
    ``labelling`` gives each chooser's record label of every profile, with the memberships
    the record holds for it at the end of the year of its start configuration
    (``RegionSpec.start_configuration_year``; ``alignment.held_points``): a run knows them
    as of its start and holds them, as it knows no later act of a state.
    """

    region: str
    year: int
    tick_months: int
    states: tuple[str, ...]
    state_labels: tuple[str, ...]
    poles: tuple[str, ...]
    pole_colors: tuple[str, ...]
    state: StateParams
    pole: PoleParams
    pair: PairParams
    affinity: FloatArray
    rivalry: FloatArray
    space: OptionSpace
    labelling: Labelling
    initial_alignment: IntArray
    state_lat: FloatArray
    state_lon: FloatArray
    pole_lat: FloatArray
    pole_lon: FloatArray
    distance_km: FloatArray
    soft_power_basis: FloatArray
    calendar: Calendar | None = None
    imputed: pd.DataFrame = field(default_factory=empty_imputed, repr=False)
    built_from: str = field(default="", repr=False, compare=False)
    """The region it was built from, as ``repr(RegionSpec)`` (``build_world``): a world
    given beside a configuration must be its region's (``RunInputs.from_config``)."""
    _by_year: dict[int, BaseParams] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def params_for_tick(self, tick: int) -> BaseParams:
        """The base parameters in force during ``tick``, before events.

        Static world: always ``(state, pole, pair)``. Calendar world: those of the
        calendar year that holds the tick's months (tick t >= 1 runs from
        ``year_of_tick(t - 1)`` to ``year_of_tick(t)``; tick 0, the start, is in the start
        year): the year's data-driven values (``Calendar.fields_of_year``) over this
        world's tables, built once per year.
        """
        if self.calendar is None:
            return self.state, self.pole, self.pair
        offset = max(tick - 1, 0) * self.tick_months // 12
        tables = self._by_year.get(offset)
        if tables is None:
            state, pole, pair = self.calendar.fields_of_year(self.year + offset)
            tables = (
                replace(self.state, **state),
                replace(self.pole, **pole),
                replace(self.pair, **pair),
            )
            self._by_year[offset] = tables
        return tables

    @property
    def options(self) -> tuple[str, ...]:
        """The profiles, ``"<security>/<economy>"``, in index order."""
        return self.space.profiles

    @property
    def labels(self) -> tuple[str, ...]:
        """The record labels a profile can get: the poles' names and ``hedge``."""
        return self.space.labels

    @property
    def security_poles(self) -> IntArray:
        """(P,) indices of the poles that offer security."""
        return self.space.security_poles

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_poles(self) -> int:
        return len(self.poles)

    def year_of_tick(self, tick: int) -> float:
        """Calendar year (fractional) at the end of ``tick``, when its state is recorded;
        tick 0 is 1 Jan of ``year``, and tick t >= 1 runs from ``year_of_tick(t - 1)``."""
        return self.year + tick * self.tick_months / 12.0

    def quarters_covered(self, ticks: int) -> str:
        """The quarters the first ``ticks`` ticks cover, '2015 Q1 to 2024 Q4' for 40 from
        2015 ('2015 Q1' for one, or none): tick t covers the quarter that starts at
        ``year_of_tick(t - 1)``."""
        first, last = quarter(self.year), quarter(self.year_of_tick(max(ticks - 1, 0)))
        return first if first == last else f"{first} to {last}"


def quarter(year: float) -> str:
    """A fractional year as 'YYYY Qn', the quarter that starts then (``year_of_tick``:
    tick 0 of 2015 is '2015 Q1', tick 1 '2015 Q2')."""
    whole = int(np.floor(year + 1e-9))
    return f"{whole} Q{int((year - whole) * 4 + 1e-9) + 1}"


def load_attributes(
    path: str | Path | None = None, key: str = "region.attributes_file"
) -> pd.DataFrame:
    """Read a long-form attributes file (state, year, field, value, unit, source); ``key``
    names the setting in errors (the drivers file has the same form)."""
    file = Path(path) if path is not None else packaged_data_path(ATTRIBUTES_FILE)
    if not file.is_file():
        raise DataError(key, str(file), "an existing CSV file of state attributes")
    try:
        table = pd.read_csv(file, dtype={"value": str})
    except Exception as exc:
        raise DataError(
            key, str(file), "a readable CSV file", f"Reading it failed: {exc}"
        ) from None
    missing = [c for c in ATTRIBUTE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            key,
            str(file),
            f"a CSV with columns {', '.join(ATTRIBUTE_COLUMNS)}",
            f"Missing: {', '.join(missing)}.",
        )
    return table


def override_value(state: str, name: str, overrides: dict[str, float] | None) -> float | None:
    """A state's ``overrides`` value for a field, checked against the field's range, or
    None when the field is not overridden (then the data files give it)."""
    if not overrides or name not in overrides:
        return None
    value = overrides[name]
    attribute_domain(name).check(f"overrides.{name} (state {state})", value)
    return float(value)


class AttributeLookup:
    """Picks a field's value for a state and year: the nearest year, earlier on ties.

    Time-invariant rows (empty year) always apply. The file says in ``source`` which
    year each value really is (trade is 2014 for 2015, for example). Every row is checked
    up front: a whole-number or empty ``year``, one row per (state, year, field), and a
    value within its field's range (``params.attribute_domain``).
    """

    def __init__(self, table: pd.DataFrame, year: int, file_label: str) -> None:
        self.year = year
        self.file_label = file_label
        self.rows: dict[tuple[str, str], list[tuple[float, Any]]] = {}
        seen: set[tuple[str, float | None, str]] = set()
        for state, name, raw_year, raw in zip(
            table["state"], table["field"], table["year"], table["value"], strict=True
        ):
            when = self._year(state, name, raw_year, raw)
            key = (state, None if math.isnan(when) else when, name)
            if key in seen:
                raise DataError(
                    self._key(state, when, name),
                    raw,
                    "one row per (state, year, field)",
                    "The file has two or more; keep the one you mean.",
                )
            seen.add(key)
            if attribute_domain(name) is not ANY_FINITE:
                self._number(state, when, name, raw)
            self.rows.setdefault((state, name), []).append((when, raw))

    def _key(self, state: str, when: float, name: str) -> str:
        year = "no year" if math.isnan(when) else str(int(when))
        return f"{self.file_label}[{state}, {year}, {name}]"

    def _year(self, state: str, name: str, raw_year: Any, raw: Any) -> float:
        """A row's year as a float (NaN: time-invariant); a year that is not a whole
        number (``2O15``, ``2015.5``) is refused, never read as time-invariant."""
        if raw_year is None or (isinstance(raw_year, float) and math.isnan(raw_year)):
            return math.nan
        text = str(raw_year).strip()
        if text == "":
            return math.nan
        if isinstance(raw_year, bool) or re.fullmatch(r"\d{1,4}(\.0*)?", text) is None:
            raise DataError(
                f"{self.file_label}[{state}, {text}, {name}]",
                raw_year,
                "a year that is a whole number, or empty for a time-invariant value",
            )
        return float(text)

    def _number(self, state: str, when: float, name: str, raw: Any) -> float:
        """``raw`` as a number within the field's range (DataError naming the row)."""
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DataError(self._key(state, when, name), raw, "a number") from None
        if math.isnan(value):
            raise DataError(self._key(state, when, name), raw, "a number")
        try:
            attribute_domain(name).check(self._key(state, when, name), value)
        except ConfigError as exc:
            raise DataError(exc.key, exc.value, exc.expected) from None
        return value

    def observed(self, state: str, name: str) -> tuple[dict[int, float], float | None] | None:
        """A field's rows for a state: values by year, and the time-invariant value (or
        None); None when the file has no row for (state, field)."""
        rows = self.rows.get((state, name))
        if not rows:
            return None
        dated = {
            int(when): self._number(state, when, name, raw)
            for when, raw in rows
            if not math.isnan(when)
        }
        fixed = [self._number(state, when, name, raw) for when, raw in rows if math.isnan(when)]
        return dated, (fixed[0] if fixed else None)

    def get(self, state: str, name: str, overrides: dict[str, float] | None = None) -> float:
        given = override_value(state, name, overrides)
        if given is not None:
            return given
        rows = self.rows.get((state, name))
        if not rows:
            raise DataError(
                f"{self.file_label}[{state}, {name}]",
                None,
                f"a row for state '{state}' and field '{name}'",
                "Add it to the file or give it in the state's 'overrides'.",
            )
        dated = [(abs(when - self.year), when, raw) for when, raw in rows if not math.isnan(when)]
        if dated:
            _, when, raw = min(dated, key=lambda row: (row[0], row[1]))
        else:
            when, raw = rows[0]
        return self._number(state, when, name, raw)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def proximity(distance_km: FloatArray, reach_km: FloatArray) -> FloatArray:
    """Proximity of choosers to a pole, 0-1: exp(-distance / reach), the distance between
    capitals and the pole's reach in km (arrays that broadcast; float64 in, float64 out)."""
    return np.exp(-distance_km / reach_km)


def soft_power_ties(floor: FloatArray, basis: FloatArray) -> FloatArray:
    """Cultural ties to a pole, 0-1: its floor (every chooser's ties, 0-1) and the rest of
    the way by the chooser's basis (0-1: ethnic Russian share, democracy); arrays that
    broadcast, float64 in, float64 out."""
    return floor + (1.0 - floor) * basis


def in_model_float(table: Table) -> Table:
    """A parameter table (StateParams, PoleParams, PairParams) with arrays of ``FLOAT``."""
    values = {f.name: np.asarray(getattr(table, f.name), dtype=FLOAT) for f in fields(table)}
    return replace(table, **values)


TRANSIT_ROUTES_FILE = "transit_routes.csv"
TRANSIT_ROUTE_COLUMNS = ("state", "pole", "route", "opened", "share", "source")


@dataclass(frozen=True)
class TransitRoute:
    """A dated route: the share of ``state``'s transit judgement towards ``pole`` that it
    carries, from the year ``opened`` on."""

    state: str
    pole: str
    route: str
    opened: int
    share: float


@cache
def transit_routes(path: str) -> tuple[TransitRoute, ...]:
    """The dated transit routes (``data/transit_routes.csv`` unless
    ``region.transit_routes_file``), read and checked once per path."""
    key = "region.transit_routes_file"
    if not Path(path).is_file():
        raise DataError(key, path, "an existing CSV file of dated transit routes")
    table = pd.read_csv(path)
    missing = [c for c in TRANSIT_ROUTE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(key, path, f"a CSV with the columns {', '.join(TRANSIT_ROUTE_COLUMNS)}")
    routes = []
    for number, row in enumerate(table.itertuples(index=False), start=2):
        where = f"{Path(path).name} row {number}"
        if not isinstance(row.opened, (int, np.integer)):
            raise DataError(f"{where}: opened", row.opened, "a whole year")
        if not (isinstance(row.share, float | int) and 0.0 <= row.share <= 1.0):
            raise DataError(f"{where}: share", row.share, "a share in [0, 1]")
        routes.append(
            TransitRoute(str(row.state), str(row.pole), str(row.route), int(row.opened), row.share)
        )
    return tuple(routes)


def in_force(first_years: Sequence[int | None], year: int, undated: bool) -> FloatArray:
    """1.0 where a dated status (a neutrality, a union, a labour market) is in force in
    ``year``, its first full year reached; a status with no year (None) is ``undated``."""
    return np.array(
        [undated if first is None else year >= first for first in first_years], dtype=np.float64
    )


def transit_in_year(region: RegionSpec, year: int) -> FloatArray:
    """(B, N) transit dependence in ``year``: each state's judgement (``transit``, the
    routes of the 2015 world) less the share of the routes that opened after ``year``
    (``transit_routes``), so that no pipeline counts before it carried anything."""
    path = region.transit_routes_file or str(packaged_data_path(TRANSIT_ROUTES_FILE))
    pole_index = {pole.name: b for b, pole in enumerate(region.poles)}
    state_index = {spec.attribute_state: i for i, spec in enumerate(region.states)}
    level = np.array(
        [[spec.transit.get(pole, 0.0) for spec in region.states] for pole in pole_index]
    )
    carried, pending = np.zeros_like(level), np.zeros_like(level)
    names: dict[tuple[int, int], list[str]] = {}
    for route in transit_routes(path):
        if route.pole not in pole_index or route.state not in state_index:
            continue  # a route of another region's states or poles
        b, i = pole_index[route.pole], state_index[route.state]
        carried[b, i] += route.share
        names.setdefault((b, i), []).append(route.route)
        if route.opened > year:
            pending[b, i] += route.share
    for b, i in zip(*np.nonzero(carried > level + 1e-9), strict=True):
        state = item_path("region.states", i, region.states[i].name)
        raise ConfigError(
            f"{state}.transit.{region.poles[b].name}",
            float(level[b, i]),
            f"at least {carried[b, i]:g}, the share its dated routes carry "
            f"({', '.join(names[b, i])}: {Path(path).name})",
        )
    return np.maximum(0.0, level - pending)  # no -1e-16 from 0.6 - 0.2 - 0.4


def read_data_values(region: RegionSpec, get: Getter, year: int) -> dict[str, FloatArray]:
    """The parameters that come from data, for one year, as float64 arrays.

    ``get`` reads a field for a state (``AttributeLookup.get`` for a static world,
    ``calendar.YearlyData.getter`` for a year of a calendar world) in ``year``. Keys:
    gdp_bn, capability, autocracy, remittances (N,); neutral (N,; from each state's
    ``neutral_from``); pole_capability (B,); trade_share, grievance, ties,
    soft_power_basis (the ties' basis, ``soft_power_ties``), transit, union_open and
    labour_open (B, N; from each pole's ``union_from`` and ``labour_market_from``).
    """
    N, B = len(region.states), len(region.poles)
    pole_cap = np.zeros(B)
    for b, pole in enumerate(region.poles):
        if pole.capability is not None:
            pole_cap[b] = pole.capability
        else:
            assert pole.attribute_state is not None  # PoleSpec.validate
            pole_cap[b] = get(pole.attribute_state, "cinc", None)
    gdp, cinc, autocracy, remit = np.zeros(N), np.zeros(N), np.zeros(N), np.zeros(N)
    trade, grievance, basis = np.zeros((B, N)), np.zeros((B, N)), np.zeros((B, N))
    for i, spec in enumerate(region.states):
        row, ov = spec.attribute_state, spec.overrides
        gdp[i] = get(row, "gdp_current_usd", ov) / 1e9
        cinc[i] = get(row, "cinc", ov)
        polity = get(row, "polity2", ov)
        autocracy[i] = (10.0 - polity) / 20.0
        remit[i] = get(row, "remittances_received_pct_gdp", ov) / 100.0
        for b, pole in enumerate(region.poles):
            trade[b, i] = get(row, pole.trade_field, ov) / 100.0 if pole.trade_field else 0.0
            if pole.grievance_field:
                grievance[b, i] = get(row, pole.grievance_field, ov)
            if pole.soft_power_basis == "ethnic_russian_share":
                basis[b, i] = get(row, "ethnic_russian_share_pct", ov) / 100.0
            elif pole.soft_power_basis == "democracy":
                basis[b, i] = (polity + 10.0) / 20.0
    floor = np.array([[pole.soft_power_floor] for pole in region.poles], dtype=np.float64)
    neutral = in_force([spec.neutral_from for spec in region.states], year, undated=False)
    founded = in_force([pole.union_from for pole in region.poles], year, undated=True)
    labour = in_force([pole.labour_market_from for pole in region.poles], year, undated=False)
    return {
        "gdp_bn": gdp,
        "capability": cinc,
        "neutral": neutral,
        "autocracy": autocracy,
        "remittances": remit,
        "pole_capability": pole_cap,
        "trade_share": trade,
        "grievance": grievance,
        "union_open": np.repeat(founded[:, None], N, axis=1),
        "labour_open": np.repeat(labour[:, None], N, axis=1),
        "ties": soft_power_ties(floor, basis),
        "soft_power_basis": basis,
        "transit": transit_in_year(region, year),
    }


def pole_capitals(region: RegionSpec, look: AttributeLookup) -> tuple[FloatArray, FloatArray]:
    """Each pole's capital (latitude, longitude), (B,) each: its own coordinates where the
    region gives them, otherwise its attribute state's from the attributes table."""
    lat, lon = np.zeros(len(region.poles)), np.zeros(len(region.poles))
    for b, pole in enumerate(region.poles):
        if pole.attribute_state is None:
            assert pole.capital_lat is not None and pole.capital_lon is not None
            lat[b], lon[b] = pole.capital_lat, pole.capital_lon
            continue
        lat[b] = (
            pole.capital_lat
            if pole.capital_lat is not None
            else look.get(pole.attribute_state, "capital_lat")
        )
        lon[b] = (
            pole.capital_lon
            if pole.capital_lon is not None
            else look.get(pole.attribute_state, "capital_lon")
        )
    return lat, lon


def starting_world(
    region: RegionSpec, look: AttributeLookup, drivers: pd.DataFrame | None
) -> tuple[dict[str, FloatArray], IntArray, Calendar | None, pd.DataFrame]:
    """The data values of the start year, each chooser's starting profile, the calendar (a
    calendar world's yearly values; None for a snapshot) and the values it imputed."""
    space = region.option_space
    if region.calendar:
        from alignment_sim.model.calendar import build_calendar, starting_alignment

        calendar, imputed = build_calendar(region, look, drivers)
        return calendar.start_values, starting_alignment(region, space), calendar, imputed
    from alignment_sim.model.calendar import starting_profile

    values = read_data_values(region, look.get, region.year)
    initial = np.array(
        [
            starting_profile(
                space,
                f"{item_path('region.states', i, spec.name)}.initial.{region.year}",
                spec.initial[str(region.year)],
                spec.attribute_state,
                region.year,
            )
            for i, spec in enumerate(region.states)
        ],
        dtype=np.int64,
    )
    return values, initial, None, empty_imputed()


def affinity_matrix(region: RegionSpec) -> FloatArray:
    """(N, N) the choosers' affinities (``region.affinities``), symmetric, 0 elsewhere."""
    index = {name: i for i, name in enumerate(region.state_names)}
    affinity = np.zeros((len(index), len(index)))
    for a in region.affinities:
        affinity[index[a.a], index[a.b]] = a.value
        affinity[index[a.b], index[a.a]] = a.value
    return affinity


def rivalry_matrix(region: RegionSpec) -> FloatArray:
    """(B, B) each pole's rivalry with each other pole (``pole.rivalry``), 0 elsewhere."""
    names = region.pole_names
    rivalry = np.zeros((len(names), len(names)))
    for p, pole in enumerate(region.poles):
        for other, value in pole.rivalry.items():
            rivalry[p, names.index(other)] = value
    return rivalry


def build_world(
    region: RegionSpec,
    attributes: pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
) -> World:
    """Compile a ``RegionSpec`` into a ``World`` of arrays (validating it first).

    ``attributes`` and ``drivers`` replace the region's attributes and drivers files
    (the drivers are read only by a calendar world, ``region.calendar``).
    """
    region.validate()
    table = attributes if attributes is not None else load_attributes(region.attributes_file)
    look = AttributeLookup(table, region.year, region.attributes_file or ATTRIBUTES_FILE)
    pole_names = region.pole_names
    N, B = len(region.states), len(region.poles)

    pole_lat, pole_lon = pole_capitals(region, look)
    space = region.option_space
    values, initial, calendar, imputed = starting_world(region, look, drivers)

    lat, lon, exposure = np.zeros(N), np.zeros(N), np.zeros(N)
    distance, presence = np.zeros((B, N)), np.zeros((B, N))
    origin, autonomy = np.zeros((B, N)), np.zeros(N)
    for i, spec in enumerate(region.states):
        row, ov = spec.attribute_state, spec.overrides
        lat[i] = look.get(row, "capital_lat", ov)
        lon[i] = look.get(row, "capital_lon", ov)
        exposure[i] = spec.threat_exposure
        autonomy[i] = spec.autonomy
        for b, pole in enumerate(region.poles):
            distance[b, i] = great_circle_km(lat[i], lon[i], pole_lat[b], pole_lon[b])
            presence[b, i] = spec.presence.get(pole.name, 0.0)
            origin[b, i] = spec.remittance_origin.get(pole.name, 0.0)

    reach = np.array([[pole.reach_km] for pole in region.poles], dtype=np.float64)

    def per_pole(attr: str) -> FloatArray:
        return np.array([float(getattr(p, attr)) for p in region.poles])

    budget = calendar.start_budget if calendar is not None else per_pole("budget_bn_usd")
    return World(
        region=region.name,
        built_from=repr(region),
        year=region.year,
        tick_months=region.tick_months,
        states=tuple(region.state_names),
        state_labels=tuple(s.label or s.attribute_state for s in region.states),
        poles=tuple(pole_names),
        pole_colors=tuple(p.color for p in region.poles),
        state=in_model_float(
            StateParams(
                gdp_bn=values["gdp_bn"],
                capability=values["capability"],
                autocracy=values["autocracy"],
                threat_exposure=exposure,
                regime_insecurity=np.zeros(N),
                remittances=values["remittances"],
                autonomy=autonomy,
                neutral=values["neutral"],
            )
        ),
        pole=in_model_float(
            PoleParams(
                capability=values["pole_capability"],
                military_weight=per_pole("military_weight"),
                budget_bn=budget,
                credibility=per_pole("credibility"),
                regime_support=per_pole("regime_support"),
                soft_power=per_pole("soft_power"),
                soft_power_fade=per_pole("soft_power_fade_per_year"),
                coercion=per_pole("coercion"),
                leverage=per_pole("leverage"),
                trade_factor=np.ones(B),
                proportional_spending=np.array(
                    [1.0 if p.spending == "proportional" else 0.0 for p in region.poles]
                ),
                supports_democracy=np.array(
                    [1.0 if p.regime_support_basis == "democracy" else 0.0 for p in region.poles]
                ),
                protection_tests=np.zeros(B),
                protection_given=np.zeros(B),
            )
        ),
        pair=in_model_float(
            PairParams(
                proximity=proximity(distance, reach),
                presence=presence,
                trade_share=values["trade_share"],
                remittance_origin=origin,
                transit=values["transit"],
                ties=values["ties"],
                conditionality=np.repeat(per_pole("conditionality")[:, None], N, axis=1),
                pressure=np.ones((B, N)),
                economic_pressure=np.ones((B, N)),
                focus=calendar.pair[0]["focus"] if calendar is not None else np.ones((B, N)),
                grievance=values["grievance"],
                pledge_bn=np.zeros((B, N)),
                union_open=values["union_open"],
                labour_open=values["labour_open"],
                exit_cost=np.ones((B, N)),
            )
        ),
        affinity=affinity_matrix(region).astype(FLOAT),
        rivalry=rivalry_matrix(region).astype(FLOAT),
        space=space,
        labelling=Labelling.of_record(
            space, [s.attribute_state for s in region.states], region.start_configuration_year
        ),
        initial_alignment=initial,
        state_lat=lat,
        state_lon=lon,
        pole_lat=pole_lat,
        pole_lon=pole_lon,
        distance_km=distance,
        soft_power_basis=values["soft_power_basis"],
        calendar=calendar,
        imputed=imputed,
    )
