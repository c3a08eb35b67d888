"""Fixtures shared by the console, API, permission and browser tests: users in each role."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from warehouse.roles import BRAND, ROLES, brand_member_add, roles_sync


@pytest.fixture
def roles(db):
    """The role groups as the migration leaves them (re-synced: other apps' models may be newer than the data
    migration's run)."""
    roles_sync()
    return ROLES


def make_role_user(role: str, *, brand=None, username: str | None = None):
    """A user in `role` (a staff role, "brand" with its brand, or "superuser"); the groups must exist."""
    user = UserFactory(username=username or f"{role}-{brand.slug if brand else 'staff'}")
    if role == BRAND:
        brand_member_add(user=user, brand=brand)
    elif role == "superuser":
        user.is_superuser = True
        user.is_staff = True
        user.save()
    else:
        user.groups.add(Group.objects.get(name=role))
        user.is_staff = True  # staff roles work in the admin console
        user.save()
    return user


@pytest.fixture
def make_user(roles):
    return make_role_user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per user; these tests make many users and never test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
