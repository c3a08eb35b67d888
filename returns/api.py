"""Returns over the API: brand-scoped list and detail; steps as actions through `returns.services`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.services import sku_resolve
from orders.selectors import order_list_visible_to
from returns import services
from returns.models import UNIT_DISPOSITIONS, Disposition, Grade, Return, ReturnDecision, ReturnLine
from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import StrictSerializer
from warehouse.errors import InvalidInput, Reason
from warehouse.filters import brand_choices
from warehouse.roles import scope_to_brands


class ReturnLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity", "received_quantity"]
        read_only_fields = fields


class ReturnDecisionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="line.sku.code", read_only=True)

    class Meta:
        model = ReturnDecision
        fields = ["sku", "quantity", "grade", "disposition", "decided_at", "carried_out_at"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "description": "One of " + ", ".join(f"`{v}`" for v in Disposition.values) + ": the units' disposition, "
        "`mixed` when they were triaged differently; empty before triage.",
    }
)
class SummaryDispositionField(serializers.CharField):
    """The return's summary disposition (it may be `mixed`, which no unit's decision is): described, not an enum,
    so the schema's enum of the units' disposition keeps its name."""


class ReturnSerializer(serializers.ModelSerializer):
    brand: serializers.Field = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    facility: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    lines = ReturnLineSerializer(many=True, read_only=True)
    decisions = ReturnDecisionSerializer(many=True, read_only=True)
    order: serializers.Field = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    # Empty until triage: declared, since a read-only model field drops allow_blank and the schema would deny "".
    grade = serializers.ChoiceField(choices=Grade.choices, allow_blank=True, read_only=True)
    disposition = SummaryDispositionField(allow_blank=True, read_only=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "brand",
            "rma_number",
            "order",
            "state",
            "reason",
            "facility",
            "grade",
            "disposition",
            "received_at",
            "triaged_at",
            "lines",
            "decisions",
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
    disposition = serializers.ChoiceField(choices=UNIT_DISPOSITIONS)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AuthoriseLineSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, help_text="The SKU code, as shipped on the order")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class AuthoriseSerializer(StrictSerializer):
    """A return authorisation against one shipped or delivered order of a brand the caller may see."""

    order = serializers.IntegerField(help_text="The order's id (`id` of /orders/)")
    rma_number = serializers.CharField(
        max_length=60, required=False, default="", help_text="The returns system's RMA number; made from the order id "
        "when empty. The same RMA number with the same lines again answers 200 with the return already recorded.",
    )  # fmt: skip
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    lines = AuthoriseLineSerializer(many=True, allow_empty=False, max_length=500)  # type: ignore[call-arg]


class ScanSerializer(StrictSerializer):
    code = serializers.CharField(max_length=100, help_text="A scanned barcode, or a SKU code")
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=100_000)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ErrorReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


SCAN_RESULT = inline_serializer(
    name="ReturnScanResult",
    fields={
        "return": ReturnSerializer(help_text="The return after the receipt"),
        "warnings": ErrorReasonSerializer(many=True, help_text="e.g. `legacy_barcode`: received, but relabel it"),
    },
)


class UnitTriageSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, help_text="The SKU code of the return's line")
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=100_000)
    grade = serializers.ChoiceField(choices=Grade.choices)
    disposition = serializers.ChoiceField(choices=UNIT_DISPOSITIONS)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


_STEPS: dict[str, Any] = {
    "authorize": services.return_authorize,
    "mark-shipped-back": services.return_mark_shipped_back,
    "receive": services.return_receive,
    "restock": services.return_restock,
    "rework": services.return_rework,
    "dispose": services.return_dispose,
    "complete": services.return_complete,
    "finish-triage": services.return_triage_finish,
}


_OPERATE = "Operations and managers (`returns.operate_return`, else 403)."


def _sku_of(brand: Any, code: str, field: str) -> Any:
    try:
        return sku_resolve(brand=brand, code=code).sku
    except InvalidInput as exc:
        raise InvalidInput(exc.message, reasons=[Reason(r.code, f"{field}: {r.message}") for r in exc.reasons]) from exc


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReturnSerializer
    permission_classes = [RolePermission]
    read_permission = "returns.view_return"
    write_permission = None  # each step's permission is checked by the service (403)
    brand_readable = True
    filterset_class = ReturnFilter

    def get_queryset(self) -> QuerySet[Return]:
        queryset = Return.objects.select_related("brand", "facility").prefetch_related(
            "lines__sku", "decisions__line__sku"
        )
        return scope_to_brands(queryset, self.request.user)  # type: ignore[arg-type]

    def _answer(self, rma: Return, code: int = status.HTTP_200_OK) -> Response:
        return Response(ReturnSerializer(self.get_queryset().get(pk=rma.pk)).data, status=code)

    def _step(self, request: Request, name: str) -> Response:
        body = StepSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rma = _STEPS[name](rma=self.get_object(), actor=request.user, reason=body.validated_data["reason"])
        return self._answer(rma)

    @extend_schema(
        request=AuthoriseSerializer,
        responses={201: ReturnSerializer, 200: ReturnSerializer},
        description="Authorise a return against a shipped or delivered order: a manager, or a brand user for its "
        "own brand's orders (another brand's order is a 404). 201 with the authorised return; the same RMA again "
        "answers 200. 403 for operations and finance. 422 reasons: `order_not_shipped`, `not_shipped_on_order` "
        "(a unit never shipped on that order), `more_than_shipped` (more units than shipped, less those already on "
        "another return), `unknown_sku`, `kit_has_no_stock` (return a kit's components). 409 `rma_number_in_use`.",
    )
    def create(self, request: Request) -> Response:
        user: Any = request.user
        if not user.has_perm("returns.add_return"):
            return Response({"detail": "You may not authorise returns."}, status=status.HTTP_403_FORBIDDEN)
        body = AuthoriseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order = order_list_visible_to(user=user).filter(pk=data["order"]).select_related("brand").first()
        if order is None:
            raise Http404("No such order.")
        lines = [
            (_sku_of(order.brand, x["sku"], f"lines[{i}].sku"), x["quantity"]) for i, x in enumerate(data["lines"])
        ]
        existed = Return.objects.filter(brand=order.brand, rma_number=data["rma_number"].strip()).exists()
        rma = services.return_authorize_order(
            order=order, lines=lines, actor=user, rma_number=data["rma_number"], reason=data["reason"]
        )
        return self._answer(rma, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=ScanSerializer,
        responses=SCAN_RESULT,
        description="Receive scanned units into quarantine (on hand, never available). The barcode resolves through "
        "the SKU's barcodes (a legacy one with a `legacy_barcode` warning), else as a SKU code. The first scan "
        "moves the return to received. Operations and managers (`returns.operate_return`). 422 reasons: "
        "`unknown_barcode`, `sku_not_on_return`, `over_authorised` (more than the return authorises), "
        "`barcode_outside_window`, `alias_expired` (names the new code). 409 `wrong_state` once triaged.",
    )
    @action(detail=True, methods=["post"], url_path="receive-scan")
    def receive_scan(self, request: Request, pk: str | None = None) -> Response:
        body = ScanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.return_receive_scan(rma=self.get_object(), actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        rma = self.get_queryset().get(pk=result.rma.pk)
        return Response({"return": ReturnSerializer(rma).data, "warnings": [w.as_dict() for w in result.warnings]})

    @extend_schema(
        request=UnitTriageSerializer,
        responses=ReturnSerializer,
        description="Record the grade and disposition of received units of one SKU of the return (managers: "
        "`returns.triage_return`). When every authorised unit is received and triaged, the return moves to "
        "triaged. 400 without a grade or disposition; 422 `more_than_received` (more units than wait for triage), "
        "`sku_not_on_return`; 409 `wrong_state`.",
    )
    @action(detail=True, methods=["post"], url_path="triage-units")
    def triage_units(self, request: Request, pk: str | None = None) -> Response:
        body = UnitTriageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        rma = self.get_object()
        code = data.pop("sku")
        line = rma.lines.select_related("sku").filter(sku__code=code).first()
        if line is None:
            message = f"{code} is not on return {rma.rma_number}"
            raise InvalidInput(message, reasons=[Reason("sku_not_on_return", message)])
        rma = services.return_triage_units(rma=rma, line=line, actor=request.user, **data)  # type: ignore[arg-type]
        return self._answer(rma)

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Close the triage when the other authorised units never came back: every received unit must "
        "have its decision (409 `units_not_triaged`).",
    )
    @action(detail=True, methods=["post"], url_path="finish-triage")
    def finish_triage(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "finish-triage")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Complete a return whose units were triaged differently (disposition `mixed`): each unit is "
        "restocked, reworked or disposed of as its own decision says, through the ledger.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "complete")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Authorise a return the returns system recorded as initiated: it may then be shipped back and "
        "received. Operations and managers, or a brand user for its own brand's returns (else 403). 409 `wrong_state` "
        "unless initiated, `lines_required`.",
    )
    @action(detail=True, methods=["post"])
    def authorize(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "authorize")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Record that the customer sent an authorised return back (receiving also works without this "
        "step). " + _OPERATE + " 409 `wrong_state` unless authorised.",
    )
    @action(detail=True, methods=["post"], url_path="mark-shipped-back")
    def mark_shipped_back(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "mark-shipped-back")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Log the whole return in at the warehouse: every authorised unit not yet scanned goes into "
        "quarantine (on hand, never available) and the return waits in the exception queue for triage. From "
        "authorised or shipped back. " + _OPERATE + " 409 `wrong_state`, `lines_required`, `facility_required`.",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "receive")

    @extend_schema(
        request=TriageSerializer,
        responses=ReturnSerializer,
        description="Triage every received unit not yet decided with one grade and one disposition (sellable, "
        "rework or nonconforming) and close the triage; nothing leaves quarantine until the next step. Managers "
        "(`returns.triage_return`, else 403). 400 without a grade or a disposition, naming the field; 409 "
        "`wrong_state` unless received.",
    )
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, pk: str | None = None) -> Response:
        body = TriageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rma = services.return_triage(rma=self.get_object(), actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(ReturnSerializer(self.get_queryset().get(pk=rma.pk)).data)

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Restock a return triaged as sellable: its units leave quarantine and become available through "
        "the ledger (the channels get the new number on the next publishing cycle). " + _OPERATE + " 409 "
        "`triage_required` (nothing restocks before triage), `disposition_not_sellable`, `wrong_state`.",
    )
    @action(detail=True, methods=["post"])
    def restock(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "restock")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Send a return triaged for rework to rework: its units move from quarantine to damaged (on "
        "hand, never available) through the ledger. " + _OPERATE + " 409 `triage_required`, "
        "`disposition_not_rework`, `wrong_state`.",
    )
    @action(detail=True, methods=["post"])
    def rework(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "rework")

    @extend_schema(
        request=StepSerializer,
        responses=ReturnSerializer,
        description="Dispose of a return triaged as nonconforming: its units leave quarantine and the building, "
        "through the ledger. " + _OPERATE + " 409 `triage_required`, `disposition_not_nonconforming`, "
        "`wrong_state`.",
    )
    @action(detail=True, methods=["post"])
    def dispose(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, "dispose")
