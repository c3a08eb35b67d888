"""Issue 16 "Done when": the receiving page stays at a fixed number of queries (≤ 12) with a 1,000-line inbound, on
its first and its last page of lines; the catalogue list with the drift filter too."""

import datetime as dt

import pytest
from django.test import Client

from inventory.models import ExpectedInbound, ExpectedInboundLine, Sku, SkuState
from tests.permissions.fixtures import make_role_user
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db

LINES = 1000


@pytest.fixture
def big_inbound(brand, facility):
    skus = Sku.objects.bulk_create(
        Sku(brand=brand, code=f"SKU-{n:04d}", title=f"Item {n}", state=SkuState.READY_FOR_RECEIVING,
            weight_grams=None if n % 3 else 100)
        for n in range(LINES)
    )  # fmt: skip
    inbound = ExpectedInbound.objects.create(
        brand=brand, facility=facility, reference="ASN-BIG", expected_on=dt.date(2026, 12, 10), source="erp"
    )
    ExpectedInboundLine.objects.bulk_create(
        ExpectedInboundLine(inbound=inbound, number=n + 1, sku=sku, quantity_expected=5) for n, sku in enumerate(skus)
    )
    return inbound


@pytest.mark.parametrize("role", ["warehouse_manager", "brand"])
def test_the_receiving_page_of_a_1000_line_inbound_runs_at_most_12_queries(
    big_inbound, brand, role, django_assert_max_num_queries
):
    roles_sync()
    client = Client()
    client.force_login(make_role_user(role, brand=brand, username="u"))
    for page in ("1", "10"):
        with django_assert_max_num_queries(12):
            response = client.get(f"/inbound/{big_inbound.pk}/?page={page}")
        assert response.status_code == 200
        assert response.content.count(b'<tr id="line-') == 100
    with django_assert_max_num_queries(12):
        assert client.get("/catalog/?drift=1").status_code == 200
