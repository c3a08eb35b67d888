import pytest

from inventory.selectors import sku_available
from inventory.services import stock_allocate, stock_receive
from tests.inventory.factories import SkuFactory

pytestmark = pytest.mark.django_db


def test_received_units_can_be_allocated_once(brand, facility):
    sku = SkuFactory(brand=brand)
    stock_receive(sku=sku, facility=facility, quantity=5, event_id="r1", actor=None)
    first = stock_allocate(facility=facility, lines=[(sku, 3)], event_id="a1", actor=None)
    again = stock_allocate(facility=facility, lines=[(sku, 3)], event_id="a1", actor=None)
    assert again.replayed and [m.pk for m in again.movements] == [m.pk for m in first.movements]
    assert sku_available(sku=sku, facility=facility) == 2
