"""The one way any object changes state.

Every app's services call `transition_apply`: it locks the row, checks that the transition exists from the current
state and that its guards pass (409 with each failed guard named), then the actor's permission (403), runs the
transition, saves with a history row (who and why), and writes a `TransitionRecord`.

A *forced* transition is a manager overriding the guards: it needs `<app>.force_<model>_transition` and a non-blank
reason, still needs the transition to exist from the current state, and is recorded as forced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django_fsm import has_transition_perm

from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.fsm import guard_reason
from warehouse.history import save_with_history
from warehouse.models import TransitionRecord

M = TypeVar("M", bound=models.Model)
Actor = User | None  # None is the system: tasks and connectors


# What a person reads on a button or in a history line; a transition not listed reads as its name in words.
TRANSITION_LABELS = {
    "validate": "Validate",
    "accept": "Accept",
    "hold": "Put on hold",
    "revise": "Send back for checking",
    "release_to_pick": "Release to pick",
    "confirm_picked": "Confirm picked",
    "pack": "Mark packed",
    "dispatch": "Mark dispatched",
    "hand_to_carrier": "Hand to carrier",
    "mark_in_transit": "Mark in transit",
    "deliver": "Mark delivered",
    "cancel": "Cancel",
    "authorize": "Authorise return",
    "mark_shipped_back": "Mark shipped back",
    "receive": "Receive",
    "triage": "Record triage",
    "restock": "Restock",
    "rework": "Send to rework",
    "dispose": "Dispose of",
    "claim": "Claim",
    "discard": "Discard",
    "replay": "Replay",
    "retry_later": "Retry later",
    "kill": "Stop retrying",
    "mark_sent": "Mark sent",
    "resolve": "Resolve",
    "escalate": "Escalate",
}


def transition_label(name: str) -> str:
    return TRANSITION_LABELS.get(name, name.replace("_", " ").capitalize())


def force_permission(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.force_{model._meta.model_name}_transition"


def transition_names(obj: models.Model, field: str = "state") -> list[str]:
    """Transitions that exist from the object's current state (guards not evaluated)."""
    getter = getattr(obj, f"get_all_{field}_transitions")
    current = getattr(obj, field)
    return sorted({t.name for t in getter() if t.source in (current, "*", "+")})


def failed_guards(obj: models.Model, name: str) -> list[Reason]:
    """Each guard of transition `name` from the current state that does not pass, as a named reason."""
    meta = getattr(obj, name)._django_fsm
    current = meta.field.get_state(obj)
    found = meta.get_transition(current)
    if found is None:
        return []
    return [guard_reason(cond) for cond in (found.conditions or []) if not cond(obj)]


@dataclass(frozen=True)
class TransitionAction:
    """A transition a user may take on an object now: its label, and the guards that still block it (shown, not
    hidden, so the person sees what to fix)."""

    name: str
    label: str
    blocked: list[str]


def transitions_available(
    obj: models.Model,
    user: Any,
    *,
    field: str = "state",
    offered: Callable[[str], bool] = lambda name: True,
    may_take: Callable[[str], bool] = lambda name: True,
) -> list[TransitionAction]:
    """Transitions from the object's current state that `user` may take, for every page that offers them (the
    console's buttons, the order page): `offered` says the page has a way to run it, `may_take` adds the page's own
    permission rule on top of django-fsm's `permission=`."""
    actions = []
    for name in transition_names(obj, field):
        if not offered(name):
            continue
        meta = getattr(obj, name)._django_fsm
        if not may_take(name) or not meta.has_transition_perm(obj, meta.field.get_state(obj), user):
            continue
        actions.append(TransitionAction(name, transition_label(name), [r.message for r in failed_guards(obj, name)]))
    return actions


def transition_apply(
    *,
    obj: M,
    name: str,
    actor: Actor,
    reason: str = "",
    force: bool = False,
    changes: dict[str, Any] | None = None,
    lock: bool = True,
    **kwargs: Any,
) -> M:
    """Run transition `name` on `obj` under a row lock; return the saved, locked instance.

    `changes` are field values set before the guards are evaluated (e.g. a tracking number the guard requires).
    `actor=None` is the system (tasks, connectors): no permission check, recorded without a user.
    `lock=False`: the caller already holds the row lock in this transaction and `obj` is current, so it is used as
    is (no second read) and saved whole, with whatever else the caller changed on it."""
    reason = (reason or "").strip()
    if not lock:
        # Every check runs before any write, so a refusal leaves the caller's transaction usable without a savepoint.
        source = _check_and_run(obj, name=name, actor=actor, reason=reason, force=force, changes=changes, **kwargs)
        with transaction.atomic(savepoint=False):
            _record(obj, name=name, source=source, actor=actor, reason=reason, force=force)
        return obj
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        source = _check_and_run(locked, name=name, actor=actor, reason=reason, force=force, changes=changes, **kwargs)
        _record(locked, name=name, source=source, actor=actor, reason=reason, force=force)
    return locked


def _check_and_run(
    locked: models.Model,
    *,
    name: str,
    actor: Actor,
    reason: str,
    force: bool,
    changes: dict[str, Any] | None,
    **kwargs: Any,
) -> str:
    """Apply `changes`, refuse (wrong state, failed guards, missing permission) or run the transition in memory;
    returns the source state. Writes nothing."""
    model = type(locked)
    for field_name, value in (changes or {}).items():
        setattr(locked, field_name, value)
    bound: Any = getattr(locked, name, None)
    meta = getattr(bound, "_django_fsm", None)
    if meta is None:
        raise TransitionNotAllowed(f"{model._meta.verbose_name} has no transition {name!r}.")
    source: str = meta.field.get_state(locked)
    label = model._meta.verbose_name
    if not meta.has_transition(source):
        raise TransitionNotAllowed(
            f"Cannot {name.replace('_', ' ')} a {label} that is {source}.",
            reasons=[Reason("wrong_state", f"{name} is not allowed from state {source}")],
        )
    if force:
        if not reason:
            raise InvalidInput(
                "A forced transition needs a reason.",
                reasons=[Reason("reason_required", "Give the reason for forcing this change")],
            )
        if actor is None or not actor.has_perm(force_permission(model)):
            raise NotPermitted(f"You may not force a {label} transition.")
        target = meta.next_state(source)
        bound.__wrapped__(locked, **kwargs)
        meta.field.set_state(locked, target)
    else:
        failures = failed_guards(locked, name)
        if failures:
            raise TransitionNotAllowed(
                f"Cannot {name.replace('_', ' ')} this {label}: " + "; ".join(r.message for r in failures) + ".",
                reasons=failures,
            )
        if actor is not None and not has_transition_perm(bound, actor):
            raise NotPermitted(f"You may not {name.replace('_', ' ')} a {label}.")
        bound(**kwargs)
    return source


def _record(locked: models.Model, *, name: str, source: str, actor: Actor, reason: str, force: bool) -> None:
    """Save the object with its history row (who, why) and write the `TransitionRecord`."""
    model = type(locked)
    target_state = getattr(locked, name)._django_fsm.field.get_state(locked)
    save_with_history(locked, actor=actor, reason=(f"[forced] {reason}" if force else reason) or name)
    TransitionRecord.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=locked.pk,
        name=name,
        source=source,
        target=target_state,
        actor=actor,
        reason=reason,
        forced=force,
    )
