"""History: samples over a window, rollups, limits, CSV, bad times."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.api import HistorySeries
from tests.api.conftest import AUTH, MAX_BODY, site_app
from tests.api.fake import NOW, FakeSite

Client = TestClient[Litestar]


@pytest.fixture
def client(site: FakeSite) -> Iterator[TestClient[Litestar]]:
    """The app on the fake site's clock, so relative times fall on its samples."""
    with TestClient(site_app(site, AUTH["Authorization"].split()[1], MAX_BODY, now=lambda: NOW)) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


def test_last_half_hour_of_samples(client: Client) -> None:
    r = client.get("/api/history/room1/temp?start=-30m&end=now")
    assert r.status_code == 200
    series = msgspec.json.decode(r.content, type=HistorySeries)
    assert (series.start, series.end, series.rollup) == (NOW - 1800, NOW, "raw")
    assert len(series.samples) == 30
    assert all(NOW - 1800 <= s.ts < NOW for s in series.samples)


def test_default_window_is_the_last_hour_and_limit_caps_it(client: Client) -> None:
    assert len(client.get("/api/history/room1/temp").json()["samples"]) == 60
    assert len(client.get("/api/history/room1/temp?limit=5").json()["samples"]) == 5


def test_absolute_and_iso_times(client: Client) -> None:
    r = client.get(f"/api/history/room1/temp?start={NOW - 600:.0f}&end=2023-11-14T22:13:20Z")
    assert r.status_code == 200
    assert (r.json()["start"], r.json()["end"]) == (NOW - 600, NOW)


def test_rollup_buckets(client: Client) -> None:
    r = client.get("/api/history/room1/temp?start=-1h&rollup=15m")
    series = msgspec.json.decode(r.content, type=HistorySeries)
    assert series.rollup == "15m" and series.samples == ()
    assert sum(b.count for b in series.buckets) == 60
    assert all(b.min is not None and b.max is not None and b.min <= (b.avg or 0) <= b.max for b in series.buckets)


@pytest.mark.parametrize(("query", "error"), [
    ("start=banana", "start: invalid time 'banana': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("end=-1x", "end: invalid time '-1x': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("start=-1h&end=-2h", "start (-1h) is after end (-2h)"),
    ("rollup=5m", "query parameter 'rollup': Invalid enum value '5m'"),
    ("limit=0", "query parameter 'limit': Expected int >= 1"),
])
def test_bad_window_is_400(client: Client, query: str, error: str) -> None:
    r = client.get(f"/api/history/room1/temp?{query}")
    assert (r.status_code, r.json()) == (400, {"error": error})


def test_unknown_point_and_history_down(client: Client, site: FakeSite) -> None:
    assert client.get("/api/history/room9/x").status_code == 404
    site.down.add("history")
    r = client.get("/api/history/room1/temp")
    assert (r.status_code, r.json()) == (503, {"error": "the history service is not running"})


def test_csv_is_streamed_with_a_header_and_a_file_name(client: Client) -> None:
    r = client.get("/api/history/room1/temp/csv?start=-3m")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="room1_temp.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows == [["time", "ts", "value"],
                    ["2023-11-14T22:10:20.000Z", "1699999820.0", "25.7"],
                    ["2023-11-14T22:11:20.000Z", "1699999880.0", "25.8"],
                    ["2023-11-14T22:12:20.000Z", "1699999940.0", "25.9"]]


def test_csv_limit_counts_rows_not_the_header(client: Client) -> None:
    lines = client.get("/api/history/room1/temp/csv?rollup=15m&limit=2").text.splitlines()
    assert lines[0] == "time,ts,avg,min,max,last,count" and len(lines) == 3


def test_csv_refusals_come_before_the_stream(client: Client, site: FakeSite) -> None:
    r = client.get("/api/history/room9/x/csv")
    assert (r.status_code, r.json()) == (404, {"error": "unknown point 'room9/x'"})
    assert client.get("/api/history/room1/temp/csv?start=soon").status_code == 400
