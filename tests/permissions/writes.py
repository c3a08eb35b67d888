"""Every route that can write, with the permission it needs, for the whole-database sweep
(`test_whole_database.py`): posted as every role that lacks it, a route must leave every table unchanged.

The console's model routes (add, change, delete, the delete action of the list, transitions, forcing) are derived
from the registered model admins. Every other route is listed here: in WRITES with what it needs, or in READ_ONLY
(posted as every role all the same, and must change nothing). A route in neither fails the sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.permissions.policy import ALIAS_FORM, CUTOFF_EDIT, MANUAL_ORDER, MAPPING_EDIT, POLICY_EDIT  # noqa: F401  (bodies shared)

# May `user` (never None) write through this route? `obj` is the world's object the route acts on, or None.
Allowed = Callable[[Any, Any], bool]


def perm(name: str) -> Allowed:
    return lambda user, obj: bool(user.has_perm(name))


def any_of(*names: str) -> Allowed:
    return lambda user, obj: any(user.has_perm(name) for name in names)


SIGNED_IN: Allowed = lambda user, obj: True  # noqa: E731  (acts on the caller's own tokens or session only)
NOBODY: Allowed = lambda user, obj: False  # noqa: E731


@dataclass(frozen=True)
class Write:
    route: str
    allowed: Allowed
    obj: str | None = None  # the world object filling the route's pk
    body: dict = field(default_factory=dict)
    api: bool = False
    kwargs: dict = field(default_factory=dict)


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
    # issue 17 §6: manual tracking while a carrier's API is down, and its re-check
    "order-tracking-manual": [Write("order-tracking-manual", perm("tracking.enter_manual_tracking"), "held_order",
                                    {"carrier": "ups", "tracking_number": "1ZSWEEP", "handed_at": "2026-11-24T09:00"})],
    "order-tracking-recheck": [Write("order-tracking-recheck", perm("tracking.enter_manual_tracking"), "held_order",
                                     {})],
    "allocation-policy": [Write("allocation-policy",
                                any_of("allocation.change_allocationpolicy", "allocation.adjust_own_policy"),
                                None, POLICY_EDIT)],
    "connection-mappings": [Write("connection-mappings", perm("integrations.change_connection"), "connection",
                                  MAPPING_EDIT)],
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
    "manual-tracking-list": [Write("manual-tracking-list", perm("tracking.enter_manual_tracking"), None,
                                   {"order": "<held_order>", "carrier": "ups", "tracking_number": "1ZSWEEP",
                                    "handed_at": "2026-11-24T09:00:00Z"}, api=True)],
    "order-transition": [],  # one write per transition and order state, built by the test
    **{
        f"return-{step}": [Write(f"return-{step}", perm("returns.operate_return"), obj, {"reason": "ok"}, api=True)
                           for obj in ("return", "received_return")]
        for step in ("authorize", "mark-shipped-back", "receive", "restock", "rework", "dispose")
    },
    "return-triage": [Write("return-triage", perm("returns.triage_return"), "received_return",
                            {"grade": "A", "disposition": "sellable"}, api=True)],
}  # fmt: skip

# Routes that write nothing whoever posts (a failed sign-in included): posted as every role, they must change nothing.
READ_ONLY = {
    "home",
    "healthz",  # load balancers' probes: GET only, they write nothing
    "readyz",
    "metrics",  # Prometheus' scrape: GET only, it writes nothing
    "stock",
    "orders",
    "orders-at-risk",
    "api-root",
    "api-schema",
    "api-docs",
    "api-redoc",
    "exception-list",
    "exception-detail",
    "sku-list",
    "sku-detail",
    "stock-list",
    "stock-detail",
    "return-list",
    "return-detail",
    "order-detail",
    "shipment-list",
    "shipment-detail",
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
