"""Label files: the carrier's bytes kept as they came (PDF, ZPL or GIF), in Django's default storage under
`labels/<carrier>/<yyyy>/<mm>/`, named by tracking number and SHA-256, so a reprint or a second store of the same
bytes finds the same file. A `Label` model (parcel, account, file, sha256, cost) belongs with the parcels of the
floor work; until then `StoredLabel` is everything it will hold."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from integrations.carriers.protocol import Label, Money, ParcelResult


class LabelTampered(Exception):
    """A stored label's bytes no longer match the SHA-256 recorded when it was bought."""


@dataclass(frozen=True)
class StoredLabel:
    carrier: str
    tracking_number: str
    path: str  # in the default storage
    format: str
    sha256: str
    size: int
    cost: Decimal | None = None
    currency: str = ""


def label_store(
    *, carrier: str, tracking_number: str, label: Label, cost: Money | None = None, at: dt.datetime | None = None
) -> StoredLabel:
    """Write the label's bytes once (content-addressed: the same bytes for the same parcel are one file)."""
    when = timezone.localtime(at or timezone.now())
    safe = "".join(ch for ch in tracking_number if ch.isalnum()) or "parcel"
    path = f"labels/{carrier}/{when:%Y/%m}/{safe}-{label.sha256[:16]}.{label.suffix}"
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(label.content))
        if saved != path:  # a concurrent writer won the name with the same bytes: keep one file
            default_storage.delete(saved)
    return StoredLabel(
        carrier=carrier,
        tracking_number=tracking_number,
        path=path,
        format=label.format,
        sha256=label.sha256,
        size=len(label.content),
        cost=cost.amount if cost else None,
        currency=cost.currency if cost else "",
    )


def label_store_result(*, carrier: str, result: ParcelResult) -> StoredLabel:
    if result.label is None:
        raise ValueError(f"parcel {result.parcel_reference} has no label to store")
    return label_store(carrier=carrier, tracking_number=result.tracking_number, label=result.label, cost=result.cost)


def label_read(stored: StoredLabel) -> bytes:
    """The label's bytes for a reprint or a download, checked against its SHA-256."""
    with default_storage.open(stored.path, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != stored.sha256:
        raise LabelTampered(f"the stored label {stored.path} does not match its SHA-256")
    return content
