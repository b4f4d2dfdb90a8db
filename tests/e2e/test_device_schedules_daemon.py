"""Device-resident schedules through a real `bms daemon`: pull the simulated AHU's Schedule object, edit, push.

The daemon runs its own simulated AHU (on a loopback address and a free
port of this module); the operator uses the CLI as on a site.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bms.cli import cli
from tests.bms.bacnet.loopback import free_port, host
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import running


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("devsched")
    scenario = path / "site.toml"
    scenario.write_text(f"""
profile_dirs = ["{ROOT / 'conf/profiles'}"]

[site]
id = "lab"
name = "Lab"
timezone = "Europe/London"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {free_port()}
poll_interval = 1.0
timeout = 1.0
retries = 1

[simulate]
enabled = true
bacnet_base_address = "{host(91)}"

[[devices]]
id = "ahu1"
profile = "ahu"
protocol = "bacnet"
network = "lan"
address = "{host(91)}"
device_instance = 9101
""")
    with running(path / "data", scenario):
        yield path / "data"


def bms(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--data", str(data)])


def test_pull_edit_push_and_pull_again(data: Path, tmp_path: Path) -> None:
    wait_until(lambda: bms(data, "schedule", "pull", "ahu1", "--json").exit_code == 0, timeout=20,
               what="the AHU answering")
    pulled = json.loads(bms(data, "schedule", "pull", "ahu1", "--json").output)
    assert {d["object_id"] for d in pulled} == {"schedule,1", "calendar,1"}
    shown = bms(data, "schedule", "pull", "ahu1")
    assert shown.exit_code == 0 and "schedule,1" in shown.output
    fan = next(d for d in pulled if d["object_id"] == "schedule,1")
    monday = fan["schedule"]["weekly"]["mon"]
    monday[0]["at"] = "06:30"  # start the fan earlier on Mondays
    edited = tmp_path / "fan.json"
    edited.write_text(json.dumps([fan]))
    pushed = bms(data, "schedule", "push", fan["name"], "ahu1", "--object", "schedule,1", "--from", str(edited))
    assert pushed.exit_code == 0, pushed.output
    again = json.loads(bms(data, "schedule", "pull", "ahu1", "--json").output)
    held = next(d for d in again if d["object_id"] == "schedule,1")
    assert held["schedule"]["weekly"]["mon"][0]["at"] == "06:30"  # the device holds the edit


def test_mistakes_are_one_line(data: Path) -> None:
    for args, text in ((("schedule", "pull", "nope"), "nope"),
                       (("schedule", "push", "office", "ahu1", "--object", "schedule,9"), "")):
        result = bms(data, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert text in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
