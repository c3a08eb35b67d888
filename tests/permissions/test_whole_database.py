"""Issue 10 §3: permission before any side effect, everywhere. Every route that can write, posted as every role that
lacks its permission, leaves every table unchanged: row counts and checksums of the whole database, not a list of
models someone remembered (`tests/permissions/database.py` says what is left out and why). The routes come from
the URL resolver, so a new route that is not declared in `tests/permissions/writes.py` fails the sweep."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.permissions.database import database_fingerprint, fingerprint_changes
from tests.permissions.fixtures import make_role_user
from tests.permissions.policy import COLUMNS
from tests.permissions.world import World, build_world
from tests.permissions.writes import (
    ADMIN_MODEL_VIEWS,
    ADMIN_SITE_READ_ONLY,
    READ_ONLY,
    READ_ONLY_BODIES,
    WRITES,
    Write,
    perm,
)
from warehouse.roles import roles_sync
from warehouse.transitions import force_permission

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql,  # the fingerprint is PostgreSQL SQL: fails, never skips, elsewhere
]

SKIPPED_PREFIXES = ("webhooks/",)  # signed by the platform, not by role: integrations' tests cover them
# Route arguments of read-only routes: they answer without looking anything up (405, a form, a redirect).
FILLER = {"pk": "1", "slug": "x", "format": "json", "name": "x", "uidb64": "MQ", "token": "x-y", "app_label": "orders",
          "content_type_id": "1", "object_id": "1", "url": "x/", "file_format": "csv"}  # fmt: skip
# Console objects to post to: models with more than one interesting state get one object per state.
ADMIN_OBJECTS = {
    "orders.order": ["held_order", "packed_order"],
    "returns.return": ["return", "received_return"],
    "inventory.sku": ["draft_sku", "sku"],
    "warehouse.exceptionitem": ["exception"],
    "integrations.inbounddelivery": ["dead_delivery"],
    "auth.user": ["mgr_account", "root"],  # one an administrator may change, one only a superuser may
}


def _routes(patterns: Any, prefix: str = "", namespace: str | None = None) -> Any:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


def _admin_route(name: str) -> tuple[Any, str] | None:
    """(model admin, view) for a console route of a registered model, e.g. `orders_order_transition`."""
    for model, model_admin in admin.site._registry.items():
        stem = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(stem) and name.removeprefix(stem) in ADMIN_MODEL_VIEWS:
            return model_admin, name.removeprefix(stem)
    return None


def _route_table() -> dict[str, dict[str, Any]]:
    """Every named route once: {full name: {"path", "api", "writes_methods", "admin"}}; webhooks left out."""
    table: dict[str, dict[str, Any]] = {}
    for path, namespace, pattern in _routes(get_resolver().url_patterns):
        if path.startswith(SKIPPED_PREFIXES):
            continue
        name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
        if name is None:
            if namespace == "admin":
                continue  # the console's catch-all: a redirect to its sign-in or a 404
            name = f"<unnamed {path}>"
        callback = pattern.callback
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "cls", None)
        if actions is not None:
            writes = sorted(m for m in actions if m in ("post", "put", "patch", "delete"))
        elif view_class is not None:
            writes = sorted(m for m in ("post", "put", "patch", "delete") if hasattr(view_class, m))
        else:
            writes = None  # a function view: cannot tell, so it must be declared
        table.setdefault(name, {"path": path, "api": path.startswith("api/"), "writes": writes,
                                "admin": namespace == "admin"})  # fmt: skip
    return table


ROUTES = _route_table()


@dataclass(frozen=True)
class Post:
    column: str
    url: str
    body: dict
    api: bool


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The permission matrix's world plus one object of every console model, built once in an outer transaction;
    each post runs in a savepoint that is rolled back. Clients sign in before the baseline is taken."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            roles_sync()
            world = build_world(make_role_user)
            _add_console_objects(world)
            world.objects["root"] = make_role_user("superuser", username="root")
            world.clients = {}  # type: ignore[attr-defined]
            for column in COLUMNS:
                world.clients[(column, True)] = world.client(column, api=True)  # type: ignore[attr-defined]
                world.clients[(column, False)] = world.client(column, api=False)  # type: ignore[attr-defined]
            world.baseline = database_fingerprint()  # type: ignore[attr-defined]
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _add_console_objects(world: World) -> None:
    """Objects the matrix's world lacks, so every console route acts on a real row."""
    from django_q.models import OrmQ, Schedule, Task

    from integrations.audit import audit_record
    from integrations.carriers.models import CarrierAccount
    from integrations.carriers.registry import codes as carrier_codes
    from integrations.models import AuditDirection, DeliveryState, ExternalId, InboundDelivery, ReconcileRun
    from integrations.outbox.models import ConnectionCircuit, MessageState, OutboundMessage
    from inventory.models import SkuAlias
    from tests.integrations.factories import ConnectionFactory
    from warehouse.models import Facility

    world.objects["packed_order"] = world.objects["shipment"].order
    shop = ConnectionFactory(brand=world.brand)
    world.objects["connection"] = shop
    InboundDelivery.objects.create(connection=shop, delivery_id="sweep-1", body=b"{}", topic="orders/create")
    world.objects["dead_delivery"] = InboundDelivery.objects.create(
        connection=shop, delivery_id="sweep-dead", body=b"{}", topic="orders/create", state=DeliveryState.DEAD_LETTER
    )
    ReconcileRun.objects.create(connection=shop)
    ExternalId.objects.create(connection=shop, kind="listing", local_id=world.objects["sku"].pk, external_id="7001")
    audit_record(connection=shop, direction=AuditDirection.INBOUND, endpoint="/webhooks/", outcome="ok")
    ConnectionCircuit.objects.create(connection=shop)
    OutboundMessage.objects.create(
        connection=shop, platform=shop.platform, kind="fulfilment", payload={"order_id": "1"},
        idempotency_key="sweep-dead", state=MessageState.DEAD, dead_at=timezone.now(),
    )  # fmt: skip
    SkuAlias.objects.create(brand=world.brand, sku=world.objects["sku"], code="TEE-OLD")
    CarrierAccount.objects.create(carrier=carrier_codes()[0], name="Sweep carrier", facility=Facility.objects.first())
    Schedule.objects.create(name="sweep", func="math.floor", args="1")
    now = timezone.now()
    Task.objects.create(id="sweep-ok", name="sweep-ok", func="math.floor", started=now, stopped=now, success=True)
    Task.objects.create(id="sweep-ko", name="sweep-ko", func="math.floor", started=now, stopped=now, success=False)
    OrmQ.objects.create(key="default", payload="sweep", lock=now)
    from integrations.alerts.models import MaintenanceWindow, Notification, Recipient

    MaintenanceWindow.objects.create(
        connection=shop, starts_at=now, ends_at=now + timezone.timedelta(hours=1), reason="sweep"
    )
    Recipient.objects.create(email="sweep@hub.example")
    Notification.objects.create(incident=world.objects["incident"], channel="email", target="sweep@hub.example")


def _user(world: Any, column: str) -> User | None:
    return world.users.get(column)


def _fill(body: dict, world: Any) -> dict:
    """A "<key>" string in a body stands for the pk of the world's object `key`."""

    def one(value: Any) -> Any:
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            return world.objects[value[1:-1]].pk
        return value

    return {key: one(value) for key, value in body.items()}


def _declared_posts(route: str, world: Any) -> list[Post]:
    writes = list(WRITES[route])
    if route == "order-transition":
        writes = _order_transition_writes()
    posts = []
    for write in writes:
        kwargs = dict(write.kwargs)
        obj = world.objects[write.obj] if write.obj else None
        if obj is not None:
            kwargs["pk"] = obj.pk
        url = reverse(route, kwargs=kwargs)
        for column in COLUMNS:
            user = _user(world, column)
            mine = obj is None or column != "other"  # the world's objects are the brand's, never the other's
            if user is not None and mine and write.allowed(user, obj):
                continue
            posts.append(Post(column, url, _fill(write.body, world), write.api))
    return posts


def _order_transition_writes() -> list[Write]:
    """Each transition of an order, plain and forced, on a held and on a packed order (the cancellation after
    packing escalates: it must not, for a caller who may not cancel)."""
    from orders.models import Order
    from orders.services import FORCEABLE

    writes = []
    for name, permission in sorted(_transition_permissions(Order).items()):
        for obj in ("held_order", "packed_order"):
            needs = perm(permission) if permission else (lambda user, obj: False)
            writes.append(Write("order-transition", needs, obj, {"reason": "Swept"}, api=True, kwargs={"name": name}))
            if name in FORCEABLE:
                forced = perm(force_permission(Order))
                body = {"reason": "Swept", "force": True}
                writes.append(Write("order-transition", forced, obj, body, api=True, kwargs={"name": name}))
    return writes


def _transition_permissions(model: Any) -> dict[str, str | None]:
    """{transition name: the permission it declares (None: none)} over every source state."""
    found: dict[str, str | None] = {}
    for transition in model(pk=None).get_all_state_transitions():
        found[transition.name] = found.get(transition.name) or transition.permission
    return found


def _admin_posts(route: str, world: Any) -> list[Post]:
    found = _admin_route(route.removeprefix("admin:"))
    assert found is not None
    model_admin, view = found
    needs = ADMIN_MODEL_VIEWS[view]
    model = model_admin.model
    label = model._meta.label_lower
    keys = ADMIN_OBJECTS.get(label)
    objects = [world.objects[k] for k in keys] if keys else [model._default_manager.order_by("pk").first()]
    assert all(o is not None for o in objects), f"no {label} in the world to post to: add one"
    posts = []
    for obj in objects:
        for url, body, kind, name in _admin_requests(route, view, model_admin, obj, world):
            for column in COLUMNS:
                user = _user(world, column)
                if needs is not None and user is not None and _admin_allows(model_admin, kind, user, obj, name):
                    continue
                posts.append(Post(column, url, body, False))
    return posts


def _admin_requests(route: str, view: str, model_admin: Any, obj: Any, world: Any) -> list[tuple]:
    """(url, body, permission kind, transition name) for each request to make at this console route."""
    if view == "add":
        return [(reverse(route), _form_body(model_admin, None, world), "add", None)]
    if view == "changelist":  # every action of the list ("delete selected" and the model admin's own)
        return [
            (reverse(route), {"action": action, "_selected_action": [obj.pk], "post": "yes", "index": 0}, "action",
             action)
            for action in _action_names(model_admin)
        ]  # fmt: skip
    url = reverse(route, kwargs={"object_id": obj.pk}) if view in ("change", "delete", "history", "force") else ""
    if view == "change":
        return [(url, _form_body(model_admin, obj, world), "change", None)]
    if view == "delete":
        return [(url, {"post": "yes"}, "delete", None)]
    if view == "history":
        return [(url, {}, "history", None)]
    if view == "simple_history":
        version = obj.history.order_by("history_id").first()
        assert version is not None, f"{obj!r} has no history to restore"
        url = reverse(route, args=[obj.pk, version.history_id])
        return [(url, _form_body(model_admin, obj, world), "revert", None)]
    if view == "password_link":
        return [(reverse(route, kwargs={"object_id": obj.pk}), {}, "change", None)]
    if view == "rerun":
        return [(reverse(route, kwargs={"object_id": obj.pk}), {}, "rerun", None)]
    if view == "password_change":
        url = reverse(route, kwargs={"id": obj.pk})
        return [(url, {"password1": "Swept-pass-2026!", "password2": "Swept-pass-2026!"}, "change", None)]
    names = sorted(_transition_permissions(model_admin.model))
    if view == "force":
        return [(url, {"name": name, "reason": "Swept"}, "force", name) for name in names]
    return [
        (reverse(route, kwargs={"object_id": obj.pk, "name": name}), {"reason": "Swept"}, "transition", name)
        for name in names
    ]


def _admin_allows(model_admin: Any, kind: str, user: User, obj: Any, name: str | None) -> bool:
    """What the console lets a user write: staff only, then the model admin's own permission (and for a
    transition, the permission it declares, else the model's change permission)."""
    if not (user.is_active and user.is_staff):
        return False
    request = RequestFactory().post("/")
    request.user = user
    if kind == "add":
        return bool(model_admin.has_add_permission(request))
    if kind == "change":
        return bool(model_admin.has_change_permission(request, obj))
    if kind == "delete":
        return bool(model_admin.has_delete_permission(request, obj))
    if kind == "action":
        return name in model_admin.get_actions(request)
    if kind == "force":
        return bool(user.has_perm(force_permission(model_admin.model)))
    if kind == "rerun":
        return bool(model_admin.has_rerun_permission(request))
    if kind == "transition":
        declared = _transition_permissions(model_admin.model).get(name or "")
        if declared:
            return bool(user.has_perm(declared))
        return bool(model_admin.has_change_permission(request, obj))
    return False


def _action_names(model_admin: Any) -> list[str]:
    return sorted({name for _func, name, _description in model_admin._get_base_actions()})


def _form_body(model_admin: Any, obj: Any, world: Any) -> dict:
    """The console form as a person would submit it unchanged (empty inline formsets): a body that saves when the
    user may, so a refusal is the permission's doing, not an invalid form's."""
    request = RequestFactory().get("/")
    request.user = world.objects["root"]
    try:
        form = model_admin.get_form(request, obj, change=obj is not None)(instance=obj)
    except AttributeError:  # django-q's task pages have no add form (they read obj._meta): nothing to fill
        return {}
    body: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                body[name] = "on"
            continue
        if isinstance(value, list | tuple):
            body[name] = [str(v) for v in value]
            continue
        if isinstance(value, dict):
            body[name] = json.dumps(value)
            continue
        body[name] = str(value)
    for formset, _inline in model_admin.get_formsets_with_inlines(request, obj):
        prefix = formset.get_default_prefix()
        body.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return body


def _read_only_posts(route: str, info: dict, world: Any) -> list[Post]:
    url = _reverse_filled(route)
    body = READ_ONLY_BODIES.get(route, {})
    return [Post(column, url, body, info["api"]) for column in COLUMNS]


def _reverse_filled(route: str) -> str:
    """A read-only route with placeholder arguments (it answers a POST without looking them up)."""
    path = ROUTES[route]["path"]
    return reverse(route, kwargs={k: v for k, v in FILLER.items() if re.search(rf"<(\w+:)?{k}>|\?P<{k}>", path)})


def _posts_for(route: str, world: Any) -> list[Post]:
    info = ROUTES[route]
    if route in WRITES:
        return _declared_posts(route, world)
    if info["admin"] and _admin_route(route.removeprefix("admin:")) is not None:
        return _admin_posts(route, world)
    return _read_only_posts(route, info, world)


def _send(world: Any, post: Post) -> int:
    client = world.clients[(post.column, post.api)]
    if post.api:
        response = client.post(post.url, data=json.dumps(post.body), content_type="application/json")
    else:
        response = client.post(post.url, post.body)
    return response.status_code


SWEPT = sorted(name for name in ROUTES if not name.startswith("<unnamed"))


@pytest.mark.parametrize("route", SWEPT)
def test_a_role_without_the_permission_changes_no_table(route: str, world: Any) -> None:
    changed = []
    posts = _posts_for(route, world)
    for post in posts:
        with transaction.atomic():
            status = _send(world, post)
            after = database_fingerprint()
            transaction.set_rollback(True)
        diff = fingerprint_changes(world.baseline, after)
        if diff:
            changed.append(f"{post.column} POST {post.url} {post.body} → {status}: {', '.join(diff)}")
    assert not changed, "a refused request wrote:\n" + "\n".join(changed)


def test_every_route_is_declared_for_the_sweep() -> None:
    """A route the sweep cannot classify fails here: declare it in tests/permissions/writes.py."""
    missing = []
    for name, info in ROUTES.items():
        if name in WRITES:
            continue
        if info["admin"]:
            bare = name.removeprefix("admin:")
            if _admin_route(bare) is None and bare not in ADMIN_SITE_READ_ONLY:
                missing.append(name)
            continue
        if name not in READ_ONLY:
            missing.append(f"{name} ({info['path']})")
        elif info["writes"]:
            missing.append(f"{name} ({info['path']}) is listed read-only but accepts {info['writes']}")
    assert not missing, "routes the sweep does not know, declare them in tests/permissions/writes.py: " + ", ".join(
        sorted(missing)
    )


def _tables(changes: list[str]) -> list[str]:
    return [change.split(" ")[0] for change in changes]


def test_the_fingerprint_sees_a_change_in_any_table(world: Any) -> None:
    """The sweep can fail: a one-row change in an order, a history row, a user's name each show."""
    from orders.models import Order

    with transaction.atomic():
        Order.objects.filter(pk=world.objects["held_order"].pk).update(delivery_city="Elsewhere")
        assert _tables(fingerprint_changes(world.baseline, database_fingerprint())) == ["orders_order"]
        transaction.set_rollback(True)
    with transaction.atomic():
        User.objects.filter(pk=world.users["fin"].pk).update(last_login=timezone.now())  # left out on purpose
        assert fingerprint_changes(world.baseline, database_fingerprint()) == []
        User.objects.filter(pk=world.users["fin"].pk).update(first_name="Changed")
        assert _tables(fingerprint_changes(world.baseline, database_fingerprint())) == ["auth_user"]
        transaction.set_rollback(True)


def test_the_console_bodies_do_write_for_a_role_that_may(world: Any) -> None:
    """The console requests the sweep sends are real ones: sent by the superuser they change the database (so a
    refusal seen in the sweep is the permission's, not a malformed form's)."""
    from django_q.models import Schedule

    checks = [("admin:warehouse_brand_change", world.brand), ("admin:django_q_schedule_changelist", None)]
    for route, obj in checks:
        model_admin, view = _admin_route(route.removeprefix("admin:"))  # type: ignore[misc]
        target = obj or Schedule.objects.get(name="sweep")
        url, body, _kind, _name = _admin_requests(route, view, model_admin, target, world)[0]
        client = Client()
        client.force_login(world.objects["root"])
        with transaction.atomic():
            client.post(url, body)
            after = database_fingerprint()
            transaction.set_rollback(True)
        assert fingerprint_changes(world.baseline, after), f"{route} as superuser wrote nothing"
