"""The rolling-origin hindcasts (``experiments/hindcast.py``): issue 11's requirement 9,
that the model at its defaults beats persistence and the sticky base rate on the Brier
and log scores from every origin, and the script's refusal of a bad ``--out``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT, load_script

SCRIPT = ROOT / "experiments" / "hindcast.py"


@pytest.mark.parametrize("case", ["file", "under a file", "foreign folder"])
def test_a_bad_out_is_refused_before_anything_runs(tmp_path: Path, capsys, case: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep")
    out, needle = {
        "file": (afile, "It is a file."),
        "under a file": (afile / "h", f"{afile} is a file, not a folder"),
        "foreign folder": (mine, "It holds thesis.tex, which a hindcast does not write."),
    }[case]
    with pytest.raises(SystemExit) as exited:
        load_script(SCRIPT).main(["--replications", "2", "--out", str(out)])
    assert exited.value.code == 2
    assert needle in capsys.readouterr().err.strip().splitlines()[-1]
    assert afile.read_text() == "keep" and [p.name for p in mine.iterdir()] == ["thesis.tex"]


def test_a_bad_size_is_refused_before_anything_runs(tmp_path: Path, capsys) -> None:
    """--replications 0 failed inside the first run, after its folder was made."""
    with pytest.raises(SystemExit) as exited:
        load_script(SCRIPT).main(["--replications", "0", "--out", str(tmp_path / "h")])
    assert exited.value.code == 2
    assert "--replications 0: expected a whole number >= 1" in capsys.readouterr().err
    assert not (tmp_path / "h").exists()


@pytest.mark.slow
def test_the_model_beats_both_baselines_from_every_origin(tmp_path: Path, capsys) -> None:
    """200 runs per origin (1995, 2000, 2005, to 2010), the script's default: lower Brier
    and higher log score than persistence and the sticky base rate at each (Brier 0.106,
    0.063, 0.069 against persistence's 0.376, 0.200, 0.364); and the hindcast table that
    README.md ("Does it reproduce history?") and docs/MODEL.md ("Calibration") show is the
    one the script writes, row for row, so neither can go stale as the model moves."""
    out = tmp_path / "hindcast"
    assert load_script(SCRIPT).main(["--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(summary) == ["1995", "2000", "2005"]
    for origin, s in summary.items():
        assert s["n_runs"] == 200, origin
        for baseline in ("persistence", "sticky"):
            assert s["brier"] < s[f"brier_{baseline}"], (origin, baseline)
            assert s["log_score"] > s[f"log_score_{baseline}"], (origin, baseline)
    for name in ("summary.csv", "summary.md", "report.html"):
        assert (out / name).stat().st_size > 0
    rows = [line for line in (out / "summary.md").read_text().splitlines() if line.startswith("|")]
    assert len(rows) == 11  # header, rule, 3 origins x 3 forecasters
    for doc in (ROOT / "README.md", ROOT / "docs" / "MODEL.md"):
        text = doc.read_text(encoding="utf-8")
        assert "\n".join(rows) in text, f"{doc.name}'s hindcast table is not the script's"


def test_an_in_sample_origin_is_said_under_the_table() -> None:
    """Runs at a set fitted on the scored years (fit=...) make no hindcast: the table says
    which origins are in sample (alignment-sim-score's in_sample_fit), and none at the
    defaults."""
    script = load_script(SCRIPT)
    one = {"from": 2006, "to": 2010, "n_state_years": 55, "n_runs": 20}
    scores = {m + suffix: 0.5 for m in script.SHOWN for suffix in ("", "_persistence", "_sticky")}
    table = script.summary_table(
        {2000: {**one, **scores}, 2005: {**one, **scores, "in_sample_fit": True}}
    )
    assert table["fitted in sample"].tolist() == [False, True]
    text = script.markdown(table)
    assert text.rstrip().endswith("(alignment-sim-score's note): not a hindcast.")
    assert "In sample (origins 2005)" in text
    assert "In sample" not in script.markdown(table.assign(**{"fitted in sample": False}))
