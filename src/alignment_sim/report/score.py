"""``alignment-sim-score``: how well runs forecast a recorded alignment, beside two baselines.

    alignment-sim-score RUNS... [--record FILE] [--from Y1] [--to Y2] [--origin Y0]
                        [--out DIR] [--floor F] [--pool] [--skip-corrupt]

``--record`` defaults to the packaged record (``data/alignment_by_year_1991_2010.csv``).

RUNS are run folders, study jobs, sweeps or forecasts (searched recursively for finished
jobs); every run found is one member of one forecast ensemble (a forecast's runs: each
parameter draw with each seed), counted once however often it is found (a copied folder).
Runs of several configurations (a sweep over a parameter) are refused unless ``--pool``
makes them one ensemble.
A finished folder whose files are damaged stops the command unless ``--skip-corrupt``.
Each run's ``labels.parquet`` gives its record label of each state in each calendar year
(``studies.outcomes.yearly_labels``: the label score_v1's rule gives the state's security
and economic profile at the year's end); the forecast probability of a label for a
(state, year) is the share of runs giving it.

Scored: the state-years from ``--from`` to ``--to`` that the record labels and every run
covers, for the states both hold. Scores (``score_arrays``), each a mean over state-years:

- accuracy: 1 when the modal label is the recorded one (a tie of k labels: 1/k);
- Brier score: sum over the four labels of (p - o)^2, o = 1 for the recorded label
  (0 is perfect; 0.75 for an even forecast; 2 for certainty on a wrong label);
- log score: log p(recorded label), p floored at ``--floor`` (0 is perfect, higher is
  better; log(1/4) = -1.386 for an even forecast).

The baselines (``report.record``) see only record years up to the origin (default: the
year whose end-of-year configuration the runs start from, ``region.configuration_year``,
else ``region.year``: a forecast from ``origin=Y`` starts on 1 January of Y + 1 from the
end of Y, a history run from ``region.year=Y`` from the end of Y itself). Outputs
(``--out``, default ``results/scores/<time>/``): forecasts.csv, by_state.csv,
by_year.csv, switches.csv, reliability.csv, reliability.png and score.json, each written
atomically. The last line printed is one JSON object of the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.errors import ConfigError
from alignment_sim.model.calendar import RECORD_FILE
from alignment_sim.model.world import load_attributes, packaged_data_path
from alignment_sim.outputs.files import (
    LABELS_FILE,
    MANIFEST,
    CommandParser,
    atomic_folder,
    atomic_write,
    atomic_write_bytes,
    check_replaceable,
    command_errors,
    command_line,
    counted,
    find_jobs,
    finish_job,
    job_manifest,
    sha256,
    timestamped_folder,
    write_json,
)
from alignment_sim.outputs.provenance import library_versions, stamp
from alignment_sim.report.inputs import configuration_year, flatten
from alignment_sim.report.record import (
    LABELS,
    LAST_IN_SAMPLE_YEAR,
    Record,
    StickyChain,
    fit_sticky,
    one_hot,
    read_record,
)
from alignment_sim.studies.replications import repeats, run_sections, runs_digest

if TYPE_CHECKING:  # matplotlib is imported where the figure is drawn
    from matplotlib.figure import Figure

PROG = "alignment-sim-score"
DEFAULT_FLOOR = 1e-3
FORECASTERS = ("model", "persistence", "sticky")
SUFFIX = {"model": "", "persistence": "_persistence", "sticky": "_sticky"}
"""How each forecaster's scores are named: ``brier``, ``brier_persistence``, ..."""
MEASURES = ("accuracy", "brier", "log_score")
RELIABILITY_BINS = 10


class ScoreError(Exception):
    """Bad input to ``alignment-sim-score``; the command prints it as one line."""


# --- the scores ---------------------------------------------------------------------------


def score_arrays(p: np.ndarray, observed: np.ndarray, floor: float) -> dict[str, np.ndarray]:
    """Per forecast (M,): accuracy, Brier score and log score of probabilities ``p``
    (M, 4, over ``LABELS``) against the recorded label indices ``observed`` (M,)."""
    rows = np.arange(len(observed))
    outcome = np.zeros_like(p)
    outcome[rows, observed] = 1.0
    p_observed = p[rows, observed]
    modal = np.isclose(p, p.max(axis=1, keepdims=True), rtol=0.0, atol=1e-12)
    return {
        "accuracy": modal[rows, observed] / modal.sum(axis=1),
        "brier": ((p - outcome) ** 2).sum(axis=1),
        "log_score": np.log(np.maximum(p_observed, floor)),
    }


def reliability(p: np.ndarray, observed: np.ndarray, bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """Every (forecast, label) probability in ``bins`` equal bins of [0, 1]: the number in
    each, their mean and how often the label was the recorded one."""
    outcome = np.zeros_like(p)
    outcome[np.arange(len(observed)), observed] = 1.0
    flat_p, flat_o = p.reshape(-1), outcome.reshape(-1)
    which = np.minimum((flat_p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        rows.append(
            {
                "bin_low": b / bins,
                "bin_high": (b + 1) / bins,
                "n": n,
                "mean_forecast": float(flat_p[inside].mean()) if n else math.nan,
                "observed_frequency": float(flat_o[inside].mean()) if n else math.nan,
            }
        )
    return pd.DataFrame(rows)


# --- the runs -----------------------------------------------------------------------------


@dataclass
class Ensemble:
    """Every run's yearly labels: ``codes`` (R, S, Y) index into ``LABELS``, -1 where a run
    does not cover the year; ``origins`` each folder's origin (``_origin_year``),
    ``first_years`` its first labelled year, ``manifests`` its manifest (read once)."""

    folders: list[Path]
    origins: dict[Path, int]
    first_years: dict[Path, int]
    states: list[str]
    years: np.ndarray
    codes: np.ndarray
    left_out: list[str] = field(default_factory=list)
    manifests: dict[Path, dict[str, Any]] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return int(self.codes.shape[0])

    def covered(self) -> np.ndarray:
        """(S, Y): True where every run has a label."""
        return np.asarray((self.codes >= 0).all(axis=0))

    def probabilities(self) -> np.ndarray:
        """(S, Y, 4): the share of runs giving each label."""
        return np.stack([(self.codes == k).mean(axis=0) for k in range(len(LABELS))], axis=-1)


RUN_TABLES = (LABELS_FILE, "runs.parquet", "trajectory.parquet")
"""A folder of runs holds one of these (``load_folder`` says why one without labels
cannot be scored); another command's finished output, or a design's, holds none."""


def find_folders(paths: Sequence[Path], skip_corrupt: bool = False) -> tuple[list[Path], list[str]]:
    """Finished job folders of runs at or below each path, and a note for each left out
    (failed, unfinished, another command's output). A finished folder whose files are
    damaged stops the scoring (a ScoreError), unless ``skip_corrupt``: then it is left out
    with a note, as the comparison does, so a damaged job never thins a forecast unsaid."""
    found: dict[Path, Path] = {}  # each folder once, though found below two paths given
    notes: list[str] = []
    damaged: dict[Path, str] = {}
    for path in paths:
        if not path.is_dir():
            raise ScoreError(f"{path}: no such folder (expected a run, study job or sweep folder)")
        jobs = find_jobs(path, started=True)  # an interrupted job named, not passed over
        for folder in jobs.done:
            if any((folder / name).is_file() for name in RUN_TABLES):
                found[folder.resolve()] = folder
            elif (folder / "design.parquet").is_file():
                notes.append(
                    f"{folder}: a design study, which writes no yearly labels (score study "
                    "jobs or single runs)"
                )
            else:  # a comparison, a pattern table, a landscape, a fit: no runs to score
                notes.append(f"{folder}: not runs (another command's output)")
        for folder, status in jobs.left_out:
            notes.append(f"{folder}: {status.state}, {status.reason}")
            if status.state == "corrupt":
                damaged[folder.resolve()] = f"{folder} ({status.reason})"
    if damaged and not skip_corrupt:
        detail = "; ".join(list(damaged.values())[:5])
        raise ScoreError(
            f"{counted(len(damaged), 'finished folder')} damaged: {detail}. Re-run them (the "
            "same command resumes), or pass --skip-corrupt to leave them out."
        )
    folders = list(found.values())
    if not folders:
        where = ", ".join(str(p) for p in paths)
        detail = f" ({len(notes)} left out: {'; '.join(notes[:3])})" if notes else ""
        raise ScoreError(f"no finished run folder, study job or sweep in {where}{detail}")
    return folders, notes


def load_folder(
    folder: Path, meta: dict[str, Any]
) -> tuple[int, list[str], np.ndarray, np.ndarray, list[Hashable]]:
    """One finished folder's runs (``meta``: its manifest): (start year, states, years
    (Y,), codes (R, S, Y), the runs); a run is a seed, or a (draw, seed) in a forecast's
    labels (``estimation.forecast``)."""
    path = folder / LABELS_FILE
    if not path.is_file():
        if (folder / "design.parquet").is_file():
            raise ScoreError(
                f"{folder} is a design study: it writes no yearly labels. Score study jobs "
                "(replications=N) or single runs."
            )
        raise ScoreError(
            f"{folder} has no {LABELS_FILE}: it was made by an older version of alignment-sim, "
            "before yearly labels. Re-run it to score it."
        )
    try:
        keys = ["draw", "seed"] if "draw" in pq.read_schema(path).names else ["seed"]
        frame = pd.read_parquet(path, columns=[*keys, "state", "year", "label"])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ScoreError(f"{path} cannot be read as yearly labels ({exc})") from None
    label_codes = pd.Index(LABELS).get_indexer(pd.Index(frame["label"].astype(str)))
    if (label_codes < 0).any():
        unknown = sorted(set(frame["label"][label_codes < 0].astype(str)))
        raise ScoreError(
            f"{path} holds labels {unknown}, not record labels ({', '.join(LABELS)}): its "
            "region's poles are not the record's blocs, so it cannot be scored against it."
        )
    if len(frame) == 0:
        raise ScoreError(f"{path} holds no label: its runs end before their first year ends")
    grouped = frame.groupby(keys, sort=True)
    run_index = grouped.ngroup().to_numpy()
    groups = grouped.size().index.to_frame(index=False)  # the runs, in run_index's order
    runs: list[Hashable] = [tuple(map(int, run)) for run in groups.itertuples(index=False)]
    states = list(pd.unique(frame["state"].astype(str)))
    state_index = pd.Index(states).get_indexer(pd.Index(frame["state"].astype(str)))
    year_values = frame["year"].to_numpy(dtype=np.int64)
    years = np.arange(year_values.min(), year_values.max() + 1)
    codes = np.full((run_index.max() + 1, len(states), len(years)), -1, dtype=np.int8)
    codes[run_index, state_index, year_values - years[0]] = label_codes
    origin = _origin_year(meta)
    return (int(years[0]) - 1 if origin is None else origin), states, years, codes, runs


def _manifest_of(folder: Path) -> dict[str, Any]:
    """A scored folder's manifest, read once for everything the scoring asks of it ({}
    when it cannot be read)."""
    try:
        return job_manifest(folder)
    except ValueError:
        return {}


def fit_of(meta: dict[str, Any]) -> str | None:
    """The fitted set a folder's runs took their parameters from, by its manifest
    ``meta`` (``fit``, or ``mode_of``: a validation's runs at a fit's mode), if any."""
    config = meta.get("config")
    fit = (config.get("fit") if isinstance(config, dict) else None) or meta.get("mode_of")
    return str(fit) if fit else None


def in_sample_notes(fits: Sequence[str], window: Window) -> tuple[list[str], bool]:
    """A note for each fitted set the runs used whose record window holds scored years
    (their score is in sample, where the baselines see the record only to the origin), or
    that cannot be read; and whether any is in sample."""
    from alignment_sim.estimation.fitted import FittedSet

    notes, in_sample = [], False
    for fit in dict.fromkeys(fits):
        try:
            fitted = FittedSet.load(fit)
        except ConfigError as exc:
            notes.append(f"the runs' fitted set {fit} could not be read ({exc})")
            continue
        span = fitted.provenance.get("window")
        if not (isinstance(span, list) and len(span) == 2):
            notes.append(
                f"the runs' fitted set {fitted.label} names no record window: whether it saw "
                "the scored years cannot be told"
            )
            continue
        first, last = max(int(span[0]), window.first), min(int(span[1]), window.last)
        if first <= last:
            in_sample = True
            notes.append(
                f"the runs' parameters come from the fitted set {fitted.label}, fitted on the "
                f"record of {span[0]}-{span[1]}, which holds the scored years {first}-{last}: "
                f"an in-sample score, where the baselines see the record only to "
                f"{window.origin}"
            )
        elif int(span[1]) > window.origin:
            notes.append(
                f"the runs' fitted set {fitted.label} saw the record to {span[1]}, after the "
                f"baselines' origin {window.origin}: the model knows years the baselines do "
                f"not (--origin {span[1]} gives them the same record)"
            )
    return notes, in_sample


def horizon_notes(ensemble: Ensemble) -> list[str]:
    """A note when runs from one configuration start in different years (a history run
    from ``region.year=Y`` and a forecast from ``origin=Y``): pooled as one forecast,
    though a year of the one is simulated that the other starts after."""
    firsts = sorted(set(ensemble.first_years.values()))
    if len(set(ensemble.origins.values())) != 1 or len(firsts) < 2:
        return []
    origin = next(iter(ensemble.origins.values()))
    return [
        f"the runs start from the configuration at the end of {origin} but their first "
        f"years differ ({', '.join(map(str, firsts))}): they are pooled as one forecast, "
        "though their horizons differ; score them separately to compare them"
    ]


def _origin_year(meta: dict[str, Any]) -> int | None:
    """The year whose end-of-year configuration the runs start from, as the manifest
    ``meta`` records it (``region.configuration_year``, else ``region.year``); None
    without one (the caller takes the year before the runs' first)."""
    try:
        return configuration_year(meta.get("config", {}).get("region", {}))
    except (ValueError, AttributeError):
        return None


def load_ensemble(
    paths: Sequence[Path], skip_corrupt: bool = False, pool: bool = False
) -> Ensemble:
    """Every run below ``paths`` as one ensemble, over the union of states and years. A
    run read twice (a folder copied, a study re-run with more replications: the same runs
    digest and seed, ``replications.repeats``) counts once, as in a comparison or a
    collected table; each folder or run left out is noted. Runs of more than one
    configuration (a sweep over a parameter) are one forecast only with ``pool``; else a
    ScoreError names them."""
    folders, notes = find_folders(paths, skip_corrupt)
    manifests = {folder: _manifest_of(folder) for folder in folders}
    loaded = [(folder, *load_folder(folder, manifests[folder])) for folder in folders]
    digests = [_runs_digest(folder, manifests[folder]) for folder in folders]
    if len(set(digests)) > 1 and not pool:
        first_of = dict(zip(digests, folders, strict=True))
        raise ScoreError(_configurations_words(first_of, manifests))
    left = repeats([(d, runs) for d, (*_, runs) in zip(digests, loaded, strict=True)])
    dropped = {r.index: r for r in left}
    kept = []
    for i, (folder, origin, names, folder_years, codes, runs) in enumerate(loaded):
        r = dropped.get(i)
        if r is None:
            kept.append((folder, origin, names, folder_years, codes))
            continue
        where = "itself" if r.owner is None else loaded[r.owner][0]
        if r.whole:
            notes.append(
                f"{folder}: its runs ({counted(len(runs), 'run')}, e.g. seed "
                f"{_run_name(r.run)}) are already read from {where}; the same runs are never "
                "counted twice"
            )
            continue
        notes.append(
            f"{folder}: {counted(len(r.runs), 'run')} (e.g. seed {_run_name(r.run)}) already "
            f"read from {where}; its other runs are scored"
        )
        repeated = set(r.runs)
        keep = [n for n, run in enumerate(runs) if run not in repeated]
        kept.append((folder, origin, names, folder_years, codes[keep]))
    if not kept:  # every folder repeats a run of its own
        raise ScoreError(f"no run left to score: {notes[-1]}")
    states = list(dict.fromkeys(s for _, _, names, _, _ in kept for s in names))
    years = np.arange(
        min(int(y[0]) for _, _, _, y, _ in kept), max(int(y[-1]) for _, _, _, y, _ in kept) + 1
    )
    parts = []
    for _, _, names, folder_years, codes in kept:
        part = np.full((codes.shape[0], len(states), len(years)), -1, dtype=np.int8)
        first = int(folder_years[0] - years[0])
        part[:, [states.index(s) for s in names], first : first + len(folder_years)] = codes
        parts.append(part)
    return Ensemble(
        folders=[folder for folder, *_ in kept],
        origins={folder: origin for folder, origin, _, _, _ in kept},
        first_years={folder: int(years[0]) for folder, _, _, years, _ in kept},
        states=states,
        years=years,
        codes=np.concatenate(parts, axis=0),
        left_out=notes,
        manifests={folder: manifests[folder] for folder, *_ in kept},
    )


def _runs_digest(folder: Path, meta: dict[str, Any]) -> str:
    """What each run of the folder computes (``replications.runs_digest`` of its manifest
    ``meta``'s configuration): two folders of one digest give the same run for a seed."""
    config = meta.get("config")
    return runs_digest(config if isinstance(config, dict) else {"folder": str(folder)})


def _configurations_words(first_of: dict[str, Path], manifests: dict[Path, dict[str, Any]]) -> str:
    """The refusal of runs of several configurations: a folder of each (three at most),
    with the settings in which their configurations differ."""
    folders = list(first_of.values())[:3]
    flat = []
    for folder in folders:
        config = manifests[folder].get("config")
        flat.append(flatten(run_sections(config)) if isinstance(config, dict) else {})
    keys = sorted({k for f in flat for k in f if len({str(g.get(k)) for g in flat}) > 1})
    shown = [
        f"{folder} ({', '.join(f'{k}={f.get(k)}' for k in keys[:3]) or 'another data file'})"
        for folder, f in zip(folders, flat, strict=True)
    ]
    more = f" and {len(first_of) - 3} more" if len(first_of) > 3 else ""
    return (
        f"the runs are of {len(first_of)} configurations: {'; '.join(shown)}{more}. One "
        "forecast is one configuration: score each folder alone, or pass --pool to score "
        "them as one ensemble"
    )


def _run_name(run: Hashable) -> str:
    """A run as the notes name it: its seed, or a forecast's draw and seed."""
    assert isinstance(run, tuple)
    return f"{run[1]} of draw {run[0]}" if len(run) == 2 else str(run[0])


# --- scoring an ensemble ------------------------------------------------------------------


@dataclass
class Window:
    """The years scored: the baselines' origin and the first and last year."""

    origin: int
    first: int
    last: int


@dataclass
class Scores:
    """Everything the command prints and writes."""

    summary: dict[str, Any]
    forecasts: pd.DataFrame
    by_state: pd.DataFrame
    by_year: pd.DataFrame
    switches: pd.DataFrame
    reliability: pd.DataFrame
    notes: list[str]


def choose_window(
    ensemble: Ensemble,
    record: Record,
    origin: int | None,
    first: int | None,
    last: int | None,
) -> Window:
    """The origin (default: the runs' own, ``Ensemble.origins``), first (default origin +
    1) and last year (default: the last year both the runs and the record cover)."""
    if origin is None:
        origins = sorted(set(ensemble.origins.values()))
        if len(origins) > 1:
            raise ScoreError(
                f"the runs start from the configurations of different years "
                f"({', '.join(map(str, origins))}): score them separately, or pass --origin"
            )
        origin = origins[0]
    first = origin + 1 if first is None else first
    if first <= origin:
        raise ScoreError(
            f"--from {first} is not after the origin {origin}: the baselines are fitted on "
            "the record up to the origin, so scored years must come after it"
        )
    covered = ensemble.covered()
    common = [s for s in ensemble.states if s in record.labels]
    run_years = {int(y) for j, y in enumerate(ensemble.years) if covered[:, j].any()}
    both = sorted(y for y in run_years & set(record.years) if y >= first)
    if last is not None and first > last:
        raise ScoreError(f"empty year range: --from {first} is after --to {last}")
    if not [y for y in both if last is None or y <= last]:
        raise ScoreError(_no_common_years(record, run_years, first, last))
    if last is not None and last > both[-1]:  # it read as scored, though no year was
        raise ScoreError(
            f"--to {last}: the runs and the record {record.path.name} both cover years only to "
            f"{both[-1]}; give --to {both[-1]} or less (or leave it out)"
        )
    last = both[-1] if last is None else last
    if not common:
        raise ScoreError(
            f"no state of the runs ({', '.join(ensemble.states)}) is in the record "
            f"{record.path}: the record spells states as the region's attribute_state"
        )
    return Window(origin, first, last)


def _no_common_years(record: Record, run_years: set[int], first: int, last: int | None) -> str:
    runs = f"{min(run_years)}-{max(run_years)}" if run_years else "no whole year"
    span = f"from {first} on" if last is None else f"from {first} to {last}"
    return (
        f"no year to score: the runs cover {runs}, the record {record.path} covers "
        f"{record.years[0]}-{record.years[-1]}, and no year {span} is in both. Score "
        "runs that start inside the record's years (e.g. scenario=history origin=2000 "
        "to=2010)."
    )


def score(ensemble: Ensemble, record: Record, window: Window, floor: float) -> Scores:
    """The model's and the baselines' scores over the window's state-years."""
    covered = ensemble.covered()
    probs = ensemble.probabilities()
    year_at = {int(y): j for j, y in enumerate(ensemble.years)}
    cells = [
        (i, year_at[year], state, year, label)
        for i, state in enumerate(ensemble.states)
        for year in range(window.first, window.last + 1)
        if (label := record.label(state, year)) is not None
        and year in year_at
        and covered[i, year_at[year]]
    ]
    if not cells:
        raise ScoreError(
            f"no state-year from {window.first} to {window.last} is both in the record "
            f"{record.path} and covered by every run"
        )
    scored_states = list(dict.fromkeys(cell[2] for cell in cells))
    origin_label = {}
    for state in scored_states:
        label = record.label(state, window.origin)
        if label is None:
            raise ScoreError(
                f"the record {record.path} has no label for {state} in the origin year "
                f"{window.origin}: the baselines start from it (pass another --origin)"
            )
        origin_label[state] = label
    try:
        chain = fit_sticky(record, scored_states, window.origin)
    except ValueError as exc:
        raise ScoreError(
            f"the sticky baseline cannot be fitted: {exc} (pass a later --origin)"
        ) from None
    observed = np.array([LABELS.index(cell[4]) for cell in cells])
    forecasts = {
        "model": np.array([probs[i, j] for i, j, *_ in cells]),
        "persistence": np.array([one_hot(origin_label[cell[2]]) for cell in cells]),
        "sticky": np.array(
            [chain.forecast(origin_label[cell[2]], cell[3] - window.origin) for cell in cells]
        ),
    }
    keys = pd.DataFrame(
        {
            "state": [c[2] for c in cells],
            "year": [c[3] for c in cells],
            "observed": [c[4] for c in cells],
        }
    )
    long_rows, wide = [], keys.copy()
    for name, p in forecasts.items():
        measures = score_arrays(p, observed, floor)
        rows = keys.assign(forecaster=name, **{f"p_{k}": p[:, n] for n, k in enumerate(LABELS)})
        long_rows.append(rows.assign(**measures))
        for measure, values in measures.items():
            wide[measure + SUFFIX[name]] = values
    columns = [m + SUFFIX[f] for m in MEASURES for f in FORECASTERS]
    switches = switch_table(ensemble, record, window, origin_label, chain, covered)
    summary: dict[str, Any] = {m: float(wide[m].mean()) for m in columns}
    summary.update(
        {
            "n_state_years": len(cells),
            "n_runs": ensemble.n_runs,
            "n_states": len(scored_states),
            "n_folders": len(ensemble.folders),
            "origin": window.origin,
            "from": int(keys["year"].min()),
            "to": int(keys["year"].max()),
            "floor": floor,
            "record": str(record.path),
            "sticky_stay_rate": chain.stay_rate,
            "sticky_transitions": chain.transitions,
            "n_switches": len(switches),
        }
    )
    for name in FORECASTERS:
        for when in ("year", "window"):
            column = f"p_{when}{SUFFIX[name]}"
            summary[f"switch_{column}"] = float(switches[column].mean()) if len(switches) else None
    notes = []
    if window.last > LAST_IN_SAMPLE_YEAR:
        notes.append(
            f"scored years after {LAST_IN_SAMPLE_YEAR} come from {record.path}: the project's "
            "out-of-sample period"
        )
    return Scores(
        summary=summary,
        forecasts=pd.concat(long_rows, ignore_index=True),
        by_state=_grouped(wide, "state", columns),
        by_year=_grouped(wide, "year", columns),
        switches=switches,
        reliability=pd.concat(
            [reliability(p, observed).assign(forecaster=name) for name, p in forecasts.items()],
            ignore_index=True,
        ),
        notes=notes,
    )


def _grouped(wide: pd.DataFrame, by: str, columns: list[str]) -> pd.DataFrame:
    table = wide.groupby(by, sort=by == "year")[columns].mean()
    table.insert(0, "n", wide.groupby(by, sort=by == "year").size())
    return table.reset_index()


def switch_table(
    ensemble: Ensemble,
    record: Record,
    window: Window,
    origin_label: dict[str, str],
    chain: StickyChain,
    covered: np.ndarray,
) -> pd.DataFrame:
    """Every recorded switch in a scored year (the label differs from the year before):
    each forecaster's probability of the new label in its year (``p_year``) and in at
    least one year from the year before to the year after (``p_window``, scored years
    every run covers)."""
    year_at = {int(y): j for j, y in enumerate(ensemble.years)}

    def in_runs(i: int, year: int) -> bool:
        return year in year_at and bool(covered[i, year_at[year]])

    rows = []
    for i, state in enumerate(ensemble.states):
        if state not in origin_label:
            continue
        for year in range(window.first, window.last + 1):
            new, before = record.label(state, year), record.label(state, year - 1)
            if new is None or before is None or new == before or not in_runs(i, year):
                continue
            span = [
                y
                for y in (year - 1, year, year + 1)
                if window.first <= y <= window.last and in_runs(i, y)
            ]
            k = LABELS.index(new)
            runs = ensemble.codes[:, i, [year_at[y] for y in span]]
            start = origin_label[state]
            persistence = float(start == new)
            rows.append(
                {
                    "state": state,
                    "year": year,
                    "from": before,
                    "to": new,
                    "window": f"{span[0]}-{span[-1]}",
                    "p_year": float((ensemble.codes[:, i, year_at[year]] == k).mean()),
                    "p_window": float((runs == k).any(axis=1).mean()),
                    "p_year_persistence": persistence,
                    "p_window_persistence": persistence,
                    "p_year_sticky": float(chain.forecast(start, year - window.origin)[k]),
                    "p_window_sticky": chain.hit_probability(
                        start, span[0] - window.origin, span[-1] - window.origin, new
                    ),
                }
            )
    columns = ["state", "year", "from", "to", "window", "p_year", "p_window"]
    columns += [f"p_{w}{SUFFIX[f]}" for f in ("persistence", "sticky") for w in ("year", "window")]
    return pd.DataFrame(rows, columns=columns)


# --- output -------------------------------------------------------------------------------


def reliability_figure(table: pd.DataFrame) -> Figure:
    """Observed frequency against mean forecast probability, one line per forecaster."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls="--", color="#888888", lw=1, label="perfectly reliable")
    styles = {  # colour, marker, line (persistence has only 0 and 1: points)
        "model": ("#1f77b4", "o", "-"),
        "sticky": ("#2ca02c", "s", "-"),
        "persistence": ("#d62728", "^", "none"),
    }
    for name in FORECASTERS:
        rows = table[(table["forecaster"] == name) & (table["n"] > 0)]
        colour, marker, line = styles[name]
        ax.plot(
            rows["mean_forecast"],
            rows["observed_frequency"],
            color=colour,
            marker=marker,
            ls=line,
            lw=1.4,
            label=f"{name} ({int(rows['n'].sum())} probabilities)",
        )
        if name == "model":  # a bin of two probabilities swings far: say how many
            points = zip(rows["mean_forecast"], rows["observed_frequency"], rows["n"], strict=True)
            for x, y, n in points:
                ax.annotate(
                    str(int(n)),
                    (x, y),
                    textcoords="offset points",
                    xytext=(5 if x < 0.85 else -18, -11),  # inside the axes at the right
                    fontsize=7,
                    color=colour,
                )
    ax.set_xlim(-0.03, 1.03)  # markers at 0 and 1 whole
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("forecast probability of a label (bin mean)")
    ax.set_ylabel("share of those labels recorded")
    ax.set_title(
        "Reliability over the scored state-years\n"
        "(beside each model point: how many probabilities its bin holds)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig


TABLES = ("forecasts.csv", "by_state.csv", "by_year.csv", "switches.csv", "reliability.csv")
FILES = (*TABLES, "reliability.png", "score.json", MANIFEST)
"""What a scores folder holds: the only files ``--out`` may replace."""


def write_outputs(scores: Scores, out: Path, command: str) -> None:
    """Every table, the figure and (last) score.json into ``out``, written beside it and
    renamed into place whole: an earlier scores folder there is replaced, never mixed
    with this one (``files.atomic_folder``)."""
    s = scores
    tables = (s.forecasts, s.by_state, s.by_year, s.switches, s.reliability)
    with atomic_folder(out) as folder:
        for name, table in zip(TABLES, tables, strict=True):
            atomic_write_bytes(folder / name, table.to_csv(index=False).encode())
        with atomic_write(folder / "reliability.png") as handle:
            reliability_figure(scores.reliability).savefig(handle, format="png", dpi=110)
        write_json(folder / "score.json", {**scores.summary, "command": command, **stamp()})
        meta = {
            **stamp(),
            "task": "score",
            "command": command,
            "libraries": library_versions(),
            "inputs": scores.summary.get("inputs", []),
            "left_out": scores.summary.get("left_out", []),
        }
        finish_job(folder, meta, [name for name in FILES if name != MANIFEST])


def report_text(scores: Scores, ensemble: Ensemble) -> str:
    """The readable account: what was scored, the headline table, per state and year, and
    the recorded switches."""
    s = scores.summary
    lines = [
        f"{PROG}: {counted(s['n_runs'], 'run')} from {counted(s['n_folders'], 'folder')} "
        f"against {s['record']}",
        f"Scored: {s['n_state_years']} state-years ({s['n_states']} states, {s['from']}-"
        f"{s['to']}); baselines fitted on the record up to the origin {s['origin']} "
        f"(sticky: stay rate {s['sticky_stay_rate']:.3f} over {s['sticky_transitions']} "
        "yearly transitions)",
        f"Accuracy: modal label = record (higher is better). Brier: 0 perfect, 0.75 even odds "
        f"(lower is better). Log score: mean log p(record), p floored at {s['floor']:g} "
        "(0 perfect, higher is better).",
        "",
        f"{'':<18}{'accuracy':>10}{'Brier':>10}{'log score':>11}",
    ]
    for name in FORECASTERS:
        tail = SUFFIX[name]
        title = {"model": "model", "persistence": "persistence", "sticky": "sticky base rate"}
        lines.append(
            f"{title[name]:<18}{s['accuracy' + tail]:>10.3f}{s['brier' + tail]:>10.3f}"
            f"{s['log_score' + tail]:>11.3f}"
        )
    for by, table in (("state", scores.by_state), ("year", scores.by_year)):
        lines += ["", f"Brier score by {by} (model / persistence / sticky), n state-years:"]
        for r in table.to_dict("records"):
            lines.append(
                f"  {r[by]!s:<14}{r['brier']:>7.3f} /{r['brier_persistence']:>6.3f} /"
                f"{r['brier_sticky']:>6.3f}   n={r['n']}"
            )
    if len(scores.switches):
        lines += [
            "",
            "Recorded switches: P(new label) in its year / in a year from the one before to the "
            "one after:",
            f"  {'':<30}{'model':>12}{'persistence':>13}{'sticky':>12}",
        ]
        for r in scores.switches.to_dict("records"):
            what = f"{r['state']} {r['year']} {r['from']}->{r['to']}"
            pairs = [
                f"{r['p_year' + SUFFIX[name]]:.2f}/{r['p_window' + SUFFIX[name]]:.2f}"
                for name in FORECASTERS
            ]
            lines.append(f"  {what:<30}{pairs[0]:>12}{pairs[1]:>13}{pairs[2]:>12}")
    else:
        lines += ["", "No recorded switch in the scored years."]
    lines += [f"Note: {note}" for note in scores.notes]
    lines += [f"Left out {note}" for note in ensemble.left_out]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog=PROG,
        description="Score finished runs, study jobs or sweeps against an alignment record "
        "(state, year, primary_alignment), beside persistence and a sticky base rate.",
    )
    p.add_argument("runs", nargs="+", type=Path, metavar="RUNS", help="run, job or sweep folders")
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"record CSV file (default: the packaged one, data/{RECORD_FILE})",
    )
    p.add_argument("--from", dest="first", type=int, metavar="Y1", help="first scored year")
    p.add_argument("--to", dest="last", type=int, metavar="Y2", help="last scored year")
    p.add_argument(
        "--origin",
        type=int,
        metavar="Y0",
        help="baselines' last record year (default: the year whose end the runs start from)",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="default results/scores/<time>/")
    p.add_argument(
        "--floor",
        type=float,
        default=DEFAULT_FLOOR,
        metavar="F",
        help=f"smallest probability in the log score (default {DEFAULT_FLOOR:g})",
    )
    p.add_argument(
        "--pool",
        action="store_true",
        help="score runs of several configurations (a sweep over a parameter) as one "
        "ensemble, instead of stopping",
    )
    p.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="leave out (and list) finished folders whose files are damaged, instead of stopping",
    )
    return p


def run(args: argparse.Namespace, command: str) -> tuple[Scores, Ensemble, Path]:
    """Load, check, score and write; raises ScoreError or ConfigError for bad input."""
    if not 0.0 < args.floor < 1.0:
        raise ScoreError(f"--floor {args.floor:g}: expected a probability between 0 and 1")
    out = args.out if args.out is not None else timestamped_folder("scores")
    check_replaceable(out, FILES, "scoring")
    ensemble = load_ensemble(args.runs, args.skip_corrupt, args.pool)
    known = set(load_attributes()["state"].astype(str)) | set(ensemble.states)
    record = read_record(args.record or packaged_data_path(RECORD_FILE), known)
    window = choose_window(ensemble, record, args.origin, args.first, args.last)
    scores = score(ensemble, record, window, args.floor)
    fits = [f for f in map(fit_of, ensemble.manifests.values()) if f]
    fitted, in_sample = in_sample_notes(fits, window)
    if not fits and window.first <= LAST_IN_SAMPLE_YEAR:
        fitted.append(
            "the runs name no fitted set; the package's hand-set defaults were judged while "
            f"reading the record to {LAST_IN_SAMPLE_YEAR}, so at those values a score of its "
            "years is in sample by judgement, though no fit saw them"
        )
    scores.notes.extend(fitted + horizon_notes(ensemble))
    scores.summary["in_sample_fit"] = in_sample
    scores.summary["out"] = str(out)
    scores.summary["record_sha256"] = sha256(record.path)
    scores.summary["inputs"] = [
        input_entry(folder, ensemble.manifests.get(folder, {})) for folder in ensemble.folders
    ]
    scores.summary["left_out"] = list(ensemble.left_out)
    write_outputs(scores, out, command)
    return scores, ensemble, out


def input_entry(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """A scored folder as ``score.json`` names it: where it is, and its configuration's
    digest and git revision (from its manifest ``meta``, when it has one)."""
    keys = ("config_digest", "git_revision")
    return {"folder": str(folder.resolve()), **{key: meta.get(key) for key in keys}}


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``alignment-sim-score``: exit 2 for bad input, 1 when the
    outputs cannot be written."""
    cli = parser()
    args = cli.parse_args(argv)
    command = command_line(PROG, argv)
    with command_errors(PROG, "no scores were written", (ScoreError, ConfigError), cli):
        scores, ensemble, out = run(args, command)
    print(report_text(scores, ensemble))
    print(f"Wrote the tables (.csv), reliability.png and score.json in {out}")
    shown = {k: _rounded(v) for k, v in scores.summary.items() if k not in ("inputs", "left_out")}
    print(json.dumps(shown))  # the scored folders are in score.json


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


if __name__ == "__main__":
    main()
