"""Carrier accounts' use-cases: set their credentials (sealed, write-only) and build their client with the audit
hook. Secrets arrive as arguments and leave only sealed; nothing here logs, returns or raises with a secret in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import transaction

from integrations.carriers.models import CarrierAccount, api_host_problem
from integrations.carriers.registry import connector_for
from integrations.http import Exchange
from integrations.vault import Sealed, fingerprint
from warehouse.errors import InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.transitions import Actor


class ApiHostRefused(InvalidInput):
    """The account's API host is not one its carrier's credentials may be sent to."""


def carrier_account_set_credentials(
    *, account: CarrierAccount, credentials: dict[str, Any], actor: Actor
) -> CarrierAccount:
    """Seal new credentials after the carrier's connector checked their shape (every problem named at once)."""
    if not isinstance(credentials, dict) or not all(isinstance(k, str) for k in credentials):
        raise InvalidInput("Credentials must be an object of named values.", reasons=[Reason("bad_credentials", "")])
    problems = connector_for(account.carrier).credential_problems(credentials)
    if problems:
        raise InvalidInput(
            "These credentials cannot work: " + "; ".join(problems),
            reasons=[Reason("bad_credentials", p) for p in problems],
        )
    text = json.dumps(credentials, sort_keys=True)
    with transaction.atomic():
        locked = CarrierAccount.objects.select_for_update(no_key=True).get(pk=account.pk)
        locked.credentials = Sealed.of(text)
        locked.credentials_fingerprint = fingerprint(text)
        save_with_history(
            locked,
            actor=actor,
            reason=f"credentials set (fingerprint {locked.credentials_fingerprint})",
            fields=["credentials", "credentials_fingerprint"],
        )
    account.refresh_from_db()
    return account


def carrier_audit_hook(account: CarrierAccount) -> Callable[[Exchange], None]:
    """Each outbound exchange of the account's client becomes an audit row (secrets redacted twice: by the client,
    and by `audit_record` with the account's own secrets)."""
    from integrations.audit import audit_record, redact_body

    def record(exchange: Exchange) -> None:
        # An OAuth answer carries a fresh bearer token the client did not know yet: mask secret-named keys first.
        answer = redact_body(exchange.response_body) if exchange.response_body else ""
        audit_record(
            connection=None,
            carrier_account=account,
            direction="outbound",
            endpoint=exchange.url,
            outcome=exchange.outcome,
            status=exchange.status,
            latency_ms=exchange.latency_ms,
            method=exchange.method,
            body=exchange.request_body or None,
            headers=exchange.request_headers,
            detail=(exchange.detail or answer)[:300],
        )

    return record


def carrier_client_for(account: CarrierAccount, **http_options: Any) -> Any:
    """The carrier's client for `account`, auditing each call unless `on_exchange` is given. Raises `UnknownCarrier`
    for an unregistered carrier and `ApiHostRefused` when the API host is not one the carrier allows (the
    credentials are never sent there)."""
    connector = connector_for(account.carrier)
    problem = api_host_problem(carrier=account.carrier, api_base_url=account.api_base_url)
    if problem:
        raise ApiHostRefused(problem, reasons=[Reason("api_host_refused", problem)])
    http_options.setdefault("on_exchange", carrier_audit_hook(account))
    return connector.client(
        base_url=connector.api_base_url(api_base_url=account.api_base_url),
        credentials=account.credentials_get(),
        **http_options,
    )
