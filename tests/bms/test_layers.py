"""The rule of the two packages: bms/ never imports actors/ and owns no thread (ARCHITECTURE, section 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BMS = Path(__file__).resolve().parents[2] / "bms"
SOURCES = sorted(BMS.rglob("*.py"))
THREADS_ALLOWED = {BMS / "clock.py"}  # the clock's wait() takes a threading.Event to cancel it


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(BMS)))
def test_bms_never_imports_actors(path: Path) -> None:
    assert not {n for n in imported(path) if n == "actors" or n.startswith("actors.")}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(BMS)))
def test_bms_starts_no_thread(path: Path) -> None:
    if path in THREADS_ALLOWED:
        return
    assert not {n for n in imported(path) if n in ("threading", "_thread", "concurrent.futures")}
    assert "Thread(" not in path.read_text()
