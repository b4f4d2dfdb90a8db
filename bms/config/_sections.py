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


def assemble(decoded: Any, sections: Mapping[str, type[msgspec.Struct]]) -> Settings:
    return Settings(
        daemon=decoded.daemon,
        log=decoded.log,
        sections={n: getattr(decoded, n) for n in sections if n not in CORE_SECTIONS},
    )


def clashing(sections: Mapping[str, type[msgspec.Struct]]) -> list[str]:
    """Components that declare a core section as theirs."""
    return [f"settings section [{n}] belongs to the core; a component cannot declare it"
            for n in sections if n in CORE_SECTIONS]
