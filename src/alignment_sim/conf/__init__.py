"""Packaged Hydra configuration (groups: region, decision, scenario, experiment).

Importing it registers the typed schema (``SimulationConfig``) as ``base_config``, so any
composition of these configs, by the CLI or by the compose API, is checked against it;
and the resolvers config.yaml names its folders with (``unique_suffix``,
``job_folder_name``), and the log filter of its job logging (``BelowLevel``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from alignment_sim.model.params import SimulationConfig

MAX_FOLDER_NAME_BYTES = 200
"""A sweep job's folder name is cut below the usual 255-byte limit of a file name."""

ConfigStore.instance().store(name="base_config", node=SimulationConfig)


def unique_suffix() -> str:
    """Microseconds, process id and a random hex: no two processes share it."""
    return f"{time.time_ns() // 1000 % 1_000_000:06d}-{os.getpid()}-{secrets.token_hex(2)}"


def job_folder_name(override_dirname: str) -> str:
    """A sweep job's folder name: its overrides, or, when that is too long for a file
    name (or holds a '/'), a readable prefix and a hash of the whole (the same on resume).
    """
    name = str(override_dirname)
    if len(name.encode()) <= MAX_FOLDER_NAME_BYTES and "/" not in name:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    prefix = name.replace("/", "_").encode()[: MAX_FOLDER_NAME_BYTES - 16]
    return f"{prefix.decode(errors='ignore').rstrip(',')}_{digest}"


class BelowLevel(logging.Filter):
    """Passes records below ``level`` (notes to stdout; warnings and errors go to stderr)."""

    def __init__(self, level: str | int = logging.WARNING) -> None:
        super().__init__()
        self.level = logging.getLevelName(level) if isinstance(level, str) else level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


OmegaConf.register_new_resolver("unique_suffix", unique_suffix, use_cache=True, replace=True)
OmegaConf.register_new_resolver("job_folder_name", job_folder_name, replace=True)
