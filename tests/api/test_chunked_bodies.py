"""Issue 11 §4: a JSON body sent with `Transfer-Encoding: chunked` (no Content-Length) is read whole, through gunicorn,
the server production runs (Django's development server drops chunked bodies before the application). A module of
transactional tests only: a mixed module would flush the migrations' data before other modules' tests under xdist."""

import json

import pytest
import requests

from tests.factories import UserFactory
from tests.gunicorn import gunicorn_url  # noqa: F401

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fast_password_hashing():
    """Real hashing here: the gunicorn process checks passwords with the project's hashers."""


def test_a_chunked_json_body_is_read_whole(gunicorn_url):  # noqa: F811
    user = UserFactory(username="chunky")
    body = json.dumps({"username": user.username, "password": "pw-for-tests-only"}).encode()
    response = requests.post(
        f"{gunicorn_url}/api/v1/auth/login/", data=(body[i : i + 7] for i in range(0, len(body), 7)),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200 and response.json()["token"]
