"""One grammar for parameter paths, used by designs, the classroom and the command line.

A path names one scalar field of a ``SimulationConfig``::

    ticks | seed | replications | study                      (top level)
    weights.<term> | dynamics.<name> | decision.<field>      (a section's field)
    region.<field>                                           (year, tick_months, ...)
    region.poles.<pole>.<field> | region.states.<state>.<field>
    region.states.<state>.<map>.<pole> | region.poles.<pole>.rivalry.<pole>

where ``<pole>`` / ``<state>`` is a NAME (``russia``) or a list INDEX (``0``), and
``<map>`` a state's map by pole (``transit``, ``presence``, ``remittance_origin``: an
entry not in the map is 0), its pole given by name. ``parse``
checks a path against the schema; ``get_value`` reads it; ``with_values`` returns a new,
validated configuration; ``to_hydra_override`` turns a command-line override that names
a pole or state into the index form Hydra understands.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.model.params import (
    DOMAINS,
    SHARE,
    STATE_MAP_DOMAIN,
    DecisionParams,
    Domain,
    Dynamics,
    PoleSpec,
    RegionSpec,
    SimulationConfig,
    StateSpec,
    UtilityWeights,
    named_item_key,
)

GRAMMAR = (
    "a parameter path: ticks, seed, replications, study, weights.<term>, dynamics.<name>, "
    "decision.<field>, region.<field>, region.poles.<pole>.<field>, "
    "region.states.<state>.<field>, region.states.<state>.<map>.<pole> or "
    "region.poles.<pole>.rivalry.<pole> (<pole>, <state>: a name or an index; <map>: "
    "transit, presence or remittance_origin)"
)
MAPS = {
    "region.states": ("transit", "presence", "remittance_origin"),
    "region.poles": ("rivalry",),
}
"""The maps by pole a path may name an entry of (``region.states.belarus.transit.russia``),
by section: each a judgement per (state or pole, pole), 0 where the map has no entry."""
TOP_LEVEL = ("ticks", "seed", "replications", "study")
LISTS = {"poles": "region.poles", "states": "region.states"}


def _scalar_fields(schema: type) -> tuple[str, ...]:
    """Fields with a plain default: numbers, strings, flags (not lists, maps or sections)."""
    return tuple(f.name for f in dataclasses.fields(schema) if f.default is not dataclasses.MISSING)


FIELDS: dict[str, tuple[str, ...]] = {
    "": TOP_LEVEL,
    "weights": _scalar_fields(UtilityWeights),
    "dynamics": _scalar_fields(Dynamics),
    "decision": _scalar_fields(DecisionParams),
    "region": tuple(f for f in _scalar_fields(RegionSpec) if f != "name"),
    # a pole's or state's name is what other tables refer to: not settable by path
    "region.poles": tuple(f for f in _scalar_fields(PoleSpec) if f != "name"),
    "region.states": tuple(f for f in _scalar_fields(StateSpec) if f != "name"),
}


@dataclass(frozen=True)
class ParamPath:
    """A parsed path: ``section`` ("" for the top level, "weights", "region.poles", ...),
    ``item`` (a pole or state name or index; None outside the lists), ``field`` and, for
    an entry of a map by pole (``MAPS``), its ``key`` (the pole, as given)."""

    section: str
    item: str | int | None
    field: str
    key: str | None = None

    def __str__(self) -> str:
        parts = [self.section] if self.section else []
        if self.item is not None:
            parts.append(str(self.item))
        return ".".join([*parts, self.field, *([self.key] if self.key is not None else [])])


def parse(path: str) -> ParamPath:
    """Parse ``path`` against the grammar and the schema (ConfigError if outside either)."""
    if not isinstance(path, str):
        raise ConfigError(str(path), path, GRAMMAR)
    parts = path.split(".")
    if len(parts) == 1 and parts[0] in TOP_LEVEL:
        return ParamPath("", None, parts[0])
    head = parts[0]
    if head in ("weights", "dynamics", "decision") and len(parts) == 2:
        return _checked(path, ParamPath(head, None, parts[1]))
    if head == "region" and len(parts) == 2:
        return _checked(path, ParamPath("region", None, parts[1]))
    if head == "region" and len(parts) in (4, 5) and parts[1] in LISTS:
        raw = parts[2]
        item: str | int = int(raw) if raw.isdecimal() else raw
        if isinstance(item, str) and not item.isidentifier():
            raise ConfigError(path, raw, f"a name or an index of the region's {parts[1]}")
        section = LISTS[parts[1]]
        if len(parts) == 5:
            if parts[3] not in MAPS[section]:
                raise ConfigError(
                    path,
                    parts[3],
                    f"a map by pole of {section} ({', '.join(MAPS[section])})",
                    did_you_mean(parts[3], MAPS[section]),
                )
            if not parts[4].isidentifier():
                raise ConfigError(path, parts[4], "a pole's name")
            return ParamPath(section, item, parts[3], parts[4])
        return _checked(path, ParamPath(section, item, parts[3]))
    hint = ""
    if head in LISTS:
        hint = f"Did you mean 'region.{path}'?"
    raise ConfigError(path, path, GRAMMAR, hint)


KEYWORD_DOT = "__"
"""A path as a Python keyword: ``weights__trade=3`` for ``weights.trade``
(``AlignmentModel(...)``, ``default_config(...)``)."""


def from_keyword(key: str) -> str:
    """The path a keyword names (``region__states__belarus__autonomy`` ->
    ``region.states.belarus.autonomy``)."""
    return key.replace(KEYWORD_DOT, ".")


def _checked(path: str, parsed: ParamPath) -> ParamPath:
    known = FIELDS[parsed.section]
    if parsed.field not in known:
        close = difflib.get_close_matches(parsed.field, list(known), n=1)
        hint = f"Did you mean '{path[: -len(parsed.field)]}{close[0]}'?" if close else ""
        if parsed.field in MAPS.get(parsed.section, ()):  # a map: one entry at a time
            hint = f"It is a map by pole: name an entry, {path}.<pole>."
        raise ConfigError(
            path, parsed.field, f"a field of {parsed.section} ({', '.join(known)})", hint
        )
    return parsed


def item_index(path: str, item: str | int, names: list[str] | tuple[str, ...], what: str) -> int:
    """Position of a pole or state given by name or index (ConfigError naming the known):
    the error's key is the item's own path (``region.poles.usa``, not the field's path
    with the pole's name for its value), and the field's path is its hint."""
    parts = path.split(".")
    key = ".".join(parts[:3]) if parts[:2] in (["region", "poles"], ["region", "states"]) else path
    inside = f"In {path}." if key != path else ""
    if isinstance(item, int):
        if 0 <= item < len(names):
            return item
        raise ConfigError(
            key,
            item,
            f"an index in [0, {len(names) - 1}] or a name of the region's {what} "
            f"({', '.join(names)})",
            inside,
        )
    if item in names:
        return list(names).index(item)
    hint = f"{did_you_mean(item, names, 0.8)} {inside}".strip()
    raise ConfigError(
        key, item, f"a name of the region's {what} ({', '.join(names)}) or an index", hint
    )


def locate(config: SimulationConfig, path: str) -> tuple[Any, str]:
    """The object that holds ``path`` in ``config``, and the attribute's name; for a map
    entry the map (a dict) and the pole's name (checked: a pole of the region)."""
    parsed = parse(path)
    owner: Any
    if parsed.section == "":
        owner = config
    elif parsed.section in ("region.poles", "region.states"):
        what = parsed.section.split(".")[1]
        items = getattr(config.region, what)
        assert parsed.item is not None
        owner = items[item_index(path, parsed.item, [i.name for i in items], what)]
    elif parsed.section == "region":
        owner = config.region
    else:
        owner = getattr(config, parsed.section)
    if parsed.key is not None:  # the map by pole, and the entry's pole by its name
        poles = config.region.pole_names
        if parsed.key not in poles:
            expected = f"a pole of the region ({', '.join(poles)}), by its name"
            raise ConfigError(path, parsed.key, expected, did_you_mean(parsed.key, poles))
        return getattr(owner, parsed.field), parsed.key
    return owner, parsed.field


def get_value(config: SimulationConfig, path: str) -> Any:
    """The value at ``path``, e.g. ``region.poles.russia.budget_bn_usd``."""
    owner, attribute = locate(config, path)
    if isinstance(owner, dict):  # a map by pole: no entry is 0
        return owner.get(attribute, 0.0)
    return getattr(owner, attribute)


def assign(config: SimulationConfig, path: str, value: Any) -> None:
    """Set ``path`` IN PLACE, without validating (``config.validate()`` checks it).

    A whole number given for a float field becomes a float; numpy scalars become Python
    numbers.
    """
    owner, attribute = locate(config, path)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(owner, dict):  # a map by pole: its entries are numbers
        owner[attribute] = float(value) if isinstance(value, int | float) else value
        return
    current = getattr(owner, attribute)
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    setattr(owner, attribute, value)


def with_values(config: SimulationConfig, values: Mapping[str, Any]) -> SimulationConfig:
    """A NEW validated configuration: ``config`` with each path set (the argument is
    never changed)."""
    changed = copy.deepcopy(config)
    for path, value in values.items():
        assign(changed, path, value)
    changed.validate()
    return changed


def domain(path: str) -> Domain | None:
    """The range of values the configuration accepts at ``path`` (None: not a number
    with a range, such as ``decision.rule``)."""
    parsed = parse(path)
    if parsed.key is not None:
        return STATE_MAP_DOMAIN if parsed.section == "region.states" else SHARE
    return DOMAINS.get(parsed.section, {}).get(parsed.field)


def typed_value(text: str) -> bool | int | float | str:
    """An override's value as it would be read: true/false, an integer, a number or text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


_OVERRIDE = re.compile(r"^(?P<prefix>\+\+|\+|~)?(?P<key>[^=]+)(?P<rest>=.*)?$", re.DOTALL)


def to_hydra_override(override: str, region: RegionSpec) -> str:
    """``override`` with a pole or state NAME replaced by its index, for Hydra.

    ``region.poles.russia.credibility=0.5`` -> ``region.poles.0.credibility=0.5`` (also
    with a ``+``, ``++`` or ``~`` prefix); anything else is returned unchanged. An unknown
    name raises ConfigError listing the known names.
    """
    match = _OVERRIDE.match(override)
    if match is None:
        return override
    parts = match["key"].split(".")
    if len(parts) < 3 or parts[0] != "region" or parts[1] not in LISTS or parts[2].isdecimal():
        return override
    names = region.pole_names if parts[1] == "poles" else region.state_names
    parts[2] = str(item_index(match["key"], parts[2], names, parts[1]))
    return f"{match['prefix'] or ''}{'.'.join(parts)}{match['rest'] or ''}"


def to_named_override(override: str, names: Mapping[str, Sequence[str]]) -> str:
    """``override`` with a pole's or state's index replaced by its name (the inverse of
    ``to_hydra_override``; ``names``: the region's pole and state names by list, "poles"
    and "states"): ``region.states.9.autonomy=0.1`` -> ``region.states.uzbekistan.
    autonomy=0.1``, as a job's manifest and columns show it. An index the lists do not
    hold, or a name that is not one, stays as given (``params.named_item_key``)."""
    match = _OVERRIDE.match(override)
    if match is None:
        return override
    key = named_item_key(match["key"], names)
    return f"{match['prefix'] or ''}{key}{match['rest'] or ''}"
