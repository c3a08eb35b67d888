"""Write use-cases of the operator's core: the exception queue."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from warehouse.errors import InvalidInput, Reason, TransitionNotAllowed
from warehouse.models import Brand, ExceptionItem, ExceptionKind, ExceptionState, Facility
from warehouse.transitions import Actor, transition_apply


def exception_dedupe_key(*, kind: str, subject: models.Model | None, extra: str = "") -> str:
    if subject is None:
        return f"{kind}:{extra}"
    return f"{kind}:{subject._meta.label_lower}:{subject.pk}:{extra}"


def exception_open(
    *,
    kind: ExceptionKind | str,
    summary: str,
    reasons: list[Reason],
    subject: models.Model | None = None,
    brand: Brand | None = None,
    facility: Facility | None = None,
    dedupe_key: str | None = None,
    detail: dict[str, Any] | None = None,
) -> ExceptionItem:
    """Open an exception, or return the one already open for the same cause (a re-run check adds no duplicate).

    A still-open item gets the newest reasons, so the queue always says what is wrong now."""
    key = dedupe_key or exception_dedupe_key(kind=str(kind), subject=subject)
    body = {**(detail or {}), "reasons": [r.as_dict() for r in reasons]}
    content_type = ContentType.objects.get_for_model(subject) if subject is not None else None
    for _attempt in range(2):
        existing = ExceptionItem.objects.filter(dedupe_key=key, state=ExceptionState.OPEN).first()
        if existing is not None:
            if existing.detail != body or existing.summary != summary[:300]:
                existing.detail, existing.summary = body, summary[:300]
                existing.save(update_fields=["detail", "summary"])
            return existing
        try:
            with transaction.atomic():
                return ExceptionItem.objects.create(
                    kind=str(kind),
                    summary=summary[:300],
                    detail=body,
                    dedupe_key=key,
                    brand=brand,
                    facility=facility,
                    content_type=content_type,
                    object_id=subject.pk if subject is not None else None,
                )
        except IntegrityError:
            continue  # opened concurrently by another worker: return theirs
    return ExceptionItem.objects.get(dedupe_key=key, state=ExceptionState.OPEN)


def _decide(*, item: ExceptionItem, actor: Actor, note: str, name: str) -> ExceptionItem:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("A decision needs a note.", reasons=[Reason("note_required", "Write what was decided")])
    return transition_apply(
        obj=item,
        name=name,
        actor=actor,
        reason=note,
        changes={"decision_note": note, "decided_by": actor, "decided_at": timezone.now()},
    )


def exception_resolve(*, item: ExceptionItem, actor: Actor, note: str) -> ExceptionItem:
    """A manager records the decision that closes the exception."""
    return _decide(item=item, actor=actor, note=note, name="resolve")


# Kinds closed by the decision taken on their subject's page (a receiving variance: accept or reject the units there).
# Resolving one from the queue, the console or the API would close it with the line undecided.
DECIDED_ON_THEIR_PAGE = frozenset({ExceptionKind.RECEIVING_VARIANCE})


def exception_resolve_by_hand(*, item: ExceptionItem, actor: Actor, note: str) -> ExceptionItem:
    """Resolve from a generic place (the queue, the console record, the API): refused for the kinds whose decision
    belongs on their subject's page, which closes them itself."""
    if item.kind in DECIDED_ON_THEIR_PAGE:
        raise TransitionNotAllowed(
            f"Exception #{item.pk} is decided on its own page: {item.get_kind_display().lower()} closes when the "
            "units are accepted or rejected there.",
            reasons=[Reason("decided_on_its_page", "Decide it on the inbound's page")],
        )
    return exception_resolve(item=item, actor=actor, note=note)


def exception_escalate(*, item: ExceptionItem, actor: Actor, note: str) -> ExceptionItem:
    return _decide(item=item, actor=actor, note=note, name="escalate")


def exceptions_resolve_if_cleared(*, subject: models.Model, kind: ExceptionKind | str, note: str) -> int:
    """Close the open exceptions of `kind` on `subject` because the re-check of their cause passed.

    Called by the service that fixed the cause (e.g. an on-hold order that now validates); never by a timer."""
    content_type = ContentType.objects.get_for_model(subject)
    closed = 0
    for item in ExceptionItem.objects.filter(
        content_type=content_type, object_id=subject.pk, kind=str(kind), state=ExceptionState.OPEN
    ):
        _decide(item=item, actor=None, note=note, name="resolve")
        closed += 1
    return closed
