"""The Mesa model: the first ticks by hand, invariants, determinism, explanation, and the
Mesa contract."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import fields
from importlib import metadata
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from helpers import KM_PER_10_DEGREES, swing_by_hand, tiny_attributes, tiny_region

import alignment_sim
from alignment_sim import AlignmentModel, SimulationConfig, default_config
from alignment_sim.model import kernels
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import DecisionParams, Dynamics, ScenarioSpec, UtilityWeights
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import FLOAT, World
from alignment_sim.outputs.files import read_manifest, write_run

FAR = math.exp(-KM_PER_10_DEGREES / 1000)
MID = math.exp(-KM_PER_10_DEGREES / 2000)
BASE_SUM = 1.0 + FAR + MID  # each tiny pole's sum of focus * proximity


@pytest.fixture(scope="module")
def default_run() -> Trajectory:
    return AlignmentModel(default_config(ticks=20, seed=11)).run()


def assert_close(actual, desired) -> None:
    """Hand-computed (double) values against the model's single precision (FLOAT)."""
    np.testing.assert_allclose(actual, desired, rtol=1e-6, atol=1e-7)


def hand_config(rule: str = "best_response") -> SimulationConfig:
    """The tiny world with every weight 1 and dynamics chosen for hand computation."""
    return SimulationConfig(
        region=tiny_region(),
        scenario=ScenarioSpec(),
        weights=UtilityWeights(**{f.name: 1.0 for f in fields(UtilityWeights)}),
        dynamics=Dynamics(
            switching_cost=0.5,
            economic_switching_cost=0.25,
            credibility_recovery=0.1,
        ),
        decision=DecisionParams(rule=rule),
        ticks=2,
        seed=3,
    )


def test_the_first_two_ticks_by_hand(tiny_world: World) -> None:
    """Tiny world (tests/test_kernels.py has each term): a p/p, b none/q, c none/open."""
    run = AlignmentModel(hand_config(), world=tiny_world).run()
    # q's envelope share to b, 2 / BASE_SUM of GDP 20, at q's credibility 1; p's share to a
    # counts in neither of a's choices: a is in p's bloc and union, and keeps it either way
    induced_b = 1.0 * math.log1p(2.0 / BASE_SUM / 2.0)
    # security (p, none): a protection 0.5 + soft power 0.5, peers -0.5 in none, cost 0.5;
    # b soft power 0.5 + rival a -1, cost 0.5; c protection 0.25 MID + soft power 0.5 +
    # friend a 0.5 - cost 0.5, autonomy 1 in none
    assert_close(run.security_utility[0, 0], [[1.0, -1.0], [-1.0, 0.0], [0.5 + 0.25 * MID, 1.0]])
    # economy (p, q, open): trade (p's gain halved by its credibility 0.5), inducements,
    # remittances, transit, economic coercion, conditionality, autonomy, switching
    # (tests/test_kernels.py)
    assert_close(
        run.economy_utility[0, 0],
        [
            [0.1 + 0.2 + 0.5, -0.3 - 0.5 - 1.0 - 0.25, -0.25],
            [-0.45 - 0.25, 0.4 + induced_b + 1.0 - 0.05, -0.25],
            [-0.125 + 0.05 - 0.25, 0.05 - 0.15 - 0.5 - 0.25, 1.0],
        ],
    )
    assert (run.alignment[0] == tiny_world.initial_alignment).all()  # everyone stays
    assert_close(run.offers[0, 0], [[1.0 / BASE_SUM, 0.0, 0.0], [0.0, 2.0 / BASE_SUM, 0.0]])
    # tick 2: p's margins from tick 1's U_econ, its own inducement left out: a 0.8 -
    # (-0.25) = 1.05, b -0.7 - (1.35 + q's inducement), c -0.325 - 1 = -1.325; swing at
    # rationality 4: 4e / (1 + e)^2, e = exp(-4 |margin|) (0.058, 0.0006, 0.020); p pays
    # base * (member + swing), within its envelope
    swing = [swing_by_hand(4.0, m) for m in (1.05, 2.05 + induced_b, 1.325)]
    offers_p = np.array([1.0 + swing[0], FAR * swing[1], MID * swing[2]]) / BASE_SUM
    assert_close(run.offers[0, 1, 0], offers_p)
    np.testing.assert_allclose(run.offers[0, 1, 1], run.offers[0, 0, 1])  # q has no leverage
    inducement = run.economy_terms[0, 1, 2, 0, kernels.ECONOMIC_TERMS.index("inducements")]
    assert inducement == pytest.approx(0.5 * math.log1p(offers_p[2] * 10.0 / 5.0), rel=1e-6)
    # promises kept in full (tick 1 pays what the start promised, a's offer then rose):
    # credibility stays at its target
    np.testing.assert_allclose(run.credibility[0], [[0.5, 1.0], [0.5, 1.0]])


def test_a_budget_cut_breaks_promises_and_costs_credibility() -> None:
    """russia_recession cuts Russia's budget for ticks 1-12: its members get less than
    they expect, so its credibility falls; once the budget is back it recovers."""
    run = AlignmentModel(default_config(scenario="russia_recession", ticks=20, seed=1)).run()
    russia = run.world.poles.index("russia")
    active = run.active[0, :, 0]
    assert active[:12].all() and not active[12:].any()
    credibility = run.credibility[0, :, russia]  # in force at each tick
    assert credibility[1] < credibility[0]
    assert credibility[-1] > credibility[12]


def recession_commitment(credibility_recovery: float) -> tuple[float, float]:
    """Under russia_recession over seeds 0-999: the full commitment of Russia's security
    partners (``patterns.full_commitment``) and the share of all state-ticks in its
    security bloc."""
    from alignment_sim.engine.batch import run_batch
    from alignment_sim.studies import patterns

    config = default_config(scenario="russia_recession", ticks=40, seed=0)
    config.dynamics.credibility_recovery = credibility_recovery
    result = run_batch(RunInputs.from_config(config), range(1000), record="minimal")
    security = patterns.options_of(result, "security")[:, 1:]
    in_bloc = security == result.inputs.world.space.security_options.index("russia")
    return patterns.full_commitment(result, "russia"), float(in_bloc.mean())


def test_an_inconsistent_patron_is_not_fully_committed_to() -> None:
    """Credibility from behaviour (000, issue 11 property 5): the subsidies a recession
    cuts are promises broken, Russia's credibility falls, and the gain of its union's
    trade is discounted by it, so fewer of its security partners stay in its union than
    if its credibility held (0.737 against 0.760 over these 1,000 runs; docs/MODEL.md,
    the mechanism table's "credibility fixed"), while its alliance barely shrinks (0.411
    of all state-ticks against 0.417): no wholesale defection. Before the trade discount
    the first gap was about 0.004."""
    moving, held = recession_commitment(0.1), recession_commitment(0.0)
    assert held[0] - moving[0] > 0.008, (moving, held)
    assert abs(held[1] - moving[1]) < 0.02, (moving, held)


def test_realist_rules_weigh_the_realist_terms_and_force_the_stance(
    tiny_world: World,
) -> None:
    S, E = 2, 3
    terms = kernels.Terms(
        {name: np.zeros((1, 1, S)) for name in kernels.SECURITY_TERMS},
        {name: np.zeros((1, 1, E)) for name in kernels.ECONOMIC_TERMS},
    )
    terms.security["protection"][:] = [0.25, 0.0]  # realist: join p's bloc
    terms.security["autonomy"][:] = [0.0, 1.0]  # but the whole utility stays out
    terms.economy["trade"][:] = [0.0, 0.5, 0.0]
    snap = kernels.Snapshot(
        security=np.array([[1]]),
        economy=np.array([[0]]),
        power=np.zeros((1, 1, 1)),
        threat=np.zeros((1, 2, 1)),
        offers=np.zeros((1, 2, 1)),
        credibility=np.ones((1, 2)),
        years=0.0,
        premiums=np.zeros((1, 2, 1)),
    )
    noise = np.zeros((1, 1, S + E))
    expected = {"best_response": (1, 0.0), "balancing": (0, 1.0), "bandwagoning": (0, -1.0)}
    for rule, (security, stance) in expected.items():
        inputs = RunInputs.from_config(hand_config(rule), world=tiny_world)
        chosen = inputs.choose(terms, snap, noise, slice(0, 1))
        assert (int(chosen[0][0, 0]), int(chosen[1][0, 0])) == (security, 1), rule
        np.testing.assert_array_equal(chosen[2], [[[0.25, 1.0]]])  # U_sec as recorded
        assert inputs.stance == stance


def test_each_state_has_one_profile_and_label_shares_sum_to_one(default_run) -> None:
    world = default_run.world
    assert len(world.options) == world.space.n_security * world.space.n_economy == 12
    assert default_run.alignment.min() >= 0 and default_run.alignment.max() < len(world.options)
    shares = default_run.shares()
    assert shares.shape == (1, default_run.ticks + 1, len(world.labels))
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0)
    by_hand = [
        [[world.labelling.label(i, k) for i, k in enumerate(tick)] for tick in run]
        for run in default_run.alignment
    ]
    np.testing.assert_array_equal(np.array(world.labels)[default_run.labels()], by_hand)
    blocs = default_run.blocs_frame()
    assert list(blocs.label.unique()) == list(world.labels)
    np.testing.assert_allclose(blocs.groupby("tick")["share"].sum(), 1.0)
    np.testing.assert_allclose(blocs.groupby("tick")["capability_share"].sum(), 1.0)
    assert (blocs.groupby("tick")["members"].sum() == world.n_states).all()


def test_terms_add_up_to_each_dimensions_utility(default_run) -> None:
    # exactly: the model adds each dimension's terms left to right in its precision (FLOAT)
    for terms, utility in (
        (default_run.security_terms, default_run.security_utility),
        (default_run.economy_terms, default_run.economy_utility),
    ):
        parts = terms.astype(FLOAT)
        total = parts[..., 0].copy()
        for j in range(1, parts.shape[-1]):
            total += parts[..., j]
        np.testing.assert_array_equal(total, utility.astype(FLOAT))
    space = default_run.world.space
    np.testing.assert_array_equal(
        default_run.profile_utility(),
        default_run.security_utility[..., space.profile_security]
        + default_run.economy_utility[..., space.profile_economy],
    )
    frame = default_run.trajectory_frame()
    later = frame[frame.tick > 0]
    for dimension, options, names in (
        ("security", space.security_options, kernels.SECURITY_TERMS),
        ("economy", space.economic_options, kernels.ECONOMIC_TERMS),
    ):
        for option in options:
            total = sum(later[f"{name}_{dimension}_{option}"] for name in names)
            np.testing.assert_allclose(total, later[f"utility_{dimension}_{option}"], atol=1e-5)


def test_trajectory_frame_columns(default_run) -> None:
    frame = default_run.trajectory_frame()
    world, space = default_run.world, default_run.world.space
    assert len(frame) == (default_run.ticks + 1) * world.n_states
    assert (frame.alignment == frame.security + "/" + frame.economy).all()
    assert set(frame.security) <= set(space.security_options)
    assert set(frame.economy) <= set(space.economic_options)
    state_index = frame.state.map({s: i for i, s in enumerate(world.states)})
    profile_index = frame.alignment.map({p: k for k, p in enumerate(space.profiles)})
    by_hand = [world.labelling.label(i, k) for i, k in zip(state_index, profile_index, strict=True)]
    assert (frame.label == by_hand).all()
    by_state = frame.pivot(index="tick", columns="state", values="alignment")
    moved = (by_state != by_state.shift()).iloc[1:]
    switched = frame.pivot(index="tick", columns="state", values="switched")
    assert not switched.iloc[0].any()
    assert (switched.iloc[1:] == moved).all().all()
    first = frame[frame.tick == 0].set_index("state").alignment
    assert first.to_dict() == {
        s: world.options[k] for s, k in zip(world.states, world.initial_alignment, strict=True)
    }
    assert frame.year.iloc[-1] == pytest.approx(2015 + default_run.ticks / 4)
    for pole in world.poles:
        assert f"offer_{pole}_bn_usd" in frame
    assert frame.filter(like="utility_").columns.size == space.n_security + space.n_economy


def test_offers_never_exceed_the_budgets(default_run) -> None:
    budgets = default_run.world.pole.budget_bn
    spent = default_run.offers.sum(axis=-1)  # (R, T, B)
    assert (default_run.offers >= 0).all()
    assert (spent <= budgets * (1 + 1e-6)).all()
    assert (spent > 0).any()  # not vacuous: a pole pays
    blocs = default_run.blocs_frame()
    poles = blocs[(blocs.tick > 0) & blocs.is_bloc]
    limit = poles.label.map(dict(zip(default_run.world.poles, budgets, strict=True)))
    assert (poles.spending_bn_usd <= limit * (1 + 1e-6)).all()


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
    runs = [AlignmentModel(config, seed=s).run() for s in range(6)]
    assert any(not np.array_equal(runs[0].alignment, r.alignment) for r in runs[1:])
    assert any(not np.array_equal(runs[0].security_utility, r.security_utility) for r in runs[1:])


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
    one, two = forward.run(), backward.run()
    np.testing.assert_array_equal(one.alignment, two.alignment)
    np.testing.assert_array_equal(one.economy_utility, two.economy_utility)
    np.testing.assert_array_equal(one.credibility, two.credibility)


def test_mesa_contract_datacollector_and_batch_run() -> None:
    model = AlignmentModel(default_config(ticks=4, seed=1))
    assert isinstance(model, mesa.Model)
    model.run()
    data = model.datacollector.get_model_vars_dataframe()
    shares = [f"share_{label}" for label in model.world.labels]
    assert list(data.columns[:2]) == ["tick", "seed"] and list(data.columns[2:6]) == shares
    assert list(data["tick"]) == [1, 2, 3, 4]  # collected at the end of each step
    np.testing.assert_allclose(data[shares].to_numpy(), model.trajectory.shares()[0][1:])
    assert data["switches"].iloc[-1] == model.trajectory.summary()["n_switches"]
    assert not model.running
    results = mesa.batch_run(
        AlignmentModel,
        {"config": [default_config(ticks=3)], "seed": [1, 2]},
        number_processes=1,
        max_steps=10,
        display_progress=False,
    )
    assert {r["seed"] for r in results} == {1, 2}
    assert {r["tick"] for r in results} == {3}  # the last tick, config-built too (mesa#2514)


def test_tiny_world_from_a_csv_file(tmp_path: Path, tiny_config: SimulationConfig) -> None:
    csv = tmp_path / "attributes.csv"
    tiny_attributes().to_csv(csv, index=False)
    tiny_config.region.attributes_file = str(csv)
    run = AlignmentModel(tiny_config).run()
    assert run.alignment.shape == (1, 11, 3)
    assert run.security_utility.shape == (1, 10, 3, 2)
    assert run.economy_utility.shape == (1, 10, 3, 3)
    np.testing.assert_allclose(run.shares().sum(axis=-1), 1.0)


def test_explanation_is_kept_per_agent() -> None:
    model = AlignmentModel(default_config(ticks=2, seed=0))
    model.step()
    belarus = model.choosers[0]
    assert belarus.terms is not None
    assert tuple(belarus.terms.security) == kernels.SECURITY_TERMS
    assert tuple(belarus.terms.economy) == kernels.ECONOMIC_TERMS
    u_sec, u_econ = belarus.terms.utilities()
    np.testing.assert_array_equal(u_sec.reshape(-1), belarus.security_utility)
    np.testing.assert_array_equal(u_econ.reshape(-1), belarus.economy_utility)
    space = model.world.space
    assert belarus.option == space.profiles[belarus.profile]
    assert belarus.label == space.profile_labels[belarus.profile]
    assert belarus.profile == model.trajectory.alignment[0, 1, 0]


def test_stepping_past_the_end_is_a_clear_error() -> None:
    model = AlignmentModel(default_config(ticks=2, seed=0))
    model.run()
    with pytest.raises(RuntimeError, match="2 ticks long"):
        model.step()


def test_a_directed_choice_is_committed_and_the_models_own_pick_is_kept() -> None:
    """A state steered from outside (the classroom game) takes the directed profile; its
    ``pending`` still holds what the model would have chosen, and the others are unaffected."""
    config = default_config()
    config.ticks = 2
    free = AlignmentModel(config, seed=3)
    steered = AlignmentModel(config, seed=3)
    space = steered.world.space
    target = steered.choosers[0]
    none, open_ = space.n_security - 1, space.n_economy - 1
    target.directed = (none, open_)
    free.step()
    steered.step()
    assert (target.security, target.economy) == (none, open_)
    assert target.option == "none/open"
    assert target.pending == (free.choosers[0].security, free.choosers[0].economy)
    assert [a.profile for a in steered.choosers[1:]] == [a.profile for a in free.choosers[1:]]
    assert steered.trajectory.alignment[0, 1, 0] == target.profile


def test_the_stance_lever_moves_the_buffer_states() -> None:
    """Issue 11, property 3, a visible stance lever: in the 2015 world, from pure
    bandwagoning (stance -1) to pure balancing (+1), Ukraine ends in the West's alliance in
    0.47 -> 0.68 of 100 runs and Georgia 0.84 -> 0.97 (Russia's forces on their soil no
    longer deter them at any stance: ``deterring_threat``; a balancer is not deterred by
    the rest, ``deterrence``), and Belarus, to which the West's bloc is the threat, stays
    in Russia's alliance in 0.38 -> 0.83."""
    from alignment_sim.engine.batch import run_batch
    from alignment_sim.paths import with_values

    shares = {}
    for stance in (-1.0, 0.0, 1.0):
        config = with_values(default_config(ticks=40), {"dynamics.stance": stance})
        inputs = RunInputs.from_config(config)
        world = inputs.world
        result = run_batch(inputs, range(100), record="minimal", progress=False)
        security = world.space.profile_security[result.alignment[:, -1]]
        options = world.space.security_options
        shares[stance] = {
            (state, option): float(
                (security[:, world.states.index(state)] == options.index(option)).mean()
            )
            for state, option in (("ukraine", "west"), ("georgia", "west"), ("belarus", "russia"))
        }
    bandwagon, neither, balance = shares[-1.0], shares[0.0], shares[1.0]
    for key in bandwagon:
        assert bandwagon[key] <= neither[key] <= balance[key], (key, shares)
    assert balance[("ukraine", "west")] - bandwagon[("ukraine", "west")] >= 0.1, shares
    assert balance[("belarus", "russia")] - bandwagon[("belarus", "russia")] >= 0.25, shares
    assert bandwagon[("georgia", "west")] > 0.5, shares  # occupied: not deterred at any stance


def test_a_model_stepped_part_way_shows_only_the_ticks_it_played() -> None:
    """The trajectory's arrays are sized for the whole run; a model stepped 5 of 20 ticks
    used to report ticks 6-20 as every state in russia/russia (the zeros not yet
    written), with switches into them. Its tables hold the ticks played, and equal the
    first ticks of the whole run."""
    stepped = AlignmentModel(default_config(ticks=20, seed=3))
    for _ in range(5):
        stepped.step()
    part = stepped.trajectory
    assert part.played == 5
    summary = part.summary()
    assert summary["ticks"] == 5 and summary["end_year"] == 2016.25
    frame = part.trajectory_frame()
    assert frame["tick"].max() == 5
    assert all(s["tick"] <= 5 for s in part.switches())
    whole = AlignmentModel(default_config(ticks=20, seed=3)).run()
    assert whole.played == 20
    pd.testing.assert_frame_equal(
        frame, whole.trajectory_frame()[lambda f: f["tick"] <= 5].reset_index(drop=True)
    )
    assert part.switches() == [s for s in whole.switches() if s["tick"] <= 5]
    # the arrays a notebook plots hold the ticks played too (ticks 6-20 read as "all with
    # Russia" in shares), and equal the whole run's first ticks
    np.testing.assert_array_equal(part.shares(), whole.shares()[:, :6])
    np.testing.assert_array_equal(part.labels(), whole.labels()[:, :6])
    np.testing.assert_array_equal(part.profile_utility(), whole.profile_utility()[:, :5])


def test_a_model_not_yet_stepped_shows_its_start_and_refuses_averages() -> None:
    """Before the first tick the summary is the start (it was numpy's "argmax of an empty
    sequence"), and the outcomes, averages over the ticks played, are a clear refusal."""
    model = AlignmentModel(default_config(ticks=6, seed=1))
    summary = model.trajectory.summary()
    assert (summary["ticks"], summary["n_switches"], summary["time_to_stability"]) == (0, 0, 0)
    assert summary["final_alignment"] == summary["initial_alignment"]
    with pytest.raises(RuntimeError, match="no tick played yet"):
        model.outcomes_so_far()


def test_the_models_config_names_its_run_and_its_length_is_the_one_built() -> None:
    """``seed=`` beside a config ran seed 9 while ``model.config.seed`` said 5, so
    ``AlignmentModel(model.config)`` ran another run; and ``model.config.ticks`` edited
    after the build made ``step`` fail with an IndexError past the arrays."""
    model = AlignmentModel(default_config(ticks=4, seed=5), seed=9)
    assert model.config.seed == model.run_seed == 9
    again = AlignmentModel(model.config).run()
    np.testing.assert_array_equal(again.alignment, model.run().alignment)
    model = AlignmentModel(default_config(ticks=4, seed=5))
    model.config.ticks = 2
    model.run()
    assert model.tick == 4 and not model.running


def test_a_config_edited_after_the_model_is_built_reaches_no_run() -> None:
    """The model keeps its own copy: an edit of the caller's config (a weight, the
    stance, the ticks) used to reach some fields mid-run unchecked and not others; now
    none, and a new model takes (and checks) it."""
    config = default_config(ticks=6, seed=1)
    model = AlignmentModel(config)
    reference = AlignmentModel(default_config(ticks=6, seed=1)).run()
    config.weights.trade = -50.0
    config.dynamics.stance = 5.0
    config.ticks = 2
    run = model.run()
    assert model.config.weights.trade == 2.0 and model.config.ticks == 6
    np.testing.assert_array_equal(run.alignment, reference.alignment)
    with pytest.raises(alignment_sim.ConfigError, match=r"weights\.trade"):
        AlignmentModel(config)


def test_configs_built_from_one_region_never_share_it() -> None:
    """Two configurations from one RegionSpec (one with a scenario that moves the year)
    used to share its poles: an edit of one reached the other and the spec."""
    from alignment_sim.presets import load_region

    region = load_region()
    first = default_config(region=region)
    second = default_config(region=region, scenario="colour_revolution")
    budget = region.poles[0].budget_bn_usd
    first.region.poles[0].budget_bn_usd = 0.5
    assert second.region.poles[0].budget_bn_usd == budget == region.poles[0].budget_bn_usd
    with pytest.raises(alignment_sim.ConfigError, match="tiks = 20: expected a setting"):
        default_config(tiks=20)


@pytest.mark.parametrize("run", [1, -1, 2.0, True])
def test_a_run_that_was_not_recorded_is_named_with_the_runs_there_are(
    default_run: Trajectory, run: object
) -> None:
    """One run is recorded: asking for another (or the last from the end, as numpy would
    give it) is refused by name by every per-run table."""
    for table in ("trajectory_frame", "blocs_frame", "switches", "summary"):
        with pytest.raises(alignment_sim.ConfigError, match=r"run = .*a run's number, 0 to 0"):
            getattr(default_run, table)(run)
    assert default_run.summary(np.int64(0))["seed"] == 11


def test_a_copy_inside_another_repository_records_no_revision_of_it(tmp_path: Path) -> None:
    """The package copied into a user's repository (a virtualenv inside their project)
    recorded that repository's HEAD as its own git revision; only the project's own
    checkout gives one."""
    import shutil

    user = tmp_path / "userrepo"
    site = user / ".venv" / "site-packages"
    shutil.copytree(Path(alignment_sim.__file__).parent, site / "alignment_sim")
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q", str(user)], check=True)
    (user / "notes.txt").write_text("a user's project")
    subprocess.run([*git, "-C", str(user), "add", "notes.txt"], check=True)
    subprocess.run([*git, "-C", str(user), "commit", "-qm", "x"], check=True)
    code = "from alignment_sim.outputs.provenance import git_revision; print(git_revision())"
    shown = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert shown == "unknown"


def test_an_event_given_as_a_dict_is_refused_when_the_config_is_built() -> None:
    """A dict among a scenario's events was taken by default_config and refused only when
    a model was built from it, far from where it was written."""
    from alignment_sim.model.params import EventSpec, ScenarioSpec

    given = ScenarioSpec(name="mine", events=[{"kind": "russia_recession", "at": 1}])  # type: ignore[list-item]
    with pytest.raises(alignment_sim.ConfigError, match=r"scenario\.events\[0\] = .*an EventSpec"):
        default_config(scenario=given)
    ok = ScenarioSpec(name="mine", events=[EventSpec(kind="russia_recession", at=1)])
    assert default_config(scenario=ok).scenario.events[0].kind == "russia_recession"
