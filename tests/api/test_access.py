"""Who may call what: every route of the OpenAPI document refuses a request without a token (401) and
one whose role lacks the route's permission (403); each state-changing request is audited before its
answer, refusals included; a role's ceiling, scope and others' levels hold through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from bms.auth import PERMISSIONS
from tests.api.access import LocalServices, daemon_app
from tests.api.fake import FakeSite

Client = TestClient[Any]
EXAMPLE_PARAMS = {"device": "room1", "key": "sp", "node_id": "room1", "device_id": "dev-1", "name": "olga",
                  "user": "olga", "alarm_id": "ahu1/sat:high", "recipient": "ops", "fault_id": "1",
                  "target": "vm"}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[LocalServices]:
    made = LocalServices(tmp_path)
    yield made
    made.close()


@pytest.fixture
def client(services: LocalServices) -> Iterator[Client]:
    with TestClient(daemon_app(FakeSite(), services)) as test_client:
        yield test_client


def operations(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/api/openapi.json").json()
    found = []
    for path, ops in document["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: EXAMPLE_PARAMS[m.group(1)], path)
        found += [(method.upper(), url, op) for method, op in ops.items()]
    return found


def needed(op: dict[str, Any]) -> str:
    [requirement] = op["security"]
    [permission] = requirement["bearer"]
    return str(permission)


def test_every_route_declares_one_known_permission_but_the_login(client: Client) -> None:
    public = []
    for method, url, op in operations(client):
        if op.get("security") == []:
            public.append(op["operationId"])
            continue
        assert needed(op) in PERMISSIONS, f"{method} {url}"
    assert public == ["login"]


def test_every_route_refuses_a_request_without_a_token(client: Client) -> None:
    for method, url, op in operations(client):
        if op.get("security") == []:
            continue
        for headers in ({}, {"Authorization": "Bearer bms_not-a-token"}, {"Authorization": "Basic eDp5"}):
            r = client.request(method, url, headers=headers)
            assert r.status_code == 401, f"{method} {url} {headers}: {r.status_code} {r.text}"
            assert r.json()["error"] and r.headers["www-authenticate"] == "Bearer"


def test_every_route_refuses_a_role_without_its_permission(client: Client, services: LocalServices) -> None:
    services.users.add_role("nobody", ())
    nobody = services.token("nobody-user", "nobody")
    all_but: dict[str, str] = {}
    for permission in PERMISSIONS:
        services.users.add_role(f"all-but-{permission}", tuple(p for p in PERMISSIONS if p != permission))
        all_but[permission] = services.token(f"user-without-{permission}", f"all-but-{permission}")
    for method, url, op in operations(client):
        if op.get("security") == []:
            continue
        for token in (nobody, all_but[needed(op)]):
            r = client.request(method, url, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 403, f"{method} {url}: {r.status_code} {r.text}"
            assert needed(op) in r.json()["error"]


def test_a_route_that_declares_no_permission_is_refused_to_all(services: LocalServices) -> None:
    from litestar import Router, get

    from bms.api import create_app

    @get("/api/forgotten")
    async def forgotten() -> str:
        return "secret"

    app = create_app(FakeSite(), "t", 4096, routers=[Router("/", route_handlers=[forgotten])])
    with TestClient(app) as test_client:
        r = test_client.get("/api/forgotten", headers={"Authorization": "Bearer t"})
    assert r.status_code == 403 and "declares no permission" in r.json()["error"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_writes_carry_the_user_and_are_audited_with_before_and_after(client: Client,
                                                                    services: LocalServices) -> None:
    olga = services.token("olga", "operator")
    r = client.post("/api/points/room1/sp/write", json={"value": 22.5, "priority": 8},
                    headers={**auth(olga), "X-Bms-Origin": "shell"})
    assert r.status_code == 200, r.text
    view = client.get("/api/points/room1/sp/priority", headers=auth(olga)).json()
    assert view["users"][7] == "olga"
    [row] = services.log.rows()
    e = row.entry
    assert (e.user, e.token, e.origin, e.action, e.target, e.outcome) == (
        "olga", "t", "shell testclient", "writePoint", "room1/sp", "done")
    assert (e.before, e.after) == ('{"priority":8,"value":null,"user":null}',
                                   '{"priority":8,"value":22.5,"user":"olga","effective":22.5}')


def test_a_guard_refusal_is_audited_with_its_reason(client: Client, services: LocalServices) -> None:
    olga = services.token("olga", "operator")
    r = client.post("/api/points/room1/sp/write", json={"value": 99, "priority": 8}, headers=auth(olga))
    assert r.status_code == 409
    [row] = services.log.rows()
    assert row.entry.outcome == "refused" and row.entry.detail == r.json()["error"]


def test_the_ceiling_the_scope_and_others_levels_hold(client: Client, services: LocalServices) -> None:
    olga = services.token("olga", "operator")
    r = client.post("/api/points/room1/sp/write", json={"value": 22, "priority": 7}, headers=auth(olga))
    assert r.status_code == 403 and "may not command above priority 8, asked 7" in r.json()["error"]
    services.users.add_role("building-b", ("read", "write-points"), 8, "building-b")
    services.users.add_role("room1-only", ("read", "write-points"), 8, "room1")
    elsewhere, here = services.token("bea", "building-b"), services.token("ron", "room1-only")
    r = client.post("/api/points/room1/sp/write", json={"value": 22, "priority": 8}, headers=auth(elsewhere))
    assert r.status_code == 403 and "may only command points under 'building-b'" in r.json()["error"]
    assert client.post("/api/points/room1/sp/write", json={"value": 22, "priority": 9},
                       headers=auth(here)).status_code == 200
    r = client.post("/api/points/room1/sp/relinquish", json={"priority": 9}, headers=auth(olga))
    assert r.status_code == 403 and "held by 'ron'" in r.json()["error"]
    admin = services.token("ada", "admin")
    assert client.post("/api/points/room1/sp/relinquish", json={"priority": 9}, headers=auth(admin)).status_code == 200
    outcomes = [(r.entry.user, r.entry.action, r.entry.outcome) for r in services.log.rows()]
    assert outcomes == [("olga", "writePoint", "refused"), ("bea", "writePoint", "refused"),
                        ("ron", "writePoint", "done"), ("olga", "relinquishPoint", "refused"),
                        ("ada", "relinquishPoint", "done")]


def test_a_request_without_credentials_is_not_an_action_of_anyone(client: Client, services: LocalServices) -> None:
    assert client.post("/api/points/room1/sp/write", json={"value": 22}).status_code == 401
    assert services.log.rows() == []


def test_logins_succeeded_failed_and_locked_out_are_audited(client: Client, services: LocalServices) -> None:
    services.token("olga", "operator")
    for _ in range(3):
        assert client.post("/api/auth/login", json={"user": "olga", "password": "guess"}).status_code == 401
    r = client.post("/api/auth/login", json={"user": "olga", "password": "correct horse"})
    assert r.status_code == 429 and "locked out" in r.json()["error"]
    rows = services.log.rows(action="login")
    assert [(row.entry.user, row.entry.outcome) for row in rows] == [("olga", "refused")] * 4
    assert "locked out" in rows[-1].entry.detail


def test_a_login_token_works_and_its_secret_is_not_logged(client: Client, services: LocalServices) -> None:
    services.token("olga", "viewer")
    made = client.post("/api/auth/login", json={"user": "olga", "password": "correct horse"}).json()
    assert client.get("/api/auth/whoami", headers=auth(made["token"])).json()["user"] == "olga"
    [row] = services.log.rows(action="login")
    assert row.entry.outcome == "done" and made["token"] not in str(row)


def test_an_action_whose_row_cannot_be_committed_is_not_acknowledged(client: Client,
                                                                    services: LocalServices) -> None:
    admin = services.token("ada", "admin")
    services.audit_broken = True
    r = client.post("/api/points/room1/sp/write", json={"value": 22}, headers=auth(admin))
    assert r.status_code == 503 and "could not be recorded in the audit log" in r.json()["error"]


def test_users_tokens_and_roles_through_the_api(client: Client, services: LocalServices) -> None:
    admin = services.token("ada", "admin")
    made = client.post("/api/auth/users", json={"name": "olga", "role": "viewer", "password": "correct horse"},
                       headers=auth(admin))
    assert made.status_code == 200 and made.json()["role"] == "viewer"
    token = client.post("/api/auth/tokens", json={"name": "ci", "user": "olga", "expires_in": 3600},
                        headers=auth(admin)).json()["token"]
    assert client.get("/api/auth/whoami", headers=auth(token)).json()["token"] == "ci"
    # a viewer manages its own tokens, not another's
    mine = client.post("/api/auth/tokens", json={"name": "mine"}, headers=auth(token))
    assert mine.status_code == 200
    r = client.post("/api/auth/tokens/ada/t/revoke", headers=auth(token))
    assert r.status_code == 403 and "may only manage itself" in r.json()["error"]
    assert client.post("/api/auth/users/olga/role", json={"role": "operator"}, headers=auth(admin)).status_code == 200
    client.post("/api/auth/tokens/olga/ci/revoke", headers=auth(admin))
    assert client.get("/api/auth/whoami", headers=auth(token)).status_code == 401
    actions = [(r.entry.action, r.entry.target, r.entry.before, r.entry.after) for r in services.log.rows()]
    assert ("setRole", "olga", '{"role":"viewer"}', '{"role":"operator"}') in actions
    assert [a[0] for a in actions] == ["addUser", "createToken", "createToken", "revokeToken", "setRole",
                                       "revokeToken"]
    assert all("correct horse" not in str(a) for a in actions)
    rows = client.get("/api/audit", params={"user": "ada", "action": "setRole"}, headers=auth(admin)).json()
    assert [r["entry"]["target"] for r in rows] == ["olga"]
    assert client.get("/api/audit/verify", headers=auth(admin)).json() == {
        "rows": 6, "broken_at": None, "reason": "", "seconds": pytest.approx(0, abs=5)}


def test_device_commands_and_the_log_level_are_audited(client: Client, services: LocalServices) -> None:
    admin = services.token("ada", "admin")
    assert client.post("/api/devices/discover", json={}, headers=auth(admin)).status_code == 200
    assert client.post("/api/devices/bacnet:1001/accept", json={"equip_id": "vav9"}, headers=auth(admin)).status_code == 200
    assert client.post("/api/devices/room1/ignore", headers=auth(admin)).status_code == 409
    assert client.post("/api/log-level", json={"level": "debug"}, headers=auth(admin)).status_code == 200
    rows = [(r.entry.action, r.entry.target, r.entry.outcome) for r in services.log.rows()]
    assert rows == [("discoverDevices", "", "done"), ("acceptDevice", "bacnet:1001", "done"),
                    ("ignoreDevice", "room1", "refused"), ("setLogLevel", "", "done")]
