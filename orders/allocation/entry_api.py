"""Wholesale reservations and scheduled inbound for pre-orders over the API (issue 16 §5): brands and their ERPs
(with the brand's token) for their own brands, managers for any. The same entry functions as the managers' forms
(`orders.allocation.entries`); another brand's reservation or schedule is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from orders.allocation import entries
from orders.allocation.models import ContractReservation, ScheduledInbound
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.roles import brands_visible_to, scope_to_brands

# The 4xx answers themselves, with the error body, are declared once for every operation (warehouse.api.schema).
REFUSED = (
    " Refused, nothing changed. 400: a field's value breaks its rule, each named in `reasons[]` "
    "(`code` and a `message` starting with the field): `quantity_not_positive`, `quantity_invalid`, "
    "`quantity_over_available` (a reservation: more than is available at the facility now), `unknown_sku`, "
    "`preorder_limit_over_quantity`, "
    "`kit_has_no_stock`, `unknown_facility`, `*_in_past`, `*_required`; 403: a role that may not enter it (finance, "
    "operations); 404: not one of your brands; 409: `reference_in_use` (scheduled inbound)."
)


class ReservationSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug", read_only=True)
    sku = serializers.CharField(source="sku.code", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True)
    remaining = serializers.IntegerField(read_only=True)

    class Meta:
        model = ContractReservation
        fields = ["id", "brand", "customer", "contract_ref", "sku", "facility", "quantity", "drawn", "remaining",
                  "ship_date"]  # fmt: skip
        read_only_fields = fields


class NewReservationSerializer(StrictSerializer):
    brand = serializers.SlugField()
    customer = serializers.CharField(max_length=200, help_text="The wholesale/retail account, as on its orders")
    contract_ref = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    sku = serializers.CharField(max_length=100, help_text="The brand's SKU code")
    facility = serializers.CharField(max_length=20, help_text="The facility's code")
    quantity = serializers.IntegerField(help_text="At least 1, at most what is available there now")
    ship_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="Not in the past")


class ScheduleSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug", read_only=True)
    sku = serializers.CharField(source="sku.code", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    expected_on = serializers.DateField(read_only=True)
    inbound = serializers.IntegerField(source="expected_line.inbound_id", read_only=True,
                                       help_text="The expected inbound (/api/v1/expected-inbound/{id}/)")  # fmt: skip
    reference = serializers.CharField(source="expected_line.inbound.reference", read_only=True)
    line = serializers.IntegerField(source="expected_line.number", read_only=True)

    class Meta:
        model = ScheduledInbound
        fields = ["id", "brand", "inbound", "reference", "line", "sku", "facility", "quantity", "expected_on",
                  "preorder_limit", "preordered", "received"]  # fmt: skip
        read_only_fields = fields


class NewScheduleSerializer(StrictSerializer):
    brand = serializers.SlugField()
    sku = serializers.CharField(max_length=100, help_text="The brand's SKU code")
    facility = serializers.CharField(max_length=20, help_text="The facility's code")
    quantity = serializers.IntegerField(help_text="Units inbound, at least 1")
    preorder_limit = serializers.IntegerField(default=0, help_text="Units sold ahead as pre-orders, 0…quantity")
    expected_on = serializers.DateField(help_text="Not in the past")
    reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True,
                                      help_text="The ASN or PO number; blank: one is made")  # fmt: skip


def _brand(request: Request, slug: str) -> Any:
    brand = brands_visible_to(request.user).filter(slug=slug).first()  # type: ignore[arg-type]
    if brand is None:
        raise NotFound("No such brand.")
    return brand


class ContractReservationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [RolePermission]
    read_permission = "allocation.view_contractreservation"
    write_permission = None  # entries.reservation_enter checks who may enter it
    brand_readable = True
    serializer_class = ReservationSerializer

    def get_queryset(self) -> QuerySet[ContractReservation]:
        found = ContractReservation.objects.select_related("brand", "sku", "facility").order_by("pk")
        return scope_to_brands(found, self.request.user)  # type: ignore[arg-type]

    @extend_schema(
        description="Enter a wholesale or retail reservation: ring-fence `quantity` units of a SKU at a facility for "
        "a customer's orders (as named on them), from what is available now; a manager for any brand, a brand's user "
        "or ERP token for its own. 201 with the reservation; 400 naming each bad field (nothing saved); 403 for "
        "finance, operations and administrators; 404 for a brand that is not yours; 409 is not used by this action."
        + REFUSED,
        request=NewReservationSerializer,
        responses={201: ReservationSerializer},
    )
    def create(self, request: Request) -> Response:
        body = NewReservationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reservation = entries.reservation_enter(
            brand=_brand(request, data["brand"]), customer=data["customer"], contract_ref=data["contract_ref"],
            sku=data["sku"], facility=data["facility"], quantity=data["quantity"], ship_date=data["ship_date"],
            actor=request.user,  # type: ignore[arg-type]
        )  # fmt: skip
        return Response(ReservationSerializer(reservation).data, status=201)


class ScheduledInboundViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [RolePermission]
    read_permission = "allocation.view_scheduledinbound"
    write_permission = None  # entries.schedule_enter checks who may enter it
    brand_readable = True
    serializer_class = ScheduleSerializer

    def get_queryset(self) -> QuerySet[ScheduledInbound]:
        found = ScheduledInbound.objects.with_line().order_by("pk")
        return scope_to_brands(found, self.request.user, field="expected_line__inbound__brand")  # type: ignore[arg-type]

    @extend_schema(
        description="Enter a scheduled inbound for pre-orders: an expected inbound of one line (the ASN or PO "
        "`reference`, made when blank) of which up to `preorder_limit` units may be sold ahead; receiving that line "
        "allocates the pre-orders. 201 with the schedule; 400 naming each bad field (nothing saved); 403 for finance, "
        "operations and administrators; 404 for a brand that is not yours; 409 `reference_in_use`." + REFUSED,
        request=NewScheduleSerializer,
        responses={201: ScheduleSerializer},
    )
    def create(self, request: Request) -> Response:
        body = NewScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        schedule = entries.schedule_enter(
            brand=_brand(request, data["brand"]), sku=data["sku"], facility=data["facility"],
            quantity=data["quantity"], preorder_limit=data["preorder_limit"], expected_on=data["expected_on"],
            reference=data["reference"], actor=request.user,  # type: ignore[arg-type]
        )  # fmt: skip
        return Response(ScheduleSerializer(ScheduledInbound.objects.with_line().get(pk=schedule.pk)).data, status=201)
