"""CSV lines of a series: ISO 8601 UTC time first, epoch seconds next.

Raw: ``time,ts,value``; rollups: ``time,ts,avg,min,max,last,count`` (the
columns of the API's CSV plus ``last``). Every line ends with ``\\n``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bms.history._series import Bucket, RawSample
from bms.messages import Value

RAW_HEADER = "time,ts,value\n"
ROLLUP_HEADER = "time,ts,avg,min,max,last,count\n"


def iso(ts: float) -> str:
    """``2023-11-14T22:13:20.000Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cell(value: Value) -> str:
    """A value as a CSV field: empty for None, quoted text when it needs it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def sample_line(sample: RawSample) -> str:
    return f"{iso(sample.ts)},{float(sample.ts)!r},{cell(sample.value)}\n"


def bucket_line(b: Bucket) -> str:
    return f"{iso(b.ts)},{float(b.ts)!r},{b.avg!r},{b.min!r},{b.max!r},{b.last!r},{b.count}\n"
