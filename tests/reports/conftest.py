from tests.permissions.fixtures import fast_password_hashing, make_user, roles  # noqa: F401
