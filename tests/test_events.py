"""Events: compilation errors before anything runs, and what they change when."""

from __future__ import annotations

import numpy as np
import pytest

from alignment_sim import AlignmentModel, ConfigError, EventSpec, ScenarioSpec, default_config
from alignment_sim.model.events import active_events, apply_events, compile_scenario, initial_starts
from alignment_sim.model.world import build_world


@pytest.fixture(scope="module")
def world():
    return build_world(default_config().region)


def scenario(*events: EventSpec) -> ScenarioSpec:
    return ScenarioSpec(name="test", events=list(events))


@pytest.mark.parametrize(
    ("event", "key", "needle"),
    [
        (EventSpec(kind="alien_invasion", at=1), "scenario.events[0].kind", "russia_recession"),
        (
            EventSpec(kind="terror_surge", at=1, targets=["atlantis"]),
            "scenario.events[0].targets[0]",
            "belarus",
        ),
        (EventSpec(kind="russia_recession", at=41), "scenario.events[0].at", "ticks=40"),
        (EventSpec(kind="russia_recession", at=0), "scenario.events[0].at", "[1, 40]"),
        (EventSpec(kind="russia_recession"), "scenario.events[0].at", "exactly one"),
        (
            EventSpec(kind="russia_recession", at=1, hazard=0.1),
            "scenario.events[0].at",
            "exactly one",
        ),
        (EventSpec(kind="russia_recession", hazard=1.5), "scenario.events[0].hazard", "[0, 1]"),
        (
            EventSpec(kind="russia_recession", at=1, duration=0),
            "scenario.events[0].duration",
            ">= 1",
        ),
        (EventSpec(kind="terror_surge", at=1), "scenario.events[0].targets", "list of states"),
        (
            EventSpec(kind="terror_surge", at=1, targets="uzbekistan"),  # type: ignore[arg-type]
            "scenario.events[0].targets",
            "a list of names",
        ),
        (
            EventSpec(kind="russia_recession", at=1, targets=["belarus"]),
            "scenario.events[0].targets",
            "takes none",
        ),
    ],
)
def test_bad_events_are_named(world, event: EventSpec, key: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        compile_scenario(scenario(event), world, ticks=40)
    assert info.value.key == key
    assert needle in str(info.value)


def test_bad_event_stops_the_model_before_it_runs() -> None:
    config = default_config(ticks=10)
    config.scenario = scenario(EventSpec(kind="russia_recession", at=11))
    with pytest.raises(ConfigError, match="ticks=10"):
        AlignmentModel(config)


def test_recession_changes_russia_only_while_active(world) -> None:
    program = compile_scenario(
        scenario(EventSpec(kind="russia_recession", at=3, duration=2)), world, ticks=10
    )
    starts = initial_starts(program, 1)
    russia = world.poles.index("russia")
    active = [bool(active_events(starts, program, t)[0, 0]) for t in range(1, 8)]
    assert active == [False, False, True, True, False, False, False]
    _, pole, _ = apply_events(world, program, active_events(starts, program, 3))
    assert pole.budget_bn[0, russia] == pytest.approx(0.4 * world.pole.budget_bn[russia])
    assert pole.trade_factor[0, russia] == pytest.approx(0.75)
    others = [b for b in range(world.n_poles) if b != russia]
    np.testing.assert_array_equal(pole.budget_bn[0, others], world.pole.budget_bn[others])
    _, calm, _ = apply_events(world, program, active_events(starts, program, 5))
    assert calm.budget_bn[0, russia] == world.pole.budget_bn[russia]


def test_magnitude_scales_and_events_compose(world) -> None:
    half = EventSpec(kind="russia_recession", at=1, magnitude=0.5)
    twice = EventSpec(kind="russia_recession", at=1)
    program = compile_scenario(scenario(half, twice), world, ticks=5)
    starts = initial_starts(program, 1)
    _, pole, _ = apply_events(world, program, active_events(starts, program, 1))
    russia = world.poles.index("russia")
    expected = world.pole.budget_bn[russia] * (1 + 0.5 * (0.4 - 1)) * 0.4
    assert pole.budget_bn[0, russia] == pytest.approx(expected)


def test_targeted_pair_change(world) -> None:
    offer = EventSpec(kind="western_offer", at=1, targets=["belarus"])
    program = compile_scenario(scenario(offer), world, ticks=5)
    _, _, pair = apply_events(world, program, active_events(initial_starts(program, 1), program, 1))
    west, belarus = world.poles.index("west"), world.states.index("belarus")
    assert pair.pledge_bn[0, west, belarus] == 3.0
    assert pair.pledge_bn[0].sum() == 3.0  # the West's, to Belarus alone
    assert pair.conditionality[0, west, belarus] == pytest.approx(
        0.25 * world.pair.conditionality[west, belarus]
    )


@pytest.mark.parametrize("kind", ["trade_embargo", "energy_cut_off"])
def test_an_economic_punishment_raises_economic_pressure_only(world, kind: str) -> None:
    punishment = EventSpec(kind=kind, at=1, targets=["georgia"])
    program = compile_scenario(scenario(punishment), world, ticks=5)
    _, _, pair = apply_events(world, program, active_events(initial_starts(program, 1), program, 1))
    russia, georgia = world.poles.index("russia"), world.states.index("georgia")
    assert pair.economic_pressure[0, russia, georgia] == 1.5
    others = world.pair.economic_pressure.sum()
    assert pair.economic_pressure[0].sum() == pytest.approx(others + 0.5)  # Georgia's alone
    assert np.all(pair.pressure == world.pair.pressure)  # no military escalation


def test_every_scenario_compiles(world) -> None:
    from alignment_sim.presets import available

    for name in available("scenario"):
        config = default_config(scenario=name, ticks=20)  # the latest `at` is 20
        program = compile_scenario(config.scenario, build_world(config.region), config.ticks)
        events = config.scenario.events
        if any(event.date is not None for event in events):
            # dated events outside the run are dropped (tests/test_history_scenario.py)
            assert 0 < program.n_events <= len(events)
        else:
            assert program.n_events == len(events)
