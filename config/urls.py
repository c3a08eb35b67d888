from django.contrib import admin
from django.urls import include, path

from integrations.metrics.exporter import metrics_view
from warehouse.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("webhooks/", include("integrations.urls")),
    path("api/", include("config.api_urls")),
    path("", include("config.web_urls")),
]

# Under /api/ these answer JSON (warehouse.api.fallback); elsewhere Django's pages.
handler400 = "warehouse.api.fallback.bad_request"
handler404 = "warehouse.api.fallback.page_not_found"
handler500 = "warehouse.api.fallback.server_error"
