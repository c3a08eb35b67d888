"""Seed 001 "Returned ≠ back in live stock", as a property: whatever order people (and managers forcing) try the
return steps in, a returned unit is available only after its return was triaged sellable and restocked; until then
it sits in quarantine, rework moves it to damaged, disposal takes it out; and every bucket equals its ledger."""

import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import StockLevel
from inventory.services import inventory_verify_ledger, stock_receive
from returns.models import Disposition, Return, ReturnState
from returns.services import (
    return_authorize,
    return_dispose,
    return_initiate,
    return_mark_shipped_back,
    return_receive,
    return_restock,
    return_rework,
    return_triage,
)
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import SkuFactory
from warehouse.errors import DomainError
from warehouse.models import TransitionRecord

pytestmark = pytest.mark.django_db

ON_SHELF = 10
_numbers = itertools.count(1)

STEPS = {
    "authorize": return_authorize,
    "ship_back": return_mark_shipped_back,
    "receive": return_receive,
    "restock": return_restock,
    "rework": return_rework,
    "dispose": return_dispose,
}

step = st.one_of(
    st.tuples(st.just("initiate"), st.integers(1, 3)),
    st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 3), st.booleans()),  # (name, which return, forced)
    st.tuples(
        st.just("triage"),
        st.integers(0, 3),
        st.sampled_from([*Disposition.values, ""]),
        st.sampled_from(["A", "C", ""]),
        st.booleans(),
    ),
)


@pytest.fixture
def world(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE-P")
    stock_receive(sku=sku, facility=facility, quantity=ON_SHELF, event_id="rcv-prop", actor=None)
    manager = grant(
        UserFactory(username="prop-manager"),
        "returns.operate_return",
        "returns.triage_return",
        "returns.force_return_transition",
    )
    return brand, facility, sku, manager


def _units(returns, *states):
    return sum(line.quantity for rma in returns if rma.state in states for line in rma.lines.all())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_a_returned_unit_is_available_only_after_triage_as_sellable_and_restock(world, steps):
    brand, facility, sku, manager = world
    savepoint = transaction.savepoint()
    try:
        returns: list[Return] = []
        for action in steps:
            try:
                if action[0] == "initiate":
                    rma = return_initiate(brand=brand, rma_number=f"P-{next(_numbers)}", lines=[(sku, action[1])],
                                          facility=facility, actor=None)  # fmt: skip
                    returns.append(rma)
                elif not returns:
                    continue
                elif action[0] == "triage":
                    _, which, disposition, grade, forced = action
                    return_triage(rma=returns[which % len(returns)], grade=grade, disposition=disposition,
                                  actor=manager, force=forced, reason="property test")  # fmt: skip
                else:
                    name, which, forced = action
                    STEPS[name](rma=returns[which % len(returns)], actor=manager, force=forced, reason="property test")
            except DomainError:
                pass  # refused: the property is that a refusal changes nothing, checked below
            for rma in returns:
                rma.refresh_from_db()
            level = StockLevel.objects.get(sku=sku, facility=facility)
            held = (ReturnState.RECEIVED, ReturnState.TRIAGED)
            assert level.quarantine == _units(returns, *held)
            assert level.damaged == _units(returns, ReturnState.REWORKED)
            assert level.on_hand == ON_SHELF + _units(returns, *held, ReturnState.RESTOCKED, ReturnState.REWORKED)
            assert level.available == ON_SHELF + _units(returns, ReturnState.RESTOCKED)
            for rma in returns:
                if rma.state in (ReturnState.RESTOCKED, ReturnState.REWORKED, ReturnState.DISPOSED):
                    assert rma.grade and rma.disposition, "completed without a recorded triage"
                    assert TransitionRecord.objects.filter(object_id=rma.pk, name="triage").exists()
        assert inventory_verify_ledger(facility=facility) == []
    finally:
        transaction.savepoint_rollback(savepoint)
