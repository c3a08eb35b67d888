"""The inbox's per-process cache of connections and their opened signing secrets.

Below both the inbox (which reads it on every delivery) and the connection services (which drop an entry on every
change), so neither imports the other."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.utils import timezone

from integrations.models import Connection
from integrations.vault import Sealed

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class ConnectionView:
    """What the inbox needs of a connection, kept for CACHE_SECONDS per process (the seed: short-lived in-memory
    caches of credentials, TTL in minutes; ours is seconds, and services drop it on every change)."""

    connection: Connection
    loaded: float
    current_secret: str | None = None
    previous_secret: str | None = None

    def secrets(self) -> list[str]:
        """Like `Connection.signing_secrets_valid()`, with the rotation window checked at the moment of use."""
        found = [self.current_secret] if self.current_secret else []
        until = self.connection.previous_valid_until
        if self.previous_secret and until is not None and timezone.now() < until:
            found.append(self.previous_secret)
        return found


_cache: dict[int, ConnectionView] = {}
_cache_lock = threading.Lock()


def connection_cache_clear(connection_id: int | None = None) -> None:
    with _cache_lock:
        if connection_id is None:
            _cache.clear()
        else:
            _cache.pop(connection_id, None)


def connection_view(connection_id: int, platform: str) -> ConnectionView | None:
    """The connection and its decrypted signing secrets; raises CredentialKeyError when no key opens them."""
    now = time.monotonic()
    view = _cache.get(connection_id)
    if view is None or now - view.loaded > CACHE_SECONDS:
        found = Connection.objects.filter(pk=connection_id).select_related("channel__brand").first()
        if found is None:
            return None
        current, previous = found.signing_secret, found.previous_signing_secret
        view = ConnectionView(
            found,
            now,
            current.reveal() if isinstance(current, Sealed) else None,
            previous.reveal() if isinstance(previous, Sealed) else None,
        )
        with _cache_lock:
            _cache[connection_id] = view
    return view if view.connection.platform == platform else None
