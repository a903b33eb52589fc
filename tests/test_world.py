"""Loading the default world for each data year, and bad data files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import DATA_DIR

from alignment_sim import ConfigError, DataError, build_world, load_region
from alignment_sim.model.world import FLOAT, proximity, soft_power_ties


@pytest.mark.parametrize("year", [2000, 2010, 2015])
def test_default_world_loads_for_each_year(year: int) -> None:
    region = load_region("post_soviet")
    region.year = year
    region.validate()
    world = build_world(region)
    assert world.n_states == 11 and world.poles == ("russia", "china", "west")
    assert np.all(world.state.gdp_bn > 0)
    assert np.all((world.pair.trade_share >= 0) & (world.pair.trade_share <= 1))
    assert np.all((world.state.autocracy >= 0) & (world.state.autocracy <= 1))
    assert np.array_equal(world.affinity, world.affinity.T)


def test_values_come_from_the_data_year() -> None:
    region = load_region("post_soviet")
    world = build_world(region)
    belarus = world.states.index("belarus")
    # state_attributes.csv: Belarus trade with Russia 44.11% (COW 2014, used for 2015)
    assert world.pair.trade_share[0, belarus] == pytest.approx(0.4411)
    assert world.state.gdp_bn[belarus] == pytest.approx(56.454889147)
    region.year = 2000
    old = build_world(region)
    assert old.pair.trade_share[0, belarus] == pytest.approx(0.5864)
    uzbekistan = old.initial_alignment[world.states.index("uzbekistan")]
    assert old.options[uzbekistan] == "none/open"  # hedge in 2000: outside both blocs
    assert old.space.profile_labels[uzbekistan] == "hedge"


def test_missing_data_file_is_a_clear_error(tmp_path: Path) -> None:
    region = load_region("post_soviet")
    region.attributes_file = str(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"region\.attributes_file"):
        build_world(region)


def test_malformed_data_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("state,year,value\nBelarus,2015,1\n")
    region = load_region("post_soviet")
    region.attributes_file = str(bad)
    with pytest.raises(DataError, match="columns"):
        build_world(region)


def test_missing_value_names_state_and_field(tmp_path: Path) -> None:
    source = DATA_DIR / "state_attributes.csv"
    lines = [
        ln
        for ln in source.read_text().splitlines()
        if not ln.startswith("Armenia,2015,gdp_current_usd")
    ]
    trimmed = tmp_path / "trimmed.csv"
    trimmed.write_text("\n".join(lines) + "\n")
    region = load_region("post_soviet")
    region.attributes_file = str(trimmed)
    world = build_world(region)  # the nearest year (2010) stands in
    assert world.state.gdp_bn[world.states.index("armenia")] == pytest.approx(9.260285756)
    no_armenia = tmp_path / "no_armenia.csv"
    no_armenia.write_text("\n".join(ln for ln in lines if not ln.startswith("Armenia,")) + "\n")
    region.attributes_file = str(no_armenia)
    with pytest.raises(DataError, match="Armenia"):
        build_world(region)


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="post_sovet"):
        load_region("post_sovet")


def test_a_calendar_world_starts_from_the_same_gdp_as_the_static_one() -> None:
    static = build_world(load_region("post_soviet"))
    region = load_region("post_soviet")
    region.calendar = True
    calendar = build_world(region)
    # both read the World Bank's Oct-2024 vintage: the 2015 values agree exactly
    assert np.array_equal(calendar.state.gdp_bn, static.state.gdp_bn)
    assert np.array_equal(calendar.initial_alignment, static.initial_alignment)
    assert calendar.pole.budget_bn[0] == static.pole.budget_bn[0] == 8.0  # Russia's rule: x 1
    assert static.imputed.empty and not calendar.imputed.empty


def test_proximity_and_every_years_ties_are_the_formulas_of_what_the_world_keeps() -> None:
    """The tables a design varies per run (studies.points) come from the world's distances
    and each year's basis of the ties by the builder's own formulas."""
    region = load_region("post_soviet")
    region.calendar, region.year = True, 2000
    world = build_world(region)
    assert world.calendar is not None
    reach = np.array([[pole.reach_km] for pole in region.poles])
    floor = np.array([[pole.soft_power_floor] for pole in region.poles])
    moscow_minsk = world.distance_km[world.poles.index("russia"), world.states.index("belarus")]
    assert moscow_minsk == pytest.approx(672, abs=1)
    assert np.array_equal(world.pair.proximity, proximity(world.distance_km, reach).astype(FLOAT))
    assert np.array_equal(world.soft_power_basis, world.calendar.soft_power_basis[0])
    for year, basis in zip(world.calendar.pair, world.calendar.soft_power_basis, strict=True):
        assert np.array_equal(year["ties"], soft_power_ties(floor, basis).astype(FLOAT))
    # the basis moves with the data (polity2, ethnic Russian shares): ties differ by year
    assert not np.array_equal(
        world.calendar.soft_power_basis[0], world.calendar.soft_power_basis[-1]
    )


def test_a_static_world_keeps_the_attribute_years() -> None:
    region = load_region("post_soviet")
    region.year = 2005
    with pytest.raises(ConfigError, match=r"region\.year = 2005: expected one of the attribute"):
        region.validate()
    region.calendar = True
    assert build_world(region).year == 2005  # the calendar takes the start from the record
    region.year = 2011  # the record ends in 2010 and the region gives no 2011 start
    with pytest.raises(ConfigError, match=r"region\.year = 2011.*initial.*1991-2010"):
        build_world(region)


def test_a_pipeline_counts_from_the_year_it_opened() -> None:
    """data/transit_routes.csv: Georgia's Western transit (0.6 in the 2015 world) is
    Baku-Supsa (0.2, 1999) and Baku-Tbilisi-Ceyhan (0.4, 2006); Turkmenistan's Chinese
    transit (0.7) is the Central Asia-China gas pipeline (2010)."""
    region = load_region("post_soviet")
    region.calendar, region.year = True, 1995
    world = build_world(region)
    west, china = world.poles.index("west"), world.poles.index("china")
    georgia, turkmen = world.states.index("georgia"), world.states.index("turkmenistan")
    ticks_per_year = 12 // world.tick_months

    def transit(year: int) -> tuple[float, float]:
        pair = world.params_for_tick((year - 1995) * ticks_per_year + 1)[2]
        return float(pair.transit[west, georgia]), float(pair.transit[china, turkmen])

    assert transit(1995) == (0.0, 0.0)
    assert transit(1999) == pytest.approx((0.2, 0.0))
    assert transit(2005) == pytest.approx((0.2, 0.0))
    assert transit(2006) == pytest.approx((0.6, 0.0))
    assert transit(2010) == pytest.approx((0.6, 0.7))
    region.calendar, region.year = False, 2000  # a static world takes its year's routes
    assert build_world(region).pair.transit[west, georgia] == pytest.approx(0.2)
    region.year = 2015
    assert build_world(region).pair.transit[china, turkmen] == pytest.approx(0.7)


def test_transit_below_its_dated_routes_is_a_clear_error(tmp_path: Path) -> None:
    region = load_region("post_soviet")
    georgia = region.state_names.index("georgia")
    region.states[georgia].transit = {"west": 0.3}
    with pytest.raises(ConfigError, match=r"transit\.west.*at least 0\.6.*Baku-Supsa"):
        build_world(region)
    region.states[georgia].transit = {"west": 0.6}
    bad = tmp_path / "routes.csv"
    bad.write_text("state,pole,route,opened,share,source\nGeorgia,west,X,1999,1.5,made up\n")
    region.transit_routes_file = str(bad)
    with pytest.raises(DataError, match=r"routes\.csv row 2: share.*1\.5.*\[0, 1\]"):
        build_world(region)
    region.transit_routes_file = str(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="transit_routes_file"):
        build_world(region)
