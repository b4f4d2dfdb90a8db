"""Path and query parameters shared by the routes, with their documentation."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

Device = Annotated[str, Parameter(description="the device part of a point id (before the slash)")]
Key = Annotated[str, Parameter(description="the point key (after the slash)")]
DeviceId = Annotated[str, Parameter(description="a device id")]
NodeId = Annotated[str, Parameter(description="a node id; point ids keep their slash")]
Under = Annotated[str | None, Parameter(description="only what lies under this node")]
Tags = Annotated[tuple[str, ...], Parameter(description="a tag that must be carried (repeatable: all of them)")]
Pattern = Annotated[str | None, Parameter(description="a glob on point ids, e.g. ahu1/*")]
NodeType = Annotated[str | None, Parameter(description="Site, Space, Equip, Point or VirtualPoint")]
Root = Annotated[str | None, Parameter(description="the node at the top of the tree; all sites when absent")]
Protocol = Annotated[str | None, Parameter(description="bacnet, modbus or virtual")]
PointList = Annotated[str | None, Parameter(description="comma-separated point ids")]
TagList = Annotated[str | None, Parameter(description="comma-separated tags a point must all carry")]
ScanId = Annotated[str | None, Parameter(
    description="a discovery scan id (as given to POST /api/devices/discover): its DiscoveryProgress events too",
    max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
