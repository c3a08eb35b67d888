"""Subscribing a platform's webhooks to this hub from the console: the connection's platform client
(`integrations.connections.client_for`, which refuses a foreign API host before anything is sent) and its
connector's `register_webhooks`, with the connection's webhook URL and signing secret. The outcome is a sentence for
the administrator: the topics subscribed, or why nothing was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from integrations.connection_status import error_in_words
from integrations.connections import client_for
from integrations.http import HttpError
from integrations.models import Connection
from integrations.platforms.registry import connector_for
from warehouse.errors import DomainError


@dataclass(frozen=True)
class Subscribed:
    ok: bool
    words: str
    topics: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()


def webhook_url(request: HttpRequest, connection: Connection) -> str:
    """The absolute address the platform sends this connection's webhooks to."""
    path = reverse("integrations:webhook", kwargs={"platform": connection.platform, "connection_id": connection.pk})
    return request.build_absolute_uri(path)


def webhooks_register(*, connection: Connection, address: str) -> Subscribed:
    """Subscribe `address` to every topic the platform must send. Never raises for the platform's or the host's
    refusal: the answer says what happened. Secrets never appear in it."""
    name = f"{connection.platform_name} — {connection.name}"
    connector = connector_for(connection.platform)
    secrets = connection.signing_secrets_valid()
    try:
        client: Any = client_for(connection)
        ids = connector.register_webhooks(client, address=address, secret=secrets[0] if secrets else "")
    except DomainError as exc:  # ApiHostRefused: nothing was sent
        return Subscribed(False, f"{name}: nothing was sent, the API base URL is refused: {exc.message}.")
    except HttpError as exc:
        status = f" (HTTP {exc.status_code})" if exc.status_code else ""
        because = error_in_words(f"{type(exc).__name__}{status}", prefix="")
        return Subscribed(
            False,
            f"{name}: the subscription failed. {because} Topics it subscribed before stay; once fixed, subscribe "
            "again (nothing is subscribed twice).",
        )
    topics = tuple(connector.webhook_topics)
    return Subscribed(
        True,
        f"{name}: subscribed {', '.join(topics)} to {address} (platform ids {', '.join(ids)}).",
        topics,
        tuple(ids),
    )
