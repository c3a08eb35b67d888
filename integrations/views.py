"""The webhook endpoint. It holds no rule: `integrations.inbox.inbox_receive` does the work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.inbox import MAX_BODY_BYTES, inbox_receive


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, platform: str, connection_id: int) -> HttpResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return JsonResponse({"status": "too_large"}, status=413)
    # Read the stream ourselves: request.body would refuse > DATA_UPLOAD_MAX_MEMORY_SIZE with a 400.
    body = request.read(MAX_BODY_BYTES + 1)
    result = inbox_receive(
        platform=platform,
        connection_id=connection_id,
        body=body,
        headers=request.headers,
        endpoint=request.path,
    )
    return JsonResponse({"status": result.outcome}, status=result.status)
