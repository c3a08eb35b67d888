"""Manual order creation, idempotent on its key (brand, source, order id), as Stripe-style idempotency keys are: the
same request again returns the first order and changes nothing; a different request for the same key is a 409 naming
the fields that differ, and nothing is overwritten. Order ingestion from channels is idempotent in its own way
(`orders.services.order_ingest`: a newer version updates); a person re-sending a form must never do that."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from orders.canonical import CanonicalOrder
from orders.models import ManualOrderRequest, Order, OrderSource
from orders.services import order_create_manual
from warehouse.errors import Conflict, Reason
from warehouse.models import Brand
from warehouse.transitions import Actor

NOT_COMPARED = frozenset({"updated_at"})  # set by the server at each request, not by the person


@dataclass(frozen=True)
class ManualCreation:
    order: Order
    created: bool  # False: a replay of the request that created `order`


def _flatten(value: Any, path: str, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list | tuple):
        if not value:
            into[path] = _hash([])
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", into)
    else:
        into[path] = _hash(value)


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def request_field_hashes(canonical: CanonicalOrder) -> dict[str, str]:
    """Each field the request sets (`address.city`, `lines[0].quantity`…) → a short hash of its value."""
    fields = {k: v for k, v in dataclasses.asdict(canonical).items() if k not in NOT_COMPARED}
    found: dict[str, str] = {}
    _flatten(fields, "", found)
    return found


def _differing_fields(now: dict[str, str], first: dict[str, str]) -> list[str]:
    """Paths whose values differ; a line only one request has is named whole (`lines[1]`), not field by field."""
    names = set()
    for path in now.keys() | first.keys():
        if path in now and path in first:
            if now[path] != first[path]:
                names.add(path)
        else:
            names.add(path[: path.rindex("]") + 1] if "]" in path else path)
    return sorted(names)


def manual_order_create_once(
    *, brand: Brand, canonical: CanonicalOrder, actor: Actor, source: str = OrderSource.MANUAL
) -> ManualCreation:
    hashes = request_field_hashes(canonical)
    fingerprint = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    key = {"brand": brand, "source": source, "platform_order_id": canonical.platform_order_id}
    with transaction.atomic():
        try:
            # The unique key serialises concurrent requests: a second insert waits for the first to commit, then fails.
            with transaction.atomic():
                record = ManualOrderRequest.objects.create(**key, fingerprint=fingerprint, field_hashes=hashes)
        except IntegrityError:
            first = ManualOrderRequest.objects.select_related("order").get(**key)
            if first.fingerprint != fingerprint:
                differ = _differing_fields(hashes, first.field_hashes)
                raise Conflict(
                    f"Order {canonical.platform_order_id} was created from another request; nothing was changed. "
                    f"Fields that differ: {', '.join(differ)}.",
                    reasons=[Reason("differs_from_first_request", name) for name in differ],
                ) from None
            assert first.order is not None  # set in the transaction that created the record
            return ManualCreation(first.order, False)
        if Order.objects.filter(channel__isnull=True, **key).exists():
            raise Conflict(
                f"Order {canonical.platform_order_id} exists and was not created by a recorded request; nothing was "
                "changed.",
                reasons=[Reason("order_exists", canonical.platform_order_id)],
            )
        record.order = order_create_manual(brand=brand, canonical=canonical, actor=actor, source=source)
        record.save(update_fields=["order"])
        return ManualCreation(record.order, True)
