"""Domain errors become HTTP here and nowhere else: 409 transition not allowed / conflict / short stock, 403 not
permitted, 422 invalid input. A body over the size or depth limit is 413 or 400
(`warehouse.api.parsers`). Every other error keeps DRF's answer; the body always has `detail` or names its fields."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from warehouse.api.parsers import PayloadTooLarge, TooDeep
from warehouse.errors import DomainError


def domain_error_body(exc: DomainError) -> dict[str, Any]:
    return {"detail": exc.message, "reasons": [r.as_dict() for r in exc.reasons]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        # A model's clean()/constraint refused the data: the request was well-formed, the value breaks a rule.
        return Response({"detail": "; ".join(exc.messages), "reasons": []}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()  # Django's own limit on `request.body`, which DRF reads: JSON, not an HTML 400
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields, a malformed multipart body: Django would answer an HTML 400.
        return Response(
            {"detail": "The request body cannot be read.", "reasons": []}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, (PayloadTooLarge, TooDeep)):
        message = str(exc.detail)
        return Response(
            {"detail": message, "reasons": [{"code": exc.default_code, "message": message}]}, exc.status_code
        )
    return drf_exception_handler(exc, context)
