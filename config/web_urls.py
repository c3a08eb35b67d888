"""Routes of the HTML pages (mounted at /); see docs/CONTRACTS.md for who owns this file."""

from django.urls import URLPattern, URLResolver, include, path

from integrations.mapping_pages import connection_mappings_page
from integrations.shipping import pages as shipping_pages
from inventory import views as inventory_views
from orders import order_page_actions as order_actions
from orders import views as order_views
from orders.allocation import views as allocation_views
from warehouse import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("exceptions/", views.exception_queue, name="exception-queue"),
    path("stock/", inventory_views.stock_list, name="stock"),
    path("stock/<int:pk>/propose-count/", inventory_views.stock_propose_count, name="stock-page-propose"),
    path("stock/counts/<int:pk>/decide/", inventory_views.stock_decide_count, name="stock-page-decide"),
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
    path("connections/<int:pk>/mappings/", connection_mappings_page, name="connection-mappings"),
    path("allocation-policy/", allocation_views.allocation_policy_page, name="allocation-policy"),
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
