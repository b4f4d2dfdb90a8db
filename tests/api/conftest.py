"""The API app over an in-memory site, driven in-process with Litestar's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from actors.components.devices import devices_router
from bms.api import create_app
from tests.api.fake import FakeSite

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 4096


def site_app(site: FakeSite, token: str = TOKEN, max_body: int = MAX_BODY, **kwargs: Any) -> Litestar:
    """The app over the in-memory site, with the devices component's slice as the daemon serves it."""
    return create_app(site, token, max_body, routers=[devices_router(site)], **kwargs)


@pytest.fixture
def site() -> FakeSite:
    return FakeSite()


@pytest.fixture
def app(site: FakeSite) -> Litestar:
    return site_app(site, keepalive=0.02)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        test_client.headers.update(AUTH)
        yield test_client
