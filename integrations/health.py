"""The integrations' readiness check, registered with the core's `/readyz` (warehouse.health) at start-up: the vault's
keys are present and open a stored secret, or no connection's webhook can be verified and no credential opened."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations.models import Connection
from integrations.vault import CredentialKeyError, Sealed, configured_keys, vault


def vault_ready() -> dict[str, Any]:
    try:
        keys = configured_keys()
        vault()
    except ImproperlyConfigured as exc:
        return {"ok": False, "error": str(exc)}
    sealed = (
        Connection.objects.exclude(signing_secret=None).order_by("-pk").values_list("signing_secret", flat=True).first()
    )
    if isinstance(sealed, Sealed):
        try:
            sealed.reveal()
        except CredentialKeyError:
            return {"ok": False, "keys": len(keys), "error": "the configured keys do not open a stored secret"}
    return {"ok": True, "keys": len(keys), "development_key": not settings.CREDENTIAL_KEYS}
