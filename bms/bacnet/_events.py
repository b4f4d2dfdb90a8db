"""Alarms and events on the client side: event notifications in, AcknowledgeAlarm and GetEventInformation out.

bacpypes3 0.0.110 has the PDUs of these services (its apdu module) but no
client for any of them and no handler for incoming event notifications:
they are built here from its request and acknowledgement classes.

* :class:`EventReceiver` -- mixed into the client's bacpypes3 application:
  every Confirmed- and UnconfirmedEventNotification becomes an
  :class:`EventNotice` handed to the sinks; a confirmed one is answered
  with a SimpleACK (ASHRAE 135 clause 13.8: the recipient acknowledges
  receipt, whatever it does with it);
* :class:`EventServices` -- mixed into :class:`~bms.bacnet.BacnetClient`:
  :meth:`~EventServices.event_information` (GetEventInformation, following
  more-events), :meth:`~EventServices.acknowledge_alarm` (AcknowledgeAlarm)
  and :meth:`~EventServices.join_recipients`, which puts our address in a
  Notification Class object's recipient-list (AddListElement; a device
  that does not know the service gets the list read, extended and written
  back with WriteProperty).

A device's timestamps travel as text (:func:`stamp_text`), so that an
acknowledgement carries back exactly the timestamp the device gave:
``2026-12-03T13:50:01.25`` (a date and time, the device's local time),
``T13:50:01.25`` (a time only) or ``#12`` (a sequence number).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from bacpypes3.apdu import (
    AcknowledgeAlarmRequest,
    AddListElementRequest,
    ChangeListError,
    ConfirmedServiceChoice,
    GetEventInformationRequest,
    SimpleAckPDU,
    error_types,
)
from bacpypes3.basetypes import (
    DateTime,
    DaysOfWeek,
    Destination,
    DeviceAddress,
    EventState,
    EventTransitionBits,
    Recipient,
    TimeStamp,
)
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.constructeddata import ListOf
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Date, Time

from bms.bacnet._codec import is_unsupported
from bms.bacnet._objects import ObjectId, parse_object_id
from bms.bacnet._records import BacnetRejected
from bms.bacnet._wire import format_address, format_object_identifier
from bms.errors import ConfigError, ProtocolError
from bms.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from bms.bacnet._wire import Wire
    from bms.config import BacnetNetwork

    T = TypeVar("T")

EVENT_STATES: tuple[str, ...] = ("normal", "fault", "offnormal", "high-limit", "low-limit", "life-safety-alarm")
TRANSITIONS: tuple[str, ...] = ("to-offnormal", "to-fault", "to-normal")
"""The order of BACnet's event transition bits, event-time-stamps and event priorities."""

_log = get_logger("bacnet")
_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d\d)|T(\d\d):(\d\d):(\d\d)\.(\d\d)|#(\d+)")


class _ChangeListError(ChangeListError):  # type: ignore[misc]
    # bacpypes3 registers ChangeListError for AddListElement and RemoveListElement without a service
    # choice, so it cannot decode one (the request then times out) nor print one; these two can.
    @property
    def reason(self) -> Any:
        return self.errorType.errorCode


class AddListElementError(_ChangeListError):
    """The Error answer to AddListElement (a ChangeList-Error: error, first failed element)."""

    service_choice = ConfirmedServiceChoice.addListElement


class RemoveListElementError(_ChangeListError):
    """The Error answer to RemoveListElement."""

    service_choice = ConfirmedServiceChoice.removeListElement


for _error in (AddListElementError, RemoveListElementError):  # bacpypes3's own registry of error answers
    error_types[int(_error.service_choice)] = _error


class EventNotice(NamedTuple):
    """One event notification a device sent us."""

    address: str  # the device's address as format_address gives it
    device_instance: int
    objid: str  # "analog-input,2"
    process_id: int
    event_type: str  # out-of-range, change-of-state...
    from_state: str
    to_state: str
    priority: int
    notification_class: int
    message: str
    ack_required: bool
    notify_type: str  # alarm | event | ack-notification
    device_time: str  # see stamp_text
    confirmed: bool


class EventSummary(NamedTuple):
    """One object's entry in a GetEventInformation answer."""

    objid: str
    event_state: str
    acked: tuple[bool, bool, bool]  # to-offnormal, to-fault, to-normal
    device_times: tuple[str, str, str]  # the same order; "" when the device has none
    notify_type: str
    priorities: tuple[int, int, int]

    def transition(self) -> int:
        """Index (in :data:`TRANSITIONS`) of the transition that led to the current event state."""
        return transition_index(self.event_state)


def transition_index(state: str) -> int:
    """0 for an off-normal state (high-limit...), 1 for fault, 2 for normal."""
    return {"normal": 2, "fault": 1}.get(state, 0)


# ------------------------------------------------------------------ timestamps


def stamp_text(stamp: Any) -> str:
    """A BACnet TimeStamp as lossless text (see the module); "" when it is empty or unspecified."""
    if stamp is None:
        return ""
    if stamp.dateTime is not None:
        date, time = stamp.dateTime.date, stamp.dateTime.time
        if 255 in (date[0], date[1], date[2]) or 255 in (time[0], time[1], time[2]):
            return ""
        hundredths = 0 if time[3] == 255 else time[3]
        return f"{date[0] + 1900:04d}-{date[1]:02d}-{date[2]:02d}T{time[0]:02d}:{time[1]:02d}:{time[2]:02d}.{hundredths:02d}"
    if stamp.time is not None:
        time = stamp.time
        if 255 in (time[0], time[1], time[2]):
            return ""
        return f"T{time[0]:02d}:{time[1]:02d}:{time[2]:02d}.{0 if time[3] == 255 else time[3]:02d}"
    if stamp.sequenceNumber is not None:
        return f"#{int(stamp.sequenceNumber)}"
    return ""


def parse_stamp(text: str) -> TimeStamp:
    """The BACnet TimeStamp of :func:`stamp_text`'s text (ConfigError naming it when it is not one)."""
    match = _STAMP.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"bad device timestamp {text!r}: expected 2026-12-03T13:50:01.25, T13:50:01.25 or #12")
    g = match.groups()
    if g[0] is not None:
        year, month, day, hour, minute, second, hundredths = (int(x) for x in g[:7])
        try:
            weekday = dt.date(year, month, day).isoweekday()
        except ValueError as err:
            raise ConfigError(f"bad device timestamp {text!r}: {err}") from None
        date = Date((year - 1900, month, day, weekday))
        return TimeStamp(dateTime=DateTime(date=date, time=Time((hour, minute, second, hundredths))))
    if g[7] is not None:
        return TimeStamp(time=Time(tuple(int(x) for x in g[7:11])))
    return TimeStamp(sequenceNumber=int(g[11]))


def stamp_epoch(text: str) -> float | None:
    """Epoch seconds of a date-and-time stamp (read as this computer's local time), else None."""
    match = _STAMP.fullmatch(text)
    if match is None or match.group(1) is None:
        return None
    year, month, day, hour, minute, second, hundredths = (int(x) for x in match.groups()[:7])
    try:
        return dt.datetime(year, month, day, hour, minute, second, hundredths * 10_000).timestamp()
    except ValueError:
        return None


# ------------------------------------------------------------------ decoding


def _state(value: Any) -> str:
    return str(EventState(value)) if value is not None else ""


def notice_from(apdu: Any, confirmed: bool) -> EventNotice:
    """The :class:`EventNotice` of a bacpypes3 (Un)ConfirmedEventNotificationRequest."""
    return EventNotice(
        address=format_address(apdu.pduSource),
        device_instance=int(apdu.initiatingDeviceIdentifier[1]),
        objid=format_object_identifier(apdu.eventObjectIdentifier),
        process_id=int(apdu.processIdentifier or 0),
        event_type=str(apdu.eventType) if apdu.eventType is not None else "",
        from_state=_state(apdu.fromState),
        to_state=_state(apdu.toState),
        priority=int(apdu.priority or 0),
        notification_class=int(apdu.notificationClass or 0),
        message=str(apdu.messageText or ""),
        ack_required=bool(apdu.ackRequired),
        notify_type=str(apdu.notifyType) if apdu.notifyType is not None else "",
        device_time=stamp_text(apdu.timeStamp),
        confirmed=confirmed,
    )


def summary_from(item: Any) -> EventSummary:
    """The :class:`EventSummary` of one GetEventInformation list entry."""
    bits = [bool(b) for b in [*(item.acknowledgedTransitions or ()), 1, 1, 1][:3]]
    stamps = [stamp_text(s) for s in list(item.eventTimeStamps or ())] + ["", "", ""]
    prios = [int(p) for p in list(item.eventPriorities or ())] + [0, 0, 0]
    return EventSummary(
        objid=format_object_identifier(item.objectIdentifier),
        event_state=_state(item.eventState),
        acked=(bits[0], bits[1], bits[2]),
        device_times=(stamps[0], stamps[1], stamps[2]),
        notify_type=str(item.notifyType) if item.notifyType is not None else "",
        priorities=(prios[0], prios[1], prios[2]),
    )


# ------------------------------------------------------------------ the application side


class EventReceiver:
    """Mixed into the client's bacpypes3 Application: event notifications go to ``event_sinks``."""

    event_sinks: list[Callable[[EventNotice], None]]

    async def do_UnconfirmedEventNotificationRequest(self, apdu: Any) -> None:
        self._deliver_event(apdu, confirmed=False)

    async def do_ConfirmedEventNotificationRequest(self, apdu: Any) -> None:
        self._deliver_event(apdu, confirmed=True)
        await self.response(SimpleAckPDU(context=apdu))  # type: ignore[attr-defined]

    def _deliver_event(self, apdu: Any, confirmed: bool) -> None:
        try:
            notice = notice_from(apdu, confirmed)
        except (ValueError, TypeError, AttributeError, IndexError):
            return  # a notification we cannot read is not ours to refuse: it is acknowledged and dropped
        for sink in list(getattr(self, "event_sinks", ())):
            try:
                sink(notice)
            except Exception as err:  # one sink's bug neither stops the others nor fails the answer
                _log.error("event notification sink failed", objid=notice.objid, error=repr(err))


# ------------------------------------------------------------------ the client side


class EventServices:
    """Mixed into BacnetClient: the alarm and event services a supervisory client uses."""

    io: Wire
    network: BacnetNetwork

    if TYPE_CHECKING:

        def application(self) -> Any: ...

        def address(self, address: str) -> tuple[str, Address]: ...

        async def call(self, what: str, address: str, awaitable: Awaitable[T], deadline: float | None = None) -> T: ...

    def on_event(self, sink: Callable[[EventNotice], None]) -> Callable[[], None]:
        """Hand every event notification received to ``sink`` (on the client's loop); returns the undo."""
        sinks = self.application().event_sinks
        sinks.append(sink)
        return lambda: sinks.remove(sink) if sink in sinks else None

    async def event_information(self, address: str, *, max_pages: int = 100) -> list[EventSummary]:
        """The device's active and unacknowledged events (GetEventInformation, every page)."""
        app = self.application()
        text, addr = self.address(address)
        found: list[EventSummary] = []
        last: Any = None
        for _ in range(max_pages):
            request = GetEventInformationRequest(destination=addr)
            if last is not None:
                request.lastReceivedObjectIdentifier = last
            ack = await self.call("get-event-information", text, app.request(request))
            items = list(getattr(ack, "listOfEventSummaries", None) or ())
            try:
                found.extend(summary_from(item) for item in items)
            except (ValueError, TypeError, AttributeError, IndexError) as err:
                raise ProtocolError(f"{text}: get-event-information: unreadable answer ({err})") from None
            if not getattr(ack, "moreEvents", False):
                return found
            if not items:
                raise ProtocolError(f"{text}: get-event-information: more events announced, none given")
            last = items[-1].objectIdentifier
        raise ProtocolError(f"{text}: get-event-information: more than {max_pages} pages")

    async def acknowledge_alarm(
        self,
        address: str,
        objid: str | ObjectId,
        to_state: str,
        device_time: str,
        *,
        source: str = "bms",
        process_id: int = 0,
    ) -> None:
        """AcknowledgeAlarm: the transition to ``to_state`` stamped ``device_time`` by the device.

        Raises :class:`BacnetRejected` with the device's reason
        (``invalid-time-stamp``, ``invalid-event-state``, ``unknown-object``...).
        """
        app = self.application()
        oid = parse_object_id(objid)
        if to_state not in EVENT_STATES:
            raise ConfigError(f"bad event state {to_state!r}: expected one of {', '.join(EVENT_STATES)}")
        stamp = parse_stamp(device_time)
        text, addr = self.address(address)
        now = dt.datetime.now()
        now_text = f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 10_000:02d}"
        request = AcknowledgeAlarmRequest(
            destination=addr,
            acknowledgingProcessIdentifier=process_id,
            eventObjectIdentifier=self.io.identifier(oid),
            eventStateAcknowledged=EventState(to_state),
            timeStamp=stamp,
            acknowledgmentSource=source[:64],
            timeOfAcknowledgment=parse_stamp(now_text),
        )
        await self.call(f"acknowledge-alarm {oid} {to_state}", text, app.request(request))

    def recipient(self, process_id: int, confirmed: bool = True) -> Destination:
        """Our address as a recipient-list entry: every day, all day, every transition."""
        try:
            mac = Address(self.network.address).addrAddr
        except (ValueError, TypeError, AttributeError) as err:
            raise ConfigError(f"bad BACnet network address {self.network.address!r}: {err}") from None
        return Destination(
            validDays=DaysOfWeek([1] * 7), fromTime=Time((0, 0, 0, 0)), toTime=Time((23, 59, 59, 99)),
            recipient=Recipient(address=DeviceAddress(networkNumber=0, macAddress=mac)),
            processIdentifier=process_id, issueConfirmedNotifications=confirmed,
            transitions=EventTransitionBits([1, 1, 1]),
        )

    async def join_recipients(
        self, address: str, notification_class: str | ObjectId, *, process_id: int = 1,
        confirmed: bool = True,
    ) -> str:
        """Add our address to a Notification Class object's recipient-list; returns how ("add-list-element"...).

        AddListElement first (an element already there is not added twice);
        a device that rejects the service gets its list read, and written
        back with ours added unless it is there already ("present").
        """
        app = self.application()
        oid = parse_object_id(notification_class)
        if oid.type != "notification-class":
            raise ConfigError(f"{oid} is not a notification-class object")
        text, addr = self.address(address)
        ours = self.recipient(process_id, confirmed)
        request = AddListElementRequest(
            destination=addr, objectIdentifier=self.io.identifier(oid), propertyIdentifier="recipientList",
            listOfElements=AnyValue(ListOf(Destination)([ours])),
        )
        try:
            await self.call(f"add-list-element {oid} recipient-list", text, app.request(request))
            return "add-list-element"
        except BacnetRejected as err:
            if not is_unsupported(err):
                raise
        current = await self.io.rp(text, (oid, "recipient-list", None))
        entries = list(current or [])
        if any(same_destination(entry, ours) for entry in entries):
            return "present"
        result = await self.call(
            f"write-property {oid} recipient-list", text,
            app.write_property(addr, self.io.identifier(oid), self.io.property("recipient-list"), [*entries, ours]),
        )
        if isinstance(result, str):
            raise ProtocolError(f"{text}: write-property {oid} recipient-list: cannot encode ({result})")
        return "write-property"


def same_destination(a: Any, b: Any) -> bool:
    """Two recipient-list entries name the same recipient (device or address) with the same process id."""
    try:
        ra, rb = a.recipient, b.recipient
        if int(a.processIdentifier) != int(b.processIdentifier):
            return False
        if ra.device is not None or rb.device is not None:
            return ra.device is not None and rb.device is not None and tuple(ra.device) == tuple(rb.device)
        return bool(int(ra.address.networkNumber) == int(rb.address.networkNumber)
                    and bytes(ra.address.macAddress) == bytes(rb.address.macAddress))
    except (AttributeError, TypeError, ValueError):
        return False


__all__ = [
    "EVENT_STATES",
    "TRANSITIONS",
    "AddListElementError",
    "EventNotice",
    "EventReceiver",
    "EventServices",
    "EventSummary",
    "RemoveListElementError",
    "notice_from",
    "parse_stamp",
    "same_destination",
    "stamp_epoch",
    "stamp_text",
    "summary_from",
    "transition_index",
]
