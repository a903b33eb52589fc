"""Packaged Hydra configuration (groups: region, decision, scenario, experiment).

Importing it registers the typed schema (``SimulationConfig``) as ``base_config``, so any
composition of these configs, by the CLI or by the compose API, is checked against it.
"""

from hydra.core.config_store import ConfigStore

from alignment_sim.model.params import SimulationConfig

ConfigStore.instance().store(name="base_config", node=SimulationConfig)
