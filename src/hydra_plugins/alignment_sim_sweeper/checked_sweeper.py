"""``CheckedSweeper``: Hydra's basic sweeper with every job's configuration validated
before the first job is launched (the package's docstring says why). No ``from __future__
import annotations``: Hydra imports plugins outside ``sys.modules``, where a dataclass's
string annotations cannot be resolved."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser

from alignment_sim.errors import ConfigError


@dataclass
class CheckedSweeperConf:
    """The sweeper's settings: those of Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.alignment_sim_sweeper.checked_sweeper.CheckedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf)


PROGRESS_EVERY = 50
"""Jobs between the check's progress lines, at least (a job takes about 0.2 s)."""


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
        """Compose each job's configuration (as Hydra's own check does) and check it."""
        from alignment_sim.cli.main import check_job, shown_overrides

        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        if len(jobs) > 1:
            print(f"[alignment-sim] checking the configurations of {len(jobs)} jobs", flush=True)
        every = max(len(jobs) // 10, PROGRESS_EVERY)  # a line at most every tenth
        for n, overrides in enumerate(jobs, start=1):
            if n % every == 0 and n < len(jobs):
                print(f"[alignment-sim]   checked {n} of {len(jobs)}", flush=True)
            composed = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )
            shown = shown_overrides(list(overrides))
            try:
                check_job(composed, shown)
            except ConfigError as exc:
                job = ",".join(shown) or "with no overrides"
                where = f"The sweep's job {job} has it; no job has run."
                hint = f"{exc.hint} {where}" if exc.hint else where
                raise ConfigError(exc.key, exc.value, exc.expected, hint) from None
