"""`Connector.orders_changed_since` follows the platform's own pagination across at least three pages and returns
every order exactly once; `fetch_order` reads one back."""

from __future__ import annotations

import datetime as dt

from integrations.mappings import normalise
from tests.integrations.conformance.conftest import default_mappings

PAGE_SIZE = 3
ORDERS = 3 * PAGE_SIZE + 1  # four pages


def test_listing_crosses_at_least_three_pages_and_returns_every_order_exactly_once(connector, platform_sim, api):
    platform_sim.configure(max_page_size=PAGE_SIZE)
    created = [platform_sim.upsert_order({}, deliver=False) for _ in range(ORDERS)]
    mappings = default_mappings(connector)

    def ids(orders) -> list[str]:
        return [normalise(payload=o, mappings=mappings).platform_order_id for o in orders]

    expected = sorted(ids(created))
    before = platform_sim.order_pages_served
    listed = ids(connector.orders_changed_since(api, None))

    assert platform_sim.order_pages_served - before >= 3, "the listing was paginated"
    assert len(listed) == len(set(listed)), "no order twice"
    assert sorted(listed) == expected

    oldest = min(normalise(payload=o, mappings=mappings).updated_at for o in created)
    assert sorted(ids(connector.orders_changed_since(api, oldest - dt.timedelta(seconds=1)))) == expected
    assert list(connector.orders_changed_since(api, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))) == []


def test_fetch_order_reads_one_order_back(connector, platform_sim, api):
    created = platform_sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]}, deliver=False)
    mappings = default_mappings(connector)
    wanted = normalise(payload=created, mappings=mappings)

    fetched = normalise(payload=connector.fetch_order(api, wanted.platform_order_id), mappings=mappings)

    assert fetched == wanted
