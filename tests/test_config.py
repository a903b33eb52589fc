"""Every config group composes with Hydra and validates; bad values name their key."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException

from alignment_sim import ConfigError, SimulationConfig, default_config
from alignment_sim.cli.main import to_config
from alignment_sim.presets import available, load_region, load_scenario


def compose_config(overrides: list[str]) -> SimulationConfig:
    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        return to_config(compose(config_name="config", overrides=overrides))


@pytest.mark.parametrize("group", ["region", "decision", "scenario"])
def test_every_option_of_every_group_composes(group: str) -> None:
    names = available(group)
    assert names, f"no presets in {group}"
    for name in names:
        config = compose_config([f"{group}={name}"])
        assert isinstance(config, SimulationConfig)


def test_overrides_reach_the_dataclasses() -> None:
    config = compose_config(["decision=logit", "decision.rationality=2", "ticks=60", "seed=7"])
    assert (config.decision.rule, config.decision.rationality) == ("logit", 2.0)
    assert (config.ticks, config.seed) == (60, 7)
    assert config == default_config(ticks=60, seed=7, decision=config.decision)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["ticks=0"], "ticks"),
        (["seed=-1"], "seed"),
        (["region.poles.0.budget_bn_usd=-3"], "region.poles.russia.budget_bn_usd"),
        (["region.poles.1.credibility=1.5"], "region.poles.china.credibility"),
        (["region.poles.0.labour_market_from=1900"], "region.poles.russia.labour_market_from"),
        (
            ["region.poles.2.regime_support_basis=monarchy"],
            "region.poles.west.regime_support_basis",
        ),
        (["dynamics.credibility_recovery=2"], "dynamics.credibility_recovery"),
        (["dynamics.economic_switching_cost=-1"], "dynamics.economic_switching_cost"),
        (["decision.rule=coinflip"], "decision.rule"),
        (["region.year=2005"], "region.year"),
        (
            ["+region.states.0.remittance_origin.mars=0.5"],
            "region.states.belarus.remittance_origin.mars",
        ),
        (["region.affinities.0.a=atlantis"], "region.affinities[0].a"),
    ],
)
def test_bad_values_name_the_key(overrides: list[str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    assert info.value.key == key
    assert "expected" in str(info.value)


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(ConfigCompositionException, match="no_such_key"):
        compose_config(["no_such_key=1"])


def test_unknown_pole_name_in_a_state_map() -> None:
    config = default_config()
    config.region.states[0].transit["atlantis"] = 0.5
    with pytest.raises(ConfigError, match="atlantis"):
        config.validate()


def test_two_and_four_poles_work() -> None:
    from alignment_sim import AlignmentModel, PoleSpec

    config = default_config(ticks=5)
    config.region.poles = config.region.poles[:2]
    for pole in config.region.poles:
        pole.rivalry.pop("west", None)
    for state in config.region.states:
        for mapping in (state.remittance_origin, state.transit, state.presence):
            mapping.pop("west", None)
        state.initial = {
            k: ("hedge" if v == "west" else v.replace("west/", "none/"))
            for k, v in state.initial.items()
        }
    config.validate()
    run = AlignmentModel(config).run()
    # security: russia or none; economy: russia, china or open
    assert run.world.options == (
        "russia/russia", "russia/china", "russia/open", "none/russia", "none/china", "none/open"
    )  # fmt: skip
    assert run.world.labels == ("russia", "china", "hedge")
    assert run.alignment.max() <= 5
    config = default_config(ticks=5)
    config.region.poles.append(
        PoleSpec(
            name="turkey", capital_lat=39.93, capital_lon=32.86, capability=0.012, budget_bn_usd=1.0
        )
    )
    config.validate()
    run = AlignmentModel(config).run()
    assert run.world.labels == ("russia", "china", "west", "turkey", "hedge")
    assert run.world.space.security_options == ("russia", "west", "turkey", "none")
    assert len(run.world.options) == 4 * 5 and run.alignment.max() < 20


def test_folder_names_ignore_exactly_the_non_parameters() -> None:
    from hydra import compose, initialize_config_module

    from alignment_sim.studies.replications import NOT_PARAMETERS

    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    excluded = set(cfg.hydra.job.config.override_dirname.exclude_keys)
    assert excluded - {"hydra.launcher.n_jobs"} == NOT_PARAMETERS


def test_a_loaded_preset_is_the_callers_own_and_an_edited_file_is_read_again(tmp_path) -> None:
    """Presets are parsed once per version of their file (``presets._parse``): each load
    returns its own copy, so changing one changes no later load; a file edited since is
    read again."""
    first = load_region()
    first.states[0].autonomy = 0.987
    first.poles[0].credibility = 0.123
    again = load_region()
    assert again.states[0].autonomy != 0.987 and again.poles[0].credibility != 0.123
    assert again == load_region() and again is not load_region()
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nevents: []\n")
    assert load_scenario(path).name == "mine"
    path.write_text("name: mine_edited\nevents: []\n")
    assert load_scenario(path).name == "mine_edited"
