# ruff: noqa: E501  (the policy table is read as a table: one row per line)
"""The policy table: role × action × scope → expected HTTP status. It drives the parametrised tests over the pages,
the API and the console, and `test_every_route_is_in_the_policy_table` fails when a route is missing from it.

Roles under test, in column order:
  anon   not signed in
  ops    operations            mgr    warehouse_manager     adm    administrator     fin    finance
  brand  a brand user of the brand that owns the object          other  a brand user of another brand

A row: (route name, method, object key or None, body or None, expected statuses in column order, fields returned).
Objects are built by `tests/permissions/world.py`; the object key names which one fills the route's `pk`."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = ["anon", "ops", "mgr", "adm", "fin", "brand", "other"]


@dataclass(frozen=True)
class Rule:
    route: str
    method: str
    obj: str | None
    body: dict | None
    expected: tuple[int, ...]
    fields: frozenset[str] = field(default_factory=frozenset)
    api: bool = False  # API rows authenticate with a token, pages and console with a session
    kwargs: dict = field(default_factory=dict)  # route arguments other than the object's key

    def status_for(self, role: str) -> int:
        return self.expected[COLUMNS.index(role)]


def rule(route, method, obj, body, expected: str, fields=(), api=False, **kwargs) -> Rule:
    codes = tuple(int(code) for code in expected.split())
    assert len(codes) == len(COLUMNS), route
    return Rule(route, method, obj, body, codes, frozenset(fields), api, kwargs)


EXCEPTION_FIELDS = {"id", "kind", "state", "summary", "reasons", "brand", "facility", "opened_at"}
SKU_FIELDS = {"id", "brand", "code", "title", "state", "is_kit"}
STOCK_FIELDS = {"id", "sku", "brand", "facility", "on_hand", "allocated", "available"}
RETURN_FIELDS = {"id", "brand", "rma_number", "state", "lines"}
ORDER_FIELDS = {"id", "brand", "state", "platform", "platform_order_id", "lines"}
SHIPMENT_FIELDS = {"id", "order", "brand", "carrier", "tracking_number", "state"}
MANUAL_ORDER = {
    "brand": "acme",
    "platform_order_id": "PHONE-1",
    "address": {"name": "Ana", "street1": "Calle 1", "postal_code": "46001", "city": "Valencia", "country": "ES"},
    "lines": [{"sku_code": "TEE-M", "quantity": 1}],
}

POLICY_EDIT = {
    "class_order": "marketplace_sla, wholesale, preorder, standard",
    "split_allowed": "on",
    "split_fee": "3.00",
    "change_reason": "The brand asked for SLA orders first",
}
ALIAS_FORM = {"code": "TEE-OLD", "sku": "TEE-M", "valid_from": "2026-12-01", "valid_through": "2026-12-31"}
ACCOUNT_EDIT = {"username": "mgr", "email": "mgr@example.com", "roles": "warehouse_manager", "is_active": "on"}
# the mapping editor's save (integrations/mapping_pages.py): fields not posted stay on the platform default
MAPPING_EDIT = {"source:address.postal_code": "shipping_address.zip", "action": "save", "reason": "Sweep"}
CUTOFF_EDIT = {"cutoff_time": "16:00", "handling_days": "0", "change_reason": "Peak season contract"}

# fmt: off
#                                                                                          anon ops mgr adm fin brand other
POLICY: list[Rule] = [
    # HTML pages
    rule("home", "GET", None, None,                                                        "302 302 302 302 302 302 302"),
    rule("exception-queue", "GET", None, None,                                             "302 200 200 403 200 403 403"),
    rule("exception-queue", "POST", None, {"action": "resolve", "note": "Checked"},        "302 403 302 403 403 403 403"),
    rule("stock", "GET", None, None,                                                       "302 200 200 403 200 200 200"),
    rule("stock-page-propose", "POST", "stock", {"counted": "7", "reason": "Shelf"},       "302 302 302 403 403 403 404"),
    rule("stock-page-decide", "POST", "proposal", {"decision": "approve"},                 "302 403 302 403 403 403 403"),
    rule("orders", "GET", None, None,                                                      "302 200 200 403 200 200 200"),
    rule("order-page", "GET", "held_order", None,                                        "302 200 200 404 200 200 404"),
    rule("order-page", "POST", "held_order", {"delivery_postal_code": "46001", "note": "Phoned"}, "302 403 302 404 403 403 404"),
    rule("order-page-line", "POST", "held_order", {"sku_code": "TEE-M", "quantity": "2"},  "302 403 302 404 403 403 404", number=1),
    rule("order-page-line-cancel", "POST", "held_order", {"reason": "Dropped"},           "302 403 302 404 403 403 404", number=1),
    rule("order-page-alias", "POST", "held_order", ALIAS_FORM,                            "302 403 302 404 403 403 404"),
    rule("order-page-recheck", "POST", "held_order", {},                                  "302 403 302 404 403 403 404"),
    rule("order-page-conflict", "POST", "held_order", {"decision": "ours"},               "302 403 302 404 403 403 404", field="contact_phone"),
    rule("order-page-transition", "POST", "held_order", {"reason": "Customer asked"},     "302 302 302 404 403 403 404", name="cancel"),
    rule("order-page-force", "POST", "held_order", {"name": "validate", "reason": "Phoned"}, "302 403 302 404 403 403 404"),
    rule("order-tracking", "GET", "held_order", None,                                     "302 200 200 404 200 200 404"),
    # a manager's entry for an order on hold is refused on the page itself (200, the reason named)
    rule("order-tracking-manual", "POST", "held_order", {"carrier": "ups", "tracking_number": "1ZPOLICY", "handed_at": "2026-11-24T09:00"}, "302 403 200 404 403 403 404"),
    rule("order-tracking-recheck", "POST", "held_order", {},                              "302 403 302 404 403 403 404"),
    rule("orders-at-risk", "GET", None, None,                                              "302 200 200 403 200 200 200"),
    rule("connection-mappings", "GET", "connection", None,                                 "302 403 403 200 403 403 403"),
    rule("connection-mappings", "POST", "connection", MAPPING_EDIT,                         "302 403 403 302 403 403 403"),
    rule("allocation-policy", "GET", None, None,                                           "302 200 200 200 200 200 200"),
    rule("allocation-policy", "POST", None, POLICY_EDIT,                                   "302 403 403 302 403 302 302"),
    # API: tokens and docs
    rule("api-login", "POST", None, {"username": "nobody", "password": "wrong"},           "401 401 401 401 401 401 401", api=True),
    rule("api-logout", "POST", None, None,                                                 "401 204 204 204 204 204 204", api=True),
    rule("api-logout-all", "POST", None, None,                                             "401 204 204 204 204 204 204", api=True),
    rule("api-root", "GET", None, None,                                                    "401 200 200 200 200 200 200", api=True),
    rule("api-schema", "GET", None, None,                                                  "200 200 200 200 200 200 200", api=True),
    rule("api-docs", "GET", None, None,                                                    "200 200 200 200 200 200 200", api=True),
    rule("api-redoc", "GET", None, None,                                                   "200 200 200 200 200 200 200", api=True),
    # API: exception queue (not brand data: brands never see it)
    rule("exception-list", "GET", None, None,                                              "401 200 200 403 200 403 403", EXCEPTION_FIELDS, api=True),
    rule("exception-detail", "GET", "exception", None,                                     "401 200 200 403 200 403 403", EXCEPTION_FIELDS, api=True),
    rule("exception-resolve", "POST", "exception", {"note": "Fixed"},                      "401 403 200 403 403 403 403", EXCEPTION_FIELDS, api=True),
    rule("exception-escalate", "POST", "exception", {"note": "Up"},                        "401 403 200 403 403 403 403", EXCEPTION_FIELDS, api=True),
    rule("count-proposal-approve", "POST", "proposal", {"note": "ok"},                     "401 403 200 403 403 403 403", api=True),
    rule("count-proposal-reject", "POST", "proposal", {"note": "recount"},                 "401 403 200 403 403 403 403", api=True),
    # API: catalog and stock (brand data)
    rule("sku-list", "GET", None, None,                                                    "401 200 200 403 200 200 200", SKU_FIELDS, api=True),
    rule("sku-detail", "GET", "sku", None,                                                 "401 200 200 403 200 200 404", SKU_FIELDS, api=True),
    rule("stock-list", "GET", None, None,                                                  "401 200 200 403 200 200 200", STOCK_FIELDS, api=True),
    rule("stock-detail", "GET", "stock", None,                                             "401 200 200 403 200 200 404", STOCK_FIELDS, api=True),
    rule("stock-propose-count", "POST", "stock", {"counted": 7, "reason": "Shelf count"},  "401 201 201 403 403 403 404", EXCEPTION_FIELDS, api=True),
    # API: returns (brand data; each step's permission is checked by the service, after the state: 409 first)
    rule("return-list", "GET", None, None,                                                 "401 200 200 403 200 200 200", RETURN_FIELDS, api=True),
    rule("return-detail", "GET", "return", None,                                           "401 200 200 403 200 200 404", RETURN_FIELDS, api=True),
    rule("return-authorize", "POST", "return", {"reason": "RMA approved"},                 "401 200 200 403 403 403 404", RETURN_FIELDS, api=True),
    rule("return-mark-shipped-back", "POST", "return", {},                                 "401 409 409 403 409 409 404", api=True),
    rule("return-receive", "POST", "return", {},                                           "401 409 409 403 409 409 404", api=True),
    rule("return-triage", "POST", "received_return", {"grade": "A", "disposition": "sellable"}, "401 403 200 403 403 403 404", RETURN_FIELDS, api=True),
    rule("return-restock", "POST", "received_return", {},                                  "401 409 409 403 409 409 404", api=True),
    rule("return-rework", "POST", "received_return", {},                                   "401 409 409 403 409 409 404", api=True),
    rule("return-dispose", "POST", "received_return", {},                                  "401 409 409 403 409 409 404", api=True),
    rule("admin:returns_return_change", "GET", "return", None,                             "302 200 200 403 200 302 302"),
    rule("admin:returns_return_transition", "POST", "return", {"reason": "ok"},            "302 302 302 403 403 302 302", name="authorize"),
    rule("admin:returns_return_force", "POST", "return", {"name": "authorize", "reason": "Phone approval"}, "302 403 302 403 403 302 302"),
    # API: orders and shipments (brand data)
    rule("order-list", "GET", None, None,                                                  "401 200 200 403 200 200 200", ORDER_FIELDS, api=True),
    rule("order-list", "POST", None, MANUAL_ORDER,                                         "401 201 201 403 403 403 403", ORDER_FIELDS, api=True),
    rule("order-detail", "GET", "held_order", None,                                        "401 200 200 403 200 200 404", ORDER_FIELDS, api=True),
    rule("order-transition", "POST", "held_order", {"reason": "Customer asked"},           "401 200 200 403 403 403 404", ORDER_FIELDS, api=True, name="cancel"),
    rule("order-transition", "POST", "held_order", {"reason": "Confirmed", "force": True},  "401 403 200 403 403 403 404", ORDER_FIELDS, api=True, name="validate"),
    rule("manual-tracking-list", "GET", None, None,                                        "401 403 200 200 403 403 403", api=True),
    rule("manual-tracking-list", "POST", None, {"order": 0, "carrier": "ups", "tracking_number": "1ZPOLICY", "handed_at": "2026-11-24T09:00:00Z"}, "401 403 404 404 403 403 403", api=True),
    rule("shipment-list", "GET", None, None,                                               "401 200 200 403 200 200 200", SHIPMENT_FIELDS, api=True),
    rule("shipment-detail", "GET", "shipment", None,                                       "401 200 200 403 200 200 404", SHIPMENT_FIELDS, api=True),
    rule("admin:orders_order_change", "GET", "held_order", None,                           "302 200 200 403 200 302 302"),
    rule("admin:orders_order_transition", "POST", "held_order", {"reason": "Asked"},       "302 302 302 403 403 302 302", name="cancel"),
    rule("admin:orders_order_force", "POST", "held_order", {"name": "validate", "reason": "Phoned"}, "302 403 302 403 403 302 302"),
    rule("admin:orders_shipment_change", "GET", "shipment", None,                          "302 200 200 403 200 302 302"),
    # Console object pages, transition buttons and forced transitions (brand users are not staff: sign-in page)
    rule("admin:warehouse_exceptionitem_change", "GET", "exception", None,                 "302 200 200 403 200 302 302"),
    rule("admin:warehouse_exceptionitem_transition", "POST", "exception", {"reason": "Phoned"}, "302 403 302 403 403 302 302", name="resolve"),
    rule("admin:warehouse_exceptionitem_force", "POST", "exception", {"name": "escalate", "reason": "Override"}, "302 403 302 403 403 302 302"),
    rule("admin:warehouse_exceptionitem_history", "GET", "exception", None,                "302 200 200 403 200 302 302"),
    rule("admin:inventory_sku_change", "GET", "sku", None,                                 "302 200 200 403 200 302 302"),
    rule("admin:inventory_sku_transition", "POST", "draft_sku", {"reason": ""},            "302 302 302 403 403 302 302", name="assign_variants"),
    rule("admin:inventory_sku_force", "POST", "draft_sku", {"name": "assign_variants", "reason": "Late data"}, "302 403 302 403 403 302 302"),
    # Console: allocation policy and cutoffs are configuration (administrators edit with a reason, staff read)
    rule("admin:allocation_allocationpolicy_change", "GET", "policy", None,                "302 200 200 200 200 302 302"),
    rule("admin:allocation_allocationpolicy_change", "POST", "policy", POLICY_EDIT,        "302 403 403 302 403 302 302"),
    rule("admin:allocation_allocationpolicy_history", "GET", "policy", None,               "302 200 200 200 200 302 302"),
    rule("admin:allocation_allocationpolicy_add", "GET", None, None,                       "302 403 403 200 403 302 302"),
    rule("admin:allocation_allocationpolicy_add", "POST", None, {"class_order": "standard"}, "302 403 403 200 403 302 302"),
    rule("admin:allocation_cutoff_change", "GET", "cutoff", None,                          "302 200 200 200 200 302 302"),
    rule("admin:allocation_cutoff_change", "POST", "cutoff", CUTOFF_EDIT,                  "302 403 403 302 403 302 302"),
    rule("admin:allocation_cutoff_history", "GET", "cutoff", None,                         "302 200 200 200 200 302 302"),
    rule("admin:allocation_cutoff_add", "GET", None, None,                                 "302 403 403 200 403 302 302"),
    rule("admin:allocation_cutoff_add", "POST", None, {"cutoff_time": "25:00"},            "302 403 403 200 403 302 302"),
    # Console: people's accounts (warehouse/user_admin.py). Administrators give roles, never superuser status.
    rule("admin:auth_user_change", "GET", "mgr_account", None,                             "302 403 403 200 403 302 302"),
    rule("admin:auth_user_change", "POST", "mgr_account", ACCOUNT_EDIT,                    "302 403 403 302 403 302 302"),
    rule("admin:auth_user_change", "POST", "mgr_account", {**ACCOUNT_EDIT, "is_superuser": "on"}, "302 403 403 403 403 302 302"),
    rule("admin:auth_user_password_link", "POST", "mgr_account", {},                       "302 403 403 200 403 302 302"),
    rule("admin:auth_user_add", "POST", None, {"username": "newbie", "roles": "administrator"}, "302 403 403 200 403 302 302"),
]
# fmt: on

# Routes outside the role policy, each with the reason.
EXEMPT = {
    "login": "Django's sign-in page: public by nature",
    "logout": "Django's sign-out: acts only on the caller's own session",
    "password_change": "Django's own view, login required, acts on the caller only",
    "password_change_done": "Django's own view, login required, acts on the caller only",
    "password_reset": "Django's own view: sends mail to the address on file only",
    "password_reset_done": "Django's own view, static text",
    "password_reset_confirm": "Django's own view, guarded by the signed token",
    "password_reset_complete": "Django's own view, static text",
    "healthz": "load balancers' liveness probe: public, no data (tests/warehouse/test_health.py)",
    "readyz": "load balancers' readiness probe: public, check names only (tests/warehouse/test_health.py)",
    "metrics": "Prometheus' scrape: a bearer token or an allowed address, not a role (tests/integrations/metrics/)",
}
# Webhook routes authenticate by the platform's signature, not by role: integrations' tests cover them.
EXEMPT_PREFIXES = ("webhooks/",)

# The console: for each registered model, the roles whose changelist answers 200. Anonymous and brand users (not
# staff) are sent to the console's sign-in page (302); every other staff role gets 403.
ADMIN_VIEWERS: dict[str, set[str]] = {
    "warehouse.brand": {"ops", "mgr", "adm", "fin"},
    "warehouse.facility": {"ops", "mgr", "adm", "fin"},
    "warehouse.saleschannel": {"ops", "mgr", "adm", "fin"},
    "warehouse.exceptionitem": {"ops", "mgr", "fin"},
    "warehouse.transitionrecord": {"ops", "mgr", "fin"},
    "inventory.sku": {"ops", "mgr", "fin"},
    "inventory.skualias": {"ops", "mgr", "fin"},
    "inventory.barcode": {"ops", "mgr", "fin"},
    "inventory.stocklevel": {"ops", "mgr", "fin"},
    "inventory.movement": {"ops", "mgr", "fin"},
    "integrations.connection": {"ops", "mgr", "adm"},
    "carriers.carrieraccount": {"ops", "mgr", "adm"},
    "tracking.brandtrackingsettings": {"mgr", "adm"},
    "outbox.outboundmessage": {"mgr", "adm"},
    "outbox.connectioncircuit": {"mgr", "adm"},
    "integrations.inbounddelivery": {"adm"},
    "integrations.auditrecord": {"adm"},
    "integrations.reconcilerun": {"adm"},
    "integrations.externalid": {"adm"},
    "returns.return": {"ops", "mgr", "fin"},
    "orders.order": {"ops", "mgr", "fin"},
    "orders.shipment": {"ops", "mgr", "fin"},
    "allocation.allocationpolicy": {"ops", "mgr", "adm", "fin"},
    "allocation.cutoff": {"ops", "mgr", "adm", "fin"},
    "auth.user": {"adm"},
    "auth.group": {"adm"},
    "knox.authtoken": set(),
    "django_q.schedule": set(),
    "django_q.success": set(),
    "django_q.failure": set(),
    "django_q.ormq": set(),
}
# Console routes that are not a model's pages.
ADMIN_SITE_ROUTES = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "jsi18n",
    "view_on_site",
    "autocomplete",
    "app_list",
}
