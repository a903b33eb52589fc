"""An alignment record (state, year, label), read and checked; the two baselines fitted on it.

A record file is a CSV in the shared format of ``data/alignment_by_year_1991_2010.csv``:
columns ``state, year, primary_alignment`` (others are ignored), one row per state and
calendar year, the label one of ``LABELS``. ``read_record`` refuses bad input with one
``DataError`` naming the file, the line and what was expected.

The baselines see only record years up to the origin (``Record.up_to``):

- persistence: the label at the origin, carried forward (probability 1 on it);
- sticky base rate: a yearly Markov chain over the labels. A state stays with the
  record's yearly stay rate; a move goes to label b with the share of recorded moves that
  went to b, among the labels other than the current one (evenly when no recorded move
  went to any of them). The forecast h years after the origin is the origin label's row
  of the yearly matrix composed h times.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignment_sim.errors import DataError
from alignment_sim.model.calendar import RECORD_FILE, RECORD_LAST_YEAR
from alignment_sim.model.world import packaged_data_path

LABELS = ("russia", "china", "west", "hedge")
"""The record's labels, in the order of every probability vector here."""
COLUMNS = ("state", "year", "primary_alignment")
RECORD_YEARS = (1991, 2024)
"""The calendar years a record may hold: those the model's data cover."""
LAST_IN_SAMPLE_YEAR = RECORD_LAST_YEAR
"""Record years after this are the project's out-of-sample period (the shared data hold none)."""
PACKAGED_RECORD = packaged_data_path(RECORD_FILE)


@dataclass(frozen=True)
class Record:
    """Labels by state and year, as read from ``path``."""

    path: Path
    labels: dict[str, dict[int, str]]

    @property
    def states(self) -> list[str]:
        return list(self.labels)

    @property
    def years(self) -> list[int]:
        return sorted({year for by_year in self.labels.values() for year in by_year})

    def label(self, state: str, year: int) -> str | None:
        return self.labels.get(state, {}).get(year)

    def up_to(self, origin: int) -> Record:
        """The record without its years after ``origin`` (what a baseline may see)."""
        kept = {
            state: {year: label for year, label in by_year.items() if year <= origin}
            for state, by_year in self.labels.items()
        }
        return Record(self.path, kept)


def read_record(path: str | Path, known_states: Collection[str] | None = None) -> Record:
    """Read and check a record file. Refuses (``DataError``, naming the file and line): a
    missing or empty file, missing columns, a blank or unknown state (not in
    ``known_states``, when given), a year that is not a whole number in ``RECORD_YEARS``,
    an unknown label, and two rows for one (state, year), duplicate or contradictory."""
    file = Path(path)
    key = f"record {file}"
    if not file.is_file():
        raise DataError(key, str(file), "an existing CSV file of state, year, primary_alignment")
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(_rows(file, csv.DictReader(handle)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(
            key, str(file), "a readable UTF-8 CSV file", f"Reading failed: {exc}"
        ) from None
    if not rows:
        raise DataError(key, "no rows", "at least one row of state, year, primary_alignment")
    labels: dict[str, dict[int, str]] = {}
    first_line: dict[tuple[str, int], tuple[int, str]] = {}
    for line, state, raw_year, label in rows:
        where = f"{file}, line {line}"
        if not state:
            raise DataError(f"{where}, state", state, "a state's name (the cell is blank)")
        if known_states is not None and state not in known_states:
            raise DataError(
                f"{where}, state",
                state,
                "a state of the runs or of the package's data",
                f"Known: {', '.join(sorted(known_states))}.",
            )
        if re.fullmatch(r"\d{4}", raw_year) is None:
            raise DataError(f"{where}, year", raw_year, "a whole-number calendar year")
        year = int(raw_year)
        if not RECORD_YEARS[0] <= year <= RECORD_YEARS[1]:
            raise DataError(
                f"{where}, year", year, f"a year from {RECORD_YEARS[0]} to {RECORD_YEARS[1]}"
            )
        if label not in LABELS:
            raise DataError(f"{where}, primary_alignment", label, f"one of {', '.join(LABELS)}")
        earlier = first_line.get((state, year))
        if earlier is not None:
            line_before, label_before = earlier
            kind = "a duplicate of" if label == label_before else "contradicts"
            raise DataError(
                f"{where}",
                f"{state} {year} {label}",
                f"one row per (state, year); this row {kind} line {line_before} "
                f"({state} {year} {label_before})",
            )
        first_line[(state, year)] = (line, label)
        labels.setdefault(state, {})[year] = label
    return Record(file, labels)


def _rows(file: Path, reader: csv.DictReader[str]) -> Iterable[tuple[int, str, str, str]]:
    """(line, state, year, label) of each data row, stripped; checks the header first."""
    header = reader.fieldnames
    if not header:
        raise DataError(f"record {file}", "an empty file", f"a header line: {', '.join(COLUMNS)}")
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise DataError(
            f"record {file}, header",
            ",".join(header),
            f"the columns {', '.join(COLUMNS)}",
            f"Missing: {', '.join(missing)}.",
        )
    for row in reader:
        cells = [(row.get(column) or "").strip() for column in COLUMNS]
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line
        yield reader.line_num, cells[0], cells[1], cells[2]


# --- baselines ------------------------------------------------------------------------


def one_hot(label: str) -> np.ndarray:
    """(4,) probability 1 on ``label``."""
    vector = np.zeros(len(LABELS))
    vector[LABELS.index(label)] = 1.0
    return vector


@dataclass(frozen=True)
class StickyChain:
    """The sticky base rate's yearly transition matrix (rows: from, columns: to, in
    ``LABELS`` order) and what it was fitted on."""

    matrix: np.ndarray
    stay_rate: float
    transitions: int
    moves_to: dict[str, int]

    def forecast(self, origin_label: str, horizon: int) -> np.ndarray:
        """(4,) label probabilities ``horizon`` years after a year labelled ``origin_label``."""
        return np.asarray(one_hot(origin_label) @ np.linalg.matrix_power(self.matrix, horizon))

    def hit_probability(self, origin_label: str, first: int, last: int, label: str) -> float:
        """Probability of holding ``label`` in at least one year ``first..last`` after the
        origin (horizons, first >= 1): the chain with ``label`` made absorbing."""
        target = LABELS.index(label)
        mass = self.forecast(origin_label, first)
        hit = float(mass[target])
        for _ in range(first, last):
            mass[target] = 0.0
            mass = mass @ self.matrix
            hit += float(mass[target])
        return hit


def fit_sticky(record: Record, states: Iterable[str], origin: int) -> StickyChain:
    """Fit the sticky base rate on the year-to-year transitions of ``states`` in the
    record up to ``origin`` (pairs of consecutive recorded years, both <= origin).
    Raises ``ValueError`` when there is none."""
    seen = record.up_to(origin)
    stays, moves_to = 0, dict.fromkeys(LABELS, 0)
    for state in states:
        by_year = seen.labels.get(state, {})
        for year, label in by_year.items():
            before = by_year.get(year - 1)
            if before is None:
                continue
            if before == label:
                stays += 1
            else:
                moves_to[label] += 1
    transitions = stays + sum(moves_to.values())
    if transitions == 0:
        raise ValueError(f"no year-to-year transition in the record up to {origin}")
    stay_rate = stays / transitions
    K = len(LABELS)
    matrix = np.zeros((K, K))
    for a in range(K):
        others = [b for b in range(K) if b != a]
        weights = np.array([moves_to[LABELS[b]] for b in others], dtype=float)
        spread = weights / weights.sum() if weights.sum() > 0 else np.full(K - 1, 1 / (K - 1))
        matrix[a, a] = stay_rate
        matrix[a, others] = (1.0 - stay_rate) * spread
    return StickyChain(matrix, stay_rate, transitions, moves_to)
