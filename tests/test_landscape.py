"""alignment-sim-landscape: the year's games, their stable configurations and the record's
regret, checked against the model's own utilities."""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

from alignment_sim.errors import ConfigError
from alignment_sim.studies import landscape
from alignment_sim.studies import landscape_core as core


@pytest.fixture(scope="module")
def year_2000() -> landscape.YearLandscape:
    return landscape.landscape(landscape.year_world(2000), basin_starts=2_000)


def test_every_stable_configuration_has_no_gainful_move(year_2000) -> None:
    yw = year_2000.year_world
    space = yw.world.space
    security_fn = landscape.security_utility_fn(yw)
    assert len(year_2000.security.stable) >= 1
    for s, held in enumerate(year_2000.security.stable):
        assert not core.regret(security_fn, held, landscape.TOLERANCE).any()
        economy_fn = landscape.economy_utility_fn(yw, held)
        for config in year_2000.economy[s].stable:
            assert not core.regret(economy_fn, config, landscape.TOLERANCE).any()
    table = year_2000.stable_profiles()
    assert set(table.columns[: yw.world.n_states]) == set(yw.world.states)
    assert table["basin"].between(0, 1).all()
    assert table["basin"].sum() <= 1.0 + 1e-9
    assert all(name in space.profiles for name in table.iloc[0, : yw.world.n_states])


def test_the_record_regret_is_each_states_best_gain(year_2000) -> None:
    yw = year_2000.year_world
    space = yw.world.space
    security = space.profile_security[yw.recorded]
    utilities = landscape.security_utility_fn(yw)(security[None])[0]
    own = utilities[np.arange(len(security)), security]
    gain = np.maximum(utilities.max(axis=-1) - own, 0.0)
    gain[gain <= landscape.TOLERANCE] = 0.0
    np.testing.assert_allclose(year_2000.recorded_security_regret, gain)
    table = year_2000.regret_table()
    assert list(table["state"]) == list(yw.world.states)
    labelling = yw.world.labelling  # the record label, with what the record holds in 2000
    assert list(table["recorded_label"]) == [
        labelling.label(i, k) for i, k in enumerate(yw.recorded)
    ]
    moved = table["economy_regret"] > 0
    assert (table.loc[moved, "economy_best_move"] != "").all()
    assert (table.loc[~moved, "economy_best_move"] == "").all()


@pytest.fixture(scope="module")
def year_2005() -> landscape.YearLandscape:
    return landscape.landscape(landscape.year_world(2005), basin_starts=500)


def test_a_state_moves_despite_the_cost_only_if_its_gain_exceeds_it(year_2000, year_2005) -> None:
    """The model's best response pays the switching cost to move. At the recorded 2000
    configuration no state gains by moving; at 2005's Kazakhstan gains 0.104 by leaving
    Russia's union, below the economic switching cost (1), and Ukraine, a NATO aspirant
    from April 2005, 1.113 by leaving the West's bloc, above the security cost (1): only
    Ukraine would move; with the economic cost at 0.05 Kazakhstan would too."""
    assert not year_2000.regret_table()["gains_by_moving"].any()
    table = year_2005.regret_table().set_index("state")
    assert table.loc["kazakhstan", "economy_regret"] == pytest.approx(0.1044, abs=1e-3)
    assert table.loc["kazakhstan", "economy_best_move"] == "open"
    assert table.loc["ukraine", "recorded_profile"] == "west/open"
    assert table.loc["ukraine", "security_regret"] == pytest.approx(1.113, abs=1e-3)
    assert table.loc["ukraine", "security_best_move"] == "none"
    assert table["gains_by_moving"].sum() == 2
    assert list(table.index[table["moves_despite_cost"]]) == ["ukraine"]
    assert year_2005.switching_costs() == (1.0, 1.0)
    assert year_2005.summary()["states_moving_despite_switching_cost"] == 1
    inputs = year_2005.year_world.inputs
    cheap = dataclasses.replace(
        year_2005.year_world,
        inputs=dataclasses.replace(
            inputs, dynamics=dataclasses.replace(inputs.dynamics, economic_switching_cost=0.05)
        ),
    )
    moved = dataclasses.replace(year_2005, year_world=cheap).regret_table().set_index("state")
    assert list(moved.index[moved["moves_despite_cost"]]) == ["ukraine", "kazakhstan"]


def test_without_events_the_years_world_is_its_data(year_2005) -> None:
    """The plain landscape has no events: its parameters are the calendar world's own for
    the year's first tick, the very objects a run reads."""
    yw = year_2005.year_world
    assert yw.events_in_force == ()
    assert all(map(operator.is_, yw.params, yw.world.params_for_tick(1)))
    assert year_2005.summary()["events_in_force"] == []


def test_the_historys_events_in_force_enter_the_years_world(tmp_path: Path, capsys) -> None:
    """``--events``: the history's events in force at the start of 2005, those dated in its
    first quarter (the Tulip Revolution, 24 March) and those before that still last (the
    Orange and Rose Revolutions, two years each), not Andijan (May 2005); each edits the
    year's parameters as in a history run (Ukraine's and Georgia's regimes insecure), and
    Russia's three kept protections (Tajikistan's government, Batken twice) raise its
    credibility from its configured 0.6 to the target a history run moves toward,
    (4 x 0.6 + 3) / (4 + 3) = 0.771. Ukraine's gain from leaving the West's bloc falls from
    1.113 to 0.217, below the switching cost, while Georgia gains 0.893 by joining it and
    Uzbekistan 0.310 by joining Russia's alliance and 0.404 by joining its union, the moves
    both made in 2006 (docs/ODD.md, 1.4)."""
    out = tmp_path / "l2005events"
    landscape.main(["--year", "2005", "--events", "--out", str(out), "--starts", "500"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    in_force = summary["events_in_force"]
    assert {"Orange Revolution", "Rose Revolution", "Tulip Revolution"} <= set(in_force)
    assert not any("Andijan" in name for name in in_force)
    assert summary["states_gaining_by_moving"] == 4
    assert summary["states_moving_despite_switching_cost"] == 0
    assert json.loads((out / "manifest.json").read_text())["config"]["scenario"]["name"] == (
        landscape.EVENTS_SCENARIO
    )
    yw = landscape.year_world(2005, events=True)
    insecurity = yw.params[0].regime_insecurity
    plain = yw.world.params_for_tick(1)[0].regime_insecurity
    states = list(yw.world.states)
    for state in ("ukraine", "georgia", "kyrgyzstan"):
        assert insecurity[states.index(state)] > plain[states.index(state)], state
    assert insecurity.shape == plain.shape  # one run: no run axis
    pole = yw.params[1]
    np.testing.assert_allclose(pole.credibility, [0.6, 0.8, 0.8])
    np.testing.assert_allclose(landscape.pole_credibility(yw), [(2.4 + 3) / 7, 0.8, 0.8], rtol=1e-6)
    plain_world = landscape.year_world(2005)
    plain_pole = plain_world.params[1]  # untested poles: their configured credibility, bit for bit
    np.testing.assert_array_equal(landscape.pole_credibility(plain_world), plain_pole.credibility)
    regret = pd.read_csv(out / "regret.csv").set_index("state")
    moves = {
        "ukraine": ("none", 0.2171),
        "georgia": ("west", 0.8929),
        "uzbekistan": ("russia", 0.3098),
        "azerbaijan": ("russia", 0.0706),
    }
    for state, (option, gain) in moves.items():
        assert regret.loc[state, "security_best_move"] == option, state
        assert regret.loc[state, "security_regret"] == pytest.approx(gain, abs=1e-3), state
    assert set(regret.index[regret["gains_by_moving"]]) == set(moves)
    assert regret.loc["uzbekistan", "economy_best_move"] == "russia"
    assert regret.loc["uzbekistan", "economy_regret"] == pytest.approx(0.4044, abs=1e-3)


def test_a_year_without_one_of_the_historys_events(tmp_path: Path, capsys) -> None:
    """``--without LABEL``: the year's world without that event, a counterfactual. In 2005
    the three colour revolutions in force make every chooser's regime a little insecure,
    which Russia's support answers in an autocracy: without any one of them Uzbekistan's
    gains from joining Russia's blocs fall from 0.310 and 0.404 to about 0.08 and 0.15;
    without the Orange Revolution Ukraine's gain from leaving the West's bloc is 0.729
    (0.217 with it), without the Rose Revolution Georgia's from joining it 0.349 (0.893)
    (docs/ODD.md, 1.4)."""
    out = tmp_path / "l2005without"
    argv = ["--year", "2005", "--events", "--without", "Orange Revolution", "--starts", "200"]
    landscape.main([*argv, "--out", str(out)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["events_left_out"] == ["Orange Revolution"]
    assert "Orange Revolution" not in summary["events_in_force"]
    assert "Rose Revolution" in summary["events_in_force"]
    regret = pd.read_csv(out / "regret.csv").set_index("state")
    assert regret.loc["ukraine", "security_regret"] == pytest.approx(0.7291, abs=1e-3)
    uzbekistan = regret.loc["uzbekistan", ["security_regret", "economy_regret"]]
    np.testing.assert_allclose(uzbekistan.to_numpy(float), [0.0817, 0.1517], atol=1e-3)
    cases = {"Rose Revolution": (0.3490, 0.1479), "Tulip Revolution": (0.6889, 0.1404)}
    for left_out, (georgia, uzbek_economy) in cases.items():
        yw = landscape.year_world(2005, events=True, without=[left_out])
        table = landscape.landscape(yw, basin_starts=100).regret_table().set_index("state")
        gains = table.loc[["georgia", "uzbekistan", "uzbekistan"]]
        got = [
            gains.iloc[0]["security_regret"],
            gains.iloc[1]["security_regret"],
            gains.iloc[2]["economy_regret"],
        ]
        np.testing.assert_allclose(got, [georgia, 0.0817, uzbek_economy], atol=1e-3)
    with pytest.raises(ConfigError, match="Orange Revolutio'"):
        landscape.year_world(2005, events=True, without=["Orange Revolutio"])


def test_after_the_record_the_configuration_scored_is_2010s() -> None:
    """The package's record ends in 2010: in the calendar world a later year, or a later
    configuration year, scores the record's 2010 configuration and says so; the static
    2015 world keeps its own start, the same profiles, and says they are 2010's."""
    last = landscape.year_world(2010).recorded
    for yw in (
        landscape.year_world(2012),
        landscape.year_world(2015),
        landscape.year_world(2013, configuration_year=2012),
    ):
        assert yw.configuration_year == 2010, yw.year
        np.testing.assert_array_equal(yw.recorded, last)
    static = landscape.year_world(2015, static=True)
    assert static.configuration_year == 2010
    np.testing.assert_array_equal(static.recorded, last)


def test_each_variant_has_its_own_default_folder() -> None:
    """Two counterfactuals never share a default folder: each left-out event's label is in
    the name."""
    args = landscape.parser().parse_args(
        ["--year", "2005", "--events", "--without", "Orange Revolution", "--fit", "f"]
    )
    folder = landscape.default_folder("2005", args)
    assert folder == Path("results/landscape/2005-events-without-orange-revolution-fit-f")
    args.without = ["Rose Revolution"]
    assert landscape.default_folder("2005", args).name == (
        "2005-events-without-rose-revolution-fit-f"
    )
    # another fit, or other starts, replaced the folder of the first without a word
    for fit, starts, name in [
        ("post_soviet_1991_2010", 20_000, "2005-fit"),
        ("results/fits/mine/fitted.yaml", 20_000, "2005-fit-mine"),
        ("results/fits/other", 100, "2005-fit-other-starts100"),
    ]:
        args = landscape.parser().parse_args(
            ["--year", "2005", "--fit", fit, "--starts", str(starts)]
        )
        assert landscape.default_folder("2005", args).name == name


def test_a_lapsed_treaty_makes_leaving_its_bloc_free(year_2000) -> None:
    """While an event lapses a bloc's treaty (``exit_cost`` 0, as the Collective Security
    Treaty's term in April 1999) its members leave it at no switching cost: any gain from
    leaving is a move despite the cost; the others' cost stays the switching cost."""
    yw = year_2000.year_world
    state, pole, pair = yw.params
    russia = list(yw.world.poles).index("russia")
    exit_cost = np.array(pair.exit_cost, copy=True)
    exit_cost[russia] = 0.0
    lapsed = dataclasses.replace(
        yw, params=(state, pole, dataclasses.replace(pair, exit_cost=exit_cost))
    )
    result = dataclasses.replace(year_2000, year_world=lapsed)
    members = yw.world.space.profile_security[yw.recorded] == russia
    assert members.any() and not members.all()
    np.testing.assert_array_equal(result.security_costs(), np.where(members, 0.0, 1.0))
    np.testing.assert_array_equal(year_2000.security_costs(), np.ones(len(members)))


def test_economy_bounds_hold_over_configurations(year_2000) -> None:
    """The dominance bounds enclose the economic utilities of any configuration."""
    yw = year_2000.year_world
    held = year_2000.security.stable[0]
    low, high = landscape.economy_bounds(yw, held)
    rng = np.random.default_rng(0)
    configs = rng.integers(0, yw.world.space.n_economy, size=(300, yw.world.n_states))
    utilities = landscape.economy_utility_fn(yw, held)(configs)
    assert (utilities >= low - 1e-5).all()
    assert (utilities <= high + 1e-5).all()


def test_the_command_writes_its_tables(tmp_path: Path, capsys) -> None:
    out = tmp_path / "l2005"
    landscape.main(["--year", "2005", "--out", str(out), "--starts", "500"])
    for name in ("stable.csv", "regret.csv", "regret.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["year"] == 2005 and summary["states"] == 11 and summary["fit"] is None
    assert summary == json.loads((out / "summary.json").read_text())


def test_a_folder_holding_other_files_is_refused_before_anything_runs(
    tmp_path: Path, capsys
) -> None:
    """The command replaces its folder whole: one holding anything a landscape does not
    write (here the user's own notes) is refused in one line on stderr, exit 2, and left
    as it was."""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exited:
        landscape.main(["--year", "2005", "--out", str(tmp_path)])
    assert exited.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("alignment-sim-landscape: --out ") and "\n" not in message
    assert re.search(r"notes\.txt, which a landscape does not", message)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_command_takes_a_fitted_set(tmp_path: Path, capsys, year_2005) -> None:
    """``--fit``: the world at the packaged fit's values, recorded in the summary and the
    manifest. Kazakhstan's gain from leaving Russia's union in 2005 is 0.104 at the
    defaults and 0.126 at the fit (docs/ODD.md, section 1.4)."""
    out = tmp_path / "l2005fit"
    fit = "post_soviet_1991_2010"
    landscape.main(["--year", "2005", "--fit", fit, "--out", str(out), "--starts", "500"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["fit"] == fit and summary["states_gaining_by_moving"] == 3
    assert summary["states_moving_despite_switching_cost"] == 0  # costs 0.88 and 1.06
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["fit"] == fit and manifest["seed"] == landscape.BASIN_SEED
    assert manifest["config"]["region"]["year"] == 2005 and manifest["git_revision"]
    assert sorted(manifest["files"]) == ["regret.csv", "regret.png", "stable.csv", "summary.json"]
    assert manifest["command"] == (
        f"alignment-sim-landscape --year 2005 --fit {fit} --out {out} --starts 500"
    )
    assert manifest["basin_starts"] == 500
    regret = pd.read_csv(out / "regret.csv").set_index("state")
    assert regret.loc["kazakhstan", "economy_regret"] == pytest.approx(0.1260, abs=1e-3)
    default = year_2005.regret_table().set_index("state").loc["kazakhstan", "economy_regret"]
    assert default == pytest.approx(0.1044, abs=1e-3)


def test_another_years_configuration_in_a_years_world(tmp_path: Path, capsys) -> None:
    """``--configuration-year 2005``: the record's 2005 configuration scored in the world of
    2010. Four states gain by moving alone: Georgia, then out of both blocs, by joining
    the West's economy (0.644), Kazakhstan by leaving Russia's union (0.328), Kyrgyzstan
    by turning its economy to China (1.141) and Ukraine, a NATO aspirant in 2005, by
    leaving the West's bloc (1.134), the last two more than the switching cost;
    Uzbekistan, outside Russia's alliance in 2005, gains nothing by joining it in 2010's
    world."""
    out = tmp_path / "from2005"
    landscape.main(["--year", "2010", "--configuration-year", "2005", "--out", str(out)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["year"], summary["configuration_year"]) == (2010, 2005)
    assert summary["states_gaining_by_moving"] == 4
    assert summary["states_moving_despite_switching_cost"] == 2
    regret = pd.read_csv(out / "regret.csv").set_index("state")
    assert regret.loc["uzbekistan", "recorded_profile"] == "none/open"  # its 2005 profile
    moves = {
        "georgia": ("west", 0.6438),
        "kazakhstan": ("open", 0.3282),
        "kyrgyzstan": ("china", 1.1415),
    }
    for state, (option, gain) in moves.items():
        assert regret.loc[state, "economy_best_move"] == option, state
        assert regret.loc[state, "economy_regret"] == pytest.approx(gain, abs=1e-3), state
    assert regret.loc["ukraine", "security_best_move"] == "none"
    assert regret.loc["ukraine", "security_regret"] == pytest.approx(1.1340, abs=1e-3)
    assert set(regret.index[regret["gains_by_moving"]]) == {*moves, "ukraine"}
    assert list(regret.index[regret["moves_despite_cost"]]) == ["ukraine", "kyrgyzstan"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "1980"], "--year 1980"),
        (["--year", "2015", "--static", "--configuration-year", "1980"], "--configuration-year"),
        (["--year", "2015", "--static", "--configuration-year", "2012"], "the record ends in 2010"),
        (["--year", "2010", "--configuration-year", "2012"], "--configuration-year 2012"),
        (["--year", "2005", "--static"], "static world"),
        (["--year", "2015", "--static", "--events"], "--events with --static"),
        (["--year", "2005", "--without", "Orange Revolution"], "--without needs --events"),
        (["--year", "2005", "--events", "--without", "Orange"], "--without 'Orange'"),
        (
            ["--year", "2005", "--events", "--without", "orange revolution"],
            "Closest: 'Orange Revolution'",
        ),
        (["--year", "2005", "--events", "--without", "Foo"], "conf/scenario/history.yaml"),
        (["--year", "2005", "--events", "--without", "Andijan"], "in force at the start of 2005"),
        (["--year", "2005", "--starts", "0"], "--starts 0"),
        (["--year", "2005", "--fit", "nonesuch"], "--fit 'nonesuch'"),
    ],
)
def test_bad_input_is_one_line(argv: list[str], message: str, capsys) -> None:
    """Refused before anything runs: exit 2, the value named in the last line on stderr
    (an argument after argparse's usage line, a bad fit alone)."""
    with pytest.raises(SystemExit) as exited:
        landscape.main(argv)
    assert exited.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("alignment-sim-landscape: ") and message in last


ODD_ROW = re.compile(
    r"^\| (\d{4})(?: \(static[^|]*)? \| (\d+) \| (\d+) of 11 \| (\d+)[^|]* \| ([\d.]+) \| (.*) \|$"
)
EVENTS_ROW = re.compile(
    r"^\| (\d{4}) with (\d+) events \| (\d+) \| (\d+) of 11 \| (\d+)[^|]* \| ([\d.]+) \| (.*) \|$"
)
GAIN = re.compile(r"([A-Z][a-z]+) (\d\.\d{3}), (security|economy) `(\w+)`")


def odd_rows(pattern: re.Pattern[str]) -> dict[int, re.Match[str]]:
    """docs/ODD.md's table rows ``pattern`` matches, by year."""
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    return {int(m[1]): m for m in map(pattern.match, odd.splitlines()) if m}


def assert_row_is(cells: tuple[str, ...], result: landscape.YearLandscape, year: int) -> None:
    """An ODD 1.4 row's last five cells (stable configurations, states gaining, of them
    beyond the switching cost, the largest regret, each gain and best move) are what the
    landscape ``result`` gives: every gain in either game named, none more."""
    stable, gaining, beyond, largest, named_gains = cells
    summary = result.summary()
    assert int(stable) == summary["stable_configurations"], year
    assert int(gaining) == summary["states_gaining_by_moving"], year
    assert int(beyond) == summary["states_moving_despite_switching_cost"], year
    assert float(largest) == pytest.approx(summary["max_regret"], abs=5e-4), year
    named = {
        (state.lower(), choice): (float(gain), move)
        for state, gain, choice, move in GAIN.findall(named_gains)
    }
    gains = {
        (state, choice): (line[f"{choice}_regret"], line[f"{choice}_best_move"])
        for state, line in result.regret_table().set_index("state").iterrows()
        for choice in ("security", "economy")
        if line[f"{choice}_regret"] > 0
    }
    assert sorted(named) == sorted(gains), year
    for key, (gain, move) in named.items():
        assert gain == pytest.approx(gains[key][0], abs=5e-4), (year, key)
        assert move == gains[key][1], (year, key)


def test_the_odd_landscape_table_is_the_commands(year_2000, year_2005) -> None:
    """docs/ODD.md 1.4's table of the recorded years (2000, 2005 and 2010 in the calendar
    world, 2015 static) is what the landscape gives today, column for column: the stable
    configurations, the states gaining by moving alone, those gaining more than the
    switching cost, the largest regret and each gainer's gain and best move; so the table
    cannot go stale as the model moves."""
    rows = odd_rows(ODD_ROW)
    assert sorted(rows) == [2000, 2005, 2010, 2015]
    built = {2000: year_2000, 2005: year_2005}  # the module's fixtures, not computed again
    for year, row in rows.items():
        result = built.get(year) or landscape.landscape(
            landscape.year_world(year, static=year == 2015), basin_starts=500
        )
        assert_row_is(row.groups()[1:], result, year)


def test_the_odd_table_with_events_in_force_is_the_commands() -> None:
    """docs/ODD.md 1.4's table of the recorded years with the history's events in force
    (``--events``; 2015 in the calendar world) is what the landscape gives today: the
    number of events in force, then the columns of the table without them (a state may
    gain in both games)."""
    rows = odd_rows(EVENTS_ROW)
    assert sorted(rows) == [2000, 2005, 2010, 2015]
    for year, row in rows.items():
        yw = landscape.year_world(year, events=True)
        assert int(row[2]) == len(yw.events_in_force), year
        assert_row_is(row.groups()[2:], landscape.landscape(yw, basin_starts=500), year)


def test_the_regret_figure_draws_each_cost_once_and_names_each_state(
    year_2005, monkeypatch
) -> None:
    """Equal costs in the two games are one dashed line (two would hide one another);
    unequal ones, as at the fit, are one a game; each bar's label is its state and its
    recorded profile."""
    (axes,) = landscape.regret_figure(year_2005).axes
    assert [line.get_label() for line in axes.get_lines()] == ["switching cost (both games)"]
    labels = [tick.get_text() for tick in axes.get_xticklabels()]
    assert labels[0] == "belarus (russia/russia)" and labels[1] == "ukraine (west/open)"
    monkeypatch.setattr(landscape.YearLandscape, "switching_costs", lambda self: (0.88, 1.06))
    (axes,) = landscape.regret_figure(year_2005).axes
    lines = {line.get_label(): line.get_ydata()[0] for line in axes.get_lines()}
    assert lines == {"security switching cost": 0.88, "economy switching cost": 1.06}


def test_a_bad_year_or_number_of_starts_is_named_in_python() -> None:
    """From Python as from the command: the value named before anything is built."""
    for year, said in (("2000", "year = '2000'"), (1980, "year = 1980: expected a calendar")):
        with pytest.raises(ConfigError, match=re.escape(said)):
            landscape.year_world(year)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=re.escape("one of (2000, 2010, 2015)")):
        landscape.year_world(2005, static=True)
    with pytest.raises(ConfigError, match="basin_starts = -1"):
        landscape.landscape(landscape.year_world(2000), basin_starts=-1)
