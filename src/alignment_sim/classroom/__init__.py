"""The classroom: a browser app (Solara), a class game and lessons built on the model.

Modules, so that importing one does not pull in the web stack:

- ``classroom``: ``ClassroomModel``, the Mesa model with flat named parameters, live
  levers and dropped events, and the setup (scenario, lesson, levers) it is built from.
- ``lessons`` and ``claims``: lesson presets in ``experiments/lessons``, their counted
  claims, their figures and their optional ``game:`` block
  (``alignment-sim-lessons --figures``).
- ``explain`` and ``glossary``: what the "why" panel shows, in plain words, and the
  definitions of the terms a student sees.
- ``mapview`` and ``geo``: the map (country shapes, SVG drawn in the browser);
  ``drawing``: the matplotlib figures (the same map as PNG, shares, why chart).
- ``debrief``: each player's choices beside the model's and why, a timeline, and the
  export (CSV, PNG, a one-page summary; ``alignment-sim-debrief``).
- ``game``: the class game (``alignment-sim-class``): sessions, teams, the web server.
- ``app``: the Solara page; ``__main__``: ``alignment-sim-viz [--port N]``.
"""
