"""A classroom game (HubNet's idea): students play the states of a ``ClassroomModel``.

Plain Python, no web (``server.py`` serves it). Students join a state's **team** (up to
``team_size`` students a state: a class of 30 shares the region's 11 states). Each round
every student votes for the state's security and economic option before a timer ends;
when every student has voted, the time is up or the teacher advances, the round closes:
each team's choice is set as its state's ``ChooserAgent.directed`` choice and the model
plays ``ticks_per_round`` ticks (the choice holds through them). The model plays every
state nobody joined and every team where nobody voted in time.

**A team's choice** (``team_choice``): each of the two choices, security and economy, is
decided by its own majority of the members' votes; a tie goes to the tied option whose
earliest vote (as it stands: a changed vote counts from its change) came first. A team of
one plays as its student votes.

The model's own pick for a played state (``ChooserAgent.pending`` at the round's first
tick) is logged beside the team's choice (``plays_frame``) and each student's vote
(``votes_frame``), for the debrief. The teacher can pause (the clock stops), advance,
drop an event of the library (``data/event_kinds.yaml``) and move levers; everything is
logged (``events_frame``, ``levers_frame``).

Versions, for cheap polling: ``changes`` counts every change (the teacher's page);
``version_for(state)`` changes only when the world changes (a round closes, an event, a
lever, pause or resume) or that state's team changes (a join, a vote): a student's page
asks "anything new since version V?" and most answers are "no".

**A lesson's game block** (``claims.Game``, the preset's ``game:``) sets the round's
quarters and seconds unless they are given, the states the class plays (``offered``:
students who do not pick a state fill those teams first, and pick among them; once they
are full, the other states take the rest; ``all_states`` offers every state) and the
events it suggests, round by round: the teacher's page shows each in its round with a
"Drop it" button (``drop_suggested``); none is dropped by itself.

**Glossed texts.** Beside each text the game writes for a page, an ``html`` version
(``glossed_texts``): the text HTML-escaped, with the glossary's terms (``glossary.yaml``)
marked for hover and tap. Names students type are never glossed: they stay plain text.

A ``GameError`` is a student's or teacher's mistake (a team full, a forged choice, a
closed game); its message is written for their page. The game goes on.
"""

from __future__ import annotations

import html
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alignment_sim.classroom.claims import GameEvent
from alignment_sim.classroom.classroom import (
    LEVERS,
    MAX_CLASS_TICKS,
    NO_LESSON,
    ClassroomModel,
    Lesson,
    Setup,
    build_config,
    load_lesson,
)
from alignment_sim.classroom.explain import (
    REALIST_RULES,
    SMALL,
    TERM_WORDS,
    label_words,
    option_words,
    pole_words,
)
from alignment_sim.classroom.glossary import glossed_html
from alignment_sim.errors import ConfigError
from alignment_sim.model import kernels
from alignment_sim.model.events import (
    active_events,
    apply_events,
    event_library,
    update_starts,
)
from alignment_sim.model.kernels import (
    ECONOMIC_TERMS,
    ECONOMY,
    REALIST_TERMS,
    SECURITY,
    SECURITY_TERMS,
)
from alignment_sim.model.world import quarter

DEFAULT_TICKS = 40
"""Ticks in a game when ``rounds`` is not given (ten years of quarters)."""
DEFAULT_TICKS_PER_ROUND = 4
"""Quarters a round plays when neither the caller nor the lesson's game block says."""
DEFAULT_ROUND_SECONDS = 60.0
"""Seconds to vote when neither the caller nor the lesson's game block says."""
DEFAULT_TEAM_SIZE = 4
"""Students a state's team holds by default (3 x 11 states >= a class of 30)."""
SUGGESTED_BY = "teacher, as the lesson suggests"
"""The ``by`` of an event dropped from the lesson's suggestions (``events_frame``)."""
NAME_LENGTH = 40
NEIGHBOURS = 3
"""Neighbours a student sees: the states with the nearest capitals."""
REASONS = 2
"""Reasons shown for and against a choice after a round."""

SECURITY_TEXT = {"russia": "With Russia", "west": "With the West", "none": "No alliance"}
ECONOMY_TEXT = {
    "russia": "Russia's union",
    "china": "China",
    "west": "The West",
    "open": "Open to all",
}
SECURITY_HELP = {
    "russia": "join or stay in Russia's alliance (the CSTO): its protection, its bases",
    "west": "lean on the West for security (NATO's partners)",
    "none": "stay out of every alliance",
}
ECONOMY_HELP = {
    "russia": "join or stay in Russia's customs union (the Eurasian Economic Union)",
    "china": "make China your main economic partner (loans, the Belt and Road)",
    "west": "sign the EU's trade agreement and take its conditions",
    "open": "trade with everyone, bound to no one",
}
POLE_COLUMNS = ("Pays you a year", "Your trade", "Threat to you")
"""The headings of the student's table of the poles."""
THREAT_WORDS = ((0.5, "high"), (0.2, "serious"), (0.05, "some"), (-math.inf, "little"))
"""Threat (coercion x military weight x proximity x pressure, kernels.threat_from_poles)
in words, by lower bound."""

PLAY_COLUMNS = (
    "round",
    "tick",
    "date",
    "state",
    "player",
    "chosen",
    "model_choice",
    "answered",
    "timed_out",
    "label",
    "model_label",
)
VOTE_COLUMNS = (
    "round",
    "tick",
    "date",
    "state",
    "player",
    "vote",
    "voted",
    "team_choice",
    "model_choice",
    "team_size",
)
EVENT_COLUMNS = ("round", "tick", "kind", "targets", "by")
EVENT_NAMES = {
    "western_offer": ("the West's offer", "to"),
    "western_conditionality": ("the West's conditions", "on"),
    "western_sanctions": ("Western sanctions", "on"),
    "western_initiative": ("a Western programme", "for"),
    "russia_recession": ("Russia's recession", "for"),
    "russian_economic_shock": ("a Russian economic shock", "for"),
    "russian_domestic_crisis": ("a crisis inside Russia", "for"),
    "russian_initiative": ("a Russian integration project", "for"),
    "chinese_lending": ("China's lending", "to"),
    "chinese_initiative": ("a Chinese programme", "for"),
    "nato_buildup": ("NATO's build-up", "on the border of"),
    "energy_cut_off": ("Russia cuts energy", "to"),
    "trade_embargo": ("Russia's trade embargo", "on"),
}
"""A suggested event's words ('the West's offer to Belarus'): kind -> (name, the word
before its targets); other kinds: their name with '_' as spaces, then 'in'."""
LESSON_TEXT_HEADING = "for students"
"""The lesson README's section shown on the game's pages (level 2 heading, any case)."""
LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?:)[^)]*\)")
LOCAL_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:)[^)]*\)")
LEVER_COLUMNS = ("round", "tick", "lever", "value", "previous", "by")


class GameError(Exception):
    """A player's or the teacher's mistake; the message is one sentence for their page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Seat:
    """A student's place: the state whose team they play in, their name and their token."""

    state: str
    label: str
    name: str
    token: str


@dataclass(frozen=True)
class Vote:
    """A student's vote this round: option indices and its order (smaller: earlier)."""

    security: int
    economy: int
    order: int


BREAK = "<br>"
"""Joins texts glossed together (``html.escape`` never writes it, nor does ``glossed_html``)."""


def glossed_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` (plain, never a name a student typed) as HTML: escaped, with the first use
    of each glossary term among them all marked (``glossary.glossed_html``) for hover and tap."""
    if not texts:
        return []
    return glossed_html(BREAK.join(html.escape(text) for text in texts)).split(BREAK)


def choice_text(dimension: str, option: str) -> str:
    """An option as a button says it ('With Russia', "Russia's union")."""
    words = SECURITY_TEXT if dimension == SECURITY else ECONOMY_TEXT
    return words.get(option, option_words(dimension, option))


def profile_words(profile: str) -> str:
    """A profile 'russia/open' in words: 'With Russia; Open to all'."""
    security, economy = profile.split("/")
    return f"{choice_text(SECURITY, security)}; {choice_text(ECONOMY, economy)}"


SHORT_WORDS = {SECURITY: {"none": "no alliance"}, ECONOMY: {"open": "open to all"}}
"""The outside options in a table's words; a pole's option is the pole (``pole_words``)."""


def short_option(dimension: str, option: str) -> str:
    """One choice's option in a table's words: 'no alliance', 'Russia', 'open to all'."""
    return SHORT_WORDS[dimension].get(option, pole_words(option))


def short_words(profile: str) -> str:
    """A profile in a table's words: 'Security: Russia · Economy: China'."""
    security, economy = profile.split("/")
    return (
        f"Security: {short_option(SECURITY, security)} · Economy: {short_option(ECONOMY, economy)}"
    )


def change_words(before: str, after: str) -> str:
    """What a move from profile ``before`` to ``after`` changes, in a table's words:
    'security: no alliance -> Russia' (each choice that changed, joined by '; ')."""
    parts = [
        f"{dimension}: {short_option(dimension, old)} -> {short_option(dimension, new)}"
        for dimension, old, new in zip(
            (SECURITY, ECONOMY), before.split("/"), after.split("/"), strict=True
        )
        if old != new
    ]
    return "; ".join(parts) or "no change"


def event_words(event: Mapping[str, Any], label: Callable[[str], str]) -> str:
    """A dropped event in words: 'colour revolution in Georgia' (``label``: a state's name)."""
    targets = [t for t in str(event["targets"]).split(",") if t]
    where = f" in {', '.join(label(t) for t in targets)}" if targets else ""
    return f"{str(event['kind']).replace('_', ' ')}{where}"


def last_words(row: Mapping[str, Any]) -> str:
    """The teacher's line for a state's last round: the team's choice and who made it."""
    chosen = short_words(row["chosen"])
    if row["timed_out"]:
        return f"{chosen} (nobody answered in time: the model played)"
    if row["player"] == "model":
        return f"{chosen} (the model)"
    if row["chosen"] == row["model_choice"]:
        return f"{chosen} (the model agreed)"
    return f"{chosen} (the model: {short_words(row['model_choice'])})"


def suggestion_words(event: GameEvent, label: Callable[[str], str]) -> str:
    """A suggested event in words: "the West's offer to Belarus, for 8 quarters"."""
    name, before = EVENT_NAMES.get(event.kind, (event.kind.replace("_", " "), "in"))
    where = f" {before} {', '.join(label(t) for t in event.targets)}" if event.targets else ""
    strength = f" (at {event.magnitude:g} times its usual strength)" if event.magnitude != 1 else ""
    lasting = f", for {event.duration} quarters" if event.duration else ", for good"
    return f"{name}{where}{strength}{lasting}"


def lesson_section(lesson: Lesson, heading: str) -> str:
    """The markdown of a level-2 section of the lesson's README (''if none), without its
    heading and without local images and links (nothing to show them on the game's pages)."""
    path = lesson.folder / "README.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines, keep = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = line[3:].strip().lower() == heading
            continue
        if keep:
            lines.append(line)
    return LOCAL_LINK.sub(r"\1", LOCAL_IMAGE.sub("", "\n".join(lines))).strip()


def lesson_info(lesson: Lesson | None) -> dict[str, str]:
    """What the game's pages show of the lesson: its title, its one-line summary and its
    "For students" text as markdown and as HTML (the lesson author's own text)."""
    if lesson is None:
        return {"title": "Free play", "summary": "", "for_students": "", "for_students_html": ""}
    import markdown

    source = lesson_section(lesson, LESSON_TEXT_HEADING)
    return {
        "title": lesson.title,
        "summary": lesson.summary,
        "for_students": source,
        "for_students_html": glossed_html(markdown.markdown(source)) if source else "",
    }


def threat_words(value: float) -> str:
    return next(word for low, word in THREAT_WORDS if value >= low)


def nearest_states(lat: np.ndarray, lon: np.ndarray, count: int) -> list[list[int]]:
    """For each state, the ``count`` states with the nearest capitals (great circle)."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_angle = np.sin(phi)[:, None] * np.sin(phi)[None] + np.cos(phi)[:, None] * np.cos(phi)[
        None
    ] * np.cos(lam[:, None] - lam[None])
    angle = np.arccos(np.clip(cos_angle, -1.0, 1.0))
    np.fill_diagonal(angle, np.inf)
    return [list(np.argsort(row, kind="stable")[:count]) for row in angle]


class GameSession:
    """A game over one ``ClassroomModel``: teams, rounds, votes and the logs.

    Args:
        lesson: a lesson name (its scenario, rule, levers and game block) or ``"none"``.
        seed: the model's seed.
        ticks_per_round: ticks (quarters) played per round; a choice holds through them
            (None: the lesson's game block, else ``DEFAULT_TICKS_PER_ROUND``).
        round_seconds: time to vote, seconds (None: the lesson's, else
            ``DEFAULT_ROUND_SECONDS``).
        rounds: rounds in the game (default: ``DEFAULT_TICKS`` ticks' worth).
        team_size: students a state's team holds (1: one student a state).
        all_states: offer every state to the class, not only the lesson's seats.
        clock: seconds, monotonic (tests pass a fake one).
        paused: start paused (the clock waits until ``resume``: time for the class to join).
        lessons_dir: the lessons folder (default: ``classroom.lessons_dir``).

    Raises ConfigError for a bad lesson, seed, team size or round setting, before anything
    runs. Every public method is thread-safe (the server calls them from several threads).
    """

    def __init__(
        self,
        lesson: str = NO_LESSON,
        seed: int = 0,
        ticks_per_round: int | None = None,
        round_seconds: float | None = None,
        rounds: int | None = None,
        team_size: int = DEFAULT_TEAM_SIZE,
        clock: Callable[[], float] = time.monotonic,
        paused: bool = False,
        lessons_dir: str | None = None,
        all_states: bool = False,
    ) -> None:
        self.lesson = (
            load_lesson(lesson, lessons_dir)
            if isinstance(lesson, str) and lesson not in ("", NO_LESSON)
            else None
        )
        block = self.lesson.game if self.lesson else None
        if ticks_per_round is None:
            ticks_per_round = block.ticks_per_round if block else DEFAULT_TICKS_PER_ROUND
        if round_seconds is None:
            round_seconds = block.round_seconds if block else DEFAULT_ROUND_SECONDS
        if not isinstance(all_states, bool):
            raise ConfigError("all_states", all_states, "True or False")
        for key, value in (("ticks_per_round", ticks_per_round), ("team_size", team_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(key, value, "a whole number >= 1")
        if ticks_per_round > MAX_CLASS_TICKS:
            raise ConfigError(
                "ticks_per_round", ticks_per_round, f"a whole number 1-{MAX_CLASS_TICKS}"
            )
        if (
            isinstance(round_seconds, bool)
            or not isinstance(round_seconds, int | float)
            or not math.isfinite(round_seconds)
            or round_seconds <= 0
        ):
            raise ConfigError("round_seconds", round_seconds, "a number of seconds > 0")
        if rounds is not None and (
            isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1
        ):
            raise ConfigError("rounds", rounds, "a whole number >= 1, or None")
        if rounds is None:
            rounds = max(DEFAULT_TICKS // ticks_per_round, 1)
        ticks = rounds * ticks_per_round
        if ticks > MAX_CLASS_TICKS:  # the model's own message would name its ticks
            raise ConfigError(
                "rounds",
                rounds,
                f"rounds x ticks_per_round ({ticks_per_round}) at most {MAX_CLASS_TICKS} "
                "quarters (100 years)",
                f"At most {MAX_CLASS_TICKS // ticks_per_round} rounds of {ticks_per_round}.",
            )
        setup = Setup(lesson=lesson, seed=seed, ticks=ticks, lessons_dir=lessons_dir)
        build_config(setup)  # a ConfigError here names the bad value
        self.model = ClassroomModel(
            lesson=lesson, seed=seed, ticks=ticks, lessons_dir=lessons_dir, as_message=True
        )
        self.ticks_per_round = ticks_per_round
        self.round_seconds = float(round_seconds)
        self.rounds = rounds
        self.team_size = team_size
        self.clock = clock
        self.lock = threading.RLock()
        self.teacher_key = secrets.token_urlsafe(12)
        self.join_url = ""
        """The address students open (set by the server once it listens)."""
        self.round = 1
        self.paused = paused
        self.closed = False
        self.left_when_paused = self.round_seconds
        self.deadline = clock() + self.round_seconds
        self.players: dict[str, Seat] = {}
        """Every student by token, in the order they joined."""
        self.teams: dict[str, list[str]] = {state: [] for state in self.model.world.states}
        """Each state's members' tokens, in the order they joined."""
        self.all_states = block is None or all_states
        self.offered: tuple[str, ...] = (
            block.seats if block is not None and not all_states else self.model.world.states
        )
        """The states the class plays (the lesson's seats, or every state), in order."""
        self.suggested: tuple[GameEvent, ...] = block.events if block else ()
        """The events the lesson suggests, each dropped only by the teacher."""
        self.suggested_dropped: dict[int, int] = {}
        """The round each suggested event was dropped in, by its index in ``suggested``."""
        self.info = lesson_info(self.lesson)
        """The lesson's title and "For students" text (``lesson_info``)."""
        self.votes: dict[str, Vote] = {}
        """This round's votes by token."""
        self._vote_order = 0
        self.plays: list[dict[str, Any]] = []
        self.vote_log: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.lever_changes: list[dict[str, Any]] = []
        world = self.model.world
        self.neighbours = nearest_states(world.state_lat, world.state_lon, NEIGHBOURS)
        self.changes = 0
        """Counts every change a page shows (a round closed, a vote, an event...)."""
        self.world_version = 0
        """``changes`` at the last change every student sees (a round, an event, a lever,
        pause or resume); the map and the situations are redrawn when it moves."""
        self.team_version: dict[str, int] = dict.fromkeys(world.states, 0)
        """``changes`` at the last join or vote in each state's team."""
        self.listeners: list[Callable[[str | None], None]] = []
        """Called after every change with the state whose team changed (None: the world),
        under the lock: keep them quick."""
        self._situations: dict[tuple[str, int], dict[str, Any]] = {}
        self._teacher: tuple[int, dict[str, Any]] | None = None

    def _changed(self, state: str | None = None) -> None:
        """Count a change: of the world (``state`` None) or of one state's team."""
        self.changes += 1
        if state is None:
            self.world_version = self.changes
        else:
            self.team_version[state] = self.changes
        for listener in self.listeners:
            listener(state)

    def version_for(self, state: str) -> int:
        """The version a student of ``state`` sees: it moves when the world or the team does."""
        with self.lock:
            return max(self.world_version, self.team_version[state])

    # --- seats ---------------------------------------------------------------------------

    @property
    def states(self) -> tuple[str, ...]:
        return self.model.world.states

    def _label(self, state: str) -> str:
        return self.model.world.state_labels[self.states.index(state)]

    def _find_state(self, state: str) -> str:
        key = state.strip().lower().replace(" ", "_")
        for name, label in zip(self.states, self.model.world.state_labels, strict=True):
            if key in (name, label.lower().replace(" ", "_")):
                return name
        raise GameError(
            f"There is no state called '{state[:40]}' here. Pick one of: "
            + ", ".join(self.model.world.state_labels)
            + "."
        )

    def members(self, state: str) -> list[Seat]:
        """The students of a state's team, in the order they joined."""
        with self.lock:
            return [self.players[token] for token in self.teams[state]]

    def free_states(self) -> list[str]:
        """States a student may join, the emptiest team first (then in the lesson's or the
        region's order): the offered states with room; once they are all full, the others
        with room (a class larger than the lesson's seats still plays)."""
        with self.lock:
            room = [s for s in self.offered if len(self.teams[s]) < self.team_size]
            if not room:
                room = [s for s in self.states if len(self.teams[s]) < self.team_size]
            return sorted(room, key=lambda s: (len(self.teams[s]), self._offer_order(s)))

    def join_choices(self) -> list[dict[str, Any]]:
        """The states the join page lists, in order: the offered ones (full or not) and,
        once they are all full, the others; each with its team's names and room."""
        with self.lock:
            free = set(self.free_states())
            overflow = not free & set(self.offered)
            listed = [s for s in self.states if overflow or s in self.offered]
            return [
                {
                    "state": s,
                    "label": self._label(s),
                    "players": [seat.name for seat in self.members(s)],
                    "free": s in free,
                }
                for s in sorted(listed, key=self._offer_order)
            ]

    def _offer_order(self, state: str) -> int:
        """The lesson's seats first, in their order; then the region's order."""
        if state in self.offered:
            return self.offered.index(state)
        return len(self.offered) + self.states.index(state)

    def join(self, name: str, state: str | None = None) -> Seat:
        """Join ``state``'s team (a name or label), or the emptiest team if None."""
        with self.lock:
            if self.closed:
                raise GameError("This game has ended: no new players. Ask your teacher.")
            if not isinstance(name, str) or not name.strip():
                raise GameError("Type your name first.")
            name = " ".join(name.split())
            if len(name) > NAME_LENGTH:
                raise GameError(f"Your name is too long: {NAME_LENGTH} letters at most.")
            if any(seat.name.casefold() == name.casefold() for seat in self.players.values()):
                raise GameError(
                    f"Someone called {name} has already joined: add an initial to your name."
                )
            if state is None or (isinstance(state, str) and not state.strip()):
                free = self.free_states()
                if not free:
                    raise GameError(
                        f"Every state is full ({self.team_size} players each). "
                        "Ask your teacher to make the teams bigger."
                    )
                chosen = free[0]
            elif not isinstance(state, str):
                raise GameError("Pick a state from the list.")
            else:
                chosen = self._find_state(state)
                if len(self.teams[chosen]) >= self.team_size:
                    names = ", ".join(seat.name for seat in self.members(chosen))
                    raise GameError(
                        f"{self._label(chosen)}'s team is full ({names}). Pick another state."
                    )
                if chosen not in self.free_states():
                    raise GameError(
                        "In this lesson the class plays "
                        + ", ".join(self._label(s) for s in self.offered)
                        + f"; the model plays {self._label(chosen)}. Pick one of them."
                    )
            seat = Seat(chosen, self._label(chosen), name, secrets.token_urlsafe(16))
            self.players[seat.token] = seat
            self.teams[chosen].append(seat.token)
            self._changed(chosen)
            return seat

    def rejoin(self, token: str) -> Seat:
        """The seat of a token (a reloaded page), or GameError (status 404)."""
        with self.lock:
            seat = self.players.get(token) if isinstance(token, str) else None
            if seat is None:
                raise GameError(
                    "This game does not know your seat (it may have been restarted). Join again.",
                    status=404,
                )
            return seat

    def submit(self, token: str, security: str, economy: str) -> dict[str, Any]:
        """A student's vote for this round (a second vote replaces the first)."""
        with self.lock:
            seat = self.rejoin(token)
            if self.closed:
                raise GameError("The game has ended: your choice was not counted.")
            space = self.model.world.space
            if security not in space.security_options:
                raise GameError(
                    f"'{str(security)[:40]}' is not a security choice. Choose one of: "
                    + ", ".join(choice_text(SECURITY, o) for o in space.security_options)
                    + "."
                )
            if economy not in space.economic_options:
                raise GameError(
                    f"'{str(economy)[:40]}' is not an economic choice. Choose one of: "
                    + ", ".join(choice_text(ECONOMY, o) for o in space.economic_options)
                    + "."
                )
            self._vote_order += 1
            self.votes[token] = Vote(
                space.security_options.index(security),
                space.economic_options.index(economy),
                self._vote_order,
            )
            self._changed(seat.state)
            return {
                "round": self.round,
                "security": security,
                "economy": economy,
                "text": f"{choice_text(SECURITY, security)}; {choice_text(ECONOMY, economy)}",
            }

    def team_choice(self, state: str) -> tuple[int, int] | None:
        """The team's choice this round as option indices (security, economy), None if
        nobody voted: each choice by its members' majority, a tie to the earliest vote."""
        with self.lock:
            votes = [self.votes[t] for t in self.teams[state] if t in self.votes]
            if not votes:
                return None

            def majority(part: str) -> int:
                count: dict[int, int] = {}
                first: dict[int, int] = {}
                for vote in votes:
                    option = getattr(vote, part)
                    count[option] = count.get(option, 0) + 1
                    first[option] = min(first.get(option, vote.order), vote.order)
                return min(count, key=lambda option: (-count[option], first[option]))

            return majority("security"), majority("economy")

    @property
    def answers(self) -> dict[str, tuple[int, int]]:
        """Each team's choice so far this round, by state (teams with a vote only)."""
        with self.lock:
            return {
                state: choice
                for state in self.states
                if (choice := self.team_choice(state)) is not None
            }

    # --- the clock and the rounds ------------------------------------------------------------

    def seconds_left(self) -> float | None:
        """Seconds until the round closes by itself (None when paused or closed)."""
        with self.lock:
            if self.closed or self.paused:
                return None
            return max(self.deadline - self.clock(), 0.0)

    def pause(self) -> None:
        with self.lock:
            if not self.paused and not self.closed:
                self.left_when_paused = max(self.deadline - self.clock(), 0.0)
                self.paused = True
                self._changed()

    def resume(self) -> None:
        with self.lock:
            if self.paused and not self.closed:
                self.deadline = self.clock() + self.left_when_paused
                self.paused = False
                self._changed()

    def end(self) -> None:
        """End the game now (no more rounds; the logs stay for the debrief)."""
        with self.lock:
            if not self.closed:
                self.closed = True
                for chooser in self.model.choosers:
                    chooser.directed = None
                self._changed()

    def due(self) -> bool:
        """Whether the round should close: every student voted, or time is up."""
        with self.lock:
            if self.closed or self.paused:
                return False
            everyone = bool(self.players) and all(t in self.votes for t in self.players)
            return everyone or self.clock() >= self.deadline

    def tick_if_due(self) -> bool:
        """Close the round if it is due (the server calls this about twice a second)."""
        with self.lock:
            if not self.due():
                return False
            self._close_round()
            return True

    def advance(self) -> None:
        """Close the round now (the teacher's button); teams where nobody voted are
        played by the model and count as timed out."""
        with self.lock:
            if self.closed:
                raise GameError("The game has ended.")
            self._close_round()

    def _close_round(self) -> None:
        model, space = self.model, self.model.world.space
        first_tick = model.tick + 1
        claimed = {}
        for chooser in model.choosers:
            choice = self.team_choice(chooser.name)
            chooser.directed = choice
            claimed[chooser.name] = choice
        own: dict[str, int] = {}
        for k in range(self.ticks_per_round):
            if model.tick >= model.config.ticks:
                break
            model.step()
            if k == 0:
                for chooser in model.choosers:
                    security, economy = chooser.pending
                    own[chooser.name] = security * space.n_economy + economy
        played = model.tick >= first_tick
        for chooser in model.choosers:
            chooser.directed = None
        if played:
            self._log_round(first_tick, claimed, own)
        self.votes = {}
        if self.round >= self.rounds or model.tick >= model.config.ticks:
            self.closed = True
        else:
            self.round += 1
            self.left_when_paused = self.round_seconds
            self.deadline = self.clock() + self.round_seconds
        self._changed()

    def _log_round(
        self, first_tick: int, claimed: dict[str, tuple[int, int] | None], own: dict[str, int]
    ) -> None:
        """One play row per state and one vote row per student for the round just played."""
        space, labelling = self.model.world.space, self.model.world.labelling
        date = quarter(self.model.world.year_of_tick(first_tick))
        profiles = self.model.trajectory.alignment[0, first_tick]
        for i, state in enumerate(self.states):
            team = self.members(state)
            answered = claimed[state] is not None
            chosen = int(profiles[i])
            self.plays.append(
                {
                    "round": self.round,
                    "tick": first_tick,
                    "date": date,
                    "state": state,
                    "player": ", ".join(seat.name for seat in team) or "model",
                    "chosen": space.profiles[chosen],
                    "model_choice": space.profiles[own[state]],
                    "answered": answered,
                    "timed_out": bool(team) and not answered,
                    "label": labelling.label(i, chosen),
                    "model_label": labelling.label(i, own[state]),
                }
            )
            for seat in team:
                vote = self.votes.get(seat.token)
                self.vote_log.append(
                    {
                        "round": self.round,
                        "tick": first_tick,
                        "date": date,
                        "state": state,
                        "player": seat.name,
                        "vote": (
                            space.profiles[vote.security * space.n_economy + vote.economy]
                            if vote
                            else ""
                        ),
                        "voted": vote is not None,
                        "team_choice": space.profiles[chosen],
                        "model_choice": space.profiles[own[state]],
                        "team_size": len(team),
                    }
                )

    # --- the teacher's moves -----------------------------------------------------------------

    def drop_event(
        self,
        kind: str,
        targets: Sequence[str] = (),
        by: str = "teacher",
        duration: int | None = None,
        magnitude: float = 1.0,
    ) -> dict[str, Any]:
        """Drop an event (``data/event_kinds.yaml``), in force from the next tick, for
        ``duration`` ticks (None: for good), at ``magnitude`` times its strength."""
        with self.lock:
            if self.closed:
                raise GameError("The game has ended.")
            library = event_library()
            if not isinstance(kind, str) or kind not in library:
                raise GameError(
                    f"'{str(kind)[:40]}' is not an event. Choose one of: "
                    + ", ".join(sorted(library))
                    + "."
                )
            if isinstance(targets, str) or not all(isinstance(t, str) for t in targets):
                raise GameError("Targets must be a list of names.")
            wanted = library[kind].get("targets", "none")
            names = [self._find_state(t) if wanted == "states" else t for t in targets]
            if wanted == "states" and not names:
                raise GameError(f"{kind} needs at least one state as its target.")
            if not self.model.drop_event(
                kind, tuple(names), duration=duration, magnitude=magnitude
            ):
                raise GameError(self.model.message or "The event was not dropped.")
            row = {
                "round": self.round,
                "tick": self.model.tick + 1,
                "kind": kind,
                "targets": ",".join(names),
                "by": by,
            }
            self.events.append(row)
            self._changed()
            return row

    def drop_suggested(self, index: int) -> dict[str, Any]:
        """Drop the lesson's suggested event number ``index`` (its place in ``suggested``,
        from 0) as the lesson gives it: the teacher's "Drop it" button. Its row in
        ``events_frame`` says ``by`` ``SUGGESTED_BY``."""
        with self.lock:
            if (
                isinstance(index, bool)
                or not isinstance(index, int)
                or not 0 <= index < len(self.suggested)
            ):
                raise GameError("This lesson suggests no such event; reload the page.")
            if index in self.suggested_dropped:
                raise GameError(
                    f"That event was already dropped in round {self.suggested_dropped[index]}."
                )
            event = self.suggested[index]
            row = self.drop_event(
                event.kind,
                event.targets,
                by=SUGGESTED_BY,
                duration=event.duration,
                magnitude=event.magnitude,
            )
            self.suggested_dropped[index] = self.round
            return row

    def suggestions(self) -> list[dict[str, Any]]:
        """The lesson's suggested events as the teacher's page lists them: each with its
        ``status`` (now: its round; later; missed: its round passed; dropped), whether it
        can be dropped now, and a line of words ("Suggested now: the West's offer to
        Belarus, for 8 quarters — <note>")."""
        with self.lock:
            rows = []
            for index, event in enumerate(self.suggested):
                what = suggestion_words(event, self._label)
                note = f" — {event.note}" if event.note else ""
                if index in self.suggested_dropped:
                    status = "dropped"
                    text = f"Dropped in round {self.suggested_dropped[index]}: {what}"
                elif event.round == self.round and not self.closed:
                    status, text = "now", f"Suggested now: {what}{note}"
                elif event.round > self.round and not self.closed:
                    status, text = "later", f"Suggested for round {event.round}: {what}{note}"
                else:
                    status = "missed"
                    text = f"Suggested for round {event.round} (not dropped): {what}{note}"
                rows.append(
                    {
                        "id": index,
                        "round": event.round,
                        "kind": event.kind,
                        "status": status,
                        "droppable": not self.closed and status in ("now", "missed"),
                        "text": text,
                    }
                )
            return rows

    def set_levers(self, values: Mapping[str, Any], by: str = "teacher") -> list[dict[str, Any]]:
        """Move levers by name (``classroom.LEVERS``), in force from the next tick."""
        with self.lock:
            if self.closed:
                raise GameError("The game has ended.")
            if not isinstance(values, Mapping) or not values:
                raise GameError("Give at least one lever and its value.")
            before = self.model.levers()
            if not self.model.apply_levers(dict(values)):
                raise GameError(self.model.message or "The lever change was not applied.")
            after = self.model.levers()
            rows = [
                {
                    "round": self.round,
                    "tick": self.model.tick + 1,
                    "lever": name,
                    "value": after[name],
                    "previous": before.get(name, math.nan),
                    "by": by,
                }
                for name in values
            ]
            self.lever_changes.extend(rows)
            self._changed()
            return rows

    # --- what pages show ---------------------------------------------------------------------

    def date(self) -> str:
        """Where the world stands, as a quarter ('2015 Q1' before the first tick)."""
        return quarter(self.model.world.year_of_tick(self.model.tick))

    def _next_tick_view(self) -> tuple[np.ndarray, np.ndarray, tuple[Any, Any, Any]]:
        """Threat (B, N) and offers (B, N, US$ bn a year) the next tick will start from,
        and the parameters in force then: what a state decides on (computed, nothing of
        the model changes)."""
        model = self.model
        inputs, world = model.inputs, model.world
        tick = min(model.tick + 1, model.config.ticks)
        starts = update_starts(
            model.starts, inputs.program, tick, model.streams.hazards[tick - 1][None]
        )
        params = apply_events(
            world, inputs.program, active_events(starts, inputs.program, tick), tick
        )
        _, pole, pair = params
        members = kernels.pole_members(
            model.security_vector(), model.economy_vector(), world.security_poles, world.n_poles
        )
        every = slice(None)
        threat = kernels.threat_from_poles(pole, pair, every)
        offers, _ = kernels.spending(pole, pair, members, model.margins, inputs.rationality, every)
        shape = (world.n_poles, world.n_states)
        return (
            np.asarray(threat).reshape(-1, *shape)[0],
            np.asarray(offers).reshape(-1, *shape)[0],
            params,
        )

    def _why(self, state: str, tick: int, chosen: str, own: str) -> list[str]:
        """Why, at ``tick``, the model's own pick ``own`` beat ``chosen`` (both profiles)
        in each choice, or, where they agree, why it beat the next best: the terms with the
        largest lead (recorded in the trajectory; words from ``explain.TERM_WORDS``)."""
        model, space = self.model, self.model.world.space
        i = self.states.index(state)
        realist = model.config.decision.rule in REALIST_RULES
        lines = []
        for dimension, part, names, recorded in (
            (SECURITY, 0, SECURITY_TERMS, model.trajectory.security_terms),
            (ECONOMY, 1, ECONOMIC_TERMS, model.trajectory.economy_terms),
        ):
            options = space.security_options if dimension == SECURITY else space.economic_options
            table = np.asarray(recorded[0, tick - 1, i])  # options x terms
            kept = [
                n
                for n, t in enumerate(names)
                if dimension == ECONOMY or not realist or t in REALIST_TERMS
            ]
            mine = options.index(chosen.split("/")[part])
            theirs = options.index(own.split("/")[part])
            if mine == theirs:
                totals = table[:, kept].sum(axis=1)
                others = [k for k in range(len(options)) if k != theirs]
                rival = max(others, key=lambda k: totals[k])
            else:
                rival = mine
            gap = table[theirs, kept] - table[rival, kept]
            order = np.argsort(-gap, kind="stable")
            reasons = [TERM_WORDS[names[kept[n]]] for n in order[:REASONS] if gap[n] > SMALL]
            why = " and ".join(reasons) or "a coin toss (the options were close)"
            pick = choice_text(dimension, options[theirs])
            other = choice_text(dimension, options[rival])
            if mine == theirs:
                lines.append(f"{pick} rather than {other}: mostly {why}.")
            else:
                lines.append(f"The model preferred {pick} to {other}: mostly {why}.")
        return lines

    def _last_round(self, state: str) -> dict[str, Any] | None:
        """What the state's team sees of the round just played (the same for every
        member; ``_your_last_round`` adds the student's own vote)."""
        rows = [row for row in self.plays if row["state"] == state]
        if not rows:
            return None
        row = rows[-1]
        if row["answered"]:
            team = f"Your team chose: {profile_words(row['chosen'])}."
        elif row["timed_out"]:
            team = (
                "Nobody in your team answered in time, so the model chose for your state: "
                f"{profile_words(row['chosen'])}."
            )
        else:
            team = f"The model played your state: {profile_words(row['chosen'])}."
        same = row["chosen"] == row["model_choice"]
        model_text = (
            "The model, playing your state, would have chosen the same."
            if same
            else "The model, playing your state, would have chosen: "
            f"{profile_words(row['model_choice'])}."
        )
        reasons = self._why(state, row["tick"], row["chosen"], row["model_choice"])
        happened = [
            event_words(event, self._label)
            for event in self.events
            if event["round"] == row["round"]
        ]
        return {
            "round": row["round"],
            "team": team,
            "team_choice": profile_words(row["chosen"]),
            "team_answered": bool(row["answered"]),
            "model": model_text,
            "model_choice": profile_words(row["model_choice"]),
            "why": reasons,
            "events": happened,
        }

    def _your_last_round(self, seat: Seat, last: dict[str, Any]) -> dict[str, Any]:
        """``last`` (``_last_round``) with the student's own vote beside the team's choice."""
        vote = next(
            (
                row
                for row in reversed(self.vote_log)
                if row["round"] == last["round"] and row["player"] == seat.name
            ),
            None,
        )
        alone = vote is None or vote["team_size"] == 1
        if vote is None:
            you = "You joined after this round was played. " + last["team"]
        elif vote["voted"] and alone:
            you = f"You chose: {profile_words(vote['vote'])}."
        elif vote["voted"]:
            you = f"You voted: {profile_words(vote['vote'])}. " + last["team"]
        elif not last["team_answered"]:
            you = "You did not answer in time. " + last["team"]
        else:
            you = "You did not vote in time. " + last["team"]
        why = last["why"]
        summary, *marked = glossed_texts(
            [f"{you} {last['model']}", *why, "; ".join(last["events"])]
        )
        return {
            **last,
            "you": you,
            "your_vote": profile_words(vote["vote"]) if vote and vote["voted"] else None,
            "html": {"summary": summary, "why": marked[: len(why)], "events": marked[-1]},
        }

    def situation(self, token: str) -> dict[str, Any]:
        """A student's state in plain words: what it decides on this round, their team and
        their vote. The world's part is built once per ``world_version`` and state."""
        with self.lock:
            seat = self.rejoin(token)
            key = (seat.state, self.world_version)
            if key not in self._situations:
                if len(self._situations) > 4 * len(self.states):
                    self._situations.clear()
                self._situations[key] = self._situation(seat)
            view = dict(self._situations[key])
            space = self.model.world.space
            vote = self.votes.get(token)
            team_choice = self.team_choice(seat.state)
            view.update(
                {
                    "player": seat.name,
                    "version": self.version_for(seat.state),
                    "paused": self.paused,
                    "closed": self.closed,
                    "seconds_left": self.seconds_left(),
                    "answered": vote is not None,
                    "answer": (
                        {
                            "security": space.security_options[vote.security],
                            "economy": space.economic_options[vote.economy],
                            "text": profile_words(
                                space.profiles[vote.security * space.n_economy + vote.economy]
                            ),
                        }
                        if vote
                        else None
                    ),
                    "team": [
                        {
                            "name": member.name,
                            "you": member.token == token,
                            "voted": member.token in self.votes,
                        }
                        for member in self.members(seat.state)
                    ],
                    "team_size": self.team_size,
                    "team_choice": (
                        profile_words(
                            space.profiles[team_choice[0] * space.n_economy + team_choice[1]]
                        )
                        if team_choice
                        else None
                    ),
                }
            )
            if view["last_round"] is not None:
                view["last_round"] = self._your_last_round(seat, view["last_round"])
            return view

    def _situation(self, seat: Seat) -> dict[str, Any]:
        with self.lock:
            model, world = self.model, self.model.world
            space = world.space
            i = self.states.index(seat.state)
            threat, offers, (state_params, _, pair) = self._next_tick_view()
            chooser = model.choosers[i]
            security = space.security_options[chooser.security]
            economy = space.economic_options[chooser.economy]
            poles = [
                {
                    "pole": pole,
                    "name": pole_words(pole),
                    "offer_bn": round(float(offers[b, i]), 2),
                    "pledge_bn": round(float(pair.pledge_bn[..., b, i].reshape(-1)[0]), 2),
                    "threat": threat_words(float(threat[b, i])),
                    "trade_share": round(float(pair.trade_share[..., b, i].reshape(-1)[0]), 2),
                }
                for b, pole in enumerate(world.poles)
            ]
            previous = (
                model.trajectory.alignment[0, max(model.tick - self.ticks_per_round, 0)]
                if model.tick
                else model.trajectory.alignment[0, 0]
            )
            neighbours = []
            for j in self.neighbours[i]:
                now = int(model.alignment_vector()[0, j])
                before = int(previous[j])
                neighbours.append(
                    {
                        "state": self.states[j],
                        "label": world.state_labels[j],
                        "choice": profile_words(space.profiles[now]),
                        "camp": label_words(world.labelling.label(j, now)),
                        "changed": now != before,
                        "before": profile_words(space.profiles[before]),
                    }
                )
            autonomy = float(np.asarray(state_params.autonomy).reshape(-1)[i])
            sentences = [
                f"You lead {seat.label}. It is {self.date()}.",
                f"Now: {choice_text(SECURITY, security)} for security, "
                f"{choice_text(ECONOMY, economy)} for the economy; "
                f"{label_words(chooser.label)}.",
            ]
            for pole in poles:
                pledge = (
                    f" (and pledges US$ {pole['pledge_bn']:.2f} bn a year if you stay out of "
                    "its rivals' unions)"
                    if pole["pledge_bn"]
                    else ""
                )
                sentences.append(
                    f"{pole['name']}: pays you US$ {pole['offer_bn']:.2f} bn a year{pledge}; "
                    f"{pole['trade_share']:.0%} of your trade; threat to you: {pole['threat']}."
                )
            sentences.append(
                "Staying out of blocs matters to your people: "
                + ("a lot." if autonomy >= 0.7 else "somewhat." if autonomy >= 0.3 else "little.")
            )
            texts = [f"{sentences[0]} {sentences[1]}", *POLE_COLUMNS, sentences[-1]]
            situation, *columns, staying = glossed_texts(texts)
            choices = {SECURITY: space.security_options, ECONOMY: space.economic_options}
            helps = {SECURITY: SECURITY_HELP, ECONOMY: ECONOMY_HELP}
            help_html = iter(
                glossed_texts([helps[d].get(o, "") for d, opts in choices.items() for o in opts])
            )
            return {
                "state": seat.state,
                "label": seat.label,
                "round": self.round,
                "rounds": self.rounds,
                "date": self.date(),
                "now": {
                    "security": security,
                    "economy": economy,
                    "camp": label_words(chooser.label),
                },
                "poles": poles,
                "autonomy": round(autonomy, 2),
                "neighbours": neighbours,
                "sentences": sentences,
                "html": {"situation": situation, "columns": columns, "staying": staying},
                "options": {
                    d: [
                        {
                            "value": o,
                            "text": choice_text(d, o),
                            "help": helps[d].get(o, ""),
                            "help_html": next(help_html),
                        }
                        for o in opts
                    ]
                    for d, opts in choices.items()
                },
                "last_round": self._last_round(seat.state),
            }

    def teacher_view(self) -> dict[str, Any]:
        """The dashboard: the round, the clock, every team, the logs and the levers, in
        plain words (built once per change; the clock is read each time)."""
        with self.lock:
            if self._teacher is None or self._teacher[0] != self.changes:
                self._teacher = (self.changes, self._teacher_view())
            return {**self._teacher[1], "seconds_left": self.seconds_left()}

    def _teacher_view(self) -> dict[str, Any]:
        model, space = self.model, self.model.world.space
        last_round = self.plays[-1]["round"] if self.plays else None
        last = {row["state"]: row for row in self.plays if row["round"] == last_round}
        seats = []
        for chooser in model.choosers:
            team = self.members(chooser.name)
            choice = self.team_choice(chooser.name)
            row = last.get(chooser.name)
            seats.append(
                {
                    "state": chooser.name,
                    "label": self._label(chooser.name),
                    "players": [seat.name for seat in team],
                    "player": ", ".join(seat.name for seat in team) or "model",
                    "offered": chooser.name in self.offered,
                    "voted": sum(1 for seat in team if seat.token in self.votes),
                    "answered": choice is not None,
                    "chosen": (
                        short_words(space.profiles[choice[0] * space.n_economy + choice[1]])
                        if choice
                        else None
                    ),
                    "now": short_words(space.profiles[chooser.profile]),
                    "camp": label_words(chooser.label),
                    "last": None if row is None else last_words(row),
                }
            )
        for seat, marked in zip(
            seats, glossed_texts([f"{seat['now']} ({seat['camp']})" for seat in seats]), strict=True
        ):
            seat["now_html"] = marked
        library = event_library()
        view: dict[str, Any] = {
            "round": self.round,
            "rounds": self.rounds,
            "tick": model.tick,
            "ticks": model.config.ticks,
            "date": self.date(),
            "paused": self.paused,
            "closed": self.closed,
            "changes": self.changes,
            "version": self.changes,
            "map_version": self.world_version,
            "lesson": self.info["title"],
            "lesson_info": self.info,
            "team_size": self.team_size,
            "offered": list(self.offered),
            "all_states": self.all_states,
            "round_seconds": self.round_seconds,
            "ticks_per_round": self.ticks_per_round,
            "suggested": self.suggestions(),
            "seats": seats,
            "players": len(self.players),
            "answered": len(self.votes),
            "events": [
                {**event, "text": f"Round {event['round']}: {event_words(event, self._label)}"}
                for event in self.events
            ],
            "levers": [
                {
                    "name": name,
                    "label": lever.label,
                    "value": value,
                    "low": lever.low,
                    "high": lever.high,
                    "step": lever.step,
                    "help": lever.help,
                }
                for name, value in model.levers().items()
                for lever in [LEVERS[name]]
            ],
            "event_kinds": [
                {
                    "kind": kind,
                    "name": kind.replace("_", " "),
                    "targets": spec.get("targets", "none"),
                    "description": spec.get("description", ""),
                }
                for kind, spec in sorted(library.items())
            ],
            "states": [{"state": s, "label": self._label(s)} for s in self.states],
        }
        for part, key in (
            ("suggested", "text"),
            ("events", "text"),
            ("levers", "help"),
            ("event_kinds", "description"),
        ):
            for row, marked in zip(
                view[part], glossed_texts([row[key] for row in view[part]]), strict=True
            ):
                row[f"{key}_html"] = marked
        return view

    # --- the logs, for the debrief -----------------------------------------------------------

    def plays_frame(self) -> pd.DataFrame:
        """One row per round x state: its team (names, ', '-joined; 'model' if none), the
        team's choice (``chosen``), the model's own pick."""
        with self.lock:
            return pd.DataFrame(self.plays, columns=list(PLAY_COLUMNS))

    def votes_frame(self) -> pd.DataFrame:
        """One row per round x student: their vote ('' if none), the team's choice and the
        model's own pick for their state."""
        with self.lock:
            return pd.DataFrame(self.vote_log, columns=list(VOTE_COLUMNS))

    def events_frame(self) -> pd.DataFrame:
        """One row per event dropped: its round, the tick it starts, kind, targets, by."""
        with self.lock:
            return pd.DataFrame(self.events, columns=list(EVENT_COLUMNS))

    def levers_frame(self) -> pd.DataFrame:
        """One row per lever moved: its round, the tick it holds from, value, previous."""
        with self.lock:
            return pd.DataFrame(self.lever_changes, columns=list(LEVER_COLUMNS))
