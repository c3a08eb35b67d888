"""The DHL simulator replays the official tracking fixture's journey at today's times: the pickup at the moment of
the scan, every other event in the fixture's order and spacing around it (the fixture file itself untouched, see
test_official_fixtures.py), so the hand-off, the 24-hour alarm and the SLO figures see realistic times."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from integrations.carriers.base import load_fixture
from integrations.carriers.dhl_parcel_de.connector import FIXTURES, timestamp_utc
from integrations.carriers.dhl_parcel_de.connector import connector as dhl
from integrations.carriers.protocol import EventKind

FIXTURE = "tracking__unified_delivered.json"


def _credentials():
    return dhl.demo_credentials(lambda name: f"{name}-times")


def test_a_scan_plays_the_fixture_journey_from_now_in_its_order_and_spacing():
    official = [
        timestamp_utc(e["timestamp"]) for e in reversed(load_fixture(FIXTURES, FIXTURE)["shipments"][0]["events"])
    ]
    before = hashlib.sha256((FIXTURES / FIXTURE).read_bytes()).hexdigest()
    with dhl.simulator(credentials=_credentials()).running() as sim:
        client = dhl.client(base_url=sim.url, credentials=_credentials())
        number = dhl.create_shipment(client, dhl.example_request()).parcels[0].tracking_number
        scanned_at = dt.datetime.now(dt.UTC)
        sim.scan(number)
        events = dhl.track(client, number)

    times = [e.occurred_at for e in events]
    assert times == sorted(times) and len(times) == len(official)
    pickup = next(e for e in events if e.is_carrier_scan)
    assert pickup.kind == EventKind.PICKED_UP
    assert abs(pickup.occurred_at - scanned_at) < dt.timedelta(seconds=5)  # picked up now, not in April 2024
    assert [b - a for a, b in itertools.pairwise(times)] == [b - a for a, b in itertools.pairwise(official)]
    assert events[0].kind == EventKind.PRE_TRANSIT and events[0].occurred_at < pickup.occurred_at
    assert hashlib.sha256((FIXTURES / FIXTURE).read_bytes()).hexdigest() == before


def test_a_pinned_clock_places_the_pickup_exactly():
    at = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # the night German clocks go forward: spacing still kept
    with dhl.simulator(credentials=_credentials()).running() as sim:
        sim.clock = lambda: at
        client = dhl.client(base_url=sim.url, credentials=_credentials())
        number = dhl.create_shipment(client, dhl.example_request()).parcels[0].tracking_number
        sim.scan(number)
        events = dhl.track(client, number)
    assert next(e for e in events if e.is_carrier_scan).occurred_at == at
    assert events[-1].kind == EventKind.DELIVERED and events[-1].occurred_at == at + dt.timedelta(hours=16, minutes=51)
