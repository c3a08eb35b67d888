"""The exception queue over the API: list (filtered like the page), detail, resolve and escalate with a note."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from warehouse.api.permissions import RolePermission
from warehouse.api.serializers import NoteSerializer
from warehouse.filters import ExceptionFilter
from warehouse.models import ExceptionItem
from warehouse.selectors import exceptions_for
from warehouse.services import exception_escalate, exception_resolve_by_hand


class ExceptionItemSerializer(serializers.ModelSerializer):
    brand: serializers.Field = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    facility: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    subject_type = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = ExceptionItem
        fields = [
            "id",
            "kind",
            "state",
            "summary",
            "reasons",
            "brand",
            "facility",
            "subject_type",
            "object_id",
            "opened_at",
            "decision_note",
            "decided_at",
        ]
        read_only_fields = fields

    def get_subject_type(self, item: ExceptionItem) -> str | None:
        return item.content_type.model if item.content_type is not None else None


class ExceptionItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Open and escalated exceptions, oldest first. Resolving or escalating needs a note."""

    serializer_class = ExceptionItemSerializer
    permission_classes = [RolePermission]
    read_permission = "warehouse.view_exceptionitem"
    write_permission = "warehouse.resolve_exceptionitem"
    brand_readable = False
    filterset_class = ExceptionFilter

    def get_queryset(self) -> QuerySet[ExceptionItem]:
        return exceptions_for(user=self.request.user, state=self.request.query_params.get("state"))

    def _decide(self, request: Request, service: Any) -> Response:
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = service(item=self.get_object(), actor=request.user, note=body.validated_data["note"])
        return Response(ExceptionItemSerializer(item).data)

    @extend_schema(
        request=NoteSerializer,
        responses=ExceptionItemSerializer,
        description="Resolve an open or escalated exception with a note saying what was decided "
        "(`warehouse.resolve_exceptionitem`, else 403). 400 without a note; 404 once resolved (it leaves the "
        "queue); 409 `decided_on_its_page` for a receiving variance (decided on the inbound's page).",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, exception_resolve_by_hand)

    @extend_schema(
        request=NoteSerializer,
        responses=ExceptionItemSerializer,
        description="Escalate an open exception with a note (`warehouse.resolve_exceptionitem`, else 403): it stays "
        "in the queue, marked escalated. 400 without a note; 404 once resolved; 409 `wrong_state` when already "
        "escalated.",
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, exception_escalate)
