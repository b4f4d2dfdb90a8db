"""The history store: recorded point values and their rollups in history.db.

* :class:`HistoryWriter` -- the only writer: ``append`` a batch in one
  transaction (committed on return; last write wins per point and ts), with
  the 15-minute, hourly and daily rollups (min, max, avg, last, count) kept
  exactly in the same transaction; ``prune`` per tier retention in short
  transactions.
* :class:`HistoryReader` / :class:`AsyncHistoryReader` -- queries on a
  separate read connection (blocking, or asyncio through aiosqlite): ``raw``,
  ``rollup`` (``tier=None`` chooses by span: raw up to 2 days, 15m up to 60
  days, 1h up to 2 years, else 1d), ``last``, ``points``, ``csv``.
* :class:`IntervalLogger` -- which points are due an interval sample on a tick.
* :class:`Recorder` -- the writer with a :class:`Backlog`: what cannot be written
  during an outage is held (bounded, losses counted) and written once it ends.

Numbers are recorded and rolled up (bools as 0/1), text values recorded
only. Plain classes, no threads: the history actor owns the writer.
The schema is described in :mod:`bms.history._schema`.
"""

from bms.history._aio import AsyncHistoryReader
from bms.history._backlog import Backlog
from bms.history._interval import IntervalLogger
from bms.history._prune import PruneReport
from bms.history._reader import HistoryReader
from bms.history._recorder import Outage, Recorder, Recovery
from bms.history._schema import TIERS, RollupTier, Tier
from bms.history._series import AUTO_SPAN, Bucket, PointSummary, RawSample, Series, choose_tier
from bms.history._writer import HistoryWriter

__all__ = [
    "AUTO_SPAN",
    "TIERS",
    "AsyncHistoryReader",
    "Backlog",
    "Bucket",
    "HistoryReader",
    "HistoryWriter",
    "IntervalLogger",
    "Outage",
    "PointSummary",
    "PruneReport",
    "RawSample",
    "Recorder",
    "Recovery",
    "RollupTier",
    "Series",
    "Tier",
    "choose_tier",
]
