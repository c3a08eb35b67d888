"""Routes; see docs/CONTRACTS.md for who owns this file. Mounted at /webhooks/."""

from django.urls import URLPattern, URLResolver, path

from integrations.tracking.webhooks import carrier_webhook, carrier_webhook_token
from integrations.views import webhook_receive

app_name = "integrations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("carriers/<slug:carrier>/<int:account_id>/", carrier_webhook, name="carrier-webhook"),
    path("carriers/<slug:carrier>/<int:account_id>/token", carrier_webhook_token, name="carrier-webhook-token"),
    path("<slug:platform>/<int:connection_id>/", webhook_receive, name="webhook"),
]
