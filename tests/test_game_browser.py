"""The classroom game in a real browser: a teacher and four students, each in their own
Chromium context (Debian's Chromium driven by Playwright), play two rounds.

Two students share Belarus (a team: its choice is each choice's majority, a tie to the
earliest vote); one student does not answer and the model plays for them (the teacher's
page says so); the teacher drops an event; a reload rejoins the same seat; a forged
choice gets a message on the student's page and the game goes on. The teacher ends the
game, downloads the debrief's zip and the test reads it back; the debrief page shows each
student's vote beside the team's and the model's. Every request to anything but
127.0.0.1 is blocked and counted: the game must work without a network. Screenshots of
the teacher's dashboard and of a student's phone go to ``results/screenshots/``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import ROOT
from test_viz_browser import CHROMIUM, CHROMIUM_ARGS, guard_offline, skip_or_fail

from alignment_sim.classroom.game.server import start_game_server
from alignment_sim.classroom.game.session import GameSession

SHOTS = ROOT / "results" / "screenshots"
WAIT_MS = 20_000
ROUND_SECONDS = 6.0
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow


@pytest.fixture
def game() -> Iterator[tuple[GameSession, str]]:
    session = GameSession(
        lessons_dir=str(ROOT / "experiments" / "lessons"),
        rounds=3,
        ticks_per_round=2,
        round_seconds=ROUND_SECONDS,
        team_size=2,
        paused=True,
    )
    teacher_url, stop = start_game_server(session, "127.0.0.1", 0)
    try:
        yield session, teacher_url
    finally:
        stop()


def test_a_class_plays_two_rounds_in_chromium(game: tuple[GameSession, str]) -> None:
    if not CHROMIUM.exists():
        skip_or_fail(f"no browser at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    session, teacher_url = game
    join_url = teacher_url.split("/?")[0] + "/join"
    blocked: list[str] = []
    failures: list[str] = []

    def watch(page: Any) -> Any:
        guard_offline(page, blocked, failures)
        page.set_default_timeout(WAIT_MS)
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            teacher = watch(
                browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            )
            teacher.goto(teacher_url)
            expect(teacher.locator("#join-url")).to_have_text(join_url)
            expect(teacher.locator("#paused")).to_be_visible()

            students = {}
            for name, state in (
                ("Anna", "belarus"),
                ("Ben", ""),
                ("Cleo", "georgia"),
                ("Dora", "belarus"),
            ):
                page = watch(browser.new_context(viewport=PHONE, is_mobile=True).new_page())
                page.goto(join_url)
                page.locator("#join-state option[value='belarus']").wait_for(state="attached")
                page.fill("#join-name", name)
                page.select_option("#join-state", state)
                page.click("#join-btn")
                students[name] = page
            expect(students["Ben"].locator("#state-title")).to_have_text("Ukraine (Ben)")
            expect(teacher.locator("#answered-count")).to_have_text("0 of 4 players answered")
            belarus = teacher.locator("#seats tr[data-state='belarus']")
            expect(belarus).to_contain_text("Anna, Dora")
            expect(students["Dora"].locator("#team")).to_contain_text("Anna, Dora (you)")

            teacher.select_option("#event-kind", "colour_revolution")
            teacher.select_option("#event-target", "georgia")
            teacher.click("#drop")
            expect(teacher.locator("#events-log")).to_have_text(
                "Round 1: colour revolution in Georgia"
            )

            def answer(page: Any, security: str, economy: str) -> None:
                page.click(f"#opt-security button[data-value='{security}']")
                page.click(f"#opt-economy button[data-value='{economy}']")
                page.click("#send")
                expect(page.locator("#answered")).to_contain_text("Answered")

            expect(students["Anna"].locator("#situation")).to_contain_text("Pays you a year")
            answer(students["Anna"], "west", "china")
            answer(students["Ben"], "none", "open")
            answer(students["Dora"], "west", "west")  # economy 1-1: Anna's vote came first
            expect(teacher.locator("#answered-count")).to_have_text("3 of 4 players answered")
            # answers count while paused; the clock starts now and Cleo never answers
            teacher.click("#resume")
            expect(teacher.locator("#paused")).to_be_hidden()
            # Cleo does not answer: the clock closes round 1 and the model plays Georgia
            expect(teacher.locator("#round")).to_have_text(
                "Round 2 of 3", timeout=int(ROUND_SECONDS * 1000) + WAIT_MS
            )
            georgia = teacher.locator("#seats tr[data-state='georgia']")
            expect(georgia).to_contain_text("nobody answered in time: the model played")
            expect(belarus).to_contain_text("Security: the West · Economy: China")
            expect(students["Dora"].locator("#last-round")).to_contain_text(
                "You voted: With the West; The West. Your team chose: With the West; China."
            )

            cleo = students["Cleo"]
            cleo.reload()
            expect(cleo.locator("#state-title")).to_have_text("Georgia (Cleo)")
            expect(cleo.locator("#last-round")).to_contain_text("You did not answer in time")
            assert len(session.players) == 4, "the reload rejoined the same seat"

            anna = students["Anna"]
            expect(anna.locator("#last-round")).to_contain_text(
                "You voted: With the West; China. Your team chose: With the West; China."
            )
            anna.evaluate(
                "document.querySelector(\"#opt-security button[data-value='west']\")"
                ".dataset.value = 'nato'"
            )
            anna.click("#opt-security button[data-value='nato']")
            anna.click("#send")
            expect(anna.locator("#msg")).to_contain_text("'nato' is not a security choice")
            assert "Traceback" not in anna.locator("body").inner_text()
            anna.click("#opt-security button[data-value='russia']")
            anna.click("#send")
            expect(anna.locator("#msg")).to_be_empty()
            answer(students["Ben"], "west", "west")
            answer(cleo, "west", "west")
            # Dora does not vote: Belarus plays Anna's vote; the clock closes round 2
            expect(teacher.locator("#round")).to_have_text(
                "Round 3 of 3", timeout=int(ROUND_SECONDS * 1000) + WAIT_MS
            )

            SHOTS.mkdir(parents=True, exist_ok=True)
            teacher.screenshot(path=str(SHOTS / "game_teacher.png"), full_page=True)
            anna.evaluate("window.scrollTo(0, 0)")
            anna.screenshot(path=str(SHOTS / "game_student_phone.png"), full_page=True)

            plays = session.plays_frame().set_index(["round", "state"])
            assert plays.loc[(1, "georgia"), "timed_out"]
            assert plays.loc[(1, "belarus"), "chosen"] == "west/china"
            assert plays.loc[(2, "belarus"), "chosen"] == "russia/china", "kept economy"
            assert plays.loc[(2, "georgia"), ["answered", "chosen"]].tolist() == [True, "west/west"]
            assert session.events_frame()["kind"].tolist() == ["colour_revolution"]

            assert plays.loc[(2, "belarus"), "player"] == "Anna, Dora"

            teacher.on("dialog", lambda dialog: dialog.accept())
            teacher.click("#end")
            expect(teacher.locator("#over")).to_be_visible()
            with teacher.expect_download(timeout=60_000) as download:
                teacher.click("#export-link")
            check_export(Path(download.value.path()), session)
            teacher.click("#debrief-link")
            expect(teacher.locator("#students")).to_contain_text("The team's choice")
            dora = teacher.locator("#students h3", has_text="Dora: Belarus")
            expect(dora).to_be_visible()
            assert "Traceback" not in teacher.locator("body").inner_text()
        finally:
            browser.close()
    assert not blocked, f"the game tried to reach the network: {blocked}"
    assert not failures, failures


def check_export(path: Path, session: GameSession) -> None:
    """The zip the teacher downloaded: every round of every state, the timed-out team,
    the dropped event, each student's vote and the one-page summary."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"rounds.csv", "votes.csv", "summary.pdf", "manifest.json"} <= names, names
        assert archive.read("summary.pdf").startswith(b"%PDF")
        rounds = pd.read_csv(io.BytesIO(archive.read("rounds.csv")), keep_default_na=False)
        votes = pd.read_csv(io.BytesIO(archive.read("votes.csv")), keep_default_na=False)
    states = session.model.world.n_states
    assert session.model.tick == 4, "two rounds of two ticks"
    assert len(rounds) == 4 * states and set(rounds["tick"]) == {1, 2, 3, 4}
    georgia = rounds[rounds["state"] == "georgia"].set_index("tick")
    assert georgia.loc[[1, 2], "timed_out"].tolist() == [True, True], "round 1: nobody answered"
    assert georgia.loc[[1, 2], "player"].tolist() == ["Cleo", "Cleo"]
    assert georgia.loc[3, "answered"] and not georgia.loc[3, "timed_out"]
    dropped = rounds[rounds["events_dropped"] != ""]
    assert set(dropped["tick"]) == {1}
    assert set(dropped["events_dropped"]) == {"colour_revolution on georgia (teacher)"}
    belarus = rounds[(rounds["state"] == "belarus") & (rounds["tick"] == 1)].iloc[0]
    assert (belarus["player"], belarus["chosen"]) == ("Anna, Dora", "west/china")
    votes = votes.set_index(["round", "player"])
    assert votes.loc[(1, "Dora"), ["vote", "team_choice"]].tolist() == ["west/west", "west/china"]
    assert votes.loc[(2, "Dora"), ["voted", "vote"]].tolist() == [False, ""]
    assert votes.loc[(2, "Anna"), ["vote", "team_choice"]].tolist() == [
        "russia/china",
        "russia/china",
    ]
