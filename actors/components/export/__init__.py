"""``export``: the status board of the time-series export targets, ``/api/export`` and ``bms export``.

The targets themselves are the ``influx`` and ``postgres`` components (one
``export:NAME`` actor each, :mod:`._target`); they share this package's
outbox sender (:mod:`._sender`) and sinks (:mod:`._influx`, :mod:`._postgres`).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.export import EXPORT_MESSAGES


def _api(services: Any) -> Any:
    from actors.components.export._api import ServicesExport, export_router

    return export_router(ServicesExport(services))


def _commands() -> list[Any]:
    from actors.components.export._cli import export_group

    return [export_group]


COMPONENT = Component(
    name="export",
    children=lazy("actors.components.export._board", "board_component"),
    messages=EXPORT_MESSAGES,
    api=_api,
    commands=_commands,
    description="status of the time-series export targets (influx, postgres): buffers, rates, backfills",
)

__getattr__ = lazy_exports(__name__, {"ExportTarget": "._target", "ExportBoard": "._board", "Sender": "._sender",
                                      "InfluxSink": "._influx", "PostgresSink": "._postgres",
                                      "make_sink": "._targets"})
__all__ = ["COMPONENT", "ExportBoard", "ExportTarget", "InfluxSink", "PostgresSink", "Sender", "make_sink"]
