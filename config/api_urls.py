"""Routes of the REST API (mounted at /api/): version 1, the OpenAPI schema and its docs (served from the sidecar,
no CDN), and token login/logout."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from integrations.shipping.api import LabelViewSet, ManifestViewSet, ShippingOrderViewSet
from integrations.tracking.api import ManualTrackingViewSet
from inventory.api import CountDecisionViewSet, SkuViewSet, StockViewSet
from inventory.receiving_api import ExpectedInboundViewSet
from orders.allocation.entry_api import ContractReservationViewSet, ScheduledInboundViewSet
from orders.api import OrderViewSet, ShipmentViewSet
from orders.picking_api import PickingViewSet
from returns.api import ReturnViewSet
from warehouse.api.exceptions import ExceptionItemViewSet
from warehouse.api.tokens import TokenLoginView, TokenLogoutAllView, TokenLogoutView

router = DefaultRouter()
router.register("exceptions", ExceptionItemViewSet, basename="exception")
router.register("count-proposals", CountDecisionViewSet, basename="count-proposal")
router.register("skus", SkuViewSet, basename="sku")
router.register("stock", StockViewSet, basename="stock")
router.register("expected-inbound", ExpectedInboundViewSet, basename="expected-inbound")
router.register("returns", ReturnViewSet, basename="return")
router.register("reservations", ContractReservationViewSet, basename="reservation")
router.register("scheduled-inbound", ScheduledInboundViewSet, basename="scheduled-inbound")
router.register("picking/orders", PickingViewSet, basename="picking-order")
router.register("orders", OrderViewSet, basename="order")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("shipping/orders", ShippingOrderViewSet, basename="shipping-order")
router.register("labels", LabelViewSet, basename="label")
router.register("manifests", ManifestViewSet, basename="manifest")
router.register("manual-tracking", ManualTrackingViewSet, basename="manual-tracking")

v1: list[URLPattern | URLResolver] = [
    path("auth/login/", TokenLoginView.as_view(), name="api-login"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", TokenLogoutAllView.as_view(), name="api-logout-all"),
    path("", include(router.urls)),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
