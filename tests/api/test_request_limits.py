"""Issue 11 §4: every API parser is bounded in depth and size; a hostile body is a 400 or 413 with a JSON error body,
never a 500 or Django's HTML page."""

import json

import pytest
from rest_framework.test import APIClient

from warehouse.api.parsers import MAX_JSON_DEPTH

LOGIN = "/api/v1/auth/login/"


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def post(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def assert_json_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["detail"]
    if code is not None:
        assert [r["code"] for r in body["reasons"]] == [code]
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_to_login_is_a_400_naming_the_limit(client, levels):
    body = assert_json_error(post(client, LOGIN, nested(levels)), 400, "too_deep")
    assert str(MAX_JSON_DEPTH) in body["detail"]


@pytest.mark.django_db
def test_json_as_deep_as_the_limit_is_parsed(client):
    body = {"username": "nobody", "password": "x", "extra": json.loads(nested(MAX_JSON_DEPTH - 1))}
    response = post(client, LOGIN, json.dumps(body).encode())
    assert response.status_code == 400 and response.json() == {"extra": ["This field may not be written."]}


@pytest.mark.django_db
def test_a_deep_body_is_refused_before_the_view_runs_for_a_signed_in_user(make_user):
    client = APIClient()
    client.force_authenticate(make_user("operations"))
    assert_json_error(post(client, "/api/v1/orders/", json.dumps({"lines": json.loads(nested(40))}).encode()), 400)


FIVE_MB = "x" * 5_000_000
BIG_BODIES = {
    "application/json": json.dumps({"username": FIVE_MB, "password": "y"}).encode(),
    "application/x-www-form-urlencoded": f"username={FIVE_MB}&password=y".encode(),
    "multipart/form-data; boundary=b0": (
        f'--b0\r\nContent-Disposition: form-data; name="username"\r\n\r\n{FIVE_MB}\r\n--b0--\r\n'.encode()
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", BIG_BODIES)
def test_a_5_mb_body_is_413_with_a_json_body(client, content_type):
    assert_json_error(post(client, LOGIN, BIG_BODIES[content_type], content_type), 413, "too_large")


@pytest.mark.django_db
def test_too_many_form_fields_is_a_json_400(client):
    body = "&".join(f"f{i}=1" for i in range(2_000)).encode()
    assert_json_error(post(client, LOGIN, body, "application/x-www-form-urlencoded"), 400)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/orders/1.5/", "/api/v1/orders/1/transitions/Not-A-Name/", "/api/nothing/"])
def test_a_url_the_api_cannot_match_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_pages_outside_the_api_keep_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
