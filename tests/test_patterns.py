"""The patterns as behaviour, their measures, the mechanisms behind them, and robustness.

- The measures (studies/patterns.py) on hand-made code arrays with known answers.
- The mechanisms the old pattern checks measured circularly (an event edits a parameter,
  the check read the term that parameter multiplies) are unit tests here: a colour
  revolution raises Russia's pressure, which raises the threat of a Western choice; a
  terror surge raises exposure, which raises the protection a security bloc gives.
- A quick robustness run: the output's shape and the box of every sampled value.
- The patterns themselves over 200 seeds (slow). They assert the criteria and are not
  pinned to the defaults, which are still being calibrated.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import KM_PER_10_DEGREES

from alignment_sim import ConfigError, paths
from alignment_sim.engine.batch import run_batch
from alignment_sim.model import kernels
from alignment_sim.model.events import apply_events, compile_scenario
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import EventSpec, ScenarioSpec
from alignment_sim.model.world import World
from alignment_sim.outputs.files import MANIFEST, sha256
from alignment_sim.presets import available, default_config, load_scenario
from alignment_sim.studies import patterns, robustness
from alignment_sim.studies.points import supported_paths, with_point_values

FRESH_BLOCK = patterns.SeedBlock(first=10_000)
"""Seeds the defaults were not calibrated on."""
ALL = slice(None)
FAR = math.exp(-KM_PER_10_DEGREES / 1000)  # tiny world: 10 degrees of longitude apart
MID = math.exp(-KM_PER_10_DEGREES / 2000)  # 5 degrees apart

# Two runs, four ticks of six months from 2000 (years 2000 and 2001), two states:
#   run 0: state 0 codes 0 0 1 1 1, state 1 codes 2 2 2 2 2
#   run 1: state 0 codes 0 1 0 0 0, state 1 codes 2 2 2 0 0
CODES = np.array(
    [
        [[0, 2], [0, 2], [1, 2], [1, 2], [1, 2]],
        [[0, 2], [1, 2], [0, 2], [0, 0], [0, 0]],
    ]
)
START, MONTHS = 2000, 6


# --- the measures, by hand ----------------------------------------------------------------


def test_shares_of_state_ticks_and_of_runs() -> None:
    # code 1 after the start: run 0 state 0 ticks 2-4, run 1 state 0 tick 1 -> 4 of 16
    assert patterns.state_tick_share(CODES, 1) == 0.25
    assert patterns.state_tick_share(CODES, 1, [0]) == 0.5
    assert patterns.state_tick_share(CODES, 2, [1]) == 6 / 8
    assert patterns.final_share(CODES, 0, 1) == 0.5
    assert patterns.final_share(CODES, 1, 2) == 0.5


def test_changes_as_a_yearly_record_sees_them() -> None:
    # year-ends: 2000 at tick 2, 2001 at tick 4. Run 0: state 0 changes in 2000 (0 -> 1);
    # run 1: state 0's flip at tick 1 is back by tick 2, unseen; state 1 changes in 2001.
    years, changes = patterns.year_end_changes(CODES, START, MONTHS)
    np.testing.assert_array_equal(years, [2000, 2001])
    np.testing.assert_array_equal(
        changes, [[[True, False], [False, False]], [[False, False], [False, True]]]
    )
    stability = patterns.Stability.of(changes)
    assert stability.rate == 2 / 8  # 2 changes in 2 runs x 2 years x 2 states
    assert stability.never == 0.5  # run 0's state 1 and run 1's state 0


def test_pattern_6_is_measured_against_the_records_own_decades() -> None:
    """The yardstick, by hand from data/alignment_by_year_1991_2010.csv: of the eleven
    choosers, Georgia, Azerbaijan and Uzbekistan change label in the decades from 1993 to
    1998 (all three leave the CST in 1999; Georgia's label goes west in 2006, Uzbekistan's
    west in 2001, back to hedge in 2002 and to Russia in 2006), only Georgia and
    Uzbekistan in 1999-2009 and 2000-2010."""
    names = patterns.record_names()
    assert len(names) == 11 and names[0] == "Belarus"  # the record's spelling
    record = patterns.record_stability(names, 10)
    assert len(record) == 8  # windows from 1993-2003 to 2000-2010
    assert [round(r.never * 11) for r in record] == [8, 8, 8, 8, 8, 8, 9, 9]
    assert [round(r.rate * 110) for r in record] == [5, 5, 5, 7, 7, 7, 4, 4]
    assert patterns.RECORD_SETTLED == 1993
    assert len(patterns.record_stability(names, 17)) == 1  # 1993-2010, the one window
    with pytest.raises(ValueError, match="18 years is longer than the record"):
        patterns.record_stability(names, 18)


def test_russias_partners_at_the_start_are_read_from_the_starting_profiles() -> None:
    """Pattern 2 measures the alliance of the states aligned with Russia in either
    dimension at the start: in the 2015 world, which starts from the record's 2010
    configuration, the six CSTO members (Belarus, Kazakhstan, Kyrgyzstan and Tajikistan
    also in its union), not Ukraine, Georgia or the neutrals."""
    result = run_batch(RunInputs.from_config(default_config(ticks=1)), range(2))
    world = result.inputs.world
    partners = [world.states[i] for i in patterns.starting_partners(result, "russia")]
    assert partners == [
        "belarus", "armenia", "kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan"
    ]  # fmt: skip
    result.alignment[:, 0, world.states.index("ukraine")] = world.space.profiles.index(
        "none/russia"
    )
    assert "ukraine" in [world.states[i] for i in patterns.starting_partners(result, "russia")]


def test_full_commitment_and_the_alliance_are_shares_of_the_state_ticks_after_the_start() -> None:
    result = run_batch(RunInputs.from_config(default_config(ticks=2)), range(2))
    world = result.inputs.world
    code = world.space.profiles.index
    belarus, armenia = world.states.index("belarus"), world.states.index("armenia")
    result.alignment[:, 1:, :] = code("none/open")
    result.alignment[0, 1:, belarus] = code("russia/russia")
    result.alignment[1, 1:, belarus] = code("none/russia")
    result.alignment[0, 1, armenia] = code("russia/open")
    security = patterns.options_of(result, "security")
    alliance = world.space.security_options.index("russia")
    # after the start, 8 state-ticks of the two: Belarus twice in run 0, Armenia once
    assert patterns.state_tick_share(security, alliance, [belarus, armenia]) == 3 / 8
    assert patterns.state_tick_share(security, alliance, [armenia]) == 1 / 4
    # of the 3 state-ticks in Russia's alliance (no other state is in it), 2 in its union
    assert patterns.full_commitment(result, "russia") == 2 / 3


def test_year_end_codes() -> None:
    # year-ends are ticks 2 (2000) and 4 (2001)
    ends = patterns.year_end_codes(CODES, START, MONTHS, 2000, 2001)
    np.testing.assert_array_equal(ends, [[[1, 2], [1, 2]], [[0, 2], [0, 0]]])
    assert patterns.yearly_share(CODES, START, MONTHS, 1, 2, (2000, 2001)) == 0.75
    assert patterns.always_share(CODES, START, MONTHS, 1, 2, (2000, 2001)) == 0.5
    assert patterns.always_share(CODES, START, MONTHS, 0, 1, (2000, 2001)) == 0.5
    assert patterns.yearly_share(CODES, START, MONTHS, 0, 0, (2001, 2001)) == 0.5
    with pytest.raises(ValueError, match="2000-2001, not 2001-2002"):
        patterns.year_end_codes(CODES, START, MONTHS, 2001, 2002)


def test_crisis_windows() -> None:
    years, changes = patterns.year_end_changes(CODES, START, MONTHS)
    np.testing.assert_array_equal(years, [2000, 2001])
    events = [
        EventSpec(kind="regime_change", date="2000-05", until="2000-12", targets=["a"]),
        EventSpec(kind="war", date="2001-03-01", targets=["b", "z"]),  # for good; z unknown
        EventSpec(kind="terror_surge", date="2001", targets=["a"]),  # not a crisis kind
        EventSpec(kind="war", at=1, targets=["a"]),  # not dated
    ]
    cells = patterns.crisis_cells(events, ["a", "b"], years, patterns.CRISIS_KINDS)
    np.testing.assert_array_equal(cells, [[True, False], [False, True]])
    # year-end changes: run 0 state a in 2000 (inside), run 1 state b in 2001 (inside);
    # run 1's flip of a within 2000 is not seen: 0.5 and 0.5 inside, 0 and 0 outside
    assert patterns.rates_in_and_out(changes, cells) == (0.5, 0.0)


def test_a_counterfactual_drops_the_selected_events() -> None:
    war = EventSpec(kind="war", date="2001", targets=["a"])
    keep = EventSpec(kind="terror_surge", date="2001", targets=["a"])
    scenario = ScenarioSpec(name="t", events=[war, keep])

    def is_war(event: EventSpec) -> bool:
        return event.kind == "war"

    assert patterns.counterfactual(scenario, is_war).events == [keep]
    assert scenario.events == [war, keep]
    with pytest.raises(ValueError, match="no event of scenario 't'"):
        patterns.counterfactual(ScenarioSpec(name="t", events=[keep]), is_war)


@pytest.mark.parametrize(
    ("variant", "state", "years"),
    [
        ("history_without_uzbek_conditionality", "uzbekistan", (2004, 2005)),
        ("history_without_rose_revolution", "georgia", (2003, 2003)),
    ],
)
def test_the_historical_counterfactuals(variant: str, state: str, years: tuple) -> None:
    """Each drops only its events of the history scenario: dated in its years, on its state;
    the runs start in 2000 in the calendar world and reach the end of 2013."""
    history = load_scenario("history")
    drop = patterns.VARIANTS[variant].drop
    assert drop is not None
    dropped = [e for e in history.events if drop(e)]
    assert dropped and len(patterns.dropped_labels(variant)) == len(dropped)
    for event in dropped:
        assert state in event.targets and years[0] <= int(str(event.date)[:4]) <= years[1]
    config = patterns.variant_config(variant, patterns.DEFAULT_BLOCK)
    assert len(config.scenario.events) == len(history.events) - len(dropped)
    assert (config.region.year, config.calendar, config.ticks) == (2000, True, 56)


def test_scenario_edits_of_an_offer_are_found() -> None:
    """Pattern 1's guard: the offer must be Russia's behaviour, not the scenario's input."""
    block = patterns.SeedBlock(seeds=1, ticks=1)
    recession = patterns.simulate("russia_recession", block)
    assert patterns.editing_changes(recession, "russia", "belarus") == ["budget_bn"]
    offer = patterns.simulate("western_engagement", block)
    assert patterns.editing_changes(offer, "russia", "belarus") == []
    assert patterns.editing_changes(offer, "west", "belarus") == ["pledge_bn"]
    assert patterns.editing_changes(offer, "west", "ukraine") == []


def test_the_wests_pledge_narrows_russias_margin_on_belarus_by_its_value() -> None:
    """Pattern 1's mechanism: the West's pledge pays for Belarus's ``open`` (003's push
    towards neutrality), the best alternative to Russia's union, so Russia's margin there
    shrinks by the pledge's worth: 1.5 * 0.8 * ln(1 + 10 * 3 / 56.45) = 0.511."""
    from alignment_sim.model.mesa_model import AlignmentModel

    margins = {}
    for scenario in ("baseline", "western_engagement"):
        model = AlignmentModel(scenario=scenario, seed=0)
        model.step()
        world = model.world
        belarus, russia = world.states.index("belarus"), world.poles.index("russia")
        assert model.economy_vector()[0, belarus] == russia
        margins[scenario] = float(model.margins[0, russia, belarus])
    worth = 1.5 * 0.8 * math.log1p(10 * 3.0 / 56.45488739)  # weight, credibility, GDP US$ bn
    assert margins["baseline"] - margins["western_engagement"] == pytest.approx(worth, abs=1e-5)
    # Russia bids where money moves Belarus's choice: the narrower margin multiplies the
    # sensitivity of Belarus's choice to money, so Russia's premium there, several times
    rationality = default_config().decision.rationality
    sensitivity = {
        k: float(kernels.bid_sensitivity(np.float32(m), rationality)) for k, m in margins.items()
    }
    assert sensitivity["western_engagement"] > 5 * sensitivity["baseline"] > 0


def test_results_by_pattern() -> None:
    def result(pattern: str, passed: bool) -> patterns.PatternResult:
        return patterns.PatternResult(pattern, "s", "m", None, 1.0, "c", passed)

    results = [result("1", True), result("1", False), result("2", True)]
    assert patterns.held(results) == {"1": False, "2": True}
    assert patterns.check_keys(results) == ["1_1", "1_2", "2_1"]
    assert results[0].effect is None
    assert patterns.PatternResult("1", "s", "m", 0.25, 1.0, "c", True).effect == 0.75


def test_the_share_of_points_where_an_effect_has_the_texts_direction() -> None:
    """Effects +0.5, -0.1, 0.0 and +0.2 (value minus baseline): up in 2 of 4 points, down
    in 1; a check without a direction has no share."""
    table = pd.DataFrame({"value_1_1": [1.0, 0.4, 0.5, 0.7], "baseline_1_1": [0.5] * 4})
    assert robustness.direction_share(table, "1_1", 1) == 0.5
    assert robustness.direction_share(table, "1_1", -1) == 0.25
    assert robustness.direction_share(table, "1_1", 0) is None
    assert robustness.direction_cell(table, "1_1", 0) == "-"
    assert robustness.direction_cell(table, "1_1", 1) == "0.50"


def test_the_effect_reached_at_the_goal_share_by_hand() -> None:
    """Effects 0.01..0.10 over ten points: at 0.8 of them the effect is at least the 0.2
    quantile, 0.01 + 0.2 x 9 x 0.01 = 0.028; a fall the same, signed; a relative check on
    the ratio; none without a direction."""
    effects = np.arange(1, 11) / 100
    table = pd.DataFrame(
        {
            "value_up": 1.0 + effects,
            "baseline_up": 1.0,
            "value_down": 0.5 - effects,
            "baseline_down": 0.5,
            "value_ratio": 2.0 * (1 + effects),
            "baseline_ratio": 2.0,
        }
    )

    def check(direction: int, relative: bool = False) -> patterns.PatternResult:
        return patterns.PatternResult("1", "s", "m", 1.0, 1.0, "c", True, direction, relative)

    assert robustness.size_at_goal(table, check(1), "up") == pytest.approx(0.028)
    assert robustness.size_at_goal(table, check(-1), "down") == pytest.approx(-0.028)
    assert robustness.size_at_goal(table, check(1, True), "ratio") == pytest.approx(0.028)
    assert robustness.size_cell(table, check(1, True), "ratio") == "+2.8%"
    assert robustness.size_cell(table, check(-1), "down") == "-0.028"
    assert robustness.size_cell(table, check(0), "up") == "-"


def test_the_robustness_figure_draws_each_share_and_the_goal() -> None:
    """Known shares: pattern 1 holds at 3 of 4 points, pattern 2 at 1; its bars, intervals,
    each check's bar and the hollow marker of the check with a direction (up at 2 of 4)."""
    results = [
        patterns.PatternResult("1", "s", "m1", 0.5, 1.0, "up by >= 0.1", True, direction=1),
        patterns.PatternResult("2", "s", "m2", None, 1.0, "level", True),
    ]
    table = pd.DataFrame(
        {
            "pattern_1": [True, True, True, False],
            "pattern_2": [True, False, False, False],
            "check_1_1": [True, True, True, False],
            "check_2_1": [True, False, False, False],
            "value_1_1": [1.0, 0.4, 0.5, 0.7],
            "baseline_1_1": [0.5] * 4,
        }
    )
    for i in patterns.PATTERNS:
        if f"pattern_{i}" not in table:
            table[f"pattern_{i}"] = False
    left, right = robustness.robustness_figure(table, results, "points").axes
    widths = [bar.get_width() for bar in left.patches]
    assert widths[:2] == [0.75, 0.25] and len(widths) == len(patterns.PATTERNS)
    assert [bar.get_width() for bar in right.patches] == [0.75, 0.25]
    (goal,) = [line for line in left.lines if line.get_linestyle() == "--"]
    assert goal.get_xdata()[0] == robustness.GOAL
    markers = [line for line in right.lines if line.get_marker() == "o"]
    assert [list(m.get_xdata()) for m in markers] == [[0.5]]  # the check with a direction
    assert "4 points" in left.get_title()


def test_every_check_of_an_effects_size_carries_the_texts_direction() -> None:
    """A criterion "up by >= x" is a direction +1, "down by >= x" -1 and the crisis
    windows' ">= k x the other state-years" +1 (crisis minus the rest); bounds ("up by <
    x", "down by < x") and levels have none."""
    results = patterns.measure_all(patterns.simulated(patterns.SeedBlock(3, 2)))
    for r in results:
        if r.criterion.startswith("up by >="):
            expected = 1
        elif r.criterion.startswith("down by >="):
            expected = -1
        elif "x the other state-years" in r.criterion:
            expected = 1
        else:
            expected = 0
        assert r.direction == expected, (r.pattern, r.criterion, r.direction)
        assert r.direction == 0 or r.baseline is not None
    assert sum(r.direction != 0 for r in results) == 7


def test_the_pattern_command_prints_and_writes_a_table_with_its_provenance(
    tmp_path: Path, capsys
) -> None:
    """The table on stdout and a JSON line; the same table as patterns.md, one row a
    check in patterns.csv, and a manifest (version, git revision, the seeds, the
    configuration, the command); a folder holding other files is refused before
    anything runs, and a second table replaces the first whole."""
    out = tmp_path / "table"
    patterns.main(["--seeds", "2", "--first-seed", "3", "--resamples", "0", "--out", str(out)])
    printed = capsys.readouterr().out
    lines = printed.strip().splitlines()
    summary = json.loads(lines[-1])
    assert list(summary["patterns"]) == list(patterns.PATTERNS)
    assert summary["seeds"] == 2 and summary["of"] == len(patterns.PATTERNS)
    assert "met_share" not in summary  # no resamples, no spread
    results = patterns.measure_all(patterns.simulated(patterns.SeedBlock(3, 2)))
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| pattern")]
    assert len(rows) == len(results)
    assert summary["files"] == [str(out / n) for n in ("patterns.csv", "patterns.md", MANIFEST)]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "patterns.csv", "patterns.md"]
    assert (out / "patterns.md").read_text() in printed
    table = pd.read_csv(out / "patterns.csv")
    assert table["check"].tolist() == patterns.check_keys(results)
    assert table["met"].tolist() == [r.passed for r in results]
    assert table["value"].tolist() == pytest.approx([r.value for r in results])
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["study"] == "patterns" and manifest["seed"] == 3 and manifest["seeds"] == 2
    assert manifest["git_revision"] and manifest["version"]
    assert manifest["command"].startswith("alignment-sim-patterns --seeds 2")
    assert manifest["config"]["scenario"]["name"] == "baseline"
    patterns.main(["--seeds", "2", "--first-seed", "3", "--out", str(out), "--resamples", "2"])
    capsys.readouterr()
    assert "low" in pd.read_csv(out / "patterns.csv").columns  # replaced by the new table
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exited:
        patterns.main(["--seeds", "2", "--out", str(out)])
    assert exited.value.code == 2 and "notes.txt" in capsys.readouterr().err


def test_a_checks_spread_over_resampled_seeds_is_the_paired_bootstrap(
    tmp_path: Path, capsys
) -> None:
    """Known answer by hand: check 1_1's effect, P(Belarus Russia-labelled at the end)
    under the West's offer minus without it, recomputed on the same resamples of the runs
    (the same rows in both variants: the seeds stay paired), gives the interval
    ``seed_spread`` reports; a check that never varies has a point interval; the command
    prints the spread and each check's share of resamples met."""
    block = patterns.SeedBlock(first=0, seeds=40)
    runs = patterns.simulated(block)
    spreads = patterns.seed_spread(runs, resamples=50, seed=7)
    assert [s.key for s in spreads] == patterns.check_keys(patterns.measure_all(runs))
    world = runs("baseline").inputs.world
    belarus, russia = world.states.index("belarus"), world.labels.index("russia")

    def at_end(name: str) -> np.ndarray:
        return (runs(name).labels()[:, -1, belarus] == russia).astype(float)

    base, offer = at_end("baseline"), at_end("western_engagement")
    generator = np.random.Generator(np.random.PCG64(7))
    effects = []
    for _ in range(50):
        rows = generator.integers(0, 40, 40)
        effects.append(offer[rows].mean() - base[rows].mean())
    first = spreads[0]
    assert first.key == "1_1" and first.is_effect
    assert first.estimate == pytest.approx(offer.mean() - base.mean())
    assert (first.low, first.high) == pytest.approx(tuple(np.percentile(effects, [5, 95])))
    armenia = next(s for s in spreads if s.key == "7_1")
    assert not armenia.is_effect and armenia.low == armenia.high == armenia.estimate
    assert all(s.low <= s.high and 0 <= s.met_share <= 1 for s in spreads)
    with pytest.raises(ConfigError, match="resamples = 1"):
        patterns.seed_spread(runs, resamples=1)
    patterns.main(["--seeds", "5", "--resamples", "3", "--out", str(tmp_path / "table")])
    out = capsys.readouterr().out
    assert "| check | measure | effect (value) | 90% interval over resampled seeds |" in out
    shares = json.loads(out.strip().splitlines()[-1])["met_share"]
    assert list(shares) == [s.key for s in spreads]
    with pytest.raises(SystemExit) as exited:
        patterns.main(["--seeds", "5", "--resamples", "1"])
    assert exited.value.code == 2 and "--resamples 1" in capsys.readouterr().err


def test_a_parameter_point_sets_every_variant_and_the_command_takes_it(
    tmp_path: Path, capsys
) -> None:
    """``--set PATH=NUMBER``: the pattern table at one parameter point, every variant
    (static and history) run there; the defaults untouched."""
    point = patterns.ParameterPoint((("decision.rationality", 6.0),))
    block = patterns.SeedBlock(first=3, seeds=2)
    for name in patterns.VARIANTS:
        assert patterns.variant_config(name, block, point).decision.rationality == 6.0
        assert patterns.variant_config(name, block).decision.rationality == 4.0
    assert patterns.simulate("baseline", block, point).inputs.rationality == 6.0
    point_argv = ["--seeds", "2", "--first-seed", "3", "--set", "decision.rationality=6"]
    patterns.main([*point_argv, "--out", str(tmp_path / "table")])
    out = capsys.readouterr().out
    assert "at decision.rationality=6" in out
    assert json.loads(out.strip().splitlines()[-1])["set"] == {"decision.rationality": 6.0}


@pytest.mark.parametrize(
    ("assignment", "named"),
    [
        ("decision.rationalty=3", "decision.rationalty"),
        ("decision.rationality=three", "--set"),
        ("decision.rationality", "--set"),
        ("decision.rationality=-1", "decision.rationality"),
        ("seed=5", "the table sets its own seeds, ticks, years and scenarios"),
        ("study=1", "'study=1'"),
        ("region.year=2000", "a parameter of the model"),
        ("decision.rule=1", "decision.rationality, region.poles"),
    ],
)
def test_a_bad_point_is_refused_before_anything_runs(assignment: str, named: str, capsys) -> None:
    """Exit 2 after argparse's usage line, the value named on the last line of stderr."""
    with pytest.raises(SystemExit) as exited:
        patterns.main(["--seeds", "1", "--set", assignment])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--seeds", "0"], "--seeds 0"),
        (["--first-seed", "-1"], "--first-seed -1"),
        (["--seeds", "2", "--first-seed", str(2**63 - 1)], "--first-seed 9223372036854775807"),
    ],
)
def test_a_bad_seed_block_is_refused_before_anything_runs(
    argv: list[str], named: str, capsys
) -> None:
    with pytest.raises(SystemExit) as exited:
        patterns.main(argv)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "argv", "named"),
    [
        ("patterns", ["--seeds", "1000000000"], "--seeds '1,000,000,000 runs'"),
        ("robustness", ["--points", "2", "--seeds", "1000000000"], "--seeds 1000000000"),
    ],
)
def test_a_size_no_memory_holds_is_refused_before_anything_runs(
    tmp_path: Path, command: str, argv: list[str], named: str, capsys
) -> None:
    """A billion seeds took the machine's 24 GiB until the kernel stopped the process:
    refused in one line, exit 2, before the first run."""
    main = patterns.main if command == "patterns" else robustness.main
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--out", str(tmp_path / "o")])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and "memory" in err[0]
    assert not (tmp_path / "o").exists()


def test_a_seed_block_refuses_what_no_study_can_run() -> None:
    """One definition of a block of seeds, checked where it is made (the pattern table's
    and the robustness study's commands both build one)."""
    assert patterns.SeedBlock(first=5, seeds=3).seeds == 3
    for fields, named in (
        ({"seeds": 0}, "seeds = 0"),
        ({"seeds": 2.0}, "seeds = 2.0"),
        ({"ticks": 0}, "ticks = 0"),
        ({"first": -1}, "first_seed = -1"),
        ({"first": True}, "first_seed = True"),
    ):
        with pytest.raises(ConfigError, match=re.escape(named)):
            patterns.SeedBlock(**fields)


@pytest.mark.parametrize("name", available("scenario"))
def test_every_scenario_preset_loads_and_compiles(name: str) -> None:
    RunInputs.from_config(default_config(scenario=name))


# --- the mechanisms (replacing the circular pattern checks) -------------------------------


def with_event(world: World, event: EventSpec, library: dict | None = None):
    """The parameters of tick 1 with ``event`` in force (one run)."""
    program = compile_scenario(ScenarioSpec(events=[event]), world, 1, library)
    return apply_events(world, program, np.ones((1, 1), dtype=bool), tick=1)


def test_pressure_raises_the_threat_by_hand(tiny_world: World) -> None:
    """Tiny world: p's threat to b is coercion 0.5 x military weight 1 x proximity FAR x
    pressure; an event scaling pressure by 1.5 raises it to 0.75 FAR. The economic
    pressure of joining q's union (rivalry of p with q 1.0, b's dependence on p its 10%
    trade) rises alike, from -0.05 to -0.075."""
    squeeze = {
        "squeeze": {
            "targets": "states",
            "changes": [
                {
                    "table": "pair",
                    "pole": "p",
                    "state": "$targets",
                    "param": "pressure",
                    "op": "scale",
                    "value": 1.5,
                }
            ],
        }
    }
    _, pole, pair = with_event(tiny_world, EventSpec(kind="squeeze", at=1, targets=["b"]), squeeze)
    base_state, base_pole, base_pair = tiny_world.params_for_tick(1)
    before = kernels.threat_from_poles(base_pole, base_pair, ALL)
    after = kernels.threat_from_poles(pole, pair, ALL)
    np.testing.assert_allclose(before[0, 1], 0.5 * FAR, rtol=1e-6)
    np.testing.assert_allclose(after[0, 0, 1], 0.75 * FAR, rtol=1e-6)
    np.testing.assert_array_equal(after[0, :, [0, 2]], before[:, [0, 2]].T)  # a, c unchanged
    b = slice(1, 2)
    exposure = kernels.dependence(base_state, base_pair, b)
    coerced = [
        kernels.economic_coercion_term(p, q, exposure, tiny_world.rivalry, b)
        for p, q in ((base_pole, base_pair), (pole, pair))
    ]
    np.testing.assert_allclose(np.ravel(coerced[0])[1], -0.05, rtol=1e-6)
    np.testing.assert_allclose(np.ravel(coerced[1])[1], -0.075, rtol=1e-6)


def test_exposure_raises_protection_by_hand(tiny_world: World) -> None:
    """Tiny world: c's protection from p's bloc is exposure 0.5 x credibility 0.5 x military
    weight 1 x min(1, proximity MID + presence 0); a terror surge sets exposure to 1."""
    state, pole, pair = with_event(tiny_world, EventSpec(kind="terror_surge", at=1, targets=["c"]))
    base_state, base_pole, base_pair = tiny_world.params_for_tick(1)
    credibility = base_pole.credibility[None]
    sec = tiny_world.security_poles
    c = slice(2, 3)
    rivalry = tiny_world.rivalry

    def protection(state, pole, pair, rows):
        threat = kernels.pair_rows(kernels.threat_from_poles(pole, pair, ALL), rows)
        return kernels.protection_term(state, pole, pair, credibility, threat, rivalry, rows, sec)

    before = protection(base_state, base_pole, base_pair, c)
    after = protection(state, pole, pair, c)
    np.testing.assert_allclose(np.ravel(before), [0.25 * MID, 0.0], rtol=1e-6)
    np.testing.assert_allclose(np.ravel(after), [0.5 * MID, 0.0], rtol=1e-6)
    a = slice(0, 1)  # a: exposure 1, proximity 1 + presence 0.5 capped at 1
    untouched = protection(state, pole, pair, a)
    np.testing.assert_allclose(np.ravel(untouched), [0.5, 0.0], rtol=1e-6)


def test_a_colour_revolution_raises_russias_threat_to_a_western_choice(
    default_world: World,
) -> None:
    """The default world and the library's colour_revolution kind (pattern 5's input):
    Russia's pressure on Georgia x1.5, so its threat x1.5, and the coercion a Western
    security choice provokes grows by 0.5 x that threat x Russia's rivalry with the West;
    a Russian or no security choice provokes no more than before."""
    world = default_world
    russia, west = world.poles.index("russia"), world.poles.index("west")
    georgia = world.states.index("georgia")
    _, pole, pair = with_event(
        world, EventSpec(kind="colour_revolution", at=1, targets=["georgia"])
    )
    _, base_pole, base_pair = world.params_for_tick(1)
    raised = np.ones_like(base_pair.pressure)
    raised[russia, georgia] = 1.5
    np.testing.assert_allclose(pair.pressure[0], base_pair.pressure * raised, rtol=1e-6)
    before = kernels.threat_from_poles(base_pole, base_pair, ALL)
    after = kernels.threat_from_poles(pole, pair, ALL)
    np.testing.assert_allclose(after[0], before * raised, rtol=1e-6)
    assert before[russia, georgia] > 0
    row = slice(georgia, georgia + 1)
    sec = world.security_poles
    term_before = np.ravel(
        kernels.coercion_term(kernels.pair_rows(before[None], row), world.rivalry, sec)
    )
    term_after = np.ravel(kernels.coercion_term(kernels.pair_rows(after, row), world.rivalry, sec))
    to_west = list(sec).index(west)
    expected = -0.5 * before[russia, georgia] * world.rivalry[russia, west]
    np.testing.assert_allclose(term_after[to_west] - term_before[to_west], expected, rtol=1e-5)
    others = [k for k in range(len(term_before)) if k != to_west]
    np.testing.assert_allclose(term_after[others], term_before[others], rtol=1e-6)


def test_a_terror_surge_raises_the_protection_of_russias_bloc(default_world: World) -> None:
    """The default world and the library's terror_surge kind (pattern 8's input): exposure
    set to 1 for the targets, so the protection of each bloc grows by (1 - exposure) x its
    credibility x military weight x reach for them, and no one else's changes."""
    world = default_world
    tajikistan = world.states.index("tajikistan")
    state, pole, pair = with_event(
        world, EventSpec(kind="terror_surge", at=1, targets=["tajikistan"])
    )
    base_state, base_pole, base_pair = world.params_for_tick(1)
    exposure = float(base_state.threat_exposure[tajikistan])
    credibility = base_pole.credibility[None]
    sec = world.security_poles

    def protection(state, pole, pair):
        threat = kernels.pair_rows(kernels.threat_from_poles(pole, pair, ALL), ALL)
        return kernels.protection_term(
            state, pole, pair, credibility, threat, world.rivalry, ALL, sec
        )

    before, after = protection(base_state, base_pole, base_pair), protection(state, pole, pair)
    reach = np.minimum(1.0, base_pair.proximity + base_pair.presence)[sec, tajikistan]
    strength = (credibility[0] * base_pole.military_weight)[sec]
    added = np.zeros_like(before[0])
    added[tajikistan, :-1] = (1.0 - exposure) * strength * reach
    assert 0 < exposure < 1
    np.testing.assert_allclose(after[0] - before[0], added, rtol=1e-5, atol=1e-7)
    to_russia = list(sec).index(world.poles.index("russia"))
    assert after[0, tajikistan, to_russia] > before[0, tajikistan, to_russia] > 0
    assert after[0, tajikistan, -1] == 0.0  # outside every bloc: no protection


# --- robustness -------------------------------------------------------------------------


def test_the_judgements_list_every_unsourced_parameter() -> None:
    """Every parameter a path names with a non-zero default is listed once, as a judgement
    or as sourced; every listed path exists; a zero default needs a half-width."""
    config = default_config()
    listed = robustness.load_judgements()
    judged = [j.path for j in listed.judgements]
    for path in judged + list(listed.sourced):
        paths.get_value(config, path)  # exists
    pole_only = ("reach_km", "soft_power_floor", "soft_power_fade_per_year", "capability")
    candidates = supported_paths(config) + [
        f"region.poles.{pole}.{field}" for pole in config.region.pole_names for field in pole_only
    ]
    numeric = {p: paths.get_value(config, p) for p in candidates}
    unlisted = [p for p, v in numeric.items() if v and p not in judged and p not in listed.sourced]
    assert not unlisted, f"neither judgement nor sourced: {unlisted}"
    for judgement in listed.judgements:
        low, high = robustness.bounds(config, judgement, listed.box)
        assert low < high, judgement.path


def test_a_sourced_entry_must_name_its_source(tmp_path: Path) -> None:
    """A value listed as sourced with only a reason is a judgement in the wrong list: it
    would escape the box (the West's regime support sat there for a run)."""
    file = tmp_path / "judgements.yaml"
    file.write_text(
        "box: 0.2\njudgements: []\n"
        "sourced:\n  - {path: region.poles.west.regime_support, reason: no number}\n"
    )
    with pytest.raises(ConfigError, match="expected a judgements file: box"):
        robustness.load_judgements(file)
    file.write_text(
        "box: 0.2\njudgements:\n  - {path: weights.trade, reason: judged}\n"
        "sourced:\n  - {path: region.poles.west.capability, source: COW NMC}\n"
    )
    assert robustness.load_judgements(file).sourced == ("region.poles.west.capability",)


def test_a_point_at_the_defaults_measures_as_the_pattern_table() -> None:
    """Per-run parameter arrays change nothing at the default values: the first point
    (defaults) measures exactly as the plain runs; the second differs in its values."""
    block = patterns.SeedBlock(first=5, seeds=3)
    config = default_config()
    varied = ("weights.trade", "region.poles.russia.leverage", "region.states.armenia.autonomy")
    values = {}
    for path in varied:
        default = float(paths.get_value(config, path))
        values[path] = np.array([default, default + 0.1])
    inputs = {name: patterns.variant_inputs(name, block) for name in patterns.VARIANTS}
    at_points = robustness.evaluate_group(inputs, values, np.arange(5, 8))
    assert len(at_points) == 2
    assert at_points[0] == patterns.measure_all(patterns.simulated(block))


CHINA_BUDGET = "region.poles.china.budget_bn_usd"
HISTORY_VARIANTS = [name for name, v in patterns.VARIANTS.items() if v.history]


def test_a_budget_the_calendar_takes_from_data_varies_in_the_static_variants_only() -> None:
    """China's budget (rule chinese_lending) cannot vary in the history variants' calendar
    world (with_point_values refuses it): the study keeps it at its configured value
    there and varies it in the static variants; Russia's and the West's vary in both."""
    block = patterns.SeedBlock(first=5, seeds=2)
    inputs = {name: patterns.variant_inputs(name, block) for name in ("baseline", "history")}
    values = {
        CHINA_BUDGET: np.array([4.4, 6.6]),
        "region.poles.russia.budget_bn_usd": np.array([6.4, 9.6]),
        "region.poles.west.budget_bn_usd": np.array([2.4, 3.6]),
    }
    fixed = robustness.calendar_fixed(inputs, list(values))
    assert fixed == {CHINA_BUDGET: ("chinese_lending", ("history",))}
    assert robustness.per_variant(inputs["baseline"], values) == values
    kept = robustness.per_variant(inputs["history"], values)
    assert list(kept) == ["region.poles.russia.budget_bn_usd", "region.poles.west.budget_bn_usd"]
    with pytest.raises(ConfigError, match=rf"^{CHINA_BUDGET} = 4\.4: expected"):
        with_point_values(inputs["history"], values)
    assert "keeps its configured value in history" in "".join(robustness.fixed_lines(fixed))


def test_each_check_lists_the_parameters_most_tied_to_its_measure() -> None:
    """By hand: over five points, check 8_1's effect (scenario minus baseline) rises with
    x and falls with y, and z does not move; check 7_1 has no baseline (its value is its
    measure) and does not move, so no parameter is listed for it."""
    table = pd.DataFrame(
        {
            "x": [0.1, 0.2, 0.3, 0.4, 0.5],
            "y": [5.0, 1.0, 4.0, 2.0, 3.0],
            "z": [1.0] * 5,
            "value_8_1": [0.60, 0.62, 0.64, 0.66, 0.68],
            "baseline_8_1": [0.60, 0.61, 0.62, 0.63, 0.64],
            "value_7_1": [0.99] * 5,
            "baseline_7_1": [None] * 5,
            "patterns_held": [1, 2, 3, 4, 5],
        }
    )
    effect = robustness.check_effect(table, "8_1")
    assert effect.round(3).tolist() == [0.0, 0.01, 0.02, 0.03, 0.04]
    assert robustness.check_effect(table, "7_1").tolist() == [0.99] * 5
    rho = robustness.rank_correlations(table, ["x", "y", "z"], effect)
    assert rho["x"] == pytest.approx(1.0) and rho["y"] == pytest.approx(-0.3)
    assert math.isnan(rho["z"]) and list(rho.index[:2]) == ["x", "y"]
    assert robustness.check_drivers(table, "8_1", ["x", "y", "z"]) == "`x` +1.00, `y` -0.30"
    assert robustness.check_drivers(table, "7_1", ["x", "y", "z"]) == "-"


def test_the_interval_of_a_share_is_wilsons_by_hand() -> None:
    """160 of 200 points: the 90% Wilson score interval, p = 0.8, z = 1.6449:
    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n) = [0.7496, 0.8424]."""
    held = pd.Series([True] * 160 + [False] * 40)
    z, n, p = 1.6448536269514722, 200, 0.8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = robustness.share_interval(held)
    assert (low, high) == (pytest.approx(centre - half), pytest.approx(centre + half))
    assert (round(low, 4), round(high, 4)) == (0.7496, 0.8424)
    assert robustness.share_interval(pd.Series([True] * 10))[1] == pytest.approx(1.0)


def test_a_robustness_report_names_the_judgements_file_it_read(tmp_path, capsys) -> None:
    """robustness.md cited the packaged judgements file for a file of one's own."""
    own = tmp_path / "mine.yaml"
    own.write_text(robustness.JUDGEMENTS_FILE.read_text())
    robustness.main(["--quick", "--judgements", str(own), "--out", str(tmp_path / "o")])
    report = (tmp_path / "o" / "robustness.md").read_text()
    assert f"clipped to its domain ({own})" in report and "conf/robustness" not in report
    robustness.main(["--quick", "--out", str(tmp_path / "p")])
    packaged = (tmp_path / "p" / "robustness.md").read_text()
    assert "clipped to its domain (conf/robustness/judgements.yaml)" in packaged


def test_a_quick_robustness_run(tmp_path, capsys) -> None:
    robustness.main(["--quick", "--out", str(tmp_path)])
    printed = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(printed[-1])
    short = [i for i in summary["holds"] if i not in summary["met"]]
    if short:  # the next step: where in the box the first short pattern holds
        assert printed[-2] == (
            f"Where pattern {short[0]} holds (PRIM, CART): alignment-sim-discover "
            f"{tmp_path} --outcome pattern_{short[0]} --above 0.5 --max-restricted 3"
        )
    table = pd.read_csv(tmp_path / "points.csv")
    n = robustness.QUICK["points"]
    assert list(table["point"]) == list(range(n))
    listed = robustness.load_judgements()
    config = default_config()
    varied = [j for j in listed.judgements if robustness.can_vary(j.path)]
    assert summary["not_varied"] == [
        j.path for j in listed.judgements if not robustness.can_vary(j.path)
    ]
    assert summary["calendar_fixed"] == {CHINA_BUDGET: HISTORY_VARIANTS}
    for judgement in varied:
        default = float(paths.get_value(config, judgement.path))
        half = listed.box * abs(default) if default else float(judgement.half_width or 0.0)
        column = table[judgement.path].to_numpy()
        assert np.all(np.abs(column - default) <= half + 1e-12), judgement.path
        domain = paths.domain(judgement.path)
        assert domain is not None and np.all((column >= domain.low) & (column <= domain.high))
        low, high = robustness.bounds(config, judgement, listed.box)
        strata = np.floor((column - low) / (high - low) * n).clip(0, n - 1)
        assert sorted(strata) == list(range(n)), judgement.path  # a Latin hypercube
    ids = list(patterns.PATTERNS)
    pattern_columns = [f"pattern_{i}" for i in ids]
    assert all(pd.api.types.is_bool_dtype(table[c]) for c in pattern_columns)
    np.testing.assert_array_equal(table["patterns_held"], table[pattern_columns].sum(axis=1))
    assert summary["holds"] == {i: float(table[f"pattern_{i}"].mean()) for i in ids}
    report = (tmp_path / "robustness.md").read_text()
    for i in ids:
        low, high = summary["holds_interval"][i]
        assert low <= summary["holds"][i] <= high
        assert f"| {i} | {summary['holds'][i]:.3f} | [{low:.2f}, {high:.2f}] |" in report
    assert f"`{CHINA_BUDGET}` is varied in the other variants but keeps its configured " in report
    meta = json.loads((tmp_path / "manifest.json").read_text())
    assert meta["study"] == robustness.STUDY and meta["seed"] == 0
    assert meta["varied"] == [j.path for j in varied] and meta["holds"] == summary["holds"]
    assert meta["command"] == f"{robustness.PROG} --quick --out {tmp_path}"
    assert meta["config"]["region"]["name"] == config.region.name  # what the box is drawn around
    for name in robustness.BOX_FILES:
        assert meta["files"][name]["sha256"] == sha256(tmp_path / name)


def test_a_judgements_file_that_is_missing_or_malformed_is_bad_input(tmp_path, capsys) -> None:
    """Exit 2 with the option named, before anything runs: a file that does not exist, one
    that is no YAML mapping, one listing a path twice; and --quick with a size of its own."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("box: [0.2\n")
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "box: 0.2\njudgements:\n  - {path: weights.trade, reason: a}\n"
        "  - {path: weights.trade, reason: b}\n"
    )
    for file, said in [
        (tmp_path / "none.yaml", "a judgements YAML file that exists"),
        (broken, "a readable YAML file. Line 2, column 1"),
        (twice, "Twice: ['weights.trade']"),
    ]:
        with pytest.raises(SystemExit) as exited:
            robustness.main(["--quick", "--judgements", str(file), "--out", str(tmp_path / "o")])
        assert exited.value.code == 2
        error = capsys.readouterr().err
        assert "--judgements " in error and said in error, error
    for size in (["--points", "50"], ["--seeds", "10"]):
        with pytest.raises(SystemExit) as exited:
            robustness.main(["--quick", *size, "--out", str(tmp_path / "o")])
        assert exited.value.code == 2
        assert "--quick runs" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_report_says_how_large_a_correlation_chance_gives() -> None:
    """1.96 / sqrt(n - 1): 0.14 over 200 points, 0.98 over 5 draws."""
    assert "below 0.14 is within what chance" in robustness.chance_note(200, "points")
    assert robustness.chance_note(5, "draws").startswith("With 5 draws, a rank correlation")
    assert "below 0.98" in robustness.chance_note(5, "draws")
    assert "chance alone can give any rank correlation" in robustness.chance_note(4, "points")


def test_a_wider_box_scales_every_range_by_hand() -> None:
    """``--box 0.5``: a default of 2 spans 1..3 (not 1.6..2.4), and a zero default's
    half-width, given for the file's box of 0.2, grows with it (the stance's 0.2 -> 0.5)."""
    listed = robustness.load_judgements()
    wide = robustness.widened(listed, 0.5)
    assert listed.box == 0.2 and wide.box == 0.5
    config = default_config()
    by_path = {j.path: j for j in wide.judgements}
    assert paths.get_value(config, "weights.protection") == 2.0
    assert robustness.bounds(config, by_path["weights.protection"], wide.box) == (1.0, 3.0)
    assert paths.get_value(config, "dynamics.stance") == 0.0
    assert robustness.bounds(config, by_path["dynamics.stance"], wide.box) == (-0.5, 0.5)
    assert [j.path for j in wide.judgements] == [j.path for j in listed.judgements]
    assert robustness.widened(listed, 0.2) == listed


@pytest.mark.parametrize("box", [0.0, -0.1, 1.5, float("nan")])
def test_a_box_outside_zero_to_one_is_refused_before_anything_runs(tmp_path, capsys, box) -> None:
    with pytest.raises(ConfigError, match=r"box"):
        robustness.run_robustness(points=2, seeds=1, out=tmp_path / "box", box=box)
    with pytest.raises(SystemExit) as exited:
        robustness.main(["--quick", "--box", str(box), "--out", str(tmp_path / "box")])
    assert exited.value.code == 2
    assert "box" in capsys.readouterr().err
    assert not (tmp_path / "box").exists()


def test_a_quick_run_in_a_wider_box_samples_it_and_says_so(tmp_path, capsys) -> None:
    robustness.main(["--quick", "--box", "0.5", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "points.csv")
    trade = table["weights.trade"]  # default 2.0: the wider box's strata reach 1.0 and 3.0
    assert trade.min() < 1.6 or trade.max() > 2.4
    assert trade.between(1.0, 3.0).all()
    assert json.loads((tmp_path / "manifest.json").read_text())["box"] == 0.5
    assert "+- 50%" in (tmp_path / "robustness.md").read_text()
    with pytest.raises(SystemExit):
        robustness.main(["--quick", "--box", "0.5", "--fit", "post_soviet_1991_2010"])


def test_a_study_folder_is_written_whole(tmp_path, monkeypatch) -> None:
    """An earlier study is replaced whole; a failure while writing leaves it as it was,
    with no half-written folder beside it."""
    out = tmp_path / "box"
    table = pd.DataFrame({"point": [0, 1], "weights.trade": [1.0, 2.0], "pattern_1": [True, False]})
    study = {"points": 2, "seeds": 1, "varied": ["weights.trade"]}
    robustness.write_study(out, {"points.csv": table}, "# first", default_config(), 0, study)
    assert (out / "robustness.md").read_text() == "# first"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(robustness, "finish_job", broken)
    with pytest.raises(OSError, match="disk full"):
        robustness.write_study(out, {"points.csv": table}, "# second", default_config(), 0, study)
    assert (out / "robustness.md").read_text() == "# first"
    assert json.loads((out / "manifest.json").read_text())["varied"] == ["weights.trade"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["box"]


def test_a_folder_holding_other_files_is_refused_before_anything_runs(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"notes\.txt"):
        robustness.run_robustness(points=2, seeds=1, out=tmp_path)
    with pytest.raises(SystemExit) as exited:
        robustness.main(["--quick", "--out", str(tmp_path)])
    assert exited.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0 and "--out" in message and "notes.txt" in message
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--points", "1"], "--points 1"),
        (["--seeds", "0"], "--seeds 0"),
        (["--first-seed", "-1"], "--first-seed -1"),
        (["--sampler-seed", "-3"], "--sampler-seed -3"),
        (["--workers", "0"], "--workers 0"),
        (["--fit", "post_soviet_1991_2010", "--workers", "0"], "--workers 0"),
    ],
)
def test_a_bad_study_is_refused_in_one_line_before_anything_runs(
    argv: list[str], named: str, tmp_path, capsys
) -> None:
    with pytest.raises(SystemExit) as exited:
        robustness.main([*argv, "--out", str(tmp_path / "study")])
    assert exited.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0 and named in message
    assert not (tmp_path / "study").exists()


# --- the patterns over many seeds (slow) --------------------------------------------------


NOT_REPRODUCED = {
    "1": "Marginal: Russia's offer to Belarus rises by 4.6% on FRESH_BLOCK's seeds under the "
    "West's offer, 6.1% on seeds 0-199 (5.4% to 7.1% on six other blocks of 200; criterion "
    "5%): the pledge narrows "
    "Russia's margin from 1.64 to 1.13, where money moves Belarus's choice 7.6 times as much "
    "(docs/MODEL.md, Limits)",
    "8": "Central Asian state-ticks in Russia's alliance rise by 0.013 on seeds 0-199 and 0.012 "
    "on FRESH_BLOCK's under the terror surge, short of 0.02: the surge's size is Model 1's "
    "before its 2015-world calibration (exposure set to 1), which the 1991-2010 record "
    "prefers; Kazakhstan, Kyrgyzstan and Tajikistan are in the alliance anyway, Turkmenistan's "
    "neutrality binds, and Uzbekistan, in the CSTO at the 2010 start, leaves it a little less "
    "often under the surge (docs/MODEL.md, Limits)",
}
"""Patterns the model does not reproduce at its defaults on FRESH_BLOCK's seeds, with why
(docs/ODD.md, section 1). Strict: a pattern that starts to hold fails here until it
leaves this list."""


@pytest.mark.slow
@pytest.mark.parametrize(
    "number",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=NOT_REPRODUCED[n], strict=True))
        if n in NOT_REPRODUCED
        else n
        for n in patterns.PATTERNS
    ],
)
def test_pattern_emerges(number: str) -> None:
    results = patterns.PATTERNS[number](patterns.simulated(FRESH_BLOCK))
    assert results
    failed = [r for r in results if not r.passed]
    assert not failed, "\n".join(
        f"{r.measure}: baseline {r.baseline}, scenario {r.value} (needs {r.criterion})"
        for r in failed
    )


def test_a_simulated_variant_is_the_callers_own_copy_and_an_unknown_one_is_named() -> None:
    """``simulate`` keeps each variant's runs; a caller's edit of what it returned used to
    reach every later call (the kept object itself)."""
    block = patterns.SeedBlock(first=0, seeds=3)
    first = patterns.simulate("baseline", block)
    kept = first.alignment.copy()
    first.alignment[:] = 0
    again = patterns.simulate("baseline", block)
    np.testing.assert_array_equal(again.alignment, kept)
    assert again.inputs is first.inputs  # the inputs and world are shared, not copied
    with pytest.raises(ConfigError, match="variant = 'baselin': expected a variant"):
        patterns.simulate("baselin", block)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (("box: 0.2", "box: 0"), "box = 0.0: expected a number above 0"),
        (("box: 0.2", "box: 5"), "box = 5.0: expected a number above 0"),
        (("box: 0.2", "box: .nan"), "box = nan"),
        (
            ("{path: weights.protection,", "{path: weights.protection, half_width: -0.2,"),
            "weights.protection.half_width = -0.2: expected a number above 0",
        ),
        (("box: 0.2", "box: ["), "Line "),
    ],
)
def test_a_judgements_files_values_are_checked(
    tmp_path: Path, edit: tuple[object, ...], named: str
) -> None:
    """``box: 0`` was reported as a robustness share at "+- 0%" (every point the default),
    ``box: 5`` and a negative half-width were taken, and a broken YAML showed a raw
    ``<yaml.error.Mark object>``: each refused, naming the file's key."""
    text = robustness.JUDGEMENTS_FILE.read_text()
    file = tmp_path / "mine.yaml"
    file.write_text(text.replace(*edit))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=re.escape(named)):
        robustness.load_judgements(file)
