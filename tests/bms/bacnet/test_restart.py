"""What says a BACnet device restarted: a table of device object readings."""

from __future__ import annotations

import pytest

from bms.bacnet import DeviceStatus, restart_evidence

UP = DeviceStatus(system_status="operational", database_revision=4, restarted_at="2026-12-3 thu 06:00:00.00",
                  restart_reason="coldstart")


@pytest.mark.parametrize(("before", "after", "evidence"), [
    (None, UP, ""),  # the first reading is the baseline
    (UP, UP, ""),
    (UP, DeviceStatus(system_status="operational", database_revision=4, restarted_at="2026-12-3 thu 13:00:05.00",
                      restart_reason="warmstart"),
     "time-of-device-restart 2026-12-3 thu 06:00:00.00 -> 2026-12-3 thu 13:00:05.00 (warmstart)"),
    (UP, DeviceStatus(system_status="operational", database_revision=5, restarted_at=UP.restarted_at),
     "database-revision 4 -> 5"),
    (DeviceStatus(system_status="download-in-progress"), DeviceStatus(system_status="operational"),
     "system-status download-in-progress -> operational"),
    (DeviceStatus(system_status="operational"), DeviceStatus(system_status="operational-read-only"), ""),
    (UP, DeviceStatus(), ""),  # properties it no longer gives say nothing
    (DeviceStatus(), UP, ""),
])
def test_restart_evidence(before: DeviceStatus | None, after: DeviceStatus, evidence: str) -> None:
    assert restart_evidence(before, after) == evidence
