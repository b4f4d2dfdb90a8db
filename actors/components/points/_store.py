"""The point store as a component: ``points``, live values, status and commands.

It holds every point of the building model (read from the ``nodes``
service on start, and from a ``DeviceAccepted`` event, which carries the
accepted device's nodes) in a
:class:`~bms.points.LivePoints`, takes the bridges' ``SampleBatch``es and
``DeviceDown``/``DeviceRecovered``, answers the API's queries and commands,
and publishes ``ValueChanged`` batches, ``StatusChanged`` and
``DeviceWrite``. Priority levels persist in ``overrides.db``; a tick every
``housekeeping`` seconds expires timed overrides, flags stale points and
compares commanded points with what their devices report (``mismatch``,
``[points] command_settle``). A ``DeviceRecovered`` or ``DeviceAnswering``
re-sends the device's commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.errors import BmsError, StoreError, Unavailable
from bms.messages import (
    DeviceAccepted,
    DeviceAnswering,
    DeviceDown,
    DeviceRecovered,
    DeviceRemoved,
    DeviceWrite,
    GetPoint,
    GetPriorityArray,
    ListNodes,
    ListPoints,
    Message,
    PointState,
    PriorityArrayView,
    RelinquishPoint,
    SampleBatch,
    Tick,
    WriteAccepted,
    WritePoint,
    WriteResult,
)
from bms.points import COMMAND_SETTLE, LivePoints, OverrideStore, PointsSection, point_infos
from bms.supervision import Health, RestartPolicy

NAME = "points"
ASK_TIMEOUT = 30.0


class PointStore(BmsActor):
    def __init__(self, name: str, ctx: Any, housekeeping: float = 1.0, command_settle: float = COMMAND_SETTLE) -> None:
        super().__init__(name, ctx)
        self.housekeeping = housekeeping
        self.command_settle = command_settle
        self.live: LivePoints | None = None
        self.parents: dict[str, str | None] = {}  # node id -> parent id, for the ancestors of accepted points

    def setup(self) -> None:
        overrides = OverrideStore(self.ctx.data_dir / "overrides.db")
        self.live = LivePoints(self.clock, overrides, source=self.name, command_settle=self.command_settle)
        nodes = self._ask_nodes(ListNodes())
        self.parents = {n.id: n.parent for n in nodes}
        infos, problems = point_infos(nodes)
        for problem in problems:
            self.log.error("point skipped", problem=problem)
        self._send(self.live.load(infos))
        if self.live.skipped_overrides:
            self.log.warning("overrides not restored (expired or unknown points)", count=self.live.skipped_overrides)
        for kind in (SampleBatch, DeviceDown, DeviceRecovered, DeviceAnswering, WriteResult, DeviceAccepted,
                     DeviceRemoved):
            self.subscribe(kind)
        self.ctx.ticker.every(self.housekeeping, self.actor_ref, "housekeeping")
        self.log.info("points loaded", points=len(infos), writable=len(self.live.commands))

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.live is not None and self.live.overrides is not None:
            self.live.overrides.close()
        self.live = None

    def _ask_nodes(self, query: Any) -> Any:
        return self.ctx.registry.get("nodes").ask(query, timeout=ASK_TIMEOUT)

    @property
    def _live(self) -> LivePoints:
        assert self.live is not None
        return self.live

    def _send(self, messages: list[Message]) -> None:
        publish = self.ctx.registry.publish
        for msg in messages:
            publish(msg)

    # ------------------------------------------------------------- inputs
    @handles(SampleBatch)
    def on_samples(self, batch: SampleBatch) -> None:
        self._send(self._live.samples(batch.samples, batch.source, batch.readings))

    @handles(DeviceDown)
    def on_down(self, event: DeviceDown) -> None:
        self._send(self._live.device_down(event.device_id, True, event.reason or "device down"))

    @handles(DeviceRecovered)
    def on_recovered(self, event: DeviceRecovered) -> None:
        self._send(self._live.device_down(event.device_id, False, "device answering again"))

    @handles(DeviceAnswering)
    def on_answering(self, event: DeviceAnswering) -> None:
        """The device may have forgotten its commands (first answer, a gap, a restart): send them again."""
        out = self._live.reassert(event.device_id)
        if out:
            self.log.info("commands re-sent", device=event.device_id, why=event.reason, detail=event.detail,
                          points=sum(1 for m in out if isinstance(m, DeviceWrite)))
        self._send(out)

    @handles(WriteResult)
    def on_write_result(self, result: WriteResult) -> None:
        if not result.ok:
            self.log.warning("device write failed", point_id=result.point_id, error=result.error)
        self._send(self._live.write_result(result))

    @handles(DeviceAccepted)
    def on_accepted(self, event: DeviceAccepted) -> None:
        """Take on the accepted device's points: the nodes come with the event (no ask to the model)."""
        self.parents.update((n.id, n.parent) for n in (event.equip, *event.points))
        infos, problems = point_infos(event.points, self.parents)
        for problem in problems:
            self.log.error("point skipped", problem=problem)
        self._send(self._live.load(infos))
        self.log.info("points added", device=event.device_id, points=len(infos))

    @handles(DeviceRemoved)
    def on_removed(self, event: DeviceRemoved) -> None:
        """Drop the removed device's points (history keeps what it recorded)."""
        gone = self._live.remove(event.node_ids)
        for node_id in event.node_ids:
            self.parents.pop(node_id, None)
        self.log.info("points removed", device=event.device_id, points=len(gone))

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        was = self._live.problem
        self._send(self._live.housekeeping())
        for level in self._live.expired:
            self.log.info("override expired", point_id=level.point_id, priority=level.priority, value=level.value,
                          user=level.user)
        self._store_state(was, self._live.problem)

    def _store_state(self, was: str | None, now: str | None) -> None:
        """Degraded while overrides.db cannot be written; Healthy again once it can."""
        if now is not None and now != was:
            self.log.error("overrides cannot be written; commands are refused until they can", reason=now)
            self.ctx.supervisor.report(self.name, Health.DEGRADED, now)
        elif now is None and was is not None:
            self.log.info("overrides writable again")
            self.ctx.supervisor.report(self.name, Health.HEALTHY, "overrides.db writable again")

    # ------------------------------------------------------------- queries
    @handles(ListPoints)
    def list_points(self, query: ListPoints) -> list[PointState]:
        return self._live.states(query)

    @handles(GetPoint)
    def get_point(self, query: GetPoint) -> PointState:
        return self._live.state(query.point_id)

    @handles(GetPriorityArray)
    def get_priority_array(self, query: GetPriorityArray) -> PriorityArrayView:
        return self._live.priority_array(query.point_id)

    # ------------------------------------------------------------ commands
    @handles(WritePoint)
    def write(self, command: WritePoint) -> WriteAccepted:
        try:
            accepted, out = self._durable(lambda: self._live.write(command))
        except BmsError as err:
            self.log.warning("write refused", point_id=command.point_id, value=command.value,
                             priority=command.priority, user=command.user, error=str(err))
            raise
        self.log.info("write", point_id=command.point_id, value=command.value, priority=command.priority,
                      duration=command.duration, user=command.user, effective=accepted.effective)
        self._send(out)
        return accepted

    @handles(RelinquishPoint)
    def relinquish(self, command: RelinquishPoint) -> WriteAccepted:
        accepted, out = self._durable(lambda: self._live.relinquish(command))
        self.log.info("relinquish", point_id=command.point_id, priority=command.priority, user=command.user,
                      effective=accepted.effective)
        self._send(out)
        return accepted


    def _durable(self, command: Callable[[], tuple[WriteAccepted, list[Message]]]) -> tuple[WriteAccepted, list[Message]]:
        """Run a command that persists before it applies; a store that cannot write refuses it (503)."""
        was = self._live.problem
        try:
            done = command()
        except StoreError as err:  # nothing changed: the command is refused, the point store lives on
            self._live.problem = str(err)
            self._store_state(was, self._live.problem)
            raise Unavailable(f"the command is refused, nothing changed: {err}") from err
        self._live.problem = None
        self._store_state(was, None)
        return done


def points_component(platform: Platform) -> list[ChildSpec]:
    section: PointsSection = platform.section(NAME)
    return [ChildSpec(NAME, PointStore, kwargs={"command_settle": section.command_settle},
                      policy=RestartPolicy(), critical=True)]


__all__ = ["NAME", "PointStore", "points_component"]
