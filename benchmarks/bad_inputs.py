"""The bad-input battery: every entry point fed wrong values, broken files and faults.

Each case runs one command of the package (``alignment-sim``, ``-compare``, ``-collect``,
``-viz``) in its own folder and is judged as a user would judge it:

- a bad input is *handled well* when the command exits non-zero without a Python
  traceback, its message names what was wrong (the case's key words), and nothing is left
  that looks complete (no ``manifest.json``, ``report.html`` or output file, no temporary
  file);
- a valid input (the edge cases) must run and exit 0.

The cases are those of the project's reliability review (bad values on the command line,
region, scenario, experiment and attribute files, designs, the compare and collect
commands, the classroom server) plus the operating-system faults that can be made without
privileges. Fixtures (config files, CSVs, finished and corrupted study folders) are made
fresh under a temporary folder.

    python benchmarks/bad_inputs.py            # all cases on 2 processes, about 5 minutes
    python benchmarks/bad_inputs.py --only cli --jobs 1 --keep /tmp/battery

Prints one line per case, then ``N passed, N failed`` and a JSON line with ``cases``,
``bad_inputs``, ``handled_well``, ``valid_ok`` and the ids that failed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "alignment_sim"
BIN = Path(sys.executable).parent
QUIET = ["ticks=5", "output.plots=false"]


@dataclass(frozen=True)
class Case:
    """One command and what a user should see: ``refuse`` (a bad input) or ``accept``."""

    id: str
    argv: tuple[str, ...]
    expect: str = "refuse"
    words: tuple[str, ...] = ()  # each must appear in the output (case-insensitive)
    timeout: float = 180.0


@dataclass
class Outcome:
    case: Case
    code: int
    output: str
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.output

    @property
    def missing_words(self) -> list[str]:
        low = self.output.lower()
        return [w for w in self.case.words if w.lower() not in low]

    @property
    def ok(self) -> bool:
        if self.case.expect == "accept":
            return self.code == 0 and not self.traceback
        return (
            self.code != 0 and not self.traceback and not self.missing_words and not self.leftovers
        )

    def why(self) -> str:
        if self.ok:
            return ""
        parts = [f"exit {self.code}"]
        if self.traceback:
            parts.append("traceback")
        if self.case.expect == "refuse":
            if self.missing_words:
                parts.append(f"message lacks {self.missing_words}")
            if self.leftovers:
                parts.append(f"left {self.leftovers[:3]}")
        last = [line for line in self.output.strip().splitlines() if line.strip()][-1:]
        return "; ".join(parts) + (f" | {last[0][:160]}" if last else "")


# ---------------------------------------------------------------------------- fixtures


def _write_yaml(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def make_config_dir(cfg: Path) -> None:
    """Region, scenario and experiment files, each with one fault."""
    base = yaml.safe_load((PACKAGE / "conf/region/post_soviet.yaml").read_text())

    def region(name: str, edit) -> None:  # type: ignore[no-untyped-def]
        data = json.loads(json.dumps(base))
        edit(data)
        _write_yaml(cfg / "region" / f"{name}.yaml", data)

    def state(d: dict, i: int = 0) -> dict:  # type: ignore[type-arg]
        return d["states"][i]

    region("r_state_no_attr", lambda d: state(d).update(attribute_state=""))
    region("r_state_no_initial_at_all", lambda d: state(d).update(initial={}))
    region(
        "r_no_initial_for_year",
        lambda d: state(d).update(initial={"2000": "russia", "2010": "russia"}),
    )
    region(
        "r_pole_missing_capital",
        lambda d: d["poles"][2].update(capital_lat=None, capital_lon=None, capability=None),
    )
    region("r_unknown_pole_presence", lambda d: state(d).update(presence={"usa": 0.5}))
    region("r_unknown_pole_transit", lambda d: state(d).update(transit={"turkey": 0.5}))
    region(
        "r_unknown_pole_initial",
        lambda d: state(d).update(initial={"2000": "russia", "2010": "russia", "2015": "turkey"}),
    )
    region(
        "r_affinity_asymmetric",
        lambda d: d["affinities"].extend(
            [
                {"a": "georgia", "b": "ukraine", "value": 0.5},
                {"a": "ukraine", "b": "georgia", "value": -0.5},
            ]
        ),
    )
    region(
        "r_affinity_duplicate_pair",
        lambda d: d["affinities"].extend(
            [
                {"a": "georgia", "b": "ukraine", "value": 0.5},
                {"a": "georgia", "b": "ukraine", "value": 0.25},
            ]
        ),
    )
    region("r_affinity_out_of_range", lambda d: d["affinities"][0].update(value=2.0))
    region("r_affinity_not_grid", lambda d: d["affinities"][0].update(value=0.3))
    region("r_affinity_unknown_state", lambda d: d["affinities"][0].update(b="narnia"))
    region("r_affinity_self", lambda d: d["affinities"][0].update(b=d["affinities"][0]["a"]))
    region("r_zero_poles", lambda d: d.update(poles=[]))
    region("r_one_pole", lambda d: d.update(poles=[{**d["poles"][0], "rivalry": {}}]))
    region("r_duplicate_pole", lambda d: d["poles"].append(dict(d["poles"][0])))
    region("r_duplicate_state", lambda d: d["states"].append(dict(d["states"][0])))
    region("r_zero_states", lambda d: d.update(states=[], affinities=[]))
    region("r_unknown_field", lambda d: state(d).update(colour="red"))
    region("r_pole_named_hedge", lambda d: d["poles"][0].update(name="hedge"))
    region("r_pole_named_none", lambda d: d["poles"][0].update(name="none"))
    region("r_pole_named_open", lambda d: d["poles"][1].update(name="open"))
    region("r_security_not_bool", lambda d: d["poles"][0].update(security="sometimes"))
    region("r_no_security_pole", lambda d: [p.update(security=False) for p in d["poles"]])
    region("r_rivalry_unknown_pole", lambda d: d["poles"][0]["rivalry"].update(turkey=0.5))
    region("r_rivalry_self", lambda d: d["poles"][0]["rivalry"].update(russia=0.5))
    region("r_rivalry_above_one", lambda d: d["poles"][2]["rivalry"].update(russia=1.5))
    region(
        "r_unknown_profile_initial",
        lambda d: state(d).update(
            initial={"2000": "russia", "2010": "russia", "2015": "china/west"}
        ),
    )
    region("r_attr_state_not_in_csv", lambda d: state(d).update(attribute_state="Narnia"))
    region(
        "r_trade_field_not_in_csv",
        lambda d: d["poles"][0].update(trade_field="trade_share_narnia_pct"),
    )
    region("r_pole_credibility_17", lambda d: d["poles"][0].update(credibility=1.7))
    region(
        "r_remit_sum_gt1", lambda d: state(d).update(remittance_origin={"russia": 0.9, "west": 0.9})
    )
    region("r_threat_string", lambda d: state(d).update(threat_exposure="high"))
    region("r_budget_nan", lambda d: d["poles"][0].update(budget_bn_usd=float("nan")))
    region("r_budget_inf", lambda d: d["poles"][0].update(budget_bn_usd=float("inf")))
    region("r_empty", lambda d: d.clear())
    region("r_polity_out_of_range_override", lambda d: state(d).update(overrides={"polity2": 60}))
    region(
        "r_gdp_negative_override", lambda d: state(d).update(overrides={"gdp_current_usd": -1e12})
    )
    region("r_negative_presence", lambda d: state(d).update(presence={"russia": -0.5}))
    region("r_reach_inf", lambda d: d["poles"][1].update(reach_km=float("inf")))
    (cfg / "region" / "r_not_yaml.yaml").write_text("name: broken\npoles: [\n  - {name: russia\n")

    def two_poles(d: dict) -> None:  # type: ignore[type-arg]
        d["name"] = "two_poles"
        d["poles"] = [p for p in d["poles"] if p["name"] != "china"]
        for p in d["poles"]:
            p["rivalry"] = {k: v for k, v in p.get("rivalry", {}).items() if k != "china"}
        for s in d["states"]:
            for key in ("remittance_origin", "transit", "presence"):
                s[key] = {k: v for k, v in (s.get(key) or {}).items() if k != "china"}
            s["initial"] = {y: ("hedge" if o == "china" else o) for y, o in s["initial"].items()}

    region("r_two_poles", two_poles)

    scenarios = {
        "ev_unknown_kind": {"kind": "alien_invasion", "at": 1},
        "ev_target_not_state": {"kind": "terror_surge", "at": 1, "targets": ["narnia"]},
        "ev_target_pole_for_states": {"kind": "terror_surge", "at": 1, "targets": ["russia"]},
        "ev_missing_targets": {"kind": "terror_surge", "at": 1},
        "ev_targets_for_none": {"kind": "russia_recession", "at": 1, "targets": ["belarus"]},
        "ev_at_beyond": {"kind": "russia_recession", "at": 100},
        "ev_at_zero": {"kind": "russia_recession", "at": 0},
        "ev_at_float": {"kind": "russia_recession", "at": 1.5},
        "ev_hazard_gt1": {"kind": "russia_recession", "hazard": 1.5},
        "ev_hazard_neg": {"kind": "russia_recession", "hazard": -0.1},
        "ev_hazard_nan": {"kind": "russia_recession", "hazard": float("nan")},
        "ev_duration_neg": {"kind": "russia_recession", "at": 1, "duration": -4},
        "ev_duration_zero": {"kind": "russia_recession", "at": 1, "duration": 0},
        "ev_both_at_hazard": {"kind": "russia_recession", "at": 1, "hazard": 0.1},
        "ev_neither": {"kind": "russia_recession"},
        "ev_magnitude_neg": {"kind": "russia_recession", "at": 1, "magnitude": -10},
        "ev_magnitude_big": {"kind": "russia_recession", "at": 1, "magnitude": 10},
        "ev_magnitude_nan": {"kind": "russia_recession", "at": 1, "magnitude": float("nan")},
        "ev_magnitude_inf": {"kind": "chinese_lending", "at": 1, "magnitude": float("inf")},
        "ev_unknown_field": {"kind": "russia_recession", "at": 1, "strength": 2},
    }
    for name, event in scenarios.items():
        _write_yaml(
            cfg / "scenario" / f"{name}.yaml",
            {"name": name, "description": "battery", "events": [event]},
        )
    _write_yaml(
        cfg / "scenario" / "ev_start_year_bad.yaml",
        {"name": "ev_start_year_bad", "description": "battery", "start_year": 2005, "events": []},
    )

    designs = {
        "x_bad_path": {"weights.foo": [1.0, 2.0]},
        "x_reversed": {"weights.trade": [3.0, 1.0]},
        "x_equal": {"weights.trade": [1.0, 1.0]},
        "x_stance_domain": {"dynamics.stance": [-5.0, 5.0]},
        "x_cred_domain": {"region.poles.russia.credibility": [0.5, 3.0]},
        "x_rationality_neg": {"decision.rationality": [-5.0, -1.0]},
        "x_weight_neg": {"weights.trade": [-3.0, -1.0]},
        "x_three": {"weights.trade": [1.0, 2.0, 3.0]},
        "x_strings": {"weights.trade": ["a", "b"]},
        "x_unknown_pole": {"region.poles.narnia.budget_bn_usd": [1.0, 2.0]},
        "x_unknown_state": {"region.states.narnia.autonomy": [0.0, 0.5]},
        "x_state_field": {"region.states.belarus.gdp": [1.0, 2.0]},
        "x_budget_neg": {"region.poles.russia.budget_bn_usd": [-10.0, 5.0]},
        "x_recovery_domain": {"dynamics.credibility_recovery": [0.0, 4.0]},
        "x_weight_inf": {"weights.trade": [1.0, float("inf")]},
    }
    for name, parameters in designs.items():
        _write_yaml(cfg / "experiment" / f"{name}.yaml", _design(name, parameters))
    samples0 = _design("x_samples0", {"weights.trade": [1.0, 2.0]})
    samples0["design"]["samples"] = 0
    _write_yaml(cfg / "experiment" / "x_samples0.yaml", samples0)
    for path in (cfg / "experiment").glob("*.yaml"):
        path.write_text("# @package _global_\n" + path.read_text())


def _design(name: str, parameters: dict) -> dict:  # type: ignore[type-arg]
    return {
        "study": name,
        "replications": 2,
        "ticks": 5,
        "design": {
            "method": "lhs",
            "samples": 4,
            "parameters": parameters,
            "outcomes": ["switches"],
        },
    }


def make_records(folder: Path) -> None:
    """Alignment records and yearly driver files, each with one fault."""
    folder.mkdir(parents=True, exist_ok=True)
    record = (PACKAGE / "data/alignment_by_year_1991_2010.csv").read_text().splitlines()
    header, rows = record[0], record[1:]

    def write(name: str, lines: list[str]) -> None:
        (folder / name).write_text("\n".join(lines) + "\n")

    def edit(column: int, old: str, new: str) -> list[str]:
        out, done = [], False
        for line in rows:
            cells = line.split(",")
            if not done and cells[0] == "Ukraine" and cells[column] == old:
                cells[column], done = new, True
            out.append(",".join(cells))
        return [header, *out]

    write("rec_unknown_label.csv", edit(2, "hedge", "neutral"))
    write("rec_unknown_state.csv", [header, *rows, "Narnia,2000,hedge,0,0,0,x"])
    write("rec_bad_year.csv", edit(1, "2001", "2OO1"))
    ukraine_2001 = next(r for r in rows if r.startswith("Ukraine,2001,"))
    write("rec_contradiction.csv", [header, *rows, ukraine_2001.replace(",hedge,", ",west,")])
    write("rec_empty.csv", [])
    write("rec_header_only.csv", [header])
    write("rec_no_label_column.csv", [h for h in [",".join(header.split(",")[:2])]])
    drivers = (PACKAGE / "data/drivers_by_year.csv").read_text().splitlines()
    out = []
    for line in drivers:
        cells = line.split(",")
        if cells[:3] == ["Georgia", "2004", "polity2"]:
            cells[3] = "n/a"
        out.append(",".join(cells))
    (folder / "drivers_not_a_number.csv").write_text("\n".join(out) + "\n")


def make_csvs(folder: Path) -> None:
    """Attribute files, each with one fault, derived from the packaged file."""
    folder.mkdir(parents=True, exist_ok=True)
    with (PACKAGE / "data/state_attributes.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0])

    def write(name: str, edited: list[dict], cols: list[str] = columns) -> None:  # type: ignore[type-arg]
        with (folder / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=cols, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(edited)

    def is_(row: dict, state: str, fld: str, year: str = "2015") -> bool:  # type: ignore[type-arg]
        return row["state"] == state and row["field"] == fld and row["year"] == year

    def with_value(state: str, fld: str, value: str, year: str = "2015") -> list[dict]:  # type: ignore[type-arg]
        return [dict(r, value=value) if is_(r, state, fld, year) else r for r in rows]

    write("missing_unit_col.csv", rows, [c for c in columns if c != "unit"])
    write("missing_value_col.csv", rows, [c for c in columns if c != "value"])
    write("nonnumeric_gdp.csv", with_value("Belarus", "gdp_current_usd", "abc"))
    write("empty_gdp.csv", with_value("Belarus", "gdp_current_usd", ""))
    write("nan_gdp.csv", with_value("Belarus", "gdp_current_usd", "NaN"))
    write("inf_gdp.csv", with_value("Belarus", "gdp_current_usd", "inf"))
    write("negative_gdp.csv", with_value("Belarus", "gdp_current_usd", "-5e10"))
    write("polity_50.csv", with_value("Belarus", "polity2", "50"))
    write("trade_share_450.csv", with_value("Belarus", "trade_share_russia_pct", "450", "2014"))
    write("remittances_negative.csv", with_value("Armenia", "remittances_received_pct_gdp", "-3"))
    write(
        "no_polity_belarus.csv",
        [r for r in rows if not (r["state"] == "Belarus" and r["field"] == "polity2")],
    )
    write("bad_year.csv", [dict(r, year="twenty") if r["year"] else r for r in rows])
    write(
        "year_typo.csv",
        [dict(r, year="2O15") if is_(r, "Belarus", "gdp_current_usd") else r for r in rows],
    )
    duplicate = next(r for r in rows if is_(r, "Belarus", "gdp_current_usd"))
    write("duplicate_row.csv", [*rows, dict(duplicate, value="1000000000")])
    write("only_header.csv", [])
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (folder / "empty.csv").write_bytes(b"")


def make_study_fixtures(fx: Path, cfg: Path) -> None:
    """Finished sweeps, a design, and copies of them broken in one way each."""
    fx.mkdir(parents=True, exist_ok=True)
    (fx / "empty").mkdir()
    (fx / "afile").write_text("not a folder\n")
    common = ["ticks=5", "output.plots=false", "engine.progress=false", "hydra.launcher.n_jobs=1"]
    runs = [
        [
            "-m",
            "scenario=baseline,russia_recession",
            "replications=20",
            "study=s2",
            f"hydra.sweep.dir={fx}/sweep2",
            *common,
        ],
        [
            "-m",
            "scenario=baseline",
            "replications=20",
            "study=s1",
            f"hydra.sweep.dir={fx}/sweep1",
            *common,
        ],
        [
            "experiment=lhs",
            "design.samples=4",
            "replications=2",
            "ticks=5",
            "engine.progress=false",
            f"hydra.run.dir={fx}/design",
        ],
        [
            "--config-dir",
            str(cfg),
            "-m",
            "region=r_two_poles",
            "replications=10",
            "study=r2",
            f"hydra.sweep.dir={fx}/two_poles",
            *common,
        ],
    ]
    for argv in runs:
        done = subprocess.run([str(BIN / "alignment-sim"), *argv], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"fixture failed: {argv}\n{done.stdout}\n{done.stderr}")
    jobs = sorted(p.parent for p in (fx / "sweep2").glob("*/manifest.json"))

    def copy(name: str) -> Path:
        shutil.copytree(fx / "sweep2", fx / name)
        return fx / name

    def each_job(folder: Path) -> list[Path]:
        return sorted(p.parent for p in folder.glob("*/manifest.json"))

    for job in each_job(copy("c_runs_all")):
        (job / "runs.parquet").write_bytes(os.urandom(2048))
    first = each_job(copy("c_runs_one"))[0]
    data = (first / "runs.parquet").read_bytes()
    (first / "runs.parquet").write_bytes(data[: len(data) // 2])
    for job in each_job(copy("c_ticks")):
        (job / "ticks.parquet").write_bytes(os.urandom(1024))
    for job in each_job(copy("c_terms")):
        (job / "terms.parquet").write_bytes(os.urandom(1024))
    for job in each_job(copy("c_manifest")):
        text = (job / "manifest.json").read_text()
        (job / "manifest.json").write_text(text[: len(text) // 3])
    for job in each_job(copy("c_zero_runs")):
        (job / "runs.parquet").write_bytes(b"")
    for job in each_job(copy("c_unfinished")):
        (job / "manifest.json").unlink()
    for job in each_job(copy("c_failed")):
        (job / "manifest.json").unlink()
        (job / "error.json").write_text(json.dumps({"error": "boom", "type": "ValueError"}))
    mixed = fx / "c_mixed_design"
    shutil.copytree(fx / "sweep2", mixed / "sweep")
    shutil.copytree(fx / "design", mixed / "design")
    region_mix = fx / "c_mixed_region"
    shutil.copytree(fx / "sweep1", region_mix / "three")
    shutil.copytree(fx / "two_poles", region_mix / "two")
    assert jobs, "the sweep fixture has no finished job"
    # a study job made before runs wrote labels: no labels.parquet, none listed
    old = fx / "no_labels"
    shutil.copytree(jobs[0], old)
    (old / "labels.parquet").unlink()
    manifest = json.loads((old / "manifest.json").read_text())
    manifest.get("files", {}).pop("labels.parquet", None)
    (old / "manifest.json").write_text(json.dumps(manifest))


# ------------------------------------------------------------------------------- cases


def cases() -> list[Case]:
    out: list[Case] = []

    def cli(
        id_: str,
        *args: str,
        expect: str = "refuse",
        words: tuple[str, ...] = (),
    ) -> None:
        argv = ("alignment-sim", *args)
        if "ticks=" not in " ".join(args) and not any(a.startswith("experiment=") for a in args):
            argv = (*argv, *QUIET)
        elif not any(a.startswith("experiment=") for a in args):
            argv = (*argv, "output.plots=false")
        out.append(Case(id_, argv, expect, words))

    # command-line overrides
    cli("cli01", "ticks=abc", words=("ticks",))
    cli("cli02", "ticks=0", words=("ticks",))
    cli("cli03", "ticks=-5", words=("ticks",))
    cli("cli04", "ticks=1.5", words=("ticks",))
    cli("cli05", "ticks=null", words=("ticks",))
    cli("cli06", "seed=-1", words=("seed",))
    cli("cli07", "seed=abc", words=("seed",))
    cli("cli08", "seed=1.5", words=("seed",))
    cli("cli09", "seed=18446744073709551616", words=("seed",))
    cli("cli10", "seed=9223372036854775807", "replications=2", words=("seed",))
    cli("cli11", "decision.rationality=-1", words=("decision.rationality",))
    cli("cli12", "decision.rationality=nan", words=("decision.rationality",))
    cli("cli13", "decision.rationality=inf", words=("decision.rationality",))
    cli("cli14", "decision.rationality=1e39", words=("decision.rationality",))
    cli("cli15", "decision.rationality=abc", words=("rationality",))
    cli("cli16", "weights.trade=-1", words=("weights.trade",))
    cli("cli17", "weights.trade=abc", words=("trade",))
    cli("cli18", "weights.trade=inf", words=("weights.trade",))
    cli("cli19", "weights.tradee=1", words=("tradee",))
    cli("cli20", "+weights.tradee=1", words=("tradee",))
    cli("cli21", "foo=1", words=("foo",))
    cli("cli22", "+foo=1", words=("foo",))
    cli("cli23", "dynamics.stance=1.5", words=("dynamics.stance",))
    cli("cli24", "dynamics.stance=-1.01", words=("dynamics.stance",))
    cli("cli25", "dynamics.stance=abc", words=("stance",))
    cli("cli26", "dynamics.stance=[1,2]", words=("stance",))
    cli("cli27", "dynamics.credibility_recovery=2", words=("dynamics.credibility_recovery",))
    cli("cli28", "dynamics.margin_scale=0.5", words=("margin_scale",))
    cli("cli29", "dynamics.switching_cost=-1", words=("dynamics.switching_cost",))
    cli("cli30", "dynamics.switching_cost=inf", words=("dynamics.switching_cost",))
    cli("cli31", "region.poles.0.budget_bn_usd=-3", words=("budget_bn_usd",))
    cli("cli32", "region.poles.0.budget_bn_usd=inf", words=("budget_bn_usd",))
    cli("cli33", "region.poles.0.credibility=1.5", words=("credibility",))
    cli("cli34", "region.poles.0.credibility=-0.1", words=("credibility",))
    cli("cli35", "region.poles.5.credibility=0.5", words=("poles",))
    cli("cli36", "region.poles.russia.credibility=0.5", expect="accept")
    cli("cli37", "scenario=nonexistent", words=("nonexistent",))
    cli("cli38", "region=nonexistent", words=("nonexistent",))
    cli("cli39", "decision=nonexistent", words=("nonexistent",))
    cli("cli40", "experiment=nonexistent", words=("nonexistent",))
    cli("cli41", "decision.rule=foo", words=("decision.rule",))
    cli("cli42", "region.year=1999", words=("region.year",))
    cli("cli43", "replications=0", words=("replications",))
    cli("cli44", "replications=-1", words=("replications",))
    cli("cli45", "replications=abc", words=("replications",))
    cli("cli46", "engine.workers=0", "replications=4", words=("engine.workers",))
    cli("cli47", "engine.chunk_size=0", "replications=4", words=("engine.chunk_size",))
    cli("cli48", "engine.backend=foo", "replications=4", words=("engine.backend",))
    cli("cli49", "study=../x", "replications=4", words=("study",))
    cli("cli50", "region.tick_months=0", words=("tick_months",))
    cli("cli51", "scenario.start_year=2005", words=("start_year",))
    cli("cli52", "output.plots=maybe", "ticks=5", words=("plots",))
    cli("cli53", "region.states.0.threat_exposure=2", words=("threat_exposure",))
    cli("cli54", "region.affinities.0.value=0.3", words=("affinities",))
    cli("cli55", "scenario=russia_recession", "scenario.events.0.at=500", words=("at",))
    cli("cli56", "scenario.events=[{kind: foo, at: 1}]", words=("kind",))
    cli("cli57", "region.attributes_file=/nonexistent.csv", words=("attributes_file",))
    cli("cli58", "foo", words=("foo",))
    cli("cli59", "--config-dir", "/nonexistent", words=("nonexistent",))
    cli("cli60", "region.poles.0.reach_km=0", words=("reach_km",))
    cli("cli61", "ticks=1000000000", words=("ticks",))
    cli(
        "cli62",
        "-m",
        "dynamics.stance=0,2",
        "replications=5",
        "hydra.launcher.n_jobs=1",
        "ticks=5",
        words=("dynamics.stance = 2", "job dynamics.stance=2", "no job has run"),
    )
    cli(
        "cli63",
        "-m",
        "dynamics.stance=0,2",
        "hydra.launcher.n_jobs=1",
        "ticks=5",
        words=("dynamics.stance = 2", "job dynamics.stance=2", "no job has run"),
    )
    cli(
        "cli64",
        "engine.backend=dask",
        "engine.dask_address=tcp://127.0.0.1:1",
        "replications=4",
        words=("dask",),
    )
    cli("cli65", "decision.rationality=1e-300", expect="accept")
    cli("cli66", "design.method=foo", words=("design.method",))
    cli("cli67", "ticks=100000", "replications=2000", words=("engine.chunk_size", "GiB"))
    cli(
        "cli68",
        "dynamics.economic_switching_cost=-inf",
        words=("dynamics.economic_switching_cost",),
    )
    cli("cli69", "region.poles.0.leverage=inf", words=("leverage",))
    cli("cli70", "region.poles.narnia.credibility=0.5", words=("narnia",))
    cli("cli71", "seed=5", "replications=20", expect="accept")
    cli(
        "cli72",
        "-m",
        "seed=0,1000",
        "replications=50",
        "hydra.launcher.n_jobs=1",
        "ticks=5",
        expect="accept",
    )
    cli("cli73", "region.states.belarus.threat_exposure=0.5", expect="accept")

    # region files
    for name, words in [
        ("state_no_attr", ("attribute_state",)),
        ("state_no_initial_at_all", ("initial",)),
        ("no_initial_for_year", ("initial", "2015")),
        ("pole_missing_capital", ("capital",)),
        ("unknown_pole_presence", ("usa",)),
        ("unknown_pole_transit", ("turkey",)),
        ("unknown_pole_initial", ("turkey",)),
        ("affinity_asymmetric", ("affinities", "georgia", "ukraine")),
        ("affinity_duplicate_pair", ("affinities", "georgia", "ukraine")),
        ("affinity_out_of_range", ("affinities",)),
        ("affinity_not_grid", ("affinities",)),
        ("affinity_unknown_state", ("narnia",)),
        ("affinity_self", ("affinities",)),
        ("zero_poles", ("poles",)),
        ("one_pole", ("poles",)),
        ("duplicate_pole", ("russia",)),
        ("duplicate_state", ("belarus",)),
        ("zero_states", ("states",)),
        ("unknown_field", ("colour",)),
        ("pole_named_hedge", ("hedge",)),
        ("pole_named_none", ("none",)),
        ("pole_named_open", ("open",)),
        ("security_not_bool", ("security",)),
        ("no_security_pole", ("security",)),
        ("rivalry_unknown_pole", ("rivalry", "turkey")),
        ("rivalry_self", ("rivalry", "russia")),
        ("rivalry_above_one", ("rivalry", "1.5")),
        ("unknown_profile_initial", ("initial", "china/west")),
        ("attr_state_not_in_csv", ("narnia",)),
        ("trade_field_not_in_csv", ("trade_share_narnia_pct",)),
        ("pole_credibility_17", ("credibility",)),
        ("remit_sum_gt1", ("remittance_origin",)),
        ("threat_string", ("threat_exposure",)),
        ("budget_nan", ("budget_bn_usd",)),
        ("budget_inf", ("budget_bn_usd",)),
        ("not_yaml", ("r_not_yaml",)),
        ("empty", ("poles",)),
        ("polity_out_of_range_override", ("polity2", "60")),
        ("gdp_negative_override", ("gdp_current_usd",)),
        ("negative_presence", ("presence",)),
        ("reach_inf", ("reach_km",)),
    ]:
        cli(f"reg_{name}", "--config-dir", "{CFG}", f"region=r_{name}", words=words)

    # attribute files
    for name, words in [
        ("missing_unit_col", ("unit",)),
        ("missing_value_col", ("value",)),
        ("nonnumeric_gdp", ("gdp_current_usd",)),
        ("empty_gdp", ("gdp_current_usd",)),
        ("nan_gdp", ("gdp_current_usd",)),
        ("inf_gdp", ("gdp_current_usd",)),
        ("negative_gdp", ("gdp_current_usd",)),
        ("no_polity_belarus", ("polity2",)),
        ("polity_50", ("polity2", "50")),
        ("trade_share_450", ("trade_share_russia_pct", "450")),
        ("remittances_negative", ("remittances_received_pct_gdp",)),
        ("bad_year", ("year",)),
        ("binary", ("attributes_file",)),
        ("empty", ("attributes_file",)),
        ("only_header", ("capital_lat",)),
        ("year_typo", ("2O15",)),
        ("duplicate_row", ("gdp_current_usd", "belarus")),
    ]:
        cli(f"csv_{name}", f"region.attributes_file={{CSV}}/{name}.csv", words=words)

    # scenario files
    for name, words in [
        ("unknown_kind", ("alien_invasion",)),
        ("target_not_state", ("narnia",)),
        ("target_pole_for_states", ("russia",)),
        ("missing_targets", ("targets",)),
        ("targets_for_none", ("targets",)),
        ("at_beyond", ("at",)),
        ("at_zero", ("at",)),
        ("at_float", ("at",)),
        ("hazard_gt1", ("hazard",)),
        ("hazard_neg", ("hazard",)),
        ("hazard_nan", ("hazard",)),
        ("duration_neg", ("duration",)),
        ("duration_zero", ("duration",)),
        ("both_at_hazard", ("at", "hazard")),
        ("neither", ("at", "hazard")),
        ("magnitude_neg", ("magnitude",)),
        ("magnitude_big", ("magnitude",)),
        ("magnitude_nan", ("magnitude",)),
        ("magnitude_inf", ("magnitude",)),
        ("unknown_field", ("strength",)),
        ("start_year_bad", ("start_year",)),
    ]:
        out.append(
            Case(
                f"evt_{name}",
                (
                    "alignment-sim",
                    "--config-dir",
                    "{CFG}",
                    f"scenario=ev_{name}",
                    "ticks=40",
                    "output.plots=false",
                ),
                "refuse",
                words,
            )
        )

    # designs on the command line
    lhs = (
        "experiment=lhs",
        "design.samples=4",
        "replications=2",
        "ticks=5",
        "engine.progress=false",
    )

    def design(
        id_: str, parameters: str, expect: str = "refuse", words: tuple[str, ...] = ()
    ) -> None:
        out.append(
            Case(id_, ("alignment-sim", *lhs, f"design.parameters={parameters}"), expect, words)
        )

    design("des01", "{weights.foo: [1, 2]}", words=("weights.foo",))
    design("des02", "{weights.trade: [3, 1]}", words=("weights.trade",))
    out.append(
        Case(
            "des03",
            ("alignment-sim", "experiment=lhs", "design.samples=0"),
            words=("design.samples",),
        )
    )
    out.append(
        Case(
            "des04",
            ("alignment-sim", "experiment=lhs", "design.samples=1"),
            words=("design.samples",),
        )
    )
    out.append(
        Case(
            "des05",
            ("alignment-sim", "experiment=grid", "design.levels=1"),
            words=("design.levels",),
        )
    )
    out.append(
        Case(
            "des06",
            ("alignment-sim", "experiment=lhs", "design.method=foo"),
            words=("design.method",),
        )
    )
    out.append(
        Case(
            "des07",
            ("alignment-sim", *lhs, "design.outcomes=[foo]"),
            words=("design.outcomes", "foo"),
        )
    )
    design("des08", "{dynamics.stance: [-5, 5]}", words=("dynamics.stance",))
    design("des09", "{region.poles.russia.credibility: [0.5, 3.0]}", words=("credibility",))
    design("des10", "{weights.trade: [1, 1]}", words=("weights.trade",))
    design("des11", "{weights.trade: [a, b]}", words=("weights.trade",))
    design("des12", "{region.poles.narnia.budget_bn_usd: [1, 2]}", words=("narnia",))
    design("des13", "{weights.trade: [1, 2, 3]}", words=("weights.trade",))
    design("des14", "{decision.rationality: [-1, 5]}", words=("decision.rationality",))
    design("des15", "{weights.trade: [-3, -1]}", words=("weights.trade",))
    out.append(
        Case(
            "des16",
            (
                "alignment-sim",
                "experiment=lhs",
                "design.samples=4",
                "replications=1",
                "ticks=5",
                "engine.progress=false",
            ),
            "accept",
        )
    )
    out.append(
        Case("des17", ("alignment-sim", "experiment=lhs", "design.samples=abc"), words=("samples",))
    )
    # a field of the one-dimensional model, since removed: refused by name
    design("des19", "{dynamics.hedge_switch_fraction: [0, 1]}", words=("hedge_switch_fraction",))
    out.append(
        Case(
            "des20",
            ("alignment-sim", "experiment=morris", "design.samples=1", "replications=2"),
            words=("design.samples",),
        )
    )
    design("des21", "{weights.trade: [1, .inf]}", words=("weights.trade",))
    out.append(
        Case(
            "dx_readme_syntax",
            (
                "alignment-sim",
                "experiment=sobol",
                "design.samples=4",
                "replications=2",
                "ticks=5",
                "design.parameters={weights.trade: [1, 3]}",
                "engine.progress=false",
            ),
            "accept",
        )
    )
    # designs in experiment files
    for name, words in [
        ("bad_path", ("weights.foo",)),
        ("reversed", ("weights.trade",)),
        ("equal", ("weights.trade",)),
        ("stance_domain", ("dynamics.stance",)),
        ("cred_domain", ("credibility",)),
        ("rationality_neg", ("decision.rationality",)),
        ("weight_neg", ("weights.trade",)),
        ("three", ("weights.trade",)),
        ("strings", ("weights.trade",)),
        ("unknown_pole", ("narnia",)),
        ("unknown_state", ("narnia",)),
        ("state_field", ("gdp",)),
        ("budget_neg", ("budget_bn_usd",)),
        ("recovery_domain", ("dynamics.credibility_recovery",)),
        ("weight_inf", ("weights.trade",)),
        ("samples0", ("design.samples",)),
    ]:
        out.append(
            Case(
                f"dx_{name}",
                (
                    "alignment-sim",
                    "--config-dir",
                    "{CFG}",
                    f"experiment=x_{name}",
                    "engine.progress=false",
                ),
                "refuse",
                words,
            )
        )

    # the comparison report
    def cmp(id_: str, *args: str, expect: str = "refuse", words: tuple[str, ...] = ()) -> None:
        argv = ("alignment-sim-compare", *args)
        if "--out" not in args:
            argv = (*argv, "--out", "{OUT}")
        out.append(Case(id_, argv, expect, words))

    cmp("cmp01", "{FX}/empty", words=("empty",))
    cmp("cmp02", "{FX}/sweep1", expect="accept")
    cmp("cmp03", "{FX}/c_runs_all", words=("runs.parquet",))
    cmp("cmp04", "{FX}/c_runs_one", words=("runs.parquet",))
    cmp("cmp05", "{CASE}/does/not/exist", words=("does/not/exist",))
    cmp("cmp06", "{FX}/afile", words=("afile",))
    cmp("cmp07", "--out", "{OUT}", words=("folder",))
    cmp("cmp08", "{FX}/sweep2", "--bootstrap", "0", words=("--bootstrap",))
    cmp("cmp09", "{FX}/sweep2", "--bootstrap", "abc", words=("--bootstrap",))
    cmp("cmp10", "{FX}/sweep2", "--seed", "-1", words=("--seed",))
    cmp("cmp11", "{FX}/sweep2", "--baseline", "nosuch", words=("nosuch",))
    cmp("cmp12", "{FX}/design", words=("design",))
    cmp("cmp13", "{FX}/c_ticks", words=("ticks.parquet",))
    cmp("cmp14", "{FX}/c_terms", words=("terms.parquet",))
    cmp("cmp15", "{FX}/c_manifest", words=("manifest.json",))
    cmp("cmp16", "{FX}/sweep2", "--out", "{FX}/afile/out", words=("afile",))
    cmp("cmp17", "{FX}/c_mixed_region", expect="accept")
    cmp("cmp18", "{FX}/c_zero_runs", words=("runs.parquet",))
    cmp("cmp19", "{FX}/c_unfinished", words=("unfinished",))
    cmp("cmp20", "{FX}/c_failed", words=("failed",))
    cmp("cmp21", "{FX}/sweep2", "{FX}/sweep2", expect="accept")
    cmp("cmp22", "{FX}/sweep2", "--bootstrap", "100000000", words=("--bootstrap",))
    cmp("cmp23", "{FX}/sweep2", "--out", "/proc/alignment_sim_report", words=("/proc",))
    cmp("cmp24", "{FX}/sweep2", "--out", "{FX}/afile", words=("afile",))

    # dataset collection
    def col(id_: str, *args: str, expect: str = "refuse", words: tuple[str, ...] = ()) -> None:
        argv = ("alignment-sim-collect", *args)
        if "--out" not in args:
            argv = (*argv, "--out", "{OUT}/runs.parquet")
        out.append(Case(id_, argv, expect, words))

    col("col01", "{FX}/empty", words=("empty",))
    col("col02", "{CASE}/does/not/exist", words=("does/not/exist",))
    col("col03", "{FX}/c_runs_all", words=("runs.parquet",))
    col("col04", "{FX}/c_runs_one", words=("runs.parquet",))
    col("col05", "{FX}/afile", words=("afile",))
    col("col06", "{FX}/c_mixed_design", words=("design", "study jobs"))
    col("col07", "{FX}/sweep2", expect="accept")
    col("col08", "{FX}/sweep2", "--ticks", "{FX}/afile/t.parquet", words=("afile",))
    col("col09", "{FX}/c_failed", words=("failed",))
    col("col10", "{FX}/c_mixed_region", expect="accept")
    col("col11", "{FX}/sweep2", "--out", "{CASE}", words=("--out",))
    col("col12", "{FX}/c_manifest", words=("manifest.json",))
    col("col13", "{FX}/c_zero_runs", words=("runs.parquet",))
    col("col14", "{FX}/c_unfinished", words=("unfinished",))
    col("col15", "--out", "{OUT}/runs.parquet", words=("folder",))
    col("col16", "{FX}/sweep2", "--out", "/proc/alignment_sim.parquet", words=("/proc",))

    # history: start years, the calendar's end, dated events, records and scores
    cli("his01", "scenario=history", "region.year=1991", words=("region.year", "1991"))
    cli("his02", "region.calendar=true", "region.year=2016", words=("2016", "initial"))
    cli("his03", "scenario=history", "region.year=2020", "ticks=30", words=("ticks",))
    cli("his04", "scenario=history", "region.year=2000", "ticks=44", expect="accept")
    cli(
        "his05",
        "scenario=history",
        "region.year=2000",
        "region.drivers_file={REC}/drivers_not_a_number.csv",
        words=("polity2", "georgia"),
    )
    cli("his06", "scenario=history", "scenario.events.0.date=2008/08", words=("date",))
    cli(
        "his07",
        "region.calendar=true",
        "region.drivers_file=/nonexistent.csv",
        words=("drivers_file",),
    )
    record = "{PACKAGE_DATA}/alignment_by_year_1991_2010.csv"

    def score(id_: str, *args: str, expect: str = "refuse", words: tuple[str, ...] = ()) -> None:
        argv = ("alignment-sim-score", *args)
        if "--out" not in args:
            argv = (*argv, "--out", "{OUT}")
        out.append(Case(id_, argv, expect, words))

    for name, words in [
        ("unknown_label", ("neutral",)),
        ("unknown_state", ("narnia",)),
        ("bad_year", ("2OO1",)),
        ("contradiction", ("ukraine", "2001")),
        ("empty", ("rec_empty",)),
        ("header_only", ("rec_header_only",)),
        ("no_label_column", ("primary_alignment",)),
    ]:
        score(f"sco_{name}", "{FX}/sweep1", "--record", f"{{REC}}/rec_{name}.csv", words=words)
    score("sco_no_labels", "{FX}/no_labels", "--record", record, words=("labels",))
    score("sco_2015_runs", "{FX}/sweep1", "--record", record, words=("2015",))
    score(
        "sco_missing_record", "{FX}/sweep1", "--record", "/nonexistent.csv", words=("nonexistent",)
    )
    score("sco_bad_floor", "{FX}/sweep1", "--record", record, "--floor", "0", words=("--floor",))
    score(
        "sco_from_after_to",
        "{FX}/sweep1",
        "--record",
        record,
        "--from",
        "2009",
        "--to",
        "2005",
        words=("--from",),
    )
    score("sco_no_runs", "{FX}/empty", "--record", record, words=("empty",))
    score(
        "sco_out_under_file",
        "{FX}/sweep1",
        "--record",
        record,
        "--out",
        "{FX}/afile/s",
        words=("afile",),
    )

    score(
        "sco_out_foreign_folder",
        "{FX}/sweep1",
        "--record",
        record,
        "--out",
        "{FX}/sweep2",
        words=("sweep2", "scoring does not write"),
    )

    # the study, landscape, classroom and hindcast commands
    def study(id_: str, module: str, *args: str, words: tuple[str, ...]) -> None:
        argv = ("python", "-m", f"alignment_sim.studies.{module}", *args)
        out.append(Case(id_, argv, "refuse", words))

    study("stu01", "robustness", "--first-seed", "-1", "--out", "{OUT}", words=("--first-seed -1",))
    study(
        "stu02",
        "robustness",
        "--sampler-seed",
        "-3",
        "--out",
        "{OUT}",
        words=("--sampler-seed -3",),
    )
    study("stu03", "robustness", "--workers", "0", "--out", "{OUT}", words=("workers",))
    study("stu04", "robustness", "--points", "1", "--out", "{OUT}", words=("points",))
    study("stu05", "robustness", "--out", "{FX}/afile", words=("afile", "is a file"))
    study("stu06", "robustness", "--out", "{FX}/sweep2", words=("sweep2", "does not write"))
    study("stu07", "patterns", "--seeds", "0", words=("--seeds 0",))
    study("stu08", "patterns", "--first-seed", "-1", words=("--first-seed -1",))
    study("stu09", "patterns", "--set", "decision.rationalty=3", words=("rationalty",))
    landscape = ("alignment-sim-landscape", "--out", "{OUT}")
    out.append(Case("lan01", (*landscape, "--year", "1980"), words=("--year 1980",)))
    out.append(Case("lan02", (*landscape, "--year", "2005", "--starts", "0"), words=("--starts",)))
    out.append(Case("lan03", (*landscape, "--year", "2005", "--static"), words=("static",)))
    out.append(Case("lan04", (*landscape, "--year", "2005", "--fit", "{FX}/afile"), words=("fit",)))
    out.append(
        Case(
            "lan05",
            ("alignment-sim-landscape", "--year", "2005", "--out", "{FX}/afile/l"),
            words=("afile",),
        )
    )
    debrief = ("alignment-sim-debrief", "--ticks", "2")
    out.append(Case("deb01", (*debrief, "--out", "{FX}/afile"), words=("afile", "is a file")))
    out.append(Case("deb02", (*debrief, "--out", "{FX}/sweep2"), words=("sweep2",)))
    out.append(Case("deb03", (*debrief, "--lessons", "{FX}/afile"), words=("--lessons",)))
    out.append(Case("deb04", (*debrief, "--lesson", "nonesuch"), words=("nonesuch",)))
    out.append(Case("les01", ("alignment-sim-lessons", "--only", "nonesuch"), words=("nonesuch",)))
    out.append(
        Case("les02", ("alignment-sim-lessons", "--lessons", "{FX}/afile"), words=("--lessons",))
    )
    out.append(Case("les03", ("alignment-sim-lessons", "--seeds", "0"), words=("--seeds",)))
    hindcast = ("python", str(ROOT / "experiments" / "hindcast.py"), "--replications", "2")
    out.append(Case("hin01", (*hindcast, "--out", "{FX}/afile"), words=("afile", "is a file")))
    out.append(Case("hin02", (*hindcast, "--out", "{FX}/sweep2"), words=("sweep2",)))
    out.append(Case("hin03", (*hindcast, "--to", "2012"), words=("--to 2012",)))

    # estimation: the fit's window, parameters and record, and fitted sets (fit=)
    cli("est01", "experiment=fit", "estimation.window=[1991,2015]", words=("estimation.window",))
    cli(
        "est02",
        "experiment=fit",
        "estimation.window=[2010,2011]",
        words=("estimation.window", "out-of-sample"),
    )
    cli("est03", "experiment=fit", "estimation.window=[1980,1990]", words=("1991-2010",))
    cli("est04", "experiment=fit", "estimation.window=[2000,2000]", words=("estimation.window",))
    cli("est05", "experiment=fit", "estimation.window=[1991]", words=("estimation.window",))
    cli(
        "est06",
        "experiment=fit",
        "estimation.window=[1993,1997]",
        words=("estimation.window", "switches"),
    )
    cli("est07", "experiment=fit", "estimation.parameters=[weights.nope]", words=("weights.nope",))
    cli(
        "est08",
        "experiment=fit",
        "estimation.parameters=[weights.trade,weights.trade]",
        words=("estimation.parameters", "weights.trade"),
    )
    cli(
        "est09",
        "experiment=fit",
        "estimation.parameters=[decision.rule]",
        words=("decision.rule",),
    )
    cli("est10", "experiment=fit", "estimation.parameters=[]", words=("estimation.parameters",))
    cli(
        "est11",
        "experiment=fit",
        "weights.peer=0",
        "estimation.parameters=[weights.peer]",
        words=("weights.peer", "log scale"),
    )
    cli("est12", "experiment=fit", "estimation.prior_sd=0", words=("estimation.prior_sd",))
    cli("est13", "experiment=fit", "estimation.level=1.5", words=("estimation.level",))
    cli("est14", "experiment=fit", "estimation.min_switches=-1", words=("min_switches",))
    cli("est15", "experiment=fit", "decision=best_response", words=("decision.rule", "logit"))
    cli(
        "est16",
        "experiment=fit",
        "estimation.record=/nonexistent.csv",
        words=("estimation.record", "nonexistent"),
    )
    cli(
        "est17",
        "experiment=fit",
        "estimation.record={REC}/rec_unknown_label.csv",
        words=("neutral",),
    )
    cli("est18", "experiment=fit", "fit=does_not_exist", words=("fit", "does_not_exist"))
    cli("est19", "fit=does_not_exist", words=("fit", "does_not_exist"))
    cli("est20", "fit={REC}/rec_header_only.csv", words=("fit", "rec_header_only"))
    cli("est21", "fit={REC}/rec_empty.csv", words=("fit", "rec_empty"))
    cli("est22", "task=guess", words=("task",))
    cli(
        "est23",
        "experiment=fit",
        "estimation.window=[1997,2002]",
        "estimation.parameters=[decision.rationality]",
        expect="accept",
    )
    cli("est24", "fit=post_soviet_1991_2010", expect="accept")

    # the classroom server
    out.append(
        Case("viz01", ("alignment-sim-viz", "--port", "{BUSY_PORT}"), words=("port",), timeout=60)
    )
    out.append(Case("viz02", ("alignment-sim-viz", "--port", "-1"), words=("--port",)))
    out.append(Case("viz03", ("alignment-sim-viz", "--port", "70000"), words=("--port",)))
    out.append(Case("viz04", ("alignment-sim-viz", "--port", "abc"), words=("--port",)))
    out.append(
        Case("viz05", ("alignment-sim-viz", "--lessons", "/nonexistent"), words=("--lessons",))
    )
    out.append(
        Case(
            "viz06",
            ("alignment-sim-viz", "--host", "999.1.1.1", "--port", "0"),
            words=("999.1.1.1",),
            timeout=60,
        )
    )

    # operating-system faults without privileges
    out.append(
        Case("os01", ("alignment-sim", *QUIET, "hydra.run.dir={FX}/afile/out"), words=("afile",))
    )
    out.append(
        Case(
            "os02", ("alignment-sim", *QUIET, "hydra.run.dir=/proc/nope/run"), words=("/proc/nope",)
        )
    )
    out.append(
        Case(
            "os03",
            (
                "alignment-sim",
                "-m",
                "scenario=baseline",
                "replications=4",
                *QUIET,
                "hydra.sweep.dir={FX}/afile/sw",
            ),
            words=("afile",),
        )
    )
    out.append(
        Case(
            "os04",
            (
                "alignment-sim",
                "experiment=lhs",
                "design.samples=4",
                "replications=2",
                "ticks=5",
                "hydra.run.dir=/proc/nope/design",
            ),
            words=("/proc/nope",),
        )
    )
    # 14 overrides make a job folder name over 255 bytes unless the sweep shortens it
    long_sweep = tuple(
        f"weights.{term}=1.0"
        for term in (
            "trade",
            "remittances",
            "transit",
            "grievance",
            "conditionality",
            "regime_security",
            "autonomy",
            "soft_power",
            "protection",
            "coercion",
            "stance",
            "inducements",
            "peer",
        )
    )
    out.append(
        Case(
            "os05",
            (
                "alignment-sim",
                "-m",
                *long_sweep,
                "dynamics.economic_switching_cost=0.45",
                "replications=2",
                "ticks=2",
                "output.plots=false",
                "engine.progress=false",
            ),
            "accept",
        )
    )
    return out


# ------------------------------------------------------------------------------ running


def _leftovers(case: Case, case_dir: Path) -> list[str]:
    """Files that would look like a finished result, or temporary files, after a refusal."""
    found = []
    for path in case_dir.rglob("*"):
        name = path.name
        if name in ("manifest.json", "report.html") or name.endswith(".tmp"):
            found.append(str(path.relative_to(case_dir)))
        if name == "runs.parquet" and path.parent == case_dir / "out":
            found.append(str(path.relative_to(case_dir)))
    return sorted(found)


def run_case(case: Case, work: Path, places: dict[str, str]) -> Outcome:
    case_dir = work / "cases" / case.id
    case_dir.mkdir(parents=True, exist_ok=True)
    values = {**places, "CASE": str(case_dir), "OUT": str(case_dir / "out")}
    argv = list(case.argv)
    for name, value in values.items():
        argv = [a.replace("{" + name + "}", value) for a in argv]
    argv[0] = str(BIN / argv[0])
    if case.argv[0] == "alignment-sim":
        if "-m" in argv:
            if not any(a.startswith("hydra.sweep.dir=") for a in argv):
                argv.append(f"hydra.sweep.dir={case_dir / 'out'}")
            if not any(a.startswith("hydra.launcher.n_jobs=") for a in argv):
                argv.append("hydra.launcher.n_jobs=1")
        elif not any(a.startswith("hydra.run.dir=") for a in argv):
            argv.append(f"hydra.run.dir={case_dir / 'out'}")
        if not any(a.startswith("engine.workers=") for a in argv):
            argv.append("engine.workers=1")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=case_dir,
            capture_output=True,
            text=True,
            timeout=case.timeout,
            stdin=subprocess.DEVNULL,
        )
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = -9
        output = (
            f"timed out after {case.timeout} s\n" + str(exc.stdout or "") + str(exc.stderr or "")
        )
    result = Outcome(case, code, output, seconds=time.perf_counter() - start)
    if case.expect == "refuse":
        result.leftovers = _leftovers(case, case_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--only", default="", help="run the cases whose id starts with this")
    parser.add_argument("--keep", type=Path, help="keep fixtures and outputs in this folder")
    args = parser.parse_args(argv)

    selected = [c for c in cases() if c.id.startswith(args.only)]
    work = args.keep or Path(tempfile.mkdtemp(prefix="alignment-battery-"))
    if work.exists() and args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"fixtures in {work} ...", flush=True)
    make_config_dir(work / "cfg")
    make_csvs(work / "csv")
    make_records(work / "rec")
    if any("{FX}" in " ".join(c.argv) for c in selected):
        make_study_fixtures(work / "fx", work / "cfg")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    places = {
        "CFG": str(work / "cfg"),
        "CSV": str(work / "csv"),
        "REC": str(work / "rec"),
        "PACKAGE_DATA": str(PACKAGE / "data"),
        "FX": str(work / "fx"),
        "BUSY_PORT": str(busy.getsockname()[1]),
    }
    results: list[Outcome] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, c, work, places) for c in selected]
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results.append(result)
            mark = "ok  " if result.ok else "FAIL"
            print(
                f"{mark} {result.case.id:<34} {result.seconds:5.1f} s  {result.why()}", flush=True
            )
    busy.close()
    results.sort(key=lambda r: r.case.id)
    bad = [r for r in results if r.case.expect == "refuse"]
    valid = [r for r in results if r.case.expect == "accept"]
    failed = [r.case.id for r in results if not r.ok]
    print()
    print(f"bad inputs: {len(bad)}, handled well: {sum(r.ok for r in bad)}")
    print(f"valid inputs: {len(valid)}, ran: {sum(r.ok for r in valid)}")
    if failed:
        print("failed: " + ", ".join(failed))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    print(
        json.dumps(
            {
                "cases": len(results),
                "bad_inputs": len(bad),
                "handled_well": sum(r.ok for r in bad),
                "valid_ok": sum(r.ok for r in valid),
                "failed_ids": failed,
            }
        )
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
