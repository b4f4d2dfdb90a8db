"""The live stream's contract: filtering, tagged JSON events, keep-alives, cleanup.

The fake site offers its ``script`` to each new feed and then closes it, so
the in-process client gets a complete response; live delivery over a real
server is in test_client.py and the daemon's end-to-end tests.
"""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.api import EventFeed
from bms.api._stream import split_list
from bms.messages import DiscoveryProgress, PointValue, StatusChanged, ValueChanged, decode
from tests.api.fake import NOW, FakeSite

Client = TestClient[Litestar]


def changes(*pairs: tuple[str, float]) -> ValueChanged:
    return ValueChanged(values=tuple(PointValue(point_id=p, value=v, ts=NOW) for p, v in pairs), source="test")


def events_of(body: str) -> list[object]:
    return [decode(line.removeprefix("data: ")) for line in body.splitlines() if line.startswith("data: ")]


def test_stream_sends_tagged_json_after_the_connected_comment(client: Client, site: FakeSite) -> None:
    site.script = [changes(("room1/sp", 23.0)), StatusChanged(point_id="room1/sp", flags=("overridden",), ts=NOW)]
    r = client.get("/api/stream")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    assert r.text.startswith(": connected\n\n")
    assert events_of(r.text) == site.script
    assert site.feeds == [] and site.closed_feeds == 1  # the feed is given back


@pytest.mark.parametrize(("query", "expected"), [
    ("points=room1/sp", ["room1/sp"]),
    ("points=room1/sp,room1/temp", ["room1/temp", "room1/sp"]),
    ("tags=sensor", ["room1/temp"]),
    ("tags=temp,point", ["room1/temp", "room1/sp"]),
    ("points=room1/sp&tags=sensor", ["room1/temp", "room1/sp"]),
    ("", ["room1/temp", "room1/sp", "other/x"]),
])
def test_stream_filters_by_points_and_tags(client: Client, site: FakeSite, query: str, expected: list[str]) -> None:
    site.script = [changes(("room1/temp", 21.7), ("room1/sp", 23.0), ("other/x", 1.0))]
    (event,) = events_of(client.get(f"/api/stream?{query}").text)
    assert isinstance(event, ValueChanged)
    assert [v.point_id for v in event.values] == expected


def test_status_changes_are_filtered_too(client: Client, site: FakeSite) -> None:
    site.script = [StatusChanged(point_id="room1/temp", flags=("stale",), ts=NOW),
                   StatusChanged(point_id="room1/sp", flags=(), ts=NOW)]
    assert events_of(client.get("/api/stream?points=room1/sp").text) == [site.script[1]]


def test_a_stream_for_a_scan_carries_its_progress_and_no_point(client: Client, site: FakeSite) -> None:
    mine = DiscoveryProgress(scan="s1", network="lan", task="device 7", done=2, total=5, ts=NOW, devices=3, objects=1)
    other = DiscoveryProgress(scan="s2", network="lan", task="who-is", done=1, total=1, ts=NOW)
    site.script = [changes(("room1/sp", 23.0)), mine, other]
    assert events_of(client.get("/api/stream?scan=s1").text) == [mine]
    both = events_of(client.get("/api/stream?scan=s1&points=room1/sp").text)
    assert both == [changes(("room1/sp", 23.0)), mine]
    assert client.get("/api/stream?scan=no%20spaces").status_code == 400


def test_tags_matching_no_point_is_404(client: Client) -> None:
    r = client.get("/api/stream?tags=nothing")
    assert (r.status_code, r.json()) == (404, {"error": "no point carries the tags nothing"})


@pytest.mark.parametrize(("query", "error"), [
    ("points=nope/x", "unknown point 'nope/x'"),
    ("points=room1/sp,nope/x", "unknown point 'nope/x'"),
    ("points=nope/x,room1/sp,gone/y,nope/x", "unknown points 'nope/x', 'gone/y'"),
    ("points=nope/x&tags=sensor", "unknown point 'nope/x'"),
])
def test_a_point_that_does_not_exist_is_404_not_an_empty_stream(client: Client, site: FakeSite, query: str,
                                                                error: str) -> None:
    r = client.get(f"/api/stream?{query}")
    assert (r.status_code, r.json()) == (404, {"error": error})
    assert site.feeds == [] and site.closed_feeds == 0  # no feed was opened


def test_points_asked_for_while_the_points_service_is_down_is_503(client: Client, site: FakeSite) -> None:
    site.down.add("points")
    r = client.get("/api/stream?points=room1/sp")
    assert (r.status_code, r.json()) == (503, {"error": "the points service is not running"})


def test_stream_down_is_503(client: Client, site: FakeSite) -> None:
    site.down.add("stream")
    r = client.get("/api/stream")
    assert (r.status_code, r.json()) == (503, {"error": "the stream service is not running"})


def test_keepalive_comment_when_idle(client: Client, site: FakeSite) -> None:
    site.hold_open = True

    async def close_later(feed: EventFeed) -> None:
        await asyncio.sleep(0.1)  # five keep-alive periods of the app under test
        feed.close()

    opened = site.open_feed

    async def open_and_schedule_close(points: frozenset[str] | None) -> EventFeed:
        feed = await opened(points)
        asyncio.get_running_loop().create_task(close_later(feed))
        return feed

    site.open_feed = open_and_schedule_close  # type: ignore[method-assign]
    body = client.get("/api/stream").text
    assert body.startswith(": connected\n\n")
    assert body.count(": keep-alive\n\n") >= 2


@pytest.mark.parametrize(("text", "items"), [
    (None, []), ("", []), ("a/b", ["a/b"]), (" a/b , c/d ,", ["a/b", "c/d"]), (",,", []),
])
def test_split_list(text: str | None, items: list[str]) -> None:
    assert split_list(text) == items
