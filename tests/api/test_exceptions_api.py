"""Issue 4 §6: the exception queue over the API, token auth, errors mapped once, page size capped."""

import pytest
from rest_framework.test import APIClient

from warehouse.api.tokens import token_issue
from warehouse.errors import Reason
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.services import exception_open

pytestmark = pytest.mark.django_db


def _open(brand, key):
    return exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD, summary=f"P {key}", reasons=[Reason("x", "y")], brand=brand, dedupe_key=key
    )


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
    return client


def test_a_token_reads_the_queue_and_page_size_is_capped(make_user, brand, django_assert_max_num_queries):
    for i in range(210):
        _open(brand, f"k{i}")
    client = _client(make_user("operations"))
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/exceptions/", {"page_size": 100000}).json()
    assert len(body["results"]) == 200 and body["count"] == 210
    assert set(body["results"][0]) >= {"id", "kind", "state", "summary", "reasons", "brand", "opened_at"}


def test_no_token_or_a_wrong_one_is_401(brand):
    assert APIClient().get("/api/v1/exceptions/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/exceptions/").status_code == 401


def test_a_revoked_token_stops_working(make_user):
    user = make_user("operations")
    client = _client(user)
    assert client.get("/api/v1/exceptions/").status_code == 200
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/exceptions/").status_code == 401


def test_login_exchanges_a_password_for_a_token(make_user):
    user = make_user("operations")
    response = APIClient().post(
        "/api/v1/auth/login/", {"username": user.username, "password": "pw-for-tests-only"}, format="json"
    )
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/exceptions/").status_code == 200
    bad = APIClient().post("/api/v1/auth/login/", {"username": user.username, "password": "nope"}, format="json")
    assert bad.status_code == 401 and "token" not in bad.json()


def test_a_manager_resolves_with_a_note(make_user, brand):
    item = _open(brand, "k")
    response = _client(make_user("warehouse_manager")).post(
        f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "Fixed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "resolved"


def test_a_blank_note_is_400_and_an_extra_field_is_400_and_nothing_changes(make_user, brand):
    item = _open(brand, "k")
    client = _client(make_user("warehouse_manager"))
    assert client.post(f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "  "}, format="json").status_code == 400
    extra = client.post(
        f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "ok", "state": "resolved", "brand": 9}, format="json"
    )
    assert extra.status_code == 400 and set(extra.json()) == {"state", "brand"}
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN and item.decision_note == ""


def test_a_resolved_exception_leaves_the_queue_so_deciding_again_is_404(make_user, brand):
    item = _open(brand, "k")
    client = _client(make_user("warehouse_manager"))
    client.post(f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "Fixed"}, format="json")
    again = client.post(f"/api/v1/exceptions/{item.pk}/escalate/", {"note": "again"}, format="json")
    assert again.status_code == 404


def test_operations_may_not_resolve(make_user, brand):
    item = _open(brand, "k")
    response = _client(make_user("operations")).post(
        f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "x"}, format="json"
    )
    assert response.status_code == 403
    assert ExceptionItem.objects.get(pk=item.pk).state == ExceptionState.OPEN


def test_the_schema_and_the_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/exceptions/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"/static/drf_spectacular_sidecar/" in docs.content


def test_the_resolved_filter_lists_resolved_items_with_their_decision(make_user, brand):
    manager = make_user("warehouse_manager")
    decided, still_open = _open(brand, "r1"), _open(brand, "r2")
    client = _client(manager)
    assert (
        client.post(f"/api/v1/exceptions/{decided.pk}/resolve/", {"note": "Checked"}, format="json").status_code == 200
    )
    body = client.get("/api/v1/exceptions/", {"state": "resolved"}).json()
    assert [r["id"] for r in body["results"]] == [decided.pk]
    assert [r["id"] for r in client.get("/api/v1/exceptions/").json()["results"]] == [still_open.pk]
