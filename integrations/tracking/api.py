"""`/api/v1/manual-tracking/`: the manual tracking fallback for handhelds and floor systems. POST `{order, carrier,
tracking_number, handed_at, note?}` → 201 with the entry (the same entry again → 200, nothing new); GET lists the
entries of the orders the caller sees, with their re-check outcome and difference."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.tracking.models import ManualTracking
from integrations.tracking.services import ENTER_MANUAL, manual_tracking_enter
from orders.models import Order
from orders.selectors import order_list_visible_to
from warehouse.api.permissions import RolePermission


class ManualTrackingSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="shipment.order_id", read_only=True)
    shipment = serializers.IntegerField(source="shipment_id", read_only=True)
    entered_by = serializers.CharField(source="entered_by.get_username", read_only=True)

    class Meta:
        model = ManualTracking
        fields = [
            "id",
            "order",
            "shipment",
            "carrier",
            "tracking_number",
            "handed_at",
            "note",
            "entered_by",
            "entered_at",
            "outcome",
            "difference",
            "checked_at",
        ]
        read_only_fields = fields


class ManualTrackingInput(serializers.Serializer):
    order = serializers.IntegerField()
    carrier = serializers.CharField(allow_blank=True)
    tracking_number = serializers.CharField(allow_blank=True, trim_whitespace=True)
    handed_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ManualTrackingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ManualTrackingSerializer
    permission_classes = [RolePermission]
    read_permission = "tracking.view_manualtracking"
    write_permission = ENTER_MANUAL
    brand_readable = False

    def get_queryset(self) -> QuerySet[ManualTracking]:
        visible = order_list_visible_to(user=self.request.user)  # type: ignore[arg-type]
        return ManualTracking.objects.filter(shipment__order__in=visible).select_related("shipment", "entered_by")

    @extend_schema(
        request=ManualTrackingInput,
        responses={201: ManualTrackingSerializer, 200: ManualTrackingSerializer},
        description="While a carrier's API is down, a manager keys in a packed order's carrier, tracking number and "
        "hand-off time (`tracking.enter_manual_tracking`, else 403): the shipment is handed over, the order "
        "dispatched and the channel told, and the entry waits for its re-check against the carrier's tracking. "
        "201 with the entry; the same entry again answers 200 and adds nothing. 404 for an order not yours to see; "
        "422 naming every problem at once: `unknown_carrier`, `tracking_number_required`, `handed_at_future`, "
        "`handed_at_naive`, `order_not_packed`.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ManualTrackingInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visible = order_list_visible_to(user=request.user)  # type: ignore[arg-type]
        order = visible.filter(pk=data["order"]).first()
        if order is None:
            return Response({"detail": "No such order."}, status=status.HTTP_404_NOT_FOUND)
        same = self.get_queryset().filter(
            shipment__order=order,
            carrier=data["carrier"].strip(),
            tracking_number=data["tracking_number"].strip(),
            handed_at=data["handed_at"],
        )
        if same.exists():  # a retried request: the entry already made, nothing new
            return Response(ManualTrackingSerializer(same.first()).data, status=status.HTTP_200_OK)
        entry = manual_tracking_enter(
            order=Order.objects.get(pk=order.pk),
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            handed_at=data["handed_at"],
            note=data["note"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(ManualTrackingSerializer(entry).data, status=status.HTTP_201_CREATED)
