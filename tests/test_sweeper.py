"""The checked sweeper (``hydra_plugins.alignment_sim_sweeper``): the configuration it
checks for each job is the one Hydra composes for that job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli
from hydra import initialize_config_module
from hydra._internal.callbacks import Callbacks
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, RunMode
from omegaconf import OmegaConf

from hydra_plugins.alignment_sim_sweeper.checked_sweeper import CheckedSweeper


@pytest.mark.parametrize(
    ("arguments", "composings"),
    [
        (["weights.trade=0.5,1,2", "ticks=8"], 1),
        (["scenario=baseline,russia_recession", "weights.trade=1,2", "decision=best_response"], 2),
        (["experiment=sobol", "design.samples=16,32", "region.states.0.autonomy=0.3"], 1),
        (["fit=post_soviet_1991_2010,null", "+estimation.priors={weights.trade: 0.3}"], 1),
        (["scenario=history", "origin=2000,2005", "to=2010"], 1),
        (["decision=logit,best_response", "scenario=baseline,colour_revolution"], 4),
    ],
)
def test_each_jobs_checked_configuration_is_the_one_hydra_composes(
    arguments: list[str], composings: int
) -> None:
    """Group overrides composed once per choice, value overrides applied to a copy: every
    job's configuration equals Hydra's own composing of it, its hydra node (the job's
    overrides, its folder's name) included, with the composings shared across the
    sweep's jobs."""
    assert_checked_as_composed(arguments, composings)


def test_a_group_of_a_folder_on_hydras_searchpath_is_a_group(tmp_path: Path) -> None:
    """A config group only ``hydra.searchpath`` adds (a user's ``weights/strong.yaml``)
    is composed as Hydra composes it, not applied as a value (which Hydra refuses: an
    item is already at 'weights')."""
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "strong.yaml").write_text("trade: 0.7\n")
    searchpath = f"hydra.searchpath=[file://{tmp_path}]"
    assert_checked_as_composed([searchpath, "+weights=strong", "ticks=4,8"], 1)


def assert_checked_as_composed(arguments: list[str], composings: int) -> None:
    """Every job of the sweep ``arguments``: its checked configuration is Hydra's own."""
    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", arguments, RunMode.MULTIRUN)
        context = HydraContext(config_loader=loader, callbacks=Callbacks())
        sweeper = Plugins.instance().instantiate_sweeper(
            config=master, hydra_context=context, task_function=lambda _: None
        )
        assert type(sweeper).__name__ == CheckedSweeper.__name__  # the configured sweeper
        parser = OverridesParser.create(config_loader=loader)
        task = list(master.hydra.overrides.task)  # as Hydra hands the sweeper its jobs
        batches = sweeper.split_arguments(parser.parse_overrides(task), None)
        jobs = [list(job) for batch in batches for job in batch]
        assert len(jobs) >= 2
        shared: dict = {}
        for job in jobs:
            hydra_own = OmegaConf.to_container(loader.load_sweep_config(master, job))
            assert OmegaConf.to_container(sweeper.job_config(job, shared)) == hydra_own, job
        assert len(shared) == composings  # one per choice of the config groups


def test_a_job_hydra_cannot_compose_is_refused_in_one_line_before_any_runs(
    tmp_path: Path,
) -> None:
    """A folder on the search path that makes ``ticks`` a config group: ``ticks=20`` is
    then a group choice Hydra cannot compose (a number), for every job; the check says so
    in one line naming the job, and the sweep's folder is never made."""
    (tmp_path / "conf" / "ticks").mkdir(parents=True)
    (tmp_path / "conf" / "ticks" / "short.yaml").write_text("# a group named ticks\n")
    args = ["-m", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "ticks=20,24", "study=s"]
    result = run_cli([*args, "replications=2"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "Config group override must be a string or a list" in result.stderr
    assert "The sweep's job ticks=20,study=s,replications=2 has it; no job has run." in (
        result.stderr
    )
    assert not (tmp_path / "results" / "sweeps" / "s").exists()


def test_a_sweep_whose_seed_is_the_jobs_number_is_checked_and_runs(tmp_path: Path) -> None:
    """``seed=${hydra:job.num}`` (Hydra's idiom for a seed per job) resolves in the check
    as in the job: each job runs with its own number as its seed."""
    args = ["-m", "seed=${hydra:job.num}", "scenario=baseline,russia_recession", "ticks=4"]
    result = run_cli([*args, "study=numbered"], tmp_path)
    assert result.returncode == 0, result.stderr
    folders = sorted((tmp_path / "results" / "sweeps" / "numbered").glob("scenario=*"))
    manifests = [json.loads((f / "manifest.json").read_text()) for f in folders]
    seeds = {m["config"]["scenario"]["name"]: m["seed"] for m in manifests}
    assert seeds == {"baseline": 0, "russia_recession": 1}
