"""Scenario events: a library of shock kinds (data) compiled into array programs.

An event kind (``data/event_kinds.yaml``) is a list of changes to named parameters of
a pole, a state or a (pole, state) pair. A scenario schedules kinds at set ticks or with
a hazard rate per tick, for a duration or for good; events compose, applied in the order
listed. ``compile_scenario`` checks everything (kind, targets, parameter names, ticks)
before anything runs, and ``apply_events`` gives the parameters in force at a tick.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from alignment_sim.errors import ConfigError, DataError
from alignment_sim.model.params import ScenarioSpec
from alignment_sim.model.world import (
    PairParams,
    PoleParams,
    StateParams,
    World,
    packaged_data_path,
    table_fields,
)

OPS = ("scale", "add", "set")
TARGET_KINDS = ("none", "states", "poles")
TARGETS = "$targets"
NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Change:
    """One parameter change of one event: ``table.param[index] op value``."""

    event: int
    table: str
    param: str
    pole_index: tuple[int, ...]
    state_index: tuple[int, ...]
    op: str
    value: float


@dataclass(frozen=True)
class EventProgram:
    """A compiled scenario: per event its start (or hazard) and duration, and changes."""

    names: tuple[str, ...]
    scheduled_start: NDArray[np.int64]
    hazard: NDArray[np.float64]
    duration: NDArray[np.int64]
    changes: tuple[Change, ...]

    @property
    def n_events(self) -> int:
        return len(self.names)


@cache
def event_library() -> dict[str, dict[str, Any]]:
    """The event kinds shipped with the package, by name."""
    path = packaged_data_path("event_kinds.yaml")
    try:
        with open(path) as handle:
            library = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataError("event library", str(path), "a readable YAML file", str(exc)) from None
    if not isinstance(library, dict):
        raise DataError("event library", str(path), "a mapping of kind names to definitions")
    return library


def _names_for(
    key: str, given: Any, targets: list[str], known: tuple[str, ...], what: str
) -> tuple[int, ...]:
    if given is None or given == "*":
        return tuple(range(len(known)))
    names = targets if given == TARGETS else ([given] if isinstance(given, str) else list(given))
    index = []
    for name in names:
        if name not in known:
            raise ConfigError(key, name, f"a {what} of this region ({', '.join(known)})")
        index.append(known.index(name))
    return tuple(index)


def compile_scenario(
    scenario: ScenarioSpec,
    world: World,
    ticks: int,
    library: dict[str, dict[str, Any]] | None = None,
) -> EventProgram:
    """Check a scenario against the world and the run length, and compile it."""
    kinds = library if library is not None else event_library()
    starts, hazards, durations, names = [], [], [], []
    changes: list[Change] = []
    for e, event in enumerate(scenario.events):
        key = f"scenario.events[{e}]"
        if event.kind not in kinds:
            raise ConfigError(
                f"{key}.kind",
                event.kind,
                f"an event kind from the library ({', '.join(sorted(kinds))})",
            )
        kind = kinds[event.kind]
        if (event.at is None) == (event.hazard is None):
            raise ConfigError(
                f"{key}.at", event.at, "exactly one of 'at' (a tick) and 'hazard' (a rate per tick)"
            )
        if event.at is not None and not (isinstance(event.at, int) and 1 <= event.at <= ticks):
            raise ConfigError(
                f"{key}.at", event.at, f"a tick in [1, {ticks}] (the run has ticks={ticks})"
            )
        if event.hazard is not None and not (0.0 <= event.hazard <= 1.0):
            raise ConfigError(f"{key}.hazard", event.hazard, "a probability per tick in [0, 1]")
        if event.duration is not None and not (
            isinstance(event.duration, int) and event.duration >= 1
        ):
            raise ConfigError(
                f"{key}.duration", event.duration, "a whole number of ticks >= 1, or null for good"
            )
        target_kind = kind.get("targets", "none")
        known = {"states": world.states, "poles": world.poles}.get(target_kind, ())
        if target_kind == "none" and event.targets:
            raise ConfigError(
                f"{key}.targets",
                list(event.targets),
                f"no targets (kind '{event.kind}' takes none)",
            )
        if target_kind != "none" and not event.targets:
            raise ConfigError(
                f"{key}.targets", [], f"a list of {target_kind} for kind '{event.kind}'"
            )
        for t, name in enumerate(event.targets):
            if name not in known:
                raise ConfigError(
                    f"{key}.targets[{t}]",
                    name,
                    f"one of the region's {target_kind} ({', '.join(known)})",
                )
        for c, spec in enumerate(kind.get("changes", [])):
            ckey = f"event kind {event.kind}.changes[{c}]"
            table = spec.get("table")
            if table not in ("state", "pole", "pair"):
                raise DataError(f"{ckey}.table", table, "state, pole or pair")
            if spec.get("param") not in table_fields(table):
                raise DataError(
                    f"{ckey}.param",
                    spec.get("param"),
                    f"a {table} parameter ({', '.join(table_fields(table))})",
                )
            if spec.get("op") not in OPS:
                raise DataError(f"{ckey}.op", spec.get("op"), f"one of {', '.join(OPS)}")
            pole_index = _names_for(
                f"{key}: {ckey}.pole", spec.get("pole"), list(event.targets), world.poles, "pole"
            )
            state_index = _names_for(
                f"{key}: {ckey}.state",
                spec.get("state"),
                list(event.targets),
                world.states,
                "state",
            )
            value = float(spec["value"])
            if spec["op"] == "scale":
                value = 1.0 + event.magnitude * (value - 1.0)
            elif spec["op"] == "add":
                value = event.magnitude * value
            changes.append(
                Change(e, table, spec["param"], pole_index, state_index, spec["op"], value)
            )
        names.append(event.label or event.kind)
        starts.append(event.at if event.at is not None else -1)
        hazards.append(event.hazard if event.hazard is not None else 0.0)
        durations.append(event.duration if event.duration is not None else NEVER)
    return EventProgram(
        names=tuple(names),
        scheduled_start=np.array(starts, dtype=np.int64),
        hazard=np.array(hazards, dtype=np.float64),
        duration=np.array(durations, dtype=np.int64),
        changes=tuple(changes),
    )


def initial_starts(program: EventProgram, batch: int) -> NDArray[np.int64]:
    """Start tick of each event in each replication, (R, E); -1 while not started."""
    return np.broadcast_to(program.scheduled_start, (batch, program.n_events)).copy()


def update_starts(
    starts: NDArray[np.int64], program: EventProgram, tick: int, uniforms: NDArray[np.floating[Any]]
) -> NDArray[np.int64]:
    """Start hazard events that fire at ``tick``: not started and uniform < hazard."""
    fires = (starts < 0) & (program.hazard > 0.0) & (uniforms < program.hazard)
    return np.where(fires, tick, starts)


def active_events(starts: NDArray[np.int64], program: EventProgram, tick: int) -> NDArray[np.bool_]:
    """Which events are in force at ``tick``, (R, E)."""
    return (starts >= 0) & (starts <= tick) & (tick < starts + program.duration)


def apply_events(
    world: World, program: EventProgram, active: NDArray[np.bool_]
) -> tuple[StateParams, PoleParams, PairParams]:
    """The parameters in force, with a leading batch axis on those events touch."""
    tables: dict[str, Any] = {"state": world.state, "pole": world.pole, "pair": world.pair}
    batch = active.shape[0]
    edited: dict[str, dict[str, NDArray[np.float64]]] = {"state": {}, "pole": {}, "pair": {}}
    for change in program.changes:
        current = edited[change.table].get(change.param)
        if current is None:
            base = getattr(tables[change.table], change.param)
            core = base.shape[-2:] if change.table == "pair" else base.shape[-1:]
            current = np.broadcast_to(base, (batch, *core)).copy(order="F")
            edited[change.table][change.param] = current
        if change.table == "pole":
            index: tuple[Any, ...] = (slice(None), list(change.pole_index))
        elif change.table == "state":
            index = (slice(None), list(change.state_index))
        else:
            index = (
                slice(None),
                np.ix_(change.pole_index, change.state_index)[0],
                np.ix_(change.pole_index, change.state_index)[1],
            )
        old = current[index]
        if change.op == "scale":
            new = old * change.value
        elif change.op == "add":
            new = old + change.value
        else:
            new = np.full_like(old, change.value)
        mask = active[:, change.event].reshape((batch,) + (1,) * (old.ndim - 1))
        current[index] = np.where(mask, new, old)
    return (
        replace(world.state, **edited["state"]),
        replace(world.pole, **edited["pole"]),
        replace(world.pair, **edited["pair"]),
    )
