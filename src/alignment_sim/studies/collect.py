"""``alignment-sim-collect``: one tidy Parquet dataset from a sweep or design folder.

One row per run with every parameter and outcome as columns, streamed job by job (and
part by part) into a ``pyarrow.parquet.ParquetWriter``, so the whole study is never in
memory. The per-tick data stay per job (``ticks.parquet``); ``--ticks`` streams them
into a second file too. The result is plain Parquet, so DuckDB, pandas or polars read
it directly, e.g. ``duckdb -c "select scenario, avg(switches) from 'runs.parquet'
group by 1"``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def finished_jobs(root: Path) -> tuple[list[Path], list[Path]]:
    """Folders below ``root`` holding finished studies (manifest.json), and failed ones."""
    done, failed = [], []
    for manifest in sorted(root.rglob("manifest.json")):
        folder = manifest.parent
        if (folder / "runs.parquet").is_file() or (folder / "runs").is_dir():
            done.append(folder)
    for error in sorted(root.rglob("error.json")):
        if not (error.parent / "manifest.json").is_file():
            failed.append(error.parent)
    return done, failed


def job_parameters(folder: Path) -> dict[str, str]:
    meta = json.loads((folder / "manifest.json").read_text())
    return {k: str(v) for k, v in (meta.get("parameters") or {}).items()}


def run_tables(folder: Path, name: str) -> Iterator[pa.Table]:
    """The job's table ``name`` (runs or ticks), one Parquet file or part at a time."""
    single = folder / f"{name}.parquet"
    if single.is_file():
        for batch in pq.ParquetFile(single).iter_batches(batch_size=65_536):
            yield pa.Table.from_batches([batch])
        return
    for part in sorted((folder / name).glob("part-*.parquet")):
        yield pq.read_table(part)


def _with_job_columns(
    table: pa.Table, job: str, parameters: dict[str, str], keys: list[str]
) -> pa.Table:
    table = table.replace_schema_metadata(None)
    for key in keys:
        if key in table.column_names:
            continue
        table = table.append_column(
            key, pa.array([parameters.get(key)] * len(table), type=pa.string())
        )
    return table.append_column("job", pa.array([job] * len(table), type=pa.string()))


def collect(root: Path, out: Path, name: str = "runs") -> dict[str, Any]:
    """Stream every finished job's ``name`` table into ``out``; returns counts."""
    done, failed = finished_jobs(root)
    if not done:
        raise FileNotFoundError(
            f"no finished study under {root} (no folder with manifest.json and runs)"
        )
    keys = sorted({k for folder in done for k in job_parameters(folder)})
    tmp = out.with_name(f".{out.name}.tmp")
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for folder in done:
            parameters = job_parameters(folder)
            job = str(folder.relative_to(root)) if folder != root else folder.name
            for table in run_tables(folder, name):
                table = _with_job_columns(table, job, parameters, keys)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                else:
                    table = table.select(writer.schema.names).cast(writer.schema)
                writer.write_table(table)
                rows += len(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)
    return {"jobs": len(done), "failed": [str(f) for f in failed], "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="alignment-sim-collect", description=__doc__)
    parser.add_argument("folder", type=Path, help="a sweep, design or run folder")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output Parquet file (default: <folder>/runs.parquet)",
    )
    parser.add_argument(
        "--ticks", type=Path, default=None, help="also stream per-tick rows into this Parquet file"
    )
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(
            f"alignment-sim-collect: folder = {str(args.folder)!r}: expected an existing "
            "sweep or design folder.",
            file=sys.stderr,
        )
        sys.exit(2)
    out = args.out or args.folder / "collected_runs.parquet"
    try:
        counts = collect(args.folder, out)
        if args.ticks is not None:
            collect(args.folder, args.ticks, name="ticks")
    except FileNotFoundError as exc:
        print(f"alignment-sim-collect: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"alignment-sim-collect: {counts['rows']} runs from {counts['jobs']} jobs -> {out}")
    for failed in counts["failed"]:
        print(f"  failed job (not collected): {failed}")


if __name__ == "__main__":
    main()
