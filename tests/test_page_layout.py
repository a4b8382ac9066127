"""The app's files say what they are: pages/*.py are exactly the pages, and none runs long.

A script that lists pages/*.py (Streamlit's older multipage convention) must find only pages;
what several pages share lives in pages/shared/, a page's sections in pages/sections/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
MAX_PAGE_LINES = 250
MAX_HELPER_LINES = 300
HELPER_PACKAGES = ("shared", "sections")
# Code that drives the app from outside may use Streamlit's test harness, never Streamlit itself.
TEST_HARNESS = "streamlit.testing"


def navigation_pages() -> set[str]:
    """The paths app.py gives st.Page, as written there ("pages/train.py", ...)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    paths = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Page"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            paths.add(node.args[0].value)
    return paths


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def streamlit_imports(path: Path) -> list[str]:
    """The Streamlit modules a file imports, anywhere in it (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "streamlit" or name.startswith("streamlit.")]
    return found


def test_the_pages_folder_holds_exactly_the_navigation_pages() -> None:
    on_disk = {f"pages/{path.name}" for path in PAGES.glob("*.py")}
    assert navigation_pages() == on_disk
    assert len(on_disk) == 7


def test_the_helper_packages_say_they_are_not_pages() -> None:
    for package in HELPER_PACKAGES:
        docstring = ast.get_docstring(ast.parse((PAGES / package / "__init__.py").read_text()))
        assert docstring is not None and "not a page" in docstring.lower()


@pytest.mark.parametrize("path", sorted(PAGES.glob("*.py")), ids=lambda path: path.name)
def test_no_page_runs_long(path: Path) -> None:
    assert line_count(path) <= MAX_PAGE_LINES


def test_no_page_helper_runs_long() -> None:
    helpers = [path for package in HELPER_PACKAGES for path in (PAGES / package).rglob("*.py")]
    assert len(helpers) > 10
    long = {path.name: line_count(path) for path in helpers if line_count(path) > MAX_HELPER_LINES}
    assert long == {}


def test_only_the_app_imports_streamlit() -> None:
    """lstm_core never imports Streamlit; the benches and test helpers only its test harness."""
    core = list((ROOT / "lstm_core").rglob("*.py"))
    drivers = [
        *(ROOT / "bench").rglob("*.py"),
        *(path for path in (ROOT / "tests").glob("*.py") if not path.name.startswith("test_")),
    ]
    offenders = {str(path.relative_to(ROOT)): streamlit_imports(path) for path in core}
    for path in drivers:
        offenders[str(path.relative_to(ROOT))] = [
            name for name in streamlit_imports(path) if not name.startswith(TEST_HARNESS)
        ]
    assert {path: names for path, names in offenders.items() if names} == {}
    assert len(core) > 10 and len(drivers) > 5
    # The check sees an import where there is one.
    assert streamlit_imports(ROOT / "app.py") == ["streamlit"]
