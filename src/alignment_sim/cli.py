"""The ``alignment-sim`` command: Hydra composes the config, the library runs it.

Only this module knows Hydra. It registers the typed schema, converts the composed
config once with ``OmegaConf.to_object`` (which validates it), runs the Mesa model and
writes the outputs into Hydra's run folder.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from alignment_sim.errors import ConfigError
from alignment_sim.params import SimulationConfig

ConfigStore.instance().store(name="base_config", node=SimulationConfig)


def to_config(cfg: DictConfig) -> SimulationConfig:
    """Convert a composed Hydra config to the validated dataclass tree."""
    plain = {k: v for k, v in cfg.items() if k != "hydra"}
    try:
        obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimulationConfig), plain))
    except OmegaConfBaseException as exc:
        raise ConfigError(
            str(exc.full_key),
            getattr(exc, "value", None),
            "a value of the schema's type",
            str(exc).splitlines()[0],
        ) from None
    assert isinstance(obj, SimulationConfig)
    return obj


def _discard_incomplete(folder: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own files."""
    if folder.is_dir() and all(
        p.name in (".hydra", "main.log", "cli.log") for p in folder.iterdir()
    ):
        shutil.rmtree(folder, ignore_errors=True)


def record_failure(folder: Path, exc: BaseException, overrides: list[str]) -> None:
    """Leave ``error.json`` in a sweep job's folder, so the sweep goes on and the failure
    stays on record (and no manifest marks the job complete)."""
    from alignment_sim.outputs import write_json

    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / "error.json",
        {"error": str(exc), "type": type(exc).__name__, "overrides": overrides},
    )


def run_one(cfg: DictConfig) -> None:
    from alignment_sim.model import AlignmentModel
    from alignment_sim.outputs import summary_text, write_run

    for noisy in ("MESA", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    folder = Path(HydraConfig.get().runtime.output_dir)
    try:
        config = to_config(cfg)
        model = AlignmentModel(config)
    except ConfigError as exc:
        print(f"alignment-sim: invalid configuration. {exc}", file=sys.stderr)
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            record_failure(folder, exc, list(HydraConfig.get().overrides.task))
            return
        _discard_incomplete(folder)
        sys.exit(2)
    trajectory = model.run()
    overrides = list(HydraConfig.get().overrides.task)
    write_run(trajectory, config, folder, plots=config.output.plots, extra={"overrides": overrides})
    if not config.output.quiet:
        print(summary_text(trajectory, folder))


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def _hydra_entry(cfg: DictConfig) -> None:
    run_one(cfg)


def main() -> None:
    """Console entry point ``alignment-sim``."""
    _hydra_entry()
