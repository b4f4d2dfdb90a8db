"""``[fdd]``: where the rule library is, explicit bindings, whether faults go to the alarm engine."""

from __future__ import annotations

from pathlib import Path

import msgspec


class FddSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[fdd]`` in bms.toml.

    ``rules`` is the directory of the library's TOML files, relative to the scenario file's folder;
    unset: ``fdd`` beside the scenario file, else ``../fdd`` (the demo finds ``conf/fdd``).
    ``bindings``: ``[fdd.bindings.ahu1] mat = "ahu1/mat2"`` binds a role by hand (overrides the tags).
    ``alarms``: raise each fault into the alarm engine (``fdd:EQUIP:RULE``) so its routing applies.
    """

    rules: str = ""
    bindings: dict[str, dict[str, str]] = {}
    alarms: bool = True


def rules_directory(section: FddSection, scenario: Path) -> Path:
    base = scenario.parent
    if section.rules:
        return (base / Path(section.rules).expanduser()).resolve()
    beside = base / "fdd"
    return (beside if beside.is_dir() else base.parent / "fdd").resolve()


__all__ = ["FddSection", "rules_directory"]
