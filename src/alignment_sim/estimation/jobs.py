"""The fit as a job: read the record, fit, and write the run folder.

``run_fit(config, folder)`` (``alignment-sim experiment=fit``) writes, each file whole:

- ``fit.json``: ``parameters`` (path -> estimate, low, high, level, method, scale,
  prior), ``log_likelihood`` (at the mode; also at the defaults and the sticky base
  rate's on the same transitions), ``method``, ``record`` (path, SHA-256), ``window``,
  the counts, the optimiser's report and provenance (version, git revision, seed);
- ``fitted.yaml``: the fitted set (``estimation.fitted``), selectable with ``fit=PATH``;
- ``parameters.csv``: the identifiability table (``FitResult.identifiability``);
- ``correlation.csv``: the posterior correlations on the free scale;
- ``contributions.csv``: each scored state-year's log-likelihood at the defaults and at
  the mode, with the recorded labels;
- ``fit.png``: prior and posterior intervals, and the correlations;
- ``manifest.json`` last (the folder is complete only with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fit import METHOD, FitResult, Progress, fit
from alignment_sim.estimation.fitted import FIT_REPORT, FITTED_FILE, FittedSet
from alignment_sim.estimation.histories import Histories, read_histories
from alignment_sim.estimation.likelihood import ConditionalLikelihood, floored_sum
from alignment_sim.estimation.parameters import free_parameters, to_values
from alignment_sim.model.params import SimulationConfig
from alignment_sim.outputs.files import (
    atomic_write_bytes,
    figure_png,
    finish_job,
    sha256,
    write_json,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.report.record import LABELS, PACKAGED_RECORD, Record, fit_sticky

if TYPE_CHECKING:  # matplotlib (and scipy.stats) are imported where the figure is drawn
    from matplotlib.figure import Figure

FIT_FILES = (
    FIT_REPORT,
    FITTED_FILE,
    "parameters.csv",
    "correlation.csv",
    "contributions.csv",
    "fit.png",
)


def record_path(config: SimulationConfig) -> Path:
    """The record a fit reads: ``estimation.record``, or the package's (a ConfigError
    naming ``estimation.record`` for a file that does not exist)."""
    if not config.estimation.record:
        return PACKAGED_RECORD
    path = Path(config.estimation.record)
    if not path.is_file():
        raise ConfigError(
            "estimation.record",
            config.estimation.record,
            "a record file that exists (CSV: state, year, primary_alignment; or a table of "
            "runs' labels)",
            f"Relative paths are read from {Path.cwd()}.",
        )
    return path


def load_histories(config: SimulationConfig) -> Histories:
    """The histories of ``estimation.record`` over ``estimation.window``, with enough
    switches to identify a switching cost (``estimation.min_switches``)."""
    spec = config.estimation
    histories = read_histories(record_path(config), config.region, (spec.window[0], spec.window[1]))
    if histories.switches() < spec.min_switches:
        raise ConfigError(
            "estimation.window",
            spec.window,
            f"a window with at least {spec.min_switches} switches of label "
            f"(estimation.min_switches)",
            f"{histories.source} has {histories.switches()} in it: the record cannot tell how "
            "costly a switch is, nor how noisy choices are. Widen the window.",
        )
    return histories


def fit_config(
    config: SimulationConfig, histories: Histories, progress: Progress | None = None
) -> FitResult:
    """Fit ``config``'s ``estimation.parameters`` to ``histories``."""
    spec = config.estimation
    parameters = free_parameters(config, list(spec.parameters), spec.prior_sd, dict(spec.priors))
    likelihood = ConditionalLikelihood.build(config, histories)
    return fit(likelihood, parameters, spec.level, progress, spec.objective)


def sticky_log_likelihood(histories: Histories, labels: tuple[str, ...]) -> float:
    """The sticky base rate's log-likelihood of the same transitions, fitted on them."""
    total = 0.0
    for h in range(histories.n_histories):
        by_state = {
            str(i): {
                int(y): labels[c]
                for y, c in zip(histories.years, histories.labels[h, :, i], strict=True)
            }
            for i in range(histories.labels.shape[2])
        }
        chain = fit_sticky(
            Record(Path(histories.source), by_state), by_state, int(histories.years[-1])
        )
        index = [LABELS.index(x) for x in labels]
        matrix = chain.matrix[np.ix_(index, index)]
        start, end = histories.labels[h, :-1], histories.labels[h, 1:]
        total += float(np.log(matrix[start, end]).sum())
    return total


def run_fit(
    config: SimulationConfig,
    folder: Path,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Fit and write the run folder (module docstring)."""
    histories = load_histories(config)
    result = fit_config(config, histories, progress)
    write_fit(config, histories, result, folder, extra or {})
    return result


def write_fit(
    config: SimulationConfig,
    histories: Histories,
    result: FitResult,
    folder: Path,
    extra: dict[str, Any],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    scores = state_year_scores(result)
    record = record_path(config)
    first, last = int(histories.years[0]), int(histories.years[-1])
    base = manifest(config, config.seed, extra)
    shown = f"package:data/{record.name}" if record == PACKAGED_RECORD else str(record)
    provenance = {
        "record": shown,
        "record_sha256": sha256(record),
        "window": [first, last],
        "method": METHOD,
        "seed": config.seed,
        "version": base["version"],
        "git_revision": base["git_revision"],
        "created_utc": base["created_utc"],
        "objective": result.objective,
        "log_likelihood": scores.label_log_likelihood[1],
        "n_observations": result.n_observations,
    }
    name = f"{config.region.name or 'fit'}_{first}_{last}"
    fitted = FittedSet(name, result.parameters, result.mode, result.covariance, provenance)
    labels = config.region.option_space.labels
    intervals = result.intervals()
    payload = {
        "parameters": {
            p.path: {
                "estimate": result.estimates[p.path],
                "low": intervals[p.path][0],
                "high": intervals[p.path][1],
                "level": result.level,
                "method": "Laplace approximation (normal on the free scale)",
                "scale": p.transform,
                "prior": {"centre": p.default, "sd_free_scale": p.prior_sd},
            }
            for p in result.parameters
        },
        "objective": result.objective,
        "log_likelihood": scores.label_log_likelihood[1],
        "log_likelihood_at_defaults": scores.label_log_likelihood[0],
        "log_likelihood_sticky": sticky_log_likelihood(histories, labels),
        "profile_log_likelihood": {
            "at_defaults": scores.profile_log_likelihood[0],
            "fit": scores.profile_log_likelihood[1],
            "what": "log P(recorded profile at year end | recorded profile at its start): "
            + (
                "what the fit maximises (estimation.objective=profiles)"
                if result.objective == "profiles"
                else "a diagnostic the fit does not maximise (docs/ESTIMATION.md)"
            ),
        },
        "log_posterior": result.log_posterior,
        "method": METHOD,
        "record": {
            "path": str(record),
            "sha256": provenance["record_sha256"],
            "histories": histories.n_histories,
        },
        "window": [first, last],
        "n_observations": result.n_observations,
        "n_switches": result.n_switches,
        "optimizer": {
            "converged": result.converged,
            "message": result.message,
            "iterations": result.iterations,
            "seconds": round(result.seconds, 2),
        },
        "fitted_set": name,
        "provenance": provenance,
    }
    write_json(folder / "fit.json", payload)
    fitted.write(folder / FITTED_FILE)
    table = pd.DataFrame(result.identifiability())
    _write_csv(folder / "parameters.csv", table)
    corr = pd.DataFrame(result.correlation(), index=result.names, columns=result.names)
    _write_csv(folder / "correlation.csv", corr, index=True)
    _write_csv(folder / "contributions.csv", contributions_frame(config, histories, scores))
    atomic_write_bytes(folder / "fit.png", figure_png(fit_figure(result), 110))
    finish_job(folder, {**base, "fit": payload["fitted_set"], "task": "fit"}, list(FIT_FILES))


@dataclass(frozen=True)
class StateYearScores:
    """Each scored state-year's log-probability at the defaults (index 0) and at the mode
    (index 1): of its recorded label and of its recorded profile (whether the label is
    reached through the recorded memberships); the fit maximises one (its objective)."""

    label: np.ndarray  # (2, H, Y - 1, N), NaN where not scored
    profile: np.ndarray  # (2, H, Y - 1, N)

    @property
    def label_log_likelihood(self) -> tuple[float, float]:
        totals = floored_sum(self.label)
        return float(totals[0]), float(totals[1])

    @property
    def profile_log_likelihood(self) -> tuple[float, float]:
        totals = floored_sum(self.profile)
        return float(totals[0]), float(totals[1])


def state_year_scores(result: FitResult) -> StateYearScores:
    """The labels' and the profiles' scores at the defaults and at the mode, whatever the
    fit's objective."""
    likelihood = result.likelihood
    centre = np.array([p.prior_mean for p in result.parameters])
    points = to_values(result.parameters, np.vstack([centre, result.mode]))
    return StateYearScores(*likelihood.label_and_profile_contributions(points))


def contributions_frame(
    config: SimulationConfig, histories: Histories, scores: StateYearScores
) -> pd.DataFrame:
    """One row per history, scored state-year: the log-likelihood of the recorded label and
    of the recorded profile at the defaults and at the mode, and the labels and profiles at
    the start and end of the year."""
    space = config.region.option_space
    contrib, profile = scores.label, scores.profile
    labels = np.array(space.labels, dtype=object)
    names = np.array(space.profiles, dtype=object)
    H, Ym1, N = contrib.shape[1:]
    h, y, i = np.meshgrid(np.arange(H), np.arange(Ym1), np.arange(N), indexing="ij")
    frame = pd.DataFrame(
        {
            "history": h.ravel(),
            "state": np.array(config.region.state_names, dtype=object)[i.ravel()],
            "year": histories.years[1:][y.ravel()],
            "from": labels[histories.labels[:, :-1][h, y, i].ravel()],
            "to": labels[histories.labels[:, 1:][h, y, i].ravel()],
            "from_profile": names[histories.profiles[:, :-1][h, y, i].ravel()],
            "to_profile": names[histories.profiles[:, 1:][h, y, i].ravel()],
            "log_likelihood_defaults": contrib[0].ravel(),
            "log_likelihood_fit": contrib[1].ravel(),
            "profile_log_likelihood_defaults": profile[0].ravel(),
            "profile_log_likelihood_fit": profile[1].ravel(),
        }
    )
    return frame.dropna()


def fit_figure(result: FitResult) -> Figure:
    """Left: each parameter's prior and posterior interval, in prior standard deviations
    from the prior's centre; right: posterior correlations."""
    from matplotlib.figure import Figure
    from scipy import stats

    d = len(result.parameters)
    figure = Figure(figsize=(13, 0.35 * d + 2.0))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    q = stats.norm.ppf(0.5 + result.level / 2.0)
    centre = np.array([p.prior_mean for p in result.parameters])
    spread = np.array([p.prior_sd for p in result.parameters])
    mode = (result.mode - centre) / spread
    half = q * result.sd / spread
    rows = np.arange(d)[::-1]
    left.barh(rows, 2 * q, left=-q, color="0.85", label=f"prior {result.level:.0%}")
    left.errorbar(
        mode, rows, xerr=half, fmt="o", color="tab:blue", label=f"posterior {result.level:.0%}"
    )
    estimates, intervals = result.estimates, result.intervals()
    left.set_yticks(
        rows,
        [
            f"{n}  {estimates[n]:.3g} [{intervals[n][0]:.3g}, {intervals[n][1]:.3g}]"
            for n in result.names
        ],
        fontsize=8,
    )
    left.axvline(0, color="0.5", lw=0.8)
    left.set_xlabel("prior standard deviations from the default (free scale)")
    left.legend(loc="lower right", fontsize=8)
    left.set_title("Estimates and intervals (units: each parameter's own)")
    image = right.imshow(result.correlation(), cmap="RdBu_r", vmin=-1, vmax=1)
    right.set_xticks(range(d), [str(i + 1) for i in range(d)], fontsize=7)
    right.set_yticks(range(d), [f"{i + 1} {n}" for i, n in enumerate(result.names)], fontsize=7)
    right.set_title("Posterior correlations")
    figure.colorbar(image, ax=right, shrink=0.7)
    figure.tight_layout()
    return figure


def _write_csv(path: Path, frame: pd.DataFrame, index: bool = False) -> None:
    atomic_write_bytes(path, frame.to_csv(index=index).encode())
