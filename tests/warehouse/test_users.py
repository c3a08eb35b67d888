"""Issue 13 §1: people's accounts. Administrators give the roles of warehouse/roles.py and tie brand users to the
brands they manage; superuser status, groups and permissions are a superuser's; nobody changes a superuser's or
another administrator's account but a superuser; deactivating revokes API tokens; a refusal saves nothing."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from guardian.shortcuts import assign_perm
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory
from warehouse.api.tokens import token_issue
from warehouse.errors import InvalidInput, NotPermitted, TooLong
from warehouse.roles import brands_visible_to, user_roles
from warehouse.users import SuperuserFields, brands_managed_by, brands_of, user_create, user_update

pytestmark = pytest.mark.django_db


def _accounts() -> list[tuple]:
    """Every account with its roles, brand ties and powers: a refused call must leave all of it as it was."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM auth_user_groups), (SELECT count(*) FROM auth_user_user_permissions),"
            " (SELECT count(*) FROM warehouse_branduserobjectpermission)"
        )
        links = cursor.fetchone()
    rows = list(
        User.objects.order_by("pk").values_list(
            "pk", "username", "email", "first_name", "is_active", "is_staff", "is_superuser", "password"
        )
    )
    return [*rows, links]


@pytest.fixture
def admin(make_user):
    return make_user("administrator", username="ada")


def test_an_administrator_creates_a_brand_user_tied_to_one_brand(admin, brand, other_brand):
    saved = user_create(actor=admin, username="acme-ops", email="ops@acme.example", roles=["brand"], brands=[brand])
    user = User.objects.get(username="acme-ops")
    assert saved.user == user
    assert user_roles(user) == ["brand"]
    assert list(brands_visible_to(user)) == [brand]
    assert brands_of(user) == [brand]
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password(), "nobody chooses another person's password"


def test_staff_roles_work_in_the_console(admin):
    user = user_create(actor=admin, username="olga", roles=["operations", "finance"]).user
    assert user.is_staff and user_roles(user) == ["finance", "operations"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"roles": ["overlord"]}, "unknown_role"),
        ({"roles": ["brand"]}, "brand_required"),
        ({"roles": ["brand", "operations"], "brands": "acme"}, "brand_with_staff_role"),
        ({"roles": ["operations"], "brands": "acme"}, "brands_without_brand_role"),
        ({"roles": [], "username": "has space"}, "bad_username"),
        ({"roles": [], "username": "ADA"}, "username_taken"),
        ({"roles": [], "email": "not-an-address"}, "bad_email"),
        ({"roles": [], "username": ""}, "username_required"),
    ],
)
def test_bad_input_is_refused_naming_the_rule_and_saves_nothing(admin, brand, kwargs, code):
    before = _accounts()
    args = {"username": "newbie", "brands": [], **kwargs}
    if args["brands"] == "acme":
        args["brands"] = [brand]
    with pytest.raises(InvalidInput) as refused:
        user_create(actor=admin, **args)
    assert code in [r.code for r in refused.value.reasons]
    assert _accounts() == before


def test_a_value_longer_than_its_column_is_refused_never_cut(admin):
    with pytest.raises(TooLong) as refused:
        user_create(actor=admin, username="x" * 151, roles=[])
    assert refused.value.reasons[0].message == "username: 151 characters, at most 150"
    assert not User.objects.filter(username__startswith="xxx").exists()


def test_a_brand_the_actor_does_not_manage_is_refused(brand, other_brand, roles):
    """Managing a brand is being allowed to change it: administrators hold that for every brand; someone holding it
    on one brand only (a guardian object permission) ties users to that brand and no other."""
    keeper = UserFactory(username="acme-keeper", is_staff=True)
    keeper.user_permissions.add(*Permission.objects.filter(codename__in=["add_user", "change_user"]))
    assign_perm("warehouse.change_brand", keeper, brand)
    keeper = User.objects.get(pk=keeper.pk)
    assert list(brands_managed_by(keeper)) == [brand]
    before = _accounts()
    with pytest.raises(InvalidInput) as refused:
        user_create(actor=keeper, username="sneaky", roles=["brand"], brands=[other_brand])
    assert [r.code for r in refused.value.reasons] == ["brand_not_managed"]
    assert "Borealis Beauty" in refused.value.message
    assert _accounts() == before
    assert user_create(actor=keeper, username="fine", roles=["brand"], brands=[brand]).user.username == "fine"


def test_administrators_manage_every_brand(admin, brand, other_brand):
    assert set(brands_managed_by(admin)) == {brand, other_brand}


def test_an_administrator_cannot_grant_superuser_groups_permissions_or_the_administrator_role(admin, roles):
    before = _accounts()
    extra = Group.objects.create(name="auditors")
    before = _accounts()
    attempts = [
        {"superuser": SuperuserFields(is_superuser=True)},
        {"superuser": SuperuserFields(groups=[extra])},
        {"superuser": SuperuserFields(permissions=list(Permission.objects.filter(codename="delete_user")))},
        {"roles": ["administrator"]},
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted):
            user_create(actor=admin, username="climber", **{"roles": [], **attempt})
    target = user_create(actor=admin, username="target", roles=["operations"]).user
    before = _accounts()
    for attempt in attempts:
        with pytest.raises(NotPermitted):
            user_update(user=target, actor=admin, **attempt)
        with pytest.raises(NotPermitted):
            user_update(user=admin, actor=admin, **attempt)  # themselves included
    assert _accounts() == before
    assert not User.objects.filter(is_superuser=True).exists()


def test_an_administrator_cannot_change_a_superuser_or_another_administrator(admin, make_user):
    root = make_user("superuser", username="root")
    peer = make_user("administrator", username="bea")
    before = _accounts()
    for target in (root, peer):
        for change in ({"email": "mine@evil.example"}, {"roles": ["operations"]}, {"is_active": False}):
            with pytest.raises(NotPermitted):
                user_update(user=target, actor=admin, **change)
    assert _accounts() == before


def test_an_account_a_superuser_gave_extra_powers_is_a_superusers_to_change(admin, make_user):
    ops = make_user("operations", username="otto")
    ops.user_permissions.add(Permission.objects.get(codename="delete_user"))
    with pytest.raises(NotPermitted, match="powers beyond its roles"):
        user_update(user=ops, actor=admin, email="otto@example.com")


def test_administrators_change_their_own_name_and_email_but_not_their_roles(admin):
    user_update(user=admin, actor=admin, first_name="Ada", email="ada@example.com")
    admin.refresh_from_db()
    assert (admin.first_name, admin.email) == ("Ada", "ada@example.com")
    with pytest.raises(NotPermitted):
        user_update(user=admin, actor=admin, roles=["administrator", "warehouse_manager"])
    with pytest.raises(NotPermitted):
        user_update(user=admin, actor=admin, is_active=False)


def test_a_superuser_sets_everything(make_user, brand):
    root = make_user("superuser", username="root")
    auditors = Group.objects.create(name="auditors")
    user = user_create(
        actor=root,
        username="chief",
        roles=["administrator"],
        superuser=SuperuserFields(is_superuser=True, groups=[auditors]),
    ).user
    assert user.is_superuser and user.is_staff
    assert set(user.groups.values_list("name", flat=True)) == {"administrator", "auditors"}
    saved = user_update(user=user, actor=root, roles=["finance"], superuser=SuperuserFields(is_superuser=False))
    assert user_roles(saved.user) == ["finance"] and not saved.user.is_superuser
    assert set(saved.changed) >= {"roles", "superuser"}


def test_changing_a_brand_users_brands_moves_the_object_permission(admin, brand, other_brand):
    user = user_create(actor=admin, username="bru", roles=["brand"], brands=[brand]).user
    user_update(user=user, actor=admin, roles=["brand"], brands=[other_brand])
    user = User.objects.get(pk=user.pk)
    assert list(brands_visible_to(user)) == [other_brand]
    user_update(user=user, actor=admin, roles=["operations"], brands=[])
    user = User.objects.get(pk=user.pk)
    assert brands_of(user) == [] and user.is_staff and user_roles(user) == ["operations"]


def test_deactivating_a_user_revokes_their_api_tokens(admin, make_user):
    ops = make_user("operations", username="otto")
    token = token_issue(user=ops)
    token_issue(user=ops)
    kept = token_issue(user=admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/").status_code == 200
    saved = user_update(user=ops, actor=admin, is_active=False)
    assert saved.tokens_revoked == 2 and "deactivated" in saved.changed
    assert not AuthToken.objects.filter(user=ops).exists()
    user_update(user=ops, actor=admin, is_active=True)
    assert api.get("/api/v1/").status_code == 401, "reactivating does not bring a revoked token back"
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {kept}")
    assert other.get("/api/v1/").status_code == 200


def test_nobody_without_the_permission_adds_or_changes_accounts(make_user):
    ops = make_user("operations", username="otto")
    fin = make_user("finance", username="fina")
    before = _accounts()
    with pytest.raises(NotPermitted):
        user_create(actor=ops, username="x", roles=[])
    with pytest.raises(NotPermitted):
        user_update(user=fin, actor=ops, email="x@example.com")
    assert _accounts() == before
