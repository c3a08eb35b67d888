"""Issue 11 §4: concurrent identical manual-order requests create one order; the others answer 200 with it (threads on
PostgreSQL; a module of transactional tests only, see tests/api/test_chunked_bodies.py)."""

import pytest

from orders.models import Order
from tests.api.test_manual_order_idempotency import URL, body, client_for, operator  # noqa: F401
from tests.concurrency import race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_concurrent_identical_requests_create_one_order(operator):  # noqa: F811
    answers = race(lambda _: client_for(operator).post(URL, body(), format="json"), 4)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Order.objects.filter(platform_order_id="PHONE-7").count() == 1
