"""Orders and shipments over the API: brand-scoped lists with filters, detail with lines, manual creation through
`orders.idempotency` (idempotent on brand and order id), and transitions as actions through the orders services."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.idempotency import manual_order_create_once
from orders.models import AllocationRow, Order, OrderLine, Shipment
from orders.selectors import by_platform_order_id, order_list_visible_to, shipment_list_visible_to
from orders.transition_services import transition_service
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.errors import InvalidInput, Reason
from warehouse.filters import brand_choices
from warehouse.models import Brand
from warehouse.roles import brands_visible_to


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["line_number", "sku_code", "quantity", "quantity_received", "title"]
        read_only_fields = fields


class AllocationRowSerializer(serializers.ModelSerializer):
    """One allocation row: units of one order line held at a facility, from a source, by a ledger event."""

    line_number = serializers.IntegerField(source="line.line_number", read_only=True)
    facility: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)
    sku: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AllocationRow
        fields = ["id", "line_number", "facility", "sku", "quantity", "source", "event_id"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    brand: serializers.Field = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    facility: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    allocation_rows = AllocationRowSerializer(many=True, read_only=True)
    platform = serializers.CharField(source="platform_code", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "brand",
            "source",
            "channel",
            "platform",
            "platform_order_id",
            "state",
            "hold_reasons",
            "facility",
            "ship_by",
            "placed_at",
            "delivery_name",
            "delivery_city",
            "delivery_postal_code",
            "delivery_country",
            "lines",
            "allocation_rows",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    order: serializers.Field = serializers.PrimaryKeyRelatedField(read_only=True)
    brand = serializers.CharField(source="order.brand.slug", read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "brand",
            "carrier",
            "service",
            "tracking_number",
            "state",
            "handed_at",
            "acknowledged_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class OrderFilter(django_filters.FilterSet):
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices)
    state = django_filters.CharFilter()
    platform_order_id = django_filters.CharFilter(method="filter_platform_order_id")
    channel = django_filters.NumberFilter(field_name="channel_id")
    platform = django_filters.CharFilter(field_name="channel__platform_code")

    class Meta:
        model = Order
        fields = ["brand", "state", "platform_order_id", "channel", "platform"]

    def filter_platform_order_id(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(by_platform_order_id(value, self.request.user))


class ManualLineSerializer(StrictSerializer):
    sku_code = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    title = serializers.CharField(max_length=300, required=False, default="")


class ManualAddressSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, default="")
    street1 = serializers.CharField(max_length=200, required=False, default="")
    street2 = serializers.CharField(max_length=200, required=False, default="")
    postal_code = serializers.CharField(max_length=20, required=False, default="")
    city = serializers.CharField(max_length=100, required=False, default="")
    region = serializers.CharField(max_length=100, required=False, default="")
    country = serializers.CharField(max_length=2, required=False, default="")


class ManualOrderSerializer(StrictSerializer):
    """A manual order: an operator types it in. The brand must be one the user may see."""

    brand = serializers.SlugRelatedField(slug_field="slug", queryset=Brand.objects.all())
    platform_order_id = serializers.CharField(max_length=100)
    address = ManualAddressSerializer()
    phone = serializers.CharField(max_length=40, required=False, default="")
    email = serializers.CharField(max_length=254, required=False, default="")
    special_handling = serializers.CharField(required=False, default="", max_length=2000)
    lines = ManualLineSerializer(many=True, allow_empty=False, max_length=500)  # type: ignore[call-arg]

    def validate_brand(self, brand: Brand) -> Brand:
        if not brands_visible_to(self.context["request"].user).filter(pk=brand.pk).exists():
            raise serializers.ValidationError("Unknown brand.")  # same answer as a brand that does not exist
        return brand


class TransitionSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    force = serializers.BooleanField(required=False, default=False)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [RolePermission]
    read_permission = "orders.view_order"
    write_permission = None  # manual creation needs orders.add_order; transitions are checked by the service
    brand_readable = True
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        rows = Prefetch("allocation_rows", queryset=AllocationRow.objects.select_related("line", "facility", "sku"))
        return order_list_visible_to(user=self.request.user).prefetch_related("lines", rows)  # type: ignore[arg-type]

    @extend_schema(
        request=ManualOrderSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer},
        description="Create a manual order. Idempotent on (brand, order id): the same request again answers 200 with "
        "the order it created; a different request for the same order id is a 409 naming the fields that differ.",
    )
    def create(self, request: Request) -> Response:

        if not request.user.has_perm("orders.add_order"):
            return Response({"detail": "You may not create orders."}, status=status.HTTP_403_FORBIDDEN)
        body = ManualOrderSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        canonical = CanonicalOrder(
            platform_order_id=data["platform_order_id"],
            updated_at=timezone.now(),
            address=CanonicalAddress(**data["address"]),
            phone=data["phone"],
            email=data["email"],
            special_handling=data["special_handling"],
            lines=tuple(
                CanonicalLine(sku_code=x["sku_code"], quantity=x["quantity"], title=x["title"]) for x in data["lines"]
            ),
        )
        made = manual_order_create_once(brand=data["brand"], canonical=canonical, actor=request.user)  # type: ignore[arg-type]
        return Response(
            OrderSerializer(self.get_queryset().get(pk=made.order.pk)).data,
            status=status.HTTP_201_CREATED if made.created else status.HTTP_200_OK,
        )

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def transition(self, request: Request, pk: str | None = None, name: str = "") -> Response:
        """Run transition `name` (e.g. `release_to_pick`, `cancel`); `force` needs the force permission and a
        reason."""
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = self.get_object()
        if name.startswith("_") or name not in {t.name for t in order.get_all_state_transitions()}:
            raise InvalidInput(f"Orders have no transition {name!r}.", reasons=[Reason("unknown_transition", name)])
        service = transition_service("order", name)
        if service is None:
            raise InvalidInput(f"Orders have no service for {name!r}.", reasons=[Reason("unknown_transition", name)])
        service(obj=order, actor=request.user, **body.validated_data)
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data)


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ShipmentSerializer
    permission_classes = [RolePermission]
    read_permission = "orders.view_shipment"
    brand_readable = True
    filterset_fields = ["state", "tracking_number", "carrier"]

    def get_queryset(self) -> QuerySet[Shipment]:
        return shipment_list_visible_to(user=self.request.user)  # type: ignore[arg-type]
