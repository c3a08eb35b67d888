"""Issue 13 §1 in the console: the user form offers the roles of warehouse/roles.py and, for brand users, the brands;
superuser, groups and permissions are for superusers; a new person gets a set-password link (on the page, and by
e-mail through a real SMTP server on loopback); bad input keeps what was typed and saves nothing; a crafted POST is
refused and changes nothing."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse
from knox.models import AuthToken

from tests.mail import free_port
from tests.warehouse.test_users import _accounts
from warehouse.api.tokens import token_issue
from warehouse.roles import brands_visible_to, user_roles

pytestmark = pytest.mark.django_db

ADD = "/admin/auth/user/add/"
LINK = re.compile(r"https?://[^\s\"<]+/accounts/reset/[^\s\"<]+/")


def change_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


@pytest.fixture
def admin(make_user):
    return make_user("administrator", username="ada")


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


def _new_brand_user(client, brand, **overrides):
    body = {"username": "acme-ops", "email": "ops@acme.example", "roles": ["brand"], "brands": [brand.pk]}
    body.update(overrides)
    return client.post(ADD, body)


def _body(user, **overrides) -> dict:
    """The change form as a person submits it unchanged."""
    from warehouse.users import brands_of

    body = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "roles": user_roles(user),
        "brands": [b.pk for b in brands_of(user)],
        "is_active": "on" if user.is_active else "",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v not in ("", None)}


def test_the_add_form_offers_roles_and_brands_and_nothing_a_superuser_alone_may_set(as_admin, brand, other_brand):
    page = as_admin.get(ADD).content.decode()
    for role in ("operations", "warehouse_manager", "finance", "brand"):
        assert f'value="{role}"' in page
    assert 'value="administrator"' not in page, "only a superuser gives the administrator role"
    assert "Acme Apparel" in page and "Borealis Beauty" in page
    for field in ("is_superuser", "groups", "permissions", "password1", "password", "is_staff"):
        assert f'name="{field}"' not in page


def test_a_superuser_sees_the_superuser_fields(client, make_user):
    from django.contrib.auth.models import Group

    Group.objects.create(name="auditors")
    client.force_login(make_user("superuser", username="root"))
    page = client.get(ADD).content.decode()
    for field in ('name="is_superuser"', 'name="groups"', 'name="permissions"', 'value="administrator"'):
        assert field in page
    assert 'name="password1"' not in page


def test_an_administrator_adds_a_brand_user_who_sets_a_password_through_the_link(client, as_admin, brand, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # mail not configured
    page = _new_brand_user(as_admin, brand)
    assert page.status_code == 200
    text = page.content.decode()
    link = LINK.search(text).group(0)
    assert "Not e-mailed: mail is not configured (EMAIL_URL)" in text
    user = User.objects.get(username="acme-ops")
    assert list(brands_visible_to(user)) == [brand] and not user.has_usable_password()
    assert not any(link.split("/reset/")[1] in (e.change_message or "") for e in LogEntry.objects.all())

    client.logout()
    landing = client.get(link)  # Django moves the token into the session and redirects
    assert landing.status_code == 302
    form = client.get(landing["Location"])
    assert "acme-ops" in form.content.decode()
    done = client.post(landing["Location"], {"new_password1": "Wide-Harbour-42", "new_password2": "Wide-Harbour-42"})
    assert done.status_code == 302
    assert client.login(username="acme-ops", password="Wide-Harbour-42")
    assert client.get(link, follow=True).context["validlink"] is False, "the link works once"


def test_the_link_goes_out_through_a_real_smtp_server(as_admin, brand, smtp_inbox):
    text = _new_brand_user(as_admin, brand).content.decode()
    link = LINK.search(text).group(0)
    assert "Sent by e-mail to <strong>ops@acme.example</strong>" in text
    assert smtp_inbox.recipients == [["ops@acme.example"]]
    body = smtp_inbox.bodies()[0]
    assert link in body and "acme-ops" in body
    assert "password" in smtp_inbox.messages[0]["Subject"]


def test_a_mail_server_that_is_down_leaves_the_link_on_the_page_and_out_of_the_log(as_admin, brand, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    text = _new_brand_user(as_admin, brand).content.decode()
    link = LINK.search(text).group(0)
    assert "Not e-mailed: the mail server could not be reached or refused it" in text
    assert User.objects.filter(username="acme-ops").exists()
    assert "set-password mail" in caplog.text and link.split("/reset/")[1] not in caplog.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"roles": ["overlord"]}, "overlord is not a role you can give."),
        ({"roles": ["administrator"]}, "administrator is not a role you can give."),
        ({"brands": [987654]}, "No brand you manage has the id 987654."),
        ({"username": "ADA"}, "The username ADA is taken."),
        ({"roles": ["brand", "operations"]}, "A brand user holds the brand role alone"),
        ({"brands": []}, "A brand user needs at least one brand"),
        ({"email": "ops-at-acme"}, "ops-at-acme is not an e-mail address."),
    ],
)
def test_bad_input_shows_one_clear_error_keeps_what_was_typed_and_saves_nothing(as_admin, brand, overrides, error):
    before = _accounts()
    page = _new_brand_user(as_admin, brand, first_name="Zoë", **overrides)
    text = page.content.decode()
    assert page.status_code == 200
    assert error in text
    assert text.count('class="errorlist') == 1, "exactly one error shown"
    assert "Nothing was saved." in text and "changed successfully" not in text
    assert 'value="Zoë"' in text, "what was typed stays"
    assert _accounts() == before


def test_an_administrator_cannot_make_anyone_a_superuser_with_a_crafted_post(as_admin, admin, make_user, brand):
    ops = make_user("operations", username="otto")
    before = _accounts()
    for target in (admin, ops):
        for crafted in ({"is_superuser": "on"}, {"is_staff": "on"}, {"groups": ["1"]}, {"password1": "x"}):
            response = as_admin.post(change_url(target), _body(target, **crafted))
            assert response.status_code == 403, (target.username, crafted)
    response = as_admin.post(ADD, {"username": "boss", "roles": ["operations"], "is_superuser": "on"})
    assert response.status_code == 403
    response = as_admin.post(change_url(admin), _body(admin, roles=["administrator", "warehouse_manager"]))
    assert response.status_code == 403, "own roles are a superuser's to change"
    assert _accounts() == before


def test_an_administrator_cannot_change_another_administrator_or_a_superuser(as_admin, make_user):
    peer = make_user("administrator", username="bea")
    root = make_user("superuser", username="root")
    for target in (peer, root):
        page = as_admin.get(change_url(target)).content.decode()
        assert 'id="user_form"' not in page and "password-link" not in page
        assert "Only a superuser changes" in page
    before = _accounts()
    for target in (peer, root):
        assert as_admin.post(change_url(target), _body(target, email="mine@evil.example")).status_code == 403
        assert as_admin.post(f"/admin/auth/user/{target.pk}/password-link/").status_code == 403
        as_admin.post(f"/admin/auth/user/{target.pk}/password/", {"password1": "x", "password2": "x"}, follow=True)
    with pytest.raises(NoReverseMatch):
        reverse("admin:auth_user_password_change", args=[peer.pk])  # the stock password form is gone
    assert _accounts() == before


def test_an_administrator_reissues_a_link_for_someone_they_manage(as_admin, make_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    ops = make_user("operations", username="otto")
    page = as_admin.get(change_url(ops)).content.decode()
    assert "Issue a set-password link" in page
    text = as_admin.post(f"/admin/auth/user/{ops.pk}/password-link/").content.decode()
    assert LINK.search(text)
    assert as_admin.get(f"/admin/auth/user/{ops.pk}/password-link/").status_code == 405


def test_deactivating_in_the_form_revokes_the_api_tokens(as_admin, make_user):
    ops = make_user("operations", username="otto")
    token_issue(user=ops)
    response = as_admin.post(change_url(ops), _body(ops, is_active=""), follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Saved otto: deactivated." in text and "1 API token(s) of theirs revoked." in text
    assert not AuthToken.objects.filter(user=ops).exists()


def test_moving_a_brand_user_to_another_brand_in_the_form(as_admin, make_user, brand, other_brand):
    user = make_user("brand", brand=brand, username="bru")
    response = as_admin.post(change_url(user), _body(user, brands=[other_brand.pk]))
    assert response.status_code == 302
    assert list(brands_visible_to(User.objects.get(pk=user.pk))) == [other_brand]


def test_the_list_never_filters_on_password_hashes(as_admin):
    assert as_admin.get("/admin/auth/user/?password__startswith=md5").status_code == 400


def test_the_user_list_reads_in_a_bounded_number_of_queries(as_admin, make_user, brand, django_assert_max_num_queries):
    for n in range(12):
        make_user("brand", brand=brand, username=f"b{n}")
        make_user("operations", username=f"o{n}")
    with django_assert_max_num_queries(12):
        page = as_admin.get("/admin/auth/user/")
    assert page.status_code == 200
    assert "Acme Apparel" in page.content.decode()


def test_other_staff_roles_have_no_user_pages(client, make_user):
    ops = make_user("operations", username="otto")
    client.force_login(make_user("warehouse_manager", username="max"))
    assert client.get(ADD).status_code == 403
    assert client.post(change_url(ops), _body(ops, email="x@example.com")).status_code == 403
    assert client.post(f"/admin/auth/user/{ops.pk}/password-link/").status_code == 403
