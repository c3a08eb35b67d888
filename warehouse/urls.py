from django.contrib import admin
from django.urls import include, path

from warehouse.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("webhooks/", include("integrations.urls")),
    path("api/", include("warehouse.api_urls")),
    path("", include("warehouse.web_urls")),
]
