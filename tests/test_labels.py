"""Yearly labels: the end-of-year rule, and labels.parquet of single runs and study jobs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from alignment_sim import AlignmentModel, default_config
from alignment_sim.engine.batch import run_batch
from alignment_sim.model.alignment import Labelling, OptionSpace
from alignment_sim.model.inputs import RunInputs
from alignment_sim.outputs.files import job_status, write_imputed, write_run
from alignment_sim.paths import with_values
from alignment_sim.studies.outcomes import (
    label_table,
    year_end_ticks,
    yearly_labels,
    yearly_options,
)
from alignment_sim.studies.replications import write_study_job


def test_a_years_label_is_read_after_the_last_tick_that_starts_in_it() -> None:
    # quarterly: ticks 1-4 are the quarters of 2000; tick 4 ends on 31 December
    years, ticks = year_end_ticks(2000, 3, 44)
    assert list(years) == list(range(2000, 2011))
    assert list(ticks) == [4 + 4 * k for k in range(11)]
    years, ticks = year_end_ticks(2000, 3, 43)  # tick 44 (the end of 2010) is not in the run
    assert years[-1] == 2009 and ticks[-1] == 40
    assert list(year_end_ticks(2000, 12, 3)[1]) == [1, 2, 3]  # yearly: tick t is year t - 1
    # 5-month ticks start at months 0, 5, 10 | 15, 20 | 25, 30, 35 | ...: tick t starts
    # at month 5 (t - 1), so 2000's last is tick 3, 2001's tick 5, 2004's tick 12 (months 55-60)
    assert list(year_end_ticks(2000, 5, 13)[1]) == [3, 5, 8, 10, 12]
    assert len(year_end_ticks(2000, 3, 3)[0]) == 0  # not even the first year is covered


# The default region's poles: russia and west offer security, china does not. Profile
# k = security * 4 + economy: 0 russia/russia, 9 none/china, 11 none/open.
SPACE = OptionSpace(("russia", "china", "west"), (True, False, True))


def test_yearly_labels_are_the_record_labels_of_end_of_year_profiles() -> None:
    # one run, 8 quarterly ticks from 2000, two states, all in russia/russia at the start
    alignment = np.zeros((1, 9, 2), dtype=np.int8)
    alignment[0, 5:, 0] = 11  # state 0 moves to none/open at tick 5: the first quarter of 2001
    alignment[0, 1:3, 1] = 9  # state 1 leaves at tick 1, is back at tick 3: unseen at year end
    years, profiles = yearly_options(alignment, 2000, 3)
    assert list(years) == [2000, 2001]
    np.testing.assert_array_equal(profiles[0], [[0, 0], [11, 0]])
    plain = Labelling.without_held(SPACE, 2)
    years, labels = yearly_labels(alignment, plain, 2000, 3)
    assert SPACE.labels == ("russia", "china", "west", "hedge")
    np.testing.assert_array_equal(labels[0], [[0, 0], [3, 0]])  # none/open is hedge
    # state 0 holds 2 Western points (outside the CIS, say): none/open is then west
    held = Labelling.of(SPACE, np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(yearly_labels(alignment, held, 2000, 3)[1][0], [[0, 0], [2, 0]])
    table = label_table(alignment, np.array([7]), 2000, 3, plain, ["Ab", "Cd"])
    assert table.to_dict("list") == {
        "seed": [7, 7, 7, 7],
        "state": ["Ab", "Ab", "Cd", "Cd"],
        "year": [2000, 2001, 2000, 2001],
        "label": ["russia", "hedge", "russia", "russia"],
        "profile": ["russia/russia", "none/open", "russia/russia", "russia/russia"],
    }


def test_every_profile_of_the_record_vocabulary_gets_its_label_by_score_v1() -> None:
    # security with a pole: 2 points; economy with a security pole: 2; with China: 1;
    # a label needs 2 points and a lead of 1 (model.alignment)
    alignment = np.arange(12, dtype=np.int8).reshape(1, 1, 12).repeat(5, axis=1)
    plain = Labelling.without_held(SPACE, 12)
    table = label_table(alignment, np.array([0]), 2000, 3, plain, [f"s{k}" for k in range(12)])
    by_profile = dict(zip(table.profile, table.label, strict=True))
    assert by_profile == {
        "russia/russia": "russia",
        "russia/china": "russia",
        "russia/west": "hedge",
        "russia/open": "russia",
        "west/russia": "hedge",
        "west/china": "west",
        "west/west": "west",
        "west/open": "west",
        "none/russia": "russia",
        "none/china": "hedge",
        "none/west": "west",
        "none/open": "hedge",
    }


def test_study_job_labels_match_its_tick_table(tmp_path: Path) -> None:
    config = with_values(default_config(ticks=9, replications=6, seed=3), {"region.year": 2000})
    result = run_batch(RunInputs.from_config(config), range(3, 9))
    folder = write_study_job(result, config, tmp_path / "job", {})
    labels = pd.read_parquet(folder / "labels.parquet")
    ticks = pd.read_parquet(folder / "ticks.parquet")
    states = config.region.states
    assert len(labels) == 6 * len(states) * 2  # 9 ticks cover 2000 (tick 4) and 2001 (tick 8)
    assert set(labels.state) == {s.attribute_state for s in states}
    space = result.inputs.world.space
    for spec in states:
        for year, last_tick in ((2000, 4), (2001, 8)):
            mine = labels[(labels.state == spec.attribute_state) & (labels.year == year)]
            at_tick = ticks[ticks.tick == last_tick]
            assert list(mine.seed) == list(at_tick.seed)
            assert list(mine.profile) == list(at_tick[spec.name].astype(str))
            held = [space.profile_labels[space.profiles.index(p)] for p in mine.profile]
            assert list(mine.label) == held
    listed = json.loads((folder / "manifest.json").read_text())["files"]
    assert "labels.parquet" in listed and "imputed.parquet" not in listed  # a static world
    (folder / "labels.parquet").write_bytes(b"")
    assert job_status(folder).reason.startswith("labels.parquet has 0 bytes")


def test_single_run_writes_the_labels_of_its_trajectory(tmp_path: Path) -> None:
    config = with_values(default_config(ticks=8, seed=5), {"region.year": 2000})
    trajectory = AlignmentModel(config).run()
    folder = write_run(trajectory, config, tmp_path / "run", plots=False)
    labels = pd.read_parquet(folder / "labels.parquet")
    assert list(labels.columns) == ["seed", "state", "year", "label", "profile"]
    belarus = labels[labels.state == "Belarus"]
    world, index = trajectory.world, trajectory.world.states.index("belarus")
    held = [int(trajectory.alignment[0, t, index]) for t in (4, 8)]  # the ends of 2000, 2001
    assert list(belarus.year) == [2000, 2001]
    assert list(belarus.profile) == [world.options[k] for k in held]
    assert list(belarus.label) == [world.space.profile_labels[k] for k in held]
    assert set(labels.label) <= set(world.labels)
    assert (labels.seed == 5).all()
    assert job_status(folder).complete


def test_imputed_values_are_written_only_when_there_are_some(tmp_path: Path) -> None:
    imputed = pd.DataFrame(
        {
            "year": [2001],
            "state": ["Belarus"],
            "field": ["gdp_current_usd"],
            "value": [1.5e10],
            "rule": ["interpolated"],
        }
    )
    assert write_imputed(tmp_path, SimpleNamespace(imputed=imputed), {"seed": 0}) == [
        "imputed.parquet"
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "imputed.parquet"), imputed)
    other = tmp_path / "static"
    other.mkdir()
    assert write_imputed(other, SimpleNamespace(imputed=imputed.iloc[:0]), {}) == []
    assert write_imputed(other, SimpleNamespace(), {}) == []
    assert not list(other.iterdir())


@pytest.mark.parametrize("tick_months", [0, -3])
def test_year_end_ticks_refuses_a_tick_of_no_months(tick_months: int) -> None:
    with pytest.raises(ValueError, match="tick_months must be at least 1"):
        year_end_ticks(2000, tick_months, 8)
