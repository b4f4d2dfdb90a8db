"""BacnetClient: one bacpypes3 application talking to the devices of one network.

Built from a :class:`~bms.config.BacnetNetwork` (our address/mask:port, the
devices' port, the broadcast address, an optional BBMD for foreign-device
registration, timeout and retries). Everything is async and runs on the
loop that called :meth:`BacnetClient.start`. Every bacpypes3 outcome is
translated here: no answer -> :class:`~bms.errors.DeviceTimeout`, an Error,
Reject or Abort -> :class:`BacnetRejected`, anything else from the stack ->
:class:`~bms.errors.ProtocolError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

from bacpypes3.apdu import ErrorRejectAbortNack, SimpleAckPDU, SubscribeCOVRequest, WhoIsRequest
from bacpypes3.app import Application
from bacpypes3.basetypes import HostNPort, IPMode, Segmentation
from bacpypes3.comm import ApplicationServiceElement
from bacpypes3.errors import ServicesError
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address, IPv4Address, LocalBroadcast

from bms.bacnet._ack import cov_reading
from bms.bacnet._batch import refs_per_request
from bms.bacnet._codec import stack_error, to_bacnet, to_flags, to_value, translate
from bms.bacnet._cov import CovCallback, CovSubscription
from bms.bacnet._events import EventReceiver, EventServices
from bms.bacnet._fastdecode import decode_cov_notification
from bms.bacnet._objects import MAX_APDU_SIZES, ObjectId, parse_object_id, split_property
from bms.bacnet._reads import Reads, flag_names
from bms.bacnet._records import DeviceState, IAmInfo
from bms.bacnet._stack import VENDOR_ID, await_bound, claim_address, close_application, exact_self_address
from bms.bacnet._wire import Wire, accept_raw_acks, format_address, format_object_identifier
from bms.clock import Clock, WallClock
from bms.config import BacnetNetwork
from bms.errors import BmsError, CodecError, ConfigError, DeviceTimeout, ProtocolError, WriteRefused
from bms.logs import get_logger
from bms.messages import Value

T = TypeVar("T")

DEFAULT_INSTANCE = 4_194_302
"""Device instance of the client's own device object (4194303 is the wildcard)."""

_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_log = get_logger("bacnet")


class _ClientApplication(EventReceiver, Application):  # type: ignore[misc]
    """The client's bacpypes3 application: I-Am, COV and event notifications go to the BacnetClient."""

    i_am_sinks: list[Callable[[Any], None]]
    cov_router: Callable[[Any], Awaitable[bool]] | None = None
    raw_cov_router: Callable[[Any, bytes], Awaitable[bool]] | None = None

    @classmethod
    def from_object_list(cls, objects: list[Any], *args: Any, **kwargs: Any) -> Any:
        app = super().from_object_list(objects, *args, **kwargs)
        accept_raw_acks(app, app.route_raw_cov)  # RPM ACKs and COV notifications decoded by bms.bacnet._ack
        exact_self_address(app)  # devices on 127.x of our port are not us
        return app

    async def route_raw_cov(self, source: Any, data: bytes) -> bool:
        return self.raw_cov_router is not None and await self.raw_cov_router(source, data)

    async def do_IAmRequest(self, apdu: Any) -> None:
        await super().do_IAmRequest(apdu)
        await self.device_info_cache.set_device_info(apdu)
        for sink in list(self.i_am_sinks):
            sink(apdu)

    async def do_UnconfirmedCOVNotificationRequest(self, apdu: Any) -> None:
        if self.cov_router is not None:
            await self.cov_router(apdu)

    async def do_ConfirmedCOVNotificationRequest(self, apdu: Any) -> None:
        if self.cov_router is None or not await self.cov_router(apdu):
            raise ServicesError(errorCode="unknownSubscription")
        await self.response(SimpleAckPDU(context=apdu))


class BacnetClient(Reads, EventServices):
    """An async BACnet/IP client for one network. Use ``async with`` or start()/stop()."""

    def __init__(
        self,
        network: BacnetNetwork | None = None,
        *,
        device_instance: int = DEFAULT_INSTANCE,
        name: str = "bms",
        max_apdu: int = 1476,
        segmentation: bool = True,
        max_refs_per_request: int = 100,
        concurrency: int = 8,
        in_flight: int = 4,
        clock: Clock | None = None,
    ) -> None:
        if max_apdu not in MAX_APDU_SIZES:
            raise ConfigError(f"max_apdu must be one of {', '.join(map(str, MAX_APDU_SIZES))}, got {max_apdu}")
        self.network = network or BacnetNetwork()
        self.device_instance = device_instance
        self.name = name
        self.max_apdu = max_apdu
        self.segmentation = segmentation
        self.max_segments = 16 if segmentation else 1
        self.max_refs_per_request = max_refs_per_request
        self.concurrency = concurrency
        self.in_flight = max(1, in_flight)  # ReadPropertyMultiple requests outstanding per device
        self.clock: Clock = clock or WallClock()
        self._deadline = self.network.timeout * (self.network.retries + 1) + 1.0
        self._app: _ClientApplication | None = None
        self._states: dict[str, DeviceState] = {}
        self._addresses: dict[str, tuple[str, Address]] = {}
        self._cov: dict[int, CovSubscription] = {}
        self._next_pid = 1
        self._poll_plans = {}
        self._vendors: dict[str, Any] = {}
        self._monitored: dict[str, tuple[tuple[int, int], str]] = {}  # objid -> its identifier, its type
        self.io = Wire(self)

    # ---------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._app is not None

    async def start(self) -> None:
        """Open the sockets (inside the running loop) and register with the BBMD if configured."""
        if self._app is not None:
            return
        net = self.network
        try:
            local = Address(net.address)
        except (ValueError, TypeError, RuntimeError) as err:
            raise ConfigError(f"bad BACnet network address {net.address!r}: {err}") from None
        if not isinstance(local, IPv4Address):
            raise ConfigError(f"bad BACnet network address {net.address!r}: expected ip/mask:port")
        device = DeviceObject(
            objectIdentifier=("device", self.device_instance),
            objectName=self.name,
            vendorIdentifier=VENDOR_ID,
            vendorName="bms",
            modelName="bms supervisory client",
            maxApduLengthAccepted=self.max_apdu,
            segmentationSupported=Segmentation.segmentedBoth if self.segmentation else Segmentation.noSegmentation,
            maxSegmentsAccepted=self.max_segments,
            apduTimeout=max(1, int(net.timeout * 1000)),
            numberOfApduRetries=net.retries,
        )
        port = NetworkPortObject(net.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1")
        if net.bbmd:
            try:
                port.bacnetIPMode = IPMode.foreign
                port.fdBBMDAddress = HostNPort(net.bbmd)
                port.fdSubscriptionLifetime = net.bbmd_ttl
            except (ValueError, TypeError, RuntimeError) as err:
                raise ConfigError(f"bad BBMD address {net.bbmd!r}: {err}") from None
        claim_address(*local.addrTuple)  # another process's address: refused, never shared
        app = _ClientApplication.from_object_list([device, port])
        app.i_am_sinks = []
        app.event_sinks = []
        app.cov_router = self._route_cov
        app.raw_cov_router = self._route_raw_cov
        try:
            await await_bound(app, what=f"BACnet client on {net.address}")
            if net.bbmd:
                await self._await_registration(app, net.bbmd)
        except BaseException:
            await close_application(app)
            raise
        self._app = app

    async def _await_registration(self, app: _ClientApplication, bbmd: str) -> None:
        """Wait (up to the timeout) for the BBMD to accept us; it keeps retrying in the background."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.network.timeout * (self.network.retries + 1)
        layers = [layer for layer in app.link_layers.values() if hasattr(layer, "bbmdRegistrationStatus")]
        while loop.time() < deadline:
            status = max((int(layer.bbmdRegistrationStatus) for layer in layers), default=0)
            if status == 0:
                return
            if status > 0:
                raise ProtocolError(f"BBMD {bbmd} refused our foreign-device registration (result {status:#06x})")
            await asyncio.sleep(0.005)
        _log.warning("no answer from the BBMD yet; registration keeps retrying", bbmd=bbmd)

    async def stop(self, cancel_subscriptions: bool = True) -> None:
        """Cancel COV subscriptions (best effort) and close the sockets."""
        app, subs = self._app, list(self._cov.values())
        if app is None:
            return
        if cancel_subscriptions and subs:
            await asyncio.gather(*(sub.cancel() for sub in subs))
        for sub in subs:
            sub.close_silently()
        self._cov.clear()
        self._app = None
        await close_application(app)

    async def __aenter__(self) -> BacnetClient:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def application(self) -> _ClientApplication:
        """The running bacpypes3 application (ProtocolError when not started)."""
        if self._app is None:
            raise ProtocolError("BACnet client is not started")
        return self._app

    # ---------------------------------------------------------------- helpers
    def address(self, address: str) -> tuple[str, Address]:
        """(canonical text, bacpypes3 Address) of ``"127.0.0.2"`` or ``"127.0.0.2:47808"``."""
        found = self._addresses.get(address)
        if found is not None:
            return found
        text = address.strip()
        if _IP.fullmatch(text):
            text = f"{text}:{self.network.device_port}"
        try:
            addr = Address(text)
        except (ValueError, TypeError, RuntimeError) as err:
            raise ConfigError(f"bad BACnet address {address!r}: {err}") from None
        found = (format_address(addr), addr)
        self._addresses[address] = found
        return found

    def device_state(self, address: str) -> DeviceState:
        """What the client knows of the device at ``address`` (created on first use)."""
        key = self.address(address)[0]
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = DeviceState(key)
        return state

    def refs_per_request(self, state: DeviceState) -> int:
        """Property references per ReadPropertyMultiple for this device."""
        return refs_per_request(state.max_apdu, state.segmentation, self.max_apdu, self.max_segments, self.max_refs_per_request)

    @property
    def deadline(self) -> float:
        """Seconds one service call may take: the network's timeout times its attempts, and a second."""
        return self._deadline

    async def call(self, what: str, address: str, awaitable: Awaitable[T], deadline: float | None = None) -> T:
        """Await one bacpypes3 service call, translating every outcome into bms errors.

        ``deadline`` (seconds) shortens the client's own for a caller that waits less.
        """
        limit = self._deadline if deadline is None else min(self._deadline, deadline)
        try:
            return await asyncio.wait_for(awaitable, limit)
        except ErrorRejectAbortNack as err:
            raise translate(err, address, what) from err
        except TimeoutError as err:
            raise DeviceTimeout(f"{address}: no answer to {what} within {limit:g} s") from err
        except BmsError:
            raise
        except Exception as err:  # every other class of the stack: RejectException (InvalidTag), AbortException,
            raise ProtocolError(f"{address}: {what} failed: {stack_error(err)}") from err  # ExecutionError...

    # ---------------------------------------------------------------- who-is
    async def who_is(
        self, low: int | None = None, high: int | None = None, timeout: float | None = None, *, address: str | None = None
    ) -> list[IAmInfo]:
        """Send Who-Is (global, or to ``address``) and collect the I-Ams for ``timeout`` seconds.

        A ranged Who-Is for one instance, or one sent to an address, returns at
        the first answer.
        """
        app = self.application()
        if (low is None) != (high is None):
            raise ConfigError("who-is: give both low and high instance limits, or neither")
        if low is not None and high is not None and not 0 <= low <= high <= 4_194_303:
            raise ConfigError(f"who-is: bad instance range {low}..{high}")
        wait = self.network.timeout if timeout is None else timeout
        target = self.address(address) if address is not None else None
        found: dict[int, IAmInfo] = {}
        single = target is not None or (low is not None and low == high)
        done = asyncio.Event()

        def sink(apdu: Any) -> None:
            instance = int(apdu.iAmDeviceIdentifier[1])
            source = format_address(apdu.pduSource)
            if (low is not None and high is not None and not low <= instance <= high) or (
                target is not None and source != target[0]
            ):
                return
            info = IAmInfo(
                instance=instance, address=source, max_apdu=int(apdu.maxAPDULengthAccepted),
                segmentation=str(apdu.segmentationSupported), vendor_id=int(apdu.vendorID),
            )
            found[instance] = info
            state = self.device_state(source)
            state.max_apdu, state.segmentation = info.max_apdu, info.segmentation
            if single:
                done.set()

        if target is not None:
            destination: Any = target[1]
        elif self.network.bbmd:
            destination = LocalBroadcast()
        else:
            destination = Address(f"{self.network.broadcast}:{self.network.device_port}")
        request = WhoIsRequest(destination=destination)
        if low is not None:
            request.deviceInstanceRangeLowLimit = low
            request.deviceInstanceRangeHighLimit = high
        app.i_am_sinks.append(sink)
        try:
            try:
                await ApplicationServiceElement.request(app, request)
            except Exception as err:  # any class of the stack's errors, and the socket's
                raise ProtocolError(f"who-is to {destination}: cannot send: {stack_error(err)}") from err
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), wait)
        finally:
            app.i_am_sinks.remove(sink)
        return sorted(found.values(), key=lambda info: info.instance)

    # ---------------------------------------------------------------- properties
    async def read_property(self, address: str, objid: str | ObjectId, prop: str = "present-value") -> Value:
        """Read one property (``"priority-array[8]"`` reads one element); raises on any error."""
        oid = parse_object_id(objid)
        name, index = split_property(prop)
        return to_value(await self.io.rp(self.address(address)[0], (oid, name, index)), oid.type)

    async def write(
        self, address: str, objid: str | ObjectId, value: Value, priority: int | None = None, prop: str = "present-value"
    ) -> None:
        """WriteProperty ``value`` at ``priority``; ``None`` relinquishes that priority (writes Null).

        Raises :class:`BacnetRejected` with the device's error class and code
        (``write-access-denied``, ``value-out-of-range``, ``unknown-object``...)
        or :class:`DeviceTimeout`.
        """
        app = self.application()
        oid = parse_object_id(objid)
        name, index = split_property(prop)
        if priority is not None and not 1 <= priority <= 16:
            raise WriteRefused(str(oid), f"priority must be 1..16, got {priority}")
        if value is None and priority is None:
            priority = 16
        primitive = to_bacnet(value, oid.type, str(oid)) if name == "present-value" or value is None else value
        text, addr = self.address(address)
        at = f" at priority {priority}" if priority is not None else ""
        result = await self.call(
            f"write-property {oid} {name}{at}", text,
            app.write_property(addr, self.io.identifier(oid), self.io.property(name), primitive, index, priority),
        )
        if isinstance(result, str):
            raise ProtocolError(f"{text}: write-property {oid} {name}: cannot encode ({result})")

    async def read_priority_array(
        self, address: str, objid: str | ObjectId, *, deadline: float | None = None
    ) -> list[Value]:
        """The 16 priority levels of a commandable object (index 0 = priority 1, None = empty).

        ``deadline``: give up (DeviceTimeout) after that many seconds if it is shorter than the client's.
        """
        oid = parse_object_id(objid)
        raw = await self.io.rp(self.address(address)[0], (oid, "priority-array", None), deadline=deadline)
        levels = [to_value(item, oid.type) for item in (raw or [])]
        return (levels + [None] * 16)[:16]

    # ---------------------------------------------------------------- cov
    async def subscribe_cov(
        self,
        address: str,
        objid: str | ObjectId,
        *,
        callback: CovCallback,
        confirmed: bool = False,
        lifetime: int = 300,
    ) -> CovSubscription:
        """Subscribe to COV on ``objid``; the subscription renews itself until cancelled."""
        self.application()
        if lifetime < 0:
            raise ConfigError(f"cov lifetime must be >= 0 seconds, got {lifetime}")
        text = self.address(address)[0]
        oid = parse_object_id(objid)
        pid = self._next_pid
        self._next_pid = self._next_pid % 4_194_303 + 1
        sub = CovSubscription(
            text, str(oid), pid, confirmed=confirmed, lifetime=lifetime, callback=callback,
            send=self._send_subscribe, on_close=self._forget, now=self.clock.now,
        )
        self._cov[pid] = sub
        try:
            await sub.start()
        except BaseException:
            self._cov.pop(pid, None)
            raise
        return sub

    @property
    def subscriptions(self) -> list[CovSubscription]:
        return list(self._cov.values())

    def _forget(self, sub: CovSubscription) -> None:
        self._cov.pop(sub.process_id, None)

    async def _send_subscribe(self, sub: CovSubscription, cancel: bool) -> None:
        app = self.application()
        text, addr = self.address(sub.address)
        request = SubscribeCOVRequest(
            subscriberProcessIdentifier=sub.process_id,
            monitoredObjectIdentifier=self.io.identifier(parse_object_id(sub.objid)),
            destination=addr,
        )
        if not cancel:
            request.issueConfirmedNotifications = sub.confirmed
            request.lifetime = sub.lifetime
        what = f"{'cancel ' if cancel else ''}subscribe-cov {sub.objid}"
        await self.call(what, text, app.request(request))

    async def _route_raw_cov(self, source: Any, data: bytes) -> bool:
        """An unconfirmed COV notification as bytes (see bms.bacnet._ack); False leaves it to bacpypes3."""
        try:
            note = decode_cov_notification(data)
        except CodecError:
            return False
        sub = self._cov.get(note.process_id)
        if sub is None or format_address(source) != sub.address:
            return False
        monitored = self._monitored.get(sub.objid)
        if monitored is None:
            oid = parse_object_id(sub.objid)
            ident = self.io.identifier(oid)
            monitored = self._monitored[sub.objid] = ((int(ident[0]), int(ident[1])), oid.type)
        if note.monitored != monitored[0]:
            return False
        vendor = self._vendors.get(sub.address)
        if vendor is None:
            vendor = self._vendors[sub.address] = await self.application().get_vendor_info(device_address=source)
        value, flags = cov_reading(note, data, vendor, monitored[1])
        sub.deliver(value, flag_names(flags), note.time_remaining)
        return True

    async def _route_cov(self, apdu: Any) -> bool:
        sub = self._cov.get(int(apdu.subscriberProcessIdentifier))
        if sub is None or format_address(apdu.pduSource) != sub.address:
            return False
        if format_object_identifier(apdu.monitoredObjectIdentifier) != sub.objid:
            return False
        app = self.application()
        vendor = await app.get_vendor_info(device_address=apdu.pduSource)
        object_type = apdu.monitoredObjectIdentifier[0]
        object_class = vendor.get_object_class(object_type)
        value: Value = None
        flags: tuple[str, ...] = ()
        for item in apdu.listOfValues or ():
            prop = str(item.propertyIdentifier)
            kind = object_class.get_property_type(item.propertyIdentifier) if object_class else None
            if kind is None:
                continue
            try:
                raw = item.value.cast_out(kind)
            except (ValueError, TypeError, AttributeError):
                continue
            if prop == "present-value":
                value = to_value(raw, str(object_type))
            elif prop == "status-flags":
                flags = to_flags(raw)
        sub.deliver(value, flags, int(apdu.timeRemaining or 0))
        return True
