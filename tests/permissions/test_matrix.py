"""Issue 4 §7: one policy table drives every route × role; a denied request changes nothing; a route missing from
the table fails the sweep."""

import json

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.permissions.fixtures import make_role_user
from tests.permissions.policy import ADMIN_SITE_ROUTES, ADMIN_VIEWERS, COLUMNS, EXEMPT, EXEMPT_PREFIXES, POLICY
from tests.permissions.world import build_world, snapshot
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db

DENIED = {401, 403, 404, 405}
NOT_STAFF = {"anon", "brand", "other"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside an outer transaction (like TestCase.setUpTestData): each test runs in a
    savepoint that is rolled back, so every test sees the same untouched world; the whole is rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            roles_sync()
            yield build_world(make_role_user)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _url(rule, world):
    kwargs = dict(rule.kwargs)
    if rule.obj is not None:
        key = "object_id" if rule.route.startswith("admin:") else "pk"
        kwargs[key] = world.objects[rule.obj].pk
    return reverse(rule.route, kwargs=kwargs)


def _filled(value, world):
    """A "<key>" string in a body stands for the pk of the world's object `key` (as in test_whole_database)."""
    if isinstance(value, list):
        return [_filled(v, world) for v in value]
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return world.objects[value[1:-1]].pk
    return value


def _is_denied(rule, column, status):
    if status in DENIED:
        return True
    # sent to a sign-in page: nothing ran
    return status == 302 and column in NOT_STAFF and (column == "anon" or rule.route.startswith("admin:"))


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("rule", POLICY, ids=lambda r: f"{r.method}-{r.route}-{r.obj or ''}")
def test_each_role_gets_the_answer_the_policy_table_names(rule, column, world):
    client = world.client(column, api=rule.api)
    url = _url(rule, world)
    body = {key: _filled(value, world) for key, value in (rule.body or {}).items()}
    if rule.route == "exception-queue" and rule.method == "POST":
        body["ids"] = [world.objects["exception"].pk]
    before = snapshot()
    if rule.method == "GET":
        response = client.get(url)
    elif rule.api:
        response = client.generic(rule.method, url, data=json.dumps(body), content_type="application/json")
    else:
        response = client.post(url, body)
    expected = rule.status_for(column)
    assert response.status_code == expected, (rule.route, column, response.content[:300])
    if _is_denied(rule, column, expected):
        assert snapshot() == before, "a denied request changed the database"
    if rule.fields and expected in (200, 201) and rule.api:
        data = response.json()
        rows = data.get("results", [data]) if isinstance(data, dict) else data
        for row in rows:
            assert rule.fields <= set(row), f"missing fields {rule.fields - set(row)}"
            if column in {"brand", "other"} and "brand" in row:
                own = world.brand if column == "brand" else world.other_brand
                assert row["brand"] == own.slug, "a brand user saw another brand's row"


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("model", sorted(ADMIN_VIEWERS))
def test_each_console_list_answers_only_the_roles_that_may_see_it(model, column, world):
    app_label, model_name = model.split(".")
    response = world.client(column, api=False).get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    allowed = 200 if column in ADMIN_VIEWERS[model] else 403
    expected = 302 if column in NOT_STAFF else allowed
    assert response.status_code == expected, (model, column)


def _routes(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern.name


def test_every_route_is_in_the_policy_table():
    covered = {rule.route for rule in POLICY}
    missing = []
    for path, namespace, name in _routes(get_resolver().url_patterns):
        if path.startswith(EXEMPT_PREFIXES) or name in EXEMPT:
            continue
        if namespace == "admin":
            if (
                name is None
                or name in ADMIN_SITE_ROUTES
                or any(name.startswith(label.replace(".", "_") + "_") for label in ADMIN_VIEWERS)
            ):
                continue
            missing.append(f"admin:{name} ({path})")
        elif name is None or name not in covered:
            missing.append(f"{name} ({path})")
    assert not missing, "routes missing from tests/permissions/policy.py: " + ", ".join(sorted(set(missing)))


def test_every_console_model_is_in_the_policy_table():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_VIEWERS)
