"""Finding finished run and study folders, reading what the report needs, grouping them.

Each folder is read on its own and reduced at once, reading only the columns needed:
per-tick sums of every share (record labels and each dimension's options, read in
batches), counts of each state's final label and profile, one row of outcomes per run
and, for the term drivers, one row of term means per run (on the profiles). Study jobs
and single runs end up in the same shapes, so single runs with the same label are simply
replicates of one scenario. A folder's profiles, labels and states are those of the
region its manifest records (``option_space``).
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

from alignment_sim.model.alignment import OptionSpace
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERMS
from alignment_sim.outputs.files import find_jobs, job_manifest
from alignment_sim.studies import outcomes
from alignment_sim.studies.replications import DRAWS_FILE, DRAWS_KEY

COUNT_METRICS = outcomes.OUTCOME_COUNTS
NOT_LABEL_KEYS = ("seed", "replications")
"""Parameters that choose which replicates run, not what is simulated: never in a label."""
BATCH_ROWS = 1 << 18
SHARE_PREFIXES = ("final_share_", "mean_share_")
MODEL_2_COLUMN = "label_switches"
"""An outcome only runs with profiles (two dimensions) have: older folders lack it."""
STATUS_NOTES = {"corrupt": "skipped"}
"""How the report lists a job ``job_status`` finds corrupt; other states keep their name."""
OLDER_VERSION = (
    "made by an older version of alignment-sim (one alignment per state, before security "
    "and economic profiles): re-run it to compare it"
)


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
    space: OptionSpace
    states: list[str]
    runs: pd.DataFrame
    """seed and one numeric column per outcome metric, one row per run."""
    finals: pd.DataFrame
    """state, option, count: how many runs ended with the state's profile labelled option."""
    profile_finals: pd.DataFrame
    """state, option, count: how many runs ended with the state in the profile option."""
    ticks: pd.DataFrame
    """tick, kind, option, n, sum, sumsq, year_sum: sums of each share over runs (kind:
    label, security or economy, ``outcomes.share_kinds``)."""
    terms: pd.DataFrame | None
    """Index seed, columns (state, option, term): each term's mean over the run on each
    profile (``option``)."""
    draws: pd.Series | None = None
    """Index seed: the parameter draw each run took (``estimation.sample_parameters``), a
    key naming the fitted set, the draws' seed and the draw; None when runs take none."""

    @property
    def sampling(self) -> tuple[str, str] | None:
        """The fitted set (name, digest) the runs draw their parameters from, or None."""
        info = self.manifest.get(DRAWS_KEY)
        return (str(info["fit"]), str(info["digest"])) if isinstance(info, dict) else None

    @property
    def n_draws(self) -> int:
        info = self.manifest.get(DRAWS_KEY)
        return int(info["draws"]) if isinstance(info, dict) else 0

    @property
    def options(self) -> list[str]:
        """The record labels (the vocabulary of the shares and final alignments)."""
        return list(self.space.labels)

    @property
    def profiles(self) -> list[str]:
        return list(self.space.profiles)

    @property
    def shares(self) -> list[tuple[str, str]]:
        return shares_of(self.space)

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
        """The record labels of its folders."""
        return ordered_union(u.options for u in self.units)

    @property
    def profiles(self) -> list[str]:
        return ordered_union(u.profiles for u in self.units)

    @property
    def shares(self) -> list[tuple[str, str]]:
        return ordered_union(u.shares for u in self.units)

    @property
    def states(self) -> list[str]:
        return ordered_union(u.states for u in self.units)

    @cached_property
    def runs(self) -> pd.DataFrame:
        return pd.concat([u.runs for u in self.units], ignore_index=True)

    @cached_property
    def finals(self) -> pd.DataFrame:
        return _pooled_counts([u.finals for u in self.units])

    @cached_property
    def profile_finals(self) -> pd.DataFrame:
        return _pooled_counts([u.profile_finals for u in self.units])

    @cached_property
    def ticks(self) -> pd.DataFrame:
        frame = pd.concat([u.ticks for u in self.units], ignore_index=True)
        return frame.groupby(["tick", "kind", "option"], sort=False, as_index=False).sum()

    @cached_property
    def draws(self) -> pd.Series | None:
        """Each run's parameter draw by seed (a run of a folder without draws is its own),
        or None when no run took one."""
        if all(u.draws is None for u in self.units):
            return None
        parts = [
            u.draws
            if u.draws is not None
            else pd.Series([f"run:{seed}" for seed in u.runs["seed"]], index=u.runs["seed"])
            for u in self.units
        ]
        return pd.concat(parts)

    @cached_property
    def terms(self) -> pd.DataFrame | None:
        """Term means of every run, or None when some folder has no term table."""
        parts = [u.terms for u in self.units]
        if not parts or any(p is None for p in parts):
            return None
        return pd.concat([p for p in parts if p is not None])


def shares_of(space: OptionSpace) -> list[tuple[str, str]]:
    """Every share measured in runs of ``space``: (kind, option), ``outcomes.share_kinds``."""
    return [(kind, o) for kind, options in outcomes.share_kinds(space) for o in options]


def _pooled_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(["state", "option"], sort=False)["count"].sum().reset_index()


def ordered_union(lists: Any) -> list[Any]:
    """The distinct items of several lists, in the order they first appear."""
    out: dict[Any, None] = {}
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


def option_space(manifest: dict[str, Any]) -> tuple[OptionSpace, list[str]]:
    """The profiles and states of the region a folder's manifest records (its poles'
    names and ``security`` flags, its states' names); ``UnitError`` when it records none."""
    config = manifest.get("config")
    region = config.get("region") if isinstance(config, dict) else None
    poles = region.get("poles") if isinstance(region, dict) else None
    states = region.get("states") if isinstance(region, dict) else None
    if not (isinstance(poles, list) and poles and isinstance(states, list) and states):
        raise UnitError("its manifest records no region (config.region.poles and states)")
    try:
        space = OptionSpace(
            tuple(str(p["name"]) for p in poles), tuple(bool(p["security"]) for p in poles)
        )
        names = [str(s["name"]) for s in states]
    except (KeyError, TypeError):
        raise UnitError(OLDER_VERSION) from None
    return space, names


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


def _tick_sums(frame: pd.DataFrame, shares: list[tuple[str, str]]) -> pd.DataFrame:
    """Per tick and share (kind, option): number of runs, sum and sum of squares of the
    share, sum of the tick's year."""
    by_tick = frame.groupby("tick", sort=True)
    n = by_tick.size()
    year_sum = by_tick["year"].sum()
    parts = []
    for kind, option in shares:
        share = frame[f"share_{outcomes.share_name(kind, option)}"].astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "tick": n.index.to_numpy(),
                    "kind": kind,
                    "option": option,
                    "n": n.to_numpy(),
                    "sum": share.groupby(frame["tick"]).sum().to_numpy(),
                    "sumsq": (share**2).groupby(frame["tick"]).sum().to_numpy(),
                    "year_sum": year_sum.to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _finals(runs: pd.DataFrame, states: list[str], prefix: str) -> pd.DataFrame:
    columns = {f"{prefix}{state}": state for state in states}
    return _final_counts(runs[list(columns)].rename(columns=columns))


def _load_study(folder: Path, manifest: dict[str, Any]) -> Unit:
    if not (folder / "ticks.parquet").is_file():
        raise UnitError("runs.parquet but no ticks.parquet")
    space, states = option_space(manifest)
    schema = pq.read_schema(folder / "runs.parquet")
    names = list(schema.names)
    if MODEL_2_COLUMN not in names:
        raise UnitError(OLDER_VERSION)
    metrics = [
        c
        for c in names
        if (c in COUNT_METRICS or c.startswith(SHARE_PREFIXES))
        and _is_numeric(schema.field(c).type)
    ]
    finals = [f"final_{s}" for s in states] + [f"final_label_{s}" for s in states]
    missing = [c for c in ["seed", *finals] if c not in names]
    if missing:
        raise UnitError(f"runs.parquet lacks the columns {', '.join(missing[:3])}")
    runs = pq.read_table(folder / "runs.parquet", columns=["seed", *metrics, *finals]).to_pandas()
    runs["seed"] = runs["seed"].astype(np.int64)
    shares = shares_of(space)
    tick_parts = []
    ticks_file = pq.ParquetFile(folder / "ticks.parquet")
    columns = ["tick", "year", *(f"share_{outcomes.share_name(*s)}" for s in shares)]
    for batch in ticks_file.iter_batches(columns=columns, batch_size=BATCH_ROWS):
        tick_parts.append(_tick_sums(batch.to_pandas(), shares))
    ticks = pd.concat(tick_parts, ignore_index=True)
    draws = _study_draws(folder, manifest, runs["seed"].to_numpy())
    terms = None
    if (folder / "terms.parquet").is_file():
        seeds = runs["seed"].to_numpy()
        terms = _study_terms(folder / "terms.parquet", seeds, states, list(space.profiles))
    return Unit(
        path=folder,
        kind="study",
        manifest=manifest,
        space=space,
        states=states,
        runs=runs[["seed", *metrics]],
        finals=_finals(runs, states, "final_label_"),
        profile_finals=_finals(runs, states, "final_"),
        ticks=ticks.groupby(["tick", "kind", "option"], sort=False, as_index=False).sum(),
        terms=terms,
        draws=draws,
    )


def _study_draws(folder: Path, manifest: dict[str, Any], seeds: np.ndarray) -> pd.Series | None:
    """Each run's parameter draw (``draws.parquet``) as a key of the fitted set's digest,
    the draws' seed and the draw's index; None for a job whose runs take no draws."""
    info = manifest.get(DRAWS_KEY)
    if not isinstance(info, dict):
        return None
    if not (folder / DRAWS_FILE).is_file():
        raise UnitError(f"its manifest records {DRAWS_KEY} but it has no {DRAWS_FILE}")
    table = pq.read_table(folder / DRAWS_FILE, columns=["seed", "draw"]).to_pandas()
    by_seed = table.set_index("seed")["draw"].reindex(seeds)
    if by_seed.isna().any():
        raise UnitError(f"{DRAWS_FILE} lacks runs of runs.parquet")
    prefix = f"{info.get('digest')}:{info.get('seed')}:"
    return pd.Series([f"{prefix}{int(d)}" for d in by_seed], index=pd.Index(seeds, name="seed"))


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
    """The term table as a runs x (state, profile, term) matrix, filled batch by batch."""
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


def trajectory_term_columns(space: OptionSpace) -> dict[str, list[tuple[str, list[str]]]]:
    """Each term's columns in ``trajectory.parquet``: term -> [(dimension, the columns
    ``<term>_<dimension>_<option>`` of each of that dimension's options)], for the terms
    of ``kernels.TERMS`` (a term of both dimensions has two parts)."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for term in TERMS:
        for dimension, names in (("security", SECURITY_TERMS), ("economy", ECONOMIC_TERMS)):
            if term in names:
                options = outcomes.dimension_options(space, dimension)
                columns = [f"{term}_{dimension}_{o}" for o in options]
                out.setdefault(term, []).append((dimension, columns))
    return out


def _single_terms(
    frame: pd.DataFrame, space: OptionSpace, states: list[str], seed: int, terms: list[str]
) -> pd.DataFrame:
    """A run's mean of each term over ticks 1..T on each profile, as one row (seed) of
    (state, profile, term) columns: a profile (s, e) gets the term's security mean at s
    plus its economic mean at e."""
    parts = trajectory_term_columns(space)
    columns = [c for term in terms for _, names in parts[term] for c in names]
    means = frame[frame["tick"] > 0].groupby("state", sort=False)[columns].mean()
    means = means.reindex(index=states)
    values = np.zeros((len(states), len(space.profiles), len(terms)))
    for m, term in enumerate(terms):
        for dimension, names in parts[term]:
            of_profile = outcomes.dimension_codes(np.arange(len(space.profiles)), space, dimension)
            values[:, :, m] += means[names].to_numpy(dtype=np.float64)[:, of_profile]
    return pd.DataFrame(
        [values.astype(np.float32).reshape(-1)],
        index=pd.Index([seed], name="seed"),
        columns=pd.MultiIndex.from_product(
            [states, list(space.profiles), terms], names=["state", "option", "term"]
        ),
    )


def _load_single(folder: Path, manifest: dict[str, Any]) -> Unit:
    """A single run's folder in the shapes of a study job, its outcomes measured by
    ``alignment_sim.studies.outcomes`` from the states' profiles in ``trajectory.parquet``."""
    path = folder / "trajectory.parquet"
    names = set(pq.read_schema(path).names)
    if "label" not in names:
        raise UnitError(OLDER_VERSION)
    space, _ = option_space(manifest)
    parts = trajectory_term_columns(space)
    terms = [t for t in TERMS if all(set(c) <= names for _, c in parts[t])]
    term_columns = [c for t in terms for _, columns in parts[t] for c in columns]
    base = ["seed", "tick", "year", "state", "alignment"]
    frame = pq.read_table(path, columns=[*base, *term_columns]).to_pandas()
    frame["state"] = frame["state"].astype(str)
    frame["alignment"] = frame["alignment"].astype(str)
    seed = int(manifest.get("seed", frame["seed"].iloc[0]))
    alignment, states = outcomes.alignment_from_labels(
        frame["tick"].to_numpy(),
        frame["state"].to_numpy(),
        frame["alignment"].to_numpy(),
        space.profiles,
    )
    measured = outcomes.run_outcomes(alignment, space, states)
    runs = pd.DataFrame({"seed": np.array([seed], dtype=np.int64), **measured})
    metrics = [c for c in runs.columns if c in COUNT_METRICS or c.startswith(SHARE_PREFIXES)]
    per_tick = pd.DataFrame(
        {f"share_{name}": s[0] for name, s in outcomes.share_series(alignment, space).items()}
    )
    per_tick.insert(0, "tick", np.arange(len(per_tick)))
    per_tick.insert(1, "year", frame.groupby("tick", sort=True)["year"].first().to_numpy())
    return Unit(
        path=folder,
        kind="single",
        manifest=manifest,
        space=space,
        states=states,
        runs=runs[["seed", *metrics]],
        finals=_finals(runs, states, "final_label_"),
        profile_finals=_finals(runs, states, "final_"),
        ticks=_tick_sums(per_tick, shares_of(space)),
        terms=_single_terms(frame, space, states, seed, terms) if terms else None,
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
