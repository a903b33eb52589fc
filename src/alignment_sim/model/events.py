"""Scenario events: a library of shock kinds (data) compiled into array programs.

An event kind (``data/event_kinds.yaml``) is a list of changes to named parameters of
a pole, a state or a (pole, state) pair. A scenario schedules kinds at set ticks, on
calendar dates (``tick_of_date``) or with a hazard rate per tick, for a duration or for
good; events compose, applied in the order listed. ``compile_scenario`` checks everything
(kind, targets, parameter names, ticks) before anything runs, and ``apply_events`` gives
the parameters in force at a tick.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from alignment_sim.errors import ConfigError, DataError
from alignment_sim.model.params import (
    ANY_FINITE,
    Domain,
    EventSpec,
    ScenarioSpec,
    format_bound,
    parse_event_date,
)
from alignment_sim.model.world import (
    PARAM_DOMAINS,
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
MAX_MAGNITUDE = 100.0
"""Largest |magnitude| of any event: a hundred times the calibrated shock is beyond what
the texts describe, and keeps every edited parameter far inside single precision."""


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
    """The event kinds shipped with the package, by name (each checked by ``check_kind``)."""
    path = packaged_data_path("event_kinds.yaml")
    try:
        with open(path) as handle:
            library = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataError("event library", str(path), "a readable YAML file", str(exc)) from None
    if not isinstance(library, dict):
        raise DataError("event library", str(path), "a mapping of kind names to definitions")
    for name, kind in library.items():
        check_kind(name, kind)
    return library


def check_kind(name: str, kind: Any) -> None:
    """A kind's definition: its ``targets`` one of TARGET_KINDS, and each change a known
    table, parameter and op with a finite value (a ``set`` value inside the domain)."""
    key = f"event kind {name}"
    if not isinstance(kind, dict):
        raise DataError(key, kind, "a mapping with targets and changes")
    if kind.get("targets", "none") not in TARGET_KINDS:
        raise DataError(f"{key}.targets", kind.get("targets"), f"one of {', '.join(TARGET_KINDS)}")
    for c, spec in enumerate(kind.get("changes", [])):
        ckey = f"{key}.changes[{c}]"
        table = spec.get("table")
        if table not in PARAM_DOMAINS:
            raise DataError(f"{ckey}.table", table, "state, pole or pair")
        if spec.get("param") not in table_fields(table):
            raise DataError(
                f"{ckey}.param",
                spec.get("param"),
                f"a {table} parameter ({', '.join(table_fields(table))})",
            )
        if spec.get("op") not in OPS:
            raise DataError(f"{ckey}.op", spec.get("op"), f"one of {', '.join(OPS)}")
        value = spec.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DataError(f"{ckey}.value", value, "a number")
        domain = PARAM_DOMAINS[table][spec["param"]]
        if spec["op"] == "set":
            domain.check(f"{ckey}.value", value)
        else:
            ANY_FINITE.check(f"{ckey}.value", value)


def _change_range(op: str, value: float, domain: Domain) -> tuple[float, float]:
    """Magnitudes m for which one change keeps ANY value of ``domain`` (low 0) inside it.

    scale: the factor 1 + m (value - 1) must be >= 0, and <= 1 when the domain is capped
    at 1; add: m * value must be >= 0 (0 when the domain is capped at 1); set: any m.
    """
    low, high = -math.inf, math.inf
    capped = domain.high <= 1.0
    if op == "scale" and value != 1.0:
        edge = 1.0 / abs(value - 1.0)  # where the factor reaches 0
        if value < 1.0:
            high = edge
            low = 0.0 if capped else low
        else:
            low = -edge
            high = 0.0 if capped else high
    elif op == "add" and value != 0.0:
        low, high = (0.0, math.inf) if value > 0 else (-math.inf, 0.0)
        if capped:
            low = high = 0.0
    return low, high


def magnitude_range(kind: dict[str, Any]) -> tuple[tuple[float, str], tuple[float, str]]:
    """The magnitudes a kind accepts, (low, why) and (high, why): every parameter it edits
    stays in its domain (``world.PARAM_DOMAINS``), and |magnitude| <= MAX_MAGNITUDE."""
    limit = f"|magnitude| <= {MAX_MAGNITUDE:g}"
    low, high = (-MAX_MAGNITUDE, limit), (MAX_MAGNITUDE, limit)
    for spec in kind.get("changes", []):
        domain = PARAM_DOMAINS[spec["table"]][spec["param"]]
        change_low, change_high = _change_range(spec["op"], float(spec["value"]), domain)
        why = (
            f"{spec['table']}.{spec['param']} ({spec['op']} {spec['value']}) "
            f"in [{format_bound(domain.low)}, {format_bound(domain.high)}]"
        )
        if change_low > low[0]:
            low = (change_low, why)
        if change_high < high[0]:
            high = (change_high, why)
    return low, high


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


def tick_of_date(when: datetime.date, start_year: int, tick_months: int) -> int:
    """The tick whose months contain ``when``: tick 1 is the first ``tick_months`` months
    from 1 January of ``start_year`` (Jan-Mar with quarters), tick t the months from
    ``world.year_of_tick(t - 1)`` to ``world.year_of_tick(t)``. 0 or less: before the start.
    """
    months_from_start = (when.year - start_year) * 12 + when.month - 1
    return months_from_start // tick_months + 1


def dated_window(
    event: EventSpec, date: str, start_year: int, tick_months: int, ticks: int
) -> tuple[int, int] | None:
    """(start tick, duration in ticks) of an event dated ``date`` in a run of ``ticks``
    ticks of ``tick_months`` months from 1 January of ``start_year`` (a world's ``year``
    and ``tick_months``), or None when no tick of the run falls inside it.

    An event dated after the last tick is dropped. One dated before the start that is
    still in force at tick 1 (for good, or its ``until``/``duration`` reaching past the
    start) applies from tick 1 for what remains of it; otherwise it is dropped.
    """
    first = tick_of_date(parse_event_date("date", date), start_year, tick_months)
    if event.until is not None:
        last = tick_of_date(parse_event_date("until", event.until), start_year, tick_months)
    elif event.duration is not None:
        last = first + event.duration - 1
    else:
        last = NEVER
    if first > ticks or last < 1:
        return None
    start = max(first, 1)
    return start, (NEVER if last == NEVER else last - start + 1)


def compile_scenario(
    scenario: ScenarioSpec,
    world: World,
    ticks: int,
    library: dict[str, dict[str, Any]] | None = None,
) -> EventProgram:
    """Check a scenario against the world and the run length, and compile it.

    Every event is checked, dated ones outside the run included; those are then dropped
    from the program (``dated_window``), so a program may hold fewer events than listed.
    """
    kinds = library if library is not None else event_library()
    starts: list[int] = []
    hazards: list[float] = []
    durations: list[int] = []
    names: list[str] = []
    changes: list[Change] = []
    for e, event in enumerate(scenario.events):
        key = f"scenario.events[{e}]"
        if not isinstance(event, EventSpec):
            raise ConfigError(key, event, "an EventSpec (EventSpec(kind=..., targets=...))")
        if event.kind not in kinds:
            raise ConfigError(
                f"{key}.kind",
                event.kind,
                f"an event kind from the library ({', '.join(sorted(kinds))})",
            )
        kind = kinds[event.kind]
        check_event(event, kind, key, world, ticks)
        event_changes = compile_changes(event, kind, key, world, len(names))
        start, duration = event.at, event.duration if event.duration is not None else NEVER
        if event.date is not None:
            placed = dated_window(event, event.date, world.year, world.tick_months, ticks)
            if placed is None:
                continue  # wholly before the start or after the last tick
            start, duration = placed
        changes.extend(event_changes)
        names.append(event.label or event.kind)
        starts.append(start if start is not None else -1)
        hazards.append(event.hazard if event.hazard is not None else 0.0)
        durations.append(duration)
    return EventProgram(
        names=tuple(names),
        scheduled_start=np.array(starts, dtype=np.int64),
        hazard=np.array(hazards, dtype=np.float64),
        duration=np.array(durations, dtype=np.int64),
        changes=tuple(changes),
    )


def check_event(event: EventSpec, kind: dict[str, Any], key: str, world: World, ticks: int) -> None:
    """ConfigError, naming ``key``'s field, unless the event fits its kind (``kind``, from
    the library), the world and a run of ``ticks``: its placement, tick, hazard, duration,
    targets and magnitude."""
    check_kind(event.kind, kind)
    event.check_placement(key)
    if event.at is not None and not (isinstance(event.at, int) and 1 <= event.at <= ticks):
        raise ConfigError(
            f"{key}.at", event.at, f"a whole tick in [1, {ticks}] (the run has ticks={ticks})"
        )
    if event.hazard is not None and not (0.0 <= event.hazard <= 1.0):
        raise ConfigError(f"{key}.hazard", event.hazard, "a probability per tick in [0, 1]")
    if event.duration is not None and not (isinstance(event.duration, int) and event.duration >= 1):
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
        raise ConfigError(f"{key}.targets", [], f"a list of {target_kind} for kind '{event.kind}'")
    (low, low_why), (high, high_why) = magnitude_range(kind)
    magnitude = event.magnitude
    if (
        isinstance(magnitude, bool)
        or not isinstance(magnitude, int | float)
        or not low <= magnitude <= high
    ):
        why = low_why if isinstance(magnitude, int | float) and magnitude < low else high_why
        raise ConfigError(
            f"{key}.magnitude",
            magnitude,
            f"a finite magnitude in [{low:.4g}, {high:.4g}] for kind '{event.kind}'".replace(
                "e+", "e"
            ),
            f"The range keeps {why}.",
        )
    for t, name in enumerate(event.targets):
        if name not in known:
            raise ConfigError(
                f"{key}.targets[{t}]",
                name,
                f"one of the region's {target_kind} ({', '.join(known)})",
            )


def compile_changes(
    event: EventSpec, kind: dict[str, Any], key: str, world: World, index: int
) -> list[Change]:
    """The parameter changes of a checked event, the ``index``-th of its program: each of
    its kind's changes on its targets' rows, the value scaled by its magnitude (an ``add``
    times it, a ``scale`` moved from 1 by it, a ``set`` as it is)."""
    changes = []
    for c, spec in enumerate(kind.get("changes", [])):
        ckey = f"event kind {event.kind}.changes[{c}]"
        pole_index = _names_for(
            f"{key}: {ckey}.pole", spec.get("pole"), list(event.targets), world.poles, "pole"
        )
        state_index = _names_for(
            f"{key}: {ckey}.state", spec.get("state"), list(event.targets), world.states, "state"
        )
        value = float(spec["value"])
        if spec["op"] == "scale":
            value = 1.0 + event.magnitude * (value - 1.0)
        elif spec["op"] == "add":
            value = event.magnitude * value
        changes.append(
            Change(index, spec["table"], spec["param"], pole_index, state_index, spec["op"], value)
        )
    return changes


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
    world: World, program: EventProgram, active: NDArray[np.bool_], tick: int = 0
) -> tuple[StateParams, PoleParams, PairParams]:
    """The parameters in force during ``tick``: the world's base parameters for the tick
    (``World.params_for_tick``; tick 0 gives the start year's) with the active events
    applied, a leading batch axis on those events touch."""
    state, pole, pair = world.params_for_tick(tick)
    tables: dict[str, Any] = {"state": state, "pole": pole, "pair": pair}
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
        replace(state, **edited["state"]),
        replace(pole, **edited["pole"]),
        replace(pair, **edited["pair"]),
    )
