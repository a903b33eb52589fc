"""The packaged fitted set is what a fit of the packaged record gives (docs/ESTIMATION.md)."""

from __future__ import annotations

import numpy as np
import pytest

from alignment_sim.estimation.fitted import FittedSet, available
from alignment_sim.estimation.jobs import fit_config, load_histories, record_path
from alignment_sim.outputs.files import sha256
from alignment_sim.presets import default_config

PACKAGED = "post_soviet_1991_2010"


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
