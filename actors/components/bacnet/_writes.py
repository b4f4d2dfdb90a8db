"""Writes of the BACnet bridge: WriteProperty at a priority, read back, one WriteResult.

A :class:`DeviceWrite` carries the level to write (``value`` None
relinquishes that priority: Null is written). After the write the priority
array and the present value are read back; the result carries the present
value (and it goes to the point store as a one-sample batch too). A refusal
(``write-access-denied``, ``value-out-of-range``, ``unknown-object``, a
value the object cannot take, no answer) is a WriteResult with the device's
reason, never an exception. Writes to one point are serialised, so a write
and its relinquish reach the device in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from actors.components.bacnet._targets import PointTarget
from bms.bacnet import BacnetClient
from bms.clock import Clock
from bms.errors import BmsError
from bms.messages import DeviceWrite, Sample, SampleBatch, Value, WriteResult


class PointWriter:
    """Writes points of one bridge (on its loop)."""

    def __init__(self, source: str, clock: Clock, publish: Callable[[Any], int], log: Any) -> None:
        self.source = source
        self.clock = clock
        self._publish = publish
        self.log = log
        self._locks: dict[str, asyncio.Lock] = {}

    async def write(self, client: BacnetClient, address: str, point: PointTarget, msg: DeviceWrite) -> WriteResult:
        def result(ok: bool, error: str = "", readback: Value = None) -> WriteResult:
            return WriteResult(point_id=msg.point_id, ok=ok, request_id=msg.request_id, error=error, readback=readback)

        if not point.writable:
            return result(False, f"{msg.point_id}: not writable")
        async with self._locks.setdefault(msg.point_id, asyncio.Lock()):
            try:
                await client.write(address, point.objid, msg.value, priority=msg.priority)
            except BmsError as err:
                self.log.warning("write refused", point_id=msg.point_id, error=str(err))
                return result(False, str(err))
            try:
                levels: list[Value] | None = await client.read_priority_array(address, point.objid)
            except BmsError:
                levels = None  # not commandable: the present value says it all
            try:
                readback = await client.read_property(address, point.objid, "present-value")
            except BmsError as err:
                return result(True, f"written, but the read-back failed: {err}")
        self.log.debug("written", point_id=msg.point_id, value=msg.value, priority=msg.priority,
                       level=None if levels is None else levels[msg.priority - 1], readback=readback)
        self._publish(SampleBatch(source=self.source, samples=(Sample(msg.point_id, readback, self.clock.now()),)))
        return result(True, readback=readback)
