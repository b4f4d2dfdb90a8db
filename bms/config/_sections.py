"""The settings file: the core's sections and each component's own.

``[daemon]`` and ``[log]`` belong to the core; every other section belongs
to the component that declares it (``Component.settings``). The file is
decoded in one pass against a Struct made of all of them, so an unknown
section gets a "did you mean" among every known one, and a component's
keys are checked like the core's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bms.config._schema import DaemonSection, LogSection, Settings

CORE_SECTIONS: dict[str, type[msgspec.Struct]] = {"daemon": DaemonSection, "log": LogSection}


def installed_sections() -> dict[str, type[msgspec.Struct]]:
    """The settings sections of the components installed here."""
    from bms.components import installed

    return {c.section_name: c.settings for c in installed().components if c.settings is not None}


def settings_struct(sections: Mapping[str, type[msgspec.Struct]]) -> type[msgspec.Struct]:
    """A Struct with one field per section, core first, each defaulting to its own defaults."""
    fields: list[tuple[str, Any, Any]] = [(n, t, msgspec.field(default_factory=t)) for n, t in CORE_SECTIONS.items()]
    fields += [(n, t, msgspec.field(default_factory=t)) for n, t in sorted(sections.items()) if n not in CORE_SECTIONS]
    return msgspec.defstruct("SettingsFile", fields, frozen=True, forbid_unknown_fields=True, kw_only=True)


def assemble(decoded: Any, sections: Mapping[str, type[msgspec.Struct]],
             broken: Mapping[str, list[str]] | None = None) -> Settings:
    broken = broken or {}
    return Settings(
        daemon=decoded.daemon,
        log=decoded.log,
        sections={n: getattr(decoded, n) for n in sections if n not in CORE_SECTIONS and n not in broken},
        broken={n: tuple(lines) for n, lines in broken.items()},
    )


def split_problems(problems: list[str], source: str, sections: Mapping[str, type[msgspec.Struct]]
                   ) -> tuple[dict[str, list[str]], list[str]]:
    """Problems by component section, and the rest (the core's, unknown sections)."""
    by_section: dict[str, list[str]] = {}
    rest: list[str] = []
    prefix = f"{source}: "
    for line in problems:
        where = line[len(prefix):].split(":", 1)[0] if line.startswith(prefix) else ""
        section = where.split(".", 1)[0].split("[", 1)[0]
        if section in sections and section not in CORE_SECTIONS:
            by_section.setdefault(section, []).append(line)
        else:
            rest.append(line)
    return by_section, rest


def clashing(sections: Mapping[str, type[msgspec.Struct]]) -> list[str]:
    """Components that declare a core section as theirs."""
    return [f"settings section [{n}] belongs to the core; a component cannot declare it"
            for n in sections if n in CORE_SECTIONS]
