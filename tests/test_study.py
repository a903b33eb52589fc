"""Studies: replications per job, sweeps that resume and survive failures, collection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import CLI, run_cli
from omegaconf import OmegaConf

from alignment_sim import default_config
from alignment_sim.cli.callbacks import SweepProgress
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.params import EngineParams
from alignment_sim.outputs.files import job_status
from alignment_sim.studies.collect import collect
from alignment_sim.studies.outcomes import share_kinds, share_name
from alignment_sim.studies.replications import (
    NOT_PARAMETERS,
    config_digest,
    job_parameters,
    outcome_table,
    run_study,
    terms_table,
    tick_table,
    write_study_job,
)


def test_outcome_table_counts_switches_and_shares() -> None:
    config = default_config(scenario="russia_recession", ticks=12)
    result = run_batch(RunInputs.from_config(config), range(30))
    runs = outcome_table(result)
    assert len(runs) == 30 and list(runs.seed) == list(range(30))
    moves = np.diff(result.alignment.astype(int), axis=1) != 0
    np.testing.assert_array_equal(runs.switches, moves.sum(axis=(1, 2)))
    world = result.inputs.world
    ticks = tick_table(result)
    assert len(ticks) == 30 * 13
    for kind, options in share_kinds(world.space):  # each kind's shares sum to one
        names = [share_name(kind, o) for o in options]
        for prefix, table in (("final_share_", runs), ("mean_share_", runs), ("share_", ticks)):
            np.testing.assert_allclose(table[[prefix + n for n in names]].sum(axis=1), 1.0)
    assert ((runs.time_to_stability >= 0) & (runs.time_to_stability <= 12)).all()
    stable = runs[runs.switches == 0]
    assert (stable.time_to_stability == 0).all()
    assert (stable.label_switches == 0).all() and (stable.states_switched == 0).all()
    assert set(runs.final_belarus) <= set(world.options)
    assert set(runs.final_label_belarus) <= set(world.labels)
    last = ticks[ticks.tick == 12].set_index("seed")
    assert list(last.belarus.astype(str)) == list(runs.final_belarus)


def test_study_job_files_and_completion(tmp_path: Path) -> None:
    config = default_config(ticks=8, replications=20)
    result = run_batch(RunInputs.from_config(config), range(20), record="full")
    folder = write_study_job(result, config, tmp_path / "job", {"scenario": "baseline"})
    assert job_status(folder, config_digest(config)).complete
    other = default_config(ticks=9, replications=20)
    assert not job_status(folder, config_digest(other)).complete
    runs = pd.read_parquet(folder / "runs.parquet")
    assert (runs.scenario == "baseline").all()
    terms = pd.read_parquet(folder / "terms.parquet")
    world = result.inputs.world
    assert len(terms) == 20 * len(world.states) * len(world.options) * len(TERMS)
    assert set(terms.option) == set(world.options) and set(terms.term) == set(TERMS)
    # a profile's terms add up to its utility U_sec(s) + U_econ(e), averaged over the run
    assert result.trajectory is not None
    utility = result.trajectory.profile_utility().mean(axis=1)  # (R, N, K)
    cells = pd.MultiIndex.from_product([range(20), world.states, world.options])
    sums = terms.groupby(["seed", "state", "option"], observed=True)["value"].sum()
    np.testing.assert_allclose(
        sums.reindex(cells).to_numpy(), utility.reshape(-1), rtol=1e-5, atol=1e-5
    )
    aggregate = json.loads((folder / "aggregate.json").read_text())
    assert aggregate["runs"] == 20
    assert aggregate["switches"]["ci95"][0] <= aggregate["switches"]["mean"]
    assert aggregate["switches"]["mean"] == pytest.approx(runs.switches.mean())
    profiles = aggregate["final_alignment_probability"]["belarus"]
    labels = aggregate["final_label_probability"]["belarus"]
    assert sum(profiles.values()) == pytest.approx(1.0) and set(profiles) <= set(world.options)
    assert sum(labels.values()) == pytest.approx(1.0) and set(labels) <= set(world.labels)
    for label, p in labels.items():
        held = [
            q
            for k, q in profiles.items()
            if world.space.profile_labels[world.options.index(k)] == label
        ]
        assert p == pytest.approx(sum(held))


def test_a_sweep_with_a_bad_job_is_refused_before_any_job_runs(tmp_path: Path) -> None:
    """colour_revolution's event at tick 16 in a 10-tick run: the sweeper checks every
    job as the job would (``check_job``) and no job starts."""
    args = ["-m", "scenario=baseline,colour_revolution", "replications=5", "ticks=10", "study=b"]
    result = run_cli(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "scenario.events[0].at = 16: expected a whole tick in [1, 10]" in result.stderr
    assert "job scenario=colour_revolution,replications=5,ticks=10" in result.stderr
    assert "no job has run" in result.stderr
    assert not (tmp_path / "results" / "sweeps" / "b").exists()  # the folder untouched


def test_sweep_records_failures_resumes_and_collects(tmp_path: Path) -> None:
    args = [
        "-m",
        "scenario=baseline,russia_recession,western_conditionality",
        "replications=60",
        "ticks=10",
        "study=t",
        "hydra.launcher.n_jobs=2",
        "output.quiet=true",
    ]
    sweep = tmp_path / "results" / "sweeps" / "t"
    # a job that cannot write its table (a folder where runs.parquet goes) fails as it runs
    (sweep / "replications=60,scenario=western_conditionality,ticks=10" / "runs.parquet").mkdir(
        parents=True
    )
    first = run_cli(args, tmp_path)
    assert first.returncode == 1, first.stderr  # the others finish; the failure is told
    assert "1 job of the sweep did not finish: replications=60,scenario=western_conditionality" in (
        first.stderr
    )
    jobs = {p.name: p for p in sweep.iterdir() if p.is_dir()}
    done = [n for n, p in jobs.items() if (p / "manifest.json").is_file()]
    failed = [n for n, p in jobs.items() if (p / "error.json").is_file()]
    assert len(done) == 2 and len(failed) == 1 and "western_conditionality" in failed[0]
    assert "runs.parquet" in json.loads((jobs[failed[0]] / "error.json").read_text())["error"]
    assert "2 complete, 1 failed" in first.stdout
    before = {n: (jobs[n] / "runs.parquet").stat().st_mtime_ns for n in done}
    second = run_cli(args, tmp_path)
    assert second.returncode == 1 and second.stdout.count("already complete") == 2
    assert {n: (jobs[n] / "runs.parquet").stat().st_mtime_ns for n in done} == before
    out = tmp_path / "all.parquet"
    counts = collect(sweep, out)
    assert counts["rows"] == 120 and counts["jobs"] == 2 and len(counts["failed"]) == 1
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"select scenario, avg(switches) as s, count(*) as n from '{out}' "
        "group by scenario order by scenario"
    ).fetchall()
    assert [(r[0], r[2]) for r in rows] == [("baseline", 60), ("russia_recession", 60)]
    for scenario, mean, _ in rows:
        job = next(p for n, p in jobs.items() if f"scenario={scenario}" in n.split(","))
        assert mean == pytest.approx(pd.read_parquet(job / "runs.parquet").switches.mean())


@pytest.mark.slow
def test_same_numbers_with_one_or_two_workers(tmp_path: Path) -> None:
    common = ["replications=300", "ticks=10", "engine.chunk_size=50", "output.quiet=true"]
    one = run_cli([*common, "engine.workers=1", f"hydra.run.dir={tmp_path / 'one'}"], tmp_path)
    two = run_cli([*common, "engine.workers=2", f"hydra.run.dir={tmp_path / 'two'}"], tmp_path)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one" / "runs.parquet"),
        pd.read_parquet(tmp_path / "two" / "runs.parquet"),
    )


@pytest.mark.slow
def test_killed_sweep_resumes_without_redoing_or_changing_numbers(tmp_path: Path) -> None:
    scenarios = "baseline,russia_recession,china_expansion,western_engagement,nato_buildup"
    args = [
        "-m",
        f"scenario={scenarios}",
        "replications=3000",
        "ticks=40",
        "study=k",
        "hydra.launcher.n_jobs=1",
        "output.quiet=true",
        "engine.progress=false",
    ]
    reference = run_cli([*args[:-4], "study=ref", *args[-3:]], tmp_path, timeout=600)
    assert reference.returncode == 0, reference.stderr
    sweep = tmp_path / "results" / "sweeps" / "k"
    process = subprocess.Popen(
        [*CLI, *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if sweep.is_dir() and len(list(sweep.glob("*/manifest.json"))) >= 2:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {
        p.parent.name: p.parent.joinpath("runs.parquet").stat().st_mtime_ns
        for p in sweep.glob("*/manifest.json")
    }
    assert 2 <= len(finished) < 5, "the kill should land part way through"
    again = run_cli(args, tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already complete") == len(finished)
    for name, mtime in finished.items():
        assert (sweep / name / "runs.parquet").stat().st_mtime_ns == mtime
    ref = tmp_path / "results" / "sweeps" / "ref"
    for job in ref.iterdir():
        if job.is_dir():
            pd.testing.assert_frame_equal(
                pd.read_parquet(job / "runs.parquet"),
                pd.read_parquet(sweep / job.name / "runs.parquet"),
            )


def test_slurm_launcher_config_composes() -> None:
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        cfg = compose(
            config_name="config", overrides=["hydra/launcher=slurm"], return_hydra_config=True
        )
    launcher = cfg.hydra.launcher
    assert "SlurmLauncher" in launcher._target_
    assert launcher.cpus_per_task == 2 and launcher.timeout_min == 120


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_sweep(tmp_path: Path) -> None:
    result = run_cli(
        [
            "-m",
            "hydra/launcher=submitit_local",
            "scenario=baseline,nato_buildup",
            "replications=30",
            "ticks=6",
            "study=s",
            "output.quiet=true",
        ],
        tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    sweep = tmp_path / "results" / "sweeps" / "s"
    assert len(list(sweep.glob("*/manifest.json"))) == 2


def test_streamed_job_equals_the_gathered_one(tmp_path: Path) -> None:
    config = default_config(scenario="afghan_spillover", ticks=9, replications=23, seed=4)
    config.engine = EngineParams(chunk_size=5, progress=False)
    run_study(config, tmp_path / "streamed", {"scenario": "afghan_spillover"})
    gathered = run_batch(RunInputs.from_config(config), range(4, 27))
    write_study_job(gathered, config, tmp_path / "gathered", {"scenario": "afghan_spillover"})
    for name in ("runs", "ticks", "terms"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "streamed" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "gathered" / f"{name}.parquet"),
            check_exact=True,
        )
    assert (tmp_path / "streamed" / "aggregate.json").read_text() == (
        tmp_path / "gathered" / "aggregate.json"
    ).read_text()
    assert job_status(tmp_path / "streamed", config_digest(config)).complete
    assert not list((tmp_path / "streamed").glob("*.tmp"))


def test_digest_and_parameters_ignore_execution_only_settings() -> None:
    config = default_config(ticks=8, replications=20)
    faster = default_config(ticks=8, replications=20, study="other")
    faster.engine = EngineParams(workers=2, chunk_size=7, progress=False, backend="dask")
    faster.output.quiet = True
    faster.output.plots = False
    assert config_digest(faster) == config_digest(config)
    assert config_digest(default_config(ticks=9, replications=20)) != config_digest(config)
    overrides = [
        "seed=5",
        "scenario=x",
        "hydra.launcher.n_jobs=2",
        *(f"{k}=1" for k in NOT_PARAMETERS),
    ]
    assert job_parameters(overrides) == {"scenario": "x"}


def test_study_job_runs_on_the_dask_cluster_it_is_given(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    config = default_config(ticks=6, replications=12)
    config.engine = EngineParams(chunk_size=4, progress=False)
    run_study(config, tmp_path / "local", {})
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        config.engine = EngineParams(
            chunk_size=4, progress=False, backend="dask", dask_address=cluster.scheduler_address
        )
        run_study(config, tmp_path / "dask", {})
        assert "run_chunk" in cluster.scheduler.task_prefixes  # the chunks ran there
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "local" / "runs.parquet"),
        pd.read_parquet(tmp_path / "dask" / "runs.parquet"),
    )


def test_unreachable_dask_address_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from alignment_sim.engine import distributed

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 0.5)
    config = default_config(ticks=4, replications=4)
    config.engine = EngineParams(backend="dask", dask_address="tcp://127.0.0.1:1", progress=False)
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"^engine\.dask_address = 'tcp://127\.0\.0\.1:1'"):
        run_study(config, tmp_path / "job", {})
    assert time.monotonic() - started < 5
    assert not (tmp_path / "job" / "manifest.json").exists()


@pytest.mark.slow
def test_seed_blocks_are_runs_seeds_not_a_parameter(tmp_path: Path) -> None:
    one = run_cli(
        [
            "seed=5",
            "replications=20",
            "ticks=4",
            "output.quiet=true",
            "engine.progress=false",
            f"hydra.run.dir={tmp_path / 'one'}",
        ],
        tmp_path,
    )
    assert one.returncode == 0, one.stderr
    runs = pd.read_parquet(tmp_path / "one" / "runs.parquet")
    assert list(runs.seed) == list(range(5, 25))
    sweep = run_cli(
        [
            "-m",
            "seed=0,1000",
            "replications=30",
            "ticks=4",
            "output.quiet=true",
            "engine.progress=false",
            "hydra.launcher.n_jobs=1",
            f"hydra.sweep.dir={tmp_path / 'blocks'}",
        ],
        tmp_path,
    )
    assert sweep.returncode == 0, sweep.stderr
    counts = collect(tmp_path / "blocks", tmp_path / "all.parquet")
    assert counts["rows"] == 60 and counts["jobs"] == 2
    seeds = pd.read_parquet(tmp_path / "all.parquet").seed
    assert sorted(seeds) == [*range(30), *range(1000, 1030)]


def test_streamed_labels_equal_the_gathered_ones(tmp_path: Path) -> None:
    config = default_config(ticks=13, replications=11, seed=2)
    config.engine = EngineParams(chunk_size=4, progress=False)
    run_study(config, tmp_path / "streamed", {})
    gathered = run_batch(RunInputs.from_config(config), range(2, 13))
    write_study_job(gathered, config, tmp_path / "gathered", {})
    streamed = pd.read_parquet(tmp_path / "streamed" / "labels.parquet")
    pd.testing.assert_frame_equal(
        streamed, pd.read_parquet(tmp_path / "gathered" / "labels.parquet"), check_exact=True
    )
    assert len(streamed) == 11 * 11 * 3  # 13 ticks from 2015 cover 2015, 2016 and 2017
    assert list(streamed.seed.unique()) == list(range(2, 13))


def test_the_terms_table_has_a_row_per_run_state_profile_and_term() -> None:
    """Each row holds mean_terms[run, state, profile, term]; the rows run through the terms
    fastest; state, option and term are categoricals in sorted order."""
    batch = run_batch(RunInputs.from_config(default_config(ticks=3)), [5, 9], record="summary")
    assert batch.mean_terms is not None
    table = terms_table(batch)
    world = batch.inputs.world
    R, N, K, T = batch.mean_terms.shape
    assert len(table) == R * N * K * T and list(table.columns) == [
        "seed",
        "state",
        "option",
        "term",
        "value",
    ]
    assert list(table["term"].cat.categories) == sorted(TERMS)
    assert list(table["state"].cat.categories) == sorted(world.states)
    row = table.iloc[(((1 * N + 4) * K + 7) * T) + 2]
    assert (row["seed"], row["state"], row["option"], row["term"]) == (
        9,
        world.states[4],
        world.options[7],
        TERMS[2],
    )
    assert row["value"] == float(batch.mean_terms[1, 4, 7, 2])


def test_a_sweep_is_told_of_earlier_sweeps_jobs_in_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sweeps without study= share results/sweeps/default: the summary counts this sweep's
    jobs only and says how many of earlier sweeps the folder holds."""
    sweep = tmp_path / "default"

    def job(name: str) -> None:
        (sweep / name / ".hydra").mkdir(parents=True)
        (sweep / name / ".hydra" / "overrides.yaml").write_text("[]\n")

    job("scenario=baseline")
    job("scenario=russia_recession")
    earlier = time.time_ns() - 10_000_000_000
    for name in ("scenario=baseline", "scenario=russia_recession"):
        os.utime(sweep / name / ".hydra" / "overrides.yaml", ns=(earlier, earlier))
    progress = SweepProgress()
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}})
    progress.on_multirun_start(config)
    job("dynamics.stance=1")
    progress.on_multirun_end(config)
    out = capsys.readouterr().out
    assert "0 complete, 0 failed, 1 unfinished" in out
    assert "also holds 2 job(s) of earlier sweeps" in out and "study=NAME" in out
    progress.on_multirun_start(config)
    for name in ("scenario=baseline", "scenario=russia_recession", "dynamics.stance=1"):
        (sweep / name / ".hydra" / "overrides.yaml").write_text("[]\n")
    progress.on_multirun_end(config)
    assert "earlier sweeps" not in capsys.readouterr().out


def test_an_edited_data_file_makes_a_finished_job_stale(tmp_path: Path) -> None:
    """The digest that recognises a finished job covers the contents of the data files
    the job reads: the same configuration over an edited attributes file is another job."""
    from alignment_sim.model.world import ATTRIBUTES_FILE, packaged_data_path
    from alignment_sim.studies.replications import config_digest, data_files

    attributes = tmp_path / "attributes.csv"
    attributes.write_bytes(packaged_data_path(ATTRIBUTES_FILE).read_bytes())
    config = default_config(ticks=4)
    config.region.attributes_file = str(attributes)
    config.validate()
    assert data_files(config)["region.attributes_file"] == attributes
    before = config_digest(config)
    assert config_digest(config) == before  # stable
    original = attributes.read_bytes()
    edited = original.replace(b"Belarus,2015,polity2,", b"Belarus,2015,polity2,-", 1)
    assert edited != original
    attributes.write_bytes(edited)
    assert config_digest(config) != before
    attributes.write_bytes(original)
    assert config_digest(config) == before


def test_an_interrupted_study_leaves_no_file_and_no_writer_to_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C between two chunks: the temporary files went, but their Parquet writers were
    closed later by the garbage collector on the closed files, printing three "Exception
    ignored in ParquetWriter.__del__" tracebacks after "interrupted."."""
    import gc
    import sys

    from alignment_sim.studies import replications

    config = default_config(ticks=3, replications=2)
    inputs = RunInputs.from_config(config)
    seeds = np.arange(2)

    def chunks():
        yield run_batch(inputs, range(1))
        raise KeyboardInterrupt

    unraised: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraised.append)
    with pytest.raises(KeyboardInterrupt):
        replications._write_tables(chunks(), seeds, config, tmp_path / "job", {}, None)
    gc.collect()
    assert unraised == []
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == []
