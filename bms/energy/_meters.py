"""Which points are meters: from ``[energy] meters``, or found by their tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bms.energy._settings import EnergySection
from bms.points import PointInfo


@dataclass(frozen=True, slots=True)
class Meter:
    id: str
    name: str
    point: str
    kind: str  # power | energy
    parent: str | None
    level: str
    end_use: str = ""
    rollover: float | None = None
    ancestors: frozenset[str] = frozenset()  # the model's nodes above its point (equipment, spaces, site)


def _kind(info: PointInfo) -> str:
    tags = info.tags
    unit = info.spec.unit.lower()
    if "energy" in tags or unit in ("kwh", "mwh", "wh"):
        return "energy"
    if "power" in tags or unit in ("kw", "w", "mw"):
        return "power"
    return ""


def resolve_meters(section: EnergySection, infos: Iterable[PointInfo]) -> tuple[list[Meter], list[str]]:
    """The site's meters and the problems of the configured ones (an unknown point, no kind)."""
    by_id = {i.point_id: i for i in infos}
    problems: list[str] = []
    meters: list[Meter] = []
    if section.meters:
        for spec in section.meters:
            info = by_id.get(spec.point)
            if info is None:
                problems.append(f"meters.{spec.id}: point {spec.point!r} is not a point of this site")
                continue
            kind = spec.kind or _kind(info)
            if not kind:
                problems.append(f"meters.{spec.id}: {spec.point} is neither a power (kW) nor an energy (kWh) point;"
                                " say kind = \"power\" or \"energy\"")
                continue
            meters.append(Meter(spec.id, spec.name or info.spec.name, spec.point, kind, spec.parent, spec.level,
                                spec.end_use, spec.rollover, info.ancestors))
        known = {m.id for m in meters}
        problems += [f"meters.{m.id}: parent {m.parent!r} is not a meter" for m in meters
                     if m.parent is not None and m.parent not in known]
        return meters, problems
    devices: dict[str, list[PointInfo]] = {}
    for info in by_id.values():
        if ("elec" in info.tags or _kind(info)) and not info.virtual:  # a computed point is no meter
            devices.setdefault(info.device, []).append(info)
    for device, points in sorted(devices.items()):
        counters = [p for p in points if "totalizer" in p.tags and _kind(p) == "energy"]
        power = [p for p in points if "sensor" in p.tags and _kind(p) == "power"]
        found = power or counters  # kW first: 15-minute demand needs it, and it continues generated history
        if found:
            chosen = found[0]
            meters.append(Meter(device, chosen.spec.name, chosen.point_id, _kind(chosen), None, "building",
                                ancestors=chosen.ancestors))
    return meters, problems


def oat_point(section: EnergySection, infos: Iterable[PointInfo]) -> str:
    """The outdoor-air temperature point: configured, or the first tagged outside, air, temp, sensor."""
    if section.oat:
        return section.oat
    found = sorted(i.point_id for i in infos if {"outside", "air", "temp", "sensor"} <= i.tags)
    return found[0] if found else ""


__all__ = ["Meter", "oat_point", "resolve_meters"]
