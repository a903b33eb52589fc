"""Shared fixtures: a tiny hand-checkable world (built in ``helpers.py``), and Hydra cleanup."""

from __future__ import annotations

import pytest
from helpers import tiny_attributes, tiny_region
from hydra.core.global_hydra import GlobalHydra

from alignment_sim import default_config
from alignment_sim.model.params import ScenarioSpec, SimulationConfig
from alignment_sim.model.world import World, build_world


@pytest.fixture
def tiny_world() -> World:
    region = tiny_region()
    region.validate()
    return build_world(region, tiny_attributes())


@pytest.fixture(scope="session")
def default_world() -> World:
    """The default region's world (11 choosers, 3 poles, 2015 data)."""
    return build_world(default_config().region)


@pytest.fixture
def tiny_config() -> SimulationConfig:
    return SimulationConfig(region=tiny_region(), scenario=ScenarioSpec(), ticks=10, seed=3)


@pytest.fixture(autouse=True)
def clear_hydra():
    yield
    GlobalHydra.instance().clear()
