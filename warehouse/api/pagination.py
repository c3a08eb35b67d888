"""Page-number pagination with a capped page size and a bounded count.

A list of a million orders must not cost a full `COUNT(*)` per page: the count stops at `COUNT_LIMIT` and the
response says whether it was capped."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_LIMIT = 10_000


class BoundedCountPaginator(Paginator):
    """`count` is exact up to COUNT_LIMIT, then COUNT_LIMIT + 1 (one bounded `SELECT COUNT(*) FROM (… LIMIT n)`)."""

    @cached_property
    def count(self) -> int:
        objects: Any = self.object_list
        if isinstance(objects, QuerySet):
            return objects.order_by()[: COUNT_LIMIT + 1].count()
        return len(objects)

    @property
    def capped(self) -> bool:
        return self.count > COUNT_LIMIT


class CappedPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        paginator: Any = self.page.paginator  # type: ignore[union-attr]
        return Response(
            {
                "count": min(paginator.count, COUNT_LIMIT),
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        body = super().get_paginated_response_schema(schema)
        body["properties"]["count_capped"] = {"type": "boolean"}
        return body
