"""The equilibrium landscape of a finite game (Axelrod & Bennett 1993, "A landscape theory
of aggregation", British Journal of Political Science 23(2): 211-233).

A game has ``N`` players, each choosing one of the same ``K`` options; it is given as a
``UtilityFn`` that maps configurations ``(M, N)`` to utilities ``(M, N, K)``: entry
``[m, i, k]`` is player ``i``'s utility for option ``k`` when the other players play
``configs[m]`` (player ``i``'s own entry is ignored). Nothing here knows the model.

``enumerate_landscape`` lists every stable configuration (pure Nash equilibrium, up to a
tolerance ``tol`` in utility units): no player gains more than ``tol`` by moving alone. It
enumerates the configuration space in chunks, after optional iterated elimination of
strictly dominated options, and measures each stable configuration's basin of attraction
under sequential best response.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

UtilityFn = Callable[[IntArray], FloatArray]
"""Configurations ``(M, N)`` of option indices -> utilities ``(M, N, K)`` (see module doc)."""

BoundsFn = Callable[[list[IntArray]], tuple[FloatArray, FloatArray]]
"""Kept options per player -> ``(lower, upper)``, each ``(N, K)``: for each player and option,
bounds of its utility over all configurations of the others restricted to their kept options.
Entries of options already eliminated are ignored."""

Bounds = BoundsFn | tuple[FloatArray, FloatArray]
"""A ``BoundsFn``, or fixed ``(lower, upper)`` arrays ``(N, K)`` over all configurations."""

ProgressFn = Callable[[int, int], None]
"""Called with (done, total): configurations enumerated plus starts followed, so far and in all."""


@dataclass(frozen=True)
class Landscape:
    """The stable configurations of a game and their basins of attraction.

    ``basins`` and ``cycling_share`` are shares of the starting configurations, which are drawn
    from the pruned space (the product of ``kept_options``), not from all ``K ** N``
    configurations; the stable set is exact either way (with valid bounds, pruned options are
    never played in a pure Nash equilibrium).
    """

    stable: IntArray
    """(S, N) option indices of every stable configuration, in lexicographic order."""
    margins: FloatArray
    """(S, N) each player's utility at the stable configuration minus its best other option
    (utility units): positive means the player strictly prefers to stay; >= -tol always."""
    basins: FloatArray
    """(S,) share of starts whose sequential best response reaches each stable configuration."""
    cycling_share: float
    """Share of starts that reach no stable configuration within ``max_rounds`` rounds."""
    n_configurations: int
    """Configurations enumerated: the product of the kept option counts."""
    kept_options: list[IntArray]
    """Per player, the sorted options that survived dominance pruning."""
    n_starts: int
    """Starting configurations followed for the basins."""
    starts_sampled: bool
    """True when the starts are uniform draws, False when they are every configuration."""


def regret(utility_fn: UtilityFn, config: npt.ArrayLike, tol: float) -> FloatArray:
    """Each player's gain (utility units) from its best unilateral move at ``config``.

    ``config`` is ``(N,)`` or a batch ``(M, N)``; the result has the same shape. Gains of at
    most ``tol`` count as zero, so a configuration is stable exactly when all its regrets are 0.
    """
    configs = np.asarray(config, dtype=np.int64)
    batch = np.atleast_2d(configs)
    utilities = _evaluate(utility_fn, batch, None)
    gains = utilities.max(axis=2) - _own_utility(utilities, batch)
    gains[gains <= tol] = 0.0
    return gains.reshape(configs.shape)


def prune_dominated(
    bounds: Bounds, n_players: int, n_options: int, tol: float = 0.0
) -> list[IntArray]:
    """Options left per player by iterated elimination of strictly dominated options.

    Option ``k`` of a player goes when its upper bound is below some other kept option's lower
    bound by more than ``tol``: then it is never within ``tol`` of a best response, hence never
    part of a stable configuration. With a ``BoundsFn`` the bounds are recomputed over the
    shrinking space until nothing more goes; fixed arrays need one pass.
    """
    kept = [np.arange(n_options, dtype=np.int64) for _ in range(n_players)]
    while True:
        lower, upper = bounds(kept) if callable(bounds) else bounds
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        if lower.shape != (n_players, n_options) or upper.shape != (n_players, n_options):
            raise ValueError(
                f"bounds must be two ({n_players}, {n_options}) arrays, "
                f"got {lower.shape} and {upper.shape}"
            )
        new_kept = []
        for player, options in enumerate(kept):
            if np.any(lower[player, options] > upper[player, options]):
                raise ValueError(
                    f"bounds of player {player}: a lower bound exceeds its upper bound"
                )
            best_floor = lower[player, options].max()
            new_kept.append(options[upper[player, options] >= best_floor - tol])
        if all(len(new) == len(old) for new, old in zip(new_kept, kept, strict=True)):
            return kept
        kept = new_kept


def enumerate_landscape(
    utility_fn: UtilityFn,
    n_players: int,
    n_options: int,
    *,
    tol: float = 1e-6,
    bounds: Bounds | None = None,
    max_configurations: int = 20_000_000,
    chunk: int = 200_000,
    basin_starts: int = 100_000,
    max_rounds: int = 100,
    rng_seed: int = 0,
    progress: ProgressFn | None = None,
) -> Landscape:
    """Every stable configuration of the game, and its basin under sequential best response.

    A configuration is stable when each player's utility there is within ``tol`` (utility units)
    of its best option. With ``bounds`` the options strictly dominated are eliminated first
    (``prune_dominated``) and only the product of the kept options is enumerated, ``chunk``
    configurations per call of ``utility_fn``; the stable set is exact all the same if the
    bounds hold. Wrong bounds are caught when they show inside the kept space (a pruned
    option within ``tol`` of the best kept one at an enumerated configuration), not otherwise.

    Basins: from each start, players 0..N-1 in turn, round after round, move to their best
    kept option (the lowest index among equal bests), staying when their current option is
    within ``tol`` of it; a round where nobody moves means a stable configuration. Starts
    are every configuration of the pruned space when it has at most ``basin_starts``, else
    ``basin_starts`` uniform draws with replacement (``numpy`` Generator seeded ``rng_seed``).
    """
    if n_players < 1 or n_options < 2:
        raise ValueError(f"need at least 1 player and 2 options, got {n_players} and {n_options}")
    if chunk < 1 or basin_starts < 1 or max_rounds < 1:
        raise ValueError("chunk, basin_starts and max_rounds must be positive")
    kept = (
        [np.arange(n_options, dtype=np.int64) for _ in range(n_players)]
        if bounds is None
        else prune_dominated(bounds, n_players, n_options, tol)
    )
    radices = [len(options) for options in kept]
    size = math.prod(radices)
    if size > max_configurations:
        raise ValueError(
            f"the configuration space has {size:,} configurations after pruning "
            f"({' x '.join(map(str, radices))}), above the limit max_configurations="
            f"{max_configurations:,}"
        )
    kept_mask = np.zeros((n_players, n_options), dtype=bool)
    for player, options in enumerate(kept):
        kept_mask[player, options] = True
    pruning = not kept_mask.all()

    sampled = size > basin_starts
    n_starts = basin_starts if sampled else size
    total_work = size + n_starts
    stable_parts: list[IntArray] = []
    margin_parts: list[FloatArray] = []
    for first in range(0, size, chunk):
        configs = _decode(np.arange(first, min(first + chunk, size), dtype=np.int64), kept)
        utilities = _evaluate(utility_fn, configs, n_options)
        if pruning:
            _check_pruning(utilities, configs, kept_mask, tol)
        own = _own_utility(utilities, configs)
        is_stable = np.all(own >= utilities.max(axis=2) - tol, axis=1)
        stable_parts.append(configs[is_stable])
        margin_parts.append(_margins(utilities[is_stable], configs[is_stable]))
        if progress is not None:
            progress(first + len(configs), total_work)
    stable = np.concatenate(stable_parts)
    margins = np.concatenate(margin_parts)

    if sampled:
        starts = np.random.default_rng(rng_seed).integers(size, size=n_starts, dtype=np.int64)
    else:
        starts = np.arange(size, dtype=np.int64)
    stable_codes = _encode(stable, kept)
    reach_counts = np.zeros(len(stable), dtype=np.int64)
    n_cycling = 0
    for first in range(0, n_starts, chunk):
        batch = _decode(starts[first : first + chunk], kept)
        reached = _best_response_ends(utility_fn, batch, kept_mask, tol, max_rounds)
        ends = _encode(batch[reached], kept)
        positions = np.searchsorted(stable_codes, ends)
        if np.any(positions == len(stable)) or np.any(stable_codes[positions] != ends):
            raise RuntimeError("best response stopped at a configuration that is not stable")
        reach_counts += np.bincount(positions, minlength=len(stable))
        n_cycling += int(np.count_nonzero(~reached))
        if progress is not None:
            progress(size + first + len(batch), total_work)
    return Landscape(
        stable=stable,
        margins=margins,
        basins=reach_counts / n_starts,
        cycling_share=n_cycling / n_starts,
        n_configurations=size,
        kept_options=kept,
        n_starts=n_starts,
        starts_sampled=sampled,
    )


def describe(
    landscape: Landscape,
    option_names: Sequence[str],
    player_names: Sequence[str],
    recorded: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """One row per stable configuration (index ``equilibrium``, the row of ``landscape.stable``).

    Columns: each player's option by name; ``basin`` (share of starts); ``margin``, the
    smallest margin over players (utility units; <= 0 means some player is indifferent); and,
    with ``recorded`` option indices ``(N,)``, ``differs_from_record``: players whose option
    differs from the record.
    """
    n_players = landscape.stable.shape[1]
    if len(player_names) != n_players:
        raise ValueError(f"{len(player_names)} player names for {n_players} players")
    names = np.asarray(option_names, dtype=object)
    if len(landscape.stable) and landscape.stable.max() >= len(names):
        raise ValueError(f"{len(names)} option names, but option {landscape.stable.max()} occurs")
    table = pd.DataFrame(
        {player: names[landscape.stable[:, i]] for i, player in enumerate(player_names)},
        index=pd.RangeIndex(len(landscape.stable), name="equilibrium"),
    )
    table["basin"] = landscape.basins
    table["margin"] = landscape.margins.min(axis=1)
    if recorded is not None:
        record = np.asarray(recorded, dtype=np.int64)
        if record.shape != (n_players,):
            raise ValueError(f"recorded must have shape ({n_players},), got {record.shape}")
        table["differs_from_record"] = np.count_nonzero(landscape.stable != record, axis=1)
    return table


def _decode(indices: IntArray, kept: list[IntArray]) -> IntArray:
    """Configurations ``(M, N)`` at mixed-radix ``indices`` of the kept space (player 0 most
    significant, so increasing indices are in lexicographic order)."""
    configs = np.empty((len(indices), len(kept)), dtype=np.int64)
    rest = indices.copy()
    for player in range(len(kept) - 1, -1, -1):
        rest, position = np.divmod(rest, len(kept[player]))
        configs[:, player] = kept[player][position]
    return configs


def _encode(configs: IntArray, kept: list[IntArray]) -> IntArray:
    """The mixed-radix index of each configuration ``(M, N)`` of the kept space."""
    codes = np.zeros(len(configs), dtype=np.int64)
    for player, options in enumerate(kept):
        codes = codes * len(options) + np.searchsorted(options, configs[:, player])
    return codes


def _evaluate(utility_fn: UtilityFn, configs: IntArray, n_options: int | None) -> FloatArray:
    """``utility_fn(configs)``, checked: shape ``(M, N, n_options)`` (any K if None), no NaN."""
    utilities = np.asarray(utility_fn(configs), dtype=np.float64)
    expected = (
        n_options if n_options is not None else (utilities.shape[-1] if utilities.ndim else 0)
    )
    if utilities.shape != (*configs.shape, expected):
        raise ValueError(
            f"utility_fn returned shape {utilities.shape} for configurations {configs.shape}; "
            "expected (M, N, K)"
        )
    if np.isnan(utilities).any():
        raise ValueError("utility_fn returned NaN")
    return utilities


def _own_utility(utilities: FloatArray, configs: IntArray) -> FloatArray:
    """``(M, N)`` each player's utility for the option it plays."""
    return np.take_along_axis(utilities, configs[:, :, None], axis=2)[:, :, 0]


def _margins(utilities: FloatArray, configs: IntArray) -> FloatArray:
    """``(M, N)`` each player's utility minus that of its best other option."""
    others = utilities.copy()
    np.put_along_axis(others, configs[:, :, None], -np.inf, axis=2)
    return _own_utility(utilities, configs) - others.max(axis=2)


def _check_pruning(
    utilities: FloatArray, configs: IntArray, kept_mask: npt.NDArray[np.bool_], tol: float
) -> None:
    """Raise if a pruned option comes within ``tol`` of a player's best kept option, which valid
    bounds rule out."""
    best_kept = np.where(kept_mask, utilities, -np.inf).max(axis=2)
    best_pruned = np.where(kept_mask, -np.inf, utilities).max(axis=2)
    wrong = best_pruned >= best_kept - tol
    if wrong.any():
        row, player = np.argwhere(wrong)[0]
        raise ValueError(
            f"bounds are wrong: at configuration {configs[row].tolist()} a pruned option of "
            f"player {player} is within tol of its best kept option"
        )


def _best_response_ends(
    utility_fn: UtilityFn,
    configs: IntArray,
    kept_mask: npt.NDArray[np.bool_],
    tol: float,
    max_rounds: int,
) -> npt.NDArray[np.bool_]:
    """Run sequential best response on ``configs`` (modified in place) for at most
    ``max_rounds`` rounds; True where the start ended at a stable configuration."""
    n_options = kept_mask.shape[1]
    active = np.arange(len(configs))
    for _ in range(max_rounds):
        if not len(active):
            break
        current = configs[active]
        rows = np.arange(len(current))
        moved = np.zeros(len(current), dtype=bool)
        for player in range(configs.shape[1]):
            utilities = _evaluate(utility_fn, current, n_options)[:, player]
            utilities = np.where(kept_mask[player], utilities, -np.inf)
            own = utilities[rows, current[:, player]]
            move = own < utilities.max(axis=1) - tol
            current[move, player] = utilities[move].argmax(axis=1)
            moved |= move
        configs[active] = current
        active = active[moved]
    if len(active):
        utilities = _evaluate(utility_fn, configs[active], n_options)
        best_kept = np.where(kept_mask, utilities, -np.inf).max(axis=2)
        still = np.any(_own_utility(utilities, configs[active]) < best_kept - tol, axis=1)
        active = active[still]
    reached = np.ones(len(configs), dtype=bool)
    reached[active] = False
    return reached
