"""Lessons: every preset loads, every text has its parts, the figures command works, and
(slow) the claims each lesson's text makes still hold in the model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from alignment_sim.classroom.classroom import (
    Setup,
    Variant,
    available_lessons,
    build_config,
    load_lesson,
)
from alignment_sim.classroom.lessons import Outcome, main, run_variant, variants

LESSONS = Path(__file__).resolve().parents[1] / "experiments" / "lessons"
EXPECTED = [
    "balancing_vs_bandwagoning",
    "hedging",
    "buffer_states",
    "leverage_of_the_weak",
    "credibility_of_patrons",
]
SECTIONS = ("## For students", "## Questions", "## What the model shows", "## For the teacher")


def test_five_lessons_in_teaching_order() -> None:
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


def test_figures_command_writes_figure_and_numbers(tmp_path: Path, capsys) -> None:
    shutil.copytree(LESSONS / "hedging", tmp_path / "hedging")
    for generated in ("figure.png", "numbers.md"):
        (tmp_path / "hedging" / generated).unlink()
    assert main(["--figures", "--seeds", "2", "--lessons", str(tmp_path)]) == 0
    assert "hedging: wrote" in capsys.readouterr().out
    assert (tmp_path / "hedging" / "figure.png").read_bytes()[:4] == b"\x89PNG"
    numbers = (tmp_path / "hedging" / "numbers.md").read_text()
    assert "2 runs (seeds 0-1)" in numbers
    rows = [line for line in numbers.splitlines() if line.startswith("| hedging pays")]
    assert len(rows) == 2
    shares = [int(cell.strip().rstrip("%")) for cell in rows[0].split("|")[2:6]]
    assert abs(sum(shares) - 100) <= 2, "the four options' shares add up to 100%"
    assert sorted(p.name for p in (tmp_path / "hedging").iterdir()) == [
        "README.md",
        "figure.png",
        "numbers.md",
        "preset.yaml",
    ]


def test_a_failed_regeneration_keeps_the_old_figure_and_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alignment_sim.classroom import lessons

    shutil.copytree(LESSONS / "hedging", tmp_path / "hedging")
    before = {p.name: p.read_bytes() for p in (tmp_path / "hedging").iterdir()}

    def disk_full(*args: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lessons, "lesson_numbers", disk_full)
    assert main(["--figures", "--seeds", "2", "--lessons", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "alignment-sim-lessons: No space left on device\n"
    assert {p.name: p.read_bytes() for p in (tmp_path / "hedging").iterdir()} == before


def test_lessons_command_lists_and_rejects_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["--lessons", str(LESSONS)]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in EXPECTED)
    with pytest.raises(SystemExit):
        main(["--figures", "--seeds", "0", "--lessons", str(LESSONS)])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "preset.yaml").write_text("title: Bad\nlevers: {stance: 9}\n")
    assert main(["--figures", "--seeds", "1", "--lessons", str(tmp_path)]) == 2
    assert "dynamics.stance = 9.0" in capsys.readouterr().err


# --- slow: the lessons' claims -----------------------------------------------------------

SEEDS = 20


def outcomes(name: str) -> list[Outcome]:
    lesson = load_lesson(name, LESSONS)
    return [run_variant(lesson, variant, SEEDS) for variant in variants(lesson)]


def share(outcome: Outcome, option: str) -> float:
    return float(outcome.shares()[-1, outcome.world.options.index(option)])


def ends(outcome: Outcome, state: str, option: str) -> float:
    """Share of runs in which ``state`` ends in ``option``."""
    world = outcome.world
    return float(
        outcome.final_distribution()[world.states.index(state), world.options.index(option)]
    )


@pytest.mark.slow
def test_claims_balancing_vs_bandwagoning() -> None:
    bandwagon, _, balance = outcomes("balancing_vs_bandwagoning")
    assert share(balance, "russia") < share(bandwagon, "russia") - 0.05
    assert share(balance, "china") > share(bandwagon, "china") + 0.05
    assert ends(bandwagon, "uzbekistan", "russia") > 0.8
    assert ends(balance, "uzbekistan", "china") > 0.8
    lesson = load_lesson("balancing_vs_bandwagoning", LESSONS)
    light = [
        run_variant(
            lesson, Variant(f"w1 s{s}", levers={"stance": s}, set={"weights.stance": 1}), SEEDS
        )
        for s in (-1.0, 1.0)
    ]
    heavy_effect = share(bandwagon, "russia") - share(balance, "russia")
    assert abs(share(light[0], "russia") - share(light[1], "russia")) < heavy_effect


@pytest.mark.slow
def test_claims_hedging() -> None:
    low, default, high = outcomes("hedging")
    assert share(low, "hedge") < 0.05 < share(default, "hedge") < 0.5 < share(high, "hedge")
    assert share(high, "west") < share(default, "west") - 0.15
    assert ends(high, "belarus", "russia") > 0.9


@pytest.mark.slow
def test_claims_buffer_states() -> None:
    world_2015, forgotten, no_threat = outcomes("buffer_states")
    for state, option in [("ukraine", "west"), ("georgia", "west"), ("belarus", "russia")]:
        assert ends(world_2015, state, option) > 0.9
        assert ends(no_threat, state, option) > 0.9
    assert ends(forgotten, "ukraine", "russia") > 0.9
    assert ends(forgotten, "georgia", "west") < 0.5
    assert share(forgotten, "west") < share(world_2015, "west") - 0.1


@pytest.mark.slow
def test_claims_leverage_of_the_weak() -> None:
    even, default, strong = outcomes("leverage_of_the_weak")
    world = even.world
    russia, kyrgyzstan = world.poles.index("russia"), world.states.index("kyrgyzstan")
    moldova = world.states.index("moldova")
    offers = [o.offers_pct_gdp()[russia] for o in (even, default, strong)]
    assert offers[0][kyrgyzstan] < offers[1][kyrgyzstan] < offers[2][kyrgyzstan]
    assert offers[0][moldova] > offers[1][moldova] > offers[2][moldova]
    stays = [ends(o, "kyrgyzstan", "russia") for o in (even, default, strong)]
    assert stays[0] < stays[2] and np.argmax(stays) == 2


@pytest.mark.slow
def test_claims_credibility_of_patrons() -> None:
    low, default, high = outcomes("credibility_of_patrons")
    assert share(low, "russia") < share(default, "russia") < share(high, "russia")
    assert share(low, "china") > 0.1
    assert ends(low, "kyrgyzstan", "china") > 0.8
    assert low.switches_per_run() > high.switches_per_run()
