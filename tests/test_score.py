"""alignment-sim-score: the scores on hand-computed cases, the baselines, the record checks."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignment_sim import default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fitted import FittedSet
from alignment_sim.model.inputs import RunInputs
from alignment_sim.outputs.files import (
    LABELS_FILE,
    STUDY_FILES,
    finish_job,
    job_manifest,
    sha256,
    write_parquet,
)
from alignment_sim.paths import with_values
from alignment_sim.report import score as score_module
from alignment_sim.report.record import (
    LABELS,
    PACKAGED_RECORD,
    fit_sticky,
    read_record,
)
from alignment_sim.report.score import (
    Ensemble,
    Window,
    main,
    reliability,
    score,
    score_arrays,
)
from alignment_sim.studies.replications import write_study_job

R, C, W, H = range(4)  # label indices in LABELS order
assert LABELS == ("russia", "china", "west", "hedge")


def write_record(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    lines = ["state,year,primary_alignment,note"]
    lines += [f"{state},{year},{label},x" for state, year, label in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def ensemble(states: list[str], years: list[int], codes: list[list[list[int]]]) -> Ensemble:
    """Runs by hand: codes[run][state][year index], label indices."""
    return Ensemble(
        folders=[Path("hand")],
        origins={Path("hand"): years[0] - 1},
        first_years={Path("hand"): years[0]},
        states=states,
        years=np.array(years),
        codes=np.array(codes, dtype=np.int8),
    )


def test_a_perfect_forecast_scores_brier_0_log_0_accuracy_1() -> None:
    observed = np.array([R, W, H, C])
    scores = score_arrays(np.eye(4)[observed], observed, 1e-3)
    np.testing.assert_array_equal(scores["brier"], 0.0)
    np.testing.assert_array_equal(scores["log_score"], 0.0)
    np.testing.assert_array_equal(scores["accuracy"], 1.0)


def test_an_even_forecast_scores_brier_three_quarters_and_log_a_quarter() -> None:
    observed = np.array([R, W, H])
    scores = score_arrays(np.full((3, 4), 0.25), observed, 1e-3)
    np.testing.assert_allclose(scores["brier"], 0.75)  # 0.75^2 + 3 * 0.25^2
    np.testing.assert_allclose(scores["log_score"], math.log(0.25))
    np.testing.assert_allclose(scores["accuracy"], 0.25)  # a four-way tie shares the credit


def test_the_log_score_floor_applies_only_below_it() -> None:
    p = np.array([[0.0, 0.0, 1.0, 0.0], [0.0005, 0.0, 0.9995, 0.0], [0.2, 0.0, 0.8, 0.0]])
    scores = score_arrays(p, np.array([R, R, R]), 1e-3)
    np.testing.assert_allclose(scores["log_score"], [math.log(1e-3), math.log(1e-3), math.log(0.2)])
    np.testing.assert_allclose(scores["brier"][0], 2.0)  # certain and wrong
    np.testing.assert_array_equal(scores["accuracy"], 0.0)


def test_reliability_bins_hold_the_forecasts_and_how_often_they_came_true() -> None:
    table = reliability(
        np.array([[0.95, 0.0, 0.05, 0.0], [0.95, 0.0, 0.05, 0.0]]), np.array([R, W])
    )
    top = table.iloc[-1]
    assert top.n == 2 and top.mean_forecast == pytest.approx(0.95)
    assert top.observed_frequency == pytest.approx(0.5)
    assert table.n.sum() == 8
    # the figure says how many probabilities each of the model's bins holds, and shows
    # the markers at 0 and 1 whole
    table = pd.concat([table.assign(forecaster=name) for name in ("model", "persistence")])
    (axes,) = score_module.reliability_figure(table).axes
    counts = sorted(int(t.get_text()) for t in axes.texts)
    assert counts == sorted(int(n) for n in table[table.forecaster == "model"].n if n > 0)
    assert axes.get_xlim()[0] < 0 < 1 < axes.get_xlim()[1]


def test_persistence_on_a_record_with_one_switch(tmp_path: Path) -> None:
    record = read_record(
        write_record(
            tmp_path / "r.csv",
            [("A", y, "russia") for y in (1999, 2000, 2001)]
            + [("A", 2002, "hedge"), ("A", 2003, "hedge")]
            + [("B", y, "west") for y in range(1999, 2004)],
        )
    )
    # four runs: A is hedge in 2 runs in 2002 and in all 4 in 2003; B is always west
    runs = ensemble(
        ["A", "B"],
        [2002, 2003],
        [[[H, H], [W, W]], [[H, H], [W, W]], [[R, H], [W, W]], [[R, H], [W, W]]],
    )
    scores = score(runs, record, Window(origin=2001, first=2002, last=2003), floor=1e-3)
    s = scores.summary
    # persistence says russia for A and west for B: A wrong twice (Brier 2), B right twice
    assert s["brier_persistence"] == pytest.approx(1.0)
    assert s["accuracy_persistence"] == pytest.approx(0.5)
    assert s["log_score_persistence"] == pytest.approx(math.log(1e-3) / 2)
    # model: A 2002 half russia half hedge (Brier 0.5, a tie: accuracy 0.5), the rest exact
    assert s["brier"] == pytest.approx(0.5 / 4)
    assert s["accuracy"] == pytest.approx((0.5 + 3) / 4)
    assert s["log_score"] == pytest.approx(math.log(0.5) / 4)
    assert s["n_state_years"] == 4 and s["n_runs"] == 4
    # no move up to 2001: the sticky chain stays put, so it is persistence
    assert s["sticky_stay_rate"] == 1.0 and s["brier_sticky"] == pytest.approx(1.0)
    switch = scores.switches.iloc[0]
    assert len(scores.switches) == 1 and (switch.state, switch.year) == ("A", 2002)
    assert (switch["from"], switch["to"]) == ("russia", "hedge")
    assert switch.p_year == 0.5 and switch.p_window == 1.0  # window 2002-2003: all hedge by 2003
    assert switch.p_year_persistence == 0.0
    by_state = scores.by_state.set_index("state")
    assert by_state.loc["A", "brier_persistence"] == pytest.approx(2.0)


def test_sticky_transition_matrix_on_a_hand_record(tmp_path: Path) -> None:
    record = read_record(
        write_record(
            tmp_path / "r.csv",
            [
                ("X", 1995, "russia"),
                ("X", 1996, "russia"),
                ("X", 1997, "hedge"),
                ("X", 1998, "hedge"),
                ("X", 1999, "china"),  # after the origin: not seen
                ("Y", 1995, "west"),
                ("Y", 1996, "west"),
                ("Y", 1997, "west"),
                ("Y", 1998, "russia"),
            ],
        )
    )
    chain = fit_sticky(record, ["X", "Y"], origin=1998)
    # 6 transitions: 4 stays; moves went once to hedge, once to russia
    assert chain.transitions == 6 and chain.stay_rate == pytest.approx(2 / 3)
    assert chain.moves_to == {"russia": 1, "china": 0, "west": 0, "hedge": 1}
    third, sixth = 1 / 3, 1 / 6
    expected = np.array(
        [
            [2 / 3, 0, 0, third],  # from russia: moves only ever went to hedge among the others
            [sixth, 2 / 3, 0, sixth],
            [sixth, 0, 2 / 3, sixth],
            [third, 0, 0, 2 / 3],
        ]
    )
    np.testing.assert_allclose(chain.matrix, expected)
    np.testing.assert_allclose(chain.forecast("hedge", 2), [4 / 9, 0, 0, 5 / 9])
    # russia at least once in the next two years from hedge: 1 - (2/3)^2
    assert chain.hit_probability("hedge", 1, 2, "russia") == pytest.approx(5 / 9)


def test_sticky_moves_spread_evenly_when_no_recorded_move_went_elsewhere(tmp_path: Path) -> None:
    record = read_record(
        write_record(tmp_path / "r.csv", [("X", 1995, "russia"), ("X", 1996, "hedge")])
    )
    chain = fit_sticky(record, ["X"], origin=1996)
    assert chain.stay_rate == 0.0
    np.testing.assert_allclose(chain.matrix[H], [1 / 3, 1 / 3, 1 / 3, 0])
    with pytest.raises(ValueError, match="no year-to-year transition"):
        fit_sticky(record, ["X"], origin=1995)


GOOD = "state,year,primary_alignment\nBelarus,2000,russia\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty file"),
        ("state,year,primary_alignment\n", "no rows"),
        ("state,year,label\nBelarus,2000,russia\n", "header.*primary_alignment"),
        (GOOD + "Belarus,2001,Russia\n", r"line 3, primary_alignment = 'Russia': expected one of"),
        (GOOD + ",2001,russia\n", r"line 3, state = '': expected a state's name"),
        (GOOD + "Atlantis,2001,russia\n", r"line 3, state = 'Atlantis'"),
        (GOOD + "Belarus,2001.5,russia\n", r"line 3, year = '2001.5': expected a whole-number"),
        (GOOD + "Belarus,,russia\n", r"line 3, year = '': expected a whole-number"),
        (GOOD + "Belarus,1850,russia\n", r"line 3, year = 1850: expected a year from 1991"),
        (GOOD + "Belarus,2000,russia\n", r"line 3 = .*duplicate of line 2"),
        (GOOD + "Belarus,2000,west\n", r"line 3 = .*contradicts line 2"),
    ],
)
def test_bad_record_files_are_refused_naming_file_line_and_expectation(
    tmp_path: Path, text: str, match: str
) -> None:
    path = tmp_path / "record.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as raised:
        read_record(path, known_states={"Belarus", "Ukraine"})
    assert str(path) in str(raised.value)


def test_the_packaged_record_reads_and_holds_no_year_after_2010() -> None:
    record = read_record(PACKAGED_RECORD)
    assert record.years == list(range(1991, 2011))
    assert len(record.states) == 15 and record.label("Ukraine", 2004) == "hedge"


# --- the command ------------------------------------------------------------------------


def study_job(
    folder: Path, year: int, replications: int = 5, seed: int = 0, fit: str | None = None
) -> Path:
    config = default_config(ticks=8, replications=replications, seed=seed)
    if fit is not None:
        config = FittedSet.load(fit).apply(replace(config, fit=fit))
    config = with_values(config, {"region.year": year})
    result = run_batch(RunInputs.from_config(config), range(seed, seed + replications))
    return write_study_job(result, config, folder, {"scenario": "baseline"})


def test_end_to_end_a_study_job_scored_against_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = study_job(tmp_path / "runs" / "job", 2000)
    out = tmp_path / "scores"
    main([str(tmp_path / "runs"), "--record", str(PACKAGED_RECORD), "--out", str(out)])
    printed = capsys.readouterr().out.strip().splitlines()
    line = json.loads(printed[-1])
    assert line["n_runs"] == 5 and line["n_state_years"] == 11  # 11 states in 2001
    assert (line["origin"], line["from"], line["to"]) == (2000, 2001, 2001)
    for key in ("brier", "log_score", "accuracy"):
        for suffix in ("", "_persistence", "_sticky"):
            assert key + suffix in line
    assert line["floor"] == 1e-3 and "floored at 0.001" in "\n".join(printed)
    score = json.loads((out / "score.json").read_text())
    assert score["brier"] == pytest.approx(line["brier"], abs=1e-6)  # printed to 6 places
    forecasts = pd.read_csv(out / "forecasts.csv")
    model = forecasts[forecasts.forecaster == "model"]
    assert len(model) == 11
    np.testing.assert_allclose(model.filter(like="p_").sum(axis=1), 1.0)
    labels = pd.read_parquet(job / "labels.parquet")
    belarus = labels[(labels.state == "Belarus") & (labels.year == 2001)]
    share = (belarus.label == "russia").mean()
    assert model.set_index("state").loc["Belarus", "p_russia"] == pytest.approx(share)
    assert (out / "reliability.png").read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob(".*.tmp"))
    assert score["version"] and score["git_revision"] and score["created_utc"]
    assert score["record_sha256"] == sha256(PACKAGED_RECORD)  # what it was scored against
    (scored,) = score["inputs"]
    assert scored["folder"] == str(job)
    recorded = json.loads((job / "manifest.json").read_text())
    assert scored["config_digest"] == recorded["config_digest"]
    # without --record: the packaged record, the same scores
    main([str(tmp_path / "runs"), "--out", str(tmp_path / "default")])
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["brier"] == line["brier"] and again["record"] == line["record"]


def test_runs_of_a_set_fitted_on_the_scored_years_are_an_in_sample_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs at the packaged fit (fitted on 1991-2010) scored on 2001: the report says the
    score is in sample, which the baselines, seeing the record to 2000, are not; runs at
    the hand-set defaults get no such note."""
    study_job(tmp_path / "fitted" / "job", 2000, fit="post_soviet_1991_2010")
    main([str(tmp_path / "fitted"), "--out", str(tmp_path / "s1")])
    printed = capsys.readouterr().out
    assert json.loads(printed.strip().splitlines()[-1])["in_sample_fit"] is True
    assert (
        "Note: the runs' parameters come from the fitted set post_soviet_1991_2010, fitted on "
        "the record of 1991-2010, which holds the scored years 2001-2001: an in-sample score"
    ) in printed
    study_job(tmp_path / "hand" / "job", 2000)
    main([str(tmp_path / "hand"), "--out", str(tmp_path / "s2")])
    printed = capsys.readouterr().out
    assert json.loads(printed.strip().splitlines()[-1])["in_sample_fit"] is False
    assert "in-sample score" not in printed and "in sample by judgement" in printed


def test_a_failed_scoring_leaves_the_earlier_folder_as_it_was_and_others_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring into an earlier scores folder replaces it whole: one that fails half way
    (here drawing its figure) leaves the earlier folder as it was, not its tables beside
    the earlier score.json. A folder holding anything scoring does not write is refused
    before anything is written."""
    study_job(tmp_path / "runs" / "job", 2000)
    out = tmp_path / "scores"
    argv = [str(tmp_path / "runs"), "--record", str(PACKAGED_RECORD), "--out", str(out)]
    main(argv)
    assert sorted(p.name for p in out.iterdir()) == sorted(score_module.FILES)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(score_module, "reliability_figure", broken)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--floor", "0.01"])
    assert exited.value.code == 1 and "no scores were written" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    (out / "thesis.tex").write_text("mine")
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "thesis.tex, which a scoring does not write" in err
    assert (out / "thesis.tex").read_text() == "mine"
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob(".*.old"))


def test_the_default_origin_is_the_year_whose_end_the_runs_start_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs from origin=2000 start on 1 January 2001 from the record's end of 2000: their
    origin is 2000 and every year they cover is scored; a history run from
    region.year=2001 starts from 2001's own configuration, so its origin is 2001. Both
    together are refused unless --origin says which."""
    config = default_config(scenario="history", origin=2000, to=2002, replications=3)
    result = run_batch(RunInputs.from_config(config), range(3))
    write_study_job(result, config, tmp_path / "runs" / "forecast", {"scenario": "history"})
    main([str(tmp_path / "runs"), "--out", str(tmp_path / "s1")])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["origin"], line["from"], line["to"], line["n_state_years"]) == (
        2000,
        2001,
        2002,
        22,
    )
    main([str(tmp_path / "runs"), "--origin", "1999", "--out", str(tmp_path / "s0")])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["origin"], line["from"], line["to"]) == (1999, 2001, 2002)  # years scored
    same_start = with_values(default_config(scenario="history", ticks=12), {"region.year": 2000})
    result = run_batch(RunInputs.from_config(same_start), range(3))
    write_study_job(result, same_start, tmp_path / "pooled" / "h", {"scenario": "history"})
    both = [str(tmp_path / "pooled"), str(tmp_path / "runs")]
    with pytest.raises(SystemExit):  # two configurations are two forecasts
        main([*both, "--out", str(tmp_path / "s3")])
    error = capsys.readouterr().err
    assert "the runs are of 2 configurations" in error and "--pool" in error
    assert "region.year=2000" in error and "region.year=2001" in error
    main([*both, "--pool", "--out", str(tmp_path / "s3")])
    printed = capsys.readouterr().out
    assert (
        "the runs start from the configuration at the end of 2000 but their first years "
        "differ (2000, 2001)" in " ".join(printed.split())
    )
    history = with_values(default_config(scenario="history", ticks=8), {"region.year": 2001})
    result = run_batch(RunInputs.from_config(history), range(3))
    write_study_job(result, history, tmp_path / "runs" / "history", {"scenario": "history"})
    with pytest.raises(SystemExit):
        main([str(tmp_path / "runs"), "--pool", "--out", str(tmp_path / "s2")])
    assert "start from the configurations of different years (2000, 2001)" in (
        capsys.readouterr().err
    )


def test_runs_outside_the_record_years_get_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_job(tmp_path / "job2015", 2015)
    with pytest.raises(SystemExit) as exited:
        main([str(tmp_path / "job2015"), "--record", str(PACKAGED_RECORD), "--out", "x"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "no year to score: the runs cover 2015-2016" in error and "1991-2010" in error


def test_a_folder_without_labels_is_named_and_re_run_advised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = study_job(tmp_path / "old", 2000)
    (job / "labels.parquet").unlink()  # as an older version left it: finished, no labels
    older = [name for name in STUDY_FILES if name != "labels.parquet"]
    finish_job(job, {k: v for k, v in job_manifest(job).items() if k != "files"}, older)
    with pytest.raises(SystemExit) as exited:
        main([str(job), "--record", str(PACKAGED_RECORD), "--out", str(tmp_path / "s")])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"{job} has no labels.parquet" in error and "older version" in error
    assert "Re-run it" in error and not (tmp_path / "s").exists()


def test_another_commands_output_beside_the_runs_is_left_out_not_misread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A comparison report under the folder scored stopped the score: "...has no
    labels.parquet: it was made by an older version ... Re-run it". It is left out with a
    note, as compare and collect leave such folders out."""
    study_job(tmp_path / "runs" / "job", 2000)
    report = tmp_path / "runs" / "report"
    report.mkdir()
    (report / "report.html").write_text("<html></html>")
    finish_job(report, {"study": "compare"}, ["report.html"])
    design = tmp_path / "runs" / "design"  # a design beside them stopped the whole score
    design.mkdir()
    write_parquet(design / "design.parquet", pd.DataFrame({"point": [0]}), {})
    finish_job(design, {"design": "lhs"}, ["design.parquet"])
    main([str(tmp_path / "runs"), "--record", str(PACKAGED_RECORD), "--out", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert f"Left out {report}: not runs (another command's output)\n" in out
    assert f"Left out {design}: a design study, which writes no yearly labels" in out
    assert (tmp_path / "s" / "score.json").is_file()
    with pytest.raises(SystemExit):  # nothing but them: said as what they are
        main([str(report), "--out", str(tmp_path / "t")])
    assert "(1 left out: " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--from", "2005", "--to", "2003"], "empty year range: --from 2005 is after --to 2003"),
        (["--from", "2000"], "--from 2000 is not after the origin 2000"),
        (["--floor", "0"], "--floor 0: expected a probability between 0 and 1"),
        (["--to", "2015"], "--to 2015: the runs and the record"),  # it was clipped, unsaid
        (["--origin", "1990"], "no label for Belarus in the origin year 1990"),
        (["--out", "{tmp}/afile/s"], "afile is a file, not a folder"),
    ],
)
def test_bad_year_ranges_and_floors_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    job = tmp_path / "job"
    if not job.exists():
        study_job(job, 2000)
    (tmp_path / "afile").write_text("not a folder")
    extra = [e.replace("{tmp}", str(tmp_path)) for e in extra]
    with pytest.raises(SystemExit) as exited:
        main([str(job), "--record", str(PACKAGED_RECORD), "--out", str(tmp_path / "s"), *extra])
    assert exited.value.code == 2
    assert match in capsys.readouterr().err


def test_a_sweep_is_one_ensemble_and_failed_jobs_are_left_out_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep"
    study_job(sweep / "0", 2000, replications=3, seed=0)
    study_job(sweep / "1", 2000, replications=4, seed=100)
    (sweep / "2").mkdir()
    (sweep / "2" / "error.json").write_text(json.dumps({"type": "OSError", "error": "disk full"}))
    main([str(sweep), "--record", str(PACKAGED_RECORD), "--out", str(tmp_path / "s")])
    printed = capsys.readouterr().out.strip().splitlines()
    line = json.loads(printed[-1])
    assert line["n_runs"] == 7 and line["n_folders"] == 2
    assert any(str(sweep / "2") in text and "disk full" in text for text in printed)


def test_a_run_found_twice_counts_once_and_a_damaged_folder_stops_the_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copied study job counted its runs twice (7 runs scored as 10); a study re-run
    with more seeds keeps only the runs the first lacks. A finished folder with a damaged
    file (same size, other bytes) stops the command unless --skip-corrupt."""
    runs = tmp_path / "runs"
    job = study_job(runs / "a", 2000, replications=3, seed=0)
    shutil.copytree(job, runs / "copy")
    study_job(runs / "more", 2000, replications=4, seed=1)  # seeds 1-4: 1 and 2 again
    record = ["--record", str(PACKAGED_RECORD)]
    main([str(runs), *record, "--out", str(tmp_path / "s")])
    printed = capsys.readouterr().out.strip().splitlines()
    assert json.loads(printed[-1])["n_runs"] == 5  # seeds 0-4, each once
    text = "\n".join(printed)
    assert "counted twice" in text and "its other runs are scored" in text

    labels = runs / "copy" / LABELS_FILE
    data = bytearray(labels.read_bytes())
    data[len(data) // 2] ^= 0xFF
    labels.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as stopped:
        main([str(runs), *record, "--out", str(tmp_path / "t")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "1 finished folder damaged" in error and "--skip-corrupt" in error
    assert not (tmp_path / "t").exists()
    main([str(runs), *record, "--out", str(tmp_path / "t"), "--skip-corrupt"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert json.loads(printed[-1])["n_runs"] == 5
    assert any(str(runs / "copy") in line and "corrupt" in line for line in printed)


def test_runs_of_two_configurations_are_two_forecasts_unless_pooled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sweep over rationality was scored as one model forecast (40 runs of two models);
    it is refused, naming the settings that differ, unless --pool."""
    sweep = tmp_path / "sweep"
    for rationality in (2.0, 8.0):
        config = with_values(
            default_config(ticks=8, replications=3),
            {"region.year": 2000, "decision.rationality": rationality},
        )
        result = run_batch(RunInputs.from_config(config), range(3))
        write_study_job(result, config, sweep / f"r{rationality:g}", {"scenario": "baseline"})
    record = ["--record", str(PACKAGED_RECORD)]
    with pytest.raises(SystemExit) as stopped:
        main([str(sweep), *record, "--out", str(tmp_path / "s")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "decision.rationality=2.0" in error and "decision.rationality=8.0" in error
    assert not (tmp_path / "s").exists()
    main([str(sweep), *record, "--pool", "--out", str(tmp_path / "s")])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n_runs"] == 6


def test_a_fit_that_saw_years_after_the_origin_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A set fitted on 1991-2002, its runs from 2000 scored from 2003: the model knew 2001
    and 2002, the baselines (to 2000) did not, and nothing said so. A set without a record
    window cannot be placed: said too."""
    fitted = FittedSet.load("post_soviet_1991_2010")
    early = replace(fitted, provenance={**fitted.provenance, "window": [1991, 2002]})
    early.write(tmp_path / "early.yaml")
    config = FittedSet.load(str(tmp_path / "early.yaml")).apply(
        default_config(scenario="history", origin=2000, to=2004, replications=2)
    )
    config = replace(config, fit=str(tmp_path / "early.yaml"))
    result = run_batch(RunInputs.from_config(config), range(2))
    write_study_job(result, config, tmp_path / "runs" / "job", {"scenario": "history"})
    main([str(tmp_path / "runs"), "--from", "2003", "--out", str(tmp_path / "s")])
    printed = " ".join(capsys.readouterr().out.split())
    assert "saw the record to 2002, after the baselines' origin 2000" in printed
    # one's own set by its file too: every fit of 1991-2010 is named as the packaged one
    assert f"fitted set post_soviet_1991_2010 ({tmp_path / 'early.yaml'})" in printed
    assert "--origin 2002 gives them the same record" in printed
    unplaced = replace(
        fitted, provenance={k: v for k, v in fitted.provenance.items() if k != "window"}
    )
    unplaced.write(tmp_path / "early.yaml")
    main([str(tmp_path / "runs"), "--from", "2003", "--out", str(tmp_path / "s")])
    assert "names no record window" in capsys.readouterr().out


def test_an_unfinished_folder_is_named_as_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An interrupted forecast (its labels written, no manifest) got "no finished run
    folder" and nothing on why; it is named as unfinished."""
    job = study_job(tmp_path / "runs" / "job", 2000, replications=2)
    (job / "manifest.json").unlink()
    with pytest.raises(SystemExit):
        main([str(tmp_path / "runs"), "--out", str(tmp_path / "s")])
    error = capsys.readouterr().err
    assert f"{job}: unfinished, no manifest.json" in error
