"""The classroom page: a map, bloc shares, live levers, a why panel and the lesson, in the
app's own Solara components (no Mesa page furniture).

Run it with ``alignment-sim-viz`` (or ``solara run alignment_sim.classroom.app``). Every
browser tab is a session with its own ``ClassroomModel``; the page is drawn again from the
model after every tick, lever move or Reset (``version``), so nothing on it can go stale.
The page's address names its run (``?run=ID``, ``SavedRuns``): a reload, or the address
opened in another tab of the same browser, finds the run where it was.

- Controls: Reset, Step, Play/Pause with a labelled speed, and "Run to" a year. Pause
  takes the model's lock, so a tick being computed finishes and no further tick lands.
- A picked lesson applies at once (a new run); its settings and "In the app" text show in
  the lesson card, which stays when another world (a comparison, the baseline) runs.
- Levers show their setting, their value in force (events included) and their help text.
- The why panel speaks to students: every term is in the glossary (hover or tap).
- A teacher's view: presentation mode (button or ``?present=1``: big map and type, no
  controls column), an Info tab with the lesson's text (answers and teacher notes behind
  buttons), its 50-run numbers and figure; ``?lesson=NAME`` opens a lesson.
- The map is ``mapview.map_svg`` (SVG drawn in the browser; a click on a state selects it)
  when that module is present, else the matplotlib PNG. The debrief download
  (``debrief``) and the class game (``game``) are imported when used, and hidden or
  explained when missing.

Bad input never shows a stack trace: the ConfigError paragraph appears on the page.
"""

from __future__ import annotations

import base64
import importlib
import os
import re
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipyvue
import markdown
import solara
import solara.lab
import traitlets

from alignment_sim.classroom.classroom import (
    LEVERS,
    NO_LESSON,
    ClassroomModel,
    Lesson,
    available_lessons,
    get_value,
    lessons_dir,
    load_lesson,
)
from alignment_sim.classroom.drawing import label_colors, map_figure, shares_figure, why_figure
from alignment_sim.classroom.explain import (
    REALIST_RULES,
    TERM_WORDS,
    Choice,
    family_of,
    pole_words,
    term_name,
)
from alignment_sim.classroom.glossary import GLOSSARY_CSS, glossed_html
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import DECISION_RULES, EventSpec
from alignment_sim.model.world import quarter
from alignment_sim.presets import available, default_config

TITLE = "alignment-sim: the classroom"
BASELINE = "the baseline (no lesson settings)"
"""The world picker's entry for a run without the lesson's settings (the card stays)."""
PRESET_WORLD = "the lesson's setup"
SPEEDS = {
    "slow: 1 quarter a second": 1.0,
    "normal: 2 quarters a second": 0.5,
    "fast: as fast as it draws": 0.0,
}
DEFAULT_SPEED = "normal: 2 quarters a second"
HOST_ENV = "ALIGNMENT_SIM_HOST"
"""The address the app listens on (``alignment-sim-viz --host``); the class game uses it."""

CSS = (
    GLOSSARY_CSS
    + """
.as-page { padding: 8px 12px; font-size: 15px; }
.as-page .v-btn { text-transform: none; letter-spacing: normal; }
.as-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; }
.as-head h1 { font-size: 20px; margin: 0; font-weight: 600; }
.as-runbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
.as-runbar .v-input { flex: 0 0 auto; }
.as-grid { display: grid; grid-template-columns: 330px minmax(0, 1fr); gap: 12px; }
.as-main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px;
           align-items: start; }
.as-card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; background: #fff;
           min-width: 0; }
.as-fig img, .as-map img { width: 100%; height: auto; max-width: 100%; }
.as-map-svg svg { width: 100%; height: auto; }
.as-map-svg [data-state] { cursor: pointer; }
.as-text table { border-collapse: collapse; font-size: 13px; }
.as-text td, .as-text th { padding: 1px 6px; border-bottom: 1px solid #eee; }
.as-text h3 { margin: 4px 0; } .as-text h4 { margin: 10px 0 2px; }
.as-lever { margin-bottom: 6px; }
.as-help { font-size: 12px; color: #555; }
.as-force { font-size: 12px; color: #8e2c00; }
.as-state.as-state-selected { box-shadow: 0 0 0 3px #111; font-weight: 700; }
.as-state.as-label-russia { color: #fff !important; }
.as-state.as-label-china, .as-state.as-label-west { color: #111 !important; }
.as-state.as-label-hedge { color: #4d4d4d !important; border-color: #9b9b9b !important; }
@media (max-width: 1200px) { .as-main { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 760px) {
  .as-grid { grid-template-columns: minmax(0, 1fr); }
  .as-side { order: 2; }
  .as-page { padding: 4px; font-size: 14px; }
}
.as-present { font-size: 22px; }
.as-present .as-grid { grid-template-columns: minmax(0, 1fr); }
.as-present .as-map img, .as-present .as-map-svg svg { max-height: 78vh; width: auto; }
.as-present .as-text { font-size: 20px !important; }
.as-present .as-tick { font-size: 24px; font-weight: 600; }
.as-present .as-state { font-size: 16px !important; height: 34px !important; }
"""
)


# --- helpers without widgets ---------------------------------------------------------------


def prose(source: str, size: str = "14px", classes: list[str] | None = None) -> None:
    """Markdown rendered on the server (python-markdown, not solara.Markdown, whose front
    end fetches KaTeX from a CDN the classroom may not reach), with the glossary's terms
    marked for hover or tap."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=glossed_html(markdown.markdown(source, extensions=["tables"])),
        style={"font-size": size},
        classes=["as-text", *(classes or [])],
    )


LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?:)[^)]*\)")
LOCAL_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:)[^)]*\)")


def local_text(source: str) -> str:
    """A lesson's markdown without its local images and links (the app shows the figure
    and the numbers itself; a relative link would point at nothing on the server)."""
    return LOCAL_LINK.sub(r"\1", LOCAL_IMAGE.sub("", source))


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


START_HINT = re.compile(
    r"In the app: run `alignment-sim-viz`, pick the lesson `?[\w-]+`?[^.]*\.\s*"
)
"""The README's how-to-open sentence, which the app itself makes true (dropped there)."""


def in_the_app(text: str) -> str:
    """A lesson README's opening paragraph(s) before its first section ("In the app: ..."),
    without the sentence on how to open the lesson (the app has done it)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("## "):
            break
        if not line.startswith("# "):
            lines.append(line)
    return START_HINT.sub("", " ".join(lines).strip())


def readme(lesson: Lesson) -> str:
    path = lesson.folder / "README.md"
    return path.read_text() if path.is_file() else ""


FIELD_WORDS = {
    "leverage": "leverage (how much more it pays states that might leave it)",
    "coercion": "threats (coercion)",
    "spending": "spending rule",
    "budget_bn_usd": "budget (US$ bn a year)",
    "credibility": "credibility",
    "conditionality": "conditions on reform",
}


def setting_words(key: str, value: Any) -> str:
    """One of a lesson's ``set:`` overrides in words, with the model's default."""
    parts = key.split(".")
    if parts[0] == "weights" and len(parts) == 2 and parts[1] in TERM_WORDS:
        what = f"Weight of {term_name(parts[1])} ({TERM_WORDS[parts[1]]})"
    elif parts[:2] == ["region", "poles"] and len(parts) == 4:
        what = f"{pole_words(parts[2])}'s {FIELD_WORDS.get(parts[3], parts[3].replace('_', ' '))}"
    else:
        what = key
    try:
        default = f" (default {get_value(default_config(), key)})"
    except ConfigError:
        default = ""
    return f"{what}: **{value}**{default}"


def preset_settings(lesson: Lesson) -> list[str]:
    """Everything a lesson's preset changes, in words: scenario, rule, levers, ``set``."""
    lines = [f"Scenario: **{lesson.scenario}**; decision rule: **{lesson.decision}**"]
    for name, value in lesson.levers.items():
        lever = LEVERS.get(name)
        lines.append(f"{lever.label if lever else name}: **{value:g}**")
    lines += [setting_words(key, value) for key, value in lesson.set.items()]
    return lines


def _when(event: EventSpec) -> str:
    """When an event happens, as a teacher reads it: a tick, a date or a rate."""
    if event.at is not None:
        return f"tick {event.at}"
    if event.date is not None:
        return str(event.date)
    return f"hazard {event.hazard} per tick"


def why_table(choice: Choice) -> str:
    """Markdown table of one choice: each reason's value per option this quarter, and in
    brackets its change since the choice's earlier tick."""
    options = choice.options
    head = "| reason | " + " | ".join(f"**{o}**" if o == choice.option else o for o in options)
    lines = [head + " |", "|---|" + "---:|" * len(options)]
    for n, term in enumerate(choice.terms):
        now, delta = choice.now[n], choice.delta[n]
        if not (abs(now).max() > 1e-9 or abs(delta).max() > 1e-9):
            continue
        cells = [
            f"{now[k]:+.2f}" + (f" ({delta[k]:+.2f})" if abs(delta[k]) >= 0.005 else "")
            for k in range(len(options))
        ]
        family = family_of(term).replace("_", " ")
        lines.append(f"| {term_name(term)} ({family}) | " + " | ".join(cells) + " |")
    change = choice.utility - choice.utility_then
    totals = [
        f"**{choice.utility[k]:+.2f}**"
        + (f" ({change[k]:+.2f})" if abs(change[k]) >= 0.005 else "")
        for k in range(len(options))
    ]
    lines.append("| **score** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def end_tick_of_year(model: ClassroomModel, year: int) -> int:
    """The tick at which the run reaches 1 January of ``year`` (capped at the run's end)."""
    world = model.world
    for tick in range(model.config.ticks + 1):
        if world.year_of_tick(tick) >= year - 1e-9:
            return tick
    return model.config.ticks


def run_years(model: ClassroomModel) -> list[int]:
    """The whole years a run reaches after its start (the "Run to" picker)."""
    world = model.world
    first, last = world.year_of_tick(0), world.year_of_tick(model.config.ticks)
    return [y for y in range(int(first) + 1, int(last) + 1)]


def optional(module: str) -> Any:
    """A module another part of the classroom provides, or None while it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def query(search: str | None) -> dict[str, str]:
    """The page address's query (``?present=1&lesson=hedging``) as a dict."""
    return {k: v[-1] for k, v in urllib.parse.parse_qs(search or "").items()}


# --- the session ---------------------------------------------------------------------------


SAVED_RUNS = 64
"""Runs the server keeps for reloads (each a few MB); the least recently used go first."""


@dataclass(frozen=True)
class SavedRun:
    """A page's run and the setup form as it was when the run was built."""

    model: ClassroomModel
    form: dict[str, str]


class SavedRuns:
    """The server's runs by id, so that a page reloaded with ``?run=ID`` in its address
    shows the same run (a tab's own state dies with the tab). Ids are random (8 characters);
    beyond ``capacity`` the least recently used run is dropped, and its address then opens
    a new run."""

    def __init__(self, capacity: int = SAVED_RUNS) -> None:
        self.capacity = capacity
        self._runs: OrderedDict[str, SavedRun] = OrderedDict()
        self._lock = threading.Lock()

    def save(self, model: ClassroomModel, form: dict[str, str]) -> str:
        """Keep ``model`` and its form; returns the new run's id."""
        run_id = secrets.token_urlsafe(6)
        with self._lock:
            self._runs[run_id] = SavedRun(model, dict(form))
            while len(self._runs) > self.capacity:
                self._runs.popitem(last=False)
        return run_id

    def get(self, run_id: str | None) -> SavedRun | None:
        """The run saved as ``run_id`` (None if unknown or dropped)."""
        with self._lock:
            saved = self._runs.get(run_id or "")
            if saved is not None:
                self._runs.move_to_end(run_id or "")
            return saved


RUNS = SavedRuns()


def address(path: str, asked: dict[str, str], run_id: str) -> str:
    """The page's address with ``run`` set to ``run_id`` and its other query kept."""
    return f"{path}?{urllib.parse.urlencode({**asked, 'run': run_id})}"


class Player:
    """Play/Pause for one session's model: a flag read under the model's lock, so that
    Pause (which takes the lock) lets a tick being computed finish and no other start."""

    def __init__(self) -> None:
        self.playing = False
        self.stop_at: int | None = None

    def pause(self, model: ClassroomModel) -> None:
        with model.lock:
            self.playing = False
            self.stop_at = None

    def tick(self, model: ClassroomModel) -> bool:
        """Step once if still playing and not at the stop; False when the loop should end."""
        with model.lock:
            limit = model.config.ticks if self.stop_at is None else self.stop_at
            if not self.playing or model.setup_failed or model.tick >= limit:
                self.playing = False
                return False
            model.step()
            return True


def build_model(
    lesson: str, world: str, scenario: str, decision: str, seed: str, ticks: str
) -> ClassroomModel:
    """A new run: the lesson's preset, one of its comparison variants, or the baseline."""
    folder = lessons_dir()
    where = str(folder) if folder else None
    if lesson != NO_LESSON and world == BASELINE:
        return ClassroomModel(seed=seed, ticks=ticks, lessons_dir=where, as_message=True)
    return ClassroomModel(
        lesson=lesson,
        scenario=scenario,
        decision=decision,
        seed=seed,
        ticks=ticks,
        lessons_dir=where,
        variant="" if world in ("", PRESET_WORLD) else world,
        as_message=True,
    )


# --- components ----------------------------------------------------------------------------


class ClickableMap(ipyvue.VueTemplate):
    """An SVG map drawn in the browser; a click on a shape with ``data-state`` sets
    ``picked`` to that state (the page then opens its why panel)."""

    template = traitlets.Unicode(
        """
<template>
  <div class="as-map-svg" v-html="svg" @click="pick"></div>
</template>
<script>
module.exports = {
  methods: {
    pick(event) {
      const shape = event.target.closest('[data-state]');
      if (shape) { this.picked = shape.getAttribute('data-state'); }
    }
  }
}
</script>
"""
    ).tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    picked = traitlets.Unicode("").tag(sync=True)


@solara.component
def Picture(build: Callable[[], Any], dependencies: list[Any]) -> None:  # noqa: N802
    """A matplotlib figure as a PNG scaled to its card, rebuilt only when its
    dependencies change."""
    figure = solara.use_memo(build, dependencies)
    with solara.Div(classes=["as-fig"]):
        solara.FigureMatplotlib(figure, dependencies=dependencies, format="png")


@solara.component
def MapCard(  # noqa: N802
    model: ClassroomModel,
    version: int,
    selected: str,
    on_select: Callable[[str], None],
    large: bool,
) -> None:
    """The map (SVG in the browser, or the PNG until ``mapview`` exists) and a button per
    state under it."""
    mapview = optional("alignment_sim.classroom.mapview")
    with solara.Column(classes=["as-card", "as-map"], gap="6px"):
        if mapview is not None:
            svg = solara.use_memo(
                lambda: mapview.map_svg(model, selected=selected, large=large),
                [model, version, selected, large],
            )
            ClickableMap.element(svg=svg, picked=selected, on_picked=on_select)
        else:
            Picture(lambda: map_figure(model, selected), [model, version, selected])
        StatePicker(model, version, selected, on_select)


@solara.component
def StatePicker(  # noqa: N802
    model: ClassroomModel, version: int, selected: str, on_select: Callable[[str], None]
) -> None:
    """A button per state in its record label's colour, read from the model at every
    tick (outlined grey: hedging; a black ring and a tick mark: the state the why panel
    explains). The tooltip gives its profile (security/economy)."""
    colors = label_colors(model.world)
    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}, classes=["as-states"]):
        for chooser in sorted(model.choosers, key=lambda c: c.index):
            chosen = chooser.name == selected
            name = model.world.state_labels[chooser.index]
            with solara.Tooltip(f"{chooser.option}: {chooser.label}"):
                solara.Button(
                    ("✓ " if chosen else "") + name,
                    color=colors[chooser.label],
                    outlined=chooser.label == "hedge",
                    small=True,
                    on_click=lambda state=chooser.name: on_select(state),
                    classes=[
                        "as-state",
                        f"as-state-{chooser.name}",
                        f"as-label-{chooser.label}",
                        *(["as-state-selected"] if chosen else []),
                    ],
                )


@solara.component
def SharesCard(model: ClassroomModel, version: int) -> None:  # noqa: N802
    """Bloc shares over time, with the scenario's events and the lever moves marked."""
    with solara.Column(classes=["as-card", "as-shares"], gap="4px"):
        Picture(lambda: shares_figure(model), [model, version])


@solara.component
def WhyCard(model: ClassroomModel, version: int, state: str) -> None:  # noqa: N802
    """The why panel: the selected state's security choice and economic choice, each
    taken apart reason by reason, in words, a chart and a table."""
    from alignment_sim.classroom.explain import explain

    with solara.Column(classes=["as-card", "as-why"], gap="4px"):
        if state not in model.world.states:
            solara.Info("Why? Click a state (on the map or its button) to see its reasons.")
            return
        explanation = explain(model, state)
        label = model.world.state_labels[model.world.states.index(state)]
        if explanation is None:
            solara.Info(f"Why {label}? It has not decided yet: press Step.")
            return
        text = [f"### Why {label}?", explanation.headline()]
        if model.config.decision.rule in REALIST_RULES:
            text.append(
                f"The {model.config.decision.rule} rule weighs only the realist reasons in "
                "the security choice; the economic choice weighs all of its reasons."
            )
        for choice in explanation.choices:
            text.append("\n\n".join(choice.sentences()))
        prose("\n\n".join(text))
        Picture(lambda: why_figure(explanation, model.world), [model, version, state])
        for choice in explanation.choices:
            with solara.Column(classes=[f"as-why-{choice.dimension}"], gap="0px"):
                prose(
                    f"**{choice.dimension.title()}**: each reason this quarter, and in "
                    f"brackets its change since {choice.when()}:\n\n" + why_table(choice),
                    "13px",
                )


@solara.component
def LessonCard(model: ClassroomModel, lesson: Lesson | None, world: str) -> None:  # noqa: N802
    """The lesson: its "In the app" text, its settings in words, the text for students
    and the questions (kept while another world runs); or the scenario's description."""
    config = model.config
    with solara.Column(classes=["as-card", "as-lesson"], gap="4px"):
        if lesson is not None:
            body = readme(lesson)
            settings = "\n".join(f"- {line}" for line in preset_settings(lesson))
            running = (
                "the lesson's setup"
                if world in ("", PRESET_WORLD)
                else (world if world == BASELINE else f"the comparison '{world}'")
            )
            prose(
                f"### {lesson.title}\n\n{local_text(in_the_app(body))}\n\n"
                f"**The lesson's settings:**\n\n{settings}\n\n*Running now: {running}.*"
            )
            prose(
                local_text(lesson_sections(body, ("for students", "questions"))) or lesson.summary
            )
        else:
            prose(f"### Scenario: {config.scenario.name}\n\n{config.scenario.description}")
        events = ", ".join(f"{e.label or e.kind} ({_when(e)})" for e in config.scenario.events)
        prose(
            f"Setup in force: scenario **{config.scenario.name}**, rule "
            f"**{config.decision.rule}**, seed **{model.run_seed}**, {config.ticks} quarters. "
            f"Events: {events or 'none'}.",
            "13px",
        )


def lever_force_text(name: str, setting: float, force: float) -> str:
    """What the model uses, next to a lever's setting, in words."""
    if name == "russia_credibility":
        return (
            f"Now {force:.2f}: promises kept or broken move it, and it returns slowly "
            f"toward {setting:g}."
        )
    if name == "stance":
        return f"In force: {force:+g}, fixed by the decision rule (the lever does nothing)."
    return f"In force last quarter: {force:g} (events included)."


@solara.component
def LeversCard(model: ClassroomModel, version: int, on_change: Callable[[], None]) -> None:  # noqa: N802
    """Sliders that move parameters of the running model (from the next quarter on), each
    with its value in force and its help text."""
    values = model.levers()
    in_force = model.in_force()

    def mover(name: str) -> Callable[[float], None]:
        def move(value: float) -> None:
            now = model.levers()[name]
            if abs(value - LEVERS[name].snap(now)) < 1e-9:
                return  # the slider only rounded the model's value to its own steps
            model.apply_levers({name: value})
            on_change()

        return move

    with solara.Column(classes=["as-card", "as-levers"], gap="2px"):
        solara.HTML(tag="h3", unsafe_innerHTML="Levers (live)", style={"margin": "0"})
        solara.Text(
            "A change holds from the next quarter; Reset goes back to the setup.",
            classes=["as-help"],
        )
        for name, lever in LEVERS.items():
            if name not in values:
                continue
            with solara.Column(classes=["as-lever", f"as-lever-{name}"], gap="0px"):
                solara.Text(f"{lever.label}: {values[name]:g}", style={"font-size": "14px"})
                if name in in_force and f"{in_force[name]:.2f}" != f"{values[name]:.2f}":
                    solara.Text(
                        lever_force_text(name, values[name], in_force[name]),
                        classes=["as-force"],
                    )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=glossed_html(lever.help[0].upper() + lever.help[1:] + "."),
                    classes=["as-help"],
                )
                solara.SliderFloat(
                    "",
                    value=values[name],
                    min=lever.low,
                    max=lever.high,
                    step=lever.step,
                    on_value=mover(name),
                )


FIGURE_ALT = re.compile(r"!\[([^\]]+)\]\(figure\.png\)")
"""A lesson README's figure with its alt text: ``![what it shows](figure.png)``."""


def figure_alt(readme_text: str) -> str:
    """The alt text a lesson's README gives its figure, for the app's copy of it."""
    found = FIGURE_ALT.search(readme_text)
    return found.group(1) if found else "The lesson's figure: the numbers from 50 runs"


@solara.component
def InfoTab(lesson: Lesson | None) -> None:  # noqa: N802
    """The lesson inside the app: its text, the answers and the teacher's notes behind
    buttons, its 50-run numbers and figure."""
    answers = solara.use_reactive(False)
    notes = solara.use_reactive(False)
    numbers = solara.use_reactive(False)
    with solara.Column(classes=["as-card", "as-info"], gap="8px"):
        if lesson is None:
            prose(
                "### No lesson picked\n\nPick a lesson in the setup to read its text, its "
                "questions and the numbers from 50 runs here."
            )
            return
        body = readme(lesson)
        prose(
            f"### {lesson.title}\n\n{local_text(in_the_app(body))}\n\n"
            + local_text(lesson_sections(body, ("for students", "questions")))
        )
        for flag, heading, label in (
            (answers, "what the model shows", "what the model shows (the answers)"),
            (notes, "for the teacher", "the teacher's notes"),
        ):
            solara.Button(
                ("Hide " if flag.value else "Show ") + label,
                on_click=lambda flag=flag: flag.set(not flag.value),
                outlined=True,
                classes=["as-reveal"],
            )
            if flag.value:
                prose(local_text(lesson_sections(body, (heading,))))
        figure = lesson.folder / "figure.png"
        if figure.is_file():
            data = base64.b64encode(figure.read_bytes()).decode()
            solara.HTML(
                tag="img",
                attributes={"src": f"data:image/png;base64,{data}", "alt": figure_alt(body)},
                style="width: 100%",
            )
        table = lesson.folder / "numbers.md"
        if table.is_file():
            solara.Button(
                ("Hide" if numbers.value else "Show") + " the numbers from 50 runs",
                on_click=lambda: numbers.set(not numbers.value),
                outlined=True,
                classes=["as-reveal"],
            )
            if numbers.value:
                prose(local_text(table.read_text()), "13px", ["as-numbers"])


@solara.component
def ClassGame(lesson: str, seed: str) -> None:  # noqa: N802
    """'Play as a class': starts the class game on this machine and shows the teacher's
    address (``game.server.start_game_server``), when the game modules are present."""
    address = solara.use_reactive("")
    problem = solara.use_reactive("")
    stopper = solara.use_ref(None)

    def cleanup() -> Callable[[], None]:
        def stop() -> None:
            if stopper.current is not None:
                stopper.current()

        return stop

    solara.use_effect(cleanup, [])

    def start() -> None:
        server = optional("alignment_sim.classroom.game.server")
        session = optional("alignment_sim.classroom.game.session")
        if server is None or session is None:
            problem.set("The class game is not installed in this version of the app.")
            return
        try:
            game = session.GameSession(lesson=lesson, seed=int(seed), paused=True)
            url, stop = server.start_game_server(game, os.environ.get(HOST_ENV, "127.0.0.1"), 0)
        except (ConfigError, OSError, ValueError) as exc:
            problem.set(f"The class game did not start: {exc}")
            return
        stopper.current = stop
        address.set(url)
        problem.set("")

    def stop() -> None:
        if stopper.current is not None:
            stopper.current()
            stopper.current = None
        address.set("")

    with solara.Row(classes=["as-game"], style={"align-items": "center", "flex-wrap": "wrap"}):
        if address.value:
            solara.HTML(
                tag="span",
                unsafe_innerHTML=(
                    f'Class game running: <a href="{address.value}" target="_blank">'
                    f"{address.value}</a> (the teacher's page: the join address and QR code)"
                ),
            )
            solara.Button("Stop the class game", on_click=stop, outlined=True, small=True)
        else:
            solara.Button("Play as a class", on_click=start, outlined=True, small=True)
        if problem.value:
            solara.Text(problem.value, classes=["as-help"])


@solara.component
def DebriefDownload(model: ClassroomModel, version: int) -> None:  # noqa: N802
    """'Download the debrief (zip)' when the debrief module is present."""
    debrief = optional("alignment_sim.classroom.debrief")
    if debrief is None:
        return

    def data() -> bytes:
        built = debrief.Debrief.build(model, levers=model.levers_frame())
        return bytes(debrief.export_zip(built))

    solara.FileDownload(
        data,
        filename=f"debrief_tick{model.tick}.zip",
        label="Download the debrief (zip)",
        mime_type="application/zip",
    )


@dataclass(frozen=True)
class Setup:
    """What the setup card shows: the lessons, their titles, the lesson picked, its
    preset (None: no lesson or a broken one) and the world running."""

    lessons: list[str]
    titles: dict[str, str]
    lesson_name: str
    lesson: Lesson | None
    world: str


@dataclass(frozen=True)
class Form:
    """The setup fields applied on Reset (scenario and rule: without a lesson)."""

    scenario: solara.Reactive[str]
    decision: solara.Reactive[str]
    seed: solara.Reactive[str]
    ticks: solara.Reactive[str]


@solara.component
def SetupCard(  # noqa: N802
    setup: Setup,
    form: Form,
    pending: bool,
    pick_lesson: Callable[[str], None],
    pick_world: Callable[[str], None],
) -> None:
    """The lesson (applies at once), the world to run (the preset, a comparison or the
    baseline) or a scenario and rule, the seed and the length (applied on Reset)."""
    titles = setup.titles
    with solara.Column(classes=["as-card", "as-setup"], gap="0px"):
        solara.HTML(tag="h3", unsafe_innerHTML="Setup", style={"margin": "0"})
        solara.Select(
            "Lesson (applies at once)",
            value=titles.get(setup.lesson_name, setup.lesson_name),
            values=[titles[name] for name in setup.lessons],
            on_value=lambda title: pick_lesson(
                next(n for n in setup.lessons if titles[n] == title)
            ),
        ).key("lesson")
        if setup.lesson is not None:
            solara.Select(
                "World to run",
                value=setup.world,
                values=[PRESET_WORLD, *(v.label for v in setup.lesson.compare), BASELINE],
                on_value=pick_world,
            ).key("world")
        else:
            solara.Select("Scenario", value=form.scenario, values=available("scenario")).key(
                "scenario"
            )
            solara.Select("Decision rule", value=form.decision, values=list(DECISION_RULES)).key(
                "decision"
            )
        solara.InputText("Seed (whole number)", value=form.seed, continuous_update=True)
        solara.InputText("Quarters to run", value=form.ticks, continuous_update=True)
        if pending:
            solara.Text(
                "Press Reset to apply the new setup.",
                classes=["as-pending"],
                style={"color": "#8e2c00"},
            )


@solara.component
def Page() -> None:  # noqa: N802
    """One session: its own model, the controls, the pictures, the lesson and the levers."""
    router = solara.use_router()
    asked = query(router.search)
    folder = solara.use_memo(lessons_dir, [])
    lessons = solara.use_memo(lambda: [NO_LESSON, *available_lessons(folder)], [])
    titles = solara.use_memo(lambda: {name: lesson_title(name) for name in lessons}, [lessons])
    saved = solara.use_memo(lambda: RUNS.get(asked.get("run")), [])
    form_at_start = saved.form if saved is not None else {}
    lesson_name = solara.use_reactive(form_at_start.get("lesson", asked.get("lesson", NO_LESSON)))
    world = solara.use_reactive(form_at_start.get("world", PRESET_WORLD))
    scenario = solara.use_reactive(form_at_start.get("scenario", "baseline"))
    decision = solara.use_reactive(form_at_start.get("decision", "logit"))
    seed = solara.use_reactive(form_at_start.get("seed", "0"))
    ticks = solara.use_reactive(form_at_start.get("ticks", "40"))
    speed = solara.use_reactive(DEFAULT_SPEED)
    present = solara.use_reactive(asked.get("present", "") in ("1", "true", "yes"))
    selected = solara.use_reactive("")
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    player = solara.use_memo(Player, [])

    def form() -> dict[str, str]:
        return {
            "lesson": lesson_name.value,
            "world": world.value,
            "scenario": scenario.value,
            "decision": decision.value,
            "seed": seed.value,
            "ticks": ticks.value,
        }

    def first() -> tuple[ClassroomModel, str]:
        if saved is not None:
            return saved.model, str(asked["run"])
        name = lesson_name.value or NO_LESSON  # an unknown one: the model says so, in red
        model = build_model(name, PRESET_WORLD, "baseline", "logit", "0", "40")
        return model, RUNS.save(model, {**form(), "lesson": name})

    opening = solara.use_memo(first, [])
    model_state: solara.Reactive[ClassroomModel] = solara.use_reactive(opening[0])
    run_id = solara.use_reactive(opening[1])
    model = model_state.value

    def show_run_in_address() -> None:
        if router.set_path is not None and asked.get("run") != run_id.value:
            router.push(address(router.path, asked, run_id.value))  # a reload finds it

    solara.use_effect(show_run_in_address, [run_id.value])
    lesson = solara.use_memo(lambda: safe_lesson(lesson_name.value, folder), [lesson_name.value])
    years = run_years(model)
    target = solara.use_reactive(years[-1] if years else 0)

    def redraw() -> None:
        version.set(version.value + 1)

    def reset(name: str | None = None, chosen_world: str | None = None) -> None:
        player.pause(model)
        playing.set(False)
        lesson_now = lesson_name.value if name is None else name
        world_now = world.value if chosen_world is None else chosen_world
        built = build_model(
            lesson_now, world_now, scenario.value, decision.value, seed.value, ticks.value
        )
        model_state.set(built)
        run_id.set(RUNS.save(built, {**form(), "lesson": lesson_now, "world": world_now}))
        redraw()

    def pick_lesson(name: str) -> None:
        lesson_name.set(name)
        world.set(PRESET_WORLD)
        reset(name, PRESET_WORLD)

    def pick_world(name: str) -> None:
        world.set(name)
        reset(None, name)

    def step() -> None:
        with model.lock:
            if model.running and model.tick < model.config.ticks:
                model.step()
        redraw()

    def play(stop_at: int | None = None) -> None:
        with model.lock:
            player.playing = True
            player.stop_at = stop_at
        playing.set(True)

    def pause() -> None:
        player.pause(model)
        playing.set(False)
        redraw()

    def loop(cancel: threading.Event) -> None:
        if not playing.value:
            return
        while not cancel.is_set():
            if cancel.wait(SPEEDS.get(speed.value, 0.5)):
                return
            if not player.tick(model):
                playing.set(False)
                version.set(version.value + 1)
                return
            version.set(version.value + 1)

    solara.use_thread(loop, dependencies=[playing.value, model], intrusive_cancel=False)

    ended = model.tick >= model.config.ticks
    when = quarter(model.world.year_of_tick(model.tick))
    setup_pending = (seed.value, ticks.value) != (
        str(model.setup.seed),
        str(model.setup.ticks),
    ) or (
        lesson_name.value == NO_LESSON
        and (scenario.value, decision.value) != (model.setup.scenario, model.setup.decision)
    )

    solara.Style(CSS)
    solara.Title("alignment-sim classroom")
    with solara.Column(classes=["as-page", *(["as-present"] if present.value else [])], gap="8px"):
        with solara.Row(classes=["as-head"]):
            solara.HTML(tag="h1", unsafe_innerHTML=TITLE)
            solara.Text(
                f"Quarter {model.tick} of {model.config.ticks}: {when}", classes=["as-tick"]
            )
            solara.Button(
                "Leave presentation mode" if present.value else "Presentation mode",
                on_click=lambda: present.set(not present.value),
                outlined=True,
                small=True,
                classes=["as-present-toggle"],
            )
            if not present.value:
                DebriefDownload(model, version.value)
                ClassGame(lesson_name.value, str(model.setup.seed))
        with solara.Row(classes=["as-runbar"]):
            solara.Button("Reset", on_click=lambda: reset(), classes=["as-reset"])
            solara.Button(
                "Step",
                on_click=step,
                disabled=ended or playing.value or model.setup_failed,
                classes=["as-step"],
            )
            if playing.value:
                solara.Button("Pause", on_click=pause, color="primary", classes=["as-pause"])
            else:
                solara.Button(
                    "Play",
                    on_click=lambda: play(),
                    color="primary",
                    disabled=ended or model.setup_failed,
                    classes=["as-play"],
                )
            solara.Select("Speed", value=speed, values=list(SPEEDS), style={"max-width": "250px"})
            if years:
                solara.Select(
                    "Run to the start of",
                    value=target,
                    values=years,
                    style={"max-width": "150px"},
                )
                solara.Button(
                    f"Run to {target.value}",
                    on_click=lambda: play(end_tick_of_year(model, target.value)),
                    disabled=ended
                    or playing.value
                    or model.setup_failed
                    or end_tick_of_year(model, target.value) <= model.tick,
                    classes=["as-run-to"],
                )
        if model.message:
            solara.Error(model.message, classes=["as-message"])
        if ended:
            solara.Success(
                f"The run has reached {when}: press Reset to start again.",
                classes=["as-ended"],
            )
        with solara.lab.Tabs():
            with solara.lab.Tab("Run"), solara.Div(classes=["as-grid"]):
                if not present.value:
                    with solara.Column(classes=["as-side"], gap="12px"):
                        SetupCard(
                            Setup(lessons, titles, lesson_name.value, lesson, world.value),
                            Form(scenario, decision, seed, ticks),
                            setup_pending,
                            pick_lesson,
                            pick_world,
                        )
                        LeversCard(model, version.value, redraw)
                with solara.Div(classes=["as-main"]):
                    with solara.Column(gap="12px"):
                        MapCard(model, version.value, selected.value, selected.set, present.value)
                        SharesCard(model, version.value)
                    with solara.Column(gap="12px"):
                        WhyCard(model, version.value, selected.value)
                        LessonCard(model, lesson, world.value)
            with solara.lab.Tab("Info"):
                InfoTab(lesson)


def lesson_title(name: str) -> str:
    """A lesson's title for the picker ('none': a free run)."""
    if name == NO_LESSON:
        return "No lesson (free run)"
    try:
        lesson = load_lesson(name)
    except ConfigError:
        return name
    return f"{lesson.order}. {lesson.title}" if lesson.order < 99 else lesson.title


def safe_lesson(name: str, folder: Path | None) -> Lesson | None:
    """The lesson for its card, or None (no lesson, or a broken one: the model says why)."""
    if name in ("", NO_LESSON):
        return None
    try:
        return load_lesson(name, folder)
    except ConfigError:
        return None


@solara.component
def Layout(children: list[Any] = []) -> None:  # noqa: B006, N802
    """The page as it is, without Solara's app bar and side bar."""
    solara.Column(children=children, style={"padding": "0"})


__all__ = ["Layout", "Page"]
