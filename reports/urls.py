"""Routes of the report pages, mounted at / by config.web_urls. Each report area adds its own include here."""

from django.urls import URLPattern, URLResolver, include, path

from reports.health_board import health_board
from reports.slo import views as slo_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("reports.finance.urls")),
    path("health/", health_board, name="health-board"),
    path("slo/", slo_views.slo_index, name="slo"),
    path("slo/<int:pk>/", slo_views.slo_brand, name="slo-brand"),
    path("slo/<int:pk>/missed/", slo_views.slo_missed, name="slo-missed"),
    path("slo/<int:pk>/statement/<str:format>/", slo_views.slo_statement, name="slo-statement"),
]
