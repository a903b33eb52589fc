"""Issue 11's "nothing inert", measured: every mechanism knocked out in turn by
``experiments/mechanisms.py`` changes a measured outcome, and the table docs/MODEL.md
shows ("What each mechanism does") is what the script measures today."""

from __future__ import annotations

import pytest
from helpers import ROOT, load_script

SCRIPT = ROOT / "experiments" / "mechanisms.py"
SECTION = "## What each mechanism does"
VISIBLE = 0.002
"""A change the table shows (at its three decimals) beyond rounding: below it in every
measure, a mechanism would be inert."""


def documented_table() -> dict[str, list[float]]:
    """The rows of the mechanism table in docs/MODEL.md: case -> its values."""
    text = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or not cells[0] or cells[0].startswith("-"):
            continue
        try:
            rows[cells[0]] = [float(c) for c in cells[1:]]
        except ValueError:
            continue  # another table of the section, or a header
    return rows


@pytest.mark.slow
def test_every_mechanism_changes_a_measure_and_the_docs_table_is_current() -> None:
    mechanisms = load_script(SCRIPT)
    measured = mechanisms.changes(mechanisms.measure(100, progress=False)).round(3)
    documented = documented_table()
    assert sorted(documented) == sorted(measured.index)
    for case, row in measured.iterrows():
        assert list(row) == pytest.approx(documented[str(case)], abs=0.0015), case
        if case != "defaults" and not str(case).startswith("stance "):
            assert row.abs().max() >= VISIBLE, f"{case}: inert (every measure under {VISIBLE})"
