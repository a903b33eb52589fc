"""One grammar for parameter paths: parse, read, set (on a copy) and rewrite for Hydra."""

from __future__ import annotations

import pytest

from alignment_sim import ConfigError, default_config
from alignment_sim.paths import (
    ParamPath,
    domain,
    get_value,
    parse,
    to_hydra_override,
    to_named_override,
    with_values,
)


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("ticks", ParamPath("", None, "ticks")),
        ("weights.trade", ParamPath("weights", None, "trade")),
        ("dynamics.stance", ParamPath("dynamics", None, "stance")),
        ("decision.rationality", ParamPath("decision", None, "rationality")),
        ("region.year", ParamPath("region", None, "year")),
        ("region.poles.russia.credibility", ParamPath("region.poles", "russia", "credibility")),
        ("region.poles.0.credibility", ParamPath("region.poles", 0, "credibility")),
        ("region.states.belarus.autonomy", ParamPath("region.states", "belarus", "autonomy")),
        ("region.states.10.autonomy", ParamPath("region.states", 10, "autonomy")),
        (
            "region.states.belarus.transit.russia",
            ParamPath("region.states", "belarus", "transit", "russia"),
        ),
        ("region.poles.0.rivalry.west", ParamPath("region.poles", 0, "rivalry", "west")),
    ],
)
def test_parse_and_print_round_trip(path: str, parsed: ParamPath) -> None:
    assert parse(path) == parsed
    assert str(parsed) == path


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("weights.tradee", r"a field of weights \(.*\)\. Did you mean 'weights\.trade'\?"),
        ("poles.russia.credibility", "Did you mean 'region.poles.russia.credibility'"),
        ("region.poles.russia", "a parameter path"),
        ("region.poles.russia.name", "a field of region.poles"),
        ("region.poles.Rus-sia.credibility", "a name or an index"),
        ("region.states.belarus.presence", "a field of region.states"),
        ("scenario.events", "a parameter path"),
        ("", "a parameter path"),
        ("region.states.belarus.transt.russia", r"a map by pole .* Did you mean transit\?"),
        ("region.poles.russia.transit.west", r"a map by pole of region.poles \(rivalry\)"),
    ],
)
def test_paths_outside_the_grammar_are_refused(path: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse(path)
    assert info.value.key == path


def test_name_and_index_read_the_same_value() -> None:
    config = default_config()
    assert config.region.poles[1].name == "china"
    by_name = get_value(config, "region.poles.china.budget_bn_usd")
    assert by_name == get_value(config, "region.poles.1.budget_bn_usd") == 5.5
    assert get_value(config, "region.states.0.autonomy") == config.region.states[0].autonomy


def test_unknown_items_name_the_known_ones() -> None:
    config = default_config()
    with pytest.raises(ConfigError, match="russia, china, west"):
        get_value(config, "region.poles.narnia.credibility")
    with pytest.raises(ConfigError, match=r"an index in \[0, 2\]"):
        get_value(config, "region.poles.5.credibility")


def test_with_values_returns_a_validated_copy() -> None:
    config = default_config()
    changed = with_values(config, {"region.poles.russia.credibility": 0.25, "weights.trade": 3})
    assert changed.region.poles[0].credibility == 0.25
    assert changed.weights.trade == 3.0 and isinstance(changed.weights.trade, float)
    assert config.region.poles[0].credibility != 0.25  # the argument is unchanged
    assert config.weights.trade == 2.0
    with pytest.raises(ConfigError, match=r"region\.poles\.russia\.credibility"):
        with_values(config, {"region.poles.russia.credibility": 3.0})


def test_domain_of_a_path() -> None:
    stance = domain("dynamics.stance")
    assert stance is not None and (stance.low, stance.high) == (-1.0, 1.0)
    assert domain("decision.rule") is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("region.poles.russia.credibility=0.5", "region.poles.0.credibility=0.5"),
        ("region.poles.west.budget_bn_usd=1,2,3", "region.poles.2.budget_bn_usd=1,2,3"),
        ("+region.states.belarus.presence.russia=0.5", "+region.states.0.presence.russia=0.5"),
        ("++region.states.moldova.autonomy=0.1", "++region.states.2.autonomy=0.1"),
        ("~region.states.georgia.overrides", "~region.states.3.overrides"),
        ("region.poles.0.credibility=0.5", "region.poles.0.credibility=0.5"),
        ("weights.trade=2", "weights.trade=2"),
        ("region=post_soviet", "region=post_soviet"),
        ("scenario.events.0.at=3", "scenario.events.0.at=3"),
    ],
)
def test_to_hydra_override(override: str, expected: str) -> None:
    assert to_hydra_override(override, default_config().region) == expected


@pytest.mark.parametrize(
    "override",
    [
        "region.poles.russia.credibility=0.5",
        "+region.states.belarus.presence.russia=0.5",
        "++region.states.moldova.autonomy=0.1",
        "~region.states.georgia.overrides",
        "region.poles.west.budget_bn_usd=1,2,3",
    ],
)
def test_to_named_override_undoes_to_hydra_override(override: str) -> None:
    region = default_config().region
    names = {"poles": region.pole_names, "states": region.state_names}
    hydras = to_hydra_override(override, region)
    assert hydras != override and to_named_override(hydras, names) == override


@pytest.mark.parametrize(
    "override",
    ["region.states.11.autonomy=0.1", "weights.trade=2", "region.year=2000", "seed=3"],
)
def test_to_named_override_leaves_what_names_no_item(override: str) -> None:
    region = default_config().region
    names = {"poles": region.pole_names, "states": region.state_names}
    assert to_named_override(override, names) == override  # 11: beyond the 11 states


def test_to_hydra_override_refuses_unknown_names() -> None:
    with pytest.raises(ConfigError, match="belarus, ukraine") as info:
        to_hydra_override("region.states.narnia.autonomy=0.5", default_config().region)
    assert info.value.key == "region.states.narnia"  # the state, not its autonomy
    assert info.value.hint == "In region.states.narnia.autonomy."


def test_an_entry_of_a_map_by_pole_is_read_set_and_checked_by_its_path() -> None:
    """``region.states.belarus.transit.russia``, which the command line took (Hydra sets
    the map), was refused by the library's keywords, ``with_values`` and ``get_value``."""
    from alignment_sim import AlignmentModel

    config = default_config()
    assert get_value(config, "region.states.belarus.transit.russia") == 0.9
    assert get_value(config, "region.states.belarus.transit.china") == 0.0  # no entry: 0
    assert get_value(config, "region.poles.russia.rivalry.west") == 1.0
    changed = with_values(config, {"region.states.belarus.transit.russia": 0.5})
    assert changed.region.states[0].transit == {"russia": 0.5}
    assert config.region.states[0].transit == {"russia": 0.9}  # the argument is untouched
    assert domain("region.states.belarus.presence.russia") is not None
    model = AlignmentModel(default_config(ticks=2), region__states__belarus__transit__russia=0.5)
    assert model.config.region.states[0].transit == {"russia": 0.5}
    with pytest.raises(ConfigError, match=r"transit\.russia = 1\.5: expected a share"):
        with_values(config, {"region.states.belarus.transit.russia": 1.5})
    with pytest.raises(ConfigError, match=r"transit\.usa = 'usa': expected a pole of the region"):
        get_value(config, "region.states.belarus.transit.usa")


def test_default_config_takes_a_parameter_path_as_the_model_does() -> None:
    """``AlignmentModel(weights__trade=3)`` took a path; ``default_config`` refused it as a
    setting it lacks."""
    from alignment_sim import AlignmentModel

    config = default_config(weights__trade=3, region__states__belarus__transit__russia=0.5)
    assert config.weights.trade == 3.0 and config.region.states[0].transit == {"russia": 0.5}
    model = AlignmentModel(default_config(), weights__trade=3)
    assert model.config.weights == config.weights
    with pytest.raises(ConfigError, match=r"Did you mean 'weights\.trade'\?"):
        default_config(weights__trde=3)
