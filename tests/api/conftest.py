from tests.permissions.fixtures import make_user, roles  # noqa: F401
