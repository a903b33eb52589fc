"""Packaged Hydra configuration (config groups: region, decision, scenario, experiment)."""
