"""The batch reader against a scripted device: chunking, halving, fallback to ReadProperty."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from bms.bacnet import BacnetRejected, DeviceState, ObjectId, ReadFailure, refs_per_request
from bms.bacnet._batch import PropertyRef, read_many
from bms.errors import DeviceTimeout


class ScriptedDevice:
    """A device of ``count`` analog inputs whose present value is the instance number."""

    def __init__(self, count: int, *, rpm: bool = True, max_refs: int = 1000, silent: bool = False) -> None:
        self.count = count
        self.rpm_ok = rpm
        self.max_refs = max_refs
        self.silent = silent
        self.rpm_sizes: list[int] = []
        self.rp_calls = 0

    def _value(self, ref: PropertyRef) -> Any:
        oid, name, _ = ref
        if not 1 <= oid.instance <= self.count:
            return BacnetRejected("unknown", "error", "object", "unknown-object")
        if name != "present-value":
            return BacnetRejected("unknown", "error", "property", "unknown-property")
        return float(oid.instance)

    async def rpm(self, address: str, refs: Sequence[PropertyRef]) -> list[Any]:
        self.rpm_sizes.append(len(refs))
        if self.silent:
            raise DeviceTimeout(f"{address}: no answer")
        if not self.rpm_ok:
            raise BacnetRejected("rejected", "reject", "", "unrecognized-service")
        if len(refs) > self.max_refs:
            raise BacnetRejected("too big", "abort", "", "segmentation-not-supported")
        values = [self._value(ref) for ref in refs]
        if all(isinstance(v, BacnetRejected) and v.error_code == "unknown-object" for v in values):
            raise BacnetRejected("all unknown", "error", "object", "unknown-object")
        return [ReadFailure(v.error_code) if isinstance(v, BacnetRejected) else v for v in values]

    async def rp(self, address: str, ref: PropertyRef) -> Any:
        self.rp_calls += 1
        if self.silent:
            raise DeviceTimeout(f"{address}: no answer")
        value = self._value(ref)
        if isinstance(value, BacnetRejected):
            raise value
        return value


def refs(*instances: int, prop: str = "present-value") -> list[PropertyRef]:
    return [(ObjectId("analog-input", i), prop, None) for i in instances]


def run(device: ScriptedDevice, wanted: list[PropertyRef], limit: int, state: DeviceState | None = None) -> list[Any]:
    return asyncio.run(read_many(device, state or DeviceState("dev"), wanted, limit=limit))


def test_chunks_to_the_limit() -> None:
    device = ScriptedDevice(100)
    state = DeviceState("dev")
    got = run(device, refs(*range(1, 101)), limit=30, state=state)
    assert got == [float(i) for i in range(1, 101)]
    assert device.rpm_sizes == [30, 30, 30, 10]
    assert state.rpm is True and device.rp_calls == 0


def test_halves_a_request_that_does_not_fit_and_remembers() -> None:
    device = ScriptedDevice(40, max_refs=12)
    state = DeviceState("dev")
    assert run(device, refs(*range(1, 41)), limit=40, state=state) == [float(i) for i in range(1, 41)]
    assert device.rpm_sizes == [40, 20, 10, 10, 10, 10]  # the rest asked at the size that fits
    assert state.max_refs == 10
    device.rpm_sizes.clear()
    run(device, refs(*range(1, 41)), limit=40, state=state)
    assert device.rpm_sizes == [10, 10, 10, 10]


def test_a_device_that_answers_has_several_requests_in_flight_at_once() -> None:
    device = ScriptedDevice(100)
    outstanding, most = 0, 0
    together = asyncio.Event()
    answer = device.rpm

    async def rpm(address: str, wanted: Sequence[PropertyRef]) -> list[Any]:
        nonlocal outstanding, most
        outstanding += 1
        most = max(most, outstanding)
        if len(device.rpm_sizes) >= 1:  # after the first answer: wait until three are out together
            if most >= 3:
                together.set()
            await together.wait()
        outstanding -= 1
        return await answer(address, wanted)

    device.rpm = rpm  # type: ignore[method-assign]
    state = DeviceState("dev")

    async def read() -> list[Any]:
        return await asyncio.wait_for(read_many(device, state, refs(*range(1, 101)), limit=20, in_flight=3), 10)

    assert asyncio.run(read()) == [float(i) for i in range(1, 101)]
    assert most == 3 and device.rpm_sizes == [20, 20, 20, 20, 20]  # the first alone, then three at a time


def test_falls_back_to_read_property_and_remembers() -> None:
    device = ScriptedDevice(5, rpm=False)
    state = DeviceState("dev")
    got = run(device, refs(1, 2, 9), limit=10, state=state)
    assert got == [1.0, 2.0, ReadFailure("unknown-object")]
    assert state.rpm is False and device.rpm_sizes == [3]
    run(device, refs(1, 2), limit=10, state=state)
    assert device.rpm_sizes == [3]  # never tried again
    assert device.rp_calls == 5


def test_per_property_errors_are_data() -> None:
    device = ScriptedDevice(3)
    got = run(device, [*refs(1, 7), *refs(2, prop="units")], limit=10)
    assert got == [1.0, ReadFailure("unknown-object"), ReadFailure("unknown-property")]


def test_request_refused_as_a_whole_is_asked_one_by_one() -> None:
    device = ScriptedDevice(3)
    state = DeviceState("dev")
    got = run(device, refs(8, 9, 1), limit=2, state=state)
    assert got == [ReadFailure("unknown-object"), ReadFailure("unknown-object"), 1.0]
    assert device.rp_calls == 2 and state.rpm is True


def test_silence_raises_device_timeout() -> None:
    with pytest.raises(DeviceTimeout):
        run(ScriptedDevice(3, silent=True), refs(1, 2), limit=10)
    with pytest.raises(DeviceTimeout):
        run(ScriptedDevice(3, silent=True), refs(1, 2), limit=10, state=DeviceState("dev", rpm=False))


@pytest.mark.parametrize(
    ("device_apdu", "segmentation", "own", "cap", "expected"),
    [
        (1476, "no-segmentation", 1476, 100, 91),
        (1476, "segmented-both", 1476, 100, 100),
        (480, "segmented-both", 1476, 100, 58),
        (206, "no-segmentation", 1476, 100, 24),
        (1476, "no-segmentation", 206, 100, 12),
        (50, "no-segmentation", 50, 100, 2),
        (None, None, 1476, 100, 91),
    ],
)
def test_refs_per_request(device_apdu: int | None, segmentation: str | None, own: int, cap: int, expected: int) -> None:
    assert refs_per_request(device_apdu, segmentation, own, 16, cap) == expected
