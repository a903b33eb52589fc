"""Writing a run's outputs atomically, and its readable summary.

Files land under a temporary name and are renamed into place; ``manifest.json`` is
written last, so a folder without it is an unfinished run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.model.params import SimulationConfig
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.outputs.provenance import manifest

RUN_FILES = ("trajectory.parquet", "blocs.parquet", "summary.json", "manifest.json")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())


def write_parquet(path: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Parquet with the run's manifest in the schema metadata (key ``alignment_sim``)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[b"alignment_sim"] = json.dumps(meta, default=str).encode()
    table = table.replace_schema_metadata(schema_meta)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def read_manifest(parquet_path: str | Path) -> dict[str, Any]:
    """The manifest embedded in a Parquet file this package wrote."""
    meta = pq.read_schema(parquet_path).metadata or {}
    return dict(json.loads(meta[b"alignment_sim"]))


def write_run(
    trajectory: Trajectory,
    config: SimulationConfig,
    out_dir: str | Path,
    run: int = 0,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one run's files into ``out_dir``; returns the folder."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    seed = int(trajectory.seeds[run])
    meta = manifest(config, seed, extra)
    write_parquet(folder / "trajectory.parquet", trajectory.trajectory_frame(run), meta)
    write_parquet(folder / "blocs.parquet", trajectory.blocs_frame(run), meta)
    write_json(folder / "summary.json", trajectory.summary(run))
    if plots:
        from alignment_sim.outputs.plots import plot_run

        plot_run(
            trajectory,
            run,
            folder / "trajectory.png",
            title=f"{config.region.name} / {config.scenario.name} / seed {seed}",
        )
    write_json(folder / "manifest.json", meta)
    return folder


def summary_text(trajectory: Trajectory, folder: Path | None = None, run: int = 0) -> str:
    """A short readable account: where each state ended, who switched and when."""
    world = trajectory.world
    summary = trajectory.summary(run)
    lines = [
        f"alignment-sim: {world.region}, {summary['start_year']} to "
        f"{summary['end_year']:.2f} ({trajectory.ticks} ticks of {world.tick_months} "
        f"months), seed {summary['seed']}"
    ]
    shares = ", ".join(f"{o} {v:.0%}" for o, v in summary["final_shares"].items())
    lines.append(f"Final shares: {shares}")
    lines.append("Where each state ended:")
    for state, option in summary["final_alignment"].items():
        start = summary["initial_alignment"][state]
        moved = "" if start == option else f"   (from {start})"
        lines.append(f"  {state:<14}{option}{moved}")
    if summary["switches"]:
        lines.append(f"Switches ({summary['n_switches']}):")
        for s in summary["switches"]:
            lines.append(
                f"  tick {s['tick']:>3} ({s['year']:.2f})  {s['state']}: {s['from']} -> {s['to']}"
            )
    else:
        lines.append("No state switched.")
    lines.append(f"Stable since tick {summary['time_to_stability']}.")
    for event in summary["events"]:
        lines.append(f"Event: {event['event']} from tick {event['first_active_tick']}")
    if folder is not None:
        lines.append(f"Files: {folder}")
    return "\n".join(lines)
