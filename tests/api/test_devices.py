"""Devices: list, one, discover, accept, ignore."""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from bms.messages import DeviceRecord
from tests.api.fake import FakeSite

Client = TestClient[Litestar]


def test_list_and_filter_by_protocol(client: Client) -> None:
    r = client.get("/api/devices")
    assert r.status_code == 200
    assert [d.device_id for d in msgspec.json.decode(r.content, type=list[DeviceRecord])] == ["room1"]
    assert client.get("/api/devices?protocol=bacnet").json() == []


def test_one_device_and_unknown(client: Client) -> None:
    assert client.get("/api/devices/room1").json()["protocol"] == "virtual"
    r = client.get("/api/devices/nope")
    assert (r.status_code, r.json()) == (404, {"error": "unknown device 'nope'"})


def test_discover_then_accept(client: Client) -> None:
    r = client.post("/api/devices/discover", json={"protocol": "bacnet", "low": 1000, "high": 1999, "timeout": 2})
    assert r.status_code == 200
    (found,) = msgspec.json.decode(r.content, type=list[DeviceRecord])
    assert (found.device_id, found.state) == ("bacnet:1001", "Discovered")
    r = client.post("/api/devices/bacnet:1001/accept", json={"profile": "bacnet-generic", "equip_id": "ahu9"})
    assert (r.status_code, r.json()["state"]) == (200, "Accepted")



def test_accepting_an_accepted_device_is_a_conflict_409_not_400(client: Client) -> None:
    client.post("/api/devices/discover")
    assert client.post("/api/devices/bacnet:1001/accept").status_code == 200
    r = client.post("/api/devices/bacnet:1001/accept")
    assert (r.status_code, r.json()) == (409, {"error": "device 'bacnet:1001' is already part of the site"})
    r = client.post("/api/devices/bacnet:1001/ignore")
    assert (r.status_code, r.json()) == (409, {"error": "device 'bacnet:1001' is part of the site: it cannot be ignored"})
    assert client.get("/api/devices/bacnet:1001").json()["state"] == "Accepted"  # a conflict changes nothing


def test_an_ignored_device_can_still_be_accepted(client: Client) -> None:
    client.post("/api/devices/discover")
    assert client.post("/api/devices/bacnet:1001/ignore").json()["state"] == "Ignored"
    r = client.post("/api/devices/bacnet:1001/accept")
    assert (r.status_code, r.json()["state"]) == (200, "Accepted")


def test_the_openapi_document_says_which_routes_answer_a_conflict(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "409" in paths["/api/devices/{device_id}/accept"]["post"]["responses"]
    assert "409" in paths["/api/devices/{device_id}/ignore"]["post"]["responses"]


def test_discover_defaults_and_bounds(client: Client) -> None:
    assert client.post("/api/devices/discover").status_code == 200  # no body: a BACnet scan
    r = client.post("/api/devices/discover", json={"timeout": 0})
    assert (r.status_code, r.json()) == (400, {"error": "$.timeout: Expected float > 0.0"})
    r = client.post("/api/devices/discover", json={"protocol": "knx"})
    assert (r.status_code, r.json()) == (400, {"error": "$.protocol: Invalid enum value 'knx'"})


def test_accept_with_unknown_profile_is_400(client: Client) -> None:
    client.post("/api/devices/discover")
    r = client.post("/api/devices/bacnet:1001/accept", json={"profile": "nope"})
    assert (r.status_code, r.json()) == (400, {"error": "no profile named 'nope'"})


def test_ignore(client: Client) -> None:
    client.post("/api/devices/discover")
    r = client.post("/api/devices/bacnet:1001/ignore")
    assert (r.status_code, r.json()["state"]) == (200, "Ignored")


def test_devices_service_down_is_503(client: Client, site: FakeSite) -> None:
    site.down.add("devices")
    r = client.post("/api/devices/discover")
    assert (r.status_code, r.json()) == (503, {"error": "the devices service is not running"})


def test_remove_an_accepted_device_with_delete(client: Client) -> None:
    client.post("/api/devices/discover")
    assert client.delete("/api/devices/bacnet:1001").status_code == 409  # not part of the site yet
    client.post("/api/devices/bacnet:1001/accept")
    r = client.delete("/api/devices/bacnet:1001")
    assert (r.status_code, r.json()["state"]) == (200, "Discovered")
    assert client.delete("/api/devices/nope").status_code == 404


def test_a_modbus_probe_body_takes_its_units(client: Client) -> None:
    r = client.post("/api/devices/discover", json={"protocol": "modbus", "network": "10.0.0.9:502", "units": [1, 300]})
    assert r.status_code == 400 and "units" in r.text
