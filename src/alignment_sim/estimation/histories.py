"""Observed alignment histories: what a fit conditions on and scores.

A history is one yearly path of every chooser: its record label (russia, china, west,
hedge, as ``score_v1`` codes end-of-year memberships) and the profile that stands for it
(``model.alignment``). Read from

- a record in the shared format (CSV: state, year, primary_alignment; the package's
  ``data/alignment_by_year_1991_2010.csv``), checked by ``report.record.read_record``;
  the profile of each state-year is the one its memberships stand for (it carries the
  recorded label in every state-year, with the memberships the record holds that year,
  ``calendar.starting_profile``); or
- a table of simulated runs (``labels.parquet``, or a CSV with its columns: seed, state,
  year, label, profile): one history per seed, with the profiles the runs held, labelled
  as the runs labelled them (with the memberships held at their start: those of the
  configuration they started from, ``runs_held_year``).

The fit's window [first, last] takes the years ``first .. last``; the transitions scored
are those into ``first + 1 .. last``. Every chooser needs a label in every window year.
No year after ``RECORD_LAST_YEAR`` (2010, the end of the record; later years are the
project's out-of-sample test) is ever read.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError, DataError
from alignment_sim.model.alignment import OptionSpace
from alignment_sim.model.calendar import RECORD_LAST_YEAR, starting_profile
from alignment_sim.model.params import RegionSpec
from alignment_sim.outputs.files import read_manifest
from alignment_sim.report.inputs import configuration_year
from alignment_sim.report.record import LABELS, read_record
from alignment_sim.studies.outcomes import LABEL_COLUMNS

MIN_WINDOW_YEARS = 2


@dataclass(frozen=True)
class Histories:
    """H observed histories of the N choosers over Y consecutive years.

    labels: (H, Y, N) index into ``OptionSpace.labels``; profiles: (H, Y, N) profile
    index (the path a fit conditions on); ``source`` the file read; ``held_years`` (Y,)
    the year whose memberships the record holds label each year's profiles
    (``alignment.Labelling``): the record's, the year itself (None: so); simulated runs',
    the year they started in, as they labelled themselves (``World.labelling``).
    """

    years: np.ndarray
    labels: np.ndarray
    profiles: np.ndarray
    source: str
    held_years: np.ndarray | None = None

    @property
    def labelling_years(self) -> np.ndarray:
        """(Y,) the year of the held memberships that label each year (``held_years``)."""
        return self.years if self.held_years is None else self.held_years

    @property
    def n_histories(self) -> int:
        return int(self.labels.shape[0])

    def switches(self) -> int:
        """Changes of record label from one year to the next, over all histories."""
        return int((self.labels[:, 1:] != self.labels[:, :-1]).sum())

    def select(
        self, histories: np.ndarray | None = None, states: np.ndarray | None = None
    ) -> Histories:
        """A subset of histories (bootstrap) or a mask of states (others marked -1: not
        scored, still forced along their path)."""
        labels, profiles = self.labels, self.profiles
        if histories is not None:
            labels, profiles = labels[histories], profiles[histories]
        if states is not None:
            labels = np.where(states[None, None, :], labels, -1)
        return Histories(self.years, labels, profiles, self.source, self.held_years)


def check_window(window: tuple[int, int], years: list[int], source: str) -> tuple[int, int]:
    """The window as (first, last): whole years inside the file's years and the record's
    in-sample period, at least ``MIN_WINDOW_YEARS`` long."""
    try:
        first, last = (int(y) for y in window)
    except (TypeError, ValueError):
        raise ConfigError(
            "estimation.window", window, "two years [first, last], e.g. [1991, 2010]"
        ) from None
    have = f"{source} holds {min(years)}-{max(years)}" if years else f"{source} holds no years"
    if last > RECORD_LAST_YEAR:
        raise ConfigError(
            "estimation.window",
            [first, last],
            f"a window ending by {RECORD_LAST_YEAR}",
            "Records after 2010 are the project's out-of-sample test: no fit may use them.",
        )
    if last - first + 1 < MIN_WINDOW_YEARS or first not in years or last not in years:
        raise ConfigError(
            "estimation.window",
            [first, last],
            f"[first, last] with first < last, both years of the record ({have})",
        )
    return first, last


def read_histories(path: str | Path, region: RegionSpec, window: tuple[int, int]) -> Histories:
    """The histories in ``path`` for the region's choosers over ``window`` (see module)."""
    file = Path(path)
    space = region.option_space
    record_names = [s.attribute_state for s in region.states]
    held_year = None
    if file.suffix == ".parquet" or _has_profiles(file):
        frame = _read_runs(file)
        held_year = runs_held_year(file, frame)
    else:
        record = read_record(file)
        frame = pd.DataFrame(
            [
                (0, state, year, label, "")
                for state, by_year in record.labels.items()
                for year, label in by_year.items()
            ],
            columns=list(LABEL_COLUMNS),
        )
    frame = frame[frame["year"] <= RECORD_LAST_YEAR]
    first, last = check_window(window, sorted(set(frame["year"])), str(file))
    frame = frame[(frame["year"] >= first) & (frame["year"] <= last)]
    years = np.arange(first, last + 1)
    seeds = sorted(set(frame["seed"]))
    shape = (len(seeds), len(years), len(record_names))
    labels = np.full(shape, -1, dtype=np.int64)
    profiles = np.full(shape, -1, dtype=np.int64)
    seed_index = {s: h for h, s in enumerate(seeds)}
    state_index = {s: i for i, s in enumerate(record_names)}
    for seed, state, year, label, profile in frame.itertuples(index=False):
        i = state_index.get(state)
        if i is None:
            continue  # Russia and any other non-chooser
        h, y = seed_index[seed], int(year) - first
        labels[h, y, i] = _label_index(space, label, file)
        key = f"{file}: {state} {year}"
        value = profile if profile else label
        profiles[h, y, i] = starting_profile(space, key, value, state, int(year))
    missing = np.argwhere(labels < 0)
    if len(missing):
        h, y, i = missing[0]
        raise DataError(
            f"{file}",
            f"{record_names[i]} {years[y]}",
            "a label for every chooser in every year of the window",
            f"{len(missing)} state-year(s) missing; choose a window the record covers.",
        )
    held_years = None if held_year is None else np.full(len(years), held_year)
    return Histories(years, labels, profiles, str(file), held_years)


def runs_held_year(file: Path, frame: pd.DataFrame) -> int:
    """The year whose memberships a table of runs' labels holds: that of the
    configuration the runs started from, as the manifest a Parquet table carries records
    it (``report.inputs.configuration_year``: ``origin=Y`` runs, whose first year is Y + 1,
    hold Y's); without one, the table's first year (a run from ``region.year=Y`` starts
    from Y's)."""
    year = None
    if file.suffix == ".parquet":
        with contextlib.suppress(KeyError, ValueError, OSError, TypeError):
            year = configuration_year(read_manifest(file)["config"]["region"])
    return int(frame["year"].min()) if year is None else year


def _label_index(space: OptionSpace, label: str, file: Path) -> int:
    if label not in space.labels:
        raise DataError(f"{file}, label", label, f"one of {', '.join(space.labels)}")
    return space.labels.index(label)


def _has_profiles(file: Path) -> bool:
    try:
        header = pd.read_csv(file, nrows=0).columns
    except (OSError, ValueError) as exc:
        raise DataError(str(file), str(file), "a readable CSV or parquet file", str(exc)) from None
    return "profile" in header


def _read_runs(file: Path) -> pd.DataFrame:
    """A table of runs' labels (``LABEL_COLUMNS``), each seed one history."""
    try:
        frame = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
    except (OSError, ValueError) as exc:
        raise DataError(str(file), str(file), "a readable CSV or parquet file", str(exc)) from None
    missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            str(file), ", ".join(map(str, frame.columns)), f"columns {', '.join(LABEL_COLUMNS)}"
        )
    bad = ~frame["label"].isin(LABELS)
    if bad.any():
        raise DataError(
            f"{file}, label", frame["label"][bad].iloc[0], f"one of {', '.join(LABELS)}"
        )
    if frame.duplicated(["seed", "state", "year"]).any():
        row = frame[frame.duplicated(["seed", "state", "year"])].iloc[0]
        raise DataError(
            str(file),
            f"{row['seed']} {row['state']} {row['year']}",
            "one row per seed, state, year",
        )
    return frame[list(LABEL_COLUMNS)].astype({"year": int, "profile": str})
