"""Domain errors become HTTP here and nowhere else: 409 transition not allowed / conflict / short stock, 403 not
permitted, 422 invalid input. Every other error keeps DRF's answer; the body always has `detail`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from warehouse.errors import DomainError


def domain_error_body(exc: DomainError) -> dict[str, Any]:
    return {"detail": exc.message, "reasons": [r.as_dict() for r in exc.reasons]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        # A model's clean()/constraint refused the data: the request was well-formed, the value breaks a rule.
        return Response({"detail": "; ".join(exc.messages), "reasons": []}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return drf_exception_handler(exc, context)
