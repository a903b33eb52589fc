"""Output files: atomic writes, finishing a job, the one "is this job finished?", and
imports without side effects."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import SimulationConfig
from alignment_sim.model.world import World
from alignment_sim.outputs.files import (
    RUN_FILES,
    SWITCHES_SHOWN,
    as_typed,
    atomic_write,
    command_errors,
    counted,
    finish_job,
    job_status,
    os_error_text,
    record_failure,
    summary_text,
    write_parquet,
    write_run,
)
from alignment_sim.outputs.plots import dimension_colors, label_colors


def test_atomic_write_renames_on_success_and_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="midway"), atomic_write(target, "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("midway")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with atomic_write(target, "w") as handle:
        handle.write("new")
        assert target.read_text() == "old"  # nothing visible before the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_temporary_names_are_unique_and_permissions_follow_umask(
    tmp_path: Path,
) -> None:
    target = tmp_path / "same.bin"
    with atomic_write(target) as first, atomic_write(target) as second:
        names = sorted(p.name for p in tmp_path.iterdir())
        first.write(b"a")
        second.write(b"b")
    assert len(names) == 2 and all(n.startswith(".same.bin.") for n in names)
    assert target.read_bytes() == b"a"  # the last to finish (the outer block) wins, whole
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(ValueError, match="mode 'a'"), atomic_write(target, "a"):
        pass


def test_concurrent_writers_never_tear_a_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    payloads = [bytes([n]) * 200_000 for n in range(8)]

    def write(data: bytes) -> None:
        for _ in range(5):
            with atomic_write(target) as handle:
                handle.write(data)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]


def _study_like(folder: Path) -> dict[str, object]:
    folder.mkdir(parents=True)
    write_parquet(folder / "runs.parquet", pd.DataFrame({"seed": [0, 1]}), {"x": 1})
    (folder / "aggregate.json").write_text("{}")
    return {"config_digest": "abc", "seed": 0}


def test_finish_job_lists_sizes_and_hashes_and_clears_an_old_error(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    meta = _study_like(folder)
    record_failure(folder, ValueError("boom"), ["a=1"])
    assert job_status(folder).state == "failed"
    finish_job(folder, meta, ["runs.parquet", "aggregate.json"])
    written = json.loads((folder / "manifest.json").read_text())
    runs = (folder / "runs.parquet").read_bytes()
    assert written["files"]["runs.parquet"] == {
        "bytes": len(runs),
        "sha256": hashlib.sha256(runs).hexdigest(),
    }
    assert written["config_digest"] == "abc" and "files" not in meta
    assert not (folder / "error.json").exists()
    assert job_status(folder) == job_status(folder, "abc")
    assert job_status(folder).complete and job_status(folder).reason == ""


def test_job_status_names_each_state(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    assert job_status(folder).state == "unfinished"
    meta = _study_like(folder)
    assert job_status(folder).state == "unfinished"
    finish_job(folder, meta, ["runs.parquet", "aggregate.json"])
    stale = job_status(folder, "another digest")
    assert stale.state == "stale" and "digest" in stale.reason
    (folder / "aggregate.json").write_text("{} ")
    damaged = job_status(folder)
    assert damaged.state == "corrupt" and "aggregate.json has 3 bytes" in damaged.reason
    (folder / "aggregate.json").write_text("{}")
    (folder / "runs.parquet").unlink()
    assert job_status(folder).reason == "runs.parquet is missing"
    (folder / "manifest.json").write_text('{"seed": ')
    unreadable = job_status(folder)
    assert unreadable.state == "corrupt" and "manifest.json cannot be read" in unreadable.reason
    (folder / "manifest.json").write_text("[1, 2]")
    assert "does not hold an object" in job_status(folder).reason
    record_failure(folder, KeyError("no such pole"), [])
    failed = job_status(folder)
    assert failed.state == "failed" and "KeyError" in failed.reason
    assert not (folder / "manifest.json").exists()  # an earlier run's manifest goes


def test_older_manifests_are_judged_by_the_files_of_their_kind(tmp_path: Path) -> None:
    folder = tmp_path / "legacy"
    _study_like(folder)
    (folder / "manifest.json").write_text(json.dumps({"seed": 0}))
    # no ticks.parquet: a study job without files listed needs every study file
    assert job_status(folder).reason == "ticks.parquet is missing"
    for name in ("ticks.parquet", "terms.parquet"):
        (folder / name).write_bytes((folder / "runs.parquet").read_bytes())
    assert job_status(folder).complete
    (folder / "terms.parquet").write_bytes(b"")  # zero bytes: the footer cannot be read
    corrupt = job_status(folder)
    assert corrupt.state == "corrupt" and corrupt.reason.startswith("terms.parquet cannot be read")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.json").write_text("{}")
    assert "none of its tables" in job_status(empty).reason


def test_an_error_newer_than_the_manifest_means_failed(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    meta = _study_like(folder)
    finish_job(folder, meta, ["runs.parquet"])
    (folder / "error.json").write_text(json.dumps({"type": "OSError", "error": "disk full"}))
    status = job_status(folder)
    assert status.state == "failed" and "earlier run" in status.reason
    os.utime(folder / "error.json", ns=(1, 1))  # an error from before the job finished
    assert job_status(folder).complete


def test_single_run_folder_is_finished_and_lists_its_files(tmp_path: Path) -> None:
    config = default_config(ticks=3, seed=4)
    trajectory = AlignmentModel(config).run()
    folder = write_run(trajectory, config, tmp_path / "run", plots=True)
    listed = json.loads((folder / "manifest.json").read_text())["files"]
    assert list(listed) == [*RUN_FILES, "trajectory.png"]
    assert (folder / "trajectory.png").read_bytes().startswith(b"\x89PNG")
    assert job_status(folder).complete
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*RUN_FILES, "trajectory.png", "manifest.json"]
    )
    frame = pd.read_parquet(folder / "trajectory.parquet")
    assert len(frame) == 4 * len(trajectory.world.states)


def test_os_error_text_names_the_final_file_not_the_temporary_one(tmp_path: Path) -> None:
    error = OSError(28, "No space left on device", str(tmp_path / ".report.html.0a1b2c3d4e5f.tmp"))
    assert os_error_text(error) == f"{tmp_path / 'report.html'}: No space left on device"
    plain = OSError(30, "Read-only file system", "/data/x.parquet")
    assert os_error_text(plain) == "/data/x.parquet: Read-only file system"


def test_drawing_modules_never_switch_the_matplotlib_backend() -> None:
    code = (
        "import matplotlib; matplotlib.use('svg')\n"
        "import alignment_sim.classroom.drawing, alignment_sim.outputs.plots\n"
        "import alignment_sim.report.figures\n"
        "print(matplotlib.get_backend())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"


def test_summary_text_gives_each_states_profile_label_and_both_dimensions(
    tiny_config: SimulationConfig, tiny_world: World
) -> None:
    trajectory = AlignmentModel(tiny_config, world=tiny_world).run()
    summary = trajectory.summary()
    lines = summary_text(trajectory).splitlines()
    assert lines[1].startswith("Final shares by record label: p ")
    assert lines[2].startswith("  security: p ") and ", none " in lines[2]
    assert lines[3].startswith("  economy: p ") and ", q " in lines[3] and ", open " in lines[3]
    for state, profile in summary["final_alignment"].items():
        row = next(line for line in lines if line.startswith(f"  {state} "))
        assert row.split()[1:3] == [profile, summary["final_labels"][state]]
    assert lines[-1] in (
        f"Stable since tick {summary['time_to_stability']}.",
        f"Still switching at the end (a switch at tick {trajectory.ticks}, the last).",
    )
    world = trajectory.world  # p offers security, q does not
    assert label_colors(world) == [*world.pole_colors, "#9b9b9b"]
    assert dimension_colors(world, "security") == [world.pole_colors[0], "#e5e5e5"]
    assert dimension_colors(world, "economy") == [*world.pole_colors, "#e5e5e5"]


def test_a_summary_says_a_run_still_switching_and_counts_what_it_does_not_list() -> None:
    """The research review's 5.9: a run whose last switch is at its last tick is not
    "stable since" it; a run with many switches lists the first ``SWITCHES_SHOWN`` and
    counts the rest; a whole end year is written whole."""
    noisy = AlignmentModel(default_config(ticks=12, seed=0), rationality=0.5).run()
    summary = noisy.summary()
    assert summary["n_switches"] > SWITCHES_SHOWN and summary["time_to_stability"] == 12
    lines = summary_text(noisy).splitlines()
    assert lines[0].endswith("2015 Q1 to 2017 Q4 (12 ticks of 3 months), seed 0")
    listed = [line for line in lines if line.startswith("  tick ")]
    assert len(listed) == SWITCHES_SHOWN
    for line in listed:  # the quarter from which the new profile holds, as the classroom
        tick = int(line.split()[1])  # dates a tick: after tick 1 of 2015 it is 2015 Q2
        assert f"(from {2015 + tick // 4} Q{tick % 4 + 1})" in line
    more = summary["n_switches"] - SWITCHES_SHOWN
    assert f"  ... and {more} more (every one in summary.json)" in lines
    assert lines[-1] == "Still switching at the end (a switch at tick 12, the last)."
    calm = AlignmentModel(default_config(ticks=6, seed=0), decision="best_response").run()
    assert summary_text(calm).splitlines()[-1] == "Stable since tick 0."


def test_a_command_reports_bad_input_and_os_errors_in_one_line(tmp_path: Path, capsys) -> None:
    """Bad input exits 2, an OS error 1 saying what was not written; both one line, named
    by the command; anything else is not swallowed."""
    with pytest.raises(SystemExit) as exited, command_errors("tool", "nothing was written"):
        raise ConfigError("--out", "x", "a folder")
    assert exited.value.code == 2
    assert capsys.readouterr().err == "tool: --out = 'x': expected a folder.\n"
    with pytest.raises(SystemExit) as exited, command_errors("tool", "nothing was written"):
        open(tmp_path / "missing" / "file.csv")  # noqa: SIM115
    assert exited.value.code == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "file.csv" in message
    assert message.endswith("(nothing was written).\n")
    with pytest.raises(KeyError), command_errors("tool", "nothing was written", (ValueError,)):
        raise KeyError("a bug stays a traceback")
    with pytest.raises(SystemExit) as exited, command_errors("tool", "nothing was written"):
        raise KeyboardInterrupt  # Ctrl+C in discover or collect was a traceback
    assert exited.value.code == 130
    assert capsys.readouterr().err == "tool: interrupted (nothing was written).\n"


def test_a_commands_bad_input_names_the_option_as_typed(capsys) -> None:
    """A key that is an option's destination is named by the option, with the hint kept;
    any other key, or another error, as the library says it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--first-seed", type=int)
    parser.add_argument("-w", "--workers", type=int)
    with pytest.raises(SystemExit) as exited, command_errors("tool", "-", parser=parser):
        raise ConfigError("first_seed", -1, "a seed >= 0", "Seeds count from 0.")
    assert exited.value.code == 2
    assert (
        capsys.readouterr().err
        == "tool: --first-seed -1: expected a seed >= 0. Seeds count from 0.\n"
    )
    assert as_typed(ConfigError("workers", 0, "a whole number >= 1"), parser) == (
        "--workers 0: expected a whole number >= 1."
    )
    assert as_typed(ConfigError("weights.trade", -1.0, "a number >= 0"), parser) == (
        "weights.trade = -1.0: expected a number >= 0."
    )
    assert as_typed(ValueError("plain"), parser) == "plain"
    assert as_typed(ConfigError("workers", 0, "x"), None) == "workers = 0: expected x."


def test_a_count_is_plural_unless_it_is_one() -> None:
    assert [counted(n, "run") for n in (0, 1, 2)] == ["0 runs", "1 run", "2 runs"]


def test_an_event_is_dated_by_the_quarter_its_first_tick_covers() -> None:
    """Tick t covers the quarter that starts at tick t - 1's end: an event dated 15
    January 2016 in the 2015 world is in force from tick 5, the first quarter of 2016."""
    from alignment_sim.model.params import EventSpec, ScenarioSpec

    scenario = ScenarioSpec(
        name="dated",
        events=[EventSpec(kind="energy_cut_off", date="2016-01-15", targets=["ukraine"])],
    )
    trajectory = AlignmentModel(default_config(ticks=8, scenario=scenario)).run()
    assert "from tick 5 (2016 Q1)" in summary_text(trajectory)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(
            lambda: default_config(ticks=6, seed=3, scenario="russia_recession"), id="static"
        ),
        pytest.param(
            lambda: default_config(scenario="history", origin=2000, to=2001, seed=2), id="calendar"
        ),
    ],
)
def test_a_run_is_rebuilt_from_its_manifest_and_gives_the_same_numbers(
    tmp_path: Path, config: Any
) -> None:
    """(config, seed) are all a run depends on: the configuration its manifest records
    (``config_from_manifest``), run again, gives the same trajectory."""
    from alignment_sim import config_from_manifest

    original = config()
    trajectory = AlignmentModel(original).run()
    folder = write_run(trajectory, original, tmp_path / "run", plots=False)
    rebuilt = config_from_manifest(folder)
    assert rebuilt == original
    again = AlignmentModel(rebuilt).run()
    assert (again.alignment == trajectory.alignment).all()
    assert config_from_manifest(folder / "manifest.json") == original
    with pytest.raises(ConfigError, match="manifest"):
        config_from_manifest(tmp_path / "nowhere")


def test_the_summary_says_how_many_events_fall_outside_the_run() -> None:
    """Dated events before or after the run are left out of it: the summary counts them,
    so a scenario whose events all miss the run does not pass for a baseline."""
    from alignment_sim.model.params import EventSpec, ScenarioSpec

    events = [
        EventSpec(kind="energy_cut_off", date="2016-01-15", targets=["ukraine"]),
        EventSpec(kind="energy_cut_off", date="2031-01-01", targets=["ukraine"]),
        EventSpec(kind="energy_cut_off", date="2000-01-01", duration=4, targets=["ukraine"]),
    ]
    config = default_config(ticks=8, scenario=ScenarioSpec(name="three", events=events))
    text = summary_text(AlignmentModel(config).run(), listed=len(events))
    assert "2 events of the scenario's 3 fall outside the run" in text


def test_a_mistyped_option_is_named_before_a_missing_required_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """argparse 3.11 would say only that --year is required; the package's parser names
    the option it does not know, with the closest, and still takes abbreviations."""
    from alignment_sim.outputs.files import CommandParser

    parser = CommandParser(prog="p")
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--static", action="store_true")
    with pytest.raises(SystemExit):
        parser.parse_args(["--yaer", "2000"])
    assert "unrecognized option --yaer (did you mean --year?)" in capsys.readouterr().err
    args = parser.parse_args(["--year=2000", "--stat"])
    assert (args.year, args.static) == (2000, True)
    assert parser.parse_known_args(["--year", "1", "--", "--zzz"])[1] == ["--", "--zzz"]


def test_a_commands_default_folder_is_its_own_within_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two discoveries started in the same second both wrote results/discover/<time>/
    (each found it free): the time now carries random hex digits, drawn again while the
    folder exists."""
    from alignment_sim.outputs import files

    monkeypatch.chdir(tmp_path)
    drawn = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(files.secrets, "token_hex", lambda _: next(drawn))
    first = files.timestamped_folder("discover")
    assert first.parent == Path("results/discover") and first.name.endswith("_aaaa")
    first.mkdir(parents=True)
    assert files.timestamped_folder("discover").name.endswith("_bbbb")


def test_a_model_stepped_part_way_writes_the_ticks_it_played_with_its_own_seed(
    tmp_path: Path,
) -> None:
    """``write_run`` on a model stepped 5 of 16 ticks failed in its plot (years of 16 ticks,
    shares of 5) and its labels held years not played, every state "russia"; a run given
    its seed beside the config wrote the config's seed, so ``config_from_manifest`` gave
    another run."""
    from alignment_sim import config_from_manifest

    model = AlignmentModel(default_config(scenario="history", origin=2000, to=2003, seed=1))
    for _ in range(5):
        model.step()
    folder = write_run(model.trajectory, model.config, tmp_path / "part")
    assert job_status(folder).complete
    assert list(pd.read_parquet(folder / "labels.parquet")["year"].unique()) == [2001]
    assert pd.read_parquet(folder / "trajectory.parquet")["tick"].max() == 5
    assert (
        summary_text(model.trajectory)
        .splitlines()[0]
        .endswith("2001 Q1 to 2002 Q1 (5 ticks of 3 months), seed 1")
    )
    config = default_config(ticks=6, seed=3)
    run = AlignmentModel(config, seed=9).run()
    again = config_from_manifest(write_run(run, config, tmp_path / "seed9", plots=False))
    assert again.seed == 9
    np.testing.assert_array_equal(AlignmentModel(again).run().alignment, run.alignment)


def test_an_output_folder_the_command_cannot_write_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only parent ended a pattern table's (or robustness study's, landscape's)
    minutes of computing in a refused write; it is refused before the first run. (The
    tests may run as root, who may write anywhere: the folder's access is faked.)"""
    from alignment_sim.studies import patterns

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))

    def not_reached(*args: object) -> None:
        raise AssertionError("computed before the output folder was checked")

    monkeypatch.setattr(patterns, "measure_all", not_reached)
    with pytest.raises(SystemExit) as stopped:
        patterns.main(["--seeds", "2", "--out", str(locked / "new" / "table")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert f"--out = '{locked / 'new' / 'table'}'" in error and f"{locked} is not writable" in error


@pytest.mark.parametrize(
    ("module", "argv"),
    [
        ("alignment_sim.report.score", ["--yaer", "2000", "x"]),
        ("alignment_sim.studies.patterns", ["--seeds", "x"]),
        ("alignment_sim.studies.collect", []),
    ],
)
def test_a_command_line_mistake_is_one_line(
    module: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse printed its usage lines before the error: one line, as every other
    refusal, saying where the options are listed."""
    import importlib

    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(module).main(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "error: " in error and "--help lists the options" in error


def test_a_progress_bar_in_a_log_file_updates_every_half_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bar written to a file (a batch job's log) redrew ten times a second: hundreds of
    lines for a study; in a terminal it is tqdm's own."""
    from alignment_sim import progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with progress.progress_bar(10, "run") as bar:
        assert bar.mininterval == progress.LOG_INTERVAL_S == 30.0
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress.progress_bar(10, "run") as bar:
        assert bar.mininterval == 0.1
