"""The scenario-comparison report: known answers, invariants and bad-input behaviour."""

from __future__ import annotations

import base64
import html
import json
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alignment_sim import default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERMS
from alignment_sim.outputs.files import finish_job, job_status, record_failure, write_run
from alignment_sim.report.command import (
    Comparison,
    choose_baseline,
    compare,
    largest_causes,
    main,
    write_report,
)
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


def test_each_figure_is_handed_on_as_soon_as_its_table_exists(sweep: Path) -> None:
    """``early`` (the figure worker's ``Drawer.start``) hears the comparison after the
    reading and again after each table of statistics with a figure, so the worker draws
    the effects while the margins are computed."""
    from alignment_sim.report.command import figure_jobs

    seen: list[list[str]] = []
    compare(
        [sweep],
        n_boot=BOOT,
        seed=1,
        skip_corrupt=True,
        early=lambda c: seen.append(list(figure_jobs(c))),
    )
    first = ["shares_1", "shares_2", "alignment_1", "alignment_2", "alignment_3", "outcomes_1"]
    assert seen == [
        first,
        [*first, "effects_1"],
        [*first, "effects_1", "margins_1"],
        [*first, "effects_1", "margins_1", "drivers_1"],
    ]


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
    # a label's probability is that of the profiles it labels (each state's labels)
    world = RunInputs.from_config(default_config(scenario="russia_recession")).world
    label_of = {
        (state, profile): world.labelling.label(i, k)
        for i, state in enumerate(world.states)
        for k, profile in enumerate(world.options)
    }
    pooled = profiles.assign(
        option=[label_of[s, o] for s, o in zip(profiles["state"], profiles["option"], strict=True)]
    )
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
        "margin_drivers",
        "scenarios",
        "events",
    ):
        assert len(pd.read_csv(out / f"{name}.csv")) > 0, name
    page = (out / "report.html").read_text()
    for heading in (
        "At a glance",
        "The scenarios",
        "Bloc shares over time",
        "Where each state ends",
        "Outcome metrics",
        "Effects against the baseline",
        "What drove the differences",
        "Which utility terms changed",
        "Provenance",
    ):
        assert f">{heading}" in page, heading
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 9  # shares x2, alignment x3, distributions, effects, margins, terms
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
    err = run_main([str(sweep), "--out", str(afile)], capsys)
    assert "earlier report's" in err and "It is a file." in err
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


def test_a_folder_overlapping_another_in_part_is_left_out_whole_and_says_what_it_holds(
    sweep: Path, tmp_path: Path
) -> None:
    """A baseline job of seeds 98-101 beside the sweep's of seeds 0-99: its outcomes are
    pooled per folder, so it is left out, and the note says its two other runs go with it
    (alignment-sim-collect keeps them)."""
    config = default_config(scenario="baseline", ticks=TICKS)
    config.replications, config.seed = 4, RUNS - 2
    result = run_batch(RunInputs.from_config(config), range(RUNS - 2, RUNS + 2))
    write_study_job(result, config, tmp_path / "more" / "job", {"scenario": "baseline"})
    compared = compare([sweep, tmp_path / "more"], n_boot=BOOT, skip_corrupt=True)
    assert compared.groups["scenario=baseline"].n_runs == RUNS
    (note,) = [n for n in compared.notes if n.status == "duplicate"]
    assert note.path == tmp_path / "more" / "job"
    assert "2 of its seeds (e.g. 98) are already read from" in note.reason
    assert "so its 2 other runs are left out with it (alignment-sim-collect keeps them)" in (
        note.reason
    )


def test_runs_of_another_configuration_are_no_repeats_and_get_their_own_label(
    sweep: Path, tmp_path: Path
) -> None:
    """The same seeds under a configuration the overrides do not show (a default changed
    between two versions of the package) are other runs: kept, labelled by the change."""
    import shutil

    def variant(name: str, edit: dict[str, float]) -> Path:
        folder = tmp_path / name / "again"
        shutil.copytree(sweep / f"replications={RUNS},scenario=baseline", folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["config"]["weights"].update(edit)
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return folder

    trade = variant("trade", {"trade": 9.0})
    result = compare([sweep, trade.parent], n_boot=BOOT, skip_corrupt=True)
    assert [n for n in result.notes if n.status == "duplicate"] == []
    default_trade = default_config().weights.trade
    assert result.groups[f"scenario=baseline,weights.trade={default_trade}"].n_runs == RUNS
    assert result.groups["scenario=baseline,weights.trade=9.0"].n_runs == RUNS

    many = variant("many", {"trade": 9.0, "peer": 9.0, "transit": 9.0, "coercion": 9.0})
    result = compare([sweep, many.parent], n_boot=BOOT, skip_corrupt=True)
    baselines = {
        label: [u.runs_digest for u in group.units]
        for label, group in result.groups.items()
        if label.startswith("scenario=baseline")
    }
    assert len(baselines) == 2
    assert all(label == f"scenario=baseline,runs={d}" for label, (d,) in baselines.items())


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


# --- what each scenario is, what drove it, spread, duplicates, names ----------------------


@pytest.fixture
def no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures as a stub PNG, for tests of what the page says (drawing takes seconds)."""
    from alignment_sim.report import figures

    for name in (
        "shares_over_time",
        "alignment_heatmaps",
        "outcome_distributions",
        "effect_sizes",
        "margin_drivers",
        "term_drivers",
    ):
        monkeypatch.setattr(figures, name, lambda *args, **kwargs: b"\x89PNG stub")


def test_scenarios_are_described_with_their_events_and_marked_on_the_time_plots(
    result: Comparison,
) -> None:
    from alignment_sim.report import figures

    scenarios = result.tables["scenarios"].set_index("label")
    recession = scenarios.loc["scenario=russia_recession"]
    assert "budget cut to 40%" in recession["description"]
    # at tick 1 for 12 ticks in a 12-tick run from 2015, quarterly: 2015 Q1 to 2017 Q4
    assert recession["events"] == (
        "recession 2015-2017 (russia_recession): ticks 1 to the end of the run (2015 Q1 to 2017 Q4)"
    )
    assert recession["differences"] == "none besides the scenario"
    assert scenarios.loc["scenario=baseline", "events"] == "none"
    events = result.tables["events"]
    assert events[["label", "event", "what", "start", "end"]].values.tolist() == [
        ["scenario=russia_recession", "recession 2015-2017", "russia_recession", 2015.0, 2018.0]
    ]
    assert list(events.columns)[-1] == "source"  # an event's own citation, when it gives one
    fig = figures.shares_figure(
        result.tables["shares_over_time"],
        result.labels,
        [("label", "russia"), ("economy", "open")],
        events,
    )
    for ax in fig.axes[:2]:  # every time panel carries the marker: its label, line and band
        marks = [t.get_text() for t in ax.texts if t.get_gid() == "event"]
        assert marks == [" recession 2015-2017"]
        assert any(list(line.get_xdata()) == [2015.0, 2015.0] for line in ax.lines)
        spans = [p.get_extents() for p in ax.patches]
        assert len(spans) == 1


def test_differences_are_in_words_with_resolved_values(tmp_path: Path) -> None:
    for rule in ("logit", "best_response"):
        config = default_config(decision=rule, ticks=TICKS)
        batch = run_batch(RunInputs.from_config(config), range(20))
        parameters = {} if rule == "logit" else {"decision": rule}  # logit is the default
        write_study_job(batch, config, tmp_path / rule, {"scenario": "baseline", **parameters})
    result = compare([tmp_path], n_boot=BOOT, baseline="decision=logit")
    assert result.labels == ["decision=logit", "decision=best_response"]  # never None
    scenarios = result.tables["scenarios"].set_index("label")
    assert scenarios.loc["decision=best_response", "differences"] == (
        "decision.rule: logit in the baseline, best_response here"
    )


def test_the_largest_state_changes_are_explained_by_their_margins(result: Comparison) -> None:
    margins = result.tables["margin_drivers"]
    probability = result.tables["profile_probability"].set_index(["label", "state", "option"])
    recession = margins[margins["label"] == "scenario=russia_recession"]
    shifts = recession.drop_duplicates("state")["shift"].to_numpy()
    assert len(shifts) and np.all(np.diff(shifts) <= 0) and (shifts > 0).all()
    top = recession.iloc[0]
    change = (
        probability.loc[("scenario=russia_recession", top["state"], top["joins"]), "probability"]
        - probability.loc[("scenario=baseline", top["state"], top["joins"]), "probability"]
    )
    assert top["joins_change"] == pytest.approx(change) and change > 0
    rows = recession[recession["state"] == top["state"]].set_index("term")
    causes = rows[rows["role"] == "cause"]
    assert rows.loc["switching", "role"] == "consequence"
    assert np.isnan(rows.loc["switching", "rank"])
    assert list(causes["rank"]) == list(range(1, len(causes) + 1))
    assert np.all(np.diff(causes["change"].abs().to_numpy()) <= 1e-12)
    assert rows.loc["all causes", "change"] == pytest.approx(causes["change"].sum())
    assert rows.loc["whole margin", "change"] == pytest.approx(
        causes["change"].sum() + rows.loc["switching", "change"]
    )


def test_shares_over_time_give_the_spread_of_the_runs(result: Comparison, sweep: Path) -> None:
    table = result.tables["shares_over_time"]
    ticks = pd.read_parquet(sweep / f"replications={RUNS},scenario=baseline/ticks.parquet")
    for tick in (3, TICKS):
        values = ticks.loc[ticks["tick"] == tick, "share_hedge"].to_numpy()
        row = table[
            (table["label"] == "scenario=baseline")
            & (table["tick"] == tick)
            & (table["kind"] == "label")
            & (table["option"] == "hedge")
        ].iloc[0]
        for q in (10, 50, 90):
            expected = np.quantile(values, q / 100, method="inverted_cdf")
            assert row[f"p{q}"] == pytest.approx(expected), (tick, q)
    assert (table["p10"] <= table["p50"]).all() and (table["p50"] <= table["p90"]).all()
    outcomes = result.tables["outcomes"]
    assert (outcomes["p10"] <= outcomes["p90"]).all()


def test_effects_are_judged_against_the_threshold(result: Comparison, sweep: Path) -> None:
    effects = result.tables["effects"].set_index("metric")
    assert effects.loc["final_share_west", "threshold"] == 0.02  # 2 points of a share
    switches = effects.loc["switches"]
    assert switches["threshold"] == pytest.approx(0.02 * switches["mean_baseline"])
    assert set(effects["practical"]) <= {"beyond", "negligible", "unclear"}
    strict = compare([sweep], n_boot=BOOT, seed=1, skip_corrupt=True, threshold=0)
    judged = strict.tables["effects"]
    assert (judged["practical"] == "beyond").tolist() == judged["ci_excludes_zero"].tolist()
    with pytest.raises(CompareError, match="--threshold -1"):
        compare([sweep], n_boot=BOOT, skip_corrupt=True, threshold=-1)


def test_one_run_says_no_interval(tmp_path: Path, no_figures: None) -> None:
    for scenario in ("baseline", "russia_recession"):
        singles(tmp_path / "runs", scenario, [0])
    comparison = compare([tmp_path / "runs"], n_boot=BOOT)
    effects = comparison.tables["effects"]
    assert (effects["pairing"] == "n = 1: no interval").all()
    assert effects[["ci_low", "ci_high", "d_ci_low"]].isna().all().all()
    assert (effects["practical"] == "no interval").all()
    page = write_report(comparison, tmp_path / "report").html.read_text()
    assert "(n = 1: no interval)" in page and "[nan" not in page


def test_a_study_rerun_with_other_replications_is_never_pooled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_figures: None
) -> None:
    study(tmp_path / "replications=10,scenario=baseline", "baseline", {"scenario": "baseline"}, 10)
    study(tmp_path / "replications=30,scenario=baseline", "baseline", {"scenario": "baseline"}, 30)
    study(
        tmp_path / "scenario=russia_recession",
        "russia_recession",
        {"scenario": "russia_recession"},
        30,
    )
    main([str(tmp_path), "--out", str(tmp_path / "report"), "--bootstrap", str(BOOT)])
    captured = capsys.readouterr()
    assert "warning: left out" in captured.err and "replications=10" in captured.err
    assert "never pooled" in captured.err and "already read from" in captured.err
    assert "scenario=baseline (30 runs)" in captured.out  # the larger job is kept, alone
    effects = pd.read_csv(tmp_path / "report" / "effects.csv")
    assert effects["paired"].all()


def test_an_ambiguous_baseline_lists_its_matches_and_key_value_picks_one() -> None:
    labels = [
        "scenario=baseline,decision=logit",
        "scenario=baseline,decision=best_response",
        "scenario=russia_recession,decision=logit",
    ]
    with pytest.raises(CompareError) as info:
        choose_baseline(labels, "baseline")
    message = str(info.value)
    assert "matches 2 labels" in message
    assert "'scenario=baseline,decision=logit'" in message
    assert "'scenario=baseline,decision=best_response'" in message
    assert "russia_recession" not in message
    with pytest.raises(CompareError, match="matches 2 labels"):
        choose_baseline(labels, "scenario=baseline")
    picked = choose_baseline(labels, "decision=logit,scenario=baseline")  # any order
    assert picked == "scenario=baseline,decision=logit"
    assert choose_baseline(labels, "best_response") == labels[1]
    # a label that is a scenario's name matches scenario=<name> through its attributes
    assert (
        choose_baseline(
            ["baseline", "x"], "scenario=baseline", {"baseline": {"scenario": "baseline"}}
        )
        == "baseline"
    )


def test_labels_can_be_renamed_and_a_bad_name_is_one_line(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_figures: None
) -> None:
    out = tmp_path / "named"
    main(
        [str(sweep), "--skip-corrupt", "--out", str(out), "--bootstrap", str(BOOT),
         "--label", "scenario=russia_recession=recession", "--label", "baseline=base"]
    )  # fmt: skip
    assert "compared base (100 runs), recession (100 runs) against base." in capsys.readouterr().out
    provenance = (out / "report.html").read_text()
    assert "scenario=russia_recession" in provenance  # the parameters behind the name
    # --baseline by the short name --label gives it (it was "not one of the labels")
    main(
        [str(sweep), "--skip-corrupt", "--out", str(tmp_path / "b"), "--bootstrap", str(BOOT),
         "--label", "scenario=russia_recession=recession", "--baseline", "recession"]
    )  # fmt: skip
    assert "against recession." in capsys.readouterr().out
    err = run_main([str(sweep), "--skip-corrupt", "--label", "nope=x"], capsys)
    assert "--label nope=x" in err and "matches no label" in err
    assert "expected KEY=TEXT" in run_main([str(sweep), "--label", "recession"], capsys)


def test_progress_is_printed_step_by_step(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_figures: None
) -> None:
    main(
        [
            str(sweep),
            "--skip-corrupt",
            "--out",
            str(tmp_path / "r"),
            "--bootstrap",
            str(BOOT),
            "--progress",
        ]
    )
    err = capsys.readouterr().err
    for step in ("reading 1/", "bootstrap", "term drivers", "drawing the figures", "done"):
        assert step in err, step
    assert re.search(r"\[\s*\d+\.\d s\]", err)


def test_terms_read_by_their_layout_equal_terms_mapped_row_by_row(
    sweep: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from alignment_sim.report import inputs

    job = sweep / f"replications={RUNS},scenario=baseline"
    unit = load_unit(job)
    seeds = unit.runs["seed"].to_numpy()
    profiles = list(unit.space.profiles)
    file = pq.ParquetFile(job / "terms.parquet")
    assert inputs._product_layout(file, seeds, unit.states, profiles) is not None
    fast = inputs._study_terms(job / "terms.parquet", seeds, unit.states, profiles)
    mapped = inputs._mapped_terms(file, seeds, unit.states, profiles)
    pd.testing.assert_frame_equal(fast, mapped)
    shuffled = pd.read_parquet(job / "terms.parquet").sample(frac=1.0, random_state=0)
    shuffled.to_parquet(tmp_path / "terms.parquet")
    other = pq.ParquetFile(tmp_path / "terms.parquet")
    assert inputs._product_layout(other, seeds, unit.states, profiles) is None
    pd.testing.assert_frame_equal(
        inputs._study_terms(tmp_path / "terms.parquet", seeds, unit.states, profiles), fast
    )


def test_every_text_of_a_figure_lies_inside_it(
    result: Comparison, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-made layout (``figures.arrange``) leaves room for every label: nothing
    drawn (tick labels, axis labels, titles, legends, colorbars) crosses the figure's
    edge, in every figure of the report."""
    from matplotlib.figure import Figure

    from alignment_sim.report import figures
    from alignment_sim.report.command import figure_jobs

    drawn: list[Figure] = []
    monkeypatch.setattr(figures, "_png", lambda fig: drawn.append(fig) or b"")
    jobs = figure_jobs(result)
    assert len(jobs) == 9
    for name, args in jobs.values():
        getattr(figures, name)(*args)
    for fig in drawn:
        width, height = fig.get_size_inches()
        tight = fig.get_tightbbox(figures._renderer(fig))
        assert tight.x0 >= -0.01 and tight.y0 >= -0.01, (fig.axes[0].get_title(), tight)
        assert tight.x1 <= width + 0.01 and tight.y1 <= height + 0.01, tight


def test_largest_causes_are_each_states_first_non_zero_causes() -> None:
    rows = [
        ("x", "trade", "cause", 0.31234),
        ("x", "switching", "consequence", 0.5),
        ("x", "prestige", "cause", 0.0),
        ("x", "security", "cause", -0.2),
        ("x", "aid", "cause", 0.1),
        ("y", "switching", "consequence", 0.1),
        ("y", "all causes", "total", 0.0),
    ]
    margins = pd.DataFrame(rows, columns=["state", "term", "role", "change"])
    assert largest_causes(margins, most=2) == {"x": "trade +0.312, security -0.2", "y": "none"}


def test_figures_handed_on_already_are_not_made_again(result: Comparison) -> None:
    from alignment_sim.report.command import figure_jobs

    jobs = figure_jobs(result)
    known = {"alignment_2", "outcomes_1", "drivers_1"}
    rest = figure_jobs(result, known)
    assert list(rest) == [name for name in jobs if name not in known]
    assert all(rest[name][0] == jobs[name][0] for name in rest)


@pytest.mark.slow
def test_figures_drawn_by_a_worker_are_the_same_bytes(
    result: Comparison, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report drawn partly in a worker process (``Drawer``, for large comparisons) has
    the figures one drawn in this process has, byte for byte."""
    from alignment_sim.report import command, entry

    jobs = command.figure_jobs(result)
    here = command.Drawer().draw(jobs)
    monkeypatch.setattr(entry, "quick_run_count", lambda inputs: entry.PARALLEL_RUNS)
    monkeypatch.setattr(entry, "spare_core", lambda: True)
    with command.Drawer(parallel=True) as drawer:
        drawer.prepare([])
        assert drawer.pool is not None
        drawer.start(result)
        assert drawer.pending
        there = drawer.draw(jobs)
    assert list(there) == list(jobs) and there == here


def test_a_worker_draws_only_with_a_core_to_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    from alignment_sim.report import command, entry

    for cores, idle, spare in ((2, 1.9, True), (2, 1.0, False), (8, 1.3, True), (1, 1.0, False)):
        monkeypatch.setattr(entry.os, "cpu_count", lambda cores=cores: cores)
        monkeypatch.setattr(entry, "idle_cores", lambda idle=idle: idle)
        assert entry.spare_core() is spare, (cores, idle)
    monkeypatch.setattr(entry, "idle_cores", lambda: None)  # no /proc/stat: the load average
    for cores, load, spare in ((2, 0.9, True), (2, 1.6, False), (8, 7.0, True)):
        monkeypatch.setattr(entry.os, "cpu_count", lambda cores=cores: cores)
        monkeypatch.setattr(entry.os, "getloadavg", lambda load=load: (load, load, load))
        assert entry.spare_core() is spare, (cores, load)
    monkeypatch.setattr(entry.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(entry, "quick_run_count", lambda inputs: entry.PARALLEL_RUNS)
    drawer = command.Drawer(parallel=True)
    drawer.prepare([])  # enough runs, but no core to spare (1 core): no worker spawned
    assert drawer.pool is None


def test_the_entry_point_starts_the_worker_before_the_command_only_for_large_inputs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``entry.main`` starts the figure worker before it imports the command when the
    folders among its arguments hold enough runs, hands it to the command and stops it."""
    from alignment_sim.report import command, entry

    assert entry.start_worker([tmp_path]) is None  # no runs there
    given: list[object] = []

    def decided(argv: object, pool: object, parallel: bool) -> None:
        assert not parallel, "the entry point decides; the command does not look again"
        given.append(pool)

    monkeypatch.setattr(command, "main", decided)
    entry.main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert given == [None]
    monkeypatch.setattr(entry, "spare_core", lambda: True)
    monkeypatch.setattr(entry, "quick_run_count", lambda inputs: entry.PARALLEL_RUNS)
    entry.main([str(tmp_path)])
    pool = given[-1]
    assert isinstance(pool, ProcessPoolExecutor)
    with pytest.raises(RuntimeError, match="shutdown"):  # stopped once the command returned
        pool.submit(int)


# --- at a glance, multiple comparisons, event markers, --threshold on the command line ----


def page_section(page: str, anchor: str) -> str:
    """The HTML of one section of a report page."""
    found = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    assert found is not None, anchor
    return found.group(1)


def glance_points(page: str, label: str) -> list[str]:
    """The points the at-a-glance section lists under one scenario, as text."""
    glance = page_section(page, "glance")
    found = re.search(rf"<strong>{re.escape(html.escape(label))}</strong><ul>(.*?)</ul>", glance)
    assert found is not None, label
    return [html.unescape(point) for point in re.findall(r"<li>([^<]*)</li>", found.group(1))]


def pp(change: float) -> str:
    return f"{100 * change:+.1f} pp"


def test_at_a_glance_names_the_states_that_move_most_and_why(
    result: Comparison, tmp_path: Path, no_figures: None
) -> None:
    from alignment_sim.report.command import GLANCE_STATES

    label = "scenario=russia_recession"
    page = write_report(result, tmp_path / "report").html.read_text()
    points = glance_points(page, label)
    margins = result.tables["margin_drivers"]
    mine = margins[margins["label"] == label]
    shifts = mine.drop_duplicates("state").set_index("state")["shift"]
    moved = shifts[shifts >= result.threshold / 100]
    assert len(moved) and moved.iloc[0] > 5 * result.threshold / 100  # a state clearly moves
    # the states whose final profile moves most, largest first, no more than GLANCE_STATES
    stories = [p for p in points if re.match(r"\w+: ends in ", p)]
    assert [s.split(":")[0] for s in stories] == list(moved.index[:GLANCE_STATES])
    # the first one's story, checked against the tables it comes from
    state = str(moved.index[0])
    rows = mine[mine["state"] == state].set_index("term")
    joins, leaves = rows["joins"].iloc[0], rows["leaves"].iloc[0]
    probability = result.tables["profile_probability"].set_index(["label", "state", "option"])

    def change(profile: str) -> float:
        return float(
            probability.loc[(label, state, profile), "probability"]
            - probability.loc[(result.baseline, state, profile), "probability"]
        )

    assert change(joins) > 0 > change(leaves)
    story = stories[0]
    assert story.startswith(f"{state}: ends in {joins} {pp(change(joins))}, ")
    assert f"in {leaves} {pp(change(leaves))};" in story
    whole = rows.loc["all causes"]
    assert (
        f"the margin of {joins} over {leaves} changes by {whole['change']:+.3g} "
        f"[{whole['ci_low']:+.3g}, {whole['ci_high']:+.3g}] (utility units)" in story
    )
    causes = rows[(rows["role"] == "cause") & (rows["change"] != 0)].sort_values("rank")
    named = story.split("(utility units): ")[1].split(";")[0]
    assert named.startswith(f"{causes.index[0]} {causes['change'].iloc[0]:+.3g}")
    switching = rows.loc["switching", "change"]
    assert f"switching {switching:+.3g} (a consequence of moving)" in story
    # the outcomes beyond the threshold come first, largest standardised effect first
    effects = result.tables["effects"]
    beyond = effects[(effects["label"] == label) & (effects["practical"] == "beyond")]
    assert len(beyond)
    first = beyond.iloc[np.argsort(-beyond["cohens_d"].abs().to_numpy(), kind="stable")].head(4)
    assert [p.split(":")[0] for p in points[: len(first)]] == list(first["metric"])


def test_state_stories_keep_only_the_states_that_move_beyond_the_threshold(
    result: Comparison,
) -> None:
    from alignment_sim.report.command import state_stories

    label = "scenario=russia_recession"
    margins = result.tables["margin_drivers"]
    shifts = margins[margins["label"] == label].drop_duplicates("state")["shift"].to_numpy()
    states = margins[margins["label"] == label].drop_duplicates("state")["state"].tolist()
    assert len(shifts) >= 2 and shifts[0] > shifts[1]
    between = 100 * (shifts[0] + shifts[1]) / 2  # percentage points
    only = state_stories(margins, label, 3, between)
    assert len(only) == 1 and only[0].startswith(f"{states[0]}: ends in ")
    assert state_stories(margins, label, 3, 100 * shifts[0] + 1) == []
    assert state_stories(margins, label, 2, 0) == state_stories(margins, label, 3, 0)[:2]
    assert state_stories(margins, result.baseline, 3, 0) == []  # no moves against itself


def test_the_multiple_comparisons_note_counts_the_judged_intervals(
    tmp_path: Path, no_figures: None
) -> None:
    """Three runs of two scenarios and one run of a third: the third's differences have
    no interval, and the note counts only the intervals the section holds."""
    for scenario in ("baseline", "russia_recession"):
        singles(tmp_path / "runs", scenario, [0, 1, 2])
    singles(tmp_path / "runs", "afghan_spillover", [0])
    comparison = compare([tmp_path / "runs"], n_boot=BOOT)
    effects = comparison.tables["effects"]
    judged = int((effects["practical"] != "no interval").sum())
    assert 0 < judged < len(effects)  # one scenario judged, the other not
    page = write_report(comparison, tmp_path / "report").html.read_text()
    section = html.unescape(page_section(page, "effects"))
    note = re.search(
        r"Multiple comparisons: this section holds (\d+) intervals at 95% each, so about "
        r"([\d.]+) would exclude zero by chance alone",
        section,
    )
    assert note is not None
    assert int(note.group(1)) == judged
    assert float(note.group(2)) == pytest.approx(0.05 * judged, abs=0.05)
    level = re.search(r"a Bonferroni level of ([\d.]+)%", section)
    assert level is not None
    assert float(level.group(1)) == pytest.approx(100 * (1 - 0.05 / judged), abs=0.005)


def test_every_time_plot_is_given_and_marks_the_scenarios_events(
    result: Comparison, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each figure job drawn over time (a table with a year per row) gets the events
    table, and every panel it draws marks each placed event."""
    import inspect

    from matplotlib.figure import Figure

    from alignment_sim.report import figures
    from alignment_sim.report.command import figure_jobs

    events = result.tables["events"]
    placed = events.dropna(subset=["start"])
    assert len(placed) and set(placed["label"]) == {"scenario=russia_recession"}
    jobs = figure_jobs(result)
    over_time = {
        name: job
        for name, job in jobs.items()
        if any(isinstance(a, pd.DataFrame) and "year" in a.columns for a in job[1])
    }
    assert len(over_time) >= 2  # the record labels, and each dimension's options
    drawn: list[Figure] = []
    monkeypatch.setattr(figures, "_png", lambda fig: drawn.append(fig) or b"")
    for name, (function, args) in over_time.items():
        bound = inspect.signature(getattr(figures, function)).bind(*args).arguments
        assert bound.get("events") is not None, name
        given = bound["events"].dropna(subset=["start"])
        pd.testing.assert_frame_equal(given.reset_index(drop=True), placed.reset_index(drop=True))
        drawn.clear()
        getattr(figures, function)(*args)
        (fig,) = drawn
        panels = [ax for ax in fig.axes if ax.lines]
        assert panels, name
        for ax in panels:
            marks = [t.get_text().strip() for t in ax.texts if t.get_gid() == "event"]
            assert marks == placed["event"].tolist(), (name, ax.get_title())
            starts = [
                line.get_xdata()[0]
                for line in ax.lines
                if len(set(line.get_xdata())) == 1 and line.get_linestyle() == "--"
            ]
            assert starts == placed["start"].tolist(), (name, ax.get_title())


def test_the_threshold_flag_judges_the_effects_and_is_stated_on_the_page(
    result: Comparison, sweep: Path, tmp_path: Path, no_figures: None
) -> None:
    margins = result.tables["margin_drivers"]
    threshold = float(np.ceil(100 * margins["shift"].max())) + 1  # beyond every state's move
    assert threshold != result.threshold
    out = tmp_path / "report"
    main(
        [str(sweep), "--skip-corrupt", "--out", str(out), "--bootstrap", str(BOOT),
         "--seed", "1", "--threshold", f"{threshold:g}"]
    )  # fmt: skip
    judged = pd.read_csv(out / "effects.csv")
    default = result.tables["effects"]  # the same runs, resamples and seed, threshold 2
    assert judged["metric"].tolist() == default["metric"].tolist()
    np.testing.assert_allclose(judged["ci_low"], default["ci_low"])
    share = judged["metric"].str.startswith(("final_share_", "mean_share_"))
    limit = np.where(share, threshold / 100, threshold / 100 * judged["mean_baseline"].abs())
    np.testing.assert_allclose(judged["threshold"], limit)
    low, high = judged["ci_low"].to_numpy(), judged["ci_high"].to_numpy()
    beyond = (low > limit) | (high < -limit)
    inside = (low >= -limit) & (high <= limit)
    expected = np.where(beyond, "beyond", np.where(inside, "negligible", "unclear"))
    assert judged["practical"].tolist() == expected.tolist()
    assert (judged["practical"] != default["practical"]).any()  # the flag changed a verdict
    page = (out / "report.html").read_text()
    effects = html.unescape(page_section(page, "effects"))
    assert f"(--threshold {threshold:g}): {threshold:g} percentage points" in effects
    glance = html.unescape(page_section(page, "glance"))
    assert f"practical threshold ({threshold:g} percentage points" in glance
    points = glance_points(page, "scenario=russia_recession")
    assert (
        f"no state's final profile moves by {threshold:g} percentage points or more with its "
        "margin's change clear of 0"
    ) in points
    if not (judged["practical"] == "beyond").any():
        assert points[0] == (
            f"no outcome differs from the baseline by more than the threshold ({threshold:g})"
        )


@pytest.mark.parametrize("value", ["-1", "101", "nan", "inf"])
def test_a_threshold_out_of_range_is_one_line(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    out = tmp_path / "o"
    err = run_main([str(sweep), "--skip-corrupt", "--threshold", value, "--out", str(out)], capsys)
    assert "--threshold" in err and "expected percentage points in [0, 100]" in err
    assert not out.exists()


def test_a_threshold_that_is_no_number_names_the_flag(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse refuses it before the command runs: its usage, then one error line."""
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as stopped:
        main([str(sweep), "--threshold", "abc", "--out", str(out)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("alignment-sim-compare: ") and "--threshold" in last
    assert "'abc'" in last
    assert not out.exists()


def test_runs_of_another_length_and_a_lone_scenario_are_warned_of(tmp_path: Path) -> None:
    """Final shares of a 12-tick baseline against a 6-tick scenario are read at different
    dates: the comparison warns; one scenario alone is described and warned of too."""
    for ticks in (TICKS, TICKS // 2):
        config = default_config(ticks=ticks)
        batch = run_batch(RunInputs.from_config(config), range(20))
        write_study_job(batch, config, tmp_path / f"t{ticks}", {"ticks": str(ticks)})
    heard: list[str] = []
    compare([tmp_path], n_boot=BOOT, baseline=f"ticks={TICKS}", warn=heard.append)
    assert heard == [
        f"'ticks={TICKS // 2}' runs {TICKS // 2} ticks and the baseline 'ticks={TICKS}' "
        f"{TICKS}: its final shares and effects are read at another date than the baseline's"
    ]
    alone: list[str] = []
    compare([tmp_path / f"t{TICKS}"], n_boot=BOOT, warn=alone.append)
    assert len(alone) == 1 and "no effect is estimated" in alone[0]


def test_other_commands_outputs_are_not_runs_and_the_report_has_a_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_figures: None
) -> None:
    """`alignment-sim-compare results` over runs beside a pattern table and a design: those
    are listed as not runs, not damaged; the report's manifest says what made it and from
    what, and a later comparison over the same tree leaves the report out too."""
    results = tmp_path / "results"
    for scenario in ("baseline", "russia_recession"):
        singles(results / "runs", scenario, [0, 1])
    table = results / "patterns" / "t"
    table.mkdir(parents=True)
    (table / "patterns.csv").write_text("key,met\n1_1,True\n")
    finish_job(table, {"study": "patterns"}, ["patterns.csv"])
    design = results / "designs" / "d"
    design.mkdir(parents=True)
    pd.DataFrame({"point": [0]}).to_parquet(design / "design.parquet")
    finish_job(design, {"study": "d"}, ["design.parquet"])

    out = tmp_path / "report"
    main([str(results), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "4"])
    printed = capsys.readouterr().out
    assert "not runs, a finished patterns output (patterns.csv)" in printed
    assert "not runs, a design study" in printed
    assert job_status(out).complete
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["study"] == "compare" and meta["package"] == "alignment-sim"
    assert meta["baseline"] == "scenario=baseline" and (meta["bootstrap"], meta["seed"]) == (
        BOOT,
        4,
    )
    assert meta["scenarios"]["scenario=russia_recession"]["runs"] == 2
    assert len(meta["scenarios"]["scenario=baseline"]["folders"]) == 2
    # tied to the exact runs it read: each input's folder, digest, seeds and checksums
    first = meta["scenarios"]["scenario=baseline"]["inputs"][0]
    assert Path(first["folder"]).is_absolute() and first["runs_digest"]
    assert first["seeds"] == [0, 0, 1] and first["files"]["trajectory.parquet"]
    assert meta["libraries"]["numpy"] and meta["working_directory"]
    assert {n["status"] for n in meta["left_out"]} == {"not runs"}
    assert {"report.html", "effects.csv", "inputs.csv"} <= set(meta["files"])

    again = compare([tmp_path], n_boot=BOOT)
    assert {n.path for n in again.notes} == {table, design, out}
    assert {n.status for n in again.notes} == {"not runs"}
    with pytest.raises(CompareError, match=r"no finished run.*not runs: a finished patterns"):
        compare([results / "patterns"], n_boot=BOOT)


def test_a_scenario_of_other_states_is_warned_of(tmp_path: Path) -> None:
    """A world without Turkmenistan against the full one: every share is of another set of
    states, which the comparison says rather than passing it off as an effect."""
    from alignment_sim import load_region

    region = load_region()
    region.name = "no_turkmenistan"
    region.states = [s for s in region.states if s.name != "turkmenistan"]
    region.affinities = [a for a in region.affinities if "turkmenistan" not in (a.a, a.b)]
    for name, world in (("post_soviet", load_region()), ("no_turkmenistan", region)):
        config = default_config(region=world, ticks=TICKS)
        batch = run_batch(RunInputs.from_config(config), range(20))
        write_study_job(batch, config, tmp_path / name, {"region": name})
    heard: list[str] = []
    compare([tmp_path], n_boot=BOOT, baseline="region=post_soviet", warn=heard.append)
    assert heard == [
        "'region=no_turkmenistan' has other states than the baseline (without turkmenistan): "
        "its shares are of another set of states, so part of each effect on a share is the "
        "set's, not the scenario's"
    ]


def test_an_unset_value_in_a_label_is_spelled_as_an_override_spells_it() -> None:
    """A history run beside a forecast from an origin: the label reads the history run's
    unset origin from its config as ``null`` (what ``origin=null`` sets), not Python's
    ``None``."""
    from types import SimpleNamespace

    from alignment_sim.report.inputs import label_units

    def unit(parameters: dict[str, str], origin: int | None, digest: str) -> Any:
        config = {"origin": origin, "to": None if origin is None else 2010}
        return SimpleNamespace(
            parameters=parameters, config=config, scenario="history", runs_digest=digest
        )

    units = [unit({}, None, "a"), unit({"origin": "2000", "to": "2010"}, 2000, "b")]
    assert label_units(units) == ["origin=null,to=null", "origin=2000,to=2010"]


def test_three_runs_a_side_get_no_verdict_and_the_glance_says_so(
    tmp_path: Path, no_figures: None
) -> None:
    """Three runs that all agreed gave intervals of [0, 0], read as "negligible" (an
    equivalence) for effects 500 runs find beyond the threshold; the page said nothing of
    the runs' number."""
    root = tmp_path / "few"
    for scenario in ("baseline", "russia_recession"):
        study(root / scenario, scenario, {"scenario": scenario}, runs=3)
    out = tmp_path / "report"
    main([str(root), "--out", str(out), "--bootstrap", str(BOOT), "--seed", "1"])
    effects = pd.read_csv(out / "effects.csv")
    assert set(effects["practical"]) <= {"too few runs", "no interval"}
    page = (out / "report.html").read_text()
    points = glance_points(page, "scenario=russia_recession")
    assert points == [
        "3 runs compared: too few for a verdict (at least 20); effects.csv has the differences "
        "and intervals"
    ]


def test_a_bootstrap_too_large_for_the_memory_left_is_refused(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bootstrap's check allowed half the machine's physical memory, whatever other
    processes held (11.7 GiB on a shared machine): it counts what this process may still
    allocate, as the engine's check does."""
    from alignment_sim.engine import batch

    monkeypatch.setattr(batch, "available_memory_bytes", lambda: 64 << 20)  # 64 MiB left
    err = run_main([str(sweep), "--skip-corrupt", "--bootstrap", "200000"], capsys)
    assert "--bootstrap 200000: would need about" in err
    assert "this process may still allocate" in err
    assert not (tmp_path / "report").exists()


def test_scenarios_of_other_states_are_not_paired_by_seed(tmp_path: Path, no_figures: None) -> None:
    """A scenario run on a region without Turkmenistan was "paired by seed (30 pairs)"
    with the baseline, and the page claimed common random numbers: with other states a
    seed draws other numbers, so the runs are compared unpaired."""
    root = tmp_path / "mixed"
    study(root / "baseline", "baseline", {"scenario": "baseline"}, runs=25)
    config = default_config(scenario="russia_recession", ticks=TICKS, replications=25)
    config.region.states = [s for s in config.region.states if s.name != "turkmenistan"]
    config.region.affinities = [
        a for a in config.region.affinities if "turkmenistan" not in (a.a, a.b)
    ]
    config.region.name = "no_turkmen"
    result = run_batch(RunInputs.from_config(config), range(25))
    write_study_job(result, config, root / "recession", {"scenario": "russia_recession"})
    comparison = compare([root], n_boot=BOOT, seed=1)
    effects = comparison.tables["effects"]
    assert not effects["paired"].any()
    assert set(effects["pairing"]) == {
        "unpaired: other states, so a seed draws other random numbers"
    }
