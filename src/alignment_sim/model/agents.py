"""Mesa agents: choosers and poles. They own their state and call the pure kernels.

A chooser evaluates only its own row of every term (``rows = slice(i, i + 1)``); a pole
plans only its own row of threat and spending. Both read the model's snapshot, so every
agent decides from the same state of the world (synchronous update: ``decide`` for all,
then ``advance`` for all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from alignment_sim.model import kernels
from alignment_sim.model.world import FLOAT, FloatArray

if TYPE_CHECKING:
    from alignment_sim.model.mesa_model import AlignmentModel


class ChooserAgent(mesa.Agent):
    """A state choosing a security and an economic alignment each tick.

    Attributes: ``security`` and ``economy`` (option indices; ``profile`` joins them),
    ``security_utility`` (S,) and ``economy_utility`` (E,) from its last decision,
    ``terms`` (its row of ``kernels.Terms``), ``pending`` (the choices to commit in
    ``advance``), ``directed`` (a choice made for this state from outside, e.g. by a
    student in the classroom game: ``advance`` commits it instead of ``pending``, which
    keeps the model's own pick for comparison; ``None`` lets the state choose).
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, name: str, profile: int) -> None:
        super().__init__(model)
        space = model.world.space
        self.index = index
        self.name = name
        self.rows = slice(index, index + 1)
        self.security = int(space.profile_security[profile])
        self.economy = int(space.profile_economy[profile])
        self.pending = (self.security, self.economy)
        self.directed: tuple[int, int] | None = None
        self.security_utility: FloatArray = np.zeros(space.n_security, dtype=FLOAT)
        self.economy_utility: FloatArray = np.zeros(space.n_economy, dtype=FLOAT)
        self.terms: kernels.Terms | None = None

    @property
    def profile(self) -> int:
        """Index of the profile (security, economy) this state is in."""
        return self.security * self.model.world.space.n_economy + self.economy

    @property
    def option(self) -> str:
        """Name of the profile this state is in (``"<security>/<economy>"``)."""
        return self.model.world.options[self.profile]

    @property
    def label(self) -> str:
        """The record label of its profile (russia, china, west or hedge), with the
        memberships the record holds for the state (``alignment.Labelling``)."""
        return self.model.world.labelling.label(self.index, self.profile)

    def decide(self) -> None:
        """Score every option of both choices from the snapshot and pick (not yet committed)."""
        model = self.model
        inputs = model.inputs
        world = inputs.world
        state_params, pole_params, pair_params = model.params
        terms = kernels.utility_terms(
            model.snapshot,
            state_params,
            pole_params,
            pair_params,
            world.affinity,
            world.rivalry,
            world.security_poles,
            inputs.weights,
            inputs.dynamics,
            inputs.stance,
            self.rows,
        )
        security, economy, u_sec, u_econ = inputs.choose(
            terms, model.snapshot, model.gumbel[:, self.rows], self.rows
        )
        self.pending = (int(security[0, 0]), int(economy[0, 0]))
        self.security_utility = u_sec.reshape(-1, u_sec.shape[-1])[0]
        self.economy_utility = u_econ.reshape(-1, u_econ.shape[-1])[0]
        self.terms = terms

    def advance(self) -> None:
        """Commit the choices made in ``decide``, or the ``directed`` ones if set."""
        self.security, self.economy = self.pending if self.directed is None else self.directed


class PoleAgent(mesa.Agent):
    """A bloc leader: plans its threat and its offers, keeps its credibility.

    ``credibility`` is the share of its promises choosers believe.
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, name: str, credibility: float) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.rows = slice(index, index + 1)
        self.credibility = credibility
        self.threat: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)
        self.offers: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)
        self.premiums: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)
        self.expected: FloatArray = kernels.starting_expectations(model.inputs)[:, self.rows]
        self.members: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)

    def plan(self, members: FloatArray) -> None:
        """Threat against each chooser and offers to each, from last tick's state;
        ``members`` is (1, B, N) (``kernels.pole_members``)."""
        model = self.model
        _, pole_params, pair_params = model.params
        self.members = members[:, self.rows]
        threat = kernels.threat_from_poles(pole_params, pair_params, self.rows)
        self.threat = threat.reshape(1, 1, -1)  # (R = 1, this pole, N)
        self.offers, self.premiums = kernels.spending(
            pole_params,
            pair_params,
            members,
            model.margins,
            model.inputs.rationality,
            self.rows,
        )

    @property
    def spending_bn_usd(self) -> float:
        """What it offers this tick over all choosers, US$ bn a year."""
        return float(self.offers.sum())

    def advance(self) -> None:
        """Move credibility toward its target times the share of promises kept."""
        model = self.model
        dynamics = model.inputs.dynamics
        target = np.broadcast_to(
            kernels.credibility_target(model.params[1], dynamics.credibility_prior_tests),
            (1, model.world.n_poles),
        )
        kept = kernels.kept_promises(self.offers, self.expected, self.members)
        self.expected = kernels.next_expectations(
            self.expected, self.offers, dynamics.credibility_recovery
        )
        self.credibility = float(
            kernels.next_credibility(
                np.array([[self.credibility]], dtype=FLOAT),
                target[:, self.rows],
                kept,
                dynamics.credibility_recovery,
            )[0, 0]
        )
