"""The README's notebook snippet runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_notebook_snippet_runs(capsys) -> None:
    blocks = python_blocks()
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "belarus" in printed
    trajectory = namespace["trajectory"]
    assert trajectory.ticks == 20  # type: ignore[attr-defined]
    assert namespace["config"].dynamics.stance == 1.0  # type: ignore[attr-defined]


def test_readme_names_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "make test\n" in ci


def test_docs_cover_every_term_and_pattern() -> None:
    from alignment_sim.model.kernels import TERMS
    from alignment_sim.studies.patterns import PATTERNS

    docs = Path(__file__).parents[1] / "docs"
    model = (docs / "MODEL.md").read_text()
    for term in TERMS:
        assert f"`{term}" in model or f"{term}_term" in model, f"MODEL.md misses {term}"
    odd = (docs / "ODD.md").read_text()
    for heading in (
        "Purpose",
        "Entities",
        "Process overview",
        "Design concepts",
        "Initialization",
        "Input data",
        "Submodels",
    ):
        assert heading in odd, heading
    for number in PATTERNS:
        assert f"test_pattern_emerges[{number}]" in odd
