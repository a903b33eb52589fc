"""The outcome measures of runs: one definition, used by every path that reports them.

Runs are recorded as ``alignment``: each state's PROFILE (``OptionSpace.profiles``: a
security option and an economic option, ``model.alignment``) at each tick of each run,
shaped (R, T+1, N) (tick 0 is the start; a single run is R = 1). The counting functions
(``option_counts`` ... ``switch_events``) work on any integer codes of that shape:
profiles, record labels (each chooser's by ``alignment.Labelling.of_profiles``) or
one dimension's options (``dimension_codes``). The Mesa model's ``Trajectory`` and
DataCollector, the engine's study tables, the comparison report's single-run loader, the
patterns and the classroom's lessons all measure through here, so the same runs give the
same numbers on every path (tests/test_outcomes.py). The yearly label rule
(``yearly_labels``: each state's record label at the end of each calendar year) is here
too, for single runs and study jobs alike (tests/test_labels.py).

The outcomes of one run (``run_outcomes``, one row of ``runs.parquet``) are named in
``OUTCOMES``. Shares are over the record LABELS (russia, china, west, hedge: the
vocabulary of the record, the scores and the patterns) and over each dimension's options.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError

if TYPE_CHECKING:
    from alignment_sim.model.alignment import Labelling, OptionSpace
    from alignment_sim.model.params import RegionSpec
    from alignment_sim.model.world import World

DIMENSIONS = ("security", "economy")
"""The two choices of a profile, as outcome names spell them."""
OUTCOME_COUNTS = (
    "switches",
    "label_switches",
    "security_switches",
    "economy_switches",
    "time_to_stability",
    "states_switched",
)
"""The per-run counts of ``run_outcomes``, besides the shares."""
OUTCOMES: dict[str, str] = {
    "final_share_<label>": "share of states whose profile has the record label <label> "
    "(a pole's name or hedge) at the last tick",
    "mean_share_<label>": "the same share averaged over ticks 1..T (the start left out)",
    "final_share_security_<option>": "share of states in the security option <option> "
    "(a pole that offers security, or none) at the last tick",
    "mean_share_security_<option>": "the same share averaged over ticks 1..T",
    "final_share_economy_<option>": "share of states in the economic option <option> "
    "(a pole's union or partnership, or open) at the last tick",
    "mean_share_economy_<option>": "the same share averaged over ticks 1..T",
    "switches": "changes of profile (in either dimension or both), over all states and ticks",
    "label_switches": "changes of record label, over all states and ticks",
    "security_switches": "changes of security option, over all states and ticks",
    "economy_switches": "changes of economic option, over all states and ticks",
    "time_to_stability": "the last tick at which any state changed profile; 0 when none did",
    "states_switched": "states that changed profile at least once",
    "final_<state>": "the state's profile at the last tick, '<security>/<economy>'",
    "final_label_<state>": "the record label of that profile",
}
"""Every outcome column of ``run_outcomes``, by pattern, with what it measures."""


COUNT_BLOCK = 1 << 16
"""Rows histogrammed at a time by ``option_counts``: their temporaries stay a few MiB
whatever the batch (128,000 runs x 101 ticks is 13 million rows)."""


def option_counts(alignment: np.ndarray, n_options: int) -> np.ndarray:
    """Number of states in each option, (..., K), from option indices (..., N); a code
    outside 0..K-1 counts in no option. One histogram (``np.bincount``) per block of
    ``COUNT_BLOCK`` rows."""
    codes = np.asarray(alignment)
    lead = codes.shape[:-1]
    rows = codes.reshape(-1, codes.shape[-1])
    counts = np.empty((rows.shape[0], n_options), dtype=np.int64)
    for first in range(0, rows.shape[0], COUNT_BLOCK):
        block = rows[first : first + COUNT_BLOCK].astype(np.int64)
        size = block.shape[0]
        valid = (block >= 0) & (block < n_options)
        cells = block + (np.arange(size, dtype=np.int64) * n_options)[:, None]
        counts[first : first + size] = np.bincount(
            cells[valid], minlength=size * n_options
        ).reshape(size, n_options)
    return counts.reshape(*lead, n_options)


def option_shares(alignment: np.ndarray, n_options: int) -> np.ndarray:
    """Share of states in each option, (..., K), from option indices (..., N); sums to one."""
    counts = option_counts(alignment, n_options)
    return np.asarray(counts / alignment.shape[-1], dtype=np.float64)


def switch_mask(alignment: np.ndarray) -> np.ndarray:
    """(R, T, N): True where a state's option at tick t+1 differs from that at tick t."""
    return np.asarray(alignment[:, 1:] != alignment[:, :-1])


def switches(alignment: np.ndarray, first: int = 1, last: int | None = None) -> np.ndarray:
    """Switches per run (R,): changes of option over all states at ticks first..last."""
    return np.asarray(switch_mask(alignment)[:, first - 1 : last].sum(axis=(1, 2)))


def switched_states(alignment: np.ndarray) -> np.ndarray:
    """(R, N): True for a state that changed option at least once in the run."""
    return np.asarray(switch_mask(alignment).any(axis=1))


def time_to_stability(alignment: np.ndarray) -> np.ndarray:
    """Per run (R,): the last tick at which any state switched; 0 when none did (or no
    tick was played)."""
    any_move = np.asarray(switch_mask(alignment).any(axis=2))
    if any_move.shape[1] == 0:
        return np.zeros(len(any_move), dtype=np.int64)
    last = any_move.shape[1] - np.argmax(any_move[:, ::-1], axis=1)
    return np.asarray(np.where(any_move.any(axis=1), last, 0))


def final_options(alignment: np.ndarray) -> np.ndarray:
    """(R, N): each state's option at the last tick."""
    return np.asarray(alignment[:, -1])


def final_distribution(alignment: np.ndarray, n_options: int) -> np.ndarray:
    """(N, K): the share of runs in which each state ends in each option."""
    final = final_options(alignment)
    return np.asarray((final[..., None] == np.arange(n_options)).mean(axis=0))


def mean_shares(alignment: np.ndarray, n_options: int) -> np.ndarray:
    """(R, K): each option's share of states averaged over ticks 1..T (the start left out)."""
    shares = option_shares(alignment, n_options)
    # one option at a time: a mean over a strided axis of (R, T, K) rounds differently
    return np.stack([shares[:, 1:, k].mean(axis=1) for k in range(n_options)], axis=-1)


def shares_over_runs(alignment: np.ndarray, n_options: int) -> np.ndarray:
    """(T+1, K): the share of states in each option at each tick, averaged over runs."""
    counts = option_counts(alignment, n_options)
    return np.asarray(counts.mean(axis=0) / alignment.shape[-1])


def time_share(alignment: np.ndarray, option: int) -> float:
    """Share of all state-ticks after the start, over every run, spent in ``option``."""
    return float((alignment[:, 1:] == option).mean())


# --- profiles: their record labels and their two dimensions ------------------------------


def dimension_options(space: OptionSpace, dimension: str) -> tuple[str, ...]:
    """The options of one dimension ("security" or "economy"), in index order."""
    return _dimension(space, dimension)[0]


def dimension_codes(alignment: np.ndarray, space: OptionSpace, dimension: str) -> np.ndarray:
    """Profile indices (...) as one dimension's option indices (...)."""
    return np.asarray(_dimension(space, dimension)[1][np.asarray(alignment, dtype=np.int64)])


def _dimension(space: OptionSpace, dimension: str) -> tuple[tuple[str, ...], np.ndarray]:
    """A dimension's options and each profile's option in it (ValueError for a bad name)."""
    if dimension == "security":
        return space.security_options, space.profile_security
    if dimension == "economy":
        return space.economic_options, space.profile_economy
    raise ValueError(f"dimension {dimension!r}: expected one of {DIMENSIONS}")


def share_kinds(space: OptionSpace) -> list[tuple[str, tuple[str, ...]]]:
    """What shares are measured over: ("label", labels), ("security", its options),
    ("economy", its options)."""
    return [
        ("label", space.labels),
        *((dimension, dimension_options(space, dimension)) for dimension in DIMENSIONS),
    ]


def share_name(kind: str, option: str) -> str:
    """A share's name in outcome and tick columns: ``<label>``, ``security_<option>`` or
    ``economy_<option>``."""
    return option if kind == "label" else f"{kind}_{option}"


def kind_codes(alignment: np.ndarray, labelling: Labelling, kind: str) -> np.ndarray:
    """Profile indices as the codes of ``kind`` ("label", "security" or "economy")."""
    if kind == "label":
        return labelling.of_profiles(alignment)
    return dimension_codes(alignment, labelling.space, kind)


def share_series(alignment: np.ndarray, labelling: Labelling) -> dict[str, np.ndarray]:
    """Every share at every tick, (R, T+1) by name (``share_name``): each label's, then
    each security option's, then each economic option's. Each kind sums to one."""
    out: dict[str, np.ndarray] = {}
    for kind, options in share_kinds(labelling.space):
        shares = option_shares(kind_codes(alignment, labelling, kind), len(options))
        for k, option in enumerate(options):
            out[share_name(kind, option)] = np.ascontiguousarray(shares[..., k])
    return out


def run_outcomes(
    alignment: np.ndarray, labelling: Labelling, states: Sequence[str]
) -> dict[str, Any]:
    """The outcome columns of one row per run (``OUTCOMES``), from profile indices
    (R, T+1, N): each share's final and mean value (labels, then security options, then
    economic options), the counts of ``OUTCOME_COUNTS``, each state's final profile
    (``final_<state>``) and its label (``final_label_<state>``), as names."""
    space = labelling.space
    labels = labelling.of_profiles(alignment)
    table: dict[str, Any] = {}
    for kind, options in share_kinds(space):
        codes = kind_codes(alignment, labelling, kind)
        shares = option_shares(codes, len(options))
        means = mean_shares(codes, len(options))
        for k, option in enumerate(options):
            name = share_name(kind, option)
            table[f"final_share_{name}"] = shares[:, -1, k]
            table[f"mean_share_{name}"] = means[:, k]
    table["switches"] = switches(alignment)
    table["label_switches"] = switches(labels)
    for dimension in DIMENSIONS:
        table[f"{dimension}_switches"] = switches(dimension_codes(alignment, space, dimension))
    table["time_to_stability"] = time_to_stability(alignment)
    table["states_switched"] = switched_states(alignment).sum(axis=1)
    profiles = np.array(space.profiles, dtype=object)
    label_names = np.array(space.labels, dtype=object)
    final, final_labels = final_options(alignment), final_options(labels)
    for i, state in enumerate(states):
        table[f"final_{state}"] = profiles[final[:, i]]
    for i, state in enumerate(states):
        table[f"final_label_{state}"] = label_names[final_labels[:, i]]
    expected = 2 * sum(len(options) for _, options in share_kinds(space))
    if len(table) != expected + len(OUTCOME_COUNTS) + 2 * len(states):
        raise ValueError(f"outcome names collide for poles {space.poles} and states {list(states)}")
    return table


def switch_events(alignment: np.ndarray, run: int = 0) -> list[tuple[int, int]]:
    """Every change of option of one run as (tick, state index), in tick then state order."""
    ticks, states = np.nonzero(switch_mask(alignment)[run])
    return [(int(t) + 1, int(i)) for t, i in zip(ticks, states, strict=True)]


def alignment_from_labels(
    ticks: np.ndarray, states: np.ndarray, labels: np.ndarray, options: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """A one-run alignment array (1, T+1, N) from long rows of (tick, state, option name),
    as a run's ``trajectory.parquet`` stores them; also the states in their first order.

    Raises ``ValueError`` for an option not in ``options`` or a tick x state grid with gaps.
    """
    frame = pd.DataFrame({"tick": ticks, "state": states, "option": labels})
    codes = pd.Index(list(options)).get_indexer(pd.Index(frame["option"]))
    if (codes < 0).any():
        unknown = sorted(set(frame["option"][codes < 0].astype(str)))
        raise ValueError(f"alignment holds options {unknown} not among {list(options)}")
    order = list(dict.fromkeys(frame["state"]))
    grid = frame.assign(code=codes).pivot(index="tick", columns="state", values="code")
    grid = grid.sort_index().reindex(columns=order)
    if grid.isna().to_numpy().any():
        raise ValueError("the tick x state rows have gaps")
    return grid.to_numpy(dtype=np.int64)[None], order


# --- yearly labels: the record label at the end of each calendar year --------------------


def year_end_ticks(start_year: int, tick_months: int, ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """The calendar years a run of ``ticks`` ticks covers, and each year's last tick.

    Tick t covers the months from ``(t - 1) * tick_months`` to ``t * tick_months`` after
    1 January of ``start_year`` (tick 1 is the first quarter with quarterly ticks), and the
    option chosen at tick t is the state's status at its end; events dated in a tick's
    months apply in that tick (``events.tick_of_date``). Year Y's last tick is the last one
    that starts in Y (with quarterly ticks, the one ending on 31 December); the year is
    covered when that tick is in the run (t <= ``ticks``). Returns (years, ticks), both
    (Y,) int64.
    """
    if tick_months < 1:
        raise ValueError(f"tick_months must be at least 1, not {tick_months}")
    years: list[int] = []
    last_ticks: list[int] = []
    year = start_year
    while True:
        months = (year + 1 - start_year) * 12  # from the start to 1 January of year + 1
        last = -(-months // tick_months)  # the last t with (t - 1) * tick_months < months
        if last > ticks:
            break
        years.append(year)
        last_ticks.append(last)
        year += 1
    return np.array(years, dtype=np.int64), np.array(last_ticks, dtype=np.int64)


def yearly_options(
    alignment: np.ndarray, start_year: int, tick_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each state's code at the end of each covered calendar year (``year_end_ticks``).

    ``alignment`` is (R, T+1, N) codes of any kind (profiles, labels). Returns (years (Y,),
    codes (R, Y, N)): the code each state holds after the last tick that starts in that
    year (end-of-year status, as the record's rule ``score_v1`` codes end-of-year
    memberships).
    """
    years, last = year_end_ticks(start_year, tick_months, alignment.shape[1] - 1)
    return years, np.asarray(alignment[:, last])


def yearly_labels(
    alignment: np.ndarray, labelling: Labelling, start_year: int, tick_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """The yearly label rule: each state's RECORD LABEL at the end of each covered year.

    ``alignment`` holds profile indices (R, T+1, N). Returns (years (Y,), labels (R, Y, N)),
    indices into ``space.labels`` (a pole's name, russia, china, west, or ``hedge``): the
    label of the profile held at the year's end (``yearly_options``), by the record's rule
    (``alignment.Labelling``: with the memberships the record holds for each state at the
    run's start).
    """
    years, profiles = yearly_options(alignment, start_year, tick_months)
    return years, labelling.of_profiles(profiles)


LABEL_COLUMNS = ("seed", "state", "year", "label", "profile")
"""The columns of ``labels.parquet`` (``label_table``)."""


def label_table(
    alignment: np.ndarray,
    seeds: np.ndarray,
    start_year: int,
    tick_months: int,
    labelling: Labelling,
    record_states: Sequence[str],
) -> pd.DataFrame:
    """``labels.parquet``: one row per run, state and covered year: seed, state, year,
    the record label (``yearly_labels``) and the profile it comes from (names); states
    spelled as the record spells them (``record_states``, each state's
    ``attribute_state``, in the world's order)."""
    space = labelling.space
    years, profiles = yearly_options(alignment, start_year, tick_months)
    R, Y, N = profiles.shape
    if len(record_states) != N or len(seeds) != R:
        raise ValueError(
            f"{len(record_states)} state names and {len(seeds)} seeds for {profiles.shape}"
        )
    by_state = profiles.transpose(0, 2, 1).reshape(-1).astype(np.int64)  # seed, state, year
    return pd.DataFrame(
        {
            "seed": np.repeat(np.asarray(seeds, dtype=np.int64), N * Y),
            "state": np.tile(np.repeat(np.array(record_states, dtype=object), Y), R),
            "year": np.tile(years, R * N),
            "label": np.array(space.labels, dtype=object)[
                labelling.of_profiles(profiles).transpose(0, 2, 1).reshape(-1)
            ],
            "profile": np.array(space.profiles, dtype=object)[by_state],
        },
        columns=list(LABEL_COLUMNS),
    )


def world_labels(
    alignment: np.ndarray, seeds: np.ndarray, world: World, region: RegionSpec
) -> pd.DataFrame:
    """``label_table`` for runs of ``world``: its calendar and profiles, and the states
    spelled as the record spells them (``attribute_state``)."""
    return label_table(
        alignment,
        seeds,
        world.year,
        world.tick_months,
        world.labelling,
        [state.attribute_state for state in region.states],
    )


# --- an outcome by name: a numeric column, or NAME=VALUE for a categorical one -----------


def categorical_choices(world: World) -> dict[str, tuple[str, ...]]:
    """The values each categorical outcome of ``run_outcomes`` can take in runs of
    ``world``: a state's final profile (``final_<state>``) and its record label
    (``final_label_<state>``)."""
    choices: dict[str, tuple[str, ...]] = {}
    for state in world.states:
        choices[f"final_{state}"] = tuple(world.options)
        choices[f"final_label_{state}"] = tuple(world.labels)
    return choices


def outcome_values(
    table: pd.DataFrame,
    outcome: str,
    key: str = "outcome",
    choices: Mapping[str, Sequence[str]] | None = None,
) -> np.ndarray:
    """One float64 value per row of an outcome table (columns: outcomes only).

    ``outcome`` is a numeric column's name (its values) or ``NAME=VALUE`` for a categorical
    column (1.0 where it holds VALUE, else 0.0: its mean over runs is a share of runs).
    ``choices`` lists each categorical column's possible values (default: those present).
    Anything else: ConfigError naming ``key``.
    """
    name, is_indicator, wanted = outcome.partition("=")
    if name not in table.columns:
        close = difflib.get_close_matches(name, [str(c) for c in table.columns], n=1, cutoff=0.8)
        hint = f"Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(key, outcome, _outcome_help(table), hint)
    column = table[name]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and not is_indicator:
        return column.to_numpy(dtype=np.float64)
    if numeric:
        raise ConfigError(key, outcome, f"{name} alone: it is numeric, not categorical")
    known = choices is not None and name in choices
    allowed = list(choices[name]) if choices is not None and known else sorted(set(column))
    if not is_indicator or wanted not in allowed:
        where = "" if known else " in these runs"
        raise ConfigError(
            key,
            outcome,
            f"{name}=VALUE, VALUE one of its values{where} ({', '.join(allowed)}): a "
            "categorical outcome counts the runs in which it holds VALUE",
        )
    return (column.to_numpy() == wanted).astype(np.float64)


def _outcome_help(table: pd.DataFrame) -> str:
    numeric = [str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    categorical = [str(c) for c in table.columns if str(c) not in numeric]
    text = f"an outcome of the runs: a numeric one ({', '.join(numeric)})"
    if categorical:
        first = table[categorical[-1]].iloc[0]
        text += (
            f" or NAME=VALUE for a categorical one ({', '.join(categorical[:2])} ..., e.g. "
            f"{categorical[-1]}={first})"
        )
    return text
