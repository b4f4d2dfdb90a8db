"""The energy engine wired to the model and point stores over a year of generated history, on a manual
clock; its API and its commands driven through the router (Litestar's test client) and click's runner.

A scenario built in code: ``site``, a virtual device with a main kWh counter, an HVAC sub-meter (kW) and
the outdoor-air temperature; ``energy``, the virtual device whose ``projected_kw`` the engine feeds.
Real SQLite files (history.db, energy.db, overrides.db), no sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.testing import TestClient

from actors import ChildSpec, Context
from actors.components.energy import EnergyEngine
from actors.components.energy import _cli as energy_cli
from actors.components.energy._api import energy_router
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.api._errors import http_error_handler, on_bms_error
from bms.clock import ManualClock
from bms.config import LoadedScenario, PointSpec, Profile, Scenario, SiteSpec, VirtualBinding, VirtualDevice
from bms.energy import EnergySection, MeterSpec, Tariff
from bms.energy.messages import GetBaseline, GetBill, GetDemand, GetSavings, GetSummary, ListMeters
from bms.errors import BmsError, NotFound
from bms.messages import GetPoint, PointValue, StatusChanged, ValueChanged
from bms.sim._history import Building, generate, write_history
from bms.supervision import Health
from tests.conftest import wait_until

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, tzinfo=LONDON).timestamp()
V = VirtualBinding()
SITE = Profile(name="site", protocol="virtual", points=[
    PointSpec(key="kwh", name="Main energy", unit="kWh", tags=["elec", "energy", "sensor", "totalizer"], virtual=V),
    PointSpec(key="hvac_kw", name="HVAC power", unit="kW", tags=["elec", "power", "sensor"], virtual=V),
    PointSpec(key="oat", name="Outside air", unit="°C", tags=["outside", "air", "temp", "sensor"], virtual=V),
    PointSpec(key="shed", name="Shed load", kind="bool", writable=True, virtual=VirtualBinding(initial=False)),
])
FIGURES = Profile(name="energy", protocol="virtual", points=[
    PointSpec(key="projected_kw", name="Projected demand", unit="kW", tags=["elec", "demand", "forecast"], virtual=V)])
TARIFF = Tariff(name="flat", energy_rate=0.20, demand_rate=4.0, fixed_monthly=30.0)
SETTINGS = EnergySection(meters=(MeterSpec(id="main", point="site/kwh"),
                                 MeterSpec(id="hvac", point="site/hvac_kw", parent="main", level="end_use",
                                           end_use="hvac")),
                         demand_meter="hvac", tariff=TARIFF)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def site() -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="s", name="Site", timezone="Europe/London"),
                        devices=[VirtualDevice(id="site", profile="site"), VirtualDevice(id="energy", profile="energy")])
    return LoadedScenario(Path("site.toml"), scenario, {"site": SITE, "energy": FIGURES})


def history(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ts, oat, kw, kwh = generate(365, NOW, LONDON, Building(noise=0.01), seed=4)
    write_history(data / "history.db", {"site/oat": (ts, oat), "site/kwh": (ts, kwh), "site/hvac_kw": (ts, kw * 0.4)})
    return ts, kw, kwh


def start(ctx: Context, settings: EnergySection = SETTINGS) -> Any:
    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore)):
        assert ctx.supervisor.start_child(spec) is not None
    ctx.supervisor.start_child(ChildSpec("energy", EnergyEngine, kwargs={"settings": settings,
                                                                          "scenario": loaded.scenario}))
    return ctx.registry.find("energy")


def test_a_year_of_history_is_backfilled_and_summarised_by_month_with_the_unmetered_part(
        ctx: Context, tmp_path: Path) -> None:
    ts, kw, kwh = history(tmp_path)
    energy = start(ctx)
    health = ctx.health.get("energy")
    assert health is not None and health.state == Health.HEALTHY
    assert "2 meter(s)" in health.reason and "energy/projected_kw" in health.reason
    meters = energy.ask(ListMeters())
    assert [(m.id, m.kind, m.parent, m.depth) for m in meters] == [("main", "energy", None, 0),
                                                                    ("hvac", "power", "main", 1)]
    view = energy.ask(GetSummary(period="month", start="2025-12-01", end="2026-12-01"))
    assert len(view.rows) == 12 and all(r.final for r in view.rows)
    assert [r.label for r in view.rows][:2] == ["2025-12", "2026-01"]
    metered = float(kwh[-1] - kwh[0])
    assert sum(r.kwh for r in view.rows) == pytest.approx(metered, rel=0.002)
    assert view.rows[1].kwh > view.rows[5].kwh  # January (heating) above June
    under_site = energy.ask(GetSummary(period="month", node="s", start="2025-12-01", end="2026-12-01"))
    assert under_site.rows == view.rows  # the site node holds both meters: its top meter is main
    with pytest.raises(NotFound, match="no meter is 'nowhere' or under it"):
        energy.ask(GetSummary(node="nowhere"))
    totals = {m.id: m for m in view.meters}
    assert totals["hvac"].kwh == pytest.approx(0.4 * metered, rel=0.01)
    assert totals["main"].unmetered == pytest.approx(totals["main"].kwh - totals["hvac"].kwh)


def test_bill_baseline_and_savings_of_the_backfilled_year(ctx: Context, tmp_path: Path) -> None:
    history(tmp_path)
    energy = start(ctx)
    bill = energy.ask(GetBill(month="2026-11"))
    assert bill.meter == "main" and bill.complete and bill.intervals == 30 * 96
    assert [line.item for line in bill.lines] == ["energy", "demand (15-min peak)", "standing charge (month)"]
    assert bill.total == pytest.approx(bill.kwh * 0.20 + bill.peak_kw * 4.0 + 30.0)
    base = energy.ask(GetBaseline(start="2025-12-01", end="2026-12-01"))
    model = base.model
    assert model.heating_balance is not None and abs(model.heating_balance - 15.0) <= 2.0
    assert model.cvrmse_ok and model.nmbe_ok and model.n >= 360  # R2: weekends scatter an office's days
    assert len(base.days) == model.n
    monthly = energy.ask(GetBaseline(start="2025-12-01", end="2026-12-01", granularity="month")).model
    assert monthly.n == 12 and monthly.r2_ok and monthly.cvrmse_ok
    weekdays = energy.ask(GetBaseline(start="2025-12-01", end="2026-12-01", day_type="weekdays")).model
    assert 255 <= weekdays.n <= 262 and weekdays.r2_ok and weekdays.cvrmse_ok and weekdays.nmbe_ok
    saved = energy.ask(GetSavings(since="2026-09-01", baseline_start="2025-12-01", baseline_end="2026-09-01"))
    assert saved.avoided_kwh == pytest.approx(saved.baseline_kwh - saved.metered_kwh)
    assert saved.uncertainty_kwh > 0 and saved.periods == 91
    demand = energy.ask(GetDemand(meter="hvac", month="2026-11"))  # sliding windows from the recorded kW
    assert demand.peak_at is not None and demand.sliding_peak_at is not None
    assert demand.sliding_peak_kw == pytest.approx(demand.peak_kw, rel=0.05)
    assert demand.base_kw is not None and demand.load_factor is not None and 0 < demand.load_factor < 1
    with pytest.raises(NotFound, match="no meter 'nope'"):
        energy.ask(GetDemand(meter="nope"))


def test_live_readings_are_integrated_and_the_projected_demand_is_published_as_a_point(
        ctx: Context, tmp_path: Path, clock: ManualClock) -> None:
    energy = start(ctx)  # no history: nothing to backfill
    values = tuple(PointValue("site/hvac_kw", 120.0, NOW + t) for t in (0.0, 60.0, 120.0, 180.0))
    ctx.registry.publish(ValueChanged(values=values, source="test"))
    clock.advance(300.0)
    points = ctx.registry.get("points")
    wait_until(lambda: points.ask(GetPoint(point_id="energy/projected_kw")).value is not None,
               what="the projected demand published")
    demand = energy.ask(GetDemand())
    assert demand.meter == "hvac" and demand.window_start == NOW
    assert demand.projected_kw == pytest.approx(120.0)  # 120 kW held through the window
    assert points.ask(GetPoint(point_id="energy/projected_kw")).value == pytest.approx(120.0)
    assert demand.kwh == pytest.approx(120.0 * 300 / 3600)  # the value holds: 120 kW to now
    for minute in range(1, 26):  # no change for 25 minutes: a steady load, not a gap
        clock.advance(60.0)
        wait_until(lambda m=minute: energy.ask(GetDemand()).kwh >= 120.0 * (300 + 60 * m) / 3600 - 1e-6,  # type: ignore[misc]
                   what=f"the held value integrated, minute {minute}")
    assert energy.ask(ListMeters())[1].gaps == 0
    ctx.registry.publish(StatusChanged(point_id="site/hvac_kw", flags=("down",), ts=NOW + 1800))
    energy.ask(ListMeters())  # behind the status in the inbox
    clock.advance(1200.0)  # down: its value does not hold
    ctx.registry.publish(ValueChanged(values=(PointValue("site/hvac_kw", 60.0, NOW + 3000),), source="test"))
    wait_until(lambda: energy.ask(ListMeters())[1].gaps == 1, what="the time it was down reported as a gap")


def test_a_meter_on_an_unknown_point_is_left_out_and_health_names_it(ctx: Context) -> None:
    start(ctx, EnergySection(meters=(MeterSpec(id="main", point="site/kwh"), MeterSpec(id="x", point="site/nope"))))
    health = ctx.health.get("energy")
    assert health is not None and health.state == Health.DEGRADED
    assert "meters.x: point 'site/nope' is not a point of this site" in health.reason


def test_a_bad_tariff_keeps_the_engine_down_with_one_line(ctx: Context) -> None:
    start(ctx, EnergySection(tariff=Tariff(on_peak_demand_rate=2.0, on_peak_period="peak")))

    def down() -> bool:
        h = ctx.health.get("energy")
        return h is not None and h.state == Health.DOWN

    wait_until(down, what="energy Down")
    health = ctx.health.get("energy")
    assert health is not None
    assert "[energy] tariff.on_peak_period: 'peak' names no period" in health.reason


# ------------------------------------------------------------ the API and the commands


class RouterClient:
    """The CLI's client over the energy router in Litestar's test client, asking the running engine."""

    def __init__(self, ref: Any) -> None:
        class Gateway:
            async def ask(self, message: Any) -> Any:
                return await asyncio.to_thread(ref.ask, message)

        self.http = TestClient(Litestar([energy_router(Gateway())], exception_handlers={
            BmsError: on_bms_error, HTTPException: http_error_handler(1 << 20)}))

    def get(self, path: str, kind: Any, params: Any = None) -> Any:
        response = self.http.get(path, params={k: v for k, v in (params or {}).items() if v is not None})
        assert response.status_code == 200, response.text
        return msgspec.json.decode(response.content, type=kind)


@pytest.fixture
def cli_client(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RouterClient]:
    history(tmp_path)
    client = RouterClient(start(ctx))
    monkeypatch.setattr(energy_cli, "connect", lambda data: client)
    monkeypatch.setattr(energy_cli.console, "width", 200)
    with client.http:
        yield client


def run(*args: str) -> Any:
    result = CliRunner().invoke(energy_cli.energy_group, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_commands_over_the_api(cli_client: RouterClient) -> None:
    assert "hvac" in run("meters") and "end_use (hvac)" in run("meters")
    out = run("summary", "--month", "--from", "2025-12-01", "--to", "2026-12-01")
    assert "2026-06" in out and "unmetered kWh" in out and "kWh per month" in out  # the table and the chart
    assert "█" in out  # the chart has its bars
    lines = run("summary", "--day", "--from", "2026-11-01", "--to", "2026-11-08", "--csv").splitlines()
    assert lines[0] == "meter,period,label,start,end,kwh,quarters,expected,final" and len(lines) == 8
    assert "standing charge (month)" in run("bill", "--month", "2026-11")
    bill_csv = run("bill", "--month", "2026-11", "--csv").splitlines()
    assert bill_csv[0] == "item,quantity,unit,rate,amount" and bill_csv[-1].startswith("total,")
    assert "CV(RMSE)" in run("baseline", "--from", "2025-12-01", "--to", "2026-12-01")
    assert "(day, weekdays)" in run("baseline", "--from", "2025-12-01", "--to", "2026-12-01", "--days", "weekdays")
    saved = json.loads(run("savings", "--since", "2026-09-01", "--baseline-from", "2025-12-01", "--json"))
    assert saved["periods"] == 91 and saved["timezone"] == "Europe/London"
    assert "reporting            2026-09-01 00:00 to 2026-12-01 00:00" in run(
        "savings", "--since", "2026-09-01", "--baseline-from", "2025-12-01")  # in the site's zone
    assert "peak (fixed 15-min)" in run("demand", "--month", "2026-11")
    export = run("export", "--period", "hour", "--meter", "hvac", "--from", "2026-11-01", "--to", "2026-11-02")
    assert len(export.splitlines()) == 25 and export.splitlines()[1].startswith("hvac,hour,2026-11-01 00:00,")
    assert run("export", "--period", "day", "--from", "2026-11-01", "--to", "2026-11-02").splitlines()[1].startswith(
        "main,day,2026-11-01,")
    csv_text = cli_client.http.get("/api/energy/intervals.csv", params={"period": "day", "start": "2026-11-01",
                                                                        "end": "2026-11-03"}).text
    assert csv_text.splitlines()[0].startswith("meter,period,label") and csv_text.splitlines()[2].startswith(
        "main,day,2026-11-02,")


def test_bad_input_gets_one_clear_answer(cli_client: RouterClient) -> None:
    http = cli_client.http
    for path, params, words in [("/api/energy/bill", {"month": "November"}, "'November' is not a month"),
                                ("/api/energy/baseline", {"start": "soon", "end": "now"}, "from:"),
                                ("/api/energy/summary", {"period": "year"}, "period"),
                                ("/api/energy/demand", {"meter": "nope"}, "no meter 'nope'")]:
        response = http.get(path, params=params)
        assert response.status_code in (400, 404), (path, response.text)
        assert words in response.text, (path, response.text)


def test_a_first_start_generates_history_in_the_background_when_asked(ctx: Context, clock: ManualClock,
                                                                      tmp_path: Path) -> None:
    from actors.components.history import HistoryStore
    from bms.history import HistoryReader

    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("history", HistoryStore)):
        assert ctx.supervisor.start_child(spec) is not None
    settings = EnergySection(meters=(MeterSpec(id="hvac", point="site/hvac_kw"),), generate_days=20, tick=1.0)
    ctx.supervisor.start_child(ChildSpec("energy", EnergyEngine, kwargs={"settings": settings,
                                                                          "scenario": loaded.scenario}))
    energy = ctx.registry.get("energy")
    health = ctx.health.get("energy")
    assert health is not None and "writing 20 days of generated history in the background" in health.reason
    days = energy.ask(GetSummary(period="day", start="-20d"))
    assert sum(1 for r in days.rows if r.kwh > 0) >= 19  # the intervals at once, from the same arrays

    def written() -> bool:
        clock.advance(1.0)
        h = ctx.health.get("energy")
        return h is not None and "generated" not in h.reason

    wait_until(written, timeout=30, what="history written and health back to normal")
    with HistoryReader(tmp_path / "history.db") as reader:
        counts = {p.point_id: p.count for p in reader.points()}
    assert counts["site/oat"] >= 20 * 96 and counts["site/hvac_kw"] >= 20 * 96


def test_an_unreadable_history_leaves_the_engine_running_degraded_with_the_reason(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "history.db").write_bytes(b"this is not a database" * 100)
    energy = start(ctx)
    health = ctx.health.get("energy")
    assert health is not None and health.state == Health.DEGRADED
    assert "no backfill from history" in health.reason
    assert [m.id for m in energy.ask(ListMeters())] == ["main", "hvac"]


SHED = """
on_change = ["energy/projected_kw"]
reads = ["energy/projected_kw"]
writes = ["site/shed"]
lua = '''
write("site/shed", read("energy/projected_kw") > 100)
'''
"""


def test_a_logic_program_reads_the_projected_demand_and_sheds_load(ctx: Context, clock: ManualClock,
                                                                   tmp_path: Path) -> None:
    from actors.components.logic import LogicEngine
    from bms.logic import LogicSection

    programs = tmp_path / "logic"
    programs.mkdir()
    (programs / "shed.toml").write_text(SHED, encoding="utf-8")
    start(ctx)
    assert ctx.supervisor.start_child(ChildSpec("logic", LogicEngine, kwargs={
        "settings": LogicSection(), "directory": programs})) is not None
    points = ctx.registry.get("points")
    assert points.ask(GetPoint(point_id="site/shed")).value is False
    ctx.registry.publish(ValueChanged(values=(PointValue("site/hvac_kw", 80.0, NOW),
                                              PointValue("site/hvac_kw", 130.0, NOW + 60.0)), source="test"))
    clock.advance(60.0)  # the window is heading for 130 kW: over the 100 kW limit
    wait_until(lambda: points.ask(GetPoint(point_id="site/shed")).value is True, what="the program sheds load")
