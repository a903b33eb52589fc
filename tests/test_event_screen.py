"""The record's word on each change the history's events make: ``experiments/event_screen.py``
takes each change out alone and scores the 1991-2010 record; the table docs/MODEL.md shows
("What the record says about each event's changes") is what it measures today, and its
rows are the changes the event library gives the kinds the history uses."""

from __future__ import annotations

import pytest
from helpers import ROOT, load_script

from alignment_sim import default_config
from alignment_sim.estimation.jobs import load_histories
from alignment_sim.estimation.likelihood import ConditionalLikelihood
from alignment_sim.model.events import event_library
from alignment_sim.presets import load_scenario

SCRIPT = ROOT / "experiments" / "event_screen.py"
ENTRY = "**What the record says about each event's changes**"


@pytest.fixture(scope="module")
def screen():
    return load_script(SCRIPT)


@pytest.fixture(scope="module")
def measured(screen):
    return screen.screen()


def documented_table() -> dict[str, list[float]]:
    """The rows of the screen's table in docs/MODEL.md: case -> its four numbers."""
    text = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")
    entry = text[text.index(ENTRY) :]
    entry = entry[: entry.index("\n- **")]
    rows = {}
    for line in entry.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.strip().startswith("| ") or len(cells) != 5:
            continue
        try:
            rows[cells[0]] = [float(c) for c in cells[1:]]
        except ValueError:
            continue  # the header
    return rows


def test_the_first_row_is_the_record_under_the_model_as_built(measured, screen) -> None:
    config = default_config(scenario="history")
    likelihood = ConditionalLikelihood.build(config, load_histories(config))
    built = measured.loc[screen.AS_BUILT]
    assert built["labels"] == pytest.approx(float(likelihood.log_likelihood({})[0]), abs=1e-9)
    profiles = float(likelihood.profile_log_likelihood({})[0])
    assert built["profiles"] == pytest.approx(profiles, abs=1e-9)
    assert built["labels_change"] == 0.0 and built["profiles_change"] == 0.0


def test_there_is_a_row_for_every_change_of_every_kind_the_history_uses(measured) -> None:
    library = event_library()
    kinds = {event.kind for event in load_scenario("history").events}
    assert len(measured) == 1 + sum(len(library[kind]["changes"]) for kind in kinds)
    assert measured.index.is_unique


def test_a_change_the_record_cannot_see_scores_the_same(measured) -> None:
    """The West's sanctions after Andijan raise its conditions on Uzbekistan from 0.8 to 1
    (November 2005 to November 2009), while the recorded path holds Uzbekistan in Russia's
    blocs, far from the West's options: taking the change out moves the record's score by
    less than 0.001."""
    row = measured.loc["without western_sanctions: west conditionality set 1"]
    assert abs(row["labels_change"]) < 1e-3 and abs(row["profiles_change"]) < 1e-3


def test_the_documented_table_is_what_the_script_measures(measured) -> None:
    documented = documented_table()
    assert sorted(documented) == sorted(measured.index)
    for case, row in measured.round(2).iterrows():
        assert list(row) == pytest.approx(documented[str(case)], abs=0.0051), case
