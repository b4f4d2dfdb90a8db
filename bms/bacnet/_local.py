"""Points served as BACnet objects: bacpypes3 local objects built from a PointSpec.

Used by the simulator (and by anything in bms that serves points as a
BACnet device, through :class:`~bms.bacnet.DeviceApplication`).
:func:`local_object` picks the class from the object type and whether the
point is writable:

* a client may write only what ASHRAE 135 lets it write: present-value of a
  commandable object, out-of-service, and present-value and reliability
  while out of service; any other property (object-identifier, object-name,
  object-type, units, event-state, status-flags...) and the present value of
  an input or a read-only value object in service answer
  ``write-access-denied`` and change nothing (bacpypes3's local objects
  apply a write to any property, even object-identifier);
* writable values and every output are commandable (priority array,
  relinquish default from the point) and refuse values outside the point's
  guard with ``value-out-of-range``;
* every object supports COV (binary and multi-state ones with the generic
  criteria; bacpypes3's multi-state objects would need a COV increment they
  do not have).

:class:`ServedDevice` and :class:`ServedNetworkPort` are the device's own
objects under the same rule: a client writes none of their properties.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bacpypes3.basetypes import EngineeringUnits, PriorityValue, PropertyIdentifier
from bacpypes3.errors import PropertyError
from bacpypes3.local.analog import AnalogInputObject, AnalogOutputObject, AnalogValueObject, AnalogValueObjectCmd
from bacpypes3.local.binary import BinaryInputObject, BinaryOutputObject
from bacpypes3.local.cmd import Commandable
from bacpypes3.local.cov import GenericCriteria
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import BinaryValueObject, MultiStateInputObject, MultiStateOutputObject, MultiStateValueObject
from bacpypes3.primitivedata import Null

from bms.bacnet._objects import BINARY_TYPES, MULTISTATE_TYPES, parse_object_id
from bms.bacnet._units import NO_UNITS, unit_code
from bms.config import PointSpec
from bms.errors import ConfigError
from bms.messages import Value


def property_attr(prop: Any) -> str:
    """The attribute name bacpypes3 gives a property (``present-value``, 85 -> ``presentValue``)."""
    try:
        attr = PropertyIdentifier(prop).attr
    except (ValueError, TypeError):
        return str(prop)
    return attr if isinstance(attr, str) else str(prop)


class _WriteAccess:
    """Properties a client may write (``_writable``); any other is write-access-denied.

    Works around bacpypes3 0.0.110, whose local objects acknowledge and apply a
    WriteProperty to any property they have: object-type, units, event-state,
    protocol-revision, vendor-identifier, even object-identifier (the object
    then drops out of the device's own table).
    """

    _writable: ClassVar[frozenset[str]] = frozenset()

    def property_writable(self, prop: Any) -> bool:
        """True when a client may write ``prop`` now."""
        return property_attr(prop) in self._writable

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        if not self.property_writable(attr):
            raise PropertyError("writeAccessDenied")
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class _PointAccess(_WriteAccess):
    """A point's object: out-of-service is writable; present-value when commandable or out of service,
    reliability when out of service (ASHRAE 135, Out_Of_Service); bacpypes3's own local inputs accept
    present-value writes in service."""

    _writable = frozenset({"outOfService"})

    def property_writable(self, prop: Any) -> bool:
        attr = property_attr(prop)
        out_of_service = bool(getattr(self, "outOfService", False))
        if attr == "presentValue":
            return isinstance(self, Commandable) or out_of_service
        if attr == "reliability":
            return out_of_service
        return super().property_writable(prop)


class _Guarded:
    """Refuses present-value writes outside the point's guard (value-out-of-range)."""

    _range: tuple[float | None, float | None] = (None, None)

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        if property_attr(attr) == "presentValue" and value is not None and not isinstance(value, Null):
            low, high = self._range
            if (low is not None and value < low) or (high is not None and value > high):
                raise PropertyError("valueOutOfRange")
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class ServedDevice(_WriteAccess, DeviceObject):  # type: ignore[misc]
    """The Device object of a device bms serves: clients read it and write none of its properties."""


class ServedNetworkPort(_WriteAccess, NetworkPortObject):  # type: ignore[misc]
    """The Network Port object of a device bms serves: read-only to clients."""


class _AnalogInput(_PointAccess, AnalogInputObject):  # type: ignore[misc]
    pass


class _BinaryInput(_PointAccess, BinaryInputObject):  # type: ignore[misc]
    pass


class _MultiStateInput(_PointAccess, LocalObject, MultiStateInputObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


class _AnalogOutput(_PointAccess, _Guarded, AnalogOutputObject):  # type: ignore[misc]
    pass


class _AnalogValue(_PointAccess, AnalogValueObject):  # type: ignore[misc]
    pass


class _AnalogValueCmd(_PointAccess, _Guarded, AnalogValueObjectCmd):  # type: ignore[misc]
    pass


class _BinaryOutput(_PointAccess, BinaryOutputObject):  # type: ignore[misc]
    pass


class _BinaryValue(_PointAccess, LocalObject, BinaryValueObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


class _BinaryValueCmd(_PointAccess, Commandable, LocalObject, BinaryValueObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


class _MultiStateOutput(_PointAccess, _Guarded, Commandable, LocalObject, MultiStateOutputObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


class _MultiStateValue(_PointAccess, LocalObject, MultiStateValueObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


class _MultiStateValueCmd(_PointAccess, _Guarded, Commandable, LocalObject, MultiStateValueObject):  # type: ignore[misc]
    _cov_criteria = GenericCriteria


# (object type, writable) -> class
_CLASSES: dict[tuple[str, bool], type] = {
    ("analog-input", False): _AnalogInput, ("analog-input", True): _AnalogInput,
    ("analog-output", False): _AnalogOutput, ("analog-output", True): _AnalogOutput,
    ("analog-value", False): _AnalogValue, ("analog-value", True): _AnalogValueCmd,
    ("binary-input", False): _BinaryInput, ("binary-input", True): _BinaryInput,
    ("binary-output", False): _BinaryOutput, ("binary-output", True): _BinaryOutput,
    ("binary-value", False): _BinaryValue, ("binary-value", True): _BinaryValueCmd,
    ("multi-state-input", False): _MultiStateInput, ("multi-state-input", True): _MultiStateInput,
    ("multi-state-output", False): _MultiStateOutput, ("multi-state-output", True): _MultiStateOutput,
    ("multi-state-value", False): _MultiStateValue, ("multi-state-value", True): _MultiStateValueCmd,
}


def to_local(object_type: str, value: Value) -> Any:
    """A plain value as what a local object's present value takes."""
    if object_type in BINARY_TYPES:
        return "active" if value else "inactive"
    if object_type in MULTISTATE_TYPES:
        return max(1, int(value or 1))
    return float(value or 0.0)


def from_local(object_type: str, raw: Any) -> Value:
    """A local object's present value (or priority level) as a plain value."""
    if raw is None or isinstance(raw, Null):
        return None
    if object_type in BINARY_TYPES:
        return int(raw) == 1
    if object_type in MULTISTATE_TYPES:
        return int(raw)
    return float(raw)


def _initial(point: PointSpec, object_type: str) -> Value:
    if point.relinquish_default is not None:
        return point.relinquish_default
    if object_type in BINARY_TYPES:
        return False
    return 1 if object_type in MULTISTATE_TYPES else 0.0


def local_object(
    point: PointSpec, name: str | None = None, previous: Any | None = None, *,
    cls: type | None = None, extra: dict[str, Any] | None = None,
) -> Any:
    """The bacpypes3 local object serving ``point`` (named ``name``, default the point's name).

    ``previous`` is the object this one replaces (a device coming back):
    its priority array and relinquish default, or its present value, carry over.
    ``cls`` replaces the class the object type picks (an input with intrinsic
    reporting), ``extra`` adds properties.
    """
    binding = point.bacnet
    if binding is None:
        raise ConfigError(f"point {point.key!r} has no bacnet binding")
    oid = parse_object_id(binding.object)
    cls = cls or _CLASSES.get((oid.type, point.writable))
    if cls is None:
        raise ConfigError(f"point {point.key!r}: cannot serve a {oid.type} as a BACnet object")
    value = to_local(oid.type, _initial(point, oid.type))
    kwargs: dict[str, Any] = {
        "objectIdentifier": (oid.type, oid.instance), "objectName": name or point.name, "description": point.key,
        "presentValue": value, "outOfService": False, "reliability": "no-fault-detected",
        "statusFlags": [0, 0, 0, 0], "eventState": "normal",
    }
    if oid.type.startswith("analog"):
        code = unit_code(point.unit) if point.unit else None
        kwargs["units"] = EngineeringUnits(code if code is not None else NO_UNITS)
        kwargs["covIncrement"] = float(point.cov_increment)
    if oid.type in ("binary-input", "binary-output"):
        kwargs["polarity"] = "normal"
    if oid.type in MULTISTATE_TYPES:
        kwargs["numberOfStates"] = max(1, len(point.states))
        if point.states:
            kwargs["stateText"] = list(point.states)
    kwargs.update(extra or {})
    commandable = issubclass(cls, Commandable)
    if commandable:
        kwargs["relinquishDefault"] = value
        if previous is not None:  # a device coming back keeps its commands
            kwargs["relinquishDefault"] = previous.relinquishDefault
            kwargs["priorityArray"] = [PriorityValue(null=()) if pv.null is not None else pv for pv in previous.priorityArray]
    obj = cls(**kwargs)
    if point.guard is not None and issubclass(cls, _Guarded):
        obj._range = (point.guard.min, point.guard.max)
        if oid.type.startswith("analog"):
            if point.guard.min is not None:
                obj.minPresValue = float(point.guard.min)
            if point.guard.max is not None:
                obj.maxPresValue = float(point.guard.max)
    if commandable:
        obj.recalculating()
    elif previous is not None:
        obj.presentValue = previous.presentValue
    return obj




def is_commandable_object(obj: Any) -> bool:
    """True for a local object with a priority array."""
    return isinstance(obj, Commandable)


def priority_levels(obj: Any, object_type: str) -> list[Value]:
    """The 16 priority levels of a commandable local object (None = empty)."""
    return [None if pv.null is not None else from_local(object_type, getattr(pv, pv._choice)) for pv in obj.priorityArray]
