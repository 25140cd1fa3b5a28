"""schemathesis against the app's own OpenAPI document: no 5xx, and every response matches the schema.

Bounded examples per operation keep this to seconds; each operation runs with a key of the role that
may call it, so generated data reaches the use cases and not only the 401 in front of them. The first
test calls the app in process (four checks, many examples); the second a real `xinyong serve` over
HTTP with every check schemathesis has (auth ignored, unsupported methods and their ``Allow``, headers,
negative data rejected, positive data accepted), as a client on the network sees the server.
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
from tests.helpers.server import running
from tests.web.conftest import AS_OF, DEBTOR, World, auth, build_store, debt, make_keys

from xinyong.service.cases import CaseService
from xinyong.service.registry import Registry
from xinyong.web import create_app

from ..conftest import Stores

EXAMPLES = 40
LIVE_EXAMPLES = 6
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


def test_the_live_server_conforms_with_every_check(stores: Stores) -> None:
    url = stores.url("live")
    store = build_store(url)
    keys = make_keys(store)
    # an open case, so that case lists and the subject's status have cases to check against the schema
    CaseService(Registry(store, actor="subject:Debtor")).repair(DEBTOR, debt().id, "paid in full", AS_OF,
                                                                 ["bank transfer"])
    store.close()
    # Schema-valid is not valid: an identifier's check character, a record type the catalogue knows, a
    # decision date before today are rules a JSON Schema cannot state, so such data may be refused with the
    # documented 422 (which names the field); everything else "positive" must be accepted.
    config = schemathesis.config.SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}})
    with running(url, "--as-of", AS_OF.isoformat()) as (_proc, base):
        api = schemathesis.openapi.from_url(f"{base}/openapi.json", config=config)
        api.config.update(base_url=base)
        operations = [result.ok() for result in api.get_all_operations()]
        for operation in operations:
            label = KEY_FOR.get(operation.path)
            assert _fuzz(operation, auth(keys[label]) if label else {}, None, LIVE_EXAMPLES) >= 1, operation.path


def _fuzz(operation: Any, headers: dict[str, str], checks: list[Any] | None, examples: int = EXAMPLES) -> int:
    """Call ``operation`` with generated cases; ``checks=None`` runs every check schemathesis has."""
    calls = []

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)
        calls.append(1)

    run()
    return len(calls)
