"""The world by calendar year: yearly data series, how gaps are filled, and pole budgets.

A calendar world (``region.calendar``) takes every data-driven parameter from the year in
force: the drivers file (``data/drivers_by_year.csv``, yearly 1991-2024, copied from the
project's shared data with its ``source`` column) for the fields it has, the attributes
file (2000, 2010, 2015) for the rest. The rules (docs/MODEL.md, "Calendar"):

- between two observed years a value is interpolated linearly (``interpolated``); a 0/1
  flag keeps its last observation until the next (``held_last``);
- before a series starts it takes its first value (``held_first``), after it ends its
  last (``held_last``);
- GDP (World Bank, Oct-2024 vintage, to 2023) is extended by the growth of the Jul-2026
  vintage (to 2024), and trade shares (COW, to 2014) by the change, in percentage points,
  of the IMF DOTS shares (to 2020): ``chain_linked``;
- pole budgets follow ``region.budget_rules`` (``yearly_budget``, ``pole_budgets``).

Every value used that was not observed in its year is a row of ``World.imputed``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError, DataError
from alignment_sim.model.alignment import (
    SEPARATOR,
    Labelling,
    OptionSpace,
    membership_profile,
)
from alignment_sim.model.params import (
    CALENDAR_FIRST_YEAR,
    CALENDAR_LAST_YEAR,
    FLAG,
    RECORD_LAST_YEAR,
    RegionSpec,
    attribute_domain,
    item_path,
)
from alignment_sim.model.world import (
    FLOAT,
    IMPUTED_COLUMNS,
    AttributeLookup,
    FloatArray,
    Getter,
    IntArray,
    load_attributes,
    override_value,
    packaged_data_path,
    read_data_values,
)

CALENDAR_YEARS = range(CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR + 1)
RECORD_FILE = "alignment_by_year_1991_2010.csv"
DRIVERS_FILE = "drivers_by_year.csv"
GDP_FIELD = "gdp_current_usd"
LENDING_FIELD = "chinese_devfin_commitments_usd2021"
BUDGET_REFERENCE_YEAR = 2015
"""The year the configured budgets describe (the calibrated 2015 world)."""
LENDING_WINDOW_YEARS = 3
"""China's budget: mean of the commitments of this many years, ending in the year."""
EXTENSIONS: dict[str, tuple[str, str]] = {
    GDP_FIELD: ("gdp_current_usd_v2026", "ratio"),
    "trade_share_russia_pct": ("dots_trade_share_russia_pct", "difference"),
    "trade_share_china_pct": ("dots_trade_share_china_pct", "difference"),
    "trade_share_eu_pct": ("dots_trade_share_eu_pct", "difference"),
}
"""A series -> (the series that extends it after it ends, and how: ``ratio`` scales the
last common value by the extension's growth; ``difference`` adds its change)."""

STATE_FIELDS = ("gdp_bn", "capability", "autocracy", "remittances", "neutral")
PAIR_FIELDS = ("trade_share", "grievance", "ties", "transit", "union_open", "labour_open", "focus")
FieldValues = dict[str, FloatArray]


@dataclass(frozen=True)
class Series:
    """A field's value in every calendar year 1992-2024, and how each was obtained
    (``None``: observed in its year; else the rule that filled it)."""

    values: tuple[float, ...]
    rules: tuple[str | None, ...]

    def at(self, year: int) -> tuple[float, str | None]:
        k = year - CALENDAR_FIRST_YEAR
        return self.values[k], self.rules[k]


def fill_years(observed: Mapping[int, tuple[float, str | None]], step: bool = False) -> Series:
    """A value for every calendar year from observations {year: (value, rule)}.

    Between observations: linear interpolation (``step``: the last observation holds);
    before the first: the first (``held_first``); after the last: the last (``held_last``).
    """
    years = sorted(observed)
    values: list[float] = []
    rules: list[str | None] = []
    for year in CALENDAR_YEARS:
        if year in observed:
            value, rule = observed[year]
        elif year < years[0]:
            value, rule = observed[years[0]][0], "held_first"
        elif year > years[-1]:
            value, rule = observed[years[-1]][0], "held_last"
        else:
            before = max(y for y in years if y < year)
            after = min(y for y in years if y > year)
            low, high = observed[before][0], observed[after][0]
            if step:
                value, rule = low, "held_last"
            else:
                value = low + (high - low) * (year - before) / (after - before)
                rule = "interpolated"
        values.append(value)
        rules.append(rule)
    return Series(tuple(values), tuple(rules))


def chain_link(
    base: Mapping[int, float], extension: Mapping[int, float], how: str
) -> dict[int, tuple[float, str | None]]:
    """``base`` observations, extended after its last year by ``extension``'s movement
    from the last year both have (``ratio``: growth; ``difference``: change, kept within
    0-100 for percentages). Extended values carry the rule ``chain_linked``."""
    linked: dict[int, tuple[float, str | None]] = {y: (v, None) for y, v in base.items()}
    common = [y for y in base if y in extension]
    if not common:
        return linked
    anchor = max(common)
    for year, value in extension.items():
        if year <= max(base):
            continue
        if how == "ratio":
            if extension[anchor] == 0.0:
                continue
            linked[year] = (base[anchor] * value / extension[anchor], "chain_linked")
        else:
            spliced = base[anchor] + value - extension[anchor]
            linked[year] = (min(100.0, max(0.0, spliced)), "chain_linked")
    return linked


class YearlyData:
    """Every (state, field) series a calendar world reads, built on first use.

    ``value`` records each value used in the world's years that was not observed in its
    year (``imputed``); ``getter(year)`` reads like ``AttributeLookup.get``, overrides
    first.
    """

    def __init__(self, drivers: AttributeLookup, attributes: AttributeLookup, first: int) -> None:
        self.drivers = drivers
        self.attributes = attributes
        self.first = first
        self.series_by_key: dict[tuple[str, str], Series] = {}
        self.imputed: dict[tuple[int, str, str], tuple[float, str]] = {}

    def series(self, state: str, name: str) -> Series:
        key = (state, name)
        if key not in self.series_by_key:
            self.series_by_key[key] = self._build(state, name)
        return self.series_by_key[key]

    def _build(self, state: str, name: str) -> Series:
        step = attribute_domain(name) is FLAG
        rows = self.drivers.observed(state, name)
        if rows is not None and rows[0]:
            base = rows[0]
            if name in EXTENSIONS:
                extension_name, how = EXTENSIONS[name]
                extension = self.drivers.observed(state, extension_name)
                if extension is not None:
                    return fill_years(chain_link(base, extension[0], how), step)
            return fill_years({y: (v, None) for y, v in base.items()}, step)
        rows = self.attributes.observed(state, name)
        if rows is not None:
            dated, fixed = rows
            if dated:
                return fill_years({y: (v, None) for y, v in dated.items()}, step)
            if fixed is not None:
                return Series((fixed,) * len(CALENDAR_YEARS), (None,) * len(CALENDAR_YEARS))
        raise DataError(
            f"{self.drivers.file_label}[{state}, {name}]",
            None,
            f"a series for state '{state}' and field '{name}' in {self.drivers.file_label} "
            f"or {self.attributes.file_label}",
            "Add its rows to one of the files, or give the value in the state's 'overrides'.",
        )

    def value(self, state: str, name: str, year: int) -> float:
        value, rule = self.series(state, name).at(year)
        if rule is not None and year >= self.first:
            self.imputed[(year, state, name)] = (value, rule)
        return value

    def getter(self, year: int) -> Getter:
        def get(state: str, name: str, overrides: dict[str, float] | None) -> float:
            given = override_value(state, name, overrides)
            return self.value(state, name, year) if given is None else given

        return get

    def imputed_frame(self) -> pd.DataFrame:
        rows = [
            (year, state, name, value, rule)
            for (year, state, name), (value, rule) in sorted(self.imputed.items())
        ]
        frame = pd.DataFrame(rows, columns=list(IMPUTED_COLUMNS))
        return frame.astype({"year": "int64", "value": "float64"})


def recorded_lending(region: RegionSpec, data: YearlyData) -> dict[str, dict[int, float]]:
    """The choosers' observed development-finance commitments (AidData,
    ``LENDING_FIELD``, constant 2021 US$) by year, for the choosers the data list."""
    recorded: dict[str, dict[int, float]] = {}
    for spec in region.states:
        rows = data.drivers.observed(spec.attribute_state, LENDING_FIELD)
        if rows is not None and rows[0]:
            recorded[spec.attribute_state] = rows[0]
    return recorded


def lending_focus(region: RegionSpec, data: YearlyData) -> dict[int, FloatArray]:
    """Each year's (B, N) focus of each pole on each chooser before events: 1, except for
    a pole under ``chinese_lending``, whose focus is each chooser's weight in its
    recorded commitments (``recorded_lending``) over the years of the budget's window
    that the data observe: N x the chooser's share, so that its envelope goes where its
    money went (in 2008-2010 Kazakhstan, Uzbekistan and Turkmenistan, not Kyrgyzstan).
    A window the data do not reach (before 2000) leaves the focus at 1; after the data
    end (2021) the last year's focus holds, as the budget does (``lending_budgets``)."""
    recorded = recorded_lending(region, data)
    last = max((max(years) for years in recorded.values()), default=CALENDAR_FIRST_YEAR)
    lending = [
        b
        for b, pole in enumerate(region.poles)
        if region.budget_rules.get(pole.name) == "chinese_lending"
    ]
    focus: dict[int, FloatArray] = {}
    for year in CALENDAR_YEARS:
        if year > last:
            focus[year] = focus[last]
            continue
        window = range(max(CALENDAR_FIRST_YEAR, year - LENDING_WINDOW_YEARS + 1), year + 1)
        lent = np.array(
            [
                sum(recorded.get(spec.attribute_state, {}).get(y, 0.0) for y in window)
                for spec in region.states
            ]
        )
        focus[year] = np.ones((len(region.poles), len(region.states)))
        if lent.sum() > 0.0:
            focus[year][lending] = lent * len(lent) / lent.sum()
    return focus


def lending_budgets(
    region: RegionSpec, data: YearlyData, lender: str
) -> dict[int, tuple[float, str | None]]:
    """China's budget by year, US$ bn: the mean of its development-finance commitments
    (AidData, constant 2021 US$) to the region's states over ``LENDING_WINDOW_YEARS``
    years ending in the year (the window starts no earlier than 1992).

    Before the data start (2000), a year's commitments are backcast as the first year's
    scaled by the lender's GDP (``backcast``); after they end (2021), the last budget
    holds (``held_last``). A state with no rows (never a recipient) counts as zero.
    """
    observed_years = {
        state: sorted(years) for state, years in recorded_lending(region, data).items()
    }
    if not observed_years:
        raise DataError(
            f"{data.drivers.file_label}[{LENDING_FIELD}]",
            None,
            f"rows of '{LENDING_FIELD}' for at least one chooser (budget rule chinese_lending)",
        )
    recipients = list(observed_years)
    first = min(years[0] for years in observed_years.values())
    last = max(years[-1] for years in observed_years.values())
    lender_gdp = data.series(lender, GDP_FIELD)
    first_total = sum(data.value(r, LENDING_FIELD, first) for r in recipients)
    yearly: dict[int, tuple[float, str | None]] = {}
    for year in range(CALENDAR_FIRST_YEAR, last + 1):
        if year >= first:
            total = sum(data.value(r, LENDING_FIELD, year) for r in recipients)
            yearly[year] = (total / 1e9, None)
        else:
            scale = lender_gdp.at(year)[0] / lender_gdp.at(first)[0]
            yearly[year] = (first_total / 1e9 * scale, "backcast")
    budgets: dict[int, tuple[float, str | None]] = {}
    for year in CALENDAR_YEARS:
        if year > last:
            budgets[year] = (budgets[last][0], "held_last")
            continue
        opens = max(CALENDAR_FIRST_YEAR, year - LENDING_WINDOW_YEARS + 1)
        window = [yearly[y] for y in range(opens, year + 1)]
        mean = sum(v for v, _ in window) / len(window)
        budgets[year] = (mean, "backcast" if any(r for _, r in window) else None)
    return budgets


CONFIGURED_BUDGET_RULES = ("constant", "gdp")
"""The budget rules whose yearly budget is made of the configured ``budget_bn_usd``
(``yearly_budget``); under ``chinese_lending`` every year's budget comes from data alone,
so the configured value changes no calendar run (``studies.points`` refuses to vary it)."""
Budget = float | FloatArray
"""A budget in US$ bn: a float, or an array over runs (``studies.points``)."""


def yearly_budget(rule: str, configured: Budget, datum: float, reference: float) -> Budget:
    """A pole's budget (US$ bn) in one calendar year by its rule (``region.budget_rules``).

    ``constant``: the configured ``budget_bn_usd``. ``gdp``: the configured budget times
    GDP_y / GDP_2015 of the pole's ``attribute_state`` (elasticity 1; ``datum``: GDP_y,
    ``reference``: GDP_2015, US$). ``chinese_lending``: ``datum``, the year's
    ``lending_budgets`` value, whatever the configured budget. ``configured`` is a float
    (the world builder) or a float64 array over runs (``studies.points``): the same
    double-precision operations either way, so a run's budget is bit for bit the budget
    of a world built with its value.
    """
    if rule == "gdp":
        return configured * datum / reference
    if rule == "chinese_lending":
        return datum
    return configured


@dataclass(frozen=True)
class BudgetSeries:
    """What a pole's budget is made of in every year from the start, besides its
    configured ``budget_bn_usd``: its rule and the datum the rule reads each year
    (``yearly_budget``: the pole's GDP under ``gdp``, with ``reference`` its GDP in
    ``BUDGET_REFERENCE_YEAR``; the lending budget under ``chinese_lending``; NaN under
    ``constant``, which reads none)."""

    rule: str
    data: tuple[float, ...]
    reference: float = math.nan

    @property
    def follows_configured(self) -> bool:
        """Whether the configured budget enters the yearly budgets (``CONFIGURED_BUDGET_RULES``)."""
        return self.rule in CONFIGURED_BUDGET_RULES

    def budget(self, k: int, configured: Budget) -> Budget:
        """The budget of the k-th year from the start, of the configured budget."""
        return yearly_budget(self.rule, configured, self.data[k], self.reference)


def budget_series(region: RegionSpec, data: YearlyData) -> tuple[BudgetSeries, ...]:
    """Each pole's ``BudgetSeries`` from the start year to 2024, by its rule
    (``region.budget_rules``; a pole not listed is ``constant``). Budget values not
    observed in their year are recorded as imputed (state: the pole's attribute_state,
    field ``budget_bn_usd``)."""
    years = range(region.year, CALENDAR_LAST_YEAR + 1)
    series = []
    for pole in region.poles:
        rule = region.budget_rules.get(pole.name, "constant")
        if rule == "gdp":
            assert pole.attribute_state is not None  # RegionSpec.validate
            reference = data.series(pole.attribute_state, GDP_FIELD).at(BUDGET_REFERENCE_YEAR)[0]
            gdp = tuple(data.value(pole.attribute_state, GDP_FIELD, year) for year in years)
            series.append(BudgetSeries(rule, gdp, reference))
        elif rule == "chinese_lending":
            assert pole.attribute_state is not None  # RegionSpec.validate
            lending = lending_budgets(region, data, pole.attribute_state)
            for year in years:
                value, how = lending[year]
                if how is not None:
                    data.imputed[(year, pole.attribute_state, "budget_bn_usd")] = (value, how)
            series.append(BudgetSeries(rule, tuple(lending[year][0] for year in years)))
        else:
            series.append(BudgetSeries(rule, (math.nan,) * len(years)))
    return tuple(series)


def pole_budgets(region: RegionSpec, series: tuple[BudgetSeries, ...]) -> dict[int, FloatArray]:
    """Each pole's budget (US$ bn a year) for every year from the start: its
    ``BudgetSeries`` (``budget_series``) of its configured ``budget_bn_usd``."""
    years = range(region.year, CALENDAR_LAST_YEAR + 1)
    budgets: dict[int, FloatArray] = {year: np.zeros(len(region.poles)) for year in years}
    for b, (pole, budget) in enumerate(zip(region.poles, series, strict=True)):
        for k, year in enumerate(years):
            budgets[year][b] = budget.budget(k, pole.budget_bn_usd)
    return budgets


@dataclass(frozen=True)
class Calendar:
    """The data-driven parameters of every year from the start year to 2024, as float32
    arrays: per year the fields of ``StateParams`` (``STATE_FIELDS``), ``PoleParams``
    (capability, budget_bn) and ``PairParams`` (``PAIR_FIELDS``) that data set, the
    basis of the year's ties (B, N), float64 (``world.soft_power_ties``), and what each
    pole's yearly budget is made of (``budgets``, one ``BudgetSeries`` per pole)."""

    first_year: int
    state: tuple[FieldValues, ...]
    pole: tuple[FieldValues, ...]
    pair: tuple[FieldValues, ...]
    soft_power_basis: tuple[FloatArray, ...]
    start_values: dict[str, FloatArray]
    start_budget: FloatArray
    budgets: tuple[BudgetSeries, ...]

    @property
    def last_year(self) -> int:
        return self.first_year + len(self.state) - 1

    def fields_of_year(self, year: int) -> tuple[FieldValues, FieldValues, FieldValues]:
        """The year's data-driven values by table (state, pole, pair)."""
        if not self.first_year <= year <= self.last_year:
            raise ConfigError(
                "tick",
                year,
                f"a tick that starts in {self.first_year}-{self.last_year} (calendar run)",
            )
        k = year - self.first_year
        return self.state[k], self.pole[k], self.pair[k]


@cache
def _drivers_lookup(path: str) -> AttributeLookup:
    """The drivers file, read and checked once per path (rows as ``load_attributes``)."""
    return AttributeLookup(load_attributes(path, "region.drivers_file"), 0, Path(path).name)


def build_calendar(
    region: RegionSpec, attributes: AttributeLookup, drivers: pd.DataFrame | None = None
) -> tuple[Calendar, pd.DataFrame]:
    """The yearly parameters of a calendar world and its imputation table."""
    if drivers is not None:
        drivers_lookup = AttributeLookup(drivers, 0, DRIVERS_FILE)
    else:
        path = region.drivers_file or str(packaged_data_path(DRIVERS_FILE))
        drivers_lookup = _drivers_lookup(path)
    data = YearlyData(drivers_lookup, attributes, region.year)
    series = budget_series(region, data)
    budgets = pole_budgets(region, series)
    focus = lending_focus(region, data)
    state, pole, pair, basis = [], [], [], []
    start_values: dict[str, FloatArray] = {}
    for year in range(region.year, CALENDAR_LAST_YEAR + 1):
        values = read_data_values(region, data.getter(year), year)
        if year == region.year:
            start_values = values
        as_model = {name: np.asarray(v, dtype=FLOAT) for name, v in values.items()}
        state.append({name: as_model[name] for name in STATE_FIELDS})
        pole.append(
            {
                "capability": as_model["pole_capability"],
                "budget_bn": np.asarray(budgets[year], dtype=FLOAT),
            }
        )
        as_model["focus"] = np.asarray(focus[year], dtype=FLOAT)
        pair.append({name: as_model[name] for name in PAIR_FIELDS})
        basis.append(values["soft_power_basis"])
    calendar = Calendar(
        first_year=region.year,
        state=tuple(state),
        pole=tuple(pole),
        pair=tuple(pair),
        soft_power_basis=tuple(basis),
        start_values=start_values,
        start_budget=budgets[region.year],
        budgets=series,
    )
    return calendar, data.imputed_frame()


@cache
def record_labels(year: int) -> dict[str, str]:
    """The record's label of each state in ``year`` (``data/alignment_by_year_1991_2010.csv``,
    rule ``score_v1``); none after ``RECORD_LAST_YEAR``."""
    if year > RECORD_LAST_YEAR:
        return {}
    path = packaged_data_path(RECORD_FILE)
    try:
        record = pd.read_csv(path, usecols=["state", "year", "primary_alignment"])
    except (OSError, ValueError) as exc:
        raise DataError("alignment record", str(path), "a readable record CSV", str(exc)) from None
    rows = record[record["year"] == year]
    return dict(zip(rows["state"], rows["primary_alignment"], strict=True))


def starting_profile(space: OptionSpace, key: str, value: str, state: str, year: int) -> int:
    """A starting entry (``initial``) as a profile index: a profile as given; a label
    (russia, west, hedge...) as the profile the state's memberships stand for at the end
    of ``year`` (``alignment.membership_profile``, through ``RECORD_LAST_YEAR``) when that
    profile carries the label, with the memberships the record holds for the state
    (``alignment.held_points``); else the label's default profile
    (``OptionSpace.default_profile``). ``state`` is the attributes-file name."""
    index = space.resolve(key, value)
    if value not in space.labels or year > RECORD_LAST_YEAR:
        return index
    name = SEPARATOR.join(membership_profile(state, year))
    if name in space.profiles:
        labelling = Labelling.of_record(space, [state], year)
        if labelling.label(0, space.profiles.index(name)) == value:
            return space.profiles.index(name)
    return index


def starting_alignment(region: RegionSpec, space: OptionSpace) -> IntArray:
    """Each chooser's profile at tick 0 of a calendar run (``starting_profile``), from the
    configuration at the end of ``region.start_configuration_year`` (the start year unless
    set): its ``initial`` entry for that year if given, else the record's label of that
    year: with the memberships the record holds, the profile the memberships stand for
    carries the record's label in every state-year of 1991-2010 (Russia, a pole, aside)."""
    year = region.start_configuration_year
    key_of_year = f"region.{'year' if region.configuration_year is None else 'configuration_year'}"
    labels = record_labels(year)
    initial = np.zeros(len(region.states), dtype=np.int64)
    missing = []
    for i, spec in enumerate(region.states):
        key = f"{item_path('region.states', i, spec.name)}.initial.{year}"
        value = spec.initial.get(str(year), labels.get(spec.attribute_state))
        if value is None:
            missing.append(spec.name)
            continue
        if str(year) not in spec.initial and value not in space.labels:
            raise ConfigError(
                key,
                value,
                f"a label of this region ({', '.join(space.labels)}) as the start of {year}",
                f"The record ({RECORD_FILE}) labels {spec.attribute_state} '{value}' in "
                f"{year}; give the state's start in the region file's 'initial'.",
            )
        initial[i] = starting_profile(space, key, value, spec.attribute_state, year)
    if missing:
        raise ConfigError(
            key_of_year,
            year,
            f"a year with a starting alignment for every state (none for "
            f"{', '.join(missing)} in {year})",
            f'Add initial: {{"{year}": <profile or label>}} to those states in the region '
            f"file (profiles: {', '.join(space.profiles)}), or their {year} rows to "
            f"data/{RECORD_FILE} (the record covers 1991-{RECORD_LAST_YEAR} and is never "
            "read after it).",
        )
    return initial
