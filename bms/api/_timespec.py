"""Times as people type them: durations (``1h30m``) and instants (``-1h``, ``13:00``, ``yesterday``, ISO 8601).

One parser for the API and the command line. Dates and times of day
without an offset are read in a zone the caller names: the API reads them
as UTC, the command line as the local time of the computer it runs on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bms.errors import ConfigError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DAYS = {"today": 0, "yesterday": 1}
_EPOCH_MIN, _EPOCH_MAX = 0.0, 95_617_584_000.0  # 1970-01-01 .. 5000-01-01

#: The longest duration accepted (a timed override, a wait): 366 days.
MAX_DURATION = 366 * 86400.0
TIME_HELP = ("now; a duration ago (15m, 1h30m, 2d; -1h; +15m ahead); a time of day (13:00, the last one); "
             "today or yesterday (midnight, or 'yesterday 13:00'); a date (2026-12-01); ISO 8601; epoch seconds")
_HINT = "use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"


def parse_duration(text: str, maximum: float = MAX_DURATION) -> float:
    """Seconds in ``text``: a plain number (seconds) or parts like ``1h30m``.

    Units are s, m, h, d and w; parts may come in any order and repeat
    (``1h30m`` = ``90m`` = ``5400``). Zero, negative and durations above
    ``maximum`` are refused.
    """
    seconds = _seconds(text)
    if seconds > maximum:
        raise ConfigError(f"invalid duration {text!r}: at most {_spoken(maximum)}")
    return seconds


def _seconds(text: str) -> float:
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


def _spoken(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def parse_time(text: str, now: float, zone: tzinfo | None = UTC) -> float:
    """Epoch seconds for ``text``, relative times counted from ``now``.

    Accepted: ``now``; epoch seconds (``1700000000``); a duration ago
    (``15m``, ``-1h30m``, ``-90`` seconds) or ahead (``+15m``); a time of day
    (``13:00``, ``13:00:30``: the last such time at or before ``now``);
    ``today`` / ``yesterday`` (midnight, or with a time of day:
    ``yesterday 13:00``); a date (``2026-12-01``, midnight) and ISO 8601
    (``2024-03-01T12:00:00+01:00``). Without an offset, a date or time is
    in ``zone`` (``None``: this computer's local time).
    """
    raw = text.strip()
    if not raw:
        raise ConfigError(f"empty time: {_HINT}")
    value = _instant(raw, text, now, zone)
    if not _EPOCH_MIN <= value < _EPOCH_MAX:
        raise ConfigError(f"time {text!r} is out of range (1970 to 5000)")
    return value


def _instant(raw: str, text: str, now: float, zone: tzinfo | None) -> float:
    lowered = raw.lower()
    if lowered == "now":
        return now
    if raw[0] in "+-":  # always relative: "-90" is 90 s ago, not 1969
        sign = -1.0 if raw[0] == "-" else 1.0
        try:
            return now + sign * _seconds(raw[1:])
        except ConfigError:
            raise ConfigError(f"invalid time {text!r}: {_HINT}") from None
    if _is_number(raw):
        return float(raw)
    if _WHOLE.fullmatch(lowered.replace(" ", "")):
        return now - _seconds(raw)  # "15m": fifteen minutes ago
    local = datetime.fromtimestamp(now, zone) if zone is not None else datetime.fromtimestamp(now).astimezone()
    day_word, _, clock = lowered.partition(" ")
    if day_word in _DAYS:
        at = _clock(clock.strip(), text) if clock.strip() else time()
        return _at(local.date() - timedelta(days=_DAYS[day_word]), at, zone)
    if _CLOCK.fullmatch(raw):
        at = _clock(raw, text)
        stamp = _at(local.date(), at, zone)
        return stamp if stamp <= now else _at(local.date() - timedelta(days=1), at, zone)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"invalid time {text!r}: {_HINT}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone) if zone is not None else parsed.astimezone()
    return parsed.timestamp()


def _clock(text: str, whole: str) -> time:
    match = _CLOCK.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError:
        raise ConfigError(f"invalid time {whole!r}: {_HINT}") from None


def _at(day: date, at: time, zone: tzinfo | None) -> float:
    stamp = datetime.combine(day, at)
    return (stamp.replace(tzinfo=zone) if zone is not None else stamp.astimezone()).timestamp()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
