"""ScanTally: a discovery scan's reports as progress events with running counts."""

from __future__ import annotations

from bms.devices import ScanTally
from bms.messages import DiscoveryProgress


def test_each_report_carries_the_devices_found_and_the_objects_read_so_far() -> None:
    tally = ScanTally("s1", "lan")
    steps = [("who-is", 0, 1), ("who-is", 1, 1), ("device 7", 0, 1), ("device 9", 0, 1),
             ("device 7", 1, 4), ("device 9", 1, 3), ("device 7", 3, 4), ("device 9", 3, 3), ("device 7", 4, 4)]
    events = [tally.step(task, done, total, ts=float(i)) for i, (task, done, total) in enumerate(steps)]
    assert events[1] == DiscoveryProgress(scan="s1", network="lan", task="who-is", done=1, total=1, ts=1.0)
    assert [(e.devices, e.objects) for e in events[2:]] == [(1, 0), (2, 0), (2, 0), (2, 0), (2, 2), (2, 4), (2, 5)]
    assert (tally.devices, tally.objects) == (2, 5)  # device 7: 3 objects beside its device object; device 9: 2
