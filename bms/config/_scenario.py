"""Loading a scenario: its file, its profiles and the references between them.

The walk (:mod:`bms.config._walk`) reports the keys, types and ranges; the
cross-references here (profiles, networks, spaces, duplicate ids, the time
zone) run on whatever decoded, in the same run, so a file's every problem is
printed at once. A path the walk already reported is not reported again.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from bms.config._load import read_toml
from bms.config._profiles import available_profiles, load_profile, no_profile, search_dirs
from bms.config._schema import (
    BacnetDevice,
    ModbusDevice,
    Networks,
    Profile,
    Scenario,
    SiteSpec,
    SpaceSpec,
    _Device,
)
from bms.config._walk import Decoded, close_match, walk
from bms.errors import ConfigError


@dataclass
class LoadedScenario:
    path: Path
    scenario: Scenario
    profiles: dict[str, Profile] = field(default_factory=dict)

    @property
    def point_count(self) -> int:
        return sum(len(self.profiles[d.profile].points) for d in self.scenario.devices if d.profile in self.profiles)


def load_scenario(path: Path) -> LoadedScenario:
    """Load a scenario and its profiles; raise ConfigError with every problem."""
    path = Path(path)
    found = walk(read_toml(path), Scenario, str(path))
    problems = list(found.problems)
    known = available_profiles(search_dirs(path, found.root().get("profile_dirs", [])))
    profiles: dict[str, Profile] = {}
    for name in sorted({d.profile for _, d in found.found(_Device)}):
        if name in known:
            prof, probs = load_profile(known[name])
            problems += probs
            if prof is not None:
                if prof.name != name:
                    problems.append(f"{known[name]}: name: {prof.name!r} differs from the file name {name!r}")
                profiles[name] = prof
    problems += _References(found, profiles, known, str(path)).check()
    if problems or found.value is None:
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems)
    return LoadedScenario(path, found.value, profiles)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone of the system's tzdata (with "did you mean"), or None."""
    if name in _zones() or not _zones():  # no tzdata at all: nothing to check against
        return None
    try:
        zoneinfo.ZoneInfo(name)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}{close_match(name, _zones())}"


class _References:
    """The cross-reference checks of one scenario, over the parts that decoded."""

    def __init__(self, found: Decoded[Scenario], profiles: dict[str, Profile], known: dict[str, Path],
                 src: str) -> None:
        self.found, self.profiles, self.known, self.src = found, profiles, known, src
        self.problems: list[str] = []
        self.site_ids = {t.fields["id"] for t in found.parts(SiteSpec) if "id" in t.fields}
        self.space_ids = {t.fields["id"] for t in found.parts(SpaceSpec) if "id" in t.fields}
        nets = found.found(Networks)
        self.networks = nets[0][1] if nets else Networks()

    def check(self) -> list[str]:
        found = self.found
        for t in found.parts(SiteSpec):
            why = timezone_problem(t.fields["timezone"]) if "timezone" in t.fields else None
            if why:
                self.say(f"{t.path}.timezone", why)
        for where, space in found.found(SpaceSpec):
            if space.parent is not None and space.parent not in self.space_ids:
                self.say(f"{where}.parent", f"unknown space {space.parent!r}")
        ids: dict[str, str] = {}
        for where, dev in found.found(_Device):
            if dev.id in ids:
                self.say(f"{where}.id", f"duplicate device id {dev.id!r} (also {ids[dev.id]})")
            elif dev.id in self.space_ids or dev.id in self.site_ids:
                what = "the site" if dev.id in self.site_ids else "a space"
                self.say(f"{where}.id", f"{dev.id!r} is already {what}'s id "
                         "(sites, spaces and devices share one namespace)")
            ids.setdefault(dev.id, where)
            self.device(where, dev)
        return self.problems

    def say(self, where: str, message: str) -> None:
        if self.found.ok(where):
            self.problems.append(f"{self.src}: {where}: {message}")

    def device(self, where: str, dev: _Device) -> None:
        profile = self.profiles.get(dev.profile)
        if dev.profile not in self.known:
            self.say(f"{where}.profile", no_profile(dev.profile, self.known))
        elif profile is not None and profile.protocol != dev.protocol:
            self.say(f"{where}.protocol", f"device is {dev.protocol!r} but profile {dev.profile!r} is "
                     f"{profile.protocol!r}")
        if dev.space is not None and dev.space not in self.space_ids:
            self.say(f"{where}.space", f"unknown space {dev.space!r}")
        if isinstance(dev, BacnetDevice):
            if dev.device_instance is None:
                self.say(f"{where}.device_instance", "required for a bacnet device")
            bacnet = self.networks.bacnet
            if dev.network not in bacnet and not (dev.network == "default" and not bacnet):
                self.network(where, "bacnet", dev.network, list(bacnet))
        elif isinstance(dev, ModbusDevice):
            line = self.networks.modbus.get(dev.network)
            if dev.host is None and not (line is not None and line.kind == "rtu"):
                self.say(f"{where}.host", "required for a modbus TCP device")
            if dev.network != "default" and line is None:
                self.network(where, "modbus", dev.network, list(self.networks.modbus))

    def network(self, where: str, protocol: str, name: str, names: list[str]) -> None:
        table = f"networks.{protocol}"
        if not all(self.found.ok(p) for p in ("networks", table, f"{table}.{name}")):
            return  # the network's own table was reported: it may well be there
        self.say(f"{where}.network", f"unknown {protocol} network {name!r}{close_match(name, names, cutoff=0.5)}")
