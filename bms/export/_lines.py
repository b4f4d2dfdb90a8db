"""InfluxDB line protocol for exported samples: one line per sample, escaped as the protocol says.

``measurement,point=ahu1/sat,site=hq,equip=ahu1,unit=°C value=12.5 1700000000000000000``

A number (or a boolean, as 0/1) is the float field ``value``; a state name is
the string field ``state``; "no value" is not written (there is nothing to
plot). The timestamp is in nanoseconds, so the same point at the same time
is the same series and timestamp: writing it again overwrites it, which is
what makes catch-up after a crash and backfill free of duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bms.export._tags import SeriesTags, TagLookup
from bms.messages import Value

_INFINITE = (float("inf"), float("-inf"))
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def escape_key(text: str) -> str:
    """A tag key, tag value or field key as line protocol wants it."""
    return text.translate(_KEY)


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT)


def _string_field(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def series_key(measurement: str, tags: SeriesTags) -> str:
    """``measurement,tag=value,...`` with tags sorted by key (the order Influx stores them in)."""
    parts = [escape_measurement(measurement)]
    for key, value in (("equip", tags.equip), ("markers", ",".join(tags.markers)), ("name", tags.name),
                       ("point", tags.point), ("site", tags.site), ("unit", tags.unit)):  # SeriesTags.labels, sorted
        if value:
            parts.append(f"{key}={value.translate(_KEY)}")
    return ",".join(parts)


def line(series: str, value: object, ts: float) -> str | None:
    """One line for ``value`` at ``ts`` (epoch seconds) of the series ``series``, or None for no value."""
    if value is None:
        return None
    ns = round(ts * 1_000_000) * 1000  # a float epoch holds microseconds: the same ts, the same stamp
    if isinstance(value, bool):
        return f"{series} value={1.0 if value else 0.0} {ns}"
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            return None  # NaN and infinities are not line protocol
        return f"{series} value={float(value)!r} {ns}"
    return f"{series} state={_string_field(str(value))} {ns}"


class Sampled(Protocol):
    @property
    def point_id(self) -> str: ...

    @property
    def ts(self) -> float: ...

    @property
    def value(self) -> Value: ...


class LineEncoder:
    """Rows to line protocol, the series key of each point built once."""

    def __init__(self, measurement: str, tags: TagLookup) -> None:
        self.measurement = measurement
        self.tags = tags
        self._series: dict[str, str] = {}

    def forget(self) -> None:
        """The model changed: build the series keys again."""
        self._series.clear()

    def lines(self, rows: Iterable[Sampled]) -> list[str]:
        """Lines of rows (:class:`ExportRow`, or the ``PointValue`` of a live batch: anything with the fields)."""
        rows = rows if isinstance(rows, (list, tuple)) else list(rows)
        series = self._series
        # the common case in one comprehension: known series, finite floats (x - x is 0.0 for those alone);
        # any other row leaves a None and the batch goes the general way
        try:
            fast = [f"{series[r.point_id]} value={v!r} {round(r.ts * 1_000_000) * 1000}"
                    if type(v := r.value) is float and v - v == 0.0 else None for r in rows]
            if None not in fast:
                return fast  # type: ignore[return-value]
        except KeyError:  # a point not met yet: its series key is made below
            pass
        out: list[str] = []
        append = out.append
        for r in rows:
            point_id, ts, value = r.point_id, r.ts, r.value
            key = series.get(point_id)
            if key is None:
                key = series[point_id] = series_key(self.measurement, self.tags(point_id))
            if type(value) is float and value == value and value not in _INFINITE:
                append(f"{key} value={value!r} {round(ts * 1_000_000) * 1000}")
                continue
            made = line(key, value, ts)
            if made is not None:
                append(made)
        return out
