"""A :class:`~bms.sim.bacnet.BacnetSimulator` served from a thread of its own (the daemon, tests, benchmarks)."""

from __future__ import annotations

from actors._served import ServedThread
from bms.messages import Value
from bms.sim.bacnet import BacnetSimulator


class BacnetSimulatorThread(ServedThread[BacnetSimulator]):
    """Starts ``simulator`` on its own thread and event loop; every method is thread-safe.

    ``BacnetSimulatorThread(BacnetSimulator(devices, port))`` serves until
    :meth:`stop` (or the end of a ``with`` block).
    """

    what = "BACnet simulator"

    def __init__(self, simulator: BacnetSimulator, timeout: float = 10.0) -> None:
        super().__init__(simulator, timeout, "bacnet-sim")

    def set_value(self, instance: int, objid: str, value: Value, *, hold: bool = True) -> None:
        self.run(lambda: self.simulator.set_value(instance, objid, value, hold=hold))

    def value(self, instance: int, objid: str) -> Value:
        return self.run(lambda: self.simulator.value(instance, objid))

    def set_status(self, instance: int, objid: str, *, in_alarm: bool = False, out_of_service: bool = False) -> None:
        self.run(lambda: self.simulator.set_status(instance, objid, in_alarm=in_alarm, out_of_service=out_of_service))

    def set_offline(self, instance: int, offline: bool = True) -> None:
        self.call(lambda: self.simulator.set_offline(instance, offline))

    def restart(self, instance: int, reason: str = "coldstart") -> None:
        """Power-cycle a device: it forgets its commands and its device object says it restarted."""
        self.call(lambda: self.simulator.restart(instance, reason))

    def inject_fault(self, instance: int, fault: str) -> tuple[str, ...]:
        return self.run(lambda: self.simulator.inject_fault(instance, fault))

    def step_now(self, dt: float | None = None) -> None:
        self.run(lambda: self.simulator.step_now(dt))
