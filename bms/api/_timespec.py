"""Times as people type them: durations (``1h30m``) and instants (``-1h``, ISO 8601)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bms.errors import ConfigError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_EPOCH_MIN, _EPOCH_MAX = 0.0, 95_617_584_000.0  # 1970-01-01 .. 5000-01-01


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a plain number (seconds) or parts like ``1h30m``.

    Units are s, m, h, d and w; parts may come in any order and repeat
    (``1h30m`` = ``90m`` = ``5400``). Zero and negative durations are refused.
    """
    raw = text.strip().lower().replace(" ", "")
    try:
        seconds = float(raw)
    except ValueError:
        if not _WHOLE.fullmatch(raw):
            raise ConfigError(f"invalid duration {text!r}: use seconds or e.g. 90s, 15m, 1h30m, 2d") from None
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(raw))
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"invalid duration {text!r}: must be more than zero")
    return seconds


def parse_time(text: str, now: float) -> float:
    """Epoch seconds for ``text``, relative times counted from ``now``.

    Accepted: epoch seconds (``1700000000``, ``1700000000.5``), ``now``,
    a signed duration (``-1h``, ``-1h30m``, ``+15m``, ``-90`` seconds) and ISO 8601
    (``2024-03-01T12:00:00+01:00``; no offset means UTC).
    """
    raw = text.strip()
    if not raw:
        raise ConfigError("empty time: use epoch seconds, now, -1h or ISO 8601")
    value = _instant(raw, text, now)
    if not _EPOCH_MIN <= value < _EPOCH_MAX:
        raise ConfigError(f"time {text!r} is out of range (1970 to 5000)")
    return value


def _instant(raw: str, text: str, now: float) -> float:
    if raw.lower() == "now":
        return now
    if raw[0] in "+-":  # always relative: "-90" is 90 s ago, not 1969
        sign = -1.0 if raw[0] == "-" else 1.0
        try:
            return now + sign * parse_duration(raw[1:])
        except ConfigError:
            raise ConfigError(f"invalid time {text!r}: use epoch seconds, now, -1h or ISO 8601") from None
    if _is_number(raw):
        return float(raw)
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"invalid time {text!r}: use epoch seconds, now, -1h or ISO 8601") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
