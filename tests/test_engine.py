"""The batched engine equals the Mesa model for every (config, seed), however batched."""

from __future__ import annotations

import numpy as np
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import (
    check_memory,
    estimate_memory_bytes,
    iter_batches,
    run_batch,
)
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EngineParams
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.presets import available

ARRAYS = ("alignment", "utility", "terms", "offers", "credibility", "power", "active")


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


def test_iter_batches_bounds_memory_by_chunk() -> None:
    inputs = RunInputs.from_config(default_config(ticks=5))
    sizes = [part.n_runs for part in iter_batches(inputs, range(25), EngineParams(chunk_size=10))]
    assert sizes == [10, 10, 5]
    with pytest.raises(ConfigError, match=r"engine\.chunk_size = 0"):
        next(iter_batches(inputs, range(3), EngineParams(chunk_size=0)))


def test_summary_means_match_the_full_record() -> None:
    inputs = RunInputs.from_config(default_config(ticks=12))
    full = run_batch(inputs, [1, 2], record="full")
    summary = run_batch(inputs, [1, 2], record="summary")
    assert full.trajectory is not None and summary.mean_terms is not None
    np.testing.assert_allclose(summary.mean_terms, full.trajectory.terms.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(summary.shares().sum(axis=-1), 1.0)


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


@pytest.mark.parametrize("scenario", available("scenario"))
def test_batch_arrays_keep_the_run_axis_fastest(scenario: str) -> None:
    """Every batch array a tick makes has the run axis fastest in memory (the engine's
    speed depends on it, see kernels); a C-ordered array creeping in fails here."""
    from alignment_sim.engine.batch import draw_streams
    from alignment_sim.engine.tick import BatchState, tick_batch

    inputs = RunInputs.from_config(default_config(scenario=scenario, ticks=40))
    runs = 40
    noise, hazards = draw_streams(inputs, np.arange(runs))
    state = BatchState.initial(inputs, runs)
    slow: set[str] = set()
    for tick in range(1, 41):
        tick_noise = np.asfortranarray(noise[tick - 1])
        state, out = tick_batch(inputs, state, tick, tick_noise, hazards[tick - 1])
        arrays = {name: getattr(out, name) for name in ("utility", "choice", "offers", "threat")}
        arrays |= {f"{name}.blocs": part.blocs for name, part in out.terms.items()}
        arrays |= {f"{name}.hedge": part.hedge for name, part in out.terms.items()}
        arrays |= {f"state.{name}": getattr(state, name) for name in ("alignment", "defection")}
        batch = {k: v for k, v in arrays.items() if v.ndim >= 2 and v.shape[0] == runs}
        assert {"utility", "choice", "protection.blocs", "peer.hedge"} <= set(batch)
        slow |= {k for k, v in batch.items() if v.strides[0] != v.itemsize}
    assert not slow, f"run axis not fastest in: {sorted(slow)}"


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
