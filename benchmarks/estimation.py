"""How fast the estimator runs on the 1991-2010 record (issue 12's performance targets).

Times, on the package's record and the history scenario at the defaults:

- one evaluation of the conditional likelihood (``ConditionalLikelihood.log_likelihood``)
  of the 1991-2010 record, the median of several (target: under 1 s);
- a batch of 100 parameter points around the defaults (every default free parameter
  moved by 0.1 on its free scale), as points per second;
- a full fit (``estimation.jobs.fit_config``) of every default free parameter
  (``estimation.parameters``), its progress printed as it goes (target: under 60 s on 2
  cores). ``--quick`` fits three parameters instead and repeats less.

    python benchmarks/estimation.py            # about 30 s
    python benchmarks/estimation.py --quick    # about 15 s

Prints figures as it goes and, as its last line, a JSON object with ``likelihood_eval_s``,
``likelihood_points_per_s``, ``fit_s``, ``fit_log_likelihood``, ``fit_parameters`` (path ->
estimate), ``fit_n_parameters``, ``fit_converged``, ``build_s``, ``cores``, ``quick``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import numpy as np

from alignment_sim import default_config
from alignment_sim.estimation.jobs import fit_config, load_histories
from alignment_sim.estimation.likelihood import ConditionalLikelihood
from alignment_sim.estimation.parameters import free_parameters, to_values
from alignment_sim.paths import with_values

POINTS = 100
QUICK_PARAMETERS = ["decision.rationality", "dynamics.switching_cost", "weights.trade"]
EVAL_TARGET_S = 1.0
FIT_TARGET_S = 60.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three parameters, fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7

    config = default_config(scenario="history", task="fit")
    if args.quick:
        config = with_values(config, {})
        config.estimation.parameters = list(QUICK_PARAMETERS)
    start = time.perf_counter()
    histories = load_histories(config)
    likelihood = ConditionalLikelihood.build(config, histories)
    build_s = time.perf_counter() - start
    first, last = int(histories.years[0]), int(histories.years[-1])
    print(
        f"record {first}-{last}: {likelihood.n_observations} state-years, "
        f"{histories.switches()} switches; built in {build_s:.2f} s",
        flush=True,
    )

    likelihood.log_likelihood({})  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = float(likelihood.log_likelihood({})[0])
        times.append(time.perf_counter() - start)
    eval_s = statistics.median(times)
    print(
        f"  one likelihood evaluation   {eval_s:7.3f} s (median of {repeats}; "
        f"log likelihood {value:.3f}; target < {EVAL_TARGET_S:g} s)",
        flush=True,
    )

    spec = config.estimation
    parameters = free_parameters(config, list(spec.parameters), spec.prior_sd, dict(spec.priors))
    centre = np.array([p.prior_mean for p in parameters])
    rng = np.random.default_rng(0)
    points = to_values(parameters, centre + 0.1 * rng.standard_normal((POINTS, len(parameters))))
    batch_times = []
    for _ in range(max(1, repeats // 2)):
        start = time.perf_counter()
        likelihood.log_likelihood(points)
        batch_times.append(time.perf_counter() - start)
    points_per_s = POINTS / statistics.median(batch_times)
    print(
        f"  {POINTS} points in one batch      {statistics.median(batch_times):7.3f} s "
        f"({points_per_s:.0f} points/s, {len(parameters)} parameters varied)",
        flush=True,
    )

    print(f"fit of {len(parameters)} parameters:", flush=True)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"  [{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    result = fit_config(config, histories, progress=progress)
    fit_s = time.perf_counter() - started
    print(
        f"  full fit                    {fit_s:7.2f} s ({result.iterations} iterations, "
        f"converged {result.converged}; target < {FIT_TARGET_S:g} s)",
        flush=True,
    )
    print(
        f"  log likelihood {result.log_likelihood_at_defaults:.3f} at the defaults -> "
        f"{result.log_likelihood:.3f} at the mode",
        flush=True,
    )
    intervals = result.intervals()
    for path, estimate in result.estimates.items():
        low, high = intervals[path]
        print(f"    {path:<36} {estimate:9.4g}  [{low:.4g}, {high:.4g}]", flush=True)

    figures = {
        "likelihood_eval_s": round(eval_s, 4),
        "likelihood_points_per_s": round(points_per_s, 1),
        "fit_s": round(fit_s, 2),
        "fit_log_likelihood": result.log_likelihood,
        "fit_parameters": result.estimates,
        "fit_n_parameters": len(parameters),
        "fit_converged": result.converged,
        "build_s": round(build_s, 3),
        "cores": os.cpu_count(),
        "quick": args.quick,
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
