"""EMA Workbench models run by the batched engine (EMA Workbench: Kwakkel 2017,
doi:10.1016/j.envsoft.2017.06.054).

    from ema_workbench import perform_experiments
    from alignment_sim.ema import BatchedEvaluator, engine_model

    model = engine_model("baseline", {"weights.trade": (0.5, 2.0)}, ["final_share_west"])
    experiments, outcomes = perform_experiments(model, 50, evaluator=BatchedEvaluator(model))

- **Uncertainties, levers and constants** are named by config path, as designs name them
  (``studies.points.supported_paths``: ``weights.trade``, ``dynamics.stance``,
  ``region.poles.russia.budget_bn_usd`` ...); real, integer or numeric categorical
  parameters. Paths and ranges are checked against the configuration before any run
  (``ConfigError``). An EMA parameter's ``variable_name`` may hold the path instead.
  ``scenario``, ``policy`` and ``model`` are EMA's own column names: the alignment-sim
  scenario is the base configuration's (``engine_model(scenario)``), one per model.
- **Outcomes** are those of ``studies.outcomes`` (``runs.parquet``'s columns): a numeric
  one by name, a categorical one as ``NAME=VALUE`` (``final_label_uzbekistan=hedge``:
  1 in a run where Uzbekistan ends labelled hedge, else 0). The model's output for an
  experiment is each outcome's value in every replication, a float64 array (R,);
  ``engine_model`` makes each named outcome a ``ScalarOutcome`` of its mean over the
  replications (a share of runs for ``NAME=VALUE``); pass EMA outcome objects whose
  ``variable_name`` is such a name to keep the replications (``ArrayOutcome``) or reduce
  them otherwise. EMA registers each outcome name with its class for the whole process:
  to read an outcome another way, give the new outcome a new name (``variable_name``
  says what it reads).
- **Replications, common random numbers**: every experiment runs the same seeds,
  ``config.seed .. config.seed + replications - 1``, so differences between experiments
  are the parameters', not the draws'.
- **How it runs**: any EMA evaluator calls ``run_model`` per experiment, which runs its R
  replications as one engine batch; ``BatchedEvaluator`` runs every experiment's runs at
  once, in chunks of ``engine.chunk_size`` runs (on ``engine.workers`` processes or Dask),
  each run with its experiment's values (``studies.points.with_point_values``). Both give
  the numbers of plain engine runs of the same points and seeds, bit for bit
  (tests/test_ema.py).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from alignment_sim import paths
from alignment_sim.engine.batch import check_memory, execute, run_chunk
from alignment_sim.errors import ConfigError
from alignment_sim.model.inputs import RunInputs
from alignment_sim.model.params import (
    RANGE_EXPECTED,
    EngineParams,
    SimulationConfig,
    format_bound,
)
from alignment_sim.presets import default_config
from alignment_sim.studies.outcomes import categorical_choices, outcome_values
from alignment_sim.studies.points import check_paths, with_point_values
from alignment_sim.studies.replications import outcome_table

with warnings.catch_warnings():
    # EMA announces at import that its optional ipyparallel evaluator is unavailable
    warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
        ScalarOutcome,
    )
    from ema_workbench.em_framework.evaluators import BaseEvaluator
    from ema_workbench.em_framework.model import AbstractModel
    from ema_workbench.em_framework.outcomes import AbstractOutcome
    from ema_workbench.em_framework.parameters import Parameter
    from ema_workbench.em_framework.points import experiment_generator

DEFAULT_REPLICATIONS = 10
"""Seeds per experiment when neither the call nor the configuration asks for more."""


class EngineModel(AbstractModel):
    """An EMA model whose experiments are runs of ``config`` through the batched engine.

    Set ``uncertainties``, ``levers``, ``constants`` and ``outcomes`` as on any EMA model
    (``engine_model`` does it from plain names); every experiment runs the seeds
    ``seeds`` (common random numbers). ``engine`` says how runs are spread (chunk size,
    workers, backend); the numbers do not depend on it.
    """

    def __init__(
        self,
        name: str,
        config: SimulationConfig,
        replications: int,
        engine: EngineParams | None = None,
    ) -> None:
        super().__init__(name)
        if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
            raise ConfigError("replications", replications, "a whole number >= 1")
        self.config = config
        self.seeds = np.arange(config.seed, config.seed + replications, dtype=np.int64)
        self.engine = engine or EngineParams(progress=False)
        self.engine.validate("engine")
        self.inputs = RunInputs.from_config(config)
        self._checked: tuple[Any, ...] | None = None

    @property
    def output_variables(self) -> list[str]:
        """The outcome names the outcomes read (EMA caches its own list at first use)."""
        return list(dict.fromkeys(v for outcome in self.outcomes for v in outcome.variable_name))

    # -- checks before any run -------------------------------------------------------------

    def check(self) -> None:
        """Refuse (ConfigError) a parameter that is no designable path or whose range leaves
        its domain, and an outcome the runs do not produce; before any run."""
        key = (
            tuple(repr(p) for p in [*self.uncertainties, *self.levers]),
            tuple((c.name, c.value) for c in self.constants),
            tuple(self.output_variables),
        )
        if key == self._checked:
            return
        for kind, parameters in (("uncertainties", self.uncertainties), ("levers", self.levers)):
            for parameter in parameters:
                _check_parameter(self.config, parameter, f"{self.name}.{kind}")
        for constant in self.constants:
            where = f"{self.name}.constants.{constant.name}"
            check_paths(self.config, [constant.name], f"{self.name}.constants")
            _check_values(where, constant.name, [constant.value])
        if not self.output_variables:
            raise ConfigError(f"{self.name}.outcomes", [], "at least one outcome")
        sample = outcome_table(run_chunk(self.inputs, self.seeds[:1], record="minimal"))
        choices = categorical_choices(self.inputs.world)
        for variable in self.output_variables:
            outcome_values(sample.drop(columns="seed"), variable, f"{self.name}.outcomes", choices)
        self._checked = key

    # -- EMA's interface ------------------------------------------------------------------

    def run_model(self, scenario: Any, policy: Any) -> None:
        """Run one experiment: its replications as one engine batch."""
        self.policy = policy
        (output,) = self.run_experiments([self.experiment_values(scenario, policy)])
        self.outcomes_output = output

    def experiment_values(
        self, scenario: Mapping[str, Any], policy: Mapping[str, Any]
    ) -> dict[str, float]:
        """An experiment's value of every path it sets: uncertainties (from the scenario),
        levers (from the policy), constants; by variable name (the path). A parameter with
        no value and no default keeps the base configuration's value (as EMA leaves a
        model function's own default)."""
        values: dict[str, float] = {c.name: float(c.value) for c in self.constants}
        for point, parameters in ((scenario, self.uncertainties), (policy, self.levers)):
            for parameter in parameters:
                value = point.get(parameter.name, parameter.default)
                if value is None:
                    continue
                for variable in parameter.variable_name:
                    values[variable] = float(value)
        return values

    def run_experiments(
        self, experiments: Sequence[Mapping[str, float]]
    ) -> list[dict[str, np.ndarray]]:
        """Every replication of every experiment, through the engine in chunks of runs;
        returns per experiment each output variable's value per replication, (R,)."""
        self.check()
        R = len(self.seeds)
        names = sorted({path for values in experiments for path in values})
        base = {n: float(paths.get_value(self.config, n)) for n in names}
        columns = {n: np.repeat([float(v.get(n, base[n])) for v in experiments], R) for n in names}
        seeds = np.tile(self.seeds, len(experiments))
        check_memory(self.inputs, len(seeds), self.engine, "minimal")
        size = self.engine.chunk_size
        tasks = [
            (
                self.inputs,
                {n: c[start : start + size] for n, c in columns.items()},
                seeds[start : start + size],
                self.output_variables,
            )
            for start in range(0, len(seeds), size)
        ]
        parts = list(execute(_outcome_chunk, tasks, self.engine))
        outputs = {
            variable: np.concatenate([part[variable] for part in parts]).reshape(-1, R)
            for variable in self.output_variables
        }
        return [
            {variable: outputs[variable][e] for variable in self.output_variables}
            for e in range(len(experiments))
        ]


def _outcome_chunk(
    inputs: RunInputs, values: dict[str, np.ndarray], seeds: np.ndarray, variables: list[str]
) -> dict[str, np.ndarray]:
    """One chunk of runs with per-run values: each output variable's value per run."""
    inputs = with_point_values(inputs, values) if values else inputs
    table = outcome_table(run_chunk(inputs, seeds, record="minimal")).drop(columns="seed")
    choices = categorical_choices(inputs.world)  # a value no run reaches is a share of 0
    return {v: outcome_values(table, v, "outcomes", choices) for v in variables}


def _check_parameter(config: SimulationConfig, parameter: Parameter, key: str) -> None:
    """A parameter sets designable paths, and every value it can take is in their domain."""
    if isinstance(parameter, BooleanParameter) or not isinstance(
        parameter, RealParameter | IntegerParameter
    ):
        raise ConfigError(
            f"{key}.{parameter.name}",
            type(parameter).__name__,
            "a RealParameter, IntegerParameter or CategoricalParameter of numbers",
        )
    if isinstance(parameter, CategoricalParameter):
        values = [category.value for category in parameter.categories]
    else:
        values = [parameter.lower_bound, parameter.upper_bound]
        if not values[0] < values[1]:
            raise ConfigError(f"{key}.{parameter.name}", values, RANGE_EXPECTED)
    for path in parameter.variable_name:
        check_paths(config, [path], key)
        _check_values(f"{key}.{parameter.name}", path, values)


def _check_values(key: str, path: str, values: Iterable[Any]) -> None:
    allowed = paths.domain(path)
    assert allowed is not None  # check_paths passed: a designable path has a domain
    for value in values:
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not number or not allowed.low <= float(value) <= allowed.high:
            raise ConfigError(
                key,
                value,
                f"values within [{format_bound(allowed.low)}, {format_bound(allowed.high)}] "
                f"({allowed.what}), as {path} accepts",
            )


def engine_model(
    scenario: str | SimulationConfig = "baseline",
    uncertainties: Mapping[str, tuple[float, float]] | Sequence[Parameter] = (),
    outcomes: Sequence[str | AbstractOutcome] = ("final_share_west",),
    *,
    levers: Mapping[str, tuple[float, float]] | Sequence[Parameter] = (),
    replications: int | None = None,
    engine: EngineParams | None = None,
    name: str = "alignmentsim",
    **config: Any,
) -> EngineModel:
    """An ``EngineModel`` from a base configuration and plain names, checked before any run.

    ``scenario``: a packaged scenario's name (the default region and decision rule, with
    ``config`` setting ticks, seed ...: ``default_config``) or a whole configuration.
    ``uncertainties`` and ``levers``: {path: (low, high)} (``RealParameter``s) or EMA
    parameters. ``outcomes``: outcome names (each the mean over the replications) or EMA
    outcomes. ``replications``: seeds per experiment (default: the configuration's
    ``replications`` if above 1, else 10).
    """
    if isinstance(scenario, SimulationConfig):
        if config:
            raise ConfigError("config", sorted(config), "no settings besides a whole configuration")
        base = scenario
    else:
        base = default_config(scenario=scenario, **config)
    if replications is None:
        replications = base.replications if base.replications > 1 else DEFAULT_REPLICATIONS
    model = EngineModel(name, base, replications, engine)
    model.uncertainties = _parameters(uncertainties)
    model.levers = _parameters(levers)
    model.outcomes = [
        ScalarOutcome(o, function=np.mean) if isinstance(o, str) else o for o in outcomes
    ]
    model.check()
    return model


def _parameters(given: Mapping[str, tuple[float, float]] | Sequence[Parameter]) -> list[Parameter]:
    if isinstance(given, Mapping):
        return [RealParameter(path, float(low), float(high)) for path, (low, high) in given.items()]
    return list(given)


class BatchedEvaluator(BaseEvaluator):
    """An EMA evaluator that runs all experiments of an ``EngineModel`` through the engine at
    once (``EngineModel.run_experiments``), instead of one experiment at a time."""

    def initialize(self) -> None:
        for model in self._msis:
            if not isinstance(model, EngineModel):
                raise TypeError(f"BatchedEvaluator runs EngineModels, not {type(model).__name__}")

    def finalize(self) -> None:
        pass

    def evaluate_experiments(
        self, scenarios: Any, policies: Any, callback: Any, combine: str = "factorial"
    ) -> None:
        self.initialize()
        experiments = list(experiment_generator(scenarios, self._msis, policies, combine=combine))
        for model in self._msis:
            mine = [e for e in experiments if e.model_name == model.name]
            values = [model.experiment_values(e.scenario, e.policy) for e in mine]
            for experiment, output in zip(mine, model.run_experiments(values), strict=True):
                model.policy = experiment.policy
                model.outcomes_output = output
                callback(experiment, model.outcomes_output)
