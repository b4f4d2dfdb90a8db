"""bin/bms and bin/bms-sim: the checkout's launchers, run as a user runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bms import __version__
from tests.conftest import ROOT


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_bin_bms_runs_the_cli() -> None:
    done = run(str(ROOT / "bin/bms"), "--version")
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


def test_bin_bms_sim_runs_the_simulators_cli() -> None:
    done = run(str(ROOT / "bin/bms-sim"), "--help")
    assert done.returncode == 0, done.stderr
    assert "bacnet" in done.stdout and "modbus" in done.stdout


def test_without_the_dependencies_it_says_how_to_install_them(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    launcher = tmp_path / "bin" / "bms"
    shutil.copy(ROOT / "bin/bms", launcher)
    done = subprocess.run([sys.executable, "-S", str(launcher), "--version"], capture_output=True, text=True,
                          timeout=60)  # -S: no site-packages, so nothing of bms can be imported
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
    assert done.stderr.startswith("error: bms needs its dependencies") and "pip" in done.stderr
    assert "Traceback" not in done.stderr
