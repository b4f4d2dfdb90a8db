"""history.db: tables, tiers and bucket arithmetic.

Layout (schema version 1)::

    points      id INTEGER PRIMARY KEY, point_id TEXT UNIQUE,
                count, first_ts, last_ts   -- raw rows kept now
                since                      -- earliest ts ever appended
    samples     (point, ts) WITHOUT ROWID: value
    rollup_15m  (point, bucket) WITHOUT ROWID:
    rollup_1h       vmin, vmax, vsum, n, vlast, last_ts
    rollup_1d
    horizons    tier -> cutoff of the last prune (older rows are gone)

Point ids are mapped to small integers: a sample row is about half the size
of one keyed by the text id, and inserts and range scans are faster.

``samples.value`` has no declared type on purpose: SQLite then stores each
value as it comes, an ``int`` as INTEGER (a multi-state value reads back as
``2``, not ``2.0``), a ``float`` as REAL, a text value (a state name) as
TEXT, and "no value" as NULL. Booleans are stored as 0/1. Rollups take the
numbers only. (A separate text column was measured: binding it on every row
made inserts about 30% slower, for values that are nearly always numbers.)

A bucket is named by its start (epoch seconds, UTC); days are UTC days.
``vsum`` and ``n`` are kept instead of the average so that merging buckets
is exact; ``vlast`` is the value at ``last_ts``, the bucket's greatest ts.
"""

from __future__ import annotations

from typing import Final, Literal

Tier = Literal["raw", "15m", "1h", "1d"]
"""A resolution: raw samples or one of the rollup tiers."""

RollupTier = Literal["15m", "1h", "1d"]

STORE: Final = "history"

#: Rollup tiers, finest first, with their bucket width in seconds.
TIERS: Final[tuple[RollupTier, ...]] = ("15m", "1h", "1d")
WIDTH: Final[dict[RollupTier, int]] = {"15m": 900, "1h": 3600, "1d": 86400}
TABLE: Final[dict[Tier, str]] = {"raw": "samples", "15m": "rollup_15m", "1h": "rollup_1h", "1d": "rollup_1d"}


def _rollup_table(name: str) -> str:
    return (
        f"CREATE TABLE {name} ("
        " point INTEGER NOT NULL,"
        " bucket REAL NOT NULL,"
        " vmin REAL NOT NULL,"
        " vmax REAL NOT NULL,"
        " vsum REAL NOT NULL,"
        " n INTEGER NOT NULL,"
        " vlast REAL NOT NULL,"
        " last_ts REAL NOT NULL,"
        " PRIMARY KEY (point, bucket)"
        ") WITHOUT ROWID"
    )


MIGRATIONS: Final[list[str]] = [
    ";".join(
        [
            "CREATE TABLE points ("
            " id INTEGER PRIMARY KEY,"
            " point_id TEXT NOT NULL UNIQUE,"
            " count INTEGER NOT NULL DEFAULT 0,"
            " first_ts REAL,"
            " last_ts REAL,"
            " since REAL)",
            "CREATE TABLE samples ("
            " point INTEGER NOT NULL,"
            " ts REAL NOT NULL,"
            " value,"
            " PRIMARY KEY (point, ts)"
            ") WITHOUT ROWID",
            *(_rollup_table(TABLE[tier]) for tier in TIERS),
            "CREATE TABLE horizons (tier TEXT PRIMARY KEY, cutoff REAL NOT NULL)",
        ]
    )
]
"""``MIGRATIONS[i]`` takes history.db from schema version ``i`` to ``i + 1``."""

VERSION: Final = len(MIGRATIONS)


def bucket_start(ts: float, width: int) -> float:
    """Start of the ``width``-second bucket holding ``ts`` (UTC-aligned)."""
    return ts - ts % width


def parent_width(tier: Tier) -> int:
    """Width the prune cutoff of ``tier`` is aligned to (its parent bucket).

    Pruning whole parent buckets keeps every bucket of the next tier either
    complete or absent in the finer one, so it can be recomputed exactly.
    """
    return {"raw": 900, "15m": 3600, "1h": 86400, "1d": 86400}[tier]
