"""The README is true: its Python examples run as written, its layout is the package's tree,
and it names the two commands CI runs."""

from __future__ import annotations

import itertools
import re

import pytest
from helpers import ROOT, run_cli

from alignment_sim.studies import discover

README = ROOT / "README.md"
PACKAGE = ROOT / "src" / "alignment_sim"


def python_blocks() -> list[str]:
    """The README's ```python blocks, each padded with blank lines to its place in the
    README, so an error names the README's own line number."""
    text = README.read_text()
    return [
        "\n" * text.count("\n", 0, match.start(1)) + match.group(1)
        for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S)
    ]


def section(title: str) -> str:
    """The text of the README section ``## title`` (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README.read_text(), re.M | re.S)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def run_block(block: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(block, "README.md", "exec"), namespace)
    return namespace


def test_notebook_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks()
    assert blocks, "README has no python example"
    namespace = run_block(blocks[0])
    printed = capsys.readouterr().out
    assert "belarus" in printed
    trajectory = namespace["trajectory"]
    assert trajectory.ticks == 20  # type: ignore[attr-defined]
    yearly = namespace["yearly"]  # 20 quarters from 2015: the ends of 2015-2019
    assert sorted(set(yearly["year"])) == [2015, 2016, 2017, 2018, 2019]  # type: ignore[index]
    assert "Belarus" in set(yearly["state"])  # type: ignore[index]
    assert namespace["config"].dynamics.stance == 1.0  # type: ignore[attr-defined]
    # the five stepped ticks and the rest make one run: alignment for ticks 0..20
    assert trajectory.alignment.shape[1] == 21  # type: ignore[attr-defined]


def test_the_other_python_examples_run() -> None:
    """Every further ```python block runs as written, each in a fresh namespace."""
    blocks = python_blocks()[1:]
    assert blocks, "README has only one python example"
    for block in blocks:
        namespace = run_block(block)
        assert len(namespace) > 2, f"a python block defined nothing:\n{block.strip()}"


def listed_layout() -> tuple[set[str], set[str], dict[str, set[str]]]:
    """From the README's layout block: top-level modules, folders, and modules per folder."""
    block = re.search(r"```\n(src/alignment_sim/\n.*?)```", section("Layout"), re.S)
    assert block, "the Layout section has no tree of src/alignment_sim/"
    modules: set[str] = set()
    folders: set[str] = set()
    in_folder: dict[str, set[str]] = {}
    current = ""
    for line in block.group(1).splitlines()[1:]:
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:  # the tree of the package has ended (experiments/, docs/, ...)
            break
        words = line.split()
        names = set(re.findall(r"\b(\w+\.py)\b", line))
        if indent == 2:
            leading = list(itertools.takewhile(lambda word: word.endswith("/"), words))
            leading = [word.rstrip("/") for word in leading]
            if leading:
                folders.update(leading)
                current = leading[0]
                in_folder.setdefault(current, set()).update(names)
            else:
                current = ""
                modules.update(names)
        elif current:
            in_folder[current].update(names)
    return modules, folders, in_folder


def test_layout_section_is_the_package_tree() -> None:
    modules, folders, in_folder = listed_layout()
    real_modules = {p.name for p in PACKAGE.glob("*.py")}
    real_folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert modules == real_modules, "top-level modules in the README vs src/alignment_sim"
    assert folders == real_folders, "folders in the README vs src/alignment_sim"
    missing = {
        f"{folder}/{name}"
        for folder, names in in_folder.items()
        for name in names
        if not (PACKAGE / folder / name).is_file()
    }
    assert not missing, f"the README's layout names modules that do not exist: {missing}"


def test_readme_names_the_two_commands_ci_runs() -> None:
    text = README.read_text()
    setup = section("Set up: two commands")
    assert "make run" in setup and "make test" in setup
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci and "make test-slow" in ci, "CI runs the README's test command"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "test-slow", "lint", "format", "clean"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"make {target}"
    assert "alignment-sim[viz]" in text or "make viz" in text


def test_docs_cover_every_term_and_pattern() -> None:
    from alignment_sim.model.kernels import TERMS
    from alignment_sim.studies.patterns import PATTERNS

    docs = ROOT / "docs"
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


def test_docs_point_only_inside_the_repository() -> None:
    """No path of the development machine or outside the clone in the docs or the package."""
    outside = re.compile(r"\.\./shared|/work/|/home/|/Users/|MECHANISMS\.md")
    texts = [README, *sorted((ROOT / "docs").glob("*.md"))]
    texts += sorted(p for p in PACKAGE.rglob("*") if p.suffix in {".py", ".md", ".yaml"})
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in texts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if outside.search(line)
    ]
    assert not hits, f"paths outside the repository: {hits}"


def test_results_readme_names_every_folder_the_commands_write_by_default() -> None:
    """Each default output folder (a Hydra ``dir: results/<kind>``, a command's
    ``timestamped_folder("<kind>")`` or ``results/<kind>`` default) is listed in
    results/README.md, which used to name three of twelve."""
    written = set()
    for path in [*PACKAGE.rglob("*.yaml"), *PACKAGE.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r"dir: results/([a-z_]+)", text))
        written |= set(re.findall(r'timestamped_folder\("([a-z_]+)"\)', text))
        written |= set(re.findall(r'Path\("results"\) / "([a-z_]+)"', text))
        written |= set(re.findall(r'Path\("results/([a-z_]+)', text))
    listed = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert {"runs", "sweeps", "designs", "compare", "fits", "landscape", "robustness"} <= written
    assert [kind for kind in sorted(written) if f"`results/{kind}/" not in listed] == []


@pytest.mark.slow
def test_the_readme_scenario_discovery_runs_as_written(tmp_path, monkeypatch, capsys) -> None:
    """Step 6 of the README's research workflow, its two commands as written: the design
    and a threshold that splits its points (one above every point's mean was refused)."""
    lines = README.read_text().splitlines()
    at = lines.index("alignment-sim experiment=lhs")
    discover_line = lines[at + 1]
    assert discover_line.startswith("alignment-sim-discover results/designs/lhs ")
    result = run_cli(["experiment=lhs"], tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    discover.main(discover_line.split()[1:])
    said = capsys.readouterr().out
    interest, total = map(int, re.search(r"(\d+) of (\d+) points have", said).groups())
    assert total == 200 and 0.2 * total < interest < 0.8 * total
