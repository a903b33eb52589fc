"""``CheckedSweeper``: Hydra's basic sweeper with every job's configuration validated
before the first job is launched (the package's docstring says why). No ``from __future__
import annotations``: Hydra imports plugins outside ``sys.modules``, where a dataclass's
string annotations cannot be resolved."""

import copy
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from alignment_sim.errors import ConfigError


@dataclass
class CheckedSweeperConf:
    """The sweeper's settings: those of Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.alignment_sim_sweeper.checked_sweeper.CheckedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf)


PROGRESS_EVERY = 50
"""Jobs between the check's progress lines, at least."""


class CheckedSweeper(BasicSweeper):
    """Hydra's basic sweeper that first checks every job's configuration as the job would
    (``alignment_sim.cli.main.check_job``), before the sweep's folder is touched, and
    raises the first ``ConfigError``, naming the job's overrides; no job runs then."""

    def sweep(self, arguments: list[str]) -> Any:
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        jobs = [job for batch in self.split_arguments(overrides, None) for job in batch]
        self.check_jobs(jobs)
        self.check_sweep_dir()
        return super().sweep(arguments)

    def check_sweep_dir(self) -> None:
        """Refuse a sweep's folder that is a finished job's or another command's (it holds
        ``manifest.json``): its jobs' folders below it would be hidden from every reader,
        which stops at a finished folder, and Hydra's files would be added to it."""
        from pathlib import Path

        from alignment_sim.outputs.files import MANIFEST, finished_kind, job_manifest

        assert self.config is not None
        folder = Path(str(self.config.hydra.sweep.dir))
        if not (folder / MANIFEST).is_file():
            return
        try:
            held = finished_kind(job_manifest(folder))
        except ValueError:
            held = "a manifest.json"
        raise ConfigError(
            "hydra.sweep.dir",
            str(folder),
            "a folder of its own for the sweep's jobs",
            f"{folder} holds {held}. Give another hydra.sweep.dir.",
        )

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing more: ``sweep`` composed and checked every job before the first batch."""

    def check_jobs(self, jobs: Sequence[Sequence[str]]) -> None:
        """Compose each job's configuration (``job_config``) and check it, with Hydra's
        runtime settings the job will have (``hydra_runtime``) set, so that ``seed=${hydra:
        job.num}`` resolves as in the job itself."""
        from alignment_sim.cli.main import check_job, shown_overrides

        if len(jobs) > 1:
            print(f"[alignment-sim] checking the configurations of {len(jobs)} jobs", flush=True)
        every = max(len(jobs) // 10, PROGRESS_EVERY)  # a line at most every tenth
        composed_for: dict[tuple[str, ...], DictConfig] = {}
        sweepers_own = HydraConfig.instance().cfg
        try:
            for number, overrides in enumerate(jobs):
                if (number + 1) % every == 0 and number + 1 < len(jobs):
                    print(f"[alignment-sim]   checked {number + 1} of {len(jobs)}", flush=True)
                try:
                    composed = self.job_config(list(overrides), composed_for)
                except (HydraException, ValueError) as exc:  # Hydra cannot compose the job
                    job = ",".join(shown_overrides(list(overrides)))
                    raise ConfigError(
                        "the job's overrides",
                        job,
                        "overrides Hydra can compose",
                        f"{str(exc).rstrip('.')}. The sweep's job {job} has it; no job has run.",
                    ) from None
                shown = shown_overrides(list(overrides), composed)
                job = ",".join(shown) or "with no overrides"
                where = f"The sweep's job {job} has it; no job has run."
                hydra_runtime(composed, number)
                with read_write(composed), open_dict(composed):
                    del composed["hydra"]  # as the job's task gets it (to_config's direct path)
                try:
                    check_job(composed, shown)
                except ConfigError as exc:
                    hint = f"{exc.hint} {where}" if exc.hint else where
                    raise ConfigError(exc.key, exc.value, exc.expected, hint) from None
        finally:
            HydraConfig.instance().cfg = sweepers_own

    @functools.cached_property
    def job_repository(self) -> Any:
        """The config repository Hydra composes the sweep's jobs from: its search path
        with the folders ``hydra.searchpath`` adds (on the command line, whose hydra
        overrides every job shares, or in the primary config), which the loader's own
        repository leaves out; None for a loader that cannot say (then every job is
        composed whole). Made once a sweep."""
        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        make = getattr(loader, "_parse_overrides_and_create_caching_repo", None)
        hydra_overrides = OmegaConf.to_container(self.config.hydra.overrides.hydra)
        if make is None or not isinstance(hydra_overrides, list):
            return None
        return make(self.config.hydra.job.config_name, hydra_overrides)[1]

    def job_config(
        self, overrides: list[str], composed_for: dict[tuple[str, ...], DictConfig]
    ) -> DictConfig:
        """A job's configuration as Hydra composes it (``load_sweep_config``): Hydra
        composes the defaults its config-group overrides choose once per choice
        (``composed_for`` keeps them), then applies the job's other overrides to a copy,
        as Hydra's composing applies them after the defaults (``Overrides``: a value
        override is one whose key is no config group, or whose value is a mapping), and
        records them in the hydra node as it does (``hydra.overrides.task``,
        ``hydra.job.override_dirname``). The jobs of a sweep over values share one
        composing (about 0.1 s a job saved)."""
        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(overrides)
        repository = self.job_repository
        values: list[Override] = []
        groups: list[Override] = []
        for override in parsed:
            is_value = repository is not None and (  # else: compose every job whole
                isinstance(override.value(), dict)
                or not repository.group_exists(override.key_or_group)
            )
            (values if is_value else groups).append(override)
        key = tuple(str(o.input_line) for o in groups)
        if key not in composed_for:
            composed_for[key] = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(key)
            )
        composed = copy.deepcopy(composed_for[key])
        ConfigLoaderImpl._apply_overrides_to_config(values, composed)
        job_overrides = [o for o in parsed if not o.is_hydra_override()]
        with read_write(composed.hydra), open_dict(composed.hydra):
            composed.hydra.overrides.task = [o.input_line for o in job_overrides]
            naming = composed.hydra.job.config.override_dirname
            composed.hydra.job.override_dirname = get_overrides_dirname(
                overrides=job_overrides,
                kv_sep=naming.kv_sep,
                item_sep=naming.item_sep,
                exclude_keys=naming.exclude_keys,
            )
        return composed


def hydra_runtime(job_config: DictConfig, number: int) -> None:
    """Set what Hydra's launcher and ``run_job`` set for the job numbered ``number``
    (from 0, in the sweep's order): its number and id and its output folder, and make
    its configuration Hydra's current one, for ``${hydra:...}`` interpolations."""
    with read_write(job_config.hydra), open_dict(job_config.hydra):
        job_config.hydra.job.id = number
        job_config.hydra.job.num = number
        folder = os.path.join(
            str(OmegaConf.select(job_config, "hydra.sweep.dir")),
            str(OmegaConf.select(job_config, "hydra.sweep.subdir")),
        )
        job_config.hydra.runtime.output_dir = os.path.abspath(folder)
    HydraConfig.instance().set_config(job_config)
