"""The conformance suite's fixtures. Every test here runs once per registered platform (`registry.codes()`), against
that connector's own simulator on loopback and a `Connection` wired to it: registering a platform gives it every
test in this folder, with no other edit.

Nothing here names a platform. What differs between platforms comes from the connector
(`integrations.platforms.protocol.Connector`) or from its simulator (`integrations.platforms.simulator_kit`): signed
deliveries, fault targets, fulfilments and stock as the platform holds them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from integrations.mappings import Mappings
from integrations.platforms import registry
from integrations.platforms.protocol import Connector
from tests.integrations.factories import ConnectionFactory

SIGNING_SECRET = "conformance-signing-secret-0001"
HANG_SECONDS = 3.0  # an injected hang; the fast HTTP settings below time out after 1 s


class Sleeps(list):
    """The HTTP client's sleep, recorded instead of slept: a `Retry-After` waited out costs no wall time."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def seeded(prefix: str):
    """`Connector.demo_credentials`'s seed: a stable 64-character hex value per credential name."""
    return lambda name: hashlib.sha256(f"{prefix}:{name}".encode()).hexdigest()


@pytest.fixture(params=registry.codes())
def connector(request) -> Connector:
    return registry.connector_for(request.param)


@pytest.fixture
def credentials(connector) -> dict[str, str]:
    return connector.demo_credentials(seeded("conformance"))


@pytest.fixture
def platform_sim(connector, credentials) -> Iterator[Any]:
    """The connector's simulator on a free loopback port, accepting `credentials` and signing with SIGNING_SECRET."""
    sim = connector.simulator(credentials=credentials, secret=SIGNING_SECRET, hang_seconds=HANG_SECONDS)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def connection(db, brand, connector, credentials, platform_sim):
    """A connection of the brand to the simulator: its shop, credentials, signing secret and API base URL."""
    return ConnectionFactory(
        brand=brand,
        platform=connector.code,
        shop=platform_sim.shop,
        api_base_url=platform_sim.url,
        secrets={"signing_secret": SIGNING_SECRET, "credentials": credentials},
    )


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fast_http(settings, sleeps):
    """The outbox's client settings for tests: 1 s timeouts (an injected hang times out), sleeps recorded."""
    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 1.0, "retry_attempts": 2, "sleep": sleeps}
    return settings.OUTBOX_HTTP


@pytest.fixture
def api(connector, platform_sim, credentials, sleeps):
    """The connector's pure-HTTP client on the simulator (no database, no audit), at the API root the connector
    names for the simulator's shop (as `client_for` builds it: a platform may put the shop in the path)."""
    return connector.client(
        base_url=connector.api_base_url(shop=platform_sim.shop, api_base_url=platform_sim.url),
        credentials=credentials,
        read_timeout=1.0,
        connect_timeout=1.0,
        sleep=sleeps,
    )


def default_mappings(connector: Connector) -> Mappings:
    return Mappings(fields=dict(connector.default_field_mapping), statuses=dict(connector.default_status_mapping))


def webhook_url(connection) -> str:
    return f"/webhooks/{connection.platform}/{connection.pk}/"


def post_delivery(connection, body: bytes, headers: Mapping[str, str], client: Client | None = None):
    """POST a delivery to the connection's webhook URL through Django's whole HTTP stack (the test client)."""
    sent = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    return (client or Client()).post(webhook_url(connection), data=body, content_type=content_type, headers=sent)


def later(**delta: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(**delta)
