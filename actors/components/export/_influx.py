"""The InfluxDB-compatible sink: influxdb-client's synchronous write API, line protocol in batches.

The same point at the same nanosecond is the same series and timestamp, so
a batch written again (after a crash between the write and the outbox's
ack, or by a backfill) overwrites itself: no duplicates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from actors.components.export._sink import SinkError
from bms.export import ExportRow, InfluxTarget, LineEncoder, TagMap
from bms.messages import PointValue


def _client_module() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import influxdb_client
        from influxdb_client.client.write_api import SYNCHRONOUS
    return influxdb_client, SYNCHRONOUS


class InfluxSink:
    """Writes to one InfluxDB-compatible target (InfluxDB 2.x, VictoriaMetrics...)."""

    def __init__(self, target: InfluxTarget, tags: TagMap) -> None:
        self.target = target
        self.encoder = LineEncoder(target.measurement, tags)
        module, synchronous = _client_module()
        self.client = module.InfluxDBClient(url=target.url, token=target.token or "none", org=target.org,
                                            timeout=int(target.timeout * 1000), retries=False)
        self.api = self.client.write_api(write_options=synchronous)

    def write(self, rows: Sequence[ExportRow | PointValue]) -> None:
        lines = self.encoder.lines(rows)
        if lines:
            self.write_lines(lines)

    backfill = write  # same series and timestamp overwrite

    def write_lines(self, lines: list[str]) -> None:
        self._send("\n".join(lines).encode())

    def _send(self, record: bytes) -> None:
        try:
            self.api.write(bucket=self.target.bucket, org=self.target.org, record=record, write_precision="ns")
        except Exception as err:  # influxdb-client raises ApiException and urllib3's errors: all are "not written"
            raise SinkError(_reason(err)) from err

    def retag(self, tags: TagMap) -> None:
        self.encoder.tags = tags
        self.encoder.forget()

    def close(self) -> None:
        try:
            self.api.close()
            self.client.close()
        except Exception:
            pass


def _reason(err: BaseException) -> str:
    status = getattr(err, "status", None)
    if status:
        body = str(getattr(err, "body", "") or getattr(err, "reason", "")).strip().splitlines()
        return f"HTTP {status}: {body[0][:200] if body else ''}".rstrip(": ")
    found = str(err).strip().splitlines()
    text = found[-1] if found else type(err).__name__
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused"
    return f"{type(err).__name__}: {text[:200]}"
