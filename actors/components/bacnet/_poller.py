"""The BACnet bridge's work on its event loop: polls, COV, device monitoring, writes.

:class:`NetworkPoller` lives on the bridge's loop (one thread: no locks) and
owns the network's :class:`~bms.bacnet.BacnetClient`. The actor calls
:meth:`tick` at its ticker's pace with the tick's due time; each device that
is due is polled as a task, ``concurrency`` devices at a time, with
ReadPropertyMultiple sized by the client (present value and status flags
together). A device's next poll counts from the tick's due time, not from
when the tick is handled: a tick handled a little late must not make the
next one miss the device (it would be polled at half its rate). Every
message goes out through ``publish`` (the registry, thread-safe):

* one :class:`SampleBatch` per device poll: its good values as one
  :class:`~bms.messages.Readings` of columns with the objects' status flags
  as a column (in-alarm, fault, overridden, out-of-service), not a Sample
  per point; a point the device refuses is a fault sample with the BACnet
  reason (``unknown-object``), and one whose flags say *fault* a sample
  keeping its value with fault ``fault (status flags)``; COV notifications
  of one loop iteration go out as one batch;
* :class:`DeviceDown` after ``down_after`` consecutive failed polls (then
  exponential backoff, :class:`~bms.devices.DeviceLiveness`),
  :class:`DeviceRecovered` at the first answer (a poll, a successful write
  or priority read, whatever the backoff says);
* :class:`DeviceAnswering` when the device may have forgotten its commands
  (the point store re-sends them): its first answer since the bridge
  started, an answer after failed polls (too few to call it down), or a
  restart seen in its device object (system status, database revision,
  time-of-device-restart: read at first contact and every
  ``restart_check`` seconds; its COV subscriptions are renewed too);
  :class:`DeviceMonitorCycle`
  from :meth:`monitor`; :class:`ObjectListChanged` when the object list differs (checked on
  recovery and every ``object_check_interval`` seconds);
* :class:`WriteResult` for each :class:`DeviceWrite` (:mod:`._writes`);
* device alarms (:mod:`._events`): a :class:`DeviceEvent` per event
  notification; at first contact and after a recovery or restart our
  address joins the device's recipient lists and its active events are
  read (GetEventInformation); :meth:`acknowledge` answers an
  :class:`AcknowledgeDeviceAlarm` with a :class:`DeviceAckResult`;
  :meth:`stop` cancels the writes still waiting (the bridge answers them).

:meth:`device_priority` answers within the caller's time: the client's
deadline for the read is a little shorter, and a silent device is a
:class:`~bms.errors.DeviceTimeout` naming the point.

COV: points bound with ``cov = true`` are subscribed after the device first
answers and again after it comes back; a subscription renews itself before
it expires; a point whose subscription fails is polled instead, and while a
device is down its subscriptions are dropped and its points polled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from actors.components.bacnet._device import PolledDevice, inner_deadline
from actors.components.bacnet._events import DeviceAlarms
from actors.components.bacnet._schedules import DeviceTimetables
from actors.components.bacnet._sockets import enlarge_receive_buffers
from actors.components.bacnet._targets import DeviceTarget, PointTarget
from actors.components.bacnet._writes import PointWriter
from bms.bacnet import STATUS_FAULT, BacnetClient, CovNotification, restart_evidence
from bms.clock import Clock
from bms.config import BacnetNetwork
from bms.devices import DeviceLiveness, liveness_health
from bms.errors import BmsError, DeviceTimeout
from bms.messages import (
    DEVICE_READ_TIMEOUT,
    AcknowledgeDeviceAlarm,
    DeviceAnswering,
    DeviceDown,
    DeviceMonitorCycle,
    DevicePriority,
    DeviceRecovered,
    DeviceWrite,
    ObjectListChanged,
    Sample,
    SampleBatch,
    WriteResult,
)
from bms.supervision import Health


class NetworkPoller:
    """Everything one BACnet bridge does on its loop."""

    def __init__(
        self,
        source: str,
        network_name: str,
        network: BacnetNetwork,
        clock: Clock,
        *,
        publish: Callable[[Any], int],
        report: Callable[[Health, str], None],
        log: Any,
        down_after: int = 3,
        max_backoff: float = 300.0,
        cov_lifetime: int = 300,
        object_check_interval: float = 300.0,
        problems: tuple[str, ...] = (),
    ) -> None:
        self.source = source
        self.network_name = network_name
        self.network = network
        self.clock = clock
        self._publish = publish
        self._report = report
        self.log = log
        self.down_after = down_after
        self.max_backoff = max_backoff
        self.cov_lifetime = cov_lifetime
        self.object_check_interval = object_check_interval
        self.problems = problems  # configured devices that cannot be polled
        self.client: BacnetClient | None = None
        self._devices: dict[str, PolledDevice] = {}
        self._points: dict[str, tuple[PolledDevice, PointTarget]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._gate: asyncio.Semaphore | None = None
        self._writer = PointWriter(source, clock, publish, log)
        self._cov_samples: list[Sample] = []
        self._flush_due = False
        self._health: tuple[Health, str] | None = None
        self.alarms = DeviceAlarms(network, clock, publish=publish, log=log, devices=self._devices.values)
        self.timetables = DeviceTimetables(source, self._devices, self._answered)  # device schedules (._schedules)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._gate = asyncio.Semaphore(max(1, self.network.concurrency))
        client = BacnetClient(self.network, clock=self.clock, name=self.source)
        await client.start()
        self.client = client
        self.alarms.attach(client)
        enlarge_receive_buffers(client, self.log)

    async def stop(self, timeout: float = 2.0) -> None:
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        client, self.client = self.client, None
        if client is None:
            return
        cancels = [asyncio.ensure_future(sub.cancel()) for sub in client.subscriptions]
        if cancels:  # tell the devices, but do not wait long for those that are gone
            await asyncio.wait(cancels, timeout=min(timeout, self.network.timeout))
            for pending in cancels:
                pending.cancel()
        await client.stop(cancel_subscriptions=False)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("bacnet task failed", task=task.get_name(), error=repr(task.exception()))

    # ------------------------------------------------------------ devices
    def add(self, target: DeviceTarget) -> None:
        """Poll ``target`` (replacing a device of the same id)."""
        old = self._devices.pop(target.device_id, None)
        if old is not None:
            self._drop_cov(old)
            for point in old.target.points:
                self._points.pop(point.point_id, None)
        liveness = DeviceLiveness(down_after=self.down_after, backoff=target.interval, max_backoff=self.max_backoff)
        device = PolledDevice(target, liveness, target.instance)
        self._devices[target.device_id] = device
        for point in target.points:
            self._points[point.point_id] = (device, point)

    def remove(self, device_id: str) -> bool:
        """Stop polling ``device_id`` (a removed device): its COV subscriptions are cancelled."""
        old = self._devices.pop(device_id, None)
        if old is None:
            return False
        self._drop_cov(old)
        for point in old.target.points:
            self._points.pop(point.point_id, None)
        self._update_health()
        return True

    @property
    def device_ids(self) -> list[str]:
        return list(self._devices)

    def tick(self, due: float | None = None) -> None:
        """Start the polls (and object-list checks) due at ``due``, the tick's due time (default: now)."""
        if self.client is None:
            return
        now = self.clock.monotonic()
        at = now if due is None else min(due, now)
        for device in self._devices.values():
            if device.busy:
                continue
            if device.due(at, now):
                device.busy = True
                device.next_poll = at + device.target.interval
                self._spawn(self._poll(device), f"poll-{device.target.device_id}")
            if not device.contacted or device.liveness.down or device.instance is None:
                continue
            if now >= device.next_object_check:
                device.next_object_check = now + self.object_check_interval
                self._spawn(self._check_objects(device), f"objects-{device.target.device_id}")
            if now >= device.next_status_check:
                device.next_status_check = now + self.network.restart_check
                self._spawn(self._check_restart(device), f"restart-{device.target.device_id}")

    def monitor(self) -> None:
        """Publish the monitoring summary of this network."""
        online = sum(1 for d in self._devices.values() if d.liveness.up)
        self._publish(DeviceMonitorCycle(protocol="bacnet", network=self.network_name, online=online,
                                         offline=len(self._devices) - online, ts=self.clock.now()))

    # ------------------------------------------------------------ polling
    async def _poll(self, device: PolledDevice) -> None:
        client, gate = self.client, self._gate
        assert client is not None and gate is not None
        target = device.target
        points = device.poll_list()
        try:
            async with gate:
                polled = await client.read_polled(target.address, device.requests(points))
        except BmsError as err:
            self._failed(device, points, str(err))
            return
        except Exception as err:  # the stack misbehaved: count it as a failed poll, keep polling
            self.log.error("poll failed unexpectedly", device=target.device_id, error=repr(err))
            self._failed(device, points, f"poll failed: {err!r}")
            return
        finally:
            device.busy = False
        self._publish(SampleBatch(source=self.source, samples=polled.samples,
                                  readings=(polled.readings,) if polled.readings is not None else ()))
        self._answered(device)

    def _answered(self, device: PolledDevice) -> None:
        """The device answered (a poll, a write, a read): Up at once, whatever its backoff says."""
        now = self.clock.monotonic()
        gap = device.liveness.failures
        down_for = device.liveness.answered(now)
        if down_for is not None:
            self.log.info("device recovered", device=device.target.device_id, down_for=round(down_for, 1))
            self._publish(DeviceRecovered(protocol="bacnet", device_id=device.target.device_id,
                                          ts=self.clock.now(), down_for=down_for))
            self._update_health()
            self._spawn(self._reconnect(device), f"reconnect-{device.target.device_id}")
        elif not device.contacted:
            device.contacted = True
            self._update_health()
            self._answering(device, "first answer", "the bridge started or the device was added")
            self._spawn(self._first_contact(device), f"contact-{device.target.device_id}")
        elif gap:
            self._answering(device, "after a gap", f"{gap} failed poll{'s' if gap > 1 else ''} before this answer")

    def _answering(self, device: PolledDevice, reason: str, detail: str) -> None:
        self._publish(DeviceAnswering(protocol="bacnet", device_id=device.target.device_id, ts=self.clock.now(),
                                      reason=reason, detail=detail))

    def _failed(self, device: PolledDevice, points: list[PointTarget], reason: str) -> None:
        was_down = device.liveness.down
        went_down = device.liveness.failed(self.clock.monotonic(), reason)
        ts = self.clock.now()
        if not was_down:
            self._publish(SampleBatch(source=self.source, samples=tuple(
                Sample(p.point_id, None, ts, fault=reason) for p in points)))
        if went_down:
            self.log.warning("device down", device=device.target.device_id, reason=reason,
                             failures=device.liveness.failures)
            self._drop_cov(device)
            self._publish(DeviceDown(protocol="bacnet", device_id=device.target.device_id, ts=ts, reason=reason))
            self._update_health()

    def _update_health(self) -> None:
        self.report_health()

    def report_health(self) -> None:
        """Healthy, or Degraded naming the devices that are down and those that cannot be polled."""
        state = liveness_health({d.target.device_id: d.liveness for d in self._devices.values()}, self.problems)
        if state != self._health:
            self._health = state
            self._report(*state)

    # ------------------------------------------------------------ contact
    async def _first_contact(self, device: PolledDevice) -> None:
        client = self.client
        assert client is not None
        target = device.target
        if device.instance is None:
            with contextlib.suppress(BmsError):
                found = await client.who_is(address=target.address, timeout=self.network.timeout)
                if found:
                    device.instance = found[0].instance
        if device.instance is not None:
            try:
                info = await client.read_device_info(target.address, device.instance)
                device.objects = info.object_list
            except BmsError as err:
                self.log.warning("cannot read the device object", device=target.device_id, error=str(err))
            await self._check_restart(device)  # the baseline
        device.next_object_check = self.clock.monotonic() + self.object_check_interval
        await self._subscribe_cov(device)
        await self.alarms.contact(client, device)  # device alarms: join its recipient lists, read its events

    async def _reconnect(self, device: PolledDevice) -> None:
        if device.instance is not None:
            await self._check_objects(device)
            device.status = None  # a new baseline: its commands are re-sent for the recovery already
            await self._check_restart(device)
        await self._subscribe_cov(device)
        if self.client is not None and not self._gone(device):
            await self.alarms.contact(self.client, device)

    async def _check_restart(self, device: PolledDevice) -> None:
        """Read the device object's restart properties; a restart since the last reading re-sends its commands."""
        client = self.client
        if client is None or device.instance is None:
            return
        try:
            status = await client.read_device_status(device.target.address, device.instance)
        except BmsError as err:  # a poll that fails says so; this is no reason to call the device down
            self.log.debug("cannot read the device's restart properties", device=device.target.device_id, error=str(err))
            return
        device.next_status_check = self.clock.monotonic() + self.network.restart_check
        before, device.status = device.status, status
        evidence = restart_evidence(before, status)
        if not evidence or self._gone(device):
            return
        self.log.warning("device restarted", device=device.target.device_id, evidence=evidence)
        self._answering(device, "restarted", evidence)
        self._drop_cov(device)  # a restarted device forgot its subscriptions
        await self._reconnect(device)

    async def _check_objects(self, device: PolledDevice) -> None:
        client = self.client
        if client is None or device.instance is None:
            return
        try:
            objects = await client.read_object_list(device.target.address, device.instance)
        except BmsError as err:
            self.log.warning("cannot read the object list", device=device.target.device_id, error=str(err))
            return
        device.next_object_check = self.clock.monotonic() + self.object_check_interval
        before, device.objects = device.objects, objects
        if before is None or set(before) == set(objects):
            return
        added = tuple(o for o in objects if o not in set(before))
        removed = tuple(o for o in before if o not in set(objects))
        self.log.info("object list changed", device=device.target.device_id, added=len(added), removed=len(removed))
        self._publish(ObjectListChanged(device_id=device.target.device_id, ts=self.clock.now(),
                                        added=added, removed=removed))

    # ------------------------------------------------------------ cov
    async def _subscribe_cov(self, device: PolledDevice) -> None:
        client = self.client
        wanted = [objid for objid in device.cov_objects if objid not in device.subs]
        if client is None or not wanted:
            return
        gate = asyncio.Semaphore(16)

        async def one(objid: str) -> None:
            async with gate:
                if self._gone(device):
                    return
                try:
                    sub = await client.subscribe_cov(
                        device.target.address, objid, lifetime=self.cov_lifetime,
                        callback=lambda note: self._on_cov(device, note),
                    )
                except BmsError as err:  # the point stays polled
                    self.log.info("cov refused, polling instead", device=device.target.device_id,
                                  objid=objid, error=str(err))
                    return
                if self._gone(device):
                    self._spawn(sub.cancel(), f"cov-cancel-{sub.process_id}")
                else:
                    device.subs[objid] = sub

        await asyncio.gather(*(one(objid) for objid in wanted))

    def _gone(self, device: PolledDevice) -> bool:
        """The device went down or was replaced: its subscriptions are not wanted."""
        return device.liveness.down or self._devices.get(device.target.device_id) is not device

    def _drop_cov(self, device: PolledDevice) -> None:
        subs, device.subs = list(device.subs.values()), {}
        for sub in subs:
            self._spawn(sub.cancel(), f"cov-cancel-{sub.process_id}")

    def _on_cov(self, device: PolledDevice, note: CovNotification) -> None:
        fault = STATUS_FAULT if "fault" in note.flags else None
        for point_id in device.cov_objects.get(note.objid, ()):
            self._cov_samples.append(Sample(point_id, note.value, note.ts, fault=fault, device_flags=note.flags))
        if self._cov_samples and not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush_cov)

    def _flush_cov(self) -> None:
        self._flush_due = False
        samples, self._cov_samples = self._cov_samples, []
        if samples:
            self._publish(SampleBatch(source=self.source, samples=tuple(samples)))

    # ------------------------------------------------------------ writes
    async def write(self, msg: DeviceWrite) -> None:
        """Write, read back, publish the WriteResult; nothing escapes. A device that took it is Up.

        :meth:`stop` cancels it while it waits; then it publishes nothing (the bridge answers it).
        """
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            result = await self._write(msg)
        except Exception as err:  # a bug must not leave the point store waiting forever
            self.log.error("write failed unexpectedly", point_id=msg.point_id, error=repr(err))
            result = WriteResult(point_id=msg.point_id, ok=False, request_id=msg.request_id,
                                 error=f"write failed: {err!r}")
        finally:
            if task is not None:
                self._tasks.discard(task)
        if result.ok:
            self._answered_for(msg.point_id)
        self._publish(result)

    def _answered_for(self, point_id: str) -> None:
        found = self._points.get(point_id)
        if found is not None:
            self._answered(found[0])

    async def device_priority(self, point_id: str, within: float = DEVICE_READ_TIMEOUT) -> DevicePriority:
        """The priority array the device holds for ``point_id``, read now, within ``within`` seconds.

        A device that does not answer in time is a DeviceTimeout; one that
        refuses (no priority array) is a DevicePriority with its ``error``.
        """
        found = self._points.get(point_id)
        if found is None or self.client is None:
            return DevicePriority(point_id=point_id)
        device, point = found
        address = device.target.address
        try:
            async with asyncio.timeout(within):
                levels = await self.client.read_priority_array(address, point.objid, deadline=inner_deadline(within))
        except (TimeoutError, DeviceTimeout):
            raise DeviceTimeout(f"{point_id}: no answer from {address} within {within:g} s") from None
        except BmsError as err:
            return DevicePriority(point_id=point_id, error=str(err))
        self._answered_for(point_id)
        return DevicePriority(point_id=point_id, levels=tuple(levels))

    async def acknowledge(self, msg: AcknowledgeDeviceAlarm) -> None:
        """AcknowledgeAlarm at the device; publishes the DeviceAckResult (:mod:`._events`)."""
        self._publish(await self.alarms.acknowledge(self.client, msg))

    async def _write(self, msg: DeviceWrite) -> WriteResult:
        found = self._points.get(msg.point_id)
        if found is None or self.client is None:
            return WriteResult(point_id=msg.point_id, ok=False, request_id=msg.request_id,
                               error=f"{msg.point_id}: not a point of {self.source}")
        device, point = found
        return await self._writer.write(self.client, device.target.address, point, msg)

