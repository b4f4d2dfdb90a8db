"""Series tags from the building model: site, equip, point, name, unit and the Haystack markers.

A point's tags are read from the point and the nodes above it (its parent
chain): the nearest ``Site`` node is ``site``, the nearest ``Equip`` is
``equip``, the point's own id is ``point`` (its display name ``name``), its
``unit`` value tag is ``unit``, and the markers of the point (``temp``,
``sensor``, ``sp``...) are ``markers``, sorted and comma-joined, so a
query "every temperature sensor" is one regex on one label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import msgspec

from bms.model import Node


class SeriesTags(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The tags of one point's series on every time-series target."""

    point: str
    site: str = ""
    equip: str = ""
    name: str = ""
    unit: str = ""
    markers: tuple[str, ...] = ()

    def labels(self) -> dict[str, str]:
        """The non-empty tags as label -> text (what Influx tags and the Postgres points table hold)."""
        out = {"point": self.point, "site": self.site, "equip": self.equip, "name": self.name, "unit": self.unit,
               "markers": ",".join(self.markers)}
        return {k: v for k, v in out.items() if v}


def series_tags(point: Node, above: Sequence[Node]) -> SeriesTags:
    """The tags of ``point`` given the nodes above it, nearest first."""
    site = next((n.id for n in above if n.type == "Site"), "")
    equip = next((n.id for n in above if n.type == "Equip"), "")
    unit = point.tag_values.get("unit", "")
    markers = tuple(sorted(t for t in point.tags if t not in ("point", "his", "cur", "writable")))
    return SeriesTags(point=point.id, site=site, equip=equip, name=point.name if point.name != point.id else "",
                      unit=str(unit), markers=markers)


class TagMap:
    """Point id -> its :class:`SeriesTags`, from the whole model; a point the model lacks has only ``point``."""

    def __init__(self, nodes: Sequence[Node] = (), site: str = "") -> None:
        self.site = site  # the site's name when the model has no Site node above a point
        self._nodes: dict[str, Node] = {n.id: n for n in nodes}
        self._cache: dict[str, SeriesTags] = {}

    def update(self, nodes: Sequence[Node]) -> None:
        self._nodes = {n.id: n for n in nodes}
        self._cache.clear()

    def __call__(self, point_id: str) -> SeriesTags:
        found = self._cache.get(point_id)
        if found is None:
            found = self._cache[point_id] = self._build(point_id)
        return found

    def _build(self, point_id: str) -> SeriesTags:
        node = self._nodes.get(point_id)
        if node is None:
            return SeriesTags(point=point_id, site=self.site)
        above: list[Node] = []
        parent = node.parent
        while parent is not None and parent in self._nodes and len(above) < 32:
            up = self._nodes[parent]
            if up in above:
                break
            above.append(up)
            parent = up.parent
        tags = series_tags(node, above)
        return tags if tags.site or not self.site else msgspec.structs.replace(tags, site=self.site)


TagLookup = Callable[[str], SeriesTags]


def plain_tags(point_id: str) -> SeriesTags:
    """The tags of a point with no model: only its id."""
    return SeriesTags(point=point_id)


def as_mapping(tags: SeriesTags) -> Mapping[str, str]:
    return tags.labels()
