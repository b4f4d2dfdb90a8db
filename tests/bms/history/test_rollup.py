"""Rollups: exact min/max/avg/last/count across bucket edges, whatever the arrival order."""

from __future__ import annotations

import random

import pytest

from bms.history import Bucket, HistoryReader, HistoryWriter
from bms.messages import Value
from tests.bms.history.conftest import T0, assert_rollups_match, pv


def test_known_series_across_bucket_boundaries(writer: HistoryWriter, reader: HistoryReader) -> None:
    # one sample a minute for 2 hours from 23:00, value = minute index: crosses quarters, hours and a day
    start = T0 - 3600
    writer.append(pv("ahu1/sat", float(m), start + 60 * m) for m in range(120))

    quarters = reader.rollup("ahu1/sat", start, start + 7200, "15m").buckets
    assert len(quarters) == 8
    assert quarters[0] == Bucket(ts=start, min=0.0, max=14.0, avg=7.0, last=14.0, count=15)
    assert quarters[4] == Bucket(ts=T0, min=60.0, max=74.0, avg=67.0, last=74.0, count=15)

    hours = reader.rollup("ahu1/sat", start, start + 7200, "1h").buckets
    assert hours == (Bucket(ts=start, min=0.0, max=59.0, avg=29.5, last=59.0, count=60),
                     Bucket(ts=T0, min=60.0, max=119.0, avg=89.5, last=119.0, count=60))

    days = reader.rollup("ahu1/sat", start, start + 7200, "1d").buckets
    assert days == (Bucket(ts=T0 - 86400, min=0.0, max=59.0, avg=29.5, last=59.0, count=60),
                    Bucket(ts=T0, min=60.0, max=119.0, avg=89.5, last=119.0, count=60))


def test_a_sample_on_a_boundary_opens_the_next_bucket(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 1.0, T0 + 899.999), pv("p/a", 2.0, T0 + 900.0)])
    assert [(b.ts, b.count) for b in reader.rollup("p/a", T0, T0 + 1800, "15m").buckets] == [(T0, 1), (T0 + 900, 1)]


def test_last_is_the_value_at_the_greatest_ts_not_the_last_written(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 5.0, T0 + 300)])
    writer.append([pv("p/a", 9.0, T0 + 100)])  # older, written later
    (bucket,) = reader.rollup("p/a", T0, T0 + 900, "15m").buckets
    assert bucket == Bucket(ts=T0, min=5.0, max=9.0, avg=7.0, last=5.0, count=2)


def test_a_replaced_extreme_is_recomputed(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("p/a", v, T0 + 60 * i) for i, v in enumerate([3.0, 100.0, 4.0, -50.0]))
    writer.append([pv("p/a", 5.0, T0 + 60), pv("p/a", 6.0, T0 + 180)])  # the max and the min replaced
    (bucket,) = reader.rollup("p/a", T0, T0 + 900, "15m").buckets
    assert bucket == Bucket(ts=T0, min=3.0, max=6.0, avg=4.5, last=6.0, count=4)


def test_a_number_replaced_by_text_leaves_the_rollups(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 1.0, T0), pv("p/a", 2.0, T0 + 3600)])
    writer.append([pv("p/a", "fault", T0)])
    assert [b.ts for b in reader.rollup("p/a", T0, T0 + 7200, "15m").buckets] == [T0 + 3600]
    assert [(b.ts, b.count) for b in reader.rollup("p/a", T0, T0 + 7200, "1d").buckets] == [(T0, 1)]


def test_a_bool_averages_to_the_fraction_on(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append(pv("ahu1/fan", i % 4 != 0, T0 + 60 * i) for i in range(60))
    (hour,) = reader.rollup("ahu1/fan", T0, T0 + 3600, "1h").buckets
    assert (hour.min, hour.max, hour.avg, hour.last, hour.count) == (0.0, 1.0, 0.75, 1.0, 60)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_order_and_duplicate_batches_give_exact_rollups(writer: HistoryWriter, reader: HistoryReader,
                                                              seed: int) -> None:
    rng = random.Random(seed)
    final: dict[str, dict[float, Value]] = {"p/a": {}, "p/b": {}}
    sent = []
    for _ in range(3000):
        point = rng.choice(["p/a", "p/b"])
        ts = T0 - 86400 + rng.randrange(0, 3 * 86400, 30)  # 3 days, 30 s grid: many duplicates
        roll = rng.random()
        value: Value = round(rng.uniform(-20, 40), 3) if roll < 0.85 else rng.randrange(10) if roll < 0.93 else \
            rng.choice(["on", "off", None, True])
        sent.append(pv(point, value, ts))
        final[point][ts] = value  # last write wins
    # in order for a while, then shuffled batches (late samples, replacements, in-batch duplicates)
    head, tail = sent[:1000], sent[1000:]
    head.sort(key=lambda v: v.ts)
    for i in range(0, len(head), 250):
        writer.append(head[i:i + 250])
    for i in range(0, len(tail), 400):
        writer.append(tail[i:i + 400])

    for point, series in final.items():
        stored = {s.ts: s.value for s in reader.raw(point, 0, 4e9)}
        assert stored == {ts: int(v) if isinstance(v, bool) else v for ts, v in series.items()}
        assert_rollups_match(reader, point, series)
    counts = {p.point_id: p.count for p in reader.points()}
    assert counts == {point: len(series) for point, series in final.items()}
