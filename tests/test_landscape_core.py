"""The equilibrium landscape machinery (studies.landscape_core) on games solved by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from alignment_sim.studies import landscape_core as lc

DECOY = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
"""Two-player coordination with a decoy: ``DECOY[k, j]`` is the utility of playing ``k``
against ``j``. The best reply to 0 or 2 is 0, to 1 is 1: equilibria (0, 0) and (1, 1)."""


def pair_game(own_by_other: np.ndarray) -> lc.UtilityFn:
    """A symmetric two-player game: utility of option k against j is ``own_by_other[k, j]``."""

    def utility(configs: np.ndarray) -> np.ndarray:
        other = configs[:, ::-1]
        return own_by_other.T[other]

    return utility


def two_player_game(first: np.ndarray, second: np.ndarray) -> lc.UtilityFn:
    """Player 0's utility of k against j is ``first[k, j]``, player 1's is ``second[k, j]``."""

    def utility(configs: np.ndarray) -> np.ndarray:
        return np.stack([first.T[configs[:, 1]], second.T[configs[:, 0]]], axis=1)

    return utility


def majority_game(configs: np.ndarray) -> np.ndarray:
    """Options 0 and 1 pay the number of other players on them; option 2 always pays -1."""
    n = configs.shape[1]
    on_option = configs[:, :, None] == np.arange(2)  # (M, N, 2)
    others = on_option.sum(axis=1, keepdims=True) - on_option
    return np.concatenate([others, np.full((len(configs), n, 1), -1)], axis=2).astype(float)


def table_game(tables: np.ndarray) -> lc.UtilityFn:
    """Player i's utility at a full configuration c is ``tables[i][c]``."""
    n, k = tables.shape[0], tables.shape[1]

    def utility(configs: np.ndarray) -> np.ndarray:
        out = np.empty((len(configs), n, k))
        for player in range(n):
            for option in range(k):
                deviated = configs.copy()
                deviated[:, player] = option
                out[:, player, option] = tables[player][tuple(deviated.T)]
        return out

    return utility


def brute_bounds(utility: lc.UtilityFn, n: int, k: int) -> lc.BoundsFn:
    """Exact bounds over the others' kept configurations, by listing them all."""

    def bounds(kept: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        configs = np.array(list(itertools.product(*kept)), dtype=np.int64)
        u = utility(configs)
        return u.min(axis=0), u.max(axis=0)

    return bounds


def test_coordination_with_decoy_by_hand() -> None:
    # Player 0 moves first, to its best reply to player 1's start; player 1 then matches.
    # Starts with player 1 on 0 or 2 (6 of 9) end at (0, 0), on 1 (3 of 9) at (1, 1).
    land = lc.enumerate_landscape(pair_game(DECOY), 2, 3)
    np.testing.assert_array_equal(land.stable, [[0, 0], [1, 1]])
    np.testing.assert_allclose(land.basins, [2 / 3, 1 / 3])
    np.testing.assert_allclose(land.margins, [[1.0, 1.0], [1.0, 1.0]])
    assert land.cycling_share == 0.0
    assert land.n_configurations == 9 and land.n_starts == 9 and not land.starts_sampled
    assert [list(k) for k in land.kept_options] == [[0, 1, 2], [0, 1, 2]]
    # Every start is stable by the end of round 1; the closing check counts it as reached.
    one_round = lc.enumerate_landscape(pair_game(DECOY), 2, 3, max_rounds=1)
    np.testing.assert_allclose(one_round.basins, land.basins)


def test_matching_pennies_has_no_pure_equilibrium_and_every_start_cycles() -> None:
    matcher, mismatcher = np.eye(2), 1 - np.eye(2)
    game = two_player_game(matcher, mismatcher)
    land = lc.enumerate_landscape(game, 2, 2)
    assert land.stable.shape == (0, 2) and land.basins.shape == (0,)
    assert land.margins.shape == (0, 2)
    assert land.cycling_share == 1.0 and land.n_starts == 4
    # At (0, 0) the matcher is content and the mismatcher would gain 1 by moving.
    np.testing.assert_array_equal(lc.regret(game, np.array([0, 0]), 1e-6), [0.0, 1.0])
    np.testing.assert_array_equal(lc.regret(game, np.array([0, 1]), 1e-6), [1.0, 0.0])


def test_indifference_within_tol_is_stable_and_players_stay_on_ties() -> None:
    slight = np.tile(np.array([0.0, 1e-9, 2e-9])[:, None], (1, 3))  # option 2 better by 1e-9
    loose = lc.enumerate_landscape(pair_game(slight), 2, 3, tol=1e-6)
    assert len(loose.stable) == 9  # every configuration: nobody gains more than tol
    np.testing.assert_allclose(loose.basins, np.full(9, 1 / 9))  # nobody moves
    strict = lc.enumerate_landscape(pair_game(slight), 2, 3, tol=0.0)
    np.testing.assert_array_equal(strict.stable, [[2, 2]])
    np.testing.assert_allclose(strict.basins, [1.0])


def test_pruning_removes_a_strictly_dominated_option_and_keeps_the_equilibria() -> None:
    # Option 2 pays -1; options 0 and 1 pay between 0 and 2 (the other two players on it).
    lower = np.tile([0.0, 0.0, -1.0], (3, 1))
    upper = np.tile([2.0, 2.0, -1.0], (3, 1))
    pruned = lc.enumerate_landscape(majority_game, 3, 3, bounds=(lower, upper))
    full = lc.enumerate_landscape(majority_game, 3, 3)
    assert [list(k) for k in pruned.kept_options] == [[0, 1]] * 3
    assert pruned.n_configurations == 8 and full.n_configurations == 27
    np.testing.assert_array_equal(pruned.stable, [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(full.stable, pruned.stable)
    # Over {0, 1}^3 sequential best response reaches (0,0,0) from 000, 001, 010, 100 and
    # (1,1,1) from the other four (worked out by hand; ties keep the current option).
    np.testing.assert_allclose(pruned.basins, [0.5, 0.5])


def test_iterated_elimination_needs_recomputed_bounds() -> None:
    first = np.array([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [-1.0, -1.0, -1.0]])
    # Player 1's option 2 pays only against player 0's option 2, which is dominated.
    second = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, -1.0, 5.0]])
    game = two_player_game(first, second)
    iterated = lc.enumerate_landscape(game, 2, 3, bounds=brute_bounds(game, 2, 3))
    assert [list(k) for k in iterated.kept_options] == [[0, 1], [0, 1]]
    once = lc.enumerate_landscape(
        game, 2, 3, bounds=brute_bounds(game, 2, 3)([np.arange(3), np.arange(3)])
    )
    assert [list(k) for k in once.kept_options] == [[0, 1], [0, 1, 2]]
    full = lc.enumerate_landscape(game, 2, 3)
    for land in (iterated, once):
        np.testing.assert_array_equal(land.stable, full.stable)
    np.testing.assert_array_equal(full.stable, [[0, 0], [1, 1]])


def test_wrong_bounds_are_caught() -> None:
    # Claims option 0 always pays -1, but against 2 it pays 1, more than 1 or 2 do (0 and 0.5).
    lower = np.tile([-1.0, 0.0, 0.0], (2, 1))
    upper = np.tile([-1.0, 1.0, 1.0], (2, 1))
    with pytest.raises(ValueError, match="bounds are wrong"):
        lc.enumerate_landscape(pair_game(DECOY), 2, 3, bounds=(lower, upper))
    with pytest.raises(ValueError, match="lower bound exceeds"):
        lc.enumerate_landscape(pair_game(DECOY), 2, 3, bounds=(upper + 1, upper))


def _reference_landscape(
    tables: np.ndarray, tol: float, max_rounds: int
) -> tuple[list[tuple[int, ...]], dict[tuple[int, ...], int], int]:
    """Pure-Python double loop: stable configurations, and where sequential best response
    from each configuration ends (counts per stable configuration, and cycling starts)."""
    n, k = tables.shape[0], tables.shape[1]

    def payoffs(config: list[int], player: int) -> list[float]:
        return [
            float(tables[player][(*config[:player], option, *config[player + 1 :])])
            for option in range(k)
        ]

    def is_stable(config: list[int]) -> bool:
        return all(payoffs(config, i)[config[i]] >= max(payoffs(config, i)) - tol for i in range(n))

    configs = list(itertools.product(range(k), repeat=n))
    stable = [c for c in configs if is_stable(list(c))]
    ends = dict.fromkeys(stable, 0)
    cycling = 0
    for start in configs:
        config = list(start)
        for _ in range(max_rounds):
            moved = False
            for i in range(n):
                u = payoffs(config, i)
                if u[config[i]] < max(u) - tol:
                    config[i] = u.index(max(u))
                    moved = True
            if not moved:
                break
        if is_stable(config):
            ends[tuple(config)] += 1
        else:
            cycling += 1
    return stable, ends, cycling


@pytest.mark.parametrize("max_rounds", [1, 3, 100])
def test_random_five_player_game_matches_a_brute_force_loop(max_rounds: int) -> None:
    tables = np.random.default_rng(27).normal(size=(5, 3, 3, 3, 3, 3))
    game = table_game(tables)
    stable, ends, cycling = _reference_landscape(tables, 1e-6, max_rounds)
    assert len(stable) == 4 and 0 < cycling < 243  # the seed gives a game worth checking
    # chunk 50 does not divide 243: chunk boundaries fall inside the space.
    land = lc.enumerate_landscape(game, 5, 3, chunk=50, max_rounds=max_rounds)
    np.testing.assert_array_equal(land.stable, np.array(stable))
    np.testing.assert_allclose(land.basins, [ends[s] / 243 for s in stable])
    assert land.cycling_share == cycling / 243
    assert land.basins.sum() + land.cycling_share == pytest.approx(1.0)


def test_regret_is_zero_exactly_on_the_stable_configurations() -> None:
    tables = np.random.default_rng(27).normal(size=(5, 3, 3, 3, 3, 3))
    game = table_game(tables)
    land = lc.enumerate_landscape(game, 5, 3)
    configs = np.array(list(itertools.product(range(3), repeat=5)), dtype=np.int64)
    regrets = lc.regret(game, configs, 1e-6)
    assert regrets.shape == (243, 5) and (regrets >= 0).all()
    np.testing.assert_array_equal(configs[(regrets == 0).all(axis=1)], land.stable)
    np.testing.assert_array_equal(lc.regret(game, configs[17], 1e-6), regrets[17])
    assert (land.margins >= 0).all()  # continuous random payoffs: every equilibrium is strict


def test_sampled_starts_are_reproducible_and_close_to_all_starts() -> None:
    tables = np.random.default_rng(27).normal(size=(5, 3, 3, 3, 3, 3))
    game = table_game(tables)
    every = lc.enumerate_landscape(game, 5, 3)
    sampled = lc.enumerate_landscape(game, 5, 3, basin_starts=200, rng_seed=3)
    again = lc.enumerate_landscape(game, 5, 3, basin_starts=200, rng_seed=3)
    assert sampled.starts_sampled and sampled.n_starts == 200 and not every.starts_sampled
    np.testing.assert_array_equal(sampled.stable, every.stable)
    np.testing.assert_array_equal(sampled.basins, again.basins)
    assert sampled.basins.sum() + sampled.cycling_share == pytest.approx(1.0)
    np.testing.assert_allclose(sampled.basins, every.basins, atol=0.12)


def test_too_big_a_space_is_refused_with_its_size_after_pruning() -> None:
    def never(configs: np.ndarray) -> np.ndarray:
        raise AssertionError("enumeration should not start")

    with pytest.raises(ValueError, match=r"4,194,304 .*max_configurations=1,000,000"):
        lc.enumerate_landscape(never, 11, 4, max_configurations=1_000_000)
    lower = np.tile([0.0, 0.0, 0.0, -2.0], (11, 1))
    upper = np.tile([1.0, 1.0, 1.0, -1.0], (11, 1))
    with pytest.raises(ValueError, match=r"177,147 configurations after pruning"):
        lc.enumerate_landscape(never, 11, 4, bounds=(lower, upper), max_configurations=100_000)


def test_progress_reports_configurations_then_starts() -> None:
    calls: list[tuple[int, int]] = []
    lc.enumerate_landscape(
        pair_game(DECOY), 2, 3, chunk=4, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(4, 18), (8, 18), (9, 18), (13, 18), (17, 18), (18, 18)]


def test_bad_utility_output_is_refused() -> None:
    with pytest.raises(ValueError, match="expected"):
        lc.enumerate_landscape(lambda c: np.zeros((len(c), 2, 2)), 2, 3)
    with pytest.raises(ValueError, match="NaN"):
        lc.enumerate_landscape(lambda c: np.full((len(c), 2, 3), np.nan), 2, 3)


def test_describe_names_options_and_counts_differences_from_the_record() -> None:
    land = lc.enumerate_landscape(pair_game(DECOY), 2, 3)
    names = ["russia", "west", "none"]
    table = lc.describe(land, names, ["belarus", "georgia"], recorded=np.array([1, 1]))
    assert list(table.columns) == ["belarus", "georgia", "basin", "margin", "differs_from_record"]
    assert table.index.name == "equilibrium"
    assert table[["belarus", "georgia"]].values.tolist() == [
        ["russia", "russia"],
        ["west", "west"],
    ]
    np.testing.assert_allclose(table["basin"], [2 / 3, 1 / 3])
    np.testing.assert_allclose(table["margin"], [1.0, 1.0])
    assert table["differs_from_record"].tolist() == [2, 0]
    assert "differs_from_record" not in lc.describe(land, names, ["belarus", "georgia"]).columns

    pennies = lc.enumerate_landscape(two_player_game(np.eye(2), 1 - np.eye(2)), 2, 2)
    empty = lc.describe(pennies, ["a", "b"], ["p", "q"], recorded=np.array([0, 0]))
    assert empty.empty and "differs_from_record" in empty.columns
