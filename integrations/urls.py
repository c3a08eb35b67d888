"""Routes; see docs/CONTRACTS.md for who owns this file. Mounted at /webhooks/."""

from django.urls import URLPattern, URLResolver, path

from integrations.views import webhook_receive

app_name = "integrations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:platform>/<int:connection_id>/", webhook_receive, name="webhook"),
]
