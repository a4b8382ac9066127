"""The package tree reads as the pipeline: one-way imports between stages, small modules.

Every import in lstm_core (at module level and inside functions alike) is read with ast, so a
lazy import that goes backwards is caught as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lstm_core"

# The stages in pipeline order; a module may import its own stage and earlier ones only.
STAGES = (
    "foundation",
    "data",
    "scaling",
    "features",
    "preprocessing",
    "evaluation",
    "model",
    "forecasting",
    "experiments",
    "execution",
    "charts",
    "cli",
)
FOUNDATION = {"lstm_core", "lstm_core.errors", "lstm_core.config", "lstm_core.json_text"}
MAX_LINES = 400


def module_name(path: Path, package: Path) -> str:
    """The dotted name of a file under the package directory."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> str:
    """The stage a dotted lstm_core module belongs to."""
    if module in FOUNDATION:
        return "foundation"
    if module == "lstm_core.__main__":
        return "cli"
    stage = module.split(".")[1]
    if stage not in STAGES:
        raise ValueError(f"{module} is in no stage; add its folder to STAGES in {__file__}.")
    return stage


def imported_modules(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every lstm_core import in a file, wherever it stands."""
    name = module_name(path, package)
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source == "lstm_core":
                # `from lstm_core import data` imports the subpackage lstm_core.data.
                found += [(node.lineno, f"lstm_core.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, source))
    return [(line, module) for line, module in found if module.split(".")[0] == "lstm_core"]


def stage_imports(package: Path) -> list[tuple[str, int, str, str]]:
    """(file, line, importing stage, imported stage) for every import between two stages."""
    edges = []
    for path in sorted(package.rglob("*.py")):
        importer = stage_of(module_name(path, package))
        for line, module in imported_modules(path, package):
            imported = stage_of(module)
            if imported != importer:
                edges.append((str(path.relative_to(package.parent)), line, importer, imported))
    return edges


def reverse_imports(package: Path) -> list[str]:
    """Each import of a later stage by an earlier one, as 'file:line: stage -> stage'."""
    return [
        f"{file}:{line}: {importer} imports later stage {imported}"
        for file, line, importer, imported in stage_imports(package)
        if STAGES.index(imported) > STAGES.index(importer)
    ]


def stage_cycle(package: Path) -> list[str] | None:
    """A cycle of stages that import each other, or None."""
    graph: dict[str, set[str]] = {}
    for _, _, importer, imported in stage_imports(package):
        graph.setdefault(importer, set()).add(imported)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(stage: str) -> list[str] | None:
        if stage in visiting:
            return [*visiting[visiting.index(stage) :], stage]
        if stage in done:
            return None
        visiting.append(stage)
        for following in sorted(graph.get(stage, ())):
            cycle = visit(following)
            if cycle:
                return cycle
        visiting.pop()
        done.add(stage)
        return None

    for stage in sorted(graph):
        cycle = visit(stage)
        if cycle:
            return cycle
    return None


def test_every_folder_is_a_known_stage() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert stage_of(module_name(path, PACKAGE)) in STAGES


def test_no_stage_imports_a_later_one() -> None:
    assert reverse_imports(PACKAGE) == []


def test_no_two_stages_import_each_other() -> None:
    assert stage_cycle(PACKAGE) is None


def test_a_planted_reverse_import_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "lstm_core"
    (package / "data").mkdir(parents=True)
    (package / "model").mkdir()
    (package / "__init__.py").write_text('"""Top."""\n')
    (package / "data" / "__init__.py").write_text('"""Data."""\n')
    (package / "model" / "__init__.py").write_text('"""Model."""\n')
    (package / "model" / "network.py").write_text("from lstm_core.data import prices\n")
    # A lazy import inside a function counts as much as one at the top.
    (package / "data" / "prices.py").write_text("def f():\n    from ..model import network\n")
    assert reverse_imports(package) == [
        "lstm_core/data/prices.py:2: data imports later stage model"
    ]
    assert stage_cycle(package) == ["data", "model", "data"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=str)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines"


def test_no_lstm_core_file_imports_streamlit() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            offenders += [str(path) for name in names if name.split(".")[0] == "streamlit"]
    assert offenders == []


def test_every_package_says_what_it_holds() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring, f"{init.relative_to(PACKAGE.parent)} has no docstring"
