"""Routes of the HTML pages (mounted at /); see docs/CONTRACTS.md for who owns this file."""

from django.urls import URLPattern, URLResolver, include, path

from integrations import onboarding_pages as onboarding
from integrations.mapping_pages import connection_mappings_page
from integrations.shipping import pages as shipping_pages
from integrations.tracking import views as tracking_views
from inventory import catalog_pages, count_pages, receiving_pages
from inventory import views as inventory_views
from orders import order_page_actions as order_actions
from orders import picking_pages
from orders import views as order_views
from orders.allocation import entry_pages
from orders.allocation import views as allocation_views
from returns import views as return_views
from warehouse import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("exceptions/", views.exception_queue, name="exception-queue"),
    path("stock/", inventory_views.stock_list, name="stock"),
    path("stock/<int:pk>/propose-count/", inventory_views.stock_propose_count, name="stock-page-propose"),
    path("stock/counts/<int:pk>/decide/", inventory_views.stock_decide_count, name="stock-page-decide"),
    path("catalog/", catalog_pages.catalog_list, name="catalog"),
    path("catalog/new/", catalog_pages.catalog_new, name="catalog-new"),
    path("catalog/ownership/", catalog_pages.catalog_ownership, name="catalog-ownership"),
    path("catalog/<int:pk>/", catalog_pages.catalog_sku, name="catalog-sku"),
    path("catalog/<int:pk>/steps/<str:name>/", catalog_pages.catalog_sku_step, name="catalog-sku-step"),
    path("catalog/<int:pk>/code/", catalog_pages.catalog_sku_code, name="catalog-sku-code"),
    path("catalog/<int:pk>/barcode/", catalog_pages.catalog_sku_barcode, name="catalog-sku-barcode"),
    path("catalog/<int:pk>/aliases/", catalog_pages.catalog_sku_alias, name="catalog-sku-alias"),
    path("catalog/<int:pk>/components/", catalog_pages.catalog_sku_components, name="catalog-sku-components"),
    path("inbound/", receiving_pages.inbound_list, name="inbound"),
    path("inbound/new/", receiving_pages.inbound_new, name="inbound-new"),
    path("inbound/<int:pk>/", receiving_pages.inbound_page, name="inbound-page"),
    path("inbound/<int:pk>/scan/", receiving_pages.inbound_scan, name="inbound-scan"),
    path(
        "inbound/<int:pk>/lines/<int:number>/receive/",
        receiving_pages.inbound_line_receive,
        name="inbound-line-receive",
    ),
    path("inbound/<int:pk>/lines/<int:number>/decide/", receiving_pages.inbound_decide, name="inbound-decide"),
    path("inbound/<int:pk>/finish/", receiving_pages.inbound_finish, name="inbound-finish"),
    path("picking/", picking_pages.pick_queue, name="picking"),
    path("picking/<int:pk>/", picking_pages.pick_page, name="pick-page"),
    path("picking/<int:pk>/release/", picking_pages.pick_release, name="pick-release"),
    path("picking/<int:pk>/scan/", picking_pages.pick_scan, name="pick-scan"),
    path("picking/<int:pk>/short/", picking_pages.pick_short, name="pick-short"),
    path("picking/<int:pk>/resume/", picking_pages.pick_resume, name="pick-resume"),
    path("picking/<int:pk>/cancel-line/", picking_pages.pick_cancel_line, name="pick-cancel-line"),
    path("picking/<int:pk>/pack/", picking_pages.pack_page, name="pack-page"),
    path("picking/<int:pk>/pack/parcels/", picking_pages.pack_parcel_add, name="pack-parcel-add"),
    path(
        "picking/<int:pk>/pack/parcels/<int:number>/remove/",
        picking_pages.pack_parcel_remove,
        name="pack-parcel-remove",
    ),
    path("picking/<int:pk>/pack/done/", picking_pages.pack_done, name="pack-done"),
    path("count-tasks/", count_pages.count_task_list, name="count-tasks"),
    path("count-tasks/<int:pk>/record/", count_pages.count_task_record_page, name="count-task-record"),
    path("orders/", order_views.order_list, name="orders"),
    path("orders/at-risk/", allocation_views.orders_at_risk_page, name="orders-at-risk"),
    path("orders/<int:pk>/", order_views.order_detail, name="order-page"),
    path("orders/<int:pk>/lines/<int:number>/", order_actions.order_page_line, name="order-page-line"),
    path(
        "orders/<int:pk>/lines/<int:number>/cancel/",
        order_actions.order_page_line_cancel,
        name="order-page-line-cancel",
    ),
    path("orders/<int:pk>/aliases/", order_actions.order_page_alias, name="order-page-alias"),
    path("orders/<int:pk>/recheck/", order_actions.order_page_recheck, name="order-page-recheck"),
    path("orders/<int:pk>/conflicts/<str:field>/", order_actions.order_page_conflict, name="order-page-conflict"),
    path("orders/<int:pk>/steps/<str:name>/", order_actions.order_page_transition, name="order-page-transition"),
    path("orders/<int:pk>/force/", order_actions.order_page_force, name="order-page-force"),
    path("orders/<int:pk>/return/", return_views.return_authorise_page, name="return-authorise"),
    path("returns/", return_views.return_list, name="returns"),
    path("returns/<int:pk>/", return_views.return_detail, name="return-page"),
    path("returns/<int:pk>/scan/", return_views.return_page_scan, name="return-page-scan"),
    path("returns/<int:pk>/triage/", return_views.return_page_triage, name="return-page-triage"),
    path("returns/<int:pk>/steps/<str:name>/", return_views.return_page_step, name="return-page-step"),
    path("orders/<int:pk>/tracking/", tracking_views.order_tracking_page, name="order-tracking"),
    path("orders/<int:pk>/tracking/manual/", tracking_views.order_tracking_manual, name="order-tracking-manual"),
    path("orders/<int:pk>/tracking/recheck/", tracking_views.order_tracking_recheck, name="order-tracking-recheck"),
    path("connections/<int:pk>/mappings/", connection_mappings_page, name="connection-mappings"),
    path("onboarding/", onboarding.onboarding_list_page, name="onboarding"),
    path("onboarding/<int:pk>/", onboarding.onboarding_checklist_page, name="onboarding-checklist"),
    path("onboarding/<int:pk>/tick/", onboarding.onboarding_tick_page, name="onboarding-tick"),
    path("onboarding/<int:pk>/go-live/", onboarding.onboarding_go_live_page, name="onboarding-go-live"),
    path("allocation-policy/", allocation_views.allocation_policy_page, name="allocation-policy"),
    path("reservations/", entry_pages.reservations_page, name="reservations"),
    path("scheduled-inbound/", entry_pages.scheduled_inbound_page, name="scheduled-inbound"),
    path("", include("integrations.alerts.urls")),
    path("shipping/", shipping_pages.shipping_desk, name="shipping"),
    path("shipping/rules/dry-run/", shipping_pages.shipping_rules_dry_run, name="shipping-dry-run"),
    path("shipping/orders/<int:pk>/", shipping_pages.shipping_order_page, name="shipping-page-order"),
    path("shipping/orders/<int:pk>/ship/", shipping_pages.shipping_order_ship, name="shipping-page-ship"),
    path(
        "shipping/labels/<int:pk>/file/<str:format>/",
        shipping_pages.shipping_label_file,
        name="shipping-page-label-file",
    ),
    path("shipping/labels/<int:pk>/void/", shipping_pages.shipping_label_void, name="shipping-page-label-void"),
    path(
        "shipping/labels/<int:pk>/hand-off/", shipping_pages.shipping_label_handoff, name="shipping-page-label-handoff"
    ),
    path(
        "shipping/accounts/<int:pk>/manifest/",
        shipping_pages.shipping_manifest_close,
        name="shipping-page-manifest-close",
    ),
    path(
        "shipping/manifests/<int:pk>/hand-off/",
        shipping_pages.shipping_manifest_handoff,
        name="shipping-page-manifest-handoff",
    ),
    path("", include("reports.urls")),
]
