"""Retention: each tier pruned at its own aligned cutoff, in bounded chunks."""

from __future__ import annotations

from pathlib import Path

from bms.clock import ManualClock
from bms.config._schema import RetentionSection
from bms.history import HistoryReader, HistoryWriter, PointSummary, PruneReport
from tests.bms.history.conftest import T0, pv

DAY = 86400.0
RETENTION = RetentionSection(raw_days=2, rollup_15m_days=4, rollup_1h_days=6, rollup_1d_days=8)
NOW = T0 + 10 * DAY + 1234  # not on a boundary: cutoffs are aligned down


def fill(writer: HistoryWriter, points: tuple[str, ...] = ("p/a",)) -> None:
    """A sample every 15 minutes for 10 days from T0 (960 per point)."""
    for point in points:
        writer.append(pv(point, float(i % 96), T0 + 900 * i) for i in range(960))


def firsts(reader: HistoryReader, point_id: str) -> dict[str, float]:
    out = {"raw": reader.raw(point_id, 0, 4e9, limit=1)[0].ts}
    for tier in ("15m", "1h", "1d"):
        out[tier] = reader.rollup(point_id, 0, 4e9, tier, limit=1).buckets[0].ts
    return out


def test_each_tier_keeps_its_own_days(db: Path) -> None:
    with HistoryWriter(db, RETENTION, ManualClock(T0)) as w:
        fill(w)
        report = w.prune(NOW)
    # cutoffs: raw at NOW - 2 days down to the quarter (T0 + 8 days + 900), 15m to the hour, 1h and 1d to the day
    assert report == PruneReport(samples=8 * 96 + 1, buckets_15m=6 * 96, buckets_1h=4 * 24, buckets_1d=2, done=True)
    with HistoryReader(db) as r:
        assert firsts(r, "p/a") == {"raw": T0 + 8 * DAY + 900, "15m": T0 + 6 * DAY, "1h": T0 + 4 * DAY, "1d": T0 + 2 * DAY}
        assert r.points() == [PointSummary("p/a", 2 * 96 - 1, T0 + 8 * DAY + 900, T0 + 10 * DAY - 900)]
    with HistoryWriter(db, RETENTION) as w:
        assert w.prune(NOW) == PruneReport(0, 0, 0, 0, done=True)  # nothing left to do


def test_prune_goes_in_chunks_within_a_budget(db: Path, tmp_path: Path) -> None:
    with HistoryWriter(db, RETENTION) as w:
        fill(w, ("p/a", "p/b"))
        steps = []
        while True:
            report = w.prune(NOW, chunk=100, budget=1)
            steps.append(report)
            if report.done:
                break
        assert all(sum((s.samples, s.buckets_15m, s.buckets_1h, s.buckets_1d)) <= 100 for s in steps)
        assert sum(s.samples for s in steps) == 2 * (8 * 96 + 1) and len(steps) > 10
    with HistoryWriter(tmp_path / "once.db", RETENTION) as once:
        fill(once, ("p/a", "p/b"))
        once.prune(NOW)
    with HistoryReader(db) as chunked, HistoryReader(tmp_path / "once.db") as whole:
        assert chunked.points() == whole.points()
        for point in ("p/a", "p/b"):
            assert firsts(chunked, point) == firsts(whole, point)
            for tier in ("15m", "1h", "1d"):
                assert chunked.rollup(point, 0, 4e9, tier) == whole.rollup(point, 0, 4e9, tier)


def test_a_coarser_tier_is_kept_at_least_as_long_as_a_finer_one(db: Path) -> None:
    short = RetentionSection(raw_days=10, rollup_15m_days=1, rollup_1h_days=1, rollup_1d_days=1)
    with HistoryWriter(db, short, ManualClock(T0 + 10 * DAY)) as w:
        fill(w)
        assert w.prune() == PruneReport(0, 0, 0, 0, done=True)  # the clock's now


def test_pruning_everything_empties_the_point_summary(db: Path) -> None:
    with HistoryWriter(db, RETENTION) as w:
        fill(w)
        w.prune(T0 + 100 * DAY)
        with HistoryReader(db) as r:
            assert r.points() == [PointSummary("p/a", 0, None, None)]
            w.append([pv("p/a", 1.0, T0 + 100 * DAY)])
            assert r.points() == [PointSummary("p/a", 1, T0 + 100 * DAY, T0 + 100 * DAY)]


def test_samples_behind_the_horizon_add_to_their_buckets(db: Path) -> None:
    with HistoryWriter(db, RETENTION) as w:
        fill(w)
        w.prune(NOW)
        # raw of day 7 is gone, its 15-minute buckets are kept: a backfilled sample adds to them
        w.append([pv("p/a", 1000.0, T0 + 7 * DAY + 60)])
        # a late sample after the horizon still rebuilds exactly (replaces the value at T0 + 9 days)
        w.append([pv("p/a", -1.0, T0 + 9 * DAY)])
    with HistoryReader(db) as r:
        (old,) = r.rollup("p/a", T0 + 7 * DAY, T0 + 7 * DAY + 900, "15m").buckets
        assert (old.min, old.max, old.count, old.last) == (0.0, 1000.0, 2, 1000.0)
        (recent,) = r.rollup("p/a", T0 + 9 * DAY, T0 + 9 * DAY + 900, "15m").buckets
        assert (recent.min, recent.max, recent.count) == (-1.0, -1.0, 1)
