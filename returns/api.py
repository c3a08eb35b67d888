"""Returns over the API: brand-scoped list and detail; steps as actions through `returns.services`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from returns import services
from returns.models import Disposition, Grade, Return, ReturnLine
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.filters import brand_choices
from warehouse.roles import scope_to_brands


class ReturnLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity"]
        read_only_fields = fields


class ReturnSerializer(serializers.ModelSerializer):
    brand: serializers.Field = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    facility: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    lines = ReturnLineSerializer(many=True, read_only=True)
    # Empty until triage: declared, since a read-only model field drops allow_blank and the schema would deny "".
    grade = serializers.ChoiceField(choices=Grade.choices, allow_blank=True, read_only=True)
    disposition = serializers.ChoiceField(choices=Disposition.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "brand",
            "rma_number",
            "state",
            "reason",
            "facility",
            "grade",
            "disposition",
            "received_at",
            "triaged_at",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class ReturnFilter(django_filters.FilterSet):
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices)
    state = django_filters.CharFilter()
    rma_number = django_filters.CharFilter()

    class Meta:
        model = Return
        fields = ["brand", "state", "rma_number"]


class StepSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class TriageSerializer(StrictSerializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


_STEPS: dict[str, Any] = {
    "authorize": services.return_authorize,
    "mark-shipped-back": services.return_mark_shipped_back,
    "receive": services.return_receive,
    "restock": services.return_restock,
    "rework": services.return_rework,
    "dispose": services.return_dispose,
}


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReturnSerializer
    permission_classes = [RolePermission]
    read_permission = "returns.view_return"
    write_permission = None  # each step's permission is checked by the service (403)
    brand_readable = True
    filterset_class = ReturnFilter

    def get_queryset(self) -> QuerySet[Return]:
        queryset = Return.objects.select_related("brand", "facility").prefetch_related("lines__sku")
        return scope_to_brands(queryset, self.request.user)  # type: ignore[arg-type]

    def _step(self, request: Request, name: str) -> Response:
        body = StepSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rma = _STEPS[name](rma=self.get_object(), actor=request.user, reason=body.validated_data["reason"])
        return Response(ReturnSerializer(self.get_queryset().get(pk=rma.pk)).data)

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def authorize(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "authorize")

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"], url_path="mark-shipped-back")
    def mark_shipped_back(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "mark-shipped-back")

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "receive")

    @extend_schema(request=TriageSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, pk: str | None = None) -> Response:
        body = TriageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rma = services.return_triage(rma=self.get_object(), actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(ReturnSerializer(self.get_queryset().get(pk=rma.pk)).data)

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def restock(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "restock")

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def rework(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "rework")

    @extend_schema(request=StepSerializer, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def dispose(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "dispose")
