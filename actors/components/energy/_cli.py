"""``bms energy``: meters, consumption, demand, the bill, baselines and savings of the running site."""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from actors.components.energy._api import rows_csv
from bms.cli import connect, console, data_option, json_option, print_json
from bms.energy._tariff import Bill
from bms.energy.messages import BaselineView, DemandView, EnergySummary, MeterView, ModelView, PeriodRow, SavingsView

csv_option = click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output instead of a table.")
meter_option = click.option("--meter", default="", help="A meter's id (default: the site's main meter).")
days_option = click.option("--days", "day_type", type=click.Choice(["all", "weekdays", "weekends"]), default="all",
                           show_default=True, help="Which days: an office's weekdays and weekends are modelled apart.")


def _when(ts: float | None, timezone: str = "") -> str:
    """A time in the site's zone (the views say which), else this computer's."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, ZoneInfo(timezone) if timezone else None).strftime("%Y-%m-%d %H:%M")


def _num(value: float | None, fmt: str = ",.1f") -> str:
    return "" if value is None else format(value, fmt)


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


@click.group("energy")
def energy_group() -> None:
    """Energy: meters, consumption by period, demand, the bill, weather-normalised baselines and savings."""


@energy_group.command("meters")
@data_option
@json_option
def meters(data: Path | None, as_json: bool) -> None:
    """The meters in their hierarchy: point, last reading, today's kWh, gaps and counter events."""
    views = connect(data).get("/api/energy/meters", list[MeterView])
    if as_json:
        print_json(views)
        return
    table = Table(caption=f"{len(views)} meter(s)", caption_justify="left")
    for column in ("meter", "level", "point", "kind", "last reading", "today kWh", "gaps", "counter events"):
        table.add_column(column, justify="right" if column in ("today kWh", "gaps") else "left")
    for v in views:
        last = f"{_num(v.last_value, ',.2f')} at {_when(v.last_ts, v.timezone)}" if v.last_ts is not None else "none yet"
        table.add_row("  " * v.depth + v.id, v.level + (f" ({v.end_use})" if v.end_use else ""), v.point, v.kind,
                      last, _num(v.today_kwh), Text(str(v.gaps) + (f" (last {v.last_gap})" if v.last_gap else ""),
                                                     "yellow" if v.gaps else ""),
                      Text(v.last_event or "", "yellow" if v.events else ""))
    console.print(table)


def _chart(rows: Sequence[PeriodRow], title: str) -> str:
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.theme("simple")
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    fig.plot_size(max(width, 40), 15)
    labels = [r.label for r in rows]
    fig.draw(fig.bar(labels, [r.kwh for r in rows]))
    fig.title(title)
    text: str = fig.build().string()
    fig.clear()
    return text


@energy_group.command("summary")
@click.option("--under", default="", help="A meter: it and its sub-meters (default: the top meters).")
@click.option("--month", "period", flag_value="month", help="One row per month.")
@click.option("--week", "period", flag_value="week", help="One row per week (Monday first).")
@click.option("--day", "period", flag_value="day", default=True, help="One row per day (the default).")
@click.option("--hour", "period", flag_value="hour", help="One row per hour.")
@click.option("--from", "start", default="", help="Start (2026-11-01, -30d, ISO 8601); default: a span fitting the period.")
@click.option("--to", "end", default="", help="End (default: the end of the present period).")
@click.option("--no-chart", is_flag=True, help="The table only.")
@data_option
@json_option
@csv_option
def summary(under: str, period: str, start: str, end: str, no_chart: bool, data: Path | None, as_json: bool,
            as_csv: bool) -> None:
    """Consumption by period (a table and a bar chart) and each meter's total with its unmetered part."""
    view = connect(data).get("/api/energy/summary", EnergySummary,
                             {"period": period, "under": under, "start": start, "end": end})
    if as_json:
        print_json(view)
        return
    if as_csv:
        click.echo(rows_csv(under or "top", period, list(view.rows)), nl=False)
        return
    table = Table(caption=f"{view.period} rows; * still filling", caption_justify="left")
    for column in ("period", "kWh", "data"):
        table.add_column(column, justify="left" if column == "period" else "right")
    for r in view.rows:
        table.add_row(r.label + ("" if r.final else " *"), _num(r.kwh),
                      f"{100 * r.quarters / r.expected:.0f} %" if r.expected else "")
    console.print(table)
    if not no_chart and any(r.kwh for r in view.rows):
        click.echo(_chart(view.rows, f"kWh per {view.period}" + (f" under {under}" if under else "")))
    meters = Table(title="meters over the span", title_justify="left")
    for column in ("meter", "kWh", "unmetered kWh"):
        meters.add_column(column, justify="left" if column == "meter" else "right")
    for m in view.meters:
        meters.add_row("  " * m.depth + m.id, _num(m.kwh), _num(m.unmetered))
    console.print(meters)


@energy_group.command("demand")
@meter_option
@click.option("--month", default="", help="YYYY-MM (default: this month).")
@data_option
@json_option
def demand(meter: str, month: str, data: Path | None, as_json: bool) -> None:
    """The month's 15-minute peak with its time, load factor, base load, and the projected demand now."""
    v = connect(data).get("/api/energy/demand", DemandView, {"meter": meter, "month": month})
    if as_json:
        print_json(v)
        return
    grid = Table.grid(padding=(0, 2))
    rows = [("meter", v.meter), ("month", v.month),
            ("peak (fixed 15-min)", f"{_num(v.peak_kw)} kW at {_when(v.peak_at, v.timezone)}"),
            ("peak (sliding 15-min)", f"{_num(v.sliding_peak_kw)} kW at {_when(v.sliding_peak_at, v.timezone)}"),
            ("average", f"{_num(v.average_kw)} kW"), ("energy", f"{_num(v.kwh)} kWh"),
            ("load factor", _num(v.load_factor, ".2f")), ("base load (night)", f"{_num(v.base_kw)} kW"),
            ("peak-to-base", _num(v.peak_to_base, ".2f")),
            ("projected now", f"{_num(v.projected_kw)} kW in the window from {_when(v.window_start, v.timezone)}"
             + (f" (published in {v.demand_point})" if v.demand_point else ""))]
    for key, value in rows:
        grid.add_row(key, value)
    console.print(grid)


@energy_group.command("bill")
@click.option("--month", required=True, help="YYYY-MM, e.g. 2026-11.")
@meter_option
@data_option
@json_option
@csv_option
def bill(month: str, meter: str, data: Path | None, as_json: bool, as_csv: bool) -> None:
    """The month's bill on the site's tariff, line by line."""
    b = connect(data).get("/api/energy/bill", Bill, {"month": month, "meter": meter})
    if as_json:
        print_json(b)
        return
    if as_csv:
        _csv(["item", "quantity", "unit", "rate", "amount"],
             [[li.item, f"{li.quantity:.3f}", li.unit, li.rate, f"{li.amount:.2f}"] for li in b.lines]
             + [["total", "", "", "", f"{b.total:.2f}"]])
        return
    caption = (f"{b.kwh:,.1f} kWh, peak {b.peak_kw:,.1f} kW at {_when(b.peak_at, b.timezone)}"
               + ("" if b.complete else f"; incomplete: {b.intervals} intervals with data"))
    table = Table(title=f"{b.meter} {b.month} on {b.tariff}", title_justify="left", caption=caption,
                  caption_justify="left")
    for column in ("item", "quantity", "", "rate", f"amount ({b.currency})"):
        table.add_column(column, justify="left" if column in ("item", "") else "right")
    for li in b.lines:
        table.add_row(li.item, f"{li.quantity:,.2f}", li.unit, f"{li.rate:g}", f"{li.amount:,.2f}")
    table.add_row(Text("total", "bold"), "", "", "", Text(f"{b.total:,.2f}", "bold"))
    console.print(table)


def _model_rows(m: ModelView) -> list[tuple[str, str | Text]]:
    def ok(flag: bool) -> Text:
        return Text("pass", "green") if flag else Text("fail", "red")

    balance = ", ".join(filter(None, [f"heating below {m.heating_balance:g} °C" if m.heating_balance is not None else "",
                                      f"cooling above {m.cooling_balance:g} °C" if m.cooling_balance is not None else ""]))
    return [("model", f"{m.kind}: {m.base_per_day:,.1f} kWh/day + {m.heating_slope:,.2f} kWh/HDD"
             f" + {m.cooling_slope:,.2f} kWh/CDD"), ("balance", balance), ("periods", str(m.n)),
            ("R²", Text.assemble(f"{m.r2:.3f}  ", ok(m.r2_ok), " (>= 0.75)")),
            ("CV(RMSE)", Text.assemble(f"{100 * m.cvrmse:.1f} %  ", ok(m.cvrmse_ok),
                                       f" (<= {100 * m.cvrmse_limit:.0f} %)")),
            ("NMBE", Text.assemble(f"{100 * m.nmbe:+.3f} %  ", ok(m.nmbe_ok), " (within ±0.5 %)"))]


@energy_group.command("baseline")
@click.option("--from", "start", required=True, help="The baseline's first day (2025-11-01, -365d, ISO 8601).")
@click.option("--to", "end", required=True, help="The end of the baseline.")
@meter_option
@click.option("--model", type=click.Choice(["auto", "3PH", "3PC", "5P"]), default="auto", show_default=True)
@click.option("--monthly", is_flag=True, help="Fit monthly consumption (default: daily).")
@days_option
@data_option
@json_option
@csv_option
def baseline(start: str, end: str, meter: str, model: str, monthly: bool, day_type: str, data: Path | None,
             as_json: bool, as_csv: bool) -> None:
    """A change-point model of consumption against outdoor temperature, with Guideline 14's statistics."""
    v = connect(data).get("/api/energy/baseline", BaselineView,
                          {"start": start, "end": end, "meter": meter, "model": model,
                           "granularity": "month" if monthly else "day", "days": day_type})
    if as_json:
        print_json(v)
        return
    if as_csv:
        _csv(["day", "kwh", "oat", "predicted"], [[d.day, f"{d.kwh:.3f}", f"{d.oat:.2f}", f"{d.predicted:.3f}"]
                                                  for d in v.days])
        return
    grid = Table.grid(padding=(0, 2))
    span = f"{_when(v.start, v.timezone)} to {_when(v.end, v.timezone)}"
    grid.add_row("meter", f"{v.meter} against {v.oat}, {span} ({v.granularity}"
                 + (f", {v.day_type}" if v.day_type != "all" else "") + ")")
    for key, value in _model_rows(v.model):
        grid.add_row(key, value)
    console.print(grid)


@energy_group.command("savings")
@click.option("--since", required=True, help="Start of the reporting period (e.g. the retrofit's date).")
@click.option("--until", default="", help="End of the reporting period (default: now).")
@click.option("--baseline-from", "baseline_start", default="", help="Baseline start (default: a year before its end).")
@click.option("--baseline-to", "baseline_end", default="", help="Baseline end (default: --since).")
@meter_option
@click.option("--model", type=click.Choice(["auto", "3PH", "3PC", "5P"]), default="auto", show_default=True)
@click.option("--confidence", type=click.FloatRange(0.5, 0.99), default=0.90, show_default=True)
@days_option
@data_option
@json_option
def savings(since: str, until: str, baseline_start: str, baseline_end: str, meter: str, model: str,
            confidence: float, day_type: str, data: Path | None, as_json: bool) -> None:
    """Avoided energy use since a date (IPMVP Option C) with its Guideline 14 uncertainty."""
    v = connect(data).get("/api/energy/savings", SavingsView,
                          {"since": since, "until": until, "baseline_start": baseline_start,
                           "baseline_end": baseline_end, "meter": meter, "model": model, "confidence": confidence,
                           "days": day_type})
    if as_json:
        print_json(v)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_row("meter", v.meter)
    grid.add_row("baseline", f"{_when(v.baseline_start, v.timezone)} to {_when(v.baseline_end, v.timezone)}")
    for key, value in _model_rows(v.model):
        grid.add_row(key, value)
    grid.add_row("reporting", f"{_when(v.since, v.timezone)} to {_when(v.until, v.timezone)} ({v.periods} days)")
    grid.add_row("baseline prediction", f"{v.baseline_kwh:,.0f} kWh")
    grid.add_row("metered", f"{v.metered_kwh:,.0f} kWh")
    grid.add_row("avoided", Text(f"{v.avoided_kwh:,.0f} kWh ({100 * v.fraction:.1f} %) ± {v.uncertainty_kwh:,.0f} kWh"
                                 f" at {100 * v.confidence:.0f} %", "bold"))
    grid.add_row("Guideline 14", Text("uncertainty under half the savings (68 %)", "green") if v.acceptable
                 else Text("savings not established: the uncertainty is too large", "yellow"))
    console.print(grid)


@energy_group.command("export")
@click.option("--period", type=click.Choice(["15m", "hour", "day", "week", "month"]), default="15m", show_default=True)
@meter_option
@click.option("--from", "start", default="", help="Start (default: a span fitting the period).")
@click.option("--to", "end", default="", help="End (default: the end of the present period).")
@data_option
def export(period: str, meter: str, start: str, end: str, data: Path | None) -> None:
    """A meter's interval data as CSV on standard output."""
    client = connect(data)
    rows = client.get("/api/energy/intervals", list[PeriodRow],
                      {"period": period, "meter": meter, "start": start, "end": end})
    if not meter:  # the rows are the main meter's: name it
        meter = next((m.id for m in client.get("/api/energy/meters", list[MeterView]) if m.parent is None), "")
    click.echo(rows_csv(meter, period, rows), nl=False)
