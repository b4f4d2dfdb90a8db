"""A discovery scan on the terminal: one progress bar per task, and what it found so far.

The same :class:`~bms.messages.DiscoveryProgress` events drive it whether
the scan runs in this process (:class:`~bms.devices.ScanTally` makes them
from its reports) or in the daemon (they come from its live stream while
the scan's request waits: :meth:`bms.client.ApiClient.discover` with
``progress``).
"""

from __future__ import annotations

from rich.progress import Progress, TaskID

from bms.messages import DiscoveryProgress


def found_line(devices: int, objects: int) -> str:
    """``found 3 devices, 42 objects read``."""
    return f"found {devices} device{'' if devices == 1 else 's'}, {objects} object{'' if objects == 1 else 's'} read"


def answered_line(units: int) -> str:
    """A Modbus probe's: ``2 units answered``."""
    return f"{units} unit{'' if units == 1 else 's'} answered"


class ScanBars:
    """Draws a scan's progress on ``bar`` (a Modbus probe's, ``probe``: unit ids tried of how many, units answered)."""

    def __init__(self, bar: Progress, probe: bool = False) -> None:
        self.bar = bar
        self.devices = 0
        self.objects = 0
        self._line = (lambda devices, _objects: answered_line(devices)) if probe else found_line
        self._tasks: dict[str, TaskID] = {}
        self._found = bar.add_task(self._line(0, 0), total=None)

    def show(self, event: DiscoveryProgress) -> None:
        """One step of one task; the counts never go back (events of several tasks may cross)."""
        task = self._tasks.get(event.task)
        if task is None:
            task = self._tasks[event.task] = self.bar.add_task(event.task, total=event.total)
        self.bar.update(task, completed=event.done, total=event.total)
        self.devices, self.objects = max(self.devices, event.devices), max(self.objects, event.objects)
        self.bar.update(self._found, description=self._line(self.devices, self.objects))
