"""Shipping over the REST API, for handheld scanners and floor systems: the same actions as the console, through the
same services. Errors: 403 without `orders.operate_shipment`; 409 `order_not_packed`, `handed_over`,
`no_carrier_confirmation`, or a hold (`no_shipping_rule`, `customs_data_missing`: the order is held with that reason);
422 `no_parcels`, `bad_weight`, `unknown_service`, `override_reason_required`, `no_carrier_account`,
`facility_not_in_order`, `carrier_rejected` (the carrier's own message in `detail`); 503 `carrier_unavailable`
(nothing bought)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.carriers.models import CarrierAccount
from integrations.shipping import services
from integrations.shipping.models import Label, Manifest
from orders.models import Order
from orders.selectors import order_list_visible_to
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.errors import InvalidInput, Reason


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


def _errors(**codes: str) -> dict[int, OpenApiResponse]:
    return {int(k.removeprefix("s")): OpenApiResponse(ErrorSerializer, description=v) for k, v in codes.items()}


class LabelSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="shipment.order_id", read_only=True)
    parcel = serializers.IntegerField(source="parcel.number", read_only=True)
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Label
        fields = ["id", "order", "shipment", "parcel", "carrier", "service", "tracking_number", "format", "sha256",
                  "cost", "currency", "manifest", "carrier_receipt", "picked_up_at", "voided_at", "void_reason",
                  "created_at", "documents"]  # fmt: skip
        read_only_fields = fields

    def get_documents(self, label: Label) -> list[str]:
        return sorted(f.format for f in label.files.all())


class ManifestSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()

    class Meta:
        model = Manifest
        fields = ["id", "account", "facility", "day", "closed_at", "carrier_reference", "labels"]
        read_only_fields = fields

    def get_labels(self, manifest: Manifest) -> list[str]:
        return [label.tracking_number for label in manifest.labels.all()]


class ShipRequestSerializer(StrictSerializer):
    carrier = serializers.CharField(required=False, default="", allow_blank=True, max_length=30)
    service = serializers.CharField(required=False, default="", allow_blank=True, max_length=30)
    override_reason = serializers.CharField(required=False, default="", allow_blank=True)
    weights = serializers.DictField(
        child=serializers.IntegerField(), required=False, default=dict, help_text="Parcel number → grams at the dock"
    )
    facility = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=20,
        help_text="A split order's leg: the facility code it ships from (default: the first leg with parcels waiting)",
    )  # fmt: skip


class ShippedSerializer(serializers.Serializer):
    shipment = serializers.IntegerField()
    carrier = serializers.CharField()
    service = serializers.CharField()
    tracking_number = serializers.CharField()
    labels = LabelSerializer(many=True)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True)


class ManifestCloseSerializer(StrictSerializer):
    account = serializers.IntegerField(help_text="The carrier account whose labels at its facility close today")


class HandOffSerializer(serializers.Serializer):
    confirmed = serializers.ListField(child=serializers.CharField())
    waiting = serializers.ListField(child=serializers.CharField())
    shipments_handed_over = serializers.ListField(child=serializers.IntegerField())


def _hand_off_body(done: services.HandOff) -> dict[str, Any]:
    return {
        "confirmed": [x.tracking_number for x in done.confirmed],
        "waiting": [x.tracking_number for x in done.waiting],
        "shipments_handed_over": [s.pk for s in done.shipments],
    }


def _weights(raw: dict[str, int]) -> dict[int, Any]:
    bad = [k for k in raw if not str(k).isdigit()]
    if bad:
        raise InvalidInput("Weights are keyed by parcel number.", reasons=[Reason("unknown_parcel", k) for k in bad])
    return {int(k): v for k, v in raw.items()}


class ShippingOrderViewSet(viewsets.GenericViewSet):
    """Ship a packed order: `POST /api/v1/shipping/orders/{id}/ship/`."""

    permission_classes = [RolePermission]
    read_permission = "orders.view_shipment"
    write_permission = None  # the service checks orders.operate_shipment first
    serializer_class = ShipRequestSerializer

    def get_queryset(self) -> QuerySet[Order]:
        return order_list_visible_to(user=self.request.user).select_related("facility", "brand")  # type: ignore[arg-type]

    @extend_schema(
        request=ShipRequestSerializer,
        responses={
            201: ShippedSerializer,
            **_errors(
                s403="orders.operate_shipment missing",
                s409="order_not_packed, no_shipping_rule or customs_data_missing (the order is held with the reason)",
                s422="no_parcels, bad_weight, unknown_service, override_reason_required, no_carrier_account, "
                "facility_not_in_order, carrier_rejected (the carrier's message in detail)",
                s503="carrier_unavailable: the carrier did not answer, nothing was bought",
            ),
        },
        description="Create the shipment of a packed order's parcels and buy one label per parcel. The rules choose "
        "the service; `carrier` and `service` override them and need `override_reason`. A split order ships one leg "
        "per call (`facility`: its code), each leg its own shipment and fulfilment.",
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str | None = None) -> Response:
        body = ShipRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        shipped = services.order_ship(
            order=self.get_object(),
            actor=request.user,  # type: ignore[arg-type]
            carrier=data["carrier"],
            service=data["service"],
            override_reason=data["override_reason"],
            weights=_weights(data["weights"]),
            facility=data["facility"] or None,
        )
        shipment = shipped.shipment
        return Response(
            {
                "shipment": shipment.pk,
                "carrier": shipment.carrier,
                "service": shipment.service,
                "tracking_number": shipment.tracking_number,
                "labels": LabelSerializer(shipped.labels, many=True).data,
            },
            status=status.HTTP_201_CREATED,
        )


class LabelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = LabelSerializer
    permission_classes = [RolePermission]
    read_permission = "orders.view_shipment"
    write_permission = None  # the service checks orders.operate_shipment first
    filterset_fields = ["tracking_number", "carrier", "shipment", "manifest"]

    def get_queryset(self) -> QuerySet[Label]:
        orders = order_list_visible_to(user=self.request.user)  # type: ignore[arg-type]
        return (
            Label.objects.filter(shipment__order__in=orders)
            .select_related("shipment", "parcel")
            .prefetch_related("files")
            .order_by("-id")
        )

    @extend_schema(
        request=ReasonSerializer,
        responses={
            200: LabelSerializer,
            **_errors(
                s403="not permitted",
                s409="handed_over or already_void",
                s422="carrier_rejected",
                s503="carrier_unavailable",
            ),
        },
        description="Void the label at the carrier: before hand-off only.",
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        label = services.label_void(label=self.get_object(), actor=request.user, reason=body.validated_data["reason"])  # type: ignore[arg-type]
        return Response(LabelSerializer(self.get_queryset().get(pk=label.pk)).data)

    @extend_schema(
        request=None,
        responses={
            200: HandOffSerializer,
            **_errors(
                s403="not permitted",
                s409="no_carrier_confirmation",
                s422="nothing_to_hand_off",
                s503="carrier_unavailable",
            ),
        },
        description="Record this parcel's hand-off: the carrier's API must confirm the pickup (its first scan).",
    )
    @action(detail=True, methods=["post"], url_path="hand-off")
    def hand_off(self, request: Request, pk: str | None = None) -> Response:
        done = services.handoff_record(actor=request.user, labels=[self.get_object()])  # type: ignore[arg-type]
        return Response(_hand_off_body(done))


class ManifestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ManifestSerializer
    permission_classes = [RolePermission]
    read_permission = "shipping.view_manifest"
    write_permission = None  # the service checks orders.operate_shipment first

    def get_queryset(self) -> QuerySet[Manifest]:
        return Manifest.objects.prefetch_related("labels").order_by("-id")

    @extend_schema(
        request=ManifestCloseSerializer,
        responses={201: ManifestSerializer, **_errors(s403="not permitted", s422="nothing_to_manifest")},
        description="Close today's manifest of a carrier account at its facility: every live label not yet on one.",
    )
    def create(self, request: Request) -> Response:
        services.require_operate(request.user)  # type: ignore[arg-type]  # before the account is looked up
        body = ManifestCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = CarrierAccount.objects.filter(pk=body.validated_data["account"]).first()
        if account is None:
            raise InvalidInput("No such carrier account.", reasons=[Reason("unknown_account", "")])
        manifest = services.manifest_close(account=account, actor=request.user)  # type: ignore[arg-type]
        return Response(ManifestSerializer(manifest).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: HandOffSerializer,
            **_errors(
                s403="not permitted", s409="no_carrier_confirmation or manifest_open", s503="carrier_unavailable"
            ),
        },
        description="Record the manifest's hand-off: each parcel the carrier confirms (its pickup scan) is handed "
        "over.",
    )
    @action(detail=True, methods=["post"], url_path="hand-off")
    def hand_off(self, request: Request, pk: str | None = None) -> Response:
        done = services.handoff_record(actor=request.user, manifest=self.get_object())  # type: ignore[arg-type]
        return Response(_hand_off_body(done))
