"""Carriers' pushed tracking events: `POST /webhooks/carriers/<carrier>/<account id>/` and, for carriers that fetch
a token from us first (UPS Track Alert v2, OAuth client credentials with the webhook client id and secret set under
"Manage Webhook Credentials"), `POST /webhooks/carriers/<carrier>/<account id>/token`.

A push is verified over the raw bytes by the carrier's connector (`webhook_verify`) before anything is parsed or
stored; its events are stored once, with the task that applies them in time order, in one statement
(`tracking_events_accept`); the 200 is sent after that commit, so every 2xx is stored and will be applied.
Nothing of the credentials, the token or the body goes into a log or an answer."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.carriers.errors import NotSupported
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for, is_registered
from integrations.tracking.models import EventSource
from integrations.tracking.services import tracking_events_accept
from warehouse.errors import InvalidInput

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # one Track Alert event is about 1 kB


def _account(carrier: str, account_id: int) -> CarrierAccount | None:
    if not is_registered(carrier):
        return None
    return CarrierAccount.objects.filter(pk=account_id, carrier=carrier, active=True).first()


def _body(request: HttpRequest) -> bytes | None:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@csrf_exempt
@require_POST
def carrier_webhook_token(request: HttpRequest, carrier: str, account_id: int) -> HttpResponse:
    account = _account(carrier, account_id)
    if account is None:
        return JsonResponse({"error": "not_found"}, status=404)
    body = _body(request)
    if body is None:
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        answer = connector_for(carrier).webhook_token(
            authorization=request.headers.get("Authorization", ""),
            body=body,
            credentials=account.credentials_get(),
            now=timezone.now(),
        )
    except NotSupported:
        answer = None
    if not answer:
        return JsonResponse({"error": "invalid_client"}, status=401)
    return JsonResponse(answer, status=200, headers={"Cache-Control": "no-store"})


@csrf_exempt
@require_POST
def carrier_webhook(request: HttpRequest, carrier: str, account_id: int) -> HttpResponse:
    account = _account(carrier, account_id)
    if account is None:
        return JsonResponse({"status": "not_found"}, status=404)
    body = _body(request)
    if body is None:
        return JsonResponse({"status": "too_large"}, status=413)
    connector = connector_for(carrier)
    if not connector.supports_webhooks:
        return JsonResponse({"status": "not_pushed", "detail": f"{connector.name} is polled"}, status=404)
    verified = connector.webhook_verify(
        headers=dict(request.headers.items()), body=body, credentials=account.credentials_get(), now=timezone.now()
    )
    if not verified:
        return JsonResponse({"status": "unauthorized"}, status=401)
    try:
        events = connector.webhook_events(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # json errors are ValueErrors
        detail = "not JSON" if isinstance(exc, json.JSONDecodeError) else f"unreadable event ({type(exc).__name__})"
        return JsonResponse({"status": "bad_request", "detail": detail}, status=400)
    try:
        new, applied = tracking_events_accept(events=events, source=EventSource.WEBHOOK)
    except InvalidInput as exc:
        return JsonResponse({"status": "refused", "reasons": [r.as_dict() for r in exc.reasons]}, status=422)
    return JsonResponse({"status": "ok", "events": len(events), "new": new, "applied": applied}, status=200)
