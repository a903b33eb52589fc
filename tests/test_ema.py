"""EMA Workbench models on the batched engine: the numbers of plain engine runs of the same
points and seeds, bit for bit, with common random numbers, and bad names refused first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from alignment_sim import default_config
from alignment_sim.ema import BatchedEvaluator, EngineModel, engine_model
from alignment_sim.engine.batch import run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams
from alignment_sim.studies.points import config_for_point
from alignment_sim.studies.replications import outcome_table

# EMA Workbench is imported where a test needs it: its import takes seconds (its logging
# inspects the stack of every method it decorates), which every test worker would
# otherwise pay while collecting.
if TYPE_CHECKING:
    from ema_workbench import Policy, Scenario

UNCERTAINTIES = {
    "weights.trade": (0.5, 2.0),
    "dynamics.stance": (-1.0, 1.0),
    "region.poles.russia.budget_bn_usd": (2.0, 12.0),
}
LEVERS = {"weights.inducements": (0.5, 2.0)}
HEDGE = "final_label_uzbekistan=hedge"
REPLICATIONS = 4
TICKS = 12


def small_model(engine: EngineParams | None = None) -> EngineModel:
    """Three uncertainties and a lever; the mean share of the West, the share of runs in
    which Uzbekistan hedges, and every replication's switches."""
    from ema_workbench import ArrayOutcome

    model = engine_model(
        "baseline",
        UNCERTAINTIES,
        ["final_share_west", HEDGE],
        levers=LEVERS,
        replications=REPLICATIONS,
        engine=engine,
        ticks=TICKS,
        seed=5,
    )
    model.outcomes = [*model.outcomes, ArrayOutcome("runs_switches", variable_name="switches")]
    return model


def points() -> tuple[list[Scenario], list[Policy]]:
    """25 scenarios (uniform draws, fixed seed) and 2 policies: 50 experiments."""
    from ema_workbench import Policy, Scenario

    rng = np.random.default_rng(0)
    scenarios = [
        Scenario(f"s{i}", **{path: rng.uniform(*bounds) for path, bounds in UNCERTAINTIES.items()})
        for i in range(25)
    ]
    return scenarios, [
        Policy("low", **{"weights.inducements": 0.7}),
        Policy("high", **{"weights.inducements": 1.6}),
    ]


def plain_runs(model: EngineModel, values: dict[str, float]) -> pd.DataFrame:
    """The engine's own runs of one point: its configuration, the model's seeds."""
    config = config_for_point(model.config, values)
    return outcome_table(run_batch(RunInputs.from_config(config), model.seeds, record="minimal"))


def test_fifty_experiments_equal_plain_engine_runs_with_common_random_numbers() -> None:
    from ema_workbench import perform_experiments

    model = small_model()
    assert model.seeds.tolist() == [5, 6, 7, 8]  # seed .. seed + replications - 1
    scenarios, policies = points()
    # 25 scenarios x 2 policies = 50 experiments, one at a time (EMA's sequential evaluator)
    experiments, outcomes = perform_experiments(model, scenarios, policies)
    assert len(experiments) == 50 and outcomes["runs_switches"].shape == (50, REPLICATIONS)
    # all 50 at once, in chunks that split experiments (7 runs), the same numbers
    batched = small_model(EngineParams(chunk_size=7, progress=False))
    experiments_b, outcomes_b = perform_experiments(
        batched, scenarios, policies, evaluator=BatchedEvaluator(batched)
    )
    assert experiments_b.equals(experiments)
    for name, values in outcomes.items():
        np.testing.assert_array_equal(outcomes_b[name], values)
    paths = [*UNCERTAINTIES, *LEVERS]
    for e, row in experiments.iterrows():
        plain = plain_runs(model, {path: float(row[path]) for path in paths})
        np.testing.assert_array_equal(outcomes["runs_switches"][e], plain["switches"])
        assert outcomes["final_share_west"][e] == np.mean(plain["final_share_west"].to_numpy())
        hedges = (plain["final_label_uzbekistan"] == "hedge").to_numpy(dtype=float)
        assert outcomes[HEDGE][e] == np.mean(hedges)
    # the runs differ between seeds and between points: the comparison is not vacuous
    assert len(np.unique(outcomes["runs_switches"])) > 1
    assert np.ptp(outcomes["runs_switches"].mean(axis=1)) > 0


def test_same_point_same_numbers_in_every_experiment() -> None:
    """Common random numbers: two experiments at the same point run the same seeds, so
    they agree replication for replication; another point differs."""
    from ema_workbench import Scenario, perform_experiments

    model = small_model()
    point = {"weights.trade": 1.5, "dynamics.stance": 0.5, "region.poles.russia.budget_bn_usd": 4}
    other = {**point, "weights.trade": 0.6}  # the stance at -0.5 gives the same 4 runs
    scenarios = [Scenario("a", **point), Scenario("b", **other), Scenario("c", **point)]
    _, outcomes = perform_experiments(model, scenarios=scenarios, evaluator=BatchedEvaluator(model))
    runs = outcomes["runs_switches"]
    np.testing.assert_array_equal(runs[0], runs[2])
    assert not np.array_equal(runs[0], runs[1])
    assert len(set(runs[0])) > 1  # the replications are different seeds


@pytest.mark.parametrize(
    ("uncertainties", "outcomes", "key"),
    [
        ({"weights.nonsense": (0.0, 1.0)}, ["switches"], "alignmentsim.uncertainties"),
        ({"dynamics.stance": (-2.0, 1.0)}, ["switches"], "alignmentsim.uncertainties"),
        ({"dynamics.stance": (1.0, -1.0)}, ["switches"], "alignmentsim.uncertainties"),
        ({"ticks": (1.0, 5.0)}, ["switches"], "alignmentsim.uncertainties"),
        ({"weights.trade": (0.5, 2.0)}, ["no_such_outcome"], "alignmentsim.outcomes"),
        ({"weights.trade": (0.5, 2.0)}, ["final_label_uzbekistan"], "alignmentsim.outcomes"),
        ({"weights.trade": (0.5, 2.0)}, ["final_label_uzbekistan=mars"], "alignmentsim.outcomes"),
        ({"weights.trade": (0.5, 2.0)}, ["switches=3"], "alignmentsim.outcomes"),
    ],
)
def test_bad_names_and_ranges_refused_before_any_run(
    uncertainties: dict[str, tuple[float, float]], outcomes: list[str], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        engine_model("baseline", uncertainties, outcomes, replications=2, ticks=4)
    assert caught.value.key.startswith(key)


def test_parameters_of_other_kinds_and_user_outcomes() -> None:
    """A boolean parameter sets no path; an EMA outcome may reduce the replications itself,
    and a parameter may name its path as variable_name."""
    from ema_workbench import (
        BooleanParameter,
        RealParameter,
        ScalarOutcome,
        Scenario,
        perform_experiments,
    )

    with pytest.raises(ConfigError, match="RealParameter"):
        engine_model("baseline", [BooleanParameter("weights.trade")], ["switches"], ticks=4)
    config = default_config(ticks=6, seed=1)
    model = engine_model(
        config,
        [RealParameter("trade", 0.5, 2.0, variable_name="weights.trade")],
        [
            ScalarOutcome("most", variable_name="switches", function=np.max),
            "final_label_uzbekistan=china",
        ],
        replications=3,
    )
    _, outcomes = perform_experiments(model, scenarios=[Scenario("s", trade=1.25)])
    plain = plain_runs(model, {"weights.trade": 1.25})
    assert outcomes["most"][0] == plain["switches"].max()
    assert "china" not in set(plain["final_label_uzbekistan"])
    assert outcomes["final_label_uzbekistan=china"][0] == 0.0  # a label no run reaches


@pytest.mark.slow
def test_worker_processes_give_the_same_numbers() -> None:
    """The batched evaluator on two loky workers, and EMA's own multiprocessing evaluator
    (the model pickled to each process), agree with one process run for run."""
    from ema_workbench import MultiprocessingEvaluator, perform_experiments

    scenarios, policies = points()
    _, one = perform_experiments(small_model(), scenarios, policies)
    spread = small_model(EngineParams(chunk_size=10, workers=2, progress=False))
    _, batched = perform_experiments(
        spread, scenarios, policies, evaluator=BatchedEvaluator(spread)
    )
    model = small_model()
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        _, pooled = perform_experiments(model, scenarios, policies, evaluator=evaluator)
    for name, values in one.items():
        np.testing.assert_array_equal(batched[name], values)
        np.testing.assert_array_equal(pooled[name], values)
