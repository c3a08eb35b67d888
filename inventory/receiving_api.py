"""Expected inbound over the API: brands (and their ERPs, with the brand's token) and managers announce it; operations
receive by line number or by scan; managers decide each over, short or unexpected receipt. The same services as the
pages (`inventory.receiving`). Another brand's inbound is a 404."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import receiving
from inventory.models import ExpectedInbound, ExpectedInboundLine, InboundKind, InboundSource
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.errors import InvalidInput, Reason
from warehouse.filters import brand_choices
from warehouse.models import Facility
from warehouse.roles import brands_visible_to, scope_to_brands

RECEIPT_REFUSALS = (
    "Refusals name each rule in `reasons[].code`: `quantity_not_positive`, `unknown_barcode`, `alias_expired` (names "
    "the new code), `barcode_outside_window`, `line_required` (422); `sku_not_ready_for_receiving` (names the missing "
    "lifecycle step), `inbound_closed` (409); 403 without `inventory.operate_expectedinbound`."
)


class InboundLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", read_only=True)
    variance = serializers.CharField(read_only=True, help_text="'' (none), over, short or unexpected")
    variance_state = serializers.CharField(read_only=True, help_text="'' (none), open, accepted or rejected")

    class Meta:
        model = ExpectedInboundLine
        fields = [
            "number", "sku", "quantity_expected", "quantity_received", "quantity_held", "quantity_refused",
            "unexpected", "variance", "variance_state", "decision_note",
        ]  # fmt: skip
        read_only_fields = fields


class InboundSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug", read_only=True)
    facility = serializers.CharField(source="facility.code", read_only=True)
    # Plain strings, not enums: their names (kind, state, source) are other resources' enums in the schema.
    kind = serializers.CharField(read_only=True, help_text="asn or po")
    state = serializers.CharField(read_only=True, help_text="expected, receiving or closed")
    source = serializers.CharField(read_only=True, help_text="brand, erp or manager: who announced it")  # type: ignore[assignment]

    class Meta:
        model = ExpectedInbound
        fields = ["id", "brand", "facility", "kind", "reference", "expected_on", "source", "state", "finished_at",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class InboundDetailSerializer(InboundSerializer):
    lines = InboundLineSerializer(many=True, read_only=True)

    class Meta(InboundSerializer.Meta):
        fields = [*InboundSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class NewLineSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, help_text="SKU code (an alias in its window resolves)")
    quantity = serializers.IntegerField(help_text="At least 1")


class NewInboundSerializer(StrictSerializer):
    brand = serializers.SlugField()
    facility = serializers.CharField(max_length=20, help_text="The facility's code")
    reference = serializers.CharField(max_length=100, help_text="ASN or PO number, unique per brand")
    expected_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=InboundKind.choices, default=InboundKind.ASN, help_text="asn or po")
    announced_by = serializers.ChoiceField(
        choices=InboundSource.choices, required=False, default="",
        help_text="erp when the brand's ERP sends it; by default brand (brand users) or manager (managers)",
    )  # fmt: skip
    lines = serializers.ListField(child=NewLineSerializer(), max_length=receiving.LINE_LIMIT)


class ReceiveSerializer(StrictSerializer):
    line = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000, help_text="Line number")
    code = serializers.CharField(max_length=100, required=False, help_text="Or a scanned barcode / SKU code")
    quantity = serializers.IntegerField(default=1)
    event_id = serializers.CharField(max_length=150, required=False, default="",
                                     help_text="Makes a retry safe: the same event id is received once")  # fmt: skip


class ReceiptSerializer(serializers.Serializer):
    line = InboundLineSerializer()
    into_stock = serializers.IntegerField()
    held = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.DictField())


class DecideSerializer(StrictSerializer):
    line = serializers.IntegerField(min_value=1, max_value=1_000_000)
    decision = serializers.ChoiceField(choices=receiving.DECISIONS)
    note = serializers.CharField(max_length=2000)


class InboundFilter(django_filters.FilterSet):
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices)
    state = django_filters.CharFilter()
    reference = django_filters.CharFilter()

    class Meta:
        model = ExpectedInbound
        fields = ["brand", "state", "reference"]


class ExpectedInboundViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [RolePermission]
    read_permission = "inventory.view_expectedinbound"
    write_permission = None  # the receiving services check who may announce, receive or decide
    brand_readable = True
    filterset_class = InboundFilter

    def get_queryset(self) -> QuerySet[ExpectedInbound]:
        found = ExpectedInbound.objects.select_related("brand", "facility")
        if self.action == "retrieve":
            found = found.prefetch_related("lines__sku")
        return scope_to_brands(found, self.request.user)  # type: ignore[arg-type]

    def get_serializer_class(self) -> Any:
        return InboundDetailSerializer if self.action == "retrieve" else InboundSerializer

    def _detail(self, inbound: ExpectedInbound, status: int = 200) -> Response:
        fresh = ExpectedInbound.objects.prefetch_related("lines__sku").select_related("brand", "facility")
        return Response(InboundDetailSerializer(fresh.get(pk=inbound.pk)).data, status=status)

    @extend_schema(
        request=NewInboundSerializer,
        responses={201: InboundDetailSerializer},
        description="Announce an inbound. All lines or none: `quantity_not_positive`, `unknown_sku`, `alias_expired`, "
        "`duplicate_sku`, `kit_has_no_stock`, `lines_required` (422); `reference_in_use` (409); 403 for another "
        "brand or a role that may not announce.",
    )
    def create(self, request: Request) -> Response:
        body = NewInboundSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        brand = brands_visible_to(request.user).filter(slug=data["brand"]).first()  # type: ignore[arg-type]
        if brand is None:
            raise NotFound("No such brand.")
        facility = Facility.objects.filter(code=data["facility"]).first()
        if facility is None:
            raise InvalidInput(f"No facility {data['facility']}.", reasons=[Reason("unknown_facility", "No facility")])
        inbound = receiving.expected_inbound_create(
            brand=brand, facility=facility, reference=data["reference"], expected_on=data["expected_on"],
            kind=data["kind"], source=data["announced_by"], actor=request.user,  # type: ignore[arg-type]
            lines=[(row["sku"], row["quantity"]) for row in data["lines"]],
        )  # fmt: skip
        return self._detail(inbound, status=201)

    @extend_schema(request=ReceiveSerializer, responses=ReceiptSerializer,
                   description="Receive units by `line` number or by scanned `code`. " + RECEIPT_REFUSALS)  # fmt: skip
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        inbound = self.get_object()
        actor: Any = request.user
        if data.get("code"):
            receipt = receiving.inbound_receive_scan(inbound=inbound, code=data["code"], quantity=data["quantity"],
                                                     actor=actor, event_id=data["event_id"])  # fmt: skip
        else:
            line = inbound.lines.select_related("sku", "inbound").filter(number=data.get("line") or 0).first()
            if line is None:
                message = "Give an existing line number or a scanned code"
                raise InvalidInput(message, reasons=[Reason("line_required", message)])
            receipt = receiving.inbound_receive_line(line=line, quantity=data["quantity"], actor=actor,
                                                     event_id=data["event_id"])  # fmt: skip
        return Response(
            {"line": InboundLineSerializer(receipt.line).data, "into_stock": receipt.into_stock, "held": receipt.held,
             "warnings": [w.as_dict() for w in receipt.warnings]}
        )  # fmt: skip

    @extend_schema(request=None, responses=InboundDetailSerializer,
                   description="Receiving is done: short lines become variances; closes when none waits. "
                   "`inbound_closed` (409).")  # fmt: skip
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        actor: Any = request.user
        return self._detail(receiving.inbound_finish(inbound=self.get_object(), actor=actor))

    @extend_schema(request=DecideSerializer, responses=InboundDetailSerializer,
                   description="A manager decides a line's variance: over/unexpected `accept` receives the held units, "
                   "`reject` refuses them; short `accept` closes the line short, `reject` keeps waiting. "
                   "`no_open_variance` (409), `note_required` (422), 403 without "
                   "`warehouse.resolve_exceptionitem`.")  # fmt: skip
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        inbound = self.get_object()
        actor: Any = request.user
        if not actor.has_perm(receiving.DECIDE):
            raise receiving.NotPermitted("Only a manager decides receiving variances.")
        line = inbound.lines.filter(number=data["line"]).first()
        if line is None:
            raise NotFound("No such line.")
        receiving.inbound_variance_decide(line=line, decision=data["decision"], note=data["note"], actor=actor)
        return self._detail(inbound)
