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

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alignment_sim.model.alignment import Labelling, OptionSpace
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERMS
from alignment_sim.outputs.files import counted, find_jobs, job_manifest
from alignment_sim.studies import outcomes
from alignment_sim.studies.replications import (
    DRAWS_FILE,
    DRAWS_KEY,
    REPLICATE_KEYS,
    repeats,
    run_sections,
    runs_digest,
)

COUNT_METRICS = outcomes.OUTCOME_COUNTS
NOT_LABEL_KEYS = REPLICATE_KEYS
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


class NotRunsError(UnitError):
    """A finished, whole output of another kind (a pattern table, a landscape, a design, a
    fit ...): left out of a comparison and listed, not counted as damaged."""


NOT_RUNS = "not runs"
"""How the report lists a finished output that holds no runs (``NotRunsError``)."""


@dataclass(frozen=True)
class FolderNote:
    """A folder left out of the report, and why (status: unfinished, failed, skipped or
    ``NOT_RUNS``)."""

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
    levels: pd.DataFrame
    """tick, kind, option, level, count: how many runs had ``level`` of the states in that
    share at that tick (a share is a whole number of states over the region's states),
    for the envelopes of shares over runs."""
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

    @cached_property
    def runs_digest(self) -> str:
        """What each run computes (``replications.runs_digest``): two units of one digest
        give the same run for the same seed."""
        return runs_digest(self.config)

    @property
    def scenario(self) -> str:
        scenario = self.config.get("scenario")
        return str(scenario.get("name", "unknown")) if isinstance(scenario, dict) else "unknown"

    @property
    def description(self) -> str:
        scenario = self.config.get("scenario")
        return str(scenario.get("description") or "") if isinstance(scenario, dict) else ""

    @property
    def events(self) -> list[dict[str, Any]]:
        """The scenario's events as the manifest records them (``EventSpec`` fields)."""
        scenario = self.config.get("scenario")
        found = scenario.get("events") if isinstance(scenario, dict) else None
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

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
    def levels(self) -> pd.DataFrame:
        frame = pd.concat([u.levels for u in self.units], ignore_index=True)
        keys = ["tick", "kind", "option", "level"]
        return frame.groupby(keys, sort=False)["count"].sum().reset_index()

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
        raise NotRunsError(
            "a design study (design.parquet, runs/): its sensitivity.csv summarises it; the "
            "comparison reads study jobs and single runs"
        )
    listed = manifest.get("files")
    if isinstance(listed, dict) and listed:
        kind = manifest.get("study") or manifest.get("task") or "another command's"
        names = ", ".join(sorted(str(name) for name in listed)[:4])
        raise NotRunsError(
            f"a finished {kind} output ({names}); the comparison reads study jobs and single runs"
        )
    raise UnitError("manifest.json but neither runs.parquet nor trajectory.parquet")


def option_space(manifest: dict[str, Any]) -> tuple[OptionSpace, list[str]]:
    """The profiles and states of the region a folder's manifest records (its poles'
    names, ``security`` flags and record points, its states' names); ``UnitError`` when it
    records none."""
    config = manifest.get("config")
    region = config.get("region") if isinstance(config, dict) else None
    poles = region.get("poles") if isinstance(region, dict) else None
    states = region.get("states") if isinstance(region, dict) else None
    if not (isinstance(poles, list) and poles and isinstance(states, list) and states):
        raise UnitError("its manifest records no region (config.region.poles and states)")
    try:
        space = OptionSpace(
            tuple(str(p["name"]) for p in poles),
            tuple(bool(p["security"]) for p in poles),
            tuple(p.get("bloc_points") for p in poles),
            tuple(p.get("union_points") for p in poles),
        )
        names = [str(s["name"]) for s in states]
    except (KeyError, TypeError):
        raise UnitError(OLDER_VERSION) from None
    return space, names


def configuration_year(region: Any) -> int | None:
    """The year whose year-end configuration, and the memberships the record holds then, a
    run starts from, as its manifest's region records it (``RegionSpec``'s
    ``start_configuration_year``: ``configuration_year``, else ``year``); None if the
    manifest holds neither."""
    if not isinstance(region, dict):
        return None
    year = region.get("configuration_year")
    year = region.get("year") if year is None else year
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def run_labelling(manifest: dict[str, Any], space: OptionSpace, states: list[str]) -> Labelling:
    """The record labels of a run's choosers (``alignment.Labelling``): the memberships
    the record holds for each at the end of the year its start configuration is of."""
    region = manifest["config"]["region"]
    spelled = {str(s["name"]): s.get("attribute_state") for s in region["states"]}
    year = configuration_year(region)
    if year is None:
        raise UnitError(OLDER_VERSION)
    return Labelling.of_record(space, [spelled.get(state) for state in states], year)


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


def _share_keys(shares: list[tuple[str, str]], rows: int | list[int]) -> dict[str, np.ndarray]:
    """The kind and option columns of a table with ``rows`` rows for each share (one
    count, or one per share), share after share."""
    return {
        "kind": np.repeat(np.array([k for k, _ in shares], dtype=object), rows),
        "option": np.repeat(np.array([o for _, o in shares], dtype=object), rows),
    }


def _share_matrix(frame: pd.DataFrame, shares: list[tuple[str, str]]) -> np.ndarray:
    """The shares' columns as one (rows, shares) float64 array in Fortran order (each
    share contiguous): the sums and levels are computed on it as a whole, a few arrays
    large enough for huge pages instead of many small ones that each fault in anew."""
    columns = [f"share_{outcomes.share_name(kind, option)}" for kind, option in shares]
    return np.asfortranarray(frame[columns].to_numpy(dtype=np.float64))


def _tick_sums(frame: pd.DataFrame, shares: list[tuple[str, str]]) -> pd.DataFrame:
    """Per tick and share (kind, option): number of runs, sum and sum of squares of the
    share, sum of the tick's year (counted with ``np.bincount`` by tick)."""
    tick = frame["tick"].to_numpy(dtype=np.int64)
    n = np.bincount(tick)
    held = np.flatnonzero(n)
    year_sum = np.bincount(tick, weights=frame["year"].to_numpy(dtype=np.float64))[held]
    values = _share_matrix(frame, shares)
    squared = values * values
    sums = [np.bincount(tick, weights=values[:, j])[held] for j in range(len(shares))]
    squares = [np.bincount(tick, weights=squared[:, j])[held] for j in range(len(shares))]
    width = len(shares)
    return pd.DataFrame(
        {
            "tick": np.tile(held, width),
            **_share_keys(shares, len(held)),
            "n": np.tile(n[held], width),
            "sum": np.concatenate(sums),
            "sumsq": np.concatenate(squares),
            "year_sum": np.tile(year_sum, width),
        }
    )


def _tick_levels(frame: pd.DataFrame, shares: list[tuple[str, str]], n_states: int) -> pd.DataFrame:
    """Per tick and share: the number of runs at each level (states in that share, 0 ..
    ``n_states``), only the levels some run had."""
    ticks = frame["tick"].to_numpy(dtype=np.int64)
    width = n_states + 1
    at = np.clip(np.rint(_share_matrix(frame, shares) * n_states).astype(np.int64), 0, n_states)
    at += (ticks * width)[:, None]  # each (tick, level) a cell of its own
    cells, counts = [], []
    for j in range(len(shares)):
        count = np.bincount(at[:, j], minlength=(ticks.max() + 1) * width)
        cell = np.flatnonzero(count)
        cells.append(cell)
        counts.append(count[cell])
    cell = np.concatenate(cells)
    return pd.DataFrame(
        {
            "tick": cell // width,
            **_share_keys(shares, [len(c) for c in cells]),
            "level": cell % width,
            "count": np.concatenate(counts),
        }
    )


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
    tick_parts, level_parts = [], []
    ticks_file = pq.ParquetFile(folder / "ticks.parquet")
    columns = ["tick", "year", *(f"share_{outcomes.share_name(*s)}" for s in shares)]
    for batch in ticks_file.iter_batches(columns=columns, batch_size=BATCH_ROWS):
        frame = batch.to_pandas()
        tick_parts.append(_tick_sums(frame, shares))
        level_parts.append(_tick_levels(frame, shares, len(states)))
    ticks = pd.concat(tick_parts, ignore_index=True)
    levels = pd.concat(level_parts, ignore_index=True)
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
        levels=levels.groupby(["tick", "kind", "option", "level"], sort=False)["count"]
        .sum()
        .reset_index(),
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


def _positions(column: pa.Array, index: pd.Index) -> np.ndarray:
    """Positions of a string column's values in ``index`` (-1 if absent), looked up once per
    distinct value through the column's dictionary."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    assert isinstance(column, pa.DictionaryArray)
    lookup = index.get_indexer(pd.Index([str(v) for v in column.dictionary.to_pylist()]))
    return np.asarray(lookup[column.indices.to_numpy(zero_copy_only=False)])


def _rows_of(seeds: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions of ``wanted`` in ``seeds`` (unique), -1 where absent: an offset when the
    seeds are consecutive (a study job's), else a binary search; no hash table, so tens of
    millions of rows take a fraction of a second."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if len(seeds) and np.array_equal(seeds, np.arange(seeds[0], seeds[0] + len(seeds))):
        row = wanted - seeds[0]
        return np.where((row >= 0) & (row < len(seeds)), row, -1)
    order = np.argsort(seeds, kind="stable")
    ordered = seeds[order]
    at = np.clip(np.searchsorted(ordered, wanted), 0, max(len(seeds) - 1, 0))
    found = ordered[at] == wanted if len(seeds) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, order[at], -1)


TERM_KEYS = ["seed", "state", "option", "term"]


def _dictionary(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray] | None:
    """A dictionary column's values (one dictionary for every chunk) and its codes; None
    when it is not dictionary-encoded or its chunks' dictionaries differ."""
    chunks = column.chunks
    if not chunks or not all(pa.types.is_dictionary(c.type) for c in chunks):
        return None
    first = chunks[0].dictionary
    if not all(c.dictionary.equals(first) for c in chunks[1:]):
        return None
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
    return [str(v) for v in first.to_pylist()], codes.astype(np.int64)


def _product_layout(
    file: pq.ParquetFile, seeds: np.ndarray, states: list[str], options: list[str]
) -> tuple[list[str], list[str], list[str]] | None:
    """The (states, options, terms) of a terms.parquet written in their product order per
    run, run after run in the order of ``seeds`` (as ``replications.terms_table`` writes
    it), or None when the file does not show that layout.

    Checked without decoding every key: the row count; every key of the first and the
    last row groups (the state, option and term codes cycle in product order, each run's
    rows carry its seed, one dictionary per column); and the seed range of every row
    group (its statistics)."""
    meta = file.metadata
    if meta.num_row_groups == 0 or set(TERM_KEYS) - set(file.schema_arrow.names):
        return None
    ends = np.cumsum([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    vocab: list[list[str]] = []
    for g in sorted({0, meta.num_row_groups - 1}):
        group = file.read_row_group(g, columns=TERM_KEYS)
        found = [_dictionary(group.column(k)) for k in ("state", "option", "term")]
        if any(f is None for f in found):
            return None
        names = [f[0] for f in found if f is not None]
        codes = [f[1] for f in found if f is not None]
        N, K, M = (len(v) for v in names)
        W = N * K * M
        if W == 0 or meta.num_rows != len(seeds) * W or (g == 0 and group.num_rows < W):
            return None
        if g == 0:  # each key's order in the file: the first run's rows give it
            order = [codes[0][:: K * M][:N], codes[1][: K * M : M], codes[2][:M]]
            if any(len(np.unique(o)) != len(o) for o in order):
                return None
            vocab = [[n[c] for c in o] for n, o in zip(names, order, strict=True)]
        elif [[n[c] for c in o] for n, o in zip(names, order, strict=True)] != vocab:
            return None
        first, rows = ends[g] - group.num_rows, group.num_rows
        start = first % W  # where in a run's rows the group begins
        cycles = [  # each key's codes over one run's rows, repeated run after run
            np.repeat(order[0], K * M),
            np.tile(np.repeat(order[1], M), N),
            np.tile(order[2], N * K),
        ]
        expected = [np.resize(np.roll(cycle, -start), rows) for cycle in cycles]
        expected.append(np.repeat(seeds[first // W : (ends[g] - 1) // W + 1], W)[start:][:rows])
        held = [*codes, group.column("seed").to_numpy()]
        if not all(np.array_equal(h, e) for h, e in zip(held, expected, strict=True)):
            return None
    if set(vocab[0]) != set(states) or set(vocab[1]) != set(options):
        return None
    seed_column = file.schema_arrow.names.index("seed")
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(seed_column).statistics
        runs = seeds[(ends[g] - meta.row_group(g).num_rows) // W : (ends[g] - 1) // W + 1]
        if stats is None or not stats.has_min_max:
            return None
        if (stats.min, stats.max) != (runs.min(), runs.max()):
            return None
    return vocab[0], vocab[1], vocab[2]


def _unknown_terms(found: list[str]) -> None:
    unknown = sorted(set(found) - set(TERMS))
    if unknown:
        raise UnitError(
            f"terms.parquet holds terms this version does not know ({', '.join(unknown)}): "
            "re-run it to compare it"
        )


VALUE_ROWS = 1 << 21
"""Rows of a term table's value column read at once (16 MiB as float64): whole row groups,
decoded on several threads."""


def _row_group_runs(file: pq.ParquetFile, rows: int) -> list[list[int]]:
    """The file's row groups in consecutive runs of about ``rows`` rows (one group each
    when the groups are larger)."""
    runs: list[list[int]] = [[]]
    held = 0
    for group in range(file.metadata.num_row_groups):
        size = file.metadata.row_group(group).num_rows
        if runs[-1] and held + size > rows:
            runs.append([])
            held = 0
        runs[-1].append(group)
        held += size
    return [run for run in runs if run]


def _study_terms(
    path: Path, seeds: np.ndarray, states: list[str], options: list[str]
) -> pd.DataFrame:
    """The term table as a runs x (state, profile, term) matrix. A file in the layout
    ``terms_table`` writes (``_product_layout``) is read by its value column alone, batch
    after batch into consecutive cells; any other is mapped row by row through its key
    columns (vectorised). Terms are the model's (``kernels.TERMS``) that the file holds; a
    term this version does not know makes the folder unusable (``UnitError``)."""
    file = pq.ParquetFile(path)
    layout = _product_layout(file, seeds, states, options)
    if layout is None:
        return _mapped_terms(file, seeds, states, options)
    file_states, file_options, file_terms = layout
    _unknown_terms(file_terms)
    terms = [t for t in TERMS if t in file_terms]
    flat = np.empty(len(seeds) * len(file_states) * len(file_options) * len(file_terms), np.float32)
    start = 0
    for groups in _row_group_runs(file, VALUE_ROWS):
        column = file.read_row_groups(groups, columns=["value"], use_threads=True).column(0)
        for chunk in column.chunks:
            values = chunk.to_numpy(zero_copy_only=False)
            flat[start : start + len(values)] = values
            start += len(values)
    shape = (len(seeds), len(file_states), len(file_options), len(file_terms))
    cube = flat.reshape(shape)
    picks = (
        [file_states.index(x) for x in states],
        [file_options.index(x) for x in options],
        [file_terms.index(x) for x in terms],
    )
    for axis, pick in enumerate(picks, start=1):
        if pick != list(range(cube.shape[axis])):
            cube = np.take(cube, pick, axis=axis)
    return pd.DataFrame(
        cube.reshape(len(seeds), -1),
        copy=False,
        index=pd.Index(seeds, name="seed"),
        columns=pd.MultiIndex.from_product(
            [states, options, terms], names=["state", "option", "term"]
        ),
    )


def _mapped_terms(
    file: pq.ParquetFile, seeds: np.ndarray, states: list[str], options: list[str]
) -> pd.DataFrame:
    """``_study_terms`` for a file in any row order: each row placed by its keys."""
    state_index, option_index, term_index = pd.Index(states), pd.Index(options), pd.Index(TERMS)
    K, M = len(options), len(TERMS)
    matrix = np.full((len(seeds), len(states) * K * M), np.nan, dtype=np.float32)
    for batch in file.iter_batches(columns=[*TERM_KEYS, "value"], batch_size=BATCH_ROWS):
        term = _positions(batch.column("term"), term_index)
        if (term < 0).any():
            _unknown_terms([str(v) for v in pc.unique(batch.column("term")).to_pylist()])
        row = _rows_of(seeds, batch.column("seed").to_numpy())
        state = _positions(batch.column("state"), state_index)
        option = _positions(batch.column("option"), option_index)
        keep = (row >= 0) & (state >= 0) & (option >= 0)
        cell = (state * K + option) * M + term
        values = batch.column("value").to_numpy(zero_copy_only=False)
        matrix[row[keep], cell[keep]] = values[keep]
    held = ~np.isnan(matrix).all(axis=0).reshape(len(states), K, M).all(axis=(0, 1))
    if not held.all():  # an older file without some of the model's terms
        matrix = matrix.reshape(len(seeds), len(states), K, M)[..., held]
        matrix = matrix.reshape(len(seeds), -1)
    kept: list[str] = [t for t, h in zip(TERMS, np.asarray(held).tolist(), strict=True) if h]
    return pd.DataFrame(
        matrix,
        copy=False,
        index=pd.Index(seeds, name="seed"),
        columns=pd.MultiIndex.from_product(
            [states, options, kept], names=["state", "option", "term"]
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
    labelling = run_labelling(manifest, space, states)
    measured = outcomes.run_outcomes(alignment, labelling, states)
    runs = pd.DataFrame({"seed": np.array([seed], dtype=np.int64), **measured})
    metrics = [c for c in runs.columns if c in COUNT_METRICS or c.startswith(SHARE_PREFIXES)]
    per_tick = pd.DataFrame(
        {f"share_{name}": s[0] for name, s in outcomes.share_series(alignment, labelling).items()}
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
        levels=_tick_levels(per_tick, shares_of(space), len(states)),
        terms=_single_terms(frame, space, states, seed, terms) if terms else None,
    )


def read_threads(folders: int) -> int:
    """Threads that read folders at once: one more than the cores (a folder's reading
    waits on the disk and on pyarrow's own threads part of the time; measured on 2 cores,
    three studies of 20,000 runs took 3.3 s one after another and 1.8 s on three threads),
    at most one per folder."""
    return max(1, min(folders, (os.cpu_count() or 1) + 1))


def collect(
    inputs: list[Path],
    skip_corrupt: bool = False,
    log: Callable[[str], None] | None = None,
) -> tuple[list[Unit], list[FolderNote]]:
    """Every usable folder below the inputs, and notes on the ones left out (``log``
    hears each folder as it is read). Folders are read on ``read_threads`` threads; the
    result is in the folders' order, whatever order they finish in.

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
        todo = [(n, f) for n, f in enumerate(finished, start=1) if f.resolve() not in read]

        def read_one(numbered: tuple[int, Path], total: int = len(finished)) -> Unit | FolderNote:
            n, folder = numbered
            if log is not None:
                log(f"reading {n}/{total}: {folder}")
            try:
                return load_unit(folder)
            except NotRunsError as exc:
                return FolderNote(folder, NOT_RUNS, str(exc))
            except UnitError as exc:
                return FolderNote(folder, "skipped", str(exc))

        with ThreadPoolExecutor(read_threads(len(todo))) as threads:
            for (_, folder), item in zip(todo, threads.map(read_one, todo), strict=True):
                read[folder.resolve()] = item
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


PRESET_NAMES = ("name", "rule")
"""The field that names a preset in a resolved config: a scenario or region by its name,
a decision rule by its rule (``decision=logit`` reads back as ``logit``, never None)."""


def _config_value(config: dict[str, Any], key: str) -> str | None:
    """The value of a dotted override key in a resolved config (a preset by its name; an
    unset value as an override spells it, ``null``); None where the config has no key."""
    node: Any = config
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    if isinstance(node, dict):
        name = next((node[n] for n in PRESET_NAMES if n in node), None)
        return None if name is None else str(name)
    return "null" if node is None else str(node)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """A resolved config as {dotted path: value}; list items that have a name are keyed
    by it (``region.states.kazakhstan.gdp``), others by position."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    if isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
        out = {}
        for n, item in enumerate(node):
            out.update(flatten(item, f"{prefix}{item.get('name', n)}."))
        return out
    return {prefix.rstrip("."): node}


MOST_LABEL_KEYS = 3
"""Config differences a label names at most; beyond them it names the runs digest."""


def label_units(units: list[Unit]) -> list[str]:
    """A label per unit: the parameters that differ between inputs, else the scenario name.

    A parameter a unit lacks is read from its config. ``seed`` and ``replications`` choose
    replicates, so they never make a label. When parameters vary but leave scenarios with
    different names under one label, the scenario joins the label. Units whose runs
    compute different things (``replications.runs_digest``) never share a label: when
    their overrides do not tell them apart (a default changed between the package
    versions that made them, a config directory of one's own), the label gains the
    resolved config's values that differ, or the runs digest when more than
    ``MOST_LABEL_KEYS`` do.
    """
    keys = ordered_union(
        [k for k in u.parameters if k not in NOT_LABEL_KEYS and not k.startswith("hydra.")]
        for u in units
    )

    def value(unit: Unit, key: str) -> str | None:
        params = unit.parameters
        return params[key] if key in params else _config_value(unit.config, key)

    varying = [k for k in keys if len({value(u, k) for u in units}) > 1]
    if varying and "scenario" not in varying and len({u.scenario for u in units}) > 1:
        varying.insert(0, "scenario")
    labels = [
        ",".join(f"{k}={value(u, k)}" for k in varying) if varying else u.scenario for u in units
    ]
    for label in dict.fromkeys(labels):
        members = [i for i, own in enumerate(labels) if own == label]
        if len({units[i].runs_digest for i in members}) > 1:
            extras = _config_differences([units[i] for i in members])
            for i, extra in zip(members, extras, strict=True):
                labels[i] = f"{label},{extra}"
    return labels


def _config_differences(units: list[Unit]) -> list[str]:
    """What tells apart the resolved configs of units that share a label, per unit: the
    dotted values that differ (at most ``MOST_LABEL_KEYS``), else the runs digest."""
    flat = [flatten(run_sections(u.config)) for u in units]
    keys = [k for k in ordered_union(flat) if len({repr(f.get(k)) for f in flat}) > 1]
    if not keys or len(keys) > MOST_LABEL_KEYS:
        return [f"runs={u.runs_digest}" for u in units]
    return [",".join(f"{k}={f.get(k)}" for k in keys) for f in flat]


def group_units(units: list[Unit]) -> tuple[dict[str, Group], list[FolderNote]]:
    """Units by label, in the order the labels first appear, and notes on the units left
    out as duplicates (``replications.repeats``: a unit whose seeds another unit of its
    label already has is never pooled with it, so no run counts twice)."""
    labels = label_units(units)
    left_out = repeats(
        [
            (f"{label}\n{unit.runs_digest}", unit.runs["seed"].tolist())
            for unit, label in zip(units, labels, strict=True)
        ],
        partial=False,  # a unit's outcomes are pooled whole
    )
    notes = []
    for r in left_out:
        if r.owner is None:
            reason = f"{labels[r.index]}: a seed appears twice in this folder"
        else:
            reason = (
                f"{labels[r.index]}: {r.count} of its seeds (e.g. {r.run}) are already read "
                f"from {units[r.owner].path}; the same runs are never counted twice"
            )
            others = units[r.index].n_runs - r.count
            if others:
                reason += (
                    f"; the comparison pools whole folders, so its {counted(others, 'other run')}"
                    " are left out with it (alignment-sim-collect keeps them)"
                )
        notes.append(FolderNote(units[r.index].path, "duplicate", reason))
    groups: dict[str, Group] = {}
    dropped = {r.index for r in left_out}
    for i, (unit, label) in enumerate(zip(units, labels, strict=True)):
        if i not in dropped:  # labels and units in folder order
            groups.setdefault(label, Group(label, [])).units.append(unit)
    return groups, notes
