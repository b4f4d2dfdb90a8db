"""The hash chain: each row's hash is SHA-256 of the previous row's hash and the row's canonical content.

The canonical content is the JSON array of the row's fields in a fixed
order (msgspec, compact, UTF-8), so the same row hashes the same anywhere.
An edited row no longer matches its hash; a deleted or inserted row breaks
the link of the row after it (and the sequence numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from bms.audit.messages import AuditEntry

GENESIS = "0" * 64
_encode = msgspec.json.Encoder().encode

Columns = tuple[int, float, str, str, str, str, str, str, str, str, str]
"""seq, at, user, token, origin, action, target, before, after, outcome, detail: the hashed content."""


def columns(seq: int, entry: AuditEntry) -> Columns:
    return (seq, entry.at, entry.user, entry.token, entry.origin, entry.action, entry.target, entry.before,
            entry.after, entry.outcome, entry.detail)


def link(prev: str, content: Columns | tuple[Any, ...]) -> str:
    """The hash of a row whose content is ``content`` following a row hashed ``prev``."""
    return hashlib.sha256(prev.encode() + _encode(content)).hexdigest()


def first_break(rows: Iterable[tuple[Any, ...]]) -> tuple[int, int | None, str]:
    """Walk rows ``(*Columns, prev, hash)`` in sequence order: (rows read, first broken seq or None, why)."""
    expected_prev, expected_seq, count = GENESIS, None, 0
    sha = hashlib.sha256
    for row in rows:
        count += 1
        content, prev, digest = row[:11], row[11], row[12]
        seq = content[0]
        if expected_seq is not None and seq != expected_seq:
            return count, seq, (f"row {seq} follows row {expected_seq - 1}: "
                                f"{'rows are missing' if seq > expected_seq else 'the order is broken'} before it")
        if prev != expected_prev:
            return count, seq, f"row {seq} does not link to the row before it (a row was deleted, inserted or replaced)"
        if sha(prev.encode() + _encode(content)).hexdigest() != digest:
            return count, seq, f"row {seq} does not match its hash (it was edited)"
        expected_prev, expected_seq = digest, seq + 1
    return count, None, ""
