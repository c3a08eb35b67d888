"""Routes of the report pages, mounted at / by config.web_urls. Each report area adds its own include here."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("reports.finance.urls")),
]
