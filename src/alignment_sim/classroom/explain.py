"""Why a state is where it is, one choice at a time, in plain words.

In Model 2 (``model/alignment.py``) a state makes two choices every tick: a **security**
option (the bloc of a pole that offers protection, or ``none``) and an **economic** option
(a pole's union or partnership, or ``open``). Each is chosen on its own utility, the sum
of that dimension's weighted terms (``kernels.SECURITY_TERMS``, ``kernels.ECONOMIC_TERMS``),
and the model records every term of every option at every tick
(``Trajectory.security_terms``, ``economy_terms``), so each choice can be taken apart
exactly. For each dimension, "then" is the tick of the state's last change in that
dimension (the decision that brought it where it is), or tick 1 if it never changed; the
change since then shows what moved. The record label (russia, china, west, hedge)
follows from the pair and the memberships the record holds (``alignment.Labelling``).
The words are for students: an option's utility is its "score", each term has a short
name (``TERM_NAMES``) and plain words (``TERM_WORDS``), and the glossary
(``glossary.yaml``) defines every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignment_sim.errors import ConfigError, did_you_mean
from alignment_sim.model.alignment import HEDGE, NONE, OPEN, OptionSpace
from alignment_sim.model.kernels import (
    ECONOMIC_TERMS,
    ECONOMY,
    REALIST_TERMS,
    SECURITY,
    SECURITY_TERMS,
    TERM_FAMILIES,
    choice_probabilities,
)
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import FloatArray, quarter

FAMILIES = ("security", "economic", "regime", "soft_power", "dynamics")
REALIST_RULES = ("balancing", "bandwagoning")
"""Decision rules whose security choice weighs ``kernels.REALIST_TERMS`` alone."""
SMALL = 1e-9
"""Term values below this (utility units) count as zero."""
CHANGE_SHOWN = 0.005
"""Reasons and changes below this (utility units) are not shown (they round to 0.00)."""

TERM_WORDS: dict[str, str] = {
    "protection": "protection against the threats it faces",
    "coercion": "threats from the rival poles this would provoke",
    "stance": "the balance of power nearby",
    "grievance": "a pole's troops on its soil without consent",
    "regime_security": "support for the ruling regime",
    "soft_power": "shared language, media and ties",
    "conditionality": "conditions on reform, costlier the more autocratic the regime",
    "autonomy": "the value of staying out of every bloc",
    "neutrality": "a permanent neutrality in its law, which rules out alliances",
    "peer": "where its friends and rivals stand",
    "switching": "the cost of changing side",
    "trade": "trade gained or lost with the pole's market",
    "inducements": "loans and subsidies on offer",
    "remittances": "money its migrants send home",
    "transit": "pipelines and transit routes",
    "economic_coercion": "economic pressure from rivals (gas, import bans)",
    "founding": "a union that did not exist yet",
}
"""Each term in a student's words (kernels.py has the formulas and sources)."""

TERM_NAMES: dict[str, str] = {
    **{term: term.replace("_", " ") for term in TERM_WORDS},
    "economic_coercion": "economic pressure",
}
"""Each term's short name as the page shows it (the glossary, ``glossary.yaml``, defines
each one; the model's own names, with underscores, are in the code and the CSV files)."""

POLE_WORDS = {"west": "the West"}
"""How a pole's name reads in a sentence, where its title case does not."""


def pole_words(pole: str) -> str:
    """A pole's name as it reads in a sentence ('Russia', 'the West')."""
    return POLE_WORDS.get(pole, pole.replace("_", " ").title())


def option_words(dimension: str, option: str) -> str:
    """A dimension's option in plain words: 'Russia', 'no security bloc', 'no economic
    bloc (open)'."""
    if option == NONE:
        return "no security bloc"
    if option == OPEN:
        return "no economic bloc (open)"
    return pole_words(option)


def label_words(label: str) -> str:
    """A record label in plain words: 'in Russia's camp', 'hedging'."""
    if label == HEDGE:
        return "hedging (no bloc clearly leads)"
    return f"in {pole_words(label)}'s camp"


def family_of(term: str) -> str:
    return TERM_FAMILIES[term]


def term_name(term: str) -> str:
    """A term's short name on the page ('regime security', 'economic pressure')."""
    return TERM_NAMES.get(term, term.replace("_", " "))


def is_split(space: OptionSpace, profile: int) -> bool:
    """Whether a profile's two choices are not with the same pole, as ``russia/china``
    (security with Russia, economy with China) or ``russia/open``; ``none/open``, out of
    both, is not split."""
    security = space.security_options[space.profile_security[profile]]
    economy = space.economic_options[space.profile_economy[profile]]
    return (security, economy) != (NONE, OPEN) and security != economy


def last_switch(row: np.ndarray, tick: int) -> int | None:
    """The last tick in 1..tick at which a row of options (ticks,) changed, or None."""
    changes = np.flatnonzero(row[1 : tick + 1] != row[:tick]) + 1
    return int(changes[-1]) if changes.size else None


def _signed(value: float) -> str:
    return f"{value:+.2f}"


@dataclass(frozen=True)
class Choice:
    """One dimension's decision taken apart (arrays are terms x options).

    ``now`` and ``utility`` are from tick ``tick``; ``then`` and ``utility_then`` from
    ``then_tick`` (the last change in this dimension, or tick 1 if ``switched_from`` is
    None); ``then_year`` is when that tick's choice holds from (``World.year_of_tick``),
    as the headline's quarter is now's. ``terms`` are the terms the choice weighed (the
    realist rules: the realist terms alone) and ``utility`` is their sum.
    ``probabilities`` is the logit probability of each option (None for the deterministic
    rules).
    """

    dimension: str
    options: tuple[str, ...]
    option: str
    terms: tuple[str, ...]
    now: FloatArray
    utility: FloatArray
    then_tick: int
    then_year: float
    then: FloatArray
    utility_then: FloatArray
    switched_from: str | None
    probabilities: FloatArray | None

    @property
    def chosen(self) -> int:
        return self.options.index(self.option)

    @property
    def delta(self) -> FloatArray:
        """Change of every term since ``then_tick`` (terms x options)."""
        return np.asarray(self.now - self.then)

    @property
    def runner_up(self) -> str:
        """The best option other than the one chosen (by utility this tick)."""
        others = [k for k in range(len(self.options)) if k != self.chosen]
        return self.options[max(others, key=lambda k: self.utility[k])]

    def margin(self) -> float:
        """Utility of the chosen option minus the runner-up's (negative: chosen by noise,
        or kept by a rule that stays put on ties)."""
        other = self.options.index(self.runner_up)
        return float(self.utility[self.chosen] - self.utility[other])

    def _gap(self, values: FloatArray) -> FloatArray:
        other = self.options.index(self.runner_up)
        return np.asarray(values[:, self.chosen] - values[:, other])

    def reasons(self, count: int = 3) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The terms that favour the chosen option over the runner-up most, and those
        that favour the runner-up most: (term, difference) pairs, largest first."""
        gap = self._gap(self.now)
        order = np.argsort(-gap, kind="stable")
        shown = CHANGE_SHOWN  # a term that rounds to +0.00 favours nothing a reader can see
        pro = [(self.terms[n], float(gap[n])) for n in order if gap[n] >= shown][:count]
        con = [(self.terms[n], float(-gap[n])) for n in order[::-1] if gap[n] <= -shown][:count]
        return pro, con

    def moved(self, count: int = 3) -> list[tuple[str, float]]:
        """The terms whose lead for the chosen option over the runner-up changed most
        since ``then_tick``: (term, change) pairs, largest change first (positive: the
        term now favours the chosen option more). The switching term is left out: after
        a change it moves by twice the switching cost because the state moved, not
        because anything around it did."""
        change = self._gap(self.now) - self._gap(self.then)
        order = np.argsort(-np.abs(change), kind="stable")
        return [
            (self.terms[n], float(change[n]))
            for n in order
            if abs(change[n]) >= CHANGE_SHOWN and self.terms[n] != "switching"
        ][:count]

    def when(self) -> str:
        """The earlier tick the changes are counted from, in words."""
        if self.switched_from is None:
            return f"the first tick (from {quarter(self.then_year)})"
        return f"its last change (from {quarter(self.then_year)})"

    def sentences(self) -> list[str]:
        """The choice in plain words: where and since when, the runner-up, the terms for
        and against, what moved since the earlier tick and the logit chances."""
        name = "Security" if self.dimension == SECURITY else "Economy"
        chosen = option_words(self.dimension, self.option)
        rival = option_words(self.dimension, self.runner_up)
        if self.switched_from is None:
            since = "since the start"
        else:
            was = option_words(self.dimension, self.switched_from)
            since = f"since {quarter(self.then_year)} (before: {was})"
        margin = self.margin()
        closeness = (
            "lower"
            if margin >= 0
            else "higher: picked by chance, or kept because changing side costs"
        )
        pro, con = self.reasons()

        def listed(pairs: list[tuple[str, float]], empty: str) -> str:
            return (
                "; ".join(f"{TERM_WORDS[t]} ({term_name(t)} {_signed(v)})" for t, v in pairs)
                or empty
            )

        lines = [
            f"**{name}: {chosen}** {since}. Next best: {rival}, with a score "
            f"{abs(margin):.2f} {closeness}.",
            f"What favours {chosen} over {rival}: {listed(pro, 'nothing')}.",
            f"What favours {rival}: {listed(con, 'nothing')}.",
        ]
        moved = self.moved()
        if moved:
            lines.append(
                f"Since {self.when()}, the lead of {chosen} over {rival} moved most with: "
                f"{listed(moved, '')}."
            )
        else:
            lines.append(f"Since {self.when()}, nothing moved between {chosen} and {rival}.")
        if self.probabilities is not None:
            lines.append(
                "Chances this quarter: "
                + ", ".join(
                    f"{option_words(self.dimension, o)} {p:.0%}"
                    for o, p in zip(self.options, self.probabilities, strict=True)
                )
                + "."
            )
        return lines


@dataclass(frozen=True)
class Explanation:
    """One state's last decision: its profile, record label and both choices."""

    state: str
    label: str
    tick: int
    year: float
    profile: str
    record_label: str
    split: bool
    security: Choice
    economy: Choice

    @property
    def choices(self) -> tuple[Choice, Choice]:
        return self.security, self.economy

    def headline(self) -> str:
        """One sentence for students: both choices, the profile and its record label."""
        security = option_words(SECURITY, self.security.option)
        economy = option_words(ECONOMY, self.economy.option)
        split = (
            " A split profile: its security and its economy are not with the same pole."
            if self.split
            else ""
        )
        return (
            f"{self.label} in {quarter(self.year)}: security: {security}; economy: {economy} "
            f"(profile {self.profile}), recorded as {label_words(self.record_label)}.{split}"
        )


def _choice(
    model: AlignmentModel,
    dimension: str,
    i: int,
    tick: int,
    realist: bool,
) -> Choice:
    """Take apart chooser ``i``'s choice in ``dimension`` at ``tick`` (>= 1)."""
    world, trajectory = model.world, model.trajectory
    space = world.space
    profiles = trajectory.alignment[0, :, i].astype(np.int64)
    if dimension == SECURITY:
        options, names = space.security_options, SECURITY_TERMS
        row = space.profile_security[profiles]
        recorded = trajectory.security_terms[0, :, i]  # (T, S, terms)
    else:
        options, names = space.economic_options, ECONOMIC_TERMS
        row = space.profile_economy[profiles]
        recorded = trajectory.economy_terms[0, :, i]  # (T, E, terms)
    kept = [n for n, term in enumerate(names) if not realist or term in REALIST_TERMS]
    terms = tuple(names[n] for n in kept)
    switch = last_switch(row, tick)
    then_tick = switch if switch is not None else 1

    def table(at: int) -> FloatArray:
        return np.asarray(recorded[at - 1][:, kept].T, dtype=np.float64)

    def total(values: FloatArray, at: int) -> FloatArray:
        if not realist:
            utility = (
                trajectory.security_utility if dimension == SECURITY else trajectory.economy_utility
            )
            return np.asarray(utility[0, at - 1, i], dtype=np.float64)
        return np.asarray(values.sum(axis=0))

    now, then = table(tick), table(then_tick)
    utility = total(now, tick)
    rule = model.config.decision
    return Choice(
        dimension=dimension,
        options=options,
        option=options[row[tick]],
        terms=terms,
        now=now,
        utility=utility,
        then_tick=then_tick,
        then_year=world.year_of_tick(then_tick),
        then=then,
        utility_then=total(then, then_tick),
        switched_from=options[row[switch - 1]] if switch is not None else None,
        probabilities=(
            choice_probabilities(utility, rule.rationality) if rule.rule == "logit" else None
        ),
    )


def explain(model: AlignmentModel, state: str) -> Explanation | None:
    """Take apart ``state``'s last decision (a state's name, as ``world.states`` has it);
    None before the first tick. An unknown name is a ConfigError listing the states."""
    world, trajectory = model.world, model.trajectory
    if state not in world.states:
        raise ConfigError(
            "state",
            state,
            f"a state of the model's world ({', '.join(world.states)})",
            did_you_mean(state, world.states),
        )
    tick = min(model.tick, trajectory.ticks)
    if tick < 1:
        return None
    i = world.states.index(state)
    space = world.space
    profile = int(trajectory.alignment[0, tick, i])
    realist = model.config.decision.rule in REALIST_RULES
    return Explanation(
        state=state,
        label=world.state_labels[i],
        tick=tick,
        year=world.year_of_tick(tick),
        profile=space.profiles[profile],
        record_label=world.labelling.label(i, profile),
        split=is_split(space, profile),
        security=_choice(model, SECURITY, i, tick, realist),
        economy=_choice(model, ECONOMY, i, tick, realist=False),
    )
