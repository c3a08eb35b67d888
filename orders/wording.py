"""What a brand's people read on an order's timeline: one table of plain words per kind of timeline event.

The stored event message is written for the warehouse's staff: it may carry a manager's internal reason (a forced
step, a manual close, a cancellation), state names (`on_hold → validated`), field names (`postal_code`) or a carrier
receipt. Staff keep reading it whole; a brand user reads the words below instead, built only from the event's kind and
from values this module names one by one, so nothing internal reaches them by accident."""

from __future__ import annotations

from typing import Any

from orders.models import OrderEvent, OrderEventKind, OrderState

# Field names as the order services write them (the `delivery_` prefix dropped), in the words a person uses.
FIELD_WORDS = {
    "name": "the recipient's name",
    "company": "the company name",
    "street1": "the street",
    "street2": "the second address line",
    "postal_code": "the ZIP / postal code",
    "city": "the city",
    "region": "the region",
    "country": "the country",
    "contact_phone": "the phone number",
    "contact_email": "the email address",
    "special_handling": "the handling note",
    "lines": "the order lines",
}

# Why an order is held, by reason code. None: the reason's own message is already written for the brand (it names
# their line, SKU code or missing address part); a code not listed here is shown as the generic last entry.
HOLD_WORDS: dict[str, str | None] = {
    "order_id_missing": None,
    "lines_missing": None,
    "sku_missing": None,
    "unknown_sku": None,
    "alias_expired": None,
    "quantity_invalid": None,
    "street_missing": None,
    "postal_code_missing": None,
    "city_missing": None,
    "country_missing": None,
    "country_invalid": None,
    "phone_missing": None,
    "phone_invalid": None,
    "short": "waiting for stock to arrive",
    "split_route": "waiting for stock to arrive",
    "insufficient_reserved": "waiting for stock to arrive",
    "not_allocatable": "some lines still need a valid product and quantity",
    "facility_missing": "the warehouse that ships it is still being chosen",
    "short_pick": "an item was not on the shelf; the warehouse team is checking the stock",
}
HOLD_OTHER = "the warehouse team is checking a detail"

# Title and text per event kind. None as the whole entry: not shown to a brand (internal bookkeeping).
EVENT_WORDS: dict[str, tuple[str, str] | None] = {
    OrderEventKind.RECEIVED: ("Received", "The warehouse received the order."),
    OrderEventKind.UPDATED: ("Updated", "The sales channel sent a change: {fields}."),
    OrderEventKind.EDITED: ("Corrected", "The warehouse team corrected {fields}."),
    OrderEventKind.EDIT_REFUSED: (
        "Change not applied",
        "A change arrived after picking started, so it was not applied; the warehouse team is reviewing it.",
    ),
    OrderEventKind.VALIDATED: ("Checked", "The order's details are complete."),
    OrderEventKind.HELD: ("On hold", "On hold: {reasons}."),
    OrderEventKind.ALLOCATED: ("Stock set aside", "Stock is set aside for the order."),
    OrderEventKind.ALLOCATION_RELEASED: None,
    OrderEventKind.ACCEPTED: ("Accepted", "The order is accepted and waits to be picked."),
    OrderEventKind.RELEASED_TO_PICK: ("Picking", "The warehouse started picking the order."),
    OrderEventKind.PICK_ACTIVITY: None,
    OrderEventKind.SHORT_PICK: None,  # the floor hold that follows says it in the brand's words
    OrderEventKind.FLOOR_HOLD: ("On hold", "On hold: {reasons}."),
    OrderEventKind.FLOOR_RESUMED: ("Resumed", "The warehouse team resumed the order."),
    OrderEventKind.LINE_CANCELLED: ("Item removed", "An item that was not in stock was removed; the rest goes on."),
    OrderEventKind.PICKED: ("Picked", "Every item is picked; the order goes to packing."),
    OrderEventKind.PACKED: ("Packed", "The order is packed and waits for the carrier."),
    OrderEventKind.LABEL_CREATED: ("Label created", "A shipping label was created."),
    OrderEventKind.HANDED_TO_CARRIER: ("With the carrier", "The carrier collected the parcel."),
    OrderEventKind.CARRIER_SCAN: None,  # the page lists the shipment's own scans, with place and words, for everyone
    OrderEventKind.IN_TRANSIT: ("In transit", "The parcel is on its way."),
    OrderEventKind.DELIVERED: ("Delivered", "The order was delivered."),
    OrderEventKind.CANCELLED: ("Cancelled", "The order was cancelled."),
    OrderEventKind.CANCEL_REFUSED: (
        "Cancellation too late",
        "A cancellation arrived after the order was packed; the warehouse team is reviewing it.",
    ),
    OrderEventKind.FORCED: ("Moved on by the warehouse team", "The warehouse team moved the order on: {state}."),
    OrderEventKind.STALE_IGNORED: None,
}

# Where a return is, in words (returns are the last chapter of "where is my order"; staff and brands read the same).
RETURN_WORDS = {
    "initiated": "requested",
    "authorized": "authorised: the parcel can be sent back",
    "shipped_back": "on its way back to the warehouse",
    "received": "received at the warehouse, in quarantine until inspected",
    "triaged": "inspected",
    "restocked": "inspected and restocked",
    "reworked": "sent to rework",
    "disposed": "disposed of after inspection",
    "completed": "inspected: each unit restocked, reworked or disposed of as its grade decided",
}


def _fields(message: str) -> str:
    """The changed fields named after the message's colon ("Edited: postal_code, phone"), each in words; a name this
    module does not know is left out rather than shown raw."""
    names = [name.strip() for name in message.partition(":")[2].split(",")]
    words = [FIELD_WORDS[name] for name in names if name in FIELD_WORDS]
    if not words:
        return "some details"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _hold_reasons(data: dict[str, Any]) -> str:
    said: list[str] = []
    for reason in data.get("reasons") or []:
        code = reason.get("code", "") if isinstance(reason, dict) else ""
        words = HOLD_WORDS.get(code, HOLD_OTHER)
        text = str(reason.get("message", "")) if words is None else words
        if text and text not in said:
            said.append(text)
    return "; ".join(said) or HOLD_OTHER


def _state(data: dict[str, Any]) -> str:
    labels = dict(OrderState.choices)
    to = data.get("to")
    return f"it is now {labels[to].lower()}" if to in labels else "it continues"


def brand_words(event: OrderEvent) -> tuple[str, str] | None:
    """(title, text) of one timeline event for a brand user, or None when a brand does not see it."""
    entry = EVENT_WORDS.get(event.kind)
    if entry is None:
        return None
    title, text = entry
    data = event.data if isinstance(event.data, dict) else {}
    if "{fields}" in text:
        text = text.format(fields=_fields(event.message))
    elif "{reasons}" in text:
        text = text.format(reasons=_hold_reasons(data))
    elif "{state}" in text:
        text = text.format(state=_state(data))
    return title, text


def return_words(state: str, label: str) -> str:
    return f"Return {RETURN_WORDS.get(state, label.lower())}."
