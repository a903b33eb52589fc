"""The classroom game: students play the states, the model plays the rest.

``session.GameSession`` is the game (plain Python); ``server`` serves it to a class over
the local network (``alignment-sim-class``, or ``start_game_server`` from the app).
"""

from alignment_sim.classroom.game.session import GameError, GameSession, Seat

__all__ = ["GameError", "GameSession", "Seat"]
