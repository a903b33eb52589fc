#!/usr/bin/env bash
# The README's study: three scenarios x 500 runs, a comparison report, a Sobol analysis.
# Re-running resumes: finished jobs are skipped and no number changes.
set -euo pipefail
alignment-sim -m scenario=baseline,russia_recession,western_conditionality \
    replications=500 study=shocks
alignment-sim-compare results/sweeps/shocks --out results/compare/shocks
alignment-sim experiment=sobol
alignment-sim-collect results/sweeps/shocks --out results/shocks.parquet
