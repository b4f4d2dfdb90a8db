"""Simulated BACnet/IP devices: real bacpypes3 devices on loopback, driven by a thermal model.

Each device is one bacpypes3 application on its own loopback address (all on
one device port, 47808 by default), built from a :class:`~bms.config.Profile`:
one object per point (``bacnet.object``, see :func:`bms.bacnet.local_object`),
named after the point, described by its key, with units from its unit
symbol. Inputs refuse present-value writes (write-access-denied) unless out
of service; writable points become commandable objects (priority array,
relinquish default from the profile) that refuse values outside the point's
guard (value-out-of-range). COV works on every object.

Each device is a :class:`~bms.bacnet.DeviceApplication`, so it answers
third-party clients as ASHRAE 135 asks where bacpypes3 alone does not:
read-only properties are write-access-denied, a value of the wrong datatype
invalid-data-type, no APDU exceeds the client's max-APDU-length-accepted
(header included), and device instance 4194303 reads as the device itself.

An AHU profile (``equip = "ahu"``) and VAV profiles (``equip = "vav"``) are
driven by :class:`~bms.sim._thermal.ThermalModel`: each step feeds the
commanded objects into the model, advances it and writes its sensor values
back. :meth:`BacnetSimulator.set_value` pins a value (the model stops
driving that object until :meth:`BacnetSimulator.release`).

Intrinsic reporting: an AHU's supply air temperature (``sat``) reports
a high limit of 28 °C (deadband 1) through Notification Class 1
(priorities 100 / 60 / 200, every transition to be acknowledged), as
``DeviceOptions.limits`` may set for any analog input. A client joins its
recipient-list (AddListElement or WriteProperty), receives the event
notifications when the model (or :meth:`BacnetSimulator.set_value`) takes
the value across, reads them back with GetEventInformation and
acknowledges them with AcknowledgeAlarm (:meth:`~BacnetSimulator.acked_transitions`
shows it); the recipient-list outlives going offline and restarts.

With ``bbmd="127.0.0.9"`` the simulator also runs a BBMD on the device
port that accepts foreign-device registrations and distributes their
broadcasts to the devices, for clients on the far side of a router.

Fault injection: ``set_offline`` closes a device's sockets (it stops
answering) and brings it back with its commands intact; ``restart``
restarts it as a power cycle would: it forgets every command (priority
arrays empty, relinquish defaults back) and its device object says so
(a new time-of-device-restart, last-restart-reason); ``DeviceOptions``
can make a device refuse ReadPropertyMultiple, accept small APDUs only or
not segment.

A device's address that another process holds is refused at once with
:class:`~bms.errors.PortInUse` naming the holder, and a device's unicast
socket is never shared (see :mod:`bms.ports`).

A plain async server: ``await start()`` / ``await stop()`` inside a running
loop (``bms sim bacnet`` runs it with ``asyncio.run``); the actor layer's
``BacnetSimulatorThread`` (:mod:`actors.components.sim_bacnet`) serves it
from a thread of its own for the daemon and the tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bacpypes3.basetypes import DateTime, DeviceStatus, IPMode, RestartReason, Segmentation, TimeStamp
from bacpypes3.errors import PropertyError, UnrecognizedService
from bacpypes3.pdu import IPv4Address
from bacpypes3.primitivedata import Date, Null, Real, Time

import bms
from bms.bacnet import (
    VENDOR_ID,
    DeviceApplication,
    LimitReporting,
    ReportingAnalogInput,
    ServedDevice,
    ServedNetworkPort,
    await_bound,
    claim_address,
    close_application,
    from_local,
    is_commandable_object,
    local_object,
    notification_class,
    parse_object_id,
    priority_levels,
    recipient_address,
    reporting_properties,
    to_local,
)
from bms.bacnet._timetable import schedule_value
from bms.config import PointSpec, Profile
from bms.errors import ConfigError, NotFound
from bms.logs import get_logger
from bms.loop import cancel_and_wait
from bms.messages import Value
from bms.sim._schedules import ScheduleRunner, calendar_rules, fan_schedule, holidays_calendar, program_of
from bms.sim._thermal import AirHandler, Equipment, ThermalModel

__all__ = ["AHU_LIMITS", "BacnetSimulator", "DeviceOptions", "LimitReporting", "SimDevice"]

AHU_LIMITS: tuple[tuple[str, LimitReporting], ...] = (("sat", LimitReporting(high_limit=28.0, deadband=1.0)),)
"""An air handler's intrinsic alarms: supply air above 28 °C (back to normal below 27 °C)."""


class DeviceOptions(NamedTuple):
    """How a simulated device behaves on the wire."""

    rpm: bool = True  # False: reject ReadPropertyMultiple (unrecognized-service)
    max_apdu: int = 1476
    segmentation: bool = True
    name: str | None = None  # device object name; default "<PROFILE>-<instance>"
    # intrinsic reporting: (point key, limit) of analog inputs; None: the equipment's (AHU_LIMITS for an AHU)
    limits: tuple[tuple[str, LimitReporting], ...] | None = None
    # its own Schedule and Calendar objects (schedule,1 and calendar,1); None: an AHU's yes, others' no
    schedules: bool | None = None
    malformed: tuple[str, ...] = ()  # answers encoded wrongly, as real devices were found to: see MALFORMED
    broadcast_i_am: bool = False  # answer Who-Is with an I-Am broadcast on the device's subnet, as most devices do


MALFORMED: dict[str, str] = {
    "priority-array-real": "priority-array[0] (the array's size, an Unsigned) answered as a REAL",
    "inactive-text-null": "a binary object's inactive-text answered as Null",
    "not-an-array": "priority-array[0] of an object without one answered property-is-not-an-array, "
                    "not unknown-property",
}
"""The defects a simulated device can be given (``DeviceOptions.malformed``), found in real devices."""


class SimDevice(NamedTuple):
    """One simulated device: instance, loopback address (``127.0.0.2``), profile, options."""

    instance: int
    address: str
    profile: Profile
    options: DeviceOptions = DeviceOptions()


class _NoRpmApplication(DeviceApplication):
    """A device without ReadPropertyMultiple: it rejects the service."""

    answers_rpm = False

    async def do_ReadPropertyMultipleRequest(self, apdu: Any) -> None:
        raise UnrecognizedService()


class _BroadcastIAmApplication(DeviceApplication):
    """A device that answers Who-Is with a broadcast I-Am (bacpypes3 answers the asker alone)."""

    def i_am(self, address: Any = None) -> None:
        super().i_am(None)  # bacpypes3: no address is a global broadcast


class _MalformedApplication(DeviceApplication):
    """A device that encodes some answers wrongly (``defects``, names of :data:`MALFORMED`)."""

    defects: frozenset[str] = frozenset()

    async def read_value(self, obj: Any, prop: Any, index: int | None) -> Any:
        name = str(prop)
        if name == "priority-array" and index == 0:
            commandable = getattr(obj, "priorityArray", None) is not None
            if "priority-array-real" in self.defects and commandable:
                return Real(16.0)
            if "not-an-array" in self.defects and not commandable:
                raise PropertyError("propertyIsNotAnArray")
        if name == "inactive-text" and "inactive-text-null" in self.defects:
            return Null(())
        return await super().read_value(obj, prop, index)


def _application(instance: int, opts: DeviceOptions) -> type[DeviceApplication]:
    """The application class of a device with ``opts``."""
    unknown = sorted(set(opts.malformed) - set(MALFORMED))
    if unknown:
        raise ConfigError(f"simulated device {instance}: unknown defect {unknown[0]!r} (one of {', '.join(MALFORMED)})")
    bases: list[type[DeviceApplication]] = []
    if opts.malformed:
        bases.append(_MalformedApplication)
    if opts.broadcast_i_am:
        bases.append(_BroadcastIAmApplication)
    base = DeviceApplication if opts.rpm else _NoRpmApplication
    if not bases:
        return base
    return type("SimulatedDevice", (*bases, base), {"defects": frozenset(opts.malformed)})


# ------------------------------------------------------------------ devices


@dataclass
class _Device:
    spec: SimDevice
    points: dict[str, PointSpec]  # objid -> point
    equipment: Equipment | None = None
    app: Any = None
    objects: dict[str, Any] = field(default_factory=dict)  # objid -> bacpypes3 object
    names: dict[str, str] = field(default_factory=dict)  # renamed objects
    held: set[str] = field(default_factory=set)
    restarted_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    restart_reason: str = "coldstart"
    restarts: int = 0
    notification_class: Any = None  # the Notification Class object when the device reports alarms
    timetable: dict[str, Any] = field(default_factory=dict)  # objid -> its Schedule and Calendar objects

    @property
    def offline(self) -> bool:
        return self.app is None

    def key_of(self, objid: str) -> str:
        return self.points[objid].key


class BacnetSimulator:
    """Serves simulated devices on loopback; ``interval`` None steps only on :meth:`step_now`."""

    def __init__(
        self,
        devices: Sequence[tuple[int, str, Profile] | SimDevice],
        device_port: int = 47808,
        *,
        interval: float | None = 1.0,
        speed: float = 1.0,
        model: ThermalModel | None = None,
        mask: int = 8,
        bbmd: str | None = None,
        bbmd_instance: int = 4_194_000,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.device_port = device_port
        self.bbmd = bbmd
        self.bbmd_instance = bbmd_instance
        self._bbmd_app: Any = None
        self.interval = interval
        self.speed = speed
        self.mask = mask
        self.model = model or ThermalModel()
        self._devices: dict[int, _Device] = {}
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger("bacnet-sim")
        self.clock: Callable[[], dt.datetime] = clock or (lambda: dt.datetime.now().astimezone())
        self._timetables = ScheduleRunner(lambda: self.clock(), self._log)
        specs = [d if isinstance(d, SimDevice) else SimDevice(*d) for d in devices]
        for spec in sorted(specs, key=lambda s: s.profile.equip != "ahu"):  # air handlers first: VAVs attach to them
            if spec.instance in self._devices:
                raise ConfigError(f"simulated device instance {spec.instance} is used twice")
            points = {str(parse_object_id(p.bacnet.object)): p for p in spec.profile.points if p.bacnet is not None}
            device = _Device(spec, points)
            if spec.profile.equip == "ahu":
                device.equipment = self.model.add_ahu(str(spec.instance))
            elif spec.profile.equip == "vav":
                device.equipment = self.model.add_vav(str(spec.instance))
            self._devices[spec.instance] = device

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return any(not d.offline for d in self._devices.values())

    def address_of(self, instance: int) -> str:
        """``"127.0.0.2:47808"`` of a simulated device."""
        return f"{self._device(instance).spec.address}:{self.device_port}"

    async def start(self) -> None:
        """Open every device (inside the running loop) and start stepping the model."""
        if self.running or self._task is not None:
            raise RuntimeError("the BACnet simulator is already started")
        try:
            for device in self._devices.values():
                await self._open(device)
            if self.bbmd is not None:
                await self._open_bbmd(self.bbmd)
        except BaseException:
            await self.stop()
            raise
        self._push_model()
        if self.interval:
            self._task = asyncio.create_task(self._run(), name="bacnet-sim")
        self._log.info("bacnet simulator started", devices=len(self._devices), port=self.device_port)

    async def stop(self) -> None:
        """Stop stepping and close every device."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        for device in self._devices.values():
            app, device.app = device.app, None
            if app is not None:
                await close_application(app)
        bbmd, self._bbmd_app = self._bbmd_app, None
        if bbmd is not None:
            await close_application(bbmd)

    async def _open(self, device: _Device) -> None:
        spec, opts = device.spec, device.spec.options
        name = opts.name or f"{(spec.profile.equip or spec.profile.name).upper()}-{spec.instance}"
        device_object = ServedDevice(
            objectIdentifier=("device", spec.instance), objectName=device.names.get(f"device,{spec.instance}", name),
            vendorIdentifier=VENDOR_ID, vendorName=spec.profile.vendor or "bms",
            modelName=spec.profile.model or spec.profile.name, description=spec.profile.description,
            firmwareRevision=bms.__version__, applicationSoftwareVersion=bms.__version__,
            maxApduLengthAccepted=opts.max_apdu,
            segmentationSupported=Segmentation.segmentedBoth if opts.segmentation else Segmentation.noSegmentation,
            systemStatus=DeviceStatus.operational, databaseRevision=1,
            timeOfDeviceRestart=_timestamp(device.restarted_at), lastRestartReason=RestartReason(device.restart_reason),
        )
        port = ServedNetworkPort(
            f"{spec.address}/{self.mask}:{self.device_port}", objectIdentifier=("network-port", 1), objectName="NetworkPort-1"
        )
        limits = dict(opts.limits if opts.limits is not None else AHU_LIMITS if spec.profile.equip == "ahu" else ())
        objects: dict[str, Any] = {}
        for objid, point in device.points.items():
            limit = limits.get(point.key) if objid.startswith("analog-input,") else None
            objects[objid] = local_object(
                point, device.names.get(objid, point.name), device.objects.get(objid),
                cls=ReportingAnalogInput if limit else None, extra=reporting_properties(limit) if limit else None,
            )
        extra: list[Any] = []
        if limits:  # the recipient list is configuration: it outlives a restart
            old = device.notification_class
            extra.append(notification_class(recipients=list(old.recipientList) if old is not None else []))
        wants_schedules = opts.schedules if opts.schedules is not None else spec.profile.equip == "ahu"
        if wants_schedules and not device.timetable:  # the program is configuration: it outlives a restart
            device.timetable = {"calendar,1": holidays_calendar(), "schedule,1": fan_schedule()}
            for obj in device.timetable.values():
                obj._changed = lambda device=device: self._timetables.run(device.timetable)
        cls = _application(spec.instance, opts)
        claim_address(spec.address, self.device_port)
        app = cls.from_object_list([device_object, port, *objects.values(), *extra, *device.timetable.values()])
        try:
            await await_bound(app, what=f"simulated device {spec.instance} on {spec.address}")
        except BaseException:
            await close_application(app)
            raise
        device.app, device.objects = app, objects
        device.notification_class = extra[0] if extra else None
        self._timetables.run(device.timetable)

    async def _open_bbmd(self, address: str) -> None:
        local = f"{address}/{self.mask}:{self.device_port}"
        device_object = ServedDevice(
            objectIdentifier=("device", self.bbmd_instance), objectName=f"BBMD-{self.bbmd_instance}",
            vendorIdentifier=VENDOR_ID, vendorName="bms", modelName="SIM-BBMD",
        )
        port = ServedNetworkPort(local, objectIdentifier=("network-port", 1), objectName="NetworkPort-1")
        port.bacnetIPMode = IPMode.bbmd
        port.bbmdAcceptFDRegistrations = True
        port.bbmdForeignDeviceTable = []
        port.bbmdBroadcastDistributionTable = []
        claim_address(address, self.device_port)
        app = DeviceApplication.from_object_list([device_object, port])
        for layer in app.link_layers.values():
            layer.add_peer(IPv4Address(local))  # itself: distribute foreign broadcasts on this subnet
        try:
            await await_bound(app, what=f"simulated BBMD on {address}")
        except BaseException:
            await close_application(app)
            raise
        self._bbmd_app = app

    async def set_offline(self, instance: int, offline: bool = True) -> None:
        """Make a device stop answering (its sockets close) or come back, commands intact."""
        device = self._device(instance)
        if offline and device.app is not None:
            app, device.app = device.app, None
            await close_application(app)
        elif not offline and device.app is None:
            await self._open(device)
            self._push_model(device)

    async def restart(self, instance: int, reason: str = "coldstart") -> None:
        """Restart a device as a power cycle would: it forgets its commands and says when it restarted."""
        device = self._device(instance)
        app, device.app = device.app, None
        if app is not None:
            await close_application(app)
        device.objects = {}  # new objects: empty priority arrays, the profile's relinquish defaults
        now = dt.datetime.now()
        now = now.replace(microsecond=now.microsecond // 10_000 * 10_000)
        device.restarted_at = max(now, device.restarted_at + dt.timedelta(milliseconds=10))
        device.restart_reason = reason
        device.restarts += 1
        await self._open(device)
        self._push_model(device)
        self._log.info("simulated device restarted", instance=instance, reason=reason)

    # ------------------------------------------------------------ values
    def _device(self, instance: int) -> _Device:
        device = self._devices.get(instance)
        if device is None:
            raise NotFound(f"no simulated BACnet device {instance}")
        return device

    def _object(self, instance: int, objid: str) -> tuple[_Device, str, Any]:
        device = self._device(instance)
        key = str(parse_object_id(objid))
        obj = device.objects.get(key)
        if obj is None:
            raise NotFound(f"simulated device {instance} has no object {key}")
        return device, key, obj

    def set_value(self, instance: int, objid: str, value: Value, *, hold: bool = True) -> None:
        """Set an object's present value; ``hold`` stops the model driving it.

        On a commandable object this sets the relinquish default (what it
        shows when nothing commands it). Call on the simulator's loop.
        """
        device, key, obj = self._object(instance, objid)
        object_type = key.split(",")[0]
        primitive = to_local(object_type, value)
        if is_commandable_object(obj):
            obj.relinquishDefault = primitive
            obj.recalculating()
        else:
            obj.presentValue = primitive
        if hold:
            device.held.add(key)

    def release(self, instance: int, objid: str) -> None:
        """Let the model drive an object again after :meth:`set_value`."""
        self._device(instance).held.discard(str(parse_object_id(objid)))

    def value(self, instance: int, objid: str) -> Value:
        """An object's present value."""
        _, key, obj = self._object(instance, objid)
        return from_local(key.split(",")[0], obj.presentValue)

    def priority_array(self, instance: int, objid: str) -> list[Value]:
        """A commandable object's 16 levels (None = empty)."""
        _, key, obj = self._object(instance, objid)
        if not is_commandable_object(obj):
            raise NotFound(f"{key} of simulated device {instance} is not commandable")
        return priority_levels(obj, key.split(",")[0])

    def rename(self, instance: int, objid: str, name: str) -> None:
        """Rename an object (``device,<instance>`` renames the device)."""
        device = self._device(instance)
        key = str(parse_object_id(objid))
        if key == f"device,{instance}":
            if device.app is not None:
                device.app.device_object.objectName = name
        else:
            self._object(instance, key)[2].objectName = name
        device.names[key] = name

    def set_fault(self, instance: int, objid: str, fault: bool = True) -> None:
        """Set (or clear) an object's fault status flag through its reliability."""
        _, _, obj = self._object(instance, objid)
        obj.reliability = "unreliable-other" if fault else "no-fault-detected"

    def set_status(self, instance: int, objid: str, *, in_alarm: bool = False, out_of_service: bool = False) -> None:
        """Set (or clear) an object's in-alarm (through its event state) and out-of-service status flags."""
        _, _, obj = self._object(instance, objid)
        obj.eventState = "offnormal" if in_alarm else "normal"
        obj.outOfService = out_of_service

    def event_state(self, instance: int, objid: str) -> str:
        """An object's event state (``normal``, ``high-limit``...)."""
        _, _, obj = self._object(instance, objid)
        return str(obj.eventState)

    def acked_transitions(self, instance: int, objid: str) -> tuple[bool, bool, bool]:
        """An intrinsically reporting object's acked-transitions: to-offnormal, to-fault, to-normal."""
        _, key, obj = self._object(instance, objid)
        if getattr(obj, "ackedTransitions", None) is None:
            raise NotFound(f"{key} of simulated device {instance} does not report alarms")
        bits = [bool(b) for b in obj.ackedTransitions]
        return bits[0], bits[1], bits[2]

    def recipients(self, instance: int) -> list[str]:
        """The addresses in the device's Notification Class recipient-list (``127.0.0.1:47809``)."""
        found = self._device(instance).notification_class
        return [recipient_address(entry) for entry in (found.recipientList if found is not None else [])]

    # ------------------------------------------------------------ model
    def inject_fault(self, instance: int, fault: str) -> tuple[str, ...]:
        """Give a simulated air handler a fault (:data:`~bms.sim._thermal.AHU_FAULTS`, or ``clear``);
        its faults now."""
        equipment = self._device(instance).equipment
        if not isinstance(equipment, AirHandler):
            raise NotFound(f"simulated device {instance} is not an air handler: it takes no faults")
        try:
            equipment.inject(fault)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        self._log.info("simulated fault", instance=instance, fault=fault)
        return tuple(sorted(equipment.faults))

    def step_now(self, dt: float | None = None) -> None:
        """Feed commands into the model, advance it by ``dt`` simulated seconds, write its sensors."""
        for device in self._devices.values():
            if device.equipment is None:
                continue
            for objid, obj in device.objects.items():
                key = device.key_of(objid)
                if key in device.equipment.inputs:
                    value = from_local(objid.split(",")[0], obj.presentValue)
                    if isinstance(value, (bool, int, float)):
                        device.equipment.set_input(key, value)
        self.model.step(dt if dt is not None else (self.interval or 1.0) * self.speed)
        self._push_model()
        self.run_schedules()

    def run_schedules(self) -> None:
        """Evaluate every device's Schedule and Calendar objects now, on :attr:`clock`."""
        for device in self._devices.values():
            if device.timetable:
                self._timetables.run(device.timetable)

    def schedule(self, instance: int, objid: str) -> Any:
        """A served Schedule object's program as a :class:`~bms.schedules.Schedule` (a Calendar's: its
        present value and rules as ``(value, rules)``)."""
        device = self._device(instance)
        key = str(parse_object_id(objid))
        obj = device.timetable.get(key)
        if obj is None:
            raise NotFound(f"simulated device {instance} has no schedule or calendar {key}")
        calendars = {k: o for k, o in device.timetable.items() if k.startswith("calendar,")}
        if key.startswith("calendar,"):
            return bool(obj.presentValue), calendar_rules(obj)
        return program_of(obj, calendars)

    def schedule_value(self, instance: int, objid: str) -> Value:
        """A served Schedule object's present value (a bool for the fan schedule)."""
        device = self._device(instance)
        key = str(parse_object_id(objid))
        obj = device.timetable.get(key)
        if obj is None:
            raise NotFound(f"simulated device {instance} has no schedule {key}")
        binary = any(str(r.objectIdentifier[0]).startswith("binary") for r in obj.listOfObjectPropertyReferences or ())
        value: Value = schedule_value(obj.presentValue, binary)
        return value

    def _push_model(self, only: _Device | None = None) -> None:
        for device in [only] if only is not None else self._devices.values():
            if device.equipment is None:
                continue
            values = device.equipment.values()
            for objid, obj in device.objects.items():
                key = device.key_of(objid)
                if key in values and objid not in device.held and not is_commandable_object(obj):
                    obj.presentValue = to_local(objid.split(",")[0], values[key])

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.interval or 1.0)
            now = loop.time()
            try:
                self.step_now((now - last) * self.speed)
            except Exception as err:  # the devices must keep answering
                self._log.error("simulator step failed", error=repr(err))
            last = now



def _timestamp(at: dt.datetime) -> TimeStamp:
    """A BACnet date-time timestamp of ``at`` (to the hundredth of a second)."""
    date = Date((at.year - 1900, at.month, at.day, at.isoweekday()))
    return TimeStamp(dateTime=DateTime(date=date, time=Time((at.hour, at.minute, at.second, at.microsecond // 10_000))))
