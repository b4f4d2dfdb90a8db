"""The PostgreSQL sink: psycopg 3, COPY into the samples table; TimescaleDB hypertable when available.

Tables (in the target's schema)::

    <table>         time timestamptz, point_id text, value double precision, state text,
                    PRIMARY KEY (point_id, time)      -- a hypertable on time with TimescaleDB
    <table>_points  point_id text PRIMARY KEY, site, equip, name, unit text, markers text[]

Live rows go by COPY straight into the table (the fast path). A batch that
hits the primary key (sent again after a crash between the write and the
outbox's ack) and every backfill batch go through a temporary staging table:
COPY into it, then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, so
nothing is ever duplicated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from actors.components.export._sink import SinkError
from bms.export import ExportRow, PostgresTarget, SeriesTags, TagMap
from bms.messages import PointValue

UTC = dt.UTC


def _row(r: ExportRow | PointValue) -> tuple[Any, ...]:
    value, state = r.value, None
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    elif isinstance(value, (int, float)):
        value = float(value)
    elif value is not None:
        value, state = None, str(value)
    return dt.datetime.fromtimestamp(r.ts, UTC), r.point_id, value, state


class PostgresSink:
    """Writes to one PostgreSQL database."""

    def __init__(self, target: PostgresTarget, tags: TagMap) -> None:
        self.target = target
        self.tags = tags
        self.conn: psycopg.Connection[Any] | None = None
        self.known: set[str] = set()  # points whose tags are in the points table
        self.table = sql.Identifier(target.schema, target.table)
        self.points = sql.Identifier(target.schema, target.table + "_points")

    # ------------------------------------------------------------ connection
    def _connect(self) -> psycopg.Connection[Any]:
        if self.conn is not None and not self.conn.closed:
            return self.conn
        try:
            conn = psycopg.connect(self.target.dsn, connect_timeout=max(1, int(self.target.timeout)), autocommit=True)
        except psycopg.Error as err:
            raise SinkError(_reason(err)) from err
        try:
            self._create(conn)
        except psycopg.Error as err:
            conn.close()
            raise SinkError(_reason(err)) from err
        self.conn = conn
        self.known.clear()
        return conn

    def _create(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.target.schema)))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (time timestamptz NOT NULL, point_id text NOT NULL,"
                " value double precision, state text, PRIMARY KEY (point_id, time))").format(self.table))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (point_id text PRIMARY KEY, site text, equip text, name text,"
                " unit text, markers text[])").format(self.points))
        if self.target.hypertable and self._timescale(conn):
            with conn.transaction():
                conn.execute("SELECT create_hypertable(%s, 'time', if_not_exists => TRUE, migrate_data => TRUE)",
                             (f"{self.target.schema}.{self.target.table}",))

    @staticmethod
    def _timescale(conn: psycopg.Connection[Any]) -> bool:
        found = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        return found is not None

    # ---------------------------------------------------------------- writes
    def write(self, rows: Sequence[ExportRow | PointValue]) -> None:
        conn = self._connect()
        try:
            self._tag(conn, rows)
            try:
                statement = sql.SQL("COPY {} (time, point_id, value, state) FROM STDIN").format(self.table)
                with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
                    for r in rows:
                        copy.write_row(_row(r))
            except psycopg.errors.UniqueViolation:
                self._merge(conn, rows)  # sent before (a crash between write and ack): keep what is there
        except psycopg.Error as err:
            self._drop(conn)
            raise SinkError(_reason(err)) from err

    def backfill(self, rows: Sequence[ExportRow]) -> None:
        conn = self._connect()
        try:
            self._tag(conn, rows)
            self._merge(conn, rows)
        except psycopg.Error as err:
            self._drop(conn)
            raise SinkError(_reason(err)) from err

    def _merge(self, conn: psycopg.Connection[Any], rows: Sequence[ExportRow | PointValue]) -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bms_staging (time timestamptz, point_id text,"
                        " value double precision, state text) ON COMMIT DELETE ROWS")
            with cur.copy("COPY bms_staging (time, point_id, value, state) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(_row(r))
            cur.execute(sql.SQL("INSERT INTO {} (time, point_id, value, state)"
                                " SELECT DISTINCT ON (point_id, time) time, point_id, value, state FROM bms_staging"
                                " ON CONFLICT (point_id, time) DO NOTHING").format(self.table))

    def _tag(self, conn: psycopg.Connection[Any], rows: Sequence[ExportRow | PointValue]) -> None:
        new = {r.point_id for r in rows} - self.known
        if not new:
            return
        tags = [self.tags(p) for p in sorted(new)]
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(sql.SQL(
                "INSERT INTO {} (point_id, site, equip, name, unit, markers) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (point_id) DO UPDATE SET site = EXCLUDED.site, equip = EXCLUDED.equip,"
                " name = EXCLUDED.name, unit = EXCLUDED.unit, markers = EXCLUDED.markers").format(self.points),
                [_tag_row(t) for t in tags])
        self.known |= new

    def retag(self, tags: TagMap) -> None:
        self.tags = tags
        self.known.clear()

    def _drop(self, conn: psycopg.Connection[Any]) -> None:
        try:
            conn.close()
        except Exception:
            pass
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            self._drop(self.conn)


def _tag_row(t: SeriesTags) -> tuple[Any, ...]:
    return t.point, t.site or None, t.equip or None, t.name or None, t.unit or None, list(t.markers)


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200] if text else ''}"
