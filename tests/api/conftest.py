"""The API app over an in-memory site, driven in-process with Litestar's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.api import create_app
from tests.api.fake import FakeSite

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 4096


@pytest.fixture
def site() -> FakeSite:
    return FakeSite()


@pytest.fixture
def app(site: FakeSite) -> Litestar:
    return create_app(site, TOKEN, MAX_BODY, keepalive=0.02)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        test_client.headers.update(AUTH)
        yield test_client
