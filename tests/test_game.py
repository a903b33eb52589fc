"""The classroom game: the session's rules with a fake clock, and its server's answers.

The session is plain Python (``classroom.game.session``); the server
(``classroom.game.server``) is started for real on 127.0.0.1 and asked over HTTP with
urllib (Starlette's TestClient needs httpx, which the project does not install).
"""

from __future__ import annotations

import copy
import html
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT

from alignment_sim.classroom.classroom import ClassroomModel
from alignment_sim.classroom.game.server import start_game_server
from alignment_sim.classroom.game.session import (
    SUGGESTED_BY,
    GameError,
    GameSession,
    change_words,
    glossed_texts,
    short_words,
)
from alignment_sim.classroom.glossary import glossary
from alignment_sim.errors import ConfigError
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.params import EventSpec

LESSONS = str(ROOT / "experiments" / "lessons")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def game(**kwargs: Any) -> tuple[GameSession, FakeClock]:
    clock = FakeClock()
    options: dict[str, Any] = {"round_seconds": 60.0, "rounds": 3, "clock": clock}
    options.update(kwargs)
    return GameSession(lessons_dir=LESSONS, **options), clock


def test_join_rejoin_and_a_full_team() -> None:
    session, _ = game(team_size=2)
    anna = session.join("  Anna  ", "Belarus")
    assert (anna.state, anna.name) == ("belarus", "Anna")
    ben = session.join("Ben")
    assert ben.state == "ukraine", "no state asked: the emptiest team, in the region's order"
    dora = session.join("Dora", "belarus")
    assert [seat.name for seat in session.members("belarus")] == ["Anna", "Dora"]
    with pytest.raises(GameError, match=r"Belarus's team is full \(Anna, Dora\)"):
        session.join("Cleo", "belarus")
    with pytest.raises(GameError, match="Someone called anna has already joined"):
        session.join("anna", "moldova")
    with pytest.raises(GameError, match="no state called 'Narnia'"):
        session.join("Cleo", "Narnia")
    with pytest.raises(GameError, match="Type your name"):
        session.join("   ")
    assert session.rejoin(anna.token) == anna and dora.token != anna.token
    with pytest.raises(GameError) as unknown:
        session.rejoin("not-a-token")
    assert unknown.value.status == 404
    assert anna.token != ben.token and len(anna.token) >= 16


def test_forged_choice_is_refused_and_a_second_answer_replaces_the_first() -> None:
    session, _ = game()
    seat = session.join("Anna", "georgia")
    with pytest.raises(GameError, match="'nato' is not a security choice"):
        session.submit(seat.token, "nato", "west")
    with pytest.raises(GameError, match="not an economic choice"):
        session.submit(seat.token, "west", "russia/russia")
    assert session.answers == {}, "a forged answer leaves nothing behind"
    session.submit(seat.token, "west", "west")
    session.submit(seat.token, "none", "open")
    space = session.model.world.space
    assert session.answers["georgia"] == (
        space.security_options.index("none"),
        space.economic_options.index("open"),
    )


def test_timeout_lets_the_model_play_and_the_log_says_so() -> None:
    session, clock = game(ticks_per_round=4)
    anna = session.join("Anna", "belarus")
    session.join("Ben", "ukraine")
    session.submit(anna.token, "russia", "russia")
    clock.now = 59.9
    assert not session.tick_if_due(), "Ben has not answered and time is not up"
    clock.now = 60.0
    assert session.tick_if_due()
    assert session.model.tick == 4 and session.round == 2
    assert session.seconds_left() == pytest.approx(60.0)
    plays = session.plays_frame().set_index("state")
    assert len(plays) == len(session.states)
    assert plays.loc["belarus", ["player", "answered", "timed_out"]].tolist() == [
        "Anna",
        True,
        False,
    ]
    assert plays.loc["ukraine", ["player", "answered", "timed_out"]].tolist() == [
        "Ben",
        False,
        True,
    ]
    assert plays.loc["moldova", ["player", "answered", "timed_out"]].tolist() == [
        "model",
        False,
        False,
    ]
    played_by_model = plays[~plays["answered"]]
    assert (played_by_model["chosen"] == played_by_model["model_choice"]).all()
    assert set(plays["date"]) == {"2015 Q2"} and set(plays["tick"]) == {1}
    view = session.teacher_view()
    ukraine = next(s for s in view["seats"] if s["state"] == "ukraine")
    assert ukraine["player"] == "Ben" and ukraine["last"] == (
        f"{short_words(plays.loc['ukraine', 'chosen'])} (nobody answered in time: the model played)"
    )
    assert short_words("russia/china") == "Security: Russia · Economy: China"


def test_a_move_is_told_by_the_choices_it_changes() -> None:
    assert change_words("none/open", "russia/open") == "security: no alliance -> Russia"
    assert change_words("russia/russia", "west/china") == (
        "security: Russia -> the West; economy: Russia -> China"
    )
    assert change_words("none/open", "none/open") == "no change"


def test_a_directed_choice_is_committed_and_held_through_the_round() -> None:
    session, _ = game(ticks_per_round=3)
    solo = ClassroomModel(seed=0, ticks=9)
    solo.step()
    space = session.model.world.space
    i = session.states.index("belarus")
    own = space.profiles[int(solo.trajectory.alignment[0, 1, i])]
    assert own == "russia/russia", "the model keeps Belarus with Russia at the first tick"
    seat = session.join("Anna", "belarus")
    session.submit(seat.token, "west", "china")
    session.advance()
    played = session.model.trajectory.alignment[0, 1:4, i]
    assert [space.profiles[int(p)] for p in played] == ["west/china"] * 3
    row = session.plays_frame().set_index("state").loc["belarus"]
    assert (row["chosen"], row["model_choice"]) == ("west/china", own)
    assert all(chooser.directed is None for chooser in session.model.choosers)


def test_a_stopped_game_is_saved_once_a_round_was_played(tmp_path: Path, capsys) -> None:
    """Ctrl+C used to lose the game: the command saves its debrief, the files of the
    teacher's export, when it stops; before any round there is nothing to save."""
    from alignment_sim.classroom.debrief import EXPORT_FILES
    from alignment_sim.classroom.game.__main__ import save_game
    from alignment_sim.outputs.files import job_status

    session, _ = game()
    assert save_game(session, tmp_path / "none") is None
    assert "no round was played" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()
    seat = session.join("Anna", "belarus")
    session.submit(seat.token, "west", "china")
    session.advance()
    folder = save_game(session, tmp_path / "class")
    assert folder == tmp_path / "class" and job_status(folder).complete
    assert sorted(p.name for p in folder.iterdir()) == sorted([*EXPORT_FILES, "manifest.json"])
    assert "Anna" in (folder / "students.csv").read_text()
    assert f"saved the game's debrief in {folder}" in capsys.readouterr().out


def test_every_answer_in_closes_the_round_early() -> None:
    session, clock = game()
    seats = [session.join(name) for name in ("Anna", "Ben")]
    assert not session.due(), "nobody has answered"
    for seat in seats:
        session.submit(seat.token, "none", "open")
    clock.now = 1.0
    assert session.tick_if_due() and session.round == 2


def test_pause_stops_the_clock() -> None:
    session, clock = game()
    session.join("Anna")
    clock.now = 10.0
    session.pause()
    assert session.seconds_left() is None
    clock.now = 1000.0
    assert not session.tick_if_due(), "paused: the deadline waits"
    session.resume()
    assert session.seconds_left() == pytest.approx(50.0)
    clock.now = 1049.0
    assert not session.tick_if_due()
    clock.now = 1050.0
    assert session.tick_if_due()


def test_a_game_starting_paused_waits_for_the_teacher() -> None:
    session, clock = game(paused=True)
    clock.now = 500.0
    assert not session.tick_if_due()
    session.resume()
    assert session.seconds_left() == pytest.approx(60.0)


def test_drop_event_changes_the_parameters_in_force_from_the_next_tick() -> None:
    session, _ = game(ticks_per_round=2)
    model = session.model
    russia = model.world.poles.index("russia")
    seat = session.join("Anna", "belarus")
    offer_before = session.situation(seat.token)["poles"][russia]["offer_bn"]
    row = session.drop_event("russia_recession")
    assert row == {
        "round": 1,
        "tick": 1,
        "kind": "russia_recession",
        "targets": "",
        "by": "teacher",
    }
    offer_after = session.situation(seat.token)["poles"][russia]["offer_bn"]
    assert offer_after < offer_before, "the situation shows the next tick's offers"
    budget = float(model.world.pole.budget_bn[russia])
    session.advance()
    # data/event_kinds.yaml: russia_recession scales Russia's budget by 0.4
    assert float(np.asarray(model.params[1].budget_bn).reshape(-1)[russia]) == pytest.approx(
        0.4 * budget
    )
    assert model.trajectory.active[0, :2, -1].tolist() == [True, True]
    session.drop_event("colour_revolution", ["Georgia"])
    assert session.events_frame()["targets"].tolist() == ["", "georgia"]
    with pytest.raises(GameError, match="'coup' is not an event"):
        session.drop_event("coup")
    with pytest.raises(GameError, match="needs at least one state"):
        session.drop_event("colour_revolution")
    with pytest.raises(GameError, match="no state called 'Atlantis'"):
        session.drop_event("colour_revolution", ["Atlantis"])
    assert len(session.events_frame()) == 2


def test_a_dropped_event_equals_the_same_event_scheduled_from_the_start() -> None:
    """Dropping an event mid-run changes nothing else: the run equals, bit for bit, a run
    whose scenario had the event at that tick from the start (same seed)."""
    model = ClassroomModel(seed=3, ticks=12)
    for _ in range(5):
        model.step()
    assert model.drop_event("succession_crisis", ["uzbekistan"], duration=4)
    with pytest.raises(ConfigError, match="coup"):  # a library's use: raised, nothing changed
        model.drop_event("coup")
    model.as_message = True  # the app's: a message, and False
    assert not model.drop_event("coup"), "an unknown kind changes nothing"
    assert "coup" in (model.message or "")
    while model.running:
        model.step()
    planned = copy.deepcopy(ClassroomModel(seed=3, ticks=12).config)
    planned.scenario.events.append(
        EventSpec(kind="succession_crisis", at=6, duration=4, targets=["uzbekistan"])
    )
    reference = AlignmentModel(planned)
    reference.run()
    assert np.array_equal(model.trajectory.alignment, reference.trajectory.alignment)
    assert np.array_equal(model.trajectory.active, reference.trajectory.active)
    assert model.trajectory.active[0, :, 0].sum() == 4


def test_levers_are_logged_with_their_previous_value() -> None:
    session, _ = game()
    before = session.model.levers()["stance"]
    session.set_levers({"stance": 0.5})
    frame = session.levers_frame()
    assert frame.iloc[0][["lever", "value", "previous", "tick"]].tolist() == [
        "stance",
        0.5,
        before,
        1,
    ]
    with pytest.raises(GameError, match="lever"):
        session.set_levers({"gravity": 1.0})


def test_the_game_ends_after_its_rounds() -> None:
    session, _ = game(rounds=2, ticks_per_round=2)
    seat = session.join("Anna")
    session.advance()
    session.advance()
    assert session.closed and session.model.tick == 4
    assert len(session.plays_frame()) == 2 * len(session.states)
    with pytest.raises(GameError, match="ended"):
        session.join("Ben")
    with pytest.raises(GameError, match="ended"):
        session.submit(seat.token, "none", "open")
    with pytest.raises(GameError, match="ended"):
        session.advance()
    assert not session.tick_if_due()


def test_a_western_offer_shows_as_a_pledge_to_its_target() -> None:
    session, _ = game(ticks_per_round=2)
    west = session.model.world.poles.index("west")
    seat = session.join("Anna", "belarus")
    assert session.situation(seat.token)["poles"][west]["pledge_bn"] == 0.0
    session.drop_event("western_offer", ["belarus"])
    # data/event_kinds.yaml: western_offer pledges US$3bn a year to its targets
    words = session.situation(seat.token)
    assert words["poles"][west]["pledge_bn"] == 3.0
    assert any("pledges US$ 3.00 bn a year if you stay out" in s for s in words["sentences"])


def test_the_situation_is_in_plain_words_and_matches_the_model() -> None:
    session, _ = game(ticks_per_round=1)
    seat = session.join("Anna", "armenia")
    words = session.situation(seat.token)
    session.advance()  # the model plays Armenia: the first tick starts from what was shown
    i = session.states.index("armenia")
    for b, pole in enumerate(words["poles"]):
        assert pole["offer_bn"] == round(float(session.model.snapshot.offers[0, b, i]), 2)
    after = session.situation(seat.token)
    text = json.dumps([words, after]).lower()
    for jargon in ("utility", "logit", "regime_security"):
        assert jargon not in text
    assert after["last_round"]["you"].startswith("You did not answer in time")
    assert "the model chose for your state" in after["last_round"]["you"]
    assert len(after["last_round"]["why"]) == 2
    # capitals: Tbilisi about 170 km from Yerevan, Baku 450 km, Ashgabat 1,200 km
    assert [n["label"] for n in words["neighbours"]] == ["Georgia", "Azerbaijan", "Turkmenistan"]


MARK = re.compile(r'<abbr class="as-term" tabindex="0" title="([^"]*)">([^<]*)</abbr>')


def marked(text: str) -> set[str]:
    """The words a glossed HTML text marks (lower case), each checked against its
    definition in glossary.yaml."""
    words = {name.lower(): definition for name, definition in glossary().items()}
    for title, word in MARK.findall(text):
        assert html.unescape(title) == words[word.lower()], word
    return {word.lower() for _, word in MARK.findall(text)}


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def test_glossed_texts_escape_and_mark_each_terms_first_use() -> None:
    union = html.escape(glossary()["union"], quote=True)
    trade = html.escape(glossary()["trade"], quote=True)
    assert glossed_texts(["a <b>union</b> & trade", "trade, union"]) == [
        f'a &lt;b&gt;<abbr class="as-term" tabindex="0" title="{union}">union</abbr>&lt;/b&gt;'
        f' &amp; <abbr class="as-term" tabindex="0" title="{trade}">trade</abbr>',
        "trade, union",
    ]
    assert glossed_texts([]) == []


def test_what_a_student_reads_is_glossed_and_their_name_stays_text() -> None:
    session, _ = game(ticks_per_round=1)
    name = '<img src=x onerror="alert(1)">Eve & co'
    seat = session.join(name, "armenia")
    session.drop_event("western_sanctions", ["armenia"])
    session.advance()
    view = session.situation(seat.token)
    shown = view["html"]
    camp = "camp" if "camp" in view["sentences"][1] else "hedging"
    assert plain(shown["situation"]) == " ".join(view["sentences"][:2])
    assert camp in marked(shown["situation"])
    assert [marked(c) for c in shown["columns"]] == [set(), {"trade"}, {"threat"}]
    assert marked(shown["staying"]) == {"staying out of blocs"}
    helps = {d: "".join(o["help_html"] for o in view["options"][d]) for d in view["options"]}
    assert {"alliance", "csto", "protection"} <= marked(helps["security"])
    assert {"customs union", "eurasian economic union", "eu", "conditions"} <= marked(
        helps["economy"]
    )
    last = view["last_round"]
    report = last["html"]
    assert plain(report["summary"]) == f"{last['you']} {last['model']}"
    assert [plain(w) for w in report["why"]] == last["why"]
    assert plain(report["events"]) == "western sanctions in Armenia"
    assert marked(report["events"]) == {"sanctions"}
    for line, words in zip(last["why"], report["why"], strict=True):
        if "protection" in line:  # a reason in the model's words is glossed
            assert "protection" in marked(words)
    teacher = session.teacher_view()
    armenia = next(s for s in teacher["seats"] if s["state"] == "armenia")
    assert armenia["players"] == [name], "the teacher's page escapes names itself"
    assert teacher["events"][0]["text_html"].endswith("sanctions</abbr> in Armenia")
    # a typed name is data for the page to escape, never glossed or turned into HTML
    assert view["player"] == name and view["team"][0]["name"] == name
    teachers = [s["now_html"] for s in teacher["seats"]] + [teacher["events"][0]["text_html"]]
    assert "onerror" not in json.dumps([view["html"], view["options"], last["html"], teachers])


def test_every_state_full_is_a_message() -> None:
    session, _ = game(team_size=1)
    seats = [session.join(f"Student {n}") for n in range(len(session.states))]
    assert sorted(seat.state for seat in seats) == sorted(session.states)
    with pytest.raises(GameError, match=r"Every state is full \(1 players each\)"):
        session.join("Late")


def test_a_class_of_30_fills_the_teams_evenly() -> None:
    session, _ = game()
    seats = [session.join(f"Student {n}") for n in range(30)]
    sizes = sorted(len(session.teams[state]) for state in session.states)
    assert sizes == [2] * 3 + [3] * 8, "30 students on 11 states: the emptiest team first"
    assert len({seat.token for seat in seats}) == 30


def test_the_teams_choice_is_each_choices_majority_and_a_tie_goes_to_the_earliest() -> None:
    session, clock = game()
    space = session.model.world.space
    team = [session.join(name, "georgia") for name in ("Anna", "Ben", "Cleo", "Dan")]
    session.join("Eve", "armenia")
    session.submit(team[1].token, "west", "china")  # the earliest vote
    session.submit(team[0].token, "russia", "west")
    session.submit(team[2].token, "west", "west")
    security, economy = session.team_choice("georgia")
    # security: west 2, russia 1; economy: china 1, west 2
    assert (space.security_options[security], space.economic_options[economy]) == (
        "west",
        "west",
    )
    session.submit(team[2].token, "russia", "open")  # a changed vote counts from its change
    security, economy = session.team_choice("georgia")
    # security: west 1 (Ben, 1st), russia 2; economy: china (Ben, 1st), west, open: 1 each
    assert (space.security_options[security], space.economic_options[economy]) == (
        "russia",
        "china",
    )
    session.submit(team[3].token, "west", "west")
    security, economy = session.team_choice("georgia")
    # security: 2-2, Ben's west came before Anna's russia; economy: west 2
    assert (space.security_options[security], space.economic_options[economy]) == (
        "west",
        "west",
    )
    assert session.team_choice("armenia") is None
    assert not session.due(), "Eve has not voted"
    clock.now = 60.0
    assert session.tick_if_due()
    plays = session.plays_frame().set_index("state")
    assert plays.loc["georgia", ["player", "chosen", "answered", "timed_out"]].tolist() == [
        "Anna, Ben, Cleo, Dan",
        "west/west",
        True,
        False,
    ]
    assert plays.loc["armenia", ["player", "answered", "timed_out"]].tolist() == [
        "Eve",
        False,
        True,
    ]
    votes = session.votes_frame().set_index("player")
    assert votes.loc["Ben", ["vote", "team_choice", "team_size"]].tolist() == [
        "west/china",
        "west/west",
        4,
    ]
    assert votes.loc["Eve", ["vote", "voted"]].tolist() == ["", False]
    assert (votes["model_choice"] == votes["state"].map(plays["model_choice"])).all()
    ben = session.situation(team[1].token)
    assert [m["name"] for m in ben["team"]] == ["Anna", "Ben", "Cleo", "Dan"]
    assert ben["last_round"]["you"] == (
        "You voted: With the West; China. Your team chose: With the West; The West."
    )
    assert ben["last_round"]["your_vote"] == "With the West; China"


def test_versions_move_with_the_world_and_with_each_team() -> None:
    session, _ = game()
    anna = session.join("Anna", "georgia")
    ben = session.join("Ben", "armenia")
    georgia, armenia = session.version_for("georgia"), session.version_for("armenia")
    session.submit(anna.token, "west", "west")
    assert session.version_for("georgia") > georgia
    assert session.version_for("armenia") == armenia, "another team's vote changes nothing"
    assert session.situation(ben.token)["version"] == armenia
    session.drop_event("russia_recession")
    assert session.version_for("armenia") > armenia, "an event changes every student's page"
    assert session.teacher_view()["version"] == session.changes


def test_bad_game_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="ticks_per_round"):
        GameSession(ticks_per_round=0)
    with pytest.raises(ConfigError, match="round_seconds"):
        GameSession(round_seconds=float("nan"))
    with pytest.raises(ConfigError, match="team_size"):
        GameSession(team_size=0)
    with pytest.raises(ConfigError, match="lesson"):
        GameSession(lesson="no_such_lesson", lessons_dir=LESSONS)
    with pytest.raises(ConfigError, match="all_states"):
        GameSession(all_states="yes")  # type: ignore[arg-type]
    # the game's own settings named, not the model's ticks it has no option for
    with pytest.raises(ConfigError, match=r"rounds = 200: .*At most 100 rounds of 4"):
        GameSession(rounds=200)
    with pytest.raises(ConfigError, match=r"ticks_per_round = 500: expected a whole number 1-400"):
        GameSession(ticks_per_round=500)


# --- the server ---------------------------------------------------------------------------


def serve() -> Iterator[tuple[GameSession, str]]:
    session = GameSession(lessons_dir=LESSONS, rounds=3, round_seconds=60.0, team_size=1)
    teacher_url, stop = start_game_server(session, "127.0.0.1", 0)
    try:
        yield session, teacher_url.split("/?")[0]
    finally:
        stop()


served = pytest.fixture(serve, name="served")
one_server = pytest.fixture(serve, scope="module", name="one_server")


def ask(
    url: str, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            status, kind, got = response.status, response.headers.get_content_type(), response
    except urllib.error.HTTPError as exc:
        payload, status, kind, got = exc.read(), exc.code, exc.headers.get_content_type(), exc
    parsed = json.loads(payload) if kind == "application/json" else payload.decode()
    return status, parsed, dict(got.headers)


def test_the_servers_slower_housekeeping_is_in_force_with_the_installed_uvicorn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The override fits this uvicorn (else an upgrade silently costs an idle game CPU),
    and a uvicorn whose loop it does not fit keeps its own server."""
    import uvicorn

    from alignment_sim.classroom.game import server

    chosen = server.server_class()
    assert chosen is not uvicorn.Server and issubclass(chosen, uvicorn.Server)

    async def other_on_tick(self: Any, counter: int, extra: int = 0) -> bool:
        return True

    monkeypatch.setattr(uvicorn.Server, "on_tick", other_on_tick)
    assert server.server_class() is uvicorn.Server


def test_the_server_plays_a_round(served: tuple[GameSession, str]) -> None:
    session, base = served
    status, seat, headers = ask(f"{base}/api/join", {"name": "Anna", "state": "Moldova"})
    assert status == 200 and seat["state"] == "moldova"
    assert seat["token"] in headers["set-cookie"], "the cookie holds the seat for a reload"
    status, again, _ = ask(f"{base}/api/rejoin", {"token": seat["token"]})
    assert (status, again["state"]) == (200, "moldova")
    _, state, _ = ask(f"{base}/api/state?token={seat['token']}")
    assert state["label"] == "Moldova" and state["round"] == 1
    status, _, _ = ask(
        f"{base}/api/submit", {"token": seat["token"], "security": "west", "economy": "west"}
    )
    assert status == 200
    assert session.round == 2, "the only player answered: the round closed at once"
    key = session.teacher_key
    _, view, _ = ask(f"{base}/api/teacher?key={key}")
    moldova = next(s for s in view["seats"] if s["state"] == "moldova")
    assert moldova["last"].startswith("Security: the West · Economy: the West (")
    assert view["join_url"].endswith("/join")
    status, _, _ = ask(
        f"{base}/api/teacher/event?key={key}", {"kind": "colour_revolution", "targets": ["georgia"]}
    )
    assert status == 200 and len(session.events_frame()) == 1
    _, view, _ = ask(f"{base}/api/teacher?key={key}")
    assert view["events"][0]["text"] == "Round 2: colour revolution in Georgia"
    status, page, _ = ask(f"{base}/debrief?key={key}")
    assert status == 200 and "Moldova" in page and f"/export.zip?key={key}" in page
    status, svg, _ = ask(f"{base}/map.svg?state=moldova")
    assert status == 200 and svg.startswith("<svg")
    status, qr, _ = ask(f"{base}/qr.svg")
    assert status == 200 and "<svg" in qr
    status, css, headers = ask(f"{base}/glossary.css")
    assert (
        status == 200 and "abbr.as-term" in css and headers["content-type"].startswith("text/css")
    )
    _, page, _ = ask(f"{base}/join")
    assert '<link rel="stylesheet" href="/glossary.css">' in page
    status, page, _ = ask(f"{base}/?key={key}")
    assert status == 200 and "teacher.js" in page
    status, page, _ = ask(f"{base}/join")
    assert status == 200 and "student.js" in page


BAD_REQUESTS = [
    ("/api/join", None, b"{not json", 400, "unreadable"),
    ("/api/join", None, b"[1, 2]", 400, "unreadable"),
    ("/api/join", {"state": "belarus"}, None, 400, "'name'"),
    ("/api/join", {"name": "x" * 41}, None, 400, "too long"),
    ("/api/join", {"name": "Cleo", "state": "narnia"}, None, 400, "no state called"),
    ("/api/join", {"name": "Cleo", "state": "belarus"}, None, 400, "team is full"),
    ("/api/join", {"name": "Cleo", "state": 7}, None, 400, "'state'"),
    ("/api/join", None, b"x" * 20_000, 413, "too large"),
    ("/api/rejoin", {"token": "forged"}, None, 404, "Join again"),
    ("/api/state", None, None, 404, "Join the game first"),
    ("/api/state?token=forged", None, None, 404, "Join again"),
    ("/api/state?token=$TOKEN&since=x", None, None, 400, "unreadable version"),
    ("/api/submit", {"token": "forged", "security": "west", "economy": "west"}, None, 404, ""),
    ("/api/submit", {"token": "$TOKEN", "security": "nato", "economy": "west"}, None, 400, "nato"),
    ("/api/submit", {"token": "$TOKEN", "security": "west"}, None, 400, "'economy'"),
    ("/api/teacher", None, None, 403, "teacher"),
    ("/api/teacher?key=guess", None, None, 403, "teacher"),
    ("/api/teacher/pause", {}, None, 403, "teacher"),
    ("/api/teacher/event?key=$KEY", {"kind": "coup"}, None, 400, "not an event"),
    ("/api/teacher/event?key=$KEY", {"kind": "war", "targets": 3}, None, 400, "list"),
    ("/api/teacher/levers?key=$KEY", {"values": [1]}, None, 400, "levers"),
    ("/api/teacher/levers?key=$KEY", {"values": {"stance": "high"}}, None, 400, "a number"),
    ("/map.svg?state=narnia", None, None, 400, "No state"),
    ("/debrief", None, None, 403, "teacher"),
    ("/export.zip", None, None, 403, "teacher"),
    ("/no/such/page", None, None, 404, "no such page"),
]


@pytest.mark.parametrize(("path", "body", "raw", "status", "words"), BAD_REQUESTS)
def test_bad_input_gets_a_message_never_a_trace(
    one_server: tuple[GameSession, str],
    path: str,
    body: Any,
    raw: bytes | None,
    status: int,
    words: str,
) -> None:
    session, base = one_server
    seat = (
        session.members("belarus")[0]
        if session.teams["belarus"]
        else session.join("Anna", "belarus")
    )
    path = path.replace("$KEY", session.teacher_key).replace("$TOKEN", seat.token)
    if isinstance(body, dict) and body.get("token") == "$TOKEN":
        body = {**body, "token": seat.token}
    got, answer, _ = ask(f"{base}{path}", body, raw)
    assert got == status
    assert isinstance(answer, dict) and words in answer["error"]
    assert "Traceback" not in answer["error"]
    _, view, _ = ask(f"{base}/api/teacher?key={session.teacher_key}")
    assert view["players"] == 1 and not view["closed"], "the game goes on"


def test_a_wrong_method_is_a_json_error(served: tuple[GameSession, str]) -> None:
    _, base = served
    status, answer, _ = ask(f"{base}/api/seats", raw=b"{}")
    assert status == 405 and "error" in answer


def test_a_poll_since_the_current_version_is_held_then_answers_unchanged(
    served: tuple[GameSession, str],
) -> None:
    session, base = served
    _, anna, _ = ask(f"{base}/api/join", {"name": "Anna", "state": "georgia"})
    _, ben, _ = ask(f"{base}/api/join", {"name": "Ben", "state": "armenia"})
    _, state, _ = ask(f"{base}/api/state?token={anna['token']}")
    version = state["version"]
    started = time.monotonic()
    _, same, _ = ask(f"{base}/api/state?token={anna['token']}&since={version}&wait=0.6")
    assert time.monotonic() - started >= 0.5, "held until the wait ran out"
    assert same == {"unchanged": True, "version": version, "seconds_left": same["seconds_left"]}
    assert 0 < same["seconds_left"] <= 60.0
    # another team's vote does not wake Anna's page; an event does, at once
    timer = threading.Timer(0.3, lambda: session.submit(ben["token"], "west", "west"))
    later = threading.Timer(0.8, lambda: session.drop_event("russia_recession"))
    timer.start()
    later.start()
    started = time.monotonic()
    _, changed, _ = ask(f"{base}/api/state?token={anna['token']}&since={version}&wait=10")
    assert 0.7 <= time.monotonic() - started < 5.0
    assert changed["version"] > version and "sentences" in changed
    key = session.teacher_key
    _, view, _ = ask(f"{base}/api/teacher?key={key}")
    _, same, _ = ask(f"{base}/api/teacher?key={key}&since={view['version']}&wait=0")
    assert same["unchanged"] and same["version"] == view["version"]


def test_the_debrief_waits_for_a_round_then_exports(served: tuple[GameSession, str]) -> None:
    session, base = served
    key = session.teacher_key
    status, page, _ = ask(f"{base}/debrief?key={key}")
    assert status == 400 and "Play at least one round first" in page and "Traceback" not in page
    status, answer, _ = ask(f"{base}/export.zip?key={key}")
    assert status == 400 and "Play at least one round first" in answer["error"]


def test_the_command_takes_a_team_size(capsys: pytest.CaptureFixture[str]) -> None:
    from alignment_sim.classroom.game.__main__ import parse_args

    assert parse_args([]).team_size == 4
    defaults = parse_args([])
    assert (defaults.ticks_per_round, defaults.round_seconds) == (None, None), "the lesson's"
    assert parse_args(["--team-size", "3"]).team_size == 3
    assert parse_args(["--lessons", LESSONS]).lessons == LESSONS  # as the other commands
    with pytest.raises(SystemExit):
        parse_args(["--lessons", LESSONS + "-missing"])
    assert "expected an existing folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--team-size", "0"])
    assert "--team-size 0: expected a whole number >= 1" in capsys.readouterr().err


# --- a lesson's game block ----------------------------------------------------------------

BELARUS = "you_are_belarus"
BELARUS_SEATS = ("belarus", "ukraine", "armenia", "kazakhstan")


def lesson_copy(folder: Path, **game: Any) -> str:
    """A lessons folder holding a copy of you_are_belarus whose game block has ``game``'s
    keys changed; returns the folder."""
    import shutil

    import yaml

    shutil.copytree(Path(LESSONS) / BELARUS, folder / BELARUS)
    preset = folder / BELARUS / "preset.yaml"
    raw = yaml.safe_load(preset.read_text())
    raw["game"].update(game)
    preset.write_text(yaml.safe_dump(raw))
    return str(folder)


def test_the_lessons_game_block_sets_the_round_and_the_seats(tmp_path: Path) -> None:
    clock = FakeClock()
    lessons = lesson_copy(tmp_path, ticks_per_round=2, round_seconds=30)
    session = GameSession(lesson=BELARUS, lessons_dir=lessons, clock=clock)
    assert (session.ticks_per_round, session.round_seconds, session.rounds) == (2, 30.0, 20)
    assert session.seconds_left() == pytest.approx(30.0)
    assert session.offered == BELARUS_SEATS and not session.all_states
    seats = [session.join(f"Student {n}") for n in range(5)]
    assert [seat.state for seat in seats] == [*BELARUS_SEATS, "belarus"], (
        "no state asked: the lesson's seats first, the emptiest team, in the lesson's order"
    )
    with pytest.raises(
        GameError,
        match=r"the class plays Belarus, Ukraine, Armenia, Kaz.*"
        r"the model plays Moldova",
    ):
        session.join("Moldovan", "Moldova")
    assert [row["state"] for row in session.join_choices()] == list(BELARUS_SEATS)
    session.advance()
    assert session.model.tick == 2, "a round plays the block's two quarters"
    real = GameSession(lesson=BELARUS, lessons_dir=LESSONS, clock=clock)
    assert (real.ticks_per_round, real.round_seconds) == (4, 90.0), "the preset's own block"
    view = real.teacher_view()
    assert view["lesson"] == "You are Belarus" and view["offered"] == list(BELARUS_SEATS)
    assert "You govern Belarus in 2015" in view["lesson_info"]["for_students_html"]
    assert "## Questions" not in view["lesson_info"]["for_students"], "only its own section"


def test_explicit_round_settings_win_over_the_lessons() -> None:
    session = GameSession(lesson=BELARUS, lessons_dir=LESSONS, ticks_per_round=3, round_seconds=20)
    assert (session.ticks_per_round, session.round_seconds) == (3, 20.0)
    free = GameSession(lessons_dir=LESSONS)
    assert (free.ticks_per_round, free.round_seconds) == (4, 60.0), "no lesson: 4 and 60"
    assert free.offered == free.states and free.suggested == ()


def test_all_states_opens_the_rest_and_a_full_lesson_overflows() -> None:
    session = GameSession(lesson=BELARUS, lessons_dir=LESSONS, all_states=True)
    assert session.offered == session.states and session.all_states
    assert session.join("Anna", "Moldova").state == "moldova"
    assert len(session.join_choices()) == len(session.states)
    assert session.teacher_view()["suggested"], "all states: the lesson's events still shown"
    small = GameSession(lesson=BELARUS, lessons_dir=LESSONS, team_size=1)
    seats = [small.join(f"Student {n}") for n in range(5)]
    assert [seat.state for seat in seats[:4]] == list(BELARUS_SEATS)
    assert seats[4].state == "moldova", "the seats are full: the next state in the region's order"
    assert small.join("Late", "Georgia").state == "georgia"
    assert len(small.join_choices()) == len(small.states)
    from alignment_sim.classroom.game.__main__ import parse_args, setup_words

    assert parse_args(["--all-states"]).all_states and not parse_args([]).all_states
    assert "--all-states offers every state" in setup_words(small)
    assert "students play every state" in setup_words(session)


def test_a_suggested_event_shows_in_its_round_and_is_never_dropped_by_itself() -> None:
    session, _ = game(lesson=BELARUS, rounds=None)
    first = session.suggestions()
    assert [row["status"] for row in first] == ["later"] * 3
    assert not any(row["droppable"] for row in first)
    session.advance()
    offer = session.suggestions()[0]
    assert offer["status"] == "now" and offer["droppable"]
    assert offer["text"] == (
        "Suggested now: the West's offer to Belarus, for 8 quarters — The IMF loan and "
        "suspended sanctions, as a down payment on reform (003)"
    )
    shown = dict(session.teacher_view()["suggested"][0])
    assert "sanctions" in marked(shown["text_html"]) and plain(shown["text_html"]) == offer["text"]
    assert {key: value for key, value in shown.items() if key != "text_html"} == offer
    session.advance()
    assert session.events_frame().empty, "a suggestion is never dropped by itself"
    statuses = [row["status"] for row in session.suggestions()]
    assert statuses == ["missed", "now", "later"]
    assert session.suggestions()[0]["droppable"], "a missed suggestion can still be dropped"


def test_one_click_drops_a_suggested_event(tmp_path: Path) -> None:
    session = GameSession(lesson=BELARUS, lessons_dir=LESSONS, round_seconds=60.0)
    teacher_url, stop = start_game_server(session, "127.0.0.1", 0)
    base, key = teacher_url.split("/?")[0], session.teacher_key
    try:
        session.advance()  # round 2: the West's offer is suggested now
        status, answer, _ = ask(f"{base}/api/teacher/suggested?key={key}", {"id": 0})
        assert status == 200 and answer["ok"]
        row = session.events_frame().iloc[0]
        assert row.tolist() == [2, 5, "western_offer", "belarus", SUGGESTED_BY]
        assert session.model.config.scenario.events[-1].duration == 8, "the lesson's duration"
        _, view, _ = ask(f"{base}/api/teacher?key={key}")
        assert view["suggested"][0]["status"] == "dropped"
        assert view["events"][0]["text"] == "Round 2: western offer in Belarus"
        status, again, _ = ask(f"{base}/api/teacher/suggested?key={key}", {"id": 0})
        assert status == 400 and "already dropped in round 2" in again["error"]
        for bad in ({"id": 9}, {"id": "0"}, {}):
            status, answer, _ = ask(f"{base}/api/teacher/suggested?key={key}", bad)
            assert status == 400 and "no such event" in answer["error"]
        status, _, _ = ask(f"{base}/api/teacher/suggested", {"id": 1})
        assert status == 403 and len(session.events_frame()) == 1
        session.advance()
        active = session.model.trajectory.active[0, 3:8, -1]  # ticks 4 to 8
        assert active.tolist() == [False] + [True] * 4, "in force from the next tick on"
        _, lesson, _ = ask(f"{base}/api/lesson")
        assert lesson["title"] == "You are Belarus"
        assert "You govern Belarus" in lesson["for_students_html"]
        _, seats, _ = ask(f"{base}/api/seats")
        assert [s["state"] for s in seats["states"]] == list(BELARUS_SEATS)
        status, page, _ = ask(f"{base}/join")
        assert status == 200 and '<details id="lesson"' in page
    finally:
        stop()


def test_the_debriefs_charts_are_drawn_while_the_game_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The game's debrief holds the model for its tables only: while its two charts are
    drawn, another thread can take the model's lock (a round could be played)."""
    from alignment_sim.classroom import debrief as debrief_module
    from alignment_sim.classroom.game.server import DebriefCache

    session, _ = game()
    session.join("Anna", "Belarus")
    session.advance()  # one round: the model plays Anna's silent team
    free: list[bool] = []
    drawn = debrief_module.figure_png

    def probe(fig: Any, dpi: int) -> bytes:
        took: list[bool] = []

        def other() -> None:
            took.append(session.model.lock.acquire(blocking=False))
            if took[0]:
                session.model.lock.release()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        free.append(took[0])
        return drawn(fig, dpi)

    monkeypatch.setattr(debrief_module, "figure_png", probe)
    built = DebriefCache(session)._current()
    assert free == [True, True] and built.map_png and built.shares_png
