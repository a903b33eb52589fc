"""Validation inside the record: out of sample on its last years, and leave one state out.

``alignment-sim experiment=validate`` (``estimation.window=[1991, 2002]``) writes into its
run folder:

1. ``fit/``: a fit on the window (``estimation.jobs``; ``fit=<folder>/fit`` selects it);
2. ``forecast/``: the history world from the window's last year (the origin) to
   ``RECORD_LAST_YEAR``, ``estimation.draws`` draws of that fit x ``replications`` seeds;
   ``forecast/``: the fit's mode and ``forecast_defaults/``: the hand-set configuration,
   each as many runs (draws x seeds, one point)
   (``estimation.forecast``);
3. ``score/``, ``score_defaults/``: both scored on the years after the origin with
   ``alignment-sim-score`` itself (``report.score.run``), persistence and the sticky base
   rate beside, fitted on the record up to the origin;
4. leave one state out: for each chooser, a fit on the other choosers' transitions from
   the window's first year + 1 to ``RECORD_LAST_YEAR`` (``Histories.select``); the
   left-out state's one-step-ahead label probabilities at that fit's mode
   (``ConditionalLikelihood.label_probabilities``), and at the hand-set values, scored
   (``report.score.score_arrays``) against persistence and the sticky base rate fitted on
   the same other choosers' transitions; each fit's estimates are kept, and the summary
   gives each parameter's range over them (how much one state moves it);
5. ``validation.json`` (every number), ``summary.md`` (the tables, ready to quote) and
   ``manifest.json`` last.

No record year after ``RECORD_LAST_YEAR`` is read: the scored years end there.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alignment_sim.engine.batch import execute
from alignment_sim.errors import ConfigError
from alignment_sim.estimation.fit import Progress, fit
from alignment_sim.estimation.fitted import FittedSet
from alignment_sim.estimation.forecast import check_origin, is_record_file, run_forecast
from alignment_sim.estimation.histories import Histories, read_histories
from alignment_sim.estimation.jobs import (
    fit_config,
    load_histories,
    record_path,
    state_year_scores,
    write_fit,
)
from alignment_sim.estimation.likelihood import ConditionalLikelihood
from alignment_sim.estimation.parameters import FreeParameter, free_parameters, to_values
from alignment_sim.model.calendar import RECORD_LAST_YEAR
from alignment_sim.model.params import SimulationConfig
from alignment_sim.outputs.files import (
    MANIFEST,
    atomic_write_bytes,
    command_line,
    finish_job,
    sha256,
    write_json,
)
from alignment_sim.outputs.provenance import manifest
from alignment_sim.report.record import LABELS, Record, fit_sticky
from alignment_sim.report.score import (
    DEFAULT_FLOOR,
    MEASURES,
    PROG,
    ScoreError,
    Scores,
    parser,
    score_arrays,
)
from alignment_sim.report.score import run as run_score
from alignment_sim.studies.replications import config_digest

FORECASTS = {
    "model_fit": "forecast",
    "model_draws": "forecast_draws",
    "model_defaults": "forecast_defaults",
}
"""Each forecaster of the out-of-sample test -> the folder of its forecast: the fit's mode,
draws from its posterior (parameter uncertainty included), the hand-set defaults."""
SCORES = {"model_fit": "score", "model_draws": "score_draws", "model_defaults": "score_defaults"}
"""Each forecaster -> the folder of its ``alignment-sim-score`` tables."""
FORECASTERS = ("model_fit", "model_draws", "model_defaults", "persistence", "sticky")
LOSO_FORECASTERS = ("model_fit", "model_defaults", "persistence", "sticky")
"""Leaving a state out scores one step ahead at the left-out fit's mode: no draws."""
TITLES = {
    "model_fit": "model, fitted (mode)",
    "model_draws": "model, fitted (parameter draws)",
    "model_defaults": "model, hand-set defaults",
    "persistence": "persistence",
    "sticky": "sticky base rate",
}
VALIDATION_FILES = ("validation.json", "summary.md")


def run_validation(
    config: SimulationConfig,
    folder: Path,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Validate and write the run folder (module docstring); returns ``validation.json``."""
    say = progress or (lambda _: None)
    extra = dict(extra or {})
    origin = check_validation(config)
    first = int(config.estimation.window[0])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    started = time.perf_counter()

    say(f"validate 1/4: fit on {first}-{origin}")
    histories = load_histories(config)
    result = fit_config(config, histories, say)
    write_fit(config, histories, result, folder / "fit", extra)
    fitted = FittedSet.load(folder / "fit")

    say(f"validate 2/4: forecasts from {origin} to {RECORD_LAST_YEAR}")
    for name, subfolder in FORECASTS.items():
        run = forecast_config(config, origin, fitted if name == "model_draws" else None, folder)
        if name != "model_draws":  # one point, as many runs as the draws x seeds
            if name == "model_fit":
                run = fitted.apply(run)
                run.fit = None  # the mode itself, no draws
            run = dataclasses.replace(
                run, replications=config.replications * config.estimation.draws
            )
        say(f"validate: {TITLES[name]} -> {subfolder}/")
        # the mode's runs name no fit (no draws): their manifest names the set they are of
        mode = {"mode_of": str(folder / "fit")} if name == "model_fit" else {}
        run_forecast(run, folder / subfolder, {**extra, **mode}, say, held=())

    say(f"validate 3/4: scores of {origin + 1}-{RECORD_LAST_YEAR} (alignment-sim-score)")
    scored = {
        name: score_forecast(config, folder / FORECASTS[name], folder / SCORES[name], origin)
        for name in FORECASTS
    }
    test = out_of_sample(scored, config, origin)

    say(f"validate 4/4: leave one state out, {first + 1}-{RECORD_LAST_YEAR}")
    loso = leave_one_state_out(config, say)

    labels = state_year_scores(result).label_log_likelihood  # as in fit.json
    payload = {
        "window": [first, origin],
        "origin": origin,
        "record": {"path": str(record_path(config)), "sha256": sha256(record_path(config))},
        "fit": {
            "folder": "fit",
            "parameters": result.names,
            "n_observations": result.n_observations,
            "n_switches": result.n_switches,
            "objective": result.objective,
            "log_likelihood": labels[1],
            "log_likelihood_at_defaults": labels[0],
            "converged": result.converged,
        },
        "out_of_sample": test,
        "leave_one_state_out": loso,
        "goal": goal(test["forecasters"]),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(folder / "validation.json", payload)
    atomic_write_bytes(folder / "summary.md", summary_markdown(payload).encode())
    meta = manifest(
        config,
        config.seed,
        {**extra, "task": "validate", "config_digest": config_digest(config)},
    )
    parts = [f"{sub}/{MANIFEST}" for sub in ("fit", *FORECASTS.values())]
    parts += [f"{sub}/score.json" for sub in SCORES.values()]
    finish_job(folder, meta, [*VALIDATION_FILES, *parts])
    say(f"validate: done in {payload['seconds']:.0f} s: {folder / 'summary.md'}")
    if not all_converged(payload):
        say(f"validate: {convergence_note(payload)} (docs/ESTIMATION.md, Convergence)")
    return payload


def check_validation(config: SimulationConfig) -> int:
    """The origin (the window's last year), after refusing what a validation cannot do."""
    if config.fit is not None:
        raise ConfigError(
            "fit",
            config.fit,
            "null: a validation fits its own parameters on estimation.window",
            "A fitted set made on later years would know the years being scored.",
        )
    for key in ("origin", "to"):
        if getattr(config, key) is not None:
            raise ConfigError(
                key,
                getattr(config, key),
                "null: a validation forecasts from the end of estimation.window to "
                f"{RECORD_LAST_YEAR}",
                "Move the window instead (estimation.window=[first,last]).",
            )
    origin = int(config.estimation.window[1])
    if origin >= RECORD_LAST_YEAR:
        raise ConfigError(
            "estimation.window",
            list(config.estimation.window),
            f"a window ending before {RECORD_LAST_YEAR}: the years after it, to "
            f"{RECORD_LAST_YEAR}, are scored",
        )
    path = record_path(config)
    if not is_record_file(path):
        raise ConfigError(
            "estimation.record",
            str(path),
            "a record in the shared format (state, year, primary_alignment): a validation "
            "scores forecasts against it",
        )
    check_origin(forecast_config(config, origin, None, Path()))
    return origin


def forecast_config(
    config: SimulationConfig, origin: int, fitted: FittedSet | None, folder: Path
) -> SimulationConfig:
    """The forecast from ``origin`` to ``RECORD_LAST_YEAR``: the fit's values (``fit`` =
    its folder) or the configuration's own."""
    run = dataclasses.replace(config, task="forecast", origin=origin, to=RECORD_LAST_YEAR)
    if fitted is None:
        return run
    return dataclasses.replace(fitted.apply(run), fit=str(folder / "fit"))


def score_forecast(config: SimulationConfig, runs: Path, out: Path, origin: int) -> Scores:
    """``alignment-sim-score RUNS --record R --origin O --from O+1 --to 2010 --out OUT``."""
    argv = [str(runs), "--record", str(record_path(config)), "--origin", str(origin)]
    argv += ["--from", str(origin + 1), "--to", str(RECORD_LAST_YEAR), "--out", str(out)]
    try:
        scores, _, _ = run_score(parser().parse_args(argv), command_line(PROG, argv))
    except ScoreError as exc:
        raise ConfigError(
            "estimation.record",
            str(record_path(config)),
            "a record the forecasts can be scored on",
            str(exc),
        ) from None
    return scores


def out_of_sample(
    scored: dict[str, Scores], config: SimulationConfig, origin: int
) -> dict[str, Any]:
    """The out-of-sample test's numbers: each forecaster's mean accuracy, Brier and log
    score over the scored state-years, and its mean probability of each recorded switch."""
    fitted = scored["model_fit"].summary
    sources = {
        **{name: (scored[name].summary, "") for name in FORECASTS},
        "persistence": (fitted, "_persistence"),
        "sticky": (fitted, "_sticky"),
    }
    forecasters = {
        name: {m: summary[m + suffix] for m in MEASURES}
        for name, (summary, suffix) in sources.items()
    }
    switches = {
        name: summary[f"switch_p_year{suffix}"] for name, (summary, suffix) in sources.items()
    }
    return {
        "origin": origin,
        "from": fitted["from"],
        "to": fitted["to"],
        "n_state_years": fitted["n_state_years"],
        "n_switches": fitted["n_switches"],
        "floor": fitted["floor"],
        "draws": config.estimation.draws,
        "seeds_per_draw": config.replications,
        "runs": {name: scored[name].summary["n_runs"] for name in FORECASTS},
        "forecasters": forecasters,
        "switch_probability_in_its_year": switches,
        "sticky_stay_rate": fitted["sticky_stay_rate"],
        "score_folders": SCORES,
    }


def goal(forecasters: dict[str, dict[str, float]]) -> dict[str, bool]:
    """Is the fitted model ahead of each baseline out of sample (Brier: lower, log score:
    higher)?"""
    model = forecasters["model_fit"]
    return {
        f"{measure}_ahead_of_{baseline}": bool(
            model[measure] < forecasters[baseline][measure]
            if measure == "brier"
            else model[measure] > forecasters[baseline][measure]
        )
        for baseline in ("persistence", "sticky")
        for measure in ("brier", "log_score")
    }


# --- leave one state out ----------------------------------------------------------------


def leave_one_state_out(
    config: SimulationConfig, progress: Progress | None = None
) -> dict[str, Any]:
    """For each chooser: fit without its transitions, and score its one-step-ahead
    forecasts of the window's first year + 1 to ``RECORD_LAST_YEAR`` (module docstring).
    The fits run through ``execute`` (``engine.workers`` processes)."""
    say = progress or (lambda _: None)
    spec = config.estimation
    first = int(spec.window[0])
    histories = read_histories(record_path(config), config.region, (first, RECORD_LAST_YEAR))
    parameters = free_parameters(config, list(spec.parameters), spec.prior_sd, dict(spec.priors))
    likelihood = ConditionalLikelihood.build(config, histories)
    states = [s.attribute_state for s in config.region.states]
    n = len(states)
    say(
        f"validate: {n} fits of {len(parameters)} parameters, each on the other "
        f"{n - 1} states' {first + 1}-{RECORD_LAST_YEAR} transitions"
    )
    tasks = [
        (
            dataclasses.replace(likelihood, histories=histories.select(states=np.arange(n) != i)),
            parameters,
            spec.level,
            spec.objective,
        )
        for i in range(n)
    ]
    modes, fits = [], []
    for i, (mode, converged, seconds) in enumerate(execute(loso_mode, tasks, config.engine)):
        modes.append(mode)
        estimates = {path: float(v[0]) for path, v in to_values(parameters, mode).items()}
        fits.append(
            {
                "state": states[i],
                "converged": converged,
                "seconds": round(seconds, 1),
                "estimates": estimates,
            }
        )
        say(f"validate: left out {states[i]} ({i + 1}/{n}), fitted in {seconds:.0f} s")
    at_fits = likelihood.label_probabilities(to_values(parameters, np.array(modes)))
    at_defaults = likelihood.label_probabilities({})[0]
    space_labels = config.region.option_space.labels
    rows: list[dict[str, Any]] = []
    pooled: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in LOSO_FORECASTERS}
    for i, state in enumerate(states):
        start = histories.labels[:, :-1, i].ravel()
        observed = histories.labels[:, 1:, i].ravel()
        sticky = sticky_matrix(histories, np.arange(n) != i, space_labels)
        forecasts = {
            "model_fit": at_fits[i, :, :, i].reshape(len(observed), -1),
            "model_defaults": at_defaults[:, :, i].reshape(len(observed), -1),
            "persistence": np.eye(len(space_labels))[start],
            "sticky": sticky[start],
        }
        row: dict[str, Any] = {
            "state": state,
            "n": len(observed),
            "switches": int((observed != start).sum()),
        }
        for name, p in forecasts.items():
            measures = score_arrays(p, observed, DEFAULT_FLOOR)
            pooled[name].append(measures)
            row[name] = {m: float(measures[m].mean()) for m in MEASURES}
        rows.append(row)
    total = {
        name: {m: float(np.concatenate([x[m] for x in pooled[name]]).mean()) for m in MEASURES}
        for name in LOSO_FORECASTERS
    }
    return {
        "years": [first + 1, RECORD_LAST_YEAR],
        "parameters": [p.path for p in parameters],
        "floor": DEFAULT_FLOOR,
        "n_state_years": int(sum(r["n"] for r in rows)),
        "n_switches": int(sum(r["switches"] for r in rows)),
        "all": total,
        "states": rows,
        "fits": fits,
    }


def loso_mode(
    likelihood: ConditionalLikelihood,
    parameters: list[FreeParameter],
    level: float,
    objective: str,
) -> tuple[np.ndarray, bool, float]:
    """One leave-one-state-out fit (of ``objective``, ``likelihood.OBJECTIVES``): its mode
    (free scale), whether it converged, seconds."""
    result = fit(likelihood, parameters, level=level, objective=objective)
    return result.mode, result.converged, result.seconds


def sticky_matrix(
    histories: Histories, states: np.ndarray, space_labels: Sequence[str]
) -> np.ndarray:
    """The sticky base rate's yearly matrix fitted on the transitions of the ``states``
    (a mask) in ``histories``, rows and columns in ``space_labels`` order."""
    by_state = {
        f"{h}:{i}": {
            int(y): space_labels[c]
            for y, c in zip(histories.years, histories.labels[h, :, i], strict=True)
        }
        for h in range(histories.n_histories)
        for i in np.flatnonzero(states)
    }
    chain = fit_sticky(Record(Path(histories.source), by_state), by_state, int(histories.years[-1]))
    index = [LABELS.index(x) for x in space_labels]
    return np.asarray(chain.matrix[np.ix_(index, index)])


# --- the summary -------------------------------------------------------------------------


def summary_markdown(payload: dict[str, Any]) -> str:
    """``summary.md``: the out-of-sample table and the leave-one-state-out tables."""
    test, loso, fitted = payload["out_of_sample"], payload["leave_one_state_out"], payload["fit"]
    first, origin = payload["window"]
    lines = [
        "# Validation inside the record (`alignment-sim experiment=validate`)",
        "",
        f"## Out of sample: fitted on {first}-{origin}, scored {test['from']}-{test['to']}",
        "",
        f"Fit of {len(fitted['parameters'])} parameters to the recorded {fitted['objective']} "
        f"on {fitted['n_observations']} state-years ({fitted['n_switches']} switches). "
        f"Forecasts from {origin}: "
        f"the fit's mode and the hand-set defaults, {test['runs']['model_fit']} runs each; "
        f"{test['draws']} draws of the fit x {test['seeds_per_draw']} seeds "
        f"({test['runs']['model_draws']} runs). Scored: "
        f"{test['n_state_years']} state-years, {test['n_switches']} recorded switches; the "
        f"baselines see the record up to {origin}. {convergence_note(payload)}",
        "",
        *_table(
            test["forecasters"], "P(switch) in its year", test["switch_probability_in_its_year"]
        ),
        "",
        f"Accuracy: the modal label is the record's (higher is better). Brier: 0 perfect, "
        f"0.75 even odds (lower is better). Log score: mean log p(record), p floored at "
        f"{test['floor']:g} (0 perfect, higher is better).",
        "",
        f"## Leave one state out: one-step-ahead, {loso['years'][0]}-{loso['years'][1]}",
        "",
        f"Each state's yearly transitions scored by a fit of the other states' "
        f"({len(loso['parameters'])} parameters); the hand-set defaults beside; persistence "
        f"and the sticky base rate fitted on the same other states. "
        f"{loso['n_state_years']} state-years, {loso['n_switches']} switches.",
        "",
        *_table(loso["all"]),
        "",
        "| state | n | switches | Brier: fit / defaults / persistence / sticky "
        "| log score: fit / defaults / persistence / sticky |",
        "|---|---|---|---|---|",
    ]
    for row in loso["states"]:
        brier = " / ".join(f"{row[name]['brier']:.3f}" for name in LOSO_FORECASTERS)
        log = " / ".join(f"{row[name]['log_score']:.3f}" for name in LOSO_FORECASTERS)
        lines.append(f"| {row['state']} | {row['n']} | {row['switches']} | {brier} | {log} |")
    lines += ["", *estimates_table(loso["fits"])]
    return "\n".join(lines) + "\n"


def estimates_table(fits: list[dict[str, Any]]) -> list[str]:
    """How far one state moves each estimate: over the leave-one-state-out fits, each
    parameter's lowest and highest mode (config units) and the state left out at each."""
    lines = [
        "How much one state's transitions move each estimate: each parameter's lowest and "
        "highest mode over the leave-one-state-out fits (config units; every fit's "
        "estimates are in validation.json), and the state left out.",
        "",
        "| parameter | lowest (state left out) | highest (state left out) |",
        "|---|---|---|",
    ]
    for path in fits[0]["estimates"]:
        low = min(fits, key=lambda f: f["estimates"][path])
        high = max(fits, key=lambda f: f["estimates"][path])
        lowest, highest = f"{low['estimates'][path]:.3g}", f"{high['estimates'][path]:.3g}"
        if lowest == highest:
            lines.append(f"| `{path}` | {lowest} (any) | {highest} (any) |")
        else:
            lines.append(f"| `{path}` | {lowest} ({low['state']}) | {highest} ({high['state']}) |")
    return lines


def stopped_fits(payload: dict[str, Any]) -> list[str]:
    """The states whose leave-one-state-out fit stopped early (the optimiser reported no
    success), in the fits' order."""
    return [f["state"] for f in payload["leave_one_state_out"]["fits"] if not f["converged"]]


def all_converged(payload: dict[str, Any]) -> bool:
    """Whether the window's fit and every leave-one-state-out fit converged."""
    return bool(payload["fit"]["converged"]) and not stopped_fits(payload)


def convergence_note(payload: dict[str, Any]) -> str:
    """Whether the optimiser reported success for the window's fit and for the
    leave-one-state-out fits; an early stop is named, not hidden (docs/ESTIMATION.md,
    "Convergence": at the likelihood's kinks L-BFGS-B can stop near the mode)."""
    fits = payload["leave_one_state_out"]["fits"]
    stopped = stopped_fits(payload)
    window = "converged" if payload["fit"]["converged"] else "stopped early (not converged)"
    others = f"{len(fits) - len(stopped)} of {len(fits)} leave-one-state-out fits converged" + (
        f" (not: {', '.join(stopped)})" if stopped else ""
    )
    return f"The optimiser: the window's fit {window}; {others}."


def _table(
    forecasters: dict[str, dict[str, float]], extra: str = "", column: dict[str, Any] | None = None
) -> list[str]:
    """A markdown table: forecaster x accuracy, Brier, log score (and ``extra``)."""
    head = "| forecaster | accuracy | Brier | log score |" + (f" {extra} |" if extra else "")
    rule = "|---|---|---|---|" + ("---|" if extra else "")
    lines = [head, rule]
    for name in (n for n in FORECASTERS if n in forecasters):
        m = forecasters[name]
        cells = (
            f"| {TITLES[name]} | {m['accuracy']:.3f} | {m['brier']:.3f} | {m['log_score']:.3f} |"
        )
        if extra and column is not None:
            value = column.get(name)
            cells += f" {value:.2f} |" if value is not None else " - |"
        lines.append(cells)
    return lines
