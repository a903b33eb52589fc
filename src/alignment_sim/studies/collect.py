"""``alignment-sim-collect``: one tidy Parquet dataset from a sweep or design folder, or
one DuckDB database over every study under a folder.

One row per run with its outcomes and the job's swept parameters as columns (typed:
``replications`` is an integer, ``weights.trade`` a float), streamed job by job (and part
by part) into a ``pyarrow.parquet.ParquetWriter``, so the whole study is never in memory.
The per-tick data stay per job (``ticks.parquet``); ``--ticks`` streams them into a second
file too. Jobs of worlds with different poles (and so different share columns,
``share_<label>``, ``final_<state>``...) are collected together: a column a job lacks is a
null in its rows, but a parameter another job varies (a sweep's override, a design's
range) takes the value the job's configuration held (``configured_values``). Every
column carries its unit and meaning as Parquet field metadata (``data_dictionary``;
``--dictionary FILE.csv`` writes them as a table), and the file
carries a merged manifest (``outputs.files.read_manifest``): what every source job's
manifest shares, and per job (by its ``job`` column value) what differs.

``--duckdb FILE`` instead builds one DuckDB database over every finished job under the
folder (``results/``): a ``studies`` table (one row per job: id, study, kind, config
digest, created, git revision, scenario, parameters, the manifest as JSON), ``runs`` and
``ticks`` (study jobs) and ``design_runs`` (design jobs), each keyed by ``study_id``, with
``repeated`` marking a run another job already holds, and ``dictionary``; so a question
across studies is one query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import sys
from collections.abc import Collection, Hashable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim import paths
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import Domain
from alignment_sim.outputs.files import (
    CommandParser,
    Jobs,
    JobStatus,
    atomic_write,
    check_parent_folders,
    command_errors,
    counted,
    find_jobs,
    finished_kind,
    job_manifest,
)
from alignment_sim.outputs.provenance import stamp
from alignment_sim.studies.outcomes import OUTCOMES
from alignment_sim.studies.replications import Repeat, repeats, runs_digest

PROG = "alignment-sim-collect"
TABLES = ("runs", "ticks")
MANIFEST_KEY = b"alignment_sim"
"""The schema-metadata key of a manifest (``outputs.files.write_parquet``)."""

OUTCOME_UNITS: dict[str, str] = {
    "final_share_<label>": "share of states, 0-1",
    "mean_share_<label>": "share of states, 0-1",
    "final_share_security_<option>": "share of states, 0-1",
    "mean_share_security_<option>": "share of states, 0-1",
    "final_share_economy_<option>": "share of states, 0-1",
    "mean_share_economy_<option>": "share of states, 0-1",
    "switches": "count of state-ticks",
    "label_switches": "count of state-ticks",
    "security_switches": "count of state-ticks",
    "economy_switches": "count of state-ticks",
    "time_to_stability": "tick (0..T)",
    "states_switched": "count of states",
    "final_<state>": "category: a profile '<security>/<economy>'",
    "final_label_<state>": "category: a record label",
}
"""The unit of each outcome column of ``studies.outcomes.OUTCOMES`` (same patterns)."""
OTHER_COLUMNS: dict[str, tuple[str, str]] = {
    "seed": ("integer", "the run's seed; with the configuration it fixes the run"),
    "point": ("integer", "a design's point (a row of design.parquet); its runs share seeds"),
    "tick": ("tick (0..T)", "the tick; 0 is the start, tick t ends t * tick_months months in"),
    "year": (
        "decimal calendar year",
        "when the tick ends: the start year plus tick x tick_months / 12 (2015.25: a quarter "
        "into 2015)",
    ),
    "share_security_<option>": (
        "share of states, 0-1",
        "share of states in the security option <option> at this tick",
    ),
    "share_economy_<option>": (
        "share of states, 0-1",
        "share of states in the economic option <option> at this tick",
    ),
    "share_<label>": (
        "share of states, 0-1",
        "share of states whose profile has the record label <label> at this tick",
    ),
    "job": ("text", "the job's folder, relative to the collected folder (its manifest's key)"),
    "study_id": ("text", "the job's folder, relative to the root (studies.id)"),
    "repeated": (
        "true or false",
        "the run is already in the database from another study (the same configuration "
        "and seed: a study re-run with other replications, a copy; studies.repeats names "
        "it) or appears twice in its own: WHERE NOT repeated counts each run once",
    ),
}
"""Columns besides the outcomes and parameters: the ``runs``/``ticks`` keys and shares."""


class CollectError(Exception):
    """Bad input to ``alignment-sim-collect``; the command prints it as one line."""


PLACEHOLDER = re.compile(r"<(\w+)>")
"""A placeholder of a column pattern or a meaning: ``<label>``, ``<state>``."""


def _pattern(template: str) -> re.Pattern[str]:
    """A column pattern such as ``final_share_<label>`` as a regular expression, each
    placeholder a named group."""
    return re.compile(PLACEHOLDER.sub(r"(?P<\1>.+)", re.escape(template)) + "$")


DEFINITIONS: list[tuple[re.Pattern[str], str, str]] = sorted(
    [(_pattern(k), OUTCOME_UNITS[k], meaning) for k, meaning in OUTCOMES.items()]
    + [(_pattern(k), unit, meaning) for k, (unit, meaning) in OTHER_COLUMNS.items()],
    key=lambda row: -len(row[0].pattern.split("(?P<")[0]),
)
"""Every column pattern with its unit and meaning, the most specific prefix first."""


def describe(column: str) -> tuple[str, str]:
    """A column's (unit, meaning) by its pattern: an outcome, a key or a share, the
    meaning with the column's own label or state in place of ``<label>``, ``<state>``;
    ("", "") when it is none of these."""
    for pattern, unit, meaning in DEFINITIONS:
        found = pattern.match(column)
        if found:
            return unit, _filled(meaning, found.groupdict())
    return "", ""


def _filled(meaning: str, named: dict[str, str]) -> str:
    """``meaning`` with each placeholder ``named`` gives a value replaced by it."""
    return PLACEHOLDER.sub(lambda m: named.get(m.group(1), m.group(0)), meaning)


PRESET_GROUPS = ("region", "scenario", "decision", "experiment", "fit")
"""Parameters that name a preset (or a fitted set) rather than a value."""


def describe_parameter(name: str) -> tuple[str, str]:
    """A job parameter's (unit, meaning): a preset's name, or a config path's domain."""
    if name in PRESET_GROUPS:
        return "preset name", f"the job's {name} preset (its override)"
    try:
        allowed = paths.domain(name)
    except ConfigError:
        return "as given", f"the job's parameter {name} (its override)"
    return _configuration_parameter(name, allowed)


def _configuration_parameter(name: str, allowed: Domain | None) -> tuple[str, str]:
    unit = allowed.what if allowed is not None else "as in the configuration"
    return unit, f"the job's value of the configuration parameter {name}"


STATE_AT_TICK = ("category: a profile '<security>/<economy>'", "the state's profile at this tick")
"""A ``ticks`` column named after a state (``replications.tick_table``)."""


def describe_column(column: str, table: str, parameters: Collection[str] = ()) -> tuple[str, str]:
    """Any collected column's (unit, meaning): a job's swept parameter, an outcome, a key
    or a share (``describe``), a design's varied parameter (a config path with a domain),
    or in ``ticks`` a state's profile."""
    if column in parameters:
        return describe_parameter(column)
    unit, meaning = describe(column)
    if meaning:
        return unit, meaning
    try:
        allowed = paths.domain(column)
    except ConfigError:
        allowed = None
    if allowed is not None:
        return _configuration_parameter(column, allowed)
    return STATE_AT_TICK if table == "ticks" else ("", "")


def with_descriptions(schema: pa.Schema, parameters: set[str], table: str) -> pa.Schema:
    """``schema`` with each field's unit and meaning as field metadata
    (``describe_column``)."""
    fields = []
    for column in schema:
        unit, meaning = describe_column(column.name, table, parameters)
        fields.append(column.with_metadata({"unit": unit, "meaning": meaning}))
    return pa.schema(fields, metadata=schema.metadata)


def data_dictionary(schema: pa.Schema, table: str = "runs") -> pd.DataFrame:
    """The data dictionary of a collected table: table, column, type, unit, meaning."""
    rows = []
    for column in schema:
        meta = column.metadata or {}
        rows.append(
            {
                "table": table,
                "column": column.name,
                "type": str(column.type),
                "unit": meta.get(b"unit", b"").decode(),
                "meaning": meta.get(b"meaning", b"").decode(),
            }
        )
    return pd.DataFrame(rows, columns=["table", "column", "type", "unit", "meaning"])


def parameter_type(values: list[str]) -> pa.DataType:
    """The one Arrow type for a parameter's values across jobs (text when they differ)."""
    kinds = {type(paths.typed_value(v)) for v in values}
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def job_parameters(folder: Path) -> dict[str, str]:
    """The parameters a finished job's manifest records, as text."""
    raw = job_manifest(folder).get("parameters") or {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def configured_values(folder: Path, keys: Collection[str]) -> dict[str, Any]:
    """Each key's value in a finished job's configuration (its manifest's), where it has
    one: a parameter path's value (``weights.trade``), a preset's name (``scenario``). A
    column another job varies, this job holds at that value: not a null."""
    from alignment_sim.presets import config_from_manifest

    try:
        config = config_from_manifest(folder)
    except ConfigError:  # an older manifest: its values stay unknown (null)
        return {}
    values: dict[str, Any] = {  # the presets, each by the name it reads back as
        "scenario": config.scenario.name,
        "region": config.region.name,
        "decision": config.decision.rule,
    }
    found = {}
    for key in keys:
        if key in values:
            found[key] = values[key]
            continue
        try:
            found[key] = paths.get_value(config, key)
        except ConfigError:
            continue
    return found


def _value(text: str | None, kind: pa.DataType) -> Any:
    if text is None or pa.types.is_string(kind):
        return text
    value = paths.typed_value(text)
    return float(value) if pa.types.is_floating(kind) else value


def job_id(root: Path, folder: Path) -> str:
    """A job's id: its folder relative to the collected root (the folder's name when the
    root is the job)."""
    return str(folder.relative_to(root)) if folder != root else folder.name


def collected_by(root: Path) -> dict[str, Any]:
    """What made a collection (``provenance.stamp``) and from which folder."""
    return {**stamp(), "source": str(root)}


def merged_manifest(root: Path, jobs: list[Path]) -> dict[str, Any]:
    """One manifest for a collected file: what every job's manifest shares (top-level
    keys with equal values: version, git revision, libraries...), then ``jobs``: per job
    id, its other keys; and ``collected``: when, by which version, from where."""
    manifests = {job_id(root, f): job_manifest(f) for f in jobs}
    first = next(iter(manifests.values()))
    shared = {
        k: v for k, v in first.items() if all(k in m and m[k] == v for m in manifests.values())
    }
    return {
        **shared,
        "collected": collected_by(root),
        "jobs": {
            name: {k: v for k, v in m.items() if k not in shared} for name, m in manifests.items()
        },
    }


def _sources(folder: Path, name: str) -> list[Path]:
    """The Parquet files of a job's table ``name``: one file, or a design's parts."""
    single = folder / f"{name}.parquet"
    if single.is_file():
        return [single]
    return sorted((folder / name).glob("part-*.parquet"))


def _is_design(folder: Path) -> bool:
    return not (folder / "runs.parquet").is_file() and (folder / "runs").is_dir()


def run_tables(path: Path) -> Iterator[pa.Table]:
    """One Parquet file of a job's table, a batch at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
        yield pa.Table.from_batches([batch])


def _unified(schemas: list[tuple[Path, pa.Schema]]) -> pa.Schema:
    """One schema for every job: the union of their columns in order of appearance."""
    try:
        return pa.unify_schemas([s for _, s in schemas], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        first_seen: dict[str, tuple[Path, pa.Field]] = {}
        for path, schema in schemas:
            for column in schema:
                where, seen = first_seen.setdefault(column.name, (path, column))
                if not _joinable(seen, column):
                    raise CollectError(
                        f"column {column.name!r} is {seen.type} in {where} but {column.type} "
                        f"in {path}: collect such jobs separately."
                    ) from None
        raise CollectError(f"the jobs' tables cannot be joined ({_short(exc)}).") from None


def _joinable(a: pa.Field, b: pa.Field) -> bool:
    try:
        pa.unify_schemas([pa.schema([a]), pa.schema([b])], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def _schema_of(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path).remove_metadata()
    except (OSError, pa.ArrowException) as exc:
        raise CollectError(f"{path} cannot be read ({_short(exc)}).") from None


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _parameter_values(
    set_by: dict[Path, dict[str, str]], names: Collection[str]
) -> dict[Path, dict[str, str]]:
    """Each job's parameters as text: those it set (``set_by``, ``job_parameters``) and,
    of ``names``, the values its configuration held (``configured_values``): a parameter
    another job varies is this job's configured value, and its column's type counts it."""
    filled = {}
    for folder, given in set_by.items():
        unset = [n for n in names if n not in given and n != "job"]
        held = configured_values(folder, unset)
        filled[folder] = {**{k: str(v) for k, v in held.items()}, **given}
    return filled


def _plan(root: Path, jobs: list[Path], name: str) -> tuple[pa.Schema, dict[Path, dict[str, str]]]:
    """The output schema (the tables' columns, then job parameters, typed, then ``job``),
    with each field's unit and meaning and the merged manifest; and each job's parameter
    values as text (``_parameter_values``)."""
    schemas = [(path, _schema_of(path)) for folder in jobs for path in _sources(folder, name)]
    if not schemas:
        raise CollectError(f"no {name} table in the finished jobs under {root}.")
    data = _unified(schemas)
    set_by = {folder: job_parameters(folder) for folder in jobs}
    swept = {k for given in set_by.values() for k in given}
    given = _parameter_values(set_by, [*swept, *data.names])
    types = {k: parameter_type([p[k] for p in given.values() if k in p]) for k in swept}
    keys = sorted(set(types) - set(data.names))
    if "job" in data.names:
        raise CollectError(f"the {name} tables already have a column 'job'.")
    columns = [  # parameters a job wrote as text into its own table get their type too
        f.with_type(types[f.name]) if f.name in types and _is_text(f.type) else f for f in data
    ]
    extra = [pa.field(k, types[k]) for k in keys] + [pa.field("job", pa.string())]
    manifest = json.dumps(merged_manifest(root, jobs), default=str).encode()
    schema = pa.schema([*columns, *extra], metadata={MANIFEST_KEY: manifest})
    return with_descriptions(schema, set(types), name), given


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _conformed(table: pa.Table, schema: pa.Schema, constants: dict[str, Any]) -> pa.Table:
    """``table`` with the columns of ``schema``: its own (cast), the job's constants (its
    parameters, and the configured value of a parameter another job varies), and nulls
    for the columns it lacks (an option of another world)."""
    columns = []
    for column in schema:
        if column.name in table.column_names:
            columns.append(table.column(column.name).cast(column.type))
        elif column.name in constants:
            columns.append(pa.array([constants[column.name]] * len(table), type=column.type))
        else:
            columns.append(pa.nulls(len(table), type=column.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _write(
    root: Path, jobs: list[Path], name: str, handle: Any, dropped: dict[Path, Repeat]
) -> int:
    """Stream the ``name`` tables of ``jobs`` into ``handle``, without the runs
    ``dropped`` lists for a job (those another job already gives); returns the rows."""
    schema, given = _plan(root, jobs, name)
    rows = 0
    with pq.ParquetWriter(handle, schema) as writer:
        for folder in jobs:
            constants = {  # set, or configured; a table's own column comes first
                k: _value(v, schema.field(k).type)
                for k, v in given[folder].items()
                if k in schema.names
            }
            constants["job"] = job_id(root, folder)
            for path in _sources(folder, name):
                try:
                    for table in run_tables(path):
                        if folder in dropped:
                            table = _without_runs(table, dropped[folder].runs, _is_design(folder))
                        writer.write_table(_conformed(table, schema, constants))
                        rows += len(table)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                    raise CollectError(f"{path} cannot be read ({_short(exc)}).") from None
    return rows


def _check_out(
    out: Path,
    jobs: list[Path],
    written: dict[Path, Path],
    parquet: bool = True,
    option: str = "--out",
) -> None:
    """Refuse an output that is a folder, a Parquet file not named ``.parquet`` (a
    ``.csv`` name would hide what it holds), under a file, one of the tables read, or a
    file a job wrote (``written``, ``_written_files``: a design's ``design.parquet``)."""
    if out.is_dir():
        kind = "Parquet" if parquet else "database"
        raise CollectError(f"{option} {out} is a folder; pass the name of a {kind} file to write.")
    if parquet and out.suffix != ".parquet":
        raise CollectError(f"{out}: the file written is Parquet; name it NAME.parquet.")
    check_parent_folders(out)
    inputs = {p.resolve() for folder in jobs for n in TABLES for p in _sources(folder, n)}
    if out.resolve() in inputs:
        raise CollectError(f"{option} {out} is one of the tables being collected.")
    owner = written.get(out.resolve())
    if owner is not None:
        raise CollectError(
            f"{option} {out} is a file of the job {owner} (its manifest lists it); "
            "writing it would damage the job. Name another file."
        )


def _written_files(jobs: list[Path]) -> dict[Path, Path]:
    """Each file the jobs' manifests list, resolved, and its job (read once a collection,
    for every output option ``_check_out`` checks)."""
    return {
        (folder / name).resolve(): folder
        for folder in jobs
        for name in job_manifest(folder).get("files") or {}
    }


def finished_jobs(root: Path, skip_corrupt: bool) -> Jobs:
    """The finished jobs with a runs table under ``root`` (CollectError for a corrupt one
    unless ``skip_corrupt``, or for none)."""
    found = find_jobs(root)
    corrupt = [(f, s) for f, s in found.left_out if s.state == "corrupt"]
    if corrupt and not skip_corrupt:
        folder, status = corrupt[0]
        others = len(corrupt) - 1
        more = f" (and {counted(others, 'more folder')} like it)" if others else ""
        raise CollectError(
            f"{folder} looks finished but {status.reason}{more}; re-run it, remove it, or "
            "pass --skip-corrupt to leave it out."
        )
    for folder in [f for f in found.done if not _sources(f, "runs")]:
        found.done.remove(folder)
        found.left_out.append((folder, JobStatus("complete", f"no runs table: {_kind(folder)}")))
    if not found.done:
        prefix = "no runs table: "
        kinds = sorted(
            {
                s.reason.removeprefix(prefix)
                for _, s in found.left_out
                if s.reason.startswith(prefix)
            }
        )
        held = f": it holds {', '.join(kinds)}" if kinds else ""
        raise CollectError(
            f"no finished study under {root} (no folder with a readable manifest.json and "
            f"a runs table){held}."
        )
    return found


def _kind(folder: Path) -> str:
    """What a finished folder without a runs table holds, in words."""
    if (folder / "trajectory.parquet").is_file():
        return "a single run (alignment-sim-compare reads it)"
    return finished_kind(job_manifest(folder)).removeprefix("a finished ")


def job_runs(folder: Path) -> list[Hashable]:
    """The runs of a finished job, each by its seed (a design's by its (point, seed): every
    point runs the same seeds), from its runs tables."""
    columns = run_keys(_is_design(folder))
    runs: list[Hashable] = []
    for path in _sources(folder, "runs"):
        try:
            table = pq.read_table(path, columns=columns)
        except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
            raise CollectError(f"{path} cannot be read ({_short(exc)}).") from None
        values = [table.column(c).to_pylist() for c in columns]
        runs += values[0] if len(values) == 1 else list(zip(*values, strict=True))
    return runs


def run_keys(design: bool) -> list[str]:
    """The columns that name a run in a job's tables: its seed (a design's point and
    seed: every point runs the same seeds)."""
    return ["point", "seed"] if design else ["seed"]


def _without_runs(table: pa.Table, runs: Collection[Hashable], design: bool) -> pa.Table:
    """``table``'s rows but those of ``runs`` (as ``job_runs`` names them)."""
    keys = table.select(run_keys(design)).to_pandas()
    index = pd.MultiIndex.from_frame(keys) if design else pd.Index(keys["seed"])
    wanted: list[Any] = list(runs)
    return table.filter(pa.array(~index.isin(wanted)))


def run_name(run: Hashable) -> str:
    """A run as ``job_runs`` keys it, in words: 'seed 3', or 'point 2, seed 3'."""
    if isinstance(run, tuple):
        point, seed = run
        return f"point {point}, seed {seed}"
    return f"seed {run}"


def repeated_jobs(jobs: list[Path]) -> dict[Path, tuple[Path | None, Repeat]]:
    """The jobs of ``jobs`` some or all of whose runs another job already gives
    (``replications.repeats``: the same runs digest and a run in common; a study re-run
    with other ``replications``, a design run twice, a job copied): job -> (the job that
    holds the first of them, None for a job that repeats a run of its own; the repeat,
    ``whole`` when the job gives no other run). Jobs whose manifest holds no configuration
    (nothing to compare) are never repeats."""
    configs: dict[Path, dict[str, Any]] = {}
    for folder in jobs:
        config = job_manifest(folder).get("config")
        if isinstance(config, dict):
            configs[folder] = config
    kept = list(configs)
    units = [(runs_digest(configs[folder]), job_runs(folder)) for folder in kept]
    return {kept[r.index]: (None if r.owner is None else kept[r.owner], r) for r in repeats(units)}


def leave_out_repeats(root: Path, found: Jobs) -> dict[Path, tuple[Repeat, str]]:
    """Move every job of ``found.done`` whose runs another job already gives, all of them
    (``repeated_jobs``), to ``found.left_out``, so no run is collected twice; returns the
    jobs that give some new runs besides: job -> (its repeat, the runs to leave out of
    it; what the command says of it)."""
    partly = {}
    for folder, (owner, r) in repeated_jobs(found.done).items():
        if owner is None:
            reason = f"{run_name(r.run)} appears twice in its runs"
        else:
            reason = (
                f"{r.count} of its runs (e.g. {run_name(r.run)}) are already collected from "
                f"{job_id(root, owner)}, with the same configuration"
            )
        if r.whole:
            found.done.remove(folder)
            found.left_out.append((folder, JobStatus("complete", reason)))
        else:
            partly[folder] = (r, f"{reason}; its other runs are collected")
    return partly


def collect(
    root: Path,
    out: Path,
    ticks: Path | None = None,
    skip_corrupt: bool = False,
) -> dict[str, Any]:
    """Stream every finished job's runs (and, with ``ticks``, per-tick rows) into ``out``.

    Both files appear together or not at all. Raises ``CollectError`` for bad input: no
    finished job, a corrupt job (unless ``skip_corrupt``), study jobs and designs under one
    root, or an ``out`` that cannot be a file. A study job whose runs another job already
    gives is left out, and of a job that gives some of them only its other runs are
    collected (``leave_out_repeats``). Returns counts, the jobs left out and the jobs
    collected in part (``partly``: job, why).
    """
    found = finished_jobs(root, skip_corrupt)
    designs = [f for f in found.done if _is_design(f)]
    if designs and len(designs) < len(found.done):
        study = next(f for f in found.done if not _is_design(f))
        raise CollectError(
            f"{root} holds both design studies (e.g. {designs[0]}) and study jobs (e.g. "
            f"{study}); their rows mean different things: collect each folder on its own."
        )
    partly = leave_out_repeats(root, found)
    dropped = {folder: r for folder, (r, _) in partly.items()}
    targets = [(out, "runs")] + ([(ticks, "ticks")] if ticks is not None else [])
    written = _written_files(found.done)
    for path, name in targets:
        _check_out(path, found.done, written, option="--out" if name == "runs" else "--ticks")
    if ticks is not None and ticks.resolve() == out.resolve():
        raise CollectError(f"--ticks {ticks} is the same file as --out.")
    rows: dict[str, int] = {}
    with ExitStack() as stack:
        for path, name in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(atomic_write(path))
            rows[name] = _write(root, found.done, name, handle, dropped)
    return {
        "jobs": len(found.done),
        "rows": rows["runs"],
        "tick_rows": rows.get("ticks", 0),
        "failed": [str(f) for f in found.with_state("failed")],
        "left_out": found.left_out,
        "partly": [(folder, why) for folder, (_, why) in partly.items()],
    }


DATABASE_TABLES = (
    ("runs", False, "runs"),
    ("ticks", False, "ticks"),
    ("design_runs", True, "runs"),
)
"""The database's run tables: (table, from design jobs?, the jobs' table)."""


def study_row(root: Path, folder: Path) -> dict[str, Any]:
    """A job's row of the ``studies`` table, from its manifest."""
    meta = job_manifest(folder)
    config: dict[str, Any] = meta["config"] if isinstance(meta.get("config"), dict) else {}
    scenario: dict[str, Any] = config.get("scenario") or {}
    created = meta.get("created_utc")
    try:
        when = dt.datetime.fromisoformat(str(created)).astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        when = None
    design = _is_design(folder)
    return {
        "id": job_id(root, folder),
        "study": job_id(root, folder if design or folder == root else folder.parent),
        "kind": "design" if design else "study",
        "config_digest": meta.get("config_digest"),
        "created_utc": when,
        "git_revision": meta.get("git_revision"),
        "version": meta.get("version"),
        "scenario": scenario.get("name"),
        "ticks": config.get("ticks"),
        "replications": config.get("replications"),
        "parameters": json.dumps(_swept(meta, config, design), default=str),
        "manifest": json.dumps(meta, default=str),
        "repeats": None,
    }


def _swept(meta: dict[str, Any], config: dict[str, Any], design: bool) -> dict[str, Any]:
    """What a job varied: a sweep job's parameters as given, a design's ranges."""
    given = meta.get("parameters") or {}
    if design and not given:
        spec = config.get("design")
        given = (spec.get("parameters") if isinstance(spec, dict) else None) or {}
    return dict(given)


STUDY_COLUMNS = {
    "id": ("VARCHAR", "text", "the job's folder relative to the root: runs.study_id"),
    "study": ("VARCHAR", "text", "the sweep folder of the job (a design is its own study)"),
    "kind": ("VARCHAR", "text", "study (a sweep job: runs, ticks) or design (design_runs)"),
    "config_digest": ("VARCHAR", "text", "digest of the job's resolved configuration"),
    "created_utc": ("TIMESTAMP", "timestamp, UTC", "when the job was run"),
    "git_revision": ("VARCHAR", "text", "the source revision that ran it (+dirty: uncommitted)"),
    "version": ("VARCHAR", "text", "alignment-sim's version"),
    "scenario": ("VARCHAR", "text", "the scenario's name"),
    "ticks": ("BIGINT", "ticks", "the run length"),
    "replications": ("BIGINT", "integer", "seeds per job (per point for a design)"),
    "parameters": (
        "VARCHAR",
        "JSON text",
        "the job's swept parameters, as given; a design's varied parameters with their "
        "ranges [low, high]",
    ),
    "manifest": ("VARCHAR", "JSON text", "the job's manifest: resolved config, versions, files"),
    "repeats": (
        "VARCHAR",
        "text",
        "the id of the job that already holds runs of this job, all or some (the same "
        "configuration and seeds in common: a study re-run with other replications, a copy; "
        "its own id when a seed appears twice in it), null otherwise; the run tables' "
        "repeated marks each run held twice: WHERE NOT repeated counts each run once",
    ),
}
"""The ``studies`` table's columns: SQL type, unit, meaning."""


def build_database(root: Path, out: Path, skip_corrupt: bool = False) -> dict[str, Any]:
    """Write one DuckDB database over every finished job under ``root`` to ``out``
    (replaced whole, atomically): ``studies``, ``runs``, ``ticks``, ``design_runs`` (each
    run table keyed by ``study_id``, rows in the jobs' order, ``repeated`` true for a run
    another job already holds: ``repeated_jobs``), ``dictionary`` and ``provenance``
    (key, value: what made the database, when, from which folder).

    Raises ``CollectError`` as ``collect`` does, and when duckdb is not installed.
    """
    try:
        import duckdb
    except ImportError:
        raise CollectError("--duckdb needs the duckdb package (pip install duckdb).") from None
    found = finished_jobs(root, skip_corrupt)
    _check_out(out, found.done, _written_files(found.done), parquet=False, option="--duckdb")
    repeated = repeated_jobs(found.done)
    rows = [study_row(root, folder) for folder in found.done]
    for row, folder in zip(rows, found.done, strict=True):
        if folder in repeated:
            owner = repeated[folder][0]
            row["repeats"] = job_id(root, folder if owner is None else owner)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name[:180]}.{secrets.token_hex(6)}.tmp")
    counts: dict[str, int] = {}
    repeats: dict[str, int] = {}
    try:
        with duckdb.connect(str(temporary)) as con:
            columns = ", ".join(f"{k} {sql}" for k, (sql, _, _) in STUDY_COLUMNS.items())
            con.execute(f"CREATE TABLE studies ({columns}, PRIMARY KEY (id))")
            con.executemany(
                f"INSERT INTO studies VALUES ({', '.join('?' * len(STUDY_COLUMNS))})",
                [list(row.values()) for row in rows],
            )
            dictionary = [
                ("studies", k, sql, unit, meaning)
                for k, (sql, unit, meaning) in STUDY_COLUMNS.items()
            ]
            for table, from_designs, name in DATABASE_TABLES:
                files = [
                    (job_id(root, folder), str(path.resolve()))
                    for folder in found.done
                    if _is_design(folder) == from_designs
                    for path in _sources(folder, name)
                ]
                if not files:
                    continue
                counts[table] = _load_table(con, table, files)
                jobs = [f for f in found.done if _is_design(f) == from_designs]
                _fill_parameters(con, table, {job_id(root, f): f for f in jobs})
                repeats[table] = _mark_repeated(con, table, repeated, root, from_designs)
                for column, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall():
                    unit, meaning = describe_column(column, table)
                    dictionary.append((table, column, kind, unit, meaning))
            con.execute(
                "CREATE TABLE dictionary (tbl VARCHAR, col VARCHAR, type VARCHAR, unit VARCHAR, "
                "meaning VARCHAR)"
            )
            con.executemany("INSERT INTO dictionary VALUES (?, ?, ?, ?, ?)", dictionary)
            made = collected_by(root)
            con.execute("CREATE TABLE provenance (key VARCHAR PRIMARY KEY, value VARCHAR)")
            con.executemany("INSERT INTO provenance VALUES (?, ?)", [*map(list, made.items())])
        os.replace(temporary, out)
    except duckdb.InterruptException:  # Ctrl+C inside a query: an interrupt, not bad data
        raise KeyboardInterrupt from None
    except RuntimeError as exc:  # DuckDB's word for a Ctrl+C caught by its client
        if "query interrupted" in str(exc).lower():
            raise KeyboardInterrupt from None
        raise
    except duckdb.Error as exc:
        raise CollectError(f"the jobs' tables cannot be joined ({_short(exc)}).") from None
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    return {
        "jobs": len(found.done),
        "tables": counts,
        "repeated": repeats,
        "left_out": found.left_out,
    }


def _load_table(con: Any, table: str, files: list[tuple[str, str]]) -> int:
    """Create ``table`` from the Parquet ``files`` (study id, path), keyed by
    ``study_id``, with ``repeated`` false (``_mark_repeated`` sets it); returns its rows."""
    con.execute("CREATE TEMP TABLE source_files (study_id VARCHAR, path VARCHAR, part INTEGER)")
    con.executemany(
        "INSERT INTO source_files VALUES (?, ?, ?)", [(*f, i) for i, f in enumerate(files)]
    )
    con.execute(
        f"CREATE TABLE {table} AS SELECT s.study_id, false AS repeated, "
        "t.* EXCLUDE (filename, file_row_number) "
        "FROM read_parquet(?, union_by_name = true, filename = true, file_row_number = true) t "
        "JOIN source_files s ON t.filename = s.path ORDER BY s.part, t.file_row_number",
        [[path for _, path in files]],
    )
    con.execute("DROP TABLE source_files")
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _is_parameter(column: str) -> bool:
    """Whether a run table's column names a setting: a preset group or a parameter path."""
    if column in PRESET_GROUPS:
        return True
    try:
        paths.parse(column)
    except ConfigError:
        return False
    return True


def _fill_parameters(con: Any, table: str, jobs: dict[str, Path]) -> None:
    """The parameter columns of ``table`` (by study id, ``jobs``) as ``collect`` writes
    them: a job that did not vary a parameter another varies holds its configured value
    (``configured_values``), not a null; and a column of numbers, written as text by the
    jobs' overrides, typed (``parameter_type``)."""
    columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    candidates = [c for c in columns if _is_parameter(c) and c != "seed"]
    if not candidates:
        return
    empty: dict[str, list[str]] = {}  # each job's parameter columns with a null: one query each
    for column in candidates:
        held = f'SELECT DISTINCT study_id FROM {table} WHERE "{column}" IS NULL'
        for (study,) in con.execute(held).fetchall():
            empty.setdefault(study, []).append(column)
    for study, columns in empty.items():  # the table was made of these jobs' files
        for column, value in configured_values(jobs[study], columns).items():
            con.execute(
                f'UPDATE {table} SET "{column}" = ? WHERE study_id = ? AND "{column}" IS NULL',
                [str(value) if isinstance(value, str) else value, study],
            )
    for column, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall():
        if column not in candidates or kind != "VARCHAR":
            continue
        values = [r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM {table}').fetchall()]
        typed = parameter_type([v for v in values if v is not None])
        sql = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}.get(typed)
        if sql is not None and values != [None]:
            con.execute(f'ALTER TABLE {table} ALTER "{column}" TYPE {sql}')


def _mark_repeated(
    con: Any,
    table: str,
    repeated: dict[Path, tuple[Path | None, Repeat]],
    root: Path,
    design: bool,
) -> int:
    """Set ``repeated`` on the rows of ``table`` whose run another job already holds: every
    row of a job left out whole, the repeated runs of one that gives others too; returns
    how many rows it set."""
    keys = run_keys(design)
    whole = [job_id(root, f) for f, (_, r) in repeated.items() if r.whole]
    rows = [  # the repeated runs of the jobs that give others too
        (job_id(root, folder), *(run if isinstance(run, tuple) else (run,)))
        for folder, (_, r) in repeated.items()
        if _is_design(folder) == design and not r.whole
        for run in r.runs
    ]
    if whole:
        marks = ", ".join("?" * len(whole))
        con.execute(f"UPDATE {table} SET repeated = true WHERE study_id IN ({marks})", whole)
    if rows:
        _mark_runs(con, table, keys, rows)
    return int(con.execute(f"SELECT count(*) FROM {table} WHERE repeated").fetchone()[0])


def _mark_runs(con: Any, table: str, keys: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Set ``repeated`` on the rows of ``table`` of the (study id, run keys) ``rows``."""
    columns = ", ".join(f"{key} BIGINT" for key in keys)
    con.execute(f"CREATE TEMP TABLE repeated_runs (study_id VARCHAR, {columns})")
    con.executemany(f"INSERT INTO repeated_runs VALUES (?, {', '.join('?' * len(keys))})", rows)
    same = " AND ".join(f"t.{key} = r.{key}" for key in ["study_id", *keys])
    con.execute(f"UPDATE {table} t SET repeated = true FROM repeated_runs r WHERE {same}")
    con.execute("DROP TABLE repeated_runs")


def write_dictionary(path: Path, tables: dict[str, Path]) -> None:
    """The data dictionary of collected Parquet files (table name -> file) as CSV."""
    frames = [data_dictionary(pq.read_schema(file), table) for table, file in tables.items()]
    with atomic_write(path, "w") as handle:
        pd.concat(frames, ignore_index=True).to_csv(handle, index=False)


def _fail(message: str, code: int = 2) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    parser = CommandParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "folder", type=Path, help="a sweep, study job or design folder (or results/)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output Parquet file (default: <folder>/collected_runs.parquet)",
    )
    parser.add_argument(
        "--ticks", type=Path, default=None, help="also stream per-tick rows into this Parquet file"
    )
    parser.add_argument(
        "--dictionary",
        type=Path,
        default=None,
        help="also write the data dictionary (table, column, type, unit, meaning) as CSV",
    )
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=None,
        help="instead, build one DuckDB file over every finished job under the folder",
    )
    parser.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="leave out (and list) jobs whose manifest or tables cannot be read",
    )
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        _fail(f"folder = {str(args.folder)!r}: expected an existing sweep or design folder.")
    if args.duckdb is not None and (args.out or args.ticks or args.dictionary):
        _fail(
            "--duckdb writes one database (with its dictionary): give it without --out, "
            "--ticks or --dictionary."
        )
    out = args.out or args.folder / "collected_runs.parquet"
    with command_errors(PROG, "nothing was written", (CollectError, ConfigError), parser):
        if args.duckdb is not None:
            counts = build_database(args.folder, args.duckdb, args.skip_corrupt)
            tables = ", ".join(
                f"{t} ({n} rows" + (f", {r} repeated)" if (r := counts["repeated"][t]) else ")")
                for t, n in counts["tables"].items()
            )
            jobs = counted(counts["jobs"], "job")
            print(f"{PROG}: {jobs} -> {args.duckdb}: studies, {tables}, dictionary, provenance")
        else:
            if args.dictionary is not None:  # checked before anything is written
                if args.dictionary.is_dir():
                    raise CollectError(
                        f"--dictionary {args.dictionary} is a folder; pass the name of a CSV "
                        "file to write."
                    )
                check_parent_folders(args.dictionary)
            counts = collect(args.folder, out, args.ticks, args.skip_corrupt)
            runs, jobs = counted(counts["rows"], "run"), counted(counts["jobs"], "job")
            print(f"{PROG}: {runs} from {jobs} -> {out}")
            if args.ticks is not None:
                print(f"{PROG}: {counts['tick_rows']} tick rows -> {args.ticks}")
            if args.dictionary is not None:
                written = {"runs": out} | ({"ticks": args.ticks} if args.ticks else {})
                write_dictionary(args.dictionary, written)
                print(f"{PROG}: data dictionary -> {args.dictionary}")
    for folder, status in counts["left_out"]:
        print(f"  not collected: {folder} ({status.state}: {status.reason})")
    for folder, why in counts.get("partly", []):
        print(f"  collected in part: {folder} ({why})")


if __name__ == "__main__":
    main()
