"""Rolling-origin hindcasts inside the alignment record, in one command.

For each origin year (1995, 2000 and 2005 by default) the `history` scenario runs from
1 January of the year after it, starting from the record's configuration at the end of
the origin (`origin=Y`, the last year known, as the likelihood conditions each year on
the one before), with the shocks dated after it, to the end of 2010; `alignment-sim-score`
then scores the years after the origin against the record, beside the persistence and
sticky base-rate baselines fitted on the record up to the origin. Nothing after 2010 is
used: that is the out-of-sample period.

    python experiments/hindcast.py                      # 200 runs per origin
    python experiments/hindcast.py --replications 50 --out results/hindcast-quick

Writes, under --out: each origin's study job (runs/origin_Y/) and scores
(scores/origin_Y/), `summary.csv` and `summary.md` (the table the README quotes),
`report.html` (the table, and per origin each state's yearly probabilities from the runs
against the recorded labels) and, last, `manifest.json` (version, git revision, the
command, the origins; an earlier summary is removed first, so a failed rerun leaves none).
The last printed line is one JSON object: the summary.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from alignment_sim.errors import ConfigError
from alignment_sim.model.world import packaged_data_path
from alignment_sim.outputs.files import (
    MANIFEST,
    atomic_write,
    atomic_write_bytes,
    check_replaceable,
    command_line,
    finish_job,
)
from alignment_sim.outputs.provenance import stamp
from alignment_sim.report.record import LABELS, LAST_IN_SAMPLE_YEAR

BIN = Path(sys.executable).parent
RECORD = packaged_data_path("alignment_by_year_1991_2010.csv")
COLOURS = {"russia": "#c0392b", "china": "#d4ac0d", "west": "#2e86c1", "hedge": "#7f8c8d"}
SHOWN = ("accuracy", "brier", "log_score")
SUMMARY = ("summary.csv", "summary.md", "report.html")
WRITTEN = ("runs", "scores", *SUMMARY, MANIFEST)
"""What a hindcast folder holds: the only names ``--out`` may hold already."""


def run(command: list[str]) -> str:
    """Run one command of the package; stop with its own message if it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"hindcast: {' '.join(command[:3])} ... failed (exit {done.returncode})")
    return done.stdout


def hindcast(origin: int, to: int, replications: int, out: Path, extra: list[str]) -> dict:
    """One origin: the study job, then its scores; returns the score's JSON summary."""
    runs = out / "runs" / f"origin_{origin}"
    scores = out / "scores" / f"origin_{origin}"
    ticks = (to - origin) * 4
    print(
        f"origin {origin}: {replications} runs of {origin + 1}-{to} ({ticks} ticks) ...", flush=True
    )
    run(
        [
            str(BIN / "alignment-sim"),
            "scenario=history",
            f"origin={origin}",
            f"to={to}",
            f"replications={replications}",
            "study=hindcast",
            "engine.progress=false",
            "output.quiet=true",
            f"hydra.run.dir={runs}",
            *extra,
        ]
    )
    printed = run(
        [
            str(BIN / "alignment-sim-score"),
            str(runs),
            "--record",
            str(RECORD),
            "--origin",
            str(origin),
            "--to",
            str(to),
            "--out",
            str(scores),
        ]
    )
    return dict(json.loads(printed.strip().splitlines()[-1]))


def summary_table(results: dict[int, dict]) -> pd.DataFrame:
    rows = []
    for origin, s in results.items():
        rows.append(
            {
                "origin": origin,
                "years": f"{s['from']}-{s['to']}",
                "state-years": s["n_state_years"],
                "runs": s["n_runs"],
                "fitted in sample": bool(s.get("in_sample_fit", False)),
                **{
                    f"{m} {who}": s[m + suffix]
                    for m in SHOWN
                    for who, suffix in (
                        ("model", ""),
                        ("persistence", "_persistence"),
                        ("sticky", "_sticky"),
                    )
                },
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The README's table: one row per origin and forecaster."""
    lines = [
        "| origin | years scored | forecaster | accuracy | Brier (lower is better) "
        "| log score (higher is better) |",
        "|---|---|---|---|---|---|",
    ]
    for _, row in table.iterrows():
        for who in ("model", "persistence", "sticky"):
            name = {"sticky": "sticky base rate"}.get(who, who)
            lines.append(
                f"| {row['origin']} | {row['years']} | {name} | {row[f'accuracy {who}']:.3f} "
                f"| {row[f'brier {who}']:.3f} | {row[f'log_score {who}']:.3f} |"
            )
    inside = [
        str(o) for o, flag in zip(table["origin"], table["fitted in sample"], strict=True) if flag
    ]
    if inside:
        lines += [
            "",
            f"In sample (origins {', '.join(inside)}): the runs' parameters were fitted on the "
            "record of the years scored, which the baselines never see (alignment-sim-score's "
            "note): not a hindcast.",
        ]
    return "\n".join(lines) + "\n"


def timelines(forecasts: pd.DataFrame, origin: int) -> bytes:
    """Per state: the runs' yearly probability of each label (stacked) and the record."""
    model = forecasts[forecasts["forecaster"] == "model"]
    states = sorted(model["state"].unique())
    ncols = 4
    nrows = -(-len(states) // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.2 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, state in zip(axes.flat, states, strict=False):
        rows = model[model["state"] == state].sort_values("year")
        years = rows["year"].to_numpy()
        ax.stackplot(
            years,
            *[rows[f"p_{label}"].to_numpy() for label in LABELS],
            colors=[COLOURS[label] for label in LABELS],
            alpha=0.55,
            labels=list(LABELS),
        )
        for label in LABELS:
            hit = rows[rows["observed"] == label]
            ax.scatter(hit["year"], [1.04] * len(hit), color=COLOURS[label], s=14, marker="s")
        ax.set_title(state, fontsize=10)
        ax.set_ylim(0, 1.08)
        ax.grid(alpha=0.25)
    for ax in axes.flat[len(states) :]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=4)
    fig.suptitle(
        f"Origin {origin}: share of runs giving each label (areas); the record (squares on top)"
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def report(out: Path, table: pd.DataFrame, figures: dict[int, bytes]) -> None:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>alignment-sim: hindcasts</title>",
        "<style>body{font-family:sans-serif;max-width:1300px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>",
        "<h1>Rolling-origin hindcasts inside the alignment record</h1>",
        "<p>Each origin's runs start on 1 January of the year after the origin from the "
        "record's configuration at the origin's end and apply the shocks dated after it; the "
        "years after the origin up to "
        f"{LAST_IN_SAMPLE_YEAR} are scored. The baselines see only the record up to the "
        "origin: persistence carries the origin's label forward; the sticky base rate stays "
        "with the record's yearly stay rate and moves where recorded moves went.</p>",
        table.to_html(index=False, float_format=lambda v: f"{v:.3f}"),
    ]
    for origin, png in figures.items():
        data = base64.b64encode(png).decode()
        parts.append(f"<h2>Origin {html.escape(str(origin))}</h2>")
        parts.append(f"<img alt='timelines from {origin}' src='data:image/png;base64,{data}'>")
    with atomic_write(out / "report.html", "w") as handle:
        handle.write("\n".join(parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, nargs="+", default=[1995, 2000, 2005])
    parser.add_argument("--to", type=int, default=LAST_IN_SAMPLE_YEAR)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("results/hindcast"))
    parser.add_argument(
        "overrides", nargs="*", help="extra alignment-sim overrides, e.g. decision=best_response"
    )
    args = parser.parse_args(argv)
    if args.to > LAST_IN_SAMPLE_YEAR:
        parser.error(f"--to {args.to}: hindcasts stay inside the record (<= {LAST_IN_SAMPLE_YEAR})")
    if any(not 1991 <= o < args.to for o in args.origins):
        parser.error(f"--origins: expected years from 1991 to {args.to - 1}")
    if args.replications < 1:  # found only inside the first run, after runs/ was made
        parser.error(f"--replications {args.replications}: expected a whole number >= 1")
    try:
        check_replaceable(args.out, WRITTEN, "hindcast")
    except ConfigError as exc:
        parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in (MANIFEST, *SUMMARY):  # an earlier summary must not outlive a failed rerun
        (args.out / name).unlink(missing_ok=True)
    results = {
        o: hindcast(o, args.to, args.replications, args.out, args.overrides) for o in args.origins
    }
    table = summary_table(results)
    figures = {
        o: timelines(pd.read_csv(args.out / "scores" / f"origin_{o}" / "forecasts.csv"), o)
        for o in args.origins
    }
    atomic_write_bytes(args.out / "summary.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(args.out / "summary.md", markdown(table).encode())
    report(args.out, table, figures)
    meta = {
        **stamp(),
        "study": "hindcast",
        "command": command_line("experiments/hindcast.py", argv),
        "origins": args.origins,
        "to": args.to,
        "replications": args.replications,
        "overrides": args.overrides,
        "folders": {str(o): [f"runs/origin_{o}", f"scores/origin_{o}"] for o in args.origins},
    }
    finish_job(args.out, meta, list(SUMMARY))
    print(markdown(table))
    print(f"Wrote summary.csv, summary.md, report.html and manifest.json in {args.out}")
    keys = [m + suffix for m in SHOWN for suffix in ("", "_persistence", "_sticky")]
    keys += ["n_state_years", "n_runs"]
    print(json.dumps({str(o): {k: results[o][k] for k in keys} for o in args.origins}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the runs' own commands stop too; what finished is kept
        print("hindcast: interrupted; run the same command again to start over.", file=sys.stderr)
        sys.exit(130)
