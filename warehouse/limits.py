"""One rule for a value longer than its column: it is never cut short.

A person's input over its limit is refused (`TooLong`, a 400 naming the field). A channel's value over its column
is not refused here (the platform cannot be asked again): the orders service holds the order with the field named
and stores nothing of the value (the full value stays in the stored delivery payload). Both start from `too_long`."""

from __future__ import annotations

from typing import Any

from warehouse.errors import Reason, TooLong


def as_text(value: Any) -> str:
    """A received value as stripped text, whole; whatever arrived (a 5,000-digit number included) never raises."""
    if value is None:
        return ""
    try:
        return str(value).strip()
    except ValueError:  # int → str refuses more than 4,300 digits
        return "<unreadable>"


def too_long(field: str, text: str, limit: int) -> Reason | None:
    """The reason naming `field` when `text` does not fit in `limit` characters, else None."""
    if len(text) <= limit:
        return None
    return Reason("too_long", f"{field}: {len(text)} characters, at most {limit}")


def refuse_too_long(reasons: list[Reason]) -> None:
    if reasons:
        raise TooLong(
            "Too long: " + "; ".join(r.message for r in reasons) + ". Nothing was saved.", reasons=list(reasons)
        )


def text_within(value: Any, *, field: str, limit: int) -> str:
    """A person's value as whole text, or `TooLong` naming `field` when it is over `limit` characters."""
    text = as_text(value)
    reason = too_long(field, text, limit)
    refuse_too_long([reason] if reason else [])
    return text
