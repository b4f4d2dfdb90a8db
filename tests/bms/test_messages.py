"""Every message round-trips through JSON and refuses unknown fields."""

from __future__ import annotations

import msgspec
import pytest

from bms import messages as m
from bms.config import BacnetBinding
from bms.model import Binding, Capabilities, Node

AHU = Node(id="ahu1", type="Equip", name="AHU-1", parent="demo", tags=("ahu", "equip"),
           properties={"protocol": "bacnet", "device_instance": 1001})
SAT = Node(id="ahu1/sat", type="Point", name="Supply Air Temp", parent="ahu1", tags=("point", "temp"),
           capabilities=Capabilities(readable=True),
           binding=Binding.of("bacnet", "ahu1", BacnetBinding(object="analog-input,2", cov=True)))

EXAMPLES: list[m.Message] = [
    m.SampleBatch(source="modbus/meters",
                  samples=(m.Sample("meter1/kw", 12.5, 1.0), m.Sample("meter1/kwh", None, 1.0, "illegal data address"))),
    m.ValueChanged(values=(m.PointValue("ahu1/sat", 13.2, 1.0), m.PointValue("ahu1/fan", True, 1.0, ("overridden",))),
                   source="bacnet"),
    m.StatusChanged("ahu1/sat", ("fault",), 2.0, "unknown-object"),
    m.ScheduleWritten("occ", "ahu1/occ", "occupied", 12, 6.0),
    m.EntityCreated(AHU, 7.0),
    m.EntityUpdated(AHU, 8.0, ("name",)),
    m.EntityDeleted("ahu1", 9.0),
    m.DeviceDiscovered("bacnet", "1001", "127.0.0.2", 10.0, "AHU-1", "bms"),
    m.DeviceDown("modbus", "meter1", 11.0, "timeout"),
    m.DeviceRecovered("modbus", "meter1", 12.0, 30.0),
    m.DeviceAnswering("bacnet", "ahu1", 12.0, reason="restarted", detail="database-revision 4 -> 5"),
    m.DeviceAccepted("bacnet", "bacnet:1001", AHU, (SAT,), 13.0),
    m.DiscoveryScanComplete("bacnet", 3, 1.5, 14.0, "main"),
    m.DiscoveryScanComplete("bacnet", 0, 0.5, 14.0, "main", scan="s1", error="interrupted"),
    m.DiscoveryProgress(scan="s1", network="main", task="device 1001", done=3, total=13, ts=14.0, devices=2, objects=5),
    m.DeviceMonitorCycle("bacnet", "main", 3, 1, 15.0),
    m.ObjectListChanged("1001", 16.0, ("analog-input,9",), ()),
    m.FddFaultRaised("g36-fc1", "ahu1", "duct static below setpoint", 17.0),
    m.FddFaultCleared("g36-fc1", "ahu1", 18.0),
    m.ActorFailed("history", "ValueChanged", "RuntimeError: x", 1, 19.0),
    m.ActorRestarted("history", 1, 0.0, 20.0),
    m.HealthChanged("history", "Degraded", 21.0, "restarting"),
    m.Tick("poll", 22.0, 22.1),
    m.WritePoint("ahu1/oad", 40.0, 8, 3600.0, "ops"),
    m.RelinquishPoint("ahu1/oad", 8, "ops"),
    m.DeviceWrite("ahu1/oad", None, 8, "cli-7"),
    m.WriteResult("ahu1/oad", False, "cli-7", "write-access-denied"),
    m.Ping(),
    m.GetPoint("ahu1/sat"),
    m.GetPriorityArray("ahu1/oad"),
    m.ReadDevicePriority("ahu1/oad"),
    m.DevicePriority("ahu1/oad", (None,) * 7 + (55.0,) + (None,) * 8),
    m.QueryHistory("ahu1/sat", 0.0, 10.0, "15m", 100),
    m.ListPoints("ahu1", ("temp", "sensor"), "ahu1/*"),
    m.GetNode("ahu1"),
    m.ListNodes("demo", ("equip",), "Equip"),
    m.ListDevices("bacnet"),
    m.GetDevice("1001"),
    m.DiscoverDevices("bacnet", 1000, 1999, 2.0, "main"),
    m.AcceptDevice("1001", "ahu", "ahu2"),
    m.IgnoreDevice("1002"),
    m.RemoveDevice("bacnet:1002", "api"),
    m.DeviceRemoved("bacnet", "bacnet:1002", "vav2", ("vav2/temp", "vav2"), 1.0, "api"),
    m.DeviceEvent(device_id="ahu1", object_id="analog-input,2", point_id="ahu1/sat", event_type="out-of-range",
                  from_state="normal", to_state="high-limit", event_state="high-limit", priority=100,
                  notification_class=1, message="sat 31.5 above its high limit 28", ack_required=True,
                  device_time="2026-12-03T13:50:01.25", device_ts=1_796_305_801.25, ts=2.0, source="confirmed"),
    m.AcknowledgeDeviceAlarm(device_id="ahu1", object_id="analog-input,2", to_state="high-limit",
                             device_time="2026-12-03T13:50:01.25", user="ops", request_id="a1"),
    m.DeviceAckResult(device_id="ahu1", object_id="analog-input,2", ok=False, request_id="a1",
                      error="services: invalid-time-stamp"),
]


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda x: type(x).__name__)
def test_json_round_trip(msg: m.Message) -> None:
    data = m.encode(msg)
    assert msgspec.json.decode(data)["type"] == type(msg).__name__
    assert m.decode(data) == msg


def test_every_message_type_has_an_example() -> None:
    assert {type(e) for e in EXAMPLES} == set(m.all_message_types())


def test_unknown_fields_and_wrong_types_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        m.decode(b'{"type":"GetPoint","point_id":"a","bogus":1}')
    with pytest.raises(msgspec.ValidationError, match=r"\$.priority"):
        m.decode(b'{"type":"WritePoint","point_id":"p","value":1,"priority":"high"}')


def test_model_events_carry_their_nodes() -> None:
    created = m.EntityCreated(AHU, 7.0)
    assert (created.node_id, created.node_type, created.parent) == ("ahu1", "Equip", "demo")
    assert m.EntityUpdated(SAT, 8.0).node_id == "ahu1/sat"
    accepted = m.DeviceAccepted("bacnet", "bacnet:1001", AHU, (SAT,), 13.0)
    assert (accepted.equip_id, accepted.point_ids) == ("ahu1", ("ahu1/sat",))
    assert m.decode(m.encode(accepted)).points[0].binding == SAT.binding


def test_messages_are_immutable() -> None:
    msg = m.Ping()
    with pytest.raises(AttributeError):
        msg.x = 1  # type: ignore[attr-defined]
    pv = m.PointValue("p", 1.0, 0.0)
    with pytest.raises(AttributeError):
        pv.value = 2.0  # type: ignore[misc]
