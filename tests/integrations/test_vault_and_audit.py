"""Credentials sealed at rest, key rotation, and the append-only audit log."""

import pytest
from cryptography.fernet import Fernet
from django.db import DatabaseError, transaction
from django.db import connection as db

from integrations.audit import REDACTED, audit_record
from integrations.models import AuditRecord, Connection
from integrations.vault import CredentialKeyError, Sealed, fingerprint
from tests.integrations.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def _raw_column(connection_id, column):
    with db.cursor() as cur:
        cur.execute(f"SELECT {column} FROM integrations_connection WHERE id = %s", [connection_id])
        return cur.fetchone()[0]


def test_credentials_and_signing_secret_are_encrypted_at_rest():
    conn = ConnectionFactory(secrets={"signing_secret": "whsec-plain-1234", "credentials": {"access_token": "tok-9"}})
    stored = _raw_column(conn.pk, "signing_secret")
    assert "whsec-plain-1234" not in stored and stored.startswith("gAAAA")
    assert "tok-9" not in _raw_column(conn.pk, "credentials")
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.signing_secrets_valid() == ["whsec-plain-1234"]
    assert fresh.credentials_get() == {"access_token": "tok-9"}
    assert fresh.signing_secret_fingerprint == fingerprint("whsec-plain-1234")
    assert str(fresh.signing_secret) == "••••••" and "whsec" not in repr(fresh.signing_secret)


def test_a_wrong_key_raises_a_clear_error_without_the_secret(settings):
    conn = ConnectionFactory(secrets={"signing_secret": "whsec-wrong-key-canary"})
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    fresh = Connection.objects.get(pk=conn.pk)  # loading never needs the key
    with pytest.raises(CredentialKeyError) as caught:
        fresh.signing_secret.reveal()
    assert "CREDENTIAL_KEYS" in str(caught.value)
    assert "whsec-wrong-key-canary" not in str(caught.value) and fresh.signing_secret.token not in str(caught.value)


def test_rotate_credential_keys_re_encrypts_every_secret_under_the_newest_key(settings):
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [old]
    conn = ConnectionFactory(secrets={"signing_secret": "whsec-rotate", "credentials": {"access_token": "tok-rot"}})
    settings.CREDENTIAL_KEYS = [new, old]
    call_command("rotate_credential_keys", verbosity=0)
    settings.CREDENTIAL_KEYS = [new]  # the old key is gone: everything must open with the new one alone
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.signing_secrets_valid() == ["whsec-rotate"]
    assert fresh.credentials_get() == {"access_token": "tok-rot"}


def test_assigning_plaintext_seals_it_immediately():
    conn = ConnectionFactory()
    conn.signing_secret = "plain-on-assign"
    assert isinstance(conn.signing_secret, Sealed)
    assert "plain-on-assign" not in conn.signing_secret.token


def test_audit_record_redacts_secrets_and_names_the_credential_by_fingerprint():
    conn = ConnectionFactory(
        secrets={"signing_secret": "whsec-audit-xyz", "credentials": {"access_token": "tok-abc-123"}}
    )
    row = audit_record(
        connection=conn,
        direction="outbound",
        method="post",
        endpoint="https://shop.example/admin/api/orders.json?access_token=tok-abc-123",
        status=200,
        latency_ms=12.5,
        outcome="ok",
        body={"note": "uses tok-abc-123", "password": "hunter2", "nested": {"client_secret": "x"}},
        headers={"X-Shopify-Access-Token": "tok-abc-123", "Content-Type": "application/json"},
    )
    row.refresh_from_db()
    text = f"{row.endpoint}{row.body}{row.headers}{row.detail}"
    assert "tok-abc-123" not in text and "hunter2" not in text
    assert REDACTED in row.body and row.headers["X-Shopify-Access-Token"] == REDACTED
    assert row.credential_fingerprint == conn.credentials_fingerprint and len(row.credential_fingerprint) == 8


@pytest.mark.postgresql
def test_the_audit_log_refuses_update_and_delete_in_postgresql():
    row = audit_record(connection=None, direction="inbound", endpoint="/webhooks/x/", outcome="ok", status=200)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=row.pk).update(outcome="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=row.pk).delete()
    assert AuditRecord.objects.get(pk=row.pk).outcome == "ok"


def test_rotation_without_the_old_key_stops_with_a_clear_error_and_changes_nothing(settings):
    from django.core.management import CommandError, call_command

    old = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [old]
    conn = ConnectionFactory(secrets={"signing_secret": "whsec-lost-key-canary"})
    before = _raw_column(conn.pk, "signing_secret")
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]  # the old key was dropped too early
    with pytest.raises(CommandError) as caught:
        call_command("rotate_credential_keys", verbosity=0)
    assert f"connection {conn.pk}" in str(caught.value) and "whsec-lost-key-canary" not in str(caught.value)
    assert _raw_column(conn.pk, "signing_secret") == before
