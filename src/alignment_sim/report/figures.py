"""The report's figures, drawn with matplotlib's object API (no pyplot, no display).

Each function takes a tidy table of the report and returns the figure as PNG bytes, so
the page can embed it and the command can also save it next to the tables.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

DPI = 110
WIDE_OPTIONS = 6
"""Heatmaps with more columns than this (the profiles) get narrower cells, fewer panels a row."""


def _colours(labels: list[str]) -> dict[str, str]:
    """One colour per scenario, the same in every figure (the baseline in black)."""
    palette = ["#000000", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    palette += ["#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def panel_title(kind: str, option: str) -> str:
    """A share's name for people: a record label as is, a dimension's option with it."""
    return option if kind == "label" else f"{kind}: {option}"


def shares_over_time(
    table: pd.DataFrame, labels: list[str], panels: list[tuple[str, str]]
) -> bytes:
    """One panel per share (kind, option): the mean share per scenario over time with its
    95% band."""
    colours = _colours(labels)
    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.3 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, (kind, option) in zip(axes.flat, panels, strict=False):
        share = table[(table["kind"] == kind) & (table["option"] == option)]
        for label in labels:
            rows = share[share["label"] == label]
            ax.plot(rows["year"], rows["mean"], color=colours[label], lw=1.8, label=label)
            ax.fill_between(
                rows["year"], rows["ci_low"], rows["ci_high"], color=colours[label], alpha=0.18
            )
        ax.set_title(panel_title(kind, option), fontsize=11)
        ax.set_ylabel("share of states")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(len(labels), 4))
    return _png(fig)


def _heatmap(ax: Axes, matrix: np.ndarray, cmap: str, vmin: float, vmax: float) -> AxesImage:
    """Coloured cells with their value written in (blank for exactly zero)."""
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    diverging = vmin < 0
    for (i, j), value in np.ndenumerate(matrix):
        if not np.isfinite(value) or value == 0:
            continue
        strong = abs(value) > 0.55 * vmax if diverging else value > 0.55 * vmax
        digits = 0 if abs(value) >= 0.01 else 1
        text = f"{value:+.{digits}%}" if diverging else f"{value:.{digits}%}"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if strong else "black",
        )
    return image


def alignment_heatmaps(
    table: pd.DataFrame,
    labels: list[str],
    states: list[str],
    options: list[str],
    value: str = "probability",
    diverging: bool = False,
) -> bytes:
    """One panel per scenario: each state's chance (or change of chance) of each option (a
    record label or a profile)."""
    many = len(options) > WIDE_OPTIONS
    ncols = min(len(labels), 2 if many else 3)
    nrows = math.ceil(len(labels) / ncols)
    width = 1.8 + ((0.5 if many else 0.7) * len(options) + 0.5) * ncols + 0.9
    fig = Figure(figsize=(width, 0.3 * len(states) * nrows + 1.2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    limit = 1.0
    if diverging:
        finite = table[value].abs().dropna()
        limit = max(float(finite.max()) if len(finite) else 0.0, 0.05)
    image = None
    for ax, label in zip(axes.flat, labels, strict=False):
        rows = table[table["label"] == label]
        wide = rows.pivot(index="state", columns="option", values=value)
        matrix = wide.reindex(index=states, columns=options).to_numpy(dtype=float)
        if diverging:
            image = _heatmap(ax, matrix, "RdBu_r", -limit, limit)
        else:
            image = _heatmap(ax, matrix, "Blues", 0.0, 1.0)
        ax.set_xticks(range(len(options)), options, rotation=30, ha="right")
        ax.set_yticks(range(len(states)), states)
        ax.set_title(label, fontsize=9)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    if image is not None:
        caption = "change of probability vs baseline" if diverging else "probability"
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=caption)
    return _png(fig)


def effect_sizes(table: pd.DataFrame, labels: list[str]) -> bytes:
    """Cohen's d of every metric against the baseline, with its 95% interval."""
    colours = _colours(labels)
    metrics = list(dict.fromkeys(table["metric"]))
    others = [label for label in labels if label in set(table["label"])]
    fig = Figure(figsize=(7.5, 0.38 * len(metrics) + 1.4), layout="constrained")
    ax = fig.subplots()
    offsets = np.linspace(-0.25, 0.25, len(others)) if len(others) > 1 else np.zeros(1)
    for offset, label in zip(offsets, others, strict=True):
        rows = table[table["label"] == label].set_index("metric").reindex(metrics)
        y = np.arange(len(metrics)) + offset
        d = rows["cohens_d"].to_numpy(dtype=float)
        err = np.vstack(
            [
                d - rows["d_ci_low"].to_numpy(dtype=float),
                rows["d_ci_high"].to_numpy(dtype=float) - d,
            ]
        )
        ax.errorbar(
            d, y, xerr=np.abs(err), fmt="o", ms=4, capsize=2, color=colours[label], label=label
        )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(range(len(metrics)), metrics)
    ax.invert_yaxis()
    ax.set_xlabel("standardised effect (Cohen's d) vs baseline, 95% interval")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


def term_drivers(table: pd.DataFrame, labels: list[str], top: int = 12) -> bytes:
    """For each scenario, the largest changes of a term's contribution vs the baseline
    (bars labelled state · profiles · term, with 95% intervals); ``table`` holds one row
    per change (``stats.term_drivers``' ranks)."""
    colours = _colours(labels)
    others = [label for label in labels if label in set(table["label"])]
    fig = Figure(figsize=(8.5, (0.3 * top + 0.9) * len(others) + 0.3), layout="constrained")
    axes = fig.subplots(len(others), 1, squeeze=False)
    for ax, label in zip(axes[:, 0], others, strict=True):
        rows = table[table["label"] == label].head(top)
        baseline = str(rows["baseline"].iloc[0])
        names = [
            f"{s} · {o} · {t}"
            for s, o, t in zip(rows.state, rows.applies_to, rows.term, strict=True)
        ]
        change = rows["change"].to_numpy(dtype=float)
        err = np.abs(np.vstack([change - rows["ci_low"], rows["ci_high"] - change]))
        ax.barh(range(len(rows)), change, xerr=err, color=colours[label], alpha=0.8, capsize=2)
        ax.set_yticks(range(len(rows)), names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=1)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(f"change of the term's mean contribution to utility vs {baseline}")
        ax.grid(axis="x", alpha=0.3)
        ax.use_sticky_edges = False
        ax.margins(x=0.06)
    return _png(fig)
