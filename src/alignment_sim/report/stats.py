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

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from alignment_sim.model.alignment import SEPARATOR
from alignment_sim.model.kernels import ECONOMIC_TERMS, SECURITY_TERMS, TERM_FAMILIES

MIN_PAIRED_FRACTION = 0.5
"""Pair by seed when the common seeds are at least this share of each scenario's runs."""


BOOTSTRAP_COPIES = 8
"""Arrays of (resamples x columns) float64 alive at once at the peak of a bootstrap
(``effects``, ``term_drivers``): the resampled means, their differences and the copies
``snap`` and ``np.percentile`` make."""


def bootstrap_bytes(n_boot: int, columns: int) -> int:
    """An estimate of the peak memory (bytes) of bootstrapping ``columns`` means."""
    return BOOTSTRAP_COPIES * 8 * n_boot * columns


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    """A generator fixed by the report seed and the names of what is resampled."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def bootstrap_means(
    arrays: Sequence[np.ndarray],
    n_boot: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Column means of each (n, m) array over the same ``n_boot`` resamples of the n rows.

    Resamples are multinomial counts, drawn in blocks so memory stays bounded. Columns are
    centred first, so a constant column gives exactly its value in every resample. With
    ``clusters`` (n,) (a key per row) whole clusters are resampled, each with all its rows.
    """
    n = arrays[0].shape[0]
    means = [a.mean(axis=0) for a in arrays]
    centred = [a - m for a, m in zip(arrays, means, strict=True)]
    out = [np.empty((n_boot, a.shape[1])) for a in arrays]
    block = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    of_row = None if clusters is None else pd.factorize(clusters)[0]
    k = n if of_row is None else int(of_row.max()) + 1
    weights = np.full(k, 1.0 / k)
    for start in range(0, n_boot, block):
        stop = min(n_boot, start + block)
        counts = rng.multinomial(k, weights, size=stop - start).astype(np.float64)
        if of_row is not None:
            counts = counts[:, of_row]
        rows = n if of_row is None else counts.sum(axis=1, keepdims=True)
        for array, target in zip(centred, out, strict=True):
            target[start:stop] = counts @ array / rows
    return [target + m for target, m in zip(out, means, strict=True)]


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
    """Difference over a standard deviation; 0 when both are 0, NaN when only the sd is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, difference / sd, np.where(difference == 0, 0.0, np.nan))


def t_interval(n: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> pd.DataFrame:
    """Mean and 95% t-interval from counts, sums and sums of squares (NaN when n < 2)."""
    n = np.asarray(n, dtype=float)
    mean = total / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(total_sq - n * mean**2, 0.0) / (n - 1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(var / n)
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


def outcome_summary(
    label: str,
    runs: pd.DataFrame,
    metrics: list[str],
    n_boot: int,
    seed: int,
    draws: pd.Series | None = None,
) -> pd.DataFrame:
    """Mean, sd and bootstrap 95% interval of each outcome metric over a scenario's runs
    (``draws``: each run's parameter draw by seed, resampled as clusters)."""
    values = runs[metrics].to_numpy(dtype=float)
    n = len(values)
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if n > 1 else np.full(len(metrics), np.nan)
    if n > 1:
        clusters = clusters_of(draws, runs["seed"].to_numpy())
        rng = rng_for(seed, "outcomes", label)
        (samples,) = bootstrap_means([values], n_boot, rng, clusters)
        low, high = (snap(x, mean) for x in percentile_interval(samples))
    else:
        low = high = np.full(len(metrics), np.nan)
    return pd.DataFrame(
        {
            "label": label,
            "metric": metrics,
            "runs": n,
            "mean": mean,
            "sd": sd,
            "ci_low": low,
            "ci_high": high,
        }
    )


@dataclass(frozen=True)
class Pairing:
    """How two scenarios' runs are compared: by common seed, or as independent samples."""

    paired: bool
    seeds: np.ndarray
    note: str


def pair_by_seed(seeds_a: np.ndarray, seeds_b: np.ndarray) -> Pairing:
    """Pair on the common seeds when they are most of both scenarios' runs and unique."""
    common = np.intersect1d(seeds_a, seeds_b)
    if len(np.unique(seeds_a)) < len(seeds_a) or len(np.unique(seeds_b)) < len(seeds_b):
        return Pairing(False, common, "unpaired: a seed appears twice in one scenario")
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


def effects(
    label: str,
    runs: pd.DataFrame,
    baseline: str,
    base_runs: pd.DataFrame,
    metrics: list[str],
    n_boot: int,
    seed: int,
    draws: pd.Series | None = None,
    base_draws: pd.Series | None = None,
) -> pd.DataFrame:
    """Difference in means against the baseline with a bootstrap 95% interval, and
    Cohen's d (difference over the pooled sd of the two scenarios) with its interval.

    Paired comparisons resample pairs of runs with the same seed; unpaired ones resample
    each scenario on its own. ``draws``, ``base_draws``: each run's parameter draw by
    seed, resampled as clusters (a pair's cluster is the pair of its runs' draws).
    """
    pairing = pair_by_seed(runs["seed"].to_numpy(), base_runs["seed"].to_numpy())
    rng = rng_for(seed, "effects", label, baseline)
    if pairing.paired:
        a = _by_seed(runs, pairing.seeds, metrics)
        b = _by_seed(base_runs, pairing.seeds, metrics)
    else:
        a = runs[metrics].to_numpy(dtype=float)
        b = base_runs[metrics].to_numpy(dtype=float)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    scale = np.maximum(np.abs(mean_a), np.abs(mean_b))
    ca, cb = a - mean_a, b - mean_b
    if pairing.paired:
        pairs = pair_clusters(
            clusters_of(draws, pairing.seeds), clusters_of(base_draws, pairing.seeds)
        )
        ma, ma2, mb, mb2 = bootstrap_means([ca, ca**2, cb, cb**2], n_boot, rng, pairs)
    else:
        clusters_a = clusters_of(draws, runs["seed"].to_numpy())
        clusters_b = clusters_of(base_draws, base_runs["seed"].to_numpy())
        ma, ma2 = bootstrap_means([ca, ca**2], n_boot, rng, clusters_a)
        mb, mb2 = bootstrap_means([cb, cb**2], n_boot, rng, clusters_b)
    difference = snap(mean_a - mean_b, scale)
    boot_difference = snap(ma - mb + (mean_a - mean_b), scale)
    diff_low, diff_high = percentile_interval(boot_difference)
    pooled = np.sqrt((_var(a) + _var(b)) / 2)
    boot_pooled = np.sqrt((_clean(ma2 - ma**2, scale) + _clean(mb2 - mb**2, scale)) / 2)
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


def _clean(var: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A variance with rounding noise (below 1e-12 of the squared scale) set to zero."""
    return np.where(var > 1e-12 * (1.0 + scale**2), var, 0.0)


def _var(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return np.full(values.shape[1], np.nan)
    return _clean(values.var(axis=0, ddof=1), values.mean(axis=0))


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


def term_drivers(
    label: str,
    terms: pd.DataFrame,
    baseline: str,
    base_terms: pd.DataFrame,
    n_boot: int,
    seed: int,
    draws: pd.Series | None = None,
    base_draws: pd.Series | None = None,
) -> pd.DataFrame:
    """Change of each term's mean contribution to each state's utility of each profile
    (``option``), against the baseline, with a bootstrap 95% interval, ranked by its size.

    The terms of a profile add up to its utility, so the changes of a (state, option)
    add up to the change of that utility (``utility_change``). A term of one dimension has
    the same value on every profile that shares its option in that dimension
    (``applies_to``): those rows are one change and share one ``rank``. ``draws``,
    ``base_draws``: as in ``effects``.
    """
    columns = terms.columns.intersection(base_terms.columns, sort=False)
    pairing = pair_by_seed(terms.index.to_numpy(), base_terms.index.to_numpy())
    rng = rng_for(seed, "terms", label, baseline)
    if pairing.paired:
        a = terms.loc[pairing.seeds, columns].to_numpy(dtype=np.float64)
        b = base_terms.loc[pairing.seeds, columns].to_numpy(dtype=np.float64)
        pairs = pair_clusters(
            clusters_of(draws, pairing.seeds), clusters_of(base_draws, pairing.seeds)
        )
        (boot,) = bootstrap_means([a - b], n_boot, rng, pairs)
    else:
        a = terms[columns].to_numpy(dtype=np.float64)
        b = base_terms[columns].to_numpy(dtype=np.float64)
        (boot_a,) = bootstrap_means([a], n_boot, rng, clusters_of(draws, terms.index.to_numpy()))
        clusters_b = clusters_of(base_draws, base_terms.index.to_numpy())
        (boot_b,) = bootstrap_means([b], n_boot, rng, clusters_b)
        boot = boot_a - boot_b
    scale = np.maximum(np.abs(a.mean(axis=0)), np.abs(b.mean(axis=0)))
    low, high = percentile_interval(snap(boot, scale))
    frame = columns.to_frame(index=False)
    frame.insert(0, "baseline", baseline)
    frame.insert(0, "label", label)
    frame["applies_to"] = [
        applies_to(o, t) for o, t in zip(frame["option"], frame["term"], strict=True)
    ]
    frame["family"] = frame["term"].map(TERM_FAMILIES).fillna("")
    frame["mean_scenario"] = a.mean(axis=0)
    frame["mean_baseline"] = b.mean(axis=0)
    frame["change"] = snap(a.mean(axis=0) - b.mean(axis=0), scale)
    frame["ci_low"] = low
    frame["ci_high"] = high
    frame["ci_excludes_zero"] = (low > 0) | (high < 0)
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
