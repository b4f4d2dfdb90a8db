"""Reading configuration files: TOML, the daemon's settings, and what a file is.

Each problem is one line ``file: section.key: message``; unknown keys get a
"did you mean" when a known key is close (see :mod:`bms.config._walk`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from bms.config._schema import Settings
from bms.config._walk import decode
from bms.errors import ConfigError

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
    if "protocol" in data or isinstance(data.get("points"), list):  # a settings file's [points] is a table
        return "profile"
    return "settings"
