"""Points and commands: the live point database and the one command model.

* :class:`PointTable` -- current value, timestamp and status flags of every
  point; COV filtering, faults and staleness of bridge samples.
* :class:`PriorityArray` -- 16 BACnet levels (1 highest) and a relinquish default.
* :class:`CommandTable` -- the priority arrays of all writable points, with
  timed overrides that expire by themselves on the injected clock.
* :class:`OverrideStore` -- overrides.db: the levels, kept across restarts.
* :class:`WriteGuard` -- min, max, writes per minute and interlocks
  (:class:`Interlock`, a small safe boolean language over point values).

* :class:`LivePoints` -- all of the above for a running site: each input
  (bridge batch, command, tick, device down) returns the messages to publish.
* :class:`CommandCheck`, :func:`agrees` -- command feedback: after a
  settling time, does the device report what it was commanded
  (``[points] command_settle``, :class:`PointsSection`)?
* :func:`point_infos` -- the :class:`PointInfo` of each point node (its
  spec, device, protocol, ancestors and tags), what LivePoints and history
  load; equal parts are shared (one spec per profile point, one tag set,
  one ancestor set per device).

Plain classes, no threads: the point store actor owns them.
"""

from bms.points._commands import Commanded, CommandTable, Override
from bms.points._guard import RATE_WINDOW, WriteGuard
from bms.points._infos import point_infos
from bms.points._interlock import Interlock, MissingValue
from bms.points._live import LivePoints, PointInfo
from bms.points._mismatch import COMMAND_SETTLE, CommandCheck, PointsSection, agrees, resolution
from bms.points._overrides import OverrideStore
from bms.points._priority import LEVELS, PriorityArray, check_priority
from bms.points._table import PointTable

__all__ = [
    "COMMAND_SETTLE",
    "LEVELS",
    "RATE_WINDOW",
    "CommandCheck",
    "CommandTable",
    "Commanded",
    "Interlock",
    "LivePoints",
    "MissingValue",
    "Override",
    "OverrideStore",
    "PointInfo",
    "PointTable",
    "PointsSection",
    "PriorityArray",
    "WriteGuard",
    "agrees",
    "check_priority",
    "point_infos",
    "resolution",
]
