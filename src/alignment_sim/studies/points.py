"""Parameter points: per-run values of named parameters, for designs run in one batch.

A design varies parameters by their config path (``weights.trade``, ``dynamics.stance``,
``region.poles.russia.budget_bn_usd``...). ``with_point_values`` gives the engine a
``RunInputs`` whose varied parameters are arrays over runs, shaped to broadcast in the
kernels; ``config_for_point`` gives the same point as a plain configuration, for the
Mesa model. The two agree run for run (tests/test_design.py).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import SimulationConfig, UtilityWeights
from alignment_sim.model.world import FLOAT

# Dynamics fields that can vary per run, with the number of trailing axes they need.
DYNAMICS_AXES = {
    "stance": 2,
    "switching_cost": 2,
    "margin_scale": 2,
    "hedge_access": 1,
    "hedge_provocation": 1,
    "credibility_recovery": 1,
    "defection_decay": 1,
}
# Pole spec field -> (table, array field) in the compiled world.
POLE_FIELDS = {
    "budget_bn_usd": ("pole", "budget_bn"),
    "credibility": ("pole", "credibility"),
    "regime_support": ("pole", "regime_support"),
    "soft_power": ("pole", "soft_power"),
    "coercion": ("pole", "coercion"),
    "escalation": ("pole", "escalation"),
    "leverage": ("pole", "leverage"),
    "military_weight": ("pole", "military_weight"),
    "conditionality": ("pair", "conditionality"),
}
STATE_FIELDS = {"threat_exposure": "threat_exposure", "autonomy": "autonomy"}


def supported_paths(config: SimulationConfig) -> list[str]:
    """Every parameter path a design may vary, for this configuration's world."""
    paths = [f"weights.{f.name}" for f in dataclasses.fields(UtilityWeights)]
    paths += [f"dynamics.{name}" for name in DYNAMICS_AXES]
    paths.append("decision.rationality")
    paths += [f"region.poles.{p}.{f}" for p in config.region.pole_names for f in POLE_FIELDS]
    paths += [f"region.states.{s}.{f}" for s in config.region.state_names for f in STATE_FIELDS]
    return paths


def check_paths(config: SimulationConfig, paths: list[str], key: str) -> None:
    known = set(supported_paths(config))
    for path in paths:
        if path not in known:
            raise ConfigError(
                f"{key}.{path}",
                path,
                "a parameter a design can vary: weights.<term>, dynamics.<name>, "
                "decision.rationality, region.poles.<pole>.<field> or "
                "region.states.<state>.<field>",
                f"Fields: poles {sorted(POLE_FIELDS)}; states "
                f"{sorted(STATE_FIELDS)}; dynamics {sorted(DYNAMICS_AXES)}.",
            )


def config_for_point(config: SimulationConfig, values: Mapping[str, float]) -> SimulationConfig:
    """A copy of ``config`` with the point's values set (for the Mesa model)."""
    point = copy.deepcopy(config)
    for path, value in values.items():
        parts = path.split(".")
        if parts[0] in ("weights", "dynamics", "decision"):
            setattr(getattr(point, parts[0]), parts[1], float(value))
        elif parts[:2] == ["region", "poles"]:
            pole = point.region.poles[point.region.pole_names.index(parts[2])]
            setattr(pole, parts[3], float(value))
        else:
            state = point.region.states[point.region.state_names.index(parts[2])]
            setattr(state, parts[3], float(value))
    point.validate()
    return point


def _column(values: np.ndarray, axes: int) -> np.ndarray:
    return np.asarray(values, dtype=FLOAT).reshape((-1,) + (1,) * axes)


def with_point_values(inputs: RunInputs, values: Mapping[str, np.ndarray]) -> RunInputs:
    """``inputs`` with each named parameter an array over runs (one value per run)."""
    world = inputs.world
    weights: dict[str, Any] = {}
    dynamics: dict[str, Any] = {}
    tables: dict[str, dict[str, np.ndarray]] = {"state": {}, "pole": {}, "pair": {}}
    rationality: Any = inputs.rationality
    for path, column in values.items():
        parts = path.split(".")
        if parts[0] == "weights":
            weights[parts[1]] = _column(column, 2)
        elif parts[0] == "dynamics":
            dynamics[parts[1]] = _column(column, DYNAMICS_AXES[parts[1]])
        elif parts[0] == "decision":
            rationality = _column(column, 2)
        elif parts[1] == "poles":
            b = world.poles.index(parts[2])
            table, name = POLE_FIELDS[parts[3]]
            current = tables[table].get(name)
            if current is None:
                base = getattr(getattr(world, table), name)
                current = np.broadcast_to(base, (len(column), *base.shape)).copy()
                tables[table][name] = current
            current[:, b] = _column(column, current.ndim - 2)
        else:
            i = world.states.index(parts[2])
            name = STATE_FIELDS[parts[3]]
            current = tables["state"].get(name)
            if current is None:
                base = getattr(world.state, name)
                current = np.broadcast_to(base, (len(column), *base.shape)).copy()
                tables["state"][name] = current
            current[:, i] = np.asarray(column, dtype=np.float64)
    new_world = dataclasses.replace(
        world,
        state=dataclasses.replace(world.state, **tables["state"]),
        pole=dataclasses.replace(world.pole, **tables["pole"]),
        pair=dataclasses.replace(world.pair, **tables["pair"]),
    )
    return dataclasses.replace(
        inputs,
        world=new_world,
        weights=dataclasses.replace(inputs.weights, **weights),
        dynamics=dataclasses.replace(inputs.dynamics, **dynamics),
        rationality=rationality,
    )
