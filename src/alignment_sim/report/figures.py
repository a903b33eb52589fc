"""The report's figures, drawn with matplotlib's object API (no pyplot, no display).

Each function takes a tidy table of the report and returns the figure as PNG bytes, so
the page can embed it and the command can also save it next to the tables.

Figures are laid out once, by hand (``arrange``): the margins come from the font metrics
of the texts around the axes (tick labels, axis labels, titles). Matplotlib's constrained
layout measures every artist in an extra drawing pass first, which doubled the report's
drawing time. For the same reason the titles and axis labels get fixed places
(``set_title``, ``pin_axis_labels``), automatic ticks are cut to those shown
(``fix_ticks``), a heatmap's cell values are one collection of glyph outlines
(``centred_texts``) and figures are drawn once into an RGB PNG (``_png``).
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colorbar import Colorbar
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.image import AxesImage
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.textpath import TextPath
from matplotlib.ticker import FixedLocator
from matplotlib.transforms import Affine2D, ScaledTranslation
from PIL import Image

from alignment_sim.report.page import leading_causes, panel_title

DPI = 110
SHOWN_ZERO = 0.0005
"""A heatmap cell below this (in absolute value) would read 0.0% (or -0.0%): left blank."""
WIDE_OPTIONS = 6
"""Heatmaps with more columns than this (the profiles) get narrower cells, fewer panels a row."""

PAD = 4 / 72
"""Space (inches) kept free at the figure's edges and between neighbouring panels' texts."""
MIN_PANEL = 1.2
"""The least width and height of a panel, inches: a figure grows to keep it."""
FOOT_LEGEND = "foot-legend"
"""The gid of a legend at a figure's foot (``bottom_legend``), kept there as it grows."""
TICK_SPACE = 7 / 72
"""A tick (3.5 pt) and the gap to its label (3.5 pt): matplotlib's defaults, in inches."""
LABEL_PAD = 4 / 72
TITLE_PAD = 6 / 72
COLORBAR_WIDTH = 0.18


def _new_figure(width: float, height: float) -> Figure:
    """A figure of that size (inches) with an Agg canvas, so texts can be measured."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _renderer(fig: Figure) -> RendererAgg:
    """The renderer of a figure made by ``_new_figure`` (what its texts are measured with)."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas.get_renderer()


def text_extent(text: Text) -> tuple[float, float]:
    """Width and height (inches) a text takes as drawn (its lines and rotation), measured
    by the figure's own renderer; (0, 0) when hidden or empty."""
    if not text.get_text() or not text.get_visible():
        return 0.0, 0.0
    figure = text.get_figure(root=True)
    assert isinstance(figure, Figure)
    box = text.get_window_extent(_renderer(figure))
    return box.width / figure.dpi, box.height / figure.dpi


@dataclass(frozen=True)
class Room:
    """Inches an axes' texts need outside its box on each side, and how far from its box
    its y and x axis labels start (past the tick labels and ``LABEL_PAD``)."""

    left: float
    right: float
    top: float
    bottom: float
    ylabel_at: float
    xlabel_at: float


def _ticks(texts: list[Text]) -> list[tuple[float, float]]:
    return [text_extent(t) for t in texts if t.get_visible() and t.get_text()]


def room(ax: Axes) -> Room:
    """The room an axes' tick labels, axis labels and title take around its box.

    Rotated x tick labels aligned right stick out to the left of their tick by their whole
    width, centred ones by half of it on either side."""
    y = _ticks(ax.get_yticklabels())
    x_labels = ax.get_xticklabels()
    x = _ticks(x_labels)
    ylabel_at = ((max(w for w, _ in y) + TICK_SPACE) if y else 0.0) + LABEL_PAD
    label_width = text_extent(ax.yaxis.label)[0]
    left = ylabel_at + label_width if label_width else ylabel_at - LABEL_PAD
    xlabel_at = ((max(h for _, h in x) + TICK_SPACE) if x else 0.0) + LABEL_PAD
    label_height = text_extent(ax.xaxis.label)[1]
    bottom = xlabel_at + label_height if label_height else xlabel_at - LABEL_PAD
    title_height = text_extent(ax.title)[1]
    top = title_height + TITLE_PAD if title_height else 0.0
    sticks_out = 0.0
    right = 0.0
    if x:
        rotated = x_labels[0].get_horizontalalignment() == "right"
        sticks_out = max(w for w, _ in x) * (1.0 if rotated else 0.5)
        right = 0.0 if rotated else sticks_out
    return Room(max(left, sticks_out), right, top, bottom, ylabel_at, xlabel_at)


def pin_axis_labels(ax: Axes, room: Room) -> None:
    """Put the axes' axis labels where matplotlib would (``LABEL_PAD`` past the tick
    labels), as measured in ``room``, so it does not measure all tick labels again at
    every draw to find that place."""
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    inches = figure.dpi_scale_trans
    below = ax.transAxes + ScaledTranslation(0, -room.xlabel_at, inches)
    ax.xaxis.set_label_coords(0.5, 0.0, below)
    beside = ax.transAxes + ScaledTranslation(-room.ylabel_at, 0, inches)
    ax.yaxis.set_label_coords(0.0, 0.5, beside)


def arrange(
    fig: Figure, axes: np.ndarray, bottom: float = 0.0, right: float = 0.0
) -> tuple[float, float, float, float]:
    """Place a grid of axes (nrows, ncols; hidden ones ignored) so that every panel's texts
    (``room``) fit, ``bottom`` and ``right`` inches are kept free (a legend, a colorbar),
    and the panels share the rest equally; the axis labels are pinned (``pin_axis_labels``).
    Returns the grid's box (left, bottom, right, top) in figure fractions."""
    width, height = fig.get_size_inches()
    nrows, ncols = axes.shape
    rooms: dict[tuple[int, int], Room] = {}
    for (i, j), ax in np.ndenumerate(axes):
        if ax.get_visible():
            rooms[(i, j)] = room(ax)
            pin_axis_labels(ax, rooms[(i, j)])

    def most(values: list[float]) -> float:
        return max(values, default=0.0)

    left_edge = PAD + most([r.left for (i, j), r in rooms.items() if j == 0])
    right_edge = PAD + right + most([r.right for (i, j), r in rooms.items() if j == ncols - 1])
    top_edge = PAD + most([r.top for (i, j), r in rooms.items() if i == 0])
    lowest = {j: max(i for i, k in rooms if k == j) for j in {k for _, k in rooms}}
    bottom_edge = PAD + bottom + most([rooms[(i, j)].bottom for j, i in lowest.items()])
    wgap = most(
        [
            most([r.right for (i, k), r in rooms.items() if k == j - 1])
            + most([r.left for (i, k), r in rooms.items() if k == j])
            for j in range(1, ncols)
        ]
    )
    hgap = most(
        [
            most([r.bottom for (k, j), r in rooms.items() if k == i - 1])
            + most([r.top for (k, j), r in rooms.items() if k == i])
            for i in range(1, nrows)
        ]
    )
    wgap, hgap = wgap + PAD, hgap + PAD
    # texts and legends that leave a panel less than MIN_PANEL (many scenarios' legend):
    # the figure grows to hold them, where matplotlib refused a box with bottom >= top
    need_width = left_edge + right_edge + wgap * (ncols - 1) + MIN_PANEL * ncols
    need_height = top_edge + bottom_edge + hgap * (nrows - 1) + MIN_PANEL * nrows
    if need_width > width or need_height > height:
        width, height = max(width, need_width), max(height, need_height)
        fig.set_size_inches(width, height)
        for legend in fig.legends:  # a foot legend stays at the foot (bottom_legend)
            if legend.get_gid() == FOOT_LEGEND:
                legend.set_bbox_to_anchor((0.5, PAD / height), transform=fig.transFigure)
    panel_width = (width - left_edge - right_edge - wgap * (ncols - 1)) / ncols
    panel_height = (height - top_edge - bottom_edge - hgap * (nrows - 1)) / nrows
    box = (left_edge / width, bottom_edge / height, 1 - right_edge / width, 1 - top_edge / height)
    fig.subplots_adjust(
        left=box[0],
        bottom=box[1],
        right=box[2],
        top=box[3],
        wspace=wgap / max(panel_width, 1e-3),
        hspace=hgap / max(panel_height, 1e-3),
    )
    return box


def bottom_legend(fig: Figure, axes: Axes, columns: int) -> float:
    """The legend of ``axes``' lines centred at the figure's foot; returns its height
    (inches) plus a gap, the room ``arrange`` keeps for it."""
    handles, names = axes.get_legend_handles_labels()
    height = fig.get_size_inches()[1]
    legend = fig.legend(
        handles,
        names,
        loc="lower center",
        bbox_to_anchor=(0.5, PAD / height),
        ncols=columns,
        fontsize=8,
    )
    legend.set_gid(FOOT_LEGEND)
    return legend.get_window_extent(_renderer(fig)).height / fig.dpi + PAD


def _colours(labels: list[str]) -> dict[str, str]:
    """One colour per scenario, the same in every figure (the baseline in black)."""
    palette = ["#000000", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    palette += ["#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _png(fig: Figure) -> bytes:
    """The figure drawn once and saved as an opaque (RGB) PNG with fast compression: the
    figures are opaque, and RGB at zlib level 1 makes files no larger than matplotlib's
    RGBA at level 6 in about half the time."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1, dpi=(DPI, DPI))
    return buffer.getvalue()


def fix_ticks(ax: Axes) -> None:
    """Replace the automatic tick positions of the axes' x and y axes by the ones they
    take inside the final limits: matplotlib's locators add ticks beyond them, and each
    is built as a Tick (two lines, a grid line, two labels) only to be left out. Call it
    when nothing more is plotted; axes that share an axis share its positions."""
    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if isinstance(axis.get_major_locator(), FixedLocator):
            continue
        low, high = sorted(limits)
        slack = 1e-10 * (high - low)  # matplotlib's tolerance for ticks on the limits
        shown = [t for t in axis.get_majorticklocs() if low - slack <= t <= high + slack]
        axis.set_major_locator(FixedLocator(shown))


def set_title(ax: Axes, title: str, fontsize: float) -> None:
    """The panel's title at a fixed height above its box (no ticks or labels are drawn on
    top), so matplotlib does not measure the tick labels at every draw to place it."""
    ax.set_title(title, fontsize=fontsize, y=1.0)


def wrap(label: str, width: int = 38) -> str:
    """A long label on several lines (at commas first), for titles and legends; a word
    longer than ``width`` (``scenario=western_conditionality``) is kept whole."""
    return textwrap.fill(
        label.replace(",", ", "), width, break_long_words=False, break_on_hyphens=False
    )


def placed_events(events: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    """The events that start in the runs: (label, event, start, end) each."""
    placed = events.dropna(subset=["start"])
    return list(
        zip(
            placed["label"].astype(str),
            placed["event"].astype(str),
            placed["start"].to_numpy(dtype=float),
            placed["end"].to_numpy(dtype=float),
            strict=True,
        )
    )


def mark_events(
    ax: Axes, events: list[tuple[str, str, float, float]], colours: dict[str, str]
) -> None:
    """A shaded band for each event (``placed_events``) while it is in force (a line
    where it starts and ends in one tick), labelled with its name, in its scenario's
    colour."""
    for n, (label, event, start, end) in enumerate(events):
        colour = colours.get(label, "grey")
        if end > start:
            ax.axvspan(start, end, color=colour, alpha=0.07, lw=0)
        ax.axvline(start, color=colour, lw=1, ls="--", alpha=0.8)
        ax.text(
            start,
            1.0 - 0.09 * (n % 4),
            f" {event}",
            transform=ax.get_xaxis_transform(),
            color=colour,
            fontsize=7,
            va="top",
            ha="left",
            gid="event",
        )


def band_outlines(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> list[np.ndarray]:
    """The outline of the band between ``low`` and ``high`` over ``x``: one polygon per
    stretch where all three are finite (where ``fill_between`` would leave gaps)."""
    finite = np.isfinite(x) & np.isfinite(low) & np.isfinite(high)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(int), [0]])))
    return [
        np.column_stack([np.r_[x[a:b], x[a:b][::-1]], np.r_[high[a:b], low[a:b][::-1]]])
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def shares_figure(
    table: pd.DataFrame,
    labels: list[str],
    panels: list[tuple[str, str]],
    events: pd.DataFrame | None = None,
) -> Figure:
    """One panel per share (kind, option): per scenario the mean share over runs (line),
    the 95% interval of that mean (dark band) and the spread of the runs from their 10th to
    their 90th percentile (light band), with the scenarios' events marked. Panels share
    the y-axis (0 to 1), so heights compare across panels; tick labels and axis labels are
    on the outer panels only. Each panel's bands are one collection of polygons."""
    colours = _colours(labels)
    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig = _new_figure(5.2 * ncols, 3.3 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    spreads = [("p10", "p90", 0.08)] if "p10" in table else []
    bands = [*spreads, ("ci_low", "ci_high", 0.3)]
    series = dict(list(table.groupby(["kind", "option", "label"], sort=False)))
    placed = placed_events(events) if events is not None else []
    for ax, (kind, option) in zip(axes.flat, panels, strict=False):
        outlines: list[np.ndarray] = []
        fills: list[tuple[float, float, float, float]] = []
        for label in labels:
            rows = series.get((kind, option, label))
            if rows is None:  # a scenario without this share
                continue
            year = rows["year"].to_numpy(dtype=float)
            colour = colours[label]
            ax.plot(year, rows["mean"], color=colour, lw=1.8, label=wrap(label))
            for low, high, alpha in bands:
                parts = band_outlines(
                    year, rows[low].to_numpy(dtype=float), rows[high].to_numpy(dtype=float)
                )
                outlines += parts
                fills += [to_rgba(colour, alpha)] * len(parts)
        ax.add_collection(PolyCollection(outlines, facecolors=fills, edgecolors=fills))
        mark_events(ax, placed, colours)
        set_title(ax, panel_title(kind, option), 11)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        fix_ticks(ax)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of states")
    for column in axes.T:  # the lowest panel of each column shows the years
        lowest = [ax for ax in column if ax.get_visible()][-1]
        lowest.xaxis.set_tick_params(labelbottom=True)
        lowest.set_xlabel("year")
    arrange(fig, axes, bottom=bottom_legend(fig, axes.flat[0], min(len(labels), 3)))
    return fig


def shares_over_time(
    table: pd.DataFrame,
    labels: list[str],
    panels: list[tuple[str, str]],
    events: pd.DataFrame | None = None,
) -> bytes:
    """``shares_figure`` as PNG."""
    return _png(shares_figure(table, labels, panels, events))


def outcome_distributions(
    runs: dict[str, pd.DataFrame], labels: list[str], metrics: list[str]
) -> bytes:
    """The distribution over runs of each metric, per scenario (histograms as outlines,
    as a share of each scenario's runs), with each scenario's mean as a tick. The outlines
    are lines, not ``stairs`` patches, whose data limits matplotlib finds segment by
    segment in Python."""
    colours = _colours(labels)
    ncols = 3 if len(metrics) > 2 else len(metrics)
    nrows = math.ceil(len(metrics) / ncols)
    fig = _new_figure(4.2 * ncols, 2.8 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        values = [runs[label][metric].to_numpy(dtype=float) for label in labels]
        low = min(float(v.min()) for v in values)
        high = max(float(v.max()) for v in values)
        whole = all(np.allclose(v, np.round(v)) for v in values) and high - low <= 60
        bins = np.arange(low - 0.5, high + 1.5) if whole else np.linspace(low, high + 1e-9, 31)
        for label, v in zip(labels, values, strict=True):
            heights, edges = np.histogram(v, bins=bins)
            colour = colours[label]
            outline = np.concatenate([[0.0], np.repeat(heights / len(v), 2), [0.0]])
            (line,) = ax.plot(
                np.repeat(edges, 2), outline, color=colour, lw=1.5, label=wrap(label),
                solid_joinstyle="miter", solid_capstyle="butt",
            )  # fmt: skip
            line.sticky_edges.y.append(0.0)  # the y-axis starts at 0
            ax.axvline(v.mean(), color=colour, lw=1, ls=":")
        set_title(ax, metric, 10)
        ax.set_ylabel("share of runs")
        ax.grid(alpha=0.3)
        fix_ticks(ax)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    arrange(fig, axes, bottom=bottom_legend(fig, axes.flat[0], min(len(labels), 3)))
    return _png(fig)


def margin_drivers(
    table: pd.DataFrame, labels: list[str], states: int = 5, terms: int = 4
) -> bytes:
    """Per scenario, the states that move most: the change of the margin of the profile
    each joins over the one it leaves, split into its largest causes (bars with 95%
    intervals) and the switching cost that only records the move (grey, hatched)."""
    colours = _colours(labels)
    others = [label for label in labels if label in set(table["label"])]
    rows_per = [
        min(states, table[table["label"] == label]["state"].nunique()) * (terms + 2)
        for label in others
    ]
    fig = _new_figure(8.5, 0.22 * sum(rows_per) + 1.1 * len(others) + 0.3)
    axes = fig.subplots(len(others), 1, squeeze=False)
    for ax, label in zip(axes[:, 0], others, strict=True):
        shown = shown_margins(table[table["label"] == label], states, terms)
        names = [
            f"{state} ({leaves} → {joins}): {term}"
            for state, leaves, joins, term in zip(
                shown["state"], shown["leaves"], shown["joins"], shown["term"], strict=True
            )
        ]
        consequence = (shown["role"] == "consequence").to_numpy()
        colour = ["#999999" if c else colours[label] for c in consequence]
        hatch = ["//" if c else "" for c in consequence]
        y = np.arange(len(names))
        c = shown["change"].to_numpy(dtype=float)
        err = np.abs(
            np.vstack(
                [
                    c - shown["ci_low"].to_numpy(dtype=float),
                    shown["ci_high"].to_numpy(dtype=float) - c,
                ]
            )
        )
        bars = ax.barh(y, c, xerr=np.nan_to_num(err), color=colour, alpha=0.85, capsize=2)
        for bar, h in zip(bars, hatch, strict=True):
            bar.set_hatch(h)
        ax.set_yticks(y, names, fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=1)
        set_title(ax, wrap(label, 70), 10)
        ax.set_xlabel("change of the margin (joins minus leaves) vs baseline, utility units")
        ax.grid(axis="x", alpha=0.3)
    arrange(fig, axes)
    return _png(fig)


def shown_margins(part: pd.DataFrame, states: int, terms: int) -> pd.DataFrame:
    """The rows of one scenario's margin drivers that ``margin_drivers`` draws: for each of
    its first ``states`` states, its first ``terms`` non-zero causes, its consequences and
    'all causes', in that order."""
    picked = list(dict.fromkeys(part["state"]))[:states]
    part = part[part["state"].isin(picked)]
    at = pd.Index(picked).get_indexer(part["state"])
    role, term = part["role"].to_numpy(), part["term"].to_numpy()
    block = np.select(
        [leading_causes(part, terms), role == "consequence", term == "all causes"], [0, 1, 2], -1
    )
    order = np.lexsort((np.arange(len(part)), block, at))
    return part.iloc[order[block[order] >= 0]]


def _heatmap(ax: Axes, matrix: np.ndarray, cmap: str, vmin: float, vmax: float) -> AxesImage:
    """Coloured cells with their value written in (blank where it rounds to 0.0%)."""
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    diverging = vmin < 0
    cells: list[tuple[float, float, str, str]] = []
    for (i, j), value in np.ndenumerate(matrix):
        if not np.isfinite(value) or abs(value) < SHOWN_ZERO:
            continue
        strong = abs(value) > 0.55 * vmax if diverging else value > 0.55 * vmax
        digits = 0 if abs(value) >= 0.01 else 1
        text = f"{value:+.{digits}%}" if diverging else f"{value:.{digits}%}"
        cells.append((j, i, text, "white" if strong else "black"))
    centred_texts(ax, cells, fontsize=8)
    return image


@functools.lru_cache(maxsize=4096)
def centred_outline(text: str, font: FontProperties) -> Path:
    """The glyph outlines of ``text`` in points, centred on (0, 0) by their control
    points (cached: a report's heatmaps repeat few distinct values)."""
    outline = TextPath((0, 0), text, prop=font)
    points = outline.vertices[outline.codes != Path.CLOSEPOLY]
    middle = (points.min(axis=0) + points.max(axis=0)) / 2
    return Affine2D().translate(*-middle).transform_path(outline)


def centred_texts(
    ax: Axes, texts: list[tuple[float, float, str, str]], fontsize: float
) -> PathCollection:
    """Texts (x, y in data coordinates, text, colour) centred on their points, drawn as
    one collection of glyph outlines: a heatmap's hundreds of cell values cost one
    artist, not a Text each that matplotlib lays out and renders glyph by glyph."""
    font = FontProperties(size=fontsize)
    collection = PathCollection(
        [centred_outline(text, font) for _, _, text, _ in texts],
        offsets=[(x, y) for x, y, _, _ in texts],
        offset_transform=ax.transData,
        facecolors=[colour for _, _, _, colour in texts],
        edgecolors="none",
        linewidths=0,
        zorder=3,
    )
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    collection.set_transform(Affine2D().scale(1 / 72) + figure.dpi_scale_trans)
    ax.add_collection(collection, autolim=False)
    return collection


def matrices(table: pd.DataFrame, value: str, axes: dict[str, list[str]]) -> np.ndarray:
    """``table[value]`` as an array with one axis per column of ``axes`` (its keys, in
    their order), e.g. a (state x option) matrix per label; NaN where a row is missing."""
    at = [pd.Index(keys).get_indexer(pd.Index(table[column])) for column, keys in axes.items()]
    found = np.logical_and.reduce([codes >= 0 for codes in at])
    cube = np.full([len(keys) for keys in axes.values()], np.nan)
    cube[tuple(codes[found] for codes in at)] = table[value].to_numpy(dtype=float)[found]
    return cube


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
    fig = _new_figure(width, 0.3 * len(states) * nrows + 1.2 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    limit = 1.0
    if diverging:
        finite = table[value].abs().dropna()
        limit = max(float(finite.max()) if len(finite) else 0.0, 0.05)
    image = None
    cube = matrices(table, value, {"label": labels, "state": states, "option": options})
    for ax, label, matrix in zip(axes.flat, labels, cube, strict=False):
        if diverging:
            image = _heatmap(ax, matrix, "RdBu_r", -limit, limit)
        else:
            image = _heatmap(ax, matrix, "Blues", 0.0, 1.0)
        ax.set_xticks(range(len(options)), options, rotation=30, ha="right")
        ax.set_yticks(range(len(states)), states)
        set_title(ax, wrap(label, 30), 9)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    if image is None:
        arrange(fig, axes)
        return _png(fig)
    caption = "change of probability vs baseline" if diverging else "probability"
    bar = fig.colorbar(image, cax=fig.add_axes((0.9, 0.1, 0.02, 0.8)), label=caption)
    beside = room(bar.ax)  # its ticks and label stand right of it: "left" is their width
    gap = 2 * PAD
    left, bottom, right, top = arrange(fig, axes, right=gap + COLORBAR_WIDTH + beside.left)
    _place_colorbar(fig, bar, (left, bottom, right, top), gap)
    return _png(fig)


def _place_colorbar(
    fig: Figure, bar: Colorbar, grid: tuple[float, float, float, float], gap: float
) -> None:
    """The colorbar right of the grid (figure fractions), ``gap`` inches away, 80% of its
    height, centred; its ticks and label on its right."""
    width = fig.get_size_inches()[0]
    _, bottom, right, top = grid
    tall = 0.8 * (top - bottom)
    bar.ax.set_position(
        (right + gap / width, bottom + (top - bottom - tall) / 2, COLORBAR_WIDTH / width, tall)
    )


def effect_sizes(table: pd.DataFrame, labels: list[str]) -> bytes:
    """Cohen's d of every metric against the baseline, with its 95% interval."""
    colours = _colours(labels)
    metrics = list(dict.fromkeys(table["metric"]))
    others = [label for label in labels if label in set(table["label"])]
    fig = _new_figure(7.5, 0.38 * len(metrics) + 1.4)
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
            d, y, xerr=np.abs(err), fmt="o", ms=4, capsize=2, color=colours[label],
            label=wrap(label),
        )  # fmt: skip
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(range(len(metrics)), metrics)
    ax.invert_yaxis()
    ax.set_xlabel("standardised effect (Cohen's d) vs baseline, 95% interval")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    arrange(fig, np.array([[ax]]))
    return _png(fig)


def term_drivers(table: pd.DataFrame, labels: list[str], top: int = 12) -> bytes:
    """For each scenario, the largest changes of a term's contribution vs the baseline
    (bars labelled state · profiles · term, with 95% intervals); ``table`` holds one row
    per change (``stats.term_drivers``' ranks)."""
    colours = _colours(labels)
    others = [label for label in labels if label in set(table["label"])]
    fig = _new_figure(8.5, (0.3 * top + 0.9) * len(others) + 0.3)
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
        set_title(ax, wrap(label, 70), 10)
        ax.set_xlabel(f"change of the term's mean contribution to utility vs {baseline}")
        ax.grid(axis="x", alpha=0.3)
        ax.use_sticky_edges = False
        ax.margins(x=0.06)
    arrange(fig, axes)
    return _png(fig)
