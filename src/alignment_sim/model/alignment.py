"""A chooser's alignment in two dimensions, and the record label derived from it.

A chooser's **profile** is a pair (security, economy): the security bloc it belongs to
(a pole that offers protection, or ``none``) and the economic union or partnership it is
in (any pole, or ``open``). Profiles are named ``"<security>/<economy>"``, e.g.
``russia/china`` (CSTO member, economically tied to China) or ``none/open`` (neutral).

The record (``data/alignment_by_year_1991_2010.csv``, rule ``score_v1``) labels a state
``russia``, ``china``, ``west`` or ``hedge`` from points for its memberships. A chooser's
profile gets its label by the same rule over the same memberships (``Labelling``): the
ones its two choices stand for, at score_v1's points for them (each pole's
``bloc_points`` and ``union_points``, ``region.poles``), and the ones no choice of the
model stands for, which the record holds (``held_scores``: staying out of the CIS, GUAM,
hosted bases, observer seats, the SCO).

- security with Russia: a CST/CSTO member, 2 points;
- security with the West: a NATO aspirant (no chooser was a member to 2010), 1;
- economy with Russia: the Union State, Customs Union, EurAsEC, EAEU, 2;
- economy with the West: an EU association in force, EU membership, 2;
- economy with China: nothing (score_v1 has no China union; its one China mark, the
  SCO, is held), 0;
- held from the record: outside the CIS (west 2), GUAM (west 1), a US or German base
  (west 1), a Russian base or facility by agreement (russia 1), a EurAsEC or EAEU
  observer seat (russia 0.5), the SCO (china 1), an EU application or candidacy (west
  1), an EU association signed, not in force (west 1).

Label: the pole with the highest score if it is at least 2 and at least 1 ahead of the
runner-up, else ``hedge`` (score_v1's rule). The held memberships are the record's at
the end of a year through 2010, and their 2010 state after (the record ends there: a
state's later acts are what the model forecasts). A state the record does not cover
holds none. A run knows them as of its start and holds them (``World.labelling``), as it
knows no later act of a state; the likelihood reads those of each year it scores, the
observed world it conditions on (``estimation.likelihood``). With the memberships each
profile stands for and the held ones, the record's label of every chooser in every year
1991-2010 is the label of the profile its memberships stand for
(``tests/test_alignment.py``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from alignment_sim.errors import ConfigError

NONE = "none"
"""The security option of a state in no security bloc."""
OPEN = "open"
"""The economic option of a state in no preferential union."""
HEDGE = "hedge"
"""The record's label for a state no bloc clearly leads (score_v1)."""
SEPARATOR = "/"
LEAD_SCORE = 2.0
LEAD_MARGIN = 1.0
BLOC_POINTS = 2.0
"""score_v1's points of a pole's security bloc unless the pole says (a CST/CSTO member)."""
UNION_POINTS = 2.0
"""score_v1's points of the union of a pole that offers security unless the pole says
(the Customs Union, EAEU or Union State; an EU association in force)."""
UNION_POINTS_WITHOUT_SECURITY = 1.0
"""... of a pole that offers none (a partnership short of a union) unless the pole says."""


@dataclass(frozen=True)
class OptionSpace:
    """The profiles of a region's choosers: poles (names, in the world's order) and which
    of them offer security."""

    poles: tuple[str, ...]
    security: tuple[bool, ...]
    bloc_points: tuple[float | None, ...] | None = None
    union_points: tuple[float | None, ...] | None = None

    @cached_property
    def security_poles(self) -> np.ndarray:
        """Indices of the poles that offer security, (P,)."""
        return np.array([b for b, offers in enumerate(self.security) if offers], dtype=np.int64)

    @property
    def security_options(self) -> tuple[str, ...]:
        return (*(self.poles[b] for b in self.security_poles), NONE)

    @property
    def economic_options(self) -> tuple[str, ...]:
        return (*self.poles, OPEN)

    @property
    def n_security(self) -> int:
        return len(self.security_options)

    @property
    def n_economy(self) -> int:
        return len(self.economic_options)

    def profile_index(self, security: int, economy: int) -> int:
        return security * self.n_economy + economy

    @cached_property
    def profiles(self) -> tuple[str, ...]:
        """Profile names in index order: k = security * E + economy."""
        return tuple(
            f"{s}{SEPARATOR}{e}" for s in self.security_options for e in self.economic_options
        )

    @cached_property
    def profile_security(self) -> np.ndarray:
        """(K,) the security option of each profile."""
        return np.repeat(np.arange(self.n_security), self.n_economy)

    @cached_property
    def profile_economy(self) -> np.ndarray:
        """(K,) the economic option of each profile."""
        return np.tile(np.arange(self.n_economy), self.n_security)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels a profile can get: the poles' names and ``hedge``."""
        return (*self.poles, HEDGE)

    @cached_property
    def profile_points(self) -> np.ndarray:
        """(K, B) score_v1's points each profile's choices stand for, by pole (module
        docstring): its security bloc's ``bloc_points`` and its union's ``union_points``."""
        bloc = [
            BLOC_POINTS if given is None else float(given)
            for given in (self.bloc_points or (None,) * len(self.poles))
        ]
        union = [
            (UNION_POINTS if offers else UNION_POINTS_WITHOUT_SECURITY)
            if given is None
            else float(given)
            for given, offers in zip(
                self.union_points or (None,) * len(self.poles), self.security, strict=True
            )
        ]
        points = np.zeros((len(self.profiles), len(self.poles)))
        for k in range(len(self.profiles)):
            s, e = int(self.profile_security[k]), int(self.profile_economy[k])
            if s < len(self.security_poles):
                points[k, self.security_poles[s]] += bloc[self.security_poles[s]]
            if e < len(self.poles):
                points[k, e] += union[e]
        return points

    def label_codes_with(self, held: np.ndarray) -> np.ndarray:
        """(N, K) each chooser's label of each profile, as indices into ``labels``:
        score_v1's rule over the profile's points plus the chooser's held points
        (``held``: (N, B), by pole; ``held_scores``)."""
        scores = self.profile_points[None, :, :] + np.asarray(held, dtype=np.float64)[:, None, :]
        ranked = np.sort(scores, axis=-1)
        top = ranked[..., -1]
        second = ranked[..., -2] if len(self.poles) > 1 else np.zeros_like(top)
        lead = (top >= LEAD_SCORE) & (top - second >= LEAD_MARGIN)
        return np.where(lead, np.argmax(scores, axis=-1), len(self.poles))

    @cached_property
    def label_codes(self) -> np.ndarray:
        """(K,) each profile's label without held memberships (a state the record does
        not cover), as indices into ``labels``."""
        return self.label_codes_with(np.zeros((1, len(self.poles))))[0]

    @cached_property
    def profile_labels(self) -> tuple[str, ...]:
        """(K,) each profile's label without held memberships (``label_codes``)."""
        return tuple(self.labels[c] for c in self.label_codes)

    def default_profile(self, label: str) -> int:
        """The profile a bare label stands for: a pole -> in its security bloc (if it has
        one) and its union; ``hedge`` -> ``none/open``."""
        if label == HEDGE:
            return self.profile_index(self.n_security - 1, self.n_economy - 1)
        b = self.poles.index(label)
        security = list(self.security_poles).index(b) if self.security[b] else self.n_security - 1
        return self.profile_index(security, b)

    def resolve(self, key: str, value: str) -> int:
        """A profile name (``russia/open``) or a label (``russia``, ``hedge``) as a profile
        index; ConfigError naming ``key`` otherwise."""
        if value in self.profiles:
            return self.profiles.index(value)
        if value in self.labels:
            index = self.default_profile(value)
            if self.profile_labels[index] != value:
                carried = sorted(set(self.profile_labels))
                raise ConfigError(
                    key,
                    value,
                    f"a label some profile carries ({', '.join(carried)}) or a profile",
                    f"No profile is labelled '{value}': a pole that offers no security scores "
                    "at most 1 (model.alignment).",
                )
            return index
        raise ConfigError(
            key,
            value,
            f"a profile ({', '.join(self.profiles)}) or a label ({', '.join(self.labels)})",
        )


@dataclass(frozen=True)
class Labelling:
    """Each chooser's record label of every profile (module docstring): ``codes`` (N, K),
    indices into ``space.labels``, from the points each profile stands for and the
    chooser's held memberships. Build with ``Labelling.of``."""

    space: OptionSpace
    codes: np.ndarray

    @classmethod
    def of(cls, space: OptionSpace, held: np.ndarray) -> Labelling:
        """The labelling of choosers holding ``held`` (N, B) points (``held_scores``)."""
        codes = space.label_codes_with(held)
        codes.setflags(write=False)
        return cls(space, codes)

    @classmethod
    def of_record(cls, space: OptionSpace, states: Sequence[str | None], year: int) -> Labelling:
        """The labelling of ``states`` (the record's spelling) holding what the record
        holds for each at the end of ``year`` (``held_points``)."""
        return cls.of(space, held_points(states, year, space.poles))

    @classmethod
    def without_held(cls, space: OptionSpace, n_states: int) -> Labelling:
        """N choosers that hold no membership beside their profiles (a region the record
        does not cover)."""
        return cls.of(space, np.zeros((n_states, len(space.poles))))

    @property
    def n_states(self) -> int:
        return int(self.codes.shape[0])

    def of_profiles(self, alignment: np.ndarray) -> np.ndarray:
        """Profile indices (..., N), the last axis the choosers, as label indices (..., N)."""
        alignment = np.asarray(alignment, dtype=np.int64)
        if alignment.shape[-1:] != (self.n_states,):
            raise ValueError(f"profiles {alignment.shape}: the last axis must be {self.n_states}")
        return np.asarray(self.codes[np.arange(self.n_states), alignment])

    def label(self, state: int, profile: int) -> str:
        """Chooser ``state``'s label of ``profile``."""
        return self.space.labels[int(self.codes[state, profile])]


# --- profiles from the membership record ------------------------------------------------

EVENTS_FILE = "alignment_events_1991_2010.csv"
ECONOMIC_ORGS = {
    "Union_State": "russia",
    "Customs_Union": "russia",
    "EurAsEC": "russia",
    "EAEU": "russia",
    "EU": "west",
    "EU_association": "west",
}
WESTERN_BASES = ("US_base_Karshi-Khanabad", "US_base_Manas", "DE_base_Termez")
IN_FORCE = ("member",)
ASPIRING = ("aspirant", "applicant", "candidate")


@cache
def _events() -> tuple[tuple[str, int, str, str, str], ...]:
    from alignment_sim.model.world import packaged_data_path

    with packaged_data_path(EVENTS_FILE).open(newline="", encoding="utf-8") as handle:
        return tuple(
            (row["state"], int(row["year"]), row["date"], row["org"], row["status"])
            for row in csv.DictReader(handle)
        )


@cache
def covered_states() -> frozenset[str]:
    """The states the event record covers (the record's spelling)."""
    return frozenset(name for name, *_ in _events())


def statuses(state: str, year: int) -> dict[str, str]:
    """Each org's status for ``state`` at the end of ``year``: that of its latest event
    dated in or before ``year`` (score_v1's reading of the event record)."""
    latest: dict[str, tuple[str, str]] = {}
    for name, when, date, org, status in _events():
        if name == state and when <= year and (org not in latest or date >= latest[org][0]):
            latest[org] = (date, status)
    return {org: status for org, (_, status) in latest.items()}


HELD_SCORED = ("russia", "west", "china")
"""The record's blocs (score_v1); a pole of that name gets the points of its held memberships."""
UNCONSENTED = "RU_troops_unconsented"
"""Russian forces without the host's consent: score_v1 counts no base without an agreement."""
CIS_PARTICIPANT = ("member", "associate", "signed")
EU_SHORT_OF_UNION = {"EU": ASPIRING, "EU_association": ("signed",)}
"""An EU application or candidacy, and an association signed but not in force: 1 point each."""


def held_scores(state: str | None, year: int) -> dict[str, float]:
    """score_v1's points, by bloc, of the memberships of ``state`` at the end of ``year``
    that no option of the model stands for (module docstring): outside the CIS (west 2),
    GUAM (west 1), a US or German base (west 1), a Russian base or facility under an
    agreement (russia 1), a EurAsEC or EAEU observer seat (russia 0.5), the SCO (china 1),
    an EU application or candidacy (west 1), an EU association signed but not in force
    (west 1). The record ends in 2010: a later year holds its 2010 memberships. A state
    the record does not cover (``state`` None or not in it) holds none."""
    if state not in covered_states():
        return dict.fromkeys(HELD_SCORED, 0.0)
    held = statuses(state, year)
    russian_base = any(
        org.startswith("RU_") and org != UNCONSENTED and status in IN_FORCE
        for org, status in held.items()
    )
    observer = "observer" in (held.get("EurAsEC"), held.get("EAEU"))
    short_of_union = sum(held.get(org) in shy for org, shy in EU_SHORT_OF_UNION.items())
    return {
        "russia": 1.0 * russian_base + 0.5 * observer,
        "west": 2.0 * (held.get("CIS") not in CIS_PARTICIPANT)
        + 1.0 * (held.get("GUAM") in IN_FORCE)
        + 1.0 * any(held.get(base) in IN_FORCE for base in WESTERN_BASES)
        + 1.0 * short_of_union,
        "china": 1.0 * (held.get("SCO") in IN_FORCE),
    }


def held_points(states: Sequence[str | None], year: int, poles: Sequence[str]) -> np.ndarray:
    """(N, B) ``held_scores`` of each state (the record's spelling) by pole: a pole named
    as one of the record's blocs gets that bloc's points, any other none."""
    out = np.zeros((len(states), len(poles)))
    for i, state in enumerate(states):
        scores = held_scores(state, year)
        for b, pole in enumerate(poles):
            out[i, b] = scores.get(pole, 0.0)
    return out


def membership_profile(state: str, year: int) -> tuple[str, str]:
    """The (security, economy) a state's memberships at the end of ``year`` stand for.

    Security: ``russia`` for a CST/CSTO member; ``west`` for a NATO member or aspirant;
    else ``none``. Economy: ``russia`` in the Union State, Customs Union, EurAsEC or
    EAEU; ``west`` in the EU or an EU association in force; else ``open``. Every other
    membership the record scores is held (``held_scores``).
    """
    held = statuses(state, year)
    if held.get("CST_CSTO") in IN_FORCE:
        security = "russia"
    elif held.get("NATO") in (*IN_FORCE, *ASPIRING):
        security = "west"
    else:
        security = NONE
    economy = OPEN
    for org, pole in ECONOMIC_ORGS.items():
        if held.get(org) in IN_FORCE:
            economy = pole
            break
    return security, economy
