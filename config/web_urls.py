"""Routes of the HTML pages (mounted at /); see docs/CONTRACTS.md for who owns this file."""

from django.urls import URLPattern, URLResolver, include, path

from integrations.mapping_pages import connection_mappings_page
from integrations.tracking import views as tracking_views
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
    path("orders/<int:pk>/tracking/", tracking_views.order_tracking_page, name="order-tracking"),
    path("orders/<int:pk>/tracking/manual/", tracking_views.order_tracking_manual, name="order-tracking-manual"),
    path("orders/<int:pk>/tracking/recheck/", tracking_views.order_tracking_recheck, name="order-tracking-recheck"),
    path("connections/<int:pk>/mappings/", connection_mappings_page, name="connection-mappings"),
    path("allocation-policy/", allocation_views.allocation_policy_page, name="allocation-policy"),
    path("", include("reports.urls")),
]
