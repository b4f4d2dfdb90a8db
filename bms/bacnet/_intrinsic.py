"""Intrinsic reporting on the device side: a limit-reporting analog input, its Notification Class, the services.

bacpypes3 0.0.110 detects out-of-range events and sends the notifications
(``bacpypes3.local.event``) but has no server for AcknowledgeAlarm,
GetEventInformation, AddListElement or RemoveListElement, and gets parts of
the notification wrong. Built and corrected here (site-packages are never
patched), each correction naming what it replaces:

* :class:`EventServing`, mixed into :class:`~bms.bacnet.DeviceApplication`:
  GetEventInformation (objects whose event state is not normal or with a
  transition not acknowledged, in object-identifier order, ``events_per_page``
  a page, more-events set when some are left), AcknowledgeAlarm (the time
  stamp must be the one of the transition acknowledged: invalid-time-stamp;
  the acked-transitions bit is set) and Add/RemoveListElement on a
  Notification Class object's recipient-list (an element already there is
  not added twice; one that is not there is list-element-not-found);
* :class:`OutOfRange`, the event algorithm of :class:`ReportingAnalogInput`:
  bacpypes3 indexes the Notification Class's priority and ack-required by
  the event state's number (offnormal = 2 picks the to-normal entry) and
  never clears an acked-transitions bit; here the transition picks them
  (to-offnormal, to-fault, to-normal), a transition whose class requires an
  acknowledgement clears its bit, and the message text names the object,
  its value and the limit, and the time stamp is a date and time
  (bacpypes3 stamps a time of day only: today cannot be told from yesterday);
* :class:`ServedNotificationClass`: a client may write its recipient-list
  (WriteProperty as well as AddListElement) and nothing else.

bacpypes3 also checks a recipient's valid days against Thursday whatever
the day (``validDays[3]``): recipients that want every day, as ours do, are
not affected.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, NamedTuple

from bacpypes3.apdu import GetEventInformationACK, SimpleAckPDU
from bacpypes3.basetypes import (
    DateTime,
    Destination,
    ErrorType,
    EventState,
    EventTransitionBits,
    GetEventInformationEventSummary,
    LimitEnable,
    NotifyType,
    TimeStamp,
)
from bacpypes3.constructeddata import ListOf
from bacpypes3.errors import ExecutionError, ObjectError, PropertyError, ServicesError
from bacpypes3.local.analog import AnalogInputObjectIR
from bacpypes3.local.event import OutOfRangeEventAlgorithm
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import NotificationClassObject
from bacpypes3.primitivedata import Date, Time

from bms.bacnet._events import (
    AddListElementError,
    RemoveListElementError,
    parse_stamp,
    same_destination,
    stamp_text,
    transition_index,
)
from bms.bacnet._local import _PointAccess, _WriteAccess, property_attr

UNSPECIFIED = TimeStamp(dateTime=DateTime(date=Date((255, 255, 255, 255)), time=Time((255, 255, 255, 255))))
"""An event time stamp before any transition (ASHRAE 135: unspecified date and time)."""


class LimitReporting(NamedTuple):
    """Intrinsic out-of-range reporting of an analog input."""

    high_limit: float | None = None
    low_limit: float | None = None
    deadband: float = 1.0
    time_delay: int = 0  # seconds the value must stay out of range (and back) before the transition
    notification_class: int = 1


def reporting_properties(limit: LimitReporting) -> dict[str, Any]:
    """The intrinsic-reporting properties of an analog input reporting ``limit``."""
    return {
        "timeDelay": limit.time_delay, "timeDelayNormal": limit.time_delay,
        "notificationClass": limit.notification_class,
        "highLimit": float(limit.high_limit if limit.high_limit is not None else 0.0),
        "lowLimit": float(limit.low_limit if limit.low_limit is not None else 0.0),
        "deadband": float(limit.deadband),
        "limitEnable": LimitEnable([int(limit.low_limit is not None), int(limit.high_limit is not None)]),
        "eventEnable": EventTransitionBits([1, 1, 1]), "ackedTransitions": EventTransitionBits([1, 1, 1]),
        "notifyType": NotifyType.alarm, "eventTimeStamps": [UNSPECIFIED] * 3,
        "eventMessageTexts": ["", "", ""], "eventDetectionEnable": True,
    }


class OutOfRange(OutOfRangeEventAlgorithm):  # type: ignore[misc]
    """bacpypes3's out-of-range algorithm with the notification corrected (see the module)."""

    async def send_notifications(self, params: dict[str, Any]) -> None:
        obj = self.monitoring_object or self.monitored_object
        index = transition_index(str(EventState(params["toState"])))
        klass = obj._notification_class_object
        ack_required = bool(klass.ackRequired[index])
        params["priority"] = int(klass.priority[index])
        params["ackRequired"] = ack_required
        stamp = params["timeStamp"] = date_time_stamp()
        stamps = list(obj.eventTimeStamps)
        stamps[index] = stamp
        obj.eventTimeStamps = stamps
        if ack_required:
            bits = list(obj.ackedTransitions)
            bits[index] = 0
            obj.ackedTransitions = EventTransitionBits(bits)
        params["messageText"] = text = _message(obj, str(EventState(params["toState"])))
        texts = list(obj.eventMessageTexts or ["", "", ""])
        texts[index] = text
        obj.eventMessageTexts = texts
        await super().send_notifications(params)


def date_time_stamp(at: dt.datetime | None = None) -> TimeStamp:
    """A date-and-time TimeStamp of ``at`` (default now, local time), to the hundredth of a second."""
    return parse_stamp(f"{(at := at or dt.datetime.now()):%Y-%m-%dT%H:%M:%S}.{at.microsecond // 10_000:02d}")


def _message(obj: Any, state: str) -> str:
    value = float(obj.presentValue)
    if state == "high-limit":
        return f"{obj.objectName} {value:g} above its high limit {float(obj.highLimit):g}"
    if state == "low-limit":
        return f"{obj.objectName} {value:g} below its low limit {float(obj.lowLimit):g}"
    return f"{obj.objectName} {value:g} {state}"


class ReportingAnalogInput(_PointAccess, AnalogInputObjectIR):  # type: ignore[misc]
    """A point's analog input with intrinsic out-of-range reporting (:class:`OutOfRange`)."""

    def __init__(self, **kwargs: Any) -> None:
        # AnalogInputObjectIR.__init__ would bind bacpypes3's own algorithm too: skip it, bind ours
        super(AnalogInputObjectIR, self).__init__(**kwargs)
        self._event_algorithm = OutOfRange(None, self)


class ServedNotificationClass(_WriteAccess, LocalObject, NotificationClassObject):  # type: ignore[misc]
    """A Notification Class object whose recipient-list clients may write."""

    _writable = frozenset({"recipientList"})


def notification_class(
    instance: int = 1, name: str = "Alarms", *, priorities: tuple[int, int, int] = (100, 60, 200),
    ack_required: tuple[bool, bool, bool] = (True, True, True), recipients: list[Any] | None = None,
) -> ServedNotificationClass:
    """A Notification Class object: priorities and ack-required per transition (to-offnormal, to-fault, to-normal)."""
    return ServedNotificationClass(
        objectIdentifier=("notification-class", instance), objectName=name, notificationClass=instance,
        priority=list(priorities), ackRequired=EventTransitionBits([int(b) for b in ack_required]),
        recipientList=list(recipients or []),
    )


def _reports_events(obj: Any) -> bool:
    """An object with intrinsic reporting (a Calendar or Schedule object has no event state at all)."""
    return getattr(obj, "eventState", None) is not None and getattr(obj, "ackedTransitions", None) is not None


class EventServing:
    """Mixed into the device's bacpypes3 Application: the alarm and event services (see the module)."""

    events_per_page: ClassVar[int] = 25

    # ------------------------------------------------------------ GetEventInformation
    async def do_GetEventInformationRequest(self, apdu: Any) -> None:
        app: Any = self
        after = apdu.lastReceivedObjectIdentifier
        summaries: list[Any] = []
        more = False
        for objid in sorted(app.objectIdentifier, key=lambda o: (int(o[0]), int(o[1]))):
            if after is not None and (int(objid[0]), int(objid[1])) <= (int(after[0]), int(after[1])):
                continue
            obj = app.objectIdentifier[objid]
            if not _reports_events(obj):
                continue
            acked = list(obj.ackedTransitions)
            if obj.eventState == EventState.normal and all(acked):
                continue
            if len(summaries) == self.events_per_page:
                more = True
                break
            klass = obj._notification_class_object
            summaries.append(GetEventInformationEventSummary(
                objectIdentifier=objid, eventState=obj.eventState, acknowledgedTransitions=obj.ackedTransitions,
                eventTimeStamps=list(obj.eventTimeStamps), notifyType=obj.notifyType or NotifyType.alarm,
                eventEnable=obj.eventEnable or EventTransitionBits([1, 1, 1]),
                eventPriorities=[int(p) for p in klass.priority] if klass is not None else [0, 0, 0],
            ))
        await app.response(GetEventInformationACK(listOfEventSummaries=summaries, moreEvents=more, context=apdu))

    # ------------------------------------------------------------ AcknowledgeAlarm
    async def do_AcknowledgeAlarmRequest(self, apdu: Any) -> None:
        app: Any = self
        obj = app.get_object_id(apdu.eventObjectIdentifier)
        if obj is None:
            raise ObjectError("unknownObject")
        if not _reports_events(obj):
            raise ServicesError("noAlarmConfigured")
        index = transition_index(str(EventState(apdu.eventStateAcknowledged)))
        if stamp_text(apdu.timeStamp) != stamp_text(obj.eventTimeStamps[index]) or not stamp_text(apdu.timeStamp):
            raise ServicesError("invalidTimeStamp")
        bits = list(obj.ackedTransitions)
        bits[index] = 1
        obj.ackedTransitions = EventTransitionBits(bits)
        await app.response(SimpleAckPDU(context=apdu))

    # ------------------------------------------------------------ Add/RemoveListElement
    def _recipient_list(self, apdu: Any) -> tuple[Any, list[Any], list[Any]]:
        app: Any = self
        obj = app.get_object_id(apdu.objectIdentifier)
        if obj is None:
            raise ObjectError("unknownObject")
        if property_attr(apdu.propertyIdentifier) != "recipientList" or not isinstance(obj, ServedNotificationClass):
            if obj.get_property_type(apdu.propertyIdentifier) is None:
                raise PropertyError("unknownProperty")
            raise PropertyError("writeAccessDenied")
        if apdu.propertyArrayIndex is not None:
            raise PropertyError("propertyIsNotAnArray")
        try:
            elements = list(apdu.listOfElements.cast_out(ListOf(Destination)))
        except (ValueError, TypeError, AttributeError):
            raise PropertyError("invalidDataType") from None
        return obj, list(obj.recipientList or []), elements

    async def do_AddListElementRequest(self, apdu: Any) -> None:
        await self._change_list(apdu, add=True)

    async def do_RemoveListElementRequest(self, apdu: Any) -> None:
        await self._change_list(apdu, add=False)

    async def _change_list(self, apdu: Any, add: bool) -> None:
        # These two services answer a failure with a ChangeList-Error (error and first failed element);
        # bacpypes3 would answer with a plain Error, which no client decodes as the answer to them.
        app: Any = self
        answer = AddListElementError if add else RemoveListElementError
        try:
            obj, current, elements = self._recipient_list(apdu)
            if add:
                current.extend(e for i, e in enumerate(elements)
                               if not any(same_destination(e, x) for x in [*current, *elements[:i]]))
            else:
                for number, element in enumerate(elements, start=1):
                    if not any(same_destination(element, entry) for entry in current):
                        raise _Failed(ServicesError("listElementNotFound"), number)  # nothing removed (15.2.1.3.2)
                current = [e for e in current if not any(same_destination(e, x) for x in elements)]
            obj.recipientList = current
        except _Failed as failed:
            await app.response(answer(
                context=apdu, firstFailedElementNumber=failed.number,
                errorType=ErrorType(errorClass=failed.error.errorClass, errorCode=failed.error.errorCode),
            ))
            return
        except ExecutionError as err:
            await app.response(answer(
                context=apdu, firstFailedElementNumber=0,
                errorType=ErrorType(errorClass=err.errorClass, errorCode=err.errorCode),
            ))
            return
        await app.response(SimpleAckPDU(context=apdu))


class _Failed(Exception):
    def __init__(self, error: ExecutionError, number: int) -> None:
        super().__init__(str(error))
        self.error, self.number = error, number


def recipient_address(entry: Any) -> str:
    """A recipient-list entry's address as text (``127.0.0.1:47809``), or ``device,N``."""
    recipient = entry.recipient
    if recipient.device is not None:
        return f"device,{int(recipient.device[1])}"
    mac = bytes(recipient.address.macAddress)
    if len(mac) == 6:
        return f"{mac[0]}.{mac[1]}.{mac[2]}.{mac[3]}:{int.from_bytes(mac[4:], 'big')}"
    return mac.hex()


__all__ = [
    "UNSPECIFIED",
    "EventServing",
    "LimitReporting",
    "OutOfRange",
    "ReportingAnalogInput",
    "ServedNotificationClass",
    "date_time_stamp",
    "notification_class",
    "recipient_address",
    "reporting_properties",
]
