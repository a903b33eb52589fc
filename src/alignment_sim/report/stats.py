"""The numbers of the report: intervals over runs, seeded bootstrap, effects and drivers.

Every bootstrap draws from a generator seeded by the report's seed and the names of what
it compares, so a table does not change when other scenarios join the report. Runs of two
scenarios with the same seeds saw the same random numbers (common random numbers); they
are compared pair by pair, which removes the noise the two scenarios share. Runs that took
their parameters from a fit's posterior draws (``estimation.sample_parameters``) are
resampled a draw at a time, with all the runs of each draw (a cluster bootstrap), so the
intervals count each draw once: they include the parameters' uncertainty.
"""

from __future__ import annotations

import hashlib
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit
from threadpoolctl import threadpool_limits

from alignment_sim.model.alignment import SEPARATOR
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERM_FAMILIES

MIN_PAIRED_FRACTION = 0.5
"""Pair by seed when the common seeds are at least this share of each scenario's runs."""


BOOTSTRAP_COPIES = 8
"""Arrays of (resamples x columns) float64 alive at once at the peak of a bootstrap
(``effects_later``, ``term_drivers``): the resampled means, their differences and the copies
``snap`` and ``np.percentile`` make."""


def bootstrap_bytes(n_boot: int, columns: int, held: int = 0) -> int:
    """An estimate of the peak memory (bytes) of bootstrapping ``columns`` means (the
    largest table's, with its copies) while ``held`` resampled means of every table
    (resampled at once, ``Resamples.answers``) are kept."""
    return 8 * n_boot * (BOOTSTRAP_COPIES * columns + held)


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    """A generator fixed by the report seed and the names of what is resampled."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


BLOCK_CELLS = 2_000_000
"""Resample counts drawn at once (rows of a block x rows resampled): bounds the memory."""
KEEP_BYTES = 256 << 20
"""Resample counts a ``ResamplePool`` keeps for reuse (one byte a count when they fit)."""
COUNT_CELLS = 1 << 16
"""Resample counts counted at once (one ``np.bincount``): they stay in the processor's
cache, where counting a whole block scattered them over megabytes of memory."""


def resample_counts(k: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Blocks of bootstrap resamples of k items: (block, k) counts, each row the number of
    times each item is drawn in k draws with replacement (k uniform indices, counted; drawn
    as int32, the same numbers as int64 below 2**32 and faster)."""
    block = max(1, min(n_boot, BLOCK_CELLS // max(k, 1)))
    rows = max(1, COUNT_CELLS // max(k, 1))
    offsets = (np.arange(rows) * k)[:, None]  # each row's draws counted in bins of their own
    for start in range(0, n_boot, block):
        size = min(n_boot, start + block) - start
        picks = rng.integers(0, k, size=(size, k), dtype=np.int32)
        counts = np.empty((size, k), dtype=np.intp)
        for row in range(0, size, rows):
            part = picks[row : row + rows]
            found = np.bincount((part + offsets[: len(part)]).reshape(-1), minlength=part.size)
            counts[row : row + len(part)] = found.reshape(part.shape)
        yield counts


class Resamples:
    """The same ``n_boot`` bootstrap resamples of n rows for any number of arrays.

    With ``clusters`` (n,) (a key per row) whole clusters are resampled, each with all its
    rows. The counts are drawn once from ``rng`` and kept (as small integers) when they
    take at most ``KEEP_BYTES``, so every table that resamples these runs reuses them. An
    array resampled once is remembered (by its bytes) and never resampled again, e.g. the
    baseline's side of every scenario's paired effects. Arrays can be asked for first
    (``ask``) and resampled later (``answers``): all those waiting then go through one
    matrix product, which costs much less than one product each.
    """

    def __init__(
        self, n: int, n_boot: int, rng: np.random.Generator, clusters: np.ndarray | None = None
    ) -> None:
        self.n, self.n_boot, self.rng = n, n_boot, rng
        self.of_row = None if clusters is None else pd.factorize(clusters)[0]
        self.k = n if self.of_row is None else int(self.of_row.max()) + 1
        self.kept: list[np.ndarray] | None = None
        self.state: dict[str, Any] | None = None
        self.done: dict[str, np.ndarray] = {}
        self.waiting: dict[str, np.ndarray] = {}
        if n_boot * self.k > KEEP_BYTES:  # drawn again on each use, from one child's state
            self.state = dict(rng.spawn(1)[0].bit_generator.state)
        else:  # each block made small as it is drawn, so few are ever held as int64
            blocks, top = [], 0
            for block in resample_counts(self.k, n_boot, rng):
                top = max(top, int(block.max()))
                blocks.append(block.astype(np.uint8) if top < 256 else block)
            small = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.int64
            self.kept = [b.astype(small, copy=False) for b in blocks]

    def _blocks(self) -> Iterator[np.ndarray]:
        if self.kept is not None:
            yield from self.kept
        else:  # too many to keep: the same resamples drawn again
            assert self.state is not None
            rng = np.random.Generator(type(self.rng.bit_generator)())
            rng.bit_generator.state = self.state
            yield from resample_counts(self.k, self.n_boot, rng)

    def ask(self, arrays: Sequence[np.ndarray]) -> list[str]:
        """The keys of (n, m) float64 arrays, each centred (its column means subtracted)
        and left waiting for ``answers`` unless resampled or waiting already (the same
        bytes)."""
        keys = [  # hashed in place: the arrays' bytes, not a copy of them
            hashlib.sha1(np.ascontiguousarray(a).data).hexdigest() + f":{a.shape[1]}"
            for a in arrays
        ]
        for key, values in zip(keys, arrays, strict=True):
            if key not in self.done and key not in self.waiting:
                self.waiting[key] = values - values.mean(axis=0)
        return keys

    def answers(self, keys: Sequence[str]) -> list[np.ndarray]:
        """The deviations of the arrays of ``keys`` (``ask``): each one's column means over
        the resamples minus its column means over all n rows, (n_boot, m), read-only.

        Every array still waiting is resampled first, in one matrix product per block of
        resamples; a constant column gives exactly 0 (and is not resampled)."""
        if self.waiting:
            self._resample_waiting()
        return [self.done[key] for key in keys]

    def _resample_waiting(self) -> None:
        """Every array waiting resampled in one product; each one's deviations are a
        read-only view of its result (0 in constant columns)."""
        centred, self.waiting = self.waiting, {}
        varying = {key: c.any(axis=0) for key, c in centred.items()}
        matrix = np.hstack([c[:, varying[key]] for key, c in centred.items()])
        found = np.zeros((self.n_boot, sum(c.shape[1] for c in centred.values())))
        if matrix.shape[1]:
            self._resample(matrix, found, np.flatnonzero(np.concatenate(list(varying.values()))))
        found.flags.writeable = False
        start = 0
        for key, c in centred.items():
            self.done[key] = found[:, start : start + c.shape[1]]
            start += c.shape[1]

    def _resample(self, centred: np.ndarray, out: np.ndarray, columns: np.ndarray) -> None:
        """``out[:, columns]`` (n_boot, m): the mean of each column of ``centred`` (n, m)
        over each resample."""
        start = 0
        # one BLAS thread: these thin products gain nothing from threads, and OpenBLAS's
        # threads waiting on a busy machine made them 15 times slower
        with threadpool_limits(limits=1, user_api="blas"):
            for block in self._blocks():
                counts = block.astype(np.float64)
                if self.of_row is not None:
                    counts = counts[:, self.of_row]
                rows = self.n if self.of_row is None else counts.sum(axis=1, keepdims=True)
                stop = start + len(counts)
                out[start:stop, columns] = counts @ centred / rows
                start = stop

    def means(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Column means of each (n, m) array over the resamples: (n_boot, m) each
        (``answers`` plus the column means, so a constant column gives exactly its value
        in every resample)."""
        return self.later(arrays)()

    def later(self, arrays: Sequence[np.ndarray]) -> Callable[[], list[np.ndarray]]:
        """``means`` of the arrays, resampled when first called (``ask``, ``answers``)."""
        values = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
        keys = self.ask(values)
        centres = [v.mean(axis=0) for v in values]
        return lambda: [d + c for d, c in zip(self.answers(keys), centres, strict=True)]


class ResamplePool:
    """Resamples by the runs they resample: every table of a report that resamples the
    same runs (the same seeds and clusters, e.g. a baseline's outcomes and each paired
    comparison with it) shares one set of resamples, drawn once.

    The generator is fixed by the report seed and the runs' seeds, so a table does not
    change when other scenarios join the report."""

    def __init__(self, seed: int, n_boot: int) -> None:
        self.seed, self.n_boot = seed, n_boot
        self._made: dict[tuple[str, str], Resamples] = {}

    def resamples(
        self, seeds: np.ndarray, clusters: np.ndarray | None = None
    ) -> tuple[Resamples, np.ndarray]:
        """The resamples of the runs ``seeds`` (unique), and the order of the runs in them."""
        seeds = np.asarray(seeds, dtype=np.int64)
        order = np.argsort(seeds, kind="stable")
        ordered = clusters[order] if clusters is not None else None
        key = (
            hashlib.sha1(seeds[order].tobytes()).hexdigest(),
            ""
            if ordered is None
            else hashlib.sha1("|".join(map(str, ordered)).encode()).hexdigest(),
        )
        if key not in self._made:
            rng = rng_for(self.seed, "runs", *key)
            self._made[key] = Resamples(len(seeds), self.n_boot, rng, ordered)
        return self._made[key], order

    def means(
        self, seeds: np.ndarray, arrays: Sequence[np.ndarray], clusters: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """``Resamples.means`` of arrays whose rows are the runs ``seeds`` (unique)."""
        return self.later(seeds, arrays, clusters)()

    def later(
        self, seeds: np.ndarray, arrays: Sequence[np.ndarray], clusters: np.ndarray | None = None
    ) -> Callable[[], list[np.ndarray]]:
        """``means``, resampled when first called, in one product with every array asked
        of the same resamples by then (``Resamples.later``)."""
        resamples, order = self.resamples(seeds, clusters)
        return resamples.later([np.asarray(a)[order] for a in arrays])


def bootstrap_means(
    arrays: Sequence[np.ndarray],
    n_boot: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Column means of each (n, m) array over the same ``n_boot`` resamples of the n rows
    (``Resamples``; ``clusters``: a key per row, whole clusters resampled)."""
    return Resamples(len(arrays[0]), n_boot, rng, clusters).means(arrays)


def clusters_of(draws: pd.Series | None, seeds: np.ndarray) -> np.ndarray | None:
    """Each run's parameter draw (``draws``: seed -> key), for the runs ``seeds``; None
    when the runs take no draws."""
    return None if draws is None else draws.reindex(seeds).to_numpy()


def pair_clusters(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The cluster of each pair of runs: the pair of their draws."""
    if a is None or b is None:
        return a if b is None else b
    return np.array([f"{x}|{y}" for x, y in zip(a, b, strict=True)], dtype=object)


def percentile_interval(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5% and 97.5% points of bootstrap samples (n_boot, m), ignoring NaN."""
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    gaps = np.isnan(samples).any(axis=0)
    if gaps.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low[gaps], high[gaps] = np.nanpercentile(samples[:, gaps], [2.5, 97.5], axis=0)
    return low, high


def snap(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Values within rounding error of zero (1e-12 of the scale) set to exactly zero."""
    values = np.asarray(values, dtype=float)
    return np.where(np.abs(values) <= 1e-12 * (1.0 + np.abs(scale)), 0.0, values)


def standardise(difference: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Difference over a standard deviation; 0 when both are 0, NaN when only the sd is,
    and NaN where there is no sd (a single run on a side: d is undefined, even for a
    difference of 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sd > 0, difference / sd, np.where(difference == 0, 0.0, np.nan))
    return np.where(np.isnan(sd), np.nan, d)


def t_quantile(df: np.ndarray | float) -> np.ndarray:
    """The 97.5% point of Student's t with ``df`` degrees of freedom (``scipy.stats.t.ppf``
    calls the same ``scipy.special.stdtrit``; importing scipy.stats alone took a second)."""
    return np.asarray(stdtrit(df, 0.975))


def t_interval(n: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> pd.DataFrame:
    """Mean and 95% t-interval from counts, sums and sums of squares (NaN when n < 2)."""
    n = np.asarray(n, dtype=float)
    mean = total / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(total_sq - n * mean**2, 0.0) / (n - 1)
        half = t_quantile(np.maximum(n - 1, 1)) * np.sqrt(var / n)
    half = np.where(n > 1, half, np.nan)
    return pd.DataFrame({"mean": mean, "ci_low": mean - half, "ci_high": mean + half})


def wilson_interval(count: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson interval of a proportion (sensible at 0 and 1 and for few runs)."""
    z = 1.959963984540054
    n = np.asarray(n, dtype=float)
    p = count / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = np.where(count == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(count == n, 1.0, np.clip(centre + half, 0, 1))
    return low, high


NO_INTERVAL = "n = 1: no interval"


def outcome_summary_later(
    label: str,
    runs: pd.DataFrame,
    metrics: list[str],
    n_boot: int,
    seed: int,
    draws: pd.Series | None = None,
    pool: ResamplePool | None = None,
) -> Callable[[], pd.DataFrame]:
    """Mean, sd, the 10th, 50th and 90th percentiles over runs (the spread of the runs)
    and a bootstrap 95% interval of the mean of each outcome metric over a scenario's runs
    (``draws``: each run's parameter draw by seed, resampled as clusters; ``pool``: shared
    resamples). One run has no interval (NaN).

    In two steps: the resamples are asked for now (``ResamplePool.later``) and the table
    is made when the returned function is called, so that one product resamples the
    arrays of every table asked for before."""
    values = runs[metrics].to_numpy(dtype=float)
    n = len(values)
    boot = None
    if n > 1:
        clusters = clusters_of(draws, runs["seed"].to_numpy())
        pool = pool or ResamplePool(seed, n_boot)
        boot = pool.later(runs["seed"].to_numpy(), [values], clusters)

    def table() -> pd.DataFrame:
        mean = values.mean(axis=0)
        sd = values.std(axis=0, ddof=1) if n > 1 else np.full(len(metrics), np.nan)
        p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=0)
        low = high = np.full(len(metrics), np.nan)
        if boot is not None:
            (samples,) = boot()
            low, high = (snap(x, mean) for x in percentile_interval(samples))
        return pd.DataFrame(
            {
                "label": label,
                "metric": metrics,
                "runs": n,
                "mean": mean,
                "sd": sd,
                "p10": p10,
                "p50": p50,
                "p90": p90,
                "ci_low": low,
                "ci_high": high,
            }
        )

    return table


@dataclass(frozen=True)
class Pairing:
    """How two scenarios' runs are compared: by common seed, or as independent samples."""

    paired: bool
    seeds: np.ndarray
    note: str


OTHER_STATES = "unpaired: other states, so a seed draws other random numbers"


def pair_by_seed(seeds_a: np.ndarray, seeds_b: np.ndarray, same_states: bool = True) -> Pairing:
    """Pair on the common seeds when they are most of both scenarios' runs and unique, and
    the two worlds have the same states (``same_states``: else a seed's random numbers
    fall to other states, and runs of one seed share nothing)."""
    common = np.intersect1d(seeds_a, seeds_b)
    if not same_states:
        return Pairing(False, common, OTHER_STATES if len(common) else "unpaired: no common seeds")
    if len(np.unique(seeds_a)) < len(seeds_a) or len(np.unique(seeds_b)) < len(seeds_b):
        return Pairing(False, common, "unpaired: a seed appears twice in one scenario")
    if min(len(seeds_a), len(seeds_b)) < 2:
        return Pairing(False, common, NO_INTERVAL)
    enough = len(common) >= MIN_PAIRED_FRACTION * max(len(seeds_a), len(seeds_b))
    if len(common) < 2 or not enough:
        return Pairing(False, common, f"unpaired: {len(common)} common seeds")
    dropped = len(seeds_a) + len(seeds_b) - 2 * len(common)
    note = f"paired by seed ({len(common)} pairs)"
    if dropped:
        note += f"; {dropped} runs without a partner left out"
    return Pairing(True, common, note)


def _by_seed(frame: pd.DataFrame, seeds: np.ndarray, columns: list[str]) -> np.ndarray:
    return frame.set_index("seed").loc[seeds, columns].to_numpy(dtype=float)


def effects_later(
    label: str,
    runs: pd.DataFrame,
    baseline: str,
    base_runs: pd.DataFrame,
    metrics: list[str],
    n_boot: int,
    seed: int,
    draws: pd.Series | None = None,
    base_draws: pd.Series | None = None,
    pool: ResamplePool | None = None,
    same_states: bool = True,
) -> Callable[[], pd.DataFrame]:
    """Difference in means against the baseline with a bootstrap 95% interval, and
    Cohen's d (difference over the pooled sd of the two scenarios) with its interval.

    Paired comparisons resample pairs of runs with the same seed; unpaired ones resample
    each scenario on its own. ``draws``, ``base_draws``: each run's parameter draw by
    seed, resampled as clusters (a pair's cluster is the pair of its runs' draws). With a
    single run on either side there is no interval (NaN; pairing ``NO_INTERVAL``).
    In two steps, like ``outcome_summary_later``; the runs' values are asked for as they
    are, the arrays the outcomes ask for, so one set of resampled means serves both.
    """
    pairing = pair_by_seed(runs["seed"].to_numpy(), base_runs["seed"].to_numpy(), same_states)
    pool = pool or ResamplePool(seed, n_boot)
    if pairing.paired:
        a = _by_seed(runs, pairing.seeds, metrics)
        b = _by_seed(base_runs, pairing.seeds, metrics)
    else:
        a = runs[metrics].to_numpy(dtype=float)
        b = base_runs[metrics].to_numpy(dtype=float)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    boot_a = boot_b = None
    if pairing.note != NO_INTERVAL:
        ca, cb = a - mean_a, b - mean_b  # squared for the resampled variances
        if pairing.paired:
            pairs = pair_clusters(
                clusters_of(draws, pairing.seeds), clusters_of(base_draws, pairing.seeds)
            )
            boot_a = pool.later(pairing.seeds, [a, ca**2, b, cb**2], pairs)
        else:
            seeds_a, seeds_b = runs["seed"].to_numpy(), base_runs["seed"].to_numpy()
            boot_a = pool.later(seeds_a, [a, ca**2], clusters_of(draws, seeds_a))
            boot_b = pool.later(seeds_b, [b, cb**2], clusters_of(base_draws, seeds_b))

    def table() -> pd.DataFrame:
        scale = np.maximum(np.abs(mean_a), np.abs(mean_b))
        difference = snap(mean_a - mean_b, scale)
        pooled = np.sqrt((_var(a) + _var(b)) / 2)
        nan = np.full(len(metrics), np.nan)
        diff_low, diff_high, d_low, d_high = nan, nan, nan, nan
        if boot_a is not None:
            ma, ma2, mb, mb2 = boot_a() + (boot_b() if boot_b is not None else [])
            boot_difference = snap(ma - mb, scale)
            diff_low, diff_high = percentile_interval(boot_difference)
            shift_a, shift_b = ma - mean_a, mb - mean_b  # the resampled means' deviations
            boot_pooled = np.sqrt(
                (_clean(ma2 - shift_a**2, scale) + _clean(mb2 - shift_b**2, scale)) / 2
            )
            d_low, d_high = percentile_interval(standardise(boot_difference, boot_pooled))
        return pd.DataFrame(
            {
                "label": label,
                "baseline": baseline,
                "metric": metrics,
                "paired": pairing.paired,
                "pairing": pairing.note,
                "n_scenario": len(runs),
                "n_baseline": len(base_runs),
                "n_compared": len(pairing.seeds) if pairing.paired else len(a) + len(b),
                "mean_scenario": mean_a,
                "mean_baseline": mean_b,
                "difference": difference,
                "ci_low": diff_low,
                "ci_high": diff_high,
                "cohens_d": standardise(difference, pooled),
                "d_ci_low": d_low,
                "d_ci_high": d_high,
                "ci_excludes_zero": (diff_low > 0) | (diff_high < 0),
            }
        )

    return table


def _clean(var: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A variance with rounding noise (below 1e-12 of the squared scale) set to zero."""
    return np.where(var > 1e-12 * (1.0 + scale**2), var, 0.0)


def _var(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return np.full(values.shape[1], np.nan)
    return _clean(values.var(axis=0, ddof=1), values.mean(axis=0))


DEFAULT_THRESHOLD = 2.0
"""The practical-significance threshold in percentage points (``--threshold``). A share of
the region's 11 states moves in steps of 9.1 points (one state); 2 points is one state in
about one run in five taking another label, the smallest change a reader would see in a
handful of simulated histories. A judgement, stated so that it can be changed."""
SHARE_PREFIXES = ("final_share_", "mean_share_")


def threshold_of(metric: str, baseline_mean: float, threshold: float) -> float:
    """The smallest effect of interest of a metric, in its own units: ``threshold``
    percentage points for a share (a fraction of states), ``threshold`` per cent of the
    baseline's mean for a count (switches, ticks, states)."""
    if metric.startswith(SHARE_PREFIXES):
        return threshold / 100
    return threshold / 100 * abs(baseline_mean)


MIN_VERDICT_RUNS = 20
"""Runs compared (pairs, or the smaller side) below which an effect gets no verdict: a
percentile bootstrap of fewer has few distinct resamples, and runs that all agree (3 runs,
no difference) give an interval of width 0 that would read as 'negligible', an
equivalence, where 500 runs find the effect beyond the threshold."""
TOO_FEW = "too few runs"


def practical(
    low: np.ndarray, high: np.ndarray, limit: np.ndarray, runs: np.ndarray | None = None
) -> np.ndarray:
    """Each interval against its smallest effect of interest (equivalence testing, Lakens
    2017, Soc. Psychol. Personal. Sci. 8: 355): 'beyond' when the 95% interval lies wholly
    outside +-limit, 'negligible' when wholly inside, else 'unclear'; 'no interval' when
    there is none; 'too few runs' (``TOO_FEW``) when fewer than ``MIN_VERDICT_RUNS`` runs
    were compared (``runs``)."""
    low, high, limit = (np.asarray(x, dtype=float) for x in (low, high, limit))
    beyond = (low > limit) | (high < -limit)
    inside = (low >= -limit) & (high <= limit) & ~beyond
    out = np.where(beyond, "beyond", np.where(inside, "negligible", "unclear"))
    if runs is not None:
        out = np.where(np.asarray(runs) < MIN_VERDICT_RUNS, TOO_FEW, out)
    return np.where(np.isnan(low) | np.isnan(high), "no interval", out)


def applies_to(profile: str, term: str) -> str:
    """The profiles a term's value on ``profile`` holds for: a term of the security choice
    alone depends only on the security option (``west/*``: every profile with security
    west), one of the economic choice alone only on the economic option (``*/china``),
    a term of both on the whole profile."""
    security, separator, economy = profile.partition(SEPARATOR)
    if separator and term in SECURITY_TERMS and term not in ECONOMIC_TERMS:
        return f"{security}{SEPARATOR}*"
    if separator and term in ECONOMIC_TERMS and term not in SECURITY_TERMS:
        return f"*{SEPARATOR}{economy}"
    return profile


COLUMN_CHUNK = 256
"""Columns of the term matrix turned into float64 at once (bounds the memory)."""


def mean_se(values: np.ndarray, clusters: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Each column's mean, the standard error of that mean and its degrees of freedom:
    sd / sqrt(n) with n - 1, or with ``clusters`` the cluster-robust (sandwich) error of
    the mean with k - 1 (k clusters). NaN errors with fewer than two runs or clusters."""
    n = len(values)
    mean = values.mean(axis=0, dtype=np.float64)
    if clusters is None:
        k = n
        if n > 1:  # the sum of squared deviations as one product per column
            centred = values - mean
            sd = np.sqrt(np.einsum("ij,ij->j", centred, centred) / (n - 1))
        else:
            sd = np.nan
        se = sd / np.sqrt(n) * np.ones_like(mean)
    else:
        codes, _ = pd.factorize(clusters)
        k = int(codes.max()) + 1
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
        sums = np.add.reduceat(values[order].astype(np.float64), starts, axis=0)
        sizes = np.diff(np.r_[starts, n])[:, None]
        spread = ((sums - mean * sizes) ** 2).sum(axis=0)
        se = np.sqrt(k / (k - 1) * spread) / n if k > 1 else np.full_like(mean, np.nan)
    return mean, se, np.full_like(mean, max(k - 1, 1))


def change_interval(
    a: np.ndarray,
    b: np.ndarray,
    paired: bool,
    clusters_a: np.ndarray | None = None,
    clusters_b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change of each column's mean from ``b`` to ``a`` and its 95% t-interval (normal
    theory: the means of many runs; cluster-robust with clusters). Paired: rows of a and
    b are the same seeds (``clusters_a``: the pairs' clusters); unpaired: the two errors
    combine, with the smaller degrees of freedom. Computed a chunk of columns at a time."""
    change = np.empty(a.shape[1])
    half = np.empty(a.shape[1])
    for start in range(0, a.shape[1], COLUMN_CHUNK):
        part = slice(start, start + COLUMN_CHUNK)
        if paired:
            diff = np.subtract(a[:, part], b[:, part], dtype=np.float64)
            mean, se, df = mean_se(diff, clusters_a)
        else:
            mean_a, se_a, df_a = mean_se(a[:, part], clusters_a)
            mean_b, se_b, df_b = mean_se(b[:, part], clusters_b)
            mean, se, df = mean_a - mean_b, np.hypot(se_a, se_b), np.minimum(df_a, df_b)
        change[part] = mean
        half[part] = t_quantile(df) * se
    return change, change - half, change + half


def term_drivers(
    label: str,
    terms: pd.DataFrame,
    baseline: str,
    base_terms: pd.DataFrame,
    draws: pd.Series | None = None,
    base_draws: pd.Series | None = None,
    same_states: bool = True,
) -> pd.DataFrame:
    """Change of each term's mean contribution to each state's utility of each profile
    (``option``), against the baseline, with a 95% t-interval (``change_interval``: with
    thousands of columns a bootstrap would dominate the report's time), ranked by size.

    The terms of a profile add up to its utility, so the changes of a (state, option)
    add up to the change of that utility (``utility_change``). A term of one dimension has
    the same value on every profile that shares its option in that dimension
    (``applies_to``): those rows are one change and share one ``rank``. ``draws``,
    ``base_draws``: as in ``effects_later`` (cluster-robust errors).
    """
    columns = terms.columns.intersection(base_terms.columns, sort=False)
    frame = columns.to_frame(index=False)
    frame.insert(0, "baseline", baseline)
    frame.insert(0, "label", label)
    frame["applies_to"] = [
        applies_to(o, t) for o, t in zip(frame["option"], frame["term"], strict=True)
    ]
    # the columns of one (state, applies_to, term) hold the same values: computed once,
    # each change's code (0, 1, ... in order of first appearance) maps it back to its rows
    back = pd.factorize(pd.MultiIndex.from_frame(frame[["state", "applies_to", "term"]]))[0]
    distinct = columns[np.unique(back, return_index=True)[1]]
    pairing = pair_by_seed(terms.index.to_numpy(), base_terms.index.to_numpy(), same_states)
    at_a = terms.columns.get_indexer(distinct)
    at_b = base_terms.columns.get_indexer(distinct)
    if pairing.paired:
        a = columns_of(rows_of(terms, pairing.seeds), at_a)
        b = columns_of(rows_of(base_terms, pairing.seeds), at_b)
        pairs = pair_clusters(
            clusters_of(draws, pairing.seeds), clusters_of(base_draws, pairing.seeds)
        )
        change, low, high = change_interval(a, b, True, pairs)
    else:
        a, b = columns_of(terms.to_numpy(), at_a), columns_of(base_terms.to_numpy(), at_b)
        clusters_a = clusters_of(draws, terms.index.to_numpy())
        clusters_b = clusters_of(base_draws, base_terms.index.to_numpy())
        change, low, high = change_interval(a, b, False, clusters_a, clusters_b)
    mean_a = a.mean(axis=0, dtype=np.float64)[back]
    mean_b = b.mean(axis=0, dtype=np.float64)[back]
    change, low, high = change[back], low[back], high[back]
    scale = np.maximum(np.abs(mean_a), np.abs(mean_b))
    frame["family"] = frame["term"].map(TERM_FAMILIES).fillna("")
    frame["mean_scenario"] = mean_a
    frame["mean_baseline"] = mean_b
    frame["change"] = snap(change, scale)
    frame["ci_low"] = snap(low, scale)
    frame["ci_high"] = snap(high, scale)
    frame["ci_excludes_zero"] = (frame["ci_low"] > 0) | (frame["ci_high"] < 0)
    frame["utility_change"] = frame.groupby(["state", "option"], sort=False)["change"].transform(
        "sum"
    )
    frame["paired"] = pairing.paired
    frame["n_compared"] = len(pairing.seeds) if pairing.paired else len(a) + len(b)
    frame = frame.dropna(subset=["change"])
    frame = frame.iloc[np.argsort(-frame["change"].abs().to_numpy(), kind="stable")]
    # one rank per change: rows of one (state, applies_to, term) are equal, so ordering
    # the changes by first appearance keeps the sizes non-increasing
    same = pd.MultiIndex.from_frame(frame[["state", "applies_to", "term"]])
    rank = pd.factorize(same)[0] + 1
    frame = frame.iloc[np.argsort(rank, kind="stable")]
    frame.insert(2, "rank", np.sort(rank))
    frame["description"] = [
        f"{s}, {where}: {t} {c:+.3g}"
        for s, where, t, c in zip(
            frame["state"], frame["applies_to"], frame["term"], frame["change"], strict=True
        )
    ]
    return frame.reset_index(drop=True)


CONSEQUENCE_TERMS = ("switching",)
"""Terms that record that a move happened rather than why: the switching cost is paid on
every profile but the one a state holds, so it changes because the state moved. Shown
apart, as consequences, never ranked as drivers."""


def moves(profiles: pd.DataFrame, label: str, baseline: str) -> pd.DataFrame:
    """Per state, the two profiles it moves between under ``label`` against ``baseline``,
    from the runs: the one whose probability of ending the run falls most (``leaves``) and
    the one whose probability rises most (``joins``), with those changes and ``shift``
    (the total variation distance: half the sum of |change|, the share of runs that end
    elsewhere). ``profiles``: the report's profile_probability table."""
    wide = profiles[profiles["label"].isin([label, baseline])].pivot_table(
        index=["state", "option"], columns="label", values="probability", sort=False
    )
    change = (wide[label] - wide[baseline]).unstack("option")
    states = list(dict.fromkeys(profiles["state"]))
    change = change.reindex(index=states)
    values = change.to_numpy(dtype=float)
    joins, leaves = np.nanargmax(values, axis=1), np.nanargmin(values, axis=1)
    rows = np.arange(len(states))
    return pd.DataFrame(
        {
            "state": states,
            "leaves": change.columns.to_numpy()[leaves],
            "joins": change.columns.to_numpy()[joins],
            "leaves_change": values[rows, leaves],
            "joins_change": values[rows, joins],
            "shift": np.nansum(np.abs(values), axis=1) / 2,
        }
    )


def columns_of(matrix: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The columns ``at`` (any shape, flattened) of a 2-d array, by ``np.take``: a third of
    the time of ``matrix[:, at]`` on the wide run x term matrices."""
    return np.take(matrix, np.ravel(at), axis=1)


def rows_of(frame: pd.DataFrame, seeds: np.ndarray) -> np.ndarray:
    """The rows of ``frame`` (index: seed) for ``seeds``, as an array; no copy when they
    are its rows in order."""
    values = frame.to_numpy()
    if len(seeds) == len(frame) and np.array_equal(frame.index.to_numpy(), seeds):
        return values
    return values[frame.index.get_indexer(pd.Index(seeds))]


def margin_drivers_later(
    label: str,
    terms: pd.DataFrame,
    baseline: str,
    base_terms: pd.DataFrame,
    moved: pd.DataFrame,
    pool: ResamplePool,
    draws: pd.Series | None = None,
    base_draws: pd.Series | None = None,
    same_states: bool = True,
) -> Callable[[], pd.DataFrame]:
    """Why each state moves: the change (scenario minus baseline) of the margin of the
    profile it joins over the one it leaves (``moves``), term by term, with bootstrap 95%
    intervals (paired by seed when possible; ``pool``: shared resamples).

    A margin is U(joins) - U(leaves) averaged over a run (utility units); choices follow
    such margins (logit: the odds of two profiles are exp(rationality x margin)). Per
    state the rows are each term (``role`` cause, or consequence for
    ``CONSEQUENCE_TERMS``), ranked by |change| among the causes, then 'all causes' and
    'whole margin' (role total). States are ranked by ``shift``; a state that does not
    move (shift 0) is left out.
    In two steps, like ``outcome_summary_later``.
    """
    moved = moved[moved["shift"] > 0].sort_values("shift", ascending=False, kind="stable")
    columns = terms.columns.intersection(base_terms.columns, sort=False)
    names = list(dict.fromkeys(columns.to_frame(index=False)["term"]))
    if moved.empty or not names:
        return lambda: pd.DataFrame(columns=MARGIN_COLUMNS)
    pairing = pair_by_seed(terms.index.to_numpy(), base_terms.index.to_numpy(), same_states)
    if pairing.paired:
        matrix_a, matrix_b = rows_of(terms, pairing.seeds), rows_of(base_terms, pairing.seeds)
    else:
        matrix_a, matrix_b = terms.to_numpy(), base_terms.to_numpy()
    # the columns of every state's terms on the profile it joins and the one it leaves,
    # (state, term) each; a state missing any of them in either table is left out
    states = moved["state"].to_numpy()

    def at(table: pd.DataFrame, side: str) -> np.ndarray:
        wanted = [(s, o, t) for s, o in zip(states, moved[side], strict=True) for t in names]
        where = table.columns.get_indexer(pd.MultiIndex.from_tuples(wanted))
        return where.reshape(len(states), len(names))

    to, away = at(terms, "joins"), at(terms, "leaves")
    to_b, away_b = at(base_terms, "joins"), at(base_terms, "leaves")
    found = np.minimum.reduce([to, away, to_b, away_b]).min(axis=1) >= 0
    states = states[found]
    margins_a = np.subtract(
        columns_of(matrix_a, to[found]), columns_of(matrix_a, away[found]), dtype=np.float64
    )
    margins_b = np.subtract(
        columns_of(matrix_b, to_b[found]), columns_of(matrix_b, away_b[found]), dtype=np.float64
    )
    cause = np.array([t not in CONSEQUENCE_TERMS for t in names])
    keys: list[tuple[str, str, str]] = []
    parts_a: list[np.ndarray] = []
    parts_b: list[np.ndarray] = []
    for n, state in enumerate(states):
        for parts, margins in ((parts_a, margins_a), (parts_b, margins_b)):
            margin = margins[:, n * len(names) : (n + 1) * len(names)]
            parts.append(
                np.column_stack([margin, margin[:, cause].sum(axis=1), margin.sum(axis=1)])
            )
        keys += [
            (state, t, "cause" if c else "consequence") for t, c in zip(names, cause, strict=True)
        ]
        keys += [(state, "all causes", "total"), (state, "whole margin", "total")]
    if not keys:
        return lambda: pd.DataFrame(columns=MARGIN_COLUMNS)
    a, b = np.hstack(parts_a), np.hstack(parts_b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    boot_a = boot_b = None
    if pairing.note != NO_INTERVAL:
        if pairing.paired:
            pairs = pair_clusters(
                clusters_of(draws, pairing.seeds), clusters_of(base_draws, pairing.seeds)
            )
            boot_a = pool.later(pairing.seeds, [a - b], pairs)
        else:
            seeds_a, seeds_b = terms.index.to_numpy(), base_terms.index.to_numpy()
            boot_a = pool.later(seeds_a, [a], clusters_of(draws, seeds_a))
            boot_b = pool.later(seeds_b, [b], clusters_of(base_draws, seeds_b))

    def table() -> pd.DataFrame:
        scale = np.maximum(np.abs(mean_a), np.abs(mean_b))
        change = snap(mean_a - mean_b, scale)
        low = high = np.full(len(keys), np.nan)
        if boot_a is not None:
            (boot,) = boot_a()
            if boot_b is not None:
                boot = boot - boot_b()[0]
            low, high = percentile_interval(snap(boot, scale))
        frame = pd.DataFrame(keys, columns=["state", "term", "role"])
        frame = frame.merge(moved, on="state", how="left", sort=False)
        frame.insert(0, "baseline", baseline)
        frame.insert(0, "label", label)
        frame["margin_baseline"] = mean_b
        frame["margin_scenario"] = mean_a
        frame["change"] = change
        frame["ci_low"], frame["ci_high"] = low, high
        frame["ci_excludes_zero"] = (frame["ci_low"] > 0) | (frame["ci_high"] < 0)
        frame["paired"] = pairing.paired
        size = np.where(frame["role"] == "cause", frame["change"].abs(), -1.0)
        frame["rank"] = (
            pd.Series(size)
            .groupby(frame["state"], sort=False)
            .rank(ascending=False, method="first")
        ).where(frame["role"] == "cause")
        order = frame.assign(
            state_order=pd.factorize(frame["state"])[0],
            within=frame["rank"].fillna(1e9) + np.where(frame["role"] == "total", 1e9, 0),
        ).sort_values(["state_order", "within"], kind="stable")
        return order.drop(columns=["state_order", "within"]).reset_index(drop=True)

    return table


MARGIN_COLUMNS = [
    "label", "baseline", "state", "term", "role", "leaves", "joins", "leaves_change",
    "joins_change", "shift", "margin_baseline", "margin_scenario", "change", "ci_low",
    "ci_high", "ci_excludes_zero", "paired", "rank",
]  # fmt: skip
