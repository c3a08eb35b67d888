"""The console offers only the platforms the connector registry has, and refuses any other."""

import pytest

from integrations.models import Connection

pytestmark = pytest.mark.django_db


def test_the_admin_add_form_offers_only_registered_platforms(client, make_user):
    client.force_login(make_user("administrator"))

    page = client.get("/admin/integrations/connection/add/").content.decode()

    select = page[page.index('name="platform"') : page.index("</select>", page.index('name="platform"'))]
    assert 'value="shopify"' in select and 'value="woocommerce"' in select and 'value="bigcommerce"' in select
    assert "amazon" not in select.lower() and "ebay" not in select.lower() and "magento" not in select.lower()


def test_the_admin_refuses_a_platform_it_does_not_offer(client, make_user, brand):
    client.force_login(make_user("administrator"))
    form = {"brand": brand.pk, "platform": "amazon", "name": "Amazon", "shop": "amzn", "api_base_url": "",
            "scopes": "[]", "reconcile_every_minutes": 10, "fallback_reconcile_every_minutes": 2,
            "reconcile_overlap_minutes": 5, "silent_after_minutes": 30, "field_mapping": "{}", "status_mapping": "{}",
            "new_credentials": "", "new_signing_secret": ""}  # fmt: skip

    page = client.post("/admin/integrations/connection/add/", form)

    assert page.status_code == 200 and "Select a valid choice. amazon is not one of the available choices" in (
        page.content.decode()
    )
    assert not Connection.objects.filter(channel__platform_code="amazon").exists()
