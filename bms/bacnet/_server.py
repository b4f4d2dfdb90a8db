"""The device side: a bacpypes3 Application that answers clients as a conformant BACnet device.

bacpypes3 0.0.110 serves local objects but gets parts of ASHRAE 135 wrong;
:class:`DeviceApplication` corrects them in our code (site-packages are never
patched), each correction naming the behaviour it replaces:

* ReadProperty and ReadPropertyMultiple addressed to the wildcard device
  instance 4194303 answer as the local Device object (its own identifier in
  the acknowledgement);
* WriteProperty: an unknown or absent property is unknown-property, a
  read-only one write-access-denied (the objects decide, see
  :class:`~bms.bacnet.ServedDevice` and :func:`~bms.bacnet.local_object`; an
  object that does not say is read-only), a value of the wrong datatype
  invalid-data-type (bacpypes3 rejects it with invalid-tag), an array index
  on a scalar property-is-not-an-array; Null relinquishes a commandable
  present-value only, at priority 16 when the request gives none;
  WritePropertyMultiple keeps bacpypes3's handling, the objects' access rule
  included;
* the alarm and event services (GetEventInformation, AcknowledgeAlarm,
  Add/RemoveListElement on a recipient-list) that bacpypes3 lacks, from
  :class:`~bms.bacnet._intrinsic.EventServing`;
* ReadPropertyMultiple is answered with the same values and errors, its
  common shapes encoded by :mod:`bms.bacnet._rpmserve` (bacpypes3's object
  model made the simulated devices, not the client, the limit of every
  benchmark);
* only its own address is itself: bacpypes3 takes any 127.x on its port for
  itself, so a client could not share the BACnet port with devices on
  loopback (:func:`~bms.bacnet._stack.exact_self_address`);
* a complex acknowledgement never exceeds the max-APDU-length-accepted of
  the request it answers, counting the whole APDU: 3 header octets
  unsegmented, 5 per segment.

Build it as any bacpypes3 application (``DeviceApplication.from_object_list``)
inside a running loop.
"""

from __future__ import annotations

from typing import Any

from bacpypes3.apdu import APCISequence, ComplexAckPDU, decode_max_apdu_length_accepted
from bacpypes3.app import Application
from bacpypes3.appservice import ApplicationServiceAccessPoint
from bacpypes3.constructeddata import Array
from bacpypes3.errors import PropertyError, RejectException
from bacpypes3.local.cmd import Commandable
from bacpypes3.primitivedata import ObjectIdentifier, Unsigned

from bms.bacnet._intrinsic import EventServing
from bms.bacnet._local import property_attr
from bms.bacnet._rpmserve import rpm_answer, specs_from, specs_of
from bms.bacnet._stack import exact_self_address
from bms.errors import CodecError

READ_PROPERTY_MULTIPLE = 14
UNSEGMENTED_MASK = 0xFD  # a confirmed request (type 0) in one segment (no SEG, no MOR; SA either way)

WILDCARD_DEVICE = ObjectIdentifier(("device", 4_194_303))
"""The device instance that means "the device receiving this request"."""

UNSEGMENTED_HEADER = 3
"""Octets before the service data of an unsegmented ComplexACK: type, invoke id, service choice."""

SEGMENT_HEADER = 5
"""Octets before the service data of a ComplexACK segment: also sequence number and window size."""


def service_data_budget(limit: int, size: int) -> int:
    """The octets of service data per APDU so that no APDU exceeds ``limit`` (``size``: the whole service data)."""
    if size + UNSEGMENTED_HEADER <= limit:
        return limit - UNSEGMENTED_HEADER
    return limit - SEGMENT_HEADER


class DeviceApplication(EventServing, Application):  # type: ignore[misc]
    """A bacpypes3 Application serving its objects the way ASHRAE 135 asks (see the module)."""

    answers_rpm = True
    """False in a subclass that refuses ReadPropertyMultiple: every request then reaches its handler."""

    @classmethod
    def from_object_list(cls, objects: list[Any], *args: Any, **kwargs: Any) -> Any:
        app = super().from_object_list(objects, *args, **kwargs)
        exact_self_address(app)  # a client on 127.x of our port is not us
        app.asap.__class__ = _DeviceAccessPoint
        app.asap.device = app
        return app

    # ------------------------------------------------------------ wildcard device
    def _own(self, objid: Any) -> Any:
        # bacpypes3 compares the request's identifier with ("device", 4194303), a plain tuple that
        # an ObjectIdentifier never equals, so it answers the wildcard with unknown-object.
        if objid == WILDCARD_DEVICE and self.device_object is not None:
            return self.device_object.objectIdentifier
        return objid

    async def read_value(self, obj: Any, prop: Any, index: int | None) -> Any:
        """The value a read of ``prop`` (at ``index``) of ``obj`` answers; raises the BACnet error otherwise."""
        return await obj.read_property(prop, index)

    async def do_ReadPropertyRequest(self, apdu: Any) -> None:
        apdu.objectIdentifier = self._own(apdu.objectIdentifier)
        await super().do_ReadPropertyRequest(apdu)

    async def do_ReadPropertyMultipleRequest(self, apdu: Any) -> None:
        data = await rpm_answer(self, specs_of(apdu, self._own))  # without bacpypes3's object model
        if data is not None:
            ack = ComplexAckPDU(READ_PROPERTY_MULTIPLE, apdu.apduInvokeID, destination=apdu.pduSource)
            ack.pduUserData = apdu.pduUserData
            ack.pduData = bytearray(data)
            await self.response(ack)
            return
        for spec in apdu.listOfReadAccessSpecs:
            spec.objectIdentifier = self._own(spec.objectIdentifier)
        await super().do_ReadPropertyMultipleRequest(apdu)

    # ------------------------------------------------------------ writes
    async def do_WritePropertyRequest(self, apdu: Any) -> None:
        obj = self.get_object_id(apdu.objectIdentifier)
        if obj is not None:  # an unknown object is bacpypes3's unknown-object
            check_write(obj, apdu.propertyIdentifier, apdu.propertyArrayIndex, apdu.propertyValue)
            if apdu.priority is None and _commandable_value(obj, apdu.propertyIdentifier):
                # no priority means 16 (clause 19.2.1); bacpypes3 refuses a Null sent without one
                apdu.priority = 16
        await super().do_WritePropertyRequest(apdu)

    # ------------------------------------------------------------ segmentation
    async def response(self, apdu: Any) -> None:
        if isinstance(apdu, ComplexAckPDU):
            if isinstance(apdu, APCISequence):
                apdu = apdu.encode()  # the service data, so its length is known; bacpypes3 passes it on as it is
            self._fit_segments(apdu)
        await super().response(apdu)

    def _fit_segments(self, ack: Any) -> None:
        # bacpypes3's ServerSSM cuts the service data into pieces of max-APDU-length-accepted octets
        # and then adds the 3- or 5-octet header, so every APDU it sends can exceed the client's limit.
        # The transaction's limit (the request's, read by ServerSSM.idle) becomes the service data per
        # APDU that keeps each whole APDU within it; ServerSSM then segments (or not) as before.
        for transaction in self.asap.serverTransactions:
            if transaction.invokeID == ack.apduInvokeID and transaction.pdu_address == ack.pduDestination:
                transaction.maxApduLengthAccepted = service_data_budget(
                    transaction.maxApduLengthAccepted, len(ack.pduData or b"")
                )
                return


class _DeviceAccessPoint(ApplicationServiceAccessPoint):  # type: ignore[misc]
    """Answers a ReadPropertyMultiple that needs no segment straight from its bytes (:mod:`._rpmserve`).

    bacpypes3's ServerSSM decodes every request into its object model first
    (~45% of a served device's CPU per property); a request in one segment
    whose answer fits the client's max-APDU needs no state machine. Any other
    request, or an answer that would need segments, goes the usual way.
    """

    device: DeviceApplication

    async def confirmation(self, pdu: Any) -> None:
        data = pdu.pduData
        if (len(data) > 4 and data[0] & UNSEGMENTED_MASK == 0 and data[3] == READ_PROPERTY_MULTIPLE
                and self.dccEnableDisable == "enable" and self.device.answers_rpm):
            try:
                answer = await rpm_answer(self.device, specs_from(bytes(data[4:]), self.device._own))
            except CodecError:
                answer = None
            limit = decode_max_apdu_length_accepted(data[1] & 0x0F)
            if answer is not None and len(answer) + UNSEGMENTED_HEADER <= limit:
                ack = ComplexAckPDU(READ_PROPERTY_MULTIPLE, data[2], destination=pdu.pduSource)
                ack.apduSeg = ack.apduMor = False  # one segment: what ServerSSM would send
                ack.pduUserData = pdu.pduUserData
                ack.pduData = bytearray(answer)
                await self.request(ack)
                return
        await super().confirmation(pdu)


def check_write(obj: Any, prop: Any, index: int | None, value: Any) -> None:
    """Raise the BACnet error a WriteProperty of ``value`` (an encoded Any) to ``obj`` deserves, if any.

    The order is the one conformant devices answer in: the property, its access, its index, the datatype.
    """
    datatype = obj.get_property_type(prop)
    if datatype is None or getattr(obj, property_attr(prop), None) is None:
        raise PropertyError("unknownProperty")
    writable = getattr(obj, "property_writable", None)
    if writable is None or not writable(prop):
        raise PropertyError("writeAccessDenied")
    if index is not None:
        if not issubclass(datatype, Array):
            raise PropertyError("propertyIsNotAnArray")
        datatype = Unsigned if index == 0 else datatype._subtype
    relinquish = _commandable_value(obj, prop)  # Null relinquishes, at the given priority or 16
    try:
        # bacpypes3 raises InvalidTag (a Reject) for a well-formed value of another datatype;
        # ASHRAE 135 answers that with the Error invalid-data-type.
        value.cast_out(datatype, null=relinquish)
    except (RejectException, ValueError, TypeError):
        raise PropertyError("invalidDataType") from None


def _commandable_value(obj: Any, prop: Any) -> bool:
    return isinstance(obj, Commandable) and property_attr(prop) == "presentValue"
