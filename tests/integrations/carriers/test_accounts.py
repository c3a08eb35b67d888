"""Carrier accounts: only registered carriers, credentials sealed and write-only (never in history, pages or the audit
log), the client built with the audit hook and refused for a host the carrier does not use."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from integrations.carriers import registry
from integrations.carriers.accounts import ApiHostRefused, carrier_account_set_credentials, carrier_client_for
from integrations.carriers.models import CarrierAccount
from integrations.models import AuditRecord
from warehouse.errors import InvalidInput

pytestmark = pytest.mark.django_db

CANARY = "canary-carrier-secret-51c0"


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]


def _credentials(code: str) -> dict[str, str]:
    connector = registry.connector_for(code)
    values = connector.demo_credentials(lambda name: f"{name}-{CANARY}")
    return values


@pytest.fixture(params=registry.codes())
def account(request, facility):
    made = CarrierAccount.objects.create(carrier=request.param, name=f"{request.param} VLC1", facility=facility)
    return carrier_account_set_credentials(account=made, credentials=_credentials(request.param), actor=None)


def test_an_unregistered_carrier_cannot_be_saved_and_the_error_names_those_on_offer(facility):
    account = CarrierAccount(carrier="pigeon_post", name="Pigeons", facility=facility)
    with pytest.raises(ValidationError) as refused:
        account.save()
    for code in registry.codes():
        assert code in str(refused.value)
    assert not CarrierAccount.objects.exists()
    with pytest.raises(ValidationError):
        account.full_clean()


def test_a_host_the_carrier_does_not_use_is_refused(account):
    account.api_base_url = "https://carrier.example.com"
    with pytest.raises(ValidationError, match="api_base_url"):
        account.full_clean()
    with pytest.raises(ApiHostRefused):
        carrier_client_for(account)


def test_credentials_are_sealed_fingerprinted_and_kept_out_of_history(account):
    stored = CarrierAccount.objects.values_list("credentials", flat=True).get(pk=account.pk)
    assert CANARY not in str(stored)
    assert account.credentials_get() == _credentials(account.carrier)
    assert len(account.credentials_fingerprint) == 8
    for row in account.history.all():
        assert not hasattr(row, "credentials")
        assert CANARY not in str(row.__dict__)
    assert account.history.first().history_change_reason.startswith("credentials set (fingerprint ")


def test_credentials_of_the_wrong_shape_are_refused_with_every_problem(account):
    before = account.credentials_fingerprint
    with pytest.raises(InvalidInput) as refused:
        carrier_account_set_credentials(account=account, credentials={}, actor=None)
    assert len(refused.value.reasons) >= 2
    account.refresh_from_db()
    assert account.credentials_fingerprint == before


def test_every_call_is_audited_against_the_account_without_its_secrets(account):
    connector = registry.connector_for(account.carrier)
    with connector.simulator(credentials=account.credentials_get()).running() as sim:
        account.api_base_url = sim.url
        account.save()
        client = carrier_client_for(account)
        result = connector.create_shipment(client, connector.example_request())
        assert result.all_ok
        tokens = list(sim.issued_tokens)
    rows = list(AuditRecord.objects.filter(carrier_account=account))
    assert rows and all(r.connection_id is None for r in rows)
    assert {r.outcome for r in rows} == {"ok"}
    assert all(r.credential_fingerprint == account.credentials_fingerprint for r in rows)
    for row in rows:
        text = row.body + row.endpoint + row.detail + str(row.headers)
        assert CANARY not in text
        assert not any(token in text for token in tokens)  # a bearer token the carrier handed out


def test_the_console_sets_credentials_write_only(client, make_user, facility):
    client.force_login(make_user("administrator"))
    code = registry.codes()[0]
    data = {"carrier": code, "name": "Main", "facility": facility.pk, "brand": "", "api_base_url": "", "active": "on"}
    import json

    response = client.post(
        "/admin/carriers/carrieraccount/add/", {**data, "new_credentials": json.dumps(_credentials(code))}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = CarrierAccount.objects.get()
    assert account.credentials_get() == _credentials(code)
    page = client.get(f"/admin/carriers/carrieraccount/{account.pk}/change/").content.decode()
    assert CANARY not in page and account.credentials_fingerprint in page
    history = client.get(f"/admin/carriers/carrieraccount/{account.pk}/history/").content.decode()
    assert CANARY not in history
    refused = client.post("/admin/carriers/carrieraccount/add/", {**data, "carrier": "pigeon_post", "name": "P"})
    assert refused.status_code == 200 and CarrierAccount.objects.count() == 1


def test_operations_see_accounts_but_cannot_set_credentials(client, make_user, account):
    client.force_login(make_user("operations"))
    assert client.get("/admin/carriers/carrieraccount/").status_code == 200
    page = client.get(f"/admin/carriers/carrieraccount/{account.pk}/change/").content.decode()
    assert "new_credentials" not in page
    before = account.credentials_fingerprint
    response = client.post(
        f"/admin/carriers/carrieraccount/{account.pk}/change/",
        {"carrier": account.carrier, "name": "x", "facility": account.facility_id, "new_credentials": '{"a": "b"}'},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.credentials_fingerprint == before


def test_a_simulator_accepts_the_accounts_credentials(account):
    from integrations.carriers.management.commands.run_carrier_simulator import simulator_for

    connector = registry.connector_for(account.carrier)
    with simulator_for(account.carrier, account=account, hub_url="http://127.0.0.1:9/x").running() as sim:
        account.api_base_url = sim.url
        account.save()
        assert connector.create_shipment(carrier_client_for(account), connector.example_request()).all_ok
    with simulator_for(account.carrier).running() as sim:  # the demo's credentials: this account's are refused
        account.api_base_url = sim.url
        account.save()
        with pytest.raises(Exception, match="401"):
            connector.create_shipment(carrier_client_for(account), connector.example_request())
