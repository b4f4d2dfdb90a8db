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


def starts_threads(path: Path) -> set[str]:
    """What in ``path`` can start a thread: threading.Thread/Timer, _thread, concurrent.futures (a Lock that a
    store shares with the actor layer's threads is no thread of its own)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in ("_thread", "concurrent.futures"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in ("_thread", "concurrent.futures") or node.module.startswith("concurrent.futures."):
                found.add(node.module)
            elif node.module == "threading":
                found.update(f"threading.{a.name}" for a in node.names if a.name in ("Thread", "Timer"))
        elif isinstance(node, ast.Attribute) and node.attr in ("Thread", "Timer") \
                and isinstance(node.value, ast.Name) and node.value.id == "threading":
            found.add(f"threading.{node.attr}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(BMS)))
def test_bms_starts_no_thread(path: Path) -> None:
    if path in THREADS_ALLOWED:
        return
    assert not starts_threads(path)
