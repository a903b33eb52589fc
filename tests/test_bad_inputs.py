"""The bad-input battery (benchmarks/bad_inputs.py) as a test: every case handled well.

Slow (about five minutes on two cores): it starts every command over 200 times.
"""

from __future__ import annotations

import pytest
from helpers import ROOT, load_script

BATTERY = ROOT / "benchmarks" / "bad_inputs.py"


def test_the_battery_has_over_200_bad_inputs() -> None:
    cases = load_script(BATTERY).cases()
    bad = [c for c in cases if c.expect == "refuse"]
    assert len(bad) >= 200
    assert len({c.id for c in cases}) == len(cases), "case ids must be unique"
    # every refusal names what was wrong, so a user can act on the message
    assert all(c.words for c in bad)


@pytest.mark.slow
def test_every_bad_input_is_handled_well(capsys: pytest.CaptureFixture[str]) -> None:
    status = load_script(BATTERY).main(["--jobs", "2"])
    report = capsys.readouterr().out
    failed = [line for line in report.splitlines() if line.startswith("FAIL")]
    assert status == 0, "\n".join(failed)
