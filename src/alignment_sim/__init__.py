"""alignment-sim: an agent-based model of regional alignment in post-Soviet Eurasia.

The model is a library: build a ``SimulationConfig`` (``default_config()`` loads the
packaged presets), then run ``AlignmentModel`` (Mesa, the reference) or the batched
engine for many runs. Only ``alignment_sim.cli`` knows Hydra; presets are read with
OmegaConf into the typed dataclasses.
"""

from typing import TYPE_CHECKING, Any

from alignment_sim.errors import ConfigError, DataError
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
from alignment_sim.outputs.provenance import package_version
from alignment_sim.presets import default_config, load_region, load_scenario

if TYPE_CHECKING:
    from alignment_sim.model.mesa_model import AlignmentModel

__version__ = package_version()


def __getattr__(name: str) -> Any:
    """``AlignmentModel`` on first use: importing Mesa takes about a second, which every
    command that never builds a Mesa model (the engine, compare, score) would pay."""
    if name == "AlignmentModel":
        from alignment_sim.model.mesa_model import AlignmentModel

        return AlignmentModel
    raise AttributeError(f"module 'alignment_sim' has no attribute {name!r}")


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
    "default_config",
    "load_region",
    "load_scenario",
]
