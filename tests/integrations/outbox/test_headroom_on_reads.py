"""Rate-limit headroom is read from every answer, not only writes: a reconciler pull against the Shopify simulator
records the leaky bucket's `X-Shopify-Shop-Api-Call-Limit` for the connection, as a fulfilment write does."""

import pytest

from integrations.outbox.services import headroom_by_connection
from integrations.reconciler import reconcile_connection

pytestmark = pytest.mark.django_db


def test_a_reconciler_pull_records_the_connections_headroom(shopify_sim, shop):
    shopify_sim.upsert_order({})
    assert shop.pk not in headroom_by_connection()

    reconcile_connection(connection=shop)

    fraction = headroom_by_connection()[shop.pk]
    assert fraction is not None and 0 < fraction < 1  # some of the bucket used by the pull, most of it left
