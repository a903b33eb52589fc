"""alignment-sim: an agent-based model of regional alignment in post-Soviet Eurasia.

The model is a library: build a ``SimulationConfig`` (``default_config()`` loads the
packaged presets), then run ``AlignmentModel`` (Mesa, the reference) or the batched
engine for many runs. Only ``alignment_sim.cli`` knows Hydra; presets are read with
OmegaConf into the typed dataclasses.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from alignment_sim.outputs.provenance import package_version

if TYPE_CHECKING:
    from alignment_sim.errors import ConfigError, DataError
    from alignment_sim.model.mesa_model import AlignmentModel
    from alignment_sim.model.params import (
        AffinitySpec,
        DecisionParams,
        Dynamics,
        EventSpec,
        PoleSpec,
        RegionSpec,
        ScenarioSpec,
        SimulationConfig,
        StateSpec,
        UtilityWeights,
    )
    from alignment_sim.model.world import World, build_world
    from alignment_sim.presets import default_config, load_region, load_scenario

__version__ = package_version()

HOMES = {
    "AffinitySpec": "alignment_sim.model.params",
    "AlignmentModel": "alignment_sim.model.mesa_model",
    "ConfigError": "alignment_sim.errors",
    "DataError": "alignment_sim.errors",
    "DecisionParams": "alignment_sim.model.params",
    "Dynamics": "alignment_sim.model.params",
    "EventSpec": "alignment_sim.model.params",
    "PoleSpec": "alignment_sim.model.params",
    "RegionSpec": "alignment_sim.model.params",
    "ScenarioSpec": "alignment_sim.model.params",
    "SimulationConfig": "alignment_sim.model.params",
    "StateSpec": "alignment_sim.model.params",
    "UtilityWeights": "alignment_sim.model.params",
    "World": "alignment_sim.model.world",
    "build_world": "alignment_sim.model.world",
    "config_from_manifest": "alignment_sim.presets",
    "default_config": "alignment_sim.presets",
    "load_region": "alignment_sim.presets",
    "load_scenario": "alignment_sim.presets",
}
"""The module that defines each public name. Names are imported on first use, so a
command imports only what it needs: Mesa, pandas and the presets take about a second,
which the report's figure worker, the engine and the scorer would otherwise all pay."""


def __getattr__(name: str) -> Any:
    """A public name from its home module (``HOMES``), imported on first use."""
    if name in HOMES:
        value = getattr(import_module(HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'alignment_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *HOMES])


__all__ = [
    "AffinitySpec",
    "AlignmentModel",
    "ConfigError",
    "DataError",
    "DecisionParams",
    "Dynamics",
    "EventSpec",
    "PoleSpec",
    "RegionSpec",
    "ScenarioSpec",
    "SimulationConfig",
    "StateSpec",
    "UtilityWeights",
    "World",
    "__version__",
    "build_world",
    "config_from_manifest",
    "default_config",
    "load_region",
    "load_scenario",
]
