"""Who may read which API: staff roles by their model view permission, brand users (object permission on their
brand) only on the brand-readable resources, whose querysets are scoped to their brands. Writes are checked again
by the service, which raises NotPermitted (403)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from warehouse.roles import brands_visible_to, sees_all_brands


class RolePermission(BasePermission):
    """The view declares `read_permission` ("app.view_model"), `write_permission` (or None: the service decides)
    and `brand_readable`."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            return bool(user.has_perm(view.read_permission) or self._brand_user_reading(user, view))
        needed = getattr(view, "write_permission", None)
        if needed is None:  # the service checks the permission of the transition itself
            return bool(user.has_perm(view.read_permission) or self._brand_user_reading(user, view))
        return bool(user.has_perm(needed))

    @staticmethod
    def _brand_user_reading(user: Any, view: Any) -> bool:
        """A brand user (object permission on some brand, nothing global) on a resource brands may read."""
        if not getattr(view, "brand_readable", False) or sees_all_brands(user):
            return False
        return brands_visible_to(user).exists()
