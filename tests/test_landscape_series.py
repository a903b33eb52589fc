"""alignment-sim-landscape --year A --through B: the landscape year by year against the
moves the record shows afterwards (to 2010), checked against the record file by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

from alignment_sim.studies import landscape, landscape_series


@pytest.fixture(scope="module")
def around_2005() -> landscape_series.LandscapeSeries:
    return landscape_series.series(2004, 2006, events=True, basin_starts=200)


def test_a_gain_is_matched_to_the_year_the_record_makes_the_move() -> None:
    """In the world of 1995 Azerbaijan and Uzbekistan, in the Collective Security Treaty
    (the record's `russia` security), gain by leaving it; the record has both outside it
    from 1999 (they did not renew it in April 1999), and no one else gains."""
    result = landscape.landscape(landscape.year_world(1995), basin_starts=200)
    table = result.regret_table().set_index("state")
    gainers = table[table["gains_by_moving"]]
    assert sorted(gainers.index) == ["azerbaijan", "uzbekistan"]
    assert (gainers["security_best_move"] == "none").all()
    assert (gainers["security_move_recorded_in"] == 1999).all()
    assert gainers["economy_move_recorded_in"].isna().all()
    assert table.loc[~table["gains_by_moving"], "security_move_recorded_in"].isna().all()
    assert result.summary()["gainers_making_the_move_in_the_record"] == 2


def test_the_record_after_2010_is_never_read() -> None:
    """From the 2010 configuration no later record year exists in the package: no gainer
    is matched to a later move, whatever it gains."""
    result = landscape.landscape(landscape.year_world(2010), basin_starts=200)
    security, economy = result.moves_recorded_later()
    assert result.summary()["states_gaining_by_moving"] == 4
    assert not security.any() and not economy.any()


def test_the_series_sets_each_years_gains_beside_the_records_next_moves(around_2005) -> None:
    """2004-2006 with the history's events in force. The record's moves from 2005 to 2006
    (data/alignment_by_year_1991_2010.csv): Georgia into the West's bloc (a NATO aspirant),
    Uzbekistan into the CSTO and EurAsEC; each was the state's best move in 2005's world.
    From 2004 to 2005 Ukraine became a NATO aspirant, which 2004's world does not give it;
    nobody gains in 2004 or 2006. Of the 2005 gainers Ukraine's move (out of the West's
    bloc) is recorded in 2010 and Azerbaijan's (into Russia's alliance) never."""
    rows = {row["year"]: row for row in around_2005.year_rows()}
    assert [rows[y]["states_gaining_by_moving"] for y in (2004, 2005, 2006)] == [0, 4, 0]
    assert [rows[y]["record_moves_next_year"] for y in (2004, 2005, 2006)] == [1, 3, 0]
    assert rows[2005]["record_moves_next_year_on_the_best_move"] == 3
    assert rows[2004]["record_moves_next_year_on_the_best_move"] == 0
    table = around_2005.table()
    gains = table[(table["year"] == 2005) & table["gains_by_moving"]].set_index("state")
    later = gains["security_move_recorded_in"]
    assert later.drop("azerbaijan").to_dict() == {
        "ukraine": 2010,
        "georgia": 2006,
        "uzbekistan": 2006,
    }
    assert pd.isna(later["azerbaijan"])
    assert gains.loc["uzbekistan", "economy_move_recorded_in"] == 2006
    summary = around_2005.summary()
    assert summary["gaining_state_years"] == 4 and summary["gainers_making_the_move"] == 3
    assert summary["share_of_gainers_making_the_move"] == pytest.approx(0.75)
    # the other 29 state-years of 2004-2006: who moves at all, by 2010
    others = table[~table["gains_by_moving"]]
    assert summary["share_of_others_moving_later"] == pytest.approx(others["moves_later"].mean())
    assert summary["state_years_scored"] == 33


def test_the_command_writes_the_series(tmp_path: Path, capsys) -> None:
    out = tmp_path / "series"
    argv = ["--year", "2008", "--through", "2010", "--events", "--starts", "200"]
    landscape.main([*argv, "--out", str(out)])
    printed = capsys.readouterr()
    summary = json.loads(printed.out.strip().splitlines()[-1])
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["years"] == [2008, 2010] and summary["events"] is True
    assert "landscape of 2009 ..." in printed.err
    table = pd.read_csv(out / "series.csv")
    assert sorted(set(table["year"])) == [2008, 2009, 2010] and len(table) == 33
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["series.csv", "series.png", "summary.json"]
    assert manifest["years"] == [2008, 2009, 2010]
    assert manifest["command"] == " ".join(["alignment-sim-landscape", *argv, "--out", str(out)])
    assert manifest["basin_starts"] == 200
    assert manifest["config"]["scenario"]["name"] == landscape.EVENTS_SCENARIO
    # 2010 has no later record: its state-years are shown, not scored
    assert summary["state_years_scored"] == 22


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "2005", "--through", "2025"], "--through 2025"),
        (["--year", "2005", "--through", "2004"], "--through 2004"),
        (["--year", "2010", "--through", "2010", "--static"], "--through takes"),
        (
            ["--year", "2006", "--through", "2008", "--configuration-year", "2005"],
            "--through takes",
        ),
    ],
)
def test_bad_series_input_is_one_line(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        landscape.main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


ODD_ROW = re.compile(
    r"^\| (defaults|the fit), (no events|events in force) \| (\d+) \| (\d+) \| ([\d.]+) \| "
    r"([\d.]+) \| (\d+) of (\d+) \|$"
)


@pytest.mark.slow
def test_the_odd_series_table_is_the_commands() -> None:
    """docs/ODD.md 1.4's table of the landscape year by year, 1993-2010, at the defaults
    and the packaged fit, without and with the history's events: what the command gives."""
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    rows = [m for m in map(ODD_ROW.match, odd.splitlines()) if m]
    assert len(rows) == 4
    for row in rows:
        fit = None if row[1] == "defaults" else "post_soviet_1991_2010"
        result = landscape_series.series(
            1993, 2010, fit=fit, events=row[2] == "events in force", basin_starts=50
        )
        summary = result.summary()
        assert int(row[3]) == summary["gaining_state_years"], row[0]
        assert int(row[4]) == summary["gainers_making_the_move"], row[0]
        assert float(row[5]) == pytest.approx(summary["share_of_gainers_making_the_move"], abs=5e-3)
        assert float(row[6]) == pytest.approx(summary["share_of_others_moving_later"], abs=5e-3)
        assert int(row[7]) == summary["record_moves_next_year_on_the_best_move"], row[0]
        assert int(row[8]) == summary["record_moves_next_year"], row[0]


def test_the_union_opens_in_2000_and_its_first_members_gain_by_joining_it() -> None:
    """Belarus, Kazakhstan, Kyrgyzstan and Tajikistan joined EurAsEC in 2000 (the record's
    first Russian union): in 1999's world the union is not yet open (``founding``), so
    nobody gains by joining it; 2000's world, scored from 1999's configuration, gives all
    four that move, and the record shows it in 2000 (docs/ODD.md, 1.4)."""
    members = ["belarus", "kazakhstan", "kyrgyzstan", "tajikistan"]
    before = landscape.landscape(landscape.year_world(1999), basin_starts=200)
    table = before.regret_table().set_index("state")
    assert not (table["economy_best_move"] == "russia").any()
    opened = landscape.landscape(
        landscape.year_world(2000, configuration_year=1999), basin_starts=200
    )
    table = opened.regret_table().set_index("state")
    gainers = table[table["gains_by_moving"]]
    assert sorted(gainers.index) == members
    assert (gainers["economy_best_move"] == "russia").all()
    assert (gainers["economy_move_recorded_in"] == 2000).all()


def test_after_the_record_the_series_scores_its_last_configuration() -> None:
    """A year after 2010 (which the region file gives no start) scores the record's 2010
    configuration in its own world, and the record's columns are empty: the package holds
    no record after 2010, and the summary counts only 1993-2009's state-years."""
    result = landscape_series.series(2009, 2011, events=True, basin_starts=50)
    rows = result.year_rows()
    assert [row["configuration_year"] for row in rows] == [2009, 2010, 2010]
    for row in rows[1:]:
        assert row["gainers_making_the_move_in_the_record"] is None
        assert row["record_moves_next_year"] is None
    assert rows[0]["record_moves_next_year"] == 1  # Ukraine out of the West's bloc in 2010
    assert result.summary()["state_years_scored"] == 11
    last = result.scores[2].result.year_world
    np.testing.assert_array_equal(last.recorded, landscape.year_world(2010).recorded)
    assert not result.table().query("year > 2009")["moves_later"].any()
    legend = result.figure().axes[0].get_legend()
    assert "the record ends: its 2010 configuration after it" in [
        text.get_text() for text in legend.get_texts()
    ]


def test_a_series_without_an_event_says_so(tmp_path: Path, capsys) -> None:
    """``--without`` in a series: the summary and the title name the event left out in
    the years it is in force; a label in force in none of the years is refused, and
    nothing is written."""
    result = landscape_series.series(
        2004, 2005, events=True, without=["Orange Revolution"], basin_starts=50
    )
    assert [s.result.year_world.events_left_out for s in result.scores] == [
        (),
        ("Orange Revolution",),
    ]
    assert result.summary()["events_left_out"] == ["Orange Revolution"]
    title = result.figure().get_suptitle()
    assert title.startswith("2004-2005: ") and "without Orange Revolution" in title
    out = tmp_path / "never"
    argv = ["--year", "2000", "--through", "2001", "--events", "--without", "Orange Revolution"]
    with pytest.raises(SystemExit) as exited:
        landscape.main([*argv, "--out", str(out), "--starts", "50"])
    assert exited.value.code == 2
    assert "in force in some year 2000-2001" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not out.exists()
