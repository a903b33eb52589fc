"""The classroom app without a browser: the model behind it, the why panel, the pictures,
and the page itself rendered in Solara's test harness (clicks and inputs as a user would)."""

from __future__ import annotations

import copy
import inspect
import os
import re
from pathlib import Path

import numpy as np
import pytest

from alignment_sim import AlignmentModel, ConfigError, default_config
from alignment_sim.classroom.classroom import (
    LEVERS,
    ClassroomModel,
    LeverChange,
    Setup,
    build_config,
    get_value,
    set_value,
)
from alignment_sim.classroom.explain import (
    TERM_WORDS,
    Choice,
    explain,
    is_split,
    last_switch,
    option_words,
)
from alignment_sim.model.kernels import ECONOMIC_TERMS, REALIST_TERMS, SECURITY_TERMS
from alignment_sim.model.trajectory import RECORDED_ARRAYS
from alignment_sim.model.world import quarter

# --- the model behind the page ---------------------------------------------------------


def test_defaults_match_the_library_default() -> None:
    model = ClassroomModel()
    assert model.message is None and model.running
    reference = default_config()
    assert model.config == reference
    assert model.levers()["russia_budget"] == get_value(
        reference, "region.poles.russia.budget_bn_usd"
    )
    assert set(model.levers()) == set(LEVERS)


def test_every_lever_is_a_parameter_of_model_2_with_its_default_on_the_slider() -> None:
    config = default_config()
    signature = inspect.signature(ClassroomModel)
    for name, lever in LEVERS.items():
        value = float(get_value(config, lever.key))  # ConfigError if the path is gone
        assert lever.low <= value <= lever.high, name
        assert lever.snap(value) == pytest.approx(value), f"{name}: the slider shows the default"
        assert name in signature.parameters, f"the page builds the model with {name}="
        moved = copy.deepcopy(config)
        set_value(moved, lever.key, lever.high)
        moved.validate()
        assert get_value(moved, lever.key) == lever.high
    assert "hedge_access" not in LEVERS


def test_levers_in_the_constructor_reach_the_config() -> None:
    model = ClassroomModel(
        stance=1.0,
        russia_budget=2.5,
        rationality=3.0,
        autonomy=2.0,
        economic_switching_cost=0.5,
        seed="7",
        ticks="12",
    )
    assert model.config.dynamics.stance == 1.0
    assert get_value(model.config, "region.poles.russia.budget_bn_usd") == 2.5
    assert model.config.decision.rationality == 3.0
    assert model.config.weights.autonomy == 2.0
    assert model.config.dynamics.economic_switching_cost == 0.5
    assert (model.config.seed, model.config.ticks, model.run_seed) == (7, 12, 7)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"seed": "abc"}, "seed = 'abc'"),
        ({"ticks": "-5"}, "ticks = -5"),
        ({"ticks": 100_000}, "ticks = 100000: expected a whole number 1-400"),
        ({"stance": 2.0}, "levers.stance = 2.0: expected a value from -1 to 1"),
        ({"russia_budget": -1.0}, "levers.russia_budget = -1.0: expected a value from 0 to 20"),
        ({"economic_switching_cost": -1.0}, "economic_switching_cost = -1.0"),
        ({"scenario": "no_such_scenario"}, "scenario = 'no_such_scenario'"),
        ({"decision": "coin_flip"}, "decision"),
        ({"lesson": "no_such_lesson"}, "lesson = 'no_such_lesson'"),
    ],
)
def test_bad_setup_is_raised_or_in_the_app_a_message(kwargs: dict, key: str) -> None:
    """A library's use raises the ConfigError naming the value (an unknown lesson used to
    pass silently, leaving the default world at seed 0); the app's (``as_message``) shows
    it, the default world stopped."""
    with pytest.raises(ConfigError, match=re.escape(key)):
        ClassroomModel(**kwargs)
    model = ClassroomModel(**kwargs, as_message=True)
    assert model.message is not None and key in model.message
    assert "Traceback" not in model.message
    assert model.setup_failed and not model.running
    model.step()
    assert model.tick == 0, "a failed setup must not run"


def write_lesson(root: Path, name: str, text: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "preset.yaml").write_text(text)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("title: [unclosed\n", "a readable YAML file"),
        ("title: T\nlevers: {stance: 3}\n", "levers.stance = 3: expected a value from -1 to 1"),
        ("title: T\nlevers: {gravity: 1}\n", "a lever"),
        ("title: T\nlevers: {hedge_access: 0.4}\n", "a lever"),
        ("title: T\nlevers: {stance: high}\n", "a number"),
        ("title: T\nset: {dynamics.no_such_field: 1}\n", "a field of dynamics"),
        (
            "title: T\nset: {region.poles.atlantis.budget_bn_usd: 1}\n",
            "a name of the region's poles",
        ),
        ("title: T\nset: {poles.russia.coercion: 0}\n", "Did you mean 'region.poles.russia"),
        ("title: T\ncolour: red\n", "one of the keys"),
        ("title: T\nscenario: missing.yaml\n", "scenario"),
        ("levers: {stance: 1}\n", "title"),
    ],
)
def test_broken_preset_becomes_a_message(tmp_path: Path, preset: str, expected: str) -> None:
    write_lesson(tmp_path, "broken", preset)
    with pytest.raises(ConfigError):
        ClassroomModel(lesson="broken", lessons_dir=str(tmp_path))
    model = ClassroomModel(lesson="broken", lessons_dir=str(tmp_path), as_message=True)
    assert model.message is not None and expected in model.message
    assert model.setup_failed and model.lesson is None


def test_lesson_preset_sets_scenario_levers_and_keys(tmp_path: Path) -> None:
    write_lesson(
        tmp_path,
        "good",
        "title: Good\nscenario: baseline\ndecision: best_response\n"
        "levers: {stance: 0.5, economic_switching_cost: 2.0}\n"
        "set: {weights.stance: 4, region.states.belarus.autonomy: 0.9}\n",
    )
    model = ClassroomModel(lesson="good", scenario="no_such_scenario", lessons_dir=str(tmp_path))
    assert model.message is None, model.message
    assert model.lesson is not None and model.lesson.title == "Good"
    assert model.config.decision.rule == "best_response"
    assert model.config.dynamics.stance == 0.5
    assert model.config.dynamics.economic_switching_cost == 2.0
    assert model.config.weights.stance == 4.0
    assert get_value(model.config, "region.states.belarus.autonomy") == 0.9


def test_dotted_keys_reject_unknown_paths() -> None:
    config = default_config()
    set_value(config, "region.poles.china.budget_bn_usd", 7)
    assert get_value(config, "region.poles.china.budget_bn_usd") == 7.0
    bad = (
        "nonsense",
        "dynamics",
        "region.poles",
        "poles.russia.credibility",
        "region.poles.russia.name",
        "dynamics.hedge_access",
    )
    for key in bad:
        with pytest.raises(ConfigError, match="expected") as info:
            set_value(config, key, 1.0)
        assert info.value.key == key


RECORDED = RECORDED_ARRAYS


def test_unchanged_levers_leave_the_run_bit_identical() -> None:
    config = default_config(ticks=12, seed=3)
    reference = AlignmentModel(config)
    reference.run()
    model = ClassroomModel(seed=3, ticks=12)
    for tick in range(12):
        if tick in (0, 5):
            assert model.apply_levers(model.levers())
        model.step()
    for name in RECORDED:
        np.testing.assert_array_equal(
            getattr(model.trajectory, name), getattr(reference.trajectory, name), err_msg=name
        )


def test_a_lever_at_tick_zero_equals_the_same_setup() -> None:
    moved = ClassroomModel(seed=1, ticks=10)
    assert moved.apply_levers({"stance": 1.0, "china_lending": 12.0, "autonomy": 2.0})
    built = ClassroomModel(seed=1, ticks=10, stance=1.0, china_lending=12.0, autonomy=2.0)
    moved.run()
    built.run()
    for name in RECORDED:
        np.testing.assert_array_equal(
            getattr(moved.trajectory, name), getattr(built.trajectory, name), err_msg=name
        )


def test_a_lever_mid_run_holds_from_the_next_tick() -> None:
    model = ClassroomModel(ticks=10)
    russia = model.world.poles.index("russia")
    economic = model.world.space.economic_options.index("russia")
    for _ in range(3):
        model.step()
    assert model.apply_levers({"russia_budget": 0.0})
    for _ in range(3):
        model.step()
    offers = model.trajectory.offers[0, :6, russia].sum(axis=-1)
    assert np.all(offers[:3] > 1.0)
    assert np.all(offers[3:] == 0.0)
    inducements = model.trajectory.economy_terms[
        0, 5, :, economic, ECONOMIC_TERMS.index("inducements")
    ]
    assert np.all(inducements == 0.0)


def test_switching_cost_levers_reach_their_own_choice() -> None:
    """Each dimension's switching term is minus its own cost for every option but the
    state's current one (kernels.switching_term), from the tick after the move."""
    model = ClassroomModel(ticks=4)
    model.step()
    assert model.apply_levers({"switching_cost": 0.3, "economic_switching_cost": 2.5})
    model.step()
    space = model.world.space
    before = model.trajectory.alignment[0, 1].astype(int)  # the options held when deciding
    for terms, names, current, cost in (
        (model.trajectory.security_terms, SECURITY_TERMS, space.profile_security[before], 0.3),
        (model.trajectory.economy_terms, ECONOMIC_TERMS, space.profile_economy[before], 2.5),
    ):
        switching = terms[0, 1, :, :, names.index("switching")]  # (N, options)
        expected = np.full(switching.shape, -cost)
        expected[np.arange(len(current)), current] = 0.0
        np.testing.assert_allclose(switching, expected, rtol=1e-6)


def test_autonomy_lever_scales_the_outside_options() -> None:
    """Autonomy is worth weight x the state's autonomy for ``none`` and ``open``, 0 for a
    bloc (kernels.autonomy_term), in both choices."""
    model = ClassroomModel(ticks=2, autonomy=2.5)
    model.step()
    autonomy = model.world.state.autonomy
    for terms, names in (
        (model.trajectory.security_terms, SECURITY_TERMS),
        (model.trajectory.economy_terms, ECONOMIC_TERMS),
    ):
        value = terms[0, 0, :, :, names.index("autonomy")]
        np.testing.assert_allclose(value[:, -1], 2.5 * autonomy, rtol=1e-6)
        assert np.all(value[:, :-1] == 0.0)


def test_sliders_round_to_their_steps() -> None:
    assert LEVERS["russia_budget"].snap(8.2) == 8.0
    assert LEVERS["stance"].snap(-1.7) == -1.0
    assert abs(LEVERS["russia_credibility"].snap(0.561) - 0.56) < 1e-12
    assert LEVERS["economic_switching_cost"].snap(9.0) == 3.0


def test_a_stance_the_rule_fixes_is_shown_in_force() -> None:
    """Under the balancing rule the stance lever changed nothing while the card showed
    its setting as if in force: the card says the rule's stance, and that the lever does
    nothing there."""
    from alignment_sim.classroom.app import lever_force_text

    runs = []
    for stance in (-1.0, 1.0):
        model = ClassroomModel(decision="balancing", stance=stance, seed=1, ticks=8)
        assert model.in_force()["stance"] == 1.0
        for _ in range(8):
            model.step()
        runs.append(model.trajectory.alignment.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert ClassroomModel(decision="bandwagoning").in_force()["stance"] == -1.0
    assert "stance" not in ClassroomModel().in_force()  # logit: the setting is in force
    assert "fixed by the decision rule" in lever_force_text("stance", -1.0, 1.0)


def test_a_bad_lever_value_changes_nothing() -> None:
    model = ClassroomModel()
    before = model.levers()
    with pytest.raises(ConfigError, match=r"conditionality = 1\.5"):
        model.apply_levers({"west_conditionality": 1.5})
    with pytest.raises(ConfigError, match="Stance"):
        model.apply_levers({"Stance": 1.0})
    assert model.levers() == before
    model.as_message = True  # the app's use
    assert not model.apply_levers({"west_conditionality": 1.5})
    assert model.message is not None and "conditionality = 1.5" in model.message
    assert model.levers() == before
    assert model.apply_levers({"west_conditionality": 0.5})
    assert model.message is None
    # beyond a slider's range: in force while the slider showed its end (20)
    model.as_message = False
    before = model.levers()
    with pytest.raises(
        ConfigError, match=r"levers\.russia_budget = 50: expected a value from 0 to 20"
    ):
        model.apply_levers({"russia_budget": 50})
    with pytest.raises(ConfigError, match=r"levers\.rationality = 100"):
        model.apply_levers({"rationality": 100})
    assert model.levers() == before


# --- the why panel ----------------------------------------------------------------------


def test_last_switch() -> None:
    row = np.array([3, 3, 0, 0, 3, 3])
    assert last_switch(row, 1) is None
    assert last_switch(row, 3) == 2
    assert last_switch(row, 5) == 4
    assert quarter(2015.0) == "2015 Q1" and quarter(2016.75) == "2016 Q4"


def hand_choice(switched_from: str | None = "open") -> Choice:
    """An economic choice worked out by hand: options (russia, china, open) and terms
    (trade, inducements, switching, autonomy)."""
    now = np.array(
        [
            [0.5, 0.9, 0.0],  # trade
            [0.6, 0.0, 0.0],  # inducements
            [0.0, -1.0, -1.0],  # switching
            [0.0, 0.0, 0.3],  # autonomy
        ]
    )
    then = np.array(
        [
            [0.5, 0.9, 0.0],
            [0.2, 0.0, 0.0],
            [-1.0, -1.0, 0.0],
            [0.0, 0.0, 0.3],
        ]
    )
    return Choice(
        dimension="economy",
        options=("russia", "china", "open"),
        option="russia",
        terms=("trade", "inducements", "switching", "autonomy"),
        now=now,
        utility=now.sum(axis=0),
        then_tick=3,
        then_year=2015.5,
        then=then,
        utility_then=then.sum(axis=0),
        switched_from=switched_from,
        probabilities=None,
    )


def test_a_choice_taken_apart_by_hand() -> None:
    choice = hand_choice()
    # utilities: russia 1.1, china -0.1, open -0.7
    assert choice.runner_up == "china"
    assert choice.margin() == pytest.approx(1.2)
    pro, con = choice.reasons()
    assert [t for t, _ in pro] == ["switching", "inducements"]
    assert [v for _, v in pro] == pytest.approx([1.0, 0.6])
    assert con == [("trade", pytest.approx(0.4))]
    # a term that would read "+0.00" is no reason: autonomy 0.004 for russia over china
    tiny = hand_choice()
    tiny.now[3] = [0.004, 0.0, 0.3]
    assert "autonomy" not in [t for t, _ in tiny.reasons()[0]]
    tiny.now[3] = [0.006, 0.0, 0.3]
    assert "autonomy" in [t for t, _ in tiny.reasons(count=4)[0]]
    # russia's lead over china: inducements 0.2 -> 0.6, switching 0 -> 1 (left out)
    assert choice.moved() == [("inducements", pytest.approx(0.4))]
    np.testing.assert_allclose(choice.delta[1], [0.4, 0.0, 0.0])
    text = " ".join(choice.sentences())
    assert "**Economy: Russia** since 2015 Q3 (before: no economic bloc (open))" in text
    assert "Next best: China, with a score 1.20 lower" in text
    assert "utility" not in text and "logit" not in text, "students read scores, not utility"
    assert f"{TERM_WORDS['inducements']} (inducements +0.60)" in text
    assert f"What favours China: {TERM_WORDS['trade']} (trade +0.40)" in text
    assert "Since its last change (from 2015 Q3), the lead of Russia" in text
    assert "Chances" not in text, "no probabilities under a deterministic rule"
    assert "since the start" in " ".join(hand_choice(switched_from=None).sentences())


def test_option_words_and_split_profiles(default_world) -> None:
    space = default_world.space
    assert option_words("security", "none") == "no security bloc"
    assert option_words("economy", "open") == "no economic bloc (open)"
    assert option_words("security", "west") == "the West"
    split = {p for k, p in enumerate(space.profiles) if is_split(space, k)}
    # pure: a pole's bloc in both choices (China: economy only), and none/open for hedge
    assert set(space.profiles) - split == {"russia/russia", "west/west", "none/open"}
    assert {"russia/china", "russia/open", "none/russia", "none/china"} <= split


def test_explanation_takes_both_choices_apart() -> None:
    model = ClassroomModel(ticks=12, rationality=2.0, seed=4)
    assert explain(model, "belarus") is None, "no decision before the first tick"
    for _ in range(12):
        model.step()
    space = model.world.space
    moved = {
        dimension: {s["state"] for s in model.trajectory.switches(0) if changed(s, dimension)}
        for dimension in ("security", "economy")
    }
    assert moved["security"] | moved["economy"], "with noisy choices some state switches"
    for chooser in model.choosers:
        why = explain(model, chooser.name)
        assert why is not None
        assert why.profile == chooser.option and why.record_label == chooser.label
        assert why.split == is_split(space, chooser.profile)
        for choice, terms, index, recorded in (
            (why.security, SECURITY_TERMS, chooser.security, chooser.terms.security),
            (why.economy, ECONOMIC_TERMS, chooser.economy, chooser.terms.economy),
        ):
            assert choice.terms == terms and choice.chosen == index
            np.testing.assert_allclose(choice.now.sum(axis=0), choice.utility, atol=2e-6)
            np.testing.assert_allclose(
                choice.now, np.stack([np.reshape(recorded[t], -1) for t in terms])
            )
            np.testing.assert_allclose(choice.delta, choice.now - choice.then)
            assert (choice.switched_from is not None) == (chooser.name in moved[choice.dimension])
            if choice.switched_from is None:  # dated as the headline: from 2015 Q2 on
                assert "Since the first tick (from 2015 Q2)" in " ".join(choice.sentences())
            assert choice.probabilities is not None
            assert abs(choice.probabilities.sum() - 1) < 1e-9
            pro, con = choice.reasons()
            other = choice.options.index(choice.runner_up)
            gap = dict(zip(terms, choice.now[:, choice.chosen] - choice.now[:, other], strict=True))
            assert all(v > 0 and abs(gap[t] - v) < 1e-12 for t, v in pro)
            assert all(v > 0 and abs(gap[t] + v) < 1e-12 for t, v in con)
            assert [v for _, v in pro] == sorted((v for _, v in pro), reverse=True)
    with pytest.raises(ConfigError, match=r"state = 'Uzbekistan': .*Did you mean uzbekistan"):
        explain(model, "Uzbekistan")  # it was None, and the next call an AttributeError
    with pytest.raises(ConfigError, match=r"state = 3: expected a state"):
        explain(model, 3)  # type: ignore[arg-type]


def changed(switch: dict, dimension: str) -> bool:
    """Whether a profile switch (``Trajectory.switches``) changed ``dimension``."""
    index = 0 if dimension == "security" else 1
    return switch["from"].split("/")[index] != switch["to"].split("/")[index]


@pytest.mark.parametrize("rule", ["best_response", "balancing"])
def test_deterministic_rules_pick_the_best_option_they_weigh(rule: str) -> None:
    """Under a deterministic rule each choice is the best of what it weighs, so its margin
    over the runner-up is never negative; the realist rules weigh only the realist terms
    in the security choice."""
    model = ClassroomModel(ticks=6, decision=rule)
    for _ in range(6):
        model.step()
    for chooser in model.choosers:
        why = explain(model, chooser.name)
        assert why is not None
        expected = REALIST_TERMS if rule == "balancing" else SECURITY_TERMS
        assert set(why.security.terms) == set(expected)
        assert why.economy.terms == ECONOMIC_TERMS
        for choice in why.choices:
            assert choice.margin() >= -1e-6, (chooser.name, choice.dimension)
            assert choice.probabilities is None
            np.testing.assert_allclose(choice.now.sum(axis=0), choice.utility, atol=2e-6)


# --- the glossary -----------------------------------------------------------------------

SOURCE_TEXTS = {
    "000_f1573ee38e2fd976",
    "001_3ff178c6375d3acf",
    "002_357a3cbfc3d1d9f7",
    "003_8e9a560dc416a86b",
    "004_f43a145551096780",
}
"""The five source texts (docs/MODEL.md cites them by these names)."""


def test_the_glossary_defines_every_term_a_student_sees() -> None:
    from alignment_sim.classroom.explain import TERM_NAMES
    from alignment_sim.classroom.glossary import entries, glossary

    words = glossary()
    for term in TERM_WORDS:
        assert term in words and TERM_NAMES[term] in words, term
    for shown in ("score", "utility", "logit", "hedge", "profile", "record label", "tick"):
        assert shown in words, shown
    for entry in entries():
        assert set(entry.sources) <= SOURCE_TEXTS, entry.term
        assert entry.text.endswith((".", ")")) and "utility" not in entry.text.split("(")[0]


def test_glossed_html_marks_the_first_use_outside_tags_and_code() -> None:
    from alignment_sim.classroom.glossary import glossary, glossed_html

    text = '<p title="trade">Trade and <code>trade</code>, then trade; regime_security.</p>'
    out = glossed_html(text)
    assert out.count("<abbr") == 2, out
    assert '<p title="trade">' in out, "attributes are left alone"
    assert "<code>trade</code>" in out, "code is left alone"
    assert out.startswith('<p title="trade"><abbr class="as-term" tabindex="0" title="')
    assert ">Trade</abbr> and" in out and ", then trade;" in out
    assert ">regime_security</abbr>" in out
    assert plain(out) == plain(text), "only marks are added"
    assert glossed_html("score, then utility").count("<abbr") == 1, "one term, two spellings"
    assert glossed_html("trade, trade", every=True).count("<abbr") == 2
    assert glossed_html("quarter-final") == "quarter-final", "whole words only"
    assert "&quot;hedge&quot;" in glossed_html("hedging") or '"' not in glossary()["hedging"]


def test_a_broken_glossary_names_the_term(tmp_path: Path) -> None:
    from alignment_sim.classroom.glossary import read_entries

    for text, expected in (
        ("score: just words\n", "a mapping with a text"),
        ("score: {text: T, sources: [paper.txt]}\n", "a source text id"),
        ("score: {text: T, colour: red}\n", "text, sources or also"),
    ):
        path = tmp_path / "glossary.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=expected) as info:
            read_entries(path)
        assert info.value.key.startswith("glossary score")


# --- the pictures -----------------------------------------------------------------------


def texts(figure) -> str:
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)


def test_map_shows_states_poles_and_lever_values() -> None:
    from alignment_sim.classroom.drawing import map_figure, shares_figure

    model = ClassroomModel(scenario="baseline")
    model.apply_levers({"russia_budget": 0.0})
    shown = texts(map_figure(model, selected="belarus"))
    for label in model.world.state_labels:
        assert label in shown
    china = get_value(model.config, LEVERS["china_lending"].key)
    assert "US$ 0.0bn/yr" in shown and f"US$ {china:.1f}bn/yr" in shown
    model.step()
    title = map_figure(model).axes[0].get_title()
    assert title.startswith("2015 Q2 (tick 1 of 40)")
    counts = [int(part.split()[-1]) for part in title.split("·")[1].split(",")]
    assert [part.split()[0] for part in title.split("·")[1].split(",")] == list(model.world.labels)
    assert sum(counts) == model.world.n_states
    figure = shares_figure(model)
    assert "Record labels, 2015 Q1 to 2015 Q2" in figure.axes[0].get_title()
    assert "security (dashed), economy (solid)" in figure.axes[1].get_title()
    lines = {
        line.get_label(): line
        for line in figure.axes[1].get_lines()
        if not line.get_label().startswith("_")
    }
    assert "economy china" in lines and "security none" in lines
    assert lines["economy china"].get_linestyle() == "-"
    assert lines["security none"].get_linestyle() == "--"


def test_shares_axis_reads_whole_years_or_quarters_and_marks_lever_moves() -> None:
    from alignment_sim.classroom.drawing import shares_figure

    def labels(figure) -> list[str]:
        figure.canvas.draw()
        return [t.get_text() for t in figure.axes[1].get_xticklabels()]

    ten_years = ClassroomModel(ticks=40)
    ten_years.step()
    assert labels(shares_figure(ten_years)) == [str(y) for y in range(2015, 2026)]
    short = ClassroomModel(ticks=6)  # a year and a half: quarters
    for _ in range(3):
        short.step()
    assert short.apply_levers({"stance": 1.0})
    short.step()
    assert labels(shares_figure(short)) == [
        "2015 Q1",
        "2015 Q2",
        "2015 Q3",
        "2015 Q4",
        "2016 Q1",
        "2016 Q2",
        "2016 Q3",
    ]
    assert short.lever_changes == [LeverChange(tick=3, lever="stance", value=1.0, before=0.0)]
    marks = [t.get_text() for t in shares_figure(short).axes[0].texts]
    assert "stance 1" in marks


def test_levers_in_force_include_events_and_the_credibility_now() -> None:
    """China's lending in force is the lever plus the scenario's Belt and Road (+4, from
    tick 1 in china_expansion); Russia's credibility now moves toward its lever."""
    model = ClassroomModel(scenario="china_expansion", ticks=8)
    lending = model.levers()["china_lending"]
    assert model.in_force()["china_lending"] == pytest.approx(lending)
    model.step()
    assert model.in_force()["china_lending"] > lending
    before = model.in_force()["russia_credibility"]
    assert before == pytest.approx(model.levers()["russia_credibility"])
    assert model.apply_levers({"russia_credibility": 0.1})
    for _ in range(3):
        model.step()
    assert 0.1 < model.in_force()["russia_credibility"] < before - 0.01, "falls, slowly"
    assert set(model.in_force()) == {"russia_budget", "china_lending", "russia_credibility"}


def test_why_chart_has_a_panel_per_choice() -> None:
    from alignment_sim.classroom.drawing import why_figure

    model = ClassroomModel(ticks=3)
    model.step()
    why = explain(model, "kazakhstan")
    assert why is not None
    figure = why_figure(why, model.world)
    security, economy = figure.axes
    assert (security.get_title(loc="left"), economy.get_title(loc="left")) == (
        "Security choice",
        "Economic choice",
    )
    for ax, choice in ((security, why.security), (economy, why.economy)):
        ticks = [t.get_text().removeprefix("▶ ") for t in ax.get_yticklabels()]
        assert ticks == list(reversed(choice.options))
        assert sum(t.get_text().startswith("▶ ") for t in ax.get_yticklabels()) == 1


# --- the page, in Solara's test harness -------------------------------------------------


@pytest.fixture
def page():
    """The app's page rendered inside an AppLayout, as the server shows it."""
    try:
        import solara
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the viz extra (solara) is not installed")
        pytest.skip("the viz extra (solara) is not installed")
    solara.settings.main.check_hooks = "off"  # as the server runs it (__main__)

    from alignment_sim.classroom import app

    _box, rc = solara.render(app.Layout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def widget_text(widget) -> str:
    """All text a widget shows: string children, HTML content, and its descendants'."""
    parts = [str(getattr(widget, "unsafe_innerHTML", "") or "")]
    for child in getattr(widget, "children", []) or []:
        parts.append(child if isinstance(child, str) else widget_text(child))
    return " ".join(parts)


def walk(widget, seen=None):
    """A widget and every widget it holds in a synced trait (children, slots, items)."""
    from ipywidgets import Widget

    seen = set() if seen is None else seen
    if id(widget) in seen:
        return
    seen.add(id(widget))
    yield widget
    stack = [getattr(widget, key, None) for key in getattr(widget, "keys", [])]
    while stack:
        value = stack.pop()
        if isinstance(value, Widget):
            yield from walk(value, seen)
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())


def by_class(rc, cls: str) -> list:
    """Widgets that carry the CSS class ``cls`` (among others)."""
    root = rc.find().widget

    def classes(widget) -> list[str]:
        attributes = getattr(widget, "attributes", None) or {}  # solara.HTML's classes
        return f"{getattr(widget, 'class_', '') or ''} {attributes.get('class', '')}".split()

    return [w for w in walk(root) if cls in classes(w)]


def text_of(rc, cls: str) -> str:
    return " ".join(widget_text(w) for w in by_class(rc, cls))


def plain(html_text: str) -> str:
    """Text as a reader sees it: tags (and the glossary's titles) removed."""
    return re.sub(r"<[^>]*>", "", html_text)


def click(rc, label: str) -> None:
    import ipyvuetify as v

    rc.find(v.Btn, children=[label]).widget.click()


def choose(rc, label: str, value: str) -> None:
    """Pick ``value`` in the select labelled ``label``."""
    import ipyvuetify as v

    rc.find(v.Select, label=label).widget.v_model = value


def state_buttons(rc) -> dict[str, object]:
    import ipyvuetify as v

    return {
        cls.removeprefix("as-state-"): w
        for w in by_class(rc, "as-state")
        if isinstance(w, v.Btn)
        for cls in w.class_.split()
        if cls.startswith("as-state-") and cls != "as-state-selected"
    }


def label_of(button) -> str:
    (label,) = [c.removeprefix("as-label-") for c in button.class_.split() if "as-label-" in c]
    return label


def test_page_reports_bad_input_and_keeps_running(page) -> None:
    """Without a browser: a lever reaches the model, a bad seed shows the ConfigError
    paragraph on the page (no trace), and once corrected the model runs again."""
    import ipyvuetify as v

    assert "Quarter 0 of 40: 2015 Q1" in text_of(page, "as-tick")
    assert "Why? Click a state" in text_of(page, "as-why")
    (lever,) = by_class(page, "as-lever-russia_budget")
    (budget,) = [w for w in walk(lever) if isinstance(w, v.Slider)]
    budget.v_model = 3.5
    assert "Russia's budget (US$ bn a year): 3.5" in text_of(page, "as-lever-russia_budget")
    (credibility,) = by_class(page, "as-lever-russia_credibility")
    (slider,) = [w for w in walk(credibility) if isinstance(w, v.Slider)]
    credibility_key = LEVERS["russia_credibility"].key
    assert slider.v_model == get_value(default_config(), credibility_key)

    seed = page.find(v.TextField, label="Seed (whole number)").widget
    seed.v_model = "twelve"
    assert "Press Reset to apply" in text_of(page, "as-pending")
    click(page, "Reset")
    message = text_of(page, "as-message")
    assert "seed = 'twelve': expected a whole number" in message
    assert "Traceback" not in message
    seed = page.find(v.TextField, label="Seed (whole number)").widget
    seed.v_model = "12"
    click(page, "Reset")
    assert not by_class(page, "as-message") and not by_class(page, "as-pending")
    budget_default = get_value(default_config(), LEVERS["russia_budget"].key)
    assert f"Russia's budget (US$ bn a year): {budget_default:g}" in text_of(
        page, "as-lever-russia_budget"
    ), "Reset goes back to the setup's lever values"
    click(page, "Step")
    assert "Quarter 1 of 40" in text_of(page, "as-tick")
    state_buttons(page)["kazakhstan"].click()
    why = text_of(page, "as-why")
    assert "Why Kazakhstan?" in why and "profile</abbr> " in why
    assert "<strong>Security: " in why and "<strong>Economy: " in why
    assert "switching (dynamics)" in plain(text_of(page, "as-why-security"))
    assert "remittances (economic)" in plain(text_of(page, "as-why-economy"))
    assert "remittances" not in text_of(page, "as-why-security"), "each table its own terms"
    assert "utility" not in plain(why), "students read scores"


def test_no_mesa_furniture_and_every_lever_explained(page) -> None:
    """The page is the app's own: no Mesa controls; every lever shows its help text."""
    everything = widget_text(page.find().widget)
    for furniture in ("PAGE 0", "Render Interval", "Use Threads", "Play Interval"):
        assert furniture not in everything
    for name, lever in LEVERS.items():
        assert lever.help[1:] in plain(text_of(page, f"as-lever-{name}")), name
    assert "Download the debrief (zip)" in everything, "solo export"
    assert by_class(page, "as-run-to"), "run to a year"


def test_state_buttons_follow_the_run(page) -> None:
    """After ten quarters every button shows its state's record label now (the same
    seed's run in Python), and the selected state is ringed, not drawn as a hedger."""
    reference = ClassroomModel()
    start = {c.name: c.label for c in reference.choosers}
    for _ in range(10):
        reference.step()
        click(page, "Step")
    now = {c.name: c.label for c in reference.choosers}
    assert now != start, "labels change in ten quarters (else this test proves nothing)"
    buttons = state_buttons(page)
    assert {name: label_of(b) for name, b in buttons.items()} == now
    for name, button in buttons.items():
        assert bool(button.outlined) == (now[name] == "hedge"), name
    kept = next(name for name, label in now.items() if label != "hedge")
    buttons[kept].click()
    selected = state_buttons(page)[kept]
    assert "as-state-selected" in selected.class_ and not selected.outlined


def test_a_picked_lesson_applies_at_once_and_stays_beside_other_worlds(page) -> None:
    from alignment_sim.classroom.app import BASELINE, lesson_title

    click(page, "Step")
    choose(page, "Lesson (applies at once)", lesson_title("balancing_vs_bandwagoning"))
    assert "Quarter 0 of 40" in text_of(page, "as-tick"), "a new run, at once"
    card = plain(text_of(page, "as-lesson"))
    assert "Balancing or bandwagoning?" in card and "Questions" in card
    assert "Weight of stance (the balance of power nearby): 4.0 (default 1.0)" in card
    assert "Stance: bandwagoning (-1) or balancing (+1): -1" in card
    assert "press Reset" not in card, "the app has opened the lesson already"
    assert "Stance: bandwagoning (-1) or balancing (+1): -1" in text_of(page, "as-lever-stance")
    choose(page, "World to run", BASELINE)
    card = plain(text_of(page, "as-lesson"))
    assert "Questions" in card and f"Running now: {BASELINE}" in card
    assert "Stance: bandwagoning (-1) or balancing (+1): 0" in text_of(page, "as-lever-stance")
    choose(page, "World to run", "balancing (stance +1)")
    assert "Stance: bandwagoning (-1) or balancing (+1): 1" in text_of(page, "as-lever-stance")


def test_a_lever_shows_its_value_in_force(page) -> None:
    from alignment_sim.classroom.app import lesson_title

    choose(page, "Lesson (applies at once)", lesson_title("leverage_of_the_weak"))
    setting = ClassroomModel(lesson="leverage_of_the_weak").levers()["china_lending"]
    assert "In force" not in text_of(page, "as-lever-china_lending")
    click(page, "Step")
    shown = plain(text_of(page, "as-lever-china_lending"))
    assert f"Chinese lending (US$ bn a year): {setting:g}" in shown
    assert f"In force last quarter: {setting + 4:g} (events included)" in shown


def test_the_end_of_a_run_is_said_in_words(page) -> None:
    import ipyvuetify as v

    ticks = page.find(v.TextField, label="Quarters to run").widget
    ticks.v_model = "2"
    click(page, "Reset")
    click(page, "Step")
    assert not by_class(page, "as-ended")
    click(page, "Step")
    assert "The run has reached 2015 Q3: press Reset to start again." in text_of(page, "as-ended")
    assert page.find(v.Btn, children=["Step"]).widget.disabled


def test_info_tab_and_presentation_mode(page) -> None:
    from alignment_sim.classroom.app import lesson_title, query

    choose(page, "Lesson (applies at once)", lesson_title("hedging"))
    info = plain(text_of(page, "as-info"))
    assert "Hedging and the multi-vector policy" in info and "Questions" in info
    assert "For the teacher" not in info, "the teacher's notes wait behind a button"
    click(page, "Show the teacher's notes")
    assert "For the teacher" in plain(text_of(page, "as-info"))
    click(page, "Show the numbers from 50 runs")
    assert "Record labels at the end" in plain(text_of(page, "as-numbers"))
    assert not by_class(page, "as-present")
    click(page, "Presentation mode")
    assert by_class(page, "as-present") and not by_class(page, "as-setup")
    assert query("present=1&lesson=hedging") == {"present": "1", "lesson": "hedging"}


def test_pause_lets_no_further_tick_in(page) -> None:
    """Play runs the model on its own; after Pause the tick stays where it is."""
    import time

    from alignment_sim.classroom.app import Player

    click(page, "Play")
    deadline = time.monotonic() + 60
    while "Quarter 0 " in text_of(page, "as-tick") and time.monotonic() < deadline:
        time.sleep(0.1)
    click(page, "Pause")
    paused = text_of(page, "as-tick")
    time.sleep(1.5)
    assert text_of(page, "as-tick") == paused and "Quarter 0 " not in paused
    model = ClassroomModel(ticks=3)
    player = Player()
    player.playing = True
    assert player.tick(model) and model.tick == 1
    player.pause(model)
    assert not player.tick(model) and model.tick == 1, "paused: no tick"
    player.playing, player.stop_at = True, 2
    assert player.tick(model) and not player.tick(model) and model.tick == 2, "run to tick 2"


def test_a_click_on_the_svg_map_opens_the_why_panel(page, monkeypatch) -> None:
    """With a map module (``mapview.map_svg``) the map is SVG in the page, and a click on a
    state's shape (the front end sets ``picked``) selects it."""
    import sys
    import types

    from alignment_sim.classroom.app import ClickableMap

    calls = []

    def map_svg(model, *, selected="", large=False):
        calls.append((model.tick, selected, large))
        return f'<svg width="100%"><circle data-state="armenia" r="{model.tick + 1}"/></svg>'

    monkeypatch.setitem(
        sys.modules, "alignment_sim.classroom.mapview", types.SimpleNamespace(map_svg=map_svg)
    )
    click(page, "Step")
    (svg,) = [w for w in walk(page.find().widget) if isinstance(w, ClickableMap)]
    assert 'data-state="armenia" r="2"' in svg.svg and calls[-1] == (1, "", False)
    svg.picked = "armenia"
    assert "Why Armenia?" in text_of(page, "as-why")
    assert calls[-1] == (1, "armenia", False)
    assert "as-state-selected" in state_buttons(page)["armenia"].class_


def test_play_as_a_class_starts_the_game_and_shows_its_address(page) -> None:
    """The button starts the class game on 127.0.0.1 and links the teacher's page, which
    answers; Stop ends it."""
    import urllib.request

    pytest.importorskip("alignment_sim.classroom.game.server")
    click(page, "Play as a class")
    shown = text_of(page, "as-game")
    (address,) = re.findall(r'href="(http://127\.0\.0\.1:\d+/[^"]*)"', shown)
    with urllib.request.urlopen(address, timeout=10) as response:
        assert response.status == 200
    click(page, "Stop the class game")
    assert "Play as a class" in text_of(page, "as-game")


def test_command_line_is_offline_and_checks_its_arguments() -> None:
    from alignment_sim.classroom.__main__ import OFFLINE_CDN, offline_environment, parse_args

    env = offline_environment(None)
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_ASSETS_PROXY"] == "true"
    assert env["SOLARA_ASSETS_CDN"] == OFFLINE_CDN and "127.0.0.1" in OFFLINE_CDN
    assert parse_args(["--port", "9001"]).port == 9001
    for bad in (["--port", "70000"], ["--lessons", "/no/such/folder"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_the_served_lessons_folder_is_the_commands_then_the_environments(
    tmp_path: Path, monkeypatch
) -> None:
    """``--lessons`` wins over ``$ALIGNMENT_SIM_LESSONS`` (the app reads the variable; an
    earlier one in the environment used to win over the command's flag), and a variable
    that names no folder is refused before the server starts."""
    from alignment_sim.classroom.__main__ import offline_environment, parse_args

    monkeypatch.setenv("ALIGNMENT_SIM_LESSONS", str(tmp_path))
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    assert offline_environment(chosen)["ALIGNMENT_SIM_LESSONS"] == str(chosen.resolve())
    assert "ALIGNMENT_SIM_LESSONS" not in offline_environment(None)  # the environment's stays
    monkeypatch.setenv("ALIGNMENT_SIM_LESSONS", str(tmp_path / "gone"))
    with pytest.raises(SystemExit):
        parse_args([])
    assert parse_args(["--lessons", str(chosen)]).lessons == chosen


def test_setup_applies_on_reset() -> None:
    config = build_config(Setup(scenario="russia_recession", decision="best_response", seed="5"))
    assert config.scenario.name == "russia_recession"
    assert (config.decision.rule, config.seed) == ("best_response", 5)


def test_saved_runs_find_a_run_by_its_id_and_drop_the_least_recently_used() -> None:
    pytest.importorskip("solara")
    from alignment_sim.classroom import app

    runs = app.SavedRuns(capacity=2)
    first, second, third = (ClassroomModel(ticks=3) for _ in range(3))
    a = runs.save(first, {"seed": "0"})
    b = runs.save(second, {"seed": "1"})
    assert a != b and re.fullmatch(r"[\w-]{8}", a)
    saved = runs.get(a)  # a is now the most recently used
    assert saved is not None and saved.model is first and saved.form == {"seed": "0"}
    c = runs.save(third, {})
    assert runs.get(b) is None, "the least recently used run is dropped"
    assert [runs.get(x).model for x in (a, c)] == [first, third]  # type: ignore[union-attr]
    assert runs.get(None) is None and runs.get("no-such-run") is None
    assert app.address("/", {"present": "1", "run": a}, c) == f"/?present=1&run={c}"


def test_a_reloaded_address_shows_the_same_run_and_its_setup() -> None:
    """A new page (a reload) with ``?run=ID`` in its address shows that run where it was,
    with the setup it was built from; a page without one saves its run and puts its id in
    the address."""
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    from solara.routing import Router, router_context

    from alignment_sim.classroom import app

    solara.settings.main.check_hooks = "off"
    pushed: list[str] = []

    @solara.component
    def At(path: str) -> None:  # noqa: N802
        router_context.provide(Router(path, [], set_path=pushed.append))
        app.Layout(children=[app.Page()])

    _, fresh = solara.render(At("/?from=mail"), handle_error=False)
    try:
        (address,) = pushed
        run_id = app.query(address.split("?", 1)[1])["run"]
        saved = app.RUNS.get(run_id)
        assert saved is not None and address == f"/?from=mail&run={run_id}"
        seed = fresh.find(v.TextField, label="Seed (whole number)").widget
        seed.v_model = "7"
        click(fresh, "Reset")
        click(fresh, "Step")
        click(fresh, "Step")
        latest = app.query(pushed[-1].split("?", 1)[1])["run"]
        assert latest != run_id and app.RUNS.get(latest).model.tick == 2  # type: ignore[union-attr]
    finally:
        fresh.close()
    _, reloaded = solara.render(At(f"/?run={latest}"), handle_error=False)
    try:
        assert "Quarter 2 of 40" in text_of(reloaded, "as-tick")
        seed = reloaded.find(v.TextField, label="Seed (whole number)").widget
        assert seed.v_model == "7" and not by_class(reloaded, "as-pending")
        assert len(pushed) == 2, "a restored run keeps its address"
    finally:
        reloaded.close()


def test_the_app_drops_each_lessons_how_to_open_it_sentence() -> None:
    """The READMEs' "In the app: run alignment-sim-viz, pick the lesson x (it applies at
    once)." was shown in the app that had just opened the lesson (the pattern had kept an
    older wording)."""
    from alignment_sim.classroom import app
    from alignment_sim.classroom.classroom import available_lessons

    folder = Path(__file__).resolve().parents[1] / "experiments" / "lessons"
    for name in available_lessons(folder):
        text = (folder / name / "README.md").read_text()
        assert "alignment-sim-viz" in text, name
        shown = app.in_the_app(text)
        assert "alignment-sim-viz" not in shown and "In the app" not in shown, name
        assert shown.startswith("The ") or shown.startswith("You "), (name, shown[:60])


def test_one_target_given_by_its_name_alone_is_that_state() -> None:
    """``drop_event("western_offer", "belarus")`` read the name as its letters ("b": not
    a state); one name is the one state."""
    alone, listed = ClassroomModel(seed=2), ClassroomModel(seed=2)
    assert alone.drop_event("western_offer", "belarus")
    assert listed.drop_event("western_offer", ["belarus"])
    assert alone.config.scenario.events[-1].targets == ["belarus"]
    alone.step()
    listed.step()
    np.testing.assert_array_equal(alone.trajectory.offers, listed.trajectory.offers)


def test_a_lever_moved_twice_before_a_quarter_is_played_is_one_move() -> None:
    """Two moves before a step were two rows at one tick, and the debrief showed a value
    that never held (8 -> 20, 20 -> 7.5); a numpy number was refused as "not a number"."""
    model = ClassroomModel(seed=1, ticks=4)
    start = model.levers()["russia_budget"]
    assert model.apply_levers({"russia_budget": np.float32(20.0)})
    assert model.apply_levers({"russia_budget": np.int64(7)})
    frame = model.levers_frame()
    assert frame[["tick", "lever", "value", "previous"]].values.tolist() == [
        [1, "russia_budget", 7.0, start]
    ]
    assert model.apply_levers({"russia_budget": start})  # back where it was: no move
    assert model.levers_frame().empty
    model.step()
    assert model.apply_levers({"russia_budget": 9.0})
    assert model.levers_frame()["tick"].tolist() == [2]
