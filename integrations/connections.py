"""A connection's platform client, built one way for the whole kit: the registry's connector, the connection's API
base URL and credentials, and the audit hook. The platform clients themselves know nothing of the database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from integrations.outbox.auditing import audit_hook
from integrations.platforms.base import is_loopback
from integrations.platforms.registry import connector_for
from warehouse.errors import InvalidInput, Reason


class ApiHostRefused(InvalidInput):
    """The connection's API host is not one its platform's credentials may be sent to."""


def api_host_problem(*, platform: str, shop: str, api_base_url: str) -> str:
    """Why the kit would refuse to send this connection's credentials to its API host ("" when it would not)."""
    connector = connector_for(platform)
    base_url = connector.api_base_url(shop=shop, api_base_url=api_base_url)
    host = urlsplit(base_url).hostname or ""
    allowed = getattr(connector, "api_hosts_words", "its own API hosts")
    # The connectors allow loopback for the simulators; the production profile never sends credentials there.
    if host and is_loopback(host.lower()) and settings.PRODUCTION:
        return f"{host!r} is loopback, allowed only in the development profile; {connector.name} API hosts: {allowed}"
    if not connector.api_host_allowed(host, shop=shop):
        return f"{host or base_url!r} is not a {connector.name} API host for {shop!r}; allowed: {allowed}"
    return ""


def client_for(connection: Any, **http_options: Any) -> Any:
    """The platform client for `connection` (`platform`, `shop`, `api_base_url`, `credentials_get()`), auditing each
    call unless `on_exchange` is given. Raises `UnknownPlatform` for an unregistered platform and `ApiHostRefused`
    when the API host is not one the platform allows (the credentials are never sent there)."""
    connector = connector_for(connection.platform)
    problem = api_host_problem(platform=connection.platform, shop=connection.shop, api_base_url=connection.api_base_url)
    if problem:
        raise ApiHostRefused(problem, reasons=[Reason("api_host_refused", problem)])
    http_options.setdefault("on_exchange", audit_hook(connection))
    return connector.client(
        base_url=connector.api_base_url(shop=connection.shop, api_base_url=connection.api_base_url),
        credentials=connection.credentials_get(),
        **http_options,
    )
