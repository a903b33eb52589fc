"""Known answers for the report's statistics (``alignment_sim.report.stats``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from alignment_sim.report.stats import (
    MIN_VERDICT_RUNS,
    ResamplePool,
    applies_to,
    bootstrap_bytes,
    bootstrap_means,
    change_interval,
    effects_later,
    margin_drivers_later,
    mean_se,
    moves,
    outcome_summary_later,
    pair_by_seed,
    percentile_interval,
    practical,
    resample_counts,
    rng_for,
    standardise,
    t_interval,
    term_drivers,
    threshold_of,
    wilson_interval,
)


def test_wilson_interval_known_values() -> None:
    low, high = wilson_interval(np.array([0, 10, 5, 1]), np.array([10, 10, 10, 20]))
    np.testing.assert_allclose(low, [0.0, 0.72246, 0.23659, 0.00889], atol=5e-5)
    np.testing.assert_allclose(high, [0.27754, 1.0, 0.76341, 0.23611], atol=5e-5)
    assert low[0] == 0.0 and high[1] == 1.0  # exact at the edges


def test_t_interval_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    for n in (2, 5, 40):
        values = rng.normal(2.0, 1.5, n)
        table = t_interval(np.array([n]), np.array([values.sum()]), np.array([(values**2).sum()]))
        low, high = scipy_stats.t.interval(
            0.95, n - 1, loc=values.mean(), scale=scipy_stats.sem(values)
        )
        assert table["mean"].item() == pytest.approx(values.mean())
        assert table["ci_low"].item() == pytest.approx(low, rel=1e-9)
        assert table["ci_high"].item() == pytest.approx(high, rel=1e-9)
    single = t_interval(np.array([1]), np.array([4.0]), np.array([16.0]))
    assert single["mean"].item() == 4.0 and np.isnan(single["ci_low"].item())


def test_bootstrap_is_deterministic_and_equals_resampling_by_hand() -> None:
    values = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0], [8.0, 5.0], [16.0, 5.0]])
    (first,) = bootstrap_means([values], 300, rng_for(7, "outcomes", "x"))
    (again,) = bootstrap_means([values], 300, rng_for(7, "outcomes", "x"))
    (other,) = bootstrap_means([values], 300, rng_for(7, "outcomes", "y"))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[:, 0], other[:, 0])
    assert (first[:, 1] == 5.0).all()  # a constant column is exactly its value
    picks = rng_for(7, "outcomes", "x").integers(0, 5, size=(300, 5))  # rows drawn by hand
    np.testing.assert_allclose(first[:, 0], values[picks, 0].mean(axis=1), rtol=1e-12)
    low, high = percentile_interval(first)
    assert low[0] == np.percentile(first[:, 0], 2.5) and high[1] == 5.0


def test_bootstrap_in_blocks_equals_one_block() -> None:
    values = np.arange(2_000_000 // 500 * 3, dtype=float).reshape(-1, 3)  # forces blocks
    (blocked,) = bootstrap_means([values], 1500, np.random.default_rng(1))
    rng = np.random.default_rng(1)
    n = len(values)
    block = 2_000_000 // n
    picks = np.vstack(
        [rng.integers(0, n, size=(min(block, 1500 - s), n)) for s in range(0, 1500, block)]
    )
    np.testing.assert_allclose(blocked, values[picks].mean(axis=1), rtol=1e-9)


def test_resample_counts_are_the_draws_counted_row_by_row() -> None:
    for k, n_boot in ((3, 50), (1000, 150), (70_000, 2)):  # many, some and one row a count
        blocks = list(resample_counts(k, n_boot, np.random.default_rng(k)))
        picks = np.random.default_rng(k).integers(0, k, size=(n_boot, k))
        by_hand = np.stack([np.bincount(row, minlength=k) for row in picks])
        np.testing.assert_array_equal(np.vstack(blocks), by_hand)


def test_percentile_interval_ignores_nan() -> None:
    samples = np.column_stack([np.arange(101.0), np.r_[np.arange(100.0), np.nan]])
    low, high = percentile_interval(samples)
    assert low[0] == 2.5 and high[0] == 97.5
    assert low[1] == pytest.approx(np.percentile(np.arange(100.0), 2.5))


def test_pair_by_seed_rules() -> None:
    paired = pair_by_seed(np.arange(10), np.arange(2, 12))
    assert paired.paired and list(paired.seeds) == list(range(2, 10))
    assert paired.note == "paired by seed (8 pairs); 4 runs without a partner left out"
    duplicate = pair_by_seed(np.array([0, 1, 1, 2]), np.arange(4))
    assert not duplicate.paired and "a seed appears twice" in duplicate.note
    low = pair_by_seed(np.arange(10), np.arange(6, 20))  # 4 common of 14: under half
    assert not low.paired and low.note == "unpaired: 4 common seeds"
    half = pair_by_seed(np.arange(10), np.arange(5, 15))  # 5 of 10: exactly half
    assert half.paired
    assert not pair_by_seed(np.array([0]), np.array([0])).paired  # one pair is not enough


def test_standardise_and_cohens_d_by_hand() -> None:
    d = standardise(np.array([0.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.5]))
    assert d[0] == 0.0 and np.isnan(d[1]) and d[2] == 2.0
    a = pd.DataFrame({"seed": [10, 11, 12, 13], "m": [1.0, 2.0, 3.0, 4.0]})
    b = pd.DataFrame({"seed": [20, 21, 22, 23], "m": [2.0, 4.0, 6.0, 8.0]})
    table = effects_later("a", a, "b", b, ["m"], 500, 0)().iloc[0]
    pooled = np.sqrt((np.var([1, 2, 3, 4], ddof=1) + np.var([2, 4, 6, 8], ddof=1)) / 2)
    assert not table["paired"] and table["n_compared"] == 8
    assert table["difference"] == -2.5
    assert table["cohens_d"] == pytest.approx(-2.5 / pooled)
    assert table["ci_low"] < -2.5 < table["ci_high"]
    paired = effects_later("a", a.assign(seed=b["seed"]), "b", b, ["m"], 500, 0)().iloc[0]
    assert paired["paired"] and paired["cohens_d"] == pytest.approx(-2.5 / pooled)


def test_outcome_summary_of_one_run_has_no_interval() -> None:
    runs = pd.DataFrame({"seed": [0], "m": [3.0]})
    row = outcome_summary_later("x", runs, ["m"], 200, 0)().iloc[0]
    assert row["mean"] == 3.0 and np.isnan(row["sd"]) and np.isnan(row["ci_low"])


def test_bootstrap_memory_estimate() -> None:
    assert bootstrap_bytes(1000, 10) == 8 * 8 * 1000 * 10
    assert bootstrap_bytes(2000, 10) == 2 * bootstrap_bytes(1000, 10)
    assert bootstrap_bytes(1000, 10, held=30) == bootstrap_bytes(1000, 10) + 8 * 1000 * 30


def test_a_term_of_one_choice_applies_to_every_profile_with_its_option() -> None:
    assert applies_to("west/china", "trade") == "*/china"  # economic terms only
    assert applies_to("west/china", "protection") == "west/*"  # security terms only
    assert applies_to("west/china", "switching") == "west/china"  # a part in each
    assert applies_to("west/china", "not_a_term") == "west/china"
    assert applies_to("hedge", "trade") == "hedge"  # not a profile


def test_term_drivers_by_hand_give_one_rank_per_change() -> None:
    # two runs (seeds 0, 1), one state, profiles west/china and none/china; the baseline
    # is all zero. trade (economic: the same on both profiles) rises by 3; switching
    # (both choices) by 1 on west/china and by 2 on none/china.
    columns = pd.MultiIndex.from_tuples(
        [
            ("s", "west/china", "trade"),
            ("s", "west/china", "switching"),
            ("s", "none/china", "trade"),
            ("s", "none/china", "switching"),
        ],
        names=["state", "option", "term"],
    )
    seeds = pd.Index([0, 1], name="seed")
    scenario = pd.DataFrame([[3.0, 1.0, 3.0, 2.0]] * 2, index=seeds, columns=columns)
    base = pd.DataFrame(0.0, index=seeds, columns=columns)
    table = term_drivers("x", scenario, "b", base)
    assert list(table["change"]) == [3.0, 3.0, 2.0, 1.0]
    assert list(table["rank"]) == [1, 1, 2, 3]
    assert list(table["applies_to"]) == ["*/china", "*/china", "none/china", "west/china"]
    assert table["description"].iloc[0] == "s, */china: trade +3"
    utility = table.set_index("option")["utility_change"]
    assert utility["west/china"].tolist() == [4.0, 4.0] and utility["none/china"].iloc[0] == 5.0
    assert table["paired"].all() and (table["ci_low"] == table["change"]).all()


def test_margin_drivers_rank_a_known_toy_change() -> None:
    # one state, profiles a and b; the scenario moves it from a to b (-40 / +40 points).
    # In the scenario trade on b rises by 0.3, inducements on a by 0.1 (so b's margin over
    # a falls by 0.1 from it), switching on a by 0.5 (paid where the state no longer is).
    columns = pd.MultiIndex.from_product(
        [["s"], ["a", "b"], ["trade", "inducements", "switching"]],
        names=["state", "option", "term"],
    )
    seeds = pd.Index(np.arange(50), name="seed")
    noise = np.random.default_rng(0).normal(0, 0.01, (50, 6))
    base = pd.DataFrame(noise, index=seeds, columns=columns)
    scenario = base.copy()
    scenario[("s", "b", "trade")] += 0.3
    scenario[("s", "a", "inducements")] += 0.1
    scenario[("s", "a", "switching")] -= 0.5
    profiles = pd.DataFrame(
        {
            "label": ["x", "x", "base", "base"],
            "state": "s",
            "option": ["a", "b", "a", "b"],
            "probability": [0.5, 0.5, 0.9, 0.1],
        }
    )
    moved = moves(profiles, "x", "base")
    assert moved[["leaves", "joins"]].values.tolist() == [["a", "b"]]
    assert moved["shift"].item() == pytest.approx(0.4)
    table = margin_drivers_later("x", scenario, "base", base, moved, ResamplePool(0, 200))()
    rows = table.set_index("term")
    assert list(table["term"]) == [
        "trade",
        "inducements",
        "switching",
        "all causes",
        "whole margin",
    ]
    assert rows.loc["trade", "change"] == pytest.approx(0.3)
    assert rows.loc["inducements", "change"] == pytest.approx(-0.1)
    assert rows.loc[["trade", "inducements"], "rank"].tolist() == [1.0, 2.0]
    assert rows.loc["switching", "role"] == "consequence" and np.isnan(
        rows.loc["switching", "rank"]
    )
    assert rows.loc["switching", "change"] == pytest.approx(0.5)
    assert rows.loc["all causes", "change"] == pytest.approx(0.2)
    assert rows.loc["whole margin", "change"] == pytest.approx(0.7)
    assert (table["ci_low"] <= table["change"] + 1e-12).all()
    assert (table["change"] <= table["ci_high"] + 1e-12).all()
    assert table["paired"].all()


def test_practical_significance_by_hand() -> None:
    verdict = practical(
        np.array([0.03, 0.001, -0.01, -0.05, np.nan]),
        np.array([0.05, 0.004, 0.03, -0.021, np.nan]),
        np.full(5, 0.02),
    )
    assert verdict.tolist() == ["beyond", "negligible", "unclear", "beyond", "no interval"]
    # three runs that all agree gave [0, 0]: "negligible", an equivalence 500 runs refute
    few = practical(np.zeros(2), np.zeros(2), np.full(2, 0.02), np.array([3, MIN_VERDICT_RUNS]))
    assert few.tolist() == ["too few runs", "negligible"]
    assert threshold_of("final_share_west", 7.0, 2.0) == 0.02
    assert threshold_of("switches", 7.0, 2.0) == pytest.approx(0.14)


def test_cluster_robust_error_of_a_mean_by_hand() -> None:
    values = np.array([[1.0], [3.0], [2.0], [6.0]])
    mean, se, df = mean_se(values)
    assert mean[0] == 3.0 and se[0] == pytest.approx(np.std(values, ddof=1) / 2) and df[0] == 3
    clusters = np.array(["a", "a", "b", "b"])  # sums 4 and 8 over 2 rows each
    mean, se, df = mean_se(values, clusters)
    by_hand = np.sqrt(2 / 1 * ((4 - 3 * 2) ** 2 + (8 - 3 * 2) ** 2)) / 4
    assert se[0] == pytest.approx(by_hand) and df[0] == 1
    change, low, high = change_interval(values + 1, values, paired=True)
    assert change[0] == 1.0 and low[0] == high[0] == 1.0  # a constant shift: no width


def test_resamples_are_kept_and_reused_the_same() -> None:
    pool = ResamplePool(3, 300)
    values = np.random.default_rng(1).normal(size=(40, 2))
    seeds = np.arange(100, 140)
    (first,) = pool.means(seeds, [values])
    (again,) = pool.means(seeds[::-1], [values[::-1]])  # the same runs in another order
    np.testing.assert_array_equal(first, again)
    (fresh,) = ResamplePool(3, 300).means(seeds, [values])
    np.testing.assert_array_equal(first, fresh)  # fixed by the seed and the runs alone


def test_an_array_is_resampled_once_and_constant_columns_never() -> None:
    rng = np.random.default_rng(2)
    values = np.column_stack([rng.normal(size=50), np.full(50, 0.25), rng.integers(0, 3, 50)])
    pool = ResamplePool(5, 400)
    seeds = np.arange(50)
    (first,) = pool.means(seeds, [values])
    resamples, _ = pool.resamples(seeds)
    assert len(resamples.done) == 1
    (again,) = pool.means(seeds, [values.copy()])  # the same bytes: not resampled again
    assert len(resamples.done) == 1 and np.array_equal(first, again)
    assert (first[:, 1] == 0.25).all()  # a constant column is exactly its value
    (alone,) = ResamplePool(5, 400).means(seeds, [values[:, [0]]])  # columns apart alike
    np.testing.assert_allclose(first[:, 0], alone[:, 0], rtol=1e-12)


def test_arrays_asked_for_first_are_resampled_in_one_product_as_if_alone() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    seeds = np.arange(60)
    pool = ResamplePool(4, 300)
    later_x, later_y = pool.later(seeds, [x]), pool.later(seeds, [y])
    resamples, _ = pool.resamples(seeds)
    assert len(resamples.waiting) == 2 and not resamples.done  # asked for, not resampled
    (boot_x,) = later_x()
    assert not resamples.waiting and len(resamples.done) == 2  # both in the one product
    (boot_y,) = later_y()
    for values, boot in ((x, boot_x), (y, boot_y)):
        (alone,) = ResamplePool(4, 300).means(seeds, [values])
        np.testing.assert_allclose(boot, alone, rtol=1e-12)


def test_cohens_d_is_undefined_without_a_standard_deviation() -> None:
    """Two single runs: d read 0.0 where they agreed and NaN where they did not."""
    d = standardise(np.array([0.0, 1.0, 0.0, 2.0]), np.array([np.nan, np.nan, 0.0, 4.0]))
    assert np.isnan(d[0]) and np.isnan(d[1]) and d[2] == 0.0 and d[3] == 0.5
