"""The SKU catalogue in the console: the list (with the catalog drift filter), a new SKU, and one SKU's page, where a
person edits its fields, walks its lifecycle step by step, changes its code or barcode (the old one stays valid for a
window), adds an alias and defines a kit's components. Every change asks why and lands in the SKU's history.

Brand users see their own SKUs only (another brand's is a 404), fix the drift fields and never a code; while a
brand's ERP owns its catalog the page shows the master fields read-only and says so. The rules live in
`inventory.catalog`; these views turn a form into the call and the outcome into a message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from inventory import catalog
from inventory.models import CatalogOwnership, KitComponent, Sku, SkuState
from inventory.page_support import attributes_text, is_brand_user, parse_attributes, parse_pairs, run_service
from inventory.selectors import DRIFT_FIELDS, catalog_drift, sku_list, sku_missing_fields
from inventory.services import sku_create
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import InvalidInput
from warehouse.roles import brands_visible_to, scope_to_brands
from warehouse.transitions import failed_guards

FIELD_LABELS = {
    "title": "Title",
    "parent_code": "Parent product code",
    "variant_attributes": "Variant attributes (e.g. size=M, colour=blue)",
    "weight_grams": "Weight (g)",
    "length_mm": "Length (mm)",
    "width_mm": "Width (mm)",
    "height_mm": "Height (mm)",
    "hs_code": "HS code",
    "unit_cost": "Unit cost",
    "customs_value": "Customs value",
    "country_of_origin": "Country of origin (ISO, e.g. ES)",
    "is_kit": "This SKU is a kit (sold as one unit, stocked as its components)",
}


def _may_read(user: Any) -> bool:
    return bool(user.has_perm("inventory.view_sku") or is_brand_user(user))


def _visible_skus(user: Any) -> Any:
    return scope_to_brands(sku_list(), user)


def _sku_for(request: HttpRequest, pk: int) -> Sku:
    if not _may_read(request.user):
        raise PermissionDenied
    return get_object_or_404(_visible_skus(request.user), pk=pk)


def _back(sku: Sku, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("catalog-sku", args=[sku.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_http_methods(["GET"])
def catalog_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user):
        raise PermissionDenied
    drift = request.GET.get("drift") == "1"
    skus = scope_to_brands(catalog_drift() if drift else sku_list(), user)
    query = request.GET.get("q", "").strip()
    if query:
        skus = skus.filter(Q(code__icontains=query) | Q(title__icontains=query))
    state = request.GET.get("state", "")
    if state in SkuState.values:
        skus = skus.filter(state=state)
    page = BoundedCountPaginator(skus, 50).get_page(request.GET.get("page"))
    rows = [{"sku": sku, "missing": sku_missing_fields(sku)} for sku in page.object_list]
    brands = list(brands_visible_to(user).order_by("name"))
    owned = {row.brand_id: row for row in CatalogOwnership.objects.filter(brand__in=brands, owned_by_erp=True)}
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(
        request,
        "inventory/catalog_list.html",
        {
            "nav": "catalog",
            "page": page,
            "rows": rows,
            "q": query,
            "drift": drift,
            "state": state,
            "states": SkuState.choices,
            "query": query_string.urlencode(),
            "may_add": user.has_perm(catalog.ADD_SKU),
            "erp_owned": [{"brand": b, "erp": owned[b.pk].erp_name or "its ERP"} for b in brands if b.pk in owned][:20],
            "owned": owned,
            "may_set_ownership": user.has_perm(catalog.CHANGE_OWNERSHIP),
            "brands": brands if user.has_perm(catalog.CHANGE_OWNERSHIP) else [],
            "brand_user": is_brand_user(user),
        },
    )


def _number(value: str) -> Any:
    return value.strip() or None


@login_required
@require_http_methods(["GET", "POST"])
def catalog_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm(catalog.ADD_SKU):
        raise PermissionDenied
    brands = list(brands_visible_to(user).order_by("name"))
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        chosen = request.POST.get("brand", "")
        brand = next((b for b in brands if chosen in (str(b.pk), b.slug)), None)

        def create() -> Sku:
            if brand is None:
                raise InvalidInput("Choose the brand.")
            return sku_create(
                brand=brand, code=request.POST.get("code", ""), actor=user, via="console",
                title=request.POST.get("title", "").strip(), parent_code=request.POST.get("parent_code", "").strip(),
                variant_attributes=parse_attributes(request.POST.get("variant_attributes", "")),
                weight_grams=catalog._coerce("weight_grams", request.POST.get("weight_grams", "")),
                length_mm=catalog._coerce("length_mm", request.POST.get("length_mm", "")),
                width_mm=catalog._coerce("width_mm", request.POST.get("width_mm", "")),
                height_mm=catalog._coerce("height_mm", request.POST.get("height_mm", "")),
                hs_code=request.POST.get("hs_code", "").strip(),
                unit_cost=catalog._coerce("unit_cost", request.POST.get("unit_cost", "")),
                customs_value=catalog._coerce("customs_value", request.POST.get("customs_value", "")),
                country_of_origin=catalog._coerce("country_of_origin", request.POST.get("country_of_origin", "")),
                is_kit=bool(request.POST.get("is_kit")), reason=request.POST.get("reason", "").strip() or "created",
            )  # fmt: skip

        created = run_service(request, create, lambda sku: f"SKU {sku.code} created for {sku.brand}.")
        if created is not None:
            return _back(created)
    fields = [
        {"name": name, "label": label, "value": values.get(name, "") if hasattr(values, "get") else ""}
        for name, label in FIELD_LABELS.items()
    ]
    return render(
        request,
        "inventory/catalog_new.html",
        {"nav": "catalog", "brands": brands, "fields": fields, "values": values},
    )


def _field_rows(sku: Sku, editable: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for name, label in FIELD_LABELS.items():
        value = getattr(sku, name)
        shown = attributes_text(value) if name == "variant_attributes" else ("" if value is None else value)
        rows.append({"name": name, "label": label, "value": shown, "editable": name in editable,
                     "missing": name in (*DRIFT_FIELDS, "hs_code") and value in (None, "")})  # fmt: skip
    return rows


def _steps(sku: Sku, user: Any) -> list[dict[str, Any]]:
    states = [state for state, _, _ in catalog.LIFECYCLE] + [SkuState.READY_FOR_RECEIVING]
    current = states.index(sku.state) if sku.state in states else 0
    steps = []
    may = bool(user.has_perm(catalog.CHANGE_SKU)) and user.has_perm("inventory.operate_sku")
    for index, (_state, name, label) in enumerate(catalog.LIFECYCLE):
        steps.append(
            {
                "name": name,
                "label": label,
                "done": index < current,
                "next": index == current,
                "blocked": [r.message for r in failed_guards(sku, name)]
                if index == current and name != "assign_barcode"
                else [],
                "may": may and index == current,
            }
        )
    return steps


@login_required
@require_http_methods(["GET", "POST"])
def catalog_sku(request: HttpRequest, pk: int) -> HttpResponse:
    """One SKU: its fields (the editable ones as a form asking why), lifecycle, barcodes, aliases, kit, history."""
    user: Any = request.user
    sku = _sku_for(request, pk)
    erp = catalog.catalog_owned_by_erp(sku.brand)
    editable = catalog.editable_fields(user=user, sku=sku)
    if request.method == "POST":
        if not editable and erp is None:
            raise PermissionDenied
        changes: dict[str, Any] = {}
        for name in editable:
            if name == "is_kit":
                changes[name] = bool(request.POST.get(name))
            elif name in request.POST:
                raw = request.POST.get(name, "")
                changes[name] = parse_attributes(raw) if name == "variant_attributes" else raw
        if "code" in request.POST and request.POST["code"].strip() != sku.code:
            changes["code"] = request.POST["code"]

        def update() -> Sku:
            return catalog.sku_update(sku=sku, changes=changes, actor=user, reason=request.POST.get("reason", ""))

        if run_service(request, update, lambda s: f"SKU {s.code} saved.") is not None:
            return _back(sku)
    now = timezone.now()
    barcodes = list(sku.barcodes.order_by("is_legacy", "-valid_from"))
    aliases = list(sku.aliases.order_by("-valid_until"))
    components = list(KitComponent.objects.filter(kit=sku).select_related("component").order_by("component__code"))
    history = list(sku.history.select_related("history_user").order_by("-history_date")[:20])
    may_change = bool(user.has_perm(catalog.CHANGE_SKU)) and erp is None
    return render(
        request,
        "inventory/catalog_sku.html",
        {
            "nav": "catalog",
            "sku": sku,
            "erp": erp,
            "fields": _field_rows(sku, editable),
            "editable": editable,
            "missing": sku_missing_fields(sku),
            "steps": _steps(sku, user) if may_change else [],
            "ready": sku.state == SkuState.READY_FOR_RECEIVING,
            "barcodes": [{"b": b, "active": b.in_window(now) and not b.is_legacy} for b in barcodes],
            "aliases": [{"a": a, "active": a.is_valid_at(now)} for a in aliases],
            "components": components,
            "components_text": "\n".join(f"{c.component.code}, {c.quantity}" for c in components),
            "history": history,
            "may_change": may_change,
            "brand_user": is_brand_user(user),
            "today": now.date().isoformat(),
            "in_30_days": (now + catalog.DEFAULT_WINDOW).date().isoformat(),
        },
    )


def _actor(request: HttpRequest) -> Any:
    return request.user


def _writer(request: HttpRequest, pk: int) -> Sku:
    """The SKU a catalogue write acts on: visible to the user (else 404), and the user may change SKUs (else 403)."""
    sku = _sku_for(request, pk)
    if not request.user.has_perm(catalog.CHANGE_SKU):
        raise PermissionDenied
    return sku


@login_required
@require_POST
def catalog_sku_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    sku = _writer(request, pk)
    run_service(
        request,
        lambda: catalog.catalog_step(
            sku=sku,
            name=name,
            actor=_actor(request),
            reason=request.POST.get("reason", ""),
            barcode=request.POST.get("barcode", ""),
        ),
        lambda s: f"{s.code} is now {s.get_state_display().lower()}.",
    )
    return _back(sku, "lifecycle")


def _days(request: HttpRequest) -> Any:
    raw = request.POST.get("window_days", "30").strip()
    return int(raw) if raw.isdigit() else raw


@login_required
@require_POST
def catalog_sku_code(request: HttpRequest, pk: int) -> HttpResponse:
    sku = _writer(request, pk)
    old = sku.code
    run_service(
        request,
        lambda: catalog.catalog_change_code(
            sku=sku,
            new_code=request.POST.get("new_code", ""),
            actor=_actor(request),
            reason=request.POST.get("reason", ""),
            window_days=_days(request),
        ),
        lambda alias: f"Code changed from {old} to {sku.code}; {old} is accepted until {alias.valid_until:%Y-%m-%d}.",
    )
    return _back(sku, "codes")


@login_required
@require_POST
def catalog_sku_barcode(request: HttpRequest, pk: int) -> HttpResponse:
    sku = _writer(request, pk)
    run_service(
        request,
        lambda: catalog.catalog_change_barcode(
            sku=sku,
            new_value=request.POST.get("barcode", ""),
            actor=_actor(request),
            reason=request.POST.get("reason", ""),
            window_days=_days(request),
        ),
        lambda b: f"Barcode {b.value} is now active; the previous ones stay valid for the window, then warn.",
    )
    return _back(sku, "codes")


def _date(value: str, *, end: bool = False) -> Any:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time(), tzinfo=dt.UTC)
    return moment


@login_required
@require_POST
def catalog_sku_alias(request: HttpRequest, pk: int) -> HttpResponse:
    sku = _writer(request, pk)
    run_service(
        request,
        lambda: catalog.catalog_add_alias(
            sku=sku,
            code=request.POST.get("code", ""),
            actor=_actor(request),
            reason=request.POST.get("reason", ""),
            valid_from=_date(request.POST.get("valid_from", "")),
            valid_until=_date(request.POST.get("valid_through", ""), end=True),
        ),
        lambda a: f"{a.code} means {sku.code} until {a.valid_until:%Y-%m-%d}.",
    )
    return _back(sku, "codes")


@login_required
@require_POST
def catalog_sku_components(request: HttpRequest, pk: int) -> HttpResponse:
    sku = _writer(request, pk)

    def define() -> list[Any]:
        pairs = parse_pairs(request.POST.get("components", ""), what="component")
        return catalog.catalog_set_components(kit=sku, components=pairs, actor=_actor(request),
                                              reason=request.POST.get("reason", ""))  # fmt: skip

    run_service(request, define, lambda rows: f"Kit {sku.code} has {len(rows)} components.")
    return _back(sku, "kit")


@login_required
@require_POST
def catalog_ownership(request: HttpRequest) -> HttpResponse:
    """The per-brand switch "catalog owned by ERP" (administrators)."""
    user: Any = request.user
    if not user.has_perm(catalog.CHANGE_OWNERSHIP):
        raise PermissionDenied
    chosen = request.POST.get("brand", "")
    brand = get_object_or_404(brands_visible_to(user), Q(slug=chosen) | Q(pk=int(chosen) if chosen.isdigit() else 0))
    owned = request.POST.get("owned_by_erp") == "on"

    def switch() -> Any:
        return catalog.catalog_ownership_set(brand=brand, owned_by_erp=owned, erp_name=request.POST.get("erp_name", ""),
                                             actor=user, reason=request.POST.get("reason", ""))  # fmt: skip

    run_service(request, switch, lambda row: f"{brand}'s catalog is now owned by {row.erp_name or 'its ERP'}."
                if row.owned_by_erp else f"{brand}'s catalog is now edited in the console.")  # fmt: skip
    return HttpResponseRedirect(reverse("catalog"))
