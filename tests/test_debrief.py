"""The debrief: each student's choices beside the model's own pick, the timeline, the export
(CSV, PNG, a one-page PDF, a zip with its manifest) and the page, after a game played by
hand through ``ChooserAgent.directed`` (as the game session plays it) and after a solo run."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alignment_sim.classroom.classroom import ClassroomModel
from alignment_sim.classroom.debrief import (
    EXPORT_FILES,
    ROUNDS_COLUMNS,
    SUMMARY_TEXT_X,
    SWITCHES_COLUMNS,
    Debrief,
    _marked_shares,
    _short_revision,
    debrief_html,
    export_zip,
    main,
    why_words,
    write_export,
)
from alignment_sim.classroom.explain import explain
from alignment_sim.errors import ConfigError
from alignment_sim.outputs.files import MANIFEST, job_status
from alignment_sim.outputs.provenance import package_version

SEED, TICKS, ROUNDS = 5, 6, 4
PLAYERS = {"belarus": "Ana", "georgia": "Bob"}
DISAGREE_ROUND = 2
"""Ana directs west/west for Belarus (the model picks otherwise); every other round she,
and Bob, answer what the model picks."""
TIMEOUT_ROUND = 3
"""Bob does not answer: the model plays Georgia."""
LEVER_ROUND = 3
"""Before this round the teacher moves Chinese lending to US$ 12bn a year."""
EVENT_ROUND = 4
"""Before this round the teacher drops a colour revolution in Kyrgyzstan."""
EVENT, EVENT_TARGET = "colour_revolution", "kyrgyzstan"


@dataclass
class Game:
    model: ClassroomModel
    plays: pd.DataFrame
    events: pd.DataFrame
    levers: pd.DataFrame
    debrief: Debrief
    folder: Path


def play(model: ClassroomModel) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Play ROUNDS rounds as the game session does; the frames it records."""
    world = model.world
    space = world.space
    ana = model.choosers[world.states.index("belarus")]
    west = (space.security_options.index("west"), space.economic_options.index("west"))
    plays: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    levers: list[dict[str, Any]] = []
    for r in range(1, ROUNDS + 1):
        if r == LEVER_ROUND:
            assert model.apply_levers({"china_lending": 12.0})
            levers.append(
                {"round": r, "tick": model.tick + 1, "lever": "china_lending", "value": 12.0}
            )
        if r == EVENT_ROUND:
            assert model.drop_event(EVENT, (EVENT_TARGET,))
            events.append(
                {"round": r, "tick": model.tick + 1, "kind": EVENT, "targets": EVENT_TARGET}
            )
        ana.directed = west if r == DISAGREE_ROUND else None
        model.step()
        if r == DISAGREE_ROUND:
            assert ana.pending != west, "the model itself must pick otherwise for this test"
        ana.directed = None
        for chooser in model.choosers:
            state = world.states[chooser.index]
            player = PLAYERS.get(state, "model")
            timed_out = player == "Bob" and r == TIMEOUT_ROUND
            plays.append(
                {
                    "round": r,
                    "tick": model.tick,
                    "date": "",
                    "state": state,
                    "player": player,
                    "chosen": world.options[chooser.profile],
                    "model_choice": world.options[space.profile_index(*chooser.pending)],
                    "answered": player != "model" and not timed_out,
                    "timed_out": timed_out,
                }
            )
    return pd.DataFrame(plays), pd.DataFrame(events), pd.DataFrame(levers)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Game:
    model = ClassroomModel(seed=SEED, ticks=TICKS)
    plays, events, levers = play(model)
    debrief = Debrief.build(model, plays, events, levers)
    folder = tmp_path_factory.mktemp("debrief")
    write_export(debrief, folder)
    return Game(model, plays, events, levers, debrief, folder)


def test_each_students_agreement_is_counted_by_hand(game: Game) -> None:
    students = game.debrief.students.set_index("player")
    assert sorted(students.index) == ["Ana", "Bob"]
    ana, bob = students.loc["Ana"], students.loc["Bob"]
    assert (ana["state"], ana["rounds"], ana["answered"], ana["timed_out"]) == ("belarus", 4, 4, 0)
    assert ana["agreed"] == 3  # all but DISAGREE_ROUND
    assert (bob["state"], bob["rounds"], bob["answered"], bob["timed_out"]) == ("georgia", 4, 3, 1)
    assert bob["agreed"] == 3  # every answered round; the timed-out one does not count
    assert game.debrief.student_lines()[1:] == [
        "Ana (Belarus): agreed 3 of 4",
        "Bob (Georgia): agreed 3 of 3; timed out 1",
        "Class: 6 of 7 (86%)",
    ]
    rounds = game.debrief.rounds.set_index(["tick", "state"])
    disagreed = rounds.loc[(DISAGREE_ROUND, "belarus")]
    assert (disagreed["chosen"], disagreed["agreed"]) == ("west/west", False)
    assert disagreed["model_choice"] != "west/west"
    security = disagreed["model_choice"].split("/")[0]
    assert disagreed["model_terms"].startswith(f"security {security}:")


def test_rounds_csv_has_every_tick_and_state_with_levers_and_events_in_force(game: Game) -> None:
    rounds = pd.read_csv(game.folder / "rounds.csv", keep_default_na=False)
    world = game.model.world
    assert list(rounds.columns) == list(ROUNDS_COLUMNS)
    assert len(rounds) == ROUNDS * world.n_states
    assert sorted(zip(rounds["tick"], rounds["state"], strict=True)) == sorted(
        (t, s) for t in range(1, ROUNDS + 1) for s in world.states
    )
    alignment = game.model.trajectory.alignment[0]
    for row in rounds.itertuples(index=False):
        assert row.chosen == world.options[alignment[row.tick, world.states.index(row.state)]]
        assert row.player == PLAYERS.get(str(row.state), "model")
        assert row.model_why
    lending = rounds.groupby("tick")["lever_china_lending"].unique()
    start = ClassroomModel(seed=SEED, ticks=TICKS).levers()["china_lending"]
    assert {t: list(v) for t, v in lending.items()} == {
        t: [12.0 if t >= LEVER_ROUND else start] for t in range(1, ROUNDS + 1)
    }
    changed = rounds[rounds["lever_changes"] != ""]
    assert set(changed["tick"]) == {LEVER_ROUND}
    assert set(changed["lever_changes"]) == {f"china_lending {start:g} -> 12"}
    dropped = rounds[rounds["events_dropped"] != ""]
    assert set(dropped["tick"]) == {EVENT_ROUND}
    assert set(dropped["events_dropped"]) == {f"{EVENT} on {EVENT_TARGET}"}
    in_force = rounds[rounds["events"] != ""]
    assert set(in_force["tick"]) == {EVENT_ROUND}  # in force from its tick (model.drop_event)
    assert set(in_force["events"]) == {f"{EVENT} ({EVENT_TARGET})"}


def test_the_reasons_are_explains_for_a_state_the_model_played(game: Game) -> None:
    rounds = game.debrief.rounds.set_index(["tick", "state"])
    explanation = explain(game.model, "ukraine")
    assert explanation is not None and explanation.tick == ROUNDS
    words, terms = why_words(explanation.choices)
    assert rounds.loc[(ROUNDS, "ukraine"), "model_why"] == words
    assert rounds.loc[(ROUNDS, "ukraine"), "model_terms"] == terms


def test_switches_csv_lists_exactly_the_trajectorys_switches(game: Game) -> None:
    switches = pd.read_csv(game.folder / "switches.csv", keep_default_na=False)
    assert list(switches.columns) == list(SWITCHES_COLUMNS)
    world, alignment = game.model.world, game.model.trajectory.alignment[0]
    expected = {
        (t, world.states[i], world.options[alignment[t - 1, i]], world.options[alignment[t, i]])
        for t in range(1, ROUNDS + 1)
        for i in range(world.n_states)
        if alignment[t, i] != alignment[t - 1, i]
    }
    found = list(
        zip(switches["tick"], switches["state"], switches["from"], switches["to"], strict=True)
    )
    assert len(found) == len(expected) and set(found) == expected
    ana = switches[(switches["tick"] == DISAGREE_ROUND) & (switches["state"] == "belarus")]
    assert len(ana) == 1 and "chosen by Ana (the model: Security: " in ana["text"].iloc[0]
    # told in words: no profile id ('russia/open') and no term's code name ('soft_power')
    assert not [t for t in switches["text"] for p in world.options if p in t]
    assert not [t for t in switches["text"] if re.search(r"\(\w+_\w+\)", t)]
    kinds = [kind for _, kind, _ in game.debrief.timeline()]
    assert kinds.count("switch") == len(expected)
    assert (kinds.count("lever"), kinds.count("dropped"), kinds.count("event")) == (1, 1, 0)


def test_the_export_folder_and_zip_hold_every_file_and_the_manifest(game: Game) -> None:
    assert job_status(game.folder).complete
    manifest = json.loads((game.folder / MANIFEST).read_text())
    assert manifest["seed"] == SEED and manifest["version"] == package_version()
    assert manifest["git_revision"] and manifest["config"]["seed"] == SEED
    assert manifest["kind"] == "debrief" and manifest["players"] == {
        "Ana": ["belarus"],
        "Bob": ["georgia"],
    }
    assert set(manifest["files"]) == set(EXPORT_FILES)
    with zipfile.ZipFile(io.BytesIO(export_zip(game.debrief))) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted([*EXPORT_FILES, MANIFEST])
        listed = json.loads(archive.read(MANIFEST))["files"]
        for name in EXPORT_FILES:
            assert listed[name]["bytes"] == archive.getinfo(name).file_size > 0
        assert archive.read("map.png").startswith(b"\x89PNG")


def test_the_summary_is_one_a4_page(game: Game) -> None:
    pdf = (game.folder / "summary.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None
    assert (float(box[1]), float(box[2])) == pytest.approx((595.44, 841.68), abs=1.0)
    png = (game.folder / "summary.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert height / width == pytest.approx(11.69 / 8.27, rel=0.01)


def test_no_text_of_the_summary_lies_over_its_map_or_charts(game: Game) -> None:
    """The map and the charts end left of the text column (the map used to run under
    "Students and the model"), one below the other; the footer keeps a dirty tree's
    mark."""
    figure = game.debrief._summary_figure()
    images = [ax.get_position() for ax in figure.axes]
    assert len(images) == 2
    assert all(box.x1 <= SUMMARY_TEXT_X - 0.01 for box in images)
    assert images[1].y1 <= images[0].y0  # the charts below the map
    column = [t for t in figure.texts if t.get_text() == "Students and the model"]
    assert column and column[0].get_position()[0] == SUMMARY_TEXT_X
    assert _short_revision("0123456789abcdef+dirty") == "0123456789ab+dirty"
    assert _short_revision("0123456789abcdef") == "0123456789ab"


def test_an_alliance_joined_under_the_same_label_is_a_main_switch(game: Game) -> None:
    """The summary's timeline lists label changes, alliance changes and students' choices:
    Ukraine joining the West's alliance keeps its hedge label and is listed; an economic
    move under the same label, by the model, is not."""
    frame = game.debrief.switches
    listed = set(game.debrief.main_switches())
    for row in frame.itertuples():
        main = row.from_label != row.to_label or "security" in str(row.changed)
        main = main or row.player != "model"
        assert (row.text in listed) == main, row.text


def test_the_page_is_self_contained_with_the_students_and_the_zip_link(game: Game) -> None:
    page = debrief_html(game.debrief)
    assert 'href="/export.zip"' in page and "Download everything (zip)" in page
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<h3>Ana: Belarus</h3>" in page and "<h3>Bob: Georgia</h3>" in page
    assert page.count('class="disagree"') == 1 and page.count('class="timedout"') == 1


def test_a_solo_run_names_every_player_model_and_marks_its_lever_moves() -> None:
    model = ClassroomModel(seed=SEED, ticks=3)
    model.step()
    model.apply_levers({"stance": 0.5})
    moved = model.levers_frame()  # what the app's download passes: it held from tick 2
    assert moved[["tick", "lever", "value", "previous"]].values.tolist() == [
        [2, "stance", 0.5, 0.0]
    ]
    model.step()
    debrief = Debrief.build(model, levers=moved)
    rounds = debrief.rounds
    assert len(rounds) == 2 * model.world.n_states
    assert set(rounds["player"]) == {"model"} and rounds["agreed"].all()
    assert list(rounds["round"]) == list(rounds["tick"])
    assert debrief.students.empty
    assert debrief.student_lines() == ["A solo run: the model played every state."]
    assert list(rounds.groupby("tick")["lever_stance"].first()) == [0.0, 0.5]
    chart = _marked_shares(model, debrief.marks)  # one dotted line where it took hold
    lever_lines = [
        line.get_xdata()[0] for line in chart.axes[0].get_lines() if line.get_linestyle() == ":"
    ]
    assert lever_lines == [model.world.year_of_tick(1)]
    assert "A solo run" in debrief_html(debrief)
    # two of three ticks played from 2015: the quarters they covered
    assert debrief.subtitle.startswith("2 of 3 quarters played (2015 Q1 to 2015 Q2)")


def test_frames_that_contradict_the_run_are_refused(game: Game) -> None:
    forged = game.plays.copy()
    row = forged.index[(forged["tick"] == 1) & (forged["state"] == "belarus")][0]
    forged.loc[row, "chosen"] = "west/open"
    with pytest.raises(ConfigError, match=r"plays\.chosen \(tick 1, belarus\)"):
        Debrief.build(game.model, forged)
    with pytest.raises(ConfigError, match="plays"):
        Debrief.build(game.model, game.plays.drop(columns=["model_choice"]))
    unknown = pd.DataFrame([{"tick": 1, "lever": "gravity", "value": 1.0}])
    with pytest.raises(ConfigError, match=r"levers\.lever"):
        Debrief.build(game.model, game.plays, levers=unknown)


def test_the_command_exports_a_solo_lesson(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "solo"
    assert main(["--lesson", "hedging", "--seed", "2", "--ticks", "2", "--out", str(out)]) == 0
    assert job_status(out).complete
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPORT_FILES, MANIFEST])
    assert json.loads((out / MANIFEST).read_text())["lesson"] == "hedging"
    with pytest.raises(SystemExit) as exited:
        main(["--lesson", "no_such_lesson", "--out", str(tmp_path / "x")])
    assert exited.value.code == 2
    assert "--lesson 'no_such_lesson': expected a lesson name" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit) as exited:  # not a folder: no silent packaged lessons
        main(["--lessons", str(out / "README.txt"), "--out", str(tmp_path / "x")])
    assert exited.value.code == 2 and "expected an existing folder" in capsys.readouterr().err


def test_the_command_replaces_an_earlier_export_whole_and_refuses_other_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``--out`` an earlier export: replaced whole (its manifest is the new run's); a file,
    a path under a file or a folder of the user's own files: refused in one line, exit 2,
    before the lesson runs, and left as they were."""
    out = tmp_path / "solo"
    assert main(["--seed", "2", "--ticks", "2", "--out", str(out)]) == 0
    assert main(["--seed", "3", "--ticks", "2", "--out", str(out)]) == 0
    assert json.loads((out / MANIFEST).read_text())["seed"] == 3
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPORT_FILES, MANIFEST])
    afile = tmp_path / "afile"
    afile.write_text("keep")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep")
    capsys.readouterr()
    for bad, needle in (
        (afile, "It is a file."),
        (afile / "x", f"{afile} is a file, not a folder"),
        (mine, "It holds thesis.tex, which a debrief export does not write."),
    ):
        with pytest.raises(SystemExit) as exited:
            main(["--ticks", "2", "--out", str(bad)])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("alignment-sim-debrief: --out") and err.count("\n") == 1
        assert needle in err
    assert afile.read_text() == "keep" and [p.name for p in mine.iterdir()] == ["thesis.tex"]
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob(".*.old"))


def test_a_round_of_two_ticks_keeps_the_students_answer_and_counts_once() -> None:
    model = ClassroomModel(seed=SEED, ticks=3)
    world, space = model.world, model.world.space
    ana = model.choosers[world.states.index("belarus")]
    ana.directed = (space.security_options.index("none"), space.economic_options.index("open"))
    model.step()
    own = world.options[space.profile_index(*ana.pending)]
    model.step()
    ana.directed = None
    plays = pd.DataFrame(
        {
            "round": 1,
            "tick": 1,
            "state": state,
            "player": "Ana" if state == "belarus" else "model",
            "chosen": world.options[model.trajectory.alignment[0, 1, i]],
            "model_choice": own if state == "belarus" else None,
            "answered": state == "belarus",
            "timed_out": False,
        }
        for i, state in enumerate(world.states)
    )
    plays.loc[plays["player"] == "model", "model_choice"] = plays["chosen"]
    debrief = Debrief.build(model, plays)
    rounds = debrief.rounds.set_index(["tick", "state"])
    later = rounds.loc[(2, "belarus")]
    assert (later["player"], later["round"], later["round_start"]) == ("Ana", 1, False)
    assert (later["chosen"], later["model_choice"], later["agreed"]) == ("none/open", "", None)
    assert rounds.loc[(2, "ukraine"), "model_choice"] == rounds.loc[(2, "ukraine"), "chosen"]
    students = debrief.students
    assert list(students["rounds"]) == [1] and list(students["answered"]) == [1]


def test_a_teams_debrief_shows_each_vote_beside_the_teams_and_the_models() -> None:
    """Two students share Belarus in a game session: each vote is kept beside the team's
    choice and the model's own pick, counted per student."""
    from alignment_sim.classroom.game.session import GameSession

    session = GameSession(seed=SEED, rounds=2, ticks_per_round=1, team_size=2)
    ana, cara = session.join("Ana", "belarus"), session.join("Cara", "belarus")
    session.join("Bob", "georgia")
    session.submit(ana.token, "west", "west")
    session.submit(cara.token, "west", "china")  # economy 1-1: Ana's vote came first
    session.advance()
    session.submit(cara.token, "none", "open")  # Ana and Bob do not vote
    session.advance()
    debrief = Debrief.build(
        session.model,
        session.plays_frame(),
        session.events_frame(),
        session.levers_frame(),
        votes=session.votes_frame(),
    )
    votes = debrief.votes.set_index(["round", "player"])
    assert votes.loc[(1, "Cara"), ["vote", "team_choice", "with_team"]].tolist() == [
        "west/china",
        "west/west",
        False,
    ]
    assert votes.loc[(2, "Ana"), ["voted", "vote", "team_choice"]].tolist() == [
        False,
        "",
        "none/open",
    ]
    plays = session.plays_frame().set_index(["round", "state"])
    assert votes.loc[(1, "Ana"), "model_choice"] == plays.loc[(1, "belarus"), "model_choice"]
    students = debrief.students.set_index("player")
    assert students.loc["Ana", ["rounds", "answered", "timed_out", "with_team"]].tolist() == [
        2,
        1,
        1,
        1,
    ]
    assert students.loc["Cara", ["answered", "with_team"]].tolist() == [2, 1]
    assert students.loc["Bob", ["answered", "timed_out"]].tolist() == [0, 2]
    assert plays.loc[(2, "georgia"), "timed_out"] and plays.loc[(1, "belarus"), "player"] == (
        "Ana, Cara"
    )
    page = debrief_html(debrief)
    assert "<h3>Cara: Belarus</h3>" in page and "The team&#x27;s choice" in page
    assert "Voted with the team" in page
    forged = session.votes_frame().assign(vote="west/nowhere")
    with pytest.raises(ConfigError, match=r"votes\.vote"):
        Debrief.build(session.model, session.plays_frame(), votes=forged)
