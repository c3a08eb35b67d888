"""Picking and packing over the API (`/api/v1/picking/orders/`): the pick queue, one order's pick list and parcels,
and the floor's steps, through the same services as the pages (`orders.services.picking`, `.packing`, `.floor`).
Another brand's order is a 404; the services check who may act (403) and name every refusal in `reasons[].code`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from orders.models import Order, OrderState, Parcel, PickLine
from orders.selectors import order_list_visible_to
from orders.services import (
    order_cancel_short_line,
    order_pack_parcels,
    order_pick,
    order_release_to_pick,
    order_resume_from_floor_hold,
    order_short_pick,
    parcel_add,
    parcel_remove,
)
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer

QUEUE_STATES = (OrderState.ACCEPTED, OrderState.PICKING, OrderState.FLOOR_HOLD, OrderState.PICKED)
PICK_LINES_LIMIT = 5_000

COMMON = " 403 when the role may not take the step; another brand's order is a 404."
PICK_REFUSALS = (
    "Refusals name each rule in `reasons[].code`: `wrong_sku` (names the expected SKU), `over_pick` (more than "
    "allocated), `quantity_not_positive`, `unknown_barcode`, `alias_expired` (names the new code), "
    "`barcode_outside_window`, `barcode_required`, `pick_line_unknown` (422); `held_on_floor`, `wrong_state` (409)."
    + COMMON
)
PARCEL_REFUSALS = (
    "Each measurement is a whole number from 1: `weight_grams`, `length_mm`, `width_mm`, `height_mm` name the bad "
    "ones (422); `too_many_parcels` (422); `no_parcels`, `wrong_state` (409)." + COMMON
)


def _actor(request: Request) -> Any:
    return request.user


class PickLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True, help_text="Where it is picked")
    line = serializers.IntegerField(source="line.line_number", read_only=True, help_text="The order line's number")

    class Meta:
        model = PickLine
        fields = ["id", "line", "sku", "facility", "expected", "picked", "short", "picked_at"]
        read_only_fields = fields


class ParcelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parcel
        fields = ["number", "weight_grams", "length_mm", "width_mm", "height_mm", "created_at"]
        read_only_fields = fields


class PickOrderSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True, allow_null=True)
    state = serializers.CharField(read_only=True, help_text="accepted, picking, floor_hold, picked, packed, …")
    held_from = serializers.CharField(read_only=True, help_text="While floor_hold: picking or packed")

    class Meta:
        model = Order
        fields = [
            "id",
            "platform_order_id",
            "brand",
            "facility",
            "state",
            "held_from",
            "hold_reasons",
            "ship_by",
            "last_activity_at",
        ]
        read_only_fields = fields


class PickOrderDetailSerializer(PickOrderSerializer):
    pick_lines = serializers.SerializerMethodField()
    parcels = serializers.SerializerMethodField()

    class Meta(PickOrderSerializer.Meta):
        fields = [*PickOrderSerializer.Meta.fields, "pick_lines", "parcels"]
        read_only_fields = fields

    def get_pick_lines(self, order: Order) -> list[dict[str, Any]]:
        rows = PickLine.objects.filter(order=order).select_related("sku", "facility", "line")[:PICK_LINES_LIMIT]
        return list(PickLineSerializer(rows, many=True).data)

    def get_parcels(self, order: Order) -> list[dict[str, Any]]:
        return list(ParcelSerializer(Parcel.objects.filter(order=order), many=True).data)


class PickSerializer(StrictSerializer):
    code = serializers.CharField(max_length=100, help_text="The scanned barcode or the typed SKU code")
    quantity = serializers.IntegerField(default=1, help_text="Units picked, at least 1")
    pick_line = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The pick line's id; without it the open lines of the SKU fill",
    )


class ShortSerializer(StrictSerializer):
    pick_line = serializers.IntegerField(help_text="The pick line whose shelf has fewer units")
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class ResumeSerializer(StrictSerializer):
    note = serializers.CharField(max_length=300, help_text="Why the hold is over (e.g. where the stock was found)")


class CancelLineSerializer(StrictSerializer):
    line = serializers.IntegerField(help_text="The order line's number")
    reason = serializers.CharField(max_length=300)


class ParcelInSerializer(StrictSerializer):
    weight_grams = serializers.IntegerField()
    length_mm = serializers.IntegerField()
    width_mm = serializers.IntegerField()
    height_mm = serializers.IntegerField()


class PackSerializer(StrictSerializer):
    parcels = serializers.ListField(
        child=ParcelInSerializer(),
        required=False,
        default=list,
        max_length=200,
        help_text="Cartons to add before packing (the order's parcels so far count too)",
    )


class RemoveParcelSerializer(StrictSerializer):
    number = serializers.IntegerField()


class PickingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    read_permission = "orders.view_order"
    write_permission = None  # the services check operating, manager and packing rights
    brand_readable = True

    def get_queryset(self) -> QuerySet[Order]:
        found = order_list_visible_to(user=_actor(self.request))
        if self.action == "list":
            found = found.filter(state__in=QUEUE_STATES).order_by("ship_by", "id")
            facility = self.request.query_params.get("facility", "")
            if facility:
                found = found.filter(facility__code=facility)
        return found

    def get_serializer_class(self) -> Any:
        return PickOrderSerializer if self.action == "list" else PickOrderDetailSerializer

    def _detail(self, order: Order) -> Response:
        return Response(PickOrderDetailSerializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("facility", str, description="A facility's code")],
        description="The pick queue: accepted, picking, held on the floor and picked orders, by ship-by.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses=PickOrderDetailSerializer,
        description="Release an accepted order to pick: its stock goes in pick and its pick list is "
        "written. `wrong_state`, `not_allocated` (409)." + COMMON,
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(order_release_to_pick(order=self.get_object(), actor=_actor(request)))

    @extend_schema(
        request=PickSerializer,
        responses=PickOrderDetailSerializer,
        description="Confirm units picked by scan; the last unit picked moves the order to `picked`. " + PICK_REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def pick(self, request: Request, pk: str | None = None) -> Response:
        body = PickSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order = order_pick(
            order=self.get_object(),
            code=data["code"],
            quantity=data["quantity"],
            pick_line=data["pick_line"],
            actor=_actor(request),
        )
        return self._detail(order)

    @extend_schema(
        request=ShortSerializer,
        responses=PickOrderDetailSerializer,
        description="The shelf has fewer units than the line needs: a count task and a `short_pick` "
        "exception open and the order is held on the floor (`floor_hold`, reason `short_pick`), its picked "
        "units kept in pick. `nothing_short`, `held_on_floor`, `wrong_state` (409); `pick_line_unknown` "
        "(422)." + COMMON,
    )
    @action(detail=True, methods=["post"])
    def short(self, request: Request, pk: str | None = None) -> Response:
        body = ShortSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_short_pick(
            order=self.get_object(),
            pick_line=body.validated_data["pick_line"],
            note=body.validated_data["note"],
            actor=_actor(request),
        )
        return self._detail(order)

    @extend_schema(
        request=ResumeSerializer,
        responses=PickOrderDetailSerializer,
        description="End a floor hold: held from picking (a manager, `orders.force_order_transition`), the "
        "short units are taken again and picking goes on; `insufficient_stock` (409) when the shelf still "
        "lacks them, nothing changed. Held once packed, back to packed. `wrong_state` (409), `note` "
        "(422)." + COMMON,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        body = ResumeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_resume_from_floor_hold(
            order=self.get_object(), note=body.validated_data["note"], actor=_actor(request)
        )
        return self._detail(order)

    @extend_schema(
        request=CancelLineSerializer,
        responses=PickOrderDetailSerializer,
        description="A manager cancels a short line after release (a recorded override), with a reason; "
        "its units in pick go back and the order goes on (picked when nothing is left). `line_not_short`, "
        "`last_line`, `wrong_state` (409); `reason`, `line_unknown` (422)." + COMMON,
    )
    @action(detail=True, methods=["post"], url_path="cancel-short-line")
    def cancel_short_line(self, request: Request, pk: str | None = None) -> Response:
        body = CancelLineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_cancel_short_line(
            order=self.get_object(),
            line_number=body.validated_data["line"],
            reason=body.validated_data["reason"],
            actor=_actor(request),
        )
        return self._detail(order)

    @extend_schema(
        request=ParcelInSerializer,
        responses=PickOrderDetailSerializer,
        description="Add one carton to a picked order. " + PARCEL_REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def parcels(self, request: Request, pk: str | None = None) -> Response:
        body = ParcelInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = self.get_object()
        parcel_add(order=order, measures=body.validated_data, actor=_actor(request))
        return self._detail(order)

    @extend_schema(
        request=RemoveParcelSerializer,
        responses=PickOrderDetailSerializer,
        description="Take a carton off a picked order. `parcel_unknown` (422), `wrong_state` (409)." + COMMON,
    )
    @action(detail=True, methods=["post"], url_path="parcels/remove")
    def remove_parcel(self, request: Request, pk: str | None = None) -> Response:
        body = RemoveParcelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = parcel_remove(order=self.get_object(), number=body.validated_data["number"], actor=_actor(request))
        return self._detail(order)

    @extend_schema(
        request=PackSerializer,
        responses=PickOrderDetailSerializer,
        description="Picked → packed, adding `parcels` first (all or none). " + PARCEL_REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def pack(self, request: Request, pk: str | None = None) -> Response:
        body = PackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_pack_parcels(
            order=self.get_object(), parcels=body.validated_data["parcels"], actor=_actor(request)
        )
        return self._detail(order)
