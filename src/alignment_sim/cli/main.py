"""The ``alignment-sim`` command: Hydra composes the config, the library runs it.

Only this module knows Hydra. Before Hydra sees the command line, ``prepare_arguments``
turns a pole or state named in an override into the index Hydra needs and lets
``design.parameters=...`` replace a preset's parameters. The composed config is checked
for keys the schema does not know, converted once with ``OmegaConf.to_object`` (which
validates it), and run as a single Mesa run, a study job or a design, each into a folder
this process alone writes (a lock file). Every user mistake, file-system fault or
interrupt ends in one line and a non-zero exit status; so does a sweep with failed jobs.
Messages go to the terminal and to Hydra's job log (``main.log``).
"""

from __future__ import annotations

import dataclasses
import difflib
import fcntl
import logging
import os
import re
import shutil
import signal
import sys
import threading
import traceback
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    ConfigTypeError,
    OmegaConfBaseException,
    ValidationError,
)

import alignment_sim.conf  # noqa: F401  (registers the schema as base_config)
from alignment_sim.cli import callbacks
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import RECORD_LAST_YEAR, RegionSpec, SimulationConfig, item_path
from alignment_sim.paths import typed_value
from alignment_sim.presets import EXAMPLES, SCHEMA_WORDS

log = logging.getLogger("alignment_sim")

LOCK_FILE = ".alignment-sim.lock"
"""Held (flock) by the one process writing a job folder."""
HYDRA_FILES = (".hydra", "main.log", LOCK_FILE)
"""What Hydra and the lock leave in a job folder before any output."""
GIVEN_PARAMETERS = "design.given_parameters"
"""Where ``design.parameters=...`` from the command line travels through Hydra: Hydra
merges a dict into the preset's, so the CLI carries it under this key and replaces."""
GROUPS = ("region", "scenario", "decision", "experiment")


class FolderBusyError(Exception):
    """Another process holds the lock of a job folder."""


INTERRUPTED = threading.Event()
"""Set by the command's Ctrl+C handler: the process was interrupted, whatever exception
a library made of the KeyboardInterrupt (an interrupt inside OmegaConf's validation
surfaces as a validation error about a lost node)."""


def _on_interrupt(signum: int, frame: types.FrameType | None) -> None:
    INTERRUPTED.set()
    raise KeyboardInterrupt


@contextmanager
def _interrupt_wins() -> Iterator[None]:
    """An error raised after Ctrl+C is the interrupt's, not a bad input or a failed job:
    it leaves the block as KeyboardInterrupt (a sweep stops, it does not go on)."""
    try:
        yield
    except Exception:
        if INTERRUPTED.is_set():
            raise KeyboardInterrupt from None
        raise


# --- the command line, before Hydra ---------------------------------------------------


def prepare_arguments(arguments: list[str]) -> list[str]:
    """The command line as Hydra should see it.

    ``region.poles.russia.x=v`` becomes ``region.poles.0.x=v`` (names looked up in the
    region the command selects, with ``--config-dir`` honoured); an index beyond the list
    is refused by name; ``design.parameters={...}`` is carried under
    ``GIVEN_PARAMETERS`` so that it replaces, not extends, an experiment's parameters.
    """
    overrides = _overrides(arguments)
    _refuse_shadowed_presets(_config_dirs(arguments))
    regions_read: dict[str | None, RegionSpec] = {}  # None: the one the command selects
    out = list(arguments)
    for position, argument in enumerate(arguments):
        if position not in overrides:
            continue
        prefix, key, value = _split(argument)
        parts = key.split(".")
        if key in GROUPS and value is not None:
            _refuse_no_choice(argument, key)
        if key == "design.parameters" and prefix == "" and value is not None:
            argument = f"+{GIVEN_PARAMETERS}={value}"
        elif len(parts) >= 3 and parts[0] == "region" and parts[1] in ("poles", "states"):
            if prefix == "~" and len(parts) == 3:
                raise ConfigError(
                    key,
                    f"~{key}",
                    "a setting to change, not a whole pole or state to delete",
                    "A region without it is a region file of your own: a copy of "
                    "src/alignment_sim/conf/region/post_soviet.yaml in a --config-dir's "
                    f"region folder without {parts[2]}, selected by region=ITS_NAME.",
                )
            argument = _region_item(argument, parts, arguments, overrides, regions_read)
        out[position] = argument
    return out


FLAGS_WITH_VALUES = (
    "--config-dir",
    "-cd",
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--cfg",
    "-c",
    "--package",
    "-p",
)


def _overrides(arguments: list[str]) -> list[int]:
    """Positions of the overrides among Hydra's arguments (not flags or their values)."""
    found, skip = [], False
    for position, argument in enumerate(arguments):
        if skip:
            skip = False
        elif argument in FLAGS_WITH_VALUES:
            skip = True
        elif not argument.startswith("-"):
            found.append(position)
    return found


def _config_dirs(arguments: list[str]) -> list[str]:
    dirs = []
    for i, argument in enumerate(arguments):
        if argument in ("--config-dir", "-cd") and i + 1 < len(arguments):
            dirs.append(arguments[i + 1])
        elif argument.startswith("--config-dir="):
            dirs.append(argument.partition("=")[2])
    return dirs


def _split(override: str) -> tuple[str, str, str | None]:
    """(prefix, key, value) of an override such as ``+weights.trade=2``."""
    prefix = "++" if override.startswith("++") else override[:1] if override[:1] in "+~" else ""
    key, equals, value = override[len(prefix) :].partition("=")
    return prefix, key, value if equals else None


def _refuse_shadowed_presets(config_dirs: list[str]) -> None:
    """Refuse a file of a ``--config-dir`` named as a packaged preset of its group: Hydra
    would read the packaged one and the user's edits would be silently ignored."""
    from alignment_sim.presets import conf_dir

    for folder in config_dirs:
        for group in GROUPS:
            for mine in sorted((Path(folder) / group).glob("*.yaml")):
                if (conf_dir() / group / mine.name).is_file():
                    raise ConfigError(
                        "--config-dir",
                        str(mine),
                        f"a {group} file named unlike the package's own {group} "
                        f"{mine.stem!r}, which Hydra would read instead of yours",
                        f"Rename it (e.g. {group}/my_{mine.name}) and select it with "
                        f"{group}=my_{mine.stem}.",
                    )


def _refuse_no_choice(argument: str, group: str) -> None:
    """Refuse ``group=null`` (alone or among a sweep's choices), which Hydra cannot compose
    from a command line (it ends in a traceback): a group takes a preset's name. An
    override Hydra's grammar refuses is left to Hydra's own message."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep
    from hydra.errors import HydraException

    from alignment_sim.presets import available

    try:
        value = OverridesParser.create().parse_override(argument).value()
    except HydraException:
        return
    choices = value.list if isinstance(value, ChoiceSweep) else [value]
    if None in choices:
        no_experiment = "To run without one, leave experiment out (its default is none)."
        raise ConfigError(
            group,
            argument.partition("=")[2],
            f"one of the {group} presets ({', '.join(available(group))}) or a file in a "
            f"--config-dir's {group} folder",
            no_experiment if group == "experiment" else "",
        )


def _region_item(
    argument: str,
    parts: list[str],
    arguments: list[str],
    overrides: list[int],
    regions_read: dict[str | None, RegionSpec],
) -> str:
    """``region.states.NAME.x=v`` with the state's position in the region the command
    selects (``to_hydra_override``), or a position checked against it; in a sweep over
    regions, a position checked against each region's own list, and a name refused (the
    regions may list their states in other orders). ``regions_read`` keeps the regions
    composed (None: the one the command selects)."""
    from alignment_sim.paths import item_index, to_hydra_override

    key = ".".join(parts)
    named = not parts[2].isdecimal()
    regions = _region_sweep(arguments, overrides)
    if regions is not None and named:
        _refuse_name_across_regions(key, regions)
    for name in _swept_regions(regions) if regions is not None else [None]:
        if name not in regions_read:
            regions_read[name] = _selected_region(arguments, overrides, name)
        region = regions_read[name]
        if named:
            return to_hydra_override(argument, region)
        listed = region.pole_names if parts[1] == "poles" else region.state_names
        try:
            item_index(key, int(parts[2]), listed, parts[1])
        except ConfigError as exc:
            if name is None:
                raise
            hint = (
                f"{exc.hint} The sweep's region {name} lists {len(listed)}; a sweep over "
                "regions takes positions."
            )
            raise ConfigError(exc.key, exc.value, exc.expected, hint) from None
    return argument


def _region_sweep(arguments: list[str], overrides: list[int]) -> str | None:
    """The choices of a sweep over regions (``region=a,b``), if the command has one."""
    for position in overrides:
        _, group, value = _split(arguments[position])
        if group == "region" and value is not None and ("," in value or "(" in value):
            return value
    return None


def _refuse_name_across_regions(key: str, regions: str) -> None:
    """A pole or state named in a sweep over regions: the name is turned into a position
    before Hydra sweeps, and another region's list may hold another state there."""
    raise ConfigError(
        "region",
        regions,
        f"one region when {key} names a pole or state: the sweep's regions may list "
        "them in other orders",
        "Sweep each region on its own, or give the position (region.states.N...) "
        "in a sweep over regions that list them alike.",
    )


def _swept_regions(regions: str) -> list[str]:
    """The region presets a sweep's ``region=a,b`` names (none for a sweep Hydra's grammar
    expands otherwise, as ``glob(*)``: Hydra then checks each job's positions)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep

    value = OverridesParser.create().parse_override(f"region={regions}").value()
    return [str(v) for v in value.list] if isinstance(value, ChoiceSweep) else []


def _selected_region(
    arguments: list[str], overrides: list[int], name: str | None = None
) -> RegionSpec:
    """The region the command line selects (its group choices composed as Hydra will),
    or its region preset ``name`` (one of a sweep's)."""
    from hydra import compose, initialize_config_module

    choices = [
        arguments[i]
        for i in overrides
        if _split(arguments[i])[1] in GROUPS and "," not in arguments[i]
    ]
    if name is not None:
        choices.append(f"region={name}")
    search = [f"file://{Path(d).resolve()}" for d in _config_dirs(arguments)]
    if search:
        choices.append(f"hydra.searchpath=[{','.join(search)}]")
    with initialize_config_module(config_module="alignment_sim.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=choices)
    region = OmegaConf.to_object(cfg.region)
    assert isinstance(region, RegionSpec)
    return region


# --- the composed config --------------------------------------------------------------


def to_config(cfg: DictConfig) -> SimulationConfig:
    """Convert a composed Hydra config to the validated dataclass tree.

    Refuses a key the schema does not know anywhere in the tree (``+weights.tradee=1``
    would otherwise be dropped), and lets ``GIVEN_PARAMETERS`` replace the design's. A
    config Hydra composed on the schema (its root a ``SimulationConfig`` node) becomes the
    dataclasses directly, about 20 times faster than merging it onto the schema again
    (0.004 s against 0.076 s: every job of a sweep pays it twice).
    """
    plain: dict[str, Any] = {}
    try:
        for key in cfg:
            if key != "hydra":
                value = cfg[key]
                is_node = OmegaConf.is_config(value)
                plain[str(key)] = OmegaConf.to_container(value, resolve=True) if is_node else value
        design = plain.get("design")
        name = GIVEN_PARAMETERS.partition(".")[2]
        carried = False
        if isinstance(design, dict) and name in design:
            design["parameters"] = _ranges_as_floats(design.pop(name))
            carried = True
        _check_known_keys(plain, SimulationConfig, "")
        if OmegaConf.get_type(cfg) is SimulationConfig and not carried and "hydra" not in cfg:
            obj = OmegaConf.to_object(cfg)
        else:
            schema = OmegaConf.structured(SimulationConfig)
            obj = OmegaConf.to_object(OmegaConf.merge(schema, plain))
    except OmegaConfBaseException as exc:
        raise ConfigError(
            str(exc.full_key),
            getattr(exc, "value", None),
            "a value of the schema's type",
            str(exc).splitlines()[0],
        ) from None
    assert isinstance(obj, SimulationConfig)
    return obj


def _ranges_as_floats(parameters: Any) -> Any:
    """``{path: [1, 3]}`` as ``{path: [1.0, 3.0]}`` (the schema's ranges are floats)."""
    if not isinstance(parameters, dict):
        return parameters
    return {
        path: [float(b) if isinstance(b, int) and not isinstance(b, bool) else b for b in bounds]
        if isinstance(bounds, list)
        else bounds
        for path, bounds in parameters.items()
    }


def _check_known_keys(node: Any, schema: Any, path: str) -> None:
    """Raise ConfigError for the first key of ``node`` that ``schema`` has no field for."""
    schema = _unwrap(schema)
    if dataclasses.is_dataclass(schema) and isinstance(node, dict):
        hints = typing.get_type_hints(schema)
        for key, value in node.items():
            where = f"{path}{key}"
            if key not in hints:
                section = path.rstrip(".") or "the configuration"
                raise ConfigError(
                    where,
                    value,
                    f"a key of {section} ({', '.join(hints)})",
                    "Check its spelling; '+' cannot add a key the schema does not have.",
                )
            _check_known_keys(value, hints[key], f"{where}.")
        return
    origin, args = typing.get_origin(schema), typing.get_args(schema)
    if origin is list and args and isinstance(node, list):
        for i, item in enumerate(node):
            _check_known_keys(item, args[0], f"{path.rstrip('.')}.{i}.")
    elif origin is dict and len(args) == 2 and isinstance(node, dict):
        for key, item in node.items():
            _check_known_keys(item, args[1], f"{path}{key}.")


def _unwrap(schema: Any) -> Any:
    """``X`` from ``X | None``."""
    args = [a for a in typing.get_args(schema) if a is not type(None)]
    if typing.get_origin(schema) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return schema


def shown_overrides(overrides: list[str], cfg: DictConfig | None = None) -> list[str]:
    """The overrides as the user wrote them: ``design.parameters=``, not its carrier; a
    pole or state by its name in the job's region (``cfg``, if composed), not the position
    Hydra was given (``to_named_override``), so a sweep's manifests and columns name it."""
    from alignment_sim.paths import to_named_override

    carrier = f"+{GIVEN_PARAMETERS}="
    names = {what: _item_names(cfg, what) for what in ("poles", "states")} if cfg else {}
    return [
        f"design.parameters={o[len(carrier) :]}"
        if o.startswith(carrier)
        else to_named_override(o, names)
        for o in overrides
    ]


def _item_names(cfg: DictConfig, what: str) -> list[str]:
    """The names of the job's region's poles or states (what it holds of them)."""
    items = OmegaConf.select(cfg, f"region.{what}", default=None)
    if not OmegaConf.is_list(items):
        return []
    return [str(OmegaConf.select(item, "name", default="")) for item in items]


# --- a job ----------------------------------------------------------------------------


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock file while writing into it; FolderBusyError if another process
    holds it. The lock dies with its process, so a killed run never blocks the next."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    while True:
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            message = f"another process (pid {holder}) is writing into {folder}"
            raise FolderBusyError(message) from None
        try:  # the file may have been removed by its last holder meanwhile: retry then
            if os.fstat(handle.fileno()).st_ino == path.stat().st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def run_one(cfg: DictConfig) -> None:
    """One Hydra job: a single Mesa run, a study job (``replications`` runs through the
    engine) or a design. In a sweep a failed job leaves ``error.json`` and the sweep goes
    on; alone it exits with a message: 2 for bad input, 1 for anything else."""
    for noisy in ("MESA", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # a design's analysis warnings reach main.log too
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    overrides = shown_overrides(list(hydra_cfg.overrides.task), cfg)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        with folder_lock(folder), _interrupt_wins():
            _run_job(cfg, folder, overrides, sweeping)
    except FolderBusyError as exc:  # the folder is the other process's: left as it is
        _job_failed(f"alignment-sim: {exc}; not started.", 1, folder, sweeping, discard=False)
    except ConfigError as exc:
        if sweeping:
            _record(folder, exc, overrides)
        _job_failed(f"alignment-sim: invalid configuration. {exc}", 2, folder, sweeping)
    except OSError as exc:
        from alignment_sim.outputs.files import os_error_text

        if sweeping:
            _record(folder, exc, overrides, traceback.format_exc())
        what = os_error_text(exc) if exc.filename is not None else f"{folder}: {os_error_text(exc)}"
        _job_failed(f"alignment-sim: cannot write {what}.", 1, folder, sweeping)
    except Exception as exc:
        if not sweeping:
            raise
        _record(folder, exc, overrides, traceback.format_exc())
        log.error(f"alignment-sim: job failed ({type(exc).__name__}: {exc}); the sweep goes on.")


def _run_job(cfg: DictConfig, folder: Path, overrides: list[str], sweeping: bool) -> None:
    config = check_job(cfg, overrides)
    _refuse_a_folder_of_jobs(folder)
    if config.task == "fit":
        run_fit_job(config, folder, overrides)
    elif config.task in ("forecast", "validate"):
        run_estimation_job(config, folder, overrides)
    elif config.design.method != "none":
        run_design_job(config, folder, overrides)
    elif config.replications > 1:
        run_study_job(config, folder, overrides)
    else:
        run_single(config, folder, overrides, skip_if_done=sweeping)


def check_job(cfg: DictConfig, overrides: list[str]) -> SimulationConfig:
    """A job's configuration, checked as far as it can be before the job runs (a
    ConfigError): the schema and every value (``to_config``), the fitted set ``fit``
    names, and for a run or a study the world and scenario it would build
    (``RunInputs.from_config``: an event dated past ``ticks``, say) and the memory it
    would need, for a design ``design.check_design``. A fit, forecast or validation checks
    its record and priors when it starts. The sweeper (``hydra_plugins``) checks every job
    of a sweep with it before the first runs."""
    from alignment_sim.engine.batch import check_memory
    from alignment_sim.model.inputs import RunInputs
    from alignment_sim.model.params import EngineParams
    from alignment_sim.studies.design import check_design

    config = with_fitted_set(to_config(cfg), overrides)
    _check_window(overrides, config)
    if config.task != "simulate":
        return config
    if config.design.method != "none":
        _refuse_fixed_and_varied(config, overrides)
        _refuse_unread_design_settings(config, overrides)
        check_design(config)
    elif config.replications > 1:
        check_memory(RunInputs.from_config(config), config.replications, config.engine)
    else:
        check_memory(RunInputs.from_config(config), 1, EngineParams(chunk_size=1), "full")
    return config


def _refuse_fixed_and_varied(config: SimulationConfig, overrides: list[str]) -> None:
    """Refuse a value given on the command line for a parameter the design varies: the
    design's range wins, while the manifest's configuration keeps the value given."""
    for _, key, value in map(_split, overrides):
        if key in config.design.parameters and value is not None:
            low, high = config.design.parameters[key]
            raise ConfigError(
                key,
                typed_value(value),
                f"no value of its own: the design varies it over [{low}, {high}]",
                "Leave it out, or take it out of design.parameters.",
            )


UNREAD_DESIGN_SETTINGS = {
    "grid": {
        "design.samples": "it takes design.levels values of each parameter",
        "design.sampler_seed": "its points are fixed, not drawn",
        "design.bootstrap": "its main effects have no bootstrap interval",
    },
    "lhs": {"design.levels": "it takes design.samples points"},
    "sobol": {"design.levels": "it takes design.samples base samples"},
    "morris": {"design.levels": "it takes design.samples trajectories"},
}
"""The design settings each method never reads, and why: given on the command line they
are refused, not silently ignored."""


def _refuse_unread_design_settings(config: SimulationConfig, overrides: list[str]) -> None:
    """Refuse a design setting given on the command line that the design's method never
    reads (``UNREAD_DESIGN_SETTINGS``: ``experiment=grid design.samples=100`` ran the 5 x 5
    grid as if nothing were said)."""
    unread = UNREAD_DESIGN_SETTINGS[config.design.method]
    for _, key, value in map(_split, overrides):
        if key in unread and value is not None:
            raise ConfigError(
                key,
                typed_value(value),
                f"no value for {'an' if config.design.method == 'lhs' else 'a'} "
                f"{config.design.method} design: {unread[key]}",
                "Leave it out.",
            )


WINDOW_SETS = {
    "origin": {
        "region.year": "the start year (the year after the origin)",
        "region.configuration_year": "the year whose end the run starts from (the origin)",
        "region.calendar": "the calendar (on)",
    },
    "to": {"ticks": "the run's length"},
}
"""The calendar window's keys, and the settings each of them sets (``SimulationConfig``)."""


def _check_window(overrides: list[str], config: SimulationConfig) -> None:
    """Refuse ``region.year=``, ``region.configuration_year=`` or ``region.calendar=``
    beside an origin, or ``ticks=`` beside a ``to``, whether the window is on the command
    line or in an experiment (a forecast's): the window's key sets the others, which the
    configuration cannot tell from a value given on purpose (it ran 56 ticks for
    ``experiment=forecast ticks=10``)."""
    given = {key: value for _, key, value in map(_split, overrides) if value is not None}
    if config.task == "validate":  # its windows come from estimation.window
        for sets in [*WINDOW_SETS["origin"], *WINDOW_SETS["to"]]:
            if sets in given:
                raise ConfigError(
                    sets,
                    typed_value(given[sets]),
                    "no value in a validation: it runs from the end of estimation.window to "
                    f"{RECORD_LAST_YEAR}",
                    "Set estimation.window instead.",
                )
    window_of = {"origin": config.origin, "to": config.to}
    for window, settings in WINDOW_SETS.items():
        for sets, what in settings.items():
            if window_of[window] is not None and sets in given:
                raise ConfigError(
                    sets,
                    typed_value(given[sets]),
                    f"no {sets} beside {window}={window_of[window]}, which sets {what}",
                    f"Give {window}= instead of {sets}=.",
                )


def with_fitted_set(config: SimulationConfig, overrides: list[str]) -> SimulationConfig:
    """``config`` with the values of the fitted set ``fit`` names, except the parameters
    the command line sets itself (an explicit override wins over the fit)."""
    if config.fit is None:
        return config
    from alignment_sim.estimation.fitted import FittedSet, override_paths

    return FittedSet.load(config.fit).apply(config, keep=override_paths(config, overrides))


def _record(folder: Path, exc: BaseException, overrides: list[str], trace: str = "") -> None:
    """Leave ``error.json`` when the folder can take it (a read-only one cannot)."""
    from alignment_sim.outputs.files import record_failure

    with suppress(OSError):
        record_failure(folder, exc, overrides, trace)


def _job_failed(
    message: str, status: int, folder: Path, sweeping: bool, discard: bool = True
) -> None:
    """Report a failed job; alone, exit with ``status``, first removing its folder if it
    holds nothing but Hydra's files (``discard``: never a folder another process holds,
    whose lock and files those are)."""
    log.error(message + (" The sweep goes on." if sweeping else ""))
    if not sweeping:
        if discard:
            _discard_incomplete(folder)
        sys.exit(status)


def _discard_incomplete(folder: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own files."""
    try:
        if folder.is_dir() and all(p.name in HYDRA_FILES for p in folder.iterdir()):
            logging.shutdown()  # main.log is open in it
            shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        pass


def _claim_folder(
    folder: Path,
    digest: str,
    overrides: list[str],
    what: str,
    skip: bool = True,
    runs_key: str | None = None,
) -> bool:
    """Make ``folder`` this job's (``what``: a run, a design, a fit, ...), reading its
    state once (``job_status``): True (and a note) when it holds this finished job and
    ``skip``; otherwise it clears what an earlier attempt left that could look finished,
    and says why the job runs again.

    A folder holding a finished job of other settings, or another command's output, is
    refused (``_refuse_other_settings``): designs share ``results/designs/<study>/``, and a
    ``hydra.run.dir=`` given twice would replace a fit that forecasts name by its folder.
    ``runs_key`` (a design's ``design.design_runs_digest``): a design whose runs are the
    finished ones, with other outcomes or resamples alone, re-analyses them. The job's input
    was checked before (``check_job``): a bad re-run leaves an earlier finished job as it
    was. ``skip`` False (a single run outside a sweep): the refusal alone."""
    from alignment_sim.outputs.files import ERROR, MANIFEST, job_manifest, job_status

    status = job_status(folder, digest)
    again = "computing it again"
    if status.state == "stale":
        meta = job_manifest(folder)
        _refuse_other_settings(meta, folder, overrides, what, runs_key is not None)
        if runs_key is not None and meta.get("design_runs_digest") == runs_key:
            again = "re-analysing its finished runs (other outcomes or resamples)"
    if not skip:
        return False
    if status.complete:
        where = "" if what in ("run", "study job") else " in"  # a job's own folder, or a design's
        log.info(
            f"alignment-sim: {what}{where} {folder.name or folder} is already complete, skipped."
        )
        return True
    if status.state in ("stale", "corrupt"):
        log.info(f"alignment-sim: {folder.name}: {status.reason}; {again}.")
    elif folder.is_dir() and (
        left := sorted(p.name for p in folder.iterdir() if p.name not in HYDRA_FILES)
    ):
        shown = ", ".join(left[:3]) + (", ..." if len(left) > 3 else "")
        log.info(
            f"alignment-sim: {folder.name or folder}: no finished job here ({status.reason}), "
            f"but it holds {shown}, of an earlier attempt or not: computing the job again "
            "beside them."
        )
    (folder / MANIFEST).unlink(missing_ok=True)
    (folder / ERROR).unlink(missing_ok=True)
    return False


def run_single(
    config: SimulationConfig, folder: Path, overrides: list[str], skip_if_done: bool
) -> None:
    from alignment_sim.model.mesa_model import AlignmentModel
    from alignment_sim.outputs.files import summary_text, write_run
    from alignment_sim.studies.replications import config_digest, job_parameters

    digest = config_digest(config)
    if _claim_folder(folder, digest, overrides, "run", skip=skip_if_done):
        return
    trajectory = AlignmentModel(config).run()
    write_run(
        trajectory,
        config,
        folder,
        plots=config.output.plots,
        extra={
            "config_digest": digest,
            "overrides": overrides,
            "parameters": job_parameters(overrides),
        },
    )
    if not config.output.quiet:
        log.info(summary_text(trajectory, folder, listed=len(config.scenario.events)))


def run_design_job(config: SimulationConfig, folder: Path, overrides: list[str]) -> None:
    import pandas as pd

    from alignment_sim.outputs.files import counted
    from alignment_sim.studies.design import analysis, design_runs_digest, run_design
    from alignment_sim.studies.replications import config_digest

    digest, runs_key = config_digest(config), design_runs_digest(config)
    if _claim_folder(folder, digest, overrides, "design", runs_key=runs_key):
        return
    run_design(config, folder, progress=config.engine.progress, extra={"overrides": overrides})
    if not config.output.quiet:
        table = (folder / "sensitivity.csv").read_text().splitlines()
        points = len(pd.read_parquet(folder / "design.parquet", columns=["point"]))
        runs = points * config.replications
        log.info(
            f"alignment-sim: {config.design.method} design, {counted(points, 'point')} x "
            f"{counted(config.replications, 'seed')} = {counted(runs, 'run')}. Sensitivity "
            f"({analysis(config.design)}; {counted(len(table) - 1, 'row')}): "
            f"{folder / 'sensitivity.csv'}, plot: {folder / 'sensitivity.png'}, "
            f"runs: {folder / 'runs'}"
        )


def _refuse_other_settings(
    meta: dict[str, Any], folder: Path, overrides: list[str], what: str, design: bool
) -> None:
    """Refuse a job (``what``: a design, a fit, ...) whose folder holds, by its manifest
    ``meta``, another command's output or a finished job made with other settings; one of
    the same settings whose configuration changed (the package's defaults moved) is
    computed again, as a sweep job is, and for a design other outcomes or resamples alone
    count as the same settings (``design.ANALYSIS_SETTINGS``). Refused by ``study`` for a
    design, by ``hydra.run.dir`` for the others."""
    from alignment_sim.outputs.files import finished_kind
    from alignment_sim.studies.design import ANALYSIS_SETTINGS
    from alignment_sim.studies.replications import NOT_PARAMETERS

    recorded = meta.get("overrides")
    keep = "study=NAME (or another hydra.run.dir)" if design else "another hydra.run.dir"
    key, value = ("study", folder.name) if design else ("hydra.run.dir", str(folder))
    if not isinstance(recorded, list):  # another command's output: a comparison, scores, ...
        raise ConfigError(
            key,
            value,
            f"a folder of its own for a {what}",
            f"{folder} holds {finished_kind(meta)}, not a job of this command. Give {keep}.",
        )

    analysis_only = {f"design.{name}" for name in ANALYSIS_SETTINGS} if design else set()

    def settings(given: list[str]) -> list[str]:
        def kept(key: str) -> bool:
            return key not in NOT_PARAMETERS | analysis_only and not key.startswith("hydra.")

        return sorted(o for o in given if kept(_split(o)[1]))

    if settings(recorded) != settings(overrides):
        made = " ".join(settings(recorded)) or "no overrides"
        raise ConfigError(
            key,
            value,
            f"a folder of its own for a {what} of other settings",
            f"{folder} holds {finished_kind(meta)} made with {made}. Give {keep} to keep "
            "both, or remove the folder to replace it.",
        )


def _refuse_a_folder_of_jobs(folder: Path) -> None:
    """Refuse a job's folder that holds other jobs' folders (a sweep's root, a results
    tree): the job's files beside them would hide them from every reader, which stops at
    a job's folder. A validation's own parts (its fit, forecasts and scores) are its."""
    from alignment_sim.estimation.validate import FORECASTS, SCORES
    from alignment_sim.outputs.files import ERROR, MANIFEST, counted

    own = {"fit", *FORECASTS.values(), *SCORES.values()}
    jobs = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and p.name not in own and ((p / MANIFEST).is_file() or (p / ERROR).is_file())
    )
    if jobs:
        raise ConfigError(
            "hydra.run.dir",
            str(folder),
            "a folder of its own for the job",
            f"It holds {counted(len(jobs), 'job folder')} ({', '.join(jobs[:3])}"
            f"{', ...' if len(jobs) > 3 else ''}), which a job's files beside them would hide "
            "from every reader. Give another hydra.run.dir.",
        )


def run_fit_job(config: SimulationConfig, folder: Path, overrides: list[str]) -> None:
    from alignment_sim.estimation.jobs import run_fit
    from alignment_sim.outputs.files import counted
    from alignment_sim.studies.replications import config_digest

    if _claim_folder(folder, config_digest(config), overrides, "fit"):
        return
    say = None if config.output.quiet else log.info
    result = run_fit(config, folder, extra={"overrides": overrides}, progress=say)
    if not config.output.quiet:
        informed = sum(row["verdict"] == "informed" for row in result.identifiability())
        log.info(
            f"alignment-sim: fitted {counted(len(result.parameters), 'parameter')} on "
            f"{result.n_observations} state-years ({result.n_switches} switches): log "
            f"likelihood of the {result.objective} {result.log_likelihood_at_defaults:.2f} "
            f"at the defaults -> {result.log_likelihood:.2f}; {informed} informed by the record, "
            f"{len(result.parameters) - informed} mostly by their priors. "
            f"Files: {folder} (fit.json, parameters.csv, fit.png, fitted.yaml)"
        )
        if not result.converged:
            log.info(
                f"alignment-sim: the optimiser stopped early ({result.message.strip()}): the "
                "mode may be a little off (docs/ESTIMATION.md, Convergence)."
            )


def run_estimation_job(config: SimulationConfig, folder: Path, overrides: list[str]) -> None:
    """A forecast or a validation (``estimation.forecast``, ``estimation.validate``)."""
    from alignment_sim.studies.replications import config_digest

    what = "validation" if config.task == "validate" else config.task
    if _claim_folder(folder, config_digest(config), overrides, what):
        return
    say = None if config.output.quiet else log.info
    if config.task == "forecast":
        from alignment_sim.estimation.forecast import run_forecast

        run_forecast(config, folder, extra={"overrides": overrides}, progress=say)
    else:
        from alignment_sim.estimation.validate import run_validation

        run_validation(config, folder, extra={"overrides": overrides}, progress=say)


def run_study_job(config: SimulationConfig, folder: Path, overrides: list[str]) -> None:
    from alignment_sim.outputs.files import counted
    from alignment_sim.studies.replications import config_digest, job_parameters, run_study

    if _claim_folder(folder, config_digest(config), overrides, "study job"):
        return
    summary = run_study(config, folder, job_parameters(overrides), extra={"overrides": overrides})
    if not config.output.quiet:
        labels = config.region.option_space.labels
        shares = ", ".join(f"{k} {summary[f'final_share_{k}']['mean']:.0%}" for k in labels)
        last = config.seed + config.replications - 1
        log.info(
            f"alignment-sim: {counted(config.replications, 'run')} of {config.scenario.name} "
            f"(seeds {config.seed}-{last}); mean final shares by record label: {shares}. "
            f"Files: {folder}"
        )


# --- the command ----------------------------------------------------------------------


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def _hydra_entry(cfg: DictConfig) -> None:
    run_one(cfg)


def hydra_error_text(exc: CompactHydraException) -> str:
    """What Hydra refused while composing the configuration, for the user: a key the schema
    lacks in one line with the closest keys (not Hydra's advice to append it with ``+``,
    which the schema would refuse too); a value of the wrong type in one line; either
    naming the file of a config folder it came from; anything else (an unknown preset,
    with the available ones; an override's grammar) as Hydra words it."""
    cause = exc.__cause__ or exc.__context__  # Hydra raises from inside a handler
    source = re.match(r"In '([^']+)'", str(exc))
    inside = f"In {source.group(1)}.yaml: " if source else ""
    start = f"alignment-sim: invalid configuration. {inside}"
    if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and cause.full_key:
        names = _field_names(cause.object_type)
        if not names:  # a key new to a mapping (estimation.priors): Hydra adds it with '+'
            mapping = str(cause.full_key)[: -len(str(cause.key)) - 1]
            return (
                f"{start}{cause.full_key}: {mapping} holds no key {str(cause.key)!r} yet; a "
                f"new key of a mapping is added with '+': '+{mapping}={{{cause.key}: VALUE}}'."
            )
        parent, _, key = str(cause.full_key).rpartition(".")
        if not parent:  # the top level also takes the config groups (experiment=fit)
            names = [*names, *_config_groups()]
        close = difflib.get_close_matches(str(key), names, n=3, cutoff=0.6)
        where = f"{parent}." if parent else ""
        hint = f" Closest: {', '.join(where + name for name in close)}." if close else ""
        if source:
            schema = getattr(cause.object_type, "__name__", "its schema")
            return f"{start}{cause.full_key}: not a field of {schema} ({', '.join(names)}).{hint}"
        return (
            f"{start}{cause.full_key}: not a setting of the configuration (docs/MODEL.md "
            f"lists them).{hint}"
        )
    if isinstance(cause, ValidationError) and cause.full_key:
        first = str(cause.msg).splitlines()[0]
        wanted = re.search(r"converted to (\w+)", first)
        if wanted and wanted.group(1) in SCHEMA_WORDS:
            value = getattr(cause, "value", None)
            return f"{start}{cause.full_key} = {value!r}: expected {SCHEMA_WORDS[wanted.group(1)]}."
        example = EXAMPLES.get(str(cause.full_key).rpartition(".")[2], "")
        if "is not a ListConfig, list or tuple" in first:
            value = getattr(cause, "value", None)
            given = "" if value is None else f" = {value!r}"
            return f"{start}{cause.full_key}{given}: expected a list, e.g. {example or '[a, b]'}."
        if "is not Optional" in first:
            return f"{start}{cause.full_key} = None: expected a value (it takes no null)."
        if re.match(r"Cannot assign \w+ to Dict", first):
            value = getattr(cause, "value", None)
            mapping = example or "{russia: 0.5}"
            return f"{start}{cause.full_key} = {value!r}: expected a mapping, e.g. {mapping}."
        return f"{start}{cause.full_key}: {first.rstrip('.')}."
    if isinstance(cause, ConfigTypeError) and "does not support deletion" in str(cause):
        return (
            f"{start}{cause.full_key}: a setting of the schema, which cannot be deleted; "
            f"set it instead ({cause.full_key}=VALUE)."
        )
    return str(exc) + (f"\n{cause}" if isinstance(cause, OmegaConfBaseException) else "")


POSITIONED_ITEM = re.compile(r"region\.(poles|states)\[(\d+)\]")
"""A pole or state by its position, as OmegaConf's messages name it (``region.states[0]``)."""


def _named_items(text: str, arguments: list[str]) -> str:
    """``text`` with each pole or state OmegaConf named by its position named as the
    command line names it (``region.states[0].autonomy`` -> ``region.states.belarus.
    autonomy``), in the region the command selects; unchanged if that cannot be read."""
    if not POSITIONED_ITEM.search(text):
        return text
    try:
        region = _selected_region(arguments, _overrides(arguments))
    except Exception:  # the message stands as Hydra gave it
        return text

    def named(found: re.Match[str]) -> str:
        items = region.poles if found.group(1) == "poles" else region.states
        position = int(found.group(2))
        if position >= len(items):
            return found.group(0)
        return item_path(f"region.{found.group(1)}", position, items[position].name)

    return POSITIONED_ITEM.sub(named, text)


def _config_groups() -> list[str]:
    """The packaged config groups (``experiment``, ``scenario``, ...): top-level keys an
    override may name besides the schema's fields."""
    from alignment_sim.presets import conf_dir

    return sorted(p.name for p in conf_dir().iterdir() if p.is_dir() and p.name != "hydra")


def _field_names(schema: object) -> list[str]:
    """The field names of a dataclass schema (none for anything else)."""
    if isinstance(schema, type) and dataclasses.is_dataclass(schema):
        return [f.name for f in dataclasses.fields(schema)]
    return []


def _exit(message: str, status: int) -> NoReturn:
    print(f"alignment-sim: {message}", file=sys.stderr)
    sys.exit(status)


def main() -> None:
    """Console entry point ``alignment-sim``: every outcome ends in a truthful exit status.

    0 success; 1 a failed job, an OS fault or a sweep with failed jobs; 2 bad input, the
    configuration Hydra could not compose included (``hydra_error_text``); 130
    interrupted (Ctrl+C), whatever error the interrupt left behind.
    ``HYDRA_FULL_ERROR=1`` still gives full tracebacks.
    """
    import yaml

    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; this function reports
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        with _interrupt_wins():
            sys.argv[1:] = prepare_arguments(sys.argv[1:])
            _hydra_entry()
    except KeyboardInterrupt:
        _exit("interrupted.", 130)
    except ConfigError as exc:
        _exit(f"invalid configuration. {exc}", 2)
    except CompactHydraException as exc:
        if full_error:
            raise
        print(_named_items(hydra_error_text(exc), sys.argv[1:]), file=sys.stderr)
        sys.exit(2)
    except yaml.YAMLError as exc:
        if full_error:
            raise
        _exit(f"cannot read a YAML file: {' '.join(str(exc).split())}", 2)
    except OSError as exc:
        if full_error:
            raise
        from alignment_sim.outputs.files import os_error_text

        _exit(f"cannot write {os_error_text(exc)}.", 1)
    failed = callbacks.SWEEP_FAILURES
    if failed:
        from alignment_sim.outputs.files import counted

        _exit(f"{counted(len(failed), 'job')} of the sweep did not finish: {', '.join(failed)}.", 1)
