"""Every registered carrier, with its simulator on loopback: registering a carrier gives it these tests."""

from __future__ import annotations

import pytest

from integrations.carriers import registry


@pytest.fixture(params=registry.codes())
def carrier(request):
    return registry.connector_for(request.param)


@pytest.fixture
def credentials(carrier):
    return carrier.demo_credentials(lambda name: f"{name}-conformance-0001")


@pytest.fixture
def sim(carrier, credentials):
    with carrier.simulator(credentials=credentials, hang_seconds=0.5).running() as simulator:
        yield simulator


@pytest.fixture
def sleeps():
    """What the client waited, instead of waiting (Retry-After, backoff)."""
    return []


@pytest.fixture
def client(carrier, sim, credentials, sleeps):
    return carrier.client(base_url=sim.url, credentials=credentials, sleep=sleeps.append, read_timeout=0.3)
