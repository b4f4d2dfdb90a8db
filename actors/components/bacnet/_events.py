"""Device alarms on the BACnet bridge's loop: event notifications in, active events read, acknowledgements out.

:class:`DeviceAlarms` belongs to the :class:`~actors.components.bacnet._poller.NetworkPoller`
and runs on its loop (no locks):

* every event notification the client receives becomes a
  :class:`~bms.messages.DeviceEvent`, with the device id and the point
  bound to the object when the sender is one of the bridge's devices
  (else ``bacnet:<instance>`` and no point);
* :meth:`DeviceAlarms.contact` -- when the bridge first reaches a device and
  after it recovers (or restarted): our address joins the recipient-list of
  each Notification Class object in its object list (the network's
  ``event_recipient``: ``confirmed``, ``unconfirmed`` or ``off``), then its
  active and unacknowledged events are read with GetEventInformation and
  published as DeviceEvents (``source`` ``event-information``); a device
  without the services is skipped, a failure is logged, never fatal;
* :meth:`DeviceAlarms.acknowledge` -- an
  :class:`~bms.messages.AcknowledgeDeviceAlarm` becomes an AcknowledgeAlarm
  to the device, answered with a :class:`~bms.messages.DeviceAckResult`
  (ok, or the device's reason): every request is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from actors.components.bacnet._device import PolledDevice
from bms.bacnet import BacnetClient, EventNotice, EventSummary, stamp_epoch
from bms.bacnet._codec import is_unsupported
from bms.bacnet._records import BacnetRejected
from bms.clock import Clock
from bms.config import BacnetNetwork
from bms.errors import BmsError
from bms.messages import AcknowledgeDeviceAlarm, DeviceAckResult, DeviceEvent

PROCESS_ID = 1
"""The process identifier in our recipient-list entries."""


class DeviceAlarms:
    """What a BACnet bridge does with its devices' own alarms (see the module)."""

    def __init__(
        self,
        network: BacnetNetwork,
        clock: Clock,
        *,
        publish: Callable[[Any], int],
        log: Any,
        devices: Callable[[], Iterable[PolledDevice]],
    ) -> None:
        self.network = network
        self.clock = clock
        self._publish = publish
        self.log = log
        self._devices = devices
        self._client: BacnetClient | None = None

    def attach(self, client: BacnetClient) -> None:
        """Receive the event notifications of ``client``."""
        self._client = client
        client.on_event(self.notice)

    # ------------------------------------------------------------ lookups
    def _device_at(self, address: str) -> PolledDevice | None:
        client = self._client
        if client is None:
            return None
        for device in self._devices():
            try:
                if client.address(device.target.address)[0] == address:
                    return device
            except BmsError:
                continue
        return None

    def _device(self, msg: AcknowledgeDeviceAlarm) -> tuple[PolledDevice, str] | None:
        for device in self._devices():
            if msg.device_id and device.target.device_id != msg.device_id:
                continue
            if msg.object_id:
                return device, msg.object_id
            for point in device.target.points:
                if point.point_id == msg.point_id:
                    return device, point.objid
        return None

    @staticmethod
    def _point_of(device: PolledDevice | None, objid: str) -> str:
        if device is None:
            return ""
        points = [p for p in device.target.points if p.objid == objid]
        points.sort(key=lambda p: p.prop != "present-value")
        return points[0].point_id if points else ""

    # ------------------------------------------------------------ notifications
    def notice(self, notice: EventNotice) -> None:
        """An event notification received: publish it as a DeviceEvent."""
        device = self._device_at(notice.address)
        device_id = device.target.device_id if device is not None else f"bacnet:{notice.device_instance}"
        self._publish(DeviceEvent(
            device_id=device_id, object_id=notice.objid, point_id=self._point_of(device, notice.objid),
            event_type=notice.event_type, from_state=notice.from_state, to_state=notice.to_state,
            event_state=notice.to_state, priority=notice.priority, notification_class=notice.notification_class,
            message=notice.message, ack_required=notice.ack_required, notify_type=notice.notify_type or "alarm",
            device_time=notice.device_time, device_ts=stamp_epoch(notice.device_time), ts=self.clock.now(),
            source="confirmed" if notice.confirmed else "unconfirmed",
        ))

    # ------------------------------------------------------------ contact
    async def contact(self, client: BacnetClient, device: PolledDevice) -> None:
        """Join the device's recipient lists (unless ``off``), then publish its active events."""
        target = device.target
        mode = self.network.event_recipient
        classes = [o for o in device.objects or () if o.startswith("notification-class,")]
        if mode != "off":
            for objid in classes:
                try:
                    how = await client.join_recipients(target.address, objid, process_id=PROCESS_ID,
                                                       confirmed=mode == "confirmed")
                except BmsError as err:
                    self.log.warning("cannot join the device's recipient list", device=target.device_id,
                                     objid=objid, error=str(err))
                    continue
                self.log.info("joined the device's recipient list", device=target.device_id, objid=objid, how=how)
        try:
            summaries = await client.event_information(target.address)
        except BacnetRejected as err:
            if not is_unsupported(err):
                self.log.warning("cannot read the device's events", device=target.device_id, error=str(err))
            return
        except BmsError as err:
            self.log.info("cannot read the device's events", device=target.device_id, error=str(err))
            return
        for summary in summaries:
            self._publish(self._summary_event(device, summary))

    def _summary_event(self, device: PolledDevice, summary: EventSummary) -> DeviceEvent:
        index = summary.transition()
        stamp = summary.device_times[index]
        return DeviceEvent(
            device_id=device.target.device_id, object_id=summary.objid, point_id=self._point_of(device, summary.objid),
            to_state=summary.event_state, event_state=summary.event_state, priority=summary.priorities[index],
            ack_required=not summary.acked[index], acked=summary.acked[index], notify_type=summary.notify_type or "alarm",
            device_time=stamp, device_ts=stamp_epoch(stamp), ts=self.clock.now(), source="event-information",
        )

    # ------------------------------------------------------------ acknowledgements
    async def acknowledge(self, client: BacnetClient | None, msg: AcknowledgeDeviceAlarm) -> DeviceAckResult:
        """Send the AcknowledgeAlarm; the result says ok or why not. Nothing escapes."""
        found = self._device(msg)

        def result(ok: bool, error: str = "", objid: str = "") -> DeviceAckResult:
            return DeviceAckResult(device_id=msg.device_id or (found[0].target.device_id if found else ""),
                                   object_id=objid or msg.object_id, point_id=msg.point_id, ok=ok,
                                   request_id=msg.request_id, error=error)

        if found is None or client is None:
            what = msg.point_id or f"{msg.device_id} {msg.object_id}"
            return result(False, f"{what}: not a device of this bridge")
        device, objid = found
        try:
            await client.acknowledge_alarm(device.target.address, objid, msg.to_state, msg.device_time,
                                           source=msg.user or "bms", process_id=PROCESS_ID)
        except BmsError as err:
            return result(False, str(err), objid)
        except Exception as err:  # a bug must not leave the engine waiting
            self.log.error("acknowledge-alarm failed unexpectedly", device=device.target.device_id, error=repr(err))
            return result(False, f"acknowledge-alarm failed: {err!r}", objid)
        self.log.info("device alarm acknowledged", device=device.target.device_id, objid=objid,
                      to_state=msg.to_state, user=msg.user)
        return result(True, objid=objid)
