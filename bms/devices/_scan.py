"""A discovery scan's progress as events: each step of its tasks, with what it has found so far.

:func:`bms.bacnet.discover` reports ``progress(task, done, total)``;
:class:`ScanTally` turns each report into a :class:`~bms.messages.DiscoveryProgress`
carrying the scan's running counts (devices that answered the Who-Is,
objects read on them), so a client that sees only the latest event of each
task still shows the whole scan. The devices service publishes them; the
CLI draws them (in process, or from the daemon's stream).
"""

from __future__ import annotations

from bms.messages import DiscoveryProgress

DEVICE_TASK = "device "
"""Tasks named ``device <instance>`` read one device: its device object, then each of its objects."""


class ScanTally:
    """The running counts of one scan; feed it every progress report, in order."""

    def __init__(self, scan: str, network: str) -> None:
        self.scan = scan
        self.network = network
        self.devices = 0
        self.objects = 0
        self._done: dict[str, int] = {}  # device task -> its step

    def step(self, task: str, done: int, total: int, ts: float) -> DiscoveryProgress:
        """The event of one report: ``task`` reached ``done`` of ``total``."""
        if task.startswith(DEVICE_TASK):
            before = self._done.get(task)
            if before is None:
                self.devices += 1
            self.objects += max(0, done - 1) - max(0, (before or 0) - 1)  # its device object is not counted
            self._done[task] = done
        return DiscoveryProgress(scan=self.scan, network=self.network, task=task, done=done, total=total, ts=ts,
                                 devices=self.devices, objects=self.objects)


def scan_seconds(protocol: str, timeout: float, units: int = 0) -> float:
    """How long a scan's own work may take: a BACnet Who-Is waits ``timeout``; a Modbus probe up to
    three requests of ``timeout`` on each of its ``units`` (10 when not given)."""
    if protocol == "modbus":
        return timeout * 3 * (units or 10)
    return timeout


def unit_ids(units: tuple[int, ...], low: int | None, high: int | None) -> list[int]:
    """The Modbus unit ids a probe tries: ``units``, else ``low``..``high`` (either may be left out), else 1..10."""
    if units:
        return sorted(set(units))
    if low is None and high is None:
        return list(range(1, 11))
    first = 1 if low is None else low
    last = 247 if high is None else high
    return list(range(first, last + 1))
