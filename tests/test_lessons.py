"""Lessons: every preset loads, every text has its parts, the figures command works, the
measures the lessons quote give known answers, every count a text quotes is a claim of its
preset and equals numbers.md, claims and the game block are checked as the preset is read,
and (slow) every claim holds over the lessons' runs with the counts the texts quote, and
the claims each lesson's text makes, restated in Model 2's terms (record labels and the two
choices), still hold."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from alignment_sim.classroom.claims import Claim, LeverMove
from alignment_sim.classroom.classroom import (
    ClassroomModel,
    Setup,
    Variant,
    available_lessons,
    build_config,
    lessons_dir,
    load_lesson,
)
from alignment_sim.classroom.lessons import (
    COUNT_TAG,
    DEFAULT_SEEDS,
    MEDIAN_TAG,
    SPREAD_TAG,
    ClaimCount,
    ClaimRunner,
    Outcome,
    claim_holds,
    main,
    quote_counts,
    run_moved,
    run_variant,
    variants,
)
from alignment_sim.engine.batch import BatchResult, run_batch
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import World
from alignment_sim.outputs.files import job_status

LESSONS = ROOT / "experiments" / "lessons"
EXPECTED = [
    "balancing_vs_bandwagoning",
    "hedging",
    "buffer_states",
    "leverage_of_the_weak",
    "credibility_of_patrons",
    "you_are_belarus",
]
SECTIONS = ("## For students", "## Questions", "## What the model shows", "## For the teacher")
TWO_VARIANTS = """title: Two stances
scenario: baseline
decision: logit
compare:
  - {label: "bandwagoning", levers: {stance: -1.0}}
  - {label: "balancing", levers: {stance: 1.0}}
"""


def test_six_lessons_in_teaching_order() -> None:
    assert available_lessons(LESSONS) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_lesson_has_text_preset_figure_and_numbers(name: str) -> None:
    lesson = load_lesson(name, LESSONS)
    text = (LESSONS / name / "README.md").read_text()
    positions = [text.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), name
    assert "figure.png" in text and "numbers.md" in text
    assert f"`{name}`" in text, "the text tells how to open the lesson in the app"
    assert (LESSONS / name / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = (LESSONS / name / "numbers.md").read_text()
    assert len(lesson.compare) >= 2
    for variant in lesson.compare:
        assert f"| {variant.label} |" in numbers
        build_config(Setup(lesson=name, lessons_dir=str(LESSONS)), variant)
    config = build_config(Setup(lesson=name, lessons_dir=str(LESSONS)))
    assert config.scenario.name == lesson.scenario
    for model_1_words in ("hedge_access", "Payoff of hedging", "China's bloc"):
        assert model_1_words not in text, f"{name}: Model 1's {model_1_words!r}"


def write_two_variants(root: Path) -> Path:
    folder = root / "two"
    folder.mkdir()
    (folder / "preset.yaml").write_text(TWO_VARIANTS)
    return folder


def percents(row: str) -> list[int]:
    """The percentages of a markdown table row, in order."""
    return [int(cell.strip().rstrip("%")) for cell in row.split("|") if cell.strip().endswith("%")]


@pytest.fixture
def own_size_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lessons whose own size is 2 runs in 2 blocks, so a test writes into a lessons folder
    at that size (another size needs --out)."""
    from alignment_sim.classroom import lessons

    monkeypatch.setattr(lessons, "DEFAULT_SEEDS", 2)
    monkeypatch.setattr(lessons, "DEFAULT_BLOCKS", 2)


def test_figures_command_writes_figure_and_numbers(tmp_path: Path, capsys, own_size_two) -> None:
    folder = write_two_variants(tmp_path)
    assert main(["--figures", "--seeds", "2", "--lessons", str(tmp_path)]) == 0
    assert "two: wrote" in capsys.readouterr().out
    assert (folder / "figure.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in folder.iterdir()) == ["figure.png", "numbers.md", "preset.yaml"]
    numbers = (folder / "numbers.md").read_text()
    assert "2 runs (seeds 0-1)" in numbers
    assert (
        "| variant | russia | china | west | hedge | switches per run | time hedging |" in numbers
    )
    rows = [line for line in numbers.splitlines() if line.startswith("| bandwagoning |")]
    assert len(rows) == 4, "a row in the labels, choices, spending and credibility tables"
    labels, choices = percents(rows[0]), percents(rows[1])
    assert abs(sum(labels[:4]) - 100) <= 2, "the four labels' shares add up to 100%"
    assert len(choices) == 3 + 4, "security russia, west, none; economy russia, china, west, open"
    assert abs(sum(choices[:3]) - 100) <= 2 and abs(sum(choices[3:]) - 100) <= 2
    spending = numbers.split("## Each pole's offers to all states together")[1].splitlines()
    assert spending[2] == "| variant | russia | china | west |"
    assert all(float(x) >= 0 for x in rows[2].split("|")[2:5]), "US$ bn a year"
    first, lowest, last = (float(x) for x in rows[3].split("|")[2].split(","))
    assert 0.0 <= lowest <= min(first, last) <= 1.0, "Russia's lowest credibility is the lowest"
    belarus = next(line for line in numbers.splitlines() if line.startswith("| Belarus |"))
    for cell in belarus.split("|")[2:4]:
        entries = cell.strip().split(", ")
        assert all(re.fullmatch(r"\w+/\w+ \((russia|west|hedge)\) \d+%", e) for e in entries), cell
        assert abs(sum(int(e.split()[-1].rstrip("%")) for e in entries) - 100) <= 2


def test_a_failed_regeneration_keeps_the_old_figure_and_numbers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    own_size_two: None,
) -> None:
    from alignment_sim.classroom import lessons

    folder = write_two_variants(tmp_path)
    (folder / "figure.png").write_bytes(b"old figure")
    (folder / "numbers.md").write_text("old numbers")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def disk_full(*args: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lessons, "lesson_numbers", disk_full)
    assert main(["--figures", "--seeds", "2", "--lessons", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "alignment-sim-lessons: No space left on device\n"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_lessons_folder_that_is_not_one_is_refused_not_passed_over(tmp_path: Path) -> None:
    """A mistyped lessons folder used to fall back silently on the packaged lessons (the
    same names): the library refuses it, and the classroom shows why its setup failed."""
    missing = tmp_path / "lesons"
    with pytest.raises(ConfigError, match=r"lessons folder = '.*lesons': expected an existing"):
        load_lesson("hedging", missing)
    with pytest.raises(ConfigError, match="lesons"):
        available_lessons(missing)
    with pytest.raises(ConfigError, match="lessons folder"):
        ClassroomModel(lesson="hedging", lessons_dir=str(missing))
    model = ClassroomModel(lesson="hedging", lessons_dir=str(missing), as_message=True)
    assert model.setup_failed and "lessons folder" in model.message and model.lesson is None


def test_a_lessons_variable_that_names_no_folder_is_refused_not_passed_over(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``$ALIGNMENT_SIM_LESSONS`` naming no folder used to be passed over for the packaged
    lessons; now it is refused where it is read, and the command says which setting."""
    monkeypatch.setenv("ALIGNMENT_SIM_LESSONS", str(tmp_path / "lesons"))
    with pytest.raises(ConfigError, match=r"\$ALIGNMENT_SIM_LESSONS = '.*lesons': expected"):
        lessons_dir()
    with pytest.raises(ConfigError, match="ALIGNMENT_SIM_LESSONS"):
        load_lesson("hedging")
    assert lessons_dir(LESSONS) == LESSONS  # the argument wins over the variable
    with pytest.raises(SystemExit) as exited:
        main(["--only", "hedging"])
    assert exited.value.code == 2
    assert "$ALIGNMENT_SIM_LESSONS = " in capsys.readouterr().err
    from alignment_sim.classroom import debrief

    with pytest.raises(SystemExit) as exited:  # the debrief refuses it as it parses, too
        debrief.main(["--lesson", "hedging", "--out", str(tmp_path / "debrief")])
    assert exited.value.code == 2
    assert "$ALIGNMENT_SIM_LESSONS = " in capsys.readouterr().err
    assert not (tmp_path / "debrief").exists()
    monkeypatch.setenv("ALIGNMENT_SIM_LESSONS", str(LESSONS))
    assert lessons_dir() == LESSONS


def test_lessons_command_lists_and_rejects_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["--lessons", str(LESSONS)]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in EXPECTED)
    with pytest.raises(SystemExit):
        main(["--figures", "--seeds", "0", "--lessons", str(LESSONS)])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "preset.yaml").write_text("title: Bad\nlevers: {stance: 9}\n")
    out = ["--out", str(tmp_path / "out")]
    assert main(["--figures", "--seeds", "1", "--lessons", str(tmp_path), *out]) == 2
    assert "lesson bad: levers.stance = 9: expected a value from -1 to 1" in capsys.readouterr().err
    # an unknown lesson and a --lessons that is not a folder: one line each, exit 2 (a
    # mistyped --lessons used to fall back silently on the packaged lessons)
    assert main(["--only", "nonesuch", "--lessons", str(LESSONS)]) == 2
    assert "lesson = 'nonesuch'" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit) as exited:
        main(["--lessons", str(afile)])
    assert exited.value.code == 2
    assert f"--lessons {afile}: expected an existing folder" in capsys.readouterr().err


# --- claims: what the texts quote is what the presets claim and numbers.md counts ---------

CLAIM_ROW = re.compile(
    r"^\| ([a-z0-9_]+) \| .* \| (\d+) of (\d+) \| ([\d.]*) \| (?:(\d+) to (\d+))? \|"
)


def numbers_claims(name: str) -> dict[str, tuple[int, int, str, tuple[int, int] | None]]:
    """numbers.md's claims table: id -> (count, total, median, spread)."""
    rows = {}
    for line in (LESSONS / name / "numbers.md").read_text().splitlines():
        match = CLAIM_ROW.match(line)
        if match:
            low, high = match.group(5), match.group(6)
            spread = (int(low), int(high)) if low is not None else None
            rows[match.group(1)] = (
                int(match.group(2)),
                int(match.group(3)),
                match.group(4),
                spread,
            )
    return rows


@pytest.mark.parametrize("name", EXPECTED)
def test_every_count_a_text_quotes_is_a_claim_counted_in_numbers(name: str) -> None:
    lesson = load_lesson(name, LESSONS)
    text = (LESSONS / name / "README.md").read_text()
    rows = numbers_claims(name)
    assert lesson.claims and set(rows) == {c.id for c in lesson.claims}, "one row per claim"
    untagged = re.findall(r"\b\d+ of \d+\b(?!<!-- claim:)", text)
    assert not untagged, f"{name}: counts quoted without a claim: {untagged}"
    quoted = {m.group(3) for m in COUNT_TAG.finditer(text)}
    assert quoted == set(rows), f"{name}: claims the text never quotes {set(rows) - quoted}"
    for match in COUNT_TAG.finditer(text):
        count, total, _, _ = rows[match.group(3)]
        assert (int(match.group(1)), int(match.group(2))) == (count, total), match.group(0)
    for match in MEDIAN_TAG.finditer(text):
        assert float(match.group(1)) == float(rows[match.group(2)][2]), match.group(0)
    for match in SPREAD_TAG.finditer(text):
        spread = (int(match.group(1)), int(match.group(2)))
        assert spread == rows[match.group(3)][3], match.group(0)
        assert spread[0] <= rows[match.group(3)][0] <= spread[1], "the quoted count is in it"
    assert "| NO |" not in (LESSONS / name / "numbers.md").read_text()


def test_the_game_lesson_has_a_game_block_and_sourced_text() -> None:
    lesson = load_lesson("you_are_belarus", LESSONS)
    assert lesson.game is not None and "belarus" in lesson.game.seats
    assert lesson.game.ticks_per_round == 4 and lesson.game.round_seconds == 90
    assert [e.kind for e in lesson.game.events] == [
        "western_offer",
        "russia_recession",
        "nato_buildup",
    ]
    assert all(load_lesson(name, LESSONS).game is None for name in EXPECTED[:5]), "optional"
    text = (LESSONS / "you_are_belarus" / "README.md").read_text()
    assert "## In the app / In the game" in text
    seeds = set(re.findall(r"`(\d{3}_[0-9a-f]{16}\.txt)`", text))
    assert seeds == {
        "000_f1573ee38e2fd976.txt",
        "002_357a3cbfc3d1d9f7.txt",
        "003_8e9a560dc416a86b.txt",
    }, "every source is one of the texts in shared/seeds (INDEX.md)"


GOOD_CLAIM = "{id: a, state: belarus, security: none, at_least: 0.5}"


@pytest.mark.parametrize(
    ("entry", "key", "expected"),
    [
        (
            "{id: a, state: belarus, security: none, at_least: 0.5, when: end}",
            "claims[0].when",
            "one of the keys",
        ),
        ("{id: A, state: belarus, security: none, at_least: 0.5}", "claims[0].id", "lower-case"),
        (
            "{id: a, state: minsk, security: none, at_least: 0.5}",
            "claims[a].state",
            "one of belarus",
        ),
        (
            "{id: a, variant: nope, state: belarus, security: none, at_least: 0.5}",
            "claims[a].variant",
            "one of one, two",
        ),
        ("{id: a, state: belarus, at_least: 0.5}", "claims[a]", "an outcome"),
        ("{id: a, state: belarus, security: none}", "claims[a]", "a bound"),
        (
            "{id: a, state: belarus, security: none, at_least: 1.5}",
            "claims[a].at_least",
            "between 0 and 1",
        ),
        (
            "{id: a, state: belarus, security: none, at_least: 0.6, at_most: 0.5}",
            "claims[a].at_most",
            ">= at_least",
        ),
        (
            "{id: a, state: belarus, security: none, at_least: 0.5, at: in 2017}",
            "claims[a].at",
            "'YYYY Qn'",
        ),
        (
            "{id: a, state: belarus, security: none, at_least: 0.5, at: end, within: 4}",
            "claims[a].within",
            "one or other",
        ),
        (
            "{id: a, state: belarus, security: none, at_least: 0.5, move: {tick: 3}}",
            "claims[a].move.levers",
            "a lever",
        ),
    ],
)
def test_a_broken_claim_names_its_key(tmp_path: Path, entry: str, key: str, expected: str) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "preset.yaml").write_text(
        f"title: T\ncompare: [{{label: one}}, {{label: two}}]\nclaims:\n  - {entry}\n"
    )
    with pytest.raises(ConfigError, match=re.escape(key)) as error:
        load_lesson("broken", tmp_path)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("game", "key", "expected"),
    [
        ("{seats: [belarus], rounds: 3}", "game.rounds", "one of the keys"),
        ("{seats: [minsk]}", "game.seats", "one of belarus"),
        ("{seats: [belarus, belarus]}", "game.seats", "each state once"),
        ("{seats: [belarus], ticks_per_round: 0}", "game.ticks_per_round", ">= 1"),
        ("{seats: [belarus], round_seconds: 5}", "game.round_seconds", ">= 10"),
        (
            "{seats: [belarus], events: [{round: 1, kind: earthquake}]}",
            "game.events[0].kind",
            "an event kind",
        ),
        (
            "{seats: [belarus], events: [{round: 0, kind: western_offer}]}",
            "game.events[0].round",
            ">= 1",
        ),
        (
            "{seats: [belarus], events: [{round: 1, kind: nato_buildup, targets: [x]}]}",
            "game.events[0].targets",
            "one of belarus",
        ),
        (
            "{seats: [belarus], events: [{round: 1, kind: war, magnitude: 0}]}",
            "game.events[0].magnitude",
            "> 0",
        ),
    ],
)
def test_a_broken_game_block_names_its_key(
    tmp_path: Path, game: str, key: str, expected: str
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "preset.yaml").write_text(f"title: T\ngame: {game}\n")
    with pytest.raises(ConfigError, match=re.escape(key)) as error:
        load_lesson("broken", tmp_path)
    assert expected in str(error.value)


def test_claim_outcomes_and_windows_known_answers(tiny_world: World) -> None:
    # HAND (below): state a p/p -> p/q in run 0, p/p -> p/open in run 1; b none/open then
    # none/q in run 0 (labels hedge), none/open in run 1.
    claim = Claim(id="a", states=("a",), economy=("q",), at_least=0.5)
    held = claim_holds(tiny_world, HAND, claim)
    np.testing.assert_array_equal(held[..., 0], [[False, True, True], [False, False, False]])
    both = Claim(id="b", states=("a", "b"), security=("p",), economy=("q", "open"), at_least=0)
    np.testing.assert_array_equal(claim_holds(tiny_world, HAND, both)[:, 2], [[1, 0], [1, 0]])
    hedge = Claim(id="c", states=("b",), label=("hedge",), at_least=1)
    assert claim_holds(tiny_world, HAND, hedge).all()


def test_quoted_counts_are_rewritten_and_unknown_tags_refused() -> None:
    claim = Claim(id="k", states=("kazakhstan",), security=("none",), within=8, at_least=0.2)
    result = ClaimCount(claim, 22, 50, median=1.0, spread=(17, 28))
    text = (
        "out in 9 of 50<!-- claim:k --> runs [1 to 2]<!-- claim:k spread -->, "
        "after 3 quarters<!-- claim:k median -->."
    )
    assert quote_counts(text, [result]) == (
        "out in 22 of 50<!-- claim:k --> runs [17 to 28]<!-- claim:k spread -->, "
        "after 1 quarter<!-- claim:k median -->."
    )
    assert result.holds and result.share == 0.44
    assert not ClaimCount(claim, 9, 50).holds
    with pytest.raises(ConfigError, match="claim tag"):
        quote_counts("in 1 of 2<!-- claim:other -->", [result])


def test_a_lever_moved_mid_run_is_the_apps_lever_move() -> None:
    """The batched runs of a claim with a move equal the app's model with the lever moved
    by ``apply_levers`` after the same tick, seed by seed."""
    lesson = load_lesson("credibility_of_patrons", LESSONS)
    move = LeverMove(3, {"russia_credibility": 0.3, "switching_cost": 1.0})
    world, alignment = run_moved(lesson, Variant(lesson.title), move, seeds=2, ticks=10)
    assert alignment.shape == (2, 11, world.n_states)
    for seed in range(2):
        model = ClassroomModel(
            lesson="credibility_of_patrons", seed=seed, ticks=10, lessons_dir=str(LESSONS)
        )
        for _ in range(3):
            model.step()
        assert model.apply_levers(move.levers)
        for _ in range(7):
            model.step()
        np.testing.assert_array_equal(model.trajectory.alignment[0], alignment[seed])
    unmoved = run_variant(lesson, Variant(lesson.title), 2, ticks=10).alignment
    assert not np.array_equal(unmoved, alignment), "the move changes the runs"
    np.testing.assert_array_equal(unmoved[:, :4], alignment[:, :4])


def test_figures_command_rewrites_the_quoted_counts_and_flags_a_broken_claim(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    own_size_two: None,
) -> None:
    from matplotlib.figure import Figure

    from alignment_sim.classroom import lessons

    monkeypatch.setattr(lessons, "lesson_figure", lambda *args: Figure())  # tested above
    folder = write_two_variants(tmp_path)
    (folder / "preset.yaml").write_text(
        TWO_VARIANTS
        + "claims:\n"
        + "  - {id: belarus_union, variant: [bandwagoning, balancing], state: belarus,\n"
        + "     economy: russia, at_least: 0.9}\n"
        + "  - {id: ukraine_russia, variant: balancing, state: ukraine, security: russia,\n"
        + "     at_least: 0.99}\n"
    )
    (folder / "README.md").write_text(
        "Belarus in 0 of 1<!-- claim:belarus_union --> runs; "
        "Ukraine in 0 of 1<!-- claim:ukraine_russia -->.\n"
    )
    assert main(["--figures", "--seeds", "2", "--blocks", "2", "--lessons", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "two: claim ukraine_russia holds in 0 of 2, expected at least 99%" in err
    assert "belarus_union" not in err
    text = (folder / "README.md").read_text()
    assert "Belarus in 4 of 4<!-- claim:belarus_union --> runs" in text
    rows = numbers_claims_at(folder)
    assert rows["belarus_union"][:2] == (4, 4) and rows["ukraine_russia"][:2] == (0, 2)


def test_make_lesson_from_python_refuses_another_size_without_out(tmp_path: Path) -> None:
    """The command refused another size without --out, but ``make_lesson`` from Python
    rewrote the lesson's numbers.md and README at that size: the refusal is the function's."""
    from alignment_sim.classroom.classroom import load_lesson
    from alignment_sim.classroom.lessons import make_lesson

    shutil.copytree(LESSONS / "hedging", tmp_path / "hedging")
    before = {p.name: p.read_bytes() for p in (tmp_path / "hedging").iterdir()}
    with pytest.raises(ConfigError, match=r"^seeds = 10: .*give out=DIR"):
        make_lesson(load_lesson("hedging", tmp_path), 10)
    assert {p.name: p.read_bytes() for p in (tmp_path / "hedging").iterdir()} == before


def test_another_size_goes_to_out_and_leaves_the_lessons_as_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A smaller run (--seeds 10, as CLASSROOM.md's example) used to rewrite the lesson's
    README with "5 of 10" beside its text's "50 runs": another size than the lessons' own
    is refused without --out (exit 2, nothing written), and with it writes figure.png and
    numbers.md to OUT/<lesson>, the lesson's own files untouched."""
    shutil.copytree(LESSONS / "hedging", tmp_path / "lessons" / "hedging")
    folder = tmp_path / "lessons" / "hedging"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    argv = ["--figures", "--only", "hedging", "--lessons", str(tmp_path / "lessons")]
    for size in (["--seeds", "10"], ["--blocks", "1"]):
        with pytest.raises(SystemExit) as exited:
            main([*argv, *size])
        assert exited.value.code == 2
        assert "give --out DIR" in capsys.readouterr().err
    out = tmp_path / "small"
    assert main([*argv, "--seeds", "10", "--blocks", "1", "--out", str(out)]) in (0, 3)
    written = sorted(p.name for p in (out / "hedging").iterdir())
    assert written == ["figure.png", "manifest.json", "numbers.md"]
    assert "10 runs (seeds 0-9)" in (out / "hedging" / "numbers.md").read_text()
    assert job_status(out / "hedging").complete  # what made it, with each file's checksum
    made = json.loads((out / "hedging" / "manifest.json").read_text())
    assert (made["lesson"], made["seeds"], made["blocks"]) == ("hedging", 10, 1)
    assert made["command"].startswith("alignment-sim-lessons --figures --only hedging")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no manifest there


def numbers_claims_at(folder: Path) -> dict[str, tuple[int, int]]:
    rows = {}
    for line in (folder / "numbers.md").read_text().splitlines():
        match = CLAIM_ROW.match(line)
        if match:
            rows[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return rows


# --- the measures, on a hand-made alignment in the tiny world ------------------------------
# Tiny world profiles: 0 p/p, 1 p/q, 2 p/open, 3 none/p (labels p), 4 none/q, 5 none/open
# (labels hedge: q offers no security, so its economic point alone leads nothing).

HAND = np.array(
    [
        [[0, 5, 4], [1, 5, 4], [1, 4, 3]],  # a: p/p -> p/q; b: -> none/q; c: -> none/p
        [[0, 5, 4], [0, 5, 4], [2, 5, 4]],  # a: p/p -> p/open
    ],
    dtype=np.int8,
)


def test_outcome_measures_known_answers(tiny_world: World) -> None:
    assert tiny_world.options[1] == "p/q" and tiny_world.space.profile_labels == (
        "p",
        "p",
        "p",
        "p",
        "hedge",
        "hedge",
    )
    offers = np.ones((2, 2, 3))  # US$ 1bn a year from each pole to each state
    credibility = np.array(
        [[[0.8, 1.0], [0.4, 1.0]], [[0.6, 0.5], [0.6, 0.5]]]
    )  # (runs, ticks, poles p q)
    outcome = Outcome("hand", tiny_world, HAND, offers, credibility)
    # labels at the end: run 0 (p, hedge, p), run 1 (p, hedge, hedge)
    np.testing.assert_allclose(outcome.shares()[-1], [0.5, 0.0, 0.5])
    assert outcome.share("p") == 0.5 and outcome.share("q") == 0.0
    assert outcome.ends("a", "p") == 1.0 and outcome.ends("c", "hedge") == 0.5
    np.testing.assert_allclose(outcome.final_distribution()[1], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(outcome.final_profiles()[0], [0, 0.5, 0.5, 0, 0, 0])
    # the two choices: economy (p, q, open) at the end, run 0 (q, q, p), run 1 (open, open, q)
    np.testing.assert_allclose(outcome.dimension_shares("economy")[-1], [1 / 6, 1 / 2, 1 / 3])
    np.testing.assert_allclose(outcome.dimension_shares("security")[0], [1 / 3, 2 / 3])
    assert outcome.ends_in("a", "security", "p") == 1.0
    assert outcome.ends_in("a", "economy", "q") == 0.5
    assert outcome.ends_in("b", "economy", "open") == 0.5
    assert outcome.group_share(("a", "b", "c"), security="p", economy="q") == pytest.approx(1 / 6)
    assert outcome.group_share(("b", "c"), economy="q") == 0.5
    assert outcome.group_share(("a",)) == 1.0
    # hedge-labelled state-ticks after the start: run 0 3 of 6, run 1 4 of 6
    assert outcome.hedging_share() == pytest.approx(7 / 12)
    assert outcome.switches_per_run() == 2.0  # run 0: 3 changes of profile, run 1: 1
    np.testing.assert_allclose(outcome.offers_pct_gdp()[0], [10.0, 5.0, 20.0])  # GDP 10, 20, 5
    np.testing.assert_allclose(outcome.spending(), [3.0, 3.0])  # three states, US$ 1bn each
    np.testing.assert_allclose(outcome.credibility_path("p"), [[0.8, 0.4], [0.6, 0.6]])
    np.testing.assert_allclose(outcome.credibility_path("q")[:, -1], [1.0, 0.5])
    with pytest.raises(ValueError, match="dimension"):
        outcome.choices("culture")
    with pytest.raises(ValueError, match="no credibility"):
        Outcome("bare", tiny_world, HAND, offers).credibility_path("p")


# --- slow: the lessons' claims -------------------------------------------------------------
# Each claim of a lesson's "What the model shows", as behaviour of Model 2 at the model's
# defaults (logit rule, rationality 4): where states end in each choice (security: a bloc
# or none; economy: a pole or open), their record labels, offers and credibility, over
# ALIGNMENT_SIM_LESSON_SEEDS runs (50 by default, as the lessons quote). Each threshold
# leaves room for the run-to-run spread: when the claims were restated it held on every one
# of the 120 blocks of 50 seeds in seeds 0-5999, not only on the lessons' seeds 0-49. The
# assertion messages give the numbers measured.

SEEDS = int(os.environ.get("ALIGNMENT_SIM_LESSON_SEEDS", str(DEFAULT_SEEDS)))
RUSSIAS_CORE = ("armenia", "kyrgyzstan", "tajikistan")
"""The states with no autonomy in the region file and Russian bases: both of Russia's blocs."""
OUTSIDERS = ("ukraine", "moldova", "georgia", "azerbaijan", "turkmenistan")
"""The states in none of Russia's blocs at the start of every lesson (the record's 2010
configuration: Uzbekistan, then in the CSTO, is not one of them)."""


@cache
def outcomes(name: str) -> tuple[Outcome, ...]:
    lesson = load_lesson(name, LESSONS)
    return tuple(run_variant(lesson, variant, SEEDS) for variant in variants(lesson))


def extra(name: str, variant: Variant) -> Outcome:
    """A variant of a lesson the figure does not show (a claim about the default world)."""
    return run_variant(load_lesson(name, LESSONS), variant, SEEDS)


def ends_as(outcome: Outcome, state: str, security: str, economy: str) -> float:
    """Share of runs in which ``state`` ends with the profile security/economy."""
    return outcome.group_share((state,), security=security, economy=economy)


def security_share(outcome: Outcome, option: str) -> float:
    """Mean share of states whose security choice is ``option`` at the end."""
    options = outcome.world.space.security_options
    return float(outcome.dimension_shares("security")[-1, options.index(option)])


def offer_pct(outcome: Outcome, pole: str, state: str) -> float:
    """``pole``'s mean offer to ``state``, % of its GDP a year."""
    world = outcome.world
    return float(outcome.offers_pct_gdp()[world.poles.index(pole), world.states.index(state)])


# Lesson 1: balancing or bandwagoning (stance weighted 4)


def full_run(
    lesson: str, variant: Variant, ticks: int, seeds: int
) -> tuple[RunInputs, BatchResult, Trajectory]:
    """A lesson's variant run for ``ticks`` ticks and seeds 0..seeds-1 with everything
    recorded (the why panel's terms, the offers): its inputs, result and trajectory."""
    config = build_config(Setup(lesson=lesson, ticks=ticks, lessons_dir=str(LESSONS)), variant)
    inputs = RunInputs.from_config(config)
    result = run_batch(inputs, range(seeds), record="full")
    assert result.trajectory is not None
    return inputs, result, result.trajectory


def test_the_threat_deters_bandwagoners_twice_and_balancers_not_at_all() -> None:
    """The mechanism the lesson's text explains, as the why panel shows it at the first
    tick: Russia's threat against the West's alliance (*coercion*) is nothing to a
    balancer and twice as much to a bandwagoner as at stance 0, for Armenia as for
    Kazakhstan, and nothing at any stance to Ukraine, whose territory Russia's forces hold
    (``deterring_threat``); the West's *protection* is the same under every stance. Seen
    from Minsk the West's alliance is the stronger one, so a bandwagoning Belarus's *stance*
    term favours it, and the West's threat weighs on Russia's alliance (twice over when it
    bandwagons). Kazakhstan has no *autonomy*: staying out is worth nothing to it in itself."""
    terms = {}
    for stance in (-1.0, 0.0, 1.0):
        variant = Variant(f"stance {stance}", levers={"stance": stance})
        inputs, _, trajectory = full_run("balancing_vs_bandwagoning", variant, 1, 1)
        world, security_terms = inputs.world, trajectory.security_terms
        security = world.space.security_options
        terms[stance] = {
            (state, option, name): float(
                security_terms[0, 0, world.states.index(state), index, SECURITY_TERMS.index(name)]
            )
            for state in ("ukraine", "armenia", "kazakhstan", "belarus")
            for index, option in enumerate(security)
            for name in ("coercion", "protection", "stance", "autonomy")
        }
    bandwagon, neither, balance = terms[-1.0], terms[0.0], terms[1.0]
    assert [t[("ukraine", "west", "coercion")] for t in (bandwagon, neither, balance)] == [0.0] * 3
    for state in ("armenia", "kazakhstan"):
        key = (state, "west", "coercion")
        assert neither[key] < 0 and balance[key] == 0.0, (state, neither[key], balance[key])
        assert bandwagon[key] == pytest.approx(2 * neither[key]), (state, bandwagon[key])
        shield = [t[(state, "west", "protection")] for t in (bandwagon, neither, balance)]
        assert shield[0] > 0 and shield == pytest.approx([shield[0]] * 3), (state, shield)
    belarus = {name: bandwagon[("belarus", "russia", name)] for name in ("coercion", "stance")}
    assert belarus["stance"] < 0 < bandwagon[("belarus", "west", "stance")], belarus
    assert belarus["coercion"] == pytest.approx(2 * neither[("belarus", "russia", "coercion")])
    assert belarus["coercion"] < 0, belarus
    assert neither[("kazakhstan", "none", "autonomy")] == 0.0
    assert neither[("belarus", "none", "autonomy")] > 0.0


@pytest.mark.slow
def test_claim_balancing_empties_russias_alliance_into_the_wests() -> None:
    """From bandwagoning to balancing Russia's security bloc loses 29 to 33 points of the
    states and the West's gains 34 to 40 (over 120 blocks of 50 seeds; 31 and 37 on seeds
    0-49). The West's gain is smaller than Russia's loss would make it since the buffer
    states, whose land Russia's forces hold, are in the West's alliance under every stance.
    The record labels show half of it, as they count memberships and the West's alliance
    stands for a NATO aspiration (1 point, a union 2): Russia's share of labels falls by
    13.5 to 17.8 points (12.9 to 17.3 less than its alliance's: west/russia is recorded in
    Russia's camp), the hedgers' rises by 12.0 to 17.1 (west/open, a NATO aspiration alone,
    leads no camp) and the West's moves by 0.2 to 2.2 (15.5, 14.7 and 0.7 on seeds 0-49)."""
    bandwagon, _, balance = outcomes("balancing_vs_bandwagoning")
    russia = (security_share(bandwagon, "russia"), security_share(balance, "russia"))
    west = (security_share(bandwagon, "west"), security_share(balance, "west"))
    assert russia[1] < russia[0] - 0.25 and west[1] > west[0] + 0.3, (russia, west)
    labels = {
        label: (bandwagon.share(label), balance.share(label))
        for label in ("russia", "west", "hedge")
    }
    fall = labels["russia"][0] - labels["russia"][1]
    assert 0.1 < fall < russia[0] - russia[1] - 0.1, f"labels {labels}, alliance {russia}"
    assert labels["hedge"][1] > labels["hedge"][0] + 0.1, f"recorded as hedgers {labels}"
    assert abs(labels["west"][1] - labels["west"][0]) < 0.04, f"labelled west {labels}"


@pytest.mark.slow
def test_claim_the_buffer_states_keep_the_wests_alliance_under_every_stance() -> None:
    """Georgia starts in the West's alliance (west/open) and Ukraine in no bloc (none/open),
    the record's 2010 configuration; in the 2015 world Russia's forces hold part of both
    without consent, so its threat no longer deters them (``deterring_threat``). Balancing,
    Georgia ends in the alliance in every run and Ukraine in 98% to 100% of a block's runs
    (over 120 blocks of 50 seeds); at stance 0 Georgia in 98% to 100%, Ukraine in 96% to
    100%; bandwagoning, Georgia in 86% to 100% and Ukraine in 76% to 96%: the power of
    Russia's bloc next door holds a few bandwagoners back. Neither ends in Russia's
    alliance under any stance."""
    runs = outcomes("balancing_vs_bandwagoning")
    georgia = [o.ends_in("georgia", "security", "west") for o in runs]
    ukraine = [o.ends_in("ukraine", "security", "west") for o in runs]
    to_russia = max(
        o.ends_in(s, "security", "russia") for o in runs for s in ("ukraine", "georgia")
    )
    assert georgia[0] > 0.8 and georgia[1] > 0.9 and georgia[2] > 0.95, georgia
    assert 0.7 < ukraine[0] < 0.98 and ukraine[1] > 0.9 and ukraine[2] > 0.9, ukraine
    assert ukraine[0] <= ukraine[2], f"Ukraine balances more surely {ukraine}"
    assert to_russia < 0.05, f"Ukraine or Georgia in Russia's alliance: {to_russia}"


@pytest.mark.slow
def test_claim_balancers_take_the_wests_alliance_and_keep_russias_union() -> None:
    """Balancing, Armenia and Kyrgyzstan take the West's alliance (Armenia in 90% to 100% of
    a block's runs, over 120 blocks of 50 seeds; it starts outside Russia's union, the 2010
    configuration, and keeps or joins it in about half of them), Kyrgyzstan keeping
    Russia's union (west/russia, 80% to 100%); bandwagoning, neither ends west/russia.
    Kazakhstan, with no value of its own for staying out, joins the West's alliance
    when it balances (54% to 82%) and ends with no bloc at all in at most 28%; bandwagoning,
    it keeps Russia's alliance (96% to 100%). Its economy stays open under both stances
    (92% to 100%: the bound 0.9 is one run below the least block)."""
    bandwagon, _, balance = outcomes("balancing_vs_bandwagoning")
    swapped = {
        state: [ends_as(o, state, "west", "russia") for o in (bandwagon, balance)]
        for state in ("armenia", "kyrgyzstan")
    }
    armenia_west = balance.ends_in("armenia", "security", "west")
    assert armenia_west > 0.8 and swapped["kyrgyzstan"][1] > 0.7, (armenia_west, swapped)
    assert 0.2 < swapped["armenia"][1] < 0.8, swapped  # about half keep Russia's union
    assert max(b for b, _ in swapped.values()) < 0.05, f"west/russia bandwagoning {swapped}"
    kazakhstan = {
        "west, balancing": balance.ends_in("kazakhstan", "security", "west"),
        "none, balancing": balance.ends_in("kazakhstan", "security", "none"),
        "russia, bandwagoning": bandwagon.ends_in("kazakhstan", "security", "russia"),
    }
    assert kazakhstan["west, balancing"] > 0.5 and kazakhstan["none, balancing"] < 0.4, kazakhstan
    assert kazakhstan["russia, bandwagoning"] > 0.9, kazakhstan
    open_economy = [o.ends_in("kazakhstan", "economy", "open") for o in (bandwagon, balance)]
    assert min(open_economy) > 0.9, f"Kazakhstan economy open {open_economy}"


@pytest.mark.slow
def test_claim_belarus_leaves_russias_alliance_whatever_the_stance() -> None:
    """Belarus ends out of Russia's alliance and in its union under every stance (in
    Russia's alliance in at most 10% of a block's runs, in its union in 98% to 100%, over
    120 blocks of 50 seeds): with no security bloc (none/russia) when it bandwagons (88% to
    100%) or at stance 0 (92% to 100%), in the West's alliance (west/russia) when it
    balances (74% to 100%)."""
    runs = outcomes("balancing_vs_bandwagoning")
    in_alliance = [o.ends_in("belarus", "security", "russia") for o in runs]
    in_union = [o.ends_in("belarus", "economy", "russia") for o in runs]
    union_only = [ends_as(o, "belarus", "none", "russia") for o in runs[:2]]
    west_russia = ends_as(runs[2], "belarus", "west", "russia")
    assert max(in_alliance) < 0.15 and min(in_union) > 0.9, (in_alliance, in_union)
    assert min(union_only) > 0.8 and west_russia > 0.65, (union_only, west_russia)


@pytest.mark.slow
def test_claim_the_stance_hardly_moves_the_economy() -> None:
    """The economic shares of the three stances differ by 2.7 to 7.1 points (over 120
    blocks of 50 seeds; 1.8 to 4.7 before Armenia's transit judgement went, 3 December
    2026); those of the other nine states by at most 0.9. The difference is Kyrgyzstan's
    and Armenia's: out of Russia's alliance each gets Russia's payments only through the
    union (its *inducements* for the union are positive then, nothing while it holds the
    alliance), so balancing Kyrgyzstan leaves China's market (its share in China's falls
    by 12 to 44 points) and Armenia keeps Russia's union. China gains nothing from
    balancing."""
    runs = outcomes("balancing_vs_bandwagoning")
    economies = np.array([o.dimension_shares("economy")[-1] for o in runs])
    world = runs[0].world
    others = [i for i, state in enumerate(world.states) if state not in ("kyrgyzstan", "armenia")]
    without = []
    for outcome in runs:
        chosen, options = outcome.choices("economy")
        final = chosen[:, -1, others]
        without.append([(final == k).mean() for k in range(len(options))])
    assert np.ptp(economies, axis=0).max() < 0.08, f"economic shares per stance {economies}"
    assert np.ptp(without, axis=0).max() < 0.02, f"without Kyrgyzstan and Armenia {without}"
    china = [o.ends_in("kyrgyzstan", "economy", "china") for o in runs]
    assert china[2] < china[0] - 0.1, f"Kyrgyzstan in China's market per stance {china}"
    options = world.space.economic_options
    assert economies[2, options.index("china")] <= economies[0, options.index("china")]
    ticks = runs[2].alignment.shape[1] - 1
    balancing = Variant("stance 1.0", levers={"stance": 1.0})
    inputs, result, trajectory = full_run("balancing_vs_bandwagoning", balancing, ticks, SEEDS)
    world, alignment, economy_terms = inputs.world, result.alignment, trajectory.economy_terms
    kyrgyzstan = world.states.index("kyrgyzstan")
    # the security bloc held when each tick's terms are computed: (R, T)
    held = world.space.profile_security[alignment[:, :-1, kyrgyzstan].astype(np.int64)]
    inducements = economy_terms[
        :, :, kyrgyzstan, options.index("russia"), ECONOMIC_TERMS.index("inducements")
    ]
    security = world.space.security_options
    in_alliance = inducements[held == security.index("russia")]
    out_of_it = inducements[held == security.index("west")]
    assert in_alliance.mean() < 0.05 and out_of_it.mean() > 0.2, (
        in_alliance.mean(),
        out_of_it.mean(),
    )


@pytest.mark.slow
def test_claim_the_outsiders_never_move_and_tajikistan_only_when_it_balances() -> None:
    """Azerbaijan and Turkmenistan end with no security bloc under every stance (each in at
    least 90% of a block's runs, over 120 blocks of 50 seeds), Uzbekistan too but when it
    bandwagons (then it stays in Russia's alliance, where the 2010 configuration starts it,
    now and then: 21 of these 50 runs, 5 to 22 in a block; autonomy 0.6), and Moldova (its
    law rules out every alliance) in every run.
    Tajikistan keeps Russia's alliance when it bandwagons or at stance 0 (98% to 100%), and
    in most but not all balancing runs (56% to 80%)."""
    runs = outcomes("balancing_vs_bandwagoning")
    for outcome in runs:
        outsiders = ("azerbaijan", "turkmenistan", "moldova")
        if not outcome.label.startswith("bandwagoning"):
            outsiders = (*outsiders, "uzbekistan")
        out = {state: outcome.ends_in(state, "security", "none") for state in outsiders}
        assert min(out.values()) > 0.85 and out["moldova"] > 0.95, (outcome.label, out)
    bandwagoning = runs[0]
    assert bandwagoning.label.startswith("bandwagoning")
    assert 0.05 < bandwagoning.ends_in("uzbekistan", "security", "russia") < 0.5
    tajikistan = [o.ends_in("tajikistan", "security", "russia") for o in runs]
    assert min(tajikistan[:2]) > 0.9 and 0.5 < tajikistan[2] < 0.9, tajikistan


@pytest.mark.slow
def test_claim_at_the_default_weight_balancing_moves_only_the_buffer_states() -> None:
    """With the stance term at its default weight (1, not 4) the threat half of the stance
    still works: the buffer states, which Russia's threat no longer deters, take the West's
    alliance in 73% to 93% of the two's runs in a block when they balance (over 120 blocks
    of 50 seeds) and in 48% to 79% when they bandwagon, and the West's bloc gains 2.5 to
    7.6 points of the states. The power half weighs a quarter as much: Armenia,
    Kazakhstan, Kyrgyzstan and Tajikistan keep Russia's alliance (93% to 99% balancing),
    and Russia's bloc moves by a few points (at most 5.1), against 29 or more in the
    lesson's world."""
    bandwagon, _, balance = outcomes("balancing_vs_bandwagoning")
    light = [
        extra(
            "balancing_vs_bandwagoning",
            Variant(f"weight 1, stance {s}", levers={"stance": s}, set={"weights.stance": 1}),
        )
        for s in (-1.0, 1.0)
    ]
    buffer = [o.group_share(("ukraine", "georgia"), security="west") for o in light]
    allies = light[1].group_share(("armenia", "kazakhstan", "kyrgyzstan", "tajikistan"), "russia")
    assert 0.4 < buffer[0] < buffer[1] and buffer[1] > 0.65 and allies > 0.85, (buffer, allies)
    west_gain = security_share(light[1], "west") - security_share(light[0], "west")
    heavy_effect = security_share(bandwagon, "russia") - security_share(balance, "russia")
    light_effect = abs(security_share(light[0], "russia") - security_share(light[1], "russia"))
    assert west_gain > 0.02, f"the West's bloc at weight 1: +{west_gain}"
    assert light_effect < 0.07 and heavy_effect > 0.25, (light_effect, heavy_effect)


# Lesson 2: hedging (the value of staying out: 0, 0.5, 1, 2)


@pytest.mark.slow
def test_claim_hedging_grows_with_the_value_of_staying_out() -> None:
    """Staying out grows with its value at every step: over 120 blocks of 50 seeds the
    share of states with no security bloc grows from nothing to half the default by 4.2 to
    8.0 points, from half to the default by 4.7 to 10.7, from the default to double by 6.7
    to 12.2. The record's hedgers grow at every step too, but less and less: by 8.7 to
    14.4 points, 2.6 to 8.2 and 0.7 to 3.8 (11.5, 6.7 and 2.9 on seeds 0-49). The last step
    moves states whose label it does not change: Ukraine leaves the West's alliance for no
    bloc and is a hedger in both (west/open: a NATO aspirant hosting Russia's fleet),
    Belarus leaves Russia's alliance and keeps its union, Georgia leaves the West's
    alliance and is labelled west either way (outside the CIS, in GUAM)."""
    runs = outcomes("hedging")
    shares = [o.share("hedge") for o in runs]
    steps = [b - a for a, b in itertools.pairwise(shares)]
    out = [security_share(o, "none") for o in runs]
    out_steps = [b - a for a, b in itertools.pairwise(out)]
    assert min(out_steps[:2]) > 0.03 and out_steps[2] > 0.05, f"security none {out}"
    assert steps[0] > 0.08 and steps[1] > 0.02 and 0.0 < steps[2] < 0.06, f"hedge {shares}"


@pytest.mark.slow
def test_claim_states_without_autonomy_never_hedge() -> None:
    world = outcomes("hedging")[0].world
    for state in RUSSIAS_CORE:
        assert world.state.autonomy[world.states.index(state)] == 0.0, state
    held = {
        (o.label, s): min(o.ends(s, "russia"), o.ends_in(s, "security", "russia"))
        for o in outcomes("hedging")
        for s in RUSSIAS_CORE
    }
    assert min(held.values()) > 0.9, held


@pytest.mark.slow
def test_claim_hedging_is_mostly_neutrality() -> None:
    """At the default 84% to 92% of the states recorded as hedgers at the end have no
    security bloc (over 120 blocks of 50 seeds; 213 of 240 on seeds 0-49); the rest (all
    but at most one of a block's hedgers) is Ukraine in the West's alliance: a NATO
    aspirant hosting Russia's Black Sea Fleet, a foot in two camps by the record's rule."""
    default = outcomes("hedging")[2]
    world = default.world
    hedging = default.labels()[:, -1] == world.labels.index("hedge")
    security, options = default.choices("security")
    neutral = hedging & (security[:, -1] == options.index("none"))
    ukraine = np.zeros_like(hedging)
    u = world.states.index("ukraine")
    ukraine[:, u] = hedging[:, u] & (security[:, -1, u] == options.index("west"))
    assert neutral.sum() > 0.8 * hedging.sum(), (neutral.sum(), hedging.sum())
    assert (neutral | ukraine).sum() > 0.99 * hedging.sum(), (ukraine.sum(), hedging.sum())
    states = {s: ends_as(default, s, "none", "open") for s in ("moldova", "uzbekistan")}
    states["turkmenistan"] = default.ends_in("turkmenistan", "security", "none")
    assert min(states.values()) > 0.8, states
    # Ukraine, whose land Russia's forces hold, is a neutral hedger in 24% to 60% of a
    # block's runs (over 120 blocks of 50 seeds) and in the West's alliance in the rest
    ukraine = ends_as(default, "ukraine", "none", "open")
    assert 0.15 < ukraine < 0.75, f"Ukraine none/open at the default {ukraine}"


@pytest.mark.slow
def test_claim_turkmenistans_law_keeps_it_out_and_the_lever_moves_its_economy() -> None:
    """Turkmenistan's permanent neutrality rules out an alliance at every value of staying
    out (no security bloc in every run of every block), so the lever moves only its
    economy: China's market when staying out is worth nothing or half the default (in 98%
    and 94% of a block's runs at least, over 120 blocks of 50 seeds); at the default
    China's market in about half the runs (36% to 70%, 52% on average), midway between
    half and double."""
    runs = outcomes("hedging")
    nothing, half, default, double = runs
    alone = [o.ends_in("turkmenistan", "security", "none") for o in runs]
    assert min(alone) > 0.95, f"Turkmenistan security none per value {alone}"
    china = [o.ends_in("turkmenistan", "economy", "china") for o in (nothing, half)]
    assert min(china) > 0.9, f"Turkmenistan economy china, nothing and half {china}"
    about_half = default.ends_in("turkmenistan", "economy", "china")
    assert 0.3 < about_half < 0.75, f"economy china at the default {about_half}"
    assert ends_as(double, "turkmenistan", "none", "open") > 0.9


@pytest.mark.slow
def test_claim_kazakhstan_and_belarus_hedge_inside_russias_camp() -> None:
    """Kazakhstan, which has no autonomy in the region file, stays russia/open whatever
    the value of staying out (its open economy is trade diversion, not autonomy); Belarus
    (autonomy 0.3) is the one the lever moves, out of the alliance and not the union."""
    runs = outcomes("hedging")
    nothing, _, default, double = runs
    world = nothing.world
    assert world.state.autonomy[world.states.index("kazakhstan")] == 0.0
    inside = [ends_as(o, "kazakhstan", "russia", "open") for o in runs]
    assert min(inside) > 0.8, f"Kazakhstan russia/open per value {inside}"
    assert min(o.ends("kazakhstan", "russia") for o in runs) > 0.85
    belarus = [ends_as(o, "belarus", "russia", "russia") for o in (nothing, default)]
    union_only = ends_as(double, "belarus", "none", "russia")
    assert belarus[0] > 0.65 and belarus[1] < belarus[0] - 0.1, f"Belarus russia/russia {belarus}"
    assert union_only > 0.65, f"Belarus none/russia at double the value {union_only}"


@pytest.mark.slow
def test_claim_ukraines_neutrality_rests_on_its_autonomy() -> None:
    """Russia's threat no longer deters Ukraine (its forces hold Crimea in the 2015 world):
    when staying out is worth nothing Ukraine takes the West's alliance (92% to 100% of a
    block's runs, over 120 blocks of 50 seeds), at the default in 40% to 74%."""
    nothing, _, default, _ = outcomes("hedging")
    west = [o.ends_in("ukraine", "security", "west") for o in (nothing, default)]
    neutral = ends_as(nothing, "ukraine", "none", "open")
    assert west[0] > 0.85 and 0.25 < west[1] < 0.85 and neutral < 0.15, (west, neutral)


@pytest.mark.slow
def test_claim_without_a_value_for_staying_out_the_neutrals_pick_sides() -> None:
    """Moldova joins a union without an alliance (its neutrality is law), Russia's more
    often than the EU's; Azerbaijan takes the EU's economy without an alliance (none
    protects it against its own threat: its adversary, Armenia, is Russia's ally),
    Uzbekistan Russia's alliance. Over 120 blocks of 50 seeds Moldova joins a union in 30%
    to 62% of a block's runs when staying out is worth nothing (0% to 4% at the default),
    Uzbekistan keeps Russia's alliance in 60% to 90% (0% to 10% at the default), and
    hedging ends 14.4 to 20.0 points lower than at the default. Georgia keeps the West's
    alliance at every value (76% to 100% of a block's runs): Russia's threat no longer
    deters it."""
    nothing, _, default, _ = outcomes("hedging")
    moldova = [
        o.ends_in("moldova", "economy", "russia") + o.ends_in("moldova", "economy", "west")
        for o in (nothing, default)
    ]
    assert nothing.ends_in("moldova", "security", "none") > 0.95, "Moldova's neutrality"
    azerbaijan = [
        nothing.ends_in("azerbaijan", d, o) for d, o in (("economy", "west"), ("security", "none"))
    ]
    uzbekistan = [o.ends_in("uzbekistan", "security", "russia") for o in (nothing, default)]
    assert moldova[0] > 0.25 and moldova[1] < 0.1, f"Moldova in a union {moldova}"
    assert azerbaijan[0] >= 0.6 and azerbaijan[1] > 0.85, f"Azerbaijan EU, no alliance {azerbaijan}"
    assert uzbekistan[0] > 0.2 and uzbekistan[1] < 0.15, f"Uzbekistan security russia {uzbekistan}"
    assert nothing.share("hedge") < default.share("hedge") - 0.12
    georgia = min(o.ends_in("georgia", "security", "west") for o in outcomes("hedging"))
    assert georgia > 0.7, f"Georgia keeps the West's alliance in {georgia:.0%}"


@pytest.mark.slow
def test_claim_a_foot_in_two_camps_shows_where_it_is_held() -> None:
    """A foot in two camps as the record counts it (a hedger with a security bloc) is
    Ukraine's: in the West's alliance (79% to 100% of a block's Ukraines there at each value
    of staying out, over 120 blocks of 50 seeds; the others west/russia, in Russia's camp)
    it is recorded as a hedger, a NATO aspirant (1 point, GUAM's 1) hosting Russia's Black
    Sea Fleet with an observer seat in Russia's union (1.5). The ten other states end so
    in at most 1% of a block's 500 cases at any value: Azerbaijan, which took Russia's
    alliance with the EU's market when staying out was worth nothing, no longer has a
    threat Russia's alliance protects it against. Two choices with rival poles
    (russia/west, west/russia) end in at most 2.2% of a block's cases (Ukraine's
    west/russia when staying out is worth nothing), recorded in Russia's camp or not."""
    for outcome in outcomes("hedging"):
        world = outcome.world
        hedging = outcome.labels()[:, -1] == world.labels.index("hedge")
        security, options = outcome.choices("security")
        economy, economies = outcome.choices("economy")
        camps = hedging & (security[:, -1] != options.index("none"))
        u = world.states.index("ukraine")
        others = np.delete(camps, u, axis=1)
        assert others.mean() <= 0.01, (outcome.label, int(others.sum()))
        in_alliance = security[:, -1, u] == options.index("west")
        if in_alliance.any():
            recorded = (camps[:, u] & in_alliance).sum() / in_alliance.sum()
            assert recorded > 0.75, (outcome.label, recorded)
        rival = [
            (security[:, -1] == options.index(a)) & (economy[:, -1] == economies.index(b))
            for a, b in (("russia", "west"), ("west", "russia"))
        ]
        assert sum(r.mean() for r in rival) < 0.03, outcome.label


# Lesson 3: buffer states (2015 world; frozen conflicts forgotten; Russia stops threatening)


@pytest.mark.slow
def test_claim_the_eastern_buffer_states_keep_russias_union() -> None:
    """In every world of the lesson Armenia keeps Russia's alliance (in 98% to 100% of a
    block's runs over 120 blocks of 50 seeds) and Belarus its union (96% to 100%).
    Armenia starts outside Russia's union (the record's 2010 configuration) and joins it in
    14% to 52% of a block's runs: no route of Armenia's runs through Russia, and Russia's
    premium at the edge and the union's labour market (from 2015) are what pull it in.
    The bound on Armenia's union (10% to 60%, the lesson's claim `armenia_both_blocs`)
    holds on every block (40% and 34% on the lessons' seeds)."""
    runs = outcomes("buffer_states")
    held = {(o.label, "armenia"): o.ends_in("armenia", "security", "russia") for o in runs}
    held |= {(o.label, "belarus"): o.ends_in("belarus", "economy", "russia") for o in runs}
    union = {o.label: ends_as(o, "armenia", "russia", "russia") for o in runs}
    alliance = runs[0].ends_in("belarus", "security", "russia")
    assert min(held.values()) > 0.9, held
    assert min(union.values()) > 0.1 and max(union.values()) < 0.6, union
    assert 0.15 < alliance < 0.85, f"Belarus in Russia's alliance, 2015 world: {alliance}"


@pytest.mark.slow
def test_claim_russias_threat_no_longer_deters_the_buffer_states_it_occupies() -> None:
    """From the record's 2010 configuration Georgia (west/open) keeps the West's alliance
    (82% to 100% of a block's runs, over 120 blocks of 50 seeds) and Ukraine (none/open)
    joins it in 40% to 74%, ending none/open in the rest: Russia's forces hold part of both
    in the 2015 world, so its threat no longer deters them (``deterring_threat``) and the
    West's protection against it remains. Moldova and Azerbaijan stay out."""
    world_2015 = outcomes("buffer_states")[0]
    georgia = world_2015.ends_in("georgia", "security", "west")
    ukraine = world_2015.ends_in("ukraine", "security", "west")
    ukraine_out = ends_as(world_2015, "ukraine", "none", "open")
    neutral = min(world_2015.ends_in(s, "security", "none") for s in ("moldova", "azerbaijan"))
    assert georgia > 0.75 and 0.25 < ukraine < 0.85 and neutral > 0.9, (georgia, ukraine, neutral)
    assert ukraine + ukraine_out > 0.95, f"Ukraine west or none/open {ukraine}, {ukraine_out}"
    chosen, options = world_2015.choices("security")
    assert (
        chosen[:, 0, world_2015.world.states.index("georgia")].tolist()
        == [options.index("west")] * chosen.shape[0]
    )


@pytest.mark.slow
def test_claim_without_russian_threats_the_buffer_states_join_the_west_less() -> None:
    """When Russia threatens nobody there is nothing for the West's alliance to protect the
    buffer states from: Georgia keeps it in 26% to 64% of a block's runs (over 120 blocks
    of 50 seeds; 82% to 100% in the 2015 world), Ukraine joins it in 0% to 16% (40% to 74%)
    and stays out of both alliances in 84% to 100%. Moldova hardly moves: it takes the EU's
    economy in 0% to 24% of a block's runs (at most 2% in the 2015 world), since an
    association would not secure what its migrants earn in the EU. Belarus keeps Russia's
    alliance more often (12 to 44 points), and the West's alliance loses 6.4 to 11.3
    points of the states (8.0 on seeds 0-49). The record labels do not show it: the
    Western share of labels rises by 0.9 to 4.6 points (Moldova and Azerbaijan take the
    EU's economy a little more often), as Georgia, outside the CIS and in GUAM, is
    labelled west in every run with or without the alliance, and Ukraine hedge in the
    alliance as out of it (a NATO aspirant hosting Russia's fleet)."""
    world_2015, _, no_threat = outcomes("buffer_states")
    alliance = {
        (o.label, s): o.ends_in(s, "security", "west")
        for o in (world_2015, no_threat)
        for s in ("ukraine", "georgia")
    }
    for state in ("ukraine", "georgia"):
        assert alliance[no_threat.label, state] < alliance[world_2015.label, state], alliance
    assert alliance[no_threat.label, "georgia"] > 0.2, alliance
    ukraine_out = no_threat.ends_in("ukraine", "security", "none")
    assert alliance[no_threat.label, "ukraine"] < 0.35 and ukraine_out > 0.65, (
        alliance,
        ukraine_out,
    )
    moldova = [o.ends_in("moldova", "economy", "west") for o in (world_2015, no_threat)]
    west_alliance = (security_share(world_2015, "west"), security_share(no_threat, "west"))
    west = (world_2015.share("west"), no_threat.share("west"))
    georgia = min(o.ends("georgia", "west") for o in (world_2015, no_threat))
    belarus = [o.ends_in("belarus", "security", "russia") for o in (world_2015, no_threat)]
    assert moldova[0] < 0.1 and moldova[1] < 0.3, f"Moldova economy west {moldova}"
    assert west_alliance[1] < west_alliance[0] - 0.04, f"security west {west_alliance}"
    assert west[1] > west[0] and georgia > 0.95, f"label west {west}, Georgia's {georgia}"
    assert belarus[1] > belarus[0] + 0.05, f"Belarus in Russia's alliance {belarus}"


@pytest.mark.slow
def test_claim_each_choice_answers_its_own_pressures() -> None:
    world_2015, _, no_threat = outcomes("buffer_states")
    ukraine = [o.ends_in("ukraine", "economy", "west") for o in (world_2015, no_threat)]
    georgia = [o.ends_in("georgia", "economy", "west") for o in outcomes("buffer_states")]
    assert ukraine[0] < 0.1 and ukraine[1] < 0.25, f"Ukraine economy west {ukraine}"
    assert min(georgia) > 0.9, f"Georgia economy west {georgia}"


@pytest.mark.slow
def test_claim_the_grievance_is_not_what_keeps_them_out() -> None:
    """With the frozen conflicts forgotten (the grievance term at 0) Georgia joins Russia's
    alliance in at most 8% of a block's runs and Ukraine in at most 4% (over 120 blocks of
    50 seeds): Russia, their threat, offers them little protection. Forgetting them does
    not give Russia's threat back its force (its forces still hold the land), so the two
    end much as in the 2015 world: Georgia in the West's alliance in 80% to 98%, Ukraine in
    40% to 76%, the West's alliance within 1.1 points of the 2015 world's share and the
    Western share of labels the same in every block (Georgia is labelled west whatever it
    chooses but both of Russia's blocs, Ukraine hedge in the West's alliance or none)."""
    world_2015, forgotten, _ = outcomes("buffer_states")
    georgia = [o.ends_in("georgia", "security", "russia") for o in (world_2015, forgotten)]
    joins = [o.ends_in("ukraine", "security", "russia") for o in (world_2015, forgotten)]
    assert georgia[0] < 0.05 and georgia[1] < 0.2, f"Georgia security russia {georgia}"
    assert joins[0] < 0.05 and joins[1] < 0.1, f"Ukraine security russia {joins}"
    west_alliance = (
        forgotten.ends_in("georgia", "security", "west"),
        forgotten.ends_in("ukraine", "security", "west"),
    )
    assert west_alliance[0] > 0.7 and 0.25 < west_alliance[1] < 0.85, west_alliance
    alliance = (security_share(world_2015, "west"), security_share(forgotten, "west"))
    west = (world_2015.share("west"), forgotten.share("west"))
    assert abs(alliance[1] - alliance[0]) < 0.02, f"security west {alliance}"
    assert abs(west[1] - west[0]) < 0.01, f"label west {west}"


# Lesson 4: the leverage of the weak (China expanding; economic partners cheaper to change)


@pytest.mark.slow
def test_claim_outsiders_get_almost_nothing_from_russia() -> None:
    """At most 0.1% of GDP a year to the outsiders in any variant, 0.4% to Moldova, the
    nearest of them to Russia's union; its allies at the edge (Armenia, Kyrgyzstan,
    Tajikistan) get 6% to 31%, Belarus about 2%, Kazakhstan under 0.5%. Uzbekistan, in
    Russia's alliance at the 2010 start and out of it in almost every run (after a median
    of about two years), gets about 0.2%."""
    offers = {
        (o.label, s): offer_pct(o, "russia", s)
        for o in outcomes("leverage_of_the_weak")
        for s in OUTSIDERS
    }
    assert max(v for (_, s), v in offers.items() if s != "moldova") < 0.15, offers
    assert max(offers.values()) < 0.6, offers
    uzbekistan = [offer_pct(o, "russia", "uzbekistan") for o in outcomes("leverage_of_the_weak")]
    assert max(uzbekistan) < 0.4, uzbekistan


@pytest.mark.slow
def test_claim_paying_waverers_sends_russias_money_to_the_edge() -> None:
    """Leverage raises Russia's offers to its allies, most where the economic choice stays
    near the edge: from members only to leverage 6, over 120 blocks of 50 seeds,
    Armenia's by 22.5 to 24.2 points of its GDP (at the edge of Russia's union since its
    transit judgement went, 3 December 2026; 3.9 to 4.3 before), Tajikistan's by 8.6 to
    14.4, Belarus's (far from leaving) by 0.3 to 0.5 and Kyrgyzstan's (further past the
    edge, in China's market) by 0.0 to 2.0, rising with the leverage in only 70 of the
    120 blocks; the premiums come from the part of the budget nobody claimed."""
    leverage = outcomes("leverage_of_the_weak")
    rises = {}
    for state in ("kyrgyzstan", "tajikistan", "armenia", "belarus"):
        offers = [offer_pct(o, "russia", state) for o in leverage]
        if state != "kyrgyzstan":
            assert offers[0] < offers[1] < offers[2], (state, offers)
        rises[state] = offers[2] - offers[0]
    assert rises["armenia"] > 1.5 * rises["tajikistan"] > 4 * rises["belarus"], rises
    assert rises["tajikistan"] > rises["kyrgyzstan"] and abs(rises["kyrgyzstan"]) < 2, rises
    spending = [o.spending()[o.world.poles.index("russia")] for o in leverage]
    assert spending[0] < spending[1] < spending[2], f"Russia's spending {spending}"


@pytest.mark.slow
def test_claim_chinas_money_buys_economies_not_alliances() -> None:
    leverage = outcomes("leverage_of_the_weak")
    members_only = leverage[0]
    china = members_only.group_share(("kyrgyzstan", "tajikistan"), economy="china")
    alliance = {
        (o.label, s): o.ends_in(s, "security", "russia")
        for o in leverage
        for s in ("kyrgyzstan", "tajikistan")
    }
    assert china > 0.8, f"Kyrgyzstan and Tajikistan economy china, members only: {china}"
    assert ends_as(members_only, "turkmenistan", "none", "china") > 0.85
    assert min(alliance.values()) > 0.95, alliance


@pytest.mark.slow
def test_claim_premiums_hardly_keep_allies_in_russias_union() -> None:
    """An ally gets Russia's base share whatever its economy, so only the premium counts
    for the union: Kyrgyzstan stays in it in hardly any run (at most 3 of 50, with
    leverage 6); Tajikistan, whose premium is larger, in many more runs with leverage 6
    (19 to 37 of 50 over 120 blocks of 50 seeds, 21 on the lessons' seeds, against 0 to 1
    when Russia pays members only), and China's offer to it falls as Russia's rises;
    China's offer to Kyrgyzstan (27% to 29% of its GDP) moves by 0.1 to 2.2 points over
    the variants in a block."""
    leverage = outcomes("leverage_of_the_weak")
    kyrgyzstan = [o.ends_in("kyrgyzstan", "economy", "russia") for o in leverage]
    tajikistan = [o.ends_in("tajikistan", "economy", "russia") for o in leverage]
    assert max(kyrgyzstan) <= 0.1, f"Kyrgyzstan economy russia {kyrgyzstan}"
    assert tajikistan[2] > tajikistan[0] + 0.06, f"Tajikistan economy russia {tajikistan}"
    to_tajikistan = [offer_pct(o, "china", "tajikistan") for o in leverage]
    assert to_tajikistan[0] > to_tajikistan[1] > to_tajikistan[2], to_tajikistan
    to_kyrgyzstan = [offer_pct(o, "china", "kyrgyzstan") for o in leverage]
    assert np.ptp(to_kyrgyzstan) < 3.0, f"China's offer to Kyrgyzstan {to_kyrgyzstan}"


@pytest.mark.slow
def test_claim_the_small_state_collects_from_both_patrons() -> None:
    """Kyrgyzstan keeps Russia's alliance and takes China's market, so both patrons pay
    it: together more than 30% of its GDP a year in every variant, China at least twice
    what Russia pays."""
    for outcome in outcomes("leverage_of_the_weak"):
        russia = offer_pct(outcome, "russia", "kyrgyzstan")
        china = offer_pct(outcome, "china", "kyrgyzstan")
        assert russia + china > 30 and china > 2 * russia, (outcome.label, russia, china)


@pytest.mark.slow
def test_claim_the_premium_is_paid_near_the_edge() -> None:
    """At the lesson's cost of changing economic partner (0.5) Kyrgyzstan slides past the
    edge and leverage 6 changes Russia's offer to it by +0.5% to +25% over 120 blocks of
    50 seeds (7.9% to 9.1% of its GDP on seeds 0-49; +8% to +47% before Armenia's transit
    judgement went, 3 December 2026: Armenia, at the edge, now takes most of the premium);
    at the default cost (1) the cost of leaving holds it near the edge, leverage 6 more
    than doubles the offer (2.3 to 2.7 times; 7.9% to 19.7%) and keeps it in Russia's
    union in most runs (the claim kyrgyzstan_union_default_cost_leverage_6 counts them)."""
    members_only, _, most = outcomes("leverage_of_the_weak")
    runs = [
        extra(
            "leverage_of_the_weak",
            Variant(label, levers={"economic_switching_cost": 1.0}, set=spending),
        )
        for label, spending in (
            ("members only", {"region.poles.russia.spending": "proportional"}),
            ("leverage 6", {"region.poles.russia.leverage": 6.0}),
        )
    ]
    lesson = [offer_pct(o, "russia", "kyrgyzstan") for o in (members_only, most)]
    default_cost = [offer_pct(o, "russia", "kyrgyzstan") for o in runs]
    assert 0.97 * lesson[0] < lesson[1] < 1.3 * lesson[0], (
        f"Russia's offer to Kyrgyzstan, % of GDP {lesson}"
    )
    assert default_cost[1] > 2 * default_cost[0], default_cost
    stays = [o.ends_in("kyrgyzstan", "economy", "russia") for o in runs]
    assert stays[0] <= 0.1 < 0.5 < stays[1], f"economy russia at the default cost {stays}"


@pytest.mark.slow
def test_claim_russias_budget_buys_the_alliance_not_the_economy() -> None:
    """The teacher's note: with Russia's budget at 4 (from 8) its offer to Kyrgyzstan
    halves and Kyrgyzstan keeps its alliance and China's market; with Chinese lending at
    20 China's offer more than doubles and Kyrgyzstan still keeps Russia's alliance."""
    _, preset, _ = outcomes("leverage_of_the_weak")
    poorer = extra("leverage_of_the_weak", Variant("budget 4", levers={"russia_budget": 4.0}))
    lending = extra("leverage_of_the_weak", Variant("lending 20", levers={"china_lending": 20.0}))
    russia = [offer_pct(o, "russia", "kyrgyzstan") for o in (preset, poorer)]
    china = [offer_pct(o, "china", "kyrgyzstan") for o in (preset, lending)]
    assert russia[1] < 0.6 * russia[0] and china[1] > 2 * china[0], (russia, china)
    for outcome in (preset, poorer, lending):
        alliance = outcome.ends_in("kyrgyzstan", "security", "russia")
        union = outcome.ends_in("kyrgyzstan", "economy", "russia")
        assert alliance > 0.95 and union <= 0.1, (outcome.label, alliance, union)


# Lesson 5: the credibility of patrons (recession; security bloc cheaper to leave)


@pytest.mark.slow
def test_claim_broken_promises_cost_russia_credibility() -> None:
    *recession, calm = outcomes("credibility_of_patrons")
    for outcome, trust in zip(recession, (0.3, 0.6, 0.9), strict=True):
        path = outcome.credibility_path("russia")
        assert path[:, 0] == pytest.approx(trust), outcome.label
        assert path.min(axis=1).max() < 5 / 6 * trust, (outcome.label, path.min(axis=1))
        assert abs(path[:, -1].mean() - trust) < 0.03, (outcome.label, path[:, -1].mean())
    assert calm.credibility_path("russia").min(axis=1).mean() > 0.9 * 0.6


@pytest.mark.slow
def test_claim_low_credibility_keeps_states_out_of_russias_alliance() -> None:
    """Belarus leaves Russia's alliance and keeps its union the more often the less
    Russia is trusted (more often at low credibility than at high, by 40 to 74 points over
    120 blocks of 50 seeds); Kazakhstan, with nothing to gain from staying out, keeps the
    alliance in most runs at every credibility (at low credibility in 66% to 96% of a
    block's runs, 82% on average). Russia's alliance grows with credibility: from the
    middle to high by 2.2 to 5.6 points over 120 blocks of 50 seeds (Azerbaijan, which no
    alliance protects against its own threat, no longer joins it when Russia is trusted,
    nor Turkmenistan, whose neutrality is law)."""
    low, middle, high, _ = outcomes("credibility_of_patrons")
    belarus = [ends_as(o, "belarus", "none", "russia") for o in (low, middle, high)]
    kazakhstan = [o.ends_in("kazakhstan", "security", "russia") for o in (low, middle, high)]
    alliance = [security_share(o, "russia") for o in (low, middle, high)]
    assert belarus[0] > 0.55 and belarus[0] > belarus[2] + 0.05, f"Belarus none/russia {belarus}"
    assert min(kazakhstan) > 0.55, f"Kazakhstan security russia {kazakhstan}"
    assert alliance[0] < alliance[2] - 0.03, f"security russia {alliance}"
    assert alliance[0] + 0.01 < alliance[1] < alliance[2], f"security russia {alliance}"


@pytest.mark.slow
def test_claim_low_credibility_makes_the_region_more_restless() -> None:
    """With the security bloc cheap to leave, states change profile more often when Russia
    is not trusted: about 4.5 changes per run more at low credibility than at high (2.9 to
    6.0 over 120 blocks of 50 seeds), most of them among Russia's members."""
    low, _, high, _ = outcomes("credibility_of_patrons")
    switches = (low.switches_per_run(), high.switches_per_run())
    assert switches[0] > switches[1] + 1, f"switches per run, low and high {switches}"


@pytest.mark.slow
def test_claim_the_union_and_the_most_dependent_hold() -> None:
    """Belarus keeps Russia's union at every credibility (in 88% to 100% of a block's runs
    at low credibility over 120 blocks of 50 seeds, 96% to 100% at the others) and the core
    keeps its alliance; what Russia's union loses at low credibility (7.1 to 12.5 points)
    it loses with the waverers, 79% to 98% of it: Armenia, whose union rests on Russia's
    money since its transit judgement went (3 December 2026), and Central Asia
    (Kyrgyzstan and Tajikistan take China's market), not Belarus (at most 12.8%)."""
    runs = outcomes("credibility_of_patrons")[:3]
    low, _, high = runs
    belarus = min(o.ends_in("belarus", "economy", "russia") for o in runs)
    held = {(o.label, s): o.ends_in(s, "security", "russia") for o in runs for s in RUSSIAS_CORE}
    russia = low.world.space.economic_options.index("russia")
    union = [o.dimension_shares("economy")[-1, russia] for o in (low, high)]
    waverers = ("kyrgyzstan", "tajikistan", "armenia")
    lost = [o.group_share(waverers, economy="russia") for o in (low, high)]
    lost_share = (lost[1] - lost[0]) * len(waverers) / low.world.n_states
    assert belarus > 0.85 and min(held.values()) > 0.8, (belarus, held)
    assert union[1] - union[0] > 0.02, f"economy russia {union}"
    assert lost_share > 0.7 * (union[1] - union[0]), (lost, union)


@pytest.mark.slow
def test_claim_the_recessions_dip_matters_little() -> None:
    _, middle, _, calm = outcomes("credibility_of_patrons")
    alliance = [security_share(o, "russia") for o in (middle, calm)]
    belarus = [ends_as(o, "belarus", "none", "russia") for o in (middle, calm)]
    assert abs(alliance[0] - alliance[1]) < 0.03, f"security russia {alliance}"
    assert abs(belarus[0] - belarus[1]) < 0.1, f"Belarus none/russia {belarus}"
    central_asia = [
        o.group_share(("kyrgyzstan", "tajikistan"), economy="china") for o in (middle, calm)
    ]
    assert central_asia[0] > central_asia[1], f"economy china with, without {central_asia}"


@pytest.mark.slow
def test_claim_at_the_default_switching_cost_credibility_still_counts() -> None:
    """With a security bloc as costly to leave as by default (1), states change profile
    about half as often, yet Russia's alliance still ends smaller at low credibility than
    at high (by 5.3 to 10.4 points over 120 blocks of 50 seeds, 7.5 on average), and Belarus
    still leaves it in most low-credibility runs."""
    low = outcomes("credibility_of_patrons")[0]
    runs = [
        extra(
            "credibility_of_patrons",
            Variant(
                f"credibility {trust}",
                levers={"russia_credibility": trust, "switching_cost": 1.0},
            ),
        )
        for trust in (0.3, 0.9)
    ]
    alliance = [security_share(o, "russia") for o in runs]
    belarus = ends_as(runs[0], "belarus", "none", "russia")
    assert alliance[1] - alliance[0] > 0.015 and belarus > 0.5, (alliance, belarus)
    switches = (runs[0].switches_per_run(), low.switches_per_run())
    assert 0.35 * switches[1] < switches[0] < 0.6 * switches[1], f"switches per run {switches}"


# --- slow: every claim of every lesson holds, with the counts the texts quote -------------


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_claims_hold_and_the_text_quotes_their_counts(name: str) -> None:
    lesson = load_lesson(name, LESSONS)
    counts = ClaimRunner(lesson, SEEDS).counts()
    outside = [(c.claim.id, c.count, c.total) for c in counts if not c.holds]
    assert not outside, f"claims outside their bounds over {SEEDS} runs: {outside}"
    if SEEDS == DEFAULT_SEEDS:
        quoted = numbers_claims(name)
        measured = {c.claim.id: (c.count, c.total) for c in counts}
        assert {k: v[:2] for k, v in quoted.items()} == measured, "regenerate the lesson"
        medians = {c.claim.id: c.median for c in counts if c.median is not None}
        assert {k: float(quoted[k][2]) for k in medians} == medians


@pytest.mark.slow
def test_claim_the_recession_is_in_force_from_the_first_tick() -> None:
    """Lesson 5's teacher note: the recession's cut is in force from tick 1, so the why
    panel's brackets do not show it; the map does. Russia's offer to Belarus at tick 1 is
    less than half of what it is without the recession. Belarus's *inducements* terms do
    not show the cut while it holds both of Russia's blocs: each choice values Russia's
    base share given the other as held, and Belarus gets it from either, so they count
    only the premium (in the ticks at which it holds both). Its trade with Russia's union
    was cut at tick 1 too and keeps falling as Russia's credibility falls (the union's
    trade gain is discounted by it), as protection does, a little."""
    terms, offers = {}, {}
    for label, scenario in (("recession", None), ("calm", "baseline")):
        variant = Variant(label, scenario=scenario)
        inputs, result, trajectory = full_run("credibility_of_patrons", variant, 4, SEEDS)
        world = inputs.world
        b, russia = world.states.index("belarus"), world.poles.index("russia")
        security = world.space.security_options.index("russia")
        # the profile held when each tick's terms are computed: (R, T)
        space, profiles = world.space, result.alignment[:, :-1, b].astype(np.int64)
        both = (space.profile_security[profiles] == security) & (
            space.profile_economy[profiles] == space.economic_options.index("russia")
        )
        offers[label] = trajectory.offers[:, 0, russia, b]
        terms[label] = {
            name: trajectory.economy_terms[:, :, b, russia, ECONOMIC_TERMS.index(name)]
            for name in ("inducements", "trade")
        }
        terms[label]["security inducements"] = trajectory.security_terms[
            :, :, b, security, SECURITY_TERMS.index("inducements")
        ]
        terms[label]["protection"] = trajectory.security_terms[
            :, :, b, security, SECURITY_TERMS.index("protection")
        ]
        terms[label]["both"] = both
    recession, calm = terms["recession"], terms["calm"]
    assert (offers["recession"] < 0.5 * offers["calm"]).all(), offers
    for world_terms in (recession, calm):
        both = world_terms["both"]
        assert both.mean() > 0.5, f"Belarus holds both of Russia's blocs: {both.mean()}"
        for name in ("inducements", "security inducements"):
            assert np.abs(world_terms[name][both]).max() < 0.1, name
    trade = recession["trade"]
    assert (calm["trade"][:, 0] > trade[:, 0] + 0.1).all()
    assert (trade[:, 3] < trade[:, 0] - 0.02).mean() > 0.9
    protection = recession["protection"]
    assert (protection[:, 3] < protection[:, 0]).mean() > 0.9
    assert (calm["protection"][:, 0] > protection[:, 0] - 1e-9).all()


def test_an_outcomes_accessor_names_what_it_does_not_know() -> None:
    """``ends("Belarus", ...)``, ``share("hedging")`` and ``credibility_path("usa")`` raised
    tuple.index's bare ValueError: each a ConfigError naming the known, and the closest."""
    from alignment_sim.classroom.classroom import load_lesson

    lesson = load_lesson("hedging")
    outcome = run_variant(lesson, variants(lesson)[0], 2)
    with pytest.raises(ConfigError, match=r"^state = 'Belarus': .*Did you mean belarus\?"):
        outcome.ends("Belarus", "russia")
    with pytest.raises(ConfigError, match=r"^label = 'hedging': expected one of russia, china"):
        outcome.share("hedging")
    assert outcome.ends("belarus", "russia") == 1.0
