"""Scenario discovery on a design's runs: which parameter ranges produce an outcome of
interest (``alignment-sim-discover``).

    alignment-sim-discover results/designs/lhs --outcome mean_share_hedge --above 0.4
    alignment-sim-discover DESIGN --outcome final_label_uzbekistan=hedge --below 0.5
    alignment-sim-discover results/robustness/box --outcome pattern_1 --above 0.5

Reads a finished design folder (``studies.design``: ``design.parquet``, ``runs/``), takes
the outcome per run (any outcome of ``studies.outcomes``: a numeric one by name, a
categorical one as ``NAME=VALUE``, 1 in a run where it holds VALUE, else 0), averages it
over each point's replicates (the same seeds at every point), and marks the points whose
mean is above (or below) the threshold as the cases of interest. A robustness study's
folder (``studies.robustness``) reads as a design whose points are its varied judgements
(or a fit's draws) and whose one row per point holds what the study measured there:
``pattern_<id>`` (1 where the pattern holds), so the boxes say in which ranges of the
judgements a pattern holds (``read_robustness``). Then, from EMA
Workbench's analysis package (Kwakkel 2017, doi:10.1016/j.envsoft.2017.06.054):

- PRIM (Friedman and Fisher 1999; Bryant and Lempert 2010): boxes of parameter ranges
  where the cases of interest are dense, each PRIM's own choice on its peeling trajectory
  (its last, densest box; with ``--max-restricted K`` the densest box restricting at most
  K parameters, readable over a robustness study's dozens), up to ``--boxes`` boxes of
  density >= ``--density``, each found among the points outside the earlier ones;
- CART (Breiman et al. 1984): the leaves of a classification tree that it classifies as
  cases of interest (density above 1/2); ties between equal splits are broken with a
  fixed seed;
- feature scores: extra-trees importances (Geurts et al. 2006) of each parameter, for the
  cases of interest and for the outcome's per-point mean.

It writes ``boxes.csv`` (one row per box and parameter: limits, whether restricted,
PRIM's quasi-p values, coverage, density, mass), ``prim_trajectory.csv`` (every box on
PRIM's peeling trajectories, to choose another), ``feature_scores.csv``, ``points.csv``
(each point's parameters, mean outcome and class), ``discovery.json`` (provenance) and
``discovery.html`` (self-contained: the coverage-density trade-off, the box limits).
Coverage: the share of all cases of interest inside a box; density: the share of the
points inside a box that are cases of interest; mass: the share of all points inside.

pandas 3 and EMA Workbench 2.5.3 (the installed pandas is 3.x; pandas is not pinned below
3): ``PrimBox.inspect`` (styles "table" and "data") raises ``TypeError: Invalid value ...
for dtype 'float64'`` when a box restricts a categorical parameter (it writes a set into a
float frame), and ``OutputFormatterMixin.boxes_to_dataframe`` silently returns zeros (a
chained assignment, a no-op under copy-on-write). Neither is called here: limits,
statistics and quasi-p values are read from ``PrimBox.box_lims``, ``peeling_trajectory``
and ``qp`` and from ``CART.boxes`` and ``stats``, which are right under pandas 3, and the
figures are drawn here. Parameters are passed as float64: on int64 columns ``CART.boxes``
fails under pandas 3 (``Invalid value '12.5' for dtype 'int64'``, a split between whole
numbers) and PRIM's limits land on the values themselves rather than between them
(``tests/test_discover.py``, the whole-number parameter). EMA's own deprecated pandas calls
(``drop(inplace=True)``) warn under pandas 3: silenced around its calls, for its modules
only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from alignment_sim.errors import ConfigError
from alignment_sim.outputs.files import (
    MANIFEST,
    CommandParser,
    atomic_folder,
    check_replaceable,
    command_errors,
    command_line,
    figure_png,
    job_manifest,
    job_status,
    timestamped_folder,
)
from alignment_sim.outputs.provenance import stamp
from alignment_sim.report.page import Section, document
from alignment_sim.studies.outcomes import outcome_values

PROG = "alignment-sim-discover"
FILES = (
    "boxes.csv",
    "prim_trajectory.csv",
    "feature_scores.csv",
    "points.csv",
    "discovery.json",
    "discovery.html",
)
"""What a discovery folder holds (an earlier discovery in ``--out`` is replaced whole)."""
DEFAULT_DENSITY = 0.8
"""PRIM's density threshold: a box is kept when at least this share of its points are of
interest (EMA's default)."""
DEFAULT_BOXES = 3
BOXES_PRINTED = 3
"""Boxes of each method the console summary lists; it counts the rest (all in boxes.csv)."""
MASS_MIN = 0.05
"""The smallest share of all points a PRIM box or a CART leaf may hold (EMA's default)."""
SEED = 0
"""The seed of the extra trees and of CART's tie-breaking: the same input, the same output."""
NOT_OUTCOMES = ("point", "seed")
DPI = 110


# --- the design -------------------------------------------------------------------------


@dataclass
class Design:
    """A finished design: its points (one row per point, a column per parameter path,
    index ``point``), its runs (one row per run) and its manifest."""

    folder: Path
    points: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict[str, Any]
    per_point: str = ""
    """How a row of ``runs`` came about when it is not a run: a robustness study's row is
    a point's measures over its seeds (``read_robustness``)."""

    @property
    def parameters(self) -> list[str]:
        return [str(c) for c in self.points.columns]

    def outcome_table(self) -> pd.DataFrame:
        """The runs' outcome columns only (not point, seed or the parameters)."""
        return self.runs.drop(columns=[*NOT_OUTCOMES, *self.parameters], errors="ignore")


FOLDER_KEY = "DESIGN_FOLDER"
EXPECTED_FOLDER = (
    "a finished design folder (design.parquet, runs/, manifest.json) or robustness study "
    "folder (points.csv, manifest.json)"
)


def folder_manifest(folder: Path) -> dict[str, Any]:
    """A design's or study's ``manifest.json`` (``files.job_manifest``); ConfigError naming
    the folder when it cannot be read or holds no object."""
    try:
        return job_manifest(folder)
    except ValueError as exc:
        raise ConfigError(FOLDER_KEY, str(folder), EXPECTED_FOLDER, f"Its {exc}.") from None


def read_design(folder: Path) -> Design:
    """A finished design folder's points and runs, or a robustness study's points
    (``read_robustness``); ConfigError naming the folder if it is neither, is unfinished,
    or repeats a run."""
    key, expected = FOLDER_KEY, EXPECTED_FOLDER
    if not (folder / "design.parquet").is_file():
        if (folder / "points.csv").is_file():
            return read_robustness(folder)
        hint = "" if folder.is_dir() else "No such folder."
        raise ConfigError(key, str(folder), expected, hint or "It has no design.parquet.")
    if not (folder / MANIFEST).is_file() or not (folder / "runs").is_dir():
        raise ConfigError(
            key,
            str(folder),
            expected,
            "The design is unfinished: run its command again to resume it.",
        )
    status = job_status(folder, verify=True)
    if not status.complete:
        raise ConfigError(
            key,
            str(folder),
            expected,
            f"The design is {status.state} ({status.reason}): run its command again.",
        )
    manifest = folder_manifest(folder)
    points = pd.read_parquet(folder / "design.parquet").set_index("point")
    runs = pq.read_table(folder / "runs").to_pandas()
    duplicated = runs.duplicated(["point", "seed"])
    if duplicated.any():
        first = runs.loc[duplicated.idxmax(), ["point", "seed"]].tolist()
        raise ConfigError(
            key,
            str(folder),
            "one run per point and seed",
            f"Point {first[0]} repeats seed {first[1]}.",
        )
    missing = points.index.difference(pd.Index(runs["point"].unique()))
    if len(missing):
        raise ConfigError(
            key,
            str(folder),
            expected,
            f"{len(missing)} of {len(points)} points have no runs: run its command again.",
        )
    return Design(folder, points.astype(np.float64), runs, manifest)


def design_study(manifest: Mapping[str, Any]) -> str:
    """The study a design or robustness folder's manifest names: a robustness study's
    ``study``, a design's configured ``study`` (``experiment=lhs`` names it ``lhs``)."""
    config = manifest.get("config")
    configured = config.get("study") if isinstance(config, Mapping) else None
    return str(manifest.get("study") or configured or "design")


def read_robustness(folder: Path) -> Design:
    """A robustness study (``studies.robustness``: the judgements' box or a fit's draws) as
    a design: its points are the varied parameters (``manifest.json``'s ``varied``), and
    each point's one row of outcomes is what the study measured there over its seeds --
    ``pattern_<id>`` and ``check_<id>`` (1 where it holds), ``patterns_held``, each
    check's ``value_`` and ``baseline_``. ConfigError naming the folder if its manifest is
    missing (an unfinished or older study) or not a robustness study's."""
    from alignment_sim.studies.robustness import STUDY

    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise ConfigError(
            FOLDER_KEY,
            str(folder),
            EXPECTED_FOLDER,
            "It has points.csv but no manifest.json: run the study again.",
        )
    manifest = folder_manifest(folder)
    if manifest.get("study") != STUDY:
        raise ConfigError(
            FOLDER_KEY, str(folder), EXPECTED_FOLDER, "Its manifest is not a robustness study's."
        )
    table = pd.read_csv(folder / "points.csv")
    varied = [str(path) for path in manifest["varied"]]
    points = table.set_index("point")[varied].astype(np.float64)
    runs = table.drop(columns=varied)
    flags = [c for c in runs.columns if pd.api.types.is_bool_dtype(runs[c])]
    runs[flags] = runs[flags].astype(np.float64)
    what = "draw of the fit" if "fit" in manifest else "point"
    per_point = f"each {what}'s measures over its {manifest['seeds']} seeds (a robustness study)"
    return Design(folder, points, runs, manifest, per_point)


# --- discovery --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The cases of interest: points whose mean ``outcome`` is above or below ``threshold``."""

    outcome: str
    direction: str
    threshold: float

    def describe(self) -> str:
        side = ">" if self.direction == "above" else "<"
        mean = "" if self.outcome.startswith("mean_") else "mean "
        return f"{mean}{self.outcome} {side} {self.threshold:g}"

    def select(self, y: np.ndarray) -> np.ndarray:
        """Which points are of interest; ConfigError if none or all are."""
        chosen = y > self.threshold if self.direction == "above" else y < self.threshold
        if chosen.all() or not chosen.any():
            raise ConfigError(
                f"--{self.direction}",
                self.threshold,
                "a threshold that some but not all points pass",
                f"It selects {'every' if chosen.all() else 'no'} point: the per-point mean of "
                f"{self.outcome} ranges from {y.min():.4g} to {y.max():.4g} over {len(y)} points.",
            )
        return np.asarray(chosen)


@dataclass
class Discovery:
    """Everything a discovery writes, before it is written."""

    design: Design
    target: Target
    density: float
    replicates: pd.Series
    """Runs per point."""
    points: pd.DataFrame
    """Each point's parameters, ``mean`` outcome and ``of_interest``."""
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    scores: pd.DataFrame
    max_restricted: int | None = None
    """PRIM's boxes restrict at most this many parameters (``chosen_step``); None: PRIM's
    own choice."""

    def averaging(self) -> str:
        """How each point's outcome comes from its runs, in words."""
        if self.design.per_point:
            return self.design.per_point
        counts = sorted({int(n) for n in self.replicates})
        if counts == [1]:
            return "one run per point: the run's value"
        runs = str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
        return f"the mean over each point's {runs} runs (the same seeds at every point)"

    def limits_text(self, method: str, number: int) -> str:
        """A box's restricted limits, e.g. ``weights.trade <= 1.5, dynamics.stance > 0``."""
        box = self.boxes[(self.boxes["method"] == method) & (self.boxes["box"] == number)]
        parts = []
        for b in box[box["restricted"]].to_dict("records"):
            low = f"{b['low']:.3g} <= " if b["low"] > b["range_low"] else ""
            high = f" <= {b['high']:.3g}" if b["high"] < b["range_high"] else ""
            parts.append(f"{low}{b['parameter']}{high}")
        return ", ".join(parts)

    def summary(self) -> str:
        """What was found, in a few lines for the console."""
        lines = [
            f"{self.target.outcome} per point: {self.averaging()}.",
            f"{int(self.points['of_interest'].sum())} of {len(self.points)} points have "
            f"{self.target.describe()}.",
        ]
        for method in ("prim", "cart"):
            found = self.boxes[self.boxes["method"] == method].drop_duplicates("box")
            for b in found.to_dict("records")[:BOXES_PRINTED]:
                below = method == "prim" and b["density"] < self.density
                short = (
                    f"; below {self.density:g}, kept to {self.max_restricted} parameter(s)"
                    if below
                    else ""
                )
                lines.append(
                    f"{method.upper()} box {b['box']} (coverage {b['coverage']:.2f}, density "
                    f"{b['density']:.2f}{short}): {self.limits_text(method, b['box'])}"
                )
            if len(found) > BOXES_PRINTED:
                more = len(found) - BOXES_PRINTED
                lines.append(f"... and {more} more {method.upper()} box(es) in boxes.csv.")
        if self.trajectory.empty:
            lines.append(f"PRIM found no box of density >= {self.density:g}; lower --density.")
        lines.append(f"Most influential parameter: {self.scores['parameter'].iloc[0]}.")
        return "\n".join(lines)


@contextlib.contextmanager
def _ema_quiet() -> Iterator[None]:
    """EMA 2.5's own use of deprecated pandas (``drop(inplace=True)``) warns under pandas 3:
    silenced for EMA's modules only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ema_workbench\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"ema_workbench\.")
        yield


def _ema_analysis() -> Any:
    """EMA Workbench's analysis package, imported on first use (it takes seconds)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
        from ema_workbench import analysis
    return analysis


def discover(
    design: Design,
    target: Target,
    density: float = DEFAULT_DENSITY,
    max_boxes: int = DEFAULT_BOXES,
    progress: bool = False,
    max_restricted: int | None = None,
) -> Discovery:
    """PRIM, CART and feature scores for the points where ``target`` holds (``progress``:
    say on stderr when the outcome is checked and the analysis starts)."""
    per_run = outcome_values(design.outcome_table(), target.outcome, "--outcome")
    grouped = pd.Series(per_run).groupby(design.runs["point"].to_numpy())
    y = grouped.mean().reindex(design.points.index).to_numpy()
    interest = target.select(y)
    if progress:
        print(
            f"{PROG}: {int(interest.sum())} of {len(y)} points of interest; running PRIM, CART "
            "and feature scoring ...",
            file=sys.stderr,
            flush=True,
        )
    x = design.points.reset_index(drop=True)
    prim_rows, trajectory = prim_boxes(x, interest, density, max_boxes, max_restricted)
    boxes = pd.DataFrame([*prim_rows, *cart_boxes(x, interest)], columns=BOX_COLUMNS)
    points = design.points.assign(mean=y, of_interest=interest).reset_index()
    return Discovery(
        design=design,
        target=target,
        density=density,
        replicates=grouped.size(),
        points=points,
        boxes=boxes,
        trajectory=trajectory,
        scores=feature_scores(x, interest, y),
        max_restricted=max_restricted,
    )


BOX_COLUMNS = [
    "method",
    "box",
    "parameter",
    "low",
    "high",
    "restricted",
    "qp_low",
    "qp_high",
    "range_low",
    "range_high",
    "coverage",
    "density",
    "mass",
    "restricted_dims",
]
"""boxes.csv: one row per box and parameter. low, high: the box's limits; range_low,
range_high: the parameter's lowest and highest value over the design's points; qp_low,
qp_high: PRIM's quasi-p value of each restricted limit (Bryant and Lempert 2010)."""


def _box_rows(
    method: str,
    number: int,
    limits: pd.DataFrame,
    initial: pd.DataFrame,
    stats: Mapping[str, float],
    qp: Mapping[str, Sequence[float]] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    lows, highs = limits[initial.columns].to_numpy(dtype=np.float64)
    range_lows, range_highs = initial.to_numpy(dtype=np.float64)
    for name, low, high, range_low, range_high in zip(
        initial.columns, lows, highs, range_lows, range_highs, strict=True
    ):
        qp_low, qp_high = (qp or {}).get(name, (-1.0, -1.0))
        rows.append(
            {
                "method": method,
                "box": number,
                "parameter": str(name),
                "low": low,
                "high": high,
                "restricted": low > range_low or high < range_high,
                "qp_low": qp_low if qp_low >= 0 else np.nan,
                "qp_high": qp_high if qp_high >= 0 else np.nan,
                "range_low": range_low,
                "range_high": range_high,
                "coverage": float(stats["coverage"]),
                "density": float(stats["density"]),
                "mass": float(stats["mass"]),
                "restricted_dims": int(stats["res_dim"]),
            }
        )
    return rows


def chosen_step(trajectory: pd.DataFrame, max_restricted: int | None) -> int:
    """The step of a PRIM peeling trajectory reported as its box: PRIM's own choice, the
    last (densest) step; with ``max_restricted`` the densest step restricting at most that
    many parameters (the earliest of equals, the one of most coverage), so a box over many
    parameters stays readable (Bryant and Lempert 2010 trade density for
    interpretability the same way)."""
    if max_restricted is None:
        return len(trajectory) - 1
    density = trajectory["density"].to_numpy(dtype=np.float64)
    readable = trajectory["res_dim"].to_numpy() <= max_restricted  # step 0 restricts none
    return int(np.argmax(np.where(readable, density, -np.inf)))


def prim_boxes(
    x: pd.DataFrame,
    interest: np.ndarray,
    density: float,
    max_boxes: int,
    max_restricted: int | None = None,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """PRIM's boxes (rows of boxes.csv) and their peeling trajectories; each box is the
    ``chosen_step`` of its trajectory, and the next is found among the points outside it."""
    prim = _ema_analysis().prim
    rows: list[dict[str, Any]] = []
    trajectories = []
    with _ema_quiet():
        algorithm = prim.Prim(x, interest.astype(np.int64), threshold=density, mass_min=MASS_MIN)
        for number in range(1, max_boxes + 1):
            box = algorithm.find_box()
            if box is None or box.mean < density:  # no points left, or EMA's "dump box"
                break
            chosen = chosen_step(box.peeling_trajectory, max_restricted)
            box.select(chosen)
            stats = box.peeling_trajectory.iloc[chosen]
            rows += _box_rows(
                "prim", number, box.box_lims[chosen], algorithm.box_init, stats, box.qp[chosen]
            )
            steps = box.peeling_trajectory[["coverage", "density", "mass", "mean", "res_dim"]]
            trajectories.append(
                steps.assign(box=number, step=np.arange(len(steps)), chosen=False).astype(
                    {"res_dim": np.int64}
                )
            )
            trajectories[-1].loc[chosen, "chosen"] = True
    columns = ["box", "step", "coverage", "density", "mass", "mean", "res_dim", "chosen"]
    if not trajectories:
        return rows, pd.DataFrame(columns=columns)
    return rows, pd.concat(trajectories, ignore_index=True)[columns]


def cart_boxes(x: pd.DataFrame, interest: np.ndarray) -> list[dict[str, Any]]:
    """CART's leaves that it classifies as cases of interest (density above 1/2), densest
    first (rows of boxes.csv)."""
    cart = _ema_analysis().cart
    with _ema_quiet():
        # at least one point a leaf (CART takes int(mass_min * points) as its minimum)
        tree = cart.CART(x, interest, mass_min=max(MASS_MIN, 1 / len(x)))
        state = np.random.get_state()  # scikit-learn breaks ties with numpy's global RNG
        np.random.seed(SEED)
        try:
            tree.build_tree()
        finally:
            np.random.set_state(state)
        leaves = list(zip(tree.boxes, tree.stats, strict=True))
        initial = x.agg(["min", "max"]).reset_index(drop=True)
    kept = sorted(
        (leaf for leaf in leaves if leaf[1]["density"] > 0.5),
        key=lambda leaf: (-leaf[1]["density"], -leaf[1]["coverage"]),
    )
    rows: list[dict[str, Any]] = []
    for number, (limits, stats) in enumerate(kept, start=1):
        shown = limits[initial.columns].copy()
        split = shown != initial  # a limit of the parameter's own range stays as it is
        shown[split] = shown[split].map(_split_value)
        rows += _box_rows("cart", number, shown, initial, {**stats, "res_dim": stats["res dim"]})
    return rows


def _split_value(value: float) -> float:
    """A CART split as written: scikit-learn splits halfway between two points' values
    taken as float32 (1.7167580127716064, 0.8018175065517426), so the digits past float32's
    seven carry nothing: seven significant digits (1.716758, 0.8018175), far closer to the
    split than any point is."""
    return float(f"{value:.7g}")


def feature_scores(x: pd.DataFrame, interest: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Extra-trees importances of each parameter: for the class of interest
    (``score_interest``) and for the per-point mean (``score_mean``), most influential
    first; each column sums to 1."""
    analysis = _ema_analysis()
    scoring, kinds = analysis.feature_scoring, analysis.scenario_discovery_util.RuleInductionType
    options = {"random_state": SEED, "max_features": max(1, round(x.shape[1] / 3))}
    with _ema_quiet():
        on_class, _ = scoring.get_ex_feature_scores(
            x, interest, mode=kinds.CLASSIFICATION, **options
        )
        on_mean, _ = scoring.get_ex_feature_scores(x, y, mode=kinds.REGRESSION, **options)
    table = pd.DataFrame(
        {
            "parameter": [str(p) for p in x.columns],
            "score_interest": on_class.iloc[:, 0].reindex(x.columns).to_numpy(),
            "score_mean": on_mean.iloc[:, 0].reindex(x.columns).to_numpy(),
        }
    )
    return table.sort_values("score_interest", ascending=False, ignore_index=True)


# --- figures and page -------------------------------------------------------------------


def tradeoff_figure(trajectory: pd.DataFrame, density: float) -> bytes:
    """Coverage against density along each PRIM box's peeling trajectory, coloured by the
    number of restricted parameters, PRIM's chosen box ringed."""
    boxes = sorted(trajectory["box"].unique())
    fig = Figure(figsize=(4.2 * len(boxes) + 0.8, 4.0), layout="constrained")
    axes = fig.subplots(1, len(boxes), squeeze=False)[0]
    top = int(trajectory["res_dim"].max())
    for ax, number in zip(axes, boxes, strict=True):
        steps = trajectory[trajectory["box"] == number]
        points = ax.scatter(
            steps["coverage"],
            steps["density"],
            c=steps["res_dim"],
            cmap="viridis",
            vmin=0,
            vmax=max(top, 1),
            s=18,
        )
        chosen = steps[steps["chosen"]]
        ax.scatter(
            chosen["coverage"], chosen["density"], s=140, facecolors="none", edgecolors="#d62728"
        )
        ax.axhline(density, color="#999", lw=0.8, ls="--")
        ax.set(
            xlim=(0, 1.02),
            ylim=(0, 1.02),
            xlabel="coverage",
            ylabel="density",
            title=f"PRIM box {number}",
        )
    fig.colorbar(points, ax=list(axes), label="restricted parameters", ticks=range(top + 1))
    return figure_png(fig, DPI)


def limits_figure(boxes: pd.DataFrame, method: str, number: int) -> bytes:
    """A box's limits on each restricted parameter, within the parameter's range (grey)."""
    box = boxes[(boxes["method"] == method) & (boxes["box"] == number) & boxes["restricted"]]
    fig = Figure(figsize=(6.5, 0.5 + 0.45 * max(len(box), 1)), layout="constrained")
    ax = fig.subplots()
    for row, b in enumerate(box.to_dict("records")):
        span = b["range_high"] - b["range_low"] or 1.0
        low, high = ((b[end] - b["range_low"]) / span for end in ("low", "high"))
        ax.plot([0, 1], [row, row], color="#ccc", lw=6, solid_capstyle="butt")
        ax.plot([low, high], [row, row], color="#1f77b4", lw=6, solid_capstyle="butt")
        ax.text(low, row + 0.28, f"{b['low']:.3g}", ha="center", fontsize=8)
        ax.text(high, row + 0.28, f"{b['high']:.3g}", ha="center", fontsize=8)
    ax.set_yticks(range(len(box)), list(box["parameter"]), fontsize=8)
    ax.set_ylim(-0.6, len(box) - 0.2)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["lowest in design", "highest in design"], fontsize=8)
    ax.set_title(
        f"{method.upper()} box {number}: coverage {box['coverage'].iloc[0]:.2f}, "
        f"density {box['density'].iloc[0]:.2f}",
        fontsize=9,
    )
    return figure_png(fig, DPI)


def scores_figure(scores: pd.DataFrame) -> bytes:
    fig = Figure(figsize=(6.5, 0.8 + 0.35 * len(scores)), layout="constrained")
    ax = fig.subplots()
    rows = np.arange(len(scores))[::-1]
    ax.barh(rows + 0.2, scores["score_interest"], height=0.4, label="cases of interest")
    ax.barh(rows - 0.2, scores["score_mean"], height=0.4, label="mean outcome")
    ax.set_yticks(rows, list(scores["parameter"]), fontsize=8)
    ax.set_xlabel("extra-trees feature score")
    ax.legend(fontsize=8)
    return figure_png(fig, DPI)


def _box_table(boxes: pd.DataFrame, method: str) -> pd.DataFrame:
    chosen = boxes[(boxes["method"] == method) & boxes["restricted"]]
    columns = ["box", "parameter", "low", "high", "range_low", "range_high"]
    columns += ["qp_low", "qp_high"] if method == "prim" else []
    return chosen[[*columns, "coverage", "density", "mass"]]


def page(d: Discovery, command: str) -> str:
    """The self-contained HTML page of a discovery."""
    intro = [
        f"Design: {d.design.folder} ({d.design.manifest.get('design', '?')}, "
        f"{len(d.points)} points, parameters {', '.join(d.design.parameters)}).",
        f"Outcome: {d.target.outcome}, {d.averaging()}. Cases of interest: {d.target.describe()}: "
        f"{int(d.points['of_interest'].sum())} of {len(d.points)} points.",
        "Coverage: the share of all cases of interest inside a box. Density: the share of the "
        "points inside a box that are of interest. Mass: the share of all points inside.",
        f"Command: {command}",
    ]
    most = d.max_restricted
    readable = "" if most is None else f" of the steps restricting at most {most} parameter(s)"
    kept = (
        ""
        if most is None
        else ", but a box kept to few parameters is the densest such step even when it falls "
        "below (its density says so)"
    )
    prim = Section(
        "prim",
        "PRIM boxes",
        f"PRIM peels the parameter space towards the cases of interest; each panel is one "
        f"box's peeling trajectory (every step a candidate box), the ringed point PRIM's "
        f"choice (its densest{readable}). Boxes need density >= {d.density:g} (dashed){kept}; "
        "a later box is found among the points outside the earlier ones. Another step of a "
        "trajectory "
        "is in prim_trajectory.csv. qp: the quasi-p value of a limit (small: the limit "
        "matters).",
    )
    if d.trajectory.empty:
        prim.add_text(f"PRIM found no box of density >= {d.density:g}; lower --density.", "note")
    else:
        prim.add_image(tradeoff_figure(d.trajectory, d.density), "coverage-density trade-off")
        prim.add_table(_box_table(d.boxes, "prim"))
        for number in sorted(d.trajectory["box"].unique()):
            prim.add_image(limits_figure(d.boxes, "prim", int(number)), f"PRIM box {number}")
    cart = Section(
        "cart",
        "CART leaves",
        "A classification tree's leaves that it classifies as cases of interest (density "
        "above 1/2), densest first: each leaf a box of parameter ranges.",
    )
    cart_table = _box_table(d.boxes, "cart")
    if cart_table.empty:
        cart.add_text("No leaf has a majority of cases of interest.", "note")
    else:
        cart.add_table(cart_table)
    scores = Section(
        "scores",
        "Feature scores",
        "Extra-trees importance of each parameter for telling the cases of interest apart "
        "and for the mean outcome (each sums to 1; higher: more influential).",
    )
    scores.add_image(scores_figure(d.scores), "feature scores")
    scores.add_table(d.scores)
    return document(f"Scenario discovery: {d.target.describe()}", intro, [prim, cart, scores])


def provenance(d: Discovery, command: str) -> dict[str, Any]:
    versions = {name: _version(name) for name in ("ema_workbench", "pandas", "scikit-learn")}
    return {
        **stamp(),
        "command": command,
        "design": str(d.design.folder),
        "design_config_digest": d.design.manifest.get("config_digest"),
        "design_study": design_study(d.design.manifest),
        "outcome": d.target.outcome,
        "direction": d.target.direction,
        "threshold": d.target.threshold,
        "density": d.density,
        "max_restricted": d.max_restricted,
        "points": len(d.points),
        "of_interest": int(d.points["of_interest"].sum()),
        "runs_per_point": sorted({int(n) for n in d.replicates}),
        "libraries": versions,
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def write_discovery(d: Discovery, out: Path, command: str) -> Path:
    """Every file of a discovery into ``out``, atomically (an earlier one is replaced)."""
    with atomic_folder(out) as staging:
        d.boxes.to_csv(staging / "boxes.csv", index=False)
        d.trajectory.to_csv(staging / "prim_trajectory.csv", index=False)
        d.scores.to_csv(staging / "feature_scores.csv", index=False)
        d.points.to_csv(staging / "points.csv", index=False)
        meta = json.dumps(provenance(d, command), indent=2) + "\n"
        (staging / "discovery.json").write_text(meta)
        (staging / "discovery.html").write_text(page(d, command), encoding="utf-8")
    return out


def parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog=PROG,
        description="Scenario discovery on a finished design (alignment-sim experiment=lhs ...) "
        "or robustness study (alignment-sim-robustness): PRIM and CART "
        "boxes and feature scores for the points where an outcome's mean over the point's "
        "runs is above or below a threshold.",
    )
    p.add_argument(
        "design",
        type=Path,
        metavar="DESIGN_FOLDER",
        help="a finished design folder, or a robustness study's folder (its outcomes: "
        "pattern_<id>, check_<id>, patterns_held, value_<check>, baseline_<check>)",
    )
    p.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="an outcome of runs.parquet (e.g. mean_share_hedge), or NAME=VALUE for a "
        "categorical one (e.g. final_label_uzbekistan=hedge: the share of runs)",
    )
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--above", type=float, metavar="X", help="cases of interest: mean > X")
    side.add_argument("--below", type=float, metavar="X", help="cases of interest: mean < X")
    p.add_argument(
        "--density",
        type=float,
        default=DEFAULT_DENSITY,
        help=f"PRIM's density threshold, in (0, 1] (default {DEFAULT_DENSITY})",
    )
    p.add_argument(
        "--boxes",
        type=int,
        default=DEFAULT_BOXES,
        help=f"at most this many PRIM boxes (default {DEFAULT_BOXES})",
    )
    p.add_argument(
        "--max-restricted",
        type=int,
        default=None,
        metavar="K",
        help="report each PRIM box as the densest step of its peeling that restricts at "
        "most K parameters (default: PRIM's own, its densest); for many parameters, as in "
        "a robustness study",
    )
    p.add_argument("--out", type=Path, help="output folder (default results/discover/<time>/)")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``alignment-sim-discover``."""
    cli = parser()
    args = cli.parse_args(argv)
    command = command_line(PROG, argv)
    direction = "above" if args.above is not None else "below"
    target = Target(args.outcome, direction, args.above if args.above is not None else args.below)
    with command_errors(PROG, "nothing was written", parser=cli):
        if not 0 < args.density <= 1:
            raise ConfigError("--density", args.density, "a density in (0, 1]")
        if args.boxes < 1:
            raise ConfigError("--boxes", args.boxes, "a whole number >= 1")
        if args.max_restricted is not None and args.max_restricted < 1:
            raise ConfigError("--max-restricted", args.max_restricted, "a whole number >= 1")
        if not np.isfinite(target.threshold):
            raise ConfigError(f"--{direction}", target.threshold, "a finite number")
        out = args.out or timestamped_folder("discover")
        check_replaceable(out, FILES, "discovery")
        design = read_design(args.design)
        result = discover(
            design,
            target,
            args.density,
            args.boxes,
            progress=True,
            max_restricted=args.max_restricted,
        )
        write_discovery(result, out, command)
    print(result.summary())
    print(f"wrote {out / 'discovery.html'}")


if __name__ == "__main__":
    main()
