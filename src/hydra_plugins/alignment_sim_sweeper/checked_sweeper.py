"""``CheckedSweeper``: Hydra's basic sweeper with every job's configuration validated
before the first job is launched (the package's docstring says why). No ``from __future__
import annotations``: Hydra imports plugins outside ``sys.modules``, where a dataclass's
string annotations cannot be resolved."""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore

from alignment_sim.errors import ConfigError


@dataclass
class CheckedSweeperConf:
    """The sweeper's settings: those of Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.alignment_sim_sweeper.checked_sweeper.CheckedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf)


class CheckedSweeper(BasicSweeper):
    """Hydra's basic sweeper; its check of a batch also checks each job's configuration as
    the job would (``alignment_sim.cli.main.check_job``) and raises the first
    ``ConfigError``, naming the job's overrides, before any job of the batch runs."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        from alignment_sim.cli.main import check_job, shown_overrides

        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        if len(batch) > 1:
            print(f"[alignment-sim] checking the configurations of {len(batch)} jobs", flush=True)
        for overrides in batch:
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
