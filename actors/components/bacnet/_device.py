"""One device a BACnet bridge polls, as its poller keeps it on the loop: target, liveness, schedule, COV.

:class:`PolledDevice` is plain state (the poller's loop is its only
thread). A device's next poll counts from the due time of the tick that
polled it (:meth:`PolledDevice.due`), so a tick handled a little late
never makes the next tick miss it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from actors.components.bacnet._targets import DeviceTarget, PointTarget
from bms.bacnet import CovSubscription, DeviceStatus
from bms.devices import DeviceLiveness

DUE_SLACK = 0.001
"""Seconds by which a tick may fall short of a device's next poll and still poll it: the ticker's due
times and a device's are sums of different floats (``(t + 1) + 1`` is not always ``t + 2``)."""


def inner_deadline(within: float) -> float:
    """The client's deadline for a caller that waits ``within`` seconds: shorter, so the client speaks first."""
    return within - min(0.5, within * 0.2)


@dataclass
class PolledDevice:
    """A device of the network and what the poller knows of it."""

    target: DeviceTarget
    liveness: DeviceLiveness
    instance: int | None
    busy: bool = False
    contacted: bool = False
    subs: dict[str, CovSubscription] = field(default_factory=dict)  # objid -> subscription
    objects: tuple[str, ...] | None = None
    next_object_check: float = 0.0
    status: DeviceStatus | None = None  # what the device object last said of its restarts
    next_status_check: float = 0.0
    next_poll: float = -math.inf  # its poll interval; the liveness adds the backoff of a down device
    _requests: tuple[list[PointTarget], tuple[tuple[str, str, str], ...]] | None = None

    def due(self, at: float, now: float) -> bool:
        """A poll is due at ``at`` (the tick's due time) unless a backoff runs ``now``."""
        return at + DUE_SLACK >= self.next_poll and self.liveness.may_poll(now)

    @functools.cached_property
    def cov_objects(self) -> dict[str, list[str]]:
        """objid -> point ids of the present values to follow by COV (the target never changes)."""
        found: dict[str, list[str]] = {}
        for point in self.target.points:
            if point.cov and point.prop == "present-value":
                found.setdefault(point.objid, []).append(point.point_id)
        return found

    def requests(self, points: list[PointTarget]) -> tuple[tuple[str, str, str], ...]:
        """(point id, object, property) of ``points`` for the client, the same tuple while the poll list is."""
        kept = self._requests
        if kept is not None and kept[0] == points:
            return kept[1]
        requests = tuple((p.point_id, p.objid, p.prop) for p in points)
        self._requests = (points, requests)
        return requests

    def poll_list(self) -> list[PointTarget]:
        """The points to poll: all but those a working subscription follows (at least one, as a heartbeat).

        A subscription whose renewal fails (``last_error``) no longer counts: its point is polled again.
        """
        followed = {objid for objid, sub in self.subs.items() if sub.active and sub.last_error is None}
        points = [p for p in self.target.points if not (p.cov and p.prop == "present-value" and p.objid in followed)]
        return points or list(self.target.points[:1])
