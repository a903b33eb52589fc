"""The report's figures on small made-up tables: what each panel shows and labels, and the
cheap ways they are drawn (one collection for a heatmap's values, pinned axis labels)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.path import Path
from PIL import Image

from alignment_sim.report import figures

LABELS = ["scenario=baseline", "scenario=other"]
PANELS = [("label", "russia"), ("security", "west"), ("economy", "open")]


def shares_table() -> pd.DataFrame:
    """Shares over 2015-2020 for both scenarios and every panel."""
    years = np.linspace(2015, 2020, 21)
    parts = []
    for n, label in enumerate(LABELS):
        for kind, option in PANELS:
            mean = 0.3 + 0.1 * n + 0.05 * np.sin(years)
            parts.append(
                pd.DataFrame(
                    {
                        "label": label,
                        "kind": kind,
                        "option": option,
                        "year": years,
                        "mean": mean,
                        "ci_low": mean - 0.02,
                        "ci_high": mean + 0.02,
                        "p10": mean - 0.1,
                        "p90": mean + 0.1,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def drawn_shares() -> tuple[Figure, list[Axes]]:
    """The shares figure drawn, and its visible panels (two columns, the last hidden)."""
    fig = figures.shares_figure(shares_table(), LABELS, PANELS)
    fig.canvas.draw()
    return fig, [ax for ax in fig.axes if ax.get_visible()]


def shown(labels: list) -> list[str]:
    return [t.get_text() for t in labels if t.get_visible() and t.get_text()]


def test_shares_panels_label_their_axes_on_the_outer_panels_only() -> None:
    _, (top_left, top_right, bottom_left) = drawn_shares()
    assert [ax.get_ylabel() for ax in (top_left, top_right, bottom_left)] == [
        "share of states",
        "",
        "share of states",
    ]
    assert shown(top_left.get_yticklabels()) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert shown(top_right.get_yticklabels()) == []  # the shared y-axis: values on the left
    assert shown(top_left.get_xticklabels()) == []
    years = ["2015", "2016", "2017", "2018", "2019", "2020"]
    assert bottom_left.get_xlabel() == "year"
    assert shown(bottom_left.get_xticklabels()) == years
    # the panel above the empty slot is its column's lowest: it shows the years too
    assert top_right.get_xlabel() == "year"
    assert shown(top_right.get_xticklabels()) == years


def test_ticks_are_only_those_inside_the_limits() -> None:
    """``fix_ticks`` keeps the automatic positions that are shown and builds no others."""
    _, panels = drawn_shares()
    for ax in panels:
        for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            ticks = axis.get_majorticklocs()
            assert len(ticks) >= 3
            assert all(low <= t <= high for t in ticks), (ticks, low, high)
            assert len(axis.majorTicks) == len(ticks)


def test_pinned_axis_labels_sit_where_matplotlib_puts_them() -> None:
    """Label pad (4 pt) beyond the outermost tick label, as matplotlib's own placement."""
    fig, (_, _, bottom_left) = drawn_shares()
    renderer = figures._renderer(fig)
    pad = figures.LABEL_PAD * fig.dpi
    ticks_left = min(t.get_window_extent(renderer).x0 for t in bottom_left.get_yticklabels())
    ylabel = bottom_left.yaxis.label.get_window_extent(renderer)
    assert ylabel.x1 == pytest.approx(ticks_left - pad, abs=1.0)
    ticks_low = min(t.get_window_extent(renderer).y0 for t in bottom_left.get_xticklabels())
    xlabel = bottom_left.xaxis.label.get_window_extent(renderer)
    assert xlabel.y1 == pytest.approx(ticks_low - pad, abs=1.0)


def test_bands_leave_gaps_where_a_bound_is_missing() -> None:
    x = np.arange(6.0)
    low = np.array([0.0, np.nan, 0.1, 0.2, 0.3, 0.4])
    high = np.array([1.0, 1.0, 1.0, 1.0, np.nan, 1.0])
    outlines = figures.band_outlines(x, low, high)
    assert [o.tolist() for o in outlines] == [
        [[0.0, 1.0], [0.0, 0.0]],
        [[2.0, 1.0], [3.0, 1.0], [3.0, 0.2], [2.0, 0.1]],
        [[5.0, 1.0], [5.0, 0.4]],
    ]
    assert figures.band_outlines(x, np.full(6, np.nan), high) == []


def test_heatmap_values_are_one_collection_centred_in_the_cells() -> None:
    """Every finite non-zero cell has its value, centred, white on dark cells; zero and
    missing cells stay blank."""
    fig = figures._new_figure(3, 3)
    ax = fig.subplots()
    matrix = np.array([[0.5, 0.0], [np.nan, 0.004], [0.9, 0.02]])
    figures._heatmap(ax, matrix, "Blues", 0.0, 1.0)
    (values,) = ax.collections
    assert values.get_offsets().tolist() == [[0, 0], [1, 1], [0, 2], [1, 2]]
    white, black = (1.0, 1.0, 1.0, 1.0), (0.0, 0.0, 0.0, 1.0)
    assert [tuple(c) for c in values.get_facecolors()] == [black, black, white, black]
    font = figures.FontProperties(size=8)
    texts = ["50%", "0.4%", "90%", "2%"]
    assert values.get_paths() == [figures.centred_outline(t, font) for t in texts]
    for path in values.get_paths():
        points = path.vertices[path.codes != Path.CLOSEPOLY]
        low, high = points.min(axis=0), points.max(axis=0)
        assert low + high == pytest.approx([0.0, 0.0], abs=1e-9)
    assert not ax.texts


def test_changes_that_round_to_zero_stay_blank() -> None:
    """A change of -0.03% would read "-0.0%": it is left blank like a zero."""
    fig = figures._new_figure(3, 3)
    ax = fig.subplots()
    figures._heatmap(ax, np.array([[-0.0003, -0.02, 0.0006]]), "RdBu", -1.0, 1.0)
    (values,) = ax.collections
    assert values.get_offsets().tolist() == [[1, 0], [2, 0]]
    font = figures.FontProperties(size=8)
    assert values.get_paths() == [figures.centred_outline(t, font) for t in ("-2%", "+0.1%")]


def test_long_labels_wrap_between_words_only() -> None:
    assert figures.wrap("scenario=western_conditionality", 30) == "scenario=western_conditionality"
    wrapped = figures.wrap("scenario=baseline,decision=logit", 20)
    assert wrapped == "scenario=baseline,\ndecision=logit"


def test_png_is_opaque_at_the_figure_size() -> None:
    fig = figures._new_figure(2, 1.5)
    fig.subplots().plot([0, 1], [0, 1])
    image = Image.open(io.BytesIO(figures._png(fig)))
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.size == (2 * figures.DPI, round(1.5 * figures.DPI))
    assert image.info["dpi"] == pytest.approx((figures.DPI, figures.DPI), abs=0.01)  # per metre


def test_distribution_outlines_start_at_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[Figure] = []
    monkeypatch.setattr(figures, "_png", lambda fig: drawn.append(fig) or b"")
    rng = np.random.default_rng(0)
    runs = {label: pd.DataFrame({"switches": rng.poisson(6, 500)}) for label in LABELS}
    figures.outcome_distributions(runs, LABELS, ["switches"])
    (ax,) = drawn[0].axes
    assert ax.get_ylim()[0] == 0.0
    first = ax.lines[0]
    assert first.get_ydata()[0] == first.get_ydata()[-1] == 0.0  # closed down to zero
    shares = first.get_ydata()[1:-1:2]
    assert shares.sum() == pytest.approx(1.0)  # a share of each scenario's runs


def test_matrices_put_each_row_in_its_cell_and_nan_where_one_is_missing() -> None:
    table = pd.DataFrame(
        {
            "label": ["b", "a", "a", "b"],
            "state": ["x", "x", "y", "y"],
            "option": ["p", "q", "p", "q"],
            "probability": [0.1, 0.2, 0.3, 0.4],
        }
    )
    axes = {"label": ["a", "b"], "state": ["x", "y"], "option": ["p", "q"]}
    cube = figures.matrices(table, "probability", axes)
    expected = [[[np.nan, 0.2], [0.3, np.nan]], [[0.1, np.nan], [np.nan, 0.4]]]
    np.testing.assert_array_equal(cube, expected)


def test_shown_margins_are_the_first_causes_then_consequences_then_all_causes() -> None:
    rows = [
        ("x", "all causes", "total", 0.5),
        ("x", "trade", "cause", 0.3),
        ("x", "switching", "consequence", 0.1),
        ("x", "prestige", "cause", 0.0),  # no change: not shown
        ("x", "security", "cause", 0.2),
        ("x", "aid", "cause", -0.1),  # beyond the first two causes
        ("y", "trade", "cause", 0.4),
        ("y", "all causes", "total", 0.4),
        ("z", "trade", "cause", 0.9),  # beyond the first two states
    ]
    part = pd.DataFrame(rows, columns=["state", "term", "role", "change"])
    shown = figures.shown_margins(part, states=2, terms=2)
    assert list(zip(shown["state"], shown["term"], strict=True)) == [
        ("x", "trade"), ("x", "security"), ("x", "switching"), ("x", "all causes"),
        ("y", "trade"), ("y", "all causes"),
    ]  # fmt: skip


def test_a_legend_taller_than_the_figure_grows_it_instead_of_failing() -> None:
    """22 scenarios' legend at the foot of the shares figure left the panels no room:
    matplotlib's "bottom cannot be >= top", a traceback after every statistic was done.
    The figure grows to keep each panel at least MIN_PANEL high, the legend at its foot."""
    fig = figures._new_figure(6.0, 3.0)
    axes = fig.subplots(2, 2, squeeze=False)
    for ax in axes.flat:
        ax.plot([0, 1], [0, 1], label="a long scenario label")
    room = figures.bottom_legend(fig, axes.flat[0], 1) + 8.0  # a legend of 8 inches more
    box = figures.arrange(fig, axes, bottom=room)
    width, height = fig.get_size_inches()
    assert box[1] < box[3] and height >= room + 2 * figures.MIN_PANEL
    assert width == 6.0
