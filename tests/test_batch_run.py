"""The Mesa model as ``mesa.batch_run`` builds it: keyword parameters, fresh seeds per
iteration, and the run's outcomes in batch_run's rows, equal to the engine's."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, ConfigError, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.inputs import RunInputs
from alignment_sim.paths import with_values
from alignment_sim.studies.replications import outcome_table


def engine_outcomes(scenario: str, values: dict[str, float], seeds: list[int]) -> pd.DataFrame:
    """The engine's outcome table for the same configuration (the reference)."""
    config = with_values(default_config(scenario=scenario), values)
    return outcome_table(run_batch(RunInputs.from_config(config), seeds)).set_index("seed")


def test_batch_run_keywords_iterations_and_outcomes() -> None:
    rows = pd.DataFrame(
        mesa.batch_run(
            AlignmentModel,
            {"scenario": ["baseline", "russia_recession"], "stance": 0.5, "ticks": 6},
            iterations=2,
            display_progress=False,
        )
    )
    assert len(rows) == 4  # one row per run: the last tick
    assert (rows["tick"] == 6).all() and rows["seed"].nunique() == 4  # replicates differ
    assert list(rows.columns[3:6]) == ["scenario", "stance", "ticks"]
    for scenario, runs in rows.groupby("scenario"):
        seeds = [int(s) for s in runs["seed"]]
        expected = engine_outcomes(str(scenario), {"dynamics.stance": 0.5, "ticks": 6}, seeds)
        got = runs.set_index("seed")[expected.columns]
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False)


def test_every_collected_tick_is_labelled_and_final_shares_agree() -> None:
    rows = pd.DataFrame(
        mesa.batch_run(
            AlignmentModel,
            {"seed": [5], "ticks": 4, "weights__trade": 2.0},
            data_collection_period=1,
            display_progress=False,
        )
    )
    assert list(rows["tick"]) == [1, 2, 3, 4] and set(rows["seed"]) == {5}
    share_columns = [c for c in rows.columns if c.startswith("share_")]
    final_columns = [f"final_{c}" for c in share_columns]
    np.testing.assert_array_equal(rows[share_columns].to_numpy(), rows[final_columns].to_numpy())
    assert rows["switches"].is_monotonic_increasing  # outcomes so far, by tick


def test_three_spellings_of_a_path_and_a_config_copy() -> None:
    values = {"weights.trade": 2.5, "dynamics.stance": -0.25, "decision.rationality": 3.0}
    dotted = AlignmentModel(seed=1, ticks=3, **values)
    flat = AlignmentModel(seed=1, ticks=3, weights__trade=2.5, stance=-0.25, rationality=3.0)
    assert dotted.config == flat.config
    base = default_config(ticks=3)
    from_config = AlignmentModel(base, seed=1, **values)
    assert from_config.config == flat.config
    assert base.weights.trade != 2.5 and base.dynamics.stance != -0.25  # left alone
    np.testing.assert_array_equal(dotted.run().alignment, from_config.run().alignment)


def test_presets_by_keyword_and_the_config_form_keeps_its_seed() -> None:
    model = AlignmentModel(scenario="russia_recession", decision="balancing", seed=2, ticks=3)
    assert model.config.scenario == default_config(scenario="russia_recession").scenario
    assert model.config.decision.rule == "balancing" and model.run_seed == 2
    assert AlignmentModel(default_config(seed=9)).run_seed == 9  # as before
    changed = AlignmentModel(default_config(seed=9), scenario="russia_recession")
    assert changed.run_seed == 9 and changed.config.scenario == model.config.scenario


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"stanse": 0.5}, r"^stanse = 0\.5: expected a keyword of AlignmentModel"),
        ({"weights__bravery": 1.0}, r"^weights__bravery = 1\.0: .*a field of weights"),
        ({"stance": 3.0}, r"^dynamics\.stance = 3\.0: expected"),
        ({"scenario": "no_such"}, r"^scenario = 'no_such': expected a preset name"),
        (
            {"decision": 3},
            r"^decision = 3: expected a preset name, a YAML file or a DecisionParams",
        ),
    ],
)
def test_bad_keywords_are_named(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AlignmentModel(**keywords)  # type: ignore[arg-type]


def test_a_calendar_window_is_a_keyword_as_in_default_config() -> None:
    """``origin`` and ``to`` worked in ``default_config`` but were refused as keywords, so
    ``mesa.batch_run`` could not sweep a forecast's origin: the same run either way."""
    by_keywords = AlignmentModel(scenario="history", origin=2000, to=2005, seed=1)
    built = AlignmentModel(default_config(scenario="history", origin=2000, to=2005, seed=1))
    assert (by_keywords.config.region.year, by_keywords.config.ticks) == (2001, 20)
    np.testing.assert_array_equal(by_keywords.run().alignment, built.run().alignment)
    rows = mesa.batch_run(
        AlignmentModel,
        parameters={"scenario": "history", "origin": [2000, 2005], "to": 2010, "seed": 0},
        iterations=1,
        display_progress=False,
    )
    assert sorted((row["origin"], row["Step"]) for row in rows) == [(2000, 39), (2005, 19)]
