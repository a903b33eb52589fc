"""Reference runs: numbers pinned for a few (config, seed) pairs, compared exactly.

The equivalence tests (engine = Mesa) cannot see a change that moves both paths alike,
such as a new order of random draws or a kernel tweak; these tests can. The pinned tables
are in ``tests/reference/`` (see its README). A deliberate change of the model's numbers
regenerates them with one command and says so in CHANGELOG.md:

    .venv/bin/python tests/reference/regenerate.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import (
    ENGINE_FILE,
    ENGINE_SCENARIOS,
    ENGINE_SEEDS,
    MESA_FILE,
    MESA_SEEDS,
    MESA_TICKS,
    REFERENCE_DIR,
    UTILITY_FILE,
    alignment_table,
    as_stored,
    engine_outcomes,
    engine_trajectory,
    final_utility_table,
    mesa_trajectory,
    run_outcomes,
)

from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import World

REGENERATE = (
    "The model's numbers changed. A bug: fix the code. Intended: run "
    "`.venv/bin/python tests/reference/regenerate.py` and say why in CHANGELOG.md."
)


def pinned(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name)


def assert_same_numbers(actual: pd.DataFrame, name: str) -> None:
    """``actual`` equals the pinned table exactly (floats are stored in full)."""
    try:
        pd.testing.assert_frame_equal(as_stored(actual), pinned(name), check_exact=True)
    except AssertionError as error:
        raise AssertionError(f"{name}: {REGENERATE}\n{error}") from None


@pytest.fixture(scope="module", params=["mesa", "engine"])
def trajectory(request: pytest.FixtureRequest) -> Trajectory:
    """The default config, seeds 0-4, 12 ticks, by the Mesa model and by the engine."""
    return mesa_trajectory() if request.param == "mesa" else engine_trajectory()


def test_the_reference_covers_what_it_claims(default_world: World) -> None:
    space = default_world.space
    alignment = pinned(MESA_FILE)
    assert sorted(set(alignment.seed)) == list(MESA_SEEDS)
    assert len(alignment) == len(MESA_SEEDS) * (MESA_TICKS + 1)
    assert set(alignment.columns) >= set(default_world.states)
    assert set(alignment[list(default_world.states)].stack()) <= set(space.profiles)
    utility = pinned(UTILITY_FILE)
    per_state = space.n_security + space.n_economy  # both choices' options
    assert len(utility) == len(MESA_SEEDS) * default_world.n_states * per_state
    assert list(utility.dimension.unique()) == ["security", "economy"]
    outcomes = pinned(ENGINE_FILE)
    assert list(outcomes.scenario.unique()) == list(ENGINE_SCENARIOS)
    assert len(outcomes) == len(ENGINE_SCENARIOS) * len(ENGINE_SEEDS)
    labels = outcomes[[f"final_share_{label}" for label in space.labels]]
    np.testing.assert_allclose(labels.sum(axis=1), 1.0)
    profiles = outcomes[[f"final_share_{profile}" for profile in space.profiles]]
    np.testing.assert_allclose(profiles.sum(axis=1), 1.0)
    # the pins are not degenerate: runs differ, and some states switch
    assert alignment.drop(columns=["seed", "tick"]).drop_duplicates().shape[0] > 1
    assert outcomes.switches.nunique() > 1 and (outcomes.time_to_stability > 1).any()


def test_alignments_and_shares_match_the_reference(trajectory: Trajectory) -> None:
    assert_same_numbers(alignment_table(trajectory), MESA_FILE)


def test_final_utilities_match_the_reference_in_single_precision(trajectory: Trajectory) -> None:
    assert_same_numbers(final_utility_table(trajectory), UTILITY_FILE)


def test_engine_outcomes_match_the_reference() -> None:
    assert_same_numbers(engine_outcomes(), ENGINE_FILE)


def test_run_outcomes_known_answer() -> None:
    # ticks 0..4 of two states (options 0 = a, 1 = b): state 0 moves at ticks 1 and 3
    alignment = np.array([[0, 1], [1, 1], [1, 1], [0, 1], [0, 1]])
    outcomes = run_outcomes(alignment, ("a", "b"))
    assert outcomes == {
        "final_share_a": 0.5,
        "final_share_b": 0.5,
        "switches": 2,
        "time_to_stability": 3,
    }
    still = run_outcomes(np.zeros((4, 3), dtype=np.int64), ("a", "b"))
    assert still["switches"] == 0 and still["time_to_stability"] == 0
    assert still["final_share_a"] == 1.0
