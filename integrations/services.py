"""Write use-cases of the connector framework: connections, their secrets, mappings and runbook state changes.

Secrets arrive as arguments and leave only sealed; nothing here logs, returns or raises with a secret in it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.connection_cache import connection_cache_clear
from integrations.mappings import mapping_validate
from integrations.models import Connection, ConnectionStatus, shop_taken_problem
from integrations.outbox.wake import outbox_release_connection
from integrations.platforms.registry import UnknownPlatform, connector_for
from integrations.vault import Sealed, fingerprint
from warehouse.errors import Conflict, InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.locks import advisory_xact_lock
from warehouse.models import Brand, ExceptionKind, SalesChannel
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor

logger = logging.getLogger(__name__)

DEFAULT_ROTATION_WINDOW = dt.timedelta(hours=24)


def _save(*, connection: Connection, fields: list[str], actor: Actor, reason: str) -> None:
    save_with_history(connection, actor=actor, reason=reason, fields=fields)
    # The inbox keeps connections a few seconds per process: this process forgets now, the others at expiry.
    connection_cache_clear(connection.pk)
    transaction.on_commit(lambda: connection_cache_clear(connection.pk))


# The connection's own settings a caller may give at creation (secrets and mappings have their own services).
CONNECTION_SETTINGS = frozenset(
    {
        "api_base_url",
        "status",
        "scopes",
        "reconcile_every_minutes",
        "fallback_reconcile_every_minutes",
        "reconcile_overlap_minutes",
        "silent_after_minutes",
    }
)


def _lock_shop(platform: str, shop: str) -> None:
    """Serialise creations of one (platform, shop) so the one-connection-per-shop check cannot race."""
    advisory_xact_lock(f"connection-shop:{platform}:{shop}")


def connection_create(
    *,
    brand: Brand,
    platform: str,
    name: str,
    shop: str,
    actor: Actor,
    sla_window_hours: int | None = None,
    **settings: Any,
) -> Connection:
    """A brand's new sales channel and the connection that holds its credentials, in one transaction.

    The platform must be registered; what it is (a marketplace or the brand's own storefront) is the registry's
    data, copied onto the channel (`SalesChannel.is_marketplace`). The SLA window is the brand's contract with that
    channel. A shop is one connection per platform. Secrets and mappings are set afterwards through their services."""
    unknown = sorted(set(settings) - CONNECTION_SETTINGS)
    if unknown:
        raise InvalidInput(
            "Unknown connection settings.",
            reasons=[Reason("unknown_field", f"{field} is not a connection setting") for field in unknown],
        )
    platform, name, shop = (platform or "").strip(), (name or "").strip(), (shop or "").strip()
    missing = [label for label, value in (("platform", platform), ("name", name), ("shop", shop)) if not value]
    if missing:
        raise InvalidInput(
            "A connection needs a platform, a name and a shop.",
            reasons=[Reason("required", f"{label} is required") for label in missing],
        )
    try:
        connector = connector_for(platform)
    except UnknownPlatform as exc:
        raise InvalidInput(str(exc), reasons=[Reason("unknown_platform", str(exc))]) from None
    with transaction.atomic():
        _lock_shop(platform, shop)
        problem = shop_taken_problem(platform=platform, shop=shop)
        if problem:
            raise Conflict(problem, reasons=[Reason("shop_taken", problem)])
        if SalesChannel.objects.filter(brand=brand, platform_code=platform, name=name).exists():
            message = f"{brand} already has a {platform} channel named {name}."
            raise Conflict(message, reasons=[Reason("channel_taken", message)])
        channel = SalesChannel(
            brand=brand,
            platform_code=platform,
            name=name,
            is_marketplace=bool(connector.is_marketplace),
            sla_window_hours=sla_window_hours,
        )
        save_with_history(channel, actor=actor, reason="channel connected")
        connection = Connection(channel=channel, shop=shop, **settings)
        save_with_history(connection, actor=actor, reason="connection created")
    return connection


def connection_set_credentials(*, connection: Connection, credentials: dict[str, Any], actor: Actor) -> Connection:
    """Seal new API credentials. A connection paused for expired credentials resumes (and its queued events drain)."""
    if not isinstance(credentials, dict) or not all(isinstance(k, str) for k in credentials):
        raise InvalidInput("Credentials must be an object of named values.", reasons=[Reason("bad_credentials", "")])
    text = json.dumps(credentials, sort_keys=True)
    with transaction.atomic():
        locked = Connection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        locked.credentials = Sealed.of(text)
        locked.credentials_fingerprint = fingerprint(text)
        _save(
            connection=locked,
            fields=["credentials", "credentials_fingerprint"],
            actor=actor,
            reason=f"credentials set (fingerprint {locked.credentials_fingerprint})",
        )
        if locked.status == ConnectionStatus.PAUSED_CREDENTIALS:
            connection_resume(connection=locked, actor=actor, note="credentials rotated")
    connection.refresh_from_db()
    return connection


def connection_set_signing_secret(
    *, connection: Connection, secret: str, actor: Actor, window: dt.timedelta | None = DEFAULT_ROTATION_WINDOW
) -> Connection:
    """Set a new webhook signing secret. With a `window`, the previous secret stays valid until now + window, so
    deliveries signed before the platform switched over are still accepted; after it they get 401."""
    if not secret or not secret.strip():
        raise InvalidInput("A signing secret cannot be blank.", reasons=[Reason("blank_secret", "secret is blank")])
    with transaction.atomic():
        locked = Connection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        previous = locked.signing_secret
        locked.signing_secret = Sealed.of(secret)
        locked.signing_secret_fingerprint = fingerprint(secret)
        if window is not None and isinstance(previous, Sealed):
            locked.previous_signing_secret = previous
            locked.previous_valid_until = timezone.now() + window
        else:
            locked.previous_signing_secret = None
            locked.previous_valid_until = None
        _save(
            connection=locked,
            fields=[
                "signing_secret",
                "signing_secret_fingerprint",
                "previous_signing_secret",
                "previous_valid_until",
            ],
            actor=actor,
            reason=f"signing secret rotated (fingerprint {locked.signing_secret_fingerprint})",
        )
    connection.refresh_from_db()
    return connection


def connection_set_mappings(
    *,
    connection: Connection,
    field_mapping: dict[str, Any] | None,
    status_mapping: dict[str, str] | None,
    actor: Actor,
    reason: str = "",
) -> Connection:
    """Store validated field and status mappings (an empty one means the platform default); history keeps each."""
    mapping_validate(field_mapping=field_mapping or {}, status_mapping=status_mapping or {})
    with transaction.atomic():
        locked = Connection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        locked.field_mapping = field_mapping or {}
        locked.status_mapping = status_mapping or {}
        _save(
            connection=locked,
            fields=["field_mapping", "status_mapping"],
            actor=actor,
            reason=(reason or "mappings changed")[:100],
        )
    connection.refresh_from_db()
    return connection


def _set_status(*, connection: Connection, status: str, note: str, actor: Actor) -> Connection:
    with transaction.atomic():
        locked = Connection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        if locked.status == status:
            return locked
        locked.status = status
        locked.status_reason = note[:300]
        _save(connection=locked, fields=["status", "status_reason"], actor=actor, reason=note[:100])
        return locked


def connection_pause_for_credentials(*, connection: Connection, note: str, actor: Actor = None) -> Connection:
    """Runbook "credential expired": an outbound 401 pauses writes; inbound events keep being stored and queued
    outbound writes wait. A person is told through the exception queue; rotating the credentials resumes."""
    if connection.status == ConnectionStatus.DISABLED:
        return connection
    locked = _set_status(connection=connection, status=ConnectionStatus.PAUSED_CREDENTIALS, note=note, actor=actor)
    exception_open(
        kind=ExceptionKind.CREDENTIAL_EXPIRED,
        summary=f"{connection}: the platform refused our credentials; set new ones to resume",
        reasons=[Reason("credentials_refused", note[:200] or "outbound 401")],
        subject=locked,
        brand=locked.brand,
    )
    logger.warning("connection %s paused: credentials refused", connection.pk)
    return locked


def connection_enter_polling_fallback(*, connection: Connection, note: str, actor: Actor = None) -> Connection:
    """Runbook "platform outage": stop relying on webhooks, reconcile at the fallback cadence, no retry storm."""
    if connection.status != ConnectionStatus.ACTIVE:
        return connection
    return _set_status(connection=connection, status=ConnectionStatus.POLLING_FALLBACK, note=note, actor=actor)


def connection_resume(*, connection: Connection, actor: Actor, note: str = "resumed") -> Connection:
    """Back to active; queued outbound writes of this connection are released (after commit)."""
    if connection.status == ConnectionStatus.DISABLED:
        raise InvalidInput("A disabled connection is not resumed.", reasons=[Reason("disabled", "enable it first")])
    was_paused = connection.status == ConnectionStatus.PAUSED_CREDENTIALS
    locked = _set_status(connection=connection, status=ConnectionStatus.ACTIVE, note=note, actor=actor)
    if was_paused:
        exceptions_resolve_if_cleared(subject=locked, kind=ExceptionKind.CREDENTIAL_EXPIRED, note=note)
    outbox_release_connection(connection_id=locked.pk)  # its drain is kicked after commit
    return locked
