"""Schemathesis drives every operation from the OpenAPI document, in process.

Checked on every call: no server error, only documented status codes,
content types and headers, responses matching their schemas. Not checked:
schemathesis's positive/negative data checks, which expect a schema-valid
string to be accepted (``start=yesterday`` is a valid string and a bad time)
and unknown query parameters to be refused (the API ignores them, as HTTP
APIs do); bodies are refused field by field in test_bodies.py. With every
service down, 503 is the documented answer, so only 500 counts as a server
error there. Bounded: 25 examples per operation.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api.conftest import AUTH, TOKEN, site_app
from tests.api.fake import FakeSite

FUZZ = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
CONFORMANCE = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _schema(site: FakeSite) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", site_app(site, TOKEN, 4096, keepalive=0.01))


def _down_site() -> FakeSite:
    site = FakeSite()
    site.down.update({"points", "nodes", "devices", "history", "stream"})
    return site


up = _schema(FakeSite())
down = _schema(_down_site())


@up.parametrize()
@FUZZ
def test_site_up(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=[checks.not_a_server_error, *CONFORMANCE])


@down.parametrize()
@FUZZ
def test_services_down(case: schemathesis.Case) -> None:
    response = case.call_and_validate(headers=AUTH, checks=CONFORMANCE)
    assert response.status_code != 500, response.text
