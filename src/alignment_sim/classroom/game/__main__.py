"""``alignment-sim-class``: run a classroom game on this machine for the local network.

Prints the teacher's address (with its secret key) and the address students open (this
machine's LAN address; also as a QR code on the teacher's page), then serves until
Ctrl+C, and then saves the game's debrief, as its export holds it, in
``results/class/<time>/`` (``--out``), once a round was played. Several students may
share a state (``--team-size``, default 4: a class of 30 on the region's 11 states plays
in teams). Nothing is fetched from or sent to the internet. The game starts paused, so
the class can join first: the teacher presses "Start / resume". A lesson with a
``game:`` block sets the round's quarters and seconds (unless given) and the states the
class plays (``--all-states`` offers every state).
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
from pathlib import Path

from alignment_sim.classroom.__main__ import ServeError, check_address
from alignment_sim.classroom.classroom import (
    NO_LESSON,
    add_lessons_option,
    available_lessons,
    lessons_option,
)
from alignment_sim.classroom.game.session import (
    DEFAULT_ROUND_SECONDS,
    DEFAULT_TEAM_SIZE,
    DEFAULT_TICKS_PER_ROUND,
    GameSession,
)
from alignment_sim.errors import ConfigError
from alignment_sim.outputs.files import CommandParser

DEFAULT_PORT = 8770


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = CommandParser(
        prog="alignment-sim-class",
        description="Run a classroom game: students play the states from their phones.",
    )
    parser.add_argument(
        "--host",
        default="0.0.0.0",
        help="address to listen on (default 0.0.0.0: every network of this machine, so "
        "phones on the same Wi-Fi can join; 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--lesson",
        default=NO_LESSON,
        help=f"a lesson ({', '.join(available_lessons()) or 'none found'}) or {NO_LESSON}",
    )
    add_lessons_option(parser)
    parser.add_argument("--seed", type=int, default=0, help="the model's seed (default 0)")
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=None,
        help="time students have to answer each round, seconds (default: the lesson's, "
        f"else {DEFAULT_ROUND_SECONDS:g})",
    )
    parser.add_argument(
        "--ticks-per-round",
        type=int,
        default=None,
        help="quarters played per round (default: the lesson's, else "
        f"{DEFAULT_TICKS_PER_ROUND}: a year)",
    )
    parser.add_argument(
        "--all-states",
        action="store_true",
        help="offer students every state, not only the lesson's suggested ones",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds in the game (default: ten years' worth)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where the game's debrief is saved when it stops (default results/class/<time>)",
    )
    parser.add_argument(
        "--team-size",
        type=int,
        default=DEFAULT_TEAM_SIZE,
        help=f"students who can share a state (default {DEFAULT_TEAM_SIZE}: a class of up to "
        f"{DEFAULT_TEAM_SIZE * 11} on the 11 states; each team's choice is its majority)",
    )
    args = parser.parse_args(argv)
    folder = lessons_option(parser, args.lessons)
    args.lessons = str(folder) if folder is not None else None
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: expected a port number in [0, 65535]")
    if args.round_seconds is not None and not (
        math.isfinite(args.round_seconds) and args.round_seconds > 0
    ):
        parser.error(f"--round-seconds {args.round_seconds}: expected a number of seconds > 0")
    if args.ticks_per_round is not None and args.ticks_per_round < 1:
        parser.error(f"--ticks-per-round {args.ticks_per_round}: expected a whole number >= 1")
    if args.team_size < 1:
        parser.error(f"--team-size {args.team_size}: expected a whole number >= 1")
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: expected a whole number >= 1")
    return args


def setup_words(session: GameSession) -> str:
    """One line on the game's setup: the lesson, its rounds and the states students play."""
    labels = [session.model.world.state_labels[session.states.index(s)] for s in session.offered]
    played = (
        "every state"
        if session.all_states
        else ", ".join(labels) + " (--all-states offers every state)"
    )
    return (
        f"{session.info['title']}: {session.rounds} rounds of {session.ticks_per_round} "
        f"quarters, {session.round_seconds:g} s to answer; students play {played}; "
        f"up to {session.team_size} a state."
    )


def save_game(session: GameSession, out: Path | None) -> Path | None:
    """The game's debrief written to ``out`` (``results/class/<time>`` when None), as the
    teacher's export holds it (``debrief.write_export``), and a line saying where; None,
    and a line saying so, when no round was played or the folder cannot be written."""
    from alignment_sim.classroom.debrief import write_export
    from alignment_sim.classroom.game.server import DebriefCache
    from alignment_sim.classroom.game.session import GameError
    from alignment_sim.outputs.files import os_error_text, timestamped_folder

    try:
        debrief = DebriefCache(session).current()
    except GameError:
        print("alignment-sim class game: no round was played, nothing to save.")
        return None
    folder = out if out is not None else timestamped_folder("class")
    try:
        write_export(debrief, folder)
    except OSError as exc:
        print(f"alignment-sim-class: the game was not saved: {os_error_text(exc)}", file=sys.stderr)
        return None
    print(f"alignment-sim class game: saved the game's debrief in {folder}")
    return folder


def main(argv: list[str] | None = None) -> None:
    """Serve a game until Ctrl+C, then save it (``save_game``). A bad lesson, a port in
    use or a host that cannot be listened on ends the command with one line on stderr and
    exit status 2."""
    args = parse_args(argv)
    from alignment_sim.classroom.game.server import start_game_server

    try:
        session = GameSession(
            lesson=args.lesson,
            lessons_dir=args.lessons,
            seed=args.seed,
            ticks_per_round=args.ticks_per_round,
            round_seconds=args.round_seconds,
            rounds=args.rounds,
            team_size=args.team_size,
            paused=True,
            all_states=args.all_states,
        )
        if args.port:
            check_address(args.host, args.port)
        teacher_url, stop = start_game_server(session, args.host, args.port)
    except (ConfigError, ServeError, OSError) as exc:
        print(f"alignment-sim-class: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"alignment-sim class game: teacher's page (keep it private): {teacher_url}")
    print(f"students join at: {session.join_url}")
    print(setup_words(session))
    if session.join_url.startswith("http://127."):
        print("(only this machine can join: use --host 0.0.0.0 for phones on the network)")
    print(
        "The game starts paused: press 'Start / resume' once the class has joined "
        "(Ctrl+C stops the game).",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        save_game(session, args.out)


if __name__ == "__main__":
    main()
