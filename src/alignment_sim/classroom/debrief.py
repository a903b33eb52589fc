"""The debrief of a class game or a solo run: each player's choices beside the model's own,
a timeline of the run, and an export a teacher keeps.

``Debrief.build(model, plays, events, levers)`` reads the run from the model's trajectory
(``Trajectory.alignment``: the profile each state committed at each tick;
``security_terms`` and ``economy_terms``: every term of every option, computed before the
choice, so they explain the model's own pick even where a student chose) and, after a
game, from the session's frames (``GameSession.plays_frame()``, ``events_frame()``,
``levers_frame()``, ``votes_frame()``). Without ``plays`` the model played every state (a
solo run).

How the frames are read:

- ``plays``: one row per round x state (``PLAYS_COLUMNS``); ``tick`` is the round's first
  tick, so ``chosen`` is ``trajectory.alignment[tick]``; ``model_choice`` is the model's
  own pick then (``ChooserAgent.pending``). A round's later ticks belong to it (a
  student's answer holds through them: ``ChooserAgent.directed`` stays set); ticks before
  the first round were the model's.
- ``votes`` (optional, ``VOTES_COLUMNS``): one row per round x student of a team (a state
  played by several students: ``plays.player`` names them all, ``plays.chosen`` is the
  team's choice); ``vote`` is the student's own ('' if they did not vote). Given, the
  per-student tables show each vote beside the team's choice and the model's pick.
- ``events`` and ``levers`` (``EVENTS_COLUMNS``, ``LEVERS_COLUMNS``; ``round``, ``by``
  and ``previous`` optional): ``tick`` is the first tick the change holds in (the teacher
  acted when ``model.tick`` was tick - 1), as ``ClassroomModel.apply_levers`` and
  ``drop_event`` apply them.

The export (``write_export`` to a folder, ``export_zip`` as bytes) holds ``EXPORT_FILES``
and, written last, ``manifest.json`` (``outputs.files.finish_job``: provenance from
``outputs.provenance.manifest`` plus each file's size and SHA-256). ``debrief_html`` is a
self-contained page (images inline) for ``/debrief``. Solo export from the shell::

    alignment-sim-debrief --lesson hedging --seed 3 --ticks 40 --out DIR
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import io
import tempfile
import textwrap
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignment_sim.classroom.classroom import (
    LEVERS,
    NO_LESSON,
    ClassroomModel,
    add_lessons_option,
    build_config,
    lessons_option,
    lever_values,
)
from alignment_sim.classroom.drawing import map_figure, shares_figure
from alignment_sim.classroom.explain import (
    REALIST_RULES,
    SMALL,
    TERM_WORDS,
    Choice,
    _choice,
    option_words,
    term_name,
)
from alignment_sim.classroom.game.session import (
    EVENT_COLUMNS,
    PLAY_COLUMNS,
    VOTE_COLUMNS,
    change_words,
    short_words,
)
from alignment_sim.errors import ConfigError
from alignment_sim.model.alignment import HEDGE
from alignment_sim.model.kernels import ECONOMY, SECURITY
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import quarter
from alignment_sim.outputs.files import (
    MANIFEST,
    CommandParser,
    atomic_folder,
    atomic_write_bytes,
    check_replaceable,
    command_errors,
    figure_png,
    finish_job,
    timestamped_folder,
)
from alignment_sim.outputs.provenance import manifest as provenance_manifest

MODEL_PLAYER = "model"
"""The ``player`` of a state no student played (and of every state in a solo run)."""

PLAYS_COLUMNS = tuple(c for c in PLAY_COLUMNS if c not in ("label", "model_label"))
"""The columns of a game's plays frame (``GameSession.plays_frame``) the debrief reads; the
labels it derives itself (``round`` and ``date`` may be missing: the date is recomputed)."""
PLAYS_REQUIRED = ("tick", "state", "player", "chosen", "model_choice", "answered", "timed_out")
# A game's votes frame is ``GameSession.votes_frame`` (``session.VOTE_COLUMNS``; ``round``,
# ``date``, ``team_choice``, ``model_choice`` and ``team_size`` may be missing: they are
# read from the plays); its events frame ``session.EVENT_COLUMNS``.
VOTES_COLUMNS = VOTE_COLUMNS
VOTES_REQUIRED = ("tick", "state", "player", "vote", "voted")
EVENTS_COLUMNS = EVENT_COLUMNS
LEVERS_COLUMNS = ("round", "tick", "lever", "value", "previous", "by")

ROUNDS_COLUMNS: dict[str, str] = {
    "round": "the game round (empty before the first; a solo run: the tick)",
    "round_start": "true at the round's first tick, where a student's answer and the "
    "model's own pick are recorded (a round of several ticks: the answer holds through "
    "them)",
    "tick": "the tick played (1 is the first decision)",
    "date": "the quarter the choice holds from ('2017 Q3', explain.quarter)",
    "state": "the state's id",
    "state_label": "the state's name",
    "player": "who chose: 'model' or the student's name",
    "answered": "the student answered in time (False where the model played)",
    "timed_out": "the student did not answer in time and the model chose for them",
    "chosen": "the profile committed, '<security>/<economy>'",
    "chosen_label": "its record label (russia, china, west, hedge)",
    "model_choice": "the profile the model itself picked for the state at this tick (empty "
    "at a student's state after a round's first tick: not recorded)",
    "model_label": "its record label",
    "agreed": "chosen equals model_choice (True where the model played; empty if unknown)",
    "switched": "chosen differs from the state's profile one tick before",
    "model_why": "the model's top reasons for its own pick, in plain words",
    "model_terms": "the same reasons as terms with their lead in utility over the runner-up",
    "events": "scenario events in force at this tick ('; '-separated)",
    "events_dropped": "events the teacher dropped in that hold from this tick",
    "lever_changes": "lever moves that hold from this tick: 'lever old -> new (by)'",
    **{f"lever_{name}": f"setting in force: {lever.label}" for name, lever in LEVERS.items()},
}
"""``rounds.csv``: one row per tick played x state, in this column order."""

SWITCHES_COLUMNS: dict[str, str] = {
    "tick": "the tick of the change",
    "round": "the game round (empty if none)",
    "date": "the quarter the new profile holds from",
    "state": "the state's id",
    "state_label": "the state's name",
    "from": "profile before",
    "to": "profile after",
    "from_label": "record label before",
    "to_label": "record label after",
    "changed": "which choice changed: security, economy or both",
    "player": "who chose: 'model' or the student's name",
    "model_choice": "the profile the model itself picked",
    "agreed": "to equals model_choice",
    "top_reason": "the term favouring the new option over the old one most at this tick",
    "top_reason_words": "that term in plain words (empty if no term favoured the move)",
    "text": "the timeline's line",
}
"""``switches.csv``: every change of profile (``Trajectory.switches``), in time order."""

STUDENTS_COLUMNS: dict[str, str] = {
    "player": "the student's name",
    "state": "the state's id",
    "state_label": "the state's name",
    "rounds": "rounds the student held the state (counted at each round's first tick)",
    "answered": "rounds answered in time",
    "timed_out": "rounds the model played for them",
    "agreed": "answered rounds whose choice equals the model's own pick",
    "agreement": "agreed / answered (empty if none answered)",
    "with_team": "answered rounds whose vote equals the team's choice",
}
"""``students.csv``: one row per student x state played (with a votes frame, ``answered``
counts the student's own votes and ``timed_out`` the rounds they did not vote)."""

VOTES_CSV_COLUMNS: dict[str, str] = {
    "round": "the game round",
    "tick": "the round's first tick",
    "date": "the quarter the choice holds from",
    "state": "the state's id",
    "state_label": "the state's name",
    "player": "the student's name",
    "team_size": "students in the state's team then",
    "voted": "the student voted in time",
    "vote": "the student's own vote, '<security>/<economy>' (empty if none)",
    "team_choice": "the team's choice, committed (majority of the votes; see the game)",
    "model_choice": "the profile the model itself picked for the state",
    "with_team": "vote equals team_choice (empty if no vote)",
    "with_model": "vote equals model_choice (empty if no vote)",
}
"""``votes.csv``: one row per round x student (empty after a solo run)."""

EXPORT_FILES = (
    "rounds.csv",
    "switches.csv",
    "students.csv",
    "votes.csv",
    "map.png",
    "shares.png",
    "summary.pdf",
    "summary.png",
    "README.txt",
)
"""The files of an export, written before its ``manifest.json``."""
ZIP_HREF = "/export.zip"
A4_INCHES = (8.27, 11.69)
CHART_DPI = 150
SUMMARY_PNG_DPI = 100
SUMMARY_TEXT_X = 0.64
"""Where the one-page summary's right-hand text column begins (a share of the page's width)."""
SUMMARY_IMAGE_WIDTH = SUMMARY_TEXT_X - 0.04
"""The widest the summary's map and charts may be (from 0.02), so no text is printed over
them."""
CHAR_EM = 0.56
"""Mean width of a character of the summary's font, in ems (DejaVu Sans, mixed text)."""
REASONS_SHOWN = 2
"""Terms given per choice in ``model_why``."""
LEVER_MARK = "#34495e"
EVENT_MARK = "#c0392b"


# --- the model's own pick, taken apart ----------------------------------------------------


def own_choices(
    model: AlignmentModel, tick: int, index: int, profile: int
) -> tuple[Choice, Choice]:
    """Both choices of state ``index`` at ``tick`` as the model made them for ``profile``
    (its own pick): ``explain``'s terms at that tick, with the option set to the pick."""
    space = model.world.space
    realist = model.config.decision.rule in REALIST_RULES
    security = _choice(model, SECURITY, index, tick, realist)
    economy = _choice(model, ECONOMY, index, tick, realist=False)
    return (
        dataclasses.replace(
            security, option=space.security_options[space.profile_security[profile]]
        ),
        dataclasses.replace(economy, option=space.economic_options[space.profile_economy[profile]]),
    )


def _dimension_name(choice: Choice) -> str:
    return "security" if choice.dimension == SECURITY else "economy"


def why_words(choices: Sequence[Choice], count: int = REASONS_SHOWN) -> tuple[str, str]:
    """The model's reasons for its pick, in plain words and as terms: for each choice, the
    terms that favour the chosen option over the runner-up most."""
    words, terms = [], []
    for choice in choices:
        pro, _ = choice.reasons(count)
        chosen = option_words(choice.dimension, choice.option)
        rival = option_words(choice.dimension, choice.runner_up)
        name = _dimension_name(choice)
        because = "; ".join(TERM_WORDS[t] for t, _ in pro) or "nothing: chance or inertia"
        words.append(f"{name}: {chosen} rather than {rival}, because of {because}")
        terms.append(f"{name} {choice.option}: " + (", ".join(f"{t} {v:+.2f}" for t, v in pro)))
    return " | ".join(words), " | ".join(terms)


def move_reason(choices: Sequence[Choice], old: int, model: AlignmentModel) -> tuple[str, float]:
    """The term that favoured a state's new profile over its old one most at the tick of
    the change (over the dimensions that changed), and by how much; ("", 0) if none."""
    space = model.world.space
    before = (
        space.security_options[space.profile_security[old]],
        space.economic_options[space.profile_economy[old]],
    )
    best = ("", 0.0)
    for choice, was in zip(choices, before, strict=True):
        if choice.option == was:
            continue
        gap = choice.now[:, choice.chosen] - choice.now[:, choice.options.index(was)]
        n = int(np.argmax(gap))
        if gap[n] > max(SMALL, best[1]):
            best = (choice.terms[n], float(gap[n]))
    return best


# --- the frames a game gives ------------------------------------------------------------


def _checked_frame(
    name: str, frame: pd.DataFrame | None, columns: Sequence[str], required: Sequence[str]
) -> pd.DataFrame:
    """``frame`` with every column of ``columns`` (optional ones filled with NA), its ticks
    as whole numbers; ConfigError naming the missing columns."""
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(name, type(frame).__name__, "a pandas DataFrame")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ConfigError(name, missing, f"a frame with the columns {', '.join(columns)}")
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            out[column] = pd.NA
    try:
        out["tick"] = out["tick"].astype(int)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}.tick", list(frame["tick"])[:5], "whole numbers") from None
    return out.reset_index(drop=True)


def _check_ticks(name: str, ticks: pd.Series, low: int, high: int) -> None:
    bad = ticks[(ticks < low) | (ticks > high)]
    if len(bad):
        raise ConfigError(f"{name}.tick", int(bad.iloc[0]), f"a tick in {low}..{high}")


def _short_revision(revision: str) -> str:
    """A git revision in 12 characters, keeping its "+dirty" mark."""
    commit, dirty, _ = revision.partition("+dirty")
    return commit[:12] + dirty


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dictionaries by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _round_value(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


@dataclass(frozen=True)
class Mark:
    """A teacher's move (a lever or a dropped event) that holds from ``tick`` on."""

    kind: str  # "lever" or "event"
    tick: int
    round: int | None
    text: str
    label: str  # short, for the chart


def _lever_marks(
    levers: pd.DataFrame, start: dict[str, float]
) -> tuple[list[Mark], list[dict[str, Any]]]:
    """The lever moves in order as marks, and each as a record (old and new values)."""
    values = dict(start)
    marks, records = [], []
    for row in _records(levers.sort_values("tick", kind="stable")):
        lever = str(row["lever"])
        if lever not in LEVERS:
            raise ConfigError("levers.lever", lever, f"a lever ({', '.join(LEVERS)})")
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise ConfigError(f"levers.value ({lever})", row["value"], "a number") from None
        previous = row.get("previous")
        old = (
            values.get(lever, np.nan) if previous is None or pd.isna(previous) else float(previous)
        )
        values[lever] = value
        by = "" if pd.isna(row["by"]) else str(row["by"])
        text = f"{lever} {old:g} -> {value:g}" + (f" ({by})" if by else "")
        marks.append(
            Mark("lever", int(row["tick"]), _round_value(row["round"]), text, f"{lever} {value:g}")
        )
        records.append(
            {"tick": int(row["tick"]), "lever": lever, "old": old, "value": value, "by": by}
        )
    return marks, records


def _targets_text(targets: Any) -> str:
    if isinstance(targets, str):
        return targets
    if isinstance(targets, Iterable):
        return ", ".join(str(t) for t in targets)
    return "" if pd.isna(targets) else str(targets)


def _event_marks(events: pd.DataFrame) -> list[Mark]:
    marks = []
    for row in _records(events.sort_values("tick", kind="stable")):
        kind, targets = str(row["kind"]), _targets_text(row["targets"])
        by = "" if pd.isna(row["by"]) else str(row["by"])
        text = kind + (f" on {targets}" if targets else "") + (f" ({by})" if by else "")
        marks.append(Mark("event", int(row["tick"]), _round_value(row["round"]), text, kind))
    return marks


def starting_levers(model: AlignmentModel) -> dict[str, float]:
    """The lever settings the run started with: a classroom model's setup rebuilt (its
    later ``apply_levers`` moves are not in it); another model's config as it is."""
    if isinstance(model, ClassroomModel) and not model.setup_failed:
        return lever_values(build_config(model.setup))
    return lever_values(model.config)


# --- the debrief --------------------------------------------------------------------------


@dataclass
class Debrief:
    """A finished run taken apart for the class (see the module's docstring).

    Tables: ``rounds`` (``ROUNDS_COLUMNS``), ``switches`` (``SWITCHES_COLUMNS``),
    ``students`` (``STUDENTS_COLUMNS``); ``marks``: the teacher's moves; ``program_events``:
    (tick, name) where a scenario event began; ``dates``: each tick's quarter (0 to the
    tick after the last played); ``map_png`` and ``shares_png``: the charts at the time of
    ``build``; ``manifest``: provenance of the run.
    """

    title: str
    subtitle: str
    solo: bool
    rounds: pd.DataFrame
    switches: pd.DataFrame
    students: pd.DataFrame
    votes: pd.DataFrame
    marks: list[Mark]
    program_events: list[tuple[int, str]]
    dates: list[str]
    final_counts: dict[str, int]
    map_png: bytes
    shares_png: bytes
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def build(
        cls,
        model: AlignmentModel,
        plays: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        levers: pd.DataFrame | None = None,
        votes: pd.DataFrame | None = None,
    ) -> Debrief:
        """The debrief of ``model``'s run so far; ``plays`` None: the model played every
        state; ``votes``: each student's own vote (teams). Bad frames raise ConfigError
        naming the column and value."""
        lock = getattr(model, "lock", None)
        with lock if lock is not None else contextlib.nullcontext():
            debrief, charts = cls.without_charts(model, plays, events, levers, votes)
        return debrief.with_charts(charts)

    def with_charts(self, charts: tuple[Figure, Figure]) -> Debrief:
        """This debrief with the charts ``without_charts`` gave (map, shares) drawn in:
        two thirds of a build's time, which needs no lock on the model (the figures hold
        copies of the run's numbers, so later ticks cannot change them)."""
        map_chart, shares_chart = charts
        return dataclasses.replace(
            self,
            map_png=figure_png(map_chart, CHART_DPI),
            shares_png=figure_png(shares_chart, CHART_DPI),
        )

    @classmethod
    def without_charts(
        cls,
        model: AlignmentModel,
        plays: pd.DataFrame | None,
        events: pd.DataFrame | None,
        levers: pd.DataFrame | None,
        votes: pd.DataFrame | None,
    ) -> tuple[Debrief, tuple[Figure, Figure]]:
        """The debrief without its charts' PNGs, and the charts (map, shares) to draw
        (``with_charts``); the caller holds the model still (``build`` takes its lock)."""
        world, trajectory = model.world, model.trajectory
        played = min(model.tick, trajectory.ticks)
        solo = plays is None
        plays = _checked_frame("plays", plays, PLAYS_COLUMNS, PLAYS_REQUIRED)
        events = _checked_frame("events", events, EVENTS_COLUMNS, ("tick", "kind"))
        levers = _checked_frame("levers", levers, LEVERS_COLUMNS, ("tick", "lever", "value"))
        _check_ticks("plays", plays["tick"], 1, played)
        _check_ticks("events", events["tick"], 1, played + 1)
        _check_ticks("levers", levers["tick"], 1, played + 1)
        start = starting_levers(model)
        lever_marks, lever_records = _lever_marks(levers, start)
        marks = sorted([*lever_marks, *_event_marks(events)], key=lambda m: m.tick)

        by_cell = _plays_by_cell(plays, model, played)
        firsts = sorted({tick for tick, _ in by_cell})
        alignment = trajectory.alignment[0].astype(np.int64)
        rows, switches = [], []
        values = dict(start)
        for t in range(1, played + 1):
            arriving = [m for m in marks if m.tick == t]
            values.update({r["lever"]: r["value"] for r in lever_records if r["tick"] == t})
            in_force = [
                name
                for name, on in zip(
                    trajectory.event_names, trajectory.active[0, t - 1], strict=True
                )
                if on
            ]
            first = max((f for f in firsts if f <= t), default=None)
            for i, state in enumerate(world.states):
                chosen = int(alignment[t, i])
                play = None if first is None else by_cell.get((first, state))
                player = MODEL_PLAYER if play is None else play["player"]
                own: int | None = chosen
                if play is not None and first == t:
                    own = world.options.index(play["model_choice"])
                elif player != MODEL_PLAYER:
                    own = None  # a student's answer holds; the model's pick is not recorded
                choices = own_choices(model, t, i, own) if own is not None else None
                why, terms = why_words(choices) if choices is not None else ("", "")
                row = {
                    "round": t if solo else (None if play is None else play["round"]),
                    "round_start": solo or first == t,
                    "tick": t,
                    "date": quarter(world.year_of_tick(t)),
                    "state": state,
                    "state_label": world.state_labels[i],
                    "player": player,
                    "answered": False if play is None else play["answered"],
                    "timed_out": False if play is None else play["timed_out"],
                    "chosen": world.options[chosen],
                    "chosen_label": world.labelling.label(i, chosen),
                    "model_choice": "" if own is None else world.options[own],
                    "model_label": "" if own is None else world.labelling.label(i, own),
                    "agreed": None if own is None else chosen == own,
                    "switched": chosen != alignment[t - 1, i],
                    "model_why": why,
                    "model_terms": terms,
                    "events": "; ".join(in_force),
                    "events_dropped": "; ".join(m.text for m in arriving if m.kind == "event"),
                    "lever_changes": "; ".join(m.text for m in arriving if m.kind == "lever"),
                    **{f"lever_{name}": values.get(name, np.nan) for name in LEVERS},
                }
                rows.append(row)
                if row["switched"]:
                    moved = (
                        choices
                        if choices is not None and own == chosen
                        else own_choices(model, t, i, chosen)
                    )
                    switches.append(_switch_row(row, moved, int(alignment[t - 1, i]), model))
        rounds = pd.DataFrame(rows, columns=list(ROUNDS_COLUMNS))
        rounds["round"] = rounds["round"].astype("Int64")
        switch_frame = pd.DataFrame(switches, columns=list(SWITCHES_COLUMNS))
        switch_frame["round"] = switch_frame["round"].astype("Int64")
        vote_table = _votes(votes, by_cell, model)
        students = _students(rounds) if votes is None else _students_from_votes(vote_table)
        program_events = [
            (int(t) + 1, name)
            for e, name in enumerate(trajectory.event_names)
            for t in np.flatnonzero(
                np.diff(trajectory.active[0, :played, e].astype(int), prepend=0) == 1
            )
        ]
        final = alignment[played]
        counts = {label: 0 for label in world.labels}
        for i, k in enumerate(final):
            counts[world.labelling.label(i, k)] += 1
        title, subtitle = _titles(model, played)
        extra = {
            "kind": "debrief",
            "title": title,
            "lesson": getattr(getattr(model, "lesson", None), "name", NO_LESSON),
            "ticks_played": played,
            "solo": solo,
            "players": {
                str(p): sorted(set(g["state"])) for p, g in students.groupby("player", sort=True)
            },
            "starting_levers": start,
            "lever_changes": lever_records,
            "events_dropped": [dataclasses.asdict(m) for m in marks if m.kind == "event"],
            "columns": {
                "rounds.csv": ROUNDS_COLUMNS,
                "switches.csv": SWITCHES_COLUMNS,
                "students.csv": STUDENTS_COLUMNS,
                "votes.csv": VOTES_CSV_COLUMNS,
            },
        }
        debrief = cls(
            title=title,
            subtitle=subtitle,
            solo=solo,
            rounds=rounds,
            switches=switch_frame,
            students=students,
            votes=vote_table,
            marks=marks,
            program_events=program_events,
            dates=[quarter(world.year_of_tick(t)) for t in range(played + 2)],
            final_counts=counts,
            map_png=b"",
            shares_png=b"",
            manifest=provenance_manifest(model.config, int(model.run_seed), extra),
        )
        return debrief, (map_figure(model), _marked_shares(model, marks))

    # --- views --------------------------------------------------------------------------

    def timeline(self) -> list[tuple[int, str, str]]:
        """The run in time order: (tick, kind, line), kind "switch", "event" (a scenario
        event begins), "dropped" (the teacher dropped an event in) or "lever"."""
        entries: list[tuple[int, int, str, str]] = []
        for row in _records(self.switches):
            entries.append((int(row["tick"]), 2, "switch", str(row["text"])))
        for tick, name in self.scenario_events():
            entries.append((tick, 1, "event", f"{self._date(tick)}: event {name} begins"))
        for mark in self.marks:
            kind = "lever" if mark.kind == "lever" else "dropped"
            verb = "lever moved" if mark.kind == "lever" else "teacher dropped in"
            when = self._date(mark.tick - 1)  # the date on the teacher's screen then
            entries.append((mark.tick, 0, kind, f"{when}: {verb}: {mark.text}"))
        return [(t, kind, text) for t, _, kind, text in sorted(entries, key=lambda e: e[:2])]

    def scenario_events(self) -> list[tuple[int, str]]:
        """(tick, name) where an event of the scenario began; an event the teacher dropped
        in (a mark of its kind at its tick, named "kind (targets)" by ``drop_event``) is
        left out, the marks show it."""
        dropped = {(m.tick, m.label) for m in self.marks if m.kind == "event"}
        return [
            (tick, name)
            for tick, name in self.program_events
            if (tick, name.split(" (")[0]) not in dropped
        ]

    def _date(self, tick: int) -> str:
        return self.dates[tick]

    def main_switches(self) -> list[str]:
        """The switches the one-page summary lists: those that change a state's record
        label or its alliance, or were a student's choice (every switch if there are no
        such): Ukraine joining the West's alliance keeps its label and is a main switch."""
        frame = self.switches
        security = frame["changed"].astype(str).str.contains("security")
        main = frame[
            (frame["from_label"] != frame["to_label"]) | security | (frame["player"] != "model")
        ]
        return [str(t) for t in (main if len(main) else frame)["text"]]

    def student_lines(self) -> list[str]:
        """Each student's agreement with the model, one line each."""
        if self.solo or self.students.empty:
            return ["A solo run: the model played every state."]
        lines = []
        for row in _records(self.students):
            line = f"{row['player']} ({row['state_label']}): "
            line += f"agreed {row['agreed']} of {row['answered']}"
            if not self.votes.empty and (self.votes["team_size"] > 1).any():
                line += f"; with the team {row['with_team']}"
            if row["timed_out"]:
                line += f"; timed out {row['timed_out']}"
            lines.append(line)
        answered = int(self.students["answered"].sum())
        agreed = int(self.students["agreed"].sum())
        lines.insert(0, "Rounds answered in time in which the student chose the model's pick:")
        if answered:
            lines.append(f"Class: {agreed} of {answered} ({agreed / answered:.0%})")
        return lines

    # --- the one-page summary --------------------------------------------------------------

    @cached_property
    def summary_pdf(self) -> bytes:
        """The one-page A4 summary as PDF."""
        buffer = io.BytesIO()
        self._summary_figure().savefig(
            buffer,
            format="pdf",
            metadata={"Title": f"Debrief: {self.title}", "Creator": "alignment-sim"},
        )
        return buffer.getvalue()

    @cached_property
    def summary_png(self) -> bytes:
        """The same page as PNG."""
        return figure_png(self._summary_figure(), SUMMARY_PNG_DPI)

    def _summary_figure(self) -> Figure:
        """An A4 page: title, map and shares on the left, students and the run on the
        right, the main switches below, provenance at the foot."""
        fig = Figure(figsize=A4_INCHES, dpi=100)
        fig.text(0.04, 0.975, f"Debrief: {self.title}", fontsize=14, fontweight="bold", va="top")
        fig.text(0.04, 0.952, self.subtitle, fontsize=8.5, va="top", color="#444444")
        top = 0.935
        for png, height in ((self.map_png, 0.29), (self.shares_png, 0.3)):
            image = mpimg.imread(io.BytesIO(png))
            h, w = image.shape[:2]
            aspect = A4_INCHES[1] / A4_INCHES[0] * w / h  # page width per page height
            width = min(height * aspect, SUMMARY_IMAGE_WIDTH)  # clear of the text column
            ax = fig.add_axes((0.02, top - width / aspect, width, width / aspect))
            top -= width / aspect + 0.005
            ax.imshow(image, interpolation="antialiased")
            ax.set_axis_off()
        right = _TextColumn(
            fig, x=SUMMARY_TEXT_X, top=0.93, bottom=0.35, width=0.98 - SUMMARY_TEXT_X
        )
        right.heading("Students and the model")
        right.block(self.student_lines(), "students.csv")
        right.heading("The run")
        right.block(self._run_lines(), "rounds.csv")
        lines = self.main_switches()
        band = _TextColumn(fig, x=0.04, top=0.325, bottom=0.035, width=0.93)
        band.heading(f"Timeline: the main switches ({len(lines)} of {len(self.switches)})")
        if not lines:
            band.block(["No state switched."], None)
        elif sum(map(len, band.wrap(lines))) <= band.room():
            band.block(lines, None)
        else:
            left = _TextColumn(fig, x=0.04, top=band.y, bottom=0.035, width=0.455)
            placed = left.block(lines, None)
            _TextColumn(fig, x=0.515, top=band.y, bottom=0.035, width=0.455).block(
                lines[placed:], "switches.csv"
            )
        meta = self.manifest
        fig.text(
            0.04,
            0.012,
            f"alignment-sim {meta['version']} · git {_short_revision(str(meta['git_revision']))} · "
            f"seed {meta['seed']} · made {meta['created_utc']} · every round: rounds.csv",
            fontsize=6.5,
            color="#666666",
        )
        return fig

    def _run_lines(self) -> list[str]:
        counts = ", ".join(f"{label} {n}" for label, n in self.final_counts.items())
        lines = [f"At the end: {counts}", f"Switches: {len(self.switches)}"]
        lines += [f"{self._date(t)}: event {name} begins" for t, name in self.scenario_events()]
        lines += [text for _, kind, text in self.timeline() if kind in ("lever", "dropped")]
        return lines


class _TextColumn:
    """Lines of text placed top-down on a figure, wrapped to the column's width; when the
    column is full the rest is left out (with a line pointing to the file holding it)."""

    size = 7.5
    """Font size of the lines, in points."""

    def __init__(self, fig: Figure, x: float, top: float, bottom: float, width: float) -> None:
        self.fig, self.x, self.y, self.bottom = fig, x, top, bottom
        self.chars = int(width * A4_INCHES[0] * 72 / (self.size * CHAR_EM))
        self.step = self.size * 1.4 / 72 / A4_INCHES[1]

    def wrap(self, lines: Sequence[str]) -> list[list[str]]:
        return [textwrap.wrap(line, self.chars, subsequent_indent="    ") for line in lines]

    def room(self) -> int:
        """Lines that still fit."""
        return int((self.y - self.bottom) / self.step + 1e-9)

    def heading(self, text: str) -> None:
        self.fig.text(self.x, self.y, text, fontsize=9.5, fontweight="bold", va="top")
        self.y -= 1.6 * self.step

    def block(self, lines: Sequence[str], more: str | None) -> int:
        """Place ``lines`` while they fit; returns how many were placed. ``more``: the file
        named in the closing '… and k more' line (None: stop without one)."""
        wrapped = self.wrap(lines)
        for n, parts in enumerate(wrapped):
            rest = sum(len(p) for p in wrapped[n:])
            if rest > self.room() and len(parts) + (more is not None) > self.room():
                if more is not None:
                    self._line(f"… and {len(wrapped) - n} more in {more}")
                return n
            for part in parts:
                self._line(part)
        self.y -= 0.8 * self.step
        return len(wrapped)

    def _line(self, text: str) -> None:
        self.fig.text(self.x, self.y, text, fontsize=self.size, va="top")
        self.y -= self.step


def _plays_by_cell(
    plays: pd.DataFrame, model: AlignmentModel, played: int
) -> dict[tuple[int, str], dict[str, Any]]:
    """The plays by (tick, state), checked against the world and the trajectory."""
    world = model.world
    cells: dict[tuple[int, str], dict[str, Any]] = {}
    for row in _records(plays):
        tick, state = int(row["tick"]), str(row["state"])
        if state not in world.states:
            raise ConfigError("plays.state", state, f"a state ({', '.join(world.states)})")
        for column in ("chosen", "model_choice"):
            if row[column] not in world.options:
                raise ConfigError(
                    f"plays.{column} (tick {tick}, {state})",
                    row[column],
                    "a profile '<security>/<economy>'",
                )
        if (tick, state) in cells:
            raise ConfigError("plays", f"two rows for tick {tick}, {state}", "one per round")
        recorded = world.options[
            int(model.trajectory.alignment[0, tick, world.states.index(state)])
        ]
        if row["chosen"] != recorded:
            raise ConfigError(
                f"plays.chosen (tick {tick}, {state})",
                row["chosen"],
                f"the profile the model committed, {recorded}",
            )
        player = str(row["player"])
        cells[(tick, state)] = {
            "round": _round_value(row["round"]),
            "player": player,
            "answered": bool(row["answered"]) and player != MODEL_PLAYER,
            "timed_out": bool(row["timed_out"]),
            "model_choice": row["model_choice"],
        }
    return cells


def _switch_row(
    row: dict[str, Any], choices: tuple[Choice, Choice], old: int, model: AlignmentModel
) -> dict[str, Any]:
    """A line of the timeline for a state's change at a tick (``choices``: the model's
    terms at that tick with the option set to the new profile)."""
    space = model.world.space
    changed = [
        name
        for name, parts in (
            ("security", space.profile_security),
            ("economy", space.profile_economy),
        )
        if parts[old] != parts[model.world.options.index(row["chosen"])]
    ]
    before, after = model.world.options[old], row["chosen"]
    state = model.world.states.index(row["state"])
    label_before, label_after = model.world.labelling.label(state, old), row["chosen_label"]
    term, _ = move_reason(choices, old, model)
    if label_before != label_after:
        left = "" if label_before == HEDGE else "left "
        text = f"{row['date']}: {row['state_label']} {left}{label_before} -> {label_after} "
        text += f"({change_words(before, after)})"
    else:
        text = f"{row['date']}: {row['state_label']} {change_words(before, after)} "
        text += f"(still {label_after})"
    reason = f"; top reason: {TERM_WORDS[term]} ({term_name(term)})"
    text += reason if term else "; no term favoured it"
    if row["player"] != MODEL_PLAYER:
        if row["timed_out"]:
            text += f"; {row['player']} timed out, the model chose"
        else:
            player = str(row["player"])
            team = ", " in player  # a team votes: a majority, not each member, chose
            text += f"; chosen by {'the vote of ' if team else ''}{player}"
            if not row["agreed"]:
                text += f" (the model: {short_words(row['model_choice'])})"
    return {
        "tick": row["tick"],
        "round": row["round"],
        "date": row["date"],
        "state": row["state"],
        "state_label": row["state_label"],
        "from": before,
        "to": after,
        "from_label": label_before,
        "to_label": label_after,
        "changed": "both" if len(changed) == 2 else changed[0],
        "player": row["player"],
        "model_choice": row["model_choice"],
        "agreed": row["agreed"],
        "top_reason": term,
        "top_reason_words": TERM_WORDS[term] if term else "",
        "text": text,
    }


def _students(rounds: pd.DataFrame) -> pd.DataFrame:
    """Each student x state: rounds held, answered, timed out, agreed among the answered."""
    people = rounds[(rounds["player"] != MODEL_PLAYER) & rounds["round_start"]].assign(
        agreed_answer=lambda f: f["agreed"].astype(bool) & f["answered"].astype(bool)
    )
    if people.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STUDENTS_COLUMNS})
    table = (
        people.groupby(["player", "state", "state_label"], sort=False)
        .agg(
            rounds=("tick", "size"),
            answered=("answered", "sum"),
            timed_out=("timed_out", "sum"),
            agreed=("agreed_answer", "sum"),
        )
        .reset_index()
    )
    for column in ("rounds", "answered", "timed_out", "agreed"):
        table[column] = table[column].astype(int)
    table["agreement"] = table["agreed"] / table["answered"].where(table["answered"] > 0)
    table["with_team"] = table["answered"]  # one student a state: their answer is the team's
    return table[list(STUDENTS_COLUMNS)]


def _votes(
    votes: pd.DataFrame | None,
    cells: dict[tuple[int, str], dict[str, Any]],
    model: AlignmentModel,
) -> pd.DataFrame:
    """``votes.csv``: each student's vote beside the team's choice and the model's pick
    (read from the plays, ``cells``), checked against them."""
    world = model.world
    frame = _checked_frame("votes", votes, VOTES_COLUMNS, VOTES_REQUIRED)
    rows = []
    for row in _records(frame):
        tick, state = int(row["tick"]), str(row["state"])
        cell = cells.get((tick, state))
        if cell is None:
            raise ConfigError("votes", f"tick {tick}, {state}", "a round and state of the plays")
        voted = bool(row["voted"])
        vote = "" if pd.isna(row["vote"]) else str(row["vote"])
        if (vote != "") != voted or (voted and vote not in world.options):
            raise ConfigError(
                f"votes.vote (tick {tick}, {row['player']})",
                vote,
                "a profile '<security>/<economy>' if voted, else ''",
            )
        team = world.options[int(model.trajectory.alignment[0, tick, world.states.index(state)])]
        own = str(cell["model_choice"])
        size = row["team_size"]
        rows.append(
            {
                "round": cell["round"],
                "tick": tick,
                "date": quarter(world.year_of_tick(tick)),
                "state": state,
                "state_label": world.state_labels[world.states.index(state)],
                "player": str(row["player"]),
                "team_size": None if pd.isna(size) else int(size),
                "voted": voted,
                "vote": vote,
                "team_choice": team,
                "model_choice": own,
                "with_team": vote == team if voted else None,
                "with_model": vote == own if voted else None,
            }
        )
    table = pd.DataFrame(rows, columns=list(VOTES_CSV_COLUMNS))
    for column in ("round", "team_size"):
        table[column] = table[column].astype("Int64")
    return table


def _students_from_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Each student x state from their own votes: rounds, votes, rounds without a vote,
    votes equal to the model's pick and to the team's choice."""
    if votes.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STUDENTS_COLUMNS})
    table = (
        votes.assign(
            model_agreed=lambda f: f["with_model"].fillna(False).astype(bool),
            team_agreed=lambda f: f["with_team"].fillna(False).astype(bool),
            missed=lambda f: ~f["voted"].astype(bool),
        )
        .groupby(["player", "state", "state_label"], sort=False)
        .agg(
            rounds=("tick", "size"),
            answered=("voted", "sum"),
            timed_out=("missed", "sum"),
            agreed=("model_agreed", "sum"),
            with_team=("team_agreed", "sum"),
        )
        .reset_index()
    )
    for column in ("rounds", "answered", "timed_out", "agreed", "with_team"):
        table[column] = table[column].astype(int)
    table["agreement"] = table["agreed"] / table["answered"].where(table["answered"] > 0)
    return table[list(STUDENTS_COLUMNS)]


def _titles(model: AlignmentModel, played: int) -> tuple[str, str]:
    world, config = model.world, model.config
    lesson = getattr(model, "lesson", None)
    title = lesson.title if lesson is not None else f"free run ({config.scenario.name})"
    unit = "quarters" if world.tick_months == 3 else "ticks"
    subtitle = (
        f"{played} of {config.ticks} {unit} played ({world.quarters_covered(played)}) · "
        f"decision rule {config.decision.rule} · "
        f"seed {model.run_seed} · scenario {config.scenario.name}"
    )
    return title, subtitle


def _marked_shares(model: AlignmentModel, marks: list[Mark]) -> Figure:
    """``drawing.shares_figure`` with the teacher's moves marked: a dotted line where a
    lever moved, a dashed red one where an event was dropped in (at the time the teacher
    acted: the start of the tick the move holds from), each named on the top chart."""
    fig = shares_figure(model, lever_marks=False)  # the marks below hold every lever move
    world = model.world
    top = fig.axes[0]
    for n, mark in enumerate(marks):
        x = world.year_of_tick(mark.tick - 1)
        color, style = (LEVER_MARK, ":") if mark.kind == "lever" else (EVENT_MARK, "--")
        for ax in fig.axes[:2]:
            ax.axvline(x, color=color, linestyle=style, linewidth=1.1, zorder=4)
        top.annotate(
            mark.label,
            (x, 0.02 + 0.22 * (n % 4)),
            xycoords=top.get_xaxis_transform(),
            xytext=(2, 0),
            textcoords="offset points",
            rotation=90,
            fontsize=6.5,
            color=color,
            va="bottom",
            zorder=6,
        )
    if marks:
        fig.text(
            0.09,
            0.005,
            "dotted: a lever moved · dashed red: the teacher dropped an event in",
            fontsize=6.5,
            color="#444444",
        )
    return fig


# --- export -------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.6g").encode()


def readme_text(debrief: Debrief) -> str:
    """What each file of the export holds, with the tables' columns."""
    lines = [
        f"Debrief: {debrief.title}",
        debrief.subtitle,
        "",
        "rounds.csv    every tick played x state: who chose, what, the model's own pick and why",
        "switches.csv  every change of profile, with its top reason (the timeline)",
        "students.csv  each student's agreement with the model (and with their team)",
        "votes.csv     each student's own vote per round, beside the team's and the model's",
        "map.png       the map at the end of the run",
        "shares.png    bloc shares over time, with the teacher's moves marked",
        "summary.pdf   a printable one-page summary (summary.png: the same page)",
        "manifest.json configuration, seed, version and git revision; each file's SHA-256",
    ]
    for name, columns in (
        ("rounds.csv", ROUNDS_COLUMNS),
        ("switches.csv", SWITCHES_COLUMNS),
        ("students.csv", STUDENTS_COLUMNS),
        ("votes.csv", VOTES_CSV_COLUMNS),
    ):
        lines += ["", f"Columns of {name}:"]
        lines += [f"  {column}: {meaning}" for column, meaning in columns.items()]
    return "\n".join(lines) + "\n"


def export_files(debrief: Debrief) -> dict[str, bytes]:
    """The export's files by name (``EXPORT_FILES``), without the manifest."""
    return {
        "rounds.csv": _csv(debrief.rounds),
        "switches.csv": _csv(debrief.switches),
        "students.csv": _csv(debrief.students),
        "votes.csv": _csv(debrief.votes),
        "map.png": debrief.map_png,
        "shares.png": debrief.shares_png,
        "summary.pdf": debrief.summary_pdf,
        "summary.png": debrief.summary_png,
        "README.txt": readme_text(debrief).encode(),
    }


def write_export(debrief: Debrief, folder: str | Path) -> list[Path]:
    """Write every file of the export, then its ``manifest.json``, beside ``folder`` and
    rename them into place whole (``files.atomic_folder``: an earlier folder there is
    replaced, and a failure leaves it as it was); returns the paths, the manifest last."""
    target = Path(folder)
    files = export_files(debrief)
    with atomic_folder(target) as staging:
        for name, data in files.items():
            atomic_write_bytes(staging / name, data)
        finish_job(staging, debrief.manifest, list(files))
    return [target / name for name in (*files, MANIFEST)]


def export_zip(debrief: Debrief) -> bytes:
    """The export (files and manifest, as ``write_export`` writes them) as a zip archive."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="debrief-") as scratch:
        paths = write_export(debrief, scratch)
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, arcname=path.name)
    return buffer.getvalue()


# --- the page -----------------------------------------------------------------------------

PAGE = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Debrief: $title</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1100px; padding: 12px 18px 40px; color: #222; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.1em; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.meta { color: #555; margin: 0; }
a.download { display: inline-block; margin: 0.8em 0; padding: 0.5em 1em; background: #2c3e50;
  color: #fff; border-radius: 4px; text-decoration: none; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f4f6f7; }
.scroll { overflow-x: auto; }
td:nth-child(6) { min-width: 16em; }
tr.disagree td { background: #fdf2e9; }
tr.timedout td { color: #777; font-style: italic; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts figure { flex: 1 1 440px; margin: 0; }
.charts img { width: 100%; height: auto; border: 1px solid #eee; }
ol.timeline { padding-left: 1.2em; }
ol.timeline li.lever { color: #34495e; font-weight: 600; }
ol.timeline li.dropped, ol.timeline li.event { color: #c0392b; font-weight: 600; }
@media print { a.download { display: none; } body { max-width: none; } }
</style>
</head>
<body>
<header>
<h1>Debrief: $title</h1>
<p class="meta">$subtitle</p>
<a class="download" href="$zip_href" download="debrief.zip">Download everything (zip)</a>
</header>
<section id="students">
<h2>Students and the model</h2>
$students
</section>
<section id="charts">
<h2>The map at the end and the bloc shares</h2>
<div class="charts">
<figure><img alt="Map at the end of the run" src="data:image/png;base64,$map"></figure>
<figure><img alt="Bloc shares over time, teacher's moves marked"
 src="data:image/png;base64,$shares"></figure>
</div>
</section>
<section id="timeline">
<h2>Timeline</h2>
$timeline
</section>
</body>
</html>
"""
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Iterable[tuple[str, Sequence[Any]]]) -> str:
    """An HTML table; each row is (css class, cells), cells escaped."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{css}">' + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"
        for css, cells in rows
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _students_html(debrief: Debrief) -> str:
    if debrief.solo or debrief.students.empty:
        return "<p>A solo run: the model played every state (every round is in rounds.csv).</p>"
    teams = not debrief.votes.empty
    summary = (
        (
            "",
            (
                s["player"],
                s["state_label"],
                s["rounds"],
                s["answered"],
                s["timed_out"],
                f"{s['agreed']} of {s['answered']}",
                *([f"{s['with_team']} of {s['answered']}"] if teams else []),
            ),
        )
        for s in _records(debrief.students)
    )
    header: tuple[str, ...] = (
        "Student",
        "State",
        "Rounds",
        "Answered",
        "Timed out",
        "Agreed with the model",
    )
    parts = [_table((*header, *(["Voted with the team"] if teams else [])), summary)]
    rounds = debrief.rounds
    why = rounds.set_index(["tick", "state"])["model_why"]
    for s in _records(debrief.students):
        if teams:
            votes = debrief.votes
            mine = votes[(votes["player"] == s["player"]) & (votes["state"] == s["state"])]
            rows = [_vote_row(v, str(why.get((v["tick"], v["state"]), ""))) for v in _records(mine)]
            header = (
                "Round",
                "Date",
                "Their vote",
                "The team's choice",
                "The model's",
                "Agreed with the model",
                "Why the model",
            )
        else:
            mine = rounds[
                (rounds["player"] == s["player"])
                & (rounds["state"] == s["state"])
                & rounds["round_start"]
            ]
            rows = [_play_row(r) for r in _records(mine)]
            header = ("Round", "Date", "Their choice", "The model's", "Agreed", "Why the model")
        parts.append(f"<h3>{_e(s['player'])}: {_e(s['state_label'])}</h3>")
        parts.append(_table(header, rows))
    return "\n".join(parts)


def _play_row(r: dict[str, Any]) -> tuple[str, Sequence[Any]]:
    """A student's round (one student a state) for the page: (css class, cells)."""
    if r["timed_out"]:
        css, theirs, agreed = "timedout", "timed out (the model chose)", "-"
    else:
        css = "" if r["agreed"] else "disagree"
        theirs = f"{r['chosen']} ({r['chosen_label']})"
        agreed = "yes" if r["agreed"] else "no"
    round_ = "" if pd.isna(r["round"]) else r["round"]
    model = f"{r['model_choice']} ({r['model_label']})"
    return css, (round_, r["date"], theirs, model, agreed, r["model_why"])


def _vote_row(v: dict[str, Any], why: str) -> tuple[str, Sequence[Any]]:
    """A student's round in a team for the page: their vote, the team's, the model's."""
    if v["voted"]:
        css = "" if v["with_model"] else "disagree"
        theirs, agreed = v["vote"], "yes" if v["with_model"] else "no"
    else:
        css, theirs, agreed = "timedout", "no vote in time", "-"
    round_ = "" if pd.isna(v["round"]) else v["round"]
    return css, (round_, v["date"], theirs, v["team_choice"], v["model_choice"], agreed, why)


def debrief_html(debrief: Debrief, zip_href: str = ZIP_HREF) -> str:
    """The debrief as one self-contained HTML page (no external asset; the charts inline
    as data URIs) with a link to the zip of the export at ``zip_href``."""
    timeline = debrief.timeline()
    items = "".join(f'<li class="{kind}">{_e(text)}</li>' for _, kind, text in timeline)
    return PAGE.substitute(
        title=_e(debrief.title),
        subtitle=_e(debrief.subtitle),
        zip_href=_e(zip_href),
        students=_students_html(debrief),
        map=base64.b64encode(debrief.map_png).decode(),
        shares=base64.b64encode(debrief.shares_png).decode(),
        timeline=f'<ol class="timeline">{items}</ol>' if items else "<p>No state switched.</p>",
    )


# --- solo export from the shell -------------------------------------------------------------

PROG = "alignment-sim-debrief"


def main(argv: list[str] | None = None) -> int:
    """Run a solo lesson (the model plays every state) and write its debrief export."""
    parser = CommandParser(
        prog=PROG, description="Run a lesson solo and write its debrief (CSV, PNG, one-page PDF)."
    )
    parser.add_argument("--lesson", default=NO_LESSON, help="a lesson name (default: none)")
    parser.add_argument("--seed", default="0", help="the run's seed (default 0)")
    parser.add_argument("--ticks", default="40", help="ticks to run (default 40)")
    parser.add_argument("--out", type=Path, default=None, help="folder (results/debrief/<time>)")
    add_lessons_option(parser)
    args = parser.parse_args(argv)
    lessons_option(parser, args.lessons)
    folder = args.out or timestamped_folder("debrief")
    with command_errors(PROG, "nothing was written", parser=parser):
        model = ClassroomModel(
            lesson=args.lesson, seed=args.seed, ticks=args.ticks, lessons_dir=args.lessons
        )
        check_replaceable(folder, (*EXPORT_FILES, MANIFEST), "debrief export")
        model.run()
        paths = write_export(Debrief.build(model), folder)
    print(f"{PROG}: {len(paths)} files in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
