"""``alignment-sim-collect``: the dataset it writes, and one line (exit 2, nothing left
behind) for every bad input of the reliability review (col03-col13) and OS faults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.outputs.files import (
    find_jobs,
    finish_job,
    read_manifest,
    record_failure,
    write_parquet,
    write_run,
)
from alignment_sim.studies import collect as collect_module
from alignment_sim.studies.collect import CollectError, build_database, collect, main
from alignment_sim.studies.outcomes import OUTCOMES
from alignment_sim.studies.replications import repeats


def fake_job(
    folder: Path,
    options: tuple[str, ...],
    parameters: dict[str, str],
    meta: dict[str, object] | None = None,
) -> Path:
    """A finished study job with two runs (seeds 0, 1) and a tick table of two ticks;
    ``meta``: more manifest keys."""
    folder.mkdir(parents=True)
    runs = {"seed": [0, 1]}
    for option in options:
        runs[f"final_share_{option}"] = [1 / len(options)] * 2
    runs["switches"] = [3, 5]
    ticks = {"seed": [0, 0, 1, 1], "tick": [0, 1, 0, 1]}
    ticks.update({f"share_{o}": [1 / len(options)] * 4 for o in options})
    write_parquet(folder / "runs.parquet", pd.DataFrame(runs), {})
    write_parquet(folder / "ticks.parquet", pd.DataFrame(ticks), {})
    manifest = {"parameters": parameters, **(meta or {})}
    finish_job(folder, manifest, ["runs.parquet", "ticks.parquet"])
    return folder


def fake_design(folder: Path) -> Path:
    (folder / "runs").mkdir(parents=True)
    write_parquet(
        folder / "design.parquet", pd.DataFrame({"point": [0], "weights.trade": [1.0]}), {}
    )
    part = pd.DataFrame({"point": [0, 0], "seed": [0, 1], "weights.trade": [1.0, 1.0]})
    write_parquet(folder / "runs" / "part-00000.parquet", part, {})
    (folder / "sensitivity.csv").write_text("outcome\n")
    (folder / "sensitivity.png").write_bytes(b"png")
    files = ["design.parquet", "sensitivity.csv", "sensitivity.png", "runs/part-00000.parquet"]
    config = {"design": {"method": "lhs", "parameters": {"weights.trade": [0.5, 2.0]}}}
    finish_job(folder, {"design": "lhs", "config": config}, files)
    return folder


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "sweep"
    fake_job(root / "scenario=a", ("russia", "hedge"), {"scenario": "a"})
    fake_job(root / "scenario=b", ("russia", "hedge"), {"scenario": "b"})
    record_failure(root / "scenario=c", ValueError("boom"), ["scenario=c"])
    return root


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("alignment-sim-collect: ")
    assert err.count("\n") == 1, err
    return err


def test_collects_runs_and_ticks_with_job_columns(sweep: Path, tmp_path: Path, capsys) -> None:
    out, ticks = tmp_path / "o" / "runs.parquet", tmp_path / "o" / "ticks.parquet"
    main([str(sweep), "--out", str(out), "--ticks", str(ticks)])
    printed = capsys.readouterr().out
    assert "4 runs from 2 jobs" in printed and "scenario=c (failed: job failed" in printed
    table = pd.read_parquet(out)
    assert list(table.columns) == [
        "seed",
        "final_share_russia",
        "final_share_hedge",
        "switches",
        "scenario",
        "job",
    ]
    assert list(table["scenario"]) == ["a", "a", "b", "b"]
    assert list(table["job"]) == ["scenario=a", "scenario=a", "scenario=b", "scenario=b"]
    assert table["switches"].sum() == 16
    assert len(pd.read_parquet(ticks)) == 8
    counts = collect(sweep, tmp_path / "again.parquet")
    assert counts["jobs"] == 2 and counts["failed"] == [str(sweep / "scenario=c")]
    assert leftovers(tmp_path) == []


def test_two_worlds_give_the_union_of_option_columns(sweep: Path, tmp_path: Path) -> None:
    fake_job(sweep / "region=two", ("east", "hedge"), {"region": "two"})
    out = tmp_path / "all.parquet"
    collect(sweep, out)
    table = pd.read_parquet(out).set_index("job")
    assert {"final_share_russia", "final_share_east", "region"} <= set(table.columns)
    assert table.loc["region=two", "final_share_russia"].isna().all()
    assert table.loc["scenario=a", "final_share_east"].isna().all()
    assert (table.loc["region=two", "final_share_east"] == 0.5).all()
    assert table.loc["scenario=a", "region"].isna().all()


@pytest.mark.parametrize("damage", ["random", "zero", "truncated"])
def test_a_corrupt_table_is_refused_or_skipped(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    runs = sweep / "scenario=b" / "runs.parquet"
    size = runs.stat().st_size
    payload = {"random": bytes(range(256)) * (size // 256 + 1), "zero": b""}
    runs.write_bytes(payload.get(damage, runs.read_bytes()[: size // 2])[:size])
    out = tmp_path / "out.parquet"
    err = run_main([str(sweep), "--out", str(out)], capsys)
    assert "scenario=b looks finished but runs.parquet" in err and "--skip-corrupt" in err
    assert not out.exists() and leftovers(tmp_path) == []
    main([str(sweep), "--out", str(out), "--skip-corrupt"])
    assert "scenario=b (corrupt: runs.parquet" in capsys.readouterr().out
    assert set(pd.read_parquet(out)["scenario"]) == {"a"}


def test_a_corrupt_manifest_is_named(sweep: Path, tmp_path: Path, capsys) -> None:
    (sweep / "scenario=a" / "manifest.json").write_text('{"parameters": ')
    err = run_main([str(sweep), "--out", str(tmp_path / "o.parquet")], capsys)
    assert "scenario=a looks finished but manifest.json cannot be read" in err


def test_nothing_finished_is_one_line(tmp_path: Path, capsys) -> None:
    root = tmp_path / "failed_only"
    record_failure(root / "job", ValueError("boom"), [])
    assert "no finished study under" in run_main([str(root)], capsys)
    assert not (root / "collected_runs.parquet").exists()
    single = tmp_path / "single"  # a single run: said, with the command that reads it
    write_run(AlignmentModel(default_config(ticks=2)).run(), default_config(ticks=2), single)
    error = run_main([str(single), "--out", str(tmp_path / "o.parquet")], capsys)
    assert "it holds a single run (alignment-sim-compare reads it)" in error


def test_design_and_sweep_under_one_root_are_refused(sweep: Path, tmp_path: Path, capsys) -> None:
    fake_design(sweep / "design")
    err = run_main([str(sweep), "--out", str(tmp_path / "o.parquet")], capsys)
    assert "both design studies" in err and "collect each folder on its own" in err
    out = tmp_path / "d.parquet"
    collect(sweep / "design", out)  # a design alone is fine
    assert list(pd.read_parquet(out)["point"]) == [0, 0]


def test_bad_out_paths_are_one_line(sweep: Path, tmp_path: Path, capsys) -> None:
    assert "is a folder" in run_main([str(sweep), "--out", str(tmp_path)], capsys)
    afile = tmp_path / "afile"
    afile.write_text("x")
    err = run_main([str(sweep), "--out", str(afile / "o.parquet")], capsys)
    assert f"{afile} is a file, not a folder" in err
    table = sweep / "scenario=a" / "runs.parquet"
    assert "is one of the tables being collected" in run_main(
        [str(sweep), "--out", str(table)], capsys
    )
    same = str(tmp_path / "x.parquet")
    assert "same file" in run_main([str(sweep), "--out", same, "--ticks", same], capsys)
    err = run_main([str(sweep), "--out", str(tmp_path / "s.csv")], capsys)
    assert "s.csv: the file written is Parquet; name it NAME.parquet" in err
    assert leftovers(tmp_path) == [] and not (tmp_path / "x.parquet").exists()
    assert not (tmp_path / "s.csv").exists()


def test_a_file_a_job_wrote_is_never_the_output(tmp_path: Path, capsys) -> None:
    """``--out DESIGN/design.parquet`` replaced a finished design's points with the
    collected runs (the design was then refused as damaged): a file a job's manifest lists
    is refused; the default output beside it is fine."""
    design = fake_design(tmp_path / "design")
    points = (design / "design.parquet").read_bytes()
    err = run_main([str(design), "--out", str(design / "design.parquet")], capsys)
    assert "is a file of the job" in err and "would damage the job" in err
    assert (design / "design.parquet").read_bytes() == points
    collect(design, design / "collected_runs.parquet")


def test_an_os_error_is_one_line_and_leaves_nothing(
    sweep: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pq.ParquetWriter.write_table

    def full_disk(self, table, *args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / ".o.parquet.0123456789ab.tmp"))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    out = tmp_path / "o.parquet"
    err = run_main(
        [str(sweep), "--out", str(out), "--ticks", str(tmp_path / "t.parquet")], capsys, code=1
    )
    assert f"{out}: No space left on device (nothing was written)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
    assert collect_module.collect(sweep, out)["rows"] == 4


def test_ticks_are_refused_when_a_job_has_none(tmp_path: Path) -> None:
    fake_design(tmp_path / "design")
    with pytest.raises(CollectError, match="no ticks table"):
        collect(tmp_path / "design", tmp_path / "o.parquet", ticks=tmp_path / "t.parquet")
    assert not (tmp_path / "o.parquet").exists() and leftovers(tmp_path) == []


def test_find_jobs_finds_finished_jobs_and_their_parameters(sweep: Path) -> None:
    found = find_jobs(sweep)
    assert [f.name for f in found.done] == ["scenario=a", "scenario=b"]
    assert [(f.name, s.state) for f, s in found.left_out] == [("scenario=c", "failed")]
    assert collect_module.job_parameters(found.done[0]) == {"scenario": "a"}
    meta = json.loads((found.done[0] / "manifest.json").read_text())
    assert set(meta["files"]) == {"runs.parquet", "ticks.parquet"}


def test_the_collected_file_keeps_a_merged_manifest(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for name, digest in (("a", "d1"), ("b", "d2")):
        meta = {"git_revision": "abc", "version": "0.1.0", "config_digest": digest}
        fake_job(root / f"scenario={name}", ("russia", "hedge"), {"scenario": name}, meta)
    out = tmp_path / "o.parquet"
    collect(root, out, ticks=tmp_path / "t.parquet")
    for path in (out, tmp_path / "t.parquet"):
        manifest = read_manifest(path)
        assert manifest["git_revision"] == "abc" and manifest["version"] == "0.1.0"  # shared
        jobs = manifest["jobs"]
        assert set(jobs) == set(pd.read_parquet(out)["job"]) == {"scenario=a", "scenario=b"}
        assert jobs["scenario=b"]["config_digest"] == "d2"  # what differs, per job
        assert jobs["scenario=a"]["parameters"] == {"scenario": "a"}
        assert manifest["collected"]["source"] == str(root)


def test_parameters_are_typed_and_every_column_is_described(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for trade, flag in (("1", "true"), ("2.5", "false")):
        given = {"scenario": "x", "replications": "500", "weights.trade": trade, "flag": flag}
        fake_job(root / f"trade={trade}", ("russia", "hedge"), given)
    out, dictionary = tmp_path / "o.parquet", tmp_path / "dictionary.csv"
    main([str(root), "--out", str(out), "--dictionary", str(dictionary)])
    schema = pq.read_schema(out)
    types = {name: str(schema.field(name).type) for name in schema.names}
    assert types["replications"] == "int64" and types["weights.trade"] == "double"
    assert types["flag"] == "bool" and types["scenario"] == "string"
    assert list(pd.read_parquet(out)["weights.trade"]) == [1.0, 1.0, 2.5, 2.5]
    table = pd.read_csv(dictionary).set_index("column")
    assert table.loc["switches", "unit"] == "count of state-ticks"
    assert table.loc["final_share_hedge", "meaning"].startswith("share of states whose profile")
    assert table.loc["weights.trade", "unit"] == "a weight"
    assert table.loc["scenario", "unit"] == "preset name"
    assert table["meaning"].notna().all()  # every column, including job and seed
    field = schema.field("switches").metadata
    assert field[b"meaning"].decode() == OUTCOMES["switches"]


def test_every_outcome_has_a_unit() -> None:
    assert list(collect_module.OUTCOME_UNITS) == list(OUTCOMES)
    # a column's meaning names its own option, label or state (the pattern's placeholder
    # left in it read "<option>" for a column that is one option's)
    assert collect_module.describe("final_share_security_none")[1] == OUTCOMES[
        "final_share_security_<option>"
    ].replace("<option>", "none")
    assert "<" not in collect_module.describe("final_share_russia")[1]
    assert "record label russia " in collect_module.describe("final_share_russia")[1]
    assert collect_module.describe("final_label_kazakhstan")[1] == OUTCOMES["final_label_<state>"]
    assert collect_module.describe("final_kazakhstan")[1] == OUTCOMES["final_<state>"]


def study_jobs(results: Path, study: str, scenarios: dict[str, int]) -> None:
    """A sweep of fake jobs, one per scenario, with that many switches in each run."""
    for scenario, switches in scenarios.items():
        meta = {
            "config_digest": f"{study}-{scenario}",
            "created_utc": "2026-12-01T10:00:00+00:00",
            "git_revision": f"rev-{study}",
            "config": {"scenario": {"name": scenario}, "ticks": 10, "replications": 2},
        }
        job = fake_job(results / study / f"scenario={scenario}", ("russia", "hedge"), {}, meta)
        runs = pd.read_parquet(job / "runs.parquet").assign(switches=switches)
        write_parquet(job / "runs.parquet", runs, {})
        finish_job(
            job, {"parameters": {"scenario": scenario}, **meta}, ["runs.parquet", "ticks.parquet"]
        )


def test_one_database_answers_a_question_across_studies(tmp_path: Path, capsys) -> None:
    duckdb = pytest.importorskip("duckdb")
    results = tmp_path / "results"
    study_jobs(results / "sweeps", "first", {"baseline": 2, "shock": 6})
    study_jobs(results / "sweeps", "second", {"baseline": 4})
    fake_design(results / "designs" / "d")
    record_failure(results / "sweeps" / "second" / "scenario=broken", ValueError("x"), [])
    database = tmp_path / "all.duckdb"
    main([str(results), "--duckdb", str(database)])
    printed = capsys.readouterr().out
    assert "4 jobs" in printed and "design_runs (2 rows)" in printed
    assert "runs (6 rows, 2 repeated)" in printed  # the two baselines: the same runs
    assert "scenario=broken (failed" in printed
    with duckdb.connect(str(database), read_only=True) as con:
        answer = con.execute(
            "SELECT s.study, s.scenario, s.git_revision, avg(r.switches), count(*) "
            "FROM runs r JOIN studies s ON r.study_id = s.id GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        assert answer == [
            ("sweeps/first", "baseline", "rev-first", 2.0, 2),
            ("sweeps/first", "shock", "rev-first", 6.0, 2),
            ("sweeps/second", "baseline", "rev-second", 4.0, 2),
        ]
        design = "SELECT id, kind, config_digest, created_utc FROM studies WHERE kind = 'design'"
        row = con.execute(design).fetchall()
        assert row == [("designs/d", "design", None, None)]
        assert con.execute(
            "SELECT config_digest FROM studies WHERE id LIKE '%shock'"
        ).fetchall() == [("first-shock",)]
        created = con.execute(
            "SELECT DISTINCT created_utc::VARCHAR FROM studies WHERE kind = 'study'"
        )
        assert created.fetchall() == [("2026-12-01 10:00:00",)]
        unit = "SELECT unit FROM dictionary WHERE tbl = 'runs' AND col = 'switches'"
        assert con.execute(unit).fetchall() == [("count of state-ticks",)]
        made = dict(con.execute("SELECT key, value FROM provenance").fetchall())
        assert made["package"] == "alignment-sim" and made["source"] == str(results)
        assert made["version"] and made["git_revision"] and made["created_utc"]
        # a design's varied parameter: its range in studies, its unit in the dictionary
        varied = "SELECT parameters FROM studies WHERE kind = 'design'"
        assert json.loads(con.execute(varied).fetchall()[0][0]) == {"weights.trade": [0.5, 2.0]}
        column = "SELECT unit, meaning FROM dictionary WHERE tbl = 'design_runs' AND col = "
        unit, meaning = con.execute(column + "'weights.trade'").fetchall()[0]
        assert unit == "a weight" and "weights.trade" in meaning
    unit, meaning = collect_module.describe_column("year", "ticks")
    assert unit == "decimal calendar year" and "2015.25" in meaning
    assert leftovers(tmp_path) == []


def test_duckdb_is_on_its_own(sweep: Path, tmp_path: Path, capsys) -> None:
    err = run_main([str(sweep), "--duckdb", str(tmp_path / "a.duckdb"), "--out", "x"], capsys)
    assert "--duckdb writes one database" in err
    assert "is a folder" in run_main([str(sweep), "--duckdb", str(tmp_path)], capsys)


# --- no run collected twice ---------------------------------------------------------------


def test_repeats_leave_out_every_run_already_counted() -> None:
    """Known answers: units (key, seeds), largest first, then in order; a unit whose
    every run is counted already, or that repeats a seed of its own, is left out whole;
    one with some runs counted keeps its others, unless units are taken whole only
    (``partial=False``, a comparison's folders); other keys never clash."""
    units = [
        ("a", [0, 1]),  # inside the larger unit 1: left out whole, owner 1
        ("a", [0, 1, 2, 3]),
        ("b", [0, 1]),  # another configuration: kept
        ("a", [3, 4, 5, 6]),  # as large as unit 1, later: seed 3 left out, 4-6 kept
        ("a", [10, 11, 12]),  # new seeds of "a": kept
        ("c", [5, 5]),  # a seed twice in itself
        ("a", [5, 6, 7]),  # 5 and 6 are unit 3's new runs: left out, 7 kept
    ]
    found = {r.index: r for r in repeats(units)}
    assert sorted(found) == [0, 3, 5, 6]
    assert (found[0].owner, found[0].runs, found[0].whole) == (1, (0, 1), True)
    assert (found[3].owner, found[3].runs, found[3].whole) == (1, (3,), False)
    assert (found[5].owner, found[5].runs, found[5].whole) == (None, (5,), True)
    assert (found[6].owner, found[6].runs, found[6].whole) == (3, (5, 6), False)
    whole = {r.index: r for r in repeats(units, partial=False)}
    assert sorted(whole) == [0, 3, 5]  # unit 3 out whole: 5 and 6 stay unit 6's
    assert all(r.whole for r in whole.values()) and whole[3].runs == (3,)
    assert repeats([("a", [0]), ("a", [1])]) == []
    # a design's runs are (point, seed): the same seed at another point is another run
    assert repeats([("d", [(0, 0), (1, 0)]), ("d", [(2, 0)])]) == []
    (design,) = repeats([("d", [(0, 0), (1, 0)]), ("d", [(1, 0)])])
    assert (design.index, design.owner, design.run, design.whole) == (1, 0, (1, 0), True)


def rerun_job(folder: Path, seeds: list[int], config: dict[str, object]) -> Path:
    """A finished study job of ``seeds`` with ``config`` in its manifest."""
    job = fake_job(folder, ("russia", "hedge"), {}, {"config": config})
    runs = pd.DataFrame({"seed": seeds, "switches": [3] * len(seeds)})
    write_parquet(job / "runs.parquet", runs, {})
    finish_job(job, {"parameters": {}, "config": config}, ["runs.parquet", "ticks.parquet"])
    return job


def test_a_study_rerun_with_more_replications_is_collected_once(tmp_path: Path, capsys) -> None:
    """A sweep re-run with other ``replications`` (the research review's 5.14) left two
    jobs per scenario with seeds in common: their runs are the same runs (a run depends on
    its config and seed), so the smaller job is left out and listed; another block of seeds
    (``seed=1000``) or another scenario is collected."""
    config = {"scenario": {"name": "baseline"}, "ticks": 8, "seed": 0, "replications": 3}
    study = tmp_path / "study"
    rerun_job(study / "replications=2", [0, 1], {**config, "replications": 2})
    rerun_job(study / "replications=3", [0, 1, 2], config)
    rerun_job(study / "seed=1000", [1000, 1001, 1002], {**config, "seed": 1000})
    rerun_job(study / "shock", [0, 1, 2], {**config, "scenario": {"name": "shock"}})
    rerun_job(study / "workers=2", [0, 1, 2], {**config, "engine": {"workers": 2}})
    out = tmp_path / "all.parquet"
    main([str(study), "--out", str(out)])
    printed = capsys.readouterr().out
    runs = pd.read_parquet(out)
    assert sorted(runs["job"].unique()) == ["replications=3", "seed=1000", "shock"]
    assert len(runs) == 9 and not runs.duplicated(["job", "seed"]).any()
    assert "not collected: " in printed and "replications=2 (complete: 2 of its runs" in printed
    assert "workers=2 (complete: 3 of its runs (e.g. seed 0)" in printed
    assert "already collected from replications=3" in printed


def test_a_job_whose_seeds_partly_overlap_a_larger_one_keeps_its_other_runs(
    tmp_path: Path, capsys
) -> None:
    """Seeds 0-4 of a job of seeds 0-9 beside one of seeds 5-24 of the same configuration:
    the larger job is collected whole, the smaller one without seeds 5-9, so every run is
    collected once and none is lost (they were, with the whole job, until 5 December
    2026); its ticks likewise."""
    config = {"scenario": {"name": "baseline"}, "ticks": 8, "seed": 0, "replications": 10}
    study = tmp_path / "study"
    for name, seeds in (("first", range(10)), ("more", range(5, 25))):
        job = rerun_job(study / name, list(seeds), {**config, "seed": seeds[0]})
        ticks = pd.DataFrame({"seed": np.repeat(list(seeds), 2), "tick": [0, 1] * len(seeds)})
        write_parquet(job / "ticks.parquet", ticks, {})
        finish_job(job, {"parameters": {}, "config": config}, ["runs.parquet", "ticks.parquet"])
    out, ticks_out = tmp_path / "all.parquet", tmp_path / "ticks.parquet"
    main([str(study), "--out", str(out), "--ticks", str(ticks_out)])
    printed = capsys.readouterr().out
    runs = pd.read_parquet(out)
    assert sorted(runs["seed"]) == list(range(25)) and len(runs) == 25
    assert sorted(runs.loc[runs.job == "first", "seed"]) == [0, 1, 2, 3, 4]
    ticks = pd.read_parquet(ticks_out)
    assert len(ticks) == 50 and not ticks.duplicated(["seed", "tick"]).any()
    assert "25 runs from 2 jobs" in printed and "not collected" not in printed
    assert (
        "collected in part: " in printed
        and "first (5 of its runs (e.g. seed 5) are already collected from more, with the "
        "same configuration; its other runs are collected)"
        in printed
    )


def test_a_designs_repeated_runs_are_left_out_by_point_and_seed() -> None:
    """A design's run is its (point, seed): seed 0 of point 1 goes, seed 0 of point 0
    stays."""
    import pyarrow as pa

    table = pa.table({"point": [0, 0, 1, 1], "seed": [0, 1, 0, 1], "x": [1, 2, 3, 4]})
    kept = collect_module._without_runs(table, [(1, 0)], design=True)
    assert kept.column("x").to_pylist() == [1, 2, 4]
    kept = collect_module._without_runs(table.drop(["point"]), [0], design=False)
    assert kept.column("x").to_pylist() == [2, 4]


def test_a_design_run_twice_is_collected_once(tmp_path: Path, capsys) -> None:
    """Two design jobs of one configuration give the same runs, point by point: the second
    is left out and listed; a design of other points (another sampler seed) is kept."""
    config = {"design": {"method": "lhs", "seed": 0}, "ticks": 8, "seed": 0}
    root = tmp_path / "designs"
    for name, design_config in (
        ("run-1", config),
        ("run-2", config),
        ("other", {**config, "design": {"method": "lhs", "seed": 1}}),
    ):
        job = fake_design(root / name)
        files = ["design.parquet", "sensitivity.csv", "sensitivity.png", "runs/part-00000.parquet"]
        finish_job(job, {"design": "lhs", "config": design_config}, files)
    out = tmp_path / "all.parquet"
    main([str(root), "--out", str(out)])
    printed = capsys.readouterr().out
    runs = pd.read_parquet(out)
    assert sorted(runs["job"].unique()) == ["other", "run-1"]
    assert "run-2 (complete: 2 of its runs (e.g. point 0, seed 0)" in printed
    assert "already collected from run-1" in printed


def test_the_database_marks_a_job_whose_runs_another_job_holds(tmp_path: Path, capsys) -> None:
    """The DuckDB catalogue keeps every job (one row each) and every run: ``studies.repeats``
    names the job that already holds runs of a re-run, and each run table's ``repeated``
    marks the runs held twice (a job's every run, or some: seeds 2-3 of a job of seeds
    2-4 beside one of 0-3), so ``WHERE NOT repeated`` counts each run once."""
    duckdb = pytest.importorskip("duckdb")
    config = {"scenario": {"name": "baseline"}, "ticks": 8, "seed": 0, "replications": 4}
    results = tmp_path / "results"
    rerun_job(results / "first" / "replications=2", [0, 1], {**config, "replications": 2})
    rerun_job(results / "first" / "replications=4", [0, 1, 2, 3], config)
    rerun_job(results / "first" / "seed=2", [2, 3, 4], {**config, "seed": 2, "replications": 3})
    rerun_job(results / "second" / "seed=1000", [1000, 1001], {**config, "seed": 1000})
    database = tmp_path / "all.duckdb"
    main([str(results), "--duckdb", str(database)])
    assert "runs (11 rows, 4 repeated), ticks (16 rows, 4 repeated)" in capsys.readouterr().out
    with duckdb.connect(str(database), read_only=True) as con:
        marks = con.execute("SELECT id, repeats FROM studies ORDER BY id").fetchall()
        assert marks == [
            ("first/replications=2", "first/replications=4"),
            ("first/replications=4", None),
            ("first/seed=2", "first/replications=4"),
            ("second/seed=1000", None),
        ]
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (11,)
        once = "SELECT study_id, seed FROM runs WHERE NOT repeated ORDER BY seed"
        assert con.execute(once).fetchall() == [
            ("first/replications=4", 0),
            ("first/replications=4", 1),
            ("first/replications=4", 2),
            ("first/replications=4", 3),
            ("first/seed=2", 4),
            ("second/seed=1000", 1000),
            ("second/seed=1000", 1001),
        ]
        ticks = "SELECT study_id, count(*) FROM ticks WHERE repeated GROUP BY study_id"
        assert con.execute(ticks).fetchall() == [("first/replications=2", 4)]  # seeds 0-1
        meaning = "SELECT meaning FROM dictionary WHERE tbl = 'runs' AND col = 'repeated'"
        assert "WHERE NOT repeated" in con.execute(meaning).fetchone()[0]
        meaning = "SELECT meaning FROM dictionary WHERE tbl = 'studies' AND col = 'repeats'"
        assert "WHERE NOT repeated" in con.execute(meaning).fetchone()[0]


def test_each_output_option_is_checked_by_its_name_before_anything_is_written(
    sweep: Path, tmp_path: Path, capsys
) -> None:
    """``--dictionary`` on a folder was found only after the runs file was written (exit 1,
    "nothing was written"); ``--ticks`` and ``--duckdb`` on a folder were named --out."""
    folder = tmp_path / "a_folder"
    folder.mkdir()
    out = tmp_path / "o.parquet"
    err = run_main([str(sweep), "--out", str(out), "--dictionary", str(folder)], capsys)
    assert "--dictionary" in err and "is a folder" in err and not out.exists()
    err = run_main([str(sweep), "--out", str(out), "--ticks", str(folder)], capsys)
    assert f"--ticks {folder} is a folder" in err and not out.exists()
    assert f"--duckdb {folder} is a folder" in run_main(
        [str(sweep), "--duckdb", str(folder)], capsys
    )


def test_a_change_that_keeps_a_files_size_is_found_by_its_readers(
    sweep: Path, tmp_path: Path, capsys
) -> None:
    """A bit flipped in a runs table (same size, footer intact) was collected as it was,
    and compared: the baseline's share of Russia fell from 0.45 to 0.018 without a word.
    The manifest's SHA-256 is checked by the readers: the job is corrupt, refused, or
    left out with --skip-corrupt."""
    from alignment_sim.outputs.files import job_status

    table = sweep / "scenario=a" / "runs.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 3] ^= 0x04
    table.write_bytes(bytes(data))
    assert job_status(sweep / "scenario=a").complete  # a writer's check: sizes and footers
    status = job_status(sweep / "scenario=a", verify=True)
    assert status.state == "corrupt" and "SHA-256" in status.reason
    err = run_main([str(sweep), "--out", str(tmp_path / "o.parquet")], capsys)
    assert "scenario=a" in err and "SHA-256" in err and not (tmp_path / "o.parquet").exists()
    counts = collect(sweep, tmp_path / "o.parquet", skip_corrupt=True)
    assert counts["jobs"] == 1


def test_a_parameter_another_design_varies_is_collected_at_its_value(tmp_path: Path) -> None:
    """Two designs over different parameters, collected together: each design's rows had
    nulls for the other's parameter, though every run held it at its configured value."""
    from alignment_sim import default_config
    from alignment_sim.model.params import DesignSpec
    from alignment_sim.studies.design import run_design

    root = tmp_path / "designs"
    for name, parameters in (
        ("stance", {"dynamics.stance": [-1.0, 1.0]}),
        ("trade", {"weights.trade": [1.0, 3.0]}),
    ):
        spec = DesignSpec(method="grid", parameters=parameters, levels=2, outcomes=["switches"])
        config = default_config(ticks=2, replications=2, design=spec)
        run_design(config, root / name, progress=False)
    out = tmp_path / "all.parquet"
    collect(root, out)
    runs = pd.read_parquet(out)
    by_job = runs.groupby("job")
    defaults = default_config()
    assert set(by_job["weights.trade"].unique()["stance"]) == {defaults.weights.trade}
    assert set(by_job["dynamics.stance"].unique()["trade"]) == {defaults.dynamics.stance}
    assert set(by_job["weights.trade"].unique()["trade"]) == {1.0, 3.0}
    assert not runs[["weights.trade", "dynamics.stance"]].isna().any().any()


def test_a_configured_value_keeps_its_fraction_beside_whole_swept_values(tmp_path: Path) -> None:
    """Jobs swept with weights.trade=1 and 3 made the column whole numbers, and a job that
    held it at 2.5 (a fitted set's, say) was collected as 2: the type counts it."""
    from alignment_sim import default_config
    from alignment_sim.engine.batch import run_batch
    from alignment_sim.model.inputs import RunInputs
    from alignment_sim.paths import with_values
    from alignment_sim.studies.replications import write_study_job

    root = tmp_path / "sweep"
    for name, value, swept in (
        ("a", 1.0, {"weights.trade": "1"}),
        ("b", 3.0, {"weights.trade": "3"}),
        ("c", 2.5, {}),
    ):
        config = with_values(default_config(ticks=2, replications=2), {"weights.trade": value})
        result = run_batch(RunInputs.from_config(config), range(2))
        write_study_job(result, config, root / name, swept)
    out = tmp_path / "all.parquet"
    collect(root, out)
    runs = pd.read_parquet(out)
    assert runs["weights.trade"].dtype == "float64"
    assert runs.groupby("job")["weights.trade"].first().to_dict() == {"a": 1.0, "b": 3.0, "c": 2.5}
    duckdb = pytest.importorskip("duckdb")  # the database, the same: typed and filled
    database = tmp_path / "all.duckdb"
    build_database(root, database)
    with duckdb.connect(str(database), read_only=True) as con:
        kinds = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE runs)").fetchall())
        held = con.execute(
            'SELECT study_id, min("weights.trade") FROM runs GROUP BY 1 ORDER BY 1'
        ).fetchall()
    assert kinds["weights.trade"] == "DOUBLE"
    assert held == [("a", 1.0), ("b", 3.0), ("c", 2.5)]
