"""Load the packaged presets (regions, scenarios, decision rules) as typed parameters.

For notebooks and tests: no Hydra involved. ``default_config()`` gives the default
run; keyword arguments override top-level fields::

    config = default_config(scenario="russia_recession", ticks=60, seed=3)
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from alignment_sim.errors import ConfigError
from alignment_sim.model.params import (
    SECTION_TYPES,
    DecisionParams,
    Dynamics,
    OutputParams,
    RegionSpec,
    ScenarioSpec,
    SimulationConfig,
    UtilityWeights,
    unknown_field,
)

T = TypeVar("T")


def conf_dir() -> Path:
    """The packaged Hydra configuration folder (``alignment_sim/conf``)."""
    return Path(str(resources.files("alignment_sim") / "conf"))


def available(group: str) -> list[str]:
    """Names of the presets in a config group (region, scenario, decision, experiment)."""
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def _load(schema: type[T], group: str, name_or_path: str | Path) -> T:
    path = Path(name_or_path)
    if not path.suffix:
        path = conf_dir() / group / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ConfigError(
            group,
            str(name_or_path),
            f"a preset name ({', '.join(available(group))}) or a YAML file",
        )
    stat = path.stat()
    version = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    parsed: T = _parse(cast(Hashable, schema), group, path, version)
    return copy.deepcopy(parsed)  # the caller's own: a spec is mutable


@lru_cache(maxsize=64)
def _parse(schema: Any, group: str, path: Path, version: tuple[Path, int, int]) -> Any:
    """A preset file read and validated against ``schema``, once per ``version`` of the
    file (where it is, its modification time and size): a notebook or a study that builds
    many configurations parses each file once (about 0.1 s for the region)."""
    try:
        raw = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, group, path) from None
    return on_schema(schema, raw, f"{group} ({path.name})", "a key and value of the schema")


def on_schema(schema: Any, data: Any, where: str, expected: str) -> Any:
    """``data`` merged onto ``schema`` (a dataclass) and made its object, validated; a
    value the schema refuses is a ConfigError naming ``where`` and the key."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), data))
    except OmegaConfBaseException as exc:
        kind = getattr(exc, "object_type", None)
        plain = OmegaConf.to_container(data) if OmegaConf.is_config(data) else data
        found = _find_key(plain, str(exc.key)) if isinstance(exc, ConfigKeyError) else None
        if found is not None and isinstance(kind, type) and dataclasses.is_dataclass(kind):
            path, value = found  # a key the schema lacks, where the file has it
            raise unknown_field(f"{where}: {path}", value, kind) from None
        first = str(exc).splitlines()[0]
        if isinstance(exc, ValidationError):
            value = getattr(exc, "value", None)
            where_bad = _find_key(plain, str(exc.key), value)
            wanted = re.search(r"converted to (\w+)", first)
            if where_bad is not None and (wanted or "is not a ListConfig" in first):
                kind = wanted.group(1) if wanted else ""
                words = (
                    SCHEMA_WORDS.get(kind, f"a {kind}")
                    if wanted
                    else f"a list, e.g. {EXAMPLES.get(str(exc.key), '[a, b]')}"
                )
                raise ConfigError(f"{where}: {where_bad[0]}", value, words) from None
        raise ConfigError(
            f"{where}: {exc.full_key}", getattr(exc, "value", None), expected, first
        ) from None


SCHEMA_WORDS = {
    "Integer": "a whole number",
    "Float": "a number",
    "Boolean": "true or false",
}
"""What a value of each of OmegaConf's types is, in the words of the package's errors."""

EXAMPLES = {
    "targets": "[ukraine, moldova]",
    "window": "[1991, 2005]",
    "outcomes": "[switches, final_label_uzbekistan=hedge]",
    "initial": "{2015: russia/open}",
    "overrides": "{polity2: -7}",
}
"""A value of the right form for a key, by its last part, for a message that wants one."""


def _find_key(data: Any, key: str, value: Any = None, path: str = "") -> tuple[str, Any] | None:
    """Where ``key`` first occurs in nested mappings and lists (``events[0].magnitud``),
    and its value, or where it first holds ``value`` when one is given; None if nowhere
    (OmegaConf names a key merged into a list item without the item's place)."""
    if isinstance(data, Mapping):
        if key in data and (value is None or data[key] == value):
            return f"{path}.{key}".lstrip("."), data[key]
        items: list[tuple[str, Any]] = [(f"{path}.{k}".lstrip("."), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(f"{path}[{n}]", v) for n, v in enumerate(data)]
    else:
        return None
    for where, item in items:
        found = _find_key(item, key, value, where)
        if found is not None:
            return found
    return None


def yaml_error(exc: yaml.YAMLError, group: str, path: str | Path | None = None) -> ConfigError:
    """A malformed YAML file as a one-line ConfigError: the file, the parser's line and
    column (1-based) and what it found."""
    mark = getattr(exc, "problem_mark", None)
    where = str(path) if path is not None else getattr(mark, "name", "?")
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    position = f"Line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return ConfigError(f"{group} file", where, "a readable YAML file", f"{position}{problem}.")


def load_region(name_or_path: str | Path = "post_soviet") -> RegionSpec:
    """A region: a packaged preset by name (``available("region")``) or a YAML file."""
    return _load(RegionSpec, "region", name_or_path)


def load_scenario(name_or_path: str | Path = "baseline") -> ScenarioSpec:
    """A scenario: a packaged preset by name (``available("scenario")``) or a YAML file."""
    return _load(ScenarioSpec, "scenario", name_or_path)


def load_decision(name_or_path: str | Path = "logit") -> DecisionParams:
    """A decision rule: a packaged preset by name (``available("decision")``) or a YAML
    file."""
    return _load(DecisionParams, "decision", name_or_path)


def default_config(
    region: str | Path | RegionSpec = "post_soviet",
    scenario: str | Path | ScenarioSpec = "baseline",
    decision: str | Path | DecisionParams | Mapping[str, Any] = "logit",
    weights: UtilityWeights | Mapping[str, Any] | None = None,
    dynamics: Dynamics | Mapping[str, Any] | None = None,
    **top_level: Any,
) -> SimulationConfig:
    """A validated configuration from packaged presets; ``top_level`` sets ticks, seed...
    (a ConfigError names a key the configuration lacks). ``region``, ``scenario`` and
    ``decision``: a preset's name, a YAML file's path or the object; ``decision``,
    ``weights``, ``dynamics`` and the sections among ``top_level`` (``engine``,
    ``output``, ...): the object or a mapping of its fields (``weights={"trade": 3}``: the
    others default). ``fit`` names a fitted set (a forecast draws from it) but applies none
    of its values: ``FittedSet.load(name).apply(config)`` does (``estimation.fitted``). Every
    part given as an object is copied: two configurations built from one RegionSpec never
    share its poles and states, so an edit of one reaches neither the other nor the spec.
    A keyword with ``__`` is a parameter path, as ``AlignmentModel`` takes it
    (``weights__trade=3``, ``region__states__belarus__transit__russia=0.5``), set last."""
    from alignment_sim import paths

    by_path = {
        paths.from_keyword(k): top_level.pop(k) for k in list(top_level) if paths.KEYWORD_DOT in k
    }
    known = {f.name for f in dataclasses.fields(SimulationConfig)}
    for key in top_level:
        if key not in known:
            raise ConfigError(
                key, top_level[key], f"a setting of the configuration: {', '.join(sorted(known))}"
            )
    if top_level.get("to") is not None and "ticks" in top_level:  # to sets the ticks
        raise ConfigError(
            "ticks", top_level["ticks"], f"no value beside to={top_level['to']}, which sets it"
        )
    sections = {
        key: _from_mapping(key, value)
        for key, value in {"weights": weights, "dynamics": dynamics, **top_level}.items()
        if key in SECTION_TYPES and value is not None
    }
    config = SimulationConfig(
        region=_preset(load_region, region),
        scenario=_preset(load_scenario, scenario),
        decision=_from_mapping("decision", decision)
        if isinstance(decision, Mapping)
        else _preset(load_decision, decision),
        weights=sections.pop("weights", UtilityWeights()),
        dynamics=sections.pop("dynamics", Dynamics()),
        output=sections.pop("output", OutputParams()),
        **{**top_level, **sections},
    )
    return paths.with_values(config, by_path) if by_path else config


def _preset(load: Callable[[str | Path], T], given: Any) -> Any:
    """A preset by name or YAML path (``load``), or a copy of the object given (checked by
    the configuration)."""
    return load(given) if isinstance(given, (str, Path)) else copy.deepcopy(given)


def _from_mapping(key: str, given: Any) -> Any:
    """A section from a mapping of its fields (an unknown field named), or a copy of it."""
    if not isinstance(given, Mapping):
        return copy.deepcopy(given)
    kind = SECTION_TYPES[key]
    names = [f.name for f in dataclasses.fields(kind)]
    for name in given:
        if name not in names:
            raise unknown_field(f"{key}.{name}", given[name], kind)
    return kind(**given)


def config_from_manifest(path: str | Path) -> SimulationConfig:
    """The configuration a finished run, study job, design or fit recorded in its
    ``manifest.json`` (``path``: the file or its folder), validated: with its seed it
    gives the same numbers again (a run depends only on the two), without the config
    folders or overrides that made it. A ConfigError names a manifest that is missing,
    unreadable or holds no configuration."""
    from alignment_sim.outputs.files import MANIFEST, job_manifest

    file = Path(path)
    folder = file if file.is_dir() else file.parent
    if file.is_dir():
        file = file / MANIFEST
    if not file.is_file():
        raise ConfigError("manifest", str(path), "a run's manifest.json or its folder")
    try:
        recorded = job_manifest(folder).get("config")
    except ValueError as exc:
        raise ConfigError("manifest", str(file), "a readable manifest.json", str(exc)) from None
    if not isinstance(recorded, dict):
        raise ConfigError("manifest", str(file), "a manifest that records its configuration")
    expected = "a configuration this version of alignment-sim reads"
    config = on_schema(SimulationConfig, recorded, f"manifest ({file})", expected)
    assert isinstance(config, SimulationConfig)
    return config
