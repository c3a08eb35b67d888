"""Stock page: what is on the shelf and free to promise, per SKU and facility, scoped to the user's brands."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inventory.selectors import stock_levels
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.roles import brands_visible_to, scope_to_brands, sees_all_brands


@login_required
def stock_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    brand_user = not sees_all_brands(user) and brands_visible_to(user).exists()
    if not (user.has_perm("inventory.view_stocklevel") or brand_user):
        raise PermissionDenied
    levels = scope_to_brands(stock_levels(), user, field="sku__brand")
    query = request.GET.get("q", "").strip()
    if query:
        levels = levels.filter(sku__code__iexact=query)
    page = BoundedCountPaginator(levels, 50).get_page(request.GET.get("page"))
    return render(request, "inventory/stock_list.html", {"nav": "stock", "page": page, "q": query})
