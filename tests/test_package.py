"""The package's public names: each resolves to its home module's object, on first use;
its commands: each resolves to a function."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib

from helpers import ROOT

import alignment_sim


def test_every_public_name_resolves_to_its_home_module() -> None:
    assert set(alignment_sim.__all__) == {"__version__", *alignment_sim.HOMES}
    for name, home in alignment_sim.HOMES.items():
        assert getattr(alignment_sim, name) is getattr(importlib.import_module(home), name)
    assert set(alignment_sim.HOMES) <= set(dir(alignment_sim))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        alignment_sim.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def printed_by(code: str) -> str:
    """What ``code`` prints in a fresh Python process (so nothing is imported before it)."""
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout


def test_importing_the_package_leaves_mesa_pandas_and_the_presets_unloaded() -> None:
    """A command pays only for what it uses: the report's figure worker, the engine and
    the scorer import the package first."""
    found = printed_by(
        "import sys, alignment_sim; "
        "print(sorted(m for m in ('mesa', 'pandas', 'omegaconf', 'alignment_sim.presets') "
        "if m in sys.modules))"
    )
    assert found.strip() == "[]"


def test_the_comparison_imports_matplotlib_only_to_draw() -> None:
    """``alignment-sim-compare`` hands its figures to ``entry.draw_figure`` by name, so a
    process that draws none (the command while its worker draws) never imports matplotlib."""
    found = printed_by(
        "import sys, alignment_sim.report.command; print('matplotlib' in sys.modules); "
        "from alignment_sim.report.entry import draw_figure; "
        "print(draw_figure('wrap', ('a, b', 3))); print('matplotlib' in sys.modules)"
    )
    assert found.split("\n")[:4] == ["False", "a,", "b", "True"]


def test_the_estimation_and_score_commands_import_scipy_and_matplotlib_only_when_used() -> None:
    """A fit, forecast, validation or scoring refused for a bad input answers before
    scipy's optimiser and statistics and matplotlib are loaded (about a second together):
    they are imported where a fit runs, an interval is computed or a figure is drawn."""
    found = printed_by(
        "import sys, alignment_sim.estimation.jobs, alignment_sim.estimation.forecast, "
        "alignment_sim.estimation.validate, alignment_sim.report.score; "
        "print([m for m in ('matplotlib', 'scipy.optimize', 'scipy.stats') if m in sys.modules])"
    )
    assert found.strip() == "[]"


def test_every_command_resolves_to_a_function_and_the_readme_names_it() -> None:
    """Each console script of pyproject.toml points at a callable that exists (a renamed
    ``main`` would install a command that fails on first use) and README.md shows it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    readme = (ROOT / "README.md").read_text()
    scripts = project["project"]["scripts"]
    assert {"alignment-sim-patterns", "alignment-sim-robustness"} <= set(scripts)
    for command, target in scripts.items():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), command
        assert re.search(rf"(?<![\w-]){re.escape(command)}(?![\w-])", readme), command
