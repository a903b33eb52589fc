"""The classroom: a browser app (Solara, Mesa's SolaraViz) and lessons built on the model.

Modules, so that importing one does not pull in the web stack:

- ``classroom``: ``ClassroomModel``, the Mesa model with flat named parameters and live
  levers, and the setup (scenario, lesson, levers) it is built from. No Solara.
- ``lessons``: lesson presets in ``experiments/lessons`` and their figures
  (``python -m alignment_sim.classroom.lessons --figures``).
- ``explain``: what the "why" panel shows: a state's security choice and economic choice,
  each taken apart from the model's recorded terms, in plain words.
- ``drawing``: the matplotlib figures (map by record label with split profiles ringed,
  label and choice shares, why chart).
- ``app``: the Solara page; ``__main__``: ``alignment-sim-viz [--port N]``.
"""
