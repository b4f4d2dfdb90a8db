"""The schedule engine wired to the real point store, audit log and devices, on a manual clock.

A site of a simulated BACnet VAV (its zone setpoint, analog-value,1) and a
simulated Modbus power meter (its demand limit) on loopback, both driven by
an office schedule in Europe/London; the clock starts on Monday
2026-12-21 at noon.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from actors import ChildSpec, Context, make_context
from actors._base import BmsActor, handles
from actors.components.audit import AuditWriter
from actors.components.bacnet import BacnetBridge
from actors.components.modbus import ModbusBridge
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from actors.components.schedules import ScheduleEngine
from actors.components.sim_bacnet import BacnetSimulatorThread
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.audit import AuditEntry, AuditLog, RecordAudit
from bms.clock import ManualClock
from bms.config import (
    BacnetDevice,
    BacnetNetwork,
    LoadedScenario,
    ModbusDevice,
    ModbusNetwork,
    Scenario,
    SiteSpec,
    VirtualDevice,
    load_profile,
)
from bms.config._schema import Networks
from bms.errors import ConfigError, Conflict, NotFound, Unavailable
from bms.messages import GetPoint, GetPriorityArray, RelinquishPoint, ScheduleWritten, WritePoint
from bms.schedules import Assignment, ScheduleSpec
from bms.schedules._spec import TimeValue
from bms.schedules.messages import (
    AssignSchedule,
    CreateSchedule,
    GetSchedule,
    ListSchedules,
    OverrideSchedule,
    SetProgram,
)
from bms.sim.bacnet import BacnetSimulator, SimDevice
from bms.sim.modbus import ModbusSimulator
from tests.actors.test_site_stores import collect
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import ROOT, wait_until

LONDON = ZoneInfo("Europe/London")
MONDAY_NOON = dt.datetime(2026, 12, 21, 12, 0, tzinfo=LONDON).timestamp()
VAV = profile("vav")
METER, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
ROOM, _ = load_profile(ROOT / "tests/data/profiles/virtual-room.toml")
VAV_ID = 3501
SETPOINT = "analog-value,1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_NOON)


@pytest.fixture(scope="module")
def vav() -> Iterator[BacnetSimulatorThread]:
    running = BacnetSimulatorThread(BacnetSimulator([SimDevice(VAV_ID, host(40), VAV)], free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def meter() -> Iterator[ModbusSimulatorThread]:
    assert METER is not None
    with ModbusSimulatorThread(ModbusSimulator({1: METER}, "127.0.0.1", 0)) as sim:
        yield sim


def devices_site(ctx: Context, vav: BacnetSimulatorThread, meter: ModbusSimulatorThread) -> Any:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=vav.simulator.device_port,
                            poll_interval=1.0, timeout=0.3, retries=0)
    bacnet = BacnetDevice(id="vav1", profile="vav", network="lan", address=host(40), device_instance=VAV_ID)
    modbus = ModbusDevice(id="meter1", profile="power-meter", host="127.0.0.1", port=meter.port, unit_id=1,
                          poll_interval=1.0)
    scenario = Scenario(site=SiteSpec(id="s", name="S", timezone="Europe/London"),
                        networks=Networks(bacnet={"lan": network}), devices=[bacnet, modbus])
    profiles = {"vav": VAV, "power-meter": METER}
    loaded = LoadedScenario(Path("site.toml"), scenario, profiles)  # type: ignore[arg-type]
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("audit", AuditWriter),
                 ChildSpec("bacnet.lan", BacnetBridge, kwargs={"network_name": "lan", "scenario": scenario,
                                                               "profiles": profiles}),
                 ChildSpec("modbus.default", ModbusBridge, kwargs={
                     "network": "default", "spec": ModbusNetwork(), "devices": ((modbus, METER),)})):
        assert ctx.supervisor.start_child(spec) is not None, spec.name
    points = ctx.registry.get("points")
    wait_until(lambda: points.ask(GetPoint(point_id="vav1/zone_sp")).value is not None
               and points.ask(GetPoint(point_id="meter1/demand_limit")).value is not None, what="the first polls")
    assert ctx.supervisor.start_child(ChildSpec("schedules", ScheduleEngine, kwargs={"scenario": scenario}))
    return ctx.registry.get("schedules")


def audit_rows(data: Path) -> list[tuple[str, str, str, str, str]]:
    log = AuditLog(data / "audit.db", readonly=True)
    try:
        return [(r.entry.user, r.entry.origin, r.entry.action, r.entry.target, r.entry.after) for r in log.rows()]
    finally:
        log.close()


def test_schedule_writes_reach_bacnet_and_modbus_devices_and_yield_to_an_operator(
        ctx: Context, clock: ManualClock, vav: BacnetSimulatorThread, meter: ModbusSimulatorThread,
        tmp_path: Path) -> None:
    written = collect(ctx, ScheduleWritten)
    engine = devices_site(ctx, vav, meter)
    points = ctx.registry.get("points")
    engine.ask(CreateSchedule(name="office", template="office", user="olga"))
    engine.ask(AssignSchedule(name="office", user="olga", assignment=Assignment(
        points=["vav1/zone_sp"], values={"occupied": 21.0, "unoccupied": 16.0})))
    engine.ask(AssignSchedule(name="office", user="olga", assignment=Assignment(
        points=["meter1/demand_limit"], priority=14, values={"occupied": 320.0, "unoccupied": 200.0})))
    wait_until(lambda: vav.value(VAV_ID, SETPOINT) == 21.0, what="the VAV's setpoint written by the schedule")
    wait_until(lambda: meter.read_point(1, "demand_limit") == 320.0, what="the meter's limit written")
    levels = points.ask(GetPriorityArray(point_id="vav1/zone_sp"))
    assert (levels.levels[15], levels.users[15]) == (21.0, "schedule:office")

    points.ask(WritePoint(point_id="vav1/zone_sp", value=24.0, priority=8, user="olga"))  # the operator
    wait_until(lambda: vav.value(VAV_ID, SETPOINT) == 24.0, what="the operator's value")
    clock.set(dt.datetime(2026, 12, 21, 18, 0, tzinfo=LONDON).timestamp())  # the office closes
    wait_until(lambda: meter.read_point(1, "demand_limit") == 200.0, what="the evening limit on the meter")
    wait_until(lambda: points.ask(GetPriorityArray(point_id="vav1/zone_sp")).levels[15] == 16.0,
               what="the schedule's level 16 at its evening value")
    assert vav.value(VAV_ID, SETPOINT) == 24.0  # priority 8 still wins
    points.ask(RelinquishPoint(point_id="vav1/zone_sp", priority=8, user="olga"))
    wait_until(lambda: vav.value(VAV_ID, SETPOINT) == 16.0, what="the schedule taking over again")

    assert [(w.point_id, w.value, w.priority) for w in written] == [  # type: ignore[attr-defined]
        ("vav1/zone_sp", 21.0, 16), ("meter1/demand_limit", 320.0, 14),  # each point once as it is assigned
        ("vav1/zone_sp", 16.0, 16), ("meter1/demand_limit", 200.0, 14)]  # and once at 18:00
    rows = [r for r in audit_rows(tmp_path) if r[2] == "scheduleWrite"]
    assert len(rows) == 4 and {r[:2] for r in rows} == {("schedule:office", "schedule:office")}
    assert {(r[3], json.loads(r[4])["value"]) for r in rows} == {
        ("vav1/zone_sp", 21.0), ("meter1/demand_limit", 320.0), ("meter1/demand_limit", 200.0),
        ("vav1/zone_sp", 16.0)}


def room_site(ctx: Context, scenario_schedules: list[ScheduleSpec] | None = None,
              audit: ChildSpec | None = None) -> Any:
    scenario = Scenario(site=SiteSpec(id="s", name="S", timezone="Europe/London"),
                        devices=[VirtualDevice(id="room1", profile="virtual-room")],
                        schedules=scenario_schedules or [])
    loaded = LoadedScenario(Path("site.toml"), scenario, {"virtual-room": ROOM})  # type: ignore[dict-item]
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 audit or ChildSpec("audit", AuditWriter),
                 ChildSpec("schedules", ScheduleEngine, kwargs={"scenario": scenario})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("schedules")


OFFICE = ScheduleSpec(name="office", template="office",
                      assign=[Assignment(points=["room1/sp"], values={"occupied": 21.0, "unoccupied": 16.0})])


def test_a_restart_writes_the_value_now_at_once_and_each_write_has_its_audit_row(tmp_path: Path) -> None:
    clock = ManualClock(MONDAY_NOON)
    first = make_context(clock, tmp_path)
    try:
        written = collect(first, ScheduleWritten)
        engine = room_site(first, [OFFICE])  # the scenario's schedule, put into schedules.db
        wait_until(lambda: written, what="the value now written at start")
        sp = first.registry.get("points").ask(GetPoint(point_id="room1/sp"))
        assert sp.value == 21.0
        [summary] = engine.ask(ListSchedules())
        assert (summary.name, summary.value, summary.points) == ("office", "occupied", 1)
        engine.ask(SetProgram(name="office", days=("mon",), entries=(TimeValue("07:00", "occupied"),
                                                                     TimeValue("13:00", "unoccupied")), user="olga"))
    finally:
        first.supervisor.stop_all(timeout=5)
    clock.set(dt.datetime(2026, 12, 21, 14, 0, tzinfo=LONDON).timestamp())  # down over the 13:00 transition
    second = make_context(clock, tmp_path)
    try:
        written = collect(second, ScheduleWritten)
        room_site(second, [OFFICE])  # the edited schedule from schedules.db, not the scenario's again
        wait_until(lambda: written, what="the value now written at the restart")
        assert [(w.point_id, w.value) for w in written] == [("room1/sp", 16.0)]  # type: ignore[attr-defined]
        assert second.registry.get("points").ask(GetPoint(point_id="room1/sp")).value == 16.0
    finally:
        second.supervisor.stop_all(timeout=5)
    rows = [r for r in audit_rows(tmp_path) if r[2] == "scheduleWrite"]
    assert [(r[3], json.loads(r[4])["value"]) for r in rows] == [("room1/sp", 21.0), ("room1/sp", 21.0),
                                                                  ("room1/sp", 16.0)]


def test_an_override_until_tonight_ends_by_itself(ctx: Context, clock: ManualClock) -> None:
    engine = room_site(ctx, [OFFICE])
    points = ctx.registry.get("points")
    clock.set(dt.datetime(2026, 12, 21, 19, 0, tzinfo=LONDON).timestamp())
    wait_until(lambda: points.ask(GetPoint(point_id="room1/sp")).value == 16.0, what="the evening")
    view = engine.ask(OverrideSchedule(name="office", value="occupied", until="22:00", user="olga"))
    assert view.override.until == dt.datetime(2026, 12, 21, 22, 0, tzinfo=LONDON).timestamp()
    assert (view.summary.value, view.summary.source) == ("occupied", "override")
    wait_until(lambda: points.ask(GetPoint(point_id="room1/sp")).value == 21.0, what="the after-hours request")
    clock.set(dt.datetime(2026, 12, 21, 22, 0, tzinfo=LONDON).timestamp())
    wait_until(lambda: points.ask(GetPoint(point_id="room1/sp")).value == 16.0, what="the override's end")
    assert engine.ask(GetSchedule(name="office")).override is None


def test_operators_mistakes_are_one_clear_line(ctx: Context) -> None:
    engine = room_site(ctx, [OFFICE])
    with pytest.raises(NotFound, match="no schedule named 'ofice'"):
        engine.ask(GetSchedule(name="ofice"))
    with pytest.raises(NotFound, match="unknown point 'room1/nope'"):
        engine.ask(AssignSchedule(name="office", assignment=Assignment(points=["room1/nope"])))
    with pytest.raises(NotFound, match="not writable"):
        engine.ask(AssignSchedule(name="office", assignment=Assignment(points=["room1/temp"])))
    with pytest.raises(ConfigError, match="at most 7 days"):
        engine.ask(OverrideSchedule(name="office", value="occupied", until="30d"))
    with pytest.raises(ConfigError, match="banana"):
        engine.ask(OverrideSchedule(name="office", value="occupied", until="banana"))
    with pytest.raises(Conflict, match="exists already"):
        engine.ask(CreateSchedule(name="office", template="office"))


class Audit(BmsActor):
    """An audit service whose file is full while ``full`` is set: it refuses each row, as the writer does."""

    def __init__(self, name: str, ctx: Context, rows: list[AuditEntry], full: threading.Event) -> None:
        super().__init__(name, ctx)
        self.rows, self.full = rows, full

    @handles(RecordAudit)
    def record(self, message: RecordAudit) -> int:
        if self.full.is_set():
            raise Unavailable("audit.db: database or disk is full")
        self.rows.append(message.entry)
        return len(self.rows)


def test_a_write_is_done_only_once_its_audit_row_is_committed(ctx: Context, clock: ManualClock) -> None:
    rows: list[AuditEntry] = []
    full = threading.Event()
    full.set()
    written = collect(ctx, ScheduleWritten)
    room_site(ctx, [OFFICE], ChildSpec("audit", Audit, kwargs={"rows": rows, "full": full}))
    health = ctx.health.get("schedules")
    assert health is not None and health.state == "Degraded"
    assert "schedule writes wait for their audit rows: audit.db: database or disk is full" in health.reason
    assert written == [] and rows == []
    full.clear()
    clock.advance(60.0)  # tried again with its row
    wait_until(lambda: written, what="the write done with its row")
    assert [(r.user, r.action, r.target, r.outcome) for r in rows] == [
        ("schedule:office", "scheduleWrite", "room1/sp", "done")]
    wait_until(lambda: ctx.health.get("schedules").state == "Healthy", what="healthy again")  # type: ignore[union-attr]


ZONE, _ = load_profile(ROOT / "tests/data/profiles/virtual-zone.toml")


def test_optimal_start_conditions_the_zone_early_so_it_is_at_its_setpoint_at_occupancy(tmp_path: Path) -> None:
    """Tuesday 03:00, the zone at 17 °C, 21 °C wanted at 07:00: with no history yet, the default warm-up
    (0.1 °/min) needs 40 minutes, so the setpoint gets its occupied value at 06:20 -- recomputed as the
    zone cools further overnight (16 °C at 05:00: 50 minutes, 06:10) -- not at 07:00, and not before."""
    clock = ManualClock(dt.datetime(2026, 12, 22, 3, 0, tzinfo=LONDON).timestamp())
    ctx = make_context(clock, tmp_path)
    try:
        written = collect(ctx, ScheduleWritten)
        scenario = Scenario(site=SiteSpec(id="s", name="S", timezone="Europe/London"),
                            devices=[VirtualDevice(id="zone1", profile="virtual-zone")],
                            schedules=[ScheduleSpec(name="office", template="office", optimal_start=True, assign=[
                                Assignment(points=["zone1/sp"], values={"occupied": 21.0, "unoccupied": 16.0})])])
        loaded = LoadedScenario(Path("site.toml"), scenario, {"virtual-zone": ZONE})  # type: ignore[dict-item]
        for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                     ChildSpec("audit", AuditWriter), ChildSpec("schedules", ScheduleEngine,
                                                                kwargs={"scenario": scenario})):
            assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
        engine, points = ctx.registry.get("schedules"), ctx.registry.get("points")
        wait_until(lambda: points.ask(GetPoint(point_id="zone1/sp")).value == 16.0, what="the night setback")
        [zone] = engine.ask(GetSchedule(name="office")).zones
        occupied = dt.datetime(2026, 12, 22, 7, 0, tzinfo=LONDON).timestamp()
        assert (zone.equip, zone.occupied_at, zone.lead_minutes, zone.acting, zone.started) == (
            "zone1", occupied, 40.0, True, False)
        points.ask(WritePoint(point_id="zone1/temp", value=16.0, priority=16, user="sim"))
        clock.set(dt.datetime(2026, 12, 22, 5, 0, tzinfo=LONDON).timestamp())  # a recheck: the zone is colder
        wait_until(lambda: engine.ask(GetSchedule(name="office")).zones[0].lead_minutes == 50.0,
                   what="the start computed again")
        clock.set(dt.datetime(2026, 12, 22, 6, 9, tzinfo=LONDON).timestamp())
        assert points.ask(GetPoint(point_id="zone1/sp")).value == 16.0  # not yet
        clock.set(dt.datetime(2026, 12, 22, 6, 10, tzinfo=LONDON).timestamp())
        wait_until(lambda: points.ask(GetPoint(point_id="zone1/sp")).value == 21.0, what="the optimal start")
        [zone] = engine.ask(GetSchedule(name="office")).zones
        assert zone.started
        # warming up, the zone's computed start moves later; a started zone stays started
        points.ask(WritePoint(point_id="zone1/temp", value=20.0, priority=16, user="sim"))
        clock.set(dt.datetime(2026, 12, 22, 6, 20, tzinfo=LONDON).timestamp())
        clock.set(dt.datetime(2026, 12, 22, 7, 0, tzinfo=LONDON).timestamp())
        wait_until(lambda: engine.ask(ListSchedules())[0].value == "occupied", what="the occupied time")
        assert points.ask(GetPoint(point_id="zone1/sp")).value == 21.0
        sp_writes = [(w.value, w.ts) for w in written if w.point_id == "zone1/sp"]  # type: ignore[attr-defined]
        assert sp_writes == [(16.0, dt.datetime(2026, 12, 22, 3, 0, tzinfo=LONDON).timestamp()),
                             (21.0, dt.datetime(2026, 12, 22, 6, 10, tzinfo=LONDON).timestamp())]
    finally:
        ctx.supervisor.stop_all(timeout=5)
    rows = [json.loads(r[4]) for r in audit_rows(tmp_path) if r[2] == "scheduleWrite"]
    assert [(r["value"], r["source"]) for r in rows] == [(16.0, "default"), (21.0, "optimal start")]
