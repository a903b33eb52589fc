"""Forecasts from any origin (estimation.forecast): draws x seeds runs of the history world,
scored by alignment-sim-score, equal to plain runs of each draw's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet, locate_fitted
from alignment_sim.estimation.forecast import check_origin, draw_table, run_forecast
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams, EstimationSpec, SimulationConfig
from alignment_sim.outputs.files import job_status, sha256
from alignment_sim.report.record import PACKAGED_RECORD
from alignment_sim.report.score import main as score_main
from alignment_sim.studies import outcomes
from alignment_sim.studies.outcomes import LABEL_COLUMNS
from alignment_sim.studies.points import config_for_point

PACKAGED = "post_soviet_1991_2010"
DRAWS, SEEDS = 3, 2


def forecast_config(**changes: object) -> SimulationConfig:
    """A short forecast with the packaged fit: from the end of 2006 (its origin, the last
    year known) to the end of 2008, 3 draws x 2 seeds."""
    settings: dict[str, object] = {
        "scenario": "history",
        "origin": 2006,
        "to": 2008,
        "replications": SEEDS,
        "seed": 5,
        "fit": PACKAGED,
        "estimation": EstimationSpec(draws=DRAWS),
        "engine": EngineParams(progress=False),
    }
    settings.update(changes)
    config = default_config(**settings)  # type: ignore[arg-type]
    return FittedSet.load(PACKAGED).apply(config) if config.fit == PACKAGED else config


def plain_labels(config: SimulationConfig, seed: int) -> pd.DataFrame:
    """One engine run of ``config``, as a study job's labels."""
    result = run_batch(RunInputs.from_config(config), [seed], record="minimal", progress=False)
    return outcomes.world_labels(result.alignment, result.seeds, result.inputs.world, config.region)


def draw_values(draws: pd.DataFrame, draw: int) -> dict[str, float]:
    """One row of draws.csv: path -> value."""
    row = draws.set_index("draw").loc[draw]
    return {str(path): float(value) for path, value in row.to_dict().items()}


def test_labels_hold_draws_x_seeds_runs_and_the_score_command_reads_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "forecast"
    said: list[str] = []
    forecast = run_forecast(forecast_config(), folder, progress=said.append)
    labels = pd.read_parquet(folder / "labels.parquet")
    assert list(labels.columns) == ["draw", *LABEL_COLUMNS]
    pd.testing.assert_frame_equal(labels, forecast.labels)
    assert sorted(set(labels["year"])) == [2007, 2008]  # the years after the origin
    assert (labels.groupby(["state", "year"]).size() == DRAWS * SEEDS).all()
    runs = set(zip(labels["draw"], labels["seed"], strict=True))
    assert runs == {(d, s) for d in range(DRAWS) for s in (5, 6)}
    assert job_status(folder).complete
    recorded = json.loads((folder / "manifest.json").read_text())
    assert recorded["fit_sha256"] == sha256(locate_fitted(recorded["fit"]))  # the set it drew
    assert (folder / "bands.png").read_bytes().startswith(b"\x89PNG")
    assert "6 runs" in said[0] and len(said) == 2
    summary = json.loads((folder / "forecast.json").read_text())
    assert (summary["origin"], summary["to"], summary["draws"], summary["seeds"]) == (
        2006,
        2008,
        DRAWS,
        [5, 6],
    )
    assert summary["fit"]["name"] == PACKAGED and summary["fit"]["provenance"]["window"]
    assert summary["start"] == "the record's configuration at the end of 2006"
    assert summary["conditional_on"].startswith("the events scenario history dates in 2007-2008")
    last = labels[labels.year == 2008]
    for state, probabilities in summary["last_year"].items():
        assert sum(probabilities.values()) == pytest.approx(1.0)
        share = (last[last.state == state].label == "russia").mean()
        assert probabilities["russia"] == pytest.approx(share)

    out = tmp_path / "scores"
    score_main([str(folder), "--record", str(PACKAGED_RECORD), "--out", str(out)])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["n_runs"] == DRAWS * SEEDS and line["n_state_years"] == 11 * 2
    assert (line["origin"], line["from"], line["to"]) == (2006, 2007, 2008)
    model = pd.read_csv(out / "forecasts.csv").query("forecaster == 'model'")
    belarus = labels[(labels.state == "Belarus") & (labels.year == 2008)]
    row = model[(model.state == "Belarus") & (model.year == 2008)].iloc[0]
    assert row["p_russia"] == pytest.approx((belarus.label == "russia").mean())


def test_the_same_configuration_and_seed_give_the_same_files(tmp_path: Path) -> None:
    config = forecast_config()
    first = run_forecast(config, tmp_path / "a")
    second = run_forecast(config, tmp_path / "b")
    pd.testing.assert_frame_equal(first.labels, second.labels)
    for name in ("draws.csv", "forecast.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_draws_differ_from_draw_to_draw_and_depend_on_the_seed_alone() -> None:
    fitted = FittedSet.load(PACKAGED)
    table = draw_table(forecast_config(estimation=EstimationSpec(draws=5)), fitted)
    assert list(table["draw"]) == [0, 1, 2, 3, 4]
    values = table.drop(columns="draw")
    assert list(values.columns) == [p.path for p in fitted.parameters]
    assert len(values.drop_duplicates()) == 5
    for path, column in fitted.draws(5, seed=5).items():
        np.testing.assert_array_equal(table[path].to_numpy(), column)
    longer = forecast_config(estimation=EstimationSpec(draws=5), to=2010)
    pd.testing.assert_frame_equal(draw_table(longer, fitted), table)  # the seed alone
    other = draw_table(forecast_config(estimation=EstimationSpec(draws=5), seed=6), fitted)
    assert not np.allclose(other.drop(columns="draw"), values)


def test_a_draw_runs_as_a_plain_run_of_its_configuration(tmp_path: Path) -> None:
    """Bit-identity: a forecast's (draw, seed) run equals the engine's and the Mesa model's
    run of the configuration holding that draw's values."""
    config = forecast_config()
    forecast = run_forecast(config, tmp_path / "f")
    draw, seed = 2, 6
    values = draw_values(forecast.draws, draw)
    point = config_for_point(config, values)
    ours = forecast.labels.query("draw == @draw and seed == @seed").drop(columns="draw")
    expected = plain_labels(point, seed)
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), expected)
    mesa = AlignmentModel(point, seed=seed).run()
    world = RunInputs.from_config(point).world
    from_mesa = outcomes.world_labels(mesa.alignment, np.array([seed]), world, point.region)
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), from_mesa)


def test_without_a_fit_one_draw_of_the_configuration(tmp_path: Path) -> None:
    config = forecast_config(fit=None)
    forecast = run_forecast(config, tmp_path / "f")
    assert set(forecast.labels["draw"]) == {0} and forecast.summary["fit"] is None
    expected = plain_labels(config, 6)
    ours = forecast.labels.query("seed == 6").drop(columns="draw").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, expected)


def test_a_parameter_set_on_the_command_line_is_held_in_every_draw(tmp_path: Path) -> None:
    config = forecast_config()
    config = config_for_point(config, {"decision.rationality": 3.0})
    overrides = ["experiment=forecast", "decision.rationality=3", "seed=5"]
    forecast = run_forecast(config, tmp_path / "f", extra={"overrides": overrides})
    assert "decision.rationality" not in forecast.draws.columns
    assert "dynamics.switching_cost" in forecast.draws.columns
    assert forecast.summary["fit"]["held"] == {"decision.rationality": 3.0}
    values = draw_values(forecast.draws, 0)
    expected = plain_labels(config_for_point(config, values), 5)
    ours = forecast.labels.query("draw == 0 and seed == 5").drop(columns="draw")
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), expected)


def test_bad_input_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"fit = 'unknown_name'.*packaged fitted set"):
        run_forecast(forecast_config(fit="unknown_name"), tmp_path / "a")
    with pytest.raises(ConfigError, match=r"origin = 2024: expected a year from 1991 to 2023"):
        default_config(scenario="history", origin=2024)  # its run would start in 2025
    with pytest.raises(ConfigError, match="to = 2030"):
        default_config(scenario="history", origin=2010, to=2030)
    with pytest.raises(ConfigError, match=r"to = 2010: expected a year from the start \(2011\)"):
        default_config(scenario="history", origin=2010, to=2010)
    with pytest.raises(ConfigError, match="origin = None: expected the forecast's origin"):
        check_origin(default_config(scenario="history"))
    data = FittedSet.load(PACKAGED).to_dict()
    data["free"][0]["path"] = "region.states.atlantis.autonomy"
    bad = tmp_path / "fitted.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="atlantis"):
        run_forecast(forecast_config(fit=str(bad)), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_command_refuses_an_unknown_fitted_set_in_one_line(tmp_path: Path) -> None:
    done = run_cli(["experiment=forecast", "fit=unknown_name"], tmp_path)
    assert done.returncode == 2
    assert "fit = 'unknown_name'" in done.stderr and "Traceback" not in done.stderr
    assert not list((tmp_path / "results").rglob("*.parquet"))


@pytest.mark.slow
def test_the_command_as_typed_writes_a_forecast_folder(tmp_path: Path) -> None:
    done = run_cli(
        ["experiment=forecast", "origin=2010", "to=2024", "estimation.draws=5"], tmp_path, 300
    )
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "results" / "forecasts").iterdir()
    assert folder.name.split("_")[2:4] == ["2010", "2024"]
    labels = pd.read_parquet(folder / "labels.parquet")
    assert (labels.groupby(["state", "year"]).size() == 5 * 4).all()
    assert sorted(set(labels.year)) == list(range(2011, 2025))  # from the end of 2010
    assert job_status(folder).complete


def test_a_forecast_from_past_the_records_end_says_where_it_starts(tmp_path: Path) -> None:
    """origin=2015 said "from the end of 2015" while it starts from the region's 2015
    entries, the record's 2010 configuration, without the shocks of 2011-2015."""
    config = default_config(scenario="history", origin=2015, to=2016, replications=2, fit=None)
    said: list[str] = []
    forecast = run_forecast(config, tmp_path / "f", progress=said.append)
    assert "the shocks of 2011-2015 are not played" in forecast.summary["start"]
    assert any("the record ends in 2010" in line for line in said)
