"""The contract between the schedule engine and the BACnet bridge for device-resident schedules.

A controller keeps running its own BACnet Schedule and Calendar objects
when the supervisor is down; bms reads them into its own model, shows them
like its own schedules, and writes edits back:

* :class:`ReadDeviceSchedules` -- asked of the bridge that polls
  ``device_id``; answered with a list of :class:`DeviceSchedule` (its
  Schedule and Calendar objects, each converted to a
  :class:`~bms.schedules.Schedule` or a calendar's date rules);
* :class:`WriteDeviceSchedule` -- asked of the same bridge: write the
  schedule's weekly-schedule, exception-schedule and schedule-default (and,
  for a calendar, its date-list) to the object, read it back, answer with
  the :class:`DeviceSchedule` as the device now holds it.

Both are answered within the caller's time or refused with one line
naming the device and the object (``DeviceRejected`` with the BACnet
reason, ``DeviceTimeout``).
"""

from __future__ import annotations

import msgspec

from bms.messages import Message
from bms.schedules._spec import DateRule, Schedule, Value


class DeviceSchedule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One Schedule or Calendar object of a device, as bms shows it."""

    device_id: str
    object_id: str  # "schedule,1" | "calendar,1"
    name: str
    schedule: Schedule | None = None  # a Schedule object: weekly, exceptions, default
    dates: list[DateRule] = []  # a Calendar object: its date-list
    references: list[str] = []  # list-of-object-property-references: point ids where bound, else "objid/prop"
    effective_from: str | None = None  # effective-period (YYYY-MM-DD), None: open
    effective_to: str | None = None
    priority_for_writing: int = 16
    present_value: Value = None


class ReadDeviceSchedules(Message, frozen=True, kw_only=True):
    device_id: str


class WriteDeviceSchedule(Message, frozen=True, kw_only=True):
    device_id: str
    object_id: str
    schedule: Schedule | None = None  # for a Schedule object
    dates: list[DateRule] | None = None  # for a Calendar object
    user: str = ""
