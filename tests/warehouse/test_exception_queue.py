"""Seed 001 "Design for failure": an exception never resolves itself; a decision needs a note and who took it."""

import pytest

from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState, TransitionRecord
from warehouse.services import exception_escalate, exception_open, exception_resolve

pytestmark = pytest.mark.django_db


def _open(brand, **kw):
    return exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD,
        summary="Order #1 on hold",
        brand=brand,
        reasons=[Reason("missing_zip", "Delivery ZIP is missing")],
        dedupe_key="order:1",
        **kw,
    )


def test_reopening_the_same_cause_returns_the_open_exception_instead_of_a_duplicate(brand):
    first = _open(brand)
    again = exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD,
        summary="Order #1 on hold",
        brand=brand,
        reasons=[Reason("missing_phone", "Contact phone is missing")],
        dedupe_key="order:1",
    )
    assert again.pk == first.pk
    assert ExceptionItem.objects.count() == 1
    assert again.reasons == [{"code": "missing_phone", "message": "Contact phone is missing"}]


def test_each_reason_is_named_in_the_detail(brand):
    item = _open(brand)
    assert item.reasons == [{"code": "missing_zip", "message": "Delivery ZIP is missing"}]
    assert item.state == ExceptionState.OPEN


def test_a_resolution_needs_a_note(brand, manager):
    item = _open(brand)
    with pytest.raises(InvalidInput):
        exception_resolve(item=item, actor=manager, note="   ")
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN


def test_a_manager_resolves_with_a_note_and_is_recorded(brand, manager):
    item = exception_resolve(item=_open(brand), actor=manager, note="Customer confirmed ZIP 46001 by phone")
    assert item.state == ExceptionState.RESOLVED
    assert item.decided_by == manager and item.decision_note.startswith("Customer confirmed")
    record = TransitionRecord.objects.get(object_id=item.pk, name="resolve")
    assert record.actor == manager and record.source == "open" and record.target == "resolved"
    assert item.history.first().history_user == manager


def test_a_user_without_the_permission_cannot_resolve(brand, viewer):
    item = _open(brand)
    with pytest.raises(NotPermitted):
        exception_resolve(item=item, actor=viewer, note="looks fine")
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN


def test_an_escalated_exception_can_still_be_resolved_but_not_escalated_twice(brand, manager):
    item = exception_escalate(item=_open(brand), actor=manager, note="Needs the brand's answer")
    with pytest.raises(TransitionNotAllowed):
        exception_escalate(item=item, actor=manager, note="again")
    assert exception_resolve(item=item, actor=manager, note="Brand answered").state == ExceptionState.RESOLVED


def test_after_resolution_the_same_cause_opens_a_new_exception(brand, manager):
    exception_resolve(item=_open(brand), actor=manager, note="fixed")
    assert _open(brand).state == ExceptionState.OPEN
    assert ExceptionItem.objects.count() == 2
