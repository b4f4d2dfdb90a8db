"""Reading many properties of one device in as few requests as it accepts.

ReadPropertyMultiple goes out in chunks sized from the device's maximum APDU
(and ours); a chunk that does not fit (abort: segmentation not supported,
APDU too long) is halved and the smaller size remembered for the device. A
device that rejects the service is remembered as such and read with
ReadProperty, a few requests in flight at a time; a device that answers
ReadPropertyMultiple has several of them in flight at once (``in_flight``).
An error on one property
is that property's :class:`ReadFailure`, never an exception; only silence
(:class:`DeviceTimeout`) escapes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from bms.bacnet._codec import error_text, is_too_big, is_unsupported
from bms.bacnet._objects import ObjectId
from bms.bacnet._records import BacnetRejected, DeviceState
from bms.errors import DeviceTimeout, ProtocolError

PropertyRef = tuple[ObjectId, str, int | None]
"""(object, property name, array index or None)."""

REQUEST_BYTES_PER_REF = 8  # object id, context tags and property id, worst case
REPLY_BYTES_PER_REF = 16  # object id, tags, property id and a small value
APDU_OVERHEAD = 12


class ReadFailure(NamedTuple):
    """Why one property could not be read (``unknown-object``, ``unknown-property``...)."""

    reason: str


class PropertyIO(Protocol):
    """The two services the batch reader needs; both raise bms errors."""

    async def rpm(self, address: str, refs: Sequence[PropertyRef]) -> list[Any]:
        """Values (or ReadFailure) in the order of ``refs``."""
        ...

    async def rp(self, address: str, ref: PropertyRef) -> Any:
        """One value."""
        ...


def refs_per_request(
    device_max_apdu: int | None,
    device_segmentation: str | None,
    own_max_apdu: int,
    own_max_segments: int,
    cap: int,
) -> int:
    """How many property references one ReadPropertyMultiple may carry.

    The request must fit the device's maximum APDU; the answer must fit ours,
    times our segment count when the device can send segmented answers.
    """
    device_max = device_max_apdu or own_max_apdu
    request_fit = (device_max - APDU_OVERHEAD) // REQUEST_BYTES_PER_REF
    segmented = device_segmentation in ("segmented-both", "segmented-transmit")
    reply_budget = own_max_apdu * (own_max_segments if segmented else 1)
    reply_fit = (reply_budget - APDU_OVERHEAD) // REPLY_BYTES_PER_REF
    return max(1, min(cap, request_fit, reply_fit))


_PENDING: Any = object()


async def read_many(
    io: PropertyIO,
    state: DeviceState,
    refs: Sequence[PropertyRef],
    *,
    limit: int,
    concurrency: int = 8,
    in_flight: int = 1,
) -> list[Any]:
    """Read ``refs`` from the device at ``state.address``: a value or a ReadFailure each.

    Once the device has answered a ReadPropertyMultiple (``state.rpm``), up
    to ``in_flight`` of its requests are outstanding at once; until then one
    at a time, so that the first answer says whether it takes the service
    and how big a request fits.
    """
    results: list[Any] = [_PENDING] * len(refs)
    size = max(1, min(limit, state.max_refs or limit))
    todo = [range(at, min(len(refs), at + size)) for at in range(0, len(refs), size)]

    async def chunk(batch: range) -> list[range]:
        """Ask for ``batch``; the smaller pieces to ask for again when it did not fit."""
        if state.rpm is False:
            return []
        try:
            got = await io.rpm(state.address, [refs[i] for i in batch])
        except DeviceTimeout:
            raise
        except BacnetRejected as err:
            if is_too_big(err) and len(batch) > 1:
                half = max(1, len(batch) // 2)
                state.max_refs = min(state.max_refs or half, half)
                return [batch[:half], batch[half:]]
            if is_unsupported(err):
                state.rpm = False
                return []
            # the request as a whole was refused (e.g. every object unknown): ask one by one
            await _fill_one_by_one(io, state.address, refs, results, batch, concurrency)
        except ProtocolError:
            await _fill_one_by_one(io, state.address, refs, results, batch, concurrency)
        else:
            state.rpm = True
            for i, value in zip(batch, got, strict=True):
                results[i] = value
        return []

    while todo and (state.rpm is not True or in_flight <= 1):
        todo = _split([*await chunk(todo[0]), *todo[1:]], state.max_refs)
    gate = asyncio.Semaphore(max(1, in_flight))

    async def gated(batch: range) -> list[range]:
        async with gate:
            return await chunk(batch)

    while todo:  # a device that answers has its requests in flight together, up to its limit
        tasks = [asyncio.ensure_future(gated(batch)) for batch in todo]
        try:
            todo = _split([piece for pieces in await asyncio.gather(*tasks) for piece in pieces], state.max_refs)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
    rest = [i for i, value in enumerate(results) if value is _PENDING]
    await _fill_one_by_one(io, state.address, refs, results, rest, concurrency)
    return results


def _split(todo: list[range], size: int | None) -> list[range]:
    """``todo`` in pieces of at most ``size`` (what the device was found to take)."""
    if size is None or all(len(batch) <= size for batch in todo):
        return todo
    return [batch[at:at + size] for batch in todo for at in range(0, len(batch), size)]


async def _fill_one_by_one(
    io: PropertyIO,
    address: str,
    refs: Sequence[PropertyRef],
    results: list[Any],
    indices: Iterable[int],
    concurrency: int,
) -> None:
    wanted = list(indices)
    if not wanted:
        return
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(ref: PropertyRef) -> Any:
        async with gate:
            try:
                return await io.rp(address, ref)
            except DeviceTimeout as err:
                return err
            except BacnetRejected as err:
                return ReadFailure(error_text(err.error_class, err.error_code))
            except ProtocolError as err:
                return ReadFailure(str(err))

    got = await asyncio.gather(*(one(refs[i]) for i in wanted))
    timeouts = [value for value in got if isinstance(value, DeviceTimeout)]
    if timeouts and len(timeouts) == len(got):
        raise timeouts[0]
    for i, value in zip(wanted, got, strict=True):
        results[i] = ReadFailure("no answer") if isinstance(value, DeviceTimeout) else value
