"""Roles as code: the groups people are put in, the permissions each carries, and brand scoping.

`sync_roles` (command and data migration) makes the database match `ROLES`; it is idempotent and removes permissions
no longer listed, so a role is exactly what this file says. Patterns use shell wildcards over "app.codename" so a
role keeps up with models other apps add (a new `orders.view_x` is visible to operations on the next sync).

Brand users carry no global permission on data (their global permissions, `allocation.adjust_own_policy` and
`returns.add_return`, are always checked together with brand scoping): each gets `warehouse.view_brand_data` on
their own `Brand` through django-guardian; staff roles hold it globally and so see every brand. Every list the
admin, the pages and the API show is scoped through `brands_visible_to` / `scope_to_brands`."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import models
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from warehouse.models import Brand

M = TypeVar("M", bound=models.Model)
UserLike = User | AnonymousUser

BRAND_DATA = "warehouse.view_brand_data"

OPERATIONS = "operations"
WAREHOUSE_MANAGER = "warehouse_manager"
ADMINISTRATOR = "administrator"
FINANCE = "finance"
BRAND = "brand"

# Allocation policy and cutoffs are configuration: administrators edit them (console), staff roles read them.
_SEE_ALLOCATION = [
    "allocation.view_allocationpolicy",
    "allocation.view_cutoff",
    "allocation.view_contractreservation",
    "allocation.view_scheduledinbound",
]
_EDIT_ALLOCATION = [
    "allocation.add_allocationpolicy",
    "allocation.change_allocationpolicy",
    "allocation.add_cutoff",
    "allocation.change_cutoff",
]

# The SKU catalogue pages (inventory/catalog_pages.py): create and edit SKUs, their barcodes, aliases and kits, each
# change with a reason. Brand users fix drift fields of their own SKUs through brand scoping, not a permission.
_EDIT_CATALOG = ["inventory.add_sku", "inventory.change_sku", "inventory.add_skualias", "inventory.operate_sku"]

_SEE_OPERATIONS = [
    BRAND_DATA,
    "warehouse.view_brand",
    "warehouse.view_facility",
    "warehouse.view_saleschannel",
    "warehouse.view_exceptionitem",
    "warehouse.view_transitionrecord",
    "orders.view_*",
    "inventory.view_*",
    "returns.view_*",
    "integrations.view_connection",
    "carriers.view_carrieraccount",
    "alerts.view_incident",
    "alerts.view_incidententry",
    "shipping.view_*",  # labels, manifests and the service rules (administrators edit those)
    *_SEE_ALLOCATION,
]

# Ordinary operational steps (pick, pack, hand over, receive a return) are transitions whose `permission=` is
# `<app>.operate_<model>`; proposing a count opens an exception item (inventory/proposals.py). None of them forces.
_OPERATE = [
    "orders.operate_*",
    "inventory.operate_*",
    "returns.operate_*",
    "warehouse.add_exceptionitem",
    "orders.add_order",  # key in a manual order (an email order while the channel is down)
]

ROLES: dict[str, list[str]] = {
    OPERATIONS: _SEE_OPERATIONS + _OPERATE,
    WAREHOUSE_MANAGER: _SEE_OPERATIONS
    + _OPERATE
    + [
        "warehouse.resolve_exceptionitem",
        "*.force_*_transition",
        "inventory.approve_cycle_count",
        "returns.triage_return",
        "returns.add_return",  # authorise a return against a shipped order (returns.services.return_authorize_order)
        "outbox.view_*",
        "orders.change_order",  # fix an on-hold order's address, phone or lines through the order service
        "inventory.add_skualias",  # map a channel's unknown code to a SKU, from a held order's page
        "orders.close_shipment",
        "reports.view_finance_reports",
        "reports.export_reports",
        "integrations.tick_onboardingitem",  # a brand's onboarding checklist and its go-live date
        "alerts.operate_incident",  # acknowledge, snooze, keep the post-incident review, declare maintenance
        "alerts.view_*",
        *_EDIT_CATALOG,
        "inventory.add_expectedinbound",  # announce an inbound for a brand (brands and ERPs do it through the API)
        "allocation.add_contractreservation",  # a wholesale reservation (orders/allocation/entries.py)
        "allocation.add_scheduledinbound",  # a scheduled inbound for pre-orders (brands and ERPs: the API)
        "tracking.enter_manual_tracking",  # the carrier's API is down: tracking keyed in, re-checked later
        "tracking.view_*",
    ],
    ADMINISTRATOR: [
        BRAND_DATA,
        "warehouse.view_brand",
        "warehouse.add_brand",
        "warehouse.change_brand",
        "warehouse.view_facility",
        "warehouse.add_facility",
        "warehouse.change_facility",
        "warehouse.view_saleschannel",
        "warehouse.change_saleschannel",  # its name and SLA window; the channel is made with its connection
        "integrations.*",
        "alerts.*",  # tune the alert rules, set recipients, declare maintenance
        "carriers.*",
        "shipping.*",  # the service rules (labels and manifests change only through the shipping services)
        "tracking.*",  # the brands' customer-notification choice
        "outbox.view_*",
        "outbox.manage_deadletter",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "reports.view_finance_reports",
        "reports.export_reports",
        "reports.view_ratecard",
        "reports.add_ratecard",
        "reports.change_ratecard",
        "reports.view_slacredittier",
        "reports.add_slacredittier",
        "reports.change_slacredittier",
        *_SEE_ALLOCATION,
        *_EDIT_ALLOCATION,
        "inventory.view_sku",
        "inventory.view_catalogownership",
        *_EDIT_CATALOG,
        "inventory.change_catalogownership",  # the per-brand "catalog owned by its ERP" switch
    ],
    FINANCE: [
        BRAND_DATA,
        "warehouse.view_brand",
        "warehouse.view_facility",
        "warehouse.view_saleschannel",
        "warehouse.view_exceptionitem",
        "warehouse.view_transitionrecord",
        "reports.view_finance_reports",
        "reports.export_reports",
        "reports.view_ratecard",
        "reports.view_slacredittier",
        "orders.view_*",
        "inventory.view_*",
        "returns.view_*",
        *_SEE_ALLOCATION,
    ],
    # Brand data through object permissions only (see brand_member_add); adjusting the policy and authorising a
    # return are checked together with brands_visible_to, so they reach only the user's own brands.
    BRAND: ["allocation.adjust_own_policy", "returns.add_return"],
}

# What each role is for, in the words the user form shows beside its checkbox (README "Who does what").
ROLE_DESCRIPTIONS: dict[str, str] = {
    OPERATIONS: "views orders, stock, shipments, returns and exceptions; takes ordinary operational steps",
    WAREHOUSE_MANAGER: "resolves exceptions, forces a transition with a reason, approves counts, creates and edits "
    "SKUs, announces inbound and decides receiving variances, ticks onboarding, handles incidents",
    ADMINISTRATOR: "connections, credentials, mappings, dead letters, users, allocation policies, SKUs and who owns "
    "each brand's catalog, rate cards, alert rules",
    FINANCE: "reads and downloads the finance reports; changes nothing",
    BRAND: "sees only the brands ticked below (orders, stock, returns, catalog); announces inbound and fixes catalog "
    "drift of their own SKUs; never the console",
}
STAFF_ROLES = frozenset(ROLES) - {BRAND}  # they work in the console and see every brand

# Never granted by a pattern: credentials are written by administrators through their own form, never read back.
_NEVER_BY_PATTERN = {"integrations.view_credential"}


def _all_permissions() -> dict[str, Permission]:
    perms = Permission.objects.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": p for p in perms}


def role_permissions(role: str, available: Iterable[str]) -> set[str]:
    """The "app.codename" names of the permissions `role` holds, among those that exist."""
    names = list(available)
    chosen: set[str] = set()
    for pattern in ROLES[role]:
        if any(ch in pattern for ch in "*?["):
            chosen.update(n for n in fnmatch.filter(names, pattern) if n not in _NEVER_BY_PATTERN)
        elif pattern in names:
            chosen.add(pattern)
    return chosen


def roles_sync() -> dict[str, int]:
    """Create each group and set its permissions to exactly what `ROLES` says. Returns the count per role."""
    existing = _all_permissions()
    counts: dict[str, int] = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = role_permissions(role, existing)
        group.permissions.set([existing[name] for name in sorted(wanted)])
        counts[role] = len(wanted)
    return counts


def brand_member_add(*, user: Any, brand: Brand) -> None:
    """Make `user` a brand user of `brand`: the `brand` group plus the object permission on that brand only."""
    user.groups.add(Group.objects.get_or_create(name=BRAND)[0])
    assign_perm(BRAND_DATA, user, brand)


def brand_member_remove(*, user: Any, brand: Brand) -> None:
    remove_perm(BRAND_DATA, user, brand)


def brands_visible_to(user: UserLike) -> QuerySet[Brand]:
    """Every brand for staff roles holding the permission globally; a brand user's own brands; none otherwise."""
    if not user.is_authenticated or not user.is_active:
        return Brand.objects.none()
    if user.has_perm(BRAND_DATA):  # global only: ModelBackend answers without an object
        return Brand.objects.all()
    return get_objects_for_user(user, BRAND_DATA, klass=Brand, accept_global_perms=False, with_superuser=False)


def sees_all_brands(user: UserLike) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(BRAND_DATA))


def scope_to_brands(queryset: QuerySet[M], user: UserLike, field: str = "brand") -> QuerySet[M]:
    """`queryset` restricted to rows whose `field` is a brand the user may see.

    Staff get the queryset untouched (no join, no DISTINCT); a brand user gets `brand_id IN (their brands)`."""
    if sees_all_brands(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    ids = list(brands_visible_to(user).values_list("pk", flat=True))
    return queryset.filter(**{f"{field}__in": ids})


def user_roles(user: UserLike) -> list[str]:
    if not user.is_authenticated:
        return []
    return sorted(g.name for g in user.groups.all() if g.name in ROLES)
