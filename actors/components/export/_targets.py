"""The child specs of the ``influx`` and ``postgres`` components: one ``export:NAME`` actor per target."""

from __future__ import annotations

from typing import Any

from actors._supervisor import ChildSpec
from actors.components.export._sink import Sink
from actors.components.export._target import ExportTarget
from bms.errors import ConfigError
from bms.export import InfluxSection, PostgresSection, TagMap
from bms.supervision import RestartPolicy


def make_sink(kind: str, target: Any, tags: TagMap) -> Sink:
    """A sink for a target of ``kind`` (the drivers load only when a target of theirs exists)."""
    if kind == "influx":
        from actors.components.export._influx import InfluxSink

        return InfluxSink(target, tags)
    from actors.components.export._postgres import PostgresSink

    return PostgresSink(target, tags)


def _specs(platform: Any, kind: str, section: InfluxSection | PostgresSection) -> list[ChildSpec]:
    site = platform.site.scenario.site.id
    if kind == "postgres":  # one namespace of target names (export:NAME, exports/NAME.db, bms export ... NAME)
        try:
            influx = {t.name for t in platform.section("influx").targets}
        except Exception:  # no influx component installed, or its section refused (its own line says why)
            influx = set()
        taken = sorted(influx & {t.name for t in section.targets})
        if taken:
            raise ConfigError(f"[[postgres.targets]] {taken[0]!r}: an [[influx.targets]] has that name; export "
                              "targets share one set of names (bms export status NAME, exports/NAME.db)")
    return [ChildSpec(f"export:{t.name}", ExportTarget,
                      kwargs={"target": t, "kind": kind, "make_sink": lambda tg, tags, k=kind: make_sink(k, tg, tags),
                              "backoff": section.retry, "tick": section.tick, "site": site},
                      policy=RestartPolicy())
            for t in section.targets if t.enabled]


def influx_component(platform: Any) -> list[ChildSpec]:
    return _specs(platform, "influx", platform.section("influx"))


def postgres_component(platform: Any) -> list[ChildSpec]:
    return _specs(platform, "postgres", platform.section("postgres"))
