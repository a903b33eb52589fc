"""Profiles (security, economy), their record labels, and their match with the record.

The default region's poles are russia (security), china (no security bloc) and west
(security): security options (russia, west, none), economic options (russia, china, west,
open), 12 profiles. Label rule (score_v1): Russia's bloc (the CSTO) +2, the West's (NATO
aspiration) +1, Russia's or the West's union +2, China's economy 0 (the region file's
points), plus the memberships the record holds for the state (bases, GUAM, the CIS,
observer seats, the SCO); the top pole wins with at least 2 points and a lead of at
least 1, else hedge.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from helpers import DATA_DIR

from alignment_sim import build_world
from alignment_sim.errors import ConfigError
from alignment_sim.model.alignment import (
    Labelling,
    OptionSpace,
    held_points,
    held_scores,
    membership_profile,
)
from alignment_sim.model.calendar import starting_profile
from alignment_sim.model.world import World
from alignment_sim.presets import load_region

DATA = DATA_DIR
DEFAULT = load_region("post_soviet").option_space
GENERIC = OptionSpace(poles=("russia", "china", "west"), security=(True, False, True))
TINY = OptionSpace(poles=("p", "q"), security=(True, False))
LABELS_BY_HAND = {
    "russia/russia": "russia",  # russia 4
    "russia/china": "russia",  # russia 2, china 0
    "russia/west": "hedge",  # 2 each
    "russia/open": "russia",
    "west/russia": "russia",  # russia 2, west 1
    "west/china": "hedge",  # west 1: below 2
    "west/west": "west",  # west 3
    "west/open": "hedge",  # a NATO aspirant alone scores 1
    "none/russia": "russia",  # the union alone is 2 points
    "none/china": "hedge",
    "none/west": "west",
    "none/open": "hedge",
}
GENERIC_LABELS = {
    **LABELS_BY_HAND,  # score_v1's usual points: every bloc 2, China's economy 1
    "russia/china": "russia",  # russia 2, china 1
    "west/russia": "hedge",  # 2 each
    "west/china": "west",  # west 2, china 1
    "west/open": "west",
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
    assert dict(zip(GENERIC.profiles, GENERIC.profile_labels, strict=True)) == GENERIC_LABELS
    k = DEFAULT.profiles.index
    np.testing.assert_array_equal(DEFAULT.profile_points[k("russia/china")], [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(DEFAULT.profile_points[k("west/west")], [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(GENERIC.profile_points[k("west/china")], [0.0, 1.0, 2.0])
    codes = [DEFAULT.labels[c] for c in DEFAULT.label_codes]
    assert codes == list(DEFAULT.profile_labels)
    assert TINY.profile_labels == ("p", "p", "p", "p", "hedge", "hedge")


@pytest.mark.parametrize(
    ("state", "year", "scores"),
    [
        ("Uzbekistan", 2001, {"russia": 0.0, "west": 2.0, "china": 1.0}),  # GUUAM, the bases
        ("Uzbekistan", 2006, {"russia": 0.0, "west": 1.0, "china": 1.0}),  # Termez stays
        ("Ukraine", 2005, {"russia": 1.5, "west": 1.0, "china": 0.0}),  # BSF, observer; GUAM
        ("Georgia", 1992, {"russia": 0.0, "west": 2.0, "china": 0.0}),  # outside the CIS
        ("Georgia", 2009, {"russia": 0.0, "west": 3.0, "china": 0.0}),  # out again; GUAM
        ("Kyrgyzstan", 2004, {"russia": 1.0, "west": 1.0, "china": 1.0}),  # Kant, Manas, SCO
        ("Moldova", 2005, {"russia": 0.5, "west": 1.0, "china": 0.0}),  # no base: unconsented
        ("Lithuania", 1997, {"russia": 0.0, "west": 4.0, "china": 0.0}),  # + EU applicant, signed
        ("Kyrgyzstan", 2015, {"russia": 1.0, "west": 1.0, "china": 1.0}),  # 2010's, held
        ("Narnia", 2000, {"russia": 0.0, "west": 0.0, "china": 0.0}),  # not in the record
        (None, 2000, {"russia": 0.0, "west": 0.0, "china": 0.0}),
    ],
)
def test_held_scores_by_hand(state: str | None, year: int, scores: dict[str, float]) -> None:
    assert held_scores(state, year) == scores


def test_a_chooser_labels_its_profile_with_the_memberships_the_record_holds() -> None:
    poles, k = DEFAULT.poles, DEFAULT.profiles.index
    states = ["Uzbekistan", "Ukraine", "Georgia", "Kazakhstan", "Narnia"]
    labelling = Labelling.of(DEFAULT, held_points(states, 2001, poles))
    np.testing.assert_array_equal(held_points(["Kyrgyzstan"], 2004, ("p", "west")), [[0.0, 1.0]])
    assert labelling.label(0, k("none/open")) == "west"  # GUUAM and the US base: 2 to china 1
    assert labelling.label(1, k("west/open")) == "west"  # 1 + GUAM 1 against the BSF's 1
    assert labelling.label(2, k("none/open")) == "hedge"  # GUAM 1, Russian bases 1
    assert labelling.label(2, k("west/open")) == "west"
    assert labelling.label(3, k("none/china")) == "hedge"  # the SCO's 1
    assert labelling.label(4, k("west/open")) == "hedge"  # no held membership
    later = Labelling.of(DEFAULT, held_points(states, 2005, poles))
    assert later.label(1, k("west/open")) == "hedge"  # the observer seat: 2 against 1.5
    alignment = np.array([[[k("none/open")] * 5, [k("russia/russia")] * 5]])
    np.testing.assert_array_equal(
        labelling.of_profiles(alignment), [[[2, 3, 3, 3, 3], [0, 0, 0, 0, 0]]]
    )
    with pytest.raises(ValueError, match="the last axis must be 5"):
        labelling.of_profiles(np.zeros((2, 4), dtype=np.int64))
    plain = Labelling.without_held(DEFAULT, 2)
    assert [plain.label(0, j) for j in range(12)] == list(DEFAULT.profile_labels)


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
        ("Lithuania", 1997, ("none", "open")),  # outside the CIS (held); association signed
        ("Lithuania", 1998, ("none", "west")),  # the association in force
        ("Lithuania", 2004, ("west", "west")),  # NATO and the EU
        ("Georgia", 1994, ("russia", "open")),  # CST member
        ("Georgia", 2006, ("west", "open")),  # a NATO aspirant
        ("Ukraine", 2005, ("west", "open")),
        ("Uzbekistan", 2001, ("none", "open")),  # its bases and GUUAM are held
        ("Belarus", 2010, ("russia", "russia")),
    ],
)
def test_membership_profile_by_hand(state: str, year: int, profile: tuple[str, str]) -> None:
    assert membership_profile(state, year) == profile


def test_membership_profiles_carry_the_record_labels() -> None:
    """With the memberships the record holds, the profile a state's memberships stand for
    carries the record's label in every state-year (Russia, a pole, is ``russia``
    throughout by the record's rule, whatever its memberships)."""
    rows = record_rows()
    assert len(rows) == 300 and {int(r["year"]) for r in rows} == set(range(1991, 2011))
    differ = {}
    for row in rows:
        state, year = row["state"], int(row["year"])
        profile = DEFAULT.profiles.index("/".join(membership_profile(state, year)))
        label = Labelling.of(DEFAULT, held_points([state], year, DEFAULT.poles)).label(0, profile)
        if label != row["primary_alignment"]:
            differ[state, year] = (DEFAULT.profiles[profile], row["primary_alignment"])
    assert differ == {("Russia", 1991): ("none/open", "russia")}


@pytest.mark.parametrize(
    ("state", "year", "label", "profile"),
    [
        ("Georgia", 2006, "west", "west/open"),  # the memberships carry the label
        ("Uzbekistan", 2001, "west", "none/open"),  # through the held bases and GUUAM
        ("Azerbaijan", 1992, "hedge", "none/open"),
        ("Belarus", 2000, "russia", "russia/russia"),
        ("Belarus", 2000, "west", "west/west"),  # not carried: the label's default profile
    ],
)
def test_a_recorded_label_starts_from_the_profile_that_carries_it(
    state: str, year: int, label: str, profile: str
) -> None:
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
        got = [world.labelling.label(i, k) for i, k in enumerate(world.initial_alignment)]
        expected = [record[spec.attribute_state, year] for spec in region.states]
        assert got == expected, year


def test_calendar_worlds_start_from_the_memberships(calendar_worlds: dict[int, World]) -> None:
    """Where the region file gives no start and the memberships carry the record's label,
    a state starts in its memberships' profile (Azerbaijan 1992: the record's hedge)."""
    region = load_region("post_soviet")
    for year, world in calendar_worlds.items():
        for i, spec in enumerate(region.states):
            if str(year) in spec.initial:
                continue
            held = "/".join(membership_profile(spec.attribute_state, year))
            assert world.options[world.initial_alignment[i]] == held, (spec.name, year)
    azerbaijan = region.state_names.index("azerbaijan")
    assert calendar_worlds[1992].options[calendar_worlds[1992].initial_alignment[azerbaijan]] == (
        "none/open"
    )
