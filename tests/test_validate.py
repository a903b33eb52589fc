"""Validation inside the record (estimation.validate): the baselines by hand, bad input,
and (slow) a whole validation on a short window, checked against alignment-sim-score."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, run_cli

from alignment_sim import default_config
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.histories import Histories, read_histories
from alignment_sim.estimation.likelihood import ConditionalLikelihood
from alignment_sim.estimation.validate import (
    FORECASTERS,
    goal,
    run_validation,
    sticky_matrix,
    summary_markdown,
)
from alignment_sim.model.params import EngineParams, EstimationSpec, SimulationConfig
from alignment_sim.outputs.files import job_status
from alignment_sim.report.record import LABELS, PACKAGED_RECORD
from alignment_sim.report.score import DEFAULT_FLOOR
from alignment_sim.report.score import main as score_main

R, C, W, H = range(4)
assert LABELS == ("russia", "china", "west", "hedge")
SMALL = EstimationSpec(
    window=[2005, 2008],
    parameters=["decision.rationality", "dynamics.switching_cost"],
    draws=3,
    min_switches=0,
)


def validation_config(**changes: Any) -> SimulationConfig:
    settings: dict[str, Any] = {
        "scenario": "history",
        "replications": 2,
        "seed": 1,
        "task": "validate",
        "estimation": SMALL,
        "engine": EngineParams(progress=False),
    }
    settings.update(changes)
    return default_config(**settings)


def test_sticky_base_rate_of_the_other_states_by_hand() -> None:
    labels = np.array([[[R, H], [R, H], [R, W], [W, W], [W, W]]])  # (1 history, 5 years, 2)
    histories = Histories(np.arange(2001, 2006), labels, labels, "hand")
    matrix = sticky_matrix(histories, np.array([True, False]), LABELS)
    # the first state alone: 3 stays, 1 move (to west) -> stay 0.75, every move to west
    np.testing.assert_allclose(matrix[R], [0.75, 0.0, 0.25, 0.0])
    np.testing.assert_allclose(matrix[W], [0.25 / 3, 0.25 / 3, 0.75, 0.25 / 3])
    both = sticky_matrix(histories, np.array([True, True]), LABELS)
    # both states: 6 stays, 2 moves, both to west
    np.testing.assert_allclose(both[H], [0.0, 0.0, 0.25, 0.75])


def test_the_goal_reads_brier_lower_and_log_score_higher() -> None:
    scores = {
        "model_fit": {"brier": 0.2, "log_score": -0.5, "accuracy": 0.9},
        "persistence": {"brier": 0.3, "log_score": -0.4, "accuracy": 0.9},
        "sticky": {"brier": 0.1, "log_score": -0.6, "accuracy": 0.9},
    }
    assert goal(scores) == {
        "brier_ahead_of_persistence": True,
        "log_score_ahead_of_persistence": False,
        "brier_ahead_of_sticky": False,
        "log_score_ahead_of_sticky": True,
    }


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"fit": "post_soviet_1991_2010"}, "fit", "a validation fits its own parameters"),
        ({"origin": 2002}, "origin", "forecasts from the end of estimation.window"),
        (
            {"estimation": EstimationSpec(window=[1991, 2010])},
            "estimation.window",
            "a window ending before 2010",
        ),
        (
            {"estimation": EstimationSpec(window=[1991, 2002], record="{tmp}/runs.parquet")},
            "estimation.record",
            "a record in the shared format",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(
    tmp_path: Path, changes: dict[str, Any], key: str, words: str
) -> None:
    spec = changes.get("estimation")
    if spec is not None and spec.record.startswith("{tmp}"):  # a table of runs, not a record
        runs = tmp_path / "runs.parquet"
        pd.DataFrame(
            {"seed": [0], "state": ["Belarus"], "year": [2000], "label": ["russia"]}
        ).to_parquet(runs)
        changes = {**changes, "estimation": dataclasses.replace(spec, record=str(runs))}
    with pytest.raises(ConfigError, match=words) as raised:
        run_validation(validation_config(**changes), tmp_path / "v")
    assert raised.value.key == key
    assert not (tmp_path / "v").exists()


def test_the_command_refuses_a_fitted_set_in_one_line(tmp_path: Path) -> None:
    done = run_cli(["experiment=validate", "fit=post_soviet_1991_2010"], tmp_path)
    assert done.returncode == 2
    assert "fit = 'post_soviet_1991_2010'" in done.stderr and "Traceback" not in done.stderr


# --- a whole validation (slow) -----------------------------------------------------------


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    """A validation on 2005-2008 (2 parameters, 3 draws x 2 seeds) against the packaged
    record plus fabricated rows after 2010 (every state 'china', which none ever was): a
    guard that nothing after 2010 is read."""
    root = tmp_path_factory.mktemp("validation")
    record = root / "record.csv"
    packaged = pd.read_csv(PACKAGED_RECORD)
    fabricated = pd.DataFrame(
        [(s, y, "china") for s in packaged["state"].unique() for y in (2011, 2012)],
        columns=["state", "year", "primary_alignment"],
    )
    pd.concat([packaged, fabricated]).to_csv(record, index=False)
    spec = dataclasses.replace(SMALL, record=str(record))
    said: list[str] = []
    payload = run_validation(validation_config(estimation=spec), root / "v", progress=said.append)
    assert any(line.startswith("validate 4/4") for line in said)
    return root / "v", payload, record


@pytest.mark.slow
def test_validation_writes_its_files_with_finite_numbers(
    validated: tuple[Path, dict[str, Any], Path],
) -> None:
    folder, payload, _ = validated
    assert job_status(folder).complete
    for sub in ("fit", "forecast", "forecast_draws", "forecast_defaults"):
        assert job_status(folder / sub).complete, sub
    assert json.loads((folder / "validation.json").read_text()) == json.loads(json.dumps(payload))
    test, loso = payload["out_of_sample"], payload["leave_one_state_out"]
    assert (test["origin"], test["from"], test["to"]) == (2008, 2009, 2010)
    assert test["n_state_years"] == 11 * 2
    assert loso["years"] == [2006, 2010] and loso["n_state_years"] == 11 * 5
    for table in (test["forecasters"], loso["all"], *(row for row in loso["states"])):
        for name in (n for n in FORECASTERS if n in table):
            assert all(math.isfinite(table[name][m]) for m in ("accuracy", "brier", "log_score"))
    assert set(test["forecasters"]) == set(FORECASTERS)
    labels = pd.read_parquet(folder / "forecast_draws" / "labels.parquet")
    assert (labels.groupby(["state", "year"]).size() == 3 * 2).all()
    for point in ("forecast", "forecast_defaults"):  # one point, as many runs as the draws
        runs = pd.read_parquet(folder / point / "labels.parquet")
        assert set(runs["draw"]) == {0} and set(runs["seed"]) == set(range(1, 7))
    summary = (folder / "summary.md").read_text()
    assert summary == summary_markdown(payload)
    assert "| persistence |" in summary and "| Georgia |" in summary
    fits = loso["fits"]
    assert [f["state"] for f in fits] == [row["state"] for row in loso["states"]]
    for path in loso["parameters"]:
        values = [f["estimates"][path] for f in fits]
        assert all(math.isfinite(v) for v in values)
        low, high = min(values), max(values)
        assert f"| `{path}` | {low:.3g} (" in summary and f"| {high:.3g} (" in summary


@pytest.mark.slow
def test_out_of_sample_baselines_are_alignment_sim_scores(
    validated: tuple[Path, dict[str, Any], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, payload, record = validated
    capsys.readouterr()
    window = ["--origin", "2008", "--from", "2009", "--to", "2010"]
    score_main([str(folder / "forecast"), "--record", str(record), *window, "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    line = json.loads(printed.strip().splitlines()[-1])
    # the mode's runs name the fit they are of: not "no fitted set" (its window ends at
    # the origin, so no in-sample note either)
    assert json.loads((folder / "forecast" / "manifest.json").read_text())["mode_of"]
    assert "name no fitted set" not in printed and line["in_sample_fit"] is False
    ours = payload["out_of_sample"]["forecasters"]
    for measure in ("accuracy", "brier", "log_score"):
        assert ours["model_fit"][measure] == pytest.approx(line[measure], abs=1e-6)
        assert ours["persistence"][measure] == pytest.approx(
            line[f"{measure}_persistence"], abs=1e-6
        )
        assert ours["sticky"][measure] == pytest.approx(line[f"{measure}_sticky"], abs=1e-6)


@pytest.mark.slow
def test_leave_one_state_out_scores_by_hand(
    validated: tuple[Path, dict[str, Any], Path],
) -> None:
    """Persistence: Brier 2 and accuracy 0 on a switch, 0 and 1 otherwise; the hand-set
    model's log score: the likelihood's own contributions (floored)."""
    _, payload, record = validated
    config = validation_config()
    histories = read_histories(record, config.region, (2005, 2010))
    contributions = ConditionalLikelihood.build(config, histories).contributions({})[0, 0]
    for i, row in enumerate(payload["leave_one_state_out"]["states"]):
        n, switches = row["n"], row["switches"]
        assert n == 5
        assert row["switches"] == int(
            (histories.labels[0, 1:, i] != histories.labels[0, :-1, i]).sum()
        )
        assert row["persistence"]["brier"] == pytest.approx(2 * switches / n)
        assert row["persistence"]["accuracy"] == pytest.approx(1 - switches / n)
        floored = np.maximum(contributions[:, i], math.log(DEFAULT_FLOOR))
        assert row["model_defaults"]["log_score"] == pytest.approx(floored.mean())


def test_the_summary_names_fits_that_stopped_early() -> None:
    from alignment_sim.estimation.validate import all_converged, convergence_note

    def payload(window: bool, states: dict[str, bool]) -> dict[str, Any]:
        fits = [{"state": s, "converged": c} for s, c in states.items()]
        return {"fit": {"converged": window}, "leave_one_state_out": {"fits": fits}}

    clean = convergence_note(payload(True, {"Belarus": True, "Ukraine": True}))
    assert clean == (
        "The optimiser: the window's fit converged; 2 of 2 leave-one-state-out fits converged."
    )
    stopped = convergence_note(
        payload(False, {"Belarus": True, "Ukraine": False, "Armenia": False})
    )
    assert "the window's fit stopped early (not converged)" in stopped
    assert "1 of 3 leave-one-state-out fits converged (not: Ukraine, Armenia)" in stopped
    assert all_converged(payload(True, {"Belarus": True, "Ukraine": True}))
    assert not all_converged(payload(False, {"Belarus": True}))
    assert not all_converged(payload(True, {"Belarus": True, "Ukraine": False}))


@pytest.mark.slow
def test_the_docs_validation_tables_are_the_commands(tmp_path: Path) -> None:
    """The whole default validation (``alignment-sim experiment=validate``, about 30 s on
    2 cores): its out-of-sample table and its leave-one-state-out table are the ones
    README.md ("Fit, validate, forecast") and docs/ESTIMATION.md show, row for row, and
    the leave-one-state-out fits' estimates are ESTIMATION.md's, so none can go stale as
    the model moves (at the defaults Brier 0.057 out of sample, 0.076 at the fit's mode,
    against persistence's 0.227)."""
    done = run_cli(["experiment=validate", f"hydra.run.dir={tmp_path / 'v'}"], tmp_path, 600)
    assert done.returncode == 0, done.stderr
    summary = (tmp_path / "v" / "summary.md").read_text(encoding="utf-8")
    tables = [block for block in summary.split("\n\n") if block.startswith("| forecaster |")]
    assert len(tables) == 2  # out of sample; leave one state out
    estimates = [block for block in summary.split("\n\n") if block.startswith("| parameter |")]
    assert len(estimates) == 1  # the leave-one-state-out fits' estimates: ESTIMATION.md's
    for doc, shown in (
        (ROOT / "README.md", tables),
        (ROOT / "docs" / "ESTIMATION.md", tables + estimates),
    ):
        text = doc.read_text(encoding="utf-8")
        for table in shown:
            assert table.strip() in text, f"{doc.name} does not show the command's table:\n{table}"
