"""Read queries of the catalog and of stock, for pages, reports, the API and other apps."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from inventory.kits import kit_available
from inventory.models import (
    Barcode,
    Movement,
    Sku,
    SkuAlias,
    StockLevel,
    StockLevelQuerySet,
    available_expression,
)
from warehouse.models import Brand, Facility

DRIFT_FIELDS = ("weight_grams", "length_mm", "width_mm", "height_mm")


def sku_available(*, sku: Sku, facility: Facility | None = None) -> int:
    """Units free to promise: at one facility, or summed over all of them. A kit's comes from its components."""
    if sku.is_kit:
        return kit_available(sku=sku, facility=facility)
    levels = StockLevel.objects.filter(sku=sku)
    if facility is not None:
        levels = levels.filter(facility=facility)
    total = levels.aggregate(total=Sum(available_expression()))["total"]
    return int(total or 0)


def catalog_drift(*, brand: Brand | None = None) -> QuerySet[Sku]:
    """SKUs missing weight, dimensions or HS code (`.count()` for the number)."""
    missing = Q(hs_code="")
    for name in DRIFT_FIELDS:
        missing |= Q(**{f"{name}__isnull": True})
    skus = Sku.objects.filter(missing).select_related("brand").order_by("brand__name", "code")
    if brand is not None:
        skus = skus.filter(brand=brand)
    return skus


def sku_missing_fields(sku: Sku) -> list[str]:
    """What makes one SKU catalog drift, in words."""
    missing = []
    if sku.weight_grams is None:
        missing.append("weight")
    if None in (sku.length_mm, sku.width_mm, sku.height_mm):
        missing.append("dimensions")
    if not sku.hs_code:
        missing.append("HS code")
    return missing


def sku_list(*, brand: Brand | None = None) -> QuerySet[Sku]:
    skus = Sku.objects.select_related("brand").order_by("brand__name", "code")
    return skus.filter(brand=brand) if brand is not None else skus


def stock_levels(*, brand: Brand | None = None, facility: Facility | None = None) -> StockLevelQuerySet:
    """Stock rows with `available` annotated, joined to their SKU, brand and facility."""
    levels = StockLevel.objects.with_available().select_related("sku__brand", "facility")
    if brand is not None:
        levels = levels.filter(sku__brand=brand)
    if facility is not None:
        levels = levels.filter(facility=facility)
    return levels.order_by("sku__brand__name", "sku__code", "facility__code")


def movement_list(
    *, sku: Sku | None = None, facility: Facility | None = None, event_id: str | None = None
) -> QuerySet[Movement]:
    movements = Movement.objects.select_related("sku", "facility", "actor", "approver").order_by("-created_at", "-id")
    if sku is not None:
        movements = movements.filter(sku=sku)
    if facility is not None:
        movements = movements.filter(facility=facility)
    if event_id is not None:
        movements = movements.filter(event_id=event_id)
    return movements


@dataclass(frozen=True)
class SkuCandidate:
    """A SKU that an unknown code may mean, and why it is offered (its code, an alias or a barcode that looks like
    the code)."""

    sku: Sku
    via: str
    matched: str
    score: float


def _squash(code: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", code.upper())


def sku_candidates(*, brand: Brand, code: str, limit: int = 5) -> list[SkuCandidate]:
    """SKUs of `brand` whose code, alias or barcode looks like `code` (same letters ignoring case and punctuation,
    one containing the other, or close spelling), best first, one entry per SKU. Reads at most a few hundred rows:
    only entries sharing a fragment of the code."""
    wanted = _squash(code or "")
    if not wanted:
        return []
    fragments = [f for f in re.split(r"[^0-9A-Za-z]+", code) if len(f) >= 2] or [wanted]
    near = Q()
    for fragment in fragments[:5]:
        near |= Q(code__icontains=fragment)
    found: list[tuple[str, str, Sku]] = [(s.code, "code", s) for s in Sku.objects.filter(near, brand=brand)[:200]]
    found += [(a.code, "alias", a.sku) for a in SkuAlias.objects.filter(near, brand=brand).select_related("sku")[:100]]
    barcodes = Barcode.objects.filter(brand=brand).filter(Q(value=code.strip()) | Q(value__icontains=wanted))
    found += [(b.value, "barcode", b.sku) for b in barcodes.select_related("sku")[:50]]
    best: dict[int, SkuCandidate] = {}
    for matched, via, sku in found:
        other = _squash(matched)
        if not other:
            continue
        if other == wanted:
            score = 1.0
        elif wanted in other or other in wanted:
            score = 0.6 + 0.3 * min(len(other), len(wanted)) / max(len(other), len(wanted))
        else:
            score = difflib.SequenceMatcher(None, wanted, other).ratio() * 0.8
        if score >= 0.45 and (sku.pk not in best or best[sku.pk].score < score):
            best[sku.pk] = SkuCandidate(sku=sku, via=via, matched=matched, score=round(score, 2))
    return sorted(best.values(), key=lambda c: (-c.score, c.sku.code))[:limit]
