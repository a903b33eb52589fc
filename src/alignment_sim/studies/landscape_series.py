"""The landscape year by year against the record's later moves
(``alignment-sim-landscape --year A --through B``).

Axelrod and Bennett (1993) judged a landscape by whether the configurations it calls
unstable are those that change. For each year A..B (to the record's end, 2010) this scores
the year's recorded configuration in the year's world (``landscape.landscape``, with or
without the history's events in force) and sets each state's best move beside what the
record shows it doing afterwards:

- a **gainer** (a state-year gaining by moving alone, in either game) **makes its move**
  when a later recorded configuration, to 2010, has it on that move
  (``YearLandscape.moves_recorded_later``);
- a state-year **moves later** when any later recorded configuration, to 2010, has it on
  another profile; the share of the other state-years that do is the comparison: the
  landscape informs where its gainers make their move more often than the others move at
  all;
- the record's **moves in the next year** (a state's option in a game that differs in the
  next year's configuration), and how many of them were the state's best move.

Only the record to 2010 is read (the test period after it stays unread), so the years
scored are those with a later record year, A..min(B, 2009), and a state-year counts once
however many of its later years show the move.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignment_sim.errors import ConfigError
from alignment_sim.model.calendar import RECORD_LAST_YEAR
from alignment_sim.outputs.files import atomic_folder, finish_job
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies import landscape as yearly

FILES = ("series.csv", "series.png", "summary.json")
"""What a series folder holds, besides ``manifest.json`` (``write``)."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class YearScore:
    """One year's landscape and what the record does next; its regret table and summary
    (``YearLandscape.regret_table``, ``summary``) computed once."""

    result: yearly.YearLandscape
    table: pd.DataFrame
    summary: dict[str, object]
    moved_later: np.ndarray  # (N,) bool: any later recorded profile differs, to 2010
    next_moves: np.ndarray  # (N, 2) bool: the option in each game differs next year
    next_moves_best: np.ndarray  # (N, 2) bool: ... and next year's option is the best move

    @property
    def scored(self) -> bool:
        """Whether the record goes on after the configuration's year (before 2010)."""
        return self.result.year_world.configuration_year < RECORD_LAST_YEAR


def score_year(yw: yearly.YearWorld, basin_starts: int) -> YearScore:
    """The landscape of ``yw`` and the record's moves after its configuration's year."""
    result = yearly.landscape(yw, basin_starts=basin_starts)
    later = [profiles for _, profiles in yearly.later_configurations(yw)]
    moved_later = np.zeros(yw.world.n_states, dtype=bool)
    for profiles in later:
        moved_later |= profiles != yw.recorded
    next_moves = np.zeros((yw.world.n_states, 2), dtype=bool)
    next_best = np.zeros_like(next_moves)
    if later:
        for g, game in enumerate(result.games()):
            next_moves[:, g] = game.option_of[later[0]] != game.option_of[yw.recorded]
            next_best[:, g] = next_moves[:, g] & game.on_best_move(later[0])
    return YearScore(
        result, result.regret_table(), result.summary(), moved_later, next_moves, next_best
    )


@dataclass(frozen=True)
class LandscapeSeries:
    """Every year's landscape, A..B, and the record's later moves."""

    years: tuple[int, ...]
    scores: tuple[YearScore, ...]
    events: bool  # the history's events in force in each year's world

    @property
    def events_left_out(self) -> tuple[str, ...]:
        """The events left out (``without``) that are in force in some year."""
        left = (s.result.year_world.events_left_out for s in self.scores)
        return tuple(dict.fromkeys(label for labels in left for label in labels))

    def table(self) -> pd.DataFrame:
        """Every year's regret table (``YearLandscape.regret_table``), a year column first,
        and whether the state moved in a later year to 2010 (``moves_later``)."""
        frames = []
        for year, score in zip(self.years, self.scores, strict=True):
            frame = score.table.copy()
            frame.insert(0, "year", year)
            frame.insert(1, "configuration_year", score.result.year_world.configuration_year)
            frame["moves_later"] = score.moved_later
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def year_rows(self) -> list[dict[str, object]]:
        """Per year: states gaining, those making their move in the record, those gaining
        by more than the switching cost, and the record's moves in the next year (state x
        game) with how many were the best move; the record's columns are None from 2010
        on (no later record: the test period)."""
        rows = []
        for year, score in zip(self.years, self.scores, strict=True):
            summary, scored = score.summary, score.scored
            rows.append(
                {
                    "year": year,
                    "configuration_year": score.result.year_world.configuration_year,
                    "states_gaining_by_moving": summary["states_gaining_by_moving"],
                    "states_moving_despite_switching_cost": summary[
                        "states_moving_despite_switching_cost"
                    ],
                    "gainers_making_the_move_in_the_record": (
                        summary["gainers_making_the_move_in_the_record"] if scored else None
                    ),
                    "record_moves_next_year": int(score.next_moves.sum()) if scored else None,
                    "record_moves_next_year_on_the_best_move": (
                        int(score.next_moves_best.sum()) if scored else None
                    ),
                }
            )
        return rows

    def summary(self) -> dict[str, object]:
        """The year rows and their totals over the years with a later record: the share
        of gaining state-years whose move the record shows, against the share of the
        other state-years that move at all."""
        scored = [s for s in self.scores if s.scored]
        gaining = _stacked([s.table["gains_by_moving"].to_numpy(bool) for s in scored])
        made = _stacked([s.table["move_recorded"].to_numpy(bool) for s in scored])
        moved = _stacked([s.moved_later for s in scored])
        first = self.scores[0].result.year_world
        return {
            "years": [self.years[0], self.years[-1]],
            "events": self.events,
            "events_left_out": list(self.events_left_out),
            "fit": first.config.fit,
            "state_years_scored": len(gaining),
            "gaining_state_years": int(gaining.sum()),
            "gainers_making_the_move": int((gaining & made).sum()),
            "share_of_gainers_making_the_move": _share(gaining & made, gaining),
            "share_of_others_moving_later": _share(~gaining & moved, ~gaining),
            "record_moves_next_year": sum(int(s.next_moves.sum()) for s in scored),
            "record_moves_next_year_on_the_best_move": sum(
                int(s.next_moves_best.sum()) for s in scored
            ),
            "by_year": self.year_rows(),
        }

    def figure(self) -> Figure:
        """Each state's gain from its best move alone (the larger of its two games), year
        by year; a ring where the record shows the state making that move later, a cross
        where the record moves the state in the next year."""
        table = self.table()
        states = list(dict.fromkeys(table["state"]))
        gain = np.maximum(table["security_regret"].to_numpy(), table["economy_regret"].to_numpy())
        grid = gain.reshape(len(self.years), len(states)).T
        figure = Figure(figsize=(max(8.0, 0.45 * len(self.years) + 2), 4.8), layout="constrained")
        axes = figure.subplots()
        image = axes.imshow(grid, aspect="auto", cmap="Reds", vmin=0.0)
        figure.colorbar(image, ax=axes, label="gain from the best move alone (utility units)")
        made = table["move_recorded"].to_numpy(bool)
        year_index = table["year"].map({y: i for i, y in enumerate(self.years)}).to_numpy()
        state_index = table["state"].map({s: i for i, s in enumerate(states)}).to_numpy()
        axes.scatter(
            year_index[made],
            state_index[made],
            s=90,
            facecolors="none",
            edgecolors="#1a5276",
            label="the record shows the move later",
        )
        next_moves = np.concatenate([s.next_moves.any(axis=1) for s in self.scores])
        axes.scatter(
            year_index[next_moves],
            state_index[next_moves],
            marker="x",
            color="black",
            label="the record moves the state next year",
        )
        if self.years[0] <= RECORD_LAST_YEAR < self.years[-1]:
            axes.axvline(
                self.years.index(RECORD_LAST_YEAR) + 0.5,
                color="#555555",
                linestyle="--",
                linewidth=0.8,
                label=f"the record ends: its {RECORD_LAST_YEAR} configuration after it",
            )
        axes.set_xticks(range(len(self.years)), [str(y) for y in self.years], rotation=90)
        axes.set_yticks(range(len(states)), states)
        summary = self.summary()
        events = " (events in force" if self.events else ""
        if self.events_left_out:
            events += ", without " + ", ".join(self.events_left_out)
        span = f"{self.years[0]}-{self.years[-1]}"
        figure.suptitle(
            f"{span}: regret at the recorded configuration{events + ')' if events else ''}\n"
            f"{summary['gainers_making_the_move']} of {summary['gaining_state_years']} gaining "
            "state-years make the move",
            fontsize=10,
        )
        axes.legend(loc="upper left", fontsize=7, bbox_to_anchor=(0, -0.18), ncol=2)
        return figure


def _stacked(columns: list[np.ndarray]) -> np.ndarray:
    """Boolean columns, one per scored year, end to end (empty when no year is scored)."""
    return np.concatenate(columns).astype(bool) if columns else np.zeros(0, dtype=bool)


def _share(hits: np.ndarray, among: np.ndarray) -> float | None:
    return float(hits.sum() / among.sum()) if among.any() else None


def series(
    first: int,
    last: int,
    *,
    fit: str | None = None,
    events: bool = False,
    without: Sequence[str] = (),
    basin_starts: int = 20_000,
    progress: Progress | None = None,
) -> LandscapeSeries:
    """The landscapes of ``first``..``last`` (calendar years; after 2010 the record's
    2010 configuration), at the defaults or a fitted set, with or without the history's
    events in force (but those ``without`` names: ``landscape.year_world``). Every year's
    world is built, and ``without`` checked against them (a ConfigError names a label in
    force in none of the years), before any landscape is enumerated."""
    years = tuple(range(first, last + 1))
    worlds = [yearly.year_world(year, fit=fit, events=events, without=without) for year in years]
    for label in without:
        if not any(label in yw.events_left_out for yw in worlds):
            raise ConfigError("without", label, f"an event in force in some year {first}-{last}")
    scores = []
    for yw in worlds:
        if progress is not None:
            progress(yw.year)
        scores.append(score_year(yw, basin_starts))
    return LandscapeSeries(years, tuple(scores), events)


def write(result: LandscapeSeries, out: Path, *, command: str, basin_starts: int) -> None:
    """series.csv (``LandscapeSeries.table``), series.png, summary.json and, last,
    manifest.json (the first year's configuration, the basins' seed, the command as typed,
    the best-response starts behind the basins, the years, version, git revision, each
    file's size and SHA-256), written whole."""
    with atomic_folder(out) as staging:
        result.table().to_csv(staging / "series.csv", index=False)
        result.figure().savefig(staging / "series.png", dpi=120)
        (staging / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
        config = result.scores[0].result.year_world.config
        meta = manifest(
            config,
            yearly.BASIN_SEED,
            {"command": command, "basin_starts": basin_starts, "years": list(result.years)},
        )
        finish_job(staging, meta, FILES)


def print_progress(year: int) -> None:
    print(f"landscape of {year} ...", file=sys.stderr, flush=True)
