"""The orders app's service behind each transition button (admin, order page, API): `fn(*, obj, actor, reason,
force)`, an explicit table. Transitions without one here (a hold needs its reasons, a hand-over its receipt, dispatch
and delivery follow the carrier) are not offered as buttons. Forcing goes through `order_force`; a shipment's manual
close through `shipment_close_manually` (its admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orders.services import (
    FORCEABLE,
    order_accept,
    order_cancel,
    order_confirm_picked,
    order_force,
    order_pack,
    order_release_to_pick,
    order_validate,
)
from warehouse.errors import InvalidInput, Reason

Step = Callable[..., Any]

ORDER_STEPS: dict[str, Step] = {
    "validate": lambda *, obj, actor, reason="": order_validate(order=obj, actor=actor),
    "accept": lambda *, obj, actor, reason="": order_accept(order=obj, actor=actor),
    "release_to_pick": lambda *, obj, actor, reason="": order_release_to_pick(order=obj, actor=actor, reason=reason),
    "confirm_picked": lambda *, obj, actor, reason="": order_confirm_picked(order=obj, actor=actor, reason=reason),
    "pack": lambda *, obj, actor, reason="": order_pack(order=obj, actor=actor, reason=reason),
    "cancel": lambda *, obj, actor, reason="": order_cancel(order=obj, actor=actor, reason=reason),
}
STEPS: dict[str, dict[str, Step]] = {"order": ORDER_STEPS, "shipment": {}}


def transition_service(model_name: str, name: str) -> Step | None:
    """The step for transition `name` of `model_name` ("order" or "shipment"), or None when none is offered."""
    step = STEPS.get(model_name, {}).get(name)
    if step is None:
        return None

    def run(*, obj: Any, actor: Any, reason: str = "", force: bool = False) -> Any:
        if not force:
            return step(obj=obj, actor=actor, reason=reason)
        if model_name == "order" and name in FORCEABLE:
            return order_force(order=obj, name=name, actor=actor, reason=reason)
        raise InvalidInput(f"{name} cannot be forced.", reasons=[Reason("not_forceable", name)])

    return run
