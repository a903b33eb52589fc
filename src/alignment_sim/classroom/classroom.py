"""The classroom model: flat named parameters, lesson presets and live levers.

``ClassroomModel`` takes flat named parameters (lesson, scenario, decision rule, seed,
ticks and the levers), as the app's side bar gives them, and builds the typed
``SimulationConfig`` itself. Bad input (an unknown lesson, a lever out of its range)
raises a ``ConfigError`` naming it, as everywhere in the library; the app builds its
models with ``as_message=True``, under which the error becomes ``model.message`` (shown in
the page) and the model falls back to the default world, stopped. Levers can also be
moved while a run goes on (``apply_levers``): the new values hold from the next tick on.

A lesson is a folder in ``experiments/lessons`` with a ``preset.yaml``: a scenario, a
decision rule, lever values and any other parameter by its path (``set``; see ``paths``).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from alignment_sim import paths
from alignment_sim.classroom.claims import Claim, Game, mapping_of, parse_claims, parse_game
from alignment_sim.errors import ConfigError
from alignment_sim.model.events import event_library
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.params import EventSpec, RegionSpec, SimulationConfig
from alignment_sim.model.world import World, build_world, load_attributes
from alignment_sim.outputs.files import as_typed
from alignment_sim.presets import (
    available,
    conf_dir,
    default_config,
    load_decision,
    load_region,
    load_scenario,
)

NO_LESSON = "none"
"""The lesson picker's value for a free run (scenario and rule from their pickers)."""

LESSONS_ENV = "ALIGNMENT_SIM_LESSONS"
"""Environment variable naming the lessons folder (the app's ``--lessons`` sets it)."""

PRESET_FILE = "preset.yaml"
PRESET_KEYS = ("title", "order", "summary", "scenario", "decision", "levers", "set", "compare")
COMPARE_KEYS = ("label", "scenario", "decision", "levers", "set")


@dataclass(frozen=True)
class Lever:
    """A parameter a teacher moves with a slider: its config key, range and meaning."""

    name: str
    label: str
    key: str
    low: float
    high: float
    step: float
    help: str

    def snap(self, value: float) -> float:
        """The value a slider with this lever's range and step shows for ``value``."""
        steps = round((min(max(value, self.low), self.high) - self.low) / self.step)
        return min(self.low + steps * self.step, self.high)


LEVERS: dict[str, Lever] = {
    lever.name: lever
    for lever in (
        Lever(
            "stance",
            "Stance: bandwagoning (-1) or balancing (+1)",
            "dynamics.stance",
            -1.0,
            1.0,
            0.1,
            "-1: join the strongest bloc; +1: join the bloc that offsets the biggest threat "
            "(the balancing and bandwagoning rules fix it at +1 and -1)",
        ),
        Lever(
            "russia_budget",
            "Russia's budget (US$ bn a year)",
            "region.poles.russia.budget_bn_usd",
            0.0,
            20.0,
            0.5,
            "loans, subsidies and cheap energy Russia offers the region",
        ),
        Lever(
            "china_lending",
            "Chinese lending (US$ bn a year)",
            "region.poles.china.budget_bn_usd",
            0.0,
            20.0,
            0.5,
            "China's loans and investment in the region",
        ),
        Lever(
            "west_conditionality",
            "Western conditionality",
            "region.poles.west.conditionality",
            0.0,
            1.0,
            0.01,
            "how strictly Western aid is tied to democratic reform (hurts autocrats)",
        ),
        Lever(
            "russia_credibility",
            "Russia's credibility",
            "region.poles.russia.credibility",
            0.0,
            1.0,
            0.01,
            "the share of Russia's promises states believe (recovers slowly)",
        ),
        Lever(
            "autonomy",
            "Value of staying out of blocs (autonomy weight)",
            "weights.autonomy",
            0.0,
            3.0,
            0.1,
            "how much a state values staying out of every bloc, in both choices",
        ),
        Lever(
            "switching_cost",
            "Cost of changing security bloc",
            "dynamics.switching_cost",
            0.0,
            3.0,
            0.1,
            "what a state gives up by leaving a security bloc (a crisis at home and abroad)",
        ),
        Lever(
            "economic_switching_cost",
            "Cost of changing economic partner",
            "dynamics.economic_switching_cost",
            0.0,
            3.0,
            0.1,
            "what a state gives up by leaving a union or a partner (tariffs, contracts)",
        ),
        Lever(
            "rationality",
            "Rationality (low = noisy choices)",
            "decision.rationality",
            0.0,
            20.0,
            0.5,
            "logit rule only: how sharply states pick their best option",
        ),
    )
}


# --- parameter paths into the typed configuration (one grammar: alignment_sim.paths) ------


def get_value(config: SimulationConfig, key: str) -> Any:
    """The value at a parameter path (``paths``), e.g. ``region.poles.russia.budget_bn_usd``."""
    return paths.get_value(config, key)


def set_value(config: SimulationConfig, key: str, value: Any) -> None:
    """Set a parameter path in place; ``config.validate()`` then checks the value."""
    paths.assign(config, key, value)


def lever_values(config: SimulationConfig) -> dict[str, float]:
    """Every lever's value in ``config`` (levers whose key is missing are left out)."""
    values = {}
    for name, lever in LEVERS.items():
        try:
            values[name] = float(get_value(config, lever.key))
        except ConfigError:
            continue
    return values


def set_levers(config: SimulationConfig, levers: Mapping[str, Any], where: str = "levers") -> None:
    """Set levers by name in place (ConfigError for an unknown lever, a non-number, or a
    value outside the lever's range: its slider could not show it)."""
    for name, value in levers.items():
        if name not in LEVERS:
            raise ConfigError(f"{where}.{name}", value, f"a lever ({', '.join(LEVERS)})")
        if isinstance(value, np.generic):  # a numpy number is its Python number
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}.{name}", value, "a number")
        lever = LEVERS[name]
        if not lever.low <= value <= lever.high:
            raise ConfigError(
                f"{where}.{name}", value, f"a value from {lever.low:g} to {lever.high:g}"
            )
        set_value(config, lever.key, value)


# --- lessons -----------------------------------------------------------------------------


@dataclass
class Variant:
    """One arm of a lesson's comparison (for its figures): changes on top of the preset."""

    label: str
    scenario: str | None = None
    decision: str | None = None
    levers: dict[str, float] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)


@dataclass
class Lesson:
    """A lesson preset: the scenario, rule and parameters the app loads by name; the
    claims its text makes (``claims``) and how a class plays it (``game``), both optional."""

    name: str
    folder: Path
    title: str
    order: int = 99
    summary: str = ""
    scenario: str = "baseline"
    decision: str = "logit"
    levers: dict[str, float] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    compare: list[Variant] = field(default_factory=list)
    claims: tuple[Claim, ...] = ()
    game: Game | None = None

    def scenario_source(self, scenario: str | None = None) -> str:
        """A scenario preset name, or the path of a YAML file in the lesson's folder."""
        name = scenario or self.scenario
        return str(self.folder / name) if name.endswith((".yaml", ".yml")) else name


def lessons_dir(explicit: str | Path | None = None) -> Path | None:
    """The lessons folder: the argument, else ``$ALIGNMENT_SIM_LESSONS``, else the first of
    ``./experiments/lessons`` and the repository's (next to ``src/``) that exists, else
    None. A folder the user named (the argument or the variable) that is not a folder is
    refused (ConfigError), not passed over for another folder's lessons."""
    if explicit:
        return named_folder("lessons folder", explicit)
    if os.environ.get(LESSONS_ENV):
        return named_folder(f"${LESSONS_ENV}", os.environ[LESSONS_ENV])
    for candidate in (
        Path.cwd() / "experiments" / "lessons",
        Path(__file__).resolve().parents[3] / "experiments" / "lessons",
    ):
        if candidate.is_dir():
            return candidate
    return None


def add_lessons_option(parser: argparse.ArgumentParser) -> None:
    """The ``--lessons FOLDER`` option of every classroom command (read it with
    ``lessons_option``)."""
    parser.add_argument(
        "--lessons",
        type=Path,
        default=None,
        metavar="FOLDER",
        help=f"the lessons folder (default: ${LESSONS_ENV}, else experiments/lessons)",
    )


def lessons_option(parser: argparse.ArgumentParser, value: str | Path | None) -> Path | None:
    """The lessons folder for a command's ``--lessons`` (``lessons_dir``): a ``--lessons``
    that is no folder, or a ``$ALIGNMENT_SIM_LESSONS`` that is none, ends the command with
    ``parser.error`` naming it, before anything runs."""
    if value is not None and not Path(value).is_dir():
        parser.error(f"--lessons {value}: expected an existing folder")
    try:
        return lessons_dir(value)
    except ConfigError as exc:
        parser.error(as_typed(exc, parser))


def named_folder(key: str, value: str | Path) -> Path:
    """``value`` as a Path if it is an existing folder, else a ConfigError naming ``key``."""
    if not Path(value).is_dir():
        raise ConfigError(key, str(value), "an existing folder")
    return Path(value)


def available_lessons(folder: str | Path | None = None) -> list[str]:
    """Lesson names (folders with a preset), in teaching order."""
    root = lessons_dir(folder)
    if root is None:
        return []
    names = [p.parent.name for p in sorted(root.glob(f"*/{PRESET_FILE}"))]

    def order(name: str) -> tuple[int, str]:
        try:
            return (load_lesson(name, root).order, name)
        except ConfigError:
            return (99, name)

    return sorted(names, key=order)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(key, value, "a non-empty text")
    return value


def load_lesson(name: str, folder: str | Path | None = None) -> Lesson:
    """Read and check a lesson's ``preset.yaml`` (ConfigError naming the key if broken)."""
    root = lessons_dir(folder)
    names = sorted(p.parent.name for p in root.glob(f"*/{PRESET_FILE}")) if root else []
    if root is None or name not in names:
        where = str(root) if root else "no lessons folder found"
        raise ConfigError("lesson", name, f"a lesson name ({', '.join(names) or where})")
    path = root / name / PRESET_FILE
    label = f"lesson {name} ({PRESET_FILE})"
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(label, str(path), "a readable YAML file", first) from None
    if not isinstance(raw, dict):
        raise ConfigError(label, raw, "a mapping with at least a title")
    keys = (*PRESET_KEYS, "claims", "game")
    for key in raw:
        if key not in keys:
            raise ConfigError(f"{label}: {key}", raw[key], f"one of the keys {', '.join(keys)}")
    variants = []
    compare = raw.get("compare") or []
    if not isinstance(compare, list):
        raise ConfigError(f"{label}: compare", compare, "a list of variants")
    for i, entry in enumerate(compare):
        key = f"{label}: compare[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(key, entry, "a mapping with a label")
        for k in entry:
            if k not in COMPARE_KEYS:
                raise ConfigError(f"{key}.{k}", entry[k], f"one of {', '.join(COMPARE_KEYS)}")
        variants.append(
            Variant(
                label=_text(f"{key}.label", entry.get("label")),
                scenario=entry.get("scenario"),
                decision=entry.get("decision"),
                levers=mapping_of(f"{key}.levers", entry.get("levers")),
                set=mapping_of(f"{key}.set", entry.get("set")),
            )
        )
    order = raw.get("order", 99)
    if isinstance(order, bool) or not isinstance(order, int):
        raise ConfigError(f"{label}: order", order, "a whole number")
    states = tuple(state.name for state in region_spec().states)
    kinds = tuple(event_library())
    labels = tuple(variant.label for variant in variants)
    return Lesson(
        name=name,
        folder=root / name,
        title=_text(f"{label}: title", raw.get("title")),
        order=order,
        summary=str(raw.get("summary") or ""),
        scenario=_text(f"{label}: scenario", raw.get("scenario", "baseline")),
        decision=_text(f"{label}: decision", raw.get("decision", "logit")),
        levers=mapping_of(f"{label}: levers", raw.get("levers")),
        set=mapping_of(f"{label}: set", raw.get("set")),
        compare=variants,
        claims=parse_claims(label, raw.get("claims"), labels, states),
        game=parse_game(label, raw.get("game"), states, kinds),
    )


# --- from a setup to a configuration ------------------------------------------------------


MAX_CLASS_TICKS = 400
"""The longest run the classroom builds: 100 years of quarters, from 2015 (a class's map,
charts and debrief are read quarter by quarter; longer runs are the batch engine's)."""


def class_ticks(value: Any) -> int:
    """A classroom run's length in ticks, 1 to ``MAX_CLASS_TICKS`` (ConfigError otherwise,
    before anything runs)."""
    ticks = whole_number("ticks", value)
    if not 1 <= ticks <= MAX_CLASS_TICKS:
        raise ConfigError(
            "ticks", ticks, f"a whole number 1-{MAX_CLASS_TICKS} (up to 100 years of quarters)"
        )
    return ticks


def whole_number(key: str, value: Any) -> int:
    """A whole number from an int or the text of a form field (ConfigError otherwise)."""
    if isinstance(value, bool):
        raise ConfigError(key, value, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ConfigError(key, value, "a whole number")


def load_scenario_checked(source: str) -> Any:
    """``load_scenario`` with unreadable YAML reported as a ConfigError too."""
    try:
        return load_scenario(source)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError("scenario", source, "a readable YAML file", first) from None


REGION = "post_soviet"
"""The region the classroom shows (the library's default world)."""


@cache
def _region_spec(path: str, mtime: float) -> RegionSpec:
    return load_region(path)


def region_spec() -> RegionSpec:
    """A fresh copy of the region preset, read again only when its file changes."""
    path = conf_dir() / "region" / f"{REGION}.yaml"
    return copy.deepcopy(_region_spec(str(path), path.stat().st_mtime))


@dataclass
class Setup:
    """What the side bar and a lesson say a run is: the input of ``build_config``."""

    lesson: str = NO_LESSON
    scenario: str = "baseline"
    decision: str = "logit"
    seed: int | str = 0
    ticks: int | str = 40
    levers: dict[str, float] = field(default_factory=dict)
    lessons_dir: str | None = None


def build_config(setup: Setup, variant: Variant | None = None) -> SimulationConfig:
    """The validated configuration of a setup: lesson preset, then pickers, then levers.

    A lesson's scenario and decision rule replace the pickers'; its levers and ``set``
    keys apply next; levers given in ``setup.levers`` (and a comparison ``variant``) last.
    """
    lesson = (
        None if setup.lesson in ("", NO_LESSON) else load_lesson(setup.lesson, setup.lessons_dir)
    )
    scenario, decision = setup.scenario, setup.decision
    if lesson is not None:
        scenario, decision = lesson.scenario, lesson.decision
    if variant is not None:
        scenario, decision = variant.scenario or scenario, variant.decision or decision
    source = lesson.scenario_source(scenario) if lesson is not None else scenario
    if not source.endswith((".yaml", ".yml")) and source not in available("scenario"):
        raise ConfigError(
            "scenario", source, f"a scenario preset ({', '.join(available('scenario'))})"
        )
    config = default_config(
        region=region_spec(),
        scenario=load_scenario_checked(source),
        decision=load_decision(decision),
        ticks=class_ticks(setup.ticks),
        seed=whole_number("seed", setup.seed),
    )
    if lesson is not None:
        set_levers(config, lesson.levers, f"lesson {lesson.name}: levers")
        for key, value in lesson.set.items():
            set_value(config, key, value)
    if variant is not None:
        set_levers(config, variant.levers, f"compare {variant.label!r}: levers")
        for key, value in variant.set.items():
            set_value(config, key, value)
    set_levers(config, setup.levers)
    config.validate()
    return config


@cache
def _attributes(path: str | None) -> pd.DataFrame:
    """The attributes table, read once per file."""
    return load_attributes(path)


_WORLDS: dict[str, World] = {}
WORLD_CACHE_SIZE = 32


def compile_world(config: SimulationConfig) -> World:
    """``build_world`` for the config's region, remembered by the region's full value.

    Building a world takes about half a second and a lever move or a Reset rebuilds it;
    worlds are immutable, so models of equal regions can share one.
    """
    key = repr(config.region)
    if key not in _WORLDS:
        if len(_WORLDS) >= WORLD_CACHE_SIZE:
            _WORLDS.pop(next(iter(_WORLDS)))
        _WORLDS[key] = build_world(config.region, _attributes(config.region.attributes_file))
    return _WORLDS[key]


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeverChange:
    """A lever moved during a run: at ``tick`` (it holds from ``tick + 1``), from ``before``
    to ``value`` (the lever's units, ``LEVERS[lever]``)."""

    tick: int
    lever: str
    value: float
    before: float


POLE_FIELDS = {"budget_bn_usd": "budget_bn"}
"""Pole levers whose value in force (events included) the world's pole table holds."""


class ClassroomModel(AlignmentModel):
    """The alignment model as the classroom app builds it: flat named parameters.

    Args:
        lesson: a lesson name from the lessons folder, or ``"none"``.
        scenario, decision: scenario preset and decision rule (a lesson replaces them).
        seed, ticks: whole numbers, or their text from a form field.
        stance ... rationality: lever values (``LEVERS``); ``None`` keeps the preset's.
        lessons_dir: the lessons folder (default: see ``lessons_dir``).
        variant: the label of one of the lesson's comparisons (``compare``) to run
            instead of its preset ("": the preset).

        as_message: False (a library's use): bad input raises a ConfigError naming it.
            True (the app's): it becomes ``message``, one paragraph (``None`` when all is
            well), and a setup that fails leaves the default world in place, stopped
            (``setup_failed``); a lever change or an event that fails changes nothing.

    ``lesson`` is the lesson preset in force, if any.
    """

    def __init__(
        self,
        lesson: str = NO_LESSON,
        scenario: str = "baseline",
        decision: str = "logit",
        seed: int | str = 0,
        ticks: int | str = 40,
        stance: float | None = None,
        russia_budget: float | None = None,
        china_lending: float | None = None,
        west_conditionality: float | None = None,
        russia_credibility: float | None = None,
        autonomy: float | None = None,
        switching_cost: float | None = None,
        economic_switching_cost: float | None = None,
        rationality: float | None = None,
        lessons_dir: str | None = None,
        variant: str = "",
        *,
        as_message: bool = False,
    ) -> None:
        given = {
            "stance": stance,
            "russia_budget": russia_budget,
            "china_lending": china_lending,
            "west_conditionality": west_conditionality,
            "russia_credibility": russia_credibility,
            "autonomy": autonomy,
            "switching_cost": switching_cost,
            "economic_switching_cost": economic_switching_cost,
            "rationality": rationality,
        }
        self.setup = Setup(
            lesson=lesson,
            scenario=scenario,
            decision=decision,
            seed=seed,
            ticks=ticks,
            levers={k: v for k, v in given.items() if v is not None},
            lessons_dir=lessons_dir,
        )
        self.as_message = as_message
        message = None
        self.lesson: Lesson | None = None
        try:
            if lesson not in ("", NO_LESSON):
                self.lesson = load_lesson(lesson, lessons_dir)
            config = build_config(self.setup, self._variant(variant))
        except ConfigError as exc:
            if not as_message:
                raise
            self.lesson = None
            message = (
                f"The setup was not applied: {exc} The page shows the default world instead; "
                "correct the setup and press Reset."
            )
            config = default_config()
        super().__init__(config, world=compile_world(config))
        self.message: str | None = message
        self.setup_failed = message is not None
        self.lock = threading.RLock()
        self.lever_changes: list[LeverChange] = []
        if self.setup_failed:
            self.running = False

    def _variant(self, label: str) -> Variant | None:
        """The lesson's comparison variant named ``label`` ("": the preset itself)."""
        if not label:
            return None
        variants = self.lesson.compare if self.lesson is not None else []
        for variant in variants:
            if variant.label == label:
                return variant
        labels = ", ".join(repr(v.label) for v in variants) or "none: pick a lesson first"
        raise ConfigError("variant", label, f"a comparison of the lesson ({labels})")

    def levers(self) -> dict[str, float]:
        """The lever values in force."""
        return lever_values(self.config)

    def in_force(self) -> dict[str, float]:
        """Levers whose value in force differs in kind from the setting: a pole's budget
        in the tick just played (events included: the Belt and Road adds to China's),
        Russia's credibility now (it moves toward the setting, slowly), and the stance the
        balancing or bandwagoning rule fixes (+1, -1: the lever does nothing there)."""
        values = {}
        if self.config.decision.rule in ("balancing", "bandwagoning"):
            values["stance"] = self.inputs.stance
        for name, lever in LEVERS.items():
            parts = lever.key.split(".")
            if parts[:2] != ["region", "poles"] or parts[2] not in self.world.poles:
                continue
            b = self.world.poles.index(parts[2])
            if parts[3] == "credibility":
                values[name] = float(self.pole_agents[b].credibility)
            elif parts[3] in POLE_FIELDS:
                table = getattr(self.params[1], POLE_FIELDS[parts[3]])
                values[name] = float(table.reshape(-1, self.world.n_poles)[0, b])
        return values

    def apply_levers(self, values: Mapping[str, Any]) -> bool:
        """Move levers mid-run: the new values hold from the next tick on.

        The configuration is rebuilt and checked first; on a ConfigError nothing changes:
        it is raised, or with ``as_message`` ``message`` says why and the result is False.
        The state of the run (alignments, credibility, memories, events, random numbers)
        carries over.
        """
        with self.lock:
            config = copy.deepcopy(self.config)
            try:
                set_levers(config, values)
            except ConfigError as exc:
                self._refused("The lever change was not applied", exc)
                return False
            inputs = self._rebuilt(config, "The lever change was not applied")
            if inputs is None:
                return False
            before = self.levers()
            moved = {
                name: LeverChange(self.tick, name, float(value), before[name])
                for name, value in values.items()
                if abs(float(value) - before[name]) > 1e-12
            }
            kept = []  # a move replaced before any tick played it never held: one move
            for change in self.lever_changes:
                replaced = moved.get(change.lever)
                if replaced is not None and change.tick == self.tick:
                    moved[change.lever] = dataclasses.replace(replaced, before=change.before)
                else:
                    kept.append(change)
            self.lever_changes = [
                *kept,
                *(c for c in moved.values() if abs(c.value - c.before) > 1e-12),
            ]
            self._adopt(config, inputs)
            return True

    def levers_frame(self) -> pd.DataFrame:
        """The levers moved so far, as the debrief takes them (``debrief.LEVERS_COLUMNS``):
        each with the first tick it holds in, its value and the value before."""
        return pd.DataFrame(
            [(c.tick + 1, c.lever, c.value, c.before) for c in self.lever_changes],
            columns=["tick", "lever", "value", "previous"],
        )

    def _rebuilt(self, config: SimulationConfig, failure: str) -> RunInputs | None:
        """The run's inputs for a changed ``config``, checked; a ConfigError raised, or with
        ``as_message`` None and ``message`` saying ``failure`` and why."""
        try:
            config.validate()
            return RunInputs.from_config(config, compile_world(config))
        except ConfigError as exc:
            self._refused(failure, exc)
            return None

    def _refused(self, failure: str, exc: ConfigError) -> None:
        """A change refused: ``exc`` raised, or with ``as_message`` said in ``message``
        (``failure`` and why)."""
        if not self.as_message:
            raise exc
        self.message = f"{failure}: {exc}"

    def _adopt(self, config: SimulationConfig, inputs: RunInputs) -> None:
        """Run on from the next tick with ``config`` and its ``inputs``."""
        self.config = config
        self.inputs = inputs
        self.world = inputs.world
        self.message = None

    def step(self) -> None:
        """One tick (nothing if the setup failed); levers wait until it is done."""
        if self.setup_failed:
            self.running = False
            return
        with self.lock:
            super().step()

    def drop_event(
        self,
        kind: str,
        targets: str | tuple[str, ...] | list[str] = (),
        duration: int | None = None,
        magnitude: float = 1.0,
    ) -> bool:
        """Drop an event of the library (``data/event_kinds.yaml``) into the run: it is in
        force from the next tick, for ``duration`` ticks (None: for good), on ``targets``
        (states; one state may be given by its name alone).

        The event joins the scenario and the inputs are rebuilt as in ``apply_levers``; the
        run's state carries over. The event program grows by one event at its end, so the
        run's arrays over events grow with it: its start tick, a column of hazard uniforms
        (never drawn on: its hazard is 0, and no random number of the run changes) and a
        column of the trajectory's record of active events. On a ConfigError (an unknown
        kind or target, a run that has ended) nothing changes; it is raised, or with
        ``as_message`` ``message`` says why and the result is False.
        """
        if isinstance(targets, str):  # one state, not its letters
            targets = (targets,)
        with self.lock:
            config = copy.deepcopy(self.config)
            label = f"{kind} ({', '.join(targets)})" if targets else kind
            event = EventSpec(
                kind=kind,
                at=self.tick + 1,
                duration=duration,
                targets=list(targets),
                magnitude=magnitude,
                label=label,
            )
            config.scenario.events.append(event)
            inputs = self._rebuilt(config, "The event was not dropped")
            if inputs is None:
                return False
            if inputs.program.n_events != self.inputs.program.n_events + 1:
                raise RuntimeError("an added event must add one event at the program's end")
            self.starts = np.concatenate(
                [self.starts, np.full((self.starts.shape[0], 1), self.tick + 1)], axis=1
            )
            hazards = self.streams.hazards
            self.streams.hazards = np.concatenate([hazards, np.ones((len(hazards), 1))], axis=1)
            record = self.trajectory
            record.active = np.concatenate(
                [record.active, np.zeros((*record.active.shape[:2], 1), dtype=bool)], axis=2
            )
            record.event_names = inputs.program.names
            self._adopt(config, inputs)
            return True
