"""Outcome measures: known answers on hand-made alignments (codes, and profiles of the tiny
world's option space), invariants on engine runs, and every path that reports outcomes
(Mesa trajectory and DataCollector, engine study tables, the report's single-run loader,
the lessons, the patterns) giving the same numbers for the same runs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.classroom.lessons import Outcome
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.alignment import Labelling, OptionSpace
from alignment_sim.model.inputs import RunInputs
from alignment_sim.outputs.files import write_run
from alignment_sim.report.inputs import load_unit
from alignment_sim.studies import outcomes, patterns
from alignment_sim.studies.replications import outcome_table, tick_table

# Two runs, ticks 0..3, three states, codes 0..2.
HAND = np.array(
    [
        [[0, 1, 2], [0, 1, 2], [1, 1, 2], [1, 1, 0]],  # switches at tick 2 (s0) and 3 (s2)
        [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],  # never moves
    ],
    dtype=np.int8,
)


def test_known_answers_on_hand_made_codes() -> None:
    np.testing.assert_array_equal(outcomes.switches(HAND), [2, 0])
    np.testing.assert_array_equal(outcomes.switches(HAND, 3, 3), [1, 0])
    np.testing.assert_array_equal(outcomes.switches(HAND, 1, 2), [1, 0])
    np.testing.assert_array_equal(outcomes.time_to_stability(HAND), [3, 0])
    np.testing.assert_array_equal(outcomes.switched_states(HAND).sum(axis=1), [2, 0])
    np.testing.assert_array_equal(outcomes.final_options(HAND), [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(outcomes.option_shares(HAND, 3)[0, -1], [1 / 3, 2 / 3, 0])
    np.testing.assert_array_equal(outcomes.option_counts(HAND, 3)[0, 2], [0, 2, 1])
    # every row of every shape, as one-hot sums would count it; codes outside 0..K-1 nowhere
    one_hot = (HAND[..., None] == np.arange(3)).sum(axis=-2)
    np.testing.assert_array_equal(outcomes.option_counts(HAND, 3), one_hot)
    np.testing.assert_array_equal(outcomes.option_counts(np.array([2, -1, 3, 2, 0]), 3), [1, 0, 2])
    # state 0 ends in code 1 in run 0 and code 0 in run 1
    np.testing.assert_allclose(
        outcomes.final_distribution(HAND, 3), [[0.5, 0.5, 0], [0.5, 0.5, 0], [1, 0, 0]]
    )
    # run 0 over ticks 1..3: code 0 holds 1/3, 0, 1/3 of the states
    np.testing.assert_allclose(outcomes.mean_shares(HAND, 3)[0], [2 / 9, 5 / 9, 2 / 9])
    np.testing.assert_allclose(outcomes.mean_shares(HAND, 3)[1], [1, 0, 0])
    # code 2: run 0 has 2 of its 9 state-ticks, run 1 none: 2 of 18
    assert outcomes.time_share(HAND, 2) == pytest.approx(2 / 18)
    assert outcomes.switch_events(HAND, 0) == [(2, 0), (3, 2)]
    assert outcomes.switch_events(HAND, 1) == []
    np.testing.assert_allclose(outcomes.shares_over_runs(HAND, 3)[0], [2 / 3, 1 / 6, 1 / 6])


# The tiny world's space: p offers security, q does not. Profiles (security/economy):
# 0 p/p, 1 p/q, 2 p/open, 3 none/p, 4 none/q, 5 none/open. By score_v1's rule
# (model.alignment): p/p 4, p/q 2 vs 1, p/open 2 and none/p 2 are labelled p; none/q (q 1)
# and none/open (no score) are hedge; no profile is labelled q.
TINY = OptionSpace(("p", "q"), (True, False))
TINY_LABELS = Labelling.without_held(TINY, 3)
PROFILES = np.array(
    [
        [
            [0, 4, 5],  # a p/p, b none/q, c none/open
            [1, 4, 3],  # a -> p/q (economy), c -> none/p (economy; hedge -> p)
            [1, 5, 3],  # b -> none/open (economy; stays hedge)
        ]
    ],
    dtype=np.int8,
)


def test_option_counts_are_the_same_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows histogrammed a few at a time (blocks of 7 rows over 5 x 6 rows, one short) give
    the one-hot sums, codes outside the options counted nowhere."""
    codes = np.random.default_rng(3).integers(-1, 5, size=(5, 6, 4), dtype=np.int8)
    monkeypatch.setattr(outcomes, "COUNT_BLOCK", 7)
    one_hot = (codes[..., None] == np.arange(4)).sum(axis=-2)
    np.testing.assert_array_equal(outcomes.option_counts(codes, 4), one_hot)


def test_profiles_labels_and_dimensions_by_hand() -> None:
    assert TINY.profiles == ("p/p", "p/q", "p/open", "none/p", "none/q", "none/open")
    np.testing.assert_array_equal(TINY_LABELS.of_profiles(PROFILES)[0, 0], [0, 2, 2])
    np.testing.assert_array_equal(TINY_LABELS.of_profiles(PROFILES)[0, 2], [0, 2, 0])
    np.testing.assert_array_equal(
        outcomes.dimension_codes(PROFILES, TINY, "security")[0, 2], [0, 1, 1]
    )
    np.testing.assert_array_equal(
        outcomes.dimension_codes(PROFILES, TINY, "economy")[0, 2], [1, 2, 0]
    )
    with pytest.raises(ValueError, match="'trade'"):
        outcomes.dimension_codes(PROFILES, TINY, "trade")
    series = outcomes.share_series(PROFILES, TINY_LABELS)
    assert list(series) == [
        "p", "q", "hedge", "security_p", "security_none", "economy_p", "economy_q", "economy_open"
    ]  # fmt: skip
    np.testing.assert_allclose(series["economy_q"][0], [1 / 3, 2 / 3, 1 / 3])
    for kind, options in outcomes.share_kinds(TINY):
        total = sum(series[outcomes.share_name(kind, o)] for o in options)
        np.testing.assert_allclose(total, 1.0)


def test_run_outcomes_of_a_hand_made_run() -> None:
    row = outcomes.run_outcomes(PROFILES, TINY_LABELS, ["a", "b", "c"])
    expected = {
        "final_share_p": 2 / 3,
        "mean_share_p": 2 / 3,
        "final_share_q": 0.0,
        "mean_share_q": 0.0,
        "final_share_hedge": 1 / 3,
        "mean_share_hedge": 1 / 3,
        "final_share_security_p": 1 / 3,
        "mean_share_security_p": 1 / 3,
        "final_share_security_none": 2 / 3,
        "mean_share_security_none": 2 / 3,
        "final_share_economy_p": 1 / 3,
        "mean_share_economy_p": 1 / 3,
        "final_share_economy_q": 1 / 3,
        "mean_share_economy_q": 1 / 2,  # 2/3 at tick 1, 1/3 at tick 2
        "final_share_economy_open": 1 / 3,
        "mean_share_economy_open": 1 / 6,
        "switches": 3,  # a and c at tick 1, b at tick 2
        "label_switches": 1,  # c: hedge -> p
        "security_switches": 0,
        "economy_switches": 3,
        "time_to_stability": 2,
        "states_switched": 3,
        "final_a": "p/q",
        "final_b": "none/open",
        "final_c": "none/p",
        "final_label_a": "p",
        "final_label_b": "hedge",
        "final_label_c": "p",
    }
    assert list(row) == list(expected)
    for name, value in expected.items():
        if isinstance(value, str):
            assert list(row[name]) == [value], name
        else:
            np.testing.assert_allclose(row[name], [value], err_msg=name)
    patterns = [re.sub(r"<\w+>", r"\\w+", pattern) for pattern in outcomes.OUTCOMES]
    for name in row:  # every column is documented
        assert any(re.fullmatch(pattern, name) for pattern in patterns), name


def test_colliding_outcome_names_are_refused() -> None:
    with pytest.raises(ValueError, match="collide"):
        outcomes.run_outcomes(PROFILES, TINY_LABELS, ["a", "label_a", "c"])


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


def test_counts_are_consistent_on_engine_runs(engine_runs) -> None:
    _, result, table = engine_runs
    security, economy = table["security_switches"], table["economy_switches"]
    assert (table["switches"] >= np.maximum(security, economy)).all()
    assert (table["switches"] <= security + economy).all()
    assert (table["label_switches"] <= table["switches"]).all()
    assert (table["states_switched"] <= len(result.inputs.world.states)).all()
    moves = np.diff(result.alignment.astype(int), axis=1) != 0
    np.testing.assert_array_equal(table["switches"], moves.sum(axis=(1, 2)))
    world = result.inputs.world
    for seed, run in zip(SEEDS, result.alignment, strict=True):
        for i, state in enumerate(world.states):
            profile = world.space.profiles.index(table.loc[seed, f"final_{state}"])
            assert profile == run[-1, i]
            assert table.loc[seed, f"final_label_{state}"] == world.labelling.label(i, profile)


def test_every_path_measures_the_same_runs_alike(engine_runs, tmp_path: Path) -> None:
    config, result, table = engine_runs
    world = result.inputs.world
    ticks = tick_table(result)
    for seed in SEEDS:
        model = AlignmentModel(config, seed=seed)
        trajectory = model.run()
        np.testing.assert_array_equal(trajectory.alignment[0], result.alignment[SEEDS.index(seed)])
        expected = table.loc[seed]
        # the Mesa model's own summary
        summary = trajectory.summary()
        assert summary["n_switches"] == expected["switches"]
        assert summary["time_to_stability"] == expected["time_to_stability"]
        assert len({s["state"] for s in summary["switches"]}) == expected["states_switched"]
        for state in world.states:
            assert summary["final_alignment"][state] == expected[f"final_{state}"]
            assert summary["final_labels"][state] == expected[f"final_label_{state}"]
        for label in world.labels:
            assert summary["final_shares"][label] == expected[f"final_share_{label}"]
        # the Mesa DataCollector, tick by tick
        collected = model.datacollector.get_model_vars_dataframe()
        per_tick = ticks[(ticks["seed"] == seed) & (ticks["tick"] >= 1)]  # collected in step()
        for label in world.labels:
            np.testing.assert_array_equal(
                collected[f"share_{label}"].to_numpy(), per_tick[f"share_{label}"].to_numpy()
            )
        # the comparison report's loader of a single-run folder
        folder = write_run(
            trajectory, replace(config, seed=seed), tmp_path / str(seed), plots=False
        )
        unit = load_unit(folder)
        row = unit.runs.set_index("seed").loc[seed]
        metrics = [c for c in table.columns if c in outcomes.OUTCOME_COUNTS or "_share_" in c]
        assert list(row.index) == metrics
        for column in row.index:
            assert row[column] == expected[column], column
        finals = unit.finals.set_index("state")
        profiles = unit.profile_finals.set_index("state")
        for state in world.states:
            assert finals.loc[state, "option"] == expected[f"final_label_{state}"]
            assert profiles.loc[state, "option"] == expected[f"final_{state}"]
    # the lessons (means over runs)
    assert result.mean_offers is not None
    lesson = Outcome("x", world, result.alignment, result.mean_offers)
    assert lesson.switches_per_run() == table["switches"].mean()
    assert lesson.hedging_share() == pytest.approx(table["mean_share_hedge"].mean(), abs=1e-12)
    for i, state in enumerate(world.states):
        for k, label in enumerate(world.labels):
            share_of_runs = float((table[f"final_label_{state}"] == label).mean())
            assert lesson.final_distribution()[i, k] == share_of_runs
    np.testing.assert_allclose(
        lesson.shares()[-1],
        [table[f"final_share_{label}"].mean() for label in world.labels],
        atol=1e-12,
    )
    # the patterns (over a batch, on label codes)
    labels = result.labels()
    hedge = world.labels.index("hedge")
    assert patterns.state_tick_share(labels, hedge) == lesson.hedging_share()
    for i, state in enumerate(world.states):
        share_of_runs = float((table[f"final_label_{state}"] == "hedge").mean())
        assert patterns.final_share(labels, i, hedge) == share_of_runs


def test_study_table_column_order(engine_runs) -> None:
    _, result, _ = engine_runs
    columns = list(outcome_table(result).columns)
    space, states = result.inputs.world.space, result.inputs.world.states
    names = [
        *space.labels,
        *(f"security_{o}" for o in space.security_options),
        *(f"economy_{o}" for o in space.economic_options),
    ]
    expected = ["seed"]
    for name in names:
        expected += [f"final_share_{name}", f"mean_share_{name}"]
    expected += list(outcomes.OUTCOME_COUNTS)
    expected += [f"final_{state}" for state in states]
    expected += [f"final_label_{state}" for state in states]
    assert columns == expected
    table = outcome_table(result)
    for count in outcomes.OUTCOME_COUNTS:
        assert pd.api.types.is_integer_dtype(table[count]), count
