"""Routes of the report pages, mounted at / by config.web_urls. Each report area adds its own include here."""

from django.urls import URLPattern, URLResolver, path

from reports.health_board import health_board

urlpatterns: list[URLPattern | URLResolver] = [
    path("health/", health_board, name="health-board"),
]
