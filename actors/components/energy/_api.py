"""The energy engine's slice of the API: ``/api/energy`` (reading needs ``read``)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal, Protocol

from litestar import Response, Router, get
from litestar.params import Parameter

from bms.api.routing import Services, error_responses, requires
from bms.energy._tariff import Bill
from bms.energy.messages import (
    BaselineView,
    DemandView,
    EnergySummary,
    GetBaseline,
    GetBill,
    GetDemand,
    GetIntervals,
    GetSavings,
    GetSummary,
    ListMeters,
    MeterView,
    PeriodRow,
    SavingsView,
)

SERVICE = "energy"
TIME = "as people type times, in the site's zone: 2026-11-01, -30d, yesterday, ISO 8601, epoch seconds"
PeriodQuery = Annotated[Literal["15m", "hour", "day", "week", "month"],
                        Parameter(description="the length of each row")]
MeterQuery = Annotated[str, Parameter(description="a meter's id (empty: the site's main meter)")]
NodeQuery = Annotated[str, Parameter(description="a meter's id: it and its sub-meters (empty: the top meters)")]
StartQuery = Annotated[str, Parameter(description=f"start of the span ({TIME}); empty: a default span")]
EndQuery = Annotated[str, Parameter(description=f"end of the span ({TIME}); empty: the end of the present period")]
MonthQuery = Annotated[str, Parameter(description="YYYY-MM (empty: this month)")]
DaysQuery = Annotated[Literal["all", "weekdays", "weekends"],
                      Parameter(description="which days: all, or weekdays and weekends modelled apart")]
ModelQuery = Annotated[Literal["auto", "3PH", "3PC", "5P"], Parameter(description="the change-point model")]


class EnergyGateway(Protocol):
    async def ask(self, message: Any) -> Any: ...


class ServicesEnergy:
    """The gateway over the running site: the ``energy`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def ask(self, message: Any) -> Any:
        return await self.services.ask(SERVICE, message)


def rows_csv(meter: str, period: str, rows: list[PeriodRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["meter", "period", "label", "start", "end", "kwh", "quarters", "expected", "final"])
    for r in rows:
        writer.writerow([meter, period, r.label, f"{r.start:.0f}", f"{r.end:.0f}", f"{r.kwh:.4f}", r.quarters,
                         r.expected, "true" if r.final else "false"])
    return out.getvalue()


async def main_meter(gateway: EnergyGateway) -> str:
    """The meter a query without one is about: the first top-level meter."""
    meters: list[MeterView] = list(await gateway.ask(ListMeters()))
    return next((m.id for m in meters if m.parent is None), "")


def energy_router(gateway: EnergyGateway) -> Router:
    @get("/meters", operation_id="energyMeters", **requires("read"), responses=error_responses(503))
    async def meters() -> list[MeterView]:
        """The meters with their place in the hierarchy, last reading, today's kWh, gaps and counter events."""
        return list(await gateway.ask(ListMeters()))

    @get("/summary", operation_id="energySummary", **requires("read"), responses=error_responses(400, 404, 503))
    async def summary(period: PeriodQuery = "day", under: NodeQuery = "", start: StartQuery = "",
                      end: EndQuery = "") -> EnergySummary:
        """Consumption by period (final or still filling) and each meter's total with its unmetered part."""
        view: EnergySummary = await gateway.ask(GetSummary(period=period, node=under, start=start, end=end))
        return view

    @get("/demand", operation_id="energyDemand", **requires("read"), responses=error_responses(400, 404, 503))
    async def demand(meter: MeterQuery = "", month: MonthQuery = "") -> DemandView:
        """The month's 15-minute peak (fixed and sliding) with its time, load factor, base load, peak-to-base,
        and the projected demand of the window under way."""
        view: DemandView = await gateway.ask(GetDemand(meter=meter, month=month))
        return view

    @get("/bill", operation_id="energyBill", **requires("read"), responses=error_responses(400, 404, 503))
    async def bill(month: Annotated[str, Parameter(description="YYYY-MM")], meter: MeterQuery = "") -> Bill:
        """The month's bill on the site's tariff, line by line."""
        view: Bill = await gateway.ask(GetBill(month=month, meter=meter))
        return view

    @get("/baseline", operation_id="energyBaseline", **requires("read"), responses=error_responses(400, 404, 503))
    async def baseline(start: Annotated[str, Parameter(description=f"the baseline's first day ({TIME})")],
                       end: Annotated[str, Parameter(description=f"the end of the baseline ({TIME})")],
                       meter: MeterQuery = "", model: ModelQuery = "auto",
                       granularity: Annotated[Literal["day", "month"], Parameter(
                           description="fit daily or monthly consumption")] = "day",
                       days: DaysQuery = "all") -> BaselineView:
        """A change-point model of consumption against outdoor temperature with Guideline 14's statistics."""
        view: BaselineView = await gateway.ask(GetBaseline(start=start, end=end, meter=meter, model=model,
                                                           granularity=granularity, day_type=days))
        return view

    @get("/savings", operation_id="energySavings", **requires("read"), responses=error_responses(400, 404, 503))
    async def savings(since: Annotated[str, Parameter(description=f"start of the reporting period ({TIME})")],
                      until: Annotated[str, Parameter(description=f"its end ({TIME}); empty: now")] = "",
                      baseline_start: Annotated[str, Parameter(
                          description="start of the baseline (empty: a year before its end)")] = "",
                      baseline_end: Annotated[str, Parameter(
                          description="end of the baseline (empty: the start of the reporting period)")] = "",
                      meter: MeterQuery = "", model: ModelQuery = "auto",
                      confidence: Annotated[float, Parameter(ge=0.5, lt=1.0,
                                                             description="confidence of the uncertainty")] = 0.90,
                      days: DaysQuery = "all") -> SavingsView:
        """Avoided energy use (IPMVP Option C): the baseline model's prediction minus the metered use, with
        its Guideline 14 uncertainty."""
        view: SavingsView = await gateway.ask(GetSavings(since=since, until=until, baseline_start=baseline_start,
                                                         baseline_end=baseline_end, meter=meter, model=model,
                                                         confidence=confidence, day_type=days))
        return view

    @get("/intervals", operation_id="energyIntervals", **requires("read"), responses=error_responses(400, 404, 503))
    async def intervals(period: PeriodQuery = "15m", meter: MeterQuery = "", start: StartQuery = "",
                        end: EndQuery = "") -> list[PeriodRow]:
        """A meter's consumption by period (15-minute interval data and longer)."""
        return list(await gateway.ask(GetIntervals(period=period, meter=meter, start=start, end=end)))

    @get("/intervals.csv", operation_id="energyIntervalsCsv", **requires("read"), media_type="text/csv",
         responses=error_responses(400, 404, 503))
    async def intervals_csv(period: PeriodQuery = "15m", meter: MeterQuery = "", start: StartQuery = "",
                            end: EndQuery = "") -> Response[str]:
        """The same as CSV: meter, period, label, start, end, kwh, quarters, expected, final."""
        rows = list(await gateway.ask(GetIntervals(period=period, meter=meter, start=start, end=end)))
        return Response(rows_csv(meter or await main_meter(gateway), period, rows), media_type="text/csv")

    return Router("/api/energy", route_handlers=[meters, summary, demand, bill, baseline, savings, intervals,
                                                 intervals_csv], tags=["energy"])
