"""Design studies: samplers, per-run parameter points, resumable runs, sensitivity."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, ConfigError, default_config
from alignment_sim.engine.batch import execute, run_chunk
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import DOMAINS, DesignSpec, EngineParams, SimulationConfig
from alignment_sim.model.trajectory import RECORDED_ARRAYS
from alignment_sim.model.world import World, build_world
from alignment_sim.outputs.files import job_manifest
from alignment_sim.studies import patterns, robustness
from alignment_sim.studies.design import (
    analyse,
    analysis_seed,
    check_design,
    main_effects,
    noise_share,
    plot_sensitivity,
    point_means,
    points_table,
    run_design,
    sample_points,
)
from alignment_sim.studies.points import (
    DYNAMICS_AXES,
    check_paths,
    config_for_point,
    run_points,
    supported_paths,
    with_point_values,
)

PARAMETERS = {
    "weights.trade": [0.5, 3.5],
    "dynamics.stance": [-1.0, 1.0],
    "region.poles.russia.budget_bn_usd": [4.0, 12.0],
}


@pytest.mark.parametrize(
    ("method", "points"), [("grid", 27), ("lhs", 16), ("sobol", 16 * 5), ("morris", 16 * 4)]
)
def test_sampler_sizes_and_bounds(method: str, points: int) -> None:
    spec = DesignSpec(method=method, parameters=PARAMETERS, samples=16, levels=3)
    table = sample_points(spec)
    assert table.shape == (points, 3)
    for name, (low, high) in PARAMETERS.items():
        assert table[name].min() >= low and table[name].max() <= high
    pd.testing.assert_frame_equal(table, sample_points(spec))


POINT_VALUES = {
    "weights.trade": np.array([1.0, 3.0]),
    "weights.economic_coercion": np.array([0.5, 2.0]),
    "dynamics.stance": np.array([-0.5, 0.5]),
    "dynamics.switching_cost": np.array([0.4, 1.2]),
    "dynamics.economic_switching_cost": np.array([0.3, 1.4]),
    "region.poles.west.conditionality": np.array([0.1, 0.9]),
    "region.poles.russia.coercion": np.array([0.3, 0.9]),
    "region.poles.china.budget_bn_usd": np.array([2.0, 9.0]),
    "region.states.belarus.autonomy": np.array([0.0, 0.8]),
    "decision.rationality": np.array([2.0, 6.0]),
}
RECORDED = RECORDED_ARRAYS


def assert_points_equal_mesa_runs(
    values: dict[str, np.ndarray], config: SimulationConfig | None = None
) -> None:
    """Runs of per-run parameter values in one batch equal Mesa runs of each point (on
    ``config``, by default ``static_config``)."""
    config = config or static_config()
    seeds = np.array([4, 9])
    batch = run_chunk(with_point_values(RunInputs.from_config(config), values), seeds, "full")
    assert batch.trajectory is not None
    for r in range(2):
        point = config_for_point(config, {k: float(v[r]) for k, v in values.items()})
        model_run = AlignmentModel(point, seed=int(seeds[r])).run()
        for name in RECORDED:
            assert np.array_equal(
                getattr(model_run, name)[0], getattr(batch.trajectory, name)[r], equal_nan=True
            ), name


def test_point_runs_equal_mesa_runs_of_the_same_config() -> None:
    assert_points_equal_mesa_runs(POINT_VALUES)


JUDGED_POLE_VALUES = {
    "region.poles.russia.reach_km": np.array([2000.0, 5000.0]),
    "region.poles.china.reach_km": np.array([1500.0, 4000.0]),
    "region.poles.west.reach_km": np.array([2500.0, 6000.0]),
    "region.poles.russia.soft_power_floor": np.array([0.1, 0.9]),
    "region.poles.west.soft_power_floor": np.array([0.0, 0.6]),
    "region.poles.russia.soft_power_fade_per_year": np.array([0.0, 0.08]),
}
"""Pole judgements the world turns into tables: reach (proximity), floor (ties, of every
calendar year) and the fade of soft power."""


def history_config() -> SimulationConfig:
    """The history runs' calendar configuration (2000-2013, data by year)."""
    return patterns.variant_config("history", patterns.DEFAULT_BLOCK)


def static_config() -> SimulationConfig:
    """The western_engagement scenario in the static 2015 world, 12 ticks."""
    return default_config(scenario="western_engagement", ticks=12)


WORLDS = pytest.mark.parametrize("make_config", [static_config, history_config])


@WORLDS
def test_reach_floor_and_fade_per_run_equal_mesa_runs_of_the_same_config(
    make_config: Callable[[], SimulationConfig],
) -> None:
    assert_points_equal_mesa_runs(JUDGED_POLE_VALUES, make_config())


def tick_tables(world: World, tick: int) -> dict[str, np.ndarray]:
    """Every base parameter of ``tick`` (``World.params_for_tick``), by table.field."""
    tables = zip(("state", "pole", "pair"), world.params_for_tick(tick), strict=True)
    return {
        f"{name}.{field}": array for name, table in tables for field, array in vars(table).items()
    }


def assert_tables_equal_the_worlds_of_the_points(
    config: SimulationConfig, values: dict[str, np.ndarray]
) -> None:
    """Every base parameter of every year's first tick (``World.params_for_tick``) of each
    run of ``values`` equals, dtype and bits, that of the world built from its point."""
    per_run = with_point_values(RunInputs.from_config(config), values).world
    ticks_of_years = range(0, config.ticks + 1, 12 // per_run.tick_months)
    for r in range(2):
        point = config_for_point(config, {k: float(v[r]) for k, v in values.items()})
        built = build_world(point.region)
        for tick in ticks_of_years:
            tables = tick_tables(per_run, tick)
            for name, array in tick_tables(built, tick).items():
                run = tables[name][r] if tables[name].ndim > array.ndim else tables[name]
                assert run.dtype == array.dtype and np.array_equal(run, array), (name, tick)


@WORLDS
@pytest.mark.parametrize("path", [*JUDGED_POLE_VALUES, "all"])
def test_every_years_tables_per_run_equal_the_world_built_from_each_point(
    make_config: Callable[[], SimulationConfig], path: str
) -> None:
    values = JUDGED_POLE_VALUES if path == "all" else {path: JUDGED_POLE_VALUES[path]}
    assert_tables_equal_the_worlds_of_the_points(make_config(), values)


BUDGET_VALUES = {
    "region.poles.west.budget_bn_usd": np.array([1.0, 50.0]),
    "region.poles.russia.budget_bn_usd": np.array([3.3, 11.7]),
}
"""Budgets that vary in a calendar world too: the West's (rule constant) and Russia's
(rule gdp: the configured budget times GDP_y / GDP_2015). China's (chinese_lending) comes
from data alone there and is refused (tests/test_calendar.py)."""


@WORLDS
@pytest.mark.parametrize("path", [*BUDGET_VALUES, "all"])
def test_every_years_budget_per_run_equals_the_world_built_from_each_point(
    make_config: Callable[[], SimulationConfig], path: str
) -> None:
    """A budget per run sets every calendar year's budget as the world builder does of
    the point's budget (``calendar.yearly_budget``), beside reach and floors ("all")."""
    everything = {**BUDGET_VALUES, **JUDGED_POLE_VALUES}
    values = everything if path == "all" else {path: BUDGET_VALUES[path]}
    assert_tables_equal_the_worlds_of_the_points(make_config(), values)


def test_a_calendar_budget_per_run_is_its_rules_value_of_the_run_in_every_year() -> None:
    """In every tick of a history run the West's budget is the run's own (not the
    calendar's 3.0), and Russia's is the run's budget times its GDP's path (the default
    world's budget, of 8.0, scaled)."""
    config = history_config()
    inputs = RunInputs.from_config(config)
    per_run = with_point_values(inputs, BUDGET_VALUES).world
    west, russia = per_run.poles.index("west"), per_run.poles.index("russia")
    seen = set()
    for tick in range(config.ticks + 1):
        budget = per_run.params_for_tick(tick)[1].budget_bn
        assert budget.shape == (2, per_run.n_poles)
        assert budget[:, west].tolist() == [1.0, 50.0]
        default = inputs.world.params_for_tick(tick)[1].budget_bn[russia]
        expected = default * BUDGET_VALUES["region.poles.russia.budget_bn_usd"] / 8.0
        np.testing.assert_allclose(budget[:, russia], expected, rtol=1e-6)
        seen.add(float(budget[0, russia]))
    assert len(seen) == 14  # one budget a year, 2000-2013


@WORLDS
def test_budgets_per_run_equal_mesa_runs_of_the_same_config(
    make_config: Callable[[], SimulationConfig],
) -> None:
    assert_points_equal_mesa_runs(BUDGET_VALUES, make_config())


def test_a_point_without_reach_or_floor_keeps_the_worlds_pair_tables() -> None:
    inputs = RunInputs.from_config(history_config())
    world = with_point_values(inputs, {"weights.trade": np.array([1.0, 2.0])}).world
    assert world.pair.proximity is inputs.world.pair.proximity
    assert world.pair.ties is inputs.world.pair.ties
    assert world.calendar is inputs.world.calendar


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("region.poles.russia.reach_km", 0.0),
        ("region.poles.china.reach_km", -100.0),
        ("region.poles.west.soft_power_floor", 1.2),
        ("region.poles.russia.soft_power_floor", -0.1),
        ("region.poles.russia.soft_power_fade_per_year", -0.01),
    ],
)
def test_a_judged_pole_value_outside_its_domain_is_refused(path: str, bad: float) -> None:
    inputs = RunInputs.from_config(default_config(ticks=3))
    good = JUDGED_POLE_VALUES[path][0]
    with pytest.raises(ConfigError, match=rf"^{re.escape(f'{path} = {bad}')}: expected"):
        with_point_values(inputs, {path: np.array([good, bad])})


def test_every_judgement_varies_per_run() -> None:
    """The robustness box covers every listed judgement: none is left at its default."""
    listed = [j.path for j in robustness.load_judgements().judgements]
    assert [path for path in listed if not robustness.can_vary(path)] == []
    assert set(listed) <= set(supported_paths(default_config()))


KERNEL_LIMITS: dict[str, str] = {}
"""Dynamics fields whose per-run values the kernels do not yet treat as the Mesa model's
(to be fixed in model/kernels.py; the marks fail once they are)."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(reason=KERNEL_LIMITS[name], strict=True)]
            if name in KERNEL_LIMITS
            else [],
        )
        for name in sorted(DYNAMICS_AXES)
    ],
)
def test_every_dynamics_field_varies_per_run(name: str) -> None:
    low, high = DOMAINS["dynamics"][name].low, DOMAINS["dynamics"][name].high
    values = np.array([max(low, 0.05), min(high, 0.6)])
    assert_points_equal_mesa_runs({f"dynamics.{name}": values})


def test_design_runs_resumes_and_analyses(tmp_path: Path, capsys) -> None:
    config = default_config(ticks=12, replications=3)
    config.design = DesignSpec(
        method="sobol", parameters=PARAMETERS, samples=8, outcomes=["mean_share_hedge", "switches"]
    )
    config.engine.chunk_size = 20
    folder = run_design(config, tmp_path / "d", progress=False)
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    assert len(parts) == -(-8 * 5 * 3 // 20)
    runs = pd.read_parquet(folder / "runs")
    assert len(runs) == 8 * 5 * 3 and set(runs.seed) == {0, 1, 2}
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["index"]) == {"S1", "ST"}
    assert set(table.parameter) == set(PARAMETERS)
    assert ((table.noise_share >= 0) & (table.noise_share.notna())).all()
    first = table.copy()
    before = parts[0].stat().st_mtime_ns
    parts[-1].unlink()
    (folder / "manifest.json").unlink()
    run_design(config, folder, progress=True)
    assert parts[0].stat().st_mtime_ns == before  # finished chunks are not redone
    said = capsys.readouterr().err  # the silent analysis after the runs' bar, announced
    assert "analysing 2 outcome(s) over 40 points, 200 bootstrap resamples" in said
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "runs"), runs)
    pd.testing.assert_frame_equal(pd.read_csv(folder / "sensitivity.csv"), first)
    assert (folder / "sensitivity.png").is_file()


def test_a_design_resumed_with_another_chunk_size_keeps_its_cut(tmp_path: Path, capsys) -> None:
    """A part is a chunk by its number: a design interrupted in chunks of 20 and resumed
    with engine.chunk_size=7 finishes in chunks of 20, with every (point, seed) once and
    the numbers of an uninterrupted run."""
    config = default_config(ticks=8, replications=3)
    config.design = DesignSpec(
        method="lhs", parameters=PARAMETERS, samples=40, outcomes=["switches"]
    )
    config.engine.chunk_size = 20
    whole = run_design(config, tmp_path / "whole", progress=False)
    folder = run_design(config, tmp_path / "d", progress=False)
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    for part in parts[1:]:
        part.unlink()
    (folder / "manifest.json").unlink()
    config.engine.chunk_size = 7
    run_design(config, folder, progress=False)
    assert "resuming a design cut in chunks of 20 runs" in capsys.readouterr().err
    runs = pd.read_parquet(folder / "runs")
    assert len(runs) == 40 * 3 and not runs.duplicated(["point", "seed"]).any()
    assert len(list((folder / "runs").glob("part-*.parquet"))) == len(parts)
    pd.testing.assert_frame_equal(runs, pd.read_parquet(whole / "runs"))
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "sensitivity.csv"), pd.read_csv(whole / "sensitivity.csv")
    )


def test_morris_and_lhs_indices(tmp_path: Path) -> None:
    for method, indices in (("morris", {"mu_star", "sigma"}), ("lhs", {"delta", "S1"})):
        config = default_config(ticks=8, replications=2)
        config.design = DesignSpec(
            method=method, parameters=PARAMETERS, samples=10, outcomes=["switches"]
        )
        if method == "lhs":  # 10 points are too few for delta's bins: said, not hidden
            with pytest.warns(UserWarning, match="of switches gave no estimate .*too few points"):
                folder = run_design(config, tmp_path / method, progress=False)
            said = job_manifest(folder)["warnings"]  # kept with the study
            assert len(said) == 1 and "switches gave no estimate" in said[0]
        else:
            folder = run_design(config, tmp_path / method, progress=False)
            assert job_manifest(folder)["warnings"] == []
        table = pd.read_csv(folder / "sensitivity.csv")
        assert set(table["index"]) == indices
        units = dict(zip(table["index"], table["unit"], strict=True))  # the CSV says them
        if method == "morris":  # in the outcome's own unit, which the PNG alone gave
            assert units == {"mu_star": "count of state-ticks", "sigma": "count of state-ticks"}
        else:
            assert units["S1"] == "share of the point means' variance"


def test_a_parameter_the_runs_never_read_has_no_effect(tmp_path: Path) -> None:
    # the balancing rule forces stance = 1 (RunInputs.stance): the designed stance is
    # never read. Sobol's total index compares runs that differ in one parameter only,
    # with the same seeds, so its index is exactly 0.
    config = default_config(ticks=20, replications=2, decision="balancing")
    config.design = DesignSpec(
        method="sobol",
        samples=32,
        outcomes=["economy_switches"],
        parameters={"dynamics.economic_switching_cost": [0.0, 3.0], "dynamics.stance": [-1, 1]},
    )
    folder = run_design(config, tmp_path / "s", progress=False)
    table = pd.read_csv(folder / "sensitivity.csv")
    total = table[table["index"] == "ST"].set_index("parameter")["value"]
    assert total["dynamics.stance"] == 0.0
    assert total["dynamics.economic_switching_cost"] > 0.1


def test_security_fields_of_a_pole_without_security_are_not_designable() -> None:
    config = default_config(ticks=3)
    assert "region.poles.russia.soft_power" in supported_paths(config)
    assert "region.poles.china.soft_power" not in supported_paths(config)
    assert "region.poles.china.budget_bn_usd" in supported_paths(config)
    # a union props up regimes too (kernels.regime_security_term): China's is designable
    assert "region.poles.china.regime_support" in supported_paths(config)
    for field in ("soft_power", "soft_power_floor", "soft_power_fade_per_year"):
        path = f"region.poles.china.{field}"
        with pytest.raises(ConfigError, match=r"china offers no security"):
            check_paths(config, [path], "design.parameters")
        inputs = RunInputs.from_config(config)
        with pytest.raises(ConfigError, match=r"0 for a pole that offers no security"):
            with_point_values(inputs, {path: np.array([0.0, 0.5])})
        with_point_values(inputs, {path: np.array([0.0, 0.0])})  # its value: accepted


def test_bad_design_inputs_are_named() -> None:
    config = default_config()
    with pytest.raises(ConfigError, match=r"design.parameters.weights.bravery"):
        check_paths(config, ["weights.bravery"], "design.parameters")
    with pytest.raises(ConfigError, match="low < high"):
        DesignSpec(method="lhs", parameters={"weights.trade": [2.0, 1.0]}).validate()
    with pytest.raises(ConfigError, match=r"design\.method"):
        DesignSpec(method="halton").validate()
    with pytest.raises(ConfigError, match=r"design\.samples = 10: expected a power of 2.*8 or 16"):
        DesignSpec(method="sobol", parameters={"weights.trade": [1.0, 2.0]}, samples=10).validate()
    DesignSpec(method="lhs", parameters={"weights.trade": [1.0, 2.0]}, samples=10).validate()
    with pytest.raises(ConfigError, match=r"design\.outcomes = \['switches'\]: .*once"):
        DesignSpec(method="lhs", parameters=PARAMETERS, outcomes=["switches"] * 2).validate()
    twice = {"region.poles.russia.budget_bn_usd": [2, 14], "region.poles.0.budget_bn_usd": [4, 6]}
    config.design = DesignSpec(method="lhs", parameters=twice)
    with pytest.raises(ConfigError, match=r"poles\.0\.budget_bn_usd = \[4, 6\]: .*russia"):
        check_paths(config, list(twice), "design.parameters")  # the index silently won


def test_analysis_seed_is_never_zero() -> None:
    for seed in range(50):
        assert analysis_seed(DesignSpec(sampler_seed=seed)) != 0


def test_dask_cluster_gives_the_same_numbers() -> None:
    pytest.importorskip("distributed")
    inputs = RunInputs.from_config(default_config(ticks=10))
    tasks = [(inputs, np.arange(s, s + 25), "minimal") for s in (0, 25, 50)]
    local = list(execute(run_chunk, tasks))
    remote = list(execute(run_chunk, tasks, EngineParams(workers=2, backend="dask")))
    for a, b in zip(local, remote, strict=True):
        np.testing.assert_array_equal(a.alignment, b.alignment)


@pytest.mark.filterwarnings("error")
def test_resume_never_mixes_runs_of_another_configuration(tmp_path: Path) -> None:
    config = default_config(ticks=6, replications=2)
    config.design = DesignSpec(
        method="grid", parameters=PARAMETERS, levels=2, outcomes=["switches"]
    )
    run_design(config, tmp_path / "d", progress=False)
    config.replications = 3
    folder = run_design(config, tmp_path / "d", progress=False)
    runs = pd.read_parquet(folder / "runs")
    assert len(runs) == 8 * 3 and set(runs.seed) == {0, 1, 2}
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["index"]) == {"main_effect"}  # a grid is not analysed as a sample


def test_grid_main_effects_of_an_additive_outcome() -> None:
    levels = np.array([0.0, 1.0, 2.0])
    points = pd.DataFrame(
        [(a, b) for a in levels for b in levels], columns=["weights.trade", "dynamics.stance"]
    )
    y = 2 * points["weights.trade"].to_numpy() + points["dynamics.stance"].to_numpy()
    effects = {row["parameter"]: row["value"] for row in main_effects(points, y)}
    assert effects == pytest.approx({"weights.trade": 0.8, "dynamics.stance": 0.2})


def test_unknown_outcome_is_refused_before_any_run(tmp_path: Path) -> None:
    config = default_config(ticks=6, replications=2)
    config.design = DesignSpec(method="lhs", parameters=PARAMETERS, samples=4, outcomes=["foo"])
    with pytest.raises(
        ConfigError, match=r"^design\.outcomes = 'foo': expected an outcome of the runs"
    ):
        run_design(config, tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()


def test_sensitivity_plot_keeps_the_callers_matplotlib_backend(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("svg")
    table = pd.DataFrame(
        {
            "outcome": ["switches"] * 2,
            "noise_share": [0.1] * 2,
            "parameter": ["weights.trade", "dynamics.stance"],
            "index": ["S1", "S1"],
            "value": [0.6, 0.2],
            "conf": [0.05, 0.05],
        }
    )
    plot_sensitivity(table, tmp_path / "s.png", "sobol")
    assert matplotlib.get_backend() == "svg"
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_second_order_sobol_finds_a_pure_interaction() -> None:
    # y = x1 * x2 on [-1, 1]^2 (x3 inert): no first-order effect, all variance in S2(x1, x2)
    spec = DesignSpec(
        method="sobol",
        samples=512,
        outcomes=["y"],
        parameters={"weights.trade": [-1, 1], "dynamics.stance": [-1, 1], "weights.peer": [0, 1]},
    )
    spec.second_order = True  # design.second_order
    points = sample_points(spec)
    assert len(points) == 512 * (2 * 3 + 2)
    y = points["weights.trade"] * points["dynamics.stance"]
    runs = pd.DataFrame({"point": points.index, "seed": 0, "y": y})
    table = analyse(spec, points, runs).set_index(["index", "parameter"])["value"]
    assert table["S2", "weights.trade:dynamics.stance"] == pytest.approx(1.0, abs=0.1)
    assert table["S2", "weights.trade:weights.peer"] == pytest.approx(0.0, abs=0.1)
    assert table["S1", "weights.trade"] == pytest.approx(0.0, abs=0.1)
    assert table["ST", "dynamics.stance"] == pytest.approx(1.0, abs=0.1)
    assert len(table.loc["S2"]) == 3  # one row per pair


def test_second_order_design_runs_and_never_reuses_first_order_parts(tmp_path: Path) -> None:
    config = default_config(ticks=6, replications=2)
    config.design = DesignSpec(
        method="sobol", parameters=PARAMETERS, samples=4, outcomes=["switches"]
    )
    run_design(config, tmp_path / "d", progress=False)
    config.design.second_order = True  # design.second_order
    folder = run_design(config, tmp_path / "d", progress=False)
    assert len(pd.read_parquet(folder / "runs")) == 4 * (2 * 3 + 2) * 2
    table = pd.read_csv(folder / "sensitivity.csv")
    pairs = table.loc[table["index"] == "S2", "parameter"]
    assert sorted(pairs) == sorted(
        f"{a}:{b}" for i, a in enumerate(PARAMETERS) for b in list(PARAMETERS)[i + 1 :]
    )


def stance_grid(folder: Path, outcome: str, ticks: int, replications: int) -> SimulationConfig:
    """A two-level grid over the stance measuring ``outcome``, run into ``folder``."""
    config = default_config(ticks=ticks, replications=replications)
    config.design = DesignSpec(
        method="grid", parameters={"dynamics.stance": [-1, 1]}, levels=2, outcomes=[outcome]
    )
    run_design(config, folder, progress=False)
    return config


def test_an_indicator_outcome_is_the_probability_of_a_final_label(tmp_path: Path) -> None:
    outcome = "final_label_uzbekistan=hedge"
    config = stance_grid(tmp_path / "d", outcome, ticks=8, replications=4)
    folder = tmp_path / "d"
    runs = pd.read_parquet(folder / "runs")
    means = point_means(config.design, runs, 2)[outcome]
    expected = (runs["final_label_uzbekistan"] == "hedge").groupby(runs["point"]).mean()
    np.testing.assert_array_equal(means.to_numpy(), expected.to_numpy())
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["outcome"]) == {outcome} and set(table["index"]) <= {"main_effect", "constant"}


@pytest.mark.parametrize(
    ("outcome", "named"),
    [
        ("final_label_uzbekistan=maybe", "(russia, china, west, hedge)"),
        ("final_uzbekistan", "final_uzbekistan=VALUE"),
        ("switches=3", "it is numeric"),
        ("final_mars=hedge", "e.g. final_label_turkmenistan=hedge"),
    ],
)
def test_a_bad_outcome_names_the_known_ones_before_any_run(
    tmp_path: Path, outcome: str, named: str
) -> None:
    config = default_config(ticks=4, replications=2)
    config.design = DesignSpec(method="lhs", parameters=PARAMETERS, samples=4, outcomes=[outcome])
    with pytest.raises(ConfigError, match=rf"^design\.outcomes = '{re.escape(outcome)}'") as caught:
        run_design(config, tmp_path / "d", progress=False)
    assert named in str(caught.value)
    assert not (tmp_path / "d").exists()


def test_run_points_gives_each_chunk_in_order_as_one_batch_would() -> None:
    """The one runner of per-run parameter values (designs, sampled studies, forecasts):
    chunk by chunk it gives what one batch of every run gives, leaves out the chunks
    already done, and hands each chunk its slice of ``tags``."""
    config = default_config(ticks=6)
    inputs = RunInputs.from_config(config)
    values = {"weights.trade": np.linspace(0.5, 2.0, 7), "dynamics.stance": np.linspace(-1, 1, 7)}
    seeds = np.arange(10, 17)
    engine = EngineParams(workers=1, chunk_size=3, progress=False)
    whole = run_chunk(with_point_values(inputs, values), seeds, record="minimal")
    parts = list(run_points(inputs, values, seeds, engine))
    assert [c for c, _ in parts] == [0, 1, 2]
    alignment = np.concatenate([part.alignment for _, part in parts])
    np.testing.assert_array_equal(alignment, whole.alignment)
    tags = np.array([4, 4, 4, 5, 5, 5, 6])
    tables = list(run_points(inputs, values, seeds, engine, then=points_table, tags=tags, done={1}))
    assert [c for c, _ in tables] == [0, 2]
    assert list(tables[0][1]["point"]) == [4, 4, 4] and list(tables[1][1]["point"]) == [6]
    assert list(tables[1][1]["seed"]) == [16]
    assert tables[1][1]["weights.trade"].item() == values["weights.trade"][6]


def test_the_noise_share_counts_only_the_noise_the_point_means_do_not_share() -> None:
    """Every point runs the same seeds: a seed's effect common to all points is no noise in
    their differences (the old ratio, within-point variance over the means', read it as
    such and passed 100%). By hand, 2 points x 2 seeds: y = point + seed + rest with rest
    +-e in a checkerboard; residual mean square 4e^2 / 1, over 2 seeds, against the means'
    variance."""
    point = pd.Series([0, 0, 1, 1])
    seed = pd.Series([7, 8, 7, 8])
    seed_effect = np.array([0.0, 10.0, 0.0, 10.0])  # large, and common to both points
    assert noise_share(pd.Series(seed_effect + np.array([0, 0, 1, 1])), point, seed) == 0.0
    e = 0.1
    y = seed_effect + np.array([0, 0, 1, 1]) + np.array([e, -e, -e, e])
    # residuals are +-e: 4 e^2 / ((2-1)(2-1)) = 0.04; per mean / 2 seeds = 0.02; means
    # 5 and 6 (the rest cancels in each mean): variance 0.5
    assert noise_share(pd.Series(y), point, seed) == pytest.approx(0.02 / 0.5)
    pure = pd.Series(seed_effect + np.array([e, -e, -e, e]))  # the means equal: no signal
    assert np.isnan(noise_share(pure, point, seed))
    noisy = pd.Series(seed_effect + np.array([0, 0, 0.01, 0.01]) + np.array([e, -e, -e, e]))
    assert noise_share(noisy, point, seed) == 1.0  # more noise than signal: shown as 1
    assert np.isnan(noise_share(pd.Series([1.0, 2.0]), pd.Series([0, 1]), pd.Series([7, 7])))


def test_an_outcome_the_same_at_every_point_has_no_noise_share() -> None:
    """Point means equal to the last digit (seeds differ, points do not): the rows say
    'constant' and their noise share is empty, not 1 (no variance to share out)."""
    spec = DesignSpec(method="grid", parameters={"weights.trade": [1.0, 2.0]}, levels=2)
    spec.outcomes = ["switches"]
    points = pd.DataFrame({"weights.trade": [1.0, 2.0]})
    runs = pd.DataFrame(
        {"point": [0, 0, 1, 1], "seed": [0, 1, 0, 1], "switches": [3.0, 5.0, 5.0, 3.0 + 1e-7]}
    )
    table = analyse(spec, points, runs)
    assert table["index"].tolist() == ["constant"] and table["noise_share"].isna().all()


def test_a_delta_analysis_that_fails_leaves_its_outcome_empty_and_says_so() -> None:
    """SALib's density estimate fails on an outcome one point of twenty differs in
    (a singular matrix): the design keeps its runs and other outcomes, this outcome's
    delta and S1 are empty, and a warning says why (it was a traceback after the runs)."""
    spec = DesignSpec(method="lhs", parameters=PARAMETERS, samples=20, outcomes=["switches"])
    rng = np.random.default_rng(0)
    points = pd.DataFrame(
        {name: rng.uniform(low, high, 20) for name, (low, high) in PARAMETERS.items()}
    )
    y = np.zeros(20)
    y[0] = 1.0
    runs = pd.DataFrame(
        {
            "point": np.repeat(np.arange(20), 2),
            "seed": np.tile([0, 1], 20),
            "switches": np.repeat(y, 2),
        }
    )
    with pytest.warns(UserWarning, match="the delta analysis of switches failed on these points"):
        table = analyse(spec, points, runs)
    assert set(table["index"]) == {"delta", "S1"} and table["value"].isna().all()
    assert len(table) == 2 * len(PARAMETERS)


def test_a_value_no_run_takes_is_an_outcome_of_zero_not_a_refusal(tmp_path: Path) -> None:
    """The check before the runs accepts any value a categorical outcome can take; one no
    run took (Belarus never ends with China) was refused after every run, with no
    analysis: it is an outcome of 0 at every point, constant."""
    folder = tmp_path / "d"
    stance_grid(folder, "final_label_belarus=china", ticks=4, replications=2)
    runs = pd.read_parquet(folder / "runs")
    assert (runs["final_label_belarus"] != "china").all()
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["index"]) == {"constant"} and (table["value"] == 0).all()


def test_a_delta_analysis_with_too_few_points_for_its_bins_says_so() -> None:
    """SALib 1.6 returns NaN (it catches its own "Dataset too small for no. bins") at 16
    points: the empty delta and S1 came with no warning; now one names the parameters."""
    spec = DesignSpec(method="lhs", parameters=PARAMETERS, samples=16, outcomes=["switches"])
    points = sample_points(spec)
    y = np.linspace(0.0, 1.0, len(points))
    runs = pd.DataFrame(
        {"point": np.arange(len(points)), "seed": 0, "switches": y[np.argsort(points.iloc[:, 0])]}
    )
    with pytest.warns(
        UserWarning, match="of switches gave no estimate for .*too few points for its bins"
    ):
        table = analyse(spec, points, runs)
    assert table["value"].isna().all()


def test_a_design_by_position_or_by_name_is_one_study() -> None:
    """``region.states.9.autonomy`` and ``region.states.uzbekistan.autonomy`` made two
    studies (two digests, two columns when collected): the configuration names the state,
    and leaves both spellings together as given, for the check to refuse by name."""
    by_position = default_config(
        design=DesignSpec(method="lhs", parameters={"region.states.9.autonomy": [0.1, 0.5]})
    )
    by_name = default_config(
        design=DesignSpec(
            method="lhs", parameters={"region.states.uzbekistan.autonomy": [0.1, 0.5]}
        )
    )
    assert by_position.design.parameters == {"region.states.uzbekistan.autonomy": [0.1, 0.5]}
    from alignment_sim.studies.replications import config_digest

    assert config_digest(by_position) == config_digest(by_name)
    both = {"region.poles.0.budget_bn_usd": [4, 6], "region.poles.russia.budget_bn_usd": [2, 14]}
    assert default_config(design=DesignSpec(method="lhs", parameters=both)).design.parameters == (
        both
    )


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["grid", "lhs"])
def test_each_packaged_designs_outcomes_are_moved_by_its_parameters(
    tmp_path: Path, experiment: str
) -> None:
    """The packaged examples measured outcomes their parameters do not move: the lhs
    design's final_share_west was the same at every point and the grid's switches were
    replicate noise. Each outcome of each packaged design varies between points, mostly
    by the parameters (noise share below 0.6), at the packaged sizes."""
    from helpers import run_cli

    folder = tmp_path / experiment
    result = run_cli([f"experiment={experiment}", f"hydra.run.dir={folder}"], tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(folder / "sensitivity.csv")
    assert "constant" not in set(table["index"])
    noise = table.groupby("outcome")["noise_share"].first()
    assert (noise < 0.6).all(), noise.to_dict()


def test_an_entry_of_a_map_by_pole_is_refused_by_a_design_with_the_way_to_vary_it() -> None:
    """A path names a map entry now (a run, a sweep, a notebook), but a batch's runs share
    one map: a design refuses it before any run, and says a sweep varies it."""
    spec = DesignSpec(method="lhs", parameters={"region.states.belarus.transit.russia": [0.5, 1]})
    with pytest.raises(ConfigError, match=r"cannot vary run by run .* a sweep sets it"):
        check_design(default_config(design=spec))
