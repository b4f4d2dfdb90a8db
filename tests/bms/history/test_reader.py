"""HistoryReader: ranges, limits, last N, points, automatic tier and CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.config._schema import RetentionSection
from bms.history import HistoryReader, HistoryWriter, RawSample, Tier, _query, choose_tier
from tests.bms.history.conftest import T0, pv

DAY = 86400.0


def test_ranges_are_half_open_and_limited(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", float(i), T0 + 60 * i) for i in range(10))
    assert [s.ts for s in reader.raw("p/a", T0 + 60, T0 + 240)] == [T0 + 60, T0 + 120, T0 + 180]
    assert [s.value for s in reader.raw("p/a", T0, T0 + 600, limit=2)] == [0.0, 1.0]
    assert reader.raw("p/a", T0, T0 + 600, limit=0) == []
    assert reader.raw("nobody/home", T0, T0 + 600) == []


def test_a_rollup_returns_the_buckets_overlapping_the_range(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", float(i), T0 + 60 * i) for i in range(60))
    series = reader.rollup("p/a", T0 + 1000, T0 + 2700, "15m")
    assert series.tier == "15m" and series.samples == ()
    assert [b.ts for b in series.buckets] == [T0 + 900, T0 + 1800]  # 900 holds 1000; 2700 is excluded
    assert reader.rollup("p/a", T0, T0 + 3600, "15m", limit=1).buckets[0].ts == T0


def test_last_n_is_oldest_first(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", float(i), T0 + i) for i in range(10))
    writer.append([pv("p/a", "late", T0 - 5)])
    assert reader.last("p/a", 3) == [RawSample(T0 + 7, 7.0), RawSample(T0 + 8, 8.0), RawSample(T0 + 9, 9.0)]
    assert reader.last("p/a") == [RawSample(T0 + 9, 9.0)]
    assert len(reader.last("p/a", 100)) == 11 and reader.last("p/a", 100)[0].value == "late"
    assert reader.last("nobody/home", 3) == []


def test_points_lists_each_recorded_point(writer: HistoryWriter, reader: HistoryReader) -> None:
    assert reader.points() == []
    writer.append([pv("vav2/flow", 1.0, T0 + 10), pv("ahu1/sat", 2.0, T0), pv("vav2/flow", 3.0, T0 + 20)])
    assert [(p.point_id, p.count, p.first_ts, p.last_ts) for p in reader.points()] == [
        ("ahu1/sat", 1, T0, T0), ("vav2/flow", 2, T0 + 10, T0 + 20)]


@pytest.mark.parametrize(("days", "tier"), [
    (0.5, "raw"), (2, "raw"), (2.01, "15m"), (60, "15m"), (61, "1h"), (730, "1h"), (731, "1d"), (3650, "1d"),
])
def test_the_automatic_tier_follows_the_span(days: float, tier: Tier) -> None:
    assert choose_tier(T0, T0 + days * DAY) == tier


def test_the_reader_picks_the_tier_by_span(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", float(i), T0 - 5 * DAY + 3600 * i) for i in range(24 * 5))
    for days, tier in [(1, "raw"), (10, "15m"), (100, "1h"), (1000, "1d")]:
        series = reader.rollup("p/a", T0 - days * DAY, T0)
        assert series.tier == tier
        assert len(series.samples if tier == "raw" else series.buckets) > 0


def test_the_automatic_tier_skips_a_tier_already_pruned(db: Path) -> None:
    retention = RetentionSection(raw_days=2, rollup_15m_days=400)
    with HistoryWriter(db, retention, ManualClock(T0 + 10 * DAY)) as w:
        w.append(pv("p/a", float(i), T0 + 900 * i) for i in range(96 * 10))
        w.append(pv("p/text", "on" if i % 2 else "off", T0 + 3600 * i) for i in range(24 * 10))
        w.prune()
    with HistoryReader(db) as r:
        old_day = r.rollup("p/a", T0 + DAY, T0 + 2 * DAY)
        assert old_day.tier == "15m" and len(old_day.buckets) == 96  # raw of that day is gone
        assert r.rollup("p/a", T0 + 9 * DAY, T0 + 10 * DAY).tier == "raw"  # still kept
        assert r.rollup("p/text", T0 + 9 * DAY, T0 + 10 * DAY).tier == "raw"
        assert r.rollup("p/text", T0 - 20 * DAY, T0 + 10 * DAY).tier == "raw"  # text has no rollups


def test_an_unknown_tier_is_refused(reader: HistoryReader) -> None:
    with pytest.raises(ValueError, match="unknown history tier '5m'"):
        reader.rollup("p/a", T0, T0 + 60, "5m")  # type: ignore[arg-type]


def test_csv_of_raw_samples(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 1.5, T0), pv("p/a", 7, T0 + 60), pv("p/a", 'say "a,b"', T0 + 120.25),
                   pv("p/a", None, T0 + 180), pv("p/a", True, T0 + 240)])
    assert "".join(reader.csv("p/a", T0, T0 + 3600, "raw")) == (
        "time,ts,value\n"
        "2023-11-15T00:00:00.000Z,1700006400.0,1.5\n"
        "2023-11-15T00:01:00.000Z,1700006460.0,7\n"
        '2023-11-15T00:02:00.250Z,1700006520.25,"say ""a,b"""\n'
        "2023-11-15T00:03:00.000Z,1700006580.0,\n"
        "2023-11-15T00:04:00.000Z,1700006640.0,1\n"
    )
    assert list(reader.csv("p/a", T0, T0 + 3600)) == list(reader.csv("p/a", T0, T0 + 3600, "raw"))  # auto: raw


def test_csv_of_a_rollup(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", float(i), T0 + 600 * i) for i in range(12))
    assert "".join(reader.csv("p/a", T0, T0 + 7200, "1h")) == (
        "time,ts,avg,min,max,last,count\n"
        "2023-11-15T00:00:00.000Z,1700006400.0,2.5,0.0,5.0,5.0,6\n"
        "2023-11-15T01:00:00.000Z,1700010000.0,8.5,6.0,11.0,11.0,6\n"
    )
    assert list(reader.csv("nobody/home", T0, T0 + 7200, "1h")) == ["time,ts,avg,min,max,last,count\n"]


def test_csv_streams_page_by_page(writer: HistoryWriter, reader: HistoryReader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_query, "PAGE", 4)
    writer.append(pv("p/a", float(i), T0 + 300 * i) for i in range(30))
    raw = list(reader.csv("p/a", T0, T0 + 9000, "raw"))
    assert len(raw) == 1 + 30 and raw[-1].startswith("2023-11-15T02:25:00.000Z,")
    quarters = list(reader.csv("p/a", T0, T0 + 9000, "15m"))
    assert [line.split(",")[6] for line in quarters[1:]] == ["3\n"] * 10
