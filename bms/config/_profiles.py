"""Device profiles: one file checked, the folders searched, one found by name.

:func:`find_profile` is the one place a profile is looked up by name (with
"did you mean"); the scenario loader and the CLI and actors that accept
devices all use it or its wording.
"""

from __future__ import annotations

from pathlib import Path

from bms.config._load import CONF_DIR, read_toml
from bms.config._schema import PointSpec, Profile, Scenario
from bms.config._walk import Decoded, close_match, join, walk
from bms.errors import ConfigError


def _profile_checks(found: Decoded[Profile], source: str) -> list[str]:
    """What the schema cannot say: duplicate keys, a binding per point for the profile's protocol."""
    problems: list[str] = []
    protocol = found.root().get("protocol")
    seen: dict[str, str] = {}
    for where, pt in found.found(PointSpec):
        if pt.key in seen:
            problems.append(f"{source}: {where}.key: duplicate point key {pt.key!r} (also {seen[pt.key]})")
        seen.setdefault(pt.key, where)
        if protocol is not None and getattr(pt, protocol) is None and found.ok(join(where, protocol)):
            problems.append(f"{source}: {where}: a {protocol} profile's point needs a '{protocol}' binding")
        if pt.modbus is not None and pt.modbus.scale == 0:
            problems.append(f"{source}: {where}.modbus.scale: must not be 0")
        if pt.guard and pt.guard.min is not None and pt.guard.max is not None and pt.guard.min > pt.guard.max:
            problems.append(f"{source}: {where}.guard: min {pt.guard.min} is above max {pt.guard.max}")
    return problems


def load_profile(path: Path) -> tuple[Profile | None, list[str]]:
    """A profile file: (the profile, []) or (None, every problem)."""
    try:
        data = read_toml(path)
    except ConfigError as err:
        return None, err.problems
    found = walk(data, Profile, str(path))
    problems = found.problems + _profile_checks(found, str(path))
    return (found.value if not problems else None), problems


def search_dirs(scenario_path: Path, extra: list[str]) -> list[Path]:
    """Where a scenario's profiles are looked for: its ``profile_dirs``, then the usual folders."""
    dirs = [scenario_path.parent / d for d in extra]
    return [*dirs, scenario_path.parent / "profiles", scenario_path.parent.parent / "profiles", CONF_DIR / "profiles"]


def profile_dirs(scenario_path: Path, scenario: Scenario | None) -> list[Path]:
    return search_dirs(scenario_path, scenario.profile_dirs if scenario else [])


def available_profiles(dirs: list[Path]) -> dict[str, Path]:
    """Profile name (the file's stem) -> file; the first folder that has a name wins."""
    found: dict[str, Path] = {}
    for d in dirs:
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def no_profile(name: str, known: dict[str, Path]) -> str:
    """``no profile named 'vav2' (did you mean 'vav'?)``."""
    return f"no profile named {name!r}{close_match(name, set(known), cutoff=0.5)}"


def find_profile(name: str, dirs: list[Path]) -> Profile:
    """The profile called ``name`` in ``dirs``; ConfigError when there is none or it is invalid."""
    known = available_profiles(dirs)
    if name not in known:
        raise ConfigError(no_profile(name, known))
    profile, problems = load_profile(known[name])
    if profile is None:
        raise ConfigError(f"profile {name!r}: {problems[0]}", problems)
    return profile
