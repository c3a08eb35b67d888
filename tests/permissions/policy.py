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

PICK_FIELDS = {"id", "platform_order_id", "brand", "facility", "state"}
PARCEL = {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}
INBOUND_FIELDS = {"id", "brand", "facility", "reference", "expected_on", "state"}
SKU_NEW = {"brand": "acme", "code": "API-1", "title": "Cap", "reason": "New product"}
SKU_FORM = {"brand": "acme", "code": "NEW-2", "title": "Cap", "reason": "New product"}
OWNERSHIP_FORM = {"brand": "acme", "owned_by_erp": "on", "erp_name": "Odoo", "reason": "ERP go-live"}
INBOUND_NEW = {"brand": "acme", "facility": "VLC1", "reference": "API-ASN", "expected_on": "2026-12-10",
               "lines": [{"sku": "TEE-M", "quantity": 5}]}  # fmt: skip
INBOUND_FORM = {"brand": "acme", "facility": "VLC1", "reference": "ASN-P1", "expected_on": "2026-12-10",
                "lines": "TEE-M, 5"}  # fmt: skip
# Wholesale reservations and scheduled inbound for pre-orders (issue 16 §5): managers, or a user of the brand named
RESERVATION_FIELDS = {"id", "brand", "customer", "sku", "facility", "quantity", "drawn"}
SCHEDULE_FIELDS = {"id", "brand", "sku", "facility", "quantity", "expected_on", "preorder_limit", "preordered"}
RESERVATION_FORM = {"brand": "acme", "customer": "Big Retail", "sku": "TEE-M", "facility": "VLC1", "quantity": "2"}
RESERVATION_NEW = {"brand": "acme", "customer": "Big Retail", "sku": "TEE-M", "facility": "VLC1", "quantity": 2}
SCHEDULE_FORM = {"brand": "acme", "sku": "TEE-M", "facility": "VLC1", "quantity": "10", "preorder_limit": "4",
                 "expected_on": "2030-01-15"}  # fmt: skip
SCHEDULE_NEW = {"brand": "acme", "sku": "TEE-M", "facility": "VLC1", "quantity": 10, "preorder_limit": 4,
                "expected_on": "2030-01-15"}  # fmt: skip
# Authorising a return of one TEE-M shipped on the world's shipped order ("<key>": the pk of the world's object).
RETURN_AUTHORISATION = {"order": "<shipped_order>", "lines": [{"sku": "TEE-M", "quantity": 1}]}
RETURN_FORM = {"sku": ["<sku>"], "quantity": ["1"], "reason": "Too small"}

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
# the onboarding checklist (integrations/onboarding_pages.py): a person's tick with a note, the go-live date
ONBOARDING_TICK = {"step": "inventory", "note": "Counts match the receipt", "action": "tick"}
ONBOARDING_GO_LIVE = {"go_live_on": "2026-12-24", "note": "Agreed with the brand"}
INCIDENT_REVIEW = {"impact": "a", "timeline": "b", "root_cause": "c", "detection": "d", "actions": "e"}
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
    # The SKU catalogue (issue 16 §2): staff read, managers and administrators write, brands fix their own drift
    rule("catalog", "GET", None, None,                                                     "302 200 200 200 200 200 200"),
    rule("catalog-new", "GET", None, None,                                                 "302 403 200 200 403 403 403"),
    rule("catalog-new", "POST", None, SKU_FORM,                                            "302 403 302 302 403 403 403"),
    rule("catalog-ownership", "POST", None, OWNERSHIP_FORM,                                "302 403 403 302 403 403 403"),
    rule("catalog-sku", "GET", "sku", None,                                                "302 200 200 200 200 200 404"),
    rule("catalog-sku", "POST", "sku", {"hs_code": "610912", "reason": "Customs"},         "302 403 302 302 403 302 404"),
    rule("catalog-sku-step", "POST", "draft_sku", {"reason": "Standalone"},               "302 403 302 302 403 403 404", name="assign_variants"),
    rule("catalog-sku-code", "POST", "sku", {"new_code": "TEE-M2", "reason": "Supplier"},  "302 403 302 302 403 403 404"),
    rule("catalog-sku-barcode", "POST", "sku", {"barcode": "8499999999999", "reason": "Supplier"}, "302 403 302 302 403 403 404"),
    rule("catalog-sku-alias", "POST", "sku", {"code": "TEE-ALT", "reason": "Channel"},     "302 403 302 302 403 403 404"),
    rule("catalog-sku-components", "POST", "sku", {"components": "TEE-M, 1", "reason": "Kit"}, "302 403 302 302 403 403 404"),
    # Receiving (issue 16 §1)
    rule("inbound", "GET", None, None,                                                     "302 200 200 403 200 200 200"),
    rule("inbound-new", "GET", None, None,                                                 "302 403 200 403 403 200 200"),
    rule("inbound-new", "POST", None, INBOUND_FORM,                                        "302 403 302 403 403 302 200"),
    rule("inbound-page", "GET", "inbound", None,                                           "302 200 200 403 200 200 404"),
    rule("inbound-scan", "POST", "inbound", {"code": "TEE-M", "quantity": "1"},            "302 302 302 403 403 403 404"),
    rule("inbound-line-receive", "POST", "inbound", {"quantity": "1"},                     "302 302 302 403 403 403 404", number=1),
    rule("inbound-finish", "POST", "inbound", {},                                          "302 302 302 403 403 403 404"),
    rule("inbound-decide", "POST", "inbound", {"decision": "accept", "note": "ok"},        "302 403 302 403 403 403 404", number=1),
    rule("orders", "GET", None, None,                                                      "302 200 200 403 200 200 200"),
    # Picking and packing (issue 16 §3): operations take the floor steps, managers decide a short pick
    rule("picking", "GET", None, None,                                                     "302 200 200 403 200 200 200"),
    rule("pick-page", "GET", "picking_order", None,                                        "302 200 200 403 200 200 404"),
    rule("pick-release", "POST", "picking_order", {},                                      "302 302 302 403 403 403 404"),
    rule("pick-scan", "POST", "picking_order", {"code": "TEE-M", "quantity": "0"},         "302 302 302 403 403 403 404"),
    rule("pick-short", "POST", "picking_order", {"pick_line": "0"},                        "302 302 302 403 403 403 404"),
    rule("pick-resume", "POST", "picking_order", {"note": "found"},                        "302 302 302 403 403 403 404"),
    rule("pick-cancel-line", "POST", "picking_order", {"line": "1", "reason": "gone"},     "302 403 302 403 403 403 404"),
    rule("pack-page", "GET", "picking_order", None,                                        "302 200 200 403 200 200 404"),
    rule("pack-parcel-add", "POST", "picking_order", PARCEL,                               "302 302 302 403 403 403 404"),
    rule("pack-parcel-remove", "POST", "picking_order", {},                                "302 302 302 403 403 403 404", number=1),
    rule("pack-done", "POST", "picking_order", {},                                         "302 302 302 403 403 403 404"),
    rule("count-tasks", "GET", None, None,                                                 "302 200 200 403 200 403 403"),
    rule("count-task-record", "POST", "count_task", {"counted": "-1"},                     "302 403 302 403 403 403 403"),
    rule("order-page", "GET", "held_order", None,                                        "302 200 200 404 200 200 404"),
    rule("order-page", "POST", "held_order", {"delivery_postal_code": "46001", "note": "Phoned"}, "302 403 302 404 403 403 404"),
    rule("order-page-line", "POST", "held_order", {"sku_code": "TEE-M", "quantity": "2"},  "302 403 302 404 403 403 404", number=1),
    rule("order-page-line-cancel", "POST", "held_order", {"reason": "Dropped"},           "302 403 302 404 403 403 404", number=1),
    rule("order-page-alias", "POST", "held_order", ALIAS_FORM,                            "302 403 302 404 403 403 404"),
    rule("order-page-recheck", "POST", "held_order", {},                                  "302 403 302 404 403 403 404"),
    rule("order-page-conflict", "POST", "held_order", {"decision": "ours"},               "302 403 302 404 403 403 404", field="contact_phone"),
    rule("order-page-transition", "POST", "held_order", {"reason": "Customer asked"},     "302 302 302 404 403 403 404", name="cancel"),
    rule("order-page-force", "POST", "held_order", {"name": "validate", "reason": "Phoned"}, "302 403 302 404 403 403 404"),
    # returns: the list and page (brand users see their own), receipt by scan and triage (the warehouse), authorising
    # a return against a shipped order (managers; a brand user on its own order)
    rule("returns", "GET", None, None,                                                     "302 200 200 403 200 200 200"),
    rule("return-page", "GET", "return", None,                                             "302 200 200 404 200 200 404"),
    rule("return-page-scan", "POST", "return", {"code": "TEE-M"},                          "302 302 302 404 403 403 404"),
    rule("return-page-triage", "POST", "received_return", {"grade": "A", "disposition": "sellable"}, "302 403 302 404 403 403 404"),
    rule("return-page-step", "POST", "return", {"reason": "RMA approved"},                 "302 302 302 404 403 302 404", name="authorize"),
    rule("return-page-step", "POST", "received_return", {},                                "302 302 302 404 403 403 404", name="restock"),
    rule("return-page-step", "POST", "received_return", {},                                "302 403 302 404 403 403 404", name="finish_triage"),
    rule("return-authorise", "GET", "shipped_order", None,                                 "302 403 200 404 403 200 404"),
    rule("return-authorise", "POST", "shipped_order", RETURN_FORM,                         "302 403 302 404 403 302 404"),
    rule("order-tracking", "GET", "held_order", None,                                     "302 200 200 404 200 200 404"),
    # a manager's entry for an order on hold is refused on the page itself (200, the reason named)
    rule("order-tracking-manual", "POST", "held_order", {"carrier": "ups", "tracking_number": "1ZPOLICY", "handed_at": "2026-11-24T09:00"}, "302 403 200 404 403 403 404"),
    rule("order-tracking-recheck", "POST", "held_order", {},                              "302 403 302 404 403 403 404"),
    rule("orders-at-risk", "GET", None, None,                                              "302 200 200 403 200 200 200"),
    rule("connection-mappings", "GET", "connection", None,                                 "302 403 403 200 403 403 403"),
    rule("connection-mappings", "POST", "connection", MAPPING_EDIT,                         "302 403 403 302 403 403 403"),
    rule("onboarding", "GET", None, None,                                                  "302 200 200 200 200 200 200"),
    rule("onboarding-checklist", "GET", "brand", None,                                     "302 200 200 200 200 200 404"),
    rule("onboarding-tick", "POST", "brand", ONBOARDING_TICK,                               "302 403 302 302 403 403 404"),
    rule("onboarding-go-live", "POST", "brand", ONBOARDING_GO_LIVE,                         "302 403 302 302 403 403 404"),
    rule("health-board", "GET", None, None,                                                "302 200 200 200 403 403 403"),
    rule("runbooks", "GET", None, None,                                                    "302 200 200 200 403 403 403"),
    rule("runbook", "GET", None, None,                                                     "302 200 200 200 403 403 403", slug="platform-outage"),
    rule("incident", "GET", "incident", None,                                              "302 200 200 200 403 403 403"),
    rule("incident-acknowledge", "POST", "incident", {},                                   "302 403 302 302 403 403 403"),
    rule("incident-snooze", "POST", "incident", {"minutes": "60", "reason": "Rotating"},   "302 403 302 302 403 403 403"),
    rule("incident-review", "POST", "incident", INCIDENT_REVIEW,                           "302 403 302 302 403 403 403"),
    rule("incident-replay", "POST", "incident", {},                                        "302 403 302 302 403 403 403"),
    rule("allocation-policy", "GET", None, None,                                           "302 200 200 200 200 200 200"),
    rule("allocation-policy", "POST", None, POLICY_EDIT,                                   "302 403 403 302 403 302 302"),
    rule("reservations", "GET", None, None,                                                "302 200 200 200 200 200 200"),
    rule("reservations", "POST", None, RESERVATION_FORM,                                   "302 403 302 403 403 302 200"),
    rule("scheduled-inbound", "GET", None, None,                                           "302 200 200 200 200 200 200"),
    rule("scheduled-inbound", "POST", None, SCHEDULE_FORM,                                 "302 403 302 403 403 302 200"),
    # Finance reports (reports/finance/): finance, managers, administrators; brand users their own slice
    rule("finance-reports", "GET", None, None,                                             "302 403 200 200 200 200 200"),
    rule("finance-report", "GET", None, None,                                              "302 403 200 200 200 200 200", slug="volume"),
    rule("finance-report-export", "GET", None, None,                                       "302 403 200 200 200 200 200", slug="volume", file_format="csv"),
    rule("finance-report-export", "POST", None, {},                                        "302 403 302 302 302 302 302", slug="sla-orders", file_format="csv"),
    rule("finance-export-job", "GET", "export_job", None,                                  "302 403 404 404 200 404 404"),
    rule("finance-export-download", "GET", "export_job", None,                             "302 403 404 404 404 404 404"),
    # brand SLO pages (reports/slo): staff see every brand, a brand user their own (/slo/ redirects to it), another brand's is a 404
    rule("slo", "GET", None, None,                                                         "302 200 200 200 200 302 302"),
    rule("slo-brand", "GET", "brand", None,                                                "302 200 200 200 200 200 404"),
    rule("slo-missed", "GET", "brand", None,                                               "302 404 404 404 404 404 404"),  # no SLO, connection or day asked
    rule("slo-statement", "GET", "brand", None,                                            "302 200 200 200 200 200 404", format="csv"),
    rule("slo-statement", "GET", "brand", None,                                            "302 200 200 200 200 200 404", format="pdf"),
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
    rule("sku-list", "GET", None, None,                                                    "401 200 200 200 200 200 200", SKU_FIELDS, api=True),
    rule("sku-detail", "GET", "sku", None,                                                 "401 200 200 200 200 200 404", SKU_FIELDS, api=True),
    rule("stock-list", "GET", None, None,                                                  "401 200 200 403 200 200 200", STOCK_FIELDS, api=True),
    rule("stock-detail", "GET", "stock", None,                                             "401 200 200 403 200 200 404", STOCK_FIELDS, api=True),
    # API: the SKU catalogue's writes (issue 16 §2): the services decide, brands fix drift fields of their own SKUs
    rule("sku-list", "POST", None, SKU_NEW,                                                "401 403 201 201 403 403 404", SKU_FIELDS, api=True),
    rule("sku-detail", "PATCH", "sku", {"hs_code": "610913", "reason": "Customs"},         "401 403 200 200 403 200 404", SKU_FIELDS, api=True),
    rule("sku-detail", "PATCH", "sku", {"code": "HACK", "reason": "Mine now"},             "401 403 422 422 403 422 404", api=True),
    rule("sku-step", "POST", "draft_sku", {"reason": "Standalone product"},                "401 403 200 200 403 403 404", SKU_FIELDS, api=True, name="assign_variants"),
    rule("sku-change-code", "POST", "sku", {"new_code": "TEE-M3", "reason": "Supplier"},   "401 403 200 200 403 403 404", SKU_FIELDS, api=True),
    rule("sku-change-barcode", "POST", "sku", {"barcode": "8499999999999", "reason": "Supplier"}, "401 403 200 200 403 403 404", SKU_FIELDS, api=True),
    rule("sku-aliases", "POST", "sku", {"code": "TEE-ALT", "reason": "Channel code"},      "401 403 201 201 403 403 404", SKU_FIELDS, api=True),
    rule("sku-components", "PUT", "sku", {"components": [{"sku": "TEE-M", "quantity": 1}], "reason": "Kit"}, "401 403 422 422 403 403 404", api=True),
    # API: expected inbound (issue 16 §1): brands and managers announce, operations receive, managers decide
    rule("expected-inbound-list", "GET", None, None,                                       "401 200 200 403 200 200 200", INBOUND_FIELDS, api=True),
    rule("expected-inbound-list", "POST", None, INBOUND_NEW,                               "401 403 201 403 403 201 404", INBOUND_FIELDS, api=True),
    rule("expected-inbound-detail", "GET", "inbound", None,                                "401 200 200 403 200 200 404", INBOUND_FIELDS, api=True),
    rule("expected-inbound-receive", "POST", "inbound", {"line": 1, "quantity": 1},        "401 200 200 403 403 403 404", api=True),
    rule("expected-inbound-receive", "POST", "inbound", {"line": 1, "quantity": 0},        "401 422 422 403 403 403 404", api=True),
    rule("expected-inbound-finish", "POST", "inbound", None,                               "401 200 200 403 403 403 404", INBOUND_FIELDS, api=True),
    rule("expected-inbound-decide", "POST", "inbound", {"line": 1, "decision": "accept", "note": "ok"}, "401 403 409 403 403 403 404", api=True),
    # API: wholesale reservations and scheduled inbound for pre-orders (issue 16 §5): managers and the brand enter
    rule("reservation-list", "GET", None, None,                                            "401 200 200 200 200 200 200", RESERVATION_FIELDS, api=True),
    rule("reservation-list", "POST", None, RESERVATION_NEW,                                "401 403 201 403 403 201 404", RESERVATION_FIELDS, api=True),
    rule("reservation-list", "POST", None, {**RESERVATION_NEW, "quantity": 0},             "401 403 400 403 403 400 404", api=True),
    rule("reservation-detail", "GET", "reservation", None,                                 "401 200 200 200 200 200 404", RESERVATION_FIELDS, api=True),
    rule("scheduled-inbound-list", "GET", None, None,                                      "401 200 200 200 200 200 200", SCHEDULE_FIELDS, api=True),
    rule("scheduled-inbound-list", "POST", None, SCHEDULE_NEW,                             "401 403 201 403 403 201 404", SCHEDULE_FIELDS, api=True),
    rule("scheduled-inbound-list", "POST", None, {**SCHEDULE_NEW, "expected_on": "2020-01-01"}, "401 403 400 403 403 400 404", api=True),
    rule("scheduled-inbound-detail", "GET", "schedule", None,                              "401 200 200 200 200 200 404", SCHEDULE_FIELDS, api=True),
    rule("stock-propose-count", "POST", "stock", {"counted": 7, "reason": "Shelf count"},  "401 201 201 403 403 403 404", EXCEPTION_FIELDS, api=True),
    # API: returns (brand data; each step's permission is checked by the service, after the state: 409 first)
    rule("return-list", "GET", None, None,                                                 "401 200 200 403 200 200 200", RETURN_FIELDS, api=True),
    rule("return-detail", "GET", "return", None,                                           "401 200 200 403 200 200 404", RETURN_FIELDS, api=True),
    rule("return-authorize", "POST", "return", {"reason": "RMA approved"},                 "401 200 200 403 403 200 404", RETURN_FIELDS, api=True),
    rule("return-list", "POST", None, RETURN_AUTHORISATION,                                "401 403 201 403 403 201 404", RETURN_FIELDS, api=True),
    rule("return-receive-scan", "POST", "return", {"code": "TEE-M"},                      "401 409 409 403 403 403 404", api=True),
    rule("return-triage-units", "POST", "received_return", {"sku": "TEE-M", "grade": "A", "disposition": "sellable"}, "401 403 200 403 403 403 404", RETURN_FIELDS, api=True),
    rule("return-finish-triage", "POST", "received_return", {},                           "401 409 409 403 409 409 404", api=True),
    rule("return-complete", "POST", "received_return", {},                                "401 409 409 403 409 409 404", api=True),
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
    # API: picking and packing (issue 16 §3); the world's picking order is already picking
    rule("picking-order-list", "GET", None, None,                                          "401 200 200 403 200 200 200", PICK_FIELDS, api=True),
    rule("picking-order-detail", "GET", "picking_order", None,                             "401 200 200 403 200 200 404", PICK_FIELDS, api=True),
    rule("picking-order-release", "POST", "picking_order", None,                           "401 409 409 403 403 403 404", api=True),
    rule("picking-order-pick", "POST", "picking_order", {"code": "TEE-M", "quantity": 0},  "401 422 422 403 403 403 404", api=True),
    rule("picking-order-short", "POST", "picking_order", {"pick_line": 0},                 "401 422 422 403 403 403 404", api=True),
    rule("picking-order-resume", "POST", "picking_order", {"note": "found"},               "401 409 409 403 403 403 404", api=True),
    rule("picking-order-cancel-short-line", "POST", "picking_order", {"line": 1, "reason": "gone"}, "401 403 409 403 403 403 404", api=True),
    rule("picking-order-parcels", "POST", "picking_order", PARCEL,                         "401 409 409 403 403 403 404", api=True),
    rule("picking-order-remove-parcel", "POST", "picking_order", {"number": 1},            "401 409 409 403 403 403 404", api=True),
    rule("picking-order-pack", "POST", "picking_order", {},                                "401 409 409 403 403 403 404", api=True),
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
    # Shipping (integrations/shipping): staff who read shipments; writes need orders.operate_shipment, checked first
    rule("shipping", "GET", None, None,                                                    "302 200 200 403 200 403 403"),
    rule("shipping-dry-run", "GET", None, None,                                            "302 200 200 200 403 403 403"),
    rule("shipping-page-order", "GET", "shipping_order", None,                             "302 200 200 403 200 403 403"),
    rule("shipping-page-label-file", "GET", "label", None,                                 "302 404 404 403 404 403 403", format="pdf"),
    rule("shipping-page-ship", "POST", "shipping_order", {},                               "302 302 302 403 403 403 403"),
    rule("shipping-page-label-void", "POST", "label", {"reason": "x"},                     "302 302 302 403 403 403 403"),
    rule("shipping-page-label-handoff", "POST", "label", {},                               "302 302 302 403 403 403 403"),
    rule("shipping-page-manifest-close", "POST", "carrier_account", {},                    "302 302 302 403 403 403 403"),
    rule("shipping-page-manifest-handoff", "POST", "manifest", {},                         "302 302 302 403 403 403 403"),
    rule("shipping-order-ship", "POST", "shipping_order", {},                              "401 409 409 403 403 403 403", api=True),
    rule("label-list", "GET", None, None,                                                  "401 200 200 403 200 403 403", api=True),
    rule("label-detail", "GET", "label", None,                                             "401 200 200 403 200 403 403", api=True),
    rule("label-void", "POST", "label", {"reason": "x"},                                   "401 409 409 403 403 403 403", api=True),
    rule("label-hand-off", "POST", "label", {},                                            "401 422 422 403 403 403 403", api=True),
    rule("manifest-list", "GET", None, None,                                               "401 200 200 200 403 403 403", api=True),
    rule("manifest-detail", "GET", "manifest", None,                                       "401 200 200 200 403 403 403", api=True),
    rule("manifest-list", "POST", None, {"account": 0},                                    "401 422 422 403 403 403 403", api=True),
    rule("manifest-hand-off", "POST", "manifest", {},                                      "401 422 422 403 403 403 403", api=True),
    # Console object pages, transition buttons and forced transitions (brand users are not staff: sign-in page)
    rule("admin:warehouse_exceptionitem_change", "GET", "exception", None,                 "302 200 200 403 200 302 302"),
    rule("admin:warehouse_exceptionitem_transition", "POST", "exception", {"reason": "Phoned"}, "302 403 302 403 403 302 302", name="resolve"),
    rule("admin:warehouse_exceptionitem_force", "POST", "exception", {"name": "escalate", "reason": "Override"}, "302 403 302 403 403 302 302"),
    rule("admin:warehouse_exceptionitem_history", "GET", "exception", None,                "302 200 200 403 200 302 302"),
    rule("admin:inventory_sku_change", "GET", "sku", None,                                 "302 200 200 200 200 302 302"),
    rule("admin:inventory_sku_transition", "POST", "draft_sku", {"reason": ""},            "302 302 302 302 403 302 302", name="assign_variants"),
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
    "inventory.sku": {"ops", "mgr", "adm", "fin"},
    "inventory.skualias": {"ops", "mgr", "fin"},
    "inventory.barcode": {"ops", "mgr", "fin"},
    "inventory.stocklevel": {"ops", "mgr", "fin"},
    "inventory.movement": {"ops", "mgr", "fin"},
    "integrations.connection": {"ops", "mgr", "adm"},
    "carriers.carrieraccount": {"ops", "mgr", "adm"},
    "shipping.shippingrule": {"ops", "mgr", "adm"},
    "shipping.label": {"ops", "mgr", "adm"},
    "shipping.manifest": {"ops", "mgr", "adm"},
    "tracking.brandtrackingsettings": {"mgr", "adm"},
    "outbox.outboundmessage": {"mgr", "adm"},
    "outbox.connectioncircuit": {"mgr", "adm"},
    "integrations.inbounddelivery": {"adm"},
    "integrations.auditrecord": {"adm"},
    "integrations.reconcilerun": {"adm"},
    "integrations.externalid": {"adm"},
    "alerts.alertrule": {"mgr", "adm"},
    "alerts.incident": {"ops", "mgr", "adm"},
    "alerts.maintenancewindow": {"mgr", "adm"},
    "alerts.notification": {"mgr", "adm"},
    "alerts.recipient": {"mgr", "adm"},
    "returns.return": {"ops", "mgr", "fin"},
    "orders.order": {"ops", "mgr", "fin"},
    "orders.shipment": {"ops", "mgr", "fin"},
    "allocation.allocationpolicy": {"ops", "mgr", "adm", "fin"},
    "allocation.cutoff": {"ops", "mgr", "adm", "fin"},
    "reports.ratecard": {"adm", "fin"},
    "reports.slacredittier": {"adm", "fin"},
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
