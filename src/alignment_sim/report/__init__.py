"""The scenario-comparison report behind ``alignment-sim-compare``.

``inputs`` finds and reads finished run and study folders (several at once, each on its
own, only the columns it needs), ``stats`` turns them into intervals, effects and term
drivers, ``figures`` draws them and ``page`` writes the self-contained HTML. The command
and the orchestration live in ``alignment_sim.report.command``.
"""
