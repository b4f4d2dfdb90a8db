"""The 16-level BACnet priority array: 1 is highest, 16 lowest.

The effective (commanded) value is the value of the highest non-null level,
or the relinquish default when every level is null. Writing ``None`` at a
level relinquishes it, as writing Null does in BACnet.
"""

from __future__ import annotations

from bms.errors import WriteRefused
from bms.messages import Value

LEVELS = 16
"""Number of priority levels."""


def check_priority(point_id: str, priority: object) -> int:
    """``priority`` as an int in 1..16, else :class:`WriteRefused` (guard "priority")."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= LEVELS:
        raise WriteRefused(point_id, f"priority {priority!r} is not 1..{LEVELS} (1 is highest)", guard="priority")
    return priority


class PriorityArray:
    """One point's command levels and relinquish default."""

    __slots__ = ("_levels", "point_id", "relinquish_default")

    def __init__(self, point_id: str = "", relinquish_default: Value = None) -> None:
        self.point_id = point_id
        self.relinquish_default: Value = relinquish_default
        self._levels: list[Value] = [None] * LEVELS

    def write(self, priority: int, value: Value) -> Value:
        """Set ``priority`` to ``value`` (``None`` relinquishes); return the effective value."""
        self._levels[check_priority(self.point_id, priority) - 1] = value
        return self.effective

    def relinquish(self, priority: int) -> Value:
        """Clear ``priority``; return the effective value."""
        return self.write(priority, None)

    def value_at(self, priority: int) -> Value:
        """The value written at ``priority`` (``None``: relinquished)."""
        return self._levels[check_priority(self.point_id, priority) - 1]

    @property
    def active_priority(self) -> int | None:
        """The level in control, or ``None`` when the relinquish default applies."""
        for index, value in enumerate(self._levels):
            if value is not None:
                return index + 1
        return None

    @property
    def effective(self) -> Value:
        """The value of the highest non-null level, else the relinquish default."""
        for value in self._levels:
            if value is not None:
                return value
        return self.relinquish_default

    def levels(self) -> tuple[Value, ...]:
        """The 16 levels; index 0 is priority 1."""
        return tuple(self._levels)

    def __repr__(self) -> str:
        return f"PriorityArray({self.point_id!r}, effective={self.effective!r}, active={self.active_priority})"
