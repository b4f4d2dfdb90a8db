"""nodes.db: the building model, normalised into one table per part of a node.

``nodes`` holds the hierarchy (``parent`` references another node, ``seq``
the order nodes were created in); ``tags`` holds markers (``value`` NULL)
and value tags (``value`` JSON); ``refs``, ``properties``, ``capabilities``
and ``bindings`` hold the rest. Deleting a node row cascades to its parts;
deleting a node that still has children is refused by the database too
(checked at the end of each statement, so one statement may delete a subtree).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def _owner() -> sa.Column[str]:
    return sa.Column("node_id", sa.Text, sa.ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False)


nodes = sa.Table(
    "nodes", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent", sa.Text, sa.ForeignKey("nodes.id"), nullable=True, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

tags = sa.Table(
    "tags", metadata,
    _owner(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=True),  # JSON; NULL for a marker
    sa.PrimaryKeyConstraint("node_id", "name"),
    sa.Index("tags_by_name", "name", "node_id"),
    sqlite_with_rowid=False,
)

refs = sa.Table(
    "refs", metadata,
    _owner(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("node_id", "name"),
    sqlite_with_rowid=False,
)

properties = sa.Table(
    "properties", metadata,
    _owner(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),  # JSON
    sa.PrimaryKeyConstraint("node_id", "name"),
    sqlite_with_rowid=False,
)

capabilities = sa.Table(
    "capabilities", metadata,
    sa.Column("node_id", sa.Text, sa.ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("readable", sa.Boolean, nullable=False),
    sa.Column("writable", sa.Boolean, nullable=False),
    sa.Column("historizable", sa.Boolean, nullable=False),
    sa.Column("alarmable", sa.Boolean, nullable=False),
    sa.Column("schedulable", sa.Boolean, nullable=False),
    sqlite_with_rowid=False,
)

bindings = sa.Table(
    "bindings", metadata,
    sa.Column("node_id", sa.Text, sa.ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("protocol", sa.Text, nullable=False),
    sa.Column("device", sa.Text, nullable=False, index=True),
    sa.Column("config", sa.Text, nullable=False),  # JSON of the protocol's binding
    sqlite_with_rowid=False,
)

PARTS = (tags, refs, properties, capabilities, bindings)
"""The tables holding parts of a node, keyed by ``node_id``."""


def create(conn: sa.Connection) -> None:
    """Migration 1: the tables above."""
    metadata.create_all(conn)


SUBTREE = sa.text(
    "WITH RECURSIVE below(id, depth) AS ("
    " SELECT id, 0 FROM nodes WHERE id = :root"
    " UNION ALL"
    " SELECT n.id, below.depth + 1 FROM nodes AS n JOIN below ON n.parent = below.id"
    ") SELECT below.id, below.depth FROM below JOIN nodes USING (id) ORDER BY below.depth, nodes.seq"
)
"""A node and everything below it, with its depth, shallowest first (a recursive CTE)."""
