import pytest

from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.conftest import grant
from tests.factories import UserFactory
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from tests.permissions.fixtures import fast_password_hashing, make_user, roles  # noqa: F401


@pytest.fixture
def stock(brand, facility):
    """Two stocked SKUs: TEE-M (10 units) and CAP-1 (3 units)."""
    return {
        "TEE-M": stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10),
        "CAP-1": stocked_sku(brand=brand, facility=facility, code="CAP-1", units=3),
    }


@pytest.fixture
def operator(db):
    user = UserFactory(username="operator")
    return grant(user, "orders.operate_order", "orders.operate_shipment")


@pytest.fixture
def order_manager(db):
    user = UserFactory(username="order-manager")
    return grant(
        user,
        "orders.operate_order",
        "orders.operate_shipment",
        "orders.change_order",
        "orders.close_shipment",
        "orders.force_order_transition",
        "orders.force_shipment_transition",
        "warehouse.resolve_exceptionitem",
    )


@pytest.fixture
def make_order(brand, facility, stock):
    """Ingest a valid order (2 × TEE-M, 1 × CAP-1 unless `lines=` says otherwise); returns the fresh order."""

    def make(**kwargs) -> Order:
        kwargs.setdefault("lines", (line("TEE-M", 2), line("CAP-1", 1)))
        result = order_ingest(canonical=CanonicalOrderFactory(**kwargs), brand=brand, source="manual")
        return Order.objects.get(pk=result.order.pk)

    return make


@pytest.fixture
def accepted_order(make_order):
    order = make_order()
    assert order.state == OrderState.ACCEPTED
    return order
