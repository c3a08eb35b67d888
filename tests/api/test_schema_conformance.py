"""Issue 11 §4: the published OpenAPI schema tells the truth. Schemathesis generates requests from `/api/schema/` for
every operation and sends them over HTTP (live_server) with each role's token; every answer must be declared
(status, content type, body schema) and none may be a 5xx. Bounded: EXAMPLES per operation and role, no shrinking,
derandomised so a failure reproduces."""

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.models import Order
from orders.services import order_confirm_picked, order_ingest, order_pack, order_release_to_pick, shipment_create
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from tests.permissions.fixtures import make_role_user
from tests.returns.factories import ReturnFactory, ReturnLineFactory
from warehouse.api.tokens import token_issue

pytestmark = [pytest.mark.django_db(transaction=True)]

ROLES = ["warehouse_manager", "operations", "finance", "administrator", "brand"]
# Per operation and role: valid requests (they must get a declared answer, mostly 2xx) and invalid ones (a declared
# 4xx, never a 5xx). 29 operations × 5 roles × 4 = 580 requests, about 30 s on an idle 2-core machine.
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(roles, brand, facility):
    """Something of each kind to read, in the shapes that once broke the schema (no facility, no grade yet)."""
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=50)
    accepted = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1", lines=(line("TEE-M"),)), brand=brand
    )
    held = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#2", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    )
    Order.objects.filter(pk=held.order.pk).update(facility=None)
    order = order_release_to_pick(order=accepted.order, actor=None)
    order = order_pack(order=order_confirm_picked(order=order, actor=None), actor=None)
    shipment_create(order=order, carrier="dhl", actor=None)
    ReturnLineFactory(rma=ReturnFactory(brand=brand, facility=None))
    return brand


@pytest.fixture
def tokens(world):
    users = {role: make_role_user(role, brand=world if role == "brand" else None) for role in ROLES}
    return {role: token_issue(user=user) for role, user in users.items()}


def _probe(operation, mode, examples, *, base_url, session, role, auth, report):
    """Send `examples` generated requests of `operation` as `role`; each failed check goes to `report`."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found, in bounded time
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case):
        response = case.call(base_url=base_url, session=session, headers=auth)
        report(None)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as group:
            for failure in group.exceptions:
                report(
                    f"{role} {mode} {case.method} {case.formatted_path} -> {response.status_code}: {failure.title}\n"
                    f"    {failure.message[:400]}\n    body: {response.text[:300]}\n    {case.as_curl_command()[:400]}"
                )

    probe()


def test_every_answer_matches_the_published_schema_for_every_role(live_server, tokens):
    started = time.monotonic()
    admin = {"Authorization": f"Token {tokens['administrator']}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", headers=admin, timeout=30)
    # Logging out revokes the token the probes send: those operations go last.
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: "logout" in op.path)
    failures: list[str] = []
    calls = [0]

    def report(failure):
        if failure is None:
            calls[0] += 1
        else:
            failures.append(failure)

    session = requests.Session()
    for role in ROLES:
        auth = {"Authorization": f"Token {tokens[role]}"}
        for operation in operations:
            for mode, examples in EXAMPLES.items():
                _probe(
                    operation,
                    mode,
                    examples,
                    base_url=live_server.url,
                    session=session,
                    role=role,
                    auth=auth,
                    report=report,
                )
    elapsed = time.monotonic() - started
    print(f"schemathesis: {calls[0]} requests, {len(operations)} operations, {len(ROLES)} roles, {elapsed:.1f} s")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
