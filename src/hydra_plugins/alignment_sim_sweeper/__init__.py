"""alignment-sim's Hydra sweeper: Hydra's basic sweeper whose check of a sweep, before any
job runs, also validates each job's configuration as the job itself would
(``alignment_sim.cli.main.check_job``), so a bad value stops the sweep with one paragraph
naming the job, the key, the value and what was expected, not after the other jobs ran.

Hydra finds sweepers only in the ``hydra_plugins`` namespace package, hence this module's
place; ``alignment_sim/conf/config.yaml`` selects it (``hydra/sweeper: checked``).
"""
