"""Fuzzing the published OpenAPI schema (schemathesis): no request makes the server answer 500.

Bounded to a few examples per operation so it stays fast; one real session
is open so that some generated ids and item indices reach the handlers.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from serve_helpers import make_client  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_schema(registry, tiny_sam2, synth_small):
    client = make_client(registry, tiny_sam2, synth_small, max_sessions=50)
    client.__enter__()
    client.post("/api/sessions", json={"user": "fuzz", "group": "hard_0000"})
    yield schemathesis.openapi.from_asgi("/openapi.json", client.app)
    client.__exit__(None, None, None)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_is_a_server_error(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
