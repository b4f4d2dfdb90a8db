"""A Modbus probe run by the devices service: the unit ids of ``HOST:PORT``, with progress.

:func:`modbus_scan` makes the coroutine the service runs on its loop and
names the probe's "network" (``HOST:PORT``); each unit id tried is
published as a :class:`~bms.messages.DiscoveryProgress` (task ``unit ids tried``,
``devices``: the units that answered so far), so ``bms devices probe
modbus`` draws the same bar with a daemon as without one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bms.clock import Clock
from bms.devices import scan_seconds, unit_ids
from bms.errors import ConfigError, DeviceTimeout
from bms.messages import DiscoverDevices, DiscoveryProgress
from bms.modbus import ProbeResult, probe

PROBE_MARGIN = 5.0
"""Seconds a probe may take beyond its units' timeouts."""
TASK = "unit ids tried"


def split_address(address: str | None) -> tuple[str, int]:
    """``"10.0.0.5:502"`` -> ("10.0.0.5", 502); ConfigError naming the address when it is not HOST:PORT."""
    host, _, port = (address or "").strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ConfigError(f"a Modbus probe needs HOST:PORT as its network, got {address!r}")
    return host, int(port)


def modbus_scan(query: DiscoverDevices, scan_id: str, clock: Clock,
                publish: Callable[[Any], object]) -> tuple[str, str, Coroutine[Any, Any, list[ProbeResult]]]:
    """(scan id, ``HOST:PORT``, the probe's coroutine) for ``query``."""
    host, port = split_address(query.network)
    units = unit_ids(query.units, query.low, query.high)
    if any(not 0 <= u <= 247 for u in units):
        raise ConfigError(f"Modbus unit ids are 0..247, got {units[0]}..{units[-1]}")
    where = f"{host}:{port}"
    within = scan_seconds("modbus", query.timeout, len(units)) + PROBE_MARGIN

    def progress(done: int, total: int, found: int) -> None:  # on the loop
        publish(DiscoveryProgress(scan=scan_id, network=where, task=TASK, done=done, total=total, ts=clock.now(),
                                  devices=found))

    async def scan() -> list[ProbeResult]:
        try:
            async with asyncio.timeout(within):
                return await probe(host, port, units, timeout=query.timeout, progress=progress)
        except TimeoutError:
            raise DeviceTimeout(f"the probe of {where} did not end within {within:g} s") from None

    return scan_id, where, scan()
