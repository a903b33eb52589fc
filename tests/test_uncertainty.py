"""Conclusions over the fit: patterns under the fitted uncertainty, study jobs whose runs
draw their parameters from a fit, and the comparison report on such runs."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from alignment_sim import default_config, paths
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet, locate_fitted
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import SimulationConfig
from alignment_sim.report.command import compare, write_report
from alignment_sim.report.inputs import CompareError
from alignment_sim.report.stats import bootstrap_means
from alignment_sim.studies import patterns, robustness
from alignment_sim.studies.discover import read_design
from alignment_sim.studies.points import config_for_point
from alignment_sim.studies.replications import (
    DRAWS_FILE,
    run_study,
)

FIT = "post_soviet_1991_2010"
DRAWS, RUNS, TICKS = 3, 5, 4
"""Five runs on three draws: runs 3 and 4 take draws 0 and 1 again."""
NOTE = (
    f"Runs draw their parameters from the fit {FIT} ({DRAWS} draws): intervals include "
    "parameter uncertainty"
)


def sampled_config(
    scenario: str, seed: int = 0, fit: str = FIT, sample: bool = True
) -> SimulationConfig:
    """A small study job's configuration with the fitted set's mode applied."""
    config = FittedSet.load(fit).apply(default_config(scenario=scenario, ticks=TICKS))
    config.seed, config.replications = seed, RUNS
    config.estimation.draws = DRAWS
    config.estimation.sample_parameters = sample
    config.engine = dataclasses.replace(config.engine, chunk_size=2, progress=False)
    config.validate()
    return config


def study(folder: Path, scenario: str, seed: int = 0, fit: str = FIT, sample: bool = True) -> Path:
    run_study(sampled_config(scenario, seed, fit, sample), folder, {"scenario": scenario})
    return folder


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sampled jobs: baseline and recession on seed 0, baseline on seed 100."""
    root = tmp_path_factory.mktemp("uncertainty")
    study(root / "baseline", "baseline")
    study(root / "recession", "russia_recession")
    study(root / "baseline_100", "baseline", seed=100)
    return root


# --- patterns under the fit ----------------------------------------------------------------


def test_patterns_under_the_fit_are_probabilities_of_the_draws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--fit", FIT, "--points", "3", "--seeds", "2", "--first-seed", "7"]
    robustness.main([*args, "--out", str(tmp_path)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    table = pd.read_csv(tmp_path / "points.csv")
    ids = list(patterns.PATTERNS)
    assert summary["fit"] == FIT and list(table["point"]) == [0, 1, 2]
    assert all(0.0 <= summary["holds"][i] <= 1.0 for i in ids)
    assert summary["holds"] == {i: float(table[f"pattern_{i}"].mean()) for i in ids}
    fitted = FittedSet.load(FIT)
    for path, values in fitted.draws(3, seed=0).items():  # --sampler-seed 0 seeds the draws
        np.testing.assert_array_equal(table[path], values)
    reference = pd.read_csv(tmp_path / "reference.csv").set_index("at")
    assert list(reference.index) == ["hand-set point", "fitted mode"]
    defaults = default_config()
    for path, value in fitted.values.items():
        assert reference.loc["fitted mode", path] == pytest.approx(value, rel=1e-15)
        hand = float(paths.get_value(defaults, path))
        assert reference.loc["hand-set point", path] == pytest.approx(hand, rel=1e-15)
    for i in ids:
        assert summary["at_mode"][i] == reference.loc["fitted mode", f"pattern_{i}"]
        assert summary["hand_set"][i] == reference.loc["hand-set point", f"pattern_{i}"]
    report = (tmp_path / "robustness.md").read_text()
    assert report.startswith("# Patterns under the fitted uncertainty")
    for i in ids:
        low, high = summary["holds_interval"][i]
        assert f" | {summary['holds'][i]:.3f} | [{low:.2f}, {high:.2f}] | >= 0.8 |" in report
    meta = json.loads((tmp_path / "manifest.json").read_text())
    assert meta["study"] == robustness.STUDY and meta["fit"] == FIT and meta["seed"] == 7
    assert meta["varied"] == list(fitted.draws(3, seed=0)) and meta["draw_seed"] == 0
    mode = fitted.apply(defaults)  # the configuration the draws vary around
    assert meta["config"]["decision"]["rationality"] == mode.decision.rationality
    assert sorted(meta["files"]) == sorted(robustness.FIT_FILES)
    # the draws read as a design, for scenario discovery over the fitted uncertainty
    assert read_design(tmp_path).per_point.startswith("each draw of the fit's measures")


@pytest.mark.slow
def test_patterns_under_the_fit_are_reproducible(tmp_path: Path) -> None:
    first = robustness.run_under_fit(FIT, points=3, seeds=2, out=tmp_path, progress=False)
    again = robustness.run_under_fit(FIT, points=3, seeds=2, progress=False)
    assert again.table.to_csv(index=False) == (tmp_path / "points.csv").read_text()
    assert again.reference.to_csv(index=False) == (tmp_path / "reference.csv").read_text()
    assert again.markdown == first.markdown


@pytest.mark.slow
def test_the_hand_set_point_and_the_mode_measure_as_plain_runs() -> None:
    """Per-run values on the fitted inputs: the defaults measure exactly as the pattern
    table's runs, the mode as plain runs of the fitted configurations."""
    fitted = FittedSet.load(FIT)
    block = patterns.SeedBlock(first=3, seeds=2)
    seeds = np.arange(3, 5)
    inputs = robustness.fitted_inputs(block, fitted)
    defaults = default_config()
    values = {
        path: np.array([float(paths.get_value(defaults, path)), mode])
        for path, mode in fitted.values.items()
    }
    hand_set, at_mode = robustness.evaluate_group(inputs, values, seeds)
    assert hand_set == patterns.measure_all(patterns.simulated(block))
    plain = patterns.measure_all(
        lambda name: run_batch(inputs[name], seeds, record=patterns.VARIANTS[name].record)
    )
    assert at_mode == plain


# --- study jobs on posterior draws ---------------------------------------------------------


def draws_of(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / DRAWS_FILE)


def test_runs_take_draw_r_mod_draws_shared_by_scenarios_of_one_seed(jobs: Path) -> None:
    base, recession, other = (draws_of(jobs / n) for n in ("baseline", "recession", "baseline_100"))
    pd.testing.assert_frame_equal(base, recession)
    assert list(base["seed"]) == list(range(RUNS)) and list(base["draw"]) == [0, 1, 2, 0, 1]
    assert list(other["seed"]) == list(range(100, 100 + RUNS))
    assert list(other["draw"]) == list(base["draw"])
    fitted = FittedSet.load(FIT)
    for frame, seed in ((base, 0), (other, 100)):
        for path, values in fitted.draws(DRAWS, seed=seed).items():
            np.testing.assert_array_equal(frame[path], values[frame["draw"]])
    paths = list(fitted.values)
    assert not np.isclose(base[paths].to_numpy(), other[paths].to_numpy()).all(axis=1).any()
    manifest = json.loads((jobs / "baseline" / "manifest.json").read_text())
    described = manifest["parameter_draws"]
    assert described["fit"] == FIT and described["draws"] == DRAWS and described["seed"] == 0
    assert described["paths"] == paths and described["held"] == []
    assert DRAWS_FILE in manifest["files"]
    runs = pd.read_parquet(jobs / "baseline" / "runs.parquet")  # unchanged: no draw columns
    assert "draw" not in runs.columns and not set(paths) & set(runs.columns)


def test_a_sampled_run_equals_a_plain_run_of_its_draw(jobs: Path) -> None:
    """Bit-identity: run r of the job equals the plain configuration of draw r mod draws."""
    config = sampled_config("baseline")
    table = draws_of(jobs / "baseline")
    ticks = pd.read_parquet(jobs / "baseline" / "ticks.parquet")
    states = config.region.state_names
    paths = list(FittedSet.load(FIT).values)
    for row in table.itertuples(index=False):
        seed = int(row.seed)
        values = {path: float(table.loc[table["seed"] == seed, path].iloc[0]) for path in paths}
        point = config_for_point(config, values)
        plain = run_batch(RunInputs.from_config(point), [seed], record="minimal")
        options = np.array(plain.inputs.world.options)
        expected = options[plain.alignment[0]]  # (T + 1, N) profile names
        got = ticks[ticks["seed"] == seed].sort_values("tick")[states].astype(str).to_numpy()
        np.testing.assert_array_equal(got, expected)


def test_a_parameter_set_on_the_command_line_is_held(tmp_path: Path) -> None:
    config = sampled_config("baseline")
    config.weights.trade = 3.0
    run_study(config, tmp_path, {"scenario": "baseline", "weights.trade": "3.0"})
    drawn = draws_of(tmp_path)
    assert "weights.trade" not in drawn.columns and "weights.protection" in drawn.columns
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["parameter_draws"]["held"] == ["weights.trade"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fit": None}, "set fit=NAME"),
        ({"design": "lhs"}, "false in a design"),
        ({"replications": 1}, "a study job"),
        ({"task": "forecast"}, "false for task=forecast"),
    ],
)
def test_sampling_is_refused_where_it_cannot_apply(change: dict, expected: str) -> None:
    config = sampled_config("baseline")
    if "fit" in change:
        config.fit = None
    if "design" in change:
        config.design.method = change["design"]
        config.design.parameters = {"weights.trade": [1.0, 3.0]}
    if "replications" in change:
        config.replications = 1
    if "task" in change:
        config.task = change["task"]
    with pytest.raises(ConfigError, match=r"estimation\.sample_parameters") as info:
        config.validate()
    assert expected in str(info.value)


def test_a_study_without_a_fit_is_refused_before_it_runs(tmp_path: Path) -> None:
    config = sampled_config("baseline")
    config.fit = None
    with pytest.raises(ConfigError, match="set fit=NAME"):
        run_study(config, tmp_path / "job", {})
    assert not (tmp_path / "job").exists()
    sampled_config("baseline", sample=False).validate()  # off: nothing to refuse


# --- the comparison report -----------------------------------------------------------------


def test_cluster_bootstrap_resamples_whole_draws() -> None:
    """Rows equal within each of k equal clusters: the cluster bootstrap of the rows is the
    plain bootstrap of the k cluster values, resample for resample."""
    values = np.array([[1.0, 5.0], [2.0, -1.0], [4.0, 0.5]])
    rows = np.repeat(values, 4, axis=0)
    clusters = np.repeat(np.array(["a", "b", "c"], dtype=object), 4)
    (by_cluster,) = bootstrap_means([rows], 300, np.random.default_rng(5), clusters)
    (plain,) = bootstrap_means([values], 300, np.random.default_rng(5))
    np.testing.assert_allclose(by_cluster, plain, rtol=0, atol=1e-12)


def test_the_report_says_its_intervals_include_parameter_uncertainty(
    jobs: Path, tmp_path: Path
) -> None:
    comparison = compare([jobs / "baseline", jobs / "recession"], n_boot=200)
    assert comparison.uncertainty.startswith(NOTE)
    page = write_report(comparison, tmp_path / "report").html.read_text()
    assert page.count(NOTE) == 2  # the introduction and the effects section
    assert comparison.tables["effects"]["paired"].all()


def test_the_report_without_draws_has_no_note(tmp_path: Path) -> None:
    for scenario in ("baseline", "russia_recession"):
        study(tmp_path / scenario, scenario, sample=False)
    assert compare([tmp_path], n_boot=200).uncertainty == ""


def test_compare_refuses_to_mix_sampled_and_plain_runs(jobs: Path, tmp_path: Path) -> None:
    plain = study(tmp_path / "recession", "russia_recession", sample=False)
    with pytest.raises(CompareError, match="own parameter values but the baseline 'scenario=b"):
        compare([jobs / "baseline", plain], n_boot=200)


def test_compare_refuses_runs_of_another_fitted_set(jobs: Path, tmp_path: Path) -> None:
    fitted = FittedSet.load(FIT)
    other = dataclasses.replace(fitted, name="other_fit", covariance=fitted.covariance * 0.5)
    other.write(tmp_path / "fitted.yaml")
    folder = study(tmp_path / "recession", "russia_recession", fit=str(tmp_path / "fitted.yaml"))
    with pytest.raises(CompareError, match="on draws of the fitted set other_fit"):
        compare([jobs / "baseline", folder], n_boot=200)
    same_name = dataclasses.replace(fitted, covariance=fitted.covariance * 0.5)
    same_name.write(tmp_path / "again.yaml")
    folder = study(tmp_path / "recession_2", "russia_recession", fit=str(tmp_path / "again.yaml"))
    with pytest.raises(CompareError, match="on another version of that set"):
        compare([jobs / "baseline", folder], n_boot=200)


# --- the command line, end to end (slow) ---------------------------------------------------

COMPARE = [sys.executable, "-c", "from alignment_sim.report.command import main; main()"]


@pytest.mark.slow
def test_a_sweep_with_sampled_parameters_and_its_comparison(tmp_path: Path) -> None:
    sweep = [
        "-m",
        "scenario=baseline,russia_recession",
        "replications=12",
        "ticks=8",
        f"fit={FIT}",
        "estimation.sample_parameters=true",
        "estimation.draws=4",
        "study=u",
    ]
    done = run_cli(sweep, tmp_path, 600)
    assert done.returncode == 0, done.stderr
    folders = sorted((tmp_path / "results" / "sweeps" / "u").glob("*scenario=*"))
    assert len(folders) == 2
    first, second = (draws_of(f) for f in folders)
    pd.testing.assert_frame_equal(first, second)
    assert list(first["draw"]) == [r % 4 for r in range(12)]
    out = tmp_path / "report"
    shown = subprocess.run(
        [*COMPARE, str(tmp_path / "results" / "sweeps" / "u"), "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    assert (
        f"the fit {FIT} (4 draws): intervals include parameter uncertainty"
        in (out / "report.html").read_text()
    )


def test_a_study_of_ones_own_fit_never_replaces_the_packaged_sets(tmp_path: Path) -> None:
    """Every fit of 1991-2010 is named post_soviet_1991_2010: a study under a fit loaded
    from a file goes by the fit's folder (or the file), not by that shared name."""
    packaged = FittedSet.load("post_soviet_1991_2010")
    assert robustness.fit_folder(packaged).name == "fit_post_soviet_1991_2010"
    own = tmp_path / "2026-12-04_fit profiles"
    own.mkdir()
    (own / "fitted.yaml").write_text(locate_fitted("post_soviet_1991_2010").read_text())
    for given in (own, own / "fitted.yaml"):
        loaded = FittedSet.load(given)
        assert loaded.name == packaged.name
        assert robustness.fit_folder(loaded).name == "fit_2026-12-04_fit_profiles"
    (tmp_path / "mine.yaml").write_text((own / "fitted.yaml").read_text())
    assert robustness.fit_folder(FittedSet.load(tmp_path / "mine.yaml")).name == "fit_mine"


def test_a_sampled_job_is_run_again_from_its_manifest_as_the_readme_says(
    jobs: Path, tmp_path: Path
) -> None:
    """The README's "run it again from its record": for a job whose runs drew their
    parameters, run_study on the manifest's configuration gives its runs again, each with
    its draw (run_batch would run every seed at the mode)."""
    from alignment_sim import config_from_manifest

    config = config_from_manifest(jobs / "baseline")
    assert config.estimation.sample_parameters
    run_study(config, tmp_path / "again", {"scenario": "baseline"})
    for name in ("runs.parquet", "draws.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "again" / name), pd.read_parquet(jobs / "baseline" / name)
        )
