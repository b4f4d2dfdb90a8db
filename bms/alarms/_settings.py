"""``[alarms]``: alarm classes, chattering and flood limits, the engine's pace and history retention."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from bms.alarms._book import AlarmClass, ChatterRule, FloodRule


def _classes() -> dict[str, AlarmClass]:
    return {"default": AlarmClass(), "device": AlarmClass()}


class AlarmsSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[alarms]`` in bms.toml (``[alarms.classes.NAME] ack_required = false`` adds a class)."""

    classes: dict[str, AlarmClass] = msgspec.field(default_factory=_classes)
    chatter: ChatterRule = ChatterRule()
    flood: FloodRule = FloodRule()
    tick: Annotated[float, Meta(gt=0, le=60)] = 1.0  # seconds between looks at delays, holds and shelves
    history_days: Annotated[float, Meta(gt=0)] = 400.0
