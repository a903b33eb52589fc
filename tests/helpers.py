"""Test helpers shared by several test files (import as ``from helpers import ...``).

The tiny hand-checkable world used by the kernel and model tests, the reference runs (the
pinned (config, seed) pairs of ``tests/reference/`` and how their numbers are computed),
and ``run_cli``, the command line run as a user runs it.
"""

from __future__ import annotations

import importlib.util
import io
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import AffinitySpec, PoleSpec, RegionSpec, StateSpec
from alignment_sim.model.trajectory import Trajectory

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root (the clone being tested)."""
DATA_DIR = ROOT / "src" / "alignment_sim" / "data"
"""The package's data files."""

CLI = [sys.executable, "-c", "from alignment_sim.cli.main import main; main()"]
"""``alignment-sim`` in a fresh interpreter of this environment."""


def run_cli(args: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``alignment-sim ARGS`` run in ``cwd`` (a test's tmp_path), its output captured as
    text; a run longer than ``timeout`` seconds fails the test."""
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def load_script(path: Path) -> ModuleType:
    """A script of the repository that is not a package module (``experiments/``,
    ``benchmarks/``) imported as the module named after its file (registered in
    ``sys.modules``, as its dataclasses need)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def swing_by_hand(rationality: float, margin: float) -> float:
    """The spending rule's swing written out by hand: 4e / (1 + e)^2, e = exp(-rationality
    * |margin|) (``kernels.bid_sensitivity``)."""
    e = math.exp(-rationality * abs(margin))
    return 4 * e / (1 + e) ** 2


# Three choosers on the equator; pole p at longitude 0, pole q at longitude 10 (1111.95 km).
TINY_ATTRIBUTES = {
    # state: (lat, lon, gdp US$, cinc, polity2, remittances %GDP, trade_p %, trade_q %)
    "A": (0.0, 0.0, 10e9, 0.01, -10, 20.0, 40.0, 10.0),
    "B": (0.0, 10.0, 20e9, 0.02, 10, 0.0, 10.0, 50.0),
    "C": (0.0, 5.0, 5e9, 0.01, 0, 10.0, 25.0, 25.0),
}
KM_PER_10_DEGREES = 2 * 3.141592653589793 * 6371.0 * 10 / 360


def tiny_attributes() -> pd.DataFrame:
    """The tiny world's attribute table, in the long form of ``data/state_attributes.csv``."""
    rows = []
    fields = (
        "capital_lat",
        "capital_lon",
        "gdp_current_usd",
        "cinc",
        "polity2",
        "remittances_received_pct_gdp",
        "trade_p_pct",
        "trade_q_pct",
    )
    for state, values in TINY_ATTRIBUTES.items():
        for name, value in zip(fields, values, strict=True):
            year = "" if name.startswith("capital") else "2015"
            rows.append(
                {
                    "state": state,
                    "year": year,
                    "field": name,
                    "value": str(value),
                    "unit": "",
                    "source": "test fixture",
                }
            )
    frame = pd.DataFrame(rows)
    frame["year"] = pd.to_numeric(frame["year"], errors="coerce")
    return frame


def tiny_region() -> RegionSpec:
    """Choosers a, b, c (data rows A, B, C) and poles p, q, every parameter set by hand."""
    return RegionSpec(
        name="tiny",
        year=2015,
        tick_months=3,
        poles=[
            PoleSpec(
                name="p",
                capital_lat=0.0,
                capital_lon=0.0,
                capability=0.5,
                trade_field="trade_p_pct",
                military_weight=1.0,
                reach_km=1000.0,
                budget_bn_usd=1.0,
                credibility=0.5,
                conditionality=0.0,
                regime_support=0.5,
                soft_power=0.5,
                soft_power_floor=1.0,
                coercion=0.5,
                leverage=1.0,
                rivalry={"q": 1.0},
                labour_market_from=1991,
            ),
            PoleSpec(
                name="q",
                capital_lat=0.0,
                capital_lon=10.0,
                capability=0.25,
                trade_field="trade_q_pct",
                military_weight=0.5,
                reach_km=1000.0,
                budget_bn_usd=2.0,
                credibility=1.0,
                conditionality=1.0,
                regime_support=0.0,
                soft_power=0.0,
                coercion=0.0,
                leverage=0.0,
                security=False,
                labour_market_from=1991,
            ),
        ],
        states=[
            StateSpec(
                name="a",
                attribute_state="A",
                threat_exposure=1.0,
                remittance_origin={"p": 1.0},
                transit={"p": 0.5},
                presence={"p": 0.5},
                initial={"2015": "p"},
            ),
            StateSpec(
                name="b",
                attribute_state="B",
                threat_exposure=0.0,
                transit={"q": 1.0},
                initial={"2015": "none/q"},
            ),
            StateSpec(
                name="c",
                attribute_state="C",
                threat_exposure=0.5,
                autonomy=1.0,
                remittance_origin={"p": 0.5, "q": 0.5},
                initial={"2015": "hedge"},
            ),
        ],
        affinities=[
            AffinitySpec(a="a", b="b", value=-1.0, reason="test rivals"),
            AffinitySpec(a="a", b="c", value=0.5, reason="test friends"),
        ],
    )


# --- reference runs (tests/reference/) --------------------------------------------------

REFERENCE_DIR = ROOT / "tests" / "reference"
MESA_FILE = "mesa_default.csv"
UTILITY_FILE = "mesa_default_utility.csv"
ENGINE_FILE = "engine_outcomes.csv"
MESA_SEEDS = tuple(range(5))
MESA_TICKS = 12
ENGINE_SCENARIOS = ("baseline", "russia_recession", "afghan_spillover")
ENGINE_SEEDS = tuple(range(20))


def alignment_table(trajectory: Trajectory) -> pd.DataFrame:
    """One row per run x tick: each state's profile (by name) and the share of each profile."""
    world = trajectory.world
    options = np.array(world.options)
    rows = []
    for r, seed in enumerate(trajectory.seeds):
        for tick in range(trajectory.ticks + 1):
            chosen = trajectory.alignment[r, tick]
            row: dict[str, object] = {"seed": int(seed), "tick": tick}
            row.update(zip(world.states, options[chosen], strict=True))
            for k, option in enumerate(world.options):
                row[f"share_{option}"] = float(np.count_nonzero(chosen == k)) / len(chosen)
            rows.append(row)
    return pd.DataFrame(rows)


def final_utility_table(trajectory: Trajectory) -> pd.DataFrame:
    """One row per run x state x dimension x option: each choice's utility at the last
    tick (single precision); a profile's utility is the sum of its two parts."""
    world, space = trajectory.world, trajectory.world.space
    dimensions = (
        ("security", space.security_options, trajectory.security_utility),
        ("economy", space.economic_options, trajectory.economy_utility),
    )
    rows = [
        {
            "seed": int(seed),
            "state": state,
            "dimension": dimension,
            "option": option,
            "utility": float(np.float32(utility[r, -1, i, k])),
        }
        for r, seed in enumerate(trajectory.seeds)
        for i, state in enumerate(world.states)
        for dimension, options, utility in dimensions
        for k, option in enumerate(options)
    ]
    return pd.DataFrame(rows)


def mesa_trajectory() -> Trajectory:
    """The Mesa model on the default config, ``MESA_TICKS`` ticks, each of ``MESA_SEEDS``."""
    config = default_config(ticks=MESA_TICKS)
    runs = [AlignmentModel(config, seed=seed).run() for seed in MESA_SEEDS]
    merged = Trajectory(runs[0].world, MESA_TICKS, np.array(MESA_SEEDS), runs[0].event_names)
    merged.alignment = np.concatenate([run.alignment for run in runs])
    merged.security_utility = np.concatenate([run.security_utility for run in runs])
    merged.economy_utility = np.concatenate([run.economy_utility for run in runs])
    return merged


def engine_trajectory() -> Trajectory:
    """The engine on the same config and seeds as ``mesa_trajectory`` (a full record)."""
    config = default_config(ticks=MESA_TICKS)
    result = run_batch(RunInputs.from_config(config), MESA_SEEDS, record="full")
    assert result.trajectory is not None
    return result.trajectory


def run_outcomes(alignment: np.ndarray, options: tuple[str, ...]) -> dict[str, object]:
    """Outcomes of one run from its (T + 1, N) option indices, written out plainly.

    final_share_<option>: share of states in the option at the last tick;
    switches: number of (tick, state) pairs whose option differs from the tick before;
    time_to_stability: the last tick at which any state switched (0: none ever did).
    """
    moved = alignment[1:] != alignment[:-1]
    outcomes: dict[str, object] = {
        f"final_share_{option}": float(np.count_nonzero(alignment[-1] == k)) / alignment.shape[1]
        for k, option in enumerate(options)
    }
    outcomes["switches"] = int(moved.sum())
    ticks_with_a_switch = np.flatnonzero(moved.any(axis=1)) + 1
    outcomes["time_to_stability"] = int(ticks_with_a_switch[-1]) if len(ticks_with_a_switch) else 0
    return outcomes


def engine_outcomes() -> pd.DataFrame:
    """One row per scenario x seed (engine): outcomes over profiles, the final share of
    each record label, each pole's final credibility and its mean offer to Belarus over
    the run (US$ bn a year, single precision)."""
    rows = []
    for scenario in ENGINE_SCENARIOS:
        inputs = RunInputs.from_config(default_config(scenario=scenario))
        result = run_batch(inputs, ENGINE_SEEDS)
        world = inputs.world
        for r, seed in enumerate(result.seeds):
            row: dict[str, object] = {"scenario": scenario, "seed": int(seed)}
            alignment = result.alignment[r].astype(np.int64)
            row.update(run_outcomes(alignment, world.options))
            final_labels = world.labelling.of_profiles(alignment[-1])
            for k, label in enumerate(world.labels):
                row[f"final_share_{label}"] = float(np.mean(final_labels == k))
            for b, pole in enumerate(world.poles):
                row[f"final_credibility_{pole}"] = float(np.float32(result.credibility[r, -1, b]))
            assert result.mean_offers is not None
            belarus = world.states.index("belarus")
            for b, pole in enumerate(world.poles):
                offer = result.mean_offers[r, b, belarus]
                row[f"mean_offer_belarus_{pole}"] = float(np.float32(offer))
            rows.append(row)
    return pd.DataFrame(rows)


def as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it reads back from CSV (floats are written in full, so exactly)."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def reference_tables() -> dict[str, pd.DataFrame]:
    """Every pinned table, by file name, computed by the code as it is now."""
    mesa = mesa_trajectory()
    return {
        MESA_FILE: alignment_table(mesa),
        UTILITY_FILE: final_utility_table(mesa),
        ENGINE_FILE: engine_outcomes(),
    }
