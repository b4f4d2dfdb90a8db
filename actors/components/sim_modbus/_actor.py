"""The simulated Modbus devices of a simulating site (the demo), as a component.

When the platform simulates, ``sim-modbus`` serves one
:class:`~bms.sim.modbus.ModbusSimulator` per (host, port) of the scenario's
enabled Modbus TCP devices (profiles by unit id, byte orders from the
device specs), each on its own thread, stopped in teardown. A server that
cannot listen (the port is taken) is named in one line: the component is
Degraded if others serve, Down if none does, and the rest of the site runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors._base import BmsActor
from actors._context import Context
from actors._supervisor import ChildSpec
from actors.components.sim_modbus._served import ModbusSimulatorThread
from actors.platform import Platform
from bms.ports import Endpoint
from bms.sim.cli import ModbusServer, bind_problem, modbus_servers
from bms.sim.modbus import ModbusSimulator
from bms.supervision import Health, RestartPolicy

__all__ = ["ModbusSimulators", "modbus_endpoints", "modbus_simulators"]


def modbus_simulators(platform: Platform) -> list[ChildSpec]:
    if not platform.simulating:
        return []
    servers, notes = modbus_servers(platform.site)
    for note in notes:
        platform.log.warning("modbus device not simulated", note=note)
    if not servers:
        return []
    return [ChildSpec("sim-modbus", ModbusSimulators, kwargs={"servers": tuple(servers)},
                      policy=RestartPolicy(max_restarts=1))]


def modbus_endpoints(platform: Platform) -> list[Endpoint]:
    """The address of each simulated server, when the platform simulates."""
    if not platform.simulating:
        return []
    servers, _ = modbus_servers(platform.site)
    return [Endpoint(s.host, s.port, "tcp") for s in servers]


class ModbusSimulators(BmsActor):
    """Runs the simulated Modbus servers of a site."""

    def __init__(self, name: str, ctx: Context, servers: Sequence[ModbusServer]) -> None:
        super().__init__(name, ctx)
        self.servers = tuple(servers)
        self.running: list[ModbusSimulatorThread] = []
        self.failed: list[str] = []

    def setup(self) -> None:
        self.running, self.failed = [], []
        for server in self.servers:
            try:
                sim = ModbusSimulator(server.units, server.host, server.port, orders=server.orders,
                                      clock=self.clock.now)
                handle = ModbusSimulatorThread(sim)
            except (RuntimeError, OSError, ValueError) as err:
                why = bind_problem(server.host, server.port) or str(err.__cause__ or err)
                reason = f"cannot serve Modbus on {server.address}: {why}"
                self.failed.append(reason)
                self.log.error("modbus simulator not started", reason=reason)
                continue
            self.running.append(handle)
            for unit, device in sorted(server.devices.items()):
                self.log.info("simulating modbus device", device=device, unit=unit, address=f"{handle.host}:{handle.port}")
        served = ", ".join(f"{h.host}:{h.port}" for h in self.running)
        if self.failed:
            state = Health.DEGRADED if self.running else Health.DOWN
            self.ctx.supervisor.report(self.name, state, "; ".join(self.failed))
        else:
            self.ctx.supervisor.report(self.name, Health.HEALTHY, f"serving {served}")

    def teardown(self) -> None:
        running, self.running = self.running, []
        for handle in running:
            try:
                handle.stop()
            except RuntimeError as err:
                self.log.error("modbus simulator did not stop", error=str(err))
