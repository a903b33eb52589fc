"""The batched engine equals the Mesa model for every (config, seed), however batched."""

from __future__ import annotations

import re

import numpy as np
import pytest

from alignment_sim import AlignmentModel, SimulationConfig, default_config
from alignment_sim.engine.batch import (
    check_memory,
    estimate_memory_bytes,
    iter_batches,
    run_batch,
)
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERMS, Terms
from alignment_sim.model.params import DecisionParams, EngineParams
from alignment_sim.model.trajectory import RECORDED_ARRAYS, Trajectory
from alignment_sim.model.world import World
from alignment_sim.presets import available

ARRAYS = RECORDED_ARRAYS


def assert_same_runs(reference: list[Trajectory], batch: Trajectory) -> None:
    for r, model_run in enumerate(reference):
        for name in ARRAYS:
            expected, got = getattr(model_run, name)[0], getattr(batch, name)[r]
            assert np.array_equal(expected, got, equal_nan=True), f"run {r}: {name} differs"


def mesa_runs(config, seeds) -> list[Trajectory]:
    return [AlignmentModel(config, seed=s).run() for s in seeds]


@pytest.mark.parametrize("rule", ["logit", "best_response", "balancing", "bandwagoning"])
def test_engine_equals_mesa_for_each_rule(rule: str) -> None:
    config = default_config(scenario="colour_revolution", decision=rule, ticks=24)
    seeds = [0, 1, 2]
    result = run_batch(
        RunInputs.from_config(config), seeds, EngineParams(chunk_size=2), record="full"
    )
    assert result.trajectory is not None
    assert_same_runs(mesa_runs(config, seeds), result.trajectory)


@pytest.mark.parametrize("scenario", available("scenario"))
def test_engine_equals_mesa_for_each_scenario(scenario: str) -> None:
    config = default_config(scenario=scenario)
    seeds = [0, 5]
    result = run_batch(
        RunInputs.from_config(config), seeds, EngineParams(chunk_size=1), record="full"
    )
    assert result.trajectory is not None
    assert_same_runs(mesa_runs(config, seeds), result.trajectory)


@pytest.mark.parametrize("rule", ["logit", "best_response", "balancing", "bandwagoning"])
def test_engine_equals_mesa_on_the_tiny_world(
    rule: str, tiny_world: World, tiny_config: SimulationConfig
) -> None:
    """Another option space: security (p, none), economy (p, q, open)."""
    tiny_config.decision = DecisionParams(rule=rule, rationality=2.0)
    seeds = [1, 2, 3]
    result = run_batch(RunInputs.from_config(tiny_config, world=tiny_world), seeds, record="full")
    assert result.trajectory is not None
    mesa = [AlignmentModel(tiny_config, seed=s, world=tiny_world).run() for s in seeds]
    assert_same_runs(mesa, result.trajectory)
    assert result.trajectory.security_utility.shape[-1] == 2
    assert result.trajectory.economy_utility.shape[-1] == 3


def test_hazard_events_fire_identically() -> None:
    config = default_config(scenario="afghan_spillover", ticks=30)
    seeds = [3, 4, 5, 6]
    result = run_batch(
        RunInputs.from_config(config), seeds, EngineParams(chunk_size=3), record="full"
    )
    assert result.trajectory is not None
    onsets = result.trajectory.active[:, :, 0].argmax(axis=1)
    assert len(set(onsets.tolist())) > 1, "hazard onsets should differ between seeds"
    assert_same_runs(mesa_runs(config, seeds), result.trajectory)


def test_chunk_size_and_workers_do_not_change_results() -> None:
    inputs = RunInputs.from_config(default_config(scenario="russia_recession", ticks=20))
    seeds = list(range(10, 40))
    whole = run_batch(inputs, seeds, EngineParams(chunk_size=len(seeds)))
    for chunk_size, workers in [(1, 1), (7, 1), (4, 2)]:
        other = run_batch(inputs, seeds, EngineParams(chunk_size=chunk_size, workers=workers))
        np.testing.assert_array_equal(whole.alignment, other.alignment)
        np.testing.assert_array_equal(whole.mean_terms, other.mean_terms)
        np.testing.assert_array_equal(whole.mean_offers, other.mean_offers)
    assert list(whole.seeds) == seeds


def test_a_run_does_not_depend_on_its_neighbours() -> None:
    inputs = RunInputs.from_config(default_config(ticks=15))
    alone = run_batch(inputs, [42])
    crowd = run_batch(inputs, [7, 42, 99])
    np.testing.assert_array_equal(alone.alignment[0], crowd.alignment[1])


def test_taking_runs_out_of_a_batch_is_running_them_alone() -> None:
    """``BatchResult.take`` (a resample repeats runs) gives what those seeds give run
    alone, in every array a summary keeps; a full record refuses."""
    inputs = RunInputs.from_config(default_config(ticks=6))
    crowd = run_batch(inputs, [7, 42, 99], record="summary")
    taken = crowd.take(np.array([2, 0, 2]))
    again = run_batch(inputs, [99, 7, 99], record="summary")
    np.testing.assert_array_equal(taken.seeds, [99, 7, 99])
    for name in ("alignment", "credibility", "mean_offers", "mean_terms"):
        np.testing.assert_array_equal(getattr(taken, name), getattr(again, name))
    assert crowd.take(slice(1, 2)).n_runs == 1
    with pytest.raises(ValueError, match="full"):
        run_batch(inputs, [7, 42], record="full").take(slice(0, 1))


def test_iter_batches_bounds_memory_by_chunk() -> None:
    inputs = RunInputs.from_config(default_config(ticks=5))
    sizes = [part.n_runs for part in iter_batches(inputs, range(25), EngineParams(chunk_size=10))]
    assert sizes == [10, 10, 5]
    with pytest.raises(ConfigError, match=r"engine\.chunk_size = 0"):
        next(iter_batches(inputs, range(3), EngineParams(chunk_size=0)))


@pytest.mark.parametrize("scenario", ["baseline", "afghan_spillover"])
def test_summary_means_match_the_full_record(scenario: str) -> None:
    """mean_terms on the profile axis = on_profiles of each dimension's mean terms; a
    scenario whose events fire at different ticks gives terms a run axis (``TermSums``)."""
    inputs = RunInputs.from_config(default_config(scenario=scenario, ticks=30))
    full = run_batch(inputs, [1, 2, 3], record="full")
    summary = run_batch(inputs, [1, 2, 3], record="summary")
    record = full.trajectory
    assert record is not None
    assert summary.mean_terms is not None and summary.mean_offers is not None
    means = Terms(
        dict(
            zip(SECURITY_TERMS, np.moveaxis(record.security_terms.mean(axis=1), -1, 0), strict=True)
        ),
        dict(
            zip(ECONOMIC_TERMS, np.moveaxis(record.economy_terms.mean(axis=1), -1, 0), strict=True)
        ),
    )
    space = inputs.world.space
    on_profiles = means.on_profiles(space.profile_security, space.profile_economy)
    expected = np.stack([on_profiles[name] for name in TERMS], axis=-1)
    assert summary.mean_terms.shape == (3, inputs.world.n_states, len(space.profiles), len(TERMS))
    np.testing.assert_allclose(summary.mean_terms, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(summary.mean_offers, record.offers.mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(summary.alignment, full.alignment)
    np.testing.assert_array_equal(summary.credibility, full.credibility)
    shares = summary.shares()
    assert shares.shape == (3, 31, len(inputs.world.labels))
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(
        summary.labels(), summary.inputs.world.labelling.of_profiles(summary.alignment)
    )


@pytest.mark.slow
@pytest.mark.parametrize("scenario", available("scenario"))
@pytest.mark.parametrize("rule", ["logit", "best_response", "balancing", "bandwagoning"])
def test_engine_equals_mesa_everywhere(scenario: str, rule: str) -> None:
    config = default_config(scenario=scenario, decision=rule, ticks=30)
    seeds = [0, 11, 222]
    result = run_batch(
        RunInputs.from_config(config), seeds, EngineParams(chunk_size=2), record="full"
    )
    assert result.trajectory is not None
    assert_same_runs(mesa_runs(config, seeds), result.trajectory)


def test_memory_estimate_grows_with_what_is_held_and_refuses_what_cannot_fit() -> None:
    inputs = RunInputs.from_config(default_config(ticks=40))
    small = estimate_memory_bytes(inputs, 10_000, EngineParams(chunk_size=1000))
    # chunks bound the engine's part; only the runs table read back grows with runs
    assert estimate_memory_bytes(inputs, 10_000, EngineParams(chunk_size=2000)) > small
    assert estimate_memory_bytes(inputs, 20_000, EngineParams(chunk_size=1000)) < 2 * small
    two = estimate_memory_bytes(inputs, 10_000, EngineParams(chunk_size=1000, workers=2))
    assert two > 2 * small - estimate_memory_bytes(inputs, 0, EngineParams(chunk_size=1000))
    huge = RunInputs.from_config(default_config(ticks=1_000_000_000))
    with pytest.raises(ConfigError, match=r"^ticks = 1000000000: expected a run that fits"):
        check_memory(huge, 1, EngineParams(chunk_size=1), "full")
    long = RunInputs.from_config(default_config(ticks=100_000))
    with pytest.raises(ConfigError, match=r"^engine\.chunk_size = 2000: .*would fit"):
        check_memory(long, 2000, EngineParams(), "summary")
    with pytest.raises(ConfigError, match=r"^replications = "):
        check_memory(inputs, 10**12, EngineParams(chunk_size=10), "summary")


def test_what_a_gathered_batch_keeps_is_counted_exactly_and_refused_before_any_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``run_batch`` keeps every run: the bytes it keeps of each are its arrays' (counted,
    not estimated), and runs whose gathered results exceed the memory available are
    refused by their seeds before the first runs (it once ran 10 million full records
    into 24 GiB); a full record that fits gathered but not in one chunk is refused by the
    chunk size, not by the run's length."""
    from alignment_sim.engine import batch
    from alignment_sim.model.trajectory import RECORDED_ARRAYS

    inputs = RunInputs.from_config(default_config(ticks=12))
    for record in ("minimal", "summary", "full"):
        result = run_batch(inputs, range(3), record=record)
        arrays = [result.alignment, result.credibility, result.mean_offers, result.mean_terms]
        if result.trajectory is not None:
            arrays += [getattr(result.trajectory, name) for name in RECORDED_ARRAYS]
        held = sum(a.nbytes for a in arrays if a is not None)
        assert held == 3 * batch.kept_bytes_per_run(inputs, record), record
    kept = batch.kept_bytes_per_run(inputs, "full")
    monkeypatch.setattr(batch, "available_memory_bytes", lambda: 1000 * kept)
    monkeypatch.setattr(batch, "run_chunk", lambda *_: pytest.fail("a run was started"))
    with pytest.raises(ConfigError, match=r"^seeds = '2,000 runs': .* iter_batches"):
        run_batch(inputs, range(2000), EngineParams(chunk_size=1), record="full")
    with pytest.raises(ConfigError, match=r"^engine\.chunk_size = 2000: .*would fit"):
        run_batch(inputs, range(300), record="full")


@pytest.mark.parametrize(
    ("seeds", "said"),
    [
        ([1.7], "seeds = 1.7"),  # used to run seed 1
        ("12", "seeds = '12'"),  # used to run seeds 1 and 2
        ([0, 1, -1], "seeds = -1"),  # numpy's error, after the first chunks ran
        ([2**64], "seeds = 18446744073709551616"),
        ([], "at least one seed"),
        ([True], "seeds = True"),
    ],
)
def test_bad_seeds_and_records_are_refused_before_any_run(seeds, said) -> None:
    inputs = RunInputs.from_config(default_config(ticks=2))
    with pytest.raises(ConfigError, match=re.escape(said)):
        run_batch(inputs, seeds)
    with pytest.raises(ConfigError, match="record = 'all': expected one of minimal"):
        run_batch(inputs, [0], record="all")  # type: ignore[arg-type]
    assert run_batch(inputs, np.arange(2, 4)).seeds.tolist() == [2, 3]
