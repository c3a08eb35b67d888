"""Every route that can write, with the permission it needs, for the whole-database sweep
(`test_whole_database.py`): posted as every role that lacks it, a route must leave every table unchanged.

The console's model routes (add, change, delete, the delete action of the list, transitions, forcing) are derived
from the registered model admins. Every other route is listed here: in WRITES with what it needs, or in READ_ONLY
(posted as every role all the same, and must change nothing). A route in neither fails the sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reports.finance.access import can_export
from tests.permissions.policy import (  # noqa: F401  (bodies shared)
    ALIAS_FORM,
    CUTOFF_EDIT,
    INBOUND_FORM,
    INBOUND_NEW,
    MANUAL_ORDER,
    MAPPING_EDIT,
    ONBOARDING_GO_LIVE,
    ONBOARDING_TICK,
    OWNERSHIP_FORM,
    PARCEL,
    POLICY_EDIT,
    RESERVATION_FORM,
    RESERVATION_NEW,
    RETURN_AUTHORISATION,
    RETURN_FORM,
    SCHEDULE_FORM,
    SCHEDULE_NEW,
    SKU_FORM,
    SKU_NEW,
)

# May `user` (never None) write through this route? `obj` is the world's object the route acts on, or None.
Allowed = Callable[[Any, Any], bool]


def perm(name: str) -> Allowed:
    return lambda user, obj: bool(user.has_perm(name))


def any_of(*names: str) -> Allowed:
    return lambda user, obj: any(user.has_perm(name) for name in names)


SIGNED_IN: Allowed = lambda user, obj: True  # noqa: E731  (acts on the caller's own tokens or session only)
NOBODY: Allowed = lambda user, obj: False  # noqa: E731


def _brand_user_of_acme(user: Any) -> bool:
    from warehouse.roles import brands_visible_to, sees_all_brands

    return not sees_all_brands(user) and brands_visible_to(user).filter(slug="acme").exists()


def change_or_own_drift(user: Any, obj: Any) -> bool:
    """The SKU page's form: staff who change SKUs, or a brand user fixing a drift field of their own SKU."""
    return bool(user.has_perm("inventory.change_sku")) or (
        _brand_user_of_acme(user) and obj is not None and obj.brand.slug == "acme"
    )


def announce(user: Any, obj: Any) -> bool:
    """Announcing inbound for the brand "acme" (the bodies name it): managers, or a user of that brand."""
    return bool(user.has_perm("inventory.add_expectedinbound")) or _brand_user_of_acme(user)


def enter_for_acme(permission: str) -> Allowed:
    """A wholesale reservation or a pre-order schedule for "acme" (the bodies name it): managers, or its users."""
    return lambda user, obj: bool(user.has_perm(permission)) or _brand_user_of_acme(user)


@dataclass(frozen=True)
class Write:
    route: str
    allowed: Allowed
    obj: str | None = None  # the world object filling the route's pk
    body: dict = field(default_factory=dict)
    api: bool = False
    kwargs: dict = field(default_factory=dict)


OPERATE = perm("orders.operate_order")

# Route name → the writes to try there (an API transition route is expanded per transition in the test).
WRITES: dict[str, list[Write]] = {
    # HTML pages
    "exception-queue": [Write("exception-queue", perm("warehouse.resolve_exceptionitem"), None,
                              {"action": "resolve", "note": "Checked", "ids": ["<exception>"]})],
    "stock-page-propose": [Write("stock-page-propose", perm("warehouse.add_exceptionitem"), "stock",
                                 {"counted": "7", "reason": "Shelf"})],
    "stock-page-decide": [Write("stock-page-decide", perm("inventory.approve_cycle_count"), "proposal",
                                {"decision": "approve"})],
    "order-page": [Write("order-page", perm("orders.change_order"), "held_order",
                         {"delivery_postal_code": "46001", "note": "Phoned"})],
    # a held order's fixes on its page (tests/permissions/policy.py has the same bodies per role)
    "order-page-line": [Write("order-page-line", perm("orders.change_order"), "held_order",
                              {"sku_code": "TEE-M", "quantity": "2"}, kwargs={"number": 1})],
    "order-page-line-cancel": [Write("order-page-line-cancel", perm("orders.change_order"), "held_order",
                                     {"reason": "Dropped"}, kwargs={"number": 1})],
    "order-page-alias": [Write("order-page-alias", perm("orders.change_order"), "held_order", ALIAS_FORM)],
    "order-page-recheck": [Write("order-page-recheck", perm("orders.change_order"), "held_order", {})],
    "order-page-conflict": [Write("order-page-conflict", perm("orders.change_order"), "held_order",
                                  {"decision": "ours"}, kwargs={"field": "contact_phone"})],
    "order-page-transition": [Write("order-page-transition", perm("orders.operate_order"), "held_order",
                                    {"reason": "Customer asked"}, kwargs={"name": "cancel"})],
    "order-page-force": [Write("order-page-force", perm("orders.force_order_transition"), "held_order",
                               {"name": "validate", "reason": "Phoned"})],
    # returns' pages (a brand user authorises a return on its own order: returns.add_return with brand scoping)
    "return-page-scan": [Write("return-page-scan", perm("returns.operate_return"), "return", {"code": "TEE-M"})],
    "return-page-triage": [Write("return-page-triage", perm("returns.triage_return"), "received_return",
                                 {"line": "<received_return_line>", "grade": "A", "disposition": "sellable"})],
    "return-page-step": [
        Write("return-page-step", any_of("returns.operate_return", "returns.add_return"), "return",
              {"reason": "RMA approved"}, kwargs={"name": "authorize"}),
        *[Write("return-page-step", perm("returns.operate_return"), "received_return", {}, kwargs={"name": name})
          for name in ("mark_shipped_back", "restock", "rework", "dispose", "complete")],
        Write("return-page-step", perm("returns.triage_return"), "received_return", {},
              kwargs={"name": "finish_triage"}),
    ],
    "return-authorise": [Write("return-authorise", perm("returns.add_return"), "shipped_order", RETURN_FORM)],
    # issue 17 §6: manual tracking while a carrier's API is down, and its re-check
    "order-tracking-manual": [Write("order-tracking-manual", perm("tracking.enter_manual_tracking"), "held_order",
                                    {"carrier": "ups", "tracking_number": "1ZSWEEP", "handed_at": "2026-11-24T09:00"})],
    "order-tracking-recheck": [Write("order-tracking-recheck", perm("tracking.enter_manual_tracking"), "held_order",
                                     {})],
    "allocation-policy": [Write("allocation-policy",
                                any_of("allocation.change_allocationpolicy", "allocation.adjust_own_policy"),
                                None, POLICY_EDIT)],
    "reservations": [Write("reservations", enter_for_acme("allocation.add_contractreservation"), None,
                           RESERVATION_FORM)],
    "scheduled-inbound": [Write("scheduled-inbound", enter_for_acme("allocation.add_scheduledinbound"), None,
                                SCHEDULE_FORM)],
    "connection-mappings": [Write("connection-mappings", perm("integrations.change_connection"), "connection",
                                  MAPPING_EDIT)],
    "onboarding-tick": [Write("onboarding-tick", perm("integrations.tick_onboardingitem"), "brand", ONBOARDING_TICK)],
    "onboarding-go-live": [Write("onboarding-go-live", perm("integrations.tick_onboardingitem"), "brand",
                                 ONBOARDING_GO_LIVE)],
    # an incident's page (integrations/alerts/views.py)
    "incident-acknowledge": [Write("incident-acknowledge", perm("alerts.operate_incident"), "incident", {})],
    "incident-snooze": [Write("incident-snooze", perm("alerts.operate_incident"), "incident",
                              {"minutes": "60", "reason": "Brand is rotating the key"})],
    "incident-review": [Write("incident-review", perm("alerts.operate_incident"), "incident",
                              {"impact": "a", "timeline": "b", "root_cause": "c", "detection": "d", "actions": "e"})],
    "incident-replay": [Write("incident-replay", perm("alerts.operate_incident"), "incident", {})],
    # The SKU catalogue and receiving pages (issue 16 §1, §2)
    "catalog-new": [Write("catalog-new", perm("inventory.add_sku"), None, SKU_FORM)],
    "catalog-ownership": [Write("catalog-ownership", perm("inventory.change_catalogownership"), None, OWNERSHIP_FORM)],
    "catalog-sku": [Write("catalog-sku", change_or_own_drift, "sku", {"hs_code": "610912", "reason": "Customs"}),
                    Write("catalog-sku", NOBODY, "sku", {"code": "HACK", "reason": "Mine now"})],
    "catalog-sku-step": [Write("catalog-sku-step", perm("inventory.change_sku"), "draft_sku", {"reason": "Standalone"},
                               kwargs={"name": "assign_variants"})],
    "catalog-sku-code": [Write("catalog-sku-code", perm("inventory.change_sku"), "sku",
                               {"new_code": "TEE-M2", "reason": "Supplier"})],
    "catalog-sku-barcode": [Write("catalog-sku-barcode", perm("inventory.change_sku"), "sku",
                                  {"barcode": "8499999999999", "reason": "Supplier"})],
    "catalog-sku-alias": [Write("catalog-sku-alias", perm("inventory.change_sku"), "sku",
                                {"code": "TEE-ALT", "reason": "Channel"})],
    "catalog-sku-components": [Write("catalog-sku-components", perm("inventory.change_sku"), "sku",
                                     {"components": "TEE-M, 1", "reason": "Kit"})],
    "inbound-new": [Write("inbound-new", announce, None, INBOUND_FORM)],
    "inbound-scan": [Write("inbound-scan", perm("inventory.operate_expectedinbound"), "inbound",
                           {"code": "TEE-M", "quantity": "1"})],
    "inbound-line-receive": [Write("inbound-line-receive", perm("inventory.operate_expectedinbound"), "inbound",
                                   {"quantity": "1"}, kwargs={"number": 1})],
    "inbound-finish": [Write("inbound-finish", perm("inventory.operate_expectedinbound"), "inbound", {})],
    "inbound-decide": [Write("inbound-decide", perm("warehouse.resolve_exceptionitem"), "inbound",
                             {"decision": "accept", "note": "ok"}, kwargs={"number": 1})],
    # picking and packing: the floor steps need orders.operate_order, a short pick's line cancel the force permission
    "pick-release": [Write("pick-release", OPERATE, "picking_order", {})],
    "pick-scan": [Write("pick-scan", OPERATE, "picking_order", {"code": "TEE-M", "quantity": "1"})],
    "pick-short": [Write("pick-short", OPERATE, "picking_order", {"pick_line": "<pick_line>"})],
    "pick-resume": [Write("pick-resume", OPERATE, "picking_order", {"note": "found"})],
    "pick-cancel-line": [Write("pick-cancel-line", perm("orders.force_order_transition"), "picking_order",
                               {"line": "1", "reason": "gone"})],
    "pack-parcel-add": [Write("pack-parcel-add", OPERATE, "picking_order", PARCEL)],
    "pack-parcel-remove": [Write("pack-parcel-remove", OPERATE, "picking_order", {}, kwargs={"number": 1})],
    "pack-done": [Write("pack-done", OPERATE, "picking_order", {})],
    "count-task-record": [Write("count-task-record", perm("inventory.approve_cycle_count"), "count_task",
                                {"counted": "5"})],
    "picking-order-release": [Write("picking-order-release", OPERATE, "picking_order", {}, api=True)],
    "picking-order-pick": [Write("picking-order-pick", OPERATE, "picking_order", {"code": "TEE-M", "quantity": 1},
                                 api=True)],
    "picking-order-short": [Write("picking-order-short", OPERATE, "picking_order", {"pick_line": "<pick_line>"},
                                  api=True)],
    "picking-order-resume": [Write("picking-order-resume", OPERATE, "picking_order", {"note": "found"}, api=True)],
    "picking-order-cancel-short-line": [Write("picking-order-cancel-short-line", perm("orders.force_order_transition"),
                                              "picking_order", {"line": 1, "reason": "gone"}, api=True)],
    "picking-order-parcels": [Write("picking-order-parcels", OPERATE, "picking_order", PARCEL, api=True)],
    "picking-order-remove-parcel": [Write("picking-order-remove-parcel", OPERATE, "picking_order", {"number": 1},
                                          api=True)],
    "picking-order-pack": [Write("picking-order-pack", OPERATE, "picking_order", {}, api=True)],
    # shipping (integrations/shipping): every write needs orders.operate_shipment, checked before the carrier is asked
    "shipping-page-ship": [Write("shipping-page-ship", perm("orders.operate_shipment"), "shipping_order", {})],
    "shipping-page-label-void": [Write("shipping-page-label-void", perm("orders.operate_shipment"), "label",
                                       {"reason": "wrong box"})],
    "shipping-page-label-handoff": [Write("shipping-page-label-handoff", perm("orders.operate_shipment"), "label")],
    "shipping-page-manifest-close": [Write("shipping-page-manifest-close", perm("orders.operate_shipment"),
                                           "carrier_account")],
    "shipping-page-manifest-handoff": [Write("shipping-page-manifest-handoff", perm("orders.operate_shipment"),
                                             "manifest")],
    "shipping-order-ship": [Write("shipping-order-ship", perm("orders.operate_shipment"), "shipping_order", {},
                                  api=True)],
    "label-void": [Write("label-void", perm("orders.operate_shipment"), "label", {"reason": "x"}, api=True)],
    "label-hand-off": [Write("label-hand-off", perm("orders.operate_shipment"), "label", {}, api=True)],
    "manifest-list": [Write("manifest-list", perm("orders.operate_shipment"), None, {"account": "<carrier_account>"},
                            api=True)],
    "manifest-hand-off": [Write("manifest-hand-off", perm("orders.operate_shipment"), "manifest", {}, api=True)],
    # API (a failed sign-in writes nothing either; a token is all a good one writes, and tokens are left out)
    "api-login": [Write("api-login", NOBODY, None, {"username": "mgr", "password": "wrong"}, api=True)],
    "api-logout": [Write("api-logout", SIGNED_IN, api=True)],
    "api-logout-all": [Write("api-logout-all", SIGNED_IN, api=True)],
    "exception-resolve": [Write("exception-resolve", perm("warehouse.resolve_exceptionitem"), "exception",
                                {"note": "Fixed"}, api=True)],
    "exception-escalate": [Write("exception-escalate", perm("warehouse.resolve_exceptionitem"), "exception",
                                 {"note": "Up"}, api=True)],
    "count-proposal-approve": [Write("count-proposal-approve", perm("inventory.approve_cycle_count"), "proposal",
                                     {"note": "ok"}, api=True)],
    "count-proposal-reject": [Write("count-proposal-reject", perm("inventory.approve_cycle_count"), "proposal",
                                    {"note": "recount"}, api=True)],
    "stock-propose-count": [Write("stock-propose-count", perm("warehouse.add_exceptionitem"), "stock",
                                  {"counted": 7, "reason": "Shelf count"}, api=True)],
    "order-list": [Write("order-list", perm("orders.add_order"), None, MANUAL_ORDER, api=True)],
    # a background export of a report: finance, managers, administrators, and brand users for their own slice
    "finance-report-export": [Write("finance-report-export", lambda user, obj: can_export(user), None, {},
                                    kwargs={"slug": "volume", "file_format": "csv"})],
    "sku-list": [Write("sku-list", perm("inventory.add_sku"), None, SKU_NEW, api=True)],
    "sku-detail": [Write("sku-detail", NOBODY, "sku", {"hs_code": "1"}, api=True)],  # PATCH only: a POST is a 405
    "sku-step": [Write("sku-step", perm("inventory.change_sku"), "draft_sku", {"reason": "Standalone"}, api=True,
                       kwargs={"name": "assign_variants"})],
    "sku-change-code": [Write("sku-change-code", perm("inventory.change_sku"), "sku",
                              {"new_code": "TEE-M3", "reason": "Supplier"}, api=True)],
    "sku-change-barcode": [Write("sku-change-barcode", perm("inventory.change_sku"), "sku",
                                 {"barcode": "8499999999999", "reason": "Supplier"}, api=True)],
    "sku-aliases": [Write("sku-aliases", perm("inventory.change_sku"), "sku", {"code": "TEE-ALT", "reason": "x"},
                          api=True)],
    "sku-components": [Write("sku-components", NOBODY, "sku", {"components": [], "reason": "x"}, api=True)],  # PUT
    "reservation-list": [Write("reservation-list", enter_for_acme("allocation.add_contractreservation"), None,
                               RESERVATION_NEW, api=True)],
    "scheduled-inbound-list": [Write("scheduled-inbound-list", enter_for_acme("allocation.add_scheduledinbound"),
                                     None, SCHEDULE_NEW, api=True)],
    "expected-inbound-list": [Write("expected-inbound-list", announce, None, INBOUND_NEW, api=True)],
    "expected-inbound-receive": [Write("expected-inbound-receive", perm("inventory.operate_expectedinbound"),
                                       "inbound", {"line": 1, "quantity": 1}, api=True)],
    "expected-inbound-finish": [Write("expected-inbound-finish", perm("inventory.operate_expectedinbound"),
                                      "inbound", {}, api=True)],
    "expected-inbound-decide": [Write("expected-inbound-decide", perm("warehouse.resolve_exceptionitem"),
                                      "inbound", {"line": 1, "decision": "accept", "note": "ok"}, api=True)],
    "manual-tracking-list": [Write("manual-tracking-list", perm("tracking.enter_manual_tracking"), None,
                                   {"order": "<held_order>", "carrier": "ups", "tracking_number": "1ZSWEEP",
                                    "handed_at": "2026-11-24T09:00:00Z"}, api=True)],
    "order-transition": [],  # one write per transition and order state, built by the test
    **{
        f"return-{step}": [Write(f"return-{step}", perm("returns.operate_return"), obj, {"reason": "ok"}, api=True)
                           for obj in ("return", "received_return")]
        for step in ("mark-shipped-back", "receive", "restock", "rework", "dispose", "complete")
    },
    # a brand user authorises its own brand's returns (the brand is the returns system of its customers)
    "return-authorize": [Write("return-authorize", any_of("returns.operate_return", "returns.add_return"), obj,
                               {"reason": "ok"}, api=True) for obj in ("return", "received_return")],
    "return-list": [Write("return-list", perm("returns.add_return"), None, RETURN_AUTHORISATION, api=True)],
    "return-receive-scan": [Write("return-receive-scan", perm("returns.operate_return"), obj, {"code": "TEE-M"},
                                  api=True) for obj in ("return", "received_return")],
    "return-triage-units": [Write("return-triage-units", perm("returns.triage_return"), "received_return",
                                  {"sku": "TEE-M", "grade": "A", "disposition": "sellable"}, api=True)],
    "return-finish-triage": [Write("return-finish-triage", perm("returns.triage_return"), "received_return", {},
                                   api=True)],
    "return-triage": [Write("return-triage", perm("returns.triage_return"), "received_return",
                            {"grade": "A", "disposition": "sellable"}, api=True)],
}  # fmt: skip

# Routes that write nothing whoever posts (a failed sign-in included): posted as every role, they must change nothing.
READ_ONLY = {
    "home",
    "picking",  # GET only pages of picking and packing and the count tasks
    "pick-page",
    "pack-page",
    "count-tasks",
    "picking-order-list",
    "picking-order-detail",
    "finance-reports",  # the finance reports read; only their export (below) starts a job
    "finance-report",
    "finance-export-job",
    "finance-export-download",
    "healthz",  # load balancers' probes: GET only, they write nothing
    "readyz",
    "metrics",  # Prometheus' scrape: GET only, it writes nothing
    "health-board",  # GET only pages of the alerts and reports
    "runbooks",
    "runbook",
    "incident",
    "stock",
    "orders",
    "orders-at-risk",
    "onboarding",  # the onboarding checklists: GET only
    "onboarding-checklist",
    # brand SLO pages and their statement downloads (reports/slo): GET only, they write nothing
    "slo",
    "slo-brand",
    "slo-missed",
    "slo-statement",
    "api-root",
    "api-schema",
    "api-docs",
    "api-redoc",
    "exception-list",
    "exception-detail",
    "catalog",
    "inbound",
    "inbound-page",
    "expected-inbound-detail",
    "reservation-detail",
    "scheduled-inbound-detail",
    "stock-list",
    "stock-detail",
    "return-detail",
    "returns",
    "return-page",
    "order-detail",
    "shipment-list",
    "shipment-detail",
    "shipping",
    "shipping-dry-run",
    "shipping-page-order",
    "shipping-page-label-file",
    "label-list",
    "label-detail",
    "manifest-detail",
    "order-tracking",  # the tracking page: GET only
    # Django's own account views, posted without a valid form: they act on the caller only
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# Bodies for read-only routes that take one (a failed sign-in must write nothing either).
READ_ONLY_BODIES = {
    "login": {"username": "mgr", "password": "wrong"},
}

# Console routes of a model: which permission of the model admin each one needs (None: it writes nothing).
ADMIN_MODEL_VIEWS = {
    "changelist": "action",  # each action of the list: "delete selected" and the model admin's own
    "add": "add",
    "change": "change",
    "delete": "delete",
    "history": None,
    "simple_history": "revert",  # restoring a version would bypass the services: nobody may (warehouse.admin)
    "password_change": "change",  # the stock user admin's "set password" form (gone: warehouse/user_admin.py)
    "password_link": "change",  # a set-password link for an account the user may change (it writes nothing)
    "transition": "transition",
    "force": "force",
    "rerun": "rerun",  # a dead-lettered inbound delivery re-run from its page (integrations.admin)
}
# Console routes that are not a model's: they write nothing (or only the caller's own session).
ADMIN_SITE_READ_ONLY = {"index", "login", "logout", "password_change", "password_change_done", "jsi18n",
                        "view_on_site", "autocomplete", "app_list"}  # fmt: skip
