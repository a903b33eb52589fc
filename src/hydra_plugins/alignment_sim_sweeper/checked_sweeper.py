"""``CheckedSweeper``: Hydra's basic sweeper with every job's configuration validated
before the first job is launched (the package's docstring says why). No ``from __future__
import annotations``: Hydra imports plugins outside ``sys.modules``, where a dataclass's
string annotations cannot be resolved."""

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
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
        return super().sweep(arguments)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing more: ``sweep`` composed and checked every job before the first batch."""

    def check_jobs(self, jobs: Sequence[Sequence[str]]) -> None:
        """Compose each job's configuration (``job_config``) and check it."""
        from alignment_sim.cli.main import check_job, shown_overrides

        if len(jobs) > 1:
            print(f"[alignment-sim] checking the configurations of {len(jobs)} jobs", flush=True)
        every = max(len(jobs) // 10, PROGRESS_EVERY)  # a line at most every tenth
        composed_for: dict[tuple[str, ...], DictConfig] = {}
        for n, overrides in enumerate(jobs, start=1):
            if n % every == 0 and n < len(jobs):
                print(f"[alignment-sim]   checked {n} of {len(jobs)}", flush=True)
            shown = shown_overrides(list(overrides))
            job = ",".join(shown) or "with no overrides"
            where = f"The sweep's job {job} has it; no job has run."
            try:
                composed = self.job_config(list(overrides), composed_for)
            except (HydraException, ValueError) as exc:  # Hydra cannot compose the job
                raise ConfigError(
                    "the job's overrides",
                    job,
                    "overrides Hydra can compose",
                    f"{str(exc).rstrip('.')}. {where}",
                ) from None
            try:
                check_job(composed, shown)
            except ConfigError as exc:
                hint = f"{exc.hint} {where}" if exc.hint else where
                raise ConfigError(exc.key, exc.value, exc.expected, hint) from None

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
        """A job's configuration without its ``hydra`` node, as its task gets it: Hydra
        composes the defaults its config-group overrides choose once per choice
        (``composed_for`` keeps them), then applies the job's other overrides to a copy,
        as Hydra's composing applies them after the defaults (``Overrides``: a value
        override is one whose key is no config group, or whose value is a mapping). The
        jobs of a sweep over values share one composing (about 0.1 s a job saved)."""
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
            composed = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(key)
            )
            with read_write(composed), open_dict(composed):
                del composed["hydra"]  # as the job's task gets it (to_config's direct path)
            composed_for[key] = composed
        composed = copy.deepcopy(composed_for[key])
        ConfigLoaderImpl._apply_overrides_to_config(values, composed)
        return composed
