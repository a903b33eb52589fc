"""Scenario discovery: on a toy design whose outcome is high exactly in a known range of one
parameter, PRIM's box and CART's leaf find that range and feature scoring ranks that
parameter first; bad input is one line and exit 2; a real design runs end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from alignment_sim import default_config
from alignment_sim.errors import ConfigError
from alignment_sim.model.params import DesignSpec
from alignment_sim.outputs.files import finish_job
from alignment_sim.studies import robustness
from alignment_sim.studies.design import run_design
from alignment_sim.studies.discover import (
    FILES,
    Target,
    discover,
    main,
    read_design,
)
from alignment_sim.studies.outcomes import outcome_values

RANGES = {"weights.trade": (0.0, 2.0), "dynamics.stance": (-1.0, 1.0), "weights.peer": (0.0, 1.0)}
BOX = (0.8, 1.4)
"""The toy outcome is high exactly when weights.trade is in this range."""
SEEDS = (0, 1)
POINTS = 400


def toy_design(folder: Path) -> Path:
    """A finished design folder as ``run_design`` writes one: 400 Latin-hypercube points,
    2 seeds each. mean_share_hedge is 0.9 +- 0.05 (by seed) where weights.trade is in BOX,
    0.1 +- 0.05 elsewhere; Uzbekistan ends hedging exactly there."""
    unit = qmc.LatinHypercube(d=len(RANGES), seed=1).random(POINTS)
    lows, highs = np.array(list(RANGES.values())).T
    points = pd.DataFrame(qmc.scale(unit, lows, highs), columns=list(RANGES))
    inside = points["weights.trade"].between(*BOX).to_numpy()
    runs = []
    for seed in SEEDS:
        runs.append(
            points.assign(
                point=np.arange(POINTS),
                seed=seed,
                mean_share_hedge=np.where(inside, 0.9, 0.1) + (0.05 if seed else -0.05),
                switches=np.full(POINTS, 3 + seed),
                final_label_uzbekistan=np.where(inside, "hedge", "russia"),
            )
        )
    (folder / "runs").mkdir(parents=True)
    points.rename_axis("point").reset_index().to_parquet(folder / "design.parquet")
    pd.concat(runs).to_parquet(folder / "runs" / "part-00000.parquet")
    parts = ["design.parquet", "runs/part-00000.parquet"]
    finish_job(folder, {"design": "lhs", "config_digest": "toy"}, parts)
    return folder


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toy_design(tmp_path_factory.mktemp("toy") / "design")


def box_limits(boxes: pd.DataFrame, method: str, number: int = 1) -> pd.DataFrame:
    chosen = boxes[(boxes["method"] == method) & (boxes["box"] == number)]
    return chosen.set_index("parameter")


def gap(toy: Path) -> float:
    """The largest distance between neighbouring trade values: how close a limit drawn
    between data points can come to the true edge."""
    return float(np.diff(np.sort(pd.read_parquet(toy / "design.parquet")["weights.trade"])).max())


@pytest.mark.parametrize("outcome", ["mean_share_hedge", "final_label_uzbekistan=hedge"])
def test_prim_and_cart_find_the_known_range_and_scores_rank_it_first(
    toy: Path, outcome: str
) -> None:
    found = discover(read_design(toy), Target(outcome, "above", 0.5))
    inside = found.points["weights.trade"].between(*BOX)
    assert found.points["of_interest"].equals(inside)  # the means are 0.9 and 0.1 (or 1, 0)
    # CART splits between neighbouring points: its leaf is the range, to within their gap
    cart = box_limits(found.boxes, "cart")
    assert cart.loc["weights.trade", "low"] == pytest.approx(BOX[0], abs=gap(toy))
    assert cart.loc["weights.trade", "high"] == pytest.approx(BOX[1], abs=gap(toy))
    assert cart["coverage"].iloc[0] == 1.0 and cart["density"].iloc[0] == 1.0
    assert cart["mass"].iloc[0] == pytest.approx(inside.mean())
    # PRIM peels 5% of its box's points a step: its box lies inside the range, short of
    # each edge by less than one step (5% of 30% of the points: 0.03 of trade's range)
    prim = box_limits(found.boxes, "prim")
    assert BOX[0] <= prim.loc["weights.trade", "low"] < BOX[0] + 0.03
    assert BOX[1] - 0.03 < prim.loc["weights.trade", "high"] <= BOX[1]
    assert prim["density"].iloc[0] == 1.0 and prim["coverage"].iloc[0] > 0.9
    for box in (prim, cart):
        assert box.loc["weights.trade", "restricted"]
        assert not box.loc[["dynamics.stance", "weights.peer"], "restricted"].any()
    assert found.trajectory["box"].unique().tolist() == [1]  # one range: one PRIM box
    assert found.scores["parameter"].iloc[0] == "weights.trade"
    first, second = found.scores["score_interest"].iloc[:2]
    assert first > 2 * second  # the noise parameters share what chance gives them
    assert found.scores["score_interest"].sum() == pytest.approx(1.0)


def test_below_the_two_sides_of_the_range(toy: Path) -> None:
    """Below 0.5 the cases of interest (70% of the points) lie on both sides of the range:
    CART finds both; PRIM, which only peels from the edges and never lowers the density
    on the way, finds no box of density 0.8 and says so."""
    found = discover(read_design(toy), Target("mean_share_hedge", "below", 0.5))
    below, above = box_limits(found.boxes, "cart", 1), box_limits(found.boxes, "cart", 2)
    sides = sorted([below.loc["weights.trade"], above.loc["weights.trade"]], key=lambda b: b["low"])
    assert sides[0]["high"] == pytest.approx(BOX[0], abs=gap(toy))
    assert sides[1]["low"] == pytest.approx(BOX[1], abs=gap(toy))
    assert below["coverage"].iloc[0] + above["coverage"].iloc[0] == pytest.approx(1.0)
    assert found.trajectory.empty and "PRIM found no box of density >= 0.8" in found.summary()
    assert found.scores["parameter"].iloc[0] == "weights.trade"


def test_command_writes_every_file(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "discovery"
    main([str(toy), "--outcome", "mean_share_hedge", "--above", "0.5", "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    boxes = pd.read_csv(out / "boxes.csv")
    assert set(boxes["method"]) == {"prim", "cart"}
    assert {"low", "high", "coverage", "density", "mass"} <= set(boxes.columns)
    cart = boxes[(boxes["method"] == "cart") & boxes["restricted"]]
    for split in [*cart["low"], *cart["high"]]:  # float32's splits, without the tail
        ends = set(boxes["range_low"]) | set(boxes["range_high"])
        assert split in ends or split == float(f"{split:.7g}"), split
    assert pd.read_csv(out / "feature_scores.csv")["parameter"].iloc[0] == "weights.trade"
    page = (out / "discovery.html").read_text()
    assert "coverage-density trade-off" in page and page.count("data:image/png;base64,") >= 3
    assert "http://" not in page and "https://" not in page  # self-contained
    printed = capsys.readouterr().out
    assert "mean over each point's 2 runs" in printed
    limits = r"0\.8\d* <= weights\.trade <= 1\.[34]\d*\n"  # the range, nothing else
    assert re.search(r"CART box 1 \(coverage 1\.00, density 1\.00\): " + limits, printed)
    assert re.search(r"PRIM box 1 \(coverage 0\.9\d, density 1\.00\): " + limits, printed)
    # again into the same folder: an earlier discovery is replaced
    again = ["--outcome", "final_label_uzbekistan=russia", "--above", "0.5", "--out", str(out)]
    main([str(toy), *again])
    assert json.loads((out / "discovery.json").read_text())["outcome"] == again[1]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (
            ["--outcome", "nonsense", "--above", "0.5"],
            "--outcome = 'nonsense': expected an outcome",
        ),
        (["--outcome", "final_label_uzbekistan", "--above", "0.5"], "final_label_uzbekistan=VALUE"),
        (["--outcome", "final_label_uzbekistan=west", "--above", "0.5"], "(hedge, russia)"),
        (["--outcome", "mean_share_hedge", "--above", "0.95"], "It selects no point"),
        (["--outcome", "mean_share_hedge", "--below", "0.95"], "It selects every point"),
        (["--outcome", "mean_share_hedge", "--above", "0.5", "--density", "0"], "--density"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    toy: Path, tmp_path: Path, capsys, arguments: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([str(toy), *arguments, "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_no_finished_design_is_refused(toy: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no design\\.parquet"):
        read_design(tmp_path)
    unfinished = toy_design(tmp_path / "unfinished")
    (unfinished / "manifest.json").unlink()
    with pytest.raises(ConfigError, match="unfinished"):
        read_design(unfinished)
    damaged = toy_design(tmp_path / "damaged")
    part = damaged / "runs" / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:3000])  # a part cut short
    with pytest.raises(ConfigError, match=r"The design is corrupt \(.*part-00000.*run its"):
        read_design(damaged)
    (damaged / "runs" / "part-00000.parquet").unlink()
    with pytest.raises(ConfigError, match="is corrupt"):
        read_design(damaged)


def test_outcome_values_numeric_or_indicator() -> None:
    table = pd.DataFrame({"switches": [1, 4], "final_label_a": ["hedge", "west"]})
    assert outcome_values(table, "switches").tolist() == [1.0, 4.0]
    assert outcome_values(table, "final_label_a=west").tolist() == [0.0, 1.0]
    labels = {"final_label_a": ("russia", "west", "hedge")}
    assert outcome_values(table, "final_label_a=russia", choices=labels).tolist() == [0.0, 0.0]
    with pytest.raises(ConfigError, match="it is numeric"):
        outcome_values(table, "switches=4")


def test_a_real_design_end_to_end(tmp_path: Path, capsys) -> None:
    """A grid design through the engine (16 points x 3 seeds), then discovery on it."""
    spec = DesignSpec(
        method="grid",
        parameters={"weights.protection": [0.5, 3.0], "dynamics.stance": [-1.0, 1.0]},
        levels=4,
        outcomes=["mean_share_hedge"],
    )
    config = default_config(ticks=20, replications=3, design=spec, study="small_grid")
    folder = run_design(config, tmp_path / "design", progress=False)
    design = read_design(folder)
    means = design.runs.groupby("point")["mean_share_hedge"].mean()
    assert means.min() < means.max(), "the design's points must differ"
    threshold = float(means.min() + means.max()) / 2  # some points pass, not all
    out = tmp_path / "discovery"
    main(
        [str(folder), "--outcome", "mean_share_hedge", "--above", str(threshold), "--out", str(out)]
    )
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 16
    np.testing.assert_allclose(points["mean"], means.to_numpy())
    assert points["of_interest"].tolist() == (means > threshold).tolist()
    scores = pd.read_csv(out / "feature_scores.csv")
    assert sorted(scores["parameter"]) == ["dynamics.stance", "weights.protection"]
    assert "mean over each point's 3 runs" in capsys.readouterr().out
    assert json.loads((out / "discovery.json").read_text())["design_study"] == "small_grid"


WHOLE = "region.poles.russia.budget_bn_usd"
WHOLE_BOX = (6, 12)
"""The integer-typed toy outcome is high exactly when WHOLE is in this range."""


def whole_number_design(folder: Path) -> Path:
    """A toy design whose first parameter is stored as integers (int64 in design.parquet,
    0 to 20) beside two float ones; mean_share_hedge is 0.9 where it is in WHOLE_BOX, else
    0.1. EMA Workbench's CART fails on an int64 column under pandas 3 (it writes a split
    between two whole numbers into it); read_design hands it float64."""
    unit = qmc.LatinHypercube(d=2, seed=3).random(POINTS)
    points = pd.DataFrame(
        {
            WHOLE: np.random.default_rng(2).integers(0, 21, POINTS),
            "weights.trade": 2 * unit[:, 0],
            "weights.peer": unit[:, 1],
        }
    )
    inside = points[WHOLE].between(*WHOLE_BOX).to_numpy()
    runs = [
        points.assign(
            point=np.arange(POINTS),
            seed=seed,
            mean_share_hedge=np.where(inside, 0.9, 0.1) + (0.05 if seed else -0.05),
        )
        for seed in SEEDS
    ]
    (folder / "runs").mkdir(parents=True)
    points.rename_axis("point").reset_index().to_parquet(folder / "design.parquet")
    pd.concat(runs).to_parquet(folder / "runs" / "part-00000.parquet")
    parts = ["design.parquet", "runs/part-00000.parquet"]
    finish_job(folder, {"design": "lhs", "config_digest": "toy"}, parts)
    return folder


def test_a_whole_number_parameter_gets_limits_between_its_values(tmp_path: Path, capsys) -> None:
    folder = whole_number_design(tmp_path / "design")
    stored = pd.read_parquet(folder / "design.parquet")
    assert stored[WHOLE].dtype == np.int64  # the case the float64 conversion is for
    out = tmp_path / "discovery"
    main([str(folder), "--outcome", "mean_share_hedge", "--above", "0.5", "--out", str(out)])
    boxes = pd.read_csv(out / "boxes.csv")
    assert set(boxes["method"]) == {"prim", "cart"}
    values = stored[WHOLE].to_numpy()
    inside = (values >= WHOLE_BOX[0]) & (values <= WHOLE_BOX[1])
    for method in ("prim", "cart"):
        box = box_limits(boxes, method)
        whole = box.loc[WHOLE]
        assert whole["range_low"] == values.min() and whole["range_high"] == values.max()
        # the limits fall between the last whole number out and the first in, each side
        assert WHOLE_BOX[0] - 1 < whole["low"] <= WHOLE_BOX[0], method
        assert WHOLE_BOX[1] <= whole["high"] < WHOLE_BOX[1] + 1, method
        assert bool(whole["restricted"])
        assert not box.loc[["weights.trade", "weights.peer"], "restricted"].any()
        within = (values >= whole["low"]) & (values <= whole["high"])
        assert (within == inside).all()  # the box holds exactly the points of interest
        assert whole["coverage"] == 1.0 and whole["density"] == 1.0
        assert whole["mass"] == pytest.approx(inside.mean())
    points = pd.read_csv(out / "points.csv")
    assert points[WHOLE].tolist() == values.tolist()
    assert points["of_interest"].tolist() == inside.tolist()
    assert pd.read_csv(out / "feature_scores.csv")["parameter"].iloc[0] == WHOLE
    printed = capsys.readouterr().out
    assert re.search(
        rf"CART box 1 \(coverage 1\.00, density 1\.00\): [\d.]+ <= {re.escape(WHOLE)} <= ", printed
    )


# --- a robustness study as a design ---------------------------------------------------


TRADE_EDGE = 1.0
"""The toy study's pattern 1 holds exactly where weights.trade is below this."""


def toy_study(folder: Path, corner: bool = False) -> Path:
    """A robustness study written by the study's own writer (``robustness.write_study``):
    200 points of a Latin hypercube over two judgements' +-20% boxes; pattern 1 holds where
    the trade weight is below ``TRADE_EDGE`` (and, with ``corner``, the stance is above 0),
    pattern 2 everywhere."""
    unit = qmc.LatinHypercube(d=2, seed=0).random(200)
    trade, stance = 0.8 + 0.4 * unit[:, 0], -0.2 + 0.4 * unit[:, 1]
    holds = (trade < TRADE_EDGE) & ((stance > 0) if corner else True)
    table = pd.DataFrame(
        {
            "point": range(200),
            "weights.trade": trade,
            "dynamics.stance": stance,
            "pattern_1": holds,
            "pattern_2": True,
            "patterns_held": 1 + holds,
            "value_1_2": 1.0 + stance,
        }
    )
    study = {"points": 200, "seeds": 200, "varied": ["weights.trade", "dynamics.stance"]}
    robustness.write_study(folder, {"points.csv": table}, "# toy", default_config(), 0, study)
    return folder


def test_a_robustness_study_reads_as_a_design_and_prim_finds_where_a_pattern_holds(
    tmp_path: Path,
) -> None:
    study = toy_study(tmp_path / "box")
    design = read_design(study)
    assert design.parameters == ["weights.trade", "dynamics.stance"]
    assert len(design.runs) == 200 and design.runs["pattern_1"].dtype == np.float64
    found = discover(design, Target("pattern_1", "above", 0.5))
    assert found.averaging() == "each point's measures over its 200 seeds (a robustness study)"
    prim = box_limits(found.boxes, "prim")
    assert prim.loc["weights.trade", "restricted"]
    assert not prim.loc["dynamics.stance", "restricted"]
    assert TRADE_EDGE - 0.02 < prim.loc["weights.trade", "high"] <= TRADE_EDGE
    assert prim["density"].iloc[0] == 1.0 and prim["coverage"].iloc[0] > 0.9
    assert found.scores["parameter"].iloc[0] == "weights.trade"
    with pytest.raises(ConfigError, match="pattern_2"):  # holds everywhere: no contrast
        discover(design, Target("pattern_2", "above", 0.5))


def test_a_folder_that_is_no_finished_robustness_study_is_refused(tmp_path: Path) -> None:
    study = toy_study(tmp_path / "box")
    meta = json.loads((study / "manifest.json").read_text())
    (study / "manifest.json").write_text(json.dumps({**meta, "study": "landscape"}))
    with pytest.raises(ConfigError, match="not a robustness study"):
        read_design(study)
    (study / "manifest.json").unlink()  # a study from before manifests, or unfinished
    with pytest.raises(ConfigError, match=r"no manifest\.json") as caught:
        read_design(study)
    assert caught.value.key == "DESIGN_FOLDER"
    (study / "manifest.json").write_text("{not json")  # cut short by a crash, say
    with pytest.raises(ConfigError, match=r"manifest\.json cannot be read") as caught:
        read_design(study)
    assert caught.value.key == "DESIGN_FOLDER"


def test_prim_boxes_can_be_kept_to_a_few_parameters(tmp_path: Path) -> None:
    """A pattern that holds in a corner of two judgements: PRIM's own box restricts both;
    kept to one, its box is the densest step of its peeling that restricts one."""
    design = read_design(toy_study(tmp_path / "box", corner=True))
    target = Target("pattern_1", "above", 0.5)
    own = discover(design, target, max_boxes=1)
    assert box_limits(own.boxes, "prim")["restricted"].sum() == 2
    kept = discover(design, target, max_boxes=1, max_restricted=1)
    prim = box_limits(kept.boxes, "prim")
    assert prim["restricted"].sum() == 1 and (prim["restricted_dims"] == 1).all()
    steps = kept.trajectory
    best = steps[steps["res_dim"] <= 1]["density"].max()
    chosen = steps[steps["chosen"]]
    assert len(chosen) == 1 and chosen["density"].iloc[0] == best
    assert chosen["res_dim"].iloc[0] == 1 and best < 1.0  # a corner needs both limits
    assert prim["density"].iloc[0] == pytest.approx(best)
    assert own.trajectory["chosen"].to_numpy()[-1]  # PRIM's own: the end of the peeling
    strict = discover(design, target, density=1.0, max_boxes=1, max_restricted=1)
    assert "; below 1, kept to 1 parameter(s))" in strict.summary()  # it read as a box


def test_max_restricted_is_checked_and_recorded(tmp_path: Path, capsys) -> None:
    study = toy_study(tmp_path / "box", corner=True)
    args = [str(study), "--outcome", "pattern_1", "--above", "0.5"]
    with pytest.raises(SystemExit) as exited:
        main([*args, "--max-restricted", "0", "--out", str(tmp_path / "d0")])
    assert exited.value.code == 2
    assert "--max-restricted = 0" in capsys.readouterr().err
    main([*args, "--max-restricted", "1", "--out", str(tmp_path / "d1")])
    meta = json.loads((tmp_path / "d1" / "discovery.json").read_text())
    assert meta["max_restricted"] == 1 and meta["design_study"] == "robustness"


def test_the_summary_counts_the_boxes_it_does_not_list(toy: Path, monkeypatch) -> None:
    """The console lists a few boxes of each method and says how many more boxes.csv
    holds (it used to stop at three in silence)."""
    from alignment_sim.studies import discover as module

    found = discover(read_design(toy), Target("mean_share_hedge", "above", 0.5))
    cart = found.boxes[found.boxes["method"] == "cart"]["box"].nunique()
    assert cart >= 1
    monkeypatch.setattr(module, "BOXES_PRINTED", 0)
    lines = found.summary().splitlines()
    assert not any(line.startswith("CART box") for line in lines)
    assert f"... and {cart} more CART box(es) in boxes.csv." in lines
