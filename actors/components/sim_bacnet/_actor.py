"""The simulated BACnet devices of the demo, as the component ``sim-bacnet``.

When the platform simulates (the scenario's ``simulate.enabled`` or
``bms daemon --simulate``), one :class:`~bms.sim.bacnet.BacnetSimulator`
per device port serves the scenario's enabled BACnet devices, each on its
address (``device.address``, else counted up from
``simulate.bacnet_base_address``) with its instance and profile, stepped by
the thermal model on its own thread. A device or a port that cannot be
served (address in use, no profile) is one line in the component's health:
Down if nothing runs, Degraded if some devices do; the rest of the site runs.

A simulated air handler takes faults (:class:`~bms.sim.messages.InjectSimFault`: ``bms sim fault ahu1
damper-stuck`` through ``POST /api/fdd/sim/{device}/{fault}``), and starts with those of the scenario's
``[simulate] faults``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from actors._base import BmsActor, handles
from actors._context import Context
from actors._supervisor import ChildSpec
from actors.components.bacnet._targets import network_of
from actors.components.sim_bacnet._served import BacnetSimulatorThread
from actors.platform import Platform
from bms.config import BacnetDevice, Profile, Scenario
from bms.errors import BmsError, ConfigError, NotFound
from bms.ports import Endpoint
from bms.sim.bacnet import BacnetSimulator, SimDevice
from bms.sim.messages import InjectSimFault, SimFaults
from bms.supervision import Health, RestartPolicy

NAME = "sim-bacnet"


def bacnet_simulator(platform: Platform) -> list[ChildSpec]:
    scenario = platform.site.scenario
    if not platform.simulating or not any(d.protocol == "bacnet" and d.enabled for d in scenario.devices):
        return []
    return [ChildSpec(NAME, BacnetSimulatorActor, kwargs={"scenario": scenario, "profiles": platform.site.profiles},
                      policy=RestartPolicy(max_restarts=2))]


def simulator_endpoints(platform: Platform) -> list[Endpoint]:
    """The address of each device to simulate, when the platform simulates."""
    if not platform.simulating:
        return []
    by_port, _ = simulated_devices(platform.site.scenario, platform.site.profiles)
    return [Endpoint(d.address, port, "udp") for port, devices in by_port.items() for d in devices]


def simulated_devices(scenario: Scenario, profiles: dict[str, Profile]) -> tuple[dict[int, list[SimDevice]], list[str]]:
    """The devices to simulate grouped by device port, and the problems of those left out."""
    by_port: dict[int, list[SimDevice]] = {}
    problems: list[str] = []
    base = scenario.simulate.bacnet_base_address
    n = 0
    for device in scenario.devices:
        if not isinstance(device, BacnetDevice) or not device.enabled:
            continue
        where = f"devices.{device.id}"
        profile = profiles.get(device.profile)
        try:
            if profile is None:
                raise ConfigError(f"{where}.profile: no profile named {device.profile!r}")
            if device.device_instance is None:
                raise ConfigError(f"{where}.device_instance: required for a bacnet device")
            port = network_of(scenario, device.network).device_port
            address = device.address
            if address is None:
                address = str(ipaddress.IPv4Address(base) + n)
            elif ":" in address:
                address, _, port_text = address.rpartition(":")
                port = int(port_text)
            ipaddress.IPv4Address(address)
        except (ConfigError, ValueError) as err:
            problems.append(f"{where}: {err}" if not str(err).startswith("devices.") else str(err))
            continue
        n += 1
        by_port.setdefault(port, []).append(SimDevice(device.device_instance, address, profile))
    return by_port, problems


class BacnetSimulatorActor(BmsActor):
    """Runs the simulated BACnet devices while it lives."""

    def __init__(self, name: str, ctx: Context, scenario: Scenario, profiles: dict[str, Profile],
                 interval: float = 1.0, speed: float = 1.0) -> None:
        super().__init__(name, ctx)
        self.scenario = scenario
        self.profiles = profiles
        self.interval = interval
        self.speed = speed
        self.running: list[BacnetSimulatorThread] = []

    def setup(self) -> None:
        by_port, problems = simulated_devices(self.scenario, self.profiles)
        served = 0
        for port, devices in by_port.items():
            try:
                simulator = BacnetSimulator(devices, port, interval=self.interval, speed=self.speed)
                self.running.append(BacnetSimulatorThread(simulator))
                served += len(devices)
            except (BmsError, RuntimeError, OSError) as err:
                cause: Any = err.__cause__ or err
                problems.append(f"cannot serve {len(devices)} simulated BACnet devices on port {port}: {cause}")
        for problem in problems:
            self.log.error("simulated devices not served", problem=problem)
        if problems:
            state = Health.DEGRADED if served else Health.DOWN
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.ctx.supervisor.report(self.name, state, f"{problems[0]}{more}")
        self.log.info("bacnet simulator running", devices=served, ports=sorted(by_port))
        for device, faults in self.scenario.simulate.faults.items():
            for fault in faults:
                try:
                    self._inject(device, fault)
                except BmsError as err:
                    self.log.error("simulated fault not injected", device=device, fault=fault, error=str(err))

    def _inject(self, device: str, fault: str) -> tuple[str, ...]:
        configured = next((d for d in self.scenario.devices if d.id == device and isinstance(d, BacnetDevice)), None)
        if configured is None or configured.device_instance is None:
            raise NotFound(f"no simulated BACnet device {device!r}")
        for thread in self.running:
            try:
                return thread.inject_fault(configured.device_instance, fault)
            except NotFound as err:
                if "is not an air handler" in str(err):
                    raise
        raise NotFound(f"device {device!r} is not simulated here")

    @handles(InjectSimFault)
    def inject(self, command: InjectSimFault) -> SimFaults:
        faults = self._inject(command.device, command.fault)
        self.log.info("simulated fault injected", device=command.device, fault=command.fault, user=command.user)
        return SimFaults(device=command.device, faults=faults)

    def teardown(self) -> None:
        running, self.running = self.running, []
        for thread in running:
            try:
                thread.stop()
            except RuntimeError as err:
                self.log.warning("simulator did not stop", error=str(err))
