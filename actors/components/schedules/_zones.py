"""Optimal start per zone, for the engine: which points are a zone's, its learned rates, its computed start.

A zone is the equipment of a point an occupancy schedule commands that
also has a zone air temperature sensor (tags ``zone air temp sensor``) and
a zone air temperature setpoint (``zone air temp sp``); the outdoor air
temperature is the site's first point tagged ``outside air temp sensor``.
Rates are learned from the last :data:`LEARN_DAYS` of history.db and kept
for :data:`RELEARN` seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bms.schedules import OCCUPIED, PointRef, ScheduleBook, ZoneRates, learn, optimal_start, point_value, transitions
from bms.schedules.messages import ZoneStart

ZONE_TEMP = frozenset({"zone", "air", "temp", "sensor"})
ZONE_SP = frozenset({"zone", "air", "temp", "sp"})
OUTDOOR = frozenset({"outside", "air", "temp", "sensor"})
LEARN_DAYS = 7
RELEARN = 6 * 3600.0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ZoneStarts:
    def __init__(self, history: Path) -> None:
        self.history = history
        self.learned: dict[str, tuple[float, ZoneRates, str]] = {}  # equip -> (when, rates, what)

    def _series(self, point_id: str | None, start: float, end: float) -> list[tuple[float, float]]:
        if point_id is None or not self.history.exists():
            return []
        from bms.history import HistoryReader

        reader = HistoryReader(self.history)
        try:
            return [(s.ts, float(s.value)) for s in reader.raw(point_id, start, end)
                    if isinstance(s.value, (int, float)) and not isinstance(s.value, bool)]
        finally:
            reader.close()

    def rates(self, equip: str, temp: str, sp: str, outdoor: str | None, now: float) -> ZoneRates:
        found = self.learned.get(equip)
        if found is not None and now - found[0] < RELEARN:
            return found[1]
        start = now - LEARN_DAYS * 86_400
        rates = learn(self._series(temp, start, now), self._series(sp, start, now),
                      self._series(outdoor, start, now))
        self.learned[equip] = (now, rates, rates.describe())
        return rates

    def zones(self, book: ScheduleBook, name: str, points: Mapping[str, PointRef], now: float,
              value_of: Callable[[str], Any]) -> list[ZoneStart]:
        """Each zone of an occupancy schedule: next occupied time, computed start, what it is based on."""
        schedule = book.schedules[name]
        targets = {t.point_id: t for t in book.targets.get(name, [])}
        equips = sorted({points[p].ancestors[0] for p in targets if p in points and points[p].ancestors})
        outdoor = next((r.point_id for r in points.values() if r.tags >= OUTDOOR), None)
        occupied_at = self.next_occupied(book, name, now)
        of_equip: dict[str, list[PointRef]] = {e: [] for e in equips}
        for r in points.values():
            if r.ancestors and r.ancestors[0] in of_equip:
                of_equip[r.ancestors[0]].append(r)
        out: list[ZoneStart] = []
        for equip in equips:
            mine = of_equip[equip]
            temp = next((r.point_id for r in mine if r.tags >= ZONE_TEMP), None)
            sp = next((r.point_id for r in mine if r.tags >= ZONE_SP), None)
            if temp is None or sp is None:
                continue
            zone_t, out_t = _number(value_of(temp)), _number(value_of(outdoor)) if outdoor else None
            target = targets.get(sp)
            setpoint = _number(point_value(OCCUPIED, target.values, target.kind)) if target else None
            if setpoint is None:
                setpoint = _number(value_of(sp))
            rates = self.rates(equip, temp, sp, outdoor, now)
            problem = ""
            start: float | None = None
            if occupied_at is None:
                problem = "no occupied time in the next 8 days"
            elif zone_t is None or setpoint is None or out_t is None:
                problem = "no value yet for " + ", ".join(
                    p for p, v in ((temp, zone_t), (sp, setpoint), (outdoor or "outdoor air temp", out_t)) if v is None)
            else:
                start = optimal_start(occupied_at, zone_t, setpoint, out_t, rates)
            out.append(ZoneStart(equip=equip, zone_temp_point=temp, setpoint_point=sp, outdoor_point=outdoor,
                                 occupied_at=occupied_at, start_at=start,
                                 lead_minutes=None if start is None or occupied_at is None
                                 else round((occupied_at - start) / 60.0, 1),
                                 zone_temp=zone_t, setpoint=setpoint, outdoor=out_t,
                                 rates=self.learned[equip][2], problem=problem))
        del schedule
        return out

    @staticmethod
    def next_occupied(book: ScheduleBook, name: str, now: float) -> float | None:
        """The next time the schedule turns occupied (from unoccupied), within 8 days."""
        schedule = book.schedules[name]
        was = book.value(name, now)[0] == OCCUPIED
        for t in transitions(schedule, now, now + 8 * 86_400, book.zone):
            if t.value == OCCUPIED and not was:
                return t.at
            was = t.value == OCCUPIED
        return None


def today(zone: dt.tzinfo, now: float) -> dt.date:
    return dt.datetime.fromtimestamp(now, zone).date()
