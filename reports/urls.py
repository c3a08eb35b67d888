"""Routes of the report pages, mounted at / by config.web_urls. Each report area adds its own include here."""

from django.urls import URLPattern, URLResolver, include, path

from reports.health_board import health_board

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("reports.finance.urls")),
    path("health/", health_board, name="health-board"),
]
