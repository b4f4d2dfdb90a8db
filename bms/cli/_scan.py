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


class ScanBars:
    """Draws a scan's progress on ``bar``."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.devices = 0
        self.objects = 0
        self._tasks: dict[str, TaskID] = {}
        self._found = bar.add_task(found_line(0, 0), total=None)

    def show(self, event: DiscoveryProgress) -> None:
        """One step of one task; the counts never go back (events of several tasks may cross)."""
        task = self._tasks.get(event.task)
        if task is None:
            task = self._tasks[event.task] = self.bar.add_task(event.task, total=event.total)
        self.bar.update(task, completed=event.done, total=event.total)
        self.devices, self.objects = max(self.devices, event.devices), max(self.objects, event.objects)
        self.bar.update(self._found, description=found_line(self.devices, self.objects))
