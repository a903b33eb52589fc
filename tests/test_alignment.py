"""Profiles (security, economy), their record labels, and their match with the record.

The default region's poles are russia (security), china (no security bloc) and west
(security): security options (russia, west, none), economic options (russia, china, west,
open), 12 profiles. Label rule (score_v1): a security bloc +2, the union of a pole with a
security bloc +2, China's economy +1; the top pole wins with at least 2 points and a lead
of at least 1, else hedge.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from alignment_sim import build_world
from alignment_sim.errors import ConfigError
from alignment_sim.model.alignment import OptionSpace, membership_profile
from alignment_sim.model.calendar import starting_profile
from alignment_sim.model.world import World
from alignment_sim.presets import load_region

DATA = Path(__file__).parents[1] / "src/alignment_sim/data"
DEFAULT = OptionSpace(poles=("russia", "china", "west"), security=(True, False, True))
TINY = OptionSpace(poles=("p", "q"), security=(True, False))
LABELS_BY_HAND = {
    "russia/russia": "russia",  # russia 4
    "russia/china": "russia",  # russia 2, china 1
    "russia/west": "hedge",  # 2 each
    "russia/open": "russia",
    "west/russia": "hedge",
    "west/china": "west",  # west 2, china 1
    "west/west": "west",
    "west/open": "west",
    "none/russia": "russia",  # the union alone is 2 points
    "none/china": "hedge",  # china 1: below 2
    "none/west": "west",
    "none/open": "hedge",
}
RECORD_EXCEPTIONS = {
    # state-year: (memberships' profile, record label); the calendar starts these at the
    # label's security option with the memberships' economy (calendar.starting_profile)
    ("Russia", 1991): ("none/open", "russia"),  # no organisation yet in December 1991
    ("Moldova", 1991): ("west/open", "hedge"),  # outside the CIS until its ratification
    ("Azerbaijan", 1991): ("west/open", "hedge"),
    ("Azerbaijan", 1992): ("west/open", "hedge"),
    ("Georgia", 2006): ("none/open", "west"),  # NATO aspirant and GUAM, Russian bases
}


def record_rows() -> list[dict[str, str]]:
    """The packaged alignment record, read without the package's code."""
    with (DATA / "alignment_by_year_1991_2010.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_profiles_and_their_order() -> None:
    assert DEFAULT.security_options == ("russia", "west", "none")
    assert DEFAULT.economic_options == ("russia", "china", "west", "open")
    assert DEFAULT.profiles == tuple(LABELS_BY_HAND)
    assert list(DEFAULT.security_poles) == [0, 2]
    np.testing.assert_array_equal(DEFAULT.profile_security, np.repeat([0, 1, 2], 4))
    np.testing.assert_array_equal(DEFAULT.profile_economy, np.tile([0, 1, 2, 3], 3))
    for k, name in enumerate(DEFAULT.profiles):
        security, economy = name.split("/")
        s, e = DEFAULT.profile_security[k], DEFAULT.profile_economy[k]
        assert (DEFAULT.security_options[s], DEFAULT.economic_options[e]) == (security, economy)
        assert DEFAULT.profile_index(s, e) == k
    assert TINY.profiles == ("p/p", "p/q", "p/open", "none/p", "none/q", "none/open")


def test_profile_labels_by_the_score_rule() -> None:
    assert DEFAULT.labels == ("russia", "china", "west", "hedge")
    assert dict(zip(DEFAULT.profiles, DEFAULT.profile_labels, strict=True)) == LABELS_BY_HAND
    assert DEFAULT.profile_scores(DEFAULT.profiles.index("russia/china")) == {
        "russia": 2.0,
        "china": 1.0,
        "west": 0.0,
    }
    assert DEFAULT.profile_scores(DEFAULT.profiles.index("west/west")) == {
        "russia": 0.0,
        "china": 0.0,
        "west": 4.0,
    }
    codes = [DEFAULT.labels[c] for c in DEFAULT.label_codes]
    assert codes == list(DEFAULT.profile_labels)
    assert TINY.profile_labels == ("p", "p", "p", "p", "hedge", "hedge")


def test_no_profile_is_labelled_by_a_pole_without_security() -> None:
    assert "china" not in DEFAULT.profile_labels
    assert "q" not in TINY.profile_labels


def test_default_profile_of_each_label() -> None:
    named = {label: DEFAULT.profiles[DEFAULT.default_profile(label)] for label in DEFAULT.labels}
    assert named == {
        "russia": "russia/russia",
        "china": "none/china",
        "west": "west/west",
        "hedge": "none/open",
    }
    assert TINY.profiles[TINY.default_profile("q")] == "none/q"


def test_resolve_a_profile_or_a_label() -> None:
    assert DEFAULT.resolve("key", "russia/open") == 3
    assert DEFAULT.resolve("key", "russia") == 0
    assert DEFAULT.resolve("key", "hedge") == 11
    assert DEFAULT.resolve("key", "none/china") == 9
    with pytest.raises(ConfigError, match=r"No profile is labelled 'china'"):
        DEFAULT.resolve("key", "china")  # a label no profile carries
    with pytest.raises(ConfigError, match=r"^region\.states\[2\]\.initial\.2015 = 'moscow': "):
        DEFAULT.resolve("region.states[2].initial.2015", "moscow")
    with pytest.raises(ConfigError, match=r"a profile \(russia/russia, .*none/open\) or a label"):
        DEFAULT.resolve("key", "china/china")  # china offers no security bloc


@pytest.mark.parametrize(
    ("state", "year", "profile"),
    [
        ("Lithuania", 1997, ("west", "open")),  # outside the CIS; EU association signed only
        ("Lithuania", 1998, ("west", "west")),  # the association in force
        ("Georgia", 1994, ("russia", "open")),  # CST member
        ("Georgia", 2006, ("none", "open")),  # aspirant + GUAM - Russian bases = 1 point
        ("Georgia", 2007, ("west", "open")),  # the bases have gone
        ("Belarus", 2010, ("russia", "russia")),
    ],
)
def test_membership_profile_by_hand(state: str, year: int, profile: tuple[str, str]) -> None:
    assert membership_profile(state, year) == profile


def test_membership_profiles_carry_the_record_labels() -> None:
    rows = record_rows()
    assert len(rows) == 300 and {int(r["year"]) for r in rows} == set(range(1991, 2011))
    differ = {}
    for row in rows:
        state, year = row["state"], int(row["year"])
        profile = "/".join(membership_profile(state, year))
        label = DEFAULT.profile_labels[DEFAULT.profiles.index(profile)]
        if label != row["primary_alignment"]:
            differ[state, year] = (profile, row["primary_alignment"])
    assert len(rows) - len(differ) >= 295
    assert differ == RECORD_EXCEPTIONS
    # as calendar.starting_alignment's docstring says: all in 1991-92, or Georgia 2006
    assert all(year <= 1992 or (state, year) == ("Georgia", 2006) for state, year in differ)


@pytest.mark.parametrize(
    ("state", "year", "label", "profile"),
    [
        ("Georgia", 2006, "west", "west/open"),  # the label's bloc, the memberships' economy
        ("Azerbaijan", 1992, "hedge", "none/open"),
        ("Moldova", 1991, "hedge", "none/open"),
        ("Georgia", 2007, "west", "west/open"),  # the memberships carry the label
        ("Belarus", 2000, "russia", "russia/russia"),
    ],
)
def test_a_recorded_label_starts_from_the_nearest_profile_that_carries_it(
    state: str, year: int, label: str, profile: str
) -> None:
    """Where the memberships do not carry the record's label, the start is the label's
    security option with the memberships' economy: Georgia 2006 (a NATO aspirant still
    hosting Russian bases) is ``west/open``, not ``west/west`` (an EU union nobody held)."""
    index = starting_profile(DEFAULT, "initial", label, state, year)
    assert DEFAULT.profiles[index] == profile


@pytest.fixture(scope="module")
def calendar_worlds() -> dict[int, World]:
    worlds = {}
    for year in range(1992, 2011):
        region = load_region("post_soviet")
        region.calendar, region.year = True, year
        worlds[year] = build_world(region)
    return worlds


def test_calendar_worlds_start_with_the_record_labels(calendar_worlds: dict[int, World]) -> None:
    record = {(r["state"], int(r["year"])): r["primary_alignment"] for r in record_rows()}
    region = load_region("post_soviet")
    for year, world in calendar_worlds.items():
        got = [world.space.profile_labels[k] for k in world.initial_alignment]
        expected = [record[spec.attribute_state, year] for spec in region.states]
        assert got == expected, year


def test_calendar_worlds_start_from_the_memberships(calendar_worlds: dict[int, World]) -> None:
    """Where the region file gives no start and the memberships carry the record's label,
    a state starts in its memberships' profile (Azerbaijan 1992: the record's hedge)."""
    region = load_region("post_soviet")
    for year, world in calendar_worlds.items():
        for i, spec in enumerate(region.states):
            if str(year) in spec.initial or (spec.attribute_state, year) in RECORD_EXCEPTIONS:
                continue
            held = "/".join(membership_profile(spec.attribute_state, year))
            assert world.options[world.initial_alignment[i]] == held, (spec.name, year)
    azerbaijan = region.state_names.index("azerbaijan")
    assert calendar_worlds[1992].options[calendar_worlds[1992].initial_alignment[azerbaijan]] == (
        "none/open"
    )
