"""The alignment-sim command under user mistakes and file-system faults: one line, a
truthful exit status, and nothing left that looks complete (reliability review cases)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

CLI = str(Path(sys.executable).with_name("alignment-sim"))
FAST = ["ticks=5", "output.plots=false"]


def sigint_default() -> None:
    """In a child, before it starts: Ctrl+C at its default. A test run started in the
    background (``cmd &`` in a non-interactive shell, ``nohup``) has SIGINT ignored, which
    its children inherit, and the command rightly leaves an ignored SIGINT alone."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(args: list[str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, *needles: str):
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_nested_typo_is_refused_naming_the_key_and_the_known_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(["+weights.tradee=1", *FAST, f"hydra.run.dir={out}"], tmp_path)
    assert_one_line_error(result, 2, "weights.tradee = 1", "a key of weights (", "trade,")
    assert not (out / "manifest.json").exists()


def test_pole_named_as_designs_spell_it_is_applied(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(["region.poles.russia.credibility=0.5", *FAST, f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    russia = next(p for p in manifest["config"]["region"]["poles"] if p["name"] == "russia")
    assert russia["credibility"] == 0.5
    assert manifest["overrides"][0] == "region.poles.russia.credibility=0.5"  # as typed


def test_a_state_swept_by_name_is_named_in_its_jobs_manifests_and_columns(
    tmp_path: Path,
) -> None:
    """Hydra is given the state's position; the jobs' manifests, their parameters and the
    collected table name the state as the user did (and a position given is named too)."""
    sweep = ["-m", "region.states.uzbekistan.autonomy=0.05,0.1", "region.states.8.autonomy=0.2"]
    result = cli([*sweep, *FAST, "replications=2", "study=named"], tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "results" / "sweeps" / "named"
    manifests = [json.loads(m.read_text()) for m in sorted(root.glob("*/manifest.json"))]
    states = ["region.states.tajikistan.autonomy", "region.states.uzbekistan.autonomy"]
    assert [sorted(m["parameters"])[:2] for m in manifests] == [states, states]
    collected = subprocess.run(
        [str(Path(sys.executable).parent / "alignment-sim-collect"), str(root)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert collected.returncode == 0, collected.stderr
    runs = pd.read_parquet(root / "collected_runs.parquet")
    assert sorted(runs["region.states.uzbekistan.autonomy"].unique()) == [0.05, 0.1]


def test_pole_name_in_a_user_region_under_config_dir(tmp_path: Path) -> None:
    from alignment_sim.presets import conf_dir

    (tmp_path / "cfg" / "region").mkdir(parents=True)
    text = (conf_dir() / "region" / "post_soviet.yaml").read_text()
    (tmp_path / "cfg" / "region" / "mine.yaml").write_text(text)
    out = tmp_path / "out"
    args = ["--config-dir", "cfg", "region=mine", "region.states.georgia.autonomy=0.25"]
    result = cli([*args, *FAST, f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 0, result.stderr
    states = json.loads((out / "manifest.json").read_text())["config"]["region"]["states"]
    assert next(s for s in states if s["name"] == "georgia")["autonomy"] == 0.25


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("region.poles.5.credibility=0.5", ("region.poles.5.credibility", "[0, 2]", "russia")),
        ("region.poles.narnia.credibility=0.5", ("'narnia'", "russia, china, west")),
        ("ticks=1000000000", ("ticks = 1000000000", "fits in memory")),
        ("seed=18446744073709551616", ("seed = 18446744073709551616",)),
        (  # OmegaConf's own words named the state by position: region.states[0]
            "region.states.belarus.autonomy=null",
            ("region.states.belarus.autonomy = None: expected a value",),
        ),
        ("region.states.belarus.autonomy=abc", ("region.states.belarus.autonomy = 'abc'",)),
        ("region.states.belarus.transit=5", ("belarus.transit = 5: expected a mapping",)),
        ("estimation.window=x", ("estimation.window = 'x': expected a list, e.g. [1991, 2005]",)),
        ("experimnt=fit", ("experimnt: not a setting", "Closest: experiment.")),  # a group
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, override: str, needles: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    result = cli([*FAST, override, f"hydra.run.dir={out}"], tmp_path)
    assert_one_line_error(result, 2, *needles)
    assert not out.exists()  # nothing but Hydra's files was there: removed


def test_study_that_cannot_fit_names_the_chunk_size(tmp_path: Path) -> None:
    result = cli(["ticks=100000", "replications=2000", f"hydra.run.dir={tmp_path / 'o'}"], tmp_path)
    assert_one_line_error(result, 2, "engine.chunk_size = 2000", "would fit")


def test_malformed_region_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "cfg" / "region").mkdir(parents=True)
    (tmp_path / "cfg" / "region" / "broken.yaml").write_text("name: x\npoles: [a\n  b: c\n")
    result = cli(["--config-dir", "cfg", "region=broken", *FAST, "hydra.run.dir=o"], tmp_path)
    assert_one_line_error(result, 2, "broken.yaml", "line")


@pytest.mark.parametrize("run_dir", ["afile/out", "/proc/nope/run"])
def test_impossible_output_folder_is_one_line(tmp_path: Path, run_dir: str) -> None:
    (tmp_path / "afile").write_text("a regular file")
    result = cli([*FAST, f"hydra.run.dir={run_dir}"], tmp_path)
    assert_one_line_error(result, 1, "cannot write")


def test_a_failed_job_makes_the_sweep_exit_non_zero(tmp_path: Path) -> None:
    """A job that fails as it runs (its table cannot be written: a folder stands where it
    goes) leaves error.json; the others finish and the sweep exits 1. (A bad value stops
    the sweep before any job runs: tests/test_study.py.)"""
    sweep = tmp_path / "sw"
    (sweep / "dynamics.stance=1,ticks=5" / "trajectory.parquet").mkdir(parents=True)
    args = [
        "-m",
        "dynamics.stance=0,1",
        *FAST,
        "hydra.launcher.n_jobs=1",
        f"hydra.sweep.dir={sweep}",
    ]
    result = cli(args, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "did not finish: dynamics.stance=1,ticks=5" in result.stderr
    assert (sweep / "dynamics.stance=0,ticks=5" / "manifest.json").is_file()
    assert (sweep / "dynamics.stance=1,ticks=5" / "error.json").is_file()
    assert not (sweep / "dynamics.stance=1,ticks=5" / "manifest.json").exists()


@pytest.mark.slow
def test_many_overrides_make_a_short_folder_name(tmp_path: Path) -> None:
    sweep = tmp_path / "sw"
    weights = [f"weights.{w}=1.5" for w in ("protection", "coercion", "grievance", "stance")]
    weights += [f"weights.{w}=1.25" for w in ("inducements", "remittances", "transit", "peer")]
    weights += [f"weights.{w}=0.75" for w in ("conditionality", "regime_security", "autonomy")]
    args = ["-m", "weights.trade=1,2", *weights, "dynamics.economic_switching_cost=0.5", "ticks=3"]
    args.append("hydra.launcher.n_jobs=1")
    result = cli(
        [*args, "output.plots=false", "output.quiet=true", f"hydra.sweep.dir={sweep}"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    jobs = [p for p in sweep.iterdir() if p.is_dir()]
    assert len(jobs) == 2 and all(len(p.name.encode()) <= 200 for p in jobs)
    overrides = {tuple(json.loads((p / "manifest.json").read_text())["overrides"]) for p in jobs}
    assert ("weights.trade=1" in o for o in overrides) and len(overrides) == 2
    again = cli([*args, "output.plots=false", f"hydra.sweep.dir={sweep}"], tmp_path)
    assert again.stdout.count("already complete") == 2  # the same short names on resume


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    runs = [
        subprocess.Popen(
            [CLI, f"ticks={t}", "seed=6", "output.plots=false"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for t in (4, 5)
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    folders = sorted((tmp_path / "results" / "runs").iterdir())
    assert len(folders) == 2
    ticks = sorted(
        json.loads((f / "manifest.json").read_text())["config"]["ticks"] for f in folders
    )
    assert ticks == [4, 5]
    for folder in folders:
        ticks_in_data = pd.read_parquet(folder / "trajectory.parquet").tick.max()
        assert (
            ticks_in_data == json.loads((folder / "manifest.json").read_text())["config"]["ticks"]
        )


def test_a_folder_another_process_writes_is_refused(tmp_path: Path) -> None:
    from alignment_sim.cli.main import folder_lock

    out = tmp_path / "busy"
    with folder_lock(out):
        result = cli([*FAST, f"hydra.run.dir={out}"], tmp_path)
        # the refused run removed the holder's folder, lock included, so a third run
        # was not refused and replaced the holder's results: the folder is the holder's
        assert (out / ".alignment-sim.lock").exists()
        third = cli([*FAST, "seed=3", f"hydra.run.dir={out}"], tmp_path)
        assert third.returncode == 1 and "another process" in third.stderr
    assert result.returncode == 1
    assert "another process" in result.stderr and "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists()
    assert cli([*FAST, f"hydra.run.dir={out}"], tmp_path).returncode == 0  # lock released


def test_readme_design_override_replaces_the_presets_parameters(tmp_path: Path) -> None:
    out = tmp_path / "d"
    args = ["experiment=sobol", "design.samples=4", "replications=2", "ticks=5"]
    result = cli(
        [
            *args,
            "design.parameters={weights.trade: [1, 3]}",
            "engine.progress=false",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert set(pd.read_csv(out / "sensitivity.csv").parameter) == {"weights.trade"}
    recorded = json.loads((out / "manifest.json").read_text())
    assert recorded["config"]["design"]["parameters"] == {"weights.trade": [1.0, 3.0]}
    assert "design.samples=4" in recorded["overrides"]  # what the command line set

    # a re-run with a bad outcome is refused before the finished design is touched
    def results() -> dict[str, bytes]:  # Hydra rewrites its own files on every call
        own = [p for p in out.rglob("*") if p.is_file() and ".hydra" not in p.parts]
        return {str(p.relative_to(out)): p.read_bytes() for p in own if p.name != "main.log"}

    finished = results()
    assert "manifest.json" in finished and "runs/part-00000.parquet" in finished
    again = cli(
        [
            *args,
            "design.parameters={weights.trade: [1, 3]}",
            "design.outcomes=[switchs]",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
    assert again.returncode == 2 and "switchs" in again.stderr
    assert results() == finished


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    out = tmp_path / "long"
    process = subprocess.Popen(
        [CLI, "ticks=200000", "output.plots=false", f"hydra.run.dir={out}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / ".alignment-sim.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:  # a run that ignored the signal must not outlive the test (200,000 ticks)
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert stderr.strip() == "alignment-sim: interrupted."
    assert not (out / "manifest.json").exists()


INTERRUPT_INSIDE_VALIDATION = """
import os, signal, time
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError
from alignment_sim.cli.main import main

def interrupted_inside(*args, **kwargs):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
    finally:  # OmegaConf's cleanup fails on the half-built node and replaces the interrupt
        raise ValidationError("'NoneType' object has no attribute '_invalidate_flags_cache'")

OmegaConf.to_object = interrupted_inside
main()
"""


def test_ctrl_c_inside_the_configs_validation_is_an_interrupt(tmp_path: Path) -> None:
    """Ctrl+C while OmegaConf builds the config surfaced as the error its cleanup raised,
    "invalid configuration" (exit 2). An error that follows an interrupt is the
    interrupt's: exit 130, and nothing that looks complete."""
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_INSIDE_VALIDATION, f"hydra.run.dir={out}", *FAST],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=sigint_default,
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "alignment-sim: interrupted."
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("given", "needles"),
    [
        (["origin=2000", "region.year=1995"], ("region.year = 1995", "origin=2000")),
        (
            ["origin=2000", "region.configuration_year=1999"],
            ("region.configuration_year = 1999", "origin=2000", "whose end the run starts"),
        ),
        (["origin=2000", "region.calendar=false"], ("region.calendar = False", "the calendar")),
        (["origin=2000", "to=2002", "ticks=10"], ("ticks = 10", "to=2002")),
        # a window an experiment sets: the forecast ran 56 ticks for ticks=10, and a
        # validation ignored region.year
        (["experiment=forecast", "ticks=10"], ("ticks = 10", "to=2024")),
        (
            ["experiment=validate", "region.year=2000"],
            ("region.year = 2000", "validation", "estimation.window instead"),
        ),
    ],
)
def test_a_window_and_the_setting_it_sets_are_refused_together(
    tmp_path: Path, given: list[str], needles: tuple[str, ...]
) -> None:
    """origin= sets region.year and region.configuration_year, to= sets ticks: both on
    one command line is a conflict the configuration cannot see, refused before anything
    runs."""
    out = tmp_path / "out"
    result = cli(
        ["scenario=history", *given, "output.plots=false", f"hydra.run.dir={out}"], tmp_path
    )
    assert_one_line_error(result, 2, *needles, "instead of" if "origin=2000" in given else "")
    assert not out.exists() or not (out / "manifest.json").exists()


def test_a_state_named_in_a_sweep_over_regions_is_refused(tmp_path: Path) -> None:
    """A name becomes a position before Hydra sweeps; another region may hold another
    state there, so a sweep over regions takes no names."""
    args = ["-m", "region=post_soviet,post_soviet", "region.states.uzbekistan.autonomy=0.05"]
    result = cli([*args, *FAST, f"hydra.sweep.dir={tmp_path / 'sw'}"], tmp_path)
    assert_one_line_error(result, 2, "region = 'post_soviet,post_soviet'", "uzbekistan")
    assert not (tmp_path / "sw").exists()


def test_a_user_file_named_as_a_packaged_preset_is_refused(tmp_path: Path) -> None:
    """Hydra reads the package's russia_recession before a --config-dir's own: a copy
    edited under that name would be silently ignored, so it is refused by name."""
    from alignment_sim.presets import conf_dir

    (tmp_path / "cfg" / "scenario").mkdir(parents=True)
    packaged = conf_dir() / "scenario" / "russia_recession.yaml"
    (tmp_path / "cfg" / "scenario" / "russia_recession.yaml").write_text(packaged.read_text())
    args = ["--config-dir", "cfg", "scenario=russia_recession", *FAST, "hydra.run.dir=o"]
    result = cli(args, tmp_path)
    assert_one_line_error(result, 2, "russia_recession.yaml", "scenario=my_russia_recession")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("event", "needles"),
    [
        (
            "{kind: energy_cut_off, at: 3, duraton: 4, targets: [ukraine]}",
            ("In scenario/mine.yaml: duraton: not a field of EventSpec", "Closest: duration."),
        ),
        (
            "{kind: energy_cut_off, at: two, targets: [ukraine]}",
            ("In scenario/mine.yaml: at = 'two': expected a whole number.",),
        ),
        (
            "{kind: energy_cut_off, at: 2, targets: ukraine}",
            ("In scenario/mine.yaml: targets = 'ukraine': expected a list",),
        ),
    ],
)
def test_a_mistake_in_a_users_scenario_file_is_one_line_naming_the_file(
    tmp_path: Path, event: str, needles: tuple[str, ...]
) -> None:
    (tmp_path / "cfg" / "scenario").mkdir(parents=True)
    (tmp_path / "cfg" / "scenario" / "mine.yaml").write_text(
        f"name: mine\ndescription: x\nsources: x\nevents:\n  - {event}\n"
    )
    result = cli(["--config-dir", "cfg", "scenario=mine", *FAST, "hydra.run.dir=o"], tmp_path)
    assert_one_line_error(result, 2, *needles)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("given", "needles"),
    [
        (["experiment=null"], ("experiment = 'null'", "sobol", "leave experiment out")),
        (["-m", "experiment=null,sobol"], ("experiment = 'null,sobol'", "leave experiment out")),
        (["scenario=null"], ("scenario = 'null'", "russia_recession")),
    ],
)
def test_a_config_group_given_no_preset_is_refused_in_one_line(
    tmp_path: Path, given: list[str], needles: tuple[str, ...]
) -> None:
    """``experiment=null`` (Hydra composes no null group choice from a command line: a
    traceback) is refused by its key, with the presets the group has."""
    result = cli([*given, *FAST, f"hydra.run.dir={tmp_path / 'o'}"], tmp_path)
    assert_one_line_error(result, 2, *needles)
    assert not (tmp_path / "o").exists()


def test_a_position_in_a_sweep_over_regions_is_checked_in_each_region(tmp_path: Path) -> None:
    """A sweep over regions takes a state's position (the refusal of a name says so): a
    position every region lists runs, one beyond a region's list is refused naming it."""
    sweep = ["-m", "region=post_soviet,post_soviet", *FAST]
    result = cli([*sweep, "region.states.9.autonomy=0.05", "study=ok"], tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = next((tmp_path / "results" / "sweeps" / "ok").glob("*/manifest.json"))
    assert json.loads(manifest.read_text())["config"]["region"]["states"][9]["autonomy"] == 0.05
    result = cli([*sweep, "region.states.11.autonomy=0.05", "study=no"], tmp_path)
    assert_one_line_error(result, 2, "region.states.11 = 11", "region post_soviet")
    assert not (tmp_path / "results" / "sweeps" / "no").exists()


@pytest.mark.parametrize(
    ("deleted", "needles"),
    [
        ("~weights.trade", ("weights.trade: a setting of the schema", "weights.trade=VALUE")),
        ("~region.states.uzbekistan", ("not a whole pole or state to delete", "--config-dir")),
    ],
)
def test_deleting_a_setting_is_refused_in_one_line(
    tmp_path: Path, deleted: str, needles: tuple[str, ...]
) -> None:
    """Hydra's ``~key`` deletes: a schema's setting cannot go (Hydra's message was a
    paragraph), and a whole state deleted ended in a traceback."""
    result = cli([deleted, *FAST, f"hydra.run.dir={tmp_path / 'o'}"], tmp_path)
    assert_one_line_error(result, 2, *needles)
    assert not (tmp_path / "o").exists()


def test_a_finished_design_of_other_settings_is_not_replaced(tmp_path: Path) -> None:
    """Designs share ``results/designs/<study>/``: the README's own ``experiment=sobol``
    followed by ``experiment=sobol 'design.parameters=...'`` replaced the finished study
    with one log line. Now refused, the design kept; the same settings skip as before,
    with execution-only settings (workers) not counted as other settings."""
    design = ["experiment=lhs", "design.samples=20", "replications=2", "ticks=4"]
    first = cli([*design, "study=mine"], tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "results" / "designs" / "mine"
    points = (folder / "design.parquet").read_bytes()
    other = cli([*design[:1], "design.samples=24", *design[2:], "study=mine"], tmp_path)
    assert_one_line_error(other, 2, "study = 'mine'", "design.samples=20", "study=NAME")
    assert (folder / "design.parquet").read_bytes() == points
    again = cli([*design, "study=mine", "engine.workers=1"], tmp_path)
    assert again.returncode == 0 and "already complete, skipped" in again.stdout + again.stderr


def test_a_design_of_other_outcomes_reanalyses_its_finished_runs(tmp_path: Path) -> None:
    """Other outcomes or resamples change the analysis alone: they ran every simulation
    again (or, since designs refuse other settings, were refused); now the finished runs
    are kept and analysed anew."""
    design = ["experiment=lhs", "design.samples=20", "replications=2", "ticks=4", "study=m"]
    first = cli([*design, "design.outcomes=[switches]"], tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "results" / "designs" / "m"
    parts = {p: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()}
    other = cli([*design, "design.outcomes=[mean_share_hedge]", "design.bootstrap=50"], tmp_path)
    assert other.returncode == 0, other.stderr
    assert "re-analysing its finished runs" in other.stdout + other.stderr
    assert {p: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()} == parts
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["outcome"]) == {"mean_share_hedge"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"]["design"]["outcomes"] == ["mean_share_hedge"]


def test_a_designs_analysis_warnings_reach_its_log_and_manifest(tmp_path: Path) -> None:
    """16 points are too few for the delta analysis's bins: the warning reached the
    terminal alone, not main.log or the manifest, so a study run in the background kept
    no word of its empty indices."""
    folder = tmp_path / "d"
    design = ["experiment=lhs", "design.samples=16", "replications=2", "ticks=4"]
    result = cli([*design, "design.outcomes=[switches]", f"hydra.run.dir={folder}"], tmp_path)
    assert result.returncode == 0, result.stderr
    log = (folder / "main.log").read_text()
    assert "[WARNING]" in log and "delta analysis of switches gave no estimate" in log
    said = json.loads((folder / "manifest.json").read_text())["warnings"]
    assert len(said) == 1 and said[0] in log


def test_a_value_given_for_a_parameter_the_design_varies_is_refused(tmp_path: Path) -> None:
    """``weights.trade=5`` beside a design over ``weights.trade`` ran the design's range
    while the manifest's configuration said 5.0: refused, by name or by position."""
    design = ["experiment=lhs", "design.samples=20", "replications=2", "ticks=4"]
    varied = "design.parameters={region.states.9.autonomy: [0.1, 0.5]}"
    result = cli([*design, "region.states.uzbekistan.autonomy=0.2", varied], tmp_path)
    assert_one_line_error(result, 2, "autonomy = 0.2: expected no value of its own", "[0.1, 0.5]")
    assert not list((tmp_path / "results" / "designs").glob("*/manifest.json"))


def test_a_finished_run_of_other_settings_is_not_replaced(tmp_path: Path) -> None:
    """``hydra.run.dir=`` names a finished run's folder for a run of another seed: it
    replaced the run with nothing said. Refused by the folder, naming the settings it was
    made with; the same settings run again in place."""
    folder = tmp_path / "run"
    first = cli([*FAST, "seed=1", f"hydra.run.dir={folder}"], tmp_path)
    assert first.returncode == 0, first.stderr
    trajectory = (folder / "trajectory.parquet").read_bytes()
    other = cli([*FAST, "seed=2", f"hydra.run.dir={folder}"], tmp_path)
    assert_one_line_error(other, 2, "hydra.run.dir", "a run of other settings", "seed=1")
    assert (folder / "trajectory.parquet").read_bytes() == trajectory
    again = cli([*FAST, "seed=1", f"hydra.run.dir={folder}", "output.quiet=true"], tmp_path)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("given", "needles"),
    [
        (["experiment=grid", "design.samples=100"], ("design.samples = 100", "design.levels")),
        (["experiment=grid", "design.bootstrap=50"], ("no value for a grid design",)),
        (["experiment=lhs", "design.levels=9"], ("design.levels = 9", "design.samples points")),
    ],
)
def test_a_design_setting_its_method_never_reads_is_refused(
    tmp_path: Path, given: list[str], needles: tuple[str, ...]
) -> None:
    """``experiment=grid design.samples=100`` ran the packaged 5 x 5 grid with nothing
    said (an lhs design ignores design.levels alike)."""
    result = cli([*given, "ticks=2", f"hydra.run.dir={tmp_path / 'd'}"], tmp_path)
    assert_one_line_error(result, 2, *needles)
    assert not (tmp_path / "d").exists()


def test_a_job_is_not_written_into_another_commands_finished_folder(tmp_path: Path) -> None:
    """A run sent into a comparison's folder replaced the report's manifest (its record of
    command, checksums and bootstrap) with nothing said; a refusal named a forecast's
    folder "a finished fit". Each is refused, naming what the folder holds."""
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.html").write_text("<html></html>")
    from alignment_sim.outputs.files import finish_job

    finish_job(report, {"study": "compare", "command": "alignment-sim-compare x"}, ["report.html"])
    kept = (report / "manifest.json").read_bytes()
    result = cli([*FAST, f"hydra.run.dir={report}"], tmp_path)
    assert_one_line_error(result, 2, "holds a finished comparison (alignment-sim-compare)")
    assert (report / "manifest.json").read_bytes() == kept

    run = tmp_path / "run"
    assert cli([*FAST, "seed=3", f"hydra.run.dir={run}"], tmp_path).returncode == 0
    study = cli(["replications=2", *FAST, f"hydra.run.dir={run}"], tmp_path)
    assert_one_line_error(study, 2, "a study job of other settings", "holds a finished run")


def test_a_job_an_earlier_attempt_left_unfinished_says_it_starts_again(tmp_path: Path) -> None:
    """An interrupted validation, run again into its folder, silently redid every stage:
    the log says the earlier attempt did not finish and the job starts again."""
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "runs.parquet").write_bytes(b"half a file")
    result = cli(["replications=2", *FAST, f"hydra.run.dir={folder}"], tmp_path)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "job: no finished job here (no manifest.json" in said
    assert "but it holds runs.parquet, of an earlier attempt or not" in said


def test_a_job_or_sweep_is_not_written_over_other_jobs_folders(tmp_path: Path) -> None:
    """A run sent into a sweep's root wrote its files beside the sweep's jobs, and every
    reader, which stops at a finished folder, then saw the run alone; a sweep sent into a
    finished run's folder hid its jobs below it. Both are refused."""
    sweep = tmp_path / "sweep"
    done = cli(["-m", "seed=0,1", *FAST, f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr
    result = cli([*FAST, f"hydra.run.dir={sweep}"], tmp_path)
    assert_one_line_error(result, 2, "It holds 2 job folders (seed=0")
    assert not (sweep / "manifest.json").exists()
    run = tmp_path / "run"
    assert cli([*FAST, f"hydra.run.dir={run}"], tmp_path).returncode == 0
    over = cli(["-m", "seed=0,1", *FAST, f"hydra.sweep.dir={run}"], tmp_path)
    assert over.returncode == 2
    assert f"{run} holds a finished run. Give another hydra.sweep.dir." in over.stderr
    assert sorted(p.name for p in run.iterdir() if p.is_dir()) == [".hydra"]
