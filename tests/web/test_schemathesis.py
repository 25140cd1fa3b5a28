"""schemathesis against the app's own OpenAPI document: no 5xx, and every response matches the schema.

Bounded examples per operation keep this to seconds; each operation runs with a key of the role that
may call it, so generated data reaches the use cases and not only the 401 in front of them.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.web.conftest import DEBTOR, World, auth, debt

from xinyong.web import create_app

EXAMPLES = 40
KEY_FOR = {"/v1/decisions": "airline", "/v1/decisions:batch": "airline", "/v1/records": "court",
           "/v1/amendments": "court", "/v1/subjects/{subject}/file": "reviewer", "/v1/keys": "admin",
           "/v1/keys/{key_id}/revoke": "admin", "/v1/subjects/{subject}/objections": "debtor",
           "/v1/subjects/{subject}/repairs": "debtor", "/v1/subjects/{subject}/notices": "debtor",
           "/v1/subjects/{subject}/status": "debtor", "/v1/cases/{case}/appeal": "debtor",
           "/v1/cases": "reviewer", "/v1/cases/{case}": "reviewer", "/v1/cases/{case}/decision": "reviewer"}


def test_the_api_conforms_to_its_own_openapi(world: World) -> None:
    app = create_app(world.online, max_body_bytes=256 * 1024)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    with TestClient(app):  # runs the lifespan (index, audit flusher); schemathesis then calls the same app
        # one open case, so that the case list and the subject's status return cases to check against the schema
        debtor = world.online.principals.authenticate(world.keys["debtor"])
        world.online.cases.repair(debtor, DEBTOR, debt().id, "paid in full", ["bank transfer"])
        api = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in api.get_all_operations()]
        assert len(operations) >= 10
        for operation in operations:
            label = KEY_FOR.get(operation.path)
            calls = _fuzz(operation, auth(world.keys[label]) if label else {}, checks)
            assert calls >= 1, operation.path  # it really called the app (once for an operation without inputs)


def _fuzz(operation: Any, headers: dict[str, str], checks: list[Any]) -> int:
    calls = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)
        calls.append(1)

    run()
    return len(calls)
