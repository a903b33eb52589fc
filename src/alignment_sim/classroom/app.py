"""The classroom page: Mesa's SolaraViz with a map, shares, live levers and a why panel.

The map colours each state by its record label and rings a split profile (security and
economy with different poles); the why panel takes the selected state's security choice
and economic choice apart separately (``explain``).

Run it with ``alignment-sim-viz`` (or ``solara run alignment_sim.classroom.app``). SolaraViz
gives the controls (reset, play/pause, step) and the setup in the side bar (lesson,
scenario, decision rule, seed, ticks; applied on Reset); the "Levers" card under it moves
parameters of the running model from the next tick on. Every browser tab gets its own
model. Bad input never shows a stack trace: the ConfigError paragraph appears on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import markdown
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from alignment_sim.classroom.classroom import (
    LEVERS,
    NO_LESSON,
    ClassroomModel,
    available_lessons,
    lessons_dir,
)
from alignment_sim.classroom.drawing import label_colors, map_figure, shares_figure, why_figure
from alignment_sim.classroom.explain import REALIST_RULES, Choice, explain, family_of, quarter
from alignment_sim.model.params import DECISION_RULES, EventSpec
from alignment_sim.presets import available

TITLE = "alignment-sim: the classroom"
CARD_STYLE = {"max-height": "385px", "overflow-y": "auto", "width": "100%"}

selected_state = solara.reactive("")
"""The state whose decision the why panel explains (one per browser session)."""


def model_params() -> dict[str, Any]:
    """SolaraViz's side-bar inputs: the setup a Reset builds the model from."""
    folder = lessons_dir()
    return {
        "lesson": {
            "type": "Select",
            "value": NO_LESSON,
            "values": [NO_LESSON, *available_lessons(folder)],
            "label": "Lesson (sets scenario, rule and levers)",
        },
        "scenario": {
            "type": "Select",
            "value": "baseline",
            "values": available("scenario"),
            "label": "Scenario (without a lesson)",
        },
        "decision": {
            "type": "Select",
            "value": "logit",
            "values": list(DECISION_RULES),
            "label": "Decision rule (without a lesson)",
        },
        "seed": {"type": "InputText", "value": "0", "label": "Seed (whole number)"},
        "ticks": {"type": "InputText", "value": "40", "label": "Ticks (quarters)"},
        "lessons_dir": str(folder) if folder else None,
    }


def initial_values(params: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments the side bar starts with."""
    return {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}


def prose(source: str, size: str = "13px") -> None:
    """Markdown rendered on the server (python-markdown), not by solara.Markdown, whose
    front end fetches KaTeX from a CDN the classroom may not reach."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=markdown.markdown(source, extensions=["tables"]),
        style={"font-size": size},
        classes=["as-text"],
    )


@solara.component
def Picture(build: Any, dependencies: list[Any]) -> None:  # noqa: N802
    """A matplotlib figure as a PNG, rebuilt only when its dependencies change (a component
    of its own, so that a card may show it or not without breaking the rules of hooks)."""
    figure = solara.use_memo(build, dependencies)
    solara.FigureMatplotlib(figure, dependencies=dependencies, format="png")


@solara.component
def MapCard(model: ClassroomModel) -> None:  # noqa: N802
    """The map, and any message about bad input above it."""
    counter = update_counter.get()
    selected = selected_state.value
    with solara.Column(classes=["as-map"], style=CARD_STYLE):
        if model.message:
            solara.Error(model.message, classes=["as-message"])
        Picture(lambda: map_figure(model, selected), [model, counter, selected])


@solara.component
def SharesCard(model: ClassroomModel) -> None:  # noqa: N802
    """Bloc shares over time, with the scenario's events."""
    counter = update_counter.get()
    with solara.Column(classes=["as-shares"], style=CARD_STYLE):
        Picture(lambda: shares_figure(model), [model, counter])
        when = quarter(model.world.year_of_tick(model.tick))
        solara.Text(f"Tick {model.tick} of {model.config.ticks}: {when}", classes=["as-tick"])


def why_table(choice: Choice) -> str:
    """Markdown table of one choice: each term's value per option this tick, and in
    brackets its change since the choice's earlier tick."""
    options = choice.options
    head = "| term | " + " | ".join(f"**{o}**" if o == choice.option else o for o in options)
    lines = [head + " |", "|---|" + "---:|" * len(options)]
    for n, term in enumerate(choice.terms):
        now, delta = choice.now[n], choice.delta[n]
        if not (abs(now).max() > 1e-9 or abs(delta).max() > 1e-9):
            continue
        cells = [
            f"{now[k]:+.2f}" + (f" ({delta[k]:+.2f})" if abs(delta[k]) >= 0.005 else "")
            for k in range(len(options))
        ]
        lines.append(
            f"| {term} ({family_of(term).replace('_', ' ')}) | " + " | ".join(cells) + " |"
        )
    change = choice.utility - choice.utility_then
    totals = [
        f"**{choice.utility[k]:+.2f}**"
        + (f" ({change[k]:+.2f})" if abs(change[k]) >= 0.005 else "")
        for k in range(len(options))
    ]
    lines.append("| **utility** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


@solara.component
def StatePicker(model: ClassroomModel, selected: str) -> None:  # noqa: N802
    """A button per state in its record label's colour (outlined: hedging); a click
    selects it. The tooltip gives its profile (security/economy)."""
    colors = label_colors(model.world)
    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
        for chooser in sorted(model.choosers, key=lambda c: c.index):
            with solara.Tooltip(f"{chooser.option} (recorded as {chooser.label})"):
                solara.Button(
                    model.world.state_labels[chooser.index],
                    color=colors[chooser.label],
                    outlined=chooser.label == "hedge" or chooser.name == selected,
                    x_small=True,
                    on_click=lambda name=chooser.name: selected_state.set(name),
                    classes=["as-state", f"as-state-{chooser.name}"],
                )


@solara.component
def WhyCard(model: ClassroomModel) -> None:  # noqa: N802
    """The why panel: the selected state's security choice and economic choice, each
    taken apart term by term, in words, a chart and a table."""
    counter = update_counter.get()
    state = selected_state.value
    with solara.Column(classes=["as-why"], style=CARD_STYLE):
        StatePicker(model, state)
        if state not in model.world.states:
            solara.Info("Why? Click a state above to take its last decision apart.")
            return
        explanation = explain(model, state)
        label = model.world.state_labels[model.world.states.index(state)]
        if explanation is None:
            solara.Info(f"Why {label}? It has not decided yet: press Step.")
            return
        text = [f"### Why {label}?", explanation.headline()]
        if model.config.decision.rule in REALIST_RULES:
            text.append(
                f"The {model.config.decision.rule} rule weighs only the realist terms in the "
                "security choice; the economic choice weighs all of its terms."
            )
        for choice in explanation.choices:
            text.append("\n\n".join(choice.sentences()))
        prose("\n\n".join(text))
        Picture(lambda: why_figure(explanation, model.world), [model, counter, state])
        for choice in explanation.choices:
            with solara.Column(classes=[f"as-why-{choice.dimension}"], gap="0px"):
                prose(
                    f"**{choice.dimension.title()}**: each term this tick, and in brackets "
                    f"its change since {choice.when()}:\n\n" + why_table(choice),
                    "12px",
                )


def _when(event: EventSpec) -> str:
    """When an event happens, as a teacher reads it: a tick, a date or a rate."""
    if event.at is not None:
        return f"tick {event.at}"
    if event.date is not None:
        return str(event.date)
    return f"hazard {event.hazard} per tick"


def lesson_sections(text: str, headings: tuple[str, ...]) -> str:
    """The sections of a lesson's markdown with the given headings (level 2), in order,
    their headings demoted to level 4 to sit under the card's title."""
    parts, keep = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = line[3:].strip().lower() in headings
            line = "#### " + line[3:]
        if keep:
            parts.append(line)
    return "\n".join(parts)


@solara.component
def LessonCard(model: ClassroomModel) -> None:  # noqa: N802
    """The lesson's text for students and its questions, or the scenario's description."""
    update_counter.get()
    config = model.config
    with solara.Column(classes=["as-lesson"], style=CARD_STYLE):
        lesson = model.lesson
        if lesson is not None:
            readme = lesson.folder / "README.md"
            body = readme.read_text() if readme.is_file() else ""
            prose(
                f"### {lesson.title}\n\n"
                + (lesson_sections(body, ("for students", "questions")) or lesson.summary),
                "13px",
            )
        else:
            prose(
                f"### Scenario: {config.scenario.name}\n\n{config.scenario.description}",
                "13px",
            )
        events = ", ".join(f"{e.label or e.kind} ({_when(e)})" for e in config.scenario.events)
        prose(
            f"Setup: scenario **{config.scenario.name}**, rule **{config.decision.rule}**, "
            f"seed **{model.run_seed}**, {config.ticks} ticks. Events: {events or 'none'}.",
            "12px",
        )


@solara.component
def LeversCard(model: solara.Reactive[ClassroomModel]) -> None:  # noqa: N802
    """Sliders that move parameters of the running model (from the next tick on)."""
    update_counter.get()
    current = model.value
    values = current.levers()

    def mover(name: str) -> Callable[[float], None]:
        def move(value: float) -> None:
            now = current.levers()[name]
            if abs(value - LEVERS[name].snap(now)) < 1e-9:
                return  # the slider only rounded the model's value to its own steps
            current.apply_levers({name: value})
            force_update()

        return move

    with solara.Sidebar(), solara.Card("Levers (live)", classes=["as-levers"]):
        solara.Text(
            "Changes hold from the next tick; Reset goes back to the setup.",
            style={"font-size": "12px"},
        )
        for name, lever in LEVERS.items():
            if name not in values:
                continue
            with solara.Column(classes=["as-lever", f"as-lever-{name}"], gap="0px"):
                solara.Text(f"{lever.label}: {values[name]:g}", style={"font-size": "13px"})
                solara.SliderFloat(
                    "",
                    value=values[name],
                    min=lever.low,
                    max=lever.high,
                    step=lever.step,
                    on_value=mover(name),
                )


@solara.component
def LeversPanel(model: solara.Reactive[ClassroomModel]) -> None:  # noqa: N802
    """Renders the levers card one level deeper than SolaraViz's side bar, so that the
    side bar shows SolaraViz's cards (controls, setup) first."""
    LeversCard(model)


@solara.component
def Page() -> None:  # noqa: N802
    """One session: its own model, SolaraViz around it, and the levers."""
    params = solara.use_memo(model_params, [])
    first = solara.use_memo(lambda: ClassroomModel(**initial_values(params)), [])
    model: solara.Reactive[ClassroomModel] = solara.use_reactive(first)
    SolaraViz(
        model,
        components=[MapCard, SharesCard, WhyCard, LessonCard],
        model_params=params,
        name=TITLE,
        play_interval=250,
    )
    LeversPanel(model)


__all__ = ["Page"]
