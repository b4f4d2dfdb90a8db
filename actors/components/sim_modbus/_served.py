"""A :class:`~bms.sim.modbus.ModbusSimulator` served from a thread of its own (the daemon, tests, benchmarks)."""

from __future__ import annotations

from actors._served import ServedThread
from bms.messages import Value
from bms.sim.modbus import ModbusSimulator


class ModbusSimulatorThread(ServedThread[ModbusSimulator]):
    """Starts ``simulator`` on its own thread and event loop; every method is thread-safe.

    ``ModbusSimulatorThread(ModbusSimulator(units))`` serves until
    :meth:`stop` (or the end of a ``with`` block).
    """

    what = "Modbus simulator"

    def __init__(self, simulator: ModbusSimulator, timeout: float = 5.0) -> None:
        super().__init__(simulator, timeout, "modbus-sim")

    @property
    def port(self) -> int:
        return self.simulator.port

    @property
    def host(self) -> str:
        return self.simulator.host

    def set_point(self, unit_id: int, key: str, value: Value) -> None:
        self.call(lambda: self.simulator.set_point(unit_id, key, value))

    def read_point(self, unit_id: int, key: str) -> Value:
        return self.call(lambda: self.simulator.read_point(unit_id, key))
