"""The point store as a component: ``points``, live values, status and commands.

It holds every point of the building model (read from the ``nodes``
service on start and when a device is accepted) in a
:class:`~bms.points.LivePoints`, takes the bridges' ``SampleBatch``es and
``DeviceDown``/``DeviceRecovered``, answers the API's queries and commands,
and publishes ``ValueChanged`` batches, ``StatusChanged`` and
``DeviceWrite``. Priority levels persist in ``overrides.db``; a tick every
``housekeeping`` seconds expires timed overrides and flags stale points.
"""

from __future__ import annotations

from typing import Any

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.platform import Platform, component
from bms.errors import BmsError
from bms.messages import (
    DeviceAccepted,
    DeviceDown,
    DeviceRecovered,
    GetNode,
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
from bms.model import Node, is_point
from bms.points import LivePoints, OverrideStore, point_infos
from bms.supervision import RestartPolicy

NAME = "points"
ASK_TIMEOUT = 30.0


class PointStore(BmsActor):
    def __init__(self, name: str, ctx: Any, housekeeping: float = 1.0) -> None:
        super().__init__(name, ctx)
        self.housekeeping = housekeeping
        self.live: LivePoints | None = None

    def setup(self) -> None:
        overrides = OverrideStore(self.ctx.data_dir / "overrides.db")
        self.live = LivePoints(self.clock, overrides, source=self.name)
        nodes = self._ask_nodes(ListNodes())
        infos, problems = point_infos(nodes)
        for problem in problems:
            self.log.error("point skipped", problem=problem)
        self._send(self.live.load(infos))
        if self.live.skipped_overrides:
            self.log.warning("overrides not restored (expired or unknown points)", count=self.live.skipped_overrides)
        for kind in (SampleBatch, DeviceDown, DeviceRecovered, WriteResult, DeviceAccepted):
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

    @handles(WriteResult)
    def on_write_result(self, result: WriteResult) -> None:
        if not result.ok:
            self.log.warning("device write failed", point_id=result.point_id, error=result.error)
        self._send(self._live.write_result(result))

    @handles(DeviceAccepted)
    def on_accepted(self, event: DeviceAccepted) -> None:
        nodes: list[Node] = []
        for point_id in event.point_ids:
            try:
                nodes.append(self._ask_nodes(GetNode(node_id=point_id)))
            except BmsError as err:
                self.log.warning("accepted point not in the model", point_id=point_id, error=str(err))
        equip = self._ask_nodes(ListNodes()) if nodes else []
        infos, problems = point_infos([*[n for n in equip if not is_point(n)], *nodes])
        for problem in problems:
            self.log.error("point skipped", problem=problem)
        self._send(self._live.load(infos))
        self.log.info("points added", device=event.device_id, points=len(infos))

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        self._send(self._live.housekeeping())

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
            accepted, out = self._live.write(command)
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
        accepted, out = self._live.relinquish(command)
        self.log.info("relinquish", point_id=command.point_id, priority=command.priority, user=command.user,
                      effective=accepted.effective)
        self._send(out)
        return accepted


@component(30, NAME)
def points_component(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec(NAME, PointStore, policy=RestartPolicy(), critical=True)]


__all__ = ["NAME", "PointStore", "point_infos", "points_component"]
