"""The ``alignment-sim`` command: Hydra composes the config, the library runs it.

Only this module knows Hydra. It registers the typed schema, converts the composed
config once with ``OmegaConf.to_object`` (which validates it), runs the Mesa model and
writes the outputs into Hydra's run folder.
"""

from __future__ import annotations

import logging
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

import alignment_sim.conf  # noqa: F401  (registers the schema as base_config)
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import SimulationConfig

NOT_PARAMETERS = {
    "study",
    "engine.workers",
    "engine.chunk_size",
    "engine.progress",
    "engine.backend",
    "engine.dask_address",
    "output.quiet",
    "output.plots",
}
"""Overrides that change how a job runs or reports, never what it computes."""


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


def record_failure(folder: Path, exc: BaseException, overrides: list[str], trace: str = "") -> None:
    """Leave ``error.json`` in a sweep job's folder, so the sweep goes on and the failure
    stays on record (and no manifest marks the job complete)."""
    from alignment_sim.outputs.files import write_json

    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / "error.json",
        {"error": str(exc), "type": type(exc).__name__, "overrides": overrides, "traceback": trace},
    )


def job_parameters(overrides: list[str]) -> dict[str, Any]:
    """The job's command-line overrides as columns: ``scenario=x`` -> {"scenario": "x"}."""
    out: dict[str, Any] = {}
    for item in overrides:
        key, _, value = item.lstrip("+~").partition("=")
        if key.startswith("hydra.") or key in NOT_PARAMETERS:
            continue
        out[key] = value
    return out


def run_one(cfg: DictConfig) -> None:
    """One Hydra job: a single Mesa run, or ``replications`` runs through the engine."""
    for noisy in ("MESA", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        config = to_config(cfg)
        if config.design.method != "none":
            run_design_job(config, folder)
        elif config.replications > 1:
            run_study_job(config, folder, overrides)
        else:
            run_single(config, folder, overrides, skip_if_done=sweeping)
    except ConfigError as exc:
        print(f"alignment-sim: invalid configuration. {exc}", file=sys.stderr)
        if sweeping:
            record_failure(folder, exc, overrides)
            return
        _discard_incomplete(folder)
        sys.exit(2)
    except Exception as exc:
        if not sweeping:
            raise
        print(
            f"alignment-sim: job failed ({type(exc).__name__}: {exc}); the sweep goes on.",
            file=sys.stderr,
        )
        record_failure(folder, exc, overrides, traceback.format_exc())


def run_single(
    config: SimulationConfig, folder: Path, overrides: list[str], skip_if_done: bool
) -> None:
    from alignment_sim.model.mesa_model import AlignmentModel
    from alignment_sim.outputs.files import summary_text, write_run

    if skip_if_done and (folder / "manifest.json").is_file():
        print(f"alignment-sim: {folder.name} is already complete, skipped.")
        return
    model = AlignmentModel(config)
    trajectory = model.run()
    write_run(
        trajectory,
        config,
        folder,
        plots=config.output.plots,
        extra={"overrides": overrides, "parameters": job_parameters(overrides)},
    )
    if not config.output.quiet:
        print(summary_text(trajectory, folder))


def run_design_job(config: SimulationConfig, folder: Path) -> None:
    from alignment_sim.studies.design import DESIGN_FILES, run_design
    from alignment_sim.studies.replications import config_digest, job_is_complete

    if job_is_complete(folder, config_digest(config), DESIGN_FILES):
        print(f"alignment-sim: design study in {folder} is already complete, skipped.")
        return
    run_design(config, folder, progress=config.engine.progress)
    if not config.output.quiet:
        table = (folder / "sensitivity.csv").read_text().splitlines()
        print(
            f"alignment-sim: {config.design.method} design, {config.replications} seeds "
            f"per point. Sensitivity ({len(table) - 1} rows): {folder / 'sensitivity.csv'}, "
            f"plot: {folder / 'sensitivity.png'}, runs: {folder / 'runs'}"
        )


def run_study_job(config: SimulationConfig, folder: Path, overrides: list[str]) -> None:
    from alignment_sim.engine.batch import run_batch
    from alignment_sim.model.inputs import RunInputs
    from alignment_sim.studies.replications import config_digest, job_is_complete, write_study_job

    if job_is_complete(folder, config_digest(config)):
        print(f"alignment-sim: {folder.name or folder} is already complete, skipped.")
        return
    (folder / "error.json").unlink(missing_ok=True)
    inputs = RunInputs.from_config(config)
    seeds = range(config.seed, config.seed + config.replications)
    engine = config.engine
    result = run_batch(
        inputs,
        seeds,
        record="summary",
        chunk_size=engine.chunk_size,
        workers=engine.workers,
        progress=engine.progress,
    )
    write_study_job(
        result, config, folder, job_parameters(overrides), extra={"overrides": overrides}
    )
    if not config.output.quiet:
        shares = ", ".join(
            f"{o} {v:.0%}"
            for o, v in zip(inputs.world.options, result.shares()[:, -1].mean(axis=0), strict=True)
        )
        print(
            f"alignment-sim: {config.replications} runs of {config.scenario.name} "
            f"(seeds {seeds.start}-{seeds.stop - 1}); mean final shares: {shares}. "
            f"Files: {folder}"
        )


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def _hydra_entry(cfg: DictConfig) -> None:
    run_one(cfg)


def main() -> None:
    """Console entry point ``alignment-sim``."""
    _hydra_entry()
