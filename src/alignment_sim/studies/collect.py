"""``alignment-sim-collect``: one tidy Parquet dataset from a sweep or design folder.

One row per run with every parameter and outcome as columns, streamed job by job (and
part by part) into a ``pyarrow.parquet.ParquetWriter``, so the whole study is never in
memory. The per-tick data stay per job (``ticks.parquet``); ``--ticks`` streams them
into a second file too. Jobs of worlds with different poles (and so different share
columns, ``share_<label>``, ``final_<state>``...) are collected together: a column a job
lacks is a null in its rows. The result is plain Parquet, so DuckDB,
pandas or polars read it directly, e.g. ``duckdb -c "select scenario, avg(switches) from
'runs.parquet' group by 1"``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.outputs.files import (
    JobStatus,
    atomic_write,
    find_jobs,
    job_manifest,
    os_error_text,
)

PROG = "alignment-sim-collect"
TABLES = ("runs", "ticks")


class CollectError(Exception):
    """Bad input to ``alignment-sim-collect``; the command prints it as one line."""


def job_parameters(folder: Path) -> dict[str, str]:
    """The parameters a finished job's manifest records, as text."""
    raw = job_manifest(folder).get("parameters") or {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


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


def _plan(root: Path, jobs: list[Path], name: str) -> tuple[pa.Schema, list[str]]:
    """The output schema (the tables' columns, then job parameters, then ``job``)."""
    schemas = [(path, _schema_of(path)) for folder in jobs for path in _sources(folder, name)]
    if not schemas:
        raise CollectError(f"no {name} table in the finished jobs under {root}.")
    data = _unified(schemas)
    keys = sorted({k for folder in jobs for k in job_parameters(folder)} - set(data.names))
    if "job" in data.names:
        raise CollectError(f"the {name} tables already have a column 'job'.")
    extra = [pa.field(k, pa.string()) for k in keys] + [pa.field("job", pa.string())]
    return pa.schema([*data, *extra]), keys


def _conformed(table: pa.Table, schema: pa.Schema, constants: dict[str, str | None]) -> pa.Table:
    """``table`` with the columns of ``schema``: its own (cast), the job's constants, and
    nulls for the columns it lacks (an option of another world)."""
    columns = []
    for column in schema:
        if column.name in table.column_names:
            columns.append(table.column(column.name).cast(column.type))
        elif column.name in constants:
            columns.append(pa.array([constants[column.name]] * len(table), type=column.type))
        else:
            columns.append(pa.nulls(len(table), type=column.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _write(root: Path, jobs: list[Path], name: str, handle: Any) -> int:
    schema, keys = _plan(root, jobs, name)
    rows = 0
    with pq.ParquetWriter(handle, schema) as writer:
        for folder in jobs:
            parameters = job_parameters(folder)
            constants: dict[str, str | None] = {k: parameters.get(k) for k in keys}
            constants["job"] = str(folder.relative_to(root)) if folder != root else folder.name
            for path in _sources(folder, name):
                try:
                    for table in run_tables(path):
                        writer.write_table(_conformed(table, schema, constants))
                        rows += len(table)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                    raise CollectError(f"{path} cannot be read ({_short(exc)}).") from None
    return rows


def _check_out(out: Path, jobs: list[Path]) -> None:
    if out.is_dir():
        raise CollectError(f"--out {out} is a folder; pass the name of a Parquet file to write.")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CollectError(f"--out {out}: {parent} is a file, not a folder.")
            break
    inputs = {p.resolve() for folder in jobs for n in TABLES for p in _sources(folder, n)}
    if out.resolve() in inputs:
        raise CollectError(f"--out {out} is one of the tables being collected.")


def collect(
    root: Path,
    out: Path,
    ticks: Path | None = None,
    skip_corrupt: bool = False,
) -> dict[str, Any]:
    """Stream every finished job's runs (and, with ``ticks``, per-tick rows) into ``out``.

    Both files appear together or not at all. Raises ``CollectError`` for bad input: no
    finished job, a corrupt job (unless ``skip_corrupt``), study jobs and designs under one
    root, or an ``out`` that cannot be a file. Returns counts and the jobs left out.
    """
    found = find_jobs(root)
    corrupt = [(f, s) for f, s in found.left_out if s.state == "corrupt"]
    if corrupt and not skip_corrupt:
        folder, status = corrupt[0]
        more = f" (and {len(corrupt) - 1} more)" if len(corrupt) > 1 else ""
        raise CollectError(
            f"{folder} looks finished but {status.reason}{more}; re-run it, remove it, or "
            "pass --skip-corrupt to leave it out."
        )
    for folder in [f for f in found.done if not _sources(f, "runs")]:
        found.done.remove(folder)
        found.left_out.append((folder, JobStatus("complete", "a single run: no runs table")))
    if not found.done:
        raise CollectError(
            f"no finished study under {root} (no folder with a readable manifest.json and "
            "a runs table)."
        )
    designs = [f for f in found.done if _is_design(f)]
    if designs and len(designs) < len(found.done):
        study = next(f for f in found.done if not _is_design(f))
        raise CollectError(
            f"{root} holds both design studies (e.g. {designs[0]}) and study jobs (e.g. "
            f"{study}); their rows mean different things: collect each folder on its own."
        )
    targets = [(out, "runs")] + ([(ticks, "ticks")] if ticks is not None else [])
    for path, _ in targets:
        _check_out(path, found.done)
    if ticks is not None and ticks.resolve() == out.resolve():
        raise CollectError(f"--ticks {ticks} is the same file as --out.")
    rows: dict[str, int] = {}
    with ExitStack() as stack:
        for path, name in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(atomic_write(path))
            rows[name] = _write(root, found.done, name, handle)
    return {
        "jobs": len(found.done),
        "rows": rows["runs"],
        "tick_rows": rows.get("ticks", 0),
        "failed": [str(f) for f in found.with_state("failed")],
        "left_out": found.left_out,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("folder", type=Path, help="a sweep, design or run folder")
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
        "--skip-corrupt",
        action="store_true",
        help="leave out (and list) jobs whose manifest or tables cannot be read",
    )
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(
            f"{PROG}: folder = {str(args.folder)!r}: expected an existing sweep or design folder.",
            file=sys.stderr,
        )
        sys.exit(2)
    out = args.out or args.folder / "collected_runs.parquet"
    try:
        counts = collect(args.folder, out, args.ticks, args.skip_corrupt)
    except CollectError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        print(f"{PROG}: {os_error_text(exc)} (nothing was written).", file=sys.stderr)
        sys.exit(1)
    print(f"{PROG}: {counts['rows']} runs from {counts['jobs']} jobs -> {out}")
    if args.ticks is not None:
        print(f"{PROG}: {counts['tick_rows']} tick rows -> {args.ticks}")
    for folder, status in counts["left_out"]:
        print(f"  not collected: {folder} ({status.state}: {status.reason})")


if __name__ == "__main__":
    main()
