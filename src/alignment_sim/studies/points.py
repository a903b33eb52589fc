"""Parameter points: per-run values of named parameters, for designs run in one batch.

A design varies parameters by their config path (``weights.trade``, ``dynamics.stance``,
``region.poles.russia.budget_bn_usd``...). ``with_point_values`` gives the engine a
``RunInputs`` whose varied parameters are arrays over runs, shaped to broadcast in the
kernels; ``config_for_point`` gives the same point as a plain configuration, for the
Mesa model. The two agree run for run, bit for bit (tests/test_design.py), in a calendar
world too: a varied reach, soft-power floor or budget is turned into every calendar year's
values by the world builder's own formula (``world.proximity``, ``world.soft_power_ties``,
``calendar.yearly_budget``). A budget whose every yearly value comes from data alone
(budget rule ``chinese_lending``) cannot vary in a calendar world: refused by name
(``check_paths``, ``with_point_values``; ``calendar_ignores``). ``run_points`` runs many
such runs in chunks on the engine's workers: designs, studies whose runs draw their
parameters from a fit, and forecasts all run through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import numpy as np

from alignment_sim import paths
from alignment_sim.engine.batch import BatchResult, Record, execute, run_chunk
from alignment_sim.errors import ConfigError
from alignment_sim.model.calendar import CONFIGURED_BUDGET_RULES, BudgetSeries, Calendar
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import (
    SECURITY_ONLY_POLE_FIELDS,
    Domain,
    EngineParams,
    SimulationConfig,
    UtilityWeights,
    format_bound,
)
from alignment_sim.model.world import FLOAT, World, proximity, soft_power_ties
from alignment_sim.paths import domain, item_index, parse
from alignment_sim.progress import progress_bar

DYNAMICS_AXES = {
    "stance": 2,
    "switching_cost": 2,
    "economic_switching_cost": 2,
    "credibility_recovery": 1,
    "credibility_prior_tests": 1,
}
"""Dynamics fields that can vary per run, with the trailing axes their values need in the
kernels: (R, 1, 1) against (R, n, options) or (R, poles, N), (R, 1) against (R, B)."""
DOUBLE_DYNAMICS: dict[str, Any] = {"stance": np.float64}
"""Dynamics fields the kernels do arithmetic on before they meet a model array
(``kernels.stance_term``: (1 +- stance) / 2): kept in double precision per run, as a
configuration's float is, so a point's runs equal the Mesa model's."""
POLE_FIELDS = {
    "budget_bn_usd": ("pole", "budget_bn"),
    "credibility": ("pole", "credibility"),
    "regime_support": ("pole", "regime_support"),
    "soft_power": ("pole", "soft_power"),
    "soft_power_fade_per_year": ("pole", "soft_power_fade"),
    "coercion": ("pole", "coercion"),
    "leverage": ("pole", "leverage"),
    "military_weight": ("pole", "military_weight"),
    "conditionality": ("pair", "conditionality"),
    "reach_km": ("pair", "proximity"),
    "soft_power_floor": ("pair", "ties"),
}
"""Pole spec field -> (table, array field) of the compiled world. Most set their value;
``reach_km`` and ``soft_power_floor`` set the pair rows the world builds of them
(``world.proximity``, ``world.soft_power_ties``: the ties of every calendar year), and
in a calendar world ``budget_bn_usd`` sets the budget of every year
(``calendar.yearly_budget``)."""
STATE_FIELDS = {"threat_exposure": "threat_exposure", "autonomy": "autonomy"}


DESIGNABLE = {
    "weights": tuple(f.name for f in dataclasses.fields(UtilityWeights)),
    "dynamics": tuple(DYNAMICS_AXES),
    "decision": ("rationality",),
    "region.poles": tuple(POLE_FIELDS),
    "region.states": tuple(STATE_FIELDS),
}
"""The fields a design may vary, by section (``paths.ParamPath.section``)."""
DESIGN_HELP = (
    "a parameter a design or a fit can vary: weights.<term>, dynamics.<name>, "
    "decision.rationality, region.poles.<pole>.<field> or "
    "region.states.<state>.<field> (<pole>, <state>: a name or an index)"
)


def supported_paths(config: SimulationConfig) -> list[str]:
    """Every parameter path a design may vary, for this configuration's world (by name;
    a list index in place of a name is accepted too)."""
    paths = [
        f"{section}.{name}" for section in ("weights", "dynamics") for name in DESIGNABLE[section]
    ]
    paths.append("decision.rationality")
    paths += [
        f"region.poles.{pole.name}.{f}"
        for pole in config.region.poles
        for f in POLE_FIELDS
        if pole.security or f not in SECURITY_ONLY_POLE_FIELDS
    ]
    paths += [f"region.states.{s}.{f}" for s in config.region.state_names for f in STATE_FIELDS]
    return paths


BUDGET_EXPECTED = (
    "a parameter the runs use (in a calendar world, a budget under the rule "
    f"{' or '.join(repr(r) for r in CONFIGURED_BUDGET_RULES)})"
)


def _budget_from_data(pole: str, rule: str) -> str:
    """Why a calendar world ignores a pole's configured budget (a ConfigError's hint)."""
    return (
        f"In a calendar run {pole}'s budget follows the rule '{rule}' "
        "(region.budget_rules): every year's budget comes from data alone, not from "
        "budget_bn_usd (model/calendar.py, yearly_budget), so a value per run would change "
        "no run. Vary it in a static world, or give the pole a rule of the configured "
        "budget."
    )


def calendar_ignores(world: World, path: str) -> str | None:
    """The budget rule by which ``world``'s calendar takes every year's budget of the pole
    ``path`` names from data alone (not one of ``calendar.CONFIGURED_BUDGET_RULES``), when
    ``path`` is such a budget: a value per run would change no run of ``world``, and
    ``with_point_values`` refuses one. None for any other path or world."""
    parsed = parse(path)
    if world.calendar is None or parsed.field != "budget_bn_usd" or parsed.item is None:
        return None
    budget = world.calendar.budgets[item_index(path, parsed.item, world.poles, "poles")]
    return None if budget.follows_configured else budget.rule


def _designable(config: SimulationConfig, path: str, key: str) -> Domain:
    """The domain of a path a design may vary (ConfigError naming ``key.path`` if none)."""
    hint = (
        f"Fields: poles {sorted(POLE_FIELDS)}; states {sorted(STATE_FIELDS)}; "
        f"dynamics {sorted(DYNAMICS_AXES)}."
    )
    try:
        parsed = parse(path)
        paths.locate(config, path)  # the pole or state exists
    except ConfigError as exc:  # the path's own error: what its part lacks, the closest
        raise ConfigError(f"{key}.{path}", path, exc.expected, exc.hint or hint) from None
    if parsed.key is not None:  # a map entry: the engine's runs share one map
        raise ConfigError(
            f"{key}.{path}",
            path,
            DESIGN_HELP,
            "An entry of a map by pole cannot vary run by run in one batch; a sweep sets it "
            f"job by job ({path}=0.5,0.9 with -m).",
        )
    if parsed.field not in DESIGNABLE.get(parsed.section, ()):
        raise ConfigError(f"{key}.{path}", path, DESIGN_HELP, hint)
    if parsed.section == "region.poles" and parsed.field in SECURITY_ONLY_POLE_FIELDS:
        pole, _ = paths.locate(config, path)
        if not pole.security:
            raise ConfigError(
                f"{key}.{path}",
                path,
                "a parameter the runs use",
                f"{parsed.field} enters only the security choice, and {pole.name} offers no "
                "security (security: false).",
            )
    if parsed.field == "budget_bn_usd" and config.calendar:
        pole, _ = paths.locate(config, path)
        rule = config.region.budget_rules.get(pole.name, "constant")
        if rule not in CONFIGURED_BUDGET_RULES:
            raise ConfigError(
                f"{key}.{path}", path, BUDGET_EXPECTED, _budget_from_data(pole.name, rule)
            )
    found = domain(path)
    assert found is not None, path  # every designable field has a domain
    return found


def check_paths(config: SimulationConfig, names: list[str], key: str = "design.parameters") -> None:
    """Each path a design may vary, and (for those in ``config.design.parameters``) its
    range [low, high] within the parameter's domain, and each named once (a pole or
    state by its name and by its position is one parameter): refused before any run."""
    named: dict[tuple[int, str], str] = {}
    for path in names:
        allowed = _designable(config, path, key)
        owner, attribute = paths.locate(config, path)
        first = named.setdefault((id(owner), attribute), path)
        if first != path:
            raise ConfigError(
                f"{key}.{path}",
                config.design.parameters.get(path, path),
                f"a parameter not named already: {first} is the same one",
            )
        bounds = config.design.parameters.get(path)
        if bounds is None:
            continue
        low, high = (float(b) for b in bounds)
        if not allowed.low <= low < high <= allowed.high:
            raise ConfigError(
                f"{key}.{path}",
                [low, high],
                f"a range within [{format_bound(allowed.low)}, {format_bound(allowed.high)}] "
                f"({allowed.what}), as the parameter itself accepts",
            )


def config_for_point(config: SimulationConfig, values: Mapping[str, float]) -> SimulationConfig:
    """A validated copy of ``config`` with the point's values set (for the Mesa model)."""
    return paths.with_values(config, {path: float(value) for path, value in values.items()})


def _check_column(path: str, column: np.ndarray, allowed: Domain) -> None:
    """Every value of a column finite and inside the domain (the first bad one named)."""
    values = np.asarray(column, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < allowed.low) | (values > allowed.high)
    if bad.any():
        allowed.check(path, float(values[np.argmax(bad)]))


def _column(values: np.ndarray, axes: int, dtype: Any = FLOAT) -> np.ndarray:
    return np.asarray(values, dtype=dtype).reshape((-1,) + (1,) * axes)


def _per_run(tables: dict[str, np.ndarray], base: Any, name: str, runs: int) -> np.ndarray:
    """The per-run copy (R, ...) of the array ``name`` of the table ``base`` in ``tables``,
    made from ``base`` the first time it is asked for."""
    current = tables.get(name)
    if current is None:
        array = getattr(base, name)
        current = tables[name] = np.broadcast_to(array, (runs, *array.shape)).copy()
    return current


def _with_rows(array: np.ndarray, rows: Mapping[int, np.ndarray]) -> np.ndarray:
    """(R, ...) ``array`` repeated over runs, with row b (the first axis of ``array``)
    replaced per run by ``rows[b]`` (R, ...); R from the rows, keeping ``array``'s dtype."""
    runs = len(next(iter(rows.values())))
    per_run = np.broadcast_to(array, (runs, *array.shape)).copy()
    for b, row in rows.items():
        per_run[:, b] = row
    return per_run


def _ties_per_run(
    ties: np.ndarray, basis: np.ndarray, floors: Mapping[int, np.ndarray]
) -> np.ndarray:
    """(R, B, N) ties: a year's ``ties`` (B, N), with the rows of the poles b in ``floors``
    made of their floor per run (R,) and the year's ``basis`` (B, N)."""
    return _with_rows(
        ties, {b: soft_power_ties(floor[:, None], basis[b]) for b, floor in floors.items()}
    )


def _calendar_with_floors(calendar: Calendar, floors: Mapping[int, np.ndarray]) -> Calendar:
    """``calendar`` with every year's ties made of the poles' floors per run (``floors``:
    pole index -> (R,))."""
    pair = tuple(
        {**year, "ties": _ties_per_run(year["ties"], basis, floors)}
        for year, basis in zip(calendar.pair, calendar.soft_power_basis, strict=True)
    )
    return dataclasses.replace(calendar, pair=pair)


def _budgets_per_run(
    budget: np.ndarray,
    k: int,
    series: tuple[BudgetSeries, ...],
    configured: Mapping[int, np.ndarray],
) -> np.ndarray:
    """(R, B) budgets: the k-th calendar year's ``budget`` (B,), with the poles b in
    ``configured`` given the year's budget (``BudgetSeries.budget``) of their configured
    budget per run (R,), float64 as the world builder's, then in the model's float."""
    rows = {b: np.asarray(series[b].budget(k, values)) for b, values in configured.items()}
    return _with_rows(budget, rows)


def _calendar_with_budgets(calendar: Calendar, configured: Mapping[int, np.ndarray]) -> Calendar:
    """``calendar`` with every year's budgets made of the poles' configured budgets per
    run (``configured``: pole index -> (R,))."""
    pole = tuple(
        {**year, "budget_bn": _budgets_per_run(year["budget_bn"], k, calendar.budgets, configured)}
        for k, year in enumerate(calendar.pole)
    )
    return dataclasses.replace(calendar, pole=pole)


def with_point_values(inputs: RunInputs, values: Mapping[str, np.ndarray]) -> RunInputs:
    """``inputs`` with each named parameter an array over runs (one value per run).

    Every value is checked against its parameter's domain first (ConfigError naming the
    path): a point never runs a value the configuration would refuse. In a calendar world
    a pole's budget sets the budget of every year (``calendar.yearly_budget``); one its
    calendar takes from data alone is refused (``calendar_ignores``).
    """
    world = inputs.world
    weights: dict[str, Any] = {}
    dynamics: dict[str, Any] = {}
    tables: dict[str, dict[str, np.ndarray]] = {"state": {}, "pole": {}, "pair": {}}
    floors: dict[int, np.ndarray] = {}
    budgets: dict[int, np.ndarray] = {}
    rationality: Any = inputs.rationality
    for path, column in values.items():
        parsed = parse(path)
        allowed = domain(path)
        if allowed is None or parsed.field not in DESIGNABLE.get(parsed.section, ()):
            raise ConfigError(path, path, DESIGN_HELP)
        _check_column(path, column, allowed)
        if parsed.section == "weights":
            weights[parsed.field] = _column(column, 2)
        elif parsed.section == "dynamics":
            dynamics[parsed.field] = _column(
                column, DYNAMICS_AXES[parsed.field], DOUBLE_DYNAMICS.get(parsed.field, FLOAT)
            )
        elif parsed.section == "decision":
            rationality = _column(column, 2)
        elif parsed.section == "region.poles":
            assert parsed.item is not None
            b = item_index(path, parsed.item, world.poles, "poles")
            nonzero = np.asarray(column, dtype=np.float64) != 0.0
            security_only = parsed.field in SECURITY_ONLY_POLE_FIELDS
            if security_only and not world.space.security[b] and nonzero.any():
                raise ConfigError(
                    path,
                    float(np.asarray(column)[np.argmax(nonzero)]),
                    "0 for a pole that offers no security (security: false)",
                )
            if parsed.field == "soft_power_floor":  # every year's ties: after the loop
                floors[b] = np.asarray(column, dtype=np.float64)
                continue
            if parsed.field == "budget_bn_usd" and world.calendar is not None:
                rule = calendar_ignores(world, path)
                if rule is not None:
                    raise ConfigError(
                        path,
                        float(np.asarray(column)[0]),
                        BUDGET_EXPECTED,
                        _budget_from_data(world.poles[b], rule),
                    )
                budgets[b] = np.asarray(column, dtype=np.float64)  # every year's: after the loop
                continue
            table, name = POLE_FIELDS[parsed.field]
            current = _per_run(tables[table], getattr(world, table), name, len(column))
            if parsed.field == "reach_km":
                current[:, b] = proximity(world.distance_km[b], _column(column, 1, np.float64))
            else:
                current[:, b] = _column(column, current.ndim - 2)
        else:
            assert parsed.item is not None
            i = item_index(path, parsed.item, world.states, "states")
            current = _per_run(
                tables["state"], world.state, STATE_FIELDS[parsed.field], len(column)
            )
            current[:, i] = np.asarray(column, dtype=np.float64)
    calendar = world.calendar
    if floors:
        tables["pair"]["ties"] = _ties_per_run(world.pair.ties, world.soft_power_basis, floors)
        if calendar is not None:
            calendar = _calendar_with_floors(calendar, floors)
    if budgets:  # a calendar world's (a static world's budget is set as its value)
        assert calendar is not None
        tables["pole"]["budget_bn"] = _budgets_per_run(
            world.pole.budget_bn, 0, calendar.budgets, budgets
        )  # the start year's, as ``build_world`` sets it
        calendar = _calendar_with_budgets(calendar, budgets)
    new_world = dataclasses.replace(
        world,
        state=dataclasses.replace(world.state, **tables["state"]),
        pole=dataclasses.replace(world.pole, **tables["pole"]),
        pair=dataclasses.replace(world.pair, **tables["pair"]),
        calendar=calendar,
    )
    return dataclasses.replace(
        inputs,
        world=new_world,
        weights=dataclasses.replace(inputs.weights, **weights),
        dynamics=dataclasses.replace(inputs.dynamics, **dynamics),
        rationality=rationality,
    )


ChunkResult = Callable[[BatchResult, dict[str, np.ndarray], np.ndarray], Any]
"""What a chunk of ``run_points`` hands back instead of its ``BatchResult``: a function of
the result, the chunk's values and its ``tags`` (computed where the chunk ran)."""


def run_point_chunk(
    inputs: RunInputs,
    values: dict[str, np.ndarray],
    seeds: np.ndarray,
    record: Record,
    then: ChunkResult | None,
    tags: np.ndarray,
) -> Any:
    """One chunk of ``run_points``: its runs, each on its own values, then ``then``."""
    result = run_chunk(with_point_values(inputs, values), seeds, record=record)
    return result if then is None else then(result, values, tags)


def run_points(
    inputs: RunInputs,
    values: Mapping[str, np.ndarray],
    seeds: np.ndarray,
    engine: EngineParams,
    record: Record = "minimal",
    then: ChunkResult | None = None,
    tags: np.ndarray | None = None,
    done: Collection[int] = (),
    progress: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Run every run ``seeds[r]`` (R,) with its own parameter values (``values``: config
    path -> (R,), ``with_point_values``), in chunks of ``engine.chunk_size`` runs on the
    engine's workers (``engine.batch.execute``), and yield (chunk number, result) in
    chunk order: the chunk's ``BatchResult``, or ``then(result, values, tags)`` computed
    where it ran (``tags``: any per-run array, e.g. each run's point or draw, handed over
    a chunk at a time). Chunks in ``done`` are left out (a resumed study); ``progress``
    shows a bar of runs."""
    seeds = np.asarray(seeds)
    tags = np.arange(len(seeds)) if tags is None else np.asarray(tags)
    size = engine.chunk_size
    chunks = [c for c in range(-(-len(seeds) // size)) if c not in done]
    tasks = []
    for c in chunks:
        runs = slice(c * size, (c + 1) * size)
        chunk = {path: np.asarray(column)[runs] for path, column in values.items()}
        tasks.append((inputs, chunk, seeds[runs], record, then, tags[runs]))
    todo = sum(len(task[2]) for task in tasks)
    with progress_bar(len(seeds), "run", disable=not progress, initial=len(seeds) - todo) as bar:
        results = execute(run_point_chunk, tasks, engine)
        for c, task, result in zip(chunks, tasks, results, strict=True):
            bar.update(len(task[2]))
            yield c, result
