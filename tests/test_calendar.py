"""A world that follows the calendar: yearly values, imputation, pole budgets, start years."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from helpers import DATA_DIR, tiny_attributes, tiny_region

from alignment_sim import AlignmentModel, ConfigError, DataError, build_world, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.engine.tick import BatchState, tick_batch
from alignment_sim.model import kernels
from alignment_sim.model.calendar import chain_link, fill_years
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import DesignSpec, EngineParams, RegionSpec
from alignment_sim.model.trajectory import RECORDED_ARRAYS
from alignment_sim.model.world import World
from alignment_sim.paths import with_values
from alignment_sim.presets import load_region
from alignment_sim.studies.points import check_paths, with_point_values

DATA = DATA_DIR


def drivers_value(state: str, field: str, year: int) -> float:
    """A value of the packaged drivers file, read without the package's code."""
    table = pd.read_csv(DATA / "drivers_by_year.csv")
    row = table[(table.state == state) & (table.field == field) & (table.year == year)]
    assert len(row) == 1
    return float(row.value.iloc[0])


def calendar_region(year: int) -> RegionSpec:
    region = load_region("post_soviet")
    region.calendar = True
    region.year = year
    return region


@pytest.fixture(scope="module")
def world_1992() -> World:
    return build_world(calendar_region(1992))


def tiny_calendar_world(gdp_of_a: dict[int, float]) -> World:
    """The tiny world from 1992, with state A's GDP given by year in a drivers table."""
    region = tiny_region()
    region.calendar = True
    region.year = 1992
    for state in region.states:
        state.initial["1992"] = state.initial["2015"]
    drivers = pd.DataFrame(
        [
            {"state": "A", "year": y, "field": "gdp_current_usd", "value": str(v)}
            for y, v in gdp_of_a.items()
        ]
    ).assign(unit="US$", source="test")
    return build_world(region, tiny_attributes(), drivers)


def test_a_gap_is_interpolated_linearly_and_flagged() -> None:
    world = tiny_calendar_world({1992: 10e9, 1996: 20e9})
    a = world.states.index("a")
    # tick t >= 1 runs through the months after year_of_tick(t - 1): tick 9 is Q1 1994
    assert world.params_for_tick(9)[0].gdp_bn[a] == pytest.approx(15.0)
    assert world.params_for_tick(8)[0].gdp_bn[a] == pytest.approx(12.5)  # Q4 1993
    rows = world.imputed[(world.imputed.state == "A") & (world.imputed.field == "gdp_current_usd")]
    by_year = rows.set_index("year")
    assert by_year.loc[1994, "value"] == pytest.approx(15e9)
    assert by_year.loc[1994, "rule"] == "interpolated"
    assert 1992 not in by_year.index and 1996 not in by_year.index  # observed


def test_a_series_holds_its_last_value_after_it_ends() -> None:
    world = tiny_calendar_world({1992: 10e9, 1996: 20e9})
    rows = world.imputed[(world.imputed.state == "A") & (world.imputed.field == "gdp_current_usd")]
    after = rows[rows.year > 1996]
    assert list(after.year) == list(range(1997, 2025))
    assert set(after.rule) == {"held_last"} and np.allclose(after.value, 20e9)
    last_tick = 132
    assert world.params_for_tick(last_tick)[0].gdp_bn[0] == pytest.approx(20.0)


def test_fill_and_chain_link_on_hand_values() -> None:
    series = fill_years({1995: (1.0, None), 1999: (3.0, None)})
    assert series.at(1992) == (1.0, "held_first")
    assert series.at(1997) == (2.0, "interpolated")
    assert series.at(2024) == (3.0, "held_last")
    flags = fill_years({1995: (0.0, None), 1999: (1.0, None)}, step=True)
    assert flags.at(1998) == (0.0, "held_last")  # a 0/1 flag keeps its last observation
    ratio = chain_link({2022: 100.0, 2023: 110.0}, {2023: 200.0, 2024: 220.0}, "ratio")
    assert ratio[2024] == (pytest.approx(121.0), "chain_linked")
    shares = chain_link({2014: 40.0}, {2014: 30.0, 2015: 35.0, 2016: 99.0}, "difference")
    assert shares[2015] == (45.0, "chain_linked") and shares[2016][0] == 100.0


def test_a_1992_start_takes_the_record_and_runs(world_1992: World) -> None:
    record = pd.read_csv(DATA / "alignment_by_year_1991_2010.csv")
    labels = record[record.year == 1992].set_index("state").primary_alignment
    space = world_1992.space
    started = [world_1992.labelling.label(i, k) for i, k in enumerate(world_1992.initial_alignment)]
    assert started == [labels[name] for name in world_1992.state_labels]  # the record's labels
    georgia = world_1992.initial_alignment[world_1992.states.index("georgia")]
    assert started[world_1992.states.index("georgia")] == "west"  # outside the CIS in 1992
    assert space.profiles[georgia] == "none/open"  # in no bloc: the CIS is held
    region = calendar_region(1992)
    trajectory = AlignmentModel(default_config(region=region, ticks=10), seed=1).run()
    assert trajectory.alignment.shape == (1, 11, 11)
    assert np.array_equal(trajectory.alignment[0, 0], world_1992.initial_alignment)


def test_a_year_without_a_starting_alignment_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"region\.year = 2012.*initial.*2012"):
        build_world(calendar_region(2012))
    static = load_region("post_soviet")
    static.year = 1995
    with pytest.raises(ConfigError, match=r"region\.year = 1995.*attribute years.*calendar"):
        static.validate()


def test_a_forecast_from_an_origin_starts_the_next_year_from_the_origins_year_end() -> None:
    """origin=Y is the last year known: the world of Y + 1 from the configuration the
    record gives at the end of Y, as the likelihood conditions each year on the one before
    (``estimation.likelihood``); a history run from region.year=Y starts from Y's own."""
    config = default_config(scenario="history", origin=2005, to=2007)
    assert (config.region.year, config.region.configuration_year, config.ticks) == (2006, 2005, 8)
    world = build_world(config.region)
    assert world.year == 2006
    of_2005 = build_world(calendar_region(2005)).initial_alignment
    of_2006 = build_world(calendar_region(2006)).initial_alignment
    assert np.array_equal(world.initial_alignment, of_2005)
    moved = {world.states[i] for i in np.flatnonzero(of_2005 != of_2006)}
    assert {"georgia", "uzbekistan"} <= moved  # the record's moves of 2006
    after = calendar_region(2011)
    after.configuration_year = 2010  # the record's last configuration, no 'initial' needed
    assert np.array_equal(
        build_world(after).initial_alignment, build_world(calendar_region(2010)).initial_alignment
    )
    with pytest.raises(ConfigError, match=r"region\.year = 2012.*initial.*2012"):
        build_world(calendar_region(2012))  # without it, 2012 has no record to start from


@pytest.mark.parametrize(
    ("year", "configuration_year", "calendar", "needle"),
    [
        (2006, 2007, True, r"configuration_year = 2007: expected a year from 1991 to the start"),
        (2006, 1990, True, r"configuration_year = 1990: expected a year from 1991"),
        (2010, 2000, False, r"configuration_year = 2000: expected null in a static world"),
    ],
)
def test_a_configuration_year_outside_the_record_before_the_start_is_refused(
    year: int, configuration_year: int, calendar: bool, needle: str
) -> None:
    region = calendar_region(year)
    region.calendar, region.configuration_year = calendar, configuration_year
    with pytest.raises(ConfigError, match=needle):
        region.validate()


def test_an_origin_is_a_record_year_before_the_last_start() -> None:
    assert default_config(scenario="history", origin=1991, to=1992).region.year == 1992
    for origin in (1990, 2024):
        with pytest.raises(ConfigError, match=rf"origin = {origin}: expected a year from 1991"):
            default_config(scenario="history", origin=origin)
    # after the record, only a year the region gives every state a start for (2015's)
    with pytest.raises(
        ConfigError,
        match=r"origin = 2012: expected a year of the alignment record \(1991-2010\), or 2015",
    ):
        default_config(scenario="history", origin=2012, to=2014)
    assert default_config(scenario="history", origin=2015, to=2016).region.year == 2016
    # inside the record, a state it does not hold and the region gives no start for
    region = calendar_region(2002)
    region.states[0].attribute_state = "Atlantis"
    with pytest.raises(ConfigError, match=r"origin = 2001: .*; Atlantis have none in 2001"):
        default_config(region=region, scenario="history", origin=2001, to=2003)


def test_ticks_past_2024_are_refused() -> None:
    region = calendar_region(1992)
    assert default_config(region=region, ticks=132).ticks == 132  # 1992 to the end of 2024
    with pytest.raises(ConfigError, match=r"ticks = 133: expected at most 132 ticks"):
        default_config(region=calendar_region(1992), ticks=133)
    with pytest.raises(ConfigError, match=r"ticks = 41: expected at most 40 ticks.*2015"):
        default_config(region=calendar_region(2015), ticks=41)


def test_a_permanent_neutrality_is_in_force_from_its_first_full_year(
    world_1992: World,
) -> None:
    """Moldova's constitution (July 1994) binds from 1995, Turkmenistan's UN-recognised
    neutrality (December 1995) from 1996 (conf/region/post_soviet.yaml, neutral_from)."""
    moldova, turkmenistan = (world_1992.states.index(s) for s in ("moldova", "turkmenistan"))
    for year, expected in ((1994, (0, 0)), (1995, (1, 0)), (1996, (1, 1)), (2015, (1, 1))):
        state, _, _ = world_1992.calendar.fields_of_year(year)  # type: ignore[union-attr]
        assert (state["neutral"][moldova], state["neutral"][turkmenistan]) == expected, year
    assert world_1992.state.neutral.sum() == 0  # nobody in 1992


def test_the_unions_open_when_they_were_founded_or_offered(world_1992: World) -> None:
    """The Union State and EurAsEC (treaties of December 1999 and October 2000) date
    Russia's union from 2000; the Eastern Partnership (May 2009) first offered an
    association with the EU, so the West's union opens in 2010; China founded none, so its
    partnership is open in every year (conf/region/post_soviet.yaml, union_from)."""
    opens = {"russia": 2000, "west": 2010, "china": None}
    for year in (1992, 1999, 2000, 2009, 2010, 2015):
        _, _, pair = world_1992.calendar.fields_of_year(year)  # type: ignore[union-attr]
        for pole, first in opens.items():
            expected = 1.0 if first is None or year >= first else 0.0
            assert set(pair["union_open"][world_1992.poles.index(pole)]) == {expected}, (
                pole,
                year,
            )
    assert world_1992.pair.union_open[world_1992.poles.index("russia")].max() == 0.0  # 1992


def test_russias_union_secures_remittances_from_2015(world_1992: World) -> None:
    """Free movement of labour comes with the EAEU (in force 1 January 2015; 001: the
    "next step" after the Common Economic Space of 2012), not with EurAsEC: Russia's
    labour market is open to its union from 2015 (conf/region/post_soviet.yaml,
    labour_market_from); an EU association and China's partnership open none."""
    russia = world_1992.poles.index("russia")
    for year, expected in ((1992, 0.0), (2010, 0.0), (2014, 0.0), (2015, 1.0), (2024, 1.0)):
        _, _, pair = world_1992.calendar.fields_of_year(year)  # type: ignore[union-attr]
        assert set(pair["labour_open"][russia]) == {expected}, year
        assert np.delete(pair["labour_open"], russia, axis=0).max() == 0.0, year


def test_nobody_joins_russias_union_before_it_exists(world_1992: World) -> None:
    """A history run from 1992: no chooser holds Russia's union before 2000; Belarus joins
    it in most runs within the year (36 of 40), Kazakhstan in 2 (the union would divert
    its trade with the EU and China: MODEL.md, Limits)."""
    config = default_config(region=calendar_region(1992), scenario="history", ticks=36)
    inputs = RunInputs.from_config(config)
    result = run_batch(inputs, range(40), record="minimal", progress=False)
    space = inputs.world.space
    union = space.profile_economy[result.alignment] == space.economic_options.index("russia")
    assert not union[:, :33].any()  # ticks 0-32: from 1 January 1992 to 1 January 2000
    belarus = union[:, 36, inputs.world.states.index("belarus")]
    assert belarus.mean() > 0.5, belarus.mean()


def test_russias_budget_follows_its_gdp(world_1992: World) -> None:
    russia = world_1992.poles.index("russia")
    reference = drivers_value("Russia", "gdp_current_usd", 2015)
    for year in (2000, 2009):
        tick = 4 * (year - 1992) + 1  # the first quarter of the year
        expected = 8.0 * drivers_value("Russia", "gdp_current_usd", year) / reference
        assert world_1992.params_for_tick(tick)[1].budget_bn[russia] == pytest.approx(expected)
    assert world_1992.params_for_tick(4 * (2015 - 1992) + 1)[1].budget_bn[russia] == 8.0


def test_chinas_budget_follows_its_lending(world_1992: World) -> None:
    china = world_1992.poles.index("china")
    budget_2000 = world_1992.params_for_tick(4 * 8 + 1)[1].budget_bn[china]
    budget_2009 = world_1992.params_for_tick(4 * 17 + 1)[1].budget_bn[china]
    assert budget_2000 < 0.1 < 10.0 < budget_2009  # the 2009 loans (001) arrive in 2008-10
    budget_rows = world_1992.imputed[world_1992.imputed.field == "budget_bn_usd"]
    assert set(budget_rows[budget_rows.year <= 2001].rule) == {"backcast"}
    assert list(budget_rows[budget_rows.rule == "held_last"].year) == [2022, 2023, 2024]


def test_chinas_focus_follows_where_it_lent(world_1992: World) -> None:
    """China's envelope goes where its recorded commitments went over the budget's window:
    focus = N x a chooser's share (2008-2010 for 2010, by hand from the drivers file);
    before the data (2000) and for the other poles the focus is 1; after them (2021) the
    last year's holds."""
    china = world_1992.poles.index("china")
    states = [spec.attribute_state for spec in calendar_region(1992).states]
    field = "chinese_devfin_commitments_usd2021"

    def lent(state: str) -> float:
        return sum(drivers_value(state, field, y) for y in (2008, 2009, 2010))

    total = sum(lent(s) for s in states)
    focus_2010 = world_1992.params_for_tick(4 * 18 + 1)[2].focus
    for i, state in enumerate(states):
        assert focus_2010[china, i] == pytest.approx(len(states) * lent(state) / total, rel=1e-6)
    kazakhstan, kyrgyzstan = states.index("Kazakhstan"), states.index("Kyrgyzstan")
    assert focus_2010[china, kazakhstan] > 5.0 > 0.2 > focus_2010[china, kyrgyzstan]
    others = [b for b in range(len(world_1992.poles)) if b != china]
    assert (focus_2010[others] == 1.0).all()
    assert (world_1992.params_for_tick(4 * 7 + 1)[2].focus == 1.0).all()  # 1999: no data
    assert (world_1992.pair.focus == 1.0).all()  # the start, 1992
    last_data = world_1992.params_for_tick(4 * 29 + 1)[2].focus  # 2021, the data's last year
    for year in (2022, 2024):  # held after it, as the budget is
        held = world_1992.params_for_tick(4 * (year - 1992) + 1)[2].focus
        np.testing.assert_array_equal(held, last_data)


def test_every_imputed_value_is_listed_with_a_known_rule(world_1992: World) -> None:
    imputed = world_1992.imputed
    assert list(imputed.columns) == ["year", "state", "field", "value", "rule"]
    assert set(imputed.rule) <= {
        "interpolated",
        "held_first",
        "held_last",
        "backcast",
        "chain_linked",
    }
    assert imputed.value.notna().all() and imputed.year.between(1992, 2024).all()
    polity = imputed[(imputed.state == "Belarus") & (imputed.field == "polity2")]
    assert list(polity.year) == list(range(2018, 2025))  # Polity IV ends in 2017
    assert (polity.value == drivers_value("Belarus", "polity2", 2017)).all()


def test_a_missing_series_names_the_file_state_and_field() -> None:
    region = tiny_region()
    region.calendar = True
    drivers = pd.DataFrame(columns=["state", "year", "field", "value", "unit", "source"])
    attributes = tiny_attributes()
    attributes = attributes[~((attributes.state == "B") & (attributes.field == "cinc"))]
    with pytest.raises(DataError, match=r"drivers_by_year\.csv\[B, cinc\]"):
        build_world(region, attributes, drivers)


def test_a_static_world_is_unchanged_by_the_calendar(default_world: World) -> None:
    assert default_world.calendar is None and default_world.imputed.empty
    base = default_world.params_for_tick(17)
    assert base[0] is default_world.state and base[1] is default_world.pole


def test_soft_power_fades_from_1991_in_static_and_calendar_worlds_alike() -> None:
    """A 2015 world starts as faded as a run from 1992 is when it reaches 2015 (24 years
    since 1991), and the engine's soft-power term at its first tick is the kernel's at
    24.25 years."""
    static = RunInputs.from_config(default_config())
    from_1992 = RunInputs.from_config(default_config(region=calendar_region(1992), ticks=100))
    ticks_to_2015 = 23 * 12 // from_1992.world.tick_months
    assert static.years_since_independence(0) == 24.0
    assert from_1992.years_since_independence(0) == 1.0
    assert from_1992.years_since_independence(ticks_to_2015) == 24.0
    world = static.world
    state = BatchState.initial(static, 1)
    noise = np.zeros(
        (1, world.n_states, world.space.n_security + world.space.n_economy), np.float32
    )
    _, output = tick_batch(static, state, 1, noise, np.zeros((1, 0)))
    russia = world.poles.index("russia")
    expected = static.weights.soft_power * kernels.soft_power_term(
        world.pole, world.pair, 24.25, slice(None), world.security_poles
    )
    assert np.allclose(output.terms.security["soft_power"], expected, rtol=1e-6)
    fade = np.exp(-world.pole.soft_power_fade[russia] * 24.25)
    assert 0.5 < fade < 0.7  # 2% a year over 24 years: about 0.62 of the 1991 pull


@pytest.mark.parametrize(
    ("year", "scenario", "ticks"),
    [(1995, "afghan_spillover", 30), (2008, "history", 12)],  # 2008-2010: two protection tests
)
def test_the_engine_equals_mesa_for_a_calendar_run(year: int, scenario: str, ticks: int) -> None:
    config = default_config(region=calendar_region(year), scenario=scenario, ticks=ticks)
    seeds = [0, 5, 9]
    result = run_batch(
        RunInputs.from_config(config), seeds, EngineParams(chunk_size=2), record="full"
    )
    assert result.trajectory is not None
    for r, seed in enumerate(seeds):
        mesa = AlignmentModel(config, seed=seed).run()
        for name in RECORDED_ARRAYS:
            expected, got = getattr(mesa, name)[0], getattr(result.trajectory, name)[r]
            assert np.array_equal(expected, got, equal_nan=True), f"seed {seed}: {name}"
    offers = result.trajectory.offers.sum(axis=-1)[0, :, 0]
    assert offers[0] != offers[-1]  # Russia's spending moves with its budget


def test_a_design_over_a_budget_that_follows_the_calendar_is_refused() -> None:
    """China's budget (rule chinese_lending) comes from data alone in every year of a
    calendar run: a design or a point varying it is refused, naming the key, the value
    and what is expected. The West's (constant) and Russia's (gdp: the configured budget
    times its GDP's path) are the configured budget's in every year: accepted."""
    config = with_values(default_config(scenario="history"), {"region.year": 2000, "ticks": 8})
    path = "region.poles.china.budget_bn_usd"
    config.design = DesignSpec(method="lhs", parameters={path: [2.0, 9.0]})
    expected = r"expected a parameter the runs use \(in a calendar world, a budget under the rule "
    with pytest.raises(ConfigError, match=rf"^design\.parameters\.{re.escape(path)} = ") as caught:
        check_paths(config, list(config.design.parameters))
    assert re.search(expected, str(caught.value))
    assert "china's budget follows the rule 'chinese_lending'" in str(caught.value)
    inputs = RunInputs.from_config(config)
    with pytest.raises(ConfigError, match=rf"^{re.escape(path)} = 2\.0: {expected}"):
        with_point_values(inputs, {path: np.array([2.0, 9.0])})
    check_paths(default_config(), [path])  # a static world reads it
    for pole in ("west", "russia"):
        config.design = DesignSpec(
            method="lhs", parameters={f"region.poles.{pole}.budget_bn_usd": [2.0, 12.0]}
        )
        check_paths(config, list(config.design.parameters))


def test_the_2015_world_starts_from_the_records_2010_configuration() -> None:
    """The region file's 2015 starts repeat, state by state, the profiles the record's 2010
    labels stand for (docs/MODEL.md: the 2015 world starts where the record ends; what the
    states did after 2010 is the test period): the static 2015 world, the calendar world of
    2015 and the calendar world of 2010 start alike, so the copy cannot drift."""
    starts = [
        build_world(region).initial_alignment
        for region in (load_region(), calendar_region(2015), calendar_region(2010))
    ]
    assert starts[0].tolist() == starts[1].tolist() == starts[2].tolist()
