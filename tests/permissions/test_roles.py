"""Seed 001 "Security and access": roles are code, and a brand sees its own data and nothing of anyone else's."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tests.factories import BrandFactory, UserFactory
from warehouse.models import ExceptionItem, ExceptionKind
from warehouse.roles import ROLES, brand_member_add, brands_visible_to, roles_sync, scope_to_brands
from warehouse.services import exception_open

pytestmark = pytest.mark.django_db


def _member(role):
    roles_sync()
    user = UserFactory(username=f"u-{role}")
    user.groups.add(Group.objects.get(name=role))
    return user


def test_the_migration_creates_every_role_group():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_sync_roles_is_idempotent_and_restores_a_removed_permission():
    manager = Group.objects.get(name="warehouse_manager")
    before = set(manager.permissions.values_list("codename", flat=True))
    assert "resolve_exceptionitem" in before
    manager.permissions.clear()
    call_command("sync_roles", stdout=io.StringIO())
    call_command("sync_roles", stdout=io.StringIO())
    assert set(manager.permissions.values_list("codename", flat=True)) == before


def test_operations_staff_can_view_but_cannot_force_or_resolve():
    user = _member("operations")
    assert user.has_perm("warehouse.view_exceptionitem")
    assert not user.has_perm("warehouse.resolve_exceptionitem")
    assert not user.has_perm("warehouse.force_exceptionitem_transition")


def test_warehouse_managers_can_resolve_and_force():
    user = _member("warehouse_manager")
    assert user.has_perm("warehouse.resolve_exceptionitem")
    assert user.has_perm("warehouse.force_exceptionitem_transition")


def test_finance_has_no_permission_other_than_viewing_and_exporting_reports():
    user = _member("finance")
    perms = user.get_all_permissions()
    assert perms and all(p.split(".")[1].startswith("view_") or p == "reports.export_reports" for p in perms)
    assert user.has_perm("reports.view_finance_reports") and user.has_perm("reports.export_reports")


def test_administrators_manage_connections_but_cannot_force_or_resolve():
    user = _member("administrator")
    assert user.has_perm("integrations.change_connection")
    assert not user.has_perm("warehouse.resolve_exceptionitem")


def test_a_brand_user_sees_only_their_own_brand(brand, other_brand):
    user = UserFactory(username="acme-user")
    brand_member_add(user=user, brand=brand)
    assert list(brands_visible_to(user)) == [brand]
    assert not user.has_perm("warehouse.view_brand_data")  # nothing global
    assert user.has_perm("warehouse.view_brand_data", brand)
    assert not user.has_perm("warehouse.view_brand_data", other_brand)


def test_lists_scoped_by_brand_hold_only_the_users_brand(brand, other_brand):
    mine = exception_open(kind=ExceptionKind.OTHER, summary="mine", reasons=[], brand=brand, dedupe_key="a")
    exception_open(kind=ExceptionKind.OTHER, summary="theirs", reasons=[], brand=other_brand, dedupe_key="b")
    user = UserFactory(username="acme-user")
    brand_member_add(user=user, brand=brand)
    assert list(scope_to_brands(ExceptionItem.objects.all(), user)) == [mine]
    staff = _member("operations")
    assert scope_to_brands(ExceptionItem.objects.all(), staff).count() == 2


def test_a_user_without_a_role_sees_no_brand():
    BrandFactory()
    assert brands_visible_to(UserFactory(username="nobody")).count() == 0


def test_roles_sync_reports_each_role():
    counts = roles_sync()
    assert set(counts) == set(ROLES) and counts["warehouse_manager"] > counts["operations"]
