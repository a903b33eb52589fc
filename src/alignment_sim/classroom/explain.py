"""Why a state is where it is: its utility for each option, term by term, now and then.

The model records every named term of every option at every tick (``Trajectory.terms``)
and the terms add up to the utility, so a choice can be taken apart exactly. "Then" is the
tick of the state's last switch (the decision that brought it where it is), or the first
tick if it never switched; the change since then shows what moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignment_sim.model.kernels import TERM_FAMILIES, TERMS, choice_probabilities
from alignment_sim.model.mesa_model import AlignmentModel
from alignment_sim.model.world import FloatArray

FAMILIES = ("security", "economic", "regime", "soft_power", "dynamics")


def quarter(year: float) -> str:
    """A fractional year as 'YYYY Qn' (tick 0 of 2015 is '2015 Q1')."""
    whole = int(np.floor(year + 1e-9))
    return f"{whole} Q{int((year - whole) * 4 + 1e-9) + 1}"


@dataclass(frozen=True)
class Explanation:
    """One state's last decision, taken apart (arrays are terms x options).

    ``now`` and ``utility`` are from tick ``tick``; ``then`` and ``utility_then`` from
    ``then_tick`` (its last switch, or tick 1 if ``switched_from`` is None).
    ``probabilities`` is the logit choice probability of each option (None for the
    deterministic rules).
    """

    state: str
    label: str
    tick: int
    year: float
    options: tuple[str, ...]
    option: str
    now: FloatArray
    utility: FloatArray
    then_tick: int
    then_year: float
    then: FloatArray
    utility_then: FloatArray
    switched_from: str | None
    probabilities: FloatArray | None

    @property
    def terms(self) -> tuple[str, ...]:
        return TERMS

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
        """Utility of the chosen option minus the runner-up's (negative: noise or rule)."""
        return float(self.utility[self.chosen] - self.utility[self.options.index(self.runner_up)])

    def reasons(self, count: int = 3) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The terms that favour the chosen option over the runner-up most, and those that
        favour the runner-up most: (term, difference) pairs, largest first."""
        other = self.options.index(self.runner_up)
        gap = self.now[:, self.chosen] - self.now[:, other]
        order = np.argsort(-gap)
        pro = [(TERMS[n], float(gap[n])) for n in order if gap[n] > 1e-9][:count]
        con = [(TERMS[n], float(-gap[n])) for n in order[::-1] if gap[n] < -1e-9][:count]
        return pro, con

    def headline(self) -> str:
        """One sentence for students: where it is, since when, and the closest rival."""
        where = (
            "hedges (multi-vector)" if self.option == "hedge" else f"is in the {self.option} bloc"
        )
        if self.switched_from is None:
            since = "since the start"
        else:
            since = f"since {quarter(self.then_year)} (it left {self.switched_from})"
        margin = self.margin()
        return (
            f"{self.label} {where} {since}. Next best: {self.runner_up}, "
            f"{abs(margin):.2f} utility {'lower' if margin >= 0 else 'higher'}."
        )


def last_switch(alignment: np.ndarray, tick: int) -> int | None:
    """The last tick in 1..tick at which an alignment row (ticks,) changed, or None."""
    changes = np.flatnonzero(alignment[1 : tick + 1] != alignment[:tick]) + 1
    return int(changes[-1]) if changes.size else None


def explain(model: AlignmentModel, state: str) -> Explanation | None:
    """Take apart ``state``'s last decision; None before the first tick or if unknown."""
    world, trajectory = model.world, model.trajectory
    if state not in world.states:
        return None
    tick = min(model.tick, trajectory.ticks)
    if tick < 1:
        return None
    i = world.states.index(state)
    row = trajectory.alignment[0, :, i].astype(int)
    switch = last_switch(row, tick)
    then_tick = switch if switch is not None else 1
    utility = trajectory.utility[0, tick - 1, i]
    rule = model.config.decision.rule
    return Explanation(
        state=state,
        label=world.state_labels[i],
        tick=tick,
        year=world.year_of_tick(tick),
        options=world.options,
        option=world.options[row[tick]],
        now=np.asarray(trajectory.terms[0, tick - 1, i].T),
        utility=utility,
        then_tick=then_tick,
        then_year=world.year_of_tick(then_tick),
        then=np.asarray(trajectory.terms[0, then_tick - 1, i].T),
        utility_then=trajectory.utility[0, then_tick - 1, i],
        switched_from=world.options[row[switch - 1]] if switch is not None else None,
        probabilities=(
            choice_probabilities(utility, model.config.decision.rationality)
            if rule == "logit"
            else None
        ),
    )


def family_of(term: str) -> str:
    return TERM_FAMILIES[term]
