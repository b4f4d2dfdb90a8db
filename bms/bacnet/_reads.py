"""The client's batched reads: points, device information, object lists, object information.

All of them go through :func:`~bms.bacnet._batch.read_many`, so each
adapts to what the device accepts (ReadPropertyMultiple sized to its APDU,
ReadProperty when it refuses RPM) and reports a per-property error as data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from bms.bacnet._batch import PropertyRef, ReadFailure, read_many
from bms.bacnet._codec import to_flags, to_text, to_value
from bms.bacnet._objects import (
    ALWAYS_COMMANDABLE,
    ANALOG_TYPES,
    BINARY_TYPES,
    MAYBE_COMMANDABLE,
    MULTISTATE_TYPES,
    POINT_TYPES,
    ObjectId,
    parse_object_id,
    point_kind,
    split_property,
)
from bms.bacnet._records import DeviceInfo, DeviceState, DeviceStatus, ObjectInfo, Reading
from bms.bacnet._units import unit_symbol
from bms.bacnet._wire import Wire, format_object_identifier
from bms.errors import ConfigError, DeviceRejected, DeviceTimeout, ProtocolError
from bms.messages import Readings, Sample, Value

if TYPE_CHECKING:
    from bacpypes3.pdu import Address

    from bms.clock import Clock

PointRequest = tuple[str, "str | ObjectId", str]
"""(point id, object id, property) of one point to read."""

_DEVICE_PROPERTIES = (
    "object-name", "vendor-name", "vendor-identifier", "model-name", "firmware-revision",
    "description", "max-apdu-length-accepted", "segmentation-supported",
)


_STATUS_PROPERTIES = ("system-status", "database-revision", "time-of-device-restart", "last-restart-reason")


class _Planned(NamedTuple):
    point_id: str
    object_type: str
    value_at: int
    flags_at: int | None


class _PollPlan(NamedTuple):
    """What one list of point requests asks for: the references, and where each point's answers are."""

    refs: list[PropertyRef]
    points: list[_Planned | Sample]  # a Sample: the request itself is wrong (its fault says why)


class PolledValues(NamedTuple):
    """One poll of a device: good values as columns (with the device's flags), the others as Samples.

    A point whose status flags say *fault* keeps its value, as a Sample
    with fault :data:`STATUS_FAULT`; a point that could not be read is a
    Sample with the BACnet reason (``unknown-object``).
    """

    readings: Readings | None
    samples: tuple[Sample, ...]


STATUS_FAULT = "fault (status flags)"
_PLANS_KEPT = 256
_FLAG_NAMES: dict[Any, tuple[str, ...]] = {}
_PLAIN = frozenset({float, bool, str, type(None)})


def flag_names(raw: Any) -> tuple[str, ...]:
    """to_flags, one tuple per shape (the point store compares them at every poll)."""
    if isinstance(raw, ReadFailure):
        return ()
    key = tuple(raw) if isinstance(raw, list) else raw
    try:
        found = _FLAG_NAMES.get(key)
    except TypeError:  # not hashable: not flags
        return to_flags(raw)
    if found is None:
        found = to_flags(raw)
        if len(_FLAG_NAMES) < 4096:
            _FLAG_NAMES[key] = found
    return found


class Reads:
    """Batched reads of a :class:`~bms.bacnet.BacnetClient` (mixed into it)."""

    io: Wire
    concurrency: int
    in_flight: int
    clock: Clock
    _poll_plans: dict[tuple[tuple[Any, ...], bool], _PollPlan]

    if TYPE_CHECKING:

        def address(self, address: str) -> tuple[str, Address]: ...

        def device_state(self, address: str) -> DeviceState: ...

        def refs_per_request(self, state: DeviceState) -> int: ...

    async def read_properties(self, address: str, refs: Sequence[PropertyRef]) -> list[Any]:
        """Raw bacpypes3 values (or ReadFailure) of ``refs``, batched to what the device accepts."""
        if not refs:
            return []
        state = self.device_state(address)
        return await read_many(self.io, state, refs, limit=self.refs_per_request(state), concurrency=self.concurrency,
                               in_flight=self.in_flight)

    # ---------------------------------------------------------------- points
    async def read_points(
        self,
        address: str,
        requests: Sequence[PointRequest],
        max_apdu: int | None = None,
        segmentation: str | None = None,
    ) -> list[Sample]:
        """One Sample per request, in order; a point that cannot be read has ``fault`` set."""
        readings = await self.read_readings(address, requests, max_apdu, segmentation, status_flags=False)
        return [reading.sample for reading in readings]

    def _poll_plan(self, requests: Sequence[PointRequest], status_flags: bool) -> _PollPlan:
        key = (tuple(requests), status_flags)
        plans = self._poll_plans
        found = plans.get(key)
        if found is not None:
            return found
        refs: list[PropertyRef] = []
        positions: dict[PropertyRef, int] = {}

        def at(ref: PropertyRef) -> int:
            if ref not in positions:
                positions[ref] = len(refs)
                refs.append(ref)
            return positions[ref]

        points: list[_Planned | Sample] = []
        for point_id, objid, prop in requests:
            try:
                oid = parse_object_id(objid)
                name, index = split_property(prop)
                self.io.property(name)
            except ConfigError as err:
                points.append(Sample(point_id, None, 0.0, fault=str(err)))
                continue
            flags_at = None
            if status_flags and name == "present-value" and oid.type in POINT_TYPES:
                flags_at = at((oid, "status-flags", None))
            points.append(_Planned(point_id, oid.type, at((oid, name, index)), flags_at))
        if len(plans) >= _PLANS_KEPT:
            plans.pop(next(iter(plans)))
        found = plans[key] = _PollPlan(refs, points)
        return found

    async def _read_planned(
        self, address: str, requests: Sequence[PointRequest], max_apdu: int | None, segmentation: str | None,
        status_flags: bool,
    ) -> tuple[_PollPlan, list[Any]]:
        state = self.device_state(address)
        if max_apdu:
            state.max_apdu = max_apdu
        if segmentation:
            state.segmentation = segmentation
        plan = self._poll_plan(requests, status_flags)
        return plan, await self.read_properties(address, plan.refs)

    async def read_readings(
        self,
        address: str,
        requests: Sequence[PointRequest],
        max_apdu: int | None = None,
        segmentation: str | None = None,
        *,
        status_flags: bool = True,
    ) -> list[Reading]:
        """Like :meth:`read_points`, with each present value's status flags read in the same requests.

        ``max_apdu`` and ``segmentation`` (from the I-Am) size the requests;
        only a device that does not answer at all raises (DeviceTimeout).
        """
        plan, values = await self._read_planned(address, requests, max_apdu, segmentation, status_flags)
        ts = self.clock.now()
        out: list[Reading] = []
        for item in plan.points:
            if isinstance(item, Sample):
                out.append(Reading(sample=Sample(item.point_id, None, ts, fault=item.fault)))
                continue
            raw = values[item.value_at]
            flags = flag_names(values[item.flags_at]) if item.flags_at is not None else ()
            if isinstance(raw, ReadFailure):
                out.append(Reading(sample=Sample(item.point_id, None, ts, fault=raw.reason), flags=flags))
            else:
                out.append(Reading(sample=Sample(item.point_id, to_value(raw, item.object_type), ts), flags=flags))
        return out

    async def read_polled(
        self,
        address: str,
        requests: Sequence[PointRequest],
        max_apdu: int | None = None,
        segmentation: str | None = None,
    ) -> PolledValues:
        """:meth:`read_readings` as a poll publishes it: good values in columns, the rest as Samples."""
        plan, values = await self._read_planned(address, requests, max_apdu, segmentation, True)
        ts = self.clock.now()
        ids: list[str] = []
        good: list[Value] = []
        flag_column: list[tuple[str, ...]] = []
        samples: list[Sample] = []
        plain = _PLAIN
        for item in plan.points:
            if isinstance(item, Sample):
                samples.append(Sample(item.point_id, None, ts, fault=item.fault))
                continue
            raw = values[item.value_at]
            flags = flag_names(values[item.flags_at]) if item.flags_at is not None else ()
            if isinstance(raw, ReadFailure):
                samples.append(Sample(item.point_id, None, ts, fault=raw.reason, device_flags=flags))
                continue
            value = raw if type(raw) in plain else to_value(raw, item.object_type)
            if "fault" in flags:
                samples.append(Sample(item.point_id, value, ts, fault=STATUS_FAULT, device_flags=flags))
                continue
            ids.append(item.point_id)
            good.append(value)
            flag_column.append(flags)
        readings = Readings(tuple(ids), tuple(good), ts, tuple(flag_column)) if ids else None
        return PolledValues(readings, tuple(samples))

    # ---------------------------------------------------------------- devices
    async def read_device_info(self, address: str, instance: int) -> DeviceInfo:
        """The device object's name, vendor, model, APDU limits and its object list."""
        text = self.address(address)[0]
        device = ObjectId("device", instance)
        values = await self.read_properties(text, [(device, p, None) for p in _DEVICE_PROPERTIES])
        got = dict(zip(_DEVICE_PROPERTIES, values, strict=True))
        name = got["object-name"]
        if isinstance(name, ReadFailure):
            raise DeviceRejected(f"{text}: {device}: cannot read object-name: {name.reason}")
        state = self.device_state(text)
        ok = {key: value for key, value in got.items() if not isinstance(value, ReadFailure) and value is not None}
        if "max-apdu-length-accepted" in ok:
            state.max_apdu = int(ok["max-apdu-length-accepted"])
        if "segmentation-supported" in ok:
            state.segmentation = str(ok["segmentation-supported"])
        objects = await self.read_object_list(text, instance)
        return DeviceInfo(
            instance=instance,
            address=text,
            name=to_text(name),
            vendor=to_text(ok.get("vendor-name")),
            vendor_id=int(ok["vendor-identifier"]) if "vendor-identifier" in ok else None,
            model=to_text(ok.get("model-name")),
            firmware=to_text(ok.get("firmware-revision")),
            description=to_text(ok.get("description")),
            max_apdu=state.max_apdu or 1476,
            segmentation=state.segmentation or "no-segmentation",
            object_list=objects,
        )

    async def read_device_status(self, address: str, instance: int) -> DeviceStatus:
        """The device object's system status, database revision and time of restart (None: not there)."""
        text = self.address(address)[0]
        device = ObjectId("device", instance)
        values = await self.read_properties(text, [(device, p, None) for p in _STATUS_PROPERTIES])
        got = {name: value for name, value in zip(_STATUS_PROPERTIES, values, strict=True)
               if not isinstance(value, ReadFailure) and value is not None}
        if not got and values and isinstance(values[0], ReadFailure) and "unknown-object" in values[0].reason:
            raise DeviceRejected(f"{text}: {device}: {values[0].reason}")
        revision = got.get("database-revision")
        return DeviceStatus(
            system_status=str(got["system-status"]) if "system-status" in got else None,
            database_revision=int(revision) if revision is not None else None,
            restarted_at=str(got["time-of-device-restart"]) if "time-of-device-restart" in got else None,
            restart_reason=str(got["last-restart-reason"]) if "last-restart-reason" in got else None,
        )

    async def read_object_list(self, address: str, instance: int) -> tuple[str, ...]:
        """The device's object list: whole if it fits one answer, else element by element."""
        text = self.address(address)[0]
        device = ObjectId("device", instance)
        try:
            whole = await self.io.rp(text, (device, "object-list", None))
            return tuple(format_object_identifier(item) for item in whole)
        except DeviceTimeout:
            raise
        except ProtocolError:
            pass  # too big for one answer (no segmentation) or refused: index 0 is the count
        count = int(await self.io.rp(text, (device, "object-list", 0)))
        items = await self.read_properties(text, [(device, "object-list", i) for i in range(1, count + 1)])
        for i, item in enumerate(items, start=1):
            if isinstance(item, ReadFailure):
                raise DeviceRejected(f"{text}: {device}: cannot read object-list[{i}]: {item.reason}")
        return tuple(format_object_identifier(item) for item in items)

    # ---------------------------------------------------------------- objects
    async def read_object_info(self, address: str, objid: str | ObjectId) -> ObjectInfo:
        """Name, description, units, commandable and present value of one object."""
        info = (await self.read_object_infos(address, [objid]))[0]
        if info.error is not None:
            raise DeviceRejected(f"{self.address(address)[0]}: {info.objid}: {info.error}")
        return info

    async def read_object_infos(
        self,
        address: str,
        objids: Sequence[str | ObjectId],
        progress: Callable[[int, int], None] | None = None,
        *,
        batch: int = 25,
    ) -> list[ObjectInfo]:
        """:meth:`read_object_info` for many objects; an unreadable one has ``error`` set.

        ``progress(done, total)`` is called after each batch of objects.
        """
        parsed = [parse_object_id(objid) for objid in objids]
        infos: list[ObjectInfo] = []
        for start in range(0, len(parsed), max(1, batch)):
            group = parsed[start : start + max(1, batch)]
            plans = [(oid, _info_properties(oid.type)) for oid in group]
            refs: list[PropertyRef] = [(oid, name, index) for oid, props in plans for name, index in props]
            values = iter(await self.read_properties(address, refs))
            for oid, props in plans:
                infos.append(_object_info(oid, {name: next(values) for name, _ in props}, dict(props)))
            if progress is not None:
                progress(len(infos), len(parsed))
        return infos


def _info_properties(object_type: str) -> list[tuple[str, int | None]]:
    props: list[tuple[str, int | None]] = [("object-name", None), ("description", None)]
    if object_type in POINT_TYPES:
        props.append(("present-value", None))
    if object_type in ANALOG_TYPES:
        props.append(("units", None))
    if object_type in MAYBE_COMMANDABLE:
        props.append(("priority-array", 0))
    if object_type in MULTISTATE_TYPES:
        props.append(("state-text", None))
    if object_type in BINARY_TYPES:
        props += [("inactive-text", None), ("active-text", None)]
    return props


ABSENT = frozenset({"unknown-property", "property-is-not-an-array"})
"""Reasons that say an optional property is not there (some devices answer a non-array's index with the
second where the first was expected); any other failure is a property the device answered wrongly."""


def _object_info(oid: ObjectId, got: dict[str, Any], indices: dict[str, int | None]) -> ObjectInfo:
    ok = {name: value for name, value in got.items() if not isinstance(value, ReadFailure) and value is not None}
    unreadable = tuple(
        f"{name}{'' if indices.get(name) is None else f'[{indices[name]}]'}: {value.reason}"
        for name, value in got.items()
        if isinstance(value, ReadFailure) and value.reason not in ABSENT and name != "object-name"
    )
    name = got["object-name"]
    units = int(ok["units"]) if "units" in ok else None
    states: tuple[str, ...] = ()
    if "state-text" in ok:
        states = tuple(to_text(text) for text in ok["state-text"])
    elif "inactive-text" in ok and "active-text" in ok:
        states = (to_text(ok["inactive-text"]), to_text(ok["active-text"]))
    return ObjectInfo(
        objid=str(oid),
        name=to_text(ok.get("object-name")),
        description=to_text(ok.get("description")),
        units=units,
        unit=unit_symbol(units) if units is not None else "",
        commandable=oid.type in ALWAYS_COMMANDABLE or "priority-array" in ok or _told_badly(got.get("priority-array")),
        value=to_value(ok.get("present-value"), oid.type),
        kind=point_kind(oid.type),
        states=states,
        error=name.reason if isinstance(name, ReadFailure) else None,
        unreadable=unreadable,
    )


def _told_badly(answer: Any) -> bool:
    """A priority-array the device has, but answered wrongly (not "there is none")."""
    return isinstance(answer, ReadFailure) and answer.reason not in ABSENT and answer.reason != "no answer"
