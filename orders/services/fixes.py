"""A person's fixes against a platform's updates: a fixed field keeps the person's value, and a platform value that
differs from both is a conflict kept for a person's decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orders.canonical import CanonicalLine
from orders.models import (
    Order,
    OrderEventKind,
)
from orders.services.common import text_received
from orders.services.lines import MATERIAL_FIELDS, line_signature, stored_signature
from orders.services.timeline import order_exception_open, timeline_add
from warehouse.errors import Reason
from warehouse.models import ExceptionKind
from warehouse.transitions import Actor

FIELD_WORDS = {
    "delivery_name": "name",
    "delivery_street1": "street",
    "delivery_street2": "street (second line)",
    "delivery_postal_code": "ZIP",
    "delivery_city": "city",
    "delivery_region": "region",
    "delivery_country": "country",
    "contact_phone": "phone",
    "special_handling": "special handling",
    "lines": "lines",
}


DECISIONS = ("ours", "platform")


def signature_json(signature: Sequence[tuple[str, ...]]) -> list[list[str]]:
    return [list(entry) for entry in signature]


def fix_remember(order: Order, name: str, platform_value: Any, *, actor: Actor) -> None:
    """A person changed `name`: a later platform update keeps the person's value (`fixes_keep`). The value
    the platform had sent is kept, so the platform sending it again is no conflict."""
    if actor is not None and name not in (order.person_fixes or {}):
        order.person_fixes = {**(order.person_fixes or {}), name: platform_value}


def fixes_keep(
    order: Order, fields: dict[str, Any], lines: list[CanonicalLine]
) -> tuple[list[CanonicalLine] | None, dict[str, Any]]:
    """A platform update never overwrites what a person fixed: those fields keep the person's value (in `fields`;
    lines: None). A platform value that differs from both what it sent before the fix and ours is a conflict,
    returned for a person to decide; one already waiting is not raised again."""
    fixes, waiting = order.person_fixes or {}, order.platform_conflicts or {}
    new: dict[str, Any] = {}
    for name in MATERIAL_FIELDS:
        if name in fixes:
            incoming, ours = fields[name], getattr(order, name)
            fields[name] = ours
            if incoming not in (fixes[name], ours) and waiting.get(name) != incoming:
                new[name] = incoming
    if "lines" not in fixes:
        return lines, new
    incoming_lines = signature_json(line_signature(lines))
    if incoming_lines not in (fixes["lines"], signature_json(stored_signature(order))):
        theirs = [
            [*entry, text_received(x.title, 300, "line title")] for entry, x in zip(incoming_lines, lines, strict=True)
        ]
        if waiting.get("lines") != theirs:
            new["lines"] = theirs
    return None, new


def conflicts_record(order: Order, new: dict[str, Any], *, actor: Actor) -> None:
    """Keep the platform's values for a person's decision, on the order page and in one exception per order."""
    order.platform_conflicts = {**(order.platform_conflicts or {}), **new}
    words = ", ".join(FIELD_WORDS[name] for name in new)
    timeline_add(order, OrderEventKind.UPDATE_CONFLICT,
           f"The platform changed {words}, which a person had fixed: ours is kept until someone decides", actor=actor,
           data={"fields": list(new)})  # fmt: skip
    waiting = ", ".join(FIELD_WORDS[name] for name in order.platform_conflicts)
    reasons = [
        Reason("update_conflict", f"the platform sent a different {FIELD_WORDS[name]} after a person fixed it")
        for name in order.platform_conflicts
    ]
    order_exception_open(
        order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT, summary=f"platform update conflicts with a fix: {waiting}",
        reasons=reasons,
    )  # fmt: skip
