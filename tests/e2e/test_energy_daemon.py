"""The energy engine in `bms daemon`, driven as a user does: the demo site with 60 days of generated history.

The demo scenario is copied with ports of its own (the demo's ports belong to test_demo.py);
`bms sim history` fills history.db before the daemon starts (and refuses while it runs), the engine
backfills its meter from it, integrates the simulated Modbus meter's kW as it is polled and publishes
the projected demand to the virtual point energy/projected_kw.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess
from tests.e2e.test_logic_daemon import ENV, bms, demo_copy


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    conf = tmp_path_factory.mktemp("conf")
    scenario = demo_copy(conf)
    settings = conf / "bms.toml"
    settings.write_text(f"""
[daemon]
scenario = "{scenario}"

[energy]
tick = 1.0

[energy.tariff]
name = "business"
energy_rate = 0.18
demand_rate = 4.5
fixed_monthly = 25.0
""")
    generated = bms(data, "sim", "history", "--days", "60", "--scenario", str(scenario))
    assert generated.returncode == 0, generated.stderr
    assert "wrote 11,520 values of ahu1/oat, meter1/kw_total (60 days" in generated.stdout
    proc = DaemonProcess(data, settings)
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield data
        assert proc.terminate() == 0
    finally:
        proc.close()


def as_json(data: Path, *args: str) -> object:
    result = bms(data, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_demo_meter_is_backfilled_and_summarised(daemon: Path) -> None:
    components = {c["component"]: c for c in as_json(daemon, "status")["components"]}  # type: ignore[index]
    assert components["energy"]["state"] == "Healthy", components["energy"]
    meters = as_json(daemon, "energy", "meters")
    assert [(m["id"], m["point"], m["kind"]) for m in meters] == [("meter1", "meter1/kw_total", "power")]  # type: ignore[union-attr,index]
    summary = as_json(daemon, "energy", "summary", "--day", "--from", "-30d")
    final = [r for r in summary["rows"] if r["final"]]  # type: ignore[index]
    assert len(final) >= 29 and all(r["kwh"] > 500 for r in final)
    table = bms(daemon, "energy", "summary", "--week", "--from", "-8w")
    assert table.returncode == 0 and "kWh per week" in table.stdout


def test_the_projected_demand_is_a_point_and_the_bill_reads_line_by_line(daemon: Path) -> None:
    def projected() -> object:
        read = bms(daemon, "point", "read", "energy/projected_kw", "--json")
        return json.loads(read.stdout).get("value") if read.returncode == 0 else None

    wait_until(lambda: isinstance(projected(), float), timeout=30, what="energy/projected_kw published")
    demand = as_json(daemon, "energy", "demand")
    assert demand["meter"] == "meter1" and demand["projected_kw"] > 0  # type: ignore[index,operator]
    month = bms(daemon, "energy", "bill", "--month", demand["month"])  # type: ignore[index]
    assert month.returncode == 0, month.stderr
    assert "standing charge (month)" in month.stdout and "total" in month.stdout


def test_mistakes_get_one_line(daemon: Path) -> None:
    bad = bms(daemon, "energy", "bill", "--month", "November")
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        "error: month: 'November' is not a month (YYYY-MM)"], bad.stderr
    busy = subprocess.run([sys.executable, "-m", "bms", "sim", "history", "--data", str(daemon)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**__import__("os").environ, **ENV})
    assert busy.returncode == 1 and "stop it first (history.db has one writer)" in busy.stderr
