"""Bad values refused up front, one test per root cause (reliability review's cases)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import DATA_DIR

from alignment_sim import (
    AffinitySpec,
    AlignmentModel,
    ConfigError,
    DataError,
    EventSpec,
    PoleSpec,
    ScenarioSpec,
    default_config,
    load_region,
)
from alignment_sim.model.events import compile_scenario, event_library, magnitude_range
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import (
    DOMAINS,
    LARGE,
    MAX_RATIONALITY,
    DecisionParams,
    Dynamics,
    StateSpec,
    UtilityWeights,
)
from alignment_sim.model.world import PARAM_DOMAINS, build_world
from alignment_sim.paths import domain, with_values
from alignment_sim.presets import load_region as load_region_file
from alignment_sim.studies.points import (
    check_paths,
    config_for_point,
    supported_paths,
    with_point_values,
)

DATA = DATA_DIR / "state_attributes.csv"


# --- 1. finiteness: inf and overflowing values refused everywhere (cli13, cli14, cli18,
# cli30, cli32, reg_budget_inf) --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("weights.trade", math.inf),  # cli18
        ("dynamics.switching_cost", math.inf),  # cli30
        ("region.poles.0.budget_bn_usd", math.inf),  # cli32, reg_budget_inf
        ("decision.rationality", math.inf),  # cli13
        ("decision.rationality", 1e39),  # cli14: overflows float32
        ("decision.rationality", MAX_RATIONALITY * 2),
        ("weights.peer", -math.inf),
        ("region.poles.russia.reach_km", math.inf),
        ("region.poles.west.capital_lat", 91.0),
        ("region.states.belarus.autonomy", math.nan),
        ("region.states.moldova.neutral_from", 1990),  # before independence
        ("region.states.moldova.neutral_from", math.inf),
    ],
)
def test_infinite_or_overflowing_numbers_are_refused(path: str, value: float) -> None:
    with pytest.raises(ConfigError, match="expected") as info:
        with_values(default_config(), {path: value})
    assert info.value.value == value or math.isnan(value)


def test_bounds_keep_rationality_times_utility_in_single_precision() -> None:
    """The largest rationality times a utility built from the largest scales stays finite."""
    worst_utility = 13 * LARGE * LARGE  # 13 terms, each a weight times a term of <= LARGE
    assert np.isfinite(np.float32(MAX_RATIONALITY) * np.float32(worst_utility))


def test_valid_extremes_still_run() -> None:
    config = with_values(default_config(ticks=3), {"decision.rationality": 1e-300})  # cli65
    AlignmentModel(config).run()


# --- 2. seeds (cli09, cli10) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "replications", "needle"),
    [
        (2**64, 1, r"\[0, 2\*\*63 - 1\]"),  # cli09
        (2**63 - 1, 2, "seed \\+ replications - 1"),  # cli10
        (1.5, 1, "whole number"),
        (True, 1, "whole number"),
    ],
)
def test_seeds_beyond_int64_are_refused(seed: object, replications: int, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as info:
        default_config(seed=seed, replications=replications)
    assert info.value.key == "seed"
    assert default_config(seed=2**63 - 2, replications=2).seed == 2**63 - 2  # the last valid


# --- 3. event magnitudes (evt_magnitude_neg/big/nan) ----------------------------------


@pytest.mark.parametrize("magnitude", [10.0, -10.0, math.nan, math.inf, 1.7])
def test_magnitude_outside_the_kinds_range_is_refused(magnitude: float) -> None:
    world = build_world(default_config().region)
    event = EventSpec(kind="russia_recession", at=1, magnitude=magnitude)
    with pytest.raises(ConfigError, match=r"\[0, 1\.667\] for kind 'russia_recession'") as info:
        compile_scenario(ScenarioSpec(events=[event]), world, ticks=40)
    assert info.value.key == "scenario.events[0].magnitude"


def test_every_kind_at_both_ends_of_its_range_keeps_parameters_in_their_domains() -> None:
    """Apply each kind at its extreme magnitudes to a world whose edited parameters sit
    at both ends of their domains: every result stays inside."""
    for name, kind in event_library().items():
        (low, _), (high, _) = magnitude_range(kind)
        assert low <= 1.0 <= high, name  # the calibrated shock itself is allowed
        for magnitude in (low, high):
            for spec in kind["changes"]:
                domain = PARAM_DOMAINS[spec["table"]][spec["param"]]
                value = float(spec["value"])
                for base in (domain.low, min(domain.high, 1.0)):
                    if spec["op"] == "scale":
                        new = base * (1.0 + magnitude * (value - 1.0))
                    elif spec["op"] == "add":
                        new = base + magnitude * value
                    else:
                        new = value
                    assert domain.low - 1e-12 <= new <= domain.high, (name, spec, magnitude)


def test_targets_of_every_kind_are_checked_against_target_kinds() -> None:
    broken = {"odd": {"targets": "countries", "changes": []}}
    world = build_world(default_config().region)
    with pytest.raises(DataError, match="one of none, states, poles"):
        compile_scenario(ScenarioSpec(events=[EventSpec(kind="odd", at=1)]), world, 5, broken)


# --- 4. design ranges within each parameter's domain (des08, dx_*) --------------------


@pytest.mark.parametrize(
    ("path", "bounds", "needle"),
    [
        ("dynamics.stance", [-5.0, 5.0], r"within \[-1, 1\]"),  # des08, dx_stance_domain
        ("region.poles.russia.credibility", [0.5, 3.0], r"within \[0, 1\]"),  # dx_cred_domain
        ("decision.rationality", [-5.0, -1.0], r"within \[0, 1e6\]"),  # dx_rationality_neg
        ("weights.trade", [-3.0, -1.0], r"within \[0, 1e6\]"),  # dx_weight_neg
        ("region.poles.0.budget_bn_usd", [-10.0, 5.0], r"within \[0, 1e6\]"),  # dx_budget_neg
        ("dynamics.credibility_recovery", [0.0, 4.0], r"within \[0, 1\]"),  # dx_recovery_domain
    ],
)
def test_design_ranges_outside_the_domain_are_refused(
    path: str, bounds: list[float], needle: str
) -> None:
    config = default_config()
    config.design.method = "lhs"
    config.design.parameters = {path: bounds}
    with pytest.raises(ConfigError, match=needle) as info:
        check_paths(config, [path], "design.parameters")
    assert info.value.key == f"design.parameters.{path}"
    assert info.value.value == bounds


def test_every_supported_path_has_a_domain_and_both_ends_are_valid() -> None:
    config = default_config()
    for path in supported_paths(config):
        allowed = domain(path)
        assert allowed is not None, path
        config.design.parameters = {path: [allowed.low, allowed.high]}
        check_paths(config, [path], "design.parameters")
        for end in (allowed.low, allowed.high):
            with_values(config, {path: end})


def test_point_values_never_run_what_the_config_refuses() -> None:
    config = default_config(ticks=3)
    inputs = RunInputs.from_config(config)
    with pytest.raises(ConfigError, match=r"dynamics\.stance"):
        with_point_values(inputs, {"dynamics.stance": np.array([0.0, 4.96])})
    with pytest.raises(ConfigError, match=r"region\.poles\.0\.credibility"):
        with_point_values(inputs, {"region.poles.0.credibility": np.array([0.5, np.nan])})
    with pytest.raises(ConfigError, match="stance"):
        config_for_point(config, {"dynamics.stance": 4.96})


def test_points_accept_a_pole_by_name_or_index() -> None:
    inputs = RunInputs.from_config(default_config(ticks=3))
    by_name = with_point_values(inputs, {"region.poles.china.budget_bn_usd": np.array([1.0, 2.0])})
    by_index = with_point_values(inputs, {"region.poles.1.budget_bn_usd": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(by_name.world.pole.budget_bn, by_index.world.pole.budget_bn)
    assert by_name.world.pole.budget_bn[1, 1] == 2.0


# --- 5. attribute data (csv_*, reg_*_override) -----------------------------------------


def edited_csv(tmp_path: Path, edit: str, replace_with: str | None = None, add: str = "") -> str:
    text = DATA.read_text()
    if replace_with is not None:
        assert edit in text
        text = text.replace(edit, replace_with, 1)
    path = tmp_path / "attributes.csv"
    path.write_text(text + add)
    return str(path)


BELARUS_GDP_2015 = "Belarus,2015,gdp_current_usd,"


@pytest.mark.parametrize(
    ("edit", "replacement", "add", "needle"),
    [
        (
            "Belarus,2015,polity2,-7",
            "Belarus,2015,polity2,50",
            "",
            r"Belarus, 2015, polity2\] = 50",
        ),
        (BELARUS_GDP_2015, "Belarus,2015,gdp_current_usd,-", "", r"a GDP in current US\$"),
        (BELARUS_GDP_2015 + "56454889147", BELARUS_GDP_2015 + "inf", "", "finite"),  # csv_inf_gdp
        (BELARUS_GDP_2015, "Belarus,2O15,gdp_current_usd,", "", r"Belarus, 2O15, gdp_current_usd"),
        (BELARUS_GDP_2015, "Belarus,abc,gdp_current_usd,", "", "whole number"),  # csv_bad_year
        ("", None, "Belarus,2015,polity2,7,x,y\n", r"one row per \(state, year, field\)"),
    ],
)
def test_bad_attribute_rows_are_refused(
    tmp_path: Path, edit: str, replacement: str | None, add: str, needle: str
) -> None:
    region = load_region()
    region.attributes_file = edited_csv(tmp_path, edit, replacement, add)
    with pytest.raises(DataError, match=needle) as info:
        build_world(region)
    assert "attributes.csv[Belarus" in info.value.key


def test_trade_share_over_100_percent_is_refused(tmp_path: Path) -> None:  # csv_trade_share_450
    table = pd.read_csv(DATA, dtype={"value": str})
    row = (table["state"] == "Belarus") & (table["field"] == "trade_share_russia_pct")
    table.loc[row & (table["year"] == 2014), "value"] = "450"
    path = tmp_path / "trade.csv"
    table.to_csv(path, index=False)  # years written as 2014.0: whole numbers, accepted
    region = load_region()
    region.attributes_file = str(path)
    with pytest.raises(DataError, match=r"a percentage in \[0, 100\]"):
        build_world(region)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("polity2", 60.0, r"\[-10, 10\]"), ("gdp_current_usd", -1e12, "GDP")],
)
def test_bad_overrides_are_refused(field: str, value: float, needle: str) -> None:
    region = load_region()
    region.states[0].overrides[field] = value
    with pytest.raises(ConfigError, match=needle) as info:
        default_config(region=region)
    assert info.value.key == f"region.states.{region.states[0].name}.overrides.{field}"


# --- 6. region structure: affinity pairs, names ---------------------------------------


@pytest.mark.parametrize(("a", "b"), [("georgia", "ukraine"), ("ukraine", "georgia")])
def test_affinity_pair_listed_twice_is_refused(a: str, b: str) -> None:
    region = load_region()
    region.affinities = [  # reg_affinity_duplicate_pair, reg_affinity_asymmetric
        AffinitySpec(a="georgia", b="ukraine", value=0.5),
        AffinitySpec(a="moldova", b="ukraine", value=0.25),
        AffinitySpec(a=a, b=b, value=-0.5),
    ]
    with pytest.raises(ConfigError, match="each pair of states listed once") as info:
        default_config(region=region)
    assert info.value.key == "region.affinities[2]"
    assert "region.affinities[0] already gives georgia-ukraine = 0.5" in str(info.value)


@pytest.mark.parametrize("name", ["Russia", "rus sia", "1russia", ""])
def test_pole_names_must_be_lower_case_identifiers(name: str) -> None:
    with pytest.raises(ConfigError, match="lower-case identifier"):
        PoleSpec(name=name, capital_lat=0, capital_lon=0, capability=0.1).validate("p")


# --- 7. the library boundary: re-validated where built; the caller's objects untouched --


def test_a_config_changed_after_construction_is_checked_again() -> None:
    config = default_config(ticks=3)
    config.dynamics.stance = 5.0
    with pytest.raises(ConfigError, match=r"dynamics\.stance"):
        AlignmentModel(config)
    with pytest.raises(ConfigError, match=r"dynamics\.stance"):
        RunInputs.from_config(config)
    config.dynamics.stance = 0.0
    config.weights.trade = math.inf
    with pytest.raises(ConfigError, match=r"weights\.trade"):
        RunInputs.from_config(config)


def test_building_a_config_leaves_the_callers_region_alone() -> None:
    region = load_region()
    config = default_config(region=region, scenario="colour_revolution")
    assert config.region.year == 2000
    assert region.year == 2015


def test_a_bad_model_seed_argument_is_refused() -> None:
    with pytest.raises(ConfigError, match="seed"):
        AlignmentModel(default_config(ticks=2), seed=-1)


# --- 8. malformed YAML (reg_not_yaml) ---------------------------------------------------


def test_malformed_region_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "r_not_yaml.yaml"
    path.write_text("name: x\npoles:\n  - {name: russia\n  - name: china\n")
    with pytest.raises(ConfigError, match=r"Line 4, column \d+") as info:
        load_region_file(path)
    assert info.value.key == "region file"
    assert info.value.value == str(path)


@pytest.mark.parametrize(
    ("schema", "section"),
    [
        (PoleSpec, "region.poles"),
        (StateSpec, "region.states"),
        (UtilityWeights, "weights"),
        (Dynamics, "dynamics"),
        (DecisionParams, "decision"),
    ],
)
def test_every_numeric_field_has_a_domain(schema: type, section: str) -> None:
    """A new number in the schema cannot slip past validation: it needs a domain."""
    numeric = [
        f.name
        for f in dataclasses.fields(schema)
        if f.default is not dataclasses.MISSING and str(f.type).startswith(("float", "int"))
    ]
    assert numeric
    assert set(numeric) == set(DOMAINS[section])


def test_a_misspelt_field_set_on_a_config_is_refused_naming_the_closest() -> None:
    """``config.dynamics.stanse = 1`` was kept and never read (the run used stance 0)."""
    config = default_config()
    with pytest.raises(ConfigError, match=r"^Dynamics\.stanse = 1: .*Did you mean stance\?"):
        config.dynamics.stanse = 1  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"^UtilityWeights\.tarde = 3\.0: .*trade"):
        config.weights.tarde = 3.0  # type: ignore[attr-defined]
    config.dynamics.stance = 0.5  # a field is set as before
    assert config.dynamics.stance == 0.5


def _wrong_type_calls() -> list[tuple[str, object]]:
    from alignment_sim.engine.batch import run_batch

    inputs = RunInputs.from_config(default_config(ticks=2))
    return [
        ("region = None: expected an instance of RegionSpec", lambda: default_config(region=None)),
        ("scenario = 3: expected an instance of ScenarioSpec", lambda: default_config(scenario=3)),
        (
            r"engine = \[1\]: expected an instance of EngineParams",
            lambda: default_config(engine=[1]),
        ),
        ("weights.tarde = 3: .*Did you mean trade", lambda: default_config(weights={"tarde": 3})),
        ("inputs = 'SimulationConfig'", lambda: run_batch(default_config(), range(2))),
        ("seeds = 5: expected", lambda: run_batch(inputs, 5)),
        ("engine = {'workers': 2}", lambda: run_batch(inputs, range(2), {"workers": 2})),
        ("config = {'ticks': 2}", lambda: AlignmentModel({"ticks": 2})),
        ("stanse = 0.5: .*Did you mean stance", lambda: AlignmentModel(stanse=0.5)),
        ("world = 'x': expected a World", lambda: AlignmentModel(world="x")),
        (
            r"scenario\.events\[0\] = \{'kind'",
            lambda: AlignmentModel(
                default_config(scenario=ScenarioSpec(events=[{"kind": "war", "at": 1}]))
            ),
        ),
    ]


@pytest.mark.parametrize("case", range(11))
def test_a_wrong_type_is_refused_by_its_key_not_an_attribute_error(case: int) -> None:
    """Notebook mistakes (a dict for a section, a config for compiled inputs, an int for
    seeds) ended in AttributeErrors from deep inside; each is a ConfigError by its key."""
    needle, call = _wrong_type_calls()[case]
    with pytest.raises(ConfigError, match=needle):
        call()  # type: ignore[operator]


def test_sections_by_mapping_path_and_numpy_number_are_taken() -> None:
    """What a notebook hands over: a mapping of a section's fields, a Path to a preset
    file, numpy numbers (kept as Python's)."""
    from alignment_sim.presets import conf_dir

    config = default_config(
        weights={"trade": 3},
        engine={"workers": 2},
        scenario=conf_dir() / "scenario" / "russia_recession.yaml",
        seed=np.int64(3),
    )
    assert (config.weights.trade, config.engine.workers) == (3, 2)
    assert config.scenario.name == "russia_recession"
    assert config.seed == 3 and type(config.seed) is int
    model = AlignmentModel(scenario=conf_dir() / "scenario" / "russia_recession.yaml", ticks=4)
    assert model.config.scenario.name == "russia_recession"


def test_a_world_of_another_region_is_refused() -> None:
    """A world given beside a configuration ran as it was built: an edit of the region
    after it (Russia's budget, the year) ran with the old values while ``model.config``
    said the new ones."""
    world = build_world(default_config().region)
    AlignmentModel(default_config(ticks=2), world=world)  # its own region: taken
    config = default_config(ticks=2)
    config.region.poles[0].budget_bn_usd = 1.0
    with pytest.raises(ConfigError, match="world = 'a world of region post_soviet"):
        AlignmentModel(config, world=world)


def test_a_misspelt_key_in_a_scenario_file_is_named_where_it_is(tmp_path: Path) -> None:
    """OmegaConf names a key merged into a list item without the item's place: the message
    read "magnitud = None ... Key 'magnitud' not in 'EventSpec'". It names the event, the
    value written and the closest field."""
    from alignment_sim.presets import load_scenario

    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nevents:\n  - {kind: russia_recession, at: 2, targets: [russia]}\n"
        "  - {kind: russia_recession, at: 3, magnitud: 2, targets: [russia]}\n"
    )
    with pytest.raises(ConfigError, match=r"events\[1\]\.magnitud = 2: .*Did you mean magnitude"):
        load_scenario(path)
    path.write_text(  # a wrong type: OmegaConf's words, and no event named
        "name: mine\nevents:\n  - {kind: russia_recession, at: 2, targets: [russia]}\n"
        "  - {kind: russia_recession, at: two, targets: russia}\n"
    )
    with pytest.raises(ConfigError, match=r"events\[1\]\.at = 'two': expected a whole number"):
        load_scenario(path)


def test_an_unknown_pole_is_named_as_the_pole_not_as_the_fields_value() -> None:
    """``region.poles.usa.budget_bn_usd = 3`` was refused as "region.poles.usa.budget_bn_usd
    = 'usa'": the key is the pole, the field's path the hint."""
    with pytest.raises(ConfigError) as caught:
        AlignmentModel(**{"region.poles.usa.budget_bn_usd": 3.0})
    assert (caught.value.key, caught.value.value) == ("region.poles.usa", "usa")
    assert caught.value.hint == "In region.poles.usa.budget_bn_usd."


@pytest.mark.parametrize(
    ("where", "field", "needle"),
    [
        ("state", "autonomy", r"region\.states\.belarus\.autonomy = None: expected a finite"),
        ("state", "threat_exposure", r"belarus\.threat_exposure = None"),
        ("state", "transit", r"belarus\.transit = None: expected a mapping"),
        ("state", "overrides", r"belarus\.overrides = None: expected a mapping"),
        ("pole", "rivalry", r"region\.poles\.russia\.rivalry = None: expected a mapping"),
        ("region", "states", r"region\.states = None: expected a list of StateSpec"),
        ("region", "affinities", r"region\.affinities = None: expected a list of AffinitySpec"),
    ],
)
def test_none_where_a_value_is_needed_is_refused(where: str, field: str, needle: str) -> None:
    """None for a state's autonomy ran with NaN utilities, silently; None for a mapping or
    a list failed with an AttributeError or a TypeError. Only neutral_from takes None."""
    config = default_config(ticks=3)
    owner = {
        "state": config.region.states[0],
        "pole": config.region.poles[0],
        "region": config.region,
    }[where]
    setattr(owner, field, None)
    with pytest.raises(ConfigError, match=needle):
        AlignmentModel(config)


def test_ticks_beside_to_is_refused_wherever_it_is_given() -> None:
    """``to`` sets the ticks: beside ``ticks=50`` it won silently in ``default_config``
    and lost silently as keywords (a 50-tick run to 2013 that said to=2003), and a
    manifest of ``ticks`` 4 with ``to`` 2003 rebuilt as another run."""
    with pytest.raises(ConfigError, match=r"^ticks = 50: expected no value beside to=2003"):
        default_config(scenario="history", origin=2000, to=2003, ticks=50)
    with pytest.raises(ConfigError, match=r"^ticks = 50: expected 12, the ticks to=2003 sets"):
        AlignmentModel(scenario="history", origin=2000, to=2003, ticks=50)
    config = default_config(scenario="history", origin=2000, to=2003)
    assert config.ticks == 12
    config.ticks = 4
    with pytest.raises(ConfigError, match=r"^ticks = 4: expected 12"):
        AlignmentModel(config)


def test_the_decision_takes_a_mapping_as_the_sections_do() -> None:
    assert default_config(decision={"rationality": 2}).decision.rationality == 2
