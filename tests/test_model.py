"""The Mesa model: invariants, determinism, explanation, and the Mesa contract."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from helpers import tiny_attributes

import alignment_sim
from alignment_sim import AlignmentModel, SimulationConfig, default_config
from alignment_sim.model.kernels import TERMS
from alignment_sim.model.world import FLOAT
from alignment_sim.outputs.files import read_manifest, write_run


@pytest.fixture(scope="module")
def default_run():
    return AlignmentModel(default_config(ticks=20, seed=11)).run()


def test_each_state_in_exactly_one_option_and_shares_sum_to_one(default_run) -> None:
    options = len(default_run.world.options)
    assert default_run.alignment.min() >= 0 and default_run.alignment.max() < options
    np.testing.assert_allclose(default_run.shares().sum(axis=-1), 1.0)
    blocs = default_run.blocs_frame()
    np.testing.assert_allclose(blocs.groupby("tick")["share"].sum(), 1.0)
    np.testing.assert_allclose(blocs.groupby("tick")["capability_share"].sum(), 1.0)
    assert (blocs.groupby("tick")["members"].sum() == default_run.world.n_states).all()


def test_terms_add_up_to_utility(default_run) -> None:
    # exactly: the model adds the terms left to right in its own precision (FLOAT)
    terms = default_run.terms.astype(FLOAT)
    total = terms[..., 0].copy()
    for j in range(1, terms.shape[-1]):
        total += terms[..., j]
    np.testing.assert_array_equal(total, default_run.utility.astype(FLOAT))
    np.testing.assert_allclose(default_run.terms.sum(axis=-1), default_run.utility, atol=1e-5)
    frame = default_run.trajectory_frame()
    later = frame[frame.tick > 0]
    for option in default_run.world.options:
        total = sum(later[f"{name}_{option}"] for name in TERMS)
        np.testing.assert_allclose(total, later[f"utility_{option}"], atol=1e-5)


def test_trajectory_frame_shape_and_flags(default_run) -> None:
    frame = default_run.trajectory_frame()
    world = default_run.world
    assert len(frame) == (default_run.ticks + 1) * world.n_states
    assert set(frame.alignment) <= set(world.options)
    assert (frame.hedging == (frame.alignment == "hedge")).all()
    first = frame[frame.tick == 0].set_index("state").alignment
    assert first.to_dict() == {
        s: world.options[k] for s, k in zip(world.states, world.initial_alignment, strict=True)
    }
    assert frame.year.iloc[-1] == pytest.approx(2015 + default_run.ticks / 4)


def test_pole_spending_equals_budget(default_run) -> None:
    blocs = default_run.blocs_frame()
    spent = blocs[(blocs.tick > 0) & blocs.is_bloc].groupby("option")["spending_bn_usd"].mean()
    budgets = dict(zip(default_run.world.poles, default_run.world.pole.budget_bn, strict=True))
    for pole, value in spent.items():
        assert value == pytest.approx(budgets[pole])


def test_same_seed_same_trajectory_and_different_seed_differs(tmp_path: Path) -> None:
    config = default_config(ticks=30, seed=5)
    first = AlignmentModel(config).run()
    second = AlignmentModel(config).run()
    write_run(first, config, tmp_path / "one", plots=False)
    write_run(second, config, tmp_path / "two", plots=False)
    for name in ("trajectory.parquet", "blocs.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "one" / name), pd.read_parquet(tmp_path / "two" / name)
        )
    utilities = [AlignmentModel(config, seed=s).run().utility for s in range(6)]
    assert any(not np.array_equal(utilities[0], u) for u in utilities[1:])


def checkout_head() -> str | None:
    """``git rev-parse HEAD`` of the checkout the package runs from, or None outside one."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(alignment_sim.__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:  # no git on this machine
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def test_manifest_carries_provenance(tmp_path: Path) -> None:
    config = default_config(ticks=3, seed=9)
    folder = write_run(AlignmentModel(config).run(), config, tmp_path, plots=False)
    meta = read_manifest(folder / "trajectory.parquet")
    assert meta["seed"] == 9
    assert meta["config"]["ticks"] == 3
    assert meta["config"]["region"]["name"] == "post_soviet"
    # the installed distribution's version, never the "unknown" fallback
    assert meta["version"] == metadata.version("alignment-sim") == alignment_sim.__version__
    head = checkout_head()
    if head is None:
        assert meta["git_revision"] == "unknown"
    else:
        assert re.fullmatch(r"[0-9a-f]{40}", head)
        assert meta["git_revision"] in (head, f"{head}+dirty")


def test_synchronous_update_ignores_agent_order() -> None:
    config = default_config(ticks=15, seed=2)
    forward = AlignmentModel(config)
    backward = AlignmentModel(config)
    backward.choosers.reverse()
    backward.pole_agents.reverse()
    np.testing.assert_array_equal(forward.run().alignment, backward.run().alignment)


def test_mesa_contract_datacollector_and_batch_run() -> None:
    model = AlignmentModel(default_config(ticks=4, seed=1))
    assert isinstance(model, mesa.Model)
    model.run()
    data = model.datacollector.get_model_vars_dataframe()
    assert len(data) == 5
    np.testing.assert_allclose(data.sum(axis=1), 1.0)
    assert not model.running
    results = mesa.batch_run(
        AlignmentModel,
        {"config": [default_config(ticks=3)], "seed": [1, 2]},
        number_processes=1,
        max_steps=10,
        display_progress=False,
    )
    assert {r["seed"] for r in results} == {1, 2}


def test_tiny_world_from_a_csv_file(tmp_path: Path, tiny_config: SimulationConfig) -> None:
    csv = tmp_path / "attributes.csv"
    tiny_attributes().to_csv(csv, index=False)
    tiny_config.region.attributes_file = str(csv)
    run = AlignmentModel(tiny_config).run()
    assert run.alignment.shape == (1, 11, 3)
    np.testing.assert_allclose(run.shares().sum(axis=-1), 1.0)


def test_explanation_is_kept_per_agent() -> None:
    model = AlignmentModel(default_config(ticks=2, seed=0))
    model.step()
    belarus = model.choosers[0]
    assert set(belarus.terms) == set(TERMS)
    np.testing.assert_allclose(sum(belarus.terms.values()), belarus.utility, atol=2e-6)


def test_stepping_past_the_end_is_a_clear_error() -> None:
    model = AlignmentModel(default_config(ticks=2, seed=0))
    model.run()
    with pytest.raises(RuntimeError, match="2 ticks long"):
        model.step()
