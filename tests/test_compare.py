"""The scenario-comparison report: known answers, invariants and bad-input behaviour."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignment_sim import default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERMS
from alignment_sim.outputs.files import record_failure, write_run
from alignment_sim.report.command import Comparison, choose_baseline, compare, main
from alignment_sim.report.inputs import CompareError, UnitError, load_unit
from alignment_sim.studies.outcomes import OUTCOME_COUNTS
from alignment_sim.studies.replications import outcome_table, terms_table, write_study_job

RUNS, TICKS, BOOT = 100, 12, 200


def study(folder: Path, scenario: str, parameters: dict[str, str], runs: int = RUNS) -> Path:
    config = default_config(scenario=scenario, ticks=TICKS)
    config.replications = runs
    result = run_batch(RunInputs.from_config(config), range(runs))
    return write_study_job(result, config, folder, parameters)


def singles(folder: Path, scenario: str, seeds: list[int], ticks: int = 8) -> None:
    """Single-run folders as the CLI writes them (the engine's full record equals the Mesa
    model's, tests/test_engine.py)."""
    config = default_config(scenario=scenario, ticks=ticks)
    batch = run_batch(RunInputs.from_config(config), seeds, record="full")
    assert batch.trajectory is not None
    for run, seed in enumerate(seeds):
        parameters = {"scenario": scenario, "seed": str(seed), "ticks": str(ticks)}
        write_run(
            batch.trajectory,
            replace(config, seed=seed),
            folder / f"{scenario}_seed{seed}",
            run=run,
            plots=False,
            extra={"parameters": parameters},
        )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep folder: baseline and recession jobs, a failed, an unfinished and a broken one."""
    root = tmp_path_factory.mktemp("compare") / "sweeps" / "t"
    for scenario in ("baseline", "russia_recession"):
        params = {"replications": str(RUNS), "scenario": scenario}
        study(root / f"replications={RUNS},scenario={scenario}", scenario, params)
    failed = root / "scenario=western_conditionality"
    record_failure(failed, ValueError("boom"), ["scenario=western_conditionality"])
    unfinished = study(root / "scenario=afghan_spillover", "afghan_spillover", {}, runs=5)
    (unfinished / "manifest.json").unlink()
    broken = root / "scenario=nato_buildup"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"parameters": {}}))
    return root


@pytest.fixture(scope="module")
def result(sweep: Path) -> Comparison:
    return compare([sweep], n_boot=BOOT, seed=1, skip_corrupt=True)


def test_labels_come_from_the_parameters_that_differ(result: Comparison) -> None:
    assert result.labels == ["scenario=baseline", "scenario=russia_recession"]
    assert result.baseline == "scenario=baseline"
    assert all(result.groups[label].n_runs == RUNS for label in result.labels)


def test_alignment_probabilities_sum_to_one_and_match_the_runs(
    result: Comparison, sweep: Path
) -> None:
    table = result.tables["alignment_probability"]
    profiles = result.tables["profile_probability"]
    assert result.options == ["russia", "china", "west", "hedge"]
    assert set(table["option"]) == set(result.options)
    assert set(profiles["option"]) == set(result.profiles) and len(result.profiles) == 12
    for frame in (table, profiles):
        sums = frame.groupby(["label", "state"])["probability"].sum()
        assert np.allclose(sums, 1.0)
        assert (frame["ci_low"] <= frame["probability"]).all()
        assert (frame["probability"] <= frame["ci_high"]).all()
    runs = pd.read_parquet(sweep / f"replications={RUNS},scenario=russia_recession/runs.parquet")
    recession = "scenario=russia_recession"
    for name, frame, column in (
        ("hedge", table, "final_label_kyrgyzstan"),
        ("russia/russia", profiles, "final_kyrgyzstan"),
    ):
        row = frame[
            (frame["label"] == recession)
            & (frame["state"] == "kyrgyzstan")
            & (frame["option"] == name)
        ]
        assert row["probability"].item() == pytest.approx((runs[column] == name).mean())
    # a label's probability is that of the profiles it labels
    space = result.groups[recession].units[0].space
    label_of = dict(zip(space.profiles, space.profile_labels, strict=True))
    pooled = profiles.assign(option=profiles["option"].map(label_of))
    pooled = pooled.groupby(["label", "state", "option"])["probability"].sum()
    direct = table.set_index(["label", "state", "option"])["probability"]
    assert np.allclose(direct.reindex(pooled.index), pooled)


def test_shares_over_time_match_the_tick_table(result: Comparison, sweep: Path) -> None:
    table = result.tables["shares_over_time"]
    ticks = pd.read_parquet(sweep / f"replications={RUNS},scenario=baseline/ticks.parquet")
    at_five = ticks[ticks["tick"] == 5]
    for kind, option, column in (
        ("label", "west", "share_west"),
        ("security", "none", "share_security_none"),
        ("economy", "china", "share_economy_china"),
    ):
        row = table[
            (table["label"] == "scenario=baseline")
            & (table["tick"] == 5)
            & (table["kind"] == kind)
            & (table["option"] == option)
        ]
        assert row["mean"].item() == pytest.approx(at_five[column].mean())
        assert row["year"].item() == pytest.approx(at_five["year"].iloc[0])
    assert list(dict.fromkeys(table["kind"])) == ["label", "security", "economy"]
    total = table.groupby(["label", "tick", "kind"])["mean"].sum()
    assert np.allclose(total, 1.0)
    assert (table["ci_low"] <= table["mean"] + 1e-12).all()
    assert (table["mean"] <= table["ci_high"] + 1e-12).all()
    assert table["ci_low"].min() >= 0 and table["ci_high"].max() <= 1
    assert set(table["tick"]) == set(range(TICKS + 1))


def test_effects_are_paired_by_seed_and_match_the_runs(result: Comparison, sweep: Path) -> None:
    effects = result.tables["effects"].set_index("metric")
    runs = {
        scenario: pd.read_parquet(
            sweep / f"replications={RUNS},scenario={scenario}/runs.parquet"
        ).set_index("seed")
        for scenario in ("baseline", "russia_recession")
    }
    outcomes = result.tables["outcomes"].set_index(["label", "metric"])
    assert list(effects.index[:6]) == list(OUTCOME_COUNTS)
    for metric in ("switches", "label_switches", "economy_switches", "mean_share_hedge"):
        row = effects.loc[metric]
        assert row["label"] == "scenario=russia_recession"
        assert bool(row["paired"]) and row["n_compared"] == RUNS
        paired = runs["russia_recession"][metric] - runs["baseline"][metric]
        assert row["difference"] == pytest.approx(paired.mean(), abs=1e-12)
        assert row["ci_low"] <= row["difference"] <= row["ci_high"]
        base = outcomes.loc[("scenario=baseline", metric)]
        assert base["ci_low"] <= base["mean"] <= base["ci_high"]
        assert base["mean"] == pytest.approx(runs["baseline"][metric].mean())


def test_term_drivers_are_ranked_and_add_up_to_the_utility_change(result: Comparison) -> None:
    drivers = result.tables["term_drivers"]
    assert len(drivers) == 11 * 12 * len(TERMS)  # states x profiles x terms
    assert np.all(np.diff(drivers["change"].abs().to_numpy()) <= 0)
    sums = drivers.groupby(["state", "option"])[["change", "utility_change"]].agg(
        {"change": "sum", "utility_change": "first"}
    )
    assert np.allclose(sums["change"], sums["utility_change"], atol=1e-9)
    # a term of one choice is one change on every profile with that option: one rank
    only_security = set(SECURITY_TERMS) - set(ECONOMIC_TERMS)
    only_economy = set(ECONOMIC_TERMS) - set(SECURITY_TERMS)
    for option, term, where in zip(
        drivers["option"], drivers["term"], drivers["applies_to"], strict=True
    ):
        security, economy = option.split("/")
        if term in only_security:
            assert where == f"{security}/*"
        elif term in only_economy:
            assert where == f"*/{economy}"
        else:
            assert where == option
    per_state = (
        3 * len(only_security)
        + 4 * len(only_economy)
        + 12 * (len(TERMS) - len(only_security) - len(only_economy))
    )
    ranks = drivers["rank"].to_numpy()
    assert ranks[0] == 1 and np.all(np.diff(ranks) >= 0) and np.all(np.diff(ranks) <= 1)
    assert ranks[-1] == 11 * per_state
    same = drivers.groupby("rank")[["state", "applies_to", "term", "change"]].nunique()
    assert (same == 1).all().all()
    top = drivers.iloc[0]
    assert top["description"].startswith(f"{top['state']}, {top['applies_to']}: {top['term']}")
    assert bool(drivers["paired"].all())


def test_unfinished_failed_and_broken_folders_are_reported_and_skipped(
    result: Comparison,
) -> None:
    status = {note.path.name: (note.status, note.reason) for note in result.notes}
    assert status["scenario=western_conditionality"][0] == "failed"
    assert "boom" in status["scenario=western_conditionality"][1]
    assert status["scenario=afghan_spillover"][0] == "unfinished"
    assert status["scenario=nato_buildup"][0] == "skipped"
    inputs = result.tables["inputs"]
    assert (inputs["status"] == "used").sum() == 2
    assert set(inputs["status"]) == {"used", "failed", "unfinished", "skipped"}


def test_a_damaged_folder_stops_the_comparison_unless_skipped(sweep: Path) -> None:
    with pytest.raises(CompareError, match=r"scenario=nato_buildup.*--skip-corrupt"):
        compare([sweep], n_boot=BOOT, seed=1)


def test_identical_copy_has_zero_paired_difference(tmp_path: Path) -> None:
    config = default_config(scenario="russia_recession", ticks=TICKS)
    batch = run_batch(RunInputs.from_config(config), range(60))
    for variant in ("a", "b"):
        write_study_job(batch, config, tmp_path / variant, {"scenario": "x", "variant": variant})
    result = compare([tmp_path], n_boot=BOOT)
    assert result.labels == ["variant=a", "variant=b"]
    effects = result.tables["effects"]
    assert effects["paired"].all()
    for column in ("difference", "ci_low", "ci_high", "cohens_d"):
        assert (effects[column] == 0).all(), column
    assert not effects["ci_excludes_zero"].any()
    drivers = result.tables["term_drivers"]
    assert (drivers[["change", "ci_low", "ci_high"]].to_numpy() == 0).all()


def test_single_runs_are_replicates_and_match_the_engine(tmp_path: Path) -> None:
    seeds = [0, 1, 2]
    for scenario in ("baseline", "russia_recession"):
        singles(tmp_path / "runs", scenario, seeds)
    result = compare([tmp_path / "runs"], n_boot=BOOT)
    assert result.labels == ["scenario=baseline", "scenario=russia_recession"]
    group = result.groups["scenario=russia_recession"]
    assert group.n_runs == 3 and {u.kind for u in group.units} == {"single"}
    assert result.tables["effects"]["paired"].all()

    config = default_config(scenario="russia_recession", ticks=8)
    batch = run_batch(RunInputs.from_config(config), seeds)
    expected = outcome_table(batch).set_index("seed")
    got = group.runs.set_index("seed").sort_index()
    for column in got.columns:
        assert np.allclose(got[column], expected.loc[got.index, column]), column
    terms = terms_table(batch).set_index(["seed", "state", "option", "term"])["value"]
    group_terms = group.terms
    assert group_terms is not None
    stacked = group_terms.stack(["state", "option", "term"], future_stack=True)
    assert np.allclose(stacked.sort_index(), terms.loc[stacked.sort_index().index], atol=1e-5)


def test_bootstrap_is_reproducible_and_seeded(tmp_path: Path) -> None:
    for scenario in ("baseline", "russia_recession"):
        study(tmp_path / scenario, scenario, {"scenario": scenario}, runs=40)
    first = compare([tmp_path], n_boot=BOOT, seed=7).tables["effects"]
    again = compare([tmp_path], n_boot=BOOT, seed=7).tables["effects"]
    other = compare([tmp_path], n_boot=BOOT, seed=8).tables["effects"]
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    assert np.allclose(first["difference"], other["difference"])


def test_labels_fall_back_to_the_scenario_name(tmp_path: Path) -> None:
    for scenario in ("baseline", "russia_recession"):
        study(tmp_path / scenario, scenario, {}, runs=20)
    result = compare([tmp_path], n_boot=BOOT)
    assert result.labels == ["baseline", "russia_recession"]


def test_choose_baseline() -> None:
    labels = ["scenario=a", "scenario=baseline"]
    assert choose_baseline(labels, None) == "scenario=baseline"
    assert choose_baseline(["x=1", "x=2"], None) == "x=1"
    assert choose_baseline(labels, "baseline") == "scenario=baseline"
    assert choose_baseline(labels, "scenario=a") == "scenario=a"
    with pytest.raises(CompareError, match="scenario=baseline"):
        choose_baseline(labels, "nope")


def test_command_writes_a_self_contained_report(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    main([str(sweep), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "3", "--skip-corrupt"])
    printed = capsys.readouterr().out
    assert str(out / "report.html") in printed and "left out 3 folder(s)" in printed
    for name in (
        "shares_over_time",
        "alignment_probability",
        "profile_probability",
        "outcomes",
        "effects",
        "term_drivers",
    ):
        assert len(pd.read_csv(out / f"{name}.csv")) > 0, name
    page = (out / "report.html").read_text()
    for heading in (
        "At a glance",
        "Bloc shares over time",
        "Where each state ends",
        "Outcome metrics",
        "Effects against the baseline",
        "Which utility terms drove the differences",
        "Provenance",
    ):
        assert f">{heading}" in page, heading
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 7  # shares x2, alignment x3, effects, drivers
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "<script" not in page and 'src="http' not in page
    assert "0.1.0" in page or "unknown" in page
    assert "git_revision" in page and "boom" in page and "unfinished" in page
    assert "--seed 3" in page


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("alignment-sim-compare: ")
    assert err.count("\n") == 1, err
    return err


def test_unknown_baseline_lists_the_labels(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = run_main(
        [str(sweep), "--baseline", "nope", "--skip-corrupt", "--out", str(tmp_path / "o")], capsys
    )
    assert "'nope'" in err and "'scenario=baseline'" in err and "'scenario=russia_recession'" in err
    assert not (tmp_path / "o").exists()


def test_no_input_and_no_finished_runs_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no input folder" in run_main([], capsys)
    assert "does not exist" in run_main([str(tmp_path / "missing")], capsys)
    empty = tmp_path / "empty"
    (empty / "job" / ".hydra").mkdir(parents=True)
    err = run_main([str(empty)], capsys)
    assert "holds no finished run" in err and "unfinished" in err


def test_out_onto_or_under_a_file_is_one_line(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert "is a file; pass a folder" in run_main([str(sweep), "--out", str(afile)], capsys)
    err = run_main([str(sweep), "--out", str(afile / "out")], capsys)
    assert f"{afile} is a file, not a folder" in err
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    assert "thesis.tex" in run_main([str(sweep), "--out", str(other)], capsys)
    assert afile.read_text() == "keep me" and (other / "thesis.tex").exists()


def test_bootstrap_beyond_memory_names_the_largest_that_fits(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = run_main(
        [str(sweep), "--bootstrap", "100000000", "--skip-corrupt", "--out", str(tmp_path / "o")],
        capsys,
    )
    most = int(re.search(r"at most ([\d,]+) resamples", err).group(1).replace(",", ""))
    assert "--bootstrap 100000000" in err and "GiB" in err and 0 < most < 100_000_000
    assert not (tmp_path / "o").exists()


def test_report_folder_is_replaced_whole_and_a_failed_write_leaves_the_old_one(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alignment_sim.report import command, figures

    for name in ("shares_over_time", "alignment_heatmaps", "effect_sizes", "term_drivers"):
        monkeypatch.setattr(figures, name, lambda *args, **kwargs: b"\x89PNG drawn")
    sweep = tmp_path / "inputs"
    for scenario in ("baseline", "russia_recession"):
        study(sweep / scenario, scenario, {"scenario": scenario}, runs=20)
    out = tmp_path / "report"
    main([str(sweep), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "1", "--skip-corrupt"])
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "figure_stale_1.png").write_bytes(b"from an older report")
    main([str(sweep), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "2", "--skip-corrupt"])
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(second) == set(first)  # the older report's extra figure is gone
    assert second["effects.csv"] != first["effects.csv"]  # a new seed, a new report
    capsys.readouterr()

    def full_disk(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(command, "document", full_disk)
    err = run_main(
        [str(sweep), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "3"], capsys, 1
    )
    assert (
        err == f"alignment-sim-compare: {out}: No space left on device (no report was written).\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "report"]  # no temporary


def test_the_same_runs_twice_are_never_pooled(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    copy = tmp_path / "rerun"
    shutil.copytree(sweep / f"replications={RUNS},scenario=baseline", copy / "again")
    result = compare([sweep, copy], n_boot=BOOT, skip_corrupt=True)
    assert result.groups["scenario=baseline"].n_runs == RUNS
    duplicates = [n for n in result.notes if n.status == "duplicate"]
    assert [n.path for n in duplicates] == [copy / "again"]
    assert "already read from" in duplicates[0].reason
    assert result.tables["effects"]["paired"].all()


def test_folders_of_the_one_dimensional_model_are_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    runs = {"seed": [0], "final_share_russia": [1.0], "switches": [0], "final_belarus": ["russia"]}
    pd.DataFrame(runs).to_parquet(folder / "runs.parquet")
    ticks = {"seed": [0], "tick": [0], "year": [2015.0], "share_russia": [1.0]}
    pd.DataFrame(ticks).to_parquet(folder / "ticks.parquet")
    region: dict[str, list[dict[str, object]]] = {
        "poles": [{"name": "russia"}],
        "states": [{"name": "belarus"}],
    }
    for security in (None, True):  # a manifest of either model: the tables are the old ones
        if security is not None:
            region["poles"][0]["security"] = security
        (folder / "manifest.json").write_text(json.dumps({"config": {"region": region}}))
        with pytest.raises(UnitError, match="older version of alignment-sim"):
            load_unit(folder)
