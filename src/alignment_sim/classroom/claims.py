"""A lesson preset's claims and its class game: what they are and how they are checked.

A **claim** is one measurable statement of a lesson's text: in a share of runs, a state
(or several) ends with, is at, or reaches within some ticks an outcome (a record label, a
security choice, an economic choice, or several of each), in one or more of the lesson's
variants, optionally with a lever moved during the run. ``alignment_sim.classroom.lessons``
counts each claim over the lesson's runs, writes the counts into ``numbers.md`` and into
the README's tagged counts, and the tests check each count against its bounds. Claims
compare model runs only: none uses a recorded alignment (the out-of-sample rule).

The **game** block suggests how a class plays the lesson (``alignment_sim.classroom.game``):
which states students take, how many quarters a round lasts, its timer, and events the
teacher may drop in.

Both are checked here as the preset is read (``load_lesson``): a ConfigError names the key,
the value and what was expected. Option and state names are checked against the world
before anything runs (``lessons.resolve``; seats and event targets here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from alignment_sim.errors import ConfigError

CLAIM_KEYS = (
    "id",
    "text",
    "variant",
    "state",
    "label",
    "security",
    "economy",
    "at",
    "within",
    "move",
    "levers",
    "set",
    "at_least",
    "at_most",
)
MOVE_KEYS = ("tick", "levers")
GAME_KEYS = ("seats", "ticks_per_round", "round_seconds", "events")
GAME_EVENT_KEYS = ("round", "kind", "targets", "duration", "magnitude", "note")
END = "end"
DATE = re.compile(r"^(\d{4}) Q([1-4])$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LeverMove:
    """Levers moved after ``tick`` ticks have been played: the new values hold from the
    next tick on, as when a teacher moves them in the app (``ClassroomModel.apply_levers``)."""

    tick: int
    levers: dict[str, float]


@dataclass(frozen=True)
class Claim:
    """A measurable statement of a lesson's text (module docstring).

    variants: compare labels (empty: the preset itself); states: state names; label,
    security, economy: the outcome, each a set of accepted options (empty: any), all of
    which must hold; at: ``"end"``, a tick or a date ``"YYYY Qn"`` at which the outcome
    holds; within: instead of ``at``, the outcome holds at some tick within this many
    ticks after the move (or the start); move: levers moved during the run; levers, set:
    changes from the start on top of the variant (a world the figure does not show);
    at_least, at_most: bounds on the share of (variant, run, state) cases that hold.
    """

    id: str
    states: tuple[str, ...]
    variants: tuple[str, ...] = ()
    text: str = ""
    label: tuple[str, ...] = ()
    security: tuple[str, ...] = ()
    economy: tuple[str, ...] = ()
    at: str | int = END
    within: int | None = None
    move: LeverMove | None = None
    levers: dict[str, float] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    at_least: float | None = None
    at_most: float | None = None

    def bounds_text(self) -> str:
        """The bounds as words, e.g. 'at least 80%'."""
        parts = []
        if self.at_least is not None:
            parts.append(f"at least {100 * self.at_least:.0f}%")
        if self.at_most is not None:
            parts.append(f"at most {100 * self.at_most:.0f}%")
        return " and ".join(parts)

    def holds(self, share: float) -> bool:
        """Whether a measured share keeps within the bounds."""
        low = self.at_least if self.at_least is not None else 0.0
        high = self.at_most if self.at_most is not None else 1.0
        return low - 1e-12 <= share <= high + 1e-12


@dataclass(frozen=True)
class GameEvent:
    """An event the teacher may drop in at the start of ``round`` (1 is the first):
    an event kind of the library (``model.events.event_library``), its target states,
    how many ticks it lasts (None: for good), its magnitude (1: the kind as defined) and a
    note for the teacher (``ClassroomModel.drop_event`` takes the first four)."""

    round: int
    kind: str
    targets: tuple[str, ...] = ()
    duration: int | None = None
    magnitude: float = 1.0
    note: str = ""


@dataclass(frozen=True)
class Game:
    """How a class plays a lesson: suggested seats (states students play; the model plays
    the rest), quarters per round, seconds a round lasts, and suggested events."""

    seats: tuple[str, ...]
    ticks_per_round: int = 4
    round_seconds: int = 60
    events: tuple[GameEvent, ...] = ()


def _names(key: str, value: Any, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """A name or a list of names (ConfigError for anything else or a name not allowed)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise ConfigError(key, value, "a name or a non-empty list of names")
    if allowed is not None:
        for item in items:
            if item not in allowed:
                raise ConfigError(key, item, f"one of {', '.join(allowed)}")
    return tuple(items)


def _whole(key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(key, value, f"a whole number >= {low}")
    return value


def _positive(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(key, value, "a number > 0")
    return float(value)


def _share(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(key, value, "a share between 0 and 1")
    return float(value)


def mapping_of(key: str, value: Any) -> dict[str, Any]:
    """A preset's mapping of names to values (``{}`` for none; ConfigError otherwise)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, value, "a mapping of names to values")
    return {str(k): v for k, v in value.items()}


def _unknown_keys(key: str, entry: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for k in entry:
        if k not in allowed:
            raise ConfigError(f"{key}.{k}", entry[k], f"one of the keys {', '.join(allowed)}")


def _entries(
    key: str, raw: Any, items: str, keys: str, allowed: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entry of a preset's list ``key`` of ``items`` with its own key (``key[i]``),
    checked to be a mapping (with ``keys``, said in the error) of ``allowed`` keys only."""
    if not isinstance(raw, list):
        raise ConfigError(key, raw, f"a list of {items}")
    for i, entry in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(where, entry, f"a mapping with {keys}")
        _unknown_keys(where, entry, allowed)
        yield where, entry


def parse_at(key: str, value: Any) -> str | int:
    """``"end"``, a tick (whole number >= 0) or a date ``"YYYY Qn"``."""
    if value == END or (isinstance(value, str) and DATE.match(value)):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ConfigError(key, value, f"{END!r}, a tick (whole number >= 0) or a date 'YYYY Qn'")


def parse_claims(
    label: str, raw: Any, variant_labels: tuple[str, ...], states: tuple[str, ...]
) -> tuple[Claim, ...]:
    """A preset's ``claims`` list, checked (variant labels and state names too)."""
    if raw is None:
        return ()
    claims: list[Claim] = []
    listed = _entries(
        f"{label}: claims", raw, "claims", "an id, a state and an outcome", CLAIM_KEYS
    )
    for key, entry in listed:
        identifier = entry.get("id")
        if not isinstance(identifier, str) or not IDENTIFIER.match(identifier):
            raise ConfigError(f"{key}.id", identifier, "a name of lower-case letters, digits, _")
        if identifier in {c.id for c in claims}:
            raise ConfigError(f"{key}.id", identifier, "a name no other claim has")
        key = f"{label}: claims[{identifier}]"
        variants = (
            _names(f"{key}.variant", entry["variant"], variant_labels) if "variant" in entry else ()
        )
        outcome = {
            part: _names(f"{key}.{part}", entry[part]) if part in entry else ()
            for part in ("label", "security", "economy")
        }
        if not any(outcome.values()):
            raise ConfigError(key, entry, "an outcome: at least one of label, security, economy")
        if "at" in entry and "within" in entry:
            raise ConfigError(f"{key}.within", entry["within"], "no 'at' beside it (one or other)")
        move = None
        if "move" in entry:
            raw_move = entry["move"]
            if not isinstance(raw_move, dict):
                raise ConfigError(f"{key}.move", raw_move, "a mapping with tick and levers")
            _unknown_keys(f"{key}.move", raw_move, MOVE_KEYS)
            move = LeverMove(
                tick=_whole(f"{key}.move.tick", raw_move.get("tick"), 0),
                levers=mapping_of(f"{key}.move.levers", raw_move.get("levers")),
            )
            if not move.levers:
                raise ConfigError(f"{key}.move.levers", raw_move.get("levers"), "a lever or more")
        claim = Claim(
            id=identifier,
            states=_names(f"{key}.state", entry.get("state"), states),
            variants=variants,
            text=str(entry.get("text") or ""),
            at=parse_at(f"{key}.at", entry.get("at", END)),
            within=_whole(f"{key}.within", entry["within"], 1) if "within" in entry else None,
            move=move,
            levers=mapping_of(f"{key}.levers", entry.get("levers")),
            set=mapping_of(f"{key}.set", entry.get("set")),
            at_least=_share(f"{key}.at_least", entry.get("at_least")),
            at_most=_share(f"{key}.at_most", entry.get("at_most")),
            **outcome,
        )
        if claim.at_least is None and claim.at_most is None:
            raise ConfigError(key, entry, "a bound: at_least, at_most or both")
        if not claim.holds(claim.at_least if claim.at_least is not None else 0.0):
            raise ConfigError(f"{key}.at_most", claim.at_most, "a share >= at_least")
        claims.append(claim)
    return tuple(claims)


def parse_game(
    label: str, raw: Any, states: tuple[str, ...], kinds: tuple[str, ...]
) -> Game | None:
    """A preset's ``game`` block, checked (seats and targets against the region's states,
    event kinds against the library)."""
    if raw is None:
        return None
    key = f"{label}: game"
    if not isinstance(raw, dict):
        raise ConfigError(key, raw, "a mapping with seats (and ticks_per_round, round_seconds)")
    _unknown_keys(key, raw, GAME_KEYS)
    seats = _names(f"{key}.seats", raw.get("seats"), states)
    if len(set(seats)) != len(seats):
        raise ConfigError(f"{key}.seats", list(seats), "each state once")
    events = []
    listed = _entries(
        f"{key}.events", raw.get("events") or [], "events", "round and kind", GAME_EVENT_KEYS
    )
    for where, entry in listed:
        kind = entry.get("kind")
        if kind not in kinds:
            raise ConfigError(f"{where}.kind", kind, f"an event kind ({', '.join(kinds)})")
        events.append(
            GameEvent(
                round=_whole(f"{where}.round", entry.get("round"), 1),
                kind=str(kind),
                targets=(
                    _names(f"{where}.targets", entry["targets"], states)
                    if "targets" in entry
                    else ()
                ),
                duration=(
                    _whole(f"{where}.duration", entry["duration"], 1)
                    if "duration" in entry
                    else None
                ),
                magnitude=_positive(f"{where}.magnitude", entry.get("magnitude", 1.0)),
                note=str(entry.get("note") or ""),
            )
        )
    return Game(
        seats=seats,
        ticks_per_round=_whole(f"{key}.ticks_per_round", raw.get("ticks_per_round", 4), 1),
        round_seconds=_whole(f"{key}.round_seconds", raw.get("round_seconds", 60), 10),
        events=tuple(events),
    )
