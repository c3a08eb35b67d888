"""Seed 001 "Security and access": a forced state change is logged with the manager's name and reason."""

import pytest

from tests.conftest import grant
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.models import ExceptionKind, ExceptionState, TransitionRecord
from warehouse.services import exception_open
from warehouse.transitions import transition_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(brand):
    return exception_open(kind=ExceptionKind.OTHER, summary="x", reasons=[Reason("x", "x")], brand=brand)


def test_a_guard_that_fails_is_named_and_the_state_is_unchanged(item, manager):
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=item, name="resolve", actor=manager)
    assert [r.code for r in refused.value.reasons] == ["note_required"]
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN


def test_forcing_needs_a_reason_and_the_force_permission(item, manager, viewer):
    with pytest.raises(InvalidInput):
        transition_apply(obj=item, name="resolve", actor=manager, force=True, reason="  ")
    with pytest.raises(NotPermitted):
        transition_apply(obj=item, name="resolve", actor=grant(viewer, "warehouse.resolve_exceptionitem"),
                         force=True, reason="because")  # fmt: skip
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN and not TransitionRecord.objects.exists()


def test_a_forced_transition_keeps_its_whole_reason_with_the_manager_in_history(item, manager):
    reason = "Customer confirmed by phone; " * 10  # longer than simple-history's default 100-character column
    forced = transition_apply(obj=item, name="resolve", actor=manager, force=True, reason=reason)
    assert forced.state == ExceptionState.RESOLVED
    record = TransitionRecord.objects.get()
    assert record.forced and record.actor == manager and record.reason == reason.strip()
    latest = forced.history.first()
    assert latest.history_user == manager and latest.history_change_reason == f"[forced] {reason.strip()}"


def test_a_transition_that_does_not_exist_from_the_current_state_is_refused_even_when_forced(item, manager):
    transition_apply(obj=item, name="resolve", actor=manager, force=True, reason="done")
    with pytest.raises(TransitionNotAllowed):
        transition_apply(obj=item, name="escalate", actor=manager, force=True, reason="again")
