"""The packaged fitted set is what a fit of the packaged record gives (docs/ESTIMATION.md)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from alignment_sim.estimation.fitted import FittedSet, available
from alignment_sim.estimation.jobs import fit_config, load_histories, record_path
from alignment_sim.estimation.likelihood import ConditionalLikelihood, floored_sum
from alignment_sim.model.params import SimulationConfig
from alignment_sim.outputs.files import sha256
from alignment_sim.presets import default_config

PACKAGED = "post_soviet_1991_2010"
ESTIMATION_DOC = ROOT / "docs" / "ESTIMATION.md"


def test_the_packaged_set_names_its_record_and_window() -> None:
    fitted = FittedSet.load(PACKAGED)
    config = default_config(scenario="history")
    assert PACKAGED in available()
    assert fitted.provenance["window"] == [1991, 2010]
    assert fitted.provenance["objective"] == "labels"  # what the scorer reads
    assert fitted.provenance["record_sha256"] == sha256(record_path(config))
    assert [p.path for p in fitted.parameters] == config.estimation.parameters
    # every prior centre is the default the package ships
    for parameter in fitted.parameters:
        assert parameter.default == pytest.approx(_value(config, parameter.path))


def _value(config: object, path: str) -> float:
    from alignment_sim import paths

    return float(paths.get_value(config, path))  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_fit_of_the_packaged_record_reproduces_the_packaged_set() -> None:
    config = default_config(scenario="history")
    result = fit_config(config, load_histories(config))
    fitted = FittedSet.load(PACKAGED)
    np.testing.assert_allclose(result.mode, fitted.mode, rtol=0, atol=1e-4)
    np.testing.assert_allclose(result.covariance, fitted.covariance, rtol=1e-3, atol=1e-6)
    assert result.log_likelihood == pytest.approx(fitted.provenance["log_likelihood"], abs=1e-4)


def test_the_documented_estimates_are_the_packaged_sets() -> None:
    """Every row of docs/ESTIMATION.md's parameter table gives the packaged set's mode (to
    the table's three significant figures) beside the default the package ships, so a
    refit cannot leave the documented estimates stale."""
    doc = ESTIMATION_DOC.read_text("utf-8")
    fitted = FittedSet.load(PACKAGED)
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`") and cells[0].strip("`") in fitted.values:
            rows[cells[0].strip("`")] = (float(cells[1]), float(cells[2]))
    assert sorted(rows) == sorted(fitted.values)  # a row a fitted parameter
    for path, (default, estimate) in rows.items():
        assert estimate == pytest.approx(float(f"{fitted.values[path]:.3g}"), abs=1e-9), path
        assert default == pytest.approx(_value(default_config(scenario="history"), path)), path


def test_the_documented_contributions_by_state_are_the_records() -> None:
    """docs/ESTIMATION.md's table of the record's log-likelihood by state (labels and
    profiles, at the defaults and at the packaged set, to 0.1) is what the likelihood
    gives today, so a change of the model or a refit cannot leave it stale."""
    doc = ESTIMATION_DOC.read_text("utf-8")
    rows = doc[doc.index("| state | labels | profiles |") :].splitlines()[2:]
    defaults = default_config(scenario="history")
    points = [by_state(defaults), by_state(FittedSet.load(PACKAGED).apply(defaults))]
    covered: list[str] = []
    for row in itertools.takewhile(lambda line: line.startswith("|"), rows):
        name, *cells = (c.strip() for c in row.strip("|").split("|"))
        group = name.replace(" and ", ", ").split(", ")
        covered += group
        for column, cell in enumerate(cells):  # labels, profiles
            for point, documented in zip(points, cell.split(" / "), strict=True):
                measured = sum(point[state][column] for state in group)
                assert float(documented) == pytest.approx(measured, abs=0.051), (name, column)
    assert sorted(covered) == sorted(points[0])  # every state in the table once


def by_state(config: SimulationConfig) -> dict[str, tuple[float, float]]:
    """The record's log-likelihood of each state's labels and profiles at ``config``
    (``floored_sum`` over the years, as the fit sums them)."""
    likelihood = ConditionalLikelihood.build(config, load_histories(config))
    contributions = likelihood.label_and_profile_contributions({})
    floored = [floored_sum(c, axis=(1, 2))[0] for c in contributions]
    states = likelihood.inputs.world.states
    return {
        s.capitalize(): (float(floored[0][i]), float(floored[1][i])) for i, s in enumerate(states)
    }


def test_the_set_of_a_fit_that_did_not_finish_is_refused(tmp_path: Path) -> None:
    """A fit's run folder (fit.json beside fitted.yaml) is read only once its manifest
    says it finished; a fitted.yaml of one's own, alone, is read as it is."""
    from alignment_sim.errors import ConfigError
    from alignment_sim.estimation.fitted import FITS_DIR
    from alignment_sim.outputs.files import finish_job

    packaged = (FITS_DIR / "post_soviet_1991_2010.yaml").read_text()
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "fitted.yaml").write_text(packaged)
    assert FittedSet.load(alone).values == FittedSet.load("post_soviet_1991_2010").values
    run = tmp_path / "run"
    run.mkdir()
    (run / "fitted.yaml").write_text(packaged)
    (run / "fit.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"fit = .*run.*a fit that finished.*unfinished"):
        FittedSet.load(run)
    with pytest.raises(ConfigError, match="a fit that finished"):
        FittedSet.load(run / "fitted.yaml")
    finish_job(run, {"task": "fit"}, ["fit.json", "fitted.yaml"])
    assert FittedSet.load(run).values == FittedSet.load("post_soviet_1991_2010").values
