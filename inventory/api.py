"""Catalog and stock over the API (read), plus the count proposal and its approval."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.catalog_api import SkuSerializer, SkuWrites
from inventory.models import Sku, StockLevel
from inventory.proposals import count_approve, count_propose, count_reject
from inventory.selectors import catalog_drift, sku_list, stock_levels
from warehouse.api.exceptions import ExceptionItemSerializer
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import NoteSerializer, OptionalNoteSerializer, StrictSerializer
from warehouse.filters import brand_choices
from warehouse.models import ExceptionItem
from warehouse.roles import scope_to_brands
from warehouse.selectors import exception_queue_for


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", read_only=True)
    brand = serializers.CharField(source="sku.brand.slug", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "sku",
            "brand",
            "facility",
            "on_hand",
            "allocated",
            "in_pick",
            "quarantine",
            "damaged",
            "inbound",
            "reserved",
            "available",
            "updated_at",
        ]
        read_only_fields = fields


class SkuFilter(django_filters.FilterSet):
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices)
    code = django_filters.CharFilter()
    state = django_filters.CharFilter()

    class Meta:
        model = Sku
        fields = ["brand", "code", "state"]


class StockFilter(django_filters.FilterSet):
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices, field_name="sku__brand")
    sku = django_filters.CharFilter(field_name="sku__code")
    facility = django_filters.CharFilter(field_name="facility__code")

    class Meta:
        model = StockLevel
        fields = ["brand", "sku", "facility"]


class SkuViewSet(SkuWrites, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The catalogue: read (brand users their own SKUs), and the writes of `inventory.catalog_api.SkuWrites`."""

    serializer_class = SkuSerializer
    permission_classes = [RolePermission]
    read_permission = "inventory.view_sku"
    write_permission = None  # the catalogue services check who may change what, before any write
    brand_readable = True
    filterset_class = SkuFilter

    def get_queryset(self) -> QuerySet[Sku]:
        skus = scope_to_brands(sku_list(), self.request.user)  # type: ignore[arg-type]
        if self.request.query_params.get("drift") in ("1", "true"):
            skus = skus.filter(pk__in=catalog_drift().values("pk"))
        return skus


class CountProposalSerializer(StrictSerializer):
    counted = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    reason = serializers.CharField(allow_blank=False, max_length=2000)


class StockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = StockLevelSerializer
    permission_classes = [RolePermission]
    read_permission = "inventory.view_stocklevel"
    brand_readable = True
    filterset_class = StockFilter

    def get_queryset(self) -> QuerySet[StockLevel]:
        return scope_to_brands(stock_levels(), self.request.user, field="sku__brand")  # type: ignore[arg-type]

    @extend_schema(
        request=CountProposalSerializer,
        responses={201: ExceptionItemSerializer},
        description="Propose a physical count of this stock row (operations and managers: "
        "`warehouse.add_exceptionitem`, else 403). It opens a count proposal in the exception queue for a manager "
        "to approve (`/count-proposals/{id}/approve/`); stock changes only then. 400 for a count below 0 or no "
        "reason, naming the field; 404 for another brand's row.",
    )
    @action(detail=True, methods=["post"], url_path="propose-count")
    def propose_count(self, request: Request, pk: str | None = None) -> Response:
        body = CountProposalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = count_propose(level=self.get_object(), actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(ExceptionItemSerializer(item).data, status=201)


class CountDecisionViewSet(viewsets.GenericViewSet):
    """Approve or reject a count proposal (it is an exception item of the queue)."""

    permission_classes = [RolePermission]
    read_permission = "warehouse.view_exceptionitem"
    write_permission = "inventory.approve_cycle_count"
    serializer_class = NoteSerializer

    def get_queryset(self) -> QuerySet[ExceptionItem]:
        return exception_queue_for(user=self.request.user)

    @extend_schema(
        request=OptionalNoteSerializer,
        responses=ExceptionItemSerializer,
        description="Approve a count proposal (`inventory.approve_cycle_count`, else 403): the physical count wins, "
        "on hand becomes the count and the ledger records expected, counted, variance, who counted and who "
        "approved; the proposal closes and the channels get the new number on the next publishing cycle. 409 "
        "`count_below_committed` (fewer than the units allocated, in pick, quarantined, damaged or reserved) "
        "or an item that is not a count proposal; 404 once decided (it leaves the queue).",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        body = OptionalNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = self.get_object()
        count_approve(item=item, actor=request.user, note=body.validated_data["note"])  # type: ignore[arg-type]
        item.refresh_from_db()
        return Response(ExceptionItemSerializer(item).data)

    @extend_schema(
        request=NoteSerializer,
        responses=ExceptionItemSerializer,
        description="Reject a count proposal with a note (e.g. a recount is needed): stock is unchanged, the "
        "decision is recorded and the proposal closes. `inventory.approve_cycle_count`, else 403; 400 without a "
        "note; 404 once decided (it leaves the queue); 409 for an item that is not a count proposal.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = count_reject(item=self.get_object(), actor=request.user, note=body.validated_data["note"])  # type: ignore[arg-type]
        return Response(ExceptionItemSerializer(item).data)
