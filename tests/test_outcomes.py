"""Outcome measures: known answers on a hand-made alignment, and every path that reports
outcomes (Mesa trajectory and DataCollector, engine study tables, the report's single-run
loader, the lessons, the patterns) giving the same numbers for the same runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.classroom.lessons import Outcome
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.outputs.files import write_run
from alignment_sim.report.inputs import load_unit
from alignment_sim.studies import outcomes, patterns
from alignment_sim.studies.replications import outcome_table, tick_table

# Two runs, ticks 0..3, three states, options 0..2 (2 = hedge).
HAND = np.array(
    [
        [[0, 1, 2], [0, 1, 2], [1, 1, 2], [1, 1, 0]],  # switches at tick 2 (s0) and 3 (s2)
        [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],  # never moves
    ],
    dtype=np.int8,
)


def test_known_answers_on_a_hand_made_alignment() -> None:
    np.testing.assert_array_equal(outcomes.switches(HAND), [2, 0])
    np.testing.assert_array_equal(outcomes.switches(HAND, 3, 3), [1, 0])
    np.testing.assert_array_equal(outcomes.switches(HAND, 1, 2), [1, 0])
    np.testing.assert_array_equal(outcomes.time_to_stability(HAND), [3, 0])
    np.testing.assert_array_equal(outcomes.switched_states(HAND).sum(axis=1), [2, 0])
    np.testing.assert_array_equal(outcomes.final_options(HAND), [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(outcomes.option_shares(HAND, 3)[0, -1], [1 / 3, 2 / 3, 0])
    np.testing.assert_array_equal(outcomes.option_counts(HAND, 3)[0, 2], [0, 2, 1])
    # state 0 ends in option 1 in run 0 and option 0 in run 1
    np.testing.assert_allclose(
        outcomes.final_distribution(HAND, 3), [[0.5, 0.5, 0], [0.5, 0.5, 0], [1, 0, 0]]
    )
    # run 0 over ticks 1..3: option 0 holds 1/3, 0, 1/3 of the states
    np.testing.assert_allclose(outcomes.mean_shares(HAND, 3)[0], [2 / 9, 5 / 9, 2 / 9])
    np.testing.assert_allclose(outcomes.mean_shares(HAND, 3)[1], [1, 0, 0])
    # hedging: run 0 has 2 of its 9 state-ticks, run 1 none: 2 of 18
    assert outcomes.time_share(HAND, 2) == pytest.approx(2 / 18)
    assert outcomes.switch_events(HAND, 0) == [(2, 0), (3, 2)]
    assert outcomes.switch_events(HAND, 1) == []
    np.testing.assert_allclose(outcomes.shares_over_runs(HAND, 3)[0], [2 / 3, 1 / 6, 1 / 6])
    row = outcomes.run_outcomes(HAND, ["a", "b", "hedge"], ["x", "y", "z"])
    assert list(row["final_x"]) == ["b", "a"] and list(row["final_z"]) == ["a", "a"]
    assert list(row)[:2] == ["final_share_a", "mean_share_a"]


def test_alignment_from_labels_rebuilds_the_grid_and_refuses_gaps() -> None:
    ticks = np.array([0, 0, 1, 1])
    states = np.array(["y", "x", "y", "x"])
    labels = np.array(["a", "b", "b", "b"])
    grid, order = outcomes.alignment_from_labels(ticks, states, labels, ["a", "b"])
    assert order == ["y", "x"]
    np.testing.assert_array_equal(grid, [[[0, 1], [1, 1]]])
    with pytest.raises(ValueError, match="'c'"):
        outcomes.alignment_from_labels(ticks, states, np.array(["a", "c", "b", "b"]), ["a", "b"])
    with pytest.raises(ValueError, match="gaps"):
        outcomes.alignment_from_labels(ticks[:3], states[:3], labels[:3], ["a", "b"])


SEEDS = [0, 1, 2, 3]
TICKS = 10


@pytest.fixture(scope="module")
def engine_runs():
    config = default_config(scenario="russia_recession", ticks=TICKS)
    result = run_batch(RunInputs.from_config(config), SEEDS)
    return config, result, outcome_table(result).set_index("seed")


def test_every_path_measures_the_same_runs_alike(engine_runs, tmp_path: Path) -> None:
    config, result, table = engine_runs
    world = result.inputs.world
    assert table["switches"].sum() > 0  # the recession makes states move: a real check
    ticks = tick_table(result)
    for seed in SEEDS:
        model = AlignmentModel(config, seed=seed)
        trajectory = model.run()
        expected = table.loc[seed]
        # the Mesa model's own summary
        summary = trajectory.summary()
        assert summary["n_switches"] == expected["switches"]
        assert summary["time_to_stability"] == expected["time_to_stability"]
        assert len({s["state"] for s in summary["switches"]}) == expected["states_switched"]
        for state in world.states:
            assert summary["final_alignment"][state] == expected[f"final_{state}"]
        for option in world.options:
            assert summary["final_shares"][option] == expected[f"final_share_{option}"]
        # the Mesa DataCollector, tick by tick
        collected = model.datacollector.get_model_vars_dataframe()
        per_tick = ticks[ticks["seed"] == seed]
        for option in world.options:
            np.testing.assert_array_equal(
                collected[f"share_{option}"].to_numpy(), per_tick[f"share_{option}"].to_numpy()
            )
        # the comparison report's loader of a single-run folder
        folder = write_run(
            trajectory, replace(config, seed=seed), tmp_path / str(seed), plots=False
        )
        unit = load_unit(folder)
        row = unit.runs.set_index("seed").loc[seed]
        for column in row.index:
            assert row[column] == expected[column], column
        finals = unit.finals.set_index("state")
        for state in world.states:
            assert finals.loc[state, "option"] == expected[f"final_{state}"]
    # the lessons (mean over runs) and the patterns (over a batch)
    assert result.mean_offers is not None
    lesson = Outcome("x", world, result.alignment, result.mean_offers)
    assert lesson.switches_per_run() == table["switches"].mean()
    hedge = world.hedge_index
    assert lesson.hedging_share() == pytest.approx(table["mean_share_hedge"].mean(), abs=1e-12)
    assert patterns.switches_per_run(result) == table["switches"].mean()
    assert patterns.share_over_run(result, "hedge") == lesson.hedging_share()
    for i, state in enumerate(world.states):
        for k, option in enumerate(world.options):
            share_of_runs = float((table[f"final_{state}"] == option).mean())
            assert lesson.final_distribution()[i, k] == share_of_runs
            assert patterns.p_final(result, state, option) == share_of_runs
    np.testing.assert_allclose(
        lesson.shares()[-1],
        [table[f"final_share_{o}"].mean() for o in world.options],
        atol=1e-12,
    )
    assert lesson.shares()[:, hedge].shape == (TICKS + 1,)


def test_study_table_column_order_is_unchanged(engine_runs) -> None:
    _, result, _ = engine_runs
    columns = list(outcome_table(result).columns)
    options, states = result.inputs.world.options, result.inputs.world.states
    expected = ["seed"]
    for option in options:
        expected += [f"final_share_{option}", f"mean_share_{option}"]
    expected += ["switches", "time_to_stability", "states_switched"]
    expected += [f"final_{state}" for state in states]
    assert columns == expected
    assert pd.api.types.is_integer_dtype(outcome_table(result)["switches"])
