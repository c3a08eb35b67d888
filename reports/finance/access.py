"""Who reads the finance reports: finance, managers and administrators (the `reports.view_finance_reports`
permission) every brand; a brand user their own brands' slice. Operations and anyone else: refused."""

from __future__ import annotations

from warehouse.roles import UserLike, brands_visible_to, sees_all_brands

READ = "reports.view_finance_reports"
EXPORT = "reports.export_reports"


def is_brand_reader(user: UserLike) -> bool:
    return bool(user.is_authenticated and not sees_all_brands(user) and brands_visible_to(user).exists())


def can_read(user: UserLike) -> bool:
    return bool(user.is_authenticated and (user.has_perm(READ) or is_brand_reader(user)))


def can_export(user: UserLike) -> bool:
    return bool(user.is_authenticated and (user.has_perm(EXPORT) or is_brand_reader(user)))
