from tests.mail import smtp_inbox  # noqa: F401
from tests.permissions.fixtures import fast_password_hashing, make_user, roles  # noqa: F401
