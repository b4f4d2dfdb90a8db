"""Tariffs: tier boundaries, time of use across the clock changes and holidays, the bill of a known month."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bms.energy import Tariff, Tier, TouPeriod, bill, classify

LONDON = ZoneInfo("Europe/London")


def quarters(start: datetime, end: datetime) -> list[float]:
    a, b = start.timestamp(), end.timestamp()
    return [a + 900.0 * i for i in range(int((b - a) // 900))]


TIERS = Tariff(name="blocks", tiers=(Tier(up_to=100, rate=0.3), Tier(up_to=500, rate=0.2), Tier(rate=0.1)))


@pytest.mark.parametrize(("total", "lines", "amount"), [
    (100.0, [100.0], 30.0),  # exactly the first block
    (500.0, [100.0, 400.0], 110.0),
    (700.0, [100.0, 400.0, 200.0], 130.0),
    (50.0, [50.0], 15.0),
])
def test_tier_boundaries(total: float, lines: list[float], amount: float) -> None:
    b = bill("m", "2026-11", [0.0], [total], TIERS, LONDON, days=30)
    assert [line.quantity for line in b.lines] == pytest.approx(lines)
    assert b.total == pytest.approx(amount)


PEAK = TouPeriod(name="peak", rate=0.30, days=("all",), start=7, end=19)


@pytest.mark.parametrize(("day", "peak_quarters", "other_quarters"), [
    ((2026, 3, 29), 48, 44),  # the clocks go forward: a 23-hour day, still 12 peak hours
    ((2026, 10, 25), 48, 52),  # back: 25 hours
    ((2026, 6, 1), 48, 48),
])
def test_time_of_use_across_dst_days(day: tuple[int, int, int], peak_quarters: int, other_quarters: int) -> None:
    start = datetime(*day, tzinfo=LONDON)
    end = datetime(start.year, start.month, start.day + 1, tzinfo=LONDON)
    names = classify(quarters(start, end), Tariff(periods=(PEAK,)), LONDON)
    assert names.count("peak") == peak_quarters
    assert names.count("") == other_quarters


def test_periods_by_season_weekday_and_holiday() -> None:
    winter = TouPeriod(name="winter-peak", rate=0.4, days=("weekdays",), start=16, end=19, months=(11, 12, 1, 2))
    night = TouPeriod(name="night", rate=0.1, days=("all",), start=23, end=6, holidays=True)
    t = Tariff(periods=(winter, night), holidays_country="GB", holidays_subdiv="ENG")
    at = [datetime(2026, 12, 24, 17, tzinfo=LONDON), datetime(2026, 12, 25, 17, tzinfo=LONDON),  # Thu; Christmas Fri
          datetime(2026, 12, 26, 17, tzinfo=LONDON), datetime(2026, 7, 1, 17, tzinfo=LONDON),  # Sat; summer
          datetime(2026, 12, 25, 2, tzinfo=LONDON), datetime(2026, 12, 24, 23, 30, tzinfo=LONDON)]
    assert classify([a.timestamp() for a in at], t, LONDON) == ["winter-peak", "", "", "", "night", "night"]


def test_the_bill_of_a_known_month_line_by_line() -> None:
    tariff = Tariff(name="business", periods=(TouPeriod(name="peak", rate=0.30, start=7, end=19),),
                    energy_rate=0.15, demand_rate=5.0, on_peak_demand_rate=3.0, on_peak_period="peak",
                    fixed_monthly=20.0, fixed_daily=0.5)
    assert tariff.problems() == []
    starts = quarters(datetime(2026, 11, 1, tzinfo=LONDON), datetime(2026, 12, 1, tzinfo=LONDON))
    kwh = [0.5] * len(starts)  # 2 kW all month
    kwh[starts.index(datetime(2026, 11, 10, 10, tzinfo=LONDON).timestamp())] = 10.0  # 40 kW, Tuesday on peak
    kwh[starts.index(datetime(2026, 11, 14, 3, tzinfo=LONDON).timestamp())] = 15.0  # 60 kW, Saturday night
    b = bill("main", "2026-11", starts, kwh, tariff, LONDON, days=30, expected=2880)
    # 21 weekdays x 48 peak quarters x 0.5 kWh + the 9.5 kWh extra of the on-peak spike
    rows = [(line.item, line.quantity, line.rate, line.amount) for line in b.lines]
    assert rows == [
        ("energy peak", pytest.approx(513.5), 0.30, pytest.approx(154.05)),
        ("energy other hours", pytest.approx(950.5), 0.15, pytest.approx(142.575)),
        ("demand (15-min peak)", pytest.approx(60.0), 5.0, pytest.approx(300.0)),
        ("demand in peak", pytest.approx(40.0), 3.0, pytest.approx(120.0)),
        ("standing charge (month)", 1, 20.0, 20.0),
        ("standing charge (days)", 30, 0.5, 15.0),
    ]
    assert b.kwh == pytest.approx(1464.0)
    assert b.total == pytest.approx(751.625)
    assert b.peak_at == datetime(2026, 11, 14, 3, tzinfo=LONDON).timestamp()
    assert b.complete


def test_tariff_problems_name_the_culprit() -> None:
    bad = Tariff(periods=(TouPeriod(name="p", rate=1, days=("funday",)),), tiers=(Tier(rate=1), Tier(up_to=5, rate=1)),
                 on_peak_demand_rate=1.0, on_peak_period="nope", holidays_country="XX")
    problems = bad.problems()
    assert any("funday" in p for p in problems)
    assert any("not both" in p for p in problems)
    assert any("only the last block" in p for p in problems)
    assert any("'nope' names no period" in p for p in problems)
    assert any("holidays_country: 'XX'" in p for p in problems)


def test_bms_config_check_names_the_energy_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bms.cli._app import cli

    root = Path(__file__).resolve().parents[3]
    settings = tmp_path / "bms.toml"
    settings.write_text(f"""
[daemon]
scenario = "{root / 'conf/scenarios/demo.toml'}"

[energy]
night = [6, 2]

[energy.tariff]
on_peak_demand_rate = 2.0
on_peak_period = "peak"

[[energy.tariff.periods]]
name = "day"
rate = 0.3
days = ["someday"]
""")
    result = CliRunner().invoke(cli, ["config", "check", str(settings)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{settings}: energy.night: [6, 2] is not [from, to) hours within 0..24" in lines
    assert f"{settings}: energy.tariff.on_peak_period: 'peak' names no period" in lines
    assert any(line.startswith(f"{settings}: energy.tariff.periods[0].days: 'someday' is not one of") for line in lines)
