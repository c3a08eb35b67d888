"""Contract reservations hold under a race (issue 6, reliability.md): ordinary and wholesale orders for the same SKU
arrive at once through `order_ingest`; ordinary orders get only the unreserved units, the contract's customer gets
its reservation, and nothing is oversold."""

import pytest

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.allocation.models import ContractReservation
from orders.allocation.services import contract_reservation_create
from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.allocation.test_last_units_race import _race
from tests.factories import BrandFactory, FacilityFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

WHOLESALE = 3  # orders of 1 unit for the contract's customer, who holds 3 reserved units
ORDINARY = 9  # orders of 1 unit competing for the 2 unreserved units


def test_ordinary_orders_racing_a_contract_customer_never_take_its_reserved_units(db):
    brand = BrandFactory(slug="race-contract")
    facility = FacilityFactory(code="RACE1")
    sku = SkuFactory(brand=brand, code="DROP")
    stock_receive(sku=sku, facility=facility, quantity=5, event_id="rcv-drop", actor=None)
    contract_reservation_create(brand=brand, customer="Big Retail", sku=sku, facility=facility, quantity=3, actor=None)

    def ingest(i):
        wholesale = i < WHOLESALE
        canonical = CanonicalOrderFactory(
            platform_order_id=f"race-{i}", lines=(line("DROP", 1),),
            priority_class="wholesale" if wholesale else "standard",
            address=CanonicalAddressFactory(name="Big Retail" if wholesale else f"Shopper {i}"),
        )  # fmt: skip
        return wholesale, order_ingest(canonical=canonical, brand=brand, source="manual").order.state

    results = _race(ingest, n=WHOLESALE + ORDINARY)

    assert not [r for r in results if isinstance(r, Exception)], results
    accepted = [wholesale for wholesale, state in results if state == OrderState.ACCEPTED]
    assert accepted.count(True) == WHOLESALE  # the customer got its whole reservation
    assert accepted.count(False) == 2  # ordinary orders only the 2 unreserved units
    level = StockLevel.objects.get(sku=sku, facility=facility)
    assert (level.allocated, level.reserved, level.available) == (5, 0, 0)
    assert ContractReservation.objects.get(sku=sku).drawn == 3
    held = Order.objects.filter(brand=brand, state=OrderState.ON_HOLD)
    assert held.count() == ORDINARY - 2 and all(o.hold_reasons[0]["code"] == "short" for o in held)
