"""The alignment-sim command end to end, and its bad-input behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import run_cli


def test_default_run_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli(["ticks=12", "seed=4", f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 0, result.stderr
    for name in (
        "trajectory.parquet",
        "blocs.parquet",
        "labels.parquet",
        "summary.json",
        "manifest.json",
        "trajectory.png",
    ):
        assert (out / name).is_file(), name
    trajectory = pd.read_parquet(out / "trajectory.parquet")
    assert len(trajectory) == 13 * 11
    columns = {"alignment", "security", "economy", "label", "utility_security_none"}
    columns |= {"utility_economy_china", "protection_security_west", "trade_economy_open"}
    assert columns <= set(trajectory)
    assert set(trajectory.label) <= {"russia", "china", "west", "hedge"}
    assert (trajectory.alignment == trajectory.security + "/" + trajectory.economy).all()
    labels = pd.read_parquet(out / "labels.parquet")
    assert list(labels.columns) == ["seed", "state", "year", "label", "profile"]
    assert len(labels) == 3 * 11  # 12 quarterly ticks from 2015: 2015, 2016, 2017
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["config"]["ticks"] == 12
    assert manifest["overrides"] == ["ticks=12", "seed=4"]
    assert "Where each state ended" in result.stdout and str(out) in result.stdout
    assert "Final shares by record label: russia" in result.stdout


def test_default_output_folder_is_under_results(tmp_path: Path) -> None:
    result = run_cli(["ticks=2", "output.plots=false"], tmp_path)
    assert result.returncode == 0, result.stderr
    runs = list((tmp_path / "results" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ticks=0"], "ticks"),
        (["region.poles.0.budget_bn_usd=-1"], "budget_bn_usd"),
        (["region.states.0.threat_exposure=1.5"], "threat_exposure"),
        (["region.affinities.0.a=atlantis"], "atlantis"),
        (["region.attributes_file=/nonexistent.csv"], "attributes_file"),
        (["nonsense_key=3"], "nonsense_key: not a setting of the configuration"),
        (["weights.trdae=2"], "weights.trdae: not a setting of the configuration (docs/MODEL.md"),
        (["decision.rationalty=2"], "Closest: decision.rationality."),
        (["ticks=2.5"], "ticks = 2.5: expected a whole number."),
        (["seed=abc"], "seed = 'abc': expected a whole number."),
        (["weights.trade=abc"], "weights.trade = 'abc': expected a number."),
        (["region=atlantis"], "atlantis"),
        (["scenario=russia_recesion"], "russia_recession"),  # Hydra lists the presets
        (["ticks=[1"], "override_grammar"),
        (  # a new key of a mapping: Hydra's '+' is the way, and the message says so
            ["experiment=fit", "estimation.priors={decision.rationality: 0.1}"],
            "'+estimation.priors={decision.rationality: VALUE}'",
        ),
    ],
)
def test_bad_input_fails_cleanly(tmp_path: Path, args: list[str], needle: str) -> None:
    """Bad input exits 2 before anything is written, naming the key; Hydra's refusals too
    (a key the schema lacks in one line with the closest keys, never Hydra's advice to
    append it with '+')."""
    out = tmp_path / "bad"
    result = run_cli([*args, f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "To append to your config" not in result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    "overrides",
    [
        ["weights.trade=2"],
        ["scenario=history", "origin=2000", "to=2003", "replications=5"],
        ["experiment=fit"],
        ["experiment=sobol", "design.samples=16"],
        ["region.states.0.autonomy=0.3", "decision=best_response", "seed=7"],
        ["fit=post_soviet_1991_2010", "scenario=russia_recession"],
    ],
)
def test_the_composed_config_becomes_the_same_dataclasses_as_merged_on_the_schema(
    overrides: list[str],
) -> None:
    """``to_config``'s direct conversion of a config composed on the schema gives what
    merging it onto the schema again gave, the configuration a job runs."""
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from alignment_sim.cli.main import to_config
    from alignment_sim.model.params import SimulationConfig

    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    assert OmegaConf.get_type(cfg) is SimulationConfig  # the direct path is taken
    merged = OmegaConf.merge(OmegaConf.structured(SimulationConfig), OmegaConf.to_container(cfg))
    assert to_config(cfg) == OmegaConf.to_object(merged)
