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
    """A state choosing among the blocs and hedging.

    Attributes: ``alignment`` (option index), ``utility`` (K,) and ``terms`` (name ->
    (K,)) from its last decision, ``pending`` (the choice to commit in ``advance``).
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, name: str, alignment: int) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.rows = slice(index, index + 1)
        self.alignment = alignment
        self.pending = alignment
        n_options = len(model.world.options)
        self.utility: FloatArray = np.zeros(n_options, dtype=FLOAT)
        self.terms: dict[str, FloatArray] = {}  # name -> value for each option

    @property
    def option(self) -> str:
        """Name of the option this state is in (a pole's name or 'hedge')."""
        return self.model.world.options[self.alignment]

    def decide(self) -> None:
        """Score every option from the snapshot and pick one (not yet committed)."""
        model = self.model
        inputs = model.inputs
        state_params, pole_params, pair_params = model.params
        terms = kernels.utility_terms(
            model.snapshot,
            state_params,
            pole_params,
            pair_params,
            inputs.world.affinity,
            inputs.weights,
            inputs.dynamics,
            inputs.stance,
            inputs.cost_matrix,
            self.rows,
        )
        utility = kernels.total_utility(terms)
        security = inputs.security_score(terms, utility)
        choice = kernels.choose(
            utility,
            security,
            model.snapshot.alignment[:, self.rows],
            model.gumbel[:, self.rows],
            inputs.rule,
            inputs.rationality,
        )
        self.pending = int(choice[0, 0])
        self.utility = utility[0, 0]
        self.terms = {
            name: part.joined().reshape(-1, utility.shape[-1])[0] for name, part in terms.items()
        }

    def advance(self) -> None:
        """Commit the choice made in ``decide``."""
        self.alignment = self.pending


class PoleAgent(mesa.Agent):
    """A bloc leader: plans its threat and its offers, keeps credibility and memory.

    ``credibility`` is the share of its promises choosers believe; ``defection`` (N,)
    remembers which choosers left its bloc (and so face its escalated pressure).
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, name: str, credibility: float) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.rows = slice(index, index + 1)
        self.credibility = credibility
        self.defection: FloatArray = np.zeros(model.world.n_states, dtype=FLOAT)
        self.threat: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)
        self.offers: FloatArray = np.zeros((1, 1, model.world.n_states), dtype=FLOAT)

    def plan(self) -> None:
        """Threat against each chooser and offers to each, from last tick's state."""
        model = self.model
        _, pole_params, pair_params = model.params
        state_params = model.params[0]
        self.threat = kernels.threat_from_poles(
            pole_params, pair_params, model.defection_matrix(), self.rows
        )
        self.offers = kernels.spending_offers(
            pole_params,
            pair_params,
            state_params,
            model.margins,
            model.inputs.dynamics.margin_scale,
            self.rows,
        )

    @property
    def spending_bn_usd(self) -> float:
        """What it offers this tick over all choosers, US$ bn a year."""
        return float(self.offers.sum())

    def advance(self) -> None:
        """Update credibility toward its target and the memory of defections."""
        model = self.model
        dynamics = model.inputs.dynamics
        target = np.broadcast_to(model.params[1].credibility, (1, model.world.n_poles))
        self.credibility = float(
            kernels.next_credibility(
                np.array([[self.credibility]], dtype=FLOAT),
                target[:, self.rows],
                dynamics.credibility_recovery,
            )[0, 0]
        )
        self.defection = kernels.next_defection(
            self.defection[None, None, :],
            model.snapshot.alignment,
            model.choices(),
            self.rows,
            model.world.hedge_index,
            dynamics.defection_decay,
            dynamics.hedge_switch_fraction,
        )[0, 0]
