"""API tokens for machine clients: knox stores only a hash, tokens are revocable one by one or all at once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from knox import views as knox_views
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from warehouse.api.serializers import StrictSerializer


def token_issue(*, user: Any) -> str:
    """A new token for `user`; the plain value is returned once and never stored."""
    _instance, token = AuthToken.objects.create(user=user)
    return str(token)


class _Credentials(StrictSerializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenLoginView(APIView):
    """Exchange a username and password for a token (`Authorization: Token <value>`)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        request=_Credentials,
        responses={200: inline_serializer("TokenIssued", {"token": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        body = _Credentials(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(request, **body.validated_data)
        if user is None or not user.is_active:
            return Response({"detail": "Wrong username or password."}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"token": token_issue(user=user)})


@extend_schema(request=None, responses={204: None})
class TokenLogoutView(knox_views.LogoutView):
    """Revoke the token this request was made with."""


@extend_schema(request=None, responses={204: None})
class TokenLogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of the calling user."""
