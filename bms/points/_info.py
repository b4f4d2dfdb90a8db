"""What the point store knows of a point beside its value, derived from the building model's nodes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bms.errors import ConfigError
from bms.model import Node, device_of, is_point, point_spec
from bms.points._live import PointInfo


def point_infos(
    nodes: Iterable[Node], parents: Mapping[str, str | None] | None = None
) -> tuple[list[PointInfo], list[str]]:
    """The points among ``nodes``, and one line for each that cannot be read.

    A point's ancestors (its equipment, spaces and site: what ``--under``
    finds it by) follow the parents of ``nodes`` and then ``parents``,
    the rest of the model by node id, for nodes given alone (the points of
    a device accepted into a running site).
    """
    given = list(nodes)
    above: dict[str, str | None] = {**(parents or {}), **{n.id: n.parent for n in given}}
    infos: list[PointInfo] = []
    problems: list[str] = []
    for node in given:
        if not is_point(node):
            continue
        try:
            spec = point_spec(node)
        except ConfigError as err:
            problems.append(str(err))
            continue
        ancestors: list[str] = []
        parent = node.parent
        while parent is not None and parent not in ancestors:
            ancestors.append(parent)
            parent = above.get(parent)
        infos.append(PointInfo(
            point_id=node.id, spec=spec, device=device_of(node),
            protocol=node.binding.protocol if node.binding is not None else "virtual",
            ancestors=frozenset(ancestors), tags=frozenset((*node.tags, *node.tag_values)),
        ))
    return infos, problems
