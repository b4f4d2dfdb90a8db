"""Reading configuration files and reporting every problem at once.

Each problem is one line ``file: section.key: message``; unknown keys get a
"did you mean" when a known key is close. Structural checks (types, unknown
keys) come from the Struct schema; cross-references (profiles, networks,
spaces, duplicate ids) are checked afterwards, so one run shows them all.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from bms.config._schema import Profile, Scenario, Settings
from bms.errors import ConfigError

T = TypeVar("T")

CONF_DIR = Path(os.environ.get("BMS_CONF", Path(__file__).resolve().parents[2] / "conf"))
"""The bundled configuration (settings, demo scenario, profiles)."""


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes one ConfigError line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: TOML syntax error: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason})") from None


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
            tp.__name__, tp.__name__
        )
    origin = get_origin(tp)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a table"
    if str(origin) == "typing.Literal":
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return str(tp)


def _describe(err: msgspec.ValidationError, tp: Any, value: Any) -> str:
    text = str(err)
    base = text.split(" - at ", 1)[0]
    if str(get_origin(tp)) == "typing.Literal":
        return f"must be one of {', '.join(repr(a) for a in get_args(tp))}, got {value!r}"
    if base.startswith("Expected"):
        return f"must be {_type_name(tp)}, got {type(value).__name__} {value!r}"
    return base


def _check(value: Any, tp: Any, where: str, problems: list[str]) -> None:
    """Walk ``value`` against annotation ``tp``, appending problems."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, dict):
            problems.append(f"{where or 'top level'}: must be a table, got {type(value).__name__} {value!r}")
            return
        infos = msgspec.structs.fields(tp)
        known = {f.encode_name: f for f in infos}
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(f"{_join(where, key)}: unknown key{hint}")
        for name, info in known.items():
            if name in value:
                _check(value[name], info.type, _join(where, name), problems)
            elif info.required:
                problems.append(f"{_join(where, name)}: missing (required)")
        return
    origin = get_origin(tp)
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list, got {type(value).__name__} {value!r}")
            return
        (item,) = get_args(tp)
        for i, v in enumerate(value):
            _check(v, item, f"{where}[{i}]", problems)
        return
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{where}: must be a table, got {type(value).__name__} {value!r}")
            return
        _, vt = get_args(tp)
        for k, v in value.items():
            _check(v, vt, _join(where, k), problems)
        return
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if value is None and type(None) in args:
            return
        structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        if structs and isinstance(value, dict):
            _check(value, structs[0], where, problems)
            return
    try:
        msgspec.convert(value, tp, strict=True)
    except msgspec.ValidationError as err:
        problems.append(f"{where}: {_describe(err, tp, value)}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def decode(data: Mapping[str, Any], cls: type[T], source: str) -> tuple[T | None, list[str]]:
    """Convert ``data`` to ``cls``; on problems return (None, ['source: ...'])."""
    problems: list[str] = []
    _check(dict(data), cls, "", problems)
    if problems:
        return None, [f"{source}: {p}" for p in problems]
    try:
        return msgspec.convert(dict(data), cls, strict=True), []
    except msgspec.ValidationError as err:  # anything the walk did not foresee
        return None, [f"{source}: {err}"]


# ------------------------------------------------------------------ profiles


def _profile_checks(profile: Profile, source: str) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, pt in enumerate(profile.points):
        where = f"{source}: points[{i}]"
        if pt.key in seen:
            problems.append(f"{where}.key: duplicate point key {pt.key!r} (also points[{seen[pt.key]}])")
        seen.setdefault(pt.key, i)
        if "/" in pt.key or not pt.key:
            problems.append(f"{where}.key: must be non-empty and contain no '/'")
        binding = getattr(pt, profile.protocol)
        if binding is None:
            problems.append(f"{where}: a {profile.protocol} profile's point needs a '{profile.protocol}' binding")
        if pt.modbus is not None and pt.modbus.bit is not None and not 0 <= pt.modbus.bit <= 15:
            problems.append(f"{where}.modbus.bit: must be 0..15, got {pt.modbus.bit}")
        if pt.modbus is not None and not 0 <= pt.modbus.address <= 65535:
            problems.append(f"{where}.modbus.address: must be 0..65535, got {pt.modbus.address}")
        if pt.modbus is not None and pt.modbus.scale == 0:
            problems.append(f"{where}.modbus.scale: must not be 0")
        if not 1 <= pt.command_priority <= 16:
            problems.append(f"{where}.command_priority: must be 1..16, got {pt.command_priority}")
        if pt.guard and pt.guard.min is not None and pt.guard.max is not None and pt.guard.min > pt.guard.max:
            problems.append(f"{where}.guard: min {pt.guard.min} is above max {pt.guard.max}")
    return problems


def load_profile(path: Path) -> tuple[Profile | None, list[str]]:
    try:
        data = read_toml(path)
    except ConfigError as err:
        return None, err.problems
    profile, problems = decode(data, Profile, str(path))
    if profile is not None:
        problems += _profile_checks(profile, str(path))
    return (profile if not problems else None), problems


# ----------------------------------------------------------------- scenarios


@dataclass
class LoadedScenario:
    path: Path
    scenario: Scenario
    profiles: dict[str, Profile] = field(default_factory=dict)

    @property
    def point_count(self) -> int:
        return sum(len(self.profiles[d.profile].points) for d in self.scenario.devices if d.profile in self.profiles)


def profile_dirs(scenario_path: Path, scenario: Scenario | None) -> list[Path]:
    dirs = [scenario_path.parent / d for d in (scenario.profile_dirs if scenario else [])]
    return [*dirs, scenario_path.parent / "profiles", scenario_path.parent.parent / "profiles", CONF_DIR / "profiles"]


def available_profiles(dirs: list[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in dirs:
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def _scenario_checks(sc: Scenario, profiles: dict[str, Profile], known: dict[str, Path], src: str) -> list[str]:
    problems: list[str] = []
    spaces = {s.id for s in sc.spaces}
    for i, sp in enumerate(sc.spaces):
        if sp.parent is not None and sp.parent not in spaces:
            problems.append(f"{src}: spaces[{i}].parent: unknown space {sp.parent!r}")
    ids: dict[str, int] = {}
    for i, dev in enumerate(sc.devices):
        where = f"{src}: devices[{i}]"
        if dev.id in ids:
            problems.append(f"{where}.id: duplicate device id {dev.id!r} (also devices[{ids[dev.id]}])")
        elif dev.id in spaces or dev.id == sc.site.id:
            what = "the site" if dev.id == sc.site.id else "a space"
            problems.append(f"{where}.id: {dev.id!r} is already {what}'s id (sites, spaces and devices share one namespace)")
        ids.setdefault(dev.id, i)
        if not dev.id or "/" in dev.id:
            problems.append(f"{where}.id: must be non-empty and contain no '/'")
        if dev.profile not in known:
            close = difflib.get_close_matches(dev.profile, list(known), n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where}.profile: no profile named {dev.profile!r}{hint}")
        elif dev.profile in profiles and profiles[dev.profile].protocol != dev.protocol:
            problems.append(
                f"{where}.protocol: device is {dev.protocol!r} but profile {dev.profile!r} is "
                f"{profiles[dev.profile].protocol!r}"
            )
        if dev.space is not None and dev.space not in spaces:
            problems.append(f"{where}.space: unknown space {dev.space!r}")
        if dev.protocol == "bacnet":
            if dev.device_instance is None:
                problems.append(f"{where}.device_instance: required for a bacnet device")
            elif not 0 <= dev.device_instance < 4194303:
                problems.append(f"{where}.device_instance: must be 0..4194302, got {dev.device_instance}")
            if dev.network not in sc.networks.bacnet and not (dev.network == "default" and not sc.networks.bacnet):
                problems.append(f"{where}.network: unknown bacnet network {dev.network!r}")
        if dev.protocol == "modbus":
            if dev.host is None and not (dev.network in sc.networks.modbus and sc.networks.modbus[dev.network].kind == "rtu"):
                problems.append(f"{where}.host: required for a modbus TCP device")
            if not 0 <= dev.unit_id <= 247:
                problems.append(f"{where}.unit_id: must be 0..247, got {dev.unit_id}")
            if not 1 <= dev.max_registers <= 125:
                problems.append(f"{where}.max_registers: must be 1..125, got {dev.max_registers}")
            if dev.network != "default" and dev.network not in sc.networks.modbus:
                problems.append(f"{where}.network: unknown modbus network {dev.network!r}")
    return problems


def load_scenario(path: Path) -> LoadedScenario:
    """Load a scenario and its profiles; raise ConfigError with every problem."""
    path = Path(path)
    data = read_toml(path)
    scenario, problems = decode(data, Scenario, str(path))
    profiles: dict[str, Profile] = {}
    if scenario is not None:
        known = available_profiles(profile_dirs(path, scenario))
        for name in sorted({d.profile for d in scenario.devices}):
            if name in known:
                prof, probs = load_profile(known[name])
                problems += probs
                if prof is not None:
                    if prof.name != name:
                        problems.append(f"{known[name]}: name: {prof.name!r} differs from the file name {name!r}")
                    profiles[name] = prof
        problems += _scenario_checks(scenario, profiles, known, str(path))
    if problems or scenario is None:
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems)
    return LoadedScenario(path, scenario, profiles)


# ------------------------------------------------------------------ settings


def load_settings(
    path: Path | None = None,
    sections: Mapping[str, type[msgspec.Struct]] | None = None,
    *,
    isolate: bool = False,
) -> tuple[Settings, Path]:
    """Load conf/bms.toml (or ``path``); returns the settings and their file.

    ``sections`` are the components' settings sections (default: those of
    the components installed here); any other section is an unknown key.
    With ``isolate``, problems confined to components' sections do not
    refuse the file: those sections are left out and their lines kept in
    ``Settings.broken`` (the daemon keeps those components Down); problems
    of the core's sections, or unknown sections, still raise.
    """
    from bms.config._sections import assemble, clashing, installed_sections, settings_struct, split_problems

    path = Path(path) if path is not None else CONF_DIR / "bms.toml"
    data = read_toml(path)
    sections = installed_sections() if sections is None else sections
    struct = settings_struct(sections)
    decoded, problems = decode(data, struct, str(path))
    problems += [f"{path}: {p}" for p in clashing(sections)]
    broken: dict[str, list[str]] = {}
    if problems and isolate:
        broken, core = split_problems(problems, str(path), sections)
        if not core:
            decoded, problems = decode({k: v for k, v in data.items() if k not in broken}, struct, str(path))
    if problems or decoded is None:
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems)
    return assemble(decoded, sections, broken), path


def scenario_path(settings: Settings, settings_file: Path) -> Path:
    return (settings_file.parent / Path(settings.daemon.scenario).expanduser()).resolve()


def kind_of(data: Mapping[str, Any]) -> str:
    """Guess what a TOML file is: 'scenario', 'profile' or 'settings'."""
    if "site" in data or "devices" in data:
        return "scenario"
    if "points" in data or "protocol" in data:
        return "profile"
    return "settings"
