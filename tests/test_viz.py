"""The classroom app without a browser: the model behind it, the why panel, the pictures,
and the page itself rendered in Solara's test harness (clicks and inputs as a user would)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from alignment_sim import AlignmentModel, ConfigError, default_config
from alignment_sim.classroom.classroom import (
    LEVERS,
    ClassroomModel,
    Setup,
    build_config,
    get_value,
    set_value,
)
from alignment_sim.classroom.explain import explain, last_switch, quarter
from alignment_sim.model.kernels import TERMS

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


def test_levers_in_the_constructor_reach_the_config() -> None:
    model = ClassroomModel(stance=1.0, russia_budget=2.5, rationality=3.0, seed="7", ticks="12")
    assert model.config.dynamics.stance == 1.0
    assert get_value(model.config, "region.poles.russia.budget_bn_usd") == 2.5
    assert model.config.decision.rationality == 3.0
    assert (model.config.seed, model.config.ticks, model.run_seed) == (7, 12, 7)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"seed": "abc"}, "seed = 'abc'"),
        ({"ticks": "-5"}, "ticks = -5"),
        ({"stance": 2.0}, "dynamics.stance = 2.0"),
        ({"russia_budget": -1.0}, "budget_bn_usd = -1.0"),
        ({"scenario": "no_such_scenario"}, "scenario = 'no_such_scenario'"),
        ({"decision": "coin_flip"}, "decision"),
        ({"lesson": "no_such_lesson"}, "lesson = 'no_such_lesson'"),
    ],
)
def test_bad_setup_becomes_a_message_not_an_exception(kwargs: dict, key: str) -> None:
    model = ClassroomModel(**kwargs)
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
        ("title: T\nlevers: {stance: 3}\n", "dynamics.stance = 3.0"),
        ("title: T\nlevers: {gravity: 1}\n", "a lever"),
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
    model = ClassroomModel(lesson="broken", lessons_dir=str(tmp_path))
    assert model.message is not None and expected in model.message
    assert model.setup_failed and model.lesson is None


def test_lesson_preset_sets_scenario_levers_and_keys(tmp_path: Path) -> None:
    write_lesson(
        tmp_path,
        "good",
        "title: Good\nscenario: baseline\ndecision: best_response\n"
        "levers: {stance: 0.5}\nset: {weights.stance: 4, region.states.belarus.autonomy: 0.9}\n",
    )
    model = ClassroomModel(lesson="good", scenario="no_such_scenario", lessons_dir=str(tmp_path))
    assert model.message is None, model.message
    assert model.lesson is not None and model.lesson.title == "Good"
    assert model.config.decision.rule == "best_response"
    assert model.config.dynamics.stance == 0.5
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
    )
    for key in bad:
        with pytest.raises(ConfigError, match="expected") as info:
            set_value(config, key, 1.0)
        assert info.value.key == key


def test_unchanged_levers_leave_the_run_bit_identical() -> None:
    config = default_config(ticks=12, seed=3)
    reference = AlignmentModel(config)
    reference.run()
    model = ClassroomModel(seed=3, ticks=12)
    for tick in range(12):
        if tick in (0, 5):
            assert model.apply_levers(model.levers())
        model.step()
    np.testing.assert_array_equal(model.trajectory.alignment, reference.trajectory.alignment)
    np.testing.assert_array_equal(model.trajectory.utility, reference.trajectory.utility)
    np.testing.assert_array_equal(model.trajectory.terms, reference.trajectory.terms)


def test_a_lever_at_tick_zero_equals_the_same_setup() -> None:
    moved = ClassroomModel(seed=1, ticks=10)
    assert moved.apply_levers({"stance": 1.0, "china_lending": 12.0})
    built = ClassroomModel(seed=1, ticks=10, stance=1.0, china_lending=12.0)
    moved.run()
    built.run()
    np.testing.assert_array_equal(moved.trajectory.utility, built.trajectory.utility)


def test_a_lever_mid_run_holds_from_the_next_tick() -> None:
    model = ClassroomModel(ticks=10)
    russia = model.world.poles.index("russia")
    for _ in range(3):
        model.step()
    assert model.apply_levers({"russia_budget": 0.0})
    for _ in range(3):
        model.step()
    offers = model.trajectory.offers[0, :6, russia].sum(axis=-1)
    assert np.all(offers[:3] > 1.0)
    assert np.all(offers[3:] == 0.0)
    inducements = model.trajectory.terms[0, 5, :, russia, TERMS.index("inducements")]
    assert np.all(inducements == 0.0)


def test_sliders_round_to_their_steps() -> None:
    assert LEVERS["russia_budget"].snap(8.2) == 8.0
    assert LEVERS["stance"].snap(-1.7) == -1.0
    assert abs(LEVERS["russia_credibility"].snap(0.561) - 0.56) < 1e-12


def test_a_bad_lever_value_changes_nothing() -> None:
    model = ClassroomModel()
    before = model.levers()
    assert not model.apply_levers({"west_conditionality": 1.5})
    assert model.message is not None and "conditionality = 1.5" in model.message
    assert model.levers() == before
    assert model.apply_levers({"west_conditionality": 0.5})
    assert model.message is None


# --- the why panel ----------------------------------------------------------------------


def test_last_switch() -> None:
    row = np.array([3, 3, 0, 0, 3, 3])
    assert last_switch(row, 1) is None
    assert last_switch(row, 3) == 2
    assert last_switch(row, 5) == 4
    assert quarter(2015.0) == "2015 Q1" and quarter(2016.75) == "2016 Q4"


def test_explanation_takes_the_last_decision_apart() -> None:
    model = ClassroomModel(ticks=12, rationality=2.0, seed=4)
    assert explain(model, "belarus") is None, "no decision before the first tick"
    for _ in range(12):
        model.step()
    switched = {s["state"] for s in model.trajectory.switches(0)}
    assert switched, "with noisy choices some state switches in 12 ticks"
    for chooser in model.choosers:
        why = explain(model, chooser.name)
        assert why is not None
        assert why.option == chooser.option
        np.testing.assert_allclose(why.now.sum(axis=0), why.utility, atol=2e-6)  # float32 terms
        np.testing.assert_allclose(why.now, np.stack([chooser.terms[t] for t in TERMS]))
        np.testing.assert_allclose(why.delta, why.now - why.then)
        assert (why.switched_from is not None) == (chooser.name in switched)
        if why.switched_from is not None:
            row = model.trajectory.alignment[0, :, chooser.index]
            assert row[why.then_tick] != row[why.then_tick - 1]
            assert set(row[why.then_tick :]) == {row[-1]}
        assert why.probabilities is not None and abs(why.probabilities.sum() - 1) < 1e-9
        pro, con = why.reasons()
        other = why.options.index(why.runner_up)
        gap = dict(zip(TERMS, why.now[:, why.chosen] - why.now[:, other], strict=True))
        assert all(v > 0 and abs(gap[t] - v) < 1e-12 for t, v in pro)
        assert all(v > 0 and abs(gap[t] + v) < 1e-12 for t, v in con)
        assert [v for _, v in pro] == sorted((v for _, v in pro), reverse=True)
    assert explain(model, "atlantis") is None


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
    assert "US$ 0.0bn/yr" in shown and "US$ 5.5bn/yr" in shown
    model.step()
    title = map_figure(model).axes[0].get_title()
    assert title.startswith("2015 Q2 (tick 1 of 40)")
    assert "Bloc shares, 2015 Q1 to 2015 Q2" in shares_figure(model).axes[0].get_title()


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
    solara.settings.main.check_hooks = "off"  # Mesa's SolaraViz trips Solara's hook linter

    from alignment_sim.classroom import app

    app.selected_state.set("")
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
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
    return [w for w in walk(root) if cls in (getattr(w, "class_", "") or "").split()]


def text_of(rc, cls: str) -> str:
    return " ".join(widget_text(w) for w in by_class(rc, cls))


def test_page_reports_bad_input_and_keeps_running(page) -> None:
    """Without a browser: a lever reaches the model, a bad seed shows the ConfigError
    paragraph on the page (no trace), and once corrected the model runs again."""
    import ipyvuetify as v

    def click(label: str) -> None:
        page.find(v.Btn, children=[label]).widget.click()

    assert "Tick 0 of 40" in text_of(page, "as-tick")
    assert "Why? Click a state" in text_of(page, "as-why")
    (lever,) = by_class(page, "as-lever-russia_budget")
    (budget,) = [w for w in walk(lever) if isinstance(w, v.Slider)]
    budget.v_model = 3.5
    assert "Russia's budget (US$ bn a year): 3.5" in text_of(page, "as-lever-russia_budget")
    (credibility,) = by_class(page, "as-lever-russia_credibility")
    (slider,) = [w for w in walk(credibility) if isinstance(w, v.Slider)]
    assert slider.v_model == 0.56

    seed = page.find(v.TextField, label="Seed (whole number)").widget
    seed.v_model = "twelve"
    seed.fire_event("keyup.enter", None)
    click("Reset")
    message = text_of(page, "as-message")
    assert "seed = 'twelve': expected a whole number" in message
    assert "Traceback" not in message
    seed.v_model = "12"
    seed.fire_event("keyup.enter", None)
    click("Reset")
    assert not by_class(page, "as-message")
    assert "Russia's budget (US$ bn a year): 8" in text_of(page, "as-lever-russia_budget")
    click("Step")
    assert "Tick 1 of 40" in text_of(page, "as-tick")


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


def test_setup_applies_on_reset() -> None:
    config = build_config(Setup(scenario="russia_recession", decision="best_response", seed="5"))
    assert config.scenario.name == "russia_recession"
    assert (config.decision.rule, config.seed) == ("best_response", 5)
