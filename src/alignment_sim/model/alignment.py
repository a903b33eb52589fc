"""A chooser's alignment in two dimensions, and the record label derived from it.

A chooser's **profile** is a pair (security, economy): the security bloc it belongs to
(a pole that offers protection, or ``none``) and the economic union or partnership it is
in (any pole, or ``open``). Profiles are named ``"<security>/<economy>"``, e.g.
``russia/china`` (CSTO member, economically tied to China) or ``none/open`` (neutral).

The record (``data/alignment_by_year_1991_2010.csv``, rule ``score_v1``) labels a state
``russia``, ``china``, ``west`` or ``hedge`` from scores over its memberships. A profile
gets its label by the same rule over the memberships it stands for (``profile_scores``):

| profile part | stands for | points |
|---|---|---|
| security with a pole | the CSTO; NATO membership or aspiration, a US base | +2 |
| economy with a pole that offers security | Union State, CU, EurAsEC, EAEU; EU association | +2 |
| economy with a pole that offers none | China: the SCO, the record's only China mark | +1 |

Label: the pole with the highest score if it is at least 2 and at least 1 ahead of the
runner-up, else ``hedge`` (score_v1's rule). So ``russia/china`` is ``russia`` (2 vs 1),
``russia/west`` and ``none/open`` are ``hedge``, and no profile is labelled ``china``:
as in the record, where China's pull is economic, not institutional.
"""

from __future__ import annotations

import csv
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
SECURITY_POINTS = 2.0
ECONOMY_POINTS = 2.0
ECONOMY_POINTS_WITHOUT_SECURITY = 1.0


@dataclass(frozen=True)
class OptionSpace:
    """The profiles of a region's choosers: poles (names, in the world's order) and which
    of them offer security."""

    poles: tuple[str, ...]
    security: tuple[bool, ...]

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

    def profile_scores(self, k: int) -> dict[str, float]:
        """The label scores of profile ``k`` (module docstring), by pole name."""
        scores = dict.fromkeys(self.poles, 0.0)
        s, e = int(self.profile_security[k]), int(self.profile_economy[k])
        if s < len(self.security_poles):
            scores[self.poles[self.security_poles[s]]] += SECURITY_POINTS
        if e < len(self.poles):
            offers = self.security[e]
            scores[self.poles[e]] += ECONOMY_POINTS if offers else ECONOMY_POINTS_WITHOUT_SECURITY
        return scores

    @cached_property
    def profile_labels(self) -> tuple[str, ...]:
        """(K,) the record label of each profile (score_v1's rule over its scores)."""
        labels = []
        for k in range(len(self.profiles)):
            ranked = sorted(self.profile_scores(k).items(), key=lambda item: -item[1])
            top, second = ranked[0][1], ranked[1][1] if len(ranked) > 1 else 0.0
            lead = top >= LEAD_SCORE and top - second >= LEAD_MARGIN
            labels.append(ranked[0][0] if lead else HEDGE)
        return tuple(labels)

    @cached_property
    def label_codes(self) -> np.ndarray:
        """(K,) each profile's label as an index into ``labels``."""
        return np.array([self.labels.index(label) for label in self.profile_labels])

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


def statuses(state: str, year: int) -> dict[str, str]:
    """Each org's status for ``state`` at the end of ``year``: that of its latest event
    dated in or before ``year`` (score_v1's reading of the event record)."""
    latest: dict[str, tuple[str, str]] = {}
    for name, when, date, org, status in _events():
        if name == state and when <= year and (org not in latest or date >= latest[org][0]):
            latest[org] = (date, status)
    return {org: status for org, (_, status) in latest.items()}


def membership_profile(state: str, year: int) -> tuple[str, str]:
    """The (security, economy) a state's memberships at the end of ``year`` stand for.

    Security: ``russia`` for a CST/CSTO member; ``west`` when score_v1's Western
    security points reach 2 net of a Russian base (NATO member 2, aspirant 1, a US or
    German base 1, GUAM 1, outside the CIS 2; hosting a Russian base or facility -1);
    else ``none``. Economy: ``russia`` in the Union State, Customs Union, EurAsEC or
    EAEU; ``west`` in the EU or an EU association in force; else ``open``.
    """
    held = statuses(state, year)
    if held.get("CST_CSTO") in IN_FORCE:
        security = "russia"
    else:
        points = 2.0 * (held.get("NATO") in IN_FORCE) + 1.0 * (held.get("NATO") in ASPIRING)
        points += 1.0 * any(held.get(base) in IN_FORCE for base in WESTERN_BASES)
        points += 1.0 * (held.get("GUAM") in IN_FORCE)
        points += 2.0 * (held.get("CIS") not in ("member", "associate"))
        points -= 1.0 * any(
            org.startswith("RU_") and status in IN_FORCE for org, status in held.items()
        )
        security = "west" if points >= LEAD_SCORE else NONE
    economy = OPEN
    for org, pole in ECONOMIC_ORGS.items():
        if held.get(org) in IN_FORCE:
            economy = pole
            break
    return security, economy
