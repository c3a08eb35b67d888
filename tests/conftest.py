import pytest
from django.contrib.auth.models import Permission

from tests.factories import BrandFactory, FacilityFactory, UserFactory


@pytest.fixture
def brand(db):
    return BrandFactory(name="Acme Apparel", slug="acme")


@pytest.fixture
def other_brand(db):
    return BrandFactory(name="Borealis Beauty", slug="borealis")


@pytest.fixture
def facility(db):
    return FacilityFactory(code="VLC1", name="Valencia 1")


def grant(user, *perms: str):
    """Give `user` the named permissions ("app.codename") and drop the cached permission set."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, cache):
            delattr(user, cache)
    return user


@pytest.fixture
def manager(db):
    """A warehouse manager: may resolve exceptions and force transitions."""
    user = UserFactory(username="manager")
    return grant(user, "warehouse.resolve_exceptionitem", "warehouse.force_exceptionitem_transition")


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture(autouse=True)
def _postgresql_marker(request):
    """Tests marked `postgresql` prove something only PostgreSQL can show (row locks, triggers, SKIP LOCKED).

    They fail, never skip, on another database: `make test` always runs them on PostgreSQL."""
    if request.node.get_closest_marker("postgresql") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://... (make test does)")
