"""The SKU catalogue's writes over the API (mixed into `inventory.api.SkuViewSet`): create, edit fields, take a
lifecycle step, change the code or the barcode (the old one stays valid for a window), add an alias, define a kit.
Each asks why (`reason`) and calls the same `inventory.catalog` rule the pages call, with `via="api"` (an ERP that
owns a brand's catalog writes here). Refusals: 403 not permitted, 404 another brand's SKU, 409 a guard or a code in
use (`reasons` name each), 422 invalid values, 400 unknown fields."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import catalog
from inventory.catalog import MASTER_FIELDS
from inventory.models import Sku
from inventory.selectors import sku_missing_fields
from inventory.services import sku_create
from warehouse.api.serializers import StrictSerializer
from warehouse.roles import brands_visible_to


class SkuSerializer(serializers.ModelSerializer):
    brand: serializers.Field = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Sku
        fields = [
            "id",
            "brand",
            "code",
            "title",
            "state",
            "is_kit",
            "parent_code",
            "variant_attributes",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "hs_code",
            "unit_cost",
            "customs_value",
            "country_of_origin",
            "missing",
        ]
        read_only_fields = fields

    missing = serializers.SerializerMethodField(help_text="Catalog drift: weight, dimensions or HS code missing")

    def get_missing(self, sku: Sku) -> list[str]:
        return sku_missing_fields(sku)


REFUSALS = (
    "Refusals name each failed rule in `reasons[].code`: `not_permitted` (403), `reason_required`, "
    "`{field}_invalid`, `code_not_editable`, `field_not_editable` (422; 403 for a brand user's non-drift field), "
    "`catalog_owned_by_erp`, `pack_configuration_locked`, `code_in_use`, `barcode_in_use`, `alias_in_use` (409)."
)


class SkuCreateSerializer(StrictSerializer):
    brand = serializers.SlugField(help_text="The brand's slug")
    code = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    parent_code = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    variant_attributes = serializers.DictField(child=serializers.CharField(max_length=100), required=False,
                                               default=dict)  # fmt: skip
    weight_grams = serializers.IntegerField(required=False, allow_null=True, default=None)
    length_mm = serializers.IntegerField(required=False, allow_null=True, default=None)
    width_mm = serializers.IntegerField(required=False, allow_null=True, default=None)
    height_mm = serializers.IntegerField(required=False, allow_null=True, default=None)
    hs_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    unit_cost = serializers.CharField(max_length=20, required=False, allow_null=True, default=None)
    customs_value = serializers.CharField(max_length=20, required=False, allow_null=True, default=None)
    country_of_origin = serializers.CharField(max_length=2, required=False, default="", allow_blank=True)
    is_kit = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=300, required=False, default="created")


class SkuUpdateSerializer(StrictSerializer):
    """Only the fields sent change; `code` is refused (use the change-code action)."""

    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    parent_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    variant_attributes = serializers.DictField(child=serializers.CharField(max_length=100), required=False)
    weight_grams = serializers.IntegerField(required=False, allow_null=True)
    length_mm = serializers.IntegerField(required=False, allow_null=True)
    width_mm = serializers.IntegerField(required=False, allow_null=True)
    height_mm = serializers.IntegerField(required=False, allow_null=True)
    hs_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    unit_cost = serializers.CharField(max_length=20, required=False, allow_null=True)
    customs_value = serializers.CharField(max_length=20, required=False, allow_null=True)
    country_of_origin = serializers.CharField(max_length=2, required=False, allow_blank=True)
    is_kit = serializers.BooleanField(required=False)
    code = serializers.CharField(max_length=100, required=False, help_text="Refused: codes change by change-code")
    reason = serializers.CharField(max_length=300)


class SkuStepSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)
    barcode = serializers.CharField(max_length=64, required=False, default="", help_text="For assign_barcode")


class CodeChangeSerializer(StrictSerializer):
    new_code = serializers.CharField(max_length=100)
    window_days = serializers.IntegerField(required=False, default=30, help_text="How long the old code is accepted")
    reason = serializers.CharField(max_length=300)


class BarcodeChangeSerializer(StrictSerializer):
    barcode = serializers.CharField(max_length=64)
    window_days = serializers.IntegerField(required=False, default=30, help_text="Legacy window of the old barcodes")
    reason = serializers.CharField(max_length=300)


class SkuAliasSerializer(StrictSerializer):
    code = serializers.CharField(max_length=100)
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=300)


class KitComponentSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, help_text="The component's code")
    quantity = serializers.IntegerField(help_text="Units of the component in one kit, at least 1")


class KitComponentsSerializer(StrictSerializer):
    components = serializers.ListField(child=KitComponentSerializer(), max_length=200)
    reason = serializers.CharField(max_length=300)


def _body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class SkuWrites:
    """Mixed into the SKU view set (which supplies `get_object`, `get_serializer`, the scoping and permission)."""

    def _sku_response(self, sku: Any, status: int = 200) -> Response:
        sku.refresh_from_db()
        return Response(self.get_serializer(sku).data, status=status)  # type: ignore[attr-defined]

    @extend_schema(
        request=SkuCreateSerializer,
        responses={201: SkuSerializer},
        description="Create a SKU in `defined`. " + REFUSALS,
    )
    def create(self, request: Request) -> Response:
        data = _body(SkuCreateSerializer, request)
        brand = brands_visible_to(request.user).filter(slug=data.pop("brand")).first()  # type: ignore[arg-type]
        if brand is None:
            raise NotFound("No such brand.")
        for name in (*catalog.INT_FIELDS, *catalog.DECIMAL_FIELDS, "country_of_origin", "variant_attributes"):
            data[name] = catalog._coerce(name, data[name])
        sku = sku_create(brand=brand, actor=request.user, via="api", **data)  # type: ignore[arg-type]
        return self._sku_response(sku, status=201)

    @extend_schema(request=SkuUpdateSerializer, description="Change fields, with the reason. " + REFUSALS)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        data = _body(SkuUpdateSerializer, request)
        reason = data.pop("reason")
        sku = self.get_object()  # type: ignore[attr-defined]
        changes = {k: v for k, v in data.items() if k in MASTER_FIELDS or k == "code"}
        sku = catalog.sku_update(sku=sku, changes=changes, actor=request.user, reason=reason, via="api")  # type: ignore[arg-type]
        return self._sku_response(sku)

    @extend_schema(
        request=SkuStepSerializer,
        responses=SkuSerializer,
        description="Take one lifecycle step: assign_variants, lock_pack_configuration, assign_barcode (with "
        "`barcode`), mark_ready_for_receiving. A failed guard is a 409 naming what is missing. " + REFUSALS,
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<name>[a-z_]+)", url_name="step")
    def step(self, request: Request, pk: str | None = None, name: str = "") -> Response:
        data = _body(SkuStepSerializer, request)
        sku = catalog.catalog_step(sku=self.get_object(), name=name, actor=request.user, via="api", **data)  # type: ignore[attr-defined, arg-type]
        return self._sku_response(sku)

    @extend_schema(request=CodeChangeSerializer, description="Rename: the old code stays an alias. " + REFUSALS)
    @action(detail=True, methods=["post"], url_path="change-code", url_name="change-code")
    def change_code(self, request: Request, pk: str | None = None) -> Response:
        data = _body(CodeChangeSerializer, request)
        sku = self.get_object()  # type: ignore[attr-defined]
        catalog.catalog_change_code(sku=sku, actor=request.user, via="api", **data)  # type: ignore[arg-type]
        return self._sku_response(sku)

    @extend_schema(request=BarcodeChangeSerializer, description="New barcode; old ones go legacy. " + REFUSALS)
    @action(detail=True, methods=["post"], url_path="change-barcode", url_name="change-barcode")
    def change_barcode(self, request: Request, pk: str | None = None) -> Response:
        data = _body(BarcodeChangeSerializer, request)
        sku = self.get_object()  # type: ignore[attr-defined]
        catalog.catalog_change_barcode(sku=sku, new_value=data.pop("barcode"), actor=request.user, via="api", **data)  # type: ignore[arg-type]
        return self._sku_response(sku)

    @extend_schema(
        request=SkuAliasSerializer,
        responses={201: SkuSerializer},
        description="Another code means this SKU for a window. " + REFUSALS,
    )
    @action(detail=True, methods=["post"], url_path="aliases", url_name="aliases")
    def aliases(self, request: Request, pk: str | None = None) -> Response:
        data = _body(SkuAliasSerializer, request)
        sku = self.get_object()  # type: ignore[attr-defined]
        catalog.catalog_add_alias(sku=sku, actor=request.user, via="api", **data)  # type: ignore[arg-type]
        return self._sku_response(sku, status=201)

    @extend_schema(
        request=KitComponentsSerializer,
        description="Define a kit's components (replaces them). `kit_contains_itself`, `nested_kit`, "
        "`other_brand`, `duplicate_component`, `quantity_not_positive`, `unknown_sku` (422). " + REFUSALS,
    )
    @action(detail=True, methods=["put"], url_path="components", url_name="components")
    def components(self, request: Request, pk: str | None = None) -> Response:
        data = _body(KitComponentsSerializer, request)
        sku = self.get_object()  # type: ignore[attr-defined]
        pairs = [(row["sku"], row["quantity"]) for row in data["components"]]
        actor: Any = request.user
        catalog.catalog_set_components(kit=sku, components=pairs, actor=actor, reason=data["reason"], via="api")
        return self._sku_response(sku)
