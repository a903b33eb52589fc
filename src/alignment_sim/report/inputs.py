"""Finding finished run and study folders, reading what the report needs, grouping them.

Each folder is read on its own and reduced at once, reading only the columns needed:
per-tick sums of the option shares (read in batches), counts of each state's final option,
one row of outcomes per run and, for the term drivers, one row of term means per run.
Study jobs and single runs end up in the same shapes, so single runs with the same label
are simply replicates of one scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alignment_sim.model.kernels import TERMS
from alignment_sim.outputs.files import find_jobs, job_manifest
from alignment_sim.studies import outcomes

COUNT_METRICS = outcomes.OUTCOME_COUNTS
NOT_LABEL_KEYS = ("seed", "replications")
"""Parameters that choose which replicates run, not what is simulated: never in a label."""
BATCH_ROWS = 1 << 18
_SHARE_PREFIXES = ("final_share_", "mean_share_")
TRAJECTORY_BASE = {"seed", "tick", "year", "state", "alignment", "lean", "hedging", "switched"}
STATUS_NOTES = {"corrupt": "skipped"}
"""How the report lists a job ``job_status`` finds corrupt; other states keep their name."""


class CompareError(Exception):
    """Bad input to the comparison; the command prints it as one paragraph."""


class UnitError(Exception):
    """A finished folder that cannot be read; it is skipped with this reason."""


@dataclass(frozen=True)
class FolderNote:
    """A folder left out of the report, and why (status: unfinished, failed or skipped)."""

    path: Path
    status: str
    reason: str


@dataclass
class Unit:
    """What the report keeps of one finished folder (a study job or a single run)."""

    path: Path
    kind: str
    manifest: dict[str, Any]
    options: list[str]
    states: list[str]
    runs: pd.DataFrame
    """seed and one numeric column per outcome metric, one row per run."""
    finals: pd.DataFrame
    """state, option, count: how many runs ended with the state in the option."""
    ticks: pd.DataFrame
    """tick, option, n, sum, sumsq, year_sum: sums of the option's share over runs."""
    terms: pd.DataFrame | None
    """Index seed, columns (state, option, term): each term's mean over the run."""

    @property
    def parameters(self) -> dict[str, str]:
        raw = self.manifest.get("parameters") or {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    @property
    def config(self) -> dict[str, Any]:
        raw = self.manifest.get("config")
        return raw if isinstance(raw, dict) else {}

    @property
    def scenario(self) -> str:
        scenario = self.config.get("scenario")
        return str(scenario.get("name", "unknown")) if isinstance(scenario, dict) else "unknown"

    @property
    def n_runs(self) -> int:
        return len(self.runs)


@dataclass
class Group:
    """All runs that share a label: one scenario of the comparison.

    The combined tables are computed on first use, once all units are in.
    """

    label: str
    units: list[Unit]

    @property
    def n_runs(self) -> int:
        return sum(u.n_runs for u in self.units)

    @property
    def options(self) -> list[str]:
        return ordered_union(u.options for u in self.units)

    @property
    def states(self) -> list[str]:
        return ordered_union(u.states for u in self.units)

    @cached_property
    def runs(self) -> pd.DataFrame:
        return pd.concat([u.runs for u in self.units], ignore_index=True)

    @cached_property
    def finals(self) -> pd.DataFrame:
        frame = pd.concat([u.finals for u in self.units], ignore_index=True)
        return frame.groupby(["state", "option"], sort=False)["count"].sum().reset_index()

    @cached_property
    def ticks(self) -> pd.DataFrame:
        frame = pd.concat([u.ticks for u in self.units], ignore_index=True)
        return frame.groupby(["tick", "option"], sort=True, as_index=False).sum()

    @cached_property
    def terms(self) -> pd.DataFrame | None:
        """Term means of every run, or None when some folder has no term table."""
        parts = [u.terms for u in self.units]
        if not parts or any(p is None for p in parts):
            return None
        return pd.concat([p for p in parts if p is not None])


def ordered_union(lists: Any) -> list[str]:
    """The distinct items of several lists, in the order they first appear."""
    out: dict[str, None] = {}
    for items in lists:
        out.update(dict.fromkeys(items))
    return list(out)


def find_folders(root: Path) -> tuple[list[Path], list[FolderNote]]:
    """Finished folders (``job_status`` complete) at or below ``root``, and notes on the
    unfinished, failed and corrupt ones found on the way (``files.find_jobs``)."""
    jobs = find_jobs(root, started=True)
    notes = [
        FolderNote(folder, STATUS_NOTES.get(status.state, status.state), status.reason)
        for folder, status in jobs.left_out
    ]
    return jobs.done, notes


def load_unit(folder: Path) -> Unit:
    """Read one finished folder; raises ``UnitError`` when it cannot be used."""
    try:
        manifest = job_manifest(folder)
    except ValueError as exc:
        raise UnitError(str(exc)) from None
    try:
        if (folder / "runs.parquet").is_file():
            return _load_study(folder, manifest)
        if (folder / "trajectory.parquet").is_file():
            return _load_single(folder, manifest)
    except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
        raise UnitError(f"its tables cannot be read ({type(exc).__name__}: {exc})") from None
    if (folder / "design.parquet").is_file():
        raise UnitError(
            "a design study (design.parquet, runs/): its sensitivity.csv summarises it; the "
            "comparison reads study jobs and single runs"
        )
    raise UnitError("manifest.json but neither runs.parquet nor trajectory.parquet")


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _final_counts(finals: pd.DataFrame) -> pd.DataFrame:
    """Counts of each (state, option) in a frame with one column per state."""
    parts = []
    for state in finals.columns:
        counts = finals[state].astype(str).value_counts(sort=False)
        parts.append(
            pd.DataFrame(
                {"state": state, "option": counts.index.astype(str), "count": counts.to_numpy()}
            )
        )
    return pd.concat(parts, ignore_index=True)


def _tick_sums(frame: pd.DataFrame, options: list[str]) -> pd.DataFrame:
    """Per tick and option: number of runs, sum and sum of squares of the share."""
    by_tick = frame.groupby("tick", sort=True)
    n = by_tick.size()
    year_sum = by_tick["year"].sum()
    parts = []
    for option in options:
        share = frame[f"share_{option}"].astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "tick": n.index.to_numpy(),
                    "option": option,
                    "n": n.to_numpy(),
                    "sum": share.groupby(frame["tick"]).sum().to_numpy(),
                    "sumsq": (share**2).groupby(frame["tick"]).sum().to_numpy(),
                    "year_sum": year_sum.to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _load_study(folder: Path, manifest: dict[str, Any]) -> Unit:
    if not (folder / "ticks.parquet").is_file():
        raise UnitError("runs.parquet but no ticks.parquet")
    schema = pq.read_schema(folder / "runs.parquet")
    names = list(schema.names)
    options = [c.removeprefix("final_share_") for c in names if c.startswith("final_share_")]
    metrics = [c for c in names if c in COUNT_METRICS or c.startswith(_SHARE_PREFIXES)]
    state_columns = [
        c
        for c in names
        if c.startswith("final_") and c not in metrics and not _is_numeric(schema.field(c).type)
    ]
    if "seed" not in names or not options:
        raise UnitError("runs.parquet lacks the seed or the final_share_<option> columns")
    runs = pq.read_table(
        folder / "runs.parquet", columns=["seed", *metrics, *state_columns]
    ).to_pandas()
    runs["seed"] = runs["seed"].astype(np.int64)
    finals = runs[state_columns].rename(columns=lambda c: c.removeprefix("final_"))
    states = list(finals.columns)

    tick_parts = []
    ticks_file = pq.ParquetFile(folder / "ticks.parquet")
    columns = ["tick", "year", *(f"share_{o}" for o in options)]
    for batch in ticks_file.iter_batches(columns=columns, batch_size=BATCH_ROWS):
        tick_parts.append(_tick_sums(batch.to_pandas(), options))
    ticks = pd.concat(tick_parts, ignore_index=True)
    ticks = ticks.groupby(["tick", "option"], sort=False, as_index=False).sum()

    terms = None
    if (folder / "terms.parquet").is_file():
        terms = _study_terms(folder / "terms.parquet", runs["seed"].to_numpy(), states, options)
    return Unit(
        path=folder,
        kind="study",
        manifest=manifest,
        options=options,
        states=states,
        runs=runs[["seed", *metrics]],
        finals=_final_counts(finals),
        ticks=ticks,
        terms=terms,
    )


def _term_order(found: list[str]) -> list[str]:
    """The model's terms in their usual order, then any others the data holds."""
    return [t for t in TERMS if t in found] + [t for t in found if t not in TERMS]


def _positions(column: pa.Array, index: pd.Index) -> np.ndarray:
    """Positions of a string column's values in ``index`` (-1 if absent), looked up once per
    distinct value through the column's dictionary."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    assert isinstance(column, pa.DictionaryArray)
    lookup = index.get_indexer(pd.Index([str(v) for v in column.dictionary.to_pylist()]))
    return np.asarray(lookup[column.indices.to_numpy(zero_copy_only=False)])


def _study_terms(
    path: Path, seeds: np.ndarray, states: list[str], options: list[str]
) -> pd.DataFrame:
    """The term table as a runs x (state, option, term) matrix, filled batch by batch."""
    term_column = pq.read_table(path, columns=["term"]).column("term")
    terms = _term_order([str(t) for t in pa.chunked_array(term_column).unique().to_pylist()])
    seed_index, state_index = pd.Index(seeds), pd.Index(states)
    option_index, term_index = pd.Index(options), pd.Index(terms)
    K, M = len(options), len(terms)
    matrix = np.full((len(seeds), len(states) * K * M), np.nan, dtype=np.float32)
    columns = ["seed", "state", "option", "term", "value"]
    for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=BATCH_ROWS):
        row = seed_index.get_indexer(batch.column("seed").to_numpy())
        state = _positions(batch.column("state"), state_index)
        option = _positions(batch.column("option"), option_index)
        term = _positions(batch.column("term"), term_index)
        keep = (row >= 0) & (state >= 0) & (option >= 0) & (term >= 0)
        cell = (state * K + option) * M + term
        values = batch.column("value").to_numpy(zero_copy_only=False).astype(np.float32)
        matrix[row[keep], cell[keep]] = values[keep]
    return pd.DataFrame(
        matrix,
        index=pd.Index(seeds, name="seed"),
        columns=pd.MultiIndex.from_product(
            [states, options, terms], names=["state", "option", "term"]
        ),
    )


def _term_columns(names: list[str], options: list[str]) -> dict[str, tuple[str, str]]:
    """Trajectory columns ``<term>_<option>`` -> (term, option)."""
    out: dict[str, tuple[str, str]] = {}
    for name in names:
        if name in TRAJECTORY_BASE or name.startswith(("utility_", "offer_")):
            continue
        matches = [o for o in options if name.endswith(f"_{o}") and len(name) > len(o) + 1]
        if matches:
            option = max(matches, key=len)
            out[name] = (name[: -len(option) - 1], option)
    return out


def _load_single(folder: Path, manifest: dict[str, Any]) -> Unit:
    """A single run's folder in the shapes of a study job, its outcomes measured by
    ``alignment_sim.studies.outcomes`` from the states' options in ``trajectory.parquet``."""
    path = folder / "trajectory.parquet"
    names = list(pq.read_schema(path).names)
    options = [c.removeprefix("utility_") for c in names if c.startswith("utility_")]
    if not options:
        raise UnitError("trajectory.parquet has no utility_<option> columns")
    term_columns = _term_columns(names, options)
    base = ["seed", "tick", "year", "state", "alignment"]
    frame = pq.read_table(path, columns=[*base, *term_columns]).to_pandas()
    frame["state"] = frame["state"].astype(str)
    frame["alignment"] = frame["alignment"].astype(str)
    seed = int(manifest.get("seed", frame["seed"].iloc[0]))
    alignment, states = outcomes.alignment_from_labels(
        frame["tick"].to_numpy(), frame["state"].to_numpy(), frame["alignment"].to_numpy(), options
    )
    measured = outcomes.run_outcomes(alignment, options, states)
    runs = pd.DataFrame({"seed": np.array([seed], dtype=np.int64), **measured})
    metrics = [c for c in runs.columns if c in COUNT_METRICS or c.startswith(_SHARE_PREFIXES)]
    finals = _final_counts(
        runs[[f"final_{s}" for s in states]].rename(columns=lambda c: c.removeprefix("final_"))
    )
    years = frame.groupby("tick", sort=True)["year"].first().to_numpy()
    shares = outcomes.option_shares(alignment[0], len(options))
    per_tick = pd.DataFrame(shares, columns=[f"share_{o}" for o in options])
    per_tick.insert(0, "tick", np.arange(len(shares)))
    per_tick.insert(1, "year", years)

    terms = None
    if term_columns:
        means = frame[frame["tick"] > 0].groupby("state", sort=False)[list(term_columns)].mean()
        found = _term_order(list(dict.fromkeys(t for t, _ in term_columns.values())))
        columns = pd.MultiIndex.from_product(
            [states, options, found], names=["state", "option", "term"]
        )
        lookup = {(t, o): c for c, (t, o) in term_columns.items()}
        ordered = [lookup.get((t, o), "") for o in options for t in found]
        values = means.reindex(index=states, columns=ordered).to_numpy(dtype=np.float32)
        terms = pd.DataFrame(
            [values.reshape(-1)],
            index=pd.Index([seed], name="seed"),
            columns=columns,
        )
    return Unit(
        path=folder,
        kind="single",
        manifest=manifest,
        options=options,
        states=states,
        runs=runs[["seed", *metrics]],
        finals=finals,
        ticks=_tick_sums(per_tick, options),
        terms=terms,
    )


def collect(inputs: list[Path], skip_corrupt: bool = False) -> tuple[list[Unit], list[FolderNote]]:
    """Every usable folder below the inputs, and notes on the ones left out.

    Raises ``CompareError`` for a missing input, an input without a finished run, or a
    finished folder whose files are damaged (unless ``skip_corrupt``: then it is left out
    and listed), so a damaged study never shrinks a comparison silently.
    """
    if not inputs:
        raise CompareError(
            "no input folder given. Pass one or more run, study or sweep folders, e.g. "
            "alignment-sim-compare results/sweeps/<study> (folders are searched recursively "
            "for finished runs, those with a manifest.json)."
        )
    read: dict[Path, Unit | FolderNote] = {}
    for root in inputs:
        if not root.exists():
            raise CompareError(f"input folder {root} does not exist.")
        if not root.is_dir():
            raise CompareError(
                f"input {root} is a file; pass the folder that holds runs or study jobs."
            )
        finished, found = find_folders(root)
        for folder in finished:
            key = folder.resolve()
            if key not in read:
                try:
                    read[key] = load_unit(folder)
                except UnitError as exc:
                    read[key] = FolderNote(folder, "skipped", str(exc))
        for note in found:
            read.setdefault(note.path.resolve(), note)
        if not any(isinstance(read[f.resolve()], Unit) for f in finished):
            left_out = [read[f.resolve()] for f in finished] + found
            detail = "; ".join(
                f"{n.path} ({n.status}: {n.reason})"
                for n in left_out[:5]
                if isinstance(n, FolderNote)
            )
            raise CompareError(
                f"{root} holds no finished run or study job (a folder with manifest.json and "
                f"its tables)." + (f" Found: {detail}." if detail else " It holds no run folder.")
            )
    units = [item for item in read.values() if isinstance(item, Unit)]
    notes = [item for item in read.values() if isinstance(item, FolderNote)]
    damaged = [n for n in notes if n.status == "skipped"]
    if damaged and not skip_corrupt:
        detail = "; ".join(f"{n.path} ({n.reason})" for n in damaged[:5])
        raise CompareError(
            f"{len(damaged)} finished folder(s) cannot be read: {detail}. Re-run them (the "
            "same command resumes), or pass --skip-corrupt to leave them out."
        )
    return units, notes


def _config_value(config: dict[str, Any], key: str) -> str | None:
    """The value of a dotted override key in a resolved config (a preset by its name)."""
    node: Any = config
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    if isinstance(node, dict):
        return str(node["name"]) if "name" in node else None
    return str(node)


def label_units(units: list[Unit]) -> list[str]:
    """A label per unit: the parameters that differ between inputs, else the scenario name.

    A parameter a unit lacks is read from its config. ``seed`` and ``replications`` choose
    replicates, so they never make a label. When parameters vary but leave scenarios with
    different names under one label, the scenario joins the label.
    """
    keys = ordered_union(
        [k for k in u.parameters if k not in NOT_LABEL_KEYS and not k.startswith("hydra.")]
        for u in units
    )

    def value(unit: Unit, key: str) -> str | None:
        params = unit.parameters
        return params[key] if key in params else _config_value(unit.config, key)

    varying = [k for k in keys if len({value(u, k) for u in units}) > 1]
    if not varying:
        return [u.scenario for u in units]
    if "scenario" not in varying and len({u.scenario for u in units}) > 1:
        varying.insert(0, "scenario")
    return [",".join(f"{k}={value(u, k)}" for k in varying) for u in units]


def group_units(units: list[Unit]) -> tuple[dict[str, Group], list[FolderNote]]:
    """Units by label, in the order the labels first appear, and notes on the units left
    out as duplicates: a unit whose seeds another unit of its label already has (a study
    run twice, a run copied) is never pooled with it, so no run counts twice. The first
    unit in folder order is kept."""
    groups: dict[str, Group] = {}
    notes: list[FolderNote] = []
    seen: dict[str, dict[int, Path]] = {}
    for unit, label in zip(units, label_units(units), strict=True):
        owners = seen.setdefault(label, {})
        seeds = [int(seed) for seed in unit.runs["seed"]]
        repeated = [seed for seed in seeds if seed in owners]
        if len(set(seeds)) < len(seeds):
            reason = f"{label}: a seed appears twice in this folder"
        elif repeated:
            reason = (
                f"{label}: {len(repeated)} of its seeds (e.g. {repeated[0]}) are already read "
                f"from {owners[repeated[0]]}; the same runs are never counted twice"
            )
        else:
            reason = ""
        if reason:
            notes.append(FolderNote(unit.path, "duplicate", reason))
            continue
        owners.update(dict.fromkeys(seeds, unit.path))
        groups.setdefault(label, Group(label, [])).units.append(unit)
    return groups, notes
